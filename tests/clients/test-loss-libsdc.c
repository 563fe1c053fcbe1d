/*
 * libsdc on a device that is lost, in TAP: a callback stream, a blocking
 * writer, a blocking reader and a play run on JACK's "system" device; the
 * wrapper (tests/integration/test_device_loss_jack.py) kills jackd when
 * this program says "# ready" and tells it so with a line on stdin.  Then
 * the finished callback runs with the reason as its thread's last error,
 * the blocking write and read return -ENODEV (device_lost), and sdc_wait()
 * reports the play as failed with device_lost.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sdc.h"
#include "tap.h"

#define RATE 48000
#define JACK_DEVICE "system jack"

static _Atomic int finished_calls;
static int finished_errnum;
static char finished_code[32];

static int on_block(const void *input, void *output, unsigned long frames,
		    const sdc_time_info *time, unsigned status, void *userdata)
{
	memset(output, 0, frames * 2 * sizeof(float));
	return SDC_CONTINUE;
}

/* The finished callback: what sdc_last_error() says on its thread. */
static void on_finished(void *userdata)
{
	finished_errnum = sdc_last_error()->errnum;
	snprintf(finished_code, sizeof(finished_code), "%s", sdc_last_error()->code);
	atomic_fetch_add(&finished_calls, 1);
}

/* What a blocking call returned in the end, and the error it left. */
struct blocking {
	sdc_stream *s;
	long long result;
	char code[32];
	_Atomic int done;
};

static void *writer(void *arg)
{
	struct blocking *b = arg;
	static float block[1024 * 2];
	long long r;

	while ((r = sdc_stream_write(b->s, block, 1024)) == 1024)
		;
	b->result = r;
	snprintf(b->code, sizeof(b->code), "%s", sdc_last_error()->code);
	atomic_store(&b->done, 1);
	return NULL;
}

static void *reader(void *arg)
{
	struct blocking *b = arg;
	static float block[1024 * 2];
	long long r;

	while ((r = sdc_stream_read(b->s, block, 1024)) > 0)
		;
	b->result = r;
	snprintf(b->code, sizeof(b->code), "%s", sdc_last_error()->code);
	atomic_store(&b->done, 1);
	return NULL;
}

/* Waits up to seconds for *flag; returns whether it was set. */
static int wait_flag(_Atomic int *flag, double seconds)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (double waited = 0; waited < seconds; waited += 0.01) {
		if (atomic_load(flag))
			return 1;
		nanosleep(&ts, NULL);
	}
	return atomic_load(flag) != 0;
}

static sdc_stream *open_stream(sdc_client *c, sdc_stream_kind kind, sdc_stream_callback cb)
{
	sdc_stream_params p = {
		.kind = kind,
		.device = { SDC_DEVICE_QUERY(JACK_DEVICE), SDC_DEVICE_QUERY(JACK_DEVICE) },
		.channels = { 2, 2 },
		.dtype = { SDC_FLOAT32, SDC_FLOAT32 },
		.callback = cb,
		.finished_callback = cb ? on_finished : NULL,
	};
	sdc_stream *s = NULL;

	if (sdc_stream_open(c, &p, &s) < 0 || sdc_stream_start(s) < 0) {
		printf("# cannot open a stream: %s\n", sdc_last_error()->message);
		sdc_stream_close(s);
		return NULL;
	}
	return s;
}

int main(void)
{
	struct blocking w = { 0 }, r = { 0 };
	pthread_t wt, rt;
	sdc_client *c = NULL;
	sdc_stream *cb;
	sdc_status st;
	unsigned handle = 0;
	float *tone;
	char line[64];
	int played;
	sdc_play_params pp = { .channels = 2, .dtype = SDC_FLOAT32,
			       .opt = { .output_device = SDC_DEVICE_QUERY(JACK_DEVICE) } };

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sdc_connect(NULL, &c) < 0) {
		printf("Bail out! cannot connect: %s\n", sdc_last_error()->message);
		return 1;
	}
	cb = open_stream(c, SDC_STREAM_OUTPUT, on_block);
	w.s = open_stream(c, SDC_STREAM_OUTPUT, NULL);
	r.s = open_stream(c, SDC_STREAM_INPUT, NULL);
	tone = calloc((size_t)RATE * 10 * 2, sizeof(float));
	played = tone ? sdc_play(c, tone, (size_t)RATE * 10, &pp, &handle) : -ENOMEM;
	CHECK(cb && w.s && r.s && played == 0, "a callback stream, a blocking writer, a blocking "
					       "reader and a play run on JACK");
	if (!cb || !w.s || !r.s || played < 0)
		return tap_done();
	pthread_create(&wt, NULL, writer, &w);
	pthread_create(&rt, NULL, reader, &r);
	printf("# ready\n");
	/* The wrapper kills jackd now, and says so. */
	if (!fgets(line, sizeof(line), stdin))
		printf("# no word from the wrapper\n");
	CHECK(wait_flag(&finished_calls, 10) && finished_errnum == -ENODEV &&
		      strcmp(finished_code, "device_lost") == 0,
	      "the callback stream's finished callback runs with device_lost as the last error "
	      "(%d, '%s')", finished_errnum, finished_code);
	CHECK(wait_flag(&w.done, 10) && w.result == -ENODEV && strcmp(w.code, "device_lost") == 0,
	      "the blocking write returns -ENODEV, device_lost (%lld, '%s')", w.result, w.code);
	CHECK(wait_flag(&r.done, 10) && r.result == -ENODEV && strcmp(r.code, "device_lost") == 0,
	      "the blocking read returns -ENODEV, device_lost (%lld, '%s')", r.result, r.code);
	CHECK(sdc_wait(c, handle, &st) == 0 && st.state == SDC_STATE_FAILED &&
		      strcmp(st.error_code, "device_lost") == 0,
	      "sdc_wait() reports the play failed with device_lost: %s", st.error);
	CHECK(sdc_stream_status(cb, &st) == 0 && st.state == SDC_STATE_FAILED &&
		      !sdc_stream_active(cb),
	      "the callback stream is failed and inactive");
	pthread_join(wt, NULL);
	pthread_join(rt, NULL);
	sdc_stream_close(cb);
	sdc_stream_close(w.s);
	sdc_stream_close(r.s);
	sdc_close(c);
	free(tone);
	return tap_done();
}
