/*
 * Typed, validated access to the parameters of a request.  Every getter
 * treats a missing member and JSON null alike, as sounddevice treats None:
 * it stores the default and returns 0.  A present member of the wrong type
 * or out of range fails with -EINVAL and a PROTO_E_INVALID_PARAM error that
 * names the parameter.  Getters that succeed return 1 when the member was
 * present, so callers can tell an explicit value from a default.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

int proto_get_int(const struct proto_request *req, const char *name, int64_t min, int64_t max,
		  int64_t def, int64_t *ret, struct proto_error *err);

/* As proto_get_int(), on a value already looked up (NULL for missing or null). */
int proto_value_int(json_object *v, const char *name, int64_t min, int64_t max, int64_t def,
		    int64_t *ret, struct proto_error *err);

/* Accepts integers and finite numbers in [min, max]. */
int proto_get_double(const struct proto_request *req, const char *name, double min, double max,
		     double def, double *ret, struct proto_error *err);

int proto_get_bool(const struct proto_request *req, const char *name, bool def, bool *ret,
		   struct proto_error *err);

/* The string stays owned by req; its length is checked against maxlen bytes. */
int proto_get_string(const struct proto_request *req, const char *name, size_t maxlen,
		     const char *def, const char **ret, struct proto_error *err);

/* Accepts one of the NULL-terminated names and stores its index. */
int proto_get_enum(const struct proto_request *req, const char *name, const char *const *names,
		   int def, int *ret, struct proto_error *err);

/*
 * A device as a request names it: a numeric id (index >= 0), a query
 * string (query != NULL, owned by the request) or nothing (the default).
 */
struct proto_device {
	int index;
	const char *query;
};

#define PROTO_DEVICE_DEFAULT ((struct proto_device){ .index = -1, .query = NULL })

/*
 * Reads a device parameter.  As in sounddevice, the value may be a single
 * id or query string, or an [input, output] pair of them (either may be
 * null); which selects the half of a pair (0 = input, 1 = output).  With
 * which < 0 (no kind) a pair must name the same device twice, else it is
 * invalid_param "Input and output device are different", as in sounddevice.
 */
int proto_get_device(const struct proto_request *req, const char *name, int which,
		     struct proto_device *ret, struct proto_error *err);

/* Reads a "dtype" style parameter; "float64" is refused with an explanation. */
int proto_get_dtype(const struct proto_request *req, const char *name, int def, int *ret,
		    struct proto_error *err);

/* As proto_get_dtype(), on a value already looked up (NULL for missing or null). */
int proto_value_dtype(json_object *v, const char *name, int def, int *ret, struct proto_error *err);
