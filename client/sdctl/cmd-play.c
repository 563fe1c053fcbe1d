/*
 * sdctl play and sdctl playrec: files streamed through the rings, so an
 * hour-long file uses no more memory than a short one.  --loop and
 * --detach hand the whole sound to the daemon instead.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audiofile.h"
#include "sdctl.h"

#define CHUNK_FRAMES 4096

/* Detached sounds must fit the shared memory the daemon gives one stream. */
#define DETACH_MAX_BYTES (32u * 1024 * 1024)

/* Opens a file to play with the options' raw description and format. */
static int open_input(const char *path, const struct audio_opts *a, struct audiofile *f)
{
	struct audiofile_raw raw = { a->channels, a->rate, a->dtype };

	return audiofile_open_read(f, path, a->raw || audiofile_is_raw_path(path) ? &raw : NULL,
				   a->dtype);
}

/* Prints a final status as JSON (for --json). */
static void print_status_json(const char *path, const sdc_status *st)
{
	char flags[128];

	printf("{\"file\":\"%s\",\"handle\":%u,\"state\":\"%s\",\"xruns\":%u,\"flags\":\"%s\","
	       "\"frames_played\":%llu,\"frames_recorded\":%llu,\"underflow_frames\":%llu,"
	       "\"overflow_frames\":%llu}\n",
	       path, st->handle, st->state == SDC_STATE_FAILED ? "failed" : "finished", st->xruns,
	       sdc_flags_text(st->flags, flags, sizeof(flags)), st->frames_played,
	       st->frames_recorded, st->underflow_frames, st->overflow_frames);
}

/*
 * Says in one line that the daemon went away during a transfer and how far
 * it got (of total frames, when known); returns exit status 1.
 */
static int report_lost(const char *what, const char *done, unsigned long long frames,
		       long long total, double rate)
{
	const sdc_error *e = sdc_last_error();

	if (total > 0)
		fprintf(stderr, "sdctl: %s: %s; %.1f s of %.1f s %s\n", what, e->message,
			(double)frames / rate, (double)total / rate, done);
	else
		fprintf(stderr, "sdctl: %s: %s; %.1f s %s\n", what, e->message, (double)frames / rate, done);
	return 1;
}

/* Plays a whole file from memory (for --loop and --detach). */
static int play_whole(struct sdctl *ctl, sdc_client *c, const char *path, struct audiofile *f,
		      sdc_play_params *p, int detach)
{
	size_t frame_bytes = sdc_dtype_size(f->dtype) * (size_t)f->info.channels;
	unsigned char *data;
	unsigned handle;
	sdc_status st;
	long long n;
	int r;

	if (f->frames <= 0 || (size_t)f->frames * frame_bytes > DETACH_MAX_BYTES) {
		fprintf(stderr, "sdctl: '%s' is too long (or of unknown length) to hand over whole; at most %u MiB\n",
			path, DETACH_MAX_BYTES >> 20);
		return 1;
	}
	data = malloc((size_t)f->frames * frame_bytes);
	if (!data)
		return 1;
	n = audiofile_read(f, data, (size_t)f->frames);
	if (n <= 0) {
		free(data);
		fprintf(stderr, "sdctl: cannot read '%s'\n", path);
		return 1;
	}
	p->detach = detach;
	r = sdc_play(c, data, (size_t)n, p, &handle);
	free(data);
	if (r < 0)
		return sdctl_interrupted ? 130 : sdctl_fail(path);
	if (detach) {
		if (ctl->json)
			printf("{\"file\":\"%s\",\"handle\":%u,\"detached\":true}\n", path, handle);
		return 0;
	}
	/* A signal that came while the sound was handed over interrupts no wait: check. */
	r = sdctl_interrupted ? -EINTR : sdc_wait(c, handle, &st);
	if (r < 0) {
		if (!sdctl_interrupted)
			return sdctl_fail(path);
		sdc_stop(c, handle);
		/* Without a status (the connection may be gone) there is nothing to report. */
		if (sdc_get_status(c, handle, &st) < 0)
			return 130;
	}
	if (ctl->json)
		print_status_json(path, &st);
	sdctl_report_xruns(path, &st);
	return sdctl_interrupted ? 130 : st.state == SDC_STATE_FAILED;
}

