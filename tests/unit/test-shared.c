/*
 * Shared streams that take anything, on the fake backend period by period
 * (engine-harness.h): streams of other rates mixed by rate group and
 * resampled once per group (the tap is the direct streams plus the
 * group's sum through a resampler of the same kind, exactly); the pull of
 * client frames in step with the device (frames = device frames × ratio,
 * over thousands of periods); capture resampled once per group; the rate
 * a shared device stream opens at (default_samplerate, else the device's
 * own; never the first client's); a NaN-writing client beside a clean
 * one, which stays exact; volume ramps that are monotonic and land
 * exactly; a playrec on one device aligned at the same offset whenever it
 * starts; groups freed when their last stream leaves; the bound on a
 * device stream's resamplers; denormals flushed on the audio thread.
 */
#include <math.h>
#include <string.h>

#include <speex/speex_resampler.h>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "engine-harness.h"
#include "log.h"
#include "rategroup.h"
#include "sample.h"
#include "stream.h"

/* The rate groups of device stream ds. */
#define groups_of devstream_resamplers

/*
 * What the daemon's group makes of in (frames stereo frames at rate):
 * out_frames frames at 48 kHz, by a speexdsp resampler of the same quality
 * fed in pieces as the device's periods ask (silence after the end).
 */
static float *reference_resample(const float *in, size_t frames, uint32_t rate, size_t out_frames)
{
	int err = 0;
	SpeexResamplerState *st =
		speex_resampler_init(2, rate, RATE, RATEGROUP_QUALITY_DEFAULT, &err);
	float *out = calloc(out_frames * 2, sizeof(float));
	float *padded = calloc((frames + out_frames + 16) * 2, sizeof(float));
	spx_uint32_t in_len = (spx_uint32_t)(frames + out_frames + 16), out_len = (spx_uint32_t)out_frames;

	memcpy(padded, in, frames * 2 * sizeof(float));
	speex_resampler_process_interleaved_float(st, padded, &in_len, out, &out_len);
	speex_resampler_destroy(st);
	free(padded);
	return out;
}

static void test_mix_by_rate_group(void)
{
	enum { N = 4410, PERIODS = 24 };
	static float a[N * 2], b[N * 2], sum[N * 2], c[PERIODS * PERIOD * 2];
	struct spec cd = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .frames = N, .rate = 44100 };
	struct spec direct = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32,
			       .frames = PERIODS * PERIOD };
	struct stream *sa, *sb, *sc;
	struct fake_stream *fs;
	const float *tap;
	float *want;
	size_t n;
	bool exact = true;

	setup();
	for (int i = 0; i < N; i++) {
		a[2 * i] = (float)(0.25 * sin(2 * M_PI * 1000 * i / 44100.0));
		a[2 * i + 1] = (float)(0.25 * cos(2 * M_PI * 300 * i / 44100.0));
		b[2 * i] = b[2 * i + 1] = (float)(i % 100) / 400.0f;
		sum[2 * i] = a[2 * i] + b[2 * i];
		sum[2 * i + 1] = a[2 * i + 1] + b[2 * i + 1];
	}
	for (int i = 0; i < PERIODS * PERIOD * 2; i++)
		c[i] = (float)((i * 7) % 64) / 1024.0f;
	sa = start_ok(&cd);
	sb = start_ok(&cd);
	sc = start_ok(&direct);
	put(sa, a, N);
	put(sb, b, N);
	put(sc, c, PERIODS * PERIOD);
	fs = fake_stream_on(T.fb, DEV_OUT, true);
	CHECK(fs && fake_opened(T.fb) == 1 && fake_params(fs)->samplerate == RATE,
	      "streams at 44.1 and 48 kHz share one device stream, at 48 kHz");
	CHECK(sa->out.group && sa->out.group == sb->out.group && !sc->out.group &&
		      groups_of(sa->out.dev) == 1 && sa->out.group->users == 2,
	      "the two 44.1 kHz streams are one rate group; the 48 kHz one is mixed directly");
	CHECK(sa->samplerate == 44100 && sc->samplerate == RATE, "each stream keeps its rate");
	fake_run(fs, PERIODS);
	pump();
	tap = tap_from(fs, 0, &n);
	want = reference_resample(sum, N, 44100, PERIODS * PERIOD);
	for (size_t i = 0; i < PERIODS * PERIOD * 2 && n >= PERIODS * PERIOD; i++)
		exact = exact && tap[i] == c[i] + want[i];
	CHECK(n == PERIODS * PERIOD && exact,
	      "the tap is the direct stream plus the group's sum resampled once, exactly");
	CHECK(atomic_load(&sa->hdr->frames_out) == N && atomic_load(&sb->hdr->frames_out) == N &&
		      atomic_load(&sa->state) == SHM_STATE_FINISHED,
	      "both 44.1 kHz streams played all their frames and finished");
	free(want);
	engine_stream_release(&T.e, sa);
	engine_stream_release(&T.e, sb);
	engine_stream_release(&T.e, sc);
	teardown();
}

