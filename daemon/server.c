/*
 * The listening Unix socket.  Under socket activation systemd passes it
 * (exactly one listening Unix stream socket) and keeps the file; otherwise
 * the daemon creates it.  The folder is created when missing; an existing
 * socket is removed only when nothing answers on it, so a second daemon
 * never steals a live one's clients.  The socket's mode is 0660: the owner
 * and the group (audio for the system service) may connect.  Loop thread.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "client.h"
#include "daemon.h"
#include "log.h"

#define SOCKET_MODE 0660
#define FOLDER_MODE 0755

/* Creates every missing folder above path. */
static int make_parents(const char *path)
{
	char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, FOLDER_MODE) < 0 && errno != EEXIST)
			return log_errno(LOG_LEVEL_ERROR, -errno, "Failed to create folder '%s'", buf);
		*p = '/';
	}
	return 0;
}

/*
 * Looks at what exists at path.  Returns 0 when the path is free (a stale
 * socket was removed), -EADDRINUSE when a daemon answers there, or another
 * negative errno when the path holds something else.
 */
static int clear_stale(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : log_errno(LOG_LEVEL_ERROR, -errno, "Cannot inspect '%s'", path);
	if (!S_ISSOCK(st.st_mode)) {
		log_error("'%s' exists and is not a socket; refusing to replace it", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r == 0 || errno == EAGAIN) {
		close(fd);
		log_error("Another sddaemon is already serving '%s'", path);
		return -EADDRINUSE;
	}
	r = -errno;
	close(fd);
	if (r != -ECONNREFUSED && r != -ENOENT)
		return log_errno(LOG_LEVEL_ERROR, r, "Cannot check the existing socket '%s'", path);
	log_notice("Removing stale socket '%s'", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return log_errno(LOG_LEVEL_ERROR, -errno, "Failed to remove stale socket '%s'", path);
	return 0;
}

/* Accepts every pending connection. */
static void on_listen_ready(uv_poll_t *handle, int status, int events);

static void on_retry(uv_timer_t *timer)
{
	struct daemon *d = timer->data;

	if (d->server.active)
		uv_poll_start(&d->server.poll, UV_READABLE, on_listen_ready);
}

/*
 * Out of descriptors: the pending client is accepted on the spare
 * descriptor and told why it cannot be served; without a spare, accepting
 * pauses for a moment (the listening socket would otherwise report it
 * readable again at once, and the loop would spin).  Returns true when
 * accepting may go on.
 */
static bool out_of_fds(struct daemon *d, int err)
{
	struct server *s = &d->server;
	int fd;

	if (!s->out_of_fds)
		log_errno(LOG_LEVEL_WARNING, err, "Cannot accept clients (descriptors used up); refusing them until some are free");
	s->out_of_fds = true;
	if (s->spare_fd >= 0) {
		close(s->spare_fd);
		s->spare_fd = -1;
		fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			client_refuse(fd, PROTO_E_LIMIT, "sddaemon has no descriptors left for more clients");
		s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && s->spare_fd >= 0)
			return true;
	}
	uv_poll_stop(&s->poll);
	uv_timer_start(&s->retry, on_retry, 100, 0);
	return false;
}

/* Accepts every pending connection. */
static void on_listen_ready(uv_poll_t *handle, int status, int events)
{
	struct daemon *d = handle->data;

	if (status < 0) {
		log_warning("Listening socket error: %s", uv_strerror(status));
		return;
	}
	for (;;) {
		int fd = accept4(d->server.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) && out_of_fds(d, -errno))
				continue;
			if (errno != EAGAIN && errno != EMFILE && errno != ENFILE)
				log_errno(LOG_LEVEL_WARNING, -errno, "Failed to accept a client");
			return;
		}
		if (d->server.out_of_fds) {
			log_notice("Accepting clients again");
			d->server.out_of_fds = false;
		}
		client_accept(d, fd);
	}
}

/* Starts accepting on s->fd, which listens already. */
static int start_accepting(struct daemon *d)
{
	struct server *s = &d->server;
	int r = uv_poll_init(d->loop, &s->poll, s->fd);

	if (r < 0) {
		log_error("Failed to watch the socket: %s", uv_strerror(r));
		return -EIO;
	}
	s->poll.data = d;
	uv_timer_init(d->loop, &s->retry);
	s->retry.data = d;
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	s->active = true;
	uv_poll_start(&s->poll, UV_READABLE, on_listen_ready);
	return 0;
}

