/*
 * libsdc's stream API in real time, on jackd's dummy backend (48 kHz,
 * 256-frame periods) through PortAudio's JACK host API, in TAP.  The
 * virtual ALSA devices of test-streams.c are not paced; this device is,
 * so here a callback's block size, its timestamps, a blocking round trip,
 * an overflowing reader and an underflowing callback can be checked as an
 * application would meet them.
 *
 * The wrapper (tests/integration/test_streams_jack.py) starts jackd, then
 * sddaemon; it passes $SDDAEMON_SOCKET, $JACK_DEFAULT_SERVER (for
 * jack_lsp and jack_connect), $SDCTL, and $SDD_TEST_WAV, a WAV file of
 * $SDD_TEST_WAV_FRAMES frames that a second client plays with sdctl.
 *
 * With --no-realtime, JACK may flag spurious xruns, and a loaded machine
 * may make jackd skip a cycle: what these tests assert is what the daemon
 * and libsdc control (ring underflows and overflows, frame counts, block
 * sizes, the stream clock), and where a device xrun would excuse a flag,
 * the daemon's device_xruns counter says whether one happened.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sdc.h"
#include "tap.h"

#define RATE 48000
#define JACK_DEVICE "system jack"

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_seconds(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The daemon's device xruns so far, over all device streams (from daemon_status). */
static long long device_xruns(sdc_client *c)
{
	char *json = NULL;
	long long total = 0;

	if (sdc_call(c, "daemon_status", NULL, &json) < 0)
		return -1;
	for (const char *p = json; (p = strstr(p, "\"device_xruns\":")); p++)
		total += strtoll(p + strlen("\"device_xruns\":"), NULL, 10);
	free(json);
	return total;
}

