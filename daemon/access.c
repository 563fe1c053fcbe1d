/*
 * The access lists: parsing user and group lists (names are resolved when
 * the configuration is read, so a typo is an error there and not a silent
 * refusal later), and checking a client's credentials against them,
 * supplementary groups included.  Loop thread.
 */
#include "access.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest user or group name we look up. */
#define NAME_MAX_LEN 256

/* Supplementary groups read at once; more are read into a heap buffer. */
#define PEER_GROUPS_ON_STACK 64

void access_clear(struct access *a)
{
	free(a->uids);
	free(a->gids);
	*a = (struct access){ 0 };
}

/* Copies n ids of size bytes each; *ret is NULL for an empty list. */
static int copy_ids(const void *src, size_t n, size_t size, void **ret)
{
	void *p = NULL;

	if (n > 0) {
		p = malloc(n * size);
		if (!p)
			return -ENOMEM;
		memcpy(p, src, n * size);
	}
	*ret = p;
	return 0;
}

int access_copy_users(struct access *dst, const struct access *src)
{
	void *p;
	int r = copy_ids(src->uids, src->uid_count, sizeof(uid_t), &p);

	if (r < 0)
		return r;
	free(dst->uids);
	dst->uids = p;
	dst->uid_count = src->uid_count;
	dst->users_set = src->users_set;
	return 0;
}

int access_copy_groups(struct access *dst, const struct access *src)
{
	void *p;
	int r = copy_ids(src->gids, src->gid_count, sizeof(gid_t), &p);

	if (r < 0)
		return r;
	free(dst->gids);
	dst->gids = p;
	dst->gid_count = src->gid_count;
	dst->groups_set = src->groups_set;
	return 0;
}

/* Parses a decimal id that fits in 32 bits and is not the invalid id -1. */
static bool parse_id(const char *s, uint32_t *ret)
{
	unsigned long long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned)(*s - '0');
		if (v >= UINT32_MAX)
			return false;
	}
	*ret = (uint32_t)v;
	return true;
}

/*
 * Looks a user (want_group false) or group name up.  Returns 0 with *ret
 * set, -ENOENT when there is no such name, or another negative errno.
 */
static int lookup_name(const char *name, bool want_group, uint32_t *ret)
{
	size_t size = 16384;
	int r;

	for (;;) {
		char *buf = malloc(size);

		if (!buf)
			return -ENOMEM;
		if (want_group) {
			struct group gr, *res = NULL;

			r = getgrnam_r(name, &gr, buf, size, &res);
			if (r == 0 && res)
				*ret = (uint32_t)res->gr_gid;
			else if (r == 0)
				r = ENOENT;
		} else {
			struct passwd pw, *res = NULL;

			r = getpwnam_r(name, &pw, buf, size, &res);
			if (r == 0 && res)
				*ret = (uint32_t)res->pw_uid;
			else if (r == 0)
				r = ENOENT;
		}
		free(buf);
		if (r != ERANGE || size >= 1024 * 1024)
			return -r;
		size *= 2;
	}
}

/*
 * Parses a list of names or ids into a new array of 32-bit ids (uid_t and
 * gid_t are both 32 bits on Linux).
 */
