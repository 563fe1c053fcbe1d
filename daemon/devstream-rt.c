/*
 * The realtime half of device streams: the backend's process and finished
 * callbacks.  Everything in this file runs on the backend's audio thread
 * (the finished callback on whichever thread ends the stream) and follows
 * the realtime rules of stream-rt.c: no allocation, no lock, no logging,
 * no system call but the eventfd write that wakes the loop thread.  The
 * file holds nothing else, so that its undefined symbols can be checked.
 *
 * The shared path is one place: rt_mix() builds a period's playback out
 * of every attached stream, rt_fan_out() hands a period's capture to
 * every attached recorder; streams at another rate than the device
 * stream's go through their rate group (rategroup-rt.c) on the way.
 */
#include <string.h>
#include <unistd.h>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "devstream.h"
#include "rategroup.h"
#include "sample.h"
#include "shm.h"
#include "stream.h"

#define XRUN_FLAGS                                                                                 \
	(SHM_INPUT_UNDERFLOW | SHM_INPUT_OVERFLOW | SHM_OUTPUT_UNDERFLOW | SHM_OUTPUT_OVERFLOW)

#ifdef SDD_TEST_HOOKS
_Atomic int devstream_test_stall;

/* Test builds only: hangs here while the test asks for a stall. */
static void rt_test_stall(void)
{
	while (atomic_load_explicit(&devstream_test_stall, memory_order_relaxed))
		;
}
#else
static inline void rt_test_stall(void)
{
}
#endif

/* Wakes the loop thread. */
static void rt_notify(struct devstream *ds)
{
	uint64_t one = 1;
	ssize_t n = write(ds->notify_fd, &one, sizeof(one));

	(void)n;
}

/*
 * Counts the callback in (and its frames, for devstream_period()), loads
 * the current list and acknowledges its generation.
 */
static struct attach_list *rt_enter(struct devstream *ds, unsigned long frames, uint32_t status,
				    bool *notify)
{
	struct attach_list *list;

	atomic_fetch_add_explicit(&ds->callbacks, 1, memory_order_relaxed);
	/* Only this thread writes it: a plain load and store keep the maximum. */
	if (frames > atomic_load_explicit(&ds->max_frames, memory_order_relaxed) && frames <= UINT32_MAX)
		atomic_store_explicit(&ds->max_frames, (uint32_t)frames, memory_order_relaxed);
	rt_test_stall();
	list = atomic_load_explicit(&ds->list, memory_order_acquire);
	if (list->generation != ds->rt_seen) {
		ds->rt_seen = list->generation;
		atomic_store_explicit(&ds->seen_generation, list->generation, memory_order_release);
		*notify = true;
	}
	if (status & XRUN_FLAGS)
		atomic_fetch_add_explicit(&ds->device_xruns, 1, memory_order_relaxed);
	return list;
}

/* Wakes the loop thread when asked to and counts the callback out. */
static void rt_leave(struct devstream *ds, bool notify)
{
	if (notify)
		rt_notify(ds);
	atomic_fetch_add_explicit(&ds->returns, 1, memory_order_release);
}

/* Hands a stream's notifications to the loop thread. */
static void rt_post(struct stream_dir *d, uint32_t events, bool *notify)
{
	uint32_t old;

	if (!events)
		return;
	old = atomic_fetch_or_explicit(&d->stream->events, events, memory_order_acq_rel);
	/*
	 * The loop thread takes all of a stream's bits at once (exchange with
	 * 0) when woken: a bit that was still set has a wake-up on its way, so
	 * only a new bit needs one.  An underflowing stream thus costs one
	 * eventfd write per batch, not one per period.
	 */
	if (events & ~old)
		*notify = true;
}

/*
 * Denormal floats take the x87/SSE units a slow path of up to a hundred
 * cycles each: a resampler's filter memory or a ramp fading to silence
 * would be full of them.  The audio thread flushes them to zero (FTZ) and
 * takes denormal inputs as zero (DAZ); only this thread is affected.
 */
static void rt_flush_denormals(void)
{
#if defined(__SSE__)
	unsigned csr = _mm_getcsr();

	if ((csr & 0x8040u) != 0x8040u)
		_mm_setcsr(csr | 0x8040u);
#elif defined(__aarch64__)
	uint64_t fpcr;

	__asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
	if (!(fpcr & (1u << 24)))
		__asm__ volatile("msr fpcr, %0" : : "r"(fpcr | (1u << 24)));
#endif
}

