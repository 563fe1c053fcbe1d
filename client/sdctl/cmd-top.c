/*
 * sdctl top: a live view of the daemon, as pw-top is of PipeWire: the
 * device streams (device, mode, rate, channels, attached streams, load,
 * xruns) and the clients with their streams (pid, program, kind, device,
 * rate, channels, ring fill, xruns, state), refreshed every --interval
 * seconds on the terminal's alternate screen until Ctrl-C or q.  --once
 * prints one view; --json prints the daemon's status object (one line per
 * refresh, or one with --once).  Main thread.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sdctl.h"
#include "daemon-status.h"

/* The view is built line by line, each cut to the terminal's width. */
struct view {
	int width, height, lines;
	bool screen; /* on the terminal: stop at its height */
};

__attribute__((format(printf, 2, 3))) static void line(struct view *v, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (v->screen && v->lines >= v->height - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (v->width > 1 && strlen(buf) >= (size_t)v->width)
		buf[v->width - 1] = '\0';
	fputs(buf, stdout);
	fputs(v->screen ? "\033[K\n" : "\n", stdout);
	v->lines++;
}

/* "1.2%" of a fraction, "-" when absent. */
static void percent(char *buf, size_t size, json_object *o, const char *key)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v) && !json_object_is_type(v, json_type_null))
		snprintf(buf, size, "%.1f%%", 100 * json_object_get_double(v));
	else
		snprintf(buf, size, "-");
}

/* A device member: an id, or an [input, output] pair, as text. */
static void device_text(char *buf, size_t size, json_object *s)
{
	json_object *v;

	if (!json_object_object_get_ex(s, "device", &v))
		snprintf(buf, size, "-");
	else if (json_object_is_type(v, json_type_array))
		snprintf(buf, size, "%d,%d", json_object_get_int(json_object_array_get_idx(v, 0)),
			 json_object_get_int(json_object_array_get_idx(v, 1)));
	else
		snprintf(buf, size, "%d", json_object_get_int(v));
}

/* One stream of a client (or of the caller's own list). */
static void stream_line(struct view *v, json_object *s, long long id, long long pid,
			const char *program)
{
	char dev[32], fill[16], idtext[24] = "", pidtext[24] = "";

	device_text(dev, sizeof(dev), s);
	percent(fill, sizeof(fill), s, "fill");
	if (id >= 0)
		snprintf(idtext, sizeof(idtext), "%lld", id);
	if (pid > 0)
		snprintf(pidtext, sizeof(pidtext), "%lld", pid);
	line(v, "%4s %7s %-12.12s %6lld %-7.7s %5s %6.0f %3lld %5s %5lld %s", idtext, pidtext,
	     program, sdctl_json_get_int(s, "handle"), sdctl_json_get_str(s, "kind"), dev,
	     sdctl_json_get_double(s, "samplerate"), sdctl_json_get_int(s, "channels"), fill,
	     sdctl_json_get_int(s, "xruns"), sdctl_json_get_str(s, "state"));
}

