/*
 * The device list as devices come and go (daemon/devlist.c, devices.c and
 * devices-rescan.c) on the fake backend: merging keeps indices (new devices
 * appended, gone ones kept without channels while device streams are
 * open, dropped and renumbered only when none is), stable ids carried
 * across, devices in use kept when a probe misses them, the generation and
 * the change reports, rescans folded while a probe runs, waiters answered
 * by the probe after them, the backend re-initialised only while no device
 * stream is open, devices opened by name meanwhile, and the default device
 * falling back and returning.  No PortAudio, no processes, no real time.
 */
#include <errno.h>
#include <string.h>

#include "devices.h"
#include "devlist.h"
#include "fake-backend.h"
#include "log.h"
#include "tap.h"

/* ---- devlist: merging lists by hand ---------------------------------------- */

/* A list of named devices ("name:in:out"), on host API "Fake" (or "Other" for names with '@'). */
static struct backend_devlist make(const char *const *names, int n)
{
	struct backend_devlist l = { .default_input = -1, .default_output = -1 };
	bool other = false;

	for (int i = 0; i < n; i++)
		other = other || strchr(names[i], '@');
	l.api_count = other ? 2 : 1;
	l.api = calloc(2, sizeof(*l.api));
	l.api[0] = (struct hostapi_info){ .name = strdup("Fake"), .default_input_device = -1,
					  .default_output_device = -1 };
	l.api[1] = (struct hostapi_info){ .name = strdup("Other"), .default_input_device = -1,
					  .default_output_device = -1 };
	for (int a = 0; a < 2; a++)
		l.api[a].devices = calloc((size_t)n + 1, sizeof(int));
	if (!other) {
		free(l.api[1].name);
		free(l.api[1].devices);
	}
	l.dev = calloc((size_t)n + 1, sizeof(*l.dev));
	for (int i = 0; i < n; i++) {
		char uid[64];
		int api = strchr(names[i], '@') ? 1 : 0;

		snprintf(uid, sizeof(uid), "fake:%s", names[i]);
		l.dev[i] = (struct device_info){ .name = strdup(names[i]), .uid = strdup(uid),
						 .hostapi = api, .max_input_channels = 2,
						 .max_output_channels = 2, .default_samplerate = 48000 };
		l.api[api].devices[l.api[api].device_count++] = i;
	}
	l.count = n;
	l.default_output = n > 0 ? 0 : -1;
	return l;
}

/* Returns "a b c" for the names of l, with gone devices in brackets. */
static const char *names(const struct backend_devlist *l)
{
	static char buf[512];
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < l->count && used < sizeof(buf); i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s%s%s", i ? " " : "",
					 l->dev[i].gone ? "[" : "", l->dev[i].name,
					 l->dev[i].gone ? "]" : "");
	return buf;
}

static bool keep_second(void *data, int index)
{
	return index == 1;
}

