/*
 * Fuzzes protocol/utf8.c against a reference written from the table of
 * well-formed byte sequences in the Unicode standard (chapter 3, table
 * 3-7).  utf8_check() must stop exactly where the reference finds the first
 * ill-formed sequence, and utf8_sanitize() must produce exactly what the
 * reference produces: valid sequences copied, every other byte replaced by
 * U+FFFD.  Above all, what utf8_sanitize() returns must always pass
 * utf8_check().
 */
#include <string.h>

#include "fuzz.h"
#include "utf8.h"

/*
 * Returns the length of the well-formed sequence at s[0..len), or 0 when
 * the bytes there are not one.  Written from table 3-7, independently of
 * the decoder in utf8.c: each lead byte fixes the range of the byte after it.
 */
static size_t ref_seq_len(const unsigned char *s, size_t len)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] <= 0x7f)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] == 0xe0)
		n = 3, lo = 0xa0;
	else if (s[0] == 0xed)
		n = 3, hi = 0x9f;
	else if (s[0] >= 0xe1 && s[0] <= 0xef)
		n = 3;
	else if (s[0] == 0xf0)
		n = 4, lo = 0x90;
	else if (s[0] == 0xf4)
		n = 4, hi = 0x8f;
	else if (s[0] >= 0xf1 && s[0] <= 0xf3)
		n = 4;
	else
		return 0;
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* Returns the offset of the first ill-formed sequence in s[0..len), or len. */
static size_t ref_check(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n = ref_seq_len(s + i, len - i);

		if (n == 0)
			return i;
		i += n;
	}
	return len;
}

/* Writes what sanitizing the NUL-terminated s must give to out (3 * strlen(s) + 1 bytes). */
static size_t ref_sanitize(const unsigned char *s, char *out)
{
	size_t len = strlen((const char *)s), i = 0, o = 0;

	while (i < len) {
		size_t n = ref_seq_len(s + i, len - i);

		if (n) {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	out[o] = '\0';
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *got, *want;
	size_t end, len, want_len;

	/* utf8_check() sees the raw bytes, NULs and a cut-off last sequence included. */
	end = utf8_check((const char *)data, size);
	FUZZ_CHECK(end == ref_check(data, size));
	FUZZ_CHECK(utf8_check((const char *)data, end) == end);

	/* utf8_sanitize() takes a C string: the input up to its first NUL. */
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	len = strlen(s);
	got = utf8_sanitize(s);
	want = malloc(3 * len + 1);
	if (got && want) {
		size_t got_len = strlen(got);

		FUZZ_CHECK(utf8_check(got, got_len) == got_len);
		want_len = ref_sanitize((const unsigned char *)s, want);
		FUZZ_CHECK(got_len == want_len && memcmp(got, want, got_len) == 0);
		/* Valid text passes through unchanged. */
		if (utf8_check(s, len) == len)
			FUZZ_CHECK(strcmp(got, s) == 0);
	}
	free(want);
	free(got);
	free(s);
	return 0;
}
