/* Validated parameter getters for requests; see params.h. */
#include "params.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sample.h"

/* Looks name up in req; returns NULL for a missing member or JSON null. */
static json_object *get(const struct proto_request *req, const char *name)
{
	json_object *v = NULL;

	if (!req->root || !json_object_object_get_ex(req->root, name, &v))
		return NULL;
	return v;
}

static int type_error(struct proto_error *err, const char *name, const char *want, json_object *v)
{
	return proto_error_set(err, PROTO_E_INVALID_PARAM, "parameter \"%s\" must be %s, not %s",
			       name, want, json_type_to_name(json_object_get_type(v)));
}

int proto_get_int(const struct proto_request *req, const char *name, int64_t min, int64_t max,
		  int64_t def, int64_t *ret, struct proto_error *err)
{
	return proto_value_int(get(req, name), name, min, max, def, ret, err);
}

int proto_value_int(json_object *v, const char *name, int64_t min, int64_t max, int64_t def,
		    int64_t *ret, struct proto_error *err)
{
	int64_t x;

	if (!v) {
		*ret = def;
		return 0;
	}
	if (json_object_get_type(v) == json_type_double) {
		double d = json_object_get_double(v);

		/*
		 * 48000.0 is as good as 48000, but 0.5 frames is not.  Only
		 * doubles in [-2^63, 2^63) convert to int64_t; the bounds are
		 * compared after the conversion, because (double)INT64_MAX
		 * rounds up to 2^63.
		 */
		if (!isfinite(d) || d != floor(d) || d < -0x1p63 || d >= 0x1p63)
			goto range;
		x = (int64_t)d;
		if (x < min || x > max)
			goto range;
	} else if (json_object_get_type(v) == json_type_int) {
		/* json-c saturates huge numbers at INT64_MIN/INT64_MAX, which the range check catches. */
		x = json_object_get_int64(v);
		if (x < min || x > max || x == INT64_MAX || x == INT64_MIN)
			goto range;
	} else {
		return type_error(err, name, "an integer", v);
	}
	*ret = x;
	return 1;
range:
	return proto_error_set(err, PROTO_E_INVALID_PARAM,
			       "parameter \"%s\" is out of range (%lld to %lld)", name, (long long)min,
			       (long long)max);
}

int proto_get_double(const struct proto_request *req, const char *name, double min, double max,
		     double def, double *ret, struct proto_error *err)
{
	json_object *v = get(req, name);
	double d;

	if (!v) {
		*ret = def;
		return 0;
	}
	if (json_object_get_type(v) == json_type_int) {
		int64_t x = json_object_get_int64(v);

		if (x == INT64_MAX || x == INT64_MIN)
			goto range;
		d = (double)x;
	} else if (json_object_get_type(v) == json_type_double) {
		d = json_object_get_double(v);
	} else {
		return type_error(err, name, "a number", v);
	}
	if (!isfinite(d) || d < min || d > max)
		goto range;
	*ret = d;
	return 1;
range:
	return proto_error_set(err, PROTO_E_INVALID_PARAM, "parameter \"%s\" is out of range (%g to %g)",
			       name, min, max);
}

int proto_get_bool(const struct proto_request *req, const char *name, bool def, bool *ret,
		   struct proto_error *err)
{
	json_object *v = get(req, name);

	if (!v) {
		*ret = def;
		return 0;
	}
	if (!json_object_is_type(v, json_type_boolean))
		return type_error(err, name, "true or false", v);
	*ret = json_object_get_boolean(v);
	return 1;
}

int proto_get_string(const struct proto_request *req, const char *name, size_t maxlen,
		     const char *def, const char **ret, struct proto_error *err)
{
	json_object *v = get(req, name);

	if (!v) {
		*ret = def;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return type_error(err, name, "a string", v);
	if ((size_t)json_object_get_string_len(v) > maxlen)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\" is longer than %zu bytes", name, maxlen);
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\" contains a NUL character", name);
	*ret = json_object_get_string(v);
	return 1;
}

