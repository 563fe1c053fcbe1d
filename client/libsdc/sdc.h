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
 * portaudio_error and internal_error → -EIO, and malformed-request errors
 * → -EPROTO.  A lost connection is -ECONNRESET or -EPIPE.
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
 * Events the daemon pushes (stream finished, xrun, shutdown, …) are
 * delivered to this callback, from inside whichever libsdc call reads
 * from the connection at the time (or from sdc_dispatch()).  json is the
 * whole event object; both strings are valid only during the call.  The
 * callback must not call into the same client.
 */
typedef void (*sdc_event_fn)(void *userdata, const char *event, const char *json);
SDC_EXPORT void sdc_set_event_callback(sdc_client *client, sdc_event_fn fn, void *userdata);

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
 * "device name, host-API name", or the default (index < 0, query NULL).
 */
typedef struct sdc_device {
	int index;
	const char *query;
} sdc_device;

#define SDC_DEVICE_DEFAULT ((sdc_device){ -1, NULL })
#define SDC_DEVICE_INDEX(i) ((sdc_device){ (i), NULL })
#define SDC_DEVICE_QUERY(s) ((sdc_device){ -1, (s) })

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

/* The keys of sounddevice's device dictionaries. */
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
 * defaults filled in; its device.query is NULL), -ENOTSUP with the
 * daemon's explanation in sdc_last_error() when not.
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

#ifdef __cplusplus
}
#endif

#endif
