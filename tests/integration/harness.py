"""Test harness for sddaemon integration tests (Python standard library only).

Each test file is one program that meson runs; it reports in TAP, one line
per test function.  The harness starts sddaemon on a temporary socket with
a generated ALSA configuration of virtual devices (never touching the
user's ~/.asoundrc), runs sdctl, and speaks the JSON protocol directly as an
independent second client implementation.
"""

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

SDDAEMON = os.environ.get("SDDAEMON", "sddaemon")
SDCTL = os.environ.get("SDCTL", "sdctl")

ASOUND_CONF = """\
</usr/share/alsa/alsa.conf>
pcm.t_null {{ type null; hint {{ show on; description "discard / no capture" }} }}
pcm.t_out {{ type file; slave.pcm "null"; format "raw"; file "{d}/out.raw"
            hint {{ show on; description "playback tap" }} }}
pcm.t_out2 {{ type file; slave.pcm "null"; format "raw"; file "{d}/out2.raw"
            hint {{ show on; description "second playback tap" }} }}
pcm.t_in {{ type file; slave.pcm "null"; format "raw"; file "{d}/cap.raw"; infile "{d}/in.raw"
           hint {{ show on; description "capture source" }} }}
pcm.t_duplex {{ type asym; playback.pcm "t_out"; capture.pcm "t_in"
               hint {{ show on; description "duplex" }} }}
"""


class Failure(Exception):
    pass


def check(cond, message="check failed"):
    if not cond:
        raise Failure(message)


def check_eq(got, want, message=""):
    if got != want:
        raise Failure("%s: got %r, want %r" % (message or "values differ", got, want))


