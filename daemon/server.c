/*
 * The listening Unix socket.  Under socket activation systemd passes it
 * (exactly one listening Unix stream socket) and keeps the file; otherwise
 * the daemon creates it.  The folder is created when missing, and used
 * only when no one else could replace what is in it: a real folder (not a
 * symbolic link) of the daemon's user that no one else may write.  An
 * existing socket is removed only when nothing answers on it, so a second
 * daemon never steals a live one's clients, and at exit only the socket
 * the daemon made (the same inode) is removed.  The socket's mode is 0660:
 * the owner and the group (audio for the system service) may connect.
 * Loop thread.
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
#include "closer.h"
#include "daemon.h"
#include "log.h"

#define SOCKET_MODE 0660
#define FOLDER_MODE 0755

/* Creates every missing folder above path (its own folder included). */
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
 * Opens the folder that will hold the socket and checks it, so that no one
 * else can replace the socket or its folder while the daemon serves: the
 * folder itself (not a symbolic link: it is opened with O_NOFOLLOW, and
 * every later step works from this descriptor, never from the path again)
 * must belong to the daemon's user and be writable by no one else; the
 * folder above it may be writable by others only when it is sticky, as
 * /tmp is, and must belong to root or the daemon's user.  Stores the
 * descriptor (O_PATH) in s->dir_fd and the socket's name inside it in
 * s->name.  Returns 0 or a negative errno, having said why.
 */
