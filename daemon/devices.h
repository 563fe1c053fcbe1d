/*
 * The devices the daemon serves: its own list of the backend's devices and
 * host APIs, kept up to date while streams play (devices-rescan.c), device
 * selection by id, stable id or query, the default devices, and settings
 * checks.  Loop thread only (the backend's query functions are not safe on
 * other threads).
 *
 * Indices are sounddevice's: a device is list[index].  They never move
 * while a device stream is open (the engine holds them): a device that
 * goes away meanwhile keeps its place, marked gone and without channels,
 * and new devices are appended.  Only while no device stream is open are
 * gone devices dropped and the others renumbered.  Every change of what
 * query_devices, query_hostapis or default_device would answer makes a new
 * generation of the list; replies carry it, and a request may name the
 * generation it was based on (commands.c refuses a stale one).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <uv.h>

#include "backend.h"
#include "devlist.h"
#include "devmatch.h"
#include "list.h"
#include "params.h"
#include "proto.h"

/* What the device list asks of the rest of the daemon.  Loop thread. */
struct devices_hooks {
	/*
	 * Returns how many device streams are open (or abandoned): the backend
	 * re-initialises, and the list drops gone devices, only when none is.
	 */
	unsigned (*open_streams)(void *data);
	/* Returns whether a device stream is open on the device with this index. */
	bool (*device_in_use)(void *data, int index);
	/* The list has a new generation; change says how it differs from the previous one. */
	void (*changed)(void *data, const struct devlist_change *change);
	void *data;
};

/* One wait for the end of a rescan (devices_rescan_wait()). */
struct devices_waiter {
	struct list link;
	/* status: 0 or a negative errno (the probe failed); changed: a new generation came. */
	void (*done)(struct devices_waiter *w, int status, bool changed);
};

/* The longest a probe of the devices may take, in milliseconds. */
#define DEVICES_PROBE_TIMEOUT_MS 10000

struct devices {
	struct backend *backend;
	bool initialized; /* the backend is initialised */
	struct device_info *dev; /* the list, gone devices included */
	int count;
	struct hostapi_info *api;
	int api_count;
	struct devmatch_entry *match;	   /* one per device, for devmatch_find() */
	enum backend_binding *binding;	   /* per device: how the running backend opens it */
	int default_input;		   /* the backend's default input, -1 when none */
	int default_output;		   /* the backend's default output, -1 when none */
	/* The configured default devices, or NULL; borrowed from the daemon's settings. */
	const char *default_input_query;
	const char *default_output_query;
	/* The defaults in effect as last announced, and whether each is a fallback. */
	int announced_default[2]; /* [input, output]; -1: none */
	bool default_fallback[2];
	bool default_ambiguous[2]; /* the configured query matches several devices */
	uint32_t generation; /* 1 at start, one more at each change */
	char *list_text;     /* query_devices' list as JSON text, made on first use */

	/* Rescans (devices-rescan.c; devices_watch() sets them up). */
	struct devices_hooks hooks;
	uv_loop_t *loop;
	uv_check_t idle_check; /* runs deferred work once no device stream is open */
	bool watching;	       /* idle_check is initialised and not closed */
	bool probing;	       /* a probe runs */
	bool probe_again;      /* a rescan was asked for while the probe ran */
	bool reinit_pending;   /* the backend re-initialises once no device stream is open */
	bool compact_pending;  /* gone devices are dropped once no device stream is open */
	bool recheck_pending;  /* devices kept because in use are probed again once free */
	int *recheck;	       /* their indices */
	int recheck_count;
	struct list waiting;   /* struct devices_waiter: answered by the running probe */
	struct list queued;    /* struct devices_waiter: answered by the next probe */
};

/*
 * Initialises the backend and takes the first list (generation 1).
 * Returns 0 or a negative errno.
 */
int devices_init(struct devices *devs, struct backend *backend);

/* Stops the backend and frees the list. */
void devices_fini(struct devices *devs);

/*
 * Makes devices_fini() leave the backend running (a stream of it could
 * not be closed, and stopping the backend under it could hang).
 */
void devices_leave_backend(struct devices *devs);

/*
 * Lets the list follow the devices on loop: rescans probe the backend, and
 * hooks say whether device streams are open and hear about changes.
 */
void devices_watch(struct devices *devs, uv_loop_t *loop, const struct devices_hooks *hooks);

/* Abandons a running probe, forgets waiters and closes the handles (at shutdown). */
void devices_stop(struct devices *devs);

/*
 * Lists the devices anew, without touching open streams: a probe of the
 * backend (at once, or after the one running), merged into the list.  When
 * the probe finds devices the running backend cannot open, and at once if
 * no device stream is open, the backend is initialised again.
 */
void devices_request_rescan(struct devices *devs);

/*
 * Asks for a rescan and has w->done called once a probe that started
 * after this call has been merged (or failed).  w stays registered until
 * then, or until devices_rescan_cancel().
 */
void devices_rescan_wait(struct devices *devs, struct devices_waiter *w);

/* Forgets w (its client went away). */
void devices_rescan_cancel(struct devices_waiter *w);

/*
 * Works out the default devices again (after a reload changed the
 * configured ones, or the list changed), logs a configured default that
 * matches no device and the fallback in use, and returns whether the
 * defaults in effect changed since they were last announced.
 */
bool devices_check_defaults(struct devices *devs);

/*
 * The configured default devices changed (a reload): when that changes the
 * defaults in effect, the list gets a new generation and the hooks hear.
 */
void devices_settings_changed(struct devices *devs);

/*
 * Installs new as the list (taking it over), with a new generation when it
 * differs from the current one, binds it to the backend, and tells the
 * hooks what changed.  Used by devices-rescan.c.  Returns 0 or a negative
 * errno (then the current list stays).
 */
int devices_install(struct devices *devs, struct backend_devlist *new);

/* The current list as a backend list, borrowing its arrays (nothing is copied). */
struct backend_devlist devices_current(const struct devices *devs);

/* Returns the default device of kind (input or output) in effect, or -1. */
int devices_default(struct devices *devs, enum devmatch_kind kind);

/*
 * Resolves the device a request named, for the given kind (DEVMATCH_ANY
 * only for plain queries): an index, a query string or a device's stable
 * id; a default device resolves to the configured default or the
 * backend's, or to a fallback while that is gone.  A gone device is found
 * only by its index and for DEVMATCH_ANY (to look at it).  Returns the
 * index, or -EINVAL with err set.
 */
int devices_resolve(struct devices *devs, const struct proto_device *want, enum devmatch_kind kind,
		    struct proto_error *err);

/* Returns a new object with sounddevice's keys (and stable_id, present) for device index. */
json_object *devices_device_json(const struct devices *devs, int index);

/*
 * Returns the list of all devices as JSON text, as query_devices replies
 * with it; made once per generation.  Owned by devs; NULL when out of
 * memory.
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
