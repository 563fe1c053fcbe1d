/*
 * Device streams on the loop thread: opening one, what may be asked of it
 * (its device, mode, clock, period), the checks of its callbacks (stuck or
 * quiet), and the wake-ups and idle timer it reports through its hooks.
 * Attach lists and rate groups are in devstream-attach.c, the backend
 * calls that start and close it in devstream-calls.c, the backend's
 * callbacks in devstream-rt.c.  Loop thread.
 */
#include "devstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devstream-internal.h"
#include "log.h"

static void on_notify(uv_poll_t *handle, int status, int events)
{
	struct devstream *ds = handle->data;
	uint64_t count;

	if (read(ds->notify_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_debug("Device stream notify read failed: %s", strerror(errno));
	devstream_reap(ds, false);
	ds->cfg.hooks.notify(ds->cfg.hooks.data, ds);
}

int devstream_device(const struct devstream *ds)
{
	return ds->cfg.device_out >= 0 ? ds->cfg.device_out : ds->cfg.device_in;
}

const char *devstream_mode_name(const struct devstream *ds)
{
	switch (ds->cfg.mode) {
	case DEVSTREAM_SHARED_OUT:
		return "shared output";
	case DEVSTREAM_SHARED_IN:
		return "shared input";
	case DEVSTREAM_SHARED_DUPLEX:
		return "shared duplex";
	default:
		return "exclusive";
	}
}

bool devstream_serves(const struct devstream *ds, bool output)
{
	return ds->cfg.mode == DEVSTREAM_SHARED_DUPLEX ||
	       ds->cfg.mode == (output ? DEVSTREAM_SHARED_OUT : DEVSTREAM_SHARED_IN);
}

uint32_t devstream_loop_frames(const struct devstream *ds)
{
	double frames = (ds->actual_latency_in + ds->actual_latency_out) * ds->actual_rate;

	return frames > 0 && frames < 1e9 ? (uint32_t)(frames + 0.5) : 0;
}

/* Whether the backend should be calling back now. */
static bool should_run(struct devstream *ds)
{
	return ds->running && !ds->closing && !atomic_load(&ds->finished);
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

bool devstream_quiet(struct devstream *ds, uint64_t now, uint64_t *ret_ms)
{
	uint64_t entered = atomic_load_explicit(&ds->callbacks, memory_order_relaxed);
	bool inside = atomic_load_explicit(&ds->returns, memory_order_acquire) != entered;

	*ret_ms = 0;
	if (!should_run(ds))
		return false;
	/* A callback came, or ours is inside one: the device calls back. */
	if (entered != ds->quiet_callbacks || inside) {
		ds->quiet_callbacks = entered;
		ds->quiet_since = UINT64_MAX;
		return false;
	}
	/*
	 * Quiet from the first check that saw it so, not from the last that saw
	 * a callback: a loop thread that could not run for a while (a stopped or
	 * starved process) finds callbacks missing that its audio thread, kept
	 * waiting alike, is about to make.
	 */
	if (ds->quiet_since == UINT64_MAX)
		ds->quiet_since = now;
	*ret_ms = now - ds->quiet_since;
	return true;
}

/*
 * Whether the backend stream may be queried: it is not being closed (a
 * start on a worker thread may run: the audio thread queries its clock
 * alike meanwhile, and a drain that begins before the start returned
 * needs it).
 */
static bool queryable(const struct devstream *ds)
{
	return ds->bs && !ds->closing;
}

double devstream_time(const struct devstream *ds)
{
	return queryable(ds) ? ds->cfg.backend->ops->time(ds->bs) : 0;
}

double devstream_cpu_load(const struct devstream *ds)
{
	return queryable(ds) ? ds->cfg.backend->ops->cpu_load(ds->bs) : 0;
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

void devstream_arm_idle(struct devstream *ds, double seconds)
{
	if (ds->closing || ds->cfg.mode == DEVSTREAM_EXCLUSIVE || devstream_attached(ds) > 0)
		return;
	uv_timer_start(&ds->idle_timer, on_idle, (uint64_t)(seconds * 1000.0), 0);
}

struct backend_params devstream_params(const struct devstream_config *cfg)
{
	return (struct backend_params){
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
		.wait_ms = cfg->wait_ms,
	};
}

int devstream_open(const struct devstream_config *cfg, struct devstream **ret,
		   struct proto_error *err)
{
	struct backend_params params = devstream_params(cfg);
	struct backend_callbacks cb = {
		.process = cfg->mode == DEVSTREAM_EXCLUSIVE ? devstream_rt_exclusive : devstream_rt_shared,
		.finished = devstream_rt_finished,
	};
	const char *what = cfg->mode == DEVSTREAM_EXCLUSIVE ? "an exclusive" : "a shared";
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
	atomic_init(&ds->job.state, WORKER_IDLE);
	list_init(&ds->retiring);
	list_init(&ds->link);
	list_init(&ds->groups);
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
					"Cannot open %s stream on device %d at %g Hz", what,
					cfg->device_out >= 0 ? cfg->device_out : cfg->device_in,
					cfg->samplerate);
		goto fail;
	}
	ds->cfg.backend->ops->info(ds->bs, &info);
	ds->actual_rate = info.samplerate > 0 ? info.samplerate : cfg->samplerate;
	ds->rate = (uint32_t)(ds->actual_rate + 0.5);
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
