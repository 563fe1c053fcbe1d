"""Device loss on jackd's dummy backend (issue 13): jackd killed with SIGKILL,
as a yanked USB interface looks to PortAudio (its callbacks stop, and calls
into it wait for a server that is gone).

- Killed under running streams of every kind (a shared playback, a shared
  recording, an exclusive playback and a shared duplex playrec), each client
  hears within 1 s that its stream failed with device_lost, and a
  subscriber gets a device_lost event per device stream; another client
  plays on the virtual ALSA taps throughout, bit for bit; the daemon keeps
  answering, abandons nothing, and a play on the dead device fails at once.
- Killed while its device stream is idle (before its idle close): lost the
  same way, with no stream on it.
- Killed and started again: a play on it works, with and without a rescan
  request; killed during a rescan, while streams open, and again and again.
- Killed, then SIGTERM (at once, and after the loss was handled): the
  daemon exits 0 within 2 s; under systemd's watchdog, WATCHDOG=1 keeps
  coming (a lost device is no trouble of the daemon's).
- libsdc surfaces the loss (tests/clients/test-loss-libsdc.c).

Each sequence prints how long it took ("# timing: ..."). jackd runs under
the fixed names of this file (a killed server's slot in JACK's registry is
taken back only by a server of the same name).  Without jackd every test
is skipped.
"""

import contextlib
import os
import signal
import struct
import subprocess
import sys
import threading
import time

from harness import (Daemon, Failure, Jack, Stream, check, check_eq, command, jackd_available,
                     locate, make_signal, run_tests, scaled)

JACK_NAME = "sdd-loss-jack"
JACK_API = "JACK Audio Connection Kit"
RATE = 48000
INT16_ZERO2 = bytes(4)

J = None
D = None
TIMINGS = []


def timing(what, seconds):
    TIMINGS.append((what, seconds))
    print("# timing: %s: %.3f s" % (what, seconds), flush=True)


def wait_for(what, fn, timeout=20):
    deadline = time.time() + scaled(timeout)
    while True:
        value = fn()
        if value:
            return value
        if time.time() > deadline:
            raise Failure("%s did not happen within %ss" % (what, timeout))
        time.sleep(0.02)


def system_of(conn):
    """The index of JACK's present "system" device, or None."""
    devs, apis = conn.device_list()
    for dev in devs:
        if (dev["name"] == "system" and dev.get("present", True)
                and apis[dev["hostapi"]]["name"] == JACK_API):
            return dev["index"]
    return None


def jack_up(conn):
    """Starts jackd when it is not running and waits until the daemon can
    play on it: the device is listed again at once, but PortAudio reaches a
    new server only once it has started again, when no device stream is
    open (until then a play is refused as busy)."""
    if J.proc is None or J.proc.poll() is not None:
        J.proc = None
        J.start()
    wait_for("JACK's system device", lambda: system_of(conn) is not None)

    def playable():
        system = system_of(conn)
        if system is None:
            return False
        msg = conn.request("play", device=system, channels=2, frames=480)
        if not msg.get("ok"):
            check_eq(msg["error"]["code"], "busy", "a play on JACK's system device")
            return False
        s = Stream(conn, msg["result"])
        s.write_all(bytes(480 * 8))
        conn.call("wait", handle=s.handle)
        s.close()
        return True

    wait_for("a play on JACK's system device", playable)
    return system_of(conn)


def kill_jack():
    """SIGKILL, as a yanked device; returns the time it died."""
    J.proc.kill()
    J.proc.wait()
    J.proc = None
    return time.monotonic()


def registry_slots(name):
    """How many slots of JACK's server registry name holds (1 at most: it is reused)."""
    try:
        with open("/dev/shm/jack-shm-registry", "rb") as f:
            data = f.read(24 + 8 * 264)
    except OSError:
        return 0
    slots = 0
    for i in range(8):
        entry = data[24 + i * 264 + 4:24 + (i + 1) * 264].split(b"\0")[0]
        slots += entry.decode(errors="replace").endswith(":" + name)
    return slots


