/*
 * One connected client: reading request lines, queueing replies and events
 * (with file descriptors passed by SCM_RIGHTS), and tearing the connection
 * down.  Raw recvmsg/sendmsg under a uv_poll_t, so that descriptors can
 * travel with any message.  Loop thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include <json-c/json.h>

#include "linebuf.h"
#include "list.h"
#include "proto.h"

struct daemon;
struct outmsg;
struct user_account;

/* The most descriptors one message may carry. */
#define CLIENT_MAX_FDS 8

/* Messages with descriptors whose reading is followed one by one (more are merged). */
#define CLIENT_FD_MARKS 16

/*
 * A message with descriptors that went into the socket: the client has
 * received them once everything sent up to it is read.  at is the
 * client's sent_alloc just after it was sent.
 */
struct client_fd_mark {
	uint64_t at;
	unsigned nfds;
};

struct client {
	struct daemon *daemon;
	struct list link;
	uv_poll_t poll;
	int fd;
	unsigned id; /* serial number, for log messages */
	struct ucred cred;
	struct user_account *user; /* its uid's account (users.h) */
	struct linebuf in;
	struct outmsg *out_head, *out_tail;
	size_t out_bytes; /* bytes queued and not yet sent */
	int poll_events;
	bool closing; /* reads nothing more; closes once the queue is sent */
	bool doomed;  /* the connection failed: it is closed from the loop, not from the caller */
	bool closed;  /* uv_close() was called */
	int protocol; /* version agreed by "hello" */
	char name[64]; /* the program's name, as "hello" gave it ("" when it did not) */
	/* The client's streams, kept by client-streams.c. */
	struct list streams; /* struct client_stream, by link, oldest first */
	size_t shm_bytes;    /* shared memory of the client's live streams */
	uint32_t last_handle; /* the latest play/rec/playrec, for wait/stop/get_status without a handle */
	uint64_t line_started; /* uv_now() when the pending partial line began; 0: none */
	double tokens;	       /* request budget (token bucket) */
	uint64_t tokens_at;    /* uv_now() of the last refill */
	bool throttled;	       /* reading paused until the budget refills */
	bool lines_pending;    /* complete lines wait in "in" until the queue drains */
	bool ready;	       /* complete lines wait in "in" for the client's next turn */
	struct list ready_link; /* in the daemon's ready list while ready */
	bool fds_waiting;	/* its next message holds descriptors the closer has no room for */
	unsigned fds_received;	/* descriptors the client sent (all closed unused) */
	/*
	 * Descriptors sent to the client and not yet received by it: those in
	 * queued messages (our duplicates) and those in the socket, which the
	 * kernel holds for us until the client reads them.  See client_fds_pending().
	 */
	unsigned fds_queued;
	unsigned fds_unread;
	struct client_fd_mark marks[CLIENT_FD_MARKS]; /* the unread ones, oldest first */
	unsigned mark_head, mark_count;
	uint64_t sent_alloc; /* kernel memory of what was sent since marks began (a lower bound) */
	uint64_t active_at;  /* uv_now() of the client's latest request, or of its connection */
	/* Kept by cmd-devices.c. */
	unsigned subscriptions; /* the events the client asked for (CMD_EVENT_* bits) */
	struct list rescans;	/* its rescan requests waiting for their probe */
};

/* Takes a freshly accepted connection. */
void client_accept(struct daemon *d, int fd);

/*
 * Returns the descriptors sent to c that it has not received yet: queued
 * in the daemon, or waiting in the socket for the client to read them.
 * Each pins a file (a stream's memory, an eventfd) that the client does
 * not hold yet, so they count against its limits.
 */
unsigned client_fds_pending(struct client *c);

/* Sends one error line to a connection that will not be served, and closes it. */
void client_refuse(int fd, enum proto_errcode code, const char *message);

/*
 * Queues one formatted line for sending, taking ownership of line (from
 * malloc).  The nfds descriptors are duplicated and sent with the line's
 * first byte.  Returns 0, or a negative errno when the client is gone or
 * was dropped for not reading (in which case nothing is queued).
 */
int client_send(struct client *c, char *line, size_t len, const int *fds, int nfds);

/* Sends a success reply (with the device list's generation); takes ownership of result. */
int client_reply_ok(struct client *c, json_object *id, json_object *result, const int *fds,
		    int nfds);

/* Sends an error reply. */
int client_reply_error(struct client *c, json_object *id, const struct proto_error *err);

/* Pushes an event; takes ownership of fields (may be NULL). */
int client_event(struct client *c, const char *event, json_object *fields);

/*
 * Closes the connection at once (its streams stop).  Never call it from
 * code that may run inside engine or command callbacks for the same
 * client: sending functions mark a failed connection doomed instead, and
 * the loop closes it from an idle callback.
 */
void client_close(struct client *c);

/*
 * Checks every connected client against the allow lists of the daemon's
 * settings (after a reload) and disconnects those they no longer allow,
 * with an access_denied error line; their streams end as for any
 * disconnect.
 */
void client_recheck_access(struct daemon *d);

/*
 * Starts the once-a-second check for half-sent lines and throttled clients,
 * and readies the idle handle that gives clients with lines left their
 * next turn.
 */
void client_start_sweeper(struct daemon *d);
