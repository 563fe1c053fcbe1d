/*
 * The devices the daemon serves: a snapshot of the backend's devices and
 * host APIs, taken at start and at each rescan, device selection by id or
 * query, and settings checks.  Loop thread only (the backend's query
 * functions are not safe on other threads).
 */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>
#include <uv.h>

#include "backend.h"
#include "devmatch.h"
#include "params.h"
#include "proto.h"

/* What a deferred rescan asks of the rest of the daemon.  Loop thread. */
struct devices_hooks {
	/* Returns how many device streams are open (a rescan waits until none is). */
	unsigned (*open_streams)(void *data);
	/* The device list changed. */
	void (*changed)(void *data);
	void *data;
};

struct devices {
	struct backend *backend;
	bool initialized; /* the backend is initialised */
	struct device_info *dev;
	int count;
	struct hostapi_info *api;
	int api_count;
	struct devmatch_entry *match; /* one per device, for devmatch_find() */
	int default_input;	      /* PortAudio's default input, -1 when none */
	int default_output;	      /* PortAudio's default output, -1 when none */
	/* The configured default devices, or NULL; borrowed from the daemon's settings. */
	const char *default_input_query;
	const char *default_output_query;
	char *list_text;	      /* query_devices' list as JSON text, made on first use */

	/* Rescans (devices_watch() sets them up). */
	struct devices_hooks hooks;
	uv_check_t rescan_check; /* runs a deferred rescan once no device stream is open */
	bool watching;		 /* rescan_check is initialised and not closed */
	bool rescan_pending;	 /* a rescan waits for device streams to close */
};

/*
 * Initialises the backend and takes the first snapshot.  Returns 0 or a
 * negative errno.
 */
int devices_init(struct devices *devs, struct backend *backend);

/* Stops the backend and frees the snapshot. */
void devices_fini(struct devices *devs);

/*
 * Lets devices_request_rescan() defer a rescan on loop, asking hooks
 * whether device streams are open and telling them about a changed list.
 */
void devices_watch(struct devices *devs, uv_loop_t *loop, const struct devices_hooks *hooks);

/* Drops a pending rescan and closes the watch's handle (at shutdown). */
void devices_stop(struct devices *devs);

/*
 * Lists the devices anew now, or, while a device stream is open, once none
 * is (after a loop iteration), and warns about configured default devices
 * that match no device (now, and again after a deferred rescan).  Calls
 * hooks.changed when the list changed.
 */
void devices_request_rescan(struct devices *devs);

/* Warns about a configured default device that matches no device now. */
void devices_check_defaults(struct devices *devs);

/*
 * Lists the devices anew.  The backend (PortAudio) only re-enumerates when
 * it is stopped and initialised again, which ends every stream, so call
 * this only while no device stream is open.  Sets *ret_changed when
 * the device or host-API list differs from the previous one.  Returns 0,
 * or a negative errno when the backend failed (then the previous snapshot
 * is kept, and the backend is initialised again at the next rescan).
 */
int devices_rescan(struct devices *devs, bool *ret_changed);

/*
 * Resolves the device a request named, for the given kind (DEVMATCH_ANY
 * only for plain queries).  A default device resolves to the configured
 * default or PortAudio's.  Returns the index, or -EINVAL with err set.
 */
int devices_resolve(struct devices *devs, const struct proto_device *want, enum devmatch_kind kind,
		    struct proto_error *err);

/* Returns a new object with sounddevice's keys for device index. */
json_object *devices_device_json(const struct devices *devs, int index);

/*
 * Returns the list of all devices as JSON text, as query_devices replies
 * with it; made once per snapshot (the list only changes with a rescan).
 * Owned by devs; NULL when out of memory.
 */
const char *devices_list_text(struct devices *devs);

/* Returns a new object with sounddevice's keys for host API index. */
json_object *devices_hostapi_json(const struct devices *devs, int index);

/* Parameters of one direction of a stream, resolved against a device. */
struct devices_params {
	int device;
	int channels;
	int dtype; /* enum sample_format */
	double samplerate;
	double latency; /* seconds */
};

/*
 * Fills out the defaults of p (channels <= 0: the device's maximum;
 * samplerate <= 0: the device's default; latency < 0: the device's high
 * latency) and asks the backend whether the settings are supported.  Returns
 * 0, or -EINVAL with err set to a message that says what is not supported.
 */
int devices_check(struct devices *devs, enum devmatch_kind kind, struct devices_params *p,
		  struct proto_error *err);

