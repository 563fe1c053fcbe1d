/*
 * Keeping the device list up to date while streams play.  Loop thread.
 *
 * PortAudio 19.6 lists devices only when it is initialised, and stopping
 * it (Pa_Terminate) ends every stream.  So a rescan never touches the
 * running backend: it asks for a probe (backend-pa-probe.c: a child
 * process that starts a PortAudio of its own, lists what it finds and
 * exits, within DEVICES_PROBE_TIMEOUT_MS) and merges that list into ours
 * (devlist.c), where known devices keep their indices and new ones are
 * appended.  The running backend is then told which device each index is
 * (bind): devices it listed itself it opens as before, ALSA devices that
 * appeared since it opens by their PCM name, and the rest (a JACK server
 * that restarted, a host API that was not there at the start) it can open
 * only after it is initialised again.  That re-initialisation, and dropping
 * devices that went away (which renumbers the ones after them), happen only
 * while no device stream is open — at once when none is, else as soon as
 * the last one closes (the idle check) — because both would pull the
 * ground from under open streams.  Rescans asked for while a probe runs
 * are folded into one more probe after it.
 *
 * A probe may fail to examine a device the daemon itself holds open (an
 * ALSA hw device is exclusive): a device with an open device stream that
 * the probe lacks is kept as it is, and probed again once it is free.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"
#include "log.h"

static void start_probe(struct devices *devs);
static void on_idle_check(uv_check_t *handle);

/* Whether anything waits for device streams to close. */
static bool idle_work_pending(const struct devices *devs)
{
	return devs->reinit_pending || devs->compact_pending || devs->recheck_pending;
}

/* Starts or stops the idle check to match what is pending. */
static void update_idle_check(struct devices *devs)
{
	if (!devs->watching)
		return;
	if (idle_work_pending(devs))
		uv_check_start(&devs->idle_check, on_idle_check);
	else
		uv_check_stop(&devs->idle_check);
}

/* Moves every item of src to the end of dst. */
static void move_all(struct list *dst, struct list *src)
{
	while (!list_empty(src)) {
		struct list *item = src->next;

		list_remove(item);
		list_insert_tail(dst, item);
	}
}

/* Answers the waiters of list (their probe ended with status). */
static void answer(struct list *waiters, int status, bool changed)
{
	while (!list_empty(waiters)) {
		struct devices_waiter *w = list_entry(waiters->next, struct devices_waiter, link);

		list_remove(&w->link);
		w->done(w, status, changed);
	}
}

/* Returns whether any device is gone (kept for its index). */
static bool has_gone(const struct devices *devs)
{
	for (int i = 0; i < devs->count; i++)
		if (devs->dev[i].gone)
			return true;
	return false;
}

/* Returns whether the running backend opens some present device only after re-initialising. */
static bool wants_reinit(const struct devices *devs)
{
	for (int i = 0; i < devs->count; i++)
		if (!devs->dev[i].gone && devs->binding[i] != BACKEND_BOUND)
			return true;
	return false;
}

/* devlist_merge()'s keep: a device whose device stream is open stays as it is. */
static bool keep_in_use(void *data, int index)
{
	struct devices *devs = data;

	return devs->hooks.device_in_use && devs->hooks.device_in_use(devs->hooks.data, index);
}

/*
 * Returns how many device streams are open (none when nobody watches),
 * counting the backend's calls that were given up but still run.
 */
static unsigned open_streams(const struct devices *devs)
{
	const struct backend *b = devs->backend;
	unsigned n = devs->hooks.open_streams ? devs->hooks.open_streams(devs->hooks.data) : 0;

	return n + (b->ops->stuck ? b->ops->stuck((struct backend *)b) : 0);
}

/*
 * Remembers the devices the merge kept although fresh lacks them, to probe
 * again once none has a device stream open.  Their indices stay put until
 * then: the list compacts only while no device stream is open.
 */
static void note_kept(struct devices *devs, const struct backend_devlist *fresh)
{
	int *recheck = realloc(devs->recheck, sizeof(int) * ((size_t)devs->count + 1));

	if (!recheck) {
		log_error("Out of memory: devices kept for their streams are not probed again");
		return;
	}
	devs->recheck = recheck;
	devs->recheck_count = 0;
	for (int i = 0; i < devs->count; i++)
		if (!devs->dev[i].gone && devlist_find_uid(fresh, devs->dev[i].uid) < 0)
			devs->recheck[devs->recheck_count++] = i;
	devs->recheck_pending = devs->recheck_count > 0;
}

/* Merges fresh into the list and installs the result; returns whether it changed. */
static int merge(struct devices *devs, struct backend_devlist *fresh, bool compact, bool *changed)
{
	struct backend_devlist cur = devices_current(devs);
	struct backend_devlist new;
	uint32_t generation = devs->generation;
	int kept = 0, r;

	r = devlist_merge(&cur, fresh, compact, keep_in_use, devs, &new, &kept);
	if (r < 0)
		return r;
	r = devices_install(devs, &new);
	if (r < 0)
		return r;
	*changed = devs->generation != generation;
	if (kept > 0) {
		log_info("%d devices with open device streams were not listed by the probe; they are kept and probed again once free",
			 kept);
		note_kept(devs, fresh);
	}
	devs->compact_pending = has_gone(devs);
	return 0;
}

