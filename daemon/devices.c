/*
 * The daemon's device list: installing a new one (generation, binding to
 * the backend, change reports), the default devices and their fallback,
 * device selection, the list as JSON and settings checks.  Keeping the
 * list up to date is devices-rescan.c's.  Loop thread only.
 */
#include "devices.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sample.h"

struct backend_devlist devices_current(const struct devices *devs)
{
	return (struct backend_devlist){
		.dev = devs->dev,
		.count = devs->count,
		.api = devs->api,
		.api_count = devs->api_count,
		.default_input = devs->default_input,
		.default_output = devs->default_output,
	};
}

/* Frees the list, leaving the backend as it is. */
static void list_free(struct devices *devs)
{
	struct backend_devlist l = devices_current(devs);

	backend_devlist_free(&l);
	free(devs->match);
	free(devs->binding);
	free(devs->list_text);
	devs->list_text = NULL;
	devs->dev = NULL;
	devs->api = NULL;
	devs->match = NULL;
	devs->binding = NULL;
	devs->count = devs->api_count = 0;
	devs->default_input = devs->default_output = -1;
}

/* Returns devmatch entries for l (pointing into it); NULL when out of memory. */
static struct devmatch_entry *match_entries(const struct backend_devlist *l)
{
	struct devmatch_entry *m = calloc((size_t)l->count + 1, sizeof(*m));

	for (int i = 0; m && i < l->count; i++) {
		const struct device_info *d = &l->dev[i];

		m[i] = (struct devmatch_entry){
			.name = d->name,
			.hostapi = d->hostapi >= 0 && d->hostapi < l->api_count ? l->api[d->hostapi].name
										 : "",
			.max_input_channels = d->max_input_channels,
			.max_output_channels = d->max_output_channels,
			.absent = d->gone,
		};
	}
	return m;
}

/* Logs what a change brought. */
static void log_change(const struct devices *devs, const struct devlist_change *c)
{
	for (int i = 0; i < c->added_count; i++)
		log_notice("Device [%d] '%s' (%s) is here", c->added[i], devs->dev[c->added[i]].name,
			   devs->dev[c->added[i]].uid);
	for (int i = 0; i < c->removed_count; i++)
		log_notice("Device [%d] '%s' (%s) went away", c->removed[i].index, c->removed[i].name,
			   c->removed[i].uid);
	if (c->renumbered)
		log_notice("Device indices changed: the list has %d devices", devs->count);
}

int devices_install(struct devices *devs, struct backend_devlist *new)
{
	struct backend_devlist old = devices_current(devs);
	struct devlist_change change;
	enum backend_binding *binding = calloc((size_t)new->count + 1, sizeof(*binding));
	struct devmatch_entry *match = match_entries(new);
	bool defaults_changed;
	int r = -ENOMEM;

	if (!binding || !match || devlist_diff(&old, new, &change) < 0)
		goto fail;
	r = devs->backend->ops->bind(devs->backend, new->dev, new->count, binding);
	if (r < 0) {
		devlist_change_clear(&change);
		goto fail;
	}
	list_free(devs);
	devs->dev = new->dev;
	devs->count = new->count;
	devs->api = new->api;
	devs->api_count = new->api_count;
	devs->default_input = new->default_input;
	devs->default_output = new->default_output;
	devs->match = match;
	devs->binding = binding;
	*new = (struct backend_devlist){ .default_input = -1, .default_output = -1 };

	defaults_changed = devices_check_defaults(devs);
	if (change.changed || defaults_changed) {
		/* The first list (generation 0 before it) is no news. */
		if (devs->generation > 0)
			log_change(devs, &change);
		devs->generation++;
		change.changed = true;
		log_info("The device list is now generation %u: %d devices, %d host APIs",
			 devs->generation, devs->count, devs->api_count);
		if (devs->hooks.changed)
			devs->hooks.changed(devs->hooks.data, &change);
	}
	devlist_change_clear(&change);
	return 0;
fail:
	free(binding);
	free(match);
	backend_devlist_free(new);
	return r;
}

