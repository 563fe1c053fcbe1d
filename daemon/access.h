/*
 * Who may connect: the user and group lists of the configuration
 * (allow_users, allow_groups), checked against each client's peer
 * credentials.  Without lists, everyone who may open the socket may
 * connect; with either list, only the users listed and the members of the
 * groups listed may.  Loop thread.
 */
#pragma once

#include <stdio.h>

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

struct access {
	bool users_set;	 /* allow_users was given (possibly empty) */
	bool groups_set; /* allow_groups was given (possibly empty) */
	uid_t *uids;
	size_t uid_count;
	gid_t *gids;
	size_t gid_count;
};

/* Frees the lists and returns a to "everyone may connect".  Accepts a zeroed struct. */
void access_clear(struct access *a);

/* Replaces dst's user list by src's.  Returns 0 or -ENOMEM (dst unchanged). */
int access_copy_users(struct access *dst, const struct access *src);

/* Replaces dst's group list by src's.  Returns 0 or -ENOMEM (dst unchanged). */
int access_copy_groups(struct access *dst, const struct access *src);

/*
 * Parses a list of user names or numeric uids, separated by spaces or
 * commas, into a's user list (replacing it; an empty text gives an empty
 * list).  Names are looked up now.  Returns 0, or -EINVAL with a message
 * in err (size errsize), or -ENOMEM.
 */
int access_parse_users(struct access *a, const char *text, char *err, size_t errsize);

/* The same for group names or numeric gids, into a's group list. */
int access_parse_groups(struct access *a, const char *text, char *err, size_t errsize);

/* Returns whether the lists restrict who may connect at all. */
bool access_restricted(const struct access *a);

/*
 * Returns whether a user with uid, member of the ngids groups in gids
 * (primary and supplementary), may connect.
 */
bool access_allows(const struct access *a, uid_t uid, const gid_t *gids, size_t ngids);

/*
 * Checks the peer of the connected socket fd, whose SO_PEERCRED
 * credentials are cred; its supplementary groups are read with
 * SO_PEERGROUPS.  Returns 0 when it may connect, -EACCES when not.
 */
int access_check_peer(const struct access *a, int fd, const struct ucred *cred);

/* Prints the user list to f, as the configuration file writes it ("root 1000"; names where known). */
void access_print_users(const struct access *a, FILE *f);

/* Prints the group list to f, likewise. */
void access_print_groups(const struct access *a, FILE *f);
