/*
 * What sdctl prints besides each command's own results: errors in our
 * words with the hint a user needs (on stderr, and with --json as an
 * object on standard output), the JSON forms every command's results
 * share, and the xrun report.  Main thread.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdctl.h"
#include "sockpath.h"

/* The hint for the next error, set by sdctl_hint() or found for a libsdc error. */
static char pending_hint[512];

void sdctl_hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pending_hint, sizeof(pending_hint), fmt, ap);
	va_end(ap);
}

void sdctl_json_print(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* Prints an error: "WHO: message" on stderr, and the object on stdout with --json. */
static void report(struct sdctl *ctl, const char *who, const char *code, const char *message,
		   int pa_error, const char *pa_error_text)
{
	fprintf(stderr, "%s: %s\n", who, message);
	if (pending_hint[0])
		fprintf(stderr, "  %s\n", pending_hint);
	if (ctl->json) {
		json_object *o = json_object_new_object(), *e = json_object_new_object();

		json_object_object_add(e, "code", json_object_new_string(code));
		json_object_object_add(e, "message", json_object_new_string(message));
		if (pending_hint[0])
			json_object_object_add(e, "hint", json_object_new_string(pending_hint));
		if (pa_error) {
			json_object_object_add(e, "pa_error", json_object_new_int(pa_error));
			json_object_object_add(e, "pa_error_text",
					       json_object_new_string(pa_error_text));
		}
		json_object_object_add(o, "error", e);
		sdctl_json_print(o);
		fflush(stdout);
	}
	pending_hint[0] = '\0';
}

int sdctl_error(struct sdctl *ctl, const char *code, const char *fmt, ...)
{
	char message[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	report(ctl, "sdctl", code, message, 0, NULL);
	return 1;
}

int sdctl_usage_error(struct sdctl *ctl, const char *fmt, ...)
{
	char message[1024], who[64];
	va_list ap;

	snprintf(who, sizeof(who), "sdctl%s%s", ctl->cmd ? " " : "", ctl->cmd ? ctl->cmd->name : "");
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (!pending_hint[0]) {
		if (ctl->cmd)
			sdctl_hint("Try 'sdctl %s --help'.", ctl->cmd->name);
		else
			sdctl_hint("Try 'sdctl help'.");
	}
	report(ctl, who, "usage", message, 0, NULL);
	return 2;
}

/* Whether the user is in group gid. */
static int in_group(gid_t gid)
{
	gid_t groups[256];
	int n = getgroups(256, groups);

	if (getegid() == gid)
		return 1;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

/* The hint for a connection that failed with errnum. */
static void connect_hint(struct sdctl *ctl, int errnum)
{
	char path[108];
	struct stat st;

	if (sockpath_resolve(ctl->socket_path, path, sizeof(path)) < 0)
		return;
	if (errnum == -ENOENT || errnum == -ECONNREFUSED) {
		sdctl_hint("Is sddaemon running? Start it with 'sddaemon &', or 'systemctl --user "
			   "start "
			   "sddaemon.socket'; --socket PATH or $SDDAEMON_SOCKET names another "
			   "socket.");
	} else if (errnum == -EACCES && stat(path, &st) == 0) {
		struct passwd *pw = getpwuid(st.st_uid);
		struct group *gr = getgrgid(st.st_gid);
		char owner[64], group[64];

		snprintf(owner, sizeof(owner), "%s", pw ? pw->pw_name : "?");
		snprintf(group, sizeof(group), "%s", gr ? gr->gr_name : "?");
		if (!in_group(st.st_gid))
			sdctl_hint("Only user '%s' and members of group '%s' may connect, and you "
				   "are not "
				   "in '%s': have yourself added (then log in again), or run a "
				   "daemon of "
				   "your own ('systemctl --user start sddaemon.socket').",
				   owner, group, group);
		else
			sdctl_hint("The socket belongs to user '%s' and group '%s' (mode %03o): "
				   "its mode must let the group write.",
				   owner, group, (unsigned)(st.st_mode & 0777));
	} else if (errnum == -EACCES) {
		sdctl_hint("You may not enter the folder that holds %s.", path);
	}
}

/* The hint for an error the daemon reported with code. */
static void code_hint(const sdc_error *e)
{
	if (strcmp(e->code, "device_not_found") == 0 || strcmp(e->code, "device_ambiguous") == 0)
		sdctl_hint("'sdctl devices' lists the devices; -d takes an id or words of a name "
			   "('usb alsa').");
	else if (strcmp(e->code, "busy") == 0)
		sdctl_hint("Another client uses the device on its own (--exclusive); 'sdctl "
			   "status' shows who.");
	else if (strcmp(e->code, "access_denied") == 0)
		sdctl_hint("The daemon's allow_users and allow_groups (sddaemon.conf(5)) do not "
			   "include you.");
	else if (strcmp(e->code, "limit_exceeded") == 0)
		sdctl_hint("The daemon's limits are set in sddaemon.conf(5); 'sdctl status' shows "
			   "what runs.");
	else if (strcmp(e->code, "not_supported") == 0 && e->pa_error)
		sdctl_hint("'sdctl devices DEVICE' shows a device's channels and default rate; "
			   "'sdctl check' tries settings.");
	else if (strcmp(e->code, "not_supported") == 0 && strstr(e->message, "rate"))
		sdctl_hint("A shared device runs at one rate: give that rate with -r, or use "
			   "--exclusive.");
	else if (strcmp(e->code, "shutting_down") == 0)
		sdctl_hint("sddaemon is stopping; try again once it runs again.");
	else if (!e->code[0] && (e->errnum == -ECONNRESET || e->errnum == -EPIPE))
		sdctl_hint("sddaemon stopped or was restarted meanwhile.");
}

sdc_client *sdctl_client(struct sdctl *ctl)
{
	if (!ctl->client && sdc_connect(ctl->socket_path, &ctl->client) < 0) {
		int errnum = sdc_last_error()->errnum;

		connect_hint(ctl, errnum);
		sdctl_fail(ctl, NULL);
		return NULL;
	}
	return ctl->client;
}

/* The code of an error libsdc found itself (the daemon's errors carry their own). */
static const char *library_code(int errnum)
{
	switch (errnum) {
	case -EINVAL:
		return "invalid_param";
	case -ENOENT:
	case -ECONNREFUSED:
	case -EACCES:
		return "cannot_connect";
	case -ECONNRESET:
	case -EPIPE:
		return "disconnected";
	case -EINTR:
		return "interrupted";
	default:
		return "client_error";
	}
}

int sdctl_fail(struct sdctl *ctl, const char *what)
{
	const sdc_error *e = sdc_last_error();
	char message[1200];

	if (!pending_hint[0])
		code_hint(e);
	if (what)
		snprintf(message, sizeof(message), "%s: %s", what, e->message);
	else
		snprintf(message, sizeof(message), "%s", e->message);
	report(ctl, "sdctl", e->code[0] ? e->code : library_code(e->errnum), message, e->pa_error,
	       e->pa_error_text);
	return 1;
}

bool sdctl_daemon_lost(sdc_stream *s, sdc_status *st)
{
	return sdc_stream_status(s, st) == 0 && strcmp(st->error_code, "connection_lost") == 0;
}

json_object *sdctl_json_flags(unsigned flags)
{
	json_object *f = json_object_new_object();

	json_object_object_add(f, "input_underflow",
			       json_object_new_boolean(!!(flags & SDC_INPUT_UNDERFLOW)));
	json_object_object_add(f, "input_overflow",
			       json_object_new_boolean(!!(flags & SDC_INPUT_OVERFLOW)));
	json_object_object_add(f, "output_underflow",
			       json_object_new_boolean(!!(flags & SDC_OUTPUT_UNDERFLOW)));
	json_object_object_add(f, "output_overflow",
			       json_object_new_boolean(!!(flags & SDC_OUTPUT_OVERFLOW)));
	json_object_object_add(f, "priming_output",
			       json_object_new_boolean(!!(flags & SDC_PRIMING_OUTPUT)));
	return f;
}

const char *sdctl_state_name(sdc_state state)
{
	static const char *const names[] = { "prefill", "running", "draining", "finished",
					     "failed" };

	return (unsigned)state < 5 ? names[state] : "unknown";
}

void sdctl_json_add_format(json_object *o, double rate, int channels, sdc_dtype dtype,
			   long long frames)
{
	json_object_object_add(o, "samplerate", json_object_new_double(rate));
	json_object_object_add(o, "channels", json_object_new_int(channels));
	json_object_object_add(o, "dtype", json_object_new_string(sdc_dtype_name(dtype)));
	json_object_object_add(o, "frames", json_object_new_int64(frames));
}

void sdctl_json_add_status(json_object *o, const sdc_status *st, bool out, bool in)
{
	json_object_object_add(o, "handle", json_object_new_int64(st->handle));
	json_object_object_add(o, "state", json_object_new_string(sdctl_state_name(st->state)));
	json_object_object_add(o, "flags", sdctl_json_flags(st->flags));
	json_object_object_add(o, "xruns", json_object_new_int64(st->xruns));
	if (out) {
		json_object_object_add(o, "frames_played",
				       json_object_new_int64((int64_t)st->frames_played));
		json_object_object_add(o, "underflow_frames",
				       json_object_new_int64((int64_t)st->underflow_frames));
	}
	if (in) {
		json_object_object_add(o, "frames_recorded",
				       json_object_new_int64((int64_t)st->frames_recorded));
		json_object_object_add(o, "overflow_frames",
				       json_object_new_int64((int64_t)st->overflow_frames));
	}
	if (st->state == SDC_STATE_FAILED) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "code",
				       json_object_new_string(st->error_code[0]
								      ? st->error_code
								      : "internal_error"));
		json_object_object_add(e, "message", json_object_new_string(st->error));
		json_object_object_add(o, "error", e);
	}
}

unsigned sdctl_report_xruns(struct sdctl *ctl, const char *what, const sdc_status *st)
{
	char text[128];

	if (st->state == SDC_STATE_FAILED)
		fprintf(stderr, "sdctl: %s failed: %s\n", what, st->error);
	if (!st->xruns && !st->overflow_frames && !st->underflow_frames)
		return 0;
	if (ctl->quiet)
		return st->xruns ? st->xruns : 1;
	fprintf(stderr, "sdctl: %s: %u xrun%s (%s)", what, st->xruns, st->xruns == 1 ? "" : "s",
		sdc_flags_text(st->flags, text, sizeof(text)));
	if (st->overflow_frames)
		fprintf(stderr, ", %llu input frames lost", st->overflow_frames);
	if (st->underflow_frames)
		fprintf(stderr, ", %llu frames of silence inserted", st->underflow_frames);
	fputc('\n', stderr);
	return st->xruns ? st->xruns : 1;
}
