/*
 * The live status line of play, playrec, rec and meter: time, percentage,
 * a level bar per channel and the xruns, fitted to the terminal's width
 * (asked again at every draw, so a resized window is followed) and
 * redrawn in place with a carriage return and an erase to the end of the
 * line.  It is drawn only on a terminal.  Main thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "meter.h"

struct statusline {
	FILE *f;     /* where it is drawn; NULL: nowhere */
	double last; /* when it was last drawn (monotonic seconds) */
	bool drawn;  /* something is on the line */
};

/* Draws on f when enabled and f is a terminal. */
void statusline_init(struct statusline *sl, FILE *f, bool enabled);

/* Whether the line is drawn at all. */
static inline bool statusline_on(const struct statusline *sl)
{
	return sl->f != NULL;
}

/* Whether interval seconds have passed since the last draw. */
bool statusline_due(const struct statusline *sl, double interval);

/*
 * Draws head, the levels of m (peak, and RMS when rms and room allow) and
 * tail as one line.  m may be NULL.
 */
void statusline_draw(struct statusline *sl, const char *head, const struct meter *m, bool rms,
		     const char *tail);

/* Ends the line (a newline after what was drawn last). */
void statusline_end(struct statusline *sl);

/*
 * Formats the line for a terminal of width columns into buf: at most
 * width - 1 characters, so that the cursor never wraps.  Returns its length.
 */
size_t statusline_format(char *buf, size_t size, int width, const char *head, const struct meter *m,
			 bool rms, const char *tail);

/* "1:02.3" (or "1:02:03.4" from an hour) for seconds. */
void statusline_time(char *buf, size_t size, double seconds);

/* The monotonic clock in seconds. */
double statusline_now(void);
