/*
 * A client stream: what one play, rec or playrec (or an open stream of
 * libsdc's stream API) is on the daemon's side.  It owns the shared memory
 * and the eventfd handed to the client, the channel routes between the
 * client's data and a device stream's channels, and the state the audio
 * thread and the loop thread share.
 *
 * Threads: on the loop thread, the engine creates, attaches, finishes and
 * frees streams (engine.c, engine-attach.c), and stream.c makes their
 * shared memory and status.  The audio threads of the device streams a
 * stream is attached to run stream_rt_*() (stream-rt.c) and touch only
 * the members marked "RT"; they communicate with the loop thread through
 * atomics and the device stream's notify eventfd.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "list.h"
#include "memfd.h"
#include "shm.h"

struct devstream;
struct rategroup;

/* The most channels a client's data may have, and routes a stream may use. */
#define STREAM_MAX_CHANNELS 256
#define STREAM_MAX_ROUTES 512

/* Seconds a volume change takes: a linear ramp, so that it neither clicks nor zippers. */
#define STREAM_VOLUME_RAMP_SECONDS 0.020

/* The highest volume a stream may have (linear; +20 dB). */
#define STREAM_VOLUME_MAX 10.0

/* Xruns remembered per direction until the loop thread reports them. */
#define STREAM_XRUN_QUEUE 256

/* Pending notifications from the audio thread to the loop thread. */
#define STREAM_EV_STATE 0x1u /* the state changed (started, drained, finished, failed) */
#define STREAM_EV_XRUN 0x2u  /* xruns are queued */

enum stream_kind {
	STREAM_PLAY,
	STREAM_REC,
	STREAM_PLAYREC,
	STREAM_OPEN, /* libsdc's stream API: started and stopped explicitly */
};

/* A channel route: sample src of one frame goes to channel dst of the other side. */
struct stream_route {
	uint16_t src;
	uint16_t dst;
};

struct stream_xrun {
	uint32_t flags;	   /* SHM_* flags of that period */
	uint64_t position; /* frames of this direction before the period */
};

/* One direction of a stream: "out" (playback) or "in" (capture). */
struct stream_dir {
	bool used;
	struct stream *stream;
	struct devstream *dev; /* the device stream it is attached to, NULL when detached */
	struct shm_ring *ctl;  /* in shared memory */
	unsigned char *data;   /* ring data in shared memory */
	uint32_t capacity;     /* frames, a power of two */
	uint32_t frame_bytes;  /* bytes per client frame */
	int dtype;	       /* client's enum sample_format */
	int channels;	       /* client's channels */
	int stream_channels;   /* device channels the routes need (sounddevice's stream channels) */
	int nroutes;
	struct stream_route routes[STREAM_MAX_ROUTES];
	int64_t limit; /* frames to move before this direction is done; -1: until the end */
	struct rategroup *group; /* the rate group it goes through on dev; NULL: at dev's rate */

	/*
	 * Volume, per channel of the client's data (shared streams).  The loop
	 * thread keeps the setting and publishes the gains to ramp to under a
	 * sequence count (odd while it writes them); the audio thread takes
	 * them at its next period, or the one after when it met a write.
	 */
	float volume[STREAM_MAX_CHANNELS]; /* loop thread: linear, as set */
	bool mute;			   /* loop thread */
	uint32_t ramp_frames;		   /* frames a change takes, at the stream's rate */
	_Atomic uint32_t gain_seq;
	_Atomic uint32_t gain_bits[STREAM_MAX_CHANNELS]; /* floats: the gains to reach */

	/* RT: owned by the audio thread of dev. */
	uint32_t index;	   /* own ring index: read (out) or write (in) */
	uint64_t position; /* frames moved so far */
	bool looping;	   /* out: replaying [loop_start, loop_end) */
	uint32_t loop_start, loop_end;
	_Atomic bool done; /* this direction has nothing more to do */
	uint32_t gain_seen;			/* the gain_seq taken last */
	bool scaled;				/* a gain is not 1, or a ramp runs (else: no scaling) */
	float gain_from[STREAM_MAX_CHANNELS];	/* where the ramp started */
	float gain_to[STREAM_MAX_CHANNELS];	/* where it goes (and stays) */
	uint32_t ramp_pos, ramp_len;		/* frames into the ramp, and its length (0: none) */

	/* Xrun queue: the audio thread produces, the loop thread consumes. */
	_Atomic uint32_t xrun_head, xrun_tail;
	_Atomic uint32_t xrun_lost;
	struct stream_xrun xruns[STREAM_XRUN_QUEUE];
};

struct stream {
	void *owner; /* the record of whoever created it (the command layer's); the engine never reads it */
	struct list engine_link;
	uint32_t handle;
	enum stream_kind kind;
	bool loop;
	bool exclusive;
	bool clip_off;
	_Atomic bool autostart; /* the audio thread starts it once start_frames are buffered */
	uint32_t start_frames;	/* out: frames buffered before playback starts (set before autostart) */
	double limit_seconds;  /* in: record this long (at the actual rate) when > 0 */
	double samplerate;     /* Hz: the client's rate (shared streams are resampled to it) */
	bool aligned;	       /* playrec on one device stream: recorded frame k + offset is played frame k */
	uint32_t offset_frames;

	struct memfd shm;
	struct shm_header *hdr;
	int wake_fd; /* eventfd the daemon writes to wake the client */
	struct stream_dir out, in;

