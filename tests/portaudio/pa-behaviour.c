/*
 * pa-behaviour OUT IN: a transcript of what PortAudio answers as a stream
 * goes through its life — stopped, started, completed by its callback,
 * stopped, restarted, aborted, closed while running, closed by
 * Pa_Terminate() — with the finished callback counted at each step, and
 * the errors of calls that do not fit a stream's kind or state or have
 * bad arguments.  One line a fact; timing never shows in it (a callback
 * stream runs until the program tells its callback to complete).
 */
#include <stdatomic.h>

#include "pa-test.h"

static atomic_int finished_count, complete_now, callbacks, priming;

static int callback(const void *in, void *out, unsigned long frames,
		    const PaStreamCallbackTimeInfo *ti, PaStreamCallbackFlags flags, void *userdata)
{
	memset(out, 0, frames * 2 * sizeof(float));
	atomic_fetch_add(&callbacks, 1);
	if (flags & paPrimingOutput)
		atomic_fetch_add(&priming, 1);
	return atomic_load(&complete_now) ? paComplete : paContinue;
}

static void finished(void *userdata)
{
	atomic_fetch_add(&finished_count, 1);
}

static void say(const char *what, PaError e)
{
	printf("%s: %d (%s)\n", what, e, e < 0 ? Pa_GetErrorText(e) : "-");
}

/* Waits (at most 20 s) until the stream is inactive; returns whether it became so. */
static int wait_inactive(PaStream *s)
{
	for (int i = 0; i < 4000 && Pa_IsStreamActive(s) == 1; i++)
		Pa_Sleep(5);
	return Pa_IsStreamActive(s) == 0;
}

/* Waits (at most 20 s) until the callback has run n more times. */
static void wait_callbacks(int n)
{
	int until = atomic_load(&callbacks) + n;

	for (int i = 0; i < 4000 && atomic_load(&callbacks) < until; i++)
		Pa_Sleep(5);
}

static void callback_stream(PaDeviceIndex dev)
{
	PaStreamParameters out = { dev, 2, paFloat32, Pa_GetDeviceInfo(dev)->defaultLowOutputLatency,
				   NULL };
	const PaStreamInfo *info;
	float buf[512];
	PaStream *s;

	printf("-- a callback stream\n");
	say("open", Pa_OpenStream(&s, NULL, &out, 48000, 256, paNoFlag, callback, NULL));
	info = Pa_GetStreamInfo(s);
	/* (PortAudio's ALSA host API leaves structVersion 0.) */
	printf("info: %g Hz, input latency %g, output latency > 0: %d\n", info->sampleRate,
	       info->inputLatency, info->outputLatency > 0);
	printf("host API type %d\n", Pa_GetStreamHostApiType(s));
	say("stopped", Pa_IsStreamStopped(s));
	say("active", Pa_IsStreamActive(s));
	say("write while stopped", Pa_WriteStream(s, buf, 256));
	say("read while stopped", Pa_ReadStream(s, buf, 256));
	/*
	 * (The Available()s of a callback stream are errors in PortAudio's JACK
	 * host API and here; its ALSA host API answers them, and crashes on
	 * the missing direction.)
	 */
	say("stop while stopped", Pa_StopStream(s));
	say("abort while stopped", Pa_AbortStream(s));
	say("set finished callback", Pa_SetStreamFinishedCallback(s, finished));
	say("start", Pa_StartStream(s));
	wait_callbacks(3);
	printf("cpu load within [0, 1]: %d\n",
	       Pa_GetStreamCpuLoad(s) >= 0 && Pa_GetStreamCpuLoad(s) <= 1);
	say("start again", Pa_StartStream(s));
	say("stopped", Pa_IsStreamStopped(s));
	say("active", Pa_IsStreamActive(s));
	say("write to a callback stream", Pa_WriteStream(s, buf, 256));
	say("read from a callback stream", Pa_ReadStream(s, buf, 256));
	say("write zero frames", Pa_WriteStream(s, buf, 0));
	say("write from NULL", Pa_WriteStream(s, NULL, 256));
	say("set finished callback while running", Pa_SetStreamFinishedCallback(s, finished));
	atomic_store(&complete_now, 1);
	printf("inactive after paComplete: %d\n", wait_inactive(s));
	say("stopped", Pa_IsStreamStopped(s));
	printf("finished callbacks: %d\n", atomic_load(&finished_count));
	say("start before a stop", Pa_StartStream(s));
	say("stop", Pa_StopStream(s));
	say("stopped", Pa_IsStreamStopped(s));
	printf("finished callbacks: %d\n", atomic_load(&finished_count));

	atomic_store(&complete_now, 0);
	say("restart", Pa_StartStream(s));
	wait_callbacks(3);
	say("active", Pa_IsStreamActive(s));
	say("stop a running stream", Pa_StopStream(s));
	say("active", Pa_IsStreamActive(s));
	printf("finished callbacks: %d\n", atomic_load(&finished_count));
	say("restart", Pa_StartStream(s));
	wait_callbacks(3);
	say("abort a running stream", Pa_AbortStream(s));
	printf("finished callbacks: %d\n", atomic_load(&finished_count));
	say("restart", Pa_StartStream(s));
	wait_callbacks(3);
	say("close a running stream", Pa_CloseStream(s));
	printf("finished callbacks: %d\n", atomic_load(&finished_count));
	printf("callbacks flagged priming output: %d\n", atomic_load(&priming));
}

