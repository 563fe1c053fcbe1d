/*
 * Device streams on the loop thread: starting and closing their backend
 * streams (on worker threads when the backend's calls may block), looking
 * after those calls (devstream_poll()), giving up on closes that do not
 * return, and freeing a device stream once its backend stream is closed.
 * Loop thread, but for run_start() and run_close(), which run on a worker
 * thread with a threaded backend.
 */
#include "devstream.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devstream-internal.h"
#include "log.h"

/* Frees ds itself, once its handles have closed and its backend stream is closed. */
static void free_devstream(struct devstream *ds)
{
	close(ds->notify_fd);
	free(ds);
}

static void on_handle_closed(uv_handle_t *handle)
{
	struct devstream *ds = handle->data;

	/* An abandoned stream stays: a worker thread may still be using it. */
	if (--ds->pending_closes == 0 && !ds->abandoned)
		free_devstream(ds);
}

/* Closes ds's libuv handles; their callbacks free ds unless it is abandoned by then. */
static void close_handles(struct devstream *ds)
{
	if (ds->pending_closes > 0 || uv_is_closing((uv_handle_t *)&ds->idle_timer))
		return;
	uv_timer_stop(&ds->idle_timer);
	uv_poll_stop(&ds->notify_poll);
	ds->pending_closes = 2;
	uv_close((uv_handle_t *)&ds->idle_timer, on_handle_closed);
	uv_close((uv_handle_t *)&ds->notify_poll, on_handle_closed);
}

/* A worker thread: starts the backend stream, keeping the result in ds. */
static void run_start(struct worker_job *job)
{
	struct devstream *ds = (struct devstream *)((char *)job - offsetof(struct devstream, job));

	ds->start_status = ds->cfg.backend->ops->start(ds->bs, &ds->start_error);
}

/* A worker thread: aborts (when started) and closes the backend stream. */
static void run_close(struct worker_job *job)
{
	struct devstream *ds = (struct devstream *)((char *)job - offsetof(struct devstream, job));

	/* Abort: nothing attached wants the buffered audio any more. */
	if (ds->started)
		ds->cfg.backend->ops->abort(ds->bs);
	ds->cfg.backend->ops->close(ds->bs);
}

/* Runs one of the calls above on a worker thread; returns 0 or a negative errno. */
static int begin_call(struct devstream *ds, enum devstream_call call, uint64_t now)
{
	int r;

	ds->job.run = call == DEVSTREAM_CALL_START ? run_start : run_close;
	r = worker_start(&ds->job);
	if (r < 0)
		return r;
	ds->call = call;
	ds->call_since = now;
	return 0;
}

/*
 * The start returned successfully: callbacks are due from now on; the
 * watch's next check sees where they stand, and the one after that
 * whether they came.
 */
static void now_running(struct devstream *ds)
{
	ds->running = true;
	ds->quiet_callbacks = UINT64_MAX;
	ds->quiet_since = UINT64_MAX;
}

int devstream_start(struct devstream *ds, struct proto_error *err)
{
	uint64_t now = uv_now(ds->cfg.loop);
	int r;

	/* From here on the audio thread may run: the attach lists are acknowledged. */
	ds->started = true;
	if (ds->cfg.backend->threaded_calls) {
		r = begin_call(ds, DEVSTREAM_CALL_START, now);
		if (r == 0)
			return 0;
		ds->started = false;
		return proto_error_set(err, PROTO_E_INTERNAL,
				       "Cannot start the stream on device %d: no thread for it (%s)",
				       devstream_device(ds), strerror(-r));
	}
	if (ds->cfg.backend->ops->start(ds->bs, &ds->start_error) < 0) {
		ds->started = false;
		return backend_error_proto(err, &ds->start_error, PROTO_E_PORTAUDIO,
					   "Cannot start the stream on device %d",
					   devstream_device(ds));
	}
	now_running(ds);
	return 0;
}

/*
 * The backend stream is closed: no callback runs any more, so everything
 * the audio thread used goes, and ds with it (at once when abandoned,
 * whose handles are closed already; else once its handles have closed).
 */
static void closed(struct devstream *ds)
{
	/* Out of its owner's list before it may go. */
	list_remove(&ds->link);
	list_init(&ds->link);
	ds->bs = NULL;
	ds->started = ds->running = false;
	devstream_release_all(ds);
	if (ds->abandoned) {
		log_notice("The abandoned device stream on device %d closed after all",
			   devstream_device(ds));
		/* Its handles are closed, or closing: the last of their callbacks frees it then. */
		ds->abandoned = false;
		if (ds->pending_closes == 0)
			free_devstream(ds);
		return;
	}
	close_handles(ds);
}

