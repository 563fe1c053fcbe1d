/*
 * PortAudio initialisation, the device and host-API snapshot, device
 * selection and settings checks.  Loop thread only.
 */
#include "devices.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pa-defined.h"
#include "sample.h"
#include "utf8.h"

/* Frees the snapshot, leaving PortAudio as it is. */
static void snapshot_free(struct devices *devs)
{
	for (int i = 0; i < devs->count; i++)
		free(devs->dev[i].name);
	for (int i = 0; i < devs->api_count; i++) {
		free(devs->api[i].name);
		free(devs->api[i].devices);
	}
	free(devs->dev);
	free(devs->api);
	free(devs->match);
	free(devs->list_text);
	devs->list_text = NULL;
	devs->dev = NULL;
	devs->api = NULL;
	devs->match = NULL;
	devs->count = devs->api_count = 0;
}

/* Copies PortAudio's device and host-API lists. */
static int snapshot_take(struct devices *devs)
{
	int count = Pa_GetDeviceCount(), api_count = Pa_GetHostApiCount();

	if (count < 0 || api_count < 0)
		return -EIO;
	devs->dev = calloc((size_t)count + 1, sizeof(*devs->dev));
	devs->match = calloc((size_t)count + 1, sizeof(*devs->match));
	devs->api = calloc((size_t)api_count + 1, sizeof(*devs->api));
	if (!devs->dev || !devs->match || !devs->api)
		goto oom;
	for (int i = 0; i < api_count; i++) {
		const PaHostApiInfo *info = Pa_GetHostApiInfo(i);
		struct hostapi_info *a = &devs->api[i];

		a->name = utf8_sanitize(info ? info->name : "?");
		if (!a->name)
			goto oom;
		a->type = info ? (int)info->type : -1;
		a->default_input_device = info ? info->defaultInputDevice : -1;
		a->default_output_device = info ? info->defaultOutputDevice : -1;
		a->device_count = info ? info->deviceCount : 0;
		a->devices = calloc((size_t)a->device_count + 1, sizeof(int));
		if (!a->devices)
			goto oom;
		for (int j = 0; j < a->device_count; j++)
			a->devices[j] = Pa_HostApiDeviceIndexToDeviceIndex(i, j);
		devs->api_count = i + 1;
	}
	for (int i = 0; i < count; i++) {
		const PaDeviceInfo *info = Pa_GetDeviceInfo(i);
		struct device_info *d = &devs->dev[i];

		if (!info)
			return -EIO;
		/* PortAudio's probe leaves the latencies undefined to valgrind (see pa-defined.h). */
		pa_defined(info, sizeof(*info));
		d->name = utf8_sanitize(info->name);
		if (!d->name)
			goto oom;
		d->hostapi = info->hostApi;
		d->max_input_channels = info->maxInputChannels;
		d->max_output_channels = info->maxOutputChannels;
		d->default_low_input_latency = info->defaultLowInputLatency;
		d->default_low_output_latency = info->defaultLowOutputLatency;
		d->default_high_input_latency = info->defaultHighInputLatency;
		d->default_high_output_latency = info->defaultHighOutputLatency;
		d->default_samplerate = info->defaultSampleRate;
		devs->match[i] = (struct devmatch_entry){
			.name = d->name,
			.hostapi = d->hostapi >= 0 && d->hostapi < devs->api_count
					   ? devs->api[d->hostapi].name
					   : "",
			.max_input_channels = d->max_input_channels,
			.max_output_channels = d->max_output_channels,
		};
		devs->count = i + 1;
	}
	devs->default_input = Pa_GetDefaultInputDevice();
	devs->default_output = Pa_GetDefaultOutputDevice();
	if (devs->default_input < 0 || devs->default_input >= devs->count)
		devs->default_input = -1;
	if (devs->default_output < 0 || devs->default_output >= devs->count)
		devs->default_output = -1;
	return 0;
oom:
	return -ENOMEM;
}

