/*
 * sdd-bench-resample: the candidate resamplers for shared streams side by
 * side, driven the way a device callback would drive them.
 *
 * For each library and quality, and for each rate pair, it reports:
 *   - ns per output frame (stereo float32), paced as a device stream is:
 *     256 output frames a period, input pulled on demand;
 *   - the SNR of a 1 kHz sine (the residual after a least-squares fit of a
 *     sine at the expected frequency);
 *   - the response at 10 kHz and at the top of the band (20 kHz, or 0.907
 *     of the lower rate's Nyquist frequency) relative to the input;
 *   - the delay of the signal (from the phase of a 20 Hz sine, so within
 *     ±25 ms) and the input the resampler consumed beyond the time of the
 *     output it gave ("held": what a real-time stream would hold back);
 *     a stream's added latency is their sum;
 *   - the heap calls made while processing (after creation), counted by
 *     interposing malloc and friends in this program.
 *
 * Usage: sdd-bench-resample [--json]
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <samplerate.h>
#include <soxr.h>
#include <speex/speex_resampler.h>

#define CHANNELS 2
#define PERIOD 256

/* ---- Heap calls, counted while `counting` is set ----------------------- */

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void __libc_free(void *p);

/* The build hides symbols by default: these must interpose on the libraries' calls. */
#define EXPORTED __attribute__((visibility("default")))

static _Thread_local bool counting;
static _Thread_local unsigned long heap_calls;

EXPORTED void *malloc(size_t size)
{
	heap_calls += counting;
	return __libc_malloc(size);
}

EXPORTED void *calloc(size_t n, size_t size)
{
	heap_calls += counting;
	return __libc_calloc(n, size);
}

EXPORTED void *realloc(void *p, size_t size)
{
	heap_calls += counting;
	return __libc_realloc(p, size);
}

EXPORTED void free(void *p)
{
	heap_calls += counting && p;
	__libc_free(p);
}

EXPORTED int posix_memalign(void **ret, size_t align, size_t size)
{
	void *p;

	heap_calls += counting;
	p = __libc_memalign(align, size);
	if (!p)
		return 12; /* ENOMEM */
	*ret = p;
	return 0;
}

EXPORTED void *aligned_alloc(size_t align, size_t size)
{
	heap_calls += counting;
	return __libc_memalign(align, size);
}

/* ---- The libraries behind one interface ------------------------------- */

struct resampler {
	const char *lib;
	const char *quality;
	void *(*create)(double in_rate, double out_rate, int q);
	/* Consumes up to *in_frames, produces up to *out_frames; both updated to what was done. */
	void (*process)(void *st, const float *in, size_t *in_frames, float *out, size_t *out_frames);
	void (*destroy)(void *st);
	int q;
};

static void *speex_create(double in_rate, double out_rate, int q)
{
	int err = 0;
	SpeexResamplerState *st = speex_resampler_init(CHANNELS, (spx_uint32_t)in_rate,
						       (spx_uint32_t)out_rate, q, &err);

	/* Without this the output starts with the filter's zeros: they are part of the delay. */
	return st;
}

static void speex_process(void *st, const float *in, size_t *in_frames, float *out,
			  size_t *out_frames)
{
	spx_uint32_t i = (spx_uint32_t)*in_frames, o = (spx_uint32_t)*out_frames;

	speex_resampler_process_interleaved_float(st, in, &i, out, &o);
	*in_frames = i;
	*out_frames = o;
}

static void speex_destroy(void *st)
{
	speex_resampler_destroy(st);
}

struct src_state {
	SRC_STATE *src;
	double ratio;
};

static void *src_create(double in_rate, double out_rate, int q)
{
	struct src_state *s = calloc(1, sizeof(*s));
	int err = 0;

	s->src = src_new(q, CHANNELS, &err);
	s->ratio = out_rate / in_rate;
	return s;
}

static void src_process_frames(void *st, const float *in, size_t *in_frames, float *out,
			       size_t *out_frames)
{
	struct src_state *s = st;
	SRC_DATA d = {
		.data_in = in,
		.data_out = out,
		.input_frames = (long)*in_frames,
		.output_frames = (long)*out_frames,
		.src_ratio = s->ratio,
	};

	src_process(s->src, &d);
	*in_frames = (size_t)d.input_frames_used;
	*out_frames = (size_t)d.output_frames_gen;
}

