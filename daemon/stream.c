/*
 * Client streams on the loop thread: shared memory and eventfd, state and
 * status.  See stream.h; the audio thread's half is in stream-rt.c.
 */
#include "stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "sample.h"

/* Describes one ring in the header and points the direction at its data. */
static void setup_ring(struct stream *s, struct stream_dir *d, struct shm_ring *ring,
		       uint32_t offset)
{
	ring->offset = offset;
	ring->capacity = d->capacity;
	ring->frame_bytes = d->frame_bytes;
	ring->channels = (uint32_t)d->channels;
	ring->dtype = (uint32_t)d->dtype;
	d->ctl = ring;
	d->data = (unsigned char *)s->shm.mem + offset;
	d->stream = s;
}

size_t stream_shm_size(const struct stream *s)
{
	return SHM_DATA_ALIGN +
	       (s->out.used ? shm_ring_bytes(s->out.capacity, s->out.frame_bytes) : 0) +
	       (s->in.used ? shm_ring_bytes(s->in.capacity, s->in.frame_bytes) : 0);
}

int stream_create_shm(struct stream *s)
{
	size_t size = stream_shm_size(s), out_offset = SHM_DATA_ALIGN, in_offset = SHM_DATA_ALIGN;
	char name[32];
	int r;

	/* The header's page, then the out ring, then the in ring. */
	if (s->out.used)
		in_offset += shm_ring_bytes(s->out.capacity, s->out.frame_bytes);
	if (size > UINT32_MAX)
		return -EFBIG;
	snprintf(name, sizeof(name), "sddaemon-stream-%u", s->handle);
	r = memfd_create_sealed(&s->shm, name, size);
	if (r < 0)
		return r;
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0) {
		r = -errno;
		memfd_destroy(&s->shm);
		return r;
	}
	s->hdr = s->shm.mem;
	s->hdr->magic = SHM_MAGIC;
	s->hdr->version = SHM_VERSION;
	s->hdr->header_bytes = sizeof(struct shm_header);
	s->hdr->total_bytes = (uint32_t)size;
	s->hdr->handle = s->handle;
	s->hdr->samplerate = (uint32_t)s->samplerate;
	if (s->out.used)
		setup_ring(s, &s->out, &s->hdr->out, (uint32_t)out_offset);
	if (s->in.used)
		setup_ring(s, &s->in, &s->hdr->in, (uint32_t)in_offset);
	atomic_store(&s->hdr->state, SHM_STATE_PREFILL);
	return 0;
}

void stream_volume_init(struct stream_dir *d)
{
	/* The audio thread's side starts unscaled as it is (zeroed): nothing published yet. */
	for (int i = 0; i < STREAM_MAX_CHANNELS; i++)
		d->volume[i] = 1.0f;
	d->mute = false;
}

void stream_set_volume(struct stream_dir *d, const float *gains, int count, int mute)
{
	uint32_t seq = atomic_load_explicit(&d->gain_seq, memory_order_relaxed);

	for (int i = 0; i < count && i < d->channels; i++)
		d->volume[i] = gains[i];
	if (count == 1)
		for (int i = 1; i < d->channels; i++)
			d->volume[i] = gains[0];
	if (mute >= 0)
		d->mute = mute;
	/*
	 * The audio thread reads the sequence count, the gains, then the count
	 * again, and takes the gains only when it saw the same even count
	 * twice.  The odd count is stored before the gains (each a release
	 * store, which keeps the count's store before it), the even one after.
	 */
	atomic_store_explicit(&d->gain_seq, seq + 1, memory_order_relaxed);
	for (int i = 0; i < d->channels; i++) {
		float g = d->mute ? 0.0f : d->volume[i];
		uint32_t bits;

		memcpy(&bits, &g, sizeof(bits));
		atomic_store_explicit(&d->gain_bits[i], bits, memory_order_release);
	}
	atomic_store_explicit(&d->gain_seq, seq + 2, memory_order_release);
}

