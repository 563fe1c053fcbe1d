/*
 * The health of the engine's device streams, on the loop thread.
 *
 * A device is lost when its device stream ends by itself, stops calling
 * back for the loss time (the watch), or does not start in time: its
 * streams fail with "device_lost" and it closes.  With a threaded backend
 * the start, abort and close of a device stream run on worker threads;
 * the engine waits for them without blocking (engine_poll_calls()), and a
 * close that does not return within the close timeout is abandoned, so
 * that nothing a dead audio system does can hold up the loop or the
 * daemon's stop.  So the engine's device streams start and close here,
 * where those calls are looked after, and a new device stream waits here
 * for the closes on its devices to return.
 */
#include "engine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "devices.h"
#include "devstream.h"
#include "engine-internal.h"
#include "log.h"
#include "stream.h"
#include "worker.h"

static void on_watch_timer(uv_timer_t *timer);
static void on_worker_ready(uv_poll_t *handle, int status, int events);

void engine_health_init(struct engine *e)
{
	uv_loop_t *loop = e->cfg.loop;

	uv_timer_init(loop, &e->watch_timer);
	e->watch_timer.data = e;
	if (e->cfg.opt.watch_ms) {
		uv_timer_start(&e->watch_timer, on_watch_timer, e->cfg.opt.watch_ms,
			       e->cfg.opt.watch_ms);
		/* The watch alone must not keep the loop running at shutdown. */
		uv_unref((uv_handle_t *)&e->watch_timer);
	}
	uv_timer_init(loop, &e->call_timer);
	e->call_timer.data = e;
	if (e->cfg.backend->threaded_calls) {
		int fd = worker_fd();

		/* Without the descriptor the call timer alone looks for returned calls. */
		if (fd >= 0 && uv_poll_init(loop, &e->worker_poll, fd) == 0) {
			e->worker_poll.data = e;
			uv_poll_start(&e->worker_poll, UV_READABLE, on_worker_ready);
			/* Waits that matter keep the loop running through the call timer. */
			uv_unref((uv_handle_t *)&e->worker_poll);
			e->worker_polling = true;
		}
	}
}

static void on_call_timer(uv_timer_t *timer)
{
	engine_poll_calls(timer->data);
}

/* Looks at the calls again in a moment, while some run. */
static void arm_call_timer(struct engine *e)
{
	if (!uv_is_closing((uv_handle_t *)&e->call_timer))
		uv_timer_start(&e->call_timer, on_call_timer, ENGINE_CALL_TICK_MS, 0);
}

int engine_start_devstream(struct engine *e, struct devstream *ds, struct proto_error *err)
{
	if (devstream_start(ds, err) < 0)
		return -EINVAL;
	if (devstream_call_pending(ds))
		arm_call_timer(e);
	return 0;
}

void engine_close_devstream(struct engine *e, struct devstream *ds)
{
	if (ds->closing)
		return;
	list_remove(&ds->link);
	list_init(&ds->link);
	if (!devstream_close(ds, uv_now(e->cfg.loop))) {
		list_insert_tail(&e->closing, &ds->link);
		arm_call_timer(e);
	}
}

void engine_health_stop(struct engine *e)
{
	engine_close_timer(&e->watch_timer);
	/* The closes that run go on: the rest of the engine stops once they are over. */
	e->stopping = true;
	engine_poll_calls(e);
}

/* Nothing is awaited any more after engine_fini(): the last handles close. */
static void finish_stopping(struct engine *e)
{
	if (uv_is_closing((uv_handle_t *)&e->call_timer))
		return;
	engine_close_timer(&e->call_timer);
	if (e->worker_polling)
		uv_close((uv_handle_t *)&e->worker_poll, NULL);
	e->worker_polling = false;
}

/* Whether ds uses device in either direction. */
static bool uses_device(const struct devstream *ds, int device)
{
	return device >= 0 && (ds->cfg.device_in == device || ds->cfg.device_out == device);
}

void engine_wait_device_closes(struct engine *e, int device_in, int device_out)
{
	struct backend *b = e->cfg.backend;

	for (unsigned waited = 0;; waited++) {
		bool pending = false;

		for (struct list *p = e->closing.next; p != &e->closing && !pending; p = p->next) {
			struct devstream *ds = list_entry(p, struct devstream, link);

			pending = !ds->abandoned && !devstream_close_returned(ds) &&
				  (uses_device(ds, device_in) || uses_device(ds, device_out));
		}
		if (!pending)
			return;
		if (waited >= ENGINE_REOPEN_WAIT_MS) {
			log_notice("A device stream on device %d is still closing; opening another beside it",
				   device_out >= 0 ? device_out : device_in);
			return;
		}
		if (waited % 10 == 0 && b->ops->unblock)
			b->ops->unblock(b);
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
}

/* Describes a device stream for a device event. */
static struct engine_device_event device_event(struct devstream *ds)
{
	return (struct engine_device_event){
		.device = devstream_device(ds),
		.mode = devstream_mode_name(ds),
		.streams = devstream_attached(ds),
	};
}

/* Ends every stream on ds as failed with code and message, then closes ds. */
static void fail_devstream(struct engine *e, struct devstream *ds, const char *code,
			   const char *message)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &e->streams)
	{
		struct stream *s = list_entry(pos, struct stream, engine_link);

		if (!stream_is_over(s) && (s->out.dev == ds || s->in.dev == ds))
			engine_stream_finish(e, s, SHM_STATE_FAILED, code, message);
	}
	/* An exclusive stream's end closed it already. */
	engine_close_devstream(e, ds);
}

