/* The live status line; see statusline.h.  Main thread. */
#include "statusline.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* Bars span -60 dBFS to 0 dBFS. */
#define BAR_FLOOR_DB -60.0
#define BAR_MAX 30

double statusline_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void statusline_init(struct statusline *sl, FILE *f, bool enabled)
{
	memset(sl, 0, sizeof(*sl));
	sl->f = enabled && isatty(fileno(f)) ? f : NULL;
}

bool statusline_due(const struct statusline *sl, double interval)
{
	return sl->f && statusline_now() - sl->last >= interval;
}

void statusline_time(char *buf, size_t size, double seconds)
{
	long tenths = (long)(seconds * 10 + 0.5);
	long s = tenths / 10;

	if (s >= 3600)
		snprintf(buf, size, "%ld:%02ld:%02ld.%ld", s / 3600, s / 60 % 60, s % 60,
			 tenths % 10);
	else
		snprintf(buf, size, "%ld:%02ld.%ld", s / 60, s % 60, tenths % 10);
}

/* A level as five characters: "-12.3", " -inf". */
static void db_text(char *buf, size_t size, double db)
{
	if (db <= -100)
		snprintf(buf, size, " -inf");
	else
		snprintf(buf, size, "%5.1f", db);
}

/*
 * Appends channel c's item to buf: "  1 [#####.....] -12.3 pk -15.0 rms CLIP"
 * with a bar of bar columns (none for 0), RMS when rms.  Returns the length.
 */
static size_t item(char *buf, size_t size, const struct meter *m, int c, int bar, bool rms)
{
	double peak = meter_peak_db(m, c);
	char pk[16], rm[16], bars[BAR_MAX + 1];
	int fill =
		peak <= BAR_FLOOR_DB ? 0 : (int)((peak - BAR_FLOOR_DB) / -BAR_FLOOR_DB * bar + 0.5);
	int n;

	db_text(pk, sizeof(pk), peak);
	db_text(rm, sizeof(rm), meter_rms_db(m, c));
	for (int i = 0; i < bar; i++)
		bars[i] = i < fill ? '#' : i == bar - 1 && m->clipped[c] ? '!' : '.';
	bars[bar] = '\0';
	/* A meter's columns stay put (CLIP or as many blanks); elsewhere the bar ends in '!'. */
	n = snprintf(buf, size, "  %d%s%s%s %s%s%s%s%s", m->source[c] + 1, bar ? " [" : "", bars,
		     bar ? "]" : "", pk, rms ? " pk " : "", rms ? rm : "", rms ? " rms" : "",
		     m->clipped[c] && (rms || !bar) ? " CLIP" : rms && bar ? "     " : "");
	return n < 0 ? 0 : (size_t)n;
}

/* The length of the levels of the first shown channels with bar and rms, "+N" included. */
static size_t levels_length(const struct meter *m, int shown, int bar, bool rms)
{
	char tmp[256];
	size_t len = 0;

	for (int c = 0; c < shown; c++)
		len += item(tmp, sizeof(tmp), m, c, bar, rms);
	if (shown < m->channels)
		len += (size_t)snprintf(tmp, sizeof(tmp), " +%d", m->channels - shown);
	return len;
}

size_t statusline_format(char *buf, size_t size, int width, const char *head, const struct meter *m,
			 bool rms, const char *tail)
{
	size_t room = width > 1 ? (size_t)width - 1 : 0, used, fixed;
	int channels = m ? m->channels : 0, shown = channels, bar = 0;
	bool with_rms = false;

	if (size == 0)
		return 0;
	fixed = strlen(head) + strlen(tail);
	/* The richest form that fits: RMS and long bars, then shorter bars, then no RMS, no bar,
	 * fewer channels. */
	for (;;) {
		size_t base;
		int best = -1;

		if (shown == 0)
			break;
		for (int pass = rms ? 0 : 1; pass < 3 && best < 0; pass++) {
			int min_bar = pass < 2 ? 4 : 0;

			with_rms = pass == 0;
			/* The items without their bars (brackets included). */
			base = pass < 2 ? levels_length(m, shown, 1, with_rms) - (size_t)shown
					: levels_length(m, shown, 0, false);
			if (fixed + base > room)
				continue;
			if (pass == 2) {
				best = 0;
				break;
			}
			best = (int)((room - fixed - base) / (size_t)shown);
			if (best > BAR_MAX)
				best = BAR_MAX;
			if (best < min_bar)
				best = -1;
		}
		if (best >= 0) {
			bar = best;
			break;
		}
		shown--;
	}
	used = (size_t)snprintf(buf, size, "%s", head);
	for (int c = 0; c < shown && used < size; c++)
		used += item(buf + used, size - used, m, c, bar, with_rms);
	if (shown < channels && used < size)
		used += (size_t)snprintf(buf + used, size - used, " +%d", channels - shown);
	if (used < size)
		used += (size_t)snprintf(buf + used, size - used, "%s", tail);
	if (used >= size)
		used = size - 1;
	/* When even the head and tail do not fit, they are cut. */
	if (used > room)
		used = room;
	buf[used] = '\0';
	return used;
}

/* The terminal's width, 80 when it does not say. */
static int terminal_width(FILE *f)
{
	struct winsize ws;

	if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

void statusline_draw(struct statusline *sl, const char *head, const struct meter *m, bool rms,
		     const char *tail)
{
	char line[1024];

	if (!sl->f)
		return;
	statusline_format(line, sizeof(line), terminal_width(sl->f), head, m, rms, tail);
	fprintf(sl->f, "\r%s\033[K", line);
	fflush(sl->f);
	sl->drawn = true;
	sl->last = statusline_now();
}

void statusline_end(struct statusline *sl)
{
	if (sl->f && sl->drawn) {
		fputc('\n', sl->f);
		fflush(sl->f);
	}
	sl->drawn = false;
}
