/*
 * Direct access to a stream's rings (sdc_stream_begin_write() and the
 * rest; see sdc.h): the caller makes or uses frames in the shared memory
 * itself, and the library only waits, hands out the contiguous span and
 * publishes the index.  The thread that owns the sdc_stream.
 */
#include <errno.h>

#include "ring.h"
#include "sdc-private.h"

/* Checks that d may be accessed directly; returns 0 or a negative errno (error set). */
static int check_direct(const sdc_stream *s, const struct sdc_dir *d, const void *ret)
{
	if (!s || !ret || !d->used)
		return sdc__error_set(-EINVAL, "invalid arguments");
	if (s->api)
		return sdc__error_set(-EINVAL,
				      "the stream API moves its rings itself: no direct access");
	if (d->user_dtype != d->wire_dtype)
		return sdc__error_set(-EINVAL, "%s is converted by the library: no direct access",
				      sdc_dtype_name(d->user_dtype));
	return 0;
}

/* True once the daemon has finished or failed the stream. */
static int is_over(const sdc_stream *s)
{
	int st = sdc__stream_state(s);

	return st == SHM_STATE_FINISHED || st == SHM_STATE_FAILED;
}

/* Frames readable (in) or writable within fill_limit (out) after d's index; or -EPROTO. */
static long long available(const struct sdc_dir *d, int out)
{
	uint32_t n;

	if (out) {
		if (ring_writable(d->ctl, d->capacity, d->index, &n) < 0)
			return -EPROTO;
		/* Room beyond fill_limit does not count: it would only add latency. */
		return n > d->capacity - d->fill_limit ? n - (d->capacity - d->fill_limit) : 0;
	}
	if (ring_readable(d->ctl, d->capacity, d->index, &n) < 0)
		return -EPROTO;
	return n;
}

/*
 * Waits until want frames are available in d (or the stream ends, or
 * timeout_ms passes).  Returns the frames available (fewer than want after
 * a timeout, or the last recorded frames of an ended stream; 0 for a
 * playback that ended), or a negative errno.
 */
static long long wait_for(sdc_stream *s, struct sdc_dir *d, int out, uint32_t want, int timeout_ms)
{
	/* The daemon wakes a writer when this much of the whole ring is free. */
	uint32_t wake = out ? (d->capacity - d->fill_limit) + want : want;
	int waited = 0;

	for (;;) {
		long long n = available(d, out);
		int r;

		if (n < 0)
			return sdc__error_set(-EPROTO, "the daemon's ring index is impossible");
		if (n >= want)
			return n;
		if (is_over(s)) {
			/* Recorded frames may have landed just before the end was published. */
			n = out ? 0 : available(d, out);
			return n < 0 ? sdc__error_set(-EPROTO,
						      "the daemon's ring index is impossible")
				     : n;
		}
		if (timeout_ms == 0 || (timeout_ms > 0 && waited))
			return n;
		ring_wait_prepare(d->ctl, wake);
		n = available(d, out);
		if (n >= want) {
			ring_wait_cancel(d->ctl);
			continue;
		}
		if (is_over(s))
			continue;
		r = sdc__stream_sleep(s, timeout_ms < 0 ? 1000 : timeout_ms);
		/* Recorded frames are the caller's, even once the daemon has gone. */
		if (r == -ECONNRESET && !out && (n = available(d, out)) > 0)
			return n;
		if (r < 0)
			return sdc__error_set(r, "%s",
					      r == -ECONNRESET ? "sddaemon went away"
							       : "interrupted while waiting");
		waited = 1;
	}
}

/* The contiguous span of n frames at d's index. */
static long long span(struct sdc_dir *d, long long n, size_t max_frames, void **ret)
{
	uint32_t offset = d->index & (d->capacity - 1);

	if ((unsigned long long)n > max_frames)
		n = (long long)max_frames;
	if (n > (long long)(d->capacity - offset))
		n = d->capacity - offset;
	*ret = d->data + (size_t)offset * d->frame_bytes;
	return n;
}

long long sdc_stream_begin_write(sdc_stream *s, void **ret, size_t max_frames, int timeout_ms)
{
	struct sdc_dir *d = s ? &s->out : NULL;
	uint32_t want;
	long long n;
	int r = check_direct(s, d ? d : &(struct sdc_dir){ 0 }, ret);

	if (r < 0)
		return r;
	want = max_frames < d->fill_limit / 2 ? (uint32_t)max_frames : d->fill_limit / 2;
	n = wait_for(s, d, 1, want ? want : 1, timeout_ms);
	if (n <= 0)
		return n;
	return span(d, n, max_frames, ret);
}

int sdc_stream_commit_write(sdc_stream *s, size_t frames)
{
	struct sdc_dir *d = s ? &s->out : NULL;
	uint32_t space;

	if (!s || !d->used)
		return sdc__error_set(-EINVAL, "invalid arguments");
	if (ring_writable(d->ctl, d->capacity, d->index, &space) < 0)
		return sdc__error_set(-EPROTO, "the daemon's ring index is impossible");
	if (frames > space || frames > d->capacity - (d->index & (d->capacity - 1)))
		return sdc__error_set(-EINVAL, "more frames committed than were offered");
	d->index += (uint32_t)frames;
	d->position += frames;
	ring_produced(d->ctl, d->index);
	return 0;
}

long long sdc_stream_begin_read(sdc_stream *s, const void **ret, size_t max_frames, int timeout_ms)
{
	struct sdc_dir *d = s ? &s->in : NULL;
	uint32_t want;
	long long n;
	void *p;
	int r = check_direct(s, d ? d : &(struct sdc_dir){ 0 }, ret);

	if (r < 0)
		return r;
	want = max_frames < d->capacity / 2 ? (uint32_t)max_frames : d->capacity / 2;
	n = wait_for(s, d, 0, want ? want : 1, timeout_ms);
	if (n <= 0)
		return n;
	n = span(d, n, max_frames, &p);
	*ret = p;
	return n;
}

int sdc_stream_commit_read(sdc_stream *s, size_t frames)
{
	struct sdc_dir *d = s ? &s->in : NULL;
	uint32_t fill;

	if (!s || !d->used)
		return sdc__error_set(-EINVAL, "invalid arguments");
	if (ring_readable(d->ctl, d->capacity, d->index, &fill) < 0)
		return sdc__error_set(-EPROTO, "the daemon's ring index is impossible");
	if (frames > fill || frames > d->capacity - (d->index & (d->capacity - 1)))
		return sdc__error_set(-EINVAL, "more frames committed than were offered");
	d->index += (uint32_t)frames;
	d->position += frames;
	ring_consumed(d->ctl, d->index);
	return 0;
}