/* Hands a period's device flags to each direction once (each takes its own direction's). */
static void rt_device_flags(const struct attach_side *side, uint32_t status, bool *notify)
{
	if (!(status & (XRUN_FLAGS | SHM_PRIMING_OUTPUT)))
		return;
	for (uint32_t i = 0; i < side->count; i++)
		rt_post(side->dirs[i], stream_rt_device_flags(side->dirs[i], status), notify);
}

/*
 * Mixes a rate group's streams at their rate and adds them, resampled, to
 * out, in pieces of at most the group's chunk.  An own group (an aligned
 * playrec's) starts only with its stream, at the start of a period, so
 * that its resampler starts in the same period as its capture's.
 */
static void rt_mix_group(struct devstream *ds, const struct attach_side *side,
			 const struct attach_group *ag, float *out, uint32_t frames,
			 const struct backend_times *t, bool *notify)
{
	struct rategroup *g = ag->group;
	size_t dch = (size_t)ds->cfg.channels_out;

	for (uint32_t off = 0; off < frames; off += g->chunk) {
		uint32_t n = frames - off < g->chunk ? frames - off : g->chunk, need;
		double delay, dac;
		float *buf = rategroup_rt_play_begin(g, n, &need, &delay);

		if (g->own && !g->running && off > 0)
			break;
		dac = t->output_dac + (double)off / ds->actual_rate + delay;
		for (uint32_t i = 0; i < ag->count; i++) {
			struct stream_dir *d = side->dirs[ag->first + i];

			rt_post(d,
				stream_rt_mix(d, buf, g->channels, need, dac, t->now, g->rate,
					      i == 0 ? STREAM_MIX_SET : STREAM_MIX_ADD),
				notify);
		}
		if (g->own && !g->running) {
			struct stream *s = side->dirs[ag->first]->stream;

			if (atomic_load_explicit(&s->state, memory_order_relaxed) != SHM_STATE_RUNNING)
				break;
			g->running = true;
		}
		rategroup_rt_play_end(g, out + off * dch, n);
	}
}

/*
 * Mixes the playback of every attached stream into out (float32, ch
 * channels interleaved).  The first direct stream sets the buffer (and
 * silences what it does not fill), the others add to it; the rate groups
 * add theirs.  A single stream clamps as it writes, several are clamped
 * once at the end.
 */
static void rt_mix(struct devstream *ds, const struct attach_list *list, float *out,
		   uint32_t frames, const struct backend_times *t, uint32_t status, bool *notify)
{
	const struct attach_side *side = &list->out;
	int ch = ds->cfg.channels_out;
	bool single = side->count == 1 && side->direct == 1 && list->clip;
	enum stream_mix first = single ? STREAM_MIX_SET_CLIP : STREAM_MIX_SET;

	rt_device_flags(side, status, notify);
	if (side->direct == 0)
		memset(out, 0, frames * (size_t)ch * sizeof(float));
	for (uint32_t i = 0; i < side->direct; i++) {
		struct stream_dir *d = side->dirs[i];

		rt_post(d,
			stream_rt_mix(d, out, ch, frames, t->output_dac, t->now, ds->actual_rate,
				      i == 0 ? first : STREAM_MIX_ADD),
			notify);
	}
	for (uint32_t i = 0; i < side->ngroups; i++)
		rt_mix_group(ds, side, &side->groups[i], out, frames, t, notify);
	/* Sums can leave the float range (clip_off): such samples become silence or full scale. */
	if (list->clip && !single)
		sample_clip(out, frames * (size_t)ch);
	else if (!list->clip && side->count > 1)
		sample_sanitize(out, frames * (size_t)ch);
}

