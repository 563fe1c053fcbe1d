/*
 * sdctl devices and sdctl hostapis: what PortAudio offers through the
 * daemon; sdctl devices --watch follows the list as devices come and go.
 * Main thread.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdctl.h"

/* Sends cmd with params and prints the result as JSON. */
static int print_json_call(struct sdctl *ctl, const char *cmd, json_object *params)
{
	sdc_client *c = sdctl_client(ctl);
	const char *text = params ? json_object_to_json_string(params) : NULL;
	char *result;
	int r;

	if (!c) {
		json_object_put(params);
		return 1;
	}
	r = sdc_call(c, cmd, text, &result);
	json_object_put(params);
	if (r < 0)
		return sdctl_fail(ctl, NULL);
	printf("%s\n", result);
	free(result);
	return 0;
}

/* Prints the list as sounddevice's DeviceList does. */
static int print_list(struct sdctl *ctl, sdc_client *c)
{
	sdc_device_info *devs;
	sdc_hostapi_info *apis;
	size_t n, napis;
	int in = -1, out = -1, digits = 1;

	if (sdc_query_devices(c, &devs, &n) < 0)
		return sdctl_fail(ctl, NULL);
	if (sdc_query_hostapis(c, &apis, &napis) < 0 || sdc_default_device(c, &in, &out) < 0) {
		sdc_device_list_free(devs, n);
		return sdctl_fail(ctl, NULL);
	}
	for (size_t m = n > 0 ? n - 1 : 0; m >= 10; m /= 10)
		digits++;
	for (size_t i = 0; i < n; i++) {
		const sdc_device_info *d = &devs[i];
		int mark = ((int)i == in) + 2 * ((int)i == out);

		printf("%c %*zu %s, %s (%d in, %d out)\n", " ><*"[mark], digits, i, d -> name,
		       d -> hostapi >= 0 && (size_t)d -> hostapi < napis ? apis[d->hostapi].name
									 : "?",
		       d->max_input_channels, d->max_output_channels);
	}
	sdc_device_list_free(devs, n);
	sdc_hostapi_list_free(apis, napis);
	return 0;
}

/* Prints one device as "key: value" lines with sounddevice's keys. */
static int print_device(struct sdctl *ctl, sdc_client *c, sdc_device dev, sdc_kind kind)
{
	sdc_device_info d;
	sdc_hostapi_info api = { 0 };

	if (sdc_query_device(c, dev, kind, &d) < 0)
		return sdctl_fail(ctl, NULL);
	sdc_query_hostapi(c, d.hostapi, &api);
	printf("index: %d\n"
	       "name: %s\n"
	       "hostapi: %d (%s)\n"
	       "max_input_channels: %d\n"
	       "max_output_channels: %d\n"
	       "default_low_input_latency: %g\n"
	       "default_low_output_latency: %g\n"
	       "default_high_input_latency: %g\n"
	       "default_high_output_latency: %g\n"
	       "default_samplerate: %g\n"
	       "stable_id: %s\n",
	       d.index, d.name, d.hostapi, api.name ? api.name : "?", d.max_input_channels,
	       d.max_output_channels, d.default_low_input_latency, d.default_low_output_latency,
	       d.default_high_input_latency, d.default_high_output_latency, d.default_samplerate,
	       d.stable_id);
	sdc_hostapi_info_clear(&api);
	sdc_device_info_clear(&d);
	return 0;
}

/* Prints one device of a change: "+ [3] name (2 in, 0 out) id" or "- [3] name id". */
static void print_changed_device(char sign, const sdc_device_info *d)
{
	if (sign == '+')
		printf("+ [%d] %s (%d in, %d out) %s\n", d->index, d->name, d->max_input_channels,
		       d->max_output_channels, d->stable_id);
	else
		printf("- [%d] %s %s\n", d->index, d->name, d->stable_id);
}

/* A devices_changed event: the event itself with --json, else a few lines. */
static void on_devices_changed(void *userdata, const sdc_devices_change *ch)
{
	struct sdctl *ctl = userdata;

	if (ctl->json) {
		printf("%s\n", ch->json);
	} else {
		printf("generation %u: %d devices%s, default input %d, default output %d\n",
		       ch->generation, ch->device_count,
		       ch->renumbered ? " (ids changed: list them again)" : "", ch->default_input,
		       ch->default_output);
		for (size_t i = 0; i < ch->added_count; i++)
			print_changed_device('+', &ch->added[i]);
		for (size_t i = 0; i < ch->removed_count; i++)
			print_changed_device('-', &ch->removed[i]);
	}
	fflush(stdout);
}

