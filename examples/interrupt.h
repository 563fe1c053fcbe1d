/*
 * What every example shares: Ctrl-C (SIGINT) and SIGTERM end it cleanly,
 * and a libsdc error is reported unless the interruption caused it.  Kept
 * in a header so that each example still reads as one file.
 */
#pragma once

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "sdc.h"

/* Set by SIGINT or SIGTERM; the examples look at it and wind down. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Installs the handler, without SA_RESTART: a wait in progress returns early. */
static inline void catch_interrupts(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Reports libsdc's last error as "name: message", unless Ctrl-C caused it; returns the exit status. */
static inline int report_failure(const char *name)
{
	if (interrupted)
		return 0;
	fprintf(stderr, "%s: %s\n", name, sdc_last_error()->message);
	return 1;
}
