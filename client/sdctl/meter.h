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
	int source[METER_MAX_CHANNELS];	   /* the frame's channel (from 0) each level reads */
};

/* Meters the first channels channels of each frame. */
void meter_init(struct meter *m, int channels);

/* Meters the given channels (numbered from 1) of each frame instead, in that order. */
void meter_select(struct meter *m, const int *channels, int count);

/* Adds frames frames of dtype to the levels. */
void meter_add(struct meter *m, const void *frames, size_t count, sdc_dtype dtype, int channels);

/* Starts a new measuring window (the channel selection stays). */
void meter_reset(struct meter *m);

/* Returns a level in dBFS (-inf for silence, clamped at -120). */
double meter_db(double linear);

/* The peak and RMS levels of level c (from 0) in dBFS, rounded to 0.1 dB (never "-0.0"). */
double meter_peak_db(const struct meter *m, int c);
double meter_rms_db(const struct meter *m, int c);

/*
 * Prints one line of the levels to f: a bar per channel with peak and RMS
 * in dBFS and "CLIP" where full scale was reached.  prefix starts the line.
 */
void meter_print(const struct meter *m, FILE *f, const char *prefix, int width);

/*
 * Prints the levels as one plain line for programs to read:
 * "time=SECONDS peakN=DB rmsN=DB clipN=0|1 ..." for each metered channel N
 * (numbered from 1, as selected), then a newline.
 */
void meter_print_plain(const struct meter *m, FILE *f, double time);
