/*
 * What every device backend shares: freeing a device list and turning a
 * backend's error into a protocol error.  Loop thread.
 */
#include "backend.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void backend_devlist_free(struct backend_devlist *l)
{
	for (int i = 0; i < l->count; i++)
		free(l->dev[i].name);
	for (int i = 0; i < l->api_count; i++) {
		free(l->api[i].name);
		free(l->api[i].devices);
	}
	free(l->dev);
	free(l->api);
	*l = (struct backend_devlist){ .default_input = -1, .default_output = -1 };
}

int backend_error_proto(struct proto_error *err, const struct backend_error *be,
			enum proto_errcode code, const char *fmt, ...)
{
	char context[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);
	if (be->has_host_error) {
		proto_error_set(err, code, "%s: Unanticipated host API %d error %ld: '%s'", context,
				be->host_api, be->host_error, be->host_text);
		err->has_host_error = true;
		err->host_api = be->host_api;
		err->host_error = be->host_error;
		snprintf(err->host_error_text, sizeof(err->host_error_text), "%s", be->host_text);
	} else {
		proto_error_set(err, code, "%s: %s", context, be->text);
	}
	err->pa_error = be->code;
	snprintf(err->pa_error_text, sizeof(err->pa_error_text), "%s", be->text);
	return -EINVAL;
}