int proto_get_enum(const struct proto_request *req, const char *name, const char *const *names,
		   int def, int *ret, struct proto_error *err)
{
	const char *s;
	int r = proto_get_string(req, name, 64, NULL, &s, err);

	if (r <= 0) {
		if (r == 0)
			*ret = def;
		return r;
	}
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], s) == 0) {
			*ret = i;
			return 1;
		}
	{
		char list[256] = "";
		size_t used = 0;

		for (int i = 0; names[i] && used < sizeof(list); i++)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s\"%s\"",
						 i ? ", " : "", names[i]);
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\" must be one of %s, not \"%.64s\"", name, list, s);
	}
}

/* Reads one device value (an id, a query string or null) into ret. */
static int device_value(json_object *v, const char *name, struct proto_device *ret,
			struct proto_error *err)
{
	*ret = PROTO_DEVICE_DEFAULT;
	switch (json_object_get_type(v)) {
	case json_type_null:
		return 0;
	case json_type_int: {
		int64_t x = json_object_get_int64(v);

		if (x < 0 || x > 1000000)
			return proto_error_set(err, PROTO_E_INVALID_PARAM,
					       "parameter \"%s\": device id %lld is out of range", name,
					       (long long)x);
		ret->index = (int)x;
		return 1;
	}
	case json_type_string:
		if (json_object_get_string_len(v) > 1024)
			return proto_error_set(err, PROTO_E_INVALID_PARAM,
					       "parameter \"%s\": query string too long", name);
		if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
			return proto_error_set(err, PROTO_E_INVALID_PARAM,
					       "parameter \"%s\" contains a NUL character", name);
		ret->query = json_object_get_string(v);
		return 1;
	default:
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\" must be a device id, a query string or a pair of them, not %s",
				       name, json_type_to_name(json_object_get_type(v)));
	}
}

int proto_get_device(const struct proto_request *req, const char *name, int which,
		     struct proto_device *ret, struct proto_error *err)
{
	json_object *v = get(req, name);

	*ret = PROTO_DEVICE_DEFAULT;
	if (!v)
		return 0;
	if (json_object_is_type(v, json_type_array)) {
		if (json_object_array_length(v) != 2)
			return proto_error_set(err, PROTO_E_INVALID_PARAM,
					       "parameter \"%s\": only single values and [input, output] pairs are allowed",
					       name);
		/* Validate both halves so that a bad one is reported whichever is used. */
		struct proto_device other;
		int r = device_value(json_object_array_get_idx(v, which == 0), name, &other, err);

		if (r < 0)
			return r;
		/* Without a kind the pair must name one device, as sounddevice's _get_device_id() says. */
		if (which < 0 && !json_object_equal(json_object_array_get_idx(v, 0),
						    json_object_array_get_idx(v, 1)))
			return proto_error_set(err, PROTO_E_INVALID_PARAM,
					       "Input and output device are different: %.200s",
					       json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		v = json_object_array_get_idx(v, which > 0);
	}
	return device_value(v, name, ret, err);
}

int proto_get_dtype(const struct proto_request *req, const char *name, int def, int *ret,
		    struct proto_error *err)
{
	return proto_value_dtype(get(req, name), name, def, ret, err);
}

int proto_value_dtype(json_object *v, const char *name, int def, int *ret, struct proto_error *err)
{
	const char *s;
	int fmt;

	if (!v) {
		*ret = def;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return type_error(err, name, "a string", v);
	if (json_object_get_string_len(v) > 32)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\" is longer than %d bytes", name, 32);
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\" contains a NUL character", name);
	fmt = sample_format_from_name(s);
	if (fmt < 0) {
		if (strcmp(s, "float64") == 0)
			return proto_error_set(err, PROTO_E_INVALID_PARAM,
					       "parameter \"%s\": float64 is not a wire format; send float32 (libsdc and sdctl convert float64 for you)",
					       name);
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "parameter \"%s\": unsupported sample format \"%.32s\" (float32, int32, int24, int16, int8 or uint8)",
				       name, s);
	}
	*ret = fmt;
	return 1;
}
