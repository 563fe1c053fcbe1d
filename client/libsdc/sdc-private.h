/* libsdc internals shared by its source files; nothing here is exported. */
#pragma once

#include <pthread.h>
#include <stdint.h>
#include <sys/un.h>

#include <json-c/json.h>

#include "linebuf.h"
#include "sdc.h"

/* The most descriptors that may wait for their reply at once. */
#define CONN_MAX_PENDING_FDS 64

struct sdc_client {
	pthread_mutex_t lock; /* serialises requests and reads */
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char daemon_version[64];
	int protocol;
	int64_t next_id;
	struct linebuf in;
	int pending_fds[CONN_MAX_PENDING_FDS]; /* received, not yet claimed, oldest first */
	int pending_count;
	sdc_event_fn event_fn;
	void *event_userdata;
};

/*
 * Sends cmd with params (owned; NULL for none) and waits for its reply.  On
 * success stores the result (owned by the caller; may be NULL when
 * ret_result is NULL) and, when ret_fds is not NULL, up to max_fds
 * descriptors that came with the reply ("fds" in the result says how many).
 * On failure fills the thread's last error and returns a negative errno.
 */
int conn_request(sdc_client *c, const char *cmd, json_object *params, json_object **ret_result,
		 int *ret_fds, int max_fds, int *ret_nfds);

/* Sets this thread's last error to a library-side error and returns errnum. */
__attribute__((format(printf, 2, 3))) int err_set(int errnum, const char *fmt, ...);

/* Adds a device parameter (id, query or nothing) to params. */
void param_device(json_object *params, const char *name, sdc_device device);

/* Reads an integer / double / string member, with a default when absent or mistyped. */
int json_int(json_object *obj, const char *name, int def);
double json_double(json_object *obj, const char *name, double def);
const char *json_str(json_object *obj, const char *name);
