/*
 * sdctl rec: records into a file (or standard output) until -t SECONDS
 * have been captured or SIGINT/SIGTERM arrives, encoding straight from
 * the capture ring, then reports any xrun.  Every frame captured is in the
 * file.  On a terminal a status line shows the time, levels and xruns.
 * Main thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audiofile.h"
#include "meter.h"
#include "sdctl.h"
#include "statusline.h"

#define CHUNK_FRAMES 8192

/* The ring is this long, so that a slow disk (or reader of the pipe) never costs a frame. */
#define REC_BUFFER_SECONDS 4

static void print_result(const char *path, const sdc_status *st, double rate, int channels,
			 sdc_dtype dtype, unsigned long long frames)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "file", json_object_new_string(path));
	sdctl_json_add_format(o, rate, channels, dtype, (long long)frames);
	sdctl_json_add_status(o, st, false, true);
	sdctl_json_print(o);
}

/* Draws the status line: time, the levels since the last draw, xruns. */
static void draw(struct statusline *line, sdc_stream *s, struct meter *levels,
		 unsigned long long got, unsigned long long wanted, double rate)
{
	char head[96], tail[32], now[32], all[32];
	sdc_status st = { 0 };
	int n;

	sdc_stream_status(s, &st);
	statusline_time(now, sizeof(now), (double)got / rate);
	n = snprintf(head, sizeof(head), "REC %s", now);
	if (wanted && n > 0) {
		statusline_time(all, sizeof(all), (double)wanted / rate);
		snprintf(head + n, sizeof(head) - (size_t)n, " / %s %3llu%%", all,
			 got * 100 / wanted);
	}
	snprintf(tail, sizeof(tail), "  xruns %u", st.xruns);
	statusline_draw(line, head, levels, false, tail);
	meter_reset(levels);
}

int sdctl_cmd_rec(struct sdctl *ctl, int argc, char **argv)
{
	const struct sdctl_opts *o = &ctl->o;
	struct audiofile_spec spec = { o->type, o->raw, 0, 0, 0 };
	char in_buf[256], out_buf[256];
	sdc_rec_params p = { 0 };
	struct statusline line;
	struct audiofile out;
	struct meter levels;
	unsigned long long wanted = 0, got = 0;
	sdc_dtype file_dtype;
	sdc_stream *s;
	unsigned handle;
	sdc_status st = { 0 };
	int status = 0, stopped = 0, lost, channels;
	double rate;
	sdc_client *c;

	if (argc != 1)
		return sdctl_usage_error(
			ctl, "give exactly one FILE to record into (- for standard output)");
	c = sdctl_client(ctl);
	if (!c)
		return 1;
	sdctl_stream_options(o, &p.opt, in_buf, out_buf, sizeof(in_buf));
	file_dtype = o->dtype ? o->dtype : audiofile_default_dtype(argv[0], &spec);
	/* float64 recordings travel as float32; libsndfile widens them into the file. */
	p.dtype = file_dtype == SDC_FLOAT64 ? SDC_FLOAT32 : file_dtype;
	p.channels = o->channels ? o->channels : 2;
	p.mapping = o->mapping_count ? o->mapping : NULL;
	p.mapping_count = o->mapping_count;
	p.opt.buffer_frames = (unsigned)((o->rate ? o->rate : 48000) * REC_BUFFER_SECONDS);
	p.duration = o->seconds;
	sdctl_catch_signals();
	if (sdc_rec_open(c, &p, -1, &s) < 0)
		return sdctl_interrupted ? 0 : sdctl_fail(ctl, NULL);
	handle = sdc_stream_handle(s);
	rate = sdc_stream_samplerate(s);
	channels = sdc_stream_channels(s, SDC_KIND_INPUT);
	if (audiofile_open_write(&out, argv[0], &spec, file_dtype, channels, rate) < 0) {
		status = sdctl_error(ctl, "file_error", "%s", audiofile_error());
		sdc_stop(c, handle);
		sdc_stream_close(s);
		return status;
	}
	out.dtype = p.dtype;
	if (o->seconds > 0)
		wanted = (unsigned long long)(o->seconds * rate + 0.5);
	statusline_init(&line, stderr, !ctl->quiet && !ctl->json);
	meter_init(&levels, channels);
	for (;;) {
		size_t want = CHUNK_FRAMES;
		const void *frames;
		long long n;

		if (sdctl_interrupted && !stopped) {
			/* Stop capturing; what is in the ring still goes into the file. */
			sdc_stop(c, handle);
			stopped = 1;
		}
		if (wanted && got + want > wanted)
			want = (size_t)(wanted - got);
		if (want == 0)
			break;
		n = sdc_stream_begin_read(s, &frames, want, stopped ? 0 : 200);
		if (n < 0 && !sdctl_interrupted) {
			/* A lost daemon is reported below, with what was kept. */
			if (!sdctl_daemon_lost(s, &st))
				status = sdctl_fail(ctl, NULL);
			break;
		}
		if (n <= 0) {
			sdc_status now;

			/* An ended stream gives what is left before it gives nothing. */
			if (stopped ||
			    (sdc_stream_status(s, &now) == 0 && now.state >= SDC_STATE_FINISHED))
				break;
			if (statusline_due(&line, 0.1))
				draw(&line, s, &levels, got, wanted, rate);
			continue;
		}
		if (statusline_on(&line))
			meter_add(&levels, frames, (size_t)n, p.dtype, channels);
		if (audiofile_write(&out, frames, (size_t)n) < 0) {
			status = sdctl_error(ctl, "file_error", "%s", audiofile_error());
			break;
		}
		sdc_stream_commit_read(s, (size_t)n);
		got += (unsigned long long)n;
		if (statusline_due(&line, 0.1))
			draw(&line, s, &levels, got, wanted, rate);
	}
	if (statusline_on(&line))
		draw(&line, s, &levels, got, wanted, rate);
	statusline_end(&line);
	if (!stopped)
		sdc_stop(c, handle);
	/* Without the daemon, the stream's memory tells how it ended. */
	lost = sdc_get_status(c, handle, &st) < 0 && sdctl_daemon_lost(s, &st);
	sdc_stream_close(s);
	if (audiofile_close(&out) < 0 && !status)
		status = sdctl_error(ctl, "file_error", "%s", audiofile_error());
	if (ctl->json)
		print_result(argv[0], &st, rate, channels, file_dtype, got);
	if (lost && !sdctl_interrupted && !status)
		return sdctl_error(ctl, "disconnected", "%s: %s; the %.1f s recorded are kept",
				   argv[0], st.error, (double)got / rate);
	sdctl_report_xruns(ctl, "rec", &st);
	if (st.state == SDC_STATE_FAILED && !status)
		status = 1;
	return status;
}
