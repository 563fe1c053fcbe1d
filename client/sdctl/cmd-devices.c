/*
 * sdctl devices and sdctl hostapis: what PortAudio offers through the
 * daemon; sdctl devices --watch follows the list as devices come and go.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
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
		return sdctl_fail_json(ctl, NULL);
	printf("%s\n", result);
	free(result);
	return 0;
}

/* Prints the list as sounddevice's DeviceList does. */
static int print_list(sdc_client *c)
{
	sdc_device_info *devs;
	sdc_hostapi_info *apis;
	size_t n, napis;
	int in = -1, out = -1, digits = 1;

	if (sdc_query_devices(c, &devs, &n) < 0)
		return sdctl_fail(NULL);
	if (sdc_query_hostapis(c, &apis, &napis) < 0 || sdc_default_device(c, &in, &out) < 0) {
		sdc_device_list_free(devs, n);
		return sdctl_fail(NULL);
	}
	for (size_t m = n > 0 ? n - 1 : 0; m >= 10; m /= 10)
		digits++;
	for (size_t i = 0; i < n; i++) {
		const sdc_device_info *d = &devs[i];
		int mark = ((int)i == in) + 2 * ((int)i == out);

		printf("%c %*zu %s, %s (%d in, %d out)\n", " ><*"[mark], digits, i, d->name,
		       d->hostapi >= 0 && (size_t)d->hostapi < napis ? apis[d->hostapi].name : "?",
		       d->max_input_channels, d->max_output_channels);
	}
	sdc_device_list_free(devs, n);
	sdc_hostapi_list_free(apis, napis);
	return 0;
}

/* What --watch prints for each change. */
struct watch {
	struct sdctl *ctl;
	bool failed;
};

/* Prints one device of a change: "+ [3] name (2 in, 0 out)" or "- [3] name". */
static void print_changed_device(char sign, const sdc_device_info *d)
{
	if (sign == '+')
		printf("+ [%d] %s (%d in, %d out) %s\n", d->index, d->name, d->max_input_channels,
		       d->max_output_channels, d->stable_id);
	else
		printf("- [%d] %s %s\n", d->index, d->name, d->stable_id);
}

/* A devices_changed event: its JSON with --json, else a few lines. */
static void on_devices_changed(void *userdata, const sdc_devices_change *ch)
{
	struct watch *w = userdata;

	if (w->ctl->json) {
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
 * Prints the list (as JSON with --json), then every change until
 * interrupted.  Returns the exit status: 0 when interrupted, 1 when the
 * daemon went away.
 */
static int watch_devices(struct sdctl *ctl)
{
	struct watch w = { .ctl = ctl };
	sdc_client *c = sdctl_client(ctl);
	int r;

	if (!c)
		return 1;
	sdctl_catch_signals();
	if (sdc_set_devices_changed_callback(c, on_devices_changed, &w) < 0)
		return sdctl_interrupted ? 0 : sdctl_fail_json(ctl, NULL);
	r = ctl->json ? print_json_call(ctl, "query_devices", NULL) : print_list(c);
	if (r != 0)
		return r;
	fflush(stdout);
	while (!sdctl_interrupted) {
		r = sdc_dispatch(c, 500);
		if (r < 0 && r != -EINTR)
			return sdctl_interrupted ? 0 : sdctl_fail_json(ctl, NULL);
	}
	return 0;
}

/* Prints one device as "key: value" lines with sounddevice's keys. */
static int print_device(sdc_client *c, sdc_device dev, sdc_kind kind)
{
	sdc_device_info d;
	sdc_hostapi_info api = { 0 };

	if (sdc_query_device(c, dev, kind, &d) < 0)
		return sdctl_fail(NULL);
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

int sdctl_cmd_devices(struct sdctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "watch", no_argument, NULL, 'w' },
		{ 0 },
	};
	sdc_kind kind = SDC_KIND_ANY;
	sdc_device dev = SDC_DEVICE_DEFAULT;
	sdc_client *c;
	bool watch = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "k:jw", options, NULL)) != -1) {
		switch (opt) {
		case 'w':
			watch = true;
			break;
		case 'k':
			if (strcmp(optarg, "input") == 0)
				kind = SDC_KIND_INPUT;
			else if (strcmp(optarg, "output") == 0)
				kind = SDC_KIND_OUTPUT;
			else
				return sdctl_usage_error("devices", "--kind must be input or output, not '%s'",
							 optarg);
			break;
		case 'j':
			ctl->json = true;
			break;
		default:
			return sdctl_usage_error("devices", "unknown option");
		}
	}
	if (argc - optind > 1)
		return sdctl_usage_error("devices", "at most one DEVICE may be given");
	if (optind < argc)
		dev = sdc_device_parse(argv[optind]);
	if (watch && (dev.by != SDC_DEVICE_BY_DEFAULT || kind != SDC_KIND_ANY))
		return sdctl_usage_error("devices", "--watch follows the whole list: no DEVICE or --kind");
	if (watch)
		return watch_devices(ctl);

	if (ctl->json) {
		json_object *params = NULL;

		if (dev.by != SDC_DEVICE_BY_DEFAULT || kind != SDC_KIND_ANY) {
			params = json_object_new_object();
			if (dev.by == SDC_DEVICE_BY_QUERY)
				json_object_object_add(params, "device", json_object_new_string(dev.query));
			else if (dev.by == SDC_DEVICE_BY_INDEX)
				json_object_object_add(params, "device", json_object_new_int(dev.index));
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
		return print_list(c);
	return print_device(c, dev, kind);
}

int sdctl_cmd_hostapis(struct sdctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	sdc_hostapi_info *apis, one;
	size_t n;
	int index = -1, opt;
	sdc_client *c;

	while ((opt = getopt_long(argc, argv, "j", options, NULL)) != -1) {
		if (opt != 'j')
			return sdctl_usage_error("hostapis", "unknown option");
		ctl->json = true;
	}
	if (argc - optind > 1)
		return sdctl_usage_error("hostapis", "at most one INDEX may be given");
	if (optind < argc && sdctl_parse_int(argv[optind], 0, 1000, &index) < 0)
		return sdctl_usage_error("hostapis", "INDEX must be a number, not '%s'", argv[optind]);
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
			return sdctl_fail(NULL);
		apis = &one;
		n = 1;
	} else if (sdc_query_hostapis(c, &apis, &n) < 0) {
		return sdctl_fail(NULL);
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
