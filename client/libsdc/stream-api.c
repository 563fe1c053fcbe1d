/*
 * The stream API: streams opened stopped, started and stopped by the
 * application, and either read and written by it (blocking mode) or driven
 * by a callback thread of the library (callback mode), as sounddevice's
 * Stream classes; and sdc_stream_close() for every stream, since these
 * have more to release.  Functions are called by the thread that owns the
 * stream; the callback thread runs callback_main(), which touches only the
 * stream's shared memory and eventfd, never the client's socket, so a slow
 * or blocked application thread cannot stall it.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"
#include "sdc-private.h"

/* The granule for latency targets when the block size is variable. */
#define DEFAULT_GRANULE 256

/*
 * How long a start waits at most for the stream's clock: well beyond a
 * device period, for a daemon or device slow to run a stream's first
 * period (a loaded machine, a sanitizer); a device that stops calling back
 * fails the stream sooner.
 */
#define CLOCK_WAIT_MS 10000

enum { REQ_RUN = 0, REQ_STOP, REQ_ABORT };

struct api_stream {
	sdc_stream_params p;
	char *queries[2];
	char *open_json; /* the open_stream parameters, to reopen after a stop */
	int blocksize;
	uint32_t target; /* output frames kept queued */
	uint32_t start_frames; /* blocking output: frames queued before playback starts */
	uint32_t in_limit;     /* input frames kept; older ones are dropped */
	int started;
	int thread_running;
	pthread_t thread;
	_Atomic int request;
	int finished_called;
	int primed_result; /* what the callback returned while priming: SDC_CONTINUE unless it ended */
	_Atomic uint64_t cpu_load_bits;
	unsigned char *inbuf, *outbuf;
	uint32_t maxblock;
	/*
	 * The stream clock as the application sees it, from each direction's
	 * ring clock ([out, in]; double bits, 0: not seen yet): the clock's
	 * value at the latest publication seen, and that value minus
	 * CLOCK_MONOTONIC when it was first seen.  The two directions of a
	 * shared duplex stream run on two device streams, whose clocks may
	 * have different origins (PortAudio's JACK host API starts each
	 * stream's at 0), and a device's clock may run slower or faster than
	 * CLOCK_MONOTONIC (jackd's dummy backend does): so each is followed
	 * period by period.  last_now_bits keeps the stream clock from going
	 * back.  Updated by the callback thread and the application's.
	 */
	_Atomic uint64_t seen_bits[2];
	_Atomic uint64_t offset_bits[2];
	_Atomic uint64_t last_now_bits;
	/*
	 * The input clock's time on the output clock's, less: smoothed, since
	 * each offset is late by its own reading's delay, while the two clocks
	 * of one device differ by a constant.  Callback thread only.
	 */
	double in_to_out;
	int have_in_to_out;
};

