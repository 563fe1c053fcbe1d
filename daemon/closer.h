/*
 * Closing what clients could make slow to close, away from the loop.
 *
 * The last close of a descriptor runs its file's release, which may block:
 * a TCP socket with unsent data and SO_LINGER waits up to the linger time,
 * a file of a FUSE filesystem waits for that filesystem's answer.  The
 * kernel runs that release in the thread that drops the last reference,
 * also when it drops it for us (descriptors still in flight in a Unix
 * socket's receive queue are released when the socket closes; those that
 * do not fit a recvmsg's control buffer are released during the call).
 * So descriptors that clients send, and client sockets that may still hold
 * some in flight, are handed to one thread that only closes them.
 *
 * Where the kernel allows it (SO_PASSRIGHTS, Linux 6.16), client sockets
 * refuse descriptors altogether and none of this is ever used.
 *
 * The closer holds at most closer_room() more descriptors; a reader that
 * may receive descriptors asks for CLOSER_BATCH of room first, so that one
 * hostile client cannot fill the daemon's descriptor table behind a close
 * that never ends.  Loop thread, except the closing thread inside closer.c.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* The most descriptors one recvmsg() can bring (the kernel's SCM_MAX_FD). */
#define CLOSER_BATCH 253

/* The control buffer that holds a batch of descriptors, so that the kernel never cuts it. */
union closer_control {
	char buf[CMSG_SPACE(sizeof(int) * CLOSER_BATCH)];
	struct cmsghdr align;
};

/*
 * Makes the kernel refuse descriptors sent on socket fd (a listening
 * socket's connections inherit it): sendmsg() with SCM_RIGHTS then fails
 * with EPERM in the client.  Returns 0, or -ENOPROTOOPT when the kernel
 * lacks SO_PASSRIGHTS (before Linux 6.16) and the closer must do.  Test
 * builds skip it when $SDD_TEST_PASS_RIGHTS is set, to test the closer.
 */
int closer_refuse_rights(int fd);

/* How many more descriptors the closer takes before it is full. */
size_t closer_room(void);

/* How many client sockets wait in the closer, to be counted against max_clients. */
size_t closer_sockets(void);

/*
 * Hands every descriptor that msg carries to the closer and returns their
 * number.  The caller made sure of CLOSER_BATCH of room before receiving.
 */
int closer_take_fds(struct msghdr *msg);

/*
 * Closes a client's Unix socket without ever releasing, on this thread,
 * descriptors that wait in its receive queue: reading stops for good
 * (shutdown), what is still queued is read and dropped (its descriptors go
 * to the closer), and the socket is closed here once it is empty, or by the
 * closer when the closer has no room for what it still holds.
 */
void closer_release_socket(int fd);

/*
 * Reads from a client socket as recvmsg(fd, msg, MSG_DONTWAIT |
 * MSG_CMSG_CLOEXEC) does, msg's control buffer being a union
 * closer_control, unless the closer lacks room for a batch of descriptors
 * and the data waiting holds some: then returns -EBUSY and reads nothing
 * (the caller stops reading the client until closer_room() is back).
 * Returns the bytes read, 0 at the end of the stream, or a negative errno.
 * Descriptors that came are handed to the closer; *ret_fds says how many.
 */
ssize_t closer_recv(int fd, struct msghdr *msg, int *ret_fds);
