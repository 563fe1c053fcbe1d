/*
 * sdctl run [OPTIONS] [--] COMMAND [ARG]...: runs a PortAudio program with
 * sddaemon's PortAudio library (libportaudio.so.2 from $libdir/sddaemon)
 * in place of the system's, so that it lists the daemon's devices and
 * plays and records through the daemon, shared with every other client.
 * It puts the library's folder first in LD_LIBRARY_PATH, hands on the
 * socket sdctl found (--socket, or the usual search) in $SDDAEMON_SOCKET,
 * and replaces itself with the program, whose exit status is then sdctl's.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "sdctl.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: sdctl run [OPTIONS] [--] COMMAND [ARG]...\n"
		   "Run a PortAudio program (python-sounddevice, PyAudio, ...) on sddaemon.\n\n"
		   "  -x, --exclusive        dedicated, bit-exact streams instead of shared ones\n"
		   "  -L, --library-dir DIR  where libportaudio.so.2 is (default: %s)\n"
		   "  -v, --verbose          say what is set for the program\n"
		   "  -h, --help             show this help\n",
		   SDD_PORTAUDIO_LIBDIR);
}

/* Puts dir before the folders of $LD_LIBRARY_PATH; returns 0 or -ENOMEM. */
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
	static const struct option options[] = {
		{ "exclusive", no_argument, NULL, 'x' },
		{ "library-dir", required_argument, NULL, 'L' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *dir = SDD_PORTAUDIO_LIBDIR;
	char lib[PATH_MAX], socket[PATH_MAX], absdir[PATH_MAX];
	int opt, verbose = 0, exclusive = 0;
	sdc_client *c;

	/* '+': the options end at the command, whose own options are its own. */
	while ((opt = getopt_long(argc, argv, "+xL:vh", options, NULL)) != -1) {
		switch (opt) {
		case 'x':
			exclusive = 1;
			break;
		case 'L':
			dir = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return sdctl_usage_error("run", "unknown option");
		}
	}
	if (optind >= argc)
		return sdctl_usage_error("run", "which program? (sdctl run [OPTIONS] -- COMMAND...)");
	errno = 0;
	if ((size_t)snprintf(lib, sizeof(lib), "%s/libportaudio.so.2", dir) >= sizeof(lib) ||
	    access(lib, R_OK) < 0) {
		fprintf(stderr, "sdctl run: no PortAudio library of sddaemon at '%s' (%s)\n", lib,
			strerror(errno ? errno : ENAMETOOLONG));
		return 1;
	}
	if (realpath(dir, absdir))
		dir = absdir;
	/* The daemon must answer now: the program would only fail later, less clearly. */
	c = sdctl_client(ctl);
	if (!c)
		return 1;
	/* Absolute, so that a program that changes its folder still finds it. */
	if (!realpath(sdc_socket_path(c), socket))
		snprintf(socket, sizeof(socket), "%s", sdc_socket_path(c));
	sdc_close(c);
	ctl->client = NULL;
	if (prepend_library_path(dir) < 0 || setenv("SDDAEMON_SOCKET", socket, 1) < 0 ||
	    (exclusive && setenv("SDDAEMON_PORTAUDIO_EXCLUSIVE", "1", 1) < 0)) {
		fprintf(stderr, "sdctl run: cannot set the environment: %s\n", strerror(errno));
		return 1;
	}
	if (verbose) {
		fprintf(stderr, "sdctl run: LD_LIBRARY_PATH=%s\n", getenv("LD_LIBRARY_PATH"));
		fprintf(stderr, "sdctl run: SDDAEMON_SOCKET=%s\n", socket);
		if (exclusive)
			fprintf(stderr, "sdctl run: SDDAEMON_PORTAUDIO_EXCLUSIVE=1\n");
		fprintf(stderr, "sdctl run: running '%s'\n", argv[optind]);
	}
	fflush(stdout);
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "sdctl run: cannot run '%s': %s\n", argv[optind], strerror(errno));
	/* The shell's statuses: 127 not found, 126 found but not runnable. */
	return errno == ENOENT ? 127 : 126;
}