class TapPlayer(threading.Thread):
    """Plays short int16 signals on the ALSA taps (exclusive streams, so that
    each stream's tap holds exactly what it played), one after another,
    alternating t_out and t_out2, each checked bit for bit; counts them."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.played = 0
        self.ends = []  # when each play was checked
        self.error = None

    def run(self):
        conn = D.connect(timeout=30)
        try:
            while not self.stop.is_set():
                tap = "t_out" if self.played % 2 == 0 else "t_out2"
                frames = 2400
                data = make_signal("int16", frames, 2, 1000 + self.played)
                r = conn.call("play", device=tap, channels=2, dtype="int16", frames=frames,
                              exclusive=True)
                s = Stream(conn, r)
                s.write_all(data)
                st = conn.call("wait", handle=s.handle)
                s.close()
                check_eq((st["state"], st["frames_played"]), ("finished", frames),
                         "play %d on %s" % (self.played, tap))
                name = "out.raw" if tap == "t_out" else "out2.raw"
                deadline = time.time() + scaled(5)
                while True:
                    try:
                        locate(D.read_file(name), data, 4, INT16_ZERO2,
                               "play %d on %s" % (self.played, tap))
                        break
                    except Failure:
                        if time.time() > deadline:
                            raise
                        time.sleep(0.02)
                self.played += 1
                self.ends.append(time.monotonic())
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e
        finally:
            conn.close()

    def finish(self, since):
        """Stops the player; checks every play was bit-exact and some ended after since."""
        self.stop.set()
        self.join(scaled(30))
        check(not self.is_alive(), "the tap player stopped")
        if self.error:
            raise Failure("the ALSA tap player failed: %s" % self.error)
        after = sum(1 for t in self.ends if t > since)
        check(after >= 1, "plays on the ALSA taps went on after the kill (%d of %d)"
              % (after, self.played))
        return after


def fill(s, seed):
    """Fills a playback's whole ring, without an end: it starts and plays ~10 s."""
    s.write_all(make_signal("float32", s.out.capacity, 2, seed, amplitude=0.25), eof=False)


def running_play(conn, system, seed, **params):
    r = conn.call("play", device=system, channels=2, buffer_frames=10 * RATE, **params)
    s = Stream(conn, r)
    fill(s, seed)
    s.wait_state("running", timeout=10)
    return s


def open_streams(system):
    """A shared playback, a shared recording, an exclusive playback and a
    shared duplex playrec on system, each on a connection of its own, all
    running; returns [(conn, stream, what)]."""
    out = []
    ten = 10 * RATE
    c = D.connect()
    out.append((c, running_play(c, system, 1), "shared play"))
    c = D.connect()
    r = c.call("rec", device=system, channels=2, buffer_frames=ten)
    out.append((c, Stream(c, r), "shared rec"))
    c = D.connect()
    out.append((c, running_play(c, system, 2, exclusive=True), "exclusive play"))
    c = D.connect()
    r = c.call("playrec", device=system, data_channels=2, channels=2, frames=ten)
    s = Stream(c, r)
    s.write_all(make_signal("float32", ten, 2, 3, amplitude=0.25), eof=False)
    out.append((c, s, "shared playrec"))
    for _c, s, what in out:
        s.wait_state("running", timeout=10)
    return out


def close_streams(streams):
    for c, s, _what in streams:
        s.close()
        c.close()


def check_lost(streams, since, budget=1.0):
    """Each stream's client hears of its failure (device_lost) within budget s."""
    worst = 0
    for c, s, what in streams:
        ev = c.event("finished", timeout=10, handle=s.handle)
        took = time.monotonic() - since
        worst = max(worst, took)
        check_eq((ev["state"], ev.get("error", {}).get("code")), ("failed", "device_lost"),
                 "%s: its finished event (%r)" % (what, ev.get("error")))
        check(took <= scaled(budget), "%s: told after %.2f s" % (what, took))
        check_eq(s.state(), "failed", "%s: the state in shared memory" % what)
    return worst


def daemon_healthy(conn):
    st = conn.call("daemon_status")
    check_eq(st["device_streams_abandoned"], 0, "device streams abandoned")
    conn.call("ping")
    return st


