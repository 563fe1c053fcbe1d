/*
 * The realtime half of rate groups (see rategroup.h): keeping a group's
 * pull of client frames in step with its resampler, resampling, and
 * adding the result to the device's mix.  Everything in this file runs on
 * the device stream's audio thread and follows the realtime rules of
 * stream-rt.c: it only computes on memory the loop thread allocated.
 * speexdsp's processing functions allocate nothing either (the test
 * shared_any's allocation count checks the whole audio thread).
 */
#include <string.h>

#include <speex/speex_resampler.h>

#include "rategroup.h"
#include "sample.h"

/*
 * How the resampler consumes: output frame j (counted from the group's
 * start) is computed around input frame floor(j × num / den), which must
 * have been given.  produced and fed are kept small: every den outputs,
 * num inputs are taken off both counts.
 */
static uint32_t frames_needed(const struct rategroup *g, uint32_t dev_frames)
{
	int64_t last = (int64_t)(((g->produced + dev_frames - 1) * g->num) / g->den);
	int64_t need = last + 1 - g->fed;

	return need > 0 ? (uint32_t)need : 0;
}

float *rategroup_rt_play_begin(struct rategroup *g, uint32_t dev_frames, uint32_t *ret_frames,
			       double *ret_delay)
{
	uint32_t need = frames_needed(g, dev_frames);

	/* The chunk size guarantees room; this keeps a bug from writing past the buffer. */
	if (need > g->capacity - g->fill)
		need = g->capacity - g->fill;
	*ret_frames = need;
	/* The first new frame is heard fed × den / num output frames in, less those out already. */
	*ret_delay = ((double)g->fed * g->den / g->num - (double)g->produced) / g->device_rate +
		     g->delay;
	return g->buf + (size_t)g->fill * (size_t)g->channels;
}

void rategroup_rt_play_end(struct rategroup *g, float *out, uint32_t dev_frames)
{
	uint32_t mixed = frames_needed(g, dev_frames);
	spx_uint32_t in_len, out_len = dev_frames;
	size_t ch = (size_t)g->channels, dch = (size_t)g->device_channels;
	uint32_t q;

	if (mixed > g->capacity - g->fill)
		mixed = g->capacity - g->fill;
	sample_sanitize(g->buf + g->fill * ch, mixed * ch);
	g->fill += mixed;
	g->fed += mixed;
	in_len = g->fill;
	speex_resampler_process_interleaved_float(g->resampler, g->buf, &in_len, g->dev_buf,
						  &out_len);
	/* What the resampler did not consume moves to the front for the next call. */
	if (in_len < g->fill)
		memmove(g->buf, g->buf + in_len * ch, (g->fill - in_len) * ch * sizeof(float));
	g->fill -= in_len;
	/* It gives all that was asked; should it not, the rest is silence. */
	if (out_len < dev_frames)
		memset(g->dev_buf + out_len * ch, 0, (dev_frames - out_len) * ch * sizeof(float));
	g->produced += out_len;
	q = (uint32_t)(g->produced / g->den);
	g->produced -= (uint64_t)q * g->den;
	g->fed -= (int64_t)q * g->num;
	if (ch == dch) {
		for (size_t i = 0; i < (size_t)dev_frames * ch; i++)
			out[i] += g->dev_buf[i];
		return;
	}
	for (size_t f = 0; f < dev_frames; f++)
		for (size_t c = 0; c < ch; c++)
			out[f * dch + c] += g->dev_buf[f * ch + c];
}

const float *rategroup_rt_capture(struct rategroup *g, const float *in, uint32_t dev_frames,
				  uint32_t *ret_frames)
{
	size_t ch = (size_t)g->channels, dch = (size_t)g->device_channels;
	spx_uint32_t in_len = dev_frames, out_len = g->capacity;
	const float *src = in;

	/* The resampler takes interleaved frames of its own channels: copy them out when fewer. */
	if (ch != dch) {
		for (size_t f = 0; f < dev_frames; f++)
			memcpy(g->dev_buf + f * ch, in + f * dch, ch * sizeof(float));
		src = g->dev_buf;
	}
	speex_resampler_process_interleaved_float(g->resampler, src, &in_len, g->buf, &out_len);
	*ret_frames = out_len;
	return g->buf;
}
