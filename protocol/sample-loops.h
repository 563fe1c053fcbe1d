/*
 * The mixer's inner loops over float32 samples, written once for a vector
 * type and included by sample.c once per vector width (see there).  The
 * includer defines:
 *
 *   LOOPS_NAME(name)  the name of each function (a suffix per width);
 *   LOOPS_TARGET      the target attribute of the functions, or nothing;
 *   LOOPS_VF          a vector of float (GCC's vector_size);
 *   LOOPS_VI          a vector of int32_t of the same size.
 *
 * Each function takes dst and src at any alignment; where they are the
 * same buffer, each vector is read before it is written.  Two vectors go
 * per iteration, then the rest one sample at a time as sample.c's scalar
 * functions do it.  The functions run on the audio thread: no call but
 * memcpy of a constant size, which the compiler makes a move.
 */

/* The number of floats in a vector. */
#define LOOPS_W ((size_t)(sizeof(LOOPS_VF) / sizeof(float)))

/*
 * A vector of sample bits, cleaned: finite values as they are, NaN 0, ±Inf
 * ±1 (clean_bits(), lane by lane).
 */
#define LOOPS_CLEAN(b)                                                                             \
	__extension__({                                                                            \
		LOOPS_VI b_ = (b);                                                                 \
		LOOPS_VI nonfinite_ = (b_ & 0x7f800000) == 0x7f800000;                             \
		LOOPS_VI nan_ = nonfinite_ & ((b_ & 0x007fffff) != 0);                             \
		LOOPS_VI repl_ = ((b_ & INT32_MIN) | 0x3f800000) & ~nan_;                         \
		(b_ & ~nonfinite_) | (repl_ & nonfinite_);                                         \
	})

/*
 * The bits of a vector of floats clamped to [-1, 1], NaN to 0: x & (x == x)
 * is 0 where x is NaN, then the lanes above 1 or below -1 take the limit's
 * bits (0x3f800000 is 1.0f, 0xbf800000 is -1.0f).
 */
#define LOOPS_CLIP(x)                                                                              \
	__extension__({                                                                            \
		LOOPS_VF x_ = (x);                                                                 \
		LOOPS_VI over_ = x_ > 1.0f, under_ = x_ < -1.0f;                                   \
		LOOPS_VI bits_ = (LOOPS_VI)x_ & (x_ == x_);                                        \
		bits_ = (bits_ & ~over_) | (over_ & 0x3f800000);                                   \
		(bits_ & ~under_) | (under_ & (int32_t)0xbf800000u);                               \
	})

/* Adds n contiguous float32 samples at src, cleaned, to dst. */
LOOPS_TARGET static void LOOPS_NAME(add_clean)(float *dst, const unsigned char *src, size_t n)
{
	size_t i = 0;

	for (; i + 2 * LOOPS_W <= n; i += 2 * LOOPS_W) {
		LOOPS_VF a, b;
		LOOPS_VI x, y;

		memcpy(&a, dst + i, sizeof(a));
		memcpy(&b, dst + i + LOOPS_W, sizeof(b));
		memcpy(&x, src + 4 * i, sizeof(x));
		memcpy(&y, src + 4 * (i + LOOPS_W), sizeof(y));
		a += (LOOPS_VF)LOOPS_CLEAN(x);
		b += (LOOPS_VF)LOOPS_CLEAN(y);
		memcpy(dst + i, &a, sizeof(a));
		memcpy(dst + i + LOOPS_W, &b, sizeof(b));
	}
	for (; i < n; i++) {
		float v;

		memcpy(&v, src + 4 * i, 4);
		dst[i] += sample_clean(v);
	}
}

/* Copies n contiguous float32 samples from src to dst, cleaned. */
LOOPS_TARGET static void LOOPS_NAME(copy_clean)(float *dst, const unsigned char *src, size_t n)
{
	size_t i = 0;

	for (; i + 2 * LOOPS_W <= n; i += 2 * LOOPS_W) {
		LOOPS_VI x, y;

		memcpy(&x, src + 4 * i, sizeof(x));
		memcpy(&y, src + 4 * (i + LOOPS_W), sizeof(y));
		x = LOOPS_CLEAN(x);
		y = LOOPS_CLEAN(y);
		memcpy(dst + i, &x, sizeof(x));
		memcpy(dst + i + LOOPS_W, &y, sizeof(y));
	}
	for (; i < n; i++) {
		float v;

		memcpy(&v, src + 4 * i, 4);
		dst[i] = sample_clean(v);
	}
}

/* Writes n floats from src to dst clamped to [-1, 1] (NaN: 0). */
LOOPS_TARGET static void LOOPS_NAME(clip_to)(float *dst, const float *src, size_t n)
{
	size_t i = 0;

	for (; i + 2 * LOOPS_W <= n; i += 2 * LOOPS_W) {
		LOOPS_VF x, y;
		LOOPS_VI p, q;

		memcpy(&x, src + i, sizeof(x));
		memcpy(&y, src + i + LOOPS_W, sizeof(y));
		p = LOOPS_CLIP(x);
		q = LOOPS_CLIP(y);
		memcpy(dst + i, &p, sizeof(p));
		memcpy(dst + i + LOOPS_W, &q, sizeof(q));
	}
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

#undef LOOPS_CLIP
#undef LOOPS_CLEAN
#undef LOOPS_W
#undef LOOPS_NAME
#undef LOOPS_TARGET
#undef LOOPS_VF
#undef LOOPS_VI
