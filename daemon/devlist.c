/*
 * Merging, compacting and comparing device lists (see devlist.h).  The
 * daemon's indices are what clients and the engine hold, so a merge moves
 * none of them unless asked to compact, which the daemon does only while
 * no device stream is open.  Loop thread.
 */
#include "devlist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Returns whether two strings are equal, NULL being equal only to NULL. */
static bool same_string(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

int devlist_find_uid(const struct backend_devlist *l, const char *uid)
{
	for (int i = 0; i < l->count; i++)
		if (!l->dev[i].gone && same_string(l->dev[i].uid, uid))
			return i;
	return -1;
}

/* Returns the index of the host API called name in l, or -1. */
static int find_api(const struct backend_devlist *l, const char *name)
{
	for (int i = 0; i < l->api_count; i++)
		if (same_string(l->api[i].name, name))
			return i;
	return -1;
}

/* Adds the host APIs of cur, then fresh's new ones, to ret; fills map (fresh's → ret's). */
static int merge_apis(const struct backend_devlist *cur, const struct backend_devlist *fresh,
		      struct backend_devlist *ret, int *map)
{
	ret->api = calloc((size_t)cur->api_count + (size_t)fresh->api_count + 1, sizeof(*ret->api));
	if (!ret->api)
		return -ENOMEM;
	for (int i = 0; i < cur->api_count; i++) {
		ret->api[i] = (struct hostapi_info){ .name = strdup(cur->api[i].name),
						     .type = cur->api[i].type,
						     .default_input_device = -1,
						     .default_output_device = -1 };
		ret->api_count = i + 1;
		if (!ret->api[i].name)
			return -ENOMEM;
	}
	for (int i = 0; i < fresh->api_count; i++) {
		int k = find_api(ret, fresh->api[i].name);

		if (k < 0) {
			k = ret->api_count;
			ret->api[k] = (struct hostapi_info){ .name = strdup(fresh->api[i].name),
							     .type = fresh->api[i].type,
							     .default_input_device = -1,
							     .default_output_device = -1 };
			ret->api_count = k + 1;
			if (!ret->api[k].name)
				return -ENOMEM;
		}
		map[i] = k;
	}
	return 0;
}

/* Turns ret's device into a gone one: no channels, nothing to open it by. */
static void mark_gone(struct device_info *d)
{
	free(d->locator);
	d->locator = NULL;
	d->gone = true;
	d->max_input_channels = d->max_output_channels = 0;
}

/*
 * Keeps the latencies the list had for a device that is otherwise
 * unchanged.  PortAudio 19.6's figures for the same device differ by a
 * frame or so from one start to the next (it computes them from values
 * alsa-lib leaves partly unset: see pa-defined.h), and a list that changed
 * at every rescan would make its generations meaningless.
 */
static void keep_latencies(struct device_info *d, const struct device_info *was)
{
	if (was->gone || strcmp(d->name, was->name) != 0 ||
	    d->max_input_channels != was->max_input_channels ||
	    d->max_output_channels != was->max_output_channels ||
	    d->default_samplerate != was->default_samplerate)
		return;
	d->default_low_input_latency = was->default_low_input_latency;
	d->default_low_output_latency = was->default_low_output_latency;
	d->default_high_input_latency = was->default_high_input_latency;
	d->default_high_output_latency = was->default_high_output_latency;
}

/* Fills each host API's device list from ret's present devices. */
static int list_api_devices(struct backend_devlist *ret)
{
	for (int a = 0; a < ret->api_count; a++) {
		struct hostapi_info *api = &ret->api[a];

		api->devices = calloc((size_t)ret->count + 1, sizeof(int));
		if (!api->devices)
			return -ENOMEM;
		for (int i = 0; i < ret->count; i++)
			if (!ret->dev[i].gone && ret->dev[i].hostapi == a)
				api->devices[api->device_count++] = i;
	}
	return 0;
}

int devlist_merge(const struct backend_devlist *cur, const struct backend_devlist *fresh,
		  bool compact, devlist_keep_fn keep, void *data, struct backend_devlist *ret,
		  int *ret_kept)
{
	/* fresh_at[i]: the device of fresh that ret's device i describes, or -1. */
	int *api_map = calloc((size_t)fresh->api_count + 1, sizeof(int));
	int *fresh_at = calloc((size_t)cur->count + (size_t)fresh->count + 1, sizeof(int));
	/* new_index[j]: the index in ret of fresh's device j. */
	int *new_index = calloc((size_t)fresh->count + 1, sizeof(int));
	int kept = 0, r = -ENOMEM;

	*ret = (struct backend_devlist){ .default_input = -1, .default_output = -1 };
	ret->dev = calloc((size_t)cur->count + (size_t)fresh->count + 1, sizeof(*ret->dev));
	if (!api_map || !fresh_at || !new_index || !ret->dev)
		goto fail;
	r = merge_apis(cur, fresh, ret, api_map);
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	for (int j = 0; j < fresh->count; j++)
		new_index[j] = -1;

	/* cur's devices first, in their order. */
	for (int i = 0; i < cur->count; i++) {
		int j = -1;

		for (int k = 0; k < fresh->count && j < 0; k++)
			if (!fresh->dev[k].gone && new_index[k] < 0 &&
			    same_string(fresh->dev[k].uid, cur->dev[i].uid))
				j = k;
		if (j >= 0) {
			struct device_info *d = &ret->dev[ret->count];

			if (backend_device_copy(d, &fresh->dev[j]) < 0)
				goto fail;
			d->hostapi = fresh->dev[j].hostapi >= 0 && fresh->dev[j].hostapi < fresh->api_count
					     ? api_map[fresh->dev[j].hostapi]
					     : -1;
			d->gone = false;
			keep_latencies(d, &cur->dev[i]);
			new_index[j] = ret->count;
			fresh_at[ret->count++] = j;
		} else if (!cur->dev[i].gone && keep && keep(data, i)) {
			if (backend_device_copy(&ret->dev[ret->count], &cur->dev[i]) < 0)
				goto fail;
			kept++;
			fresh_at[ret->count++] = -1;
		} else if (!compact) {
			if (backend_device_copy(&ret->dev[ret->count], &cur->dev[i]) < 0)
				goto fail;
			mark_gone(&ret->dev[ret->count]);
			fresh_at[ret->count++] = -1;
		}
	}
	/* Then the devices new to the list. */
	for (int j = 0; j < fresh->count; j++) {
		struct device_info *d = &ret->dev[ret->count];

		if (fresh->dev[j].gone || new_index[j] >= 0)
			continue;
		if (backend_device_copy(d, &fresh->dev[j]) < 0)
			goto fail;
		d->hostapi = fresh->dev[j].hostapi >= 0 && fresh->dev[j].hostapi < fresh->api_count
				     ? api_map[fresh->dev[j].hostapi]
				     : -1;
		d->gone = false;
		new_index[j] = ret->count;
		fresh_at[ret->count++] = j;
	}
	if (list_api_devices(ret) < 0)
		goto fail;
	for (int a = 0; a < fresh->api_count; a++) {
		const struct hostapi_info *f = &fresh->api[a];
		struct hostapi_info *api = &ret->api[api_map[a]];

		if (f->default_input_device >= 0 && f->default_input_device < fresh->count)
			api->default_input_device = new_index[f->default_input_device];
		if (f->default_output_device >= 0 && f->default_output_device < fresh->count)
			api->default_output_device = new_index[f->default_output_device];
	}
	if (fresh->default_input >= 0 && fresh->default_input < fresh->count)
		ret->default_input = new_index[fresh->default_input];
	if (fresh->default_output >= 0 && fresh->default_output < fresh->count)
		ret->default_output = new_index[fresh->default_output];
	if (ret_kept)
		*ret_kept = kept;
	r = 0;
	goto out;
fail:
	backend_devlist_free(ret);
out:
	free(api_map);
	free(fresh_at);
	free(new_index);
	return r;
}

void devlist_change_clear(struct devlist_change *c)
{
	for (int i = 0; i < c->removed_count; i++) {
		free(c->removed[i].name);
		free(c->removed[i].uid);
	}
	free(c->removed);
	free(c->added);
	*c = (struct devlist_change){ 0 };
}

int devlist_diff(const struct backend_devlist *old, const struct backend_devlist *new,
		 struct devlist_change *ret)
{
	*ret = (struct devlist_change){ 0 };
	ret->added = calloc((size_t)new->count + 1, sizeof(int));
	ret->removed = calloc((size_t)old->count + 1, sizeof(*ret->removed));
	if (!ret->added || !ret->removed)
		goto oom;
	for (int i = 0; i < new->count; i++) {
		int was;

		if (new->dev[i].gone)
			continue;
		was = devlist_find_uid(old, new->dev[i].uid);
		if (was < 0)
			ret->added[ret->added_count++] = i;
		else if (was != i)
			ret->renumbered = true;
	}
	for (int i = 0; i < old->count; i++) {
		struct devlist_removed *r = &ret->removed[ret->removed_count];

		if (old->dev[i].gone || devlist_find_uid(new, old->dev[i].uid) >= 0)
			continue;
		r->index = i;
		r->name = strdup(old->dev[i].name ? old->dev[i].name : "");
		r->uid = strdup(old->dev[i].uid ? old->dev[i].uid : "");
		ret->removed_count++;
		if (!r->name || !r->uid)
			goto oom;
	}
	ret->changed = !devlist_equal(old, new);
	return 0;
oom:
	devlist_change_clear(ret);
	return -ENOMEM;
}

/* Returns whether two devices look the same to a client. */
static bool same_device(const struct device_info *x, const struct device_info *y)
{
	return same_string(x->name, y->name) && same_string(x->uid, y->uid) &&
	       x->gone == y->gone && x->hostapi == y->hostapi &&
	       x->max_input_channels == y->max_input_channels &&
	       x->max_output_channels == y->max_output_channels &&
	       x->default_low_input_latency == y->default_low_input_latency &&
	       x->default_low_output_latency == y->default_low_output_latency &&
	       x->default_high_input_latency == y->default_high_input_latency &&
	       x->default_high_output_latency == y->default_high_output_latency &&
	       x->default_samplerate == y->default_samplerate;
}

bool devlist_equal(const struct backend_devlist *a, const struct backend_devlist *b)
{
	if (a->count != b->count || a->api_count != b->api_count ||
	    a->default_input != b->default_input || a->default_output != b->default_output)
		return false;
	for (int i = 0; i < a->count; i++)
		if (!same_device(&a->dev[i], &b->dev[i]))
			return false;
	for (int i = 0; i < a->api_count; i++) {
		const struct hostapi_info *x = &a->api[i], *y = &b->api[i];

		if (!same_string(x->name, y->name) || x->device_count != y->device_count ||
		    x->default_input_device != y->default_input_device ||
		    x->default_output_device != y->default_output_device)
			return false;
		for (int j = 0; j < x->device_count; j++)
			if (x->devices[j] != y->devices[j])
				return false;
	}
	return true;
}
