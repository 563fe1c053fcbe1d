/* libsdc's typed device, host-API and settings queries.  Any thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sdc-private.h"

static const char *const dtype_names[] = {
	[SDC_DTYPE_DEFAULT] = NULL, [SDC_FLOAT32] = "float32", [SDC_INT32] = "int32",
	[SDC_INT24] = "int24",	    [SDC_INT16] = "int16",     [SDC_INT8] = "int8",
	[SDC_UINT8] = "uint8",	    [SDC_FLOAT64] = "float64",
};

static const size_t dtype_sizes[] = {
	[SDC_DTYPE_DEFAULT] = 0, [SDC_FLOAT32] = 4, [SDC_INT32] = 4, [SDC_INT24] = 3,
	[SDC_INT16] = 2,	 [SDC_INT8] = 1,    [SDC_UINT8] = 1, [SDC_FLOAT64] = 8,
};

const char *sdc_dtype_name(sdc_dtype dtype)
{
	return (unsigned)dtype <= SDC_FLOAT64 ? dtype_names[dtype] : NULL;
}

sdc_dtype sdc_dtype_from_name(const char *name)
{
	for (int i = SDC_FLOAT32; name && i <= SDC_FLOAT64; i++)
		if (strcmp(dtype_names[i], name) == 0)
			return (sdc_dtype)i;
	return SDC_DTYPE_DEFAULT;
}

size_t sdc_dtype_size(sdc_dtype dtype)
{
	return (unsigned)dtype <= SDC_FLOAT64 ? dtype_sizes[dtype] : 0;
}

/* Fills info from a device object; returns 0 or -ENOMEM. */
static int device_from_json(json_object *o, sdc_device_info *info)
{
	const char *name = json_str(o, "name");

	memset(info, 0, sizeof(*info));
	info->index = json_int(o, "index", -1);
	info->name = strdup(name ? name : "");
	if (!info->name)
		return err_set(-ENOMEM, "out of memory");
	info->hostapi = json_int(o, "hostapi", -1);
	info->max_input_channels = json_int(o, "max_input_channels", 0);
	info->max_output_channels = json_int(o, "max_output_channels", 0);
	info->default_low_input_latency = json_double(o, "default_low_input_latency", 0);
	info->default_low_output_latency = json_double(o, "default_low_output_latency", 0);
	info->default_high_input_latency = json_double(o, "default_high_input_latency", 0);
	info->default_high_output_latency = json_double(o, "default_high_output_latency", 0);
	info->default_samplerate = json_double(o, "default_samplerate", 0);
	return 0;
}

void sdc_device_info_clear(sdc_device_info *info)
{
	if (!info)
		return;
	free(info->name);
	memset(info, 0, sizeof(*info));
}

void sdc_device_list_free(sdc_device_info *devices, size_t count)
{
	for (size_t i = 0; devices && i < count; i++)
		sdc_device_info_clear(&devices[i]);
	free(devices);
}

/* Parses element i of a list reply into elem; returns 0 or a negative errno. */
typedef int (*parse_fn)(json_object *o, int i, void *elem);

/*
 * Sends cmd and parses the list it returns, elem_size bytes an element,
 * into a new array (one spare element at the end, zeroed).  clear releases
 * one parsed element.
 */
