/*
 * Our definitions of three libjack functions that PortAudio's JACK host
 * API calls, each passing on to libjack's (see pa-jack.h for why).
 * jack_deactivate() and jack_client_close() run on the thread that stops
 * PortAudio (the loop thread); the shutdown note runs on JACK's thread.
 * No locks: the client table is only written by jack_on_shutdown() and
 * jack_client_close(), which PortAudio calls on the thread that starts and
 * stops it, and read by the note through atomics.
 */
#include "pa-jack.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

/* libjack's types, as <jack/jack.h> declares them (its header is not needed to build). */
typedef struct _jack_client jack_client_t;
typedef void (*JackShutdownCallback)(void *arg);

/*
 * The program's own definitions, which the dynamic linker prefers to
 * libjack's: visible (the build hides symbols by default), so that the
 * program exports them to libportaudio.
 */
#define INTERPOSE __attribute__((visibility("default")))
INTERPOSE int jack_deactivate(jack_client_t *client);
INTERPOSE int jack_client_close(jack_client_t *client);
INTERPOSE void jack_on_shutdown(jack_client_t *client, JackShutdownCallback function, void *arg);

static atomic_bool lost;
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

bool pa_jack_lost(void)
{
	return atomic_load(&lost);
}

void pa_jack_reset(void)
{
	atomic_store(&lost, false);
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
	/* libjack freed what it could; the rest went with the server. */
	if (r != 0) {
		atomic_fetch_add(&close_failures, 1);
		r = 0;
	}
	return r;
}
