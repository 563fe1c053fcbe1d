/* Latency, channel mapping and [input, output] pair parameters; see streamparams.h. */
#include "streamparams.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* Looks name up in req; returns NULL for a missing member or JSON null. */
static json_object *get(const struct proto_request *req, const char *name)
{
	json_object *v = NULL;

	if (!req->root || !json_object_object_get_ex(req->root, name, &v))
		return NULL;
	return v;
}

static int pair_error(struct proto_error *err, const char *name)
{
	return proto_error_set(err, PROTO_E_INVALID_PARAM,
			       "parameter \"%s\": only single values and [input, output] pairs are allowed",
			       name);
}

/* Reads one half of a latency; returns 0 or -EINVAL. */
static int latency_value(json_object *v, const char *name, struct proto_latency *ret,
			 struct proto_error *err)
{
	*ret = (struct proto_latency){ PROTO_LATENCY_HIGH, 0 };
	if (!v)
		return 0;
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);

		if (strcmp(s, "low") == 0 && json_object_get_string_len(v) == 3) {
			ret->kind = PROTO_LATENCY_LOW;
			return 0;
		}
		if (strcmp(s, "high") == 0 && json_object_get_string_len(v) == 4)
			return 0;
	} else if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);

		if (isfinite(d) && d >= 0 && d <= 10) {
			*ret = (struct proto_latency){ PROTO_LATENCY_SECONDS, d };
			return 0;
		}
	}
	return proto_error_set(err, PROTO_E_INVALID_PARAM,
			       "parameter \"%s\" must be \"low\", \"high\" or seconds (0 to 10)", name);
}

int proto_get_latency(const struct proto_request *req, const char *name,
		      struct proto_latency ret[2], struct proto_error *err)
{
	json_object *v = get(req, name), *parts[2] = { v, v };

	ret[0] = ret[1] = (struct proto_latency){ PROTO_LATENCY_HIGH, 0 };
	if (!v)
		return 0;
	if (json_object_is_type(v, json_type_array)) {
		if (json_object_array_length(v) != 2)
			return pair_error(err, name);
		parts[0] = json_object_array_get_idx(v, 0);
		parts[1] = json_object_array_get_idx(v, 1);
	}
	for (int i = 0; i < 2; i++)
		if (latency_value(parts[i], name, &ret[i], err) < 0)
			return -EINVAL;
	return 1;
}

/* Reads one channel number of a mapping into *ret; returns 0 or -EINVAL. */
static int channel_value(json_object *v, const char *name, int *ret, struct proto_error *err)
{
	int64_t x;

	if (!json_object_is_type(v, json_type_int))
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\": channel numbers must be integers, not %s",
				       name, json_type_to_name(json_object_get_type(v)));
	x = json_object_get_int64(v);
	if (x < 1)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\": channel numbers must not be < 1", name);
	if (x > PROTO_MAX_CHANNEL)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\": channel numbers must not be > %d", name,
				       PROTO_MAX_CHANNEL);
	*ret = (int)x;
	return 0;
}

int proto_get_mapping(const struct proto_request *req, const char *name, int *map, int max,
		      struct proto_error *err)
{
	json_object *v = get(req, name);
	size_t n;

	if (!v)
		return 0;
	if (json_object_is_type(v, json_type_int))
		return channel_value(v, name, &map[0], err) < 0 ? -EINVAL : 1;
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\" must be a list of channel numbers", name);
	n = json_object_array_length(v);
	if (n > (size_t)max)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\" has more than %d channels", name, max);
	for (size_t i = 0; i < n; i++) {
		if (channel_value(json_object_array_get_idx(v, i), name, &map[i], err) < 0)
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (map[j] == map[i])
				return proto_error_set(err, PROTO_E_INVALID_PARAM,
						       "parameter \"%s\": each channel may only appear once in mapping",
						       name);
	}
	return (int)n;
}

/* Returns the half of a pair which selects, the value itself when it is no array, or NULL. */
static int pair_half(const struct proto_request *req, const char *name, int which,
		     json_object **ret, struct proto_error *err)
{
	json_object *v = get(req, name);

	*ret = v;
	if (!v || !json_object_is_type(v, json_type_array))
		return 0;
	if (json_object_array_length(v) != 2)
		return pair_error(err, name);
	*ret = json_object_array_get_idx(v, (size_t)which);
	return 0;
}

int proto_get_int_pair(const struct proto_request *req, const char *name, int which, int64_t min,
		       int64_t max, int64_t def, int64_t *ret, struct proto_error *err)
{
	json_object *v;

	if (pair_half(req, name, which, &v, err) < 0)
		return -EINVAL;
	return proto_value_int(v, name, min, max, def, ret, err);
}

int proto_get_dtype_pair(const struct proto_request *req, const char *name, int which, int def,
			 int *ret, struct proto_error *err)
{
	json_object *v;

	if (pair_half(req, name, which, &v, err) < 0)
		return -EINVAL;
	return proto_value_dtype(v, name, def, ret, err);
}

/* Reads one number of a volume; returns 0 or -EINVAL. */
static int volume_value(json_object *v, const char *name, double min, double max, double *ret,
			struct proto_error *err)
{
	double x;

	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\" takes numbers, not %s", name,
				       json_type_to_name(json_object_get_type(v)));
	x = json_object_get_double(v);
	if (!isfinite(x) || x < min || x > max)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\" must be from %g to %g", name, min, max);
	*ret = x;
	return 0;
}

int proto_get_volume(const struct proto_request *req, const char *name, double min, double max,
		     double *values, int max_count, struct proto_error *err)
{
	json_object *v = get(req, name);
	size_t n;

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return volume_value(v, name, min, max, &values[0], err) < 0 ? -EINVAL : 1;
	n = json_object_array_length(v);
	if (n == 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\" must be a number or a list of numbers", name);
	if (n > (size_t)max_count)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\" has more than %d values", name, max_count);
	for (size_t i = 0; i < n; i++)
		if (volume_value(json_object_array_get_idx(v, i), name, min, max, &values[i], err) < 0)
			return -EINVAL;
	return (int)n;
}