static void src_destroy(void *st)
{
	struct src_state *s = st;

	src_delete(s->src);
	free(s);
}

static void *soxr_make(double in_rate, double out_rate, int q)
{
	soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
	soxr_quality_spec_t qs = soxr_quality_spec((unsigned long)q, 0);
	soxr_error_t err = NULL;

	return soxr_create(in_rate, out_rate, CHANNELS, &err, &io, &qs, NULL);
}

static void soxr_process_frames(void *st, const float *in, size_t *in_frames, float *out,
				size_t *out_frames)
{
	size_t idone = 0, odone = 0;

	soxr_process(st, in, *in_frames, &idone, out, *out_frames, &odone);
	*in_frames = idone;
	*out_frames = odone;
}

static void soxr_destroy(void *st)
{
	soxr_delete(st);
}

static const struct resampler resamplers[] = {
	{ "speexdsp", "3", speex_create, speex_process, speex_destroy, 3 },
	{ "speexdsp", "5", speex_create, speex_process, speex_destroy, 5 },
	{ "speexdsp", "7", speex_create, speex_process, speex_destroy, 7 },
	{ "speexdsp", "8", speex_create, speex_process, speex_destroy, 8 },
	{ "speexdsp", "10", speex_create, speex_process, speex_destroy, 10 },
	{ "libsamplerate", "SINC_FASTEST", src_create, src_process_frames, src_destroy,
	  SRC_SINC_FASTEST },
	{ "libsamplerate", "SINC_MEDIUM", src_create, src_process_frames, src_destroy,
	  SRC_SINC_MEDIUM_QUALITY },
	{ "libsamplerate", "SINC_BEST", src_create, src_process_frames, src_destroy,
	  SRC_SINC_BEST_QUALITY },
	{ "soxr", "LQ", soxr_make, soxr_process_frames, soxr_destroy, SOXR_LQ },
	{ "soxr", "MQ", soxr_make, soxr_process_frames, soxr_destroy, SOXR_MQ },
	{ "soxr", "HQ", soxr_make, soxr_process_frames, soxr_destroy, SOXR_HQ },
	{ "soxr", "VHQ", soxr_make, soxr_process_frames, soxr_destroy, SOXR_VHQ },
};

/* ---- A paced driver --------------------------------------------------- */

/*
 * Runs a resampler over `in` (in_total frames) period by period: each
 * period asks for PERIOD output frames and feeds the input it consumes,
 * in pieces of at most 64 frames.  Writes up to out_total frames to out.
 * Returns the frames produced; *ret_held is the most input (in seconds)
 * the resampler ever consumed beyond the time of the output it had
 * produced, and *ret_heap the heap calls made while processing.
 */
static size_t drive(const struct resampler *r, void *st, double r_in, double r_out,
		    const float *in, size_t in_total, float *out, size_t out_total,
		    double *ret_held, unsigned long *ret_heap)
{
	size_t fed = 0, produced = 0;
	double held_max = 0;
	int idle = 0;

	counting = true;
	heap_calls = 0;
	while (produced < out_total && idle < 1000) {
		size_t want = out_total - produced < PERIOD ? out_total - produced : PERIOD;
		size_t got = 0;

		/* Feed input until this period's output is complete (or the input runs out). */
		while (got < want) {
			size_t in_n = in_total - fed, out_n = want - got;

			if (in_n > 64)
				in_n = 64; /* feed in small pieces, as a ring would */
			r->process(st, in + fed * CHANNELS, &in_n, out + (produced + got) * CHANNELS,
				   &out_n);
			fed += in_n;
			got += out_n;
			if (in_n == 0 && out_n == 0) {
				idle++;
				break;
			}
		}
		produced += got;
		/* Input consumed beyond the time of the output produced, after a warm-up. */
		if ((double)produced / r_out > 0.2) {
			double ahead = (double)fed / r_in - (double)produced / r_out;

			if (ahead > held_max)
				held_max = ahead;
		}
	}
	counting = false;
	*ret_held = held_max;
	*ret_heap = heap_calls;
	return produced;
}

