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
import shlex
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

# The valgrind stage of ./quickstart test sets these: a command (such as
# tools/valgrind-wrap) put before sddaemon, sdctl and the C test clients, and
# a factor by which the harness lengthens its own waits for programs that
# now run tens of times slower.
WRAPPER = shlex.split(os.environ.get("SDD_TEST_WRAPPER", ""))
TIME_SCALE = float(os.environ.get("SDD_TEST_TIME_SCALE", "1"))
# Whether the programs run under valgrind or a sanitizer (SDD_SANITIZE is
# set by meson for builds with -Db_sanitize), which own malloc and run
# alsa-lib's large buffer set-ups many times slower.
INSTRUMENTED = bool(WRAPPER) or os.environ.get("SDD_SANITIZE", "none") not in ("none", "")
# The daemon's own limit on a device stream's start (device_start_timeout)
# in such runs: a start that clears a virtual device's large buffers under
# ASan takes seconds, which must not pass for a lost device.
INSTRUMENTED_START_TIMEOUT = "60"


def command(program, *args):
    """The command line that runs program (sddaemon, sdctl, a C test client)
    with args: under SDD_TEST_WRAPPER when that is set."""
    return WRAPPER + [program] + [str(a) for a in args]


def scaled(seconds):
    """A wait of seconds, lengthened by SDD_TEST_TIME_SCALE."""
    return seconds * TIME_SCALE

# t_in's "file" is the copy of everything captured that the ALSA file plugin
# keeps: nobody reads it, and an unpaced capture left running writes it at
# hundreds of MB/s (it once filled the disk), so it goes to /dev/null.
# The "a52" PCM of libasound2-plugins links libavcodec, and with it a
# library whose constructor executes RDTSCP.  PortAudio opens every PCM it
# finds while it lists devices, and valgrind cannot run that instruction on
# a CPU that does not announce it (some cloud VMs): memcheck stops the
# process with SIGILL.  So the test devices replace "a52" by a PCM without a
# type, which opens no library and, as before on a machine without a sound
# card, is not listed.  The replacement must come from a hook that runs
# after alsa.conf's own (number 0), which loads alsa.conf.d over anything
# written here.
ASOUND_LATE_CONF = """\
pcm.!a52 { }
"""

