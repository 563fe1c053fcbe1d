/*
 * sdctl playrec: plays IN and records OUT at the same time, for as long as
 * IN lasts; either may be "-".  IN is decoded straight into the playback
 * ring and the recording encoded straight from the capture ring.  On a
 * terminal a status line shows the time, the levels recorded and the
 * xruns.  Main thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audiofile.h"
#include "play-view.h"
#include "sdctl.h"

#define CHUNK_FRAMES 8192
#define RING_SECONDS 2

static void print_result(const char *in, const char *out, const sdc_status *st, double rate,
			 int channels, sdc_dtype dtype, long long frames)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "play_file", json_object_new_string(in));
	json_object_object_add(o, "rec_file", json_object_new_string(out));
	sdctl_json_add_format(o, rate, channels, dtype, frames);
	sdctl_json_add_status(o, st, true, true);
	sdctl_json_print(o);
}

int sdctl_cmd_playrec(struct sdctl *ctl, int argc, char **argv)
{
	const struct sdctl_opts *o = &ctl->o;
	struct audiofile_spec in_spec = { o->type, o->raw, o->channels, o->rate, o->dtype };
	struct audiofile_spec out_spec = { o->type, o->raw, 0, 0, 0 };
	struct statusline line;
	struct play_view view = { &line, "PLAYREC", 0, 1 };
	char in_buf[256], out_buf[256];
	struct audiofile in, out;
	sdc_playrec_params p = { 0 };
	sdc_dtype file_dtype;
	struct meter levels;
	sdc_stream *s = NULL;
	unsigned handle;
	sdc_status st = { 0 };
	long long recorded = 0, played = 0;
	double rate;
	int status = 0, ended = 0;
	sdc_client *c;

	if (argc != 2)
		return sdctl_usage_error(ctl, "give the file to play and the file to record into");
	c = sdctl_client(ctl);
	if (!c)
		return 1;
	/* -c and -f describe the recording; the played file describes itself unless headerless. */
	if (!audiofile_is_raw(argv[0], &in_spec))
		in_spec.dtype = 0;
	if (audiofile_open_read(&in, argv[0], &in_spec,
				in_spec.dtype == SDC_FLOAT64 ? SDC_FLOAT32 : in_spec.dtype) < 0)
		return sdctl_error(ctl, "file_error", "%s", audiofile_error());
	status = sdctl_check_file_rate(ctl, o, argv[0], &in_spec, in.info.samplerate);
	if (status) {
		audiofile_close(&in);
		return status;
	}
	sdctl_stream_options(o, &p.opt, in_buf, out_buf, sizeof(in_buf));
	p.opt.samplerate = o->rate ? o->rate : in.info.samplerate;
	p.opt.buffer_frames = (unsigned)(p.opt.samplerate * RING_SECONDS);
	p.data_channels = in.info.channels;
	p.data_dtype = in.dtype;
	p.channels = o->input_mapping_count ? o->input_mapping_count
		     : o->channels	    ? o->channels
					    : in.info.channels;
	file_dtype = o->dtype ? o->dtype : in.dtype;
	/* float64 recordings travel as float32; libsndfile widens them into the file. */
	p.dtype = file_dtype == SDC_FLOAT64 ? SDC_FLOAT32 : file_dtype;
	p.output_mapping = o->mapping_count ? o->mapping : NULL;
	p.output_mapping_count = o->mapping_count;
	p.input_mapping = o->input_mapping_count ? o->input_mapping : NULL;
	p.input_mapping_count = o->input_mapping_count;
	sdctl_catch_signals();
	if (sdc_playrec_open(c, &p, in.frames, &s) < 0) {
		audiofile_close(&in);
		return sdctl_interrupted ? 130 : sdctl_fail(ctl, NULL);
	}
	handle = sdc_stream_handle(s);
	rate = sdc_stream_samplerate(s);
	if (audiofile_open_write(&out, argv[1], &out_spec, file_dtype, p.channels, rate) < 0) {
		status = sdctl_error(ctl, "file_error", "%s", audiofile_error());
		sdc_stop(c, handle);
		sdc_stream_close(s);
		audiofile_close(&in);
		return status;
	}
	out.dtype = p.dtype;
	statusline_init(&line, stderr, !ctl->quiet && !ctl->json);
	meter_init(&levels, p.channels);
	while (!sdctl_interrupted) {
		const void *got;
		long long n;
		int moved = 0;

		if (!ended) {
			void *room;

			n = sdc_stream_begin_write(s, &room, CHUNK_FRAMES, 0);
			if (n > 0) {
				n = audiofile_read(&in, room, (size_t)n);
				if (n < 0) {
					status = sdctl_error(ctl, "file_error", "%s",
							     audiofile_error());
					break;
				}
				if (n == 0) {
					sdc_stream_end(s);
					ended = 1;
				} else {
					sdc_stream_commit_write(s, (size_t)n);
					played += n;
				}
				moved = 1;
			} else if (n < 0 || sdc_stream_status(s, &st) < 0 ||
				   st.state >= SDC_STATE_FINISHED) {
				ended = 1; /* the stream ended early: take what was recorded */
			}
		}
		/* While playing, take what has arrived; after the end, wait for the rest. */
		n = sdc_stream_begin_read(s, &got, CHUNK_FRAMES, ended ? -1 : moved ? 0 : 20);
		if (n < 0) {
			/* A lost daemon is reported below, with what was kept. */
			if (!sdctl_interrupted && !sdctl_daemon_lost(s, &st))
				status = sdctl_fail(ctl, NULL);
			break;
		}
		/*
		 * A playrec of unknown length (IN is a pipe) records until the
		 * daemon ends it, a period or so past IN's end: the recording
		 * keeps as many frames as were played.
		 */
		if (ended && in.frames < 0 && n > played - recorded)
			n = played - recorded;
		if (n > 0) {
			if (statusline_on(&line))
				meter_add(&levels, got, (size_t)n, p.dtype, p.channels);
			if (audiofile_write(&out, got, (size_t)n) < 0) {
				status = sdctl_error(ctl, "file_error", "%s", audiofile_error());
				break;
			}
			sdc_stream_commit_read(s, (size_t)n);
			recorded += n;
		} else if (ended) {
			break;
		}
		if (ended && in.frames < 0 && recorded == played)
			break;
		if (statusline_due(&line, 0.1) && sdc_stream_status(s, &st) == 0) {
			/* The levels recorded since the last draw. */
			play_view_draw(&view, &st, rate, in.frames, &levels);
			meter_reset(&levels);
		}
	}
	if (statusline_on(&line) && sdc_stream_status(s, &st) == 0)
		play_view_draw(&view, &st, rate, in.frames, &levels);
	statusline_end(&line);
	if (sdctl_interrupted || status)
		sdc_stop(c, handle);
	if (audiofile_close(&out) < 0 && !status)
		status = sdctl_error(ctl, "file_error", "%s", audiofile_error());
	audiofile_close(&in);
	if (sdc_wait(c, handle, &st) == 0) {
		if (ctl->json)
			print_result(argv[0], argv[1], &st, rate, p.channels, file_dtype, recorded);
		sdctl_report_xruns(ctl, "playrec", &st);
		if (st.state == SDC_STATE_FAILED && !status)
			status = 1;
	} else if (!sdctl_interrupted && !status && sdctl_daemon_lost(s, &st)) {
		/* The daemon is gone; what was recorded is in the file. */
		if (ctl->json)
			print_result(argv[0], argv[1], &st, rate, p.channels, file_dtype, recorded);
		status = sdctl_error(ctl, "disconnected", "%s: %s; the %.1f s recorded are kept",
				     argv[1], st.error, (double)recorded / rate);
	}
	sdc_stream_close(s);
	return sdctl_interrupted ? 130 : status;
}
