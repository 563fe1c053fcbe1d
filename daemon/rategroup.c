/*
 * Rate groups on the loop thread: making a group's resampler and buffers
 * before its first stream attaches, and freeing them once the audio
 * thread let go.  See rategroup.h; the audio thread's half is in
 * rategroup-rt.c.  Loop thread.
 */
#include "rategroup.h"

#include <errno.h>
#include <stdlib.h>

#include <speex/speex_resampler.h>

static uint32_t gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

int rategroup_new(bool output, uint32_t rate, uint32_t device_rate, int channels,
		  int device_channels, bool own, int quality, struct rategroup **ret)
{
	struct rategroup *g;
	uint32_t in_rate = output ? rate : device_rate, out_rate = output ? device_rate : rate;
	uint64_t chunk;
	int err = 0;

	if (rate == 0 || device_rate == 0 || channels < 1 || channels > device_channels)
		return -EINVAL;
	if (quality < RATEGROUP_QUALITY_MIN || quality > RATEGROUP_QUALITY_MAX)
		quality = RATEGROUP_QUALITY_DEFAULT;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->output = output;
	g->rate = rate;
	g->device_rate = device_rate;
	g->channels = channels;
	g->device_channels = device_channels;
	g->own = own;
	g->quality = quality;
	g->num = rate / gcd(rate, device_rate);
	g->den = device_rate / gcd(rate, device_rate);
	list_init(&g->link);
	/* A call makes or takes at most RATEGROUP_MAX_FRAMES at the streams' rate (and rounding). */
	chunk = (uint64_t)(RATEGROUP_MAX_FRAMES - 4) * device_rate / rate;
	if (chunk > RATEGROUP_MAX_DEVICE_FRAMES)
		chunk = RATEGROUP_MAX_DEVICE_FRAMES;
	g->chunk = chunk > 0 ? (uint32_t)chunk : 1;
	g->capacity = RATEGROUP_MAX_FRAMES;
	g->buf = calloc((size_t)g->capacity * (size_t)channels, sizeof(float));
	g->dev_buf = calloc((size_t)g->chunk * (size_t)channels, sizeof(float));
	g->resampler = speex_resampler_init((spx_uint32_t)channels, in_rate, out_rate, quality, &err);
	if (!g->buf || !g->dev_buf || !g->resampler) {
		rategroup_free(g);
		return err == RESAMPLER_ERR_ALLOC_FAILED || err == 0 ? -ENOMEM : -EINVAL;
	}
	if (output) {
		/* Its filter's half length, in input frames, is the signal's delay. */
		g->delay = (double)speex_resampler_get_input_latency(g->resampler) / in_rate;
		g->delay_out = (uint32_t)speex_resampler_get_output_latency(g->resampler);
	} else {
		/*
		 * Capture starts without the filter's delay: the first frame made
		 * is the first frame captured, not silence fading in.  (Playback
		 * keeps it: there it is the client's frames that come later.)
		 */
		speex_resampler_skip_zeros(g->resampler);
	}
	*ret = g;
	return 0;
}

void rategroup_free(struct rategroup *g)
{
	if (!g)
		return;
	if (g->resampler)
		speex_resampler_destroy(g->resampler);
	free(g->buf);
	free(g->dev_buf);
	free(g);
}

json_object *rategroup_json(const struct rategroup *g)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "direction", json_object_new_string(g->output ? "output" : "input"));
	json_object_object_add(o, "samplerate", json_object_new_int64(g->rate));
	json_object_object_add(o, "channels", json_object_new_int(g->channels));
	json_object_object_add(o, "streams", json_object_new_int((int)g->users));
	json_object_object_add(o, "own", json_object_new_boolean(g->own));
	json_object_object_add(o, "quality", json_object_new_int(g->quality));
	json_object_object_add(o, "delay", json_object_new_double(g->delay));
	return o;
}