static double monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double from_bits(uint64_t bits)
{
	double v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

static uint64_t to_bits(double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	return bits;
}

/*
 * Follows direction i's clock (0 out, 1 in): a publication not seen
 * before sets the direction's offset to its value minus CLOCK_MONOTONIC
 * now, which underestimates the offset by no more than the time since it
 * was published.  Returns whether the direction has an offset.
 */
static int update_offset(sdc_stream *s, int i, double mono, double *ret_offset)
{
	struct api_stream *a = s->api;
	struct sdc_dir *d = i ? &s->in : &s->out;
	uint64_t frame, seen;
	double t, now, rate;

	if (d->used && ring_clock_read(&d->ctl->clock, &frame, &t, &now, &rate)) {
		seen = to_bits(now) | 1; /* never 0, whatever the clock says */
		if (atomic_exchange(&a->seen_bits[i], seen) != seen)
			atomic_store(&a->offset_bits[i], to_bits(now - mono) | 1);
	}
	if (atomic_load(&a->offset_bits[i]) == 0)
		return 0;
	*ret_offset = from_bits(atomic_load(&a->offset_bits[i]));
	return 1;
}

/*
 * The stream clock now: the output's (the input's for an input stream),
 * on which every time the stream reports is given; it never goes back.
 * Before the daemon published any, CLOCK_MONOTONIC.
 */
static double stream_now(sdc_stream *s)
{
	double mono = monotonic(), off[2], now;
	int have[2], ref = s->out.used ? 0 : 1;
	uint64_t last;

	have[0] = update_offset(s, 0, mono, &off[0]);
	have[1] = update_offset(s, 1, mono, &off[1]);
	now = have[ref] ? mono + off[ref] : mono;
	last = atomic_load(&s->api->last_now_bits);
	do {
		/*
		 * Never back: a publication seen late answers earlier than an
		 * answer already given.  A jump back of a second or more is a new
		 * clock altogether (the first publication after CLOCK_MONOTONIC):
		 * follow it.
		 */
		if (last && from_bits(last) > now && from_bits(last) - now < 1.0)
			return from_bits(last);
	} while (!atomic_compare_exchange_weak(&s->api->last_now_bits, &last, to_bits(now)));
	return now;
}

/*
 * The converter time of ring position pos of direction d, from its ring's
 * clock, on the stream clock of stream_now().
 */
static double time_of(sdc_stream *s, struct sdc_dir *d, uint64_t pos, double fallback)
{
	int i = d == &s->in, ref = s->out.used ? 0 : 1;
	double t, now, rate, off_d, off_ref, mono = monotonic();
	uint64_t frame;

	if (!d->used || !ring_clock_read(&d->ctl->clock, &frame, &t, &now, &rate) || rate <= 0)
		return fallback;
	t += (double)(int64_t)(pos - frame) / rate;
	/* The input's clock may have another origin than the output's: convert. */
	if (i != ref && update_offset(s, i, mono, &off_d) && update_offset(s, ref, mono, &off_ref)) {
		struct api_stream *a = s->api;

		if (!a->have_in_to_out || fabs(off_ref - off_d - a->in_to_out) > 1.0)
			a->in_to_out = off_ref - off_d;
		else
			a->in_to_out += (off_ref - off_d - a->in_to_out) / 16;
		a->have_in_to_out = 1;
		t += a->in_to_out;
	}
	return t;
}

/* True once the stream has reached a final state (or one beyond them). */
static int over(const sdc_stream *s)
{
	return sdc__stream_state(s) >= SHM_STATE_FINISHED;
}

/* Frames queued in the playback ring, and readable in the capture ring. */
static uint32_t out_fill(struct sdc_dir *d)
{
	uint32_t space = 0;

	if (ring_writable(d->ctl, d->capacity, d->index, &space) < 0)
		return d->capacity;
	return d->capacity - space;
}

static uint32_t in_fill(struct sdc_dir *d)
{
	uint32_t fill = 0;

	if (ring_readable(d->ctl, d->capacity, d->index, &fill) < 0)
		return 0;
	return fill;
}

/*
 * Drops the oldest captured frames beyond the stream's input buffer, as a
 * device buffer of that size would have lost them, and flags an input
 * overflow for the next read or callback.  Returns the frames left.
 */
static uint32_t in_trim(sdc_stream *s)
{
	struct sdc_dir *d = &s->in;
	uint32_t fill = in_fill(d), drop;

	if (fill <= s->api->in_limit)
		return fill;
	drop = fill - s->api->in_limit;
	d->index += drop;
	d->position += drop;
	ring_consumed(d->ctl, d->index);
	s->dropped_in += drop;
	atomic_fetch_or_explicit(&s->hdr->pending_flags, SDC_INPUT_OVERFLOW, memory_order_relaxed);
	return s->api->in_limit;
}

/* Waits until the daemon has ended the stream (or gone away). */
static void wait_over(sdc_stream *s)
{
	while (!over(s))
		if (sdc__stream_sleep(s, 200) == -ECONNRESET)
			break;
}

/* Ends the stream in the daemon: drain (output) or abort. */
static void end_stream(sdc_stream *s, int abort)
{
	if (!over(s)) {
		if (abort || !s->out.used) {
			struct sdc_dir *d = s->out.used ? &s->out : &s->in;

			atomic_store_explicit(&d->ctl->abort, 1, memory_order_release);
		} else {
			atomic_store_explicit(&s->out.ctl->eof, 1, memory_order_release);
		}
	}
	wait_over(s);
}

static void call_finished(sdc_stream *s)
{
	struct api_stream *a = s->api;

	if (!a->finished_called && a->p.finished_callback) {
		a->finished_called = 1;
		/* A stream that failed (device_lost, …) ends with the reason as the last error. */
		sdc__stream_failure(s);
		a->p.finished_callback(a->p.userdata);
	}
}

/* Raises the calling thread to realtime priority where the system allows. */
static void try_realtime(void)
{
	struct sched_param sp = { .sched_priority = 10 };

	/* Without RLIMIT_RTPRIO or CAP_SYS_NICE this fails; the thread then runs as it is. */
	pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
}

/*
 * Waits at most timeout_ms until the daemon has published the clock that
 * stream_now() follows: the output's (a duplex stream's input may run
 * before its output does), the input's for an input stream.  A stop or
 * abort asked for meanwhile ends the wait.
 */
static void wait_clock(sdc_stream *s, int timeout_ms)
{
	struct timespec ms = { 0, 1000000 };
	int ref = s->out.used ? 0 : 1;

	for (int i = 0; i < timeout_ms && !over(s); i++) {
		double offset;

		/*
		 * Following the clock here keeps its offset: a later read that
		 * meets a publication half written answers from it, not from
		 * CLOCK_MONOTONIC.
		 */
		if (atomic_load(&s->api->request) != REQ_RUN ||
		    update_offset(s, ref, monotonic(), &offset))
			return;
		nanosleep(&ms, NULL);
	}
}

/* Calls the callback for n frames and queues what it produced. */
static int run_block(sdc_stream *s, uint32_t n, unsigned status)
{
	struct api_stream *a = s->api;
	sdc_time_info ti;
	double t0, t1, load, old;
	uint64_t bits;
	int r;

	ti.current_time = stream_now(s);
	ti.input_buffer_adc_time = time_of(s, &s->in, s->in.position, ti.current_time);
	ti.output_buffer_dac_time = time_of(s, &s->out, s->out.position, ti.current_time);
	if (s->in.used)
		sdc__stream_pull(&s->in, a->inbuf, n);
	if (s->out.used)
		memset(a->outbuf, 0, n * sdc__stream_frame_bytes(&s->out));
	t0 = monotonic();
	r = a->p.callback(s->in.used ? a->inbuf : NULL, s->out.used ? a->outbuf : NULL, n, &ti,
			  status, a->p.userdata);
	t1 = monotonic();
	if (r != SDC_ABORT && s->out.used)
		sdc__stream_push(&s->out, a->outbuf, n);
	/* PortAudio-style load: a smoothed fraction of the block's duration. */
	load = (t1 - t0) * s->samplerate / n;
	bits = atomic_load(&a->cpu_load_bits);
	memcpy(&old, &bits, sizeof(old));
	load = old > 0 ? 0.9 * old + 0.1 * load : load;
	memcpy(&bits, &load, sizeof(bits));
	atomic_store(&a->cpu_load_bits, bits);
	return r;
}

static void *callback_main(void *arg)
{
	sdc_stream *s = arg;
	struct api_stream *a = s->api;
	int result = a->primed_result;

	try_realtime();
	/*
	 * The first block waits for the stream's clock (within a device period:
	 * what was primed plays meanwhile), so that every time the callback is
	 * given is on it.
	 */
	wait_clock(s, CLOCK_WAIT_MS);
	/* A callback that ended the stream while priming is not called again. */
	while (result == SDC_CONTINUE && atomic_load(&a->request) == REQ_RUN && !over(s)) {
		uint32_t allow = UINT32_MAX, avail = UINT32_MAX, n;
		uint32_t need = a->blocksize ? (uint32_t)a->blocksize : 1;

		if (s->out.used) {
			uint32_t fill = out_fill(&s->out);

			allow = fill < a->target ? a->target - fill : 0;
		}
		if (s->in.used)
			avail = in_trim(s);
		n = allow < avail ? allow : avail;
		if (n < need) {
			/* Ask to be woken when a block is possible, then check once more. */
			if (s->out.used && allow < need)
				ring_wait_prepare(s->out.ctl, s->out.capacity - a->target + need);
			if (s->in.used && avail < need)
				ring_wait_prepare(s->in.ctl, need);
			n = UINT32_MAX;
			if (s->out.used) {
				uint32_t fill = out_fill(&s->out);

				n = fill < a->target ? a->target - fill : 0;
			}
			if (s->in.used && in_fill(&s->in) < n)
				n = in_fill(&s->in);
			if (n >= need) {
				if (s->out.used)
					ring_wait_cancel(s->out.ctl);
				if (s->in.used)
					ring_wait_cancel(s->in.ctl);
				continue;
			}
			if (sdc__stream_sleep(s, 200) == -ECONNRESET)
				break;
			continue;
		}
		n = a->blocksize ? (uint32_t)a->blocksize : (n < a->maxblock ? n : a->maxblock);
		result = run_block(s, n,
				   atomic_exchange_explicit(&s->hdr->pending_flags, 0, memory_order_relaxed));
		if (result != SDC_CONTINUE)
			break;
	}
	if (result == SDC_ABORT || atomic_load(&a->request) == REQ_ABORT)
		end_stream(s, 1);
	else
		end_stream(s, 0);
	call_finished(s);
	return NULL;
}

/*
 * The ring capacity to ask for: eight blocks, at least 16384 frames, and
 * twice the latency asked for (output_target() keeps at most half the ring
 * queued) or the input buffer asked for.  The rate is not known before the
 * daemon replies: the one asked for, else 48 kHz is assumed.
 */
static unsigned ring_frames(const sdc_client *c, const sdc_stream_params *p)
{
	double rate = p->samplerate > 0 ? p->samplerate
		      : c->defaults.samplerate > 0 ? c->defaults.samplerate : 48000;
	double latency = p->latency[1] != 0 ? p->latency[1] : c->defaults.latency[1];
	double frames = p->blocksize * 8.0;

	if (frames < 16384)
		frames = 16384;
	if (p->kind != SDC_STREAM_INPUT && latency > 0 && 2 * latency * rate > frames)
		frames = 2 * latency * rate;
	if (p->kind != SDC_STREAM_OUTPUT && 2.0 * p->input_buffer_frames > frames)
		frames = 2.0 * p->input_buffer_frames;
	return frames < (1u << 22) ? (unsigned)frames : 1u << 22;
}

/*
 * The frames the device stream of d takes or gives at once: the period the
 * daemon reported, else its latency, which in PortAudio's ALSA and JACK
 * host APIs spans at least one period.
 */
static uint32_t device_period(const sdc_stream *s, const struct sdc_dir *d)
{
	uint32_t period = d == &s->out ? s->period_out : s->period_in;
	double latency = d == &s->out ? s->latency_out : s->latency_in;

	if (period == 0 && latency > 0 && latency < 10)
		period = (uint32_t)(latency * s->samplerate + 0.5);
	if (period == 0)
		period = DEFAULT_GRANULE;
	return period < d->capacity / 4 ? period : d->capacity / 4;
}

/*
 * The fewest output frames to keep queued so that every device period
 * finds a whole period in the ring.  Blocks are queued while one fits
 * below the target, so before the device takes its period the fill is
 * more than the target less one block: with blocks that divide the period
 * the period itself is enough, else a period and a block.  Blocks of
 * variable size fill up to the target exactly.
 */
static uint32_t min_queue(const sdc_stream *s)
{
	uint32_t period = device_period(s, &s->out), block = (uint32_t)s->api->blocksize;

	if (block == 0 || (block <= period && period % block == 0))
		return period;
	return period + block;
}

/*
 * Resolves the latency for output: the frames kept queued ahead of the
 * device stream.  The device stream's own latency counts toward the
 * latency asked for ("high" is the device stream's, "low" nothing more),
 * so only the rest waits in the ring; but never less than min_queue(),
 * nor less than half the latency asked for: a callback has only what the
 * ring holds to be late by, where PortAudio's own has the whole latency.
 */
static uint32_t output_target(sdc_stream *s)
{
	struct api_stream *a = s->api;
	double req = a->p.latency[1] != 0 ? a->p.latency[1] : s->client->defaults.latency[1];
	double latency = req > 0 ? req : req == SDC_LATENCY_HIGH ? s->latency_out : 0;
	double rest = (latency - s->latency_out) * s->samplerate, half = latency / 2 * s->samplerate;
	uint32_t target = min_queue(s);

	if (rest > target)
		target = (uint32_t)(rest + 0.5);
	if (half > target)
		target = (uint32_t)(half + 0.5);
	if (target > s->out.capacity / 2)
		target = s->out.capacity / 2;
	return target;
}

/*
 * The input frames a stream keeps waiting (see input_buffer_frames).  A
 * duplex callback stream keeps at least what a callback that keeps up may
 * find there: input waits while the output target is queued, and arrives
 * a device period at a time.
 */
static uint32_t input_limit(sdc_stream *s)
{
	struct api_stream *a = s->api;
	uint32_t need = a->blocksize ? (uint32_t)a->blocksize : a->maxblock;
	uint32_t limit = a->p.input_buffer_frames > 0 ? a->p.input_buffer_frames : s->in.capacity;

	if (a->p.callback && s->out.used)
		need = a->target + device_period(s, &s->in) + 2 * need;
	if (limit < need)
		limit = need;
	return limit < s->in.capacity ? limit : s->in.capacity;
}

int sdc_stream_open(sdc_client *c, const sdc_stream_params *p, sdc_stream **ret)
{
	static const char *const kinds[] = { NULL, "input", "output", "duplex" };
	json_object *params, *pair;
	sdc_stream_options o = { 0 };
	struct api_stream *a;
	sdc_dtype dt[2];
	int in, out, r;
	sdc_stream *s;

	if (!c || !p || !ret || p->kind < SDC_STREAM_INPUT || p->kind > SDC_STREAM_DUPLEX ||
	    p->blocksize < 0 || p->blocksize > 65536)
		return sdc__error_set(-EINVAL, "invalid stream parameters");
	in = p->kind != SDC_STREAM_OUTPUT;
	out = p->kind != SDC_STREAM_INPUT;
	dt[0] = sdc__defaults_dtype(c, p->dtype[0], 0);
	dt[1] = sdc__defaults_dtype(c, p->dtype[1], 1);
	o.input_device = p->device[0];
	o.output_device = p->device[1];
	o.samplerate = p->samplerate;
	o.input_latency = p->latency[0];
	o.output_latency = p->latency[1];
	o.blocksize = p->blocksize;
	o.exclusive = p->exclusive;
	o.clip_off = p->clip_off;
	o.dither_off = p->dither_off;
	o.never_drop_input = p->never_drop_input;
	o.prime_output_buffers_using_stream_callback = p->prime_output_buffers_using_stream_callback;
	o.buffer_frames = ring_frames(c, p);
	params = json_object_new_object();
	sdc__defaults_options_json(c, params, &o, in, out);
	json_object_object_add(params, "kind", json_object_new_string(kinds[p->kind]));
	pair = json_object_new_array();
	for (int i = 0; i < 2; i++) {
		int ch = p->channels[i] > 0 ? p->channels[i] : c->defaults.channels[i];

		json_object_array_add(pair, ch > 0 ? json_object_new_int(ch) : NULL);
	}
	json_object_object_add(params, "channels", pair);
	pair = json_object_new_array();
	json_object_array_add(pair, json_object_new_string(sdc__dtype_wire_name(dt[0])));
	json_object_array_add(pair, json_object_new_string(sdc__dtype_wire_name(dt[1])));
	json_object_object_add(params, "dtype", pair);

	a = calloc(1, sizeof(*a));
	if (!a) {
		json_object_put(params);
		return sdc__error_set(-ENOMEM, "out of memory");
	}
	a->p = *p;
	for (int i = 0; i < 2; i++)
		if (p->device[i].by == SDC_DEVICE_BY_QUERY && p->device[i].query) {
			a->queries[i] = strdup(p->device[i].query);
			a->p.device[i].query = a->queries[i];
		}
	a->open_json = strdup(json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN));
	r = sdc__stream_open(c, "open_stream", params, dt[1], dt[0], &s);
	if (r < 0) {
		free(a->queries[0]);
		free(a->queries[1]);
		free(a->open_json);
		free(a);
		return r;
	}
	s->api = a;
	a->blocksize = p->blocksize;
	a->maxblock = p->blocksize ? (uint32_t)p->blocksize : SDC_MAX_VARIABLE_BLOCK;
	if (s->in.used)
		a->inbuf = malloc(a->maxblock * sdc__stream_frame_bytes(&s->in));
	if (s->out.used)
		a->outbuf = malloc(a->maxblock * sdc__stream_frame_bytes(&s->out) + 16);
	if ((s->in.used && !a->inbuf) || (s->out.used && !a->outbuf)) {
		sdc_stream_close(s);
		return sdc__error_set(-ENOMEM, "out of memory");
	}
	if (s->out.used) {
		a->target = output_target(s);
		a->start_frames = min_queue(s) < a->target ? min_queue(s) : a->target;
		s->out.fill_limit = a->target;
	}
	if (s->in.used)
		a->in_limit = input_limit(s);
	*ret = s;
	return 0;
}

