/*
 * PortAudio's streams as libsdc streams of sddaemon: opening and closing,
 * starting, stopping and aborting, their state, information, time and
 * load.  Shared by default (the point: every program on one device);
 * $SDDAEMON_PORTAUDIO_EXCLUSIVE asks for dedicated, bit-exact streams.
 * The application's threads; the callback runs on libsdc's (see io.c).
 *
 * How PortAudio's ALSA and JACK host APIs behave, and so these streams:
 * a stream is stopped until started and again after a stop or abort, but
 * one whose callback returned paComplete or paAbort is inactive and not
 * stopped until the application stops it; the finished callback runs only
 * for callback streams, once they become inactive; the suggested latency
 * is the whole latency of the stream, the device's included; and
 * paPrimeOutputBuffersUsingStreamCallback is accepted and ignored.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pa-private.h"

struct pa_stream *pa_stream_get(PaStream *p, PaError *ret_error)
{
	struct pa_stream *found = NULL;

	if (!pa_initialized()) {
		*ret_error = paNotInitialized;
		return NULL;
	}
	pthread_mutex_lock(&pa_lib.lock);
	for (struct pa_stream *ps = pa_lib.streams; ps; ps = ps->next)
		if (ps == p && ps->magic == PA_STREAM_MAGIC)
			found = ps;
	pthread_mutex_unlock(&pa_lib.lock);
	if (!found)
		*ret_error = paBadStreamPtr;
	return found;
}

/*
 * The capture kept waiting for a stream of PortAudio's (input_buffer_frames):
 * the suggested latency, and at least three blocks, rounded up to a power
 * of two, as PortAudio's JACK host API sizes its buffer (ALSA's is the
 * latency): what a program that paused finds there afterwards.
 */
static unsigned input_buffer(double latency, double rate, unsigned long frames_per_buffer)
{
	double want = latency * rate;
	unsigned frames = 32;

	if (want < 3.0 * (frames_per_buffer ? frames_per_buffer : 256))
		want = 3.0 * (frames_per_buffer ? frames_per_buffer : 256);
	while (frames < want && frames < (1u << 20))
		frames <<= 1;
	return frames;
}

/* Fills one direction of libsdc's parameters and of the stream from PortAudio's. */
static void take_direction(struct pa_stream *ps, sdc_stream_params *p, int i,
			   const PaStreamParameters *sp)
{
	ps->device[i] = sp->device;
	ps->channels[i] = sp->channelCount;
	ps->sample_bytes[i] = sdc_dtype_size(pa_dtype(sp->sampleFormat));
	ps->planar[i] = (sp->sampleFormat & paNonInterleaved) != 0;
	p->device[i] = SDC_DEVICE_INDEX(sp->device);
	p->channels[i] = sp->channelCount;
	p->dtype[i] = pa_dtype(sp->sampleFormat);
	/* PortAudio's 0 is "as low as possible"; libsdc's 0 would be its default. */
	p->latency[i] = sp->suggestedLatency > 0 ? sp->suggestedLatency : SDC_LATENCY_LOW;
}

