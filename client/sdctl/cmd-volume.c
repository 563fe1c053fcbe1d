/*
 * sdctl volume: shows or sets the volume of the playbacks this user left
 * playing (sdctl play --detach), by handle or all of them.  A level is a
 * linear gain (0.5), a percentage of it (50%) or decibels (-6dB), one for
 * every channel or one per channel separated by commas (1,0.5).
 */
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* Prints a stream's volume, as text or (with --json) as an object. */
static int show(struct sdctl *ctl, sdc_client *c, unsigned handle)
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
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
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
static int my_handles(sdc_client *c, unsigned *handles, int max)
{
	json_object *o, *list;
	char *text;
	int n = 0;

	if (sdc_call(c, "daemon_status", NULL, &text) < 0)
		return -1;
	o = json_tokener_parse(text);
	free(text);
	if (o && json_object_object_get_ex(o, "my_streams", &list))
		for (size_t i = 0; i < json_object_array_length(list) && n < max; i++) {
			json_object *h;

			if (json_object_object_get_ex(json_object_array_get_idx(list, i), "handle", &h))
				handles[n++] = (unsigned)json_object_get_int64(h);
		}
	json_object_put(o);
	return n;
}

int sdctl_cmd_volume(struct sdctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "mute", no_argument, NULL, 'm' },
		{ "unmute", no_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	double gains[SDC_VOLUME_MAX_CHANNELS];
	unsigned handles[256];
	int opt, count = 0, mute = 0, n, status = 0, handle;
	sdc_client *c;

	while ((opt = getopt_long(argc, argv, "muj", options, NULL)) != -1) {
		if (opt == 'm')
			mute = SDC_YES;
		else if (opt == 'u')
			mute = SDC_NO;
		else if (opt == 'j')
			ctl->json = true;
		else
			return sdctl_usage_error("volume", "unknown option");
	}
	if (optind >= argc || argc - optind > 2)
		return sdctl_usage_error("volume", "give HANDLE (or all) and, to set it, a LEVEL");
	if (strcmp(argv[optind], "all") != 0 &&
	    sdctl_parse_int(argv[optind], 1, 2147483647, &handle) < 0)
		return sdctl_usage_error("volume", "HANDLE must be a number or all, not '%s'",
					 argv[optind]);
	if (argc - optind == 2) {
		count = parse_levels(argv[optind + 1], gains);
		if (count < 1)
			return sdctl_usage_error("volume",
						 "invalid level '%s' (a gain from 0 to %g such as 0.5, a percentage such as 50%%, or dB such as -6dB; one, or one per channel: 1,0.5)",
						 argv[optind + 1], SDC_VOLUME_MAX);
	}
	c = sdctl_client(ctl);
	if (!c)
		return 1;
	if (strcmp(argv[optind], "all") == 0) {
		n = my_handles(c, handles, (int)(sizeof(handles) / sizeof(handles[0])));
		if (n < 0)
			return sdctl_fail_json(ctl, NULL);
	} else {
		handles[0] = (unsigned)handle;
		n = 1;
	}
	for (int i = 0; i < n; i++) {
		char what[32];

		snprintf(what, sizeof(what), "stream %u", handles[i]);
		if ((count || mute) && sdc_set_volume(c, handles[i], gains, count, mute) < 0) {
			status = sdctl_fail_json(ctl, what);
			continue;
		}
		if (show(ctl, c, handles[i]) < 0)
			status = sdctl_fail_json(ctl, what);
	}
	return status;
}