	/* Shared between the audio threads and the loop thread. */
	_Atomic int state;	 /* enum shm_state */
	_Atomic uint32_t events; /* STREAM_EV_* not yet handled by the loop thread */
	_Atomic uint32_t flags;	 /* accumulated SHM_* callback flags */
	_Atomic uint64_t end_time_bits; /* double: DAC time of the last frame played (shared drain) */
	_Atomic int violation;		/* set when the client broke the ring protocol */
	_Atomic bool aborted;		/* the client asked to abort through its ring */
	/*
	 * The daemon's own counters, which status reports: the audio threads
	 * add to them and store copies in the shared header for the client,
	 * whose writes there the daemon never reads back.
	 */
	_Atomic uint32_t xruns;
	_Atomic uint64_t frames_out;  /* frames consumed from the out ring */
	_Atomic uint64_t silence_out; /* frames of silence played because the out ring was empty */
	_Atomic uint64_t frames_in;   /* frames produced into the in ring */
	_Atomic uint64_t dropped_in;  /* captured frames dropped because the in ring was full */

	/* Loop thread only (the engine's). */
	int rt_refs;	/* device-stream attachments the audio threads may still use */
	bool released;	/* no one needs the record any more: free it once rt_refs is 0 */
	bool active;	/* started and not over: counted in the engine's active_count */
	bool xrun_pending; /* xruns are queued for the next batch */
	bool draining; /* waiting for the last frames to leave the device */
	uint64_t drain_deadline; /* uv_now() milliseconds when the last frame has been played */
	uint32_t xrun_count;
	char error_code[32];
	char error[256];
};

/* Returns the bytes of shared memory the stream needs (its directions described). */
size_t stream_shm_size(const struct stream *s);

/*
 * Creates a stream's shared memory and eventfd once its directions are
 * described (capacity, frame_bytes and routes filled in).  Returns 0 or a
 * negative errno.
 */
int stream_create_shm(struct stream *s);

/* Sets a direction's volume to unity, as a new stream's is (the loop thread's record of it). */
void stream_volume_init(struct stream_dir *d);

/*
 * Sets a shared direction's volume: gains (linear, 0 to STREAM_VOLUME_MAX)
 * for each of its count channels, or one for all when count is 1 (count 0
 * leaves them); mute 1 mutes, 0 unmutes, -1 leaves it.  The audio thread
 * ramps to the result over ramp_frames.
 */
void stream_set_volume(struct stream_dir *d, const float *gains, int count, int mute);

/* The direction a stream's volume applies to: its playback, else its recording. */
struct stream_dir *stream_volume_dir(struct stream *s);

/* Frees everything the stream owns; it must be detached from all device streams. */
void stream_free(struct stream *s);

/* Writes the client's eventfd (from any thread: one eventfd write, nothing else). */
void stream_wake_client(struct stream *s);

/* Sets the state (in shared memory too); returns the previous one. */
int stream_set_state(struct stream *s, int state);

/* Returns true when the state is FINISHED or FAILED. */
bool stream_is_over(const struct stream *s);

/* The status object of get_status/wait: sounddevice's CallbackFlags and more. */
json_object *stream_status_json(struct stream *s);

/* ---- Audio thread (stream-rt.c) ---------------------------------------- */

/*
 * How stream_rt_mix() puts a stream's frames into the mix.  The first
 * stream of a period sets the buffer, so that it need not be cleared
 * first; when it is the only one, it also clamps what it writes, so that
 * the mix takes one pass instead of three (clear, add, clip).
 */
enum stream_mix {
	STREAM_MIX_ADD,      /* add to what the buffer holds */
	STREAM_MIX_SET,      /* overwrite: the frames, then silence for the rest */
	STREAM_MIX_SET_CLIP, /* as STREAM_MIX_SET, the frames clamped to [-1, 1] */
};

/*
 * Mixes up to frames frames of the stream's playback into mix (float,
 * channels interleaved) as how says, advancing the ring.  time is the DAC
 * time of mix's first frame, rate the device's rate.  Returns the
 * notifications to raise (STREAM_EV_*).
 */
uint32_t stream_rt_mix(struct stream_dir *d, float *mix, int channels, uint32_t frames,
		       double dac_time, double now, double rate, enum stream_mix how);

/* Fans captured float frames (channels interleaved) out to the stream's capture ring. */
uint32_t stream_rt_capture(struct stream_dir *d, const float *in, int channels, uint32_t frames,
			   double adc_time, double now, double rate);

/*
 * Exclusive streams: copies frames bit-exactly between the ring and a
 * PortAudio buffer in the client's own format (channels interleaved).
 * Playback writes every sample of out: what the ring does not fill (frames
 * it lacks, channels no route reaches) is silence.  Returns notifications
 * as above; *ret_complete is set once playback has nothing more to give.
 */
uint32_t stream_rt_copy_out(struct stream_dir *d, unsigned char *out, int channels,
			    uint32_t frames, double dac_time, double now, double rate,
			    bool *ret_complete);
uint32_t stream_rt_copy_in(struct stream_dir *d, const unsigned char *in, int channels,
			   uint32_t frames, double adc_time, double now, double rate);

/* Records device-level flags (PortAudio's statusFlags) of d's direction for a period. */
uint32_t stream_rt_device_flags(struct stream_dir *d, uint32_t flags);
