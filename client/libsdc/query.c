/*
 * libsdc's device selectors parsed from text, and its typed device,
 * host-API and settings queries.  Any thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sdc-private.h"

sdc_device sdc_device_parse(const char *text)
{
	const char *p = text;

	if (!text || !*text)
		return SDC_DEVICE_DEFAULT;
	while (*p >= '0' && *p <= '9')
		p++;
	if (!*p && p - text < 8)
		return SDC_DEVICE_INDEX(atoi(text));
	return SDC_DEVICE_QUERY(text);
}

/* Fills info from a device object; returns 0 or -ENOMEM. */
static int device_from_json(json_object *o, sdc_device_info *info)
{
	if (sdc__json_device_info(o, info) < 0)
		return sdc__error_set(-ENOMEM, "out of memory");
	return 0;
}

void sdc_device_info_clear(sdc_device_info *info)
{
	if (!info)
		return;
	free(info->name);
	free(info->stable_id);
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
		return sdc__error_set(-EINVAL, "invalid arguments");
	r = sdc__conn_request(c, cmd, NULL, &result, NULL, 0, NULL);
	if (r < 0)
		return r;
	if (!json_object_is_type(result, json_type_array)) {
		json_object_put(result);
		return sdc__error_set(-EPROTO, "%s did not return a list", cmd);
	}
	n = json_object_array_length(result);
	list = calloc(n + 1, elem_size);
	if (!list) {
		json_object_put(result);
		return sdc__error_set(-ENOMEM, "out of memory");
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
		return sdc__error_set(-EINVAL, "invalid arguments");
	params = json_object_new_object();
	sdc__json_add_device(params, "device", device);
	if (kind == SDC_KIND_INPUT || kind == SDC_KIND_OUTPUT)
		json_object_object_add(params, "kind",
				       json_object_new_string(kind == SDC_KIND_INPUT ? "input"
										     : "output"));
	else if (device.by == SDC_DEVICE_BY_DEFAULT)
		/* "The default device" needs a kind; without one sounddevice lists them all. */
		json_object_object_add(params, "kind", json_object_new_string("output"));
	r = sdc__conn_request(c, "query_devices", params, &result, NULL, 0, NULL);
	if (r < 0)
		return r;
	r = json_object_is_type(result, json_type_object)
		    ? device_from_json(result, ret_info)
		    : sdc__error_set(-EPROTO, "query_devices did not return a device");
	json_object_put(result);
	return r;
}

int sdc_default_device(sdc_client *c, int *ret_input, int *ret_output)
{
	json_object *result = NULL;
	int r = sdc__conn_request(c, "default_device", NULL, &result, NULL, 0, NULL);

	if (r < 0)
		return r;
	if (!json_object_is_type(result, json_type_array) || json_object_array_length(result) != 2) {
		json_object_put(result);
		return sdc__error_set(-EPROTO, "default_device did not return a pair");
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
	const char *name = sdc__json_str(o, "name");
	json_object *devs = NULL;
	size_t n = 0;

	memset(info, 0, sizeof(*info));
	info->index = index;
	info->default_input_device = sdc__json_int(o, "default_input_device", -1);
	info->default_output_device = sdc__json_int(o, "default_output_device", -1);
	if (json_object_object_get_ex(o, "devices", &devs) &&
	    json_object_is_type(devs, json_type_array))
		n = json_object_array_length(devs);
	info->name = strdup(name ? name : "");
	info->devices = calloc(n + 1, sizeof(int));
	if (!info->name || !info->devices) {
		sdc_hostapi_info_clear(info);
		return sdc__error_set(-ENOMEM, "out of memory");
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
		return sdc__error_set(-EINVAL, "invalid arguments");
	params = json_object_new_object();
	json_object_object_add(params, "index", json_object_new_int(index));
	r = sdc__conn_request(c, "query_hostapis", params, &result, NULL, 0, NULL);
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
		return sdc__error_set(-EINVAL, "invalid arguments");
	if ((unsigned)s->dtype > SDC_FLOAT64 || s->channels < 0 || s->samplerate < 0)
		return sdc__error_set(-EINVAL, "invalid settings");
	/* As sounddevice: float64 is converted for data, but a device has no such format. */
	if (s->dtype == SDC_FLOAT64)
		return sdc__error_set(-EINVAL, "Invalid %s sample format",
				      strcmp(cmd, "check_input_settings") == 0 ? "input" : "output");
	params = json_object_new_object();
	sdc__json_add_device(params, "device", s->device);
	if (s->channels > 0)
		json_object_object_add(params, "channels", json_object_new_int(s->channels));
	if (s->dtype != SDC_DTYPE_DEFAULT)
		json_object_object_add(params, "dtype",
				       json_object_new_string(sdc_dtype_name(s->dtype)));
	if (s->samplerate > 0)
		json_object_object_add(params, "samplerate", json_object_new_double(s->samplerate));
	r = sdc__conn_request(c, cmd, params, &result, NULL, 0, NULL);
	if (r < 0)
		return r;
	if (ret_resolved) {
		ret_resolved->device = SDC_DEVICE_INDEX(sdc__json_int(result, "device", -1));
		ret_resolved->channels = sdc__json_int(result, "channels", 0);
		ret_resolved->dtype = sdc_dtype_from_name(sdc__json_str(result, "dtype"));
		ret_resolved->samplerate = sdc__json_double(result, "samplerate", 0);
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
	int r = sdc__conn_request(c, "get_portaudio_version", NULL, &result, NULL, 0, NULL);

	if (r < 0)
		return r;
	if (!json_object_is_type(result, json_type_array) || json_object_array_length(result) != 2) {
		json_object_put(result);
		return sdc__error_set(-EPROTO, "get_portaudio_version did not return a pair");
	}
	if (ret_version)
		*ret_version = json_object_get_int(json_object_array_get_idx(result, 0));
	if (ret_text) {
		*ret_text = strdup(json_object_get_string(json_object_array_get_idx(result, 1)));
		if (!*ret_text) {
			json_object_put(result);
			return sdc__error_set(-ENOMEM, "out of memory");
		}
	}
	json_object_put(result);
	return 0;
}

int sdc_rescan_devices(sdc_client *c, int *ret_changed)
{
	json_object *result = NULL, *changed;
	int r = sdc__conn_request(c, "rescan", NULL, &result, NULL, 0, NULL);

	if (r < 0)
		return r;
	if (ret_changed)
		*ret_changed = json_object_object_get_ex(result, "changed", &changed) &&
			       json_object_get_boolean(changed);
	json_object_put(result);
	return 0;
}
