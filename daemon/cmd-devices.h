/*
 * The commands that follow the device list as it changes: rescan,
 * subscribe and unsubscribe, the devices_changed event to the clients that
 * subscribed, and the device list's hooks into the engine.  Loop thread.
 */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>

#include "devlist.h"
#include "proto.h"

struct client;

/* The events a client may subscribe to, as bits of client.subscriptions. */
#define CMD_EVENT_DEVICES_CHANGED 0x1u
#define CMD_EVENT_DEVICE_LOST 0x2u

int cmd_rescan(struct client *c, const struct proto_request *req, json_object **ret,
	       struct proto_error *err);
int cmd_subscribe(struct client *c, const struct proto_request *req, json_object **ret,
		  struct proto_error *err);
int cmd_unsubscribe(struct client *c, const struct proto_request *req, json_object **ret,
		    struct proto_error *err);

extern const char *const cmd_subscribe_params[];

#ifdef SDD_TEST_HOOKS
/* Test builds: feeds a udev event to the hotplug watch, as its monitor would. */
int cmd_test_udev_event(struct client *c, const struct proto_request *req, json_object **ret,
			struct proto_error *err);
extern const char *const cmd_test_udev_event_params[];
#endif

/* Forgets a departing client's rescan requests. */
void cmd_devices_client_gone(struct client *c);

/* The device list's hooks (devices_watch()); data is the daemon. */
unsigned commands_open_device_streams(void *data);
bool commands_device_in_use(void *data, int index);
/* Sends devices_changed to every client that subscribed to it. */
void commands_devices_changed(void *data, const struct devlist_change *change);

struct daemon;
struct engine_device_event;

/* Sends device_lost to every client that subscribed to it. */
void commands_device_lost(struct daemon *d, const struct engine_device_event *ev);