class Conn:
    """A raw protocol client: JSON lines over the Unix socket."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 0
        self.fds = []
        self.events = []

    def close(self):
        for fd in self.fds:
            os.close(fd)
        self.fds = []
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, obj):
        self.send_raw((json.dumps(obj) + "\n").encode())

    def read_line(self):
        """Returns the next line as bytes, or None at end of stream."""
        while b"\n" not in self.buf:
            data, fds, _flags, _addr = socket.recv_fds(self.sock, 65536, 16)
            self.fds.extend(fds)
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def read_message(self):
        line = self.read_line()
        if line is None:
            return None
        return json.loads(line)

    def reply(self, want_id):
        """Reads until the reply to want_id, keeping events aside."""
        while True:
            msg = self.read_message()
            if msg is None:
                raise Failure("connection closed while waiting for reply %r" % (want_id,))
            if "event" in msg:
                self.events.append(msg)
                continue
            if msg.get("id") == want_id:
                return msg

    def request(self, cmd, **params):
        self.next_id += 1
        req = {"id": self.next_id, "cmd": cmd}
        req.update(params)
        self.send(req)
        return self.reply(self.next_id)

    def call(self, cmd, **params):
        """Sends a request that must succeed; returns its result."""
        msg = self.request(cmd, **params)
        if not msg.get("ok"):
            raise Failure("%s failed: %s" % (cmd, msg.get("error")))
        return msg["result"]

    def error(self, cmd, **params):
        """Sends a request that must fail; returns its error object."""
        msg = self.request(cmd, **params)
        if msg.get("ok"):
            raise Failure("%s unexpectedly succeeded: %s" % (cmd, msg.get("result")))
        check(msg.get("ok") is False, "error reply has ok: false")
        check(isinstance(msg["error"].get("code"), str) and msg["error"].get("message"),
              "error has code and message")
        return msg["error"]


def write_input_file(path, seconds=30, rate=48000, channels=2, sampwidth=4):
    """Writes a deterministic raw capture source: a counter pattern."""
    frames = seconds * rate
    with open(path, "wb") as f:
        block = bytearray()
        for i in range(frames * channels * sampwidth // 4):
            block += (i * 2654435761 & 0xFFFFFFFF).to_bytes(4, "little")
            if len(block) >= 1 << 20:
                f.write(block)
                block = bytearray()
        f.write(block)


class Daemon:
    """An sddaemon on a temporary socket with virtual ALSA devices."""

    def __init__(self, args=(), env=None, input_seconds=1, name="sdd"):
        self.dir = tempfile.mkdtemp(prefix=name + "-")
        self.socket = os.path.join(self.dir, "sock")
        self.asound = os.path.join(self.dir, "asound.conf")
        with open(self.asound, "w") as f:
            f.write(ASOUND_CONF.format(d=self.dir))
        # The capture source must exist before devices are listed.
        with open(os.path.join(self.dir, "in.raw"), "wb") as f:
            f.write(os.urandom(input_seconds * 48000 * 8))
        self.env = dict(os.environ)
        self.env["ALSA_CONFIG_PATH"] = self.asound
        self.env.pop("SDDAEMON_SOCKET", None)
        self.env["JACK_NO_START_SERVER"] = "1"
        if env:
            self.env.update(env)
        self.args = list(args)
        self.proc = None
        self.log_path = os.path.join(self.dir, "daemon.log")

    def start(self):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([SDDAEMON, "--socket", self.socket, "-v"] + self.args,
                                     env=self.env, stdout=self.log, stderr=self.log)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Failure("sddaemon exited at start with %s:\n%s"
                              % (self.proc.returncode, self.read_log()))
            if os.path.exists(self.socket):
                try:
                    Conn(self.socket, timeout=2).close()
                    return self
                except OSError:
                    pass
            time.sleep(0.02)
        raise Failure("sddaemon did not start:\n" + self.read_log())

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def connect(self, timeout=10):
        return Conn(self.socket, timeout)

    def sdctl(self, *args, check_status=None, timeout=30, extra_env=None):
        env = dict(self.env)
        env["SDDAEMON_SOCKET"] = self.socket
        if extra_env:
            env.update(extra_env)
        p = subprocess.run([SDCTL] + list(args), env=env, capture_output=True, timeout=timeout)
        out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        if check_status is not None and p.returncode != check_status:
            raise Failure("sdctl %s exited %d, want %d\nstdout: %s\nstderr: %s"
                          % (" ".join(args), p.returncode, check_status, out, err))
        return p.returncode, out, err

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def fd_count(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Stops the daemon and returns its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure("sddaemon did not stop within %ds" % timeout)
        self.log.close()
        return self.proc.returncode

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


def run_tests(tests, daemon=None):
    """Runs the given test functions, printing TAP; returns 1 if any failed.

    With daemon, a last test checks that it is still alive and stops cleanly
    (exit status 0 on SIGTERM).
    """
    if daemon is not None:
        def daemon_stops_cleanly():
            check(daemon.alive(), "sddaemon is still running:\n" + daemon.read_log())
            check_eq(daemon.stop(), 0, "sddaemon's exit status after SIGTERM")
            check(not os.path.exists(daemon.socket), "the socket file is removed at exit")
        tests = list(tests) + [daemon_stops_cleanly]
    failed = 0
    print("1..%d" % len(tests), flush=True)
    for n, fn in enumerate(tests, 1):
        name = fn.__name__
        start = time.time()
        try:
            fn()
            print("ok %d - %s (%.2fs)" % (n, name, time.time() - start), flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported the same way
            failed += 1
            print("not ok %d - %s" % (n, name), flush=True)
            for line in traceback.format_exc().splitlines():
                print("# " + line)
            if isinstance(e, Failure) and getattr(e, "log", None):
                print("# " + e.log.replace("\n", "\n# "))
    return 1 if failed else 0


# ---- Shared-memory streams (layout of protocol/shm.h) ------------------------

import mmap
import struct

SHM_MAGIC = 0x53444453
CACHELINE = 64
HDR_STATE = 64            # status line
RING_OUT = 2 * CACHELINE  # struct shm_ring out
RING_IN = 7 * CACHELINE   # struct shm_ring in
R_WRITE = 1 * CACHELINE
R_EOF = R_WRITE + 4
R_READ = 2 * CACHELINE
R_WAITING = 3 * CACHELINE
R_WAKE = R_WAITING + 4
STATES = ["prefill", "running", "draining", "finished", "failed"]
DTYPE_SIZE = {"float32": 4, "int32": 4, "int24": 3, "int16": 2, "int8": 1, "uint8": 1}


class Ring:
    """One ring of a stream's shared memory, driven from Python."""

    def __init__(self, mem, base, info):
        self.mem = mem
        self.base = base
        self.offset = info["offset"]
        self.capacity = info["capacity"]
        self.frame_bytes = info["frame_bytes"]
        o, c, fb, ch, dt = struct.unpack_from("<IIIII", mem, base)
        check_eq((o, c, fb), (self.offset, self.capacity, self.frame_bytes), "ring geometry")
        self.index = 0  # our own index (write for out, read for in)

    def _u32(self, off):
        return struct.unpack_from("<I", self.mem, self.base + off)[0]

    def _set_u32(self, off, value):
        struct.pack_into("<I", self.mem, self.base + off, value & 0xFFFFFFFF)

    def space(self):
        return self.capacity - ((self.index - self._u32(R_READ)) & 0xFFFFFFFF)

    def fill(self):
        return (self._u32(R_WRITE) - self.index) & 0xFFFFFFFF

    def _copy_in(self, data):
        frames = len(data) // self.frame_bytes
        pos = self.index % self.capacity
        first = min(frames, self.capacity - pos)
        a = self.offset + pos * self.frame_bytes
        self.mem[a:a + first * self.frame_bytes] = data[:first * self.frame_bytes]
        rest = frames - first
        if rest:
            self.mem[self.offset:self.offset + rest * self.frame_bytes] = data[first * self.frame_bytes:]
        self.index = (self.index + frames) & 0xFFFFFFFF
        self._set_u32(R_WRITE, self.index)

    def _copy_out(self, frames):
        pos = self.index % self.capacity
        first = min(frames, self.capacity - pos)
        a = self.offset + pos * self.frame_bytes
        data = bytes(self.mem[a:a + first * self.frame_bytes])
        rest = frames - first
        if rest:
            data += bytes(self.mem[self.offset:self.offset + rest * self.frame_bytes])
        self.index = (self.index + frames) & 0xFFFFFFFF
        self._set_u32(R_READ, self.index)
        return data

    def set_eof(self):
        self._set_u32(R_EOF, 1)


