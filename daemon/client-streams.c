/*
 * The streams clients hold: ownership, waiters, per-client accounting and
 * the detached-playback count, and the engine's callbacks that tell
 * clients what became of their streams.  See client-streams.h.  Loop
 * thread.
 */
#include "client-streams.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "client.h"
#include "cmd-devices.h"
#include "daemon.h"
#include "devstream.h"
#include "log.h"
#include "stream.h"
#include "users.h"

/* Counts cs as detached or not: the one place that changes the count. */
static void set_detached(struct daemon *d, struct client_stream *cs, bool detached)
{
	if (cs->detached == detached)
		return;
	cs->detached = detached;
	if (detached)
		d->detached_count++;
	else
		d->detached_count--;
}

/* cs no longer counts as running for its user (its stream is over, or its record goes). */
static void stop_counting(struct client_stream *cs)
{
	if (!cs->running)
		return;
	cs->running = false;
	cs->user->streams--;
}

/* The record of s, or NULL when nobody holds it (a test's, or one being released). */
static struct client_stream *record(struct stream *s)
{
	return s->owner;
}

/*
 * Lets go of cs: a running stream ends first (its waiters and owner hear
 * of it), then the record goes and the engine frees the stream once its
 * audio threads let go.
 */
static void release(struct daemon *d, struct client_stream *cs)
{
	struct stream *s = cs->stream;

	set_detached(d, cs, false);
	/* Cut short by the daemon's stopping, it failed: its client must not take it for done. */
	if (!stream_is_over(s) && d->stopping)
		engine_stream_finish(&d->engine, s, SHM_STATE_FAILED, "shutting_down",
				     "sddaemon stopped");
	else if (!stream_is_over(s))
		engine_stream_finish(&d->engine, s, SHM_STATE_FINISHED, NULL, NULL);
	d->shm_bytes -= s->shm.size;
	stop_counting(cs);
	cs->user->records--;
	cs->user->shm_bytes -= s->shm.size;
	users_release(&d->users, cs->user);
	/*
	 * Its memory goes back to the system with the record, whoever still
	 * holds its descriptor (the client, a reply not yet sent or read); at
	 * shutdown it stays, so that clients keep what they recorded.
	 */
	s->shm.reclaim = !d->stopping;
	s->owner = NULL;
	list_remove(&cs->link);
	json_object_put(cs->waiters);
	free(cs);
	engine_stream_release(&d->engine, s);
}

/* Takes cs out of its client's list, and its memory out of the client's account. */
static void unlink_from_client(struct client_stream *cs)
{
	if (cs->client)
		cs->client->shm_bytes -= cs->stream->shm.size;
	list_remove(&cs->link);
}

unsigned client_streams_running(struct client *c)
{
	unsigned running = 0;

	for (struct list *p = c->streams.next; p != &c->streams; p = p->next)
		running += !stream_is_over(list_entry(p, struct client_stream, link)->stream);
	return running;
}

int client_streams_check(struct client *c, size_t shm_bytes, bool detach,
			 struct proto_error *err)
{
	struct daemon *d = c->daemon;
	struct user_account *u = c->user;
	unsigned unread = client_fds_pending(c);
	int running = (int)client_streams_running(c);

	if (running >= d->settings.max_streams_per_client)
		return proto_error_set(err, PROTO_E_LIMIT,
				       "too many streams: at most %d may run at once per client",
				       d->settings.max_streams_per_client);
	/*
	 * A stream's reply carries two descriptors; those the client has not
	 * read yet pin files the daemon cannot count as the client's own, so
	 * an unread reply counts as a stream.
	 */
	if ((unsigned)running + (unread + STREAM_REPLY_FDS - 1) / STREAM_REPLY_FDS >=
	    (unsigned)d->settings.max_streams_per_client)
		return proto_error_set(err, PROTO_E_LIMIT,
				       "too many streams: %u descriptors sent with earlier replies are not read yet, and with %d running that makes the limit of %d per client; read the replies",
				       unread, running, d->settings.max_streams_per_client);
	if (u->streams >= (unsigned)d->settings.max_streams_per_user)
		return proto_error_set(err, PROTO_E_LIMIT,
				       "too many streams: uid %u has %u running, the most one user may (max_streams_per_user)",
				       (unsigned)u->uid, u->streams);
	if (c->shm_bytes + shm_bytes > d->settings.max_shm_per_client)
		return proto_error_set(err, PROTO_E_LIMIT,
				       "the stream needs %zu bytes of shared memory; the client's limit is %zu (in use: %zu)",
				       shm_bytes, d->settings.max_shm_per_client, c->shm_bytes);
	if (u->shm_bytes + shm_bytes > d->settings.max_shm_per_user)
		return proto_error_set(err, PROTO_E_LIMIT,
				       "the stream needs %zu bytes of shared memory; uid %u holds %zu of at most %zu (max_shm_per_user)",
				       shm_bytes, (unsigned)u->uid, u->shm_bytes, d->settings.max_shm_per_user);
	if (d->shm_bytes + shm_bytes > d->settings.max_shm_total)
		return proto_error_set(err, PROTO_E_LIMIT,
				       "the stream needs %zu bytes of shared memory; all clients together hold %zu of at most %zu (max_shm_total)",
				       shm_bytes, d->shm_bytes, d->settings.max_shm_total);
	if (detach && d->detached_count >= CLIENT_STREAMS_MAX_DETACHED)
		return proto_error_set(err, PROTO_E_LIMIT, "too many detached playbacks (%d)",
				       CLIENT_STREAMS_MAX_DETACHED);
	return 0;
}

