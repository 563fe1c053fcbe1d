/*
 * sounddevice's play(), rec() and playrec() on the caller's memory, with
 * wait() and stop(), and the *_open() functions that give a streaming
 * handle instead.  Data that does not fit the stream's ring at once is
 * moved by a transfer thread of the library while the call has returned,
 * as sounddevice's callbacks do.  Any thread; transfer threads run
 * transfer_main().
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdc-private.h"

/* A background copy between caller memory and a stream's ring. */
struct transfer {
	struct transfer *next;
	unsigned handle;
	pthread_t thread;
	sdc_stream *stream;
	const unsigned char *out_data; /* to play, or NULL */
	unsigned char *in_data;	       /* to record into, or NULL */
	size_t frames;
	size_t out_frame_bytes, in_frame_bytes;
};

/* Adds a mapping list to params. */
static void add_mapping(json_object *params, const char *name, const int *map, int count)
{
	json_object *a;

	if (!map || count <= 0)
		return;
	a = json_object_new_array();
	for (int i = 0; i < count; i++)
		json_object_array_add(a, json_object_new_int(map[i]));
	json_object_object_add(params, name, a);
}

/* Remembers the latest play/rec/playrec, as the daemon does. */
static void set_last(sdc_client *c, unsigned handle)
{
	pthread_mutex_lock(&c->xfer_lock);
	c->last_handle = handle;
	pthread_mutex_unlock(&c->xfer_lock);
}

int sdc_play_open(sdc_client *c, const sdc_play_params *p, long long frames, sdc_stream **ret)
{
	json_object *params;
	sdc_dtype dtype;
	sdc_stream *s;
	int r;

	if (!c || !p || !ret || p->channels < 1)
		return sdc__error_set(-EINVAL, "play needs the data's channel count");
	dtype = sdc__defaults_dtype(c, p->dtype, 1);
	params = json_object_new_object();
	sdc__defaults_options_json(c, params, &p->opt, 0, 1);
	json_object_object_add(params, "channels", json_object_new_int(p->channels));
	json_object_object_add(params, "dtype",
			       json_object_new_string(sdc__dtype_wire_name(dtype)));
	if (frames > 0)
		json_object_object_add(params, "frames", json_object_new_int64(frames));
	add_mapping(params, "mapping", p->mapping, p->mapping_count);
	if (p->loop)
		json_object_object_add(params, "loop", json_object_new_boolean(1));
	if (p->detach)
		json_object_object_add(params, "detach", json_object_new_boolean(1));
	r = sdc__stream_open(c, "play", params, dtype, SDC_DTYPE_DEFAULT, &s);
	if (r < 0)
		return r;
	set_last(c, sdc_stream_handle(s));
	*ret = s;
	return 0;
}

/* Resolves the recording's channel count: explicit, mapping, then the default. */
static int rec_channels(const sdc_client *c, int channels, const int *map, int count)
{
	if (map && count > 0)
		return count;
	if (channels > 0)
		return channels;
	return c->defaults.channels[0];
}

int sdc_rec_open(sdc_client *c, const sdc_rec_params *p, long long frames, sdc_stream **ret)
{
	json_object *params;
	sdc_dtype dtype;
	sdc_stream *s;
	int channels, r;

	if (!c || !p || !ret)
		return sdc__error_set(-EINVAL, "invalid arguments");
	channels = rec_channels(c, p->channels, p->mapping, p->mapping_count);
	if (channels < 1)
		return sdc__error_set(-EINVAL, "Unable to determine number of input channels");
	dtype = sdc__defaults_dtype(c, p->dtype, 0);
	params = json_object_new_object();
	sdc__defaults_options_json(c, params, &p->opt, 1, 0);
	json_object_object_add(params, "channels", json_object_new_int(channels));
	json_object_object_add(params, "dtype",
			       json_object_new_string(sdc__dtype_wire_name(dtype)));
	if (frames > 0)
		json_object_object_add(params, "frames", json_object_new_int64(frames));
	else if (p->duration > 0)
		json_object_object_add(params, "duration", json_object_new_double(p->duration));
	add_mapping(params, "mapping", p->mapping, p->mapping_count);
	r = sdc__stream_open(c, "rec", params, SDC_DTYPE_DEFAULT, dtype, &s);
	if (r < 0)
		return r;
	set_last(c, sdc_stream_handle(s));
	*ret = s;
	return 0;
}

