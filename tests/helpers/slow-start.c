/*
 * An LD_PRELOAD library for the test portaudio_jack: makes sddaemon's
 * device streams slow to start, as a device that takes long to prepare or
 * a JACK server under load would.  It interposes PortAudio's
 * Pa_StartStream(), which sleeps $SDD_SLOW_START_SECONDS (a decimal
 * number) before it starts the stream.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <portaudio.h>

/* The build hides symbols by default: this one must interpose on everyone's calls. */
#define EXPORTED __attribute__((visibility("default")))

EXPORTED PaError Pa_StartStream(PaStream *stream)
{
	PaError (*next)(PaStream *);
	const char *env = getenv("SDD_SLOW_START_SECONDS");
	double seconds = env ? strtod(env, NULL) : 0;

	/* ISO C casts no data pointer to a function's. */
	memcpy(&next, &(void *){ dlsym(RTLD_NEXT, "Pa_StartStream") }, sizeof(void *));
	if (seconds > 0 && seconds < 60) {
		struct timespec ts = { (time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9) };

		while (nanosleep(&ts, &ts) < 0)
			;
	}
	return next(stream);
}
