/*
 * Our definitions of five libjack functions that PortAudio's JACK host
 * API calls, each passing on to libjack's (see pa-jack.h for why).
 * jack_set_process_callback(), jack_deactivate() and jack_client_close()
 * run on the thread that starts and stops PortAudio (the loop thread),
 * jack_port_unregister() on the thread that closes a stream (a worker
 * thread), pa_jack_wake() and pa_jack_give_up() on the loop thread; the
 * shutdown note and the process wrapper run on JACK's threads.
 * No locks: the client table is only written by jack_on_shutdown() and
 * jack_client_close(), which PortAudio calls on the thread that starts and
 * stops it, and read by the note through atomics.
 */
#include "pa-jack.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* libjack's types, as <jack/jack.h> declares them (its header is not needed to build). */
typedef struct _jack_client jack_client_t;
typedef struct _jack_port jack_port_t;
typedef void (*JackShutdownCallback)(void *arg);
typedef uint32_t jack_nframes_t;
typedef int (*JackProcessCallback)(jack_nframes_t nframes, void *arg);

/*
 * The program's own definitions, which the dynamic linker prefers to
 * libjack's: visible (the build hides symbols by default), so that the
 * program exports them to libportaudio.
 */
#define INTERPOSE __attribute__((visibility("default")))
INTERPOSE int jack_deactivate(jack_client_t *client);
INTERPOSE int jack_client_close(jack_client_t *client);
INTERPOSE void jack_on_shutdown(jack_client_t *client, JackShutdownCallback function, void *arg);
INTERPOSE int jack_port_unregister(jack_client_t *client, jack_port_t *port);
INTERPOSE int jack_set_process_callback(jack_client_t *client, JackProcessCallback function,
					void *arg);

static atomic_bool lost;
static atomic_bool no_wake; /* pa_jack_wake() could meet a freed stream */
static atomic_uint close_failures;

/* Who to tell about a lost server: set once, read on JACK's thread. */
struct notify {
	void (*fn)(void *data);
	void *data;
};
static struct notify notify_slot;
static _Atomic(struct notify *) notify_target;

/* One shutdown callback PortAudio registered, for the client it registered it with. */
struct shutdown_entry {
	_Atomic(jack_client_t *) client;
	JackShutdownCallback fn;
	void *arg;
};

/* PortAudio has one client at a time; a few slots spare. */
static struct shutdown_entry entries[4];

/* PortAudio's process callback, for the client it registered it with. */
struct process_entry {
	_Atomic(jack_client_t *) client;
	JackProcessCallback fn;
	void *arg;
};

static struct process_entry processes[4];

/* How many process wrappers are inside PortAudio's callback or about to enter it. */
static atomic_uint in_process;

bool pa_jack_lost(void)
{
	return atomic_load(&lost);
}

void pa_jack_reset(void)
{
	atomic_store(&lost, false);
	atomic_store(&no_wake, false);
}

void pa_jack_forbid_wake(void)
{
	atomic_store(&no_wake, true);
}

void pa_jack_set_notify(void (*fn)(void *data), void *data)
{
	atomic_store(&notify_target, NULL);
	notify_slot = (struct notify){ .fn = fn, .data = data };
	if (fn)
		atomic_store(&notify_target, &notify_slot);
}

unsigned pa_jack_close_failures(void)
{
	return atomic_load(&close_failures);
}

/* Stores libjack's definition of name in *fn (a function pointer), or NULL. */
static void real(const char *name, void *fn, size_t size)
{
	/* POSIX's way from dlsym()'s object pointer to a function pointer. */
	void *p = dlsym(RTLD_NEXT, name);

	memset(fn, 0, size);
	if (p && size == sizeof(p))
		memcpy(fn, &p, size);
}

/* JACK's thread: the server went away.  PortAudio hears first, then the daemon. */
static void on_shutdown(void *arg)
{
	struct shutdown_entry *e = arg;
	struct notify *n;

	if (e->fn)
		e->fn(e->arg);
	atomic_store(&lost, true);
	n = atomic_load(&notify_target);
	if (n)
		n->fn(n->data);
}

