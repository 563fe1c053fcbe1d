/* Helpers of the benchmark programs; see common.h. */
#include "common.h"

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int json_fields;

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_self_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_pid_cpu(int pid)
{
	char path[64], buf[2048], *p;
	unsigned long long utime, stime;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* After ")": state(3) ... utime is field 14, stime 15. */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
		   &stime) != 2)
		return -1;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

long long bench_pid_ctxsw(int pid)
{
	char path[300], line[256];
	long long total = 0;
	struct dirent *e;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((e = readdir(dir))) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", pid, e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			long long v;

			if (sscanf(line, "voluntary_ctxt_switches: %lld", &v) == 1 ||
			    sscanf(line, "nonvoluntary_ctxt_switches: %lld", &v) == 1)
				total += v;
		}
		fclose(f);
	}
	closedir(dir);
	return total;
}

void bench_sine(float *buf, size_t frames, double rate)
{
	for (size_t i = 0; i < frames; i++) {
		float v = (float)(0.1 * sin(2 * M_PI * 440.0 * (double)i / rate));

		buf[2 * i] = v;
		buf[2 * i + 1] = v;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double bench_percentile(double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)floor(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

double bench_mean(const double *v, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += v[i];
	return n ? sum / (double)n : 0;
}

bool bench_rtts_add(struct bench_rtts *r, double seconds)
{
	if (r->count == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 65536;
		double *p = realloc(r->us, cap * sizeof(double));

		if (!p)
			return false;
		r->us = p;
		r->cap = cap;
	}
	r->us[r->count++] = seconds * 1e6;
	return true;
}

void bench_rtts_print(const char *cmd, int conns, struct bench_rtts *r, double wall, int failed)
{
	bench_json_begin();
	bench_json_str("cmd", cmd);
	bench_json_int("conns", conns);
	bench_json_int("requests", (long long)r->count);
	bench_json_num("wall", wall);
	bench_json_num("requests_per_second", wall > 0 ? (double)r->count / wall : 0);
	bench_json_num("rtt_mean_us", bench_mean(r->us, r->count));
	bench_json_num("rtt_p50_us", bench_percentile(r->us, r->count, 50));
	bench_json_num("rtt_p99_us", bench_percentile(r->us, r->count, 99));
	bench_json_int("failed", failed);
	bench_json_end();
}

void bench_json_begin(void)
{
	json_fields = 0;
	fputc('{', stdout);
}

static void field(const char *name)
{
	printf("%s\"%s\": ", json_fields++ ? ", " : "", name);
}

void bench_json_num(const char *name, double value)
{
	field(name);
	if (isfinite(value))
		printf("%.9g", value);
	else
		fputs("null", stdout);
}

void bench_json_int(const char *name, long long value)
{
	field(name);
	printf("%lld", value);
}

void bench_json_str(const char *name, const char *value)
{
	field(name);
	fputc('"', stdout);
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			printf("\\u%04x", *p);
		else
			fputc(*p, stdout);
	}
	fputc('"', stdout);
}

void bench_json_end(void)
{
	fputs("}\n", stdout);
	fflush(stdout);
}

double bench_arg_num(const char *name, const char *value)
{
	char *end;
	double v;

	if (!value)
		bench_die("%s needs a value", name);
	v = strtod(value, &end);
	if (end == value || *end)
		bench_die("%s: '%s' is not a number", name, value);
	return v;
}

void bench_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}
