/*
 * Sealed shared memory for client streams: a memfd that can neither shrink
 * nor grow, mapped by the daemon and handed to one client.  Loop thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct memfd {
	int fd;
	void *mem;
	size_t size;  /* bytes */
	bool reclaim; /* memfd_destroy() frees the pages, even those others still map */
};

/*
 * Creates a memfd of size bytes named name, seals it with F_SEAL_SHRINK,
 * F_SEAL_GROW and F_SEAL_SEAL, maps it and touches every page so that the
 * audio thread does not fault on it.  (A client may still free pages with
 * fallocate(FALLOC_FL_PUNCH_HOLE): the audio thread then faults on those it
 * touches, at most the pages of one period's frames each period;
 * bench/RESULTS.md has the figures.)  Returns 0 or a negative errno.
 */
int memfd_create_sealed(struct memfd *m, const char *name, size_t size);

/*
 * Unmaps and closes; m may be already destroyed (fd -1) but not just
 * zeroed.  With m->reclaim set, the pages are punched out first: whoever
 * still holds the descriptor (a client, a reply not yet sent or read) then
 * holds an empty file of the same size, and the memory returns to the
 * system at once rather than when the last descriptor closes.
 */
void memfd_destroy(struct memfd *m);
