"""Faults in real time, on jackd's dummy backend (device "system", 48 kHz,
256-frame periods): a client stopped with SIGSTOP while it streams.  Its
stream underflows (playback) or overflows (capture) and is told so, with
positions; another client's stream on the same device stream goes on
undisturbed; the daemon's descriptors and memory return to their baseline.

JACK without real-time scheduling reports xruns of its own now and then,
with any of the xrun flags, and the daemon passes them on to every stream
of the device (and counts them in daemon_status as device_xruns).  The
tests tell a stream's own xruns from those by what only its ring does: a
ring that runs dry plays silence (underflow_frames) and a full ring drops
frames (overflow_frames), one period at a time, at the position where the
ring ran dry or overflowed.

Skipped (TAP "# SKIP") when jackd is not installed."""

import os
import signal
import struct
import sys
import time

from faults_harness import (Daemon, Jack, RawStream, check, check_back_to_baseline, check_eq,
                            finish, jackd_available, settle, spawn, take_events, xrun_summary)
from harness import run_tests

D = None
CONN = None
RATE = 48000
STOP_SECONDS = 3
PERIOD = 256  # frames per JACK period, and so per audio callback


def device_xruns(conn, mode):
    """Xruns the device streams of a mode ("shared output", "shared input")
    have reported so far (JACK's own)."""
    return sum(ds["device_xruns"] for ds in conn.call("daemon_status")["device_streams"]
               if ds["mode"] == mode)


def check_device_only(xruns, lost, status, device_delta, what):
    """A stream that must not have xruns of its own: each of its xruns was
    reported as an event with a position, and it had no more xruns than the
    device reported from just before it started to just after it ended."""
    check_eq(lost, 0, "%s: xruns without position" % what)
    check_eq(status["xruns"], len(xruns), "%s: xruns in the status vs events" % what)
    check(status["xruns"] <= device_delta, "%s: %d xruns, the device had %d meanwhile: %r"
          % (what, status["xruns"], device_delta, xruns[:5]))
    if device_delta == 0:
        for flag in ("output_underflow", "input_overflow"):
            check(not status["flags"][flag], "%s: %s in its status" % (what, flag))


def test_sigstopped_player_underflows_alone():
    """Client A streams an open-ended playback 1024 frames at a time through
    an 8192-frame ring and is stopped for 3 s: its stream underflows, and A
    gets an xrun event per underflowing period at a position that A published
    (the ring ran dry exactly there), output_underflow and underflow_frames
    in its status, and every frame it wrote played.
    Client B plays 6 s on the same device stream meanwhile: every frame,
    no underflow of its own."""
    base = settle(D, CONN)
    chunk, total = 1024, RATE * 10
    a = spawn("play-open", D, "system", total, chunk, 8192)
    try:
        b = D.connect(timeout=60)
        frames = RATE * 6
        dev_before = device_xruns(b, "shared output")
        r = b.call("play", device="system", channels=2, frames=frames, buffer_frames=1 << 19)
        sb = RawStream(b, r)
        sb.write_all(struct.pack("<ff", 0.25, 0.25) * frames)  # all of it: B cannot starve
        time.sleep(1)
        os.kill(a.pid, signal.SIGSTOP)
        time.sleep(STOP_SECONDS)
        os.kill(a.pid, signal.SIGCONT)
        st_b = b.call("wait", handle=sb.handle)
        dev_delta = device_xruns(b, "shared output") - dev_before
        ev_b = take_events(b, 0.2)
        sb.close()
        b.close()
        res = finish(a)
    finally:
        if a.poll() is None:
            os.kill(a.pid, signal.SIGCONT)
            a.kill()
            a.wait()
    # B: undisturbed.
    check_eq((st_b["state"], st_b["frames_played"], st_b["underflow_frames"]),
             ("finished", frames, 0), "B's playback")
    xb, lost_b = xrun_summary(ev_b, st_b["handle"])
    check_device_only(xb, lost_b, st_b, dev_delta, "B")
    # A: told about its underflows.
    st = res["status"]
    xa, lost_a = xrun_summary(res["events"], st["handle"])
    check_eq(st["state"], "finished", "A's state")
    check_eq(st["frames_played"], res["written"], "A: every frame it wrote was played")
    check(st["flags"]["output_underflow"], "A: output_underflow in its status")
    check(st["underflow_frames"] >= RATE, "A: underflow_frames %d for a %d s stop"
          % (st["underflow_frames"], STOP_SECONDS))
    check_eq(len(xa) + lost_a, st["xruns"], "A: xrun events (and unreported ones) vs the status")
    # Each period that found the ring dry played at most PERIOD frames of
    # silence and was reported at the position where the ring ran dry: one
    # that A published, a multiple of its chunk.
    own = [x for x in xa if x[0] == "output" and "output_underflow" in x[1] and x[2] % chunk == 0
           and 0 < x[2] <= res["written"]]
    check(len(own) + lost_a >= st["underflow_frames"] // PERIOD,
          "A: %d underflow events where the ring ran dry, for %d frames of silence"
          % (len(own), st["underflow_frames"]))
    positions = [p for _, _, p in xa]
    check_eq(positions, sorted(positions), "A: positions only grow")
    print("# A: %d xrun events (%d where the ring ran dry, %d without position), %d frames of "
          "silence; B: %d xruns, the device %d meanwhile"
          % (len(xa), len(own), lost_a, st["underflow_frames"], len(xb), dev_delta))
    check_back_to_baseline(D, CONN, base, "after the stopped player")