int sdc_playrec_open(sdc_client *c, const sdc_playrec_params *p, long long frames,
		     sdc_stream **ret)
{
	json_object *params;
	sdc_dtype out_dtype, in_dtype;
	sdc_stream *s;
	int channels, r;

	if (!c || !p || !ret || p->data_channels < 1 || p->data_dtype == SDC_DTYPE_DEFAULT)
		return sdc__error_set(-EINVAL, "playrec needs the data's channels and dtype");
	channels = rec_channels(c, p->channels, p->input_mapping, p->input_mapping_count);
	if (channels < 1)
		return sdc__error_set(-EINVAL, "Unable to determine number of input channels");
	out_dtype = p->data_dtype;
	/* As in sounddevice, the recording's dtype follows the data's unless given. */
	in_dtype = p->dtype != SDC_DTYPE_DEFAULT ? p->dtype : p->data_dtype;
	params = json_object_new_object();
	sdc__defaults_options_json(c, params, &p->opt, 1, 1);
	json_object_object_add(params, "data_channels", json_object_new_int(p->data_channels));
	json_object_object_add(params, "data_dtype",
			       json_object_new_string(sdc__dtype_wire_name(out_dtype)));
	json_object_object_add(params, "channels", json_object_new_int(channels));
	json_object_object_add(params, "dtype",
			       json_object_new_string(sdc__dtype_wire_name(in_dtype)));
	if (frames > 0)
		json_object_object_add(params, "frames", json_object_new_int64(frames));
	add_mapping(params, "input_mapping", p->input_mapping, p->input_mapping_count);
	add_mapping(params, "output_mapping", p->output_mapping, p->output_mapping_count);
	r = sdc__stream_open(c, "playrec", params, out_dtype, in_dtype, &s);
	if (r < 0)
		return r;
	set_last(c, sdc_stream_handle(s));
	*ret = s;
	return 0;
}

/* The transfer thread: moves the rest of the data, then lets go of the stream. */
static void *transfer_main(void *arg)
{
	struct transfer *t = arg;
	size_t played = 0, recorded = 0;

	/* Interleave writing and reading so that a playrec never blocks on one side. */
	while ((t->out_data && played < t->frames) || (t->in_data && recorded < t->frames)) {
		long long n;

		if (t->out_data && played < t->frames) {
			size_t chunk = t->frames - played;

			if (t->in_data && chunk > 4096)
				chunk = 4096;
			n = sdc_stream_write(t->stream, t->out_data + played * t->out_frame_bytes, chunk);
			if (n <= 0)
				break;
			played += (size_t)n;
			if (played == t->frames)
				sdc_stream_end(t->stream);
		}
		if (t->in_data && recorded < t->frames) {
			n = t->out_data && played < t->frames
				    ? sdc_stream_read_some(t->stream, t->in_data + recorded * t->in_frame_bytes,
							   t->frames - recorded, 0)
				    : sdc_stream_read(t->stream, t->in_data + recorded * t->in_frame_bytes,
						      t->frames - recorded);
			if (n < 0 || (n == 0 && !(t->out_data && played < t->frames)))
				break;
			recorded += (size_t)n;
		}
	}
	return NULL;
}

/* Starts a transfer thread for s and registers it under its handle. */
static int start_transfer(sdc_client *c, sdc_stream *s, const void *out, void *in, size_t frames,
			  size_t done_out)
{
	struct transfer *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return sdc__error_set(-ENOMEM, "out of memory");
	t->handle = sdc_stream_handle(s);
	t->stream = s;
	t->frames = frames;
	if (out) {
		t->out_frame_bytes = sdc_dtype_size(sdc_stream_dtype(s, SDC_KIND_OUTPUT)) *
				     (size_t)sdc_stream_channels(s, SDC_KIND_OUTPUT);
		/* What was handed over already is skipped. */
		t->out_data = (const unsigned char *)out + done_out * t->out_frame_bytes;
		t->frames = frames - done_out;
	}
	if (in) {
		t->in_frame_bytes = sdc_dtype_size(sdc_stream_dtype(s, SDC_KIND_INPUT)) *
				    (size_t)sdc_stream_channels(s, SDC_KIND_INPUT);
		t->in_data = in;
		if (out && done_out) {
			/* A playrec is started with everything written or nothing: see sdc_playrec(). */
			t->frames = frames;
		}
	}
	r = pthread_create(&t->thread, NULL, transfer_main, t);
	if (r != 0) {
		free(t);
		return sdc__error_set(-r, "cannot start a transfer thread: %s", strerror(r));
	}
	pthread_mutex_lock(&c->xfer_lock);
	t->next = c->transfers;
	c->transfers = t;
	pthread_mutex_unlock(&c->xfer_lock);
	return 0;
}

/* Joins and frees the transfer of handle (0: the latest), if there is one. */
static void finish_transfer(sdc_client *c, unsigned handle)
{
	struct transfer **pp, *t = NULL;

	pthread_mutex_lock(&c->xfer_lock);
	if (handle == 0)
		handle = c->last_handle;
	for (pp = &c->transfers; *pp; pp = &(*pp)->next)
		if ((*pp)->handle == handle) {
			t = *pp;
			*pp = t->next;
			break;
		}
	pthread_mutex_unlock(&c->xfer_lock);
	if (!t)
		return;
	pthread_join(t->thread, NULL);
	sdc_stream_close(t->stream);
	free(t);
}

