"""sdctl wire and sdctl meter against sddaemon on virtual ALSA devices.

sdctl wire copies input to output through a duplex stream: with
--exclusive it is one PortAudio duplex stream, so in.raw's frames must
reach the playback tap bit-exactly.  sdctl meter prints peak and RMS levels
per channel; a known input (a full-scale square wave and a half-scale
sine) must give known numbers, one line (or JSON object) per interval of
frames, and on a terminal a line redrawn in place.

The virtual PCMs are not paced (see test_examples.py): wire runs with a
2 s latency so that its output can lag its input by that much, and meter's
time counts frames, so -t 1 gives ten refreshes whatever the speed.  The
daemon closes idle device streams after 0.2 s, so that each test's stream
reopens the device: taps are truncated and in.raw read from its start.
"""

import array
import json
import math
import os
import pty
import random
import re
import select
import signal
import subprocess
import time

from harness import SDCTL, Daemon, check, check_eq, locate, run_tests
from terminal import check_fits, redraws, run_on_pty

D = None
RATE = 48000
I16_ZERO2 = bytes(4)


def fresh_devices(input_data=None):
    """Waits until no device stream is open, then replaces in.raw when given."""
    conn = D.connect()
    D.wait_device_streams_closed(conn)
    conn.close()
    if input_data is not None:
        D.write_input(input_data)


def random_int16(frames, channels, seed):
    """Pseudo-random int16 samples, none of them zero."""
    rng = random.Random(seed)
    return array.array("h", (rng.choice((-1, 1)) * rng.randint(1, 32767)
                             for _ in range(frames * channels))).tobytes()


def without_silence(buf, frame_bytes):
    zero = bytes(frame_bytes)
    return b"".join(buf[i:i + frame_bytes] for i in range(0, len(buf), frame_bytes)
                    if buf[i:i + frame_bytes] != zero)


def check_wired(tap, data, underflow_frames):
    """Every frame of data (none of them silent) reached the tap unchanged and in
    order, with only silence around.  Should the machine stall the callback for
    longer than the latency, the silence the daemon inserts falls between the
    frames: allowed only when the status counted it."""
    if tap.find(data) >= 0:
        locate(tap, data, 4, I16_ZERO2, "the input")
        return
    check(underflow_frames > 0, "the input is not contiguous in the tap, yet no underflow was counted")
    check(without_silence(tap, 4) == data, "the tap without silence is the input, unchanged")


# ---- sdctl wire -------------------------------------------------------------------------


def test_wire_exclusive_is_bit_exact():
    """sdctl wire -d t_duplex --exclusive -f int16 -t 1: exactly 48000 frames
    pass, and the tap holds in.raw's first second unchanged."""
    fresh_devices(random_int16(RATE * 6, 2, seed=11))
    _, out, err = D.sdctl("--json", "wire", "-d", "t_duplex", "--exclusive", "-f", "int16",
                          "-r", str(RATE), "--latency", "2", "-t", "1", check_status=0)
    st = json.loads(out)
    check_eq((st["frames"], st["samplerate"], st["state"]), (RATE, RATE, "finished"), "status")
    check(st["frames_played"] >= RATE and st["frames_recorded"] >= RATE, "frames counted: %r" % st)
    check_wired(D.read_file("out.raw"), D.read_file("in.raw")[:RATE * 4], st["underflow_frames"])


