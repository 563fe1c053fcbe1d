/*
 * wire: passes input directly to output, as sounddevice's wire.py (after
 * PortAudio's patest_wire.c) does with a Stream.
 *
 * One duplex stream in callback mode: the callback, on libsdc's callback
 * thread, copies each block of input to the output and collects the
 * callback flags, which are shown at the end.  It runs until Return is
 * pressed (when standard input is a terminal), Ctrl-C, or -t SECONDS of
 * frames have passed.  wire.py's -t (the data type) is --dtype here, since
 * every example takes -t for its duration.  With -x the daemon opens one
 * PortAudio duplex stream in this format, and the copy is bit-exact.
 */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interrupt.h"
#include "sdc.h"

/* What the main thread and the callback share. */
struct wire {
	size_t frame_bytes;
	int silence;		  /* the byte of a silent sample: 0x80 for uint8, else 0 */
	unsigned long long limit; /* frames to pass; 0: no limit */
	unsigned long long done;  /* frames passed (callback thread only) */
	atomic_uint cumulated_status;
	atomic_int finished;
};

/* Callback thread: outdata[:] = indata. */
static int callback(const void *input, void *output, unsigned long frames,
		    const sdc_time_info *time, unsigned status, void *userdata)
{
	struct wire *w = userdata;
	unsigned long long n = frames;

	(void)time;
	atomic_fetch_or(&w->cumulated_status, status);
	if (w->limit && w->done + n > w->limit)
		n = w->limit - w->done;
	memcpy(output, input, (size_t)n * w->frame_bytes);
	memset((unsigned char *)output + n * w->frame_bytes, w->silence,
	       (size_t)(frames - n) * w->frame_bytes);
	w->done += n;
	return w->limit && w->done >= w->limit ? SDC_COMPLETE : SDC_CONTINUE;
}

static void finished(void *userdata)
{
	struct wire *w = userdata;

	atomic_store(&w->finished, 1);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: wire [OPTIONS]\n"
		   "Pass input directly to output, through sddaemon.\n\n"
		   "  -i, --input-device DEVICE   input device (numeric ID or substrings)\n"
		   "  -o, --output-device DEVICE  output device (numeric ID or substrings)\n"
		   "  -c, --channels N            number of channels (default: 2)\n"
		   "      --dtype TYPE            audio data type (float32, int32, int24, int16, int8, uint8)\n"
		   "  -r, --samplerate RATE       sampling rate\n"
		   "  -b, --blocksize N           block size\n"
		   "  -l, --latency SECONDS       latency in seconds\n"
		   "  -x, --exclusive             a dedicated device stream (bit-exact)\n"
		   "  -t, --duration SECONDS      stop after this much\n"
		   "  -h, --help                  show this help\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "input-device", required_argument, NULL, 'i' },
		{ "output-device", required_argument, NULL, 'o' },
		{ "channels", required_argument, NULL, 'c' },
		{ "dtype", required_argument, NULL, 'T' },
		{ "samplerate", required_argument, NULL, 'r' },
		{ "blocksize", required_argument, NULL, 'b' },
		{ "latency", required_argument, NULL, 'l' },
		{ "exclusive", no_argument, NULL, 'x' },
		{ "duration", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *input_device = NULL, *output_device = NULL;
	int channels = 2, blocksize = 0, exclusive = 0, opt, tty = isatty(0);
	double samplerate = 0, latency = 0, duration = 0;
	sdc_dtype dtype = SDC_FLOAT32;
	sdc_stream_params p = { 0 };
	struct wire w = { 0 };
	sdc_client *client;
	sdc_stream *stream;
	unsigned flags;

	while ((opt = getopt_long(argc, argv, "i:o:c:r:b:l:xt:h", options, NULL)) != -1) {
		switch (opt) {
		case 'i':
			input_device = optarg;
			break;
		case 'o':
			output_device = optarg;
			break;
		case 'c':
			channels = atoi(optarg);
			break;
		case 'T':
			dtype = sdc_dtype_from_name(optarg);
			if (dtype == SDC_DTYPE_DEFAULT || dtype == SDC_FLOAT64) {
				fprintf(stderr, "wire: unknown data type '%s'\n", optarg);
				return 2;
			}
			break;
		case 'r':
			samplerate = atof(optarg);
			break;
		case 'b':
			blocksize = atoi(optarg);
			break;
		case 'l':
			latency = atof(optarg);
			break;
		case 'x':
			exclusive = 1;
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
	if (optind != argc || channels < 1 || blocksize < 0 || samplerate < 0 || latency < 0 ||
	    duration < 0) {
		usage(stderr);
		return 2;
	}
	catch_interrupts();
	if (sdc_connect(NULL, &client) < 0)
		return report_failure("wire");
	w.frame_bytes = sdc_dtype_size(dtype) * (size_t)channels;
	w.silence = dtype == SDC_UINT8 ? 0x80 : 0;
	p.kind = SDC_STREAM_DUPLEX;
	p.device[0] = sdc_device_parse(input_device);
	p.device[1] = sdc_device_parse(output_device);
	p.samplerate = samplerate;
	p.blocksize = blocksize;
	p.channels[0] = p.channels[1] = channels;
	p.dtype[0] = p.dtype[1] = dtype;
	p.latency[0] = p.latency[1] = latency;
	p.callback = callback;
	p.finished_callback = finished;
	p.userdata = &w;
	p.exclusive = exclusive ? SDC_YES : 0;
	if (sdc_stream_open(client, &p, &stream) < 0) {
		int status = report_failure("wire");

		sdc_close(client);
		return status;
	}
	w.limit = (unsigned long long)(duration * sdc_stream_samplerate(stream) + 0.5);
	if (sdc_stream_start(stream) < 0) {
		int status = report_failure("wire");

		sdc_stream_close(stream);
		sdc_close(client);
		return status;
	}
	if (tty && !duration)
		printf("################################################################################\n"
		       "press Return to quit\n"
		       "################################################################################\n");
	fflush(stdout);

	while (!interrupted && !atomic_load(&w.finished)) {
		struct pollfd pfd = { .fd = 0, .events = POLLIN };

		/* Return on a terminal ends it, as input() in wire.py; otherwise only wait. */
		if (tty && poll(&pfd, 1, 50) == 1) {
			char line[256];

			/* Any line (or the end of input) ends it. */
			if (!fgets(line, sizeof(line), stdin) || line[0])
				break;
		} else if (!tty) {
			poll(NULL, 0, 50);
		}
	}
	sdc_stream_stop(stream);
	sdc_stream_close(stream);
	sdc_close(client);
	flags = atomic_load(&w.cumulated_status);
	if (flags) {
		char text[128];

		fprintf(stderr, "wire: %s\n", sdc_flags_text(flags, text, sizeof(text)));
	}
	return 0;
}