/*
 * Stops and starts the backend and merges what it lists now, dropping gone
 * devices.  Only while no device stream is open.  Returns 0 or a negative
 * errno (then the backend may be stopped: every open fails until the next
 * re-initialisation).
 */
static int reinit(struct devices *devs, bool *changed)
{
	struct backend *b = devs->backend;
	struct backend_devlist fresh;
	struct backend_error be;
	int r;

	devs->reinit_pending = false;
	if (devs->initialized)
		b->ops->fini(b);
	devs->initialized = false;
	if (b->ops->init(b, &be) < 0) {
		/* The next probe finds every device unbound and asks for another try. */
		log_error("Failed to initialise %s again: %s; no device can be opened until a rescan starts it",
			  b->ops->name, be.text);
		return -EIO;
	}
	devs->initialized = true;
	r = b->ops->enumerate(b, &fresh);
	if (r >= 0)
		r = backend_devlist_unique_uids(&fresh);
	if (r >= 0)
		r = merge(devs, &fresh, true, changed);
	backend_devlist_free(&fresh);
	if (r < 0)
		return log_errno(LOG_LEVEL_ERROR, r, "Failed to list %s devices again",
				 b->ops->name);
	log_info("%s initialised again: %d devices, %d host APIs", b->ops->name, devs->count,
		 devs->api_count);
	return 0;
}

/* Does what waits for the device streams to close, when none is open; returns whether the list changed. */
static bool idle_work(struct devices *devs)
{
	bool changed = false;

	if (open_streams(devs) > 0)
		return false;
	if (devs->reinit_pending) {
		reinit(devs, &changed);
	} else if (devs->compact_pending && devs->initialized) {
		struct backend_devlist cur = devices_current(devs);

		if (merge(devs, &cur, true, &changed) < 0)
			log_error("Failed to drop the devices that went away: out of memory");
	}
	return changed;
}

/* A probe ended: merge its list, then do what the running backend needs. */
static void on_probe_done(void *data, int status, struct backend_devlist *list)
{
	struct devices *devs = data;
	bool changed = false;
	struct list done;

	devs->probing = false;
	list_init(&done);
	move_all(&done, &devs->waiting);
	if (status >= 0)
		status = backend_devlist_unique_uids(list);
	if (status < 0) {
		log_error("The device probe failed (%s); keeping the device list",
			  strerror(-status));
	} else {
		status = merge(devs, list, open_streams(devs) == 0, &changed);
		if (status < 0)
			log_errno(LOG_LEVEL_ERROR, status, "Failed to merge the probed devices");
		else if (wants_reinit(devs))
			devs->reinit_pending = true;
		/* With no device stream open, the backend catches up at once. */
		if (status >= 0 && idle_work(devs))
			changed = true;
	}
	backend_devlist_free(list);
	update_idle_check(devs);
	answer(&done, status, changed);
	if (devs->probe_again || !list_empty(&devs->queued))
		start_probe(devs);
}

/* Starts a probe; the waiters queued so far wait for it. */
static void start_probe(struct devices *devs)
{
	struct backend *b = devs->backend;
	int r;

	devs->probe_again = false;
	r = b->ops->probe(b, devs->loop, DEVICES_PROBE_TIMEOUT_MS, on_probe_done, devs);
	if (r < 0) {
		log_errno(LOG_LEVEL_ERROR, r, "Cannot probe the devices");
		answer(&devs->queued, r, false);
		return;
	}
	devs->probing = true;
	move_all(&devs->waiting, &devs->queued);
}

void devices_request_rescan(struct devices *devs)
{
	if (!devs->watching)
		return;
	if (devs->probing)
		devs->probe_again = true;
	else
		start_probe(devs);
}

void devices_rescan_wait(struct devices *devs, struct devices_waiter *w)
{
	list_insert_tail(&devs->queued, &w->link);
	if (!devs->watching) {
		answer(&devs->queued, -ESHUTDOWN, false);
		return;
	}
	devices_request_rescan(devs);
}

void devices_rescan_cancel(struct devices_waiter *w)
{
	list_remove(&w->link);
}

/* Runs after each loop iteration while something waits for device streams to close. */
static void on_idle_check(uv_check_t *handle)
{
	struct devices *devs = handle->data;

	if (devs->recheck_pending) {
		bool busy = false;

		for (int i = 0; i < devs->recheck_count && !busy; i++)
			busy = keep_in_use(devs, devs->recheck[i]);
		if (!busy) {
			devs->recheck_pending = false;
			devices_request_rescan(devs);
		}
	}
	idle_work(devs);
	update_idle_check(devs);
}

void devices_watch(struct devices *devs, uv_loop_t *loop, const struct devices_hooks *hooks)
{
	devs->hooks = *hooks;
	devs->loop = loop;
	uv_check_init(loop, &devs->idle_check);
	devs->idle_check.data = devs;
	devs->watching = true;
}

void devices_stop(struct devices *devs)
{
	devs->reinit_pending = devs->compact_pending = devs->recheck_pending = false;
	devs->probe_again = false;
	if (devs->probing)
		devs->backend->ops->probe_cancel(devs->backend);
	devs->probing = false;
	list_init(&devs->waiting);
	list_init(&devs->queued);
	free(devs->recheck);
	devs->recheck = NULL;
	devs->recheck_count = 0;
	if (!devs->watching)
		return;
	devs->watching = false;
	uv_close((uv_handle_t *)&devs->idle_check, NULL);
}
