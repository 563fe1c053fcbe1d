"""The device list while devices come and go (issue 13), on virtual ALSA
devices: PCMs added to and removed from the test's ALSA configuration, then
a rescan (the rescan command, SIGHUP, or a udev event fed through the
daemon's test seam, since there is no udev daemon here).

- A PCM added while a stream plays on another device: the stream plays on
  bit for bit (a looping exclusive stream, whose tap must be its sound
  repeated without a frame lost or doubled), devices_changed reaches the
  clients that subscribed and no other, the new device plays; removal
  likewise, with the device keeping its index (gone) while device streams
  are open, and the list closing up once none is.
- Stable ids, generations, and a request based on a stale generation
  refused.
- The configured default device falling back and returning.
- sdctl devices --watch.

The daemon runs with a short device idle time, so that device streams
close soon after their streams end.
"""

import os
import select
import signal
import subprocess
import sys
import time

from harness import (SDCTL, Daemon, Failure, Stream, check, check_eq, command, locate,
                     make_signal, run_tests, scaled, silence)

D = None
F32_ZERO2 = bytes(8)


def pcm(name):
    """An ALSA file tap called name, writing name.raw in the daemon's folder."""
    return ('pcm.%s { type file; slave.pcm "null"; format "raw"; file "%s"\n'
            '  hint { show on; description "hot-added tap" } }\n'
            % (name, D.path(name + ".raw")))


def rewrite(path, text):
    """Replaces a configuration file at once (a rename): the daemon may be
    reading it (a rescan, PortAudio starting again), and a file half written
    is not a configuration anyone has."""
    with open(path + ".new", "w") as f:
        f.write(text)
    os.rename(path + ".new", path)


def add_pcm(name, path=None):
    path = path or D.asound
    with open(path) as f:
        text = f.read()
    rewrite(path, text + pcm(name).replace(D.dir, os.path.dirname(path)))


def remove_pcm(name, path=None):
    path = path or D.asound
    with open(path) as f:
        text = f.read()
    rewrite(path, text.replace(pcm(name).replace(D.dir, os.path.dirname(path)), ""))


def names(conn):
    return [d["name"] for d in conn.call("query_devices")]


def index_of(conn, name):
    for d in conn.call("query_devices"):
        if d["name"] == name:
            return d["index"]
    raise Failure("no device %r in %r" % (name, names(conn)))


def no_devices_changed(conn):
    """Checks that conn got no devices_changed event: a round trip reads all it was sent."""
    conn.call("ping")
    got = [e for e in conn.events if e.get("event") == "devices_changed"]
    check(not got, "no devices_changed for a client that did not subscribe: %r" % got)


def play(conn, device, frames=3001, seed=5):
    data = make_signal("float32", frames, 2, seed)
    r = conn.call("play", device=device, channels=2, frames=frames)
    s = Stream(conn, r)
    s.write_all(data)
    st = conn.call("wait", handle=s.handle)
    s.close()
    return data, st


def test_ids_and_generation():
    conn = D.connect()
    reply = conn.request("query_devices")
    check(isinstance(reply.get("generation"), int) and reply["generation"] >= 1,
          "the reply carries the list's generation: %r" % reply.get("generation"))
    for d in reply["result"]:
        check_eq((d["stable_id"], d["present"]), ("alsa:" + d["name"], True),
                 "stable id of ALSA PCM %r" % d["name"])
    hello = conn.request("hello")
    check_eq(hello["generation"], reply["generation"], "every reply carries it")
    one = conn.call("query_devices", device="alsa:t_out2")
    check_eq(one["name"], "t_out2", "a stable id selects its device")
    conn.close()