PaError Pa_OpenStream(PaStream **stream, const PaStreamParameters *in,
		      const PaStreamParameters *out, double rate, unsigned long frames_per_buffer,
		      PaStreamFlags flags, PaStreamCallback *callback, void *userdata)
{
	sdc_stream_params p = { 0 };
	struct pa_stream *ps;
	PaHostApiTypeId type;
	PaError e;
	int r;

	if (!pa_initialized())
		return paNotInitialized;
	if (!stream)
		return paBadStreamPtr;
	e = pa_validate_parameters(in, out, rate, frames_per_buffer, flags, callback);
	if (e != paNoError)
		return e;
	/* What PortAudio's host APIs check next. */
	for (int i = 0; i < 2; i++) {
		const PaStreamParameters *sp = i ? out : in;
		const PaDeviceInfo *d = sp ? Pa_GetDeviceInfo(sp->device) : NULL;

		if (!sp)
			continue;
		if (!pa_dtype(sp->sampleFormat))
			return paSampleFormatNotSupported;
		if (sp->channelCount > (i ? d->maxOutputChannels : d->maxInputChannels))
			return paInvalidChannelCount;
	}
	if (frames_per_buffer > 65536)
		return paBufferTooBig;
	type = pa_device_hostapi_type(in ? in->device : out->device);

	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return paInsufficientMemory;
	ps->device[0] = ps->device[1] = paNoDevice;
	ps->callback = callback;
	ps->userdata = userdata;
	ps->stopped = 1;
	ps->hostapi_type = type;
	p.kind = in && out ? SDC_STREAM_DUPLEX : in ? SDC_STREAM_INPUT : SDC_STREAM_OUTPUT;
	p.samplerate = rate;
	p.blocksize = (int)frames_per_buffer;
	if (in) {
		take_direction(ps, &p, 0, in);
		p.input_buffer_frames = input_buffer(in->suggestedLatency, rate, frames_per_buffer);
	}
	if (out)
		take_direction(ps, &p, 1, out);
	if (callback) {
		p.callback = pa_io_callback;
		/* PortAudio calls the finished callback of callback streams only. */
		p.finished_callback = pa_io_finished;
		p.userdata = ps;
	}
	p.clip_off = flags & paClipOff ? SDC_YES : SDC_NO;
	p.dither_off = flags & paDitherOff ? SDC_YES : SDC_NO;
	p.never_drop_input = flags & paNeverDropInput ? SDC_YES : SDC_NO;
	p.prime_output_buffers_using_stream_callback = SDC_NO;
	p.exclusive = pa_lib.exclusive ? SDC_YES : SDC_NO;

	e = pa_io_alloc(ps, frames_per_buffer ? frames_per_buffer : SDC_MAX_VARIABLE_BLOCK);
	if (e != paNoError) {
		pa_io_free(ps);
		free(ps);
		return e;
	}
	r = sdc_stream_open(pa_lib.client, &p, &ps->s);
	if (r < 0) {
		e = pa_error_from_sdc(r, type);
		pa_io_free(ps);
		free(ps);
		return e;
	}
	ps->info.structVersion = 1;
	ps->info.inputLatency = in ? sdc_stream_latency(ps->s, SDC_KIND_INPUT) : 0;
	ps->info.outputLatency = out ? sdc_stream_latency(ps->s, SDC_KIND_OUTPUT) : 0;
	ps->info.sampleRate = sdc_stream_samplerate(ps->s);
	ps->magic = PA_STREAM_MAGIC;
	pthread_mutex_lock(&pa_lib.lock);
	ps->next = pa_lib.streams;
	pa_lib.streams = ps;
	pthread_mutex_unlock(&pa_lib.lock);
	*stream = ps;
	return paNoError;
}

PaError Pa_OpenDefaultStream(PaStream **stream, int input_channels, int output_channels,
			     PaSampleFormat format, double rate, unsigned long frames_per_buffer,
			     PaStreamCallback *callback, void *userdata)
{
	PaStreamParameters in = { 0 }, out = { 0 };

	/* The default devices at their default high latency, as PortAudio chooses. */
	if (input_channels > 0) {
		in.device = Pa_GetDefaultInputDevice();
		if (in.device == paNoDevice)
			return paDeviceUnavailable;
		in.channelCount = input_channels;
		in.sampleFormat = format;
		in.suggestedLatency = Pa_GetDeviceInfo(in.device)->defaultHighInputLatency;
	}
	if (output_channels > 0) {
		out.device = Pa_GetDefaultOutputDevice();
		if (out.device == paNoDevice)
			return paDeviceUnavailable;
		out.channelCount = output_channels;
		out.sampleFormat = format;
		out.suggestedLatency = Pa_GetDeviceInfo(out.device)->defaultHighOutputLatency;
	}
	return Pa_OpenStream(stream, input_channels > 0 ? &in : NULL,
			     output_channels > 0 ? &out : NULL, rate, frames_per_buffer, paNoFlag,
			     callback, userdata);
}

