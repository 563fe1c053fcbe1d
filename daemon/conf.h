/*
 * The settings: built-in defaults, the configuration file and the
 * command line, in that order of precedence from lowest to highest.  Each
 * source fills a struct conf with the keys it gives; conf_merge() lays one
 * over another.  The keys are the rows of conf-keys.h.  The file is
 * "key = value" lines; every key is documented in sddaemon.conf(5).  Loop
 * thread.
 *
 * (The module is conf and not config because the build generates a
 * config.h that other files include for the version.)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "access.h"
#include "conf-keys.h"
#include "log.h"

/* The configuration file's name inside the system and user folders. */
#define CONF_FILE_NAME "sddaemon/sddaemon.conf"

/* The largest configuration file read, in bytes. */
#define CONF_MAX_FILE_SIZE (1024 * 1024)

/* What a key holds, and so how it is parsed, copied, freed and printed. */
enum conf_type {
	CONF_TYPE_QUERY,     /* a device query (char *, NULL when empty) */
	CONF_TYPE_SECONDS,   /* seconds (double) */
	CONF_TYPE_RATE,	     /* a number per second (double) */
	CONF_TYPE_COUNT,     /* a whole number (int) */
	CONF_TYPE_SIZE,	     /* bytes, written with K, M or G (size_t) */
	CONF_TYPE_LOG_LEVEL, /* a level's name (enum log_level) */
	CONF_TYPE_USERS,     /* user names or uids (struct access_list) */
	CONF_TYPE_GROUPS,    /* group names or gids (struct access_list) */
};

/* The C type of each type's field. */
#define CONF_CTYPE_QUERY char *
#define CONF_CTYPE_SECONDS double
#define CONF_CTYPE_RATE double
#define CONF_CTYPE_COUNT int
#define CONF_CTYPE_SIZE size_t
#define CONF_CTYPE_LOG_LEVEL enum log_level
#define CONF_CTYPE_USERS struct access_list
#define CONF_CTYPE_GROUPS struct access_list

#define CONF_FIELD_(name, type, ...) CONF_CTYPE_##type name;
#define CONF_ONE_(...) +1

/* The number of keys; a key's index is its row in conf-keys.h. */
enum { CONF_KEY_COUNT = 0 CONF_KEYS(CONF_ONE_) };

/* One source's settings: a field per key of conf-keys.h, named after it. */
struct conf {
	uint32_t set; /* bit (1u << index) for every key this source gave */
	CONF_KEYS(CONF_FIELD_)
};

/* A row of conf-keys.h. */
struct conf_key {
	const char *name;
	enum conf_type type;
	size_t offset;	 /* of the key's field in struct conf */
	const char *def; /* the default as the file gives it; NULL: a list left unset */
	double min, max; /* numeric types' bounds */
	const char *value_name;
	const char *help;
};

/* Where the last parse failed, for the message "FILE:LINE: MESSAGE". */
struct conf_error {
	char file[256];
	unsigned line; /* 1-based; 0 when the error is not about a line */
	char message[256];
};

/*
 * Fills c with the built-in defaults; no key counts as set.  Returns 0, or
 * -ENOMEM (c is then cleared).
 */
int conf_init(struct conf *c);

/* Frees what c holds.  Accepts a zeroed struct. */
void conf_clear(struct conf *c);

/* Returns the key at index (its row in conf-keys.h), or NULL when out of range. */
const struct conf_key *conf_key(int index);

/* Returns the index of the key named name, or -ENOENT. */
int conf_key_index(const char *name);

/* Returns whether c sets the key named name. */
bool conf_is_set(const struct conf *c, const char *name);

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

/*
 * Reads and parses the file at path, which must be a regular file of at
 * most CONF_MAX_FILE_SIZE bytes (or /dev/null, which reads as empty).  It
 * is opened without blocking, so that a FIFO or a device at path is
 * refused at once.  Returns 0, -ENOENT when it does not exist, or another
 * negative errno; err says why.
 */
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

/*
 * Writes every key with its value to f, in the file's format; a list that
 * is not given is written as a comment.
 */
void conf_write(const struct conf *c, FILE *f);

/*
 * Writes the part of --help that lists every key's option, with its value
 * name, its help, its bounds and its default.
 */
void conf_write_help(FILE *f);
