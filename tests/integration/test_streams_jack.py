"""Runs tests/clients/test-streams-jack.c (libsdc's stream API in real time)
against a daemon whose JACK host API sees jackd's dummy backend.

jackd is started first (PortAudio lists devices when the daemon
initialises it), under a name of its own exported as JACK_DEFAULT_SERVER
to the daemon and to the test program, and stopped by its PID at the end.
The program's TAP passes through; without jackd the whole test is skipped.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import wave

from harness import Daemon

RATE = 48000
WAV_FRAMES = 2 * RATE


def start_jackd(name, log_path):
    """Starts jackd's dummy backend as server name; returns its process once it answers."""
    env = dict(os.environ, JACK_DEFAULT_SERVER=name, JACK_NO_START_SERVER="1")
    log = open(log_path, "wb")
    jack = subprocess.Popen(["jackd", "--no-realtime", "-n", name, "-d", "dummy", "-r", str(RATE),
                             "-p", "256", "-C", "2", "-P", "2"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.time() + 20
    while time.time() < deadline:
        if jack.poll() is not None:
            raise RuntimeError("jackd exited with %s" % jack.returncode)
        p = subprocess.run(["jack_lsp"], env=env, capture_output=True, timeout=10)
        if p.returncode == 0 and b"system:playback_1" in p.stdout:
            return jack
        time.sleep(0.1)
    jack.kill()
    jack.wait()
    raise RuntimeError("jackd did not start")


def stop_jackd(jack):
    """Stops the jackd this test started, by its PID."""
    if jack.poll() is None:
        os.kill(jack.pid, signal.SIGTERM)
        try:
            jack.wait(20)
        except subprocess.TimeoutExpired:
            os.kill(jack.pid, signal.SIGKILL)
            jack.wait()


def write_wav(path):
    """A 2 s stereo int16 WAV of a quiet tone, for the second client."""
    import array
    import math
    samples = array.array("h", (int(3000 * math.sin(2 * math.pi * 440 * (i // 2) / RATE))
                                for i in range(2 * WAV_FRAMES)))
    with wave.open(path, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())


def main():
    program = os.environ["SDD_TEST_PROGRAM"]
    if not shutil.which("jackd") or not shutil.which("jack_lsp"):
        print("1..0 # SKIP jackd is not installed")
        return 0
    name = "sdd-streams-%d" % os.getpid()
    logdir = tempfile.mkdtemp(prefix="streams-jack-")
    try:
        jack = start_jackd(name, os.path.join(logdir, "jackd.log"))
    except RuntimeError as e:
        print("Bail out! %s" % e)
        shutil.rmtree(logdir, ignore_errors=True)
        return 1
    try:
        with Daemon(name="streams-jack", args=["--device-idle-time", "0.2"],
                    env={"JACK_DEFAULT_SERVER": name}) as d:
            wav = os.path.join(d.dir, "tone.wav")
            write_wav(wav)
            env = dict(d.env, SDDAEMON_SOCKET=d.socket, SDD_TEST_WAV=wav,
                       SDD_TEST_WAV_FRAMES=str(WAV_FRAMES),
                       SDCTL=os.environ.get("SDCTL", "sdctl"))
            p = subprocess.run([program], env=env, timeout=240)
            alive = d.alive()
            status = d.stop() if alive else None
            if not alive or status != 0:
                print("not ok - sddaemon survived and stopped cleanly (status %r)" % status)
                print("# " + d.read_log().replace("\n", "\n# "))
                return 1
            if p.returncode != 0:
                print("# sddaemon's log:\n# " + d.read_log()[-4000:].replace("\n", "\n# "))
            return p.returncode
    finally:
        stop_jackd(jack)
        shutil.rmtree(logdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
