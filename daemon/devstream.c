/*
 * Device streams on the loop thread: opening, starting and closing their
 * backend streams, the lock-free attach lists, and the wake-ups and idle
 * timer they report through their hooks.  The backend's callbacks are in
 * devstream-rt.c.  Loop thread.
 */
#include "devstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "rategroup.h"
#include "stream.h"

/* An old attach list waiting for the audio thread to move past it. */
struct retiree {
	struct list link;
	uint32_t generation;
	struct attach_list *list;
	struct stream *stream;	   /* whose reference is dropped on release, or NULL */
	struct rategroup *group;   /* a group no list holds any more, freed on release, or NULL */
};

/* Frees retired lists the audio thread has moved past (all of them when force is set). */
static void reap(struct devstream *ds, bool force)
{
	uint32_t seen = atomic_load_explicit(&ds->seen_generation, memory_order_acquire);
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &ds->retiring)
	{
		struct retiree *r = list_entry(pos, struct retiree, link);

		/* Generations only grow; the difference handles wrap-around. */
		if (!force && (int32_t)(seen - r->generation) < 0)
			continue;
		list_remove(&r->link);
		free(r->list);
		rategroup_free(r->group);
		if (r->stream)
			ds->cfg.hooks.release(ds->cfg.hooks.data, r->stream);
		free(r);
	}
}

static void on_notify(uv_poll_t *handle, int status, int events)
{
	struct devstream *ds = handle->data;
	uint64_t count;

	if (read(ds->notify_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_debug("Device stream notify read failed: %s", strerror(errno));
	reap(ds, false);
	ds->cfg.hooks.notify(ds->cfg.hooks.data, ds);
}

/*
 * Replaces the attach list; the old one is freed when acknowledged, and
 * with it a group that only it held and the reference of a stream that
 * was detached.
 */
static int publish(struct devstream *ds, struct attach_list *next, struct stream *released,
		   struct rategroup *group)
{
	struct attach_list *old = atomic_load_explicit(&ds->list, memory_order_relaxed);
	struct retiree *r = calloc(1, sizeof(*r));

	if (!r) {
		free(next);
		return -ENOMEM;
	}
	next->generation = ++ds->generation;
	r->generation = next->generation;
	r->list = old;
	r->stream = released;
	r->group = group;
	list_insert_tail(&ds->retiring, &r->link);
	atomic_store_explicit(&ds->list, next, memory_order_release);
	/* Without a running callback nobody will acknowledge: release at once. */
	if (!ds->started || atomic_load(&ds->finished))
		reap(ds, true);
	return 0;
}

/* The i-th candidate for a new side: cur's directions, then add (which may be NULL). */
static struct stream_dir *candidate(const struct attach_side *cur, struct stream_dir *add,
				    uint32_t i)
{
	return i < cur->count ? cur->dirs[i] : add;
}

/*
 * Fills next with cur's directions, without drop and with add: the direct
 * ones first, then each live group's in the order of ds->groups, keeping
 * their order within each.
 */
static void side_fill(struct devstream *ds, const struct attach_side *cur, struct stream_dir *drop,
		      struct stream_dir *add, bool output, struct attach_side *next)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i <= cur->count; i++) {
		struct stream_dir *d = candidate(cur, add, i);

		if (d && d != drop && !d->group)
			next->dirs[n++] = d;
	}
	next->direct = n;
	for (struct list *p = ds->groups.next; p != &ds->groups; p = p->next) {
		struct rategroup *g = list_entry(p, struct rategroup, link);
		uint32_t first = n;

		if (g->output != output)
			continue;
		for (uint32_t i = 0; i <= cur->count; i++) {
			struct stream_dir *d = candidate(cur, add, i);

			if (d && d != drop && d->group == g)
				next->dirs[n++] = d;
		}
		if (n > first)
			next->groups[next->ngroups++] = (struct attach_group){ g, first, n - first };
	}
	next->count = n;
}

/*
 * Builds a list of the current entries, without drop and with add_out and
 * add_in.  Each direction's group (d->group) says where it goes.
 */
