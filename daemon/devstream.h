/*
 * A device stream: one PortAudio stream the daemon owns.  Shared device
 * streams (one per device, direction and rate) run in float32 and carry
 * many client streams — playback is mixed, capture fanned out; an
 * exclusive device stream carries one client stream with exactly its own
 * parameters and format (bit-exact).
 *
 * Client streams are attached and detached without locks: the loop thread
 * publishes a new attach list (release) and the audio thread picks it up at
 * its next period and acknowledges its generation; an old list, and any
 * stream only it referenced, is freed once acknowledged (or once the
 * PortAudio stream is stopped).
 *
 * Threads: devstream_callback functions run on PortAudio's audio thread;
 * everything else on the loop thread.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "list.h"
#include "proto.h"

struct backend;
struct backend_stream;
struct engine;
struct stream;
struct stream_dir;

enum devstream_mode {
	DEVSTREAM_SHARED_OUT,
	DEVSTREAM_SHARED_IN,
	DEVSTREAM_EXCLUSIVE,
};

/* What the audio thread iterates over: immutable once published. */
struct attach_list {
	uint32_t generation;
	uint32_t count;
	bool clip; /* clamp the mix to ±1 (unless every attached stream asked clip_off) */
	struct stream_dir *dirs[];
};

/* How to open a device stream. */
struct devstream_config {
	enum devstream_mode mode;
	int device_in;	    /* -1: no input */
	int device_out;	    /* -1: no output */
	int channels_in;
	int channels_out;
	int format_in;	    /* enum sample_format; shared streams use float32 */
	int format_out;
	double samplerate;
	unsigned long blocksize; /* 0: as PortAudio likes */
	double latency_in;  /* seconds (suggested) */
	double latency_out; /* seconds (suggested) */
	unsigned flags; /* BACKEND_CLIP_OFF, … (exclusive streams) */
};

struct devstream {
	struct engine *engine;
	struct list link;
	struct devstream_config cfg;
	struct backend *backend;
	struct backend_stream *bs;
	bool started;
	double actual_latency_in;  /* seconds, as the backend reports it */
	double actual_latency_out; /* seconds */
	double actual_rate;

	/* Loop thread. */
	uint32_t generation;
	struct list retiring; /* struct retiree: old lists waiting for the audio thread */
	int notify_fd;
	uv_poll_t notify_poll;
	uv_timer_t idle_timer;
	int pending_closes; /* libuv handles still closing */
	bool closing;
	uint64_t last_callbacks; /* for the watchdog; UINT64_MAX until first checked */

	/* Shared with the audio thread. */
	_Atomic(struct attach_list *) list;
	_Atomic uint32_t seen_generation;
	_Atomic uint64_t callbacks;
	_Atomic uint32_t device_xruns;
	_Atomic int finished; /* the backend stream became inactive */

	/* Audio thread only. */
	uint32_t rt_seen;
};

/*
 * Opens a PortAudio stream (not started yet, so that an exclusive stream's
 * client can be attached before the first period).  Returns 0 or -EINVAL
 * with err set.
 */
int devstream_open(struct engine *e, const struct devstream_config *cfg, struct devstream **ret,
		   struct proto_error *err);

/* Starts it; on failure the caller closes it.  Returns 0 or -EINVAL with err set. */
int devstream_start(struct devstream *ds, struct proto_error *err);

/* Stops the PortAudio stream, releases every attachment and frees ds (later, in libuv's close callbacks). */
void devstream_close(struct devstream *ds);

/* Attaches a client stream's direction; its stream holds one more audio-thread reference. */
int devstream_attach(struct devstream *ds, struct stream_dir *d);

/* Detaches; the stream's reference is dropped once the audio thread has let go. */
int devstream_detach(struct devstream *ds, struct stream_dir *d);

/* Starts the idle timer when nothing is attached (shared streams only). */
void devstream_arm_idle(struct devstream *ds, double seconds);

/* Returns how many client directions are attached. */
uint32_t devstream_attached(const struct devstream *ds);

/* Returns the stream's current time in seconds (PortAudio's clock). */
double devstream_time(const struct devstream *ds);

#ifdef SDD_TEST_HOOKS
/*
 * Test builds only: while nonzero, every audio callback spins without
 * returning, as a stuck audio thread would (the watchdog test sets it).
 */
extern _Atomic int devstream_test_stall;
#endif

/* Returns PortAudio's estimate of the callback's load (fraction of the period). */
double devstream_cpu_load(const struct devstream *ds);