/* Begins the close on a worker thread; gives up on ds at once when no thread can be made. */
static void begin_close(struct devstream *ds, uint64_t now)
{
	int r = begin_call(ds, DEVSTREAM_CALL_CLOSE, now);

	if (r < 0) {
		log_error("Cannot close the device stream on device %d: no thread for it (%s)",
			  devstream_device(ds), strerror(-r));
		devstream_abandon(ds);
	}
}

bool devstream_close(struct devstream *ds, uint64_t now)
{
	if (ds->closing)
		return false;
	ds->closing = true;
	ds->close_since = now;
	uv_timer_stop(&ds->idle_timer);
	uv_poll_stop(&ds->notify_poll);
	if (!ds->bs) {
		closed(ds);
		return true;
	}
	if (!ds->cfg.backend->threaded_calls) {
		run_close(&ds->job);
		closed(ds);
		return true;
	}
	/* One call at a time per backend stream: a start that runs returns first. */
	if (ds->call == DEVSTREAM_CALL_START)
		ds->close_wanted = true;
	else
		begin_close(ds, now);
	return false;
}

bool devstream_close_returned(const struct devstream *ds)
{
	return ds->backend_closed ||
	       (ds->call == DEVSTREAM_CALL_CLOSE &&
		atomic_load_explicit(&((struct devstream *)ds)->job.state, memory_order_acquire) ==
			WORKER_DONE);
}

bool devstream_call_pending(const struct devstream *ds)
{
	return ds->call != DEVSTREAM_CALL_NONE || ds->close_wanted || ds->backend_closed;
}

/*
 * Whether the audio thread is out of our callbacks for good (after the
 * backend stream closed): none is inside.  Reading the returns with
 * acquire orders the last callback's work before what the loop thread
 * frees next.  A backend that let its stream go while its audio thread
 * still had a callback to finish (a server that died mid-period) is
 * waited for; one that never leaves keeps everything (the close is
 * abandoned).
 */
static bool callbacks_out(struct devstream *ds)
{
	uint64_t returned = atomic_load_explicit(&ds->returns, memory_order_acquire);

	return atomic_load_explicit(&ds->callbacks, memory_order_relaxed) == returned;
}

enum devstream_news devstream_poll(struct devstream *ds, uint64_t now, struct proto_error *err)
{
	enum devstream_call call = ds->call;

	if (ds->backend_closed) {
		if (!callbacks_out(ds))
			return DEVSTREAM_NO_NEWS;
		closed(ds);
		return DEVSTREAM_CLOSED;
	}
	if (call == DEVSTREAM_CALL_NONE || !worker_done(&ds->job))
		return DEVSTREAM_NO_NEWS;
	ds->call = DEVSTREAM_CALL_NONE;
	if (call == DEVSTREAM_CALL_CLOSE) {
		ds->backend_closed = true;
		return devstream_poll(ds, now, err);
	}
	if (ds->close_wanted) {
		ds->close_wanted = false;
		begin_close(ds, now);
		return DEVSTREAM_NO_NEWS;
	}
	if (ds->start_status < 0) {
		/* Nothing runs: what was published is released at once from now on. */
		ds->started = false;
		devstream_reap(ds, true);
		backend_error_proto(err, &ds->start_error, PROTO_E_PORTAUDIO,
				    "Cannot start the stream on device %d", devstream_device(ds));
		return DEVSTREAM_START_FAILED;
	}
	now_running(ds);
	return DEVSTREAM_STARTED;
}

/* Abandoned device streams whose owner went away: never touched again. */
static unsigned orphan_count;
static struct list orphans = { &orphans, &orphans };

void devstream_abandon(struct devstream *ds)
{
	if (ds->abandoned)
		return;
	log_warning("The device stream on device %d did not close within %.1f s; abandoning it (its memory stays, and the audio system is not restarted while it exists)",
		    devstream_device(ds), (double)(uv_now(ds->cfg.loop) - ds->close_since) / 1000);
	ds->abandoned = true;
	close_handles(ds);
}

void devstream_orphan(struct devstream *ds)
{
	list_remove(&ds->link);
	list_insert_tail(&orphans, &ds->link);
	orphan_count++;
}

unsigned devstream_orphans(void)
{
	return orphan_count;
}
