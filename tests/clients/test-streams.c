/*
 * libsdc's stream API against sddaemon on the virtual ALSA devices, in
 * TAP: callback streams see exact block sizes and the input unchanged,
 * what they write reaches the playback tap unchanged, complete and abort
 * behave as sounddevice's CallbackStop and CallbackAbort, the finished
 * callback runs once, and blocking read/write round-trips.  The socket is
 * $SDDAEMON_SOCKET; $SDD_TEST_INPUT is t_in's source, $SDD_TEST_TAP t_out's
 * tap file.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdc.h"
#include "tap.h"

static unsigned char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = path ? fopen(path, "rb") : NULL;
	unsigned char *buf = NULL;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*ret_len = buf ? (size_t)len : 0;
	return buf;
}

/* Returns the offset of needle in hay, or -1. */
static long find(const unsigned char *hay, size_t hlen, const unsigned char *needle, size_t nlen)
{
	if (nlen == 0 || nlen > hlen)
		return -1;
	for (size_t i = 0; i + nlen <= hlen; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0)
			return (long)i;
	return -1;
}

struct capture {
	unsigned char *data;
	size_t frames, max_frames, frame_bytes;
	int calls, bad_blocksize;
	atomic_int finished; /* counted by the callback thread, polled by the test */
	unsigned long blocksize;
	int stop_after; /* calls before returning SDC_COMPLETE (0: never) */
	int abort_after;
	double last_adc;
	int time_monotonic;
};

static int capture_cb(const void *in, void *out, unsigned long frames, const sdc_time_info *t,
		      unsigned status, void *userdata)
{
	struct capture *c = userdata;
	size_t n = frames;

	(void)out;
	(void)status;
	c->calls++;
	if (c->blocksize && frames != c->blocksize)
		c->bad_blocksize++;
	if (c->calls > 1 && t->input_buffer_adc_time <= c->last_adc)
		c->time_monotonic = 0;
	c->last_adc = t->input_buffer_adc_time;
	if (c->frames + n > c->max_frames)
		n = c->max_frames - c->frames;
	memcpy(c->data + c->frames * c->frame_bytes, in, n * c->frame_bytes);
	c->frames += n;
	if (c->abort_after && c->calls >= c->abort_after)
		return SDC_ABORT;
	if (c->frames >= c->max_frames || (c->stop_after && c->calls >= c->stop_after))
		return SDC_COMPLETE;
	return SDC_CONTINUE;
}

static void on_finished(void *userdata)
{
	struct capture *c = userdata;

	atomic_fetch_add(&c->finished, 1);
}

/* Input callback stream: the input reaches the callback unchanged, in exact blocks. */
static void test_input_callback(sdc_client *client)
{
	size_t in_len;
	unsigned char *input = slurp(getenv("SDD_TEST_INPUT"), &in_len);
	struct capture c = { .max_frames = 9600, .frame_bytes = 4, .blocksize = 480,
			     .time_monotonic = 1 };
	sdc_stream_params p = {
		.kind = SDC_STREAM_INPUT,
		.samplerate = 48000,
		.blocksize = 480,
		.device = { SDC_DEVICE_QUERY("t_in") },
		.channels = { 2 },
		.dtype = { SDC_INT16 },
		.callback = capture_cb,
		.finished_callback = on_finished,
		.userdata = &c,
		.exclusive = SDC_YES,
	};
	sdc_stream *s;

	c.data = calloc(c.max_frames, c.frame_bytes);
	CHECK(sdc_stream_open(client, &p, &s) == 0, "open an input callback stream: %s",
	      sdc_last_error()->message);
	CHECK(sdc_stream_stopped(s) && !sdc_stream_active(s), "a new stream is stopped");
	CHECK(sdc_stream_start(s) == 0, "start");
	tap_wait_flag(&c.finished, 5.0);
	CHECK(atomic_load(&c.finished) == 1, "SDC_COMPLETE ends it and the finished callback ran once");
	CHECK(c.frames == c.max_frames && c.calls == 20 && c.bad_blocksize == 0,
	      "%d callbacks of exactly 480 frames (%zu frames)", c.calls, c.frames);
	CHECK(input && memcmp(c.data, input, c.max_frames * c.frame_bytes) == 0,
	      "the callback saw the input file unchanged");
	CHECK(sdc_stream_stop(s) == 0 && sdc_stream_stopped(s), "stop after completion");
	CHECK(atomic_load(&c.finished) == 1, "still exactly one finished callback");
	sdc_stream_close(s);
	free(c.data);
	free(input);
}

