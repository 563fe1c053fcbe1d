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

void access_list_clear(struct access_list *l)
{
	free(l->ids);
	*l = (struct access_list){ 0 };
}

int access_list_copy(struct access_list *dst, const struct access_list *src)
{
	uint32_t *ids = NULL;

	if (src->count > 0) {
		ids = malloc(src->count * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		memcpy(ids, src->ids, src->count * sizeof(*ids));
	}
	free(dst->ids);
	*dst = (struct access_list){ .set = src->set, .ids = ids, .count = src->count };
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

/* Parses text into l, for users or groups. */
static int parse_into(struct access_list *l, const char *text, bool groups, char *err,
		      size_t errsize)
{
	uint32_t *ids;
	size_t count;
	int r = parse_list(text, groups, &ids, &count, err, errsize);

	if (r < 0)
		return r;
	free(l->ids);
	*l = (struct access_list){ .set = true, .ids = ids, .count = count };
	return 0;
}

int access_parse_users(struct access_list *l, const char *text, char *err, size_t errsize)
{
	_Static_assert(sizeof(uid_t) == sizeof(uint32_t), "uid_t is 32 bits");
	return parse_into(l, text, false, err, errsize);
}

int access_parse_groups(struct access_list *l, const char *text, char *err, size_t errsize)
{
	_Static_assert(sizeof(gid_t) == sizeof(uint32_t), "gid_t is 32 bits");
	return parse_into(l, text, true, err, errsize);
}

bool access_restricted(const struct access_list *users, const struct access_list *groups)
{
	return users->set || groups->set;
}

bool access_allows(const struct access_list *users, const struct access_list *groups, uid_t uid,
		   const gid_t *gids, size_t ngids)
{
	if (!access_restricted(users, groups))
		return true;
	for (size_t i = 0; i < users->count; i++)
		if (users->ids[i] == uid)
			return true;
	for (size_t i = 0; i < groups->count; i++)
		for (size_t j = 0; j < ngids; j++)
			if (groups->ids[i] == gids[j])
				return true;
	return false;
}

int access_check_peer(const struct access_list *users, const struct access_list *groups, int fd,
		      const struct ucred *cred)
{
	gid_t stack[PEER_GROUPS_ON_STACK + 1], *gids = stack, *heap = NULL;
	socklen_t len = PEER_GROUPS_ON_STACK * sizeof(gid_t);
	size_t n = 0;
	bool ok;

	if (!access_restricted(users, groups))
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
	ok = access_allows(users, groups, cred->uid, gids, n + 1);
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

void access_print_users(const struct access_list *l, FILE *f)
{
	for (size_t i = 0; i < l->count; i++)
		print_id(f, i == 0, l->ids[i], false);
}

void access_print_groups(const struct access_list *l, FILE *f)
{
	for (size_t i = 0; i < l->count; i++)
		print_id(f, i == 0, l->ids[i], true);
}
