/*
 * sddaemon's entry point: the command line and the configuration file,
 * logging, PortAudio, the watch for devices, the socket (passed by systemd
 * or our own) and the event loop; readiness for systemd; a clean stop on
 * SIGINT or SIGTERM and a reload (configuration and devices) on SIGHUP.
 * Run as "sddaemon --probe-devices" it is the daemon's device probe
 * (backend-pa-probe.c) instead.  Loop thread.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "backend.h"
#include "client-streams.h"
#include "backend-pa.h"
#include "client.h"
#include "cmd-devices.h"
#include "commands.h"
#include "conf.h"
#include "config.h"
#include "daemon.h"
#include "devstream.h"
#include "log.h"
#include "sockpath.h"

/* What the command line asked for, besides settings. */
struct cmdline {
	struct conf conf; /* the settings given as options; they win over the file */
	const char *socket_path;
	const char *config_path;
	int verbose;
	bool check_config;
};

/* Options without a short form; those that set a key are OPT_KEY_FIRST + the key's index. */
enum {
	OPT_CHECK_CONFIG = 0x100,
	OPT_KEY_FIRST,
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: sddaemon [OPTION]...\n"
		   "Serve audio devices to clients over a Unix socket.\n\n"
		   "  -s, --socket PATH      listen on PATH (default: $SDDAEMON_SOCKET, else\n"
		   "                         $XDG_RUNTIME_DIR/sddaemon/socket, else %s);\n"
		   "                         ignored when systemd passes the socket\n"
		   "  -c, --config PATH      read the configuration from PATH (default: the\n"
		   "                         user's %s if it exists,\n"
		   "                         else %s/%s)\n"
		   "      --check-config     check the configuration, print the settings and exit\n"
		   "  -v, --verbose          log more; repeat for more detail (-vvv also lets\n"
		   "                         PortAudio and ALSA print their own diagnostics)\n"
		   "  -h, --help             show this help\n"
		   "  -V, --version          show the version\n\n"
		   "Every key of the configuration file can be given as an option, which wins\n"
		   "over the file (see sddaemon.conf(5)):\n",
		   SOCKPATH_SYSTEM, "~/.config/" CONF_FILE_NAME, SDD_SYSCONFDIR, CONF_FILE_NAME);
	conf_write_help(f);
}

/*
 * Parses the command line into cl.  Returns -1 to go on, or the status to
 * exit with (after --help, --version or a mistake).
 */
