/*
 * Device streams on the loop thread: opening, starting and closing their
 * backend streams, the lock-free attach lists, and the wake-ups and idle
 * timer they report through their hooks.  The backend's callbacks are in
 * devstream-rt.c.  Loop thread.
 */
#include "devstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "stream.h"

/* An old attach list waiting for the audio thread to move past it. */
struct retiree {
	struct list link;
	uint32_t generation;
	struct attach_list *list;
	struct stream *stream; /* whose reference is dropped on release, or NULL */
};

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
			ds->cfg.hooks.release(ds->cfg.hooks.data, r->stream);
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
	ds->cfg.hooks.notify(ds->cfg.hooks.data, ds);
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

struct stream **devstream_streams(const struct devstream *ds, uint32_t *ret_count)
{
	struct attach_list *list =
		atomic_load_explicit(&((struct devstream *)ds)->list, memory_order_relaxed);
	struct stream **streams;
	uint32_t n = 0;

	*ret_count = 0;
	if (!list || list->count == 0)
		return NULL;
	streams = malloc(sizeof(*streams) * list->count);
	if (!streams)
		return NULL;
	/* A stream's two directions are attached one after the other (exclusive playrec). */
	for (uint32_t i = 0; i < list->count; i++)
		if (n == 0 || streams[n - 1] != list->dirs[i]->stream)
			streams[n++] = list->dirs[i]->stream;
	*ret_count = n;
	return streams;
}

int devstream_device(const struct devstream *ds)
{
	return ds->cfg.device_out >= 0 ? ds->cfg.device_out : ds->cfg.device_in;
}

/* Whether the backend should be calling back now. */
static bool should_run(struct devstream *ds)
{
	return ds->started && !ds->closing && !atomic_load(&ds->finished);
}

bool devstream_check_stuck(struct devstream *ds)
{
	uint64_t entered = atomic_load_explicit(&ds->callbacks, memory_order_relaxed);
	bool inside = atomic_load_explicit(&ds->returns, memory_order_acquire) != entered;
	bool stuck = inside && ds->stuck_inside && entered == ds->stuck_callbacks;

	if (!should_run(ds))
		return false;
	ds->stuck_callbacks = entered;
	ds->stuck_inside = inside;
	return stuck;
}

int devstream_check_quiet(struct devstream *ds)
{
	uint64_t entered = atomic_load_explicit(&ds->callbacks, memory_order_relaxed);
	bool inside = atomic_load_explicit(&ds->returns, memory_order_acquire) != entered;
	bool still = entered == ds->quiet_callbacks;

	if (!should_run(ds))
		return 0;
	ds->quiet_callbacks = entered;
	if (!still) {
		bool was = ds->quiet;

		ds->quiet = false;
		return was ? -1 : 0;
	}
	if (inside || ds->quiet)
		return 0;
	ds->quiet = true;
	return 1;
}

double devstream_time(const struct devstream *ds)
{
	return ds->bs ? ds->cfg.backend->ops->time(ds->bs) : 0;
}

double devstream_cpu_load(const struct devstream *ds)
{
	return ds->bs ? ds->cfg.backend->ops->cpu_load(ds->bs) : 0;
}

uint32_t devstream_period(const struct devstream *ds)
{
	if (ds->cfg.blocksize > 0)
		return (uint32_t)ds->cfg.blocksize;
	return atomic_load_explicit(&ds->max_frames, memory_order_relaxed);
}

static void on_idle(uv_timer_t *timer)
{
	struct devstream *ds = timer->data;

	if (devstream_attached(ds) == 0) {
		log_info("Closing idle device stream on device %d", devstream_device(ds));
		ds->cfg.hooks.idle(ds->cfg.hooks.data, ds);
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

	if (ds->cfg.backend->ops->start(ds->bs, &be) < 0)
		return backend_error_proto(err, &be, PROTO_E_PORTAUDIO,
					   "Cannot start the stream on device %d",
					   devstream_device(ds));
	ds->started = true;
	return 0;
}

void devstream_close(struct devstream *ds)
{
	struct attach_list *list;

	if (ds->closing)
		return;
	ds->closing = true;
	if (ds->bs) {
		/* Abort: nothing attached wants the buffered audio any more. */
		if (ds->started)
			ds->cfg.backend->ops->abort(ds->bs);
		ds->cfg.backend->ops->close(ds->bs);
		ds->bs = NULL;
	}
	ds->started = false;
	/* No callback runs any more: everything retired can go, and the current list too. */
	list = atomic_load_explicit(&ds->list, memory_order_relaxed);
	for (uint32_t i = 0; i < list->count; i++) {
		list->dirs[i]->dev = NULL;
		ds->cfg.hooks.release(ds->cfg.hooks.data, list->dirs[i]->stream);
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

int devstream_open(const struct devstream_config *cfg, struct devstream **ret,
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
		.process = cfg->mode == DEVSTREAM_EXCLUSIVE ? devstream_rt_exclusive : devstream_rt_shared,
		.finished = devstream_rt_finished,
	};
	struct backend_stream_info info;
	struct backend_error be;
	struct devstream *ds;
	int r;

	ds = calloc(1, sizeof(*ds));
	if (!ds)
		return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
	ds->cfg = *cfg;
	ds->notify_fd = -1;
	ds->stuck_callbacks = UINT64_MAX;
	ds->quiet_callbacks = UINT64_MAX;
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
	if (cfg->backend->ops->open(cfg->backend, &params, &cb, &ds->bs, &be) < 0) {
		ds->bs = NULL;
		r = backend_error_proto(err, &be, be.busy ? PROTO_E_BUSY : PROTO_E_PORTAUDIO,
					"Cannot open a stream on device %d (%s)",
					cfg->device_out >= 0 ? cfg->device_out : cfg->device_in,
					cfg->mode == DEVSTREAM_EXCLUSIVE ? "exclusive" : "shared");
		goto fail;
	}
	ds->cfg.backend->ops->info(ds->bs, &info);
	ds->actual_rate = info.samplerate > 0 ? info.samplerate : cfg->samplerate;
	ds->actual_latency_in = info.latency_in;
	ds->actual_latency_out = info.latency_out;

	uv_poll_init(cfg->loop, &ds->notify_poll, ds->notify_fd);
	uv_timer_init(cfg->loop, &ds->idle_timer);
	ds->notify_poll.data = ds;
	ds->idle_timer.data = ds;
	uv_poll_start(&ds->notify_poll, UV_READABLE, on_notify);
	*ret = ds;
	return 0;
fail:
	close(ds->notify_fd);
	free(atomic_load(&ds->list));
	free(ds);
	return r;
}
