/*
 * sd_notify() messages for systemd: readiness, reloads, shutdown, the
 * status line and the watchdog.  The watchdog is only fed while the daemon
 * is really healthy (see notify_healthy()), so that systemd restarts a
 * daemon whose loop or audio thread is stuck.  Loop thread.
 */
#include "notify.h"

#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "engine.h"
#include "log.h"

/* Status changes within this time are sent as one STATUS= message. */
#define STATUS_DELAY_MS 50

/* CLOCK_MONOTONIC in microseconds, the clock systemd's watchdog uses. */
static uint64_t now_usec(void)
{
	return uv_hrtime() / 1000;
}

/* Writes n and the noun, in the singular when n is 1. */
static int count_noun(char *buf, size_t size, unsigned long n, const char *noun)
{
	return snprintf(buf, size, "%lu %s%s", n, noun, n == 1 ? "" : "s");
}

void notify_format_status(const struct daemon *d, char *buf, size_t size)
{
	size_t used = 0;

	/* The number of streams comes from the engine: its streams not yet finished. */
	unsigned streams = d->engine.active_count;

	used += (size_t)count_noun(buf, size, d->client_count, "client");
	if (used < size)
		used += (size_t)snprintf(buf + used, size - used, ", ");
	if (used < size)
		used += (size_t)count_noun(buf + used, size - used, streams, "stream");
	if (used < size)
		used += (size_t)snprintf(buf + used, size - used, ", ");
	if (used < size)
		used += (size_t)count_noun(buf + used, size - used, (unsigned long)d->devices.count,
					   "device");
	if (d->devices.reinit_pending && used < size)
		used += (size_t)snprintf(buf + used, size - used,
					 "; new devices wait for device streams to close");
	if (d->notify.started && !d->notify.healthy && d->notify.unhealthy_reason && used < size)
		snprintf(buf + used, size - used, "; unhealthy: %s", d->notify.unhealthy_reason);
}

bool notify_healthy(struct daemon *d, uint64_t now)
{
	struct notify *n = &d->notify;
	const char *why = NULL;

	/*
	 * The loop prepares to poll at least every watchdog_usec / 2, when
	 * the watchdog timer wakes it if nothing else does.  A longer gap
	 * means a callback kept the loop from turning.
	 */
	if (now > n->loop_turned_usec && now - n->loop_turned_usec > n->watchdog_usec)
		why = "the event loop has stopped turning";
	/*
	 * The audio: every running device stream's callback has run since the
	 * previous check (the engine keeps the counts and says so).
	 */
	else if (!engine_audio_healthy(&d->engine))
		why = "a device stream's audio callback has stopped running";
	n->unhealthy_reason = why;
	return !why;
}

/* Sends STATUS= when the status line changed. */
static void send_status(struct daemon *d)
{
	char status[sizeof(d->notify.status)];

	notify_format_status(d, status, sizeof(status));
	if (strcmp(status, d->notify.status) == 0)
		return;
	memcpy(d->notify.status, status, sizeof(status));
	sd_notifyf(0, "STATUS=%s", status);
}

static void on_status_timer(uv_timer_t *t)
{
	send_status(t->data);
}

/*
 * Runs before the loop waits for events: stamps the loop as turning, and
 * when the status line changed, sends it shortly (so that a burst of
 * connections makes one message, not hundreds).
 */
static void on_prepare(uv_prepare_t *p)
{
	struct daemon *d = p->data;
	struct notify *n = &d->notify;
	char status[sizeof(n->status)];

	n->loop_turned_usec = now_usec();
	if (uv_is_active((uv_handle_t *)&n->status_timer))
		return;
	notify_format_status(d, status, sizeof(status));
	if (strcmp(status, n->status) != 0)
		uv_timer_start(&n->status_timer, on_status_timer, STATUS_DELAY_MS, 0);
}

static void on_watchdog(uv_timer_t *t)
{
	struct daemon *d = t->data;
	struct notify *n = &d->notify;
	bool healthy = notify_healthy(d, now_usec());

	if (healthy)
		sd_notify(0, "WATCHDOG=1");
	if (healthy == n->healthy)
		return;
	n->healthy = healthy;
	if (healthy)
		log_notice("Healthy again; feeding systemd's watchdog");
	else
		log_warning("Not healthy: %s; withholding WATCHDOG=1 from systemd",
			    n->unhealthy_reason);
	send_status(d);
}

int notify_start(struct daemon *d)
{
	struct notify *n = &d->notify;
	uint64_t usec = 0;
	int r;

	n->loop_turned_usec = now_usec();
	n->healthy = true;
	r = sd_watchdog_enabled(0, &usec);
	if (r < 0)
		log_errno(LOG_LEVEL_WARNING, r, "Invalid WATCHDOG_USEC, ignoring");
	n->watchdog_usec = r > 0 ? usec : 0;

	uv_prepare_init(d->loop, &n->prepare);
	uv_timer_init(d->loop, &n->status_timer);
	uv_timer_init(d->loop, &n->watchdog);
	n->prepare.data = n->status_timer.data = n->watchdog.data = d;
	n->started = true;
	uv_prepare_start(&n->prepare, on_prepare);
	if (n->watchdog_usec > 0) {
		/* Half the interval, as systemd recommends; at least one millisecond. */
		uint64_t ms = n->watchdog_usec / 2000;

		if (ms == 0)
			ms = 1;
		uv_timer_start(&n->watchdog, on_watchdog, ms, ms);
		log_info("systemd's watchdog expects a sign of life every %llu ms",
			 (unsigned long long)(n->watchdog_usec / 1000));
	}
	return 0;
}

void notify_ready(struct daemon *d)
{
	notify_format_status(d, d->notify.status, sizeof(d->notify.status));
	sd_notifyf(0, "READY=1\nSTATUS=%s", d->notify.status);
}

void notify_reloading(struct daemon *d)
{
	snprintf(d->notify.status, sizeof(d->notify.status), "Reloading");
	sd_notifyf(0, "RELOADING=1\nSTATUS=Reloading\nMONOTONIC_USEC=%llu",
		   (unsigned long long)now_usec());
}

void notify_stopping(struct daemon *d)
{
	struct notify *n = &d->notify;

	sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
	if (!n->started)
		return;
	n->started = false;
	uv_close((uv_handle_t *)&n->prepare, NULL);
	uv_close((uv_handle_t *)&n->status_timer, NULL);
	uv_close((uv_handle_t *)&n->watchdog, NULL);
}
