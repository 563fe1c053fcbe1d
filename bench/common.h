/*
 * Helpers shared by the benchmark programs of bench/: clocks, CPU time of
 * this process and of another one (from /proc), a test signal, percentiles
 * and the one-line JSON result every program prints for bench/run.py.
 *
 * These programs are measuring tools, not part of sddaemon: they run on
 * their own thread only, except where a program says otherwise.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Seconds on CLOCK_MONOTONIC. */
double bench_now(void);

/* CPU seconds (user + system) used by this whole process so far. */
double bench_self_cpu(void);

/*
 * CPU seconds (utime + stime of /proc/PID/stat, all threads, exited ones
 * included) used by process pid; -1 when it cannot be read.
 */
double bench_pid_cpu(int pid);

/* Context switches (voluntary + involuntary) of all live threads of pid; -1 on failure. */
long long bench_pid_ctxsw(int pid);

/* Fills frames frames of interleaved float32 stereo with a quiet 440 Hz sine. */
void bench_sine(float *buf, size_t frames, double rate);

/* Sorts v (n values) and returns its p-th percentile (0–100); 0 for n == 0. */
double bench_percentile(double *v, size_t n, double p);

/* Mean of n values; 0 for n == 0. */
double bench_mean(const double *v, size_t n);

/*
 * The result line: bench_json_begin() prints "{", then each field adds
 * "name": value, and bench_json_end() prints "}\n" and flushes stdout.
 */
void bench_json_begin(void);
void bench_json_num(const char *name, double value);
void bench_json_int(const char *name, long long value);
void bench_json_str(const char *name, const char *value);
void bench_json_end(void);

/* Round-trip times in microseconds, in an array that grows as they come. */
struct bench_rtts {
	double *us;
	size_t count, cap;
};

/* Adds a round trip of the given seconds; returns false when out of memory. */
bool bench_rtts_add(struct bench_rtts *r, double seconds);

/*
 * Prints the result line of a round-trip run over wall seconds: cmd,
 * conns, requests, wall, requests_per_second, rtt_mean_us, rtt_p50_us,
 * rtt_p99_us and failed.  Sorts r.
 */
void bench_rtts_print(const char *cmd, int conns, struct bench_rtts *r, double wall, int failed);

/* Parses a number option; exits with a message when it is not one. */
double bench_arg_num(const char *name, const char *value);

/* Prints a message to stderr and exits with status 1. */
__attribute__((format(printf, 1, 2), noreturn)) void bench_die(const char *fmt, ...);