static void test_merge(void)
{
	const char *abc[] = { "a", "b", "c" }, *ac[] = { "a", "c" }, *cab[] = { "c", "a", "b" };
	const char *abcd[] = { "a", "b", "c", "d" }, *acx[] = { "a", "c", "x@" };
	struct backend_devlist cur = make(abc, 3), fresh, ret, again;
	struct devlist_change ch;
	int kept;

	fresh = make(abc, 3);
	CHECK(devlist_merge(&cur, &fresh, false, NULL, NULL, &ret, &kept) == 0 &&
		      devlist_equal(&cur, &ret),
	      "merge: the same devices make the same list");
	devlist_diff(&cur, &ret, &ch);
	CHECK(!ch.changed && ch.added_count == 0 && ch.removed_count == 0, "diff: no change");
	devlist_change_clear(&ch);
	backend_devlist_free(&ret);
	backend_devlist_free(&fresh);

	fresh = make(cab, 3);
	devlist_merge(&cur, &fresh, true, NULL, NULL, &ret, NULL);
	CHECK_STR(names(&ret), "a b c", "merge: the probe's order does not move indices");
	backend_devlist_free(&ret);
	backend_devlist_free(&fresh);

	fresh = make(abcd, 4);
	devlist_merge(&cur, &fresh, false, NULL, NULL, &ret, NULL);
	devlist_diff(&cur, &ret, &ch);
	CHECK_STR(names(&ret), "a b c d", "merge: a new device is appended");
	CHECK(ch.changed && ch.added_count == 1 && ch.added[0] == 3 && ch.removed_count == 0 &&
		      !ch.renumbered,
	      "diff: one added, at index 3, nothing renumbered");
	CHECK(ret.api[0].device_count == 4 && ret.api[0].devices[3] == 3,
	      "merge: the host API lists the new device");
	devlist_change_clear(&ch);
	backend_devlist_free(&ret);
	backend_devlist_free(&fresh);

	fresh = make(ac, 2);
	devlist_merge(&cur, &fresh, false, NULL, NULL, &ret, NULL);
	devlist_diff(&cur, &ret, &ch);
	CHECK_STR(names(&ret), "a [b] c", "merge: a device that went away keeps its index, gone");
	CHECK(ret.dev[1].max_output_channels == 0 && ret.dev[1].max_input_channels == 0 &&
		      !ret.dev[1].locator,
	      "merge: a gone device has no channels");
	CHECK(ch.removed_count == 1 && ch.removed[0].index == 1 &&
		      strcmp(ch.removed[0].uid, "fake:b") == 0 && !ch.renumbered,
	      "diff: one removed, index 1, nothing renumbered");
	CHECK(ret.api[0].device_count == 2 && ret.api[0].devices[1] == 2,
	      "merge: the host API no longer lists the gone device");
	devlist_change_clear(&ch);

	/* It comes back: in its old place. */
	backend_devlist_free(&fresh);
	fresh = make(cab, 3);
	devlist_merge(&ret, &fresh, false, NULL, NULL, &again, NULL);
	devlist_diff(&ret, &again, &ch);
	CHECK_STR(names(&again), "a b c", "merge: a device that comes back takes its old index");
	CHECK(ch.added_count == 1 && ch.added[0] == 1 && ch.removed_count == 0,
	      "diff: the return counts as added");
	devlist_change_clear(&ch);
	backend_devlist_free(&again);

	/* Compacting the list into itself drops the gone device. */
	devlist_merge(&ret, &ret, true, NULL, NULL, &again, NULL);
	devlist_diff(&ret, &again, &ch);
	CHECK_STR(names(&again), "a c", "merge: compacting drops gone devices");
	CHECK(ch.renumbered && ch.removed_count == 0 && ch.added_count == 0 && ch.changed,
	      "diff: compacting renumbers, and removes nothing present");
	devlist_change_clear(&ch);
	backend_devlist_free(&again);
	backend_devlist_free(&ret);

	/* With compact, a missing device goes at once, and those after it move down. */
	devlist_merge(&cur, &fresh, true, NULL, NULL, &ret, NULL);
	backend_devlist_free(&ret);
	backend_devlist_free(&fresh);
	fresh = make(ac, 2);
	devlist_merge(&cur, &fresh, true, NULL, NULL, &ret, NULL);
	devlist_diff(&cur, &ret, &ch);
	CHECK_STR(names(&ret), "a c", "merge with compact: the missing device is dropped");
	CHECK(ch.renumbered && ch.removed_count == 1, "diff: c moved down");
	devlist_change_clear(&ch);
	backend_devlist_free(&ret);

	/* A device in use that the probe missed stays as it is. */
	devlist_merge(&cur, &fresh, true, keep_second, NULL, &ret, &kept);
	CHECK(kept == 1 && !ret.dev[1].gone && ret.dev[1].max_output_channels == 2,
	      "merge: a device kept for its stream stays present (even with compact)");
	CHECK(devlist_equal(&cur, &ret), "merge: nothing changed then");
	backend_devlist_free(&ret);
	backend_devlist_free(&fresh);

	/* A new host API is appended; devices and defaults follow the numbering. */
	fresh = make(acx, 3);
	fresh.default_output = 2;
	fresh.api[1].default_output_device = 2;
	devlist_merge(&cur, &fresh, false, NULL, NULL, &ret, NULL);
	CHECK_STR(names(&ret), "a [b] c x@", "merge: the other host API's device is appended");
	CHECK(ret.api_count == 2 && strcmp(ret.api[1].name, "Other") == 0 &&
		      ret.dev[3].hostapi == 1 && ret.api[1].device_count == 1 &&
		      ret.api[1].devices[0] == 3 && ret.api[1].default_output_device == 3,
	      "merge: the new host API comes after the old, with its device and default");
	CHECK(ret.default_output == 3, "merge: the default follows the renumbering");
	backend_devlist_free(&ret);
	backend_devlist_free(&fresh);

	/* The same device measured again: its latencies stay as they were. */
	fresh = make(abc, 3);
	fresh.dev[1].default_high_output_latency = 0.0349;
	devlist_merge(&cur, &fresh, false, NULL, NULL, &ret, NULL);
	CHECK(devlist_equal(&cur, &ret), "merge: jittering latencies of an unchanged device are kept");
	backend_devlist_free(&ret);
	backend_devlist_free(&fresh);

	/* Same uid, another name (a card plugged in again under another number). */
	fresh = make(abc, 3);
	free(fresh.dev[1].name);
	fresh.dev[1].name = strdup("b (hw:2,0)");
	devlist_merge(&cur, &fresh, false, NULL, NULL, &ret, NULL);
	devlist_diff(&cur, &ret, &ch);
	CHECK(strcmp(ret.dev[1].name, "b (hw:2,0)") == 0 && ch.changed && ch.added_count == 0 &&
		      ch.removed_count == 0,
	      "merge: a device keeps its index by stable id when its name changes");
	devlist_change_clear(&ch);
	backend_devlist_free(&ret);
	backend_devlist_free(&fresh);
	backend_devlist_free(&cur);
}

