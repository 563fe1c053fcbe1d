/*
 * The device and host-API snapshot taken through the backend, rescans
 * (deferred while device streams are open), device selection and
 * settings checks.  Loop thread only.
 */
#include "devices.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sample.h"

/* Frees the snapshot, leaving the backend as it is. */
static void snapshot_free(struct devices *devs)
{
	struct backend_devlist l = {
		.dev = devs->dev, .count = devs->count, .api = devs->api, .api_count = devs->api_count,
	};

	backend_devlist_free(&l);
	free(devs->match);
	free(devs->list_text);
	devs->list_text = NULL;
	devs->dev = NULL;
	devs->api = NULL;
	devs->match = NULL;
	devs->count = devs->api_count = 0;
}

/* Takes the backend's device and host-API lists as the snapshot. */
static int snapshot_take(struct devices *devs)
{
	struct backend_devlist l;
	int r = devs->backend->ops->enumerate(devs->backend, &l);

	if (r < 0)
		return r;
	devs->match = calloc((size_t)l.count + 1, sizeof(*devs->match));
	if (!devs->match) {
		backend_devlist_free(&l);
		return -ENOMEM;
	}
	devs->dev = l.dev;
	devs->count = l.count;
	devs->api = l.api;
	devs->api_count = l.api_count;
	for (int i = 0; i < devs->count; i++) {
		const struct device_info *d = &devs->dev[i];

		devs->match[i] = (struct devmatch_entry){
			.name = d->name,
			.hostapi = d->hostapi >= 0 && d->hostapi < devs->api_count
					   ? devs->api[d->hostapi].name
					   : "",
			.max_input_channels = d->max_input_channels,
			.max_output_channels = d->max_output_channels,
		};
	}
	devs->default_input = l.default_input >= 0 && l.default_input < devs->count
				      ? l.default_input
				      : -1;
	devs->default_output = l.default_output >= 0 && l.default_output < devs->count
				       ? l.default_output
				       : -1;
	return 0;
}

int devices_init(struct devices *devs, struct backend *backend)
{
	struct backend_error be;
	const char *version;
	int r;

	devs->backend = backend;
	if (backend->ops->init(backend, &be) < 0) {
		log_error("Failed to initialise %s: %s", backend->ops->name, be.text);
		return -EIO;
	}
	devs->initialized = true;
	r = snapshot_take(devs);
	if (r < 0) {
		snapshot_free(devs);
		return log_errno(LOG_LEVEL_ERROR, r, "Failed to list %s devices", backend->ops->name);
	}
	backend->ops->version(backend, &version);
	log_info("%s: %s; %d devices, %d host APIs", backend->ops->name, version, devs->count,
		 devs->api_count);
	return 0;
}

void devices_fini(struct devices *devs)
{
	snapshot_free(devs);
	if (devs->initialized)
		devs->backend->ops->fini(devs->backend);
	devs->initialized = false;
}

