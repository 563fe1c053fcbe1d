"""sddaemon's PortAudio library (client/portaudio/) against PortAudio itself.

The PortAudio programs of tests/portaudio/, built against the system's
libportaudio, run twice on the same virtual ALSA devices: on PortAudio
directly, and through the library with `sdctl run`.  Their device lists,
format checks and state transcripts must be the same, and what they play
must reach the tap as the same samples: byte for byte with exclusive
streams, exactly through float32 (the shared mix) otherwise.  Also
Debian's PyAudio through the library, the library without a daemon, and
`sdctl run` itself.

These devices are not paced: what a stream plays may reach the tap with
silence between blocks (the device outruns the program), so taps are
compared without their silent frames; every frame of the test signal has
a sound.  Recording, duplex streams and two programs at once are tested
in real time on jackd (test_portaudio_jack.py).
"""

import ctypes
import os
import subprocess
import sys
import time

from harness import (SDCTL, SDDAEMON, Daemon, Failure, check, check_eq, command, run_tests,
                     scaled, to_float32)
from portaudio_harness import (LIBDIR, SIZE, both, direct, keep_our_library_away, library_env,
                               lines_equal, ours, program, sanitizer_runtimes, signal,
                               silent_frame, through, wait_idle)

D = None
RATE = 48000

# Every symbol PortAudio 19.6's libportaudio.so.2 exports.
PORTAUDIO_SYMBOLS = """
PaAlsa_EnableRealtimeScheduling PaAlsa_GetStreamInputCard PaAlsa_GetStreamOutputCard
PaAlsa_Initialize PaAlsa_InitializeStreamInfo PaAlsa_SetLibraryPathName PaAlsa_SetNumPeriods
PaAlsa_SetRetriesBusy PaJack_GetClientName PaJack_Initialize PaJack_SetClientName
PaOSS_GetStreamInputDevice PaOSS_GetStreamOutputDevice PaOSS_Initialize Pa_AbortStream
Pa_CloseStream Pa_GetDefaultHostApi Pa_GetDefaultInputDevice Pa_GetDefaultOutputDevice
Pa_GetDeviceCount Pa_GetDeviceInfo Pa_GetErrorText Pa_GetHostApiCount Pa_GetHostApiInfo
Pa_GetLastHostErrorInfo Pa_GetSampleSize Pa_GetStreamCpuLoad Pa_GetStreamHostApiType
Pa_GetStreamInfo Pa_GetStreamReadAvailable Pa_GetStreamTime Pa_GetStreamWriteAvailable
Pa_GetVersion Pa_GetVersionInfo Pa_GetVersionText Pa_HostApiDeviceIndexToDeviceIndex
Pa_HostApiTypeIdToHostApiIndex Pa_Initialize Pa_IsFormatSupported Pa_IsStreamActive
Pa_IsStreamStopped Pa_OpenDefaultStream Pa_OpenStream Pa_ReadStream
Pa_SetStreamFinishedCallback Pa_Sleep Pa_StartStream Pa_StopStream Pa_Terminate Pa_WriteStream
""".split()


def without_silence(buf, frame_bytes, silent):
    return b"".join(buf[i:i + frame_bytes] for i in range(0, len(buf) - frame_bytes + 1, frame_bytes)
                    if buf[i:i + frame_bytes] != silent)


def tap(name="out.raw"):
    wait_idle(D)
    return D.read_file(name)


def check_tap(buf, data, fmt, channels, what):
    """Every frame of data is in the tap, in order, with only silence around and between."""
    fb = SIZE[fmt] * channels
    check_eq(len(buf) % fb, 0, "%s: the tap holds whole frames" % what)
    got = without_silence(buf, fb, silent_frame(fmt, channels))
    if got != data:
        n = min(len(got), len(data))
        first = next((i for i in range(n) if got[i] != data[i]), n)
        raise Failure("%s: the tap without silence is not the signal (%d of %d bytes, "
                             "first difference at byte %d)" % (what, len(got), len(data), first))


