"""What one client, or one user, may hold of the daemon, on the virtual ALSA
devices: shared memory and descriptors that replies carry (also when the
client never reads them), all clients' shared memory together, connections
and streams per user, idle connections that give way, and streams on one
device stream.  Each test starts a daemon of its own with the limits it
needs.  Tests that need a second user run a child process as nobody, and
are skipped without root."""

import json
import os
import pwd
import socket
import subprocess
import sys
import time

from faults_harness import (Conn, Daemon, RawStream, check, check_eq, fd_count, raise_nofile,
                            settle)
from harness import Failure, scaled
from systemd_harness import Skip, run_tests


NOBODY = pwd.getpwnam("nobody").pw_uid


def memfd_pages(pid):
    """Bytes of memory the daemon's memfds hold (each file counted once), and
    how many of its descriptors are memfds."""
    seen, total, count = set(), 0, 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        path = "/proc/%d/fd/%s" % (pid, fd)
        try:
            if not os.readlink(path).startswith("/memfd:"):
                continue
            st = os.stat(path)
        except OSError:
            continue
        count += 1
        if st.st_ino not in seen:
            seen.add(st.st_ino)
            total += st.st_blocks * 512
    return total, count


def read_to_reply(sock, want_id, timeout=60):
    """Reads a raw socket until the reply to want_id; returns the messages
    read and every descriptor that came (kept open)."""
    sock.settimeout(scaled(timeout))
    buf, fds, msgs = b"", [], []
    while True:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            msgs.append(json.loads(line))
            if msgs[-1].get("id") == want_id:
                return msgs, fds
        data, got, _flags, _addr = socket.recv_fds(sock, 1 << 16, 64)
        fds.extend(got)
        if not data:
            raise Failure("the connection closed before reply %r" % (want_id,))
        buf += data


def wait_streams_gone(d, conn, timeout=30):
    """Waits until no stream runs and the daemon holds no memfd any more."""
    deadline = time.time() + scaled(timeout)
    while conn.call("daemon_status")["streams"] or memfd_pages(d.proc.pid)[1]:
        check(time.time() < deadline, "streams or their memory stay in the daemon")
        time.sleep(0.05)


# ---- Item 2: what replies carry ---------------------------------------------------

def read_all(sock, timeout=60):
    """Reads a raw socket to its end; returns the messages and the descriptors
    that came (kept open)."""
    sock.settimeout(scaled(timeout))
    buf, fds = b"", []
    while True:
        data, got, _flags, _addr = socket.recv_fds(sock, 1 << 16, 64)
        fds.extend(got)
        if not data:
            return [json.loads(line) for line in buf.split(b"\n") if line], fds
        buf += data


