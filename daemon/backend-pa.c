/*
 * The device backend on PortAudio: initialisation, the device and host-API
 * lists with their stable ids, binding the daemon's indices to PortAudio's
 * devices, settings checks, and streams whose callbacks (backend-pa-rt.c)
 * call the device stream's.  PortAudio's query functions are not safe on
 * other threads, so everything here but start, stop, abort and close runs
 * on the loop thread (see backend.h).
 *
 * The daemon's list outlives PortAudio's: devices that appear after
 * Pa_Initialize are not in PortAudio's list until it starts again, which
 * it cannot while streams are open.  ALSA devices among them are opened
 * by name all the same, through PortAudio's ALSA host-API-specific stream
 * info (paUseHostApiSpecificDeviceSpecification with a PaAlsaStreamInfo
 * naming the PCM), which PortAudio 19.6 passes straight to snd_pcm_open();
 * JACK has no such way (pa_jack.c opens ports of the client it made at
 * Pa_Initialize), so a JACK device that came or came back waits for the
 * next initialisation (see devices-rescan.c and pa-jack.h).
 *
 * Stream calls may block (pa_jack.c waits for its server's process
 * callback, up to ten minutes, which a killed server never makes), so the
 * daemon runs start, stop, abort and close on worker threads
 * (threaded_calls).  PortAudio is not made for stream calls on several
 * threads at once: pa_jack.c's open, start, stop and close all wait on one
 * condition of the host API, which its process callback signals once per
 * change, so two of them at once lose a wake-up (and wait the ten
 * minutes); and the list of open streams in pa_front.c is changed without
 * a lock by open and close.  So the stream calls take turns (the
 * semaphore calls, which the thread that ends a call posts): the worker
 * threads wait for their turn, the loop thread's open only for
 * PA_OPEN_WAIT_MS (then it fails as busy).
 *
 * An open on JACK waits for its server too (its ports are registered over
 * the server's socket, and the stream is taken in by the process
 * callback), and a server that is stopped or no longer runs the daemon's
 * client keeps it waiting for good.  So a JACK open runs on a thread of
 * its own (backend-pa-open.c), which the loop thread waits for at most
 * backend_params.wait_ms; then the open fails, the server is given up as
 * lost (pa_jack_give_up()), and the thread keeps the turn until its open
 * returns.  While it does, every open fails at once, and PortAudio is not
 * stopped (stuck).  A start, stop or close on JACK that runs longer than
 * that on its worker thread gives the server up too (pa_unblock()), so
 * that it returns and frees the turn.
 */
#include "backend-pa.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <alsa/asoundlib.h>
#include <pa_jack.h>
#include <pa_linux_alsa.h>

#include "pa-defined.h"
#include "pa-jack.h"
#include "sample.h"
#include "utf8.h"

/* A device of the running PortAudio's list. */
struct pa_known {
	char *uid;
	char *name;
	int pa_index;
	PaHostApiTypeId type;
};

/* How the running PortAudio opens one device of the daemon's list. */
struct pa_slot {
	enum backend_binding binding;
	int pa_index;  /* BACKEND_BOUND: PortAudio's index */
	char *locator; /* BACKEND_BY_NAME: the ALSA PCM name */
	PaHostApiTypeId type;
};

struct pa_backend {
	struct backend base;
	char exe[4096]; /* this program, for the probe */
	bool initialized;
	unsigned starts; /* Pa_Initialize calls so far */
	struct pa_known *known; /* PortAudio's devices as we list them, since Pa_Initialize */
	int known_count;
	struct pa_slot *slots; /* the daemon's list, as bound */
	int slot_count;
	struct pa_probe *probe;
	backend_probe_fn probe_done;
	void *probe_data;
	sem_t calls; /* the turn of the stream call that runs (see above) */
	struct pa_stream *zombies; /* JACK streams closed for the daemon only (calls held) */
	atomic_uint stuck;	   /* opens given up while they still run */
	atomic_ullong jack_call_until; /* when the running stream call on JACK gives up (ms), or 0 */
};

/*
 * How long an open on the loop thread waits for another stream call to
 * end, waking a stop that waits for a dead JACK server every PA_WAKE_MS.
 */
#define PA_OPEN_WAIT_MS 500
#define PA_WAKE_MS 10

/* How long a call on JACK waits for the server (see above) unless the daemon says. */
#define PA_JACK_WAIT_MS 5000

