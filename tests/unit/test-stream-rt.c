/*
 * The realtime half of client streams (daemon/stream-rt.c) driven directly,
 * without PortAudio: device flags reach only the directions a stream has
 * and only while it runs; playback starts once its start condition holds,
 * mixes through its routes, reports underflows and drains at the end mark;
 * a hostile ring index ends the stream.
 */
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ring.h"
#include "sample.h"
#include "stream.h"
#include "tap.h"

/* Makes a stream with the directions asked for, in real shared memory. */
static struct stream *make_stream(int out, int in, uint32_t capacity)
{
	struct stream *s = calloc(1, sizeof(*s));

	s->shm.fd = -1;
	s->handle = 1;
	s->samplerate = 48000;
	for (int i = 0; i < 2; i++) {
		struct stream_dir *d = i ? &s->in : &s->out;

		if (!(i ? in : out))
			continue;
		d->used = true;
		d->channels = 2;
		d->dtype = SAMPLE_FLOAT32;
		d->capacity = capacity;
		d->frame_bytes = 8;
		d->nroutes = 2;
		d->routes[0] = (struct stream_route){ 0, 0 };
		d->routes[1] = (struct stream_route){ 1, 1 };
		d->stream_channels = 2;
		d->limit = -1;
	}
	if (stream_create_shm(s) < 0)
		return NULL;
	s->autostart = true;
	s->start_frames = capacity;
	return s;
}

static void test_device_flags(void)
{
	struct stream *s = make_stream(1, 0, 1024);
	uint32_t ev;

	ev = stream_rt_device_flags(&s->out, SHM_INPUT_OVERFLOW | SHM_OUTPUT_UNDERFLOW);
	CHECK(ev == 0 && atomic_load(&s->flags) == 0,
	      "a stream waiting for its data takes no device flags");
	atomic_store(&s->state, SHM_STATE_RUNNING);
	ev = stream_rt_device_flags(&s->out, SHM_INPUT_OVERFLOW | SHM_OUTPUT_UNDERFLOW);
	CHECK(ev == STREAM_EV_XRUN && atomic_load(&s->flags) == SHM_OUTPUT_UNDERFLOW,
	      "a running playback takes output flags only (flags %#x)", atomic_load(&s->flags));
	CHECK(atomic_load(&s->hdr->xrun_count) == 1 && atomic_load(&s->out.xrun_head) == 1,
	      "one xrun counted and queued");
	stream_free(s);

	s = make_stream(0, 1, 1024);
	atomic_store(&s->state, SHM_STATE_RUNNING);
	stream_rt_device_flags(&s->in, SHM_INPUT_OVERFLOW | SHM_OUTPUT_UNDERFLOW | SHM_PRIMING_OUTPUT);
	CHECK(atomic_load(&s->flags) == SHM_INPUT_OVERFLOW, "a recording takes input flags only");
	stream_free(s);
}

static void test_playback(void)
{
	struct stream *s = make_stream(1, 0, 1024);
	float data[2 * 600], mix[2 * 512];
	uint32_t ev, w = 0;

	for (int i = 0; i < 2 * 600; i++)
		data[i] = (float)i / 4096.0f;
	/* 600 frames written: the start condition (a full ring or the end mark) does not hold. */
	memcpy(s->out.data, data, sizeof(data));
	w = 600;
	ring_produced(s->out.ctl, w);
	memset(mix, 0, sizeof(mix));
	ev = stream_rt_mix(&s->out, mix, 2, 512, 1.0, 1.0, 48000, STREAM_MIX_ADD);
	CHECK(ev == 0 && atomic_load(&s->state) == SHM_STATE_PREFILL && mix[0] == 0,
	      "playback waits while the ring is neither full nor ended");
	atomic_store(&s->out.ctl->eof, 1);
	ev = stream_rt_mix(&s->out, mix, 2, 512, 1.0, 1.0, 48000, STREAM_MIX_ADD);
	CHECK((ev & STREAM_EV_STATE) && atomic_load(&s->state) == SHM_STATE_RUNNING,
	      "the end mark starts it");
	CHECK(memcmp(mix, data, sizeof(mix)) == 0, "the first 512 frames are mixed in unchanged");
	CHECK(atomic_load(&s->out.ctl->read_index) == 512, "the read index is published");
	memset(mix, 0, sizeof(mix));
	ev = stream_rt_mix(&s->out, mix, 2, 512, 1.0, 1.0, 48000, STREAM_MIX_ADD);
	CHECK(atomic_load(&s->out.done) && (ev & STREAM_EV_STATE) && !(ev & STREAM_EV_XRUN),
	      "at the end mark it is done, without an underflow");
	CHECK(memcmp(mix, data + 2 * 512, 2 * 88 * sizeof(float)) == 0 && mix[2 * 88] == 0,
	      "the last 88 frames, then silence");
	CHECK(atomic_load(&s->hdr->frames_out) == 600, "600 frames played");
	stream_free(s);
}

