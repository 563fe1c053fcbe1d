/*
 * What the engine's unit tests share (test-engine.c, test-shared.c): the
 * fake devices, an engine on the fake backend whose callbacks record what
 * they report, and the client's part of a stream — making it as the
 * command layer would, writing its playback ring, reading its capture
 * ring.  Test thread only.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "devices.h"
#include "devstream.h"
#include "engine.h"
#include "fake-backend.h"
#include "proto.h"
#include "stream.h"
#include "tap.h"

enum { DEV_OUT, DEV_IN, DEV_BOTH, DEV_CD, DEV_FIXED, DEV_LOOP, DEV_COUNT_ };

extern const struct fake_device devices[DEV_COUNT_];

/* Periods from DEV_LOOP's output to its input. */
#define LOOP_PERIODS 3

#define RATE 48000
#define PERIOD FAKE_DEFAULT_BLOCKSIZE

struct finished {
	uint32_t handle;
	int state;
	char code[32];
};

struct xrun {
	uint32_t handle;
	bool input;
	uint64_t position;
	uint32_t flags;
};

/* The engine under test and what its callbacks reported. */
struct harness {
	uv_loop_t loop;
	struct fake_backend *fb;
	struct devices devs;
	struct engine e;
	double idle_time;
	double default_rate; /* the engine's default_samplerate (48000 after setup()) */
	int max_resamplers;  /* the engine's max_resamplers (ENGINE_MAX_RESAMPLERS after setup()) */
	struct finished finished[64];
	int nfinished;
	struct xrun xruns[256];
	int nxruns;
	uint32_t unreported;
	struct engine_device_event lost;
	char lost_reason[160];
	int nlost;
	uint32_t release_on_finish; /* a stream its owner lets go of as it ends */
};

extern struct harness T;

/* Makes a fresh engine on a fresh fake backend. */
void setup(void);

/*
 * The same on a threaded fake (its stream calls run on worker threads),
 * with these start and close timeouts (ms; 0: the engine's defaults).
 */
void setup_threaded(unsigned start_timeout_ms, unsigned close_timeout_ms);

/*
 * Runs the loop until cond() holds (true) or timeout_ms passed (false):
 * for what worker threads and the engine's timers do in their own time.
 */
bool run_until(bool (*cond)(void), int timeout_ms);

/* Lets the loop handle what the audio callbacks posted (and 0 ms timers). */
void pump(void);

/* Ends the engine; returns uv_loop_close()'s result (0: every handle closed). */
int harness_teardown(void);

/* Ends the engine and checks that all its handles closed. */
static inline void teardown(void)
{
	CHECK(harness_teardown() == 0, "every handle of the engine closed");
}

/* What a test stream asks for. */
struct spec {
	int kind; /* STREAM_PLAY, STREAM_REC or STREAM_PLAYREC (one device, both directions) */
	int device;
	int channels;
	int dtype;
	const int *map;
	int nmap;
	int64_t frames;	       /* declared length; 0: open-ended */
	int64_t buffer_frames; /* 0: the whole sound, or a second */
	bool exclusive, clip_off;
	double rate; /* Hz; 0: the device stream's */
};

/* Makes and starts a stream as the command layer would; NULL (reported) on failure. */
struct stream *start(const struct spec *sp, struct proto_error *err);
struct stream *start_ok(const struct spec *sp);

/* The client's part: writes n frames into the playback ring. */
void put(struct stream *s, const void *frames, uint32_t n);

/* The client's part: reads up to max frames from the capture ring; returns how many. */
uint32_t take(struct stream *s, void *buf, uint32_t max);

/* What stream_finished reported for handle, or NULL. */
const struct finished *finished_of(uint32_t handle);

/* The float32 stereo tap of device stream fs, from frame from on; *ret_frames after it. */
const float *tap_from(struct fake_stream *fs, size_t from, size_t *ret_frames);