/* ---- Measurements ----------------------------------------------------- */

static float *sine(double rate, double freq, double amp, size_t frames)
{
	float *x = malloc(frames * CHANNELS * sizeof(float));

	for (size_t i = 0; i < frames; i++)
		for (int c = 0; c < CHANNELS; c++)
			x[i * CHANNELS + c] = (float)(amp * sin(2 * M_PI * freq * (double)i / rate));
	return x;
}

/*
 * Fits y ≈ A sin(wn) + B cos(wn) + C over frames [from, to) of channel 0
 * and returns the amplitude, the SNR in dB and the phase delay in seconds
 * (modulo one period of freq).
 */
static void fit(const float *y, size_t from, size_t to, double rate, double freq, double *ret_amp,
		double *ret_snr, double *ret_delay)
{
	double w = 2 * M_PI * freq / rate;
	double ss = 0, cc = 0, sc = 0, s1 = 0, c1 = 0, n = 0, ys = 0, yc = 0, y1 = 0;
	double m[3][4], a, b, c, sig = 0, res = 0;

	for (size_t i = from; i < to; i++) {
		double s = sin(w * (double)i), co = cos(w * (double)i), v = y[i * CHANNELS];

		ss += s * s, cc += co * co, sc += s * co, s1 += s, c1 += co, n += 1;
		ys += v * s, yc += v * co, y1 += v;
	}
	/* Normal equations, solved by Gaussian elimination. */
	double init[3][4] = { { ss, sc, s1, ys }, { sc, cc, c1, yc }, { s1, c1, n, y1 } };
	memcpy(m, init, sizeof(m));
	for (int k = 0; k < 3; k++)
		for (int i = k + 1; i < 3; i++) {
			double f = m[i][k] / m[k][k];

			for (int j = k; j < 4; j++)
				m[i][j] -= f * m[k][j];
		}
	c = m[2][3] / m[2][2];
	b = (m[1][3] - m[1][2] * c) / m[1][1];
	a = (m[0][3] - m[0][1] * b - m[0][2] * c) / m[0][0];
	for (size_t i = from; i < to; i++) {
		double f = a * sin(w * (double)i) + b * cos(w * (double)i) + c;
		double e = y[i * CHANNELS] - f;

		sig += f * f;
		res += e * e;
	}
	*ret_amp = sqrt(a * a + b * b);
	*ret_snr = res > 0 ? 10 * log10(sig / res) : 300;
	/* y = amp sin(w n - w d): a = amp cos(wd), b = -amp sin(wd). */
	{
		double phase = atan2(-b, a);

		/* Within half a period either way: a resampler that trims its delay reads 0. */
		if (phase > M_PI)
			phase -= 2 * M_PI;
		if (phase <= -M_PI)
			phase += 2 * M_PI;
		*ret_delay = phase / (2 * M_PI * freq);
	}
}

struct tone_result {
	double amp_db, snr, delay, held;
	unsigned long heap;
};

