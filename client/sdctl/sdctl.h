/*
 * sdctl, the command-line client: what its commands share.  The command
 * table (sdctl.c) names each command, its operands, its help and the
 * options it takes; options.c parses them into struct sdctl_opts before
 * the command runs; output.c prints results and errors (text or --json,
 * with hints).  Each command lives in a cmd-*.c file.  sdctl is
 * single-threaded, except for the callback thread of wire (cmd-wire.c).
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sdc.h"

/*
 * Keys of the options beyond the short ones (whose key is their letter):
 * long-only options get a key from 256 up.
 */
enum sdctl_key {
	SDCTL_OPT_INPUT_DEVICE = 256,
	SDCTL_OPT_OUTPUT_DEVICE,
	SDCTL_OPT_LATENCY,
	SDCTL_OPT_BLOCKSIZE,
	SDCTL_OPT_EXCLUSIVE,
	SDCTL_OPT_RAW,
	SDCTL_OPT_LOOP,
	SDCTL_OPT_DETACH,
	SDCTL_OPT_INPUT_MAPPING,
	SDCTL_OPT_KIND,
	SDCTL_OPT_INPUT,
	SDCTL_OPT_OUTPUT,
	SDCTL_OPT_INTERVAL,
	SDCTL_OPT_ONCE,
	SDCTL_OPT_MUTE,
	SDCTL_OPT_UNMUTE,
	SDCTL_OPT_WATCH,
};

/* Every option a command may take; zero members mean "not given". */
struct sdctl_opts {
	const char *device;	   /* -d: id, query, or IN,OUT for two-way commands */
	const char *input_device;  /* --input-device */
	const char *output_device; /* --output-device */
	double rate;		   /* -r */
	int channels;		   /* -c */
	sdc_dtype dtype;	   /* -f */
	int mapping[64];	   /* -m */
	int mapping_count;
	int input_mapping[64]; /* --input-mapping */
	int input_mapping_count;
	double latency;	  /* --latency: seconds or SDC_LATENCY_LOW/HIGH; 0 unset */
	int blocksize;	  /* --blocksize */
	bool exclusive;	  /* --exclusive */
	double seconds;	  /* -t */
	bool raw;	  /* --raw */
	const char *type; /* --type: a container name (wav, flac, raw, ...) */
	bool loop;	  /* --loop */
	bool detach;	  /* --detach */
	sdc_kind kind;	  /* devices --kind */
	bool input;	  /* check --input (else output) */
	double interval;  /* --interval, seconds; 0 unset */
	bool once;	  /* top --once */
	int mute;	  /* volume --mute (SDC_YES) or --unmute (SDC_NO); 0 unset */
	bool watch;	  /* devices --watch */
	bool verbose;	  /* run -v */
	const char *library_dir; /* run -L: where libportaudio.so.2 is */
};

struct sdctl_command;

struct sdctl {
	const char *socket_path;	 /* --socket, or NULL for the search order */
	bool json;			 /* --json: print results as JSON */
	bool quiet;			 /* -q: no live status line, no notes */
	sdc_client *client;		 /* connected on first use */
	const struct sdctl_command *cmd; /* the command running */
	struct sdctl_opts o;		 /* its options */
};

/*
 * Runs a command with its operands (what is left of its arguments once
 * the options are parsed into ctl->o); returns the exit status.
 */
typedef int (*sdctl_cmd_fn)(struct sdctl *ctl, int argc, char **argv);

/* An option a command takes, with the command's own help for it (NULL: the general one). */
struct sdctl_cmd_option {
	int key;
	const char *help;
};

struct sdctl_command {
	const char *name;
	sdctl_cmd_fn fn;
	const char *operands; /* for the usage line: "[OPTIONS] FILE..." */
	const char *summary;  /* one line, for sdctl --help */
	const char *help;     /* what it does, for sdctl CMD --help (lines of at most 78 columns) */
	const struct sdctl_cmd_option *options; /* ended by a zero key */
	bool options_first; /* options end at the first operand (for commands that run programs) */
};

/* The commands, ended by a NULL name (sdctl.c). */
extern const struct sdctl_command sdctl_commands[];

/* ---- options.c ---------------------------------------------------------- */

/*
 * Parses the options of ctl->cmd from argv (argv[0] is the command's
 * name) into ctl->o, ctl->json, ctl->quiet and ctl->socket_path.  Returns
 * the index of the first operand, -1 when --help was given (and printed),
 * or -2 after a usage error was reported.
 */
