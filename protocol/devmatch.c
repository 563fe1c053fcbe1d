/* Device query string matching; see devmatch.h. */
#include "devmatch.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

const char *devmatch_kind_name(enum devmatch_kind kind)
{
	switch (kind) {
	case DEVMATCH_INPUT:
		return "input";
	case DEVMATCH_OUTPUT:
		return "output";
	default:
		return "input/output";
	}
}

/*
 * Finds needle[0..nlen) in hay[pos..] ignoring ASCII case; returns the
 * offset just past the match, or -1.
 */
static long find_ci(const char *hay, size_t hlen, size_t pos, const char *needle, size_t nlen)
{
	if (nlen > hlen)
		return -1;
	for (size_t i = pos; i + nlen <= hlen; i++) {
		size_t j = 0;

		while (j < nlen && tolower((unsigned char)hay[i + j]) ==
					   tolower((unsigned char)needle[j]))
			j++;
		if (j == nlen)
			return (long)(i + nlen);
	}
	return -1;
}

/* Looks for the substrings of query, in order, in "name, hostapi". */
static bool matches(const struct devmatch_entry *e, const char *query)
{
	size_t nlen = strlen(e->name), hlen = strlen(e->hostapi);
	size_t pos = 0;
	const char *q = query;

	for (;;) {
		size_t wlen;
		long at;

		while (*q && isspace((unsigned char)*q))
			q++;
		if (!*q)
			return true;
		wlen = 0;
		while (q[wlen] && !isspace((unsigned char)q[wlen]))
			wlen++;

		/*
		 * Search the virtual string name + ", " + hostapi without building
		 * it: a word may straddle the joints, so compare byte by byte.
		 */
		at = -1;
		for (size_t i = pos; at < 0 && i + wlen <= nlen + 2 + hlen; i++) {
			size_t j = 0;

			for (; j < wlen; j++) {
				size_t k = i + j;
				char c = k < nlen ? e->name[k]
					 : k < nlen + 2 ? ", "[k - nlen]
							: e->hostapi[k - nlen - 2];

				if (tolower((unsigned char)c) != tolower((unsigned char)q[j]))
					break;
			}
			if (j == wlen)
				at = (long)(i + wlen);
		}
		if (at < 0)
			return false;
		pos = (size_t)at;
		q += wlen;
	}
}

/* Returns true when name equals query, ignoring ASCII case. */
static bool equal_ci(const char *name, const char *query)
{
	size_t n = strlen(name);

	return n == strlen(query) && find_ci(name, n, 0, query, n) == (long)n;
}

enum devmatch_status devmatch_find(const struct devmatch_entry *list, size_t n, const char *query,
				   enum devmatch_kind kind, int *ret_index, int *candidates,
				   size_t max_candidates, size_t *ret_count)
{
	size_t count = 0, exact_count = 0;
	int first = -1, exact = -1;

	for (size_t i = 0; i < n; i++) {
		const struct devmatch_entry *e = &list[i];

		if (e->absent)
			continue;
		if (kind == DEVMATCH_INPUT && e->max_input_channels < 1)
			continue;
		if (kind == DEVMATCH_OUTPUT && e->max_output_channels < 1)
			continue;
		if (!matches(e, query))
			continue;
		if (candidates && count < max_candidates)
			candidates[count] = (int)i;
		if (first < 0)
			first = (int)i;
		count++;
		if (equal_ci(e->name, query)) {
			exact = (int)i;
			exact_count++;
		}
	}
	if (ret_count)
		*ret_count = count;
	if (count == 0)
		return DEVMATCH_NONE;
	if (count == 1) {
		*ret_index = first;
		return DEVMATCH_FOUND;
	}
	if (exact_count == 1) {
		*ret_index = exact;
		return DEVMATCH_FOUND;
	}
	return DEVMATCH_AMBIGUOUS;
}