/*
 * Takes the socket that systemd passed (n of them, at SD_LISTEN_FDS_START).
 * The socket file belongs to systemd, which keeps it across restarts, so
 * it is never removed here.
 */
static int adopt_socket(struct daemon *d, int n)
{
	struct server *s = &d->server;
	struct sockaddr_un sa = { 0 };
	socklen_t len = sizeof(sa);
	int fd = SD_LISTEN_FDS_START, r, flags;

	if (n != 1) {
		log_error("systemd passed %d sockets; sddaemon takes exactly one (check ListenStream= in the socket unit)",
			  n);
		return -EINVAL;
	}
	r = sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0);
	if (r < 0)
		return log_errno(LOG_LEVEL_ERROR, r, "Cannot inspect the socket systemd passed");
	if (r == 0) {
		log_error("The socket systemd passed is not a listening Unix stream socket (check ListenStream= in the socket unit)");
		return -EINVAL;
	}
	/* The descriptor came without O_NONBLOCK and FD_CLOEXEC. */
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return log_errno(LOG_LEVEL_ERROR, -errno, "Failed to set up the socket systemd passed");
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 || len <= offsetof(struct sockaddr_un, sun_path))
		snprintf(s->path, sizeof(s->path), "(unnamed)");
	else if (sa.sun_path[0] == '\0')
		snprintf(s->path, sizeof(s->path), "@%.*s",
			 (int)(len - offsetof(struct sockaddr_un, sun_path) - 1), sa.sun_path + 1);
	else
		snprintf(s->path, sizeof(s->path), "%s", sa.sun_path);
	s->fd = fd;
	s->activated = true;
	r = start_accepting(d);
	if (r < 0)
		return r;
	log_notice("Listening on '%s' (socket activation)", s->path);
	return 0;
}

int server_open(struct daemon *d, const char *path)
{
	struct server *s = &d->server;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int r;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->spare_fd = -1;
	/* Passed sockets are taken out of the environment, so that children do not see them. */
	r = sd_listen_fds(1);
	if (r < 0)
		return log_errno(LOG_LEVEL_ERROR, r, "Invalid socket activation environment (LISTEN_FDS)");
	if (r > 0)
		return adopt_socket(d, r);

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(s->path, sizeof(s->path), "%s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);

	r = make_parents(path);
	if (r < 0)
		return r;
	r = clear_stale(path);
	if (r < 0)
		return r;

	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return log_errno(LOG_LEVEL_ERROR, -errno, "Failed to create a socket");
	/* The umask makes the socket 0660 from the start, so there is no window at 0777. */
	old_mask = umask(0777 & ~SOCKET_MODE);
	r = bind(s->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (r < 0) {
		r = log_errno(LOG_LEVEL_ERROR, -errno, "Failed to bind '%s'", path);
		goto fail;
	}
	s->owns_path = true;
	if (chmod(path, SOCKET_MODE) < 0)
		log_errno(LOG_LEVEL_WARNING, -errno, "Failed to set the mode of '%s', ignoring", path);
	if (listen(s->fd, SOMAXCONN) < 0) {
		r = log_errno(LOG_LEVEL_ERROR, -errno, "Failed to listen on '%s'", path);
		goto fail;
	}
	r = start_accepting(d);
	if (r < 0)
		goto fail;
	log_notice("Listening on '%s'", path);
	return 0;
fail:
	if (s->owns_path)
		unlink(path);
	s->owns_path = false;
	close(s->fd);
	s->fd = -1;
	return r;
}

static void on_server_closed(uv_handle_t *handle)
{
	struct daemon *d = handle->data;
	struct server *s = &d->server;

	if (--s->closing > 0)
		return;
	close(s->fd);
	s->fd = -1;
	if (s->spare_fd >= 0)
		close(s->spare_fd);
	s->spare_fd = -1;
}

void server_close(struct server *s)
{
	if (s->owns_path) {
		unlink(s->path);
		s->owns_path = false;
	}
	if (s->active) {
		s->active = false;
		s->closing = 2;
		uv_close((uv_handle_t *)&s->poll, on_server_closed);
		uv_close((uv_handle_t *)&s->retry, on_server_closed);
	} else if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
}
