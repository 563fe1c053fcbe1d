/*
 * A device backend for the engine's unit tests (see daemon/backend.h); the
 * daemon never links it.  Its devices and host APIs are what the test
 * describes.  Its streams run their process callback on the test's own
 * thread, period by period, when the test asks (fake_run()), on a clock
 * that advances one period per call: what a stream plays is kept in memory
 * (its tap), what it records comes from a buffer the test fills.  The test
 * can inject xrun flags at a given period, stall a stream (its callback is
 * no longer called) and lose a device (its streams finish by themselves
 * and it can no longer be opened).  A closed stream's tap stays readable
 * until the backend is freed.  Test thread only (but a test may run
 * fake_run() of one stream on a thread of its own, and a threaded fake's
 * stream calls run on the engine's worker threads, where a test can make
 * them block).
 *
 * Devices come and go as on a real system: a test adds and removes them,
 * and a probe (which waits until the test calls fake_probe_finish()) lists
 * what exists then, while the running backend knows only what existed at
 * its last init.  A device added since opens by name when by_name is set
 * (as an ALSA PCM does), else only after the next init; a lost device that
 * came back (a restarted JACK server) likewise needs an init.  The fake's
 * device indices are its own (in the order devices were first added) and
 * bind() maps the daemon's to them by uid; while no device has been added
 * or removed, the two numberings are the same.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"

struct fake_backend;
struct fake_stream;

/*
 * A fake device: both directions at one default rate (and at 44.1 and
 * 48 kHz unless fixed_rate is set); blocksize 0 means 256 frames.
 */
struct fake_device {
	const char *name;
	int max_input_channels;
	int max_output_channels;
	double default_samplerate;
	bool fixed_rate; /* only its default rate, as a JACK server's devices */
	const char *uid; /* NULL: "fake:" and the name */
	bool by_name;	 /* opens by name when the running backend does not list it */
};

/* The frames of a period when the stream was opened with blocksize 0. */
#define FAKE_DEFAULT_BLOCKSIZE 256

/* Makes a backend with count devices on one host API ("Fake"); NULL when out of memory. */
struct fake_backend *fake_backend_new(const struct fake_device *devices, int count);
void fake_backend_free(struct fake_backend *fb);

/* The backend interface of fb. */
struct backend *fake_backend_get(struct fake_backend *fb);

/* Streams opened and closed so far. */
unsigned fake_opened(const struct fake_backend *fb);
unsigned fake_closed(const struct fake_backend *fb);
/* Format checks made through the backend interface so far (not opens). */
unsigned fake_checked(const struct fake_backend *fb);

/*
 * Returns the open stream that plays to device (output) or records from it
 * (input), the latest opened; NULL when none.
 */
struct fake_stream *fake_stream_on(struct fake_backend *fb, int device, bool output);

/* The parameters a stream was opened with. */
const struct backend_params *fake_params(const struct fake_stream *s);

/*
 * Runs up to n periods of s, each a call of its process callback; stops
 * early when the callback completes (its finished callback runs then).
 * Nothing runs while the stream is not started, stalled or lost.
 * Returns the periods run.
 */
int fake_run(struct fake_stream *s, int n);

/* Runs n periods of every running stream, one period of each in turn. */
void fake_run_all(struct fake_backend *fb, int n);

/* Periods run so far. */
uint64_t fake_periods(const struct fake_stream *s);

/*
 * The frames the stream played, in its format and channels, interleaved;
 * *ret_frames receives their number.
 */
const void *fake_tap(const struct fake_stream *s, size_t *ret_frames);

/*
 * Sets what device captures: frames frames of channels floats each
 * (copied); each stream records from its position on, converted to its
 * format, channel i from column i; silence after the end.
 */
void fake_set_capture(struct fake_backend *fb, int device, const float *samples, size_t frames,
		      int channels);

/*
 * Loops device's output back to its input, periods periods later: a
 * stream that plays and records on it records in period n what it played
 * in period n - periods (silence before), channel i from channel i.
 * Streams opened afterwards report that delay as their output latency
 * (their input latency is 0).  Set it before the streams open.
 */
void fake_loopback(struct fake_backend *fb, int device, int periods);

/* Makes the period with index period (counted from 0) of s carry status flags (SHM_*). */
void fake_inject(struct fake_stream *s, uint64_t period, uint32_t flags);

/* Stops (or resumes) calling back s: its device went quiet. */
void fake_stall(struct fake_stream *s, bool stalled);

/*
 * Loses device (the fake's index): every running stream on it ends by
 * itself (its finished callback runs), and opening it fails from now on.
 */
void fake_lose_device(struct fake_backend *fb, int device);

/* The stream calls a test can block. */
enum fake_call {
	FAKE_CALL_START,
	FAKE_CALL_STOP,
	FAKE_CALL_ABORT,
	FAKE_CALL_CLOSE,
	FAKE_CALL_COUNT_,
};

/*
 * Makes fb a backend whose stream calls may block (backend.threaded_calls:
 * the engine runs them on worker threads, and they take the fake's lock).
 * Set it before the engine starts.
 */
void fake_set_threaded(struct fake_backend *fb, bool threaded);

/*
 * While blocked, calls of that kind wait (on their worker thread) until
 * the test unblocks them, as calls into a dead server do.
 */
void fake_block(struct fake_backend *fb, enum fake_call call, bool blocked);

/* Waits up to timeout_ms until a call of that kind is blocked; returns whether one is. */
bool fake_wait_blocked(struct fake_backend *fb, enum fake_call call, int timeout_ms);

/* Whether s is started (its start returned, and no stop or close since). */
bool fake_started(struct fake_stream *s);

/*
 * Adds a device (or brings back one with the same uid that was removed);
 * returns the fake's index, or -ENOSPC.
 */
int fake_add_device(struct fake_backend *fb, const struct fake_device *d);

/* Removes a device: it is lost and no longer listed. */
void fake_remove_device(struct fake_backend *fb, int device);

/* Brings back a lost or removed device, which the running backend opens only after an init. */
void fake_restore_device(struct fake_backend *fb, int device);

/* Whether a probe waits for fake_probe_finish(), and how many were asked for. */
bool fake_probe_pending(const struct fake_backend *fb);
unsigned fake_probes(const struct fake_backend *fb);

/*
 * Ends the waiting probe: with status 0 it lists the devices that exist
 * now, else it fails with status.  Returns 0, or -ENOENT when none waits.
 */
int fake_probe_finish(struct fake_backend *fb, int status);

/* How many times the backend was initialised. */
unsigned fake_inits(const struct fake_backend *fb);

/* Calls the backend's notify function, as PortAudio's JACK note would. */
void fake_notify(struct fake_backend *fb);
