/* Bounded newline framing; see linebuf.h. */
#include "linebuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int linebuf_init(struct linebuf *lb, size_t max)
{
	memset(lb, 0, sizeof(*lb));
	lb->data = malloc(max + 1);
	if (!lb->data)
		return -ENOMEM;
	lb->cap = max + 1;
	return 0;
}

void linebuf_free(struct linebuf *lb)
{
	free(lb->data);
	memset(lb, 0, sizeof(*lb));
}

char *linebuf_space(struct linebuf *lb, size_t *ret_avail)
{
	/* Move the unconsumed tail to the front so that a full line always fits. */
	if (lb->start > 0) {
		memmove(lb->data, lb->data + lb->start, lb->end - lb->start);
		lb->end -= lb->start;
		lb->scan -= lb->start;
		lb->start = 0;
	}
	/* One byte stays free for the terminating NUL of a maximal line. */
	*ret_avail = lb->cap - 1 - lb->end;
	return lb->data + lb->end;
}

void linebuf_commit(struct linebuf *lb, size_t n)
{
	lb->end += n;
}

int linebuf_next(struct linebuf *lb, char **ret_line, size_t *ret_len)
{
	char *nl = memchr(lb->data + lb->scan, '\n', lb->end - lb->scan);
	size_t len;

	if (!nl) {
		lb->scan = lb->end;
		if (lb->end - lb->start >= lb->cap - 1)
			return -EMSGSIZE;
		return 0;
	}
	*ret_line = lb->data + lb->start;
	len = (size_t)(nl - *ret_line);
	lb->start += len + 1;
	lb->scan = lb->start;
	if (len > 0 && (*ret_line)[len - 1] == '\r')
		len--;
	(*ret_line)[len] = '\0';
	*ret_len = len;
	return 1;
}

size_t linebuf_pending(const struct linebuf *lb)
{
	return lb->end - lb->start;
}
