/*
 * Frames between PortAudio programs and libsdc: the callback adapter (on
 * libsdc's callback thread: it allocates nothing, locks nothing and makes
 * no system call), Pa_ReadStream() and Pa_WriteStream() with their
 * Available()s (on the application's thread), and paNonInterleaved, whose
 * one-buffer-per-channel layout is converted to and from libsdc's
 * interleaved frames.
 *
 * Blocking streams report paInputOverflowed and paOutputUnderflowed as
 * PortAudio's ALSA host API does: for frames lost since the previous read
 * or write.
 */
#include <stdlib.h>
#include <string.h>

#include "pa-private.h"

/* Callback flags PortAudio defines; libsdc's have the same values. */
#define PA_FLAGS                                                                                  \
	(paInputUnderflow | paInputOverflow | paOutputUnderflow | paOutputOverflow |               \
	 paPrimingOutput)

/*
 * Copies frames frames between interleaved frames and one buffer per
 * channel, from frame offset of the channel buffers on.  The sample size
 * is a constant in each instance the switches below make, so that each
 * sample is one move.
 */
static inline void planar_copy(unsigned char *inter, unsigned char *const *planes, int channels,
			       size_t size, unsigned long offset, unsigned long frames,
			       int to_planes)
{
	for (unsigned long f = 0; f < frames; f++)
		for (int c = 0; c < channels; c++) {
			unsigned char *i = inter + (f * (size_t)channels + (size_t)c) * size;
			unsigned char *p = planes[c] + (offset + f) * size;

			if (to_planes)
				memcpy(p, i, size);
			else
				memcpy(i, p, size);
		}
}

static void convert(unsigned char *inter, void *const *planes, int channels, size_t size,
		    unsigned long offset, unsigned long frames, int to_planes)
{
	unsigned char *const *pl = (unsigned char *const *)planes;

	switch (size) {
	case 1:
		planar_copy(inter, pl, channels, 1, offset, frames, to_planes);
		break;
	case 2:
		planar_copy(inter, pl, channels, 2, offset, frames, to_planes);
		break;
	case 3:
		planar_copy(inter, pl, channels, 3, offset, frames, to_planes);
		break;
	default:
		planar_copy(inter, pl, channels, 4, offset, frames, to_planes);
		break;
	}
}

int pa_io_callback(const void *input, void *output, unsigned long frames,
		   const sdc_time_info *time, unsigned status, void *userdata)
{
	struct pa_stream *ps = userdata;
	/* PortAudio leaves the time of a direction the stream lacks at 0. */
	PaStreamCallbackTimeInfo ti = {
		.inputBufferAdcTime = input ? time->input_buffer_adc_time : 0,
		.currentTime = time->current_time,
		.outputBufferDacTime = output ? time->output_buffer_dac_time : 0,
	};
	const void *in = input;
	void *out = output;
	int r;

	if (input && ps->planar[0]) {
		convert((unsigned char *)input, ps->planes[0], ps->channels[0], ps->sample_bytes[0], 0,
			frames, 1);
		in = ps->planes[0];
	}
	if (output && ps->planar[1])
		out = ps->planes[1];
	r = ps->callback(in, out, frames, &ti, status & PA_FLAGS, ps->userdata);
	if (output && ps->planar[1] && r != paAbort)
		convert(output, ps->planes[1], ps->channels[1], ps->sample_bytes[1], 0, frames, 0);
	/* PortAudio treats anything but paContinue and paAbort as paComplete. */
	return r == paContinue ? SDC_CONTINUE : r == paAbort ? SDC_ABORT : SDC_COMPLETE;
}

void pa_io_finished(void *userdata)
{
	struct pa_stream *ps = userdata;

	if (ps->finished)
		ps->finished(ps->userdata);
	atomic_store(&ps->finished_ran, 1);
}

PaError pa_io_alloc(struct pa_stream *ps, unsigned long frames)
{
	size_t widest = 0;

	for (int i = 0; i < 2; i++) {
		size_t frame = ps->sample_bytes[i] * (size_t)ps->channels[i];

		if (frame > widest)
			widest = frame;
		if (!ps->planar[i])
			continue;
		ps->planes[i] = calloc((size_t)ps->channels[i], sizeof(void *));
		ps->plane_data[i] = calloc(frames, frame);
		if (!ps->planes[i] || !ps->plane_data[i])
			return paInsufficientMemory;
		for (int c = 0; c < ps->channels[i]; c++)
			ps->planes[i][c] = ps->plane_data[i] + (size_t)c * frames * ps->sample_bytes[i];
	}
	if (ps->planar[0] || ps->planar[1]) {
		ps->scratch = malloc(frames * widest);
		if (!ps->scratch)
			return paInsufficientMemory;
	}
	ps->scratch_frames = frames;
	return paNoError;
}

