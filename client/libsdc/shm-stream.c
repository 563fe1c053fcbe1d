/*
 * libsdc's side of a stream's shared memory: mapping and checking what the
 * daemon handed over, moving frames through the rings with eventfd
 * wake-ups, and the accessors every sdc_stream has.  sdc_stream_close() is
 * in stream-api.c, which has more to release for its own streams.  An
 * sdc_stream is used by one thread at a time.
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring.h"
#include "sdc-private.h"
#include "shm.h"

/* Maps a JSON ring description onto the header and checks it against the memory. */
static int map_dir(sdc_stream *s, struct sdc_dir *d, json_object *info, struct shm_ring *ring,
		   sdc_dtype user)
{
	size_t size;

	if (!info)
		return 0;
	d->used = 1;
	d->ctl = ring;
	d->capacity = ring->capacity;
	d->frame_bytes = ring->frame_bytes;
	d->channels = (int)ring->channels;
	d->wire_dtype = sdc_dtype_from_name(sdc__json_str(info, "dtype"));
	d->user_dtype = user == SDC_FLOAT64 && d->wire_dtype == SDC_FLOAT32 ? SDC_FLOAT64 : d->wire_dtype;
	size = sdc_dtype_size(d->wire_dtype);
	if (!ring_is_pow2(d->capacity) || d->channels < 1 || size == 0 ||
	    d->frame_bytes != size * (size_t)d->channels || ring->offset < sizeof(struct shm_header) ||
	    (size_t)ring->offset + (size_t)d->capacity * d->frame_bytes > s->size ||
	    (uint32_t)sdc__json_int(info, "capacity", -1) != d->capacity ||
	    (uint32_t)sdc__json_int(info, "offset", -1) != ring->offset)
		return sdc__error_set(-EPROTO, "sddaemon described an impossible ring");
	d->data = (unsigned char *)s->mem + ring->offset;
	d->fill_limit = d->capacity;
	return 0;
}

int sdc__stream_open(sdc_client *c, const char *cmd, json_object *params, sdc_dtype user_out,
		     sdc_dtype user_in, sdc_stream **ret)
{
	json_object *result = NULL, *out = NULL, *in = NULL;
	int fds[2] = { -1, -1 }, nfds = 0, r;
	sdc_stream *s;
	struct stat st;

	r = sdc__conn_request(c, cmd, params, &result, fds, 2, &nfds);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s) {
		r = sdc__error_set(-ENOMEM, "out of memory");
		goto fail;
	}
	s->client = c;
	s->memfd = fds[0];
	s->eventfd = fds[1];
	fds[0] = fds[1] = -1;
	s->sockfd = c->fd;
	s->handle = (unsigned)sdc__json_int(result, "handle", 0);
	s->samplerate = sdc__json_double(result, "samplerate", 0);
	s->size = (size_t)sdc__json_int(result, "shm_size", 0);
	s->latency_in = sdc__json_double(result, "input_latency", 0);
	s->latency_out = sdc__json_double(result, "output_latency", 0);
	s->period_in = (uint32_t)sdc__json_int(result, "input_period", 0);
	s->period_out = (uint32_t)sdc__json_int(result, "output_period", 0);
	s->device_in = s->device_out = -1;
	{
		json_object *dev = NULL;

		json_object_object_get_ex(result, "device", &dev);
		if (json_object_is_type(dev, json_type_array)) {
			s->device_in = json_object_get_int(json_object_array_get_idx(dev, 0));
			s->device_out = json_object_get_int(json_object_array_get_idx(dev, 1));
		} else if (dev) {
			s->device_in = s->device_out = json_object_get_int(dev);
		}
	}
	if (nfds != 2 || s->memfd < 0 || s->eventfd < 0 || fstat(s->memfd, &st) < 0 ||
	    (size_t)st.st_size != s->size || s->size < sizeof(struct shm_header)) {
		r = sdc__error_set(-EPROTO, "sddaemon's stream reply lacks its shared memory");
		goto fail;
	}
	s->mem = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, s->memfd, 0);
	if (s->mem == MAP_FAILED) {
		s->mem = NULL;
		r = sdc__error_set(-errno, "cannot map the stream's memory: %s", strerror(errno));
		goto fail;
	}
	s->hdr = s->mem;
	if (s->hdr->magic != SHM_MAGIC || s->hdr->version != SHM_VERSION ||
	    s->hdr->total_bytes != s->size || s->hdr->handle != s->handle) {
		r = sdc__error_set(-EPROTO,
				   "the stream's memory has an unknown layout (version %u) "
				   "or is another stream's",
				   s->hdr->version);
		goto fail;
	}
	json_object_object_get_ex(result, "out", &out);
	json_object_object_get_ex(result, "in", &in);
	if ((r = map_dir(s, &s->out, out, &s->hdr->out, user_out)) < 0 ||
	    (r = map_dir(s, &s->in, in, &s->hdr->in, user_in)) < 0)
		goto fail;
	json_object_put(result);
	*ret = s;
	return 0;