static void test_underflow_and_violation(void)
{
	struct stream *s = make_stream(1, 0, 1024);
	float mix[2 * 256];
	uint32_t ev;

	ring_produced(s->out.ctl, 1024); /* a full ring of silence starts it */
	for (int i = 0; i < 4; i++)
		stream_rt_mix(&s->out, mix, 2, 256, 1.0, 1.0, 48000, STREAM_MIX_ADD);
	ev = stream_rt_mix(&s->out, mix, 2, 256, 1.0, 1.0, 48000, STREAM_MIX_ADD);
	CHECK((ev & STREAM_EV_XRUN) && (atomic_load(&s->flags) & SHM_OUTPUT_UNDERFLOW) &&
		      atomic_load(&s->hdr->silence_out) == 256,
	      "an empty ring without the end mark is an underflow of one period");
	CHECK(s->out.xruns[0].position == 1024, "reported at frame 1024");
	/* The client moves its write index 3 capacities ahead: impossible. */
	ring_produced(s->out.ctl, 1024 + 3 * 1024);
	ev = stream_rt_mix(&s->out, mix, 2, 256, 1.0, 1.0, 48000, STREAM_MIX_ADD);
	CHECK((ev & STREAM_EV_STATE) && atomic_load(&s->violation),
	      "an impossible index is a violation that ends the stream");
	ev = stream_rt_mix(&s->out, mix, 2, 256, 1.0, 1.0, 48000, STREAM_MIX_ADD);
	CHECK(ev == 0, "and the stream is left alone after that");
	stream_free(s);
}

/* A running playback stream whose ring holds frames (float32 stereo) and the end mark. */
static struct stream *ended_stream(const float *data, uint32_t frames, bool swap)
{
	struct stream *s = make_stream(1, 0, 1024);

	if (swap) {
		s->out.routes[0] = (struct stream_route){ 0, 1 };
		s->out.routes[1] = (struct stream_route){ 1, 0 };
	}
	memcpy(s->out.data, data, (size_t)frames * 8);
	ring_produced(s->out.ctl, frames);
	atomic_store(&s->out.ctl->eof, 1);
	return s;
}

/*
 * The three ways a stream goes into the mix: the first stream of a period
 * sets the buffer and silences the rest, a single one also clamps, the
 * others add; through identical and through crossed routes.
 */
static void test_mix_modes(void)
{
	static const char *const names[] = { "add", "set", "set and clip" };
	float data[2 * 300], mix[2 * 512];
	struct stream *waiting;
	bool silent = true;

	for (int i = 0; i < 2 * 300; i++)
		data[i] = (float)(i - 300) / 100.0f; /* -3 .. +3 */

	for (int swap = 0; swap < 2; swap++) {
		for (int how = STREAM_MIX_ADD; how <= STREAM_MIX_SET_CLIP; how++) {
			struct stream *s = ended_stream(data, 300, swap);
			bool right = true;

			for (int i = 0; i < 2 * 512; i++)
				mix[i] = 0.5f; /* what an earlier stream left */
			stream_rt_mix(&s->out, mix, 2, 512, 1.0, 1.0, 48000, (enum stream_mix)how);
			for (int f = 0; f < 512 && right; f++) {
				for (int c = 0; c < 2; c++) {
					float x = f < 300 ? data[2 * f + (swap ? 1 - c : c)] : 0.0f;

					if (how == STREAM_MIX_SET_CLIP)
						x = x > 1.0f ? 1.0f : x < -1.0f ? -1.0f : x;
					if (how == STREAM_MIX_ADD)
						x += 0.5f;
					right = right && mix[2 * f + c] == x;
				}
			}
			CHECK(right, "%s, %s routes: 300 frames%s, then %s", names[how],
			      swap ? "crossed" : "identical",
			      how == STREAM_MIX_SET_CLIP ? " clamped to [-1, 1]" : "",
			      how == STREAM_MIX_ADD ? "the buffer left as it was" : "silence");
			CHECK(atomic_load(&s->hdr->frames_out) == 300, "%s: 300 frames played",
			      names[how]);
			stream_free(s);
		}
	}

	/* A stream that produces nothing (still waiting for data) still silences the buffer. */
	waiting = make_stream(1, 0, 1024);
	for (int i = 0; i < 2 * 512; i++)
		mix[i] = 0.5f;
	stream_rt_mix(&waiting->out, mix, 2, 512, 1.0, 1.0, 48000, STREAM_MIX_SET);
	for (int i = 0; i < 2 * 512; i++)
		silent = silent && mix[i] == 0.0f;
	CHECK(silent, "a waiting stream that sets the buffer leaves silence");
	stream_free(waiting);
}

