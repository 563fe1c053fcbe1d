/*
 * The audio engine: device streams and the client streams attached to
 * them, their life cycle and the notifications that come back from the
 * audio threads.  Loop thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "list.h"
#include "proto.h"

struct client;
struct daemon;
struct devstream;
struct stream;

struct engine {
	struct daemon *daemon;
	struct list devstreams; /* struct devstream */
	struct list streams;	/* struct stream, including finished records */
	uint32_t next_handle;
	unsigned active_count;	 /* streams not yet finished */
	unsigned detached_count; /* playbacks whose client has gone */
	uv_timer_t drain_timer;
	uv_timer_t xrun_timer; /* sends the queued xruns in batches */
};

/* Xruns are reported at most this often (milliseconds), this many an event. */
#define ENGINE_XRUN_BATCH_MS 100
#define ENGINE_XRUNS_PER_EVENT 32

/* The most playbacks that may continue after their clients left. */
#define ENGINE_MAX_DETACHED 64

/* Where and how one direction of a client stream plays or records. */
struct engine_dir_req {
	int device;	/* resolved device index */
	double latency; /* seconds (suggested) */
};

struct engine_req {
	struct engine_dir_req in, out;
	double samplerate;	 /* Hz; 0: the running stream's or the device's default */
	unsigned long blocksize; /* frames; 0: as PortAudio likes */
	bool exclusive;
	unsigned flags; /* exclusive streams: BACKEND_CLIP_OFF, BACKEND_DITHER_OFF, … */
};

int engine_init(struct engine *e, struct daemon *d);

/* Ends every stream and closes every device stream. */
void engine_fini(struct engine *e);

/* Allocates a stream record with a fresh handle, owned by client. */
struct stream *engine_stream_new(struct engine *e, struct client *client, int kind);

/*
 * Finds or opens the device streams for s (whose directions, routes and
 * rings are described), creates its shared memory and attaches it.
 * Returns 0 or -EINVAL with err set; on failure the caller releases s.
 */
int engine_stream_start(struct engine *e, struct stream *s, const struct engine_req *req,
			struct proto_error *err);

/* Ends a stream now (state FINISHED, or FAILED with an error). */
void engine_stream_finish(struct engine *e, struct stream *s, int state, const char *code,
			  const char *message);

/*
 * Starts a stream that waits for an explicit start: playback begins once
 * start_frames are buffered (or the end is marked), capture at once.
 * An exclusive stream's device stream starts now.  Returns 0, or -EINVAL
 * with err set (already started, or the device failed to start).
 */
int engine_stream_run(struct engine *e, struct stream *s, uint32_t start_frames,
		      struct proto_error *err);

/* Says the owner no longer needs the record; it is freed once the audio threads let go. */
void engine_stream_release(struct engine *e, struct stream *s);

/* Drops one audio-thread reference (device streams call this). */
void engine_stream_unref(struct engine *e, struct stream *s);

/* Ends or detaches the streams of a client that is going away. */
void engine_client_gone(struct engine *e, struct client *c);

/* Called when a device stream's audio thread posted notifications. */
void engine_devstream_notify(struct engine *e, struct devstream *ds);

/* Called when a shared device stream has been idle for the configured time. */
void engine_devstream_idle(struct engine *e, struct devstream *ds);

/*
 * Returns true when every running device stream's callback has run since
 * the previous call (the watchdog's "audio thread alive" check).
 */
bool engine_audio_healthy(struct engine *e);

/* Returns the number of open device streams. */
unsigned engine_devstream_count(const struct engine *e);
