/*
 * sdd-bench-copy: what the parts of the throughput workload's data path
 * cost on this machine by themselves, so that bench/run.py can set the
 * daemon's and the client's figures beside their floors (RESULTS.md,
 * issue 15).  Each figure is the median over many timed pieces, in CPU
 * nanoseconds per stereo float32 frame (8 bytes), or microseconds:
 *
 *   table_ns          sdd-bench-pa's callback: 1024-frame blocks copied
 *                     from a looped second of signal into a 2048-frame
 *                     buffer, all within one CPU's cache;
 *   ring_write_ns     a writer thread copying 65,536-frame chunks into a
 *                     262,144-frame ring (2 MiB), as sdd-bench-play does,
 *                     while a reader thread on the other CPU drains it;
 *   ring_read_ns      that reader: 1024-frame blocks from the ring into a
 *                     2048-frame buffer through the daemon's own
 *                     sample_clip_to() (ring_read_base_ns: with its
 *                     baseline SSE2 loop, where the CPU has AVX2 too);
 *   ring_write_solo_ns  the writer with nobody reading (the ring's lines
 *                     never travel to another CPU);
 *   wakeup_us         one process waking another through an eventfd on the
 *                     same CPU and being woken back, half the CPU time of
 *                     the round trip (both processes).
 *
 * The two threads of the ring are pinned to the first two CPUs of this
 * process's affinity (the figures are left out with only one).  Prints
 * one JSON line.  Usage: sdd-bench-copy [--seconds S]
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "sample.h"

#define BLOCK 1024	    /* frames a period */
#define LOOP 48000	    /* frames of sdd-bench-pa's signal */
#define RING 262144	    /* frames of the ring */
#define CHUNK 65536	    /* frames a write */
#define READ_BATCH 64	    /* blocks timed at once by the reader */
#define MAX_SAMPLES 200000 /* timed pieces kept per figure */

struct samples {
	double *v;
	size_t n;
};

struct ring_run {
	float *ring, *table, *out;
	_Atomic uint64_t written, read; /* frames, free-running */
	_Atomic int stop;
	bool solo;		   /* no reader: the writer advances alone */
	double seconds;
	int writer_cpu, reader_cpu;
	struct samples wr, rd;
};

static double thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void add_sample(struct samples *s, double v)
{
	if (s->n < MAX_SAMPLES)
		s->v[s->n++] = v;
}

static double median(struct samples *s)
{
	return bench_percentile(s->v, s->n, 50);
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* The direct program's copy: ns per frame of 1024-frame blocks from a looped table. */
static double table_copy(double seconds)
{
	float *table = calloc(LOOP * 2, sizeof(float)), *out = calloc(BLOCK * 4, sizeof(float));
	struct samples s = { calloc(MAX_SAMPLES, sizeof(double)), 0 };
	size_t pos = 0;
	double end = bench_now() + seconds, m;
	int half = 0;

	if (!table || !out || !s.v)
		bench_die("out of memory");
	bench_sine(table, LOOP, 48000);
	while (bench_now() < end) {
		double t0 = thread_ns();

		for (int b = 0; b < READ_BATCH; b++) {
			for (size_t done = 0; done < BLOCK;) {
				size_t n = LOOP - pos < BLOCK - done ? LOOP - pos : BLOCK - done;

				memcpy(out + 2 * (half * BLOCK + done), table + 2 * pos, n * 8);
				done += n;
				pos = (pos + n) % LOOP;
			}
			half ^= 1;
		}
		add_sample(&s, (thread_ns() - t0) / (READ_BATCH * BLOCK));
	}
	m = median(&s);
	free(table);
	free(out);
	free(s.v);
	return m;
}

/* Writes CHUNK frames whenever the ring has room for them. */
static void *writer(void *arg)
{
	struct ring_run *r = arg;
	uint64_t w = 0;

	pin(r->writer_cpu);
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		double t0;

		if (!r->solo &&
		    w + CHUNK - atomic_load_explicit(&r->read, memory_order_acquire) > RING) {
			sched_yield();
			continue;
		}
		t0 = thread_ns();
		memcpy(r->ring + 2 * (w % RING), r->table, CHUNK * 8);
		add_sample(&r->wr, (thread_ns() - t0) / CHUNK);
		w += CHUNK;
		atomic_store_explicit(&r->written, w, memory_order_release);
	}
	return NULL;
}

