/*
 * sdd-bench-pw: PipeWire's control plane, the counterpart of
 * "sdd-bench-ctl rtt --conns 1": core syncs (PipeWire's ping) back to back
 * on one connection, each waiting for its "done" event.
 *
 *   sdd-bench-pw [--seconds S]      (the server comes from $PIPEWIRE_REMOTE)
 *
 * Prints requests per second and the round trip's p50/p99 in microseconds
 * as one JSON line.  Single-threaded: the loop is iterated by hand.
 */
#include <pipewire/pipewire.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

struct run {
	int pending, done, failed;
};

static void on_done(void *data, uint32_t id, int seq)
{
	struct run *r = data;

	if (id == PW_ID_CORE && seq == r->pending)
		r->done = 1;
}

static void on_error(void *data, uint32_t id, int seq, int res, const char *message)
{
	struct run *r = data;

	if (id == PW_ID_CORE) {
		fprintf(stderr, "sdd-bench-pw: %s\n", message);
		r->failed = 1;
	}
}

static const struct pw_core_events core_events = {
	PW_VERSION_CORE_EVENTS,
	.done = on_done,
	.error = on_error,
};

int main(int argc, char **argv)
{
	double seconds = 2, t0, deadline;
	struct run r = { 0 };
	struct spa_hook listener;
	struct pw_main_loop *ml;
	struct pw_context *ctx;
	struct pw_core *core;
	struct pw_loop *loop;
	struct bench_rtts rtts = { 0 };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = bench_arg_num(argv[i], argv[i + 1]), i++;
		else
			bench_die("usage: sdd-bench-pw [--seconds S]");
	}
	pw_init(&argc, &argv);
	ml = pw_main_loop_new(NULL);
	loop = pw_main_loop_get_loop(ml);
	ctx = pw_context_new(loop, NULL, 0);
	core = ctx ? pw_context_connect(ctx, NULL, 0) : NULL;
	if (!core)
		bench_die("cannot connect to PipeWire");
	spa_zero(listener);
	pw_core_add_listener(core, &listener, &core_events, &r);
	pw_loop_enter(loop);

	t0 = bench_now();
	deadline = t0 + seconds;
	while (bench_now() < deadline && !r.failed) {
		double a = bench_now();

		r.done = 0;
		r.pending = pw_core_sync(core, PW_ID_CORE, 0);
		while (!r.done && !r.failed)
			pw_loop_iterate(loop, -1);
		if (!bench_rtts_add(&rtts, bench_now() - a))
			break;
	}
	pw_loop_leave(loop);
	bench_rtts_print("pw_core_sync", 1, &rtts, bench_now() - t0, r.failed);
	spa_hook_remove(&listener);
	pw_core_disconnect(core);
	pw_context_destroy(ctx);
	pw_main_loop_destroy(ml);
	pw_deinit();
	free(rtts.us);
	return r.failed;
}
