"""sddaemon as a systemd service: socket activation through
systemd-socket-activate, sd_notify messages on a test NOTIFY_SOCKET
(READY=1, STATUS=, WATCHDOG=1, RELOADING=1, STOPPING=1), shutdown, the
journal's priority prefixes, and the unit files checked with systemd-analyze
(verify, and the security exposure of the system service)."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import harness
from harness import check, check_eq
from systemd_harness import (SOCKET_ACTIVATE, SYSTEMD_ANALYZE, Daemon, Skip, expect_refused,
                             run_tests, skip_unless)

BUILD_ROOT = os.environ.get("SDD_BUILD_ROOT", "")
SOURCE_ROOT = os.environ.get("SDD_SOURCE_ROOT", "")

# The most exposure `systemd-analyze security` may find in the system service.
MAX_EXPOSURE = 2.0


# ---------------------------------------------------------------- activation

def test_socket_activation_serves_the_passed_socket():
    skip_unless(SOCKET_ACTIVATE, "systemd-socket-activate")
    d = Daemon(name="sdd-act")
    try:
        d.start_activated()
        # This first connection makes systemd-socket-activate start the daemon;
        # it waits in the backlog until the daemon accepts it.
        conn = d.connect()
        check_eq(conn.call("ping"), {}, "ping on the passed socket")
        check_eq(len(conn.call("query_devices")), 5, "devices through the passed socket")
        d.wait_ready()
        check("(socket activation)" in d.read_log(), "the log says the socket was passed")
        conn.close()
        check_eq(d.stop(), 0, "exit status after SIGTERM")
        check(os.path.exists(d.socket), "the socket file belongs to systemd and stays")
    finally:
        d.cleanup()


def test_activation_refuses_two_sockets():
    skip_unless(SOCKET_ACTIVATE, "systemd-socket-activate")
    d = Daemon(name="sdd-act2")
    try:
        d.start_activated(extra_listen=[os.path.join(d.dir, "second")])
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(d.socket)
        check_eq(d.wait_exit(), 1, "exit status with two sockets")
        check("passed 2 sockets; sddaemon takes exactly one" in d.read_log(),
              "the log says why:\n" + d.read_log())
        check(not any(m.get("READY") for m in d.notify.snapshot()), "no READY=1")
        s.close()
    finally:
        d.cleanup()


def test_activation_refuses_a_datagram_socket():
    skip_unless(SOCKET_ACTIVATE, "systemd-socket-activate")
    d = Daemon(name="sdd-actd")
    try:
        d.start_activated(datagram=True)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.sendto(b"wake up", d.socket)
        check_eq(d.wait_exit(), 1, "exit status with a datagram socket")
        check("not a listening Unix stream socket" in d.read_log(),
              "the log says why:\n" + d.read_log())
        s.close()
    finally:
        d.cleanup()


# ------------------------------------------------------------------- notify

def test_ready_status_watchdog_reload_stopping():
    skip_unless(SOCKET_ACTIVATE, "systemd-socket-activate")
    d = Daemon(name="sdd-notify", watchdog_usec=1000000)
    try:
        d.start_activated()
        conn = d.connect()
        check_eq(conn.call("ping"), {}, "ping")
        i, ready = d.wait_ready()
        check_eq(i, 0, "READY=1 is the first message")
        # READY=1 comes only once PortAudio has listed the devices.
        check_eq(ready.get("STATUS"), "0 clients, 0 streams, 5 devices",
                 "STATUS= with READY=1")

        # STATUS= follows the clients.
        n = d.notify.count()
        more = [d.connect() for _ in range(2)]
        for c in more:
            c.call("ping")
        d.notify.wait_key("STATUS", "3 clients, 0 streams, 5 devices", start=n)
        n = d.notify.count()
        for c in more:
            c.close()
        d.notify.wait_key("STATUS", "1 client, 0 streams, 5 devices", start=n)

        # WATCHDOG=1 keeps coming while the daemon is healthy.
        n = d.notify.count()
        i, _ = d.notify.wait_key("WATCHDOG", "1", start=n)
        d.notify.wait_key("WATCHDOG", "1", start=i + 1)

        # A reload: RELOADING=1 (with MONOTONIC_USEC=), then READY=1 with the status.
        n = d.notify.count()
        d.proc.send_signal(signal.SIGHUP)
        i, reloading = d.notify.wait_key("RELOADING", "1", start=n)
        check(reloading.get("MONOTONIC_USEC", "").isdigit(), "RELOADING=1 has MONOTONIC_USEC=")
        _, ready = d.notify.wait_key("READY", "1", start=i + 1)
        check_eq(ready.get("STATUS"), "1 client, 0 streams, 5 devices", "STATUS= after reload")
        check_eq(conn.call("ping"), {}, "the client survives the reload")

        # SIGTERM: the client gets a shutdown event, STOPPING=1, exit status 0.
        n = d.notify.count()
        d.proc.send_signal(signal.SIGTERM)
        msg = conn.read_message()
        check_eq(msg, {"event": "shutdown", "reason": "daemon stopping"}, "shutdown event")
        check(conn.read_message() is None, "the connection is closed after the event")
        check_eq(d.wait_exit(), 0, "exit status after SIGTERM")
        _, stopping = d.notify.wait_key("STOPPING", "1", start=n)
        after = d.notify.snapshot()[d.notify.snapshot().index(stopping) + 1:]
        check(not any(m.get("READY") or m.get("WATCHDOG") for m in after),
              "nothing but STOPPING=1 at the end: %r" % after)
        conn.close()
    finally:
        d.cleanup()


def test_no_watchdog_without_watchdog_usec():
    d = Daemon(name="sdd-nowd")
    try:
        d.start()
        conn = d.connect()
        conn.call("ping")
        d.reload()
        check_eq(conn.call("ping"), {}, "ping after reload")
        d.reload()
        check(not any("WATCHDOG" in m for m in d.notify.snapshot()),
              "no WATCHDOG=1 when systemd did not ask for it: %r" % d.notify.snapshot())
        check("watchdog" not in d.read_log(), "no watchdog mentioned in the log")
        conn.close()
        check_eq(d.stop(), 0, "exit status")
        check(not os.path.exists(d.socket), "the daemon removes the socket it created")
    finally:
        d.cleanup()


def test_watchdog_fed_while_a_device_stream_runs():
    d = Daemon(name="sdd-wdstream", watchdog_usec=1000000)
    try:
        d.start()
        conn = d.connect()
        # t_null, not a tap: an unpaced tap would write gigabytes while this runs.
        res = conn.call("play", device="t_null", channels=2, frames=48000 * 20)
        n = d.notify.count()
        d.notify.wait_key("STATUS", "1 client, 1 stream, 5 devices", start=0)
        # The device stream's callbacks keep running, so the watchdog keeps being fed.
        i, _ = d.notify.wait_key("WATCHDOG", "1", start=n)
        d.notify.wait_key("WATCHDOG", "1", start=i + 1)
        check_eq(len(conn.call("daemon_status")["device_streams"]), 1, "a device stream runs")
        conn.call("stop", handle=res["handle"])
        conn.close()
        check_eq(d.stop(), 0, "exit status")
    finally:
        d.cleanup()


def test_no_watchdog_while_the_audio_thread_stalls():
    if os.environ.get("SDD_TEST_HOOKS") != "1":
        raise Skip("sddaemon was built without -Dtest_hooks=true")
    d = Daemon(name="sdd-stall", watchdog_usec=400000)
    try:
        d.start()
        conn = d.connect()
        # An open-ended playback keeps a shared device stream (and its callback) running.
        conn.call("play", device="t_null", channels=2)
        n = d.notify.count()
        i, _ = d.notify.wait_key("WATCHDOG", "1", start=n)
        d.notify.wait_key("WATCHDOG", "1", start=i + 1)

        d.proc.send_signal(signal.SIGUSR1)  # the test hook: every callback hangs
        d.wait_log("audio callbacks stalled")
        # The stall's own reason: a loop that turned late under load (a
        # sanitizer build on a busy machine) is unhealthy for a moment too.
        j, _ = d.notify.wait_for(lambda m: "audio callback has stopped" in m.get("STATUS", ""),
                                 start=n, what="an unhealthy STATUS= naming the audio callback")
        # Several watchdog periods pass: systemd must hear nothing from a stuck daemon.
        time.sleep(1.2)
        later = d.notify.snapshot()[j + 1:]
        check(not any("WATCHDOG" in m for m in later), "no WATCHDOG=1 while stalled: %r" % later)

        d.proc.send_signal(signal.SIGUSR1)
        d.notify.wait_key("WATCHDOG", "1", start=j + 1)  # healthy again
        conn.close()
        check_eq(d.stop(), 0, "exit status")
    finally:
        d.cleanup()


# ---------------------------------------------------------------- logging

def journal_daemon(journal):
    # An ambiguous default device makes a warning whose text has several lines.
    d = Daemon(name="sdd-log", config="allow_users = %d\ndefault_output_device = t_o\n"
               % (os.getuid() + 1))
    # The log file exists before the daemon starts, so JOURNAL_STREAM can name it;
    # opening it for appending keeps the inode.
    open(d.log_path, "wb").close()
    if journal:
        st = os.stat(d.log_path)
        d.env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
    return d


def test_journal_stream_gets_priority_prefixes():
    d = journal_daemon(True)
    try:
        d.start()
        expect_refused(d.connect(), "access_denied")  # a warning
        check_eq(d.stop(), 0, "exit status")
        lines = d.read_log().splitlines()
        check(lines, "there is a log")
        bad = [l for l in lines if not re.match(r"<[3-7]>", l)]
        check(not bad, "every line has a priority prefix: %r" % bad)
        check(any(l.startswith("<4>Refusing a client") for l in lines), "warning at <4>")
        check(any(l.startswith("<4>default_output_device 't_o'") and "[2] t_out2" in l
                  for l in lines), "a message of several lines is one journal line")
        check(any(l.startswith("<5>Listening on") for l in lines), "notice at <5>")
        check(any(l.startswith("<6>Read the configuration") for l in lines), "info at <6>")
        check(not any(l.startswith("<6>sddaemon:") or "sddaemon: " in l for l in lines),
              "no 'sddaemon:' prefix for the journal")
    finally:
        d.cleanup()


def test_plain_lines_without_journal():
    d = journal_daemon(False)
    try:
        d.start()
        expect_refused(d.connect(), "access_denied")
        check_eq(d.stop(), 0, "exit status")
        lines = d.read_log().splitlines()
        check(not any(re.match(r"<\d>", l) for l in lines), "no priority prefixes")
        check(all(l.startswith("sddaemon: ") for l in lines), "every line says sddaemon")
        check(any(l.startswith("sddaemon: warning: Refusing a client") for l in lines),
              "warnings say so")
    finally:
        d.cleanup()


def test_peer_credentials_are_logged():
    d = Daemon(name="sdd-cred")
    try:
        d.start()
        conn = d.connect()
        conn.call("ping")
        d.wait_log("connected (pid %d, uid %d, gid %d)" % (os.getpid(), os.getuid(), os.getgid()))
        conn.close()
        check_eq(d.stop(), 0, "exit status")
    finally:
        d.cleanup()


# ------------------------------------------------------------------- units

def built(*parts):
    path = os.path.join(BUILD_ROOT, *parts)
    check(os.path.exists(path), "%s is built" % path)
    return path


def unit_copies(folder):
    """Copies the configured units of folder into a temporary folder, with
    ExecStart= naming the built daemon (the configured path is where it will
    be installed, which need not exist yet)."""
    tmp = tempfile.mkdtemp(prefix="sdd-units-")
    for name in ("sddaemon.service", "sddaemon.socket"):
        with open(built(folder, name)) as f:
            text = f.read()
        text = re.sub(r"^ExecStart=\S*/sddaemon", "ExecStart=" + harness.SDDAEMON, text,
                      flags=re.M)
        with open(os.path.join(tmp, name), "w") as f:
            f.write(text)
    return tmp


def analyze(*args, env=None):
    p = subprocess.run([SYSTEMD_ANALYZE] + list(args), capture_output=True, text=True,
                       env=env, timeout=120)
    return p.returncode, p.stdout + p.stderr


def test_system_units_verify_cleanly():
    skip_unless(SYSTEMD_ANALYZE, "systemd-analyze")
    tmp = unit_copies("systemd")
    try:
        rc, out = analyze("verify", "--man=no", os.path.join(tmp, "sddaemon.socket"),
                          os.path.join(tmp, "sddaemon.service"))
        # verify says "…, ignoring" for mistakes and still exits 0: any output is a failure.
        check(rc == 0 and out.strip() == "", "systemd-analyze verify is clean:\n" + out)
    finally:
        shutil.rmtree(tmp)


def test_user_units_verify_cleanly():
    skip_unless(SYSTEMD_ANALYZE, "systemd-analyze")
    tmp = unit_copies(os.path.join("systemd", "user"))
    runtime = tempfile.mkdtemp(prefix="sdd-xdg-")
    try:
        env = dict(os.environ, XDG_RUNTIME_DIR=runtime)
        rc, out = analyze("--user", "verify", "--man=no", os.path.join(tmp, "sddaemon.socket"),
                          os.path.join(tmp, "sddaemon.service"), env=env)
        check(rc == 0 and out.strip() == "", "systemd-analyze --user verify is clean:\n" + out)
    finally:
        shutil.rmtree(tmp)
        shutil.rmtree(runtime)


def test_system_service_exposure():
    skip_unless(SYSTEMD_ANALYZE, "systemd-analyze")
    tmp = unit_copies("systemd")
    try:
        rc, out = analyze("security", "--offline=yes", os.path.join(tmp, "sddaemon.service"))
        m = re.search(r"Overall exposure level for sddaemon\.service: ([0-9.]+)", out)
        check(m, "systemd-analyze security printed an exposure:\n" + out)
        exposure = float(m.group(1))
        print("# exposure of sddaemon.service: %.1f" % exposure)
        check(exposure <= MAX_EXPOSURE, "exposure %.1f is at most %.1f:\n%s"
              % (exposure, MAX_EXPOSURE, out))
    finally:
        shutil.rmtree(tmp)


def unit_settings(path):
    """Returns {key: [values]} of a unit file."""
    settings = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", "[")) and "=" in line:
                key, value = line.split("=", 1)
                settings.setdefault(key, []).append(value)
    return settings


def test_units_keep_what_the_daemon_needs():
    """The sandbox must still let the daemon work: these are its needs."""
    service = unit_settings(built("systemd", "sddaemon.service"))
    sock = unit_settings(built("systemd", "sddaemon.socket"))
    user_service = unit_settings(built("systemd", "user", "sddaemon.service"))
    user_sock = unit_settings(built("systemd", "user", "sddaemon.socket"))
    want = {
        "Type": ["notify"], "User": ["sddaemon"], "SupplementaryGroups": ["audio"],
        "DeviceAllow": ["char-alsa rw"], "RestrictAddressFamilies": ["AF_UNIX"],
        "RestrictRealtime": ["no"], "LimitRTPRIO": ["95"],
        "ExecReload": ["/bin/sh -c 'kill -HUP \"$$MAINPID\"'"],
    }
    for key, value in want.items():
        check_eq(service.get(key), value, "sddaemon.service %s=" % key)
    check(service.get("WatchdogSec"), "the system service has a watchdog")
    check(service["ExecStart"][0].endswith("/bin/sddaemon"), "ExecStart= names the installed daemon")
    check("PrivateDevices" not in service, "PrivateDevices= would hide /dev/snd")
    check_eq(sock.get("ListenStream"), ["/run/sddaemon/socket"], "system socket path")
    check_eq(sock.get("SocketMode"), ["0660"], "system socket mode")
    check_eq(sock.get("SocketGroup"), ["audio"], "system socket group")
    check_eq(user_sock.get("ListenStream"), ["%t/sddaemon/socket"], "user socket path")
    check_eq(user_service.get("Type"), ["notify"], "user service type")
    check(user_service.get("WatchdogSec"), "the user service has a watchdog")
    with open(os.path.join(SOURCE_ROOT, "systemd", "sysusers.conf")) as f:
        lines = [l.split() for l in f if l.strip() and not l.startswith("#")]
    check(["u", "sddaemon", "-"] == lines[0][:3], "sysusers.d creates the user sddaemon")
    check(["m", "sddaemon", "audio"] in lines, "sysusers.d puts sddaemon in audio")


def pkgconfig_dir(var, define="prefix"):
    p = subprocess.run(["pkg-config", "--define-variable=%s=%s" % (define, meson_prefix()),
                        "--variable=" + var, "systemd"], capture_output=True, text=True)
    return p.stdout.strip()


def unit_programs():
    """The programs the units' Exec*= lines run, but the daemon itself."""
    programs = set()
    for folder in ("systemd", os.path.join("systemd", "user")):
        for name in ("sddaemon.service", "sddaemon.socket"):
            for key, values in unit_settings(built(folder, name)).items():
                if key.startswith("Exec"):
                    for v in values:
                        program = v.lstrip("-@:+!").split()[0]
                        if not program.endswith("/sddaemon"):
                            programs.add(program)
    return programs


