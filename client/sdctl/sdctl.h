/*
 * sdctl, the command-line client: what its subcommands share.  Each
 * subcommand lives in a cmd-*.c file and has the signature of sdctl_cmd_fn.
 */
#pragma once

#include <stdbool.h>

#include "sdc.h"

struct sdctl {
	const char *socket_path; /* --socket, or NULL for the search order */
	bool json;		 /* --json: print results as JSON */
	sdc_client *client;	 /* connected on first use */
};

/* Runs a subcommand with its own argv (argv[0] is the subcommand's name); returns the exit status. */
typedef int (*sdctl_cmd_fn)(struct sdctl *ctl, int argc, char **argv);

/* Connects on first use; prints the error and returns NULL on failure. */
sdc_client *sdctl_client(struct sdctl *ctl);

/* Prints "sdctl: " and the thread's last libsdc error on stderr; returns exit status 1. */
int sdctl_fail(const char *what);

/* With --json, prints the last error as a JSON object on stdout too. */
int sdctl_fail_json(struct sdctl *ctl, const char *what);

/* Prints a usage error for a subcommand and returns exit status 2. */
__attribute__((format(printf, 2, 3))) int sdctl_usage_error(const char *cmd, const char *fmt, ...);

/* Parses a positive number argument; returns 0 or -EINVAL. */
int sdctl_parse_int(const char *text, int min, int max, int *ret);
int sdctl_parse_double(const char *text, double min, double max, double *ret);

/*
 * The audio options play, rec, playrec (and wire) share, in the style of
 * aucat and pacat.  Zero members mean "not given".
 */
struct audio_opts {
	const char *device;	   /* -d: id, query, or IN,OUT for two-way commands */
	const char *input_device;  /* --input-device */
	const char *output_device; /* --output-device */
	double rate;		   /* -r */
	int channels;		   /* -c */
	sdc_dtype dtype;	   /* -f */
	int mapping[64];	   /* -m */
	int mapping_count;
	double latency;		   /* --latency: seconds or SDC_LATENCY_LOW/HIGH; 0 unset */
	int blocksize;		   /* --blocksize */
	int exclusive;		   /* --exclusive */
	double seconds;		   /* -t */
	int raw;		   /* --raw */
};

/* Long options for struct audio_opts, to be appended to a command's own. */
#define SDCTL_AUDIO_LONG_OPTIONS                                                                   	{ "device", required_argument, NULL, 'd' }, { "rate", required_argument, NULL, 'r' },     		{ "channels", required_argument, NULL, 'c' },                                      		{ "format", required_argument, NULL, 'f' },                                        		{ "mapping", required_argument, NULL, 'm' },                                       		{ "latency", required_argument, NULL, 'L' },                                       		{ "blocksize", required_argument, NULL, 'B' },                                     		{ "exclusive", no_argument, NULL, 'x' }, { "time", required_argument, NULL, 't' }, 		{ "raw", no_argument, NULL, 'R' },                                                 		{ "input-device", required_argument, NULL, 'I' },                                  		{ "output-device", required_argument, NULL, 'O' },                                 		{ "json", no_argument, NULL, 'j' }
#define SDCTL_AUDIO_SHORT_OPTIONS "d:r:c:f:m:t:j"

/*
 * Handles one option of struct audio_opts.  Returns 1 when opt was one of
 * them, 0 when it is not, or exit status 2 (after a message) when its
 * argument is bad.
 */
int sdctl_audio_option(struct sdctl *ctl, const char *cmd, int opt, const char *arg,
		       struct audio_opts *a);

/* Splits the devices for one direction: "IN,OUT" pairs, --input-device / --output-device. */
sdc_device sdctl_audio_device(const struct audio_opts *a, sdc_kind kind, char *buf, size_t size);

/* Fills stream options from the audio options. */
void sdctl_stream_options(const struct audio_opts *a, sdc_stream_options *o, char *in_buf,
			  char *out_buf, size_t size);

/* Installs SIGINT/SIGTERM handlers that set sdctl_interrupted (and interrupt waits). */
void sdctl_catch_signals(void);
extern volatile int sdctl_interrupted;

/* Prints the xruns and lost frames a status reports, if any; returns their count. */
unsigned sdctl_report_xruns(const char *what, const sdc_status *st);

int sdctl_cmd_devices(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_play(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_rec(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_playrec(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_stop(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_wire(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_meter(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_status(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_hostapis(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_version(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_check(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_run(struct sdctl *ctl, int argc, char **argv);
