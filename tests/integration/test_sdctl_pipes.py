"""sdctl play, rec and playrec through pipes and FIFOs, as pacat, parec and
sox are used: standard input and output ("-"), raw samples and streamable
types (--type), a FIFO with a .wav name.  Bytes are checked on the virtual
ALSA devices: what is played through a pipe is found unchanged in the
playback tap, what is recorded to a pipe is the capture source."""

import os
import random
import struct
import subprocess
import sys
import threading
import wave

from harness import SDCTL, Daemon, check, check_eq, command, locate, run_tests
from terminal import run_on_pty

D = None
SILENCE16 = bytes(4)


def sdctl(*args, stdin=b"", status=0):
    """Runs sdctl with stdin's bytes; returns (stdout bytes, stderr text)."""
    env = dict(D.env, SDDAEMON_SOCKET=D.socket)
    p = subprocess.run(command(SDCTL, *args), env=env, input=stdin, capture_output=True,
                       timeout=60)
    err = p.stderr.decode(errors="replace")
    check_eq(p.returncode, status, "sdctl %s exit status (stderr %r)" % (" ".join(args), err))
    return p.stdout, err


def random_frames(frames, seed, width=2, channels=2):
    rnd = random.Random(seed)
    return bytes(rnd.getrandbits(8) for _ in range(frames * width * channels))


def wav_bytes(data, width=2, channels=2, rate=48000):
    path = D.path("tmp-%d.wav" % random.getrandbits(32))
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(data)
    with open(path, "rb") as f:
        out = f.read()
    os.unlink(path)
    return out


def tap():
    """t_out's tap once its device stream has closed."""
    conn = D.connect()
    D.wait_device_streams_closed(conn)
    conn.close()
    return D.read_file("out.raw")


def parse_stream_wav(data):
    """The header of a WAV written to a pipe (open-ended sizes) and its samples."""
    check_eq(data[:4] + data[8:16], b"RIFFWAVEfmt ", "a RIFF WAVE header")
    tag, channels, rate, byte_rate, align, bits = struct.unpack("<HHIIHH", data[20:36])
    check_eq(data[36:40], b"data", "the data chunk follows the format")
    check_eq(struct.unpack("<I", data[40:44])[0], 0xFFFFFFFF, "an open-ended data size")
    check_eq(byte_rate, rate * align, "byte rate")
    return (tag, channels, rate, bits), data[44:]


# ---- play from standard input -------------------------------------------------------------


def test_play_wav_from_stdin():
    data = random_frames(7000, 1)
    sdctl("play", "-d", "t_out", "--exclusive", "-", stdin=wav_bytes(data))
    locate(tap(), data, 4, SILENCE16, "the WAV from standard input in the tap")


def test_play_raw_from_stdin():
    """sox ... -t raw - | sdctl play --raw -r -c -f -, and --type raw the same."""
    data = random_frames(6000, 2)
    sdctl("play", "-d", "t_out", "--exclusive", "--raw", "-r", "48000", "-c", "2", "-f", "int16",
          "-", stdin=data)
    locate(tap(), data, 4, SILENCE16, "raw samples from standard input")
    data = random_frames(5000, 3)
    sdctl("play", "-d", "t_out", "--exclusive", "--type", "raw", "-r", "48000", "-c", "2", "-f",
          "int16", "-", stdin=data)
    locate(tap(), data, 4, SILENCE16, "--type raw from standard input")
    _, err = sdctl("play", "-d", "t_out", "--raw", "-", stdin=data, status=1)
    check("-r" in err and "-c" in err and "-f" in err, "raw input needs its description: %r" % err)


def test_play_flac_from_stdin():
    """FLAC, whose decoder reads the start twice, from a pipe: the recording of
    the capture source, played back, is the capture source (int24)."""
    path = D.path("p.flac")
    sdctl("rec", "-d", "t_in", "--exclusive", "-r", "48000", "-c", "2", "-f", "int24", "-t", "0.2",
          path)
    with open(path, "rb") as f:
        flac = f.read()
    sdctl("play", "-d", "t_out", "--exclusive", "-", stdin=flac)
    locate(tap(), D.read_file("in.raw")[:9600 * 6], 6, bytes(6), "the FLAC from a pipe")


def test_play_from_a_fifo():
    data = random_frames(4000, 4)
    fifo = D.path("in-fifo.wav")
    os.mkfifo(fifo)
    blob = wav_bytes(data)

    def feed():
        with open(fifo, "wb") as f:
            f.write(blob)

    t = threading.Thread(target=feed)
    t.start()
    sdctl("play", "-d", "t_out", "--exclusive", fifo)
    t.join()
    locate(tap(), data, 4, SILENCE16, "the WAV from a FIFO")


# ---- rec to standard output -----------------------------------------------------------