int sdctl_parse_options(struct sdctl *ctl, int argc, char **argv);

/* Prints a command's help: usage, what it does, its options. */
void sdctl_command_help(const struct sdctl_command *cmd, FILE *f);

/* Parses a number argument within bounds; returns 0 or -EINVAL. */
int sdctl_parse_int(const char *text, int min, int max, int *ret);
int sdctl_parse_double(const char *text, double min, double max, double *ret);

/* The closest of count names to word, or NULL when none is close (for "did you mean"). */
const char *sdctl_closest(const char *word, const char *const *names, size_t count);

/* Splits the devices for one direction: "IN,OUT" pairs, --input-device / --output-device. */
sdc_device sdctl_audio_device(const struct sdctl_opts *o, sdc_kind kind, char *buf, size_t size);

/* Fills stream options from the audio options. */
void sdctl_stream_options(const struct sdctl_opts *o, sdc_stream_options *so, char *in_buf,
			  char *out_buf, size_t size);

/* Installs SIGINT/SIGTERM handlers that set sdctl_interrupted (and interrupt waits). */
void sdctl_catch_signals(void);
extern volatile int sdctl_interrupted;

/* ---- output.c ----------------------------------------------------------- */

/* Connects on first use; reports the error and returns NULL on failure. */
sdc_client *sdctl_client(struct sdctl *ctl);

/*
 * Reports the thread's last libsdc error: "sdctl: WHAT: message" on
 * stderr (what may be NULL) with a hint where one helps, and with --json
 * the error object on stdout.  Returns exit status 1.
 */
int sdctl_fail(struct sdctl *ctl, const char *what);

/*
 * Reports an error of sdctl's own (code as the protocol's error codes, or
 * "file_error", "usage"), the same way.  Returns exit status 1.
 */
__attribute__((format(printf, 3, 4))) int sdctl_error(struct sdctl *ctl, const char *code,
						      const char *fmt, ...);

/* Adds a hint (a second line, in the JSON as "hint") to the next error reported. */
__attribute__((format(printf, 1, 2))) void sdctl_hint(const char *fmt, ...);

/* Reports a mistake on the command line and returns exit status 2. */
__attribute__((format(printf, 2, 3))) int sdctl_usage_error(struct sdctl *ctl, const char *fmt,
							    ...);

struct audiofile_spec;

/*
 * Checks -r against a file that describes itself: -r describes headerless
 * samples only, and for a file with a header it would play the file at the
 * wrong speed (shared streams are resampled, so a file of any rate plays as
 * it is).  Returns 0, or exit status 2 after reporting the disagreement.
 */
int sdctl_check_file_rate(struct sdctl *ctl, const struct sdctl_opts *o, const char *path,
			  const struct audiofile_spec *spec, int file_rate);

/*
 * Whether the daemon went away under stream s.  *st then holds the
 * stream's status as its memory has it: failed, with libsdc's reason
 * ("sddaemon stopped") in st->error.
 */
bool sdctl_daemon_lost(sdc_stream *s, sdc_status *st);

/* Prints a JSON value as one line on stdout and releases it. */
void sdctl_json_print(json_object *o);

/* A sound's format as sdctl's JSON results carry it: samplerate, channels, dtype, frames. */
void sdctl_json_add_format(json_object *o, double rate, int channels, sdc_dtype dtype,
			   long long frames);

/* A stream's status as sdctl's JSON results carry it: handle, state, flags, xruns, counters. */
void sdctl_json_add_status(json_object *o, const sdc_status *st, bool out, bool in);

/* The callback flags as an object of booleans, as the daemon's status has them. */
json_object *sdctl_json_flags(unsigned flags);

/* The name of a stream state ("running", ...). */
const char *sdctl_state_name(sdc_state state);

/* Prints the xruns and lost frames a status reports, if any, on stderr; returns their count. */
unsigned sdctl_report_xruns(struct sdctl *ctl, const char *what, const sdc_status *st);

/* ---- the commands -------------------------------------------------------- */

int sdctl_cmd_devices(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_hostapis(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_check(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_play(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_rec(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_playrec(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_wire(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_meter(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_stop(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_volume(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_status(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_top(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_version(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_help(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_run(struct sdctl *ctl, int argc, char **argv);