def test_units_need_only_listed_packages():
    """What the units run comes with every Debian system (an Essential
    package) or with tools/debian-packages.txt: a minimal root has no
    procps, so ExecReload=/bin/kill failed systemd-analyze verify there."""
    skip_unless(shutil.which("dpkg-query"), "dpkg-query")
    with open(os.path.join(SOURCE_ROOT, "tools", "debian-packages.txt")) as f:
        listed = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    programs = unit_programs()
    check(programs, "the units run some program besides sddaemon (ExecReload=)")
    for program in programs:
        check(program.startswith("/"), "%s is an absolute path" % program)
        p = subprocess.run(["dpkg-query", "-S", program], capture_output=True, text=True)
        owners = [l.split(":")[0] for l in p.stdout.splitlines() if not l.startswith("diversion")]
        check(owners, "%s belongs to a package" % program)
        for pkg in owners:
            essential = subprocess.run(["dpkg-query", "-W", "-f=${Essential}", pkg],
                                       capture_output=True, text=True).stdout.strip()
            check(essential == "yes" or pkg in listed,
                  "%s comes from %s, which is neither Essential nor in debian-packages.txt"
                  % (program, pkg))


def meson_prefix():
    with open(built("meson-info", "intro-buildoptions.json")) as f:
        return next(o["value"] for o in json.load(f) if o["name"] == "prefix")


