/*
 * Device selection as sounddevice documents it: a numeric id, or a string
 * of space-separated, case-insensitive substrings that must all appear, in
 * order, in "device name, host-API name".  Among several matches a device
 * whose whole name equals the query wins; otherwise the query is ambiguous.
 * Pure functions over a caller-supplied list.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum devmatch_kind {
	DEVMATCH_ANY = 0,
	DEVMATCH_INPUT,
	DEVMATCH_OUTPUT,
};

struct devmatch_entry {
	const char *name;
	const char *hostapi;
	int max_input_channels;
	int max_output_channels;
	bool absent; /* never matches (a device that went away but keeps its index) */
};

enum devmatch_status {
	DEVMATCH_FOUND = 0,
	DEVMATCH_NONE,
	DEVMATCH_AMBIGUOUS,
};

/*
 * Finds query among the n devices of list, considering only those with
 * channels of the given kind (and not absent).  On DEVMATCH_FOUND stores the index in
 * ret_index.  On DEVMATCH_AMBIGUOUS stores up to max_candidates matching
 * indices in candidates (when not NULL) and their total in ret_count.
 */
enum devmatch_status devmatch_find(const struct devmatch_entry *list, size_t n, const char *query,
				   enum devmatch_kind kind, int *ret_index, int *candidates,
				   size_t max_candidates, size_t *ret_count);

/* Returns "input", "output" or "input/output", as used in messages. */
const char *devmatch_kind_name(enum devmatch_kind kind);
