/*
 * PortAudio's view of the machine: initialisation, a snapshot of devices
 * and host APIs, device selection, settings checks and the translation of
 * PortAudio errors into protocol errors.  Loop thread only: PortAudio's
 * query functions are not safe to call from other threads.
 */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>
#include <portaudio.h>

#include "devmatch.h"
#include "params.h"
#include "proto.h"

struct device_info {
	char *name; /* valid UTF-8 */
	int hostapi;
	int max_input_channels;
	int max_output_channels;
	double default_low_input_latency;   /* seconds */
	double default_low_output_latency;  /* seconds */
	double default_high_input_latency;  /* seconds */
	double default_high_output_latency; /* seconds */
	double default_samplerate;	    /* Hz */
};

struct hostapi_info {
	char *name;
	int type; /* PaHostApiTypeId */
	int *devices;
	int device_count;
	int default_input_device;  /* -1 when none */
	int default_output_device; /* -1 when none */
};

struct devices {
	bool initialized;
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
};

/* Initialises PortAudio and takes the first snapshot.  Returns 0 or a negative errno. */
int devices_init(struct devices *devs);

/* Terminates PortAudio and frees the snapshot. */
void devices_fini(struct devices *devs);

/*
 * Lists the devices anew.  PortAudio only re-enumerates when it is
 * terminated and initialised again, which ends every PortAudio stream, so
 * call this only while no device stream is open.  Sets *ret_changed when
 * the device or host-API list differs from the previous one.  Returns 0,
 * or a negative errno when PortAudio failed (then the previous snapshot is
 * kept, and PortAudio is initialised again at the next rescan).
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

/*
 * Fills err from a PortAudio error code, with the host API's error when
 * PortAudio reports paUnanticipatedHostError; the message is prefixed by
 * the printf-style context.  Returns -EINVAL.
 */
__attribute__((format(printf, 4, 5))) int devices_pa_error(struct proto_error *err, PaError pa,
							   enum proto_errcode code,
							   const char *fmt, ...);

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
 * latency) and asks PortAudio whether the settings are supported.  Returns
 * 0, or -EINVAL with err set to a message that says what is not supported.
 */
int devices_check(struct devices *devs, enum devmatch_kind kind, struct devices_params *p,
		  struct proto_error *err);

/* Converts a wire sample format to PortAudio's. */
PaSampleFormat devices_pa_format(int dtype);
