/*
 * What the PortAudio backend's files share: its stream and the PortAudio
 * callbacks (backend-pa-rt.c), which run on PortAudio's threads; the
 * device list as our backend reports it (backend-pa.c), which the probe
 * process prints (backend-pa-probe.c); and the probe itself.
 */
#pragma once

#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>

#include <portaudio.h>

#include "backend.h"

struct pa_stream {
	struct backend_stream base;
	PaStream *pa;
	struct backend_callbacks cb;
	size_t input_frame_bytes; /* bytes per captured frame, for valgrind's sake */
	bool jack;		  /* on PortAudio's JACK host API */
	unsigned wait_ms;	  /* how long a call on JACK waits for its server (backend_params) */
	struct pa_stream *next_zombie; /* closed for the daemon, not yet for PortAudio (pa-jack.h) */
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

/* What Pa_OpenStream() is called with. */
struct pa_open_call {
	PaStreamParameters in, out;
	bool has_in, has_out;
	double rate;
	unsigned long frames;
	PaStreamFlags flags;
	PaStreamCallback *callback;
	PaStreamFinishedCallback *finished; /* set on the stream once open; may be NULL */
	void *data;
};

/*
 * Calls Pa_OpenStream() on a thread of its own and waits for it at most
 * wait_ms.  The caller holds turn (the semaphore that makes PortAudio's
 * stream calls take turns).  Returns 0 when the open returned in time:
 * its result in *ret_result, the stream in *ret, and the turn still the
 * caller's.  Returns -ETIMEDOUT when it did not: the thread goes on, and
 * when the open returns it closes what it opened, posts turn and calls
 * gone(gone_arg) on its own thread.  Any other negative errno: no thread
 * started, nothing was opened, and the turn is the caller's.
 */
int pa_open_bounded(const struct pa_open_call *call, sem_t *turn, unsigned wait_ms,
		    void (*gone)(void *arg), void *gone_arg, PaStream **ret, PaError *ret_result);
