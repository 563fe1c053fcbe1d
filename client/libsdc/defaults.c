/*
 * Per-client defaults, as sounddevice's `default` object, and the options
 * of stream commands with whatever a call leaves unspecified filled in from
 * them.  Set them before sharing the client between threads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sdc-private.h"

void sdc__defaults_reset(sdc_client *c)
{
	free(c->default_query[0]);
	free(c->default_query[1]);
	c->default_query[0] = c->default_query[1] = NULL;
	memset(&c->defaults, 0, sizeof(c->defaults));
	c->defaults.dtype[0] = c->defaults.dtype[1] = SDC_FLOAT32;
	c->defaults.latency[0] = c->defaults.latency[1] = SDC_LATENCY_HIGH;
}

void sdc_default_reset(sdc_client *c)
{
	if (c)
		sdc__defaults_reset(c);
}

void sdc_default_get(const sdc_client *c, sdc_defaults *ret)
{
	if (c && ret)
		*ret = c->defaults;
}

/* Copies one device into the defaults, owning its query string. */
static int set_device(sdc_client *c, int which, sdc_device dev)
{
	char *copy = NULL;

	if (dev.by == SDC_DEVICE_BY_QUERY) {
		if (!dev.query)
			return sdc__error_set(-EINVAL, "a query device needs a query string");
		copy = strdup(dev.query);
		if (!copy)
			return sdc__error_set(-ENOMEM, "out of memory");
		dev.query = copy;
	} else if (dev.by == SDC_DEVICE_BY_INDEX && dev.index < 0) {
		return sdc__error_set(-EINVAL, "device ids are not negative");
	}
	free(c->default_query[which]);
	c->default_query[which] = copy;
	c->defaults.device[which] = dev;
	return 0;
}

int sdc_default_set_device(sdc_client *c, sdc_device input, sdc_device output)
{
	int r;

	if (!c)
		return sdc__error_set(-EINVAL, "invalid arguments");
	r = set_device(c, 0, input);
	if (r == 0)
		r = set_device(c, 1, output);
	return r;
}

int sdc_default_set_channels(sdc_client *c, int input, int output)
{
	if (!c || input < 0 || output < 0 || input > 1024 || output > 1024)
		return sdc__error_set(-EINVAL, "channel counts are 0 (unset) to 1024");
	c->defaults.channels[0] = input;
	c->defaults.channels[1] = output;
	return 0;
}

int sdc_default_set_dtype(sdc_client *c, sdc_dtype input, sdc_dtype output)
{
	if (!c || (unsigned)input > SDC_FLOAT64 || (unsigned)output > SDC_FLOAT64)
		return sdc__error_set(-EINVAL, "invalid dtype");
	c->defaults.dtype[0] = input ? input : SDC_FLOAT32;
	c->defaults.dtype[1] = output ? output : SDC_FLOAT32;
	return 0;
}

/* Accepts seconds in (0, 10], SDC_LATENCY_LOW or SDC_LATENCY_HIGH. */
static int latency_ok(double v)
{
	return v == SDC_LATENCY_LOW || v == SDC_LATENCY_HIGH || (v > 0 && v <= 10);
}

int sdc_default_set_latency(sdc_client *c, double input, double output)
{
	if (!c || !latency_ok(input) || !latency_ok(output))
		return sdc__error_set(
			-EINVAL,
			"latency must be seconds (up to 10), SDC_LATENCY_LOW or SDC_LATENCY_HIGH");
	c->defaults.latency[0] = input;
	c->defaults.latency[1] = output;
	return 0;
}

int sdc_default_set_samplerate(sdc_client *c, double samplerate)
{
	if (!c || samplerate < 0 || samplerate > 768000)
		return sdc__error_set(-EINVAL, "invalid sample rate");
	c->defaults.samplerate = samplerate;
	return 0;
}

int sdc_default_set_blocksize(sdc_client *c, int blocksize)
{
	if (!c || blocksize < 0 || blocksize > 65536)
		return sdc__error_set(-EINVAL, "invalid blocksize");
	c->defaults.blocksize = blocksize;
	return 0;
}

