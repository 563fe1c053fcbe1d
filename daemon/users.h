/*
 * What each user (uid) holds of the daemon, so that one user cannot take
 * what others need: connections, running streams and shared memory,
 * counted over all of the user's connections and the detached playbacks
 * it left behind.  client.c counts connections; client-streams.c counts
 * streams and memory.  An account lives while anything is counted in it.
 * Loop thread.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "list.h"

struct user_account {
	struct list link;
	uid_t uid;
	unsigned clients;  /* connections */
	unsigned streams;  /* streams running (not yet over) */
	unsigned records;  /* stream records, running or not (they keep the account) */
	size_t shm_bytes;  /* shared memory of those records */
};

struct users {
	struct list accounts; /* struct user_account, by link, most recently used first */
	unsigned count;
};

void users_init(struct users *u);

/* Frees every account; nothing may use them any more. */
void users_fini(struct users *u);

/* Finds uid's account, or makes an empty one; NULL when out of memory. */
struct user_account *users_get(struct users *u, uid_t uid);

/* Frees a's account if nothing is counted in it any more (a may be NULL). */
void users_release(struct users *u, struct user_account *a);