def test_sigstopped_recorder_overflows_alone():
    """Client A records 10 s through an 8192-frame ring, reading 1024 frames
    at a time, and is stopped for 3 s: its ring overflows; it gets an
    input_overflow xrun event per overflowing period, overflow_frames in its
    status, and frames_recorded + overflow_frames is
    the length asked for, frames_recorded what it read.  Client B records 6 s
    on the same device stream meanwhile: every frame, no overflow of its own."""
    base = settle(D, CONN)
    total = RATE * 10
    a = spawn("rec-open", D, "system", total, 1024, 8192)
    try:
        b = D.connect(timeout=60)
        frames = RATE * 6
        dev_before = device_xruns(b, "shared input")
        r = b.call("rec", device="system", channels=2, frames=frames, buffer_frames=1 << 19)
        sb = RawStream(b, r)
        time.sleep(1)
        os.kill(a.pid, signal.SIGSTOP)
        time.sleep(STOP_SECONDS)
        os.kill(a.pid, signal.SIGCONT)
        st_b = b.call("wait", handle=sb.handle)
        dev_delta = device_xruns(b, "shared input") - dev_before
        got_b = len(sb.read_all()) // 8
        ev_b = take_events(b, 0.2)
        sb.close()
        b.close()
        res = finish(a)
    finally:
        if a.poll() is None:
            os.kill(a.pid, signal.SIGCONT)
            a.kill()
            a.wait()
    check_eq((st_b["state"], st_b["frames_recorded"], st_b["overflow_frames"], got_b),
             ("finished", frames, 0, frames), "B's recording (status, and frames read)")
    xb, lost_b = xrun_summary(ev_b, st_b["handle"])
    check_device_only(xb, lost_b, st_b, dev_delta, "B")
    st = res["status"]
    xa, lost_a = xrun_summary(res["events"], st["handle"])
    check_eq(st["state"], "finished", "A's state")
    check_eq(st["frames_recorded"] + st["overflow_frames"], total,
             "A: frames recorded and dropped make up the length")
    check_eq(res["read"], st["frames_recorded"], "A: it read every frame recorded")
    check(st["flags"]["input_overflow"], "A: input_overflow in its status")
    check(st["overflow_frames"] >= RATE, "A: overflow_frames %d for a %d s stop"
          % (st["overflow_frames"], STOP_SECONDS))
    check_eq(len(xa) + lost_a, st["xruns"], "A: xrun events (and unreported ones) vs the status")
    # Each period that found the ring full dropped at most PERIOD frames and
    # was reported at its position in the recording.
    own = [x for x in xa if x[0] == "input" and "input_overflow" in x[1] and 0 < x[2] < total]
    check(len(own) + lost_a >= st["overflow_frames"] // PERIOD,
          "A: %d overflow events for %d frames dropped" % (len(own), st["overflow_frames"]))
    positions = [p for _, _, p in xa]
    check_eq(positions, sorted(positions), "A: positions only grow")
    print("# A: %d xrun events (%d overflows, %d without position), %d frames dropped; "
          "B: %d xruns, the device %d meanwhile"
          % (len(xa), len(own), lost_a, st["overflow_frames"], len(xb), dev_delta))
    check_back_to_baseline(D, CONN, base, "after the stopped recorder")


def main():
    global D, CONN
    if not jackd_available():
        print("1..0 # SKIP jackd is not installed (apt-get install jackd2)")
        return 0
    jack = Jack()
    try:
        jack.start()
        D = Daemon(args=["--device-idle-time", "0"], name="faults-jack", env=jack.env())
        D.start()
        CONN = D.connect(timeout=60)
        check("system" in [x["name"] for x in CONN.call("query_devices")],
              "PortAudio sees jackd's device")
        # Warm up: PortAudio's JACK client allocates for good on the first
        # device streams of each direction; baselines are taken after them.
        r = CONN.call("play", device="system", channels=2, frames=4800)
        s = RawStream(CONN, r)
        s.write_all(bytes(4800 * 8))
        CONN.call("wait")
        s.close()
        r = CONN.call("rec", device="system", channels=2, frames=4800)
        s = RawStream(CONN, r)
        s.read_all()
        s.close()
        CONN.call("wait")
        settle(D, CONN)
        return run_tests([test_sigstopped_player_underflows_alone,
                          test_sigstopped_recorder_overflows_alone], daemon=D)
    finally:
        if D is not None:
            D.cleanup()
        jack.stop()


if __name__ == "__main__":
    sys.exit(main())
