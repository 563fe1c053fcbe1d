"""The audio engine through real PortAudio on virtual ALSA devices (issue 3).

Every stream here is driven through its shared-memory rings by the
harness's independent Python client, and checked against what really
reached the devices: the raw files the ALSA "file" plugin writes (the taps
t_out and t_out2) and reads (the capture source in.raw, float32 stereo
here, made by this test).  These PCMs are not paced (a second of audio
passes in milliseconds), so nothing here measures time; pacing is tested
on jackd in test_engine_jack.py.

The daemon runs with a short device idle time so that each test starts
with no device stream open: a new device stream truncates its tap and
reads in.raw from its start.
"""

import array
import errno
import fcntl
import os
import random
import signal
import subprocess
import sys
import time

from harness import (Daemon, Failure, Stream, channel, check, check_eq, from_float32, interleave,
                     locate, make_signal, run_tests, silence, scaled, to_float32, WRAPPER)
from shmlayout import DTYPE_SIZE, DTYPES, R_READ, R_WRITE

D = None
IDLE_TIME = 0.2                 # seconds: --device-idle-time
INPUT_FRAMES = 1 << 22          # frames of in.raw (float32 stereo, 32 MiB)
INPUT = b""                     # in.raw's bytes
F32_ZERO2 = bytes(8)            # a silent float32 stereo frame (the shared streams' taps)
PERIOD = 512                    # frames: blocksize where a test needs to know it


def make_input():
    """The capture source, float32 stereo.  Channel 1 holds multiples of
    5 * 2^-17 up to ±1.25: ties for int16, int8 and uint8 rounding, and
    saturation beyond ±1.  Channel 2 holds full-precision values up to ±1.2.
    Random, so that any part of the file can be told from any other."""
    rng = random.Random(3)
    m = array.array("h", rng.randbytes(2 * INPUT_FRAMES))
    r = array.array("i", rng.randbytes(4 * INPUT_FRAMES))
    out = array.array("f", bytes(8 * INPUT_FRAMES))
    out[0::2] = array.array("f", (v * 5 / 131072 for v in m))
    out[1::2] = array.array("f", (v * (1.2 / 2147483648) for v in r))
    return out.tobytes()


_converted = {}
WINDOW = 1 << 16  # frames of in.raw converted at a time


def converted(dtype, start):
    """in.raw's frames [start, start + WINDOW) as a shared capture stream delivers them in dtype."""
    if start >= INPUT_FRAMES:
        return b""
    if (dtype, start) not in _converted:
        _converted[(dtype, start)] = from_float32(dtype, INPUT[start * 8:(start + WINDOW) * 8])
    return _converted[(dtype, start)]


def find_in_input(dtype, data, channels=2, channel_index=None):
    """Where data, recorded in dtype from a shared stream (converted from
    float32), lies in in.raw: its first frame, or -1.  With channel_index,
    data is that one input channel."""
    size = DTYPE_SIZE[dtype]
    fb = channels * size
    frames = len(data) // fb
    for start in range(0, INPUT_FRAMES, WINDOW):
        # The next window too, so that data crossing the boundary is found.
        conv = converted(dtype, start) + converted(dtype, start + WINDOW)
        if channel_index is not None:
            conv = channel(conv, channel_index, 2, size)
        conv = conv[:(WINDOW + frames) * fb]
        at = conv.find(data)
        while at >= 0 and at % fb:
            at = conv.find(data, at + 1)
        if at >= 0:
            return start + at // fb
    return -1


OPEN = []  # connections of the running test, closed after it whatever happens


def connect():
    conn = D.connect()
    OPEN.append(conn)
    return conn


def fresh():
    """A new connection, once no device stream is open any more."""
    conn = connect()
    D.wait_device_streams_closed(conn)
    return conn


def status_ok(st, handle, frames_played=None, frames_recorded=None):
    check_eq(st["handle"], handle, "status handle")
    check_eq(st["state"], "finished", "state of stream %d (%r)" % (handle, st.get("error")))
    check("error" not in st, "no error: %r" % st.get("error"))
    if frames_played is not None:
        check_eq(st["frames_played"], frames_played, "frames_played")
        check_eq(st["underflow_frames"], 0, "underflow_frames")
    if frames_recorded is not None:
        check_eq(st["frames_recorded"], frames_recorded, "frames_recorded")
        check_eq(st["overflow_frames"], 0, "overflow_frames")


def progresses(conn, handle, key, timeout=10):
    """Checks that the counter key of a running stream grows (polling get_status,
    which also reads the events that pile up meanwhile)."""
    first = conn.call("get_status", handle=handle)
    deadline = time.time() + scaled(timeout)
    while True:
        time.sleep(0.01)
        st = conn.call("get_status", handle=handle)
        check_eq(st["state"], "running", "stream %d still runs" % handle)
        if key(st) > key(first):
            return st
        check(time.time() < deadline, "stream %d does not progress: %r" % (handle, st))


def play(conn, data, **params):
    """Starts a play, writes all of data (then the end mark) and waits for the end."""
    r = conn.call("play", **params)
    s = Stream(conn, r)
    s.write_all(data)
    st = conn.call("wait", handle=s.handle)
    return s, r, st


def final_tap(conn, name="out.raw"):
    """The tap's content once its device stream has closed."""
    D.wait_device_streams_closed(conn)
    return D.read_file(name)


def rec(conn, frames, **params):
    """Records frames (reading the ring as it fills) and waits for the end."""
    r = conn.call("rec", frames=frames, **params)
    s = Stream(conn, r)
    data = s.read_frames(frames)
    st = conn.call("wait", handle=s.handle)
    return s, r, st, data


# ---- Bit-exact paths: exclusive streams ----------------------------------------

