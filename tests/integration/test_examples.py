"""The example programs of examples/ against sddaemon on virtual ALSA devices.

Each example runs as a user would run it, non-interactively (standard
input is /dev/null, -t SECONDS ends it), and what it did is checked
against the devices: play_file's and wire's output must be found bit-exact
in the playback tap t_out, rec_unlimited's file must hold the capture
source in.raw unchanged, and meter and spectrogram must print one line per
window with the levels and the frequency of a known input.  Ctrl-C
(SIGINT) must end every example cleanly.

The virtual PCMs are not paced: a second of audio passes in milliseconds.
The output examples therefore run with a latency long enough for the whole
sound (play_file primes it all before the device starts; wire's output
lags its input by that much), and recordings stay shorter than libsdc's
capture ring, which keeps the oldest frames when the reader falls behind.
The daemon closes idle device streams after 0.2 s, so that each test's
stream reopens the device: taps are truncated and in.raw read from its
start.
"""

import array
import math
import os
import random
import re
import signal
import subprocess
import time
import wave

from harness import Daemon, check, check_eq, locate, run_tests, to_float32

D = None
EXAMPLES = os.environ.get("SDD_EXAMPLES_DIR", "examples")
RATE = 48000
F32_ZERO2 = bytes(8)  # a silent float32 stereo frame
I16_ZERO2 = bytes(4)  # a silent int16 stereo frame


def example(name, *args, timeout=60):
    """Runs an example to its end; returns (status, stdout, stderr)."""
    env = dict(D.env, SDDAEMON_SOCKET=D.socket)
    p = subprocess.run([os.path.join(EXAMPLES, name)] + [str(a) for a in args], env=env,
                       cwd=D.dir, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def example_ok(name, *args):
    status, out, err = example(name, *args)
    check_eq(status, 0, "%s %s exit status (stderr: %s)" % (name, " ".join(map(str, args)), err))
    return out, err


def fresh_devices(input_data=None):
    """Waits until no device stream is open (so the next one starts afresh), then
    replaces in.raw when input_data is given."""
    conn = D.connect()
    D.wait_device_streams_closed(conn)
    conn.close()
    if input_data is not None:
        D.write_input(input_data)


def random_int16(frames, channels, seed):
    """Pseudo-random int16 samples, none of them zero (so they stand out from silence)."""
    rng = random.Random(seed)
    return array.array("h", (rng.choice((-1, 1)) * rng.randint(1, 32767)
                             for _ in range(frames * channels))).tobytes()


def write_wav(path, data, channels=2, rate=RATE):
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data)


def read_wav(path):
    with wave.open(path, "rb") as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.readframes(w.getnframes())


def float32_stereo(left, right, frames):
    """float32 stereo frames from two functions of the frame number."""
    out = array.array("f", bytes(8 * frames))
    out[0::2] = array.array("f", (left(i) for i in range(frames)))
    out[1::2] = array.array("f", (right(i) for i in range(frames)))
    return out.tobytes()


def device_rate(name):
    """The default sample rate of the device whose name starts with name."""
    conn = D.connect()
    try:
        for dev in conn.call("query_devices"):
            if dev["name"].split(":")[0] == name:
                return dev["default_samplerate"]
    finally:
        conn.close()
    raise AssertionError("no device %r" % name)


def interrupt(name, *args, wait_for_line=True, settle=0.3):
    """Starts an example, waits for its first line of output (or settle seconds),
    sends SIGINT and returns (status, stdout, stderr, seconds it took to exit)."""
    env = dict(D.env, SDDAEMON_SOCKET=D.socket)
    p = subprocess.Popen([os.path.join(EXAMPLES, name)] + [str(a) for a in args], env=env,
                         cwd=D.dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, bufsize=0)
    # Unbuffered: what readline() does not take stays in the pipe for communicate().
    try:
        first = p.stdout.readline() if wait_for_line else b""
        if not wait_for_line:
            time.sleep(settle)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return p.returncode, (first + out).decode(errors="replace"), err.decode(errors="replace")


