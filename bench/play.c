/*
 * sdd-bench-play: an sddaemon playback client as a file player is one.  It
 * opens an open-ended playback with libsdc (sdc_play_open) and writes large
 * chunks with sdc_stream_write(), so that it sleeps on its eventfd until a
 * whole chunk fits instead of waking every period.
 *
 *   sdd-bench-play --socket PATH --device QUERY [--chunk N] [--buffer N]
 *                  [--blocksize N] [--latency SEC] [--exclusive] [--direct] [--rate HZ]
 *                  [--seconds S] [--measure PID [--warmup S]]
 *
 * --direct copies the signal straight into the ring (sdc_stream_begin_write()
 * and sdc_stream_commit_write(), as sdctl play decodes into it) instead of
 * handing it to sdc_stream_write().
 *
 * It prints "ready" once the stream runs (its ring was filled), then plays
 * until --seconds have passed (0: until SIGTERM or SIGINT), stops the
 * stream and prints one JSON line with its counters.  With --measure PID
 * (the daemon's pid) it measures a throughput window itself, --warmup
 * seconds after the start: frames played and the CPU time of the daemon
 * and of itself over that window.  Single-threaded.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common.h"
#include "sdc.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(void)
{
	fputs("usage: sdd-bench-play --socket PATH --device QUERY [--chunk N] [--buffer N] [--blocksize N]\n"
	      "                      [--latency SEC] [--exclusive] [--direct] [--rate HZ]\n"
	      "                      [--seconds S] [--measure PID [--warmup S]]\n",
	      stderr);
	exit(2);
}

/* Context switches of this process (all threads). */
static long long self_ctxsw(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_nvcsw + ru.ru_nivcsw;
}

struct sample {
	double wall, self_cpu, daemon_cpu;
	unsigned long long played, silence;
};

static void take_sample(sdc_stream *st, int pid, struct sample *s)
{
	sdc_status status;

	sdc_stream_status(st, &status);
	s->wall = bench_now();
	s->self_cpu = bench_self_cpu();
	s->daemon_cpu = pid > 0 ? bench_pid_cpu(pid) : 0;
	s->played = status.frames_played;
	s->silence = status.underflow_frames;
}

/* Copies frames of signal straight into the ring, waiting for room; returns the frames written. */
static long long write_direct(sdc_stream *st, const float *signal, size_t frames)
{
	size_t done = 0;

	while (done < frames) {
		void *room;
		long long n = sdc_stream_begin_write(st, &room, frames - done, -1);

		if (n <= 0)
			return n < 0 ? n : (long long)done;
		memcpy(room, signal + 2 * done, (size_t)n * 2 * sizeof(float));
		sdc_stream_commit_write(st, (size_t)n);
		done += (size_t)n;
	}
	return (long long)done;
}

