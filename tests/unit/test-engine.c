/*
 * The engine (daemon/engine*.c and devstream*.c, realtime halves included) on
 * the fake backend, period by period, with the test playing the client's
 * part through the shared-memory rings: several streams mixed (exact sums,
 * clipping and clip_off), capture fanned out to several recorders,
 * underflows and overflows reported at their positions, a playback of
 * declared length ending on its last frame, a stream released as it ends
 * (a detached playback whose client left), idle device streams closing, a
 * hostile ring index ending only its stream, an exclusive stream copied
 * bit-exactly, and a stalled callback, a stuck one and a lost device
 * reaching the engine's callbacks.  No ALSA, no JACK, no real time.
 */
#include <string.h>

#include "engine-harness.h"
#include "log.h"
#include "ring.h"
#include "routes.h"
#include "sample.h"
#include "stream.h"
#include "tap.h"

static void test_mix(void)
{
	static float a[1024 * 2], b[1024 * 2], c[1024 * 2], want[1024 * 2];
	struct spec sp = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .frames = 1024 };
	struct stream *s[3];
	struct fake_stream *fs;
	const float *tap;
	size_t n;
	bool exact = true, silent = true, all_finished = true;

	setup();
	for (int i = 0; i < 1024; i++) {
		a[2 * i] = (float)(i % 64) / 256.0f;
		a[2 * i + 1] = -a[2 * i];
		b[2 * i] = b[2 * i + 1] = 0.125f;
		c[2 * i] = -(float)(i % 8) / 64.0f;
		c[2 * i + 1] = (float)(i % 16) / 32.0f;
	}
	for (int i = 0; i < 2048; i++)
		want[i] = a[i] + b[i] + c[i];
	for (int i = 0; i < 3; i++) {
		s[i] = start_ok(&sp);
		put(s[i], i == 0 ? a : i == 1 ? b : c, 1024);
	}
	fs = fake_stream_on(T.fb, DEV_OUT, true);
	CHECK(fs && fake_opened(T.fb) == 1, "three streams share one device stream");
	fake_run(fs, 5);
	pump();
	tap = tap_from(fs, 0, &n);
	CHECK(n == 5 * PERIOD, "five periods played (%zu frames)", n);
	for (int i = 0; i < 2048; i++)
		exact = exact && tap[i] == want[i];
	for (size_t i = 2048; i < 2 * n; i++)
		silent = silent && tap[i] == 0.0f;
	CHECK(exact, "the mix is the exact sum of the three streams");
	CHECK(silent, "silence after their last frames");
	for (int i = 0; i < 3; i++) {
		const struct finished *f = finished_of(s[i]->handle);

		all_finished = all_finished && f && f->state == SHM_STATE_FINISHED;
		engine_stream_release(&T.e, s[i]);
	}
	CHECK(all_finished && T.nxruns == 0, "each reported finished, without an xrun");
	pump();
	CHECK(fake_closed(T.fb) == 1 && engine_devstream_count(&T.e) == 0,
	      "the idle device stream closed (idle time 0)");
	teardown();
}

/* Plays nstreams constant streams of v (channel 1: -v) on a fresh device stream; returns its first frame. */
static void play_constant(int nstreams, float v, bool clip_off, float *ret_left, float *ret_right)
{
	static float data[1024 * 2];
	struct spec sp = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .frames = 1024,
			   .clip_off = clip_off };
	struct stream *s[4];
	struct fake_stream *fs;
	const float *tap;
	size_t n;

	for (int i = 0; i < 1024; i++) {
		data[2 * i] = v;
		data[2 * i + 1] = -v;
	}
	setup();
	for (int i = 0; i < nstreams; i++) {
		s[i] = start_ok(&sp);
		put(s[i], data, 1024);
	}
	fs = fake_stream_on(T.fb, DEV_OUT, true);
	fake_run(fs, 1);
	tap = tap_from(fs, 0, &n);
	*ret_left = n ? tap[0] : 99;
	*ret_right = n ? tap[1] : 99;
	for (int i = 0; i < nstreams; i++)
		engine_stream_release(&T.e, s[i]);
	teardown();
}

