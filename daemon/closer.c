/*
 * The closer: a thread that closes descriptors which clients could make
 * slow to close (see closer.h), fed by the loop thread through a queue.
 * The thread starts with the first descriptor it is given; the daemon's
 * other threads never wait for it, and at exit it is left to the process's
 * end (the kernel then closes what it still holds without lingering).
 * The public functions run on the loop thread; closer_main on its own.
 */
#include "closer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"

/* The most descriptors the closer holds, whatever the descriptor limit allows. */
#define CLOSER_MAX 1024

/* Bytes a client socket's receive queue is read for before it goes to the closer as it is. */
#define DRAIN_MAX (1024 * 1024)

struct entry {
	struct entry *next;
	int fd;
	bool socket; /* a client socket (counted apart, against max_clients) */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct entry *head, *tail; /* waiting; the head is being closed while busy */
	size_t count;		   /* entries, the one being closed included */
	size_t sockets;		   /* of which client sockets */
	size_t limit;		   /* the most entries taken while reading (CLOSER_MAX or less) */
	bool started;
} closer = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
};

/* The closing thread: closes the queue's head, one at a time, for ever. */
static void *closer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&closer.lock);
	for (;;) {
		struct entry *e;

		while (!closer.head)
			pthread_cond_wait(&closer.wake, &closer.lock);
		e = closer.head;
		pthread_mutex_unlock(&closer.lock);
		/* This may block for as long as the descriptor's file wants. */
		close(e->fd);
		pthread_mutex_lock(&closer.lock);
		closer.head = e->next;
		if (!closer.head)
			closer.tail = NULL;
		closer.count--;
		if (e->socket)
			closer.sockets--;
		free(e);
	}
	return NULL;
}

/* Sets the limit from the descriptor limit, once; called with the lock held. */
static void set_limit(void)
{
	struct rlimit rl;

	if (closer.limit)
		return;
	closer.limit = CLOSER_MAX;
	/* A quarter of the table at most, and always room for one batch. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 4 < CLOSER_MAX)
		closer.limit = rl.rlim_cur / 4 > CLOSER_BATCH ? rl.rlim_cur / 4 : CLOSER_BATCH;
}

/* Starts the thread if it is not running; called with the lock held. */
static void start(void)
{
	pthread_attr_t attr;
	pthread_t thread;
	int r;

	if (closer.started)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Closing needs little stack. */
	pthread_attr_setstacksize(&attr, 64 * 1024);
	r = pthread_create(&thread, &attr, closer_main, NULL);
	pthread_attr_destroy(&attr);
	if (r) {
		/* What is queued waits for the next attempt; the limit still bounds it. */
		log_errno(LOG_LEVEL_WARNING, -r, "Cannot start the thread that closes clients' descriptors, trying again later");
		return;
	}
	pthread_setname_np(thread, "sdd-closer");
	closer.started = true;
}

/* Queues fd for closing. */
static void give(int fd, bool socket)
{
	struct entry *e = calloc(1, sizeof(*e));

	if (!e) {
		/* Nothing else is safe: a descriptor closed here could block the loop. */
		log_error("Out of memory queueing a client's descriptor for closing; leaving it open");
		return;
	}
	e->fd = fd;
	e->socket = socket;
	pthread_mutex_lock(&closer.lock);
	set_limit();
	if (closer.tail)
		closer.tail->next = e;
	else
		closer.head = e;
	closer.tail = e;
	closer.count++;
	if (socket)
		closer.sockets++;
	start();
	pthread_cond_signal(&closer.wake);
	pthread_mutex_unlock(&closer.lock);
}

#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83
#endif

int closer_refuse_rights(int fd)
{
	int off = 0;

#ifdef SDD_TEST_HOOKS
	if (getenv("SDD_TEST_PASS_RIGHTS"))
		return -ENOPROTOOPT;
#endif
	if (setsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &off, sizeof(off)) < 0)
		return -errno;
	return 0;
}

size_t closer_room(void)
{
	size_t room;

	pthread_mutex_lock(&closer.lock);
	set_limit();
	room = closer.count < closer.limit ? closer.limit - closer.count : 0;
	pthread_mutex_unlock(&closer.lock);
	return room;
}

size_t closer_sockets(void)
{
	size_t n;

	pthread_mutex_lock(&closer.lock);
	n = closer.sockets;
	pthread_mutex_unlock(&closer.lock);
	return n;
}

int closer_take_fds(struct msghdr *msg)
{
	int count = 0;

	if (msg->msg_controllen == 0)
		return 0;
	for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(msg); cmsg; cmsg = CMSG_NXTHDR(msg, cmsg)) {
		size_t n;

		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
			give(fd, false);
			count++;
		}
	}
	return count;
}

ssize_t closer_recv(int fd, struct msghdr *msg, int *ret_fds)
{
	ssize_t n;

	*ret_fds = 0;
	if (closer_room() < CLOSER_BATCH) {
		/*
		 * A peek without a control buffer says (MSG_CTRUNC) whether the data
		 * holds descriptors, and takes only references of its own, so no
		 * file is released here.  A read of just the bytes peeked then meets
		 * the same messages: the queue's head moves only when we read.
		 */
		struct msghdr peek = { .msg_iov = msg->msg_iov, .msg_iovlen = msg->msg_iovlen };
		struct iovec iov = msg->msg_iov[0];

		do
			n = recvmsg(fd, &peek, MSG_PEEK | MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
		if (peek.msg_flags & MSG_CTRUNC)
			return -EBUSY;
		if (n == 0)
			return 0;
		iov.iov_len = (size_t)n;
		msg->msg_iov = &iov;
		msg->msg_iovlen = 1;
		do
			n = recvmsg(fd, msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		while (n < 0 && errno == EINTR);
		msg->msg_iov = peek.msg_iov;
	} else {
		do
			n = recvmsg(fd, msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		while (n < 0 && errno == EINTR);
	}
	if (n < 0)
		return -errno;
	*ret_fds = closer_take_fds(msg);
	return n;
}

void closer_release_socket(int fd)
{
	static char sink[16384];
	size_t drained = 0;

	/* Nothing can be queued after this, so the queue only empties from here on. */
	if (shutdown(fd, SHUT_RD) < 0) {
		/* Not connected: nothing was ever in flight. */
		close(fd);
		return;
	}
	while (drained < DRAIN_MAX) {
		union closer_control control;
		struct iovec iov = { .iov_base = sink, .iov_len = sizeof(sink) };
		struct msghdr msg = { .msg_iov = &iov,
				      .msg_iovlen = 1,
				      .msg_control = control.buf,
				      .msg_controllen = sizeof(control.buf) };
		int fds;
		ssize_t n = closer_recv(fd, &msg, &fds);

		if (n == -EBUSY)
			break;
		/*
		 * The end of the stream, or an error, which a Unix socket reports
		 * only once its queue is empty: nothing is in flight any more.
		 */
		if (n <= 0) {
			close(fd);
			return;
		}
		drained += (size_t)n;
	}
	/* Descriptors wait in the queue (or much data does): let the closer drop them. */
	give(fd, true);
}
