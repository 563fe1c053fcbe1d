/*
 * libsdc across a daemon restart, in TAP.  Run by test_reconnect.py, which
 * starts sddaemon on $SDDAEMON_SOCKET and restarts it when told: this
 * program prints "# daemon: stop" or "# daemon: start" and waits for a
 * line on its standard input once the wrapper has done so.
 *
 * Twice (the daemon stopped with SIGTERM, then killed with SIGKILL): a
 * client with a thread blocked in sdc_wait(), another blocked in
 * sdc_stream_write() on a full ring and a running callback stream loses its
 * daemon.  Both calls must return an error — not hang, not crash — the
 * callback stream must become inactive and call its finished callback, and
 * so must every later call on
 * the dead client; connecting fails while no daemon runs; once the daemon
 * is back, a new connection works, streams included.  An alarm turns a hang
 * into a failure.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
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

static int shutdown_events;

static void on_event(void *userdata, const char *event, const char *json)
{
	(void)userdata;
	(void)json;
	if (strcmp(event, "shutdown") == 0)
		shutdown_events++;
}

struct blocked {
	sdc_client *client;
	sdc_stream *stream;
	unsigned handle;
	long long result;
	char message[1024];
};

/* Waits for a playback that never starts (nothing is ever written to it). */
static void *wait_thread(void *arg)
{
	struct blocked *b = arg;

	b->result = sdc_wait(b->client, b->handle, NULL);
	snprintf(b->message, sizeof(b->message), "%s", sdc_last_error()->message);
	return NULL;
}

/* Writes more than the ring of a stream that is never started can take. */
static void *write_thread(void *arg)
{
	struct blocked *b = arg;
	size_t frames = 1 << 20;
	float *data = calloc(frames * 2, sizeof(float));

	b->result = data ? sdc_stream_write(b->stream, data, frames) : -ENOMEM;
	snprintf(b->message, sizeof(b->message), "%s", sdc_last_error()->message);
	free(data);
	return NULL;
}

static atomic_int callbacks, finished_calls;

static int on_block(const void *input, void *output, unsigned long frames,
		    const sdc_time_info *time, unsigned status, void *userdata)
{
	(void)input;
	(void)output;
	(void)frames;
	(void)time;
	(void)status;
	(void)userdata;
	atomic_fetch_add(&callbacks, 1);
	return SDC_CONTINUE;
}

static void on_finished(void *userdata)
{
	(void)userdata;
	atomic_fetch_add(&finished_calls, 1);
}

/* Waits (up to the hang guard) until the callback stream says it is no longer active. */
static int becomes_inactive(sdc_stream *s)
{
	for (int i = 0; i < HANG_SECONDS * 100; i++) {
		if (!sdc_stream_active(s))
			return 1;
		usleep(10 * 1000);
	}
	return 0;
}

static int lost_connection(long long r)
{
	return r == -ECONNRESET || r == -EPIPE || r == -ENOTCONN;
}

