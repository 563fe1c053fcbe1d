/*
 * Sound files for sdctl through libsndfile: reading and writing frames in
 * sddaemon's wire formats (float32, int32, packed int24, int16, int8,
 * uint8) and float64, converting where the file's own format differs.
 * Files, standard input and output ("-") and FIFOs: what cannot seek is
 * read through a buffer that lets libsndfile look at the header twice,
 * and written in a type that streams (WAV with an open-ended header, FLAC,
 * Ogg, AU, raw).  Main thread.
 */
#pragma once

#include <stdbool.h>
#include <sndfile.h>

#include "sdc.h"

struct pipe_reader;

/* How the command line describes a file; zero members are "not given". */
struct audiofile_spec {
	const char *type; /* --type: wav, flac, ogg, aiff, au, raw, ...; NULL: from the name */
	bool raw;	  /* --raw: the same as --type raw */
	/* Headerless input needs all three. */
	int channels;
	double samplerate;
	sdc_dtype dtype;
};

struct audiofile {
	SNDFILE *sf;
	SF_INFO info;
	sdc_dtype dtype; /* frames are handed over in this type */
	long long
		frames; /* reading: the length, -1 when unknown (a pipe); writing: frames written */
	bool stream;	/* not seekable: a pipe, FIFO or terminal */
	char name[256]; /* for messages: the path, or "standard input" / "standard output" */
	struct pipe_reader *pipe; /* reading what cannot seek */
	void *scratch;		  /* conversion buffer */
	size_t scratch_frames;
};

/* What the last failed function of this module said went wrong (in our words). */
const char *audiofile_error(void);

/*
 * Opens path ("-": standard input) for reading.  dtype is the type frames
 * are wanted in, or SDC_DTYPE_DEFAULT for the file's own (the closest wire
 * format).  Returns 0, or a negative errno (audiofile_error() says why).
 */
int audiofile_open_read(struct audiofile *f, const char *path, const struct audiofile_spec *spec,
			sdc_dtype dtype);

/*
 * Creates path ("-": standard output) for writing frames of dtype; the
 * type comes from spec, else from the name's extension, else (for "-") is
 * WAV.  Returns 0 or a negative errno (audiofile_error() says why).
 */
int audiofile_open_write(struct audiofile *f, const char *path, const struct audiofile_spec *spec,
			 sdc_dtype dtype, int channels, double samplerate);

/* Reads up to frames frames; returns the count (0 at the end) or a negative errno. */
long long audiofile_read(struct audiofile *f, void *buf, size_t frames);

/* Writes frames frames; returns 0 or a negative errno. */
int audiofile_write(struct audiofile *f, const void *buf, size_t frames);

/* Closes the file (writing its header); returns 0 or a negative errno. */
int audiofile_close(struct audiofile *f);

/* Whether path, as spec describes it, holds headerless samples (raw, .raw, .pcm). */
bool audiofile_is_raw(const char *path, const struct audiofile_spec *spec);

/* The sample format a recording into path defaults to: int24, float32 for Ogg and raw. */
sdc_dtype audiofile_default_dtype(const char *path, const struct audiofile_spec *spec);
