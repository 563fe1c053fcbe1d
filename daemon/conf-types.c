/*
 * The types of configuration keys: parsing a value from text within the
 * key's bounds (with messages that name them as --help shows them),
 * writing it back so that it reads back the same, copying and freeing.
 * Loop thread.
 */
#include "conf-types.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "log.h"

/* Writes "'value' is not NOUN from MIN to MAX" (and tail) into err; returns -EINVAL. */
static int out_of_bounds(const struct conf_key *k, const char *value, const char *noun,
			 void (*format_bound)(double, char *, size_t), const char *tail,
			 char *err, size_t errsize)
{
	char min[32], max[32];

	format_bound(k->min, min, sizeof(min));
	format_bound(k->max, max, sizeof(max));
	snprintf(err, errsize, "'%s' is not %s from %s to %s%s", value, noun, min, max, tail);
	return -EINVAL;
}

/* ------------------------------------------------------------- numbers */

/* Formats v with the fewest digits that read back as v, in plain notation when v >= 1. */
static void format_real(double v, char *buf, size_t size)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v && (fabs(v) < 1 || !strchr(buf, 'e')))
			return;
	}
}

/* Seconds and rates: a number within the key's bounds. */
static int parse_real(const struct conf_key *k, void *field, const char *value, char *err,
		      size_t errsize)
{
	const char *noun = k->type == CONF_TYPE_SECONDS ? "a number of seconds" : "a rate";
	char *end;
	double v;

	errno = 0;
	v = strtod(value, &end);
	if (end == value || *end || errno == ERANGE || !isfinite(v) || v < k->min || v > k->max)
		return out_of_bounds(k, value, noun, format_real, "", err, errsize);
	*(double *)field = v;
	return 0;
}

static void write_real(const void *field, FILE *f)
{
	char buf[40];

	format_real(*(const double *)field, buf, sizeof(buf));
	fputs(buf, f);
}

static void format_count(double v, char *buf, size_t size)
{
	snprintf(buf, size, "%lld", (long long)v);
}

/* A whole decimal number within the key's bounds. */
static int parse_count(const struct conf_key *k, void *field, const char *value, char *err,
		       size_t errsize)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(value, &end, 10);
	if (end == value || *end || errno == ERANGE || v < (long long)k->min ||
	    v > (long long)k->max)
		return out_of_bounds(k, value, "a whole number", format_count, "", err, errsize);
	*(int *)field = (int)v;
	return 0;
}

static void write_count(const void *field, FILE *f)
{
	fprintf(f, "%d", *(const int *)field);
}

/* Formats a size with the largest suffix that divides it. */
static void format_size(size_t v, char *buf, size_t size)
{
	if (v > 0 && v % (1u << 30) == 0)
		snprintf(buf, size, "%zuG", v >> 30);
	else if (v > 0 && v % (1u << 20) == 0)
		snprintf(buf, size, "%zuM", v >> 20);
	else if (v > 0 && v % (1u << 10) == 0)
		snprintf(buf, size, "%zuK", v >> 10);
	else
		snprintf(buf, size, "%zu", v);
}

static void format_size_bound(double v, char *buf, size_t size)
{
	format_size((size_t)v, buf, size);
}

/* A size: a whole number of bytes, or of KiB, MiB or GiB with the suffix K, M or G. */
static int parse_size(const struct conf_key *k, void *field, const char *value, char *err,
		      size_t errsize)
{
	static const struct {
		const char *suffix;
		unsigned long long factor;
	} units[] = {
		{ "", 1 },	    { "K", 1ULL << 10 },   { "KiB", 1ULL << 10 }, { "M", 1ULL << 20 },
		{ "MiB", 1ULL << 20 }, { "G", 1ULL << 30 }, { "GiB", 1ULL << 30 },
	};
	const unsigned long long min = (unsigned long long)k->min, max = (unsigned long long)k->max;
	unsigned long long v;
	char *end;

	errno = 0;
	if (value[0] < '0' || value[0] > '9')
		goto bad;
	v = strtoull(value, &end, 10);
	if (errno == ERANGE)
		goto bad;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		if (v > max / units[i].factor || v * units[i].factor < min ||
		    v * units[i].factor > SIZE_MAX)
			goto bad;
		*(size_t *)field = (size_t)(v * units[i].factor);
		return 0;
	}
bad:
	return out_of_bounds(k, value, "a size", format_size_bound,
			     " (bytes, or a number with K, M or G)", err, errsize);
}

static void write_size(const void *field, FILE *f)
{
	char buf[32];

	format_size(*(const size_t *)field, buf, sizeof(buf));
	fputs(buf, f);
}

/* ----------------------------------------------------- words and lists */

