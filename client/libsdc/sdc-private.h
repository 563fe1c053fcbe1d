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

	sdc_defaults defaults;
	char *default_query[2]; /* owned copies of the default devices' query strings */

	pthread_mutex_t xfer_lock; /* guards transfers and last_handle */
	struct transfer *transfers;
	unsigned last_handle;
};

#include <stdint.h>

#include "shm.h"

struct sdc_dir {
	int used;
	struct shm_ring *ctl;
	unsigned char *data;
	uint32_t capacity;    /* frames */
	uint32_t frame_bytes; /* bytes per frame in the ring */
	uint32_t index;	      /* our own index: write (out) or read (in) */
	uint64_t position;    /* our index, unwrapped: frames moved so far */
	uint32_t fill_limit;  /* out: keep at most this many frames queued (latency) */
	int channels;
	sdc_dtype user_dtype; /* what the caller passes: float64 is converted */
	sdc_dtype wire_dtype;
};

struct sdc_stream {
	/* The stream API's own state (streams from sdc_stream_open()); NULL otherwise. */
	struct api_stream *api;
	sdc_client *client;
	unsigned handle;
	int memfd;
	int eventfd;
	int sockfd; /* the client's socket, watched for the daemon going away */
	void *mem;
	size_t size;
	struct shm_header *hdr;
	double samplerate;
	double latency_in, latency_out; /* seconds, of the device stream */
	int device_in, device_out;
	struct sdc_dir out, in;
};

/* Fills in a status from its JSON form. */
void status_from_json(json_object *o, sdc_status *ret);

/* Adds the options every stream command takes to params, defaults resolved. */
void stream_options_json(sdc_client *c, json_object *params, const sdc_stream_options *o,
			 int input, int output);

/* Resolves a dtype against the client's default for the direction (0 in, 1 out). */
sdc_dtype resolve_dtype(const sdc_client *c, sdc_dtype dtype, int which);

/* Returns the wire name of dtype: float64 travels as float32. */
const char *wire_dtype_name(sdc_dtype dtype);

/*
 * Sends a stream-creating command and maps the stream it returns.  user_out
 * and user_in are the caller's dtypes (float64 is converted).
 */
int stream_open(sdc_client *c, const char *cmd, json_object *params, sdc_dtype user_out,
		sdc_dtype user_in, sdc_stream **ret);

/* Sleeps until the daemon writes the stream's eventfd, the daemon goes away or timeout_ms passes. */
int stream_sleep(sdc_stream *s, int timeout_ms);

/* Copies frames between user memory and a ring at the direction's index (float64 converted). */
void stream_put_frames(struct sdc_dir *d, const unsigned char *src, uint32_t n);
void stream_get_frames(struct sdc_dir *d, unsigned char *dst, uint32_t n);

/* Stops (aborting) and frees the stream API's state of s (callback.c). */
void api_stream_shutdown(sdc_stream *s);

/* Returns the capacity of a stream's playback ring in frames (0 without one). */
uint32_t stream_out_capacity(const sdc_stream *s);

/* Stops and joins every transfer thread (at sdc_close()). */
void transfers_shutdown(sdc_client *c);

/* Resets the defaults (also at sdc_connect()). */
void defaults_init(sdc_client *c);

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

/* Returns a device's JSON form (id or query), or NULL for the default. */
json_object *device_json(sdc_device device);

/* Adds a device parameter (id, query or nothing) to params. */
void param_device(json_object *params, const char *name, sdc_device device);

/* Reads an integer / double / string member, with a default when absent or mistyped. */
int json_int(json_object *obj, const char *name, int def);
double json_double(json_object *obj, const char *name, double def);
const char *json_str(json_object *obj, const char *name);