/* Returns whether two strings are equal, NULL being equal only to NULL. */
static bool same_string(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Returns whether two snapshots describe the same devices and host APIs. */
static bool snapshot_equal(const struct devices *a, const struct devices *b)
{
	if (a->count != b->count || a->api_count != b->api_count ||
	    a->default_input != b->default_input || a->default_output != b->default_output)
		return false;
	for (int i = 0; i < a->count; i++) {
		const struct device_info *x = &a->dev[i], *y = &b->dev[i];

		if (!same_string(x->name, y->name) || x->hostapi != y->hostapi ||
		    x->max_input_channels != y->max_input_channels ||
		    x->max_output_channels != y->max_output_channels ||
		    x->default_samplerate != y->default_samplerate)
			return false;
	}
	for (int i = 0; i < a->api_count; i++)
		if (!same_string(a->api[i].name, b->api[i].name) ||
		    a->api[i].device_count != b->api[i].device_count ||
		    a->api[i].default_input_device != b->api[i].default_input_device ||
		    a->api[i].default_output_device != b->api[i].default_output_device)
			return false;
	return true;
}

int devices_rescan(struct devices *devs, bool *ret_changed)
{
	struct devices fresh = { .backend = devs->backend };
	struct backend *b = devs->backend;
	struct backend_error be;
	int r;

	if (devs->initialized)
		b->ops->fini(b);
	devs->initialized = false;
	if (b->ops->init(b, &be) < 0) {
		log_error("Failed to initialise %s again: %s; keeping the previous device list",
			  b->ops->name, be.text);
		return -EIO;
	}
	devs->initialized = true;
	r = snapshot_take(&fresh);
	if (r < 0) {
		snapshot_free(&fresh);
		return log_errno(LOG_LEVEL_ERROR, r,
				 "Failed to list %s devices; keeping the previous list", b->ops->name);
	}
	*ret_changed = !snapshot_equal(devs, &fresh);
	snapshot_free(devs);
	devs->dev = fresh.dev;
	devs->count = fresh.count;
	devs->api = fresh.api;
	devs->api_count = fresh.api_count;
	devs->match = fresh.match;
	devs->default_input = fresh.default_input;
	devs->default_output = fresh.default_output;
	log_info("Rescanned devices: %d devices, %d host APIs%s", devs->count, devs->api_count,
		 *ret_changed ? " (changed)" : " (unchanged)");
	return 0;
}

void devices_watch(struct devices *devs, uv_loop_t *loop, const struct devices_hooks *hooks)
{
	devs->hooks = *hooks;
	uv_check_init(loop, &devs->rescan_check);
	devs->rescan_check.data = devs;
	devs->watching = true;
}

void devices_stop(struct devices *devs)
{
	devs->rescan_pending = false;
	if (!devs->watching)
		return;
	devs->watching = false;
	uv_close((uv_handle_t *)&devs->rescan_check, NULL);
}

static void on_rescan_check(uv_check_t *handle);

/*
 * Rescans when no device stream is open; otherwise marks the rescan
 * pending, and the check handle runs it once they have closed
 * (re-initialising the backend would end them).
 */
static void rescan_when_idle(struct devices *devs)
{
	unsigned open = devs->hooks.open_streams(devs->hooks.data);
	bool changed = false;

	if (open > 0) {
		if (!devs->rescan_pending)
			log_notice("Device rescan deferred: %u device streams are open; it runs when they have closed",
				   open);
		devs->rescan_pending = true;
		uv_check_start(&devs->rescan_check, on_rescan_check);
		return;
	}
	devs->rescan_pending = false;
	uv_check_stop(&devs->rescan_check);
	if (devices_rescan(devs, &changed) < 0)
		return;
	if (changed) {
		log_notice("The device list changed: %d devices", devs->count);
		devs->hooks.changed(devs->hooks.data);
	}
}

/* Runs after each loop iteration while a rescan is pending. */
static void on_rescan_check(uv_check_t *handle)
{
	struct devices *devs = handle->data;

	if (devs->rescan_pending && devs->hooks.open_streams(devs->hooks.data) == 0) {
		rescan_when_idle(devs);
		devices_check_defaults(devs);
	}
}

void devices_request_rescan(struct devices *devs)
{
	if (devs->watching)
		rescan_when_idle(devs);
	devices_check_defaults(devs);
}

void devices_check_defaults(struct devices *devs)
{
	static const struct {
		enum devmatch_kind kind;
		const char *key;
	} kinds[] = { { DEVMATCH_INPUT, "default_input_device" },
		      { DEVMATCH_OUTPUT, "default_output_device" } };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *query = kinds[i].kind == DEVMATCH_INPUT ? devs->default_input_query
								    : devs->default_output_query;
		struct proto_device none = PROTO_DEVICE_DEFAULT;
		struct proto_error err = { 0 };

		if (query && devices_resolve(devs, &none, kinds[i].kind, &err) < 0)
			log_warning("%s '%s' does not name one device now: %s", kinds[i].key, query,
				    err.message);
		proto_error_clear(&err);
	}
}

/* Records the candidates of an ambiguous query in err and builds sounddevice's message. */
static int ambiguous_error(const struct devices *devs, const char *query, enum devmatch_kind kind,
			   const int *cand, size_t shown, size_t count, struct proto_error *err)
{
	char msg[sizeof(err->message)];
	size_t used;
	json_object *list;

	used = (size_t)snprintf(msg, sizeof(msg), "Multiple %s devices found for '%s':",
				devmatch_kind_name(kind), query);
	for (size_t i = 0; i < shown && used < sizeof(msg); i++)
		used += (size_t)snprintf(msg + used, sizeof(msg) - used, "\n[%d] %s, %s", cand[i],
					 devs->match[cand[i]].name, devs->match[cand[i]].hostapi);
	if (count > shown && used < sizeof(msg))
		snprintf(msg + used, sizeof(msg) - used, "\n… and %zu more", count - shown);
	proto_error_set(err, PROTO_E_DEVICE_AMBIGUOUS, "%s", msg);
	list = json_object_new_array();
	for (size_t i = 0; i < shown; i++)
		json_object_array_add(list, json_object_new_int(cand[i]));
	err->details = json_object_new_object();
	json_object_object_add(err->details, "candidates", list);
	return -EINVAL;
}

int devices_resolve(struct devices *devs, const struct proto_device *want, enum devmatch_kind kind,
		    struct proto_error *err)
{
	struct proto_device dev = *want;
	int index = dev.index;