/* Replaces a finished daemon stream by a new one with the same parameters. */
static int reopen(sdc_stream *s)
{
	struct api_stream *a = s->api;
	json_object *params = json_tokener_parse(a->open_json), *old = json_object_new_object();
	sdc_stream *fresh;
	int r;

	json_object_object_add(old, "handle", json_object_new_int64(s->handle));
	sdc__conn_request(s->client, "close", old, NULL, NULL, 0, NULL);
	r = sdc__stream_open(s->client, "open_stream", params, s->out.user_dtype, s->in.user_dtype,
			     &fresh);
	if (r < 0)
		return r;
	munmap(s->mem, s->size);
	close(s->memfd);
	close(s->eventfd);
	fresh->api = a;
	*s = *fresh;
	free(fresh);
	if (s->out.used)
		s->out.fill_limit = a->target;
	a->finished_called = 0;
	for (int i = 0; i < 2; i++) {
		atomic_store(&a->seen_bits[i], 0);
		atomic_store(&a->offset_bits[i], 0);
	}
	atomic_store(&a->last_now_bits, 0);
	a->have_in_to_out = 0;
	return 0;
}

/* Primes the output ring with up to target frames, the callback's or silence; returns how many. */
static uint32_t prime(sdc_stream *s)
{
	struct api_stream *a = s->api;
	uint32_t done = 0;

	while (done < a->target) {
		uint32_t n = a->target - done < a->maxblock ? a->target - done : a->maxblock;

		if (a->blocksize && n < (uint32_t)a->blocksize)
			break;
		if (a->p.callback && a->p.prime_output_buffers_using_stream_callback == SDC_YES &&
		    !s->in.used) {
			a->primed_result = run_block(s, n, SDC_PRIMING_OUTPUT);
			if (a->primed_result == SDC_ABORT)
				break;
			/* SDC_COMPLETE: this last block is queued and counts. */
			done += n;
			if (a->primed_result != SDC_CONTINUE)
				break;
		} else {
			memset(a->outbuf, s->out.user_dtype == SDC_UINT8 ? 0x80 : 0,
			       n * sdc__stream_frame_bytes(&s->out));
			sdc__stream_push(&s->out, a->outbuf, n);
			done += n;
		}
	}
	return done;
}

