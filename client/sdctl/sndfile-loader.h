/*
 * libsndfile, loaded when sdctl first needs it.  Only play, rec and
 * playrec read or write files; loading libsndfile and the codec libraries
 * it pulls in costs the other commands (sdctl devices, status, …) about
 * as much again as the rest of their start-up, so it is not linked.
 * Single-threaded use only (sdctl's main thread).
 */
#pragma once

#include <sndfile.h>

struct sndfile_api {
	SNDFILE *(*open_fd)(int fd, int mode, SF_INFO *info, int close_desc);
	SNDFILE *(*open_virtual)(SF_VIRTUAL_IO *io, int mode, SF_INFO *info, void *user_data);
	const char *(*strerror)(SNDFILE *sf);
	int (*error)(SNDFILE *sf);
	int (*format_check)(const SF_INFO *info);
	int (*command)(SNDFILE *sf, int cmd, void *data, int datasize);
	sf_count_t (*readf_float)(SNDFILE *sf, float *ptr, sf_count_t frames);
	sf_count_t (*readf_double)(SNDFILE *sf, double *ptr, sf_count_t frames);
	sf_count_t (*readf_int)(SNDFILE *sf, int *ptr, sf_count_t frames);
	sf_count_t (*readf_short)(SNDFILE *sf, short *ptr, sf_count_t frames);
	sf_count_t (*writef_float)(SNDFILE *sf, const float *ptr, sf_count_t frames);
	sf_count_t (*writef_double)(SNDFILE *sf, const double *ptr, sf_count_t frames);
	sf_count_t (*writef_int)(SNDFILE *sf, const int *ptr, sf_count_t frames);
	sf_count_t (*writef_short)(SNDFILE *sf, const short *ptr, sf_count_t frames);
	int (*close)(SNDFILE *sf);
};

/*
 * Returns libsndfile's functions, loading the library on the first call;
 * NULL when it cannot be loaded (sndfile_api_error() says why).
 */
const struct sndfile_api *sndfile_api(void);

/* Why libsndfile could not be loaded. */
const char *sndfile_api_error(void);
