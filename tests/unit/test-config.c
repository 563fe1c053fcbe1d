/*
 * Unit tests of the configuration (daemon/conf.c) and the access lists
 * (daemon/access.c): every key, the file syntax, errors that name their
 * line, layering of file and command line, printing and re-reading, and
 * the access decision.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access.h"
#include "conf.h"
#include "tap.h"

/* Parses text into a fresh conf; returns conf_parse's result. */
static int parse(const char *text, struct conf *c, struct conf_error *err)
{
	conf_init(c);
	memset(err, 0, sizeof(*err));
	return conf_parse(c, "test.conf", text, strlen(text), err);
}

/* Checks that text fails on line with a message containing want. */
static void check_error(const char *text, unsigned line, const char *want, const char *what)
{
	struct conf_error err;
	struct conf c;
	int r = parse(text, &c, &err);

	CHECK(r == -EINVAL && err.line == line && strstr(err.message, want) &&
		      strcmp(err.file, "test.conf") == 0,
	      "error: %s (line %u: '%s')", what, line, want);
	if (!(r == -EINVAL && err.line == line && strstr(err.message, want)))
		printf("# got r=%d line=%u message='%s'\n", r, err.line, err.message);
	conf_clear(&c);
}

static void test_defaults(void)
{
	struct conf c;

	conf_init(&c);
	CHECK(c.set == 0, "defaults: nothing counts as set");
	CHECK(c.max_clients == 4096 && c.max_streams_per_client == 16, "defaults: limits");
	CHECK(c.max_shm_per_client == 64u * 1024 * 1024, "defaults: 64 MiB of shared memory");
	CHECK(c.device_idle_time == 5.0, "defaults: idle time 5 s");
	CHECK(c.log_level == LOG_LEVEL_NOTICE, "defaults: log level notice");
	CHECK(!c.default_input_device && !c.default_output_device, "defaults: PortAudio's devices");
	CHECK(!access_restricted(&c.allow_users, &c.allow_groups), "defaults: everyone may connect");
	conf_clear(&c);
}

/* The syntax, with a value for each key of the first version (test_table covers every key). */
static void test_every_key(void)
{
	static const char *const keys[] = {
		"default_input_device", "default_output_device", "device_idle_time",
		"max_clients",		"max_streams_per_client", "max_shm_per_client",
		"log_level",		"allow_users",		  "line_timeout",
		"max_requests_per_second", "allow_groups",
	};
	static const char text[] = "# A comment\n"
				   "\n"
				   "   # an indented comment\n"
				   "default_input_device = usb mic\n"
				   "default_output_device=\"t_out  alsa\"\n"
				   "device_idle_time = 0.5\r\n"
				   "\tmax_clients\t=\t12\t\n"
				   "max_streams_per_client = 3\n"
				   "max_shm_per_client = 2M\n"
				   "log_level = debug\n"
				   "allow_users = root, 4242\n"
				   "line_timeout = 2.5\n"
				   "max_requests_per_second = 500\n"
				   "allow_groups = 0"; /* no final newline */
	struct conf_error err;
	struct conf c;
	uint32_t want = 0;
	int r = parse(text, &c, &err);

	CHECK(r == 0, "a file with every key parses");
	if (r < 0)
		printf("# %s:%u: %s\n", err.file, err.line, err.message);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		want |= 1u << conf_key_index(keys[i]);
	CHECK(c.set == want, "the keys of the file, and only those, count as set");
	CHECK(c.line_timeout == 2.5 && c.max_requests_per_second == 500,
	      "line_timeout and max_requests_per_second");
	CHECK_STR(c.default_input_device, "usb mic", "default_input_device keeps inner blanks");
	CHECK_STR(c.default_output_device, "t_out  alsa", "a quoted value loses its quotes");
	CHECK(c.device_idle_time == 0.5, "device_idle_time takes fractions");
	CHECK(c.max_clients == 12, "blanks and a CR around key and value are ignored");
	CHECK(c.max_streams_per_client == 3, "max_streams_per_client");
	CHECK(c.max_shm_per_client == 2u * 1024 * 1024, "max_shm_per_client with M");
	CHECK(c.log_level == LOG_LEVEL_DEBUG, "log_level");
	CHECK(c.allow_users.count == 2 && c.allow_users.ids[0] == 0 && c.allow_users.ids[1] == 4242,
	      "allow_users: a name and a number, comma or blank separated");
	CHECK(c.allow_groups.count == 1 && c.allow_groups.ids[0] == 0, "allow_groups, last line unterminated");
	conf_clear(&c);
}

