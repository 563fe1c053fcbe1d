/*
 * play, rec, playrec, wait, stop, get_status and close.  Parameters are
 * sounddevice's; the data itself never comes through here: each stream
 * gets a sealed memfd with its rings and an eventfd, passed with the reply.
 * Loop thread.
 */
#include "cmd-streams.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <portaudio.h>

#include "client.h"
#include "daemon.h"
#include "devices.h"
#include "devstream.h"
#include "engine.h"
#include "log.h"
#include "params.h"
#include "sample.h"
#include "stream.h"

/* Finished records a client keeps for get_status/wait before the oldest goes. */
#define KEEP_FINISHED 16

/* Rings are at least this long, and (by default) hold at least this much time. */
#define RING_MIN_FRAMES 1024
#define RING_DEFAULT_SECONDS 1.0
#define RING_MAX_FRAMES (1u << 26)

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

/* Everything a stream command asks for, validated. */
struct stream_args {
	struct proto_device dev_in, dev_out;
	double samplerate;
	int64_t blocksize;
	bool exclusive, clip_off, dither_off, never_drop_input, prime, loop, detach, stop_previous;
	int64_t frames; /* -1: open-ended */
	int64_t buffer_frames;
	json_object *latency; /* "low", "high", seconds or a pair; NULL for the default */
};

static uint32_t next_pow2(uint64_t x)
{
	uint32_t p = RING_MIN_FRAMES;

	while (p < x && p < RING_MAX_FRAMES)
		p <<= 1;
	return p;
}

/* Reads the parameters every stream command shares. */
static int common_args(const struct proto_request *req, struct stream_args *a,
		       struct proto_error *err)
{
	json_object *lat = NULL;

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
	    proto_get_int(req, "buffer_frames", 1, RING_MAX_FRAMES, 0, &a->buffer_frames, err) < 0)
		return -EINVAL;
	if (json_object_object_get_ex(req->root, "latency", &lat) && lat) {
		json_object *parts[2] = { lat, lat };

		if (json_object_is_type(lat, json_type_array)) {
			if (json_object_array_length(lat) != 2)
				return proto_error_set(err, PROTO_E_INVALID_PARAM,
						       "parameter \"latency\": only single values and [input, output] pairs are allowed");
			parts[0] = json_object_array_get_idx(lat, 0);
			parts[1] = json_object_array_get_idx(lat, 1);
		}
		for (int i = 0; i < 2; i++) {
			json_object *p = parts[i];
			const char *s = json_object_is_type(p, json_type_string) ? json_object_get_string(p) : NULL;
			double v = json_object_get_double(p);

			if (json_object_is_type(p, json_type_null))
				continue;
			if (s ? strcmp(s, "low") && strcmp(s, "high")
			      : !(json_object_is_type(p, json_type_int) ||
				  json_object_is_type(p, json_type_double)) ||
					!isfinite(v) || v < 0 || v > 10)
				return proto_error_set(err, PROTO_E_INVALID_PARAM,
						       "parameter \"latency\" must be \"low\", \"high\" or seconds (0 to 10)");
		}
		a->latency = lat;
	}
	return 0;
}

/* Resolves the latency for one direction: "low", "high" (the default) or seconds. */
static double resolve_latency(struct devices *devs, json_object *lat, int which, int device)
{
	const struct device_info *d = &devs->dev[device];
	json_object *p = lat;
	const char *s;

	if (p && json_object_is_type(p, json_type_array))
		p = json_object_array_get_idx(p, (size_t)which);
	if (!p || json_object_is_type(p, json_type_null))
		s = "high";
	else if (json_object_is_type(p, json_type_string))
		s = json_object_get_string(p);
	else
		return json_object_get_double(p);
	if (strcmp(s, "low") == 0)
		return which ? d->default_low_output_latency : d->default_low_input_latency;
	return which ? d->default_high_output_latency : d->default_high_input_latency;
}

/*
 * Reads a channel mapping (1-based channel numbers, each at most once) into
 * map.  Returns the number of entries, 0 when there is none, or -EINVAL.
 */
static int get_mapping(const struct proto_request *req, const char *name, int *map,
		       struct proto_error *err)
{
	json_object *v = NULL;
	size_t n;

	if (!json_object_object_get_ex(req->root, name, &v) || !v)
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		int64_t x = json_object_get_int64(v);

