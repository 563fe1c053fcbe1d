/*
 * Command dispatch, the device-query commands, named and parametrised as
 * sounddevice's functions are, and daemon_status.  The stream commands
 * are in cmd-streams.c.  Loop thread.
 */
#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "client-streams.h"
#include "client.h"
#include "cmd-devices.h"
#include "cmd-streams.h"
#include "config.h"
#include "daemon.h"
#include "devices.h"
#include "devstream.h"
#include "log.h"
#include "params.h"
#include "rategroup.h"
#include "sample.h"

/*
 * A handler returns 0 with *ret_result set for a success reply,
 * COMMAND_REPLIED when it sent or deferred the reply itself, or a negative
 * errno with err filled for an error reply.
 */
typedef int (*command_fn)(struct client *c, const struct proto_request *req,
			  json_object **ret_result, struct proto_error *err);

struct command {
	const char *name;
	const char *const *params;
	command_fn fn;
};

static const char *const kind_names[] = { "input", "output", NULL };

/* The backend's version as sounddevice's get_portaudio_version() gives it: [number, text]. */
static json_object *portaudio_version_json(struct backend *b)
{
	json_object *a = json_object_new_array();
	const char *text;
	int version = b->ops->version(b, &text);

	json_object_array_add(a, json_object_new_int(version));
	json_object_array_add(a, json_object_new_string(text));
	return a;
}

