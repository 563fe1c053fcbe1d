/*
 * pa-rec DEVICE FORMAT CHANNELS FRAMES callback|blocking FILE [OPTIONS]:
 * records FRAMES frames at 48 kHz, in a callback or with Pa_ReadStream(),
 * into FILE (raw, interleaved).  Options: --fpb N, --planar.  Prints one
 * line: the frames recorded and how often the finished callback ran.
 */
#include <stdatomic.h>

#include "pa-test.h"

struct recorder {
	PaSampleFormat format;
	int channels;
	size_t size;
	unsigned char *data;
	unsigned long total, done;
	atomic_int finished;
};

/* Appends frames frames, interleaved or one buffer per channel, to the recording. */
static void take(struct recorder *r, const void *in, unsigned long frames)
{
	unsigned long n = r->total - r->done < frames ? r->total - r->done : frames;
	size_t frame = r->size * (size_t)r->channels;

	if (!(r->format & paNonInterleaved)) {
		memcpy(r->data + r->done * frame, in, n * frame);
	} else {
		for (unsigned long f = 0; f < n; f++)
			for (int c = 0; c < r->channels; c++)
				memcpy(r->data + (r->done + f) * frame + (size_t)c * r->size,
				       (const unsigned char *)((const void *const *)in)[c] + f * r->size,
				       r->size);
	}
	r->done += n;
}

static int callback(const void *in, void *out, unsigned long frames,
		    const PaStreamCallbackTimeInfo *ti, PaStreamCallbackFlags flags, void *userdata)
{
	struct recorder *r = userdata;

	take(r, in, frames);
	return r->done < r->total ? paContinue : paComplete;
}

static void finished(void *userdata)
{
	atomic_fetch_add(&((struct recorder *)userdata)->finished, 1);
}

int main(int argc, char **argv)
{
	struct recorder r = { 0 };
	unsigned long fpb = 0;
	PaStreamParameters in;
	PaStream *s;
	FILE *f;
	int blocking;

	if (argc < 7) {
		fprintf(stderr, "usage: pa-rec DEVICE FORMAT CHANNELS FRAMES callback|blocking FILE "
				"[--fpb N] [--planar]\n");
		return 2;
	}
	PA_CHECK(Pa_Initialize());
	r.format = pt_format(argv[2]);
	r.channels = atoi(argv[3]);
	r.total = strtoul(argv[4], NULL, 10);
	blocking = strcmp(argv[5], "blocking") == 0;
	for (int i = 7; i < argc; i++) {
		if (strcmp(argv[i], "--fpb") == 0 && i + 1 < argc)
			fpb = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--planar") == 0)
			r.format |= paNonInterleaved;
	}
	r.size = (size_t)Pa_GetSampleSize(r.format);
	r.data = malloc(r.total * r.size * (size_t)r.channels + 1);
	in.device = pt_device(argv[1]);
	in.channelCount = r.channels;
	in.sampleFormat = r.format;
	in.suggestedLatency = Pa_GetDeviceInfo(in.device)->defaultHighInputLatency;
	in.hostApiSpecificStreamInfo = NULL;
	PA_CHECK(Pa_OpenStream(&s, &in, NULL, 48000, fpb, paNoFlag, blocking ? NULL : callback, &r));
	PA_CHECK(Pa_SetStreamFinishedCallback(s, finished));
	PA_CHECK(Pa_StartStream(s));
	if (blocking) {
		unsigned long chunk = fpb ? fpb : 1000;
		unsigned char *buf = malloc(chunk * r.size * (size_t)r.channels);
		void *planes[64];
		void *buffer = buf;

		if (r.format & paNonInterleaved) {
			for (int c = 0; c < r.channels && c < 64; c++)
				planes[c] = buf + (size_t)c * chunk * r.size;
			buffer = planes;
		}
		while (r.done < r.total) {
			unsigned long n = r.total - r.done < chunk ? r.total - r.done : chunk;
			PaError e = Pa_ReadStream(s, buffer, n);

			if (e != paNoError && e != paInputOverflowed)
				PA_CHECK(e);
			take(&r, buffer, n);
		}
		free(buf);
	} else {
		while (Pa_IsStreamActive(s) == 1)
			Pa_Sleep(5);
	}
	PA_CHECK(Pa_StopStream(s));
	PA_CHECK(Pa_CloseStream(s));
	PA_CHECK(Pa_Terminate());
	f = fopen(argv[6], "wb");
	if (!f || fwrite(r.data, r.size * (size_t)r.channels, r.done, f) != r.done || fclose(f)) {
		perror(argv[6]);
		return 1;
	}
	printf("recorded %lu frames, finished %d\n", r.done, atomic_load(&r.finished));
	free(r.data);
	return 0;
}
