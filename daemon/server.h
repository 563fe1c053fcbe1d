/*
 * The listening socket: taking it from systemd (socket activation) or
 * creating it (refusing to steal a live daemon's socket, removing a stale
 * one), accepting clients and removal at exit.  Loop thread.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <sys/un.h>
#include <uv.h>

struct daemon;

struct server {
	uv_poll_t poll;
	uv_timer_t retry; /* resumes accepting after running out of descriptors */
	int fd;
	int spare_fd;	  /* kept open so that a client can be told "too many" when fds run out */
	int closing;	  /* libuv handles still closing */
	bool out_of_fds;  /* said once per episode */
	bool active;
	bool owns_path; /* we created the socket file and remove it at exit */
	bool activated; /* systemd passed the socket (socket activation) */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int dir_fd;	  /* the checked folder holding the socket (O_PATH), or -1 */
	char name[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* the socket's name in it */
	dev_t sock_dev;	  /* the socket file we made, so that only it is removed */
	ino_t sock_ino;
};

/*
 * Starts accepting on the socket systemd passed, when it passed one (and
 * fails unless it is exactly one listening Unix stream socket); otherwise
 * creates the socket at path (its folder too).
 */
int server_open(struct daemon *d, const char *path);

/* Stops accepting and removes the socket file. */
void server_close(struct server *s);
