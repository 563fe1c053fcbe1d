/*
 * sdctl play: files (or standard input) decoded straight into the
 * playback ring, so an hour-long file uses no more memory than a short
 * one and no frame is copied on the way.  On a terminal a status line
 * shows the time, the levels of what is heard and the xruns.  --loop and
 * --detach hand the whole sound to the daemon instead.  Main thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audiofile.h"
#include "play-view.h"
#include "sdctl.h"

/* Detached sounds must fit the shared memory the daemon gives one stream. */
#define DETACH_MAX_BYTES (32u * 1024 * 1024)

/* The ring of a streamed file holds this many seconds: the decoder stays that far ahead. */
#define PLAY_RING_SECONDS 2

/* One file's JSON result. */
static void print_result(const char *path, const sdc_status *st, bool detached, double rate,
			 int channels, sdc_dtype dtype, long long frames)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "file", json_object_new_string(path));
	json_object_object_add(o, "detached", json_object_new_boolean(detached));
	sdctl_json_add_format(o, rate, channels, dtype, frames);
	sdctl_json_add_status(o, st, true, false);
	sdctl_json_print(o);
}

/* Reads a whole sound into memory (at most DETACH_MAX_BYTES); returns its frames or -1. */
static long long read_whole(struct sdctl *ctl, struct audiofile *f, unsigned char **ret)
{
	size_t frame_bytes = sdc_dtype_size(f->dtype) * (size_t)f->info.channels;
	size_t max = DETACH_MAX_BYTES / frame_bytes, have = 0,
	       cap = f->frames > 0 ? (size_t)f->frames : 65536;
	unsigned char *data = NULL;

	for (;;) {
		long long n;

		if (cap > max)
			cap = max;
		if (!data || have == cap) {
			unsigned char *more;

			if (data && cap == max) {
				/* Full: is there more to come? */
				unsigned char probe[64];

				if (frame_bytes <= sizeof(probe) &&
				    audiofile_read(f, probe, 1) == 0)
					break;
				free(data);
				sdctl_hint("--detach hands the whole sound over at once; play it "
					   "without --detach.");
				return sdctl_error(ctl, "file_error", "%s is longer than %u MiB",
						   f->name, DETACH_MAX_BYTES >> 20),
				       -1;
			}
			if (data)
				cap *= 2;
			more = realloc(data, (cap > max ? max : cap) * frame_bytes);
			if (!more) {
				free(data);
				return sdctl_error(ctl, "client_error", "out of memory"), -1;
			}
			data = more;
			if (cap > max)
				cap = max;
		}
		n = audiofile_read(f, data + have * frame_bytes, cap - have);
		if (n < 0) {
			free(data);
			return sdctl_error(ctl, "file_error", "%s", audiofile_error()), -1;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	if (have == 0) {
		free(data);
		return sdctl_error(ctl, "file_error", "%s holds no sound", f->name), -1;
	}
	*ret = data;
	return (long long)have;
}

/* Plays a whole sound from memory (for --loop and --detach). */
static int play_whole(struct sdctl *ctl, sdc_client *c, const char *path, struct audiofile *f,
		      sdc_play_params *p, const struct play_view *view)
{
	unsigned char *data;
	unsigned handle;
	sdc_status st = { 0 };
	long long n = read_whole(ctl, f, &data);
	int r;

	if (n < 0)
		return 1;
	p->detach = ctl->o.detach;
	r = sdc_play(c, data, (size_t)n, p, &handle);
	free(data);
	if (r < 0)
		return sdctl_interrupted ? 130 : sdctl_fail(ctl, NULL);
	if (ctl->o.detach) {
		if (sdc_get_status(c, handle, &st) < 0)
			st.handle = handle;
		if (ctl->json)
			print_result(path, &st, true, p->opt.samplerate, p->channels, p->dtype, n);
		else
			printf("handle %u: %s plays on ('sdctl stop %u' stops it)\n", handle, path,
			       handle);
		return 0;
	}
	r = play_view_wait(ctl, c, handle, view, p->opt.samplerate, -1, NULL, &st);
	if (r < 0 && !sdctl_interrupted)
		return sdctl_fail(ctl, NULL);
	if (sdctl_interrupted) {
		sdc_stop(c, handle);
		/* Without a status (the connection may be gone) there is nothing to report. */
		if (sdc_get_status(c, handle, &st) < 0)
			return 130;
	}
	if (ctl->json)
		print_result(path, &st, false, p->opt.samplerate, p->channels, p->dtype, n);
	sdctl_report_xruns(ctl, strcmp(path, "-") ? path : "standard input", &st);
	return sdctl_interrupted ? 130 : st.state == SDC_STATE_FAILED;
}

/* Draws the status line with the levels heard now. */
static void draw(const struct play_view *view, const sdc_status *st, double rate, long long total,
		 const struct meter_history *history, long long decoded)
{
	struct meter levels;

	play_view_draw(view, st, rate, total,
		       play_view_heard(history, st->frames_played, decoded, rate, &levels) ? &levels
											   : NULL);
}

/* Streams one file, decoding it straight into the playback ring. */
static int play_stream(struct sdctl *ctl, sdc_client *c, const char *path, struct audiofile *f,
		       sdc_play_params *p, const struct play_view *view)
{
	struct meter_history *history = NULL;
	struct meter block;
	double rate;
	sdc_stream *s = NULL;
	unsigned handle;
	long long decoded = 0;
	size_t block_frames;
	sdc_status st = { 0 };
	int status = 0, ended = 0;

	p->opt.buffer_frames = (unsigned)(p->opt.samplerate * PLAY_RING_SECONDS);
	if (sdc_play_open(c, p, f->frames, &s) < 0)
		return sdctl_interrupted ? 130 : sdctl_fail(ctl, NULL);
	handle = sdc_stream_handle(s);
	rate = sdc_stream_samplerate(s);
	block_frames = (size_t)(rate / 20) + 1;
	if (statusline_on(view->line)) {
		history = malloc(sizeof(*history));
		if (history)
			meter_history_init(history, f->info.channels);
		meter_init(&block, f->info.channels);
	}
	while (!sdctl_interrupted) {
		void *room;
		long long n = sdc_stream_begin_write(s, &room, block_frames * 4, 100);

		if (n < 0) {
			/* A lost daemon is reported below, with how far it got. */
			if (!sdctl_interrupted && !sdctl_daemon_lost(s, &st))
				status = sdctl_fail(ctl, NULL);
			break;
		}
		if (n == 0) {
			if (sdc_stream_status(s, &st) == 0 && st.state >= SDC_STATE_FINISHED)
				break; /* ended from outside: stopped, or the device failed */
			draw(view, &st, rate, f->frames, history, decoded);
			continue;
		}
		n = audiofile_read(f, room, (size_t)n);
		if (n < 0) {
			status = sdctl_error(ctl, "file_error", "%s", audiofile_error());
			break;
		}
		if (n == 0) {
			ended = 1;
			break;
		}
		if (history) {
			/* The levels of each twentieth of a second, by the position where it ends.
			 */
			size_t frame_bytes = sdc_dtype_size(f->dtype) * (size_t)f->info.channels;

			for (long long done = 0; done < n;) {
				size_t part = block_frames - (size_t)block.count;

				if (part > (size_t)(n - done))
					part = (size_t)(n - done);
				meter_add(&block,
					  (unsigned char *)room + (size_t)done * frame_bytes, part,
					  f->dtype, f->info.channels);
				done += (long long)part;
				if (block.count == block_frames) {
					meter_history_add(history, &block,
							  (unsigned long long)(decoded + done));
					meter_reset(&block);
				}
			}
		}
		sdc_stream_commit_write(s, (size_t)n);
		decoded += n;
		if (statusline_due(view->line, 0.1) && sdc_stream_status(s, &st) == 0)
			draw(view, &st, rate, f->frames, history, decoded);
	}
	if (history && block.count)
		meter_history_add(history, &block, (unsigned long long)decoded);
	if (sdctl_interrupted || status) {
		sdc_stop(c, handle);
	} else if (ended) {
		sdc_stream_end(s);
		if (play_view_wait(ctl, c, handle, view, rate, f->frames, history, &st) < 0 &&
		    sdctl_interrupted)
			sdc_stop(c, handle);
	}
	if (sdc_get_status(c, handle, &st) == 0) {
		/* The line's last state is the stream's last. */
		draw(view, &st, rate, f->frames, history, decoded);
		if (ctl->json)
			print_result(path, &st, false, rate, f->info.channels, f->dtype, decoded);
		sdctl_report_xruns(ctl, strcmp(path, "-") ? path : "standard input", &st);
		if (st.state == SDC_STATE_FAILED && !status)
			status = 1;
	} else if (!sdctl_interrupted && sdctl_daemon_lost(s, &st)) {
		/* The stream's memory tells how far it got. */
		if (ctl->json)
			print_result(path, &st, false, rate, f->info.channels, f->dtype, decoded);
		if (f->frames > 0)
			status = sdctl_error(ctl, "disconnected", "%s: %s; %.1f s of %.1f s played", path,
					     st.error, (double)st.frames_played / rate,
					     (double)f->frames / rate);
		else
			status = sdctl_error(ctl, "disconnected", "%s: %s; %.1f s played", path, st.error,
					     (double)st.frames_played / rate);
	}
	sdc_stream_close(s);
	free(history);
	return sdctl_interrupted ? 130 : status;
}

/* Plays one file: the index-th of count. */
static int play_file(struct sdctl *ctl, sdc_client *c, const char *path, int index, int count)
{
	const struct sdctl_opts *o = &ctl->o;
	struct audiofile_spec spec = { o->type, o->raw, o->channels, o->rate, o->dtype };
	struct statusline line;
	struct play_view view = { &line, "PLAY", index, count };
	char in_buf[256], out_buf[256];
	sdc_play_params p = { 0 };
	struct audiofile f;
	int status;

	/* float64 is no wire format: libsndfile hands float32 over instead, exactly as converted.
	 */
	if (audiofile_open_read(&f, path, &spec, o->dtype == SDC_FLOAT64 ? SDC_FLOAT32 : o->dtype) <
	    0)
		return sdctl_error(ctl, "file_error", "%s", audiofile_error());
	status = sdctl_check_file_rate(ctl, o, path, &spec, f.info.samplerate);
	if (status) {
		audiofile_close(&f);
		return status;
	}
	sdctl_stream_options(o, &p.opt, in_buf, out_buf, sizeof(in_buf));
	p.channels = f.info.channels;
	p.dtype = f.dtype;
	p.mapping = o->mapping_count ? o->mapping : NULL;
	p.mapping_count = o->mapping_count;
	p.loop = o->loop;
	p.opt.samplerate = o->rate ? o->rate : f.info.samplerate;
	statusline_init(&line, stderr, !ctl->quiet && !ctl->json && !o->detach);
	if (o->loop || o->detach)
		status = play_whole(ctl, c, path, &f, &p, &view);
	else
		status = play_stream(ctl, c, path, &f, &p, &view);
	statusline_end(&line);
	audiofile_close(&f);
	return status;
}

int sdctl_cmd_play(struct sdctl *ctl, int argc, char **argv)
{
	int status = 0, stdin_uses = 0;
	sdc_client *c;

	if (argc == 0)
		return sdctl_usage_error(ctl, "no FILE to play (- plays standard input)");
	if (ctl->o.loop && ctl->o.detach)
		return sdctl_usage_error(ctl, "--loop and --detach do not go together");
	for (int i = 0; i < argc; i++)
		stdin_uses += strcmp(argv[i], "-") == 0;
	if (stdin_uses > 1)
		return sdctl_usage_error(ctl, "standard input (-) can be played only once");
	c = sdctl_client(ctl);
	if (!c)
		return 1;
	sdctl_catch_signals();
	for (int i = 0; i < argc && !sdctl_interrupted && !status; i++)
		status = play_file(ctl, c, argv[i], i, argc);
	return status;
}