int sdc_stream_start(sdc_stream *s)
{
	struct api_stream *a;
	json_object *params;
	uint32_t start_frames;
	int r;

	if (!s || !s->api)
		return sdc__error_set(-EINVAL, "not a stream of sdc_stream_open()");
	a = s->api;
	if (a->started && !over(s))
		return sdc__error_set(-EALREADY, "the stream is already started");
	if (a->thread_running) {
		pthread_join(a->thread, NULL);
		a->thread_running = 0;
	}
	if (over(s) || sdc__stream_state(s) != SHM_STATE_PREFILL || s->out.position ||
	    s->in.position) {
		r = reopen(s);
		if (r < 0)
			return r;
	}
	atomic_store(&a->request, REQ_RUN);
	a->primed_result = SDC_CONTINUE;
	/*
	 * Output starts once what was primed or (blocking output streams) a
	 * device period is queued, as PortAudio's ALSA host API starts a
	 * blocking stream once a period is written.  A blocking duplex stream
	 * is primed with silence and starts at once, as PortAudio's does: its
	 * application may read before it writes, and its input must flow
	 * meanwhile.
	 */
	start_frames = s->out.used ? a->start_frames : 1;
	if (s->out.used && (a->p.callback || s->in.used)) {
		start_frames = prime(s);
		if (start_frames == 0)
			start_frames = 1;
	}
	params = json_object_new_object();
	json_object_object_add(params, "handle", json_object_new_int64(s->handle));
	json_object_object_add(params, "start_frames", json_object_new_int64(start_frames));
	r = sdc__conn_request(s->client, "start_stream", params, NULL, NULL, 0, NULL);
	if (r < 0)
		return r;
	a->started = 1;
	if (a->p.callback) {
		r = pthread_create(&a->thread, NULL, callback_main, s);
		if (r != 0) {
			end_stream(s, 1);
			a->started = 0;
			return sdc__error_set(-r, "cannot start the callback thread: %s",
					      strerror(r));
		}
		a->thread_running = 1;
	}
	/*
	 * As PortAudio's Pa_StartStream() (whose JACK host API waits for its
	 * first period), return once the stream's clock runs, so that its times
	 * are on the device's clock from the first: stream_now() answers from
	 * CLOCK_MONOTONIC before, and the stream time would go back when the
	 * clock came.  A blocking output stream starts with the application's
	 * first write: no wait.
	 */
	if (a->p.callback || s->in.used)
		wait_clock(s, CLOCK_WAIT_MS);
	return 0;
}

