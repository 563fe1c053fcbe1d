/*
 * Watching udev, /dev/snd and JACK's server directory for devices that
 * come and go (see hotplug.h).  Loop thread, except the backend's note,
 * which arrives on any thread through a uv_async_t.
 */
#include "hotplug.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <libudev.h>

#include "devices.h"
#include "log.h"

/* Where JACK2 keeps its servers' sockets (JACK_SERVER_DIR as Debian builds it). */
#define JACK_SERVER_DIR "/dev/shm"

static void on_timer(uv_timer_t *t)
{
	struct hotplug *h = t->data;

	devices_request_rescan(h->devices);
}

void hotplug_schedule(struct hotplug *h, unsigned delay_ms, const char *why)
{
	h->events++;
	log_info("Device change: %s; rescanning in %u ms", why, delay_ms);
	if (!h->started)
		return;
	if (uv_is_active((uv_handle_t *)&h->timer) &&
	    uv_timer_get_due_in(&h->timer) <= (uint64_t)delay_ms)
		return;
	uv_timer_start(&h->timer, on_timer, delay_ms, 0);
}

bool hotplug_udev_event(struct hotplug *h, const char *action, const char *sysname,
			bool sound_initialized)
{
	char why[128];

	/* Only the card device: its PCMs and controls come and go with it. */
	if (!action || !sysname || strncmp(sysname, "card", 4) != 0 || !sysname[4] ||
	    strspn(sysname + 4, "0123456789") != strlen(sysname + 4))
		return false;
	if (strcmp(action, "remove") == 0) {
		snprintf(why, sizeof(why), "udev: sound %s went away", sysname);
	} else if ((strcmp(action, "add") == 0 || strcmp(action, "change") == 0) &&
		   sound_initialized) {
		snprintf(why, sizeof(why), "udev: sound %s is ready", sysname);
	} else {
		return false;
	}
	hotplug_schedule(h, HOTPLUG_UDEV_DELAY_MS, why);
	return true;
}

static void on_udev(uv_poll_t *p, int status, int events)
{
	struct hotplug *h = p->data;
	struct udev_device *dev;

	(void)status;
	(void)events;
	while ((dev = udev_monitor_receive_device(h->monitor))) {
		hotplug_udev_event(h, udev_device_get_action(dev), udev_device_get_sysname(dev),
				   udev_device_get_property_value(dev, "SOUND_INITIALIZED") != NULL);
		udev_device_unref(dev);
	}
}

/* Starts the udev monitor; returns 0 or a negative errno (no udev here). */
static int start_udev(struct hotplug *h)
{
	int r;

	if (access("/run/udev/control", F_OK) < 0)
		return -ENOENT;
	h->udev = udev_new();
	if (!h->udev)
		return -ENOMEM;
	h->monitor = udev_monitor_new_from_netlink(h->udev, "udev");
	if (!h->monitor)
		return -errno ? -errno : -EIO;
	r = udev_monitor_filter_add_match_subsystem_devtype(h->monitor, "sound", NULL);
	if (r >= 0)
		r = udev_monitor_enable_receiving(h->monitor);
	if (r >= 0)
		r = uv_poll_init(h->loop, &h->monitor_poll, udev_monitor_get_fd(h->monitor));
	if (r < 0)
		return r;
	h->monitor_poll.data = h;
	uv_poll_start(&h->monitor_poll, UV_READABLE, on_udev);
	return 0;
}

/* Returns whether name is the socket of the JACK server PortAudio connects to. */
static bool jack_socket(const struct hotplug *h, const char *name)
{
	size_t n = strlen(h->jack_prefix), len = strlen(name);

	return len > n + 2 && strncmp(name, h->jack_prefix, n) == 0 &&
	       strcmp(name + len - 2, "_0") == 0 &&
	       strspn(name + n, "0123456789") == len - n - 2;
}

static void on_inotify(uv_poll_t *p, int status, int events)
{
	struct hotplug *h = p->data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)status;
	(void)events;
	while ((n = read(h->inotify_fd, buf, sizeof(buf))) > 0) {
		for (char *at = buf; at < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)at;
			const char *what = e->mask & IN_DELETE ? "went away" : "appeared";
			char why[320];

			at += sizeof(*e) + e->len;
			if (!e->len)
				continue;
			if (e->wd == h->devsnd_wd && strncmp(e->name, "controlC", 8) == 0) {
				snprintf(why, sizeof(why), "/dev/snd/%s %s", e->name, what);
				hotplug_schedule(h, HOTPLUG_DEVSND_DELAY_MS, why);
			} else if (e->wd == h->jack_wd && jack_socket(h, e->name)) {
				snprintf(why, sizeof(why), "the JACK server's socket %s %s", e->name,
					 what);
				hotplug_schedule(h, HOTPLUG_JACK_DELAY_MS, why);
			}
		}
	}
}

