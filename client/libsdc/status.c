/*
 * libsdc's view of a stream's status as the daemon reports it (get_status,
 * and the replies of wait and stop), and its flags as text.  Any thread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sdc-private.h"

/* Fills in a status from its JSON form. */
static void status_from_json(json_object *o, sdc_status *ret)
{
	static const char *const states[] = { "prefill", "running", "draining", "finished", "failed" };
	static const struct {
		const char *name;
		unsigned bit;
	} flags[] = {
		{ "input_underflow", SDC_INPUT_UNDERFLOW },   { "input_overflow", SDC_INPUT_OVERFLOW },
		{ "output_underflow", SDC_OUTPUT_UNDERFLOW }, { "output_overflow", SDC_OUTPUT_OVERFLOW },
		{ "priming_output", SDC_PRIMING_OUTPUT },
	};
	const char *state = sdc__json_str(o, "state");
	json_object *f = NULL, *e = NULL, *v;

	memset(ret, 0, sizeof(*ret));
	ret->handle = (unsigned)sdc__json_int(o, "handle", 0);
	for (int i = 0; state && i < 5; i++)
		if (strcmp(states[i], state) == 0)
			ret->state = (sdc_state)i;
	if (json_object_object_get_ex(o, "flags", &f))
		for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			if (json_object_object_get_ex(f, flags[i].name, &v) && json_object_get_boolean(v))
				ret->flags |= flags[i].bit;
	ret->xruns = (unsigned)sdc__json_int(o, "xruns", 0);
	if (json_object_object_get_ex(o, "frames_played", &v))
		ret->frames_played = (unsigned long long)json_object_get_int64(v);
	if (json_object_object_get_ex(o, "underflow_frames", &v))
		ret->underflow_frames = (unsigned long long)json_object_get_int64(v);
	if (json_object_object_get_ex(o, "frames_recorded", &v))
		ret->frames_recorded = (unsigned long long)json_object_get_int64(v);
	if (json_object_object_get_ex(o, "overflow_frames", &v))
		ret->overflow_frames = (unsigned long long)json_object_get_int64(v);
	if (json_object_object_get_ex(o, "error", &e)) {
		snprintf(ret->error_code, sizeof(ret->error_code), "%s",
			 sdc__json_str(e, "code") ? sdc__json_str(e, "code") : "");
		snprintf(ret->error, sizeof(ret->error), "%s",
			 sdc__json_str(e, "message") ? sdc__json_str(e, "message") : "");
	}
}

const char *sdc_flags_text(unsigned flags, char *buf, size_t size)
{
	static const char *const names[] = { "input underflow", "input overflow", "output underflow",
					      "output overflow", "priming output" };
	size_t used = 0;

	if (!buf || size == 0)
		return "";
	buf[0] = '\0';
	for (int i = 0; i < 5 && used < size; i++)
		if (flags & (1u << i))
			used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
						 names[i]);
	return buf;
}

int sdc__status_request(sdc_client *c, const char *cmd, unsigned handle, sdc_status *ret)
{
	json_object *params = json_object_new_object(), *result = NULL;
	int r;

	if (handle)
		json_object_object_add(params, "handle", json_object_new_int64(handle));
	r = sdc__conn_request(c, cmd, params, &result, NULL, 0, NULL);
	if (r < 0)
		return r;
	if (ret)
		status_from_json(result, ret);
	json_object_put(result);
	return 0;
}

int sdc_get_status(sdc_client *c, unsigned handle, sdc_status *ret)
{
	if (!c)
		return sdc__error_set(-EINVAL, "invalid arguments");
	return sdc__status_request(c, "get_status", handle, ret);
}
