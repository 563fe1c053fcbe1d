/*
 * sdctl status and sdctl stop: what the daemon is doing, and stopping the
 * playbacks this user handed over with sdctl play --detach.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdctl.h"

/* Fetches daemon_status; returns the parsed result or NULL after printing the error. */
static json_object *daemon_status(struct sdctl *ctl)
{
	sdc_client *c = sdctl_client(ctl);
	json_object *o;
	char *text;

	if (!c)
		return NULL;
	if (sdc_call(c, "daemon_status", NULL, &text) < 0) {
		sdctl_fail_json(ctl, NULL);
		return NULL;
	}
	o = json_tokener_parse(text);
	if (ctl->json)
		printf("%s\n", text);
	free(text);
	return o;
}

static int get_int(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int(v) : 0;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

int sdctl_cmd_status(struct sdctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	json_object *o, *list;
	int opt;

	while ((opt = getopt_long(argc, argv, "j", options, NULL)) != -1) {
		if (opt != 'j')
			return sdctl_usage_error("status", "unknown option");
		ctl->json = true;
	}
	o = daemon_status(ctl);
	if (!o)
		return 1;
	if (ctl->json) {
		json_object_put(o);
		return 0;
	}
	printf("sddaemon %s at %s: %d client%s, %d stream%s (%d detached), %d devices\n",
	       sdc_daemon_version(ctl->client), sdc_socket_path(ctl->client), get_int(o, "clients"),
	       get_int(o, "clients") == 1 ? "" : "s", get_int(o, "streams"),
	       get_int(o, "streams") == 1 ? "" : "s", get_int(o, "detached"), get_int(o, "devices"));
	json_object_object_get_ex(o, "device_streams", &list);
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		json_object *d = json_object_array_get_idx(list, i), *v;
		double load = json_object_object_get_ex(d, "cpu_load", &v) ? json_object_get_double(v) : 0;
		double rate = json_object_object_get_ex(d, "samplerate", &v) ? json_object_get_double(v) : 0;

		printf("  device %d '%s' (%s): %g Hz, %d channels, %d stream%s, load %.1f %%, %d xruns\n",
		       get_int(d, "device"), get_str(d, "name"), get_str(d, "mode"), rate,
		       get_int(d, "channels"), get_int(d, "streams"),
		       get_int(d, "streams") == 1 ? "" : "s", 100 * load, get_int(d, "device_xruns"));
	}
	json_object_object_get_ex(o, "my_streams", &list);
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		json_object *s = json_object_array_get_idx(list, i);

		printf("  your stream %d: %s, %d frames played\n", get_int(s, "handle"),
		       get_str(s, "state"), get_int(s, "frames_played"));
	}
	json_object_put(o);
	return 0;
}

int sdctl_cmd_stop(struct sdctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	sdc_client *c;
	int opt, status = 0, stopped = 0;

	while ((opt = getopt_long(argc, argv, "j", options, NULL)) != -1) {
		if (opt != 'j')
			return sdctl_usage_error("stop", "unknown option");
		ctl->json = true;
	}
	c = sdctl_client(ctl);
	if (!c)
		return 1;
	if (optind < argc) {
		for (int i = optind; i < argc; i++) {
			int handle;

			if (sdctl_parse_int(argv[i], 1, 2147483647, &handle) < 0)
				return sdctl_usage_error("stop", "HANDLE must be a number, not '%s'", argv[i]);
			if (sdc_stop(c, (unsigned)handle) < 0)
				status = sdctl_fail(argv[i]);
			else
				stopped++;
		}
	} else {
		/* Without handles: every playback this user left playing. */
		json_object *o, *list;
		int was_json = ctl->json;

		ctl->json = false;
		o = daemon_status(ctl);
		ctl->json = was_json;
		if (!o)
			return 1;
		json_object_object_get_ex(o, "my_streams", &list);
		for (size_t i = 0; list && i < json_object_array_length(list); i++) {
			int handle = get_int(json_object_array_get_idx(list, i), "handle");

			if (sdc_stop(c, (unsigned)handle) < 0)
				status = sdctl_fail(NULL);
			else
				stopped++;
		}
		json_object_put(o);
	}
	if (ctl->json)
		printf("{\"stopped\":%d}\n", stopped);
	return status;
}