/* One death of the daemon under a connected, busy client; sigterm: stopped cleanly. */
static void one_round(int sigterm)
{
	const char *how = sigterm ? "SIGTERM" : "SIGKILL";
	sdc_client *c = NULL, *again = NULL;
	sdc_stream *open_play = NULL, *api = NULL, *cb = NULL;
	struct blocked waiter = { 0 }, writer = { 0 };
	pthread_t tw, tp;
	sdc_play_params pp = { .channels = 2, .dtype = SDC_FLOAT32 };
	sdc_stream_params sp = { .kind = SDC_STREAM_OUTPUT, .channels = { 0, 2 },
				 .dtype = { 0, SDC_FLOAT32 } };
	sdc_stream_params cp = { .kind = SDC_STREAM_OUTPUT, .channels = { 0, 2 },
				 .dtype = { 0, SDC_FLOAT32 }, .callback = on_block,
				 .finished_callback = on_finished };
	char *result = NULL;
	int r;

	shutdown_events = 0;
	r = sdc_connect(NULL, &c);
	CHECK(r == 0, "%s: connected (%s)", how, r < 0 ? sdc_last_error()->message : "");
	if (r < 0)
		return;
	sdc_set_event_callback(c, on_event, NULL);
	CHECK(sdc_call(c, "ping", NULL, NULL) == 0, "%s: ping", how);

	/* An open-ended playback with nothing written never starts: sdc_wait() blocks. */
	pp.opt.output_device = SDC_DEVICE_QUERY("t_null");
	r = sdc_play_open(c, &pp, -1, &open_play);
	CHECK(r == 0, "%s: an open-ended playback", how);
	/* A stream of the stream API that is never started: its ring fills, then writing blocks. */
	sp.device[1] = SDC_DEVICE_QUERY("t_null");
	r = sdc_stream_open(c, &sp, &api);
	CHECK(r == 0, "%s: a stream of the stream API (%s)", how,
	      r < 0 ? sdc_last_error()->message : "");
	if (!open_play || !api) {
		sdc_stream_close(open_play);
		sdc_stream_close(api);
		sdc_close(c);
		return;
	}
	/* A callback stream, running (on the unpaced t_null: its thread keeps busy). */
	cp.device[1] = SDC_DEVICE_QUERY("t_null");
	atomic_store(&callbacks, 0);
	atomic_store(&finished_calls, 0);
	r = sdc_stream_open(c, &cp, &cb);
	if (r == 0)
		r = sdc_stream_start(cb);
	CHECK(r == 0 && sdc_stream_active(cb), "%s: a callback stream runs (%s)", how,
	      r < 0 ? sdc_last_error()->message : "");
	waiter = (struct blocked){ .client = c, .handle = sdc_stream_handle(open_play) };
	writer = (struct blocked){ .client = c, .stream = api };
	pthread_create(&tw, NULL, wait_thread, &waiter);
	pthread_create(&tp, NULL, write_thread, &writer);
	usleep(300 * 1000); /* let both block (if they do not yet, they must fail all the same) */

	ask(sigterm ? "stop" : "kill");

	alarm(HANG_SECONDS);
	pthread_join(tw, NULL);
	pthread_join(tp, NULL);
	alarm(0);
	CHECK(lost_connection(waiter.result), "%s: the blocked sdc_wait() returns an error (%lld: %s)",
	      how, waiter.result, waiter.message);
	CHECK(lost_connection(writer.result) || (writer.result >= 0 && writer.result < (1 << 20)),
	      "%s: the blocked sdc_stream_write() returns (%lld: %s)", how, writer.result,
	      writer.message);
	if (sigterm)
		CHECK(shutdown_events == 1, "%s: the shutdown event was delivered (%d)", how,
		      shutdown_events);
	if (cb) {
		CHECK(atomic_load(&callbacks) > 0, "%s: the callback ran before", how);
		CHECK(becomes_inactive(cb), "%s: the callback stream becomes inactive", how);
		alarm(HANG_SECONDS);
		r = sdc_stream_stop(cb);
		alarm(0);
		CHECK(atomic_load(&finished_calls) == 1,
		      "%s: its finished callback ran once (%d), sdc_stream_stop() returned %d", how,
		      atomic_load(&finished_calls), r);
	}

	alarm(HANG_SECONDS);
	r = sdc_call(c, "ping", NULL, &result);
	CHECK(lost_connection(r) && sdc_last_error()->message[0],
	      "%s: a request on the dead connection fails clearly (%d: %s)", how, r,
	      sdc_last_error()->message);
	free(result);
	r = sdc_stop(c, sdc_stream_handle(open_play));
	CHECK(r < 0, "%s: sdc_stop() on the dead connection fails (%d)", how, r);
	{
		float zeros[4] = { 0 };
		long long w = sdc_stream_write(open_play, zeros, 2);

		CHECK(w == 2 || lost_connection(w),
		      "%s: writing to a ring whose daemon is gone returns (%lld)", how, w);
	}
	sdc_stream_close(open_play);
	sdc_stream_close(api); /* asks the daemon to close it: must not hang */
	sdc_stream_close(cb);
	sdc_close(c);
	alarm(0);
	CHECK(1, "%s: closing the dead client's streams and the client returns", how);

	r = sdc_connect(NULL, &again);
	CHECK((r == -ENOENT || r == -ECONNREFUSED) && !again &&
		      strstr(sdc_last_error()->message, "is it running?"),
	      "%s: connecting while no daemon runs fails (%d: %s)", how, r,
	      sdc_last_error()->message);

	ask("start");

	r = sdc_connect(NULL, &again);
	CHECK(r == 0, "%s: reconnected to the new daemon (%s)", how,
	      r < 0 ? sdc_last_error()->message : "");
	if (r < 0)
		return;
	CHECK(sdc_call(again, "ping", NULL, NULL) == 0, "%s: the new connection answers", how);
	{
		static float sound[2 * 4800];
		sdc_play_params p = { .channels = 2, .dtype = SDC_FLOAT32, .blocking = 1 };
		sdc_status st;

		for (size_t i = 0; i < sizeof(sound) / sizeof(sound[0]); i++)
			sound[i] = 0.25f;
		p.opt.output_device = SDC_DEVICE_QUERY("t_null");
		alarm(HANG_SECONDS);
		r = sdc_play(again, sound, 4800, &p, NULL);
		CHECK(r == 0 && sdc_get_status(again, 0, &st) == 0 &&
			      st.state == SDC_STATE_FINISHED && st.frames_played == 4800,
		      "%s: a playback on the new connection plays every frame", how);
		alarm(0);
	}
	sdc_close(again);
}

int main(void)
{
	signal(SIGALRM, on_alarm);
	signal(SIGPIPE, SIG_IGN);
	one_round(1);
	one_round(0);
	return tap_done();
}