/* Runs a playback at rate on a 48 kHz device for periods; returns the client frames it took. */
static uint64_t frames_pulled(uint32_t rate, int periods)
{
	static float data[65536 * 2];
	struct spec sp = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .buffer_frames = 65536,
			   .rate = rate };
	struct fake_stream *fs;
	struct stream *s;
	uint64_t pulled = 0, written;
	bool underflow = false;

	setup();
	s = start_ok(&sp);
	put(s, data, 65536);
	written = 65536;
	fs = fake_stream_on(T.fb, DEV_OUT, true);
	for (int p = 0; p < periods; p++) {
		uint64_t out;

		fake_run(fs, 1);
		out = atomic_load(&s->hdr->frames_out);
		/* Keep the ring full, as a client would. */
		if (written - out > 0 && out + 65536 > written) {
			uint32_t more = (uint32_t)(out + 65536 - written);

			put(s, data, more);
			written += more;
		}
		underflow = underflow || atomic_load(&s->hdr->silence_out) > 0;
	}
	pulled = atomic_load(&s->hdr->frames_out);
	CHECK(!underflow, "%u Hz: the ring never ran dry", rate);
	engine_stream_release(&T.e, s);
	teardown();
	return pulled;
}

static void test_pull_follows_ratio(void)
{
	static const uint32_t rates[] = { 44100, 22050, 96000, 8000, 47999 };

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		int periods = 4000;
		double want = (double)periods * PERIOD * rates[i] / RATE;
		uint64_t got = frames_pulled(rates[i], periods);

		CHECK(fabs((double)got - want) <= 2,
		      "%u Hz on 48 kHz: %llu frames pulled over %d periods, %.1f by the ratio", rates[i],
		      (unsigned long long)got, periods, want);
	}
}

static void test_capture_by_rate_group(void)
{
	enum { PERIODS = 40 };
	static float capture[PERIODS * PERIOD * 2], got[2][PERIODS * PERIOD * 2];
	struct spec cd = { STREAM_REC, DEV_IN, 2, SAMPLE_FLOAT32, .buffer_frames = 16384,
			   .rate = 44100 };
	struct stream *s[2];
	uint32_t n[2];
	float *want;
	bool exact = true;
	double ratio = 44100.0 / RATE;

	setup();
	for (int i = 0; i < PERIODS * PERIOD; i++) {
		capture[2 * i] = (float)(0.5 * sin(2 * M_PI * 440 * i / (double)RATE));
		capture[2 * i + 1] = (float)(0.5 * sin(2 * M_PI * 880 * i / (double)RATE));
	}
	fake_set_capture(T.fb, DEV_IN, capture, PERIODS * PERIOD, 2);
	s[0] = start_ok(&cd);
	s[1] = start_ok(&cd);
	CHECK(s[0]->in.group && s[0]->in.group == s[1]->in.group, "two recorders at 44.1 kHz share a group");
	fake_run(fake_stream_on(T.fb, DEV_IN, false), PERIODS);
	pump();
	n[0] = take(s[0], got[0], PERIODS * PERIOD);
	n[1] = take(s[1], got[1], PERIODS * PERIOD);
	CHECK(fabs(n[0] - PERIODS * PERIOD * ratio) <= PERIOD && n[0] == n[1],
	      "each recorded %u frames for %d device frames (%.1f by the ratio)", n[0],
	      PERIODS * PERIOD, PERIODS * PERIOD * ratio);
	/* What a resampler of the same kind makes of the capture, from 48 to 44.1 kHz. */
	{
		int err = 0;
		SpeexResamplerState *st =
			speex_resampler_init(2, RATE, 44100, RATEGROUP_QUALITY_DEFAULT, &err);
		spx_uint32_t in_len = PERIODS * PERIOD, out_len = PERIODS * PERIOD;

		/* Capture starts without the filter's delay. */
		speex_resampler_skip_zeros(st);
		want = calloc(PERIODS * PERIOD * 2, sizeof(float));
		speex_resampler_process_interleaved_float(st, capture, &in_len, want, &out_len);
		speex_resampler_destroy(st);
		for (uint32_t i = 0; i < n[0] * 2 && i < out_len * 2; i++)
			exact = exact && got[0][i] == want[i] && got[1][i] == want[i];
		CHECK(exact && out_len == n[0], "both hold the capture resampled once, exactly");
		free(want);
	}
	engine_stream_release(&T.e, s[0]);
	engine_stream_release(&T.e, s[1]);
	teardown();
}