/* Streams one file through a playback ring. */
static int play_stream(struct sdctl *ctl, sdc_client *c, const char *path, struct audiofile *f,
		       sdc_play_params *p)
{
	size_t frame_bytes = sdc_dtype_size(f->dtype) * (size_t)f->info.channels;
	unsigned char *buf = malloc(CHUNK_FRAMES * frame_bytes);
	sdc_stream *s = NULL;
	unsigned handle = 0;
	sdc_status st;
	int status = 0;

	if (!buf)
		return 1;
	if (sdc_play_open(c, p, f->frames, &s) < 0) {
		free(buf);
		return sdctl_fail(path);
	}
	handle = sdc_stream_handle(s);
	for (;;) {
		long long n = audiofile_read(f, buf, CHUNK_FRAMES);

		if (n < 0) {
			fprintf(stderr, "sdctl: cannot read '%s'\n", path);
			status = 1;
			break;
		}
		if (n == 0)
			break;
		if (sdc_stream_write(s, buf, (size_t)n) != n) {
			if (!sdctl_interrupted && sdc_stream_status(s, &st) == 0 &&
			    st.state != SDC_STATE_FAILED)
				status = sdctl_fail(path);
			break;
		}
	}
	free(buf);
	if (sdctl_interrupted || status) {
		sdc_stop(c, handle);
	} else {
		sdc_stream_end(s);
		if (sdc_wait(c, handle, &st) < 0 && sdctl_interrupted)
			sdc_stop(c, handle);
	}
	if (sdc_get_status(c, handle, &st) == 0) {
		if (ctl->json)
			print_status_json(path, &st);
		sdctl_report_xruns(path, &st);
		if (st.state == SDC_STATE_FAILED)
			status = 1;
	} else if (!sdctl_interrupted) {
		/* The daemon is gone: what the stream's memory says is all there is. */
		sdc_stream_status(s, &st);
		if (ctl->json)
			print_status_json(path, &st);
		status = report_lost(path, "played", st.frames_played, f->frames,
				     sdc_stream_samplerate(s));
	}
	sdc_stream_close(s);
	return sdctl_interrupted ? 130 : status;
}

int sdctl_cmd_play(struct sdctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		SDCTL_AUDIO_LONG_OPTIONS,
		{ "loop", no_argument, NULL, 'l' },
		{ "detach", no_argument, NULL, 'D' },
		{ 0 },
	};
	struct audio_opts a = { 0 };
	char in_buf[256], out_buf[256];
	int opt, loop = 0, detach = 0, status = 0;
	sdc_client *c;

	while ((opt = getopt_long(argc, argv, SDCTL_AUDIO_SHORT_OPTIONS, options, NULL)) != -1) {
		int r = sdctl_audio_option(ctl, "play", opt, optarg, &a);

		if (r > 1)
			return r;
		if (r == 1)
			continue;
		if (opt == 'l')
			loop = 1;
		else if (opt == 'D')
			detach = 1;
		else
			return sdctl_usage_error("play", "unknown option");
	}
	if (optind >= argc)
		return sdctl_usage_error("play", "no FILE to play");
	if (loop && detach)
		return sdctl_usage_error("play", "--loop and --detach do not go together");
	c = sdctl_client(ctl);
	if (!c)
		return 1;
	sdctl_catch_signals();
	for (int i = optind; i < argc && !sdctl_interrupted && !status; i++) {
		struct audiofile f;
		sdc_play_params p = { 0 };

		if (open_input(argv[i], &a, &f) < 0)
			return 1;
		sdctl_stream_options(&a, &p.opt, in_buf, out_buf, sizeof(in_buf));
		p.channels = f.info.channels;
		p.dtype = f.dtype;
		p.mapping = a.mapping_count ? a.mapping : NULL;
		p.mapping_count = a.mapping_count;
		p.loop = loop;
		if (!a.rate)
			p.opt.samplerate = f.info.samplerate;
		if (loop || detach)
			status = play_whole(ctl, c, argv[i], &f, &p, detach);
		else
			status = play_stream(ctl, c, argv[i], &f, &p);
		audiofile_close(&f);
	}
	return status;
}