		if (x < 1 || x > 1024)
			return proto_error_set(err, PROTO_E_INVALID_PARAM,
					       "parameter \"%s\": channel numbers must be 1 to 1024", name);
		map[0] = (int)x;
		return 1;
	}
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\" must be a list of channel numbers", name);
	n = json_object_array_length(v);
	if (n > STREAM_MAX_CHANNELS)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\" has more than %d channels", name,
				       STREAM_MAX_CHANNELS);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		int64_t x = json_object_get_int64(e);

		if (!json_object_is_type(e, json_type_int) || x < 1 || x > 1024)
			return proto_error_set(err, PROTO_E_INVALID_PARAM,
					       "parameter \"%s\": channel numbers must be integers from 1 (channel numbers must not be < 1)",
					       name);
		for (size_t j = 0; j < i; j++)
			if (map[j] == x)
				return proto_error_set(err, PROTO_E_INVALID_PARAM,
						       "parameter \"%s\": each channel may only appear once in mapping",
						       name);
		map[i] = (int)x;
	}
	return (int)n;
}

/*
 * Sets up the playback routes as sounddevice maps data columns onto output
 * channels.  max_out is the device's output channel count.
 */
static int output_routes(struct stream_dir *d, const int *map, int nmap, int max_out, bool shared,
			 struct proto_error *err)
{
	int implicit[STREAM_MAX_CHANNELS];
	bool explicit_map = nmap > 0;
	int top = 0;

	if (!explicit_map) {
		for (int i = 0; i < d->channels; i++)
			implicit[i] = i + 1;
		map = implicit;
		nmap = d->channels;
	}
	if (d->channels != 1 && d->channels != nmap)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "number of output channels (%d) != size of output mapping (%d)",
				       d->channels, nmap);
	d->nroutes = 0;
	for (int j = 0; j < nmap; j++) {
		d->routes[d->nroutes++] = (struct stream_route){
			.src = (uint16_t)(d->channels == 1 ? 0 : j),
			.dst = (uint16_t)(map[j] - 1),
		};
		if (map[j] > top)
			top = map[j];
	}
	d->stream_channels = top;
	/* Some host APIs duplicate mono to two channels; mapping=[1] asks for silence on the second. */
	if (explicit_map && nmap == 1 && map[0] == 1 && max_out >= 2)
		d->stream_channels = 2;
	/* Shared streams do that duplication themselves, as ALSA's plug device would. */
	if (shared && !explicit_map && d->channels == 1 && max_out >= 2)
		d->routes[d->nroutes++] = (struct stream_route){ .src = 0, .dst = 1 };
	return 0;
}

/* Sets up the capture routes: mapping lists the input channels to record. */
static int input_routes(struct stream_dir *d, const int *map, int nmap)
{
	int top = 0;

	if (nmap > 0)
		d->channels = nmap;
	d->nroutes = 0;
	for (int j = 0; j < d->channels; j++) {
		int ch = nmap > 0 ? map[j] : j + 1;

		d->routes[d->nroutes++] = (struct stream_route){ .src = (uint16_t)(ch - 1),
								 .dst = (uint16_t)j };
		if (ch > top)
			top = ch;
	}
	d->stream_channels = top;
	return 0;
}

/* Sizes a direction's ring: the whole sound when it fits, else about a second. */
static void size_ring(struct stream_dir *d, const struct stream_args *a, double rate, bool whole)
{
	uint64_t want;

	d->frame_bytes = (uint32_t)(sample_format_size(d->dtype) * (size_t)d->channels);
	if (a->buffer_frames > 0)
		want = (uint64_t)a->buffer_frames;
	else if (whole && a->frames > 0 &&
		 (uint64_t)a->frames * d->frame_bytes <= 32u * 1024 * 1024)
		want = (uint64_t)a->frames;
	else
		want = (uint64_t)(rate * RING_DEFAULT_SECONDS);
	d->capacity = next_pow2(want);
	d->limit = -1;
}

/* Ends the client's previous play/rec/playrec, as a new one does in sounddevice. */
static void stop_previous(struct client *c)
{
	struct engine *e = &c->daemon->engine;

	for (struct list *p = c->streams.next; p != &c->streams; p = p->next) {
		struct stream *s = list_entry(p, struct stream, client_link);

		if (s->handle == c->last_handle && s->kind != STREAM_OPEN && !stream_is_over(s))
			engine_stream_finish(e, s, SHM_STATE_FINISHED, NULL, NULL);
	}
}