static int open_folder(struct server *s, const char *path)
{
	char dir[sizeof(s->path)], parent[sizeof(s->path)];
	const char *slash = strrchr(path, '/'), *base;
	struct stat st;
	int parent_fd, fd;
	uid_t uid = geteuid();

	if (!slash) {
		snprintf(dir, sizeof(dir), ".");
		snprintf(s->name, sizeof(s->name), "%s", path);
	} else {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
		snprintf(s->name, sizeof(s->name), "%s", slash + 1);
	}
	if (!s->name[0] || strcmp(s->name, ".") == 0 || strcmp(s->name, "..") == 0) {
		log_error("The socket path '%s' does not end in a file name", path);
		return -EINVAL;
	}
	/* The folder's parent and the folder's name in it. */
	slash = strrchr(dir, '/');
	base = slash ? slash + 1 : dir;
	if (!slash)
		snprintf(parent, sizeof(parent), ".");
	else
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash == dir ? 1 : slash - dir), dir);
	if (!*base)
		base = "."; /* the folder is / */

	parent_fd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (parent_fd < 0)
		return log_errno(LOG_LEVEL_ERROR, -errno, "Cannot open folder '%s'", parent);
	if (fstat(parent_fd, &st) < 0) {
		close(parent_fd);
		return log_errno(LOG_LEVEL_ERROR, -errno, "Cannot inspect folder '%s'", parent);
	}
	if ((st.st_uid != 0 && st.st_uid != uid) || ((st.st_mode & 0022) && !(st.st_mode & S_ISVTX))) {
		close(parent_fd);
		log_error("Refusing the socket folder '%s': the folder above it, '%s', belongs to uid %u with mode %04o, so others could replace it (it must belong to root or uid %u, and be writable by no one else unless it is sticky)",
			  dir, parent, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned)uid);
		return -EPERM;
	}
	fd = openat(parent_fd, base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (mkdirat(parent_fd, base, FOLDER_MODE) < 0 && errno != EEXIST) {
			close(parent_fd);
			return log_errno(LOG_LEVEL_ERROR, -errno, "Failed to create folder '%s'", dir);
		}
		fd = openat(parent_fd, base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
		bool is_link = fstatat(parent_fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);

		close(parent_fd);
		log_error("Refusing the socket folder '%s': it is %s, not a folder", dir,
			  is_link ? "a symbolic link" : "something else");
		return -ENOTDIR;
	}
	close(parent_fd);
	if (fd < 0)
		return log_errno(LOG_LEVEL_ERROR, -errno, "Cannot open the socket folder '%s'", dir);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return log_errno(LOG_LEVEL_ERROR, -errno, "Cannot inspect the socket folder '%s'", dir);
	}
	if (st.st_uid != uid) {
		close(fd);
		log_error("Refusing the socket folder '%s': it belongs to uid %u, not to sddaemon's uid %u (remove it, or choose another socket path)",
			  dir, (unsigned)st.st_uid, (unsigned)uid);
		return -EPERM;
	}
	if (st.st_mode & 0022) {
		close(fd);
		log_error("Refusing the socket folder '%s': its mode %04o lets others than its owner replace the socket (make it 0755 or 0700)",
			  dir, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	s->dir_fd = fd;
	return 0;
}

/*
 * Stores in sa the path by which the socket's name in the checked folder is
 * reached through s->dir_fd (/proc/self/fd/N/NAME), so that binding,
 * connecting and the like never resolve the folder's path again.  Falls
 * back to the path itself when /proc is missing.
 */
static void socket_address(const struct server *s, struct sockaddr_un *sa)
{
	char proc[32];
	int n;

	sa->sun_family = AF_UNIX;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", s->dir_fd);
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", proc, s->name);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path) || access(proc, F_OK) < 0)
		snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", s->path);
}

/*
 * Looks at what exists at the socket's name.  Returns 0 when it is free (a
 * stale socket was removed), -EADDRINUSE when a daemon answers there, or
 * another negative errno when it holds something else.
 */
static int clear_stale(struct server *s)
{
	struct sockaddr_un sa = { 0 };
	struct stat st;
	int fd, r;

	if (fstatat(s->dir_fd, s->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : log_errno(LOG_LEVEL_ERROR, -errno, "Cannot inspect '%s'", s->path);
	if (!S_ISSOCK(st.st_mode)) {
		log_error("'%s' exists and is not a socket; refusing to replace it", s->path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	socket_address(s, &sa);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r == 0 || errno == EAGAIN) {
		close(fd);
		log_error("Another sddaemon is already serving '%s'", s->path);
		return -EADDRINUSE;
	}
	r = -errno;
	close(fd);
	if (r != -ECONNREFUSED && r != -ENOENT)
		return log_errno(LOG_LEVEL_ERROR, r, "Cannot check the existing socket '%s'", s->path);
	log_notice("Removing stale socket '%s'", s->path);
	if (unlinkat(s->dir_fd, s->name, 0) < 0 && errno != ENOENT)
		return log_errno(LOG_LEVEL_ERROR, -errno, "Failed to remove stale socket '%s'", s->path);
	return 0;
}

/* Removes the socket file if it is still the one the daemon made. */
static void remove_socket(struct server *s)
{
	struct stat st;

	if (!s->owns_path)
		return;
	s->owns_path = false;
	if (fstatat(s->dir_fd, s->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (st.st_dev != s->sock_dev || st.st_ino != s->sock_ino) {
		log_warning("'%s' is no longer the socket sddaemon made; leaving it", s->path);
		return;
	}
	if (unlinkat(s->dir_fd, s->name, 0) < 0)
		log_errno(LOG_LEVEL_WARNING, -errno, "Failed to remove '%s', ignoring", s->path);
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
	/*
	 * Clients have no reason to send descriptors: where the kernel can,
	 * connections refuse them (client.c closes them through the closer
	 * otherwise).
	 */
	r = closer_refuse_rights(s->fd);
	if (r < 0)
		log_info("Descriptors that clients send are closed on a thread of their own (the kernel cannot refuse them: %s)",
			 strerror(-r));
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
	struct sockaddr_un sa = { 0 };
	struct stat st;
	mode_t old_mask;
	int r;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->spare_fd = -1;
	s->dir_fd = -1;
	/* Passed sockets are taken out of the environment, so that children do not see them. */
	r = sd_listen_fds(1);
	if (r < 0)
		return log_errno(LOG_LEVEL_ERROR, r, "Invalid socket activation environment (LISTEN_FDS)");
	if (r > 0)
		return adopt_socket(d, r);

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(s->path, sizeof(s->path), "%s", path);

	r = make_parents(path);
	if (r < 0)
		return r;
	r = open_folder(s, path);
	if (r < 0)
		return r;
	r = clear_stale(s);
	if (r < 0)
		goto fail;

	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		r = log_errno(LOG_LEVEL_ERROR, -errno, "Failed to create a socket");
		goto fail;
	}
	socket_address(s, &sa);
	/* The umask makes the socket 0660 from the start, so there is no window at 0777. */
	old_mask = umask(0777 & ~SOCKET_MODE);
	r = bind(s->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (r < 0) {
		r = log_errno(LOG_LEVEL_ERROR, -errno, "Failed to bind '%s'", path);
		goto fail;
	}
	/* Only the socket made here is ever removed: remember which file it is. */
	if (fstatat(s->dir_fd, s->name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISSOCK(st.st_mode)) {
		r = log_errno(LOG_LEVEL_ERROR, -errno, "Cannot find the socket just made at '%s'", path);
		goto fail;
	}
	s->sock_dev = st.st_dev;
	s->sock_ino = st.st_ino;
	s->owns_path = true;
	if (fchmodat(s->dir_fd, s->name, SOCKET_MODE, 0) < 0)
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
	remove_socket(s);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	close(s->dir_fd);
	s->dir_fd = -1;
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
	remove_socket(s);
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	s->dir_fd = -1;
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
