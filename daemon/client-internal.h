/*
 * What the files of the client connection share and nobody else needs:
 * client.c (the connection's life and its reading), client-send.c (its
 * outgoing queue) and client-accept.c (taking and refusing connections).
 * Loop thread.
 */
#pragma once

#include <stdbool.h>

struct client;
struct daemon;

/* Above this many queued bytes the client's requests are not read until it catches up. */
#define BACKPRESSURE_BYTES (256 * 1024)

/*
 * Marks a failed connection to be closed from the loop: the caller may be
 * deep inside code that uses the client's streams.
 */
void client_doom(struct client *c);

/* Updates the events the client's poll handle waits for. */
void client_update_poll(struct client *c);

/* Sends what the queue holds; returns 0 or a negative errno on a dead connection. */
int client_flush(struct client *c);

/* Frees whatever is still queued (the connection is closed). */
void client_queue_free(struct client *c);

/* Counts in a connection accept made, lists it and starts reading it. */
void client_track_new(struct client *c);