# ---- play_file ----------------------------------------------------------------------------


def test_play_file_plays_a_wav_bit_exactly():
    """play_file on an int16 WAV with an exclusive stream: the tap (float32,
    as play_file streams) holds every frame, in order, and only silence
    around them."""
    fresh_devices()
    data = random_int16(24000, 2, seed=1)
    path = D.path("sound.wav")
    write_wav(path, data)
    # t_out is not paced: with a latency of four times the sound (the stream's
    # ring keeps at least half the latency) all of it is queued before it starts.
    out, err = example_ok("play_file", "-d", "t_out", "-x", "-l", "2", path)
    check_eq(err, "", "play_file's stderr")
    locate(D.read_file("out.raw"), to_float32("int16", data), 8, F32_ZERO2, "the WAV's frames")


def test_play_file_stops_after_duration():
    """-t 0.25 plays the first 12000 frames and nothing after them."""
    fresh_devices()
    data = random_int16(24000, 2, seed=2)
    path = D.path("long.wav")
    write_wav(path, data)
    example_ok("play_file", "-d", "t_out", "-x", "-l", "1", "-b", "1000", "-t", "0.25", path)
    locate(D.read_file("out.raw"), to_float32("int16", data[:12000 * 4]), 8, F32_ZERO2,
           "the first quarter second")


def test_play_file_usage_and_errors():
    status, out, _ = example("play_file", "--help")
    check(status == 0 and out.startswith("Usage: play_file"), "--help prints the usage")
    status, _, err = example("play_file")
    check(status == 2 and "Usage" in err, "no file: status 2 and the usage (%d)" % status)
    status, _, err = example("play_file", D.path("missing.wav"))
    check(status == 1 and "missing.wav" in err, "a missing file: status 1, named (%r)" % err)
    status, _, err = example("play_file", "-d", "no such device", D.path("sound.wav"))
    check(status == 1 and err.startswith("play_file:"), "a missing device: status 1 (%r)" % err)


# ---- rec_unlimited ------------------------------------------------------------------------


def test_rec_unlimited_records_the_input_bit_exactly():
    """-t 0.25 into a WAV (PCM_16, so an int16 stream): 12000 frames, equal to
    in.raw's first 12000 int16 stereo frames."""
    fresh_devices(random_int16(48000 * 2, 2, seed=3))
    path = D.path("rec.wav")
    out, _ = example_ok("rec_unlimited", "-d", "t_in", "-c", "2", "-r", RATE, "-x", "-t", "0.25",
                        path)
    check("Recording finished: '%s'" % path in out, "it says where the recording is: %r" % out)
    channels, width, rate, frames = read_wav(path)
    check_eq((channels, width, rate), (2, 2, RATE), "the file's format")
    check_eq(len(frames), 12000 * 4, "bytes recorded")
    check(frames == D.read_file("in.raw")[:len(frames)], "the recording equals in.raw's start")


def test_rec_unlimited_subtype():
    """--subtype PCM_24 records through an int32 stream: the file holds the top
    24 bits of each of in.raw's int32 samples."""
    fresh_devices(random_int16(48000 * 4, 2, seed=6))
    path = D.path("rec24.wav")
    example_ok("rec_unlimited", "-d", "t_in", "-c", "2", "-r", RATE, "-x", "-s", "PCM_24",
               "-t", "0.1", path)
    channels, width, _, frames = read_wav(path)
    raw = D.read_file("in.raw")[:4800 * 8]
    check_eq((channels, width, len(frames)), (2, 3, 4800 * 6), "a 24-bit stereo file of 4800 frames")
    check(frames == b"".join(raw[i + 1:i + 4] for i in range(0, len(raw), 4)),
          "the samples are in.raw's int32 samples without their low byte")
    status, _, err = example("rec_unlimited", "-d", "t_in", "-s", "PCM_12", D.path("x.wav"))
    check(status == 2 and "PCM_12" in err, "an unknown subtype is refused (%r)" % err)


