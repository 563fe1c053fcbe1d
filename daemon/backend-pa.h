/*
 * What the PortAudio backend's two halves share: its stream and the
 * PortAudio callbacks (backend-pa-rt.c), which run on PortAudio's threads.
 */
#pragma once

#include <stddef.h>

#include <portaudio.h>

#include "backend.h"

struct pa_stream {
	struct backend_stream base;
	PaStream *pa;
	struct backend_callbacks cb;
	size_t input_frame_bytes; /* bytes per captured frame, for valgrind's sake */
};

/* PortAudio's audio thread: hands a period to cb.process. */
int backend_pa_process(const void *input, void *output, unsigned long frames,
		       const PaStreamCallbackTimeInfo *ti, PaStreamCallbackFlags status,
		       void *userdata);

/* PortAudio's thread that ends the stream: calls cb.finished. */
void backend_pa_finished(void *userdata);