static struct pa_backend *of(struct backend *b)
{
	return (struct pa_backend *)b;
}

/* Waits for the turn of a stream call (see above); sem_post(&pb->calls) gives it back. */
static void turn_take(struct pa_backend *pb)
{
	while (sem_wait(&pb->calls) != 0 && errno == EINTR)
		;
}

/* Describes a PortAudio error (with the host API's, when PortAudio names one). */
static int pa_error(struct backend_error *be, PaError pa)
{
	*be = (struct backend_error){ .code = pa, .busy = pa == paDeviceUnavailable, .host_api = -1 };
	snprintf(be->text, sizeof(be->text), "%s", Pa_GetErrorText(pa));
	if (pa == paUnanticipatedHostError) {
		const PaHostErrorInfo *h = Pa_GetLastHostErrorInfo();

		be->has_host_error = true;
		be->host_api = h ? Pa_HostApiTypeIdToHostApiIndex(h->hostApiType) : -1;
		be->host_error = h ? h->errorCode : 0;
		snprintf(be->host_text, sizeof(be->host_text), "%s",
			 h && h->errorText ? h->errorText : "");
	}
	return -EINVAL;
}

/* Converts a wire sample format to PortAudio's. */
static PaSampleFormat pa_format(int dtype)
{
	switch (dtype) {
	case SAMPLE_INT32:
		return paInt32;
	case SAMPLE_INT24:
		return paInt24;
	case SAMPLE_INT16:
		return paInt16;
	case SAMPLE_INT8:
		return paInt8;
	case SAMPLE_UINT8:
		return paUInt8;
	default:
		return paFloat32;
	}
}

/* Converts our stream options to PortAudio's flags. */
static PaStreamFlags pa_flags(unsigned flags)
{
	PaStreamFlags f = paNoFlag;

	if (flags & BACKEND_CLIP_OFF)
		f |= paClipOff;
	if (flags & BACKEND_DITHER_OFF)
		f |= paDitherOff;
	if (flags & BACKEND_NEVER_DROP_INPUT)
		f |= paNeverDropInput;
	if (flags & BACKEND_PRIME_OUTPUT)
		f |= paPrimeOutputBuffersUsingStreamCallback;
	return f;
}

/* Says why the running PortAudio cannot open a device; returns -EINVAL. */
static int unbound_error(struct backend_error *be, const struct pa_slot *slot, int device)
{
	const char *why;

	*be = (struct backend_error){ .code = paDeviceUnavailable, .busy = true, .host_api = -1 };
	switch (slot ? slot->binding : BACKEND_UNBOUND) {
	case BACKEND_NEEDS_REINIT:
		why = "it is newer than PortAudio's device list: it opens once PortAudio restarts, when no device stream is open";
		break;
	case BACKEND_NEEDS_REINIT_LOST:
		why = "its JACK server went away: it opens again once PortAudio restarts, when no device stream is open";
		break;
	default:
		be->busy = false;
		be->code = paInvalidDevice;
		snprintf(be->text, sizeof(be->text), "%s %d",
			 slot ? "PortAudio cannot open a device that went away:" : "there is no device",
			 device);
		return -EINVAL;
	}
	snprintf(be->text, sizeof(be->text), "%s", why);
	return -EINVAL;
}

/*
 * Fills PortAudio's parameters for one direction of a stream on the
 * daemon's device, with alsa naming the PCM when PortAudio opens it by
 * name.  Returns 0, or -EINVAL with be set when it cannot open it.
 */
static int pa_direction(struct pa_backend *pb, int device, int channels, int format,
			double latency, PaStreamParameters *ret, PaAlsaStreamInfo *alsa,
			struct backend_error *be)
{
	const struct pa_slot *slot = device >= 0 && device < pb->slot_count ? &pb->slots[device]
									     : NULL;

	if (!pb->initialized) {
		*be = (struct backend_error){ .code = paNotInitialized, .host_api = -1 };
		snprintf(be->text, sizeof(be->text),
			 "PortAudio is not running: it failed to start again (see the daemon's log)");
		return -EINVAL;
	}

