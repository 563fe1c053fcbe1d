"""Shared streams that take anything, in real time on jackd's dummy backend
(issue 12).

The paced tap t_paced is ALSA's file plugin over jackd (through a plug, so
the tap is at the device stream's rate; see TESTING-WITHOUT-HARDWARE.md):
what a shared device stream plays is recorded there, in real time.  On it:
a resampled 1 kHz sine's SNR and output length and a stepped sweep's
passband (44.1 -> 48 and 22.05 -> 48 kHz; 48 -> 44.1 kHz on a second
daemon whose device streams open at 44.1 kHz), a NaN-writing client beside
a clean one, a volume change ramping to exactly its gain, and sdctl playing
files of any rate.  On JACK's "system" device with its output wired back to
its input: 100 shared playrecs record what they play at the same offset,
which the reply reports.  Last, the daemon runs with an LD_PRELOAD library
(tests/helpers/rt-alloc-count.c) that counts every heap call inside its
audio callbacks while streams of three rates start, run and stop: none.

Signals are analysed with the standard library only: a least-squares sine
fit gives amplitude and SNR.  jackd runs under a fixed name per test file
(JACK's registry has 8 slots) and is stopped by its PID.  Without jackd,
or without ALSA's jack plugin for the tap tests, tests are skipped.
"""

import array
import json
import math
import os
import subprocess
import sys
import time
import wave

from harness import (INSTRUMENTED, Daemon, Failure, Jack, Stream, check, check_eq,
                     jackd_available, locate, make_signal, run_tests, scaled)

D = None
JACK = None
JACK_NAME = "sddtest-shared"
RATE = 48000
PERIOD = 256
JACK_API = "JACK Audio Connection Kit"

PACED_PCM = """\
pcm.t_paced {{ type file; slave.pcm {{ type plug; slave.pcm "jack" }} format "raw"; file "{d}/paced.raw"
              hint {{ show on; description "paced tap (needs jackd)" }} }}
"""


def make_daemon(name, args=(), env=None):
    """A daemon whose ALSA configuration also has the paced tap t_paced."""
    e = {"JACK_DEFAULT_SERVER": JACK_NAME}
    e.update(env or {})
    d = Daemon(name=name, env=e, args=["--device-idle-time", "60"] + list(args))
    with open(d.asound, "a") as f:
        f.write(PACED_PCM.format(d=d.dir))
    return d


# ---- signals ---------------------------------------------------------------------------


def sine(rate, freq, frames, amp=0.5):
    """float32 stereo frames of a sine (both channels)."""
    w = 2 * math.pi * freq / rate
    mono = [amp * math.sin(w * i) for i in range(frames)]
    out = array.array("f", bytes(8 * frames))
    out[0::2] = array.array("f", mono)
    out[1::2] = array.array("f", mono)
    return out.tobytes()


def fit_sine(y, rate, freq):
    """Fits y ~ a sin + b cos + c (least squares); returns (amplitude, SNR in dB)."""
    w = 2 * math.pi * freq / rate
    s1 = c1 = ss = cc = sc = y1 = ys = yc = 0.0
    n = len(y)
    for i, v in enumerate(y):
        s, c = math.sin(w * i), math.cos(w * i)
        s1 += s; c1 += c; ss += s * s; cc += c * c; sc += s * c
        y1 += v; ys += v * s; yc += v * c
    m = [[ss, sc, s1, ys], [sc, cc, c1, yc], [s1, c1, n, y1]]
    for k in range(3):
        for i in range(k + 1, 3):
            f = m[i][k] / m[k][k]
            for j in range(k, 4):
                m[i][j] -= f * m[k][j]
    c = m[2][3] / m[2][2]
    b = (m[1][3] - m[1][2] * c) / m[1][1]
    a = (m[0][3] - m[0][1] * b - m[0][2] * c) / m[0][0]
    sig = res = 0.0
    for i, v in enumerate(y):
        f = a * math.sin(w * i) + b * math.cos(w * i) + c
        sig += f * f
        res += (v - f) ** 2
    return math.hypot(a, b), (10 * math.log10(sig / res) if res > 0 else 300.0)


