/*
 * Reading a sound file from what cannot seek (a pipe, a FIFO, a terminal)
 * through libsndfile's virtual I/O.  libsndfile reads a header, then
 * seeks back to where the samples start (FLAC to the very beginning),
 * which a pipe cannot do: the first PIPE_READER_KEEP bytes are kept, so
 * that any seek within them works; beyond them the reader only moves
 * forward.  Main thread.
 */
#pragma once

#include <sndfile.h>

/* Bytes kept for seeking back: far more than any header libsndfile reads. */
#define PIPE_READER_KEEP (1u << 20)

struct pipe_reader;

/* Makes a reader of fd (which it closes at the end); NULL when out of memory. */
struct pipe_reader *pipe_reader_new(int fd);

/* Closes the descriptor and frees the reader; NULL is allowed. */
void pipe_reader_free(struct pipe_reader *p);

/* The virtual I/O functions; their user data is the reader. */
extern SF_VIRTUAL_IO pipe_reader_io;

/* The errno of the last failed read, 0 when none failed. */
int pipe_reader_errno(const struct pipe_reader *p);
