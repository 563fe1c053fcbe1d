/*
 * libsdc's JSON helpers: reading members of the daemon's replies, with a
 * default when a member is absent or of another type, devices as the
 * daemon describes them, and the JSON form of a device selector.  Any
 * thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sdc-private.h"

int sdc__json_int(json_object *obj, const char *name, int def)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, name, &v) ||
	    (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)))
		return def;
	return json_object_get_int(v);
}

double sdc__json_double(json_object *obj, const char *name, double def)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, name, &v) ||
	    (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)))
		return def;
	return json_object_get_double(v);
}

const char *sdc__json_str(json_object *obj, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

json_object *sdc__json_device(sdc_device device)
{
	if (device.by == SDC_DEVICE_BY_QUERY && device.query)
		return json_object_new_string(device.query);
	if (device.by == SDC_DEVICE_BY_INDEX && device.index >= 0)
		return json_object_new_int(device.index);
	return NULL;
}

void sdc__json_add_device(json_object *params, const char *name, sdc_device device)
{
	json_object *v = sdc__json_device(device);

	if (v)
		json_object_object_add(params, name, v);
}

int sdc__json_device_info(json_object *o, sdc_device_info *info)
{
	const char *name = sdc__json_str(o, "name"), *id = sdc__json_str(o, "stable_id");
	json_object *present;

	memset(info, 0, sizeof(*info));
	info->index = sdc__json_int(o, "index", -1);
	info->name = strdup(name ? name : "");
	info->stable_id = strdup(id ? id : "");
	if (!info->name || !info->stable_id) {
		free(info->name);
		free(info->stable_id);
		memset(info, 0, sizeof(*info));
		return -ENOMEM;
	}
	info->hostapi = sdc__json_int(o, "hostapi", -1);
	info->max_input_channels = sdc__json_int(o, "max_input_channels", 0);
	info->max_output_channels = sdc__json_int(o, "max_output_channels", 0);
	info->default_low_input_latency = sdc__json_double(o, "default_low_input_latency", 0);
	info->default_low_output_latency = sdc__json_double(o, "default_low_output_latency", 0);
	info->default_high_input_latency = sdc__json_double(o, "default_high_input_latency", 0);
	info->default_high_output_latency = sdc__json_double(o, "default_high_output_latency", 0);
	info->default_samplerate = sdc__json_double(o, "default_samplerate", 0);
	/* A daemon that does not say is one whose devices are all present. */
	info->present = !json_object_object_get_ex(o, "present", &present) ||
			!json_object_is_type(present, json_type_boolean) ||
			json_object_get_boolean(present);
	return 0;
}