static void test_rate_policy(void)
{
	static float data[1024 * 2];
	struct spec at441 = { STREAM_PLAY, DEV_CD, 2, SAMPLE_FLOAT32, .frames = 1024, .rate = 44100 };
	struct spec fixed = { STREAM_PLAY, DEV_FIXED, 2, SAMPLE_FLOAT32, .frames = 1024,
			      .rate = 44100 };
	struct spec exclusive = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .frames = 1024,
				  .exclusive = true, .rate = 44100 };
	struct spec plain = { STREAM_PLAY, DEV_CD, 2, SAMPLE_FLOAT32, .frames = 1024 };
	struct stream *s;

	setup();
	s = start_ok(&at441);
	CHECK(fake_params(fake_stream_on(T.fb, DEV_CD, true))->samplerate == 48000 && s->out.group,
	      "a 44.1 kHz client on a 44.1 kHz card: the device stream opens at 48 kHz all the same, and it is resampled");
	engine_stream_release(&T.e, s);
	s = start_ok(&fixed);
	CHECK(s && fake_params(fake_stream_on(T.fb, DEV_FIXED, true))->samplerate == 96000,
	      "a card that does not take 48 kHz: its own default rate");
	CHECK(fake_checked(T.fb) == 0,
	      "shared device streams open without a separate format check (made %u)",
	      fake_checked(T.fb));
	engine_stream_release(&T.e, s);
	{
		struct spec huge = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .frames = 1024,
				     .rate = 768000 };
		struct proto_error err = { 0 };

		CHECK(!start(&huge, &err) && err.code == PROTO_E_NOT_SUPPORTED &&
			      strstr(err.message, "768000 Hz"),
		      "768 kHz on a 48 kHz device is refused (more than 8 times): %s", err.message);
		proto_error_clear(&err);
	}
	s = start_ok(&exclusive);
	CHECK(s && fake_params(fake_stream_on(T.fb, DEV_OUT, true))->samplerate == 44100 &&
		      s->samplerate == 44100 && !s->out.group,
	      "an exclusive stream opens at exactly its rate");
	engine_stream_release(&T.e, s);
	teardown();

	setup();
	T.default_rate = 0;
	s = start_ok(&plain);
	put(s, data, 1024);
	CHECK(s && fake_params(fake_stream_on(T.fb, DEV_CD, true))->samplerate == 44100 &&
		      s->samplerate == 44100 && !s->out.group,
	      "default_samplerate 0: the device's default rate, and a client without a rate takes it");
	engine_stream_release(&T.e, s);
	teardown();
}

/*
 * Plays bad beside a clean ramp on a fresh engine (bad first or second: the
 * first stream of a period writes the mix, the others add to it); returns
 * the tap's first four periods.
 */
static void play_one_beside(const float *bad, double rate, bool clip_off, bool bad_first,
			    float *ret_tap)
{
	static float clean[PERIOD * 4 * 2];
	struct spec sp = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .frames = PERIOD * 4,
			   .clip_off = clip_off, .rate = rate };
	struct stream *s[2];
	struct fake_stream *fs;
	size_t n;

	for (int i = 0; i < PERIOD * 4 * 2; i++)
		clean[i] = (float)(i % 97) / 128.0f - 0.375f;
	setup();
	s[0] = start_ok(&sp);
	s[1] = start_ok(&sp);
	put(s[!bad_first], bad, PERIOD * 4);
	put(s[bad_first], clean, PERIOD * 4);
	fs = fake_stream_on(T.fb, DEV_OUT, true);
	fake_run(fs, 4);
	memcpy(ret_tap, tap_from(fs, 0, &n), sizeof(float) * PERIOD * 4 * 2);
	engine_stream_release(&T.e, s[0]);
	engine_stream_release(&T.e, s[1]);
	teardown();
}

