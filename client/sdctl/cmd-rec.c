/*
 * sdctl rec: records into a file until -t SECONDS have been captured or
 * SIGINT/SIGTERM arrives, then writes every frame that was captured and
 * reports any xrun.  On a terminal it shows the elapsed time and a meter.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "audiofile.h"
#include "meter.h"
#include "sdctl.h"

#define CHUNK_FRAMES 4096

/* The ring is this long, so that a slow disk never costs a frame. */
#define REC_BUFFER_SECONDS 4

/* The default sample format for a file name: what its container holds well. */
static sdc_dtype default_dtype(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (dot && (strcasecmp(dot, ".ogg") == 0 || strcasecmp(dot, ".oga") == 0 ||
		    strcasecmp(dot, ".raw") == 0 || strcasecmp(dot, ".pcm") == 0))
		return SDC_FLOAT32;
	return SDC_INT24;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int sdctl_cmd_rec(struct sdctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { SDCTL_AUDIO_LONG_OPTIONS, { 0 } };
	struct audio_opts a = { 0 };
	char in_buf[256], out_buf[256], flags[128], lost[1024] = "";
	sdc_rec_params p = { 0 };
	struct audiofile out;
	struct meter meter;
	unsigned char *buf;
	unsigned long long wanted = 0, got = 0;
	sdc_stream *s;
	unsigned handle;
	sdc_status st;
	int opt, status = 0, tty = isatty(2), stopped = 0;
	double last_draw = 0, rate;
	size_t frame_bytes;
	sdc_client *c;

	while ((opt = getopt_long(argc, argv, SDCTL_AUDIO_SHORT_OPTIONS, options, NULL)) != -1) {
		int r = sdctl_audio_option(ctl, "rec", opt, optarg, &a);

		if (r > 1)
			return r;
		if (r == 0)
			return sdctl_usage_error("rec", "unknown option");
	}
	if (argc - optind != 1)
		return sdctl_usage_error("rec", "give exactly one FILE to record into");
	c = sdctl_client(ctl);
	if (!c)
		return 1;
	sdctl_stream_options(&a, &p.opt, in_buf, out_buf, sizeof(in_buf));
	p.channels = a.channels ? a.channels : 2;
	p.dtype = a.dtype ? a.dtype : default_dtype(argv[optind]);
	p.mapping = a.mapping_count ? a.mapping : NULL;
	p.mapping_count = a.mapping_count;
	p.opt.buffer_frames = (unsigned)((a.rate ? a.rate : 48000) * REC_BUFFER_SECONDS);
	p.duration = a.seconds;
	sdctl_catch_signals();
	if (sdc_rec_open(c, &p, -1, &s) < 0)
		return sdctl_fail(NULL);
	handle = sdc_stream_handle(s);
	if (audiofile_open_write(&out, argv[optind], p.dtype, sdc_stream_channels(s, SDC_KIND_INPUT),
				 sdc_stream_samplerate(s)) < 0) {
		sdc_stop(c, handle);
		sdc_stream_close(s);
		return 1;
	}
	rate = sdc_stream_samplerate(s);
	if (a.seconds > 0)
		wanted = (unsigned long long)(a.seconds * rate + 0.5);
	frame_bytes = sdc_dtype_size(p.dtype) * (size_t)sdc_stream_channels(s, SDC_KIND_INPUT);
	buf = malloc(CHUNK_FRAMES * frame_bytes);
	meter_init(&meter, sdc_stream_channels(s, SDC_KIND_INPUT));
	while (buf) {
		size_t want = CHUNK_FRAMES;
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
		n = sdc_stream_read_some(s, buf, want, stopped ? 0 : 200);
		if (n < 0 && !sdctl_interrupted) {
			/* A lost daemon is told below, with what was kept. */
			if (sdc_stream_status(s, &st) < 0 || st.error_code[0] == '\0')
				status = sdctl_fail(NULL);
			break;
		}
		if (n <= 0) {
			sdc_status now;

			/* Reads return what is left before they return nothing for an ended stream. */
			if (stopped || (sdc_stream_status(s, &now) == 0 && now.state >= SDC_STATE_FINISHED))
				break;
			continue;
		}
		if (audiofile_write(&out, buf, (size_t)n) < 0) {
			status = 1;
			break;
		}
		got += (unsigned long long)n;
		if (tty && !ctl->json) {
			meter_add(&meter, buf, (size_t)n, p.dtype, sdc_stream_channels(s, SDC_KIND_INPUT));
			if (now_seconds() - last_draw > 0.1) {
				char prefix[64];
				double t = (double)got / rate;

				snprintf(prefix, sizeof(prefix), "\rREC %02d:%04.1f", (int)(t / 60),
					 t - 60 * (int)(t / 60));
				meter_print(&meter, stderr, prefix, 16);
				fputs("\033[K", stderr);
				fflush(stderr);
				meter_reset(&meter);
				last_draw = now_seconds();
			}
		}
	}
	free(buf);
	if (!stopped)
		sdc_stop(c, handle);
	if (tty && !ctl->json)
		fputc('\n', stderr);
	/* Without the daemon, the stream's memory tells how it ended. */
	if (sdc_get_status(c, handle, &st) < 0) {
		snprintf(lost, sizeof(lost), "%s", sdc_last_error()->message);
		sdc_stream_status(s, &st);
	}
	sdc_stream_close(s);
	if (audiofile_close(&out) < 0) {
		fprintf(stderr, "sdctl: cannot finish '%s'\n", argv[optind]);
		status = 1;
	}
	if (ctl->json)
		printf("{\"file\":\"%s\",\"handle\":%u,\"frames\":%llu,\"samplerate\":%g,\"xruns\":%u,"
		       "\"flags\":\"%s\",\"overflow_frames\":%llu}\n",
		       argv[optind], handle, got, rate, st.xruns,
		       sdc_flags_text(st.flags, flags, sizeof(flags)), st.overflow_frames);
	if (lost[0] && !sdctl_interrupted) {
		fprintf(stderr, "sdctl: rec: %s; the %.1f s recorded are in '%s'\n", lost,
			(double)got / rate, argv[optind]);
		return 1;
	}
	sdctl_report_xruns("rec", &st);
	if (st.state == SDC_STATE_FAILED)
		status = 1;
	return status;
}
