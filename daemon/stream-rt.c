/*
 * The realtime half of client streams.  Everything in this file runs on a
 * device stream's audio thread (the PortAudio callback): it never
 * allocates, locks, logs or makes a system call other than the eventfd
 * write that wakes a client, and it trusts nothing it reads from shared
 * memory — the client's ring index and end-of-stream mark are validated
 * on every read.  A float32 client's NaN and ±Inf never reach the mix
 * (sample.c cleans them as it reads), and a shared stream's volume is
 * applied here, ramped, to what it plays or records.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "ring.h"
#include "sample.h"
#include "stream.h"

/* Publishes accumulated flags to the stream and its shared memory. */
static void rt_add_flags(struct stream *s, uint32_t flags)
{
	atomic_fetch_or_explicit(&s->flags, flags, memory_order_relaxed);
	atomic_fetch_or_explicit(&s->hdr->flags, flags, memory_order_relaxed);
	atomic_fetch_or_explicit(&s->hdr->pending_flags, flags, memory_order_relaxed);
	atomic_store_explicit(&s->hdr->block_flags, flags, memory_order_relaxed);
}

/*
 * Adds n to one of the stream's own counters and copies the sum into its
 * shared header (only ever stored there: what the client writes is never
 * read back).
 */
static void rt_count(_Atomic uint64_t *own, _Atomic uint64_t *shared, uint64_t n)
{
	atomic_store_explicit(shared, atomic_fetch_add_explicit(own, n, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/* Queues an xrun for the loop thread to report; returns STREAM_EV_XRUN. */
static uint32_t rt_xrun(struct stream_dir *d, uint32_t flags, uint64_t position)
{
	uint32_t head = atomic_load_explicit(&d->xrun_head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&d->xrun_tail, memory_order_acquire);

	rt_add_flags(d->stream, flags);
	atomic_store_explicit(&d->stream->hdr->xrun_count,
			      atomic_fetch_add_explicit(&d->stream->xruns, 1, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	if (head - tail >= STREAM_XRUN_QUEUE) {
		atomic_fetch_add_explicit(&d->xrun_lost, 1, memory_order_relaxed);
	} else {
		d->xruns[head % STREAM_XRUN_QUEUE] = (struct stream_xrun){ flags, position };
		atomic_store_explicit(&d->xrun_head, head + 1, memory_order_release);
	}
	return STREAM_EV_XRUN;
}

/* Records that the client broke the protocol; the caller returns STREAM_EV_STATE. */
static void stream_rt_violation(struct stream *s)
{
	atomic_store_explicit(&s->violation, 1, memory_order_release);
}

uint32_t stream_rt_device_flags(struct stream_dir *d, uint32_t flags)
{
	struct stream *s = d->stream;
	uint32_t xrun;
	int state;

	/*
	 * Only what concerns this direction (PortAudio may flag the other, and
	 * a playrec's other direction takes its own flags).
	 */
	if (d == &s->out)
		flags &= ~(SHM_INPUT_UNDERFLOW | SHM_INPUT_OVERFLOW);
	else
		flags &= ~(SHM_OUTPUT_UNDERFLOW | SHM_OUTPUT_OVERFLOW | SHM_PRIMING_OUTPUT);
	if (!flags)
		return 0;
	/* A stream still waiting for its data, or already done, did not lose anything. */
	state = atomic_load_explicit(&s->state, memory_order_relaxed);
	if ((state != SHM_STATE_RUNNING && state != SHM_STATE_DRAINING) ||
	    atomic_load_explicit(&d->done, memory_order_relaxed))
		return 0;
	xrun = flags & (SHM_INPUT_UNDERFLOW | SHM_INPUT_OVERFLOW | SHM_OUTPUT_UNDERFLOW |
			SHM_OUTPUT_OVERFLOW);
	if (!xrun) {
		rt_add_flags(d->stream, flags);
		return 0;
	}
	return rt_xrun(d, flags, d->position);
}

/* How the frames of a span leave the ring (playback) or enter it (capture). */
typedef void (*span_fn)(struct stream_dir *d, unsigned char *ring, uint32_t n, uint32_t at,
			void *buf, int channels);

/*
 * Returns true when the client's frames have exactly the device's layout:
 * channel i goes to channel i, for all channels of both.  Then whole
 * frames can be moved at once instead of sample by sample.
 */
static bool routes_identity(const struct stream_dir *d, int channels)
{
	if (d->nroutes != channels || d->channels != channels)
		return false;
	for (int i = 0; i < channels; i++)
		if (d->routes[i].src != i || d->routes[i].dst != i)
			return false;
	return true;
}

/* Frames of gains computed at once for a ramp (on the stack). */
#define GAIN_BLOCK 64

/*
 * Takes a new volume the loop thread published, if any: the ramp starts
 * again from the gains reached now.  A volume caught while it is being
 * written is taken at the next call.
 */
static void rt_take_volume(struct stream_dir *d)
{
	uint32_t seq = atomic_load_explicit(&d->gain_seq, memory_order_acquire), bits;
	float next[STREAM_MAX_CHANNELS];
	bool unity = true;

	if (seq == d->gain_seen || (seq & 1))
		return;
	for (int i = 0; i < d->channels; i++) {
		bits = atomic_load_explicit(&d->gain_bits[i], memory_order_acquire);
		memcpy(&next[i], &bits, sizeof(next[i]));
	}
	if (atomic_load_explicit(&d->gain_seq, memory_order_relaxed) != seq)
		return;
	d->gain_seen = seq;
	for (int i = 0; i < d->channels; i++) {
		uint32_t k = d->ramp_pos;

		if (!d->scaled)
			d->gain_from[i] = 1.0f;
		else if (d->ramp_len && k < d->ramp_len)
			d->gain_from[i] = (float)(d->gain_from[i] + ((double)d->gain_to[i] - d->gain_from[i]) *
									  k / d->ramp_len);
		else
			d->gain_from[i] = d->gain_to[i];
		d->gain_to[i] = next[i];
		unity = unity && next[i] == 1.0f && d->gain_from[i] == 1.0f;
	}
	d->ramp_pos = 0;
	d->ramp_len = unity ? 0 : d->ramp_frames;
	d->scaled = !unity;
}

/* Moves the ramp on by n frames; once it has arrived, unity gains pass unscaled again. */
static void rt_ramp_advance(struct stream_dir *d, uint32_t n)
{
	bool unity = true;

	if (d->ramp_len == 0)
		return;
	d->ramp_pos += n;
	if (d->ramp_pos < d->ramp_len)
		return;
	d->ramp_len = 0;
	d->ramp_pos = 0;
	for (int i = 0; i < d->channels; i++) {
		d->gain_from[i] = d->gain_to[i];
		unity = unity && d->gain_to[i] == 1.0f;
	}
	d->scaled = !unity;
}

/*
 * The gains of channel ch for n frames from ramp frame pos on: along the
 * ramp, computed from its start for each frame (so that a ramp rises or
 * falls monotonically, and lands exactly on its end), then the end.
 */
static void rt_gains(const struct stream_dir *d, int ch, uint32_t pos, uint32_t n, float *gains)
{
	float from = d->gain_from[ch], to = d->gain_to[ch];

	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = pos + i;

		gains[i] = k < d->ramp_len ? (float)(from + ((double)to - from) * k / d->ramp_len) : to;
	}
}

/* Shared playback with a volume: adds n client frames from ring, scaled, into mix. */
static void span_mix_gain(struct stream_dir *d, unsigned char *ring, uint32_t n, uint32_t at,
			  float *mix, int channels)
{
	size_t size = sample_format_size((enum sample_format)d->dtype);
	float gains[GAIN_BLOCK];

	for (int i = 0; i < d->nroutes; i++) {
		int src = d->routes[i].src;

		for (uint32_t f = 0; f < n; f += GAIN_BLOCK) {
			uint32_t k = n - f < GAIN_BLOCK ? n - f : GAIN_BLOCK;

			rt_gains(d, src, d->ramp_pos + at + f, k, gains);
			sample_add_to_float_gain(d->dtype, ring + (size_t)f * d->frame_bytes + src * size,
						 d->frame_bytes,
						 mix + (size_t)f * (size_t)channels + d->routes[i].dst,
						 (size_t)channels, k, gains);
		}
	}
}

/* Shared playback: adds a span of client frames into the float mix. */
static void span_mix(struct stream_dir *d, unsigned char *ring, uint32_t n, uint32_t at, void *buf,
		     int channels)
{
	float *mix = (float *)buf + (size_t)at * (size_t)channels;
	size_t size = sample_format_size((enum sample_format)d->dtype);

	if (d->scaled) {
		span_mix_gain(d, ring, n, at, mix, channels);
		return;
	}
	if (d->dtype == SAMPLE_FLOAT32 && routes_identity(d, channels)) {
		/* Interleaved frames of the same shape: one contiguous run of samples. */
		sample_add_to_float(SAMPLE_FLOAT32, ring, 4, mix, 1, (size_t)n * (size_t)channels);
		return;
	}
	for (int i = 0; i < d->nroutes; i++)
		sample_add_to_float(d->dtype, ring + d->routes[i].src * size, d->frame_bytes,
				    mix + d->routes[i].dst, (size_t)channels, n);
}

/* Shared playback, first stream of the period: writes a span of client frames over the mix. */
static void span_set(struct stream_dir *d, unsigned char *ring, uint32_t n, uint32_t at, void *buf,
		     int channels)
{
	float *mix = (float *)buf + (size_t)at * (size_t)channels;
	size_t samples = (size_t)n * (size_t)channels;

	if (!d->scaled && d->dtype == SAMPLE_FLOAT32 && routes_identity(d, channels)) {
		sample_copy_clean(mix, ring, samples);
		return;
	}
	memset(mix, 0, samples * sizeof(float));
	span_mix(d, ring, n, at, buf, channels);
}

/* Shared playback, the only stream of the period: writes a span clamped to [-1, 1]. */
static void span_set_clip(struct stream_dir *d, unsigned char *ring, uint32_t n, uint32_t at,
			  void *buf, int channels)
{
	float *mix = (float *)buf + (size_t)at * (size_t)channels;
	size_t samples = (size_t)n * (size_t)channels;

	if (!d->scaled && d->dtype == SAMPLE_FLOAT32 && routes_identity(d, channels)) {
		/* Clipping makes ±Inf ±1 and NaN 0: the clean mix in one pass. */
		sample_clip_to(mix, (const float *)(const void *)ring, samples);
		return;
	}
	span_set(d, ring, n, at, buf, channels);
	sample_clip(mix, samples);
}

/* Exclusive playback: copies a span of client frames into the device's buffer, bit-exact. */
static void span_copy_out(struct stream_dir *d, unsigned char *ring, uint32_t n, uint32_t at,
			  void *buf, int channels)
{
	size_t size = sample_format_size((enum sample_format)d->dtype);
	size_t out_frame = size * (size_t)channels;
	unsigned char *out = (unsigned char *)buf + (size_t)at * out_frame;

	if (routes_identity(d, channels)) {
		memcpy(out, ring, (size_t)n * out_frame);
		return;
	}
	for (uint32_t f = 0; f < n; f++)
		for (int i = 0; i < d->nroutes; i++)
			memcpy(out + f * out_frame + d->routes[i].dst * size,
			       ring + f * d->frame_bytes + d->routes[i].src * size, size);
}

/* Shared capture: converts a span of device floats into client frames, with its volume. */
static void span_capture(struct stream_dir *d, unsigned char *ring, uint32_t n, uint32_t at,
			 void *buf, int channels)
{
	const float *in = (const float *)buf + (size_t)at * (size_t)channels;
	size_t size = sample_format_size((enum sample_format)d->dtype);
	float gains[GAIN_BLOCK];

	if (!d->scaled && d->dtype == SAMPLE_FLOAT32 && routes_identity(d, channels)) {
		/* Float frames of the device's shape: the captured bytes as they are, at once. */
		memcpy(ring, in, (size_t)n * d->frame_bytes);
		return;
	}
	for (int i = 0; i < d->nroutes; i++) {
		int src = d->routes[i].src, dst = d->routes[i].dst;

		if (!d->scaled) {
			sample_from_float(d->dtype, in + src, (size_t)channels, ring + dst * size,
					  d->frame_bytes, n);
			continue;
		}
		for (uint32_t f = 0; f < n; f += GAIN_BLOCK) {
			uint32_t k = n - f < GAIN_BLOCK ? n - f : GAIN_BLOCK;

			rt_gains(d, dst, d->ramp_pos + at + f, k, gains);
			sample_from_float_gain(d->dtype, in + (size_t)f * (size_t)channels + src,
					       (size_t)channels,
					       ring + (size_t)f * d->frame_bytes + dst * size,
					       d->frame_bytes, k, gains);
		}
	}
}

/* Exclusive capture: copies a span of device frames into client frames, bit-exact. */
static void span_copy_in(struct stream_dir *d, unsigned char *ring, uint32_t n, uint32_t at,
			 void *buf, int channels)
{
	size_t size = sample_format_size((enum sample_format)d->dtype);
	size_t in_frame = size * (size_t)channels;
	const unsigned char *in = (const unsigned char *)buf + (size_t)at * in_frame;

	if (routes_identity(d, channels)) {
		memcpy(ring, in, (size_t)n * in_frame);
		return;
	}
	for (uint32_t f = 0; f < n; f++)
		for (int i = 0; i < d->nroutes; i++)
			memcpy(ring + f * d->frame_bytes + d->routes[i].dst * size,
			       in + f * in_frame + d->routes[i].src * size, size);
}

/* Applies fn to n frames of the ring from index on, in at most two spans. */
static void ring_apply(struct stream_dir *d, uint32_t index, uint32_t n, uint32_t at, span_fn fn,
		       void *buf, int channels)
{
	uint32_t offset, first, second;

	ring_spans(index, n, d->capacity, &offset, &first, &second);
	fn(d, d->data + (size_t)offset * d->frame_bytes, first, at, buf, channels);
	if (second)
		fn(d, d->data, second, at + first, buf, channels);
}

/*
 * Returns true (once) when the client asked to abort: the direction is done
 * and the loop thread ends the stream.
 */
static bool rt_aborted(struct stream_dir *d)
{
	if (!atomic_load_explicit(&d->ctl->abort, memory_order_relaxed))
		return false;
	atomic_store_explicit(&d->stream->aborted, true, memory_order_relaxed);
	atomic_store_explicit(&d->done, true, memory_order_release);
	return true;
}

/*
 * Decides whether a stream still waiting to start may start now: playback
 * starts once start_frames are buffered or the client marked the end.
 * Returns the current state.
 */
static int rt_check_start(struct stream_dir *d, uint32_t fill, bool eof, uint32_t *events)
{
	struct stream *s = d->stream;
	int state = atomic_load_explicit(&s->state, memory_order_acquire);
	uint32_t want;

	if (state != SHM_STATE_PREFILL || !atomic_load_explicit(&s->autostart, memory_order_acquire))
		return state;
	want = s->start_frames < d->capacity ? s->start_frames : d->capacity;
	if (d == &s->out && !eof && (fill < want || s->loop))
		return state;
	if (d == &s->in && s->out.used)
		return state; /* playrec: the playback side decides */
	if (atomic_compare_exchange_strong(&s->state, &state, SHM_STATE_RUNNING)) {
		atomic_store_explicit(&s->hdr->state, SHM_STATE_RUNNING, memory_order_release);
		*events |= STREAM_EV_STATE;
	}
	return atomic_load_explicit(&s->state, memory_order_acquire);
}

/*
 * Reads what the client has queued for playback: *fill frames and whether
 * the end is among them.  The end is the client's end mark or, for a sound
 * whose length it declared (limit), that many frames: frames queued beyond
 * it are never played, and no end mark is needed.  eof is read before the
 * index, so that with the mark seen the fill counts the last frames.
 * Returns a negative errno when the client's index is out of the ring.
 */
static int rt_queued(struct stream_dir *d, uint32_t *fill, bool *eof)
{
	*eof = atomic_load_explicit(&d->ctl->eof, memory_order_acquire) != 0;
	if (ring_readable(d->ctl, d->capacity, d->index, fill) < 0)
		return -EPROTO;
	if (d->limit >= 0) {
		uint64_t left = (uint64_t)d->limit > d->position ? (uint64_t)d->limit - d->position : 0;

		if (*fill >= left) {
			*fill = (uint32_t)left;
			*eof = true;
		}
	}
	return 0;
}

/*
 * The playback half shared by the mixing and the exclusive paths: takes up
 * to frames frames from the ring (or the loop) and hands them to fn.
 * Returns notifications; *ret_produced receives the frames produced.
 */
static uint32_t rt_pull(struct stream_dir *d, uint32_t frames, span_fn fn, void *buf,
			int channels, double dac_time, double now, double rate,
			uint32_t *ret_produced)
{
	struct stream *s = d->stream;
	uint32_t events = 0, fill, produced = 0;
	bool eof;
	int state;

	*ret_produced = 0;
	if (atomic_load_explicit(&d->done, memory_order_relaxed) ||
	    atomic_load_explicit(&s->violation, memory_order_relaxed))
		return 0;
	if (rt_aborted(d))
		return STREAM_EV_STATE;
	if (rt_queued(d, &fill, &eof) < 0) {
		stream_rt_violation(s);
		return STREAM_EV_STATE;
	}
	state = rt_check_start(d, fill, eof, &events);
	if (state != SHM_STATE_RUNNING)
		return events;

	if (s->loop && !d->looping) {
		/* The whole sound is in the ring: replay it from our own index, never consuming it. */
		if (ring_readable(d->ctl, d->capacity, d->index, &fill) < 0) {
			stream_rt_violation(s);
			return STREAM_EV_STATE;
		}
		d->looping = true;
		d->loop_start = d->index;
		d->loop_end = d->index + fill;
	}
	ring_clock_write(&d->ctl->clock, d->position, dac_time, now, rate);

	if (d->looping) {
		if (d->loop_end == d->loop_start) {
			atomic_store_explicit(&d->done, true, memory_order_relaxed);
			return events | STREAM_EV_STATE;
		}
		while (produced < frames) {
			uint32_t n = d->loop_end - d->index;

			if (n > frames - produced)
				n = frames - produced;
			ring_apply(d, d->index, n, produced, fn, buf, channels);
			produced += n;
			d->index += n;
			if (d->index == d->loop_end)
				d->index = d->loop_start;
		}
		d->position += produced;
		rt_count(&s->frames_out, &s->hdr->frames_out, produced);
		*ret_produced = produced;
		return events;
	}

	for (int pass = 0; pass < 2 && produced < frames; pass++) {
		uint32_t n = fill < frames - produced ? fill : frames - produced;

		if (n) {
			ring_apply(d, d->index, n, produced, fn, buf, channels);
			produced += n;
			d->index += n;
			d->position += n;
			ring_consumed(d->ctl, d->index);
		}
		if (produced == frames || pass == 1)
			break;
		/*
		 * Short of data: is it the end?  The client may have written more
		 * and set its end mark since: read both again.
		 */
		if (eof)
			break; /* the fill was read after the mark: nothing more comes */
		if (rt_queued(d, &fill, &eof) < 0) {
			stream_rt_violation(s);
			return events | STREAM_EV_STATE;
		}
		if (fill == 0)
			break;
	}
	rt_count(&s->frames_out, &s->hdr->frames_out, produced);
	*ret_produced = produced;

	if (produced < frames) {
		if (rt_queued(d, &fill, &eof) == 0 && eof && fill == 0) {
			double end = dac_time + (double)produced / rate;
			uint64_t bits;

			memcpy(&bits, &end, 8);
			atomic_store_explicit(&s->end_time_bits, bits, memory_order_relaxed);
			atomic_store_explicit(&d->done, true, memory_order_release);
			events |= STREAM_EV_STATE;
		} else {
			rt_count(&s->silence_out, &s->hdr->silence_out, frames - produced);
			events |= rt_xrun(d, SHM_OUTPUT_UNDERFLOW, d->position);
		}
	}
	/* The client may sleep until enough space is free. */
	if (ring_readable(d->ctl, d->capacity, d->index, &fill) == 0 &&
	    ring_wake_wanted(d->ctl, d->capacity, d->capacity - fill))
		stream_wake_client(s);
	return events;
}

uint32_t stream_rt_mix(struct stream_dir *d, float *mix, int channels, uint32_t frames,
		       double dac_time, double now, double rate, enum stream_mix how)
{
	static const span_fn fns[] = {
		[STREAM_MIX_ADD] = span_mix,
		[STREAM_MIX_SET] = span_set,
		[STREAM_MIX_SET_CLIP] = span_set_clip,
	};
	uint32_t produced, events;

	rt_take_volume(d);
	events = rt_pull(d, frames, fns[how], mix, channels, dac_time, now, rate, &produced);
	rt_ramp_advance(d, produced);
	/* Frames are produced from the start of the buffer on: silence the rest. */
	if (how != STREAM_MIX_ADD && produced < frames)
		memset(mix + (size_t)produced * (size_t)channels, 0,
		       (size_t)(frames - produced) * (size_t)channels * sizeof(float));
	return events;
}

uint32_t stream_rt_copy_out(struct stream_dir *d, unsigned char *out, int channels,
			    uint32_t frames, double dac_time, double now, double rate,
			    bool *ret_complete)
{
	size_t size = sample_format_size((enum sample_format)d->dtype);
	size_t samples = (size_t)frames * (size_t)channels;
	bool whole = routes_identity(d, channels);
	uint32_t produced, events;

	/*
	 * Identity routes write whole frames, from the start of out on: only
	 * the frames the ring lacks need silence, after the copy, so that out
	 * is written once.  Other routes leave channels unrouted: all of out is
	 * silenced first.
	 */
	if (!whole)
		sample_silence(d->dtype, out, size, samples);
	events = rt_pull(d, frames, span_copy_out, out, channels, dac_time, now, rate, &produced);
	if (whole && produced < frames)
		sample_silence(d->dtype, out + (size_t)produced * (size_t)channels * size, size,
			       (size_t)(frames - produced) * (size_t)channels);
	*ret_complete = atomic_load_explicit(&d->done, memory_order_relaxed) ||
			atomic_load_explicit(&d->stream->violation, memory_order_relaxed);
	return events;
}

/* The capture half shared by the fan-out and the exclusive paths. */
static uint32_t rt_push(struct stream_dir *d, uint32_t frames, span_fn fn, void *buf, int channels,
			double adc_time, double now, double rate)
{
	struct stream *s = d->stream;
	uint32_t events = 0, space, n, m;
	int state;

	if (atomic_load_explicit(&d->done, memory_order_relaxed) ||
	    atomic_load_explicit(&s->violation, memory_order_relaxed))
		return 0;
	if (rt_aborted(d))
		return STREAM_EV_STATE;
	if (ring_writable(d->ctl, d->capacity, d->index, &space) < 0) {
		stream_rt_violation(s);
		return STREAM_EV_STATE;
	}
	state = rt_check_start(d, 0, false, &events);
	if (state != SHM_STATE_RUNNING && state != SHM_STATE_DRAINING)
		return events;

	n = frames;
	if (d->limit >= 0 && (int64_t)n > d->limit - (int64_t)d->position)
		n = (uint32_t)(d->limit - (int64_t)d->position);
	m = n < space ? n : space;
	ring_clock_write(&d->ctl->clock, atomic_load_explicit(&s->frames_in, memory_order_relaxed),
			 adc_time, now, rate);
	if (m) {
		ring_apply(d, d->index, m, 0, fn, buf, channels);
		d->index += m;
		ring_produced(d->ctl, d->index);
		rt_count(&s->frames_in, &s->hdr->frames_in, m);
	}
	if (m < n) {
		rt_count(&s->dropped_in, &s->hdr->dropped_in, n - m);
		events |= rt_xrun(d, SHM_INPUT_OVERFLOW, d->position + m);
	}
	d->position += n;
	if (d->limit >= 0 && (int64_t)d->position >= d->limit) {
		atomic_store_explicit(&d->done, true, memory_order_release);
		events |= STREAM_EV_STATE;
	}
	if (ring_wake_wanted(d->ctl, d->capacity, d->capacity - space + m))
		stream_wake_client(s);
	return events;
}

uint32_t stream_rt_capture(struct stream_dir *d, const float *in, int channels, uint32_t frames,
			   double adc_time, double now, double rate)
{
	uint64_t before = atomic_load_explicit(&d->stream->frames_in, memory_order_relaxed);
	uint32_t events;

	rt_take_volume(d);
	events = rt_push(d, frames, span_capture, (void *)in, channels, adc_time, now, rate);
	rt_ramp_advance(d, (uint32_t)(atomic_load_explicit(&d->stream->frames_in,
							   memory_order_relaxed) -
				      before));
	return events;
}

uint32_t stream_rt_copy_in(struct stream_dir *d, const unsigned char *in, int channels,
			   uint32_t frames, double adc_time, double now, double rate)
{
	return rt_push(d, frames, span_copy_in, (void *)in, channels, adc_time, now, rate);
}