	*ret = (PaStreamParameters){
		.channelCount = channels,
		.sampleFormat = pa_format(format),
		.suggestedLatency = latency,
	};
	if (slot && slot->binding == BACKEND_BOUND && slot->type == paJACK && pa_jack_lost())
		return unbound_error(be, &(struct pa_slot){ .binding = BACKEND_NEEDS_REINIT_LOST },
				     device);
	if (slot && slot->binding == BACKEND_BOUND) {
		ret->device = slot->pa_index;
		return 0;
	}
	if (slot && slot->binding == BACKEND_BY_NAME) {
		PaAlsa_InitializeStreamInfo(alsa);
		alsa->deviceString = slot->locator;
		ret->device = paUseHostApiSpecificDeviceSpecification;
		ret->hostApiSpecificStreamInfo = alsa;
		return 0;
	}
	return unbound_error(be, slot, device);
}

/* Fills PortAudio's parameters for the directions p has; returns 0 or -EINVAL with be set. */
static int pa_params(struct pa_backend *pb, const struct backend_params *p,
		     PaStreamParameters *in, PaStreamParameters *out, PaAlsaStreamInfo alsa[2],
		     struct backend_error *be)
{
	if (p->device_in >= 0 && pa_direction(pb, p->device_in, p->channels_in, p->format_in,
					      p->latency_in, in, &alsa[0], be) < 0)
		return -EINVAL;
	if (p->device_out >= 0 && pa_direction(pb, p->device_out, p->channels_out, p->format_out,
					       p->latency_out, out, &alsa[1], be) < 0)
		return -EINVAL;
	return 0;
}

/* Frees what the running PortAudio's list holds. */
static void known_free(struct pa_backend *pb)
{
	for (int i = 0; i < pb->known_count; i++) {
		free(pb->known[i].uid);
		free(pb->known[i].name);
	}
	free(pb->known);
	pb->known = NULL;
	pb->known_count = 0;
}

/* Frees the bound slots. */
static void slots_free(struct pa_backend *pb)
{
	for (int i = 0; i < pb->slot_count; i++)
		free(pb->slots[i].locator);
	free(pb->slots);
	pb->slots = NULL;
	pb->slot_count = 0;
}

/*
 * Returns whether alsa-lib's configuration defines pcm.default or
 * pcm.dmix.  PortAudio 19.6 lists ALSA's PCMs in two passes, the second
 * for those two, and asserts that the first left room for it
 * (pa_linux_alsa.c:1454, "devIdx < numDeviceNames"): without either, and
 * every other PCM usable, it aborts the process.  A configuration read
 * while someone rewrites it can be that.
 */
static bool alsa_config_sane(void)
{
	snd_config_t *top, *node;
	bool sane;

	if (snd_config_update_ref(&top) < 0)
		return false;
	sane = snd_config_search(top, "pcm.default", &node) >= 0 ||
	       snd_config_search(top, "pcm.dmix", &node) >= 0;
	snd_config_unref(top);
	return sane;
}

static int pa_init(struct backend *b, struct backend_error *err)
{
	struct pa_backend *pb = of(b);
	const char *text = Pa_GetVersionText();
	PaError pa;

	/*
	 * Our PortAudio-compatible library (client/portaudio) has PortAudio's
	 * name and symbols, and an LD_LIBRARY_PATH pointing at it (sdctl run,
	 * a test tree) would make the daemon its own client: refuse it.
	 */
	if (text && strstr(text, "sddaemon")) {
		*err = (struct backend_error){ .code = paInternalError, .host_api = -1 };
		snprintf(err->text, sizeof(err->text),
			 "sddaemon's own compatibility library was loaded as PortAudio; check LD_LIBRARY_PATH");
		return -ELIBBAD;
	}
	/* The first start is PortAudio's as ever; starting again must not abort a running daemon. */
	if (pb->starts++ > 0 && !alsa_config_sane()) {
		*err = (struct backend_error){ .code = paInternalError, .host_api = -1 };
		snprintf(err->text, sizeof(err->text),
			 "the ALSA configuration defines neither pcm.default nor pcm.dmix now, without which PortAudio aborts");
		return -EINVAL;
	}

	/* A new PortAudio makes a new JACK client: whatever happened to the old one is past. */
	pa_jack_reset();
	PaJack_SetClientName(BACKEND_PA_JACK_NAME);
	pa = Pa_Initialize();
	if (pa != paNoError)
		return pa_error(err, pa);
	pb->initialized = true;
	return 0;
}

