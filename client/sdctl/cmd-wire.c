/*
 * sdctl wire: input straight to output, as sounddevice's wire.py (after
 * PortAudio's patest_wire.c), until SIGINT/SIGTERM or until -t SECONDS of
 * frames have passed through; then the xruns the stream accumulated are
 * reported.  It is one duplex stream of libsdc's stream API in callback
 * mode: the callback runs on libsdc's callback thread and only copies; the
 * main thread waits.  With --exclusive the daemon opens one PortAudio
 * duplex stream in the client's format, so the copy is bit-exact.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sdctl.h"

/* What the callback thread and the main thread share. */
struct wire {
	size_t frame_bytes;		   /* bytes per frame, the same both ways */
	int silence;			   /* the byte value of a silent sample (0x80 for uint8) */
	unsigned long long limit;	   /* frames to pass through; 0: no limit */
	unsigned long long frames;	   /* frames passed through so far (callback thread only) */
	_Atomic unsigned long long copied; /* frames, published for the main thread */
	_Atomic unsigned flags;		   /* SDC_* callback flags seen */
	_Atomic int finished;		   /* the stream became inactive */
};

/* Callback thread: copies a block of input to the output. */
static int wire_callback(const void *input, void *output, unsigned long frames,
			 const sdc_time_info *time, unsigned status, void *userdata)
{
	struct wire *w = userdata;
	unsigned long long n = frames;

	(void)time;
	atomic_fetch_or_explicit(&w->flags, status, memory_order_relaxed);
	if (w->limit && w->frames + n > w->limit)
		n = w->limit - w->frames;
	memcpy(output, input, (size_t)n * w->frame_bytes);
	/* Past the limit the block is padded with silence. */
	memset((unsigned char *)output + (size_t)n * w->frame_bytes, w->silence,
	       (size_t)(frames - n) * w->frame_bytes);
	w->frames += n;
	atomic_store_explicit(&w->copied, w->frames, memory_order_relaxed);
	return w->limit && w->frames >= w->limit ? SDC_COMPLETE : SDC_CONTINUE;
}

/* Callback thread (or the stopping thread): the stream is inactive. */
static void wire_finished(void *userdata)
{
	struct wire *w = userdata;

	atomic_store(&w->finished, 1);
}

static void wire_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	/* A signal cuts the sleep short; the caller checks sdctl_interrupted. */
	nanosleep(&ts, NULL);
}

int sdctl_cmd_wire(struct sdctl *ctl, int argc, char **argv)
{
	const struct sdctl_opts *o = &ctl->o;
	char in_buf[256], out_buf[256];
	sdc_stream_params p = { 0 };
	struct wire w = { 0 };
	sdc_status st;
	sdc_stream *s;
	sdc_client *c;
	double rate;
	int status = 0;

	if (argc > 0)
		return sdctl_usage_error(ctl, "no arguments expected, only options");
	sdctl_catch_signals();
	c = sdctl_client(ctl);
	if (!c)
		return sdctl_interrupted ? 0 : 1;
	p.kind = SDC_STREAM_DUPLEX;
	p.samplerate = o->rate;
	p.blocksize = o->blocksize;
	p.device[0] = sdctl_audio_device(o, SDC_KIND_INPUT, in_buf, sizeof(in_buf));
	p.device[1] = sdctl_audio_device(o, SDC_KIND_OUTPUT, out_buf, sizeof(out_buf));
	/* As wire.py: two channels unless told otherwise, the same both ways. */
	p.channels[0] = p.channels[1] = o->channels ? o->channels : 2;
	p.dtype[0] = p.dtype[1] = o->dtype ? o->dtype : SDC_FLOAT32;
	p.latency[0] = p.latency[1] = o->latency;
	p.exclusive = o->exclusive ? SDC_YES : 0;
	p.callback = wire_callback;
	p.finished_callback = wire_finished;
	p.userdata = &w;
	/* Ctrl-C is how wire ends: one during the set-up is no failure. */
	if (sdc_stream_open(c, &p, &s) < 0)
		return sdctl_interrupted ? 0 : sdctl_fail(ctl, NULL);
	rate = sdc_stream_samplerate(s);
	w.frame_bytes = sdc_stream_samplesize(s, SDC_KIND_OUTPUT) *
			(size_t)sdc_stream_channels(s, SDC_KIND_OUTPUT);
	w.silence = sdc_stream_dtype(s, SDC_KIND_OUTPUT) == SDC_UINT8 ? 0x80 : 0;
	if (o->seconds > 0)
		w.limit = (unsigned long long)(o->seconds * rate + 0.5);
	if (sdc_stream_samplesize(s, SDC_KIND_INPUT) != sdc_stream_samplesize(s, SDC_KIND_OUTPUT) ||
	    sdc_stream_channels(s, SDC_KIND_INPUT) != sdc_stream_channels(s, SDC_KIND_OUTPUT)) {
		sdc_stream_close(s);
		return sdctl_error(ctl, "internal_error",
				   "the daemon gave input and output different formats");
	}
	if (sdc_stream_start(s) < 0) {
		status = sdctl_interrupted ? 0 : sdctl_fail(ctl, NULL);
		sdc_stream_close(s);
		return status;
	}
	if (!ctl->json && !ctl->quiet && isatty(2) && !o->seconds)
		fprintf(stderr, "sdctl: wiring input to output at %g Hz; Ctrl-C ends it\n", rate);
	while (!atomic_load(&w.finished) && !sdctl_interrupted)
		wire_sleep_ms(20);
	/* Pending output is played first, as when sounddevice's Stream leaves its with-block. */
	sdc_stream_stop(s);
	if (sdc_get_status(c, sdc_stream_handle(s), &st) < 0)
		sdc_stream_status(s, &st);
	st.flags |= atomic_load(&w.flags);
	sdc_stream_close(s);
	if (ctl->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "frames",
				       json_object_new_int64((int64_t)atomic_load(&w.copied)));
		json_object_object_add(j, "samplerate", json_object_new_double(rate));
		sdctl_json_add_status(j, &st, true, true);
		sdctl_json_print(j);
	}
	sdctl_report_xruns(ctl, "wire", &st);
	if (st.state == SDC_STATE_FAILED)
		status = 1;
	return status;
}
