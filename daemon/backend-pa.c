/*
 * The device backend on PortAudio: initialisation, the device and host-API
 * lists, settings checks, and streams whose callbacks (backend-pa-rt.c)
 * call the device stream's.  PortAudio's query functions are not safe on
 * other threads, so everything here but start, stop, abort and close runs
 * on the loop thread (see backend.h).
 */
#include "backend-pa.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa-defined.h"
#include "sample.h"
#include "utf8.h"

struct pa_backend {
	struct backend base;
};

/* Describes a PortAudio error (with the host API's, when PortAudio names one). */
static int pa_error(struct backend_error *be, PaError pa)
{
	*be = (struct backend_error){ .code = pa, .busy = pa == paDeviceUnavailable, .host_api = -1 };
	snprintf(be->text, sizeof(be->text), "%s", Pa_GetErrorText(pa));
	if (pa == paUnanticipatedHostError) {
		const PaHostErrorInfo *h = Pa_GetLastHostErrorInfo();

		be->has_host_error = true;
		be->host_api = h ? Pa_HostApiTypeIdToHostApiIndex(h->hostApiType) : -1;
		be->host_error = h ? h->errorCode : 0;
		snprintf(be->host_text, sizeof(be->host_text), "%s",
			 h && h->errorText ? h->errorText : "");
	}
	return -EINVAL;
}

/* Converts a wire sample format to PortAudio's. */
static PaSampleFormat pa_format(int dtype)
{
	switch (dtype) {
	case SAMPLE_INT32:
		return paInt32;
	case SAMPLE_INT24:
		return paInt24;
	case SAMPLE_INT16:
		return paInt16;
	case SAMPLE_INT8:
		return paInt8;
	case SAMPLE_UINT8:
		return paUInt8;
	default:
		return paFloat32;
	}
}

/* Converts our stream options to PortAudio's flags. */
static PaStreamFlags pa_flags(unsigned flags)
{
	PaStreamFlags f = paNoFlag;

	if (flags & BACKEND_CLIP_OFF)
		f |= paClipOff;
	if (flags & BACKEND_DITHER_OFF)
		f |= paDitherOff;
	if (flags & BACKEND_NEVER_DROP_INPUT)
		f |= paNeverDropInput;
	if (flags & BACKEND_PRIME_OUTPUT)
		f |= paPrimeOutputBuffersUsingStreamCallback;
	return f;
}

/* Fills PortAudio's parameters for both directions of p. */
static void pa_params(const struct backend_params *p, PaStreamParameters *in,
		      PaStreamParameters *out)
{
	*in = (PaStreamParameters){
		.device = p->device_in,
		.channelCount = p->channels_in,
		.sampleFormat = pa_format(p->format_in),
		.suggestedLatency = p->latency_in,
	};
	*out = (PaStreamParameters){
		.device = p->device_out,
		.channelCount = p->channels_out,
		.sampleFormat = pa_format(p->format_out),
		.suggestedLatency = p->latency_out,
	};
}

static int pa_init(struct backend *b, struct backend_error *err)
{
	const char *text = Pa_GetVersionText();
	PaError pa;

	/*
	 * Our PortAudio-compatible library (client/portaudio) has PortAudio's
	 * name and symbols, and an LD_LIBRARY_PATH pointing at it (sdctl run,
	 * a test tree) would make the daemon its own client: refuse it.
	 */
	if (text && strstr(text, "sddaemon")) {
		*err = (struct backend_error){ .code = paInternalError, .host_api = -1 };
		snprintf(err->text, sizeof(err->text),
			 "sddaemon's own compatibility library was loaded as PortAudio; check LD_LIBRARY_PATH");
		return -ELIBBAD;
	}
	pa = Pa_Initialize();
	return pa == paNoError ? 0 : pa_error(err, pa);
}

static void pa_fini(struct backend *b)
{
	Pa_Terminate();
}

static int pa_enumerate(struct backend *b, struct backend_devlist *l)
{
	int count = Pa_GetDeviceCount(), api_count = Pa_GetHostApiCount();

	*l = (struct backend_devlist){ .default_input = -1, .default_output = -1 };
	if (count < 0 || api_count < 0)
		return -EIO;
	l->dev = calloc((size_t)count + 1, sizeof(*l->dev));
	l->api = calloc((size_t)api_count + 1, sizeof(*l->api));
	if (!l->dev || !l->api)
		goto oom;
	for (int i = 0; i < api_count; i++) {
		const PaHostApiInfo *info = Pa_GetHostApiInfo(i);
		struct hostapi_info *a = &l->api[i];

		l->api_count = i + 1;
		a->name = utf8_sanitize(info ? info->name : "?");
		if (!a->name)
			goto oom;
		a->type = info ? (int)info->type : -1;
		a->default_input_device = info ? info->defaultInputDevice : -1;
		a->default_output_device = info ? info->defaultOutputDevice : -1;
		a->devices = calloc((size_t)(info ? info->deviceCount : 0) + 1, sizeof(int));
		if (!a->devices)
			goto oom;
		a->device_count = info ? info->deviceCount : 0;
		for (int j = 0; j < a->device_count; j++)
			a->devices[j] = Pa_HostApiDeviceIndexToDeviceIndex(i, j);
	}
	for (int i = 0; i < count; i++) {
		const PaDeviceInfo *info = Pa_GetDeviceInfo(i);
		struct device_info *d = &l->dev[i];

		if (!info) {
			backend_devlist_free(l);
			return -EIO;
		}
		/* PortAudio's probe leaves the latencies undefined to valgrind (see pa-defined.h). */
		pa_defined(info, sizeof(*info));
		l->count = i + 1;
		d->name = utf8_sanitize(info->name);
		if (!d->name)
			goto oom;
		d->hostapi = info->hostApi;
		d->max_input_channels = info->maxInputChannels;
		d->max_output_channels = info->maxOutputChannels;
		d->default_low_input_latency = info->defaultLowInputLatency;
		d->default_low_output_latency = info->defaultLowOutputLatency;
		d->default_high_input_latency = info->defaultHighInputLatency;
		d->default_high_output_latency = info->defaultHighOutputLatency;
		d->default_samplerate = info->defaultSampleRate;
	}
	l->default_input = Pa_GetDefaultInputDevice();
	l->default_output = Pa_GetDefaultOutputDevice();
	return 0;
oom:
	backend_devlist_free(l);
	return -ENOMEM;
}