/* An abort from the callback ends the stream at once. */
static void test_abort_from_callback(sdc_client *client)
{
	struct capture c = { .max_frames = 48000, .frame_bytes = 8, .abort_after = 3 };
	sdc_stream_params p = {
		.kind = SDC_STREAM_INPUT,
		.device = { SDC_DEVICE_QUERY("t_in") },
		.channels = { 2 },
		.callback = capture_cb,
		.finished_callback = on_finished,
		.userdata = &c,
		.blocksize = 256,
	};
	sdc_stream *s;
	sdc_status st;

	c.data = calloc(c.max_frames, c.frame_bytes);
	CHECK(sdc_stream_open(client, &p, &s) == 0 && sdc_stream_start(s) == 0,
	      "a shared input callback stream starts");
	tap_wait_flag(&c.finished, 5.0);
	CHECK(c.calls == 3 && atomic_load(&c.finished) == 1, "SDC_ABORT stops callbacks (%d calls)", c.calls);
	CHECK(sdc_stream_status(s, &st) == 0 && st.state == SDC_STATE_FINISHED, "finished");
	CHECK(!sdc_stream_active(s), "no longer active");
	sdc_stream_close(s);
	free(c.data);
}

struct producer {
	int16_t *data;
	size_t frames, pos;
	int calls;
	atomic_int finished; /* counted by the callback thread, polled by the test */
};

static int produce_cb(const void *in, void *out, unsigned long frames, const sdc_time_info *t,
		      unsigned status, void *userdata)
{
	struct producer *p = userdata;
	size_t n = frames;

	(void)in;
	(void)t;
	p->calls++;
	if (p->pos + n > p->frames)
		n = p->frames - p->pos;
	memcpy(out, p->data + p->pos * 2, n * 4);
	p->pos += n;
	return p->pos >= p->frames ? SDC_COMPLETE : SDC_CONTINUE;
}

static void produce_finished(void *userdata)
{
	atomic_fetch_add(&((struct producer *)userdata)->finished, 1);
}

/* Output callback stream: what the callback writes reaches the tap unchanged. */
static void test_output_callback(sdc_client *client)
{
	struct producer pr = { .frames = 24000 };
	/*
	 * t_out is not paced: it would drain a short queue faster than any callback
	 * refills it.  With a latency of twice the sound (the ring keeps at least
	 * half the latency) and priming by the callback, the whole sound is
	 * queued before the device starts.
	 */
	sdc_stream_params p = {
		.kind = SDC_STREAM_OUTPUT,
		.samplerate = 48000,
		.blocksize = 512,
		.device = { SDC_DEVICE_DEFAULT, SDC_DEVICE_QUERY("t_out") },
		.channels = { 0, 2 },
		.dtype = { 0, SDC_INT16 },
		.latency = { 0, 2.0 },
		.callback = produce_cb,
		.finished_callback = produce_finished,
		.userdata = &pr,
		.exclusive = SDC_YES,
		.prime_output_buffers_using_stream_callback = SDC_YES,
	};
	unsigned char *tap;
	size_t tap_len;
	sdc_stream *s;
	bool active;

	pr.data = malloc(pr.frames * 4);
	for (size_t i = 0; i < pr.frames * 2; i++)
		pr.data[i] = (int16_t)(i * 2654435761u >> 16);
	CHECK(sdc_stream_open(client, &p, &s) == 0, "open an output callback stream");
	CHECK(sdc_stream_blocksize(s) == 512 && sdc_stream_samplesize(s, SDC_KIND_OUTPUT) == 2 &&
		      sdc_stream_channels(s, SDC_KIND_OUTPUT) == 2 && sdc_stream_samplerate(s) == 48000,
	      "properties: blocksize, samplesize, channels, samplerate");
	CHECK(sdc_stream_latency(s, SDC_KIND_OUTPUT) > 0, "an output latency is reported");
	CHECK(sdc_stream_start(s) == 0, "start");
	/*
	 * t_out drains the queued sound at once: it may be over already, and its
	 * finished callback still to come (streams-jack checks "active" on a
	 * paced device).
	 */
	active = sdc_stream_active(s);
	tap_wait_flag(&pr.finished, 5.0);
	CHECK(active || atomic_load(&pr.finished) == 1,
	      "active while running, unless already finished");
	CHECK(atomic_load(&pr.finished) == 1 && pr.pos == pr.frames, "complete after the last block, finished once (calls %d, pos %zu, finished %d)", pr.calls, pr.pos, atomic_load(&pr.finished));
	sdc_stream_stop(s);
	sdc_stream_close(s);
	tap = slurp(getenv("SDD_TEST_TAP"), &tap_len);
	CHECK(tap && find(tap, tap_len, (unsigned char *)pr.data, pr.frames * 4) >= 0,
	      "the tap holds every frame the callback wrote, unchanged");
	free(tap);
	free(pr.data);
}

