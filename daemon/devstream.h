/*
 * A device stream: one backend stream the daemon owns.  Shared device
 * streams run in float32 and carry many client streams — playback is
 * mixed, capture fanned out — of any rate: streams at the device stream's
 * rate are mixed (or fed) directly, the others through a rate group per
 * rate, resampled once for the group (rategroup.h).  A shared device
 * stream plays, records, or both (duplex: one backend stream for both
 * directions of one device, so that what a playrec records is aligned
 * with what it plays).  An exclusive device stream carries one client
 * stream with exactly its own parameters and format (bit-exact).
 *
 * Client streams are attached and detached without locks: the loop thread
 * publishes a new attach list (release) and the audio thread picks it up at
 * its next period and acknowledges its generation; an old list, and any
 * stream only it referenced, is freed once acknowledged (or once the
 * backend stream is stopped).
 *
 * A device stream knows neither the engine nor the daemon: it gets the
 * loop, the backend and the hooks it reports through in its configuration.
 *
 * A backend whose stream calls may block (backend.threaded_calls:
 * PortAudio's JACK host API waits for a server that may be dead) has its
 * start, abort and close run on worker threads (worker.h), one call at a
 * time per stream; the owner learns how they ended through
 * devstream_poll().  A close that does not return in time is abandoned
 * (devstream_abandon()): the stream then keeps everything the audio
 * thread could still touch — itself, its attach lists, rate groups and
 * the client streams in them (their memory and descriptors) — for good,
 * or until the call returns after all.
 *
 * Threads: the backend's callbacks (devstream-rt.c) run on the backend's
 * audio thread; the calls above on worker threads (devstream-calls.c);
 * everything else in devstream.c, devstream-attach.c and
 * devstream-calls.c on the loop thread.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "backend.h"
#include "list.h"
#include "proto.h"
#include "worker.h"

struct devstream;
struct rategroup;
struct stream;
struct stream_dir;

enum devstream_mode {
	DEVSTREAM_SHARED_OUT,
	DEVSTREAM_SHARED_IN,
	DEVSTREAM_SHARED_DUPLEX,
	DEVSTREAM_EXCLUSIVE,
};

/* The stream directions of one rate group in an attach list: dirs[first…first+count). */
struct attach_group {
	struct rategroup *group;
	uint32_t first, count;
};

/* One direction of an attach list: the stream directions at the device's rate, then each group's. */
struct attach_side {
	uint32_t count;	 /* stream directions in dirs */
	uint32_t direct; /* the first direct ones run at the device stream's rate */
	uint32_t ngroups;
	struct stream_dir **dirs;
	struct attach_group *groups;
};

/* What the audio thread iterates over: immutable once published (the groups' state is their own). */
struct attach_list {
	uint32_t generation;
	bool clip; /* clamp the mix to ±1 (unless every attached playback asked clip_off) */
	struct attach_side out, in;
	/* The sides' arrays follow in the same allocation. */
};

/* How a device stream reports to its owner (the engine).  Loop thread. */
struct devstream_hooks {
	/* The audio thread posted notifications, or the backend stream finished. */
	void (*notify)(void *data, struct devstream *ds);
	/* A shared device stream has had nothing attached for the idle time. */
	void (*idle)(void *data, struct devstream *ds);
	/* The audio thread let go of s: one of its references is dropped. */
	void (*release)(void *data, struct stream *s);
	void *data;
};

/* How to open a device stream, and where it lives. */
struct devstream_config {
	uv_loop_t *loop;
	struct backend *backend;
	struct devstream_hooks hooks;
	enum devstream_mode mode;
	int device_in;	    /* -1: no input */
	int device_out;	    /* -1: no output */
	int channels_in;
	int channels_out;
	int format_in;	    /* enum sample_format; shared streams use float32 */
	int format_out;
	double samplerate;
	unsigned long blocksize; /* 0: as the backend likes */
	double latency_in;  /* seconds (suggested) */
	double latency_out; /* seconds (suggested) */
	unsigned flags;	    /* BACKEND_CLIP_OFF, … (exclusive streams) */
	const int *resample_quality; /* speexdsp's, for new rate groups; NULL: the default */
	const int *max_resamplers;   /* the most rate groups at once; NULL: no bound */
	unsigned wait_ms;	     /* backend_params.wait_ms */
};

/* The backend call a device stream waits for (threaded backends). */
enum devstream_call {
	DEVSTREAM_CALL_NONE,
	DEVSTREAM_CALL_START,
	DEVSTREAM_CALL_CLOSE, /* abort (when started), then close */
};

