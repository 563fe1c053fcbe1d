/*
 * The audio engine on the loop thread: choosing, opening and closing
 * device streams, attaching client streams to them, and turning the audio
 * threads' notifications into state changes, events and replies.
 */
#include "engine.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "daemon.h"
#include "devices.h"
#include "devstream.h"
#include "log.h"
#include "sample.h"
#include "stream.h"

/* Device streams of real hardware open with all their channels up to this many. */
#define ENGINE_ALL_CHANNELS_MAX 32

static void on_drain_timer(uv_timer_t *timer);

int engine_init(struct engine *e, struct daemon *d)
{
	memset(e, 0, sizeof(*e));
	e->daemon = d;
	list_init(&e->devstreams);
	list_init(&e->streams);
	uv_timer_init(d->loop, &e->drain_timer);
	e->drain_timer.data = e;
	uv_timer_init(d->loop, &e->xrun_timer);
	e->xrun_timer.data = e;
	return 0;
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
		devstream_close(list_entry(pos, struct devstream, link));
	list_for_each_safe(pos, tmp, &e->streams)
	{
		struct stream *s = list_entry(pos, struct stream, engine_link);

		s->client = NULL;
		engine_stream_release(e, s);
	}
	uv_timer_stop(&e->drain_timer);
	if (!uv_is_closing((uv_handle_t *)&e->drain_timer))
		uv_close((uv_handle_t *)&e->drain_timer, NULL);
	uv_timer_stop(&e->xrun_timer);
	if (!uv_is_closing((uv_handle_t *)&e->xrun_timer))
		uv_close((uv_handle_t *)&e->xrun_timer, NULL);
}

unsigned engine_devstream_count(const struct engine *e)
{
	unsigned n = 0;

	for (struct list *p = e->devstreams.next; p != &e->devstreams; p = p->next)
		n++;
	return n;
}

struct stream *engine_stream_new(struct engine *e, struct client *client, int kind)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->engine = e;
	s->client = client;
	s->kind = kind;
	s->shm.fd = -1;
	s->wake_fd = -1;
	s->handle = ++e->next_handle;
	if (s->handle == 0)
		s->handle = ++e->next_handle;
	s->waiters = json_object_new_array();
	s->out.stream = s;
	s->in.stream = s;
	list_init(&s->client_link);
	list_insert_tail(&e->streams, &s->engine_link);
	return s;
}

/* Frees s once nobody needs it: no owner and no audio thread. */
static void maybe_free(struct engine *e, struct stream *s)
{
	if (!s->released || s->rt_refs > 0)
		return;
	list_remove(&s->engine_link);
	list_remove(&s->client_link);
	stream_free(s);
}

void engine_stream_release(struct engine *e, struct stream *s)
{
	/* No longer detached first: finishing a detached stream would release it again. */
	if (s->detached && e->detached_count > 0)
		e->detached_count--;
	s->detached = false;
	if (!stream_is_over(s) && (s->out.dev || s->in.dev))
		engine_stream_finish(e, s, SHM_STATE_FINISHED, NULL, NULL);
	s->released = true;
	maybe_free(e, s);
}

void engine_stream_unref(struct engine *e, struct stream *s)
{
	if (s->rt_refs > 0)
		s->rt_refs--;
	maybe_free(e, s);
}

/* Finds a running shared device stream for device in mode. */
static struct devstream *find_shared(struct engine *e, enum devstream_mode mode, int device)
{
	for (struct list *p = e->devstreams.next; p != &e->devstreams; p = p->next) {
		struct devstream *ds = list_entry(p, struct devstream, link);
		int dev = mode == DEVSTREAM_SHARED_OUT ? ds->cfg.device_out : ds->cfg.device_in;

		if (ds->cfg.mode == mode && dev == device && !ds->closing)
			return ds;
	}
	return NULL;
}

/* Chooses the channel count of a new shared device stream. */
static int shared_channels(int device_max, int need)
{
	if (device_max <= ENGINE_ALL_CHANNELS_MAX)
		return device_max;
	/* Plugin devices claim "any number": open what is needed, at least stereo. */
	if (need < 2)
		need = 2;
	return need < device_max ? need : device_max;
}

