/*
 * An LD_PRELOAD library for the test shared_jack: counts the heap calls
 * made inside sddaemon's audio callbacks, the resampler library's
 * included.  It interposes PortAudio's Pa_OpenStream(), wrapping the
 * stream callback in one that marks its thread as inside a callback while
 * it runs, Pa_SetStreamFinishedCallback() and Pa_CloseStream() to match,
 * and malloc and its relatives, which count the calls made inside.  At
 * exit it writes "callbacks N" and "heap_calls M" lines to
 * $SDD_ALLOC_COUNT_FILE.  With SDD_ALLOC_COUNT_SELFTEST=1 the wrapper
 * itself allocates once per callback, so that a test sees the count catch
 * what it must.  Any thread; the counters are atomics.
 */
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <portaudio.h>

/* Looks up the next definition of a function (ISO C casts no data pointer to a function's). */
#define NEXT(fn, name) memcpy(&(fn), &(void *){ dlsym(RTLD_NEXT, name) }, sizeof(void *))

/* The build hides symbols by default: these must interpose on everyone's calls. */
#define EXPORTED __attribute__((visibility("default")))

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void __libc_free(void *p);

/* Initial-exec: reading it never calls into the dynamic linker (which may allocate). */
static __thread bool inside __attribute__((tls_model("initial-exec")));
static atomic_ulong callbacks, heap_calls;
static bool selftest;

/* A stream's own callbacks, kept while PortAudio calls ours. */
struct wrap {
	PaStreamCallback *callback;
	PaStreamFinishedCallback *finished;
	void *data;
	PaStream *stream;
	struct wrap *next;
};

static struct wrap *wraps;
static pthread_mutex_t wraps_lock = PTHREAD_MUTEX_INITIALIZER;

static void count(void)
{
	if (inside)
		atomic_fetch_add_explicit(&heap_calls, 1, memory_order_relaxed);
}

EXPORTED void *malloc(size_t size)
{
	count();
	return __libc_malloc(size);
}

EXPORTED void *calloc(size_t n, size_t size)
{
	count();
	return __libc_calloc(n, size);
}

EXPORTED void *realloc(void *p, size_t size)
{
	count();
	return __libc_realloc(p, size);
}

EXPORTED void free(void *p)
{
	if (p)
		count();
	__libc_free(p);
}

EXPORTED int posix_memalign(void **ret, size_t align, size_t size)
{
	void *p;

	count();
	p = __libc_memalign(align, size);
	if (!p)
		return 12; /* ENOMEM */
	*ret = p;
	return 0;
}

EXPORTED void *aligned_alloc(size_t align, size_t size)
{
	count();
	return __libc_memalign(align, size);
}

EXPORTED void *memalign(size_t align, size_t size)
{
	count();
	return __libc_memalign(align, size);
}

static int wrapped_callback(const void *input, void *output, unsigned long frames,
			    const PaStreamCallbackTimeInfo *time, PaStreamCallbackFlags flags,
			    void *data)
{
	struct wrap *w = data;
	int r;

	inside = true;
	atomic_fetch_add_explicit(&callbacks, 1, memory_order_relaxed);
	if (selftest) {
		/* volatile: the compiler would drop a malloc() whose block is freed unused. */
		void *volatile p = malloc(16);

		free(p);
	}
	r = w->callback(input, output, frames, time, flags, w->data);
	inside = false;
	return r;
}

static void wrapped_finished(void *data)
{
	struct wrap *w = data;

	if (w->finished)
		w->finished(w->data);
}

EXPORTED PaError Pa_OpenStream(PaStream **stream, const PaStreamParameters *in,
			       const PaStreamParameters *out, double rate, unsigned long frames,
			       PaStreamFlags flags, PaStreamCallback *callback, void *data)
{
	PaError (*real)(PaStream **, const PaStreamParameters *, const PaStreamParameters *, double,
			unsigned long, PaStreamFlags, PaStreamCallback *, void *);
	struct wrap *w;
	PaError r;

	NEXT(real, "Pa_OpenStream");
	if (!callback)
		return real(stream, in, out, rate, frames, flags, callback, data);
	w = calloc(1, sizeof(*w));
	if (!w)
		return paInsufficientMemory;
	w->callback = callback;
	w->data = data;
	r = real(stream, in, out, rate, frames, flags, wrapped_callback, w);
	if (r != paNoError) {
		free(w);
		return r;
	}
	w->stream = *stream;
	pthread_mutex_lock(&wraps_lock);
	w->next = wraps;
	wraps = w;
	pthread_mutex_unlock(&wraps_lock);
	return r;
}

/* The wrap of stream, or NULL. */
static struct wrap *find(PaStream *stream)
{
	struct wrap *w;

	pthread_mutex_lock(&wraps_lock);
	for (w = wraps; w && w->stream != stream; w = w->next)
		;
	pthread_mutex_unlock(&wraps_lock);
	return w;
}

EXPORTED PaError Pa_SetStreamFinishedCallback(PaStream *stream, PaStreamFinishedCallback *fn)
{
	PaError (*real)(PaStream *, PaStreamFinishedCallback *);
	struct wrap *w = find(stream);

	NEXT(real, "Pa_SetStreamFinishedCallback");
	if (!w)
		return real(stream, fn);
	w->finished = fn;
	return real(stream, fn ? wrapped_finished : NULL);
}

EXPORTED PaError Pa_CloseStream(PaStream *stream)
{
	PaError (*real)(PaStream *);
	struct wrap **p;
	PaError r;

	NEXT(real, "Pa_CloseStream");
	r = real(stream);
	pthread_mutex_lock(&wraps_lock);
	for (p = &wraps; *p; p = &(*p)->next)
		if ((*p)->stream == stream) {
			struct wrap *w = *p;

			*p = w->next;
			free(w);
			break;
		}
	pthread_mutex_unlock(&wraps_lock);
	return r;
}

__attribute__((constructor)) static void start(void)
{
	const char *s = getenv("SDD_ALLOC_COUNT_SELFTEST");

	selftest = s && strcmp(s, "1") == 0;
}

__attribute__((destructor)) static void report(void)
{
	const char *path = getenv("SDD_ALLOC_COUNT_FILE");
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "callbacks %lu\nheap_calls %lu\n", atomic_load(&callbacks),
		atomic_load(&heap_calls));
	fclose(f);
}
