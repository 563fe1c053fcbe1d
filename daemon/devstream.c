/*
 * Device streams: PortAudio streams, their realtime callbacks and the
 * lock-free attach lists.  The two callbacks run on PortAudio's audio
 * thread and follow the realtime rules (see stream-rt.c); the rest runs on
 * the loop thread.
 */
#include "devstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend.h"
#include "daemon.h"
#include "devices.h"
#include "engine.h"
#include "log.h"
#include "sample.h"
#include "stream.h"

/* An old attach list waiting for the audio thread to move past it. */
struct retiree {
	struct list link;
	uint32_t generation;
	struct attach_list *list;
	struct stream *stream; /* whose reference is dropped on release, or NULL */
};

#define XRUN_FLAGS (SHM_INPUT_UNDERFLOW | SHM_INPUT_OVERFLOW | SHM_OUTPUT_UNDERFLOW | SHM_OUTPUT_OVERFLOW)

#ifdef SDD_TEST_HOOKS
_Atomic int devstream_test_stall;

/* Audio thread, test builds only: hangs here while the test asks for a stall. */
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

/* Audio thread: wakes the loop thread. */
static void rt_notify(struct devstream *ds)
{
	uint64_t one = 1;
	ssize_t n = write(ds->notify_fd, &one, sizeof(one));

	(void)n;
}

/* Audio thread: loads the current list and acknowledges its generation. */
static struct attach_list *rt_list(struct devstream *ds, bool *notify)
{
	struct attach_list *list = atomic_load_explicit(&ds->list, memory_order_acquire);

	atomic_fetch_add_explicit(&ds->callbacks, 1, memory_order_relaxed);
	if (list->generation != ds->rt_seen) {
		ds->rt_seen = list->generation;
		atomic_store_explicit(&ds->seen_generation, list->generation, memory_order_release);
		*notify = true;
	}
	return list;
}

/* Audio thread: hands a stream's notifications to the loop thread. */
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

/* The realtime callback of shared device streams: mix playback, fan capture out. */
static enum backend_result shared_callback(void *userdata, const void *input, void *output,
					   unsigned long frames, const struct backend_times *ti,
					   uint32_t status)
{
	struct devstream *ds = userdata;
	bool notify = false;
	struct attach_list *list;
	double rate = ds->actual_rate;

	rt_test_stall();
	list = rt_list(ds, &notify);
	if (status & XRUN_FLAGS)
		atomic_fetch_add_explicit(&ds->device_xruns, 1, memory_order_relaxed);
	if (ds->cfg.mode == DEVSTREAM_SHARED_OUT) {
		int ch = ds->cfg.channels_out;
		float *out = output;

		/*
		 * The first stream sets the buffer (and silences what it does not
		 * fill), the others add to it; a single stream clamps as it writes.
		 */
		enum stream_mix first = list->count == 1 && list->clip ? STREAM_MIX_SET_CLIP
									: STREAM_MIX_SET;

		if (list->count == 0)
			memset(out, 0, frames * (size_t)ch * sizeof(float));
		for (uint32_t i = 0; i < list->count; i++) {
			struct stream_dir *d = list->dirs[i];
			uint32_t ev = stream_rt_device_flags(d, (uint32_t)status);

			ev |= stream_rt_mix(d, out, ch, (uint32_t)frames, ti->output_dac,
					    ti->now, rate, i == 0 ? first : STREAM_MIX_ADD);
			rt_post(d, ev, &notify);
		}
		if (list->clip && list->count > 1)
			sample_clip(out, frames * (size_t)ch);
	} else {
		int ch = ds->cfg.channels_in;

		for (uint32_t i = 0; i < list->count; i++) {
			struct stream_dir *d = list->dirs[i];
			uint32_t ev = stream_rt_device_flags(d, (uint32_t)status);

			ev |= stream_rt_capture(d, input, ch, (uint32_t)frames, ti->input_adc,
						ti->now, rate);
			rt_post(d, ev, &notify);
		}
	}
	if (notify)
		rt_notify(ds);
	return BACKEND_CONTINUE;
}