def test_kill_under_running_streams():
    mon = D.connect()
    mon.call("subscribe", events=["device_lost"])
    system = jack_up(mon)
    streams = open_streams(system)
    modes = sorted(ds["mode"] for ds in mon.call("daemon_status")["device_streams"]
                   if ds["device"] == system)
    check_eq(modes, ["exclusive", "shared duplex", "shared input", "shared output"],
             "the device streams on JACK")
    player = TapPlayer()
    player.start()
    wait_for("a first play on the taps", lambda: player.played >= 1 or player.error)
    t0 = kill_jack()
    worst = check_lost(streams, t0)
    timing("loss while running: every client told (4 streams, 4 device streams)", worst)
    lost = [mon.event("device_lost", timeout=5) for _ in range(4)]
    check_eq(sorted(ev["mode"] for ev in lost), modes, "one device_lost event per device stream")
    check(all(ev["device"] == system and ev["stable_id"] == "jack:system" for ev in lost),
          "the events name the device: %r" % lost[0])
    t = time.monotonic()
    err = mon.error("play", device=system, channels=2, frames=4800)
    timing("loss while running: a new play on the dead device refused", time.monotonic() - t)
    check(err["code"] in ("device_not_found", "busy", "portaudio_error"),
          "a play on the dead device fails: %r" % err)
    wait_for("the device streams on JACK to close",
             lambda: mon.call("daemon_status")["device_streams_closing"] == 0, timeout=5)
    after = player.finish(t0)
    print("# %d plays on the ALSA taps, bit for bit, %d after the kill" % (player.played, after))
    st = daemon_healthy(mon)
    check(all(ds["device"] != system for ds in st["device_streams"]),
          "no device stream on the dead device is left: %r" % st["device_streams"])
    close_streams(streams)
    mon.close()


def test_kill_while_idle():
    """Its own daemon, whose device streams stay open 60 s when idle: jackd
    dies while the device stream has no stream on it."""
    d = Daemon(args=["--device-idle-time", "60"], name="loss-idle", env=J.env())
    d.start()
    try:
        conn = d.connect()
        conn.call("subscribe", events=["device_lost"])
        system = jack_up(conn)
        r = conn.call("play", device=system, channels=2, frames=4800)
        s = Stream(conn, r)
        s.write_all(bytes(4800 * 8))
        check_eq(conn.call("wait", handle=s.handle)["state"], "finished", "the play")
        s.close()
        check_eq([ds["streams"] for ds in conn.call("daemon_status")["device_streams"]], [0],
                 "the idle device stream is open")
        t0 = kill_jack()
        ev = conn.event("device_lost", timeout=5)
        timing("loss while idle: device_lost", time.monotonic() - t0)
        check_eq((ev["device"], ev["streams"], ev["mode"]), (system, 0, "shared output"),
                 "the event")
        wait_for("the device stream to close",
                 lambda: not conn.call("daemon_status")["device_streams"], timeout=5)
        daemon_healthy(conn)
        conn.close()
        t = time.monotonic()
        check_eq(d.stop(), 0, "exit status after SIGTERM")
        timing("loss while idle, then SIGTERM", time.monotonic() - t)
    finally:
        d.cleanup()


def sigterm_exits(d, what):
    """Sends d SIGTERM and checks that it exits with status 0 within 2 s."""
    t = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    try:
        status = d.proc.wait(scaled(2))
    except subprocess.TimeoutExpired:
        raise Failure("sddaemon did not exit within 2 s of SIGTERM; its log ends:\n%s"
                      % d.read_log()[-3000:])
    timing(what, time.monotonic() - t)
    check_eq(status, 0, "exit status after SIGTERM")


def sigterm_after_loss(handled):
    """A daemon of its own with streams on JACK; jackd killed, then SIGTERM
    (at once, or once the streams have failed): exit status 0 within 2 s."""
    d = Daemon(args=["--device-idle-time", "60"], name="loss-term", env=J.env())
    d.start()
    try:
        conn = d.connect()
        system = jack_up(conn)
        s = running_play(conn, system, 9)
        r2 = conn.call("rec", device=system, channels=2, exclusive=True)
        s2 = Stream(conn, r2)
        s2.wait_state("running", timeout=10)
        t0 = kill_jack()
        if handled:
            conn.event("finished", timeout=5, handle=s.handle)
            conn.event("finished", timeout=5, handle=s2.handle)
        sigterm_exits(d, "loss%s then SIGTERM: exit" % (" handled" if handled else ""))
        check("could not be closed" not in d.read_log(), "every device stream closed")
        s.close()
        s2.close()
        conn.close()
    finally:
        d.cleanup()
    return t0


def test_sigterm_right_after_loss():
    sigterm_after_loss(False)


def test_sigterm_after_loss_handled():
    sigterm_after_loss(True)