/* Prints one view of the daemon's status o. */
static void show(struct sdctl *ctl, json_object *o, struct view *v)
{
	json_object *list = sdctl_json_get_array(o, "device_streams");
	json_object *clients = sdctl_json_get_array(o, "client_list");
	char clock[16];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	line(v, "sddaemon %s  %lld clients  %lld streams (%lld detached)  %lld devices  %s",
	     sdc_daemon_version(ctl->client), sdctl_json_get_int(o, "clients"),
	     sdctl_json_get_int(o, "streams"), sdctl_json_get_int(o, "detached"),
	     sdctl_json_get_int(o, "devices"), clock);
	line(v, "%s", "");
	line(v, "%4s %-20s %-13s %6s %3s %7s %6s %6s", "DEV", "DEVICE STREAM", "MODE", "RATE", "CH",
	     "STREAMS", "LOAD", "XRUNS");
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		json_object *d = json_object_array_get_idx(list, i);
		char load[16];

		percent(load, sizeof(load), d, "cpu_load");
		line(v, "%4lld %-20.20s %-13.13s %6.0f %3lld %7lld %6s %6lld",
		     sdctl_json_get_int(d, "device"), sdctl_json_get_str(d, "name"),
		     sdctl_json_get_str(d, "mode"), sdctl_json_get_double(d, "samplerate"),
		     sdctl_json_get_int(d, "channels"), sdctl_json_get_int(d, "streams"), load,
		     sdctl_json_get_int(d, "device_xruns"));
	}
	if (!list || json_object_array_length(list) == 0)
		line(v, "%s", "   (no device stream open)");
	line(v, "%s", "");
	line(v, "%4s %7s %-12s %6s %-7s %5s %6s %3s %5s %5s %s", "ID", "PID", "PROGRAM", "HANDLE",
	     "KIND", "DEV", "RATE", "CH", "FILL", "XRUNS", "STATE");
	if (clients) {
		for (size_t i = 0; i < json_object_array_length(clients); i++) {
			json_object *cl = json_object_array_get_idx(clients, i);
			json_object *streams = sdctl_json_get_array(cl, "streams");
			long long id = sdctl_json_get_int(cl, "id"),
				  pid = sdctl_json_get_int(cl, "pid");
			const char *program = sdctl_json_get_str(cl, "program");
			size_t n = streams ? json_object_array_length(streams) : 0;

			if (n == 0)
				line(v, "%4lld %7lld %-12.12s %6s", id, pid,
				     program[0] ? program : "?", "-");
			for (size_t j = 0; j < n; j++)
				stream_line(v, json_object_array_get_idx(streams, j), j ? -1 : id,
					    j ? 0 : pid,
					    j		 ? ""
					    : program[0] ? program
							 : "?");
		}
	} else {
		/* A daemon without the client list: the caller's own streams. */
		list = sdctl_json_get_array(o, "my_streams");
		for (size_t i = 0; list && i < json_object_array_length(list); i++)
			stream_line(v, json_object_array_get_idx(list, i), -1, getpid(), "(yours)");
	}
}

/* The terminal's size, 80 x 24 when it does not say. */
static void terminal_size(int *width, int *height)
{
	struct winsize ws;

	*width = 80;
	*height = 24;
	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
		*width = ws.ws_col;
		*height = ws.ws_row;
	}
}

/* Waits up to seconds for a key; returns true when it was q (or Q). */
static bool quit_key(bool keys, double seconds)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	char c;

	if (!keys) {
		struct timespec ts = { (time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9) };

		nanosleep(&ts, NULL);
		return false;
	}
	if (poll(&p, 1, (int)(seconds * 1000)) > 0 && read(0, &c, 1) == 1)
		return c == 'q' || c == 'Q';
	return false;
}

int sdctl_cmd_top(struct sdctl *ctl, int argc, char **argv)
{
	double interval = ctl->o.interval > 0 ? ctl->o.interval : 1;
	bool live = !ctl->o.once && !ctl->json && isatty(1), keys = false;
	struct termios saved;
	int status = 0;

	if (argc > 0)
		return sdctl_usage_error(ctl, "unexpected argument '%s'", argv[0]);
	sdctl_catch_signals();
	if (!sdctl_client(ctl))
		return 1;
	if (live && isatty(0) && tcgetattr(0, &saved) == 0) {
		struct termios raw = saved;

		/* Keys arrive one at a time and unechoed, so that q quits; Ctrl-C still signals. */
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		keys = tcsetattr(0, TCSANOW, &raw) == 0;
	}
	if (live)
		fputs("\033[?1049h\033[?25l", stdout); /* the alternate screen, no cursor */
	while (!sdctl_interrupted) {
		json_object *o = sdctl_daemon_status(ctl, ctl->json);
		struct view v = { 0 };

		if (!o) {
			status = 1;
			break;
		}
		if (!ctl->json) {
			terminal_size(&v.width, &v.height);
			v.screen = live;
			if (live)
				fputs("\033[H", stdout);
			show(ctl, o, &v);
			if (live)
				fputs("\033[J", stdout);
		}
		json_object_put(o);
		fflush(stdout);
		if (ctl->o.once || quit_key(keys, interval))
			break;
	}
	if (live)
		fputs("\033[?25h\033[?1049l", stdout);
	if (keys)
		tcsetattr(0, TCSANOW, &saved);
	fflush(stdout);
	return status;
}
