/* Sealed, pre-faulted shared memory for client streams.  Loop thread. */
#include "memfd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int memfd_create_sealed(struct memfd *m, const char *name, size_t size)
{
	int r;

	m->mem = NULL;
	m->size = size;
	m->reclaim = false;
	m->fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (m->fd < 0)
		return -errno;
	if (ftruncate(m->fd, (off_t)size) < 0)
		goto fail;
	/* After this no one, the client included, can change the size: no SIGBUS for us. */
	if (fcntl(m->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail;
	m->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->mem == MAP_FAILED) {
		m->mem = NULL;
		goto fail;
	}
	/* Allocate every page now rather than in the audio thread. */
	memset(m->mem, 0, size);
	return 0;
fail:
	r = -errno;
	memfd_destroy(m);
	return r;
}

void memfd_destroy(struct memfd *m)
{
	/* The seals allow it (only F_SEAL_WRITE would not); nothing is lost if it fails. */
	if (m->reclaim && m->fd >= 0 &&
	    fallocate(m->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)m->size) < 0)
		m->reclaim = false;
	if (m->mem)
		munmap(m->mem, m->size);
	if (m->fd >= 0)
		close(m->fd);
	m->mem = NULL;
	m->fd = -1;
}