/* The common half of stop and abort. */
static int finish(sdc_stream *s, int request)
{
	struct api_stream *a;

	if (!s || !s->api)
		return sdc__error_set(-EINVAL, "not a stream of sdc_stream_open()");
	a = s->api;
	if (!a->started)
		return 0;
	if (a->thread_running) {
		uint64_t one = 1;
		ssize_t n;

		atomic_store(&a->request, request);
		/* Wake the thread if it sleeps on the eventfd. */
		n = write(s->eventfd, &one, sizeof(one));
		(void)n;
		pthread_join(a->thread, NULL);
		a->thread_running = 0;
	} else {
		end_stream(s, request == REQ_ABORT);
		call_finished(s);
	}
	a->started = 0;
	return 0;
}

int sdc_stream_stop(sdc_stream *s)
{
	return finish(s, REQ_STOP);
}

int sdc_stream_abort(sdc_stream *s)
{
	return finish(s, REQ_ABORT);
}

/* Stops (aborting) the stream, closes it in the daemon and frees the stream API's state. */
static void api_shutdown(sdc_stream *s)
{
	struct api_stream *a = s->api;
	json_object *params;

	finish(s, REQ_ABORT);
	params = json_object_new_object();
	json_object_object_add(params, "handle", json_object_new_int64(s->handle));
	sdc__conn_request(s->client, "close", params, NULL, NULL, 0, NULL);
	free(a->queries[0]);
	free(a->queries[1]);
	free(a->open_json);
	free(a->inbuf);
	free(a->outbuf);
	free(a);
	s->api = NULL;
}