def test_unread_replies_pin_nothing():
    """A client that sends play and close 300 times without reading a reply
    (max_shm_per_client 8M, each stream 1 MiB), then stops sending: at most
    16 streams' descriptors (two each) go into its socket before it is
    refused, and the memory of its closed streams is freed although their
    descriptors wait in replies; the daemon never holds more than the
    limit, and what one turn of the loop closed until the audio thread has
    moved past it.  Before, every reply kept its stream's memory: hundreds of MiB.
    A client that then reads its replies is served again.  The device
    stream stays open between the plays (device_idle_time 60): a device
    stream opened for each play would keep its closed streams' memory
    until its start had returned, seconds each under ASan."""
    play = json.dumps({"id": "p", "cmd": "play", "device": "t_null", "channels": 2,
                       "buffer_frames": 131072}).encode() + b"\n"
    close = json.dumps({"id": "c", "cmd": "close"}).encode() + b"\n"
    with Daemon(args=["--max-shm-per-client", "8M", "--device-idle-time", "60"],
                name="lim-unread") as d:
        conn = d.connect()
        hostile = socket.socket(socket.AF_UNIX)
        hostile.connect(d.socket)
        wait_count(conn, 2)
        hostile.setblocking(False)
        pending = (play + close) * 300
        peak = 0
        deadline = time.time() + scaled(120)
        while pending:
            try:
                pending = pending[hostile.send(pending):]
            except BlockingIOError:
                check(time.time() < deadline, "the daemon stopped reading the client for good")
                time.sleep(0.02)
            peak = max(peak, memfd_pages(d.proc.pid)[0])
        # The daemon handles every line it has, then finds the end and hangs up.
        hostile.shutdown(socket.SHUT_WR)
        deadline = time.time() + scaled(60)
        while conn.call("daemon_status")["clients"] != 1:
            check(time.time() < deadline, "the daemon does not finish the client's requests")
            peak = max(peak, memfd_pages(d.proc.pid)[0])
            time.sleep(0.05)
        msgs, fds = read_all(hostile)
        hostile.close()
        served = [m for m in msgs if m.get("id") == "p" and m.get("ok")]
        refused = [m for m in msgs if m.get("id") == "p" and not m.get("ok")]
        print("# %d replies reached the client (the rest went with the connection): %d streams "
              "with %d descriptors, %d refused; the daemon held at most %.1f MiB of memfds"
              % (len(msgs), len(served), len(fds), len(refused), peak / 2**20))
        # The limit counts open streams.  A closed stream's memory goes once
        # the audio thread has moved past it (a period), and one turn of the
        # loop handles up to 32 of a client's lines (client.c's
        # LINES_PER_TURN): 16 closes of 1 MiB streams may wait for that
        # period beside the 8 MiB of open ones (seen under ASan, where a turn
        # outlasts a period).  Before, every unread reply kept its stream's
        # memory: hundreds of MiB.
        check(peak <= (8 + 16) << 20,
              "the daemon held %.1f MiB for a client with a limit of 8 MiB (and 16 MiB of "
              "streams closed in one turn)" % (peak / 2**20))
        check(len(fds) <= 32 and len(fds) == 2 * len(served),
              "at most 16 streams' descriptors went to a client that reads nothing: %d streams, "
              "%d descriptors" % (len(served), len(fds)))
        check(refused and refused[0]["error"]["code"] == "limit_exceeded"
              and "not read yet" in refused[0]["error"]["message"],
              "the refusal says why: %r" % (refused[:1],))
        wait_streams_gone(d, conn)
        kept = sum(os.fstat(fd).st_blocks * 512 for fd in fds)
        print("# their descriptors hold %d bytes" % kept)
        check_eq(kept, 0, "bytes the closed streams' memfds still hold")
        for fd in fds:
            os.close(fd)
        # A client that reads its replies in the end is served again.
        reader = socket.socket(socket.AF_UNIX)
        reader.connect(d.socket)
        reader.sendall((play + close) * 40)
        reader.settimeout(scaled(60))
        got, buf, fds = 0, b"", []
        while got < 80:
            data, more, _flags, _addr = socket.recv_fds(reader, 1 << 16, 64)
            check(data, "the daemon hung up on the reader")
            fds.extend(more)
            buf += data
            got = buf.count(b"\n")
        for fd in fds:
            os.close(fd)
        reader.sendall(play)
        msgs, fds = read_to_reply(reader, "p")
        check(msgs[-1].get("ok"), "served once it has read its replies: %r" % msgs[-1])
        for fd in fds:
            os.close(fd)
        reader.close()
        conn.close()
        check_eq(d.stop(), 0, "exit status")


def test_closed_stream_memory_is_freed_while_the_client_keeps_it():
    """A client that keeps the memfd of a stream it closed holds an empty
    file: the memory went back to the system with the record.  Before, a
    client could pin any amount by keeping descriptors and closing streams."""
    with Daemon(args=["--device-idle-time", "0"], name="lim-keep") as d:
        conn = d.connect()
        kept = []
        for _ in range(8):
            r = conn.call("play", device="t_null", channels=2, buffer_frames=131072)
            s = RawStream(conn, r)
            kept.append(os.dup(s.memfd))
            check(os.fstat(kept[-1]).st_blocks * 512 >= r["shm_size"], "a live stream's memory")
            s.close()
            conn.call("close", handle=r["handle"])
        wait_streams_gone(d, conn)
        held = sum(os.fstat(fd).st_blocks * 512 for fd in kept)
        print("# 8 closed streams of 1 MiB: their kept descriptors hold %d bytes" % held)
        check_eq(held, 0, "bytes the kept memfds hold")
        for fd in kept:
            os.close(fd)
        conn.close()
        check_eq(d.stop(), 0, "exit status")


def test_readers_are_never_refused():
    """A client that reads its replies may start streams without end (200
    here, with max_streams_per_client 4), though the "finished" event of each
    stream waits unread in its socket when it asks for the next one; every
    other finished record is left for the daemon to trim."""
    # The device stream stays open between the plays: opening one for each
    # would cost the test a minute under the sanitizers, and prove nothing more.
    with Daemon(args=["--max-streams-per-client", "4", "--device-idle-time", "60"],
                name="lim-readers") as d:
        conn = d.connect()
        for i in range(200):
            r = conn.call("play", device="t_null", channels=2, frames=64, stop_previous=False)
            s = RawStream(conn, r)
            s.write_all(bytes(64 * 8))
            s.close()
            conn.call("wait", handle=r["handle"])
            if i % 2 == 0:
                conn.call("close", handle=r["handle"])
        conn.close()
        check_eq(d.stop(), 0, "exit status")


