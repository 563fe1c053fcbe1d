#!/usr/bin/env python3
"""sddaemon's benchmarks: sddaemon side by side with direct PortAudio,
PulseAudio and PipeWire, measured on this machine in this run.

Run through bench/run.sh (which builds build-bench/ first), or directly:
    python3 bench/run.py --build build-bench [--quick] [--only NAME,...]

It sets up its own environment: a virtual ALSA configuration with an
unpaced `null` device (through ALSA_CONFIG_PATH; ~/.asoundrc is never
touched), a named jackd server with the dummy backend at 48 kHz and
256-frame periods, and sddaemon on a temporary socket; PulseAudio and
PipeWire, when installed, run on sockets of their own in the same
temporary folder.  CPU time comes from /proc/PID/stat (utime + stime),
context switches from /proc/PID/task/*/status, the engine's busy time
from daemon_status (PortAudio's cpu_load).  It prints a table and writes
the results as JSON (bench/results.json unless --json says otherwise).
Python standard library only.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RATE = 48000
PERIOD = 256  # frames: jackd's period, the paced workloads' quantum
CLK_TCK = os.sysconf("SC_CLK_TCK")

ASOUND_CONF = """\
</usr/share/alsa/alsa.conf>
pcm.bench_null { type null; hint { show on; description "benchmark: discards, unpaced" } }
"""

PULSE_SCRIPT = """\
load-module module-native-protocol-unix socket={sock} auth-anonymous=1
load-module module-null-sink sink_name=bench rate=48000 channels=2 format=float32le
set-default-sink bench
"""

PIPEWIRE_CONF = """\
context.properties = {{
    core.daemon = true
    core.name = {name}
    default.clock.rate = 48000
    default.clock.quantum = 256
    default.clock.min-quantum = 256
    default.clock.max-quantum = 256
    default.clock.force-quantum = 256
    support.dbus = false
}}
context.spa-libs = {{
    audio.convert.* = audioconvert/libspa-audioconvert
    support.* = support/libspa-support
}}
context.modules = [
    {{ name = libpipewire-module-protocol-native }}
    {{ name = libpipewire-module-access args = {{ }} }}
    {{ name = libpipewire-module-profiler }}
    {{ name = libpipewire-module-metadata }}
    {{ name = libpipewire-module-spa-node-factory }}
    {{ name = libpipewire-module-client-node }}
    {{ name = libpipewire-module-adapter }}
    {{ name = libpipewire-module-link-factory }}
]
context.objects = [
    {{ factory = metadata args = {{ metadata.name = default }} }}
    {{ factory = adapter
        args = {{
            factory.name = support.null-audio-sink
            node.name = bench-sink
            media.class = Audio/Sink
            audio.position = [ FL FR ]
            audio.rate = 48000
            node.driver = true
            priority.driver = 30000
            object.linger = true
            adapter.auto-port-config = {{ mode = dsp monitor = false control = false position = preserve }}
        }}
    }}
]
"""


# ---- /proc ---------------------------------------------------------------

def proc_cpu(pid):
    """CPU seconds (utime + stime, all threads) of pid, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def proc_cpu_ns(pid):
    """CPU seconds of pid's live threads from /proc/PID/task/*/schedstat (nanoseconds, so
    exact for light processes, which utime + stime in clock ticks round to 0), or None."""
    total = 0
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9