static struct attach_list *list_edit(struct devstream *ds, struct stream_dir *drop,
				     struct stream_dir *add_out, struct stream_dir *add_in)
{
	struct attach_list *cur = atomic_load_explicit(&ds->list, memory_order_relaxed);
	uint32_t nout = cur->out.count + 1, nin = cur->in.count + 1, ngroups = 0;
	struct attach_list *next;
	unsigned char *p;
	bool all_clip_off = true;

	for (struct list *l = ds->groups.next; l != &ds->groups; l = l->next)
		ngroups++;
	next = calloc(1, sizeof(*next) + sizeof(struct stream_dir *) * (nout + nin) +
				 sizeof(struct attach_group) * 2 * (ngroups + 1));
	if (!next)
		return NULL;
	p = (unsigned char *)(next + 1);
	next->out.dirs = (struct stream_dir **)p;
	next->in.dirs = next->out.dirs + nout;
	next->out.groups = (struct attach_group *)(void *)(next->in.dirs + nin);
	next->in.groups = next->out.groups + ngroups + 1;
	side_fill(ds, &cur->out, drop, add_out, true, &next->out);
	side_fill(ds, &cur->in, drop, add_in, false, &next->in);
	for (uint32_t i = 0; i < next->out.count; i++)
		all_clip_off = all_clip_off && next->out.dirs[i]->stream->clip_off;
	next->clip = next->out.count == 0 || !all_clip_off;
	return next;
}

/* Returns a group of ds for streams at rate on width channels (made when none fits), or NULL. */
static struct rategroup *group_for(struct devstream *ds, bool output, uint32_t rate, int width,
				   bool own, int *ret_err)
{
	int dch = output ? ds->cfg.channels_out : ds->cfg.channels_in;
	int quality = ds->cfg.resample_quality ? *ds->cfg.resample_quality : RATEGROUP_QUALITY_DEFAULT;
	struct rategroup *g;

	if (!own)
		for (struct list *p = ds->groups.next; p != &ds->groups; p = p->next) {
			g = list_entry(p, struct rategroup, link);
			if (g->output == output && g->rate == rate && !g->own && g->channels >= width)
				return g;
		}
	if (width > dch)
		width = dch;
	/* Stereo at least, so that the common case shares one group. */
	if (width < 2 && dch >= 2)
		width = 2;
	*ret_err = rategroup_new(output, rate, ds->rate, width, dch, own, quality, &g);
	if (*ret_err < 0)
		return NULL;
	list_insert_tail(&ds->groups, &g->link);
	return g;
}

/* The device channels a direction's routes reach: one past the highest. */
static int dir_width(const struct stream_dir *d, bool output)
{
	int top = 0;

	for (int i = 0; i < d->nroutes; i++) {
		int ch = (output ? d->routes[i].dst : d->routes[i].src) + 1;

		if (ch > top)
			top = ch;
	}
	return top > 0 ? top : 1;
}

/* Lets go of a group's user; returns the group when nobody uses it any more (to retire). */
static struct rategroup *group_unuse(struct rategroup *g)
{
	if (!g || --g->users > 0)
		return NULL;
	list_remove(&g->link);
	list_init(&g->link);
	return g;
}

int devstream_attach(struct devstream *ds, struct stream_dir *out, struct stream_dir *in,
		     uint32_t rate, bool own)
{
	struct stream_dir *dirs[2] = { out, in };
	struct attach_list *next;
	int r = 0;

	for (int i = 0; i < 2; i++) {
		struct stream_dir *d = dirs[i];

		if (!d)
			continue;
		d->group = NULL;
		if (rate == ds->rate || ds->cfg.mode == DEVSTREAM_EXCLUSIVE)
			continue;
		d->group = group_for(ds, i == 0, rate, dir_width(d, i == 0), own, &r);
		if (!d->group)
			goto fail;
		d->group->users++;
	}
	next = list_edit(ds, NULL, out, in);
	if (!next) {
		r = -ENOMEM;
		goto fail;
	}
	r = publish(ds, next, NULL, NULL);
	if (r < 0)
		goto fail;
	for (int i = 0; i < 2; i++) {
		if (!dirs[i])
			continue;
		dirs[i]->dev = ds;
		dirs[i]->stream->rt_refs++;
	}
	uv_timer_stop(&ds->idle_timer);
	return 0;
fail:
	/* Nothing was published: a group made for these directions goes at once. */
	for (int i = 0; i < 2; i++)
		if (dirs[i] && dirs[i]->group) {
			rategroup_free(group_unuse(dirs[i]->group));
			dirs[i]->group = NULL;
		}
	return r;
}