PaError Pa_CloseStream(PaStream *stream)
{
	struct pa_stream *ps;
	PaError e;

	if (!(ps = pa_stream_get(stream, &e)))
		return e;
	pthread_mutex_lock(&pa_lib.lock);
	for (struct pa_stream **pp = &pa_lib.streams; *pp; pp = &(*pp)->next)
		if (*pp == ps) {
			*pp = ps->next;
			break;
		}
	pthread_mutex_unlock(&pa_lib.lock);
	/* A stream still running is aborted, its finished callback called, as in PortAudio. */
	sdc_stream_close(ps->s);
	pa_io_free(ps);
	ps->magic = 0;
	free(ps);
	return paNoError;
}

PaError Pa_SetStreamFinishedCallback(PaStream *stream, PaStreamFinishedCallback *finished)
{
	struct pa_stream *ps;
	PaError e;

	if (!(ps = pa_stream_get(stream, &e)))
		return e;
	if (!ps->stopped)
		return paStreamIsNotStopped;
	ps->finished = finished;
	return paNoError;
}

PaError Pa_StartStream(PaStream *stream)
{
	struct pa_stream *ps;
	PaError e;
	int r;

	if (!(ps = pa_stream_get(stream, &e)))
		return e;
	if (!ps->stopped)
		return paStreamIsNotStopped;
	atomic_store(&ps->finished_ran, 0);
	r = sdc_stream_start(ps->s);
	if (r < 0)
		return pa_error_from_sdc(r, ps->hostapi_type);
	ps->stopped = 0;
	return paNoError;
}

/* Stop and abort: what is queued is played first, or dropped. */
static PaError end(PaStream *stream, int abort)
{
	struct pa_stream *ps;
	PaError e;
	int r;

	if (!(ps = pa_stream_get(stream, &e)))
		return e;
	if (ps->stopped)
		return paStreamIsStopped;
	r = abort ? sdc_stream_abort(ps->s) : sdc_stream_stop(ps->s);
	ps->stopped = 1;
	return r < 0 ? pa_error_from_sdc(r, ps->hostapi_type) : paNoError;
}

PaError Pa_StopStream(PaStream *stream)
{
	return end(stream, 0);
}

PaError Pa_AbortStream(PaStream *stream)
{
	return end(stream, 1);
}

PaError Pa_IsStreamStopped(PaStream *stream)
{
	struct pa_stream *ps;
	PaError e;

	if (!(ps = pa_stream_get(stream, &e)))
		return e;
	return ps->stopped;
}

PaError Pa_IsStreamActive(PaStream *stream)
{
	struct pa_stream *ps;
	PaError e;

	if (!(ps = pa_stream_get(stream, &e)))
		return e;
	if (ps->stopped)
		return 0;
	/* A callback stream is active until its finished callback has run, as in PortAudio. */
	return ps->callback ? !atomic_load(&ps->finished_ran) : sdc_stream_active(ps->s);
}

const PaStreamInfo *Pa_GetStreamInfo(PaStream *stream)
{
	struct pa_stream *ps;
	PaError e;

	if (!(ps = pa_stream_get(stream, &e)))
		return NULL;
	return &ps->info;
}

PaTime Pa_GetStreamTime(PaStream *stream)
{
	struct pa_stream *ps;
	PaError e;

	if (!(ps = pa_stream_get(stream, &e)))
		return 0;
	/* The daemon's stream clock, on which the callback's times are too. */
	return sdc_stream_time(ps->s);
}

double Pa_GetStreamCpuLoad(PaStream *stream)
{
	struct pa_stream *ps;
	PaError e;

	if (!(ps = pa_stream_get(stream, &e)))
		return 0;
	/* Blocking streams have no callback to measure: PortAudio says 0. */
	return ps->callback ? sdc_stream_cpu_load(ps->s) : 0;
}

PaHostApiTypeId Pa_GetStreamHostApiType(PaStream *stream)
{
	struct pa_stream *ps;
	PaError e;

	if (!(ps = pa_stream_get(stream, &e)))
		return (PaHostApiTypeId)e;
	return ps->hostapi_type;
}