fail:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	json_object_put(result);
	sdc__stream_free(s);
	return r;
}

void sdc__stream_free(sdc_stream *s)
{
	if (!s)
		return;
	if (s->mem)
		munmap(s->mem, s->size);
	if (s->memfd >= 0)
		close(s->memfd);
	if (s->eventfd >= 0)
		close(s->eventfd);
	free(s);
}

uint32_t sdc__stream_out_capacity(const sdc_stream *s)
{
	return s->out.used ? s->out.capacity : 0;
}

unsigned sdc_stream_handle(const sdc_stream *s)
{
	return s ? s->handle : 0;
}

double sdc_stream_samplerate(const sdc_stream *s)
{
	return s ? s->samplerate : 0;
}

int sdc_stream_channels(const sdc_stream *s, sdc_kind kind)
{
	const struct sdc_dir *d;

	if (!s)
		return 0;
	d = kind == SDC_KIND_INPUT ? &s->in : &s->out;
	return d->used ? d->channels : 0;
}

sdc_dtype sdc_stream_dtype(const sdc_stream *s, sdc_kind kind)
{
	const struct sdc_dir *d;

	if (!s)
		return SDC_DTYPE_DEFAULT;
	d = kind == SDC_KIND_INPUT ? &s->in : &s->out;
	return d->used ? d->user_dtype : SDC_DTYPE_DEFAULT;
}

int sdc__stream_state(const sdc_stream *s)
{
	return (int)atomic_load_explicit(&s->hdr->state, memory_order_acquire);
}

int sdc__stream_failure(sdc_stream *s)
{
	sdc_status st;
	int r;

	if (sdc__stream_state(s) != SHM_STATE_FAILED)
		return 0;
	r = sdc__status_request(s->client, "get_status", s->handle, &st);
	return r < 0 ? r : sdc__error_from_status(&st);
}

/* True once the daemon has finished or failed the stream. */
static int is_over(const sdc_stream *s)
{
	int st = sdc__stream_state(s);

	return st == SHM_STATE_FINISHED || st == SHM_STATE_FAILED;
}

int sdc_stream_status(const sdc_stream *s, sdc_status *ret)
{
	const char *why;

	if (!s || !ret)
		return sdc__error_set(-EINVAL, "invalid arguments");
	memset(ret, 0, sizeof(*ret));
	ret->handle = s->handle;
	ret->state = (sdc_state)sdc__stream_state(s);
	ret->flags = atomic_load(&s->hdr->flags);
	ret->xruns = atomic_load(&s->hdr->xrun_count);
	ret->frames_played = atomic_load(&s->hdr->frames_out);
	ret->underflow_frames = atomic_load(&s->hdr->silence_out);
	ret->frames_recorded = atomic_load(&s->hdr->frames_in);
	ret->overflow_frames = atomic_load(&s->hdr->dropped_in) + s->dropped_in;
	if (s->dropped_in)
		ret->flags |= SDC_INPUT_OVERFLOW;
	/* A stream cut short by the daemon's going away failed, whatever its memory says. */
	if (ret->state != SDC_STATE_FINISHED && (why = sdc__conn_lost(s->client))) {
		ret->state = SDC_STATE_FAILED;
		snprintf(ret->error_code, sizeof(ret->error_code), "connection_lost");
		snprintf(ret->error, sizeof(ret->error), "%s", why);
	}
	return 0;
}