/* Waits until the daemon has no device stream open (their JACK ports are gone). */
static int wait_no_device_streams(sdc_client *c)
{
	for (int i = 0; i < 200; i++) {
		char *json = NULL, *w = NULL;
		int none;

		if (sdc_call(c, "daemon_status", NULL, &json) < 0)
			return 0;
		/* Compare without blanks, however the daemon spaces its JSON. */
		w = json;
		for (char *r = json; *r; r++)
			if (*r != ' ')
				*w++ = *r;
		*w = '\0';
		none = strstr(json, "\"device_streams\":[]") != NULL;
		free(json);
		if (none)
			return 1;
		sleep_seconds(0.05);
	}
	return 0;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* ---- Exact blocks and paced time ------------------------------------------ */

#define TIMING_CALLS 100

struct timing {
	unsigned long blocksize;
	int calls, bad_blocksize;
	double adc[TIMING_CALLS], dac[TIMING_CALLS], now[TIMING_CALLS];
	double first_wall, last_wall;
	atomic_int finished;
};

static int timing_cb(const void *in, void *out, unsigned long frames, const sdc_time_info *t,
		     unsigned status, void *userdata)
{
	struct timing *tm = userdata;
	int i = tm->calls++;

	(void)in;
	(void)status;
	if (frames != tm->blocksize)
		tm->bad_blocksize++;
	memset(out, 0, frames * 2 * sizeof(float));
	if (i < TIMING_CALLS) {
		tm->adc[i] = t->input_buffer_adc_time;
		tm->dac[i] = t->output_buffer_dac_time;
		tm->now[i] = t->current_time;
	}
	if (i == 0)
		tm->first_wall = now_seconds();
	tm->last_wall = now_seconds();
	return tm->calls >= TIMING_CALLS ? SDC_COMPLETE : SDC_CONTINUE;
}

static void timing_finished(void *userdata)
{
	atomic_store(&((struct timing *)userdata)->finished, 1);
}

/*
 * A duplex callback stream with a block size that is no multiple of JACK's
 * 256-frame period: every call has exactly 480 frames, and the ADC and DAC
 * times of consecutive blocks are 480 / 48000 s = 10 ms apart.  Over the
 * 100 blocks (1 s) the stream clock and the wall clock advance by about a
 * second: the device paces the stream.
 *
 * PortAudio's JACK times come from the system clock at the moment the
 * period's callback runs (later on a loaded machine): one step may be off
 * by up to a 5.3 ms period.  jackd's dummy driver without realtime priority
 * may also fall behind the system clock, and then its 480 frames really
 * last more than 10 ms; when it falls behind by a whole cycle, the daemon
 * counts a device xrun.  The times are judged on the first run without
 * device xruns (of up to three): typical steps and the average within 5 %,
 * every step within a period, which wrong block times would not be.
 */
static void test_blocksize_and_time(sdc_client *c)
{
	struct timing *tm = calloc(1, sizeof(*tm));
	sdc_stream_params p = {
		.kind = SDC_STREAM_DUPLEX,
		.samplerate = RATE,
		.blocksize = 480,
		.device = { SDC_DEVICE_QUERY(JACK_DEVICE), SDC_DEVICE_QUERY(JACK_DEVICE) },
		.channels = { 2, 2 },
		.dtype = { SDC_FLOAT32, SDC_FLOAT32 },
		.callback = timing_cb,
		.finished_callback = timing_finished,
		.userdata = tm,
	};
	double step = 480.0 / RATE, worst = 0, errors[2 * TIMING_CALLS], adc_mean = 0, dac_mean = 0;
	int ran = 1, exact = 1, order_ok = 1, nerrors = 0, clean = 0, attempt;
	sdc_stream *s;

	for (attempt = 0; attempt < 3 && !clean; attempt++) {
		long long xruns_before = device_xruns(c);

		memset(tm, 0, sizeof(*tm));
		tm->blocksize = 480;
		if (sdc_stream_open(c, &p, &s) < 0 || sdc_stream_samplerate(s) != RATE ||
		    sdc_stream_blocksize(s) != 480 || sdc_stream_start(s) < 0) {
			printf("# open/start: %s\n", sdc_last_error()->message);
			ran = 0;
			break;
		}
		ran = ran && tap_wait_flag(&tm->finished, 20);
		exact = exact && tm->calls == TIMING_CALLS && tm->bad_blocksize == 0;
		sdc_stream_stop(s);
		sdc_stream_close(s);
		clean = device_xruns(c) == xruns_before;
		printf("# run %d: %d calls, %d not of 480 frames, %s device xruns\n", attempt + 1,
		       tm->calls, tm->bad_blocksize, clean ? "no" : "with");
	}
	CHECK(ran, "a duplex callback stream on JACK runs at 48 kHz, blocks of 480 frames, "
		   "until SDC_COMPLETE after 100 blocks");
	CHECK(exact, "every callback of every run had exactly 480 frames, 100 calls a run");
	if (!clean)
		printf("# the JACK device had xruns in every run: judging the last one anyway\n");
	for (int i = 1; i < TIMING_CALLS; i++) {
		double da = fabs(tm->adc[i] - tm->adc[i - 1] - step);
		double dd = fabs(tm->dac[i] - tm->dac[i - 1] - step);

		worst = da > worst ? da : dd > worst ? dd : worst;
		errors[nerrors++] = da;
		errors[nerrors++] = dd;
	}
	for (int i = 0; i < TIMING_CALLS; i++)
		if (!(tm->adc[i] <= tm->now[i] + 1e-4 && tm->now[i] <= tm->dac[i] + 1e-4))
			order_ok = 0;
	qsort(errors, (size_t)nerrors, sizeof(errors[0]), compare_doubles);
	adc_mean = (tm->adc[TIMING_CALLS - 1] - tm->adc[0]) / (TIMING_CALLS - 1);
	dac_mean = (tm->dac[TIMING_CALLS - 1] - tm->dac[0]) / (TIMING_CALLS - 1);
	printf("# steps: median error %.6f s, worst %.6f s, mean ADC %.6f s, DAC %.6f s; "
	       "clock span %.3f s, wall span %.3f s\n",
	       errors[nerrors / 2], worst, adc_mean, dac_mean, tm->now[TIMING_CALLS - 1] - tm->now[0],
	       tm->last_wall - tm->first_wall);
	CHECK(errors[nerrors / 2] < 5e-4 && fabs(adc_mean - step) < 5e-4 && fabs(dac_mean - step) < 5e-4
		      && worst < 0.006,
	      "ADC and DAC times advance by blocksize / rate per block");
	CHECK(order_ok, "in every block, ADC time <= current time <= DAC time");
	/* The input was buffered at most a latency ahead: the rest came in real time. */
	CHECK(tm->now[TIMING_CALLS - 1] - tm->now[0] > 0.8 && tm->last_wall - tm->first_wall > 0.8,
	      "100 blocks of 10 ms take about a second of stream time and of wall time");
	free(tm);
}

/* ---- A blocking round trip through JACK ------------------------------------ */

/* The loop-back pattern: frame i holds f(i) and -f(i), exact in float32 and never zero. */
static float pattern(uint64_t i)
{
	return (float)((i % 30000) + 1) / 32768.0f;
}

/* Lists JACK's ports (jack_lsp); returns the text (free() it) or NULL. */
static char *jack_ports(void)
{
	FILE *f = popen("jack_lsp 2>/dev/null", "r");
	size_t len = 0, size = 0;
	char *text = NULL;
	int ch;

	if (!f)
		return NULL;
	while ((ch = fgetc(f)) != EOF) {
		if (len + 2 > size) {
			char *bigger = realloc(text, size = size ? 2 * size : 4096);

			if (!bigger) {
				free(text);
				pclose(f);
				return NULL;
			}
			text = bigger;
		}
		text[len++] = (char)ch;
	}
	if (text)
		text[len] = '\0';
	pclose(f);
	return text;
}

/*
 * Finds the nth port (from 0) in after that was not in before and contains
 * what (":out_"); copies its name.  jack_lsp lists a client's ports in the
 * order they were registered.
 */
static int new_port(const char *before, const char *after, const char *what, int nth, char *buf,
		    size_t size)
{
	const char *line = after;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);

		if (n < size) {
			memcpy(buf, line, n);
			buf[n] = '\0';
			if (strstr(buf, what) && !(before && strstr(before, buf)) && nth-- == 0)
				return 0;
		}
		line = end ? end + 1 : NULL;
	}
	return -1;
}