ASOUND_CONF = """\
</usr/share/alsa/alsa.conf>
@hooks.1 {{ func load; files [ "{d}/late.conf" ]; errors false }}
pcm.t_null {{ type null; hint {{ show on; description "discard / no capture" }} }}
pcm.t_out {{ type file; slave.pcm "null"; format "raw"; file "{d}/out.raw"
            hint {{ show on; description "playback tap" }} }}
pcm.t_out2 {{ type file; slave.pcm "null"; format "raw"; file "{d}/out2.raw"
            hint {{ show on; description "second playback tap" }} }}
pcm.t_in {{ type file; slave.pcm "null"; format "raw"; file "/dev/null"; infile "{d}/in.raw"
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
        self.sock.settimeout(scaled(timeout))
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

    def event(self, name, timeout=10, **match):
        """Returns the next event called name whose members include match
        (one already read aside, or read now); other messages are kept aside."""
        deadline = time.time() + scaled(timeout)
        while True:
            for i, ev in enumerate(self.events):
                if ev.get("event") == name and all(ev.get(k) == v for k, v in match.items()):
                    return self.events.pop(i)
            left = deadline - time.time()
            if left <= 0:
                raise Failure("no %r event %r within %ss (have %r)"
                              % (name, match, timeout, self.events))
            old = self.sock.gettimeout()
            self.sock.settimeout(left)
            try:
                msg = self.read_message()
            except socket.timeout:
                continue
            finally:
                self.sock.settimeout(old)
            if msg is None:
                raise Failure("connection closed while waiting for a %r event" % name)
            self.events.append(msg)

    def call(self, cmd, **params):
        """Sends a request that must succeed; returns its result."""
        msg = self.request(cmd, **params)
        if not msg.get("ok"):
            raise Failure("%s failed: %s" % (cmd, msg.get("error")))
        return msg["result"]

    def device_list(self):
        """Returns (devices, host APIs) of one generation of the device list:
        the devices are asked for with the host APIs' generation, as a client
        must when a rescan may come between the two requests (asked again
        then)."""
        for _ in range(100):
            apis = self.request("query_hostapis")
            check(apis.get("ok"), "query_hostapis: %r" % apis)
            devs = self.request("query_devices", generation=apis["generation"])
            if devs.get("ok"):
                return devs["result"], apis["result"]
            check_eq(devs["error"]["code"], "stale_generation", "query_devices' error")
        raise Failure("the device list changed 100 times in a row")

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
        with open(os.path.join(self.dir, "late.conf"), "w") as f:
            f.write(ASOUND_LATE_CONF)
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
        self.preexec = None  # runs in the child before exec (e.g. to lower a limit)
        self.log_path = os.path.join(self.dir, "daemon.log")

    def start(self):
        self.log = open(self.log_path, "wb")
        slow = ["--device-start-timeout", INSTRUMENTED_START_TIMEOUT] if INSTRUMENTED else []
        self.proc = subprocess.Popen(command(SDDAEMON, "--socket", self.socket, "-v", *slow,
                                             *self.args),
                                     env=self.env, stdout=self.log, stderr=self.log,
                                     preexec_fn=self.preexec)
        deadline = time.time() + scaled(20)
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
        p = subprocess.run(command(SDCTL, *args), env=env, capture_output=True,
                           timeout=scaled(timeout))
        out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        if check_status is not None and p.returncode != check_status:
            raise Failure("sdctl %s exited %d, want %d\nstdout: %s\nstderr: %s"
                          % (" ".join(args), p.returncode, check_status, out, err))
        return p.returncode, out, err

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def path(self, name):
        """A file in the daemon's temporary folder (out.raw, out2.raw, in.raw)."""
        return os.path.join(self.dir, name)

    def read_file(self, name):
        with open(self.path(name), "rb") as f:
            return f.read()

    def write_input(self, data):
        """Replaces the capture source in.raw (read from its start by each new t_in stream)."""
        with open(self.path("in.raw"), "wb") as f:
            f.write(data)

    def wait_device_streams_closed(self, conn, timeout=20):
        """Waits until the daemon has no device stream open (after their idle close)."""
        deadline = time.time() + scaled(timeout)
        while True:
            open_ = conn.call("daemon_status")["device_streams"]
            if not open_:
                return
            if time.time() > deadline:
                raise Failure("device streams still open after %ss: %r" % (timeout, open_))
            time.sleep(0.02)

    def fd_count(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Stops the daemon and returns its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(scaled(timeout))
            except subprocess.TimeoutExpired:
                stacks = thread_stacks(self.proc.pid)
                self.proc.kill()
                self.proc.wait()
                raise Failure("sddaemon did not stop within %ds; its threads:\n%s\nits log "
                              "ends:\n%s" % (timeout, stacks, self.read_log()[-4000:]))
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


def thread_stacks(pid):
    """Where each thread of process pid is, as gdb sees it (for a failure
    message); under valgrind, its own gdb server is asked instead."""
    gdb = shutil.which("gdb")
    if gdb is None:
        return "(gdb is not installed)"
    if WRAPPER and "valgrind" in os.path.basename(WRAPPER[0]):
        attach = ["-ex", "target remote | vgdb --pid=%d" % pid]
    else:
        attach = ["-p", str(pid)]
    cmd = [gdb, "-batch", "-nx"] + attach + ["-ex", "thread apply all bt 30"]
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "(gdb failed: %r)" % e
    return p.stdout.decode(errors="replace")[-8000:]


def run_tests(tests, daemon=None):
    """Runs the given test functions, printing TAP; returns 1 if any failed.

    With daemon, a last test checks that it is still alive and stops cleanly
    (exit status 0 on SIGTERM).
    """
    if daemon is not None:
        def daemon_stops_cleanly():
            check(daemon.alive(), "sddaemon is still running:\n" + daemon.read_log())
            status = daemon.stop()
            check(status == 0, "sddaemon's exit status after SIGTERM: %r; its log ends:\n%s"
                  % (status, daemon.read_log()[-4000:]))
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


def run_client_program(d, program, env, timeout=240):
    """Runs a C test program of tests/clients/ against daemon d, its TAP
    passing through; returns its exit status, or 1 when the daemon did not
    survive it and stop cleanly (its log is then printed)."""
    p = subprocess.run(command(program), env=env, timeout=scaled(timeout))
    alive = d.alive()
    status = d.stop() if alive else None
    if not alive or status != 0:
        print("not ok - sddaemon survived and stopped cleanly (status %r)" % status)
        print("# " + d.read_log().replace("\n", "\n# "))
        return 1
    if p.returncode != 0:
        print("# sddaemon's log:\n# " + d.read_log()[-4000:].replace("\n", "\n# "))
    return p.returncode


# ---- jackd on the dummy backend ------------------------------------------------


def jackd_available():
    return shutil.which("jackd") is not None and shutil.which("jack_wait") is not None


class Jack:
    """A jackd of its own (dummy backend, 48 kHz, 256-frame periods), named
    per test; env() is what the daemon and the clients need to find it.
    Its output goes to log_path, or nowhere."""

    def __init__(self, name=None, rate=48000, period=256, log_path=None):
        self.name = name or "sddtest%d" % os.getpid()
        self.rate = rate
        self.period = period
        self.log_path = log_path
        self.proc = None

    def env(self):
        return {"JACK_DEFAULT_SERVER": self.name, "JACK_NO_START_SERVER": "1"}

    def start(self):
        """Starts jackd; returns once it runs (PortAudio lists its devices then).

        A jackd whose start hangs (jack_wait, which asks it whether it
        runs, got no answer in 30 s; seen once under ASan, right after a
        jackd of the same name was killed) is killed and started once more:
        that is JACK's trouble, not the daemon's under test."""
        try:
            return self._start()
        except subprocess.TimeoutExpired:
            print("# jackd %r did not answer jack_wait within 30 s: starting it again"
                  % self.name, flush=True)
            if self.proc is not None:
                self.proc.kill()
                self.proc.wait()
                self.proc = None
            return self._start()

    def _start(self):
        env = dict(os.environ)
        env.update(self.env())
        with open(self.log_path or os.devnull, "wb") as log:
            self.proc = subprocess.Popen(["jackd", "--no-realtime", "-n", self.name, "-d",
                                          "dummy", "-r", str(self.rate), "-p", str(self.period),
                                          "-C", "2", "-P", "2"],
                                         env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            if self.proc.poll() is not None:
                raise Failure("jackd exited at start with %s" % self.proc.returncode)
            r = subprocess.run(["jack_wait", "-c"], env=env, capture_output=True, timeout=30)
            if b"running" in r.stdout and b"not" not in r.stdout:
                return self
            if time.time() > deadline:
                self.stop()
                raise Failure("jackd %r did not come up: %r" % (self.name, r.stdout))
            time.sleep(0.1)

    def stop(self):
        """Stops it by its PID (SIGTERM, then SIGKILL after 20 s)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ---- Shared-memory streams (the layout is shmlayout.py's) ------------------------

import mmap

import shmlayout as shm
from shmlayout import (DTYPE_SIZE, DTYPES, HDR_STATE, R_EOF, R_READ, R_WAITING, R_WAKE,
                       R_WRITE, RING_IN, RING_OUT, STATES)


class Ring:
    """One ring of a stream's shared memory, driven from Python.

    The indices and flags are read and written as whole aligned 32-bit words
    (through a memoryview of machine words): struct.pack_into("<I") would
    store them a byte at a time, and the daemon could see a torn index — a
    protocol violation that the client never meant."""

    def __init__(self, mem, words, base, info):
        self.mem = mem
        self.words = words  # the memory as native uint32 (little-endian here, as shm.h assumes)
        self.base = base
        self.offset = info["offset"]
        self.capacity = info["capacity"]
        self.frame_bytes = info["frame_bytes"]
        geometry = tuple(words[(base + shm.RING.offset(m)) // 4]
                         for m in ("offset", "capacity", "frame_bytes", "channels", "dtype"))
        check_eq(geometry, (self.offset, self.capacity, self.frame_bytes, info["channels"],
                            DTYPES.index(info["dtype"])), "ring geometry")
        self.index = 0  # our own index (write for out, read for in)

    def _u32(self, off):
        return self.words[(self.base + off) // 4]

    def _set_u32(self, off, value):
        self.words[(self.base + off) // 4] = value & 0xFFFFFFFF

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
        check_eq(sys.byteorder, "little", "byte order of the rings")
        self.words = memoryview(self.mem).cast("I")
        self.dwords = memoryview(self.mem).cast("Q")
        header = tuple(self.words[shm.HEADER.offset(m) // 4]
                       for m in ("magic", "version", "header_bytes", "total_bytes", "handle"))
        check_eq(header, (shm.MAGIC, shm.VERSION, shm.HEADER.size, self.size, self.handle),
                 "shared memory header")
        self.out = Ring(self.mem, self.words, RING_OUT, result["out"]) if "out" in result else None
        self.inp = Ring(self.mem, self.words, RING_IN, result["in"]) if "in" in result else None

    def state(self):
        return STATES[self.words[HDR_STATE // 4]]

    def status(self):
        """The status line of the shared memory (what the daemon publishes there)."""
        status = shm.read_status(self.words, self.dwords)
        state = status["state"]
        status["state_name"] = STATES[state] if state < len(STATES) else state
        return status

    def wait_state(self, states, timeout=10):
        """Polls the shared state until it is one of states; returns it."""
        if isinstance(states, str):
            states = (states,)
        deadline = time.time() + scaled(timeout)
        while self.state() not in states:
            if time.time() > deadline:
                raise Failure("stream %d stayed %r, want %r" % (self.handle, self.state(), states))
            time.sleep(0.001)
        return self.state()

    def wait_event(self, timeout=5.0):
        """Sleeps on the eventfd until the daemon writes it (or timeout)."""
        r, _, _ = select.select([self.eventfd], [], [], timeout)
        if r:
            os.read(self.eventfd, 8)
        return bool(r)

    def write_some(self, data):
        """Writes what fits of data into the out ring now; returns the bytes written."""
        ring = self.out
        n = min(ring.space() * ring.frame_bytes, len(data) // ring.frame_bytes * ring.frame_bytes)
        if n:
            ring._copy_in(data[:n])
        return n

    def write_all(self, data, eof=True, timeout=30):
        """Writes all of data through the out ring, waiting for space."""
        ring = self.out
        pos = 0
        deadline = time.time() + scaled(timeout)
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
        deadline = time.time() + scaled(timeout)
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

    def read_until_end(self, timeout=30):
        """Reads the in ring until the stream has ended and the ring is empty."""
        chunks = []
        deadline = time.time() + scaled(timeout)
        while True:
            over = self.state() in ("finished", "failed")
            fill = self.inp.fill()
            if fill:
                chunks.append(self.inp._copy_out(fill))
                continue
            if over:
                return b"".join(chunks)
            if time.time() > deadline:
                raise Failure("stream %d did not end within %ss" % (self.handle, timeout))
            self.inp._set_u32(R_WAKE, 1)
            self.inp._set_u32(R_WAITING, 1)
            if self.inp.fill() == 0:
                self.wait_event(0.05)

    def close(self):
        self.words.release()
        self.dwords.release()
        self.mem.close()
        os.close(self.memfd)
        os.close(self.eventfd)


# ---- Samples: the wire formats of protocol/sample.c, computed independently ----

_INT_BITS = {"int32": 32, "int24": 24, "int16": 16, "int8": 8, "uint8": 8}


def silence(dtype):
    """One silent sample: zero, or 128 for uint8."""
    return b"\x80" if dtype == "uint8" else bytes(DTYPE_SIZE[dtype])


def decode(dtype, data):
    """Returns the samples of data (bytes of dtype) as numbers (uint8 centred at 0)."""
    import array
    if dtype == "float32":
        return array.array("f", data).tolist()
    if dtype == "int32":
        return array.array("i", data).tolist()
    if dtype == "int16":
        return array.array("h", data).tolist()
    if dtype == "int8":
        return array.array("b", data).tolist()
    if dtype == "uint8":
        return [b - 128 for b in data]
    return [int.from_bytes(data[i:i + 3], "little", signed=True) for i in range(0, len(data), 3)]


def encode(dtype, values):
    """The inverse of decode()."""
    import array
    if dtype == "float32":
        return array.array("f", values).tobytes()
    if dtype == "int32":
        return array.array("i", values).tobytes()
    if dtype == "int16":
        return array.array("h", values).tobytes()
    if dtype == "int8":
        return array.array("b", values).tobytes()
    if dtype == "uint8":
        return bytes(v + 128 for v in values)
    return b"".join(v.to_bytes(3, "little", signed=True) for v in values)


def to_float32(dtype, data):
    """float32 bytes of data as a shared stream mixes it: integers scaled by 2^-(bits-1)."""
    import array
    if dtype == "float32":
        return bytes(data)
    scale = 1.0 / (1 << (_INT_BITS[dtype] - 1))
    # array("f") rounds each double to float32 to nearest, as C's (float) does.
    return array.array("f", (v * scale for v in decode(dtype, data))).tobytes()


def from_float32(dtype, data):
    """dtype bytes of float32 data as shared capture converts it: scaled by
    2^(bits-1), rounded to nearest (ties to even, as lrint), saturated."""
    if dtype == "float32":
        return bytes(data)
    bits = _INT_BITS[dtype]
    scale = float(1 << (bits - 1))
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    out = []
    for f in decode("float32", data):
        x = f * scale
        out.append(lo if x <= lo else hi if x >= hi else round(x))
    return encode(dtype, out)


def make_signal(dtype, frames, channels, seed, amplitude=1.0):
    """Deterministic pseudo-random samples of dtype, none of them silent (so
    that the data can be told from the silence around it in a tap)."""
    import random
    rng = random.Random(seed)
    if dtype == "float32":
        values = []
        for _ in range(frames * channels):
            v = rng.uniform(-amplitude, amplitude)
            values.append(v if abs(v) > 1e-3 else 0.5)
        return encode(dtype, values)
    bits = _INT_BITS[dtype]
    top = int(((1 << (bits - 1)) - 1) * amplitude)
    values = [rng.choice((-1, 1)) * rng.randint(1, top) for _ in range(frames * channels)]
    return encode(dtype, values)


def locate(buf, data, frame_bytes, silent_frame, what="data"):
    """Finds data in buf (a tap or a recording) and checks that everything
    around it is whole silent frames; returns data's offset in frames."""
    at = buf.find(data)
    if at < 0:
        raise Failure("%s (%d bytes) not found in %d bytes" % (what, len(data), len(buf)))
    check_eq(at % frame_bytes, 0, "%s starts on a frame boundary" % what)
    head, tail = buf[:at], buf[at + len(data):]
    check_eq(len(tail) % frame_bytes, 0, "%s: whole frames after it" % what)
    if head != silent_frame * (len(head) // frame_bytes):
        raise Failure("%s: the %d bytes before it are not all silence" % (what, len(head)))
    if tail != silent_frame * (len(tail) // frame_bytes):
        raise Failure("%s: the %d bytes after it are not all silence" % (what, len(tail)))
    return at // frame_bytes


def interleave(channels_data, sample_bytes):
    """Interleaves per-channel sample bytes (equal lengths) into frames."""
    n = len(channels_data[0]) // sample_bytes
    out = bytearray()
    for i in range(n):
        for ch in channels_data:
            out += ch[i * sample_bytes:(i + 1) * sample_bytes]
    return bytes(out)


def channel(data, index, channels, sample_bytes):
    """The samples of one channel (0-based) of interleaved data."""
    fb = channels * sample_bytes
    return b"".join(data[i + index * sample_bytes:i + (index + 1) * sample_bytes]
                    for i in range(0, len(data), fb))
