/*
 * pa-play DEVICE FORMAT CHANNELS FRAMES callback|blocking [OPTIONS]: plays
 * FRAMES frames of the test signal (pa-test.h) at 48 kHz (--rate R), from a
 * callback or with Pa_WriteStream(), and stops.  Options: --fpb N (frames per
 * buffer; 0 is paFramesPerBufferUnspecified), --planar
 * (paNonInterleaved), --seed N, --only-channel C (the other channels
 * silent), --latency SECONDS (default: the device's high latency).
 * Prints one line: the frames played, how often the finished callback ran
 * and how many callbacks were flagged priming output.
 */
#include <stdatomic.h>

#include "pa-test.h"

struct player {
	PaSampleFormat format;
	int channels, only;
	unsigned seed;
	unsigned long total, done;
	int priming;
	atomic_int finished;
};

/* Silences what is beyond the signal, or outside the one channel that plays. */
static void silence(struct player *pl, void *buffer, unsigned long from, unsigned long frames)
{
	size_t size = (size_t)Pa_GetSampleSize(pl->format);
	unsigned char zero = (pl->format & ~paNonInterleaved) == paUInt8 ? 0x80 : 0;

	for (unsigned long f = from; f < frames; f++)
		for (int c = 0; c < pl->channels; c++) {
			unsigned char *p;

			if (pl->format & paNonInterleaved)
				p = (unsigned char *)((void **)buffer)[c] + f * size;
			else
				p = (unsigned char *)buffer + (f * (size_t)pl->channels + (size_t)c) * size;
			memset(p, zero, size);
		}
}

/* Fills frames frames from the signal's position on, keeping only one channel if asked. */
static void produce(struct player *pl, void *buffer, unsigned long frames)
{
	unsigned long n = pl->total - pl->done < frames ? pl->total - pl->done : frames;
	size_t size = (size_t)Pa_GetSampleSize(pl->format);
	unsigned char zero = (pl->format & ~paNonInterleaved) == paUInt8 ? 0x80 : 0;

	pt_fill(pl->format, pl->channels, buffer, pl->done, n, pl->seed);
	if (pl->only >= 0)
		for (unsigned long f = 0; f < n; f++)
			for (int c = 0; c < pl->channels; c++) {
				unsigned char *p;

				if (c == pl->only)
					continue;
				if (pl->format & paNonInterleaved)
					p = (unsigned char *)((void **)buffer)[c] + f * size;
				else
					p = (unsigned char *)buffer +
					    (f * (size_t)pl->channels + (size_t)c) * size;
				memset(p, zero, size);
			}
	silence(pl, buffer, n, frames);
	pl->done += n;
}

static int callback(const void *in, void *out, unsigned long frames,
		    const PaStreamCallbackTimeInfo *ti, PaStreamCallbackFlags flags, void *userdata)
{
	struct player *pl = userdata;

	if (flags & paPrimingOutput)
		pl->priming++;
	produce(pl, out, frames);
	return pl->done < pl->total ? paContinue : paComplete;
}

static void finished(void *userdata)
{
	atomic_fetch_add(&((struct player *)userdata)->finished, 1);
}

int main(int argc, char **argv)
{
	struct player pl = { .only = -1 };
	unsigned long fpb = 0;
	double latency = -1, rate = 48000;
	PaStreamParameters out;
	PaStream *s;
	int blocking;

	if (argc < 6) {
		fprintf(stderr, "usage: pa-play DEVICE FORMAT CHANNELS FRAMES callback|blocking "
				"[--fpb N] [--planar] [--seed N] [--only-channel C] [--latency S] "
				"[--rate R]\n");
		return 2;
	}
	PA_CHECK(Pa_Initialize());
	pl.format = pt_format(argv[2]);
	pl.channels = atoi(argv[3]);
	pl.total = strtoul(argv[4], NULL, 10);
	blocking = strcmp(argv[5], "blocking") == 0;
	for (int i = 6; i < argc; i++) {
		if (strcmp(argv[i], "--fpb") == 0 && i + 1 < argc)
			fpb = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--planar") == 0)
			pl.format |= paNonInterleaved;
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			pl.seed = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--only-channel") == 0 && i + 1 < argc)
			pl.only = atoi(argv[++i]);
		else if (strcmp(argv[i], "--latency") == 0 && i + 1 < argc)
			latency = atof(argv[++i]);
		else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
			rate = atof(argv[++i]);
	}
	out.device = pt_device(argv[1]);
	out.channelCount = pl.channels;
	out.sampleFormat = pl.format;
	out.suggestedLatency = latency >= 0 ? latency
					   : Pa_GetDeviceInfo(out.device)->defaultHighOutputLatency;
	out.hostApiSpecificStreamInfo = NULL;
	PA_CHECK(Pa_OpenStream(&s, NULL, &out, rate, fpb, paNoFlag, blocking ? NULL : callback,
			       &pl));
	PA_CHECK(Pa_SetStreamFinishedCallback(s, finished));
	PA_CHECK(Pa_StartStream(s));
	if (blocking) {
		unsigned long chunk = fpb ? fpb : 1000;
		size_t size = (size_t)Pa_GetSampleSize(pl.format);
		unsigned char *data = malloc(chunk * size * (size_t)pl.channels);
		void *planes[64];
		void *buffer = data;

		if (pl.format & paNonInterleaved) {
			for (int c = 0; c < pl.channels && c < 64; c++)
				planes[c] = data + (size_t)c * chunk * size;
			buffer = planes;
		}
		while (pl.done < pl.total) {
			unsigned long n = pl.total - pl.done < chunk ? pl.total - pl.done : chunk;
			PaError e;

			produce(&pl, buffer, n);
			e = Pa_WriteStream(s, buffer, n);
			/* The virtual devices are not paced: an underflow may happen, and is no error. */
			if (e != paNoError && e != paOutputUnderflowed)
				PA_CHECK(e);
		}
		free(data);
	} else {
		while (Pa_IsStreamActive(s) == 1)
			Pa_Sleep(5);
	}
	PA_CHECK(Pa_StopStream(s));
	PA_CHECK(Pa_CloseStream(s));
	PA_CHECK(Pa_Terminate());
	printf("played %lu frames, finished %d, priming %d\n", pl.done, atomic_load(&pl.finished),
	       pl.priming);
	return 0;
}