static int jack_cmd(const char *cmd, const char *a, const char *b)
{
	char line[512];

	snprintf(line, sizeof(line), "%s '%s' '%s' >/dev/null 2>&1", cmd, a, b);
	return system(line);
}

/*
 * An exclusive duplex stream in blocking mode, its JACK output wired back to
 * its own input (jack_connect, with the system capture ports disconnected):
 * write() and read() alternate, each returns the whole block, and what is
 * read back is what was written, frame for frame.
 */
static void test_blocking_round_trip(sdc_client *c)
{
	enum { BLOCK = 480, BLOCKS = 200, CHECKED = 12000 };
	sdc_stream_params p = {
		.kind = SDC_STREAM_DUPLEX,
		.samplerate = RATE,
		.device = { SDC_DEVICE_QUERY(JACK_DEVICE), SDC_DEVICE_QUERY(JACK_DEVICE) },
		.channels = { 2, 2 },
		.dtype = { SDC_FLOAT32, SDC_FLOAT32 },
		.exclusive = SDC_YES,
	};
	char *before, *after = NULL;
	char out0[256], out1[256], in0[256], in1[256], sys_in[64];
	float *captured = calloc((size_t)BLOCK * BLOCKS * 2, sizeof(float)), block[BLOCK * 2];
	long long wrote = 0, read = 0;
	int wired = 0, first = -1, matched = 0, foreign = 0;
	uint64_t pos = 0, j = 0;
	sdc_stream *s;

	/* PortAudio numbers the ports of all its streams in_N and out_N: ours are the new ones. */
	CHECK(wait_no_device_streams(c), "the device streams of the earlier tests have closed");
	before = jack_ports();
	CHECK(sdc_stream_open(c, &p, &s) == 0 && sdc_stream_start(s) == 0,
	      "an exclusive duplex blocking stream starts on JACK: %s", sdc_last_error()->message);
	for (int i = 0; i < 100 && !wired; i++) {
		free(after);
		after = jack_ports();
		wired = new_port(before, after, ":out_", 0, out0, sizeof(out0)) == 0 &&
			new_port(before, after, ":out_", 1, out1, sizeof(out1)) == 0 &&
			new_port(before, after, ":in_", 0, in0, sizeof(in0)) == 0 &&
			new_port(before, after, ":in_", 1, in1, sizeof(in1)) == 0;
		if (!wired)
			sleep_seconds(0.05);
	}
	CHECK(wired, "its JACK ports appear (%s, %s)", wired ? out0 : "?", wired ? in0 : "?");
	CHECK(sdc_stream_active(s) && !sdc_stream_stopped(s), "the running stream is active");

	if (wired) {
		for (int ch = 1; ch <= 2; ch++) {
			snprintf(sys_in, sizeof(sys_in), "system:capture_%d", ch);
			jack_cmd("jack_disconnect", sys_in, ch == 1 ? in0 : in1);
		}
		CHECK(jack_cmd("jack_connect", out0, in0) == 0 && jack_cmd("jack_connect", out1, in1) == 0,
		      "its outputs are wired to its inputs");
	}
	/* Read first, then write, as a blocking wire does: input flows from the start. */
	for (int b = 0; b < BLOCKS; b++) {
		int under = 0, over = 0;

		read += sdc_stream_read_checked(s, captured + (size_t)b * BLOCK * 2, BLOCK, &over);
		for (int i = 0; i < BLOCK; i++, pos++) {
			block[2 * i] = pattern(pos);
			block[2 * i + 1] = -pattern(pos);
		}
		wrote += sdc_stream_write_checked(s, block, BLOCK, &under);
	}
	CHECK(wrote == (long long)BLOCK * BLOCKS && read == (long long)BLOCK * BLOCKS,
	      "write() and read() moved every frame (%lld written, %lld read)", wrote, read);
	for (int i = 0; i < BLOCK * BLOCKS && first < 0; i++)
		if (captured[2 * i] != 0)
			first = i;
	/*
	 * The value of a frame that came back tells which frame it was.  A cycle
	 * that jackd skips on a loaded machine breaks the sequence, not the frames.
	 */
	for (int i = first, run = 0; first >= 0 && i < BLOCK * BLOCKS; i++) {
		float v = captured[2 * i];
		uint64_t k = (uint64_t)lrintf(v * 32768.0f) - 1;

		if (v <= 0 || k >= 30000 || pattern(k) != v || captured[2 * i + 1] != -v) {
			if (v != 0 || captured[2 * i + 1] != 0)
				foreign++;
			run = 0;
			continue;
		}
		run = run && k == (j + 1) % 30000 ? run + 1 : 1;
		j = k;
		matched = run > matched ? run : matched;
	}
	printf("# first looped-back frame at %d of %d; %d frames in order at most, %d foreign\n",
	       first, BLOCK * BLOCKS, matched, foreign);
	CHECK(first >= 0 && foreign == 0, "every frame that came back is a frame that was written");
	CHECK(matched >= CHECKED, "%d frames came back in order (%d wanted)", matched, CHECKED);
	sdc_stream_abort(s);
	sdc_stream_close(s);
	free(before);
	free(after);
	free(captured);
}