int devices_init(struct devices *devs)
{
	PaError pa = Pa_Initialize();
	int r;

	if (pa != paNoError) {
		log_error("Failed to initialise PortAudio: %s", Pa_GetErrorText(pa));
		return -EIO;
	}
	devs->initialized = true;
	r = snapshot_take(devs);
	if (r < 0) {
		snapshot_free(devs);
		return log_errno(LOG_LEVEL_ERROR, r, "Failed to list PortAudio devices");
	}
	log_info("PortAudio: %s; %d devices, %d host APIs", Pa_GetVersionText(), devs->count,
		 devs->api_count);
	return 0;
}

void devices_fini(struct devices *devs)
{
	snapshot_free(devs);
	if (devs->initialized)
		Pa_Terminate();
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
	struct devices fresh = { 0 };
	PaError pa;
	int r;

	if (devs->initialized)
		Pa_Terminate();
	devs->initialized = false;
	pa = Pa_Initialize();
	if (pa != paNoError) {
		log_error("Failed to initialise PortAudio again: %s; keeping the previous device list",
			  Pa_GetErrorText(pa));
		return -EIO;
	}
	devs->initialized = true;
	r = snapshot_take(&fresh);
	if (r < 0) {
		snapshot_free(&fresh);
		return log_errno(LOG_LEVEL_ERROR, r,
				 "Failed to list PortAudio devices; keeping the previous list");
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

int devices_pa_error(struct proto_error *err, PaError pa, enum proto_errcode code,
		     const char *fmt, ...)
{
	char context[512];
	const char *text = Pa_GetErrorText(pa);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);
	if (pa == paUnanticipatedHostError) {
		const PaHostErrorInfo *h = Pa_GetLastHostErrorInfo();
		int api = h ? Pa_HostApiTypeIdToHostApiIndex(h->hostApiType) : -1;
		const char *htext = h && h->errorText ? h->errorText : "";

		proto_error_set(err, code, "%s: Unanticipated host API %d error %ld: '%s'", context,
				api, h ? h->errorCode : 0, htext);
		err->has_host_error = true;
		err->host_api = api;
		err->host_error = h ? h->errorCode : 0;
		snprintf(err->host_error_text, sizeof(err->host_error_text), "%s", htext);
	} else {
		proto_error_set(err, code, "%s: %s", context, text);
	}
	err->pa_error = pa;
	snprintf(err->pa_error_text, sizeof(err->pa_error_text), "%s", text);
	return -EINVAL;
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

PaSampleFormat devices_pa_format(int dtype)
{
	switch (dtype) {
	case SAMPLE_INT32:
		return paInt32;
	case SAMPLE_INT24:
		return paInt24;
	case SAMPLE_INT16:
		return paInt16;
	case SAMPLE_INT8:
		return paInt8;
	case SAMPLE_UINT8:
		return paUInt8;
	default:
		return paFloat32;
	}
}

int devices_check(struct devices *devs, enum devmatch_kind kind, struct devices_params *p,
		  struct proto_error *err)
{
	const struct device_info *d = &devs->dev[p->device];
	bool input = kind == DEVMATCH_INPUT;
	int max = input ? d->max_input_channels : d->max_output_channels;
	PaStreamParameters sp;
	PaError pa;

	if (p->channels <= 0)
		p->channels = max;
	if (p->samplerate <= 0)
		p->samplerate = d->default_samplerate;
	if (p->latency < 0)
		p->latency = input ? d->default_high_input_latency : d->default_high_output_latency;
	sp = (PaStreamParameters){
		.device = p->device,
		.channelCount = p->channels,
		.sampleFormat = devices_pa_format(p->dtype),
		.suggestedLatency = p->latency,
	};
	pa = Pa_IsFormatSupported(input ? &sp : NULL, input ? NULL : &sp, p->samplerate);
	if (pa != paFormatIsSupported)
		return devices_pa_error(err, pa, PROTO_E_NOT_SUPPORTED,
					"%s settings not supported by device [%d] '%s' (%d channels, %s, %g Hz; the device has %d %s channels)",
					input ? "Input" : "Output", p->device, d->name, p->channels,
					sample_format_name(p->dtype), p->samplerate, max,
					input ? "input" : "output");
	return 0;
}
