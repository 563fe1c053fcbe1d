/*
 * The device backend: what the daemon needs of an audio system, as a table
 * of operations that an implementation fills in (as sndiod's slotops and
 * seatd's seat_impl do).  backend-pa.c implements it on PortAudio; the
 * engine's unit tests run on a fake one (tests/unit/fake-backend.c) that
 * the daemon never links.  Nothing above this interface sees a PortAudio
 * type: devices, sample formats, flags, times and errors are our own.
 *
 * Devices have two numberings.  A backend's own lists (enumerate, probe)
 * number devices as the backend does; the daemon keeps its own list
 * (devices.c), whose indices stay put while the backend's change, and tells
 * the backend with bind() which device each of its indices is: check and
 * open take the daemon's indices.  A device is the same in every list when
 * its uid is, however its name or index changed.
 *
 * Threads: init, fini, enumerate, probe, bind, check, open, version and
 * the stream queries (time, cpu_load, info) run on the loop thread.  start, stop,
 * abort and close touch nothing but the backend stream they are given, so
 * that they may run on a worker thread (one at a time per stream; a
 * start beside queries of the same stream, a close after its last query)
 * when a backend can block in them
 * (backend.threaded_calls).  The process callback runs on the backend's
 * audio thread; the finished callback runs on whichever thread the backend
 * ends a stream on (its audio thread, or the thread calling stop or abort).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "proto.h"

struct backend;

/* One device, as the backend lists it. */
struct device_info {
	char *name; /* valid UTF-8 */
	/*
	 * The stable id: the same device has the same uid in every list, across
	 * rescans, replugs and restarts ("alsa:hw:PCH,0", "alsa:t_out",
	 * "jack:system"); unique within a list; valid UTF-8.
	 */
	char *uid;
	/*
	 * What the backend needs to open the device when its running
	 * enumeration does not list it (PortAudio's ALSA: the PCM name); NULL
	 * when it can only open it through that enumeration.
	 */
	char *locator;
	int hostapi;
	int max_input_channels;
	int max_output_channels;
	double default_low_input_latency;   /* seconds */
	double default_low_output_latency;  /* seconds */
	double default_high_input_latency;  /* seconds */
	double default_high_output_latency; /* seconds */
	double default_samplerate;	    /* Hz */
	/*
	 * The daemon's list only: the device went away.  It keeps its index
	 * (without channels) while device streams are open, so that no index
	 * the engine holds moves; backends never set it.
	 */
	bool gone;
};

/* One host API (ALSA, JACK, …), as the backend lists it. */
struct hostapi_info {
	char *name; /* valid UTF-8 */
	int type;   /* the backend's own id of the kind of host API */
	int *devices;
	int device_count;
	int default_input_device;  /* -1 when none */
	int default_output_device; /* -1 when none */
};

/* Everything enumerate() reports; the caller owns it (backend_devlist_free()). */
struct backend_devlist {
	struct device_info *dev;
	int count;
	struct hostapi_info *api;
	int api_count;
	int default_input;  /* -1 when none */
	int default_output; /* -1 when none */
};

/* Frees what a devlist holds and zeroes it; l may be zeroed already. */
void backend_devlist_free(struct backend_devlist *l);

/* Frees what one device holds (not d itself). */
void backend_device_clear(struct device_info *d);

/* Copies src into dst (deep); returns 0 or -ENOMEM (dst then holds nothing to free). */
int backend_device_copy(struct device_info *dst, const struct device_info *src);

/*
 * Makes the uids of l unique, appending "#2", "#3", … to repeats (two
 * devices of the same name on one host API).  Returns 0 or -ENOMEM.
 */
int backend_devlist_unique_uids(struct backend_devlist *l);

/*
 * How the running backend can open one device of the daemon's list
 * (bind()'s answer, per device).
 */
enum backend_binding {
	BACKEND_BOUND = 0,	   /* through its running enumeration */
	BACKEND_BY_NAME,	   /* by its locator: it appeared after the backend started */
	BACKEND_NEEDS_REINIT,	   /* only after fini and init: it appeared after the start */
	BACKEND_NEEDS_REINIT_LOST, /* only after fini and init: its host API lost its server */
	BACKEND_UNBOUND,	   /* not at all: the device is gone */
};

/*
 * What probe() reports, on the loop thread: status 0 and the list, which
 * done takes over (backend_devlist_free()), or a negative errno and an
 * empty list.
 */
typedef void (*backend_probe_fn)(void *data, int status, struct backend_devlist *list);

/* Stream options (sounddevice's clip_off, dither_off, never_drop_input, prime_output_…). */
#define BACKEND_CLIP_OFF 0x1u
#define BACKEND_DITHER_OFF 0x2u
#define BACKEND_NEVER_DROP_INPUT 0x4u
#define BACKEND_PRIME_OUTPUT 0x8u

/* How to open a stream (or what to check). */
struct backend_params {
	int device_in;		 /* -1: no input */
	int device_out;		 /* -1: no output */
	int channels_in;
	int channels_out;
	int format_in;		 /* enum sample_format */
	int format_out;
	double samplerate;	 /* Hz */
	unsigned long blocksize; /* frames per callback; 0: as the backend likes */
	double latency_in;	 /* seconds (suggested) */
	double latency_out;	 /* seconds (suggested) */
	unsigned flags;		 /* BACKEND_CLIP_OFF, … */
	/*
	 * How long a call on the stream (its open, start, stop, close) may wait
	 * for an audio server before the backend takes that server for gone;
	 * 0: the backend's own limit.
	 */
	unsigned wait_ms;
};