def test_exclusive_play_every_dtype_bit_exact():
    conn = connect()
    for seed, dtype in enumerate(DTYPES):
        D.wait_device_streams_closed(conn)
        size = DTYPE_SIZE[dtype]
        frames = 3001  # not a multiple of any period
        data = make_signal(dtype, frames, 2, seed)
        s, r, st = play(conn, data, device="t_out", channels=2, dtype=dtype, frames=frames,
                        exclusive=True)
        check_eq(r["exclusive"], True, "exclusive stream")
        check_eq((r["out"]["dtype"], r["out"]["frame_bytes"], r["out"]["stream_channels"]),
                 (dtype, 2 * size, 2), "out ring of %s" % dtype)
        status_ok(st, s.handle, frames_played=frames)
        check_eq(s.state(), "finished", "state in shared memory")
        # The file plugin writes the stream's own format: the data itself, among silence.
        locate(D.read_file("out.raw"), data, 2 * size, silence(dtype) * 2, "%s data" % dtype)
        s.close()
    conn.close()


def test_declared_length_ends_without_end_mark():
    """A play with frames ends after that many, end mark or not: a client that
    never sets it (or sets it late) causes no underflow, and frames written
    beyond the declared length are not played."""
    conn = connect()
    for exclusive in (True, False):
        D.wait_device_streams_closed(conn)
        frames = 3001
        data = make_signal("float32", frames + 500, 2, 40)
        r = conn.call("play", device="t_out", channels=2, frames=frames, exclusive=exclusive)
        s = Stream(conn, r)
        s.write_all(data, eof=False)
        deadline = time.time() + scaled(10)
        while True:
            st = conn.call("get_status", handle=s.handle)
            if st["state"] == "finished" or time.time() > deadline:
                break
            time.sleep(0.01)
        status_ok(st, s.handle, frames_played=frames)
        check_eq(st["underflow_frames"], 0, "no underflow (exclusive=%s)" % exclusive)
        check(not st["flags"]["output_underflow"], "no underflow flag: %r" % st["flags"])
        locate(final_tap(conn), data[:frames * 8], 8, F32_ZERO2,
               "the declared frames alone in the tap (exclusive=%s)" % exclusive)
        s.close()
    conn.close()


def test_exclusive_rec_every_dtype_bit_exact():
    conn = connect()
    for dtype in DTYPES:
        D.wait_device_streams_closed(conn)
        fb = 2 * DTYPE_SIZE[dtype]
        frames = 5000
        s, r, st, data = rec(conn, frames, device="t_in", channels=2, dtype=dtype,
                             exclusive=True)
        status_ok(st, s.handle, frames_recorded=frames)
        check_eq(len(data), frames * fb, "bytes read from the ring")
        # in.raw's bytes as they are, from its first byte.
        check(data == INPUT[:frames * fb], "%s recording equals the start of in.raw" % dtype)
        s.close()
    conn.close()


# ---- Shared streams: float32 mix and fan-out -----------------------------------

def test_shared_play_every_dtype_as_float32():
    conn = connect()
    for seed, dtype in enumerate(DTYPES):
        D.wait_device_streams_closed(conn)
        frames = 4000
        data = make_signal(dtype, frames, 2, 100 + seed)
        s, r, st = play(conn, data, device="t_out", channels=2, dtype=dtype, frames=frames)
        check_eq(r["exclusive"], False, "shared stream")
        status_ok(st, s.handle, frames_played=frames)
        # The shared device stream is float32: each sample scaled by 2^-(bits-1).
        locate(final_tap(conn), to_float32(dtype, data), 8, F32_ZERO2,
               "%s data as float32" % dtype)
        s.close()
    conn.close()


def test_shared_rec_every_dtype_converted():
    conn = connect()
    for dtype in DTYPES:
        D.wait_device_streams_closed(conn)
        fb = 2 * DTYPE_SIZE[dtype]
        frames = 4096
        s, r, st, data = rec(conn, frames, device="t_in", channels=2, dtype=dtype)
        check_eq(r["exclusive"], False, "shared stream")
        status_ok(st, s.handle, frames_recorded=frames)
        check_eq(len(data), frames * fb, "bytes read")
        # The device stream ran before the client was attached: find where it joined.
        at = find_in_input(dtype, data)
        check(at >= 0, "%s recording is a contiguous, correctly converted part of in.raw" % dtype)
        # What it was compared with held samples beyond ±1 (saturated) and exact ties.
        src = array.array("f", INPUT[at * 8:(at + frames) * 8])
        check(any(abs(v) > 1 for v in src), "saturating samples among the input")
        check(any((v * 32768) % 1 == 0.5 for v in src), "int16 rounding ties among the input")
        s.close()
    conn.close()


def test_shared_mix_is_clipped_unless_clip_off():
    conn = connect()
    loud = array.array("f", [1.5, -1.5, 0.25, -2.0] * 500).tobytes()
    clipped = array.array("f", [1.0, -1.0, 0.25, -1.0] * 500).tobytes()
    for clip_off, want in ((False, clipped), (True, loud)):
        D.wait_device_streams_closed(conn)
        s, r, st = play(conn, loud, device="t_out", channels=2, frames=1000, clip_off=clip_off)
        status_ok(st, s.handle, frames_played=1000)
        locate(final_tap(conn), want, 8, F32_ZERO2, "clip_off=%s" % clip_off)
        s.close()
    conn.close()


# ---- Channel mapping --------------------------------------------------------

def test_mapping_2_plays_on_channel_2_only():
    conn = fresh()
    data = make_signal("float32", 2000, 1, 7)
    s, r, st = play(conn, data, device="t_out", channels=1, mapping=[2], frames=2000)
    check_eq(r["out"]["stream_channels"], 2, "stream channels")
    status_ok(st, s.handle, frames_played=2000)
    locate(final_tap(conn), interleave([bytes(len(data)), data], 4), 8, F32_ZERO2,
           "channel 1 silent, channel 2 the data")
    conn.close()


