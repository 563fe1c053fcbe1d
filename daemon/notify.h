/*
 * Talking to systemd through libsystemd's sd_notify(): READY=1 once the
 * daemon serves, RELOADING=1 and READY=1 around a reload, STOPPING=1 at
 * shutdown, a STATUS= line that follows the number of clients, streams and
 * devices, and WATCHDOG=1 while the daemon is healthy.  Without
 * NOTIFY_SOCKET every message is a no-op; without WATCHDOG_USEC there is
 * no watchdog timer.  Loop thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct daemon;

struct notify {
	uint64_t watchdog_usec;	   /* WATCHDOG_USEC, 0 when systemd does not watch us */
	uint64_t loop_turned_usec; /* CLOCK_MONOTONIC when the loop last prepared to poll */
	uv_prepare_t prepare;	   /* stamps loop_turned_usec and notices status changes */
	uv_timer_t watchdog;	   /* every watchdog_usec / 2 */
	uv_timer_t status_timer;   /* coalesces status changes into one STATUS= */
	bool started;		   /* the handles above are initialised */
	bool healthy;		   /* what the last watchdog check found */
	const char *unhealthy_reason; /* why not, for the log and STATUS= */
	char status[256];	   /* the STATUS= text last sent */
};

/*
 * Starts watching: the loop stamp, status tracking and, when systemd asked
 * for one, the watchdog timer.  Returns 0 or a negative errno.
 */
int notify_start(struct daemon *d);

/* Sends READY=1 with the current status; used at start and after a reload. */
void notify_ready(struct daemon *d);

/* Sends RELOADING=1 (with MONOTONIC_USEC=, as newer systemd wants). */
void notify_reloading(struct daemon *d);

/* Sends STOPPING=1 and closes the handles. */
void notify_stopping(struct daemon *d);

/*
 * Writes the status line ("3 clients, 1 stream, 5 devices", with any
 * trouble after it) into buf.
 */
void notify_format_status(const struct daemon *d, char *buf, size_t size);

/*
 * Returns whether the daemon is healthy enough to tell systemd WATCHDOG=1
 * at now_usec (CLOCK_MONOTONIC, microseconds): the loop is turning and
 * every running device stream's callback has run since the previous
 * check.  Sets d->notify.unhealthy_reason when not.  The engine's check
 * remembers what it saw, so only the watchdog timer calls this.
 */
bool notify_healthy(struct daemon *d, uint64_t now_usec);