def play_works(conn, system, what):
    frames = RATE // 2
    data = make_signal("float32", frames, 2, 5, amplitude=0.5)
    r = conn.call("play", device=system, channels=2, frames=frames)
    s = Stream(conn, r)
    s.write_all(data)
    st = conn.call("wait", handle=s.handle)
    s.close()
    check_eq((st["state"], st["frames_played"]), ("finished", frames),
             "%s (%r)" % (what, st.get("error")))


def test_restart_then_play():
    """jackd killed under a playback and started again: a play on it works."""
    conn = D.connect()
    system = jack_up(conn)
    s = running_play(conn, system, 4)
    t0 = kill_jack()
    conn.event("finished", timeout=5, handle=s.handle)
    s.close()
    J.start()
    # Listed again at once; opened once PortAudio started again (busy until then).
    system = jack_up(conn)
    timing("loss, restart: device usable again (no rescan)", time.monotonic() - t0)
    play_works(conn, system, "a play after the restart")
    timing("loss, restart, play", time.monotonic() - t0)
    conn.close()


def test_restart_rescan_then_play():
    conn = D.connect()
    system = jack_up(conn)
    D.wait_device_streams_closed(conn)
    r = conn.call("rec", device=system, channels=2, buffer_frames=10 * RATE)
    s = Stream(conn, r)
    s.wait_state("running", timeout=10)
    t0 = kill_jack()
    conn.event("finished", timeout=5, handle=s.handle)
    s.close()
    J.start()
    conn.call("rescan")
    system = jack_up(conn)
    play_works(conn, system, "a play after the restart and a rescan")
    timing("loss, restart, rescan, play", time.monotonic() - t0)
    conn.close()


def test_restart_sighup_then_play():
    """As the issue measured it: jackd killed, started again, then SIGHUP
    (which once aborted the daemon inside PortAudio's JACK code)."""
    conn = D.connect()
    system = jack_up(conn)
    s = running_play(conn, system, 10)
    t0 = kill_jack()
    conn.event("finished", timeout=5, handle=s.handle)
    s.close()
    J.start()
    D.proc.send_signal(signal.SIGHUP)
    system = jack_up(conn)
    play_works(conn, system, "a play after the restart and SIGHUP")
    timing("loss, restart, SIGHUP, play", time.monotonic() - t0)
    conn.close()


def wait_closes_returned(conn):
    """Waits until no device stream is open or closing (a close on JACK
    waits for the server's next cycle)."""
    def done():
        st = conn.call("daemon_status")
        return not st["device_streams"] and st["device_streams_closing"] == 0
    wait_for("the device streams' closes to return", done)


# The daemons of the stopped-server tests wait 3 s for a call on JACK (the
# device start timeout), also under valgrind and the sanitizers.
STOPPED_ARGS = ["--device-idle-time", "0", "--device-start-timeout", "3"]


