/*
 * What play and playrec show while a stream plays: the status line (time,
 * total and percentage, the levels of what is heard, xruns), and waiting
 * for the end with it.  Main thread.
 */
#pragma once

#include "meter.h"
#include "sdctl.h"
#include "statusline.h"

struct play_view {
	struct statusline *line;
	const char *label; /* "PLAY", "PLAYREC" */
	int index, count;  /* the file's place among those given (from 0) */
};

/*
 * Draws the line for a stream whose status is st: total is the sound's
 * length in frames (-1: unknown), levels what to show of them (NULL: none).
 */
void play_view_draw(const struct play_view *v, const sdc_status *st, double rate, long long total,
		    const struct meter *levels);

/*
 * Fills ret with the levels heard over the last tenth of a second at
 * position played, from the history of the frames decoded so far.
 * Returns false when there is nothing to show.
 */
bool play_view_heard(const struct meter_history *history, unsigned long long played,
		     long long decoded, double rate, struct meter *ret);

/*
 * Waits until stream handle has finished, drawing the line meanwhile when
 * it is on, and stores its last status in ret.  Returns 0 or a negative
 * errno (-EINTR when interrupted).
 */
int play_view_wait(struct sdctl *ctl, sdc_client *c, unsigned handle, const struct play_view *v,
		   double rate, long long total, const struct meter_history *history,
		   sdc_status *ret);