static void test_unique_uids(void)
{
	const char *same[] = { "x", "x", "x" };
	struct backend_devlist l = make(same, 3);

	free(l.dev[2].uid);
	l.dev[2].uid = strdup("fake:x#2");
	CHECK(backend_devlist_unique_uids(&l) == 0, "unique uids: made");
	CHECK(strcmp(l.dev[0].uid, "fake:x") == 0 && strcmp(l.dev[1].uid, "fake:x#3") == 0 &&
		      strcmp(l.dev[2].uid, "fake:x#2") == 0,
	      "unique uids: repeats get a number that no other device has (%s %s %s)",
	      l.dev[0].uid, l.dev[1].uid, l.dev[2].uid);
	backend_devlist_free(&l);
}

/* ---- devices and rescans on the fake backend --------------------------------- */

enum { SPEAKERS, MIC, HEADSET };

static const struct fake_device start_devices[] = {
	[SPEAKERS] = { .name = "speakers", .max_output_channels = 2, .default_samplerate = 48000,
		       .by_name = true },
	[MIC] = { .name = "microphone", .max_input_channels = 2, .default_samplerate = 48000,
		  .by_name = true },
	[HEADSET] = { .name = "headset", .max_input_channels = 2, .max_output_channels = 2,
		      .default_samplerate = 48000, .by_name = true },
};

static struct {
	uv_loop_t loop;
	struct fake_backend *fb;
	struct devices devs;
	unsigned open_streams;
	bool in_use[16];
	int changes;
	int last_added, last_removed;
	bool last_renumbered;
} T;

static unsigned hook_open_streams(void *data)
{
	return T.open_streams;
}

static bool hook_in_use(void *data, int index)
{
	return index >= 0 && index < 16 && T.in_use[index];
}

static void hook_changed(void *data, const struct devlist_change *c)
{
	T.changes++;
	T.last_added = c->added_count ? c->added[0] : -1;
	T.last_removed = c->removed_count ? c->removed[0].index : -1;
	T.last_renumbered = c->renumbered;
}

static void setup(void)
{
	memset(&T, 0, sizeof(T));
	uv_loop_init(&T.loop);
	T.fb = fake_backend_new(start_devices, 3);
	devices_init(&T.devs, fake_backend_get(T.fb));
	devices_watch(&T.devs, &T.loop, &(struct devices_hooks){ .open_streams = hook_open_streams,
								 .device_in_use = hook_in_use,
								 .changed = hook_changed });
}

static void teardown(void)
{
	devices_stop(&T.devs);
	uv_run(&T.loop, UV_RUN_NOWAIT);
	devices_fini(&T.devs);
	uv_loop_close(&T.loop);
	fake_backend_free(T.fb);
}

/* Asks for a rescan and lets the fake's probe answer with what exists now. */
static void rescan(void)
{
	devices_request_rescan(&T.devs);
	fake_probe_finish(T.fb, 0);
}

