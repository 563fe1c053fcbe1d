/*
 * The daemon's status for sdctl status, stop and top, and reading members
 * of JSON objects with defaults.  Main thread.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "sdctl.h"

/*
 * Fetches daemon_status; returns the parsed result (put it when done), or
 * NULL after reporting the error.  With print, its text goes to stdout.
 */
json_object *sdctl_daemon_status(struct sdctl *ctl, bool print);

/* A member of o, or 0 / "" / NULL when it is absent or of another type. */
long long sdctl_json_get_int(json_object *o, const char *key);
double sdctl_json_get_double(json_object *o, const char *key);
const char *sdctl_json_get_str(json_object *o, const char *key);
json_object *sdctl_json_get_array(json_object *o, const char *key);