/*
 * Closes for PortAudio the JACK streams that its lost server left (see
 * pa_close()): stopped, they close without waiting, and nothing walks
 * PortAudio's process queue any more.  The loop thread, with no stream
 * call running (before Pa_Terminate).
 */
static void close_zombies(struct pa_backend *pb)
{
	turn_take(pb);
	while (pb->zombies) {
		struct pa_stream *s = pb->zombies;

		pb->zombies = s->next_zombie;
		Pa_CloseStream(s->pa);
		free(s);
	}
	sem_post(&pb->calls);
}

static void pa_fini(struct backend *b)
{
	struct pa_backend *pb = of(b);

	close_zombies(pb);
	if (pb->initialized)
		Pa_Terminate();
	pb->initialized = false;
	known_free(pb);
	slots_free(pb);
}

static int pa_enumerate(struct backend *b, struct backend_devlist *l)
{
	struct pa_backend *pb = of(b);
	int *pa_index, r;

	r = backend_pa_list(l, &pa_index);
	if (r < 0)
		return r;
	known_free(pb);
	pb->known = calloc((size_t)l->count + 1, sizeof(*pb->known));
	if (!pb->known)
		goto oom;
	for (int i = 0; i < l->count; i++) {
		struct pa_known *k = &pb->known[i];
		const PaHostApiInfo *api = Pa_GetHostApiInfo(l->dev[i].hostapi);

		pb->known_count = i + 1;
		k->uid = strdup(l->dev[i].uid);
		k->name = strdup(l->dev[i].name);
		k->pa_index = pa_index[i];
		k->type = api ? api->type : paInDevelopment;
		if (!k->uid || !k->name)
			goto oom;
	}
	free(pa_index);
	return 0;
oom:
	free(pa_index);
	known_free(pb);
	backend_devlist_free(l);
	return -ENOMEM;
}

/*
 * Binds the daemon's devices: PortAudio's own devices by index (the same
 * uid and the same name: an ALSA card plugged in again under another
 * number has another name, and its old index would open the wrong card),
 * other ALSA devices by name, the rest not until PortAudio starts again.
 */
static int pa_bind(struct backend *b, const struct device_info *dev, int count,
		   enum backend_binding *ret)
{
	struct pa_backend *pb = of(b);
	struct pa_slot *slots = calloc((size_t)count + 1, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (int i = 0; i < count; i++) {
		struct pa_slot *s = &slots[i];
		const struct pa_known *k = NULL;

		*s = (struct pa_slot){ .binding = BACKEND_UNBOUND, .pa_index = -1,
				       .type = paInDevelopment };
		for (int j = 0; j < pb->known_count && !k && !dev[i].gone; j++)
			if (strcmp(pb->known[j].uid, dev[i].uid) == 0 &&
			    strcmp(pb->known[j].name, dev[i].name) == 0)
				k = &pb->known[j];
		if (dev[i].gone) {
			s->binding = BACKEND_UNBOUND;
		} else if (k && k->type == paJACK && pa_jack_lost()) {
			s->binding = BACKEND_NEEDS_REINIT_LOST;
			s->type = k->type;
		} else if (k) {
			s->binding = BACKEND_BOUND;
			s->pa_index = k->pa_index;
			s->type = k->type;
		} else if (dev[i].locator) {
			s->binding = BACKEND_BY_NAME;
			s->type = paALSA;
			s->locator = strdup(dev[i].locator);
			if (!s->locator) {
				for (int j = 0; j < i; j++)
					free(slots[j].locator);
				free(slots);
				return -ENOMEM;
			}
		} else {
			s->binding = BACKEND_NEEDS_REINIT;
		}
		ret[i] = s->binding;
	}
	slots_free(pb);
	pb->slots = slots;
	pb->slot_count = count;
	/*
	 * A PCM opened by name may be new to alsa-lib's configuration, which
	 * this process read earlier and rereads only when a file's mtime (in
	 * whole seconds) changed: a PCM added within the same second would stay
	 * unknown.  Dropping the global configuration makes the next open read
	 * it afresh; open PCMs hold no reference to it, and alsa-lib counts
	 * those of the plugins it loaded.
	 */
	for (int i = 0; i < count; i++)
		if (slots[i].binding == BACKEND_BY_NAME) {
			snd_config_update_free_global();
			break;
		}
	return 0;
}

static int pa_check(struct backend *b, const struct backend_params *p, struct backend_error *err)
{
	PaStreamParameters in, out;
	PaAlsaStreamInfo alsa[2];
	PaError pa;

	if (pa_params(of(b), p, &in, &out, alsa, err) < 0)
		return -EINVAL;
	pa = Pa_IsFormatSupported(p->device_in >= 0 ? &in : NULL, p->device_out >= 0 ? &out : NULL,
				  p->samplerate);
	return pa == paFormatIsSupported ? 0 : pa_error(err, pa);
}

/* Whether the daemon's device (-1: none) is on PortAudio's JACK host API. */
static bool on_jack(const struct pa_backend *pb, int device)
{
	return device >= 0 && device < pb->slot_count && pb->slots[device].type == paJACK;
}

/*
 * The thread of an open that the loop thread gave up on (backend-pa-open.c)
 * ended: s was never the daemon's.  PortAudio may stop again, and the
 * daemon hears of it as of a device change.
 */
static void open_gone(void *arg)
{
	struct pa_stream *s = arg;
	struct pa_backend *pb = of(s->base.backend);

	free(s);
	atomic_fetch_sub(&pb->stuck, 1);
	pa_jack_notify();
}

/*
 * The loop thread's turn for an open: waits at most PA_OPEN_WAIT_MS for the
 * stream call of a worker thread to end.  Returns whether the turn came
 * (then the caller posts calls).
 */
static bool open_turn(struct pa_backend *pb)
{
	for (int waited = 0; sem_trywait(&pb->calls) != 0; waited += PA_WAKE_MS) {
		struct timespec until;

		if (waited >= PA_OPEN_WAIT_MS)
			return false;
		/* The call that has the turn may be a stop waiting for a dead JACK server. */
		pa_jack_wake();
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)PA_WAKE_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		if (sem_timedwait(&pb->calls, &until) == 0)
			return true;
	}
	return true;
}

