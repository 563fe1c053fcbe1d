/*
 * A client's outgoing queue: replies and events, each a line, some with
 * descriptors passed by SCM_RIGHTS.  Writing never blocks: what the socket
 * does not take is queued, and a client that lets its queue grow past
 * max_output_queue is dropped.  Descriptors sent are followed until the
 * client has read them (client_fds_pending()), since each pins a file the
 * client does not hold yet.  Loop thread.
 */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "client-internal.h"
#include "daemon.h"
#include "log.h"

struct outmsg {
	struct outmsg *next;
	size_t len;
	size_t sent;
	int nfds;
	int fds[CLIENT_MAX_FDS];
	char *data;
};

static void outmsg_free(struct outmsg *m)
{
	for (int i = 0; i < m->nfds; i++)
		close(m->fds[i]);
	free(m->data);
	free(m);
}

void client_queue_free(struct client *c)
{
	while (c->out_head) {
		struct outmsg *m = c->out_head;

		c->out_head = m->next;
		outmsg_free(m);
	}
	c->out_tail = NULL;
}

/*
 * Returns the kernel memory held by what was sent to the client and not yet
 * read by it (SIOCOUTQ of a Unix socket: the buffers' allocation, not their
 * length), or -1 when the kernel does not say.
 */
static int unread_alloc(int fd)
{
	int n;

	return ioctl(fd, SIOCOUTQ, &n) < 0 ? -1 : n;
}

/*
 * Remembers that a message with nfds descriptors went into the socket (its
 * allocation is counted in sent_alloc already).  When every mark is taken,
 * it joins the newest one, which then counts as read only when both are.
 */
static void add_mark(struct client *c, unsigned nfds)
{
	struct client_fd_mark *mk;

	c->fds_unread += nfds;
	if (c->mark_count == CLIENT_FD_MARKS) {
		mk = &c->marks[(c->mark_head + CLIENT_FD_MARKS - 1) % CLIENT_FD_MARKS];
		mk->nfds += nfds;
	} else {
		mk = &c->marks[(c->mark_head + c->mark_count) % CLIENT_FD_MARKS];
		mk->nfds = nfds;
		c->mark_count++;
	}
	mk->at = c->sent_alloc;
}

/*
 * Forgets the marks of messages the client has read.  The kernel frees a
 * Unix socket's buffers in the order they were sent, as they are read, so
 * a message has been read once what is still unread takes no more memory
 * than what was sent after it.  sent_alloc underestimates that (see
 * flush()), so a mark is never forgotten too early, only now and then
 * later than it could be.
 */
static void forget_read_marks(struct client *c)
{
	int unread;

	if (c->mark_count == 0)
		return;
	unread = unread_alloc(c->fd);
	if (unread < 0)
		return;
	while (c->mark_count > 0) {
		struct client_fd_mark *mk = &c->marks[c->mark_head];

		if ((uint64_t)unread > c->sent_alloc - mk->at)
			break;
		c->fds_unread -= mk->nfds;
		c->mark_head = (c->mark_head + 1) % CLIENT_FD_MARKS;
		c->mark_count--;
	}
	if (c->mark_count == 0) {
		c->mark_head = 0;
		c->sent_alloc = 0;
	}
}

unsigned client_fds_pending(struct client *c)
{
	forget_read_marks(c);
	return c->fds_queued + c->fds_unread;
}

/*
 * Sends what the queue holds (see client-internal.h).  While descriptors
 * may wait unread in the socket, each send
 * adds its kernel allocation to sent_alloc: what SIOCOUTQ grew by, or its
 * length when the client read meanwhile (a buffer takes at least its
 * length), which is never more than the truth.
 */
int client_flush(struct client *c)
{
	while (c->out_head) {
		struct outmsg *m = c->out_head;
		struct iovec iov = { .iov_base = m->data + m->sent, .iov_len = m->len - m->sent };
		union {
			char buf[CMSG_SPACE(sizeof(int) * CLIENT_MAX_FDS)];
			struct cmsghdr align;
		} control;
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		bool carries = m->sent == 0 && m->nfds > 0;
		bool counted = carries || c->mark_count > 0;
		int before = counted ? unread_alloc(c->fd) : -1, after;
		ssize_t n;

		if (carries) {
			struct cmsghdr *cmsg;

			memset(&control, 0, sizeof(control));
			msg.msg_control = control.buf;
			msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)m->nfds);
			cmsg = CMSG_FIRSTHDR(&msg);
			cmsg->cmsg_level = SOL_SOCKET;
			cmsg->cmsg_type = SCM_RIGHTS;
			cmsg->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)m->nfds);
			memcpy(CMSG_DATA(cmsg), m->fds, sizeof(int) * (size_t)m->nfds);
		}
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		m->sent += (size_t)n;
		c->out_bytes -= (size_t)n;
		if (counted) {
			after = before >= 0 ? unread_alloc(c->fd) : -1;
			c->sent_alloc += after > before && after - before > n ? (uint64_t)(after - before)
									       : (uint64_t)n;
		}
		if (carries) {
			/* The kernel holds its own references now, until the client reads them. */
			for (int i = 0; i < m->nfds; i++)
				close(m->fds[i]);
			c->fds_queued -= (unsigned)m->nfds;
			add_mark(c, (unsigned)m->nfds);
			m->nfds = 0;
		}
		if (m->sent == m->len) {
			c->out_head = m->next;
			if (!c->out_head)
				c->out_tail = NULL;
			outmsg_free(m);
		}
	}
	forget_read_marks(c);
	return 0;
}

int client_send(struct client *c, char *line, size_t len, const int *fds, int nfds)
{
	struct outmsg *m;
	int r;

	if (!line)
		return -ENOMEM;
	if (c->closed || c->doomed || nfds > CLIENT_MAX_FDS) {
		free(line);
		return c->closed || c->doomed ? -ENOTCONN : -EINVAL;
	}
	if (c->out_bytes + len > c->daemon->settings.max_output_queue) {
		free(line);
		log_warning("Client %u (pid %d) does not read its messages (%zu bytes queued); dropping it",
			    c->id, (int)c->cred.pid, c->out_bytes);
		client_doom(c);
		return -ENOBUFS;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		free(line);
		return -ENOMEM;
	}
	m->data = line;
	m->len = len;
	for (int i = 0; i < nfds; i++) {
		m->fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		if (m->fds[i] < 0) {
			r = -errno;
			m->nfds = i;
			outmsg_free(m);
			return r;
		}
	}
	m->nfds = nfds;
	c->fds_queued += (unsigned)nfds;
	if (c->out_tail)
		c->out_tail->next = m;
	else
		c->out_head = m;
	c->out_tail = m;
	c->out_bytes += len;

	r = client_flush(c);
	if (r < 0) {
		log_debug("Client %u: send failed: %s", c->id, strerror(-r));
		client_doom(c);
		return r;
	}
	client_update_poll(c);
	return 0;
}

int client_reply_ok(struct client *c, json_object *id, json_object *result, const int *fds,
		    int nfds)
{
	size_t len;
	char *line = proto_format_reply(id, result, c->daemon->devices.generation, &len);

	return client_send(c, line, len, fds, nfds);
}

int client_reply_error(struct client *c, json_object *id, const struct proto_error *err)
{
	size_t len;
	char *line = proto_format_error(id, err, &len);

	return client_send(c, line, len, NULL, 0);
}

int client_event(struct client *c, const char *event, json_object *fields)
{
	size_t len;
	char *line = proto_format_event(event, fields, &len);

	return client_send(c, line, len, NULL, 0);
}
