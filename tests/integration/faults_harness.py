"""Helpers for the fault-injection tests (test_faults*.py, test_reconnect.py)
and the soak script (tests/soak/soak.py): what the daemon holds (descriptors,
resident memory), a jackd on the dummy backend for real-time pacing, and a
stream client of its own that can run in a child process, so that a test
can stop it with SIGSTOP while the daemon and other clients go on.

Python standard library only; the daemon and the raw protocol client come
from harness.py.
"""

import json
import mmap
import os
import select
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import shmlayout as shm  # noqa: E402
from harness import Conn, Daemon, Failure, Jack, check, check_eq, jackd_available  # noqa: E402,F401
from shmlayout import (HDR_STATE, R_EOF, R_READ, R_WAITING, R_WAKE, R_WRITE, RING_IN,  # noqa: E402
                       RING_OUT, STATES)

# ---- What the daemon holds ------------------------------------------------------


def rss_kib(pid):
    """The resident set size of a process (VmRSS), in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise Failure("no VmRSS for pid %d" % pid)


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def settle(daemon, conn, clients=1, timeout=30):
    """Waits until only `clients` connections are left, no stream runs, no
    device stream is open and the daemon's descriptor count holds still;
    returns (descriptors, resident KiB)."""
    deadline = time.time() + timeout
    last = None
    while True:
        st = conn.call("daemon_status")
        fds = fd_count(daemon.proc.pid)
        now = (st["clients"], st["streams"], st["device_streams"], fds)
        if now == (clients, 0, [], last):
            return fds, rss_kib(daemon.proc.pid)
        if time.time() > deadline:
            raise Failure("the daemon does not settle: %d clients, %d streams, device streams %r, "
                          "%d fds" % (st["clients"], st["streams"], st["device_streams"], fds))
        last = fds
        time.sleep(0.1)


# Resident memory may wander this much from its baseline (KiB): malloc's free
# lists and the kernel's accounting are not exact, a leak per cycle is.
RSS_SLACK_KIB = 2048


def sanitized(pid):
    """True when the process runs under AddressSanitizer (or another
    sanitizer with an allocator of its own): its quarantine keeps freed
    memory resident on purpose, so resident memory says nothing there."""
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read()
    if any(lib in maps for lib in ("libasan.so", "libtsan.so", "libmsan.so")):
        return True
    with open("/proc/%d/exe" % pid, "rb") as f:  # statically linked (clang)
        return b"__asan_init" in f.read()


def check_back_to_baseline(daemon, conn, baseline, what, clients=1, timeout=30):
    """Checks that the daemon's descriptors return exactly, and its resident
    memory nearly, to baseline = (fds, rss) from settle().  Under a sanitizer
    only the descriptors are checked."""
    deadline = time.time() + timeout
    memory = not sanitized(daemon.proc.pid)
    while True:
        fds, rss = settle(daemon, conn, clients, timeout)
        if fds == baseline[0] and (rss < baseline[1] + RSS_SLACK_KIB or not memory):
            print("# %s: %d fds as before, VmRSS %+d KiB" % (what, fds, rss - baseline[1]))
            return fds, rss
        if time.time() > deadline:
            raise Failure("%s: %d fds (baseline %d), VmRSS %d KiB (baseline %d KiB, allowed +%d)"
                          % (what, fds, baseline[0], rss, baseline[1], RSS_SLACK_KIB))
        time.sleep(0.2)


def raise_nofile(want):
    """Raises this process's RLIMIT_NOFILE soft limit to want (at most the hard
    limit); children (a daemon started afterwards) inherit it.  Returns the
    new soft limit."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    return soft


# ---- A stream client of our own --------------------------------------------------
#
# The layout of protocol/shm.h is shmlayout.py's.  Indices and flags are
# read and written as whole aligned 32-bit words through a memoryview of
# machine words, never a byte at a time (the daemon could see a torn index).


