/*
 * libsdc's last error, kept per thread: set by the library itself or from
 * the daemon's error replies, read by sdc_last_error().  Any thread.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sdc-private.h"

static _Thread_local sdc_error last_error;

const sdc_error *sdc_last_error(void)
{
	return &last_error;
}

int sdc__error_set(int errnum, const char *fmt, ...)
{
	va_list ap;

	memset(&last_error, 0, sizeof(last_error));
	last_error.errnum = errnum;
	va_start(ap, fmt);
	vsnprintf(last_error.message, sizeof(last_error.message), fmt, ap);
	va_end(ap);
	return errnum;
}

/* Maps the daemon's symbolic error code to a negative errno. */
static int errno_of_code(const char *code)
{
	static const struct {
		const char *code;
		int err;
	} map[] = {
		{ "invalid_param", -EINVAL },	   { "device_not_found", -ENODEV },
		{ "device_ambiguous", -ENOTUNIQ }, { "not_supported", -ENOTSUP },
		{ "unknown_command", -ENOSYS },	   { "no_such_stream", -ENOENT },
		{ "access_denied", -EACCES },	   { "limit_exceeded", -ENOSPC },
		{ "busy", -EBUSY },		   { "shutting_down", -ESHUTDOWN },
		{ "unsupported_protocol", -EPROTONOSUPPORT },
		{ "portaudio_error", -EIO },	   { "internal_error", -EIO },
		{ "stale_generation", -ESTALE },   { "device_lost", -ENODEV },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].code, code) == 0)
			return map[i].err;
	return -EPROTO;
}

int sdc__error_from_reply(json_object *e)
{
	json_object *h;
	const char *code = sdc__json_str(e, "code");

	memset(&last_error, 0, sizeof(last_error));
	snprintf(last_error.code, sizeof(last_error.code), "%s", code ? code : "internal_error");
	snprintf(last_error.message, sizeof(last_error.message), "%s",
		 sdc__json_str(e, "message") ? sdc__json_str(e, "message") : "unknown error");
	last_error.pa_error = sdc__json_int(e, "pa_error", 0);
	if (sdc__json_str(e, "pa_error_text"))
		snprintf(last_error.pa_error_text, sizeof(last_error.pa_error_text), "%s",
			 sdc__json_str(e, "pa_error_text"));
	if (json_object_object_get_ex(e, "host_error", &h) &&
	    json_object_is_type(h, json_type_object)) {
		last_error.has_host_error = 1;
		last_error.host_api = sdc__json_int(h, "hostapi", -1);
		last_error.host_error = sdc__json_int(h, "code", 0);
		snprintf(last_error.host_error_text, sizeof(last_error.host_error_text), "%s",
			 sdc__json_str(h, "text") ? sdc__json_str(h, "text") : "");
	}
	last_error.errnum = errno_of_code(last_error.code);
	return last_error.errnum;
}

int sdc__error_from_status(const sdc_status *st)
{
	memset(&last_error, 0, sizeof(last_error));
	snprintf(last_error.code, sizeof(last_error.code), "%s", st->error_code);
	snprintf(last_error.message, sizeof(last_error.message), "%s",
		 st->error[0] ? st->error : "the stream failed");
	last_error.errnum = st->error_code[0] ? errno_of_code(st->error_code) : -EIO;
	return last_error.errnum;
}
