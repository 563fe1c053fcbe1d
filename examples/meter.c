/*
 * meter: a text-mode level meter: the peak and RMS level of each input
 * channel in dBFS, refreshed every --interval seconds of frames.
 *
 * sounddevice has no such example, but its plot_input.py has the shape:
 * an InputStream whose callback hands data to the main thread, which
 * draws.  Here the callback, on libsdc's callback thread, does the cheap
 * part (peak and sum of squares per channel over a window of frames) and
 * queues one small record per window; the main thread prints it.  On a
 * terminal the line is redrawn in place; otherwise each window is a line
 * of its own, so -t 1 with the default interval prints ten lines:
 *
 *   1: [##########################....]   -6.0 dBFS peak,   -9.0 dBFS RMS  2: [...
 *
 * "CLIP" follows a channel whose samples reached full scale.  Ctrl-C or
 * -t SECONDS ends it.
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blockqueue.h"
#include "interrupt.h"
#include "sdc.h"

#define MAX_CHANNELS 32
#define BAR_WIDTH 30

/* The levels of one window. */
struct levels {
	double peak[MAX_CHANNELS];  /* linear, 0 to 1 (or more for float input) */
	double sumsq[MAX_CHANNELS]; /* sum of squares */
	int clipped[MAX_CHANNELS];
	unsigned long count; /* frames */
};

/* What the main thread and the callback share. */
struct meter {
	struct blockqueue queue; /* of struct levels */
	int channels;
	unsigned long window;	  /* frames per window */
	unsigned long long limit; /* frames to measure; 0: no limit */
	unsigned long long done;  /* frames measured (callback thread only) */
	struct levels now;	  /* the window being measured (callback thread only) */
	atomic_uint flags;
	atomic_int finished;
};

/* Callback thread: hands a finished window to the main thread and starts the next. */
static void meter_flush(struct meter *m)
{
	struct levels *slot = (struct levels *)(void *)blockqueue_reserve(&m->queue, 0);

	/* A full queue means the main thread is stuck: that window is not shown. */
	if (slot) {
		*slot = m->now;
		blockqueue_commit(&m->queue, sizeof(*slot));
	}
	memset(&m->now, 0, sizeof(m->now));
}

/* Callback thread: measures a block of float32 frames. */
static int callback(const void *input, void *output, unsigned long frames,
		    const sdc_time_info *time, unsigned status, void *userdata)
{
	struct meter *m = userdata;
	const float *in = input;

	(void)output;
	(void)time;
	atomic_fetch_or(&m->flags, status);
	for (unsigned long f = 0; f < frames; f++) {
		if (m->limit && m->done >= m->limit)
			break;
		for (int c = 0; c < m->channels; c++) {
			double v = in[f * (unsigned long)m->channels + (unsigned long)c];
			double a = fabs(v);

			if (a > m->now.peak[c])
				m->now.peak[c] = a;
			if (a >= 1.0)
				m->now.clipped[c] = 1;
			m->now.sumsq[c] += v * v;
		}
		m->done++;
		if (++m->now.count == m->window)
			meter_flush(m);
	}
	if (m->limit && m->done >= m->limit) {
		if (m->now.count)
			meter_flush(m);
		return SDC_COMPLETE;
	}
	return SDC_CONTINUE;
}

static void finished(void *userdata)
{
	struct meter *m = userdata;

	atomic_store(&m->finished, 1);
}

/* A level in dBFS, at least -120, rounded to 0.1 dB without a "-0.0". */
static double to_db(double linear)
{
	double db = linear > 1e-6 ? 20 * log10(linear) : -120;

	db = round(db * 10) / 10;
	return db == 0 ? 0 : db;
}