void jack_on_shutdown(jack_client_t *client, JackShutdownCallback function, void *arg)
{
	void (*next)(jack_client_t *, JackShutdownCallback, void *);
	struct shutdown_entry *e = NULL;

	real("jack_on_shutdown", &next, sizeof(next));
	if (!next)
		return;
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]) && !e; i++)
		if (!atomic_load(&entries[i].client) || atomic_load(&entries[i].client) == client)
			e = &entries[i];
	if (!e) {
		/* No slot left: PortAudio's callback alone, as without us. */
		next(client, function, arg);
		return;
	}
	e->fn = function;
	e->arg = arg;
	atomic_store(&e->client, client);
	next(client, on_shutdown, e);
}

/*
 * JACK's process thread: PortAudio's callback, unless the server was lost
 * or given up.  No lock and no system call: the atomics are what
 * pa_jack_give_up() needs to know that no callback still runs.
 */
static int on_process(jack_nframes_t nframes, void *arg)
{
	struct process_entry *e = arg;
	int r = 0;

	atomic_fetch_add(&in_process, 1);
	if (!atomic_load(&lost))
		r = e->fn(nframes, e->arg);
	atomic_fetch_sub(&in_process, 1);
	return r;
}

int jack_set_process_callback(jack_client_t *client, JackProcessCallback function, void *arg)
{
	int (*next)(jack_client_t *, JackProcessCallback, void *);
	struct process_entry *e = NULL;

	real("jack_set_process_callback", &next, sizeof(next));
	if (!next)
		return -1;
	for (size_t i = 0; i < sizeof(processes) / sizeof(processes[0]) && !e; i++)
		if (!atomic_load(&processes[i].client) || atomic_load(&processes[i].client) == client)
			e = &processes[i];
	if (!e || !function)
		return next(client, function, arg);
	e->fn = function;
	e->arg = arg;
	atomic_store(&e->client, client);
	return next(client, on_process, e);
}

int jack_deactivate(jack_client_t *client)
{
	int (*next)(jack_client_t *);
	int r;

	real("jack_deactivate", &next, sizeof(next));
	r = next ? next(client) : 0;
	/* A client whose server went away cannot be deactivated, and needs not be. */
	if (r != 0) {
		atomic_fetch_add(&close_failures, 1);
		r = 0;
	}
	return r;
}

int jack_client_close(jack_client_t *client)
{
	int (*next)(jack_client_t *);
	int r;

	real("jack_client_close", &next, sizeof(next));
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		if (atomic_load(&entries[i].client) == client)
			atomic_store(&entries[i].client, NULL);
	r = next ? next(client) : 0;
	/* Its process thread is gone with it. */
	for (size_t i = 0; i < sizeof(processes) / sizeof(processes[0]); i++)
		if (atomic_load(&processes[i].client) == client)
			atomic_store(&processes[i].client, NULL);
	/* libjack freed what it could; the rest went with the server. */
	if (r != 0) {
		atomic_fetch_add(&close_failures, 1);
		r = 0;
	}
	return r;
}

int jack_port_unregister(jack_client_t *client, jack_port_t *port)
{
	int (*next)(jack_client_t *, jack_port_t *);
	int r;

	real("jack_port_unregister", &next, sizeof(next));
	r = next ? next(client, port) : 0;
	/* The port went with its server: there is nothing left to unregister. */
	if (r != 0) {
		atomic_fetch_add(&close_failures, 1);
		r = 0;
	}
	return r;
}

void pa_jack_wake(void)
{
	if (!atomic_load(&lost) || atomic_load(&no_wake))
		return;
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		if (atomic_load(&entries[i].client) && entries[i].fn)
			entries[i].fn(entries[i].arg);
}

void pa_jack_notify(void)
{
	struct notify *n = atomic_load(&notify_target);

	if (n)
		n->fn(n->data);
}

void pa_jack_give_up(void)
{
	if (atomic_exchange(&lost, true))
		return;
	/*
	 * From here on the process wrapper leaves PortAudio's callback alone:
	 * a wrapper that entered before it saw lost is counted in in_process
	 * (both sides use sequentially consistent atomics), and PortAudio's
	 * callback never blocks, so the wait is short.
	 */
	while (atomic_load(&in_process) > 0)
		nanosleep(&(struct timespec){ .tv_nsec = 100000 }, NULL);
	pa_jack_wake();
	pa_jack_notify();
}