/* Starts the inotify watches that apply; returns 0 or a negative errno. */
static int start_inotify(struct hotplug *h, bool devsnd)
{
	const char *server = getenv("JACK_DEFAULT_SERVER");
	int r;

	h->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (h->inotify_fd < 0)
		return -errno;
	if (devsnd) {
		h->devsnd_wd = inotify_add_watch(h->inotify_fd, "/dev/snd", IN_CREATE | IN_DELETE);
		if (h->devsnd_wd < 0)
			log_info("Cannot watch /dev/snd (%s): sound cards that come or go are seen at the next rescan (SIGHUP or the rescan command)",
				 strerror(errno));
	}
	snprintf(h->jack_prefix, sizeof(h->jack_prefix), "jack_%s_",
		 server && *server ? server : "default");
	h->jack_wd = inotify_add_watch(h->inotify_fd, JACK_SERVER_DIR, IN_CREATE | IN_DELETE);
	if (h->jack_wd < 0)
		log_info("Cannot watch %s for JACK servers (%s)", JACK_SERVER_DIR, strerror(errno));
	r = uv_poll_init(h->loop, &h->inotify_poll, h->inotify_fd);
	if (r < 0)
		return r;
	h->inotify_poll.data = h;
	uv_poll_start(&h->inotify_poll, UV_READABLE, on_inotify);
	return 0;
}

/* Any thread's note, handed to the loop. */
static void on_backend_note(uv_async_t *a)
{
	struct hotplug *h = a->data;

	hotplug_schedule(h, HOTPLUG_BACKEND_DELAY_MS,
			 "the JACK server went away, or a call that waited for it ended");
}

/* The backend's notify function: any thread. */
static void backend_notify(void *data)
{
	struct hotplug *h = data;

	uv_async_send(&h->backend_note);
}

int hotplug_start(struct hotplug *h, uv_loop_t *loop, struct devices *devs)
{
	int r;

	*h = (struct hotplug){ .devices = devs, .loop = loop, .inotify_fd = -1, .devsnd_wd = -1,
			       .jack_wd = -1 };
	r = uv_timer_init(loop, &h->timer);
	if (r < 0)
		return r;
	h->timer.data = h;
	r = uv_async_init(loop, &h->backend_note, on_backend_note);
	if (r < 0) {
		uv_close((uv_handle_t *)&h->timer, NULL);
		return r;
	}
	h->backend_note.data = h;
	h->started = true;
	devs->backend->ops->set_notify(devs->backend, backend_notify, h);

	r = start_udev(h);
	if (r < 0) {
		if (h->monitor)
			h->monitor = udev_monitor_unref(h->monitor);
		if (h->udev)
			h->udev = udev_unref(h->udev);
		log_info("No udev monitor (%s): watching /dev/snd instead", strerror(-r));
	}
	r = start_inotify(h, !h->monitor);
	if (r < 0) {
		if (h->inotify_fd >= 0)
			close(h->inotify_fd);
		h->inotify_fd = -1;
		log_warning("Cannot watch for devices with inotify (%s); rescans come only from SIGHUP and the rescan command",
			    strerror(-r));
	}
	return 0;
}

/* Frees what h holds once its handles are closed. */
static void on_monitor_closed(uv_handle_t *handle)
{
	struct hotplug *h = handle->data;

	h->monitor = udev_monitor_unref(h->monitor);
	h->udev = udev_unref(h->udev);
}

static void on_inotify_closed(uv_handle_t *handle)
{
	struct hotplug *h = handle->data;

	close(h->inotify_fd);
	h->inotify_fd = -1;
}

void hotplug_stop(struct hotplug *h)
{
	if (!h->started)
		return;
	h->started = false;
	h->devices->backend->ops->set_notify(h->devices->backend, NULL, NULL);
	uv_close((uv_handle_t *)&h->timer, NULL);
	uv_close((uv_handle_t *)&h->backend_note, NULL);
	if (h->monitor)
		uv_close((uv_handle_t *)&h->monitor_poll, on_monitor_closed);
	if (h->inotify_fd >= 0)
		uv_close((uv_handle_t *)&h->inotify_poll, on_inotify_closed);
}