int sdc_default_set_flags(sdc_client *c, unsigned flags)
{
	if (!c || (flags & ~(SDC_FLAG_CLIP_OFF | SDC_FLAG_DITHER_OFF | SDC_FLAG_NEVER_DROP_INPUT |
			     SDC_FLAG_PRIME_OUTPUT_BUFFERS_USING_STREAM_CALLBACK | SDC_FLAG_EXCLUSIVE)))
		return sdc__error_set(-EINVAL, "unknown flags");
	c->defaults.flags = flags;
	return 0;
}

sdc_dtype sdc__defaults_dtype(const sdc_client *c, sdc_dtype dtype, int which)
{
	return dtype != SDC_DTYPE_DEFAULT ? dtype : c->defaults.dtype[which];
}

/* Returns a latency's JSON form: "low", "high" or seconds. */
static json_object *latency_json(double v)
{
	if (v == SDC_LATENCY_LOW)
		return json_object_new_string("low");
	if (v == SDC_LATENCY_HIGH || !(v > 0))
		return json_object_new_string("high");
	return json_object_new_double(v);
}

/* Resolves a tri-state option against a default flag. */
static int tri(int v, const sdc_client *c, unsigned flag)
{
	if (v == SDC_YES)
		return 1;
	if (v == SDC_NO)
		return 0;
	return (c->defaults.flags & flag) != 0;
}

void sdc__defaults_options_json(sdc_client *c, json_object *params, const sdc_stream_options *o,
				int input, int output)
{
	static const sdc_stream_options none = { 0 };
	sdc_device in, out;
	double lin, lout;

	if (!o)
		o = &none;
	in = o->input_device.by ? o->input_device : c->defaults.device[0];
	out = o->output_device.by ? o->output_device : c->defaults.device[1];
	if (input && output) {
		json_object *pair = json_object_new_array();

		json_object_array_add(pair, sdc__json_device(in));
		json_object_array_add(pair, sdc__json_device(out));
		json_object_object_add(params, "device", pair);
	} else {
		sdc__json_add_device(params, "device", input ? in : out);
	}
	if (o->samplerate > 0 || c->defaults.samplerate > 0)
		json_object_object_add(params, "samplerate",
				       json_object_new_double(o->samplerate > 0 ? o->samplerate
										: c->defaults.samplerate));
	lin = o->input_latency != 0 ? o->input_latency : c->defaults.latency[0];
	lout = o->output_latency != 0 ? o->output_latency : c->defaults.latency[1];
	if (input && output) {
		json_object *pair = json_object_new_array();

		json_object_array_add(pair, latency_json(lin));
		json_object_array_add(pair, latency_json(lout));
		json_object_object_add(params, "latency", pair);
	} else {
		json_object_object_add(params, "latency", latency_json(input ? lin : lout));
	}
	if (o->blocksize > 0 || c->defaults.blocksize > 0)
		json_object_object_add(params, "blocksize",
				       json_object_new_int(o->blocksize > 0 ? o->blocksize
									    : c->defaults.blocksize));
	json_object_object_add(params, "exclusive",
			       json_object_new_boolean(tri(o->exclusive, c, SDC_FLAG_EXCLUSIVE)));
	json_object_object_add(params, "clip_off",
			       json_object_new_boolean(tri(o->clip_off, c, SDC_FLAG_CLIP_OFF)));
	json_object_object_add(params, "dither_off",
			       json_object_new_boolean(tri(o->dither_off, c, SDC_FLAG_DITHER_OFF)));
	json_object_object_add(params, "never_drop_input",
			       json_object_new_boolean(tri(o->never_drop_input, c,
							   SDC_FLAG_NEVER_DROP_INPUT)));
	json_object_object_add(params, "prime_output_buffers_using_stream_callback",
			       json_object_new_boolean(
				       tri(o->prime_output_buffers_using_stream_callback, c,
					   SDC_FLAG_PRIME_OUTPUT_BUFFERS_USING_STREAM_CALLBACK)));
	if (o->buffer_frames > 0)
		json_object_object_add(params, "buffer_frames", json_object_new_int64(o->buffer_frames));
	if (o->keep_previous)
		json_object_object_add(params, "stop_previous", json_object_new_boolean(0));
}