def shared_form(data, fmt, channels):
    """What a shared stream of data reaches the tap as: float32; the device
    stream has two channels at least, and a mono stream plays on the first
    (as PortAudio leaves a device's channels beyond the stream's silent)."""
    f = to_float32(fmt, data)
    if channels == 1:
        f = b"".join(f[i:i + 4] + bytes(4) for i in range(0, len(f), 4))
    return f, max(channels, 2)


# ---- What PortAudio says of the machine ----------------------------------------------


def latencies_within(a, b, tolerance):
    """a and b (pa-list's output) with the latencies of b's device lines
    replaced by a's where they differ by at most tolerance seconds."""
    out = []
    for la, lb in zip(a.splitlines(), b.splitlines()):
        if "latency" in la and "latency" in lb:
            pa, pb = la.split("latency ", 1), lb.split("latency ", 1)
            va, vb = pa[1].split(",")[0].split(), pb[1].split(",")[0].split()
            if len(va) == len(vb) and all(abs(float(x) - float(y)) <= tolerance
                                          for x, y in zip(va, vb)):
                lb = pb[0] + "latency " + " ".join(va) + "," + pb[1].split(",", 1)[1]
        out.append(lb)
    out += b.splitlines()[len(out):]
    return a, "\n".join(out) + "\n"


def test_symbols():
    """The library exports every function of PortAudio 19.6's libportaudio.so.2
    (ctypes finds each), under the soname libportaudio.so.2."""
    if sanitizer_runtimes():
        print("# SKIP a sanitizer's build: this Python has not loaded its runtime")
        return
    lib = ctypes.CDLL(os.path.join(LIBDIR, "libportaudio.so.2"))
    missing = [s for s in PORTAUDIO_SYMBOLS if not hasattr(lib, s)]
    check_eq(missing, [], "PortAudio's functions missing from the library")
    check(not hasattr(lib, "sdc_connect"), "libsdc's functions are not exported")


def test_device_list():
    """pa-list: host APIs, devices, defaults, sample sizes and error texts are PortAudio's."""
    a, b = both(D, "pa-list")
    check("t_out" in b and "t_duplex" in b, "the virtual devices are listed")
    # A device's default latencies come from periods that alsa-lib's file
    # plugin chooses partly from uninitialised memory (valgrind shows it):
    # a sanitizer's allocator in the daemon moves them by a frame or two.
    a, b = latencies_within(a, b, 2 / 44100)
    lines_equal(a, b, "pa-list")


def test_format_matrix():
    """pa-formats: Pa_IsFormatSupported() over formats, channels and rates of
    three devices in both directions, and its refusals, answer as PortAudio."""
    if sanitizer_runtimes():
        # The daemon's PortAudio takes a second a check under a sanitizer.
        a, b = both(D, "pa-formats", "--quick", "t_out", timeout=300)
    else:
        a, b = both(D, "pa-formats", "t_out", "t_in", "t_duplex")
        check(b.count("\n") > 1500, "the whole matrix ran (%d lines)" % b.count("\n"))
    lines_equal(a, b, "pa-formats")


def test_stream_behaviour():
    """pa-behaviour: a stream's states, the finished callback at each step, and
    the errors of calls that do not fit, as PortAudio answers them."""
    a, b = both(D, "pa-behaviour", "t_out", "t_in")
    lines_equal(a, b, "pa-behaviour")
    check("finished callbacks: 4" in b and "callbacks flagged priming output: 0" in b,
          "the transcript ran to the end")


# ---- Playback: the same samples in the tap ----------------------------------------------

PLAY_CASES = [
    # format, channels, frames, mode, extra arguments
    ("float32", 2, 24000, "callback", ["--fpb", "256"]),
    ("int16", 2, 24000, "callback", []),
    ("int24", 2, 12000, "blocking", ["--fpb", "480"]),
    ("int32", 2, 12000, "blocking", []),
    ("int8", 1, 12000, "callback", ["--fpb", "100"]),
    ("uint8", 3, 12000, "blocking", ["--fpb", "333"]),
    ("int16", 2, 12000, "callback", ["--planar", "--fpb", "512"]),
    ("float32", 2, 12000, "blocking", ["--planar"]),
    ("int16", 128, 2000, "blocking", ["--fpb", "500"]),  # all the channels t_out has
]


