/*
 * play, rec, playrec, open_stream and start_stream, wait, stop,
 * get_status, set_volume and close.  Parameters are sounddevice's; the data itself
 * never comes through here: each stream gets a sealed memfd with its rings
 * and an eventfd, passed with the reply.  Every stream is made by one
 * path, create_stream().  Loop thread.
 */
#include "cmd-streams.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "backend.h"
#include "client-streams.h"
#include "client.h"
#include "daemon.h"
#include "devices.h"
#include "devstream.h"
#include "engine.h"
#include "log.h"
#include "params.h"
#include "routes.h"
#include "sample.h"
#include "stream.h"
#include "streamparams.h"

#define COMMON_PARAMS                                                                              \
	"device", "samplerate", "blocksize", "latency", "exclusive", "clip_off", "dither_off",     \
		"never_drop_input", "prime_output_buffers_using_stream_callback", "buffer_frames", \
		"stop_previous", "frames"

const char *const cmd_play_params[] = { COMMON_PARAMS, "channels", "dtype", "mapping", "loop",
					"detach", NULL };
const char *const cmd_rec_params[] = { COMMON_PARAMS, "channels", "dtype", "mapping", "duration",
				       NULL };
const char *const cmd_playrec_params[] = { COMMON_PARAMS,   "channels",	    "dtype",
					   "data_channels", "data_dtype",   "input_mapping",
					   "output_mapping", NULL };
const char *const cmd_handle_params[] = { "handle", NULL };
const char *const cmd_open_stream_params[] = { COMMON_PARAMS, "kind", "channels", "dtype", NULL };
const char *const cmd_start_stream_params[] = { "handle", "start_frames", NULL };
const char *const cmd_set_volume_params[] = { "handle", "volume", "db", "mute", NULL };

/* The range of a volume in dB (below -200 dB nothing is left of a float's precision). */
#define VOLUME_DB_MIN -200.0
#define VOLUME_DB_MAX 20.0

/* Everything a stream command asks for besides its directions, validated. */
struct stream_args {
	struct proto_device dev_in, dev_out;
	double samplerate;
	int64_t blocksize;
	bool exclusive, clip_off, dither_off, never_drop_input, prime, loop, detach, stop_previous;
	int64_t frames; /* -1: open-ended */
	int64_t buffer_frames;
	struct proto_latency latency[2]; /* input, output */
};

/* One direction of a stream to make. */
struct dir_spec {
	bool used;
	int device; /* resolved */
	int channels;
	int dtype;
	int map[STREAM_MAX_CHANNELS];
	int nmap;
	int max_out; /* output: the device's channels for sounddevice's mono rules; 0: none */
	bool whole;  /* the whole sound goes into the ring when it fits */
};

/* A stream to make, as one of the commands described it. */
struct stream_spec {
	enum stream_kind kind;
	struct stream_args a;
	struct dir_spec in, out;
	double duration; /* rec: seconds to record (0: frames or open-ended) */
};

/* Reads the parameters every stream command shares. */
static int common_args(const struct proto_request *req, struct stream_args *a,
		       struct proto_error *err)
{
	memset(a, 0, sizeof(*a));
	if (proto_get_device(req, "device", 0, &a->dev_in, err) < 0 ||
	    proto_get_device(req, "device", 1, &a->dev_out, err) < 0 ||
	    proto_get_double(req, "samplerate", 1000, 768000, 0, &a->samplerate, err) < 0 ||
	    proto_get_int(req, "blocksize", 0, 65536, 0, &a->blocksize, err) < 0 ||
	    proto_get_bool(req, "exclusive", false, &a->exclusive, err) < 0 ||
	    proto_get_bool(req, "clip_off", false, &a->clip_off, err) < 0 ||
	    proto_get_bool(req, "dither_off", false, &a->dither_off, err) < 0 ||
	    proto_get_bool(req, "never_drop_input", false, &a->never_drop_input, err) < 0 ||
	    proto_get_bool(req, "prime_output_buffers_using_stream_callback", false, &a->prime, err) < 0 ||
	    proto_get_bool(req, "loop", false, &a->loop, err) < 0 ||
	    proto_get_bool(req, "detach", false, &a->detach, err) < 0 ||
	    proto_get_bool(req, "stop_previous", true, &a->stop_previous, err) < 0 ||
	    proto_get_int(req, "frames", 1, INT32_MAX, -1, &a->frames, err) < 0 ||
	    proto_get_int(req, "buffer_frames", 1, ROUTES_RING_MAX_FRAMES, 0, &a->buffer_frames,
			  err) < 0 ||
	    proto_get_latency(req, "latency", a->latency, err) < 0)
		return -EINVAL;
	return 0;
}