static void test_clipping(void)
{
	float l, r;

	play_constant(2, 0.75f, false, &l, &r);
	CHECK(l == 1.0f && r == -1.0f, "two streams of ±0.75 clip to ±1 (%g, %g)", l, r);
	play_constant(2, 0.75f, true, &l, &r);
	CHECK(l == 1.5f && r == -1.5f, "with clip_off on both they sum to ±1.5 (%g, %g)", l, r);
	play_constant(1, 1.5f, false, &l, &r);
	CHECK(l == 1.0f && r == -1.0f, "one stream of ±1.5 is clipped as it is written (%g, %g)", l, r);
	play_constant(1, 1.5f, true, &l, &r);
	CHECK(l == 1.5f && r == -1.5f, "one stream with clip_off passes ±1.5 (%g, %g)", l, r);
}

static void test_capture_fan_out(void)
{
	static float capture[2048 * 2], got[1024 * 2];
	static int16_t got16[1024 * 2], want16[1024 * 2];
	static const int swap[] = { 2, 1 };
	struct spec plain = { STREAM_REC, DEV_IN, 2, SAMPLE_FLOAT32, .frames = 1024 };
	struct spec swapped = { STREAM_REC, DEV_IN, 2, SAMPLE_FLOAT32, swap, 2, .frames = 1024 };
	struct spec ints = { STREAM_REC, DEV_IN, 2, SAMPLE_INT16, .frames = 1024 };
	struct stream *s[3];
	bool same = true, swapped_ok = true;

	setup();
	for (int i = 0; i < 2048 * 2; i++)
		capture[i] = (float)(i + 1) / 8192.0f;
	fake_set_capture(T.fb, DEV_IN, capture, 2048, 2);
	s[0] = start_ok(&plain);
	s[1] = start_ok(&swapped);
	s[2] = start_ok(&ints);
	CHECK(fake_opened(T.fb) == 1, "three recorders share one device stream");
	fake_run(fake_stream_on(T.fb, DEV_IN, false), 4);
	pump();
	CHECK(take(s[0], got, 1024) == 1024 && memcmp(got, capture, sizeof(got)) == 0,
	      "the first recorder has the first 1024 captured frames exactly");
	CHECK(take(s[1], got, 1024) == 1024, "the second has 1024 frames");
	for (int i = 0; i < 1024; i++)
		swapped_ok = swapped_ok && got[2 * i] == capture[2 * i + 1] &&
			     got[2 * i + 1] == capture[2 * i];
	CHECK(swapped_ok, "mapping [2, 1] swaps the channels");
	sample_from_float(SAMPLE_INT16, capture, 1, (unsigned char *)want16, 2, 2048);
	CHECK(take(s[2], got16, 1024) == 1024 && memcmp(got16, want16, sizeof(got16)) == 0,
	      "the int16 recorder has the same frames, converted");
	for (int i = 0; i < 3; i++) {
		const struct finished *f = finished_of(s[i]->handle);

		same = same && f && f->state == SHM_STATE_FINISHED &&
		       atomic_load(&s[i]->hdr->frames_in) == 1024;
		engine_stream_release(&T.e, s[i]);
	}
	CHECK(same, "each recorded 1024 frames and finished");
	teardown();
}

static void test_underflow_positions(void)
{
	static float data[1024 * 2];
	struct spec sp = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .buffer_frames = 1024 };
	struct stream *s;
	struct fake_stream *fs;

	setup();
	s = start_ok(&sp);
	put(s, data, 1024); /* a full ring starts it */
	fs = fake_stream_on(T.fb, DEV_OUT, true);
	fake_inject(fs, 2, SHM_OUTPUT_UNDERFLOW); /* the device underflows in period 2 */
	fake_run(fs, 5);			  /* the ring runs dry in period 4 */
	put(s, data, 512);
	fake_run(fs, 3); /* and again in period 7 */
	pump();
	CHECK(T.nxruns == 3, "three xruns reported (%d)", T.nxruns);
	CHECK(T.xruns[0].position == 512 && T.xruns[1].position == 1024 &&
		      T.xruns[2].position == 1536,
	      "at frames 512 (the device's), 1024 and 1536 (the ring ran dry)");
	CHECK(!T.xruns[0].input && T.xruns[0].flags == SHM_OUTPUT_UNDERFLOW &&
		      T.xruns[1].flags == SHM_OUTPUT_UNDERFLOW,
	      "as output underflows");
	CHECK(atomic_load(&s->hdr->silence_out) == 2 * PERIOD &&
		      atomic_load(&s->hdr->xrun_count) == 3,
	      "two periods of silence played, three xruns counted");
	engine_stream_release(&T.e, s);
	teardown();
}