/* ---- read() overflow ---------------------------------------------------------- */

/*
 * A blocking input stream whose reader sleeps for a second, three times its
 * 16384-frame ring: the next read() reports the overflow and the status
 * counts the frames lost.  A read right after, once the ring was drained,
 * reports none (unless JACK itself had an xrun meanwhile).
 */
static void test_read_overflow(sdc_client *c)
{
	sdc_stream_params p = {
		.kind = SDC_STREAM_INPUT,
		.samplerate = RATE,
		.device = { SDC_DEVICE_QUERY(JACK_DEVICE) },
		.channels = { 2 },
		.dtype = { SDC_FLOAT32 },
	};
	float *buf = malloc(sizeof(float) * 2 * 65536);
	int overflowed = -1;
	long long n, xruns_before;
	sdc_status st;
	sdc_stream *s;

	CHECK(sdc_stream_open(c, &p, &s) == 0 && sdc_stream_start(s) == 0,
	      "a blocking input stream starts on JACK");
	for (int i = 0; i < 20; i++)
		sdc_stream_read_checked(s, buf, 480, &overflowed);
	sdc_stream_status(s, &st);
	CHECK(st.overflow_frames == 0, "a reader that keeps up loses nothing (%llu frames lost)",
	      st.overflow_frames);
	sleep_seconds(1.0);
	n = sdc_stream_read_checked(s, buf, 480, &overflowed);
	sdc_stream_status(s, &st);
	CHECK(n == 480 && overflowed == 1, "read() after sleeping 1 s reports the overflow (%d)",
	      overflowed);
	CHECK(st.overflow_frames > 0 && (st.flags & SDC_INPUT_OVERFLOW) && st.xruns > 0,
	      "the status counts the frames lost (%llu) and the xrun", st.overflow_frames);
	/* Drain what piled up, then read in time. */
	while (sdc_stream_read_available(s) > 480)
		sdc_stream_read(s, buf, (size_t)(sdc_stream_read_available(s) < 65536
							 ? sdc_stream_read_available(s) : 65536));
	xruns_before = device_xruns(c);
	sdc_stream_read_checked(s, buf, 480, &overflowed);
	n = sdc_stream_read_checked(s, buf, 480, &overflowed);
	CHECK(n == 480 && (overflowed == 0 || device_xruns(c) != xruns_before),
	      "the next reads in time report no overflow (%d)", overflowed);
	sdc_stream_abort(s);
	sdc_stream_close(s);
	free(buf);
}

