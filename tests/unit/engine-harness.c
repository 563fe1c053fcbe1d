/*
 * The engine's unit tests' harness: see engine-harness.h.  Test thread
 * only.
 */
#include "engine-harness.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "ring.h"
#include "routes.h"
#include "sample.h"

const struct fake_device devices[DEV_COUNT_] = {
	[DEV_OUT] = { "speakers", 0, 2, 48000 },
	[DEV_IN] = { "microphone", 2, 0, 48000 },
	[DEV_BOTH] = { "interface", 2, 2, 48000 },
	[DEV_CD] = { "cd-rate card", 2, 2, 44100 },	     /* takes 48 kHz too */
	[DEV_FIXED] = { "fixed-rate card", 2, 2, 96000, true }, /* takes only 96 kHz */
	[DEV_LOOP] = { "looped interface", 2, 2, 48000 },    /* output looped to input */
};

struct harness T;

static void on_finished(void *data, struct stream *s)
{
	struct finished *f = &T.finished[T.nfinished++ % 64];

	f->handle = s->handle;
	f->state = atomic_load(&s->state);
	snprintf(f->code, sizeof(f->code), "%s", s->error_code);
	if (s->handle == T.release_on_finish)
		engine_stream_release(&T.e, s);
}

static void on_xruns(void *data, struct stream *s, bool input, const struct stream_xrun *x,
		     unsigned count, uint32_t unreported)
{
	for (unsigned i = 0; i < count; i++)
		T.xruns[T.nxruns++ % 256] = (struct xrun){ s->handle, input, x[i].position, x[i].flags };
	T.unreported += unreported;
}

static void on_lost(void *data, const struct engine_device_event *ev)
{
	T.lost = *ev;
	snprintf(T.lost_reason, sizeof(T.lost_reason), "%s", ev->reason);
	T.lost.reason = T.lost_reason;
	T.nlost++;
}

/* Makes a fresh engine on a fresh fake backend, threaded or not, with opt's timeouts. */
static void setup_engine(bool threaded, const struct engine_options *opt)
{
	memset(&T, 0, sizeof(T));
	uv_loop_init(&T.loop);
	T.fb = fake_backend_new(devices, (int)(sizeof(devices) / sizeof(devices[0])));
	fake_loopback(T.fb, DEV_LOOP, LOOP_PERIODS);
	fake_set_threaded(T.fb, threaded);
	T.default_rate = 48000;
	T.max_resamplers = ENGINE_MAX_RESAMPLERS;
	devices_init(&T.devs, fake_backend_get(T.fb));
	engine_init(&T.e, &(struct engine_config){
				  .loop = &T.loop,
				  .backend = fake_backend_get(T.fb),
				  .devices = &T.devs,
				  .opt = { .device_idle_time = &T.idle_time,
					   .default_samplerate = &T.default_rate,
					   .max_resamplers = &T.max_resamplers,
					   .start_timeout = opt ? opt->start_timeout : NULL,
					   .close_timeout_ms = opt ? opt->close_timeout_ms : 0 },
				  .cb = { on_finished, on_xruns, on_lost, NULL },
			  });
}

void setup(void)
{
	setup_engine(false, NULL);
}

void setup_threaded(unsigned start_timeout_ms, unsigned close_timeout_ms)
{
	/* The daemon's setting, in seconds, as the engine reads it. */
	static double start_timeout;

	start_timeout = start_timeout_ms / 1000.0;
	setup_engine(true, &(struct engine_options){
				   .start_timeout = start_timeout_ms ? &start_timeout : NULL,
				   .close_timeout_ms = close_timeout_ms,
			   });
}

bool run_until(bool (*cond)(void), int timeout_ms)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		uv_run(&T.loop, UV_RUN_NOWAIT);
		if (cond())
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >
		    timeout_ms)
			return false;
		usleep(1000);
	}
}

/* Lets the loop handle what the audio callbacks posted (and 0 ms timers). */
void pump(void)
{
	for (int i = 0; i < 4; i++)
		uv_run(&T.loop, UV_RUN_NOWAIT);
}