/* As play_one_beside() with bad first and second; the taps must be the same. */
static void play_beside(const float *bad, double rate, bool clip_off, float *ret_tap)
{
	static float other[PERIOD * 4 * 2];

	play_one_beside(bad, rate, clip_off, true, ret_tap);
	play_one_beside(bad, rate, clip_off, false, other);
	if (memcmp(ret_tap, other, sizeof(other)) != 0)
		ret_tap[0] = NAN; /* fails the caller's comparison */
}

static void test_nan_isolation(void)
{
	static float nan_data[PERIOD * 4 * 2], inf_data[PERIOD * 4 * 2], zero[PERIOD * 4 * 2];
	static float tap[PERIOD * 4 * 2], alone[PERIOD * 4 * 2];
	bool exact = true, clipped = true;

	for (int i = 0; i < PERIOD * 4 * 2; i++) {
		nan_data[i] = i % 3 ? NAN : -NAN;
		inf_data[i] = i % 2 ? INFINITY : -INFINITY;
	}
	/* The clean stream alone (beside silence) is what it must sound like beside NaN. */
	play_beside(zero, 0, false, alone);
	play_beside(nan_data, 0, false, tap);
	CHECK(memcmp(tap, alone, sizeof(tap)) == 0,
	      "a NaN-writing stream beside a clean one: the clean one's samples are exact in the tap");
	play_beside(nan_data, 0, true, tap);
	CHECK(memcmp(tap, alone, sizeof(tap)) == 0, "with clip_off on both too");
	play_beside(inf_data, 0, false, tap);
	for (int i = 0; i < PERIOD * 4 * 2; i++) {
		float v = (i % 2 ? 1.0f : -1.0f) + alone[i];

		clipped = clipped && tap[i] == (v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v);
	}
	CHECK(clipped, "±Inf is full scale: the mix is clipped to ±1, never Inf or NaN");
	play_beside(zero, 44100, false, alone);
	play_beside(nan_data, 44100, false, tap);
	CHECK(memcmp(tap, alone, sizeof(tap)) == 0,
	      "in a rate group as well: the resampled clean stream is exact beside NaN");
	for (int i = 0; i < PERIOD * 4 * 2; i++)
		exact = exact && isfinite(tap[i]);
	CHECK(exact, "and the resampler's memory holds no NaN");
}

/* The left channel of a constant 0.5 stream on DEV_OUT whose volume changes after 2 periods. */
static void ramp_of(const float *gains, int count, int mute, bool capture, float *left,
		    float *right, size_t frames)
{
	static float data[8192 * 2];
	struct spec play = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .buffer_frames = 8192 };
	struct spec rec = { STREAM_REC, DEV_IN, 2, SAMPLE_FLOAT32, .buffer_frames = 8192 };
	static float got[8192 * 2];
	struct stream *s;
	size_t n;

	for (int i = 0; i < 8192 * 2; i++)
		data[i] = 0.5f;
	setup();
	if (capture) {
		fake_set_capture(T.fb, DEV_IN, data, 8192, 2);
		s = start_ok(&rec);
	} else {
		s = start_ok(&play);
		put(s, data, 8192);
	}
	fake_run_all(T.fb, 2);
	stream_set_volume(stream_volume_dir(s), gains, count, mute);
	fake_run_all(T.fb, (int)(frames / PERIOD) - 2);
	if (capture) {
		n = take(s, got, (uint32_t)frames);
		for (size_t i = 0; i < n; i++) {
			left[i] = got[2 * i];
			right[i] = got[2 * i + 1];
		}
	} else {
		const float *tap = tap_from(fake_stream_on(T.fb, DEV_OUT, true), 0, &n);

		for (size_t i = 0; i < frames && i < n; i++) {
			left[i] = tap[2 * i];
			right[i] = tap[2 * i + 1];
		}
	}
	engine_stream_release(&T.e, s);
	teardown();
}

