/*
 * What the files of the device streams (devstream.c, devstream-attach.c,
 * devstream-calls.c) share among themselves; nothing else includes it.
 * Loop thread.
 */
#pragma once

#include <stdbool.h>

struct devstream;

/* Frees the retired attach lists the audio thread has moved past (all when force is set). */
void devstream_reap(struct devstream *ds, bool force);

/*
 * Lets go of everything the audio thread may have used, once the backend
 * stream is closed: the current attach list and its streams' references,
 * the retired lists, the rate groups.
 */
void devstream_release_all(struct devstream *ds);