static int parse_log_level(const struct conf_key *k, void *field, const char *value, char *err,
			   size_t errsize)
{
	int level = log_level_from_name(value);

	(void)k;
	if (level < 0) {
		snprintf(err, errsize,
			 "'%s' is not a log level (error, warning, notice, info or debug)", value);
		return -EINVAL;
	}
	*(enum log_level *)field = (enum log_level)level;
	return 0;
}

static void write_log_level(const void *field, FILE *f)
{
	fputs(log_level_name(*(const enum log_level *)field), f);
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* A device query; NULL when empty. */
static int parse_query(const struct conf_key *k, void *field, const char *value, char *err,
		       size_t errsize)
{
	char **query = field, *copy = NULL;
	size_t len;

	(void)k;
	/* Blanks around a query match nothing (queries are split at blanks): drop them. */
	while (is_blank(*value))
		value++;
	len = strlen(value);
	while (len > 0 && is_blank(value[len - 1]))
		len--;

	/*
	 * A query written back by --check-config is quoted unless it holds a
	 * '"', so one that starts with '"' would not read back the same.  The
	 * file never gives one (its values are unquoted first); an option may.
	 */
	if (value[0] == '"') {
		snprintf(err, errsize, "a device query may not start with '\"'");
		return -EINVAL;
	}
	/* Device ids change when devices come and go; a default must name its device. */
	if (len && strspn(value, "0123456789") >= len) {
		snprintf(err, errsize,
			 "'%.*s' is a device id; ids change when devices come and go, so name the device (a query string such as \"usb\")",
			 (int)len, value);
		return -EINVAL;
	}
	if (len) {
		copy = strndup(value, len);
		if (!copy)
			return -ENOMEM;
	}
	free(*query);
	*query = copy;
	return 0;
}

/*
 * Writes a device query so that reading it back gives the same query:
 * quoted (blanks inside kept as they are), unless it holds a '"', which
 * quotes cannot hold; such a query never starts with a '"' or a blank,
 * nor ends with a blank.
 */
static void write_query(const void *field, FILE *f)
{
	const char *query = *(char *const *)field;

	if (!query)
		return;
	if (strchr(query, '"'))
		fputs(query, f);
	else
		fprintf(f, "\"%s\"", query);
}

static int copy_query(void *dst, const void *src)
{
	const char *from = *(char *const *)src;
	char *copy = NULL;

	if (from) {
		copy = strdup(from);
		if (!copy)
			return -ENOMEM;
	}
	free(*(char **)dst);
	*(char **)dst = copy;
	return 0;
}

static void clear_query(void *field)
{
	free(*(char **)field);
	*(char **)field = NULL;
}

static int parse_users(const struct conf_key *k, void *field, const char *value, char *err,
		       size_t errsize)
{
	(void)k;
	return access_parse_users(field, value, err, errsize);
}

static int parse_groups(const struct conf_key *k, void *field, const char *value, char *err,
			size_t errsize)
{
	(void)k;
	return access_parse_groups(field, value, err, errsize);
}

/* Lists are written whole: a buffer would cut a long one in the middle of a name. */
static void write_users(const void *field, FILE *f)
{
	access_print_users(field, f);
}

static void write_groups(const void *field, FILE *f)
{
	access_print_groups(field, f);
}

static int copy_list(void *dst, const void *src)
{
	return access_list_copy(dst, src);
}

static void clear_list(void *field)
{
	access_list_clear(field);
}

static bool list_given(const void *field)
{
	return ((const struct access_list *)field)->set;
}

const struct conf_type_ops conf_type_ops[] = {
	[CONF_TYPE_QUERY] = { .size = sizeof(char *), .parse = parse_query, .write = write_query,
			      .copy = copy_query, .clear = clear_query },
	[CONF_TYPE_SECONDS] = { .size = sizeof(double), .parse = parse_real, .write = write_real,
				.format_bound = format_real },
	[CONF_TYPE_RATE] = { .size = sizeof(double), .parse = parse_real, .write = write_real,
			     .format_bound = format_real },
	[CONF_TYPE_COUNT] = { .size = sizeof(int), .parse = parse_count, .write = write_count,
			      .format_bound = format_count },
	[CONF_TYPE_SIZE] = { .size = sizeof(size_t), .parse = parse_size, .write = write_size,
			     .format_bound = format_size_bound },
	[CONF_TYPE_LOG_LEVEL] = { .size = sizeof(enum log_level), .parse = parse_log_level,
				  .write = write_log_level },
	[CONF_TYPE_USERS] = { .size = sizeof(struct access_list), .parse = parse_users,
			      .write = write_users, .copy = copy_list, .clear = clear_list,
			      .given = list_given },
	[CONF_TYPE_GROUPS] = { .size = sizeof(struct access_list), .parse = parse_groups,
			       .write = write_groups, .copy = copy_list, .clear = clear_list,
			       .given = list_given },
};