/* Checks that x[from…] falls or rises monotonically to exactly want within ramp frames, then stays. */
static bool ramps_to(const float *x, size_t from, size_t ramp, size_t frames, float start,
		     float want, size_t *ret_landed)
{
	bool ok = x[from - 1] == start;
	size_t landed = frames;

	for (size_t i = from; i < frames; i++) {
		if (want < start ? x[i] > x[i - 1] : x[i] < x[i - 1])
			ok = false;
		if (x[i] == want && landed == frames)
			landed = i;
		if (landed < frames && x[i] != want)
			ok = false;
	}
	*ret_landed = landed;
	return ok && landed <= from + ramp;
}

static void test_volume_ramps(void)
{
	enum { FRAMES = 16 * PERIOD };
	static float left[FRAMES], right[FRAMES];
	size_t ramp = (size_t)lround(STREAM_VOLUME_RAMP_SECONDS * RATE), landed;
	float half = 0.5f, zero = 0.0f, pair[2] = { 1.0f, 0.25f };

	ramp_of(&half, 1, -1, false, left, right, FRAMES);
	CHECK(ramps_to(left, 2 * PERIOD, ramp, FRAMES, 0.5f, 0.25f, &landed) &&
		      landed > 2 * PERIOD + ramp / 2,
	      "volume 0.5: the tap falls monotonically from 0.5 and lands on exactly 0.25 after %zu frames (the ramp: %zu)",
	      landed - 2 * PERIOD, ramp);
	ramp_of(&zero, 0, 1, false, left, right, FRAMES);
	CHECK(ramps_to(left, 2 * PERIOD, ramp, FRAMES, 0.5f, 0.0f, &landed) &&
		      ramps_to(right, 2 * PERIOD, ramp, FRAMES, 0.5f, 0.0f, &landed),
	      "mute: to exactly 0 on every channel");
	ramp_of(pair, 2, -1, false, left, right, FRAMES);
	CHECK(left[FRAMES - 1] == 0.5f && left[2 * PERIOD + 10] == 0.5f &&
		      ramps_to(right, 2 * PERIOD, ramp, FRAMES, 0.5f, 0.125f, &landed),
	      "a volume per channel: the first stays, the second goes to 0.25 × 0.5");
	ramp_of(&half, 1, -1, true, left, right, FRAMES);
	CHECK(ramps_to(left, 2 * PERIOD, ramp, FRAMES - 2 * PERIOD, 0.5f, 0.25f, &landed),
	      "a recording's volume ramps what it records the same way");
}

static void test_volume_survives_mute(void)
{
	static float data[8192 * 2];
	struct spec play = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .buffer_frames = 8192 };
	float half = 0.5f;
	struct stream *s;
	struct fake_stream *fs;
	const float *tap;
	size_t n;

	for (int i = 0; i < 8192 * 2; i++)
		data[i] = 0.5f;
	setup();
	s = start_ok(&play);
	put(s, data, 8192);
	fs = fake_stream_on(T.fb, DEV_OUT, true);
	stream_set_volume(&s->out, &half, 1, -1);
	fake_run(fs, 6);
	stream_set_volume(&s->out, NULL, 0, 1);
	fake_run(fs, 6);
	stream_set_volume(&s->out, NULL, 0, 0);
	fake_run(fs, 6);
	tap = tap_from(fs, 0, &n);
	CHECK(n == 18 * PERIOD && tap[2 * (6 * PERIOD - 1)] == 0.25f &&
		      tap[2 * (12 * PERIOD - 1)] == 0.0f && tap[2 * (18 * PERIOD - 1)] == 0.25f,
	      "volume 0.5, muted, unmuted: 0.25, 0, 0.25 again (%g, %g, %g)",
	      tap[2 * (6 * PERIOD - 1)], tap[2 * (12 * PERIOD - 1)], tap[2 * (18 * PERIOD - 1)]);
	CHECK(s->out.volume[0] == 0.5f && !s->out.mute, "the setting is kept while muted");
	engine_stream_release(&T.e, s);
	teardown();
}

/*
 * A playrec on DEV_LOOP at rate, started after wait periods: an impulse at
 * frame 300 of what it plays; returns where the recording has its peak,
 * less 300 (the offset measured), and the offset the engine reported.
 */