void pa_io_free(struct pa_stream *ps)
{
	for (int i = 0; i < 2; i++) {
		free(ps->planes[i]);
		free(ps->plane_data[i]);
		ps->planes[i] = NULL;
		ps->plane_data[i] = NULL;
	}
	free(ps->scratch);
	ps->scratch = NULL;
}

/* The checks Pa_ReadStream() and Pa_WriteStream() make, in PortAudio's order. */
static struct pa_stream *blocking_stream(PaStream *stream, const void *buffer,
					 unsigned long frames, int output, PaError *ret)
{
	struct pa_stream *ps = pa_stream_get(stream, ret);

	if (!ps)
		return NULL;
	*ret = paNoError;
	if (frames == 0)
		return NULL;
	if (!buffer)
		*ret = paBadBufferPtr;
	else if (ps->stopped)
		*ret = paStreamIsStopped;
	else if (ps->callback)
		*ret = output ? paCanNotWriteToACallbackStream : paCanNotReadFromACallbackStream;
	else if (ps->device[output] == paNoDevice)
		*ret = output ? paCanNotWriteToAnInputOnlyStream : paCanNotReadFromAnOutputOnlyStream;
	return *ret == paNoError ? ps : NULL;
}

/* The error for a read or write that moved fewer frames than asked: the stream ended. */
static PaError cut_short(struct pa_stream *ps, long long n)
{
	sdc_status st;

	if (n < 0)
		return pa_error_from_sdc((int)n, ps->hostapi_type);
	if (sdc_stream_status(ps->s, &st) == 0 && st.error[0])
		pa_set_host_error(ps->hostapi_type, 0, st.error);
	else
		pa_set_host_error(ps->hostapi_type, 0, "the stream ended in sddaemon");
	return paDeviceUnavailable;
}

PaError Pa_WriteStream(PaStream *stream, const void *buffer, unsigned long frames)
{
	int underflowed = 0, u;
	struct pa_stream *ps;
	long long n;
	PaError e;

	if (!(ps = blocking_stream(stream, buffer, frames, 1, &e)))
		return e;
	if (!ps->planar[1]) {
		n = sdc_stream_write_checked(ps->s, buffer, frames, &underflowed);
		if (n != (long long)frames)
			return cut_short(ps, n);
	} else {
		for (unsigned long done = 0; done < frames; done += (unsigned long)n) {
			unsigned long chunk = frames - done < ps->scratch_frames ? frames - done
										   : ps->scratch_frames;

			convert(ps->scratch, (void *const *)buffer, ps->channels[1], ps->sample_bytes[1],
				done, chunk, 0);
			n = sdc_stream_write_checked(ps->s, ps->scratch, chunk, &u);
			if (n != (long long)chunk)
				return cut_short(ps, n);
			underflowed |= u;
		}
	}
	return underflowed ? paOutputUnderflowed : paNoError;
}

PaError Pa_ReadStream(PaStream *stream, void *buffer, unsigned long frames)
{
	int overflowed = 0, o;
	struct pa_stream *ps;
	long long n;
	PaError e;

	if (!(ps = blocking_stream(stream, buffer, frames, 0, &e)))
		return e;
	if (!ps->planar[0]) {
		n = sdc_stream_read_checked(ps->s, buffer, frames, &overflowed);
		if (n != (long long)frames)
			return cut_short(ps, n);
	} else {
		for (unsigned long done = 0; done < frames; done += (unsigned long)n) {
			unsigned long chunk = frames - done < ps->scratch_frames ? frames - done
										   : ps->scratch_frames;

			n = sdc_stream_read_checked(ps->s, ps->scratch, chunk, &o);
			if (n != (long long)chunk)
				return cut_short(ps, n);
			convert(ps->scratch, (void *const *)buffer, ps->channels[0], ps->sample_bytes[0],
				done, chunk, 1);
			overflowed |= o;
		}
	}
	return overflowed ? paInputOverflowed : paNoError;
}

signed long Pa_GetStreamReadAvailable(PaStream *stream)
{
	struct pa_stream *ps;
	PaError e;

	if (!(ps = pa_stream_get(stream, &e)))
		return e;
	if (ps->callback)
		return paCanNotReadFromACallbackStream;
	if (ps->device[0] == paNoDevice)
		return paCanNotReadFromAnOutputOnlyStream;
	return (signed long)sdc_stream_read_available(ps->s);
}

signed long Pa_GetStreamWriteAvailable(PaStream *stream)
{
	struct pa_stream *ps;
	PaError e;

	if (!(ps = pa_stream_get(stream, &e)))
		return e;
	if (ps->callback)
		return paCanNotWriteToACallbackStream;
	if (ps->device[1] == paNoDevice)
		return paCanNotWriteToAnInputOnlyStream;
	return (signed long)sdc_stream_write_available(ps->s);
}