@contextlib.contextmanager
def open_on_stopped_server():
    """A daemon of its own, with jackd stopped (SIGSTOP) as a server that
    stops answering, and an open on it that failed after the daemon's 3 s
    (its thread still waits for the server).  Yields (daemon, conn,
    system); jackd continues (SIGCONT) at the end."""
    d = Daemon(args=STOPPED_ARGS, name="loss-stop", env=J.env())
    d.start()
    try:
        conn, other = d.connect(), d.connect()
        system = jack_up(conn)
        wait_closes_returned(conn)
        os.kill(J.proc.pid, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            other.send({"id": 1, "cmd": "play", "device": system, "channels": 2, "frames": 480})
            reply = other.reply(1)
            took = time.monotonic() - t0
            timing("server stopped: the open answered", took)
            check(not reply.get("ok"), "an open on a stopped JACK server fails: %r" % reply)
            check_eq(reply["error"]["code"], "busy", "the error of an open on a stopped server")
            check("did not answer within 3.0 s" in reply["error"]["message"],
                  "the error says why: %r" % reply)
            check(took < 3 + scaled(2), "the open answered within 3 s (+2 s): %.2f s" % took)
            yield d, conn, system
        finally:
            os.kill(J.proc.pid, signal.SIGCONT)
        conn.close()
        other.close()
    finally:
        d.cleanup()


def test_stopped_server():
    """A JACK server that stops answering holds an open on the loop thread
    only for the device start timeout; then the daemon answers at once,
    refuses opens while the open waits, and after SIGCONT starts PortAudio
    again and plays on JACK."""
    with open_on_stopped_server() as (d, conn, system):
        t = time.monotonic()
        conn.call("ping")
        check(time.monotonic() - t < scaled(0.5), "a ping while the open waits is answered at once")
        t = time.monotonic()
        msg = conn.request("play", device=system, channels=2, frames=480)
        took = time.monotonic() - t
        check(not msg.get("ok") and msg["error"]["code"] == "busy",
              "an open while the given-up open waits is refused: %r" % msg)
        check(took < scaled(1), "refused at once (%.2f s)" % took)
        os.kill(J.proc.pid, signal.SIGCONT)
        t0 = time.monotonic()
        system = jack_up(conn)
        timing("server stopped, then continued: a play works", time.monotonic() - t0)
        play_works(conn, system, "a play after SIGCONT")
        daemon_healthy(conn)
        check_eq(d.stop(), 0, "exit status after SIGTERM")


def test_sigterm_while_open_waits():
    """jackd stopped, an open given up on (its thread still waits for the
    server), then SIGTERM: exit status 0 within 2 s."""
    with open_on_stopped_server() as (d, conn, system):
        sigterm_exits(d, "open waiting for a stopped server, then SIGTERM: exit")


def test_loss_during_rescan():
    """jackd dies while a rescan's probe runs: the rescan is answered, the
    streams fail, and the daemon serves on."""
    conn, other = D.connect(), D.connect()
    system = jack_up(conn)
    s = running_play(conn, system, 6)
    other.send({"id": 1, "cmd": "rescan"})
    t0 = kill_jack()
    reply = other.reply(1)
    timing("loss during a rescan: the rescan answered", time.monotonic() - t0)
    check("ok" in reply, "the rescan is answered: %r" % reply)
    ev = conn.event("finished", timeout=5, handle=s.handle)
    check_eq(ev["error"]["code"], "device_lost", "the stream's error")
    daemon_healthy(conn)
    s.close()
    conn.close()
    other.close()


def test_loss_while_streams_open():
    """jackd dies while a client opens plays on it as fast as it can: every
    request is answered, and no play that was accepted runs on in silence."""
    conn = D.connect()
    system = jack_up(conn)
    results, stop = [], threading.Event()

    def opener():
        c = D.connect(timeout=30)
        try:
            while not stop.is_set():
                msg = c.request("play", device=system, channels=2, frames=RATE)
                if not msg.get("ok"):
                    results.append(("error", msg["error"]["code"], time.monotonic()))
                    time.sleep(0.01)
                    continue
                s = Stream(c, msg["result"])
                s.write_all(bytes(RATE * 8))
                st = c.call("wait", handle=s.handle)
                s.close()
                results.append((st["state"], st.get("error", {}).get("code"), time.monotonic()))
        finally:
            c.close()

    t = threading.Thread(target=opener, daemon=True)
    t.start()
    time.sleep(0.3)
    t0 = kill_jack()
    time.sleep(1.5)
    stop.set()
    t.join(scaled(30))
    check(not t.is_alive(), "every request was answered")
    check(results, "some plays were asked for")
    told = [r[2] for r in results if r[2] > t0]
    check(told, "plays were answered after the kill")
    timing("loss while streams open: the first answer after the kill", told[0] - t0)
    bad = [r for r in results if r[0] not in ("finished", "failed", "error")
           or (r[0] == "failed" and r[1] != "device_lost")]
    check(not bad, "each play finished, failed with device_lost or was refused: %r" % bad)
    print("# %d plays: %d finished, %d lost, %d refused" % (
        len(results), sum(r[0] == "finished" for r in results),
        sum(r[0] == "failed" for r in results), sum(r[0] == "error" for r in results)))
    daemon_healthy(conn)
    conn.close()


def test_repeated_kill_and_restart():
    """Five cycles of: jackd up, a play running, jackd killed.  Each is
    lost and told; JACK's registry holds one slot for the name throughout."""
    conn = D.connect()
    for cycle in range(5):
        t = time.monotonic()
        system = jack_up(conn)
        s = running_play(conn, system, 7)
        t0 = kill_jack()
        ev = conn.event("finished", timeout=5, handle=s.handle)
        check_eq(ev["error"]["code"], "device_lost", "cycle %d: the stream's error" % cycle)
        s.close()
        timing("kill/restart cycle %d (restart, play, kill, told)" % cycle,
               time.monotonic() - t)
        check(time.monotonic() - t0 <= scaled(1), "cycle %d: told within 1 s" % cycle)
        check(registry_slots(JACK_NAME) <= 1, "JACK's registry holds the name once")
    daemon_healthy(conn)
    play_works(conn, jack_up(conn), "a play after the cycles")
    conn.close()


def test_loss_keeps_the_watchdog_fed():
    """A daemon of its own under systemd's watchdog (WATCHDOG_USEC 0.4 s):
    a lost device is no trouble of the daemon's, so WATCHDOG=1 keeps coming
    after jackd died under a playback (as it stops while the daemon's own
    audio thread is stuck: test_systemd)."""
    import systemd_harness
    d = systemd_harness.Daemon(name="loss-watchdog", watchdog_usec=400000,
                               args=["--device-idle-time", "60"], env=J.env())
    d.start()
    try:
        conn = d.connect()
        s = running_play(conn, jack_up(conn), 8)
        t0 = kill_jack()
        ev = conn.event("finished", timeout=5, handle=s.handle)
        check_eq(ev["error"]["code"], "device_lost", "the stream's error")
        told = time.monotonic() - t0
        n = d.notify.count()
        time.sleep(2)
        later = d.notify.snapshot()[n:]
        fed = sum(m.get("WATCHDOG") == "1" for m in later)
        timing("loss under the watchdog: the stream told", told)
        print("# %d WATCHDOG=1 in the 2 s after the loss" % fed)
        check(fed >= 5, "WATCHDOG=1 keeps coming after the loss: %d in 2 s (%r)"
              % (fed, later[-3:]))
        s.close()
        conn.close()
        check_eq(d.stop(), 0, "exit status after SIGTERM")
    finally:
        d.notify.close()
        d.cleanup()


def test_libsdc_hears_of_the_loss():
    """libsdc surfaces device_lost (tests/clients/test-loss-libsdc.c): the
    finished callback with the error, blocking write and read returning
    -ENODEV, sdc_wait() with the failed status."""
    program = os.environ.get("SDD_LOSS_LIBSDC")
    if not program:
        print("# SDD_LOSS_LIBSDC is not set: the libsdc part is not run")
        return
    conn = D.connect()
    jack_up(conn)
    env = dict(D.env)
    env["SDDAEMON_SOCKET"] = D.socket
    p = subprocess.Popen(command(program), env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    lines = []
    try:
        for line in p.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("# ready") or line.startswith("Bail out"):
                break
        check(lines and lines[-1].startswith("# ready"), "the program is ready: %r" % lines)
        kill_jack()
        p.stdin.write("killed\n")
        p.stdin.flush()
        out, _ = p.communicate(timeout=scaled(60))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    lines += out.splitlines()
    for line in lines:
        print("# libsdc: " + line)
    failed = [line for line in lines if line.startswith("not ok")]
    check(not failed and p.returncode == 0, "libsdc's checks: %r (status %r)"
          % (failed, p.returncode))
    check(sum(line.startswith("ok") for line in lines) >= 6, "every check ran")
    conn.close()


def main():
    global J, D
    if not jackd_available():
        print("1..0 # SKIP jackd is not installed (apt-get install jackd2)")
        return 0
    J = Jack(JACK_NAME)
    J.start()
    D = Daemon(name="loss-jack", args=["--device-idle-time", "0"], env=J.env())
    try:
        D.start()
        status = run_tests([
            test_kill_under_running_streams,
            test_kill_while_idle,
            test_sigterm_right_after_loss,
            test_sigterm_after_loss_handled,
            test_restart_then_play,
            test_restart_rescan_then_play,
            test_restart_sighup_then_play,
            test_stopped_server,
            test_sigterm_while_open_waits,
            test_loss_during_rescan,
            test_loss_while_streams_open,
            test_repeated_kill_and_restart,
            test_loss_keeps_the_watchdog_fed,
            test_libsdc_hears_of_the_loss,
        ], daemon=D)
        for what, seconds in TIMINGS:
            print("# %-70s %.3f s" % (what, seconds))
        return status
    finally:
        D.cleanup()
        if J.proc is not None:
            J.stop()


if __name__ == "__main__":
    sys.exit(main())
