"""A client that punches holes (fallocate(FALLOC_FL_PUNCH_HOLE)) into its
stream's shared memory while it plays, on jackd's dummy backend (256-frame
periods at 48 kHz).  The seals keep the memory's size, not its pages: the
kernel frees the pages, and the audio thread, which reads the ring, takes
a page fault for each freed page it touches, allocating a fresh page.

What bounds it (bench/RESULTS.md has the figures): the audio thread
faults only on the pages it touches, at most the pages one period of the
ring spans (here 2 KiB a period: one or two pages), so a period costs at
most a few microseconds more; the memory never exceeds the stream's, since
what is punched is what is allocated again.  The test counts the audio
thread's page faults (minflt of /proc/PID/task/TID/stat) while the client
punches and while it does not, and checks both against that bound.

Skipped (TAP "# SKIP") when jackd is not installed."""

import ctypes
import os
import struct
import sys
import threading
import time

from faults_harness import Daemon, Jack, RawStream, check, jackd_available
from harness import run_tests

D = None
CONN = None
RATE = 48000
PERIOD = 256
WINDOW = 2.0  # seconds counted
PUNCH = 0x02 | 0x01  # FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
LIBC = ctypes.CDLL(None, use_errno=True)


def minflt(pid):
    """Page faults (minor) of each thread of pid, by thread id."""
    faults = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                stat = f.read()
        except OSError:
            continue
        faults[int(tid)] = int(stat[stat.rindex(")") + 2:].split()[7])
    return faults


def play_and_count(punch):
    """Plays on "system" for WINDOW seconds and more, punching out the ring
    every 5 ms when punch says so; returns the page faults of each daemon
    thread during the window, the window's length and the punches made."""
    frames = int(RATE * (WINDOW + 1.5))
    r = CONN.call("play", device="system", channels=2, frames=frames, buffer_frames=8192)
    s = RawStream(CONN, r)
    data, size = r["out"]["offset"], r["shm_size"]
    stop = threading.Event()
    punches = [0]

    def puncher():
        while not stop.is_set():
            if LIBC.fallocate(s.memfd, PUNCH, ctypes.c_long(data), ctypes.c_long(size - data)):
                raise OSError(ctypes.get_errno(), "fallocate")
            punches[0] += 1
            time.sleep(0.005)

    writer = threading.Thread(target=s.write_all, args=(struct.pack("<ff", 0.1, 0.1) * frames,))
    writer.start()
    time.sleep(0.5)
    t = threading.Thread(target=puncher) if punch else None
    before, start = minflt(D.proc.pid), time.time()
    if t:
        t.start()
    time.sleep(WINDOW)
    after, window = minflt(D.proc.pid), time.time() - start
    stop.set()
    if t:
        t.join()
    CONN.call("wait")
    writer.join()
    s.close()
    return {tid: after[tid] - before[tid] for tid in after if tid in before}, window, punches[0]


def test_hole_punching_faults_are_bounded():
    punched, window, punches = play_and_count(True)
    audio = max(punched, key=punched.get)
    faults = punched[audio]
    periods = window * RATE / PERIOD
    # 2 KiB of ring a period: the pages one period spans, at most two.
    bound = 2 * periods * 1.2 + 8
    print("# %d punches in %.2f s (%.0f periods): %d page faults in the audio thread (bound %.0f)"
          % (punches, window, periods, faults, bound))
    check(faults >= periods / 4, "the punches caused page faults (%d): the test punches" % faults)
    check(faults <= bound, "%d page faults in %.0f periods: more than the pages the periods "
          "touched (%.0f)" % (faults, periods, bound))
    normal, window, _ = play_and_count(False)
    print("# without punching: %d page faults in the audio thread in %.2f s"
          % (normal.get(audio, 0), window))
    check(normal.get(audio, 0) <= 2, "%d page faults in the audio thread without punching"
          % normal.get(audio, 0))


def main():
    global D, CONN
    if not jackd_available():
        print("1..0 # SKIP jackd is not installed (apt-get install jackd2)")
        return 0
    jack = Jack(name="sddtest-holes")
    try:
        jack.start()
        # The device stream stays open between the two runs: the same audio thread.
        D = Daemon(args=["--device-idle-time", "30"], name="holes", env=jack.env())
        D.start()
        CONN = D.connect(timeout=60)
        # Warm up: PortAudio's JACK client allocates for good on the first device stream.
        r = CONN.call("play", device="system", channels=2, frames=4800)
        s = RawStream(CONN, r)
        s.write_all(bytes(4800 * 8))
        CONN.call("wait")
        s.close()
        return run_tests([test_hole_punching_faults_are_bounded], daemon=D)
    finally:
        if D is not None:
            D.cleanup()
        jack.stop()


if __name__ == "__main__":
    sys.exit(main())
