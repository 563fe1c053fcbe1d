/*
 * Client connections.  Reading is bounded (a line may not exceed
 * PROTO_MAX_LINE bytes) and fair: clients take turns, each handling at most
 * LINES_PER_TURN lines per loop iteration, and one with lines left waits in
 * the ready list for its next turn, so that a flood of requests from one
 * client delays another's by a few dozen lines at most.  Writing never
 * blocks: what the socket does not take is queued, and a client that lets
 * its queue grow past the limit is dropped, so that no client can make the
 * daemon stall or grow without bound.  Descriptors that clients send, and
 * client sockets, are closed through the closer (closer.h), so that no
 * close made slow on purpose runs here.  Loop thread.
 */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "access.h"
#include "client-streams.h"
#include "closer.h"
#include "commands.h"
#include "daemon.h"
#include "log.h"

/*
 * Lines one client handles per turn (one turn per loop iteration) before
 * the others get theirs.
 */
#define LINES_PER_TURN 32

/* Reads per turn, for lines that come in pieces. */
#define READS_PER_TURN 4

/* Descriptors a client may send (each closed unused) before it is disconnected. */
#define CLIENT_MAX_RECEIVED_FDS 8

/* Above this many queued bytes the client's requests are not read until it catches up. */
#define BACKPRESSURE_BYTES (256 * 1024)

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

/*
 * The most clients connected since memory was last given back.  Each
 * client's line buffer is 64 KiB of heap; after a storm of connections
 * their pages stay with malloc (the heap cannot shrink past what was
 * allocated later), so they are handed back as the storm subsides: each
 * time the count has halved, and once more when few clients are left
 * (the last halvings alone could leave a few megabytes behind).
 * Loop thread.
 */
static unsigned clients_peak;
static unsigned clients_allocated; /* client records not yet freed (closing ones too) */
static bool storm; /* the peak reached TRIM_PEAK_MIN and the clients have not all gone yet */

/* Below this many clients at the peak, what they leave is not worth a trim. */
#define TRIM_PEAK_MIN 64
/* A storm is over when no more clients than this are left. */
#define TRIM_STORM_END (TRIM_PEAK_MIN / 8)

/* Says whether the storm of connections subsided enough to give memory back now. */
static bool storm_subsided(unsigned count)
{
	if (!storm)
		return false;
	if (count <= TRIM_STORM_END) {
		storm = false;
		clients_peak = count;
		return true;
	}
	if (count <= clients_peak / 2) {
		clients_peak = count;
		return true;
	}
	return false;
}

static void on_client_closed(uv_handle_t *handle)
{
	struct client *c = handle->data;
	size_t unsent = c->out_bytes;
	bool storm_over;

	while (c->out_head) {
		struct outmsg *m = c->out_head;

		c->out_head = m->next;
		outmsg_free(m);
	}
	closer_release_socket(c->fd);
	linebuf_free(&c->in);
	free(c);
	/*
	 * Counted by the records freed, not by client_count: that drops at
	 * client_close(), and a burst of disconnections runs its close
	 * callbacks (which free the buffers) only afterwards.
	 */
	storm_over = storm_subsided(--clients_allocated);
#ifdef __GLIBC__
	/*
	 * A client dropped for not reading leaves megabytes of small free
	 * chunks (its queued events) that malloc keeps: give them back, and
	 * the line buffers of many clients gone.
	 */
	if (unsent > BACKPRESSURE_BYTES || storm_over)
		malloc_trim(0);
#else
	(void)unsent;
#endif
}

void client_close(struct client *c)
{
	struct daemon *d = c->daemon;

	if (c->closed)
		return;
	c->closed = true;
	list_remove(&c->link);
	if (c->ready) {
		list_remove(&c->ready_link);
		c->ready = false;
	}
	d->client_count--;
	commands_client_gone(c);
	c->user->clients--;
	users_release(&d->users, c->user);
	c->user = NULL;
	log_info("Client %u (pid %d) disconnected", c->id, (int)c->cred.pid);
	uv_close((uv_handle_t *)&c->poll, on_client_closed);
}

/* Updates the events the poll handle waits for. */
static void update_poll(struct client *c);

static void run_turns(uv_idle_t *idle);

/* Closes every doomed client; run from the loop's idle handle. */
static void on_reaper(uv_idle_t *idle)
{
	struct daemon *d = idle->data;
	struct list *pos, *tmp;

	uv_idle_stop(&d->reaper);
	list_for_each_safe(pos, tmp, &d->clients)
	{
		struct client *c = list_entry(pos, struct client, link);

		if (c->doomed)
			client_close(c);
	}
}