static int query_list(sdc_client *c, const char *cmd, size_t elem_size, parse_fn parse,
		      void (*clear)(void *elem), void **ret_list, size_t *ret_count)
{
	json_object *result = NULL;
	unsigned char *list;
	size_t n;
	int r;

	if (!ret_list || !ret_count)
		return err_set(-EINVAL, "invalid arguments");
	r = conn_request(c, cmd, NULL, &result, NULL, 0, NULL);
	if (r < 0)
		return r;
	if (!json_object_is_type(result, json_type_array)) {
		json_object_put(result);
		return err_set(-EPROTO, "%s did not return a list", cmd);
	}
	n = json_object_array_length(result);
	list = calloc(n + 1, elem_size);
	if (!list) {
		json_object_put(result);
		return err_set(-ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		r = parse(json_object_array_get_idx(result, i), (int)i, list + i * elem_size);
		if (r < 0) {
			while (i-- > 0)
				clear(list + i * elem_size);
			free(list);
			json_object_put(result);
			return r;
		}
	}
	json_object_put(result);
	*ret_list = list;
	*ret_count = n;
	return 0;
}

static int parse_device(json_object *o, int i, void *elem)
{
	(void)i;
	return device_from_json(o, elem);
}

static void clear_device(void *elem)
{
	sdc_device_info_clear(elem);
}

int sdc_query_devices(sdc_client *c, sdc_device_info **ret_devices, size_t *ret_count)
{
	return query_list(c, "query_devices", sizeof(sdc_device_info), parse_device, clear_device,
			  (void **)ret_devices, ret_count);
}

int sdc_query_device(sdc_client *c, sdc_device device, sdc_kind kind, sdc_device_info *ret_info)
{
	json_object *params, *result = NULL;
	int r;

	if (!ret_info)
		return err_set(-EINVAL, "invalid arguments");
	params = json_object_new_object();
	param_device(params, "device", device);
	if (kind == SDC_KIND_INPUT || kind == SDC_KIND_OUTPUT)
		json_object_object_add(params, "kind",
				       json_object_new_string(kind == SDC_KIND_INPUT ? "input"
										     : "output"));
	else if (device.by == SDC_DEVICE_BY_DEFAULT)
		/* "The default device" needs a kind; without one sounddevice lists them all. */
		json_object_object_add(params, "kind", json_object_new_string("output"));
	r = conn_request(c, "query_devices", params, &result, NULL, 0, NULL);
	if (r < 0)
		return r;
	r = json_object_is_type(result, json_type_object)
		    ? device_from_json(result, ret_info)
		    : err_set(-EPROTO, "query_devices did not return a device");
	json_object_put(result);
	return r;
}

int sdc_default_device(sdc_client *c, int *ret_input, int *ret_output)
{
	json_object *result = NULL;
	int r = conn_request(c, "default_device", NULL, &result, NULL, 0, NULL);

	if (r < 0)
		return r;
	if (!json_object_is_type(result, json_type_array) || json_object_array_length(result) != 2) {
		json_object_put(result);
		return err_set(-EPROTO, "default_device did not return a pair");
	}
	if (ret_input)
		*ret_input = json_object_get_int(json_object_array_get_idx(result, 0));
	if (ret_output)
		*ret_output = json_object_get_int(json_object_array_get_idx(result, 1));
	json_object_put(result);
	return 0;
}

/* Fills info from a host-API object. */
static int hostapi_from_json(json_object *o, int index, sdc_hostapi_info *info)
{
	const char *name = json_str(o, "name");
	json_object *devs = NULL;
	size_t n = 0;

	memset(info, 0, sizeof(*info));
	info->index = index;
	info->default_input_device = json_int(o, "default_input_device", -1);
	info->default_output_device = json_int(o, "default_output_device", -1);
	if (json_object_object_get_ex(o, "devices", &devs) &&
	    json_object_is_type(devs, json_type_array))
		n = json_object_array_length(devs);
	info->name = strdup(name ? name : "");
	info->devices = calloc(n + 1, sizeof(int));
	if (!info->name || !info->devices) {
		sdc_hostapi_info_clear(info);
		return err_set(-ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		info->devices[i] = json_object_get_int(json_object_array_get_idx(devs, i));
	info->device_count = n;
	return 0;
}

void sdc_hostapi_info_clear(sdc_hostapi_info *info)
{
	if (!info)
		return;
	free(info->name);
	free(info->devices);
	memset(info, 0, sizeof(*info));
}

void sdc_hostapi_list_free(sdc_hostapi_info *hostapis, size_t count)
{
	for (size_t i = 0; hostapis && i < count; i++)
		sdc_hostapi_info_clear(&hostapis[i]);
	free(hostapis);
}

static int parse_hostapi(json_object *o, int i, void *elem)
{
	return hostapi_from_json(o, i, elem);
}

static void clear_hostapi(void *elem)
{
	sdc_hostapi_info_clear(elem);
}

int sdc_query_hostapis(sdc_client *c, sdc_hostapi_info **ret_hostapis, size_t *ret_count)
{
	return query_list(c, "query_hostapis", sizeof(sdc_hostapi_info), parse_hostapi, clear_hostapi,
			  (void **)ret_hostapis, ret_count);
}

int sdc_query_hostapi(sdc_client *c, int index, sdc_hostapi_info *ret_info)
{
	json_object *params, *result = NULL;
	int r;

	if (!ret_info || index < 0)
		return err_set(-EINVAL, "invalid arguments");
	params = json_object_new_object();
	json_object_object_add(params, "index", json_object_new_int(index));
	r = conn_request(c, "query_hostapis", params, &result, NULL, 0, NULL);
	if (r < 0)
		return r;
	r = hostapi_from_json(result, index, ret_info);
	json_object_put(result);
	return r;
}

/* The shared body of the two settings checks. */
static int check_settings(sdc_client *c, const char *cmd, const sdc_settings *s,
			  sdc_settings *ret_resolved)
{
	json_object *params, *result = NULL;
	int r;

	if (!s)
		return err_set(-EINVAL, "invalid arguments");
	if ((unsigned)s->dtype > SDC_FLOAT64 || s->channels < 0 || s->samplerate < 0)
		return err_set(-EINVAL, "invalid settings");
	params = json_object_new_object();
	param_device(params, "device", s->device);
	if (s->channels > 0)
		json_object_object_add(params, "channels", json_object_new_int(s->channels));
	if (s->dtype != SDC_DTYPE_DEFAULT)
		/* float64 is converted to float32 by the library, as sounddevice does. */
		json_object_object_add(params, "dtype",
				       json_object_new_string(s->dtype == SDC_FLOAT64
								      ? "float32"
								      : sdc_dtype_name(s->dtype)));
	if (s->samplerate > 0)
		json_object_object_add(params, "samplerate", json_object_new_double(s->samplerate));
	r = conn_request(c, cmd, params, &result, NULL, 0, NULL);
	if (r < 0)
		return r;
	if (ret_resolved) {
		ret_resolved->device = SDC_DEVICE_INDEX(json_int(result, "device", -1));
		ret_resolved->channels = json_int(result, "channels", 0);
		ret_resolved->dtype = s->dtype == SDC_FLOAT64
					      ? SDC_FLOAT64
					      : sdc_dtype_from_name(json_str(result, "dtype"));
		ret_resolved->samplerate = json_double(result, "samplerate", 0);
	}
	json_object_put(result);
	return 0;
}

int sdc_check_input_settings(sdc_client *c, const sdc_settings *s, sdc_settings *ret_resolved)
{
	return check_settings(c, "check_input_settings", s, ret_resolved);
}

int sdc_check_output_settings(sdc_client *c, const sdc_settings *s, sdc_settings *ret_resolved)
{
	return check_settings(c, "check_output_settings", s, ret_resolved);
}

int sdc_get_portaudio_version(sdc_client *c, int *ret_version, char **ret_text)
{
	json_object *result = NULL;
	int r = conn_request(c, "get_portaudio_version", NULL, &result, NULL, 0, NULL);

	if (r < 0)
		return r;
	if (!json_object_is_type(result, json_type_array) || json_object_array_length(result) != 2) {
		json_object_put(result);
		return err_set(-EPROTO, "get_portaudio_version did not return a pair");
	}
	if (ret_version)
		*ret_version = json_object_get_int(json_object_array_get_idx(result, 0));
	if (ret_text) {
		*ret_text = strdup(json_object_get_string(json_object_array_get_idx(result, 1)));
		if (!*ret_text) {
			json_object_put(result);
			return err_set(-ENOMEM, "out of memory");
		}
	}
	json_object_put(result);
	return 0;
}
