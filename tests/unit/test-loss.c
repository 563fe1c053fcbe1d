/*
 * Device loss and the backend calls of worker threads, on a threaded fake
 * backend whose calls run on the engine's worker threads and can be made
 * to block, as calls into a dead server do: starts and closes that return
 * in their own time, a device that stops calling back while its close
 * blocks (its streams fail at once, the loop goes on serving, the close is
 * abandoned after the close timeout and counts as open until it returns),
 * a start that never returns, a start that fails, and a stop of the engine
 * that does not wait for a close that never returns.
 */
#include "engine-harness.h"

#include <pthread.h>
#include <unistd.h>

#include "log.h"
#include "sample.h"
#include "worker.h"

static struct stream *watched; /* the stream the conditions below look at */

static bool running(void)
{
	struct devstream *ds = watched->out.used ? watched->out.dev : watched->in.dev;

	return ds && ds->running;
}

static bool no_backend_streams(void)
{
	return engine_backend_streams(&T.e) == 0;
}

static bool one_abandoned(void)
{
	unsigned abandoned;

	engine_closing_count(&T.e, &abandoned);
	return abandoned == 1;
}

static bool none_closing(void)
{
	unsigned abandoned;

	return engine_closing_count(&T.e, &abandoned) == 0;
}

static bool one_lost(void)
{
	return T.nlost == 1;
}

static bool watched_finished(void)
{
	return finished_of(watched->handle) != NULL;
}

/* Starts a stereo float32 playback of DEV_OUT-like device dev and waits until it runs. */
static struct stream *play_running(int device)
{
	static float data[4096 * 2];
	struct spec sp = { STREAM_PLAY, device, 2, SAMPLE_FLOAT32, .buffer_frames = 4096 };
	struct stream *s = start_ok(&sp);

	if (!s)
		return NULL;
	put(s, data, 4096);
	watched = s;
	if (!run_until(running, 5000))
		printf("# the device stream of stream %u did not start\n", s->handle);
	return s;
}

static void test_start_and_close_on_workers(void)
{
	struct fake_stream *fs;
	struct stream *s;

	setup_threaded(0, 0);
	s = play_running(DEV_OUT);
	fs = fake_stream_on(T.fb, DEV_OUT, true);
	CHECK(s && fs && fake_started(fs) && engine_backend_streams(&T.e) == 1,
	      "a start on a worker thread returns, and the device stream runs");
	CHECK(fake_run(fs, 4) == 4 && atomic_load(&s->hdr->frames_out) == 4 * PERIOD,
	      "it plays: %u frames", (unsigned)atomic_load(&s->hdr->frames_out));
	engine_stream_release(&T.e, s);
	CHECK(run_until(no_backend_streams, 5000) && fake_closed(T.fb) == 1 && T.nlost == 0,
	      "idle, it closes on a worker thread; no device was lost");
	teardown();
}

