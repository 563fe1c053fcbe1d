/*
 * libsdc — the C client library of sddaemon.
 *
 * A client is one connection to the daemon.  Every function that talks to
 * the daemon returns 0 (or a count) on success and a negative errno value
 * on failure; sdc_last_error() then tells what went wrong, in the daemon's
 * words where the daemon refused the request.  Errors reported by the
 * daemon map to errno values as follows: invalid_param → -EINVAL,
 * device_not_found → -ENODEV, device_ambiguous → -ENOTUNIQ, not_supported
 * → -ENOTSUP, unknown_command → -ENOSYS, no_such_stream → -ENOENT,
 * access_denied → -EACCES, limit_exceeded → -ENOSPC, busy → -EBUSY,
 * shutting_down → -ESHUTDOWN, unsupported_protocol → -EPROTONOSUPPORT,
 * stale_generation → -ESTALE (see sdc_set_request_generation()),
 * portaudio_error and internal_error → -EIO, and malformed-request errors
 * → -EPROTO.  A lost connection is -ECONNRESET or -EPIPE.  A stream the
 * daemon ended with an error carries its code in its status (error_code):
 * device_lost (its device went away, stopped calling back or did not
 * start) is -ENODEV where a call reports it.
 *
 * Thread safety: an sdc_client may be shared by several threads; requests
 * on it are serialised internally.  The last error is kept per thread.
 * Memory: every pointer a function hands back through a ret_ parameter
 * belongs to the caller, who frees it with the matching _free()/_clear()
 * function (or free() where that is said).  Functions never abort the
 * process over bad arguments: they return -EINVAL.
 */
#ifndef SDC_H
#define SDC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SDC_EXPORT __attribute__((visibility("default")))

typedef struct sdc_client sdc_client;

/* ---- Errors -------------------------------------------------------------- */

/*
 * What went wrong in the last failed call on this thread.  code is the
 * daemon's symbolic error code ("invalid_param", …) or "" for errors found
 * by the library itself (such as a failed connect).  pa_error is the
 * PortAudio error code behind the error, 0 when there was none; the host_
 * fields are set when PortAudio reported an unanticipated host error.
 */
typedef struct sdc_error {
	int errnum; /* the negative errno value the call returned */
	char code[32];
	char message[1024];
	int pa_error;
	char pa_error_text[128];
	int has_host_error;
	int host_api;
	long host_error;
	char host_error_text[256];
} sdc_error;

/* Returns this thread's last error; never NULL. */
SDC_EXPORT const sdc_error *sdc_last_error(void);

/* ---- Connection ---------------------------------------------------------- */

/*
 * Connects to sddaemon and exchanges "hello".  socket_path may be NULL for
 * the standard search: $SDDAEMON_SOCKET, $XDG_RUNTIME_DIR/sddaemon/socket,
 * /run/sddaemon/socket.  On success stores a new client in ret_client.
 * Fails with -ENOENT or -ECONNREFUSED when no daemon listens there.
 */
SDC_EXPORT int sdc_connect(const char *socket_path, sdc_client **ret_client);

/* Closes the connection and frees the client; NULL is allowed. */
SDC_EXPORT void sdc_close(sdc_client *client);

/* Returns the socket path the client is connected to; owned by the client. */
SDC_EXPORT const char *sdc_socket_path(const sdc_client *client);

/* Returns the daemon's version text (e.g. "0.1.0"); owned by the client. */
SDC_EXPORT const char *sdc_daemon_version(const sdc_client *client);

/* Returns the protocol version agreed with the daemon. */
SDC_EXPORT int sdc_protocol_version(const sdc_client *client);

/*
 * Sends any command: cmd is the command name, params_json a JSON object
 * text with its parameters (NULL for none).  On success stores the JSON
 * text of the result in ret_result_json (free() it; may be NULL when the
 * caller does not want it).  This is the escape hatch for commands that
 * have no typed function.
 */
SDC_EXPORT int sdc_call(sdc_client *client, const char *cmd, const char *params_json,
			char **ret_result_json);

/*
 * Events the daemon pushes (stream finished, xrun, shutdown, and the kinds
 * the client subscribed to, such as devices_changed) are delivered to this
 * callback, from inside whichever libsdc call reads
 * from the connection at the time (or from sdc_dispatch()).  json is the
 * whole event object; both strings are valid only during the call.  The
 * callback must not call into the same client.
 */
typedef void (*sdc_event_fn)(void *userdata, const char *event, const char *json);
SDC_EXPORT void sdc_set_event_callback(sdc_client *client, sdc_event_fn fn, void *userdata);