static void test_overflow_positions(void)
{
	static float buf[1024 * 2];
	struct spec sp = { STREAM_REC, DEV_IN, 2, SAMPLE_FLOAT32, .buffer_frames = 1024 };
	struct stream *s;
	struct fake_stream *fs;

	setup();
	s = start_ok(&sp);
	fs = fake_stream_on(T.fb, DEV_IN, false);
	fake_run(fs, 5); /* the ring is full after 4 periods: period 4 is dropped */
	CHECK(take(s, buf, 512) == 512, "the client reads 512 frames");
	fake_run(fs, 3); /* full again after 2: period 7 is dropped */
	pump();
	CHECK(T.nxruns == 2 && T.xruns[0].input && T.xruns[0].flags == SHM_INPUT_OVERFLOW,
	      "two input overflows reported (%d)", T.nxruns);
	CHECK(T.xruns[0].position == 1024 && T.xruns[1].position == 1792,
	      "at frames 1024 and 1792 (%llu, %llu)", (unsigned long long)T.xruns[0].position,
	      (unsigned long long)T.xruns[1].position);
	CHECK(atomic_load(&s->hdr->dropped_in) == 2 * PERIOD &&
		      atomic_load(&s->hdr->frames_in) == 6 * PERIOD,
	      "two periods dropped, six recorded");
	engine_stream_release(&T.e, s);
	teardown();
}

static void test_declared_length(void)
{
	static float data[1024 * 2];
	struct spec sp = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .frames = 1000 };
	struct fake_stream *fs;
	const struct finished *f;
	const float *tap;
	struct stream *s;
	size_t n;
	bool exact = true;

	setup();
	for (int i = 0; i < 2048; i++)
		data[i] = (float)(i + 1) / 4096.0f;
	s = start_ok(&sp);
	put(s, data, 1024); /* 24 frames more than declared, and no end mark */
	fs = fake_stream_on(T.fb, DEV_OUT, true);
	fake_run(fs, 4); /* the last frame is in period 3 */
	pump();
	f = finished_of(s->handle);
	CHECK(f && f->state == SHM_STATE_FINISHED, "finished after the period of its last frame");
	tap = tap_from(fs, 0, &n);
	for (int i = 0; i < 2 * 1024; i++)
		exact = exact && tap[i] == (i < 2000 ? data[i] : 0.0f);
	CHECK(n == 4 * PERIOD && exact, "its 1000 frames played exactly, the rest silent");
	CHECK(atomic_load(&s->hdr->frames_out) == 1000 && atomic_load(&s->hdr->silence_out) == 0 &&
		      T.nxruns == 0,
	      "1000 frames counted, no underflow");
	engine_stream_release(&T.e, s);
	teardown();
}

