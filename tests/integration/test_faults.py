"""Faults from clients, on the virtual ALSA devices: clients that never read,
flood, hold lines half-sent, come and go by the thousand, send garbage, or
run into the configured limits.  Every test checks that the daemon keeps
serving other clients and that its descriptors and resident memory return
to their baseline afterwards (see faults_harness.py)."""

import json
import os
import random
import signal
import socket
import struct
import sys
import threading
import time

from faults_harness import (Conn, Daemon, RawStream, check, check_back_to_baseline, check_eq,
                            fd_count, raise_nofile, rss_kib, sanitized, settle)
from harness import run_tests

D = None
# Extra devices make query_devices replies as large as on a machine with many
# cards (some 15 KB), so that short requests can ask for a lot of output.
EXTRA_DEVICES = 40
CONN = None  # the test's own connection to D, for daemon_status


def extra_devices(daemon):
    with open(daemon.asound, "a") as f:
        for i in range(EXTRA_DEVICES):
            f.write('pcm.x_many_%02d { type null; hint { show on; description '
                    '"one of many null devices, for large device lists" } }\n' % i)


def baseline():
    return settle(D, CONN)


def closed_by_daemon(sock, timeout=30):
    """Reads (and drops) what the daemon still sends until it closes the
    connection; returns the lines read.  Fails if it stays open."""
    sock.settimeout(timeout)
    buf = b""
    try:
        while True:
            data = sock.recv(1 << 16)
            if not data:
                break
            buf += data
    except ConnectionResetError:
        pass
    except socket.timeout:
        raise AssertionError("the daemon did not close the connection within %ss" % timeout)
    return [line for line in buf.split(b"\n") if line]


# ---- Clients that do not read ------------------------------------------------------

def test_pipelining_client_is_throttled_not_dropped():
    """A client that pipelines thousands of requests with large replies and
    reads nothing is throttled (the daemon stops reading it), does not grow
    the daemon, and gets every reply, in order, once it reads."""
    base = baseline()
    count = 3000
    requests = b"".join(b'{"id":%d,"cmd":"query_devices"}\n' % i for i in range(count))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(D.socket)
    s.setblocking(False)
    sent = 0
    deadline = time.time() + 5
    while sent < len(requests) and time.time() < deadline:
        try:
            sent += s.send(requests[sent:sent + 4096])
        except BlockingIOError:
            time.sleep(0.05)
    time.sleep(1)
    # Asked for some 45 MB of replies; held are at most the backpressure mark
    # (256 KiB) plus a reply and what the socket buffers take.
    grown = rss_kib(D.proc.pid) - base[1]
    check(grown < 4096 or sanitized(D.proc.pid),
          "the daemon grew by %d KiB for a client that does not read" % grown)
    check_eq(CONN.call("ping"), {}, "another client is served meanwhile")
    check_eq(CONN.call("daemon_status")["clients"], 2, "the pipelining client is still connected")
    # Now read everything, sending the rest of the requests as room appears.
    buf, got = b"", 0
    s.settimeout(0.2)
    deadline = time.time() + 120
    while got < count:
        check(time.time() < deadline, "replies stopped after %d of %d" % (got, count))
        if sent < len(requests):
            s.setblocking(False)
            try:
                sent += s.send(requests[sent:sent + 4096])
            except BlockingIOError:
                pass
            s.settimeout(0.2)
        try:
            data = s.recv(1 << 16)
        except socket.timeout:
            continue
        check(data, "the daemon closed the connection after %d of %d replies" % (got, count))
        buf += data
        *lines, buf = buf.split(b"\n")
        for line in lines:
            msg = json.loads(line)
            check_eq(msg.get("id"), got, "reply order")
            check(msg.get("ok") is True and len(msg["result"]) == 5 + EXTRA_DEVICES,
                  "reply %d is the device list" % got)
            got += 1
    s.close()
    check("does not read its messages" not in D.read_log(), "nobody was dropped")
    check_back_to_baseline(D, CONN, base, "after the pipelining client")