def test_rec_wav_to_stdout():
    """sdctl rec -t 0.25 - | ...: a WAV with an open-ended header, then exactly
    0.25 s of the capture source."""
    out, _ = sdctl("rec", "-d", "t_in", "--exclusive", "-c", "2", "-f", "int16", "-r", "48000",
                   "-t", "0.25", "-")
    fmt, samples = parse_stream_wav(out)
    check_eq(fmt, (1, 2, 48000, 16), "PCM, 2 channels, 48 kHz, 16 bits")
    check_eq(len(samples), 12000 * 4, "exactly 0.25 s")
    check(samples == D.read_file("in.raw")[:len(samples)], "the capture source, unchanged")
    out, _ = sdctl("rec", "-d", "t_in", "--exclusive", "-c", "2", "-f", "float32", "-r", "48000",
                   "-t", "0.1", "-")
    fmt, samples = parse_stream_wav(out)
    check_eq(fmt, (3, 2, 48000, 32), "IEEE float, 32 bits")
    check(samples == D.read_file("in.raw")[:4800 * 8], "float32 capture, unchanged")


def test_rec_raw_and_au_to_stdout():
    out, _ = sdctl("rec", "-d", "t_in", "--exclusive", "-c", "2", "-f", "int16", "-r", "48000",
                   "-t", "0.1", "--raw", "-")
    check(out == D.read_file("in.raw")[:4800 * 4], "raw samples on standard output")
    out, _ = sdctl("rec", "-d", "t_in", "--exclusive", "-c", "2", "-f", "int16", "-r", "48000",
                   "-t", "0.1", "--type", "au", "-")
    check_eq(out[:4], b".snd", "an AU header")
    offset = struct.unpack(">I", out[4:8])[0]
    samples = out[offset:]
    want = D.read_file("in.raw")[:4800 * 4]
    # AU is big-endian: the samples are byte-swapped.
    swapped = b"".join(want[i + 1:i + 2] + want[i:i + 1] for i in range(0, len(want), 2))
    check(samples == swapped, "AU samples (big-endian) are the capture source")


def test_rec_refuses_what_cannot_stream():
    _, err = sdctl("rec", "-d", "t_in", "-t", "0.1", "--type", "flac", "-", status=1)
    check("cannot seek" in err and "wav" in err, "FLAC to a pipe is refused with a way out: %r" % err)
    _, err = sdctl("rec", "-d", "t_in", "-t", "0.1", "--type", "mp3", "-", status=1)
    check("unknown type 'mp3'" in err, err)


def test_rec_into_a_fifo_named_wav():
    fifo = D.path("out-fifo.wav")
    os.mkfifo(fifo)
    got = []

    def drain():
        with open(fifo, "rb") as f:
            got.append(f.read())

    t = threading.Thread(target=drain)
    t.start()
    sdctl("rec", "-d", "t_in", "--exclusive", "-c", "2", "-f", "int16", "-r", "48000", "-t",
          "0.1", fifo)
    t.join()
    fmt, samples = parse_stream_wav(got[0])
    check_eq(fmt, (1, 2, 48000, 16), "the FIFO's WAV header")
    check(samples == D.read_file("in.raw")[:4800 * 4], "the capture source through the FIFO")


def test_playrec_pipes_both_ways():
    """cat in.wav | sdctl playrec - - > out.wav: the played WAV reaches the tap,
    the recording (a WAV on standard output) is a contiguous part of the input."""
    data = random_frames(6000, 5)
    out, _ = sdctl("playrec", "-d", "t_duplex", "--exclusive", "-", "-", stdin=wav_bytes(data))
    fmt, samples = parse_stream_wav(out)
    check_eq(fmt, (1, 2, 48000, 16), "the recording's header follows the played file")
    check_eq(len(samples), len(data), "as long as the played file")
    src = D.read_file("in.raw")
    at = src.find(samples[:64])
    check(at >= 0 and at % 4 == 0 and src[at:at + len(samples)] == samples,
          "the recording is a contiguous part of the input (at byte %d)" % at)
    locate(tap(), data, 4, SILENCE16, "the played file in the tap")


def test_stdin_twice_and_terminal_output():
    _, err = sdctl("play", "-", "-", status=2)
    check("only once" in err, err)
    # Sound is not written to (or read from) a terminal: the user is told what to do instead.
    env = dict(D.env, SDDAEMON_SOCKET=D.socket)
    status, text, err = run_on_pty([SDCTL, "rec", "-d", "t_in", "-t", "0.1", "-"], env,
                                   on=("stdout",))
    check(status == 1 and b"standard output is a terminal" in err, "rec - on a terminal: %r" % err)
    check_eq(text, "", "nothing written to the terminal")
    status, text, err = run_on_pty([SDCTL, "play", "-d", "t_out", "-"], env, on=("stdin", "stdout"))
    check(status == 1 and b"standard input is a terminal" in err, "play - from a terminal: %r" % err)


if __name__ == "__main__":
    D = Daemon(args=["--device-idle-time", "0"], name="sdctl-pipes", input_seconds=30)
    try:
        D.start()
        status = run_tests([test_play_wav_from_stdin, test_play_raw_from_stdin,
                            test_play_flac_from_stdin, test_play_from_a_fifo,
                            test_rec_wav_to_stdout, test_rec_raw_and_au_to_stdout,
                            test_rec_refuses_what_cannot_stream, test_rec_into_a_fifo_named_wav,
                            test_playrec_pipes_both_ways, test_stdin_twice_and_terminal_output], D)
    finally:
        D.cleanup()
    sys.exit(status)