/* Finds or opens the shared device stream one direction attaches to. */
static int shared_for(struct engine *e, struct stream *s, struct stream_dir *d, bool output,
		      const struct engine_req *req, struct devstream **ret, struct proto_error *err)
{
	struct devices *devs = &e->daemon->devices;
	const struct engine_dir_req *dr = output ? &req->out : &req->in;
	enum devstream_mode mode = output ? DEVSTREAM_SHARED_OUT : DEVSTREAM_SHARED_IN;
	const struct device_info *info = &devs->dev[dr->device];
	int max = output ? info->max_output_channels : info->max_input_channels;
	struct devstream *ds = find_shared(e, mode, dr->device);
	struct devstream_config cfg = { 0 };

	if (d->stream_channels > max)
		return proto_error_set(err, PROTO_E_NOT_SUPPORTED,
				       "device [%d] '%s' has %d %s channels; the stream needs %d",
				       dr->device, info->name, max, output ? "output" : "input",
				       d->stream_channels);
	if (ds) {
		int have = output ? ds->cfg.channels_out : ds->cfg.channels_in;

		if (req->samplerate > 0 && fabs(req->samplerate - ds->actual_rate) > 0.5)
			return proto_error_set(err, PROTO_E_NOT_SUPPORTED,
					       "device [%d] '%s' is running at %g Hz for other clients; %g Hz would need resampling, which is not supported yet (use samplerate %g or wait until the device is idle)",
					       dr->device, info->name, ds->actual_rate, req->samplerate,
					       ds->actual_rate);
		if (d->stream_channels > have)
			return proto_error_set(err, PROTO_E_NOT_SUPPORTED,
					       "device [%d] '%s' is open with %d %s channels for other clients; the stream needs %d",
					       dr->device, info->name, have, output ? "output" : "input",
					       d->stream_channels);
		*ret = ds;
		return 0;
	}
	cfg.mode = mode;
	cfg.device_in = output ? -1 : dr->device;
	cfg.device_out = output ? dr->device : -1;
	cfg.format_in = cfg.format_out = SAMPLE_FLOAT32;
	if (output)
		cfg.channels_out = shared_channels(max, d->stream_channels);
	else
		cfg.channels_in = shared_channels(max, d->stream_channels);
	cfg.samplerate = req->samplerate > 0 ? req->samplerate : info->default_samplerate;
	cfg.blocksize = req->blocksize;
	cfg.latency_in = req->in.latency;
	cfg.latency_out = req->out.latency;
	/* It starts once the stream is attached, so that a capture misses nothing. */
	if (devstream_open(e, &cfg, ret, err) < 0)
		return -EINVAL;
	log_info("Opened shared %s stream on device [%d] '%s': %d channels, %g Hz, latency %.1f ms",
		 output ? "output" : "input", dr->device, info->name,
		 output ? cfg.channels_out : cfg.channels_in, (*ret)->actual_rate,
		 1000 * (output ? (*ret)->actual_latency_out : (*ret)->actual_latency_in));
	return 0;
}

int engine_stream_start(struct engine *e, struct stream *s, const struct engine_req *req,
			struct proto_error *err)
{
	struct devstream *out_ds = NULL, *in_ds = NULL;
	int r;

	if (req->exclusive) {
		struct devstream_config cfg = {
			.mode = DEVSTREAM_EXCLUSIVE,
			.device_in = s->in.used ? req->in.device : -1,
			.device_out = s->out.used ? req->out.device : -1,
			.channels_in = s->in.stream_channels,
			.channels_out = s->out.stream_channels,
			.format_in = s->in.used ? s->in.dtype : SAMPLE_FLOAT32,
			.format_out = s->out.used ? s->out.dtype : SAMPLE_FLOAT32,
			.samplerate = req->samplerate,
			.blocksize = req->blocksize,
			.latency_in = req->in.latency,
			.latency_out = req->out.latency,
			.pa_flags = req->pa_flags,
		};

		if (cfg.samplerate <= 0)
			cfg.samplerate =
				e->daemon->devices.dev[s->out.used ? req->out.device : req->in.device]
					.default_samplerate;
		s->samplerate = cfg.samplerate;
		r = stream_create_shm(s);
		if (r < 0)
			return proto_error_set(err, PROTO_E_INTERNAL, "cannot create shared memory: %s",
					       strerror(-r));
		if (devstream_open(e, &cfg, &out_ds, err) < 0)
			return -EINVAL;
		s->samplerate = out_ds->actual_rate;
		if (s->limit_seconds > 0)
			s->in.limit = (int64_t)llround(s->limit_seconds * s->samplerate);
		/* Attach before the first callback can matter: the list is empty until then. */
		if ((s->out.used && devstream_attach(out_ds, &s->out) < 0) ||
		    (s->in.used && devstream_attach(out_ds, &s->in) < 0)) {
			devstream_close(out_ds);
			return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
		}
		/* A stream of the stream API runs its device only once it is started. */
		if (s->kind != STREAM_OPEN && devstream_start(out_ds, err) < 0) {
			devstream_close(out_ds);
			return -EINVAL;
		}
		s->samplerate = out_ds->actual_rate;
		s->hdr->samplerate = (uint32_t)s->samplerate;
		s->exclusive = true;
		e->active_count++;
		return 0;
	}

