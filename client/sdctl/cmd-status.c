/*
 * sdctl status and sdctl stop: what the daemon is doing, and stopping the
 * playbacks this user handed over with sdctl play --detach.  Main thread.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdctl.h"
#include "daemon-status.h"

json_object *sdctl_daemon_status(struct sdctl *ctl, bool print)
{
	sdc_client *c = sdctl_client(ctl);
	json_object *o;
	char *text;

	if (!c)
		return NULL;
	if (sdc_call(c, "daemon_status", NULL, &text) < 0) {
		sdctl_fail(ctl, NULL);
		return NULL;
	}
	o = json_tokener_parse(text);
	if (print)
		printf("%s\n", text);
	free(text);
	if (!o)
		sdctl_error(ctl, "internal_error", "sddaemon's status is not JSON");
	return o;
}

long long sdctl_json_get_int(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

double sdctl_json_get_double(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0;
}

const char *sdctl_json_get_str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : "";
}

json_object *sdctl_json_get_array(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array)
		       ? v
		       : NULL;
}

int sdctl_cmd_status(struct sdctl *ctl, int argc, char **argv)
{
	json_object *o, *list;
	long long clients, streams;

	if (argc > 0)
		return sdctl_usage_error(ctl, "unexpected argument '%s'", argv[0]);
	o = sdctl_daemon_status(ctl, ctl->json);
	if (!o)
		return 1;
	if (ctl->json) {
		json_object_put(o);
		return 0;
	}
	clients = sdctl_json_get_int(o, "clients");
	streams = sdctl_json_get_int(o, "streams");
	printf("sddaemon %s at %s: %lld client%s, %lld stream%s (%lld detached), %lld devices\n",
	       sdc_daemon_version(ctl->client), sdc_socket_path(ctl->client), clients,
	       clients == 1 ? "" : "s", streams, streams == 1 ? "" : "s",
	       sdctl_json_get_int(o, "detached"), sdctl_json_get_int(o, "devices"));
	list = sdctl_json_get_array(o, "device_streams");
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		json_object *d = json_object_array_get_idx(list, i);
		long long n = sdctl_json_get_int(d, "streams");

		printf("  device %lld '%s' (%s): %g Hz, %lld channels, %lld stream%s, load %.1f "
		       "%%, %lld xruns\n",
		       sdctl_json_get_int(d, "device"), sdctl_json_get_str(d, "name"),
		       sdctl_json_get_str(d, "mode"), sdctl_json_get_double(d, "samplerate"),
		       sdctl_json_get_int(d, "channels"), n, n == 1 ? "" : "s",
		       100 * sdctl_json_get_double(d, "cpu_load"),
		       sdctl_json_get_int(d, "device_xruns"));
	}
	list = sdctl_json_get_array(o, "my_streams");
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		json_object *s = json_object_array_get_idx(list, i);

		printf("  your stream %lld: %s, %lld frames played\n",
		       sdctl_json_get_int(s, "handle"), sdctl_json_get_str(s, "state"),
		       sdctl_json_get_int(s, "frames_played"));
	}
	json_object_put(o);
	return 0;
}

int sdctl_cmd_stop(struct sdctl *ctl, int argc, char **argv)
{
	json_object *stopped = json_object_new_array();
	sdc_client *c;
	int status = 0;

	for (int i = 0; i < argc; i++) {
		int handle;

		if (sdctl_parse_int(argv[i], 1, 2147483647, &handle) < 0) {
			json_object_put(stopped);
			return sdctl_usage_error(ctl, "HANDLE must be a number, not '%s'", argv[i]);
		}
	}
	c = sdctl_client(ctl);
	if (!c) {
		json_object_put(stopped);
		return 1;
	}
	if (argc > 0) {
		for (int i = 0; i < argc && !status; i++) {
			unsigned handle = (unsigned)atoi(argv[i]);

			if (sdc_stop(c, handle) < 0)
				status = sdctl_fail(ctl, argv[i]);
			else
				json_object_array_add(stopped, json_object_new_int64(handle));
		}
	} else {
		/* Without handles: every playback this user left playing. */
		json_object *o = sdctl_daemon_status(ctl, false), *list;

		if (!o) {
			json_object_put(stopped);
			return 1;
		}
		list = sdctl_json_get_array(o, "my_streams");
		for (size_t i = 0; list && i < json_object_array_length(list) && !status; i++) {
			long long handle =
				sdctl_json_get_int(json_object_array_get_idx(list, i), "handle");

			if (sdc_stop(c, (unsigned)handle) < 0)
				status = sdctl_fail(ctl, NULL);
			else
				json_object_array_add(stopped, json_object_new_int64(handle));
		}
		json_object_put(o);
	}
	if (status) {
		json_object_put(stopped);
		return status;
	}
	if (ctl->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "stopped", stopped);
		sdctl_json_print(o);
		return 0;
	}
	if (json_object_array_length(stopped) == 0) {
		if (!ctl->quiet)
			printf("nothing to stop\n");
	} else {
		printf("stopped");
		for (size_t i = 0; i < json_object_array_length(stopped); i++)
			printf(" %lld", (long long)json_object_get_int64(
						json_object_array_get_idx(stopped, i)));
		printf("\n");
	}
	json_object_put(stopped);
	return 0;
}