/* The realtime callback of exclusive device streams: bit-exact copies. */
static enum backend_result exclusive_callback(void *userdata, const void *input, void *output,
					      unsigned long frames, const struct backend_times *ti,
					      uint32_t status)
{
	struct devstream *ds = userdata;
	bool notify = false, complete = true, flagged = false;
	struct attach_list *list;
	double rate = ds->actual_rate;

	rt_test_stall();
	list = rt_list(ds, &notify);
	if (status & XRUN_FLAGS)
		atomic_fetch_add_explicit(&ds->device_xruns, 1, memory_order_relaxed);
	if (output)
		sample_silence(ds->cfg.format_out, output, sample_format_size(ds->cfg.format_out),
			       frames * (size_t)ds->cfg.channels_out);
	if (list->count == 0) {
		if (notify)
			rt_notify(ds);
		return BACKEND_CONTINUE;
	}
	for (uint32_t i = 0; i < list->count; i++) {
		struct stream_dir *d = list->dirs[i];
		uint32_t ev = 0;

		if (!flagged) {
			ev |= stream_rt_device_flags(d, (uint32_t)status);
			flagged = true;
		}
		if (d == &d->stream->out) {
			bool done = false;

			ev |= stream_rt_copy_out(d, output, ds->cfg.channels_out, (uint32_t)frames,
						 ti->output_dac, ti->now, rate, &done);
			complete = complete && done;
		} else {
			struct stream *s = d->stream;

			ev |= stream_rt_copy_in(d, input, ds->cfg.channels_in, (uint32_t)frames,
						ti->input_adc, ti->now, rate);
			/* An open-ended playrec records as long as it plays (as shared ones do). */
			complete = complete &&
				   (atomic_load_explicit(&d->done, memory_order_relaxed) ||
				    atomic_load_explicit(&s->violation, memory_order_relaxed) ||
				    (d->limit < 0 && s->out.used &&
				     atomic_load_explicit(&s->out.done, memory_order_relaxed)));
		}
		rt_post(d, ev, &notify);
	}
	if (notify)
		rt_notify(ds);
	/* Completing still plays what this and earlier periods hold; then the finished callback runs. */
	return complete ? BACKEND_COMPLETE : BACKEND_CONTINUE;
}

/* The backend's thread: the stream became inactive (after completing, a stop or by itself). */
static void on_finished(void *userdata)
{
	struct devstream *ds = userdata;

	atomic_store_explicit(&ds->finished, 1, memory_order_release);
	rt_notify(ds);
}

/* Frees retired lists the audio thread has moved past (all of them when force is set). */
static void reap(struct devstream *ds, bool force)
{
	uint32_t seen = atomic_load_explicit(&ds->seen_generation, memory_order_acquire);
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &ds->retiring)
	{
		struct retiree *r = list_entry(pos, struct retiree, link);

		/* Generations only grow; the difference handles wrap-around. */
		if (!force && (int32_t)(seen - r->generation) < 0)
			continue;
		list_remove(&r->link);
		free(r->list);
		if (r->stream)
			engine_stream_unref(ds->engine, r->stream);
		free(r);
	}
}

