"""sdctl play, rec and playrec when the daemon goes away in the middle, on
jackd's dummy backend (so that a 30 s file takes 30 s): stopped with
SIGTERM or killed with SIGKILL, 1.5 s in.  sdctl must exit 1 with one line
on standard error that says what happened and how far it got, print a
failed result and the error (code disconnected) with --json, and rec and
playrec must keep every frame they recorded in a valid file.  Skipped without jackd.

jackd runs under one fixed name for this file (see
TESTING-WITHOUT-HARDWARE.md: a killed jackd leaks its registry slot unless
a server of the same name starts again); only daemons are killed here."""

import json
import os
import signal
import struct
import subprocess
import sys
import time

import harness
from harness import Daemon, Jack, check, check_eq, jackd_available, run_tests, scaled

JACK = None
RATE = 48000
SECONDS = 30


def start_daemon(name):
    d = Daemon(args=["--device-idle-time", "0"], name=name, env=JACK.env())
    d.start()
    return d


def long_file(d):
    """A raw float32 stereo file of SECONDS seconds."""
    path = d.path("long.raw")
    with open(path, "wb") as f:
        f.write(struct.pack("<ff", 0.1, -0.1) * RATE * SECONDS)
    return path


def run_until_lost(d, sig, *args):
    """Starts sdctl --json with args, lets its stream run 1.5 s, then stops
    (SIGTERM) or kills (SIGKILL) the daemon; returns sdctl's (status,
    stdout lines, stderr lines)."""
    env = dict(d.env, SDDAEMON_SOCKET=d.socket)
    p = subprocess.Popen(harness.command(harness.SDCTL, "--json", *args), env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    conn = d.connect()
    deadline = time.time() + scaled(20)
    while not conn.call("daemon_status")["streams"]:
        if p.poll() is not None:
            raise AssertionError("sdctl ended early: %r" % (p.communicate(),))
        check(time.time() < deadline, "sdctl's stream does not start")
        time.sleep(0.05)
    conn.close()
    time.sleep(1.5)
    d.proc.send_signal(sig)
    d.proc.wait(scaled(20))
    try:
        out, err = p.communicate(timeout=scaled(20))
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise AssertionError("sdctl %s hangs once the daemon is gone" % args[0])
    out = [line for line in out.decode(errors="replace").splitlines() if line]
    err = [line for line in err.decode(errors="replace").splitlines() if line]
    print("# sdctl %s, daemon %s: exit %d; %r; %r"
          % (args[0], signal.Signals(sig).name, p.returncode, err, out))
    return p.returncode, out, err


def reason(sig):
    return "sddaemon stopped" if sig == signal.SIGTERM else "sddaemon went away"


def json_lines(out):
    """The result and the error object that --json prints for a lost daemon."""
    check_eq(len(out), 2, "two JSON lines with --json (the result, the error)")
    result, error = (json.loads(line) for line in out)
    check_eq(result["state"], "failed", "the result's state")
    check_eq(error["error"]["code"], "disconnected", "the error's code")
    return result


def check_play(sig):
    d = start_daemon("gone-play")
    try:
        path = long_file(d)
        status, out, err = run_until_lost(d, sig, "play", "-d", "system", "--raw", "-r", RATE,
                                          "-c", 2, "-f", "float32", path)
        check_eq(status, 1, "exit status")
        check_eq(len(err), 1, "lines on standard error")
        check(err[0].startswith("sdctl: %s: %s; " % (path, reason(sig)))
              and err[0].endswith("of 30.0 s played"),
              "the line says what happened and how far it got: %r" % err[0])
        st = json_lines(out)
        check(RATE // 2 < st["frames_played"] < RATE * 10,
              "frames played as far as it got: %d" % st["frames_played"])
    finally:
        d.cleanup()


def test_play_daemon_stopped():
    """sdctl play, the daemon stopped (SIGTERM).  Before: exit 0, nothing printed."""
    check_play(signal.SIGTERM)


def test_play_daemon_killed():
    """sdctl play, the daemon killed (SIGKILL).  Before: exit 0, nothing printed."""
    check_play(signal.SIGKILL)


def wav_info(path):
    """(channels, rate, frames) of a WAV file, read from its chunks (the wave
    module knows integer samples only); fails unless the file is whole."""
    with open(path, "rb") as f:
        data = f.read()
    check(data[:4] == b"RIFF" and data[8:12] == b"WAVE", "a WAV file")
    check_eq(struct.unpack("<I", data[4:8])[0], len(data) - 8, "the RIFF size (a finished file)")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        tag, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if tag == b"fmt ":
            fmt = struct.unpack("<HHIIHH", data[pos + 8:pos + 24])
        elif tag == b"data":
            check(fmt is not None and pos + 8 + size <= len(data), "the data chunk is whole")
            return fmt[1], fmt[2], size // fmt[4]
        pos += 8 + size + (size & 1)
    raise AssertionError("no data chunk in %s" % path)


def check_recording(path, printed):
    """The file is a valid WAV with the frames sdctl says it recorded."""
    channels, rate, frames = wav_info(path)
    check_eq((channels, rate), (2, RATE), "the recording's format")
    check(frames > RATE // 2, "more than 0.5 s recorded: %d frames" % frames)
    check_eq(frames, printed, "frames in the file and as printed")
    return frames


def check_rec(sig):
    d = start_daemon("gone-rec")
    try:
        path = d.path("rec.wav")
        status, out, err = run_until_lost(d, sig, "rec", "-d", "system", "-c", 2, path)
        check_eq(status, 1, "exit status")
        check_eq(len(err), 1, "lines on standard error")
        st = json_lines(out)
        frames = check_recording(path, st["frames"])
        check_eq(frames, st["frames_recorded"], "every frame recorded is in the file")
        check_eq(err[0], "sdctl: %s: %s; the %.1f s recorded are kept"
                 % (path, reason(sig), frames / RATE), "the line")
    finally:
        d.cleanup()


def test_rec_daemon_stopped():
    """sdctl rec, the daemon stopped (SIGTERM): what was recorded is kept.
    Before: exit 0 and an xrun report made of an uninitialised status."""
    check_rec(signal.SIGTERM)


def test_rec_daemon_killed():
    """sdctl rec, the daemon killed (SIGKILL).  Before: the loss, then a report
    of garbage counters (frames lost by the trillion)."""
    check_rec(signal.SIGKILL)


def test_playrec_daemon_stopped():
    """sdctl playrec, the daemon stopped: exit 1, one line, the recording kept."""
    d = start_daemon("gone-playrec")
    try:
        src, path = long_file(d), d.path("playrec.wav")
        status, out, err = run_until_lost(d, signal.SIGTERM, "playrec", "-d", "system,system",
                                          "-r", RATE, "-c", 2, "-f", "float32", src, path)
        check_eq(status, 1, "exit status")
        check_eq(len(err), 1, "lines on standard error")
        st = json_lines(out)
        frames = check_recording(path, st["frames"])
        check_eq(frames, st["frames_recorded"], "every frame recorded is in the file")
        check_eq(err[0], "sdctl: %s: sddaemon stopped; the %.1f s recorded are kept"
                 % (path, frames / RATE), "the line")
    finally:
        d.cleanup()


def main():
    global JACK
    if not jackd_available():
        print("1..0 # SKIP jackd is not installed (apt-get install jackd2)")
        return 0
    JACK = Jack(name="sddgone")
    # A timeout's SIGTERM still stops jackd (in the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        JACK.start()
        return run_tests([test_play_daemon_stopped, test_play_daemon_killed,
                          test_rec_daemon_stopped, test_rec_daemon_killed,
                          test_playrec_daemon_stopped])
    finally:
        JACK.stop()


if __name__ == "__main__":
    sys.exit(main())
