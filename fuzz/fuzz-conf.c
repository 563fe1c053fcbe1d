/*
 * Fuzzes the configuration-file parser (daemon/conf.c).  Any input either
 * parses, or fails with a message (and a line number within the text); a
 * file that parses is written out again by conf_write(), and that text must
 * parse to the same settings and write out identically: the daemon's
 * --check-config output is always a valid configuration.  The input is
 * also given to one key as an option's value would be (the first byte
 * picks the key), with the same checks: an option's value that is
 * accepted is written as a line that reads back the same.
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"

/* Writes c's settings as text into a malloc'd buffer. */
static char *written(const struct conf *c, size_t *ret_len)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	FUZZ_CHECK(f);
	conf_write(c, f);
	fclose(f);
	*ret_len = len;
	return text;
}

/* Writes c out, parses that and checks that it writes out the same. */
static void check_reads_back(const struct conf *c)
{
	struct conf again;
	struct conf_error err;
	char *text1, *text2;
	size_t len1, len2;

	text1 = written(c, &len1);
	FUZZ_CHECK(conf_init(&again) == 0);
	memset(&err, 0, sizeof(err));
	FUZZ_CHECK(conf_parse(&again, "written.conf", text1, len1, &err) == 0);
	text2 = written(&again, &len2);
	FUZZ_CHECK(len1 == len2 && memcmp(text1, text2, len1) == 0);
	free(text1);
	free(text2);
	conf_clear(&again);
}

/* The input after its first byte as the value of the option of the key the first byte picks. */
static void fuzz_option(const uint8_t *data, size_t size)
{
	const struct conf_key *k;
	char err[256] = "", *value;
	struct conf c;

	if (size < 1 || memchr(data + 1, '\0', size - 1))
		return;
	k = conf_key(data[0] % CONF_KEY_COUNT);
	value = strndup((const char *)data + 1, size - 1);
	FUZZ_CHECK(value && conf_init(&c) == 0);
	if (conf_set(&c, k->name, value, err, sizeof(err)) < 0) {
		FUZZ_CHECK(err[0] != '\0' && !conf_is_set(&c, k->name));
	} else {
		FUZZ_CHECK(conf_is_set(&c, k->name));
		check_reads_back(&c);
	}
	free(value);
	conf_clear(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c;
	struct conf_error err;
	unsigned lines = 1;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	fuzz_option(data, size);
	FUZZ_CHECK(conf_init(&c) == 0);
	memset(&err, 0, sizeof(err));
	if (conf_parse(&c, "fuzz.conf", (const char *)data, size, &err) < 0) {
		FUZZ_CHECK(err.message[0] != '\0');
		FUZZ_CHECK(err.line <= lines);
	} else {
		check_reads_back(&c);
	}
	conf_clear(&c);
	return 0;
}
