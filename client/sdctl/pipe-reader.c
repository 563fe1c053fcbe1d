/* A forward-only stream that can seek back within its start; see pipe-reader.h.  Main thread. */
#include "pipe-reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pipe_reader {
	int fd;
	unsigned char *keep; /* the first kept bytes of the stream; NULL once passed */
	sf_count_t kept;     /* bytes in keep */
	sf_count_t pos;	     /* the reader's position in the stream */
	sf_count_t read_pos; /* bytes read from fd so far */
	int eof;
	int err;
};

struct pipe_reader *pipe_reader_new(int fd)
{
	struct pipe_reader *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->keep = malloc(PIPE_READER_KEEP);
	if (!p->keep) {
		free(p);
		return NULL;
	}
	p->fd = fd;
	return p;
}

void pipe_reader_free(struct pipe_reader *p)
{
	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	free(p->keep);
	free(p);
}

int pipe_reader_errno(const struct pipe_reader *p)
{
	return p->err;
}

/* Reads up to count bytes from the descriptor into dst; returns the count (0 at the end). */
static sf_count_t read_fd(struct pipe_reader *p, void *dst, sf_count_t count)
{
	sf_count_t done = 0;

	while (done < count && !p->eof) {
		ssize_t n = read(p->fd, (unsigned char *)dst + done, (size_t)(count - done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			p->err = errno;
			p->eof = 1;
			break;
		}
		if (n == 0) {
			p->eof = 1;
			break;
		}
		done += n;
	}
	p->read_pos += done;
	return done;
}

/* Reads more of the stream into keep, up to end (at most PIPE_READER_KEEP). */
static void keep_to(struct pipe_reader *p, sf_count_t end)
{
	if (end > (sf_count_t)PIPE_READER_KEEP)
		end = PIPE_READER_KEEP;
	if (end > p->kept)
		p->kept += read_fd(p, p->keep + p->kept, end - p->kept);
}

/* Moves forward to pos past keep by reading and discarding; returns the position reached. */
static sf_count_t skip_to(struct pipe_reader *p, sf_count_t pos)
{
	unsigned char sink[4096];

	while (p->read_pos < pos && !p->eof) {
		sf_count_t want = pos - p->read_pos;

		read_fd(p, sink, want < (sf_count_t)sizeof(sink) ? want : (sf_count_t)sizeof(sink));
	}
	return p->read_pos;
}

static sf_count_t io_length(void *user)
{
	(void)user;
	/* Unknown: as long as it may be. */
	return SF_COUNT_MAX;
}

static sf_count_t io_seek(sf_count_t offset, int whence, void *user)
{
	struct pipe_reader *p = user;
	sf_count_t to;

	if (whence == SEEK_SET)
		to = offset;
	else if (whence == SEEK_CUR)
		to = p->pos + offset;
	else
		return -1;
	if (to < 0)
		return -1;
	if (p->keep) {
		keep_to(p, to);
		if (to <= p->kept) {
			p->pos = to;
			return to;
		}
		if (p->kept < (sf_count_t)PIPE_READER_KEEP) {
			/* The stream ended before to. */
			p->pos = p->kept;
			return p->pos;
		}
	}
	/* Past what is kept: forward only. */
	if (to < p->read_pos)
		return -1;
	p->pos = skip_to(p, to);
	return p->pos;
}

static sf_count_t io_read(void *dst, sf_count_t count, void *user)
{
	struct pipe_reader *p = user;
	sf_count_t done = 0;

	if (p->keep && p->pos < (sf_count_t)PIPE_READER_KEEP) {
		sf_count_t n;

		keep_to(p, p->pos + count);
		n = p->kept - p->pos;
		if (n > count)
			n = count;
		memcpy(dst, p->keep + p->pos, (size_t)n);
		p->pos += n;
		done = n;
		if (done == count || p->kept < (sf_count_t)PIPE_READER_KEEP)
			return done;
	}
	if (p->keep && p->pos >= (sf_count_t)PIPE_READER_KEEP && p->read_pos == p->pos) {
		/* Past the kept start for good: it is no longer needed. */
		free(p->keep);
		p->keep = NULL;
	}
	if (p->pos != p->read_pos)
		return done;
	done += read_fd(p, (unsigned char *)dst + done, count - done);
	p->pos = p->read_pos;
	return done;
}

static sf_count_t io_write(const void *src, sf_count_t count, void *user)
{
	(void)src;
	(void)count;
	(void)user;
	return 0;
}

static sf_count_t io_tell(void *user)
{
	return ((struct pipe_reader *)user)->pos;
}

SF_VIRTUAL_IO pipe_reader_io = {
	.get_filelen = io_length,
	.seek = io_seek,
	.read = io_read,
	.write = io_write,
	.tell = io_tell,
};