/* Drops a character that a cut of text (whole_len bytes long before) split in two. */
static void cut_utf8(char *text, size_t whole_len)
{
	size_t n = strlen(text), i = n;
	unsigned char lead;

	if (n == whole_len)
		return;
	while (i > 0 && ((unsigned char)text[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0 || !((unsigned char)text[i - 1] & 0x80))
		return;
	lead = (unsigned char)text[i - 1];
	if (n - (i - 1) < (lead >= 0xF0 ? 4u : lead >= 0xE0 ? 3u : 2u))
		text[i - 1] = '\0';
}

static int cmd_hello(struct client *c, const struct proto_request *req, json_object **ret,
		     struct proto_error *err)
{
	int64_t version;
	const char *name;
	json_object *o;

	if (proto_get_int(req, "protocol", 0, INT32_MAX, PROTO_VERSION, &version, err) < 0 ||
	    proto_get_string(req, "client", 256, NULL, &name, err) < 0)
		return -EINVAL;
	if (version < 1)
		return proto_error_set(err, PROTO_E_UNSUPPORTED_PROTOCOL,
				       "protocol version %lld is not supported (this daemon speaks 1 to %d)",
				       (long long)version, PROTO_VERSION);
	c->protocol = version < PROTO_VERSION ? (int)version : PROTO_VERSION;
	if (name) {
		log_info("Client %u is '%s'", c->id, name);
		/* Kept for daemon_status's client list, cut to fit between two characters. */
		snprintf(c->name, sizeof(c->name), "%s", name);
		cut_utf8(c->name, strlen(name));
	}
	o = json_object_new_object();
	json_object_object_add(o, "protocol", json_object_new_int(c->protocol));
	json_object_object_add(o, "daemon", json_object_new_string("sddaemon"));
	json_object_object_add(o, "version", json_object_new_string(SDD_VERSION));
	json_object_object_add(o, "portaudio", portaudio_version_json(c->daemon->backend));
	json_object_object_add(o, "max_line", json_object_new_int(PROTO_MAX_LINE));
	*ret = o;
	return 0;
}

static int cmd_ping(struct client *c, const struct proto_request *req, json_object **ret,
		    struct proto_error *err)
{
	*ret = json_object_new_object();
	return 0;
}

static int cmd_get_portaudio_version(struct client *c, const struct proto_request *req,
				     json_object **ret, struct proto_error *err)
{
	*ret = portaudio_version_json(c->daemon->backend);
	return 0;
}

static int cmd_query_devices(struct client *c, const struct proto_request *req, json_object **ret,
			     struct proto_error *err)
{
	struct devices *devs = &c->daemon->devices;
	struct proto_device dev;
	int kind = -1, index;

	/* A pair [input, output] names one device per kind; without a kind it must name one. */
	if (proto_get_enum(req, "kind", kind_names, -1, &kind, err) < 0 ||
	    proto_get_device(req, "device", kind, &dev, err) < 0)
		return -EINVAL;
	if (kind < 0 && dev.index < 0 && !dev.query) {
		/* The whole list is the common request: its text is kept until the next rescan. */
		const char *text = devices_list_text(devs);
		const char *id = json_object_to_json_string_ext(req->id, JSON_C_TO_STRING_PLAIN |
									 JSON_C_TO_STRING_NOSLASHESCAPE);
		size_t len;
		char *line;

		if (!text || !id)
			return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
		len = strlen(text) + strlen(id) + 64;
		line = malloc(len);
		if (!line)
			return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
		len = (size_t)snprintf(line, len, "{\"id\":%s,\"ok\":true,\"result\":%s,\"generation\":%u}\n",
				       id, text, devs->generation);
		client_send(c, line, len, NULL, 0);
		return COMMAND_REPLIED;
	}
	index = devices_resolve(devs, &dev,
				kind == 0   ? DEVMATCH_INPUT
				: kind == 1 ? DEVMATCH_OUTPUT
					    : DEVMATCH_ANY,
				err);
	if (index < 0)
		return index;
	*ret = devices_device_json(devs, index);
	return 0;
}

static int cmd_default_device(struct client *c, const struct proto_request *req,
			      json_object **ret, struct proto_error *err)
{
	struct devices *devs = &c->daemon->devices;
	json_object *a = json_object_new_array();

	json_object_array_add(a, json_object_new_int(devices_default(devs, DEVMATCH_INPUT)));
	json_object_array_add(a, json_object_new_int(devices_default(devs, DEVMATCH_OUTPUT)));
	*ret = a;
	return 0;
}

static int cmd_query_hostapis(struct client *c, const struct proto_request *req, json_object **ret,
			      struct proto_error *err)
{
	struct devices *devs = &c->daemon->devices;
	int64_t index;
	int r;

	r = proto_get_int(req, "index", 0, INT32_MAX, -1, &index, err);
	if (r < 0)
		return r;
	if (r == 0) {
		json_object *list = json_object_new_array();

		for (int i = 0; i < devs->api_count; i++)
			json_object_array_add(list, devices_hostapi_json(devs, i));
		*ret = list;
		return 0;
	}
	if (index >= devs->api_count)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "No host API with index %lld (there are %d)", (long long)index,
				       devs->api_count);
	*ret = devices_hostapi_json(devs, (int)index);
	return 0;
}

/* check_input_settings and check_output_settings share everything but the kind. */
static int check_settings(struct client *c, const struct proto_request *req, json_object **ret,
			  struct proto_error *err, enum devmatch_kind kind)
{
	struct devices *devs = &c->daemon->devices;
	struct devices_params p = { .latency = -1 };
	struct proto_device dev;
	int64_t channels;
	int dtype;
	json_object *o;

	if (proto_get_device(req, "device", kind == DEVMATCH_OUTPUT, &dev, err) < 0 ||
	    proto_get_int(req, "channels", 1, 1024, 0, &channels, err) < 0 ||
	    proto_get_dtype(req, "dtype", SAMPLE_FLOAT32, &dtype, err) < 0 ||
	    proto_get_double(req, "samplerate", 1, 10000000, 0, &p.samplerate, err) < 0)
		return -EINVAL;
	p.device = devices_resolve(devs, &dev, kind, err);
	if (p.device < 0)
		return p.device;
	p.channels = (int)channels;
	p.dtype = dtype;
	if (devices_check(devs, kind, &p, err) < 0)
		return -EINVAL;
	o = json_object_new_object();
	json_object_object_add(o, "device", json_object_new_int(p.device));
	json_object_object_add(o, "channels", json_object_new_int(p.channels));
	json_object_object_add(o, "dtype", json_object_new_string(sample_format_name(p.dtype)));
	json_object_object_add(o, "samplerate", json_object_new_double(p.samplerate));
	*ret = o;
	return 0;
}

static int cmd_check_input_settings(struct client *c, const struct proto_request *req,
				    json_object **ret, struct proto_error *err)
{
	return check_settings(c, req, ret, err, DEVMATCH_INPUT);
}

static int cmd_check_output_settings(struct client *c, const struct proto_request *req,
				     json_object **ret, struct proto_error *err)
{
	return check_settings(c, req, ret, err, DEVMATCH_OUTPUT);
}

/* One device stream as daemon_status reports it. */
static json_object *devstream_json(struct daemon *d, struct devstream *ds)
{
	json_object *o = json_object_new_object(), *groups = json_object_new_array();
	int dev = devstream_device(ds);

	json_object_object_add(o, "device", json_object_new_int(dev));
	json_object_object_add(o, "name", json_object_new_string(dev < d->devices.count ? d->devices.dev[dev].name : "?"));
	json_object_object_add(o, "mode", json_object_new_string(devstream_mode_name(ds)));
	json_object_object_add(o, "samplerate", json_object_new_double(ds->actual_rate));
	json_object_object_add(o, "channels",
			       json_object_new_int(ds->cfg.device_out >= 0 ? ds->cfg.channels_out
									   : ds->cfg.channels_in));
	if (ds->cfg.device_out >= 0 && ds->cfg.device_in >= 0)
		json_object_object_add(o, "input_channels", json_object_new_int(ds->cfg.channels_in));
	json_object_object_add(o, "streams", json_object_new_int((int)devstream_attached(ds)));
	for (struct list *p = ds->groups.next; p != &ds->groups; p = p->next)
		json_object_array_add(groups, rategroup_json(list_entry(p, struct rategroup, link)));
	json_object_object_add(o, "rate_groups", groups);
	json_object_object_add(o, "cpu_load", json_object_new_double(devstream_cpu_load(ds)));
	json_object_object_add(o, "device_xruns", json_object_new_int64(atomic_load(&ds->device_xruns)));
	json_object_object_add(o, "callbacks", json_object_new_int64((int64_t)atomic_load(&ds->callbacks)));
	return o;
}

/* Counts of clients, streams and device streams, and the caller's own streams. */
static int cmd_daemon_status(struct client *c, const struct proto_request *req, json_object **ret,
			     struct proto_error *err)
{
	struct daemon *d = c->daemon;
	struct engine *e = &d->engine;
	json_object *o = json_object_new_object(), *devs = json_object_new_array();
	unsigned closing, abandoned;

	for (struct devstream *ds = engine_devstream_next(e, NULL); ds;
	     ds = engine_devstream_next(e, ds))
		json_object_array_add(devs, devstream_json(d, ds));
	closing = engine_closing_count(e, &abandoned);
	json_object_object_add(o, "clients", json_object_new_int((int)d->client_count));
	json_object_object_add(o, "streams", json_object_new_int((int)e->active_count));
	json_object_object_add(o, "detached", json_object_new_int((int)d->detached_count));
	json_object_object_add(o, "devices", json_object_new_int(d->devices.count));
	json_object_object_add(o, "device_streams", devs);
	/* Backend streams a worker thread closes, and of those the ones given up on. */
	json_object_object_add(o, "device_streams_closing", json_object_new_int((int)closing));
	json_object_object_add(o, "device_streams_abandoned", json_object_new_int((int)abandoned));
	json_object_object_add(o, "my_streams", client_streams_status(c));
	json_object_object_add(o, "client_list", client_streams_list(d));
	*ret = o;
	return 0;
}

static const char *const no_params[] = { NULL };
static const char *const hello_params[] = { "protocol", "client", NULL };
static const char *const query_devices_params[] = { "device", "kind", NULL };
static const char *const query_hostapis_params[] = { "index", NULL };
static const char *const check_params[] = { "device", "channels", "dtype", "samplerate", NULL };

static const struct command commands[] = {
	{ "hello", hello_params, cmd_hello },
	{ "ping", no_params, cmd_ping },
	{ "get_portaudio_version", no_params, cmd_get_portaudio_version },
	{ "query_devices", query_devices_params, cmd_query_devices },
	{ "query_hostapis", query_hostapis_params, cmd_query_hostapis },
	{ "default_device", no_params, cmd_default_device },
	{ "check_input_settings", check_params, cmd_check_input_settings },
	{ "check_output_settings", check_params, cmd_check_output_settings },
	{ "play", cmd_play_params, cmd_play },
	{ "rec", cmd_rec_params, cmd_rec },
	{ "playrec", cmd_playrec_params, cmd_playrec },
	{ "wait", cmd_handle_params, cmd_wait },
	{ "stop", cmd_handle_params, cmd_stop },
	{ "get_status", cmd_handle_params, cmd_get_status },
	{ "close", cmd_handle_params, cmd_close },
	{ "daemon_status", no_params, cmd_daemon_status },
	{ "open_stream", cmd_open_stream_params, cmd_open_stream },
	{ "start_stream", cmd_start_stream_params, cmd_start_stream },
	{ "set_volume", cmd_set_volume_params, cmd_set_volume },
	{ "rescan", no_params, cmd_rescan },
	{ "subscribe", cmd_subscribe_params, cmd_subscribe },
	{ "unsubscribe", cmd_subscribe_params, cmd_unsubscribe },
#ifdef SDD_TEST_HOOKS
	{ "test_udev_event", cmd_test_udev_event_params, cmd_test_udev_event },
#endif
};

/*
 * Refuses a request based on another generation of the device list than
 * the current one: the device ids it names may mean other devices now.
 * Returns 0, or -EINVAL with err set.
 */
static int check_generation(struct client *c, const struct proto_request *req,
			    struct proto_error *err)
{
	uint32_t now = c->daemon->devices.generation;
	int64_t generation;
	int r = proto_get_int(req, "generation", 1, UINT32_MAX, 0, &generation, err);

	if (r <= 0)
		return r;
	if (generation == now)
		return 0;
	proto_error_set(err, PROTO_E_STALE_GENERATION,
			"the device list changed since generation %lld (it is %u now): query the devices again",
			(long long)generation, now);
	err->details = json_object_new_object();
	json_object_object_add(err->details, "generation", json_object_new_int64(now));
	return -EINVAL;
}

void commands_dispatch(struct client *c, const struct proto_request *req)
{
	const struct command *cmd = NULL;
	struct proto_error err = { 0 };
	json_object *result = NULL;
	int r;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, req->cmd) == 0)
			cmd = &commands[i];
	if (!cmd) {
		proto_error_set(&err, PROTO_E_UNKNOWN_COMMAND, "unknown command \"%.64s\"", req->cmd);
		goto fail;
	}
	if (proto_check_params(req, cmd->params, &err) < 0 || check_generation(c, req, &err) < 0)
		goto fail;
	r = cmd->fn(c, req, &result, &err);
	if (r < 0)
		goto fail;
	if (r == COMMAND_REPLIED)
		return;
	client_reply_ok(c, req->id, result, NULL, 0);
	return;
fail:
	log_debug("Client %u: %s failed: %s", c->id, req->cmd, err.message);
	client_reply_error(c, req->id, &err);
	proto_error_clear(&err);
}

void commands_client_gone(struct client *c)
{
	cmd_devices_client_gone(c);
	client_streams_client_gone(c);
}
