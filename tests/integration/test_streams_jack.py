"""Runs tests/clients/test-streams-jack.c (libsdc's stream API in real time)
against a daemon whose JACK host API sees jackd's dummy backend.

jackd is started first (PortAudio lists devices when the daemon
initialises it), under a name of its own exported as JACK_DEFAULT_SERVER
to the daemon and to the test program, and stopped by its PID at the end.
The program's TAP passes through; without jackd the whole test is skipped.
"""

import os
import shutil
import sys
import tempfile
import wave

from harness import Daemon, Failure, Jack, jackd_available, run_client_program

RATE = 48000
WAV_FRAMES = 2 * RATE


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
    if not jackd_available() or not shutil.which("jack_lsp"):
        print("1..0 # SKIP jackd is not installed")
        return 0
    name = "sdd-streams-%d" % os.getpid()
    logdir = tempfile.mkdtemp(prefix="streams-jack-")
    jack = Jack(name, rate=RATE, log_path=os.path.join(logdir, "jackd.log"))
    try:
        jack.start()
    except Failure as e:
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
            return run_client_program(d, program, env)
    finally:
        jack.stop()
        shutil.rmtree(logdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