void engine_devstream_lost(struct engine *e, struct devstream *ds, const char *fmt, ...)
{
	struct engine_device_event ev = device_event(ds);
	int dev = devstream_device(ds);
	char reason[160], message[sizeof(((struct stream *)0)->error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	ev.reason = reason;
	e->cfg.cb.device_lost(e->cfg.cb.data, &ev);
	snprintf(message, sizeof(message), "device [%d] '%s' was lost: %s", dev,
		 dev < e->cfg.devices->count ? e->cfg.devices->dev[dev].name : "?", reason);
	fail_devstream(e, ds, "device_lost", message);
}

bool engine_audio_healthy(struct engine *e)
{
	bool healthy = true;

	/* Every device stream is checked, so that each remembers what it saw. */
	for (struct list *p = e->devstreams.next; p != &e->devstreams; p = p->next)
		if (devstream_check_stuck(list_entry(p, struct devstream, link)))
			healthy = false;
	return healthy;
}

/* How long (ms) ds may go without a callback before it is taken for lost. */
static uint64_t loss_limit(const struct engine *e, const struct devstream *ds)
{
	uint64_t periods = (uint64_t)devstream_period(ds) * ENGINE_LOSS_PERIODS * 1000 /
			   (ds->rate ? ds->rate : 1);

	if (!e->cfg.opt.loss_ms)
		return 0;
	return periods > e->cfg.opt.loss_ms ? periods : e->cfg.opt.loss_ms;
}

void engine_watch(struct engine *e)
{
	uint64_t now = uv_now(e->cfg.loop);
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &e->devstreams)
	{
		struct devstream *ds = list_entry(pos, struct devstream, link);
		uint64_t quiet;

		if (devstream_quiet(ds, now, &quiet) && quiet >= loss_limit(e, ds))
			engine_devstream_lost(e, ds, "it stopped calling back (nothing for %.2f s)",
					      (double)quiet / 1000);
	}
}

static void on_watch_timer(uv_timer_t *timer)
{
	engine_watch(timer->data);
}

/* A start on a worker thread failed: the streams on ds fail with its error. */
static void start_failed(struct engine *e, struct devstream *ds, const struct proto_error *err)
{
	log_warning("%s", err->message);
	fail_devstream(e, ds, proto_errcode_name(err->code), err->message);
}

/* Looks after the device streams whose start runs on a worker thread; returns whether some still run. */
static bool poll_starts(struct engine *e, uint64_t now)
{
	unsigned limit = e->cfg.opt.start_timeout ? (unsigned)(*e->cfg.opt.start_timeout * 1000)
						  : ENGINE_START_TIMEOUT_MS;
	struct list *pos, *tmp;
	bool pending = false;

	list_for_each_safe(pos, tmp, &e->devstreams)
	{
		struct devstream *ds = list_entry(pos, struct devstream, link);
		struct proto_error err = { 0 };

		if (!devstream_call_pending(ds))
			continue;
		switch (devstream_poll(ds, now, &err)) {
		case DEVSTREAM_START_FAILED:
			start_failed(e, ds, &err);
			break;
		case DEVSTREAM_STARTED:
			log_debug("The device stream on device %d started", devstream_device(ds));
			break;
		default:
			if (now - ds->call_since >= limit)
				engine_devstream_lost(e, ds, "its start did not return within %.1f s",
						      (double)limit / 1000);
			else
				pending = true;
		}
		proto_error_clear(&err);
	}
	return pending;
}

/* Looks after the device streams that close; returns whether some closes are still awaited. */
static bool poll_closes(struct engine *e, uint64_t now)
{
	unsigned limit = e->cfg.opt.close_timeout_ms ? e->cfg.opt.close_timeout_ms
						     : ENGINE_CLOSE_TIMEOUT_MS;
	struct list *pos, *tmp;
	bool pending = false;

	list_for_each_safe(pos, tmp, &e->closing)
	{
		struct devstream *ds = list_entry(pos, struct devstream, link);
		struct proto_error err = { 0 };

		/* A closed one left the list, and may be gone. */
		if (devstream_poll(ds, now, &err) == DEVSTREAM_CLOSED)
			continue;
		if (!ds->abandoned && now - ds->close_since >= limit)
			devstream_abandon(ds);
		if (ds->abandoned && e->stopping)
			/* The engine goes, the stream stays: the audio thread may still use it. */
			devstream_orphan(ds);
		else
			/*
			 * Abandoned ones are still looked after: the backend is woken
			 * for them, and once their close returns they are freed (and
			 * no longer keep the backend from starting again).
			 */
			pending = true;
	}
	return pending;
}

void engine_poll_calls(struct engine *e)
{
	uint64_t now = uv_now(e->cfg.loop);
	struct backend *b = e->cfg.backend;
	bool pending = poll_starts(e, now);

	pending = poll_closes(e, now) || pending;
	if (pending) {
		/* A call that waits for a dead server returns once woken. */
		if (b->ops->unblock)
			b->ops->unblock(b);
		arm_call_timer(e);
	} else {
		uv_timer_stop(&e->call_timer);
	}
	if (e->stopping && list_empty(&e->closing))
		finish_stopping(e);
}

static void on_worker_ready(uv_poll_t *handle, int status, int events)
{
	worker_drain();
	engine_poll_calls(handle->data);
}