static void blocking_streams(PaDeviceIndex out_dev, PaDeviceIndex in_dev)
{
	PaStreamParameters out = { out_dev, 2, paInt16, 0.05, NULL };
	PaStreamParameters in = { in_dev, 2, paInt16, 0.05, NULL };
	static short buf[2 * 4800];
	PaStream *s;
	PaError e;

	printf("-- a blocking output stream\n");
	atomic_store(&finished_count, 0);
	say("open", Pa_OpenStream(&s, NULL, &out, 48000, 480, paNoFlag, NULL, NULL));
	say("set finished callback", Pa_SetStreamFinishedCallback(s, finished));
	say("start", Pa_StartStream(s));
	say("read from an output stream", Pa_ReadStream(s, buf, 480));
	/* (Its read available crashes PortAudio's ALSA host API; here it is an error.) */
	printf("write available > 0: %d\n", Pa_GetStreamWriteAvailable(s) > 0);
	e = Pa_WriteStream(s, buf, 4800);
	printf("write 4800 frames: %s\n", e == paNoError || e == paOutputUnderflowed ? "ok" : "error");
	printf("cpu load: %g\n", Pa_GetStreamCpuLoad(s));
	say("stop", Pa_StopStream(s));
	say("write after a stop", Pa_WriteStream(s, buf, 480));
	printf("finished callbacks of a blocking stream: %d\n", atomic_load(&finished_count));
	say("close", Pa_CloseStream(s));

	printf("-- a blocking input stream\n");
	say("open", Pa_OpenStream(&s, &in, NULL, 48000, 480, paNoFlag, NULL, NULL));
	say("start", Pa_StartStream(s));
	say("write to an input stream", Pa_WriteStream(s, buf, 480));
	e = Pa_ReadStream(s, buf, 4800);
	printf("read 4800 frames: %s\n", e == paNoError || e == paInputOverflowed ? "ok" : "error");
	printf("read available >= 0: %d\n", Pa_GetStreamReadAvailable(s) >= 0);
	say("abort", Pa_AbortStream(s));
	say("close", Pa_CloseStream(s));
}

