/*
 * Following the device list as it changes: the rescan command (answered
 * once a probe that started after it has been merged), subscriptions to
 * events by kind, the devices_changed event, and the hooks through which
 * the device list asks the engine about open device streams.  Loop thread.
 */
#include "cmd-devices.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd-streams.h"
#include "daemon.h"
#include "devices.h"
#include "devstream.h"
#include "log.h"
#include "params.h"

/* The events a client may subscribe to, by name. */
static const struct {
	const char *name;
	unsigned bit;
} event_kinds[] = {
	{ "devices_changed", CMD_EVENT_DEVICES_CHANGED },
	{ "device_lost", CMD_EVENT_DEVICE_LOST },
};

#define EVENT_KIND_COUNT (sizeof(event_kinds) / sizeof(event_kinds[0]))

/* One rescan request waiting for its probe. */
struct rescan_wait {
	struct devices_waiter w; /* first: the list hands it back */
	struct list link;	 /* in client.rescans */
	struct client *client;
	json_object *id;
};

static void on_rescan_done(struct devices_waiter *w, int status, bool changed)
{
	struct rescan_wait *r = (struct rescan_wait *)w;
	struct client *c = r->client;
	struct devices *devs = &c->daemon->devices;

	list_remove(&r->link);
	if (status < 0) {
		struct proto_error err = { 0 };

		proto_error_set(&err, status == -ESHUTDOWN ? PROTO_E_SHUTTING_DOWN : PROTO_E_PORTAUDIO,
				"the device probe failed (%s); the device list is unchanged",
				strerror(-status));
		client_reply_error(c, r->id, &err);
		proto_error_clear(&err);
	} else {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "changed", json_object_new_boolean(changed));
		json_object_object_add(o, "generation", json_object_new_int64(devs->generation));
		json_object_object_add(o, "devices", json_object_new_int(devs->count));
		client_reply_ok(c, r->id, o, NULL, 0);
	}
	json_object_put(r->id);
	free(r);
}

int cmd_rescan(struct client *c, const struct proto_request *req, json_object **ret,
	       struct proto_error *err)
{
	struct rescan_wait *r = calloc(1, sizeof(*r));

	if (!r)
		return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
	r->w.done = on_rescan_done;
	r->client = c;
	r->id = json_object_get(req->id);
	list_init(&r->w.link);
	list_insert_tail(&c->rescans, &r->link);
	log_info("Client %u asked for a device rescan", c->id);
	devices_rescan_wait(&c->daemon->devices, &r->w);
	return COMMAND_REPLIED;
}

void cmd_devices_client_gone(struct client *c)
{
	while (!list_empty(&c->rescans)) {
		struct rescan_wait *r = list_entry(c->rescans.next, struct rescan_wait, link);

		list_remove(&r->link);
		devices_rescan_cancel(&r->w);
		json_object_put(r->id);
		free(r);
	}
}

/* The names of the event kinds in bits, as a JSON array. */
static json_object *kinds_json(unsigned bits)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < EVENT_KIND_COUNT; i++)
		if (bits & event_kinds[i].bit)
			json_object_array_add(a, json_object_new_string(event_kinds[i].name));
	return a;
}

/* Reads "events", a list of event kinds, into bits; returns 0 or -EINVAL with err set. */
static int get_kinds(const struct proto_request *req, unsigned *bits, struct proto_error *err)
{
	json_object *v;

	*bits = 0;
	if (!json_object_object_get_ex(req->root, "events", &v) ||
	    !json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "\"events\" must be a non-empty list of event kinds (\"devices_changed\", \"device_lost\")");
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *e = json_object_array_get_idx(v, i);
		const char *name = json_object_is_type(e, json_type_string) ? json_object_get_string(e)
									     : NULL;
		unsigned bit = 0;

		for (size_t k = 0; name && k < EVENT_KIND_COUNT; k++)
			if (strcmp(name, event_kinds[k].name) == 0)
				bit = event_kinds[k].bit;
		if (!bit)
			return proto_error_set(err, PROTO_E_INVALID_PARAM,
					       "\"events\": no event kind %s%.64s%s to subscribe to (there are \"devices_changed\" and \"device_lost\")",
					       name ? "\"" : "", name ? name : "that is not a string",
					       name ? "\"" : "");
		*bits |= bit;
	}
	return 0;
}

/* subscribe and unsubscribe: the result is what the client is subscribed to now. */
static int change_subscriptions(struct client *c, const struct proto_request *req,
				json_object **ret, struct proto_error *err, bool on)
{
	unsigned bits;
	json_object *o;

	if (get_kinds(req, &bits, err) < 0)
		return -EINVAL;
	if (on)
		c->subscriptions |= bits;
	else
		c->subscriptions &= ~bits;
	o = json_object_new_object();
	json_object_object_add(o, "events", kinds_json(c->subscriptions));
	json_object_object_add(o, "generation", json_object_new_int64(c->daemon->devices.generation));
	*ret = o;
	return 0;
}