/*
 * With input_buffer_frames, a reader that slept finds that many frames at
 * most, the newest, and its next read reports the overflow, as PortAudio's
 * buffer of that size would (the default ring of test_read_overflow keeps
 * 16384).
 */
static void test_input_buffer_frames(sdc_client *c)
{
	sdc_stream_params p = {
		.kind = SDC_STREAM_INPUT,
		.samplerate = RATE,
		.device = { SDC_DEVICE_QUERY(JACK_DEVICE) },
		.channels = { 2 },
		.dtype = { SDC_FLOAT32 },
		.input_buffer_frames = 1024,
	};
	float buf[2 * 480];
	int overflowed = -1;
	long long avail;
	sdc_status st;
	sdc_stream *s;

	CHECK(sdc_stream_open(c, &p, &s) == 0 && sdc_stream_start(s) == 0,
	      "a blocking input stream with a 1024-frame input buffer starts");
	sdc_stream_read_checked(s, buf, 480, &overflowed);
	sleep_seconds(0.5);
	avail = sdc_stream_read_available(s);
	CHECK(avail == 1024, "after sleeping 0.5 s, 1024 frames are available (%lld)", avail);
	CHECK(sdc_stream_read_checked(s, buf, 480, &overflowed) == 480 && overflowed == 1,
	      "the next read reports the overflow (%d)", overflowed);
	sdc_stream_status(s, &st);
	CHECK(st.overflow_frames >= 10000 && (st.flags & SDC_INPUT_OVERFLOW),
	      "the status counts the frames dropped (%llu)", st.overflow_frames);
	sdc_stream_abort(s);
	sdc_stream_close(s);
}

struct stall {
	int calls;
	unsigned after; /* status flags of the callbacks after the slow one */
	atomic_int finished;
};

static int stall_cb(const void *in, void *out, unsigned long frames, const sdc_time_info *t,
		    unsigned status, void *userdata)
{
	struct stall *st = userdata;

	(void)t;
	memcpy(out, in, frames * 2 * sizeof(float));
	/* calls counts the calls before this one: the 20th sleeps. */
	if (st->calls >= 20)
		st->after |= status;
	if (++st->calls == 20)
		sleep_seconds(0.1);
	return st->calls < 200 ? SDC_CONTINUE : SDC_COMPLETE;
}

static void stall_finished(void *userdata)
{
	atomic_store(&((struct stall *)userdata)->finished, 1);
}

/*
 * A duplex callback stream with a 1024-frame input buffer whose callback
 * takes 0.1 s once: the input that came meanwhile beyond the buffer is
 * dropped and the next callbacks see input_overflow (and output_underflow),
 * as PortAudio's would, instead of running that much behind for good.
 */
static void test_slow_duplex_callback_drops_input(sdc_client *c)
{
	struct stall st = { 0 };
	sdc_stream_params p = {
		.kind = SDC_STREAM_DUPLEX,
		.samplerate = RATE,
		.blocksize = 256,
		.device = { SDC_DEVICE_QUERY(JACK_DEVICE), SDC_DEVICE_QUERY(JACK_DEVICE) },
		.channels = { 2, 2 },
		.dtype = { SDC_FLOAT32, SDC_FLOAT32 },
		.latency = { SDC_LATENCY_LOW, SDC_LATENCY_LOW },
		.callback = stall_cb,
		.finished_callback = stall_finished,
		.userdata = &st,
		.input_buffer_frames = 1024,
	};
	sdc_status status;
	sdc_stream *s;

	CHECK(sdc_stream_open(c, &p, &s) == 0 && sdc_stream_start(s) == 0,
	      "a duplex callback stream with a 1024-frame input buffer starts");
	CHECK(tap_wait_flag(&st.finished, 30), "it runs its 200 callbacks");
	sdc_stream_status(s, &status);
	CHECK((st.after & SDC_INPUT_OVERFLOW) && (st.after & SDC_OUTPUT_UNDERFLOW),
	      "the callbacks after the slow one see input_overflow and output_underflow (%#x)",
	      st.after);
	CHECK(status.overflow_frames >= 2000,
	      "the status counts the input dropped (%llu frames)", status.overflow_frames);
	sdc_stream_stop(s);
	sdc_stream_close(s);
}

