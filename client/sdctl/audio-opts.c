/* The audio options sdctl's play, rec and playrec share, and signal handling. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdctl.h"

volatile int sdctl_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	sdctl_interrupted = 1;
}

void sdctl_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* No SA_RESTART: a wait in progress returns EINTR and sdctl stops at once. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Parses "1,2,5" into a mapping. */
static int parse_mapping(const char *arg, struct audio_opts *a)
{
	char *copy = strdup(arg), *save = NULL;
	int n = 0, r = 0;

	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n >= 64 || sdctl_parse_int(tok, 1, 1024, &a->mapping[n]) < 0) {
			r = -EINVAL;
			break;
		}
		n++;
	}
	free(copy);
	a->mapping_count = n;
	return r < 0 || n == 0 ? -EINVAL : 0;
}

int sdctl_audio_option(struct sdctl *ctl, const char *cmd, int opt, const char *arg,
		       struct audio_opts *a)
{
	switch (opt) {
	case 'd':
		a->device = arg;
		return 1;
	case 'I':
		a->input_device = arg;
		return 1;
	case 'O':
		a->output_device = arg;
		return 1;
	case 'r':
		if (sdctl_parse_double(arg, 1000, 768000, &a->rate) < 0)
			return sdctl_usage_error(cmd, "invalid rate '%s'", arg);
		return 1;
	case 'c':
		if (sdctl_parse_int(arg, 1, 64, &a->channels) < 0)
			return sdctl_usage_error(cmd, "invalid channel count '%s'", arg);
		return 1;
	case 'f':
		a->dtype = sdc_dtype_from_name(arg);
		if (a->dtype == SDC_DTYPE_DEFAULT)
			return sdctl_usage_error(cmd, "unknown format '%s' (float32, float64, int32, int24, int16, int8, uint8)",
						 arg);
		return 1;
	case 'm':
		if (parse_mapping(arg, a) < 0)
			return sdctl_usage_error(cmd, "invalid mapping '%s' (channel numbers from 1, e.g. 1,2)",
						 arg);
		return 1;
	case 'L':
		if (strcmp(arg, "low") == 0)
			a->latency = SDC_LATENCY_LOW;
		else if (strcmp(arg, "high") == 0)
			a->latency = SDC_LATENCY_HIGH;
		else if (sdctl_parse_double(arg, 0.0001, 10, &a->latency) < 0)
			return sdctl_usage_error(cmd, "--latency takes low, high or seconds, not '%s'", arg);
		return 1;
	case 'B':
		if (sdctl_parse_int(arg, 1, 65536, &a->blocksize) < 0)
			return sdctl_usage_error(cmd, "invalid blocksize '%s'", arg);
		return 1;
	case 'x':
		a->exclusive = 1;
		return 1;
	case 't':
		if (sdctl_parse_double(arg, 0.001, 1e7, &a->seconds) < 0)
			return sdctl_usage_error(cmd, "invalid time '%s'", arg);
		return 1;
	case 'R':
		a->raw = 1;
		return 1;
	case 'j':
		ctl->json = true;
		return 1;
	default:
		return 0;
	}
}

sdc_device sdctl_audio_device(const struct audio_opts *a, sdc_kind kind, char *buf, size_t size)
{
	const char *explicit_dev = kind == SDC_KIND_INPUT ? a->input_device : a->output_device;
	const char *comma;

	if (explicit_dev)
		return sdc_device_parse(explicit_dev);
	if (!a->device)
		return SDC_DEVICE_DEFAULT;
	/* "IN,OUT" names a pair; a name with a comma needs --input-device/--output-device. */
	comma = strchr(a->device, ',');
	if (!comma || comma == a->device || !comma[1])
		return sdc_device_parse(a->device);
	if (kind == SDC_KIND_INPUT)
		snprintf(buf, size, "%.*s", (int)(comma - a->device), a->device);
	else
		snprintf(buf, size, "%s", comma + 1);
	return sdc_device_parse(buf);
}

void sdctl_stream_options(const struct audio_opts *a, sdc_stream_options *o, char *in_buf,
			  char *out_buf, size_t size)
{
	memset(o, 0, sizeof(*o));
	o->input_device = sdctl_audio_device(a, SDC_KIND_INPUT, in_buf, size);
	o->output_device = sdctl_audio_device(a, SDC_KIND_OUTPUT, out_buf, size);
	o->samplerate = a->rate;
	o->input_latency = o->output_latency = a->latency;
	o->blocksize = a->blocksize;
	o->exclusive = a->exclusive ? SDC_YES : 0;
}

unsigned sdctl_report_xruns(const char *what, const sdc_status *st)
{
	char text[128];

	if (st->state == SDC_STATE_FAILED)
		fprintf(stderr, "sdctl: %s failed: %s\n", what, st->error);
	if (!st->xruns && !st->overflow_frames && !st->underflow_frames)
		return 0;
	fprintf(stderr, "sdctl: %s: %u xrun%s (%s)", what, st->xruns, st->xruns == 1 ? "" : "s",
		sdc_flags_text(st->flags, text, sizeof(text)));
	if (st->overflow_frames)
		fprintf(stderr, ", %llu input frames lost", st->overflow_frames);
	if (st->underflow_frames)
		fprintf(stderr, ", %llu frames of silence inserted", st->underflow_frames);
	fputc('\n', stderr);
	return st->xruns ? st->xruns : 1;
}