def test_units_and_pages_install_where_systemd_says():
    with open(built("meson-info", "intro-installed.json")) as f:
        installed = json.load(f)  # built path -> installed path
    dest = {os.path.relpath(k, BUILD_ROOT): v for k, v in installed.items()}
    # Both pairs of units under the prefix (systemd.pc's system folder follows its root prefix).
    system_dir = pkgconfig_dir("systemdsystemunitdir", "rootprefix")
    if not system_dir.startswith(meson_prefix()):
        system_dir = pkgconfig_dir("systemdsystemunitdir")
    user_dir = pkgconfig_dir("systemduserunitdir")
    check(system_dir.startswith(meson_prefix()) and user_dir.startswith(meson_prefix()),
          "both unit folders are under the prefix: %s, %s" % (system_dir, user_dir))
    sysusers_dir = pkgconfig_dir("sysusersdir")
    check(system_dir and user_dir and sysusers_dir, "systemd.pc names the unit folders")
    for name in ("sddaemon.service", "sddaemon.socket"):
        check_eq(dest.get(os.path.join("systemd", name)), os.path.join(system_dir, name),
                 "system " + name)
        check_eq(dest.get(os.path.join("systemd", "user", name)), os.path.join(user_dir, name),
                 "user " + name)
    check_eq(installed.get(os.path.join(SOURCE_ROOT, "systemd", "sysusers.conf")),
             os.path.join(sysusers_dir, "sddaemon.conf"), "sysusers.d entry")
    pages = {"sddaemon.8": "man8", "sdctl.1": "man1", "sddaemon.conf.5": "man5",
             "sddaemon-protocol.7": "man7"}
    for page, section in pages.items():
        target = dest.get(os.path.join("man", page))
        check(target and target.endswith(os.path.join(section, page)),
              "%s installs into %s: %s" % (page, section, target))


