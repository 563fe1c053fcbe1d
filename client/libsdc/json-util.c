/*
 * libsdc's JSON helpers: reading members of the daemon's replies, with a
 * default when a member is absent or of another type, and the JSON form of
 * a device selector.  Any thread.
 */
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