static int pa_open(struct backend *b, const struct backend_params *p,
		   const struct backend_callbacks *cb, struct backend_stream **ret,
		   struct backend_error *err)
{
	struct pa_stream *s;
	PaStreamParameters in = { 0 }, out = { 0 };
	PaAlsaStreamInfo alsa[2];
	PaError pa;

	if (pa_params(of(b), p, &in, &out, alsa, err) < 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		*err = (struct backend_error){ .code = paInsufficientMemory, .host_api = -1 };
		snprintf(err->text, sizeof(err->text), "out of memory");
		return -ENOMEM;
	}
	s->base.backend = b;
	s->cb = *cb;
	if (p->device_in >= 0)
		s->input_frame_bytes = sample_format_size(p->format_in) * (size_t)p->channels_in;
	s->jack = on_jack(of(b), p->device_in) || on_jack(of(b), p->device_out);
	s->wait_ms = p->wait_ms ? p->wait_ms : PA_JACK_WAIT_MS;
	if (atomic_load(&of(b)->stuck) > 0 || !open_turn(of(b))) {
		free(s);
		*err = (struct backend_error){ .code = paDeviceUnavailable, .busy = true,
					       .host_api = -1 };
		snprintf(err->text, sizeof(err->text), "%s",
			 atomic_load(&of(b)->stuck) > 0
				 ? "the audio system still waits for a JACK server that stopped answering; try again later"
				 : "the audio system is still stopping another stream; try again");
		return -EINVAL;
	}
	/*
	 * A JACK open on a thread of its own (see above).  Parameters that
	 * point at host-API-specific stream info (an ALSA PCM by name, on
	 * this stack) stay here: PortAudio refuses a stream across two host
	 * APIs before it reaches either.
	 */
	if (s->jack && (p->device_in < 0 || !in.hostApiSpecificStreamInfo) &&
	    (p->device_out < 0 || !out.hostApiSpecificStreamInfo)) {
		struct pa_open_call call = {
			.in = in, .out = out, .has_in = p->device_in >= 0,
			.has_out = p->device_out >= 0, .rate = p->samplerate,
			.frames = p->blocksize, .flags = pa_flags(p->flags),
			.callback = backend_pa_process, .finished = backend_pa_finished, .data = s,
		};
		unsigned wait_ms = s->wait_ms;
		int r;

		atomic_fetch_add(&of(b)->stuck, 1);
		r = pa_open_bounded(&call, &of(b)->calls, wait_ms, open_gone, s, &s->pa, &pa);
		if (r == -ETIMEDOUT) {
			/* s is the open's thread's now, and freed when the open returns. */
			pa_jack_give_up();
			*err = (struct backend_error){ .code = paTimedOut, .busy = true,
						       .host_api = -1 };
			snprintf(err->text, sizeof(err->text),
				 "the JACK server did not answer within %.1f s: it opens again once PortAudio restarts",
				 wait_ms / 1000.0);
			return -EINVAL;
		}
		atomic_fetch_sub(&of(b)->stuck, 1);
		if (r < 0) {
			sem_post(&of(b)->calls);
			free(s);
			*err = (struct backend_error){ .code = paInsufficientMemory, .host_api = -1 };
			snprintf(err->text, sizeof(err->text), "cannot start a thread: %s",
				 strerror(-r));
			return r;
		}
	} else {
		pa = Pa_OpenStream(&s->pa, p->device_in >= 0 ? &in : NULL,
				   p->device_out >= 0 ? &out : NULL, p->samplerate, p->blocksize,
				   pa_flags(p->flags), backend_pa_process, s);
		if (pa == paNoError)
			Pa_SetStreamFinishedCallback(s->pa, backend_pa_finished);
	}
	sem_post(&of(b)->calls);
	if (pa != paNoError) {
		free(s);
		return pa_error(err, pa);
	}
	*ret = &s->base;
	return 0;
}

