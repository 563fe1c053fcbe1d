/*
 * The audio engine: device streams and the client streams attached to
 * them, their life cycle, and the notifications that come back from the
 * audio threads.  The engine knows nothing of clients or connections: it
 * gets its loop, backend, devices and options through its configuration,
 * and reports what happens to streams and devices through the callbacks
 * of struct engine_callbacks, which the command layer implements (and the
 * unit tests, on a fake backend).  Loop thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "list.h"
#include "proto.h"
#include "streamparams.h"

struct backend;
struct devices;
struct devstream;
struct stream;
struct stream_xrun;

/* At most this many xruns go in one stream_xruns() report. */
#define ENGINE_XRUNS_PER_REPORT 32

/* A device stream that was lost. */
struct engine_device_event {
	int device;	    /* the device's index */
	const char *mode;   /* "shared output", "shared input", "shared duplex" or "exclusive" */
	unsigned streams;   /* client streams attached to it */
	const char *reason; /* what happened, as a sentence's end ("it stopped calling back for 0.4 s") */
};

/*
 * What the engine reports.  Every callback runs on the loop thread, from
 * inside an engine function or a libuv callback of the engine's; none may
 * close a device stream, but stream_finished may release its stream.
 */
struct engine_callbacks {
	/*
	 * s ended: its state is FINISHED or FAILED (with error_code and error
	 * set), its xruns are all reported and it is detached from its device
	 * streams.  s may be released here (engine_stream_release()); it must
	 * not be used by the engine's caller afterwards.
	 */
	void (*stream_finished)(void *data, struct stream *s);
	/*
	 * Xruns of one direction of s (input when input is set), oldest first,
	 * each with its flags and position; unreported counts xruns that
	 * overflowed the queue and have no position.
	 */
	void (*stream_xruns)(void *data, struct stream *s, bool input, const struct stream_xrun *xruns,
			     unsigned count, uint32_t unreported);
	/*
	 * A device stream was lost: it ended by itself (the device went away,
	 * or the backend failed), its callbacks stopped arriving for the loss
	 * time (engine_options.loss_ms), or its start did not return in time.
	 * Its streams fail right after, with error code "device_lost", and it
	 * closes.
	 */
	void (*device_lost)(void *data, const struct engine_device_event *ev);
	void *data;
};

struct engine_options {
	/* Seconds an unused shared device stream stays open; read at each use, so reloads apply. */
	const double *device_idle_time;
	/*
	 * Hz a shared device stream opens at where the device takes it (0: the
	 * device's default rate); read at each open.  NULL: ENGINE_DEFAULT_SAMPLERATE.
	 */
	const double *default_samplerate;
	/* speexdsp's resampling quality (0–10) for new rate groups; NULL: the default (7). */
	const int *resample_quality;
	/*
	 * The most rate groups (resamplers) one shared device stream runs, read
	 * at each attach; NULL: ENGINE_MAX_RESAMPLERS.  Each costs the audio
	 * callback a resampler's time, so a client cannot make the device's
	 * callback too slow for everyone by asking for ever more rates.
	 */
	const int *max_resamplers;
	/* Milliseconds between xrun reports (0: reported at the next loop turn). */
	unsigned xrun_batch_ms;
	/* Milliseconds between checks for quiet device streams (0: only engine_watch()). */
	unsigned watch_ms;
	/*
	 * Milliseconds a running device stream may go without a callback before
	 * it is taken for lost: at least ENGINE_LOSS_PERIODS of its periods (0:
	 * lost at the first check that finds no callback since the previous).
	 */
	unsigned loss_ms;
	/*
	 * Seconds a start on a worker thread may take before its device stream
	 * is taken for lost, read at each check so that reloads apply (threaded
	 * backends; NULL: ENGINE_START_TIMEOUT_MS).
	 */
	const double *start_timeout;
	/* Milliseconds a close may take before it is abandoned (0: ENGINE_CLOSE_TIMEOUT_MS). */
	unsigned close_timeout_ms;
};

struct engine_config {
	uv_loop_t *loop;
	struct backend *backend;
	struct devices *devices;
	struct engine_options opt;
	struct engine_callbacks cb;
};

/* A shared stream's rate is at most this many times its device stream's (resampling's cost grows with it). */
#define ENGINE_MAX_DOWNSAMPLING 8u

/* The daemon's defaults for the options above. */
#define ENGINE_DEFAULT_SAMPLERATE 48000.0
/* The most rate groups one shared device stream runs, when the options say nothing. */
#define ENGINE_MAX_RESAMPLERS 16
#define ENGINE_XRUN_BATCH_MS 100
#define ENGINE_WATCH_MS 50
/*
 * A device that stops calling back is lost after ENGINE_LOSS_PERIODS of its
 * periods, but never before ENGINE_LOSS_MS: an audio thread of ours that
 * the scheduler keeps waiting (a loaded machine, valgrind) must not pass
 * for a lost device, and a lost one is still reported well within a second.
 */
