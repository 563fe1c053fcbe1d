"""The configuration file and what it controls: --check-config, errors that
name the line, options over the file, SIGHUP with a changed and with a broken
file, the access lists, the limits, the idle time and the device rescan."""

import grp
import json
import os
import pwd
import queue
import re
import signal
import socket
import subprocess
import sys
import threading

import harness
from harness import Conn, Failure, check, check_eq
from systemd_harness import Daemon, Skip, expect_refused, run_tests

OTHER_UID = os.getuid() + 1  # a uid that is not ours


def check_config(*args, config_text=None):
    """Runs sddaemon --check-config; returns (status, stdout, stderr)."""
    d = Daemon(config=config_text, name="sdd-check")
    try:
        p = subprocess.run(d.command()[:3] + ["--check-config"] + list(args), env=d.env,
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr, d.config
    finally:
        d.cleanup()


def settings(text):
    """Parses --check-config's output into a dict (commented keys are left out)."""
    return dict(l.split(" = ", 1) if " = " in l else (l.rstrip(" ="), "")
                for l in text.splitlines() if l and not l.startswith("#"))


# ------------------------------------------------------------ check-config

def test_check_config_prints_the_settings():
    status, out, err, _ = check_config(config_text="""
# A comment, and blank lines
default_output_device = "t_out"
max_clients = 7
max_shm_per_client = 1048576
allow_groups = root
""")
    check_eq(status, 0, "status: " + err)
    s = settings(out)
    # Queries are written quoted, so that the output reads back as the same query.
    check_eq(s.get("default_output_device"), '"t_out"', "default_output_device")
    check_eq(s.get("default_input_device"), "", "an unset device is empty")
    check_eq(s.get("max_clients"), "7", "max_clients")
    check_eq(s.get("max_shm_per_client"), "1M", "max_shm_per_client")
    check_eq(s.get("allow_groups"), "root", "allow_groups")
    check_eq(s.get("max_streams_per_client"), "16", "defaults for the rest")
    check("#allow_users = " in out, "an unset list is shown commented out")


def test_check_config_names_the_file_and_line():
    status, out, err, path = check_config(config_text="max_clients = 3\n\nmax_clinets = 4\n")
    check_eq(status, 1, "status")
    check("%s:3: unknown key 'max_clinets'" % path in err, "the error names file and line: " + err)
    check_eq(out, "", "nothing printed on stdout")


def test_options_win_over_the_file():
    status, out, err, _ = check_config("--max-clients", "9", "--log-level", "debug",
                                       config_text="max_clients = 3\nlog_level = error\n"
                                                   "device_idle_time = 2\n")
    check_eq(status, 0, "status: " + err)
    s = settings(out)
    check_eq(s.get("max_clients"), "9", "--max-clients wins")
    check_eq(s.get("log_level"), "debug", "--log-level wins")
    check_eq(s.get("device_idle_time"), "2", "the file's other keys stay")


def test_bad_option_value():
    status, out, err, _ = check_config("--max-shm-per-client", "lots")
    check_eq(status, 2, "status for a bad option")
    check("--max-shm-per-client: 'lots' is not a size" in err, "the error says which option: " + err)


def test_missing_explicit_config_is_an_error():
    d = Daemon(name="sdd-missing")
    try:
        os.unlink(d.config)
        p = subprocess.run(d.command(), env=d.env, capture_output=True, text=True, timeout=60)
        check_eq(p.returncode, 1, "status")
        check("%s: cannot open the file" % d.config in p.stderr, "the error: " + p.stderr)
    finally:
        d.cleanup()


def test_bad_config_stops_the_start():
    d = Daemon(config="log_level = info\nmax_clients = -3\n", name="sdd-bad")
    try:
        p = subprocess.run(d.command() + ["--socket", d.socket], env=d.env,
                           capture_output=True, text=True, timeout=60)
        check_eq(p.returncode, 1, "status")
        check("%s:2: max_clients: '-3' is not a whole number from 1 to 1000000" % d.config
              in p.stderr, "the error names file and line: " + p.stderr)
        check(not os.path.exists(d.socket), "no socket was created")
        check(not d.notify.snapshot(), "nothing was sent to systemd")
    finally:
        d.cleanup()


# ------------------------------------------------------ files that are not files

def release_fifo(path):
    """Opens the FIFO at path for writing and closes it, so that a daemon
    blocked opening it (the bug these tests catch) gets end-of-file."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


def test_check_config_refuses_what_is_not_a_regular_file():
    d = Daemon(name="sdd-notfile")
    listener = socket.socket(socket.AF_UNIX)
    try:
        fifo, folder, sock = (os.path.join(d.dir, n) for n in ("fifo", "folder", "sock.conf"))
        os.mkfifo(fifo)
        os.mkdir(folder)
        listener.bind(sock)
        for path, what in ((fifo, "a FIFO"), (folder, "a directory"),
                           ("/dev/zero", "a device node"), (sock, "a socket")):
            try:
                p = subprocess.run(d.command()[:1] + ["--config", path, "--check-config"],
                                   env=d.env, capture_output=True, text=True, timeout=10)
            except subprocess.TimeoutExpired:
                release_fifo(fifo)
                raise Failure("--check-config --config %s hung" % path)
            check_eq(p.returncode, 1, "status for %s: %s" % (what, p.stderr))
            check("%s: is %s, not a regular file" % (path, what) in p.stderr,
                  "the error says what %s is: %s" % (path, p.stderr))
            check_eq(p.stdout, "", "nothing printed for %s" % what)
        # /dev/null stands for an empty file: the defaults.
        p = subprocess.run(d.command()[:1] + ["--config", "/dev/null", "--check-config"],
                           env=d.env, capture_output=True, text=True, timeout=10)
        check_eq(p.returncode, 0, "--config /dev/null: " + p.stderr)
        check("max_clients = 4096\n" in p.stdout, "the defaults: " + p.stdout)
    finally:
        listener.close()
        d.cleanup()


def test_check_config_refuses_a_file_too_large():
    status, out, err, path = check_config(config_text="#" * (1024 * 1024) + "\n")
    check_eq(status, 1, "status: " + err)
    check("%s: the file is larger than 1048576 bytes" % path in err, "the error: " + err)


def test_reload_with_a_fifo_keeps_the_settings_and_never_blocks():
    d = Daemon(config="max_clients = 2\n", name="sdd-fifo")
    try:
        d.start()
        a = d.connect()
        a.call("ping")
        os.unlink(d.config)
        os.mkfifo(d.config)
        n = d.notify.count()
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log("%s: is a FIFO, not a regular file; keeping the previous settings" % d.config)
        d.notify.wait_key("READY", "1", start=n)
        a.call("ping")
        b = d.connect()
        b.call("ping")
        check_eq(refused_code(d), "limit_exceeded", "max_clients is still 2")
        a.close()
        b.close()
        check_eq(d.stop(), 0, "exit status")
    finally:
        release_fifo(d.config)
        d.cleanup()


# ------------------------------------------------------------------ reload

def refused_code(d):
    """Connects once more; returns the refusal code, or None when served."""
    conn = d.connect()
    try:
        try:
            conn.send({"id": 1, "cmd": "ping"})
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused and closed before the request: the error line is still there
        msg = conn.read_message()
        if msg is not None and msg.get("id") == 1 and msg.get("ok"):
            return None
        check(msg is not None and msg.get("id") is None, "a refusal: %r" % (msg,))
        return msg["error"]["code"]
    finally:
        conn.close()


def test_reload_applies_a_changed_config():
    d = Daemon(config="max_clients = 2\ndefault_output_device = t_out\n", name="sdd-reload")
    try:
        d.start()
        first, second = d.connect(), d.connect()
        check_eq(first.call("default_device")[1], 1, "t_out (device 1) is the default output")
        second.call("ping")
        check_eq(refused_code(d), "limit_exceeded", "a third client is over max_clients = 2")

        d.write_config("max_clients = 3\ndefault_output_device = \"t_out2\"\n")
        d.reload()
        check_eq(first.call("default_device")[1], 2, "t_out2 (device 2) after the reload")
        check_eq(refused_code(d), None, "a third client is welcome with max_clients = 3")
        check("Reloaded the configuration" in d.read_log(), "the log says so")
        first.close()
        second.close()
        check_eq(d.stop(), 0, "exit status")
    finally:
        d.cleanup()


def test_reload_keeps_the_settings_when_the_file_is_broken():
    d = Daemon(config="max_clients = 2\ndefault_output_device = t_out2\n", name="sdd-broken")
    try:
        d.start()
        a, b = d.connect(), d.connect()
        a.call("ping")
        b.call("ping")

        d.write_config("max_clients = 50\ndefault_output_device = t_out\nthis line is wrong\n")
        d.reload()
        d.wait_log("%s:3: expected 'key = value'; keeping the previous settings" % d.config)
        check_eq(a.call("default_device")[1], 2, "the default output is still t_out2")
        check_eq(refused_code(d), "limit_exceeded", "max_clients is still 2, not 50")

        d.write_config("max_clients = 50\n")
        d.reload()
        check_eq(refused_code(d), None, "a good file afterwards applies")
        check_eq(a.call("default_device")[1], 0,
                 "without default_output_device, PortAudio's default again")
        a.close()
        b.close()
        check_eq(d.stop(), 0, "exit status")
    finally:
        d.cleanup()


def test_options_still_win_after_a_reload():
    d = Daemon(config="max_clients = 5\n", args=["--max-clients", "1"], name="sdd-optwin")
    try:
        d.start()
        a = d.connect()
        a.call("ping")
        check_eq(refused_code(d), "limit_exceeded", "--max-clients 1 wins over the file at start")
        d.write_config("max_clients = 6\n")
        d.reload()
        check_eq(refused_code(d), "limit_exceeded", "and after a reload")
        a.close()
        check_eq(d.stop(), 0, "exit status")
    finally:
        d.cleanup()


def test_log_level_from_the_file():
    d = Daemon(config="log_level = warning\n", verbose=False, name="sdd-level")
    try:
        d.start()
        first = d.connect()
        first.call("ping")
        d.write_config("log_level = info\n")
        d.reload()
        second = d.connect()
        second.call("ping")
        d.wait_log("Client 2 connected")
        check("Client 1 connected" not in d.read_log(), "info was not logged at level warning")
        first.close()
        second.close()
        check_eq(d.stop(), 0, "exit status")
    finally:
        d.cleanup()


# ------------------------------------------------------------------ access

def test_access_list_refuses_a_client():
    d = Daemon(config="allow_users = %d\n" % OTHER_UID, name="sdd-deny")
    try:
        d.start()
        err = expect_refused(d.connect(), "access_denied")
        check("uid %d is not allowed" % os.getuid() in err["message"], "the message: %r" % err)
        d.wait_log("Refusing a client (pid %d, uid %d, gid %d)"
                   % (os.getpid(), os.getuid(), os.getgid()))
        status, out, errtext = d.sdctl("devices")
        check_eq(status, 1, "sdctl's status when refused")
        check(d.alive(), "the daemon goes on")
        check_eq(d.stop(), 0, "exit status")
    finally:
        d.cleanup()


def test_sdctl_says_why_it_was_refused():
    d = Daemon(config="allow_users = %d\n" % OTHER_UID, name="sdd-deny-sdctl")
    try:
        d.start()
        # The refusal races with sdctl's first request: repeat to catch both orders.
        for _ in range(20):
            status, out, errtext = d.sdctl("devices")
            check_eq(status, 1, "sdctl's status when refused")
            check("access denied" in errtext, "sdctl says why: " + errtext)
        check_eq(d.stop(), 0, "exit status")
    finally:
        d.cleanup()


def test_access_lists_allow_by_user_and_by_group():
    me = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    for config in ("allow_users = %d, %s\n" % (OTHER_UID, me),
                   "allow_users = %d\nallow_groups = %s\n" % (OTHER_UID, group)):
        d = Daemon(config=config, name="sdd-allow")
        try:
            d.start()
            check_eq(refused_code(d), None, "allowed with %r" % config)
            d.sdctl("devices", check_status=0)
            check_eq(d.stop(), 0, "exit status")
        finally:
            d.cleanup()


def test_access_lists_change_on_reload():
    d = Daemon(config="allow_users = %d\n" % OTHER_UID, name="sdd-acc-reload")
    try:
        d.start()
        check_eq(refused_code(d), "access_denied", "refused at first")
        d.write_config("allow_users = %d %d\n" % (OTHER_UID, os.getuid()))
        d.reload()
        check_eq(refused_code(d), None, "allowed after the reload")
        d.write_config("allow_groups =\n")
        d.reload()
        check_eq(refused_code(d), "access_denied", "an empty list allows no one")
        check_eq(d.stop(), 0, "exit status")
    finally:
        d.cleanup()


def connect_as(path, uid, gid, groups):
    """Connects from a child process running as uid/gid with the supplementary
    groups; returns the first line the daemon sent (or None)."""
    code = ("import os, socket, sys\n"
            "os.setgroups(%r); os.setgid(%d); os.setuid(%d)\n"
            "s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(%r)\n"
            "try:\n"
            "    s.sendall(b'{\"id\": 1, \"cmd\": \"ping\"}\\n')\n"
            "except (BrokenPipeError, ConnectionResetError):\n"
            "    pass\n"
            "sys.stdout.write(s.makefile().readline())\n" % (groups, gid, uid, path))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    check_eq(p.returncode, 0, "the client child: " + p.stderr)
    return p.stdout


def test_access_by_supplementary_group():
    if os.getuid() != 0:
        raise Skip("needs root to run a client with other groups")
    d = Daemon(config="allow_groups = 4242\n", name="sdd-supp")
    try:
        d.start()
        os.chmod(d.dir, 0o755)
        os.chmod(d.socket, 0o666)
        line = connect_as(d.socket, 65534, 65534, [4242])
        check('"ok":true' in line, "a member of group 4242 (supplementary) is served: " + line)
        line = connect_as(d.socket, 65534, 65534, [4243])
        check('"access_denied"' in line, "a member of 4243 only is refused: " + line)
        check_eq(d.stop(), 0, "exit status")
    finally:
        d.cleanup()


# A client in a child process running as another user: it sends the lines
# written to its stdin and prints each line the daemon sends, then "EOF".
RELAY = r"""
import os, socket, sys, threading
groups, gid, uid, path = sys.argv[1:5]
os.setgroups([int(g) for g in groups.split(",") if g])
os.setgid(int(gid))
os.setuid(int(uid))
s = socket.socket(socket.AF_UNIX)
s.connect(path)
def forward():
    for line in sys.stdin.buffer:
        try:
            s.sendall(line)
        except OSError:
            return
threading.Thread(target=forward, daemon=True).start()
for line in s.makefile("rb"):
    sys.stdout.buffer.write(line)
    sys.stdout.flush()
print("EOF", flush=True)
"""


class Relay:
    """A connection held by a child process as uid/gid with groups."""

    def __init__(self, path, uid, gid, groups):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", RELAY, ",".join(map(str, groups)), str(gid), str(uid), path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.next_id = 0

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.decode())
        self.lines.put(None)

    def read(self, what):
        """The next line the daemon sent ("EOF" once the connection ended)."""
        try:
            line = self.lines.get(timeout=harness.scaled(20))
        except queue.Empty:
            raise Failure("no line for %s" % what)
        check(line is not None, "the relay child ended early (%s)" % what)
        return line.strip()

    def call(self, cmd, **params):
        self.next_id += 1
        self.proc.stdin.write((json.dumps(dict(id=self.next_id, cmd=cmd, **params)) + "\n")
                              .encode())
        self.proc.stdin.flush()
        while True:
            msg = json.loads(self.read(cmd))
            if "event" not in msg:
                check_eq(msg.get("id"), self.next_id, "the reply's id")
                check(msg.get("ok"), "%s as a relayed client: %r" % (cmd, msg))
                return msg.get("result")

    def close(self):
        self.proc.kill()
        self.proc.wait()


def status(conn):
    s = conn.call("daemon_status")
    return s["clients"], s["streams"]


def expect_disconnected(relay, uid):
    msg = json.loads(relay.read("the error line"))
    check_eq(msg.get("id", "missing"), None, "the error line has a null id")
    check_eq(msg["error"]["code"], "access_denied", "the error code")
    check("uid %d is no longer allowed" % uid in msg["error"]["message"],
          "the message says why: %r" % msg)
    check_eq(relay.read("the end"), "EOF", "then the connection ends")


def test_reload_disconnects_users_no_longer_allowed():
    if os.getuid() != 0:
        raise Skip("needs root to run a client as another user")
    nobody = pwd.getpwnam("nobody").pw_uid
    d = Daemon(config="allow_users = root nobody\ndevice_idle_time = 0\n", name="sdd-revoke")
    relay = None
    try:
        d.start()
        os.chmod(d.dir, 0o755)
        os.chmod(d.socket, 0o666)
        me = d.connect()
        mine = me.call("play", device="t_out", channels=2)
        relay = Relay(d.socket, nobody, 65534, [])
        relay.call("play", device="t_out2", channels=2)
        check_eq(status(me), (2, 2), "two clients, two streams")

        d.write_config("allow_users = root\ndevice_idle_time = 0\n")
        d.reload()
        expect_disconnected(relay, nobody)
        d.wait_log("Disconnecting client 2 (pid %d, uid %d, gid 65534): no longer in allow_users "
                   "or allow_groups" % (relay.proc.pid, nobody))
        check_eq(status(me), (1, 1), "one client and its stream are left")
        check_eq(me.call("get_status", handle=mine["handle"])["state"], "prefill",
                 "root's stream was not disturbed")
        check_eq(me.events, [], "root got no event")
        me.close()
        check_eq(d.stop(), 0, "exit status")
    finally:
        if relay:
            relay.close()
        d.cleanup()


def test_reload_disconnects_by_group_rule():
    if os.getuid() != 0:
        raise Skip("needs root to run a client with other groups")
    nobody = pwd.getpwnam("nobody").pw_uid
    d = Daemon(config="allow_users = root\nallow_groups = 4242 4243\n", name="sdd-revoke-grp")
    relays = []
    try:
        d.start()
        os.chmod(d.dir, 0o755)
        os.chmod(d.socket, 0o666)
        me = d.connect()
        relays = [Relay(d.socket, nobody, 65534, [4242]), Relay(d.socket, nobody, 65534, [4243])]
        for r in relays:
            r.call("ping")
        check_eq(status(me), (3, 0), "three clients")

        d.write_config("allow_users = root\nallow_groups = 4243\n")
        d.reload()
        expect_disconnected(relays[0], nobody)
        relays[1].call("ping")
        check_eq(status(me), (2, 0), "the member of 4243 stays")

        # Unrestricted again: nobody is disconnected, and new clients are welcome.
        d.write_config("")
        d.reload()
        relays[1].call("ping")
        check_eq(status(me), (2, 0), "both stay")
        me.close()
        check_eq(d.stop(), 0, "exit status")
    finally:
        for r in relays:
            r.close()
        d.cleanup()


# ------------------------------------------------------- limits and devices

def test_stream_limits_from_the_file():
    d = Daemon(config="max_streams_per_client = 1\ndevice_idle_time = 0\n", name="sdd-limits")
    try:
        d.start()
        conn = d.connect()
        first = conn.call("play", device="t_out", channels=2)
        err = conn.error("play", device="t_out", channels=2, stop_previous=False)
        check_eq(err["code"], "limit_exceeded", "a second stream is over the limit")
        check("at most 1" in err["message"], "the message names the limit: %r" % err)
        conn.call("stop", handle=first["handle"])

        d.write_config("max_shm_per_client = 64K\n")
        d.reload()
        err = conn.error("play", device="t_out", channels=2)
        check_eq(err["code"], "limit_exceeded", "a stream's rings are over 64K")
        conn.close()
        check_eq(d.stop(), 0, "exit status")
    finally:
        d.cleanup()


def wait_device_streams(conn, want):
    """Asks daemon_status until the number of device streams is want."""
    import time
    deadline = time.time() + 30
    while True:
        n = len(conn.call("daemon_status")["device_streams"])
        if n == want:
            return
        if time.time() > deadline:
            raise Failure("%d device streams, want %d" % (n, want))
        time.sleep(0.02)


def test_device_idle_time_from_the_file():
    d = Daemon(config="device_idle_time = 86400\n", name="sdd-idle")
    try:
        d.start()
        conn = d.connect()
        s = conn.call("play", device="t_out", channels=2)
        conn.call("stop", handle=s["handle"])
        check_eq(len(conn.call("daemon_status")["device_streams"]), 1,
                 "with a day's idle time the device stream stays open")
        d.write_config("device_idle_time = 0\n")
        d.reload()
        s = conn.call("play", device="t_out2", channels=2)
        conn.call("stop", handle=s["handle"])
        # t_out's stream keeps its day; t_out2's closes at once.
        wait_device_streams(conn, 1)
        check_eq(conn.call("daemon_status")["device_streams"][0]["name"], "t_out",
                 "the stream left open is the one armed with a day")
        conn.close()
        check_eq(d.stop(), 0, "exit status")
    finally:
        d.cleanup()


NEW_PCM = 'pcm.t_new { type null; hint { show on; description "added later" } }\n'


def test_sighup_rescans_devices():
    d = Daemon(name="sdd-rescan")
    try:
        d.start()
        conn = d.connect()
        conn.call("subscribe", events=["devices_changed"])
        check_eq(len(conn.call("query_devices")), 5, "five devices at first")
        d.reload()
        conn.call("rescan")  # the reload's rescan is done once this one is
        check_eq(conn.events, [], "no devices_changed event when nothing changed")
        with open(d.asound, "a") as f:
            f.write(NEW_PCM)
        d.reload()
        msg = conn.event("devices_changed")
        check_eq((msg["devices"], [x["name"] for x in msg["added"]]), (6, ["t_new"]), "the event")
        names = [dev["name"] for dev in conn.call("query_devices")]
        check("t_new" in names, "the new device is listed: %r" % names)
        conn.close()
        check_eq(d.stop(), 0, "exit status")
    finally:
        d.cleanup()


def test_rescan_while_device_streams_are_open():
    """A rescan no longer waits for device streams to close: the new device
    is listed at once, the stream plays on; only PortAudio's own start
    again (which would end the stream) waits, and STATUS= says so."""
    d = Daemon(config="device_idle_time = 0\n", name="sdd-defer")
    try:
        d.start()
        conn = d.connect()
        conn.call("subscribe", events=["devices_changed"])
        s = conn.call("play", device="t_out", channels=2)  # open-ended: runs until stopped
        with open(d.asound, "a") as f:
            f.write(NEW_PCM)
        n = d.notify.count()
        d.reload()
        msg = conn.event("devices_changed")
        check_eq(msg["devices"], 6, "six devices at once, while t_out plays")
        check_eq(len(conn.call("query_devices")), 6, "and the list has them")
        d.notify.wait_for(lambda m: "new devices wait for device streams to close"
                          in m.get("STATUS", ""), start=n,
                          what="STATUS= saying PortAudio's start waits")
        check_eq(conn.call("get_status", handle=s["handle"])["state"], "prefill",
                 "the stream was not disturbed")
        conn.call("stop", handle=s["handle"])
        # The device stream closes (idle time 0), and PortAudio starts again.
        d.wait_log("PortAudio initialised again: 6 devices")
        d.notify.wait_key("STATUS", "1 client, 0 streams, 6 devices", start=n)
        conn.close()
        check_eq(d.stop(), 0, "exit status")
    finally:
        d.cleanup()


# ------------------------------------------------------- the table and the manual

def table():
    """The settings as sddaemon --help lists them (generated from its table of
    keys): an ordered list of (key, value name, (min, max) or None, default),
    the default as --help shows it ("empty", "unset" or the value)."""
    out = subprocess.run([harness.SDDAEMON, "--help"], capture_output=True, text=True,
                         timeout=60).stdout
    section = out.split("over the file (see sddaemon.conf(5)):\n", 1)[1]
    rows = []
    for entry in re.split(r"\n(?=      --)", section.strip("\n")):
        flat = " ".join(entry.split())
        m = re.fullmatch(r"--([a-z-]+) ([A-Z]+) (.*); (?:from (\S+) to (\S+), )?default (\S+)",
                         flat)
        check(m, "a --help entry of the settings: %r" % entry)
        bounds = (m.group(4), m.group(5)) if m.group(4) else None
        rows.append((m.group(1).replace("-", "_"), m.group(2), bounds, m.group(6)))
    return rows


def man_blocks(page, section):
    """The entries of a man page's section (scdoc source): a list of
    (header lines, body text), the body's lines joined by blanks."""
    with open(os.path.join(os.environ["SDD_SOURCE_ROOT"], "man", page)) as f:
        text = f.read()
    text = text.split("\n# %s\n" % section, 1)[1].split("\n# ", 1)[0]
    blocks = []
    for block in text.strip("\n").split("\n\n"):
        lines = block.split("\n")
        heads = [l.rstrip("+") for l in lines if not l.startswith("\t")]
        body = " ".join(l.strip() for l in lines if l.startswith("\t"))
        blocks.append((heads, body))
    return blocks


def check_documented(page, section, rows, header, pattern):
    """Checks that every row of the table has an entry in the man page's
    section whose header is header % (key, value name) and whose text gives
    the default (and in sddaemon.conf(5) the bounds), in the table's order;
    and that no header of the section that matches pattern names a key the
    table lacks."""
    blocks = man_blocks(page, section)
    order = []
    for key, value_name, bounds, default in rows:
        head = header % (key, value_name)
        found = [i for i, (heads, _) in enumerate(blocks) if head in heads]
        check(len(found) == 1, "%s documents %s once: %d entries" % (page, head, len(found)))
        body = blocks[found[0]][1]
        order.append(found[0])
        want = "Default: %s" % (default if default in ("empty", "unset") else "*%s*" % default)
        check(want in body, "%s gives %s's default as '%s': %r" % (page, key, want, body))
        if bounds and page.startswith("sddaemon.conf"):
            check(re.search(r"from %s( \([^)]*\))? to %s\b" % tuple(map(re.escape, bounds)),
                            body),
                  "%s gives %s's bounds from %s to %s: %r" % (page, key, bounds[0], bounds[1],
                                                               body))
    check_eq(order, sorted(order), "%s lists the keys in the table's order" % page)
    known = {header % (key, value_name) for key, value_name, _, _ in rows}
    for heads, _ in blocks:
        for head in heads:
            check(not re.fullmatch(pattern, head) or head in known,
                  "%s documents %s, which is no setting of --help" % (page, head))


def test_man_pages_give_every_key_with_its_default():
    rows = table()
    check(len(rows) >= 11, "the settings in --help: %r" % rows)
    # --help and --check-config agree on the defaults (both come from the table).
    p = subprocess.run([harness.SDDAEMON, "--config", "/dev/null", "--check-config"],
                       capture_output=True, text=True, timeout=60)
    written = {}
    for line in p.stdout.splitlines():
        key, value = line.split(" = ", 1) if " = " in line else (line.rstrip(" ="), "")
        written[key.lstrip("#")] = "unset" if key.startswith("#") else (value or "empty")
    check_eq([(k, d) for k, _, _, d in rows], list(written.items()),
             "--help's keys and defaults are --check-config's")
    check_documented("sddaemon.conf.5.scd", "KEYS", rows, "*%s* = _%s_",
                     r"\*[a-z_]+\* = _[A-Z]+_")
    rows = [(key.replace("_", "-"), value, bounds, default)
            for key, value, bounds, default in rows]
    check_documented("sddaemon.8.scd", "OPTIONS", rows, "*--%s* _%s_", r"\*--[a-z-]+\* _[A-Z]+_")


TESTS = [
    test_check_config_prints_the_settings,
    test_check_config_names_the_file_and_line,
    test_options_win_over_the_file,
    test_bad_option_value,
    test_missing_explicit_config_is_an_error,
    test_bad_config_stops_the_start,
    test_check_config_refuses_what_is_not_a_regular_file,
    test_check_config_refuses_a_file_too_large,
    test_reload_with_a_fifo_keeps_the_settings_and_never_blocks,
    test_reload_applies_a_changed_config,
    test_reload_keeps_the_settings_when_the_file_is_broken,
    test_options_still_win_after_a_reload,
    test_log_level_from_the_file,
    test_access_list_refuses_a_client,
    test_sdctl_says_why_it_was_refused,
    test_access_lists_allow_by_user_and_by_group,
    test_access_lists_change_on_reload,
    test_access_by_supplementary_group,
    test_reload_disconnects_users_no_longer_allowed,
    test_reload_disconnects_by_group_rule,
    test_stream_limits_from_the_file,
    test_device_idle_time_from_the_file,
    test_sighup_rescans_devices,
    test_rescan_while_device_streams_are_open,
    test_man_pages_give_every_key_with_its_default,
]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