def test_client_that_never_reads_its_events_is_dropped():
    """An open-ended playback that underflows every period (the unpaced
    t_null device, nothing written after the first ring) makes xrun events
    that its client never reads: the client is disconnected once its queue
    passes the bound (max_output_queue, the smallest allowed here so that
    a slow build reaches it soon); a playback of another client on the same
    device stream plays every frame, and the daemon returns to its
    baseline."""
    with Daemon(args=["--max-output-queue", "256K", "--device-idle-time", "0"],
                name="faults-queue") as d:
        status = d.connect()
        never_reads_is_dropped(d, status)


def never_reads_is_dropped(d, conn):
    base = settle(d, conn)
    log_before = d.read_log().count("does not read its messages")
    other = d.connect()
    sleeper = d.connect()
    r = sleeper.call("play", device="t_null", channels=2, buffer_frames=1024)
    s = RawStream(sleeper, r)
    s.write_all(b"\0" * 8 * 1024, eof=False)  # a full ring starts it; then nothing more
    # Meanwhile another client plays a whole sound on the same device stream.
    frames = 48000
    r2 = other.call("play", device="t_null", channels=2, frames=frames, buffer_frames=65536)
    s2 = RawStream(other, r2)
    s2.write_all(struct.pack("<ff", 0.5, -0.5) * frames)
    st2 = other.call("wait", handle=s2.handle)
    check_eq((st2["state"], st2["frames_played"], st2["underflow_frames"]),
             ("finished", frames, 0), "the other client's playback")
    s2.close()
    # The sleeper is dropped.
    deadline = time.time() + 60
    while conn.call("daemon_status")["clients"] != 2:
        check(time.time() < deadline, "the client that reads nothing is still connected")
        check_eq(other.call("ping"), {}, "the other client is served")
        time.sleep(0.1)
    check_eq(d.read_log().count("does not read its messages"), log_before + 1,
             "the daemon says why it dropped the client")
    lines = closed_by_daemon(sleeper.sock)
    check(lines and all(json.loads(x).get("event") == "xrun" for x in lines),
          "what the client had left to read are xrun events")
    s.close()
    sleeper.close()
    other.close()
    check_back_to_baseline(d, conn, base, "after dropping the client that did not read")


# ---- Many clients -----------------------------------------------------------------------

def test_thousand_connect_disconnect_cycles():
    """1000 connections that each end differently: at once, after a reply,
    mid-line, after garbage, with a reply unread, with a stream open."""
    base = baseline()
    for i in range(1000):
        kind = i % 6
        c = Conn(D.socket, timeout=30)
        if kind == 1:
            check_eq(c.call("ping"), {}, "cycle %d: ping" % i)
        elif kind == 2:
            c.send_raw(b'{"id": 1, "cmd": "query_dev')
        elif kind == 3:
            c.send_raw(bytes(random.getrandbits(8) for _ in range(200)) + b"\n")
        elif kind == 4:
            c.send({"id": 1, "cmd": "query_devices"})
        elif kind == 5 and i % 60 == 5:
            RawStream(c, c.call("play", device="t_null", channels=2, frames=100000)).close()
        c.close()
        if i % 100 == 99:
            check_eq(CONN.call("ping"), {}, "served after %d cycles" % (i + 1))
    check_back_to_baseline(D, CONN, base, "after 1000 connect/disconnect cycles")


def test_thousand_clients_at_once():
    """1000 clients connected at the same time each get their reply; then
    they all close."""
    raise_nofile(4096)
    base = baseline()
    conns = []
    try:
        for i in range(1000):
            conns.append(Conn(D.socket, timeout=60))
        for i, c in enumerate(conns):
            c.send({"id": i, "cmd": "hello", "client": "faults-%d" % i})
        for i, c in enumerate(conns):
            msg = c.read_message()
            check(msg is not None and msg.get("id") == i and msg.get("ok") is True,
                  "client %d's reply: %r" % (i, msg))
        st = CONN.call("daemon_status")
        check_eq(st["clients"], 1001, "clients connected at once")
        check(fd_count(D.proc.pid) >= base[0] + 1000, "a descriptor per client")
    finally:
        for c in conns:
            c.close()
    check_back_to_baseline(D, CONN, base, "after 1000 clients at once")


