/*
 * The audio engine on the loop thread: its lists of device streams and
 * client streams, the life of a stream record (new, find, release), the
 * end of a stream (finish, drain) and the batches of its xruns, and the
 * notifications of the audio threads turned into state changes, all
 * reported through the engine's callbacks.  Attaching streams to device
 * streams is in engine-attach.c; device loss and the backend calls on
 * worker threads are in engine-health.c.
 */
#include "engine.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devstream.h"
#include "engine-internal.h"
#include "log.h"
#include "stream.h"

static void on_drain_timer(uv_timer_t *timer);
static void devstream_notify(void *data, struct devstream *ds);
static void devstream_idle(void *data, struct devstream *ds);
static void stream_unref(void *data, struct stream *s);

int engine_init(struct engine *e, const struct engine_config *cfg)
{
	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	list_init(&e->devstreams);
	list_init(&e->closing);
	list_init(&e->streams);
	uv_timer_init(cfg->loop, &e->drain_timer);
	e->drain_timer.data = e;
	uv_timer_init(cfg->loop, &e->xrun_timer);
	e->xrun_timer.data = e;
	engine_health_init(e);
	return 0;
}

void engine_close_timer(uv_timer_t *timer)
{
	uv_timer_stop(timer);
	if (!uv_is_closing((uv_handle_t *)timer))
		uv_close((uv_handle_t *)timer, NULL);
}

void engine_fini(struct engine *e)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &e->streams)
	{
		struct stream *s = list_entry(pos, struct stream, engine_link);

		engine_stream_finish(e, s, SHM_STATE_FINISHED, "shutting_down", "sddaemon is stopping");
	}
	list_for_each_safe(pos, tmp, &e->devstreams)
		engine_close_devstream(e, list_entry(pos, struct devstream, link));
	/* What nobody released (a test's streams, say) goes now. */
	list_for_each_safe(pos, tmp, &e->streams)
		engine_stream_release(e, list_entry(pos, struct stream, engine_link));
	engine_close_timer(&e->drain_timer);
	engine_close_timer(&e->xrun_timer);
	engine_health_stop(e);
}

/* Counts the items of a list. */
static unsigned count(const struct list *l)
{
	unsigned n = 0;

	for (const struct list *p = l->next; p != l; p = p->next)
		n++;
	return n;
}

unsigned engine_devstream_count(const struct engine *e)
{
	return count(&e->devstreams);
}

unsigned engine_backend_streams(const struct engine *e)
{
	return count(&e->devstreams) + count(&e->closing) + devstream_orphans();
}

unsigned engine_closing_count(const struct engine *e, unsigned *ret_abandoned)
{
	unsigned abandoned = devstream_orphans();

	for (const struct list *p = e->closing.next; p != &e->closing; p = p->next)
		abandoned += list_entry(p, struct devstream, link)->abandoned;
	*ret_abandoned = abandoned;
	return count(&e->closing) + devstream_orphans();
}

struct stream *engine_stream_new(struct engine *e, int kind)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->kind = kind;
	s->shm.fd = -1;
	s->wake_fd = -1;
	s->handle = ++e->next_handle;
	if (s->handle == 0)
		s->handle = ++e->next_handle;
	s->out.stream = s;
	s->in.stream = s;
	stream_volume_init(&s->out);
	stream_volume_init(&s->in);
	list_insert_tail(&e->streams, &s->engine_link);
	return s;
}

struct stream *engine_stream_find(struct engine *e, uint32_t handle)
{
	for (struct list *p = e->streams.next; p != &e->streams; p = p->next) {
		struct stream *s = list_entry(p, struct stream, engine_link);

		if (s->handle == handle && !s->released)
			return s;
	}
	return NULL;
}

struct stream *engine_stream_next(struct engine *e, struct stream *prev)
{
	struct list *p = prev ? prev->engine_link.next : e->streams.next;

	/* Records released but still held by an audio thread are nobody's to see. */
	while (p != &e->streams && list_entry(p, struct stream, engine_link)->released)
		p = p->next;
	return p == &e->streams ? NULL : list_entry(p, struct stream, engine_link);
}

struct devstream *engine_devstream_next(struct engine *e, struct devstream *prev)
{
	struct list *p = prev ? prev->link.next : e->devstreams.next;

	return p == &e->devstreams ? NULL : list_entry(p, struct devstream, link);
}

/* Frees s once nobody needs it: no owner and no audio thread. */
static void maybe_free(struct engine *e, struct stream *s)
{
	if (!s->released || s->rt_refs > 0)
		return;
	list_remove(&s->engine_link);
	stream_free(s);
}

void engine_stream_release(struct engine *e, struct stream *s)
{
	if (!stream_is_over(s) && (s->out.dev || s->in.dev))
		engine_stream_finish(e, s, SHM_STATE_FINISHED, NULL, NULL);
	s->released = true;
	maybe_free(e, s);
}

/* The audio thread let go of s (a device stream's hook). */
static void stream_unref(void *data, struct stream *s)
{
	/* Each attachment took one reference, and each lets go of it once. */
	assert(s->rt_refs > 0);
	s->rt_refs--;
	maybe_free(data, s);
}