/* Lets go of the oldest finished records beyond KEEP_FINISHED. */
static void trim_finished(struct client *c)
{
	struct engine *e = &c->daemon->engine;
	struct list *pos, *tmp;
	int over = 0;

	for (struct list *p = c->streams.next; p != &c->streams; p = p->next)
		over += stream_is_over(list_entry(p, struct stream, client_link));
	list_for_each_safe(pos, tmp, &c->streams)
	{
		struct stream *s = list_entry(pos, struct stream, client_link);

		if (over <= KEEP_FINISHED)
			break;
		if (!stream_is_over(s))
			continue;
		list_remove(&s->client_link);
		c->shm_bytes -= s->shm.size;
		engine_stream_release(e, s);
		over--;
	}
}

/* Counts the client's streams that have not finished. */
static int active_streams(struct client *c)
{
	int n = 0;

	for (struct list *p = c->streams.next; p != &c->streams; p = p->next)
		n += !stream_is_over(list_entry(p, struct stream, client_link));
	return n;
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

/*
 * The common second half of play, rec and playrec: checks limits, starts
 * the stream and sends the reply with the memfd and the eventfd.
 */
static int start_and_reply(struct client *c, const struct proto_request *req, struct stream *s,
			   struct stream_args *a, int dev_in, int dev_out, struct proto_error *err)
{
	struct daemon *d = c->daemon;
	struct engine *e = &d->engine;
	struct engine_req er = {
		.in = { .device = dev_in },
		.out = { .device = dev_out },
		.samplerate = a->samplerate,
		.blocksize = (unsigned long)a->blocksize,
		.exclusive = a->exclusive,
	};
	json_object *o, *dev;
	size_t bytes;
	int fds[2];

	if (active_streams(c) >= d->settings.max_streams_per_client) {
		engine_stream_release(e, s);
		return proto_error_set(err, PROTO_E_LIMIT,
				       "too many streams: at most %d may run at once per client",
				       d->settings.max_streams_per_client);
	}
	bytes = SHM_DATA_ALIGN + (s->out.used ? shm_ring_bytes(s->out.capacity, s->out.frame_bytes) : 0) +
		(s->in.used ? shm_ring_bytes(s->in.capacity, s->in.frame_bytes) : 0);
	if (c->shm_bytes + bytes > d->settings.max_shm_per_client) {
		engine_stream_release(e, s);
		return proto_error_set(err, PROTO_E_LIMIT,
				       "the stream needs %zu bytes of shared memory; the client's limit is %zu (in use: %zu)",
				       bytes, d->settings.max_shm_per_client, c->shm_bytes);
	}
	if (a->detach && e->detached_count >= ENGINE_MAX_DETACHED) {
		engine_stream_release(e, s);
		return proto_error_set(err, PROTO_E_LIMIT, "too many detached playbacks (%d)",
				       ENGINE_MAX_DETACHED);
	}
	if (s->out.used)
		er.out.latency = resolve_latency(&d->devices, a->latency, 1, dev_out);
	if (s->in.used)
		er.in.latency = resolve_latency(&d->devices, a->latency, 0, dev_in);
	if (a->clip_off)
		er.pa_flags |= paClipOff;
	if (a->dither_off)
		er.pa_flags |= paDitherOff;
	if (a->never_drop_input)
		er.pa_flags |= paNeverDropInput;
	if (a->prime)
		er.pa_flags |= paPrimeOutputBuffersUsingStreamCallback;
	s->clip_off = a->clip_off;
	s->loop = a->loop;

	if (a->stop_previous)
		stop_previous(c);
	if (engine_stream_start(e, s, &er, err) < 0) {
		engine_stream_release(e, s);
		return -EINVAL;
	}
	list_insert_tail(&c->streams, &s->client_link);
	c->shm_bytes += s->shm.size;
	if (s->kind != STREAM_OPEN)
		c->last_handle = s->handle;
	s->owner_uid = c->cred.uid;
	if (a->detach) {
		s->detached = true;
		e->detached_count++;
	}

	o = json_object_new_object();
	json_object_object_add(o, "handle", json_object_new_int64(s->handle));
	json_object_object_add(o, "fds", json_object_new_array());
	json_object_array_add(json_object_object_get(o, "fds"), json_object_new_string("memfd"));
	json_object_array_add(json_object_object_get(o, "fds"), json_object_new_string("eventfd"));
	json_object_object_add(o, "shm_size", json_object_new_int64((int64_t)s->shm.size));
	json_object_object_add(o, "samplerate", json_object_new_double(s->samplerate));
	json_object_object_add(o, "exclusive", json_object_new_boolean(s->exclusive));
	if (s->in.used && s->out.used) {
		dev = json_object_new_array();
		json_object_array_add(dev, json_object_new_int(dev_in));
		json_object_array_add(dev, json_object_new_int(dev_out));
	} else {
		dev = json_object_new_int(s->out.used ? dev_out : dev_in);
	}
	json_object_object_add(o, "device", dev);
	if (s->out.used) {
		json_object_object_add(o, "out", ring_json(&s->out));
		json_object_object_add(o, "output_latency",
				       json_object_new_double(s->out.dev ? s->out.dev->actual_latency_out : 0));
	}
	if (s->in.used) {
		json_object_object_add(o, "in", ring_json(&s->in));
		json_object_object_add(o, "input_latency",
				       json_object_new_double(s->in.dev ? s->in.dev->actual_latency_in : 0));
	}
	fds[0] = s->shm.fd;
	fds[1] = s->wake_fd;
	log_debug("Client %u: stream %u (%s%s) on device %d, %g Hz", c->id, s->handle,
		  s->out.used ? "out" : "", s->in.used ? "in" : "", s->out.used ? dev_out : dev_in,
		  s->samplerate);
	client_reply_ok(c, req->id, o, fds, 2);
	trim_finished(c);
	return COMMAND_REPLIED;
}

/* Resolves the device for one direction and returns its index, or -EINVAL. */
static int device_for(struct client *c, const struct proto_device *dev, enum devmatch_kind kind,
		      struct proto_error *err)
{
	return devices_resolve(&c->daemon->devices, dev, kind, err);
}

/* Allocates a stream that starts by itself once its data is there; NULL with err set. */
static struct stream *new_stream(struct client *c, enum stream_kind kind, struct proto_error *err)
{
	struct stream *s = engine_stream_new(&c->daemon->engine, c, kind);

	if (!s) {
		proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
		return NULL;
	}
	s->autostart = true;
	return s;
}

/* Describes one direction of a stream: the client's channels and sample format. */
static void use_dir(struct stream_dir *d, int channels, int dtype)
{
	d->used = true;
	d->channels = channels;
	d->dtype = dtype;
}

int cmd_play(struct client *c, const struct proto_request *req, json_object **ret,
	     struct proto_error *err)
{
	struct devices *devs = &c->daemon->devices;
	struct stream_args a;
	struct stream *s;
	int map[STREAM_MAX_CHANNELS], nmap, dev, dtype;
	int64_t channels;
	double rate;

	if (common_args(req, &a, err) < 0 ||
	    proto_get_int(req, "channels", 1, STREAM_MAX_CHANNELS, -1, &channels, err) < 0 ||
	    proto_get_dtype(req, "dtype", SAMPLE_FLOAT32, &dtype, err) < 0 ||
	    (nmap = get_mapping(req, "mapping", map, err)) < 0)
		return -EINVAL;
	if (channels < 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"channels\" (the data's channel count) is required");
	if (a.loop && a.frames < 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "loop needs \"frames\": the whole sound is kept to be replayed");
	dev = device_for(c, &a.dev_out, DEVMATCH_OUTPUT, err);
	if (dev < 0)
		return dev;
	rate = a.samplerate > 0 ? a.samplerate : devs->dev[dev].default_samplerate;

	s = new_stream(c, STREAM_PLAY, err);
	if (!s)
		return -EINVAL;
	use_dir(&s->out, (int)channels, dtype);
	if (output_routes(&s->out, map, nmap, devs->dev[dev].max_output_channels, !a.exclusive, err) < 0) {
		engine_stream_release(&c->daemon->engine, s);
		return -EINVAL;
	}
	size_ring(&s->out, &a, rate, true);
	if (a.loop && (uint64_t)a.frames > s->out.capacity) {
		engine_stream_release(&c->daemon->engine, s);
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "loop needs the whole sound in shared memory: %lld frames do not fit",
				       (long long)a.frames);
	}
	if (!a.loop)
		s->out.limit = a.frames; /* a declared length ends the sound without an end mark */
	s->start_frames = s->out.capacity;
	if (a.frames > 0 && (uint64_t)a.frames < s->start_frames)
		s->start_frames = (uint32_t)a.frames;
	return start_and_reply(c, req, s, &a, -1, dev, err);
}