/*
 * When the daemon goes away (it stops, or it dies), the call that finds
 * the connection closed and every later call on the client fail with
 * -ECONNRESET, and sdc_last_error() says "sddaemon stopped" (it had sent a
 * "shutdown" event) or "sddaemon went away".  The event callback hears
 * of it once, as the event "connection_lost" with the JSON
 * {"event":"connection_lost","reason":"sddaemon stopped"}, from inside
 * the call that found out (or sdc_dispatch(), which then returns the
 * error).  Streams report it too: sdc_stream_status() of a stream that had
 * not finished says SDC_STATE_FAILED with error_code "connection_lost" and
 * the reason as error, sdc_stream_write() and sdc_stream_read() return
 * -ECONNRESET (or fewer frames) instead of waiting, and what a recording's
 * ring still holds can be read: nothing recorded is lost.
 */

/* Returns the connection's file descriptor, readable when events arrive. */
SDC_EXPORT int sdc_fd(const sdc_client *client);

/*
 * Reads and delivers pending events, waiting at most timeout_ms
 * milliseconds (-1: until one arrives, 0: not at all).  Returns the number
 * of events delivered.
 */
SDC_EXPORT int sdc_dispatch(sdc_client *client, int timeout_ms);

/* ---- Devices ------------------------------------------------------------- */

/*
 * A device as sounddevice names it: a numeric id, a query string of
 * space-separated case-insensitive substrings that must appear in order in
 * "device name, host-API name", or the default.  A query string equal to a
 * device's stable_id selects that device.  A zeroed sdc_device is the
 * default device; build the others with the macros.  The query string is
 * borrowed: it must stay valid while the call that takes it runs.
 */
typedef enum sdc_device_by {
	SDC_DEVICE_BY_DEFAULT = 0,
	SDC_DEVICE_BY_INDEX,
	SDC_DEVICE_BY_QUERY,
} sdc_device_by;

typedef struct sdc_device {
	sdc_device_by by;
	int index;
	const char *query;
} sdc_device;

#define SDC_DEVICE_DEFAULT ((sdc_device){ SDC_DEVICE_BY_DEFAULT, -1, NULL })
#define SDC_DEVICE_INDEX(i) ((sdc_device){ SDC_DEVICE_BY_INDEX, (i), NULL })
#define SDC_DEVICE_QUERY(s) ((sdc_device){ SDC_DEVICE_BY_QUERY, -1, (s) })

/*
 * Parses a command-line device argument: a string of digits is an index,
 * anything else a query string (borrowed from text).  NULL or "" is the
 * default device.
 */
SDC_EXPORT sdc_device sdc_device_parse(const char *text);

typedef enum sdc_kind {
	SDC_KIND_ANY = 0,
	SDC_KIND_INPUT,
	SDC_KIND_OUTPUT,
} sdc_kind;

/*
 * The keys of sounddevice's device dictionaries, and two of the daemon's:
 * stable_id names the device the same way across rescans, replugs and
 * daemon restarts ("alsa:hw:PCH,0", "alsa:t_out", "jack:system"), however
 * its index or name changed; present is 0 for a device that went away
 * while device streams were open, which keeps its index (without
 * channels) until none is.
 */
typedef struct sdc_device_info {
	int index;
	char *name;
	int hostapi;
	int max_input_channels;
	int max_output_channels;
	double default_low_input_latency;   /* seconds */
	double default_low_output_latency;  /* seconds */
	double default_high_input_latency;  /* seconds */
	double default_high_output_latency; /* seconds */
	double default_samplerate;	    /* Hz */
	char *stable_id;
	int present;
} sdc_device_info;

/* Lists all devices; free the list with sdc_device_list_free(). */
SDC_EXPORT int sdc_query_devices(sdc_client *client, sdc_device_info **ret_devices,
				 size_t *ret_count);

SDC_EXPORT void sdc_device_list_free(sdc_device_info *devices, size_t count);

/*
 * Queries one device.  With a default device and SDC_KIND_INPUT or
 * SDC_KIND_OUTPUT, returns the default input or output device; with a
 * kind, a device without channels of that kind is an error (-ENODEV).
 * Release the result with sdc_device_info_clear().
 */
SDC_EXPORT int sdc_query_device(sdc_client *client, sdc_device device, sdc_kind kind,
				sdc_device_info *ret_info);

SDC_EXPORT void sdc_device_info_clear(sdc_device_info *info);

/* Stores the default input and output device ids (-1 for none). */
SDC_EXPORT int sdc_default_device(sdc_client *client, int *ret_input, int *ret_output);

/*
 * The device list changes while the daemon runs: devices are plugged in
 * and out, JACK servers stop and start.  The daemon notices (udev, or
 * inotify on /dev/snd) or is asked (sdc_rescan_devices(), SIGHUP), and
 * merges what it finds into its list: devices keep their ids, new ones are
 * appended, and ids are reassigned only while no device is in use.  Each
 * change makes a new generation of the list (a number that only grows);
 * every reply says which generation it was made with.
 */