def play_both(fmt, channels, frames, mode, extra, exclusive):
    args = ["t_out", fmt, channels, frames, mode] + extra
    direct_out = direct(D, "pa-play", *args)
    check_eq(direct_out[0], 0, "pa-play %s on PortAudio (stderr %r)" % (args, direct_out[2][-1000:]))
    direct_tap = tap()
    our = ours(D, "pa-play", *args, exclusive=exclusive)
    check_eq(our[0], 0, "pa-play %s through sddaemon (stderr %r)" % (args, our[2][-1000:]))
    our_tap = tap()
    finished = "finished 1" if mode == "callback" else "finished 0"
    for out in (direct_out[1], our[1]):
        check_eq(out.strip(), "played %d frames, %s, priming 0" % (frames, finished),
                 "what pa-play %s says" % args)
    return direct_tap, our_tap


def test_play_shared_exact_through_float32():
    """pa-play, callback and blocking, every format, interleaved and not: what
    PortAudio writes to the tap in the stream's format, the shared stream
    writes as the same samples in float32."""
    for fmt, channels, frames, mode, extra in PLAY_CASES:
        what = "%s %d ch %s %s" % (fmt, channels, mode, " ".join(extra))
        data = signal(fmt, channels, frames)
        direct_tap, our_tap = play_both(fmt, channels, frames, mode, extra, exclusive=False)
        check_tap(direct_tap, data, fmt, channels, "PortAudio, " + what)
        f, ch = shared_form(data, fmt, channels)
        check_tap(our_tap, f, "float32", ch, "sddaemon shared, " + what)


def test_play_exclusive_byte_identical():
    """With SDDAEMON_PORTAUDIO_EXCLUSIVE (sdctl run --exclusive) the tap holds
    the very bytes PortAudio's does, in the stream's own format."""
    for fmt, channels, frames, mode, extra in PLAY_CASES[:6]:
        what = "%s %d ch %s %s" % (fmt, channels, mode, " ".join(extra))
        data = signal(fmt, channels, frames)
        direct_tap, our_tap = play_both(fmt, channels, frames, mode, extra, exclusive=True)
        fb = SIZE[fmt] * channels
        silent = silent_frame(fmt, channels)
        check_tap(direct_tap, data, fmt, channels, "PortAudio, " + what)
        check_eq(without_silence(our_tap, fb, silent), without_silence(direct_tap, fb, silent),
                 "exclusive, " + what + ": the taps' sounds are byte-identical")


# ---- PyAudio, a real PortAudio program ------------------------------------------------------

PYAUDIO_PLAY = r"""
import sys, pyaudio
data = open(sys.argv[1], "rb").read()
p = pyaudio.PyAudio()
dev = next(i for i in range(p.get_device_count())
           if p.get_device_info_by_index(i)["name"] == "t_out")
s = p.open(format=pyaudio.paInt16, channels=2, rate=48000, output=True,
           output_device_index=dev, frames_per_buffer=512)
for i in range(0, len(data), 4096):
    s.write(data[i:i + 4096])
s.stop_stream()
s.close()
print(p.get_default_output_device_info()["name"], p.get_host_api_count(),
      pyaudio.get_portaudio_version_text())
p.terminate()
"""

PYAUDIO_CALLBACK = r"""
import sys, time, pyaudio
data = open(sys.argv[1], "rb").read()
pos = [0]
def cb(in_data, frames, time_info, status):
    chunk = data[pos[0]:pos[0] + frames * 4]
    pos[0] += len(chunk)
    chunk += bytes(frames * 4 - len(chunk))
    return chunk, pyaudio.paContinue if pos[0] < len(data) else pyaudio.paComplete
p = pyaudio.PyAudio()
dev = next(i for i in range(p.get_device_count())
           if p.get_device_info_by_index(i)["name"] == "t_out")
s = p.open(format=pyaudio.paInt16, channels=2, rate=48000, output=True,
           output_device_index=dev, stream_callback=cb)
while s.is_active():
    time.sleep(0.01)
s.close()
p.terminate()
print("played", pos[0] // 4)
"""


# Debian's PyAudio is for Debian's python3, which may not be the one running the tests.
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def have_pyaudio():
    return subprocess.run([PYTHON, "-c", "import pyaudio"], capture_output=True).returncode == 0