/* Resolves a device by index for output; returns the index or -1 (message in msg). */
static int resolve(int index, const char *query, enum devmatch_kind kind, char *msg, size_t size)
{
	struct proto_device want = { .index = index, .query = query };
	struct proto_error err = { 0 };
	int r = devices_resolve(&T.devs, &want, kind, &err);

	if (msg)
		snprintf(msg, size, "%s", err.message);
	proto_error_clear(&err);
	return r < 0 ? -1 : r;
}

/* Asks the backend whether it would open device for output now. */
static int check_out(int device, char *msg, size_t size)
{
	struct devices_params p = { .device = device, .channels = 2, .samplerate = 48000,
				    .latency = -1 };
	struct proto_error err = { 0 };
	int r = devices_check(&T.devs, DEVMATCH_OUTPUT, &p, &err);

	if (msg)
		snprintf(msg, size, "%s", err.message);
	proto_error_clear(&err);
	return r;
}

static void test_added_while_streams_open(void)
{
	static const struct fake_device usb = { .name = "usb dock", .max_output_channels = 2,
						 .default_samplerate = 48000, .by_name = true };
	static const struct fake_device net = { .name = "network sink", .max_output_channels = 2,
						 .default_samplerate = 48000, .by_name = false };
	unsigned inits;
	char msg[1024];

	setup();
	inits = fake_inits(T.fb);
	CHECK(T.devs.generation == 1 && T.devs.count == 3, "start: generation 1, three devices");
	T.open_streams = 1;
	T.in_use[SPEAKERS] = true;
	fake_add_device(T.fb, &usb);
	fake_add_device(T.fb, &net);
	rescan();
	CHECK(T.devs.count == 5 && strcmp(T.devs.dev[3].name, "usb dock") == 0 &&
		      strcmp(T.devs.dev[4].name, "network sink") == 0,
	      "added while streams play: appended after the known devices");
	CHECK(T.devs.generation == 2 && T.changes == 1 && T.last_added == 3 && !T.last_renumbered,
	      "a new generation, reported once, nothing renumbered");
	CHECK(fake_inits(T.fb) == inits, "the backend was not initialised again while streams are open");
	CHECK(T.devs.binding[3] == BACKEND_BY_NAME && T.devs.binding[4] == BACKEND_NEEDS_REINIT,
	      "the ALSA-like device opens by name, the other waits for an init");
	CHECK(check_out(3, msg, sizeof(msg)) == 0, "the new device opens by name meanwhile: %s", msg);
	CHECK(check_out(4, msg, sizeof(msg)) < 0 && strstr(msg, "Invalid device"),
	      "the other cannot be opened yet: %s", msg);
	CHECK(T.devs.reinit_pending, "an init waits for the device streams to close");

	/* The streams close: the backend starts again and knows both. */
	T.open_streams = 0;
	T.in_use[SPEAKERS] = false;
	uv_run(&T.loop, UV_RUN_NOWAIT);
	CHECK(fake_inits(T.fb) == inits + 1 && !T.devs.reinit_pending,
	      "once no device stream is open, the backend is initialised again, once");
	CHECK(T.devs.count == 5 && T.devs.binding[3] == BACKEND_BOUND &&
		      T.devs.binding[4] == BACKEND_BOUND,
	      "after it every device is the backend's own, at the same index");
	CHECK(check_out(4, msg, sizeof(msg)) == 0, "the other device opens now: %s", msg);
	CHECK(T.devs.generation == 2, "the init changed nothing a client sees");
	uv_run(&T.loop, UV_RUN_NOWAIT);
	CHECK(fake_inits(T.fb) == inits + 1, "and it is not repeated");
	teardown();
}

