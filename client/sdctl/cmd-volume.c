/*
 * sdctl volume: shows or sets the volume of the playbacks this user left
 * playing (sdctl play --detach), by handle or all of them.  A level is a
 * linear gain (0.5), a percentage of it (50%) or decibels (-6dB), one for
 * every channel or one per channel separated by commas (1,0.5);
 * --mute and --unmute (in ctl->o.mute) mute and unmute.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon-status.h"
#include "sdctl.h"

/* Parses one level into a linear gain; returns 0 or -1. */
static int parse_level(const char *text, double *ret)
{
	char *end;
	double v = strtod(text, &end);

	if (end == text || !isfinite(v))
		return -1;
	if (strcasecmp(end, "db") == 0) {
		if (v > 20)
			return -1;
		v = pow(10.0, v / 20.0);
	} else if (strcmp(end, "%") == 0) {
		v /= 100.0;
	} else if (*end) {
		return -1;
	}
	if (v < 0 || v > SDC_VOLUME_MAX)
		return -1;
	*ret = v;
	return 0;
}

/* Parses "L" or "L,L,…" into gains; returns the count or -1. */
static int parse_levels(const char *text, double *gains)
{
	char *copy = strdup(text), *save = NULL;
	int n = 0;

	if (!copy)
		return -1;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n >= SDC_VOLUME_MAX_CHANNELS || parse_level(tok, &gains[n]) < 0) {
			n = -1;
			break;
		}
		n++;
	}
	free(copy);
	return n;
}

/* Prints a stream's volume as text, or adds it to results (--json); returns 0 or -1. */
static int show(struct sdctl *ctl, sdc_client *c, unsigned handle, json_object *results)
{
	double gains[SDC_VOLUME_MAX_CHANNELS];
	int count = 0, mute = 0;

	if (sdc_get_volume(c, handle, gains, SDC_VOLUME_MAX_CHANNELS, &count, &mute) < 0)
		return -1;
	if (count > SDC_VOLUME_MAX_CHANNELS)
		count = SDC_VOLUME_MAX_CHANNELS;
	if (ctl->json) {
		json_object *o = json_object_new_object(), *v = json_object_new_array();

		for (int i = 0; i < count; i++)
			json_object_array_add(v, json_object_new_double(gains[i]));
		json_object_object_add(o, "handle", json_object_new_int64(handle));
		json_object_object_add(o, "volume", v);
		json_object_object_add(o, "mute", json_object_new_boolean(mute));
		json_object_array_add(results, o);
		return 0;
	}
	printf("stream %u:", handle);
	for (int i = 0; i < count; i++) {
		if (gains[i] > 0)
			printf("%s %.3f (%+.1f dB)", i ? "," : "", gains[i], 20 * log10(gains[i]));
		else
			printf("%s 0 (silent)", i ? "," : "");
	}
	printf("%s\n", mute ? ", muted" : "");
	return 0;
}

/* The handles of every running stream this user may control (daemon_status's my_streams). */
static int my_handles(struct sdctl *ctl, unsigned *handles, int max)
{
	json_object *o = sdctl_daemon_status(ctl, false), *list;
	int n = 0;

	if (!o)
		return -1;
	list = sdctl_json_get_array(o, "my_streams");
	for (size_t i = 0; list && i < json_object_array_length(list) && n < max; i++)
		handles[n++] = (unsigned)sdctl_json_get_int(json_object_array_get_idx(list, i), "handle");
	json_object_put(o);
	return n;
}

int sdctl_cmd_volume(struct sdctl *ctl, int argc, char **argv)
{
	double gains[SDC_VOLUME_MAX_CHANNELS];
	unsigned handles[256];
	int count = 0, n, status = 0, handle = 0;
	bool all;
	json_object *results;
	sdc_client *c;

	if (argc < 1 || argc > 2)
		return sdctl_usage_error(ctl, "give HANDLE (or all) and, to set it, a LEVEL");
	all = strcmp(argv[0], "all") == 0;
	if (!all && sdctl_parse_int(argv[0], 1, 2147483647, &handle) < 0)
		return sdctl_usage_error(ctl, "HANDLE must be a number or all, not '%s'", argv[0]);
	if (argc == 2) {
		count = parse_levels(argv[1], gains);
		if (count < 1)
			return sdctl_usage_error(ctl,
						 "invalid level '%s' (a gain from 0 to %g such as 0.5, a percentage such as 50%%, or dB such as -6dB; one, or one per channel: 1,0.5)",
						 argv[1], SDC_VOLUME_MAX);
	}
	c = sdctl_client(ctl);
	if (!c)
		return 1;
	if (all) {
		n = my_handles(ctl, handles, (int)(sizeof(handles) / sizeof(handles[0])));
		if (n < 0)
			return 1;
	} else {
		handles[0] = (unsigned)handle;
		n = 1;
	}
	results = json_object_new_array();
	for (int i = 0; i < n && !status; i++) {
		char what[32];

		snprintf(what, sizeof(what), "stream %u", handles[i]);
		if ((count || ctl->o.mute) &&
		    sdc_set_volume(c, handles[i], gains, count, ctl->o.mute) < 0)
			status = sdctl_fail(ctl, what);
		else if (show(ctl, c, handles[i], results) < 0)
			status = sdctl_fail(ctl, what);
	}
	if (ctl->json && !status)
		sdctl_json_print(results);
	else
		json_object_put(results);
	return status;
}