	if (s->out.used && (r = shared_for(e, s, &s->out, true, req, &out_ds, err)) < 0)
		goto fail;
	if (s->in.used) {
		struct engine_req in_req = *req;

		/* A playrec's input must run at the rate its output runs at. */
		if (out_ds)
			in_req.samplerate = out_ds->actual_rate;
		if ((r = shared_for(e, s, &s->in, false, &in_req, &in_ds, err)) < 0)
			goto fail;
	}
	s->samplerate = out_ds ? out_ds->actual_rate : in_ds->actual_rate;
	if (s->limit_seconds > 0)
		s->in.limit = (int64_t)llround(s->limit_seconds * s->samplerate);
	r = stream_create_shm(s);
	if (r < 0) {
		proto_error_set(err, PROTO_E_INTERNAL, "cannot create shared memory: %s", strerror(-r));
		goto fail;
	}
	if ((out_ds && devstream_attach(out_ds, &s->out) < 0) ||
	    (in_ds && devstream_attach(in_ds, &s->in) < 0)) {
		proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
		r = -ENOMEM;
		goto fail;
	}
	/* New device streams start now, with their first client already attached. */
	if ((out_ds && !out_ds->started && devstream_start(out_ds, err) < 0) ||
	    (in_ds && !in_ds->started && devstream_start(in_ds, err) < 0)) {
		r = -EINVAL;
		goto fail;
	}
	e->active_count++;
	return 0;
fail:
	if (s->out.dev)
		devstream_detach(out_ds, &s->out);
	if (s->in.dev)
		devstream_detach(in_ds, &s->in);
	/* A device stream opened for nothing closes: at once if it never ran, else when idle. */
	for (int i = 0; i < 2; i++) {
		struct devstream *ds = i ? in_ds : out_ds;

		if (!ds)
			continue;
		if (!ds->started && devstream_attached(ds) == 0)
			devstream_close(ds);
		else
			devstream_arm_idle(ds, e->daemon->settings.device_idle_time);
	}
	return -EINVAL;
}

int engine_stream_run(struct engine *e, struct stream *s, uint32_t start_frames,
		      struct proto_error *err)
{
	struct devstream *ds = s->out.dev ? s->out.dev : s->in.dev;

	if (atomic_load(&s->state) != SHM_STATE_PREFILL || atomic_load(&s->autostart))
		return proto_error_set(err, PROTO_E_BUSY, "stream %u is already started", s->handle);
	/* The audio thread reads start_frames only after it sees autostart (release/acquire). */
	s->start_frames = start_frames;
	atomic_store_explicit(&s->autostart, true, memory_order_release);
	if (s->exclusive && ds && !ds->started && devstream_start(ds, err) < 0) {
		engine_stream_finish(e, s, SHM_STATE_FAILED, proto_errcode_name(err->code), err->message);
		return -EINVAL;
	}
	return 0;
}

/* Names the flags of an xrun, as sounddevice's CallbackFlags attributes. */
static json_object *flag_names(uint32_t flags)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ SHM_INPUT_UNDERFLOW, "input_underflow" },   { SHM_INPUT_OVERFLOW, "input_overflow" },
		{ SHM_OUTPUT_UNDERFLOW, "output_underflow" }, { SHM_OUTPUT_OVERFLOW, "output_overflow" },
		{ SHM_PRIMING_OUTPUT, "priming_output" },
	};
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & names[i].bit)
			json_object_array_add(a, json_object_new_string(names[i].name));
	return a;
}