class Stream:
    """A play/rec/playrec stream: its handle, memory, eventfd and rings."""

    def __init__(self, conn, result):
        self.conn = conn
        self.result = result
        self.handle = result["handle"]
        check_eq(result["fds"], ["memfd", "eventfd"], "descriptor names")
        check(len(conn.fds) >= 2, "descriptors arrived with the reply")
        self.memfd, self.eventfd = conn.fds[0], conn.fds[1]
        del conn.fds[:2]
        self.size = result["shm_size"]
        check_eq(os.fstat(self.memfd).st_size, self.size, "memfd size")
        self.mem = mmap.mmap(self.memfd, self.size)
        magic, version = struct.unpack_from("<II", self.mem, 0)
        check_eq((magic, version), (SHM_MAGIC, 1), "shared memory header")
        self.out = Ring(self.mem, RING_OUT, result["out"]) if "out" in result else None
        self.inp = Ring(self.mem, RING_IN, result["in"]) if "in" in result else None

    def state(self):
        return STATES[struct.unpack_from("<I", self.mem, HDR_STATE)[0]]

    def wait_event(self, timeout=5.0):
        """Sleeps on the eventfd until the daemon writes it (or timeout)."""
        r, _, _ = select.select([self.eventfd], [], [], timeout)
        if r:
            os.read(self.eventfd, 8)
        return bool(r)

    def write_all(self, data, eof=True, timeout=30):
        """Writes all of data through the out ring, waiting for space."""
        ring = self.out
        pos = 0
        deadline = time.time() + timeout
        while pos < len(data):
            space = ring.space()
            if space == 0:
                ring._set_u32(R_WAKE, min(ring.capacity, 4096))
                ring._set_u32(R_WAITING, 1)
                if ring.space() == 0:
                    self.wait_event(0.2)
                if time.time() > deadline:
                    raise Failure("timed out writing to the ring")
                continue
            n = min(space * ring.frame_bytes, len(data) - pos)
            ring._copy_in(data[pos:pos + n])
            pos += n
        if eof:
            ring.set_eof()

    def read_frames(self, frames, timeout=30):
        """Reads exactly frames frames from the in ring (or what there is when the stream ends)."""
        ring = self.inp
        chunks = []
        got = 0
        deadline = time.time() + timeout
        while got < frames:
            fill = ring.fill()
            if fill == 0:
                if self.state() in ("finished", "failed") and ring.fill() == 0:
                    break
                ring._set_u32(R_WAKE, 1)
                ring._set_u32(R_WAITING, 1)
                if ring.fill() == 0:
                    self.wait_event(0.2)
                if time.time() > deadline:
                    raise Failure("timed out reading from the ring (%d of %d frames)" % (got, frames))
                continue
            n = min(fill, frames - got)
            chunks.append(ring._copy_out(n))
            got += n
        return b"".join(chunks)

    def close(self):
        self.mem.close()
        os.close(self.memfd)
        os.close(self.eventfd)
