/*
 * sdctl meter: a live peak and RMS meter of the input, per channel, in
 * dBFS, until SIGINT/SIGTERM or until -t SECONDS of frames have been
 * measured.  Every --interval seconds of frames (0.1 by default) makes one
 * refresh: on a terminal a line of bars redrawn in place, with CLIP where a
 * sample reached full scale; otherwise one plain line per refresh for
 * programs ("time=0.100 peak1=-0.0 rms1=-3.0 clip1=0 ...", see
 * meter_print_plain()); with --json one JSON object per refresh and a last
 * one with the totals.  Time counts frames, not the clock, so -t 1 gives
 * ten refreshes on any device.  It reads a blocking input stream of
 * libsdc's stream API on the main thread.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meter.h"
#include "sdctl.h"

#define METER_DEFAULT_INTERVAL 0.1

/* A JSON number printed with the given digits after the point. */
static json_object *json_fixed(double v, int digits)
{
	char text[32];

	snprintf(text, sizeof(text), "%.*f", digits, v);
	return json_object_new_double_s(v, text);
}

/* Prints one refresh as a JSON object on its own line. */
static void print_refresh_json(const struct meter *m, double time)
{
	json_object *o = json_object_new_object(), *list = json_object_new_array();

	json_object_object_add(o, "time", json_fixed(time, 3));
	for (int c = 0; c < m->channels; c++) {
		json_object *ch = json_object_new_object();

		json_object_object_add(ch, "channel", json_object_new_int(m->source[c] + 1));
		json_object_object_add(ch, "peak_dbfs", json_fixed(meter_peak_db(m, c), 1));
		json_object_object_add(ch, "rms_dbfs", json_fixed(meter_rms_db(m, c), 1));
		json_object_object_add(ch, "clip", json_object_new_boolean(m->clipped[c]));
		json_object_array_add(list, ch);
	}
	json_object_object_add(o, "channels", list);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/* Shows one refresh in the form stdout wants. */
static void show_refresh(struct sdctl *ctl, const struct meter *m, double time, int tty)
{
	if (ctl->json) {
		print_refresh_json(m, time);
	} else if (tty) {
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "\r%7.1f s", time);
		meter_print(m, stdout, prefix, 20);
		fputs("\033[K", stdout);
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

int sdctl_cmd_meter(struct sdctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		SDCTL_AUDIO_LONG_OPTIONS,
		{ "interval", required_argument, NULL, 'i' },
		{ 0 },
	};
	struct audio_opts a = { 0 };
	char dev_buf[256], flags[128];
	int chans[METER_MAX_CHANNELS], nchans, max_chan = 0, opt, status = 0;
	int tty;
	double interval = METER_DEFAULT_INTERVAL, rate;
	unsigned long long total = 0, done = 0, window;
	sdc_stream_params p = { 0 };
	unsigned char *buf = NULL;
	struct meter meter;
	sdc_dtype dtype;
	sdc_status st;
	sdc_stream *s;
	sdc_client *c;
	int channels;

	while ((opt = getopt_long(argc, argv, SDCTL_AUDIO_SHORT_OPTIONS "i:", options, NULL)) != -1) {
		int r = sdctl_audio_option(ctl, "meter", opt, optarg, &a);

		if (r > 1)
			return r;
		if (r == 1)
			continue;
		if (opt == 'i' && sdctl_parse_double(optarg, 0.001, 3600, &interval) == 0)
			continue;
		if (opt == 'i')
			return sdctl_usage_error("meter", "invalid interval '%s'", optarg);
		return sdctl_usage_error("meter", "unknown option");
	}
	if (a.mapping_count || a.raw || a.output_device)
		return sdctl_usage_error("meter", "-m, --raw and --output-device are not for meter");
	nchans = parse_channels(argc - optind, argv + optind, chans, &max_chan);
	if (nchans < 0)
		return sdctl_usage_error("meter", "CHANNEL must be a channel number from 1 (at most %d of them)",
					 METER_MAX_CHANNELS);
	if (nchans && a.channels && max_chan > a.channels)
		return sdctl_usage_error("meter", "channel %d is beyond -c %d", max_chan, a.channels);
	/* After the options: --json may come after the subcommand's name. */
	tty = isatty(1) && !ctl->json;
	sdctl_catch_signals();
	c = sdctl_client(ctl);
	if (!c)
		return sdctl_interrupted ? 0 : 1;
	p.kind = SDC_STREAM_INPUT;
	p.samplerate = a.rate;
	p.blocksize = a.blocksize;
	p.device[0] = sdctl_audio_device(&a, SDC_KIND_INPUT, dev_buf, sizeof(dev_buf));
	p.dtype[0] = a.dtype ? a.dtype : SDC_FLOAT32;
	p.latency[0] = a.latency;
	p.exclusive = a.exclusive ? SDC_YES : 0;
	if (a.channels) {
		p.channels[0] = a.channels;
	} else if (nchans) {
		p.channels[0] = max_chan;
	} else {
		/* Without channels: the first two (one on a mono device). */
		sdc_device_info info;

		if (sdc_query_device(c, p.device[0], SDC_KIND_INPUT, &info) < 0)
			return sdctl_interrupted ? 0 : sdctl_fail_json(ctl, NULL);
		p.channels[0] = info.max_input_channels < 2 ? info.max_input_channels : 2;
		sdc_device_info_clear(&info);
	}
	/* Ctrl-C is how meter ends: one during the set-up is no failure. */
	if (sdc_stream_open(c, &p, &s) < 0)
		return sdctl_interrupted ? 0 : sdctl_fail_json(ctl, NULL);
	rate = sdc_stream_samplerate(s);
	channels = sdc_stream_channels(s, SDC_KIND_INPUT);
	dtype = sdc_stream_dtype(s, SDC_KIND_INPUT);
	if (nchans)
		meter_select(&meter, chans, nchans);
	else
		meter_init(&meter, channels);
	window = (unsigned long long)(interval * rate + 0.5);
	if (window == 0)
		window = 1;
	if (a.seconds > 0)
		total = (unsigned long long)(a.seconds * rate + 0.5);
	buf = malloc((size_t)window * sdc_stream_samplesize(s, SDC_KIND_INPUT) * (size_t)channels);
	if (!buf) {
		fprintf(stderr, "sdctl: out of memory\n");
		sdc_stream_close(s);
		return 1;
	}
	if (sdc_stream_start(s) < 0) {
		status = sdctl_interrupted ? 0 : sdctl_fail_json(ctl, NULL);
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
				status = sdctl_fail(NULL);
			break;
		}
		meter_add(&meter, buf, (size_t)n, dtype, channels);
		done += (unsigned long long)n;
		if (meter.count >= window || (total && done >= total)) {
			show_refresh(ctl, &meter, (double)done / rate, tty);
			meter_reset(&meter);
		}
		if ((unsigned long long)n < want)
			break; /* the stream ended (the device went away) */
	}
	/* What was measured of an interrupted window still shows. */
	if (meter.count)
		show_refresh(ctl, &meter, (double)done / rate, tty);
	if (tty)
		fputc('\n', stdout);
	sdc_stream_stop(s);
	if (sdc_get_status(c, sdc_stream_handle(s), &st) < 0)
		sdc_stream_status(s, &st);
	if (ctl->json)
		printf("{\"frames\":%llu,\"samplerate\":%g,\"state\":\"%s\",\"xruns\":%u,\"flags\":\"%s\","
		       "\"overflow_frames\":%llu}\n",
		       done, rate, st.state == SDC_STATE_FAILED ? "failed" : "finished", st.xruns,
		       sdc_flags_text(st.flags, flags, sizeof(flags)), st.overflow_frames);
	sdctl_report_xruns("meter", &st);
	if (st.state == SDC_STATE_FAILED)
		status = 1;
out:
	free(buf);
	sdc_stream_close(s);
	return status;
}