/* Resamples the captured frames for a rate group and hands them to its streams. */
static void rt_fan_out_group(struct devstream *ds, const struct attach_side *side,
			     const struct attach_group *ag, const float *in, uint32_t frames,
			     const struct backend_times *t, bool *notify)
{
	struct rategroup *g = ag->group;
	size_t dch = (size_t)ds->cfg.channels_in;

	for (uint32_t off = 0; off < frames; off += g->chunk) {
		uint32_t n = frames - off < g->chunk ? frames - off : g->chunk, made;
		double adc = t->input_adc + (double)off / ds->actual_rate - g->delay;
		const float *buf;

		/* An own group starts in the period its playrec starts playing, at its start. */
		if (g->own && !g->running) {
			int state = atomic_load_explicit(&side->dirs[ag->first]->stream->state,
							 memory_order_relaxed);

			if (off > 0 || (state != SHM_STATE_RUNNING && state != SHM_STATE_DRAINING))
				break;
			g->running = true;
		}
		buf = rategroup_rt_capture(g, in + off * dch, n, &made);
		for (uint32_t i = 0; i < ag->count; i++) {
			struct stream_dir *d = side->dirs[ag->first + i];

			rt_post(d, stream_rt_capture(d, buf, g->channels, made, adc, t->now, g->rate),
				notify);
		}
	}
}

/* Hands the captured frames (float32, interleaved) to every attached stream. */
static void rt_fan_out(struct devstream *ds, const struct attach_list *list, const float *in,
		       uint32_t frames, const struct backend_times *t, uint32_t status,
		       bool *notify)
{
	const struct attach_side *side = &list->in;

	rt_device_flags(side, status, notify);
	for (uint32_t i = 0; i < side->direct; i++) {
		struct stream_dir *d = side->dirs[i];

		rt_post(d,
			stream_rt_capture(d, in, ds->cfg.channels_in, frames, t->input_adc, t->now,
					  ds->actual_rate),
			notify);
	}
	for (uint32_t i = 0; i < side->ngroups; i++)
		rt_fan_out_group(ds, side, &side->groups[i], in, frames, t, notify);
}

enum backend_result devstream_rt_shared(void *data, const void *input, void *output,
					unsigned long frames, const struct backend_times *times,
					uint32_t status)
{
	struct devstream *ds = data;
	bool notify = false;
	struct attach_list *list = rt_enter(ds, frames, status, &notify);

	rt_flush_denormals();
	/* Playback first: a playrec that starts in this period records from it too. */
	if (output)
		rt_mix(ds, list, output, (uint32_t)frames, times, status, &notify);
	if (input)
		rt_fan_out(ds, list, input, (uint32_t)frames, times, status, &notify);
	rt_leave(ds, notify);
	return BACKEND_CONTINUE;
}

enum backend_result devstream_rt_exclusive(void *data, const void *input, void *output,
					   unsigned long frames,
					   const struct backend_times *times, uint32_t status)
{
	struct devstream *ds = data;
	bool notify = false, complete = true;
	struct attach_list *list = rt_enter(ds, frames, status, &notify);
	double rate = ds->actual_rate;

	if (output)
		sample_silence(ds->cfg.format_out, output, sample_format_size(ds->cfg.format_out),
			       frames * (size_t)ds->cfg.channels_out);
	if (list->out.count + list->in.count == 0) {
		rt_leave(ds, notify);
		return BACKEND_CONTINUE;
	}
	rt_device_flags(&list->out, status, &notify);
	rt_device_flags(&list->in, status, &notify);
	/* Playback first, as on shared device streams. */
	for (uint32_t i = 0; i < list->out.count; i++) {
		struct stream_dir *d = list->out.dirs[i];
		bool done = false;

		rt_post(d,
			stream_rt_copy_out(d, output, ds->cfg.channels_out, (uint32_t)frames,
					   times->output_dac, times->now, rate, &done),
			&notify);
		complete = complete && done;
	}
	for (uint32_t i = 0; i < list->in.count; i++) {
		struct stream_dir *d = list->in.dirs[i];
		struct stream *s = d->stream;

		rt_post(d,
			stream_rt_copy_in(d, input, ds->cfg.channels_in, (uint32_t)frames,
					  times->input_adc, times->now, rate),
			&notify);
		/* An open-ended playrec records as long as it plays (as shared ones do). */
		complete = complete && (atomic_load_explicit(&d->done, memory_order_relaxed) ||
					atomic_load_explicit(&s->violation, memory_order_relaxed) ||
					(d->limit < 0 && s->out.used &&
					 atomic_load_explicit(&s->out.done, memory_order_relaxed)));
	}
	rt_leave(ds, notify);
	/* Completing still plays what this and earlier periods hold; then the finished callback runs. */
	return complete ? BACKEND_COMPLETE : BACKEND_CONTINUE;
}

void devstream_rt_finished(void *data)
{
	struct devstream *ds = data;

	atomic_store_explicit(&ds->finished, 1, memory_order_release);
	rt_notify(ds);
}
