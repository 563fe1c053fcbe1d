/*
 * The audio engine on the loop thread: choosing, opening and closing
 * device streams, attaching client streams to them, turning the audio
 * threads' notifications into state changes, and reporting stream ends,
 * xruns and device trouble through the engine's callbacks.
 */
#include "engine.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"
#include "devstream.h"
#include "log.h"
#include "rategroup.h"
#include "sample.h"
#include "stream.h"

/* Device streams of real hardware open with all their channels up to this many. */
#define ENGINE_ALL_CHANNELS_MAX 32

static void on_drain_timer(uv_timer_t *timer);
static void on_watch_timer(uv_timer_t *timer);
static void devstream_notify(void *data, struct devstream *ds);
static void devstream_idle(void *data, struct devstream *ds);
static void stream_unref(void *data, struct stream *s);

int engine_init(struct engine *e, const struct engine_config *cfg)
{
	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	list_init(&e->devstreams);
	list_init(&e->streams);
	uv_timer_init(cfg->loop, &e->drain_timer);
	e->drain_timer.data = e;
	uv_timer_init(cfg->loop, &e->xrun_timer);
	e->xrun_timer.data = e;
	uv_timer_init(cfg->loop, &e->watch_timer);
	e->watch_timer.data = e;
	if (cfg->opt.watch_ms) {
		uv_timer_start(&e->watch_timer, on_watch_timer, cfg->opt.watch_ms, cfg->opt.watch_ms);
		/* The watch alone must not keep the loop running at shutdown. */
		uv_unref((uv_handle_t *)&e->watch_timer);
	}
	return 0;
}

/* Closes a device stream and forgets it. */
static void close_devstream(struct engine *e, struct devstream *ds)
{
	if (ds->closing)
		return;
	list_remove(&ds->link);
	devstream_close(ds);
}

static void close_timer(uv_timer_t *timer)
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
		close_devstream(e, list_entry(pos, struct devstream, link));
	/* What nobody released (a test's streams, say) goes now. */
	list_for_each_safe(pos, tmp, &e->streams)
		engine_stream_release(e, list_entry(pos, struct stream, engine_link));
	close_timer(&e->drain_timer);
	close_timer(&e->xrun_timer);
	close_timer(&e->watch_timer);
}