int cmd_rec(struct client *c, const struct proto_request *req, json_object **ret,
	    struct proto_error *err)
{
	struct devices *devs = &c->daemon->devices;
	struct stream_args a;
	struct stream *s;
	int map[STREAM_MAX_CHANNELS], nmap, dev, dtype;
	int64_t channels;
	double rate, duration;

	if (common_args(req, &a, err) < 0 ||
	    proto_get_int(req, "channels", 1, STREAM_MAX_CHANNELS, -1, &channels, err) < 0 ||
	    proto_get_dtype(req, "dtype", SAMPLE_FLOAT32, &dtype, err) < 0 ||
	    (nmap = get_mapping(req, "mapping", map, err)) < 0 ||
	    proto_get_double(req, "duration", 0.001, 1e7, 0, &duration, err) < 0)
		return -EINVAL;
	if (a.loop || a.detach)
		return proto_error_set(err, PROTO_E_INVALID_PARAM, "loop and detach are for playback");
	if (duration > 0 && a.frames > 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM, "give \"frames\" or \"duration\", not both");
	if (channels < 0 && nmap == 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "Unable to determine number of input channels: give \"channels\" or \"mapping\"");
	dev = device_for(c, &a.dev_in, DEVMATCH_INPUT, err);
	if (dev < 0)
		return dev;
	rate = a.samplerate > 0 ? a.samplerate : devs->dev[dev].default_samplerate;

