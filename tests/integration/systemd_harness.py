"""Helpers for the systemd and configuration tests (Python standard library only).

NotifySocket stands in for systemd's notification socket: a datagram socket
whose messages (READY=1, STATUS=..., WATCHDOG=1, ...) a thread collects.
Daemon is harness.Daemon with a configuration file of its own, a
NOTIFY_SOCKET, and two ways to start: directly, or through
systemd-socket-activate, which passes the listening socket as systemd does.
"""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import traceback

import harness
from harness import Conn, Failure

SOCKET_ACTIVATE = shutil.which("systemd-socket-activate")
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")

# How long to wait for something the daemon must do; only a limit for
# failing, never a measurement.
TIMEOUT = 30


class NotifySocket:
    """A datagram socket collecting sd_notify() messages."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []  # each a dict of the datagram's VAR=value lines
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            fields = {}
            for line in data.decode(errors="replace").split("\n"):
                if "=" in line:
                    key, value = line.split("=", 1)
                    fields[key] = value
            with self.cond:
                self.messages.append(fields)
                self.cond.notify_all()

    def close(self):
        self.sock.close()

    def count(self):
        with self.cond:
            return len(self.messages)

    def wait_for(self, pred, start=0, what="a notification"):
        """Returns (index, message) of the first message at or after start
        for which pred is true, waiting for it to arrive."""
        deadline = time.time() + TIMEOUT
        with self.cond:
            while True:
                for i in range(start, len(self.messages)):
                    if pred(self.messages[i]):
                        return i, self.messages[i]
                left = deadline - time.time()
                if left <= 0:
                    raise Failure("no %s among the notifications: %r" % (what, self.messages))
                self.cond.wait(left)

    def wait_key(self, key, value=None, start=0):
        return self.wait_for(lambda m: key in m and (value is None or m[key] == value),
                             start, "%s=%s" % (key, value if value is not None else "…"))

    def snapshot(self):
        with self.cond:
            return list(self.messages)


class Daemon(harness.Daemon):
    """An sddaemon with a configuration file and a notification socket."""

    def __init__(self, config=None, args=(), env=None, watchdog_usec=None, verbose=True,
                 name="sdd-sys", **kw):
        super().__init__(args=args, env=env, name=name, **kw)
        self.config = os.path.join(self.dir, "sddaemon.conf")
        self.write_config(config or "")
        self.notify = NotifySocket(os.path.join(self.dir, "notify"))
        self.env["NOTIFY_SOCKET"] = self.notify.path
        self.env.pop("WATCHDOG_USEC", None)
        self.env.pop("WATCHDOG_PID", None)
        self.env.pop("LISTEN_FDS", None)
        self.env.pop("JOURNAL_STREAM", None)
        if watchdog_usec:
            self.env["WATCHDOG_USEC"] = str(watchdog_usec)
        self.verbose = verbose
        self.activated = False

    def write_config(self, text):
        with open(self.config, "w") as f:
            f.write(text)

    def command(self):
        cmd = [harness.SDDAEMON, "--config", self.config]
        if self.verbose:
            cmd.append("-v")
        return cmd + self.args

    def start(self):
        """Starts the daemon on its own socket and waits for READY=1."""
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command() + ["--socket", self.socket], env=self.env,
                                     stdout=self.log, stderr=self.log)
        self.wait_ready()
        return self

    def start_activated(self, extra_listen=(), datagram=False):
        """Starts the daemon through systemd-socket-activate, which execs it
        (same pid) at the first connection on the socket it passes."""
        self.activated = True
        self.log = open(self.log_path, "ab")
        cmd = [SOCKET_ACTIVATE]
        if datagram:
            cmd.append("--datagram")
        cmd += ["-l", self.socket]
        for path in extra_listen:
            cmd += ["-l", path]
        # systemd-socket-activate passes on only the variables given with -E.
        for key, value in sorted(self.env.items()):
            cmd += ["-E", "%s=%s" % (key, value)]
        self.proc = subprocess.Popen(cmd + self.command(), env=self.env,
                                     stdout=self.log, stderr=self.log)
        deadline = time.time() + TIMEOUT
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.time() > deadline:
                raise Failure("systemd-socket-activate did not listen:\n" + self.read_log())
            time.sleep(0.01)
        return self

    def connect(self, timeout=10):
        """Connects; systemd-socket-activate binds the socket (the file
        appears) a moment before it listens, so a refused connection is
        tried again for a while."""
        deadline = time.time() + TIMEOUT
        while True:
            try:
                return super().connect(timeout)
            except ConnectionRefusedError:
                if not self.activated or time.time() > deadline:
                    raise
                time.sleep(0.01)

    def wait_ready(self, start=0):
        deadline = time.time() + TIMEOUT
        while True:
            for i, m in enumerate(self.notify.snapshot()[start:], start):
                if m.get("READY") == "1":
                    return i, m
            if self.proc.poll() is not None:
                raise Failure("sddaemon exited at start with %s:\n%s"
                              % (self.proc.returncode, self.read_log()))
            if time.time() > deadline:
                raise Failure("sddaemon did not send READY=1:\n" + self.read_log())
            time.sleep(0.01)

    def reload(self):
        """Sends SIGHUP and waits for RELOADING=1 and the READY=1 after it."""
        n = self.notify.count()
        self.proc.send_signal(signal.SIGHUP)
        i, _ = self.notify.wait_key("RELOADING", "1", start=n)
        self.notify.wait_key("READY", "1", start=i + 1)

    def wait_exit(self):
        try:
            return self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure("sddaemon did not exit:\n" + self.read_log())

    def wait_log(self, text):
        """Waits until the log contains text (the daemon writes each line at once)."""
        deadline = time.time() + TIMEOUT
        while text not in self.read_log():
            if time.time() > deadline:
                raise Failure("the log never said %r:\n%s" % (text, self.read_log()))
            time.sleep(0.01)

    def cleanup(self):
        super().cleanup()
        self.notify.close()


def expect_refused(conn, code):
    """Reads the single error line of a refused connection and its end."""
    msg = conn.read_message()
    if msg is None:
        raise Failure("the connection closed without an error line")
    harness.check_eq(msg.get("id", "missing"), None, "a refusal has a null id")
    harness.check_eq(msg.get("ok"), False, "a refusal is an error")
    harness.check_eq(msg["error"]["code"], code, "refusal code")
    harness.check(conn.read_message() is None, "the connection is closed after the refusal")
    return msg["error"]


class Skip(Exception):
    """Raised by a test that cannot run here; reported as a TAP skip."""


def skip_unless(tool, name):
    if not tool:
        raise Skip("%s is not installed; install it (Debian: systemd) to run this test" % name)


def known_bug(reason):
    """Marks a test of a known bug outside this test's reach: it is reported
    as skipped with the reason (not run, because the bug makes it fail only
    sometimes).  Remove the mark with the fix."""
    def mark(fn):
        def skipped():
            raise Skip("known bug: " + reason)
        skipped.__name__ = fn.__name__
        skipped.test_body = fn
        return skipped
    return mark


def run_tests(tests):
    """Runs the test functions, printing TAP; returns 1 if any failed.
    A test that raises Skip is reported as skipped, with the reason."""
    failed = 0
    print("1..%d" % len(tests), flush=True)
    for n, fn in enumerate(tests, 1):
        start = time.time()
        try:
            fn()
            print("ok %d - %s (%.2fs)" % (n, fn.__name__, time.time() - start), flush=True)
        except Skip as e:
            print("ok %d - %s # SKIP %s" % (n, fn.__name__, e), flush=True)
        except Exception:  # noqa: BLE001 - every failure is reported the same way
            failed += 1
            print("not ok %d - %s" % (n, fn.__name__), flush=True)
            for line in traceback.format_exc().splitlines():
                print("# " + line)
    return 1 if failed else 0
