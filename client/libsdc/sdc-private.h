/*
 * libsdc internals shared by its source files; nothing here is exported.
 *
 * The files, each using only those listed before it:
 *
 *   json-util.c   reading members of the daemon's replies, devices as JSON
 *   dtype.c       sample formats: names, sizes, the name on the wire
 *   errors.c      the per-thread last error
 *   defaults.c    per-client defaults and the stream options they fill in
 *   connection.c  the request/reply exchange, descriptors, events
 *   query.c       device selectors and the device, host-API and settings queries
 *   status.c      a stream's status as the daemon reports it
 *   shm-stream.c  an sdc_stream's shared memory: mapping it, moving frames
 *   ring-direct.c direct access to the rings (begin/commit write and read)
 *   stream-api.c  the stream classes (sdc_stream_open() …) and sdc_stream_close()
 *   oneshot.c     play, rec and playrec with their transfer threads, wait, stop
 *   client.c      connecting and closing a client
 *
 * A private function that is not static is named sdc__<module>_<what>, the
 * module being its file (conn for connection.c, stream for shm-stream.c);
 * the double underscore keeps it apart from the exported sdc_ names, and
 * -fvisibility=hidden keeps it out of the library's exported symbols.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/un.h>

#include <json-c/json.h>

#include "linebuf.h"
#include "sdc.h"
#include "shm.h"

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
	sdc_devices_changed_fn devices_fn;
	void *devices_userdata;
	unsigned generation;	     /* of the device list, as the latest reply or event said */
	unsigned request_generation; /* sent with every request; 0: none */
	/*
	 * Once the connection is found closed, lost holds the negative errno
	 * that every later request returns, with lost_reason (written before
	 * lost is set, never after).  shutdown_seen: the daemon said it was
	 * stopping, so the loss is no surprise.
	 */
	_Atomic int lost;
	int shutdown_seen;
	char lost_reason[64];

	sdc_defaults defaults;
	char *default_query[2]; /* owned copies of the default devices' query strings */

	pthread_mutex_t xfer_lock; /* guards transfers and last_handle */
	struct transfer *transfers;
	unsigned last_handle;
};

/* One direction of a stream: its ring in shared memory and our side of it. */
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
	uint32_t period_in, period_out; /* frames the device stream moves at once; 0: not known */
	uint64_t dropped_in; /* captured frames the library dropped (an input buffer overflowed) */
	int device_in, device_out;
	struct sdc_dir out, in;
};

/* ---- json-util.c ---------------------------------------------------------- */

/* Reads an integer / double / string member, with a default when absent or mistyped. */
int sdc__json_int(json_object *obj, const char *name, int def);
double sdc__json_double(json_object *obj, const char *name, double def);
const char *sdc__json_str(json_object *obj, const char *name);

/* Returns a device's JSON form (id or query), or NULL for the default. */
json_object *sdc__json_device(sdc_device device);

/* Adds a device parameter (id, query or nothing for the default) to params. */
void sdc__json_add_device(json_object *params, const char *name, sdc_device device);

/* Fills info from the daemon's device object; returns 0 or -ENOMEM (info is then zeroed). */
int sdc__json_device_info(json_object *o, sdc_device_info *info);

/* ---- dtype.c -------------------------------------------------------------- */

/* Returns the wire name of dtype: float64 travels as float32. */
const char *sdc__dtype_wire_name(sdc_dtype dtype);

/* ---- errors.c ------------------------------------------------------------- */

/* Sets this thread's last error to a library-side error and returns errnum. */
__attribute__((format(printf, 2, 3))) int sdc__error_set(int errnum, const char *fmt, ...);

/* Sets this thread's last error from the daemon's error object; returns its negative errno. */
int sdc__error_from_reply(json_object *e);

/*
 * Sets this thread's last error from a failed stream's status (its
 * error_code and error); returns the code's negative errno (-EIO when the
 * status names none).
 */
int sdc__error_from_status(const sdc_status *st);

/* ---- defaults.c ----------------------------------------------------------- */

