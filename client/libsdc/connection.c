/*
 * libsdc's connection to the daemon: connecting and greeting it, the
 * request/reply exchange, descriptors received with replies and events
 * delivered to the application, and noticing that the daemon has gone.
 * Any thread; the client's mutex serialises use of the socket.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto.h"
#include "sdc-private.h"
#include "sockpath.h"

/* Keeps descriptors that arrived with data until their reply claims them. */
static void stash_fds(sdc_client *c, struct msghdr *msg)
{
	for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(msg); cmsg; cmsg = CMSG_NXTHDR(msg, cmsg)) {
		size_t n;

		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
			if (c->pending_count < CONN_MAX_PENDING_FDS)
				c->pending_fds[c->pending_count++] = fd;
			else
				close(fd);
		}
	}
}

/*
 * Records that the connection is gone, the first time tells the
 * application through its event callback ("connection_lost"), and returns
 * errnum with the reason as the thread's last error.  Called with the lock
 * held, as events are delivered.
 */
static int lose_connection(sdc_client *c, int errnum)
{
	if (!atomic_load(&c->lost)) {
		char line[128];

		snprintf(c->lost_reason, sizeof(c->lost_reason), "%s",
			 c->shutdown_seen ? "sddaemon stopped" : "sddaemon went away");
		atomic_store_explicit(&c->lost, errnum, memory_order_release);
		snprintf(line, sizeof(line), "{\"event\":\"connection_lost\",\"reason\":\"%s\"}",
			 c->lost_reason);
		if (c->event_fn)
			c->event_fn(c->event_userdata, "connection_lost", line);
	}
	return sdc__error_set(atomic_load(&c->lost), "%s", c->lost_reason);
}

const char *sdc__conn_lost(sdc_client *c)
{
	struct pollfd p = { .fd = c->fd, .events = 0 };

	if (atomic_load_explicit(&c->lost, memory_order_acquire))
		return c->lost_reason;
	if (p.fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)))
		return "sddaemon went away";
	return NULL;
}

/*
 * Returns the next line from the daemon: 1 with the line, 0 when none came
 * within timeout_ms, or a negative errno when the connection failed.
 */
static int read_line(sdc_client *c, int timeout_ms, char **ret_line, size_t *ret_len)
{
	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * 16)];
			struct cmsghdr align;
		} control;
		struct iovec iov;
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		size_t avail;
		ssize_t n;
		int r = linebuf_next(&c->in, ret_line, ret_len);

		if (r == 1)
			return 1;
		if (r < 0)
			return sdc__error_set(-EPROTO, "sddaemon sent a line longer than %d bytes", PROTO_MAX_LINE);
		if (c->fd < 0)
			return sdc__error_set(-ENOTCONN, "not connected to sddaemon");
		r = poll(&pfd, 1, timeout_ms);
		if (r < 0) {
			if (errno == EINTR)
				return sdc__error_set(-EINTR, "interrupted");
			return sdc__error_set(-errno, "poll failed: %s", strerror(errno));
		}
		if (r == 0)
			return 0;
		iov.iov_base = linebuf_space(&c->in, &avail);
		iov.iov_len = avail;
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return lose_connection(c, -errno);
		}
		stash_fds(c, &msg);
		if (n == 0)
			return lose_connection(c, -ECONNRESET);
		linebuf_commit(&c->in, (size_t)n);
	}
}

/*
 * Drops the descriptors of a reply nobody waits for any more: one to a
 * request that gave up when a signal interrupted its wait.  Descriptors
 * arrive no later than their line and in the order of the lines, so they
 * are the oldest ones waiting; left there, the next reply with descriptors
 * would take them for its own.
 */
static void drop_stale_fds(sdc_client *c, json_object *reply)
{
	json_object *result = NULL, *fds = NULL;
	int n = 0;

	if (json_object_object_get_ex(reply, "result", &result) &&
	    json_object_object_get_ex(result, "fds", &fds) && json_object_is_type(fds, json_type_array))
		n = (int)json_object_array_length(fds);
	if (n > c->pending_count)
		n = c->pending_count;
	for (int i = 0; i < n; i++)
		close(c->pending_fds[i]);
	memmove(c->pending_fds, c->pending_fds + n, sizeof(int) * (size_t)(c->pending_count - n));
	c->pending_count -= n;
}

/* Notes the device list's generation that a reply or event carries. */
static void note_generation(sdc_client *c, json_object *obj)
{
	json_object *v;

	if (json_object_object_get_ex(obj, "generation", &v) && json_object_is_type(v, json_type_int))
		c->generation = (unsigned)json_object_get_int64(v);
}

