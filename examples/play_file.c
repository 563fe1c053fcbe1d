/*
 * play_file: plays a sound file through an output stream in callback mode,
 * as sounddevice's play_file.py does with a RawOutputStream.
 *
 * The main thread reads blocks of float32 frames from the file with
 * libsndfile and puts them into a queue; the stream's callback, on
 * libsdc's callback thread, takes one block per call.  A block shorter
 * than the others (or an empty one) marks the end: the callback pads it
 * with silence and returns SDC_COMPLETE, and the stream finishes once it
 * has been played.  The queue is filled before the stream starts and the
 * output is primed from it (prime_output_buffers_using_stream_callback),
 * so no silence is queued ahead of the file.
 *
 * Like the original, an output underflow or an empty queue aborts the
 * playback with a hint.  Ctrl-C stops it ("Interrupted by user", status 1).
 */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sndfile.h>

#include "blockqueue.h"
#include "interrupt.h"
#include "sdc.h"

/* What the main thread and the callback share. */
struct player {
	struct blockqueue queue;
	size_t frame_bytes;
	_Atomic(const char *) error; /* why the callback aborted, or NULL */
	atomic_int finished;
};

/* Reports the last libsdc error, or that Ctrl-C cut the call short; returns the exit status. */
static int failed(void)
{
	if (interrupted)
		fprintf(stderr, "\nInterrupted by user\n");
	else
		fprintf(stderr, "play_file: %s\n", sdc_last_error()->message);
	return 1;
}

/* Callback thread: plays the next block of the queue. */
static int callback(const void *input, void *output, unsigned long frames,
		    const sdc_time_info *time, unsigned status, void *userdata)
{
	struct player *pl = userdata;
	size_t want = frames * pl->frame_bytes, len;
	const unsigned char *block;

	(void)input;
	(void)time;
	if (status & SDC_OUTPUT_UNDERFLOW) {
		atomic_store(&pl->error, "Output underflow: increase blocksize?");
		return SDC_ABORT;
	}
	block = blockqueue_peek(&pl->queue, &len, 0);
	if (!block) {
		/* While priming, the main thread has not refilled the queue yet: silence. */
		if (status & SDC_PRIMING_OUTPUT) {
			memset(output, 0, want);
			return SDC_CONTINUE;
		}
		atomic_store(&pl->error, "Buffer is empty: increase buffersize?");
		return SDC_ABORT;
	}
	memcpy(output, block, len);
	blockqueue_release(&pl->queue);
	if (len < want) {
		memset((unsigned char *)output + len, 0, want - len);
		return SDC_COMPLETE;
	}
	return SDC_CONTINUE;
}

/* Callback thread: the stream has become inactive. */
static void finished(void *userdata)
{
	struct player *pl = userdata;

	atomic_store(&pl->finished, 1);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: play_file [OPTIONS] FILENAME\n"
		   "Play a sound file through sddaemon (an output stream with a callback).\n\n"
		   "  -d, --device DEVICE      output device (numeric ID or substrings)\n"
		   "  -b, --blocksize N        block size in frames (default: 2048)\n"
		   "  -q, --buffersize N       number of blocks used for buffering (default: 20)\n"
		   "  -l, --latency SECONDS    output latency (default: the device's high latency)\n"
		   "  -x, --exclusive          a dedicated device stream (bit-exact)\n"
		   "  -t, --duration SECONDS   play at most this much of the file\n"
		   "  -h, --help               show this help\n");
}