def test_rec_unlimited_never_overwrites():
    """The file is opened in mode 'x', as in the original: an existing file is left alone."""
    fresh_devices()
    path = D.path("exists.wav")
    with open(path, "wb") as f:
        f.write(b"precious")
    status, _, err = example("rec_unlimited", "-d", "t_in", "-t", "0.1", path)
    check(status == 1 and "exists.wav" in err, "refused with status 1 (%d, %r)" % (status, err))
    with open(path, "rb") as f:
        check_eq(f.read(), b"precious", "the existing file")


def test_rec_unlimited_without_a_name_makes_a_new_file():
    fresh_devices()
    before = set(os.listdir(D.dir))
    out, _ = example_ok("rec_unlimited", "-d", "t_in", "-t", "0.05")
    new = [n for n in set(os.listdir(D.dir)) - before if n.startswith("delme_rec_unlimited_")]
    check_eq(len(new), 1, "one new delme_rec_unlimited_*.wav")
    check(new[0].endswith(".wav") and new[0] in out, "named in the output: %r" % out)
    channels, _, _, frames = read_wav(D.path(new[0]))
    check_eq((channels, len(frames)), (1, int(0.05 * device_rate("t_in") + 0.5) * 2),
             "mono (the default), 0.05 s at the device's rate")