int main(int argc, char **argv)
{
	const char *socket_path = NULL, *query = NULL;
	double seconds = 0, warmup = 0.5, latency = 0, rate = 48000;
	long chunk = 16384, buffer = 65536, blocksize = 0;
	int exclusive = 0, direct = 0, measure_pid = 0, measuring = 0, measured = 0, ready = 0;
	sdc_play_params p = { 0 };
	struct sample s0 = { 0 }, s1 = { 0 };
	struct sigaction sa = { 0 };
	sdc_client *client;
	sdc_stream *st;
	sdc_status status;
	float *signal;
	double t_start = 0, cpu_ready = 0;
	long long csw_ready = 0;
	int r;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--exclusive")) {
			exclusive = 1;
			continue;
		}
		if (!strcmp(argv[i], "--direct")) {
			direct = 1;
			continue;
		}
		if (!strcmp(argv[i], "--socket"))
			socket_path = v;
		else if (!strcmp(argv[i], "--device"))
			query = v;
		else if (!strcmp(argv[i], "--chunk"))
			chunk = (long)bench_arg_num(argv[i], v);
		else if (!strcmp(argv[i], "--buffer"))
			buffer = (long)bench_arg_num(argv[i], v);
		else if (!strcmp(argv[i], "--blocksize"))
			blocksize = (long)bench_arg_num(argv[i], v);
		else if (!strcmp(argv[i], "--latency"))
			latency = bench_arg_num(argv[i], v);
		else if (!strcmp(argv[i], "--rate"))
			rate = bench_arg_num(argv[i], v);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = bench_arg_num(argv[i], v);
		else if (!strcmp(argv[i], "--measure"))
			measure_pid = (int)bench_arg_num(argv[i], v);
		else if (!strcmp(argv[i], "--warmup"))
			warmup = bench_arg_num(argv[i], v);
		else
			usage();
		i++;
	}
	if (!query || chunk < 1 || buffer < 1)
		usage();

	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	signal = malloc((size_t)chunk * 2 * sizeof(float));
	if (!signal)
		bench_die("out of memory");
	/* A whole number of 440 Hz cycles would be nicer; a click per chunk does not matter here. */
	bench_sine(signal, (size_t)chunk, rate);

	if ((r = sdc_connect(socket_path, &client)) < 0)
		bench_die("cannot connect to sddaemon: %s", sdc_last_error()->message);
	p.channels = 2;
	p.dtype = SDC_FLOAT32;
	p.opt.output_device = SDC_DEVICE_QUERY(query);
	p.opt.samplerate = rate;
	p.opt.buffer_frames = (unsigned)buffer;
	p.opt.blocksize = (int)blocksize;
	p.opt.exclusive = exclusive ? SDC_YES : SDC_NO;
	if (latency > 0)
		p.opt.output_latency = latency;
	if ((r = sdc_play_open(client, &p, -1, &st)) < 0)
		bench_die("cannot open a playback: %s", sdc_last_error()->message);

	while (!stop_requested) {
		long long n = direct ? write_direct(st, signal, (size_t)chunk)
				     : sdc_stream_write(st, signal, (size_t)chunk);

		if (n < 0) {
			if (stop_requested)
				break;
			bench_die("write failed: %s", sdc_last_error()->message);
		}
		/* Read the daemon's events (xruns): a client that never reads them is dropped. */
		while ((r = sdc_dispatch(client, 0)) > 0)
			;
		sdc_stream_status(st, &status);
		if (r < 0)
			bench_die("sddaemon closed the connection (it drops a client that lets 4 MiB of "
				  "events, such as xruns, pile up)");
		if (status.state >= SDC_STATE_FINISHED || n < chunk)
			bench_die("the stream ended: %s", status.error);
		if (!ready && status.state == SDC_STATE_RUNNING) {
			ready = 1;
			t_start = bench_now();
			cpu_ready = bench_self_cpu();
			csw_ready = self_ctxsw();
			puts("ready");
			fflush(stdout);
		}
		if (!ready)
			continue;
		if (measure_pid && !measuring && bench_now() - t_start >= warmup) {
			take_sample(st, measure_pid, &s0);
			measuring = 1;
		}
		if (measuring && !measured && bench_now() - s0.wall >= seconds) {
			take_sample(st, measure_pid, &s1);
			measured = 1;
			break;
		}
		if (!measure_pid && seconds > 0 && bench_now() - t_start >= seconds)
			break;
	}

	sdc_stream_status(st, &status);
	bench_json_begin();
	bench_json_str("program", "sdd-bench-play");
	bench_json_int("exclusive", exclusive);
	bench_json_int("direct", direct);
	bench_json_num("wall", ready ? bench_now() - t_start : 0);
	bench_json_num("cpu", ready ? bench_self_cpu() - cpu_ready : 0);
	bench_json_int("ctxsw", ready ? self_ctxsw() - csw_ready : 0);
	bench_json_int("frames_played", (long long)status.frames_played);
	bench_json_int("underflow_frames", (long long)status.underflow_frames);
	bench_json_int("xruns", status.xruns);
	if (measured) {
		double cpu = (s1.self_cpu - s0.self_cpu) + (s1.daemon_cpu - s0.daemon_cpu);

		bench_json_num("window", s1.wall - s0.wall);
		bench_json_num("window_client_cpu", s1.self_cpu - s0.self_cpu);
		bench_json_num("window_daemon_cpu", s1.daemon_cpu - s0.daemon_cpu);
		bench_json_int("window_frames", (long long)(s1.played - s0.played));
		bench_json_int("window_silence_frames", (long long)(s1.silence - s0.silence));
		bench_json_num("frames_per_cpu_second",
			       cpu > 0 ? (double)(s1.played - s0.played) / cpu : 0);
		bench_json_num("frames_per_daemon_cpu_second",
			       s1.daemon_cpu > s0.daemon_cpu
				       ? (double)(s1.played - s0.played) / (s1.daemon_cpu - s0.daemon_cpu)
				       : 0);
	}
	bench_json_end();
	sdc_stop(client, sdc_stream_handle(st));
	sdc_stream_close(st);
	sdc_close(client);
	free(signal);
	return 0;
}
