/*
 * What the files of the engine (engine.c, engine-attach.c,
 * engine-health.c) share among themselves; nothing else includes it.
 * Loop thread.
 */
#pragma once

#include <uv.h>

#include "engine.h"

struct devstream;
struct devstream_config;

/* ---- engine.c ------------------------------------------------------------ */

/*
 * Opens a device stream with the engine's loop, backend and hooks (once
 * the closes on its devices have returned) and lists it.  Returns 0 or
 * -EINVAL with err set.
 */
int engine_open_devstream(struct engine *e, struct devstream_config *cfg, struct devstream **ret,
			  struct proto_error *err);

/* Stops a timer and closes its handle, unless it is closing already. */
void engine_close_timer(uv_timer_t *timer);

/* ---- engine-health.c ----------------------------------------------------- */

/* Sets up the watch for quiet device streams and the wait for worker threads' calls. */
void engine_health_init(struct engine *e);

/* Stops the watch; the closes that run are awaited, then the last handles close. */
void engine_health_stop(struct engine *e);

/*
 * Starts a device stream; a start on a worker thread is looked after until
 * it returns.  Returns 0 or -EINVAL with err set.
 */
int engine_start_devstream(struct engine *e, struct devstream *ds, struct proto_error *err);

/* Closes a device stream and forgets it (once its backend stream is closed). */
void engine_close_devstream(struct engine *e, struct devstream *ds);

/*
 * Waits a moment (at most ENGINE_REOPEN_WAIT_MS, waking calls blocked on a
 * dead server) for the closes of the devices' device streams to return, so
 * that a new device stream finds its device free, as it did when closes
 * ran on the loop thread: ALSA hardware opens once at a time, and a file
 * tap is truncated by whoever opens it.  A close that takes longer is left
 * to itself (the open may then fail as busy).
 */
void engine_wait_device_closes(struct engine *e, int device_in, int device_out);

/*
 * A device stream was lost (see engine_callbacks.device_lost): it is
 * reported, its streams fail and it closes, so that new streams open a
 * fresh one.  The formatted reason ends the sentence "… was lost: ".
 */
__attribute__((format(printf, 3, 4))) void engine_devstream_lost(struct engine *e,
								 struct devstream *ds,
								 const char *fmt, ...);
