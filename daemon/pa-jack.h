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
 *
 * Streams that were open when the server went away need two more things
 * to be closed.  Pa_CloseStream() unregisters their ports and asserts
 * that jack_port_unregister() succeeds, which on a dead client it does
 * not (pa_jack.c:988): we define that one too, and it reports success as
 * the close calls do.  And stopping a started stream (Pa_AbortStream(),
 * and Pa_CloseStream(), which aborts first) waits on a condition that the
 * process callback signals, up to ten minutes: PortAudio's shutdown
 * callback signals it once, when the server goes, which a stop that
 * begins later never sees.  pa_jack_wake() calls PortAudio's shutdown
 * callback again (it only marks the streams of its process queue inactive
 * and the server down, and signals that condition), so that a waiting stop
 * returns; the daemon calls it now and then while a stream call runs on a
 * worker thread.  That queue must hold no freed stream then: streams of a
 * dead server are closed for PortAudio only when it stops (backend-pa.c).
 *
 * A server that is there but stops answering is given up the same way
 * (pa_jack_give_up()); for that, jack_set_process_callback() is defined
 * here too, and PortAudio's process callback is called through a wrapper
 * that skips it once the server is lost.
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

/* Calls the notify function of pa_jack_set_notify(), if any.  Any thread. */
void pa_jack_notify(void);

/*
 * How many times libjack failed to deactivate or close a client, or to
 * unregister a port (its server was gone).
 */
unsigned pa_jack_close_failures(void);

/*
 * When the server went away: delivers PortAudio's shutdown callback again,
 * so that a stop waiting for the dead server returns.  Nothing otherwise.
 * The thread that starts and stops PortAudio (the loop thread).
 */
void pa_jack_wake(void);

/*
 * Gives up PortAudio's JACK client as if its server had gone away, when
 * the server stopped answering it (a stream call waited too long): marks
 * the server lost, so that PortAudio's process callback is not called any
 * more (our wrapper of it, which jack_set_process_callback() installs,
 * returns at once), then delivers PortAudio's shutdown callback (calls
 * that wait for the process callback return, failing) and tells the
 * daemon (the notify of pa_jack_set_notify()).  Not calling PortAudio's
 * process callback any more is what makes this safe: an open that fails
 * so leaves a freed stream in PortAudio's queue of streams to add, which
 * only that callback reads.  The client is closed when PortAudio stops.
 * The loop thread.
 */
void pa_jack_give_up(void);

/*
 * Stops pa_jack_wake() for good (until pa_jack_reset()): a stream may have
 * been freed while PortAudio's process queue still holds it.
 */
void pa_jack_forbid_wake(void);
