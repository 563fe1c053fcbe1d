/*
 * sdd-bench-rategroup: the daemon's own rate group code (daemon/rategroup.c
 * and rategroup-rt.c, linked in) driven as a shared device stream drives
 * it: 256 device frames a period, stereo float32, quality 7 unless
 * --quality says otherwise.  For each direction and rate pair it reports
 * the CPU nanoseconds per device frame of one group (best of three runs
 * of 10 s of audio) and what one group costs of a core at that device
 * rate; the mixing of each stream into the group is not included (it is
 * the same as at the device's rate).
 *
 * Usage: sdd-bench-rategroup [--quality N]
 * Prints one JSON line: {"program": "sdd-bench-rategroup", "quality": 7,
 * "groups": [...]}.  Single-threaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "rategroup.h"

#define PERIOD 256
#define CHANNELS 2

static double thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ns per device frame of one group over seconds of audio (best of three). */
static double run(bool output, uint32_t rate, uint32_t device_rate, int quality, double seconds)
{
	static float device[PERIOD * CHANNELS];
	double best = 1e30;
	uint64_t periods = (uint64_t)(seconds * device_rate / PERIOD);
	uint32_t seed = 1;

	for (size_t i = 0; i < PERIOD * CHANNELS; i++) {
		seed = seed * 1664525u + 1013904223u;
		device[i] = (float)((double)(seed >> 8) / (double)(1u << 24) - 0.5);
	}
	for (int rep = 0; rep < 3; rep++) {
		struct rategroup *g;
		double t0, ns;

		if (rategroup_new(output, rate, device_rate, CHANNELS, CHANNELS, false, quality, &g) < 0)
			bench_die("cannot make a group for %u Hz", rate);
		t0 = thread_ns();
		for (uint64_t p = 0; p < periods; p++) {
			if (output) {
				uint32_t need;
				double delay;
				float *buf = rategroup_rt_play_begin(g, PERIOD, &need, &delay);

				/* A stream's frames, as the first stream of the group writes them. */
				memcpy(buf, device, (size_t)(need < PERIOD ? need : PERIOD) * CHANNELS * sizeof(float));
				if (need > PERIOD)
					memset(buf + PERIOD * CHANNELS, 0,
					       (size_t)(need - PERIOD) * CHANNELS * sizeof(float));
				rategroup_rt_play_end(g, device, PERIOD);
			} else {
				uint32_t made;

				rategroup_rt_capture(g, device, PERIOD, &made);
			}
		}
		ns = (thread_ns() - t0) / (double)(periods * PERIOD);
		if (ns < best)
			best = ns;
		rategroup_free(g);
	}
	return best;
}

int main(int argc, char **argv)
{
	static const struct {
		bool output;
		uint32_t rate, device_rate;
	} cases[] = {
		{ true, 44100, 48000 },	 { true, 22050, 48000 }, { true, 96000, 48000 },
		{ true, 48000, 44100 },	 { false, 44100, 48000 }, { false, 22050, 48000 },
		{ false, 48000, 44100 },
	};
	int quality = RATEGROUP_QUALITY_DEFAULT;

	if (argc == 3 && strcmp(argv[1], "--quality") == 0)
		quality = (int)bench_arg_num(argv[1], argv[2]);
	else if (argc != 1)
		bench_die("usage: sdd-bench-rategroup [--quality N]");
	printf("{\"program\": \"sdd-bench-rategroup\", \"quality\": %d, \"groups\": [", quality);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double ns = run(cases[i].output, cases[i].rate, cases[i].device_rate, quality, 10);

		printf("%s{\"direction\": \"%s\", \"rate\": %u, \"device_rate\": %u, "
		       "\"ns_per_device_frame\": %.2f, \"core_percent\": %.3f}",
		       i ? ", " : "", cases[i].output ? "output" : "input", cases[i].rate,
		       cases[i].device_rate, ns, ns * cases[i].device_rate / 1e7);
		fflush(stdout);
	}
	printf("]}\n");
	return 0;
}