static void bad_opens(PaDeviceIndex dev, PaDeviceIndex in_dev)
{
	PaStreamParameters p = { dev, 2, paFloat32, 0.05, NULL };
	PaStreamParameters in = { in_dev, 2, paFloat32, 0.05, NULL };
	PaStream *s;

	printf("-- refused opens\n");
	say("no stream pointer", Pa_OpenStream(NULL, NULL, &p, 48000, 0, paNoFlag, NULL, NULL));
	say("no parameters", Pa_OpenStream(&s, NULL, NULL, 48000, 0, paNoFlag, NULL, NULL));
	p.channelCount = 129;
	say("129 channels", Pa_OpenStream(&s, NULL, &p, 48000, 0, paNoFlag, NULL, NULL));
	p.channelCount = 0;
	say("no channels", Pa_OpenStream(&s, NULL, &p, 48000, 0, paNoFlag, NULL, NULL));
	p.channelCount = 2;
	say("999 Hz", Pa_OpenStream(&s, NULL, &p, 999, 0, paNoFlag, NULL, NULL));
	say("an unknown flag", Pa_OpenStream(&s, NULL, &p, 48000, 0, 0x100, NULL, NULL));
	say("paNeverDropInput on output", Pa_OpenStream(&s, NULL, &p, 48000, 0, paNeverDropInput,
							callback, NULL));
	say("paNeverDropInput on a blocking duplex stream",
	    Pa_OpenStream(&s, &in, &p, 48000, 0, paNeverDropInput, NULL, NULL));
	p.sampleFormat = 0x40;
	say("an unknown format", Pa_OpenStream(&s, NULL, &p, 48000, 0, paNoFlag, NULL, NULL));
	p.sampleFormat = paFloat32;
	p.device = Pa_GetDeviceCount();
	say("no such device", Pa_OpenStream(&s, NULL, &p, 48000, 0, paNoFlag, NULL, NULL));
	p.device = dev;

	printf("-- flags PortAudio takes\n");
	say("paClipOff | paDitherOff",
	    Pa_OpenStream(&s, NULL, &p, 48000, 0, paClipOff | paDitherOff, callback, NULL));
	say("close", Pa_CloseStream(s));
	say("paNeverDropInput on a duplex callback stream",
	    Pa_OpenStream(&s, &in, &p, 48000, paFramesPerBufferUnspecified, paNeverDropInput,
			  callback, NULL));
	say("close", Pa_CloseStream(s));
	say("paPrimeOutputBuffersUsingStreamCallback",
	    Pa_OpenStream(&s, NULL, &p, 48000, 256, paPrimeOutputBuffersUsingStreamCallback,
			  callback, NULL));
	say("close", Pa_CloseStream(s));
	say("start NULL", Pa_StartStream(NULL));
	say("stop NULL", Pa_StopStream(NULL));
	say("close NULL", Pa_CloseStream(NULL));
	say("active NULL", Pa_IsStreamActive(NULL));
	printf("info of NULL: %p\n", (void *)Pa_GetStreamInfo(NULL));
	printf("time of NULL: %g\n", Pa_GetStreamTime(NULL));
}

int main(int argc, char **argv)
{
	PaStreamParameters out;
	PaStream *s;

	if (argc < 3) {
		fprintf(stderr, "usage: pa-behaviour OUT IN\n");
		return 2;
	}
	say("start before initialising", Pa_StartStream(NULL));
	say("device count before initialising", Pa_GetDeviceCount());
	PA_CHECK(Pa_Initialize());
	callback_stream(pt_device(argv[1]));
	blocking_streams(pt_device(argv[1]), pt_device(argv[2]));
	bad_opens(pt_device(argv[1]), pt_device(argv[2]));

	printf("-- Pa_Terminate() with a stream running\n");
	atomic_store(&finished_count, 0);
	out = (PaStreamParameters){ pt_device(argv[1]), 2, paFloat32, 0.05, NULL };
	say("open", Pa_OpenStream(&s, NULL, &out, 48000, 256, paNoFlag, callback, NULL));
	say("set finished callback", Pa_SetStreamFinishedCallback(s, finished));
	say("start", Pa_StartStream(s));
	wait_callbacks(3);
	say("terminate", Pa_Terminate());
	printf("finished callbacks: %d\n", atomic_load(&finished_count));
	say("start after terminating", Pa_StartStream(s));
	say("terminate again", Pa_Terminate());
	return 0;
}
