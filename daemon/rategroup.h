/*
 * Rate groups: the client streams of one sample rate on a shared device
 * stream of another, resampled once for all of them.  Resampling is linear
 * and the streams share the device's clock, so mixing a group's playback
 * at its own rate and resampling the sum gives what resampling each stream
 * would, at the cost of one resampler per rate instead of one per stream;
 * capture is resampled once per group and then handed to each of its
 * streams.  The resampler is speexdsp's (chosen with bench/resample.c: at
 * quality 7 it keeps 117 dB SNR at 1 kHz, is flat to 20 kHz within 0.01 dB,
 * delays by 1.45 ms and holds nothing back).
 *
 * Playback keeps the pull of client frames in step with what the resampler
 * consumes: each call asks for exactly the frames the resampler will need
 * to produce the device's frames (rategroup_rt_play_begin()), the
 * streams mix that many at the group's rate, and the resampler produces
 * them (rategroup_rt_play_end()).  At most a frame or two waits in between,
 * so the group neither drifts nor buffers: after n device frames, n × rate
 * / device rate client frames were pulled, to the frame.
 *
 * A group covers the first `channels` channels of its device stream: the
 * most its streams route to.  Everything the audio thread uses — the
 * resampler's state, the buffers — is allocated here, by the loop thread,
 * before the first stream of the group is attached; the audio thread only
 * computes.  A group that loses its last stream is freed once the audio
 * thread has moved past the last attach list that held it.
 *
 * Threads: rategroup_new() and rategroup_free() on the loop thread;
 * rategroup_rt_*() (rategroup-rt.c) on the device stream's audio thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "list.h"

/* Client frames a group's buffer holds: one resampler call's worth at most. */
#define RATEGROUP_MAX_FRAMES 8192

/* Device frames one resampler call produces or consumes at most. */
#define RATEGROUP_MAX_DEVICE_FRAMES 4096

/* Resampler qualities (speexdsp's scale) and the default. */
#define RATEGROUP_QUALITY_MIN 0
#define RATEGROUP_QUALITY_MAX 10
#define RATEGROUP_QUALITY_DEFAULT 7

struct rategroup {
	bool output;	      /* playback (mixed, then resampled) or capture (resampled, then fanned out) */
	uint32_t rate;	      /* the streams' rate, Hz */
	uint32_t device_rate; /* the device stream's, Hz */
	int channels;	      /* the device channels 0…channels-1 it carries */
	int device_channels;  /* the device stream's channel count */
	bool own;	      /* one aligned playrec's own: started with its stream */
	int quality;
	void *resampler;      /* speexdsp's state */
	uint32_t num, den;    /* rate / device_rate in lowest terms */
	uint32_t chunk;	      /* device frames per resampler call at most */
	uint32_t capacity;    /* frames buf holds */
	float *buf;	      /* at the streams' rate: playback's mix, capture's resampled frames */
	float *dev_buf;	      /* at the device's rate: playback's resampled frames, capture's input */
	double delay;	      /* seconds the resampler delays the signal (capture: 0, see rategroup_new) */
	uint32_t delay_out;   /* the same in the resampler's output frames */

	/* Audio thread only. */
	uint32_t fill;	     /* playback: buffered frames not consumed yet (buf's first) */
	uint64_t produced;   /* playback: resampled frames since the start, modulo den */
	int64_t fed;	     /* playback: client frames given the resampler, less num per den produced */
	bool running;	     /* an own group whose stream has started */

	/* Loop thread only. */
	unsigned users;	  /* stream directions attached to it */
	struct list link; /* its device stream's groups */
};

/*
 * Makes a group for streams at rate on a device stream at device_rate with
 * device_channels channels, of which it carries the first channels.
 * quality is speexdsp's (0–10).  Returns 0 and the group in *ret, or
 * -ENOMEM, or -EINVAL when the resampler refuses the rates.
 */
int rategroup_new(bool output, uint32_t rate, uint32_t device_rate, int channels,
		  int device_channels, bool own, int quality, struct rategroup **ret);

/* Frees a group (NULL accepted). */
void rategroup_free(struct rategroup *g);

/*
 * Describes a group for daemon_status: its direction, rate, channels,
 * streams and the resampler's quality and delay.
 */
json_object *rategroup_json(const struct rategroup *g);

/* ---- Audio thread (rategroup-rt.c) -------------------------------------- */

/*
 * Playback, step one of a call: how many client frames the streams must
 * mix for the resampler to produce dev_frames (at most g->chunk) device
 * frames.  Stores that count in *ret_frames and returns where to mix them
 * (g->channels interleaved; the first stream writes, the others add).
 * *ret_delay receives the seconds from the device frames' start to the
 * moment the first of them is heard.
 */
float *rategroup_rt_play_begin(struct rategroup *g, uint32_t dev_frames, uint32_t *ret_frames,
			       double *ret_delay);

/*
 * Playback, step two: resamples what was mixed into dev_frames device
 * frames and adds them to out (device_channels interleaved).  Non-finite
 * values of the mix (sums beyond the float range) become silence or full
 * scale first, so that the resampler's memory cannot be poisoned.  A call
 * whose frames are not wanted (an own group waiting for its stream) skips
 * this step: the group and its resampler stay as they were.
 */
void rategroup_rt_play_end(struct rategroup *g, float *out, uint32_t dev_frames);

/*
 * Capture: resamples dev_frames (at most g->chunk) device frames of in
 * (device_channels interleaved) and returns the frames made at the group's
 * rate (g->channels interleaved); *ret_frames receives their count.
 */
const float *rategroup_rt_capture(struct rategroup *g, const float *in, uint32_t dev_frames,
				  uint32_t *ret_frames);
