/*
 * The fake device backend of the engine's unit tests; see fake-backend.h.
 * Test thread only.
 */
#include "fake-backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

/* PortAudio's numbers for the errors the fake reports, so that messages read alike. */
#define FAKE_E_INVALID_DEVICE (-9996)
#define FAKE_E_INVALID_CHANNELS (-9998)
#define FAKE_E_INVALID_RATE (-9997)
#define FAKE_E_NOT_STOPPED (-9982)

/* The most injected periods a stream remembers. */
#define FAKE_MAX_INJECTED 16

struct capture {
	float *samples;
	size_t frames;
	int channels;
};

struct fake_stream {
	struct backend_stream base;
	struct fake_backend *fb;
	struct fake_stream *next;
	struct backend_params p;
	struct backend_callbacks cb;
	unsigned long period; /* frames */
	bool started;
	bool stalled;
	bool closed;
	uint64_t periods;
	uint64_t captured; /* frames read from the capture buffer */
	unsigned char *tap;
	size_t tap_frames, tap_capacity;
	struct injection {
		uint64_t period;
		uint32_t flags;
	} injected[FAKE_MAX_INJECTED];
	int ninjected;
};

struct fake_backend {
	struct backend base;
	struct fake_device *devices;
	int count;
	bool *lost;
	int *loopback; /* periods of each device's loop from output to input; 0: none */
	struct capture *capture;
	struct fake_stream *streams; /* newest first, closed ones too */
	unsigned opened, closed;
	bool initialized;
};

static struct fake_backend *of(struct backend *b)
{
	return (struct fake_backend *)b;
}

static int fail(struct backend_error *err, int code, const char *text)
{
	*err = (struct backend_error){ .code = code, .host_api = -1 };
	snprintf(err->text, sizeof(err->text), "%s", text);
	return -EINVAL;
}

static int fake_init(struct backend *b, struct backend_error *err)
{
	of(b)->initialized = true;
	return 0;
}

static void fake_fini(struct backend *b)
{
	of(b)->initialized = false;
}

static int fake_enumerate(struct backend *b, struct backend_devlist *l)
{
	struct fake_backend *fb = of(b);

	*l = (struct backend_devlist){ .default_input = -1, .default_output = -1 };
	l->dev = calloc((size_t)fb->count + 1, sizeof(*l->dev));
	l->api = calloc(1, sizeof(*l->api));
	if (!l->dev || !l->api)
		goto oom;
	l->api_count = 1;
	l->api[0] = (struct hostapi_info){ .name = strdup("Fake"), .type = 0,
					   .default_input_device = -1,
					   .default_output_device = -1 };
	l->api[0].devices = calloc((size_t)fb->count + 1, sizeof(int));
	if (!l->api[0].name || !l->api[0].devices)
		goto oom;
	for (int i = 0; i < fb->count; i++) {
		const struct fake_device *f = &fb->devices[i];

		l->dev[i] = (struct device_info){
			.name = strdup(f->name),
			.hostapi = 0,
			.max_input_channels = f->max_input_channels,
			.max_output_channels = f->max_output_channels,
			.default_low_input_latency = 0.005,
			.default_low_output_latency = 0.005,
			.default_high_input_latency = 0.02,
			.default_high_output_latency = 0.02,
			.default_samplerate = f->default_samplerate,
		};
		l->count = i + 1;
		if (!l->dev[i].name)
			goto oom;
		l->api[0].devices[l->api[0].device_count++] = i;
		if (f->max_input_channels > 0 && l->default_input < 0)
			l->default_input = l->api[0].default_input_device = i;
		if (f->max_output_channels > 0 && l->default_output < 0)
			l->default_output = l->api[0].default_output_device = i;
	}
	return 0;
oom:
	backend_devlist_free(l);
	return -ENOMEM;
}