def test_rec_unlimited_stops_on_sigint():
    """Without -t it records until SIGINT, then finishes the file and exits 0."""
    fresh_devices(random_int16(48000 * 2, 2, seed=4))
    path = D.path("until-ctrl-c.wav")
    env = dict(D.env, SDDAEMON_SOCKET=D.socket)
    p = subprocess.Popen([os.path.join(EXAMPLES, "rec_unlimited"), "-d", "t_in", "-c", "2",
                          "-r", str(RATE), "-x", path], env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 20
        while not os.path.exists(path) or os.path.getsize(path) < 44 + 8000 * 4:
            check(time.time() < deadline and p.poll() is None, "the recording grows")
            time.sleep(0.005)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check_eq(p.returncode, 0, "exit status after SIGINT (stderr %r)" % err)
    check(b"Recording finished" in out, "it says the recording finished")
    channels, _, _, frames = read_wav(path)
    check(channels == 2 and len(frames) >= 8000 * 4, "a valid WAV of at least 8000 frames")
    check(frames[:8000 * 4] == D.read_file("in.raw")[:8000 * 4], "it starts with in.raw's frames")


# ---- wire -------------------------------------------------------------------------------


def without_silence(buf, frame_bytes):
    """buf without its silent (all-zero) frames."""
    zero = bytes(frame_bytes)
    return b"".join(buf[i:i + frame_bytes] for i in range(0, len(buf), frame_bytes)
                    if buf[i:i + frame_bytes] != zero)


def check_wired(tap, data, underflow_reported):
    """What wire did on the unpaced t_duplex: every frame of data (which has no
    silent frame) reached the tap unchanged and in order, and nothing else
    did but silence.  The 2 s latency lets the device run far ahead of the
    callback without an underflow; should the machine stall the callback for
    longer, the silence the daemon inserts falls between the frames: allowed
    only when the underflow was reported."""
    check_eq(len(data) % 4, 0, "whole frames")
    if tap.find(data) >= 0:
        locate(tap, data, 4, I16_ZERO2, "the input")
        return
    check(underflow_reported, "the input is not contiguous in the tap, yet no underflow was reported")
    check(without_silence(tap, 4) == data, "the tap without silence is the input, unchanged")


def test_wire_copies_input_to_output_bit_exactly():
    """wire on t_duplex (one exclusive duplex stream, int16) for 1 s: the tap holds
    in.raw's first second, unchanged, with only silence before (the latency) and
    after."""
    fresh_devices(random_int16(48000 * 6, 2, seed=5))
    _, err = example_ok("wire", "-i", "t_duplex", "-o", "t_duplex", "-x", "--dtype", "int16",
                        "-r", RATE, "-l", "2", "-t", "1")
    check_wired(D.read_file("out.raw"), D.read_file("in.raw")[:RATE * 4],
                "output underflow" in err)


def test_wire_usage():
    status, out, _ = example("wire", "--help")
    check(status == 0 and out.startswith("Usage: wire"), "--help")
    status, _, err = example("wire", "--dtype", "int12")
    check(status == 2 and "int12" in err, "an unknown dtype is refused (%r)" % err)


# ---- meter ------------------------------------------------------------------------------

METER_LINE = re.compile(r"(\d+): \[([#.]+)\] +(-?\d+\.\d) dBFS peak, +(-?\d+\.\d) dBFS RMS( CLIP)?")


def meter_input():
    """Channel 1: a full-scale square wave (0 dBFS peak and RMS, clipping);
    channel 2: a 1 kHz sine of amplitude 0.5 (-6.0 dBFS peak, -9.0 dBFS RMS)."""
    return float32_stereo(lambda i: 1.0 if (i // 24) % 2 == 0 else -1.0,
                          lambda i: 0.5 * math.sin(2 * math.pi * 1000 * i / RATE), RATE * 30)


def parse_meter(out):
    lines = out.splitlines()
    return lines, [[(int(m.group(1)), float(m.group(3)), float(m.group(4)), bool(m.group(5)))
                    for m in METER_LINE.finditer(line)] for line in lines]


def test_meter_shows_levels_per_window():
    """-t 1 with the default 0.1 s interval: ten lines, each with the known levels."""
    fresh_devices(meter_input())
    out, _ = example_ok("meter", "-d", "t_in", "-r", RATE, "-t", "1")
    lines, parsed = parse_meter(out)
    check_eq(len(lines), 10, "lines for 1 s at 0.1 s each")
    for line, levels in zip(lines, parsed):
        check_eq(len(levels), 2, "two channels on %r" % line)
        (c1, pk1, rms1, clip1), (c2, pk2, rms2, clip2) = levels
        check_eq((c1, pk1, rms1, clip1), (1, 0.0, 0.0, True), "the square wave on %r" % line)
        check(c2 == 2 and pk2 == -6.0 and abs(rms2 + 9.0) <= 0.1 and not clip2,
              "the half-scale sine on %r" % line)


def test_meter_interval_and_channels():
    """-i 0.25 -t 1: four lines; -c 1: one channel on each."""
    fresh_devices(meter_input())
    out, _ = example_ok("meter", "-d", "t_in", "-r", RATE, "-c", "1", "-i", "0.25", "-t", "1")
    lines, parsed = parse_meter(out)
    check_eq(len(lines), 4, "lines for 1 s at 0.25 s each")
    check(all(levels == [(1, 0.0, 0.0, True)] for levels in parsed), "one channel: %r" % lines)


# ---- spectrogram --------------------------------------------------------------------------


def gradient():
    """spectrogram.py's colour gradient: the escape sequence and character of each step."""
    colors = 30, 34, 35, 91, 93, 97
    steps = []
    for bg, fg in zip(colors, colors[1:]):
        for char in " :%#\t#%:":
            if char == "\t":
                bg, fg = fg, bg
            else:
                steps.append("\x1b[{};{}m{}".format(fg, bg + 10, char))
    return steps


def parse_spectrogram(line):
    """The gradient step of each column of one line."""
    steps = {s: i for i, s in enumerate(gradient())}
    check_eq(len(steps), 35, "the gradient's steps are distinct")
    check(line.endswith("\x1b[0m"), "the line resets the colours: %r" % line[-12:])
    cells = re.findall(r"\x1b\[\d+;\d+m.", line[:-len("\x1b[0m")])
    check_eq("".join(cells), line[:-len("\x1b[0m")], "the line is made of gradient cells")
    return [steps[c] for c in cells]


def test_spectrogram_shows_a_tone_in_its_column():
    """A sine on an exact DFT bin lands in one column: with 80 columns over
    100-2000 Hz, column 38; at amplitude 0.103 and gain 10 its magnitude is
    0.515, gradient step 17 of 0-34.  One line per 50 ms block: 20 for -t 1."""
    rate = device_rate("t_in")
    columns, low, high = 80, 100.0, 2000.0
    delta_f = (high - low) / (columns - 1)
    fftsize = math.ceil(rate / delta_f)
    low_bin = math.floor(low / delta_f)
    freq = (low_bin + 38) * rate / fftsize
    # The example records at the device's default rate; the shared device
    # stream reads in.raw at the daemon's default_samplerate (48 kHz) and
    # resamples.
    tone = lambda i: 0.103 * math.sin(2 * math.pi * freq * i / RATE)
    fresh_devices(float32_stereo(tone, tone, RATE * 30))
    out, _ = example_ok("spectrogram", "-d", "t_in", "-c", columns, "-t", "1")
    lines = out.splitlines()
    check_eq(len(lines), 20, "lines for 1 s in 50 ms blocks")
    for line in lines:
        levels = parse_spectrogram(line)
        check_eq(len(levels), columns, "columns")
        top = max(range(columns), key=lambda c: levels[c])
        check_eq((top, levels[top]), (38, 17), "the brightest column and its step")
        check(sorted(levels)[-2] < 17, "only one column that bright: %r" % levels)


def test_spectrogram_silence_is_no_input():
    fresh_devices(bytes(8 * RATE * 4))
    out, _ = example_ok("spectrogram", "-d", "t_in", "-c", 40, "-b", "100", "-t", "0.5")
    check_eq(out.splitlines(), ["no input"] * 5, "100 ms blocks of silence")


def test_spectrogram_lists_devices():
    out, _ = example_ok("spectrogram", "-l")
    check(re.search(r"^[ *<>] \d+ t_in, ALSA \(\d+ in, \d+ out\)$", out, re.M),
          "t_in is listed as sounddevice lists devices: %r" % out)
    status, _, err = example("spectrogram", "-r", "2000", "100")
    check(status == 2 and "HIGH must be greater than LOW" in err, "a reversed range is refused")


# ---- Ctrl-C -----------------------------------------------------------------------------


def test_examples_end_cleanly_on_sigint():
    """Without -t, meter and spectrogram run until SIGINT, wire too: each then
    exits 0 and leaves no stream behind in the daemon."""
    fresh_devices(meter_input())
    for name, args, line in (("meter", ("-d", "t_in"), True),
                             ("spectrogram", ("-d", "t_in", "-c", "40"), True),
                             ("wire", ("-i", "t_duplex", "-o", "t_duplex"), False)):
        status, out, err = interrupt(name, *args, wait_for_line=line)
        check_eq(status, 0, "%s's exit status after SIGINT (stderr %r)" % (name, err))
        check(not line or out.strip(), "%s printed before the signal" % name)
    conn = D.connect()
    deadline = time.time() + 10
    while conn.call("daemon_status")["streams"] and time.time() < deadline:
        time.sleep(0.02)
    check_eq(conn.call("daemon_status")["streams"], 0, "streams left in the daemon")
    conn.close()


def main():
    global D
    with Daemon(name="examples", input_seconds=4, args=["--device-idle-time", "0.2"]) as d:
        D = d
        return run_tests([
            test_play_file_plays_a_wav_bit_exactly,
            test_play_file_stops_after_duration,
            test_play_file_usage_and_errors,
            test_rec_unlimited_records_the_input_bit_exactly,
            test_rec_unlimited_subtype,
            test_rec_unlimited_never_overwrites,
            test_rec_unlimited_without_a_name_makes_a_new_file,
            test_rec_unlimited_stops_on_sigint,
            test_wire_copies_input_to_output_bit_exactly,
            test_wire_usage,
            test_meter_shows_levels_per_window,
            test_meter_interval_and_channels,
            test_spectrogram_shows_a_tone_in_its_column,
            test_spectrogram_silence_is_no_input,
            test_spectrogram_lists_devices,
            test_examples_end_cleanly_on_sigint,
        ], daemon=d)


if __name__ == "__main__":
    raise SystemExit(main())
