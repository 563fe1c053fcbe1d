/*
 * The configuration: the key table with each key's parser, the file
 * parser, finding the file, layering sources and printing the result.
 * Values are validated here, so that a bad file is refused with the line
 * that is wrong and the daemon's running settings are never half-changed.
 * Loop thread.
 */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "utf8.h"

#ifndef SDD_SYSCONFDIR
#define SDD_SYSCONFDIR "/etc"
#endif

/* The defaults, also used by --help and the manual. */
#define DEFAULT_DEVICE_IDLE_TIME 5.0
#define DEFAULT_MAX_CLIENTS 4096
#define DEFAULT_MAX_STREAMS_PER_CLIENT 16
#define DEFAULT_MAX_SHM_PER_CLIENT ((size_t)64 * 1024 * 1024)
#define DEFAULT_LINE_TIMEOUT 10.0
#define DEFAULT_MAX_REQUESTS_PER_SECOND 100000.0

/* Parses value into c; on error leaves c unchanged and writes err. */
typedef int (*key_parse_fn)(struct conf *c, const char *value, char *err, size_t errsize);

void conf_init(struct conf *c)
{
	*c = (struct conf){
		.device_idle_time = DEFAULT_DEVICE_IDLE_TIME,
		.max_clients = DEFAULT_MAX_CLIENTS,
		.max_streams_per_client = DEFAULT_MAX_STREAMS_PER_CLIENT,
		.max_shm_per_client = DEFAULT_MAX_SHM_PER_CLIENT,
		.log_level = LOG_LEVEL_NOTICE,
		.line_timeout = DEFAULT_LINE_TIMEOUT,
		.max_requests_per_second = DEFAULT_MAX_REQUESTS_PER_SECOND,
	};
}