/* Resolves the device of one direction; returns 0 or -EINVAL with err set. */
static int resolve(struct client *c, struct dir_spec *d, const struct proto_device *want,
		   enum devmatch_kind kind, struct proto_error *err)
{
	d->used = true;
	d->device = devices_resolve(&c->daemon->devices, want, kind, err);
	return d->device < 0 ? -EINVAL : 0;
}

/* Describes one ring for the reply. */
static json_object *ring_json(const struct stream_dir *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "offset", json_object_new_int64(d->ctl->offset));
	json_object_object_add(o, "capacity", json_object_new_int64(d->capacity));
	json_object_object_add(o, "frame_bytes", json_object_new_int64(d->frame_bytes));
	json_object_object_add(o, "channels", json_object_new_int(d->channels));
	json_object_object_add(o, "dtype", json_object_new_string(sample_format_name(d->dtype)));
	json_object_object_add(o, "stream_channels", json_object_new_int(d->stream_channels));
	return o;
}

/* Sends the reply of a stream just started, with its memfd and eventfd. */
static void reply_started(struct client *c, const struct proto_request *req, struct stream *s,
			  const struct stream_spec *sp)
{
	json_object *o = json_object_new_object(), *fds = json_object_new_array(), *dev;
	int fd[2] = { s->shm.fd, s->wake_fd };

	json_object_object_add(o, "handle", json_object_new_int64(s->handle));
	json_object_array_add(fds, json_object_new_string("memfd"));
	json_object_array_add(fds, json_object_new_string("eventfd"));
	json_object_object_add(o, "fds", fds);
	json_object_object_add(o, "shm_size", json_object_new_int64((int64_t)s->shm.size));
	json_object_object_add(o, "samplerate", json_object_new_double(s->samplerate));
	if (s->out.dev || s->in.dev)
		json_object_object_add(o, "device_samplerate",
				       json_object_new_double((s->out.dev ? s->out.dev : s->in.dev)->actual_rate));
	json_object_object_add(o, "exclusive", json_object_new_boolean(s->exclusive));
	if (s->in.used && s->out.used) {
		json_object_object_add(o, "aligned", json_object_new_boolean(s->aligned));
		if (s->aligned)
			json_object_object_add(o, "offset_frames",
					       json_object_new_int64(s->offset_frames));
	}
	if (s->in.used && s->out.used) {
		dev = json_object_new_array();
		json_object_array_add(dev, json_object_new_int(sp->in.device));
		json_object_array_add(dev, json_object_new_int(sp->out.device));
	} else {
		dev = json_object_new_int(s->out.used ? sp->out.device : sp->in.device);
	}
	json_object_object_add(o, "device", dev);
	if (s->out.used) {
		json_object_object_add(o, "out", ring_json(&s->out));
		json_object_object_add(o, "output_latency",
				       json_object_new_double(s->out.dev ? s->out.dev->actual_latency_out : 0));
		json_object_object_add(o, "output_period",
				       json_object_new_int64(s->out.dev ? devstream_period(s->out.dev) : 0));
	}
	if (s->in.used) {
		json_object_object_add(o, "in", ring_json(&s->in));
		json_object_object_add(o, "input_latency",
				       json_object_new_double(s->in.dev ? s->in.dev->actual_latency_in : 0));
		json_object_object_add(o, "input_period",
				       json_object_new_int64(s->in.dev ? devstream_period(s->in.dev) : 0));
	}
	log_debug("Client %u: stream %u (%s%s) on device %d, %g Hz", c->id, s->handle,
		  s->out.used ? "out" : "", s->in.used ? "in" : "",
		  s->out.used ? sp->out.device : sp->in.device, s->samplerate);
	client_reply_ok(c, req->id, o, fd, 2);
}

/* Describes one direction of s from its spec: channels, format, routes and ring. */
static int describe_dir(struct stream_dir *d, const struct dir_spec *ds, bool output,
			const struct stream_spec *sp, double rate, struct proto_error *err)
{
	d->used = true;
	d->channels = ds->channels;
	d->dtype = ds->dtype;
	if (output) {
		if (routes_output(d, ds->map, ds->nmap, ds->max_out, !sp->a.exclusive, err) < 0)
			return -EINVAL;
	} else {
		routes_input(d, ds->map, ds->nmap);
	}
	routes_size_ring(d, sp->a.buffer_frames, sp->a.frames, rate, ds->whole);
	return 0;
}

