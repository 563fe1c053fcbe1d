/*
 * Per-channel peak and RMS levels of interleaved frames in any sdctl
 * format, a history of them by stream position (so that a player shows
 * the levels of what is heard, not of what it decodes ahead), and the
 * plain-text form for programs.  statusline.h draws them on a terminal.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "sdc.h"

#define METER_MAX_CHANNELS 32

struct meter {
	int channels;
	double peak[METER_MAX_CHANNELS];  /* linear, since the last reset */
	double sumsq[METER_MAX_CHANNELS]; /* sum of squares since the last reset */
	unsigned long long count;	  /* frames since the last reset */
	int clipped[METER_MAX_CHANNELS];  /* a sample reached full scale */
	int source[METER_MAX_CHANNELS];	  /* the frame's channel (from 0) each level reads */
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
 * Prints the levels as one plain line for programs to read:
 * "time=SECONDS peakN=DB rmsN=DB clipN=0|1 ..." for each metered channel N
 * (numbered from 1, as selected), then a newline.
 */
void meter_print_plain(const struct meter *m, FILE *f, double time);

/* Levels of short blocks of a stream, by the position where each ends. */
#define METER_HISTORY_BLOCKS 512

struct meter_history {
	struct {
		unsigned long long end; /* the stream position (frames) after the block */
		float peak[METER_MAX_CHANNELS];
		float meansq[METER_MAX_CHANNELS];
		unsigned char clipped[METER_MAX_CHANNELS];
	} block[METER_HISTORY_BLOCKS];
	unsigned count; /* blocks added so far (the oldest are overwritten) */
	int channels;
};

/* Empties the history. */
void meter_history_init(struct meter_history *h, int channels);

/* Adds the levels m measured of the block that ends at position end. */
void meter_history_add(struct meter_history *h, const struct meter *m, unsigned long long end);

/*
 * Fills m with the levels of the blocks that end in (from, to]: what was
 * heard between those positions.  Returns the blocks found.
 */
int meter_history_get(const struct meter_history *h, unsigned long long from, unsigned long long to,
		      struct meter *m);
