"""sddaemon's PortAudio library against PortAudio itself, in real time.

jackd's dummy backend paces two more virtual ALSA devices: t_paced, a tap
(ALSA's file plugin over its jack plugin), and t_pacedin, a capture
source that reads pin.raw at the pace of jackd.  PortAudio programs of
tests/portaudio/ run on PortAudio directly and through the library (sdctl
run): recording and a duplex wire hold the same samples both ways; two
programs play at once on one device, both heard in the tap; and what a
PortAudio program meets in real time — a blocking write that starts at
once, a read after a pause, a slow duplex callback, the reported latency,
the time stamps (also on a device slow to start) — is PortAudio's, on both ALSA (t_paced) and JACK
("system") devices.  Skipped without jackd or ALSA's jack plugin.
"""

import glob
import os
import re
import subprocess
import sys
import time

from harness import (INSTRUMENTED, SDCTL, Daemon, Failure, Jack, check, check_eq, command,
                     jackd_available, make_signal, run_tests, scaled)
from portaudio_harness import (LIBDIR, both, direct, keep_our_library_away, library_env,
                               lines_equal, ours, program, signal, through, wait_idle)

D = None
JACK = None
RATE = 48000
FRAME = 8  # float32 stereo

PACED_CONF = """
pcm.t_paced {{ type file; slave.pcm {{ type plug; slave.pcm "jack" }} format "raw"; file "{d}/paced.raw"
              hint {{ show on; description "paced tap" }} }}
pcm.t_pacedin {{ type file; slave.pcm {{ type plug; slave.pcm "jack" }} format "raw"; file "/dev/null"
                infile "{d}/pin.raw"; hint {{ show on; description "paced capture source" }} }}
"""

# What t_pacedin plays: 20 s of float32 stereo, no sample silent.
PIN = make_signal("float32", 20 * RATE, 2, seed=31, amplitude=0.5)


def without_silence(buf, frame_bytes=FRAME):
    zero = bytes(frame_bytes)
    return b"".join(buf[i:i + frame_bytes] for i in range(0, len(buf) - frame_bytes + 1, frame_bytes)
                    if buf[i:i + frame_bytes] != zero)