/* Sets how much a stream plays and records, and when its playback starts. */
static int set_lengths(struct stream *s, const struct stream_spec *sp, struct proto_error *err)
{
	int64_t frames = sp->a.frames;

	if (s->out.used) {
		if (sp->a.loop && (uint64_t)frames > s->out.capacity)
			return proto_error_set(err, PROTO_E_INVALID_PARAM,
					       "loop needs the whole sound in shared memory: %lld frames do not fit",
					       (long long)frames);
		/* A declared length ends the sound without an end mark. */
		if (!sp->a.loop)
			s->out.limit = frames;
		s->start_frames = s->out.capacity;
		if (frames > 0 && (uint64_t)frames < s->start_frames)
			s->start_frames = (uint32_t)frames;
	}
	if (s->in.used) {
		s->in.limit = frames;
		/* A duration counts at the rate the stream really runs at: the engine resolves it. */
		s->limit_seconds = sp->duration;
	}
	return 0;
}

/*
 * Checks that the shared device streams a new stream could join on device
 * (for its input or its output: a shared input, output or duplex device
 * stream) carry fewer than max_streams_per_device streams each: every one
 * costs the audio callback time.  Returns 0, or -EINVAL with err set.
 */
static int check_device_room(struct daemon *d, int device, bool input, struct proto_error *err)
{
	unsigned most = 0;

	for (struct devstream *ds = engine_devstream_next(&d->engine, NULL); ds;
	     ds = engine_devstream_next(&d->engine, ds)) {
		enum devstream_mode m = ds->cfg.mode;
		bool serves = input ? (m == DEVSTREAM_SHARED_IN || m == DEVSTREAM_SHARED_DUPLEX) &&
					      ds->cfg.device_in == device
				    : (m == DEVSTREAM_SHARED_OUT || m == DEVSTREAM_SHARED_DUPLEX) &&
					      ds->cfg.device_out == device;

		if (serves && devstream_attached(ds) > most)
			most = devstream_attached(ds);
	}
	if (most >= (unsigned)d->settings.max_streams_per_device)
		return proto_error_set(err, PROTO_E_LIMIT,
				       "too many streams on device %d: its shared device stream carries %u, the most one may (max_streams_per_device)",
				       device, most);
	return 0;
}

/*
 * Makes, starts and replies with the stream sp describes: routes and
 * rings, the limits it must keep, the device streams it attaches to, its
 * owner.  Returns COMMAND_REPLIED, or -EINVAL with err set and nothing
 * left behind.
 */
static int create_stream(struct client *c, const struct proto_request *req,
			 struct stream_spec *sp, struct proto_error *err)
{
	struct daemon *d = c->daemon;
	struct devices *devs = &d->devices;
	const struct stream_args *a = &sp->a;
	struct dir_spec *first = sp->out.used ? &sp->out : &sp->in;
	double rate = a->samplerate > 0 ? a->samplerate : devs->dev[first->device].default_samplerate;
	struct engine_req er = {
		.in = { .device = sp->in.used ? sp->in.device : -1, .latency = a->latency[0] },
		.out = { .device = sp->out.used ? sp->out.device : -1, .latency = a->latency[1] },
		.samplerate = a->samplerate,
		.blocksize = (unsigned long)a->blocksize,
		.exclusive = a->exclusive,
		.flags = (a->clip_off ? BACKEND_CLIP_OFF : 0) | (a->dither_off ? BACKEND_DITHER_OFF : 0) |
			 (a->never_drop_input ? BACKEND_NEVER_DROP_INPUT : 0) |
			 (a->prime ? BACKEND_PRIME_OUTPUT : 0),
	};
	struct stream *s = engine_stream_new(&d->engine, sp->kind);

