/*
 * Sample formats ("dtype" in sounddevice's terms) as they travel on the
 * wire and in shared memory: always interleaved, native byte order.
 */
#pragma once

#include <stddef.h>

enum sample_format {
	SAMPLE_FLOAT32 = 0,
	SAMPLE_INT32,
	SAMPLE_INT24,
	SAMPLE_INT16,
	SAMPLE_INT8,
	SAMPLE_UINT8,
	SAMPLE_FORMAT_COUNT_,
};

/* Returns the dtype name of fmt ("float32", "int24", ...). */
const char *sample_format_name(enum sample_format fmt);

/* Returns the size of one sample of fmt in bytes (int24 is packed: 3). */
size_t sample_format_size(enum sample_format fmt);

/* Returns the format named name, or -EINVAL; "float64" is not a wire format. */
int sample_format_from_name(const char *name);