static long loop_offset(double rate, int wait, uint32_t *ret_reported, bool *ret_aligned)
{
	enum { FRAMES = 8192 };
	static float play[FRAMES * 2], rec[FRAMES * 2];
	struct spec sp = { STREAM_PLAYREC, DEV_LOOP, 2, SAMPLE_FLOAT32, .frames = FRAMES,
			   .rate = rate };
	struct fake_stream *fs;
	struct stream *s;
	uint32_t got = 0;
	long peak = -1;
	float top = 0;

	memset(play, 0, sizeof(play));
	play[2 * 300] = play[2 * 300 + 1] = 0.9f;
	s = start_ok(&sp);
	fs = fake_stream_on(T.fb, DEV_LOOP, true);
	fake_run(fs, wait);
	put(s, play, FRAMES);
	for (int p = 0; p < 80 && got < FRAMES; p++) {
		fake_run(fs, 1);
		got += take(s, rec + 2 * got, FRAMES - got);
	}
	pump();
	for (uint32_t i = 0; i < got; i++)
		if (fabsf(rec[2 * i]) > top) {
			top = fabsf(rec[2 * i]);
			peak = (long)i;
		}
	*ret_reported = s->offset_frames;
	*ret_aligned = s->aligned;
	engine_stream_release(&T.e, s);
	return peak - 300;
}

static void test_aligned_playrec(void)
{
	uint32_t reported, first_reported = 0;
	long first = 0;
	bool aligned, same = true, all_aligned = true;

	setup();
	T.idle_time = 100;
	for (int i = 0; i < 5; i++) {
		long l = loop_offset(0, i * 3 + 1, &reported, &aligned);

		if (i == 0) {
			first = l;
			first_reported = reported;
		}
		same = same && l == first && reported == first_reported;
		all_aligned = all_aligned && aligned;
	}
	CHECK(fake_opened(T.fb) == 1 && fake_params(fake_stream_on(T.fb, DEV_LOOP, true))->device_in ==
						DEV_LOOP,
	      "the playrecs share one duplex device stream");
	CHECK(all_aligned && same && first == LOOP_PERIODS * PERIOD && first_reported == first,
	      "five playrecs started at different periods record the impulse at the same offset, %ld frames, as reported (%u)",
	      first, first_reported);
	same = true;
	for (int i = 0; i < 5; i++) {
		long l = loop_offset(44100, i * 2 + 1, &reported, &aligned);

		if (i == 0) {
			first = l;
			first_reported = reported;
		}
		same = same && l == first && reported == first_reported && aligned;
	}
	CHECK(same && labs(first - (long)first_reported) <= 1,
	      "resampled to 44.1 kHz, five playrecs too: offset %ld, reported %u", first,
	      first_reported);
	teardown();
}

static void test_duplex_beside_output(void)
{
	static float data[4096 * 2];
	struct spec play = { STREAM_PLAY, DEV_BOTH, 2, SAMPLE_FLOAT32, .buffer_frames = 4096 };
	struct spec playrec = { STREAM_PLAYREC, DEV_BOTH, 2, SAMPLE_FLOAT32, .frames = 1024 };
	struct stream *p, *pr, *later;
	struct fake_stream *out;

	setup();
	T.idle_time = 100;
	p = start_ok(&play);
	put(p, data, 4096);
	out = fake_stream_on(T.fb, DEV_BOTH, true);
	fake_run(out, 2);
	pr = start_ok(&playrec);
	CHECK(pr && pr->aligned && fake_opened(T.fb) == 2 && fake_closed(T.fb) == 0 &&
		      p->out.dev != pr->out.dev && pr->out.dev == pr->in.dev,
	      "an output stream with a client stays; the playrec gets a duplex device stream beside it");
	later = start_ok(&play);
	CHECK(later && later->out.dev == pr->out.dev, "a new playback joins the duplex device stream");
	engine_stream_release(&T.e, pr);
	engine_stream_release(&T.e, later);
	engine_stream_release(&T.e, p);
	pump();
	teardown();

	setup();
	T.idle_time = 100;
	p = start_ok(&play);
	put(p, data, 4096);
	fake_run(fake_stream_on(T.fb, DEV_BOTH, true), 2);
	engine_stream_release(&T.e, p);
	pump();
	pr = start_ok(&playrec);
	CHECK(pr && pr->aligned && fake_closed(T.fb) == 1 && engine_devstream_count(&T.e) == 1,
	      "an idle output stream closes and the duplex one replaces it");
	engine_stream_release(&T.e, pr);
	teardown();
}

