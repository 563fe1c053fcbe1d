/* Names and sizes of the wire sample formats. */
#include "sample.h"

#include <errno.h>
#include <string.h>

static const struct {
	const char *name;
	size_t size;
} formats[SAMPLE_FORMAT_COUNT_] = {
	[SAMPLE_FLOAT32] = { "float32", 4 }, [SAMPLE_INT32] = { "int32", 4 },
	[SAMPLE_INT24] = { "int24", 3 },     [SAMPLE_INT16] = { "int16", 2 },
	[SAMPLE_INT8] = { "int8", 1 },	     [SAMPLE_UINT8] = { "uint8", 1 },
};

const char *sample_format_name(enum sample_format fmt)
{
	return (unsigned)fmt < SAMPLE_FORMAT_COUNT_ ? formats[fmt].name : "invalid";
}

size_t sample_format_size(enum sample_format fmt)
{
	return (unsigned)fmt < SAMPLE_FORMAT_COUNT_ ? formats[fmt].size : 0;
}

int sample_format_from_name(const char *name)
{
	for (int i = 0; i < SAMPLE_FORMAT_COUNT_; i++)
		if (name && strcmp(formats[i].name, name) == 0)
			return i;
	return -EINVAL;
}
