/* libsndfile reading and writing in sddaemon's sample formats, for sdctl; see audiofile.h. */
#include "audiofile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipe-reader.h"
#include "sndfile-loader.h"

/* The file types by name (--type, or the extension). */
static const struct file_type {
	const char *name;
	int major; /* libsndfile's major format */
	/*
	 * Writing it needs to seek back (to finish a header).  libsndfile
	 * writes FLAC to a pipe with its header appended at the end, which
	 * decoders refuse; WAV to a pipe is written here with an open-ended header.
	 */
	bool needs_seek;
} file_types[] = {
	{ "wav", SF_FORMAT_WAV, false },  { "wave", SF_FORMAT_WAV, false },
	{ "flac", SF_FORMAT_FLAC, true }, { "ogg", SF_FORMAT_OGG, false },
	{ "oga", SF_FORMAT_OGG, false },  { "au", SF_FORMAT_AU, false },
	{ "snd", SF_FORMAT_AU, false },	  { "raw", SF_FORMAT_RAW, false },
	{ "pcm", SF_FORMAT_RAW, false },  { "aiff", SF_FORMAT_AIFF, true },
	{ "aif", SF_FORMAT_AIFF, true },  { "w64", SF_FORMAT_W64, true },
	{ "caf", SF_FORMAT_CAF, true },	  { "rf64", SF_FORMAT_RF64, true },
};

#define TYPES_LIST "wav, flac, ogg, aiff, au, raw, w64, caf or rf64"

static char last_error[512];

const char *audiofile_error(void)
{
	return last_error;
}

__attribute__((format(printf, 2, 3))) static int fail(int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return r;
}

static bool is_stdio(const char *path)
{
	return strcmp(path, "-") == 0;
}

/* Returns the extension of path (after the last dot of its last part), or "". */
static const char *extension(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');

	return dot && (!slash || dot > slash) ? dot + 1 : "";
}

static const struct file_type *type_named(const char *name)
{
	for (size_t i = 0; i < sizeof(file_types) / sizeof(file_types[0]); i++)
		if (strcasecmp(file_types[i].name, name) == 0)
			return &file_types[i];
	return NULL;
}

/* The type spec gives, else the name's; NULL when neither tells. */
static const struct file_type *type_of(const char *path, const struct audiofile_spec *spec)
{
	if (spec && spec->raw)
		return type_named("raw");
	if (spec && spec->type)
		return type_named(spec->type);
	return type_named(extension(path));
}

bool audiofile_is_raw(const char *path, const struct audiofile_spec *spec)
{
	const struct file_type *t = type_of(path, spec);

	return t && t->major == SF_FORMAT_RAW;
}

