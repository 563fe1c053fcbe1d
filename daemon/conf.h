/*
 * The settings: built-in defaults, the configuration file and the
 * command line, in that order of precedence from lowest to highest.  Each
 * source fills a struct conf with the keys it gives; conf_merge() lays one
 * over another.  The file is "key = value" lines; every key is documented
 * in sddaemon.conf(5).  Loop thread.
 *
 * (The module is conf and not config because the build generates a
 * config.h that other files include for the version.)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "access.h"
#include "log.h"

/* The configuration file's name inside the system and user folders. */
#define CONF_FILE_NAME "sddaemon/sddaemon.conf"

/* The largest configuration file read. */
#define CONF_MAX_FILE_SIZE (1024 * 1024)

enum conf_key {
	CONF_DEFAULT_INPUT_DEVICE,
	CONF_DEFAULT_OUTPUT_DEVICE,
	CONF_DEVICE_IDLE_TIME,
	CONF_MAX_CLIENTS,
	CONF_MAX_STREAMS_PER_CLIENT,
	CONF_MAX_SHM_PER_CLIENT,
	CONF_LOG_LEVEL,
	CONF_ALLOW_USERS,
	CONF_ALLOW_GROUPS,
	CONF_LINE_TIMEOUT,
	CONF_MAX_REQUESTS_PER_SECOND,
	CONF_KEY_COUNT_
};

struct conf {
	unsigned set;		      /* bit (1u << key) for every key this source gave */
	char *default_input_device;   /* device query, or NULL for PortAudio's default */
	char *default_output_device;  /* device query, or NULL for PortAudio's default */
	double device_idle_time;      /* seconds an unused device stream stays open */
	int max_clients;	      /* connections held at once */
	int max_streams_per_client;   /* streams one client may have open */
	size_t max_shm_per_client;    /* bytes of shared memory per client */
	enum log_level log_level;     /* the most detailed level logged */
	struct access access;	      /* allow_users and allow_groups */
	double line_timeout;	      /* seconds a line may stay half-sent (0: no limit) */
	double max_requests_per_second; /* per client (0: no limit) */
};

/* Where the last parse failed, for the message "FILE:LINE: MESSAGE". */
struct conf_error {
	char file[256];
	unsigned line; /* 1-based; 0 when the error is not about a line */
	char message[256];
};

/* Fills c with the built-in defaults; no key counts as set. */
void conf_init(struct conf *c);

/* Frees what c holds.  Accepts a zeroed struct. */
void conf_clear(struct conf *c);

/* Returns the name of key ("max_clients"), or NULL when out of range. */
const char *conf_key_name(enum conf_key key);

/*
 * Sets key (a name as in the file) from its text value and marks it set.
 * Returns 0; -ENOENT for an unknown key and -EINVAL for a bad value, with
 * a message in err (errsize bytes); or -ENOMEM.  On error c is unchanged.
 */
int conf_set(struct conf *c, const char *key, const char *value, char *err, size_t errsize);

/*
 * Parses the text of a configuration file (len bytes, not necessarily
 * NUL-terminated) into c; name is used in messages.  Unknown keys,
 * repeated keys, bad values and malformed lines are errors.  Returns 0, or
 * a negative errno with err filled (c then holds the keys before the bad
 * line; callers parse into a scratch struct).
 */
int conf_parse(struct conf *c, const char *name, const char *text, size_t len,
	       struct conf_error *err);

/* Reads and parses the file at path.  -ENOENT when it does not exist. */
int conf_load_file(struct conf *c, const char *path, struct conf_error *err);

/*
 * Finds the configuration file when no --config was given: the user's
 * ($XDG_CONFIG_HOME, else ~/.config) when it exists, else the system's
 * (sysconfdir).  Stores the path in buf and returns 0, or -ENOENT when
 * neither exists (the path of the system file is then in buf).
 */
int conf_find_file(char *buf, size_t size);

/*
 * Lays over dst every key that src sets.  Returns 0, or -ENOMEM with dst
 * unchanged in the keys that failed.
 */
int conf_merge(struct conf *dst, const struct conf *src);

/* Writes every key with its value to f, in the file's format. */
void conf_write(const struct conf *c, FILE *f);