	if (!s)
		return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
	/* The stream API's streams wait for start_stream; the others start once their data is there. */
	s->autostart = sp->kind != STREAM_OPEN;
	s->clip_off = a->clip_off;
	s->loop = a->loop;
	if ((sp->out.used && describe_dir(&s->out, &sp->out, true, sp, rate, err) < 0) ||
	    (sp->in.used && describe_dir(&s->in, &sp->in, false, sp, rate, err) < 0))
		goto fail;
	if (a->exclusive && sp->in.used && sp->out.used && sp->in.device != sp->out.device &&
	    devs->dev[sp->in.device].hostapi != devs->dev[sp->out.device].hostapi) {
		proto_error_set(err, PROTO_E_NOT_SUPPORTED,
				"an exclusive %s needs input and output devices of one host API",
				sp->kind == STREAM_OPEN ? "duplex stream" : "playrec");
		goto fail;
	}
	if (sp->kind != STREAM_OPEN && set_lengths(s, sp, err) < 0)
		goto fail;
	if (client_streams_check(c, stream_shm_size(s), a->detach, err) < 0)
		goto fail;
	if (a->stop_previous)
		client_streams_stop_previous(c);
	/* Counted once the previous stream has let go of its place. */
	if ((!a->exclusive && sp->out.used && check_device_room(d, sp->out.device, false, err) < 0) ||
	    (!a->exclusive && sp->in.used && check_device_room(d, sp->in.device, true, err) < 0))
		goto fail;
	if (engine_stream_start(&d->engine, s, &er, err) < 0)
		goto fail;
	if (client_streams_add(c, s, a->detach, sp->kind != STREAM_OPEN) < 0) {
		proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
		goto fail;
	}
	reply_started(c, req, s, sp);
	client_streams_trim(c);
	return COMMAND_REPLIED;
fail:
	engine_stream_release(&d->engine, s);
	return -EINVAL;
}

int cmd_play(struct client *c, const struct proto_request *req, json_object **ret,
	     struct proto_error *err)
{
	struct stream_spec sp = { .kind = STREAM_PLAY };
	int64_t channels;

	if (common_args(req, &sp.a, err) < 0 ||
	    proto_get_int(req, "channels", 1, STREAM_MAX_CHANNELS, -1, &channels, err) < 0 ||
	    proto_get_dtype(req, "dtype", SAMPLE_FLOAT32, &sp.out.dtype, err) < 0 ||
	    (sp.out.nmap = proto_get_mapping(req, "mapping", sp.out.map, STREAM_MAX_CHANNELS, err)) < 0)
		return -EINVAL;
	if (channels < 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"channels\" (the data's channel count) is required");
	if (sp.a.loop && sp.a.frames < 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "loop needs \"frames\": the whole sound is kept to be replayed");
	if (resolve(c, &sp.out, &sp.a.dev_out, DEVMATCH_OUTPUT, err) < 0)
		return -EINVAL;
	sp.out.channels = (int)channels;
	sp.out.max_out = c->daemon->devices.dev[sp.out.device].max_output_channels;
	sp.out.whole = true;
	return create_stream(c, req, &sp, err);
}

int cmd_rec(struct client *c, const struct proto_request *req, json_object **ret,
	    struct proto_error *err)
{
	struct stream_spec sp = { .kind = STREAM_REC };
	int64_t channels;

	if (common_args(req, &sp.a, err) < 0 ||
	    proto_get_int(req, "channels", 1, STREAM_MAX_CHANNELS, -1, &channels, err) < 0 ||
	    proto_get_dtype(req, "dtype", SAMPLE_FLOAT32, &sp.in.dtype, err) < 0 ||
	    (sp.in.nmap = proto_get_mapping(req, "mapping", sp.in.map, STREAM_MAX_CHANNELS, err)) < 0 ||
	    proto_get_double(req, "duration", 0.001, 1e7, 0, &sp.duration, err) < 0)
		return -EINVAL;
	if (sp.a.loop || sp.a.detach)
		return proto_error_set(err, PROTO_E_INVALID_PARAM, "loop and detach are for playback");
	if (sp.duration > 0 && sp.a.frames > 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM, "give \"frames\" or \"duration\", not both");
	if (channels < 0 && sp.in.nmap == 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "Unable to determine number of input channels: give \"channels\" or \"mapping\"");
	if (resolve(c, &sp.in, &sp.a.dev_in, DEVMATCH_INPUT, err) < 0)
		return -EINVAL;
	sp.in.channels = (int)channels;
	return create_stream(c, req, &sp, err);
}

int cmd_playrec(struct client *c, const struct proto_request *req, json_object **ret,
		struct proto_error *err)
{
	struct stream_spec sp = { .kind = STREAM_PLAYREC };
	int64_t channels, data_channels;

