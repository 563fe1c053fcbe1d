/*
 * sdd-bench-pa: what a program gets from PortAudio directly, the baseline
 * of bench/run.py.
 *
 *   sdd-bench-pa throughput --device QUERY [--seconds S] [--blocksize N]
 *       plays float32 stereo at 48 kHz as fast as the device takes it (an
 *       unpaced ALSA null device) and prints frames per CPU-second.
 *   sdd-bench-pa latency --device QUERY [--seconds S] [--blocksize N] [--latency SEC]
 *       plays on a paced device and prints what the callback's time info
 *       says: outputBufferDacTime - currentTime, the time from the moment a
 *       buffer is written to the moment its first frame reaches the DAC.
 *
 * QUERY is matched as sddaemon matches devices: space-separated substrings
 * that appear, case-insensitively and in order, in "name, host API".  The
 * result is one JSON line on stdout.  The callback runs on PortAudio's
 * thread and only copies and counts; everything else runs on the main thread.
 */
#include <portaudio.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common.h"

#define RATE 48000.0
#define SIGNAL_FRAMES 48000

struct run {
	float *signal;		/* SIGNAL_FRAMES of stereo sine */
	size_t pos;		/* next signal frame (audio thread) */
	_Atomic uint64_t frames; /* frames played */
	_Atomic uint64_t xruns;	 /* callbacks with underflow/overflow flags */
	/* latency mode: one sample per callback, audio thread writes, main reads after stop */
	double *lat;
	size_t lat_cap;
	_Atomic size_t lat_count;
	_Atomic int record;
};

/* Returns true when every space-separated term of query appears in text, in order. */
static int query_matches(const char *query, const char *text)
{
	char term[256];
	const char *q = query, *at = text;

	while (*q) {
		size_t n = 0;
		const char *hit = NULL;

		while (*q == ' ')
			q++;
		while (*q && *q != ' ' && n < sizeof(term) - 1)
			term[n++] = *q++;
		term[n] = '\0';
		if (!n)
			break;
		for (const char *p = at; *p; p++)
			if (!strncasecmp(p, term, n)) {
				hit = p;
				break;
			}
		if (!hit)
			return 0;
		at = hit + n;
	}
	return 1;
}

/* Finds the output device matching query; exits when there is none. */
static PaDeviceIndex find_device(const char *query)
{
	for (PaDeviceIndex i = 0; i < Pa_GetDeviceCount(); i++) {
		const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
		char text[512];

		if (d->maxOutputChannels < 2)
			continue;
		snprintf(text, sizeof(text), "%s, %s", d->name, Pa_GetHostApiInfo(d->hostApi)->name);
		if (query_matches(query, text))
			return i;
	}
	bench_die("no output device matches '%s'", query);
}

/* PortAudio's thread: copies the signal out and counts. */
static int callback(const void *input, void *output, unsigned long frames,
		    const PaStreamCallbackTimeInfo *ti, PaStreamCallbackFlags status, void *userdata)
{
	struct run *r = userdata;
	float *out = output;
	unsigned long done = 0;

	while (done < frames) {
		size_t n = SIGNAL_FRAMES - r->pos;

		if (n > frames - done)
			n = frames - done;
		memcpy(out + 2 * done, r->signal + 2 * r->pos, n * 2 * sizeof(float));
		done += n;
		r->pos = (r->pos + n) % SIGNAL_FRAMES;
	}
	atomic_fetch_add_explicit(&r->frames, frames, memory_order_relaxed);
	if (status & (paOutputUnderflow | paOutputOverflow))
		atomic_fetch_add_explicit(&r->xruns, 1, memory_order_relaxed);
	if (r->lat && atomic_load_explicit(&r->record, memory_order_relaxed)) {
		size_t i = atomic_load_explicit(&r->lat_count, memory_order_relaxed);

		if (i < r->lat_cap) {
			r->lat[i] = ti->outputBufferDacTime - ti->currentTime;
			atomic_store_explicit(&r->lat_count, i + 1, memory_order_release);
		}
	}
	return paContinue;
}

