#!/usr/bin/env python3
"""No lost audio: a soak test on jackd's dummy backend (real time, 48 kHz)
while stress-ng loads every CPU.

1. Records --seconds seconds from jackd's "system" device into a file
   through the raw protocol and checks that the file holds exactly
   rate x seconds frames, that no captured frame was dropped, and that
   every xrun the stream counted came to the client as an xrun event with
   its position.
2. Plays a file of --seconds seconds the same way (open-ended, end mark after
   the last frame) and checks that the stream consumed exactly the frames of
   the file and that every xrun (underflow) came as an event with its
   position.

Prints TAP (one line per part, the figures as comments) and exits 1 when a
check failed.  SDDAEMON names the daemon to run (default: sddaemon on PATH).
Skips (TAP "# SKIP") when jackd, or stress-ng without --no-stress, is missing.

    tests/soak/soak.py --seconds 600          # ten minutes each
"""

import argparse
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from faults_harness import (R_EOF, R_WAITING, R_WAKE, Daemon, Failure, Jack,  # noqa: E402
                            RawStream, check, check_eq, jackd_available)

RATE = 48000
CHANNELS = 2
FRAME_BYTES = 4 * CHANNELS  # float32


class Session:
    """A connection whose events are collected while audio moves."""

    def __init__(self, daemon, mode):
        self.conn = daemon.connect(timeout=60)
        self.mode = mode  # of the device stream: "shared input" or "shared output"
        self.events = []
        self.device_xruns = 0

    def pump(self):
        """Reads whatever messages wait on the socket, without blocking."""
        conn = self.conn
        conn.sock.setblocking(False)
        try:
            while True:
                try:
                    data, fds, _, _ = socket.recv_fds(conn.sock, 1 << 16, 16)
                except (BlockingIOError, InterruptedError):
                    break
                conn.fds.extend(fds)
                check(data, "the daemon closed the connection")
                conn.buf += data
        finally:
            conn.sock.setblocking(True)
            conn.sock.settimeout(60)
        while b"\n" in conn.buf:
            line, conn.buf = conn.buf.split(b"\n", 1)
            msg = json.loads(line)
            if "event" in msg:
                self.events.append(msg)
            else:
                conn.events.append(msg)  # a reply: kept for later (none are expected)

    def poll_device_xruns(self):
        """Remembers the xruns the device stream counted (JACK's own)."""
        self.pump()
        st = self.conn.call("daemon_status")
        self.events.extend(e for e in self.conn.events if "event" in e)
        self.conn.events[:] = []
        for ds in st["device_streams"]:
            if ds["mode"] == self.mode:
                self.device_xruns = max(self.device_xruns, ds["device_xruns"])

    def finish(self, handle):
        """The stream's final status; events that came before its reply are kept."""
        msg = self.conn.request("wait", handle=handle)
        self.events.extend(self.conn.events)
        self.conn.events[:] = []
        check(msg.get("ok"), "wait failed: %r" % msg)
        # Events sent right after the reply (none should matter, but read them).
        time.sleep(0.2)
        self.pump()
        # The device stream stays open for the idle time: its final xrun count.
        self.poll_device_xruns()
        return msg["result"]

    def xruns(self, handle, total):
        """Checks the xrun events of a stream and returns them as (flags, position)."""
        out = []
        for ev in self.events:
            if ev.get("event") != "xrun" or ev.get("handle") != handle:
                continue
            check("unreported" not in ev, "xruns reported without position: %r" % ev)
            # An event carries a batch of xruns, each with its position.
            for x in ev["xruns"]:
                check(isinstance(x.get("position"), int) and 0 <= x["position"] <= total,
                      "xrun with a position in the stream: %r" % ev)
                out.append((tuple(x["flags"]), x["position"]))
        return out


