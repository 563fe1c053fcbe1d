/*
 * The configuration: the keys of conf-keys.h (each handled as its type
 * says, see conf-types.c), the file parser, finding and opening the file,
 * layering sources, and printing the result and the options' help.
 * Values are validated here, so that a bad file is refused with the line
 * that is wrong and the daemon's running settings are never half-changed.
 * Loop thread.
 */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "conf-types.h"
#include "utf8.h"

#ifndef SDD_SYSCONFDIR
#define SDD_SYSCONFDIR "/etc"
#endif

_Static_assert(CONF_KEY_COUNT <= 32, "struct conf's set has a bit per key");

#define CONF_ROW_(name, type, def, min, max, value_name, help)                                     \
	{ #name, CONF_TYPE_##type, offsetof(struct conf, name), def, min, max, value_name, help },

static const struct conf_key keys[CONF_KEY_COUNT] = { CONF_KEYS(CONF_ROW_) };

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* ------------------------------------------------------------------ keys */

static void *field_of(struct conf *c, int index)
{
	return (char *)c + keys[index].offset;
}

static const void *const_field_of(const struct conf *c, int index)
{
	return (const char *)c + keys[index].offset;
}

int conf_init(struct conf *c)
{
	char err[256];

	*c = (struct conf){ 0 };
	for (int i = 0; i < CONF_KEY_COUNT; i++) {
		int r;

		if (!keys[i].def)
			continue;
		r = conf_type_ops[keys[i].type].parse(&keys[i], field_of(c, i), keys[i].def, err,
						      sizeof(err));
		if (r == -ENOMEM) {
			conf_clear(c);
			return r;
		}
		if (r < 0) {
			/* The unit test parses every default: this is a mistake in conf-keys.h. */
			fprintf(stderr, "sddaemon: the default of %s is wrong: %s\n", keys[i].name,
				err);
			abort();
		}
	}
	return 0;
}

void conf_clear(struct conf *c)
{
	for (int i = 0; i < CONF_KEY_COUNT; i++)
		if (conf_type_ops[keys[i].type].clear)
			conf_type_ops[keys[i].type].clear(field_of(c, i));
	*c = (struct conf){ 0 };
}

const struct conf_key *conf_key(int index)
{
	return index >= 0 && index < CONF_KEY_COUNT ? &keys[index] : NULL;
}

int conf_key_index(const char *name)
{
	for (int i = 0; i < CONF_KEY_COUNT; i++)
		if (strcmp(keys[i].name, name) == 0)
			return i;
	return -ENOENT;
}

bool conf_is_set(const struct conf *c, const char *name)
{
	int i = conf_key_index(name);

	return i >= 0 && (c->set & (1u << i));
}

int conf_set(struct conf *c, const char *key, const char *value, char *err, size_t errsize)
{
	int k = conf_key_index(key), r;

	if (k < 0) {
		snprintf(err, errsize, "unknown key '%s'", key);
		return -ENOENT;
	}
	/* What --check-config writes must read back: one line of UTF-8 text. */
	if (utf8_check(value, strlen(value)) != strlen(value)) {
		snprintf(err, errsize, "the value is not valid UTF-8");
		return -EINVAL;
	}
	for (const char *p = value; *p; p++) {
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f) {
			snprintf(err, errsize, "the value contains a control character");
			return -EINVAL;
		}
	}
	r = conf_type_ops[keys[k].type].parse(&keys[k], field_of(c, k), value, err, errsize);
	if (r == -ENOMEM)
		snprintf(err, errsize, "out of memory");
	if (r < 0)
		return r;
	c->set |= 1u << k;
	return 0;
}

/* ----------------------------------------------------------- the file */

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
	k = conf_key_index(key);
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
	unsigned first_line[CONF_KEY_COUNT] = { 0 };
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

/* Returns what st is, for the message refusing it ("a FIFO"). */
static const char *file_kind(const struct stat *st)
{
	if (S_ISFIFO(st->st_mode))
		return "a FIFO";
	if (S_ISDIR(st->st_mode))
		return "a directory";
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		return "a device node";
	if (S_ISSOCK(st->st_mode))
		return "a socket";
	return "something else";
}

/*
 * Returns whether st may be read as a configuration file: a regular file,
 * or the null device (--config /dev/null: no settings but the defaults).
 */
static bool readable_kind(const struct stat *st)
{
	return S_ISREG(st->st_mode) ||
	       (S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 && minor(st->st_rdev) == 3);
}