	s = new_stream(c, STREAM_REC, err);
	if (!s)
		return -EINVAL;
	use_dir(&s->in, (int)channels, dtype);
	input_routes(&s->in, map, nmap);
	size_ring(&s->in, &a, rate, false);
	s->in.limit = a.frames;
	/* A duration counts at the rate the stream really runs at: the engine resolves it. */
	s->limit_seconds = duration;
	return start_and_reply(c, req, s, &a, dev, -1, err);
}

int cmd_playrec(struct client *c, const struct proto_request *req, json_object **ret,
		struct proto_error *err)
{
	struct devices *devs = &c->daemon->devices;
	struct stream_args a;
	struct stream *s;
	int in_map[STREAM_MAX_CHANNELS], out_map[STREAM_MAX_CHANNELS], nin, nout;
	int dev_in, dev_out, data_dtype, dtype;
	int64_t channels, data_channels;
	double rate;

	if (common_args(req, &a, err) < 0 ||
	    proto_get_int(req, "channels", 1, STREAM_MAX_CHANNELS, -1, &channels, err) < 0 ||
	    proto_get_int(req, "data_channels", 1, STREAM_MAX_CHANNELS, -1, &data_channels, err) < 0 ||
	    proto_get_dtype(req, "data_dtype", SAMPLE_FLOAT32, &data_dtype, err) < 0 ||
	    proto_get_dtype(req, "dtype", data_dtype, &dtype, err) < 0 ||
	    (nin = get_mapping(req, "input_mapping", in_map, err)) < 0 ||
	    (nout = get_mapping(req, "output_mapping", out_map, err)) < 0)
		return -EINVAL;
	if (a.loop || a.detach)
		return proto_error_set(err, PROTO_E_INVALID_PARAM, "loop and detach are for playback");
	if (data_channels < 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"data_channels\" (the played data's channel count) is required");
	if (channels < 0 && nin == 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "Unable to determine number of input channels: give \"channels\" or \"input_mapping\"");
	dev_out = device_for(c, &a.dev_out, DEVMATCH_OUTPUT, err);
	if (dev_out < 0)
		return dev_out;
	dev_in = device_for(c, &a.dev_in, DEVMATCH_INPUT, err);
	if (dev_in < 0)
		return dev_in;
	rate = a.samplerate > 0 ? a.samplerate : devs->dev[dev_out].default_samplerate;