static void test_released_as_it_ends(void)
{
	static float data[2048 * 2];
	struct spec short_one = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .frames = 512 };
	struct spec long_one = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .frames = 2048 };
	struct stream *a, *b;
	struct fake_stream *fs;
	uint32_t handle;

	setup();
	a = start_ok(&short_one);
	b = start_ok(&long_one);
	put(a, data, 512);
	put(b, data, 2048);
	handle = a->handle;
	/* Its owner has gone (a detached playback whose client left): it is let go as it ends. */
	T.release_on_finish = handle;
	fs = fake_stream_on(T.fb, DEV_OUT, true);
	fake_run(fs, 3);
	pump();
	CHECK(finished_of(handle) && !engine_stream_find(&T.e, handle),
	      "the stream was reported, released and is gone");
	CHECK(atomic_load(&b->state) == SHM_STATE_RUNNING && fake_closed(T.fb) == 0,
	      "the other stream plays on, on the same device stream");
	fake_run(fs, 6);
	pump();
	CHECK(finished_of(b->handle) && atomic_load(&b->hdr->frames_out) == 2048,
	      "and finishes whole");
	engine_stream_release(&T.e, b);
	teardown();
}

static void test_idle_close(void)
{
	static float data[512 * 2];
	struct spec sp = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .frames = 512 };
	struct stream *s;

	setup();
	T.idle_time = 10;
	s = start_ok(&sp);
	put(s, data, 512);
	fake_run(fake_stream_on(T.fb, DEV_OUT, true), 3);
	pump();
	engine_stream_release(&T.e, s);
	pump();
	CHECK(engine_devstream_count(&T.e) == 1 && fake_closed(T.fb) == 0,
	      "an unused device stream stays open for its idle time");
	s = start_ok(&sp);
	CHECK(s && fake_opened(T.fb) == 1, "a new stream takes it over");
	T.idle_time = 0;
	put(s, data, 512);
	fake_run(fake_stream_on(T.fb, DEV_OUT, true), 3);
	pump();
	CHECK(engine_devstream_count(&T.e) == 0 && fake_closed(T.fb) == 1,
	      "with an idle time of 0 it closes once the stream has finished");
	engine_stream_release(&T.e, s);
	teardown();
}

static void test_hostile_index(void)
{
	static float loud[1024 * 2], ramp[1024 * 2];
	struct spec open_ended = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .buffer_frames = 1024 };
	struct spec declared = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .frames = 1024 };
	struct stream *bad, *good;
	struct fake_stream *fs;
	const struct finished *f;
	const float *tap;
	size_t n;
	bool exact = true;

	setup();
	for (int i = 0; i < 2048; i++) {
		loud[i] = 0.5f;
		ramp[i] = (float)i / 4096.0f;
	}
	bad = start_ok(&open_ended);
	good = start_ok(&declared);
	put(bad, loud, 1024);
	put(good, ramp, 1024);
	fs = fake_stream_on(T.fb, DEV_OUT, true);
	fake_run(fs, 1);
	/* The hostile client moves its write index three capacities ahead of the daemon's. */
	ring_produced(bad->out.ctl, atomic_load(&bad->out.ctl->write_index) + 3 * 1024);
	fake_run(fs, 3);
	pump();
	f = finished_of(bad->handle);
	CHECK(f && f->state == SHM_STATE_FAILED && strcmp(f->code, "protocol_violation") == 0,
	      "the hostile stream failed with protocol_violation");
	tap = tap_from(fs, PERIOD, &n);
	for (int i = 0; i < 2 * 3 * PERIOD; i++)
		exact = exact && tap[i] == ramp[2 * PERIOD + i];
	CHECK(n == 3 * PERIOD && exact, "from the next period on, the other stream alone, exactly");
	fake_run(fs, 2);
	pump();
	f = finished_of(good->handle);
	CHECK(f && f->state == SHM_STATE_FINISHED && atomic_load(&good->hdr->frames_out) == 1024,
	      "the other stream finished whole");
	engine_stream_release(&T.e, bad);
	engine_stream_release(&T.e, good);
	teardown();
}