struct stream_dir *stream_volume_dir(struct stream *s)
{
	return s->out.used ? &s->out : &s->in;
}

void stream_free(struct stream *s)
{
	if (!s)
		return;
	memfd_destroy(&s->shm);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	free(s);
}

void stream_wake_client(struct stream *s)
{
	uint64_t one = 1;
	ssize_t n = write(s->wake_fd, &one, sizeof(one));

	/* EAGAIN means the counter is saturated: the client has a wake-up pending anyway. */
	(void)n;
}

int stream_set_state(struct stream *s, int state)
{
	int old = atomic_exchange(&s->state, state);

	atomic_store_explicit(&s->hdr->state, (uint32_t)state, memory_order_release);
	return old;
}

bool stream_is_over(const struct stream *s)
{
	int state = atomic_load(&((struct stream *)s)->state);

	return state == SHM_STATE_FINISHED || state == SHM_STATE_FAILED;
}

/* Returns the name of an enum shm_state. */
static const char *stream_state_name(int state)
{
	switch (state) {
	case SHM_STATE_PREFILL:
		return "prefill";
	case SHM_STATE_RUNNING:
		return "running";
	case SHM_STATE_DRAINING:
		return "draining";
	case SHM_STATE_FINISHED:
		return "finished";
	case SHM_STATE_FAILED:
		return "failed";
	default:
		return "unknown";
	}
}

json_object *stream_status_json(struct stream *s)
{
	uint32_t flags = atomic_load(&s->flags);
	json_object *o = json_object_new_object();
	json_object *f = json_object_new_object();

	json_object_object_add(f, "input_underflow",
			       json_object_new_boolean(!!(flags & SHM_INPUT_UNDERFLOW)));
	json_object_object_add(f, "input_overflow",
			       json_object_new_boolean(!!(flags & SHM_INPUT_OVERFLOW)));
	json_object_object_add(f, "output_underflow",
			       json_object_new_boolean(!!(flags & SHM_OUTPUT_UNDERFLOW)));
	json_object_object_add(f, "output_overflow",
			       json_object_new_boolean(!!(flags & SHM_OUTPUT_OVERFLOW)));
	json_object_object_add(f, "priming_output",
			       json_object_new_boolean(!!(flags & SHM_PRIMING_OUTPUT)));
	json_object_object_add(o, "handle", json_object_new_int64(s->handle));
	json_object_object_add(o, "state", json_object_new_string(stream_state_name(atomic_load(&s->state))));
	json_object_object_add(o, "flags", f);
	json_object_object_add(o, "xruns", json_object_new_int64(atomic_load(&s->xruns)));
	if (s->out.used) {
		json_object_object_add(o, "frames_played",
				       json_object_new_int64((int64_t)atomic_load(&s->frames_out)));
		json_object_object_add(o, "underflow_frames",
				       json_object_new_int64((int64_t)atomic_load(&s->silence_out)));
	}
	if (s->in.used) {
		json_object_object_add(o, "frames_recorded",
				       json_object_new_int64((int64_t)atomic_load(&s->frames_in)));
		json_object_object_add(o, "overflow_frames",
				       json_object_new_int64((int64_t)atomic_load(&s->dropped_in)));
	}
	if (!s->exclusive && (s->out.used || s->in.used)) {
		struct stream_dir *d = stream_volume_dir(s);
		json_object *v = json_object_new_array();

		for (int i = 0; i < d->channels; i++)
			json_object_array_add(v, json_object_new_double(d->volume[i]));
		json_object_object_add(o, "volume", v);
		json_object_object_add(o, "mute", json_object_new_boolean(d->mute));
	}
	if (s->error[0]) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "code", json_object_new_string(s->error_code));
		json_object_object_add(e, "message", json_object_new_string(s->error));
		json_object_object_add(o, "error", e);
	}
	return o;
}
