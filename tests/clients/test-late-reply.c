/*
 * libsdc when a signal cuts a request short, in TAP: the request returns
 * -EINTR, and its reply, which comes later with the stream's memfd and
 * eventfd, must not hand those descriptors to the next request that opens
 * a stream (which would then map another stream's memory), nor leak them.
 * The daemon is held with SIGSTOP while the request waits, so the signal
 * always comes first.  Run by tests/integration/test_libsdc.py.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "sdc.h"
#include "tap.h"

static void on_alarm(int sig)
{
	(void)sig;
}

/* Counts this process's open descriptors. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n - 1; /* the directory's own */
}

/* An output stream of channels channels on t_out2, blocking mode. */
static sdc_stream_params params(int channels)
{
	sdc_stream_params p = {
		.kind = SDC_STREAM_OUTPUT,
		.samplerate = 48000,
		.device = { SDC_DEVICE_DEFAULT, SDC_DEVICE_QUERY("t_out2") },
		.channels = { 0, channels },
		.dtype = { 0, SDC_FLOAT32 },
	};

	return p;
}

/* Opens a stream while the daemon is stopped, so that a 200 ms alarm interrupts the wait. */
static int open_interrupted(sdc_client *c, pid_t daemon, int channels)
{
	struct itimerval it = { .it_value = { 0, 200000 } };
	sdc_stream_params p = params(channels);
	sdc_stream *s = NULL;
	int r;

	kill(daemon, SIGSTOP);
	setitimer(ITIMER_REAL, &it, NULL);
	r = sdc_stream_open(c, &p, &s);
	kill(daemon, SIGCONT);
	sdc_stream_close(s);
	return r;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART: waits return EINTR */
	struct ucred cred;
	socklen_t len = sizeof(cred);
	sdc_stream_params p = params(2);
	float frames[2 * 4800] = { 0 };
	sdc_stream *s = NULL;
	sdc_status st;
	sdc_client *c;
	int before;

	sigaction(SIGALRM, &sa, NULL);
	if (sdc_connect(NULL, &c) < 0) {
		CHECK(0, "connect: %s", sdc_last_error()->message);
		return tap_done();
	}
	CHECK(getsockopt(sdc_fd(c), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid > 0,
	      "the daemon's pid, from the socket");
	before = open_fds();

	CHECK(open_interrupted(c, cred.pid, 1) == -EINTR, "a signal cuts sdc_stream_open() short: -EINTR");
	/* Its reply (with a one-channel stream's memfd) comes first now: the next open must skip it. */
	CHECK(sdc_stream_open(c, &p, &s) == 0, "the next sdc_stream_open() succeeds: %s",
	      sdc_last_error()->message);
	CHECK(s && sdc_stream_channels(s, SDC_KIND_OUTPUT) == 2, "with its own memory (two channels)");
	CHECK(open_fds() == before + 2, "the late reply's descriptors were closed (%d open, %d before)",
	      open_fds(), before);
	CHECK(sdc_stream_start(s) == 0 && sdc_stream_write(s, frames, 4800) == 4800 &&
		      sdc_stream_stop(s) == 0,
	      "the stream plays what is written into its memory");
	CHECK(sdc_get_status(c, sdc_stream_handle(s), &st) == 0 && st.frames_played == 4800,
	      "the daemon played those 4800 frames (%llu)", st.frames_played);
	sdc_stream_close(s);

	/* A late reply that sdc_dispatch() reads (looking for events) is dropped as well. */
	before = open_fds();
	CHECK(open_interrupted(c, cred.pid, 1) == -EINTR, "another interrupted open");
	sdc_dispatch(c, 500);
	CHECK(open_fds() == before, "sdc_dispatch() closed the late reply's descriptors (%d, %d)",
	      open_fds(), before);
	s = NULL;
	CHECK(sdc_stream_open(c, &p, &s) == 0 && sdc_stream_channels(s, SDC_KIND_OUTPUT) == 2,
	      "and the next open gets its own stream");
	sdc_stream_close(s);
	sdc_close(c);
	return tap_done();
}
