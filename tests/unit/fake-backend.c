/*
 * The fake device backend of the engine's unit tests; see fake-backend.h.
 * Test thread, but for the stream calls (start, stop, abort, close) of a
 * threaded fake, which run on the engine's worker threads: they, the
 * periods the test runs and what the test reads of the streams' state
 * take the fake's lock.
 */
#include "fake-backend.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sample.h"

/* PortAudio's numbers for the errors the fake reports, so that messages read alike. */
#define FAKE_E_INVALID_DEVICE (-9996)
#define FAKE_E_INVALID_CHANNELS (-9998)
#define FAKE_E_INVALID_RATE (-9997)
#define FAKE_E_NOT_STOPPED (-9982)

/* The most injected periods a stream remembers. */
#define FAKE_MAX_INJECTED 16

/* The most devices a fake backend has ever had (added ones included). */
#define FAKE_MAX_DEVICES 32

struct capture {
	float *samples;
	size_t frames;
	int channels;
};

struct fake_stream {
	struct backend_stream base;
	struct fake_backend *fb;
	struct fake_stream *next;
	struct backend_params p; /* as opened: the daemon's device indices */
	int dev_in, dev_out;	 /* the fake's own indices of p's devices; -1: none */
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

/* One device of the fake, as the test describes it and as its life went. */
struct fake_slot {
	struct fake_device d;
	char uid[160];
	bool present; /* it exists: a probe lists it */
	bool known;   /* the running backend listed it at its last init */
	bool lost;    /* its streams ended by themselves; it cannot be opened */
	bool stale;   /* it came back, but the running backend opens it only after init */
	int loopback; /* periods of its loop from output to input; 0: none */
};

/* How the daemon's device i is bound: the fake's index, or -1. */
struct fake_binding {
	int index;
	enum backend_binding binding;
};

struct fake_backend {
	struct backend base;
	struct fake_slot *devices;
	int count;
	struct capture *capture;
	struct fake_stream *streams; /* newest first, closed ones too */
	unsigned opened, closed, inits, checked;
	bool initialized;
	struct fake_binding *bound;
	int bound_count;
	backend_probe_fn probe_done; /* a probe waits for fake_probe_finish() */
	void *probe_data;
	unsigned probes;
	void (*notify)(void *data);
	void *notify_data;
	/* Threaded fakes: the stream calls of worker threads, and those made to block. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned blocked;		  /* FAKE_CALL_* bits */
	unsigned waiting[FAKE_CALL_COUNT_]; /* calls blocked now, by kind */
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
	struct fake_backend *fb = of(b);

	fb->initialized = true;
	fb->inits++;
	for (int i = 0; i < fb->count; i++) {
		fb->devices[i].known = fb->devices[i].present;
		fb->devices[i].stale = false;
		if (fb->devices[i].present)
			fb->devices[i].lost = false;
	}
	return 0;
}

static void fake_fini(struct backend *b)
{
	struct fake_backend *fb = of(b);

	fb->initialized = false;
	free(fb->bound);
	fb->bound = NULL;
	fb->bound_count = 0;
}

/* Lists the devices that exist now (all of them: the running list, or a probe's). */
static int list_devices(struct fake_backend *fb, bool only_known, struct backend_devlist *l)
{
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
		const struct fake_slot *f = &fb->devices[i];
		struct device_info *d = &l->dev[l->count];

		if (!f->present || (only_known && !f->known))
			continue;
		*d = (struct device_info){
			.name = strdup(f->d.name),
			.uid = strdup(f->uid),
			.locator = f->d.by_name ? strdup(f->d.name) : NULL,
			.hostapi = 0,
			.max_input_channels = f->d.max_input_channels,
			.max_output_channels = f->d.max_output_channels,
			.default_low_input_latency = 0.005,
			.default_low_output_latency = 0.005,
			.default_high_input_latency = 0.02,
			.default_high_output_latency = 0.02,
			.default_samplerate = f->d.default_samplerate,
		};
		l->count++;
		if (!d->name || !d->uid || (f->d.by_name && !d->locator))
			goto oom;
		l->api[0].devices[l->api[0].device_count++] = l->count - 1;
		if (f->d.max_input_channels > 0 && l->default_input < 0)
			l->default_input = l->api[0].default_input_device = l->count - 1;
		if (f->d.max_output_channels > 0 && l->default_output < 0)
			l->default_output = l->api[0].default_output_device = l->count - 1;
	}
	return 0;
oom:
	backend_devlist_free(l);
	return -ENOMEM;
}

static int fake_enumerate(struct backend *b, struct backend_devlist *l)
{
	return list_devices(of(b), true, l);
}