def test_wire_takes_a_device_pair():
    """-d IN,OUT: input from t_in, output to t_out (two devices, one exclusive duplex stream)."""
    fresh_devices(random_int16(RATE * 6, 2, seed=12))
    _, out, _ = D.sdctl("--json", "wire", "-d", "t_in,t_out", "--exclusive", "-f", "int16",
                        "-r", str(RATE), "--latency", "2", "-t", "0.5", check_status=0)
    st = json.loads(out)
    check_eq(st["frames"], RATE // 2, "frames passed")
    check_wired(D.read_file("out.raw"), D.read_file("in.raw")[:RATE * 2], st["underflow_frames"])


def test_wire_reports_xruns():
    """On shared device streams the unpaced t_out drains the ring faster than
    input from the separate t_in stream can refill it, so wire underflows.
    The xruns it reports on stderr are those of its status, in
    sdctl_report_xruns()'s words; a run without xruns says nothing."""
    for attempt in range(5):
        fresh_devices(random_int16(RATE * 6, 2, seed=13))
        _, out, err = D.sdctl("--json", "wire", "-d", "t_duplex", "-f", "int16", "-r", str(RATE),
                              "-t", "1", check_status=0)
        st = json.loads(out)
        check_eq(st["frames"], RATE, "frames passed")
        if st["xruns"] == 0:
            check("xrun" not in err, "no xrun, no report: %r" % err)
            continue
        m = re.search(r"^sdctl: wire: (\d+) xruns? \(([a-z ,]+)\)", err, re.M)
        check(m, "the xruns are reported on stderr: %r" % err)
        check_eq(int(m.group(1)), st["xruns"], "the xruns reported")
        named = ", ".join(k.replace("_", " ") for k, v in st["flags"].items() if v)
        check_eq(m.group(2), named, "the flags reported")
        if st["underflow_frames"]:
            check("%d frames of silence inserted" % st["underflow_frames"] in err,
                  "the silence inserted is reported: %r" % err)
        return
    check(False, "five shared wires on unpaced devices without an xrun")


def test_wire_usage_errors():
    status, _, err = D.sdctl("wire", "extra")
    check(status == 2 and "sdctl wire" in err, "an argument is a usage error (%d, %r)" % (status, err))
    status, _, _ = D.sdctl("wire", "-m", "1,2")
    check_eq(status, 2, "-m is a usage error")
    status, _, err = D.sdctl("wire", "-d", "no such device", "-t", "0.1")
    check(status == 1 and "no such device" in err, "a missing device (%d, %r)" % (status, err))
    status, out, _ = D.sdctl("--json", "wire", "-d", "no such device", "-t", "0.1")
    check(status == 1 and json.loads(out)["error"]["code"] == "device_not_found",
          "--json error: %r" % out)
    _, out, _ = D.sdctl("--help", check_status=0)
    check(re.search(r"^  wire ", out, re.M) and re.search(r"^  meter ", out, re.M),
          "--help lists wire and meter")


# ---- sdctl meter ------------------------------------------------------------------------

PLAIN = re.compile(r"^time=(\d+\.\d{3})((?: peak\d+=-?\d+\.\d rms\d+=-?\d+\.\d clip\d+=[01])+)$")


def meter_input():
    """float32 stereo: channel 1 a full-scale square wave (0.0 dBFS peak and
    RMS, clipping), channel 2 a 1 kHz sine of amplitude 0.5 (-6.0 dBFS peak,
    -9.0 dBFS RMS)."""
    frames = RATE * 30
    out = array.array("f", bytes(8 * frames))
    out[0::2] = array.array("f", (1.0 if (i // 24) % 2 == 0 else -1.0 for i in range(frames)))
    out[1::2] = array.array("f", (0.5 * math.sin(2 * math.pi * 1000 * i / RATE)
                                  for i in range(frames)))
    return out.tobytes()


def parse_plain(out):
    """The lines of plain output as (time, {channel: (peak, rms, clip)})."""
    refreshes = []
    for line in out.splitlines():
        m = PLAIN.match(line)
        check(m, "a plain meter line: %r" % line)
        levels = {}
        for ch, pk, rms, clip in re.findall(r" peak(\d+)=(\S+) rms\1=(\S+) clip\1=([01])",
                                            m.group(2)):
            levels[int(ch)] = (float(pk), float(rms), clip == "1")
        refreshes.append((float(m.group(1)), levels))
    return refreshes


def check_known_levels(levels, channels=(1, 2)):
    check_eq(sorted(levels), list(channels), "channels shown")
    if 1 in levels:
        check_eq(levels[1], (0.0, 0.0, True), "the square wave's levels")
    if 2 in levels:
        pk, rms, clip = levels[2]
        check(pk == -6.0 and abs(rms + 9.0) <= 0.1 and not clip, "the sine's levels: %r" % (levels[2],))


def test_meter_prints_a_line_per_interval():
    """Not on a terminal: -t 1 gives ten plain lines, at 0.1 s of frames each."""
    fresh_devices(meter_input())
    _, out, _ = D.sdctl("meter", "-d", "t_in", "-r", str(RATE), "-t", "1", check_status=0)
    refreshes = parse_plain(out)
    check_eq([t for t, _ in refreshes], [round(0.1 * i, 3) for i in range(1, 11)], "refresh times")
    for _, levels in refreshes:
        check_known_levels(levels)


def test_meter_selects_channels():
    """CHANNEL arguments choose and order the channels; --interval the refresh."""
    fresh_devices(meter_input())
    _, out, _ = D.sdctl("meter", "-d", "t_in", "-r", str(RATE), "-t", "0.5", "--interval", "0.25",
                        "2", check_status=0)
    refreshes = parse_plain(out)
    check_eq([t for t, _ in refreshes], [0.25, 0.5], "refresh times")
    for _, levels in refreshes:
        check_known_levels(levels, channels=(2,))
    check(" peak2=" in out.splitlines()[0] and "peak1" not in out, "only channel 2")
    _, out, _ = D.sdctl("meter", "-d", "t_in", "-r", str(RATE), "-t", "0.1", "2", "1",
                        check_status=0)
    check(out.index("peak2=") < out.index("peak1="), "channels in the order given: %r" % out)


def test_meter_exclusive_int16():
    """--exclusive -f int16 meters int16 samples: -32768 is full scale (CLIP), a
    constant 16384 is -6.0 dBFS peak and RMS."""
    frames = RATE
    data = array.array("h", bytes(4 * frames))
    data[0::2] = array.array("h", (32767 if (i // 24) % 2 == 0 else -32768 for i in range(frames)))
    data[1::2] = array.array("h", [16384] * frames)
    fresh_devices(data.tobytes() * 8)
    _, out, _ = D.sdctl("meter", "-d", "t_in", "--exclusive", "-f", "int16", "-r", str(RATE),
                        "-t", "0.2", check_status=0)
    refreshes = parse_plain(out)
    check_eq(len(refreshes), 2, "refreshes")
    for _, levels in refreshes:
        check_eq(levels[1][:1] + levels[1][2:], (0.0, True), "the int16 square wave: %r" % (levels,))
        check_eq(levels[2], (-6.0, -6.0, False), "the constant half scale")


def test_meter_json():
    """--json: one object per refresh, then one of the same shape with
    "final": true and the levels of the whole measurement."""
    fresh_devices(meter_input())
    _, out, _ = D.sdctl("--json", "meter", "-d", "t_in", "-r", str(RATE), "-t", "0.3",
                        check_status=0)
    objs = [json.loads(line) for line in out.splitlines()]
    check_eq(len(objs), 4, "three refreshes and the totals")
    for i, o in enumerate(objs):
        check_eq(sorted(o), sorted(objs[0]), "every object has the same members")
        check_eq(o["final"], i == 3, "only the last is final")
        levels = {c["channel"]: (c["peak_dbfs"], c["rms_dbfs"], c["clip"]) for c in o["levels"]}
        check_known_levels(levels)
        check(isinstance(o["xruns"], int) and isinstance(o["overflow_frames"], int), "xrun counts")
        check(isinstance(o["samplerate"], float) and isinstance(o["time"], float), "numbers: %r" % o)
    for i, o in enumerate(objs[:3]):
        check_eq((o["time"], o["frames"]), (round(0.1 * (i + 1), 3), RATE * (i + 1) // 10),
                 "refresh time")
    total = objs[3]
    check_eq((total["frames"], total["samplerate"], total["state"]), (RATE * 3 // 10, RATE, "finished"),
             "totals")


def test_meter_on_a_terminal():
    """On a terminal the levels are one line redrawn in place: a carriage
    return and an erase to the end of the line per refresh, bars, CLIP; the
    line fits the terminal at any width, stereo or eight channels."""
    fresh_devices(meter_input())
    env = dict(D.env, SDDAEMON_SOCKET=D.socket)
    status, text, _ = run_on_pty([SDCTL, "meter", "-d", "t_in", "-r", str(RATE), "-t", "1"], env,
                                 cols=80)
    check_eq(status, 0, "exit status")
    check_eq(text.count("\r\n"), 1, "one newline, at the end (%r)" % text[-80:])
    lines = redraws(text)
    check_eq(len(lines), 10, "redraws")
    check_fits(lines, 80, "meter, stereo")
    for r in lines:
        check(re.search(r"  1 \[#+\]\s+0\.0 pk\s+0\.0 rms CLIP", r), "channel 1 with CLIP: %r" % r)
        check(re.search(r"  2 \[#+\.*\]\s+-6\.0 pk\s+-9\.\d rms(?! CLIP)", r),
              "channel 2 without CLIP: %r" % r)
    for cols in (40, 60, 100, 132):
        for channels in ("2", "8"):
            fresh_devices()
            status, text, _ = run_on_pty([SDCTL, "meter", "-d", "t_in", "-r", str(RATE), "-c",
                                          channels, "-t", "0.3"], env, cols=cols)
            check_eq(status, 0, "exit status at %d columns" % cols)
            check_fits(redraws(text), cols, "meter, %s channels, %d columns" % (channels, cols))
    # On a pipe, and on a terminal with -q: the plain lines, no redraws.
    status, text, _ = run_on_pty([SDCTL, "meter", "-q", "-d", "t_in", "-r", str(RATE), "-t", "0.2"],
                                 env, cols=80)
    check_eq(redraws(text), [], "-q: no status line")
    check_eq(len(parse_plain(text.replace("\r\n", "\n"))), 2, "-q: the plain lines")


def test_meter_usage_errors():
    for args in (["0"], ["-c", "1", "2"], ["--interval", "0"], ["-m", "1"], ["x"]):
        status, _, err = D.sdctl("meter", "-d", "t_in", *args)
        check(status == 2 and "sdctl meter" in err, "%r is a usage error (%d, %r)" % (args, status, err))
    status, out, err = D.sdctl("--json", "meter", "-d", "no such device", "-t", "0.1")
    check(status == 1 and json.loads(out)["error"]["code"] == "device_not_found",
          "a missing device: %r" % out)


def test_wire_and_meter_end_on_sigint():
    """Without -t both run until SIGINT, then exit 0; meter shows the part window."""
    fresh_devices(meter_input())
    env = dict(D.env, SDDAEMON_SOCKET=D.socket)
    for args in (["meter", "-d", "t_in"], ["wire", "-d", "t_duplex"]):
        # Unbuffered: what readline() does not take stays in the pipe for communicate().
        p = subprocess.Popen([SDCTL] + args, env=env, stdin=subprocess.DEVNULL, bufsize=0,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            if args[0] == "meter":
                first = p.stdout.readline()
                check(PLAIN.match(first.decode().rstrip("\n")), "a refresh before the signal: %r" % first)
            else:
                time.sleep(0.3)
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check_eq(p.returncode, 0, "sdctl %s's exit status after SIGINT (stderr %r)" % (args[0], err))
        if args[0] == "meter":
            parse_plain(out.decode())
    conn = D.connect()
    deadline = time.time() + 10
    while conn.call("daemon_status")["streams"] and time.time() < deadline:
        time.sleep(0.02)
    check_eq(conn.call("daemon_status")["streams"], 0, "streams left in the daemon")
    conn.close()


def main():
    global D
    with Daemon(name="wire-meter", input_seconds=6, args=["--device-idle-time", "0.2"]) as d:
        D = d
        return run_tests([
            test_wire_exclusive_is_bit_exact,
            test_wire_takes_a_device_pair,
            test_wire_reports_xruns,
            test_wire_usage_errors,
            test_meter_prints_a_line_per_interval,
            test_meter_selects_channels,
            test_meter_exclusive_int16,
            test_meter_json,
            test_meter_on_a_terminal,
            test_meter_usage_errors,
            test_wire_and_meter_end_on_sigint,
        ], daemon=d)


if __name__ == "__main__":
    raise SystemExit(main())
