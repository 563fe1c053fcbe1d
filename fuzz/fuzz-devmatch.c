/*
 * Fuzzes device selection (protocol/devmatch.c).  The input is text, so the
 * corpus can be written by hand:
 *
 *   line 1        the kind ('i' input, 'o' output, anything else any),
 *                 then the query string
 *   each further  one device: a digit whose bit 1 gives it input channels,
 *   line          bit 2 output channels and bit 4 marks it absent (gone),
 *                 then "name<TAB>host API"
 *
 * The result is compared with a reference that builds the string
 * "name, host API" and looks for the query's words in it with strstr().
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "devmatch.h"
#include "fuzz.h"

#define MAX_DEVICES 64
#define MAX_CANDIDATES 4

/* Returns a malloc'd, NUL-terminated copy of s[0..n) (cut at a NUL, like any C string). */
static char *copy(const uint8_t *s, size_t n)
{
	char *c = malloc(n + 1);

	if (c) {
		memcpy(c, s, n);
		c[n] = '\0';
	}
	return c;
}

/* Lowers ASCII letters in place, as the C locale's tolower() does. */
static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Returns true when the words of query appear, in order and not overlapping, in the device's text.
 */
static bool ref_matches(const struct devmatch_entry *e, const char *query)
{
	size_t nlen = strlen(e->name), hlen = strlen(e->hostapi), qlen = strlen(query);
	char *hay = malloc(nlen + hlen + 3), *q = malloc(qlen + 1), *pos, *w;
	bool ok = true;

	FUZZ_CHECK(hay && q);
	memcpy(hay, e->name, nlen);
	memcpy(hay + nlen, ", ", 2);
	memcpy(hay + nlen + 2, e->hostapi, hlen + 1);
	memcpy(q, query, qlen + 1);
	lower(hay);
	lower(q);
	pos = hay;
	w = q;
	for (;;) {
		char *end, save, *at;

		while (*w && is_space(*w))
			w++;
		if (!*w)
			break;
		end = w;
		while (*end && !is_space(*end))
			end++;
		save = *end;
		*end = '\0';
		at = strstr(pos, w);
		*end = save;
		if (!at) {
			ok = false;
			break;
		}
		pos = at + (end - w);
		w = end;
	}
	free(hay);
	free(q);
	return ok;
}

/* Returns true when a and b are equal but for ASCII case. */
static bool ref_equal(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
	return *a == *b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct devmatch_entry list[MAX_DEVICES];
	char *strings[2 * MAX_DEVICES + 1] = {NULL};
	size_t nstrings = 0, n = 0, pos, count = 0, ref_count = 0;
	enum devmatch_kind kind = DEVMATCH_ANY;
	enum devmatch_status status, ref_status;
	int candidates[MAX_CANDIDATES], ref_candidates[MAX_CANDIDATES];
	int index = -1, ref_index = -1, first = -1, exact = -1;
	size_t exact_count = 0;
	const uint8_t *nl;
	char *query;

	if (size == 0)
		return 0;
	if (data[0] == 'i')
		kind = DEVMATCH_INPUT;
	else if (data[0] == 'o')
		kind = DEVMATCH_OUTPUT;
	nl = memchr(data, '\n', size);
	pos = nl ? (size_t)(nl - data) : size;
	query = strings[nstrings++] = copy(data + 1, pos > 0 ? pos - 1 : 0);
	if (!query)
		goto out;
	pos = nl ? pos + 1 : size;

	while (pos < size && n < MAX_DEVICES) {
		const uint8_t *line = data + pos, *tab;
		size_t len;
		char *name, *hostapi;

		nl = memchr(line, '\n', size - pos);
		len = nl ? (size_t)(nl - line) : size - pos;
		pos += len + 1;
		if (len == 0)
			continue;
		tab = memchr(line + 1, '\t', len - 1);
		if (tab) {
			name = copy(line + 1, (size_t)(tab - line - 1));
			hostapi = copy(tab + 1, (size_t)(line + len - tab - 1));
		} else {
			name = copy(line + 1, len - 1);
			hostapi = copy(line, 0);
		}
		strings[nstrings++] = name;
		strings[nstrings++] = hostapi;
		if (!name || !hostapi)
			goto out;
		list[n] = (struct devmatch_entry){
		    .name = name,
		    .hostapi = hostapi,
		    .max_input_channels = line[0] & 1 ? 2 : 0,
		    .max_output_channels = line[0] & 2 ? 2 : 0,
		    .absent = line[0] & 4,
		};
		n++;
	}

	status = devmatch_find(list, n, query, kind, &index, candidates, MAX_CANDIDATES, &count);

	/* The reference: filter by kind, match, then let a unique exact name win. */
	for (size_t i = 0; i < n; i++) {
		if (list[i].absent)
			continue;
		if (kind == DEVMATCH_INPUT && list[i].max_input_channels < 1)
			continue;
		if (kind == DEVMATCH_OUTPUT && list[i].max_output_channels < 1)
			continue;
		if (!ref_matches(&list[i], query))
			continue;
		if (ref_count < MAX_CANDIDATES)
			ref_candidates[ref_count] = (int)i;
		if (first < 0)
			first = (int)i;
		ref_count++;
		if (ref_equal(list[i].name, query)) {
			exact = (int)i;
			exact_count++;
		}
	}
	if (ref_count == 0) {
		ref_status = DEVMATCH_NONE;
	} else if (ref_count == 1) {
		ref_status = DEVMATCH_FOUND;
		ref_index = first;
	} else if (exact_count == 1) {
		ref_status = DEVMATCH_FOUND;
		ref_index = exact;
	} else {
		ref_status = DEVMATCH_AMBIGUOUS;
	}

	FUZZ_CHECK(status == ref_status);
	FUZZ_CHECK(count == ref_count);
	if (status == DEVMATCH_FOUND)
		FUZZ_CHECK(index == ref_index);
	else
		FUZZ_CHECK(index == -1);
	for (size_t i = 0; i < count && i < MAX_CANDIDATES; i++)
		FUZZ_CHECK(candidates[i] == ref_candidates[i]);

	/* Without the optional outputs it must not write anything, nor fail. */
	index = -1;
	FUZZ_CHECK(devmatch_find(list, n, query, kind, &index, NULL, 0, NULL) == ref_status);
	FUZZ_CHECK(strlen(devmatch_kind_name(kind)) > 0);
out:
	for (size_t i = 0; i < nstrings; i++)
		free(strings[i]);
	return 0;
}
