/*
 * The wire sample formats: names, sizes, and the conversions and mixing
 * loops between them and float32 (run by the daemon's audio thread and by
 * libsdc: no allocation, no lock, no system call).
 */
#include "sample.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
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
 * The mixer's inner loops (sample-loops.h) work on vectors through GCC's
 * (and clang's) generic vectors: -O2 does not vectorise loops of unknown
 * length by itself.  Lane-wise IEEE operations and integer operations on
 * the bits give exactly the results of the scalar loops, whatever the
 * vector width.
 *
 * They are compiled twice on x86: with 16-byte vectors for the baseline
 * (SSE2) and with 32-byte ones for AVX2, which a CPU that has it runs.  The
 * ring a shared stream plays from was written by the client on another
 * core, and reading it costs about half as much per frame with 32-byte
 * loads as with 16-byte ones (bench/RESULTS.md, issue 15).  The AVX2
 * versions use no FMA: a sum is one rounding, as in the scalar loop.
 */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define SAMPLE_HAVE_WIDE 1
#else
#define SAMPLE_HAVE_WIDE 0
#endif

/* Whether the AVX2 loops may run where the CPU has AVX2 (tests turn them off). */
static bool wide_allowed = true;

bool sample_wide(void)
{
#if SAMPLE_HAVE_WIDE
	/* A load and a bit test of what libgcc's constructor found (cpuid, xgetbv): no call. */
	return wide_allowed && __builtin_cpu_supports("avx2");
#else
	return false;
#endif
}

void sample_allow_wide(bool allow)
{
	wide_allowed = allow;
}

/*
 * What a client's float32 sample becomes in the mix, as integer operations on
 * its bits: finite values stay as they are, NaN becomes 0 (silence) and ±Inf
 * becomes ±1 (full scale, as clipping would make it).  sample-loops.h does
 * the same to vectors of bits.
 */
static inline uint32_t clean_bits(uint32_t b)
{
	if ((b & 0x7f800000u) != 0x7f800000u)
		return b;
	return (b & 0x007fffffu) ? 0 : (b & 0x80000000u) | 0x3f800000u;
}

float sample_clean(float v)
{
	uint32_t b;

	memcpy(&b, &v, 4);
	b = clean_bits(b);
	memcpy(&v, &b, 4);
	return v;
}

/* The baseline loops: add_clean_base(), copy_clean_base(), clip_to_base(). */
typedef float sample_v4f __attribute__((vector_size(16)));
typedef int32_t sample_v4i __attribute__((vector_size(16)));
#define LOOPS_NAME(name) name##_base
#define LOOPS_TARGET
#define LOOPS_VF sample_v4f
#define LOOPS_VI sample_v4i
#include "sample-loops.h"

#if SAMPLE_HAVE_WIDE
/* The AVX2 loops: add_clean_wide(), copy_clean_wide(), clip_to_wide(). */
typedef float sample_v8f __attribute__((vector_size(32)));
typedef int32_t sample_v8i __attribute__((vector_size(32)));
#define LOOPS_NAME(name) name##_wide
#define LOOPS_TARGET __attribute__((target("avx2")))
#define LOOPS_VF sample_v8f
#define LOOPS_VI sample_v8i
#include "sample-loops.h"
#define WIDE_OR_BASE(name, args) (sample_wide() ? name##_wide args : name##_base args)
#else
#define WIDE_OR_BASE(name, args) name##_base args
#endif

/* Adds n contiguous float32 samples at src (any alignment), cleaned, to dst. */
static void add_float32_contiguous(const unsigned char *src, float *dst, size_t n)
{
	WIDE_OR_BASE(add_clean, (dst, src, n));
}

void sample_copy_clean(float *dst, const unsigned char *src, size_t n)
{
	WIDE_OR_BASE(copy_clean, (dst, src, n));
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
	WIDE_OR_BASE(clip_to, (dst, src, n));
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
