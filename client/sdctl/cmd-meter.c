/*
 * sdctl meter: a live peak and RMS meter of the input, per channel, in
 * dBFS, until SIGINT/SIGTERM or until -t SECONDS of frames have been
 * measured.  Every --interval seconds of frames (0.1 by default) makes one
 * refresh: on a terminal the status line, redrawn in place and fitted to
 * its width, with CLIP where a sample reached full scale; otherwise (and
 * with -q) one plain line per refresh for programs ("time=0.100
 * peak1=-0.0 rms1=-3.0 clip1=0 ...", see meter_print_plain()); with --json
 * one JSON object per refresh and a last one, "final": true, with the
 * levels of the whole measurement.  Time counts frames, not the clock, so
 * -t 1 gives ten refreshes on any device.  It reads a blocking input
 * stream of libsdc's stream API on the main thread.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meter.h"
#include "sdctl.h"
#include "statusline.h"

#define METER_DEFAULT_INTERVAL 0.1

/* A JSON number printed with the given digits after the point. */
static json_object *json_fixed(double v, int digits)
{
	char text[32];

	snprintf(text, sizeof(text), "%.*f", digits, v);
	return json_object_new_double_s(v, text);
}

/* Prints one refresh (or the final totals) as a JSON object on its own line. */
static void print_json(const struct meter *m, double time, unsigned long long frames, double rate,
		       const sdc_status *st, bool final)
{
	json_object *o = json_object_new_object(), *list = json_object_new_array();

	json_object_object_add(o, "time", json_fixed(time, 3));
	json_object_object_add(o, "frames", json_object_new_int64((int64_t)frames));
	json_object_object_add(o, "samplerate", json_object_new_double(rate));
	for (int c = 0; c < m->channels; c++) {
		json_object *ch = json_object_new_object();

		json_object_object_add(ch, "channel", json_object_new_int(m->source[c] + 1));
		json_object_object_add(ch, "peak_dbfs", json_fixed(meter_peak_db(m, c), 1));
		json_object_object_add(ch, "rms_dbfs", json_fixed(meter_rms_db(m, c), 1));
		json_object_object_add(ch, "clip", json_object_new_boolean(m->clipped[c]));
		json_object_array_add(list, ch);
	}
	json_object_object_add(o, "levels", list);
	json_object_object_add(o, "final", json_object_new_boolean(final));
	sdctl_json_add_status(o, st, false, true);
	sdctl_json_print(o);
}

/* Shows one refresh in the form stdout wants. */
static void show_refresh(struct sdctl *ctl, struct statusline *line, const struct meter *m,
			 sdc_stream *s, unsigned long long done, double rate)
{
	double time = (double)done / rate;

	if (ctl->json) {
		sdc_status st;

		sdc_stream_status(s, &st);
		print_json(m, time, done, rate, &st, false);
	} else if (statusline_on(line)) {
		char head[32];

		snprintf(head, sizeof(head), "%7.1f s", time);
		statusline_draw(line, head, m, true, "");
	} else {
		meter_print_plain(m, stdout, time);
	}
	fflush(stdout);
}

/* Parses the CHANNEL arguments (numbered from 1) into chans; returns their count or -EINVAL. */
static int parse_channels(int argc, char **argv, int *chans, int *ret_max)
{
	int n = 0, max = 0;

	for (int i = 0; i < argc; i++) {
		if (n >= METER_MAX_CHANNELS || sdctl_parse_int(argv[i], 1, 1024, &chans[n]) < 0)
			return -EINVAL;
		if (chans[n] > max)
			max = chans[n];
		n++;
	}
	*ret_max = max;
	return n;
}

/* Folds the levels of one refresh into the totals. */
static void meter_merge(struct meter *total, const struct meter *m)
{
	for (int c = 0; c < m->channels; c++) {
		if (m->peak[c] > total->peak[c])
			total->peak[c] = m->peak[c];
		total->sumsq[c] += m->sumsq[c];
		total->clipped[c] |= m->clipped[c];
	}
	total->count += m->count;
}

