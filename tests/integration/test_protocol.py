"""The JSON line protocol over the wire, spoken by an independent Python client:
bad input, framing limits, many clients, the socket's life cycle."""

import os
import signal
import socket
import stat
import subprocess
import sys
import time

from harness import SDDAEMON, Daemon, check, check_eq, command, run_tests, scaled

D = None

BAD_LINES = [
    (b"this is not json", "parse_error"),
    (b"{\"id\": 1, \"cmd\": ", "parse_error"),
    (b"[1, 2, 3]", "invalid_request"),
    (b"\"just a string\"", "invalid_request"),
    (b"{\"cmd\": \"ping\"}", "invalid_request"),
    (b"{\"id\": [1], \"cmd\": \"ping\"}", "invalid_request"),
    (b"{\"id\": 1}", "invalid_request"),
    (b"{\"id\": 1, \"cmd\": \"frobnicate\"}", "unknown_command"),
    (b"{\"id\": 1, \"cmd\": \"query_devices\", \"device\": {}}", "invalid_param"),
    (b"{\"id\": 1, \"cmd\": \"query_devices\", \"kind\": 3}", "invalid_param"),
    (b"{\"id\": 1, \"cmd\": \"query_hostapis\", \"index\": 99999999999999999999999}", "invalid_param"),
    (b"{\"id\": 1, \"cmd\": \"check_output_settings\", \"samplerate\": 1e999}", "invalid_param"),
    (b"{\"id\": 1, \"cmd\": \"check_output_settings\", \"channels\": -2}", "invalid_param"),
    (b"{\"id\": 1, \"cmd\": \"ping\", \"extra\": true}", "invalid_param"),
    (b"{\"id\": 1, \"cmd\": \"ping\"" + b", \"x\": " + b"[" * 100 + b"]" * 100 + b"}", "parse_error"),
    (b"{\"id\": 1, \"cmd\": \"p\x00ing\"}", "parse_error"),
    (b"{\"id\": 1, \"cmd\": \"\xff\xfe\"}", "parse_error"),
    (b"{\"id\": 1, \"cmd\": \"hello\", \"protocol\": 0}", "unsupported_protocol"),
]


def test_bad_lines_get_the_right_error():
    conn = D.connect()
    for line, code in BAD_LINES:
        conn.send_raw(line + b"\n")
        msg = conn.read_message()
        check(msg is not None, "connection survives %r" % line[:40])
        check_eq(msg.get("ok"), False, "ok flag for %r" % line[:40])
        check_eq(msg["error"]["code"], code, "code for %r" % line[:60])
    # The same connection still works afterwards.
    check_eq(conn.call("ping"), {}, "ping after bad input")
    conn.close()


def test_ids_are_echoed():
    conn = D.connect()
    conn.send({"id": "req-α", "cmd": "ping"})
    # Every success reply carries the device list's generation (1: nothing changed since the start).
    check_eq(conn.read_message(), {"id": "req-α", "ok": True, "result": {}, "generation": 1},
             "string id")
    conn.send({"id": 12, "cmd": "nope"})
    msg = conn.read_message()
    check_eq(msg["id"], 12, "id echoed on error")
    conn.send_raw(b"garbage\n")
    check_eq(conn.read_message()["id"], None, "null id when the line had none")
    conn.close()


def test_garbage_then_valid_request():
    conn = D.connect()
    conn.send_raw(os.urandom(3000).replace(b"\n", b"x") + b"\n{\"id\": 5, \"cmd\": \"ping\"}\n")
    first = conn.read_message()
    check_eq(first["error"]["code"], "parse_error", "garbage")
    check_eq(conn.read_message(), {"id": 5, "ok": True, "result": {}, "generation": 1},
             "valid request after garbage")
    conn.close()


def test_pipelined_requests_and_split_writes():
    conn = D.connect()
    batch = b"".join(b'{"id": %d, "cmd": "ping"}\r\n' % i for i in range(200))
    # Send in awkward pieces so that lines are split across reads.
    for i in range(0, len(batch), 7):
        conn.send_raw(batch[i:i + 7])
    for i in range(200):
        check_eq(conn.read_message()["id"], i, "reply order")
    conn.close()


def closed(conn):
    """True when the daemon closed the connection (EOF, or a reset because
    it closed with our unread bytes in its buffer)."""
    try:
        return conn.read_line() is None
    except ConnectionResetError:
        return True


