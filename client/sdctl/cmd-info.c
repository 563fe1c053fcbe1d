/* sdctl version and sdctl check. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sdctl.h"

int sdctl_cmd_version(struct sdctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	sdc_client *c;
	char *text;
	int version, opt;

	while ((opt = getopt_long(argc, argv, "j", options, NULL)) != -1) {
		if (opt != 'j')
			return sdctl_usage_error("version", "unknown option");
		ctl->json = true;
	}
	if (optind < argc)
		return sdctl_usage_error("version", "unexpected argument '%s'", argv[optind]);
	c = sdctl_client(ctl);
	if (!c)
		return 1;
	if (sdc_get_portaudio_version(c, &version, &text) < 0)
		return sdctl_fail_json(ctl, NULL);
	if (ctl->json) {
		json_object *o = json_object_new_object(), *pa = json_object_new_array();

		json_object_array_add(pa, json_object_new_int(version));
		json_object_array_add(pa, json_object_new_string(text));
		json_object_object_add(o, "sdctl", json_object_new_string(SDD_VERSION));
		json_object_object_add(o, "sddaemon", json_object_new_string(sdc_daemon_version(c)));
		json_object_object_add(o, "protocol", json_object_new_int(sdc_protocol_version(c)));
		json_object_object_add(o, "portaudio", pa);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
									 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		printf("sdctl %s\nsddaemon %s (protocol %d) at %s\n%s (%d)\n", SDD_VERSION,
		       sdc_daemon_version(c), sdc_protocol_version(c), sdc_socket_path(c), text,
		       version);
	}
	free(text);
	return 0;
}

int sdctl_cmd_check(struct sdctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "input", no_argument, NULL, 'i' },
		{ "output", no_argument, NULL, 'o' },
		{ "device", required_argument, NULL, 'd' },
		{ "channels", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'f' },
		{ "rate", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	sdc_settings s = { .device = SDC_DEVICE_DEFAULT }, got;
	int input = 0, opt, r;
	sdc_client *c;

	while ((opt = getopt_long(argc, argv, "iod:c:f:r:j", options, NULL)) != -1) {
		switch (opt) {
		case 'i':
			input = 1;
			break;
		case 'o':
			input = 0;
			break;
		case 'd':
			s.device = sdc_device_parse(optarg);
			break;
		case 'c':
			if (sdctl_parse_int(optarg, 1, 1024, &s.channels) < 0)
				return sdctl_usage_error("check", "invalid channel count '%s'", optarg);
			break;
		case 'f':
			s.dtype = sdc_dtype_from_name(optarg);
			if (s.dtype == SDC_DTYPE_DEFAULT)
				return sdctl_usage_error("check", "unknown format '%s' (float32, int32, int24, int16, int8, uint8, float64)",
							 optarg);
			break;
		case 'r':
			if (sdctl_parse_double(optarg, 1, 10000000, &s.samplerate) < 0)
				return sdctl_usage_error("check", "invalid rate '%s'", optarg);
			break;
		case 'j':
			ctl->json = true;
			break;
		default:
			return sdctl_usage_error("check", "unknown option");
		}
	}
	if (optind < argc)
		return sdctl_usage_error("check", "unexpected argument '%s'", argv[optind]);
	c = sdctl_client(ctl);
	if (!c)
		return 1;
	r = input ? sdc_check_input_settings(c, &s, &got) : sdc_check_output_settings(c, &s, &got);
	if (r < 0)
		return sdctl_fail_json(ctl, NULL);
	if (ctl->json)
		printf("{\"device\":%d,\"channels\":%d,\"dtype\":\"%s\",\"samplerate\":%g}\n",
		       got.device.index, got.channels, sdc_dtype_name(got.dtype), got.samplerate);
	else
		printf("supported: %s device %d, %d channels, %s, %g Hz\n", input ? "input" : "output",
		       got.device.index, got.channels, sdc_dtype_name(got.dtype), got.samplerate);
	return 0;
}