int client_streams_add(struct client *c, struct stream *s, bool detach, bool latest)
{
	struct client_stream *cs = calloc(1, sizeof(*cs));

	if (!cs || !(cs->waiters = json_object_new_array())) {
		free(cs);
		return -ENOMEM;
	}
	cs->stream = s;
	cs->client = c;
	cs->owner_uid = c->cred.uid;
	cs->user = c->user;
	cs->user->records++;
	cs->user->shm_bytes += s->shm.size;
	if (!stream_is_over(s)) {
		cs->running = true;
		cs->user->streams++;
	}
	s->owner = cs;
	list_insert_tail(&c->streams, &cs->link);
	c->shm_bytes += s->shm.size;
	c->daemon->shm_bytes += s->shm.size;
	if (latest)
		c->last_handle = s->handle;
	set_detached(c->daemon, cs, detach);
	return 0;
}

struct client_stream *client_streams_find(struct client *c, int64_t handle,
					  struct proto_error *err)
{
	struct daemon *d = c->daemon;

	if (handle == 0) {
		handle = c->last_handle;
		if (!handle) {
			proto_error_set(err, PROTO_E_NO_SUCH_STREAM,
					"play()/rec()/playrec() was not called yet");
			return NULL;
		}
	}
	for (struct list *p = c->streams.next; p != &c->streams; p = p->next) {
		struct client_stream *cs = list_entry(p, struct client_stream, link);

		if (cs->stream->handle == handle)
			return cs;
	}
	/* A detached playback whose client left belongs to the user who started it. */
	for (struct list *p = d->orphans.next; p != &d->orphans; p = p->next) {
		struct client_stream *cs = list_entry(p, struct client_stream, link);

		if (cs->stream->handle == handle && cs->owner_uid == c->cred.uid)
			return cs;
	}
	/* Another client's stream looks exactly like one that does not exist. */
	proto_error_set(err, PROTO_E_NO_SUCH_STREAM, "no stream with handle %lld", (long long)handle);
	return NULL;
}

void client_streams_wait(struct client *c, struct client_stream *cs, json_object *id)
{
	/* The waiter may not be the owner (a detached playback's user): remember who waits. */
	json_object *waiter = json_object_new_object();

	json_object_object_add(waiter, "client", json_object_new_int64(c->id));
	json_object_object_add(waiter, "id", json_object_get(id));
	json_object_array_add(cs->waiters, waiter);
}

json_object *client_streams_stop(struct client *c, struct client_stream *cs)
{
	struct daemon *d = c->daemon;
	bool orphan = cs->detached && !cs->client;
	json_object *status;

	/* Stopped by its user, an orphan no longer plays on: report first, then let go. */
	if (orphan)
		set_detached(d, cs, false);
	engine_stream_finish(&d->engine, cs->stream, SHM_STATE_FINISHED, NULL, NULL);
	status = stream_status_json(cs->stream);
	if (orphan)
		release(d, cs);
	return status;
}

void client_streams_close(struct client *c, struct client_stream *cs)
{
	/* Only the owner's memory is counted (not an orphaned detached playback's). */
	unlink_from_client(cs);
	list_init(&cs->link);
	if (c->last_handle == cs->stream->handle)
		c->last_handle = 0;
	release(c->daemon, cs);
}

void client_streams_stop_previous(struct client *c)
{
	for (struct list *p = c->streams.next; p != &c->streams; p = p->next) {
		struct stream *s = list_entry(p, struct client_stream, link)->stream;

		if (s->handle == c->last_handle && s->kind != STREAM_OPEN && !stream_is_over(s))
			engine_stream_finish(&c->daemon->engine, s, SHM_STATE_FINISHED, NULL, NULL);
	}
}