/* The backend of a stream, whose calls take turns. */
static struct pa_backend *backend_of(struct backend_stream *bs)
{
	return of(bs->backend);
}

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

/* Worker threads: the turn of a call on s, timed when s is on JACK (see pa_unblock()). */
static void call_begin(struct pa_stream *s)
{
	struct pa_backend *pb = backend_of(&s->base);

	turn_take(pb);
	if (s->jack)
		atomic_store(&pb->jack_call_until, now_ms() + s->wait_ms);
}

static void call_end(struct pa_stream *s)
{
	struct pa_backend *pb = backend_of(&s->base);

	atomic_store(&pb->jack_call_until, 0);
	sem_post(&pb->calls);
}

/* Worker threads: start, stop, abort and close, each in its turn. */
static int pa_start(struct backend_stream *bs, struct backend_error *err)
{
	struct pa_stream *s = (struct pa_stream *)bs;
	PaError pa;

	call_begin(s);
	pa = Pa_StartStream(s->pa);
	if (pa != paNoError)
		pa_error(err, pa);
	call_end(s);
	return pa == paNoError ? 0 : -EINVAL;
}

static int pa_stop(struct backend_stream *bs)
{
	struct pa_stream *s = (struct pa_stream *)bs;
	int r;

	call_begin(s);
	r = Pa_IsStreamStopped(s->pa) == 0 && Pa_StopStream(s->pa) != paNoError ? -EIO : 0;
	call_end(s);
	return r;
}

static int pa_abort(struct backend_stream *bs)
{
	struct pa_stream *s = (struct pa_stream *)bs;
	int r;

	call_begin(s);
	r = Pa_IsStreamStopped(s->pa) == 0 && Pa_AbortStream(s->pa) != paNoError ? -EIO : 0;
	call_end(s);
	return r;
}

/*
 * A JACK stream whose server went away is closed for the daemon only: it
 * stays PortAudio's until PortAudio stops (pa_fini()).  pa_jack.c leaves
 * such a stream in its process queue (only the dead process callback takes
 * streams out), and frees it on close; a stop that waits for the dead
 * server is woken by walking that queue (pa_jack_wake()), which must not
 * meet a freed stream.  A JACK stream closed as its server went away may
 * have been freed in the queue: from then on nothing walks it.
 */
static void pa_close(struct backend_stream *bs)
{
	struct pa_stream *s = (struct pa_stream *)bs;
	struct pa_backend *pb;

	if (!s)
		return;
	pb = backend_of(bs);
	call_begin(s);
	if (s->jack && pa_jack_lost()) {
		/* Its process callback never runs again: the server that ran it is gone. */
		s->next_zombie = pb->zombies;
		pb->zombies = s;
		call_end(s);
		return;
	}
	Pa_CloseStream(s->pa);
	if (s->jack && pa_jack_lost())
		pa_jack_forbid_wake();
	call_end(s);
	free(s);
}

