/*
 * sddaemon's entry point: options, logging, PortAudio, the socket and the
 * event loop, and a clean stop on SIGINT or SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "client.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "sockpath.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: sddaemon [OPTION]...\n"
		   "Serve audio devices to clients over a Unix socket.\n\n"
		   "  -s, --socket PATH      listen on PATH (default: $SDDAEMON_SOCKET, else\n"
		   "                         $XDG_RUNTIME_DIR/sddaemon/socket, else %s)\n"
		   "      --max-clients N    refuse clients beyond N (default 4096)\n"
		   "  -v, --verbose          log more; repeat for more detail (-vvv also lets\n"
		   "                         PortAudio and ALSA print their own diagnostics)\n"
		   "  -h, --help             show this help\n"
		   "  -V, --version          show the version\n",
		   SOCKPATH_SYSTEM);
}

/* Lets the daemon hold as many connections as the hard limit allows. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_errno(LOG_LEVEL_WARNING, -errno, "Failed to raise the file limit, ignoring");
	}
}

static void close_walk_cb(uv_handle_t *handle, void *arg)
{
	if (!uv_is_closing(handle))
		uv_close(handle, NULL);
}

void daemon_stop(struct daemon *d, int status)
{
	struct list *pos, *tmp;

	if (d->stopping)
		return;
	d->stopping = true;
	d->exit_status = status;
	log_notice("Shutting down");
	server_close(&d->server);
	list_for_each_safe(pos, tmp, &d->clients)
	{
		struct client *c = list_entry(pos, struct client, link);
		json_object *fields = json_object_new_object();

		json_object_object_add(fields, "reason", json_object_new_string("daemon stopping"));
		client_event(c, "shutdown", fields);
		client_close(c);
	}
	/* Streams that outlived their clients end here, and every device stream closes. */
	engine_fini(&d->engine);
	uv_signal_stop(&d->sigint);
	uv_signal_stop(&d->sigterm);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
}

static void on_signal(uv_signal_t *handle, int signum)
{
	struct daemon *d = handle->data;

	log_info("Received %s", strsignal(signum));
	daemon_stop(d, 0);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "max-clients", required_argument, NULL, 'M' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct daemon d = { 0 };
	char path[108];
	int verbose = 0, opt, r;
	uv_loop_t loop;

	d.opt.max_clients = 4096;
	d.opt.max_output_queue = 4 * 1024 * 1024;
	d.opt.max_streams_per_client = 16;
	d.opt.max_shm_per_client = 64 * 1024 * 1024;
	d.opt.device_idle_time = 5.0;
	while ((opt = getopt_long(argc, argv, "s:vhV", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			d.opt.socket_path = optarg;
			break;
		case 'M': {
			char *end;
			long n = strtol(optarg, &end, 10);

			if (*end || n < 1 || n > 1000000) {
				fprintf(stderr, "sddaemon: invalid --max-clients '%s'\n", optarg);
				return 2;
			}
			d.opt.max_clients = (int)n;
			break;
		}
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("sddaemon %s\n", SDD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sddaemon: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (sockpath_resolve(d.opt.socket_path, path, sizeof(path)) < 0) {
		fprintf(stderr, "sddaemon: socket path too long\n");
		return 2;
	}

	log_open(verbose >= 2 ? LOG_LEVEL_DEBUG : verbose == 1 ? LOG_LEVEL_INFO : LOG_LEVEL_NOTICE,
		 verbose < 3);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();

	if (uv_loop_init(&loop) < 0)
		return 1;
	d.loop = &loop;
	list_init(&d.clients);
	engine_init(&d.engine, &d);

	r = devices_init(&d.devices);
	if (r < 0)
		goto out;
	r = server_open(&d, path);
	if (r < 0)
		goto out;
	uv_signal_init(&loop, &d.sigint);
	uv_signal_init(&loop, &d.sigterm);
	d.sigint.data = d.sigterm.data = &d;
	uv_signal_start(&d.sigint, on_signal, SIGINT);
	uv_signal_start(&d.sigterm, on_signal, SIGTERM);
	log_notice("sddaemon %s ready: %d devices", SDD_VERSION, d.devices.count);

	uv_run(&loop, UV_RUN_DEFAULT);
	r = d.exit_status;
out:
	/* Close whatever is left (after a failed start) and let the callbacks run. */
	uv_walk(&loop, close_walk_cb, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	devices_fini(&d.devices);
	return r < 0 ? 1 : r;
}
