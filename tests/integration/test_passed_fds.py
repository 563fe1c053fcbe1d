"""Descriptors that clients pass to the daemon (SCM_RIGHTS).  Clients have no
reason to: where the kernel can (SO_PASSRIGHTS, Linux 6.16), their sockets
refuse them and sendmsg() fails with EPERM; elsewhere the daemon closes them
on a thread of its own, because a last close can block (a TCP socket with
unsent data and SO_LINGER waits for the linger time), disconnects a client
that sends more than 8, and stops reading a client whose descriptors would
overfill the closing thread's queue.

The first daemon runs as it would on this kernel; the second, in test
builds, as on a kernel without SO_PASSRIGHTS (SDD_TEST_PASS_RIGHTS=1), so
that the closing thread is tested wherever the suite runs."""

import errno
import os
import signal
import socket
import struct
import sys
import time

from faults_harness import Daemon, check, check_back_to_baseline, check_eq, fd_count, settle
from harness import WRAPPER, run_tests, scaled

LINGER = 60  # seconds a lingering socket's close would block
MAX_CLIENTS = 20
PROMPT = 3   # seconds within which a bystander's ping must be answered (60 s without the fix)

DAEMONS = []
HOOKS = os.environ.get("SDD_TEST_HOOKS") == "1"


def lingering_tcp_socket():
    """A connected TCP socket with unsent data and SO_LINGER: its last close
    blocks for LINGER seconds unless the peer resets it.  Returns it and the
    peer (kept open and unread: closing the peer resets the connection)."""
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    lst.bind(("127.0.0.1", 0))
    lst.listen()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    s.connect(lst.getsockname())
    peer, _ = lst.accept()
    lst.close()
    s.setblocking(False)
    sent = 0
    try:
        while True:
            sent += s.send(b"x" * 65536)
    except BlockingIOError:
        pass
    check(sent > 0, "data waits in the TCP socket")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, LINGER))
    return s, peer


def pass_lingering(d, sock, then=None, line=b'{"id":1,"cmd":"ping"}\n'):
    """Sends a lingering TCP socket to daemon d on sock (or on what
    sock() returns, called once the daemon is stopped), with line, and
    closes our copy, so that the daemon's is the last: the daemon is
    stopped meanwhile, lest it close its copy first; then() runs before it
    goes on.  Returns whether the kernel let the descriptor pass, and the
    peer to close (which resets the connection and ends any wait)."""
    tcp, peer = lingering_tcp_socket()
    os.kill(d.proc.pid, signal.SIGSTOP)
    try:
        if callable(sock):
            sock = sock()
        sent = send_fds(sock, [tcp.fileno()], line)
        if sent:
            tcp.close()  # in flight, the daemon's copy stays: this close is not the last
        else:
            sock.sendall(line)
        if then:
            then()
    finally:
        os.kill(d.proc.pid, signal.SIGCONT)
    if not sent:
        peer.close()  # ours is the last copy: reset it first
        tcp.close()
    return sent, peer


def send_fds(sock, fds, line=b'{"id":1,"cmd":"ping"}\n'):
    """Sends line with fds; returns True, or False when the kernel refused them (EPERM)."""
    try:
        socket.send_fds(sock, [line], fds)
        return True
    except PermissionError:
        return False


def prompt_ping(d, what):
    """A new client's ping is answered within PROMPT seconds."""
    start = time.time()
    c = d.connect(timeout=PROMPT)
    try:
        check_eq(c.call("ping"), {}, "ping")
    except OSError as e:
        raise AssertionError("%s: a bystander's ping was not answered within %d s (%s)"
                             % (what, PROMPT, e)) from None
    finally:
        c.close()
    return time.time() - start


def each_daemon(fn):
    """Runs fn(daemon, refused) for each daemon; refused: whether its
    sockets refuse descriptors."""
    for d, refuses in DAEMONS:
        fn(d, refuses)


def test_lingering_socket_does_not_stall_others():
    def run(d, refuses):
        conn = d.connect()
        base = settle(d, conn)
        # Passed with a request, the sender staying or leaving at once.
        for stay in (True, False):
            c = d.connect()
            check_eq(c.call("ping"), {}, "the sender is served")
            sent, peer = pass_lingering(d, c.sock, then=None if stay else c.close)
            check_eq(sent, not refuses, "the kernel refused the descriptor")
            if stay:
                check_eq(c.reply(1), {"id": 1, "ok": True, "result": {}, "generation": 1},
                         "the sender's reply")
            prompt_ping(d, "after a lingering socket was passed")
            c.close()
            peer.close()
        # Passed by a client that the daemon refuses (too many clients): the
        # connection is closed with the descriptor unread in it.
        fillers = []
        while conn.call("daemon_status")["clients"] < MAX_CLIENTS:
            fillers.append(d.connect())
            fillers[-1].call("ping")
        extra = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)

        def connect_extra():
            extra.connect(d.socket)
            return extra
        sent, peer = pass_lingering(d, connect_extra)
        check_eq(sent, not refuses, "the kernel refused the descriptor")
        conn.sock.settimeout(scaled(PROMPT))
        try:
            check_eq(conn.call("ping"), {},
                     "a client's ping right after a refusal with a lingering socket in flight")
        except OSError as e:
            raise AssertionError("a ping was not answered within %d s after a refused client "
                                 "passed a lingering socket (%s)" % (PROMPT, e)) from None
        conn.sock.settimeout(scaled(10))
        extra.close()
        for c in fillers:
            c.close()
        peer.close()
        check_back_to_baseline(d, conn, base, "lingering sockets passed", timeout=scaled(30))
        conn.close()
    each_daemon(run)