/* Checks one direction of p against the devices. */
static int check_dir(struct fake_backend *fb, int device, int channels, bool output,
		     struct backend_error *err)
{
	if (device < 0)
		return 0;
	if (device >= fb->count || fb->lost[device])
		return fail(err, FAKE_E_INVALID_DEVICE, "Invalid device");
	if (channels < 1 || channels > (output ? fb->devices[device].max_output_channels
					       : fb->devices[device].max_input_channels))
		return fail(err, FAKE_E_INVALID_CHANNELS, "Invalid number of channels");
	return 0;
}

static int fake_check(struct backend *b, const struct backend_params *p, struct backend_error *err)
{
	struct fake_backend *fb = of(b);

	if (check_dir(fb, p->device_in, p->channels_in, false, err) < 0 ||
	    check_dir(fb, p->device_out, p->channels_out, true, err) < 0)
		return -EINVAL;
	/* The fake devices run at their default rate, and at 44.1 and 48 kHz unless fixed. */
	{
		int dev = p->device_out >= 0 ? p->device_out : p->device_in;
		bool common = !fb->devices[dev].fixed_rate &&
			      (p->samplerate == 44100 || p->samplerate == 48000);

		if (!common && p->samplerate != fb->devices[dev].default_samplerate)
			return fail(err, FAKE_E_INVALID_RATE, "Invalid sample rate");
	}
	return 0;
}

static int fake_open(struct backend *b, const struct backend_params *p,
		     const struct backend_callbacks *cb, struct backend_stream **ret,
		     struct backend_error *err)
{
	struct fake_backend *fb = of(b);
	struct fake_stream *s;

	if (fake_check(b, p, err) < 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return fail(err, -9992, "Insufficient memory");
	s->base.backend = b;
	s->fb = fb;
	s->p = *p;
	s->cb = *cb;
	s->period = p->blocksize ? p->blocksize : FAKE_DEFAULT_BLOCKSIZE;
	s->next = fb->streams;
	fb->streams = s;
	fb->opened++;
	*ret = &s->base;
	return 0;
}

static int fake_start(struct backend_stream *bs, struct backend_error *err)
{
	struct fake_stream *s = (struct fake_stream *)bs;

	if (s->started)
		return fail(err, FAKE_E_NOT_STOPPED, "Stream is not stopped");
	if ((s->p.device_in >= 0 && s->fb->lost[s->p.device_in]) ||
	    (s->p.device_out >= 0 && s->fb->lost[s->p.device_out]))
		return fail(err, FAKE_E_INVALID_DEVICE, "Invalid device");
	s->started = true;
	return 0;
}

/* Makes a running stream inactive and says so, as PortAudio does. */
static void finish(struct fake_stream *s)
{
	if (!s->started)
		return;
	s->started = false;
	s->cb.finished(s->cb.data);
}

static int fake_stop(struct backend_stream *bs)
{
	finish((struct fake_stream *)bs);
	return 0;
}

static int fake_abort(struct backend_stream *bs)
{
	finish((struct fake_stream *)bs);
	return 0;
}

/* A closed stream stays in the list, and its tap readable, until the backend is freed. */
static void fake_close(struct backend_stream *bs)
{
	struct fake_stream *s = (struct fake_stream *)bs;

	s->started = false;
	s->closed = true;
	s->fb->closed++;
}

static double fake_time(struct backend_stream *bs)
{
	struct fake_stream *s = (struct fake_stream *)bs;

	return (double)(s->periods * s->period) / s->p.samplerate;
}

static double fake_cpu_load(struct backend_stream *bs)
{
	return 0;
}

static void fake_info(struct backend_stream *bs, struct backend_stream_info *ret)
{
	struct fake_stream *s = (struct fake_stream *)bs;

	int loop = s->p.device_out >= 0 ? s->fb->loopback[s->p.device_out] : 0;

	*ret = (struct backend_stream_info){ .samplerate = s->p.samplerate,
					     .latency_in = loop ? 0 : s->p.latency_in,
					     .latency_out = loop ? (double)loop * (double)s->period /
									   s->p.samplerate
								 : s->p.latency_out };
}

static int fake_version(struct backend *b, const char **ret_text)
{
	*ret_text = "fake backend 1.0";
	return 1;
}

static const struct backend_ops fake_ops = {
	.name = "Fake",
	.init = fake_init,
	.fini = fake_fini,
	.enumerate = fake_enumerate,
	.check = fake_check,
	.open = fake_open,
	.start = fake_start,
	.stop = fake_stop,
	.abort = fake_abort,
	.close = fake_close,
	.time = fake_time,
	.cpu_load = fake_cpu_load,
	.info = fake_info,
	.version = fake_version,
};

struct fake_backend *fake_backend_new(const struct fake_device *devices, int count)
{
	struct fake_backend *fb = calloc(1, sizeof(*fb));

