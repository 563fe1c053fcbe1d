/*
 * Device streams on the loop thread: the attach lists the audio thread
 * iterates over (built anew for each attach and detach, published with
 * release, freed once the audio thread has acknowledged a newer one) and
 * the rate groups that carry the streams at other rates than the device
 * stream's.  Loop thread.
 */
#include "devstream.h"

#include <errno.h>
#include <stdlib.h>

#include "devstream-internal.h"
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

void devstream_reap(struct devstream *ds, bool force)
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
		devstream_reap(ds, true);
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
	if (ds->cfg.max_resamplers && devstream_resamplers(ds) >= (unsigned)*ds->cfg.max_resamplers) {
		*ret_err = -EUSERS;
		return NULL;
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

unsigned devstream_resamplers(const struct devstream *ds)
{
	unsigned n = 0;

	for (const struct list *p = ds->groups.next; p != &ds->groups; p = p->next)
		n++;
	return n;
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

void devstream_release_all(struct devstream *ds)
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
	devstream_reap(ds, true);
	free(list);
	atomic_store(&ds->list, NULL);
	while (!list_empty(&ds->groups)) {
		struct rategroup *g = list_entry(ds->groups.next, struct rategroup, link);

		list_remove(&g->link);
		rategroup_free(g);
	}
}