/* The times of one period, in seconds of the stream's clock. */
struct backend_times {
	double input_adc;  /* when the first captured frame was at the converter */
	double output_dac; /* when the first frame to play will be at the converter */
	double now;	   /* when the callback was called */
};

/* What the process callback asks for. */
enum backend_result {
	BACKEND_CONTINUE, /* call again next period */
	BACKEND_COMPLETE, /* play what was produced, then stop (the finished callback follows) */
};

/*
 * The callbacks of a stream.  process is called once a period with the
 * captured frames (input) and the buffer to fill (output), interleaved, in
 * the stream's formats; either is NULL when the stream has no such
 * direction.  status holds the period's SHM_* flags (sounddevice's
 * CallbackFlags: SHM_INPUT_UNDERFLOW, …).  finished is called once the
 * stream became inactive: after BACKEND_COMPLETE, a stop or an abort, or
 * when it ended by itself (the device went away).
 */
struct backend_callbacks {
	enum backend_result (*process)(void *data, const void *input, void *output,
				       unsigned long frames, const struct backend_times *times,
				       uint32_t status);
	void (*finished)(void *data);
	void *data;
};

/* What a stream really got. */
struct backend_stream_info {
	double samplerate; /* Hz */
	double latency_in; /* seconds */
	double latency_out;
};

/* A failure as the backend reports it. */
struct backend_error {
	int code;	 /* the backend's own error number (PortAudio's PaError); 0: none */
	char text[128];	 /* its description */
	bool busy;	 /* the device is in use (or unavailable) */
	bool has_host_error;
	int host_api;	 /* host API index of the error, -1 when unknown */
	long host_error; /* the host API's own error number */
	char host_text[256];
};

/* A stream of a backend; implementations embed it in their own. */
struct backend_stream {
	struct backend *backend;
};

/* The operations; every function returning int returns 0 or a negative errno. */
struct backend_ops {
	const char *name;
	/* Starts the audio system (PortAudio's initialisation). */
	int (*init)(struct backend *b, struct backend_error *err);
	/* Stops it; no stream may be open. */
	void (*fini)(struct backend *b);
	/* Lists the devices and host APIs into *ret. */
	int (*enumerate)(struct backend *b, struct backend_devlist *ret);
	/* Says whether a stream with p could be opened (-EINVAL with err set when not). */
	int (*check)(struct backend *b, const struct backend_params *p, struct backend_error *err);
	/* Opens a stream, not started. */
	int (*open)(struct backend *b, const struct backend_params *p,
		    const struct backend_callbacks *cb, struct backend_stream **ret,
		    struct backend_error *err);
	int (*start)(struct backend_stream *s, struct backend_error *err);
	/* Plays what is buffered, then stops. */
	int (*stop)(struct backend_stream *s);
	/* Stops at once, dropping what is buffered; nothing when already stopped. */
	int (*abort)(struct backend_stream *s);
	/* Frees the stream (stopped or not started). */
	void (*close)(struct backend_stream *s);
	/* The stream's clock, in seconds. */
	double (*time)(struct backend_stream *s);
	/* The callback's load (fraction of the period). */
	double (*cpu_load)(struct backend_stream *s);
	void (*info)(struct backend_stream *s, struct backend_stream_info *ret);
	/* Returns the backend's version number and its text in *ret_text. */
	int (*version)(struct backend *b, const char **ret_text);
	/*
	 * Lists the devices as a fresh start of the backend would, without
	 * touching its running state or open streams (PortAudio: in a child
	 * process of its own), giving up after timeout_ms.  done runs later on
	 * loop's thread, never from within this call.  One probe at a time:
	 * -EBUSY while one runs.
	 */
	int (*probe)(struct backend *b, uv_loop_t *loop, unsigned timeout_ms, backend_probe_fn done,
		     void *data);
	/* Abandons the running probe, if any: its done is never called. */
	void (*probe_cancel)(struct backend *b);
	/*
	 * Learns the daemon's list (count devices, by uid): check and open
	 * take its indices from now on.  Stores how each device can be opened
	 * in ret (count entries).  Returns 0 or -ENOMEM (then nothing changed).
	 */
	int (*bind)(struct backend *b, const struct device_info *dev, int count,
		    enum backend_binding *ret);
	/*
	 * Sets fn, which the backend calls on any thread when it notices a
	 * change that calls for a rescan (a JACK server went away).  fn must be
	 * safe to call from any thread (uv_async_send()).
	 */
	void (*set_notify)(struct backend *b, void (*fn)(void *data), void *data);
	/*
	 * Wakes stream calls (start, stop, abort, close) that wait for a
	 * server that went away, so that they return; NULL when calls never
	 * wait so.  The loop thread calls it now and then while such calls run.
	 */
	void (*unblock)(struct backend *b);
	/*
	 * How many calls the loop thread gave up on while they still run (an
	 * open that waits for a server that does not answer): the backend may
	 * not be stopped (fini) while any does.  NULL when none can be.  When
	 * the last ends, the backend calls set_notify's fn.
	 */
	unsigned (*stuck)(struct backend *b);
};

struct backend {
	const struct backend_ops *ops;
	/*
	 * Stream calls (start, stop, abort, close) may block, for as long as
	 * the audio system pleases: the daemon runs them on worker threads.
	 */
	bool threaded_calls;
};

/* The PortAudio backend (backend-pa.c); NULL when out of memory. */
struct backend *backend_pa_new(void);
void backend_pa_free(struct backend *b);

/*
 * Fills err from a backend error, with the host API's error when there is
 * one; the message is prefixed by the printf-style context.  Returns
 * -EINVAL.
 */
__attribute__((format(printf, 4, 5))) int backend_error_proto(struct proto_error *err,
							      const struct backend_error *be,
							      enum proto_errcode code,
							      const char *fmt, ...);
