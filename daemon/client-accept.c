/*
 * Taking connections: who may connect (allow_users, allow_groups, checked
 * again on reload), the limits on connections per user and in all, making
 * room by closing the longest idle connection, and refusing with a line
 * that says why.  Loop thread.
 */
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "client-internal.h"
#include "client-streams.h"
#include "closer.h"
#include "daemon.h"
#include "log.h"

/* Sends a single error line to a connection we will not serve, and closes it. */
void client_refuse(int fd, enum proto_errcode code, const char *message)
{
	struct proto_error err = { 0 };
	size_t len;
	char *line;

	proto_error_set(&err, code, "%s", message);
	line = proto_format_error(NULL, &err, &len);
	if (line && send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("Could not tell a refused client why: %s", strerror(errno));
	free(line);
	closer_release_socket(fd);
}

void client_recheck_access(struct daemon *d)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &d->clients)
	{
		struct client *c = list_entry(pos, struct client, link);
		struct proto_error err = { 0 };

		if (c->closed || c->doomed ||
		    access_check_peer(&d->settings.allow_users, &d->settings.allow_groups, c->fd,
				      &c->cred) == 0)
			continue;
		log_warning("Disconnecting client %u (pid %d, uid %u, gid %u): no longer in allow_users or allow_groups",
			    c->id, (int)c->cred.pid, (unsigned)c->cred.uid, (unsigned)c->cred.gid);
		proto_error_set(&err, PROTO_E_ACCESS_DENIED,
				"access denied: uid %u is no longer allowed to use this sddaemon (allow_users and allow_groups changed on reload); closing the connection",
				(unsigned)c->cred.uid);
		/* Sent now if the socket takes it; the connection and its streams end at once. */
		client_reply_error(c, NULL, &err);
		proto_error_clear(&err);
		client_close(c);
	}
}

/*
 * Makes room for a new connection: closes the connection that has been
 * idle longest (no running stream, no request, no subscription to events)
 * of user a, or of anyone when a is NULL, if it has been idle for
 * idle_timeout at least.  Returns whether one was closed.
 */
static bool make_room(struct daemon *d, struct user_account *a)
{
	uint64_t now = uv_now(d->loop), limit = (uint64_t)(d->settings.idle_timeout * 1000.0);
	struct client *oldest = NULL;
	struct proto_error err = { 0 };

	if (limit == 0)
		return false;
	for (struct list *p = d->clients.next; p != &d->clients; p = p->next) {
		struct client *c = list_entry(p, struct client, link);

		if (c->closed || c->doomed || (a && c->user != a) || c->subscriptions ||
		    now - c->active_at < limit ||
		    (oldest && c->active_at >= oldest->active_at) || client_streams_running(c) > 0)
			continue;
		oldest = c;
	}
	if (!oldest)
		return false;
	log_info("Closing client %u (pid %d, uid %u), idle for %.0f s, to make room for a new connection",
		 oldest->id, (int)oldest->cred.pid, (unsigned)oldest->cred.uid,
		 (double)(now - oldest->active_at) / 1000.0);
	proto_error_set(&err, PROTO_E_TIMEOUT,
			"closing this connection, idle for %.0f seconds: a new connection needs its place (idle_timeout)",
			(double)(now - oldest->active_at) / 1000.0);
	client_reply_error(oldest, NULL, &err);
	proto_error_clear(&err);
	client_close(oldest);
	return true;
}

void client_accept(struct daemon *d, int fd)
{
	socklen_t len = sizeof(struct ucred);
	struct ucred cred;
	struct user_account *user;
	struct client *c;
	char msg[200];
	int r;

	if (d->stopping) {
		client_refuse(fd, PROTO_E_SHUTTING_DOWN, "sddaemon is shutting down");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		cred = (struct ucred){ .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	if (access_check_peer(&d->settings.allow_users, &d->settings.allow_groups, fd, &cred) < 0) {
		log_warning("Refusing a client (pid %d, uid %u, gid %u): not in allow_users or allow_groups",
			    (int)cred.pid, (unsigned)cred.uid, (unsigned)cred.gid);
		snprintf(msg, sizeof(msg),
			 "access denied: uid %u is not allowed to use this sddaemon (allow_users and allow_groups in sddaemon.conf)",
			 (unsigned)cred.uid);
		client_refuse(fd, PROTO_E_ACCESS_DENIED, msg);
		return;
	}
	user = users_get(&d->users, cred.uid);
	if (!user) {
		client_refuse(fd, PROTO_E_INTERNAL, "out of memory");
		return;
	}
	if (user->clients >= (unsigned)d->settings.max_clients_per_user && !make_room(d, user)) {
		log_warning("Refusing a client (pid %d, uid %u): the user has %u connections, the limit",
			    (int)cred.pid, (unsigned)cred.uid, user->clients);
		snprintf(msg, sizeof(msg),
			 "too many connections of uid %u: at most %d per user (max_clients_per_user)",
			 (unsigned)cred.uid, d->settings.max_clients_per_user);
		client_refuse(fd, PROTO_E_LIMIT, msg);
		users_release(&d->users, user);
		return;
	}
	/* Sockets still waiting to be closed count as clients: they hold descriptors. */
	if (d->client_count + closer_sockets() >= (size_t)d->settings.max_clients &&
	    !(make_room(d, NULL) &&
	      d->client_count + closer_sockets() < (size_t)d->settings.max_clients)) {
		log_warning("Refusing a client: the limit of %d clients is reached", d->settings.max_clients);
		client_refuse(fd, PROTO_E_LIMIT, "too many clients connected");
		users_release(&d->users, user);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c || linebuf_init(&c->in, PROTO_MAX_LINE) < 0) {
		free(c);
		client_refuse(fd, PROTO_E_INTERNAL, "out of memory");
		users_release(&d->users, user);
		return;
	}
	c->daemon = d;
	c->fd = fd;
	c->cred = cred;
	list_init(&c->streams);
	list_init(&c->ready_link);
	list_init(&c->rescans);
	c->tokens = d->settings.max_requests_per_second;
	c->tokens_at = uv_now(d->loop);
	c->active_at = c->tokens_at;
	c->id = ++d->next_client_id;
	/* It inherits this from the listening socket where the kernel has it; to be sure. */
	closer_refuse_rights(fd);
	r = uv_poll_init(d->loop, &c->poll, fd);
	if (r < 0) {
		log_warning("Cannot watch client socket: %s", uv_strerror(r));
		linebuf_free(&c->in);
		free(c);
		closer_release_socket(fd);
		users_release(&d->users, user);
		return;
	}
	c->poll.data = c;
	c->user = user;
	user->clients++;
	client_track_new(c);
}
