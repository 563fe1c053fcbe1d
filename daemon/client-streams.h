/*
 * The streams clients hold, on the command layer's side of the engine:
 * which client owns each stream (and which user, once a detached
 * playback's client has gone), the requests waiting for its end, each
 * client's accounting (its streams, their shared memory, its latest
 * handle) and the number of detached playbacks.  It also implements the
 * engine's callbacks, turning stream ends and xruns into replies and
 * events.  Loop thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "engine.h"
#include "list.h"
#include "proto.h"

struct client;
struct daemon;
struct stream;
struct user_account;

/* The most playbacks that may continue after their clients left. */
#define CLIENT_STREAMS_MAX_DETACHED 64

/* Descriptors that come with the reply of a new stream (its memfd and eventfd). */
#define STREAM_REPLY_FDS 2

/* Finished records a client keeps for get_status/wait before the oldest goes. */
#define CLIENT_STREAMS_KEEP_FINISHED 16

/* The command layer's record of a stream (the stream's owner pointer). */
struct client_stream {
	struct stream *stream;
	struct client *client; /* NULL once the client has gone (a detached playback) */
	struct list link;      /* in the client's streams, or the daemon's orphans */
	uint32_t owner_uid;    /* who may control it once its client has gone */
	struct user_account *user; /* owner_uid's account, which counts it */
	bool running;	       /* counted in the user's running streams */
	bool detached;	       /* plays on without its client (counted in d->detached_count) */
	json_object *waiters;  /* array of {"client": serial, "id": …} waiting for the end */
};

/* The engine's callbacks, for the daemon d. */
struct engine_callbacks client_streams_callbacks(struct daemon *d);

/* Returns how many of c's streams are running (not over). */
unsigned client_streams_running(struct client *c);

/*
 * Checks the limits a new stream of c must keep: streams at once (a reply
 * with descriptors that c has not read yet counts as one) of the client
 * and of its user, shared memory (shm_bytes more: the client's, its
 * user's and all clients' together) and, for a detached playback, the
 * detached playbacks.  Returns 0, or -EINVAL with err set.
 */
int client_streams_check(struct client *c, size_t shm_bytes, bool detach,
			 struct proto_error *err);

/*
 * Makes c the owner of s, which it has just started (detach: it plays on
 * once c has gone); latest: it becomes c's latest play/rec/playrec.
 * Returns 0 or -ENOMEM (s is then c's to release).
 */
int client_streams_add(struct client *c, struct stream *s, bool detach, bool latest);

/*
 * Finds the stream c may address by handle (0: c's latest play, rec or
 * playrec).  A client's own streams and the detached playbacks its user
 * started are found; anything else is reported as no such stream.
 * Returns NULL with err set.
 */
struct client_stream *client_streams_find(struct client *c, int64_t handle,
					  struct proto_error *err);

/* Makes request id of c wait for the end of cs (the reply is sent then). */
void client_streams_wait(struct client *c, struct client_stream *cs, json_object *id);

/* Ends cs now; returns its final status. */
json_object *client_streams_stop(struct client *c, struct client_stream *cs);

/* c lets go of cs (close): it ends if it runs, and its record goes. */
void client_streams_close(struct client *c, struct client_stream *cs);

/* Ends c's latest play, rec or playrec, as a new one does in sounddevice. */
void client_streams_stop_previous(struct client *c);

/* Lets go of c's oldest finished records beyond CLIENT_STREAMS_KEEP_FINISHED. */
void client_streams_trim(struct client *c);

/* Returns the status of every running stream c may control (daemon_status's my_streams). */
json_object *client_streams_status(struct client *c);

/*
 * Returns every client with its streams, and the detached playbacks whose
 * clients have gone (as a client of id 0), for daemon_status's client_list:
 * id, pid, uid, program, and per stream its handle, kind, device(s), rate,
 * channels, state, xruns, ring fill and whether it is detached.
 */
json_object *client_streams_list(struct daemon *d);

/* Ends c's streams, or lets its detached playbacks play on; c is going away. */
void client_streams_client_gone(struct client *c);