/* Blocking mode: read returns the input; write queues; restart after stop works. */
static void test_blocking(sdc_client *client)
{
	size_t in_len;
	unsigned char *input = slurp(getenv("SDD_TEST_INPUT"), &in_len);
	sdc_stream_params p = {
		.kind = SDC_STREAM_INPUT,
		.device = { SDC_DEVICE_QUERY("t_in") },
		.channels = { 2 },
		.dtype = { SDC_INT32 },
		.exclusive = SDC_YES,
		.samplerate = 48000,
	};
	int32_t buf[2 * 4000];
	int overflowed = -1;
	sdc_stream *s;

	CHECK(sdc_stream_open(client, &p, &s) == 0 && sdc_stream_start(s) == 0,
	      "a blocking input stream starts");
	/* (The virtual device is not paced: whether it overflowed is tested on JACK.) */
	CHECK(sdc_stream_read_checked(s, buf, 4000, &overflowed) == 4000 && overflowed >= 0,
	      "read(4000) returns 4000 frames and the overflow flag");
	CHECK(input && memcmp(buf, input, sizeof(buf)) == 0, "they are the input file's first frames");
	CHECK(sdc_stream_stop(s) == 0, "stop");
	sdc_stream_close(s);

	{
		sdc_stream_params po = {
			.kind = SDC_STREAM_OUTPUT,
			.device = { SDC_DEVICE_DEFAULT, SDC_DEVICE_QUERY("t_out2") },
			.channels = { 0, 1 },
			.dtype = { 0, SDC_FLOAT32 },
			.samplerate = 48000,
		};
		float tone[1000];
		int underflowed = -1;

		for (int i = 0; i < 1000; i++)
			tone[i] = (float)i / 1000.0f;
		CHECK(sdc_stream_open(client, &po, &s) == 0, "a blocking output stream opens");
		CHECK(sdc_stream_write_available(s) > 0, "write_available before start");
		for (int round = 0; round < 2; round++) {
			long long total = 0;

			CHECK(sdc_stream_start(s) == 0, "start (round %d)", round);
			for (int i = 0; i < 20; i++)
				total += sdc_stream_write_checked(s, tone, 1000, &underflowed);
			CHECK(total == 20000, "write() queued all 20000 frames (round %d)", round);
			CHECK(sdc_stream_stop(s) == 0 && sdc_stream_stopped(s), "stop drains (round %d)", round);
		}
		sdc_stream_close(s);
	}
	free(input);
}

static void test_bad_params(sdc_client *client)
{
	sdc_stream_params p = { .kind = 7 };
	sdc_stream *s;

	CHECK(sdc_stream_open(client, &p, &s) == -EINVAL, "an unknown kind is -EINVAL");
	p.kind = SDC_STREAM_OUTPUT;
	p.device[1] = SDC_DEVICE_QUERY("no such device");
	CHECK(sdc_stream_open(client, &p, &s) == -ENODEV, "a missing device is -ENODEV");
	CHECK(sdc_stream_start(NULL) == -EINVAL && sdc_stream_stop(NULL) == -EINVAL,
	      "NULL streams are -EINVAL");
}

int main(void)
{
	sdc_client *c;

	if (sdc_connect(NULL, &c) < 0) {
		CHECK(0, "connect: %s", sdc_last_error()->message);
		return tap_done();
	}
	test_input_callback(c);
	test_abort_from_callback(c);
	test_output_callback(c);
	test_blocking(c);
	test_bad_params(c);
	sdc_close(c);
	return tap_done();
}
