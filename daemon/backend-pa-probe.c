/*
 * The device probe: a child process that starts a PortAudio of its own,
 * prints the devices it finds and exits, so that the daemon can see new
 * devices without stopping its own PortAudio (and every stream with it).
 *
 * The child is this program again (sddaemon --probe-devices, found through
 * /proc/self/exe), so it lists devices with exactly the daemon's code
 * (backend-pa-list.c); it inherits the daemon's environment (ALSA_CONFIG_PATH,
 * JACK_DEFAULT_SERVER, …) and its standard error (so alsa-lib's and JACK's
 * noise is as quiet as the daemon's).  Its JACK client has a name of its
 * own, which no list shows.  The daemon reads its standard output on the
 * loop (at most PROBE_MAX_OUTPUT bytes), kills it when it takes longer than
 * the time it was given, and parses what it printed only once it has
 * exited.  The child's main runs on its only thread; the rest on the
 * daemon's loop thread.
 *
 * The output is one JSON object: {"hostapis": [{"name", "type",
 * "default_input", "default_output"}], "devices": [{"name", "stable_id",
 * "locator", "hostapi", "max_input_channels", "max_output_channels",
 * "default_low_input_latency", …, "default_samplerate"}], "default_input",
 * "default_output"} with indices into its own lists.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <pa_jack.h>

#include "backend-pa.h"

/* The most a probe may print, in bytes. */
#define PROBE_MAX_OUTPUT (4 * 1024 * 1024)

/* The device keys that hold numbers, in struct device_info's order. */
static const char *const latency_keys[] = {
	"default_low_input_latency", "default_low_output_latency", "default_high_input_latency",
	"default_high_output_latency", "default_samplerate",
};

/* Returns the numbers of d that latency_keys name, in their order. */
static double *device_number(struct device_info *d, int k)
{
	double *fields[] = { &d->default_low_input_latency, &d->default_low_output_latency,
			     &d->default_high_input_latency, &d->default_high_output_latency,
			     &d->default_samplerate };

	return fields[k];
}

/* Returns l as the probe's JSON object. */
static json_object *list_json(const struct backend_devlist *l)
{
	json_object *o = json_object_new_object(), *apis = json_object_new_array(),
		    *devs = json_object_new_array();

	for (int i = 0; i < l->api_count; i++) {
		json_object *a = json_object_new_object();

		json_object_object_add(a, "name", json_object_new_string(l->api[i].name));
		json_object_object_add(a, "type", json_object_new_int(l->api[i].type));
		json_object_object_add(a, "default_input",
				       json_object_new_int(l->api[i].default_input_device));
		json_object_object_add(a, "default_output",
				       json_object_new_int(l->api[i].default_output_device));
		json_object_array_add(apis, a);
	}
	for (int i = 0; i < l->count; i++) {
		struct device_info d = l->dev[i];
		json_object *o2 = json_object_new_object();

		json_object_object_add(o2, "name", json_object_new_string(d.name));
		json_object_object_add(o2, "stable_id", json_object_new_string(d.uid));
		if (d.locator)
			json_object_object_add(o2, "locator", json_object_new_string(d.locator));
		json_object_object_add(o2, "hostapi", json_object_new_int(d.hostapi));
		json_object_object_add(o2, "max_input_channels",
				       json_object_new_int(d.max_input_channels));
		json_object_object_add(o2, "max_output_channels",
				       json_object_new_int(d.max_output_channels));
		for (int k = 0; k < 5; k++)
			json_object_object_add(o2, latency_keys[k],
					       json_object_new_double(*device_number(&d, k)));
		json_object_array_add(devs, o2);
	}
	json_object_object_add(o, "hostapis", apis);
	json_object_object_add(o, "devices", devs);
	json_object_object_add(o, "default_input", json_object_new_int(l->default_input));
	json_object_object_add(o, "default_output", json_object_new_int(l->default_output));
	return o;
}

/*
 * Ends the probe process.  It leaves at once (_exit): whatever it holds
 * goes with it, and a leak check at exit (a sanitizer's) would only make
 * every rescan slower.
 */
static _Noreturn void probe_exit(int status)
{
	fflush(stdout);
	_exit(status);
}

int backend_pa_probe_main(void)
{
	struct backend_devlist l;
	int *pa_index = NULL, status = 1;
	json_object *o;
	const char *text;

	PaJack_SetClientName(BACKEND_PA_PROBE_JACK_NAME);
	if (Pa_Initialize() != paNoError)
		probe_exit(1);
	if (backend_pa_list(&l, &pa_index) == 0) {
		o = list_json(&l);
		text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE);
		if (text && printf("%s\n", text) > 0 && fflush(stdout) == 0)
			status = 0;
		json_object_put(o);
		backend_devlist_free(&l);
		free(pa_index);
	}
	/* The JACK client leaves the server cleanly; the rest goes with the process. */
	Pa_Terminate();
	probe_exit(status);
}