static int parse_args(int argc, char **argv, struct cmdline *cl)
{
	/* The keys' options (--max-clients, …) are filled in below; the last entry stays zero. */
	struct option options[6 + CONF_KEY_COUNT + 1] = {
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
	};
	char names[CONF_KEY_COUNT][64];
	int opt;

	/* Each key's option is its name with dashes: max_clients is --max-clients. */
	for (int k = 0; k < CONF_KEY_COUNT; k++) {
		snprintf(names[k], sizeof(names[k]), "%s", conf_key(k)->name);
		for (char *p = names[k]; *p; p++)
			if (*p == '_')
				*p = '-';
		options[6 + k] = (struct option){ names[k], required_argument, NULL,
						  OPT_KEY_FIRST + k };
	}
	while ((opt = getopt_long(argc, argv, "s:c:vhV", options, NULL)) != -1) {
		char err[256];

		if (opt >= OPT_KEY_FIRST && opt < OPT_KEY_FIRST + CONF_KEY_COUNT) {
			int k = opt - OPT_KEY_FIRST;

			if (conf_set(&cl->conf, conf_key(k)->name, optarg, err, sizeof(err)) < 0) {
				fprintf(stderr, "sddaemon: --%s: %s\n", names[k], err);
				return 2;
			}
			continue;
		}
		switch (opt) {
		case 's':
			cl->socket_path = optarg;
			break;
		case 'c':
			cl->config_path = optarg;
			break;
		case OPT_CHECK_CONFIG:
			cl->check_config = true;
			break;
		case 'v':
			cl->verbose++;
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
	/* -v and -vv stand for --log-level info and debug, unless that is given too. */
	if (cl->verbose > 0 && !conf_is_set(&cl->conf, "log_level")) {
		char err[64];

		if (conf_set(&cl->conf, "log_level", cl->verbose >= 2 ? "debug" : "info", err,
			     sizeof(err)) < 0) {
			fprintf(stderr, "sddaemon: %s\n", err);
			return 1;
		}
	}
	return -1;
}

/*
 * Reads the configuration file (when there is one) and lays the command
 * line over it.  Returns 0 with *ret filled, or a negative errno with a
 * message naming the file and line in msg.
 */
static int load_settings(struct daemon *d, struct conf *ret, char *msg, size_t size)
{
	struct conf_error err = { 0 };
	char found[4096];
	const char *path = d->config_path;
	struct conf c;
	int r;

	r = conf_init(&c);
	if (r < 0) {
		snprintf(msg, size, "out of memory");
		return r;
	}
	if (!path && conf_find_file(found, sizeof(found)) == 0)
		path = found;
	if (path) {
		r = conf_load_file(&c, path, &err);
		if (r < 0) {
			if (err.line > 0)
				snprintf(msg, size, "%s:%u: %s", err.file, err.line, err.message);
			else
				snprintf(msg, size, "%s: %s", err.file, err.message);
			goto fail;
		}
		log_info("Read the configuration from '%s'", path);
	} else {
		log_info("No configuration file (looked for '%s'); using the defaults", found);
	}
	r = conf_merge(&c, d->cmdline);
	if (r < 0) {
		snprintf(msg, size, "out of memory");
		goto fail;
	}
	*ret = c;
	return 0;
fail:
	conf_clear(&c);
	return r;
}

/* Makes c the daemon's settings, taking over what it holds (c is left empty). */
static void apply_settings(struct daemon *d, struct conf *c)
{
	conf_clear(&d->settings);
	d->settings = *c;
	*c = (struct conf){ 0 };
	d->devices.default_input_query = d->settings.default_input_device;
	d->devices.default_output_query = d->settings.default_output_device;
	log_set_level(d->settings.log_level);
}

/*
 * SIGHUP: re-reads the configuration (keeping the old one when the new one
 * is bad; the file is never waited for) and rescans.
 */
static void reload(struct daemon *d)
{
	char msg[640];
	struct conf c;

	notify_reloading(d);
	if (load_settings(d, &c, msg, sizeof(msg)) < 0) {
		log_error("%s; keeping the previous settings", msg);
	} else {
		apply_settings(d, &c);
		log_notice("Reloaded the configuration");
		/* Clients the new allow lists refuse are disconnected. */
		client_recheck_access(d);
		devices_settings_changed(&d->devices);
	}
	devices_request_rescan(&d->devices);
	notify_ready(d);
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

/* Begins a clean shutdown: stops accepting, tells clients, closes everything. */
static void daemon_stop(struct daemon *d, int status)
{
	struct list *pos, *tmp;

	if (d->stopping)
		return;
	d->stopping = true;
	d->exit_status = status;
	log_notice("Shutting down");
	notify_stopping(d);
	server_close(&d->server);
	list_for_each_safe(pos, tmp, &d->clients)
	{
		struct client *c = list_entry(pos, struct client, link);
		json_object *fields = json_object_new_object();

		json_object_object_add(fields, "reason", json_object_new_string("daemon stopping"));
		client_event(c, "shutdown", fields);
		client_close(c);
	}
#ifdef SDD_TEST_HOOKS
	/* A stalled callback would keep PortAudio from stopping the stream. */
	atomic_store(&devstream_test_stall, 0);
#endif
	/* Streams that outlived their clients end here, and every device stream closes. */
	engine_fini(&d->engine);
	/* Signals that come now stay blocked and pending until the process exits. */
	uv_close((uv_handle_t *)&d->signals, NULL);
	hotplug_stop(&d->hotplug);
	devices_stop(&d->devices);
}

static void on_signal(struct daemon *d, int signum)
{
	log_info("Received %s", strsignal(signum));
#ifdef SDD_TEST_HOOKS
	if (signum == SIGUSR1) {
		int stall = !atomic_load(&devstream_test_stall);

		atomic_store(&devstream_test_stall, stall);
		log_warning("Test hook: audio callbacks %s", stall ? "stalled" : "released");
		return;
	}
#endif
	if (signum == SIGHUP)
		reload(d);
	else
		daemon_stop(d, 0);
}

static void on_signalfd(uv_poll_t *handle, int status, int events)
{
	struct daemon *d = handle->data;
	struct signalfd_siginfo si;

	(void)status;
	(void)events;
	while (!d->stopping && read(d->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		on_signal(d, (int)si.ssi_signo);
}

/*
 * Sets up the signals.  The signals are blocked
 * in this thread before any other exists, so every thread inherits the mask:
 * no signal handler ever runs, least of all on an audio thread, and the loop
 * reads the signals from a signalfd.  Returns 0 or a negative errno.
 */
static int watch_signals(struct daemon *d)
{
	sigset_t set;
	int r;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
#ifdef SDD_TEST_HOOKS
	sigaddset(&set, SIGUSR1);
#endif
	r = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (r)
		return -r;
	d->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->signal_fd < 0)
		return -errno;
	r = uv_poll_init(d->loop, &d->signals, d->signal_fd);
	if (r < 0)
		return r;
	d->signals.data = d;
	uv_poll_start(&d->signals, UV_READABLE, on_signalfd);
	return 0;
}

int main(int argc, char **argv)
{
	struct cmdline cl = { 0 };
	struct daemon d = { 0 };
	struct conf settings;
	char path[108], msg[640];
	uv_loop_t loop;
	unsigned stuck;
	int r;

	/* The device probe (backend-pa-probe.c): this program, run by the daemon. */
	if (argc == 2 && strcmp(argv[1], "--probe-devices") == 0)
		return backend_pa_probe_main();
	if (conf_init(&cl.conf) < 0) {
		fprintf(stderr, "sddaemon: out of memory\n");
		return 1;
	}
	r = parse_args(argc, argv, &cl);
	if (r >= 0)
		goto out_args;
	d.config_path = cl.config_path;
	d.cmdline = &cl.conf;
	if (sockpath_resolve(cl.socket_path, path, sizeof(path)) < 0) {
		fprintf(stderr, "sddaemon: socket path too long\n");
		r = 2;
		goto out_args;
	}

	log_open(cl.conf.log_level, cl.verbose < 3);
	if (load_settings(&d, &settings, msg, sizeof(msg)) < 0) {
		log_error("%s", msg);
		r = 1;
		goto out_args;
	}
	if (cl.check_config) {
		conf_write(&settings, stdout);
		conf_clear(&settings);
		r = 0;
		goto out_args;
	}
	apply_settings(&d, &settings);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();

	if (uv_loop_init(&loop) < 0) {
		r = 1;
		goto out_args;
	}
	d.loop = &loop;
	d.signal_fd = -1;
	list_init(&d.clients);
	list_init(&d.orphans);
	users_init(&d.users);
	d.backend = backend_pa_new();
	if (!d.backend) {
		r = 1;
		goto out;
	}
	engine_init(&d.engine, &(struct engine_config){
					.loop = &loop,
					.backend = d.backend,
					.devices = &d.devices,
					.opt = { .device_idle_time = &d.settings.device_idle_time,
						 .default_samplerate = &d.settings.default_samplerate,
						 .resample_quality = &d.settings.resample_quality,
						 .max_resamplers = &d.settings.max_resamplers_per_device,
						 .start_timeout = &d.settings.device_start_timeout,
						 .xrun_batch_ms = ENGINE_XRUN_BATCH_MS,
						 .watch_ms = ENGINE_WATCH_MS,
						 .loss_ms = ENGINE_LOSS_MS },
					.cb = client_streams_callbacks(&d),
				});
	uv_idle_init(&loop, &d.reaper);
	client_start_sweeper(&d);
	/*
	 * Signals are caught before the socket appears: whoever sees it may stop
	 * the daemon at once, and the loop then runs the clean stop.
	 */
	r = watch_signals(&d);
	if (r < 0) {
		log_error("Cannot watch for signals: %s", strerror(-r));
		goto out;
	}

	r = devices_init(&d.devices, d.backend);
	if (r < 0)
		goto out;
	devices_watch(&d.devices, &loop, &(struct devices_hooks){
						 .open_streams = commands_open_device_streams,
						 .device_in_use = commands_device_in_use,
						 .changed = commands_devices_changed,
						 .data = &d,
					 });
	r = hotplug_start(&d.hotplug, &loop, &d.devices);
	if (r < 0) {
		log_errno(LOG_LEVEL_ERROR, r, "Cannot watch for devices");
		goto out;
	}
	r = server_open(&d, path);
	if (r < 0)
		goto out;
	r = notify_start(&d);
	if (r < 0)
		goto out;
	/* PortAudio is up and the socket serves: tell systemd. */
	notify_ready(&d);
	log_notice("sddaemon %s ready: %d devices", SDD_VERSION, d.devices.count);

	uv_run(&loop, UV_RUN_DEFAULT);
	r = d.exit_status;
out:
	/* Close whatever is left (after a failed start) and let the callbacks run. */
	uv_walk(&loop, close_walk_cb, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	if (d.signal_fd >= 0)
		close(d.signal_fd);
	stuck = d.backend && d.backend->ops->stuck ? d.backend->ops->stuck(d.backend) : 0;
	if (devstream_orphans() > 0 || stuck > 0) {
		/*
		 * A device stream whose close never returned, or an open given up
		 * on, may still be inside PortAudio: stopping PortAudio under it
		 * could hang or abort, so the process ends with PortAudio as it is.
		 */
		log_warning("%u device streams could not be closed and %u opens did not return; leaving PortAudio running",
			    devstream_orphans(), stuck);
		devices_leave_backend(&d.devices);
	}
	devices_fini(&d.devices);
	/* Their calls still use the backend (they reach it through their streams). */
	if (devstream_orphans() == 0 && stuck == 0)
		backend_pa_free(d.backend);
	users_fini(&d.users);
out_args:
	conf_clear(&d.settings);
	conf_clear(&cl.conf);
	return r < 0 ? 1 : r;
}
