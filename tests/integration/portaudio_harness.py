"""What the PortAudio tests share: running a PortAudio program of
tests/portaudio/ twice — on the system's PortAudio ("direct") and through
sddaemon's library with `sdctl run` ("ours") — on the same virtual devices,
and the test signal those programs play (tests/portaudio/pa-test.h),
computed independently here."""

import os
import re
import struct
import subprocess

from harness import SDCTL, Failure, check_eq, command, scaled

PROGRAMS = os.environ.get("SDD_PORTAUDIO_PROGRAMS", "")
LIBDIR = os.environ.get("SDD_PORTAUDIO_LIBDIR", "")



def keep_our_library_away():
    """meson puts the folder of every library a test depends on into
    LD_LIBRARY_PATH; the daemon and the direct runs must load the system's
    PortAudio, not ours.  Call before starting the daemon."""
    dirs = os.environ.get("LD_LIBRARY_PATH", "").split(":")
    keep = [x for x in dirs if x and os.path.realpath(x) != os.path.realpath(LIBDIR)]
    os.environ["LD_LIBRARY_PATH"] = ":".join(keep)


def sanitizer_runtimes():
    """The sanitizer runtimes the library was built with (paths), [] for
    none: a program built without them (the test programs, Python) loads the
    library only with them preloaded."""
    try:
        with open(os.path.join(LIBDIR, "libportaudio.so.2"), "rb") as f:
            data = f.read()
    except OSError:
        return []
    names = sorted(set(m.decode() for m in re.findall(rb"lib(?:asan|ubsan|tsan)\.so\.[0-9]+", data)))
    if not names:
        return []
    known = subprocess.run(["ldconfig", "-p"], capture_output=True).stdout.decode()
    paths = []
    for name in names:
        for line in known.splitlines():
            if line.strip().startswith(name + " ") and "=>" in line:
                paths.append(line.split("=>")[1].strip())
                break
    # ASan's runtime must come first.
    return sorted(paths, key=lambda p: "asan" not in p)


def library_env(env, python=False):
    """env for a program that loads the library: the sanitizer runtimes
    preloaded when it was built with them (Python's own leaks are not ours:
    leak checking is off for it)."""
    runtimes = sanitizer_runtimes()
    if runtimes:
        env = dict(env, LD_PRELOAD=":".join(runtimes + [env.get("LD_PRELOAD", "")]).rstrip(":"))
        if python:
            env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
    return env


PA_FORMATS = ["float32", "int32", "int24", "int16", "int8", "uint8"]
SIZE = {"float32": 4, "int32": 4, "int24": 3, "int16": 2, "int8": 1, "uint8": 1}


def program(name):
    return os.path.join(PROGRAMS, name)


def wait_idle(d):
    """Waits until the daemon has no device stream open: its taps are
    complete, and a direct program may open the same device."""
    conn = d.connect()
    d.wait_device_streams_closed(conn)
    conn.close()


def direct(d, name, *args, timeout=60, env=None):
    """Runs a test program on the system's PortAudio, on the daemon's devices
    (the daemon itself idle); returns (status, stdout, stderr)."""
    wait_idle(d)
    e = dict(d.env)
    e.pop("LD_LIBRARY_PATH", None)
    e.pop("SDDAEMON_SOCKET", None)
    if env:
        e.update(env)
    p = subprocess.run([program(name)] + [str(a) for a in args], env=e, capture_output=True,
                       timeout=scaled(timeout))
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def through(d, argv, timeout=60, exclusive=False, python=False, env=None, run_args=()):
    """Runs argv through sddaemon's PortAudio library with `sdctl run`;
    returns (status, stdout, stderr)."""
    e = dict(d.env)
    e.pop("SDDAEMON_SOCKET", None)
    if env:
        e.update(env)
    e = library_env(e, python)
    run = ["--socket", d.socket, "run", "--library-dir", LIBDIR] + list(run_args)
    if exclusive:
        run.append("--exclusive")
    full = command(SDCTL, *run) + ["--"] + [str(a) for a in argv]
    p = subprocess.run(full, env=e, capture_output=True, timeout=scaled(timeout))
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def ours(d, name, *args, timeout=60, exclusive=False, env=None, run_args=()):
    """Runs a test program through sddaemon's PortAudio library with `sdctl
    run`; returns (status, stdout, stderr)."""
    return through(d, [program(name)] + list(args), timeout=timeout, exclusive=exclusive,
                   env=env, run_args=run_args)


def both(d, name, *args, **kw):
    """Runs a program both ways; both must exit 0.  Returns (direct, ours) stdout."""
    r1 = direct(d, name, *args, **kw)
    check_eq(r1[0], 0, "%s %s on PortAudio: exit status (stderr %r)" % (name, args, r1[2][-2000:]))
    r2 = ours(d, name, *args, **kw)
    check_eq(r2[0], 0, "%s %s through sddaemon: exit status (stderr %r)"
             % (name, args, r2[2][-2000:]))
    return r1[1], r2[1]


def sample_bits(n, seed):
    """pt_sample_bits() of pa-test.h."""
    mask = (1 << 64) - 1
    x = ((n + 1) * 0x9E3779B97F4A7C15 & mask) ^ (seed * 0xBF58476D1CE4E5B9 & mask)
    x ^= x >> 31
    x = (x * 0x94D049BB133111EB) & mask
    x ^= x >> 29
    v = x & 0xFFFFFFFF
    if v >> 24 == 0:
        v |= 0x01000000
    return v


def put_sample(fmt, v):
    """pt_put_sample() of pa-test.h: the bytes of one sample."""
    s = v - (1 << 32) if v >= 1 << 31 else v
    if fmt == "float32":
        return struct.pack("<f", (s >> 8) / 16777216.0)
    if fmt == "int32":
        return struct.pack("<i", s)
    if fmt == "int24":
        return bytes(((v >> 8) & 0xFF, (v >> 16) & 0xFF, (v >> 24) & 0xFF))
    if fmt == "int16":
        return struct.pack("<h", s >> 16)
    if fmt == "int8":
        return bytes(((v >> 24) & 0xFF,))
    return bytes((((v >> 24) + 128) & 0xFF,))


def signal(fmt, channels, frames, seed=0, only=None):
    """The test signal, interleaved, as pa-play plays it (only: the one
    channel that is not silent)."""
    silent = b"\x80" if fmt == "uint8" else bytes(SIZE[fmt])
    out = bytearray()
    for n in range(frames * channels):
        if only is not None and n % channels != only:
            out += silent
        else:
            out += put_sample(fmt, sample_bits(n, seed))
    return bytes(out)


def silent_frame(fmt, channels):
    return (b"\x80" if fmt == "uint8" else bytes(SIZE[fmt])) * channels


def lines_equal(a, b, what):
    """Two programs' outputs, line by line; the first difference is reported."""
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            raise Failure("%s: line %d differs:\n  PortAudio: %s\n  sddaemon:  %s" % (what, i + 1, x, y))
    if len(la) != len(lb):
        raise Failure("%s: %d lines on PortAudio, %d through sddaemon" % (what, len(la), len(lb)))