int harness_teardown(void)
{
	int r;

	engine_fini(&T.e);
	uv_run(&T.loop, UV_RUN_DEFAULT);
	r = uv_loop_close(&T.loop);
	devices_fini(&T.devs);
	fake_backend_free(T.fb);
	return r;
}

/* Makes and starts a stream as the command layer would; NULL (reported) on failure. */
struct stream *start(const struct spec *sp, struct proto_error *err)
{
	bool play = sp->kind != STREAM_REC, rec = sp->kind != STREAM_PLAY;
	struct stream *s = engine_stream_new(&T.e, sp->kind);
	struct engine_req req = {
		.in = { .device = rec ? sp->device : -1 },
		.out = { .device = play ? sp->device : -1 },
		.samplerate = sp->rate,
		.exclusive = sp->exclusive,
	};
	int64_t frames = sp->frames ? sp->frames : -1;

	s->autostart = true;
	s->clip_off = sp->clip_off;
	for (int i = 0; i < 2; i++) {
		struct stream_dir *d = i ? &s->in : &s->out;

		if (!(i ? rec : play))
			continue;
		d->used = true;
		d->channels = sp->channels;
		d->dtype = sp->dtype;
		if (i == 0)
			routes_output(d, sp->map, sp->nmap, devices[sp->device].max_output_channels,
				      !sp->exclusive, err);
		else
			routes_input(d, sp->map, sp->nmap);
		routes_size_ring(d, sp->buffer_frames, frames, RATE, i == 0);
		d->limit = frames;
	}
	if (play)
		s->start_frames = frames > 0 && frames < s->out.capacity ? (uint32_t)frames
									  : s->out.capacity;
	if (engine_stream_start(&T.e, s, &req, err) < 0) {
		engine_stream_release(&T.e, s);
		return NULL;
	}
	return s;
}

struct stream *start_ok(const struct spec *sp)
{
	struct proto_error err = { 0 };
	struct stream *s = start(sp, &err);

	if (!s)
		printf("# cannot start a stream: %s\n", err.message);
	return s;
}

/* The client's part: writes n frames into the playback ring. */
void put(struct stream *s, const void *frames, uint32_t n)
{
	struct stream_dir *d = &s->out;
	uint32_t w = atomic_load(&d->ctl->write_index), offset, first, second;

	ring_spans(w, n, d->capacity, &offset, &first, &second);
	memcpy(d->data + (size_t)offset * d->frame_bytes, frames, (size_t)first * d->frame_bytes);
	memcpy(d->data, (const unsigned char *)frames + (size_t)first * d->frame_bytes,
	       (size_t)second * d->frame_bytes);
	ring_produced(d->ctl, w + n);
}

/* The client's part: reads up to max frames from the capture ring; returns how many. */
uint32_t take(struct stream *s, void *buf, uint32_t max)
{
	struct stream_dir *d = &s->in;
	uint32_t r = atomic_load(&d->ctl->read_index), fill = 0, offset, first, second;

	ring_readable(d->ctl, d->capacity, r, &fill);
	if (fill > max)
		fill = max;
	ring_spans(r, fill, d->capacity, &offset, &first, &second);
	memcpy(buf, d->data + (size_t)offset * d->frame_bytes, (size_t)first * d->frame_bytes);
	memcpy((unsigned char *)buf + (size_t)first * d->frame_bytes, d->data,
	       (size_t)second * d->frame_bytes);
	ring_consumed(d->ctl, r + fill);
	return fill;
}

const struct finished *finished_of(uint32_t handle)
{
	for (int i = 0; i < T.nfinished; i++)
		if (T.finished[i].handle == handle)
			return &T.finished[i];
	return NULL;
}

/* The float32 stereo tap of device stream fs, from frame from on; *ret_frames after it. */
const float *tap_from(struct fake_stream *fs, size_t from, size_t *ret_frames)
{
	size_t n;
	const float *tap = fake_tap(fs, &n);

	*ret_frames = n > from ? n - from : 0;
	return tap + from * 2;
}