/* Reads member key of o as an int within [min, max]; returns 0 or -EPROTO. */
static int get_int(json_object *o, const char *key, int min, int max, int *ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -EPROTO;
	*ret = json_object_get_int(v);
	return *ret >= min && *ret <= max ? 0 : -EPROTO;
}

/* Reads member key of o as a copied string (NULL when absent and optional). */
static int get_string(json_object *o, const char *key, bool optional, char **ret)
{
	json_object *v;

	*ret = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		return optional ? 0 : -EPROTO;
	if (!json_object_is_type(v, json_type_string))
		return -EPROTO;
	*ret = strdup(json_object_get_string(v));
	return *ret ? 0 : -ENOMEM;
}

/* Parses one device; returns 0 or a negative errno (d then holds what to free). */
static int parse_device(json_object *o, int api_count, struct device_info *d)
{
	int r;

	if (!json_object_is_type(o, json_type_object))
		return -EPROTO;
	r = get_string(o, "name", false, &d->name);
	if (r >= 0)
		r = get_string(o, "stable_id", false, &d->uid);
	if (r >= 0)
		r = get_string(o, "locator", true, &d->locator);
	if (r >= 0)
		r = get_int(o, "hostapi", 0, api_count - 1, &d->hostapi);
	if (r >= 0)
		r = get_int(o, "max_input_channels", 0, 1 << 20, &d->max_input_channels);
	if (r >= 0)
		r = get_int(o, "max_output_channels", 0, 1 << 20, &d->max_output_channels);
	for (int k = 0; k < 5 && r >= 0; k++) {
		json_object *v;

		if (!json_object_object_get_ex(o, latency_keys[k], &v) ||
		    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
			r = -EPROTO;
		else
			*device_number(d, k) = json_object_get_double(v);
	}
	return r;
}

int pa_probe_parse(const char *text, struct backend_devlist *l)
{
	json_object *o = json_tokener_parse(text), *apis, *devs;
	int r = -EPROTO;

	*l = (struct backend_devlist){ .default_input = -1, .default_output = -1 };
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "hostapis", &apis) ||
	    !json_object_is_type(apis, json_type_array) ||
	    !json_object_object_get_ex(o, "devices", &devs) ||
	    !json_object_is_type(devs, json_type_array))
		goto out;
	l->api = calloc(json_object_array_length(apis) + 1, sizeof(*l->api));
	l->dev = calloc(json_object_array_length(devs) + 1, sizeof(*l->dev));
	if (!l->api || !l->dev) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(apis); i++) {
		json_object *a = json_object_array_get_idx(apis, i);
		struct hostapi_info *api = &l->api[i];

		l->api_count = (int)i + 1;
		api->devices = calloc(json_object_array_length(devs) + 1, sizeof(int));
		if (!api->devices) {
			r = -ENOMEM;
			goto out;
		}
		if (!json_object_is_type(a, json_type_object) ||
		    get_string(a, "name", false, &api->name) < 0 ||
		    get_int(a, "type", -1, 1 << 20, &api->type) < 0 ||
		    get_int(a, "default_input", -1, (int)json_object_array_length(devs) - 1,
			    &api->default_input_device) < 0 ||
		    get_int(a, "default_output", -1, (int)json_object_array_length(devs) - 1,
			    &api->default_output_device) < 0)
			goto out;
	}
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		struct device_info *d = &l->dev[i];

		l->count = (int)i + 1;
		r = parse_device(json_object_array_get_idx(devs, i), l->api_count, d);
		if (r < 0)
			goto out;
		l->api[d->hostapi].devices[l->api[d->hostapi].device_count++] = (int)i;
	}
	r = -EPROTO;
	if (get_int(o, "default_input", -1, l->count - 1, &l->default_input) < 0 ||
	    get_int(o, "default_output", -1, l->count - 1, &l->default_output) < 0)
		goto out;
	r = 0;
out:
	json_object_put(o);
	if (r < 0)
		backend_devlist_free(l);
	return r;
}

struct pa_probe {
	uv_process_t process;
	uv_pipe_t out;
	uv_timer_t timer;
	int handles; /* handles not yet closed: the probe is freed when none is left */
	char *text;  /* what the child printed */
	size_t len, capacity;
	bool exited, eof, timed_out, too_long, cancelled;
	int64_t exit_status;
	int term_signal;
	backend_probe_fn done;
	void *data;
};

