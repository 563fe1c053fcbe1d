/* UTF-8 validation and repair. */
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Returns the length of the valid UTF-8 sequence at s, or 0 when invalid.
 * s is NUL-terminated or long enough: a NUL ends a sequence as invalid.
 */
static size_t seq_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Reject overlong forms, surrogates and code points above U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

char *utf8_sanitize(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);
	char *out = malloc(len * 3 + 1), *o = out;

	if (!out)
		return NULL;
	while (*p) {
		size_t n = seq_len(p);

		if (n) {
			memcpy(o, p, n);
			o += n;
			p += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		}
	}
	*o = '\0';
	return out;
}

size_t utf8_check(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char tmp[4] = { 0 };
		size_t n;

		if (p[i] < 0x80) {
			i++;
			continue;
		}
		/* Copy so that a sequence cut off at len is never read past its end. */
		memcpy(tmp, p + i, len - i < 4 ? len - i : 4);
		n = seq_len(tmp);
		if (n == 0 || i + n > len)
			return i;
		i += n;
	}
	return len;
}
