/*
 * Splits a byte stream into newline-terminated lines of bounded length.
 * Used for each connection by the daemon's loop thread and by libsdc; a
 * linebuf belongs to one thread at a time.
 */
#pragma once

#include <stddef.h>

struct linebuf {
	char *data;
	size_t cap;   /* bytes allocated: the maximum line length plus one */
	size_t start; /* offset of the first unconsumed byte */
	size_t end;   /* offset one past the last received byte */
	size_t scan;  /* offset up to which no newline was found */
};

/* Prepares lb for lines of at most max bytes including the newline. */
int linebuf_init(struct linebuf *lb, size_t max);

void linebuf_free(struct linebuf *lb);

/*
 * Returns where the next received bytes go and stores how many fit in
 * ret_avail (never 0 while linebuf_next() has not reported -EMSGSIZE).
 */
char *linebuf_space(struct linebuf *lb, size_t *ret_avail);

/* Records that n bytes were written to the space linebuf_space() returned. */
void linebuf_commit(struct linebuf *lb, size_t n);

/*
 * Takes the next complete line.  Returns 1 and stores the line (without
 * "\n" or "\r\n", NUL-terminated in place, valid until the next call that
 * changes lb) and its length; 0 when no complete line is buffered;
 * -EMSGSIZE when the pending line is already longer than the maximum.
 */
int linebuf_next(struct linebuf *lb, char **ret_line, size_t *ret_len);

/* Returns how many bytes of an incomplete line are buffered. */
size_t linebuf_pending(const struct linebuf *lb);