/*
 * A playback whose length was declared (play or playrec with frames) ends
 * after that many frames, whether or not the client has set its end mark
 * yet: a client slow to set it causes no underflow, and frames written
 * beyond the length are not played.
 */
static void test_playback_limit(void)
{
	struct stream *s = make_stream(1, 0, 1024);
	float data[2 * 700], mix[2 * 512];
	uint32_t ev;

	for (int i = 0; i < 2 * 700; i++)
		data[i] = (float)(i + 1) / 4096.0f;
	s->out.limit = 600;
	s->start_frames = 600;
	memcpy(s->out.data, data, sizeof(data));
	ring_produced(s->out.ctl, 599);
	ev = stream_rt_mix(&s->out, mix, 2, 512, 1.0, 1.0, 48000, STREAM_MIX_SET);
	CHECK(atomic_load(&s->state) == SHM_STATE_PREFILL && mix[0] == 0,
	      "599 of 600 declared frames: playback still waits");
	ring_produced(s->out.ctl, 700); /* 100 frames more than declared, and no end mark */
	ev = stream_rt_mix(&s->out, mix, 2, 512, 1.0, 1.0, 48000, STREAM_MIX_SET);
	CHECK((ev & STREAM_EV_STATE) && atomic_load(&s->state) == SHM_STATE_RUNNING &&
		      memcmp(mix, data, sizeof(mix)) == 0,
	      "all declared frames queued: it starts, the first 512 unchanged");
	ev = stream_rt_mix(&s->out, mix, 2, 512, 1.0, 1.0, 48000, STREAM_MIX_SET);
	CHECK(atomic_load(&s->out.done) && (ev & STREAM_EV_STATE) && !(ev & STREAM_EV_XRUN) &&
		      atomic_load(&s->hdr->silence_out) == 0,
	      "done after 600 frames without the end mark, and no underflow");
	CHECK(memcmp(mix, data + 2 * 512, 2 * 88 * sizeof(float)) == 0 && mix[2 * 88] == 0 &&
		      mix[2 * 511 + 1] == 0,
	      "the last 88 declared frames, then silence (not the 100 extra frames)");
	CHECK(atomic_load(&s->hdr->frames_out) == 600 && s->out.position == 600,
	      "exactly 600 frames played");
	stream_free(s);

	/* Written in pieces during the period: the second read of the ring sees the end. */
	s = make_stream(1, 0, 1024);
	s->out.limit = 300;
	s->start_frames = 100;
	memcpy(s->out.data, data, sizeof(data));
	ring_produced(s->out.ctl, 100);
	ev = stream_rt_mix(&s->out, mix, 2, 256, 1.0, 1.0, 48000, STREAM_MIX_SET);
	CHECK(atomic_load(&s->state) == SHM_STATE_RUNNING && (ev & STREAM_EV_XRUN) &&
		      atomic_load(&s->hdr->silence_out) == 156,
	      "started at start_frames, then short of frames before the declared end: an underflow");
	ring_produced(s->out.ctl, 300);
	ev = stream_rt_mix(&s->out, mix, 2, 256, 1.0, 1.0, 48000, STREAM_MIX_SET);
	CHECK(atomic_load(&s->out.done) && !(ev & STREAM_EV_XRUN) && s->out.position == 300,
	      "the rest, up to the declared end, and done");
	stream_free(s);
}

static void test_capture_limit(void)
{
	struct stream *s = make_stream(0, 1, 1024);
	float in[2 * 300];
	uint32_t ev;

	for (int i = 0; i < 2 * 300; i++)
		in[i] = (float)i;
	s->in.limit = 500;
	ev = stream_rt_capture(&s->in, in, 2, 300, 1.0, 1.0, 48000);
	CHECK(atomic_load(&s->state) == SHM_STATE_RUNNING && atomic_load(&s->hdr->frames_in) == 300,
	      "a recording starts at once and takes 300 frames");
	ev = stream_rt_capture(&s->in, in, 2, 300, 1.0, 1.0, 48000);
	CHECK(atomic_load(&s->hdr->frames_in) == 500 && atomic_load(&s->in.done) &&
		      (ev & STREAM_EV_STATE),
	      "it stops at its limit of 500 frames");
	CHECK(memcmp(s->in.data + 300 * 8, in, 200 * 8) == 0, "the frames are in the ring in order");
	stream_free(s);
}

int main(void)
{
	test_device_flags();
	test_playback();
	test_underflow_and_violation();
	test_mix_modes();
	test_playback_limit();
	test_capture_limit();
	return tap_done();
}