def test_mono_on_shared_stream_plays_on_channels_1_and_2():
    conn = fresh()
    data = make_signal("int16", 2000, 1, 8)
    s, r, st = play(conn, data, device="t_out", channels=1, dtype="int16", frames=2000)
    status_ok(st, s.handle, frames_played=2000)
    f = to_float32("int16", data)
    locate(final_tap(conn), interleave([f, f], 4), 8, F32_ZERO2, "mono on both channels")
    conn.close()


def test_exclusive_mapping_1_makes_silent_channel_2():
    conn = fresh()
    data = make_signal("int16", 2000, 1, 9)
    s, r, st = play(conn, data, device="t_out", channels=1, dtype="int16", mapping=[1],
                    frames=2000, exclusive=True)
    check_eq(r["out"]["stream_channels"], 2, "mapping [1]: a 2-channel stream")
    status_ok(st, s.handle, frames_played=2000)
    locate(D.read_file("out.raw"), interleave([data, bytes(len(data))], 2), 4, bytes(4),
           "channel 1 the data, channel 2 silent")
    # Without a mapping, mono data makes a mono exclusive stream.
    D.wait_device_streams_closed(conn)
    s, r, st = play(conn, data, device="t_out", channels=1, dtype="int16", frames=2000,
                    exclusive=True)
    check_eq(r["out"]["stream_channels"], 1, "no mapping: a 1-channel stream")
    status_ok(st, s.handle, frames_played=2000)
    locate(D.read_file("out.raw"), data, 2, bytes(2), "mono data")
    conn.close()


def test_invalid_mappings():
    conn = connect()
    for params in ({"channels": 2, "mapping": [1, 1]},
                   {"channels": 1, "mapping": [0]},
                   {"channels": 2, "mapping": [2, 0]},
                   {"channels": 3, "mapping": [3, 1, 3]},
                   {"channels": 2, "mapping": [1]},        # data channels != mapping length
                   {"channels": 3, "mapping": [1, 2]},
                   {"channels": 1, "mapping": [1, 1, 2]},
                   {"channels": 1, "mapping": "1"},
                   {"channels": 1, "mapping": []}):
        err = conn.error("play", device="t_out", frames=100, **params)
        check_eq(err["code"], "invalid_param", "play %r" % params)
    for params in ({"mapping": [2, 2]}, {"mapping": [0, 1]}, {"mapping": [1.5]}):
        err = conn.error("rec", device="t_in", frames=100, **params)
        check_eq(err["code"], "invalid_param", "rec %r" % params)
    err = conn.error("playrec", device="t_duplex", frames=100, data_channels=2,
                     output_mapping=[1], channels=2)
    check_eq(err["code"], "invalid_param", "playrec data channels != output mapping length")
    check_eq(conn.call("daemon_status")["my_streams"], [], "no stream was started")
    conn.close()


def test_rec_mapping_2_1_swaps_channels():
    conn = fresh()
    frames = 3000
    s, r, st, data = rec(conn, frames, device="t_in", mapping=[2, 1], dtype="int16",
                         exclusive=True)
    check_eq(r["in"]["channels"], 2, "recorded channels")
    status_ok(st, s.handle, frames_recorded=frames)
    src = INPUT[:frames * 4]  # in.raw read as int16 stereo by the exclusive stream
    want = interleave([channel(src, 1, 2, 2), channel(src, 0, 2, 2)], 2)
    check(data == want, "channel 1 holds input channel 2 and channel 2 input channel 1")
    # And on a shared stream, one input channel alone.
    D.wait_device_streams_closed(conn)
    s, r, st, data = rec(conn, frames, device="t_in", mapping=[2])
    status_ok(st, s.handle, frames_recorded=frames)
    check(find_in_input("float32", data, 1, channel_index=1) >= 0,
          "mapping [2] records input channel 2")
    conn.close()


# ---- Loop, playrec ----------------------------------------------------------

def test_loop_then_stop():
    for exclusive, dtype, frame_bytes in ((False, "float32", 8), (True, "int16", 4)):
        conn = fresh()
        frames = 1000
        data = make_signal(dtype, frames, 2, 20)
        r = conn.call("play", device="t_out", channels=2, dtype=dtype, frames=frames, loop=True,
                      exclusive=exclusive, blocksize=PERIOD)
        s = Stream(conn, r)
        s.write_all(data)
        deadline = time.time() + scaled(10)
        while True:
            st = conn.call("get_status", handle=s.handle)
            if st["frames_played"] > 4 * frames:
                break
            check(time.time() < deadline, "a loop plays beyond its frames: %r" % st)
            time.sleep(0.005)
        check_eq(st["state"], "running", "the loop is running")
        st = conn.call("stop", handle=s.handle)
        check_eq(st["state"], "finished", "state after stop")
        played = st["frames_played"]
        check(played > frames, "frames_played %d > %d" % (played, frames))
        check_eq(conn.call("wait", handle=s.handle)["state"], "finished", "wait after stop")
        ev = conn.event("finished", handle=s.handle)
        check_eq(ev["state"], "finished", "finished event")
        # An exclusive stream is aborted at once.  On a shared stream, what the audio
        # thread was already mixing is played out: PortAudio may fill one host buffer
        # with two callbacks, so at most two periods more, and then nothing.
        later = conn.call("get_status", handle=s.handle)["frames_played"]
        for _ in range(100):
            time.sleep(0.02)
            settled = conn.call("get_status", handle=s.handle)["frames_played"]
            if settled == later:
                break
            later = settled
        check(played <= later <= played + (0 if exclusive else 2 * PERIOD),
              "exclusive=%s: %d frames played after stop reported %d" % (exclusive, later, played))
        time.sleep(0.05)
        check_eq(conn.call("get_status", handle=s.handle)["frames_played"], later,
                 "nothing plays after stop")
        tap = final_tap(conn)
        want = to_float32(dtype, data) if not exclusive else data
        check(want * 3 in tap, "exclusive=%s: the sound repeats back to back in the tap"
              % exclusive)
        check_eq(len(tap) % frame_bytes, 0, "whole frames")
        conn.close()