def test_man_pages_are_built_and_complete():
    pages = {}
    for page in ("sddaemon.8", "sdctl.1", "sddaemon.conf.5", "sddaemon-protocol.7"):
        with open(built("man", page)) as f:
            pages[page] = f.read()
        check('.TH "' in pages[page], "%s is a man page" % page)
    # Every configuration key is documented, and every daemon option.
    p = subprocess.run([harness.SDDAEMON, "--config", "/dev/null", "--check-config"],
                       capture_output=True, text=True)
    check_eq(p.returncode, 0, "--check-config with an empty file")
    keys = [l.lstrip("#").split(" =")[0] for l in p.stdout.splitlines()]
    check(len(keys) >= 9, "--check-config prints every key: %r" % keys)
    for key in keys:
        check("\\fB%s\\fR = " % key in pages["sddaemon.conf.5"],
              "sddaemon.conf(5) documents %s" % key)
    help_text = subprocess.run([harness.SDDAEMON, "--help"], capture_output=True,
                               text=True).stdout
    for option in sorted(set(re.findall(r"--[a-z][a-z-]+", help_text))):
        check(re.search(r"\\fB(-[a-zA-Z], )?%s\\fR" % re.escape(option), pages["sddaemon.8"]),
              "sddaemon(8) documents %s" % option)


TESTS = [
    test_socket_activation_serves_the_passed_socket,
    test_activation_refuses_two_sockets,
    test_activation_refuses_a_datagram_socket,
    test_ready_status_watchdog_reload_stopping,
    test_no_watchdog_without_watchdog_usec,
    test_watchdog_fed_while_a_device_stream_runs,
    test_no_watchdog_while_the_audio_thread_stalls,
    test_journal_stream_gets_priority_prefixes,
    test_plain_lines_without_journal,
    test_peer_credentials_are_logged,
    test_system_units_verify_cleanly,
    test_user_units_verify_cleanly,
    test_system_service_exposure,
    test_units_keep_what_the_daemon_needs,
    test_units_need_only_listed_packages,
    test_units_and_pages_install_where_systemd_says,
    test_man_pages_are_built_and_complete,
]


if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
