"""sdctl play, rec, playrec, status and stop with real sound files, through
real PortAudio on the virtual ALSA devices: what sdctl streams reaches the
tap unchanged (exclusive), recordings hold the capture source unchanged,
raw files, --loop, --detach, Ctrl-C and exit statuses."""

import os
import random
import signal
import struct
import subprocess
import sys
import time
import wave

from harness import SDCTL, Daemon, check, check_eq, command, locate, run_tests, scaled

D = None
SILENCE16 = bytes(4)  # a silent int16 stereo frame


def write_wav(path, frames, sampwidth=2, channels=2, rate=48000, seed=1):
    """Writes a WAV of random samples and returns its raw frames."""
    rnd = random.Random(seed)
    data = bytes(rnd.getrandbits(8) for _ in range(frames * channels * sampwidth))
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(sampwidth)
        w.setframerate(rate)
        w.writeframes(data)
    return data


def read_wav(path):
    with wave.open(path, "rb") as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.readframes(w.getnframes())


def tap():
    """t_out's tap once its device stream has closed."""
    conn = D.connect()
    D.wait_device_streams_closed(conn)
    conn.close()
    return D.read_file("out.raw")


def sdctl(*args, status=0):
    st, out, err = D.sdctl(*args)
    check_eq(st, status, "sdctl %s exit status (stderr %r)" % (" ".join(args), err))
    return out, err


def test_play_wav_bit_exact():
    data = write_wav(D.path("a.wav"), 9000, seed=2)
    out, err = sdctl("play", "-d", "t_out", "--exclusive", D.path("a.wav"))
    check_eq(err, "", "nothing on stderr")
    locate(tap(), data, 4, SILENCE16, "the WAV's frames in the tap")


def test_play_several_files_in_order():
    a = write_wav(D.path("b1.wav"), 3000, seed=3)
    b = write_wav(D.path("b2.wav"), 4000, seed=4)
    out, _ = sdctl("--json", "play", "-d", "t_out", "--exclusive", D.path("b1.wav"), D.path("b2.wav"))
    lines = [l for l in out.splitlines() if l.startswith("{")]
    check_eq(len(lines), 2, "one status line a file")
    check('"frames_played":3000' in lines[0] and '"frames_played":4000' in lines[1], out)
    t = tap()
    # Each file is its own exclusive stream: the tap was restarted for the second.
    locate(t, b, 4, SILENCE16, "the second file's frames")


def test_play_raw_file_needs_its_description():
    data = bytes(random.Random(5).getrandbits(8) for _ in range(2000 * 4))
    with open(D.path("c.raw"), "wb") as f:
        f.write(data)
    _, err = sdctl("play", "-d", "t_out", D.path("c.raw"), status=1)
    check("headerless" in err and "-r" in err, "says what a raw file needs: %r" % err)
    sdctl("play", "-d", "t_out", "--exclusive", "-r", "48000", "-c", "2", "-f", "int16",
          D.path("c.raw"))
    locate(tap(), data, 4, SILENCE16, "the raw frames")


