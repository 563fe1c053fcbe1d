/*
 * Noticing that devices came or went, and asking the device list for a
 * rescan (devices_request_rescan()), a moment later so that a burst of
 * events makes one rescan.  Loop thread.
 *
 * Where it looks, as PulseAudio's module-udev-detect and PipeWire's
 * alsa-udev do:
 * - udev's "sound" subsystem, when a udev daemon runs (/run/udev/control):
 *   a card is ready once udev has set it up ("add" or "change" with
 *   SOUND_INITIALIZED, for the card device, sysname cardN) and gone on
 *   "remove".  Events of a card's PCM and control devices are ignored.
 * - Without udev (containers, or a sandbox without netlink sockets, such
 *   as sddaemon.service's), /dev/snd through inotify: a card's control
 *   device (controlCN) appearing or going away.
 * - JACK's server directory (/dev/shm) through inotify: the socket of the
 *   server PortAudio connects to ($JACK_DEFAULT_SERVER, else "default")
 *   appearing or going away.
 * - The backend's own note that its JACK server went away.
 * SIGHUP and the rescan command ask for rescans directly.
 */
#pragma once

#include <stdbool.h>

#include <uv.h>

struct devices;

/* Delays from an event to its rescan, in milliseconds. */
#define HOTPLUG_UDEV_DELAY_MS 200
#define HOTPLUG_DEVSND_DELAY_MS 1000 /* udev's rules set the card up after its nodes appear */
#define HOTPLUG_JACK_DELAY_MS 500    /* jackd creates its socket before it serves clients */
#define HOTPLUG_BACKEND_DELAY_MS 100

struct hotplug {
	struct devices *devices;
	uv_loop_t *loop;
	uv_timer_t timer; /* the pending rescan */
	struct udev *udev;
	struct udev_monitor *monitor;
	uv_poll_t monitor_poll;
	int inotify_fd;
	uv_poll_t inotify_poll;
	int devsnd_wd; /* -1: not watched */
	int jack_wd;
	char jack_prefix[256]; /* "jack_<server>_": the socket's name starts so */
	uv_async_t backend_note;
	unsigned events; /* events that asked for a rescan, for the log and tests */
	bool started;
};

/*
 * Starts watching for devices on loop, with whatever this system offers
 * (each watch that cannot start is logged and left out).  Returns 0 or a
 * negative errno (out of memory, or no timer).
 */
int hotplug_start(struct hotplug *h, uv_loop_t *loop, struct devices *devs);

/* Stops watching and closes the handles (at shutdown). */
void hotplug_stop(struct hotplug *h);

/*
 * One udev event of the sound subsystem, as the monitor reads it: its
 * action ("add", "change", "remove", …), the device's sysname ("card1",
 * "pcmC1D0p", …) and whether SOUND_INITIALIZED is set.  Asks for a rescan
 * when a card became ready or went away.  This is the seam through which
 * tests, which have no udev daemon, feed events.  Returns whether it asked.
 */
bool hotplug_udev_event(struct hotplug *h, const char *action, const char *sysname,
			bool sound_initialized);

/* Asks for a rescan delay_ms from now, unless one is due sooner. */
void hotplug_schedule(struct hotplug *h, unsigned delay_ms, const char *why);
