/*
 * Fuzzes the configuration-file parser (daemon/conf.c).  Any input either
 * parses, or fails with a message (and a line number within the text); a
 * file that parses is written out again by conf_write(), and that text must
 * parse to the same settings and write out identically: the daemon's
 * --check-config output is always a valid configuration.
 */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c, again;
	struct conf_error err;
	char *text1, *text2;
	size_t len1, len2;
	unsigned lines = 1;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	conf_init(&c);
	memset(&err, 0, sizeof(err));
	if (conf_parse(&c, "fuzz.conf", (const char *)data, size, &err) < 0) {
		FUZZ_CHECK(err.message[0] != '\0');
		FUZZ_CHECK(err.line <= lines);
		conf_clear(&c);
		return 0;
	}
	text1 = written(&c, &len1);
	conf_init(&again);
	memset(&err, 0, sizeof(err));
	FUZZ_CHECK(conf_parse(&again, "written.conf", text1, len1, &err) == 0);
	text2 = written(&again, &len2);
	FUZZ_CHECK(len1 == len2 && memcmp(text1, text2, len1) == 0);
	free(text1);
	free(text2);
	conf_clear(&again);
	conf_clear(&c);
	return 0;
}