def test_play_converts_to_float32_on_request():
    data = write_wav(D.path("d.wav"), 2000, seed=6)
    sdctl("play", "-d", "t_out", "--exclusive", "-f", "float32", D.path("d.wav"))
    samples = struct.unpack("<%dh" % (len(data) // 2), data)
    want = struct.pack("<%df" % len(samples), *[v / 32768.0 for v in samples])
    locate(tap(), want, 8, bytes(8), "int16 read as float32 by libsndfile")


def test_rec_wav_equals_the_input():
    path = D.path("r.wav")
    sdctl("rec", "-d", "t_in", "--exclusive", "-c", "2", "-f", "int16", "-r", "48000", "-t", "0.25",
          path)
    channels, width, rate, frames = read_wav(path)
    check_eq((channels, width, rate), (2, 2, 48000), "WAV header")
    check_eq(len(frames), 12000 * 4, "exactly 0.25 s of frames")
    check(frames == D.read_file("in.raw")[:len(frames)], "the capture source, unchanged")


def test_rec_flac_default_format_round_trip():
    path = D.path("r.flac")
    sdctl("rec", "-d", "t_in", "--exclusive", "-r", "48000", "-t", "0.1", path)
    check(open(path, "rb").read(4) == b"fLaC", "a FLAC file")
    # Played back bit-exactly as int24: the 24 bits libsndfile kept of the input.
    sdctl("play", "-d", "t_out", "--exclusive", path)
    t = tap()
    check(len(t) > 0, "the tap has data")
    src = D.read_file("in.raw")[:4800 * 2 * 3]  # int24 capture: 3 bytes a sample
    locate(t, src, 6, bytes(6), "the recording, played back, is the input (int24)")


def wait_for_a_stream():
    """Waits until the daemon runs a stream: the one sdctl just asked for (it
    has caught SIGINT by then), however slowly it starts under valgrind."""
    conn = D.connect()
    deadline = time.time() + scaled(20)
    while conn.call("daemon_status")["streams"] == 0:
        check(time.time() < deadline, "sdctl's stream runs")
        time.sleep(0.02)
    conn.close()


def test_rec_stops_on_sigint_with_a_valid_file():
    path = D.path("i.wav")
    env = dict(D.env, SDDAEMON_SOCKET=D.socket)
    p = subprocess.Popen(command(SDCTL, "rec", "-d", "t_in", "-c", "2", "-f", "int16", path),
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for_a_stream()
    time.sleep(scaled(0.5))
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=scaled(20))
    check_eq(p.returncode, 0, "rec exits 0 on Ctrl-C (stderr %r)" % err)
    channels, width, rate, frames = read_wav(path)
    check(channels == 2 and width == 2 and len(frames) > 0, "a valid, non-empty WAV")


def test_playrec_on_the_duplex_device():
    data = write_wav(D.path("p.wav"), 6000, seed=7)
    sdctl("playrec", "-d", "t_duplex", "--exclusive", D.path("p.wav"), D.path("q.wav"))
    channels, width, rate, frames = read_wav(D.path("q.wav"))
    check_eq(len(frames), len(data), "as long as the played file")
    # Recording begins when playback does; the unpaced source has moved on by then.
    src = D.read_file("in.raw")
    at = src.find(frames[:64])
    check(at >= 0 and at % 4 == 0 and src[at:at + len(frames)] == frames,
          "the recording is a contiguous part of the input (found at byte %d)" % at)
    locate(tap(), data, 4, SILENCE16, "the played file in the tap")


def test_loop_until_interrupted():
    write_wav(D.path("l.wav"), 1000, seed=8)
    env = dict(D.env, SDDAEMON_SOCKET=D.socket)
    p = subprocess.Popen(command(SDCTL, "--json", "play", "--loop", "-d", "t_null",
                                 D.path("l.wav")),
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for_a_stream()
    time.sleep(scaled(0.5))
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=scaled(20))
    out = out.decode()
    check_eq(p.returncode, 130, "interrupted play exits 130 (stderr %r)" % err)
    played = int(out.split('"frames_played":')[1].split(",")[0])
    check(played > 1000, "the loop played past the sound's end (%d frames)" % played)


def test_detach_and_stop():
    data = write_wav(D.path("t.wav"), 4000, seed=9)
    out, _ = sdctl("--json", "play", "--detach", "-d", "t_out", D.path("t.wav"))
    check('"detached":true' in out, out)
    # Shared (float32) tap: the sound converted, after sdctl has already exited.
    samples = struct.unpack("<%dh" % (len(data) // 2), data)
    want = struct.pack("<%df" % len(samples), *[v / 32768.0 for v in samples])
    locate(tap(), want, 8, bytes(8), "the detached sound in the tap")
    out, _ = sdctl("--json", "stop")
    check_eq(out.strip(), '{"stopped":[]}', "nothing left to stop")
    out, _ = sdctl("stop")
    check_eq(out, "nothing to stop\n", "stop says so")
    out, _ = sdctl("status")
    check(out.startswith("sddaemon "), out)


def test_usage_errors():
    _, err = sdctl("play", status=2)
    check("no FILE" in err, err)
    _, err = sdctl("rec", D.path("x.mp3"), status=1)
    check("cannot tell the file type" in err, err)
    _, err = sdctl("play", "-d", "t_out", D.path("missing.wav"), status=1)
    check_eq(err, "sdctl: cannot open '%s': No such file or directory\n" % D.path("missing.wav"),
             "a missing file, in our words")
    _, err = sdctl("rec", "-f", "float32", D.path("y.flac"), status=1)
    check("FLAC" in err, err)


if __name__ == "__main__":
    D = Daemon(args=["--device-idle-time", "0"], name="sdctl-audio", input_seconds=30)
    try:
        D.start()
        status = run_tests([test_play_wav_bit_exact, test_play_several_files_in_order,
                            test_play_raw_file_needs_its_description,
                            test_play_converts_to_float32_on_request,
                            test_rec_wav_equals_the_input, test_rec_flac_default_format_round_trip,
                            test_rec_stops_on_sigint_with_a_valid_file,
                            test_playrec_on_the_duplex_device, test_loop_until_interrupted,
                            test_detach_and_stop, test_usage_errors], D)
    finally:
        D.cleanup()
    sys.exit(status)
