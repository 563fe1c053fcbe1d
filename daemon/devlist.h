/*
 * The daemon's device list as a value: merging a backend's fresh list into
 * it so that devices keep their indices, dropping devices that went away,
 * and describing what changed between two lists.  Devices are matched by
 * uid (their stable id), host APIs by name.  Pure functions over
 * struct backend_devlist; loop thread (or any, on the caller's own lists).
 */
#pragma once

#include <stdbool.h>

#include "backend.h"

/*
 * Says whether the daemon's device index must stay as it is although the
 * fresh list lacks it (a device with an open device stream, which a probe
 * may fail to examine because the daemon itself holds it).
 */
typedef bool (*devlist_keep_fn)(void *data, int index);

/*
 * Merges fresh (a backend's list, numbered its own way) into cur (the
 * daemon's list) and stores the result in ret:
 * - a device of fresh whose uid is in cur keeps its index in cur (gone or
 *   not) and takes fresh's description (but cur's latencies, while its
 *   name, channels and rate are the same: PortAudio's figures jitter);
 * - devices new to cur come after cur's, in fresh's order;
 * - a device of cur that fresh lacks is kept as it is when keep says so
 *   (keep may be NULL); else, unless compact, it stays marked gone and
 *   without channels; with compact it is dropped (and every device after
 *   it moves down one index), as are the gone devices of cur;
 * - host APIs keep their indices and new ones are appended (none is
 *   dropped); their device lists and defaults, and the list's defaults,
 *   are fresh's, in the new numbering.
 * Devices of fresh marked gone count as absent, so merging cur into
 * itself with compact drops its gone devices.  Stores in ret_kept (may be
 * NULL) how many devices keep kept.  Returns 0 or -ENOMEM.
 */
int devlist_merge(const struct backend_devlist *cur, const struct backend_devlist *fresh,
		  bool compact, devlist_keep_fn keep, void *data, struct backend_devlist *ret,
		  int *ret_kept);

/* A device that went away, as the old list had it. */
struct devlist_removed {
	int index;
	char *name;
	char *uid;
};

/* What changed from one list to the next. */
struct devlist_change {
	int *added; /* indices in the new list of devices that appeared or came back */
	int added_count;
	struct devlist_removed *removed;
	int removed_count;
	bool renumbered; /* a device in both lists has another index now */
	bool changed;	 /* the lists differ in anything query_devices or query_hostapis shows */
};

/* Describes how new differs from old in ret.  Returns 0 or -ENOMEM. */
int devlist_diff(const struct backend_devlist *old, const struct backend_devlist *new,
		 struct devlist_change *ret);

/* Frees what a change holds and zeroes it. */
void devlist_change_clear(struct devlist_change *c);

/* Returns whether a and b show the same devices and host APIs. */
bool devlist_equal(const struct backend_devlist *a, const struct backend_devlist *b);

/* Returns the index of the present (not gone) device with uid in l, or -1. */
int devlist_find_uid(const struct backend_devlist *l, const char *uid);