def run_python(script, *args):
    path = D.path("script.py")
    with open(path, "w") as f:
        f.write(script)
    st, out, err = through(D, [PYTHON, path] + list(args), timeout=120, python=True)
    check_eq(st, 0, "python through sdctl run: exit status (stderr %r)" % err[-2000:])
    return out


def test_pyaudio_plays_through_the_library():
    """Debian's python3-pyaudio (PortAudio's C API from Python) plays int16 with
    blocking writes and from a callback through the library: the tap holds
    the sound, and PyAudio sees the daemon's devices and our version text."""
    if not have_pyaudio():
        print("# SKIP python3-pyaudio is not installed")
        return
    data = signal("int16", 2, 24000, seed=7)
    with open(D.path("pyaudio.raw"), "wb") as f:
        f.write(data)
    wait_idle(D)
    out = run_python(PYAUDIO_PLAY, D.path("pyaudio.raw"))
    check("sddaemon" in out, "PyAudio reports the library's version text: %r" % out)
    f, ch = shared_form(data, "int16", 2)
    check_tap(tap(), f, "float32", ch, "PyAudio's blocking writes")
    out = run_python(PYAUDIO_CALLBACK, D.path("pyaudio.raw"))
    check_eq(out.strip(), "played 24000", "PyAudio's callback played everything")
    check_tap(tap(), f, "float32", ch, "PyAudio's callback stream")


# ---- Without a daemon --------------------------------------------------------------------

NO_DAEMON = r"""
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
class Info(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("code", ctypes.c_long), ("text", ctypes.c_char_p)]
lib.Pa_GetErrorText.restype = ctypes.c_char_p
lib.Pa_GetLastHostErrorInfo.restype = ctypes.POINTER(Info)
e = lib.Pa_Initialize()
print(e, lib.Pa_GetErrorText(e).decode())
print(lib.Pa_GetLastHostErrorInfo().contents.text.decode())
print(lib.Pa_GetDeviceCount(), lib.Pa_Terminate())
"""


def test_no_daemon():
    """With no daemon at the socket, Pa_Initialize() fails at once with
    paUnanticipatedHostError, the host error text and standard error say
    why, nothing hangs; PyAudio's constructor raises; sdctl run refuses
    before starting the program."""
    env = dict(D.env, SDDAEMON_SOCKET=D.path("nobody-here"))
    st, out, err = D.sdctl("--socket", D.path("nobody-here"), "run", "--library-dir", LIBDIR,
                           "--", "touch", D.path("ran"))
    check(st == 1 and "nobody-here" in err and not os.path.exists(D.path("ran")),
          "sdctl run without a daemon: status %d, %r" % (st, err))
    p = subprocess.run([program("pa-list")], env=library_env(dict(env, LD_LIBRARY_PATH=LIBDIR)),
                       capture_output=True, timeout=scaled(30))
    check(p.returncode == 1 and b"Unanticipated host error" in p.stderr and
          b"nobody-here" in p.stderr, "a C program: %r" % p.stderr[-500:])
    path = D.path("nodaemon.py")
    with open(path, "w") as f:
        f.write(NO_DAEMON)
    start = time.time()
    p = subprocess.run([PYTHON, path, os.path.join(LIBDIR, "libportaudio.so.2")],
                       env=library_env(env, python=True), capture_output=True,
                       timeout=scaled(30))
    out, err = p.stdout.decode(), p.stderr.decode()
    lines = out.splitlines()
    check_eq(p.returncode, 0, "the ctypes program ran (stderr %r)" % err)
    check_eq(lines[0], "-9999 Unanticipated host error", "Pa_Initialize()'s error")
    check("nobody-here" in lines[1] and "sddaemon" in lines[1],
          "the host error text names the socket and the daemon: %r" % lines[1])
    check_eq(lines[2], "-10000 -10000", "not initialised afterwards (device count, terminate)")
    check("nobody-here" in err, "standard error says why: %r" % err)
    check(time.time() - start < scaled(20), "it did not hang")
    if have_pyaudio():
        p = subprocess.run([PYTHON, "-c", "import pyaudio; pyaudio.PyAudio()"],
                           env=library_env(dict(env, LD_LIBRARY_PATH=LIBDIR), python=True),
                           capture_output=True, timeout=scaled(30))
        check(p.returncode != 0 and b"Unanticipated host error" in p.stderr,
              "PyAudio's constructor raises (stderr %r)" % p.stderr[-500:])