int devices_init(struct devices *devs, struct backend *backend)
{
	struct backend_devlist l;
	struct backend_error be;
	const char *version;
	int r;

	devs->backend = backend;
	devs->default_input = devs->default_output = -1;
	devs->announced_default[0] = devs->announced_default[1] = -1;
	list_init(&devs->waiting);
	list_init(&devs->queued);
	if (backend->ops->init(backend, &be) < 0) {
		log_error("Failed to initialise %s: %s", backend->ops->name, be.text);
		return -EIO;
	}
	devs->initialized = true;
	r = backend->ops->enumerate(backend, &l);
	if (r >= 0)
		r = backend_devlist_unique_uids(&l);
	if (r >= 0)
		r = devices_install(devs, &l);
	backend_devlist_free(&l);
	if (r < 0)
		return log_errno(LOG_LEVEL_ERROR, r, "Failed to list %s devices", backend->ops->name);
	/* The first list is generation 1, whatever installing it counted. */
	devs->generation = 1;
	backend->ops->version(backend, &version);
	log_info("%s: %s; %d devices, %d host APIs", backend->ops->name, version, devs->count,
		 devs->api_count);
	return 0;
}

void devices_leave_backend(struct devices *devs)
{
	devs->initialized = false;
}

void devices_fini(struct devices *devs)
{
	list_free(devs);
	if (devs->initialized)
		devs->backend->ops->fini(devs->backend);
	devs->initialized = false;
}

/* Returns whether device i can serve kind now. */
static bool usable(const struct devices *devs, int i, enum devmatch_kind kind)
{
	const struct device_info *d;

	if (i < 0 || i >= devs->count)
		return false;
	d = &devs->dev[i];
	return !d->gone && (kind != DEVMATCH_INPUT || d->max_input_channels > 0) &&
	       (kind != DEVMATCH_OUTPUT || d->max_output_channels > 0);
}

/*
 * The default device of kind in effect: the configured one when it
 * matches a device, else (and when none is configured) the backend's,
 * else the first device with channels of kind.  Sets *ret_fallback when
 * a configured default matches no device; returns -1 when there is no
 * device of kind, or the configured query is ambiguous.
 */
static int effective_default(const struct devices *devs, enum devmatch_kind kind,
			     bool *ret_fallback)
{
	const char *query = kind == DEVMATCH_INPUT ? devs->default_input_query
						   : devs->default_output_query;
	int backend_default = kind == DEVMATCH_INPUT ? devs->default_input : devs->default_output;
	int index = -1;

	*ret_fallback = false;
	if (query && *query) {
		index = devlist_find_uid(&(struct backend_devlist){ .dev = devs->dev,
								     .count = devs->count },
					 query);
		if (index >= 0 && usable(devs, index, kind))
			return index;
		switch (devmatch_find(devs->match, (size_t)devs->count, query, kind, &index, NULL, 0,
				      NULL)) {
		case DEVMATCH_FOUND:
			return index;
		case DEVMATCH_AMBIGUOUS:
			return -1;
		case DEVMATCH_NONE:
			*ret_fallback = true;
			break;
		}
	}
	if (usable(devs, backend_default, kind))
		return backend_default;
	for (int i = 0; i < devs->count; i++)
		if (usable(devs, i, kind))
			return i;
	return -1;
}

int devices_default(struct devices *devs, enum devmatch_kind kind)
{
	bool fallback;

	return effective_default(devs, kind, &fallback);
}

/* Resolves a query string: a stable id, else sounddevice's substring match. */
static int resolve_query(struct devices *devs, const char *query, enum devmatch_kind kind,
			 struct proto_error *err);