/*
 * A blocking output stream plays as soon as a device period is queued, as
 * PortAudio's do, not once its latency's worth is (here 0.5 s): 1024
 * frames start it, and a pause then underflows it, which the write after
 * the pause reports.
 */
static void test_blocking_write_starts_at_once(sdc_client *c)
{
	sdc_stream_params p = {
		.kind = SDC_STREAM_OUTPUT,
		.samplerate = RATE,
		.device = { SDC_DEVICE_DEFAULT, SDC_DEVICE_QUERY(JACK_DEVICE) },
		.channels = { 0, 2 },
		.dtype = { 0, SDC_FLOAT32 },
		.latency = { 0, 0.5 },
	};
	static float buf[2 * 1024];
	int running = 0, underflowed = -1;
	sdc_status st;
	sdc_stream *s;

	for (int i = 0; i < 2 * 1024; i++)
		buf[i] = 0.1f;
	CHECK(sdc_stream_open(c, &p, &s) == 0 && sdc_stream_start(s) == 0,
	      "a blocking output stream with a 0.5 s latency starts");
	CHECK(sdc_stream_write_checked(s, buf, 1024, &underflowed) == 1024 && underflowed == 0,
	      "1024 frames are written");
	for (int i = 0; i < 100 && !running; i++) {
		sdc_stream_status(s, &st);
		running = st.state == SDC_STATE_RUNNING && st.frames_played > 0;
		sleep_seconds(0.01);
	}
	CHECK(running, "they play without waiting for 0.5 s to be queued");
	sleep_seconds(0.3);
	CHECK(sdc_stream_write_checked(s, buf, 1024, &underflowed) == 1024 && underflowed == 1,
	      "the write after a 0.3 s pause reports the underflow (%d)", underflowed);
	sdc_stream_abort(s);
	sdc_stream_close(s);
}

/*
 * The latency a stream reports is the device stream's and what waits in
 * the ring: with the default ("high"), a device period and a block, not
 * 50 ms more than the device.
 */
static void test_latency_reported(sdc_client *c)
{
	sdc_stream_params p = {
		.kind = SDC_STREAM_OUTPUT,
		.samplerate = RATE,
		.blocksize = 256,
		.device = { SDC_DEVICE_DEFAULT, SDC_DEVICE_QUERY(JACK_DEVICE) },
		.channels = { 0, 2 },
		.dtype = { 0, SDC_FLOAT32 },
		.callback = timing_cb,
	};
	struct timing tm = { .blocksize = 256 };
	double latency;
	sdc_stream *s;

	p.userdata = &tm;
	CHECK(sdc_stream_open(c, &p, &s) == 0, "open a callback stream of 256-frame blocks");
	latency = sdc_stream_latency(s, SDC_KIND_OUTPUT);
	/* JACK's latency here is a period or two (256 frames each). */
	CHECK(latency > 0 && latency <= 4 * 256.0 / RATE + 1e-6,
	      "its latency is at most four periods of 256 frames (%.4f s)", latency);
	sdc_stream_close(s);
}

/* ---- A slow callback underflows its own stream only ------------------------------ */

struct sleepy {
	int calls;
	unsigned seen; /* status flags passed to the callback after the sleeps began */
	atomic_int finished;
};

/* Every 20th call sleeps 100 ms: twice the 50 ms of output kept queued. */
static int sleepy_cb(const void *in, void *out, unsigned long frames, const sdc_time_info *t,
		     unsigned status, void *userdata)
{
	struct sleepy *sl = userdata;

	(void)in;
	(void)t;
	if (sl->calls > 20)
		sl->seen |= status;
	for (unsigned long i = 0; i < frames * 2; i++)
		((float *)out)[i] = 0.01f;
	if (++sl->calls % 20 == 0)
		sleep_seconds(0.1);
	return sl->calls >= 200 ? SDC_COMPLETE : SDC_CONTINUE;
}

static void sleepy_finished(void *userdata)
{
	atomic_store(&((struct sleepy *)userdata)->finished, 1);
}