class Ring:
    def __init__(self, stream, base, info):
        self.s = stream
        self.base = base
        self.offset = info["offset"]
        self.capacity = info["capacity"]
        self.frame_bytes = info["frame_bytes"]
        geometry = tuple(stream.words[(base + shm.RING.offset(m)) // 4]
                         for m in ("offset", "capacity", "frame_bytes", "channels", "dtype"))
        check_eq(geometry, (self.offset, self.capacity, self.frame_bytes, info["channels"],
                            shm.DTYPES.index(info["dtype"])), "ring geometry")
        self.index = 0  # our own index: write (out) or read (in)

    def get(self, off):
        return self.s.words[(self.base + off) // 4]

    def put(self, off, value):
        self.s.words[(self.base + off) // 4] = value & 0xFFFFFFFF

    def space(self):
        used = (self.index - self.get(R_READ)) & 0xFFFFFFFF
        check(used <= self.capacity, "the daemon's read index is impossible")
        return self.capacity - used

    def fill(self):
        n = (self.get(R_WRITE) - self.index) & 0xFFFFFFFF
        check(n <= self.capacity, "the daemon's write index is impossible")
        return n

    def write(self, data):
        """Copies whole frames of data in at our index and publishes them."""
        frames = len(data) // self.frame_bytes
        pos = self.index % self.capacity
        first = min(frames, self.capacity - pos)
        a = self.offset + pos * self.frame_bytes
        self.s.mem[a:a + first * self.frame_bytes] = data[:first * self.frame_bytes]
        if frames > first:
            self.s.mem[self.offset:self.offset + (frames - first) * self.frame_bytes] = \
                data[first * self.frame_bytes:frames * self.frame_bytes]
        self.index = (self.index + frames) & 0xFFFFFFFF
        self.put(R_WRITE, self.index)

    def read(self, frames):
        pos = self.index % self.capacity
        first = min(frames, self.capacity - pos)
        a = self.offset + pos * self.frame_bytes
        data = bytes(self.s.mem[a:a + first * self.frame_bytes])
        if frames > first:
            data += bytes(self.s.mem[self.offset:self.offset + (frames - first) * self.frame_bytes])
        self.index = (self.index + frames) & 0xFFFFFFFF
        self.put(R_READ, self.index)
        return data

    def sleep(self, wake_frames, timeout):
        """Asks to be woken once wake_frames are there and sleeps (or times out)."""
        self.put(R_WAKE, wake_frames)
        self.put(R_WAITING, 1)
        self.s.wait_event(timeout)


class RawStream:
    """A play/rec/playrec stream: its shared memory, eventfd and rings."""

    def __init__(self, conn, result):
        self.conn = conn
        self.result = result
        self.handle = result["handle"]
        check_eq(result["fds"], ["memfd", "eventfd"], "descriptor names")
        check(len(conn.fds) >= 2, "descriptors arrived with the reply")
        self.memfd, self.eventfd = conn.fds[0], conn.fds[1]
        del conn.fds[:2]
        self.mem = mmap.mmap(self.memfd, result["shm_size"])
        check_eq(sys.byteorder, "little", "byte order of the rings")
        self.words = memoryview(self.mem).cast("I")
        header = tuple(self.words[shm.HEADER.offset(m) // 4]
                       for m in ("magic", "version", "header_bytes", "total_bytes", "handle"))
        check_eq(header, (shm.MAGIC, shm.VERSION, shm.HEADER.size, result["shm_size"],
                          self.handle), "shared memory header")
        self.out = Ring(self, RING_OUT, result["out"]) if "out" in result else None
        self.inp = Ring(self, RING_IN, result["in"]) if "in" in result else None

    def state(self):
        st = self.words[HDR_STATE // 4]
        return STATES[st] if st < len(STATES) else st

    def over(self):
        return self.state() in ("finished", "failed")

    def wait_event(self, timeout):
        r, _, _ = select.select([self.eventfd], [], [], timeout)
        if r:
            os.read(self.eventfd, 8)
        return bool(r)

    def write_all(self, data, eof=True, timeout=60):
        """Writes all of data through the out ring, waiting for room."""
        ring, pos = self.out, 0
        deadline = time.time() + timeout
        while pos < len(data):
            space = ring.space()
            if space == 0:
                check(not self.over(), "stream %d ended while we wrote" % self.handle)
                check(time.time() < deadline, "timed out writing to stream %d" % self.handle)
                ring.sleep(min(ring.capacity, 4096), 0.2)
                continue
            n = min(space * ring.frame_bytes, len(data) - pos)
            ring.write(data[pos:pos + n])
            pos += n
        if eof:
            ring.put(R_EOF, 1)

    def read_all(self, timeout=60):
        """Reads the in ring until the stream has ended and the ring is empty."""
        chunks, deadline = [], time.time() + timeout
        while True:
            over = self.over()
            fill = self.inp.fill()
            if fill:
                chunks.append(self.inp.read(fill))
                continue
            if over:
                return b"".join(chunks)
            check(time.time() < deadline, "stream %d did not end" % self.handle)
            self.inp.sleep(1, 0.2)

    def close(self):
        self.words.release()
        self.mem.close()
        os.close(self.memfd)
        os.close(self.eventfd)


def take_events(conn, timeout=0.0):
    """Reads whatever messages arrive within timeout into conn.events; returns
    the events read so far (and empties conn.events)."""
    deadline = time.time() + timeout
    old = conn.sock.gettimeout()
    try:
        while True:
            left = deadline - time.time()
            conn.sock.settimeout(max(left, 0.001))
            try:
                msg = conn.read_message()
            except (socket.timeout, BlockingIOError):
                break
            if msg is None:
                break
            if "event" in msg:
                conn.events.append(msg)
    finally:
        conn.sock.settimeout(old)
    events, conn.events[:] = list(conn.events), []
    return events


def xrun_summary(events, handle):
    """The xrun events of one stream: (list of (direction, flags, position),
    frames the daemon could not describe one by one)."""
    xruns, unreported = [], 0
    for ev in events:
        if ev.get("event") != "xrun" or ev.get("handle") != handle:
            continue
        # An event carries a batch of xruns, and a count of those it could not place.
        unreported += ev.get("unreported", 0)
        for x in ev["xruns"]:
            xruns.append((ev["direction"], tuple(x["flags"]), x["position"]))
    return xruns, unreported


# ---- Child-process clients ----------------------------------------------------------
#
# `python3 faults_harness.py play-open SOCKET DEVICE FRAMES CHUNK` streams an
# open-ended float32 stereo playback of FRAMES frames, written CHUNK frames at
# a time (so that every index it publishes is a multiple of CHUNK), prints
# "running" once playback has started, and at the end prints one JSON line:
# the stream's final status and every event it received.  `rec-open SOCKET
# DEVICE FRAMES CHUNK` records FRAMES frames, reading CHUNK at a time, and
# prints the same, plus the frames it read.  A test can stop these with
# SIGSTOP: they do not mind.


def child_play(sock, device, frames, chunk, buffer_frames):
    conn = Conn(sock, timeout=120)
    r = conn.call("play", device=device, channels=2, buffer_frames=buffer_frames)
    s = RawStream(conn, r)
    block = struct.pack("<ff", 0.25, -0.25) * chunk
    written, said = 0, False
    while written < frames:
        if s.out.space() < chunk:
            if not said and s.state() == "running":
                print("running", flush=True)
                said = True
            s.out.sleep(chunk, 0.2)
            continue
        s.out.write(block)
        written += chunk
    s.out.put(R_EOF, 1)
    if not said:
        print("running", flush=True)
    status = conn.call("wait", handle=s.handle)
    events = take_events(conn, 0.5)
    print(json.dumps({"status": status, "events": events, "written": written}), flush=True)
    s.close()
    conn.close()


def child_rec(sock, device, frames, chunk, buffer_frames):
    conn = Conn(sock, timeout=120)
    r = conn.call("rec", device=device, channels=2, frames=frames, buffer_frames=buffer_frames)
    s = RawStream(conn, r)
    got, said = 0, False
    while True:
        fill = s.inp.fill()
        if fill >= chunk or (fill and s.over()):
            got += len(s.inp.read(min(fill, chunk))) // s.inp.frame_bytes
            if not said:
                print("running", flush=True)
                said = True
            continue
        if s.over() and s.inp.fill() == 0:
            break
        s.inp.sleep(chunk, 0.2)
    status = conn.call("wait", handle=s.handle)
    events = take_events(conn, 0.5)
    print(json.dumps({"status": status, "events": events, "read": got}), flush=True)
    s.close()
    conn.close()


def spawn(kind, daemon, device, frames, chunk, buffer_frames):
    """Starts a child client (see above) and waits for its "running" line."""
    env = dict(daemon.env)
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), kind, daemon.socket, device,
                          str(frames), str(chunk), str(buffer_frames)],
                         stdout=subprocess.PIPE, env=env)
    line = p.stdout.readline().decode()
    if not line.startswith("running"):
        p.kill()
        p.wait()
        raise Failure("the %s child did not start: %r" % (kind, line))
    return p


def finish(child, timeout=120):
    """Waits for a child client's result line and exit."""
    out, _ = child.communicate(timeout=timeout)
    check_eq(child.returncode, 0, "the child client's exit status")
    return json.loads(out.decode().strip().splitlines()[-1])


if __name__ == "__main__":
    kind, sock, device, frames, chunk, bufframes = sys.argv[1:7]
    {"play-open": child_play, "rec-open": child_rec}[kind](sock, device, int(frames), int(chunk),
                                                          int(bufframes))
