/*
 * The daemon as a whole: its options, its event loop and everything the
 * loop owns.  One instance, created by main() and used on the loop thread.
 */
#pragma once

#include <stdbool.h>
#include <uv.h>

#include "access.h"
#include "devices.h"
#include "engine.h"
#include "list.h"
#include "notify.h"
#include "server.h"

struct conf;

/*
 * Settings from the command line and the configuration file (see conf.h),
 * replaced on reload.  The engine reads the stream limits and the idle
 * time; the client code reads the client limits.
 */
struct daemon_options {
	const char *socket_path;    /* --socket, or NULL for the search order */
	const char *config_path;    /* --config, or NULL for the search order */
	int max_clients;	    /* connections held at once */
	size_t max_output_queue;    /* bytes queued to one client before it is dropped */
	int max_streams_per_client; /* play/rec/playrec/stream handles open at once */
	size_t max_shm_per_client;  /* bytes of shared memory (rings) per client */
	double device_idle_time;    /* seconds an unused device stream stays open */
	double line_timeout;	    /* seconds a line may stay half-sent before the client is dropped */
	double max_request_rate;    /* requests per second per client (0: unlimited) */
};

struct daemon {
	uv_loop_t *loop;
	struct daemon_options opt;
	struct devices devices;
	struct engine engine;
	struct server server;
	struct list clients;
	unsigned client_count;
	unsigned next_client_id;
	struct access access;	   /* who may connect (allow_users, allow_groups) */
	const struct conf *cmdline; /* settings from the command line: they win over the file */
	struct notify notify;	   /* readiness, status and watchdog for systemd */
	uv_idle_t reaper; /* closes doomed clients outside of any callback chain */
	struct list ready; /* clients with complete lines left, by ready_link, in turn order */
	uv_idle_t turns;   /* gives each ready client its next turn, once per loop iteration */
	uv_timer_t sweeper; /* drops clients whose half-sent line timed out */
	/*
	 * SIGINT, SIGTERM, SIGHUP (and SIGUSR1 in test builds, which toggles a
	 * stall of the audio callbacks) are blocked in every thread and read
	 * from this signalfd by the loop.
	 */
	int signal_fd;
	uv_poll_t signals;
	uv_check_t housekeeping;   /* runs deferred work after each loop iteration */
	bool rescan_pending;	   /* a device rescan waits for device streams to close */
	bool stopping;
	int exit_status;
};

/* Begins a clean shutdown: stops accepting, tells clients, closes everything. */
void daemon_stop(struct daemon *d, int status);

/*
 * Returns whether a device stream is open, in which case PortAudio must
 * not be re-initialised and a device rescan waits.
 */
bool daemon_streams_open(const struct daemon *d);
