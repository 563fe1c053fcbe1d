/*
 * sdctl run [OPTIONS] [--] COMMAND [ARG]...: runs a PortAudio program with
 * sddaemon's PortAudio library (libportaudio.so.2 from $libdir/sddaemon)
 * in place of the system's, so that it lists the daemon's devices and
 * plays and records through the daemon, shared with every other client.
 * It puts the library's folder first in LD_LIBRARY_PATH, hands on the
 * socket sdctl found (--socket, or the usual search) in $SDDAEMON_SOCKET,
 * and replaces itself with the program, whose exit status is then sdctl's.
 * Its options (the table's options_first) end at COMMAND.  Main thread.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "sdctl.h"

/* Puts dir before the folders of $LD_LIBRARY_PATH; returns 0 or a negative errno. */
static int prepend_library_path(const char *dir)
{
	const char *old = getenv("LD_LIBRARY_PATH");
	char *value;
	int r;

	if (old && *old) {
		if (asprintf(&value, "%s:%s", dir, old) < 0)
			return -ENOMEM;
	} else if (!(value = strdup(dir))) {
		return -ENOMEM;
	}
	r = setenv("LD_LIBRARY_PATH", value, 1);
	free(value);
	return r < 0 ? -errno : 0;
}

int sdctl_cmd_run(struct sdctl *ctl, int argc, char **argv)
{
	const char *dir = ctl->o.library_dir ? ctl->o.library_dir : SDD_PORTAUDIO_LIBDIR;
	char lib[PATH_MAX], socket[PATH_MAX], absdir[PATH_MAX];
	sdc_client *c;

	if (argc < 1)
		return sdctl_usage_error(ctl, "which program? (sdctl run [OPTIONS] -- COMMAND...)");
	errno = 0;
	if ((size_t)snprintf(lib, sizeof(lib), "%s/libportaudio.so.2", dir) >= sizeof(lib) ||
	    access(lib, R_OK) < 0)
		return sdctl_error(ctl, "file_error", "no PortAudio library of sddaemon at '%s': %s",
				   lib, strerror(errno ? errno : ENAMETOOLONG));
	/* Absolute, so that a program that changes its folder still finds them. */
	if (realpath(dir, absdir))
		dir = absdir;
	/* The daemon must answer now: the program would only fail later, less clearly. */
	c = sdctl_client(ctl);
	if (!c)
		return 1;
	if (!realpath(sdc_socket_path(c), socket))
		snprintf(socket, sizeof(socket), "%s", sdc_socket_path(c));
	sdc_close(c);
	ctl->client = NULL;
	if (prepend_library_path(dir) < 0 || setenv("SDDAEMON_SOCKET", socket, 1) < 0 ||
	    (ctl->o.exclusive && setenv("SDDAEMON_PORTAUDIO_EXCLUSIVE", "1", 1) < 0))
		return sdctl_error(ctl, "internal_error", "cannot set the environment: %s",
				   strerror(errno));
	if (ctl->o.verbose) {
		fprintf(stderr, "sdctl run: LD_LIBRARY_PATH=%s\n", getenv("LD_LIBRARY_PATH"));
		fprintf(stderr, "sdctl run: SDDAEMON_SOCKET=%s\n", socket);
		if (ctl->o.exclusive)
			fprintf(stderr, "sdctl run: SDDAEMON_PORTAUDIO_EXCLUSIVE=1\n");
		fprintf(stderr, "sdctl run: running '%s'\n", argv[0]);
	}
	fflush(stdout);
	execvp(argv[0], argv);
	fprintf(stderr, "sdctl run: cannot run '%s': %s\n", argv[0], strerror(errno));
	/* The shell's statuses: 127 not found, 126 found but not runnable. */
	return errno == ENOENT ? 127 : 126;
}