/* Sends the queued xruns of one direction as events. */
static void report_xruns(struct stream *s, struct stream_dir *d, const char *direction)
{
	uint32_t tail = atomic_load_explicit(&d->xrun_tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&d->xrun_head, memory_order_acquire);
	uint32_t lost = atomic_exchange(&d->xrun_lost, 0);

	while (tail != head || lost) {
		json_object *f = json_object_new_object(), *list = json_object_new_array();

		/* At most ENGINE_XRUNS_PER_EVENT xruns an event, each with its position. */
		for (int n = 0; tail != head && n < ENGINE_XRUNS_PER_EVENT; tail++, n++) {
			struct stream_xrun x = d->xruns[tail % STREAM_XRUN_QUEUE];
			json_object *one = json_object_new_object();

			json_object_object_add(one, "position", json_object_new_int64((int64_t)x.position));
			json_object_object_add(one, "flags", flag_names(x.flags));
			json_object_array_add(list, one);
			s->xrun_count++;
		}
		json_object_object_add(f, "handle", json_object_new_int64(s->handle));
		json_object_object_add(f, "direction", json_object_new_string(direction));
		json_object_object_add(f, "xruns", list);
		if (lost && tail == head) {
			/* More xruns than the queue held between two reports: counted, not placed. */
			json_object_object_add(f, "unreported", json_object_new_int64(lost));
			lost = 0;
		}
		if (s->client)
			client_event(s->client, "xrun", f);
		else
			json_object_put(f);
	}
	atomic_store_explicit(&d->xrun_tail, tail, memory_order_release);
}

/* Reports the xruns queued by every stream (a batch every ENGINE_XRUN_BATCH_MS). */
static void on_xrun_timer(uv_timer_t *timer)
{
	struct engine *e = timer->data;

	for (struct list *p = e->streams.next; p != &e->streams; p = p->next) {
		struct stream *s = list_entry(p, struct stream, engine_link);

		if (!s->xrun_pending)
			continue;
		s->xrun_pending = false;
		if (s->out.used)
			report_xruns(s, &s->out, "output");
		if (s->in.used)
			report_xruns(s, &s->in, "input");
	}
}

/* Returns the connected client a waiter ({"client": serial, "id": …}) belongs to, or NULL. */
static struct client *waiter_client(struct engine *e, json_object *w)
{
	struct list *clients = &e->daemon->clients;
	json_object *serial = NULL;
	int64_t id;

	if (!json_object_object_get_ex(w, "client", &serial))
		return NULL;
	id = json_object_get_int64(serial);
	for (struct list *p = clients->next; p != clients; p = p->next) {
		struct client *c = list_entry(p, struct client, link);

		if (c->id == id && !c->closed)
			return c;
	}
	return NULL;
}

void engine_stream_finish(struct engine *e, struct stream *s, int state, const char *code,
			  const char *message)
{
	struct devstream *exclusive = NULL;
	json_object *status;

	if (stream_is_over(s))
		return;
	if (code && message && state == SHM_STATE_FAILED) {
		snprintf(s->error_code, sizeof(s->error_code), "%s", code);
		snprintf(s->error, sizeof(s->error), "%s", message);
	}
	stream_set_state(s, state);
	s->draining = false;
	if (e->active_count > 0)
		e->active_count--;
	for (int i = 0; i < 2; i++) {
		struct stream_dir *d = i ? &s->in : &s->out;
		struct devstream *ds = d->dev;

		if (!d->used || !ds)
			continue;
		report_xruns(s, d, i ? "input" : "output");
		devstream_detach(ds, d);
		if (ds->cfg.mode == DEVSTREAM_EXCLUSIVE)
			exclusive = ds;
		else
			devstream_arm_idle(ds, e->daemon->settings.device_idle_time);
	}
	if (exclusive)
		devstream_close(exclusive);

	status = stream_status_json(s);
	/* Waiters may be other connections (of a detached playback's user): each names its own. */
	for (size_t i = 0; i < json_object_array_length(s->waiters); i++) {
		json_object *w = json_object_array_get_idx(s->waiters, i), *id = NULL;
		struct client *c = waiter_client(e, w);

		if (c && json_object_object_get_ex(w, "id", &id))
			client_reply_ok(c, id, json_object_get(status), NULL, 0);
	}
	if (s->client)
		client_event(s->client, "finished", json_object_get(status));
	json_object_put(status);
	json_object_put(s->waiters);
	s->waiters = json_object_new_array();
	/* A client sleeping on the ring learns the news from the state. */
	stream_wake_client(s);
	if (state == SHM_STATE_FAILED)
		log_info("Stream %u ended: %s", s->handle, s->error);
	else
		log_debug("Stream %u finished", s->handle);
	if (s->detached && !s->client) {
		/* Its client has gone: nobody will ask for the record (s is freed here or soon). */
		engine_stream_release(e, s);
	} else if (s->detached) {
		/* Over while its client is still connected: an ordinary record from now on. */
		s->detached = false;
		if (e->detached_count > 0)
			e->detached_count--;
	}
}

