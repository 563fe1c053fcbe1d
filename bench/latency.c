/*
 * sdd-bench-latency: the output latency an sddaemon client sees, the
 * counterpart of "sdd-bench-pa latency".
 *
 *   sdd-bench-latency --socket PATH --device QUERY [--seconds S]
 *                     [--blocksize N] [--latency SEC] [--exclusive]
 *
 * It opens a callback stream with libsdc's stream API (sdc_stream_open)
 * and records, for every callback, output_buffer_dac_time - current_time:
 * the time from the moment the callback writes a block to the moment the
 * block's first frame reaches the DAC, as PortAudio's clock in the daemon
 * reports it through the ring's clock.  Prints one JSON line.  The
 * callback runs on libsdc's callback thread; main only starts and stops.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "sdc.h"

struct run {
	float *signal;
	size_t pos, frames;
	double *lat;
	size_t cap;
	_Atomic size_t count;
	_Atomic int record;
	_Atomic unsigned long long underflows;
};

/* libsdc's callback thread. */
static int callback(const void *input, void *output, unsigned long frames, const sdc_time_info *ti,
		    unsigned status, void *userdata)
{
	struct run *r = userdata;
	float *out = output;

	for (unsigned long i = 0; i < frames; i++) {
		out[2 * i] = r->signal[2 * r->pos];
		out[2 * i + 1] = r->signal[2 * r->pos + 1];
		r->pos = (r->pos + 1) % r->frames;
	}
	if (status & SDC_OUTPUT_UNDERFLOW)
		atomic_fetch_add(&r->underflows, 1);
	if (atomic_load_explicit(&r->record, memory_order_relaxed)) {
		size_t i = atomic_load_explicit(&r->count, memory_order_relaxed);

		if (i < r->cap) {
			r->lat[i] = ti->output_buffer_dac_time - ti->current_time;
			atomic_store_explicit(&r->count, i + 1, memory_order_release);
		}
	}
	return SDC_CONTINUE;
}

static void usage(void)
{
	fputs("usage: sdd-bench-latency --socket PATH --device QUERY [--seconds S] [--blocksize N]\n"
	      "                         [--latency SEC] [--exclusive]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *socket_path = NULL, *query = NULL;
	double seconds = 3, warmup = 0.5, latency = SDC_LATENCY_LOW;
	int blocksize = 256, exclusive = 0;
	sdc_stream_params p = { 0 };
	struct run r = { 0 };
	sdc_client *client;
	sdc_stream *st;
	sdc_status status;
	size_t n;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--exclusive")) {
			exclusive = 1;
			continue;
		}
		if (!strcmp(argv[i], "--socket"))
			socket_path = v;
		else if (!strcmp(argv[i], "--device"))
			query = v;
		else if (!strcmp(argv[i], "--seconds"))
			seconds = bench_arg_num(argv[i], v);
		else if (!strcmp(argv[i], "--blocksize"))
			blocksize = (int)bench_arg_num(argv[i], v);
		else if (!strcmp(argv[i], "--latency"))
			latency = bench_arg_num(argv[i], v);
		else
			usage();
		i++;
	}
	if (!query || blocksize < 1)
		usage();

	r.frames = 48000;
	r.signal = malloc(r.frames * 2 * sizeof(float));
	r.cap = (size_t)((seconds + warmup + 2) * 48000 / blocksize) + 64;
	r.lat = calloc(r.cap, sizeof(double));
	if (!r.signal || !r.lat)
		bench_die("out of memory");
	bench_sine(r.signal, r.frames, 48000);

	if (sdc_connect(socket_path, &client) < 0)
		bench_die("cannot connect to sddaemon: %s", sdc_last_error()->message);
	p.kind = SDC_STREAM_OUTPUT;
	p.samplerate = 48000;
	p.blocksize = blocksize;
	p.device[1] = SDC_DEVICE_QUERY(query);
	p.channels[1] = 2;
	p.dtype[1] = SDC_FLOAT32;
	p.latency[1] = latency;
	p.callback = callback;
	p.userdata = &r;
	p.exclusive = exclusive ? SDC_YES : SDC_NO;
	if (sdc_stream_open(client, &p, &st) < 0)
		bench_die("cannot open the stream: %s", sdc_last_error()->message);
	if (sdc_stream_start(st) < 0)
		bench_die("cannot start the stream: %s", sdc_last_error()->message);
	usleep((useconds_t)(warmup * 1e6));
	atomic_store(&r.underflows, 0);
	atomic_store(&r.record, 1);
	usleep((useconds_t)(seconds * 1e6));
	atomic_store(&r.record, 0);
	n = atomic_load(&r.count);
	sdc_stream_status(st, &status);

	bench_json_begin();
	bench_json_str("program", "sdd-bench-latency");
	bench_json_int("exclusive", exclusive);
	bench_json_int("blocksize", blocksize);
	bench_json_int("callbacks", (long long)n);
	bench_json_num("stream_latency", sdc_stream_latency(st, SDC_KIND_OUTPUT));
	bench_json_num("latency_mean", bench_mean(r.lat, n));
	bench_json_num("latency_p50", bench_percentile(r.lat, n, 50));
	bench_json_num("latency_p99", bench_percentile(r.lat, n, 99));
	bench_json_num("latency_min", n ? r.lat[0] : 0);
	bench_json_num("latency_max", n ? r.lat[n - 1] : 0);
	bench_json_int("underflow_callbacks", (long long)atomic_load(&r.underflows));
	bench_json_int("xruns", status.xruns);
	bench_json_end();
	sdc_stream_abort(st);
	sdc_stream_close(st);
	sdc_close(client);
	free(r.signal);
	free(r.lat);
	return 0;
}