/* Resamples a tone of freq and fits the output. */
static struct tone_result tone(const struct resampler *r, double in_rate, double out_rate,
			       double freq, double seconds)
{
	size_t in_frames = (size_t)(in_rate * seconds), out_frames = (size_t)(out_rate * (seconds - 0.1));
	float *x = sine(in_rate, freq, 0.5, in_frames);
	float *y = calloc(out_frames * CHANNELS, sizeof(float));
	void *st = r->create(in_rate, out_rate, r->q);
	struct tone_result t = { 0 };
	double amp;
	size_t got = drive(r, st, in_rate, out_rate, x, in_frames, y, out_frames, &t.held,
				   &t.heap);

	fit(y, (size_t)(0.2 * out_rate), got - (size_t)(0.05 * out_rate), out_rate, freq, &amp,
	    &t.snr, &t.delay);
	t.amp_db = 20 * log10(amp / 0.5);
	r->destroy(st);
	free(x);
	free(y);
	return t;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* CPU nanoseconds per output frame over 10 s of noise, best of three. */
static double speed(const struct resampler *r, double in_rate, double out_rate)
{
	size_t in_frames = (size_t)(in_rate * 10), out_frames = (size_t)(out_rate * 9.9);
	float *x = malloc(in_frames * CHANNELS * sizeof(float));
	float *y = malloc(out_frames * CHANNELS * sizeof(float));
	double best = INFINITY;
	uint32_t seed = 1;

	for (size_t i = 0; i < in_frames * CHANNELS; i++) {
		seed = seed * 1664525u + 1013904223u;
		x[i] = (float)((double)(seed >> 8) / (double)(1u << 24) - 0.5);
	}
	for (int rep = 0; rep < 3; rep++) {
		void *st = r->create(in_rate, out_rate, r->q);
		double held;
		unsigned long heap;
		double t0 = now_ns();
		size_t got = drive(r, st, in_rate, out_rate, x, in_frames, y, out_frames, &held,
				   &heap);
		double ns = (now_ns() - t0) / (double)got;

		if (ns < best)
			best = ns;
		r->destroy(st);
	}
	free(x);
	free(y);
	return best;
}

/*
 * The top of the band to check: 20 kHz, or 0.907 of the lower Nyquist
 * frequency (as 20 kHz is of 22.05 kHz) when that is lower.
 */
static int top_hz(double in, double out)
{
	double nyquist = (in < out ? in : out) / 2;

	return nyquist * 0.9071 < 20000 ? (int)(nyquist * 0.9071 / 100) * 100 : 20000;
}

int main(int argc, char **argv)
{
	static const double pairs[][2] = { { 44100, 48000 }, { 48000, 44100 }, { 22050, 48000 } };
	bool json = argc > 1 && strcmp(argv[1], "--json") == 0;

	if (!json)
		printf("%-14s %-13s %-13s %9s %8s %9s %9s %8s %8s %6s\n", "library", "quality",
		       "rates", "ns/frame", "SNR 1k", "10 kHz", "top kHz", "delay", "held", "heap");
	else
		printf("[\n");
	for (size_t p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++) {
		double in = pairs[p][0], out = pairs[p][1];

		for (size_t i = 0; i < sizeof(resamplers) / sizeof(resamplers[0]); i++) {
			const struct resampler *r = &resamplers[i];
			double ns = speed(r, in, out);
			struct tone_result k1 = tone(r, in, out, 1000, 2);
			struct tone_result k10 = tone(r, in, out, 10000, 2);
			struct tone_result top = tone(r, in, out, top_hz(in, out), 2);
			struct tone_result lo = tone(r, in, out, 20, 2);
			char rates[32];

			snprintf(rates, sizeof(rates), "%g>%g", in / 1000, out / 1000);
			if (!json)
				printf("%-14s %-13s %-13s %9.1f %8.1f %9.3f %5.1f:%+.3f %8.3f %8.3f %6lu\n",
				       r->lib, r->quality, rates, ns, k1.snr, k10.amp_db,
				       top_hz(in, out) / 1000.0, top.amp_db,
				       1000 * lo.delay, 1000 * lo.held, k1.heap);
			else
				printf("  {\"library\": \"%s\", \"quality\": \"%s\", \"in\": %g, \"out\": %g, \"ns_per_frame\": %.2f, \"snr_1k_db\": %.2f, \"gain_10k_db\": %.4f, \"gain_top_db\": %.4f, \"top_hz\": %d, \"delay_ms\": %.3f, \"held_ms\": %.3f, \"heap_calls\": %lu}%s\n",
				       r->lib, r->quality, in, out, ns, k1.snr, k10.amp_db, top.amp_db,
				       top_hz(in, out), 1000 * lo.delay, 1000 * lo.held, k1.heap,
				       p + 1 == sizeof(pairs) / sizeof(pairs[0]) &&
						       i + 1 == sizeof(resamplers) / sizeof(resamplers[0])
					       ? ""
					       : ",");
			fflush(stdout);
		}
	}
	if (json)
		printf("]\n");
	return 0;
}