int sdctl_cmd_playrec(struct sdctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		SDCTL_AUDIO_LONG_OPTIONS,
		{ "input-mapping", required_argument, NULL, 'i' },
		{ 0 },
	};
	struct audio_opts a = { 0 }, in_map = { 0 };
	char in_buf[256], out_buf[256];
	struct audiofile in, out;
	sdc_playrec_params p = { 0 };
	unsigned char *wbuf = NULL, *rbuf = NULL;
	size_t wframe, rframe;
	sdc_stream *s = NULL;
	unsigned handle;
	sdc_status st;
	int opt, status = 0, ended = 0;
	sdc_client *c;

	while ((opt = getopt_long(argc, argv, SDCTL_AUDIO_SHORT_OPTIONS "i:", options, NULL)) != -1) {
		int r = sdctl_audio_option(ctl, "playrec", opt, optarg, &a);

		if (r > 1)
			return r;
		if (r == 1)
			continue;
		if (opt == 'i') {
			r = sdctl_audio_option(ctl, "playrec", 'm', optarg, &in_map);
			if (r > 1)
				return r;
		} else {
			return sdctl_usage_error("playrec", "unknown option");
		}
	}
	if (argc - optind != 2)
		return sdctl_usage_error("playrec", "give the file to play and the file to record into");
	c = sdctl_client(ctl);
	if (!c)
		return 1;
	{
		/* -c and -f describe the recording; the played file describes itself. */
		struct audio_opts play_opts = a;

		play_opts.dtype = a.raw || audiofile_is_raw_path(argv[optind]) ? a.dtype : 0;
		if (open_input(argv[optind], &play_opts, &in) < 0)
			return 1;
	}
	sdctl_stream_options(&a, &p.opt, in_buf, out_buf, sizeof(in_buf));
	if (!a.rate)
		p.opt.samplerate = in.info.samplerate;
	p.data_channels = in.info.channels;
	p.data_dtype = in.dtype;
	p.channels = in_map.mapping_count ? in_map.mapping_count : a.channels ? a.channels : in.info.channels;
	p.dtype = a.dtype ? a.dtype : in.dtype;
	p.output_mapping = a.mapping_count ? a.mapping : NULL;
	p.output_mapping_count = a.mapping_count;
	p.input_mapping = in_map.mapping_count ? in_map.mapping : NULL;
	p.input_mapping_count = in_map.mapping_count;
	sdctl_catch_signals();
	if (sdc_playrec_open(c, &p, in.frames, &s) < 0) {
		audiofile_close(&in);
		return sdctl_fail(NULL);
	}
	handle = sdc_stream_handle(s);
	if (audiofile_open_write(&out, argv[optind + 1], p.dtype, p.channels,
				 sdc_stream_samplerate(s)) < 0) {
		sdc_stop(c, handle);
		sdc_stream_close(s);
		audiofile_close(&in);
		return 1;
	}
	wframe = sdc_dtype_size(in.dtype) * (size_t)p.data_channels;
	rframe = sdc_dtype_size(p.dtype) * (size_t)p.channels;
	wbuf = malloc(CHUNK_FRAMES * wframe);
	rbuf = malloc(CHUNK_FRAMES * rframe);
	while (wbuf && rbuf && !sdctl_interrupted) {
		long long n;

		if (!ended) {
			n = audiofile_read(&in, wbuf, CHUNK_FRAMES);
			if (n <= 0) {
				sdc_stream_end(s);
				ended = 1;
			} else if (sdc_stream_write(s, wbuf, (size_t)n) != n) {
				ended = 1;
			}
		}
		/* While playing, take what has arrived; after the end, wait for the rest. */
		n = ended ? sdc_stream_read(s, rbuf, CHUNK_FRAMES)
			  : sdc_stream_read_some(s, rbuf, CHUNK_FRAMES, 0);
		if (n < 0)
			break;
		if (n > 0 && audiofile_write(&out, rbuf, (size_t)n) < 0) {
			status = 1;
			break;
		}
		if (ended && n == 0)
			break;
	}
	free(wbuf);
	free(rbuf);
	if (sdctl_interrupted || status)
		sdc_stop(c, handle);
	if (audiofile_close(&out) < 0)
		status = 1;
	audiofile_close(&in);
	if (sdc_wait(c, handle, &st) == 0) {
		if (ctl->json)
			print_status_json(argv[optind + 1], &st);
		sdctl_report_xruns("playrec", &st);
		if (st.state == SDC_STATE_FAILED)
			status = 1;
	} else if (!sdctl_interrupted) {
		/* The daemon is gone; what was recorded is in the file. */
		sdc_stream_status(s, &st);
		if (ctl->json)
			print_status_json(argv[optind + 1], &st);
		status = report_lost(argv[optind + 1], "recorded", st.frames_recorded, in.frames,
				     sdc_stream_samplerate(s));
	}
	sdc_stream_close(s);
	return sdctl_interrupted ? 130 : status;
}