/*
 * Returns the generation of the device list as of the latest reply or
 * devices_changed event this client received (0 before any).
 */
SDC_EXPORT unsigned sdc_devices_generation(sdc_client *client);

/*
 * Makes every request of this client carry generation (0: none, the
 * default): the daemon refuses each with -ESTALE once its list has another
 * generation, so that a device id chosen from an older list never reaches
 * another device.  Set it to sdc_devices_generation() right after listing
 * the devices the user chose from; on -ESTALE, list them again.
 */
SDC_EXPORT void sdc_set_request_generation(sdc_client *client, unsigned generation);

/*
 * Asks the daemon to look for devices now, and returns once its list is up
 * to date (a probe can take a moment); stores in ret_changed (may be NULL)
 * whether the list changed.
 */
SDC_EXPORT int sdc_rescan_devices(sdc_client *client, int *ret_changed);

/*
 * What a devices_changed event says: the new generation and device count,
 * the devices that appeared (or came back; index is their id in the new
 * list), those that went away (index, name and stable_id as they were),
 * whether devices still present got other ids (then ids held from before
 * mean other devices: list them again), and the default devices now (-1:
 * none).  json is the whole event.  Everything is valid only during the
 * callback.
 */
typedef struct sdc_devices_change {
	unsigned generation;
	int device_count;
	const sdc_device_info *added;
	size_t added_count;
	const sdc_device_info *removed;
	size_t removed_count;
	int renumbered;
	int default_input;
	int default_output;
	const char *json;
} sdc_devices_change;

typedef void (*sdc_devices_changed_fn)(void *userdata, const sdc_devices_change *change);

/*
 * Subscribes the client to devices_changed events and has fn called for
 * each (fn NULL: unsubscribes).  Events are delivered as those of
 * sdc_set_event_callback() are (which sees them too): from inside whichever
 * call reads from the connection, or sdc_dispatch(); fn must not call into
 * the same client.  Returns 0 or a negative errno.
 */
SDC_EXPORT int sdc_set_devices_changed_callback(sdc_client *client, sdc_devices_changed_fn fn,
						void *userdata);

/* The keys of sounddevice's host-API dictionaries. */
typedef struct sdc_hostapi_info {
	int index;
	char *name;
	int *devices;
	size_t device_count;
	int default_input_device;  /* -1 when none */
	int default_output_device; /* -1 when none */
} sdc_hostapi_info;

/* Lists all host APIs; free the list with sdc_hostapi_list_free(). */
SDC_EXPORT int sdc_query_hostapis(sdc_client *client, sdc_hostapi_info **ret_hostapis,
				  size_t *ret_count);

/* Queries one host API; release it with sdc_hostapi_info_clear(). */
SDC_EXPORT int sdc_query_hostapi(sdc_client *client, int index, sdc_hostapi_info *ret_info);

SDC_EXPORT void sdc_hostapi_list_free(sdc_hostapi_info *hostapis, size_t count);
SDC_EXPORT void sdc_hostapi_info_clear(sdc_hostapi_info *info);

/* ---- Settings ------------------------------------------------------------ */

/* Sample formats; SDC_FLOAT64 exists only in the library, which converts it. */
typedef enum sdc_dtype {
	SDC_DTYPE_DEFAULT = 0,
	SDC_FLOAT32,
	SDC_INT32,
	SDC_INT24,
	SDC_INT16,
	SDC_INT8,
	SDC_UINT8,
	SDC_FLOAT64,
} sdc_dtype;

/* Returns the name of dtype ("float32", …) or NULL. */
SDC_EXPORT const char *sdc_dtype_name(sdc_dtype dtype);

/* Returns the dtype named name, or SDC_DTYPE_DEFAULT when there is none. */
SDC_EXPORT sdc_dtype sdc_dtype_from_name(const char *name);

/* Returns the size of one sample in bytes (int24: 3), 0 for the default. */
SDC_EXPORT size_t sdc_dtype_size(sdc_dtype dtype);

/* Settings as check_input_settings() takes them; 0 / default means "use the default". */
typedef struct sdc_settings {
	sdc_device device;
	int channels;
	sdc_dtype dtype;
	double samplerate;
} sdc_settings;

/*
 * Asks whether the settings are supported for input or output.  Returns 0
 * when they are (and, when ret_resolved is not NULL, the settings with the
 * defaults filled in; its device is by index), -ENOTSUP with the daemon's
 * explanation in sdc_last_error() when not.  SDC_FLOAT64 is no device
 * format: -EINVAL ("Invalid output sample format"), as in sounddevice.
 */