static int pa_check(struct backend *b, const struct backend_params *p, struct backend_error *err)
{
	PaStreamParameters in, out;
	PaError pa;

	pa_params(p, &in, &out);
	pa = Pa_IsFormatSupported(p->device_in >= 0 ? &in : NULL, p->device_out >= 0 ? &out : NULL,
				  p->samplerate);
	return pa == paFormatIsSupported ? 0 : pa_error(err, pa);
}

static int pa_open(struct backend *b, const struct backend_params *p,
		   const struct backend_callbacks *cb, struct backend_stream **ret,
		   struct backend_error *err)
{
	struct pa_stream *s = calloc(1, sizeof(*s));
	PaStreamParameters in, out;
	PaError pa;

	if (!s) {
		*err = (struct backend_error){ .code = paInsufficientMemory, .host_api = -1 };
		snprintf(err->text, sizeof(err->text), "out of memory");
		return -ENOMEM;
	}
	s->base.backend = b;
	s->cb = *cb;
	if (p->device_in >= 0)
		s->input_frame_bytes = sample_format_size(p->format_in) * (size_t)p->channels_in;
	pa_params(p, &in, &out);
	pa = Pa_OpenStream(&s->pa, p->device_in >= 0 ? &in : NULL, p->device_out >= 0 ? &out : NULL,
			   p->samplerate, p->blocksize, pa_flags(p->flags), backend_pa_process, s);
	if (pa != paNoError) {
		free(s);
		return pa_error(err, pa);
	}
	Pa_SetStreamFinishedCallback(s->pa, backend_pa_finished);
	*ret = &s->base;
	return 0;
}

static int pa_start(struct backend_stream *bs, struct backend_error *err)
{
	struct pa_stream *s = (struct pa_stream *)bs;
	PaError pa = Pa_StartStream(s->pa);

	return pa == paNoError ? 0 : pa_error(err, pa);
}

static int pa_stop(struct backend_stream *bs)
{
	struct pa_stream *s = (struct pa_stream *)bs;

	return Pa_IsStreamStopped(s->pa) == 0 && Pa_StopStream(s->pa) != paNoError ? -EIO : 0;
}

static int pa_abort(struct backend_stream *bs)
{
	struct pa_stream *s = (struct pa_stream *)bs;

	return Pa_IsStreamStopped(s->pa) == 0 && Pa_AbortStream(s->pa) != paNoError ? -EIO : 0;
}

static void pa_close(struct backend_stream *bs)
{
	struct pa_stream *s = (struct pa_stream *)bs;

	if (!s)
		return;
	Pa_CloseStream(s->pa);
	free(s);
}

static double pa_time(struct backend_stream *bs)
{
	double now = Pa_GetStreamTime(((struct pa_stream *)bs)->pa);

	pa_defined(&now, sizeof(now)); /* alsa-lib's timestamps (see pa-defined.h) */
	return now;
}

static double pa_cpu_load(struct backend_stream *bs)
{
	return Pa_GetStreamCpuLoad(((struct pa_stream *)bs)->pa);
}

static void pa_info(struct backend_stream *bs, struct backend_stream_info *ret)
{
	const PaStreamInfo *info = Pa_GetStreamInfo(((struct pa_stream *)bs)->pa);

	*ret = (struct backend_stream_info){ 0 };
	if (!info)
		return;
	/* Computed from alsa-lib's period sizes: undefined to valgrind (see pa-defined.h). */
	pa_defined(info, sizeof(*info));
	ret->samplerate = info->sampleRate;
	ret->latency_in = info->inputLatency;
	ret->latency_out = info->outputLatency;
}

static int pa_version(struct backend *b, const char **ret_text)
{
	*ret_text = Pa_GetVersionText();
	return Pa_GetVersion();
}

static const struct backend_ops pa_ops = {
	.name = "PortAudio",
	.init = pa_init,
	.fini = pa_fini,
	.enumerate = pa_enumerate,
	.check = pa_check,
	.open = pa_open,
	.start = pa_start,
	.stop = pa_stop,
	.abort = pa_abort,
	.close = pa_close,
	.time = pa_time,
	.cpu_load = pa_cpu_load,
	.info = pa_info,
	.version = pa_version,
};

struct backend *backend_pa_new(void)
{
	struct pa_backend *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->base.ops = &pa_ops;
	return &b->base;
}

void backend_pa_free(struct backend *b)
{
	free(b);
}
