/* The status view of a playing stream; see play-view.h.  Main thread. */
#include "play-view.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

void play_view_draw(const struct play_view *v, const sdc_status *st, double rate, long long total,
		    const struct meter *levels)
{
	char head[128], tail[32], now[32], all[32], place[32] = "";
	unsigned long long played = st->frames_played;
	int n;

	if (!statusline_on(v->line) || rate <= 0)
		return;
	if (v->count > 1)
		snprintf(place, sizeof(place), " [%d/%d]", v->index + 1, v->count);
	statusline_time(now, sizeof(now), (double)played / rate);
	n = snprintf(head, sizeof(head), "%s%s %s", v->label, place, now);
	if (total > 0 && n > 0 && (size_t)n < sizeof(head)) {
		unsigned long long pct = played >= (unsigned long long)total
						 ? 100
						 : played * 100 / (unsigned long long)total;

		statusline_time(all, sizeof(all), (double)total / rate);
		snprintf(head + n, sizeof(head) - (size_t)n, " / %s %3llu%%", all, pct);
	}
	snprintf(tail, sizeof(tail), "  xruns %u", st->xruns);
	statusline_draw(v->line, head, levels, false, tail);
}

bool play_view_heard(const struct meter_history *history, unsigned long long played,
		     long long decoded, double rate, struct meter *ret)
{
	unsigned long long window = (unsigned long long)(rate / 10);
	unsigned long long to =
		played < (unsigned long long)decoded ? played : (unsigned long long)decoded;

	if (!history || to == 0)
		return false;
	meter_history_get(history, to > window ? to - window : 0, to, ret);
	return true;
}

int play_view_wait(struct sdctl *ctl, sdc_client *c, unsigned handle, const struct play_view *v,
		   double rate, long long total, const struct meter_history *history,
		   sdc_status *ret)
{
	(void)ctl;
	if (!statusline_on(v->line))
		return sdctl_interrupted ? -EINTR : sdc_wait(c, handle, ret);
	for (;;) {
		struct timespec tick = { 0, 100 * 1000 * 1000 };
		int r = sdc_get_status(c, handle, ret);

		if (r < 0)
			return r;
		struct meter levels;

		play_view_draw(v, ret, rate, total,
			       play_view_heard(history, ret->frames_played,
					       (long long)ret->frames_played, rate, &levels)
				       ? &levels
				       : NULL);
		if (ret->state >= SDC_STATE_FINISHED)
			return 0;
		if (sdctl_interrupted)
			return -EINTR;
		/* A signal cuts the sleep short. */
		nanosleep(&tick, NULL);
		if (sdctl_interrupted)
			return -EINTR;
	}
}
