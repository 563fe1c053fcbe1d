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
 * every attached recorder.
 */
#include <string.h>
#include <unistd.h>

#include "devstream.h"
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
 * Mixes the playback of every attached stream into out (float32, ch
 * channels interleaved).  The first stream sets the buffer (and silences
 * what it does not fill), the others add to it; a single stream clamps as
 * it writes, several are clamped once at the end.
 */
static void rt_mix(struct devstream *ds, const struct attach_list *list, float *out,
		   uint32_t frames, const struct backend_times *t, uint32_t status, bool *notify)
{
	int ch = ds->cfg.channels_out;
	enum stream_mix first = list->count == 1 && list->clip ? STREAM_MIX_SET_CLIP : STREAM_MIX_SET;

	if (list->count == 0)
		memset(out, 0, frames * (size_t)ch * sizeof(float));
	for (uint32_t i = 0; i < list->count; i++) {
		struct stream_dir *d = list->dirs[i];
		uint32_t ev = stream_rt_device_flags(d, status);

		ev |= stream_rt_mix(d, out, ch, frames, t->output_dac, t->now, ds->actual_rate,
				    i == 0 ? first : STREAM_MIX_ADD);
		rt_post(d, ev, notify);
	}
	if (list->clip && list->count > 1)
		sample_clip(out, frames * (size_t)ch);
}

/* Hands the captured frames (float32, interleaved) to every attached stream. */
static void rt_fan_out(struct devstream *ds, const struct attach_list *list, const float *in,
		       uint32_t frames, const struct backend_times *t, uint32_t status,
		       bool *notify)
{
	for (uint32_t i = 0; i < list->count; i++) {
		struct stream_dir *d = list->dirs[i];
		uint32_t ev = stream_rt_device_flags(d, status);

		ev |= stream_rt_capture(d, in, ds->cfg.channels_in, frames, t->input_adc, t->now,
					ds->actual_rate);
		rt_post(d, ev, notify);
	}
}

enum backend_result devstream_rt_shared(void *data, const void *input, void *output,
					unsigned long frames, const struct backend_times *times,
					uint32_t status)
{
	struct devstream *ds = data;
	bool notify = false;
	struct attach_list *list = rt_enter(ds, frames, status, &notify);

	if (ds->cfg.mode == DEVSTREAM_SHARED_OUT)
		rt_mix(ds, list, output, (uint32_t)frames, times, status, &notify);
	else
		rt_fan_out(ds, list, input, (uint32_t)frames, times, status, &notify);
	rt_leave(ds, notify);
	return BACKEND_CONTINUE;
}

enum backend_result devstream_rt_exclusive(void *data, const void *input, void *output,
					   unsigned long frames,
					   const struct backend_times *times, uint32_t status)
{
	struct devstream *ds = data;
	bool notify = false, complete = true, flagged = false;
	struct attach_list *list = rt_enter(ds, frames, status, &notify);
	double rate = ds->actual_rate;

	if (output)
		sample_silence(ds->cfg.format_out, output, sample_format_size(ds->cfg.format_out),
			       frames * (size_t)ds->cfg.channels_out);
	if (list->count == 0) {
		rt_leave(ds, notify);
		return BACKEND_CONTINUE;
	}
	for (uint32_t i = 0; i < list->count; i++) {
		struct stream_dir *d = list->dirs[i];
		uint32_t ev = 0;

		if (!flagged) {
			ev |= stream_rt_device_flags(d, status);
			flagged = true;
		}
		if (d == &d->stream->out) {
			bool done = false;

			ev |= stream_rt_copy_out(d, output, ds->cfg.channels_out, (uint32_t)frames,
						 times->output_dac, times->now, rate, &done);
			complete = complete && done;
		} else {
			struct stream *s = d->stream;

			ev |= stream_rt_copy_in(d, input, ds->cfg.channels_in, (uint32_t)frames,
						times->input_adc, times->now, rate);
			/* An open-ended playrec records as long as it plays (as shared ones do). */
			complete = complete &&
				   (atomic_load_explicit(&d->done, memory_order_relaxed) ||
				    atomic_load_explicit(&s->violation, memory_order_relaxed) ||
				    (d->limit < 0 && s->out.used &&
				     atomic_load_explicit(&s->out.done, memory_order_relaxed)));
		}
		rt_post(d, ev, &notify);
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