bool devices_check_defaults(struct devices *devs)
{
	static const enum devmatch_kind kinds[2] = { DEVMATCH_INPUT, DEVMATCH_OUTPUT };
	static const char *const keys[2] = { "default_input_device", "default_output_device" };
	bool changed = false;

	/* Each state is logged once, when it begins (rescans repeat them). */
	for (int k = 0; k < 2; k++) {
		const char *query = k == 0 ? devs->default_input_query : devs->default_output_query;
		bool fallback, ambiguous;
		int index = effective_default(devs, kinds[k], &fallback);

		ambiguous = query && *query && index < 0 && !fallback;
		if (ambiguous && !devs->default_ambiguous[k]) {
			struct proto_error err = { 0 };

			resolve_query(devs, query, kinds[k], &err);
			log_warning("%s '%s' does not name one device now: %s", keys[k], query,
				    err.message);
			proto_error_clear(&err);
		} else if (fallback &&
			   (!devs->default_fallback[k] || index != devs->announced_default[k])) {
			log_warning("%s '%s' matches no device now; the default %s device is %s%d%s%s%s until it returns",
				    keys[k], query, devmatch_kind_name(kinds[k]),
				    index >= 0 ? "[" : "(none: ", index, index >= 0 ? "] '" : ")",
				    index >= 0 ? devs->dev[index].name : "", index >= 0 ? "'" : "");
		} else if (!fallback && devs->default_fallback[k] && index >= 0) {
			log_notice("%s '%s' is back: [%d] '%s'", keys[k], query, index,
				   devs->dev[index].name);
		}
		devs->default_fallback[k] = fallback;
		devs->default_ambiguous[k] = ambiguous;
		if (index != devs->announced_default[k])
			changed = true;
		devs->announced_default[k] = index;
	}
	return changed;
}

void devices_settings_changed(struct devices *devs)
{
	struct devlist_change none = { .changed = true };

	if (!devices_check_defaults(devs))
		return;
	devs->generation++;
	log_info("The default devices changed: the device list is now generation %u",
		 devs->generation);
	if (devs->hooks.changed)
		devs->hooks.changed(devs->hooks.data, &none);
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

/* Resolves a query string: a stable id, else sounddevice's substring match. */
static int resolve_query(struct devices *devs, const char *query, enum devmatch_kind kind,
			 struct proto_error *err)
{
	int cand[32], index = devlist_find_uid(&(struct backend_devlist){ .dev = devs->dev,
									  .count = devs->count },
					       query);
	size_t count = 0;

	if (index >= 0)
		return index;
	switch (devmatch_find(devs->match, (size_t)devs->count, query, kind, &index, cand, 32,
			      &count)) {
	case DEVMATCH_FOUND:
		return index;
	case DEVMATCH_NONE:
		return proto_error_set(err, PROTO_E_DEVICE_NOT_FOUND, "No %s device matching '%s'",
				       devmatch_kind_name(kind), query);
	case DEVMATCH_AMBIGUOUS:
		break;
	}
	return ambiguous_error(devs, query, kind, cand, count < 32 ? count : 32, count, err);
}

int devices_resolve(struct devices *devs, const struct proto_device *want, enum devmatch_kind kind,
		    struct proto_error *err)
{
	int index = want->index;

	if (want->query) {
		index = resolve_query(devs, want->query, kind, err);
		if (index < 0)
			return index;
	} else if (index < 0) {
		const char *query = kind == DEVMATCH_INPUT ? devs->default_input_query
				    : kind == DEVMATCH_OUTPUT ? devs->default_output_query
							      : NULL;

		index = kind == DEVMATCH_ANY ? -1 : devices_default(devs, kind);
		if (index < 0) {
			/* An ambiguous configured default: say which devices it matched. */
			if (query && *query && resolve_query(devs, query, kind, err) < 0)
				return -EINVAL;
			return proto_error_set(err, PROTO_E_DEVICE_NOT_FOUND,
					       "there is no default %s device",
					       devmatch_kind_name(kind));
		}
	}
	if (index >= devs->count)
		return proto_error_set(err, PROTO_E_DEVICE_NOT_FOUND,
				       "No device with id %d (there are %d devices)", index,
				       devs->count);
	/* A gone device can still be looked at (query_devices), not used. */
	if (devs->dev[index].gone && kind != DEVMATCH_ANY)
		return proto_error_set(err, PROTO_E_DEVICE_NOT_FOUND,
				       "Device [%d] '%s' is no longer present (it went away; the device list is generation %u)",
				       index, devs->dev[index].name, devs->generation);
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
	json_object_object_add(o, "stable_id", json_object_new_string(d->uid ? d->uid : ""));
	json_object_object_add(o, "present", json_object_new_boolean(!d->gone));
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
