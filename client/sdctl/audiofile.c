/* libsndfile reading and writing in sddaemon's sample formats, for sdctl. */
#include "audiofile.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sndfile-loader.h"

/* Returns the extension of path (after the last dot), or "". */
static const char *extension(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');

	return dot && (!slash || dot > slash) ? dot + 1 : "";
}

int audiofile_is_raw_path(const char *path)
{
	return strcasecmp(extension(path), "raw") == 0 || strcasecmp(extension(path), "pcm") == 0;
}

/* The libsndfile subtype that holds dtype exactly. */
static int subtype_of(sdc_dtype dtype)
{
	switch (dtype) {
	case SDC_INT32:
		return SF_FORMAT_PCM_32;
	case SDC_INT24:
		return SF_FORMAT_PCM_24;
	case SDC_INT16:
		return SF_FORMAT_PCM_16;
	case SDC_INT8:
		return SF_FORMAT_PCM_S8;
	case SDC_UINT8:
		return SF_FORMAT_PCM_U8;
	case SDC_FLOAT64:
		return SF_FORMAT_DOUBLE;
	default:
		return SF_FORMAT_FLOAT;
	}
}

/* The wire format closest to a file's own. */
static sdc_dtype natural_dtype(const SF_INFO *info)
{
	switch (info->format & SF_FORMAT_SUBMASK) {
	case SF_FORMAT_PCM_S8:
		return SDC_INT8;
	case SF_FORMAT_PCM_U8:
		return SDC_UINT8;
	case SF_FORMAT_PCM_16:
		return SDC_INT16;
	case SF_FORMAT_PCM_24:
		return SDC_INT24;
	case SF_FORMAT_PCM_32:
		return SDC_INT32;
	default:
		return SDC_FLOAT32;
	}
}

/* Makes sure the scratch buffer holds frames frames of ints. */
static int scratch(struct audiofile *f, size_t frames)
{
	if (f->scratch_frames >= frames)
		return 0;
	free(f->scratch);
	f->scratch = malloc(frames * (size_t)f->info.channels * sizeof(int32_t));
	f->scratch_frames = f->scratch ? frames : 0;
	return f->scratch ? 0 : -ENOMEM;
}

int audiofile_open_read(struct audiofile *f, const char *path, const struct audiofile_raw *raw,
			sdc_dtype dtype)
{
	const struct sndfile_api *sf = sndfile_api();

	memset(f, 0, sizeof(*f));
	if (!sf)
		return -ENOSYS;
	if (raw) {
		if (raw->channels < 1 || raw->samplerate <= 0 || raw->dtype == SDC_DTYPE_DEFAULT) {
			fprintf(stderr, "sdctl: '%s' is a raw file: give its rate (-r), channels (-c) and format (-f)\n",
				path);
			return -EINVAL;
		}
		f->info.channels = raw->channels;
		f->info.samplerate = (int)raw->samplerate;
		f->info.format = SF_FORMAT_RAW | subtype_of(raw->dtype);
	}
	f->sf = sf->open(path, SFM_READ, &f->info);
	if (!f->sf) {
		fprintf(stderr, "sdctl: cannot read '%s': %s\n", path, sf->strerror(NULL));
		return -EINVAL;
	}
	f->frames = f->info.frames > 0 ? (long long)f->info.frames : -1;
	f->dtype = dtype != SDC_DTYPE_DEFAULT ? dtype : raw ? raw->dtype : natural_dtype(&f->info);
	return 0;
}

int audiofile_open_write(struct audiofile *f, const char *path, sdc_dtype dtype, int channels,
			 double samplerate)
{
	const struct sndfile_api *sf = sndfile_api();
	const char *ext = extension(path);
	int container;

	memset(f, 0, sizeof(*f));
	if (!sf)
		return -ENOSYS;
	if (strcasecmp(ext, "wav") == 0)
		container = SF_FORMAT_WAV;
	else if (strcasecmp(ext, "flac") == 0)
		container = SF_FORMAT_FLAC;
	else if (strcasecmp(ext, "ogg") == 0 || strcasecmp(ext, "oga") == 0)
		container = SF_FORMAT_OGG;
	else if (strcasecmp(ext, "aiff") == 0 || strcasecmp(ext, "aif") == 0)
		container = SF_FORMAT_AIFF;
	else if (audiofile_is_raw_path(path))
		container = SF_FORMAT_RAW;
	else {
		fprintf(stderr, "sdctl: cannot tell the file type of '%s': use .wav, .flac, .ogg, .aiff or .raw\n",
			path);
		return -EINVAL;
	}
	f->info.channels = channels;
	f->info.samplerate = (int)samplerate;
	f->info.format = container | (container == SF_FORMAT_OGG ? SF_FORMAT_VORBIS : subtype_of(dtype));
	if (!sf->format_check(&f->info)) {
		fprintf(stderr, "sdctl: a .%s file cannot hold %s samples%s\n", ext, sdc_dtype_name(dtype),
			container == SF_FORMAT_FLAC ? " (FLAC takes int8, int16 or int24)" : "");
		return -EINVAL;
	}
	f->sf = sf->open(path, SFM_WRITE, &f->info);
	if (!f->sf) {
		fprintf(stderr, "sdctl: cannot create '%s': %s\n", path, sf->strerror(NULL));
		return -EIO;
	}
	/* Keep the header current, so the file is valid even if sdctl is killed. */
	if (container == SF_FORMAT_WAV || container == SF_FORMAT_AIFF)
		sf->command(f->sf, SFC_SET_UPDATE_HEADER_AUTO, NULL, SF_TRUE);
	f->dtype = dtype;
	f->frames = 0;
	return 0;
}