/* Reads up to frames frames (no more than *left when limited) into a new block; returns them. */
static sf_count_t read_block(SNDFILE *sf, unsigned char *block, sf_count_t frames, long long *left)
{
	sf_count_t n;

	if (*left >= 0 && frames > *left)
		frames = (sf_count_t)*left;
	n = frames > 0 ? sf_readf_float(sf, (float *)(void *)block, frames) : 0;
	if (n < 0)
		n = 0;
	if (*left >= 0)
		*left -= n;
	return n;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "blocksize", required_argument, NULL, 'b' },
		{ "buffersize", required_argument, NULL, 'q' },
		{ "latency", required_argument, NULL, 'l' },
		{ "exclusive", no_argument, NULL, 'x' },
		{ "duration", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *device = NULL;
	int blocksize = 2048, buffersize = 20, exclusive = 0, opt, status = 0, ended = 0;
	double latency = 0, duration = -1;
	long long left = -1;
	struct player pl = { 0 };
	sdc_stream_params p = { 0 };
	SF_INFO info = { 0 };
	sdc_client *client;
	sdc_stream *stream;
	SNDFILE *sf;

	while ((opt = getopt_long(argc, argv, "d:b:q:l:xt:h", options, NULL)) != -1) {
		switch (opt) {
		case 'd':
			device = optarg;
			break;
		case 'b':
			blocksize = atoi(optarg);
			break;
		case 'q':
			buffersize = atoi(optarg);
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
	if (optind != argc - 1 || blocksize < 1 || blocksize > 65536 || buffersize < 1 ||
	    latency < 0 || (duration < 0 && duration != -1)) {
		usage(stderr);
		return 2;
	}

	sf = sf_open(argv[optind], SFM_READ, &info);
	if (!sf) {
		fprintf(stderr, "play_file: %s: %s\n", argv[optind], sf_strerror(NULL));
		return 1;
	}
	if (duration >= 0)
		left = (long long)(duration * info.samplerate + 0.5);
	pl.frame_bytes = sizeof(float) * (size_t)info.channels;
	if (blockqueue_init(&pl.queue, (unsigned)buffersize, (size_t)blocksize * pl.frame_bytes) < 0) {
		fprintf(stderr, "play_file: out of memory\n");
		sf_close(sf);
		return 1;
	}
	catch_interrupts();
	if (sdc_connect(NULL, &client) < 0) {
		status = failed();
		blockqueue_destroy(&pl.queue);
		sf_close(sf);
		return status;
	}

	/* Pre-fill the queue; a short block is the last. */
	for (int i = 0; i < buffersize && !ended; i++) {
		unsigned char *block = blockqueue_reserve(&pl.queue, 0);
		sf_count_t n = read_block(sf, block, blocksize, &left);

		blockqueue_commit(&pl.queue, (size_t)n * pl.frame_bytes);
		ended = n < blocksize;
	}

	p.kind = SDC_STREAM_OUTPUT;
	p.samplerate = info.samplerate;
	p.blocksize = blocksize;
	p.device[1] = sdc_device_parse(device);
	p.channels[1] = info.channels;
	p.dtype[1] = SDC_FLOAT32;
	p.latency[1] = latency;
	p.callback = callback;
	p.finished_callback = finished;
	p.userdata = &pl;
	p.prime_output_buffers_using_stream_callback = SDC_YES;
	p.exclusive = exclusive ? SDC_YES : 0;
	stream = NULL;
	if (sdc_stream_open(client, &p, &stream) < 0 || sdc_stream_start(stream) < 0) {
		status = failed();
		sdc_stream_close(stream);
		sdc_close(client);
		blockqueue_destroy(&pl.queue);
		sf_close(sf);
		return status;
	}

	/* Feed the queue until the end of the file (the last block is short or empty). */
	while (!ended && !interrupted && !atomic_load(&pl.finished)) {
		unsigned char *block = blockqueue_reserve(&pl.queue, 100);
		sf_count_t n;

		if (!block)
			continue;
		n = read_block(sf, block, blocksize, &left);
		blockqueue_commit(&pl.queue, (size_t)n * pl.frame_bytes);
		ended = n < blocksize;
	}
	/* Wait until playback is finished. */
	while (!interrupted && !atomic_load(&pl.finished)) {
		struct timespec ts = { 0, 20 * 1000000L };

		nanosleep(&ts, NULL);
	}
	if (interrupted) {
		sdc_stream_abort(stream);
		fprintf(stderr, "\nInterrupted by user\n");
		status = 1;
	} else {
		sdc_stream_stop(stream);
	}
	if (atomic_load(&pl.error)) {
		fprintf(stderr, "play_file: %s\n", atomic_load(&pl.error));
		status = 1;
	}
	sdc_stream_close(stream);
	sdc_close(client);
	blockqueue_destroy(&pl.queue);
	sf_close(sf);
	return status;
}