def proc_ctxsw(pid):
    """Context switches (voluntary + involuntary) of all live threads of pid."""
    total = 0
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return 0
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/status" % (pid, t)) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def proc_rss_kib(pid, key="VmRSS"):
    """Resident memory of pid in KiB: VmRSS, or one of its parts RssAnon, RssFile, RssShmem."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Snapshot:
    """CPU seconds and context switches of a group of processes at one moment."""

    def __init__(self, pids):
        self.t = time.monotonic()
        self.cpu_stat = sum(proc_cpu(p) or 0 for p in pids)
        self.cpu = sum(proc_cpu_ns(p) or 0 for p in pids)
        self.csw = sum(proc_ctxsw(p) for p in pids)


def rates(s0, s1):
    """(% of one CPU, context switches per second, % of one CPU by utime + stime)
    between two snapshots."""
    dt = s1.t - s0.t
    return (100.0 * (s1.cpu - s0.cpu) / dt, (s1.csw - s0.csw) / dt,
            100.0 * (s1.cpu_stat - s0.cpu_stat) / dt)


# ---- a raw protocol client -------------------------------------------------

class Conn:
    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 0

    def call(self, cmd, **params):
        self.next_id += 1
        req = dict(id=self.next_id, cmd=cmd, **params)
        self.sock.sendall((json.dumps(req) + "\n").encode())
        while True:
            while b"\n" not in self.buf:
                data = self.sock.recv(65536)
                if not data:
                    raise RuntimeError("sddaemon closed the connection")
                self.buf += data
            line, self.buf = self.buf.split(b"\n", 1)
            msg = json.loads(line)
            if msg.get("id") == self.next_id:
                if not msg.get("ok"):
                    raise RuntimeError("%s failed: %s" % (cmd, msg.get("error")))
                return msg["result"]

    def close(self):
        self.sock.close()


# ---- the run ---------------------------------------------------------------

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def parse_json_line(text):
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("no result line in: %r" % text[-500:])


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.build = os.path.abspath(args.build)
        self.tmp = tempfile.mkdtemp(prefix="sddbench-")
        self.procs = []  # everything we started, stopped at the end
        self.results = {}
        self.notes = []
        self.jack_name = "sddbench-%d" % os.getpid()
        asound = os.path.join(self.tmp, "asound.conf")
        with open(asound, "w") as f:
            f.write(ASOUND_CONF)
        self.empty_conf = os.path.join(self.tmp, "sddaemon.conf")
        open(self.empty_conf, "w").close()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SDDAEMON_", "PULSE_", "PIPEWIRE_", "JACK_"))}
        env["ALSA_CONFIG_PATH"] = asound
        env["JACK_NO_START_SERVER"] = "1"
        env["JACK_DEFAULT_SERVER"] = self.jack_name
        self.env = env
        self.jack = None

    def exe(self, name):
        sub = {"sddaemon": "daemon", "sdctl": "client/sdctl"}.get(name, "bench")
        return os.path.join(self.build, sub, name)

    def log(self, text):
        print(text, file=sys.stderr, flush=True)

    # -- processes --

    def spawn(self, argv, env=None, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, log=None,
              cpu=None):
        err = open(os.path.join(self.tmp, log), "ab") if log else subprocess.DEVNULL
        p = subprocess.Popen(argv, env=env or self.env, stdout=stdout, stderr=err, stdin=stdin,
                             preexec_fn=pin_to(cpu))
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def run(self, argv, env=None, timeout=120, cpu=None):
        p = subprocess.run(argv, env=env or self.env, capture_output=True, timeout=timeout,
                           preexec_fn=pin_to(cpu))
        if p.returncode != 0:
            raise RuntimeError("%s exited %d: %s" % (os.path.basename(argv[0]), p.returncode,
                                                    p.stderr.decode(errors="replace")[-800:]))
        return parse_json_line(p.stdout.decode())

    def start_jack(self):
        if self.jack:
            return
        if not shutil.which("jackd"):
            raise RuntimeError("jackd is not installed (apt-get install jackd2)")
        self.jack = self.spawn(["jackd", "--no-realtime", "-n", self.jack_name, "-d", "dummy",
                                "-r", str(RATE), "-p", str(PERIOD), "-C", "2", "-P", "2"],
                               log="jackd.log")
        time.sleep(1.0)
        if self.jack.poll() is not None:
            raise RuntimeError("jackd did not start; see %s/jackd.log" % self.tmp)

    def start_daemon(self, tag, extra=(), jack=True, exe=None, conf=None, cpu=None):
        """Starts sddaemon (this build's, or exe; with the configuration file conf, or an
        empty one; all its threads on one CPU when cpu is given); returns (process, socket
        path, seconds to READY=1, to first reply)."""
        sock = os.path.join(self.tmp, tag + ".sock")
        notify_path = os.path.join(self.tmp, tag + ".notify")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        notify.settimeout(0.05)
        env = dict(self.env, NOTIFY_SOCKET=notify_path)
        if not jack:
            env["JACK_DEFAULT_SERVER"] = "sddbench-no-such-server"
        t0 = time.monotonic()
        p = self.spawn([exe or self.exe("sddaemon"), "--socket", sock, "--config", conf or self.empty_conf,
                        "--device-idle-time", "0.2"] + list(extra), env=env, log=tag + ".log",
                       cpu=cpu)
        ready = answered = None
        while time.monotonic() - t0 < 30 and (ready is None or answered is None):
            if p.poll() is not None:
                raise RuntimeError("sddaemon exited at start; see %s/%s.log" % (self.tmp, tag))
            if ready is None:
                try:
                    if b"READY=1" in notify.recv(4096):
                        ready = time.monotonic() - t0
                except socket.timeout:
                    pass
            if answered is None and os.path.exists(sock):
                try:
                    c = Conn(sock, timeout=2)
                    c.call("ping")
                    c.close()
                    answered = time.monotonic() - t0
                except OSError:
                    time.sleep(0.001)
        notify.close()
        if answered is None:
            raise RuntimeError("sddaemon did not answer within 30 s")
        return p, sock, ready, answered

    def wait_idle(self, sock, timeout=20):
        """Waits until the daemon has closed every device stream."""
        c = Conn(sock)
        deadline = time.monotonic() + timeout
        while c.call("daemon_status")["device_streams"]:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        c.close()

    def cleanup(self):
        for p in reversed(self.procs):
            self.stop(p, timeout=5)
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- 1. data plane throughput --

    def w_throughput(self):
        secs = 1.5 if self.quick else 4
        reps = 1 if self.quick else 3
        block, ring, chunk = 1024, 262144, 65536
        # The same runs again with every process on one CPU (the direct program, the daemon
        # with all its threads, the client): the client then runs exactly when the daemon's
        # audio thread wakes it, and never falls behind the unpaced device, which on two CPUs
        # it does whenever another process delays it (see RESULTS.md, issue 15).
        cpu = min(os.sched_getaffinity(0))
        daemon, sock, _, _ = self.start_daemon("throughput")
        daemon1, sock1, _, _ = self.start_daemon("throughput-cpu", cpu=cpu)
        modes = ("shared", "exclusive", "shared, direct", "shared, one CPU", "exclusive, one CPU")
        runs = {"portaudio": [], "portaudio, one CPU": []}
        runs.update((m, []) for m in modes)
        failed_runs = []
        pa_argv = [self.exe("sdd-bench-pa"), "throughput", "--device", "bench_null",
                   "--seconds", str(secs), "--blocksize", str(block)]
        for _ in range(reps):
            runs["portaudio"].append(self.run(pa_argv))
            runs["portaudio, one CPU"].append(self.run(pa_argv, cpu=cpu))
            for mode in modes:
                one = mode.endswith("one CPU")
                d, sk = (daemon1, sock1) if one else (daemon, sock)
                argv = [self.exe("sdd-bench-play"), "--socket", sk, "--device", "bench_null",
                        "--buffer", str(ring), "--chunk", str(chunk), "--blocksize", str(block),
                        "--measure", str(d.pid), "--seconds", str(secs)]
                argv += ["--exclusive"] if mode.startswith("exclusive") else []
                # The signal made straight in the ring (sdc_stream_begin_write()).
                argv += ["--direct"] if mode == "shared, direct" else []
                # A client descheduled for a few ms falls behind the unpaced device; the
                # daemon then sends an xrun event per period and drops a client that lets
                # 4 MiB of them pile up.  Such a run is counted and tried again.
                for attempt in range(3):
                    try:
                        runs[mode].append(self.run(argv, cpu=cpu if one else None))
                        break
                    except RuntimeError as e:
                        failed_runs.append("%s: %s" % (mode, e))
                        self.log("throughput: %s run failed (%s); again" % (mode, e))
                    finally:
                        self.wait_idle(sk)
        self.stop(daemon)
        self.stop(daemon1)
        # The parts of the data path by themselves, as floors for the figures above.
        parts = self.run([self.exe("sdd-bench-copy"), "--seconds", str(secs / 2)])
        # Best of the repetitions: noise (other processes, a client descheduled behind the
        # unpaced device) only ever adds CPU time per frame.
        def best(rs):
            return max(rs, key=lambda r: r["frames_per_cpu_second"]) if rs else None

        pa = best(runs["portaudio"])["frames_per_cpu_second"]
        pa1 = best(runs["portaudio, one CPU"])["frames_per_cpu_second"]
        res = {"blocksize": block, "ring_frames": ring, "chunk_frames": chunk, "seconds": secs,
               "repetitions": reps, "statistic": "best of the repetitions", "cpu": cpu,
               "portaudio": {"frames_per_cpu_second": pa, "ns_per_frame": 1e9 / pa},
               "portaudio, one CPU": {"frames_per_cpu_second": pa1, "ns_per_frame": 1e9 / pa1},
               "runs": runs, "failed_runs": failed_runs, "parts": parts}
        for mode in modes:
            r = best(runs[mode])
            if r is None:
                raise RuntimeError("no %s run succeeded" % mode)
            base = pa1 if mode.endswith("one CPU") else pa
            device_frames = max(1, r["window_frames"] + r["window_silence_frames"])
            behind = [x for x in runs[mode]
                      if x["window_silence_frames"] > 0.05 * max(1, x["window_frames"] + x["window_silence_frames"])]
            res[mode] = {"frames_per_cpu_second": r["frames_per_cpu_second"],
                         # Repetitions whose client fell behind the unpaced device (more than 5 %
                         # silence): they measure the scheduler (see RESULTS.md, issue 15).
                         "repetitions_behind": len(behind),
                         "frames_per_daemon_cpu_second": r["frames_per_daemon_cpu_second"],
                         "ratio": r["frames_per_cpu_second"] / base,
                         "ratio_daemon_only": r["frames_per_daemon_cpu_second"] / base,
                         "silence_fraction": r["window_silence_frames"] / device_frames,
                         "client_ns_per_frame": 1e9 * r["window_client_cpu"] / max(1, r["window_frames"]),
                         "daemon_ns_per_device_frame": 1e9 * r["window_daemon_cpu"] / device_frames}
        self.results["throughput"] = res

    # -- 2. paced mixing cost --

    def tone_files(self, rate=RATE):
        """A 60 s quiet 440 Hz stereo tone at rate: (raw float32 path, float32 WAV path)."""
        raw = os.path.join(self.tmp, "tone-%d.raw" % rate)
        wav = os.path.join(self.tmp, "tone-%d.wav" % rate)
        if not os.path.exists(raw):
            import array
            import math
            seconds = 60
            # A quarter of a second holds exactly 110 cycles of 440 Hz: the tone loops without a click.
            frames = rate // 4
            one = array.array("f", [0.1 * math.sin(2 * math.pi * 440 * i / rate) for i in range(frames)])
            stereo = array.array("f")
            for v in one:
                stereo.append(v)
                stereo.append(v)
            data = stereo.tobytes()
            with open(raw, "wb") as f:
                for _ in range(seconds * 4):
                    f.write(data)
            # A float32 WAV header for pw-cat (libsndfile reads it).
            n = os.path.getsize(raw)
            import struct
            with open(wav, "wb") as f:
                f.write(b"RIFF" + struct.pack("<I", 36 + n) + b"WAVEfmt ")
                f.write(struct.pack("<IHHIIHH", 16, 3, 2, rate, rate * 8, 8, 32))
                f.write(b"data" + struct.pack("<I", n))
                with open(raw, "rb") as src:
                    shutil.copyfileobj(src, f)
        return raw, wav

    def measure_window(self, server_pid, client_pids, window, status_sock=None, extra_pids=()):
        """Measures CPU and context switches of server and clients over window seconds."""
        conn = Conn(status_sock) if status_sock else None
        st0 = conn.call("daemon_status") if conn else None
        s0 = Snapshot([server_pid])
        c0 = Snapshot(client_pids)
        x0 = Snapshot(extra_pids) if extra_pids else None
        loads = []
        end = time.monotonic() + window
        while time.monotonic() < end:
            time.sleep(min(0.25, max(0, end - time.monotonic())))
            if conn:
                ds = conn.call("daemon_status")["device_streams"]
                if ds:
                    loads.append(ds[0]["cpu_load"])
        s1 = Snapshot([server_pid])
        c1 = Snapshot(client_pids)
        x1 = Snapshot(extra_pids) if extra_pids else None
        st1 = conn.call("daemon_status") if conn else None
        out = {}
        (out["server_cpu_percent"], out["server_ctxsw_per_second"],
         out["server_cpu_percent_stat"]) = rates(s0, s1)
        (out["clients_cpu_percent"], out["clients_ctxsw_per_second"],
         out["clients_cpu_percent_stat"]) = rates(c0, c1)
        out["total_cpu_percent"] = out["server_cpu_percent"] + out["clients_cpu_percent"]
        if x0:
            out["device_cpu_percent"] = rates(x0, x1)[0]
        out["server_rss_kib"] = proc_rss_kib(server_pid)
        out["server_rss_anon_kib"] = proc_rss_kib(server_pid, "RssAnon")
        out["server_rss_shmem_kib"] = proc_rss_kib(server_pid, "RssShmem")
        if conn:
            d0 = st0["device_streams"][0] if st0["device_streams"] else {}
            d1 = st1["device_streams"][0] if st1["device_streams"] else {}
            out["engine_busy_mean"] = statistics.mean(loads) if loads else None
            out["engine_busy_max"] = max(loads) if loads else None
            out["device_xruns"] = d1.get("device_xruns", 0) - d0.get("device_xruns", 0)
            out["callbacks"] = d1.get("callbacks", 0) - d0.get("callbacks", 0)
            out["streams"] = d1.get("streams")
            conn.close()
        return out

    def wait_lines(self, procs, word, timeout=30):
        deadline = time.monotonic() + timeout
        for p in procs:
            while True:
                if time.monotonic() > deadline:
                    raise RuntimeError("a client did not get ready")
                line = p.stdout.readline()
                if not line:
                    raise RuntimeError("a client exited before it was ready")
                if line.decode().strip().startswith(word):
                    break

    def paced_sddaemon(self, sock, daemon, n, window, every_period=False, rates=(RATE,)):
        # every_period: a ring of 1024 frames written 256 at a time, so that each client is
        # woken every period as pacat and pw-cat are (the default is a file player's 16384
        # frames at a time into 65536, about three wake-ups a second).  Client i plays at
        # rates[i % len(rates)].
        shape = ["--buffer", "1024", "--chunk", str(PERIOD)] if every_period else []
        procs = [self.spawn([self.exe("sdd-bench-play"), "--socket", sock, "--device", "system jack",
                             "--seconds", "0", "--rate", str(rates[i % len(rates)])] + shape,
                            stdout=subprocess.PIPE, log="play.log")
                 for i in range(n)]
        self.wait_lines(procs, "ready")
        time.sleep(1.0)
        c = Conn(sock)
        groups = [g for ds in c.call("daemon_status")["device_streams"] for g in ds["rate_groups"]]
        c.close()
        out = self.measure_window(daemon.pid, [p.pid for p in procs], window, status_sock=sock,
                                  extra_pids=[self.jack.pid])
        out["rate_groups"] = [(g["samplerate"], g["streams"]) for g in groups]
        underflow = 0
        for p in procs:
            self.stop(p)
            try:
                r = parse_json_line(p.stdout.read().decode())
                underflow += r["underflow_frames"]
            except RuntimeError:
                pass
        out["client_underflow_frames"] = underflow
        self.wait_idle(sock)
        return out

    def start_pulse(self, resample_method=None, no_cpu_limit=False):
        sock = os.path.join(self.tmp, "pulse.sock")
        script = os.path.join(self.tmp, "pulse.pa")
        with open(script, "w") as f:
            f.write(PULSE_SCRIPT.format(sock=sock))
        home = os.path.join(self.tmp, "pulse-home")
        os.makedirs(home, exist_ok=True)
        env = dict(self.env, HOME=home, PULSE_RUNTIME_PATH=home, PULSE_STATE_PATH=home,
                   XDG_RUNTIME_DIR=home, XDG_CONFIG_HOME=home)
        p = self.spawn(["pulseaudio", "-n", "-F", script, "--daemonize=no", "--exit-idle-time=-1",
                        "--use-pid-file=no", "--disable-shm=no", "--log-target=stderr"]
                       + (["--resample-method=" + resample_method] if resample_method else [])
                       + (["--no-cpu-limit", "--realtime=no"] if no_cpu_limit else []),
                       env=env, log="pulseaudio.log")
        env["PULSE_SERVER"] = "unix:" + sock
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if p.poll() is not None:
                raise RuntimeError("pulseaudio exited; see %s/pulseaudio.log" % self.tmp)
            if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
                return p, env
            time.sleep(0.1)
        raise RuntimeError("pulseaudio did not answer")

    def paced_pulse(self, server, env, n, window, raw, rates=(RATE,)):
        raws = {r: raw if r == RATE else self.tone_files(r)[0] for r in rates}
        procs = []
        for i in range(n):
            procs.append(self.spawn(["pacat", "--playback", "--raw", "--format=float32le",
                                     "--rate=%d" % rates[i % len(rates)], "--channels=2",
                                     "--device=bench", "--latency-msec=%g" % (1000.0 * PERIOD / RATE)],
                                    env=env, stdin=open(raws[rates[i % len(rates)]], "rb"),
                                    log="pacat.log"))
            # PulseAudio's listening socket refuses a burst of connections: one at a time.
            time.sleep(0.02)
        deadline = time.monotonic() + 20
        playing = 0
        while time.monotonic() < deadline:
            p = subprocess.run(["pactl", "list", "short", "sink-inputs"], env=env,
                               capture_output=True)
            playing = max(playing, len(p.stdout.decode().splitlines()))
            if playing >= n:
                break
            # It serves at most 64 connections: with 64 clients pactl is the one refused.
            if p.returncode != 0 and n >= 64:
                playing = sum(1 for c in procs if c.poll() is None)
                break
            time.sleep(0.1)
        time.sleep(1.0)
        res = self.measure_window(server.pid, [p.pid for p in procs], window)
        res["clients_playing"] = playing
        res["clients_alive_after"] = sum(1 for c in procs if c.poll() is None)
        res["server_alive_after"] = server.poll() is None
        for p in procs:
            self.stop(p)
        return res

    def start_pipewire(self):
        name = "sddbench-pw-%d" % os.getpid()
        rundir = os.path.join(self.tmp, "pipewire")
        os.makedirs(rundir, exist_ok=True)
        conf = os.path.join(rundir, "pipewire.conf")
        with open(conf, "w") as f:
            f.write(PIPEWIRE_CONF.format(name=name))
        env = dict(self.env, XDG_RUNTIME_DIR=rundir, PIPEWIRE_RUNTIME_DIR=rundir, PIPEWIRE_REMOTE=name,
                   HOME=rundir, XDG_CONFIG_HOME=rundir, XDG_STATE_HOME=rundir)
        p = self.spawn(["pipewire", "-c", conf], env=env, log="pipewire.log")
        time.sleep(1.0)
        if p.poll() is not None:
            raise RuntimeError("pipewire exited; see %s/pipewire.log" % self.tmp)
        # The session manager links streams to the sink; it needs a D-Bus session bus,
        # which we start (and stop) ourselves.  It leaves by itself when pipewire stops.
        bus = os.path.join(rundir, "bus")
        self.spawn(["dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=unix:path=" + bus],
                   env=env, log="dbus.log")
        deadline = time.monotonic() + 5
        while not os.path.exists(bus) and time.monotonic() < deadline:
            time.sleep(0.02)
        wenv = dict(env, DBUS_SESSION_BUS_ADDRESS="unix:path=" + bus)
        self.spawn(["wireplumber"], env=wenv, log="wireplumber.log")
        time.sleep(1.5)
        return p, env

    def paced_pipewire(self, server, env, n, window, wav, rates=(RATE,)):
        wavs = {r: wav if r == RATE else self.tone_files(r)[1] for r in rates}
        procs = []
        for i in range(n):
            rate = rates[i % len(rates)]
            procs.append(self.spawn(["pw-cat", "--playback", "--rate", str(rate), "--channels", "2",
                                     "--format", "f32", "--latency", str(PERIOD), "-P",
                                     "{ node.name = bench-%d }" % i, wavs[rate]], env=env, log="pw-cat.log"))
        # WirePlumber links each stream to the sink: wait until all are linked.
        deadline = time.monotonic() + 30
        linked = 0
        while time.monotonic() < deadline:
            out = subprocess.run(["pw-link", "-l", "-o"], env=env, capture_output=True,
                                 timeout=10).stdout.decode()
            linked = out.count("-> bench-sink:playback_FL")
            if linked >= n:
                break
            time.sleep(0.2)
        if linked < n:
            for p in procs:
                self.stop(p)
            raise RuntimeError("only %d of %d pw-cat streams were linked to the sink" % (linked, n))
        time.sleep(1.0)
        res = self.measure_window(server.pid, [p.pid for p in procs], window)
        for p in procs:
            self.stop(p)
        return res

    def w_paced(self):
        window = 3 if self.quick else 10
        counts = [1, 16, 64]
        self.start_jack()
        daemon, sock, _, _ = self.start_daemon("paced")
        res = {"window_seconds": window, "period_frames": PERIOD, "sddaemon": {}, "sddaemon/period": {}}
        for n in counts:
            self.log("paced: sddaemon with %d clients" % n)
            res["sddaemon"][str(n)] = self.paced_sddaemon(sock, daemon, n, window)
        for n in counts:
            self.log("paced: sddaemon with %d clients woken every period" % n)
            res["sddaemon/period"][str(n)] = self.paced_sddaemon(sock, daemon, n, window, every_period=True)
        self.stop(daemon)
        raw, wav = self.tone_files()
        for name, start, paced, needs in (
                ("pulseaudio", self.start_pulse, lambda s, e, n: self.paced_pulse(s, e, n, window, raw),
                 ["pulseaudio", "pacat", "pactl"]),
                ("pipewire", self.start_pipewire, lambda s, e, n: self.paced_pipewire(s, e, n, window, wav),
                 ["pipewire", "pw-cat", "pw-link", "wireplumber", "dbus-daemon"])):
            missing = [t for t in needs if not shutil.which(t)]
            if missing or self.args.no_compare:
                res[name] = {"status": "not installed" if missing else "skipped"}
                continue
            try:
                server, env = start()
                res[name] = {"status": "ok"}
                for n in counts:
                    self.log("paced: %s with %d clients" % (name, n))
                    res[name][str(n)] = paced(server, env, n)
                self.stop(server)
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                res[name] = {"status": "failed: %s" % e}
        self.results["paced"] = res

    # -- 2b. clients of three rates, resampled --

    def w_rates(self):
        """64 clients at 22050, 44100 and 48000 Hz (round robin) on the 48 kHz jackd device:
        sddaemon mixes each rate and resamples it once; PulseAudio (speexdsp at quality 7,
        as ours, and at its default) and PipeWire resample each stream."""
        window = 3 if self.quick else 10
        rates = (22050, 44100, 48000)
        n = 64
        res = {"window_seconds": window, "period_frames": PERIOD, "clients": n, "rates": list(rates)}
        self.log("rates: the daemon's rate groups, ns per device frame")
        res["rategroup"] = self.run([self.exe("sdd-bench-rategroup")], timeout=600)
        self.start_jack()
        daemon, sock, _, _ = self.start_daemon("rates")
        self.log("rates: sddaemon with %d clients at three rates" % n)
        res["sddaemon"] = self.paced_sddaemon(sock, daemon, n, window, rates=rates)
        self.log("rates: sddaemon with %d clients at three rates, woken every period" % n)
        res["sddaemon/period"] = self.paced_sddaemon(sock, daemon, n, window, every_period=True,
                                                     rates=rates)
        self.stop(daemon)
        raw, wav = self.tone_files()
        for name, start, paced, needs in (
                # Resampling 42 streams takes PulseAudio past its own CPU limit and its
                # realtime thread past RLIMIT_RTTIME, either of which ends it in the middle
                # of the window: both lifted (it runs without realtime scheduling, as jackd
                # and sddaemon do here).
                ("pulseaudio/speex-7", lambda: self.start_pulse("speex-float-7", no_cpu_limit=True),
                 lambda s, e: self.paced_pulse(s, e, n, window, raw, rates), ["pulseaudio", "pacat", "pactl"]),
                ("pulseaudio", lambda: self.start_pulse(no_cpu_limit=True),
                 lambda s, e: self.paced_pulse(s, e, n, window, raw, rates), ["pulseaudio", "pacat", "pactl"]),
                ("pipewire", self.start_pipewire,
                 lambda s, e: self.paced_pipewire(s, e, n, window, wav, rates),
                 ["pipewire", "pw-cat", "pw-link", "wireplumber", "dbus-daemon"])):
            missing = [t for t in needs if not shutil.which(t)]
            if missing or self.args.no_compare:
                res[name] = {"status": "not installed" if missing else "skipped"}
                continue
            try:
                self.log("rates: %s with %d clients at three rates" % (name, n))
                server, env = start()
                res[name] = paced(server, env)
                res[name]["status"] = "ok"
                self.stop(server)
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                res[name] = {"status": "failed: %s" % e}
        self.results["rates"] = res

    # -- 3. added latency --

    def w_latency(self):
        secs = 2 if self.quick else 6
        self.start_jack()
        daemon, sock, _, _ = self.start_daemon("latency")
        direct = self.run([self.exe("sdd-bench-pa"), "latency", "--device", "system jack",
                           "--seconds", str(secs), "--blocksize", str(PERIOD)])
        shared = self.run([self.exe("sdd-bench-latency"), "--socket", sock, "--device", "system jack",
                           "--seconds", str(secs), "--blocksize", str(PERIOD)])
        self.wait_idle(sock)
        excl = self.run([self.exe("sdd-bench-latency"), "--socket", sock, "--device", "system jack",
                         "--seconds", str(secs), "--blocksize", str(PERIOD), "--exclusive"])
        self.stop(daemon)
        period = PERIOD / RATE
        res = {"period_seconds": period, "portaudio": direct, "shared": shared, "exclusive": excl}
        for mode, r in (("shared", shared), ("exclusive", excl)):
            added = r["latency_mean"] - direct["latency_mean"]
            res[mode + "_added_seconds"] = added
            res[mode + "_added_periods"] = added / period
        self.results["latency"] = res

    # -- 6. PortAudio programs through sddaemon's PortAudio library --

    def run_pa(self, mode, device, secs, block, sock=None, daemon=None, exclusive=False):
        """Runs sdd-bench-pa on PortAudio (sock None) or through sddaemon's
        PortAudio library with sdctl run.  Through the library, adds the
        daemon's CPU over the program's whole run and its share of the
        program's measuring window (pro rata)."""
        argv = [self.exe("sdd-bench-pa"), mode, "--device", device, "--seconds", str(secs),
                "--blocksize", str(block)]
        if sock:
            argv = [self.exe("sdctl"), "--socket", sock, "run", "--library-dir",
                    os.path.join(self.build, "client", "portaudio")] + \
                (["--exclusive"] if exclusive else []) + ["--"] + argv
        s0 = Snapshot([daemon.pid]) if daemon else None
        r = self.run(argv)
        if daemon:
            s1 = Snapshot([daemon.pid])
            r["daemon_cpu_run"] = s1.cpu - s0.cpu
            r["run_seconds"] = s1.t - s0.t
            r["daemon_cpu"] = r["daemon_cpu_run"] * r["wall"] / max(1e-9, r["run_seconds"])
            self.wait_idle(sock)
        r["total_cpu"] = r["cpu"] + r.get("daemon_cpu", 0)
        r["total_cpu_percent"] = 100 * r["total_cpu"] / max(1e-9, r["wall"])
        return r

    def w_portaudio(self):
        secs = 2 if self.quick else 6
        self.start_jack()
        daemon, sock, _, _ = self.start_daemon("portaudio")
        res = {"period_seconds": PERIOD / RATE}
        # Paced: the latency a callback sees, and the CPU of the program (and daemon).
        res["direct"] = self.run_pa("latency", "system jack", secs, PERIOD)
        res["shared"] = self.run_pa("latency", "system jack", secs, PERIOD, sock, daemon)
        res["exclusive"] = self.run_pa("latency", "system jack", secs, PERIOD, sock, daemon, True)
        for mode in ("shared", "exclusive"):
            r = res[mode]
            added = r["latency_mean"] - res["direct"]["latency_mean"]
            r["added_seconds"] = added
            r["added_periods"] = added / (PERIOD / RATE)
            r["reported_added_periods"] = (r["output_latency"] - res["direct"]["output_latency"]) / (PERIOD / RATE)
            r["cpu_ratio"] = r["total_cpu"] / max(1e-9, res["direct"]["total_cpu"])
        # Unpaced: frames per CPU-second on ALSA's null device, 1024-frame blocks.
        tput = {"direct": self.run_pa("throughput", "bench_null", secs / 2, 1024)}
        tput["shared"] = self.run_pa("throughput", "bench_null", secs / 2, 1024, sock, daemon)
        for r in tput.values():
            r["frames_per_total_cpu_second"] = r["frames"] / max(1e-9, r["total_cpu"])
        tput["ratio"] = tput["shared"]["frames_per_total_cpu_second"] / \
            max(1e-9, tput["direct"]["frames_per_total_cpu_second"])
        res["throughput"] = tput
        self.stop(daemon)
        self.results["portaudio"] = res

    # -- 4. control plane --

    def run_rtt(self, argv, server_pid, env=None):
        """Runs a round-trip load generator; adds the server's CPU time per request."""
        s0 = Snapshot([server_pid])
        r = self.run(argv, env=env)
        s1 = Snapshot([server_pid])
        r["server_cpu_us_per_request"] = 1e6 * (s1.cpu - s0.cpu) / max(1, r["requests"])
        r["server_ctxsw_per_request"] = (s1.csw - s0.csw) / max(1, r["requests"])
        return r

    def w_control(self):
        secs = 1 if self.quick else 3
        runs = 20 if self.quick else 100
        reps = 1 if self.quick else 3
        daemon, sock, _, _ = self.start_daemon("control")
        ctl = [self.exe("sdd-bench-ctl"), "rtt", "--socket", sock, "--seconds", str(secs)]
        # The one-connection figures of every server, interleaved and repeated: where the
        # scheduler puts client and server (one CPU or two) moves them a lot from run to run.
        gens = {"conns_1": (lambda: self.run_rtt(ctl + ["--conns", "1"], daemon.pid)),
                "ping_1": (lambda: self.run_rtt(ctl + ["--conns", "1", "--cmd", "ping"], daemon.pid))}
        res = {"cmd": "query_devices", "repetitions": reps}
        for key in ("pactl_info", "pulseaudio_1", "pipewire_1"):
            res[key] = {"status": "skipped" if self.args.no_compare else "not installed"}
        if not self.args.no_compare and shutil.which("pulseaudio") and shutil.which("pactl"):
            try:
                pserver, penv = self.start_pulse()
                res["pactl_info"] = self.run([self.exe("sdd-bench-ctl"), "exec", "--runs", str(runs),
                                              "--", "pactl", "info"], env=penv)
                if os.path.exists(self.exe("sdd-bench-pulse")):
                    gens["pulseaudio_1"] = lambda: self.run_rtt(
                        [self.exe("sdd-bench-pulse"), "--seconds", str(secs)], pserver.pid, env=penv)
                else:
                    res["pulseaudio_1"] = {"status": "not built (libpulse-dev)"}
            except (RuntimeError, OSError) as e:
                res["pactl_info"] = res["pulseaudio_1"] = {"status": "failed: %s" % e}
        if not self.args.no_compare and shutil.which("pipewire"):
            if not os.path.exists(self.exe("sdd-bench-pw")):
                res["pipewire_1"] = {"status": "not built (libpipewire-0.3-dev)"}
            else:
                try:
                    wserver, wenv = self.start_pipewire()
                    gens["pipewire_1"] = lambda: self.run_rtt(
                        [self.exe("sdd-bench-pw"), "--seconds", str(secs)], wserver.pid, env=wenv)
                except (RuntimeError, OSError) as e:
                    res["pipewire_1"] = {"status": "failed: %s" % e}
        samples = {k: [] for k in gens}
        for _ in range(reps):
            for key, gen in gens.items():
                try:
                    samples[key].append(gen())
                except RuntimeError as e:
                    res[key] = {"status": "failed: %s" % e}
        for key, runs_ in samples.items():
            if runs_:
                runs_.sort(key=lambda r: r["requests_per_second"])
                res[key] = dict(runs_[len(runs_) // 2], all_requests_per_second=[r["requests_per_second"] for r in runs_])
        for n in (8, 64):
            res["conns_%d" % n] = self.run_rtt(ctl + ["--conns", str(n)], daemon.pid)
        env = dict(self.env, SDDAEMON_SOCKET=sock)
        res["sdctl_devices"] = self.run([self.exe("sdd-bench-ctl"), "exec", "--runs", str(runs), "--",
                                         self.exe("sdctl"), "devices"], env=env)
        res["sdctl_version"] = self.run([self.exe("sdd-bench-ctl"), "exec", "--runs", str(runs), "--",
                                         self.exe("sdctl"), "--version"], env=env)
        res["true"] = self.run([self.exe("sdd-bench-ctl"), "exec", "--runs", str(runs), "--", "true"])
        self.results["control"] = res

    # -- 5. footprint and scale --

    def w_footprint(self):
        starts = 1 if self.quick else 5
        ready, answered = [], []
        for i in range(starts):
            # Without a JACK server: PortAudio's JACK client maps jackd's shared memory,
            # which would count in the daemon's RSS (the paced workload shows that case).
            # 1000 connections of one user: beyond max_clients_per_user's default.
            d, sock, r, a = self.start_daemon("start%d" % i, jack=False,
                                              extra=("--max-clients-per-user", "4096"))
            ready.append(r)
            answered.append(a)
            if i < starts - 1:
                self.stop(d)
        time.sleep(0.5)
        idle = proc_rss_kib(d.pid)
        idle_anon = proc_rss_kib(d.pid, "RssAnon")
        n = 1000
        holder = self.spawn([self.exe("sdd-bench-ctl"), "idle", "--socket", sock, "--conns", str(n)],
                            stdout=subprocess.PIPE, stdin=subprocess.PIPE, log="idle.log")
        self.wait_lines([holder], "ready", timeout=60)
        time.sleep(0.5)
        with_clients = proc_rss_kib(d.pid)
        with_clients_anon = proc_rss_kib(d.pid, "RssAnon")
        holder.stdin.close()
        holder.wait(30)
        self.stop(d)
        res = {"start_to_ready_seconds": median(ready), "start_to_first_reply_seconds": median(answered),
               "starts": starts, "rss_idle_kib": idle, "rss_1000_clients_kib": with_clients,
               "rss_idle_anon_kib": idle_anon, "rss_1000_clients_anon_kib": with_clients_anon,
               "kib_per_idle_client": (with_clients - idle) / n if idle and with_clients else None}
        paced = self.results.get("paced", {}).get("sddaemon", {})
        for n in ("1", "64"):
            m = paced.get(n, {})
            res["rss_%s_streams_with_jack_kib" % n] = m.get("server_rss_kib")
            res["rss_%s_streams_with_jack_anon_kib" % n] = m.get("server_rss_anon_kib")
            res["rss_%s_streams_with_jack_shmem_kib" % n] = m.get("server_rss_shmem_kib")
        self.results["footprint"] = res

    # -- 6. fairness under a flood --

    def baseline_daemon(self):
        """The sddaemon to compare with: --baseline-daemon, or one built from --baseline REV
        (git archive of this repository into the temporary folder); None without either."""
        if self.args.baseline_daemon:
            return os.path.abspath(self.args.baseline_daemon), self.args.baseline_daemon
        if not self.args.baseline:
            return None, None
        src = os.path.join(self.tmp, "baseline-src")
        os.makedirs(src)
        self.log("building sddaemon at %s for the comparison" % self.args.baseline)
        archive = subprocess.run(["git", "-C", ROOT, "archive", self.args.baseline], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", src], input=archive.stdout, check=True)
        build = os.path.join(src, "build")
        for argv in (["meson", "setup", build, src, "-Dtests=false", "-Dman=disabled", "-Dsystemd=disabled"],
                     ["ninja", "-C", build, "daemon/sddaemon"]):
            p = subprocess.run(argv, capture_output=True)
            if p.returncode != 0:
                raise RuntimeError("building the baseline: %s" % p.stdout.decode(errors="replace")[-800:])
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", self.args.baseline],
                             capture_output=True).stdout.decode().strip()
        return os.path.join(build, "daemon", "sddaemon"), rev or self.args.baseline

    def w_fairness(self):
        secs = 2 if self.quick else 5
        reps = 1 if self.quick else 3
        flooders = (1, 4)
        base_exe, base_name = self.baseline_daemon()
        daemons = [("sddaemon", None)] + ([("baseline", base_exe)] if base_exe else [])
        samples = {(name, n): [] for name, _ in daemons for n in flooders}
        # No request rate limit: the flood is as hard as one client can make it.
        conf = os.path.join(self.tmp, "fairness.conf")
        with open(conf, "w") as f:
            f.write("max_requests_per_second = 0\n")
        # Interleaved: the machine's load moves both alike.
        for rep in range(reps):
            for n in flooders:
                for name, exe in daemons:
                    d, sock, _, _ = self.start_daemon("fair-%s-%d-%d" % (name, n, rep), jack=False, exe=exe,
                                                      conf=conf)
                    try:
                        samples[(name, n)].append(self.run([self.exe("sdd-bench-ctl"), "flood", "--socket", sock,
                                                            "--conns", str(n), "--seconds", str(secs)]))
                    finally:
                        self.stop(d)
        res = {"seconds": secs, "repetitions": reps, "baseline_rev": base_name,
               "load_average": os.getloadavg()[0]}
        for (name, n), runs_ in samples.items():
            runs_.sort(key=lambda r: r["bystander_p99_us"])
            res.setdefault(name, {})[str(n)] = dict(runs_[len(runs_) // 2],
                                                   all_p99_us=[r["bystander_p99_us"] for r in runs_])
        self.results["fairness"] = res

    # -- the report --

    def report(self):
        r = self.results
        lines = []

        def section(title):
            lines.append("")
            lines.append(title)
            lines.append("-" * len(title))

        def row(name, value, target="", verdict=None):
            v = "" if verdict is None else verdict if isinstance(verdict, str) else ("  ok" if verdict else "  MISSED")
            lines.append("  %-44s %24s   %-22s%s" % (name, value, target, v))

        def f(x, fmt="%.3g"):
            return "-" if x is None else fmt % x

        if "throughput" in r:
            t = r["throughput"]
            section("1. Data plane throughput (ALSA null, unpaced, %d-frame blocks; frames per CPU-second, best of %d)" % (t["blocksize"], t["repetitions"]))
            row("direct PortAudio", "%.3e (%.2f ns/frame)" % (t["portaudio"]["frames_per_cpu_second"], t["portaudio"]["ns_per_frame"]))
            if t["failed_runs"]:
                row("client runs dropped by the daemon and redone", "%d" % len(t["failed_runs"]))
            for mode in ("shared", "exclusive", "shared, direct", "shared, one CPU", "exclusive, one CPU"):
                m = t.get(mode)
                if m is None:
                    continue
                if mode == "shared, one CPU":
                    p1 = t["portaudio, one CPU"]
                    lines.append("  every process on CPU %d:" % t["cpu"])
                    row("direct PortAudio, one CPU", "%.3e (%.2f ns/frame)" % (p1["frames_per_cpu_second"], p1["ns_per_frame"]))
                row("sddaemon %s (daemon + client)" % mode, f(m["frames_per_cpu_second"], "%.3e"))
                row("  ratio to direct PortAudio", f(m["ratio"], "%.2fx"), ">= 0.8x", m["ratio"] is not None and m["ratio"] >= 0.8)
                row("  ratio, daemon's CPU only", f(m["ratio_daemon_only"], "%.2fx"))
                row("  ns per frame: client / daemon", "%.2f / %.2f" % (m["client_ns_per_frame"], m["daemon_ns_per_device_frame"]))
                row("  silence played (client behind)", f(100 * m["silence_fraction"], "%.1f %%"))
                if "repetitions_behind" in m:
                    row("  repetitions with the client behind (> 5 % silence)",
                        "%d of %d" % (m["repetitions_behind"], t["repetitions"]))
            c = t.get("parts")
            if c:
                lines.append("  the parts by themselves (sdd-bench-copy; ns per frame, medians):")
                row("  copy within one CPU's cache (the direct program's)", "%.3f" % c["table_ns"])
                if "ring_write_ns" in c:
                    row("  write into the 2 MiB ring, read on the other CPU", "%.3f" % c["ring_write_ns"])
                    row("  read from it there (the daemon's sample_clip_to)", "%.3f%s" % (
                        c["ring_read_ns"], " (SSE2 loop: %.3f)" % c["ring_read_base_ns"] if "ring_read_base_ns" in c else ""))
                row("  write into the ring, nobody reading", "%.3f" % c["ring_write_solo_ns"])
                row("  a wake-up between two processes on one CPU", "%.2f us" % c["wakeup_us"])
        if "paced" in r:
            p = r["paced"]
            section("2. Paced mixing cost (%d-frame periods at 48 kHz, %g s window; %% of one CPU)" % (p["period_frames"], p["window_seconds"]))
            lines.append("  %-15s %7s %9s %9s %11s %11s %9s %9s %7s" % (
                "server", "clients", "server%", "clients%", "server cs/s", "client cs/s", "busy avg", "busy max", "xruns"))
            for name in ("sddaemon", "sddaemon/period", "pulseaudio", "pipewire"):
                s = p.get(name, {})
                if "status" in s and s["status"] != "ok":
                    lines.append("  %-15s %s" % (name, s["status"]))
                    continue
                for n in ("1", "16", "64"):
                    m = s.get(n)
                    if not m:
                        continue
                    busy_avg = f(100 * m["engine_busy_mean"], "%.2f %%") if m.get("engine_busy_mean") is not None else "-"
                    busy_max = f(100 * m["engine_busy_max"], "%.2f %%") if m.get("engine_busy_max") is not None else "-"
                    xr = "-" if "device_xruns" not in m else "%d/%d" % (m["device_xruns"], m.get("client_underflow_frames", 0))
                    lines.append("  %-15s %7s %9.2f %9.2f %11.0f %11.0f %9s %9s %7s" % (
                        name, n, m["server_cpu_percent"], m["clients_cpu_percent"], m["server_ctxsw_per_second"],
                        m["clients_ctxsw_per_second"], busy_avg, busy_max, xr))
            m = p.get("sddaemon", {}).get("64")
            if m:
                row("sddaemon, 64 clients: daemon CPU", f(m["server_cpu_percent"], "%.2f %%"), "<= 5 %", m["server_cpu_percent"] <= 5)
                row("sddaemon, 64 clients: daemon + clients CPU", f(m["total_cpu_percent"], "%.2f %%"), "< 30 %", m["total_cpu_percent"] < 30)
                row("sddaemon, 64 clients: engine busy (mean)", f(100 * (m["engine_busy_mean"] or 0), "%.2f %%"), "< 10 % of period",
                    (m["engine_busy_mean"] or 0) < 0.10)
                # A device xrun while the callback used a small part of its period is a late
                # wake-up of the (not realtime) audio thread, not the daemon's work: say so.
                late = m["device_xruns"] and m["client_underflow_frames"] == 0 and (m["engine_busy_max"] or 0) < 0.5
                row("sddaemon, 64 clients: device xruns / underflow", "%d / %d" % (m["device_xruns"], m["client_underflow_frames"]),
                    "0 caused by the daemon",
                    "  ok? (busy max %.1f %%: late wake-ups)" % (100 * m["engine_busy_max"]) if late else
                    m["device_xruns"] == 0 and m["client_underflow_frames"] == 0)
                row("jackd (the 'device') CPU", f(m.get("device_cpu_percent"), "%.2f %%"))
            lines.append("  CPU from /proc/PID/task/*/schedstat (utime+stime in the JSON); cs/s = context switches;")
            lines.append("  busy = daemon_status cpu_load (fraction of the period); xruns = device xruns in the window /")
            lines.append("  frames of client underflow.  sddaemon: 16384-frame writes into a 65536-frame ring;")
            lines.append("  sddaemon/period: 256-frame writes into 1024, a wake-up every period, as")
            lines.append("  pacat --latency-msec=5.33 (PulseAudio) and pw-cat --latency 256 (PipeWire)")
        if "rates" in r:
            p = r["rates"]
            section("2b. %d clients at %s Hz on the 48 kHz device (%d-frame periods, %g s window; %% of one CPU)"
                    % (p["clients"], ", ".join(str(x) for x in p["rates"]), p["period_frames"], p["window_seconds"]))
            lines.append("  %-19s %9s %9s %11s %9s %9s %7s" % (
                "server", "server%", "clients%", "server cs/s", "busy avg", "busy max", "xruns"))
            for name in ("sddaemon", "sddaemon/period", "pulseaudio/speex-7", "pulseaudio", "pipewire"):
                m = p.get(name, {})
                if m.get("status", "ok") != "ok":
                    lines.append("  %-19s %s" % (name, m["status"]))
                    continue
                if not m:
                    continue
                busy_avg = f(100 * m["engine_busy_mean"], "%.2f %%") if m.get("engine_busy_mean") is not None else "-"
                busy_max = f(100 * m["engine_busy_max"], "%.2f %%") if m.get("engine_busy_max") is not None else "-"
                xr = "-" if "device_xruns" not in m else "%d/%d" % (m["device_xruns"], m.get("client_underflow_frames", 0))
                lines.append("  %-19s %9.2f %9.2f %11.0f %9s %9s %7s" % (
                    name, m["server_cpu_percent"], m["clients_cpu_percent"], m["server_ctxsw_per_second"],
                    busy_avg, busy_max, xr))
            for name in ("pulseaudio/speex-7", "pulseaudio"):
                m = p.get(name, {})
                if "clients_playing" in m:
                    row("%s: clients playing / alive after" % name,
                        "%d / %d%s" % (m["clients_playing"], m["clients_alive_after"],
                                       "" if m["server_alive_after"] else ", server gone"))
            m = p.get("sddaemon")
            if m:
                row("sddaemon: rate groups (rate, streams)", " ".join("%d:%d" % g for g in m.get("rate_groups", [])))
                row("sddaemon: daemon CPU", f(m["server_cpu_percent"], "%.2f %%"), "<= 5 %", m["server_cpu_percent"] <= 5)
                # As in 2: a device xrun while the callback used a small part of its period
                # is a late wake-up of the (not realtime) audio thread.
                late = m["device_xruns"] and m["client_underflow_frames"] == 0 and (m["engine_busy_max"] or 0) < 0.5
                row("sddaemon: device xruns / client underflow", "%d / %d" % (m["device_xruns"], m["client_underflow_frames"]),
                    "0 caused by the daemon",
                    "  ok? (busy max %.1f %%: late wake-ups)" % (100 * m["engine_busy_max"]) if late else
                    m["device_xruns"] == 0 and m["client_underflow_frames"] == 0)
            for g in p.get("rategroup", {}).get("groups", []):
                row("one stereo %s group %d -> %d Hz" % (g["direction"], g["rate"], g["device_rate"]) if g["direction"] == "output"
                    else "one stereo %s group %d -> %d Hz" % (g["direction"], g["device_rate"], g["rate"]),
                    "%.1f ns/frame = %.2f %%" % (g["ns_per_device_frame"], g["core_percent"]))
            lines.append("  PulseAudio and PipeWire resample each stream on its own; sddaemon mixes the streams of")
            lines.append("  a rate and resamples the sum once (speexdsp, quality 7).  pulseaudio/speex-7 runs")
            lines.append("  --resample-method=speex-float-7 (our library and quality), pulseaudio its default")
            lines.append("  (speex-float-1), both with --no-cpu-limit --realtime=no; PipeWire runs its own")
            lines.append("  resampler at its default quality.  ns/frame: per device frame of one group, and % of")
            lines.append("  one core at the device's rate (sdd-bench-rategroup)")
        if "latency" in r:
            l = r["latency"]
            section("3. Added latency (jackd dummy, %d-frame periods; write -> DAC)" % PERIOD)
            row("direct PortAudio (dac - current, mean)", f(1000 * l["portaudio"]["latency_mean"], "%.2f ms"))
            for mode in ("shared", "exclusive"):
                row("sddaemon %s via libsdc callback (mean)" % mode, f(1000 * l[mode]["latency_mean"], "%.2f ms"))
                row("  added", "%.2f ms = %.2f periods" % (1000 * l[mode + "_added_seconds"], l[mode + "_added_periods"]),
                    "<= 1 period", l[mode + "_added_periods"] <= 1.0)
                row("  underflows while measuring", "%d" % l[mode]["underflow_callbacks"])
        if "control" in r:
            c = r["control"]
            section("4. Control plane (query_devices round trips on persistent connections)")
            one = c["conns_1"]
            row("1 connection: requests/s", f(one["requests_per_second"], "%.0f"), "> 25000", one["requests_per_second"] > 25000)
            row("1 connection: p50 / p99", "%.1f / %.1f us" % (one["rtt_p50_us"], one["rtt_p99_us"]), "p50 < 40 us", one["rtt_p50_us"] < 40)
            row("  daemon CPU per request", f(one["server_cpu_us_per_request"], "%.1f us"))
            for name, what in (("pulseaudio_1", "PulseAudio info"), ("pipewire_1", "PipeWire ping")):
                m = c.get(name, {})
                if "requests_per_second" in m:
                    row("  req/s relative to %s" % what, "%.2fx" % (one["requests_per_second"] / m["requests_per_second"]))
            pg = c["ping_1"]
            row("ping, 1 connection: requests/s", f(pg["requests_per_second"], "%.0f"))
            row("  p50 / p99; daemon CPU per request", "%.1f / %.1f us; %.1f us" % (
                pg["rtt_p50_us"], pg["rtt_p99_us"], pg["server_cpu_us_per_request"]))
            for n in (8, 64):
                m = c["conns_%d" % n]
                row("%d connections: requests/s" % n, f(m["requests_per_second"], "%.0f"))
                row("%d connections: p50 / p99" % n, "%.1f / %.1f us" % (m["rtt_p50_us"], m["rtt_p99_us"]))
            sd = c["sdctl_devices"]
            row("sdctl devices, whole process (p50)", f(sd["p50_ms"], "%.2f ms"), "< 2 ms", sd["p50_ms"] < 2)
            row("  sdctl --version / true (p50)", "%.2f / %.2f ms" % (c["sdctl_version"]["p50_ms"], c["true"]["p50_ms"]))
            pi = c.get("pactl_info", {})
            row("pactl info, whole process (p50)", f(pi["p50_ms"], "%.2f ms") if "p50_ms" in pi else pi.get("status", "-"))
            for name, what in (("pulseaudio_1", "PulseAudio server-info, 1 conn"), ("pipewire_1", "PipeWire core sync (ping), 1 conn")):
                m = c.get(name, {})
                if "requests_per_second" in m:
                    row(what + ": req/s", f(m["requests_per_second"], "%.0f"))
                    row("  p50 / p99; server CPU per request", "%.1f / %.1f us; %.1f us" % (
                        m["rtt_p50_us"], m["rtt_p99_us"], m["server_cpu_us_per_request"]))
                else:
                    row(what, m.get("status", "-"))
            lines.append("  anchors from the issue: PulseAudio ~12,600 server-info/s (p50 73 us), PipeWire ~12,500 pings/s (p50 76 us), pactl info 4.1 ms")
        if "footprint" in r:
            fp = r["footprint"]
            section("5. Footprint and scale")
            row("start to READY=1 (median of %d)" % fp["starts"], f(1000 * fp["start_to_ready_seconds"], "%.1f ms") if fp["start_to_ready_seconds"] else "-")
            row("start to first reply", f(1000 * fp["start_to_first_reply_seconds"], "%.1f ms"))
            def kib(total, anon):
                return "-" if total is None else "%d KiB (anon %s)" % (total, anon)
            row("RSS idle (no JACK server)", kib(fp["rss_idle_kib"], fp["rss_idle_anon_kib"]))
            row("RSS with 1000 idle clients", kib(fp["rss_1000_clients_kib"], fp["rss_1000_clients_anon_kib"]))
            row("  per idle client", f(fp["kib_per_idle_client"], "%.1f KiB"))
            for n in ("1", "64"):
                row("RSS with %s playing stream%s on JACK" % (n, "s" if n != "1" else ""),
                    kib(fp["rss_%s_streams_with_jack_kib" % n], fp["rss_%s_streams_with_jack_anon_kib" % n]))
                row("  of which jackd's shared memory", f(fp["rss_%s_streams_with_jack_shmem_kib" % n], "%d KiB"))
        if "fairness" in r:
            fa = r["fairness"]
            section("6. Fairness: a bystander's ping (one a millisecond) under a flood of pipelined pings")
            for n in sorted(fa["sddaemon"], key=int):
                m = fa["sddaemon"][n]
                row("%s flooder%s: flood requests/s" % (n, "s" if n != "1" else ""), f(m["flood_requests_per_second"], "%.0f"))
                row("  bystander p50 / p99 / max", "%.0f / %.0f / %.0f us" % (
                    m["bystander_p50_us"], m["bystander_p99_us"], m["bystander_max_us"]),
                    "p99 <= 5 ms", m["bystander_p99_us"] <= 5000)
                b = fa.get("baseline", {}).get(n)
                if b:
                    row("  baseline %s: p50 / p99 / max" % fa["baseline_rev"], "%.0f / %.0f / %.0f us" % (
                        b["bystander_p50_us"], b["bystander_p99_us"], b["bystander_max_us"]))
                    row("  p99 relative to the baseline", "%.2fx" % (m["bystander_p99_us"] / b["bystander_p99_us"]))
            lines.append("  median of %d interleaved runs of %g s by p99; load average %.2f during the runs" % (
                fa["repetitions"], fa["seconds"], fa["load_average"]))
        if "portaudio" in r:
            pa = r["portaudio"]
            section("7. A PortAudio program through sddaemon's library (sdd-bench-pa, directly and with sdctl run)")
            d = pa["direct"]
            row("jackd, 256-frame blocks: direct, dac - current (mean)", f(1000 * d["latency_mean"], "%.2f ms"))
            row("  reported output latency (Pa_GetStreamInfo)", f(1000 * d["output_latency"], "%.2f ms"))
            for mode in ("shared", "exclusive"):
                m = pa[mode]
                row("through the library, %s (mean)" % mode, f(1000 * m["latency_mean"], "%.2f ms"))
                row("  added", "%.2f ms = %.2f periods" % (1000 * m["added_seconds"], m["added_periods"]),
                    "<= 1 period", m["added_periods"] <= 1.0)
                row("  reported output latency", "%.2f ms (+%.2f periods)" % (
                    1000 * m["output_latency"], m["reported_added_periods"]))
                row("  CPU: program + daemon (% of one CPU)", "%.2f + %.2f %%" % (
                    100 * m["cpu"] / m["wall"], 100 * m["daemon_cpu"] / m["wall"]))
                row("  CPU ratio to direct PortAudio (%.2f %%)" % d["total_cpu_percent"], "%.2fx" % m["cpu_ratio"])
                row("  xrun callbacks while measuring (direct %d)" % d["xrun_callbacks"], "%d" % m["xrun_callbacks"])
            t = pa["throughput"]
            row("unpaced null device, 1024-frame blocks: direct", f(t["direct"]["frames_per_total_cpu_second"], "%.3e frames/CPU-s"))
            row("  through the library, shared (program + daemon)", f(t["shared"]["frames_per_total_cpu_second"], "%.3e frames/CPU-s"))
            row("  ratio to direct PortAudio", "%.2fx" % t["ratio"])
            lines.append("  The daemon's CPU is its CPU over the program's whole run, scaled to the program's")
            lines.append("  measuring window; jackd's (the 'device') is in neither.")
        return "\n".join(lines)


def pin_to(cpu):
    """A preexec_fn that puts the child (and every thread it makes) on one CPU; None: any."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def meta(args):
    def cmd(argv):
        try:
            return subprocess.run(argv, capture_output=True, timeout=10).stdout.decode().strip()
        except (OSError, subprocess.SubprocessError):
            return None

    cpu = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "command": " ".join(sys.argv),
        "quick": args.quick,
        "host": platform.node(),
        "kernel": platform.release(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "load_average_start": os.getloadavg(),
        "git": cmd(["git", "-C", ROOT, "describe", "--always", "--dirty"]),
        "pulseaudio": cmd(["pulseaudio", "--version"]) if shutil.which("pulseaudio") else "not installed",
        "pipewire": (cmd(["pipewire", "--version"]) or "").splitlines()[-1:] if shutil.which("pipewire") else "not installed",
        "jackd": "installed" if shutil.which("jackd") else "not installed",
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"), help="build folder with -Dbench=true")
    ap.add_argument("--quick", action="store_true", help="short windows, one repetition (for development)")
    ap.add_argument("--only", default="", help="comma-separated: throughput,paced,rates,latency,control,footprint,fairness,portaudio")
    ap.add_argument("--json", help="where to write the results (default bench/results.json, quick: bench/results-quick.json)")
    ap.add_argument("--no-compare", action="store_true", help="skip PulseAudio and PipeWire")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    ap.add_argument("--baseline", metavar="REV", help="fairness: also measure sddaemon built from this git revision")
    ap.add_argument("--baseline-daemon", metavar="PATH", help="fairness: also measure this sddaemon binary")
    args = ap.parse_args()
    order = ["throughput", "paced", "rates", "latency", "control", "footprint", "fairness", "portaudio"]
    only = [w for w in args.only.split(",") if w] or order
    for w in only:
        if w not in order:
            ap.error("unknown workload %r" % w)
    bench = Bench(args)
    info = meta(args)
    failures = {}
    try:
        for w in order:
            if w not in only:
                continue
            bench.log("== %s" % w)
            try:
                getattr(bench, "w_" + w)()
            except (RuntimeError, OSError, subprocess.SubprocessError, KeyError) as e:
                failures[w] = str(e)
                bench.log("%s failed: %s" % (w, e))
    finally:
        bench.cleanup()
    info["load_average_end"] = os.getloadavg()
    out = {"meta": info, "results": bench.results, "failures": failures}
    path = args.json or os.path.join(HERE, "results-quick.json" if args.quick else "results.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print("sddaemon benchmarks, %s%s" % (info["date"], " (--quick)" if args.quick else ""))
    print("machine: %s, %s CPUs, load average at start %.2f, at end %.2f" % (
        info["cpu"], info["cpus"], info["load_average_start"][0], info["load_average_end"][0]))
    print(bench.report())
    for w, e in failures.items():
        print("\n%s: FAILED: %s" % (w, e))
    print("\nresults written to %s" % os.path.relpath(path))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