def test_playrec_on_duplex_device():
    for exclusive, dtype in ((True, "int16"), (False, "float32")):
        conn = fresh()
        frames = 6000
        fb = 2 * DTYPE_SIZE[dtype]
        data = make_signal(dtype, frames, 2, 30)
        r = conn.call("playrec", device="t_duplex", data_channels=2, data_dtype=dtype,
                      channels=2, frames=frames, exclusive=exclusive)
        check_eq(r["in"]["dtype"], dtype, "recording dtype defaults to data_dtype")
        s = Stream(conn, r)
        s.write_all(data)
        got = s.read_frames(frames)
        st = conn.call("wait", handle=s.handle)
        status_ok(st, s.handle, frames_played=frames, frames_recorded=frames)
        check_eq(len(got), frames * fb, "bytes recorded")
        # The output reached t_out's tap ...
        tap = final_tap(conn)
        locate(tap, data if exclusive else to_float32(dtype, data), fb if exclusive else 8,
               silence(dtype) * 2 if exclusive else F32_ZERO2, "played data (exclusive=%s)"
               % exclusive)
        # ... and the input is a contiguous part of in.raw (from where playback started).
        at = INPUT.find(got)
        check(at >= 0 and at % fb == 0, "recording is in.raw's data (exclusive=%s)" % exclusive)
        conn.close()


def test_open_ended_playrec_ends_with_its_playback():
    for exclusive in (True, False):
        conn = fresh()
        frames = 3000
        data = make_signal("float32", frames, 2, 31)
        r = conn.call("playrec", device="t_duplex", data_channels=2, channels=2,
                      exclusive=exclusive)
        s = Stream(conn, r)
        s.write_all(data)
        s.read_until_end(timeout=20)
        conn.send({"id": "w", "cmd": "wait", "handle": s.handle})
        conn.sock.settimeout(scaled(10))
        try:
            st = conn.reply("w")
        except OSError:
            raise Failure("exclusive=%s: an open-ended playrec never ended (%r)"
                          % (exclusive, s.status()))
        check(st.get("ok"), "wait: %r" % st)
        st = st["result"]
        check_eq(st["state"], "finished", "state")
        check_eq(st["frames_played"], frames, "frames_played")
        if exclusive:
            # Input and output run in the same periods: it records while it plays.
            check(st["frames_recorded"] >= frames, "recorded %d frames" % st["frames_recorded"])
        # Shared, input and output are two unpaced device streams: how much the input
        # captured while 3000 frames played is a race; that it ended is what counts here
        # (test_engine_jack measures a paced playrec).
        conn.close()


# ---- Several clients ----------------------------------------------------------

def judge_mix(tap, const, ramp, mixed, attempt):
    """Checks the tap of test_two_clients_mix: A (const) and B (ramp) mixed,
    each frame of each exactly once; returns False when B came after A had
    ended (both then whole, one after the other)."""
    fa, fb = len(const) // 8, len(ramp) // 8
    # The first frame that is not silence (float32 0.25 begins with zero bytes).
    first = (len(tap) - len(tap.lstrip(b"\0"))) // 8 * 8
    at = tap.find(mixed)
    if at >= 0:
        # B inside A: A alone, then A+B, then A.
        check(at % 8 == 0 and first <= at, "the sum of A and B is in the tap, after A's start")
        k = (at - first) // 8
        want = const[:8 * k] + mixed + const[:8 * (fa - k - fb)]
        locate(tap, want, 8, F32_ZERO2, "A, then A+B, then A")
        return True
    if tap[first:first + 8] == ramp[:8]:
        # B first, by j frames: B alone, then A+B, then A.
        j = 1
        while j < fb and tap[first + 8 * j:first + 8 * j + 8] == ramp[8 * j:8 * j + 8]:
            j += 1
        check(j < fb, "B starts before A and A starts while B plays")
        want = ramp[:8 * j] + mixed[8 * j:] + const[:8 * (fa - (fb - j))]
        locate(tap, want, 8, F32_ZERO2, "B, then A+B (B %d frames ahead), then A" % j)
        return True
    a_end = tap.find(const) + len(const)
    b_at = tap.find(ramp, max(a_end, 0))
    check(a_end >= len(const) and b_at >= a_end,
          "not mixed: then A, and B after it, are in the tap (attempt %d)" % attempt)
    locate(tap[:b_at], const, 8, F32_ZERO2, "A alone (attempt %d)" % attempt)
    locate(tap[a_end:], ramp, 8, F32_ZERO2, "B alone (attempt %d)" % attempt)
    return False


