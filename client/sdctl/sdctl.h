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

int sdctl_cmd_devices(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_hostapis(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_version(struct sdctl *ctl, int argc, char **argv);
int sdctl_cmd_check(struct sdctl *ctl, int argc, char **argv);