int sdctl_cmd_meter(struct sdctl *ctl, int argc, char **argv)
{
	const struct sdctl_opts *o = &ctl->o;
	char dev_buf[256];
	int chans[METER_MAX_CHANNELS], nchans, max_chan = 0, status = 0, channels;
	double interval = o->interval > 0 ? o->interval : METER_DEFAULT_INTERVAL, rate;
	unsigned long long total = 0, done = 0, window;
	sdc_stream_params p = { 0 };
	unsigned char *buf = NULL;
	struct statusline line;
	struct meter meter, all;
	sdc_dtype dtype;
	sdc_status st;
	sdc_stream *s;
	sdc_client *c;

	nchans = parse_channels(argc, argv, chans, &max_chan);
	if (nchans < 0)
		return sdctl_usage_error(
			ctl, "CHANNEL must be a channel number from 1 (at most %d of them)",
			METER_MAX_CHANNELS);
	if (nchans && o->channels && max_chan > o->channels)
		return sdctl_usage_error(ctl, "channel %d is beyond -c %d", max_chan, o->channels);
	statusline_init(&line, stdout, !ctl->json && !ctl->quiet);
	sdctl_catch_signals();
	c = sdctl_client(ctl);
	if (!c)
		return sdctl_interrupted ? 0 : 1;
	p.kind = SDC_STREAM_INPUT;
	p.samplerate = o->rate;
	p.blocksize = o->blocksize;
	p.device[0] = sdctl_audio_device(o, SDC_KIND_INPUT, dev_buf, sizeof(dev_buf));
	p.dtype[0] = o->dtype ? o->dtype : SDC_FLOAT32;
	p.latency[0] = o->latency;
	p.exclusive = o->exclusive ? SDC_YES : 0;
	if (o->channels) {
		p.channels[0] = o->channels;
	} else if (nchans) {
		p.channels[0] = max_chan;
	} else {
		/* Without channels: the first two (one on a mono device). */
		sdc_device_info info;

		if (sdc_query_device(c, p.device[0], SDC_KIND_INPUT, &info) < 0)
			return sdctl_interrupted ? 0 : sdctl_fail(ctl, NULL);
		p.channels[0] = info.max_input_channels < 2 ? info.max_input_channels : 2;
		sdc_device_info_clear(&info);
	}
	/* Ctrl-C is how meter ends: one during the set-up is no failure. */
	if (sdc_stream_open(c, &p, &s) < 0)
		return sdctl_interrupted ? 0 : sdctl_fail(ctl, NULL);
	rate = sdc_stream_samplerate(s);
	channels = sdc_stream_channels(s, SDC_KIND_INPUT);
	dtype = sdc_stream_dtype(s, SDC_KIND_INPUT);
	if (nchans)
		meter_select(&meter, chans, nchans);
	else
		meter_init(&meter, channels);
	all = meter;
	window = (unsigned long long)(interval * rate + 0.5);
	if (window == 0)
		window = 1;
	if (o->seconds > 0)
		total = (unsigned long long)(o->seconds * rate + 0.5);
	buf = malloc((size_t)window * sdc_stream_samplesize(s, SDC_KIND_INPUT) * (size_t)channels);
	if (!buf) {
		status = sdctl_error(ctl, "client_error", "out of memory");
		sdc_stream_close(s);
		return status;
	}
	if (sdc_stream_start(s) < 0) {
		status = sdctl_interrupted ? 0 : sdctl_fail(ctl, NULL);
		goto out;
	}
	while (!sdctl_interrupted && (!total || done < total)) {
		unsigned long long want = window - meter.count;
		long long n;

		if (total && done + want > total)
			want = total - done;
		n = sdc_stream_read(s, buf, (size_t)want);
		if (n < 0) {
			if (!sdctl_interrupted)
				status = sdctl_fail(ctl, NULL);
			break;
		}
		meter_add(&meter, buf, (size_t)n, dtype, channels);
		done += (unsigned long long)n;
		if (meter.count >= window || (total && done >= total)) {
			show_refresh(ctl, &line, &meter, s, done, rate);
			meter_merge(&all, &meter);
			meter_reset(&meter);
		}
		if ((unsigned long long)n < want)
			break; /* the stream ended (the device went away) */
	}
	/* What was measured of an interrupted window still shows. */
	if (meter.count) {
		show_refresh(ctl, &line, &meter, s, done, rate);
		meter_merge(&all, &meter);
	}
	statusline_end(&line);
	sdc_stream_stop(s);
	if (sdc_get_status(c, sdc_stream_handle(s), &st) < 0)
		sdc_stream_status(s, &st);
	if (ctl->json)
		print_json(&all, (double)done / rate, done, rate, &st, true);
	sdctl_report_xruns(ctl, "meter", &st);
	if (st.state == SDC_STATE_FAILED && !status)
		status = 1;
out:
	free(buf);
	sdc_stream_close(s);
	return status;
}