/* Plays silence: it keeps the shared device stream (and its xrun count) open. */
static int silence_cb(const void *in, void *out, unsigned long frames, const sdc_time_info *t,
		      unsigned status, void *userdata)
{
	(void)in;
	(void)t;
	(void)status;
	(void)userdata;
	memset(out, 0, frames * 2 * sizeof(float));
	return SDC_CONTINUE;
}

/* Reads a number member of sdctl's JSON status line; -1 when absent. */
static long long json_number(const char *json, const char *name)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "\"%s\":", name);
	p = json ? strstr(json, key) : NULL;
	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/*
 * While another process (sdctl play) plays a WAV file on the same shared
 * JACK device, a callback stream whose callback sleeps too long gets
 * output_underflow in its status, and its status counts the silence; the
 * other client's playback is undisturbed: all its frames played, no
 * silence inserted, no underflow.
 */
static void test_slow_callback_underflows_alone(sdc_client *c)
{
	const char *sdctl = getenv("SDCTL"), *wav = getenv("SDD_TEST_WAV");
	long long wav_frames = wav ? atoll(getenv("SDD_TEST_WAV_FRAMES")) : 0, xruns_before;
	struct sleepy sl = { 0 };
	sdc_stream_params p = {
		.kind = SDC_STREAM_OUTPUT,
		.samplerate = RATE,
		.blocksize = 256,
		.device = { SDC_DEVICE_DEFAULT, SDC_DEVICE_QUERY(JACK_DEVICE) },
		.channels = { 0, 2 },
		.dtype = { 0, SDC_FLOAT32 },
		.latency = { 0, 0.05 },
		.callback = sleepy_cb,
		.finished_callback = sleepy_finished,
		.userdata = &sl,
	};
	sdc_stream_params kp = p;
	char cmd[1024], out[4096] = "";
	size_t len = 0;
	sdc_status st;
	sdc_stream *s, *keeper = NULL;
	FILE *player;

	if (!sdctl || !wav) {
		CHECK(0, "$SDCTL and $SDD_TEST_WAV are set");
		return;
	}
	CHECK(sdc_stream_open(c, &p, &s) == 0, "open a callback stream on JACK: %s",
	      sdc_last_error()->message);
	/*
	 * The device's xrun count lives as long as its device stream, which
	 * closes soon after its last client: a stream playing silence keeps
	 * it open until the count has been read at the end.
	 */
	kp.callback = silence_cb;
	kp.finished_callback = NULL;
	kp.userdata = NULL;
	CHECK(sdc_stream_open(c, &kp, &keeper) == 0 && sdc_stream_start(keeper) == 0,
	      "a stream playing silence keeps the device stream open");
	xruns_before = device_xruns(c);
	snprintf(cmd, sizeof(cmd), "'%s' --json play -d '%s' '%s' 2>&1", sdctl, JACK_DEVICE, wav);
	player = popen(cmd, "r");
	CHECK(player != NULL, "sdctl play runs");
	sleep_seconds(0.3);
	CHECK(sdc_stream_start(s) == 0, "start the sleepy callback stream while sdctl plays");
	CHECK(tap_wait_flag(&sl.finished, 30), "it finishes after 200 blocks");
	sdc_stream_status(s, &st);
	CHECK(sl.seen & SDC_OUTPUT_UNDERFLOW, "the callback's status showed output_underflow");
	CHECK((st.flags & SDC_OUTPUT_UNDERFLOW) && st.underflow_frames > 0 && st.xruns > 0,
	      "its stream status counts the underflow (%llu frames of silence)", st.underflow_frames);
	sdc_stream_stop(s);
	sdc_stream_close(s);
	while (player && len + 1 < sizeof(out)) {
		size_t n = fread(out + len, 1, sizeof(out) - 1 - len, player);

		if (n == 0)
			break;
		len += n;
	}
	out[len] = '\0';
	CHECK(player && pclose(player) == 0, "sdctl play exits 0");
	/* sdctl's output may hold several lines (a warning on stderr, then the JSON). */
	for (const char *line = out; *line;) {
		int n = (int)strcspn(line, "\n");

		printf("# sdctl: %.*s\n", n, line);
		line += n + (line[n] == '\n');
	}
	CHECK(json_number(out, "frames_played") == wav_frames && json_number(out, "underflow_frames") == 0,
	      "the other client played all %lld frames without inserted silence", wav_frames);
	CHECK(json_number(out, "xruns") == 0 || device_xruns(c) != xruns_before,
	      "and had no xrun (unless the JACK device had one)");
	if (keeper) {
		sdc_stream_stop(keeper);
		sdc_stream_close(keeper);
	}
}

