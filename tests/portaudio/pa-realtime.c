/*
 * pa-realtime TEST DEVICE...: what a PortAudio program meets in real time,
 * for the tests on jackd (tests/integration/test_portaudio_jack.py), at
 * 48 kHz in stereo float32 with the device's low latency:
 *
 *   pause-write DEV   a blocking output stream: a write, a pause of 0.3 s,
 *                     three writes; prints each write's result
 *   pause-read DEV    a blocking input stream: a read, a pause of 0.5 s;
 *                     prints the frames available, then two reads' results
 *   slow-duplex IN OUT [MS]  a duplex callback stream of 256-frame blocks
 *                     whose 50th callback takes MS (100) milliseconds:
 *                     prints the flags callbacks saw after it
 *   latency DEV FPB   prints the output latency of a callback stream, in frames
 *   times DEV         a duplex callback stream of 256-frame blocks: checks
 *                     its time stamps and Pa_GetStreamTime(); prints a
 *                     line per check
 */
#include <math.h>
#include <stdatomic.h>

#include "pa-test.h"

#define RATE 48000
#define CALLS 300

static PaStreamParameters params(PaDeviceIndex dev, int input)
{
	const PaDeviceInfo *d = Pa_GetDeviceInfo(dev);

	return (PaStreamParameters){ dev, 2, paFloat32,
				     input ? d->defaultLowInputLatency : d->defaultLowOutputLatency,
				     NULL };
}

static void pause_write(PaDeviceIndex dev)
{
	PaStreamParameters out = params(dev, 0);
	static float buf[2 * 1024];
	PaStream *s;

	PA_CHECK(Pa_OpenStream(&s, NULL, &out, RATE, 256, paNoFlag, NULL, NULL));
	PA_CHECK(Pa_StartStream(s));
	for (int i = 0; i < 2 * 1024; i++)
		buf[i] = 0.25f;
	printf("first write: %s\n", Pa_GetErrorText(Pa_WriteStream(s, buf, 1024)));
	Pa_Sleep(300);
	for (int i = 0; i < 3; i++)
		printf("write %d after the pause: %s\n", i + 1,
		       Pa_GetErrorText(Pa_WriteStream(s, buf, 1024)));
	PA_CHECK(Pa_StopStream(s));
	PA_CHECK(Pa_CloseStream(s));
}

static void pause_read(PaDeviceIndex dev)
{
	PaStreamParameters in = params(dev, 1);
	static float buf[2 * 1024];
	PaStream *s;

	PA_CHECK(Pa_OpenStream(&s, &in, NULL, RATE, 256, paNoFlag, NULL, NULL));
	PA_CHECK(Pa_StartStream(s));
	printf("first read: %s\n", Pa_GetErrorText(Pa_ReadStream(s, buf, 1024)));
	Pa_Sleep(500);
	printf("available after the pause: %ld\n", Pa_GetStreamReadAvailable(s));
	for (int i = 0; i < 2; i++)
		printf("read %d after the pause: %s\n", i + 1,
		       Pa_GetErrorText(Pa_ReadStream(s, buf, 256)));
	PA_CHECK(Pa_StopStream(s));
	PA_CHECK(Pa_CloseStream(s));
}

struct slow {
	int calls;
	unsigned long before, after; /* flags seen before and after the slow call */
	int stall_ms;
	atomic_int done;
};

static int slow_cb(const void *in, void *out, unsigned long frames,
		   const PaStreamCallbackTimeInfo *ti, PaStreamCallbackFlags flags, void *userdata)
{
	struct slow *sl = userdata;

	memcpy(out, in, frames * 2 * sizeof(float));
	/* calls counts the calls before this one: the 50th sleeps. */
	if (sl->calls < 50)
		sl->before |= flags;
	else
		sl->after |= flags;
	if (++sl->calls == 50)
		Pa_Sleep(sl->stall_ms);
	if (sl->calls >= CALLS) {
		atomic_store(&sl->done, 1);
		return paComplete;
	}
	return paContinue;
}

static void slow_duplex(PaDeviceIndex in_dev, PaDeviceIndex out_dev, int stall_ms)
{
	PaStreamParameters in = params(in_dev, 1), out = params(out_dev, 0);
	struct slow sl = { .stall_ms = stall_ms };
	PaStream *s;

	PA_CHECK(Pa_OpenStream(&s, &in, &out, RATE, 256, paNoFlag, slow_cb, &sl));
	PA_CHECK(Pa_StartStream(s));
	for (int i = 0; i < 2000 && !atomic_load(&sl.done); i++)
		Pa_Sleep(10);
	PA_CHECK(Pa_StopStream(s));
	PA_CHECK(Pa_CloseStream(s));
	printf("calls %d\n", sl.calls);
	printf("input overflow after the slow callback: %d\n", !!(sl.after & paInputOverflow));
	printf("output underflow after the slow callback: %d\n", !!(sl.after & paOutputUnderflow));
	printf("priming output: %d\n", !!((sl.before | sl.after) & paPrimingOutput));
}

