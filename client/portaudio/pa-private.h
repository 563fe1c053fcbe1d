/*
 * The PortAudio-compatible library's internals, shared by its files.
 *
 * The library is libportaudio.so.2 with the V19 API of portaudio.h (as in
 * PortAudio 19.6), every function written on libsdc: devices and host APIs
 * are the daemon's, streams are libsdc streams shared with every other
 * client of sddaemon.  The files:
 *
 *   front.c        initialisation, versions, error texts, host APIs and
 *                  devices, Pa_IsFormatSupported, sample sizes, Pa_Sleep
 *   stream.c       opening, starting, stopping and closing streams, their
 *                  state, information, time and load
 *   io.c           moving frames: the callback adapter, Pa_ReadStream,
 *                  Pa_WriteStream, and (de)interleaving for
 *                  paNonInterleaved
 *   hostapi-ext.c  the host-API extensions (PaAlsa_*, PaJack_*, PaOSS_*)
 *
 * Threads: PortAudio lets an application call it from any thread, and
 * calls the stream callback on a thread of its own (here libsdc's callback
 * thread).  The state of the library (pa_lib) is guarded by its lock;
 * what Pa_Initialize() fetched stays unchanged until the last
 * Pa_Terminate().  A stream is used by one application thread at a time,
 * as PortAudio requires.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

/*
 * PortAudio's functions are the library's interface: declared with default
 * visibility (the code is built with hidden), exported as libportaudio.map
 * lists them.
 */
#pragma GCC visibility push(default)
#include <pa_jack.h>
#include <pa_linux_alsa.h>
#include <pa_unix_oss.h>
#include <portaudio.h>

/* portaudio.h declares it without a prototype. */
const PaVersionInfo *Pa_GetVersionInfo(void);

/* Declared by no public header, exported by PortAudio's library. */
PaError PaAlsa_Initialize(void *hostapi, PaHostApiIndex index);
PaError PaJack_Initialize(void *hostapi, PaHostApiIndex index);
PaError PaOSS_Initialize(void *hostapi, PaHostApiIndex index);
#pragma GCC visibility pop

#include "sdc.h"

/* A PaStream* handed to the application points to one of these. */
struct pa_stream {
	unsigned magic; /* PA_STREAM_MAGIC while open */
	struct pa_stream *next;
	sdc_stream *s;
	PaStreamInfo info;
	PaHostApiTypeId hostapi_type;
	int device[2]; /* [input, output], paNoDevice when unused */

	PaStreamCallback *callback; /* NULL: blocking mode */
	PaStreamFinishedCallback *finished;
	void *userdata;
	int stopped; /* as Pa_IsStreamStopped() says: before a start and after a stop or abort */
	/*
	 * Callback streams: the finished callback has run since the last
	 * start.  PortAudio marks a callback stream inactive only after its
	 * finished callback, so Pa_IsStreamActive() goes by this.
	 */
	_Atomic int finished_ran;

	/* Each direction [input, output]: the application's layout. */
	int channels[2];
	size_t sample_bytes[2];
	int planar[2]; /* paNonInterleaved: one buffer per channel */

	/*
	 * paNonInterleaved: channel pointers and the planes they point into,
	 * scratch_frames long (the callback's largest block, or a chunk of a
	 * blocking read or write), and an interleaved scratch for blocking I/O.
	 */
	void **planes[2];
	unsigned char *plane_data[2];
	unsigned char *scratch;
	unsigned long scratch_frames;
};

#define PA_STREAM_MAGIC 0x53445041u /* "APDS" */

/* What Pa_Initialize() fetched from the daemon, and the open streams. */
struct pa_lib {
	pthread_mutex_t lock;
	int init_count;
	sdc_client *client;
	PaDeviceInfo *devices;
	int device_count;
	PaHostApiInfo *hostapis;
	int **hostapi_devices; /* device indices of each host API */
	int hostapi_count;
	int default_hostapi;
	int default_device[2]; /* [input, output], paNoDevice when none */
	int exclusive;	       /* $SDDAEMON_PORTAUDIO_EXCLUSIVE: dedicated, bit-exact streams */
	struct pa_stream *streams;
};

extern struct pa_lib pa_lib;

/* ---- front.c --------------------------------------------------------------- */

/* True between a successful Pa_Initialize() and the last Pa_Terminate(). */
int pa_initialized(void);

/*
 * Records the host error PortAudio's Pa_GetLastHostErrorInfo() reports
 * (text is copied).
 */
void pa_set_host_error(PaHostApiTypeId type, long code, const char *text);

/*
 * Turns libsdc's failure r (and its last error) into a PortAudio error:
 * the daemon's PortAudio error when it sent one, else the nearest code;
 * what has none becomes paUnanticipatedHostError with the daemon's words
 * as the host error text.  type is the host API the call concerned.
 */
PaError pa_error_from_sdc(int r, PaHostApiTypeId type);

/* Returns the host API type of a device (paInDevelopment when out of range). */
PaHostApiTypeId pa_device_hostapi_type(PaDeviceIndex device);

/*
 * Checks stream parameters as PortAudio's front end does before it asks
 * a host API.  Returns paNoError or the error Pa_OpenStream() returns.
 */
PaError pa_validate_parameters(const PaStreamParameters *in, const PaStreamParameters *out,
			       double rate, unsigned long frames_per_buffer, PaStreamFlags flags,
			       PaStreamCallback *callback);

/* Returns the libsdc sample format of a PortAudio one (paNonInterleaved aside), or 0. */
sdc_dtype pa_dtype(PaSampleFormat format);

/* ---- stream.c -------------------------------------------------------------- */

/*
 * Returns the open stream p points to, or NULL with *ret_error set
 * (paNotInitialized, paBadStreamPtr).
 */
struct pa_stream *pa_stream_get(PaStream *p, PaError *ret_error);

/* ---- io.c ------------------------------------------------------------------ */

/* libsdc's callback: runs the application's on the callback thread. */
int pa_io_callback(const void *input, void *output, unsigned long frames,
		   const sdc_time_info *time, unsigned status, void *userdata);

/* libsdc's finished callback: runs the application's. */
void pa_io_finished(void *userdata);

/*
 * Allocates what paNonInterleaved needs for blocks of up to frames frames.
 * Returns paNoError or paInsufficientMemory.
 */
PaError pa_io_alloc(struct pa_stream *ps, unsigned long frames);

/* Frees what pa_io_alloc() allocated. */
void pa_io_free(struct pa_stream *ps);
