/* UTF-8 helpers for text that comes from outside (device names, files). */
#pragma once

#include <stddef.h>

/*
 * Returns a malloc'd copy of s in which every byte that is not part of a
 * valid UTF-8 sequence is replaced by U+FFFD, or NULL when out of memory.
 */
char *utf8_sanitize(const char *s);

/*
 * Returns the offset of the first byte of s[0..len) that is not part of a
 * valid UTF-8 sequence (overlong forms and surrogates are invalid), or len
 * when all of it is valid.
 */
size_t utf8_check(const char *s, size_t len);