def test_garbage_from_several_clients_at_once():
    """Eight clients at once send random bytes, oversized lines and broken
    UTF-8; each gets error replies with known codes (and an oversized line
    closes its connection), while a ninth client's requests all succeed."""
    base = baseline()
    codes = {"parse_error", "invalid_request", "line_too_long", "unknown_command", "invalid_param"}
    failures = []

    def garbage(seed):
        rng = random.Random(seed)
        try:
            for round_ in range(5):
                c = Conn(D.socket, timeout=30)
                lines = []
                for _ in range(50):
                    n = rng.randint(1, 3000)
                    raw = bytes(rng.getrandbits(8) for _ in range(n)).replace(b"\n", b" ")
                    lines.append(raw.strip(b"\r \t") or b"x")
                lines.append(b'{"id": 1, "cmd": "\xc0\xaf"}')
                lines.append(b'{"id": 2, "cmd": "ping"}' + b"\0")
                c.send_raw(b"\n".join(lines) + b"\n")
                for k in range(len(lines)):
                    msg = c.read_message()
                    if (msg is None or msg.get("ok") is not False
                            or msg["error"]["code"] not in codes):
                        failures.append("client %d: reply %d to garbage: %r" % (seed, k, msg))
                        break
                # Then a line longer than the maximum.
                try:
                    c.send_raw(b"{" + bytes(rng.getrandbits(7) | 1 for _ in range(70000)))
                except OSError:
                    pass  # the daemon may close before taking it all
                msg = c.read_message()
                if msg is None or msg["error"]["code"] != "line_too_long":
                    failures.append("client %d: oversized line: %r" % (seed, msg))
                try:
                    if c.read_line() is not None:
                        failures.append("client %d: open after line_too_long" % seed)
                except ConnectionResetError:
                    pass
                c.close()
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            failures.append("client %d: %r" % (seed, e))

    threads = [threading.Thread(target=garbage, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    good = D.connect()
    pings = 0
    while any(t.is_alive() for t in threads):
        check_eq(good.call("ping"), {}, "the well-behaved client is served")
        pings += 1
    for t in threads:
        t.join()
    check(not failures, "; ".join(failures[:5]))
    check(pings > 0, "the well-behaved client made requests meanwhile")
    good.close()
    check_back_to_baseline(D, CONN, base, "after the garbage")


# ---- Clients that hold lines half-sent ---------------------------------------------------

def stream_long_lines(d, seconds):
    """A client that streams valid 30 KB requests without a pause for longer
    than the line timeout, in writes that never end between two lines (so
    that no read of the daemon does either), and reads its replies: it holds
    no line half-sent, so it gets every reply and stays connected."""
    line = b'{"id": 7, "cmd": "ping"' + b" " * 30000 + b"}\n"
    stream = line * 64
    s = socket.socket(socket.AF_UNIX)
    s.connect(d.socket)
    sent = [0, None]

    def writer():
        off, stop = 0, time.time() + seconds
        try:
            while time.time() < stop:
                chunk = (stream[off:] + stream[:off])[:4093]
                n = s.send(chunk)
                off = (off + n) % len(stream)
                sent[0] += n
            # Complete the line in progress.
            s.sendall(line[sent[0] % len(line):] if sent[0] % len(line) else b"")
            sent[0] += (len(line) - sent[0] % len(line)) % len(line)
        except OSError as e:
            sent[1] = e

    t = threading.Thread(target=writer)
    t.start()
    buf, replies = b"", 0
    s.settimeout(0.2)  # the writer may finish while we wait: look again now and then
    deadline = time.time() + seconds + 60
    try:
        while t.is_alive() or replies < sent[0] // len(line):
            check(time.time() < deadline, "replies stopped after %d" % replies)
            try:
                data = s.recv(1 << 16)
            except socket.timeout:
                continue
            check(data, "the streaming client was disconnected after %d replies" % replies)
            buf += data
            *lines, buf = buf.split(b"\n")
            for x in lines:
                msg = json.loads(x)
                check_eq(msg, {"id": 7, "ok": True, "result": {}, "generation": 1},
                         "reply %d to the streaming client" % replies)
                replies += 1
    finally:
        t.join()
        s.close()
    check(sent[1] is None, "the streaming client's writes failed: %r" % sent[1])
    check_eq(replies, sent[0] // len(line), "a reply per request")


def test_half_sent_line_times_out():
    """With --line-timeout 1 a client that leaves a line half-sent, or
    trickles it a byte at a time, gets an error "timeout" and is closed; an
    idle client with no partial line stays connected, and so does one that
    streams long requests without a pause for three times the timeout."""
    with Daemon(args=["--line-timeout", "1", "--device-idle-time", "0"], name="faults-lt") as d:
        status = d.connect()
        base = settle(d, status)
        idle = d.connect()
        silent = socket.socket(socket.AF_UNIX)
        silent.connect(d.socket)
        silent.sendall(b'{"id": 1, "cmd": "pi')
        trickle = socket.socket(socket.AF_UNIX)
        trickle.connect(d.socket)
        trickle.setblocking(False)
        text = b'{"id": 2, "cmd": "ping", "pad": "' + b"x" * 400
        sent, eof, buf = 0, False, b""
        deadline = time.time() + 60
        while not eof:
            check(time.time() < deadline, "the trickling client was not dropped")
            if sent < len(text):
                try:
                    trickle.send(text[sent:sent + 1])
                    sent += 1
                except BrokenPipeError:
                    sent = len(text)  # closed: what it said before is still to be read
            time.sleep(0.05)
            try:
                data = trickle.recv(4096)
                buf += data
                eof = not data
            except BlockingIOError:
                pass
            except ConnectionResetError:
                eof = True
        for name, lines in (("trickling", buf.split(b"\n")),
                            ("silent", closed_by_daemon(silent, timeout=60))):
            msg = json.loads(lines[0])
            check_eq((msg["id"], msg["ok"], msg["error"]["code"]), (None, False, "timeout"),
                     "the %s client's error" % name)
            check("incomplete" in msg["error"]["message"], "the message says why")
        silent.close()
        trickle.close()
        check_eq(idle.call("ping"), {}, "an idle client without a partial line stays connected")
        idle.close()
        stream_long_lines(d, seconds=3)
        check_back_to_baseline(d, status, base, "after the timeouts")
        check_eq(d.stop(), 0, "exit status")


# ---- Configured limits ---------------------------------------------------------------------

def test_flood_does_not_hold_up_others():
    """A client's flood of requests does not make others wait for all of it:
    with the daemon stopped, one client queues 1400 daemon_status requests
    and then another disconnects; once the daemon goes on, the flood's
    replies show ("clients") that the disconnection was handled after a few
    dozen of them (the daemon reads clients in turns), not after all (before,
    a wake-up handled up to 8 reads of 64 KiB of lines from one client)."""
    count = 1400  # some 49 KB: what a socket queues here while its reader is stopped
    flooder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    flooder.connect(D.socket)
    flooder.sendall(b'{"id":0,"cmd":"ping"}\n')
    flooder.settimeout(30)
    check(flooder.recv(100).startswith(b'{"id":0,"ok":true'), "the flooder is served")
    bystander = D.connect()
    check_eq(bystander.call("ping"), {}, "the bystander is served")
    clients = CONN.call("daemon_status")["clients"]
    flood = b"".join(b'{"id":%d,"cmd":"daemon_status"}\n' % i for i in range(1, count + 1))
    os.kill(D.proc.pid, signal.SIGSTOP)
    try:
        flooder.sendall(flood)
        bystander.close()
    finally:
        os.kill(D.proc.pid, signal.SIGCONT)
    buf = b""
    while buf.count(b"\n") < count:
        data = flooder.recv(1 << 16)
        check(data, "the flooder's replies end early")
        buf += data
    seen = [json.loads(line)["result"]["clients"] for line in buf.split(b"\n") if line]
    before = sum(1 for n in seen if n == clients)
    print("# %d of the %d flood requests were handled before the bystander's disconnection"
          % (before, count))
    check(before <= 200, "%d of the %d flood requests were handled before another client's "
          "disconnection" % (before, count))
    check_eq(seen[-1], clients - 1, "the bystander's leaving was seen")
    flooder.close()


def test_request_rate_limit():
    """With --max-requests-per-second 5, requests beyond the budget get
    limit_exceeded (each request exactly one reply, in order), another
    client is unaffected, and the client recovers after waiting."""
    with Daemon(args=["--max-requests-per-second", "5", "--device-idle-time", "0"],
                name="faults-rate") as d:
        flood, other = d.connect(), d.connect()
        flood.send_raw(b"".join(b'{"id": %d, "cmd": "ping"}\n' % i for i in range(200)))
        oks, limited = 0, 0
        for i in range(200):
            msg = flood.read_message()
            check_eq(msg["id"], i, "every request is answered, in order")
            if msg["ok"]:
                oks += 1
            else:
                check_eq(msg["error"]["code"], "limit_exceeded", "an over-limit request's code")
                check("per second" in msg["error"]["message"], "the message names the limit")
                limited += 1
        check(oks >= 1 and limited >= 1, "some pass, some are refused (%d, %d)" % (oks, limited))
        check_eq(other.call("ping"), {}, "another client has its own budget")
        time.sleep(2.5)  # the budget refills: 5 a second, a burst of 5
        for i in range(3):
            check_eq(flood.call("ping"), {}, "the client recovered after waiting")
        flood.close()
        other.close()
        check_eq(d.stop(), 0, "exit status")


def test_max_clients_refusal():
    """With --max-clients 3 a fourth connection gets one clear error line
    (limit_exceeded, id null) and is closed; sdctl says so; once a client
    leaves, a new one is served."""
    with Daemon(args=["--max-clients", "3", "--device-idle-time", "0"], name="faults-mc") as d:
        conns = [d.connect()]
        # The start-up probe of Daemon.start() may not have left yet.
        deadline = time.time() + 20
        while conns[0].call("daemon_status")["clients"] != 1:
            check(time.time() < deadline, "the start-up probe does not leave")
            time.sleep(0.05)
        conns += [d.connect() for _ in range(2)]
        for c in conns:
            check_eq(c.call("ping"), {}, "the first three are served")
        extra = socket.socket(socket.AF_UNIX)
        extra.connect(d.socket)
        lines = closed_by_daemon(extra)
        check_eq(len(lines), 1, "one error line")
        msg = json.loads(lines[0])
        check_eq((msg["id"], msg["ok"], msg["error"]["code"]), (None, False, "limit_exceeded"),
                 "the refusal")
        check("too many clients" in msg["error"]["message"], "the message says why")
        extra.close()
        status, out, err = d.sdctl("devices")
        check(status != 0 and "too many clients" in err,
              "sdctl fails with the daemon's reason: %d %r" % (status, err))
        conns.pop().close()
        deadline = time.time() + 20
        while True:
            c = d.connect()
            try:
                ok = c.request("ping").get("ok")
            except Exception:  # noqa: BLE001 - refused (the other's leaving is not seen yet): retry
                ok = False
            c.close()
            if ok:
                break
            check(time.time() < deadline, "no room after a client left")
            time.sleep(0.1)
        for c in conns:
            check_eq(c.call("ping"), {}, "the others are still served")
            c.close()
        check_eq(d.stop(), 0, "exit status")


def test_out_of_descriptors():
    """With only 64 descriptors, clients beyond what fits are accepted on a
    spare descriptor and told why (limit_exceeded), the daemon says so once
    and does not spin; when clients leave, new ones are served again."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    d = Daemon(args=["--device-idle-time", "0"], name="faults-fds")
    d.preexec = limit
    try:
        d.start()
        served, refused = [], 0
        for _ in range(80):
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(10)
            s.connect(d.socket)
            s.sendall(b'{"id": 1, "cmd": "ping"}\n')
            msg = json.loads(s.recv(4096).split(b"\n")[0])
            if msg.get("ok"):
                served.append(s)
                continue
            check_eq(msg["error"]["code"], "limit_exceeded", "a client beyond the descriptors")
            check("no descriptors left" in msg["error"]["message"], "the message says why")
            refused += 1
            s.close()
        check(refused > 0 and len(served) > 20, "some served (%d), the rest refused (%d)"
              % (len(served), refused))
        # While saturated the listening socket stays readable: the daemon must not spin.
        stat = "/proc/%d/stat" % d.proc.pid
        before = sum(int(x) for x in open(stat).read().split()[13:15])
        for _ in range(5):
            s = socket.socket(socket.AF_UNIX)
            s.connect(d.socket)
            s.close()
        time.sleep(1)
        after = sum(int(x) for x in open(stat).read().split()[13:15])
        check(after - before < 50, "the daemon idles while saturated (%d ticks)" % (after - before))
        log = d.read_log()
        check_eq(log.count("Cannot accept clients"), 1, "said once")
        for s in served[:10]:
            s.close()
        deadline = time.time() + 20
        while True:
            c = d.connect()
            try:
                ok = c.request("ping").get("ok")
            except Exception:  # noqa: BLE001 - refused while the others' leaving is not seen yet
                ok = False
            c.close()
            if ok:
                break
            check(time.time() < deadline, "served again once clients left")
            time.sleep(0.1)
        for s in served[10:]:
            s.close()
        check_eq(d.stop(), 0, "exit status")
    finally:
        d.cleanup()


def test_max_shm_per_client_refusal():
    """With --max-shm-per-client 64K a stream beyond the budget gets
    limit_exceeded naming the bytes; closing a stream makes room; another
    client has a budget of its own."""
    with Daemon(args=["--max-shm-per-client", "64K", "--device-idle-time", "0"],
                name="faults-shm") as d:
        a, b = d.connect(), d.connect()
        base = settle(d, a, clients=2)
        handles = []
        # Each stream: a 4 KiB header and a ring of 1024 stereo float32 frames.
        for i in range(5):
            r = a.call("play", device="t_null", channels=2, buffer_frames=1024, stop_previous=False)
            handles.append(r["handle"])
            RawStream(a, r).close()
        err = a.error("play", device="t_null", channels=2, buffer_frames=1024, stop_previous=False)
        check_eq(err["code"], "limit_exceeded", "a sixth stream")
        check("12288 bytes" in err["message"] and "65536" in err["message"],
              "the message names what is needed and the limit: %r" % err["message"])
        err = a.error("rec", device="t_in", channels=2, frames=100, buffer_frames=1024,
                      stop_previous=False)
        check_eq(err["code"], "limit_exceeded", "a recording too")
        r = b.call("play", device="t_null", channels=2, buffer_frames=1024, stop_previous=False)
        RawStream(b, r).close()
        b.call("close", handle=r["handle"])
        a.call("close", handle=handles.pop())
        r = a.call("play", device="t_null", channels=2, buffer_frames=1024, stop_previous=False)
        RawStream(a, r).close()
        handles.append(r["handle"])
        for h in handles:
            a.call("close", handle=h)
        check_back_to_baseline(d, a, base, "after the streams", clients=2)
        a.close()
        b.close()
        check_eq(d.stop(), 0, "exit status")


def main():
    global D, CONN
    # Every client here is the same user, a thousand of them at once in one test.
    D = Daemon(args=["--device-idle-time", "0", "--max-clients-per-user", "4096"], name="faults")
    extra_devices(D)
    raise_nofile(4096)
    try:
        D.start()
        CONN = D.connect(timeout=60)
        # Warm up: the first device stream makes PortAudio and ALSA allocate
        # for good; baselines are taken after it.
        r = CONN.call("play", device="t_null", channels=2, frames=4800)
        s = RawStream(CONN, r)
        s.write_all(bytes(4800 * 8))
        CONN.call("wait")
        s.close()
        settle(D, CONN)
        if sanitized(D.proc.pid):
            print("# sddaemon runs under a sanitizer: resident memory is not checked")
        tests = [
            test_pipelining_client_is_throttled_not_dropped,
            test_client_that_never_reads_its_events_is_dropped,
            test_thousand_connect_disconnect_cycles,
            test_thousand_clients_at_once,
            test_garbage_from_several_clients_at_once,
            test_half_sent_line_times_out,
            test_flood_does_not_hold_up_others,
            test_request_rate_limit,
            test_max_clients_refusal,
            test_out_of_descriptors,
            test_max_shm_per_client_refusal,
        ]
        only = os.environ.get("SDD_TEST_ONLY")
        if only:
            tests = [t for t in tests if only in t.__name__]
        return run_tests(tests, daemon=D)
    finally:
        D.cleanup()


if __name__ == "__main__":
    sys.exit(main())
