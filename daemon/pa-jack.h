/*
 * PortAudio's JACK host API, made to survive its server (pa-jack.c).
 *
 * PortAudio 19.6 keeps one JACK client from Pa_Initialize to Pa_Terminate.
 * When the JACK server goes away, the client is dead for good: streams on
 * it cannot be opened (PortAudio reports "Insufficient memory"), and
 * Pa_Terminate aborts the process, because pa_jack.c asserts that
 * jack_deactivate() and jack_client_close() succeed, and on a dead client
 * they fail (pa_jack.c:820, "assertion `err == 0'").  So a restarted
 * server could never be used again without restarting the daemon.
 *
 * pa-jack.c defines those two functions, and jack_on_shutdown(), in the
 * daemon itself; the dynamic linker resolves PortAudio's calls to the
 * program's definitions first, and each calls libjack's own (dlsym
 * RTLD_NEXT).  The close calls report success to PortAudio when the
 * server is gone (there is nothing left to close on its side), so that
 * PortAudio can be stopped and started again; jack_on_shutdown() adds a
 * note of our own to PortAudio's shutdown callback, so that the daemon
 * learns at once that its JACK devices are lost.  Everything else goes to
 * libjack unchanged.  Without libjack (a PortAudio without JACK) nothing
 * here is ever called.
 */
#pragma once

#include <stdbool.h>

/* Whether the server of PortAudio's JACK client went away since pa_jack_reset(). */
bool pa_jack_lost(void);

/* Forgets a lost server (before PortAudio starts again, with a new client). */
void pa_jack_reset(void);

/*
 * Sets fn, called on JACK's thread when the server goes away (after
 * PortAudio's own callback).  fn must be safe on any thread.
 */
void pa_jack_set_notify(void (*fn)(void *data), void *data);

/* How many times libjack failed to deactivate or close a client (its server was gone). */
unsigned pa_jack_close_failures(void);