static double pa_time(struct backend_stream *bs)
{
	double now = Pa_GetStreamTime(((struct pa_stream *)bs)->pa);

	pa_defined(&now, sizeof(now)); /* alsa-lib's timestamps (see pa-defined.h) */
	return now;
}

static double pa_cpu_load(struct backend_stream *bs)
{
	return Pa_GetStreamCpuLoad(((struct pa_stream *)bs)->pa);
}

static void pa_info(struct backend_stream *bs, struct backend_stream_info *ret)
{
	const PaStreamInfo *info = Pa_GetStreamInfo(((struct pa_stream *)bs)->pa);

	*ret = (struct backend_stream_info){ 0 };
	if (!info)
		return;
	/* Computed from alsa-lib's period sizes: undefined to valgrind (see pa-defined.h). */
	pa_defined(info, sizeof(*info));
	ret->samplerate = info->sampleRate;
	ret->latency_in = info->inputLatency;
	ret->latency_out = info->outputLatency;
}

static int pa_version(struct backend *b, const char **ret_text)
{
	*ret_text = Pa_GetVersionText();
	return Pa_GetVersion();
}

/* The probe ended (backend-pa-probe.c): it is no longer ours to cancel. */
static void on_probe_done(void *data, int status, struct backend_devlist *list)
{
	struct pa_backend *pb = data;

	pb->probe = NULL;
	pb->probe_done(pb->probe_data, status, list);
}

static int pa_probe(struct backend *b, uv_loop_t *loop, unsigned timeout_ms,
		    backend_probe_fn done, void *data)
{
	struct pa_backend *pb = of(b);

	if (pb->probe)
		return -EBUSY;
	if (!pb->exe[0])
		return -ENOENT;
	pb->probe_done = done;
	pb->probe_data = data;
	return pa_probe_start(pb->exe, loop, timeout_ms, on_probe_done, pb, &pb->probe);
}

static void pa_probe_cancel_op(struct backend *b)
{
	struct pa_backend *pb = of(b);

	if (pb->probe)
		pa_probe_cancel(pb->probe);
	pb->probe = NULL;
}

static void pa_set_notify(struct backend *b, void (*fn)(void *data), void *data)
{
	pa_jack_set_notify(fn, data);
}

static unsigned pa_stuck(struct backend *b)
{
	return atomic_load(&of(b)->stuck);
}

/*
 * A call that waits for a JACK server that went away returns once woken
 * (see pa-jack.h); one that waited longer than its stream's wait_ms for
 * a server that is there gives that server up first.
 */
static void pa_unblock(struct backend *b)
{
	unsigned long long until = atomic_load(&of(b)->jack_call_until);

	/* A call on JACK that waits this long waits for a server that stopped answering. */
	if (until && now_ms() > until)
		pa_jack_give_up();
	pa_jack_wake();
}

static const struct backend_ops pa_ops = {
	.name = "PortAudio",
	.init = pa_init,
	.fini = pa_fini,
	.enumerate = pa_enumerate,
	.check = pa_check,
	.open = pa_open,
	.start = pa_start,
	.stop = pa_stop,
	.abort = pa_abort,
	.close = pa_close,
	.time = pa_time,
	.cpu_load = pa_cpu_load,
	.info = pa_info,
	.version = pa_version,
	.probe = pa_probe,
	.probe_cancel = pa_probe_cancel_op,
	.bind = pa_bind,
	.set_notify = pa_set_notify,
	.unblock = pa_unblock,
	.stuck = pa_stuck,
};

struct backend *backend_pa_new(void)
{
	struct pa_backend *b = calloc(1, sizeof(*b));
	size_t size;

	if (!b)
		return NULL;
	b->base.ops = &pa_ops;
	/* PortAudio's JACK host API waits for its server in start, stop, abort and close. */
	b->base.threaded_calls = true;
	sem_init(&b->calls, 0, 1);
	/* The probe is this program again: where it is, as the kernel knows it. */
	size = sizeof(b->exe);
	if (uv_exepath(b->exe, &size) < 0)
		b->exe[0] = '\0';
	return &b->base;
}

void backend_pa_free(struct backend *b)
{
	struct pa_backend *pb = of(b);

	if (!b)
		return;
	pa_probe_cancel_op(b);
	known_free(pb);
	slots_free(pb);
	sem_destroy(&pb->calls);
	free(pb);
}