static void on_notify(uv_poll_t *handle, int status, int events)
{
	struct devstream *ds = handle->data;
	uint64_t count;

	if (read(ds->notify_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_debug("Device stream notify read failed: %s", strerror(errno));
	reap(ds, false);
	engine_devstream_notify(ds->engine, ds);
}

/* Replaces the attach list; the old one is freed when acknowledged. */
static int publish(struct devstream *ds, struct attach_list *next, struct stream *released)
{
	struct attach_list *old = atomic_load_explicit(&ds->list, memory_order_relaxed);
	struct retiree *r = calloc(1, sizeof(*r));

	if (!r) {
		free(next);
		return -ENOMEM;
	}
	next->generation = ++ds->generation;
	r->generation = next->generation;
	r->list = old;
	r->stream = released;
	list_insert_tail(&ds->retiring, &r->link);
	atomic_store_explicit(&ds->list, next, memory_order_release);
	/* Without a running callback nobody will acknowledge: release at once. */
	if (!ds->started || atomic_load(&ds->finished))
		reap(ds, true);
	return 0;
}

/* Builds a list of the current entries, optionally without drop and with add. */
static struct attach_list *list_edit(struct devstream *ds, struct stream_dir *drop,
				     struct stream_dir *add)
{
	struct attach_list *cur = atomic_load_explicit(&ds->list, memory_order_relaxed);
	struct attach_list *next = calloc(1, sizeof(*next) + sizeof(next->dirs[0]) * (cur->count + 1));
	bool all_clip_off = true;

	if (!next)
		return NULL;
	for (uint32_t i = 0; i < cur->count; i++)
		if (cur->dirs[i] != drop)
			next->dirs[next->count++] = cur->dirs[i];
	if (add)
		next->dirs[next->count++] = add;
	for (uint32_t i = 0; i < next->count; i++)
		all_clip_off = all_clip_off && next->dirs[i]->stream->clip_off;
	next->clip = next->count == 0 || !all_clip_off;
	return next;
}

int devstream_attach(struct devstream *ds, struct stream_dir *d)
{
	struct attach_list *next = list_edit(ds, NULL, d);
	int r;

	if (!next)
		return -ENOMEM;
	r = publish(ds, next, NULL);
	if (r < 0)
		return r;
	d->dev = ds;
	d->stream->rt_refs++;
	uv_timer_stop(&ds->idle_timer);
	return 0;
}

int devstream_detach(struct devstream *ds, struct stream_dir *d)
{
	struct attach_list *next = list_edit(ds, d, NULL);
	int r;

	if (!next)
		return -ENOMEM;
	d->dev = NULL;
	r = publish(ds, next, d->stream);
	if (r < 0) {
		/* Keep the reference: the stream stays allocated rather than risk a use after free. */
		log_error("Out of memory detaching a stream; it will leak");
		return r;
	}
	return 0;
}

uint32_t devstream_attached(const struct devstream *ds)
{
	return atomic_load_explicit(&((struct devstream *)ds)->list, memory_order_relaxed)->count;
}

double devstream_time(const struct devstream *ds)
{
	return ds->bs ? ds->backend->ops->time(ds->bs) : 0;
}

double devstream_cpu_load(const struct devstream *ds)
{
	return ds->bs ? ds->backend->ops->cpu_load(ds->bs) : 0;
}

static void on_idle(uv_timer_t *timer)
{
	struct devstream *ds = timer->data;

	if (devstream_attached(ds) == 0) {
		log_info("Closing idle device stream on device %d",
			 ds->cfg.device_out >= 0 ? ds->cfg.device_out : ds->cfg.device_in);
		engine_devstream_idle(ds->engine, ds);
	}
}

static void on_handle_closed(uv_handle_t *handle)
{
	struct devstream *ds = handle->data;

	if (--ds->pending_closes == 0) {
		close(ds->notify_fd);
		free(ds);
	}
}

int devstream_start(struct devstream *ds, struct proto_error *err)
{
	struct backend_error be;

	if (ds->backend->ops->start(ds->bs, &be) < 0)
		return backend_error_proto(err, &be, PROTO_E_PORTAUDIO,
					   "Cannot start the stream on device %d",
					   ds->cfg.device_out >= 0 ? ds->cfg.device_out : ds->cfg.device_in);
	ds->started = true;
	return 0;
}

void devstream_close(struct devstream *ds)
{
	struct attach_list *list;

	if (ds->closing)
		return;
	ds->closing = true;
	list_remove(&ds->link);
	if (ds->bs) {
		/* Abort: nothing attached wants the buffered audio any more. */
		if (ds->started)
			ds->backend->ops->abort(ds->bs);
		ds->backend->ops->close(ds->bs);
		ds->bs = NULL;
	}
	ds->started = false;
	/* No callback runs any more: everything retired can go, and the current list too. */
	list = atomic_load_explicit(&ds->list, memory_order_relaxed);
	for (uint32_t i = 0; i < list->count; i++) {
		list->dirs[i]->dev = NULL;
		engine_stream_unref(ds->engine, list->dirs[i]->stream);
	}
	reap(ds, true);
	free(list);
	atomic_store(&ds->list, NULL);
	uv_timer_stop(&ds->idle_timer);
	uv_poll_stop(&ds->notify_poll);
	ds->pending_closes = 2;
	uv_close((uv_handle_t *)&ds->idle_timer, on_handle_closed);
	uv_close((uv_handle_t *)&ds->notify_poll, on_handle_closed);
}

void devstream_arm_idle(struct devstream *ds, double seconds)
{
	if (ds->closing || ds->cfg.mode == DEVSTREAM_EXCLUSIVE || devstream_attached(ds) > 0)
		return;
	uv_timer_start(&ds->idle_timer, on_idle, (uint64_t)(seconds * 1000.0), 0);
}

int devstream_open(struct engine *e, const struct devstream_config *cfg, struct devstream **ret,
		   struct proto_error *err)
{
	struct backend_params params = {
		.device_in = cfg->device_in,
		.device_out = cfg->device_out,
		.channels_in = cfg->channels_in,
		.channels_out = cfg->channels_out,
		.format_in = cfg->format_in,
		.format_out = cfg->format_out,
		.samplerate = cfg->samplerate,
		.blocksize = cfg->blocksize,
		.latency_in = cfg->latency_in,
		.latency_out = cfg->latency_out,
		.flags = cfg->flags,
	};
	struct backend_callbacks cb = {
		.process = cfg->mode == DEVSTREAM_EXCLUSIVE ? exclusive_callback : shared_callback,
		.finished = on_finished,
	};
	struct backend_stream_info info;
	struct backend_error be;
	struct devstream *ds;
	int r;

	ds = calloc(1, sizeof(*ds));
	if (!ds)
		return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
	ds->engine = e;
	ds->backend = e->daemon->backend;
	ds->cfg = *cfg;
	ds->notify_fd = -1;
	ds->last_callbacks = UINT64_MAX;
	list_init(&ds->retiring);
	list_init(&ds->link);
	atomic_init(&ds->list, calloc(1, sizeof(struct attach_list)));
	if (!atomic_load(&ds->list)) {
		free(ds);
		return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
	}
	atomic_load(&ds->list)->clip = true;
	ds->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ds->notify_fd < 0) {
		r = -errno;
		free(atomic_load(&ds->list));
		free(ds);
		return proto_error_set(err, PROTO_E_INTERNAL, "cannot create an eventfd: %s",
				       strerror(-r));
	}
	cb.data = ds;
	if (ds->backend->ops->open(ds->backend, &params, &cb, &ds->bs, &be) < 0) {
		ds->bs = NULL;
		r = backend_error_proto(err, &be, be.busy ? PROTO_E_BUSY : PROTO_E_PORTAUDIO,
					"Cannot open a stream on device %d (%s)",
					cfg->device_out >= 0 ? cfg->device_out : cfg->device_in,
					cfg->mode == DEVSTREAM_EXCLUSIVE ? "exclusive" : "shared");
		goto fail;
	}
	ds->backend->ops->info(ds->bs, &info);
	ds->actual_rate = info.samplerate > 0 ? info.samplerate : cfg->samplerate;
	ds->actual_latency_in = info.latency_in;
	ds->actual_latency_out = info.latency_out;

	uv_poll_init(e->daemon->loop, &ds->notify_poll, ds->notify_fd);
	uv_timer_init(e->daemon->loop, &ds->idle_timer);
	ds->notify_poll.data = ds;
	ds->idle_timer.data = ds;
	uv_poll_start(&ds->notify_poll, UV_READABLE, on_notify);

	list_insert_tail(&e->devstreams, &ds->link);
	*ret = ds;
	return 0;
fail:
	close(ds->notify_fd);
	free(atomic_load(&ds->list));
	free(ds);
	return r;
}