def left(data):
    """The first channel of float32 stereo bytes, as a list."""
    return array.array("f", data[:len(data) // 8 * 8])[0::2].tolist()


def signal_span(x, threshold=0.01):
    """(first, last) index where |x| exceeds threshold; Failure when nowhere."""
    loud = [i for i, v in enumerate(x) if abs(v) > threshold]
    if not loud:
        raise Failure("no signal in %d frames" % len(x))
    return loud[0], loud[-1]


# ---- the paced tap ----------------------------------------------------------------------


def tap_mark(d):
    """Where the tap ends now (its device stream keeps it growing in real time)."""
    try:
        return os.path.getsize(d.path("paced.raw")) // 8 * 8
    except OSError:
        return 0


def tap_since(d, mark):
    with open(d.path("paced.raw"), "rb") as f:
        f.seek(mark)
        return f.read()


def play_on_tap(d, rate, data, wait_after=0.3, **params):
    """Plays float32 stereo data at rate on t_paced and returns (status, the tap's new bytes)."""
    conn = d.connect()
    mark = tap_mark(d)
    frames = len(data) // 8
    r = conn.call("play", device="t_paced", channels=2, samplerate=rate, frames=frames, **params)
    check_eq(r["samplerate"], float(rate), "the stream's rate")
    s = Stream(conn, r)
    s.write_all(data)
    st = conn.call("wait", handle=s.handle)
    time.sleep(wait_after)  # the device's buffer and the resampler's delay
    s.close()
    conn.close()
    return st, tap_since(d, mark), r


def check_sine(d, rate, device_rate, label):
    """A 1 s sine of 1 kHz at rate through t_paced: SNR, level and length at device_rate."""
    frames = rate
    st, tap, r = play_on_tap(d, rate, sine(rate, 1000, frames))
    check_eq(r["device_samplerate"], float(device_rate), "%s: the device stream's rate" % label)
    check_eq((st["state"], st["frames_played"]), ("finished", frames), "%s: played" % label)
    x = left(tap)
    first, last = signal_span(x)
    want = frames * device_rate / rate
    check(abs((last - first + 1) - want) <= PERIOD,
          "%s: %d frames in the tap for %d at %d Hz (%.0f by the ratio)"
          % (label, last - first + 1, frames, rate, want))
    amp, snr = fit_sine(x[first + 2000:last - 2000], device_rate, 1000)
    print("# %s: SNR %.1f dB, level %+.4f dB, %d frames (%.0f by the ratio)"
          % (label, snr, 20 * math.log10(amp / 0.5), last - first + 1, want))
    check(snr >= 110, "%s: SNR of a 1 kHz sine %.1f dB >= 110" % (label, snr))
    check(abs(20 * math.log10(amp / 0.5)) < 0.01, "%s: level at 1 kHz %.4f" % (label, amp))


def check_sweep(d, rate, device_rate, freqs, label):
    """A stepped sweep at rate (0.15 s per tone): each tone's level at device_rate within 0.1 dB."""
    seg = int(rate * 0.15)
    data = b"".join(sine(rate, f, seg) for f in freqs)
    st, tap, _ = play_on_tap(d, rate, data)
    check_eq(st["state"], "finished", "%s: the sweep played" % label)
    x = left(tap)
    first, _ = signal_span(x)
    out_seg = seg * device_rate / rate
    margin = int(0.03 * device_rate)
    worst = 0.0
    for k, f in enumerate(freqs):
        a = first + int(k * out_seg) + margin
        b = first + int((k + 1) * out_seg) - margin
        amp, _ = fit_sine(x[a:b], device_rate, f)
        db = 20 * math.log10(amp / 0.5)
        worst = max(worst, abs(db))
        check(abs(db) <= 0.1, "%s: %g Hz at %+.3f dB (within 0.1 dB)" % (label, f, db))
    print("# %s: passband %g-%g Hz within %.4f dB" % (label, freqs[0], freqs[-1], worst))


def test_resampled_sine_snr_and_length():
    check_sine(D, 44100, RATE, "44.1 -> 48 kHz")
    check_sine(D, 22050, RATE, "22.05 -> 48 kHz")
    d = make_daemon("shared-441", ["--default-samplerate", "44100"])
    try:
        d.start()
        check_sine(d, 48000, 44100, "48 -> 44.1 kHz")
        check_sweep(d, 48000, 44100, [100, 1000, 5000, 10000, 15000, 18000, 20000],
                    "48 -> 44.1 kHz")
    finally:
        d.cleanup()


def test_resampled_sweep_passband():
    check_sweep(D, 44100, RATE, [100, 1000, 5000, 10000, 15000, 18000, 20000], "44.1 -> 48 kHz")
    check_sweep(D, 22050, RATE, [100, 1000, 5000, 8000, 10000], "22.05 -> 48 kHz")


def test_device_stream_opens_at_default_samplerate():
    conn = D.connect()
    dev = next(x for x in conn.call("query_devices") if x["name"].startswith("t_paced"))
    status = conn.call("daemon_status")
    paced = [ds for ds in status["device_streams"] if ds["name"].startswith("t_paced")]
    check(paced and paced[0]["samplerate"] == RATE,
          "t_paced (default %g Hz) runs at 48 kHz whatever its clients asked: %r"
          % (dev["default_samplerate"], paced))
    conn.close()


def test_nan_beside_clean_stays_exact():
    """Two clients on t_paced at the device's rate: one writes NaN, the other's
    samples are in the tap exactly; then at 44.1 kHz (one rate group) the clean
    one keeps its SNR and the tap holds no NaN."""
    frames = RATE // 2
    clean = make_signal("float32", frames, 2, 41, amplitude=0.5)
    nan = array.array("f", [float("nan")] * (2 * frames)).tobytes()
    bad_conn = D.connect()
    mark = tap_mark(D)
    bad = Stream(bad_conn, bad_conn.call("play", device="t_paced", channels=2, frames=frames * 2))
    bad.write_all(nan + nan)
    st, tap, _ = play_on_tap(D, RATE, clean)
    check_eq(st["state"], "finished", "the clean stream played")
    bad_conn.call("wait", handle=bad.handle)
    tap = tap_since(D, mark)
    locate(tap, clean, 8, bytes(8), "the clean stream's samples beside NaN")
    bad.close()
    bad_conn.close()

    rate = 44100
    bad_conn = D.connect()
    r = bad_conn.call("play", device="t_paced", channels=2, samplerate=rate, frames=rate * 2)
    bad = Stream(bad_conn, r)
    bad.write_all(array.array("f", [float("nan")] * (4 * rate)).tobytes())
    st, tap, _ = play_on_tap(D, rate, sine(rate, 1000, rate))
    x = left(tap)
    check(all(v == v for v in x), "no NaN in the tap")
    first, last = signal_span(x)
    amp, snr = fit_sine(x[first + 2000:last - 2000], RATE, 1000)
    check(snr >= 110, "a resampled sine beside a NaN-writing stream of its rate: SNR %.1f dB" % snr)
    bad_conn.call("stop", handle=bad.handle)
    bad.close()
    bad_conn.close()


def test_volume_ramps_to_exactly_its_gain():
    frames = int(RATE * 1.5)
    data = array.array("f", [0.5] * (2 * frames)).tobytes()
    conn = D.connect()
    mark = tap_mark(D)
    r = conn.call("play", device="t_paced", channels=2, frames=frames)
    s = Stream(conn, r)
    s.write_all(data)
    time.sleep(0.5)
    st = conn.call("set_volume", handle=s.handle, volume=0.5)
    check_eq((st["volume"], st["mute"]), ([0.5, 0.5], False), "set_volume's reply")
    check_eq(conn.call("get_status", handle=s.handle)["volume"], [0.5, 0.5], "get_status")
    mine = conn.call("daemon_status")["my_streams"]
    check_eq([m["volume"] for m in mine if m["handle"] == s.handle], [[0.5, 0.5]],
             "daemon_status's my_streams")
    conn.call("wait", handle=s.handle)
    time.sleep(0.3)
    x = left(tap_since(D, mark))
    first, last = signal_span(x)
    x = x[first:last + 1]
    check_eq(len(x), frames, "the stream's frames in the tap")
    check(x[0] == 0.5 and x[-1] == 0.25, "from 0.5 to 0.25: %r ... %r" % (x[0], x[-1]))
    check(all(b <= a for a, b in zip(x, x[1:])), "the level falls monotonically")
    ramp = [v for v in x if 0.25 < v < 0.5]
    landed = x.index(0.25)
    check(0 < len(ramp) <= round(0.02 * RATE),
          "a ramp of %d frames (at most 20 ms: %d)" % (len(ramp), round(0.02 * RATE)))
    check(all(v == 0.25 for v in x[landed:]), "and then exactly 0.25 to the end")
    s.close()
    conn.close()


def test_set_volume_rules():
    conn = D.connect()
    other = D.connect()
    frames = RATE
    r = conn.call("play", device="t_paced", channels=2, frames=frames)
    s = Stream(conn, r)
    s.write_all(bytes(8 * frames))
    check_eq(conn.error("set_volume", handle=s.handle, volume=-1)["code"], "invalid_param",
             "a negative volume")
    check_eq(conn.error("set_volume", handle=s.handle, volume=11)["code"], "invalid_param",
             "beyond +20 dB")
    check_eq(conn.error("set_volume", handle=s.handle, volume=1, db=0)["code"], "invalid_param",
             "volume and db at once")
    check_eq(conn.error("set_volume", handle=s.handle, volume=[1, 1, 1])["code"],
             "invalid_param", "three values for two channels")
    check_eq(conn.error("set_volume", handle=s.handle)["code"], "invalid_param", "nothing to set")
    st = conn.call("set_volume", handle=s.handle, db=-6)
    check(abs(st["volume"][0] - 10 ** (-6 / 20)) < 1e-6, "-6 dB: %r" % st["volume"])
    st = conn.call("set_volume", handle=s.handle, mute=True)
    check(st["mute"] and abs(st["volume"][1] - 10 ** (-6 / 20)) < 1e-6,
          "muted, keeping its volume: %r" % st)
    check_eq(other.error("set_volume", handle=s.handle, volume=1)["code"], "no_such_stream",
             "another client's stream")
    conn.call("stop", handle=s.handle)
    check_eq(conn.error("set_volume", handle=s.handle, volume=1)["code"], "busy",
             "a finished stream")
    s.close()
    r = conn.call("play", device="t_paced", channels=2, frames=1024, exclusive=True)
    s = Stream(conn, r)
    e = conn.error("set_volume", handle=s.handle, volume=0.5)
    check_eq(e["code"], "not_supported", "an exclusive stream: %s" % e["message"])
    check("exclusive" in e["message"], "the message says why: %s" % e["message"])
    check("volume" not in conn.call("get_status", handle=s.handle), "no volume in its status")
    conn.call("stop", handle=s.handle)
    s.close()
    # A detached playback belongs to its user once its client has gone.
    r = conn.call("play", device="t_paced", channels=2, frames=RATE * 4, detach=True,
                  stop_previous=False)
    s = Stream(conn, r)
    s.write_all(bytes(8 * RATE * 4))
    handle = s.handle
    s.close()
    conn.close()
    time.sleep(0.2)
    st = other.call("set_volume", handle=handle, volume=[0.5, 0.25])
    check_eq(st["volume"], [0.5, 0.25], "the user's other connection sets a detached playback's")
    code, out, err = D.sdctl("volume", str(handle), "50%")
    check_eq(code, 0, "sdctl volume HANDLE 50%% (%s)" % err)
    check("stream %d: 0.500 (-6.0 dB), 0.500 (-6.0 dB)" % handle in out, "sdctl prints: %r" % out)
    code, out, err = D.sdctl("volume", "--mute", "all")
    check(code == 0 and "muted" in out, "sdctl volume all --mute: %r %r" % (out, err))
    code, out, err = D.sdctl("--json", "volume", str(handle), "-6dB")
    got = json.loads(out)
    check(code == 0 and got[0]["handle"] == handle and got[0]["mute"] and
          abs(got[0]["volume"][0] - 10 ** (-6 / 20)) < 1e-6,
          "sdctl --json volume HANDLE -6dB (a negative level after HANDLE): %r %r" % (out, err))
    code, out, err = D.sdctl("volume", str(handle), "loud")
    check_eq(code, 2, "a bad level is a usage error")
    other.call("stop", handle=handle)
    other.close()


def wav_int16(path, rate, seconds, freq=1000):
    """Writes a stereo int16 WAV of a sine at rate; returns its frames."""
    frames = int(rate * seconds)
    samples = array.array("h", bytes(4 * frames))
    for i in range(frames):
        v = int(16000 * math.sin(2 * math.pi * freq * i / rate))
        samples[2 * i] = samples[2 * i + 1] = v
    with wave.open(path, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return frames


def test_sdctl_plays_any_rate():
    path = D.path("speech.wav")
    wav_int16(path, 22050, 1.0)
    mark = tap_mark(D)
    start = time.monotonic()
    code, out, err = D.sdctl("play", "-d", "t_paced", path)
    took = time.monotonic() - start
    check_eq(code, 0, "sdctl play of a 22050 Hz file (stderr %r)" % err)
    check(0.8 <= took <= 3.0, "a 1 s file played in %.2f s, at its speed" % took)
    time.sleep(0.3)
    x = left(tap_since(D, mark))
    first, last = signal_span(x)
    check(abs((last - first + 1) - RATE) <= PERIOD,
          "48000 frames in the 48 kHz tap (%d)" % (last - first + 1))
    code, out, err = D.sdctl("play", "-d", "t_paced", "-r", "48000", path)
    check(code == 2 and "22050" in err and "48000" in err,
          "-r that disagrees with the header is refused, naming both rates: %r" % err)
    rec = D.path("speech-rec.wav")
    code, out, err = D.sdctl("playrec", "-d", "t_paced", "-r", "48000", path, rec)
    check(code == 2 and "22050" in err and "48000" in err and not os.path.exists(rec),
          "playrec: -r that disagrees with the played file's header is refused before "
          "anything is recorded: %r" % err)
    code, out, err = D.sdctl("play", "-d", "system", "--exclusive", path)
    check(code == 1 and "22050" in err and "48000" in err,
          "an exclusive stream the device cannot take names both rates: %r" % err)


# ---- aligned playrec on JACK's system device, its output wired to its input ------------


def jack(*args):
    env = dict(os.environ)
    env.update(JACK.env())
    return subprocess.run(list(args), env=env, capture_output=True, text=True, timeout=30)


def wire_loop():
    """Wires the daemon's JACK outputs to its inputs instead of system's capture."""
    lines = jack("jack_lsp", "-c").stdout.splitlines()
    links, port = {}, None
    for line in lines:
        if not line.startswith(" "):
            port = line.strip()
            links[port] = []
        else:
            links[port].append(line.strip())
    # The daemon's JACK client is "sddaemon" (its ALSA jack plugin's are "sddaemon.P.…").
    outs = sorted(p for p in links if p.startswith("sddaemon:") and ":out_" in p
                  and "system:playback_1" in links[p] + links.get("system:playback_1", []))
    ins = sorted(p for p in links if p.startswith("sddaemon:") and ":in_" in p
                 and "system:capture_1" in links[p])
    check(outs and ins, "the duplex stream's JACK ports: %r" % lines)
    for p in ins:
        for src in links[p]:
            jack("jack_disconnect", src, p)
    check_eq(jack("jack_connect", outs[0], ins[0]).returncode, 0, "jack_connect")
    print("# looped %s -> %s" % (outs[0], ins[0]))


def playrec_offset(conn, dev, rate=RATE):
    """One playrec with an impulse at frame 1000; returns (measured offset, reported, reply)."""
    frames = int(rate * 0.1)
    played = array.array("f", bytes(8 * frames))
    played[2 * 1000] = played[2 * 1000 + 1] = 0.9
    r = conn.call("playrec", device=dev, data_channels=2, channels=2, frames=frames,
                  samplerate=rate)
    s = Stream(conn, r)
    s.write_all(played.tobytes())
    got = left(s.read_frames(frames, timeout=10))
    conn.call("wait", handle=s.handle)
    s.close()
    peak = max(range(len(got)), key=lambda i: abs(got[i]))
    return peak - 1000, r.get("offset_frames"), r


def test_hundred_playrecs_record_at_the_same_offset():
    conn = D.connect()
    dev = next(x["index"] for x in conn.call("query_devices") if x["name"] == "system")
    first = conn.call("playrec", device=dev, data_channels=2, channels=2, frames=RATE // 10)
    Stream(conn, first).close()
    conn.call("stop", handle=first["handle"])
    check_eq(first.get("aligned"), True, "a playrec on one device is aligned")
    modes = [ds["mode"] for ds in conn.call("daemon_status")["device_streams"]
             if ds["name"] == "system"]
    check_eq(modes, ["shared duplex"], "one duplex device stream on system")
    wire_loop()
    offsets, reported = [], set()
    for _ in range(100):
        measured, rep, _ = playrec_offset(conn, dev)
        offsets.append(measured)
        reported.add(rep)
    print("# 100 playrecs at 48 kHz: offsets %r, reported %r" % (sorted(set(offsets)), reported))
    check_eq(len(set(offsets)), 1, "one offset over 100 playrecs: %r" % sorted(set(offsets)))
    check(offsets[0] > 0, "the impulse came back after it was played (%d)" % offsets[0])
    check_eq(len(reported), 1, "the reply reports one offset")
    runs = [playrec_offset(conn, dev, 44100) for _ in range(20)]
    offsets = [m for m, _, _ in runs]
    reported = {rep for _, rep, _ in runs}
    print("# 20 playrecs at 44.1 kHz: offsets %r, reported %r" % (sorted(set(offsets)), reported))
    check_eq(len(set(offsets)), 1, "resampled too: %r" % sorted(set(offsets)))
    check(len(reported) == 1 and abs(offsets[0] - reported.pop()) <= 1,
          "the reported offset is the measured one (within a frame: the resamplers' delay)")
    conn.close()


# ---- no allocation on the audio thread ---------------------------------------------------


def alloc_counts(selftest):
    """Runs a daemon with the allocation counter while streams of three rates start,
    run and stop; returns (callbacks, heap calls) inside its audio callbacks."""
    count_file = os.path.join(D.dir, "alloc-%d.txt" % selftest)
    d = make_daemon("shared-alloc", env={
        "LD_PRELOAD": os.environ["SDD_ALLOC_COUNT_LIB"],
        "SDD_ALLOC_COUNT_FILE": count_file,
        "SDD_ALLOC_COUNT_SELFTEST": str(selftest)})
    try:
        d.start()
        conn = d.connect()
        system = next(x["index"] for x in conn.call("query_devices") if x["name"] == "system")
        streams = []
        for rnd in range(2):
            for rate in (22050, 44100, 48000):
                for dev in ("t_paced", system):
                    r = conn.call("play", device=dev, channels=2, samplerate=rate,
                                  frames=rate // 2, stop_previous=False)
                    s = Stream(conn, r)
                    s.write_all(make_signal("float32", rate // 2, 2, rate, 0.2))
                    streams.append(s)
            rec = Stream(conn, conn.call("rec", device=system, channels=2, samplerate=44100,
                                         frames=22050, stop_previous=False))
            pr = conn.call("playrec", device=system, data_channels=2, channels=2,
                           samplerate=22050, frames=11025, stop_previous=False)
            pr = Stream(conn, pr)
            pr.write_all(bytes(8 * 11025))
            conn.call("set_volume", handle=streams[-1].handle, volume=0.5)
            conn.call("stop", handle=streams[-2].handle)
            rec.read_frames(22050)
            pr.read_frames(11025)
            for s in streams + [rec, pr]:
                conn.call("wait", handle=s.handle)
                s.close()
            streams = []
        conn.close()
        check_eq(d.stop(), 0, "the counting daemon stops cleanly")
        with open(count_file) as f:
            counts = dict(line.split() for line in f)
        return int(counts["callbacks"]), int(counts["heap_calls"])
    finally:
        d.cleanup()


def test_no_allocation_on_the_audio_thread():
    if INSTRUMENTED:
        print("# skipped: the daemon runs under a wrapper or a sanitizer, which own malloc")
        return
    callbacks, heap = alloc_counts(0)
    print("# %d callbacks, %d heap calls inside them" % (callbacks, heap))
    check(callbacks >= 200, "the audio callbacks ran (%d)" % callbacks)
    check_eq(heap, 0, "heap calls inside the audio callbacks")
    callbacks, heap = alloc_counts(1)
    check(heap >= callbacks > 0, "the counter sees one (self-test: %d in %d callbacks)"
          % (heap, callbacks))


TESTS = [
    test_device_stream_opens_at_default_samplerate,
    test_resampled_sine_snr_and_length,
    test_resampled_sweep_passband,
    test_nan_beside_clean_stays_exact,
    test_volume_ramps_to_exactly_its_gain,
    test_set_volume_rules,
    test_sdctl_plays_any_rate,
    test_hundred_playrecs_record_at_the_same_offset,
    test_no_allocation_on_the_audio_thread,
]


def skip_all(reason):
    print("1..%d" % len(TESTS))
    for n, fn in enumerate(TESTS, 1):
        print("ok %d - %s # SKIP %s" % (n, fn.__name__, reason))
    return 0


def alsa_jack_plugin():
    return any(os.path.exists(p) for p in ("/usr/lib/x86_64-linux-gnu/alsa-lib/libasound_module_pcm_jack.so",
                                           "/usr/lib/aarch64-linux-gnu/alsa-lib/libasound_module_pcm_jack.so",
                                           "/usr/lib/alsa-lib/libasound_module_pcm_jack.so"))


if __name__ == "__main__":
    if not jackd_available():
        sys.exit(skip_all("jackd is not installed (Debian: jackd2)"))
    if not alsa_jack_plugin():
        sys.exit(skip_all("ALSA's jack plugin is not installed (Debian: libasound2-plugins)"))
    D = make_daemon("shared-jack")
    JACK = Jack(JACK_NAME, rate=RATE, period=PERIOD, log_path=D.path("jackd.log"))
    try:
        JACK.start()
        D.start()
        # The paced tap's device stream opens once and runs (idle time 60 s) for every test.
        c = D.connect()
        warm = Stream(c, c.call("play", device="t_paced", channels=2, frames=PERIOD))
        warm.write_all(bytes(8 * PERIOD))
        c.call("wait", handle=warm.handle)
        warm.close()
        c.close()
        status = run_tests(TESTS, daemon=D)
    finally:
        D.cleanup()  # the daemon first: it is JACK's client
        JACK.stop()
    sys.exit(status)