static void test_removed_while_streams_open(void)
{
	char msg[1024];
	int before;

	setup();
	T.open_streams = 1;
	T.in_use[HEADSET] = true;
	fake_remove_device(T.fb, MIC);
	rescan();
	CHECK(T.devs.count == 3 && T.devs.dev[MIC].gone && T.devs.dev[MIC].max_input_channels == 0,
	      "removed while streams play: it keeps its index, gone, without channels");
	CHECK(T.changes == 1 && T.last_removed == MIC && !T.last_renumbered && T.devs.generation == 2,
	      "reported removed, nothing renumbered");
	CHECK(resolve(MIC, NULL, DEVMATCH_INPUT, msg, sizeof(msg)) < 0 &&
		      strstr(msg, "no longer present"),
	      "naming it by index: %s", msg);
	CHECK(resolve(-1, "microphone", DEVMATCH_ANY, msg, sizeof(msg)) < 0,
	      "a query no longer finds it: %s", msg);
	CHECK(resolve(HEADSET, NULL, DEVMATCH_OUTPUT, NULL, 0) == HEADSET,
	      "the device after it keeps its index");
	CHECK(T.devs.compact_pending, "dropping it waits for the device streams to close");

	before = T.changes;
	T.open_streams = 0;
	T.in_use[HEADSET] = false;
	uv_run(&T.loop, UV_RUN_NOWAIT);
	CHECK(T.devs.count == 2 && strcmp(T.devs.dev[1].name, "headset") == 0,
	      "once no device stream is open the gone device is dropped");
	CHECK(T.changes == before + 1 && T.last_renumbered && T.devs.generation == 3,
	      "and the renumbering is a new generation, reported");
	CHECK(resolve(-1, "fake:headset", DEVMATCH_OUTPUT, NULL, 0) == 1,
	      "the stable id finds the device at its new index");
	teardown();
}

static void test_in_use_kept(void)
{
	setup();
	T.open_streams = 1;
	T.in_use[HEADSET] = true;
	/* The probe could not examine the headset: the daemon holds it. */
	fake_remove_device(T.fb, HEADSET);
	rescan();
	CHECK(!T.devs.dev[HEADSET].gone && T.changes == 0 && T.devs.generation == 1,
	      "a device with an open stream that the probe missed is kept, no change");
	CHECK(T.devs.recheck_pending, "it is probed again once free");
	uv_run(&T.loop, UV_RUN_NOWAIT);
	CHECK(!fake_probe_pending(T.fb), "not while its stream is open");
	T.in_use[HEADSET] = false;
	uv_run(&T.loop, UV_RUN_NOWAIT);
	CHECK(fake_probe_pending(T.fb), "once free, a new probe runs");
	fake_probe_finish(T.fb, 0);
	CHECK(T.devs.dev[HEADSET].gone && T.changes == 1, "and now finds it gone");
	teardown();
}

static void test_lost_and_back(void)
{
	unsigned inits;
	char msg[1024];

	setup();
	inits = fake_inits(T.fb);
	T.open_streams = 1;
	T.in_use[MIC] = true;
	/* A JACK server restarted: the device is there, the running backend's client is dead. */
	fake_lose_device(T.fb, SPEAKERS);
	fake_restore_device(T.fb, SPEAKERS);
	rescan();
	CHECK(T.devs.binding[SPEAKERS] == BACKEND_NEEDS_REINIT_LOST && T.devs.reinit_pending,
	      "a device that came back waits for an init");
	CHECK(check_out(SPEAKERS, msg, sizeof(msg)) < 0, "it cannot be opened meanwhile: %s", msg);
	CHECK(T.changes == 0, "the list itself did not change");
	T.open_streams = 0;
	T.in_use[MIC] = false;
	uv_run(&T.loop, UV_RUN_NOWAIT);
	CHECK(fake_inits(T.fb) == inits + 1 && T.devs.binding[SPEAKERS] == BACKEND_BOUND &&
		      check_out(SPEAKERS, msg, sizeof(msg)) == 0,
	      "after the init it opens again: %s", msg);
	teardown();
}

static void test_rescan_with_nothing_open(void)
{
	static const struct fake_device net = { .name = "network sink", .max_output_channels = 2,
						 .default_samplerate = 48000, .by_name = false };
	unsigned inits;

	setup();
	inits = fake_inits(T.fb);
	fake_add_device(T.fb, &net);
	rescan();
	CHECK(fake_inits(T.fb) == inits + 1 && T.devs.binding[3] == BACKEND_BOUND,
	      "with no device stream open a rescan initialises the backend at once");
	CHECK(T.changes == 1 && T.devs.generation == 2, "one report, one generation");
	rescan();
	CHECK(fake_inits(T.fb) == inits + 1 && T.changes == 1 && T.devs.generation == 2,
	      "a rescan that finds nothing new changes nothing");
	teardown();
}