SDC_EXPORT int sdc_check_input_settings(sdc_client *client, const sdc_settings *settings,
					sdc_settings *ret_resolved);
SDC_EXPORT int sdc_check_output_settings(sdc_client *client, const sdc_settings *settings,
					 sdc_settings *ret_resolved);

/*
 * Stores PortAudio's version number and text (free() the text; ret_text
 * may be NULL).
 */
SDC_EXPORT int sdc_get_portaudio_version(sdc_client *client, int *ret_version, char **ret_text);


/* ---- Defaults (sounddevice's `default`) -------------------------------- */

/*
 * Every client has defaults that fill in whatever a call leaves
 * unspecified, as sounddevice's `default` object does.  Pairs are
 * [input, output].  Latency: seconds, or SDC_LATENCY_LOW / SDC_LATENCY_HIGH
 * (the device's default low or high latency).  Flags: SDC_FLAG_*.  Set them
 * before sharing the client between threads.
 */
#define SDC_LATENCY_LOW (-1.0)
#define SDC_LATENCY_HIGH (-2.0)

#define SDC_FLAG_CLIP_OFF 0x01u
#define SDC_FLAG_DITHER_OFF 0x02u
#define SDC_FLAG_NEVER_DROP_INPUT 0x04u
#define SDC_FLAG_PRIME_OUTPUT_BUFFERS_USING_STREAM_CALLBACK 0x08u
#define SDC_FLAG_EXCLUSIVE 0x100u

typedef struct sdc_defaults {
	sdc_device device[2]; /* queries point into the client; valid until the next set */
	int channels[2];      /* 0: as the call or device decides */
	sdc_dtype dtype[2];   /* SDC_FLOAT32 unless set */
	double latency[2];    /* SDC_LATENCY_HIGH unless set */
	double samplerate;    /* 0: the device's (or running stream's) rate */
	int blocksize;	      /* 0: as PortAudio likes */
	unsigned flags;	      /* SDC_FLAG_* */
} sdc_defaults;

/* Copies the client's current defaults into ret. */
SDC_EXPORT void sdc_default_get(const sdc_client *client, sdc_defaults *ret);

/* Sets the default devices (query strings are copied). */
SDC_EXPORT int sdc_default_set_device(sdc_client *client, sdc_device input, sdc_device output);
SDC_EXPORT int sdc_default_set_channels(sdc_client *client, int input, int output);
SDC_EXPORT int sdc_default_set_dtype(sdc_client *client, sdc_dtype input, sdc_dtype output);
SDC_EXPORT int sdc_default_set_latency(sdc_client *client, double input, double output);
SDC_EXPORT int sdc_default_set_samplerate(sdc_client *client, double samplerate);
SDC_EXPORT int sdc_default_set_blocksize(sdc_client *client, int blocksize);
SDC_EXPORT int sdc_default_set_flags(sdc_client *client, unsigned flags);

/* Resets all defaults to their factory values. */
SDC_EXPORT void sdc_default_reset(sdc_client *client);

/* ---- Status ------------------------------------------------------------ */

/* sounddevice's CallbackFlags (PortAudio's values). */
#define SDC_INPUT_UNDERFLOW 0x01u
#define SDC_INPUT_OVERFLOW 0x02u
#define SDC_OUTPUT_UNDERFLOW 0x04u
#define SDC_OUTPUT_OVERFLOW 0x08u
#define SDC_PRIMING_OUTPUT 0x10u

typedef enum sdc_state {
	SDC_STATE_PREFILL = 0, /* waiting for data or a start */
	SDC_STATE_RUNNING,
	SDC_STATE_DRAINING, /* the last output is being played */
	SDC_STATE_FINISHED,
	SDC_STATE_FAILED, /* see error_code and error */
} sdc_state;

typedef struct sdc_status {
	unsigned handle;
	sdc_state state;
	unsigned flags; /* accumulated SDC_* callback flags */
	unsigned xruns;
	unsigned long long frames_played;
	unsigned long long underflow_frames;
	unsigned long long frames_recorded;
	unsigned long long overflow_frames;
	/*
	 * "" unless the stream failed: then the daemon's code ("device_lost":
	 * the device went away, stopped calling back or did not start;
	 * "protocol_violation", "portaudio_error", …) and its message.
	 */
	char error_code[32];
	char error[256];
} sdc_status;

/* Returns "input underflow, output underflow" style text for flags ("" for none). */
SDC_EXPORT const char *sdc_flags_text(unsigned flags, char *buf, size_t size);

/* ---- play, rec, playrec ------------------------------------------------ */