/* ---- Priming with the callback --------------------------------------------------- */

struct primer {
	int calls, primed_calls;
	atomic_int finished;
};

static int primer_cb(const void *in, void *out, unsigned long frames, const sdc_time_info *t,
		     unsigned status, void *userdata)
{
	struct primer *pr = userdata;

	(void)in;
	(void)t;
	pr->calls++;
	if (status & SDC_PRIMING_OUTPUT)
		pr->primed_calls++;
	for (unsigned long i = 0; i < frames * 2; i++)
		((float *)out)[i] = 0.25f;
	return pr->calls >= 10 ? SDC_COMPLETE : SDC_CONTINUE;
}

static void primer_finished(void *userdata)
{
	atomic_store(&((struct primer *)userdata)->finished, 1);
}

/*
 * A stream primed by its callback (prime_output_buffers_using_stream_callback)
 * with a 0.5 s latency, whose callback completes after 10 blocks of 480
 * frames, all of them while priming: it is not called again, and the 4800
 * frames play to the end without an underflow.  The latency asked for is
 * what the stream reports, the device stream's latency included.
 */
static void test_complete_while_priming(sdc_client *c)
{
	struct primer pr = { 0 };
	sdc_stream_params p = {
		.kind = SDC_STREAM_OUTPUT,
		.samplerate = RATE,
		.blocksize = 480,
		.device = { SDC_DEVICE_DEFAULT, SDC_DEVICE_QUERY(JACK_DEVICE) },
		.channels = { 0, 2 },
		.dtype = { 0, SDC_FLOAT32 },
		.latency = { 0, 0.5 },
		.callback = primer_cb,
		.finished_callback = primer_finished,
		.userdata = &pr,
		.prime_output_buffers_using_stream_callback = SDC_YES,
	};
	sdc_status st;
	sdc_stream *s;

	CHECK(sdc_stream_open(c, &p, &s) == 0, "open a stream primed by its callback");
	/* The device's own latency (a few periods) counts toward the 0.5 s. */
	CHECK(fabs(sdc_stream_latency(s, SDC_KIND_OUTPUT) - 0.5) < 0.001 &&
		      sdc_stream_write_available(s) >= RATE * 0.4,
	      "a 0.5 s latency is reported and, less the device's, kept queued "
	      "(latency %.4f s, %lld frames writable)",
	      sdc_stream_latency(s, SDC_KIND_OUTPUT), sdc_stream_write_available(s));
	CHECK(sdc_stream_start(s) == 0, "start");
	CHECK(tap_wait_flag(&pr.finished, 20), "the finished callback runs");
	sdc_stream_status(s, &st);
	CHECK(pr.calls == 10 && pr.primed_calls == 10,
	      "the callback ran 10 times, all priming, none after SDC_COMPLETE (%d, %d)", pr.calls,
	      pr.primed_calls);
	CHECK(st.state == SDC_STATE_FINISHED && st.frames_played == 4800 && st.underflow_frames == 0,
	      "the 4800 frames played to the end (%llu played, %llu of silence)", st.frames_played,
	      st.underflow_frames);
	sdc_stream_stop(s);
	sdc_stream_close(s);
}

/* A test that hangs (a read that never returns) ends the program, reported. */
static void on_alarm(int sig)
{
	static const char msg[] = "Bail out! a test hung for 200 s\n";
	ssize_t n;

	(void)sig;
	n = write(1, msg, sizeof(msg) - 1);
	(void)n;
	_exit(1);
}

int main(void)
{
	sdc_client *c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	alarm(200);
	if (sdc_connect(NULL, &c) < 0) {
		CHECK(0, "connect: %s", sdc_last_error()->message);
		return tap_done();
	}
	test_blocksize_and_time(c);
	test_blocking_round_trip(c);
	test_read_overflow(c);
	test_input_buffer_frames(c);
	test_slow_duplex_callback_drops_input(c);
	test_blocking_write_starts_at_once(c);
	test_latency_reported(c);
	test_slow_callback_underflows_alone(c);
	test_complete_while_priming(c);
	sdc_close(c);
	return tap_done();
}
