/*
 * What each type of configuration key (enum conf_type) does with a value:
 * parse it from text within the key's bounds, write it back as the file
 * gives it, copy and free it.  Private to conf.c; loop thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "conf.h"

struct conf_type_ops {
	size_t size; /* of the field in struct conf */
	/*
	 * Sets the field from value; on error leaves it unchanged and returns
	 * -EINVAL with a message in err (errsize bytes), or -ENOMEM.
	 */
	int (*parse)(const struct conf_key *k, void *field, const char *value, char *err,
		     size_t errsize);
	/* Writes the value as the file gives it. */
	void (*write)(const void *field, FILE *f);
	/* Numeric types: formats a bound as the file gives it.  NULL for the others. */
	void (*format_bound)(double v, char *buf, size_t size);
	/* Types that own memory: replaces dst by a copy of src (or -ENOMEM), and frees. */
	int (*copy)(void *dst, const void *src);
	void (*clear)(void *field);
	/* Lists: whether the key was given at all (an unset list is not an empty one). */
	bool (*given)(const void *field);
};

/* The operations of each type, indexed by enum conf_type. */
extern const struct conf_type_ops conf_type_ops[];
