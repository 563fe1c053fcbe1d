/*
 * What every device backend shares: copying and freeing device lists and
 * turning a backend's error into a protocol error.  Loop thread.
 */
#include "backend.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void backend_device_clear(struct device_info *d)
{
	free(d->name);
	free(d->uid);
	free(d->locator);
	d->name = d->uid = d->locator = NULL;
}

int backend_device_copy(struct device_info *dst, const struct device_info *src)
{
	*dst = *src;
	dst->name = strdup(src->name ? src->name : "");
	dst->uid = strdup(src->uid ? src->uid : "");
	dst->locator = src->locator ? strdup(src->locator) : NULL;
	if (!dst->name || !dst->uid || (src->locator && !dst->locator)) {
		backend_device_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

int backend_devlist_unique_uids(struct backend_devlist *l)
{
	for (int i = 1; i < l->count; i++) {
		int repeat = 1;

		for (int j = 0; j < i; j++)
			if (strcmp(l->dev[i].uid, l->dev[j].uid) == 0)
				repeat++;
		if (repeat > 1) {
			size_t n = strlen(l->dev[i].uid) + 16;
			char *uid = malloc(n);

			if (!uid)
				return -ENOMEM;
			/* A made-up uid could repeat a real one: count on until it does not. */
			for (;; repeat++) {
				bool taken = false;

				snprintf(uid, n, "%s#%d", l->dev[i].uid, repeat);
				for (int j = 0; j < l->count && !taken; j++)
					taken = j != i && strcmp(l->dev[j].uid, uid) == 0;
				if (!taken)
					break;
			}
			free(l->dev[i].uid);
			l->dev[i].uid = uid;
		}
	}
	return 0;
}

void backend_devlist_free(struct backend_devlist *l)
{
	for (int i = 0; i < l->count; i++)
		backend_device_clear(&l->dev[i]);
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
