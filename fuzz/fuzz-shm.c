/*
 * Fuzzes what the daemon reads from a client's shared memory: the input is
 * a script of periods, each setting the words a client may write (its ring
 * index, the end mark, the wake-up request, the abort word) to arbitrary
 * values before the daemon's audio-thread functions run one period of a
 * playback and a capture stream.  Whatever the client writes, the daemon
 * must never read or write outside the rings (AddressSanitizer watches
 * the memory), never count more frames than the ring held, and must end
 * the stream (a violation) as soon as an index is impossible.
 *
 * The first byte's bit 0 makes the playback a loop, its bit 1 (without
 * bit 0) gives it a declared length of (byte >> 2) * 97 frames.  Then a
 * period is two little-endian words, op and value: op % 6 chooses the word
 * that value is written to, op / 6 % 3 how the playback goes into the mix
 * (added, set, or set and clamped; see enum stream_mix).
 */
#include <string.h>

#include "fuzz.h"
#include "ring.h"
#include "sample.h"
#include "stream.h"

#define CAPACITY 1024u
#define PERIOD 256u

/* A stream with one direction, its memory made once and reused. */
static struct stream *make(int out, int dtype)
{
	struct stream *s = calloc(1, sizeof(*s));
	struct stream_dir *d = out ? &s->out : &s->in;

	FUZZ_CHECK(s);
	s->shm.fd = -1;
	s->wake_fd = -1;
	s->handle = 1;
	s->samplerate = 48000;
	d->used = true;
	d->channels = 2;
	d->dtype = dtype;
	d->capacity = CAPACITY;
	d->frame_bytes = (uint32_t)(2 * sample_format_size((enum sample_format)dtype));
	d->nroutes = 2;
	d->routes[0] = (struct stream_route){ 0, 0 };
	d->routes[1] = (struct stream_route){ 1, 1 };
	d->stream_channels = 2;
	d->limit = -1;
	FUZZ_CHECK(stream_create_shm(s) == 0);
	return s;
}

/* Puts a stream back to its state before any period ran. */
static void reset(struct stream *s)
{
	struct stream_dir *d = s->out.used ? &s->out : &s->in;

	memset(s->shm.mem, 0, s->shm.size);
	s->hdr->magic = SHM_MAGIC;
	d->ctl->capacity = d->capacity;
	d->index = 0;
	d->position = 0;
	d->looping = false;
	atomic_store(&d->done, false);
	atomic_store(&d->xrun_head, 0);
	atomic_store(&d->xrun_tail, 0);
	atomic_store(&s->state, SHM_STATE_PREFILL);
	atomic_store(&s->violation, 0);
	atomic_store(&s->aborted, false);
	atomic_store(&s->flags, 0);
	/* The daemon's own counters, of which the header holds copies. */
	atomic_store(&s->xruns, 0);
	atomic_store(&s->frames_out, 0);
	atomic_store(&s->silence_out, 0);
	atomic_store(&s->frames_in, 0);
	atomic_store(&s->dropped_in, 0);
	s->autostart = true;
	s->start_frames = CAPACITY;
	s->loop = false;
}

/* Reads a little-endian 32-bit word from the script (zeros past its end). */
static uint32_t word(const uint8_t **p, const uint8_t *end)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++, (*p)++)
		v |= (uint32_t)(*p < end ? **p : 0) << (8 * i);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct stream *play, *rec;
	static float mix[2 * PERIOD], in[2 * PERIOD];
	const uint8_t *p = data, *end = data + size;

	if (!play) {
		play = make(1, SAMPLE_INT24);
		rec = make(0, SAMPLE_INT16);
	}
	reset(play);
	reset(rec);
	play->loop = size > 0 && (data[0] & 1);
	/* Bit 1 of the first byte: a playback of a declared length, up to six rings. */
	play->out.limit = size > 0 && !play->loop && (data[0] & 2) ? (int64_t)(data[0] >> 2) * 97 : -1;
	for (int period = 0; period < 64 && p < end; period++) {
		uint32_t op = word(&p, end), value = word(&p, end);
		uint32_t before_out = (uint32_t)atomic_load(&play->frames_out);
		uint32_t fill, played;
		enum stream_mix how;
		bool bad_out, bad_in;

		switch (op % 6) {
		case 0:
			atomic_store(&play->out.ctl->write_index, value);
			break;
		case 1:
			atomic_store(&play->out.ctl->eof, value & 1);
			break;
		case 2:
			atomic_store(&play->out.ctl->waiting, value & 1);
			atomic_store(&play->out.ctl->wake_frames, value >> 1);
			break;
		case 3:
			atomic_store(&rec->in.ctl->read_index, value);
			break;
		case 4:
			atomic_store(&rec->in.ctl->abort, value & 1);
			break;
		default:
			atomic_store(&play->out.ctl->abort, value & 1);
			break;
		}
		/* What the daemon must think of the indices, judged before the period runs. */
		bad_out = ring_readable(play->out.ctl, CAPACITY, play->out.index, &fill) < 0;
		bad_in = ring_writable(rec->in.ctl, CAPACITY, rec->in.index, &fill) < 0;
		how = (enum stream_mix)(op / 6 % 3);
		for (size_t i = 0; i < 2 * PERIOD; i++)
			mix[i] = 0.5f;
		stream_rt_mix(&play->out, mix, 2, PERIOD, 1.0, 1.0, 48000, how);
		stream_rt_capture(&rec->in, in, 2, PERIOD, 1.0, 1.0, 48000);
		/* A period never takes more than a period, and an impossible index ends the stream. */
		played = (uint32_t)atomic_load(&play->frames_out) - before_out;
		FUZZ_CHECK(played <= PERIOD);
		/* A playback of a declared length never plays more. */
		FUZZ_CHECK(play->out.limit < 0 ||
			   atomic_load(&play->frames_out) <= (uint64_t)play->out.limit);
		/* Setting the mix silences what the stream did not fill; clamping leaves [-1, 1]. */
		for (size_t i = 2 * (size_t)played; how != STREAM_MIX_ADD && i < 2 * PERIOD; i++)
			FUZZ_CHECK(mix[i] == 0.0f);
		for (size_t i = 0; how == STREAM_MIX_SET_CLIP && i < 2 * PERIOD; i++)
			FUZZ_CHECK(!(mix[i] > 1.0f) && !(mix[i] < -1.0f));
		if (bad_out && !atomic_load(&play->out.done) && !play->out.looping &&
		    atomic_load(&play->state) == SHM_STATE_RUNNING)
			FUZZ_CHECK(atomic_load(&play->violation));
		if (bad_in && !atomic_load(&rec->in.done))
			FUZZ_CHECK(atomic_load(&rec->violation) || atomic_load(&rec->aborted));
		/*
		 * While the recording runs, the daemon's own index stays within a ring
		 * of the client's (an aborted or finished one is no longer looked at).
		 */
		FUZZ_CHECK(atomic_load(&rec->violation) || atomic_load(&rec->aborted) ||
			   atomic_load(&rec->in.done) ||
			   rec->in.index - atomic_load(&rec->in.ctl->read_index) <= CAPACITY);
	}
	return 0;
}
