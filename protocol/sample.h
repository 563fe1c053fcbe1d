/*
 * Sample formats ("dtype" in sounddevice's terms) as they travel on the
 * wire and in shared memory: always interleaved, native byte order.
 */
#pragma once

#include <stdbool.h>
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

/*
 * Conversions between the wire formats and float32, used by the daemon's
 * mixer (on the audio thread: no allocation, no system calls) and by
 * libsdc.  Integers scale by 2^(bits-1) both ways, so integer → float →
 * integer is exact; float → integer rounds to nearest and saturates.
 * uint8 has its zero at 128.  Strides are in bytes (src/dst) or floats.
 */

/*
 * Reads n samples of fmt at src (stride bytes apart) and adds them to dst
 * (dst_stride floats apart).  float32 samples are cleaned as they are read
 * (sample_clean()), so that what one client plays cannot poison a mix.
 */
void sample_add_to_float(int fmt, const unsigned char *src, size_t stride, float *dst,
			 size_t dst_stride, size_t n);

/* As sample_add_to_float(), sample i multiplied by gain[i]. */
void sample_add_to_float_gain(int fmt, const unsigned char *src, size_t stride, float *dst,
			      size_t dst_stride, size_t n, const float *gain);

/* Returns v, or 0 when v is NaN, or ±1 when v is ±Inf. */
float sample_clean(float v);

/* Copies n contiguous float32 samples from src (any alignment) to dst, cleaned. */
void sample_copy_clean(float *dst, const unsigned char *src, size_t n);

/* Cleans n floats in place (sample_clean()). */
void sample_sanitize(float *buf, size_t n);

/* Writes n floats from src (src_stride apart) as fmt to dst (stride bytes apart). */
void sample_from_float(int fmt, const float *src, size_t src_stride, unsigned char *dst,
		       size_t stride, size_t n);

/* As sample_from_float(), sample i multiplied by gain[i] first. */
void sample_from_float_gain(int fmt, const float *src, size_t src_stride, unsigned char *dst,
			    size_t stride, size_t n, const float *gain);

/* Writes n silent samples of fmt (stride bytes apart): zero, or 128 for uint8. */
void sample_silence(int fmt, unsigned char *dst, size_t stride, size_t n);

/* Clamps n floats to [-1, 1]; NaN becomes 0. */
void sample_clip(float *buf, size_t n);

/* Writes n floats from src to dst clamped to [-1, 1] (NaN: 0); dst may be src. */
void sample_clip_to(float *dst, const float *src, size_t n);

/*
 * Whether the loops above run their AVX2 versions (x86 with AVX2), which
 * give the same bytes as the baseline ones, faster; any thread may ask.
 * sample_allow_wide(false) keeps them to the baseline, for tests that
 * compare the two: call it while no other thread runs the loops.
 */
bool sample_wide(void);
void sample_allow_wide(bool allow);