int devstream_detach(struct devstream *ds, struct stream_dir *d)
{
	struct attach_list *next;
	struct rategroup *retired;
	int r;

	/* The group must no longer be live when the list is sorted: it leaves with d. */
	retired = group_unuse(d->group);
	next = list_edit(ds, d, NULL, NULL);
	if (!next) {
		if (retired)
			list_insert_tail(&ds->groups, &retired->link);
		if (d->group)
			d->group->users++;
		log_error("Out of memory detaching a stream; it will leak");
		return -ENOMEM;
	}
	d->dev = NULL;
	d->group = NULL;
	r = publish(ds, next, d->stream, retired);
	if (r < 0) {
		/* Keep the reference: the stream stays allocated rather than risk a use after free. */
		log_error("Out of memory detaching a stream; it will leak");
		return r;
	}
	return 0;
}

uint32_t devstream_attached(const struct devstream *ds)
{
	const struct attach_list *list =
		atomic_load_explicit(&((struct devstream *)ds)->list, memory_order_relaxed);
	uint32_t n = list->out.count;

	/* A playrec on a duplex or exclusive device stream counts once. */
	for (uint32_t i = 0; i < list->in.count; i++) {
		const struct stream *s = list->in.dirs[i]->stream;

		n += !(s->out.used && s->out.dev == ds);
	}
	return n;
}

struct stream **devstream_streams(const struct devstream *ds, uint32_t *ret_count)
{
	struct attach_list *list =
		atomic_load_explicit(&((struct devstream *)ds)->list, memory_order_relaxed);
	struct stream **streams;
	uint32_t n = 0;

	*ret_count = 0;
	if (!list || list->out.count + list->in.count == 0)
		return NULL;
	streams = malloc(sizeof(*streams) * (list->out.count + list->in.count));
	if (!streams)
		return NULL;
	for (uint32_t i = 0; i < list->out.count; i++)
		streams[n++] = list->out.dirs[i]->stream;
	/* A playrec on a duplex or exclusive device stream is there twice: counted once. */
	for (uint32_t i = 0; i < list->in.count; i++) {
		struct stream *s = list->in.dirs[i]->stream;

		if (!(s->out.used && s->out.dev == ds))
			streams[n++] = s;
	}
	*ret_count = n;
	return streams;
}

int devstream_device(const struct devstream *ds)
{
	return ds->cfg.device_out >= 0 ? ds->cfg.device_out : ds->cfg.device_in;
}

const char *devstream_mode_name(const struct devstream *ds)
{
	switch (ds->cfg.mode) {
	case DEVSTREAM_SHARED_OUT:
		return "shared output";
	case DEVSTREAM_SHARED_IN:
		return "shared input";
	case DEVSTREAM_SHARED_DUPLEX:
		return "shared duplex";
	default:
		return "exclusive";
	}
}

bool devstream_serves(const struct devstream *ds, bool output)
{
	return ds->cfg.mode == DEVSTREAM_SHARED_DUPLEX ||
	       ds->cfg.mode == (output ? DEVSTREAM_SHARED_OUT : DEVSTREAM_SHARED_IN);
}

uint32_t devstream_loop_frames(const struct devstream *ds)
{
	double frames = (ds->actual_latency_in + ds->actual_latency_out) * ds->actual_rate;

	return frames > 0 && frames < 1e9 ? (uint32_t)(frames + 0.5) : 0;
}

