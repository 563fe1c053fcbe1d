/*
 * A shared stream's volume: sdc_set_volume() and sdc_get_volume() through
 * the daemon's set_volume and get_status.  Any thread.
 */
#include <errno.h>
#include <math.h>

#include "sdc-private.h"

int sdc_set_volume(sdc_client *c, unsigned handle, const double *gains, int count, int mute)
{
	json_object *params, *v = NULL, *result = NULL;
	int r;

	if (!c || count < 0 || count > SDC_VOLUME_MAX_CHANNELS || (count > 0 && !gains) ||
	    (count == 0 && mute != SDC_YES && mute != SDC_NO))
		return sdc__error_set(-EINVAL, "invalid arguments");
	for (int i = 0; i < count; i++)
		if (!isfinite(gains[i]) || gains[i] < 0)
			return sdc__error_set(-EINVAL, "a volume must be a finite gain of 0 or more");
	params = json_object_new_object();
	if (handle)
		json_object_object_add(params, "handle", json_object_new_int64(handle));
	if (count == 1) {
		v = json_object_new_double(gains[0]);
	} else if (count > 1) {
		v = json_object_new_array();
		for (int i = 0; i < count; i++)
			json_object_array_add(v, json_object_new_double(gains[i]));
	}
	if (v)
		json_object_object_add(params, "volume", v);
	if (mute == SDC_YES || mute == SDC_NO)
		json_object_object_add(params, "mute", json_object_new_boolean(mute == SDC_YES));
	r = sdc__conn_request(c, "set_volume", params, &result, NULL, 0, NULL);
	json_object_put(result);
	return r < 0 ? r : 0;
}

int sdc_get_volume(sdc_client *c, unsigned handle, double *ret_gains, int max, int *ret_count,
		   int *ret_mute)
{
	json_object *params, *result = NULL, *v, *m;
	int r, n;

	if (!c || max < 0 || (max > 0 && !ret_gains))
		return sdc__error_set(-EINVAL, "invalid arguments");
	params = json_object_new_object();
	if (handle)
		json_object_object_add(params, "handle", json_object_new_int64(handle));
	r = sdc__conn_request(c, "get_status", params, &result, NULL, 0, NULL);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(result, "volume", &v) ||
	    !json_object_is_type(v, json_type_array)) {
		json_object_put(result);
		return sdc__error_set(-ENOTSUP, "stream %u has no volume (it is exclusive)", handle);
	}
	n = (int)json_object_array_length(v);
	for (int i = 0; i < n && i < max; i++)
		ret_gains[i] = json_object_get_double(json_object_array_get_idx(v, (size_t)i));
	if (ret_count)
		*ret_count = n;
	if (ret_mute)
		*ret_mute = json_object_object_get_ex(result, "mute", &m) && json_object_get_boolean(m);
	json_object_put(result);
	return 0;
}