def record(daemon, seconds, path, ring):
    """Part 1; returns the figures."""
    s = Session(daemon, "shared input")
    r = s.conn.call("rec", device="system", channels=CHANNELS, dtype="float32",
                    duration=seconds, buffer_frames=ring)
    check_eq(r["samplerate"], float(RATE), "the stream's rate")
    st = RawStream(s.conn, r)
    expected = RATE * seconds
    written = 0
    last_poll = 0
    with open(path, "wb") as f:
        while True:
            over = st.over()
            fill = st.inp.fill()
            if fill:
                data = st.inp.read(fill)
                f.write(data)
                written += len(data) // FRAME_BYTES
                continue
            if over:
                break
            if time.time() - last_poll > 1:
                s.poll_device_xruns()
                last_poll = time.time()
            st.inp.put(R_WAKE, 4096)
            st.inp.put(R_WAITING, 1)
            if st.inp.fill() == 0:
                select.select([st.eventfd, s.conn.sock], [], [], 0.2)
                try:
                    os.read(st.eventfd, 8)
                except BlockingIOError:
                    pass
                s.pump()
    st.close()
    status = s.finish(r["handle"])
    xruns = s.xruns(r["handle"], expected)
    s.conn.close()
    size = os.path.getsize(path)
    fig = {"expected": expected, "recorded": status["frames_recorded"],
           "in_file": size // FRAME_BYTES,
           "xruns_counted": status["xruns"], "xruns_reported": len(xruns),
           "overflow_frames": status["overflow_frames"], "jack_xruns": s.device_xruns,
           "lost": expected - size // FRAME_BYTES}
    return status, fig


def play(daemon, seconds, path, ring):
    """Part 2; returns the figures."""
    frames = RATE * seconds
    # The file: a deterministic pattern, written once (as a player would read it).
    block = b"".join(struct.pack("<ff", (i % 1000) / 2000.0, -(i % 1000) / 2000.0)
                     for i in range(RATE))
    with open(path, "wb") as f:
        for _ in range(seconds):
            f.write(block)
    check_eq(os.path.getsize(path), frames * FRAME_BYTES, "the file's size")
    s = Session(daemon, "shared output")
    r = s.conn.call("play", device="system", channels=CHANNELS, dtype="float32", buffer_frames=ring)
    st = RawStream(s.conn, r)
    sent = 0
    last_poll = 0
    with open(path, "rb") as f:
        pending = b""
        while True:
            if not pending:
                pending = f.read(1 << 16)
                if not pending:
                    break
            space = st.out.space()
            if space:
                n = min(space * FRAME_BYTES, len(pending))
                st.out.write(pending[:n])
                sent += n // FRAME_BYTES
                pending = pending[n:]
                continue
            check(not st.over(), "the playback ended early (%s)" % st.state())
            if time.time() - last_poll > 1:
                s.poll_device_xruns()
                last_poll = time.time()
            st.out.put(R_WAKE, 4096)
            st.out.put(R_WAITING, 1)
            if st.out.space() == 0:
                select.select([st.eventfd, s.conn.sock], [], [], 0.2)
                try:
                    os.read(st.eventfd, 8)
                except BlockingIOError:
                    pass
                s.pump()
    st.out.put(R_EOF, 1)
    while not st.over():
        if time.time() - last_poll > 1:
            s.poll_device_xruns()
            last_poll = time.time()
        select.select([st.eventfd, s.conn.sock], [], [], 0.2)
        s.pump()
    st.close()
    status = s.finish(r["handle"])
    xruns = s.xruns(r["handle"], frames)
    s.conn.close()
    fig = {"expected": frames, "sent": sent, "played": status["frames_played"],
           "xruns_counted": status["xruns"], "xruns_reported": len(xruns),
           "underflow_frames": status["underflow_frames"], "jack_xruns": s.device_xruns,
           "lost": frames - status["frames_played"]}
    return status, fig


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=60, help="length of each part (default 60)")
    ap.add_argument("--part", choices=("rec", "play", "both"), default="both")
    ap.add_argument("--ring", type=int, default=1 << 17,
                    help="ring capacity in frames (default 131072, 2.7 s)")
    ap.add_argument("--no-stress", action="store_true", help="do not load the CPUs")
    ap.add_argument("--keep", action="store_true", help="keep the files (their paths are printed)")
    args = ap.parse_args()
    parts = ["rec", "play"] if args.part == "both" else [args.part]

    if not jackd_available():
        print("1..0 # SKIP jackd is not installed (apt-get install jackd2)")
        return 0
    if not args.no_stress and not shutil.which("stress-ng"):
        print("1..0 # SKIP stress-ng is not installed (apt-get install stress-ng)")
        return 0
    print("1..%d" % len(parts), flush=True)
    jack = Jack(name="sddsoak%d" % os.getpid())
    d = None
    stress = None
    failed = 0
    try:
        jack.start()
        # The device stream outlives each stream by 2 s, for its final xrun count.
        d = Daemon(args=["--device-idle-time", "2"], name="soak", env=jack.env())
        d.start()
        if not args.no_stress:
            stress = subprocess.Popen(["stress-ng", "--cpu", "0", "--timeout",
                                       "%ds" % (len(parts) * (args.seconds + 30) + 60), "--quiet"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            print("# stress-ng --cpu 0 (one worker per CPU: %d)" % os.cpu_count(), flush=True)
        for n, part in enumerate(parts, 1):
            path = d.path("soak-%s.raw" % part)
            what = "%s %d s on jackd's dummy backend" % (
                "recording" if part == "rec" else "playing a file of", args.seconds)
            try:
                status, fig = (record if part == "rec" else play)(d, args.seconds, path, args.ring)
                print("# " + json.dumps(fig), flush=True)
                if part == "rec":
                    check_eq(fig["in_file"], fig["expected"], "frames in the file")
                    check_eq(fig["recorded"], fig["expected"], "frames recorded")
                    check_eq(fig["overflow_frames"], 0, "captured frames dropped")
                else:
                    check_eq(fig["sent"], fig["expected"], "frames sent")
                    check_eq(fig["played"], fig["expected"], "frames played")
                check_eq(status["state"], "finished", "the stream's state")
                check_eq(fig["xruns_reported"], fig["xruns_counted"],
                         "xrun events with a position vs the stream's xrun count")
                print("ok %d - %s: %d frames expected, %d lost, %d xruns reported of %d"
                      % (n, what, fig["expected"], fig["lost"], fig["xruns_reported"],
                         fig["xruns_counted"]), flush=True)
            except (Failure, AssertionError, OSError, ValueError) as e:
                failed += 1
                print("not ok %d - %s\n# %s" % (n, what, e), flush=True)
            finally:
                if args.keep:
                    print("# kept %s" % path)
                elif os.path.exists(path):
                    os.unlink(path)
        if not d.alive():
            failed += 1
            print("Bail out! sddaemon died:\n# " + d.read_log().replace("\n", "\n# "))
    finally:
        if stress is not None and stress.poll() is None:
            stress.send_signal(signal.SIGTERM)
            try:
                stress.wait(20)
            except subprocess.TimeoutExpired:
                stress.kill()
                stress.wait()
        if d is not None:
            if args.keep:
                d.stop()
            else:
                d.cleanup()
        jack.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