	s = new_stream(c, STREAM_PLAYREC, err);
	if (!s)
		return -EINVAL;
	use_dir(&s->out, (int)data_channels, data_dtype);
	use_dir(&s->in, (int)channels, dtype);
	if (output_routes(&s->out, out_map, nout, devs->dev[dev_out].max_output_channels,
			  !a.exclusive, err) < 0) {
		engine_stream_release(&c->daemon->engine, s);
		return -EINVAL;
	}
	input_routes(&s->in, in_map, nin);
	size_ring(&s->out, &a, rate, true);
	size_ring(&s->in, &a, rate, true);
	s->in.limit = a.frames;
	s->out.limit = a.frames;
	s->start_frames = s->out.capacity;
	if (a.frames > 0 && (uint64_t)a.frames < s->start_frames)
		s->start_frames = (uint32_t)a.frames;
	if (a.exclusive && dev_in != dev_out && devs->dev[dev_in].hostapi != devs->dev[dev_out].hostapi) {
		engine_stream_release(&c->daemon->engine, s);
		return proto_error_set(err, PROTO_E_NOT_SUPPORTED,
				       "an exclusive playrec needs input and output devices of one host API");
	}
	return start_and_reply(c, req, s, &a, dev_in, dev_out, err);
}

/* Finds the stream a request names (by "handle", else the client's latest). */
static struct stream *find_stream(struct client *c, const struct proto_request *req,
				  struct proto_error *err)
{
	int64_t handle;
	int r = proto_get_int(req, "handle", 1, UINT32_MAX, 0, &handle, err);

	if (r < 0)
		return NULL;
	if (r == 0) {
		handle = c->last_handle;
		if (!handle) {
			proto_error_set(err, PROTO_E_NO_SUCH_STREAM,
					"play()/rec()/playrec() was not called yet");
			return NULL;
		}
	}
	for (struct list *p = c->streams.next; p != &c->streams; p = p->next) {
		struct stream *s = list_entry(p, struct stream, client_link);

		if (s->handle == handle)
			return s;
	}
	/* A detached playback whose client left belongs to the user who started it. */
	for (struct list *p = c->daemon->engine.streams.next; p != &c->daemon->engine.streams;
	     p = p->next) {
		struct stream *s = list_entry(p, struct stream, engine_link);

		if (s->handle == handle && s->detached && !s->client && s->owner_uid == c->cred.uid)
			return s;
	}
	/* Another client's stream looks exactly like one that does not exist. */
	proto_error_set(err, PROTO_E_NO_SUCH_STREAM, "no stream with handle %lld", (long long)handle);
	return NULL;
}

int cmd_wait(struct client *c, const struct proto_request *req, json_object **ret,
	     struct proto_error *err)
{
	struct stream *s = find_stream(c, req, err);
	json_object *waiter;

	if (!s)
		return -EINVAL;
	if (stream_is_over(s)) {
		*ret = stream_status_json(s);
		return 0;
	}
	/* The waiter may not be the owner (a detached playback's user): remember who waits. */
	waiter = json_object_new_object();
	json_object_object_add(waiter, "client", json_object_new_int64(c->id));
	json_object_object_add(waiter, "id", json_object_get(req->id));
	json_object_array_add(s->waiters, waiter);
	return COMMAND_REPLIED;
}

int cmd_stop(struct client *c, const struct proto_request *req, json_object **ret,
	     struct proto_error *err)
{
	struct stream *s = find_stream(c, req, err);
	bool orphan;

	if (!s)
		return -EINVAL;
	/* A detached playback whose client left is freed as it ends: report first, then free. */
	orphan = s->detached && !s->client;
	if (orphan)
		s->detached = false;
	engine_stream_finish(&c->daemon->engine, s, SHM_STATE_FINISHED, NULL, NULL);
	*ret = stream_status_json(s);
	if (orphan) {
		s->detached = true;
		engine_stream_release(&c->daemon->engine, s);
	}
	return 0;
}

int cmd_get_status(struct client *c, const struct proto_request *req, json_object **ret,
		   struct proto_error *err)
{
	struct stream *s = find_stream(c, req, err);

	if (!s)
		return -EINVAL;
	*ret = stream_status_json(s);
	return 0;
}

int cmd_close(struct client *c, const struct proto_request *req, json_object **ret,
	      struct proto_error *err)
{
	struct stream *s = find_stream(c, req, err);

	if (!s)
		return -EINVAL;
	*ret = stream_status_json(s);
	list_remove(&s->client_link);
	/* Only the owner's memory is counted (not an orphaned detached playback's). */
	if (s->client == c)
		c->shm_bytes -= s->shm.size;
	if (c->last_handle == s->handle)
		c->last_handle = 0;
	engine_stream_release(&c->daemon->engine, s);
	return 0;
}