static int silent_cb(const void *in, void *out, unsigned long frames,
		     const PaStreamCallbackTimeInfo *ti, PaStreamCallbackFlags flags, void *userdata)
{
	memset(out, 0, frames * 2 * sizeof(float));
	return paContinue;
}

static void latency(PaDeviceIndex dev, unsigned long fpb)
{
	PaStreamParameters out = params(dev, 0);
	PaStream *s;

	PA_CHECK(Pa_OpenStream(&s, NULL, &out, RATE, fpb, paNoFlag, silent_cb, NULL));
	printf("output latency %.0f frames\n", Pa_GetStreamInfo(s)->outputLatency * RATE);
	PA_CHECK(Pa_CloseStream(s));
}

struct times {
	int calls;
	double adc[CALLS], dac[CALLS], now[CALLS];
	unsigned long frames[CALLS];
	atomic_int done;
};

static int times_cb(const void *in, void *out, unsigned long frames,
		    const PaStreamCallbackTimeInfo *ti, PaStreamCallbackFlags flags, void *userdata)
{
	struct times *t = userdata;
	int i = t->calls++;

	memset(out, 0, frames * 2 * sizeof(float));
	t->adc[i] = ti->inputBufferAdcTime;
	t->dac[i] = ti->outputBufferDacTime;
	t->now[i] = ti->currentTime;
	t->frames[i] = frames;
	if (t->calls == CALLS) {
		atomic_store(&t->done, 1);
		return paComplete;
	}
	return paContinue;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void times(PaDeviceIndex dev)
{
	PaStreamParameters in = params(dev, 1), out = params(dev, 0);
	static struct times t;
	double steps[CALLS], during = 0, after;
	int ordered = 1, monotonic = 1, exact = 1;
	PaStream *s;

	PA_CHECK(Pa_OpenStream(&s, &in, &out, RATE, 256, paNoFlag, times_cb, &t));
	PA_CHECK(Pa_StartStream(s));
	for (int i = 0; i < 2000 && !atomic_load(&t.done); i++) {
		double now = Pa_GetStreamTime(s);

		if (now < during)
			fprintf(stderr, "stream time went back: %.6f after %.6f (poll %d)\n", now, during,
				i);
		monotonic = monotonic && now >= during;
		during = now;
		Pa_Sleep(10);
	}
	after = Pa_GetStreamTime(s);
	PA_CHECK(Pa_StopStream(s));
	PA_CHECK(Pa_CloseStream(s));
	for (int i = 0; i < CALLS; i++) {
		ordered = ordered && t.adc[i] <= t.now[i] + 1e-6 && t.now[i] <= t.dac[i] + 1e-6;
		exact = exact && t.frames[i] == 256;
		if (i > 0 && t.now[i] < t.now[i - 1])
			fprintf(stderr, "current time went back: %.6f after %.6f (callback %d)\n",
				t.now[i], t.now[i - 1], i);
		if (i > 0)
			monotonic = monotonic && t.now[i] >= t.now[i - 1];
		steps[i] = i > 0 ? t.dac[i] - t.dac[i - 1] : 256.0 / RATE;
	}
	qsort(steps, CALLS, sizeof(steps[0]), compare);
	printf("blocks of 256 frames: %d\n", exact);
	printf("ADC time <= current time <= DAC time: %d\n", ordered);
	printf("current time and stream time never go back: %d\n", monotonic);
	printf("the median DAC time step is a block: %d\n",
	       fabs(steps[CALLS / 2] - 256.0 / RATE) < 0.5e-3);
	printf("the stream time covers the callbacks: %d\n",
	       after >= t.now[CALLS - 1] && during >= t.now[0] && during <= after);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: pa-realtime pause-write|pause-read|slow-duplex|latency|times "
				"DEVICE...\n");
		return 2;
	}
	PA_CHECK(Pa_Initialize());
	if (strcmp(argv[1], "pause-write") == 0)
		pause_write(pt_device(argv[2]));
	else if (strcmp(argv[1], "pause-read") == 0)
		pause_read(pt_device(argv[2]));
	else if (strcmp(argv[1], "slow-duplex") == 0 && argc > 3)
		slow_duplex(pt_device(argv[2]), pt_device(argv[3]), argc > 4 ? atoi(argv[4]) : 100);
	else if (strcmp(argv[1], "latency") == 0 && argc > 3)
		latency(pt_device(argv[2]), strtoul(argv[3], NULL, 10));
	else if (strcmp(argv[1], "times") == 0)
		times(pt_device(argv[2]));
	else
		return 2;
	PA_CHECK(Pa_Terminate());
	return 0;
}