void client_streams_trim(struct client *c)
{
	struct list *pos, *tmp;
	int over = 0;

	for (struct list *p = c->streams.next; p != &c->streams; p = p->next)
		over += stream_is_over(list_entry(p, struct client_stream, link)->stream);
	list_for_each_safe(pos, tmp, &c->streams)
	{
		struct client_stream *cs = list_entry(pos, struct client_stream, link);

		if (over <= CLIENT_STREAMS_KEEP_FINISHED)
			break;
		if (!stream_is_over(cs->stream))
			continue;
		unlink_from_client(cs);
		list_init(&cs->link);
		release(c->daemon, cs);
		over--;
	}
}

json_object *client_streams_status(struct client *c)
{
	struct engine *e = &c->daemon->engine;
	json_object *mine = json_object_new_array();

	/* In the order the streams were made, as the engine keeps them. */
	for (struct stream *s = engine_stream_next(e, NULL); s; s = engine_stream_next(e, s)) {
		struct client_stream *cs = record(s);

		if (!cs || stream_is_over(s))
			continue;
		if (cs->client == c || (cs->detached && !cs->client && cs->owner_uid == c->cred.uid))
			json_object_array_add(mine, stream_status_json(s));
	}
	return mine;
}

/* How full a ring is: the fraction of its capacity that holds frames not yet moved. */
static double ring_fill(const struct stream_dir *d)
{
	uint32_t w = atomic_load_explicit(&d->ctl->write_index, memory_order_relaxed);
	uint32_t r = atomic_load_explicit(&d->ctl->read_index, memory_order_relaxed);
	uint32_t fill = w - r;

	/* The client may write anything there: an impossible fill reads as full. */
	return fill > d->capacity ? 1.0 : (double)fill / d->capacity;
}

/* One stream as client_list shows it. */
static json_object *stream_entry(const struct client_stream *cs)
{
	static const char *const kinds[] = { "play", "rec", "playrec", "stream" };
	const struct stream *s = cs->stream;
	const struct stream_dir *main_dir = s->out.used ? &s->out : &s->in;
	json_object *o = json_object_new_object(), *dev, *status, *v = NULL;
	int in = s->in.used && s->in.dev ? devstream_device(s->in.dev) : -1;
	int out = s->out.used && s->out.dev ? devstream_device(s->out.dev) : -1;

	if (s->in.used && s->out.used && in != out) {
		dev = json_object_new_array();
		json_object_array_add(dev, json_object_new_int(in));
		json_object_array_add(dev, json_object_new_int(out));
	} else {
		dev = json_object_new_int(s->out.used ? out : in);
	}
	json_object_object_add(o, "handle", json_object_new_int64(s->handle));
	json_object_object_add(o, "kind", json_object_new_string(kinds[s->kind]));
	json_object_object_add(o, "device", dev);
	json_object_object_add(o, "samplerate", json_object_new_double(s->samplerate));
	json_object_object_add(o, "channels", json_object_new_int(main_dir->channels));
	/* The state and xruns as get_status reports them. */
	status = stream_status_json(cs->stream);
	json_object_object_get_ex(status, "state", &v);
	json_object_object_add(o, "state", json_object_get(v));
	json_object_object_get_ex(status, "xruns", &v);
	json_object_object_add(o, "xruns", json_object_get(v));
	json_object_put(status);
	json_object_object_add(o, "fill", json_object_new_double(ring_fill(main_dir)));
	json_object_object_add(o, "detached", json_object_new_boolean(cs->detached));
	return o;
}

/* A client entry of client_list (c NULL: the detached playbacks without a client). */
static json_object *client_entry(struct client *c, struct list *streams)
{
	json_object *o = json_object_new_object(), *list = json_object_new_array();

	json_object_object_add(o, "id", json_object_new_int64(c ? c->id : 0));
	json_object_object_add(o, "pid", json_object_new_int64(c ? c->cred.pid : 0));
	json_object_object_add(o, "uid", json_object_new_int64(c ? c->cred.uid : 0));
	json_object_object_add(o, "program",
			       json_object_new_string(!c ? "(detached)" : c->name[0] ? c->name : ""));
	for (struct list *p = streams->next; p != streams; p = p->next) {
		struct client_stream *cs = list_entry(p, struct client_stream, link);

		if (!stream_is_over(cs->stream))
			json_object_array_add(list, stream_entry(cs));
	}
	json_object_object_add(o, "streams", list);
	return o;
}

json_object *client_streams_list(struct daemon *d)
{
	json_object *list = json_object_new_array();

	for (struct list *p = d->clients.next; p != &d->clients; p = p->next) {
		struct client *c = list_entry(p, struct client, link);

		if (!c->closing && !c->closed)
			json_object_array_add(list, client_entry(c, &c->streams));
	}
	if (d->orphans.next != &d->orphans)
		json_object_array_add(list, client_entry(NULL, &d->orphans));
	return list;
}

