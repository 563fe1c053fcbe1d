"""A stream's counters are the daemon's own: a client that writes its shared
header (xrun_count, frames_out, frames_in, dropped_in, silence_out) changes
what it reads there, never what get_status, wait and daemon_status report,
nor what the daemon does.  Before, get_status reported the header:
frames_played -9223372036854775803 and xruns 4294967295 after a client
wrote them.  On the virtual ALSA devices."""

import os
import struct
import sys

from faults_harness import Daemon, RawStream, check_eq
from harness import run_tests
import shmlayout as shm

D = None

FORGED = {"xrun_count": 0xFFFFFFFF, "frames_out": 0x8000000000000005,
          "frames_in": 0x7FFFFFFFFFFFFFF0, "dropped_in": 1 << 62, "silence_out": 1 << 63}


def forge(s):
    """Writes the forged values into the stream's header, as a hostile client would."""
    for name, value in FORGED.items():
        f = shm.HEADER.by_name[name]
        off = f.offset // 4
        s.words[off] = value & 0xFFFFFFFF
        if f.size == 8:
            s.words[off + 1] = value >> 32


def test_playback_counters():
    """A playback of 4800 frames whose client forges its header before
    writing, while it plays and after it ended: get_status and wait report
    4800 frames played, no silence and as many xruns as xrun events came."""
    conn = D.connect()
    r = conn.call("play", device="t_null", channels=2, frames=4800, buffer_frames=8192)
    s = RawStream(conn, r)
    forge(s)
    s.write_all(struct.pack("<ff", 0.1, -0.1) * 4800)
    forge(s)
    st = conn.call("wait", handle=r["handle"])
    forge(s)
    st2 = conn.call("get_status", handle=r["handle"])
    xruns = len([e for e in conn.events if e.get("event") == "xrun"])
    print("# reported: %r, then %r" % ({k: st[k] for k in ("frames_played", "underflow_frames",
                                                            "xruns")},
                                      {k: st2[k] for k in ("frames_played", "xruns")}))
    for what, status in (("wait", st), ("get_status", st2)):
        check_eq((status["state"], status["frames_played"], status["underflow_frames"]),
                 ("finished", 4800, 0), what + ": frames played and silence")
        check_eq(status["xruns"], xruns, what + ": xruns as the events said")
    s.close()
    conn.call("close", handle=r["handle"])
    conn.close()


def test_recording_counters():
    """A recording of 4800 frames whose client forges its header while it
    records: the status says 4800 frames recorded, none dropped, and the
    ring held exactly those."""
    conn = D.connect()
    r = conn.call("rec", device="t_in", channels=2, frames=4800, buffer_frames=8192)
    s = RawStream(conn, r)
    forge(s)
    data = s.read_all()
    forge(s)
    st = conn.call("get_status", handle=r["handle"])
    print("# reported: %r" % {k: st[k] for k in ("frames_recorded", "overflow_frames", "xruns")})
    check_eq(len(data), 4800 * 8, "bytes read from the ring")
    check_eq((st["state"], st["frames_recorded"], st["overflow_frames"]), ("finished", 4800, 0),
             "frames recorded and dropped")
    check_eq(st["xruns"], len([e for e in conn.events if e.get("event") == "xrun"]),
             "xruns as the events said")
    s.close()
    conn.close()


def main():
    global D
    D = Daemon(args=["--device-idle-time", "0"], name="counters")
    try:
        D.start()
        return run_tests([test_playback_counters, test_recording_counters], daemon=D)
    finally:
        D.cleanup()


if __name__ == "__main__":
    sys.exit(main())