int sdc__stream_sleep(sdc_stream *s, int timeout_ms)
{
	struct pollfd p[2] = {
		{ .fd = s->eventfd, .events = POLLIN },
		{ .fd = s->sockfd, .events = 0 },
	};
	uint64_t count;

	if (poll(p, 2, timeout_ms) < 0)
		return errno == EINTR ? -EINTR : -errno;
	if (p[0].revents & POLLIN) {
		if (read(s->eventfd, &count, sizeof(count)) < 0 && errno != EAGAIN)
			return -errno;
		return 0;
	}
	if (p[1].revents & (POLLHUP | POLLERR))
		return -ECONNRESET;
	return 0;
}

/* Copies n frames from user memory into the ring at d->index, converting float64. */
static void put_frames(struct sdc_dir *d, const unsigned char *src, uint32_t n)
{
	uint32_t offset, first, second;

	ring_spans(d->index, n, d->capacity, &offset, &first, &second);
	for (int part = 0; part < 2; part++) {
		uint32_t count = part ? second : first;
		unsigned char *dst = d->data + (size_t)(part ? 0 : offset) * d->frame_bytes;

		if (!count)
			continue;
		if (d->user_dtype == SDC_FLOAT64) {
			const double *in = (const double *)src;
			float *o = (float *)dst;

			for (size_t i = 0; i < (size_t)count * (size_t)d->channels; i++)
				o[i] = (float)in[i];
			src += (size_t)count * (size_t)d->channels * sizeof(double);
		} else {
			memcpy(dst, src, (size_t)count * d->frame_bytes);
			src += (size_t)count * d->frame_bytes;
		}
	}
}

/* Copies n frames from the ring at d->index into user memory, converting to float64. */
static void get_frames(struct sdc_dir *d, unsigned char *dst, uint32_t n)
{
	uint32_t offset, first, second;

	ring_spans(d->index, n, d->capacity, &offset, &first, &second);
	for (int part = 0; part < 2; part++) {
		uint32_t count = part ? second : first;
		const unsigned char *src = d->data + (size_t)(part ? 0 : offset) * d->frame_bytes;

		if (!count)
			continue;
		if (d->user_dtype == SDC_FLOAT64) {
			const float *in = (const float *)src;
			double *o = (double *)dst;

			for (size_t i = 0; i < (size_t)count * (size_t)d->channels; i++)
				o[i] = in[i];
			dst += (size_t)count * (size_t)d->channels * sizeof(double);
		} else {
			memcpy(dst, src, (size_t)count * d->frame_bytes);
			dst += (size_t)count * d->frame_bytes;
		}
	}
}

size_t sdc__stream_frame_bytes(const struct sdc_dir *d)
{
	return sdc_dtype_size(d->user_dtype) * (size_t)d->channels;
}

void sdc__stream_push(struct sdc_dir *d, const unsigned char *src, uint32_t n)
{
	put_frames(d, src, n);
	d->index += n;
	d->position += n;
	ring_produced(d->ctl, d->index);
}

void sdc__stream_pull(struct sdc_dir *d, unsigned char *dst, uint32_t n)
{
	get_frames(d, dst, n);
	d->index += n;
	d->position += n;
	ring_consumed(d->ctl, d->index);
}

