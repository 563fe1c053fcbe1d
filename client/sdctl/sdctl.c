/*
 * sdctl: global options, subcommand dispatch and the helpers the
 * subcommands share.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sdctl.h"

static const struct {
	const char *name;
	sdctl_cmd_fn fn;
	const char *help;
} commands[] = {
	{ "devices", sdctl_cmd_devices, "devices [DEVICE] [--kind input|output]  list devices or show one" },
	{ "hostapis", sdctl_cmd_hostapis, "hostapis [INDEX]                        list host APIs or show one" },
	{ "check", sdctl_cmd_check, "check [--input|--output] [-d DEV] [-c N] [-f FORMAT] [-r RATE]\n"
				    "                                           check settings against a device" },
	{ "play", sdctl_cmd_play, "play [OPTIONS] FILE...                  play files (-d DEV -r RATE -c N -f FORMAT -m MAP\n"
				  "                                           --latency L --blocksize N --exclusive --loop --detach --raw)" },
	{ "rec", sdctl_cmd_rec, "rec [OPTIONS] FILE                      record until Ctrl-C or -t SECONDS" },
	{ "playrec", sdctl_cmd_playrec, "playrec [OPTIONS] IN OUT                play IN and record OUT at once (-d IN,OUT)" },
	{ "wire", sdctl_cmd_wire, "wire [OPTIONS]                          input straight to output until Ctrl-C or -t SECONDS\n"
				  "                                           (-d IN,OUT -c N -r RATE -f FORMAT --blocksize N --latency L --exclusive)" },
	{ "meter", sdctl_cmd_meter, "meter [OPTIONS] [CHANNEL]...            peak and RMS levels of the input in dBFS, live\n"
				    "                                           (-d DEV -t SECONDS --interval SECONDS -c N -r RATE --exclusive)" },
	{ "stop", sdctl_cmd_stop, "stop [HANDLE]...                        stop playbacks left with --detach" },
	{ "status", sdctl_cmd_status, "status                                  what the daemon is doing" },
	{ "version", sdctl_cmd_version, "version                                 show sdctl, sddaemon and PortAudio versions" },
	{ "run", sdctl_cmd_run, "run [-x] [-v] [--] COMMAND [ARG]...      run a PortAudio program on sddaemon" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: sdctl [--socket PATH] [--json] COMMAND [ARGS]...\n"
		   "Control sddaemon, the audio server.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].help);
	fprintf(f, "\nOptions:\n"
		   "  -s, --socket PATH  the daemon's socket (default: $SDDAEMON_SOCKET, else\n"
		   "                     $XDG_RUNTIME_DIR/sddaemon/socket, else /run/sddaemon/socket)\n"
		   "  -j, --json         print results as JSON\n"
		   "  -h, --help         show this help\n"
		   "  -V, --version      show sdctl's version\n");
}

sdc_client *sdctl_client(struct sdctl *ctl)
{
	if (!ctl->client && sdc_connect(ctl->socket_path, &ctl->client) < 0) {
		sdctl_fail(NULL);
		return NULL;
	}
	return ctl->client;
}

int sdctl_fail(const char *what)
{
	const sdc_error *e = sdc_last_error();

	if (what)
		fprintf(stderr, "sdctl: %s: %s\n", what, e->message);
	else
		fprintf(stderr, "sdctl: %s\n", e->message);
	return 1;
}

int sdctl_fail_json(struct sdctl *ctl, const char *what)
{
	const sdc_error *e = sdc_last_error();

	if (ctl->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "code", json_object_new_string(e->code[0] ? e->code : "client_error"));
		json_object_object_add(o, "message", json_object_new_string(e->message));
		if (e->pa_error) {
			json_object_object_add(o, "pa_error", json_object_new_int(e->pa_error));
			json_object_object_add(o, "pa_error_text",
					       json_object_new_string(e->pa_error_text));
		}
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
									 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	}
	return sdctl_fail(what);
}

int sdctl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sdctl %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'sdctl --help'.\n");
	return 2;
}

int sdctl_parse_int(const char *text, int min, int max, int *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

int sdctl_parse_double(const char *text, double min, double max, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(v) || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct sdctl ctl = { 0 };
	int opt, status;

	/* '+' stops at the subcommand, whose options are its own. */
	while ((opt = getopt_long(argc, argv, "+s:jhV", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			ctl.socket_path = optarg;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("sdctl %s\n", SDD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, argv[optind]) != 0)
			continue;
		argc -= optind;
		argv += optind;
		optind = 0;
		status = commands[i].fn(&ctl, argc, argv);
		sdc_close(ctl.client);
		if (fflush(stdout) != 0 && status == 0) {
			fprintf(stderr, "sdctl: cannot write the output: %s\n", strerror(errno));
			status = 1;
		}
		return status;
	}
	fprintf(stderr, "sdctl: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return 2;
}
