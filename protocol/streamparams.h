/*
 * The parameters of the stream commands that are more than one typed
 * value: a latency ("low", "high" or seconds, or an [input, output] pair
 * of them), a channel mapping (1-based channel numbers, each at most
 * once), integers and sample formats given once for both directions or as
 * an [input, output] pair, and a volume (one number or one per channel).  The conventions are params.h's: a
 * missing member and JSON null take the default and return 0, a present
 * one returns 1 (or a count), a bad one -EINVAL with a
 * PROTO_E_INVALID_PARAM error that names the parameter.  No state: any
 * thread.
 */
#pragma once

#include "params.h"
#include "proto.h"

/* The highest channel number a mapping may name. */
#define PROTO_MAX_CHANNEL 1024

/* A suggested latency, as sounddevice takes it. */
enum proto_latency_kind {
	PROTO_LATENCY_HIGH, /* the device's default high latency (sounddevice's default) */
	PROTO_LATENCY_LOW,  /* the device's default low latency */
	PROTO_LATENCY_SECONDS,
};

struct proto_latency {
	enum proto_latency_kind kind;
	double seconds; /* PROTO_LATENCY_SECONDS: 0 to 10 */
};

/*
 * Reads a latency: "low", "high", seconds, or an [input, output] pair of
 * them (either may be null).  ret[0] gets the input's, ret[1] the
 * output's; a missing half is "high".
 */
int proto_get_latency(const struct proto_request *req, const char *name,
		      struct proto_latency ret[2], struct proto_error *err);

/*
 * Reads a channel mapping: one channel number or a list of them, each
 * from 1 to PROTO_MAX_CHANNEL and at most once, at most max of them.
 * Returns the number stored in map, 0 when there is none, or -EINVAL.
 */
int proto_get_mapping(const struct proto_request *req, const char *name, int *map, int max,
		      struct proto_error *err);

/*
 * Reads an integer given once or as an [input, output] pair; which
 * selects the half (0 = input, 1 = output).
 */
int proto_get_int_pair(const struct proto_request *req, const char *name, int which, int64_t min,
		       int64_t max, int64_t def, int64_t *ret, struct proto_error *err);

/* Reads a sample format given once or as an [input, output] pair. */
int proto_get_dtype_pair(const struct proto_request *req, const char *name, int which, int def,
			 int *ret, struct proto_error *err);

/*
 * Reads a volume: one number, or a list of at most max_count numbers (one
 * per channel), each from min to max.  Returns the count stored in values,
 * 0 when there is none, or -EINVAL.
 */
int proto_get_volume(const struct proto_request *req, const char *name, double min, double max,
		     double *values, int max_count, struct proto_error *err);