long long sdc_stream_write(sdc_stream *s, const void *data, size_t frames)
{
	struct sdc_dir *d;
	const unsigned char *src = data;
	size_t done = 0;

	if (!s || !s->out.used || (!data && frames))
		return sdc__error_set(-EINVAL, "invalid arguments");
	d = &s->out;
	while (done < frames) {
		uint32_t space, n;
		int r;

		if (ring_writable(d->ctl, d->capacity, d->index, &space) < 0)
			return sdc__error_set(-EPROTO, "the daemon's ring index is impossible");
		/* Room beyond fill_limit does not count: it would only add latency. */
		space = space > d->capacity - d->fill_limit ? space - (d->capacity - d->fill_limit) : 0;
		if (space == 0) {
			uint32_t want = frames - done < d->fill_limit / 2 ? (uint32_t)(frames - done)
									 : d->fill_limit / 2;

			if (is_over(s))
				break;
			ring_wait_prepare(d->ctl, (d->capacity - d->fill_limit) + (want ? want : 1));
			if (ring_writable(d->ctl, d->capacity, d->index, &space) == 0 &&
			    space > d->capacity - d->fill_limit) {
				ring_wait_cancel(d->ctl);
				continue;
			}
			if (is_over(s))
				break;
			r = sdc__stream_sleep(s, 1000);
			if (r < 0)
				return sdc__error_set(r, "%s",
						      r == -ECONNRESET ? "sddaemon went away"
								       : "interrupted while waiting");
			continue;
		}
		n = frames - done < space ? (uint32_t)(frames - done) : space;
		sdc__stream_push(d, src + done * sdc__stream_frame_bytes(d), n);
		done += n;
	}
	/* What a failed stream was given is never played: say why instead. */
	if (done < frames && sdc__stream_state(s) == SHM_STATE_FAILED)
		return sdc__stream_failure(s);
	return (long long)done;
}

/* Reads what is there (up to frames), waiting for at least min_frames or the end. */
static long long read_frames(sdc_stream *s, void *buffer, size_t frames, size_t min_frames,
			     int timeout_ms)
{
	struct sdc_dir *d;
	unsigned char *dst = buffer;
	size_t done = 0;

	if (!s || !s->in.used || (!buffer && frames))
		return sdc__error_set(-EINVAL, "invalid arguments");
	d = &s->in;
	while (done < frames) {
		uint32_t fill, n;
		int r;

		if (ring_readable(d->ctl, d->capacity, d->index, &fill) < 0)
			return sdc__error_set(-EPROTO, "the daemon's ring index is impossible");
		if (fill == 0) {
			uint32_t want;

			if (done >= min_frames)
				break;
			want = min_frames - done < d->capacity / 2 ? (uint32_t)(min_frames - done)
								    : d->capacity / 2;
			if (is_over(s)) {
				/* The last frames may have landed just before the end was published. */
				if (ring_readable(d->ctl, d->capacity, d->index, &fill) == 0 && fill > 0)
					continue;
				break;
			}
			ring_wait_prepare(d->ctl, want ? want : 1);
			if (ring_readable(d->ctl, d->capacity, d->index, &fill) == 0 && fill > 0) {
				ring_wait_cancel(d->ctl);
				continue;
			}
			if (is_over(s))
				continue;
			r = sdc__stream_sleep(s, timeout_ms < 0 ? 1000 : timeout_ms);
			if (r < 0)
				return sdc__error_set(r, "%s",
						      r == -ECONNRESET ? "sddaemon went away"
								       : "interrupted while waiting");
			if (timeout_ms >= 0 && done == 0) {
				/* One wait only: report what came (maybe nothing). */
				min_frames = 0;
			}
			continue;
		}
		n = frames - done < fill ? (uint32_t)(frames - done) : fill;
		sdc__stream_pull(d, dst + done * sdc__stream_frame_bytes(d), n);
		done += n;
	}
	/* What was recorded before a failure is read first; then the failure is the answer. */
	if (done == 0 && frames > 0 && sdc__stream_state(s) == SHM_STATE_FAILED)
		return sdc__stream_failure(s);
	return (long long)done;
}

long long sdc_stream_read(sdc_stream *s, void *buffer, size_t frames)
{
	return read_frames(s, buffer, frames, frames, -1);
}

long long sdc_stream_read_some(sdc_stream *s, void *buffer, size_t frames, int timeout_ms)
{
	return read_frames(s, buffer, frames, 1, timeout_ms);
}

int sdc_stream_end(sdc_stream *s)
{
	if (!s || !s->out.used)
		return sdc__error_set(-EINVAL, "the stream has no output");
	/* After the last write_index store (release) in sdc_stream_write(). */
	atomic_store_explicit(&s->out.ctl->eof, 1, memory_order_release);
	return 0;
}
