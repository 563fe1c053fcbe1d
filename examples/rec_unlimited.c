/*
 * rec_unlimited: records into a sound file until Ctrl-C, as sounddevice's
 * rec_unlimited.py does with an InputStream.
 *
 * The stream's callback, on libsdc's callback thread, copies each block of
 * input into a queue; the main thread takes the blocks out and writes them
 * with libsndfile, so a slow disk never stalls the callback.  The file must
 * not exist yet (without FILENAME a new delme_rec_unlimited_*.wav is made
 * in the current folder).  The stream records in the sample format that
 * suits the file's subtype (int16 for PCM_16 and smaller, int32 for PCM_24
 * and PCM_32, else float32), so a PCM_16 file holds the input bit-exactly.
 * -t SECONDS records that many seconds of frames and stops by itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sndfile.h>

#include "blockqueue.h"
#include "interrupt.h"
#include "sdc.h"

/* What the main thread and the callback share. */
struct recorder {
	struct blockqueue queue;
	size_t frame_bytes;
	unsigned long long limit; /* frames to record; 0: until stopped */
	unsigned long long done;  /* frames queued so far (callback thread only) */
	atomic_uint flags;	  /* SDC_* callback flags seen */
	atomic_ullong lost;	  /* frames dropped because the queue was full */
	atomic_int finished;
};

/* Callback thread: queues a copy of the block. */
static int callback(const void *input, void *output, unsigned long frames,
		    const sdc_time_info *time, unsigned status, void *userdata)
{
	struct recorder *r = userdata;
	unsigned long long n = frames;
	unsigned char *block;

	(void)output;
	(void)time;
	if (status)
		atomic_fetch_or(&r->flags, status);
	if (r->limit && r->done + n > r->limit)
		n = r->limit - r->done;
	block = blockqueue_reserve(&r->queue, 0);
	if (!block) {
		atomic_fetch_add(&r->lost, n);
	} else {
		memcpy(block, input, (size_t)n * r->frame_bytes);
		blockqueue_commit(&r->queue, (size_t)n * r->frame_bytes);
	}
	r->done += n;
	return r->limit && r->done >= r->limit ? SDC_COMPLETE : SDC_CONTINUE;
}

static void finished(void *userdata)
{
	struct recorder *r = userdata;

	atomic_store(&r->finished, 1);
}

static const struct {
	const char *name;
	int format;
} subtypes[] = {
	{ "PCM_S8", SF_FORMAT_PCM_S8 }, { "PCM_U8", SF_FORMAT_PCM_U8 }, { "PCM_16", SF_FORMAT_PCM_16 },
	{ "PCM_24", SF_FORMAT_PCM_24 }, { "PCM_32", SF_FORMAT_PCM_32 }, { "FLOAT", SF_FORMAT_FLOAT },
	{ "DOUBLE", SF_FORMAT_DOUBLE }, { "ULAW", SF_FORMAT_ULAW },     { "ALAW", SF_FORMAT_ALAW },
	{ "VORBIS", SF_FORMAT_VORBIS },
};

/* The container for a file name's extension, or 0. */
static int major_format(const char *path)
{
	static const struct {
		const char *ext;
		int format;
	} majors[] = {
		{ ".wav", SF_FORMAT_WAV },   { ".flac", SF_FORMAT_FLAC }, { ".ogg", SF_FORMAT_OGG },
		{ ".aiff", SF_FORMAT_AIFF }, { ".aif", SF_FORMAT_AIFF },  { ".au", SF_FORMAT_AU },
		{ ".caf", SF_FORMAT_CAF },   { ".w64", SF_FORMAT_W64 },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(majors) / sizeof(majors[0]); i++)
		if (strcasecmp(dot, majors[i].ext) == 0)
			return majors[i].format;
	return 0;
}

/* The stream's sample format for a file subtype. */
static sdc_dtype dtype_for(int subtype)
{
	switch (subtype) {
	case SF_FORMAT_PCM_S8:
	case SF_FORMAT_PCM_U8:
	case SF_FORMAT_PCM_16:
	case SF_FORMAT_ULAW:
	case SF_FORMAT_ALAW:
		return SDC_INT16;
	case SF_FORMAT_PCM_24:
	case SF_FORMAT_PCM_32:
		return SDC_INT32;
	default:
		return SDC_FLOAT32;
	}
}

