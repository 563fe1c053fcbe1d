/*
 * The stream commands: play, rec, playrec, wait, stop, get_status and
 * close, with sounddevice's names and parameters, the stream API's
 * open_stream and start_stream, and set_volume.  Loop thread.
 */
#pragma once

#include <json-c/json.h>

#include "proto.h"

struct client;

/* A handler's return value when it has sent (or deferred) the reply itself. */
#define COMMAND_REPLIED 1

int cmd_play(struct client *c, const struct proto_request *req, json_object **ret,
	     struct proto_error *err);
int cmd_rec(struct client *c, const struct proto_request *req, json_object **ret,
	    struct proto_error *err);
int cmd_playrec(struct client *c, const struct proto_request *req, json_object **ret,
		struct proto_error *err);
int cmd_wait(struct client *c, const struct proto_request *req, json_object **ret,
	     struct proto_error *err);
int cmd_stop(struct client *c, const struct proto_request *req, json_object **ret,
	     struct proto_error *err);
int cmd_get_status(struct client *c, const struct proto_request *req, json_object **ret,
		   struct proto_error *err);
int cmd_close(struct client *c, const struct proto_request *req, json_object **ret,
	      struct proto_error *err);

/* libsdc's stream API: a stream opened now and started explicitly. */
int cmd_open_stream(struct client *c, const struct proto_request *req, json_object **ret,
		    struct proto_error *err);
int cmd_start_stream(struct client *c, const struct proto_request *req, json_object **ret,
		     struct proto_error *err);

/*
 * A shared stream's volume (linear or dB, one value or one per channel)
 * and mute, ramped; on the client's own streams and its user's detached
 * playbacks.
 */
int cmd_set_volume(struct client *c, const struct proto_request *req, json_object **ret,
		   struct proto_error *err);

extern const char *const cmd_set_volume_params[];
extern const char *const cmd_open_stream_params[];
extern const char *const cmd_start_stream_params[];
extern const char *const cmd_play_params[];
extern const char *const cmd_rec_params[];
extern const char *const cmd_playrec_params[];
extern const char *const cmd_handle_params[];