/*
 * Marks a failed connection to be closed from the loop: the caller may be
 * deep inside code that uses the client's streams.
 */
static void doom(struct client *c)
{
	if (c->doomed || c->closed)
		return;
	c->doomed = true;
	if (c->poll_events) {
		uv_poll_stop(&c->poll);
		c->poll_events = 0;
	}
	if (!uv_is_active((uv_handle_t *)&c->daemon->reaper)) {
		c->daemon->reaper.data = c->daemon;
		uv_idle_start(&c->daemon->reaper, on_reaper);
	}
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
 * Sends what the queue holds; returns 0 or a negative errno on a dead
 * connection.  While descriptors may wait unread in the socket, each send
 * adds its kernel allocation to sent_alloc: what SIOCOUTQ grew by, or its
 * length when the client read meanwhile (a buffer takes at least its
 * length), which is never more than the truth.
 */
static int flush(struct client *c)
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
		doom(c);
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

	r = flush(c);
	if (r < 0) {
		log_debug("Client %u: send failed: %s", c->id, strerror(-r));
		doom(c);
		return r;
	}
	update_poll(c);
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

/* Closes the connection after the queued messages are sent. */
static void client_close_after_flush(struct client *c)
{
	if (c->closed || c->doomed)
		return;
	c->closing = true;
	if (!c->out_head)
		client_close(c);
	else
		update_poll(c);
}

/*
 * Takes one request from the client's budget.  Returns false (and pauses
 * reading until the budget refills) when the client asks faster than
 * max_requests_per_second allows; a burst of one second's worth is allowed.
 */
static bool take_token(struct client *c)
{
	double rate = c->daemon->settings.max_requests_per_second;
	uint64_t now;

	if (rate <= 0)
		return true;
	now = uv_now(c->daemon->loop);
	c->tokens += (double)(now - c->tokens_at) * rate / 1000.0;
	if (c->tokens > rate)
		c->tokens = rate;
	c->tokens_at = now;
	if (c->tokens < 1) {
		c->throttled = true;
		return false;
	}
	c->tokens -= 1;
	return true;
}

/* Handles one complete line. */
static void handle_line(struct client *c, const char *line, size_t len)
{
	struct proto_request req;
	struct proto_error err = { 0 };

	if (len == 0)
		return;
	c->active_at = uv_now(c->daemon->loop);
	if (!take_token(c)) {
		/* The request is answered, not carried out; reading pauses until the budget refills. */
		proto_parse_request(line, len, &req, &err);
		proto_error_set(&err, PROTO_E_LIMIT,
				"too many requests: at most %.0f per second; slow down",
				c->daemon->settings.max_requests_per_second);
		client_reply_error(c, req.id, &err);
		proto_request_clear(&req);
		proto_error_clear(&err);
		return;
	}
	if (proto_parse_request(line, len, &req, &err) < 0) {
		log_debug("Client %u: bad request: %s", c->id, err.message);
		client_reply_error(c, req.id, &err);
	} else {
		commands_dispatch(c, &req);
	}
	proto_request_clear(&req);
	proto_error_clear(&err);
}

/* Answers a line that outgrew PROTO_MAX_LINE and closes the connection once that is sent. */
static void line_too_long(struct client *c)
{
	struct proto_error err = { 0 };

	proto_error_set(&err, PROTO_E_LINE_TOO_LONG,
			"line exceeds the maximum of %d bytes; closing the connection",
			PROTO_MAX_LINE - 1);
	log_info("Client %u sent a line longer than %d bytes; closing", c->id, PROTO_MAX_LINE - 1);
	client_reply_error(c, NULL, &err);
	client_close_after_flush(c);
}

/* Disconnects a client that keeps sending descriptors, after telling it why. */
static void too_many_fds(struct client *c)
{
	struct proto_error err = { 0 };

	log_warning("Client %u (pid %d) sent %u file descriptors; disconnecting it", c->id,
		    (int)c->cred.pid, c->fds_received);
	proto_error_set(&err, PROTO_E_INVALID_REQUEST,
			"clients must not send file descriptors (%u received, each closed unused); closing the connection",
			c->fds_received);
	client_reply_error(c, NULL, &err);
	client_close_after_flush(c);
}

/* How a client's turn at its buffered lines ended. */
enum turn_end {
	TURN_READ,  /* no complete line is left: the socket may be read */
	TURN_SPENT, /* the turn's budget of lines is spent */
	TURN_STOP,  /* reading stops for now (queue full, throttled, closing) */
};

/*
 * Handles the complete lines already read, one by one, while the client
 * keeps up with its replies and *budget lasts: one read may hold thousands
 * of short requests whose replies are large, so the queue is checked before
 * every line, not only before every read.  Lines left over wait in the
 * buffer: until the queue has drained (lines_pending), or until the
 * client's next turn.
 */
static enum turn_end handle_lines(struct client *c, unsigned *budget)
{
	bool handled = false;
	char *line;
	size_t len;
	int r;

	for (;;) {
		if (c->out_bytes > BACKPRESSURE_BYTES) {
			c->lines_pending = true;
			/* Not the client's fault: it is not the one holding a line back. */
			c->line_started = 0;
			return TURN_STOP;
		}
		if (*budget == 0)
			return TURN_SPENT;
		r = linebuf_next(&c->in, &line, &len);
		if (r != 1)
			break;
		handle_line(c, line, len);
		(*budget)--;
		handled = true;
		if (c->closed || c->closing || c->doomed)
			return TURN_STOP;
	}
	c->lines_pending = false;
	/*
	 * Remember when the partial line began, so that it cannot be held
	 * forever.  After a complete line the rest is a new line, even when no
	 * read ever ends between two lines (a client streaming long requests).
	 */
	if (linebuf_pending(&c->in) == 0)
		c->line_started = 0;
	else if (!c->line_started || handled)
		c->line_started = uv_now(c->daemon->loop);
	if (r == -EMSGSIZE) {
		line_too_long(c);
		return TURN_STOP;
	}
	return c->throttled ? TURN_STOP : TURN_READ;
}

/* Puts the client at the end of the ready list, for its next turn. */
static void make_ready(struct client *c)
{
	struct daemon *d = c->daemon;

	if (c->ready)
		return;
	c->ready = true;
	list_insert_tail(&d->ready, &c->ready_link);
	if (!uv_is_active((uv_handle_t *)&d->turns))
		uv_idle_start(&d->turns, run_turns);
}

/*
 * Gives the client its turn: handles up to LINES_PER_TURN lines from the
 * buffer, reading when it holds no complete line.  A client whose budget
 * ran out waits in the ready list; one whose socket holds more than
 * READS_PER_TURN reads is called again by its poll handle.
 */
static void take_turn(struct client *c)
{
	/*
	 * A read that filled less than the space offered took everything there
	 * was: the next read would only say EAGAIN.  The poll handle reports
	 * anything that arrives later (a system call saved per request).
	 */
	bool drained = false;
	unsigned budget = LINES_PER_TURN;

	for (int reads = 0;; reads++) {
		union closer_control control;
		struct iovec iov;
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		enum turn_end end = handle_lines(c, &budget);
		size_t avail;
		ssize_t n;
		int fds;

		if (end == TURN_SPENT)
			make_ready(c);
		if (end != TURN_READ || drained || reads == READS_PER_TURN)
			return;
		iov.iov_base = linebuf_space(&c->in, &avail);
		iov.iov_len = avail;
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		n = closer_recv(c->fd, &msg, &fds);
		if (fds > 0) {
			if (c->fds_received == 0)
				log_info("Client %u (pid %d) sent file descriptors; closing them unused",
					 c->id, (int)c->cred.pid);
			c->fds_received += (unsigned)fds;
			if (c->fds_received > CLIENT_MAX_RECEIVED_FDS) {
				too_many_fds(c);
				return;
			}
		}
		if (n == -EAGAIN)
			return;
		if (n == -EBUSY) {
			/* Its descriptors wait in the socket until the closer has room (see on_sweep). */
			log_info("Client %u sent file descriptors while many wait to be closed; not reading it for now",
				 c->id);
			c->fds_waiting = true;
			return;
		}
		if (n < 0) {
			log_debug("Client %u: read failed: %s", c->id, strerror((int)-n));
			client_close(c);
			return;
		}
		if (n == 0) {
			if (linebuf_pending(&c->in) > 0)
				log_info("Client %u disconnected in the middle of a line (%zu bytes dropped)",
					 c->id, linebuf_pending(&c->in));
			client_close(c);
			return;
		}
		linebuf_commit(&c->in, (size_t)n);
		drained = (size_t)n < avail;
	}
}

/* Gives each client in the ready list its next turn; the turns idle handle's callback. */
static void run_turns(uv_idle_t *idle)
{
	struct daemon *d = idle->data;
	struct list now;

	/* Clients that become ready during these turns wait for the next iteration. */
	list_init(&now);
	if (!list_empty(&d->ready)) {
		now.next = d->ready.next;
		now.prev = d->ready.prev;
		now.next->prev = &now;
		now.prev->next = &now;
		list_init(&d->ready);
	}
	while (!list_empty(&now)) {
		struct client *c = list_entry(now.next, struct client, ready_link);

		list_remove(&c->ready_link);
		c->ready = false;
		take_turn(c);
		if (!c->closed && !c->doomed && c->closing && !c->out_head)
			client_close(c);
		else
			update_poll(c);
	}
	if (list_empty(&d->ready))
		uv_idle_stop(idle);
}

static void on_client_ready(uv_poll_t *handle, int status, int events)
{
	struct client *c = handle->data;
	int r;

	if (status < 0) {
		log_debug("Client %u: poll error: %s", c->id, uv_strerror(status));
		client_close(c);
		return;
	}
	if (events & UV_WRITABLE) {
		r = flush(c);
		if (r < 0) {
			client_close(c);
			return;
		}
	}
	/* A client in the ready list has its turn from there. */
	if (((events & (UV_READABLE | UV_DISCONNECT)) || c->lines_pending) && !c->closing &&
	    !c->ready)
		take_turn(c);
	if (c->closed || c->doomed)
		return;
	if (c->closing && !c->out_head) {
		client_close(c);
		return;
	}
	update_poll(c);
}

static void update_poll(struct client *c)
{
	int events = 0;

	if (c->closed || c->doomed)
		return;
	if (!c->closing && !c->throttled && !c->fds_waiting && c->out_bytes <= BACKPRESSURE_BYTES) {
		events |= UV_READABLE | UV_DISCONNECT;
		/*
		 * Lines read before the queue filled up are still buffered: the
		 * socket, writable as good as always here, calls us back for them.
		 */
		if (c->lines_pending)
			events |= UV_WRITABLE;
	}
	if (c->out_head)
		events |= UV_WRITABLE;
	if (events != c->poll_events) {
		c->poll_events = events;
		if (events)
			uv_poll_start(&c->poll, events, on_client_ready);
		else
			uv_poll_stop(&c->poll);
	}
}

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

/*
 * Once a second: drops clients holding a half-sent line too long, resumes
 * throttled ones, and those whose descriptors waited for room in the closer.
 */
static void on_sweep(uv_timer_t *timer)
{
	struct daemon *d = timer->data;
	uint64_t now = uv_now(d->loop);
	uint64_t limit = (uint64_t)(d->settings.line_timeout * 1000.0);
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &d->clients)
	{
		struct client *c = list_entry(pos, struct client, link);

		if (c->closed || c->doomed || c->closing)
			continue;
		if (c->throttled) {
			c->throttled = false;
			update_poll(c);
		}
		if (c->fds_waiting && closer_room() >= CLOSER_BATCH) {
			c->fds_waiting = false;
			update_poll(c);
		}
		if (limit && c->line_started && now - c->line_started >= limit) {
			struct proto_error err = { 0 };

			log_info("Client %u held a partial line for %.0f s; dropping it", c->id,
				 d->settings.line_timeout);
			proto_error_set(&err, PROTO_E_TIMEOUT,
					"a line stayed incomplete for %.0f seconds; closing the connection",
					d->settings.line_timeout);
			client_reply_error(c, NULL, &err);
			client_close_after_flush(c);
		}
	}
}

void client_start_sweeper(struct daemon *d)
{
	uv_timer_init(d->loop, &d->sweeper);
	d->sweeper.data = d;
	uv_timer_start(&d->sweeper, on_sweep, 1000, 1000);
	/* The sweeper alone must not keep the loop running at shutdown. */
	uv_unref((uv_handle_t *)&d->sweeper);
	list_init(&d->ready);
	uv_idle_init(d->loop, &d->turns);
	d->turns.data = d;
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
	list_insert_tail(&d->clients, &c->link);
	d->client_count++;
	if (++clients_allocated > clients_peak)
		clients_peak = clients_allocated;
	if (clients_peak >= TRIM_PEAK_MIN)
		storm = true;
	log_info("Client %u connected (pid %d, uid %u, gid %u)", c->id, (int)c->cred.pid,
		 (unsigned)c->cred.uid, (unsigned)c->cred.gid);
	update_poll(c);
}