static int parse_list(const char *text, bool groups, uint32_t **ret_ids, size_t *ret_count,
		      char *err, size_t errsize)
{
	const char *what = groups ? "group" : "user";
	uint32_t *ids = NULL;
	size_t count = 0;
	int r;

	for (const char *p = text;;) {
		char name[NAME_MAX_LEN + 1];
		size_t len;
		uint32_t id = 0;
		void *grown;

		p += strspn(p, " \t,");
		if (!*p)
			break;
		len = strcspn(p, " \t,");
		if (len > NAME_MAX_LEN) {
			snprintf(err, errsize, "%s name too long: '%.32s…'", what, p);
			r = -EINVAL;
			goto fail;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		if (!parse_id(name, &id)) {
			r = lookup_name(name, groups, &id);
			if (r == -ENOENT) {
				snprintf(err, errsize, "unknown %s '%s'", what, name);
				r = -EINVAL;
				goto fail;
			}
			if (r < 0) {
				snprintf(err, errsize, "cannot look %s '%s' up: %s", what, name,
					 strerror(-r));
				r = -EINVAL;
				goto fail;
			}
		}
		grown = realloc(ids, (count + 1) * sizeof(*ids));
		if (!grown) {
			r = -ENOMEM;
			goto fail;
		}
		ids = grown;
		ids[count++] = id;
	}
	*ret_ids = ids;
	*ret_count = count;
	return 0;
fail:
	free(ids);
	return r;
}

int access_parse_users(struct access *a, const char *text, char *err, size_t errsize)
{
	_Static_assert(sizeof(uid_t) == sizeof(uint32_t), "uid_t is 32 bits");
	uint32_t *ids;
	size_t count;
	int r = parse_list(text, false, &ids, &count, err, errsize);

	if (r < 0)
		return r;
	free(a->uids);
	a->uids = (uid_t *)ids;
	a->uid_count = count;
	a->users_set = true;
	return 0;
}

int access_parse_groups(struct access *a, const char *text, char *err, size_t errsize)
{
	_Static_assert(sizeof(gid_t) == sizeof(uint32_t), "gid_t is 32 bits");
	uint32_t *ids;
	size_t count;
	int r = parse_list(text, true, &ids, &count, err, errsize);

	if (r < 0)
		return r;
	free(a->gids);
	a->gids = (gid_t *)ids;
	a->gid_count = count;
	a->groups_set = true;
	return 0;
}

bool access_restricted(const struct access *a)
{
	return a->users_set || a->groups_set;
}

bool access_allows(const struct access *a, uid_t uid, const gid_t *gids, size_t ngids)
{
	if (!access_restricted(a))
		return true;
	for (size_t i = 0; i < a->uid_count; i++)
		if (a->uids[i] == uid)
			return true;
	for (size_t i = 0; i < a->gid_count; i++)
		for (size_t j = 0; j < ngids; j++)
			if (a->gids[i] == gids[j])
				return true;
	return false;
}

int access_check_peer(const struct access *a, int fd, const struct ucred *cred)
{
	gid_t stack[PEER_GROUPS_ON_STACK + 1], *gids = stack, *heap = NULL;
	socklen_t len = PEER_GROUPS_ON_STACK * sizeof(gid_t);
	size_t n = 0;
	bool ok;

	if (!access_restricted(a))
		return 0;
	if (cred->uid == (uid_t)-1)
		return -EACCES; /* SO_PEERCRED failed: we do not know who it is */
	/* The primary group first, then the supplementary ones. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, stack + 1, &len) == 0) {
		n = len / sizeof(gid_t);
	} else if (errno == ERANGE) {
		heap = malloc(len + sizeof(gid_t));
		if (heap && getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, heap + 1, &len) == 0) {
			gids = heap;
			n = len / sizeof(gid_t);
		}
	}
	/* Without SO_PEERGROUPS only the primary group counts. */
	gids[0] = cred->gid;
	ok = access_allows(a, cred->uid, gids, n + 1);
	free(heap);
	return ok ? 0 : -EACCES;
}

/* Prints one id to f as a name when it has one, else as a number. */
static void print_id(FILE *f, bool first, uint32_t id, bool group)
{
	char tmp[16384];
	const char *name = NULL;

	if (group) {
		struct group gr, *res = NULL;

		if (getgrgid_r((gid_t)id, &gr, tmp, sizeof(tmp), &res) == 0 && res)
			name = res->gr_name;
	} else {
		struct passwd pw, *res = NULL;

		if (getpwuid_r((uid_t)id, &pw, tmp, sizeof(tmp), &res) == 0 && res)
			name = res->pw_name;
	}
	if (!first)
		fputc(' ', f);
	if (name)
		fputs(name, f);
	else
		fprintf(f, "%u", (unsigned)id);
}

void access_print_users(const struct access *a, FILE *f)
{
	for (size_t i = 0; i < a->uid_count; i++)
		print_id(f, i == 0, (uint32_t)a->uids[i], false);
}

void access_print_groups(const struct access *a, FILE *f)
{
	for (size_t i = 0; i < a->gid_count; i++)
		print_id(f, i == 0, (uint32_t)a->gids[i], true);
}