int conf_load_file(struct conf *c, const char *path, struct conf_error *err)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd, r;

	/*
	 * Anything but a regular file is refused before it is opened: opening
	 * a FIFO blocks until someone writes to it, and opening a device may
	 * do more than reading.  What is opened is checked again (the path may
	 * have changed in between), and it is opened without blocking.
	 */
	if (stat(path, &st) < 0) {
		r = -errno;
		parse_error(err, path, 0, "cannot open the file: %s", strerror(-r));
		return r;
	}
	if (!readable_kind(&st))
		return parse_error(err, path, 0, "is %s, not a regular file", file_kind(&st));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		parse_error(err, path, 0, "cannot open the file: %s", strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		parse_error(err, path, 0, "cannot read the file: %s", strerror(-r));
		goto out;
	}
	if (!readable_kind(&st)) {
		r = parse_error(err, path, 0, "is %s, not a regular file", file_kind(&st));
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
	/* What the file holds beyond the size it had a moment ago is not read. */
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

int conf_merge(struct conf *dst, const struct conf *src)
{
	for (int i = 0; i < CONF_KEY_COUNT; i++) {
		const struct conf_type_ops *t = &conf_type_ops[keys[i].type];

		if (!(src->set & (1u << i)))
			continue;
		if (t->copy) {
			int r = t->copy(field_of(dst, i), const_field_of(src, i));

			if (r < 0)
				return r;
		} else {
			memcpy(field_of(dst, i), const_field_of(src, i), t->size);
		}
		dst->set |= 1u << i;
	}
	return 0;
}

/* -------------------------------------------------------------- output */

void conf_write(const struct conf *c, FILE *f)
{
	for (int i = 0; i < CONF_KEY_COUNT; i++) {
		const struct conf_type_ops *t = &conf_type_ops[keys[i].type];
		const void *field = const_field_of(c, i);

		fprintf(f, "%s%s = ", t->given && !t->given(field) ? "#" : "", keys[i].name);
		t->write(field, f);
		fputc('\n', f);
	}
}

/* --help's column for the options' help, and its width. */
#define HELP_COLUMN 25
#define HELP_WIDTH 79

/* Writes text from column col on, wrapped at blanks, continuing at HELP_COLUMN. */
static void write_wrapped(FILE *f, int col, const char *text)
{
	while (*text) {
		size_t word = strcspn(text, " ");

		if (col > HELP_COLUMN && col + 1 + (int)word > HELP_WIDTH) {
			fprintf(f, "\n%*s", HELP_COLUMN, "");
			col = HELP_COLUMN;
		} else if (col > HELP_COLUMN) {
			fputc(' ', f);
			col++;
		}
		fwrite(text, 1, word, f);
		col += (int)word;
		text += word;
		text += strspn(text, " ");
	}
	fputc('\n', f);
}

void conf_write_help(FILE *f)
{
	struct conf defaults;

	if (conf_init(&defaults) < 0) {
		fputs("      (out of memory)\n", f);
		return;
	}
	for (int i = 0; i < CONF_KEY_COUNT; i++) {
		const struct conf_key *k = &keys[i];
		const struct conf_type_ops *t = &conf_type_ops[k->type];
		const void *def = const_field_of(&defaults, i);
		char *text = NULL;
		size_t size = 0;
		FILE *m = open_memstream(&text, &size);
		long mark;
		int col;

		if (!m)
			break;
		/* The option: --name with dashes, and its value. */
		col = fprintf(f, "      --");
		for (const char *p = k->name; *p; p++, col++)
			fputc(*p == '_' ? '-' : *p, f);
		col += fprintf(f, " %s", k->value_name);
		if (col >= HELP_COLUMN - 1)
			fprintf(f, "\n%*s", HELP_COLUMN, "");
		else
			fprintf(f, "%*s", HELP_COLUMN - col, "");
		/* The help, the bounds and the default as the file gives it. */
		fprintf(m, "%s;", k->help);
		if (t->format_bound) {
			char min[32], max[32];

			t->format_bound(k->min, min, sizeof(min));
			t->format_bound(k->max, max, sizeof(max));
			fprintf(m, " from %s to %s,", min, max);
		}
		fputs(" default ", m);
		mark = ftell(m);
		if (t->given && !t->given(def))
			fputs("unset", m);
		else
			t->write(def, m);
		if (ftell(m) == mark)
			fputs("empty", m);
		fclose(m);
		write_wrapped(f, HELP_COLUMN, text);
		free(text);
	}
	conf_clear(&defaults);
}