/* What devstream_poll() found. */
enum devstream_news {
	DEVSTREAM_NO_NEWS,	/* the call still runs (or none does) */
	DEVSTREAM_STARTED,	/* the start returned: callbacks are due from now on */
	DEVSTREAM_START_FAILED, /* the start failed (err says why); close the stream */
	DEVSTREAM_CLOSED,	/* the backend stream is closed, ds out of its owner's list and freed */
};

struct devstream {
	struct devstream_config cfg;
	struct backend_stream *bs;
	bool started; /* asked to start: callbacks may come (until the close returns) */
	bool running; /* and the start returned: callbacks are due */
	double actual_latency_in;  /* seconds, as the backend reports it */
	double actual_latency_out; /* seconds */
	double actual_rate;	   /* Hz */
	uint32_t rate;		   /* Hz: actual_rate rounded, the rate of direct streams */

	/* Loop thread. */
	uint32_t generation;
	struct list groups; /* struct rategroup, by link: the live ones */
	struct list retiring; /* struct retiree: old lists waiting for the audio thread */
	int notify_fd;
	uv_poll_t notify_poll;
	uv_timer_t idle_timer;
	int pending_closes; /* libuv handles still closing */
	bool closing;

	/* Loop thread: the backend call on a worker thread (threaded backends). */
	struct worker_job job;
	enum devstream_call call;
	uint64_t call_since;	/* loop time (ms) when it began */
	uint64_t close_since;	/* loop time (ms) when the close was asked for */
	bool close_wanted;	/* close once the start returned */
	bool backend_closed;	/* the close returned: released once no callback is inside */
	bool abandoned;		/* the close did not return in time: nothing is freed */
	/* Written on the worker thread before the job is done, read after. */
	int start_status;
	struct backend_error start_error;

	/* Shared with the audio thread. */
	_Atomic(struct attach_list *) list;
	_Atomic uint32_t seen_generation;
	/*
	 * Callbacks that entered and that returned.  Equal and still: the
	 * backend stopped calling (the device went quiet).  One apart and
	 * still: our audio thread is stuck inside a callback.
	 */
	_Atomic uint64_t callbacks;
	_Atomic uint64_t returns;
	_Atomic uint32_t device_xruns;
	_Atomic int finished; /* the backend stream became inactive */
	_Atomic uint32_t max_frames; /* the most frames a callback moved: the device's period */

	/* Audio thread only. */
	uint32_t rt_seen;

	/* Loop thread: what the checks of the callbacks saw last. */
	uint64_t stuck_callbacks; /* callbacks at the previous stuck check; UINT64_MAX: none yet */
	bool stuck_inside;	  /* a callback was inside then */
	uint64_t quiet_callbacks; /* callbacks at the previous quiet check; UINT64_MAX: none yet */
	uint64_t quiet_since;	  /* loop time (ms) of the first check that saw them still; UINT64_MAX: none */

	struct list link; /* the owner's (the engine's lists); ds leaves it once closed */
};

/* The backend's parameters for a stream as cfg describes it. */
struct backend_params devstream_params(const struct devstream_config *cfg);

/*
 * Opens a backend stream (not started yet, so that an exclusive stream's
 * client can be attached before the first period).  Returns 0 or -EINVAL
 * with err set.
 */
int devstream_open(const struct devstream_config *cfg, struct devstream **ret,
		   struct proto_error *err);

/*
 * Starts it; on failure the caller closes it.  A threaded backend starts
 * it on a worker thread: 0 means the start runs, and devstream_poll()
 * tells how it ended.  Returns 0 or -EINVAL with err set.
 */
int devstream_start(struct devstream *ds, struct proto_error *err);

/*
 * Begins closing ds: the backend stream is aborted and closed, then every
 * attachment released and ds freed (later, in libuv's close callbacks).
 * Returns true when that is done (the backend's calls do not block), false
 * when a worker thread closes it: devstream_poll() says when it is
 * closed, and the caller may give up on it (devstream_abandon()).  now is
 * the loop's time (ms).
 */
bool devstream_close(struct devstream *ds, uint64_t now);

/*
 * Looks whether the backend call that ds waits for returned (after
 * worker_fd() woke the loop, or at any time), and acts on it: a close
 * that was asked for during a start begins once the start returned.  Fills
 * err for DEVSTREAM_START_FAILED.
 */
enum devstream_news devstream_poll(struct devstream *ds, uint64_t now, struct proto_error *err);

/* Returns whether ds waits for a backend call. */
bool devstream_call_pending(const struct devstream *ds);

/*
 * Returns whether the backend stream of a closing ds is closed (its close
 * call returned), whether or not devstream_poll() has seen it yet.
 */
bool devstream_close_returned(const struct devstream *ds);