/*
 * Options every stream takes.  Zero means "use the client's default" for
 * every member; the tri-state flags take SDC_YES or SDC_NO to override the
 * default either way.
 */
#define SDC_YES 1
#define SDC_NO (-1)

typedef struct sdc_stream_options {
	sdc_device input_device;
	sdc_device output_device;
	double samplerate;
	double input_latency;  /* seconds, SDC_LATENCY_LOW or SDC_LATENCY_HIGH */
	double output_latency;
	int blocksize;
	int exclusive; /* SDC_YES: a dedicated, bit-exact PortAudio stream */
	int clip_off;
	int dither_off;
	int never_drop_input;
	int prime_output_buffers_using_stream_callback;
	unsigned buffer_frames; /* ring capacity wanted; 0: the library chooses */
	int keep_previous;	/* nonzero: do not stop this client's previous play/rec/playrec */
} sdc_stream_options;

typedef struct sdc_play_params {
	int channels;	 /* the data's channels (required) */
	sdc_dtype dtype; /* the data's type; default: the client's output dtype */
	const int *mapping; /* 1-based output channels, one per data channel (or several for mono) */
	int mapping_count;
	int loop;     /* nonzero: replay until stopped */
	int blocking; /* nonzero: return once playback has finished */
	int detach;   /* nonzero: playback goes on even if the client disconnects */
	sdc_stream_options opt;
} sdc_play_params;

typedef struct sdc_rec_params {
	double duration;    /* sdc_rec_open() with frames < 0: record this many seconds (0: until stopped) */
	int channels;	    /* channels to record; default: the client's input channels */
	sdc_dtype dtype;    /* default: the client's input dtype */
	const int *mapping; /* 1-based input channels to record; overrides channels */
	int mapping_count;
	int blocking;
	sdc_stream_options opt;
} sdc_rec_params;

typedef struct sdc_playrec_params {
	int data_channels;     /* the played data's channels (required) */
	sdc_dtype data_dtype;  /* the played data's type (required) */
	int channels;	       /* channels to record */
	sdc_dtype dtype;       /* recorded type; default: data_dtype */
	const int *input_mapping;
	int input_mapping_count;
	const int *output_mapping;
	int output_mapping_count;
	int blocking;
	sdc_stream_options opt;
} sdc_playrec_params;

/*
 * Plays frames frames of data (interleaved, of p->dtype; float64 is
 * converted).  Without p->blocking, returns as soon as playback is under
 * way; data must stay valid until sdc_wait() or sdc_stop() returns for
 * the handle (it is read while playing when it is too large to hand over
 * at once).  Stores the stream's handle in ret_handle (may be NULL).
 */
SDC_EXPORT int sdc_play(sdc_client *client, const void *data, size_t frames,
			const sdc_play_params *p, unsigned *ret_handle);

/*
 * Records frames frames into buffer (interleaved, of the resolved channels
 * and dtype: ask sdc_rec_channels() when leaving channels to the defaults).
 * Without p->blocking, returns at once and fills buffer while recording;
 * its content is complete once sdc_wait() returns.
 */
SDC_EXPORT int sdc_rec(sdc_client *client, void *buffer, size_t frames, const sdc_rec_params *p,
		       unsigned *ret_handle);

/* Plays data and records into buffer at the same time; both are frames long. */
SDC_EXPORT int sdc_playrec(sdc_client *client, const void *data, void *buffer, size_t frames,
			   const sdc_playrec_params *p, unsigned *ret_handle);

/*
 * Waits until the stream (0: the latest play/rec/playrec) has finished and
 * stores its status (ret_status may be NULL).  Returns 0; the status says
 * whether an xrun happened, as sounddevice's wait() returns CallbackFlags,
 * and whether the stream failed (SDC_STATE_FAILED, with error_code
 * "device_lost" when its device was lost).  A blocking sdc_play(),
 * sdc_rec() or sdc_playrec() returns a failed stream's error instead
 * (device_lost is -ENODEV).
 * With handle 0 before this client played or recorded anything, it returns
 * 0 at once with a zero status (state SDC_STATE_FINISHED), as sounddevice's
 * wait() does nothing then.
 */
SDC_EXPORT int sdc_wait(sdc_client *client, unsigned handle, sdc_status *ret_status);

/*
 * Stops the stream (0: the latest) at once, discarding what was not played.
 * With handle 0 before anything was played or recorded, it does nothing.
 */
SDC_EXPORT int sdc_stop(sdc_client *client, unsigned handle);

/* Stores the stream's status now (0: the latest). */
SDC_EXPORT int sdc_get_status(sdc_client *client, unsigned handle, sdc_status *ret_status);

/* ---- Volume ------------------------------------------------------------ */