/* Frees an array of n devices. */
static void device_array_free(sdc_device_info *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++) {
		free(a[i].name);
		free(a[i].stable_id);
	}
	free(a);
}

/*
 * Parses the device objects of list into a new array; returns its length,
 * or -ENOMEM (with *ret NULL).
 */
static int device_array(json_object *list, sdc_device_info **ret)
{
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	sdc_device_info *a = calloc(n + 1, sizeof(*a));

	*ret = NULL;
	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (sdc__json_device_info(json_object_array_get_idx(list, i), &a[i]) < 0) {
			device_array_free(a, i);
			return -ENOMEM;
		}
	*ret = a;
	return (int)n;
}

/* Hands a devices_changed event to the application's typed callback. */
static void deliver_devices_changed(sdc_client *c, json_object *obj, const char *line)
{
	sdc_devices_change ch = { .generation = c->generation, .json = line };
	sdc_device_info *added = NULL, *removed = NULL;
	json_object *v = NULL;
	int na, nr;

	json_object_object_get_ex(obj, "added", &v);
	na = device_array(v, &added);
	v = NULL;
	json_object_object_get_ex(obj, "removed", &v);
	nr = device_array(v, &removed);
	if (na >= 0 && nr >= 0) {
		ch.device_count = sdc__json_int(obj, "devices", 0);
		ch.added = added;
		ch.added_count = (size_t)na;
		ch.removed = removed;
		ch.removed_count = (size_t)nr;
		ch.renumbered = json_object_object_get_ex(obj, "renumbered", &v) &&
				json_object_get_boolean(v);
		ch.default_input = ch.default_output = -1;
		if (json_object_object_get_ex(obj, "default_device", &v) &&
		    json_object_is_type(v, json_type_array) && json_object_array_length(v) == 2) {
			ch.default_input = json_object_get_int(json_object_array_get_idx(v, 0));
			ch.default_output = json_object_get_int(json_object_array_get_idx(v, 1));
		}
		c->devices_fn(c->devices_userdata, &ch);
	}
	device_array_free(added, na > 0 ? (size_t)na : 0);
	device_array_free(removed, nr > 0 ? (size_t)nr : 0);
}

/* Hands an event line to the application's callbacks. */
static void deliver_event(sdc_client *c, json_object *obj, const char *line)
{
	const char *event = sdc__json_str(obj, "event");

	if (event && strcmp(event, "shutdown") == 0)
		c->shutdown_seen = 1;
	if (event && strcmp(event, "devices_changed") == 0) {
		note_generation(c, obj);
		if (c->devices_fn)
			deliver_devices_changed(c, obj, line);
	}
	if (c->event_fn && event)
		c->event_fn(c->event_userdata, event, line);
}

