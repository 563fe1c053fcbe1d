/*
 * sdctl: the command table, the global options and dispatch, sdctl help
 * and "did you mean".  A command is one entry of sdctl_commands (its name,
 * function, operands, help and the options it takes) and a function in a
 * cmd-*.c file.  Main thread.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sdctl.h"

/* A command's own options, ended by the zero key. */
#define OPTIONS(...) ((const struct sdctl_cmd_option[]){ __VA_ARGS__, { 0, NULL } })

/* clang-format off */
/* The device and stream options of commands that open streams. */
#define DEVICE_OPTIONS { 'd', NULL }, { SDCTL_OPT_INPUT_DEVICE, NULL }, { SDCTL_OPT_OUTPUT_DEVICE, NULL }
#define STREAM_OPTIONS { SDCTL_OPT_LATENCY, NULL }, { SDCTL_OPT_BLOCKSIZE, NULL }, { SDCTL_OPT_EXCLUSIVE, NULL }

const struct sdctl_command sdctl_commands[] = {
	{
		.name = "devices",
		.fn = sdctl_cmd_devices,
		.operands = "[OPTIONS] [DEVICE]",
		.summary = "list the devices, or show one",
		.help = "Without DEVICE, list the devices as 'python3 -m sounddevice' does: '>' marks\n"
			"the default input, '<' the default output, '*' both.  With DEVICE (an id,\n"
			"or words that appear in order in \"device name, host API\", or a stable id\n"
			"such as alsa:hw:PCH,0), show that device.  With --watch, list the devices,\n"
			"then print each change (devices that came or went, the defaults) until Ctrl-C.",
		.options = OPTIONS({ SDCTL_OPT_KIND, "only a device with channels of this kind (without DEVICE: the default)" },
				   { SDCTL_OPT_WATCH, NULL }),
	},
	{
		.name = "hostapis",
		.fn = sdctl_cmd_hostapis,
		.operands = "[OPTIONS] [INDEX]",
		.summary = "list the host APIs, or show one",
		.help = "List PortAudio's host APIs with their devices and defaults, or show the one\n"
			"at INDEX.",
	},
	{
		.name = "check",
		.fn = sdctl_cmd_check,
		.operands = "[OPTIONS]",
		.summary = "check settings against a device",
		.help = "Ask whether a device supports the settings, filling in the defaults (the\n"
			"device's channels and rate, float32).  Prints the settings when they are\n"
			"supported, and the reason when not (exit status 1).",
		.options = OPTIONS({ SDCTL_OPT_INPUT, NULL }, { SDCTL_OPT_OUTPUT, NULL }, { 'd', NULL },
				   { 'c', NULL },
				   { 'f', "sample format: float32, int32, int24, int16, int8 or uint8" },
				   { 'r', NULL }),
	},
	{
		.name = "play",
		.fn = sdctl_cmd_play,
		.operands = "[OPTIONS] FILE...",
		.summary = "play sound files (- for standard input)",
		.help = "Play the files one after the other: WAV, FLAC, Ogg, AIFF, anything libsndfile\n"
			"reads; - reads standard input.  Headerless samples (.raw, .pcm, --raw or\n"
			"--type raw) need -r, -c and -f.  On a terminal a status line shows the time,\n"
			"the levels and the xruns.  Ctrl-C stops (exit status 130).",
		.options = OPTIONS(DEVICE_OPTIONS,
				   { 'r', "the rate to play at (default: the file's); raw samples: theirs" },
				   { 'c', "raw samples: their channel count" },
				   { 'f', "the format sent (default: the file's); raw samples: theirs" },
				   { 'm', "the output channel (from 1) of each of the file's channels" },
				   STREAM_OPTIONS,
				   { SDCTL_OPT_RAW, "the files are headerless samples" },
				   { 'T', "the file type where the name has none (raw, wav, flac, ...)" },
				   { SDCTL_OPT_LOOP, NULL },
				   { SDCTL_OPT_DETACH, "hand a short sound (up to 32 MiB) over; it plays on" }),
	},
	{
		.name = "rec",
		.fn = sdctl_cmd_rec,
		.operands = "[OPTIONS] FILE",
		.summary = "record into a file (- for standard output)",
		.help = "Record until Ctrl-C or -t SECONDS; the file holds every frame captured and is\n"
			"valid either way.  The type comes from the name (.wav, .flac, .ogg, .aiff,\n"
			".au, .raw) or --type; - writes WAV (or --type wav, ogg, au or raw) to\n"
			"standard output.  The format defaults to int24 (float32 for Ogg and raw),\n"
			"channels to 2, the rate to the device's.  On a terminal a status line shows\n"
			"the time, the levels and the xruns.",
		.options = OPTIONS(DEVICE_OPTIONS, { 'r', NULL },
				   { 'c', "channels to record (default 2)" },
				   { 'f', "sample format of the recording" },
				   { 'm', "the input channels to record (1,2)" }, STREAM_OPTIONS,
				   { 't', "record this many seconds of frames, exactly" },
				   { SDCTL_OPT_RAW, "write headerless samples" },
				   { 'T', "the file type: wav, flac, ogg, aiff, au, raw, ..." }),
	},
	{
		.name = "playrec",
		.fn = sdctl_cmd_playrec,
		.operands = "[OPTIONS] IN OUT",
		.summary = "play IN and record OUT at once",
		.help = "Play IN and record OUT at the same time, for as long as IN lasts; either may\n"
			"be - (standard input, standard output).  -d IN,OUT names a device for each\n"
			"direction; -c and -f describe the recording.",
		.options = OPTIONS({ 'd', "the device, or IN,OUT: one for each direction" },
				   { SDCTL_OPT_INPUT_DEVICE, NULL }, { SDCTL_OPT_OUTPUT_DEVICE, NULL },
				   { 'r', NULL },
				   { 'c', "channels to record (default: as many as IN has)" },
				   { 'f', "format of the recording (default: IN's)" },
				   { 'm', "the output channel (from 1) of each of IN's channels" },
				   { SDCTL_OPT_INPUT_MAPPING, NULL }, STREAM_OPTIONS,
				   { SDCTL_OPT_RAW, "IN and OUT are headerless samples" },
				   { 'T', "the type of OUT (and of IN, where the name has none)" }),
	},
	{
		.name = "wire",
		.fn = sdctl_cmd_wire,
		.operands = "[OPTIONS]",
		.summary = "input straight to output",
		.help = "Copy input straight to output until Ctrl-C or -t SECONDS, as sounddevice's\n"
			"wire.py; --exclusive makes the copy bit-exact.  The xruns are reported at the\n"
			"end.",
		.options = OPTIONS({ 'd', "the device, or IN,OUT: one for each direction" },
				   { SDCTL_OPT_INPUT_DEVICE, NULL }, { SDCTL_OPT_OUTPUT_DEVICE, NULL },
				   { 'r', NULL }, { 'c', "channels (default 2)" },
				   { 'f', "sample format (default float32)" }, STREAM_OPTIONS, { 't', NULL }),
	},
	{
		.name = "meter",
		.fn = sdctl_cmd_meter,
		.operands = "[OPTIONS] [CHANNEL]...",
		.summary = "live peak and RMS levels of the input",
		.help = "Show the input's peak and RMS levels per channel in dBFS, with clipping\n"
			"marked, until Ctrl-C or -t SECONDS: on a terminal one line redrawn in place,\n"
			"else (and with -q) one line per refresh (time=... peak1=... rms1=...\n"
			"clip1=...).  CHANNEL picks channels (from 1).",
		.options = OPTIONS({ 'd', "the input device" }, { 'r', NULL },
				   { 'c', "channels to open (default: the first two)" },
				   { 'f', "sample format to measure (default float32)" }, STREAM_OPTIONS,
				   { 't', NULL },
				   { SDCTL_OPT_INTERVAL, "seconds of frames per refresh (default 0.1)" }),
	},
	{
		.name = "stop",
		.fn = sdctl_cmd_stop,
		.operands = "[OPTIONS] [HANDLE]...",
		.summary = "stop playbacks left with play --detach",
		.help = "Stop the playbacks this user left with 'sdctl play --detach': those named by\n"
			"their handles, or all of them.  Prints the handles stopped.",
	},
	{
		.name = "volume",
		.fn = sdctl_cmd_volume,
		.operands = "[OPTIONS] HANDLE|all [LEVEL]",
		.summary = "show or set the volume of playbacks left with play --detach",
		.help = "Show the volume of the playbacks this user left with 'sdctl play --detach'\n"
			"(the one named by HANDLE, or all of them), or set it to LEVEL: a gain from\n"
			"0 to 10 (0.5), a percentage of it (50%), or decibels (-6dB); one for every\n"
			"channel, or one per channel separated by commas (1,0.5).  The daemon moves to\n"
			"a new volume along a 20 ms ramp.  Options come before HANDLE.",
		.options = OPTIONS({ SDCTL_OPT_MUTE, NULL }, { SDCTL_OPT_UNMUTE, NULL }),
		/* A level in dB may be negative: -6dB after HANDLE is no option. */
		.options_first = true,
	},
	{
		.name = "status",
		.fn = sdctl_cmd_status,
		.operands = "[OPTIONS]",
		.summary = "what the daemon is doing",
		.help = "Show the daemon's clients and streams, the device streams it has open (rate,\n"
			"channels, load, xruns) and your own streams.",
	},
	{
		.name = "top",
		.fn = sdctl_cmd_top,
		.operands = "[OPTIONS]",
		.summary = "a live view of device streams and clients",
		.help = "Show the device streams (device, mode, rate, channels, load, xruns) and the\n"
			"clients with their streams (pid, program, rate, ring fill, xruns), refreshed\n"
			"in place until Ctrl-C or q.  --once prints one view; --json prints the\n"
			"daemon's status as one object per refresh (one with --once).",
		.options = OPTIONS({ SDCTL_OPT_ONCE, NULL },
				   { SDCTL_OPT_INTERVAL, "seconds between refreshes (default 1)" }),
	},
	{
		.name = "version",
		.fn = sdctl_cmd_version,
		.operands = "[OPTIONS]",
		.summary = "versions of sdctl, sddaemon and PortAudio",
		.help = "Show the versions of sdctl, the daemon, the protocol and PortAudio.",
	},
	{
		.name = "run",
		.fn = sdctl_cmd_run,
		.operands = "[OPTIONS] [--] COMMAND [ARG]...",
		.summary = "run a PortAudio program on sddaemon",
		.help = "Run a PortAudio program (python-sounddevice, PyAudio, ...) unchanged with\n"
			"sddaemon's PortAudio library: it lists the daemon's devices, and its streams\n"
			"are the daemon's, shared with every other client.  The library's folder goes\n"
			"first in LD_LIBRARY_PATH, the socket sdctl found into SDDAEMON_SOCKET; then\n"
			"sdctl becomes COMMAND, whose exit status is its own (127: not found, 126:\n"
			"not runnable).  Nothing runs when no daemon answers.",
		.options = OPTIONS({ SDCTL_OPT_EXCLUSIVE, "dedicated, bit-exact streams, not shared ones" },
				   { 'v', NULL }, { 'L', NULL }),
		.options_first = true,
	},
	{
		.name = "help",
		.fn = sdctl_cmd_help,
		.operands = "[COMMAND]",
		.summary = "help on a command",
		.help = "Show the commands, or the help of COMMAND (as 'sdctl COMMAND --help').",
	},
	{ .name = NULL },
};
/* clang-format on */

