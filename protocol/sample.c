/* Names and sizes of the wire sample formats. */
#include "sample.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef __SSE__
#include <xmmintrin.h>
#endif

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

/* Rounds and saturates x (already scaled) into [lo, hi]. */
static inline int32_t round_clamp(double x, double lo, double hi)
{
	if (x <= lo)
		return (int32_t)lo;
	if (x >= hi)
		return (int32_t)hi;
	return (int32_t)lrint(x);
}

/*
 * Four floats at a time through GCC's (and clang's) generic vectors: -O2
 * does not vectorise loops of unknown length by itself, and these loops are
 * the mixer's inner loops.  Lane-wise IEEE operations give exactly the
 * results of the scalar loops.
 */
typedef float sample_v4f __attribute__((vector_size(16)));
typedef int32_t sample_v4i __attribute__((vector_size(16)));

/*
 * What a client's float32 sample becomes in the mix, as integer operations on
 * its bits: finite values stay as they are, NaN becomes 0 (silence) and ±Inf
 * becomes ±1 (full scale, as clipping would make it).  Lanes of the vector
 * version give exactly the scalar results.
 */
static inline uint32_t clean_bits(uint32_t b)
{
	if ((b & 0x7f800000u) != 0x7f800000u)
		return b;
	return (b & 0x007fffffu) ? 0 : (b & 0x80000000u) | 0x3f800000u;
}

static inline sample_v4i clean_v4i(sample_v4i b)
{
	const sample_v4i exp = { 0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000 };
	const sample_v4i mant = { 0x007fffff, 0x007fffff, 0x007fffff, 0x007fffff };
	const sample_v4i sign = { INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN };
	const sample_v4i one = { 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000 };
	const sample_v4i zero = { 0, 0, 0, 0 };
	sample_v4i nonfinite = (b & exp) == exp;
	sample_v4i nan = nonfinite & ((b & mant) != zero);
	sample_v4i repl = ((b & sign) | one) & ~nan;

	return (b & ~nonfinite) | (repl & nonfinite);
}

float sample_clean(float v)
{
	uint32_t b;

	memcpy(&b, &v, 4);
	b = clean_bits(b);
	memcpy(&v, &b, 4);
	return v;
}

/* Adds n contiguous float32 samples at src (any alignment), cleaned, to dst. */
static void add_float32_contiguous(const unsigned char *src, float *dst, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		sample_v4f a, b;
		sample_v4i x, y;

		memcpy(&a, dst + i, 16);
		memcpy(&b, dst + i + 4, 16);
		memcpy(&x, src + 4 * i, 16);
		memcpy(&y, src + 4 * i + 16, 16);
		a += (sample_v4f)clean_v4i(x);
		b += (sample_v4f)clean_v4i(y);
		memcpy(dst + i, &a, 16);
		memcpy(dst + i + 4, &b, 16);
	}
	for (; i < n; i++) {
		float v;

		memcpy(&v, src + 4 * i, 4);
		dst[i] += sample_clean(v);
	}
}

void sample_copy_clean(float *dst, const unsigned char *src, size_t n)
{
	size_t i = 0;

	for (; i + 4 <= n; i += 4) {
		sample_v4i x;

		memcpy(&x, src + 4 * i, 16);
		x = clean_v4i(x);
		memcpy(dst + i, &x, 16);
	}
	for (; i < n; i++) {
		float v;

		memcpy(&v, src + 4 * i, 4);
		dst[i] = sample_clean(v);
	}
}

void sample_add_to_float(int fmt, const unsigned char *src, size_t stride, float *dst,
			 size_t dst_stride, size_t n)
{
	size_t i;

	switch (fmt) {
	case SAMPLE_FLOAT32:
		if (stride == 4 && dst_stride == 1) {
			add_float32_contiguous(src, dst, n);
			break;
		}
		for (i = 0; i < n; i++) {
			float v;

			memcpy(&v, src + i * stride, 4);
			dst[i * dst_stride] += sample_clean(v);
		}
		break;
	case SAMPLE_INT32:
		for (i = 0; i < n; i++) {
			int32_t v;

			memcpy(&v, src + i * stride, 4);
			dst[i * dst_stride] += (float)((double)v * (1.0 / 2147483648.0));
		}
		break;
	case SAMPLE_INT24:
		for (i = 0; i < n; i++) {
			const unsigned char *p = src + i * stride;
			int32_t v = (int32_t)((uint32_t)p[0] << 8 | (uint32_t)p[1] << 16 |
					      (uint32_t)p[2] << 24) >> 8;

			dst[i * dst_stride] += (float)v * (1.0f / 8388608.0f);
		}
		break;
	case SAMPLE_INT16:
		for (i = 0; i < n; i++) {
			int16_t v;

			memcpy(&v, src + i * stride, 2);
			dst[i * dst_stride] += (float)v * (1.0f / 32768.0f);
		}
		break;
	case SAMPLE_INT8:
		for (i = 0; i < n; i++)
			dst[i * dst_stride] += (float)(int8_t)src[i * stride] * (1.0f / 128.0f);
		break;
	case SAMPLE_UINT8:
		for (i = 0; i < n; i++)
			dst[i * dst_stride] += (float)((int)src[i * stride] - 128) * (1.0f / 128.0f);
		break;
	}
}

