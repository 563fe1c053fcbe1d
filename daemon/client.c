/*
 * Client connections: their life (closing, doomed connections closed from
 * the loop, memory given back after a storm of connections) and reading
 * their requests.  Reading is bounded (a line may not exceed
 * PROTO_MAX_LINE bytes) and fair: clients take turns, each handling at most
 * LINES_PER_TURN lines per loop iteration, and one with lines left waits in
 * the ready list for its next turn, so that a flood of requests from one
 * client delays another's by a few dozen lines at most.  The outgoing
 * queue is client-send.c's, taking connections client-accept.c's.
 * Descriptors that clients send, and client sockets, are closed through
 * the closer (closer.h), so that no close made slow on purpose runs here.
 * Loop thread.
 */
#include "client.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "client-internal.h"
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

	client_queue_free(c);
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

void client_doom(struct client *c)
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

/* Closes the connection after the queued messages are sent. */
static void client_close_after_flush(struct client *c)
{
	if (c->closed || c->doomed)
		return;
	c->closing = true;
	if (!c->out_head)
		client_close(c);
	else
		client_update_poll(c);
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
			client_update_poll(c);
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
		r = client_flush(c);
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
	client_update_poll(c);
}

void client_update_poll(struct client *c)
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
			client_update_poll(c);
		}
		if (c->fds_waiting && closer_room() >= CLOSER_BATCH) {
			c->fds_waiting = false;
			client_update_poll(c);
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

void client_track_new(struct client *c)
{
	struct daemon *d = c->daemon;

	list_insert_tail(&d->clients, &c->link);
	d->client_count++;
	if (++clients_allocated > clients_peak)
		clients_peak = clients_allocated;
	if (clients_peak >= TRIM_PEAK_MIN)
		storm = true;
	log_info("Client %u connected (pid %d, uid %u, gid %u)", c->id, (int)c->cred.pid,
		 (unsigned)c->cred.uid, (unsigned)c->cred.gid);
	client_update_poll(c);
}