static void on_handle_closed(uv_handle_t *h)
{
	struct pa_probe *p = h->data;

	if (--p->handles == 0) {
		free(p->text);
		free(p);
	}
}

/* Closes every handle of p; it is freed once they have closed. */
static void probe_close(struct pa_probe *p)
{
	uv_close((uv_handle_t *)&p->timer, on_handle_closed);
	if (!uv_is_closing((uv_handle_t *)&p->out))
		uv_close((uv_handle_t *)&p->out, on_handle_closed);
	uv_close((uv_handle_t *)&p->process, on_handle_closed);
}

/* The child has exited and its output is read: report, and let go. */
static void probe_finish(struct pa_probe *p)
{
	struct backend_devlist l = { .default_input = -1, .default_output = -1 };
	int status = 0;

	if (!p->exited || !p->eof || p->cancelled)
		return;
	if (p->timed_out)
		status = -ETIMEDOUT;
	else if (p->too_long)
		status = -EMSGSIZE;
	else if (p->term_signal)
		status = -ECHILD;
	else if (!p->len)
		/* Nothing printed (its buffer may be there, unwritten). */
		status = p->exit_status ? -EIO : -EPROTO;
	else
		status = pa_probe_parse(p->text, &l);
	p->cancelled = true;
	probe_close(p);
	p->done(p->data, status, &l);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct pa_probe *p = h->data;

	if (p->capacity - p->len < 65536 + 1) {
		size_t capacity = p->capacity ? p->capacity * 2 : 65536 * 2;
		char *text = realloc(p->text, capacity);

		if (text) {
			p->text = text;
			p->capacity = capacity;
		}
	}
	*buf = uv_buf_init(p->text ? p->text + p->len : NULL,
			   p->text ? (unsigned)(p->capacity - p->len - 1) : 0);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct pa_probe *p = s->data;

	if (n > 0) {
		p->len += (size_t)n;
		p->text[p->len] = '\0';
		if (p->len > PROBE_MAX_OUTPUT) {
			p->too_long = true;
			uv_process_kill(&p->process, SIGKILL);
		}
		return;
	}
	if (n == 0)
		return;
	/* The end of the output (or an error reading it). */
	uv_read_stop(s);
	p->eof = true;
	probe_finish(p);
}

static void on_child_exit(uv_process_t *proc, int64_t exit_status, int term_signal)
{
	struct pa_probe *p = proc->data;

	p->exited = true;
	p->exit_status = exit_status;
	p->term_signal = term_signal;
	uv_timer_stop(&p->timer);
	probe_finish(p);
}

static void on_timeout(uv_timer_t *t)
{
	struct pa_probe *p = t->data;

	p->timed_out = true;
	uv_process_kill(&p->process, SIGKILL);
}

int pa_probe_start(const char *exe, uv_loop_t *loop, unsigned timeout_ms, backend_probe_fn done,
		   void *data, struct pa_probe **ret)
{
	struct pa_probe *p = calloc(1, sizeof(*p));
	char *args[] = { (char *)exe, (char *)"--probe-devices", NULL };
	uv_stdio_container_t stdio[3];
	uv_process_options_t opt = {
		.file = exe,
		.args = args,
		.exit_cb = on_child_exit,
		.stdio_count = 3,
		.stdio = stdio,
	};
	int r;

	if (!p)
		return -ENOMEM;
	p->done = done;
	p->data = data;
	uv_pipe_init(loop, &p->out, 0);
	uv_timer_init(loop, &p->timer);
	p->out.data = p->timer.data = p->process.data = p;
	p->handles = 2;
	stdio[0] = (uv_stdio_container_t){ .flags = UV_IGNORE };
	stdio[1] = (uv_stdio_container_t){ .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
					   .data.stream = (uv_stream_t *)&p->out };
	stdio[2] = (uv_stdio_container_t){ .flags = UV_INHERIT_FD, .data.fd = 2 };
	r = uv_spawn(loop, &p->process, &opt);
	if (r < 0) {
		/* A failed spawn still has a process handle to close. */
		p->handles++;
		p->cancelled = true;
		probe_close(p);
		return r;
	}
	p->handles++;
	uv_read_start((uv_stream_t *)&p->out, on_alloc, on_read);
	uv_timer_start(&p->timer, on_timeout, timeout_ms, 0);
	*ret = p;
	return 0;
}

void pa_probe_cancel(struct pa_probe *p)
{
	if (p->cancelled)
		return;
	p->cancelled = true;
	if (!p->exited)
		uv_process_kill(&p->process, SIGKILL);
	probe_close(p);
}