/* Sends the whole of buf, waiting while the socket is full. */
static int send_all(sdc_client *c, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sdc__error_set(-errno, "cannot send to sddaemon: %s",
					      strerror(errno));
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The body of sdc__conn_request(), called with the lock held. */
static int request_locked(sdc_client *c, const char *cmd, json_object *params,
			  json_object **ret_result, int *ret_fds, int max_fds, int *ret_nfds)
{
	int64_t id = ++c->next_id;
	json_object *req = params ? params : json_object_new_object();
	size_t len;
	char *text;
	int r;

	if (!json_object_is_type(req, json_type_object)) {
		json_object_put(req);
		return sdc__error_set(-EINVAL, "parameters must be a JSON object");
	}
	if (atomic_load(&c->lost)) {
		json_object_put(req);
		return sdc__error_set(atomic_load(&c->lost), "%s", c->lost_reason);
	}
	json_object_object_add(req, "id", json_object_new_int64(id));
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	if (c->request_generation)
		json_object_object_add(req, "generation",
				       json_object_new_int64(c->request_generation));
	text = proto_format_line(req, &len);
	json_object_put(req);
	if (!text)
		return sdc__error_set(-ENOMEM, "out of memory");
	r = send_all(c, text, len);
	free(text);
	/*
	 * A daemon that refuses us (access list, client limit, shutdown) says why
	 * and hangs up, possibly before our request went out: read its reason.
	 */
	if (r < 0 && r != -EPIPE && r != -ECONNRESET)
		return r;

	for (;;) {
		json_object *obj, *idv, *ok, *v;
		char *line;
		int nfds;

		r = read_line(c, -1, &line, &len);
		if (r < 0)
			return r;
		obj = json_tokener_parse(line);
		if (!obj || !json_object_is_type(obj, json_type_object)) {
			json_object_put(obj);
			return sdc__error_set(-EPROTO, "sddaemon sent something that is not a JSON object");
		}
		if (json_object_object_get_ex(obj, "event", NULL)) {
			deliver_event(c, obj, line);
			json_object_put(obj);
			continue;
		}
		if (!json_object_object_get_ex(obj, "id", &idv) ||
		    !json_object_is_type(idv, json_type_int) || json_object_get_int64(idv) != id) {
			/* An error without id: the daemon refused the connection or the line. */
			if (json_object_object_get_ex(obj, "error", &v) &&
			    json_object_is_type(v, json_type_object) &&
			    !json_object_is_type(idv, json_type_int)) {
				r = sdc__error_from_reply(v);
				json_object_put(obj);
				return r;
			}
			drop_stale_fds(c, obj);
			json_object_put(obj);
			continue;
		}
		note_generation(c, obj);
		if (!json_object_object_get_ex(obj, "ok", &ok) || !json_object_get_boolean(ok)) {
			if (json_object_object_get_ex(obj, "error", &v) &&
			    json_object_is_type(v, json_type_object))
				r = sdc__error_from_reply(v);
			else
				r = sdc__error_set(-EPROTO, "malformed error reply from sddaemon");
			json_object_put(obj);
			return r;
		}
		json_object_object_get_ex(obj, "result", &v);
		/* Descriptors that came with this reply are the oldest ones waiting. */
		nfds = 0;
		if (v && json_object_object_get_ex(v, "fds", &idv) &&
		    json_object_is_type(idv, json_type_array))
			nfds = (int)json_object_array_length(idv);
		if (nfds > c->pending_count) {
			json_object_put(obj);
			return sdc__error_set(-EPROTO,
					      "sddaemon announced %d descriptors but sent %d", nfds,
					      c->pending_count);
		}
		for (int i = 0; i < nfds; i++) {
			if (ret_fds && i < max_fds)
				ret_fds[i] = c->pending_fds[i];
			else
				close(c->pending_fds[i]);
		}
		memmove(c->pending_fds, c->pending_fds + nfds,
			sizeof(int) * (size_t)(c->pending_count - nfds));
		c->pending_count -= nfds;
		if (ret_nfds)
			*ret_nfds = nfds < max_fds ? nfds : max_fds;
		if (ret_result)
			*ret_result = v ? json_object_get(v) : NULL;
		json_object_put(obj);
		return 0;
	}
}

int sdc__conn_request(sdc_client *c, const char *cmd, json_object *params,
		      json_object **ret_result, int *ret_fds, int max_fds, int *ret_nfds)
{
	int r;

	if (!c || !cmd) {
		json_object_put(params);
		return sdc__error_set(-EINVAL, "invalid arguments");
	}
	pthread_mutex_lock(&c->lock);
	r = request_locked(c, cmd, params, ret_result, ret_fds, max_fds, ret_nfds);
	pthread_mutex_unlock(&c->lock);
	return r;
}

int sdc__conn_open(sdc_client *c, const char *socket_path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	json_object *params, *result = NULL;
	int r;

	if (linebuf_init(&c->in, PROTO_MAX_LINE) < 0)
		return sdc__error_set(-ENOMEM, "out of memory");
	r = sockpath_resolve(socket_path, c->path, sizeof(c->path));
	if (r < 0)
		return sdc__error_set(r, "socket path too long");
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return sdc__error_set(-errno, "cannot create a socket: %s", strerror(errno));
	r = connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	/*
	 * Found by the search rather than named, a per-user socket that is not
	 * there (or not answered) gives way to the system-wide one.
	 */
	if ((r == -ENOENT || r == -ECONNREFUSED) && !(socket_path && *socket_path) &&
	    !(getenv("SDDAEMON_SOCKET") && *getenv("SDDAEMON_SOCKET")) &&
	    strcmp(c->path, SOCKPATH_SYSTEM) != 0) {
		struct sockaddr_un sys = { .sun_family = AF_UNIX };

		memcpy(sys.sun_path, SOCKPATH_SYSTEM, sizeof(SOCKPATH_SYSTEM));
		/* A socket whose connect failed is not used again: a fresh one tries. */
		close(c->fd);
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0)
			return sdc__error_set(-errno, "cannot create a socket: %s", strerror(errno));
		if (connect(c->fd, (struct sockaddr *)&sys, sizeof(sys)) == 0) {
			snprintf(c->path, sizeof(c->path), "%s", SOCKPATH_SYSTEM);
			r = 0;
		}
	}
	if (r < 0)
		return sdc__error_set(r, "cannot connect to sddaemon at %s: %s%s", c->path, strerror(-r),
				      r == -ENOENT || r == -ECONNREFUSED ? "; is it running?"
				      : r == -EACCES ? "; only the socket's owner and group may connect"
						     : "");
	params = json_object_new_object();
	json_object_object_add(params, "protocol", json_object_new_int(PROTO_VERSION));
	/* The program's name, which sdctl top and daemon_status show. */
	json_object_object_add(params, "client", json_object_new_string(program_invocation_short_name));
	r = sdc__conn_request(c, "hello", params, &result, NULL, 0, NULL);
	if (r < 0)
		return r;
	c->protocol = sdc__json_int(result, "protocol", 0);
	snprintf(c->daemon_version, sizeof(c->daemon_version), "%s",
		 sdc__json_str(result, "version") ? sdc__json_str(result, "version") : "?");
	json_object_put(result);
	if (c->protocol < 1 || c->protocol > PROTO_VERSION)
		return sdc__error_set(-EPROTONOSUPPORT, "sddaemon at %s speaks protocol %d, not %d",
				      c->path, c->protocol, PROTO_VERSION);
	return 0;
}

