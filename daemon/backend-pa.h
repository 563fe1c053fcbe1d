/*
 * What the PortAudio backend's files share: its stream and the PortAudio
 * callbacks (backend-pa-rt.c), which run on PortAudio's threads; the
 * device list as our backend reports it (backend-pa.c), which the probe
 * process prints (backend-pa-probe.c); and the probe itself.
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

/* The JACK client names of the daemon and of its probe; no device of ours. */
#define BACKEND_PA_JACK_NAME "sddaemon"
#define BACKEND_PA_PROBE_JACK_NAME "sddaemon-probe"

/*
 * Lists the devices of the initialised PortAudio into l, in our backend's
 * numbering: every device but the JACK clients of sddaemon itself, with
 * uids and locators; and stores in pa_index (l->count entries, malloc'd;
 * free() it) each device's PortAudio index.  Returns 0 or a negative
 * errno.
 */
int backend_pa_list(struct backend_devlist *l, int **ret_pa_index);

/*
 * The probe process: sddaemon run with --probe-devices.  Initialises a
 * PortAudio of its own, prints its device list as one JSON object on
 * stdout, and returns the exit status.
 */
int backend_pa_probe_main(void);

/* A running probe (backend-pa-probe.c), owned by the backend. */
struct pa_probe;

/*
 * Starts exe --probe-devices on loop; done runs when its list has been
 * read, or it failed or took longer than timeout_ms.  Stores the probe in
 * ret.  Returns 0 or a negative errno.
 */
int pa_probe_start(const char *exe, uv_loop_t *loop, unsigned timeout_ms, backend_probe_fn done,
		   void *data, struct pa_probe **ret);

/* Kills the probe's process; done is never called (its memory goes once its handles close). */
void pa_probe_cancel(struct pa_probe *p);

/* Parses a probe's JSON text into l.  Returns 0, or -EPROTO when it is malformed. */
int pa_probe_parse(const char *text, struct backend_devlist *l);