	if (!fb)
		return NULL;
	fb->base.ops = &fake_ops;
	fb->count = count;
	fb->devices = calloc((size_t)count, sizeof(*fb->devices));
	fb->lost = calloc((size_t)count, sizeof(*fb->lost));
	fb->capture = calloc((size_t)count, sizeof(*fb->capture));
	fb->loopback = calloc((size_t)count, sizeof(*fb->loopback));
	if (!fb->devices || !fb->lost || !fb->capture || !fb->loopback) {
		fake_backend_free(fb);
		return NULL;
	}
	memcpy(fb->devices, devices, sizeof(*devices) * (size_t)count);
	return fb;
}

void fake_backend_free(struct fake_backend *fb)
{
	if (!fb)
		return;
	while (fb->streams) {
		struct fake_stream *s = fb->streams;

		fb->streams = s->next;
		free(s->tap);
		free(s);
	}
	for (int i = 0; fb->capture && i < fb->count; i++)
		free(fb->capture[i].samples);
	free(fb->capture);
	free(fb->loopback);
	free(fb->lost);
	free(fb->devices);
	free(fb);
}

struct backend *fake_backend_get(struct fake_backend *fb)
{
	return &fb->base;
}

unsigned fake_opened(const struct fake_backend *fb)
{
	return fb->opened;
}

unsigned fake_closed(const struct fake_backend *fb)
{
	return fb->closed;
}

struct fake_stream *fake_stream_on(struct fake_backend *fb, int device, bool output)
{
	for (struct fake_stream *s = fb->streams; s; s = s->next)
		if (!s->closed && (output ? s->p.device_out : s->p.device_in) == device)
			return s;
	return NULL;
}

const struct backend_params *fake_params(const struct fake_stream *s)
{
	return &s->p;
}

uint64_t fake_periods(const struct fake_stream *s)
{
	return s->periods;
}

const void *fake_tap(const struct fake_stream *s, size_t *ret_frames)
{
	*ret_frames = s->tap_frames;
	return s->tap;
}

void fake_set_capture(struct fake_backend *fb, int device, const float *samples, size_t frames,
		      int channels)
{
	struct capture *c = &fb->capture[device];

	free(c->samples);
	c->samples = malloc(sizeof(float) * frames * (size_t)channels + 1);
	memcpy(c->samples, samples, sizeof(float) * frames * (size_t)channels);
	c->frames = frames;
	c->channels = channels;
}

void fake_loopback(struct fake_backend *fb, int device, int periods)
{
	fb->loopback[device] = periods;
}

void fake_inject(struct fake_stream *s, uint64_t period, uint32_t flags)
{
	if (s->ninjected < FAKE_MAX_INJECTED)
		s->injected[s->ninjected++] = (struct injection){ period, flags };
}

void fake_stall(struct fake_stream *s, bool stalled)
{
	s->stalled = stalled;
}

void fake_lose_device(struct fake_backend *fb, int device)
{
	fb->lost[device] = true;
	for (struct fake_stream *s = fb->streams; s; s = s->next)
		if (s->p.device_in == device || s->p.device_out == device)
			finish(s);
}

/* Fills a period's input from what the stream played loop periods ago (float32 both ways). */
static void fill_looped(struct fake_stream *s, unsigned char *in, int loop)
{
	size_t frame_in = sizeof(float) * (size_t)s->p.channels_in;
	size_t frame_out = sizeof(float) * (size_t)s->p.channels_out;

	memset(in, 0, s->period * frame_in);
	if (s->periods < (uint64_t)loop)
		return;
	for (unsigned long f = 0; f < s->period; f++) {
		size_t at = (size_t)(s->periods - (uint64_t)loop) * s->period + f;

		for (int ch = 0; ch < s->p.channels_in && ch < s->p.channels_out; ch++)
			memcpy(in + f * frame_in + (size_t)ch * sizeof(float),
			       s->tap + at * frame_out + (size_t)ch * sizeof(float), sizeof(float));
	}
}

/* Fills a period's input from the capture buffer, in the stream's format. */
static void fill_input(struct fake_stream *s, unsigned char *in)
{
	const struct capture *c = &s->fb->capture[s->p.device_in];
	size_t size = sample_format_size(s->p.format_in), frame = size * (size_t)s->p.channels_in;
	float silence = 0;

	for (unsigned long f = 0; f < s->period; f++, s->captured++)
		for (int ch = 0; ch < s->p.channels_in; ch++) {
			const float *v = s->captured < c->frames && ch < c->channels
						 ? &c->samples[s->captured * (size_t)c->channels +
							       (size_t)ch]
						 : &silence;

			sample_from_float(s->p.format_in, v, 1, in + f * frame + (size_t)ch * size,
					  size, 1);
		}
}

/* Appends a period's output to the tap. */
static void keep_output(struct fake_stream *s, const unsigned char *out)
{
	size_t frame = sample_format_size(s->p.format_out) * (size_t)s->p.channels_out;

	if (s->tap_frames + s->period > s->tap_capacity) {
		size_t cap = s->tap_capacity ? s->tap_capacity * 2 : 16384;

		while (cap < s->tap_frames + s->period)
			cap *= 2;
		s->tap = realloc(s->tap, cap * frame);
		s->tap_capacity = cap;
	}
	memcpy(s->tap + s->tap_frames * frame, out, s->period * frame);
	s->tap_frames += s->period;
}

/* Runs one period; returns false when the stream did not run. */
static bool run_period(struct fake_stream *s)
{
	size_t in_bytes = s->p.device_in >= 0
				  ? sample_format_size(s->p.format_in) * (size_t)s->p.channels_in * s->period
				  : 0;
	size_t out_bytes = s->p.device_out >= 0 ? sample_format_size(s->p.format_out) *
							  (size_t)s->p.channels_out * s->period
						: 0;
	unsigned char *in = in_bytes ? malloc(in_bytes) : NULL;
	unsigned char *out = out_bytes ? malloc(out_bytes) : NULL;
	double now = fake_time(&s->base);
	struct backend_times t = { .input_adc = now, .output_dac = now, .now = now };
	uint32_t status = 0;
	enum backend_result r;

	if (!s->started || s->stalled)
		goto out;
	if (in && s->p.device_out >= 0 && s->fb->loopback[s->p.device_out])
		fill_looped(s, in, s->fb->loopback[s->p.device_out]);
	else if (in)
		fill_input(s, in);
	/* What the callback does not write must not pass for silence. */
	if (out)
		memset(out, 0x7f, out_bytes);
	for (int i = 0; i < s->ninjected; i++)
		if (s->injected[i].period == s->periods)
			status |= s->injected[i].flags;
	r = s->cb.process(s->cb.data, in, out, s->period, &t, status);
	s->periods++;
	if (out)
		keep_output(s, out);
	free(in);
	free(out);
	if (r == BACKEND_COMPLETE)
		finish(s);
	return true;
out:
	free(in);
	free(out);
	return false;
}

int fake_run(struct fake_stream *s, int n)
{
	int done = 0;

	while (done < n && run_period(s))
		done++;
	return done;
}

void fake_run_all(struct fake_backend *fb, int n)
{
	for (int i = 0; i < n; i++)
		for (struct fake_stream *s = fb->streams; s; s = s->next)
			run_period(s);
}
