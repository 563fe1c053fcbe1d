/*
 * Sealed shared memory for client streams: a memfd that can neither shrink
 * nor grow, mapped by the daemon and handed to one client.  Loop thread.
 */
#pragma once

#include <stddef.h>

struct memfd {
	int fd;
	void *mem;
	size_t size; /* bytes */
};

/*
 * Creates a memfd of size bytes named name, seals it with F_SEAL_SHRINK,
 * F_SEAL_GROW and F_SEAL_SEAL, maps it and touches every page so that the
 * audio thread never faults on it.  Returns 0 or a negative errno.
 */
int memfd_create_sealed(struct memfd *m, const char *name, size_t size);

/* Unmaps and closes; m may be already destroyed (fd -1) but not just zeroed. */
void memfd_destroy(struct memfd *m);