def test_oversized_line_closes_connection():
    conn = D.connect()
    try:
        conn.send_raw(b"{\"id\": 1, \"cmd\": \"ping\", \"pad\": \"" + b"x" * 70000)
    except OSError:
        pass  # The daemon may close before taking it all.
    msg = conn.read_message()
    check_eq(msg["error"]["code"], "line_too_long", "oversized line")
    check(closed(conn), "connection closed after line_too_long")
    conn.close()
    # A line of exactly the maximum (65535 bytes plus newline) is still accepted.
    conn = D.connect()
    head = b'{"id": 2, "cmd": "ping", "pad": "'
    tail = b'"}'
    pad = 65535 - len(head) - len(tail)
    conn.send_raw(head + b"p" * pad + tail + b"\n")
    msg = conn.read_message()
    check_eq(msg["error"]["code"], "invalid_param", "a maximal line is parsed (unknown param)")
    check_eq(conn.call("ping"), {}, "connection open after a maximal line")
    conn.close()


def test_disconnect_mid_line():
    for _ in range(20):
        s = socket.socket(socket.AF_UNIX)
        s.connect(D.socket)
        s.sendall(b'{"id": 1, "cmd": "query_dev')
        s.close()
    conn = D.connect()
    check_eq(conn.call("ping"), {}, "daemon serves after clients vanished mid-line")
    conn.close()


def test_hundred_clients_at_once():
    conns = [D.connect() for _ in range(100)]
    for i, c in enumerate(conns):
        c.send({"id": i, "cmd": "query_devices", "device": "t_out2"})
    for i, c in enumerate(conns):
        msg = c.read_message()
        check_eq((msg["id"], msg["result"]["name"]), (i, "t_out2"), "reply to client %d" % i)
    for c in conns:
        c.close()
    conn = D.connect()
    check_eq(conn.call("ping"), {}, "still serving")
    conn.close()


def test_socket_mode():
    mode = stat.S_IMODE(os.stat(D.socket).st_mode)
    check_eq(oct(mode), oct(0o660), "socket mode")


def test_second_daemon_refuses_live_socket():
    p = subprocess.run(command(SDDAEMON, "--socket", D.socket), env=D.env, capture_output=True,
                       timeout=scaled(30))
    check(p.returncode != 0, "a second daemon on the same socket fails")
    check(b"already serving" in p.stderr, p.stderr.decode(errors="replace"))
    conn = D.connect()
    check_eq(conn.call("ping"), {}, "the first daemon still serves")
    conn.close()


def test_stale_socket_is_replaced_and_folder_created():
    # Not "with Daemon(...)": that would start a daemon on the default path first.
    other = Daemon(name="stale")
    try:
        path = os.path.join(other.dir, "sub", "dir", "sock")
        os.makedirs(os.path.dirname(path))
        dead = socket.socket(socket.AF_UNIX)
        dead.bind(path)
        dead.close()  # a socket file nobody listens on
        other.socket = path
        other.start()
        check(other.connect().call("ping") == {}, "serves on the formerly stale path")
        check_eq(other.stop(), 0, "exit status")
        check(not os.path.exists(path), "socket removed at exit")

        # A folder that does not exist yet is created.
        other.socket = os.path.join(other.dir, "new", "folder", "sock")
        other.start()
        check(other.connect().call("ping") == {}, "serves in a new folder")
        check_eq(other.stop(signal.SIGINT), 0, "SIGINT stops cleanly too")

        # Something that is not a socket is never removed.
        other.socket = os.path.join(other.dir, "file")
        open(other.socket, "w").close()
        p = subprocess.run(command(SDDAEMON, "--socket", other.socket), env=other.env,
                           capture_output=True, timeout=scaled(30))
        check(p.returncode != 0 and os.path.isfile(other.socket), "a regular file is left alone")
    finally:
        other.cleanup()


def wait_for_path(path, timeout=10):
    deadline = time.time() + scaled(timeout)
    while time.time() < deadline:
        if os.path.exists(path):
            return True
        time.sleep(0.02)
    return os.path.exists(path)