static void usage(FILE *f)
{
	fprintf(f, "Usage: sdctl [--socket PATH] [--json] [-q] COMMAND [OPTIONS] [ARGS]...\n"
		   "Control sddaemon, the audio server.\n\nCommands:\n");
	for (const struct sdctl_command *c = sdctl_commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nOptions (also after the command):\n"
		   "  -s, --socket PATH  the daemon's socket (default: $SDDAEMON_SOCKET, else\n"
		   "                     $XDG_RUNTIME_DIR/sddaemon/socket, else\n"
		   "                     /run/sddaemon/socket)\n"
		   "  -j, --json         print results as JSON\n"
		   "  -q, --quiet        no live status line and no notes\n"
		   "  -h, --help         show this help\n"
		   "  -V, --version      show sdctl's version\n"
		   "\n'sdctl COMMAND --help' (or 'sdctl help COMMAND') tells more; see also "
		   "sdctl(1).\n");
}

static const struct sdctl_command *find_command(const char *name)
{
	for (const struct sdctl_command *c = sdctl_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* Reports an unknown command, with the closest one. */
static int unknown_command(struct sdctl *ctl, const char *name)
{
	const char *names[64], *near;
	size_t n = 0;

	for (const struct sdctl_command *c = sdctl_commands; c->name && n < 64; c++)
		names[n++] = c->name;
	near = sdctl_closest(name, names, n);
	if (near) {
		sdctl_hint("Try 'sdctl help' for the list of commands.");
		return sdctl_usage_error(ctl, "unknown command '%s'; did you mean '%s'?", name,
					 near);
	}
	return sdctl_usage_error(ctl, "unknown command '%s'", name);
}

int sdctl_cmd_help(struct sdctl *ctl, int argc, char **argv)
{
	const struct sdctl_command *cmd;

	if (argc == 0) {
		usage(stdout);
		return 0;
	}
	if (argc > 1)
		return sdctl_usage_error(ctl, "give one COMMAND");
	cmd = find_command(argv[0]);
	if (!cmd) {
		ctl->cmd = NULL;
		return unknown_command(ctl, argv[0]);
	}
	sdctl_command_help(cmd, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },	    { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },	    { 0 },
	};
	struct sdctl ctl = { 0 };
	int opt, status, first;

	/* '+' stops at the command, whose options are its own. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:s:jqhV", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			ctl.socket_path = optarg;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 'q':
			ctl.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("sdctl %s\n", SDD_VERSION);
			return 0;
		case ':':
			return sdctl_usage_error(&ctl, "--socket needs a value (PATH)");
		default:
			return sdctl_usage_error(&ctl, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	ctl.cmd = find_command(argv[optind]);
	if (!ctl.cmd)
		return unknown_command(&ctl, argv[optind]);
	argc -= optind;
	argv += optind;
	first = sdctl_parse_options(&ctl, argc, argv);
	if (first == -1)
		return 0;
	if (first < 0)
		return 2;
	status = ctl.cmd->fn(&ctl, argc - first, argv + first);
	sdc_close(ctl.client);
	if (fflush(stdout) != 0 && status == 0) {
		fprintf(stderr, "sdctl: cannot write the output: %s\n", strerror(errno));
		status = 1;
	}
	return status;
}