def test_daemon_refuses_our_library():
    """A daemon that finds our library first in LD_LIBRARY_PATH (it has
    PortAudio's name) would be its own client: it exits at once, saying
    why, instead of hanging on its own socket."""
    env = library_env(dict(D.env, LD_LIBRARY_PATH=LIBDIR))
    start = time.time()
    p = subprocess.run(command(SDDAEMON, "--socket", D.path("self.sock")), env=env,
                       capture_output=True, timeout=scaled(30))
    err = p.stderr.decode(errors="replace")
    check(p.returncode != 0, "sddaemon exits with an error (status %d)" % p.returncode)
    check("compatibility library" in err and "LD_LIBRARY_PATH" in err,
          "it says why: %r" % err[-500:])
    check(not os.path.exists(D.path("self.sock")), "it never listened")
    check(time.time() - start < scaled(20), "it did not hang")


# ---- sdctl run ------------------------------------------------------------------------------

def test_sdctl_run():
    """sdctl run hands on the socket it found (an absolute path), puts the
    library first in LD_LIBRARY_PATH, says so with -v, sets the exclusive
    variable with --exclusive, passes the program's exit status on, and
    reports a program it cannot run with the shell's statuses."""
    script = "import os; print(os.environ['SDDAEMON_SOCKET']); " \
             "print(os.environ['LD_LIBRARY_PATH']); " \
             "print(os.environ.get('SDDAEMON_PORTAUDIO_EXCLUSIVE')); raise SystemExit(7)"
    env = library_env(dict(D.env, LD_LIBRARY_PATH="/somewhere"), python=True)
    p = subprocess.run(command(SDCTL, "--socket", os.path.relpath(D.socket), "run", "-v", "--exclusive",
                               "--library-dir", LIBDIR, "--", sys.executable, "-c", script),
                       env=env, capture_output=True, timeout=scaled(30))
    out, err = p.stdout.decode().splitlines(), p.stderr.decode()
    check_eq(p.returncode, 7, "the program's exit status (stderr %r)" % err)
    check_eq(len(out), 3, "the program's output: %r" % out)
    check_eq(out[0], os.path.realpath(D.socket), "the socket it got")
    # (valgrind, under which sdctl may run, appends a folder of its own.)
    check(out[1].startswith(os.path.realpath(LIBDIR) + ":/somewhere"),
          "the library's folder comes first in LD_LIBRARY_PATH: %r" % out[1])
    check_eq(out[2], "1", "the exclusive variable")
    check("SDDAEMON_SOCKET=" + os.path.realpath(D.socket) in err and "LD_LIBRARY_PATH=" in err,
          "-v says what was set: %r" % err)
    st, _, err = D.sdctl("run", "--library-dir", LIBDIR, "--", D.path("no-such-program"))
    check(st == 127 and "no-such-program" in err, "a missing program: %d %r" % (st, err))
    st, _, err = D.sdctl("run", "--library-dir", D.path("no-such-folder"), "--", "true")
    check(st == 1 and "no-such-folder" in err, "a missing library: %d %r" % (st, err))
    st, _, err = D.sdctl("run")
    check_eq(st, 2, "no program: a usage error (%r)" % err)


def main():
    global D
    if not os.path.isdir(LIBDIR):
        print("Bail out! $SDD_PORTAUDIO_LIBDIR is not set")
        return 1
    keep_our_library_away()
    D = Daemon(name="portaudio", args=["--device-idle-time", "0.05"])
    try:
        D.start()
        return run_tests([test_symbols, test_device_list, test_format_matrix,
                          test_stream_behaviour, test_play_shared_exact_through_float32,
                          test_play_exclusive_byte_identical, test_pyaudio_plays_through_the_library,
                          test_no_daemon, test_daemon_refuses_our_library, test_sdctl_run], D)
    finally:
        D.cleanup()


if __name__ == "__main__":
    sys.exit(main())