sdc_dtype audiofile_default_dtype(const char *path, const struct audiofile_spec *spec)
{
	const struct file_type *t = type_of(path, spec);

	return t && (t->major == SF_FORMAT_OGG || t->major == SF_FORMAT_RAW) ? SDC_FLOAT32
									     : SDC_INT24;
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

/* Opens path (or takes standard input or output) and tells whether it can seek. */
static int open_fd(struct audiofile *f, const char *path, bool write)
{
	struct stat st;
	int fd;

	if (is_stdio(path)) {
		snprintf(f->name, sizeof(f->name), "standard %s", write ? "output" : "input");
		fd = fcntl(write ? 1 : 0, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return fail(-errno, "cannot use %s: %s", f->name, strerror(errno));
	} else {
		snprintf(f->name, sizeof(f->name), "'%s'", path);
		fd = write ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)
			   : open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return fail(-errno, "cannot %s '%s': %s", write ? "create" : "open", path,
				    strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		close(fd);
		return fail(r, "cannot use %s: %s", f->name, strerror(-r));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return fail(-EISDIR, "%s is a folder, not a sound file", f->name);
	}
	if (isatty(fd)) {
		close(fd);
		return fail(-EINVAL, write ? "%s is a terminal: redirect it to a file or a program"
					   : "%s is a terminal: pipe a sound into it, or name a file",
			    f->name);
	}
	f->stream = !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode);
	return fd;
}

/* libsndfile's failure to open, in our words. */
static int open_failed(struct audiofile *f, int err, bool raw)
{
	switch (err) {
	case SF_ERR_UNRECOGNISED_FORMAT:
		return fail(-EINVAL,
			    "%s is not a sound file sdctl can read (WAV, FLAC, Ogg, AIFF, AU, "
			    "...); headerless samples need --raw with -r, -c and -f",
			    f->name);
	case SF_ERR_MALFORMED_FILE:
		return fail(-EINVAL, "%s is damaged or truncated: %s", f->name,
			    sndfile_api()->strerror(NULL));
	case SF_ERR_UNSUPPORTED_ENCODING:
		return fail(-ENOTSUP, "%s uses an encoding libsndfile cannot decode", f->name);
	default:
		if (raw)
			return fail(-EINVAL,
				    "%s: these raw samples cannot be read as given (-r, -c, -f)",
				    f->name);
		return fail(-EIO, "cannot read %s: %s", f->name, sndfile_api()->strerror(NULL));
	}
}

int audiofile_open_read(struct audiofile *f, const char *path, const struct audiofile_spec *spec,
			sdc_dtype dtype)
{
	const struct sndfile_api *sf = sndfile_api();
	bool raw = audiofile_is_raw(path, spec);
	int fd;

	memset(f, 0, sizeof(*f));
	if (!sf)
		return fail(-ENOSYS, "%s", sndfile_api_error());
	if (spec && spec->type && !type_named(spec->type))
		return fail(-EINVAL, "unknown type '%s' (%s)", spec->type, TYPES_LIST);
	if (raw) {
		if (spec->channels < 1 || spec->samplerate <= 0 || spec->dtype == SDC_DTYPE_DEFAULT)
			return fail(-EINVAL,
				    "'%s' is headerless: give its rate (-r), channels (-c) and "
				    "format (-f)",
				    path);
		f->info.channels = spec->channels;
		f->info.samplerate = (int)spec->samplerate;
		f->info.format = SF_FORMAT_RAW | subtype_of(spec->dtype);
	}
	fd = open_fd(f, path, false);
	if (fd < 0)
		return fd;
	if (f->stream) {
		f->pipe = pipe_reader_new(fd);
		if (!f->pipe) {
			close(fd);
			return fail(-ENOMEM, "out of memory");
		}
		f->sf = sf->open_virtual(&pipe_reader_io, SFM_READ, &f->info, f->pipe);
	} else {
		f->sf = sf->open_fd(fd, SFM_READ, &f->info, SF_TRUE);
	}
	if (!f->sf) {
		int err = sf->error(NULL);

		if (f->pipe && pipe_reader_errno(f->pipe))
			err = -pipe_reader_errno(f->pipe);
		/* libsndfile has closed fd; the pipe reader closes its own. */
		pipe_reader_free(f->pipe);
		f->pipe = NULL;
		if (err < 0)
			return fail(err, "cannot read %s: %s", f->name, strerror(-err));
		return open_failed(f, err, raw);
	}
	/* A pipe's length is never known, whatever its header says. */
	f->frames = !f->stream && f->info.frames > 0 && f->info.frames < INT64_MAX / 2
			    ? (long long)f->info.frames
			    : -1;
	f->dtype = dtype != SDC_DTYPE_DEFAULT ? dtype : raw ? spec->dtype : natural_dtype(&f->info);
	return 0;
}

/* Writes the header of a WAV file of unknown length to fd, for streaming. */
static int write_stream_wav_header(int fd, sdc_dtype dtype, int channels, double samplerate)
{
	unsigned char h[44];
	unsigned bits = dtype == SDC_INT24 ? 24 : (unsigned)sdc_dtype_size(dtype) * 8;
	unsigned align = (unsigned)channels * bits / 8;
	uint32_t rate = (uint32_t)samplerate;
	size_t done = 0;

	/* The RIFF and data sizes say "as long as it goes" (0xFFFFFFFF), as arecord and sox write.
	 */
	memcpy(h, "RIFF\xff\xff\xff\xffWAVEfmt \x10\0\0\0", 20);
	h[20] = dtype == SDC_FLOAT32 || dtype == SDC_FLOAT64 ? 3 : 1; /* IEEE float, or PCM */
	h[21] = 0;
	h[22] = (unsigned char)channels;
	h[23] = (unsigned char)(channels >> 8);
	for (int i = 0; i < 4; i++) {
		h[24 + i] = (unsigned char)(rate >> (8 * i));
		h[28 + i] = (unsigned char)((rate * align) >> (8 * i));
	}
	h[32] = (unsigned char)align;
	h[33] = (unsigned char)(align >> 8);
	h[34] = (unsigned char)bits;
	h[35] = 0;
	memcpy(h + 36, "data\xff\xff\xff\xff", 8);
	while (done < sizeof(h)) {
		ssize_t n = write(fd, h + done, sizeof(h) - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

int audiofile_open_write(struct audiofile *f, const char *path, const struct audiofile_spec *spec,
			 sdc_dtype dtype, int channels, double samplerate)
{
	const struct sndfile_api *sf = sndfile_api();
	const struct file_type *t;
	int fd, r, subtype = subtype_of(dtype);

	memset(f, 0, sizeof(*f));
	if (!sf)
		return fail(-ENOSYS, "%s", sndfile_api_error());
	if (spec && spec->type && !type_named(spec->type))
		return fail(-EINVAL, "unknown type '%s' (%s)", spec->type, TYPES_LIST);
	t = is_stdio(path) && !(spec && (spec->type || spec->raw)) ? type_named("wav")
								   : type_of(path, spec);
	if (!t)
		return fail(-EINVAL,
			    "cannot tell the file type of '%s' from its name: use .wav, .flac, "
			    ".ogg, .aiff, .au or .raw, or --type",
			    path);
	if (t->major == SF_FORMAT_OGG)
		subtype = SF_FORMAT_VORBIS;
	/* WAV holds 8-bit samples unsigned: int8 is stored as uint8 (libsndfile converts). */
	if (t->major == SF_FORMAT_WAV && dtype == SDC_INT8)
		subtype = SF_FORMAT_PCM_U8;
	f->info.channels = channels;
	f->info.samplerate = (int)samplerate;
	f->info.format = t->major | subtype;
	if (!sf->format_check(&f->info))
		return fail(-EINVAL, "a %s file cannot hold %s samples%s", t->name,
			    sdc_dtype_name(dtype),
			    t->major == SF_FORMAT_FLAC ? " (FLAC takes int8, int16 or int24)" : "");
	fd = open_fd(f, path, true);
	if (fd < 0)
		return fd;
	if (f->stream && t->needs_seek) {
		close(fd);
		return fail(
			-EINVAL,
			"%s cannot be written to %s, which cannot seek: use wav, ogg, au or raw",
			t->name, f->name);
	}
	if (f->stream && t->major == SF_FORMAT_WAV) {
		/* libsndfile writes WAV only where it can seek back: the header is ours, the
		 * samples raw. */
		r = write_stream_wav_header(fd, dtype, channels, samplerate);
		if (r < 0) {
			close(fd);
			return fail(r, "cannot write to %s: %s", f->name, strerror(-r));
		}
		f->info.format = SF_FORMAT_RAW | subtype;
	}
	f->sf = sf->open_fd(fd, SFM_WRITE, &f->info, SF_TRUE);
	if (!f->sf) /* libsndfile has closed fd */
		return fail(-EIO, "cannot write %s: %s", f->name, sf->strerror(NULL));
	/* Keep the header current, so the file is valid even if sdctl is killed. */
	if (!f->stream && (t->major == SF_FORMAT_WAV || t->major == SF_FORMAT_AIFF))
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
		got = sf->readf_float(f->sf, buf, (sf_count_t)frames);
		break;
	case SDC_FLOAT64:
		got = sf->readf_double(f->sf, buf, (sf_count_t)frames);
		break;
	case SDC_INT32:
		got = sf->readf_int(f->sf, buf, (sf_count_t)frames);
		break;
	case SDC_INT16:
		got = sf->readf_short(f->sf, buf, (sf_count_t)frames);
		break;
	default:
		if (scratch(f, frames) < 0)
			return fail(-ENOMEM, "out of memory");
		/* libsndfile gives left-justified 32-bit ints: keep the top bits we need. */
		got = sf->readf_int(f->sf, f->scratch, (sf_count_t)frames);
		n = got > 0 ? (size_t)got * (size_t)f->info.channels : 0;
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
		break;
	}
	if (got < 0 || (got == 0 && sf->error(f->sf) != SF_ERR_NO_ERROR))
		return fail(-EIO, "cannot read %s: %s", f->name, sf->strerror(f->sf));
	if (got == 0 && f->pipe && pipe_reader_errno(f->pipe))
		return fail(-pipe_reader_errno(f->pipe), "cannot read %s: %s", f->name,
			    strerror(pipe_reader_errno(f->pipe)));
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
			return fail(-ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			const unsigned char *s = buf;
			int32_t v;

			if (f->dtype == SDC_INT24)
				v = (int32_t)((uint32_t)s[3 * i] << 8 |
					      (uint32_t)s[3 * i + 1] << 16 |
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
	if (put != (sf_count_t)frames)
		return fail(-EIO, "cannot write %s: %s", f->name, sf->strerror(f->sf));
	f->frames += (long long)frames;
	return 0;
}

int audiofile_close(struct audiofile *f)
{
	const struct sndfile_api *sf = sndfile_api();
	int r = 0;

	if (f->sf && sf->close(f->sf) != 0)
		r = fail(-EIO, "cannot finish %s", f->name);
	f->sf = NULL;
	pipe_reader_free(f->pipe);
	f->pipe = NULL;
	free(f->scratch);
	f->scratch = NULL;
	f->scratch_frames = 0;
	return r;
}