def test_client_that_keeps_sending_descriptors_is_dropped():
    def run(d, refuses):
        c = d.connect()
        null = os.open("/dev/null", os.O_RDONLY)
        try:
            for i in range(9):
                if not send_fds(c.sock, [null], b'{"id":%d,"cmd":"ping"}\n' % i):
                    check(refuses, "descriptors refused by a daemon that should take them")
                    return
            msgs = []
            while True:
                try:
                    m = c.read_message()
                except ConnectionResetError:
                    m = None
                if m is None:
                    break
                msgs.append(m)
            errors = [m for m in msgs if not m.get("ok", True)]
            check(errors and "must not send file descriptors" in errors[-1]["error"]["message"],
                  "the client is told why it is disconnected: %r" % msgs[-3:])
            check(len(msgs) <= 9, "it is disconnected after 8 descriptors: %r" % msgs)
            print("# %d replies, then: %s" % (len(msgs) - 1, errors[-1]["error"]["message"]))
        finally:
            os.close(null)
            c.close()
        prompt_ping(d, "after a client sent 9 descriptors")
    each_daemon(run)


def test_descriptor_flood_behind_a_blocked_close_is_bounded():
    """With the closing thread held by a lingering socket, clients that send
    hundreds of descriptors each stop being read once a thousand or so wait:
    the daemon's descriptor table does not fill, and others are served."""
    def run(d, refuses):
        if refuses:
            return
        conn = d.connect()
        base = settle(d, conn)
        holder = d.connect()
        sent, peer = pass_lingering(d, holder.sock)
        check(sent, "sent the lingering socket")
        holder.close()
        prompt_ping(d, "with the closing thread blocked")
        null = os.open("/dev/null", os.O_RDONLY)
        flood = []
        try:
            for i in range(12):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(d.socket)
                # 253 descriptors a message, the most the kernel carries in one.
                try:
                    for _ in range(4):
                        socket.send_fds(s, [b"\n"], [null] * 253)
                except OSError as e:
                    check(e.errno in (errno.EPIPE, errno.ECONNRESET, errno.ETOOMANYREFS),
                          "sending: %s" % e)
                flood.append(s)
            time.sleep(scaled(1))
            held = fd_count(d.proc.pid) - base[0]
            print("# %d clients sent 4 x 253 descriptors: the daemon holds %d more" % (len(flood), held))
            check(held <= 1024 + len(flood) + 4,
                  "the daemon holds %d descriptors more than at the start" % held)
            prompt_ping(d, "during a flood of descriptors")
            for s in flood:
                s.close()
            prompt_ping(d, "after the flood's clients left")
        finally:
            os.close(null)
            for s in flood:
                s.close()
            # Resets the lingering socket: the closing thread goes on.
            peer.close()
        check_back_to_baseline(d, conn, base, "a flood of descriptors", timeout=scaled(30))
        conn.close()
    each_daemon(run)


def main():
    args = ["--max-clients", str(MAX_CLIENTS)]
    daemons = [Daemon(args, name="fds")]
    refuses = [None]
    # valgrind holds its lock over a close(), so one that blocks stalls every
    # thread of the program under it: the closing thread cannot be tested there.
    if HOOKS and not any("valgrind" in w for w in WRAPPER):
        daemons.append(Daemon(args, env={"SDD_TEST_PASS_RIGHTS": "1"}, name="fds-closer"))
        refuses.append(False)
    try:
        for d in daemons:
            d.start()
        # Whether the kernel refuses descriptors on the daemon's sockets.
        probe = daemons[0].connect()
        null = os.open("/dev/null", os.O_RDONLY)
        refuses[0] = not send_fds(probe.sock, [null])
        os.close(null)
        probe.close()
        print("# the kernel %s descriptors on the daemon's sockets"
              % ("refuses" if refuses[0] else "passes"))
        DAEMONS.extend(zip(daemons, refuses))
        status = run_tests([test_lingering_socket_does_not_stall_others,
                            test_client_that_keeps_sending_descriptors_is_dropped,
                            test_descriptor_flood_behind_a_blocked_close_is_bounded])
        for d in daemons:
            check_eq(d.stop(), 0, "exit status")
    finally:
        for d in daemons:
            d.cleanup()
    return status


if __name__ == "__main__":
    sys.exit(main())
