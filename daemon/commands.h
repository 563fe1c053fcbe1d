/*
 * The commands of the protocol: a table from "cmd" to handler, with the
 * parameters each accepts.  Loop thread.
 */
#pragma once

#include "proto.h"

struct client;

/* Validates and runs one parsed request, and sends its reply. */
void commands_dispatch(struct client *c, const struct proto_request *req);

/* Releases whatever the commands keep for a client that is going away. */
void commands_client_gone(struct client *c);