/* Whether the backend should be calling back now. */
static bool should_run(struct devstream *ds)
{
	return ds->started && !ds->closing && !atomic_load(&ds->finished);
}

bool devstream_check_stuck(struct devstream *ds)
{
	uint64_t entered = atomic_load_explicit(&ds->callbacks, memory_order_relaxed);
	bool inside = atomic_load_explicit(&ds->returns, memory_order_acquire) != entered;
	bool stuck = inside && ds->stuck_inside && entered == ds->stuck_callbacks;

	if (!should_run(ds))
		return false;
	ds->stuck_callbacks = entered;
	ds->stuck_inside = inside;
	return stuck;
}

int devstream_check_quiet(struct devstream *ds)
{
	uint64_t entered = atomic_load_explicit(&ds->callbacks, memory_order_relaxed);
	bool inside = atomic_load_explicit(&ds->returns, memory_order_acquire) != entered;
	bool still = entered == ds->quiet_callbacks;

	if (!should_run(ds))
		return 0;
	ds->quiet_callbacks = entered;
	if (!still) {
		bool was = ds->quiet;

		ds->quiet = false;
		return was ? -1 : 0;
	}
	if (inside || ds->quiet)
		return 0;
	ds->quiet = true;
	return 1;
}

double devstream_time(const struct devstream *ds)
{
	return ds->bs ? ds->cfg.backend->ops->time(ds->bs) : 0;
}

double devstream_cpu_load(const struct devstream *ds)
{
	return ds->bs ? ds->cfg.backend->ops->cpu_load(ds->bs) : 0;
}

uint32_t devstream_period(const struct devstream *ds)
{
	if (ds->cfg.blocksize > 0)
		return (uint32_t)ds->cfg.blocksize;
	return atomic_load_explicit(&ds->max_frames, memory_order_relaxed);
}

static void on_idle(uv_timer_t *timer)
{
	struct devstream *ds = timer->data;

	if (devstream_attached(ds) == 0) {
		log_info("Closing idle device stream on device %d", devstream_device(ds));
		ds->cfg.hooks.idle(ds->cfg.hooks.data, ds);
	}
}

static void on_handle_closed(uv_handle_t *handle)
{
	struct devstream *ds = handle->data;

	if (--ds->pending_closes == 0) {
		close(ds->notify_fd);
		free(ds);
	}
}

int devstream_start(struct devstream *ds, struct proto_error *err)
{
	struct backend_error be;

	if (ds->cfg.backend->ops->start(ds->bs, &be) < 0)
		return backend_error_proto(err, &be, PROTO_E_PORTAUDIO,
					   "Cannot start the stream on device %d",
					   devstream_device(ds));
	ds->started = true;
	return 0;
}

/*
 * Lets go of everything the audio thread may have used, once no callback
 * runs any more (the backend stream is closed): the current list and its
 * streams' references, the retired lists, the rate groups.
 */
static void release_all(struct devstream *ds)
{
	struct attach_list *list = atomic_load_explicit(&ds->list, memory_order_relaxed);

	for (int side = 0; side < 2; side++) {
		const struct attach_side *sd = side ? &list->in : &list->out;

		for (uint32_t i = 0; i < sd->count; i++) {
			sd->dirs[i]->dev = NULL;
			sd->dirs[i]->group = NULL;
			ds->cfg.hooks.release(ds->cfg.hooks.data, sd->dirs[i]->stream);
		}
	}
	reap(ds, true);
	free(list);
	atomic_store(&ds->list, NULL);
	while (!list_empty(&ds->groups)) {
		struct rategroup *g = list_entry(ds->groups.next, struct rategroup, link);

		list_remove(&g->link);
		rategroup_free(g);
	}
}