/* Writes n frames of dtype; returns 0 or -EIO. */
static int write_frames(SNDFILE *sf, sdc_dtype dtype, const void *data, sf_count_t n)
{
	sf_count_t w;

	if (dtype == SDC_INT16)
		w = sf_writef_short(sf, data, n);
	else if (dtype == SDC_INT32)
		w = sf_writef_int(sf, data, n);
	else
		w = sf_writef_float(sf, data, n);
	return w == n ? 0 : -EIO;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: rec_unlimited [OPTIONS] [FILENAME]\n"
		   "Record from an input device of sddaemon into a new sound file until Ctrl-C.\n\n"
		   "  -d, --device DEVICE      input device (numeric ID or substrings)\n"
		   "  -r, --samplerate RATE    sampling rate (default: the device's)\n"
		   "  -c, --channels N         number of input channels (default: 1)\n"
		   "  -s, --subtype SUBTYPE    sound file subtype (e.g. PCM_24; default: the format's)\n"
		   "  -b, --blocksize N        frames per callback (default: 1024)\n"
		   "  -x, --exclusive          a dedicated device stream (bit-exact)\n"
		   "  -t, --duration SECONDS   stop after this much\n"
		   "  -h, --help               show this help\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "samplerate", required_argument, NULL, 'r' },
		{ "channels", required_argument, NULL, 'c' },
		{ "subtype", required_argument, NULL, 's' },
		{ "blocksize", required_argument, NULL, 'b' },
		{ "exclusive", no_argument, NULL, 'x' },
		{ "duration", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char temp_name[] = "delme_rec_unlimited_XXXXXXXX.wav";
	const char *device = NULL, *subtype_name = NULL, *path;
	int channels = 1, blocksize = 1024, exclusive = 0, opt, status = 0, fd, subtype = 0;
	double samplerate = 0, duration = 0;
	struct recorder rec = { 0 };
	sdc_stream_params p = { 0 };
	SF_INFO info = { 0 };
	unsigned shown = 0;
	sdc_client *client;
	sdc_stream *stream;
	sdc_dtype dtype;
	SNDFILE *sf;

	while ((opt = getopt_long(argc, argv, "d:r:c:s:b:xt:h", options, NULL)) != -1) {
		switch (opt) {
		case 'd':
			device = optarg;
			break;
		case 'r':
			samplerate = atof(optarg);
			break;
		case 'c':
			channels = atoi(optarg);
			break;
		case 's':
			subtype_name = optarg;
			break;
		case 'b':
			blocksize = atoi(optarg);
			break;
		case 'x':
			exclusive = 1;
			break;
		case 't':
			duration = atof(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1 || channels < 1 || blocksize < 1 || blocksize > 65536 ||
	    samplerate < 0 || duration < 0) {
		usage(stderr);
		return 2;
	}
	path = optind < argc ? argv[optind] : temp_name;
	info.format = major_format(path);
	if (!info.format) {
		fprintf(stderr, "rec_unlimited: '%s': unknown file type (.wav, .flac, .ogg, .aiff, .au, .caf, .w64)\n",
			path);
		return 2;
	}
	for (size_t i = 0; subtype_name && i < sizeof(subtypes) / sizeof(subtypes[0]); i++)
		if (strcasecmp(subtype_name, subtypes[i].name) == 0)
			subtype = subtypes[i].format;
	if (subtype_name && !subtype) {
		fprintf(stderr, "rec_unlimited: unknown subtype '%s'\n", subtype_name);
		return 2;
	}
	if (!subtype)
		subtype = info.format == SF_FORMAT_OGG ? SF_FORMAT_VORBIS : SF_FORMAT_PCM_16;
	info.format |= subtype;
	info.channels = channels;

	catch_interrupts();
	if (sdc_connect(NULL, &client) < 0)
		return report_failure("rec_unlimited");
	p.device[0] = sdc_device_parse(device);
	if (samplerate == 0) {
		/* As the original: the device's default rate. */
		sdc_device_info dev;

		if (sdc_query_device(client, p.device[0], SDC_KIND_INPUT, &dev) < 0) {
			sdc_close(client);
			return report_failure("rec_unlimited");
		}
		samplerate = dev.default_samplerate;
		sdc_device_info_clear(&dev);
	}
	info.samplerate = (int)samplerate;
	if (!sf_format_check(&info)) {
		fprintf(stderr, "rec_unlimited: that file type cannot hold %d channels at %d Hz in subtype %s\n",
			channels, info.samplerate, subtype_name ? subtype_name : "(default)");
		sdc_close(client);
		return 2;
	}
	/* Mode 'x': never overwrite a file. */
	fd = path == temp_name ? mkstemps(temp_name, 4)
			       : open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		fprintf(stderr, "rec_unlimited: cannot create '%s': %s\n", path, strerror(errno));
		sdc_close(client);
		return 1;
	}
	sf = sf_open_fd(fd, SFM_WRITE, &info, 1);
	if (!sf) {
		fprintf(stderr, "rec_unlimited: '%s': %s\n", path, sf_strerror(NULL));
		close(fd);
		sdc_close(client);
		return 1;
	}

	dtype = dtype_for(subtype);
	rec.frame_bytes = sdc_dtype_size(dtype) * (size_t)channels;
	rec.limit = (unsigned long long)(duration * samplerate + 0.5);
	/* Two seconds of blocks between the callback and the disk. */
	if (blockqueue_init(&rec.queue, (unsigned)(2 * samplerate / blocksize) + 4,
			    (size_t)blocksize * rec.frame_bytes) < 0) {
		fprintf(stderr, "rec_unlimited: out of memory\n");
		sf_close(sf);
		sdc_close(client);
		return 1;
	}
	p.kind = SDC_STREAM_INPUT;
	p.samplerate = samplerate;
	p.blocksize = blocksize;
	p.channels[0] = channels;
	p.dtype[0] = dtype;
	p.callback = callback;
	p.finished_callback = finished;
	p.userdata = &rec;
	p.exclusive = exclusive ? SDC_YES : 0;
	stream = NULL;
	if (sdc_stream_open(client, &p, &stream) < 0 || sdc_stream_start(stream) < 0) {
		status = report_failure("rec_unlimited");
		sdc_stream_close(stream);
		sf_close(sf);
		unlink(path);
		sdc_close(client);
		blockqueue_destroy(&rec.queue);
		return status;
	}
	if (!duration) {
		fprintf(stderr, "################################################################################\n"
				"press Ctrl+C to stop the recording\n"
				"################################################################################\n");
	}

	for (;;) {
		const unsigned char *block;
		unsigned flags = atomic_load(&rec.flags);
		size_t len;

		if (flags & ~shown) {
			char text[128];

			fprintf(stderr, "%s\n", sdc_flags_text(flags, text, sizeof(text)));
			shown = flags;
		}
		if (interrupted && !sdc_stream_stopped(stream))
			sdc_stream_abort(stream);
		block = blockqueue_peek(&rec.queue, &len, 100);
		if (!block) {
			/* Done once the stream is over and its last block written. */
			if (interrupted || atomic_load(&rec.finished)) {
				block = blockqueue_peek(&rec.queue, &len, 0);
				if (!block)
					break;
			} else {
				continue;
			}
		}
		if (write_frames(sf, dtype, block, (sf_count_t)(len / rec.frame_bytes)) < 0) {
			fprintf(stderr, "rec_unlimited: cannot write '%s': %s\n", path, sf_strerror(sf));
			status = 1;
			blockqueue_release(&rec.queue);
			break;
		}
		blockqueue_release(&rec.queue);
	}
	sdc_stream_stop(stream);
	sdc_stream_close(stream);
	sdc_close(client);
	if (atomic_load(&rec.lost))
		fprintf(stderr, "rec_unlimited: %llu frames lost: the disk was too slow\n",
			(unsigned long long)atomic_load(&rec.lost));
	if (sf_close(sf) != 0) {
		fprintf(stderr, "rec_unlimited: cannot finish '%s'\n", path);
		status = 1;
	}
	blockqueue_destroy(&rec.queue);
	printf("\nRecording finished: '%s'\n", path);
	return status;
}
