/*
 * sdd-bench-pulse: PulseAudio's control plane, the counterpart of
 * "sdd-bench-ctl rtt --conns 1": server-info requests back to back on one
 * connection (libpulse, its own main loop), each waiting for its reply.
 *
 *   sdd-bench-pulse [--seconds S]      (the server comes from $PULSE_SERVER)
 *
 * Prints requests per second and the round trip's p50/p99 in microseconds
 * as one JSON line.  Single-threaded.
 */
#include <pulse/pulseaudio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

struct run {
	pa_mainloop *loop;
	int ready, failed, replied;
};

static void on_state(pa_context *c, void *userdata)
{
	struct run *r = userdata;

	switch (pa_context_get_state(c)) {
	case PA_CONTEXT_READY:
		r->ready = 1;
		break;
	case PA_CONTEXT_FAILED:
	case PA_CONTEXT_TERMINATED:
		r->failed = 1;
		break;
	default:
		break;
	}
}

static void on_info(pa_context *c, const pa_server_info *info, void *userdata)
{
	struct run *r = userdata;

	r->replied = 1;
	if (!info)
		r->failed = 1;
}

int main(int argc, char **argv)
{
	double seconds = 2, t0, deadline;
	struct run r = { 0 };
	struct bench_rtts rtts = { 0 };
	pa_context *ctx;
	int failed;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = bench_arg_num(argv[i], argv[i + 1]), i++;
		else
			bench_die("usage: sdd-bench-pulse [--seconds S]");
	}
	r.loop = pa_mainloop_new();
	ctx = pa_context_new(pa_mainloop_get_api(r.loop), "sdd-bench-pulse");
	pa_context_set_state_callback(ctx, on_state, &r);
	if (pa_context_connect(ctx, NULL, PA_CONTEXT_NOAUTOSPAWN, NULL) < 0)
		bench_die("cannot connect to PulseAudio: %s", pa_strerror(pa_context_errno(ctx)));
	while (!r.ready && !r.failed)
		pa_mainloop_iterate(r.loop, 1, NULL);
	if (r.failed)
		bench_die("cannot connect to PulseAudio: %s", pa_strerror(pa_context_errno(ctx)));

	t0 = bench_now();
	deadline = t0 + seconds;
	while (bench_now() < deadline && !r.failed) {
		double a = bench_now();
		pa_operation *op = pa_context_get_server_info(ctx, on_info, &r);

		r.replied = 0;
		while (!r.replied && !r.failed)
			pa_mainloop_iterate(r.loop, 1, NULL);
		pa_operation_unref(op);
		if (!bench_rtts_add(&rtts, bench_now() - a))
			break;
	}
	bench_rtts_print("pa_context_get_server_info", 1, &rtts, bench_now() - t0, r.failed);
	failed = r.failed;
	/* Disconnecting reports TERMINATED through on_state: the result is already out. */
	pa_context_disconnect(ctx);
	pa_context_unref(ctx);
	pa_mainloop_free(r.loop);
	free(rtts.us);
	return failed;
}