void client_streams_client_gone(struct client *c)
{
	struct daemon *d = c->daemon;
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &c->streams)
	{
		struct client_stream *cs = list_entry(pos, struct client_stream, link);

		list_remove(&cs->link);
		cs->client = NULL;
		if (cs->detached && !stream_is_over(cs->stream)) {
			log_info("Stream %u plays on without its client", cs->stream->handle);
			list_insert_tail(&d->orphans, &cs->link);
			continue;
		}
		release(d, cs);
	}
}

/* Returns the connected client a waiter ({"client": serial, "id": …}) belongs to, or NULL. */
static struct client *waiter_client(struct daemon *d, json_object *w)
{
	json_object *serial = NULL;
	int64_t id;

	if (!json_object_object_get_ex(w, "client", &serial))
		return NULL;
	id = json_object_get_int64(serial);
	for (struct list *p = d->clients.next; p != &d->clients; p = p->next) {
		struct client *c = list_entry(p, struct client, link);

		if (c->id == id && !c->closed)
			return c;
	}
	return NULL;
}

/* The engine's stream_finished: replies to the waiters and tells the owner. */
static void on_stream_finished(void *data, struct stream *s)
{
	struct daemon *d = data;
	struct client_stream *cs = record(s);
	json_object *status;

	if (!cs)
		return;
	stop_counting(cs);
	status = stream_status_json(s);
	/* Waiters may be other connections (of a detached playback's user): each names its own. */
	for (size_t i = 0; i < json_object_array_length(cs->waiters); i++) {
		json_object *w = json_object_array_get_idx(cs->waiters, i), *id = NULL;
		struct client *c = waiter_client(d, w);

		if (c && json_object_object_get_ex(w, "id", &id))
			client_reply_ok(c, id, json_object_get(status), NULL, 0);
	}
	json_object_put(cs->waiters);
	cs->waiters = json_object_new_array();
	if (cs->client)
		client_event(cs->client, "finished", json_object_get(status));
	json_object_put(status);
	if (cs->detached && !cs->client)
		/* Its client has gone: nobody will ask for the record. */
		release(d, cs);
	else
		/* Over while its client is still connected: an ordinary record from now on. */
		set_detached(d, cs, false);
}

/* Names the flags of an xrun, as sounddevice's CallbackFlags attributes. */
static json_object *flag_names(uint32_t flags)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ SHM_INPUT_UNDERFLOW, "input_underflow" },   { SHM_INPUT_OVERFLOW, "input_overflow" },
		{ SHM_OUTPUT_UNDERFLOW, "output_underflow" }, { SHM_OUTPUT_OVERFLOW, "output_overflow" },
		{ SHM_PRIMING_OUTPUT, "priming_output" },
	};
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & names[i].bit)
			json_object_array_add(a, json_object_new_string(names[i].name));
	return a;
}

/* The engine's stream_xruns: one "xrun" event to the owner, with each xrun's position. */
static void on_stream_xruns(void *data, struct stream *s, bool input,
			    const struct stream_xrun *xruns, unsigned count, uint32_t unreported)
{
	struct client_stream *cs = record(s);
	json_object *f, *list;

	if (!cs || !cs->client)
		return;
	f = json_object_new_object();
	list = json_object_new_array();
	for (unsigned i = 0; i < count; i++) {
		json_object *one = json_object_new_object();

		json_object_object_add(one, "position",
				       json_object_new_int64((int64_t)xruns[i].position));
		json_object_object_add(one, "flags", flag_names(xruns[i].flags));
		json_object_array_add(list, one);
	}
	json_object_object_add(f, "handle", json_object_new_int64(s->handle));
	json_object_object_add(f, "direction", json_object_new_string(input ? "input" : "output"));
	json_object_object_add(f, "xruns", list);
	if (unreported)
		/* More xruns than the queue held between two reports: counted, not placed. */
		json_object_object_add(f, "unreported", json_object_new_int64(unreported));
	client_event(cs->client, "xrun", f);
}

/* The engine's device_lost: said in the log and to the subscribers; its streams fail next. */
static void on_device_lost(void *data, const struct engine_device_event *ev)
{
	struct daemon *d = data;

	log_warning("The %s device stream on device %d was lost: %s; ending its %u streams",
		    ev->mode, ev->device, ev->reason, ev->streams);
	commands_device_lost(d, ev);
}

struct engine_callbacks client_streams_callbacks(struct daemon *d)
{
	return (struct engine_callbacks){
		.stream_finished = on_stream_finished,
		.stream_xruns = on_stream_xruns,
		.device_lost = on_device_lost,
		.data = d,
	};
}