def test_hot_added_pcm_while_playing():
    sub, other = D.connect(), D.connect()
    sub.call("subscribe", events=["devices_changed"])
    D.wait_device_streams_closed(sub)
    count, generation = len(names(sub)), sub.request("ping")["generation"]

    # A looping exclusive stream plays on t_out throughout.
    loop_data = make_signal("uint8", 4801, 1, 17)
    r = other.call("play", device="t_out", channels=1, dtype="uint8", frames=4801, loop=True,
                   exclusive=True)
    looping = Stream(other, r)
    looping.write_all(loop_data)
    deadline = time.time() + scaled(10)
    while other.call("get_status", handle=looping.handle)["frames_played"] < 3 * 4801:
        check(time.time() < deadline, "the loop plays")
        time.sleep(0.005)

    add_pcm("t_new")
    result = sub.call("rescan")
    check_eq((result["changed"], result["generation"], result["devices"]),
             (True, generation + 1, count + 1), "the rescan's result")
    ev = sub.event("devices_changed", timeout=5)
    check_eq([(d["name"], d["stable_id"], d["index"]) for d in ev["added"]],
             [("t_new", "alsa:t_new", count)], "devices_changed lists the new device, appended")
    check_eq((ev["generation"], ev["removed"], ev["renumbered"]), (generation + 1, [], False),
             "nothing else changed")
    no_devices_changed(other)
    check_eq(names(sub)[:count], names(sub)[:count], "the other devices kept their indices")

    data, st = play(sub, "t_new")
    check_eq((st["state"], st["frames_played"]), ("finished", 3001),
             "a play on the new device (%r)" % st.get("error"))
    check_eq(other.call("get_status", handle=looping.handle)["state"], "running",
             "the loop plays on")

    # Removal: the device keeps its index, gone, while device streams are open.
    # (Not its own: a device whose device stream is open stays until that closes.)
    deadline = time.time() + scaled(10)
    while len(sub.call("daemon_status")["device_streams"]) > 1:
        check(time.time() < deadline, "t_new's device stream closes")
        time.sleep(0.02)
    remove_pcm("t_new")
    check_eq(sub.call("rescan")["generation"], generation + 2, "removal is a new generation")
    ev = sub.event("devices_changed", timeout=5)
    check_eq([(d["name"], d["stable_id"], d["index"]) for d in ev["removed"]],
             [("t_new", "alsa:t_new", count)], "devices_changed lists the removed device")
    no_devices_changed(other)
    gone = sub.call("query_devices", device=count)
    check_eq((gone["name"], gone["present"], gone["max_output_channels"]), ("t_new", False, 0),
             "it keeps its index while device streams are open, gone and without channels")
    err = sub.error("play", device=count, channels=2, frames=100)
    check_eq(err["code"], "device_not_found", "a play on it is refused: %r" % err)
    check("no longer present" in err["message"], "and says why: %r" % err)

    # The loop's tap: its sound over and over, not a frame lost or doubled.
    other.call("stop", handle=looping.handle)
    played = other.call("get_status", handle=looping.handle)["frames_played"]
    looping.close()
    D.wait_device_streams_closed(sub)
    tap = D.read_file("out.raw")
    start = tap.find(loop_data)
    check(start >= 0 and tap[:start] == silence("uint8") * start,
          "the loop's sound comes after silence in the tap")
    want = loop_data * (played // 4801 + 1)
    check(tap[start:start + played] == want[:played],
          "the tap holds the loop's %d frames, repeated exactly (%d MB)" % (played, len(tap) >> 20))
    locate(D.read_file("t_new.raw"), data, 8, F32_ZERO2, "the new device's sound")

    # No device stream open now: the list closes up.
    ev = sub.event("devices_changed", timeout=5)
    check_eq((ev["generation"], ev["devices"], ev["added"], ev["removed"]),
             (generation + 3, count, [], []), "the gone device is dropped once nothing is open")
    check_eq(len(names(sub)), count, "the list is back to its length")
    sub.close()
    other.close()


def test_stale_generation_refused():
    conn = D.connect()
    g = conn.request("ping")["generation"]
    check_eq(conn.call("query_devices", device="t_out", generation=g)["name"], "t_out",
             "a request based on the current generation")
    add_pcm("t_stale")
    conn.call("rescan")
    err = conn.error("play", device=1, channels=2, frames=100, generation=g)
    check_eq((err["code"], err["generation"]), ("stale_generation", g + 1),
             "a request based on an older generation is refused: %r" % err)
    check("query the devices again" in err["message"], "the message says what to do")
    check_eq(conn.error("ping", generation="x")["code"], "invalid_param", "a bad generation")
    check_eq(conn.error("ping", generation=0)["code"], "invalid_param", "generation 0")
    remove_pcm("t_stale")
    conn.call("rescan")
    conn.close()


def test_subscriptions():
    conn = D.connect()
    check_eq(conn.call("subscribe", events=["devices_changed"])["events"], ["devices_changed"],
             "subscribed")
    check_eq(conn.call("unsubscribe", events=["devices_changed"])["events"], [],
             "unsubscribed")
    for bad in (["xrun"], [], "devices_changed", [3]):
        check_eq(conn.error("subscribe", events=bad)["code"], "invalid_param",
                 "subscribe to %r" % (bad,))
    check_eq(conn.error("subscribe")["code"], "invalid_param", "subscribe to nothing")
    add_pcm("t_quiet")
    conn.call("rescan")
    no_devices_changed(conn)
    remove_pcm("t_quiet")
    conn.call("rescan")
    conn.close()


def test_sighup_and_udev_event_rescan():
    conn = D.connect()
    conn.call("subscribe", events=["devices_changed"])
    add_pcm("t_hup")
    D.proc.send_signal(signal.SIGHUP)
    ev = conn.event("devices_changed", timeout=10)
    check_eq([d["name"] for d in ev["added"]], ["t_hup"], "SIGHUP rescans")
    remove_pcm("t_hup")
    D.proc.send_signal(signal.SIGHUP)
    conn.event("devices_changed", timeout=10)
    if os.environ.get("SDD_TEST_HOOKS") != "1":
        conn.close()
        return
    # udev's events, fed through the monitor's seam: only a card's readiness or removal counts.
    for action, sysname, initialized, want in (("add", "card1", False, False),
                                                ("change", "pcmC1D0p", True, False),
                                                ("bind", "card1", True, False),
                                                ("change", "card1", True, True),
                                                ("remove", "card1", False, True)):
        r = conn.call("test_udev_event", action=action, sysname=sysname,
                      sound_initialized=initialized)
        check_eq(r["rescan"], want, "udev %s of %s (initialised: %s)" % (action, sysname,
                                                                       initialized))
    add_pcm("t_udev")
    conn.call("test_udev_event", action="change", sysname="card2", sound_initialized=True)
    ev = conn.event("devices_changed", timeout=10)
    check_eq([d["name"] for d in ev["added"]], ["t_udev"], "a card made ready by udev rescans")
    remove_pcm("t_udev")
    conn.call("test_udev_event", action="remove", sysname="card2")
    conn.event("devices_changed", timeout=10)
    conn.close()


def test_default_falls_back_and_returns():
    d = Daemon(name="hotplug-default", args=["--device-idle-time", "0.2",
                                             "--default-output-device", "t_fav"])
    add_pcm("t_fav", d.asound)
    try:
        d.start()
        conn = d.connect()
        conn.call("subscribe", events=["devices_changed"])
        fav = [x["index"] for x in conn.call("query_devices") if x["name"] == "t_fav"][0]
        check_eq(conn.call("default_device")[1], fav, "the configured default output")
        remove_pcm("t_fav", d.asound)
        conn.call("rescan")
        ev = conn.event("devices_changed", timeout=5)
        fallback = ev["default_device"][1]
        check(fallback >= 0 and fallback != fav,
              "t_fav went away: the default output falls back (%r)" % ev)
        check_eq(conn.call("default_device")[1], fallback, "default_device says so")
        check_eq(conn.call("query_devices", kind="output")["index"], fallback,
                 "a request without a device gets the fallback")
        add_pcm("t_fav", d.asound)
        conn.call("rescan")
        ev = conn.event("devices_changed", timeout=5)
        back = [x["index"] for x in conn.call("query_devices") if x["name"] == "t_fav"][0]
        check_eq(ev["default_device"][1], back, "t_fav is back: the default returns (%r)" % ev)
        check_eq(conn.call("default_device")[1], back, "default_device says so")
        conn.close()
        check_eq(d.stop(), 0, "that daemon stops cleanly")
        log = d.read_log()
        check("matches no device now" in log and "is back" in log,
              "the log tells of the fallback and the return:\n" + log[-2000:])
    finally:
        d.cleanup()


class Lines:
    """The lines a process prints, read as they come (no buffering that a select would miss)."""

    def __init__(self, proc):
        self.fd = proc.stdout.fileno()
        self.buf = b""

    def next(self, seconds):
        """The next line, or a Failure after seconds."""
        deadline = time.time() + scaled(seconds)
        while b"\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise Failure("sdctl printed no line within %ss (have %r)" % (seconds, self.buf))
            data = os.read(self.fd, 4096)
            if not data:
                raise Failure("sdctl ended its output (have %r)" % self.buf)
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()


def test_sdctl_devices_watch():
    env = dict(D.env)
    env["SDDAEMON_SOCKET"] = D.socket
    conn = D.connect()
    count = len(names(conn))
    for json_out in (False, True):
        args = ["--json", "devices", "--watch"] if json_out else ["devices", "--watch"]
        proc = subprocess.Popen(command(SDCTL, *args), env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        lines = Lines(proc)
        try:
            # The list first (one line with --json), then the changes.
            for _ in range(1 if json_out else count):
                lines.next(10)
            add_pcm("t_watch")
            conn.call("rescan")
            line = lines.next(10)
            if json_out:
                check('"event":"devices_changed"' in line.replace(" ", "") and "t_watch" in line,
                      "sdctl --json devices --watch prints the event: %r" % line)
            else:
                check(line.startswith("generation "), "a change's first line: %r" % line)
                line = lines.next(10)
                check(line.startswith("+ [%d] t_watch " % count) and "alsa:t_watch" in line,
                      "then the added device: %r" % line)
            remove_pcm("t_watch")
            conn.call("rescan")
            proc.send_signal(signal.SIGINT)
            proc.wait(scaled(10))
            check_eq(proc.returncode, 0, "sdctl devices --watch ends on SIGINT with status 0")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    conn.close()


def main():
    global D
    D = Daemon(name="hotplug", args=["--device-idle-time", "0.2"])
    try:
        D.start()
        return run_tests([
            test_ids_and_generation,
            test_hot_added_pcm_while_playing,
            test_stale_generation_refused,
            test_subscriptions,
            test_sighup_and_udev_event_rescan,
            test_default_falls_back_and_returns,
            test_sdctl_devices_watch,
        ], daemon=D)
    finally:
        D.cleanup()


if __name__ == "__main__":
    sys.exit(main())