static void test_groups_freed(void)
{
	static float data[512 * 2];
	struct spec sp = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .frames = 512, .rate = 22050 };
	struct stream *a, *b;
	struct devstream *ds;

	setup();
	T.idle_time = 100;
	a = start_ok(&sp);
	b = start_ok(&sp);
	ds = a->out.dev;
	put(a, data, 512);
	fake_run(fake_stream_on(T.fb, DEV_OUT, true), 1);
	engine_stream_release(&T.e, a);
	fake_run(fake_stream_on(T.fb, DEV_OUT, true), 1);
	pump();
	CHECK(groups_of(ds) == 1 && b->out.group->users == 1, "the group stays while a stream uses it");
	engine_stream_release(&T.e, b);
	fake_run(fake_stream_on(T.fb, DEV_OUT, true), 1);
	pump();
	CHECK(groups_of(ds) == 0 && devstream_attached(ds) == 0,
	      "it is gone once its last stream left and the audio thread moved on");
	teardown();
}

/*
 * A device stream runs at most max_resamplers rate groups: a stream at a
 * rate that would need one more is refused with limit_exceeded, naming
 * the device stream's rate; streams at its rate or at a rate already
 * resampled still join, the running ones play on, and a group's room is
 * free again once its last stream has left.
 */
static void test_resamplers_bounded(void)
{
	static float data[256 * 2];
	struct spec sp = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .rate = 22050 };
	struct proto_error err = { 0 };
	struct stream *a, *b, *c, *d, *x;
	struct fake_stream *fs;

	setup();
	T.idle_time = 100;
	T.max_resamplers = 2;
	a = start_ok(&sp);
	sp.rate = 44100;
	b = start_ok(&sp);
	CHECK(a && b && groups_of(a->out.dev) == 2, "two rates, two resamplers");
	sp.rate = 32000;
	x = start(&sp, &err);
	CHECK(!x && err.code == PROTO_E_LIMIT && strstr(err.message, "max_resamplers_per_device") &&
		      strstr(err.message, "48000 Hz"),
	      "a third rate is refused with limit_exceeded, naming the setting and the device's "
	      "rate: %s",
	      err.message);
	sp.rate = 22050;
	c = start_ok(&sp);
	sp.rate = 48000;
	d = start_ok(&sp);
	CHECK(c && d && c->out.group == a->out.group && !d->out.group && groups_of(a->out.dev) == 2,
	      "a rate already resampled and the device's own rate still join");
	fs = fake_stream_on(T.fb, DEV_OUT, true);
	for (int i = 0; i < 8; i++) {
		put(a, data, 256);
		put(b, data, 256);
		fake_run(fs, 1);
	}
	pump();
	CHECK(T.nfinished == 0, "the refusal ended no running stream (%d ended)", T.nfinished);
	engine_stream_release(&T.e, b);
	fake_run(fs, 1);
	pump();
	sp.rate = 32000;
	x = start_ok(&sp);
	CHECK(x && groups_of(a->out.dev) == 2, "the 44100 Hz group's room went to 32000 Hz");
	engine_stream_release(&T.e, a);
	engine_stream_release(&T.e, c);
	engine_stream_release(&T.e, d);
	engine_stream_release(&T.e, x);
	teardown();
}

static void test_denormals_flushed(void)
{
#if defined(__SSE__)
	struct spec sp = { STREAM_PLAY, DEV_OUT, 2, SAMPLE_FLOAT32, .buffer_frames = 1024 };
	unsigned before = _mm_getcsr();
	struct stream *s;

	_mm_setcsr(before & ~0x8040u);
	setup();
	s = start_ok(&sp);
	fake_run(fake_stream_on(T.fb, DEV_OUT, true), 1);
	CHECK((_mm_getcsr() & 0x8040u) == 0x8040u,
	      "after a callback its thread flushes denormals to zero (FTZ and DAZ)");
	engine_stream_release(&T.e, s);
	teardown();
	_mm_setcsr(before);
#else
	CHECK(1, "denormals: not an SSE machine");
#endif
}

int main(void)
{
	log_set_level(LOG_LEVEL_ERROR);
	test_mix_by_rate_group();
	test_pull_follows_ratio();
	test_capture_by_rate_group();
	test_rate_policy();
	test_nan_isolation();
	test_volume_ramps();
	test_volume_survives_mute();
	test_aligned_playrec();
	test_duplex_beside_output();
	test_groups_freed();
	test_resamplers_bounded();
	test_denormals_flushed();
	return tap_done();
}