static void test_exclusive_bit_exact(void)
{
	static int16_t data[1000 * 2];
	struct spec sp = { STREAM_PLAY, DEV_BOTH, 2, SAMPLE_INT16, .frames = 1000, .exclusive = true };
	struct fake_stream *fs;
	const struct finished *f;
	const int16_t *tap;
	struct stream *s;
	size_t n;
	bool silent = true;

	setup();
	for (int i = 0; i < 2000; i++)
		data[i] = (int16_t)(i * 37 - 32768);
	s = start_ok(&sp);
	fs = fake_stream_on(T.fb, DEV_BOTH, true);
	CHECK(fs && fake_params(fs)->format_out == SAMPLE_INT16 && fake_params(fs)->channels_out == 2,
	      "an exclusive stream opens the device in its own format");
	put(s, data, 1000);
	CHECK(fake_run(fs, 8) == 4, "the device stream completes in the period of the last frame");
	pump();
	tap = fake_tap(fs, &n);
	for (size_t i = 2000; i < 2 * n; i++)
		silent = silent && tap[i] == 0;
	CHECK(n == 4 * PERIOD && memcmp(tap, data, sizeof(data)) == 0 && silent,
	      "the tap holds the 1000 frames bit for bit, then silence");
	f = finished_of(s->handle);
	CHECK(f && f->state == SHM_STATE_FINISHED && fake_closed(T.fb) == 1,
	      "the stream finished and its device stream closed");
	engine_stream_release(&T.e, s);
	teardown();
}

/*
 * An exclusive stream whose routes leave a channel out: the device's buffer
 * is written whole all the same (the fake backend fills it with 0x7f7f
 * before each period), the unrouted channel and the frames after the end
 * silent.
 */
static void test_exclusive_mapped_silence(void)
{
	static int16_t data[300];
	static const int second[] = { 2 };
	struct spec sp = { STREAM_PLAY, DEV_BOTH, 1, SAMPLE_INT16, second, 1, .frames = 300,
			   .exclusive = true };
	struct fake_stream *fs;
	const int16_t *tap;
	struct stream *s;
	size_t n;
	bool left = true, right = true;

	setup();
	for (int i = 0; i < 300; i++)
		data[i] = (int16_t)(i * 101 + 1);
	s = start_ok(&sp);
	fs = fake_stream_on(T.fb, DEV_BOTH, true);
	CHECK(fs && fake_params(fs)->channels_out == 2,
	      "a mono stream routed to channel 2 opens two channels");
	put(s, data, 300);
	fake_run(fs, 4);
	pump();
	tap = fake_tap(fs, &n);
	for (size_t i = 0; i < n; i++) {
		left = left && tap[2 * i] == 0;
		right = right && tap[2 * i + 1] == (i < 300 ? data[i] : 0);
	}
	CHECK(n >= PERIOD && left && right,
	      "channel 1 is silent, channel 2 holds the 300 frames bit for bit, then silence");
	engine_stream_release(&T.e, s);
	teardown();
}

static void test_stalled_callback(void)
{
	static float data[1024 * 2];
	struct spec sp = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .buffer_frames = 1024 };
	struct spec other = { STREAM_REC, DEV_IN, 2, SAMPLE_FLOAT32, .buffer_frames = 4096 };
	const struct finished *f;
	struct fake_stream *fs;
	struct stream *s, *r;

	setup();
	s = start_ok(&sp);
	r = start_ok(&other);
	put(s, data, 1024);
	fs = fake_stream_on(T.fb, DEV_OUT, true);
	engine_watch(&T.e);
	fake_run_all(T.fb, 1);
	engine_watch(&T.e);
	fake_run_all(T.fb, 1);
	engine_watch(&T.e);
	CHECK(T.nlost == 0, "a device stream that calls back is not lost");
	fake_stall(fs, true);
	CHECK(fake_run(fs, 1) == 0, "the device has gone quiet");
	fake_run(fake_stream_on(T.fb, DEV_IN, false), 1);
	CHECK(engine_audio_healthy(&T.e) && engine_audio_healthy(&T.e),
	      "a quiet device does not make the daemon unhealthy");
	engine_watch(&T.e);
	CHECK(T.nlost == 1 && T.lost.device == DEV_OUT && strcmp(T.lost.mode, "shared output") == 0 &&
		      T.lost.streams == 1 && strstr(T.lost.reason, "stopped calling back"),
	      "device_lost reports device %d, its mode, its one stream and why: %s", T.lost.device,
	      T.lost_reason);
	f = finished_of(s->handle);
	CHECK(f && f->state == SHM_STATE_FAILED && strcmp(f->code, "device_lost") == 0,
	      "its stream failed with device_lost");
	CHECK(engine_devstream_count(&T.e) == 1 && fake_closed(T.fb) == 1 &&
		      atomic_load(&r->state) == SHM_STATE_RUNNING,
	      "its device stream closed; the recording on the other device runs on");
	fake_run(fake_stream_on(T.fb, DEV_IN, false), 1);
	engine_watch(&T.e);
	CHECK(T.nlost == 1, "once");
	engine_stream_release(&T.e, s);
	engine_stream_release(&T.e, r);
	teardown();
}