/* The bound on rate groups when the options give none. */
static const int engine_max_resamplers = ENGINE_MAX_RESAMPLERS;

int engine_open_devstream(struct engine *e, struct devstream_config *cfg,
			  struct devstream **ret, struct proto_error *err)
{
	cfg->loop = e->cfg.loop;
	cfg->backend = e->cfg.backend;
	cfg->resample_quality = e->cfg.opt.resample_quality;
	cfg->max_resamplers = e->cfg.opt.max_resamplers ? e->cfg.opt.max_resamplers : &engine_max_resamplers;
	/* A call that waits longer than a start may take waits for a server that is not there. */
	cfg->wait_ms = e->cfg.opt.start_timeout ? (unsigned)(*e->cfg.opt.start_timeout * 1000)
						: ENGINE_START_TIMEOUT_MS;
	cfg->hooks = (struct devstream_hooks){
		.notify = devstream_notify,
		.idle = devstream_idle,
		.release = stream_unref,
		.data = e,
	};
	engine_wait_device_closes(e, cfg->device_in, cfg->device_out);
	if (devstream_open(cfg, ret, err) < 0)
		return -EINVAL;
	list_insert_tail(&e->devstreams, &(*ret)->link);
	return 0;
}

/* Reports the queued xruns of one direction, ENGINE_XRUNS_PER_REPORT at a time. */
static void report_xruns(struct engine *e, struct stream *s, struct stream_dir *d, bool input)
{
	uint32_t tail = atomic_load_explicit(&d->xrun_tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&d->xrun_head, memory_order_acquire);
	uint32_t lost = atomic_exchange(&d->xrun_lost, 0);
	struct stream_xrun batch[ENGINE_XRUNS_PER_REPORT];

	while (tail != head || lost) {
		unsigned n = 0;
		uint32_t unreported = 0;

		for (; tail != head && n < ENGINE_XRUNS_PER_REPORT; tail++, n++)
			batch[n] = d->xruns[tail % STREAM_XRUN_QUEUE];
		s->xrun_count += n;
		if (lost && tail == head) {
			/* More xruns than the queue held between two reports: counted, not placed. */
			unreported = lost;
			lost = 0;
		}
		e->cfg.cb.stream_xruns(e->cfg.cb.data, s, input, batch, n, unreported);
	}
	atomic_store_explicit(&d->xrun_tail, tail, memory_order_release);
}

/* Reports the xruns queued by every stream (a batch every xrun_batch_ms). */
static void on_xrun_timer(uv_timer_t *timer)
{
	struct engine *e = timer->data;

	for (struct list *p = e->streams.next; p != &e->streams; p = p->next) {
		struct stream *s = list_entry(p, struct stream, engine_link);

		if (!s->xrun_pending)
			continue;
		s->xrun_pending = false;
		if (s->out.used)
			report_xruns(e, s, &s->out, false);
		if (s->in.used)
			report_xruns(e, s, &s->in, true);
	}
}

void engine_stream_finish(struct engine *e, struct stream *s, int state, const char *code,
			  const char *message)
{
	struct devstream *exclusive = NULL;

	if (stream_is_over(s))
		return;
	if (code && message && state == SHM_STATE_FAILED) {
		snprintf(s->error_code, sizeof(s->error_code), "%s", code);
		snprintf(s->error, sizeof(s->error), "%s", message);
	}
	stream_set_state(s, state);
	s->draining = false;
	if (s->active) {
		s->active = false;
		e->active_count--;
	}
	for (int i = 0; i < 2; i++) {
		struct stream_dir *d = i ? &s->in : &s->out;
		struct devstream *ds = d->dev;

		if (!d->used || !ds)
			continue;
		report_xruns(e, s, d, i == 1);
		devstream_detach(ds, d);
		if (ds->cfg.mode == DEVSTREAM_EXCLUSIVE)
			exclusive = ds;
		else
			devstream_arm_idle(ds, *e->cfg.opt.device_idle_time);
	}
	if (exclusive)
		engine_close_devstream(e, exclusive);
	/* A client sleeping on the ring learns the news from the state. */
	stream_wake_client(s);
	if (state == SHM_STATE_FAILED)
		log_info("Stream %u ended: %s", s->handle, s->error);
	else
		log_debug("Stream %u finished", s->handle);
	/* Last: the callee may release s. */
	e->cfg.cb.stream_finished(e->cfg.cb.data, s);
}

/* Arms the drain timer for the earliest deadline among draining streams. */
static void arm_drain_timer(struct engine *e)
{
	uint64_t now = uv_now(e->cfg.loop), next = UINT64_MAX;

	for (struct list *p = e->streams.next; p != &e->streams; p = p->next) {
		struct stream *s = list_entry(p, struct stream, engine_link);

		if (s->draining && s->drain_deadline < next)
			next = s->drain_deadline;
	}
	if (next == UINT64_MAX)
		uv_timer_stop(&e->drain_timer);
	else
		uv_timer_start(&e->drain_timer, on_drain_timer, next > now ? next - now : 0, 0);
}