	if (common_args(req, &sp.a, err) < 0 ||
	    proto_get_int(req, "channels", 1, STREAM_MAX_CHANNELS, -1, &channels, err) < 0 ||
	    proto_get_int(req, "data_channels", 1, STREAM_MAX_CHANNELS, -1, &data_channels, err) < 0 ||
	    proto_get_dtype(req, "data_dtype", SAMPLE_FLOAT32, &sp.out.dtype, err) < 0 ||
	    proto_get_dtype(req, "dtype", sp.out.dtype, &sp.in.dtype, err) < 0 ||
	    (sp.in.nmap = proto_get_mapping(req, "input_mapping", sp.in.map, STREAM_MAX_CHANNELS,
					    err)) < 0 ||
	    (sp.out.nmap = proto_get_mapping(req, "output_mapping", sp.out.map, STREAM_MAX_CHANNELS,
					     err)) < 0)
		return -EINVAL;
	if (sp.a.loop || sp.a.detach)
		return proto_error_set(err, PROTO_E_INVALID_PARAM, "loop and detach are for playback");
	if (data_channels < 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"data_channels\" (the played data's channel count) is required");
	if (channels < 0 && sp.in.nmap == 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "Unable to determine number of input channels: give \"channels\" or \"input_mapping\"");
	if (resolve(c, &sp.out, &sp.a.dev_out, DEVMATCH_OUTPUT, err) < 0 ||
	    resolve(c, &sp.in, &sp.a.dev_in, DEVMATCH_INPUT, err) < 0)
		return -EINVAL;
	sp.out.channels = (int)data_channels;
	sp.out.max_out = c->daemon->devices.dev[sp.out.device].max_output_channels;
	sp.out.whole = sp.in.whole = true;
	sp.in.channels = (int)channels;
	return create_stream(c, req, &sp, err);
}

int cmd_open_stream(struct client *c, const struct proto_request *req, json_object **ret,
		    struct proto_error *err)
{
	static const char *const kinds[] = { "input", "output", "duplex", NULL };
	struct stream_spec sp = { .kind = STREAM_OPEN };
	struct devices *devs = &c->daemon->devices;
	int64_t ch_in, ch_out;
	int kind;

	if (common_args(req, &sp.a, err) < 0 ||
	    proto_get_enum(req, "kind", kinds, -1, &kind, err) < 0 ||
	    proto_get_int_pair(req, "channels", 0, 1, STREAM_MAX_CHANNELS, 0, &ch_in, err) < 0 ||
	    proto_get_int_pair(req, "channels", 1, 1, STREAM_MAX_CHANNELS, 0, &ch_out, err) < 0 ||
	    proto_get_dtype_pair(req, "dtype", 0, SAMPLE_FLOAT32, &sp.in.dtype, err) < 0 ||
	    proto_get_dtype_pair(req, "dtype", 1, SAMPLE_FLOAT32, &sp.out.dtype, err) < 0)
		return -EINVAL;
	if (kind < 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"kind\" (input, output or duplex) is required");
	if (sp.a.loop || sp.a.detach || sp.a.frames > 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "loop, detach and frames are for play, rec and playrec");
	if ((kind != 0 && resolve(c, &sp.out, &sp.a.dev_out, DEVMATCH_OUTPUT, err) < 0) ||
	    (kind != 1 && resolve(c, &sp.in, &sp.a.dev_in, DEVMATCH_INPUT, err) < 0))
		return -EINVAL;
	/* As in sounddevice, no channel count means all the device has. */
	if (sp.out.used && ch_out == 0)
		ch_out = devs->dev[sp.out.device].max_output_channels < STREAM_MAX_CHANNELS
				 ? devs->dev[sp.out.device].max_output_channels
				 : STREAM_MAX_CHANNELS;
	if (sp.in.used && ch_in == 0)
		ch_in = devs->dev[sp.in.device].max_input_channels < STREAM_MAX_CHANNELS
				? devs->dev[sp.in.device].max_input_channels
				: STREAM_MAX_CHANNELS;
	/* A stream's channels are the device's channels 1…n, as in sounddevice (max_out 0). */
	sp.out.channels = (int)ch_out;
	sp.in.channels = (int)ch_in;
	/* Streams of the stream API run side by side with the client's play/rec/playrec. */
	sp.a.stop_previous = false;
	return create_stream(c, req, &sp, err);
}

/* Finds the stream a request names (by "handle", else the client's latest). */
static struct client_stream *find_stream(struct client *c, const struct proto_request *req,
					 struct proto_error *err)
{
	int64_t handle;

