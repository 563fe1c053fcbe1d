/*
 * The daemon's log: levelled lines on the original standard error.  Under
 * systemd (JOURNAL_STREAM names our stderr) each line starts with a "<N>"
 * syslog priority so that the journal keeps the level.  Loop thread only;
 * the realtime path never logs.
 */
#pragma once

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/*
 * Sets the log up on a private duplicate of fd 2.  When quiet_stderr is
 * true, fd 2 itself is pointed at /dev/null afterwards so that libraries
 * (PortAudio, ALSA, JACK) cannot print into the user's terminal.
 */
int log_open(enum log_level level, int quiet_stderr);

void log_set_level(enum log_level level);

/* Returns the name of level ("error" … "debug"). */
const char *log_level_name(enum log_level level);

/* Returns the level named name ("error" … "debug"), or -EINVAL. */
int log_level_from_name(const char *name);

__attribute__((format(printf, 2, 3))) void log_msg(enum log_level level, const char *fmt, ...);

/* Logs fmt followed by ": " and strerror(-err); returns err (a negative errno). */
__attribute__((format(printf, 3, 4))) int log_errno(enum log_level level, int err,
						    const char *fmt, ...);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
