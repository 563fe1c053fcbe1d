/*
 * A few macros for unit tests that report in TAP, which meson counts case
 * by case.  Each test program prints "ok N - what" or "not ok N - what" per
 * check and the plan at the end; its exit status is 1 when a check failed.
 */
#pragma once

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tap_count, tap_failed;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		int ok_ = !!(cond);                                                                \
		printf("%s %d - ", ok_ ? "ok" : "not ok", ++tap_count);                            \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		if (!ok_) {                                                                        \
			tap_failed++;                                                              \
			printf("# failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);              \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b, ...)                                                                       \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		CHECK(a_ && b_ && strcmp(a_, b_) == 0, __VA_ARGS__);                               \
		if (!(a_ && b_ && strcmp(a_, b_) == 0))                                            \
			printf("# got '%s', want '%s'\n", a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

/*
 * How much longer the tests' waits are: SDD_TEST_TIME_SCALE, as in
 * harness.py (5 under valgrind), or 1.
 */
static inline double tap_time_scale(void)
{
	const char *s = getenv("SDD_TEST_TIME_SCALE");
	double scale = s ? strtod(s, NULL) : 1.0;

	return scale >= 1.0 ? scale : 1.0;
}

/*
 * Polls *flag every 10 ms until it is non-zero or seconds (lengthened by
 * tap_time_scale()) have passed; returns its last value.
 */
static inline int tap_wait_flag(atomic_int *flag, double seconds)
{
	long polls = (long)(seconds * tap_time_scale() * 100.0);

	for (long i = 0; i < polls && !atomic_load(flag); i++)
		usleep(10000);
	return atomic_load(flag);
}