/*
 * Gives up waiting for ds's close (logged): ds keeps everything the audio
 * thread could touch, its libuv handles close, and it is freed only if the
 * call returns after all (devstream_poll() then says DEVSTREAM_CLOSED).
 */
void devstream_abandon(struct devstream *ds);

/*
 * Hands an abandoned ds over for good, when its owner goes away: it is
 * never polled, released or freed any more, and counts among
 * devstream_orphans().
 */
void devstream_orphan(struct devstream *ds);

/* Returns how many device streams were handed over by devstream_orphan(). */
unsigned devstream_orphans(void);

/*
 * Attaches a client stream's playback (out), recording (in) or both (a
 * playrec on a duplex or exclusive device stream: in one attach list, so
 * that both start in the same period), at rate (Hz).  Directions at
 * another rate than the device stream's go through a rate group, made
 * here when none fits; own gives them groups of their own (an aligned
 * playrec's, which start with their stream).  Each direction's stream
 * holds one more audio-thread reference.  Returns 0, -ENOMEM, or -EINVAL
 * when the resampler refuses the rates.
 */
int devstream_attach(struct devstream *ds, struct stream_dir *out, struct stream_dir *in,
		     uint32_t rate, bool own);

/*
 * Detaches; the stream's reference is dropped, and a rate group left
 * without streams freed, once the audio thread has let go.
 */
int devstream_detach(struct devstream *ds, struct stream_dir *d);

/* Returns "shared output", "shared input", "shared duplex" or "exclusive". */
const char *devstream_mode_name(const struct devstream *ds);

/* Returns whether ds plays (output) or records (!output) for shared clients. */
bool devstream_serves(const struct devstream *ds, bool output);

/* Starts the idle timer when nothing is attached (shared streams only). */
void devstream_arm_idle(struct devstream *ds, double seconds);

/* Returns how many client streams are attached (a playrec's two directions count once). */
uint32_t devstream_attached(const struct devstream *ds);

/* Returns how many rate groups (resamplers, in either direction) ds runs. */
unsigned devstream_resamplers(const struct devstream *ds);

/*
 * Returns the client streams attached now, each once, in a new array the
 * caller frees (NULL with *ret_count 0 when none or out of memory).
 */
struct stream **devstream_streams(const struct devstream *ds, uint32_t *ret_count);

/*
 * Returns the frames that a recording on ds lags behind what plays on it
 * (frame k played is recorded as frame k + the result when the device's
 * output loops back to its input), at the device stream's rate: its
 * output and input latencies as the backend reports them.
 */
uint32_t devstream_loop_frames(const struct devstream *ds);

/* Returns the device the stream plays to (or records from, without output). */
int devstream_device(const struct devstream *ds);

/*
 * Returns true when our audio thread is stuck in this stream's callback:
 * the callback that was inside at the previous call is still inside.
 */
bool devstream_check_stuck(struct devstream *ds);

/*
 * Returns true when the backend has not called a running ds back since
 * the previous call (and none is inside: our own audio thread, slow or
 * stuck, is devstream_check_stuck()'s), with the milliseconds since the
 * first call that found it so in *ret_ms (now is the loop's time); false
 * while callbacks come and while ds does not run.
 */
bool devstream_quiet(struct devstream *ds, uint64_t now, uint64_t *ret_ms);

/* Returns the stream's current time in seconds (the backend's clock). */
double devstream_time(const struct devstream *ds);

/* Returns the backend's estimate of the callback's load (fraction of the period). */
double devstream_cpu_load(const struct devstream *ds);

/*
 * Returns the frames the stream moves at once, its period: the block size
 * it was opened with, else the most a callback has moved so far (0 before
 * the first callback).  Clients size what they keep queued by it.
 */
uint32_t devstream_period(const struct devstream *ds);

/* ---- Audio thread (devstream-rt.c) -------------------------------------- */

/*
 * The process callback of shared device streams: mixes playback, then
 * fans capture out (in that order, so that a playrec that starts playing
 * in a period records from the same period on).
 */
enum backend_result devstream_rt_shared(void *data, const void *input, void *output,
					unsigned long frames, const struct backend_times *times,
					uint32_t status);

/* The process callback of exclusive device streams: bit-exact copies. */
enum backend_result devstream_rt_exclusive(void *data, const void *input, void *output,
					   unsigned long frames,
					   const struct backend_times *times, uint32_t status);

/* The finished callback: marks the stream finished and wakes the loop thread. */
void devstream_rt_finished(void *data);

#ifdef SDD_TEST_HOOKS
/*
 * Test builds only: while nonzero, every audio callback spins without
 * returning, as a stuck audio thread would (the watchdog test sets it).
 */
extern _Atomic int devstream_test_stall;
#endif