/* The most channels a volume names one by one, and the highest gain (+20 dB). */
#define SDC_VOLUME_MAX_CHANNELS 64
#define SDC_VOLUME_MAX 10.0

/*
 * Sets the volume of a shared stream (0: the latest play/rec/playrec): the
 * linear gains (0 to SDC_VOLUME_MAX; 1 leaves the samples as they are) of
 * its count channels, or one gain for all when count is 1; count 0 leaves
 * the gains.  mute: SDC_YES mutes, SDC_NO unmutes, 0 leaves it as it is; a
 * muted stream keeps its gains for when it is unmuted.  The daemon moves
 * to the new volume along a 20 ms ramp, so that a change neither clicks
 * nor zippers.  The volume applies to what a stream plays (to what it
 * records when it only records), on the client's own streams and on the
 * detached playbacks its user started.  An exclusive stream, whose samples
 * reach the device bit for bit, has none: -ENOTSUP.  Returns 0 or a
 * negative errno (sdc_last_error() says why).  For a level in dB, pass
 * pow(10, dB / 20).
 */
SDC_EXPORT int sdc_set_volume(sdc_client *client, unsigned handle, const double *gains, int count,
			      int mute);

/*
 * Stores a shared stream's volume (0: the latest): its gains, one per
 * channel, into ret_gains (at most max of them), their number into
 * *ret_count and whether it is muted into *ret_mute (either may be NULL).
 * Returns 0, -ENOTSUP for an exclusive stream, or another negative errno.
 */
SDC_EXPORT int sdc_get_volume(sdc_client *client, unsigned handle, double *ret_gains, int max,
			      int *ret_count, int *ret_mute);

/* ---- Streaming handles ------------------------------------------------- */

/*
 * A stream whose data the caller moves itself, for data that is not in
 * memory at once (files, generators, live input): open it, then write or
 * read frames as they come.  An sdc_stream belongs to the thread that uses
 * it; its client may be used from other threads meanwhile.
 */
typedef struct sdc_stream sdc_stream;

/*
 * Opens a playback (frames > 0: it ends after that many, and frames
 * written beyond are not played; frames <= 0: open-ended, ended by
 * sdc_stream_end()), recording (frames < 0: until stopped) or
 * play-and-record stream.
 * p->blocking and the data pointers of sdc_play/sdc_rec play no part.
 */
SDC_EXPORT int sdc_play_open(sdc_client *client, const sdc_play_params *p, long long frames,
			     sdc_stream **ret_stream);
SDC_EXPORT int sdc_rec_open(sdc_client *client, const sdc_rec_params *p, long long frames,
			    sdc_stream **ret_stream);
SDC_EXPORT int sdc_playrec_open(sdc_client *client, const sdc_playrec_params *p, long long frames,
				sdc_stream **ret_stream);

/*
 * Writes frames frames (interleaved, of the stream's output dtype; float64
 * when opened with SDC_FLOAT64), waiting for room as needed.  Returns the
 * frames written: all of them, or fewer when the stream finished; or a
 * negative errno, also when the daemon failed the stream (device_lost is
 * -ENODEV; sdc_last_error() gives its code and message).
 */
SDC_EXPORT long long sdc_stream_write(sdc_stream *stream, const void *data, size_t frames);

/*
 * Reads up to frames frames, waiting until that many arrived or the stream
 * ended.  Returns the frames read (0 at the end) or a negative errno: once
 * what was recorded has been read, a stream the daemon failed returns its
 * error (device_lost is -ENODEV; sdc_last_error() gives code and message).
 */
SDC_EXPORT long long sdc_stream_read(sdc_stream *stream, void *buffer, size_t frames);

/*
 * Like sdc_stream_read() but returns at once with what is there (waiting
 * at most timeout_ms for the first frame; -1: no limit).
 */
SDC_EXPORT long long sdc_stream_read_some(sdc_stream *stream, void *buffer, size_t frames,
					  int timeout_ms);

/* Marks the end of the output: playback finishes once it is played. */
SDC_EXPORT int sdc_stream_end(sdc_stream *stream);

/*
 * Direct access to the rings, for callers that make or use frames in
 * place (a decoder writing straight into the shared memory, an encoder
 * reading straight from it): no copy through the caller's memory.
 *
 * sdc_stream_begin_write() waits (up to timeout_ms; -1: no limit, 0: not
 * at all) until the playback ring has room for min(max_frames, half the
 * ring) frames, then stores in *ret_data where the free room starts and
 * returns how many frames fit there contiguously (at most max_frames;
 * fewer at the ring's end, where the room continues at its start).  Write
 * frames of the stream's wire format there, then publish the first frames
 * of them with sdc_stream_commit_write() (frames may be less than what was
 * offered, and 0).  sdc_stream_begin_read() and sdc_stream_commit_read()
 * are the same for recorded frames: begin_read waits for
 * min(max_frames, half the ring) frames (or the stream's end), and commit
 * releases what was used.  Both begin functions return 0 when the stream
 * has ended (or nothing came within timeout_ms), else a negative errno:
 * -EINVAL for a stream whose dtype the library converts (float64) and for
 * streams of sdc_stream_open(), whose rings the library moves itself.
 * The pointer is valid until the commit.
 */
