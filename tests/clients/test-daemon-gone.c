/*
 * What libsdc tells its caller when the daemon goes away, in TAP.  Run by
 * test_reconnect.py, which stops, kills and starts sddaemon when this
 * program asks ("# daemon: stop", "kill", "start").
 *
 * Twice (the daemon stopped with SIGTERM, then killed with SIGKILL), with a
 * recording whose ring holds frames and a playback that never started: the
 * next request fails with -ECONNRESET and says "sddaemon stopped" (SIGTERM:
 * the daemon said so) or "sddaemon went away" (SIGKILL), and so does every
 * later one, at once; the event callback hears "connection_lost" once
 * (after "shutdown" for SIGTERM); sdc_dispatch() fails; the streams' status
 * says failed, connection_lost, though their memory says otherwise (a
 * killed daemon leaves "running" there, a stopped one "failed"); and what
 * the recording's ring holds can still be read: nothing recorded is lost.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdc.h"
#include "tap.h"

/* Seconds any one step may take before it counts as a hang. */
#define HANG_SECONDS 60

static void on_alarm(int sig)
{
	static const char msg[] = "Bail out! a libsdc call hung after the daemon went away\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

/* Tells the wrapper what to do and waits until it is done. */
static void ask(const char *what)
{
	char line[64];

	printf("# daemon: %s\n", what);
	fflush(stdout);
	alarm(HANG_SECONDS);
	if (!fgets(line, sizeof(line), stdin)) {
		printf("Bail out! the wrapper went away\n");
		exit(1);
	}
	alarm(0);
}

/* The events delivered, in order, as "name,name,…". */
static char events[512];

static void on_event(void *userdata, const char *event, const char *json)
{
	size_t len = strlen(events);

	(void)userdata;
	if (strcmp(event, "xrun") == 0)
		return;
	snprintf(events + len, sizeof(events) - len, "%s%s", len ? "," : "", event);
	if (strcmp(event, "connection_lost") == 0)
		printf("# %s\n", json);
}

static void one_round(int sigterm)
{
	const char *how = sigterm ? "SIGTERM" : "SIGKILL";
	const char *reason = sigterm ? "sddaemon stopped" : "sddaemon went away";
	sdc_play_params pp = { .channels = 2, .dtype = SDC_FLOAT32 };
	sdc_rec_params rp = { .channels = 2, .dtype = SDC_FLOAT32 };
	sdc_stream *play = NULL, *rec = NULL;
	sdc_client *c = NULL;
	sdc_status st;
	static float buf[2 * 65536];
	long long n, got = 0;
	int r;

	events[0] = '\0';
	r = sdc_connect(NULL, &c);
	CHECK(r == 0, "%s: connected (%s)", how, r < 0 ? sdc_last_error()->message : "");
	if (r < 0)
		return;
	sdc_set_event_callback(c, on_event, NULL);
	pp.opt.output_device = SDC_DEVICE_QUERY("t_null");
	rp.opt.input_device = SDC_DEVICE_QUERY("t_in");
	rp.opt.buffer_frames = 4096;
	rp.opt.keep_previous = 1;
	r = sdc_play_open(c, &pp, -1, &play);
	CHECK(r == 0, "%s: a playback that never starts (%s)", how,
	      r < 0 ? sdc_last_error()->message : "");
	r = sdc_rec_open(c, &rp, -1, &rec);
	CHECK(r == 0, "%s: a recording (%s)", how, r < 0 ? sdc_last_error()->message : "");
	if (!play || !rec) {
		sdc_stream_close(play);
		sdc_stream_close(rec);
		sdc_close(c);
		return;
	}
	/* The unpaced capture fills the ring at once; wait until it holds something. */
	for (int i = 0; i < 1000 && sdc_stream_status(rec, &st) == 0 && st.frames_recorded == 0; i++)
		usleep(10 * 1000);
	CHECK(st.frames_recorded > 0, "%s: the recording's ring holds frames", how);

	ask(sigterm ? "stop" : "kill");

	alarm(HANG_SECONDS);
	r = sdc_get_status(c, sdc_stream_handle(play), &st);
	CHECK(r == -ECONNRESET && strcmp(sdc_last_error()->message, reason) == 0,
	      "%s: the next request fails with -ECONNRESET, \"%s\" (%d: %s)", how, reason, r,
	      sdc_last_error()->message);
	CHECK_STR(events, sigterm ? "shutdown,connection_lost" : "connection_lost",
		  "%s: the event callback heard of it once", how);
	r = sdc_call(c, "ping", NULL, NULL);
	CHECK(r == -ECONNRESET && strcmp(sdc_last_error()->message, reason) == 0,
	      "%s: so does every later one (%d: %s)", how, r, sdc_last_error()->message);
	r = sdc_dispatch(c, 0);
	CHECK(r == -ECONNRESET, "%s: sdc_dispatch() fails too (%d)", how, r);
	CHECK_STR(events, sigterm ? "shutdown,connection_lost" : "connection_lost",
		  "%s: connection_lost was delivered only once", how);

	r = sdc_stream_status(play, &st);
	CHECK(r == 0 && st.state == SDC_STATE_FAILED, "%s: the playback's status says failed (%d)",
	      how, (int)st.state);
	CHECK_STR(st.error_code, "connection_lost", "%s: its error code", how);
	CHECK_STR(st.error, reason, "%s: its error", how);

	/* What the ring held when the daemon went is still there. */
	do {
		n = sdc_stream_read_some(rec, buf, 65536, 0);
		if (n > 0)
			got += n;
	} while (n > 0);
	CHECK(got > 0, "%s: the recording's last %lld frames are read from its ring", how, got);
	CHECK(n == 0 || n == -ECONNRESET, "%s: then reading ends (%lld)", how, n);
	r = sdc_stream_status(rec, &st);
	CHECK(r == 0 && st.state == SDC_STATE_FAILED && strcmp(st.error_code, "connection_lost") == 0,
	      "%s: the recording's status says failed, connection_lost (%d, %s)", how, (int)st.state,
	      st.error_code);
	alarm(0);

	sdc_stream_close(play);
	sdc_stream_close(rec);
	sdc_close(c);
	ask("start");
}

int main(void)
{
	signal(SIGALRM, on_alarm);
	setvbuf(stdout, NULL, _IOLBF, 0);
	one_round(1);
	one_round(0);
	return tap_done();
}