	if (proto_get_int(req, "handle", 1, UINT32_MAX, 0, &handle, err) < 0)
		return NULL;
	return client_streams_find(c, handle, err);
}

int cmd_start_stream(struct client *c, const struct proto_request *req, json_object **ret,
		     struct proto_error *err)
{
	struct client_stream *cs = find_stream(c, req, err);
	int64_t start_frames;

	if (!cs)
		return -EINVAL;
	if (proto_get_int(req, "start_frames", 0, ROUTES_RING_MAX_FRAMES, 1, &start_frames, err) < 0)
		return -EINVAL;
	if (stream_is_over(cs->stream))
		return proto_error_set(err, PROTO_E_BUSY, "stream %u has finished; open a new one",
				       cs->stream->handle);
	if (engine_stream_run(&c->daemon->engine, cs->stream, (uint32_t)start_frames, err) < 0)
		return -EINVAL;
	*ret = stream_status_json(cs->stream);
	return 0;
}

int cmd_wait(struct client *c, const struct proto_request *req, json_object **ret,
	     struct proto_error *err)
{
	struct client_stream *cs = find_stream(c, req, err);

	if (!cs)
		return -EINVAL;
	if (stream_is_over(cs->stream)) {
		*ret = stream_status_json(cs->stream);
		return 0;
	}
	client_streams_wait(c, cs, req->id);
	return COMMAND_REPLIED;
}

int cmd_stop(struct client *c, const struct proto_request *req, json_object **ret,
	     struct proto_error *err)
{
	struct client_stream *cs = find_stream(c, req, err);

	if (!cs)
		return -EINVAL;
	*ret = client_streams_stop(c, cs);
	return 0;
}

int cmd_get_status(struct client *c, const struct proto_request *req, json_object **ret,
		   struct proto_error *err)
{
	struct client_stream *cs = find_stream(c, req, err);

	if (!cs)
		return -EINVAL;
	*ret = stream_status_json(cs->stream);
	return 0;
}

int cmd_close(struct client *c, const struct proto_request *req, json_object **ret,
	      struct proto_error *err)
{
	struct client_stream *cs = find_stream(c, req, err);

	if (!cs)
		return -EINVAL;
	*ret = stream_status_json(cs->stream);
	client_streams_close(c, cs);
	return 0;
}

int cmd_set_volume(struct client *c, const struct proto_request *req, json_object **ret,
		   struct proto_error *err)
{
	struct client_stream *cs = find_stream(c, req, err);
	double volume[STREAM_MAX_CHANNELS], db[STREAM_MAX_CHANNELS];
	float gains[STREAM_MAX_CHANNELS];
	int nvolume, ndb, n, r, mute = -1;
	struct stream_dir *d;
	struct stream *s;
	bool m;

	if (!cs)
		return -EINVAL;
	s = cs->stream;
	nvolume = proto_get_volume(req, "volume", 0, STREAM_VOLUME_MAX, volume, STREAM_MAX_CHANNELS,
				   err);
	if (nvolume < 0)
		return -EINVAL;
	ndb = proto_get_volume(req, "db", VOLUME_DB_MIN, VOLUME_DB_MAX, db, STREAM_MAX_CHANNELS, err);
	if (ndb < 0)
		return -EINVAL;
	r = proto_get_bool(req, "mute", false, &m, err);
	if (r < 0)
		return -EINVAL;
	if (r == 1)
		mute = m;
	if (nvolume && ndb)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "give \"volume\" (linear) or \"db\", not both");
	if (!nvolume && !ndb && mute < 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "set_volume needs \"volume\", \"db\" or \"mute\"");
	if (s->exclusive)
		return proto_error_set(err, PROTO_E_NOT_SUPPORTED,
				       "stream %u is exclusive: its samples reach the device bit for bit, so it has no volume (a shared stream has one)",
				       s->handle);
	if (stream_is_over(s))
		return proto_error_set(err, PROTO_E_BUSY, "stream %u has finished", s->handle);
	d = stream_volume_dir(s);
	n = nvolume ? nvolume : ndb;
	if (n > 1 && n != d->channels)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "stream %u has %d channels: give one volume for all or one per channel, not %d",
				       s->handle, d->channels, n);
	for (int i = 0; i < n; i++)
		gains[i] = (float)(nvolume ? volume[i] : pow(10.0, db[i] / 20.0));
	stream_set_volume(d, gains, n, mute);
	*ret = stream_status_json(s);
	return 0;
}