void conf_clear(struct conf *c)
{
	free(c->default_input_device);
	free(c->default_output_device);
	access_clear(&c->access);
	c->default_input_device = c->default_output_device = NULL;
	c->set = 0;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Parses a whole decimal integer within [min, max]. */
static int parse_int(const char *value, long long min, long long max, long long *ret, char *err,
		     size_t errsize)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(value, &end, 10);
	if (end == value || *end || errno == ERANGE || v < min || v > max) {
		snprintf(err, errsize, "'%s' is not a whole number from %lld to %lld", value, min,
			 max);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int parse_device(char **field, const char *value, char *err, size_t errsize)
{
	char *copy = NULL;
	size_t len;

	/* Blanks around a query match nothing (queries are split at blanks): drop them. */
	while (is_blank(*value))
		value++;
	len = strlen(value);
	while (len > 0 && is_blank(value[len - 1]))
		len--;

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
	free(*field);
	*field = copy;
	return 0;
}

static int key_default_input_device(struct conf *c, const char *value, char *err, size_t errsize)
{
	return parse_device(&c->default_input_device, value, err, errsize);
}

static int key_default_output_device(struct conf *c, const char *value, char *err, size_t errsize)
{
	return parse_device(&c->default_output_device, value, err, errsize);
}

static int key_device_idle_time(struct conf *c, const char *value, char *err, size_t errsize)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(value, &end);
	if (end == value || *end || errno == ERANGE || !isfinite(v) || v < 0 || v > 86400) {
		snprintf(err, errsize, "'%s' is not a number of seconds from 0 to 86400", value);
		return -EINVAL;
	}
	c->device_idle_time = v;
	return 0;
}

/* Parses a number in [min, max] for keys that take seconds or rates. */
static int parse_number(const char *value, double min, double max, const char *what, double *ret,
			char *err, size_t errsize)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(value, &end);
	if (end == value || *end || errno == ERANGE || !isfinite(v) || v < min || v > max) {
		snprintf(err, errsize, "'%s' is not %s from %g to %g", value, what, min, max);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int key_line_timeout(struct conf *c, const char *value, char *err, size_t errsize)
{
	return parse_number(value, 0, 3600, "a number of seconds", &c->line_timeout, err, errsize);
}

static int key_max_requests_per_second(struct conf *c, const char *value, char *err,
				       size_t errsize)
{
	return parse_number(value, 0, 1e7, "a rate", &c->max_requests_per_second, err, errsize);
}

static int key_max_clients(struct conf *c, const char *value, char *err, size_t errsize)
{
	long long v;

	if (parse_int(value, 1, 1000000, &v, err, errsize) < 0)
		return -EINVAL;
	c->max_clients = (int)v;
	return 0;
}

static int key_max_streams_per_client(struct conf *c, const char *value, char *err,
				      size_t errsize)
{
	long long v;

	if (parse_int(value, 1, 4096, &v, err, errsize) < 0)
		return -EINVAL;
	c->max_streams_per_client = (int)v;
	return 0;
}

/* A size: a whole number of bytes, or of KiB, MiB or GiB with the suffix K, M or G. */
static int key_max_shm_per_client(struct conf *c, const char *value, char *err, size_t errsize)
{
	static const struct {
		const char *suffix;
		unsigned long long factor;
	} units[] = {
		{ "", 1 },	    { "K", 1ULL << 10 },   { "KiB", 1ULL << 10 }, { "M", 1ULL << 20 },
		{ "MiB", 1ULL << 20 }, { "G", 1ULL << 30 }, { "GiB", 1ULL << 30 },
	};
	const unsigned long long min = 64ULL << 10, max = 64ULL << 30;
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
		/* 64G fits a size_t wherever sddaemon runs (64-bit Linux). */
		if (v > max / units[i].factor || v * units[i].factor < min || v * units[i].factor > SIZE_MAX)
			goto bad;
		c->max_shm_per_client = (size_t)(v * units[i].factor);
		return 0;
	}
bad:
	snprintf(err, errsize, "'%s' is not a size from 64K to 64G (bytes, or a number with K, M or G)",
		 value);
	return -EINVAL;
}

static int key_log_level(struct conf *c, const char *value, char *err, size_t errsize)
{
	int level = log_level_from_name(value);

	if (level < 0) {
		snprintf(err, errsize,
			 "'%s' is not a log level (error, warning, notice, info or debug)", value);
		return -EINVAL;
	}
	c->log_level = (enum log_level)level;
	return 0;
}

static int key_allow_users(struct conf *c, const char *value, char *err, size_t errsize)
{
	return access_parse_users(&c->access, value, err, errsize);
}

static int key_allow_groups(struct conf *c, const char *value, char *err, size_t errsize)
{
	return access_parse_groups(&c->access, value, err, errsize);
}

static const struct {
	const char *name;
	key_parse_fn parse;
} keys[CONF_KEY_COUNT_] = {
	[CONF_DEFAULT_INPUT_DEVICE] = { "default_input_device", key_default_input_device },
	[CONF_DEFAULT_OUTPUT_DEVICE] = { "default_output_device", key_default_output_device },
	[CONF_DEVICE_IDLE_TIME] = { "device_idle_time", key_device_idle_time },
	[CONF_MAX_CLIENTS] = { "max_clients", key_max_clients },
	[CONF_MAX_STREAMS_PER_CLIENT] = { "max_streams_per_client", key_max_streams_per_client },
	[CONF_MAX_SHM_PER_CLIENT] = { "max_shm_per_client", key_max_shm_per_client },
	[CONF_LOG_LEVEL] = { "log_level", key_log_level },
	[CONF_ALLOW_USERS] = { "allow_users", key_allow_users },
	[CONF_ALLOW_GROUPS] = { "allow_groups", key_allow_groups },
	[CONF_LINE_TIMEOUT] = { "line_timeout", key_line_timeout },
	[CONF_MAX_REQUESTS_PER_SECOND] = { "max_requests_per_second", key_max_requests_per_second },
};

const char *conf_key_name(enum conf_key key)
{
	return (unsigned)key < CONF_KEY_COUNT_ ? keys[key].name : NULL;
}

/* Returns the key named name, or -ENOENT. */
static int key_lookup(const char *name)
{
	for (int i = 0; i < CONF_KEY_COUNT_; i++)
		if (strcmp(keys[i].name, name) == 0)
			return i;
	return -ENOENT;
}

int conf_set(struct conf *c, const char *key, const char *value, char *err, size_t errsize)
{
	int k = key_lookup(key), r;

	if (k < 0) {
		snprintf(err, errsize, "unknown key '%s'", key);
		return -ENOENT;
	}
	r = keys[k].parse(c, value, err, errsize);
	if (r == -ENOMEM)
		snprintf(err, errsize, "out of memory");
	if (r < 0)
		return r;
	c->set |= 1u << k;
	return 0;
}

/* Fills err and returns -EINVAL. */
__attribute__((format(printf, 4, 5))) static int parse_error(struct conf_error *err,
							     const char *name, unsigned line,
							     const char *fmt, ...)
{
	va_list ap;

	snprintf(err->file, sizeof(err->file), "%s", name);
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Parses one line (without its newline) that is neither blank nor a comment. */
static int parse_line(struct conf *c, const char *name, unsigned lineno, char *line,
		      unsigned first_line[], struct conf_error *err)
{
	char *eq = strchr(line, '='), *key = line, *value, *end;
	char msg[sizeof(err->message)];
	size_t vlen;
	int k, r;

	if (!eq)
		return parse_error(err, name, lineno, "expected 'key = value'");
	/* The key: the text before '=', without surrounding blanks. */
	end = eq;
	while (end > key && is_blank(end[-1]))
		end--;
	*end = '\0';
	if (!*key)
		return parse_error(err, name, lineno, "no key before '='");
	if (strspn(key, "abcdefghijklmnopqrstuvwxyz_") != strlen(key))
		return parse_error(err, name, lineno, "'%s' is not a key (keys are lowercase words joined by '_')",
				   key);
	k = key_lookup(key);
	if (k < 0)
		return parse_error(err, name, lineno, "unknown key '%s'", key);
	if (first_line[k])
		return parse_error(err, name, lineno, "'%s' is set twice (first on line %u)", key,
				   first_line[k]);
	/* The value: the rest, without surrounding blanks, and unquoted when in "…". */
	value = eq + 1;
	while (is_blank(*value))
		value++;
	vlen = strlen(value);
	while (vlen > 0 && is_blank(value[vlen - 1]))
		value[--vlen] = '\0';
	if (value[0] == '"') {
		if (vlen < 2 || value[vlen - 1] != '"')
			return parse_error(err, name, lineno, "the value of '%s' has no closing '\"'",
					   key);
		value[vlen - 1] = '\0';
		value++;
		if (strchr(value, '"'))
			return parse_error(err, name, lineno,
					   "the value of '%s' has a '\"' inside the quotes", key);
	}
	r = conf_set(c, key, value, msg, sizeof(msg));
	if (r == -ENOMEM) {
		parse_error(err, name, lineno, "out of memory");
		return r;
	}
	if (r < 0)
		return parse_error(err, name, lineno, "%s: %s", key, msg);
	first_line[k] = lineno;
	return 0;
}

int conf_parse(struct conf *c, const char *name, const char *text, size_t len,
	       struct conf_error *err)
{
	unsigned first_line[CONF_KEY_COUNT_] = { 0 };
	unsigned lineno = 0;
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		const char *start = text + pos;
		char *line;
		size_t skip;
		int r;

		lineno++;
		pos += n + (nl ? 1 : 0);
		if (memchr(start, '\0', n))
			return parse_error(err, name, lineno, "the line contains a NUL byte");
		if (utf8_check(start, n) != n)
			return parse_error(err, name, lineno, "the line is not valid UTF-8");
		for (skip = 0; skip < n && is_blank(start[skip]); skip++)
			;
		if (skip == n || start[skip] == '#')
			continue;
		line = strndup(start + skip, n - skip);
		if (!line) {
			parse_error(err, name, lineno, "out of memory");
			return -ENOMEM;
		}
		r = parse_line(c, name, lineno, line, first_line, err);
		free(line);
		if (r < 0)
			return r;
	}
	return 0;
}

int conf_load_file(struct conf *c, const char *path, struct conf_error *err)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		parse_error(err, path, 0, "cannot open the file: %s", strerror(-r));
		return r;
	}
	/* A character device is allowed for --config /dev/null: it reads as empty. */
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
		r = -EINVAL;
		parse_error(err, path, 0, "not a regular file");
		goto out;
	}
	if (st.st_size > CONF_MAX_FILE_SIZE) {
		r = parse_error(err, path, 0, "the file is larger than %d bytes", CONF_MAX_FILE_SIZE);
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		r = -ENOMEM;
		parse_error(err, path, 0, "out of memory");
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, text + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			parse_error(err, path, 0, "cannot read the file: %s", strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	r = conf_parse(c, path, text, len, err);
out:
	free(text);
	close(fd);
	return r;
}

int conf_find_file(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n = -1;

	/* A relative XDG_CONFIG_HOME is invalid and ignored, as the XDG spec says. */
	if (xdg && xdg[0] == '/')
		n = snprintf(buf, size, "%s/%s", xdg, CONF_FILE_NAME);
	else if (home && home[0] == '/')
		n = snprintf(buf, size, "%s/.config/%s", home, CONF_FILE_NAME);
	if (n > 0 && (size_t)n < size && access(buf, F_OK) == 0)
		return 0;
	snprintf(buf, size, "%s/%s", SDD_SYSCONFDIR, CONF_FILE_NAME);
	return access(buf, F_OK) == 0 ? 0 : -ENOENT;
}

/* Replaces *dst by a copy of src (NULL allowed). */
static int copy_string(char **dst, const char *src)
{
	char *copy = NULL;

	if (src) {
		copy = strdup(src);
		if (!copy)
			return -ENOMEM;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

int conf_merge(struct conf *dst, const struct conf *src)
{
	int r = 0;

	for (int k = 0; k < CONF_KEY_COUNT_; k++) {
		if (!(src->set & (1u << k)))
			continue;
		switch ((enum conf_key)k) {
		case CONF_DEFAULT_INPUT_DEVICE:
			r = copy_string(&dst->default_input_device, src->default_input_device);
			break;
		case CONF_DEFAULT_OUTPUT_DEVICE:
			r = copy_string(&dst->default_output_device, src->default_output_device);
			break;
		case CONF_DEVICE_IDLE_TIME:
			dst->device_idle_time = src->device_idle_time;
			break;
		case CONF_MAX_CLIENTS:
			dst->max_clients = src->max_clients;
			break;
		case CONF_MAX_STREAMS_PER_CLIENT:
			dst->max_streams_per_client = src->max_streams_per_client;
			break;
		case CONF_MAX_SHM_PER_CLIENT:
			dst->max_shm_per_client = src->max_shm_per_client;
			break;
		case CONF_LOG_LEVEL:
			dst->log_level = src->log_level;
			break;
		case CONF_ALLOW_USERS:
			r = access_copy_users(&dst->access, &src->access);
			break;
		case CONF_ALLOW_GROUPS:
			r = access_copy_groups(&dst->access, &src->access);
			break;
		case CONF_LINE_TIMEOUT:
			dst->line_timeout = src->line_timeout;
			break;
		case CONF_MAX_REQUESTS_PER_SECOND:
			dst->max_requests_per_second = src->max_requests_per_second;
			break;
		case CONF_KEY_COUNT_:
			break;
		}
		if (r < 0)
			return r;
		dst->set |= 1u << k;
	}
	return 0;
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

/*
 * Writes a device query so that reading it back gives the same query:
 * quoted (blanks inside kept as they are), unless it holds a '"', which
 * quotes cannot hold; such a query never starts or ends with a blank.
 */
static void write_query(FILE *f, const char *key, const char *query)
{
	if (!query)
		fprintf(f, "%s = \n", key);
	else if (strchr(query, '"'))
		fprintf(f, "%s = %s\n", key, query);
	else
		fprintf(f, "%s = \"%s\"\n", key, query);
}

void conf_write(const struct conf *c, FILE *f)
{
	char buf[32];

	write_query(f, "default_input_device", c->default_input_device);
	write_query(f, "default_output_device", c->default_output_device);
	fprintf(f, "device_idle_time = %g\n", c->device_idle_time);
	fprintf(f, "max_clients = %d\n", c->max_clients);
	fprintf(f, "line_timeout = %g\n", c->line_timeout);
	fprintf(f, "max_requests_per_second = %g\n", c->max_requests_per_second);
	fprintf(f, "max_streams_per_client = %d\n", c->max_streams_per_client);
	format_size(c->max_shm_per_client, buf, sizeof(buf));
	fprintf(f, "max_shm_per_client = %s\n", buf);
	fprintf(f, "log_level = %s\n", log_level_name(c->log_level));
	/*
	 * An unset list and an empty one differ: unset does not restrict
	 * anything.  Lists are printed whole: a buffer would cut a long one in
	 * the middle of a name.
	 */
	fprintf(f, "%sallow_users = ", c->access.users_set ? "" : "#");
	access_print_users(&c->access, f);
	fprintf(f, "\n%sallow_groups = ", c->access.groups_set ? "" : "#");
	access_print_groups(&c->access, f);
	fputc('\n', f);
}
