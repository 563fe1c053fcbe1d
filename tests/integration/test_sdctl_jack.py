"""sdctl in real time, on jackd's dummy backend (48 kHz, 256-frame periods):
play's status line advances with the sound; --detach and stop print the
handles; sdctl top shows the device streams and the clients with their
streams while they run (--once --json for scripts, --once as text at 80
columns, and live until q).  Without jackd every test is skipped."""

import json
import os
import re
import subprocess
import sys
import time
import wave

from harness import Daemon, Failure, Jack, SDCTL, check, check_eq, jackd_available, run_tests
from terminal import check_fits, redraws, run_on_pty

D = None
RATE = 48000
JACK_API = "JACK Audio Connection Kit"


def system_device():
    conn = D.connect()
    apis = conn.call("query_hostapis")
    for dev in conn.call("query_devices"):
        if dev["name"] == "system" and apis[dev["hostapi"]]["name"] == JACK_API:
            conn.close()
            return str(dev["index"])
    conn.close()
    raise Failure("no JACK device 'system' among the devices")


def write_wav(path, seconds, channels=2):
    """A quiet 440 Hz-ish square wave (never silent, so levels show)."""
    frames = int(RATE * seconds)
    one = (4000).to_bytes(2, "little", signed=True) * channels
    other = (-4000).to_bytes(2, "little", signed=True) * channels
    period = one * 54 + other * 55
    data = period * (frames // 109 + 1)
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(data[:frames * 2 * channels])


def env():
    return dict(D.env, SDDAEMON_SOCKET=D.socket)


def sdctl(*args, status=0):
    st, out, err = D.sdctl(*args)
    check_eq(st, status, "sdctl %s exit status (stderr %r)" % (" ".join(args), err))
    return out, err


def wait_streams(n, timeout=20):
    conn = D.connect()
    deadline = time.time() + timeout
    while conn.call("daemon_status")["streams"] < n:
        check(time.time() < deadline, "%d streams run" % n)
        time.sleep(0.02)
    conn.close()


def test_play_status_line_advances():
    """A 1.5 s sound on the paced device: the line is redrawn several times a
    second, its time and percentage only grow, it ends at 100 %, and it
    shows the levels of the square wave (-18.3 dBFS)."""
    path = D.path("status.wav")
    write_wav(path, 1.5)
    status, text, _ = run_on_pty([SDCTL, "play", "-d", system_device(), path], env(), cols=80,
                                 on=("stderr",))
    check_eq(status, 0, "exit status (%r)" % text[-200:])
    lines = redraws(text)
    check_fits(lines, 80, "play on jackd")
    check(len(lines) >= 8, "redrawn several times a second: %d lines" % len(lines))
    times, pcts = [], []
    for line in lines:
        m = re.match(r"^PLAY 0:(\d\d\.\d) / 0:01\.5 +(\d+)%", line)
        check(m, "time, total and percentage: %r" % line)
        times.append(float(m.group(1)))
        pcts.append(int(m.group(2)))
    check(times == sorted(times) and pcts == sorted(pcts), "time only grows: %r" % times)
    check_eq(pcts[-1], 100, "it ends at 100 %")
    check(any(re.search(r"  1 \[#+\.*\] -18\.\d", line) for line in lines),
          "the levels of what is heard: %r" % lines[len(lines) // 2])


def test_detach_and_stop_print_handles():
    path = D.path("detach.wav")
    write_wav(path, 20)
    dev = system_device()
    out, _ = sdctl("play", "--detach", "-d", dev, path)
    m = re.match(r"^handle (\d+): .*detach\.wav plays on \('sdctl stop (\d+)' stops it\)\n$", out)
    check(m and m.group(1) == m.group(2), "play --detach prints the handle: %r" % out)
    out, _ = sdctl("--json", "play", "--detach", "-d", dev, path)
    second = json.loads(out)
    check_eq((second["detached"], second["state"] in ("prefill", "running")), (True, True),
             "the detached playback's result: %r" % second)
    out, _ = sdctl("stop", m.group(1))
    check_eq(out, "stopped %s\n" % m.group(1), "stop HANDLE prints it")
    out, _ = sdctl("stop")
    check_eq(out, "stopped %d\n" % second["handle"], "stop without handles prints those it stopped")
    out, _ = sdctl("stop")
    check_eq(out, "nothing to stop\n", "then there is nothing left")


class Players:
    """Two sdctl play processes on the paced device, for sdctl top to see."""

    def __enter__(self):
        path = D.path("top.wav")
        write_wav(path, 6)
        dev = system_device()
        self.procs = [subprocess.Popen([SDCTL, "-q", "play", "-d", dev, path], env=env(),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                      for _ in range(2)]
        wait_streams(2)
        # Let the rings fill and the periods run.
        time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.terminate()
            p.wait(20)


def test_top_once_json_while_streams_run():
    with Players() as players:
        out, _ = sdctl("top", "--once", "--json")
    o = json.loads(out)
    check_eq(len(out.splitlines()), 1, "one object")
    shared = [d for d in o["device_streams"] if d["mode"] == "shared output"]
    check_eq(len(shared), 1, "one shared output device stream: %r" % o["device_streams"])
    d = shared[0]
    check_eq((d["name"], d["samplerate"], d["channels"], d["streams"]), ("system", 48000.0, 2, 2),
             "the device stream")
    check(isinstance(d["cpu_load"], float) and isinstance(d["device_xruns"], int), repr(d))
    pids = {p.pid for p in players.procs}
    clients = [c for c in o["client_list"] if c["pid"] in pids]
    check_eq(len(clients), 2, "both players among the clients: %r" % o["client_list"])
    for c in clients:
        check_eq(c["program"], "sdctl", "the program's name")
        check_eq(len(c["streams"]), 1, "one stream each")
        s = c["streams"][0]
        check_eq((s["kind"], s["samplerate"], s["channels"], s["state"]),
                 ("play", 48000.0, 2, "running"), "the stream: %r" % s)
        check(isinstance(s["fill"], float) and 0 <= s["fill"] <= 1, "ring fill: %r" % s)
        check(isinstance(s["xruns"], int), "xruns: %r" % s)
    me = [c for c in o["client_list"] if c["program"] == "sdctl" and c["pid"] not in pids]
    check_eq(len(me), 1, "sdctl top itself is a client")


def test_top_text_fits_80_columns():
    """--once as text: the device stream and both players, every line within
    80 columns; live on a terminal it redraws until q."""
    with Players() as players:
        status, text, _ = run_on_pty([SDCTL, "top", "--once"], env(), cols=80)
        check_eq(status, 0, "exit status")
        lines = text.replace("\r\n", "\n").splitlines()
        check_fits(lines, 81, "top --once")
        check(any(re.search(r"system +shared output +48000 +2 +2 ", l) for l in lines),
              "the device stream's line: %r" % lines)
        for p in players.procs:
            check(any(re.search(r"^ +\d+ +%d sdctl +\d+ play " % p.pid, l) for l in lines),
                  "player %d's line: %r" % (p.pid, lines))
        status, text, _ = run_on_pty([SDCTL, "top", "--interval", "0.2"], env(), cols=80,
                                     keys=(1.0, b"q"))
        check_eq(status, 0, "q ends the live view")
        check("\x1b[?1049h" in text and text.rstrip().endswith("\x1b[?1049l"),
              "the alternate screen, left at the end")
        check(text.count("DEVICE STREAM") >= 3, "refreshed several times")


TESTS = [test_play_status_line_advances, test_detach_and_stop_print_handles,
         test_top_once_json_while_streams_run, test_top_text_fits_80_columns]


def skip_all(reason):
    print("1..%d" % len(TESTS))
    for n, fn in enumerate(TESTS, 1):
        print("ok %d - %s # SKIP %s" % (n, fn.__name__, reason))
    return 0


if __name__ == "__main__":
    if not jackd_available():
        sys.exit(skip_all("jackd is not installed (Debian: jackd2)"))
    name = "sdd-sdctl-%d" % os.getpid()
    D = Daemon(name="sdctl-jack", env={"JACK_DEFAULT_SERVER": name})
    jack = Jack(name, rate=RATE, log_path=D.path("jackd.log"))
    try:
        jack.start()
        D.start()
        status = run_tests(TESTS, daemon=D)
    finally:
        D.cleanup()  # the daemon first: it is JACK's client
        jack.stop()
    sys.exit(status)
