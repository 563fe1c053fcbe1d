"""The audio engine in real time: jackd's dummy backend (48 kHz, 256-frame
periods) through PortAudio's JACK host API (issue 3).

The virtual ALSA devices of test_engine.py are not paced; jackd's dummy
driver is, so here a stream takes as long as its audio lasts.  Durations
are asserted within generous windows: that is behaviour (the stream is
paced), not a benchmark.  With --no-realtime, JACK may flag spurious
under/overflows on its first periods; what the daemon controls is the
stream's own ring, so underflow_frames and the frame counts are exact.

jackd is started before the daemon (PortAudio lists devices when it
initialises) under a name of its own, exported as JACK_DEFAULT_SERVER, and
stopped by its PID at the end.  Without jackd every test is skipped.
"""

import os
import sys
import time

from harness import (Daemon, Failure, Jack, Stream, check, check_eq, jackd_available, make_signal,
                     run_tests)

D = None
RATE = 48000
PERIOD = 256
JACK_API = "JACK Audio Connection Kit"


def system_device(conn):
    """The id of JACK's "system" device."""
    apis = conn.call("query_hostapis")
    for dev in conn.call("query_devices"):
        if dev["name"] == "system" and apis[dev["hostapi"]]["name"] == JACK_API:
            return dev["index"]
    raise Failure("no JACK device 'system' among the devices")


def test_jack_system_device_is_listed():
    conn = D.connect()
    dev = conn.call("query_devices", device=system_device(conn))
    check_eq((dev["max_input_channels"], dev["max_output_channels"], dev["default_samplerate"]),
             (2, 2, float(RATE)), "system device")
    conn.close()


def timed_play(exclusive, seconds=2):
    conn = D.connect()
    dev = system_device(conn)
    frames = seconds * RATE
    data = make_signal("float32", frames, 2, 60, amplitude=0.5)
    r = conn.call("play", device=dev, channels=2, frames=frames, exclusive=exclusive)
    check_eq(r["samplerate"], float(RATE), "stream rate")
    check(r["out"]["capacity"] >= frames, "the whole sound fits the ring")
    s = Stream(conn, r)
    start = time.monotonic()
    s.write_all(data)  # all of it at once: the daemon plays it at the device's pace
    st = conn.call("wait", handle=s.handle)
    took = time.monotonic() - start
    check_eq(st["state"], "finished", "state (%r)" % st.get("error"))
    check_eq(st["frames_played"], frames, "frames_played")
    check_eq(st["underflow_frames"], 0, "the stream's ring never ran dry")
    check(1.5 <= took <= 4.0, "a %d s play took %.2f s" % (seconds, took))
    # The device stream ran in JACK's periods.
    status = conn.call("daemon_status")
    conn.close()
    return status


def test_two_second_play_takes_two_seconds_shared():
    status = timed_play(exclusive=False)
    streams = [ds for ds in status["device_streams"] if ds["mode"] == "shared output"]
    check_eq(len(streams), 1, "one shared output device stream")
    check(streams[0]["callbacks"] >= 2 * RATE // PERIOD,
          "at least one callback per %d-frame period: %r" % (PERIOD, streams[0]))


def test_two_second_play_takes_two_seconds_exclusive():
    timed_play(exclusive=True)


def test_three_second_rec_yields_exactly_144000_frames():
    for exclusive in (False, True):
        conn = D.connect()
        frames = 3 * RATE
        r = conn.call("rec", device=system_device(conn), channels=2, frames=frames,
                      exclusive=exclusive)
        s = Stream(conn, r)
        check(s.inp.capacity < frames, "the client reads while it records")
        start = time.monotonic()
        data = s.read_frames(frames, timeout=20)
        st = conn.call("wait", handle=s.handle)
        took = time.monotonic() - start
        check_eq(st["state"], "finished", "state (%r)" % st.get("error"))
        check_eq(len(data), frames * 8, "bytes read (exclusive=%s)" % exclusive)
        check_eq(st["frames_recorded"], frames, "frames_recorded")
        check_eq(st["overflow_frames"], 0, "overflow_frames")
        check(2.5 <= took <= 6.0, "a 3 s recording took %.2f s" % took)
        # Nothing more arrives after the end.
        time.sleep(0.1)
        check_eq(s.inp.fill(), 0, "the ring holds nothing more")
        check_eq(conn.call("get_status", handle=s.handle)["frames_recorded"], frames,
                 "frames_recorded after the end")
        conn.close()


def test_one_second_playrec():
    conn = D.connect()
    frames = RATE
    data = make_signal("float32", frames, 2, 61, amplitude=0.5)
    r = conn.call("playrec", device="system", data_channels=2, channels=2, frames=frames)
    s = Stream(conn, r)
    start = time.monotonic()
    s.write_all(data)
    got = s.read_frames(frames, timeout=20)
    st = conn.call("wait", handle=s.handle)
    took = time.monotonic() - start
    check_eq(st["state"], "finished", "state (%r)" % st.get("error"))
    check_eq((st["frames_played"], st["underflow_frames"]), (frames, 0), "playback")
    check_eq((st["frames_recorded"], st["overflow_frames"]), (frames, 0), "recording")
    check_eq(len(got), frames * 8, "bytes read")
    check(0.75 <= took <= 3.0, "a 1 s playrec took %.2f s" % took)
    conn.close()


TESTS = [
    test_jack_system_device_is_listed,
    test_two_second_play_takes_two_seconds_shared,
    test_two_second_play_takes_two_seconds_exclusive,
    test_three_second_rec_yields_exactly_144000_frames,
    test_one_second_playrec,
]


def skip_all(reason):
    print("1..%d" % len(TESTS))
    for n, fn in enumerate(TESTS, 1):
        print("ok %d - %s # SKIP %s" % (n, fn.__name__, reason))
    return 0


if __name__ == "__main__":
    if not jackd_available():
        sys.exit(skip_all("jackd is not installed (Debian: jackd2)"))
    name = "sdd-test-%d" % os.getpid()
    D = Daemon(name="engine-jack", env={"JACK_DEFAULT_SERVER": name})
    jack = Jack(name, rate=RATE, period=PERIOD, log_path=D.path("jackd.log"))
    try:
        jack.start()
        D.start()
        status = run_tests(TESTS, daemon=D)
    finally:
        D.cleanup()  # the daemon first: it is JACK's client
        jack.stop()
    sys.exit(status)