def check_slice(got, what, whole=PIN, frame_bytes=FRAME, from_start=False):
    """got is a contiguous run of the capture source, starting on a frame
    (at its first frame when from_start)."""
    check(len(got) > 0, "%s: something arrived" % what)
    at = whole.find(got)
    if at < 0 or at % frame_bytes:
        start = whole.find(got[:100 * frame_bytes])
        n = 0
        while start >= 0 and n < len(got) and got[n] == whole[start + n]:
            n += 1
        raise Failure("%s: %d bytes are not a run of the capture source (its first 100 "
                      "frames are at frame %s of it; then %d frames follow it)"
                      % (what, len(got), start // frame_bytes if start >= 0 else None,
                         n // frame_bytes))
    if from_start:
        check_eq(at, 0, "%s starts at the source's first frame" % what)
    return at // frame_bytes


def check_runs(got, what, flags):
    """got is one run of the capture source; flags is pa-wire's last line.
    Under valgrind and the sanitizers a callback can fall far enough behind
    to lose input, which the library then reports as PortAudio does: there,
    got may break into one more run for each input overflow reported, and
    each run must be one of the source."""
    m = re.search(r"input overflows (\d+),", flags)
    check(m is not None, "%s: pa-wire reports its flags (%r)" % (what, flags))
    overflows = int(m.group(1))
    if not INSTRUMENTED or overflows == 0:
        check_slice(got, "%s (%s)" % (what, flags))
        return
    pos, runs = 0, 0
    while pos < len(got):
        start = PIN.find(got[pos:pos + 64 * FRAME])
        check(start >= 0 and start % FRAME == 0,
              "%s: what follows frame %d is of the source (%s)" % (what, pos // FRAME, flags))
        n = 0
        while pos + n < len(got) and start + n < len(PIN) and got[pos + n] == PIN[start + n]:
            n += 1
        pos += n - n % FRAME
        runs += 1
    check(runs <= overflows + 1, "%s: %d runs of the source, with %s" % (what, runs, flags))


def read(name):
    with open(D.path(name), "rb") as f:
        return f.read()


# ---- Recording and wiring: the same samples --------------------------------------------------


def test_record():
    """pa-rec from t_pacedin, blocking, callback and paNonInterleaved: PortAudio
    records the source from its first frame; through the library (shared,
    and exclusive) the recording is the same samples — a run of the
    source: what played before the stream started is not recorded."""
    for mode, extra in (("blocking", []), ("callback", []), ("blocking", ["--planar"]),
                        ("callback", ["--fpb", "256", "--planar"])):
        what = "%s %s" % (mode, " ".join(extra))
        r = direct(D, "pa-rec", "t_pacedin", "float32", 2, RATE, mode, D.path("d.raw"), *extra)
        check_eq(r[0], 0, "PortAudio, %s (stderr %r)" % (what, r[2][-1000:]))
        check_slice(read("d.raw"), "PortAudio, " + what, from_start=True)
        for exclusive in (False, True):
            wait_idle(D)
            r = ours(D, "pa-rec", "t_pacedin", "float32", 2, RATE, mode, D.path("o.raw"), *extra,
                     exclusive=exclusive)
            check_eq(r[0], 0, "sddaemon, %s (stderr %r)" % (what, r[2][-1000:]))
            check_eq(len(read("o.raw")), RATE * FRAME, "sddaemon, %s: the frames asked for" % what)
            check_slice(read("o.raw"), "sddaemon%s, %s" % (" exclusive" if exclusive else "", what))


def test_duplex_wire():
    """pa-wire from t_pacedin to t_paced: the tap holds a run of the source
    both ways (shared: two device streams; exclusive: one duplex stream)."""
    frames = RATE
    r = direct(D, "pa-wire", "t_pacedin", "t_paced", "float32", 2, frames, "--fpb", 256)
    check_eq(r[0], 0, "PortAudio (stderr %r)" % r[2][-1000:])
    wait_idle(D)
    got = without_silence(read("paced.raw"))
    # (PortAudio's ALSA host API may drop the last blocks when a duplex stream completes.)
    check(len(got) >= frames * FRAME * 0.9,
          "PortAudio wired the frames asked for (%d of %d)" % (len(got) // FRAME, frames))
    check_slice(got, "PortAudio's wire")
    for exclusive in (False, True):
        r = ours(D, "pa-wire", "t_pacedin", "t_paced", "float32", 2, frames, "--fpb", 256,
                 exclusive=exclusive)
        check_eq(r[0], 0, "sddaemon (stderr %r)" % r[2][-1000:])
        check_eq(r[1].strip(), "wired %d frames, finished 1" % frames, "what pa-wire says")
        wait_idle(D)
        got = without_silence(read("paced.raw"))
        check(len(got) >= frames * FRAME * 0.9,
              "most frames reached the tap (%d of %d)" % (len(got) // FRAME, frames))
        check_runs(got, "sddaemon's wire%s" % (" (exclusive)" if exclusive else ""),
                   r[2].strip().splitlines()[-1])


def test_duplex_wire_input_running_first():
    """pa-wire through the library while another client records from
    t_pacedin: the wire's input joins a device stream that already runs,
    its output one that has yet to open.  No input overflow, and the tap
    holds one run of the source."""
    wait_idle(D)
    rec = subprocess.Popen(command(SDCTL, "--socket", D.socket, "rec", "-d", "t_pacedin", "-t", 30,
                                   "--raw", "-c", 2, "-f", "float32", D.path("other.raw")),
                           env=D.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + scaled(10)
        while device_stream_clients("t_pacedin") < 1 and time.time() < deadline:
            time.sleep(0.02)
        check_eq(device_stream_clients("t_pacedin"), 1, "the recorder runs on t_pacedin")
        check_eq(device_stream_clients("t_paced"), 0, "t_paced has no device stream yet")
        r = ours(D, "pa-wire", "t_pacedin", "t_paced", "float32", 2, RATE, "--fpb", 256)
        check_eq(r[0], 0, "sddaemon (stderr %r)" % r[2][-1000:])
    finally:
        rec.terminate()
        rec.communicate(timeout=scaled(30))
    flags = r[2].strip().splitlines()[-1]
    if not INSTRUMENTED:
        check("input overflows 0," in flags, "pa-wire: %s" % flags)
    wait_idle(D)
    got = without_silence(read("paced.raw"))
    check(len(got) >= RATE * FRAME * 0.9,
          "most frames reached the tap (%d of %d)" % (len(got) // FRAME, RATE))
    check_runs(got, "the wire", flags)


# ---- Two programs at once --------------------------------------------------------------------


def device_stream_clients(name):
    conn = D.connect()
    try:
        return max([ds["streams"] for ds in conn.call("daemon_status")["device_streams"]
                    if ds["name"] == name] or [0])
    finally:
        conn.close()


def test_two_programs_at_once():
    """Two PortAudio programs play 3 s each on t_paced at once through the
    library, one on the left channel, one on the right: the daemon mixes
    them on one device stream, and the tap holds both, whole."""
    wait_idle(D)
    frames = 3 * RATE
    procs = []
    for ch in (0, 1):
        argv = command(SDCTL, "--socket", D.socket, "run", "--library-dir", LIBDIR, "--",
                       program("pa-play"), "t_paced", "float32", 2, frames, "callback",
                       "--only-channel", ch, "--seed", ch + 1, "--latency", "0.05")
        procs.append(subprocess.Popen(argv, env=library_env(D.env), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE))
    seen = 0
    deadline = time.time() + scaled(10)
    while seen < 2 and time.time() < deadline and any(p.poll() is None for p in procs):
        seen = max(seen, device_stream_clients("t_paced"))
        time.sleep(0.05)
    for p in procs:
        out, err = p.communicate(timeout=scaled(60))
        check_eq(p.returncode, 0, "pa-play through sddaemon (stderr %r)" % err[-1000:])
    check_eq(seen, 2, "both programs' streams were on t_paced's one device stream at once")
    wait_idle(D)
    tap = read("paced.raw")
    for ch in (0, 1):
        want = signal("float32", 2, frames, seed=ch + 1, only=ch)
        want = b"".join(want[i + 4 * ch:i + 4 * ch + 4] for i in range(0, len(want), FRAME))
        got = b"".join(tap[i + 4 * ch:i + 4 * ch + 4] for i in range(0, len(tap), FRAME))
        got = without_silence(got, 4)
        check_eq(got == want, True, "channel %d of the tap is program %d's, whole (%d of %d "
                 "samples)" % (ch, ch + 1, len(got) // 4, len(want) // 4))


def test_other_rate_resampled_while_shared():
    """While a program plays at 48 kHz on t_paced's shared device stream, a
    second one asking for 44.1 kHz plays too: the daemon resamples it (issue
    12; it was refused with paInvalidSampleRate before)."""
    wait_idle(D)
    argv = command(SDCTL, "--socket", D.socket, "run", "--library-dir", LIBDIR, "--",
                   program("pa-play"), "t_paced", "float32", 2, 2 * RATE, "callback")
    first = subprocess.Popen(argv, env=library_env(D.env), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    deadline = time.time() + scaled(10)
    while device_stream_clients("t_paced") < 1 and time.time() < deadline:
        time.sleep(0.02)
    r = ours(D, "pa-play", "t_paced", "float32", 2, 4800, "callback", "--rate", 44100)
    out, err = first.communicate(timeout=scaled(60))
    check_eq(first.returncode, 0, "the first program played (stderr %r)" % err[-1000:])
    check_eq(r[0], 0, "the second, at 44.1 kHz, played too (stderr %r)" % r[2][-1000:])


# ---- What a program meets in real time ---------------------------------------------------------


def realtime(*args, **kw):
    return both(D, "pa-realtime", *args, **kw)


def test_blocking_write_starts_at_once():
    """A blocking write of 1024 frames, a pause of 0.3 s, more writes: the
    stream played at once and ran dry in the pause, so a write after it
    reports paOutputUnderflowed, as PortAudio's ALSA host API does (it
    reports one write later; its JACK host API never does), and the last
    write is in time."""
    for dev in ("t_paced", "system"):
        a, b = realtime("pause-write", dev)
        check("first write: Success" in a and "first write: Success" in b, "the first write")
        check_eq(b.splitlines()[1], "write 1 after the pause: Output underflowed",
                 "through sddaemon on %s: %r" % (dev, b))
        # The period that was running while write 1 went into the ring may
        # still have played silence: that underflow happened during write 1
        # and is reported by write 2 (PortAudio's ALSA host API reports the
        # pause's own one write late too).  The last write is in time.
        check("Output underflowed" not in b.splitlines()[3],
              "the writes after it are in time: %r" % b)
        if dev == "t_paced":
            check("Output underflowed" in a, "PortAudio's ALSA host API reports it: %r" % a)


def test_blocking_read_after_pause():
    """A blocking read, a pause of 0.5 s: what is available afterwards is what
    PortAudio's JACK host API keeps (its buffer of 1024 frames), not 0.5 s;
    the next read reports the overflow (as PortAudio's ALSA host API does:
    its JACK one keeps quiet), the one after does not."""
    a, b = realtime("pause-read", "system")
    check_eq(b.splitlines()[1], a.splitlines()[1], "available after the pause")
    check_eq(b.splitlines()[2:], ["read 1 after the pause: Input overflowed",
                                  "read 2 after the pause: Success"], "the reads after the pause")
    a, b = realtime("pause-read", "t_pacedin")
    check_eq(a.splitlines()[2], "read 1 after the pause: Input overflowed",
             "PortAudio's ALSA host API reports the overflow")
    check_eq(b.splitlines()[2], a.splitlines()[2], "so does the library")


def test_slow_duplex_callback():
    """A duplex callback that takes 0.1 s once: the callbacks after it see
    paInputOverflow (input was lost) and paOutputUnderflow, on PortAudio's
    JACK and ALSA host APIs and through the library; no callback is flagged
    priming output."""
    for devs in (("system", "system"), ("t_pacedin", "t_paced")):
        a, b = realtime("slow-duplex", *devs)
        lines_equal(a, b, "pa-realtime slow-duplex on %s" % (devs,))
        check_eq(b.splitlines(), ["calls 300", "input overflow after the slow callback: 1",
                                  "output underflow after the slow callback: 1",
                                  "priming output: 0"], "what it saw on %s" % (devs,))


def test_reported_latency():
    """The output latency a stream reports (device's low latency) is
    PortAudio's plus at most one period of the device (256 frames): the
    block waiting in the daemon's ring."""
    for dev, fpb in (("system", 256), ("system", 0), ("t_paced", 256)):
        a, b = realtime("latency", dev, fpb)
        pa, sd = int(a.split()[2]), int(b.split()[2])
        check(pa <= sd <= pa + 256, "%s, %s frames per buffer: PortAudio %d frames, "
              "sddaemon %d" % (dev, fpb or "any", pa, sd))


def test_time_stamps():
    """Blocks of exactly 256 frames, ADC <= current <= DAC time in every
    callback, a clock that never goes back, DAC times a block apart and a
    stream time that covers the callbacks, as PortAudio's JACK host API
    promises them (the program checks the same on it)."""
    for attempt in range(3):
        a, b = realtime("times", "system")
        if all(line.endswith(": 1") for line in b.splitlines()):
            break
    # (PortAudio's JACK host API itself lets its clock go back now and then.)
    check_eq(len(a.splitlines()), 5, "PortAudio ran every check: %r" % a)
    check_eq([line for line in b.splitlines() if not line.endswith(": 1")], [],
             "checks that fail through sddaemon")


def test_slow_device_start():
    """A daemon whose device streams take 1.5 s to start (Pa_StartStream
    delayed by tests/helpers/slow-start.c), as a device slow to prepare or
    a loaded JACK server: through the library, the stream starts once its
    device stream runs, and every time check holds (blocks of 256 frames,
    ADC <= current <= DAC, a clock that never goes back)."""
    if INSTRUMENTED:
        print("# skipped: the daemon runs under a wrapper or a sanitizer, which must come first")
        return
    d = Daemon(name="portaudio-slow", args=["--device-idle-time", "0.05"],
               env=dict(JACK.env(), LD_PRELOAD=os.environ["SDD_SLOW_START_LIB"],
                        SDD_SLOW_START_SECONDS="1.5"))
    try:
        d.start()
        st, out, err = ours(d, "pa-realtime", "times", "system")
        check_eq(st, 0, "pa-realtime times (stderr %r)" % err[-1000:])
        check_eq([line for line in out.splitlines() if not line.endswith(": 1")], [],
                 "checks that fail through sddaemon on a slow device")
        check_eq(d.stop(), 0, "the slow daemon stops cleanly")
    finally:
        d.cleanup()


PYAUDIO_REC = r"""
import sys, pyaudio
p = pyaudio.PyAudio()
dev = next(i for i in range(p.get_device_count())
           if p.get_device_info_by_index(i)["name"] == "t_pacedin")
s = p.open(format=pyaudio.paFloat32, channels=2, rate=48000, input=True,
           input_device_index=dev, frames_per_buffer=1024)
data = b"".join(s.read(1024) for _ in range(24))
s.stop_stream()
s.close()
p.terminate()
open(sys.argv[1], "wb").write(data)
"""


def test_pyaudio_records_through_the_library():
    """Debian's PyAudio records from t_pacedin through the library: a run of the source."""
    py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    if subprocess.run([py, "-c", "import pyaudio"], capture_output=True).returncode != 0:
        print("# SKIP python3-pyaudio is not installed")
        return
    with open(D.path("rec.py"), "w") as f:
        f.write(PYAUDIO_REC)
    wait_idle(D)
    st, out, err = through(D, [py, D.path("rec.py"), D.path("py.raw")], python=True)
    check_eq(st, 0, "PyAudio's recording (stderr %r)" % err[-2000:])
    check_eq(len(read("py.raw")), 24 * 1024 * FRAME, "24 reads of 1024 frames")
    check_slice(read("py.raw"), "PyAudio's recording")


def main():
    global D, JACK
    if not jackd_available() or not os.path.isdir(LIBDIR):
        print("1..0 # SKIP jackd is not installed")
        return 0
    if not glob.glob("/usr/lib/*/alsa-lib/libasound_module_pcm_jack.so"):
        print("1..0 # SKIP ALSA's jack plugin (libasound2-plugins) is not installed")
        return 0
    keep_our_library_away()
    jack = JACK = Jack("sdd-portaudio")
    try:
        jack.start()
    except Failure as e:
        print("Bail out! %s" % e)
        return 1
    D = Daemon(name="portaudio-jack", args=["--device-idle-time", "0.05"], env=jack.env())
    try:
        with open(D.asound, "a") as f:
            f.write(PACED_CONF.format(d=D.dir))
        with open(D.path("pin.raw"), "wb") as f:
            f.write(PIN)
        D.start()
        return run_tests([test_record, test_duplex_wire, test_duplex_wire_input_running_first,
                          test_two_programs_at_once,
                          test_other_rate_resampled_while_shared,
                          test_blocking_write_starts_at_once, test_blocking_read_after_pause,
                          test_slow_duplex_callback, test_reported_latency, test_time_stamps,
                          test_slow_device_start, test_pyaudio_records_through_the_library], D)
    finally:
        D.cleanup()
        jack.stop()


if __name__ == "__main__":
    sys.exit(main())