void sdc_stream_close(sdc_stream *s)
{
	if (!s)
		return;
	if (s->api)
		api_shutdown(s);
	sdc__stream_free(s);
}

/*
 * True once the daemon has hung up the stream's connection: the state in
 * shared memory will never change again (a killed daemon does not finish
 * its streams).
 */
static int daemon_gone(const sdc_stream *s)
{
	struct pollfd p = { .fd = s->sockfd, .events = 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

int sdc_stream_active(sdc_stream *s)
{
	if (!s || !s->api)
		return 0;
	return s->api->started && !over(s) && !daemon_gone(s);
}

int sdc_stream_stopped(const sdc_stream *s)
{
	return !s || !s->api || !s->api->started;
}

int sdc_stream_blocksize(const sdc_stream *s)
{
	return s && s->api ? s->api->blocksize : 0;
}

int sdc_stream_device(const sdc_stream *s, sdc_kind kind)
{
	if (!s)
		return -1;
	return kind == SDC_KIND_INPUT ? s->device_in : s->device_out;
}

size_t sdc_stream_samplesize(const sdc_stream *s, sdc_kind kind)
{
	const struct sdc_dir *d;

	if (!s)
		return 0;
	d = kind == SDC_KIND_INPUT ? &s->in : &s->out;
	return d->used ? sdc_dtype_size(d->user_dtype) : 0;
}

double sdc_stream_latency(const sdc_stream *s, sdc_kind kind)
{
	if (!s)
		return 0;
	if (kind == SDC_KIND_INPUT)
		return s->latency_in;
	/* Output waits in our ring (at most fill_limit frames) before the device's buffer. */
	return s->latency_out + (s->out.used ? s->out.fill_limit / s->samplerate : 0);
}

double sdc_stream_time(const sdc_stream *s)
{
	return s && s->api ? stream_now((sdc_stream *)s) : 0;
}

double sdc_stream_cpu_load(const sdc_stream *s)
{
	uint64_t bits;
	double load;

	if (!s || !s->api)
		return 0;
	bits = atomic_load(&s->api->cpu_load_bits);
	memcpy(&load, &bits, sizeof(load));
	return load;
}

long long sdc_stream_read_available(const sdc_stream *s)
{
	if (!s || !s->in.used)
		return 0;
	/* Frames beyond the input buffer are as good as lost: drop them now. */
	return s->api ? (long long)in_trim((sdc_stream *)s) : (long long)in_fill((struct sdc_dir *)&s->in);
}

long long sdc_stream_write_available(const sdc_stream *s)
{
	uint32_t fill;

	if (!s || !s->out.used)
		return 0;
	fill = out_fill((struct sdc_dir *)&s->out);
	return fill < s->out.fill_limit ? (long long)(s->out.fill_limit - fill) : 0;
}

long long sdc_stream_read_checked(sdc_stream *s, void *buffer, size_t frames, int *ret_overflowed)
{
	long long n;
	uint32_t flags;

	if (!s || !s->in.used)
		return sdc__error_set(-EINVAL, "the stream has no input");
	if (s->api)
		in_trim(s);
	flags = atomic_fetch_and(&s->hdr->pending_flags,
				 ~(unsigned)(SDC_INPUT_OVERFLOW | SDC_INPUT_UNDERFLOW));
	n = sdc_stream_read(s, buffer, frames);
	if (ret_overflowed)
		*ret_overflowed = !!(flags & SDC_INPUT_OVERFLOW);
	return n;
}

long long sdc_stream_write_checked(sdc_stream *s, const void *data, size_t frames,
				   int *ret_underflowed)
{
	long long n;
	uint32_t flags;

	if (!s || !s->out.used)
		return sdc__error_set(-EINVAL, "the stream has no output");
	flags = atomic_fetch_and(&s->hdr->pending_flags,
				 ~(unsigned)(SDC_OUTPUT_UNDERFLOW | SDC_OUTPUT_OVERFLOW));
	n = sdc_stream_write(s, data, frames);
	if (ret_underflowed)
		*ret_underflowed = !!(flags & SDC_OUTPUT_UNDERFLOW);
	return n;
}