/* One device stream as daemon_status reports it. */
static json_object *devstream_json(struct daemon *d, struct devstream *ds)
{
	json_object *o = json_object_new_object();
	int dev = ds->cfg.device_out >= 0 ? ds->cfg.device_out : ds->cfg.device_in;
	const char *mode = ds->cfg.mode == DEVSTREAM_SHARED_OUT  ? "shared output"
			   : ds->cfg.mode == DEVSTREAM_SHARED_IN ? "shared input"
								 : "exclusive";

	json_object_object_add(o, "device", json_object_new_int(dev));
	json_object_object_add(o, "name", json_object_new_string(dev < d->devices.count ? d->devices.dev[dev].name : "?"));
	json_object_object_add(o, "mode", json_object_new_string(mode));
	json_object_object_add(o, "samplerate", json_object_new_double(ds->actual_rate));
	json_object_object_add(o, "channels",
			       json_object_new_int(ds->cfg.device_out >= 0 ? ds->cfg.channels_out
									   : ds->cfg.channels_in));
	json_object_object_add(o, "streams", json_object_new_int((int)devstream_attached(ds)));
	json_object_object_add(o, "cpu_load", json_object_new_double(devstream_cpu_load(ds)));
	json_object_object_add(o, "device_xruns", json_object_new_int64(atomic_load(&ds->device_xruns)));
	json_object_object_add(o, "callbacks", json_object_new_int64((int64_t)atomic_load(&ds->callbacks)));
	return o;
}

int cmd_daemon_status(struct client *c, const struct proto_request *req, json_object **ret,
		      struct proto_error *err)
{
	struct daemon *d = c->daemon;
	struct engine *e = &d->engine;
	json_object *o = json_object_new_object(), *devs = json_object_new_array();
	json_object *mine = json_object_new_array();

	for (struct list *p = e->devstreams.next; p != &e->devstreams; p = p->next)
		json_object_array_add(devs, devstream_json(d, list_entry(p, struct devstream, link)));
	for (struct list *p = e->streams.next; p != &e->streams; p = p->next) {
		struct stream *s = list_entry(p, struct stream, engine_link);

		if ((s->client == c || (s->detached && !s->client && s->owner_uid == c->cred.uid)) &&
		    !stream_is_over(s))
			json_object_array_add(mine, stream_status_json(s));
	}
	json_object_object_add(o, "clients", json_object_new_int((int)d->client_count));
	json_object_object_add(o, "streams", json_object_new_int((int)e->active_count));
	json_object_object_add(o, "detached", json_object_new_int((int)e->detached_count));
	json_object_object_add(o, "devices", json_object_new_int(d->devices.count));
	json_object_object_add(o, "device_streams", devs);
	json_object_object_add(o, "my_streams", mine);
	*ret = o;
	return 0;
}

/*
 * Points half at req, or — when name holds an [input, output] pair — at a
 * one-member request holding the half which selects.  Returns 0 (nothing
 * to release), 1 (release half->root) or -EINVAL.
 */
static int pair_half(const struct proto_request *req, const char *name, int which,
		     struct proto_request *half, struct proto_error *err)
{
	json_object *v = NULL;

	*half = *req;
	if (!json_object_object_get_ex(req->root, name, &v) || !json_object_is_type(v, json_type_array))
		return 0;
	if (json_object_array_length(v) != 2)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\": only single values and [input, output] pairs are allowed",
				       name);
	half->root = json_object_new_object();
	json_object_object_add(half->root, name,
			       json_object_get(json_object_array_get_idx(v, (size_t)which)));
	return 1;
}

/* Reads an integer that may be given as an [input, output] pair. */
static int get_pair_int(const struct proto_request *req, const char *name, int which, int64_t min,
			int64_t max, int64_t def, int64_t *ret, struct proto_error *err)
{
	struct proto_request half;
	int made = pair_half(req, name, which, &half, err), r;

	if (made < 0)
		return made;
	r = proto_get_int(&half, name, min, max, def, ret, err);
	if (made)
		json_object_put(half.root);
	return r;
}

/* Reads a dtype that may be given as an [input, output] pair. */
static int get_pair_dtype(const struct proto_request *req, const char *name, int which, int *ret,
			  struct proto_error *err)
{
	struct proto_request half;
	int made = pair_half(req, name, which, &half, err), r;

