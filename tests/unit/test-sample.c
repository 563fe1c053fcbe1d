/*
 * The mixer's loops of protocol/sample.c, against what they must compute
 * sample by sample: cleaning (NaN to silence, ±Inf to full scale),
 * clamping to [-1, 1] and adding, bit for bit, for every length up to a
 * few vectors, every alignment of source and destination and in place, on
 * the special values of float32 — with the AVX2 loops where the CPU has
 * them and with the baseline loops, which must give the same bytes.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "sample.h"
#include "tap.h"

/* Longest run checked: a few vectors of eight and a tail. */
#define MAX_N 70

static float from_bits(uint32_t b)
{
	float v;

	memcpy(&v, &b, 4);
	return v;
}

static uint32_t to_bits(float v)
{
	uint32_t b;

	memcpy(&b, &v, 4);
	return b;
}

/* The values that matter to cleaning and clamping, and ordinary ones between them. */
static const uint32_t specials[] = {
	0x00000000u, 0x80000000u,		   /* +0, -0 */
	0x00000001u, 0x807fffffu,		   /* denormals */
	0x3f000000u, 0xbf000000u,		   /* ±0.5 */
	0x3f800000u, 0xbf800000u,		   /* ±1 */
	0x3f800001u, 0xbf800001u,		   /* just beyond ±1 */
	0x3f7fffffu, 0xbf7fffffu,		   /* just within ±1 */
	0x7149f2cau, 0xf149f2cau,		   /* ±1e30 */
	0x7f7fffffu, 0xff7fffffu,		   /* ±FLT_MAX */
	0x7f800000u, 0xff800000u,		   /* ±Inf */
	0x7fc00000u, 0xffc00000u,		   /* quiet NaN, negative */
	0x7f800001u, 0xff800001u,		   /* signalling NaN */
	0x7fc00001u, 0x7fffffffu, 0xffffffffu,	   /* NaN payloads */
	0x3e99999au, 0xbe4ccccdu, 0x3dcccccdu,	   /* 0.3, -0.2, 0.1 */
};
#define NSPECIALS (sizeof(specials) / sizeof(specials[0]))

static uint32_t value_at(size_t i, unsigned seed)
{
	return specials[(i * 7 + seed) % NSPECIALS];
}

/* What the mix takes of a client's sample: NaN 0, ±Inf ±1, the rest as it is. */
static uint32_t want_clean(uint32_t b)
{
	if ((b & 0x7f800000u) != 0x7f800000u)
		return b;
	return (b & 0x007fffffu) ? 0 : (b & 0x80000000u) | 0x3f800000u;
}

/* A clamped sample: NaN 0, beyond ±1 ±1, the rest (-0 too) as it is. */
static uint32_t want_clip(uint32_t b)
{
	float x = from_bits(b);

	if (x != x)
		return 0;
	if (x > 1.0f)
		return 0x3f800000u;
	if (x < -1.0f)
		return 0xbf800000u;
	return b;
}

/* Runs every function over every length, alignment and seed; returns the mismatches. */
static int mismatches(const char *what)
{
	/* Aligned buffers with room for an offset of up to 3 floats and 1 byte. */
	static _Alignas(64) unsigned char srcbuf[4 * MAX_N + 64], dstbuf[4 * MAX_N + 64];
	int bad = 0;

	for (size_t n = 0; n <= MAX_N; n++) {
		for (size_t soff = 0; soff < 13; soff += 4) {
			for (size_t doff = 0; doff < 13; doff += 4) {
				for (unsigned seed = 0; seed < 3; seed++) {
					/* A source one byte off a float's alignment too, for the ring. */
					size_t sb = soff + (seed == 2);
					unsigned char *src = srcbuf + sb;
					float *dst = (float *)(void *)(dstbuf + doff);
					uint32_t want[MAX_N], init[MAX_N];

					for (size_t i = 0; i < n; i++) {
						uint32_t b = value_at(i, seed);

						memcpy(src + 4 * i, &b, 4);
						init[i] = to_bits((float)((int)(i % 5) - 2) * 0.25f);
					}

					/* sample_copy_clean */
					memset(dstbuf, 0xa5, sizeof(dstbuf));
					sample_copy_clean(dst, src, n);
					for (size_t i = 0; i < n; i++)
						bad += to_bits(dst[i]) != want_clean(value_at(i, seed));
					bad += dstbuf[doff + 4 * n] != 0xa5; /* nothing beyond n */

					/* sample_add_to_float, contiguous float32 */
					for (size_t i = 0; i < n; i++) {
						dst[i] = from_bits(init[i]);
						want[i] = to_bits(from_bits(init[i]) +
								  from_bits(want_clean(value_at(i, seed))));
					}
					sample_add_to_float(SAMPLE_FLOAT32, src, 4, dst, 1, n);
					for (size_t i = 0; i < n; i++)
						bad += to_bits(dst[i]) != want[i];

					if (sb % 4)
						continue; /* the float loops take float pointers */
					/* sample_clip_to */
					memset(dstbuf, 0xa5, sizeof(dstbuf));
					sample_clip_to(dst, (const float *)(const void *)src, n);
					for (size_t i = 0; i < n; i++)
						bad += to_bits(dst[i]) != want_clip(value_at(i, seed));
					bad += dstbuf[doff + 4 * n] != 0xa5;

					/* in place: sample_clip and sample_sanitize */
					memcpy(dst, src, 4 * n);
					sample_clip(dst, n);
					for (size_t i = 0; i < n; i++)
						bad += to_bits(dst[i]) != want_clip(value_at(i, seed));
					memcpy(dst, src, 4 * n);
					sample_sanitize(dst, n);
					for (size_t i = 0; i < n; i++)
						bad += to_bits(dst[i]) != want_clean(value_at(i, seed));
				}
			}
		}
	}
	if (bad)
		printf("# %s: %d samples differ\n", what, bad);
	return bad;
}

int main(void)
{
	bool wide = sample_wide();

	if (wide)
		CHECK(mismatches("AVX2 loops") == 0,
		      "the AVX2 loops clean, clamp and add exactly as sample by sample");
	else
		printf("# this CPU has no AVX2: only the baseline loops are checked\n");
	sample_allow_wide(false);
	CHECK(!sample_wide(), "sample_allow_wide(false) keeps the loops to the baseline");
	CHECK(mismatches("baseline loops") == 0,
	      "the baseline loops clean, clamp and add exactly as sample by sample");
	sample_allow_wide(true);
	CHECK(sample_wide() == wide, "sample_allow_wide(true) gives the CPU's widest loops back");
	return tap_done();
}