/* Main thread: prints one window. */
static void show(const struct levels *l, int channels, int tty)
{
	if (tty)
		fputc('\r', stdout);
	for (int c = 0; c < channels; c++) {
		double peak = to_db(l->peak[c]);
		double rms = to_db(l->count ? sqrt(l->sumsq[c] / (double)l->count) : 0);
		/* The bar spans -60 dBFS to 0 dBFS. */
		int fill = peak <= -60 ? 0 : (int)((peak + 60) / 60 * BAR_WIDTH + 0.5);
		char bar[BAR_WIDTH + 1];

		for (int i = 0; i < BAR_WIDTH; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[BAR_WIDTH] = '\0';
		printf("%s%d: [%s] %6.1f dBFS peak, %6.1f dBFS RMS%s", c ? "  " : "", c + 1, bar, peak,
		       rms, l->clipped[c] ? " CLIP" : "");
	}
	fputs(tty ? "\033[K" : "\n", stdout);
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: meter [OPTIONS]\n"
		   "Show the peak and RMS levels of an input of sddaemon, per channel.\n\n"
		   "  -d, --device DEVICE      input device (numeric ID or substrings)\n"
		   "  -c, --channels N         number of input channels (default: up to 2)\n"
		   "  -r, --samplerate RATE    sampling rate (default: the device's)\n"
		   "  -b, --blocksize N        block size (default: whatever suits)\n"
		   "  -i, --interval SECONDS   time per refresh (default: 0.1)\n"
		   "  -t, --duration SECONDS   stop after this much\n"
		   "  -h, --help               show this help\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "channels", required_argument, NULL, 'c' },
		{ "samplerate", required_argument, NULL, 'r' },
		{ "blocksize", required_argument, NULL, 'b' },
		{ "interval", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *device = NULL;
	int channels = 0, blocksize = 0, opt, tty = isatty(1);
	double samplerate = 0, interval = 0.1, duration = 0, rate;
	struct meter m = { 0 };
	sdc_stream_params p = { 0 };
	sdc_client *client;
	sdc_stream *stream;
	unsigned flags;

	while ((opt = getopt_long(argc, argv, "d:c:r:b:i:t:h", options, NULL)) != -1) {
		switch (opt) {
		case 'd':
			device = optarg;
			break;
		case 'c':
			channels = atoi(optarg);
			break;
		case 'r':
			samplerate = atof(optarg);
			break;
		case 'b':
			blocksize = atoi(optarg);
			break;
		case 'i':
			interval = atof(optarg);
			break;
		case 't':
			duration = atof(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || channels < 0 || channels > MAX_CHANNELS || blocksize < 0 ||
	    samplerate < 0 || interval <= 0 || duration < 0) {
		usage(stderr);
		return 2;
	}
	catch_interrupts();
	if (sdc_connect(NULL, &client) < 0)
		return report_failure("meter");
	p.device[0] = sdc_device_parse(device);
	if (!channels) {
		sdc_device_info info;

		if (sdc_query_device(client, p.device[0], SDC_KIND_INPUT, &info) < 0) {
			sdc_close(client);
			return report_failure("meter");
		}
		channels = info.max_input_channels < 2 ? info.max_input_channels : 2;
		sdc_device_info_clear(&info);
	}
	p.kind = SDC_STREAM_INPUT;
	p.samplerate = samplerate;
	p.blocksize = blocksize;
	p.channels[0] = channels;
	p.dtype[0] = SDC_FLOAT32;
	p.callback = callback;
	p.finished_callback = finished;
	p.userdata = &m;
	if (sdc_stream_open(client, &p, &stream) < 0) {
		int status = report_failure("meter");

		sdc_close(client);
		return status;
	}
	rate = sdc_stream_samplerate(stream);
	m.channels = channels;
	m.window = (unsigned long)(interval * rate + 0.5);
	if (m.window == 0)
		m.window = 1;
	m.limit = (unsigned long long)(duration * rate + 0.5);
	if (blockqueue_init(&m.queue, 64, sizeof(struct levels)) < 0) {
		fprintf(stderr, "meter: out of memory\n");
		sdc_stream_close(stream);
		sdc_close(client);
		return 1;
	}
	if (sdc_stream_start(stream) < 0) {
		int status = report_failure("meter");

		sdc_stream_close(stream);
		sdc_close(client);
		blockqueue_destroy(&m.queue);
		return status;
	}
	for (;;) {
		/*
		 * The last windows are queued before the stream is over: look at "over"
		 * first.  Ctrl-C ends at once, without showing what is still queued.
		 */
		int over = atomic_load(&m.finished);
		const struct levels *l;
		size_t len;

		if (interrupted)
			break;
		l = (const struct levels *)(const void *)blockqueue_peek(&m.queue, &len, over ? 0 : 100);
		if (l) {
			show(l, channels, tty);
			blockqueue_release(&m.queue);
		} else if (over) {
			break;
		}
	}
	sdc_stream_stop(stream);
	sdc_stream_close(stream);
	sdc_close(client);
	blockqueue_destroy(&m.queue);
	if (tty)
		fputc('\n', stdout);
	flags = atomic_load(&m.flags);
	if (flags) {
		char text[128];

		fprintf(stderr, "meter: %s\n", sdc_flags_text(flags, text, sizeof(text)));
	}
	return 0;
}