def test_socket_path_search_order():
    other = Daemon(name="order")
    first = second = None
    try:
        env = dict(other.env)
        env["XDG_RUNTIME_DIR"] = other.dir
        env.pop("SDDAEMON_SOCKET", None)
        first = subprocess.Popen(command(SDDAEMON), env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        path = os.path.join(other.dir, "sddaemon", "socket")
        check(wait_for_path(path), "$XDG_RUNTIME_DIR/sddaemon/socket is used")
        status, out, _ = other.sdctl("devices", extra_env={"SDDAEMON_SOCKET": "",
                                                           "XDG_RUNTIME_DIR": other.dir})
        check_eq(status, 0, "sdctl finds it through XDG_RUNTIME_DIR")
        env["SDDAEMON_SOCKET"] = os.path.join(other.dir, "env-sock")
        second = subprocess.Popen(command(SDDAEMON), env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        check(wait_for_path(env["SDDAEMON_SOCKET"]), "$SDDAEMON_SOCKET wins over XDG")
        for p, what in ((second, "second"), (first, "first")):
            p.terminate()
            check_eq(p.wait(20), 0, "%s daemon's exit status" % what)
    finally:
        for p in (first, second):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        other.cleanup()


def foreign_lines(log):
    """The lines of a daemon's stderr that are not its own."""
    return [line for line in log.splitlines() if not line.startswith("sddaemon: ")]


def test_portaudio_noise_stays_quiet():
    # ALSA, PortAudio and JACK print on stderr while devices are listed and
    # streams open (JACK's probe complains of a server that is not running,
    # as none is under this name).  Below -vvv the daemon logs to a copy of
    # its stderr and points fd 2 at /dev/null, so only its own lines reach
    # the terminal; at -vvv it keeps stderr, which shows the noise is there.
    logs = {}
    for name, args in (("quiet", []), ("noisy", ["-vv"])):  # the harness adds one -v
        d = Daemon(name="noise-" + name, args=args,
                   env={"JACK_DEFAULT_SERVER": "sdd-test-no-such-server"})
        try:
            d.start()
            conn = d.connect()
            check(len(conn.call("query_devices")) >= 5, "the virtual devices are listed")
            conn.close()
            with open(d.path("tone.raw"), "wb") as f:
                f.write(b"\x00\x10" * 2 * 4800)
            d.sdctl("play", "--raw", "-r", "48000", "-c", "2", "-f", "int16", "-d", "t_out",
                    d.path("tone.raw"), check_status=0)
            check_eq(d.stop(), 0, "the %s daemon's exit status" % name)
            logs[name] = d.read_log()
        finally:
            d.cleanup()
    check(foreign_lines(logs["noisy"]),
          "at -vvv the noise reaches stderr (else this test proves nothing):\n" + logs["noisy"])
    check_eq(foreign_lines(logs["quiet"]), [], "lines on the quiet daemon's stderr not its own")
    for want in ("ready: ", "Opened shared output stream on device", "Shutting down"):
        check(any(line.startswith("sddaemon: ") and want in line
                  for line in logs["quiet"].splitlines()),
              "the quiet daemon's own line %r reaches stderr:\n%s" % (want, logs["quiet"]))


def test_shutdown_event():
    # A daemon that stops tells every client why, then closes each connection.
    other = Daemon(name="shutdown")
    try:
        other.start()
        conns = [other.connect() for _ in range(3)]
        for conn in conns:
            check_eq(conn.call("ping"), {}, "the client is served")
        conns[1].send_raw(b'{"id": 1, "cmd": "pi')  # a request cut short by the stop
        check_eq(other.stop(), 0, "exit status")
        for i, conn in enumerate(conns):
            check_eq(conn.read_message(), {"event": "shutdown", "reason": "daemon stopping"},
                     "client %d's shutdown event" % i)
            check(closed(conn), "then client %d's connection closes" % i)
            conn.close()
        check(not os.path.exists(other.socket), "socket removed")
    finally:
        other.cleanup()


if __name__ == "__main__":
    with Daemon(name="protocol") as D:
        status = run_tests([test_bad_lines_get_the_right_error, test_ids_are_echoed,
                            test_garbage_then_valid_request, test_pipelined_requests_and_split_writes,
                            test_oversized_line_closes_connection, test_disconnect_mid_line,
                            test_hundred_clients_at_once, test_socket_mode,
                            test_second_daemon_refuses_live_socket,
                            test_stale_socket_is_replaced_and_folder_created,
                            test_socket_path_search_order, test_portaudio_noise_stays_quiet,
                            test_shutdown_event], D)
    sys.exit(status)