static void test_lost_while_its_close_blocks(void)
{
	struct spec rec = { STREAM_REC, DEV_IN, 2, SAMPLE_FLOAT32, .buffer_frames = 8192 };
	struct fake_stream *out, *in, *both;
	struct stream *p, *r, *q;
	const struct finished *f;
	uint64_t recorded;
	unsigned abandoned;

	setup_threaded(0, 100);
	p = play_running(DEV_OUT);
	r = start_ok(&rec);
	watched = r;
	run_until(running, 5000);
	out = fake_stream_on(T.fb, DEV_OUT, true);
	in = fake_stream_on(T.fb, DEV_IN, false);
	fake_run_all(T.fb, 2);
	pump();
	/* The server dies: callbacks stop, and stopping the stream blocks. */
	fake_block(T.fb, FAKE_CALL_ABORT, true);
	fake_stall(out, true);
	engine_watch(&T.e);
	fake_run(in, 1);
	engine_watch(&T.e);
	f = finished_of(p->handle);
	CHECK(T.nlost == 1 && T.lost.device == DEV_OUT && f && f->state == SHM_STATE_FAILED &&
		      strcmp(f->code, "device_lost") == 0,
	      "the quiet device is lost and its stream fails at once, with device_lost");
	CHECK(fake_wait_blocked(T.fb, FAKE_CALL_ABORT, 5000) &&
		      engine_closing_count(&T.e, &abandoned) == 1 && abandoned == 0,
	      "its close waits on a worker thread");
	q = play_running(DEV_BOTH);
	both = fake_stream_on(T.fb, DEV_BOTH, true);
	recorded = atomic_load(&r->hdr->frames_in);
	CHECK(q && both && fake_run(both, 2) == 2 && fake_run(in, 2) == 2 &&
		      atomic_load(&q->hdr->frames_out) == 2 * PERIOD &&
		      atomic_load(&r->hdr->frames_in) == recorded + 2 * PERIOD,
	      "meanwhile a new stream on another device starts and plays, and the recording goes on");
	CHECK(engine_backend_streams(&T.e) == 3, "three backend streams are open (one closing)");
	CHECK(run_until(one_abandoned, 5000), "after the close timeout the close is abandoned");
	CHECK(engine_backend_streams(&T.e) == 3 && T.nlost == 1,
	      "the abandoned stream still counts as open (the backend must not stop under it)");
	CHECK(fake_run(both, 1) == 1 && atomic_load(&q->hdr->frames_out) == 3 * PERIOD,
	      "the other stream plays on");
	engine_stream_release(&T.e, p);
	fake_block(T.fb, FAKE_CALL_ABORT, false);
	CHECK(run_until(none_closing, 5000) && engine_backend_streams(&T.e) == 2 &&
		      fake_closed(T.fb) == 1,
	      "once the blocked call returns, the abandoned stream closes after all");
	engine_stream_release(&T.e, q);
	engine_stream_release(&T.e, r);
	CHECK(run_until(no_backend_streams, 5000), "the others close when idle (open: %u, closing: %u)",
	      engine_devstream_count(&T.e), engine_closing_count(&T.e, &abandoned));
	teardown();
}

static void test_start_that_never_returns(void)
{
	struct stream *s;
	const struct finished *f;
	struct spec sp = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .buffer_frames = 4096 };

	setup_threaded(100, 0);
	fake_block(T.fb, FAKE_CALL_START, true);
	s = start_ok(&sp);
	CHECK(s && atomic_load(&s->state) == SHM_STATE_PREFILL,
	      "the play is answered at once; its device starts in the background");
	CHECK(fake_wait_blocked(T.fb, FAKE_CALL_START, 5000), "the start blocks");
	CHECK(run_until(one_lost, 5000) && strstr(T.lost_reason, "start did not return"),
	      "after the start timeout the device is lost: %s", T.lost_reason);
	f = s ? finished_of(s->handle) : NULL;
	CHECK(f && f->state == SHM_STATE_FAILED && strcmp(f->code, "device_lost") == 0,
	      "and the stream fails with device_lost");
	CHECK(engine_backend_streams(&T.e) == 1 && fake_closed(T.fb) == 0,
	      "the close waits for the start to return");
	fake_block(T.fb, FAKE_CALL_START, false);
	CHECK(run_until(no_backend_streams, 5000) && fake_closed(T.fb) == 1,
	      "once it returned, the stream closes");
	if (s)
		engine_stream_release(&T.e, s);
	teardown();
}

static void test_start_fails_on_a_lost_device(void)
{
	struct spec sp = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .buffer_frames = 4096 };
	const struct finished *f;
	struct stream *s;

	setup_threaded(0, 0);
	fake_block(T.fb, FAKE_CALL_START, true);
	s = start_ok(&sp);
	fake_wait_blocked(T.fb, FAKE_CALL_START, 5000);
	fake_lose_device(T.fb, DEV_OUT);
	fake_block(T.fb, FAKE_CALL_START, false);
	watched = s;
	CHECK(s && run_until(watched_finished, 5000), "the stream ends once the start returned");
	f = s ? finished_of(s->handle) : NULL;
	CHECK(f && f->state == SHM_STATE_FAILED && strcmp(f->code, "portaudio_error") == 0 &&
		      strstr(s->error, "Cannot start the stream on device 0"),
	      "it failed with the start's error: %s", s ? s->error : "");
	CHECK(run_until(no_backend_streams, 5000) && fake_closed(T.fb) == 1,
	      "its device stream closed");
	if (s)
		engine_stream_release(&T.e, s);
	teardown();
}