/* Resets the defaults, freeing the default devices' query strings. */
void sdc__defaults_reset(sdc_client *c);

/* Resolves a dtype against the client's default for the direction (0 in, 1 out). */
sdc_dtype sdc__defaults_dtype(const sdc_client *c, sdc_dtype dtype, int which);

/* Adds the options every stream command takes to params, defaults resolved. */
void sdc__defaults_options_json(sdc_client *c, json_object *params, const sdc_stream_options *o,
				int input, int output);

/* ---- connection.c --------------------------------------------------------- */

/*
 * Connects c to the daemon at socket_path (NULL: the usual places) and
 * greets it.  On failure what was opened is left for sdc__conn_close().
 */
int sdc__conn_open(sdc_client *c, const char *socket_path);

/*
 * Sends cmd with params (owned; NULL for none) and waits for its reply.  On
 * success stores the result (owned by the caller; may be NULL when
 * ret_result is NULL) and, when ret_fds is not NULL, up to max_fds
 * descriptors that came with the reply ("fds" in the result says how many).
 * On failure fills the thread's last error and returns a negative errno.
 */
int sdc__conn_request(sdc_client *c, const char *cmd, json_object *params,
		      json_object **ret_result, int *ret_fds, int max_fds, int *ret_nfds);

/*
 * Returns why the connection to the daemon is gone ("sddaemon stopped",
 * "sddaemon went away"), or NULL while it is there.  Any thread, without
 * the lock: it looks at the socket, it does not read it.
 */
const char *sdc__conn_lost(sdc_client *c);

/* Shuts the socket down both ways, so that the daemon ends the client's streams. */
void sdc__conn_hangup(sdc_client *c);

/* Closes the socket and whatever came with it and was never claimed. */
void sdc__conn_close(sdc_client *c);

/* ---- status.c ------------------------------------------------------------- */

/* Sends cmd for handle (0: the latest) and parses the status it returns (ret may be NULL). */
int sdc__status_request(sdc_client *c, const char *cmd, unsigned handle, sdc_status *ret);

/* ---- shm-stream.c --------------------------------------------------------- */

/*
 * Sends a stream-creating command and maps the stream it returns.  user_out
 * and user_in are the caller's dtypes (float64 is converted).
 */
int sdc__stream_open(sdc_client *c, const char *cmd, json_object *params, sdc_dtype user_out,
		     sdc_dtype user_in, sdc_stream **ret);

/* Unmaps and frees s and closes its descriptors (NULL is allowed). */
void sdc__stream_free(sdc_stream *s);

/*
 * A stream the daemon failed (device_lost, …): asks the daemon why and
 * makes that this thread's last error.  Returns its negative errno
 * (device_lost is -ENODEV), or 0 when the stream has not failed.
 */
int sdc__stream_failure(sdc_stream *s);

/* Returns the stream's state (SHM_STATE_…) as the daemon published it. */
int sdc__stream_state(const sdc_stream *s);

/*
 * Sleeps until the daemon writes the stream's eventfd, the daemon goes away
 * or timeout_ms passes.  Returns 0, or -ECONNRESET when the daemon is gone.
 */
int sdc__stream_sleep(sdc_stream *s, int timeout_ms);

/* Bytes one frame of the caller's takes in direction d. */
size_t sdc__stream_frame_bytes(const struct sdc_dir *d);

/*
 * Writes n frames of the caller's into the playback ring and publishes
 * them; reads n frames from the capture ring and releases them.  The room
 * or the frames must be there.
 */
void sdc__stream_push(struct sdc_dir *d, const unsigned char *src, uint32_t n);
void sdc__stream_pull(struct sdc_dir *d, unsigned char *dst, uint32_t n);

/* Returns the capacity of a stream's playback ring in frames (0 without one). */
uint32_t sdc__stream_out_capacity(const sdc_stream *s);

/* ---- oneshot.c ------------------------------------------------------------ */

/* Joins and frees every transfer thread, closing its stream (at sdc_close()). */
void sdc__oneshot_shutdown(sdc_client *c);