	if (index < 0 && !dev.query) {
		const char *conf = kind == DEVMATCH_INPUT ? devs->default_input_query
				   : kind == DEVMATCH_OUTPUT ? devs->default_output_query
							     : NULL;

		if (conf) {
			dev.query = conf;
		} else {
			index = kind == DEVMATCH_OUTPUT ? devs->default_output : devs->default_input;
			if (index < 0)
				return proto_error_set(err, PROTO_E_DEVICE_NOT_FOUND,
						       "there is no default %s device",
						       devmatch_kind_name(kind));
		}
	}
	if (dev.query) {
		int cand[32];
		size_t count = 0;

		switch (devmatch_find(devs->match, (size_t)devs->count, dev.query, kind, &index, cand,
				      32, &count)) {
		case DEVMATCH_FOUND:
			break;
		case DEVMATCH_NONE:
			return proto_error_set(err, PROTO_E_DEVICE_NOT_FOUND,
					       "No %s device matching '%s'",
					       devmatch_kind_name(kind), dev.query);
		case DEVMATCH_AMBIGUOUS:
			return ambiguous_error(devs, dev.query, kind, cand, count < 32 ? count : 32,
					       count, err);
		}
	}
	if (index >= devs->count)
		return proto_error_set(err, PROTO_E_DEVICE_NOT_FOUND,
				       "No device with id %d (there are %d devices)", index,
				       devs->count);
	if ((kind == DEVMATCH_INPUT && devs->dev[index].max_input_channels < 1) ||
	    (kind == DEVMATCH_OUTPUT && devs->dev[index].max_output_channels < 1))
		return proto_error_set(err, PROTO_E_DEVICE_NOT_FOUND, "Not an %s device: [%d] '%s'",
				       devmatch_kind_name(kind), index, devs->dev[index].name);
	return index;
}

json_object *devices_device_json(const struct devices *devs, int index)
{
	const struct device_info *d = &devs->dev[index];
	json_object *o = json_object_new_object();

	json_object_object_add(o, "index", json_object_new_int(index));
	json_object_object_add(o, "name", json_object_new_string(d->name));
	json_object_object_add(o, "hostapi", json_object_new_int(d->hostapi));
	json_object_object_add(o, "max_input_channels", json_object_new_int(d->max_input_channels));
	json_object_object_add(o, "max_output_channels",
			       json_object_new_int(d->max_output_channels));
	json_object_object_add(o, "default_low_input_latency",
			       json_object_new_double(d->default_low_input_latency));
	json_object_object_add(o, "default_low_output_latency",
			       json_object_new_double(d->default_low_output_latency));
	json_object_object_add(o, "default_high_input_latency",
			       json_object_new_double(d->default_high_input_latency));
	json_object_object_add(o, "default_high_output_latency",
			       json_object_new_double(d->default_high_output_latency));
	json_object_object_add(o, "default_samplerate",
			       json_object_new_double(d->default_samplerate));
	return o;
}

const char *devices_list_text(struct devices *devs)
{
	json_object *list;
	const char *text;

	if (devs->list_text)
		return devs->list_text;
	list = json_object_new_array();
	for (int i = 0; i < devs->count; i++)
		json_object_array_add(list, devices_device_json(devs, i));
	text = json_object_to_json_string_ext(list, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE);
	devs->list_text = text ? strdup(text) : NULL;
	json_object_put(list);
	return devs->list_text;
}

json_object *devices_hostapi_json(const struct devices *devs, int index)
{
	const struct hostapi_info *a = &devs->api[index];
	json_object *o = json_object_new_object();
	json_object *list = json_object_new_array();

	for (int i = 0; i < a->device_count; i++)
		json_object_array_add(list, json_object_new_int(a->devices[i]));
	json_object_object_add(o, "name", json_object_new_string(a->name));
	json_object_object_add(o, "devices", list);
	json_object_object_add(o, "default_input_device",
			       json_object_new_int(a->default_input_device));
	json_object_object_add(o, "default_output_device",
			       json_object_new_int(a->default_output_device));
	return o;
}

int devices_check(struct devices *devs, enum devmatch_kind kind, struct devices_params *p,
		  struct proto_error *err)
{
	const struct device_info *d = &devs->dev[p->device];
	bool input = kind == DEVMATCH_INPUT;
	int max = input ? d->max_input_channels : d->max_output_channels;
	struct backend_params bp = { .device_in = -1, .device_out = -1 };
	struct backend_error be;

	if (p->channels <= 0)
		p->channels = max;
	if (p->samplerate <= 0)
		p->samplerate = d->default_samplerate;
	if (p->latency < 0)
		p->latency = input ? d->default_high_input_latency : d->default_high_output_latency;
	bp.samplerate = p->samplerate;
	if (input) {
		bp.device_in = p->device;
		bp.channels_in = p->channels;
		bp.format_in = p->dtype;
		bp.latency_in = p->latency;
	} else {
		bp.device_out = p->device;
		bp.channels_out = p->channels;
		bp.format_out = p->dtype;
		bp.latency_out = p->latency;
	}
	if (devs->backend->ops->check(devs->backend, &bp, &be) < 0)
		return backend_error_proto(err, &be, PROTO_E_NOT_SUPPORTED,
					   "%s settings not supported by device [%d] '%s' (%d channels, %s, %g Hz; the device has %d %s channels)",
					   input ? "Input" : "Output", p->device, d->name, p->channels,
					   sample_format_name(p->dtype), p->samplerate, max,
					   input ? "input" : "output");
	return 0;
}