static int fake_bind(struct backend *b, const struct device_info *dev, int count,
		     enum backend_binding *ret)
{
	struct fake_backend *fb = of(b);
	struct fake_binding *bound = calloc((size_t)count + 1, sizeof(*bound));

	if (!bound)
		return -ENOMEM;
	for (int i = 0; i < count; i++) {
		struct fake_binding *x = &bound[i];

		*x = (struct fake_binding){ .index = -1, .binding = BACKEND_UNBOUND };
		for (int j = 0; j < fb->count && x->index < 0 && !dev[i].gone; j++)
			if (fb->devices[j].present && strcmp(fb->devices[j].uid, dev[i].uid) == 0)
				x->index = j;
		if (x->index >= 0) {
			const struct fake_slot *f = &fb->devices[x->index];

			x->binding = f->known && f->stale ? BACKEND_NEEDS_REINIT_LOST
				     : f->known	     ? BACKEND_BOUND
				     : f->d.by_name  ? BACKEND_BY_NAME
						     : BACKEND_NEEDS_REINIT;
		}
		ret[i] = x->binding;
	}
	free(fb->bound);
	fb->bound = bound;
	fb->bound_count = count;
	return 0;
}

/* The fake's index of the daemon's device, or -1 when the running backend cannot open it. */
static int openable(struct fake_backend *fb, int device)
{
	const struct fake_binding *x;

	if (device < 0 || device >= fb->bound_count)
		return -1;
	x = &fb->bound[device];
	return x->binding == BACKEND_BOUND || x->binding == BACKEND_BY_NAME ? x->index : -1;
}

/* Checks one direction of p against the devices. */
static int check_dir(struct fake_backend *fb, int device, int channels, bool output,
		     struct backend_error *err)
{
	int i = openable(fb, device);

	if (device < 0)
		return 0;
	if (i < 0 || fb->devices[i].lost || !fb->devices[i].present)
		return fail(err, FAKE_E_INVALID_DEVICE, "Invalid device");
	if (channels < 1 || channels > (output ? fb->devices[i].d.max_output_channels
					       : fb->devices[i].d.max_input_channels))
		return fail(err, FAKE_E_INVALID_CHANNELS, "Invalid number of channels");
	return 0;
}

static int check_params(struct backend *b, const struct backend_params *p,
			struct backend_error *err)
{
	struct fake_backend *fb = of(b);

	if (check_dir(fb, p->device_in, p->channels_in, false, err) < 0 ||
	    check_dir(fb, p->device_out, p->channels_out, true, err) < 0)
		return -EINVAL;
	/* The fake devices run at their default rate, and at 44.1 and 48 kHz unless fixed. */
	{
		int dev = openable(fb, p->device_out >= 0 ? p->device_out : p->device_in);
		bool common = !fb->devices[dev].d.fixed_rate &&
			      (p->samplerate == 44100 || p->samplerate == 48000);

		if (!common && p->samplerate != fb->devices[dev].d.default_samplerate)
			return fail(err, FAKE_E_INVALID_RATE, "Invalid sample rate");
	}
	return 0;
}

static int fake_check(struct backend *b, const struct backend_params *p, struct backend_error *err)
{
	of(b)->checked++;
	return check_params(b, p, err);
}

static int fake_open(struct backend *b, const struct backend_params *p,
		     const struct backend_callbacks *cb, struct backend_stream **ret,
		     struct backend_error *err)
{
	struct fake_backend *fb = of(b);
	struct fake_stream *s;