long long audiofile_read(struct audiofile *f, void *buf, size_t frames)
{
	const struct sndfile_api *sf = sndfile_api();
	size_t n = frames * (size_t)f->info.channels;
	sf_count_t got;

	switch (f->dtype) {
	case SDC_FLOAT32:
		return (long long)sf->readf_float(f->sf, buf, (sf_count_t)frames);
	case SDC_FLOAT64:
		return (long long)sf->readf_double(f->sf, buf, (sf_count_t)frames);
	case SDC_INT32:
		return (long long)sf->readf_int(f->sf, buf, (sf_count_t)frames);
	case SDC_INT16:
		return (long long)sf->readf_short(f->sf, buf, (sf_count_t)frames);
	default:
		break;
	}
	if (scratch(f, frames) < 0)
		return -ENOMEM;
	/* libsndfile gives left-justified 32-bit ints: keep the top bits we need. */
	got = sf->readf_int(f->sf, f->scratch, (sf_count_t)frames);
	n = (size_t)got * (size_t)f->info.channels;
	for (size_t i = 0; i < n; i++) {
		int32_t v = ((int32_t *)f->scratch)[i];
		unsigned char *o = buf;

		if (f->dtype == SDC_INT24) {
			o[3 * i] = (unsigned char)(v >> 8);
			o[3 * i + 1] = (unsigned char)(v >> 16);
			o[3 * i + 2] = (unsigned char)(v >> 24);
		} else if (f->dtype == SDC_INT8) {
			o[i] = (unsigned char)(int8_t)(v >> 24);
		} else {
			o[i] = (unsigned char)((v >> 24) + 128);
		}
	}
	return (long long)got;
}

int audiofile_write(struct audiofile *f, const void *buf, size_t frames)
{
	const struct sndfile_api *sf = sndfile_api();
	size_t n = frames * (size_t)f->info.channels;
	sf_count_t put;

	switch (f->dtype) {
	case SDC_FLOAT32:
		put = sf->writef_float(f->sf, buf, (sf_count_t)frames);
		break;
	case SDC_FLOAT64:
		put = sf->writef_double(f->sf, buf, (sf_count_t)frames);
		break;
	case SDC_INT32:
		put = sf->writef_int(f->sf, buf, (sf_count_t)frames);
		break;
	case SDC_INT16:
		put = sf->writef_short(f->sf, buf, (sf_count_t)frames);
		break;
	default:
		if (scratch(f, frames) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			const unsigned char *s = buf;
			int32_t v;

			if (f->dtype == SDC_INT24)
				v = (int32_t)((uint32_t)s[3 * i] << 8 | (uint32_t)s[3 * i + 1] << 16 |
					      (uint32_t)s[3 * i + 2] << 24);
			else if (f->dtype == SDC_INT8)
				v = (int32_t)((uint32_t)(int32_t)(int8_t)s[i] << 24);
			else
				v = (int32_t)((uint32_t)((int32_t)s[i] - 128) << 24);
			((int32_t *)f->scratch)[i] = v;
		}
		put = sf->writef_int(f->sf, f->scratch, (sf_count_t)frames);
		break;
	}
	if (put != (sf_count_t)frames) {
		fprintf(stderr, "sdctl: cannot write the file: %s\n", sf->strerror(f->sf));
		return -EIO;
	}
	f->frames += (long long)frames;
	return 0;
}

int audiofile_close(struct audiofile *f)
{
	const struct sndfile_api *sf = sndfile_api();
	int r = 0;

	if (f->sf && sf->close(f->sf) != 0)
		r = -EIO;
	f->sf = NULL;
	free(f->scratch);
	f->scratch = NULL;
	f->scratch_frames = 0;
	return r;
}
