/*
 * Attaching client streams to device streams, on the loop thread: finding
 * or opening the shared device stream (or duplex one, for a playrec on one
 * device) that a stream goes on, at which rate and with how many channels,
 * opening an exclusive stream's own device stream, and starting a stream
 * that waits for an explicit start.
 */
#include "engine.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "devices.h"
#include "devstream.h"
#include "engine-internal.h"
#include "log.h"
#include "rategroup.h"
#include "sample.h"
#include "stream.h"

/* Device streams of real hardware open with all their channels up to this many. */
#define ENGINE_ALL_CHANNELS_MAX 32

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
 * The rate a new shared device stream tries first: the configured
 * default_samplerate, else the device's own default rate.  Never a client's.
 */
static double shared_rate(struct engine *e, int dev)
{
	double def = e->cfg.devices->dev[dev].default_samplerate;
	double want = e->cfg.opt.default_samplerate ? *e->cfg.opt.default_samplerate
						    : ENGINE_DEFAULT_SAMPLERATE;

	return want > 0 ? want : def;
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
	double def = e->cfg.devices->dev[dev].default_samplerate;

	cfg->format_in = cfg->format_out = SAMPLE_FLOAT32;
	cfg->samplerate = shared_rate(e, dev);
	cfg->blocksize = req->blocksize;
	/*
	 * The open itself tells whether the device takes that rate: a format
	 * check first would open the device twice, and PortAudio's check of an
	 * ALSA PCM takes the largest buffer the PCM offers (gigabytes on a
	 * plugin over "null").  A device that is busy or gone fails at any rate.
	 * It starts once the stream is attached, so that a capture misses nothing.
	 */
	if (engine_open_devstream(e, cfg, ret, err) < 0) {
		if (cfg->samplerate == def || err->code == PROTO_E_BUSY)
			return -EINVAL;
		log_info("Device [%d] '%s' does not open at %g Hz (%s); its shared streams run at its default, %g Hz",
			 dev, e->cfg.devices->dev[dev].name, cfg->samplerate, err->message, def);
		proto_error_clear(err);
		cfg->samplerate = def;
		if (engine_open_devstream(e, cfg, ret, err) < 0)
			return -EINVAL;
	}
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
			engine_close_devstream(e, ds);
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
	if (engine_open_devstream(e, &cfg, &ds, err) < 0) {
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
		engine_close_devstream(e, ds);
		return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
	}
	/* A stream of the stream API runs its device only once it is started. */
	if (s->kind != STREAM_OPEN && engine_start_devstream(e, ds, err) < 0) {
		engine_close_devstream(e, ds);
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
	struct devstream *out_ds = NULL, *in_ds = NULL, *full;
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
	/* The device stream an attach refused for want of room for a resampler. */
	full = out_ds ? out_ds : in_ds;
	if (out_ds == in_ds) {
		/* Aligned: resampled, it gets resamplers of its own that start with it. */
		r = devstream_attach(out_ds, &s->out, &s->in, rate, rate != out_ds->rate);
	} else {
		r = out_ds ? devstream_attach(out_ds, &s->out, NULL, rate, false) : 0;
		if (r == 0 && in_ds) {
			full = in_ds;
			r = devstream_attach(in_ds, NULL, &s->in, rate, false);
		}
	}
	if (r == -EUSERS) {
		proto_error_set(err, PROTO_E_LIMIT,
				"device [%d] already runs %u resamplers for shared streams at other rates than its %u Hz, the most it may (max_resamplers_per_device): ask for %u Hz, or a rate a stream on it uses",
				devstream_device(full), devstream_resamplers(full), full->rate, full->rate);
		goto fail;
	}
	if (r < 0) {
		proto_error_set(err, PROTO_E_INTERNAL, "cannot attach the stream: %s", strerror(-r));
		goto fail;
	}
	/* New device streams start now, with their first client already attached. */
	if ((out_ds && !out_ds->started && engine_start_devstream(e, out_ds, err) < 0) ||
	    (in_ds && !in_ds->started && engine_start_devstream(e, in_ds, err) < 0))
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
			engine_close_devstream(e, ds);
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
	if (s->exclusive && ds && !ds->started && engine_start_devstream(e, ds, err) < 0) {
		engine_stream_finish(e, s, SHM_STATE_FAILED, proto_errcode_name(err->code), err->message);
		return -EINVAL;
	}
	return 0;
}

