/*
 * pa-wire IN OUT FORMAT CHANNELS FRAMES [--fpb N]: a full-duplex callback
 * stream at 48 kHz that copies its input to its output for FRAMES frames,
 * then completes.  Prints one line: the frames wired and how often the
 * finished callback ran; and on stderr, how many callbacks were flagged
 * with each under- and overflow.
 */
#include <stdatomic.h>

#include "pa-test.h"

struct wire {
	size_t frame;
	int zero; /* a silent sample's bytes */
	unsigned long total, done;
	atomic_int finished;
	atomic_uint flags_seen[4]; /* input underflow, input overflow, output underflow, output overflow */
};

static int callback(const void *in, void *out, unsigned long frames,
		    const PaStreamCallbackTimeInfo *ti, PaStreamCallbackFlags flags, void *userdata)
{
	struct wire *w = userdata;
	unsigned long n = w->total - w->done < frames ? w->total - w->done : frames;

	for (int i = 0; i < 4; i++)
		if (flags & (1ul << i))
			atomic_fetch_add(&w->flags_seen[i], 1);

	memcpy(out, in, n * w->frame);
	memset((unsigned char *)out + n * w->frame, w->zero, (frames - n) * w->frame);
	w->done += n;
	return w->done < w->total ? paContinue : paComplete;
}

static void finished(void *userdata)
{
	atomic_fetch_add(&((struct wire *)userdata)->finished, 1);
}

int main(int argc, char **argv)
{
	struct wire w = { 0 };
	PaStreamParameters in, out;
	unsigned long fpb = 0;
	PaStream *s;

	if (argc < 6) {
		fprintf(stderr, "usage: pa-wire IN OUT FORMAT CHANNELS FRAMES [--fpb N]\n");
		return 2;
	}
	PA_CHECK(Pa_Initialize());
	in.device = pt_device(argv[1]);
	out.device = pt_device(argv[2]);
	in.sampleFormat = out.sampleFormat = pt_format(argv[3]);
	in.channelCount = out.channelCount = atoi(argv[4]);
	in.suggestedLatency = Pa_GetDeviceInfo(in.device)->defaultHighInputLatency;
	out.suggestedLatency = Pa_GetDeviceInfo(out.device)->defaultHighOutputLatency;
	in.hostApiSpecificStreamInfo = out.hostApiSpecificStreamInfo = NULL;
	w.frame = (size_t)Pa_GetSampleSize(in.sampleFormat) * (size_t)in.channelCount;
	w.zero = in.sampleFormat == paUInt8 ? 0x80 : 0;
	w.total = strtoul(argv[5], NULL, 10);
	if (argc > 7 && strcmp(argv[6], "--fpb") == 0)
		fpb = strtoul(argv[7], NULL, 10);
	PA_CHECK(Pa_OpenStream(&s, &in, &out, 48000, fpb, paNoFlag, callback, &w));
	PA_CHECK(Pa_SetStreamFinishedCallback(s, finished));
	PA_CHECK(Pa_StartStream(s));
	while (Pa_IsStreamActive(s) == 1)
		Pa_Sleep(5);
	PA_CHECK(Pa_StopStream(s));
	PA_CHECK(Pa_CloseStream(s));
	PA_CHECK(Pa_Terminate());
	printf("wired %lu frames, finished %d\n", w.done, atomic_load(&w.finished));
	fprintf(stderr, "input underflows %u, input overflows %u, output underflows %u, output overflows %u\n",
		atomic_load(&w.flags_seen[0]), atomic_load(&w.flags_seen[1]),
		atomic_load(&w.flags_seen[2]), atomic_load(&w.flags_seen[3]));
	return 0;
}
