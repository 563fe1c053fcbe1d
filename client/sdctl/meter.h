/*
 * Per-channel peak and RMS levels of interleaved frames in any sdctl
 * format, and their display: an in-place line on a terminal.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "sdc.h"

#define METER_MAX_CHANNELS 32

struct meter {
	int channels;
	double peak[METER_MAX_CHANNELS];   /* linear, since the last reset */
	double sumsq[METER_MAX_CHANNELS];  /* sum of squares since the last reset */
	unsigned long long count;	   /* frames since the last reset */
	int clipped[METER_MAX_CHANNELS];   /* a sample reached full scale */
};

void meter_init(struct meter *m, int channels);

/* Adds frames frames of dtype to the levels. */
void meter_add(struct meter *m, const void *frames, size_t count, sdc_dtype dtype, int channels);

/* Starts a new measuring window. */
void meter_reset(struct meter *m);

/* Returns a level in dBFS (-inf for silence, clamped at -120). */
double meter_db(double linear);

/*
 * Prints one line of the levels to f: a bar per channel with peak and RMS
 * in dBFS and "CLIP" where full scale was reached.  prefix starts the line.
 */
void meter_print(const struct meter *m, FILE *f, const char *prefix, int width);