/* The output of s is played out: finish it, or let its input run on. */
static void output_finished(struct engine *e, struct stream *s)
{
	s->draining = false;
	if (s->in.used && !atomic_load(&s->in.done)) {
		/* playrec: the recording is as long as the playback. */
		if (s->in.limit < 0) {
			atomic_store(&s->in.done, true);
		} else {
			stream_set_state(s, SHM_STATE_DRAINING);
			return;
		}
	}
	engine_stream_finish(e, s, SHM_STATE_FINISHED, NULL, NULL);
}

static void on_drain_timer(uv_timer_t *timer)
{
	struct engine *e = timer->data;
	uint64_t now = uv_now(e->cfg.loop);
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &e->streams)
	{
		struct stream *s = list_entry(pos, struct stream, engine_link);

		if (s->draining && s->drain_deadline <= now)
			output_finished(e, s);
	}
	arm_drain_timer(e);
}

/* The playback side of a shared stream has handed its last frame to the device. */
static void start_drain(struct engine *e, struct stream *s)
{
	uint64_t bits = atomic_load(&s->end_time_bits);
	double end, wait;

	memcpy(&end, &bits, sizeof(end));
	wait = s->out.dev ? end - devstream_time(s->out.dev) : 0;
	if (!(wait > 0))
		wait = 0;
	if (wait > 10)
		wait = 10;
	s->draining = true;
	stream_set_state(s, SHM_STATE_DRAINING);
	s->drain_deadline = uv_now(e->cfg.loop) + (uint64_t)ceil(wait * 1000.0);
	arm_drain_timer(e);
}

/* Acts on what the audio thread reported for s. */
static void handle_stream(struct engine *e, struct stream *s)
{
	uint32_t ev = atomic_exchange(&s->events, 0);
	bool in_done;

	/*
	 * Xruns go out in batches: a device that underflows every period (or a
	 * client that never keeps up) must not flood the client with an event a
	 * period.  A finishing stream reports what is left before it finishes.
	 */
	if (ev & STREAM_EV_XRUN) {
		s->xrun_pending = true;
		if (!uv_is_active((uv_handle_t *)&e->xrun_timer))
			uv_timer_start(&e->xrun_timer, on_xrun_timer, e->cfg.opt.xrun_batch_ms, 0);
	}
	if (stream_is_over(s))
		return;
	if (atomic_load(&s->violation)) {
		log_warning("Stream %u broke the ring protocol; ending it", s->handle);
		engine_stream_finish(e, s, SHM_STATE_FAILED, "protocol_violation",
				     "the client wrote an invalid ring index or end mark; the stream was ended");
		return;
	}
	if (atomic_load(&s->aborted)) {
		engine_stream_finish(e, s, SHM_STATE_FINISHED, NULL, NULL);
		return;
	}
	in_done = !s->in.used || atomic_load(&s->in.done);
	if (s->out.used && atomic_load(&s->out.done)) {
		if (s->exclusive) {
			/* The backend plays the last buffers and reports through its finished callback. */
		} else if (!s->draining && atomic_load(&s->state) == SHM_STATE_RUNNING) {
			start_drain(e, s);
		} else if (atomic_load(&s->state) == SHM_STATE_DRAINING && !s->draining && in_done) {
			engine_stream_finish(e, s, SHM_STATE_FINISHED, NULL, NULL);
		}
		return;
	}
	if (!s->out.used && in_done)
		engine_stream_finish(e, s, SHM_STATE_FINISHED, NULL, NULL);
}

/* An exclusive device stream stopped: after its playback completed, or by itself. */
static void exclusive_finished(struct engine *e, struct devstream *ds)
{
	uint32_t n;
	struct stream **streams = devstream_streams(ds, &n);
	struct stream *s = n ? streams[0] : NULL;

	free(streams);
	if (!s)
		return;
	handle_stream(e, s);
	/* Finishing an exclusive stream closes its device stream and may free s. */
	if (ds->closing)
		return;
	if (!stream_is_over(s)) {
		if (s->out.used && atomic_load(&s->out.done))
			output_finished(e, s);
		else
			engine_devstream_lost(e, ds, "its stream stopped by itself");
	}
}

/* A device stream's audio thread posted notifications (its hook). */
static void devstream_notify(void *data, struct devstream *ds)
{
	struct engine *e = data;
	uint32_t n;
	/* Handling may detach streams and so replace the list: work on a copy. */
	struct stream **streams = devstream_streams(ds, &n);

	for (uint32_t i = 0; i < n; i++)
		handle_stream(e, streams[i]);
	free(streams);
	if (!atomic_load(&ds->finished) || ds->closing)
		return;
	if (ds->cfg.mode == DEVSTREAM_EXCLUSIVE)
		exclusive_finished(e, ds);
	else
		engine_devstream_lost(e, ds, "its stream stopped by itself");
}

/* A shared device stream has been idle for the configured time (its hook). */
static void devstream_idle(void *data, struct devstream *ds)
{
	engine_close_devstream(data, ds);
}