void sample_from_float(int fmt, const float *src, size_t src_stride, unsigned char *dst,
		       size_t stride, size_t n)
{
	size_t i;

	switch (fmt) {
	case SAMPLE_FLOAT32:
		for (i = 0; i < n; i++)
			memcpy(dst + i * stride, &src[i * src_stride], 4);
		break;
	case SAMPLE_INT32:
		for (i = 0; i < n; i++) {
			int32_t v = round_clamp((double)src[i * src_stride] * 2147483648.0,
						-2147483648.0, 2147483647.0);

			memcpy(dst + i * stride, &v, 4);
		}
		break;
	case SAMPLE_INT24:
		for (i = 0; i < n; i++) {
			int32_t v = round_clamp((double)src[i * src_stride] * 8388608.0, -8388608.0,
						8388607.0);
			unsigned char *p = dst + i * stride;

			p[0] = (unsigned char)v;
			p[1] = (unsigned char)(v >> 8);
			p[2] = (unsigned char)(v >> 16);
		}
		break;
	case SAMPLE_INT16:
		for (i = 0; i < n; i++) {
			int16_t v = (int16_t)round_clamp((double)src[i * src_stride] * 32768.0,
							 -32768.0, 32767.0);

			memcpy(dst + i * stride, &v, 2);
		}
		break;
	case SAMPLE_INT8:
		for (i = 0; i < n; i++)
			dst[i * stride] = (unsigned char)(int8_t)round_clamp(
				(double)src[i * src_stride] * 128.0, -128.0, 127.0);
		break;
	case SAMPLE_UINT8:
		for (i = 0; i < n; i++)
			dst[i * stride] = (unsigned char)(round_clamp((double)src[i * src_stride] * 128.0,
								      -128.0, 127.0) +
							  128);
		break;
	}
}

void sample_silence(int fmt, unsigned char *dst, size_t stride, size_t n)
{
	size_t size = sample_format_size((enum sample_format)fmt);

	/* Contiguous samples: one memset (a call per sample is slow on the audio thread). */
	if (stride == size) {
		memset(dst, fmt == SAMPLE_UINT8 ? 0x80 : 0, size * n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		memset(dst + i * stride, fmt == SAMPLE_UINT8 ? 0x80 : 0, size);
}

void sample_clip_to(float *dst, const float *src, size_t n)
{
	size_t i = 0;

#ifdef __SSE__
	/*
	 * x & (x == x) is 0 where x is NaN and x elsewhere; minps(1, x) is 1
	 * where x > 1 and x elsewhere, maxps(-1, x) likewise: the scalar loop's
	 * results exactly.
	 */
	const __m128 hi = _mm_set1_ps(1.0f), lo = _mm_set1_ps(-1.0f);

	for (; i + 4 <= n; i += 4) {
		__m128 x = _mm_loadu_ps(src + i);

		x = _mm_and_ps(x, _mm_cmpord_ps(x, x));
		_mm_storeu_ps(dst + i, _mm_max_ps(lo, _mm_min_ps(hi, x)));
	}
#else
	const sample_v4f hi = { 1.0f, 1.0f, 1.0f, 1.0f }, lo = { -1.0f, -1.0f, -1.0f, -1.0f };

	/* As the scalar loop: NaN becomes 0, above 1 becomes 1, below -1 becomes -1. */
	for (; i + 4 <= n; i += 4) {
		sample_v4f x;
		sample_v4i bits, over, under, number;

		memcpy(&x, src + i, 16);
		number = x == x;
		over = x > hi;
		under = x < lo;
		bits = (sample_v4i)x & number;
		bits = (bits & ~over) | ((sample_v4i)hi & over);
		bits = (bits & ~under) | ((sample_v4i)lo & under);
		memcpy(dst + i, &bits, 16);
	}
#endif
	for (; i < n; i++) {
		float x = src[i];

		if (x != x)
			x = 0.0f;
		else if (x > 1.0f)
			x = 1.0f;
		else if (x < -1.0f)
			x = -1.0f;
		dst[i] = x;
	}
}

void sample_clip(float *buf, size_t n)
{
	sample_clip_to(buf, buf, n);
}

void sample_sanitize(float *buf, size_t n)
{
	sample_copy_clean(buf, (const unsigned char *)buf, n);
}

/* Samples converted at once by the gain functions (on the stack). */
#define GAIN_BLOCK 64

void sample_add_to_float_gain(int fmt, const unsigned char *src, size_t stride, float *dst,
			      size_t dst_stride, size_t n, const float *gain)
{
	float tmp[GAIN_BLOCK];

	for (size_t done = 0; done < n;) {
		size_t k = n - done < GAIN_BLOCK ? n - done : GAIN_BLOCK;

		memset(tmp, 0, k * sizeof(float));
		sample_add_to_float(fmt, src + done * stride, stride, tmp, 1, k);
		for (size_t i = 0; i < k; i++)
			dst[(done + i) * dst_stride] += tmp[i] * gain[done + i];
		done += k;
	}
}

void sample_from_float_gain(int fmt, const float *src, size_t src_stride, unsigned char *dst,
			    size_t stride, size_t n, const float *gain)
{
	float tmp[GAIN_BLOCK];

	for (size_t done = 0; done < n;) {
		size_t k = n - done < GAIN_BLOCK ? n - done : GAIN_BLOCK;

		for (size_t i = 0; i < k; i++)
			tmp[i] = src[(done + i) * src_stride] * gain[done + i];
		sample_from_float(fmt, tmp, 1, dst + done * stride, stride, k);
		done += k;
	}
}