/* Reads READ_BATCH blocks at a time through sample_clip_to(), as the daemon's mix does. */
static void *reader(void *arg)
{
	struct ring_run *r = arg;
	double end = bench_now() + r->seconds;
	uint64_t pos = 0;
	int half = 0;

	pin(r->reader_cpu);
	while (bench_now() < end) {
		double t0;

		if (atomic_load_explicit(&r->written, memory_order_acquire) - pos <
		    (uint64_t)READ_BATCH * BLOCK) {
			sched_yield();
			continue;
		}
		t0 = thread_ns();
		for (int b = 0; b < READ_BATCH; b++) {
			sample_clip_to(r->out + 2 * half * BLOCK, r->ring + 2 * (pos % RING), 2 * BLOCK);
			half ^= 1;
			pos += BLOCK;
		}
		add_sample(&r->rd, (thread_ns() - t0) / (READ_BATCH * BLOCK));
		atomic_store_explicit(&r->read, pos, memory_order_release);
	}
	atomic_store(&r->stop, 1);
	return NULL;
}

/* One run of the ring: writer and reader on two CPUs, or the writer alone. */
static void ring_run(bool solo, int cpu0, int cpu1, double seconds, double *ret_write,
		     double *ret_read)
{
	struct ring_run r = { .solo = solo, .seconds = seconds, .writer_cpu = cpu0,
			      .reader_cpu = cpu1 };
	pthread_t w, rd;

	r.ring = calloc(RING * 2, sizeof(float));
	r.table = calloc(CHUNK * 2, sizeof(float));
	r.out = calloc(BLOCK * 4, sizeof(float));
	r.wr.v = calloc(MAX_SAMPLES, sizeof(double));
	r.rd.v = calloc(MAX_SAMPLES, sizeof(double));
	if (!r.ring || !r.table || !r.out || !r.wr.v || !r.rd.v)
		bench_die("out of memory");
	bench_sine(r.table, CHUNK, 48000);
	pthread_create(&w, NULL, writer, &r);
	if (solo) {
		usleep((useconds_t)(seconds * 1e6));
		atomic_store(&r.stop, 1);
	} else {
		pthread_create(&rd, NULL, reader, &r);
		pthread_join(rd, NULL);
	}
	pthread_join(w, NULL);
	*ret_write = median(&r.wr);
	if (ret_read)
		*ret_read = median(&r.rd);
	free(r.ring);
	free(r.table);
	free(r.out);
	free(r.wr.v);
	free(r.rd.v);
}

/* CPU seconds of rusage. */
static double ru_seconds(const struct rusage *ru)
{
	return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) +
	       (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
}

/* CPU microseconds of both processes per eventfd round trip between two on one CPU, halved. */
static double wakeup_us(int cpu, int trips)
{
	int ping = eventfd(0, 0), pong = eventfd(0, 0), status;
	struct rusage self0, self, child;
	uint64_t v = 1;
	pid_t pid;

	if (ping < 0 || pong < 0)
		bench_die("eventfd failed");
	pin(cpu);
	getrusage(RUSAGE_SELF, &self0);
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < trips; i++)
			if (read(ping, &v, 8) != 8 || write(pong, &v, 8) != 8)
				_exit(1);
		_exit(0);
	}
	for (int i = 0; i < trips; i++) {
		v = 1;
		if (write(ping, &v, 8) != 8 || read(pong, &v, 8) != 8)
			bench_die("eventfd round trip failed");
	}
	waitpid(pid, &status, 0);
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &child);
	close(ping);
	close(pong);
	/* The child is the only one this process waited for. */
	return (ru_seconds(&self) - ru_seconds(&self0) + ru_seconds(&child)) * 1e6 / trips / 2;
}

int main(int argc, char **argv)
{
	double seconds = 2, w, r, rb = 0, solo;
	int cpus[2] = { -1, -1 }, n = 0;
	bool wide = sample_wide();
	cpu_set_t set;

	for (int i = 1; i < argc; i += 2) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = bench_arg_num(argv[i], argv[i + 1]);
		else {
			fputs("usage: sdd-bench-copy [--seconds S]\n", stderr);
			return 2;
		}
	}
	sched_getaffinity(0, sizeof(set), &set);
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;

	bench_json_begin();
	bench_json_str("program", "sdd-bench-copy");
	bench_json_int("wide", wide);
	bench_json_num("table_ns", table_copy(seconds / 2));
	ring_run(true, cpus[0], -1, seconds / 2, &solo, NULL);
	bench_json_num("ring_write_solo_ns", solo);
	if (n == 2) {
		ring_run(false, cpus[0], cpus[1], seconds, &w, &r);
		if (wide) {
			sample_allow_wide(false);
			ring_run(false, cpus[0], cpus[1], seconds, &w, &rb);
			sample_allow_wide(true);
			ring_run(false, cpus[0], cpus[1], seconds, &w, &r);
		}
		bench_json_num("ring_write_ns", w);
		bench_json_num("ring_read_ns", r);
		if (wide)
			bench_json_num("ring_read_base_ns", rb);
	}
	bench_json_num("wakeup_us", wakeup_us(cpus[0], 100000));
	bench_json_end();
	return 0;
}