#define ENGINE_LOSS_MS 400
#define ENGINE_LOSS_PERIODS 4
/*
 * A start waits its turn behind other device streams' calls, and alsa-lib's
 * plugins may allocate and clear large buffers in it: a few seconds on a
 * loaded machine are no loss.
 */
#define ENGINE_START_TIMEOUT_MS 5000
/* Below the 2 s in which SIGTERM must end the daemon, whatever the devices do. */
#define ENGINE_CLOSE_TIMEOUT_MS 1000
/* How often waits for worker threads are checked (and blocked backend calls woken). */
#define ENGINE_CALL_TICK_MS 20
/* How long a new device stream waits for the close of another on its device to return. */
#define ENGINE_REOPEN_WAIT_MS 500

struct engine {
	struct engine_config cfg;
	struct list devstreams; /* struct devstream, by link */
	/*
	 * Device streams whose backend streams a worker thread closes, and
	 * those abandoned because the close did not return in time.
	 */
	struct list closing;
	struct list streams;	/* struct stream, including finished records */
	uint32_t next_handle;
	unsigned active_count; /* streams not yet finished */
	uv_timer_t drain_timer;
	uv_timer_t xrun_timer; /* sends the queued xruns in batches */
	uv_timer_t watch_timer; /* looks for device streams that went quiet */
	/* Threaded backends: the calls of worker threads, and how long they take. */
	uv_poll_t worker_poll;
	uv_timer_t call_timer;
	bool worker_polling;
	bool stopping; /* engine_fini() ran: the handles close once no close is awaited */
};

/* Where and how one direction of a client stream plays or records. */
struct engine_dir_req {
	int device; /* resolved device index */
	struct proto_latency latency;
};

struct engine_req {
	struct engine_dir_req in, out;
	double samplerate;	 /* Hz (any, for shared streams: resampled); 0: the device stream's */
	unsigned long blocksize; /* frames; 0: as the backend likes */
	bool exclusive;
	unsigned flags; /* exclusive streams: BACKEND_CLIP_OFF, BACKEND_DITHER_OFF, … */
};

int engine_init(struct engine *e, const struct engine_config *cfg);

/*
 * Ends every stream (each reported finished) and closes every device
 * stream.  Closes that run on worker threads are awaited (the loop keeps
 * running) for at most the close timeout; those that do not return are
 * abandoned for good (devstream_orphan()).
 */
void engine_fini(struct engine *e);

/* Allocates a stream record of kind (enum stream_kind) with a fresh handle. */
struct stream *engine_stream_new(struct engine *e, int kind);

/*
 * Finds or opens the device streams for s (whose directions, routes and
 * rings are described), creates its shared memory and attaches it.  A
 * shared stream takes any rate: a new shared device stream opens at the
 * configured default_samplerate (or the device's default rate), and
 * streams at another rate are resampled.  A shared playrec on one device
 * goes on a duplex device stream, sample-aligned (s->aligned,
 * s->offset_frames).  Returns 0 or -EINVAL with err set; on failure the
 * caller releases s.
 */
int engine_stream_start(struct engine *e, struct stream *s, const struct engine_req *req,
			struct proto_error *err);

/*
 * Ends a stream now (state FINISHED, or FAILED with an error code and
 * message), and reports it through stream_finished.  Nothing when it has
 * ended already.
 */
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

/*
 * Says the owner no longer needs the record; a stream still running is
 * ended first (and reported).  It is freed once the audio threads let go.
 */
void engine_stream_release(struct engine *e, struct stream *s);

/* Returns the stream with handle, finished or not, or NULL. */
struct stream *engine_stream_find(struct engine *e, uint32_t handle);

/* Returns the stream after prev (the first when prev is NULL) in creation order, or NULL. */
struct stream *engine_stream_next(struct engine *e, struct stream *prev);

/* Returns the device stream after prev (the first when prev is NULL), or NULL. */
struct devstream *engine_devstream_next(struct engine *e, struct devstream *prev);

/* Returns the number of open device streams. */
unsigned engine_devstream_count(const struct engine *e);

/*
 * Returns the number of backend streams not closed yet: the open device
 * streams, those being closed and those abandoned (which count as open
 * for good, also after engine_fini()).  The backend must not be stopped
 * or initialised again (PortAudio's Pa_Terminate) while this is nonzero.
 */
unsigned engine_backend_streams(const struct engine *e);

/* Returns the device streams whose backend streams are being closed, and of those the abandoned. */
unsigned engine_closing_count(const struct engine *e, unsigned *ret_abandoned);

/*
 * Returns false when our audio thread is stuck: a device stream's callback
 * entered and has not returned since the previous call (the watchdog's
 * "audio thread alive" check; a device that stopped calling is no reason).
 */
bool engine_audio_healthy(struct engine *e);

/*
 * Looks for running device streams whose callbacks stopped arriving for
 * the loss time, and ends each as lost (device_lost); the watch timer
 * calls it every watch_ms.
 */
void engine_watch(struct engine *e);

/*
 * Acts on the backend calls of worker threads that returned, gives up on
 * those that take too long, and wakes blocked ones (the worker descriptor
 * and the call timer run it; tests may call it).
 */
void engine_poll_calls(struct engine *e);