void sdc__conn_hangup(sdc_client *c)
{
	if (c->fd >= 0)
		shutdown(c->fd, SHUT_RDWR);
}

void sdc__conn_close(sdc_client *c)
{
	for (int i = 0; i < c->pending_count; i++)
		close(c->pending_fds[i]);
	c->pending_count = 0;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	linebuf_free(&c->in);
}

void sdc_set_event_callback(sdc_client *c, sdc_event_fn fn, void *userdata)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->event_fn = fn;
	c->event_userdata = userdata;
	pthread_mutex_unlock(&c->lock);
}

int sdc_set_devices_changed_callback(sdc_client *c, sdc_devices_changed_fn fn, void *userdata)
{
	json_object *params, *events;

	if (!c)
		return sdc__error_set(-EINVAL, "invalid arguments");
	pthread_mutex_lock(&c->lock);
	c->devices_fn = fn;
	c->devices_userdata = userdata;
	pthread_mutex_unlock(&c->lock);
	params = json_object_new_object();
	events = json_object_new_array();
	json_object_array_add(events, json_object_new_string("devices_changed"));
	json_object_object_add(params, "events", events);
	return sdc__conn_request(c, fn ? "subscribe" : "unsubscribe", params, NULL, NULL, 0, NULL);
}

unsigned sdc_devices_generation(sdc_client *c)
{
	unsigned g;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->lock);
	g = c->generation;
	pthread_mutex_unlock(&c->lock);
	return g;
}

void sdc_set_request_generation(sdc_client *c, unsigned generation)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->request_generation = generation;
	pthread_mutex_unlock(&c->lock);
}

int sdc_dispatch(sdc_client *c, int timeout_ms)
{
	int count = 0, r;

	if (!c)
		return sdc__error_set(-EINVAL, "invalid arguments");
	pthread_mutex_lock(&c->lock);
	for (;;) {
		json_object *obj;
		char *line;
		size_t len;

		r = read_line(c, count ? 0 : timeout_ms, &line, &len);
		if (r <= 0)
			break;
		obj = json_tokener_parse(line);
		if (obj && json_object_object_get_ex(obj, "event", NULL)) {
			deliver_event(c, obj, line);
			count++;
		} else if (obj && json_object_is_type(obj, json_type_object)) {
			drop_stale_fds(c, obj);
		}
		json_object_put(obj);
	}
	pthread_mutex_unlock(&c->lock);
	return r < 0 && count == 0 ? r : count;
}

int sdc_call(sdc_client *c, const char *cmd, const char *params_json, char **ret_result_json)
{
	json_object *params = NULL, *result = NULL;
	int r;

	if (params_json) {
		params = json_tokener_parse(params_json);
		if (!params || !json_object_is_type(params, json_type_object)) {
			json_object_put(params);
			return sdc__error_set(-EINVAL, "parameters are not a JSON object");
		}
	}
	r = sdc__conn_request(c, cmd, params, ret_result_json ? &result : NULL, NULL, 0, NULL);
	if (r < 0)
		return r;
	if (ret_result_json) {
		const char *text = json_object_to_json_string_ext(
			result, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

		*ret_result_json = strdup(text ? text : "null");
		json_object_put(result);
		if (!*ret_result_json)
			return sdc__error_set(-ENOMEM, "out of memory");
	}
	return 0;
}