SDC_EXPORT long long sdc_stream_begin_write(sdc_stream *stream, void **ret_data, size_t max_frames,
					    int timeout_ms);
SDC_EXPORT int sdc_stream_commit_write(sdc_stream *stream, size_t frames);
SDC_EXPORT long long sdc_stream_begin_read(sdc_stream *stream, const void **ret_data,
					   size_t max_frames, int timeout_ms);
SDC_EXPORT int sdc_stream_commit_read(sdc_stream *stream, size_t frames);

/* The stream's handle, for sdc_wait(), sdc_stop() and sdc_get_status(). */
SDC_EXPORT unsigned sdc_stream_handle(const sdc_stream *stream);

/* The actual sample rate, channels and dtype of each direction. */
SDC_EXPORT double sdc_stream_samplerate(const sdc_stream *stream);
SDC_EXPORT int sdc_stream_channels(const sdc_stream *stream, sdc_kind kind);
SDC_EXPORT sdc_dtype sdc_stream_dtype(const sdc_stream *stream, sdc_kind kind);

/* The status as the shared memory shows it now (no round trip). */
SDC_EXPORT int sdc_stream_status(const sdc_stream *stream, sdc_status *ret_status);

/*
 * Unmaps and closes the stream's memory and frees it.  A stream from
 * sdc_play_open(), sdc_rec_open() or sdc_playrec_open() keeps playing in
 * the daemon (use sdc_stop() first when that is wanted); a stream from
 * sdc_stream_open() is aborted and released in the daemon too.  NULL is
 * allowed.
 */
SDC_EXPORT void sdc_stream_close(sdc_stream *stream);

/* ---- The stream API (sounddevice's Stream, InputStream, OutputStream) --- */

/*
 * A stream opened with sdc_stream_open() runs until stopped, and either
 * calls the application back (callback mode) or is read and written by it
 * (blocking mode), as sounddevice's stream classes.  The Raw variants are
 * the same streams: data is always raw interleaved frames here.  Unset
 * members (zero) take the client's defaults.
 *
 * Callback mode: libsdc runs the callback on a thread of its own (with
 * realtime priority where the system allows), once per block of exactly
 * blocksize frames (blocksize 0: whatever is ready, up to the buffered
 * latency).  input is NULL for an output stream, output NULL for an input
 * stream.  time holds the ADC time of the input's first frame, the DAC time
 * of the output's first frame and the current time, on the stream clock
 * (seconds).  status holds the SDC_* callback flags of what happened since
 * the previous call.  The callback returns SDC_CONTINUE, SDC_COMPLETE (what
 * it produced is played, then the stream finishes: sounddevice's
 * CallbackStop) or SDC_ABORT (it ends at once: CallbackAbort).  A callback
 * that is too slow underflows its own stream only (output_underflow in
 * status); other clients and the daemon are not affected.  The finished
 * callback runs once when the stream becomes inactive, on the callback
 * thread (or, in blocking mode, on the thread that stops the stream); when
 * the daemon ended the stream with an error (its device was lost, say),
 * sdc_last_error() on that thread says why (code "device_lost", errnum
 * -ENODEV), and the stream's status is SDC_STATE_FAILED.
 *
 * Latency: output waits in the stream's ring before the device stream
 * takes it, and the device stream's own latency counts toward what was
 * asked: the ring keeps the latency asked for less the device's, but at
 * least one device period (so that every period finds its frames) and
 * half the latency asked for (slack for a callback thread late to wake).
 * SDC_LATENCY_HIGH (the default) is the device stream's own latency,
 * SDC_LATENCY_LOW nothing more than the device period.
 * sdc_stream_latency() reports the sum.  sdc_stream_start() returns once
 * the stream's clock runs (callback and input streams).  A blocking output
 * stream starts playing once a device period is queued, as PortAudio's
 * do; write faster than it plays or it underflows.
 */
typedef enum sdc_stream_kind {
	SDC_STREAM_INPUT = 1,
	SDC_STREAM_OUTPUT = 2,
	SDC_STREAM_DUPLEX = 3,
} sdc_stream_kind;

typedef struct sdc_time_info {
	double input_buffer_adc_time;
	double output_buffer_dac_time;
	double current_time;
} sdc_time_info;

