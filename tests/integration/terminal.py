"""Running a program on a pseudo-terminal of a given size, as a user at a
terminal runs sdctl, and reading the live status line it draws there."""

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time

from harness import check

ERASE = "\x1b[K"


def run_on_pty(argv, env, cols=80, rows=24, on=("stdout",), stdin=subprocess.DEVNULL,
               timeout=30, keys=None):
    """Runs argv with the streams named in `on` ("stdout", "stderr", "stdin")
    on a pty of cols x rows; returns (exit status, what the pty showed as
    text, the other stream's bytes).  keys = (seconds, bytes) types bytes on
    the terminal after that many seconds (stdin is then the terminal)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    out = slave if "stdout" in on else subprocess.PIPE
    err = slave if "stderr" in on else subprocess.PIPE
    if keys or "stdin" in on:
        stdin = slave
    p = subprocess.Popen(argv, env=env, stdin=stdin, stdout=out, stderr=err)
    typed_at = time.time() + keys[0] if keys else None
    os.close(slave)
    other = p.stdout if out == subprocess.PIPE else p.stderr
    data, rest = b"", b""
    fds = [master] + ([other.fileno()] if other else [])
    try:
        deadline = time.time() + timeout
        while fds and time.time() < deadline:
            if typed_at and time.time() >= typed_at:
                os.write(master, keys[1])
                typed_at = None
            r, _, _ = select.select(fds, [], [], 0.1)
            if not r:
                if p.poll() is not None and master not in fds:
                    break
                continue
            for fd in r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: the other side of the pty closed
                    chunk = b""
                if not chunk:
                    fds.remove(fd)
                elif fd == master:
                    data += chunk
                else:
                    rest += chunk
        p.wait(timeout)
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
            p.wait()
    return p.returncode, data.decode(errors="replace"), rest


def redraws(text):
    """The status lines drawn in place: what lies between carriage returns,
    without the erase at each end, leaving out lines ended by a newline
    that are not redraws (messages)."""
    lines = []
    for part in text.replace("\r\n", "\n").split("\r"):
        part = part.split("\n")[0]
        if part.endswith(ERASE):
            lines.append(part[:-len(ERASE)])
    return lines


def check_fits(lines, cols, what):
    """Every line is narrower than the terminal, so the cursor never wraps."""
    check(lines, "%s: a status line was drawn" % what)
    for line in lines:
        visible = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", line)
        check(len(visible) <= cols - 1, "%s: a line of %d columns on a terminal of %d: %r"
              % (what, len(visible), cols, visible))