static void test_stuck_callback(void)
{
	static float data[1024 * 2];
	struct spec sp = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .buffer_frames = 1024 };
	struct stream *s;
	struct devstream *ds;

	setup();
	s = start_ok(&sp);
	put(s, data, 1024);
	ds = s->out.dev;
	fake_run(fake_stream_on(T.fb, DEV_OUT, true), 2);
	CHECK(atomic_load(&ds->callbacks) == 2 && atomic_load(&ds->returns) == 2,
	      "the audio thread counts each callback in and out");
	engine_watch(&T.e);
	/* Our audio thread enters a callback and never returns (as the test hook's spin does). */
	atomic_fetch_add(&ds->callbacks, 1);
	CHECK(engine_audio_healthy(&T.e) && !engine_audio_healthy(&T.e),
	      "a callback inside at two checks makes the daemon unhealthy");
	engine_watch(&T.e);
	engine_watch(&T.e);
	CHECK(T.nlost == 0, "and is not taken for a lost device");
	atomic_fetch_add(&ds->returns, 1);
	CHECK(engine_audio_healthy(&T.e), "healthy again once it returned");
	engine_stream_release(&T.e, s);
	teardown();
}

static void test_lost_device(void)
{
	static float data[1024 * 2];
	struct spec play = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .buffer_frames = 1024 };
	struct spec rec = { STREAM_REC, DEV_IN, 2, SAMPLE_FLOAT32, .buffer_frames = 4096 };
	struct proto_error err = { 0 };
	struct stream *p, *r;
	const struct finished *f;
	uint64_t recorded;

	setup();
	p = start_ok(&play);
	r = start_ok(&rec);
	put(p, data, 1024);
	fake_run_all(T.fb, 2);
	pump();
	fake_lose_device(T.fb, DEV_OUT);
	pump();
	CHECK(T.nlost == 1 && T.lost.device == DEV_OUT && T.lost.streams == 1,
	      "device_lost reports the device and its stream");
	f = finished_of(p->handle);
	CHECK(f && f->state == SHM_STATE_FAILED && strcmp(f->code, "device_lost") == 0,
	      "its stream failed with device_lost");
	CHECK(engine_devstream_count(&T.e) == 1 && fake_closed(T.fb) == 1,
	      "its device stream closed; the other stays");
	CHECK(!start(&play, &err) && strstr(err.message, "Cannot open a shared stream on device 0"),
	      "a new stream on the lost device is refused: %s", err.message);
	recorded = atomic_load(&r->hdr->frames_in);
	fake_run(fake_stream_on(T.fb, DEV_IN, false), 2);
	CHECK(atomic_load(&r->hdr->frames_in) == recorded + 2 * PERIOD &&
		      atomic_load(&r->state) == SHM_STATE_RUNNING,
	      "the recording on the other device goes on");
	proto_error_clear(&err);
	engine_stream_release(&T.e, p);
	engine_stream_release(&T.e, r);
	teardown();
}

int main(void)
{
	log_set_level(LOG_LEVEL_ERROR);
	test_mix();
	test_clipping();
	test_capture_fan_out();
	test_underflow_positions();
	test_overflow_positions();
	test_declared_length();
	test_released_as_it_ends();
	test_idle_close();
	test_hostile_index();
	test_exclusive_bit_exact();
	test_exclusive_mapped_silence();
	test_stalled_callback();
	test_stuck_callback();
	test_lost_device();
	return tap_done();
}