	if (check_params(b, p, err) < 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return fail(err, -9992, "Insufficient memory");
	s->base.backend = b;
	s->fb = fb;
	s->p = *p;
	s->dev_in = p->device_in >= 0 ? openable(fb, p->device_in) : -1;
	s->dev_out = p->device_out >= 0 ? openable(fb, p->device_out) : -1;
	s->cb = *cb;
	s->period = p->blocksize ? p->blocksize : FAKE_DEFAULT_BLOCKSIZE;
	s->next = fb->streams;
	fb->streams = s;
	fb->opened++;
	*ret = &s->base;
	return 0;
}

/* Takes the fake's lock for a stream call of kind call, waiting while the test blocks it. */
static void call_begin(struct fake_backend *fb, enum fake_call call)
{
	pthread_mutex_lock(&fb->lock);
	while (fb->blocked & (1u << call)) {
		fb->waiting[call]++;
		pthread_cond_broadcast(&fb->cond);
		pthread_cond_wait(&fb->cond, &fb->lock);
		fb->waiting[call]--;
	}
}

static void call_end(struct fake_backend *fb)
{
	pthread_cond_broadcast(&fb->cond);
	pthread_mutex_unlock(&fb->lock);
}

static int fake_start(struct backend_stream *bs, struct backend_error *err)
{
	struct fake_stream *s = (struct fake_stream *)bs;
	int r = 0;

	call_begin(s->fb, FAKE_CALL_START);
	if (s->started)
		r = fail(err, FAKE_E_NOT_STOPPED, "Stream is not stopped");
	else if ((s->dev_in >= 0 && s->fb->devices[s->dev_in].lost) ||
		 (s->dev_out >= 0 && s->fb->devices[s->dev_out].lost))
		r = fail(err, FAKE_E_INVALID_DEVICE, "Invalid device");
	else
		s->started = true;
	call_end(s->fb);
	return r;
}

/* Makes a running stream inactive and says so, as PortAudio does (the fake's lock held). */
static void finish(struct fake_stream *s)
{
	if (!s->started)
		return;
	s->started = false;
	s->cb.finished(s->cb.data);
}

static int fake_stop(struct backend_stream *bs)
{
	struct fake_stream *s = (struct fake_stream *)bs;

	call_begin(s->fb, FAKE_CALL_STOP);
	finish(s);
	call_end(s->fb);
	return 0;
}

static int fake_abort(struct backend_stream *bs)
{
	struct fake_stream *s = (struct fake_stream *)bs;

	call_begin(s->fb, FAKE_CALL_ABORT);
	finish(s);
	call_end(s->fb);
	return 0;
}

/* A closed stream stays in the list, and its tap readable, until the backend is freed. */
static void fake_close(struct backend_stream *bs)
{
	struct fake_stream *s = (struct fake_stream *)bs;

	call_begin(s->fb, FAKE_CALL_CLOSE);
	s->started = false;
	s->closed = true;
	s->fb->closed++;
	call_end(s->fb);
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

	int loop = s->dev_out >= 0 ? s->fb->devices[s->dev_out].loopback : 0;

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

static int fake_probe(struct backend *b, uv_loop_t *loop, unsigned timeout_ms,
		      backend_probe_fn done, void *data)
{
	struct fake_backend *fb = of(b);

	if (fb->probe_done)
		return -EBUSY;
	fb->probe_done = done;
	fb->probe_data = data;
	fb->probes++;
	return 0;
}

static void fake_probe_cancel(struct backend *b)
{
	of(b)->probe_done = NULL;
}

static void fake_set_notify(struct backend *b, void (*fn)(void *data), void *data)
{
	of(b)->notify = fn;
	of(b)->notify_data = data;
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
	.probe = fake_probe,
	.probe_cancel = fake_probe_cancel,
	.bind = fake_bind,
	.set_notify = fake_set_notify,
};

/* Fills slot from d: present, not known to the running backend. */
static void set_slot(struct fake_slot *slot, const struct fake_device *d)
{
	*slot = (struct fake_slot){ .d = *d, .present = true };
	if (d->uid)
		snprintf(slot->uid, sizeof(slot->uid), "%s", d->uid);
	else
		snprintf(slot->uid, sizeof(slot->uid), "fake:%s", d->name);
}

struct fake_backend *fake_backend_new(const struct fake_device *devices, int count)
{
	struct fake_backend *fb = calloc(1, sizeof(*fb));

	if (!fb || count > FAKE_MAX_DEVICES)
		goto fail;
	fb->base.ops = &fake_ops;
	pthread_mutex_init(&fb->lock, NULL);
	pthread_cond_init(&fb->cond, NULL);
	fb->devices = calloc(FAKE_MAX_DEVICES, sizeof(*fb->devices));
	fb->capture = calloc(FAKE_MAX_DEVICES, sizeof(*fb->capture));
	if (!fb->devices || !fb->capture)
		goto fail;
	for (int i = 0; i < count; i++)
		set_slot(&fb->devices[i], &devices[i]);
	fb->count = count;
	return fb;
fail:
	fake_backend_free(fb);
	return NULL;
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
	for (int i = 0; fb->capture && i < FAKE_MAX_DEVICES; i++)
		free(fb->capture[i].samples);
	free(fb->capture);
	free(fb->devices);
	free(fb->bound);
	if (fb->base.ops) {
		pthread_mutex_destroy(&fb->lock);
		pthread_cond_destroy(&fb->cond);
	}
	free(fb);
}

int fake_add_device(struct fake_backend *fb, const struct fake_device *d)
{
	struct fake_slot slot;

	set_slot(&slot, d);
	/* A device that was here before comes back in its old slot. */
	for (int i = 0; i < fb->count; i++)
		if (!fb->devices[i].present && strcmp(fb->devices[i].uid, slot.uid) == 0) {
			fb->devices[i].d = *d;
			fake_restore_device(fb, i);
			return i;
		}
	if (fb->count >= FAKE_MAX_DEVICES)
		return -ENOSPC;
	fb->devices[fb->count] = slot;
	return fb->count++;
}

void fake_remove_device(struct fake_backend *fb, int device)
{
	fake_lose_device(fb, device);
	fb->devices[device].present = false;
}

void fake_restore_device(struct fake_backend *fb, int device)
{
	fb->devices[device].present = true;
	fb->devices[device].lost = false;
	fb->devices[device].stale = fb->devices[device].known;
}

bool fake_probe_pending(const struct fake_backend *fb)
{
	return fb->probe_done != NULL;
}

unsigned fake_probes(const struct fake_backend *fb)
{
	return fb->probes;
}

int fake_probe_finish(struct fake_backend *fb, int status)
{
	backend_probe_fn done = fb->probe_done;
	struct backend_devlist l = { .default_input = -1, .default_output = -1 };
	int r = 0;

	if (!done)
		return -ENOENT;
	fb->probe_done = NULL;
	if (status >= 0)
		r = list_devices(fb, false, &l);
	done(fb->probe_data, status < 0 ? status : r, &l);
	return 0;
}

unsigned fake_inits(const struct fake_backend *fb)
{
	return fb->inits;
}

void fake_notify(struct fake_backend *fb)
{
	if (fb->notify)
		fb->notify(fb->notify_data);
}

struct backend *fake_backend_get(struct fake_backend *fb)
{
	return &fb->base;
}

unsigned fake_opened(const struct fake_backend *fb)
{
	return fb->opened;
}

unsigned fake_checked(const struct fake_backend *fb)
{
	return fb->checked;
}

unsigned fake_closed(const struct fake_backend *fb)
{
	struct fake_backend *locked = (struct fake_backend *)fb;
	unsigned n;

	pthread_mutex_lock(&locked->lock);
	n = fb->closed;
	pthread_mutex_unlock(&locked->lock);
	return n;
}

struct fake_stream *fake_stream_on(struct fake_backend *fb, int device, bool output)
{
	struct fake_stream *found = NULL;

	pthread_mutex_lock(&fb->lock);
	for (struct fake_stream *s = fb->streams; s && !found; s = s->next)
		if (!s->closed && (output ? s->p.device_out : s->p.device_in) == device)
			found = s;
	pthread_mutex_unlock(&fb->lock);
	return found;
}

bool fake_started(struct fake_stream *s)
{
	bool started;

	pthread_mutex_lock(&s->fb->lock);
	started = s->started;
	pthread_mutex_unlock(&s->fb->lock);
	return started;
}

void fake_set_threaded(struct fake_backend *fb, bool threaded)
{
	fb->base.threaded_calls = threaded;
}

void fake_block(struct fake_backend *fb, enum fake_call call, bool blocked)
{
	pthread_mutex_lock(&fb->lock);
	if (blocked)
		fb->blocked |= 1u << call;
	else
		fb->blocked &= ~(1u << call);
	pthread_cond_broadcast(&fb->cond);
	pthread_mutex_unlock(&fb->lock);
}

bool fake_wait_blocked(struct fake_backend *fb, enum fake_call call, int timeout_ms)
{
	struct timespec until;
	bool found;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&fb->lock);
	while (!fb->waiting[call] &&
	       pthread_cond_timedwait(&fb->cond, &fb->lock, &until) == 0)
		;
	found = fb->waiting[call] > 0;
	pthread_mutex_unlock(&fb->lock);
	return found;
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
	fb->devices[device].loopback = periods;
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
	pthread_mutex_lock(&fb->lock);
	fb->devices[device].lost = true;
	for (struct fake_stream *s = fb->streams; s; s = s->next)
		if (s->dev_in == device || s->dev_out == device)
			finish(s);
	pthread_mutex_unlock(&fb->lock);
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
	const struct capture *c = &s->fb->capture[s->dev_in];
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
	if (in && s->dev_out >= 0 && s->fb->devices[s->dev_out].loopback)
		fill_looped(s, in, s->fb->devices[s->dev_out].loopback);
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

/* Runs one period with the fake's lock held: a stop waits for the callback, as a real one does. */
static bool run_locked(struct fake_stream *s)
{
	bool ran;

	pthread_mutex_lock(&s->fb->lock);
	ran = run_period(s);
	pthread_mutex_unlock(&s->fb->lock);
	return ran;
}

int fake_run(struct fake_stream *s, int n)
{
	int done = 0;

	while (done < n && run_locked(s))
		done++;
	return done;
}

void fake_run_all(struct fake_backend *fb, int n)
{
	for (int i = 0; i < n; i++)
		for (struct fake_stream *s = fb->streams; s; s = s->next)
			run_locked(s);
}