/*
 * --watch: prints the list (as JSON with --json), then every change until
 * interrupted.  Returns the exit status: 0 when interrupted, 1 when the
 * daemon went away.
 */
static int watch_devices(struct sdctl *ctl)
{
	sdc_client *c = sdctl_client(ctl);
	int r;

	if (!c)
		return 1;
	sdctl_catch_signals();
	if (sdc_set_devices_changed_callback(c, on_devices_changed, ctl) < 0)
		return sdctl_interrupted ? 0 : sdctl_fail(ctl, NULL);
	r = ctl->json ? print_json_call(ctl, "query_devices", NULL) : print_list(ctl, c);
	if (r != 0)
		return r;
	fflush(stdout);
	while (!sdctl_interrupted) {
		r = sdc_dispatch(c, 500);
		if (r < 0 && r != -EINTR)
			return sdctl_interrupted ? 0 : sdctl_fail(ctl, NULL);
	}
	return 0;
}

int sdctl_cmd_devices(struct sdctl *ctl, int argc, char **argv)
{
	sdc_kind kind = ctl->o.kind;
	sdc_device dev = SDC_DEVICE_DEFAULT;
	sdc_client *c;

	if (argc > 1)
		return sdctl_usage_error(
			ctl, "at most one DEVICE may be given (quote a query with spaces)");
	if (argc == 1)
		dev = sdc_device_parse(argv[0]);
	if (ctl->o.watch && (dev.by != SDC_DEVICE_BY_DEFAULT || kind != SDC_KIND_ANY))
		return sdctl_usage_error(ctl, "--watch follows the whole list: no DEVICE or --kind");
	if (ctl->o.watch)
		return watch_devices(ctl);

	if (ctl->json) {
		json_object *params = NULL;

		if (dev.by != SDC_DEVICE_BY_DEFAULT || kind != SDC_KIND_ANY) {
			params = json_object_new_object();
			if (dev.by == SDC_DEVICE_BY_QUERY)
				json_object_object_add(params, "device",
						       json_object_new_string(dev.query));
			else if (dev.by == SDC_DEVICE_BY_INDEX)
				json_object_object_add(params, "device",
						       json_object_new_int(dev.index));
			if (kind != SDC_KIND_ANY)
				json_object_object_add(params, "kind",
						       json_object_new_string(kind == SDC_KIND_INPUT
										      ? "input"
										      : "output"));
		}
		return print_json_call(ctl, "query_devices", params);
	}
	c = sdctl_client(ctl);
	if (!c)
		return 1;
	if (dev.by == SDC_DEVICE_BY_DEFAULT && kind == SDC_KIND_ANY)
		return print_list(ctl, c);
	return print_device(ctl, c, dev, kind);
}

int sdctl_cmd_hostapis(struct sdctl *ctl, int argc, char **argv)
{
	sdc_hostapi_info *apis, one;
	size_t n;
	int index = -1;
	sdc_client *c;

	if (argc > 1)
		return sdctl_usage_error(ctl, "at most one INDEX may be given");
	if (argc == 1 && sdctl_parse_int(argv[0], 0, 1000, &index) < 0)
		return sdctl_usage_error(ctl, "INDEX must be a number, not '%s'", argv[0]);
	if (ctl->json) {
		json_object *params = NULL;

		if (index >= 0) {
			params = json_object_new_object();
			json_object_object_add(params, "index", json_object_new_int(index));
		}
		return print_json_call(ctl, "query_hostapis", params);
	}
	c = sdctl_client(ctl);
	if (!c)
		return 1;
	if (index >= 0) {
		if (sdc_query_hostapi(c, index, &one) < 0)
			return sdctl_fail(ctl, NULL);
		apis = &one;
		n = 1;
	} else if (sdc_query_hostapis(c, &apis, &n) < 0) {
		return sdctl_fail(ctl, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		const sdc_hostapi_info *a = &apis[i];

		printf("%2d %s: %zu device%s", a->index, a->name, a->device_count,
		       a->device_count == 1 ? "" : "s");
		for (size_t j = 0; j < a->device_count; j++)
			printf("%s%d", j ? " " : " (", a->devices[j]);
		printf("%s, default input %d, default output %d\n", a->device_count ? ")" : "",
		       a->default_input_device, a->default_output_device);
	}
	if (index >= 0)
		sdc_hostapi_info_clear(&one);
	else
		sdc_hostapi_list_free(apis, n);
	return 0;
}
