/* sdctl version and sdctl check.  Main thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sdctl.h"

int sdctl_cmd_version(struct sdctl *ctl, int argc, char **argv)
{
	sdc_client *c;
	char *text;
	int version;

	if (argc > 0)
		return sdctl_usage_error(ctl, "unexpected argument '%s'", argv[0]);
	c = sdctl_client(ctl);
	if (!c)
		return 1;
	if (sdc_get_portaudio_version(c, &version, &text) < 0)
		return sdctl_fail(ctl, NULL);
	if (ctl->json) {
		json_object *o = json_object_new_object(), *pa = json_object_new_object();

		json_object_object_add(pa, "version", json_object_new_int(version));
		json_object_object_add(pa, "text", json_object_new_string(text));
		json_object_object_add(o, "sdctl", json_object_new_string(SDD_VERSION));
		json_object_object_add(o, "sddaemon",
				       json_object_new_string(sdc_daemon_version(c)));
		json_object_object_add(o, "protocol", json_object_new_int(sdc_protocol_version(c)));
		json_object_object_add(o, "socket", json_object_new_string(sdc_socket_path(c)));
		json_object_object_add(o, "portaudio", pa);
		sdctl_json_print(o);
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
	const struct sdctl_opts *o = &ctl->o;
	sdc_settings s = { .device = sdc_device_parse(o->device),
			   .channels = o->channels,
			   .dtype = o->dtype,
			   .samplerate = o->rate },
		     got;
	const char *kind = o->input ? "input" : "output";
	sdc_client *c;
	int r;

	if (argc > 0)
		return sdctl_usage_error(ctl, "unexpected argument '%s'", argv[0]);
	c = sdctl_client(ctl);
	if (!c)
		return 1;
	r = o->input ? sdc_check_input_settings(c, &s, &got)
		     : sdc_check_output_settings(c, &s, &got);
	if (r < 0)
		return sdctl_fail(ctl, NULL);
	if (ctl->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "kind", json_object_new_string(kind));
		json_object_object_add(j, "device", json_object_new_int(got.device.index));
		json_object_object_add(j, "channels", json_object_new_int(got.channels));
		json_object_object_add(j, "dtype",
				       json_object_new_string(sdc_dtype_name(got.dtype)));
		json_object_object_add(j, "samplerate", json_object_new_double(got.samplerate));
		sdctl_json_print(j);
	} else {
		printf("supported: %s device %d, %d channels, %s, %g Hz\n", kind, got.device.index,
		       got.channels, sdc_dtype_name(got.dtype), got.samplerate);
	}
	return 0;
}