def test_max_shm_total():
    """With max_shm_total 256K, clients together hold at most that much: a
    stream that would pass it is refused with limit_exceeded naming
    max_shm_total, and closing another client's stream makes room."""
    with Daemon(args=["--max-shm-total", "256K", "--device-idle-time", "0"],
                name="lim-total") as d:
        a, b = d.connect(), d.connect()
        # Each stream: a 4 KiB header and a ring of 8192 stereo float32 frames (64 KiB).
        handles = []
        for _ in range(3):
            r = a.call("play", device="t_null", channels=2, buffer_frames=8192,
                       stop_previous=False)
            RawStream(a, r).close()
            handles.append(r["handle"])
        err = b.error("play", device="t_null", channels=2, buffer_frames=8192)
        check_eq(err["code"], "limit_exceeded", "a fourth stream, of another client")
        check("max_shm_total" in err["message"] and "262144" in err["message"],
              "the message names the limit: %r" % err["message"])
        a.call("close", handle=handles.pop())
        r = b.call("play", device="t_null", channels=2, buffer_frames=8192)
        RawStream(b, r).close()
        a.close()
        b.close()
        check_eq(d.stop(), 0, "exit status")


# ---- Item 3: what one user may hold ------------------------------------------------

# A child process as another user that opens up to COUNT connections, pings
# on each, prints {"served": n, "refused": {code: n}} and holds them until
# its standard input closes.
HOLDER = r"""
import json, os, socket, sys
uid, path, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
os.setgroups([]); os.setgid(uid); os.setuid(uid)
held, refused = [], {}
for _ in range(count):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(path)
    try:
        s.sendall(b'{"id": 1, "cmd": "ping"}\n')
    except OSError:
        pass
    line = s.makefile("rb").readline()
    msg = json.loads(line) if line else {"error": {"code": "closed"}}
    if msg.get("ok"):
        held.append(s)
    else:
        refused[msg["error"]["code"]] = refused.get(msg["error"]["code"], 0) + 1
        s.close()
print(json.dumps({"served": len(held), "refused": refused}), flush=True)
sys.stdin.read()
"""


