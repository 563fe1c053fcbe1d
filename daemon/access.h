/*
 * Who may connect: the user and group lists of the configuration
 * (allow_users, allow_groups), checked against each client's peer
 * credentials.  Without lists, everyone who may open the socket may
 * connect; with either list, only the users listed and the members of the
 * groups listed may.  Loop thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

/* One list: the uids of allow_users or the gids of allow_groups. */
struct access_list {
	bool set;      /* the key was given (possibly empty) */
	uint32_t *ids; /* uid_t and gid_t are both 32 bits on Linux */
	size_t count;
};

/* Frees the list and returns it to "not given".  Accepts a zeroed struct. */
void access_list_clear(struct access_list *l);

/* Replaces dst by a copy of src.  Returns 0 or -ENOMEM (dst unchanged). */
int access_list_copy(struct access_list *dst, const struct access_list *src);

/*
 * Parses a list of user names or numeric uids, separated by spaces or
 * commas, into l (replacing it; an empty text gives an empty list, which
 * is given).  Names are looked up now.  Returns 0, or -EINVAL with a
 * message in err (size errsize), or -ENOMEM; on error l is unchanged.
 */
int access_parse_users(struct access_list *l, const char *text, char *err, size_t errsize);

/* The same for group names or numeric gids. */
int access_parse_groups(struct access_list *l, const char *text, char *err, size_t errsize);

/* Returns whether the lists restrict who may connect at all. */
bool access_restricted(const struct access_list *users, const struct access_list *groups);

/*
 * Returns whether a user with uid, member of the ngids groups in gids
 * (primary and supplementary), may connect.
 */
bool access_allows(const struct access_list *users, const struct access_list *groups, uid_t uid,
		   const gid_t *gids, size_t ngids);

/*
 * Checks the peer of the connected socket fd, whose SO_PEERCRED
 * credentials are cred; its supplementary groups are read with
 * SO_PEERGROUPS (both as they were when the peer connected).  Returns 0
 * when it may connect, -EACCES when not.
 */
int access_check_peer(const struct access_list *users, const struct access_list *groups, int fd,
		      const struct ucred *cred);

/* Prints a user list to f as the configuration file writes it ("root 1000"; names where known). */
void access_print_users(const struct access_list *l, FILE *f);

/* Prints a group list to f, likewise. */
void access_print_groups(const struct access_list *l, FILE *f);
