/*
 * Levelled logging to the daemon's private copy of stderr, with "<N>"
 * priority prefixes when the journal reads it (JOURNAL_STREAM).  Loop
 * thread only.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int log_fd = 2;
static enum log_level log_level = LOG_LEVEL_NOTICE;
static int log_journal;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",   [LOG_LEVEL_WARNING] = "warning", [LOG_LEVEL_NOTICE] = "notice",
	[LOG_LEVEL_INFO] = "info",     [LOG_LEVEL_DEBUG] = "debug",
};

/* Returns 1 when JOURNAL_STREAM names the file open on fd. */
static int is_journal_stream(int fd)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2 || fstat(fd, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int log_open(enum log_level level, int quiet_stderr)
{
	int fd;

	log_level = level;
	log_journal = is_journal_stream(2);
	fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	log_fd = fd;
	if (quiet_stderr) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (null >= 0) {
			dup2(null, 2);
			close(null);
		}
	}
	return 0;
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

const char *log_level_name(enum log_level level)
{
	return level >= LOG_LEVEL_ERROR && level <= LOG_LEVEL_DEBUG ? level_names[level] : "?";
}

int log_level_from_name(const char *name)
{
	for (int i = LOG_LEVEL_ERROR; i <= LOG_LEVEL_DEBUG; i++)
		if (strcmp(level_names[i], name) == 0)
			return i;
	return -EINVAL;
}

/* Formats and writes one line with a single write(2), so lines never interleave. */
__attribute__((format(printf, 3, 0))) static void log_write(enum log_level level, const char *suffix, const char *fmt, va_list ap)
{
	char line[2048];
	int n = 0, m, start;

	if (log_journal)
		n = snprintf(line, sizeof(line), "<%d>", (int)level);
	else if (level <= LOG_LEVEL_WARNING)
		n = snprintf(line, sizeof(line), "sddaemon: %s: ", level_names[level]);
	else
		n = snprintf(line, sizeof(line), "sddaemon: ");
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		return;
	start = n;
	n += m;
	if ((size_t)n > sizeof(line) - 2 - strlen(suffix))
		n = (int)(sizeof(line) - 2 - strlen(suffix));
	/* One message, one line: the journal gives a continuation line no priority. */
	for (int i = start; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	n += snprintf(line + n, sizeof(line) - (size_t)n, "%s\n", suffix);
	while (write(log_fd, line, (size_t)n) < 0 && errno == EINTR)
		;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	log_write(level, "", fmt, ap);
	va_end(ap);
}

int log_errno(enum log_level level, int err, const char *fmt, ...)
{
	char suffix[160];
	va_list ap;

	if (level > log_level)
		return err;
	snprintf(suffix, sizeof(suffix), ": %s", strerror(err < 0 ? -err : err));
	va_start(ap, fmt);
	log_write(level, suffix, fmt, ap);
	va_end(ap);
	return err;
}
