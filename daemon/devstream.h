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
 * Threads: the backend's callbacks (devstream-rt.c) run on the backend's
 * audio thread; everything in devstream.c on the loop thread.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "backend.h"
#include "list.h"
#include "proto.h"

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
};

struct devstream {
	struct devstream_config cfg;
	struct backend_stream *bs;
	bool started;
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
	bool quiet;		  /* found quiet, and not called back since */

	struct list link; /* the owner's (the engine's list) */
};

/*
 * Opens a backend stream (not started yet, so that an exclusive stream's
 * client can be attached before the first period).  Returns 0 or -EINVAL
 * with err set.
 */
int devstream_open(const struct devstream_config *cfg, struct devstream **ret,
		   struct proto_error *err);

/* Starts it; on failure the caller closes it.  Returns 0 or -EINVAL with err set. */
int devstream_start(struct devstream *ds, struct proto_error *err);

/*
 * Aborts and closes the backend stream, releases every attachment and
 * frees ds (later, in libuv's close callbacks).
 */
void devstream_close(struct devstream *ds);

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
 * Returns 1 when the backend stopped calling back since the previous call
 * (nobody inside, no callback came: the device went quiet), once until
 * callbacks come again; -1 when they come again after that; 0 otherwise.
 */
int devstream_check_quiet(struct devstream *ds);

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