/* Arms the drain timer for the earliest deadline among draining streams. */
static void arm_drain_timer(struct engine *e)
{
	uint64_t now = uv_now(e->daemon->loop), next = UINT64_MAX;

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
	uint64_t now = uv_now(e->daemon->loop);
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
	s->drain_deadline = uv_now(e->daemon->loop) + (uint64_t)ceil(wait * 1000.0);
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
	 * period.  A finishing stream reports what is left before "finished".
	 */
	if (ev & STREAM_EV_XRUN) {
		s->xrun_pending = true;
		if (!uv_is_active((uv_handle_t *)&e->xrun_timer))
			uv_timer_start(&e->xrun_timer, on_xrun_timer, ENGINE_XRUN_BATCH_MS, 0);
	}
	if (stream_is_over(s))
		return;
	if (atomic_load(&s->violation)) {
		log_warning("Stream %u of client %u broke the ring protocol; ending it", s->handle,
			    s->client ? s->client->id : 0);
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
			/* PortAudio plays the last buffers and reports through pa_finished. */
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

/*
 * A shared device stream ended without being asked to (the device went
 * away, or the host API failed): its streams fail and it closes, so that
 * new streams open a fresh one.
 */
static void devstream_lost(struct engine *e, struct devstream *ds)
{
	int dev = ds->cfg.device_out >= 0 ? ds->cfg.device_out : ds->cfg.device_in;
	struct list *pos, *tmp;

	log_warning("The device stream on device %d stopped by itself; ending its streams", dev);
	list_for_each_safe(pos, tmp, &e->streams)
	{
		struct stream *s = list_entry(pos, struct stream, engine_link);

		if (!stream_is_over(s) && (s->out.dev == ds || s->in.dev == ds))
			engine_stream_finish(e, s, SHM_STATE_FAILED, "portaudio_error",
					     "the device stream stopped (device gone or host API error)");
	}
	if (!ds->closing)
		devstream_close(ds);
}

void engine_devstream_notify(struct engine *e, struct devstream *ds)
{
	struct attach_list *list = atomic_load(&ds->list);

	/* Handling may detach streams and so replace the list: work on a copy of the pointers. */
	if (list && list->count) {
		uint32_t n = list->count;
		struct stream **streams = malloc(sizeof(*streams) * n);

		if (!streams)
			return;
		for (uint32_t i = 0; i < n; i++)
			streams[i] = list->dirs[i]->stream;
		for (uint32_t i = 0; i < n; i++) {
			if (i > 0 && streams[i] == streams[i - 1])
				continue;
			handle_stream(e, streams[i]);
		}
		free(streams);
	}
	if (ds->cfg.mode != DEVSTREAM_EXCLUSIVE && atomic_load(&ds->pa_finished) && !ds->closing) {
		devstream_lost(e, ds);
		return;
	}
	if (ds->cfg.mode == DEVSTREAM_EXCLUSIVE && atomic_load(&ds->pa_finished) && !ds->closing) {
		list = atomic_load(&ds->list);
		if (list && list->count) {
			struct stream *s = list->dirs[0]->stream;

			handle_stream(e, s);
			/* Finishing an exclusive stream closes its device stream and may free s. */
			if (ds->closing)
				return;
			if (!stream_is_over(s)) {
				if (s->out.used && atomic_load(&s->out.done))
					output_finished(e, s);
				else
					engine_stream_finish(e, s, SHM_STATE_FAILED, "portaudio_error",
							     "the device stream stopped unexpectedly");
			}
		}
	}
}

void engine_devstream_idle(struct engine *e, struct devstream *ds)
{
	devstream_close(ds);
}

void engine_client_gone(struct engine *e, struct client *c)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &c->streams)
	{
		struct stream *s = list_entry(pos, struct stream, client_link);

		list_remove(&s->client_link);
		s->client = NULL;
		if (s->detached && !stream_is_over(s)) {
			log_info("Stream %u plays on without its client", s->handle);
			continue;
		}
		engine_stream_release(e, s);
	}
}

bool engine_audio_healthy(struct engine *e)
{
	bool healthy = true;

	for (struct list *p = e->devstreams.next; p != &e->devstreams; p = p->next) {
		struct devstream *ds = list_entry(p, struct devstream, link);
		uint64_t n = atomic_load(&ds->callbacks);

		if (!ds->started || atomic_load(&ds->pa_finished))
			continue;
		/* A stream seen for the first time gets one interval to call back. */
		if (ds->last_callbacks != UINT64_MAX && n == ds->last_callbacks)
			healthy = false;
		ds->last_callbacks = n;
	}
	return healthy;
}