struct waiter {
	struct devices_waiter w;
	int calls, status;
	bool changed;
};

static void on_waited(struct devices_waiter *w, int status, bool changed)
{
	struct waiter *x = (struct waiter *)w;

	x->calls++;
	x->status = status;
	x->changed = changed;
}

static void test_waiters(void)
{
	static const struct fake_device usb = { .name = "usb dock", .max_output_channels = 2,
						 .default_samplerate = 48000, .by_name = true };
	struct waiter a = { .w.done = on_waited }, b = { .w.done = on_waited },
		      c = { .w.done = on_waited };

	setup();
	T.open_streams = 1;
	devices_rescan_wait(&T.devs, &a.w);
	CHECK(fake_probes(T.fb) == 1 && fake_probe_pending(T.fb), "a wait starts a probe");
	/* Rescans asked for while it runs: a later probe must answer them. */
	fake_add_device(T.fb, &usb);
	devices_rescan_wait(&T.devs, &b.w);
	devices_rescan_wait(&T.devs, &c.w);
	devices_rescan_cancel(&c.w);
	devices_request_rescan(&T.devs);
	CHECK(fake_probes(T.fb) == 1, "rescans asked for while a probe runs wait for it");
	fake_probe_finish(T.fb, 0);
	CHECK(a.calls == 1 && a.status == 0 && a.changed && b.calls == 0,
	      "the probe answers the waiter from before it (the list changed), not the later ones");
	CHECK(fake_probes(T.fb) == 2 && fake_probe_pending(T.fb), "one more probe runs for them");
	fake_probe_finish(T.fb, -ETIMEDOUT);
	CHECK(b.calls == 1 && b.status == -ETIMEDOUT && c.calls == 0,
	      "a failed probe answers with its error; a cancelled waiter hears nothing");
	CHECK(T.devs.count == 4 && T.devs.generation == 2, "a failed probe leaves the list alone");
	devices_rescan_wait(&T.devs, &b.w);
	fake_probe_finish(T.fb, 0);
	CHECK(b.calls == 2 && b.status == 0 && !b.changed && T.devs.count == 4,
	      "the next one finds nothing new, and says so");
	CHECK(!fake_probe_pending(T.fb), "no probe runs when nobody asked");
	teardown();
}

static void test_default_fallback(void)
{
	static const struct fake_device dock = { .name = "usb dock", .max_output_channels = 2,
						 .default_samplerate = 48000, .by_name = true };
	int dock_index;

	setup();
	dock_index = fake_add_device(T.fb, &dock);
	rescan();
	T.devs.default_output_query = "dock";
	devices_settings_changed(&T.devs);
	CHECK(devices_default(&T.devs, DEVMATCH_OUTPUT) == 3 && T.devs.announced_default[1] == 3,
	      "the configured default output is the dock");
	T.open_streams = 1;
	fake_remove_device(T.fb, dock_index);
	rescan();
	CHECK(devices_default(&T.devs, DEVMATCH_OUTPUT) == SPEAKERS &&
		      T.devs.default_fallback[1],
	      "the dock went away: the default falls back to the backend's");
	CHECK(resolve(-1, NULL, DEVMATCH_OUTPUT, NULL, 0) == SPEAKERS,
	      "a request without a device gets the fallback");
	fake_add_device(T.fb, &dock);
	rescan();
	CHECK(devices_default(&T.devs, DEVMATCH_OUTPUT) == 3 && !T.devs.default_fallback[1],
	      "the dock is back (at its index): it is the default again");
	CHECK(T.devs.announced_default[1] == 3, "and announced so");
	T.devs.default_output_query = "nothing like it";
	devices_settings_changed(&T.devs);
	CHECK(devices_default(&T.devs, DEVMATCH_OUTPUT) == SPEAKERS,
	      "a configured default that never matches falls back too");
	teardown();
}

int main(void)
{
	log_open(LOG_LEVEL_ERROR, 0);
	test_merge();
	test_unique_uids();
	test_added_while_streams_open();
	test_removed_while_streams_open();
	test_in_use_kept();
	test_lost_and_back();
	test_rescan_with_nothing_open();
	test_waiters();
	test_default_fallback();
	return tap_done();
}