void devstream_close(struct devstream *ds)
{
	if (ds->closing)
		return;
	ds->closing = true;
	if (ds->bs) {
		/* Abort: nothing attached wants the buffered audio any more. */
		if (ds->started)
			ds->cfg.backend->ops->abort(ds->bs);
		ds->cfg.backend->ops->close(ds->bs);
		ds->bs = NULL;
	}
	ds->started = false;
	release_all(ds);
	uv_timer_stop(&ds->idle_timer);
	uv_poll_stop(&ds->notify_poll);
	ds->pending_closes = 2;
	uv_close((uv_handle_t *)&ds->idle_timer, on_handle_closed);
	uv_close((uv_handle_t *)&ds->notify_poll, on_handle_closed);
}

void devstream_arm_idle(struct devstream *ds, double seconds)
{
	if (ds->closing || ds->cfg.mode == DEVSTREAM_EXCLUSIVE || devstream_attached(ds) > 0)
		return;
	uv_timer_start(&ds->idle_timer, on_idle, (uint64_t)(seconds * 1000.0), 0);
}

int devstream_open(const struct devstream_config *cfg, struct devstream **ret,
		   struct proto_error *err)
{
	struct backend_params params = {
		.device_in = cfg->device_in,
		.device_out = cfg->device_out,
		.channels_in = cfg->channels_in,
		.channels_out = cfg->channels_out,
		.format_in = cfg->format_in,
		.format_out = cfg->format_out,
		.samplerate = cfg->samplerate,
		.blocksize = cfg->blocksize,
		.latency_in = cfg->latency_in,
		.latency_out = cfg->latency_out,
		.flags = cfg->flags,
	};
	struct backend_callbacks cb = {
		.process = cfg->mode == DEVSTREAM_EXCLUSIVE ? devstream_rt_exclusive : devstream_rt_shared,
		.finished = devstream_rt_finished,
	};
	const char *what = cfg->mode == DEVSTREAM_EXCLUSIVE ? "an exclusive" : "a shared";
	struct backend_stream_info info;
	struct backend_error be;
	struct devstream *ds;
	int r;

	ds = calloc(1, sizeof(*ds));
	if (!ds)
		return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
	ds->cfg = *cfg;
	ds->notify_fd = -1;
	ds->stuck_callbacks = UINT64_MAX;
	ds->quiet_callbacks = UINT64_MAX;
	list_init(&ds->retiring);
	list_init(&ds->link);
	list_init(&ds->groups);
	atomic_init(&ds->list, calloc(1, sizeof(struct attach_list)));
	if (!atomic_load(&ds->list)) {
		free(ds);
		return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
	}
	atomic_load(&ds->list)->clip = true;
	ds->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ds->notify_fd < 0) {
		r = -errno;
		free(atomic_load(&ds->list));
		free(ds);
		return proto_error_set(err, PROTO_E_INTERNAL, "cannot create an eventfd: %s",
				       strerror(-r));
	}
	cb.data = ds;
	if (cfg->backend->ops->open(cfg->backend, &params, &cb, &ds->bs, &be) < 0) {
		ds->bs = NULL;
		r = backend_error_proto(err, &be, be.busy ? PROTO_E_BUSY : PROTO_E_PORTAUDIO,
					"Cannot open %s stream on device %d at %g Hz", what,
					cfg->device_out >= 0 ? cfg->device_out : cfg->device_in,
					cfg->samplerate);
		goto fail;
	}
	ds->cfg.backend->ops->info(ds->bs, &info);
	ds->actual_rate = info.samplerate > 0 ? info.samplerate : cfg->samplerate;
	ds->rate = (uint32_t)(ds->actual_rate + 0.5);
	ds->actual_latency_in = info.latency_in;
	ds->actual_latency_out = info.latency_out;

	uv_poll_init(cfg->loop, &ds->notify_poll, ds->notify_fd);
	uv_timer_init(cfg->loop, &ds->idle_timer);
	ds->notify_poll.data = ds;
	ds->idle_timer.data = ds;
	uv_poll_start(&ds->notify_poll, UV_READABLE, on_notify);
	*ret = ds;
	return 0;
fail:
	close(ds->notify_fd);
	free(atomic_load(&ds->list));
	free(ds);
	return r;
}
