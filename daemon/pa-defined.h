/*
 * Values that come from PortAudio, declared defined to valgrind's memcheck.
 * Any thread.
 *
 * PortAudio 19.6 (Debian 12's libportaudio2) hands alsa-lib an
 * uninitialised direction argument of snd_pcm_hw_params_set_period_size_near()
 * (PortAudio issues #263 and #283, fixed after 19.6), and alsa-lib's
 * virtual PCMs leave more of their own stack and buffers unset.  memcheck
 * follows those undefined bits through everything PortAudio computes from
 * them: the devices' default latencies, a stream's latency, the frame count
 * and the timestamps of every callback, a null device's capture.  Each use
 * of them in our code would be reported, and would hide the reports that
 * are about our code.
 *
 * So where such a value enters the daemon, pa_defined() tells memcheck to
 * take it as defined: what memcheck finds inside PortAudio and alsa-lib is
 * theirs (tools/valgrind.supp names it), and past this point a report about
 * an undefined value is about our code.  Only values PortAudio produces are
 * marked, never our own memory.  Without valgrind's header, or outside
 * valgrind, it costs a few instructions that do nothing; it makes no system
 * call, so the audio thread may use it.
 */
#pragma once

#include <stddef.h>

#include "config.h"

#if HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/memcheck.h>
#endif

/* Marks size bytes at p, written by PortAudio, as defined for memcheck. */
static inline void pa_defined(const volatile void *p, size_t size)
{
#if HAVE_VALGRIND_MEMCHECK_H
	(void)VALGRIND_MAKE_MEM_DEFINED(p, size);
#else
	(void)p;
	(void)size;
#endif
}