def hold_connections(d, uid, count):
    """Runs HOLDER as uid; returns (process, its summary)."""
    os.chmod(d.dir, 0o755)
    os.chmod(d.socket, 0o666)
    p = subprocess.Popen([sys.executable, "-c", HOLDER, str(uid), d.socket, str(count)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         preexec_fn=lambda: raise_nofile(count + 64))
    line = p.stdout.readline()
    if not line:
        p.kill()
        raise Failure("the connection holder as uid %d failed" % uid)
    return p, json.loads(line)


def release(p):
    p.stdin.close()
    p.wait(scaled(30))


def ping_ok(d):
    """Whether a new connection of ours is served (or the daemon's reason)."""
    c = Conn(d.socket)
    try:
        msg = c.request("ping")
    except Failure as e:
        return str(e)
    finally:
        c.close()
    return True if msg.get("ok") else msg["error"]["message"]


def test_one_user_cannot_take_every_connection():
    """With the default limits, a user who opens 4096 connections (the whole
    of max_clients) gets 256 of them (max_clients_per_user) and the rest are
    refused with limit_exceeded; another user is still served.  Before, the
    first user took every place and the others got "too many clients"."""
    if os.getuid() != 0:
        raise Skip("needs root to connect as another user")
    with Daemon(args=["--device-idle-time", "0"], name="lim-conns") as d:
        p, got = hold_connections(d, NOBODY, 4096)
        try:
            print("# nobody opened 4096 connections: %d served, refused %r"
                  % (got["served"], got["refused"]))
            check_eq(got["served"], 256, "connections served to one user")
            check_eq(got["refused"], {"limit_exceeded": 4096 - 256}, "the others refused")
            check_eq(ping_ok(d), True, "another user is served meanwhile")
            check("max_clients_per_user" in d.read_log() or "the limit" in d.read_log(),
                  "the refusals are logged")
        finally:
            release(p)
        check_eq(d.stop(), 0, "exit status")


def wait_count(conn, clients, timeout=20):
    deadline = time.time() + scaled(timeout)
    while conn.call("daemon_status")["clients"] != clients:
        check(time.time() < deadline, "the daemon does not get to %d clients" % clients)
        time.sleep(0.05)


def closed_with(c, what):
    """Reads what is left on c: one error line (code timeout) and the end."""
    c.sock.settimeout(scaled(10))
    msg = c.read_message()
    check(msg is not None and msg.get("error", {}).get("code") == "timeout",
          "%s is told why it is closed: %r" % (what, msg))
    check("idle" in msg["error"]["message"], "the message says idle: %r" % msg)
    check(c.read_message() is None, "then %s is closed" % what)


def test_idle_connections_give_way():
    """With max_clients_per_user 4 and idle_timeout 1, a fifth connection of
    the user takes the place of the one idle longest (no request, no running
    stream, no subscription); one with a running stream keeps its place, as
    do one subscribed to events and one that just came.  The same for
    max_clients.  With idle_timeout 0 the fifth is refused instead."""
    with Daemon(args=["--max-clients-per-user", "4", "--idle-timeout", "1",
                      "--device-idle-time", "0"], name="lim-idle") as d:
        probe = d.connect()
        wait_count(probe, 1)
        busy = d.connect()
        r = busy.call("rec", device="t_in", channels=2)  # open-ended: it runs
        stream = RawStream(busy, r)
        quiet = [d.connect(), d.connect()]
        for c in quiet:
            c.call("ping")
        probe.close()
        wait_count(busy, 3)
        listener = d.connect()  # subscribed to events: it waits for them, it is not idle
        listener.call("subscribe", events=["devices_changed"])
        time.sleep(1.5)
        fifth = d.connect()
        check_eq(fifth.call("ping"), {}, "a fifth connection is served")
        closed_with(quiet[0], "the connection idle longest")
        sixth = d.connect()
        check_eq(sixth.call("ping"), {}, "a sixth is served too")
        closed_with(quiet[1], "the next idle one")
        check_eq(busy.call("get_status", handle=r["handle"])["state"], "running",
                 "the connection with a running stream kept its place and its stream")
        check_eq(listener.call("ping"), {}, "the subscribed one kept its place")
        # Nobody is idle long enough now (the newest just came): the next one is refused.
        extra = d.connect()
        msg = extra.read_message()
        check(msg["error"]["code"] == "limit_exceeded"
              and "max_clients_per_user" in msg["error"]["message"],
              "refused while nobody has been idle long enough: %r" % msg)
        extra.close()
        stream.close()
        for c in (busy, fifth, sixth, listener):
            c.close()
        check_eq(d.stop(), 0, "exit status")
    with Daemon(args=["--max-clients", "3", "--idle-timeout", "1", "--device-idle-time", "0"],
                name="lim-idle-all") as d:
        first = d.connect()
        wait_count(first, 1)
        others = [d.connect(), d.connect()]
        for c in others:
            c.call("ping")
        time.sleep(1.5)
        for c in others:
            c.call("ping")
        fourth = d.connect()
        check_eq(fourth.call("ping"), {}, "a fourth connection, beyond max_clients, is served")
        closed_with(first, "the connection idle longest")
        for c in others + [fourth]:
            c.close()
        check_eq(d.stop(), 0, "exit status")
    with Daemon(args=["--max-clients-per-user", "2", "--idle-timeout", "0",
                      "--device-idle-time", "0"], name="lim-idle-off") as d:
        a = d.connect()
        wait_count(a, 1)
        b = d.connect()
        b.call("ping")
        time.sleep(1.5)
        c = d.connect()
        msg = c.read_message()
        check_eq(msg["error"]["code"], "limit_exceeded", "idle_timeout 0: refused")
        check_eq(a.call("ping"), {}, "and the idle ones keep their places")
        for x in (a, b, c):
            x.close()
        check_eq(d.stop(), 0, "exit status")


def test_streams_and_memory_per_user():
    """max_streams_per_user counts the running streams of all of a user's
    connections, and max_shm_per_user their memory; another user has limits
    of its own.  Streams that end or close give their place back."""
    with Daemon(args=["--max-streams-per-user", "3", "--max-shm-per-user", "1M",
                      "--device-idle-time", "0"], name="lim-user-streams") as d:
        a, b = d.connect(), d.connect()
        recs = []
        for c in (a, a, b):
            r = c.call("rec", device="t_in", channels=2, buffer_frames=1024, stop_previous=False)
            RawStream(c, r).close()
            recs.append((c, r["handle"]))
        err = b.error("rec", device="t_in", channels=2, buffer_frames=1024, stop_previous=False)
        check_eq(err["code"], "limit_exceeded", "a fourth stream of the user")
        check("max_streams_per_user" in err["message"], "the message names the limit: %r" % err)
        c, h = recs.pop()
        c.call("stop", handle=h)
        c.call("close", handle=h)
        r = b.call("rec", device="t_in", channels=2, buffer_frames=1024, stop_previous=False)
        RawStream(b, r).close()
        recs.append((b, r["handle"]))
        for c, h in recs:
            c.call("close", handle=h)
        # Memory: 1 MiB for the user, 64 MiB per client.
        r = a.call("play", device="t_null", channels=2, buffer_frames=65536, stop_previous=False)
        RawStream(a, r).close()
        err = b.error("play", device="t_null", channels=2, buffer_frames=65536,
                      stop_previous=False)
        check_eq(err["code"], "limit_exceeded", "a second 512 KiB stream of the user")
        check("max_shm_per_user" in err["message"], "the message names the limit: %r" % err)
        a.close()
        wait_streams_gone(d, b)
        r = b.call("play", device="t_null", channels=2, buffer_frames=65536, stop_previous=False)
        RawStream(b, r).close()
        b.close()
        check_eq(d.stop(), 0, "exit status")


def test_streams_per_device():
    """max_streams_per_device counts the streams one shared device stream
    mixes, of every client and user: with 3, a fourth playback on t_null is
    refused, a recording on t_in (another device stream) is not, and a
    stream that ends makes room.  A play that replaces the client's previous
    one (stop_previous) takes that one's place."""
    with Daemon(args=["--max-streams-per-device", "3", "--device-idle-time", "5"],
                name="lim-device") as d:
        conns = [d.connect() for _ in range(4)]
        handles = []
        for c in conns[:3]:
            r = c.call("play", device="t_null", channels=2, buffer_frames=1024)
            RawStream(c, r).close()
            handles.append(r["handle"])
        err = conns[3].error("play", device="t_null", channels=2, buffer_frames=1024)
        check_eq(err["code"], "limit_exceeded", "a fourth stream on the device")
        check("max_streams_per_device" in err["message"] and "3" in err["message"],
              "the message names the limit: %r" % err["message"])
        r = conns[3].call("rec", device="t_in", channels=2, buffer_frames=1024)
        RawStream(conns[3], r).close()
        r = conns[0].call("play", device="t_null", channels=2, buffer_frames=1024)
        RawStream(conns[0], r).close()
        conns[1].call("stop", handle=handles[1])
        r = conns[3].call("play", device="t_null", channels=2, buffer_frames=1024,
                          stop_previous=False)
        RawStream(conns[3], r).close()
        for c in conns:
            c.close()
        check_eq(d.stop(), 0, "exit status")


def test_resamplers_per_device():
    """max_resamplers_per_device bounds the rates one shared device stream
    resamples, whoever asks: with 2, a third rate on t_null is refused
    with limit_exceeded naming the device stream's rate, while the device
    stream's own rate and a rate already resampled still play."""
    with Daemon(args=["--max-resamplers-per-device", "2", "--device-idle-time", "5"],
                name="lim-resamplers") as d:
        a, b = d.connect(), d.connect()
        for rate in (22050, 44100):
            r = a.call("play", device="t_null", channels=2, samplerate=rate,
                       buffer_frames=1024, stop_previous=False)
            RawStream(a, r).close()
        err = b.error("play", device="t_null", channels=2, samplerate=32000, buffer_frames=1024)
        check_eq(err["code"], "limit_exceeded", "a third rate on the device")
        check("max_resamplers_per_device" in err["message"] and "48000" in err["message"],
              "the message names the setting and the device's rate: %r" % err["message"])
        for rate in (48000, 44100):
            r = b.call("play", device="t_null", channels=2, samplerate=rate,
                       buffer_frames=1024, stop_previous=False)
            RawStream(b, r).close()
        a.close()
        b.close()
        check_eq(d.stop(), 0, "exit status")


def main():
    raise_nofile(8192)
    tests = [
        test_unread_replies_pin_nothing,
        test_closed_stream_memory_is_freed_while_the_client_keeps_it,
        test_readers_are_never_refused,
        test_max_shm_total,
        test_one_user_cannot_take_every_connection,
        test_idle_connections_give_way,
        test_streams_and_memory_per_user,
        test_streams_per_device,
        test_resamplers_per_device,
    ]
    only = os.environ.get("SDD_TEST_ONLY")
    if only:
        tests = [t for t in tests if only in t.__name__]
    return run_tests(tests)


if __name__ == "__main__":
    sys.exit(main())