def test_two_clients_mix():
    # A: a long constant; B: a short ramp, started about when A starts, so that
    # B lies inside A.
    fa, fb = 1 << 19, 8192
    const = array.array("f", [0.25, -0.25] * fa).tobytes()
    ramp = array.array("f", [v for i in range(fb) for v in ((i + 1) / 65536, -(i + 1) / 65536)])
    ramp = ramp.tobytes()
    mixed = array.array("f", [v + c for v, c in zip(array.array("f", ramp),
                                                    [0.25, -0.25] * fb)]).tobytes()
    # t_out is not paced: a test process descheduled between A's start and B's
    # (seen under valgrind on a loaded machine) lets A end before B begins.
    # Then both must still be in the tap whole, and the mix is tried again.
    for attempt in range(5):
        a, b = fresh(), connect()
        ra = a.call("play", device="t_out", channels=2, frames=fa)
        rb = b.call("play", device="t_out", channels=2, frames=fb)
        sa, sb = Stream(a, ra), Stream(b, rb)
        # Both hold all but their last frame: they wait, complete, in prefill.
        check_eq(sa.write_some(const[:-8]), len(const) - 8, "A's ring takes the sound")
        check_eq(sb.write_some(ramp[:-8]), fb * 8 - 8, "B's ring takes the sound")
        check_eq((sa.state(), sb.state()), ("prefill", "prefill"), "both wait for their data")
        # A's last frame starts it, B's right after.  Usually B starts in A's
        # first period or a later one; but the audio thread may look at A just
        # before both last frames arrive and at B just after, and start B a
        # period before A.
        sa.write_some(const[-8:])
        sb.write_some(ramp[-8:])
        sta, stb = a.call("wait", handle=sa.handle), b.call("wait", handle=sb.handle)
        status_ok(sta, sa.handle, frames_played=fa)
        status_ok(stb, sb.handle, frames_played=fb)
        tap = final_tap(a)
        for c in (a, b):
            c.close()
        if judge_mix(tap, const, ramp, mixed, attempt):
            return
    raise Failure("A and B never overlapped in 5 attempts")


