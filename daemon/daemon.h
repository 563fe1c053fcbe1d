/*
 * The daemon as a whole: its settings, its event loop and everything the
 * loop owns.  One instance, created by main() and used on the loop thread.
 */
#pragma once

#include <stdbool.h>
#include <uv.h>

#include "conf.h"
#include "devices.h"
#include "engine.h"
#include "hotplug.h"
#include "list.h"
#include "notify.h"
#include "server.h"
#include "users.h"

struct backend;

struct daemon {
	uv_loop_t *loop;
	struct backend *backend; /* the audio system (PortAudio) */
	/*
	 * The settings in force: defaults, the configuration file and the
	 * command line, replaced as a whole on reload.  Code reads a value by
	 * its key's name (settings.max_clients); see conf-keys.h.
	 */
	struct conf settings;
	const char *config_path;    /* --config, or NULL for the search order */
	const struct conf *cmdline; /* settings from the command line: they win over the file */
	struct devices devices;
	struct hotplug hotplug; /* watches for devices that come and go */
	struct engine engine;
	struct server server;
	struct list clients;
	unsigned client_count;
	struct users users; /* what each uid holds: connections, streams, shared memory */
	struct list orphans;	 /* struct client_stream: detached playbacks whose clients left */
	unsigned detached_count; /* detached playbacks (client-streams.c keeps the count) */
	size_t shm_bytes;	 /* shared memory of every stream record (client-streams.c's count) */
	unsigned next_client_id;
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
	bool stopping;
	int exit_status;
};