static void test_sizes(void)
{
	static const struct {
		const char *text;
		size_t want; /* 0: an error */
	} cases[] = {
		{ "65536", 65536 },	    { "64K", 65536 },	   { "64KiB", 65536 },
		{ "3M", 3u << 20 },	    { "3MiB", 3u << 20 },	   { "1G", 1u << 30 },
		{ "64G", (size_t)64 << 30 }, { "65G", 0 },		   { "63K", 0 },
		{ "1", 0 },		    { "-1M", 0 },		   { "1.5M", 0 },
		{ "1T", 0 },		    { "M", 0 },		   { "", 0 },
		{ "99999999999999999999999", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf c;
		char err[256];
		int r;

		conf_init(&c);
		r = conf_set(&c, "max_shm_per_client", cases[i].text, err, sizeof(err));
		if (cases[i].want)
			CHECK(r == 0 && c.max_shm_per_client == cases[i].want, "size '%s'",
			      cases[i].text);
		else
			CHECK(r == -EINVAL && c.max_shm_per_client == 64u << 20 &&
				      !conf_is_set(&c, "max_shm_per_client"),
			      "size '%s' is refused and changes nothing", cases[i].text);
		conf_clear(&c);
	}
}

static void test_errors_name_their_line(void)
{
	check_error("max_clients = 3\nbogus = 1\n", 2, "unknown key 'bogus'", "unknown key");
	check_error("\n\njust some words\n", 3, "expected 'key = value'", "no '='");
	check_error("= 3\n", 1, "no key", "no key");
	check_error("Max_Clients = 3\n", 1, "is not a key", "uppercase key");
	check_error("max_clients = 3\n# x\nmax_clients = 4\n", 3, "set twice (first on line 1)",
		    "a key given twice");
	check_error("max_clients = lots\n", 1, "max_clients: 'lots' is not a whole number",
		    "a word for a number");
	check_error("max_clients = 0\n", 1, "from 1 to 1000000", "max_clients below range");
	check_error("max_clients = 12x\n", 1, "not a whole number", "trailing garbage");
	check_error("max_streams_per_client = 5000\n", 1, "from 1 to 4096", "streams above range");
	check_error("device_idle_time = -1\n", 1, "seconds from 0 to 86400", "negative idle time");
	check_error("device_idle_time = nan\n", 1, "seconds from 0 to 86400", "NaN idle time");
	check_error("log_level = loud\n", 1, "'loud' is not a log level", "unknown log level");
	check_error("default_output_device = 3\n", 1, "is a device id", "numeric device id");
	check_error("default_output_device = \"usb\n", 1, "no closing '\"'", "unclosed quote");
	check_error("default_output_device = \"a\"b\"\n", 1, "inside the quotes", "quote inside");
	check_error("log_level = info\nallow_users = root no-such-user-xyz\n", 2,
		    "unknown user 'no-such-user-xyz'", "unknown user");
	check_error("allow_groups = no-such-group-xyz\n", 1, "unknown group 'no-such-group-xyz'",
		    "unknown group");
	check_error("allow_users = 4294967295\n", 1, "unknown user", "the invalid uid -1");
	check_error("log_level = info\nmax_clients = \xff\xfe\n", 2, "not valid UTF-8",
		    "invalid UTF-8");

	/* A NUL byte cannot go through a C string literal's strlen(). */
	{
		static const char text[] = "log_level = info\nmax_clients = 1\0002\n";
		struct conf_error err = { 0 };
		struct conf c;
		int r;

		conf_init(&c);
		r = conf_parse(&c, "test.conf", text, sizeof(text) - 1, &err);
		CHECK(r == -EINVAL && err.line == 2 && strstr(err.message, "NUL"),
		      "error: a NUL byte (line 2)");
		conf_clear(&c);
	}
}

static void test_set_keeps_value_on_error(void)
{
	struct conf c;
	char err[256];

	conf_init(&c);
	CHECK(conf_set(&c, "default_output_device", "t_out", err, sizeof(err)) == 0,
	      "conf_set sets a key");
	CHECK(conf_set(&c, "default_output_device", "7", err, sizeof(err)) == -EINVAL,
	      "conf_set refuses a bad value");
	CHECK_STR(c.default_output_device, "t_out", "the previous value stays");
	CHECK(conf_set(&c, "nope", "1", err, sizeof(err)) == -ENOENT && strstr(err, "'nope'"),
	      "conf_set: an unknown key is -ENOENT and named");
	CHECK(conf_set(&c, "default_output_device", "", err, sizeof(err)) == 0 &&
		      !c.default_output_device,
	      "an empty device means PortAudio's default");
	CHECK(conf_set(&c, "allow_users", "root", err, sizeof(err)) == 0 &&
		      conf_set(&c, "allow_users", "root nobody-xyz-404", err, sizeof(err)) < 0 &&
		      c.allow_users.count == 1,
	      "a bad user list leaves the previous list");
	conf_clear(&c);
}

static void test_merge(void)
{
	struct conf file, cmdline, eff;
	struct conf_error err;
	char msg[256];

	CHECK(parse("max_clients = 10\nlog_level = info\ndefault_output_device = t_out\n"
		    "allow_users = root\n",
		    &file, &err) == 0,
	      "merge: the file parses");
	conf_init(&cmdline);
	conf_set(&cmdline, "max_clients", "20", msg, sizeof(msg));
	conf_set(&cmdline, "allow_groups", "0", msg, sizeof(msg));

	conf_init(&eff);
	CHECK(conf_merge(&eff, &file) == 0 && conf_merge(&eff, &cmdline) == 0, "merge succeeds");
	CHECK(eff.max_clients == 20, "the command line wins over the file");
	CHECK(eff.log_level == LOG_LEVEL_INFO, "keys only in the file stay");
	CHECK_STR(eff.default_output_device, "t_out", "strings are copied");
	CHECK(eff.max_streams_per_client == 16, "keys in neither keep the default");
	CHECK(eff.allow_users.count == 1 && eff.allow_groups.count == 1 &&
		      access_restricted(&eff.allow_users, &eff.allow_groups),
	      "the user list from the file and the group list from the command line combine");
	CHECK(eff.default_output_device != file.default_output_device,
	      "merge copies, so sources can be freed");
	conf_clear(&file);
	conf_clear(&cmdline);
	CHECK_STR(eff.default_output_device, "t_out", "the merged settings outlive their sources");
	conf_clear(&eff);
}

static void test_write_round_trip(void)
{
	struct conf c, again;
	struct conf_error err;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	CHECK(parse("default_input_device = mic\nmax_shm_per_client = 3G\n"
		    "device_idle_time = 2.25\nallow_groups = root\n",
		    &c, &err) == 0,
	      "round trip: the file parses");
	f = open_memstream(&buf, &len);
	conf_write(&c, f);
	fclose(f);
	CHECK(strstr(buf, "max_shm_per_client = 3G\n") != NULL, "sizes print with a suffix");
	CHECK(strstr(buf, "#allow_users = \n") != NULL, "an unset list prints as a comment");
	CHECK(strstr(buf, "\nallow_groups = root\n") != NULL, "groups print by name");
	CHECK(parse(buf, &again, &err) == 0, "what conf_write prints parses again");
	CHECK(again.max_shm_per_client == c.max_shm_per_client &&
		      again.device_idle_time == c.device_idle_time &&
		      again.max_clients == c.max_clients && again.log_level == c.log_level &&
		      !again.allow_users.set && again.allow_groups.set &&
		      again.allow_groups.count == 1 && again.allow_groups.ids[0] == 0 &&
		      strcmp(again.default_input_device, "mic") == 0 && !again.default_output_device,
	      "and gives the same settings");
	for (int k = 0; k < CONF_KEY_COUNT; k++)
		CHECK(strstr(buf, conf_key(k)->name) != NULL, "conf_write prints %s",
		      conf_key(k)->name);
	free(buf);
	conf_clear(&c);
	conf_clear(&again);
}

/* A list longer than any line buffer prints whole, and reads back the same. */
static void test_write_long_list(void)
{
	struct conf c, again;
	struct conf_error err;
	char *text = NULL, *buf = NULL;
	size_t text_len = 0, len = 0;
	FILE *f = open_memstream(&text, &text_len);

	fputs("allow_groups =", f);
	for (int i = 0; i < 2000; i++)
		fputs(" 0", f); /* printed as "root": 10000 bytes */
	fputs(" 4242424\n", f);
	fclose(f);
	CHECK(parse(text, &c, &err) == 0, "a list of 2001 groups parses");
	f = open_memstream(&buf, &len);
	conf_write(&c, f);
	fclose(f);
	CHECK(parse(buf, &again, &err) == 0, "written out, it parses again (%s)", err.message);
	CHECK(again.allow_groups.count == 2001 && again.allow_groups.ids[2000] == 4242424,
	      "with all 2001 groups, the last one too");
	free(text);
	free(buf);
	conf_clear(&c);
	conf_clear(&again);
}

/* Returns what conf_write prints for c, in a malloc'd string. */
static char *written(const struct conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	conf_write(c, f);
	fclose(f);
	return buf;
}

/* Returns the field of key k in c. */
static const void *field(const struct conf *c, const struct conf_key *k)
{
	return (const char *)c + k->offset;
}

/* Returns a numeric key's value as a double. */
static double number(const struct conf *c, const struct conf_key *k)
{
	switch (k->type) {
	case CONF_TYPE_SECONDS:
	case CONF_TYPE_RATE:
		return *(const double *)field(c, k);
	case CONF_TYPE_COUNT:
		return *(const int *)field(c, k);
	case CONF_TYPE_SIZE:
		return (double)*(const size_t *)field(c, k);
	default:
		return NAN;
	}
}

static bool is_numeric(const struct conf_key *k)
{
	return k->type == CONF_TYPE_SECONDS || k->type == CONF_TYPE_RATE ||
	       k->type == CONF_TYPE_COUNT || k->type == CONF_TYPE_SIZE;
}

/* Returns whether key k holds the same value in a and b. */
static bool same_value(const struct conf *a, const struct conf *b, const struct conf_key *k)
{
	const struct access_list *la = field(a, k), *lb = field(b, k);
	const char *sa, *sb;

	switch (k->type) {
	case CONF_TYPE_QUERY:
		sa = *(char *const *)field(a, k);
		sb = *(char *const *)field(b, k);
		return sa == sb || (sa && sb && strcmp(sa, sb) == 0);
	case CONF_TYPE_USERS:
	case CONF_TYPE_GROUPS:
		return la->set == lb->set && la->count == lb->count &&
		       (la->count == 0 || memcmp(la->ids, lb->ids, la->count * sizeof(*la->ids)) == 0);
	case CONF_TYPE_LOG_LEVEL:
		return *(const enum log_level *)field(a, k) == *(const enum log_level *)field(b, k);
	default:
		return number(a, k) == number(b, k);
	}
}

/* Sets k to value, writes the settings out, reads them back: the same value and text. */
static void check_round_trip(const struct conf_key *k, const char *value)
{
	struct conf a, b;
	struct conf_error err;
	char msg[256], *text1, *text2 = NULL;
	int r;

	conf_init(&a);
	r = conf_set(&a, k->name, value, msg, sizeof(msg));
	CHECK(r == 0, "table: %s = '%s' is accepted", k->name, value);
	if (r < 0)
		printf("# %s\n", msg);
	text1 = written(&a);
	r = parse(text1, &b, &err);
	if (r == 0)
		text2 = written(&b);
	CHECK(r == 0 && same_value(&a, &b, k) && strcmp(text1, text2) == 0,
	      "table: %s = '%s' reads back the same after conf_write", k->name, value);
	free(text1);
	free(text2);
	conf_clear(&a);
	conf_clear(&b);
}

/*
 * Checks that k refuses value with a message naming the bounds exactly as
 * --help (help_text) shows them.
 */
static void check_refused(const struct conf_key *k, const char *value, const char *help_text)
{
	struct conf c;
	char msg[256], *from, *end;
	int r;

	conf_init(&c);
	r = conf_set(&c, k->name, value, msg, sizeof(msg));
	from = strstr(msg, " from ");
	CHECK(r == -EINVAL && !conf_is_set(&c, k->name) && from,
	      "table: %s refuses '%s', out of bounds", k->name, value);
	if (r == -EINVAL && from) {
		from++;
		end = strstr(from, " (");
		if (end)
			*end = '\0';
		CHECK(strstr(help_text, from) != NULL, "table: %s's message has --help's bounds '%s'",
		      k->name, from);
	}
	conf_clear(&c);
}

/*
 * Finds key name in --check-config's text and returns its value as --help
 * shows a default: "unset" for a list not given, "empty" for nothing,
 * else the value as written.  NULL when the key is not there.
 */
static const char *default_shown(const char *text, const char *name, char *buf, size_t size)
{
	size_t n = strlen(name);

	for (const char *line = text; *line; line = strchr(line, '\n') + 1) {
		bool commented = line[0] == '#';
		const char *key = line + commented, *eol = strchr(line, '\n');

		if (strncmp(key, name, n) == 0 && strncmp(key + n, " = ", 3) == 0) {
			const char *value = key + n + 3;

			if (commented)
				return "unset";
			if (value == eol)
				return "empty";
			snprintf(buf, size, "%.*s", (int)(eol - value), value);
			return buf;
		}
		if (!eol)
			break;
	}
	return NULL;
}

/* Copies text into a new string with every run of blanks and newlines made one space. */
static char *flatten(const char *text)
{
	char *flat = malloc(strlen(text) + 1), *q = flat;

	for (const char *p = text; *p; p++)
		if (!isspace((unsigned char)*p))
			*q++ = *p;
		else if (q > flat && q[-1] != ' ')
			*q++ = ' ';
	*q = '\0';
	return flat;
}

/* Writes the number v as a key of k's type takes it. */
static void format_number(const struct conf_key *k, double v, char *buf, size_t size)
{
	if (k->type == CONF_TYPE_SECONDS || k->type == CONF_TYPE_RATE)
		snprintf(buf, size, "%.17g", v);
	else
		snprintf(buf, size, "%.0f", v);
}

/*
 * Every row of conf-keys.h: a well-formed name and help, a default within
 * the bounds, a line in --help with the option, its value name, its bounds
 * and its default, and values of every kind that read back the same after
 * --check-config prints them, while values out of bounds are refused.
 */
static void test_table(void)
{
	static const char *const samples[][5] = {
		[CONF_TYPE_QUERY] = { "usb mic", "", "hw:1,0 \"quoted\" name", " padded ", NULL },
		[CONF_TYPE_LOG_LEVEL] = { "error", "warning", "notice", "info", "debug" },
		[CONF_TYPE_USERS] = { "root", "", "0 4242", NULL, NULL },
		[CONF_TYPE_GROUPS] = { "root", "", "0, 4242", NULL, NULL },
	};
	char *help = NULL, *defaults_text;
	size_t help_len = 0;
	FILE *f = open_memstream(&help, &help_len);
	struct conf defaults;

	conf_write_help(f);
	fclose(f);
	CHECK(conf_init(&defaults) == 0 && defaults.set == 0, "table: the defaults");
	defaults_text = written(&defaults);
	CHECK(conf_key(CONF_KEY_COUNT) == NULL && conf_key(-1) == NULL, "table: conf_key's range");
	for (int i = 0; i < CONF_KEY_COUNT; i++) {
		const struct conf_key *k = conf_key(i);
		char option[128], line[160], want[176], *section, *next, *flat;
		const char *value;
		size_t hl = strlen(k->help);

		CHECK(k->name[0] >= 'a' && k->name[0] <= 'z' &&
			      strspn(k->name, "abcdefghijklmnopqrstuvwxyz_") == strlen(k->name) &&
			      conf_key_index(k->name) == i,
		      "table: %s is a key the file can name, and only one row has it", k->name);
		CHECK(hl > 0 && hl < 100 && !strchr(k->help, '\n') && islower((unsigned char)k->help[0]) &&
			      k->help[hl - 1] != '.',
		      "table: %s's help is one short line, lowercase, without a final stop", k->name);
		CHECK(k->value_name[0] && strspn(k->value_name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") ==
						  strlen(k->value_name),
		      "table: %s's value name is a word in capitals", k->name);
		CHECK(k->def || k->type == CONF_TYPE_USERS || k->type == CONF_TYPE_GROUPS,
		      "table: %s has a default (only lists may be left unset)", k->name);
		if (is_numeric(k))
			CHECK(k->min <= k->max && number(&defaults, k) >= k->min &&
				      number(&defaults, k) <= k->max,
			      "table: %s's default is within its bounds", k->name);

		/* --help: the option with its value name, and the default as --check-config writes it. */
		snprintf(option, sizeof(option), "      --%s %s", k->name, k->value_name);
		for (char *p = option; *p; p++)
			if (*p == '_')
				*p = '-';
		section = strstr(help, option);
		CHECK(section && (section == help || section[-1] == '\n'),
		      "table: --help shows '%s'", option + 6);
		value = default_shown(defaults_text, k->name, line, sizeof(line));
		CHECK(value != NULL, "table: --check-config writes %s", k->name);
		if (!section || !value)
			continue;
		next = strstr(section + 1, "\n      --");
		if (next)
			*next = '\0';
		/* Help lines are wrapped: the checks read them as one line. */
		flat = flatten(section);
		if (next)
			*next = '\n';
		snprintf(want, sizeof(want), "default %s", value);
		CHECK(strstr(flat, want) != NULL, "table: --help shows %s's '%s'", k->name, want);

		/* Values of every kind read back the same; values out of bounds are refused. */
		if (is_numeric(k)) {
			double mid = k->min + (k->max - k->min) / 7;
			char buf[3][64];

			format_number(k, k->min, buf[0], sizeof(buf[0]));
			format_number(k, k->max, buf[1], sizeof(buf[1]));
			format_number(k, k->type == CONF_TYPE_SIZE ? k->min + 1 : mid, buf[2],
				      sizeof(buf[2]));
			for (int j = 0; j < 3; j++)
				check_round_trip(k, buf[j]);
			if (k->min > 0 || k->type == CONF_TYPE_SECONDS || k->type == CONF_TYPE_RATE) {
				format_number(k, k->min > 0 ? k->min - 1 : -1, buf[0], sizeof(buf[0]));
				check_refused(k, buf[0], flat);
			}
			format_number(k, k->max + 1, buf[1], sizeof(buf[1]));
			check_refused(k, buf[1], flat);
		} else {
			for (int j = 0; j < 5 && samples[k->type][j]; j++)
				check_round_trip(k, samples[k->type][j]);
		}
		free(flat);
	}
	free(defaults_text);
	free(help);
	conf_clear(&defaults);
}

static void test_files(void)
{
	char dir[] = "/tmp/test-config-XXXXXX", path[PATH_MAX], found[PATH_MAX];
	struct conf_error err = { 0 };
	struct conf c;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL, "a temporary folder");
	snprintf(path, sizeof(path), "%s/none.conf", dir);
	conf_init(&c);
	CHECK(conf_load_file(&c, path, &err) == -ENOENT && strcmp(err.file, path) == 0 &&
		      err.line == 0,
	      "a missing file is -ENOENT, named, without a line");
	snprintf(path, sizeof(path), "%s/sddaemon", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/sddaemon/sddaemon.conf", dir);
	f = fopen(path, "w");
	fputs("max_clients = 5\nlog_level = warning\nmax_clients = 6\n", f);
	fclose(f);
	CHECK(conf_load_file(&c, path, &err) == -EINVAL && err.line == 3 &&
		      strcmp(err.file, path) == 0,
	      "errors in a file name the file and the line");
	conf_clear(&c);

	setenv("XDG_CONFIG_HOME", dir, 1);
	CHECK(conf_find_file(found, sizeof(found)) == 0 && strcmp(found, path) == 0,
	      "the user's file under $XDG_CONFIG_HOME is found first");
	setenv("XDG_CONFIG_HOME", "relative/dir", 1);
	setenv("HOME", dir, 1);
	conf_find_file(found, sizeof(found));
	CHECK(strcmp(found, SDD_SYSCONFDIR "/sddaemon/sddaemon.conf") == 0,
	      "a relative $XDG_CONFIG_HOME is ignored, and without ~/.config the system file is next");
	unlink(path);
	snprintf(path, sizeof(path), "%s/sddaemon", dir);
	rmdir(path);
	rmdir(dir);
}

static void test_access(void)
{
	struct access_list users = { 0 }, groups = { 0 };
	char err[256];
	gid_t audio[] = { 100, 29 }, other[] = { 100, 5 };

	CHECK(access_allows(&users, &groups, 1000, other, 2), "no lists: everyone may connect");
	CHECK(access_parse_users(&users, "", err, sizeof(err)) == 0 &&
		      access_restricted(&users, &groups) &&
		      !access_allows(&users, &groups, 0, other, 2),
	      "an empty user list restricts: no one, not even root");
	CHECK(access_parse_groups(&groups, "29", err, sizeof(err)) == 0, "a group list by number");
	CHECK(access_allows(&users, &groups, 1000, audio, 2),
	      "a member of a listed group (supplementary) may");
	CHECK(!access_allows(&users, &groups, 1000, other, 2), "someone in no listed group may not");
	CHECK(access_parse_users(&users, "1000,1001", err, sizeof(err)) == 0 &&
		      access_allows(&users, &groups, 1001, other, 2) &&
		      !access_allows(&users, &groups, 1002, other, 2),
	      "a listed uid may, another may not");
	CHECK(access_parse_users(&users, "root", err, sizeof(err)) == 0 && users.count == 1 &&
		      users.ids[0] == 0,
	      "user names resolve to uids");
	CHECK(access_parse_groups(&groups, "root,  0", err, sizeof(err)) == 0 && groups.count == 2,
	      "group names and numbers mix");
	CHECK(access_parse_users(&users, "12x", err, sizeof(err)) == -EINVAL &&
		      strstr(err, "unknown user '12x'") && users.count == 1,
	      "something neither a number nor a user is an error, and changes nothing");
	access_list_clear(&users);
	CHECK(!users.set && !users.ids && access_restricted(&users, &groups),
	      "access_list_clear clears one list");
	access_list_clear(&groups);
	CHECK(!access_restricted(&users, &groups) && !groups.ids,
	      "with both cleared, nothing is restricted");
}

/* The check on a real connection: our own credentials, read from the socket. */
static void test_access_peer(void)
{
	struct access_list users = { 0 }, groups = { 0 };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char err[256], list[32];
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 &&
		      getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0,
	      "a socket pair and its peer credentials");
	CHECK(access_check_peer(&users, &groups, sv[0], &cred) == 0, "peer: no lists, allowed");
	snprintf(list, sizeof(list), "%u", (unsigned)cred.uid + 1);
	access_parse_users(&users, list, err, sizeof(err));
	CHECK(access_check_peer(&users, &groups, sv[0], &cred) == -EACCES,
	      "peer: another uid listed, refused");
	snprintf(list, sizeof(list), "%u", (unsigned)cred.gid);
	access_parse_groups(&groups, list, err, sizeof(err));
	CHECK(access_check_peer(&users, &groups, sv[0], &cred) == 0,
	      "peer: its primary group listed, allowed");
	access_parse_groups(&groups, "", err, sizeof(err));
	snprintf(list, sizeof(list), "%u", (unsigned)cred.uid);
	access_parse_users(&users, list, err, sizeof(err));
	CHECK(access_check_peer(&users, &groups, sv[0], &cred) == 0, "peer: its uid listed, allowed");
	cred.uid = (uid_t)-1;
	CHECK(access_check_peer(&users, &groups, sv[0], &cred) == -EACCES,
	      "peer: unknown credentials are refused when lists are set");
	access_list_clear(&users);
	access_list_clear(&groups);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	test_defaults();
	test_every_key();
	test_sizes();
	test_errors_name_their_line();
	test_set_keeps_value_on_error();
	test_merge();
	test_write_round_trip();
	test_write_long_list();
	test_table();
	test_files();
	test_access();
	test_access_peer();
	return tap_done();
}