def test_two_clients_record_the_same_input():
    # t_in is not paced: while the daemon sets up B's stream, the device races on.  So A
    # records eight times longer than B, and an attempt whose recordings do not overlap
    # (or start past in.raw's end) is repeated; what each recorded is checked every time.
    fa, fb = 1 << 21, 1 << 18
    for attempt in range(5):
        a, b = fresh(), connect()
        # Pipelined, so that B joins A's device stream as soon as possible.
        for conn, frames in ((a, fa), (b, fb)):
            conn.send({"id": 1, "cmd": "rec", "device": "t_in", "channels": 2,
                       "frames": frames, "buffer_frames": frames})
        ra, rb = a.reply(1), b.reply(1)
        check(ra["ok"] and rb["ok"], "both recordings start: %r %r" % (ra, rb))
        sa, sb = Stream(a, ra["result"]), Stream(b, rb["result"])
        db, da = sb.read_frames(fb), sa.read_frames(fa)
        status_ok(a.call("wait"), sa.handle, frames_recorded=fa)
        status_ok(b.call("wait"), sb.handle, frames_recorded=fb)
        for conn in (a, b):
            conn.close()
        pos = []
        for who, data in (("A", da), ("B", db)):
            at = INPUT.find(data[:8 * 64])
            while at >= 0 and at % 8:
                at = INPUT.find(data[:8 * 64], at + 1)
            if at < 0 or at + len(data) > len(INPUT):
                break  # it began too late: in.raw was used up
            check(data == INPUT[at:at + len(data)],
                  "%s's recording is a contiguous part of in.raw (from frame %d)"
                  % (who, at // 8))
            pos.append(at)
        if len(pos) < 2:
            continue
        pa, pb = pos
        lo, hi = max(pa, pb), min(pa + 8 * fa, pb + 8 * fb)
        if hi <= lo:
            continue  # B joined after A's recording was complete
        check(da[lo - pa:hi - pa] == db[lo - pb:hi - pb], "identical data where they overlap")
        return
    raise Failure("in 5 attempts the two recordings never overlapped")


CHILD = r"""
import sys, time
sys.path.insert(0, %r)
from harness import Conn, Stream
c = Conn(%r)
r = c.call("play", device="t_out", channels=2, frames=4096, loop=True)
s = Stream(c, r)
s.write_all(bytes([1]) * 4096 * 8)
r2 = c.call("rec", device="t_in", channels=2, stop_previous=False)
s2 = Stream(c, r2)
while s.state() != "running":
    time.sleep(0.001)
print("running", s.handle, r2["handle"], flush=True)
while True:  # the recording overflows: read its xrun events, as a client should
    c.call("ping")
    c.events.clear()
    s2.inp._copy_out(s2.inp.fill())
    time.sleep(0.01)
"""


def quiet_fd_count(conn, timeout=20):
    """The daemon's descriptor count once no stream runs, no device stream is
    open, and the count holds still (closed connections are gone)."""
    deadline = time.time() + scaled(timeout)
    last = None
    while True:
        st = conn.call("daemon_status")
        fds = D.fd_count()
        if (st["streams"], st["device_streams"], fds) == (0, [], last):
            return fds
        check(time.time() < deadline, "the daemon does not settle: %r, %d fds" % (st, fds))
        last = fds
        time.sleep(0.1)


def test_sigkill_client_frees_its_streams():
    conn = connect()
    baseline = quiet_fd_count(conn)
    here = os.path.dirname(os.path.abspath(__file__))
    child = subprocess.Popen([sys.executable, "-c", CHILD % (here, D.socket)],
                             stdout=subprocess.PIPE, env=D.env)
    try:
        line = child.stdout.readline().decode()
        check(line.startswith("running"), "the child plays and records: %r" % line)
        st = conn.call("daemon_status")
        check_eq(st["streams"], 2, "two streams running")
        check_eq(len(st["device_streams"]), 2, "two device streams")
        check(D.fd_count() > baseline, "the streams hold descriptors")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    check_eq(conn.call("ping"), {}, "the daemon serves on")
    deadline = time.time() + scaled(10) + IDLE_TIME
    while True:
        st = conn.call("daemon_status")
        fds = D.fd_count()
        if st["streams"] == 0 and not st["device_streams"] and fds == baseline:
            break
        check(time.time() < deadline, "after SIGKILL: streams %d, device streams %r, %d fds "
              "(baseline %d)" % (st["streams"], st["device_streams"], fds, baseline))
        time.sleep(0.05)
    conn.close()


# ---- Hostile and foreign clients ----------------------------------------------

def test_hostile_playback_index_fails_only_its_stream():
    for garbage in ("capacity*3", "behind"):
        good, bad = fresh(), connect()
        rg = good.call("play", device="t_out", channels=2, frames=2048, loop=True)
        sg = Stream(good, rg)
        sg.write_all(make_signal("float32", 2048, 2, 40))
        sg.wait_state("running")
        rb = bad.call("play", device="t_out", channels=2, buffer_frames=4096)
        sb = Stream(bad, rb)
        sb.write_all(bytes(4096 * 8), eof=False)  # a full ring: it plays (then underflows)
        sb.wait_state("running")
        cap = sb.out.capacity
        ring = sb.out
        ring._set_u32(R_WRITE, cap * 3 if garbage == "capacity*3" else ring._u32(R_READ) - 5)
        st = bad.call("wait", handle=sb.handle)
        check_eq(st["state"], "failed", "%s: state" % garbage)
        check_eq(st["error"]["code"], "protocol_violation", "%s: error code" % garbage)
        ev = bad.event("finished", handle=sb.handle)
        check_eq((ev["state"], ev["error"]["code"]), ("failed", "protocol_violation"),
                 "finished event")
        check_eq(sb.state(), "failed", "state in shared memory")
        # The other client's stream plays on, on the same device stream.
        progresses(good, sg.handle, lambda st: st["frames_played"])
        check_eq(good.call("stop", handle=sg.handle)["state"], "finished", "good stream stops")
        check_eq(bad.call("ping"), {}, "the hostile client's connection still works")
        for c in (good, bad):
            c.close()


def test_hostile_capture_index_fails_only_its_stream():
    good, bad = fresh(), connect()
    # Open-ended recordings on an unpaced device overflow at once: a flood of xrun
    # events that each client reads (through its requests) lest it be dropped.
    rg = good.call("rec", device="t_in", channels=2)
    sg = Stream(good, rg)
    rb = bad.call("rec", device="t_in", channels=2)
    sb = Stream(bad, rb)
    sb.read_frames(100)
    # read_index ahead of write_index: the consumer claims frames never written (by more
    # than the daemon could write meanwhile, so that it is wrong whenever it is checked).
    sb.inp._set_u32(R_READ, sb.inp._u32(R_WRITE) + 2 * sb.inp.capacity)
    st = bad.call("wait", handle=sb.handle)
    check_eq((st["state"], st["error"]["code"]), ("failed", "protocol_violation"), "bad stream")
    progresses(good, sg.handle, lambda st: st["frames_recorded"] + st["overflow_frames"])
    check(len(sg.read_frames(1000)) == 8000, "the good client reads its ring")
    good.call("stop")
    for c in (good, bad):
        c.close()


def test_hostile_exclusive_stream_fails():
    conn = fresh()
    r = conn.call("play", device="t_out2", channels=2, dtype="int16", buffer_frames=1024,
                  exclusive=True)
    s = Stream(conn, r)
    s.out._set_u32(R_WRITE, 0x80000000)
    st = conn.call("wait", handle=s.handle)
    check_eq((st["state"], st["error"]["code"]), ("failed", "protocol_violation"), "status")
    check_eq(conn.call("daemon_status")["device_streams"], [], "its device stream is closed")
    conn.close()


def test_sealed_memfd_cannot_be_resized():
    conn = fresh()
    r = conn.call("play", device="t_null", channels=2, frames=1000)
    s = Stream(conn, r)
    seals = fcntl.fcntl(s.memfd, fcntl.F_GET_SEALS)
    want = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL
    check_eq(seals & want, want, "seals")
    for size in (s.size + 4096, s.size - 4096, 0):
        try:
            os.ftruncate(s.memfd, size)
        except OSError as e:
            check_eq(e.errno, errno.EPERM, "ftruncate to %d" % size)
        else:
            raise Failure("ftruncate to %d succeeded" % size)
    try:
        fcntl.fcntl(s.memfd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE)
    except OSError as e:
        check_eq(e.errno, errno.EPERM, "adding a seal")
    else:
        raise Failure("a seal could be added")
    check_eq(os.fstat(s.memfd).st_size, s.size, "size unchanged")
    s.write_all(bytes(8000))
    status_ok(conn.call("wait"), s.handle, frames_played=1000)
    conn.close()


def test_other_clients_handles_are_no_such_stream():
    owner, other = fresh(), connect()
    r = owner.call("play", device="t_null", channels=2, frames=1000)
    s = Stream(owner, r)
    for cmd in ("stop", "wait", "get_status", "close"):
        err = other.error(cmd, handle=s.handle)
        check_eq(err["code"], "no_such_stream", "%s on another client's stream" % cmd)
        err = other.error(cmd)
        check_eq(err["code"], "no_such_stream", "%s without any stream" % cmd)
    err = other.error("stop", handle=s.handle + 1000)
    check_eq(err["code"], "no_such_stream", "a handle that never existed")
    check_eq(s.state(), "prefill", "the owner's stream is untouched")
    s.write_all(bytes(8000))
    status_ok(owner.call("wait", handle=s.handle), s.handle, frames_played=1000)
    for c in (owner, other):
        c.close()


# ---- Limits and parameters ----------------------------------------------------

def test_stream_limits():
    conn = fresh()
    handles = []
    for i in range(16):  # max_streams_per_client's default
        handles.append(conn.call("play", device="t_null", channels=2, frames=1000,
                                 stop_previous=False)["handle"])
    err = conn.error("play", device="t_null", channels=2, frames=1000, stop_previous=False)
    check_eq(err["code"], "limit_exceeded", "a 17th stream")
    err = conn.error("rec", device="t_in", channels=2, frames=1000, stop_previous=False)
    check_eq(err["code"], "limit_exceeded", "a 17th stream (rec)")
    conn.call("stop", handle=handles[0])
    conn.call("play", device="t_null", channels=2, frames=1000, stop_previous=False)
    conn.close()
    conn = connect()
    err = conn.error("play", device="t_null", channels=64, buffer_frames=1 << 26)
    check_eq(err["code"], "limit_exceeded", "more shared memory than max_shm_per_client")
    conn.close()


def test_stream_reply_reports_the_device_period():
    """A stream's reply says how many frames its device stream moves at once
    (clients keep at least that much queued): the block size the device
    stream was opened with, for a later client of the running shared stream
    too; without one, what its periods have moved once it ran."""
    conn = fresh()
    r = conn.call("open_stream", kind="output", device="t_out", channels=2, blocksize=300)
    a = Stream(conn, r)
    check_eq(r["output_period"], 300, "the block size the device stream was opened with")
    r = conn.call("open_stream", kind="output", device="t_out", channels=2, blocksize=100)
    b = Stream(conn, r)
    check_eq(r["output_period"], 300, "a later client of the same device stream")
    r = conn.call("open_stream", kind="input", device="t_in", channels=2)
    c = Stream(conn, r)
    conn.call("start_stream", handle=c.handle)
    c.read_frames(4096)
    r = conn.call("open_stream", kind="input", device="t_in", channels=2)
    d = Stream(conn, r)
    check(r["input_period"] > 0, "the period of a device stream that ran: %r" % r)
    for s in (a, b, c, d):
        conn.call("close", handle=s.handle)
        s.close()
    conn.close()


def test_open_stream_without_channels_takes_all_the_device_has():
    """As in sounddevice, an open_stream without a channel count gets all the
    device's channels: the 128 of t_out (PortAudio's count for ALSA
    plugins), not 64."""
    conn = fresh()
    r = conn.call("open_stream", kind="duplex", device="t_duplex", buffer_frames=16384)
    s = Stream(conn, r)
    check_eq((r["out"]["channels"], r["in"]["channels"]), (128, 128), "channels")
    conn.call("close", handle=s.handle)
    s.close()
    conn.close()


def test_parameter_validation():
    conn = connect()
    bad = [
        ("play", {"device": "t_out"}),                                   # no channels
        ("play", {"device": "t_out", "channels": 0}),
        ("play", {"device": "t_out", "channels": 257}),                 # STREAM_MAX_CHANNELS + 1
        ("play", {"device": "t_out", "channels": 2, "loop": True}),      # loop without frames
        ("play", {"device": "t_out", "channels": 2, "frames": 1 << 26, "loop": True}),
        ("play", {"device": "t_out", "channels": 2, "frames": 0}),
        ("play", {"device": "t_out", "channels": 2, "latency": "medium"}),
        ("play", {"device": "t_out", "channels": 2, "latency": -0.1}),
        ("play", {"device": "t_out", "channels": 2, "latency": 11}),
        ("play", {"device": "t_out", "channels": 2, "latency": True}),
        ("play", {"device": "t_out", "channels": 2, "latency": [0.1]}),
        ("play", {"device": "t_out", "channels": 2, "latency": [0.1, 0.1, 0.1]}),
        ("play", {"device": "t_out", "channels": 2, "latency": ["high", "fast"]}),
        ("play", {"device": "t_out", "channels": 2, "dtype": "float64"}),
        ("play", {"device": "t_out", "channels": 2, "dtype": "int12"}),
        ("play", {"device": "t_out", "channels": 2, "speed": 2}),
        ("rec", {"device": "t_in"}),                                     # no channels, no mapping
        ("rec", {"device": "t_in", "channels": 2, "dtype": "float64"}),
        ("rec", {"device": "t_in", "channels": 2, "loop": True, "frames": 10}),
        ("rec", {"device": "t_in", "channels": 2, "detach": True}),
        ("rec", {"device": "t_in", "channels": 2, "latency": "lowest"}),
        ("playrec", {"device": "t_duplex", "channels": 2}),              # no data_channels
        ("playrec", {"device": "t_duplex", "data_channels": 2}),         # no channels
        ("playrec", {"device": "t_duplex", "data_channels": 2, "channels": 2,
                     "data_dtype": "float64"}),
        ("playrec", {"device": "t_duplex", "data_channels": 2, "channels": 2,
                     "dtype": "float64"}),
    ]
    for cmd, params in bad:
        err = conn.error(cmd, **params)
        check_eq(err["code"], "invalid_param", "%s %r" % (cmd, params))
    check_eq(conn.call("daemon_status")["my_streams"], [], "nothing was started")
    # The same parameters, valid, are accepted.
    for latency in ("low", "high", 0.05, [0.05, "high"], None):
        conn.call("play", device="t_null", channels=2, frames=10, latency=latency)
    conn.call("rec", device="t_in", channels=2, frames=10, latency="low")
    conn.close()


# ---- Detach -------------------------------------------------------------------

def test_detached_play_outlives_its_client():
    conn = fresh()
    frames = 20000
    data = make_signal("float32", frames, 2, 50)
    r = conn.call("play", device="t_out", channels=2, frames=frames, detach=True)
    s = Stream(conn, r)
    # Most of the sound, then the client goes away while the stream waits for the rest.
    check_eq(s.write_some(data[:-8000]), len(data) - 8000, "ring takes the data")
    check_eq(s.state(), "prefill", "waiting for the rest")
    conn.close()
    other = connect()
    # Once the daemon has seen the client go, its playback belongs to the user:
    # another connection of the same user may address it by handle.
    deadline = time.time() + scaled(10)
    while not other.request("get_status", handle=s.handle).get("ok"):
        check(time.time() < deadline, "the detached playback outlives its client and "
              "belongs to its user (get_status by handle from another connection)")
        time.sleep(0.01)
    check_eq(other.call("daemon_status")["detached"], 1, "one detached playback")
    check_eq(s.state(), "prefill", "still waiting")
    # The memory is still mapped: the rest of the sound arrives after the goodbye.
    s.write_all(data[-8000:])
    # The user who started it may still wait for it.
    other.send({"id": "w", "cmd": "wait", "handle": s.handle})
    other.sock.settimeout(scaled(10))
    try:
        msg = other.reply("w")
    except OSError:
        raise Failure("no reply to wait on a detached playback (state %s)" % s.state())
    check(msg.get("ok"), "wait on the detached playback: %r" % msg)
    status_ok(msg["result"], s.handle, frames_played=frames)
    locate(final_tap(other), data, 8, F32_ZERO2, "the whole sound")
    check_eq(other.call("daemon_status")["detached"], 0, "no detached playback left")
    s.close()
    other.close()


def test_detached_play_stopped_by_its_client():
    conn = fresh()
    for exclusive in (False, True):
        r = conn.call("play", device="t_out", channels=2, frames=1000, detach=True,
                      exclusive=exclusive)
        h = r["handle"]
        Stream(conn, r)
        st = conn.call("stop", handle=h)
        check_eq((st["handle"], st["state"]), (h, "finished"), "stop (exclusive=%s)" % exclusive)
        check_eq(conn.call("get_status", handle=h)["state"], "finished", "record kept")
        check_eq(conn.call("close", handle=h)["handle"], h, "and closed")
    check_eq(conn.call("daemon_status")["detached"], 0, "no detached playback left")
    conn.close()


def test_signals_blocked_in_every_thread():
    """SIGINT, SIGTERM and SIGHUP are read from a signalfd: blocked in every
    thread of the daemon, the audio threads included, so that no signal
    handler ever interrupts a callback."""
    conn = fresh()
    r = conn.call("play", device="t_out", channels=2, frames=4096, loop=True)
    s = Stream(conn, r)
    s.write_all(bytes(4096 * 8))
    deadline = time.time() + scaled(10)
    while s.state() != "running":
        check(time.time() < deadline, "the loop runs")
        time.sleep(0.01)
    if WRAPPER:
        # Under valgrind the threads are valgrind's: their masks are its own.
        conn.call("stop", handle=s.handle)
        return
    tasks = "/proc/%d/task" % D.proc.pid
    masks = {}
    for tid in os.listdir(tasks):
        with open(os.path.join(tasks, tid, "status")) as f:
            for line in f:
                if line.startswith("SigBlk:"):
                    masks[tid] = int(line.split()[1], 16)
    conn.call("stop", handle=s.handle)
    check(len(masks) >= 2, "the daemon runs an audio thread besides the loop: %r" % masks)
    want = sum(1 << (sig - 1) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP))
    for tid, mask in masks.items():
        check(mask & want == want, "thread %s blocks SIGINT, SIGTERM and SIGHUP (mask %#x)"
              % (tid, mask))


def with_diagnostics(test):
    """Runs test; a failure carries the daemon's device streams and the end of its log."""
    def run():
        try:
            test()
        except Exception as e:
            try:
                conn = D.connect(timeout=5)
                status = conn.call("daemon_status")
                conn.close()
            except Exception as e2:  # noqa: BLE001 - a diagnostic, whatever happened
                status = "(daemon_status failed: %r)" % e2
            log = "\n".join(D.read_log().splitlines()[-40:])
            failure = Failure("%s\ndaemon_status: %r" % (e, status))
            failure.log = "the daemon's log ends:\n" + log
            raise failure from e
        finally:
            while OPEN:
                OPEN.pop().close()
    run.__name__ = test.__name__
    return run


def selected(tests):
    """The tests whose names contain one of the command line's words (all without any)."""
    words = sys.argv[1:]
    return [with_diagnostics(t) for t in tests
            if not words or any(w in t.__name__ for w in words)]


if __name__ == "__main__":
    INPUT = make_input()
    D = Daemon(name="engine", args=["-v", "--device-idle-time", str(IDLE_TIME)])
    try:
        D.write_input(INPUT)
        D.start()
        status = run_tests(selected([
            test_exclusive_play_every_dtype_bit_exact,
            test_declared_length_ends_without_end_mark,
            test_exclusive_rec_every_dtype_bit_exact,
            test_shared_play_every_dtype_as_float32,
            test_shared_rec_every_dtype_converted,
            test_shared_mix_is_clipped_unless_clip_off,
            test_mapping_2_plays_on_channel_2_only,
            test_mono_on_shared_stream_plays_on_channels_1_and_2,
            test_exclusive_mapping_1_makes_silent_channel_2,
            test_invalid_mappings,
            test_rec_mapping_2_1_swaps_channels,
            test_loop_then_stop,
            test_playrec_on_duplex_device,
            test_open_ended_playrec_ends_with_its_playback,
            test_two_clients_mix,
            test_two_clients_record_the_same_input,
            test_sigkill_client_frees_its_streams,
            test_hostile_playback_index_fails_only_its_stream,
            test_hostile_capture_index_fails_only_its_stream,
            test_hostile_exclusive_stream_fails,
            test_sealed_memfd_cannot_be_resized,
            test_other_clients_handles_are_no_such_stream,
            test_stream_limits,
            test_stream_reply_reports_the_device_period,
            test_open_stream_without_channels_takes_all_the_device_has,
            test_parameter_validation,
            test_detached_play_outlives_its_client,
            test_detached_play_stopped_by_its_client,
            test_signals_blocked_in_every_thread,
        ]), daemon=D)
    finally:
        D.cleanup()
    sys.exit(status)