#define SDC_CONTINUE 0
#define SDC_COMPLETE 1
#define SDC_ABORT 2

/* The most frames a callback of variable block size (blocksize 0) gets at once. */
#define SDC_MAX_VARIABLE_BLOCK 1024

typedef int (*sdc_stream_callback)(const void *input, void *output, unsigned long frames,
				   const sdc_time_info *time, unsigned status, void *userdata);
typedef void (*sdc_finished_callback)(void *userdata);

typedef struct sdc_stream_params {
	sdc_stream_kind kind;
	double samplerate;    /* 0: default */
	int blocksize;	      /* frames per callback; 0: whatever suits */
	sdc_device device[2]; /* [input, output] */
	int channels[2];      /* 0: default (else the device's channels) */
	sdc_dtype dtype[2];   /* int24 allowed (raw); float64 converted */
	double latency[2];    /* seconds, SDC_LATENCY_LOW/HIGH; 0: default (see below) */
	sdc_stream_callback callback; /* NULL: blocking mode */
	sdc_finished_callback finished_callback;
	void *userdata;
	int clip_off; /* SDC_YES / SDC_NO / 0 (default), as the other flags */
	int dither_off;
	int never_drop_input;
	int prime_output_buffers_using_stream_callback;
	int exclusive; /* SDC_YES: a dedicated PortAudio stream (bit-exact) */
	/*
	 * Capture kept waiting for the application, in frames: when more has
	 * arrived, the oldest frames are dropped and the next read or callback
	 * reports an input overflow, as a device buffer of that size would
	 * (and a duplex callback that fell behind does not delay its input for
	 * good).  0: the whole ring, nothing is dropped before it is full.
	 */
	unsigned input_buffer_frames;
} sdc_stream_params;

/* Opens a stream (stopped); returns 0 or a negative errno (sdc_last_error() says why). */
SDC_EXPORT int sdc_stream_open(sdc_client *client, const sdc_stream_params *p,
			       sdc_stream **ret_stream);

/*
 * Starts it (again, after a stop: then a new daemon stream is opened).  In
 * callback mode the output is primed first: with the callback when
 * prime_output_buffers_using_stream_callback is set (status has
 * SDC_PRIMING_OUTPUT), else with silence.
 */
SDC_EXPORT int sdc_stream_start(sdc_stream *stream);

/* Stops it: pending output is played first.  Blocks until it is inactive. */
SDC_EXPORT int sdc_stream_stop(sdc_stream *stream);

/* Aborts it: pending output is discarded.  Blocks until it is inactive. */
SDC_EXPORT int sdc_stream_abort(sdc_stream *stream);

/*
 * 1 while running (started and not finished, stopped or aborted, and the
 * daemon still there), else 0.
 */
SDC_EXPORT int sdc_stream_active(sdc_stream *stream);

/* 1 when stopped (or never started), else 0. */
SDC_EXPORT int sdc_stream_stopped(const sdc_stream *stream);

/* Block size (0: variable), device id, sample size (bytes) and actual latency (seconds). */
SDC_EXPORT int sdc_stream_blocksize(const sdc_stream *stream);
SDC_EXPORT int sdc_stream_device(const sdc_stream *stream, sdc_kind kind);
SDC_EXPORT size_t sdc_stream_samplesize(const sdc_stream *stream, sdc_kind kind);
SDC_EXPORT double sdc_stream_latency(const sdc_stream *stream, sdc_kind kind);

/* The stream clock now (seconds), on the time base of the callback's time. */
SDC_EXPORT double sdc_stream_time(const sdc_stream *stream);

/* The callback's load: time spent in it over the time its frames last (0–1). */
SDC_EXPORT double sdc_stream_cpu_load(const sdc_stream *stream);

/* Frames that can be read / written without waiting. */
SDC_EXPORT long long sdc_stream_read_available(const sdc_stream *stream);
SDC_EXPORT long long sdc_stream_write_available(const sdc_stream *stream);

/*
 * Blocking mode, as sounddevice's read() and write(): read waits until
 * frames frames arrived and sets *ret_overflowed when input overflowed
 * since the previous read; write waits until all frames are queued and sets
 * *ret_underflowed when output underflowed since the previous write.  Both
 * return the frame count (less only when the stream ended) or a negative
 * errno.  The flag pointers may be NULL.
 */
SDC_EXPORT long long sdc_stream_read_checked(sdc_stream *stream, void *buffer, size_t frames,
					     int *ret_overflowed);
SDC_EXPORT long long sdc_stream_write_checked(sdc_stream *stream, const void *data, size_t frames,
					      int *ret_underflowed);


#ifdef __cplusplus
}
#endif

#endif