int cmd_subscribe(struct client *c, const struct proto_request *req, json_object **ret,
		  struct proto_error *err)
{
	return change_subscriptions(c, req, ret, err, true);
}

int cmd_unsubscribe(struct client *c, const struct proto_request *req, json_object **ret,
		    struct proto_error *err)
{
	return change_subscriptions(c, req, ret, err, false);
}

const char *const cmd_subscribe_params[] = { "events", NULL };

#ifdef SDD_TEST_HOOKS
int cmd_test_udev_event(struct client *c, const struct proto_request *req, json_object **ret,
			struct proto_error *err)
{
	const char *action, *sysname;
	bool initialized;
	json_object *o;
	bool asked;

	if (proto_get_string(req, "action", 64, NULL, &action, err) < 0 ||
	    proto_get_string(req, "sysname", 64, NULL, &sysname, err) < 0 ||
	    proto_get_bool(req, "sound_initialized", false, &initialized, err) < 0)
		return -EINVAL;
	if (!action || !sysname)
		return proto_error_set(err, PROTO_E_INVALID_PARAM, "action and sysname are needed");
	asked = hotplug_udev_event(&c->daemon->hotplug, action, sysname, initialized);
	o = json_object_new_object();
	json_object_object_add(o, "rescan", json_object_new_boolean(asked));
	*ret = o;
	return 0;
}

const char *const cmd_test_udev_event_params[] = { "action", "sysname", "sound_initialized",
						    NULL };
#endif

unsigned commands_open_device_streams(void *data)
{
	struct daemon *d = data;

	/* Those being closed and those abandoned count too: PortAudio must not stop under them. */
	return engine_backend_streams(&d->engine);
}

bool commands_device_in_use(void *data, int index)
{
	struct daemon *d = data;

	for (struct devstream *ds = engine_devstream_next(&d->engine, NULL); ds;
	     ds = engine_devstream_next(&d->engine, ds))
		if (ds->cfg.device_in == index || ds->cfg.device_out == index)
			return true;
	return false;
}

/* The event's members: the new generation, what came and went, the defaults. */
static json_object *changed_json(struct devices *devs, const struct devlist_change *change)
{
	json_object *o = json_object_new_object(), *added = json_object_new_array(),
		    *removed = json_object_new_array(), *defaults = json_object_new_array();

	for (int i = 0; i < change->added_count; i++)
		json_object_array_add(added, devices_device_json(devs, change->added[i]));
	for (int i = 0; i < change->removed_count; i++) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "index", json_object_new_int(change->removed[i].index));
		json_object_object_add(r, "name", json_object_new_string(change->removed[i].name));
		json_object_object_add(r, "stable_id", json_object_new_string(change->removed[i].uid));
		json_object_array_add(removed, r);
	}
	json_object_array_add(defaults, json_object_new_int(devs->announced_default[0]));
	json_object_array_add(defaults, json_object_new_int(devs->announced_default[1]));
	json_object_object_add(o, "generation", json_object_new_int64(devs->generation));
	json_object_object_add(o, "devices", json_object_new_int(devs->count));
	json_object_object_add(o, "added", added);
	json_object_object_add(o, "removed", removed);
	json_object_object_add(o, "renumbered", json_object_new_boolean(change->renumbered));
	json_object_object_add(o, "default_device", defaults);
	return o;
}

void commands_devices_changed(void *data, const struct devlist_change *change)
{
	struct daemon *d = data;
	json_object *fields = NULL;
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &d->clients)
	{
		struct client *c = list_entry(pos, struct client, link);

		if (!(c->subscriptions & CMD_EVENT_DEVICES_CHANGED))
			continue;
		if (!fields)
			fields = changed_json(&d->devices, change);
		client_event(c, "devices_changed", json_object_get(fields));
	}
	json_object_put(fields);
}

void commands_device_lost(struct daemon *d, const struct engine_device_event *ev)
{
	json_object *fields = NULL;
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &d->clients)
	{
		struct client *c = list_entry(pos, struct client, link);

		if (!(c->subscriptions & CMD_EVENT_DEVICE_LOST))
			continue;
		if (!fields) {
			const struct devices *devs = &d->devices;
			bool known = ev->device >= 0 && ev->device < devs->count;

			fields = json_object_new_object();
			json_object_object_add(fields, "device", json_object_new_int(ev->device));
			json_object_object_add(fields, "name",
					       json_object_new_string(known ? devs->dev[ev->device].name : ""));
			json_object_object_add(fields, "stable_id",
					       json_object_new_string(known ? devs->dev[ev->device].uid : ""));
			json_object_object_add(fields, "mode", json_object_new_string(ev->mode));
			json_object_object_add(fields, "streams", json_object_new_int64(ev->streams));
			json_object_object_add(fields, "reason", json_object_new_string(ev->reason));
		}
		client_event(c, "device_lost", json_object_get(fields));
	}
	json_object_put(fields);
}