static void test_exclusive_on_workers(void)
{
	enum { FRAMES = 3 * PERIOD };
	struct spec sp = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_INT16, .frames = FRAMES, .exclusive = true };
	int16_t data[FRAMES * 2];
	const struct finished *f;
	struct fake_stream *fs;
	struct stream *s;
	size_t n;
	const int16_t *tap;

	for (int i = 0; i < FRAMES * 2; i++)
		data[i] = (int16_t)(i * 7 + 1);
	setup_threaded(0, 0);
	s = start_ok(&sp);
	put(s, data, FRAMES);
	watched = s;
	run_until(running, 5000);
	fs = fake_stream_on(T.fb, DEV_OUT, true);
	fake_run(fs, 6);
	CHECK(run_until(watched_finished, 5000), "the exclusive stream ends");
	f = finished_of(s->handle);
	tap = fake_tap(fs, &n);
	CHECK(f && f->state == SHM_STATE_FINISHED && n >= FRAMES &&
		      memcmp(tap, data, sizeof(data)) == 0,
	      "it played bit for bit and finished");
	engine_stream_release(&T.e, s);
	CHECK(run_until(no_backend_streams, 5000) && fake_closed(T.fb) == 1,
	      "its device stream closed on a worker thread");
	teardown();
}

static void *unblock_close_later(void *arg)
{
	usleep(50 * 1000);
	fake_block(T.fb, FAKE_CALL_CLOSE, false);
	return NULL;
}

static void test_reopen_waits_for_the_close(void)
{
	struct stream *s;
	pthread_t t;

	setup_threaded(0, 0);
	s = play_running(DEV_OUT);
	fake_block(T.fb, FAKE_CALL_CLOSE, true);
	engine_stream_release(&T.e, s);
	pump();
	CHECK(fake_wait_blocked(T.fb, FAKE_CALL_CLOSE, 5000), "the idle device stream's close blocks");
	pthread_create(&t, NULL, unblock_close_later, NULL);
	s = play_running(DEV_OUT);
	CHECK(s && fake_closed(T.fb) == 1 && fake_opened(T.fb) == 2,
	      "a new device stream on the device opens once the close returned (closed %u)",
	      fake_closed(T.fb));
	pthread_join(t, NULL);
	if (s)
		engine_stream_release(&T.e, s);
	CHECK(run_until(no_backend_streams, 5000), "both closed");
	teardown();
}

/* Last: the stream it abandons stays for the rest of the process. */
static void test_stop_does_not_wait_for_a_close_that_never_returns(void)
{
	struct devstream *ds;
	struct stream *s;
	int loop_closed;

	setup_threaded(0, 100);
	s = play_running(DEV_OUT);
	ds = s ? s->out.dev : NULL;
	fake_block(T.fb, FAKE_CALL_ABORT, true);
	engine_stream_release(&T.e, s);
	engine_fini(&T.e);
	/* The loop ends once the close is given up on (after the close timeout). */
	uv_run(&T.loop, UV_RUN_DEFAULT);
	loop_closed = uv_loop_close(&T.loop);
	CHECK(loop_closed == 0 && devstream_orphans() == 1 && engine_backend_streams(&T.e) == 1,
	      "the engine stops without the close, which stays abandoned and counts as open");
	CHECK(fake_wait_blocked(T.fb, FAKE_CALL_ABORT, 1000), "the close is still blocked");
	/* Let the worker thread finish before the fake goes away. */
	fake_block(T.fb, FAKE_CALL_ABORT, false);
	for (int i = 0; ds && i < 5000 && atomic_load(&ds->job.state) != WORKER_DONE; i++)
		usleep(1000);
	CHECK(ds && atomic_load(&ds->job.state) == WORKER_DONE,
	      "its call returned later, touching only what was kept for it");
	devices_fini(&T.devs);
	fake_backend_free(T.fb);
}

int main(void)
{
	log_set_level(LOG_LEVEL_ERROR);
	test_start_and_close_on_workers();
	test_lost_while_its_close_blocks();
	test_start_that_never_returns();
	test_start_fails_on_a_lost_device();
	test_exclusive_on_workers();
	test_reopen_waits_for_the_close();
	test_stop_does_not_wait_for_a_close_that_never_returns();
	return tap_done();
}