static void usage(void)
{
	fputs("usage: sdd-bench-pa throughput|latency --device QUERY [--seconds S] [--blocksize N] [--latency SEC]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *mode, *query = NULL;
	double seconds = 3, warmup = 0.5, latency = -1;
	unsigned long blocksize = 1024;
	struct run r = { 0 };
	PaStreamParameters out = { 0 };
	const PaStreamInfo *info;
	PaStream *stream;
	PaError e;
	double t0, t1, c0, c1;
	uint64_t f0, f1;
	int is_latency;

	if (argc < 2)
		usage();
	mode = argv[1];
	is_latency = !strcmp(mode, "latency");
	if (!is_latency && strcmp(mode, "throughput"))
		usage();
	if (is_latency)
		blocksize = 256;
	/* Options come in pairs: name and value. */
	for (int i = 2; i < argc; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--device"))
			query = v;
		else if (!strcmp(argv[i], "--seconds"))
			seconds = bench_arg_num(argv[i], v);
		else if (!strcmp(argv[i], "--warmup"))
			warmup = bench_arg_num(argv[i], v);
		else if (!strcmp(argv[i], "--blocksize"))
			blocksize = (unsigned long)bench_arg_num(argv[i], v);
		else if (!strcmp(argv[i], "--latency"))
			latency = bench_arg_num(argv[i], v);
		else
			usage();
	}
	if (!query)
		usage();

	r.signal = malloc(SIGNAL_FRAMES * 2 * sizeof(float));
	if (!r.signal)
		bench_die("out of memory");
	bench_sine(r.signal, SIGNAL_FRAMES, RATE);
	if (is_latency) {
		r.lat_cap = (size_t)((seconds + warmup + 2) * RATE / (double)blocksize) + 64;
		r.lat = calloc(r.lat_cap, sizeof(double));
		if (!r.lat)
			bench_die("out of memory");
	}

	/* ALSA and JACK probes print noise on stderr that is not ours. */
	if ((e = Pa_Initialize()) != paNoError)
		bench_die("Pa_Initialize: %s", Pa_GetErrorText(e));
	out.device = find_device(query);
	out.channelCount = 2;
	out.sampleFormat = paFloat32;
	out.suggestedLatency = latency >= 0 ? latency
				: is_latency ? Pa_GetDeviceInfo(out.device)->defaultLowOutputLatency
					     : Pa_GetDeviceInfo(out.device)->defaultHighOutputLatency;
	e = Pa_OpenStream(&stream, NULL, &out, RATE, blocksize, paNoFlag, callback, &r);
	if (e != paNoError)
		bench_die("Pa_OpenStream on '%s': %s", Pa_GetDeviceInfo(out.device)->name,
			  Pa_GetErrorText(e));
	info = Pa_GetStreamInfo(stream);
	if ((e = Pa_StartStream(stream)) != paNoError)
		bench_die("Pa_StartStream: %s", Pa_GetErrorText(e));

	usleep((useconds_t)(warmup * 1e6));
	f0 = atomic_load(&r.frames);
	c0 = bench_self_cpu();
	t0 = bench_now();
	atomic_store(&r.record, 1);
	usleep((useconds_t)(seconds * 1e6));
	atomic_store(&r.record, 0);
	f1 = atomic_load(&r.frames);
	c1 = bench_self_cpu();
	t1 = bench_now();
	Pa_AbortStream(stream);

	bench_json_begin();
	bench_json_str("program", "portaudio");
	bench_json_str("device", Pa_GetDeviceInfo(out.device)->name);
	bench_json_int("blocksize", (long long)blocksize);
	bench_json_num("wall", t1 - t0);
	bench_json_num("cpu", c1 - c0);
	bench_json_int("frames", (long long)(f1 - f0));
	bench_json_num("frames_per_cpu_second", (c1 > c0) ? (double)(f1 - f0) / (c1 - c0) : 0);
	bench_json_num("output_latency", info ? info->outputLatency : 0);
	bench_json_int("xrun_callbacks", (long long)atomic_load(&r.xruns));
	if (is_latency) {
		size_t n = atomic_load(&r.lat_count);

		bench_json_int("callbacks", (long long)n);
		bench_json_num("latency_mean", bench_mean(r.lat, n));
		bench_json_num("latency_p50", bench_percentile(r.lat, n, 50));
		bench_json_num("latency_p99", bench_percentile(r.lat, n, 99));
		bench_json_num("latency_min", n ? r.lat[0] : 0);
		bench_json_num("latency_max", n ? r.lat[n - 1] : 0);
	}
	bench_json_end();
	Pa_CloseStream(stream);
	Pa_Terminate();
	free(r.signal);
	free(r.lat);
	return 0;
}