unsigned engine_devstream_count(const struct engine *e)
{
	unsigned n = 0;

	for (struct list *p = e->devstreams.next; p != &e->devstreams; p = p->next)
		n++;
	return n;
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

/* Opens a device stream with the engine's loop, backend and hooks. */
static int open_devstream(struct engine *e, struct devstream_config *cfg, struct devstream **ret,
			  struct proto_error *err)
{
	cfg->loop = e->cfg.loop;
	cfg->backend = e->cfg.backend;
	cfg->resample_quality = e->cfg.opt.resample_quality;
	cfg->hooks = (struct devstream_hooks){
		.notify = devstream_notify,
		.idle = devstream_idle,
		.release = stream_unref,
		.data = e,
	};
	if (devstream_open(cfg, ret, err) < 0)
		return -EINVAL;
	list_insert_tail(&e->devstreams, &(*ret)->link);
	return 0;
}

/*
 * Finds the running shared device stream that plays to (output) or
 * records from device: a duplex one first, so that streams gather on it
 * and a single-direction one left beside it goes idle and closes.
 */
static struct devstream *find_shared(struct engine *e, int device, bool output)
{
	struct devstream *single = NULL;

	for (struct list *p = e->devstreams.next; p != &e->devstreams; p = p->next) {
		struct devstream *ds = list_entry(p, struct devstream, link);
		int dev = output ? ds->cfg.device_out : ds->cfg.device_in;

		if (ds->closing || dev != device || !devstream_serves(ds, output))
			continue;
		if (ds->cfg.mode == DEVSTREAM_SHARED_DUPLEX)
			return ds;
		single = ds;
	}
	return single;
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

/* Resolves one direction's latency: "low", "high" (the device's defaults) or seconds. */
static double dir_latency(struct engine *e, const struct engine_dir_req *dr, bool output)
{
	const struct device_info *d = &e->cfg.devices->dev[dr->device];

	switch (dr->latency.kind) {
	case PROTO_LATENCY_SECONDS:
		return dr->latency.seconds;
	case PROTO_LATENCY_LOW:
		return output ? d->default_low_output_latency : d->default_low_input_latency;
	default:
		return output ? d->default_high_output_latency : d->default_high_input_latency;
	}
}

/*
 * The rate a new shared device stream opens at: the configured
 * default_samplerate where the device takes it (with cfg's channels and
 * directions), else the device's own default rate.  Never a client's.
 */
static double shared_rate(struct engine *e, const struct devstream_config *cfg)
{
	int dev = cfg->device_out >= 0 ? cfg->device_out : cfg->device_in;
	double def = e->cfg.devices->dev[dev].default_samplerate;
	double want = e->cfg.opt.default_samplerate ? *e->cfg.opt.default_samplerate
						    : ENGINE_DEFAULT_SAMPLERATE;
	struct backend_params p = {
		.device_in = cfg->device_in,
		.device_out = cfg->device_out,
		.channels_in = cfg->channels_in,
		.channels_out = cfg->channels_out,
		.format_in = cfg->format_in,
		.format_out = cfg->format_out,
		.samplerate = want,
		.latency_in = cfg->latency_in,
		.latency_out = cfg->latency_out,
	};
	struct backend_error be;

	if (want <= 0 || want == def)
		return def;
	if (e->cfg.backend->ops->check(e->cfg.backend, &p, &be) == 0)
		return want;
	log_info("Device [%d] '%s' does not run at %g Hz; its shared streams run at its default, %g Hz",
		 dev, e->cfg.devices->dev[dev].name, want, def);
	return def;
}

/* Checks that a running device stream has the channels d needs. */
static int check_channels(struct engine *e, struct devstream *ds, struct stream_dir *d, bool output,
			  struct proto_error *err)
{
	int have = output ? ds->cfg.channels_out : ds->cfg.channels_in;
	int device = output ? ds->cfg.device_out : ds->cfg.device_in;

	if (d->stream_channels <= have)
		return 0;
	return proto_error_set(err, PROTO_E_NOT_SUPPORTED,
			       "device [%d] '%s' is open with %d %s channels for other clients; the stream needs %d",
			       device, e->cfg.devices->dev[device].name, have,
			       output ? "output" : "input", d->stream_channels);
}

/* Checks that the device has the channels d needs at all. */
static int check_device_channels(struct engine *e, struct stream_dir *d, int device, bool output,
				 struct proto_error *err)
{
	const struct device_info *info = &e->cfg.devices->dev[device];
	int max = output ? info->max_output_channels : info->max_input_channels;

	if (d->stream_channels <= max)
		return 0;
	return proto_error_set(err, PROTO_E_NOT_SUPPORTED,
			       "device [%d] '%s' has %d %s channels; the stream needs %d", device,
			       info->name, max, output ? "output" : "input", d->stream_channels);
}

/* Sets up one direction of a new shared device stream's configuration. */
static void shared_dir_config(struct engine *e, struct devstream_config *cfg, struct stream_dir *d,
			      const struct engine_dir_req *dr, bool output)
{
	const struct device_info *info = &e->cfg.devices->dev[dr->device];

	if (output) {
		cfg->device_out = dr->device;
		cfg->channels_out = shared_channels(info->max_output_channels, d->stream_channels);
		cfg->latency_out = dir_latency(e, dr, true);
	} else {
		cfg->device_in = dr->device;
		cfg->channels_in = shared_channels(info->max_input_channels, d->stream_channels);
		cfg->latency_in = dir_latency(e, dr, false);
	}
}

/* Opens a shared device stream as cfg describes (rate chosen here), and says so. */
static int open_shared(struct engine *e, struct devstream_config *cfg, const struct engine_req *req,
		       struct devstream **ret, struct proto_error *err)
{
	int dev = cfg->device_out >= 0 ? cfg->device_out : cfg->device_in;

	cfg->format_in = cfg->format_out = SAMPLE_FLOAT32;
	cfg->samplerate = shared_rate(e, cfg);
	cfg->blocksize = req->blocksize;
	/* It starts once the stream is attached, so that a capture misses nothing. */
	if (open_devstream(e, cfg, ret, err) < 0)
		return -EINVAL;
	log_info("Opened %s stream on device [%d] '%s': %d/%d channels in/out, %g Hz, latency %.1f/%.1f ms",
		 devstream_mode_name(*ret), dev, e->cfg.devices->dev[dev].name, cfg->channels_in,
		 cfg->channels_out, (*ret)->actual_rate, 1000 * (*ret)->actual_latency_in,
		 1000 * (*ret)->actual_latency_out);
	return 0;
}

/* Finds or opens the shared device stream one direction attaches to. */
static int shared_for(struct engine *e, struct stream_dir *d, bool output,
		      const struct engine_req *req, struct devstream **ret, struct proto_error *err)
{
	const struct engine_dir_req *dr = output ? &req->out : &req->in;
	struct devstream *ds = find_shared(e, dr->device, output);
	struct devstream_config cfg = { .device_in = -1, .device_out = -1 };

	if (check_device_channels(e, d, dr->device, output, err) < 0)
		return -EINVAL;
	if (ds) {
		if (check_channels(e, ds, d, output, err) < 0)
			return -EINVAL;
		*ret = ds;
		return 0;
	}
	cfg.mode = output ? DEVSTREAM_SHARED_OUT : DEVSTREAM_SHARED_IN;
	shared_dir_config(e, &cfg, d, dr, output);
	return open_shared(e, &cfg, req, ret, err);
}

/*
 * Finds or opens the duplex device stream a playrec on one device attaches
 * to, so that what it records is aligned with what it plays.  Idle
 * single-direction device streams of the device close first (on hardware
 * they hold the device).  A device stream that carries other clients is
 * left alone: the duplex one opens beside it when the device allows that
 * (new streams then gather on the duplex one and the other closes once
 * idle), and when it does not, the playrec goes unaligned on the separate
 * streams.  Returns 1 with *ret set, 0 when the playrec must do without,
 * or -EINVAL with err set.
 */
static int duplex_for(struct engine *e, struct stream *s, const struct engine_req *req,
		      struct devstream **ret, struct proto_error *err)
{
	int dev = req->out.device;
	struct devstream_config cfg = { .mode = DEVSTREAM_SHARED_DUPLEX };
	struct proto_error why = { 0 };
	struct list *pos, *tmp;

	if (check_device_channels(e, &s->out, dev, true, err) < 0 ||
	    check_device_channels(e, &s->in, dev, false, err) < 0)
		return -EINVAL;
	list_for_each_safe(pos, tmp, &e->devstreams)
	{
		struct devstream *ds = list_entry(pos, struct devstream, link);

		if (ds->closing || devstream_device(ds) != dev || ds->cfg.mode == DEVSTREAM_EXCLUSIVE)
			continue;
		if (ds->cfg.mode == DEVSTREAM_SHARED_DUPLEX) {
			if (check_channels(e, ds, &s->out, true, err) < 0 ||
			    check_channels(e, ds, &s->in, false, err) < 0)
				return -EINVAL;
			*ret = ds;
			return 1;
		}
	}
	list_for_each_safe(pos, tmp, &e->devstreams)
	{
		struct devstream *ds = list_entry(pos, struct devstream, link);

		if (!ds->closing && (ds->cfg.mode == DEVSTREAM_SHARED_OUT ||
				     ds->cfg.mode == DEVSTREAM_SHARED_IN) &&
		    devstream_device(ds) == dev && devstream_attached(ds) == 0)
			close_devstream(e, ds);
	}
	shared_dir_config(e, &cfg, &s->out, &req->out, true);
	shared_dir_config(e, &cfg, &s->in, &req->in, false);
	if (open_shared(e, &cfg, req, ret, &why) == 0)
		return 1;
	log_notice("Playrec on device %d runs unaligned on separate device streams: %s", dev,
		   why.message);
	proto_error_clear(&why);
	return 0;
}

/*
 * Sets the stream's rate: a recording's length from its duration, and how
 * many frames a volume change takes.
 */
static void set_rate(struct stream *s, double rate)
{
	uint32_t ramp = (uint32_t)lround(STREAM_VOLUME_RAMP_SECONDS * rate);

	s->samplerate = rate;
	if (s->limit_seconds > 0)
		s->in.limit = (int64_t)llround(s->limit_seconds * s->samplerate);
	s->out.ramp_frames = s->in.ramp_frames = ramp > 0 ? ramp : 1;
}

/*
 * Says where a playrec on one device stream records what it plays: frame
 * k played comes back as frame k + offset_frames over a loop from the
 * device's output to its input.  The device's own part is its latencies;
 * an own rate group adds its playback resampler's delay (a capture group
 * starts without its own).
 */
static void set_aligned(struct stream *s, struct devstream *ds)
{
	double loop = devstream_loop_frames(ds), offset = loop;

	if (s->out.group && s->in.group)
		offset = (s->out.group->delay_out + loop) * s->samplerate / ds->rate +
			 s->in.group->delay_out;
	s->aligned = true;
	s->offset_frames = (uint32_t)(offset + 0.5);
}

/* An exclusive stream: a device stream of its own, with exactly its parameters. */
static int start_exclusive(struct engine *e, struct stream *s, const struct engine_req *req,
			   struct proto_error *err)
{
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
		.latency_in = s->in.used ? dir_latency(e, &req->in, false) : 0,
		.latency_out = s->out.used ? dir_latency(e, &req->out, true) : 0,
		.flags = req->flags,
	};
	double def = e->cfg.devices->dev[s->out.used ? req->out.device : req->in.device]
			     .default_samplerate;
	struct devstream *ds;
	int r;

	if (cfg.samplerate <= 0)
		cfg.samplerate = def;
	s->samplerate = cfg.samplerate;
	r = stream_create_shm(s);
	if (r < 0)
		return proto_error_set(err, PROTO_E_INTERNAL, "cannot create shared memory: %s",
				       strerror(-r));
	if (open_devstream(e, &cfg, &ds, err) < 0) {
		size_t len = strlen(err->message);

		/* Exclusive streams are never resampled: say what the device would take. */
		if (cfg.samplerate != def && len < sizeof(err->message))
			snprintf(err->message + len, sizeof(err->message) - len,
				 " (the device's default rate is %g Hz; shared streams take any rate)",
				 def);
		return -EINVAL;
	}
	set_rate(s, ds->actual_rate);
	/* Attach before the first callback can matter: the list is empty until then. */
	if (devstream_attach(ds, s->out.used ? &s->out : NULL, s->in.used ? &s->in : NULL, ds->rate,
			     false) < 0) {
		close_devstream(e, ds);
		return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
	}
	/* A stream of the stream API runs its device only once it is started. */
	if (s->kind != STREAM_OPEN && devstream_start(ds, err) < 0) {
		close_devstream(e, ds);
		return -EINVAL;
	}
	if (s->out.used && s->in.used)
		set_aligned(s, ds);
	s->hdr->samplerate = (uint32_t)s->samplerate;
	s->exclusive = true;
	s->active = true;
	e->active_count++;
	return 0;
}

int engine_stream_start(struct engine *e, struct stream *s, const struct engine_req *req,
			struct proto_error *err)
{
	struct devstream *out_ds = NULL, *in_ds = NULL;
	uint32_t rate;
	int r;

	if (req->exclusive)
		return start_exclusive(e, s, req, err);
	/* A playrec on one device: one duplex device stream carries both directions. */
	if (s->out.used && s->in.used && req->out.device == req->in.device) {
		r = duplex_for(e, s, req, &out_ds, err);
		if (r < 0)
			goto fail;
		in_ds = out_ds;
	}
	if (s->out.used && !out_ds && shared_for(e, &s->out, true, req, &out_ds, err) < 0)
		goto fail;
	if (s->in.used && !in_ds && shared_for(e, &s->in, false, req, &in_ds, err) < 0)
		goto fail;
	/* Any rate: what differs from the device stream's is resampled. */
	rate = req->samplerate > 0 ? (uint32_t)lround(req->samplerate)
				   : (out_ds ? out_ds->rate : in_ds->rate);
	for (int i = 0; i < 2; i++) {
		struct devstream *ds = i ? in_ds : out_ds;

		/* Resampling costs in proportion to the ratio down: the audio thread is everyone's. */
		if (ds && rate > ENGINE_MAX_DOWNSAMPLING * ds->rate) {
			proto_error_set(err, PROTO_E_NOT_SUPPORTED,
					"%u Hz is more than %u times the %u Hz the device [%d] runs at for shared streams; ask for a lower rate or an exclusive stream",
					rate, ENGINE_MAX_DOWNSAMPLING, ds->rate, devstream_device(ds));
			goto fail;
		}
	}
	set_rate(s, rate);
	r = stream_create_shm(s);
	if (r < 0) {
		proto_error_set(err, PROTO_E_INTERNAL, "cannot create shared memory: %s", strerror(-r));
		goto fail;
	}
	if (out_ds == in_ds) {
		/* Aligned: resampled, it gets resamplers of its own that start with it. */
		r = devstream_attach(out_ds, &s->out, &s->in, rate, rate != out_ds->rate);
	} else {
		r = out_ds ? devstream_attach(out_ds, &s->out, NULL, rate, false) : 0;
		if (r == 0 && in_ds)
			r = devstream_attach(in_ds, NULL, &s->in, rate, false);
	}
	if (r < 0) {
		proto_error_set(err, PROTO_E_INTERNAL, "cannot attach the stream: %s", strerror(-r));
		goto fail;
	}
	/* New device streams start now, with their first client already attached. */
	if ((out_ds && !out_ds->started && devstream_start(out_ds, err) < 0) ||
	    (in_ds && !in_ds->started && devstream_start(in_ds, err) < 0))
		goto fail;
	if (out_ds && out_ds == in_ds)
		set_aligned(s, out_ds);
	s->active = true;
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

		if (!ds || ds->closing)
			continue;
		if (!ds->started && devstream_attached(ds) == 0)
			close_devstream(e, ds);
		else
			devstream_arm_idle(ds, *e->cfg.opt.device_idle_time);
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
		close_devstream(e, exclusive);
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

/* Describes a device stream for a device event. */
static struct engine_device_event device_event(struct devstream *ds)
{
	return (struct engine_device_event){
		.device = devstream_device(ds),
		.mode = devstream_mode_name(ds),
		.streams = devstream_attached(ds),
	};
}

/*
 * A shared device stream ended without being asked to (the device went
 * away, or the host API failed): it is reported, its streams fail and it
 * closes, so that new streams open a fresh one.
 */
static void devstream_lost(struct engine *e, struct devstream *ds)
{
	struct engine_device_event ev = device_event(ds);
	struct list *pos, *tmp;

	e->cfg.cb.device_lost(e->cfg.cb.data, &ev);
	list_for_each_safe(pos, tmp, &e->streams)
	{
		struct stream *s = list_entry(pos, struct stream, engine_link);

		if (!stream_is_over(s) && (s->out.dev == ds || s->in.dev == ds))
			engine_stream_finish(e, s, SHM_STATE_FAILED, "portaudio_error",
					     "the device stream stopped (device gone or host API error)");
	}
	close_devstream(e, ds);
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
			engine_stream_finish(e, s, SHM_STATE_FAILED, "portaudio_error",
					     "the device stream stopped unexpectedly");
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
		devstream_lost(e, ds);
}

/* A shared device stream has been idle for the configured time (its hook). */
static void devstream_idle(void *data, struct devstream *ds)
{
	close_devstream(data, ds);
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

void engine_watch(struct engine *e)
{
	for (struct list *p = e->devstreams.next; p != &e->devstreams; p = p->next) {
		struct devstream *ds = list_entry(p, struct devstream, link);
		int quiet = devstream_check_quiet(ds);

		if (quiet > 0) {
			struct engine_device_event ev = device_event(ds);

			e->cfg.cb.device_stalled(e->cfg.cb.data, &ev);
		} else if (quiet < 0) {
			log_notice("Device stream on device %d calls back again", devstream_device(ds));
		}
	}
}

static void on_watch_timer(uv_timer_t *timer)
{
	engine_watch(timer->data);
}