void sdc__oneshot_shutdown(sdc_client *c)
{
	while (c->transfers) {
		struct transfer *t = c->transfers;

		c->transfers = t->next;
		/* Without the daemon's help the thread notices the closed socket and stops. */
		pthread_join(t->thread, NULL);
		sdc_stream_close(t->stream);
		free(t);
	}
}

/* True when handle is 0 and this client never played or recorded: nothing to wait for or stop. */
static int nothing_started(sdc_client *c, unsigned handle)
{
	unsigned last;

	if (handle)
		return 0;
	pthread_mutex_lock(&c->xfer_lock);
	last = c->last_handle;
	pthread_mutex_unlock(&c->xfer_lock);
	return last == 0;
}

int sdc_wait(sdc_client *c, unsigned handle, sdc_status *ret)
{
	if (!c)
		return sdc__error_set(-EINVAL, "invalid arguments");
	/* As sounddevice's wait(): before any play/rec/playrec there is nothing to wait for. */
	if (nothing_started(c, handle)) {
		if (ret) {
			memset(ret, 0, sizeof(*ret));
			ret->state = SDC_STATE_FINISHED;
		}
		return 0;
	}
	finish_transfer(c, handle);
	return sdc__status_request(c, "wait", handle, ret);
}

int sdc_stop(sdc_client *c, unsigned handle)
{
	int r;

	if (!c)
		return sdc__error_set(-EINVAL, "invalid arguments");
	/* As sounddevice's stop(): before any play/rec/playrec it does nothing. */
	if (nothing_started(c, handle))
		return 0;
	r = sdc__status_request(c, "stop", handle, NULL);
	finish_transfer(c, handle);
	return r;
}

/* Hands the data over: all of it when it fits, else a transfer thread does the rest. */
static int hand_over(sdc_client *c, sdc_stream *s, const void *out, void *in, size_t frames,
		     int blocking, unsigned *ret_handle)
{
	unsigned handle = sdc_stream_handle(s);
	size_t written = 0;
	int r;

	if (out && !in) {
		/* The new ring is empty: whatever fits goes now, without waiting; the rest later. */
		uint32_t capacity = sdc__stream_out_capacity(s);

		written = frames < capacity ? frames : capacity;
		if (sdc_stream_write(s, out, written) != (long long)written) {
			r = sdc_last_error()->errnum ? sdc_last_error()->errnum : -EIO;
			sdc_stream_close(s);
			return r;
		}
		if (written == frames) {
			sdc_stream_end(s);
			sdc_stream_close(s);
			s = NULL;
		}
	}
	if (s) {
		r = start_transfer(c, s, out, in, frames, written);
		if (r < 0) {
			sdc_stop(c, handle);
			sdc_stream_close(s);
			return r;
		}
	}
	if (ret_handle)
		*ret_handle = handle;
	if (blocking) {
		sdc_status st;

		r = sdc_wait(c, handle, &st);
		if (r < 0)
			return r;
		if (st.state == SDC_STATE_FAILED)
			return sdc__error_from_status(&st);
	}
	return 0;
}

int sdc_play(sdc_client *c, const void *data, size_t frames, const sdc_play_params *p,
	     unsigned *ret_handle)
{
	sdc_stream *s;
	int r;

	if (!data || frames == 0)
		return sdc__error_set(-EINVAL, "nothing to play");
	r = sdc_play_open(c, p, (long long)frames, &s);
	if (r < 0)
		return r;
	return hand_over(c, s, data, NULL, frames, p->blocking, ret_handle);
}

int sdc_rec(sdc_client *c, void *buffer, size_t frames, const sdc_rec_params *p,
	    unsigned *ret_handle)
{
	sdc_stream *s;
	int r;

	if (!buffer || frames == 0)
		return sdc__error_set(-EINVAL, "nothing to record into");
	r = sdc_rec_open(c, p, (long long)frames, &s);
	if (r < 0)
		return r;
	return hand_over(c, s, NULL, buffer, frames, p->blocking, ret_handle);
}

int sdc_playrec(sdc_client *c, const void *data, void *buffer, size_t frames,
		const sdc_playrec_params *p, unsigned *ret_handle)
{
	sdc_stream *s;
	int r;

	if (!data || !buffer || frames == 0)
		return sdc__error_set(-EINVAL, "playrec needs data, a buffer and a length");
	r = sdc_playrec_open(c, p, (long long)frames, &s);
	if (r < 0)
		return r;
	return hand_over(c, s, data, buffer, frames, p->blocking, ret_handle);
}