	if (made < 0)
		return made;
	r = proto_get_dtype(&half, name, SAMPLE_FLOAT32, ret, err);
	if (made)
		json_object_put(half.root);
	return r;
}

int cmd_open_stream(struct client *c, const struct proto_request *req, json_object **ret,
		    struct proto_error *err)
{
	static const char *const kinds[] = { "input", "output", "duplex", NULL };
	struct devices *devs = &c->daemon->devices;
	struct stream_args a;
	struct stream *s;
	int kind, dev_in = -1, dev_out = -1, dtype_in, dtype_out;
	int64_t ch_in, ch_out;
	bool in, out;
	double rate;

	if (common_args(req, &a, err) < 0 ||
	    proto_get_enum(req, "kind", kinds, -1, &kind, err) < 0 ||
	    get_pair_int(req, "channels", 0, 1, STREAM_MAX_CHANNELS, 0, &ch_in, err) < 0 ||
	    get_pair_int(req, "channels", 1, 1, STREAM_MAX_CHANNELS, 0, &ch_out, err) < 0 ||
	    get_pair_dtype(req, "dtype", 0, &dtype_in, err) < 0 ||
	    get_pair_dtype(req, "dtype", 1, &dtype_out, err) < 0)
		return -EINVAL;
	if (kind < 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"kind\" (input, output or duplex) is required");
	if (a.loop || a.detach || a.frames > 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "loop, detach and frames are for play, rec and playrec");
	in = kind != 1;
	out = kind != 0;
	if (out && (dev_out = device_for(c, &a.dev_out, DEVMATCH_OUTPUT, err)) < 0)
		return -EINVAL;
	if (in && (dev_in = device_for(c, &a.dev_in, DEVMATCH_INPUT, err)) < 0)
		return -EINVAL;
	/* As in sounddevice, no channel count means all the device has. */
	if (out && ch_out == 0)
		ch_out = devs->dev[dev_out].max_output_channels < STREAM_MAX_CHANNELS
				 ? devs->dev[dev_out].max_output_channels
				 : STREAM_MAX_CHANNELS;
	if (in && ch_in == 0)
		ch_in = devs->dev[dev_in].max_input_channels < STREAM_MAX_CHANNELS
				? devs->dev[dev_in].max_input_channels
				: STREAM_MAX_CHANNELS;
	if (a.exclusive && in && out && devs->dev[dev_in].hostapi != devs->dev[dev_out].hostapi)
		return proto_error_set(err, PROTO_E_NOT_SUPPORTED,
				       "an exclusive duplex stream needs input and output devices of one host API");
	rate = a.samplerate > 0 ? a.samplerate : devs->dev[out ? dev_out : dev_in].default_samplerate;

	s = new_stream(c, STREAM_OPEN, err);
	if (!s)
		return -EINVAL;
	s->autostart = false; /* start_stream starts it */
	if (out) {
		use_dir(&s->out, (int)ch_out, dtype_out);
		/* A stream's channels are the device's channels 1…n, as in sounddevice. */
		if (output_routes(&s->out, NULL, 0, 0, false, err) < 0) {
			engine_stream_release(&c->daemon->engine, s);
			return -EINVAL;
		}
		size_ring(&s->out, &a, rate, false);
	}
	if (in) {
		use_dir(&s->in, (int)ch_in, dtype_in);
		input_routes(&s->in, NULL, 0);
		size_ring(&s->in, &a, rate, false);
	}
	/* Streams of the stream API run side by side with the client's play/rec/playrec. */
	a.stop_previous = false;
	return start_and_reply(c, req, s, &a, dev_in, dev_out, err);
}

int cmd_start_stream(struct client *c, const struct proto_request *req, json_object **ret,
		     struct proto_error *err)
{
	struct stream *s = find_stream(c, req, err);
	int64_t start_frames;

	if (!s)
		return -EINVAL;
	if (proto_get_int(req, "start_frames", 0, RING_MAX_FRAMES, 1, &start_frames, err) < 0)
		return -EINVAL;
	if (stream_is_over(s))
		return proto_error_set(err, PROTO_E_BUSY, "stream %u has finished; open a new one",
				       s->handle);
	if (engine_stream_run(&c->daemon->engine, s, (uint32_t)start_frames, err) < 0)
		return -EINVAL;
	*ret = stream_status_json(s);
	return 0;
}
