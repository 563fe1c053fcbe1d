/*
 * Sound files for sdctl through libsndfile: reading and writing frames in
 * sddaemon's wire formats (float32, int32, packed int24, int16, int8,
 * uint8) and float64, converting where the file's own format differs.
 */
#pragma once

#include <sndfile.h>

#include "sdc.h"

struct audiofile {
	SNDFILE *sf;
	SF_INFO info;
	sdc_dtype dtype;   /* frames are handed over in this type */
	long long frames;  /* -1 when unknown */
	void *scratch;	   /* conversion buffer */
	size_t scratch_frames;
};

/* Describes a headerless file: all three must be given for raw files. */
struct audiofile_raw {
	int channels;
	double samplerate;
	sdc_dtype dtype;
};

/*
 * Opens path for reading.  raw is NULL for files with a header.  dtype is
 * the type frames are wanted in, or SDC_DTYPE_DEFAULT for the file's own
 * (the closest wire format).  Returns 0, or a negative errno with a message
 * printed.
 */
int audiofile_open_read(struct audiofile *f, const char *path, const struct audiofile_raw *raw,
			sdc_dtype dtype);

/*
 * Creates path for writing frames of dtype; the container comes from the
 * extension (.wav, .flac, .ogg, .aiff/.aif, .raw/.pcm).  Returns 0 or a
 * negative errno with a message printed.
 */
int audiofile_open_write(struct audiofile *f, const char *path, sdc_dtype dtype, int channels,
			 double samplerate);

/* Reads up to frames frames; returns the count (0 at the end) or a negative errno. */
long long audiofile_read(struct audiofile *f, void *buf, size_t frames);

/* Writes frames frames; returns 0 or a negative errno. */
int audiofile_write(struct audiofile *f, const void *buf, size_t frames);

/* Closes the file (writing its header); returns 0 or a negative errno. */
int audiofile_close(struct audiofile *f);

/* Returns true for paths that name headerless files (.raw, .pcm). */
int audiofile_is_raw_path(const char *path);
