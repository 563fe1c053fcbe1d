/*
 * Channel mappings as a request gives them (protocol/streamparams.c) and
 * the routes and ring sizes the daemon makes of them (daemon/routes.c),
 * against sounddevice's rules (play()'s check_data(), rec()'s check_out()
 * and _check_mapping() in sounddevice 0.3.3): channel numbers start at 1
 * and appear at most once; data columns go to the mapped channels, mono
 * data to every one of them; mapping [1] on a device of two channels or
 * more plays silence on the second; a recording's mapping lists the
 * input channels it takes, and its length is the data's channel count.
 */
#include <string.h>

#include "routes.h"
#include "sample.h"
#include "stream.h"
#include "streamparams.h"
#include "tap.h"

/* Parses a request line; the caller clears it. */
static struct proto_request request(const char *line)
{
	struct proto_request req;
	struct proto_error err = { 0 };

	if (proto_parse_request(line, strlen(line), &req, &err) < 0)
		printf("# cannot parse %s: %s\n", line, err.message);
	proto_error_clear(&err);
	return req;
}

/* Reads "mapping" from params (a JSON fragment); returns the count or -EINVAL with msg set. */
static int mapping(const char *params, int *map, char *msg, size_t size)
{
	char line[4096];
	struct proto_request req;
	struct proto_error err = { 0 };
	int n;

	snprintf(line, sizeof(line), "{\"id\":1,\"cmd\":\"play\",%s}", params);
	req = request(line);
	n = proto_get_mapping(&req, "mapping", map, STREAM_MAX_CHANNELS, &err);
	snprintf(msg, size, "%s", err.message);
	proto_error_clear(&err);
	proto_request_clear(&req);
	return n;
}

/* Makes the playback routes of data with channels columns for a mapping and a device. */
static int play_routes(struct stream_dir *d, int channels, const char *params, int max_out,
		       bool shared, char *msg, size_t size)
{
	int map[STREAM_MAX_CHANNELS], n = mapping(params, map, msg, size);
	struct proto_error err = { 0 };
	int r;

	if (n < 0)
		return n;
	memset(d, 0, sizeof(*d));
	d->channels = channels;
	r = routes_output(d, map, n, max_out, shared, &err);
	if (r < 0)
		snprintf(msg, size, "%s", err.message);
	proto_error_clear(&err);
	return r;
}

/* Whether d routes column src to channel dst (both 0-based). */
static bool routes(const struct stream_dir *d, int src, int dst)
{
	for (int i = 0; i < d->nroutes; i++)
		if (d->routes[i].src == src && d->routes[i].dst == dst)
			return true;
	return false;
}

static void test_mapping_parameter(void)
{
	int map[STREAM_MAX_CHANNELS];
	char msg[1024];

	CHECK(mapping("\"x\":0", map, msg, sizeof(msg)) == 0, "no mapping: 0 entries");
	CHECK(mapping("\"mapping\":null", map, msg, sizeof(msg)) == 0, "null is no mapping");
	CHECK(mapping("\"mapping\":3", map, msg, sizeof(msg)) == 1 && map[0] == 3,
	      "a single channel number is a mapping of one");
	CHECK(mapping("\"mapping\":[3,1,2]", map, msg, sizeof(msg)) == 3 && map[0] == 3 &&
		      map[1] == 1 && map[2] == 2,
	      "a list keeps its order");
	CHECK(mapping("\"mapping\":[0]", map, msg, sizeof(msg)) < 0 &&
		      strstr(msg, "channel numbers must not be < 1"),
	      "0 is refused in sounddevice's words: %s", msg);
	CHECK(mapping("\"mapping\":-2", map, msg, sizeof(msg)) < 0 &&
		      strstr(msg, "must not be < 1"),
	      "a negative single channel too: %s", msg);
	CHECK(mapping("\"mapping\":[65536]", map, msg, sizeof(msg)) < 0 &&
		      strstr(msg, "must not be > 1024") && !strstr(msg, "< 1"),
	      "65536 is refused as too high, not as below 1: %s", msg);
	CHECK(mapping("\"mapping\":[1,2,1]", map, msg, sizeof(msg)) < 0 &&
		      strstr(msg, "each channel may only appear once in mapping"),
	      "a channel twice is refused: %s", msg);
	CHECK(mapping("\"mapping\":[1.5]", map, msg, sizeof(msg)) < 0 &&
		      strstr(msg, "must be integers"),
	      "a fraction is refused: %s", msg);
	CHECK(mapping("\"mapping\":[]", map, msg, sizeof(msg)) < 0 &&
		      mapping("\"mapping\":\"1\"", map, msg, sizeof(msg)) < 0,
	      "an empty list and a string are refused");
	{
		char many[3000] = "\"mapping\":[1", want[64];
		size_t len = strlen(many);

		for (int i = 2; i <= STREAM_MAX_CHANNELS + 1; i++)
			len += (size_t)snprintf(many + len, sizeof(many) - len, ",%d", i);
		snprintf(many + len, sizeof(many) - len, "]");
		snprintf(want, sizeof(want), "more than %d", STREAM_MAX_CHANNELS);
		CHECK(mapping(many, map, msg, sizeof(msg)) < 0 && strstr(msg, want),
		      "more than STREAM_MAX_CHANNELS (%d) entries are refused: %s",
		      STREAM_MAX_CHANNELS, msg);
	}
}

static void test_output_routes(void)
{
	struct stream_dir d;
	char msg[1024];

	CHECK(play_routes(&d, 2, "\"x\":0", 2, true, msg, sizeof(msg)) == 0 && d.nroutes == 2 &&
		      routes(&d, 0, 0) && routes(&d, 1, 1) && d.stream_channels == 2,
	      "no mapping: column i plays on channel i");
	CHECK(play_routes(&d, 1, "\"mapping\":[2]", 2, true, msg, sizeof(msg)) == 0 &&
		      d.nroutes == 1 && routes(&d, 0, 1) && d.stream_channels == 2,
	      "mono data, mapping [2]: channel 2 only, a two-channel stream");
	CHECK(play_routes(&d, 1, "\"mapping\":[1]", 2, false, msg, sizeof(msg)) == 0 &&
		      d.nroutes == 1 && routes(&d, 0, 0) && d.stream_channels == 2,
	      "mapping [1] on a stereo device: a two-channel stream, silent on channel 2");
	CHECK(play_routes(&d, 1, "\"mapping\":[1]", 1, false, msg, sizeof(msg)) == 0 &&
		      d.stream_channels == 1,
	      "mapping [1] on a mono device: a one-channel stream");
	CHECK(play_routes(&d, 2, "\"mapping\":[3,1]", 4, true, msg, sizeof(msg)) == 0 &&
		      routes(&d, 0, 2) && routes(&d, 1, 0) && d.nroutes == 2 && d.stream_channels == 3,
	      "mapping [3, 1]: column 1 on channel 3, column 2 on channel 1, three channels");
	CHECK(play_routes(&d, 1, "\"mapping\":[1,2,4]", 4, true, msg, sizeof(msg)) == 0 &&
		      d.nroutes == 3 && routes(&d, 0, 0) && routes(&d, 0, 1) && routes(&d, 0, 3) &&
		      d.stream_channels == 4,
	      "mono data goes to every mapped channel");
	CHECK(play_routes(&d, 1, "\"x\":0", 2, true, msg, sizeof(msg)) == 0 && d.nroutes == 2 &&
		      routes(&d, 0, 0) && routes(&d, 0, 1) && d.stream_channels == 1,
	      "shared: unmapped mono plays on the first two channels (as ALSA's plug device)");
	CHECK(play_routes(&d, 1, "\"x\":0", 2, false, msg, sizeof(msg)) == 0 && d.nroutes == 1,
	      "exclusive: unmapped mono is one channel");
	CHECK(play_routes(&d, 1, "\"x\":0", 0, true, msg, sizeof(msg)) == 0 && d.nroutes == 1,
	      "the stream API (no device rules): unmapped mono is one channel");
	CHECK(play_routes(&d, 2, "\"mapping\":[1]", 2, true, msg, sizeof(msg)) < 0 &&
		      strstr(msg, "number of output channels (2) != size of output mapping (1)"),
	      "two columns, one mapped channel: %s", msg);
	CHECK(play_routes(&d, 3, "\"mapping\":[1,2]", 2, true, msg, sizeof(msg)) < 0,
	      "three columns, two mapped channels: refused");
}

static void test_input_routes(void)
{
	int map[STREAM_MAX_CHANNELS];
	struct stream_dir d;
	char msg[1024];
	int n;

	memset(&d, 0, sizeof(d));
	d.channels = 3;
	routes_input(&d, NULL, 0);
	CHECK(d.nroutes == 3 && routes(&d, 0, 0) && routes(&d, 2, 2) && d.stream_channels == 3,
	      "no mapping: input channels 1…3 into columns 1…3");
	n = mapping("\"mapping\":[2,1]", map, msg, sizeof(msg));
	memset(&d, 0, sizeof(d));
	d.channels = 5; /* sounddevice ignores channels when a mapping is given */
	routes_input(&d, map, n);
	CHECK(d.channels == 2 && routes(&d, 1, 0) && routes(&d, 0, 1) && d.stream_channels == 2,
	      "mapping [2, 1]: two columns, input 2 first; channels ignored");
	n = mapping("\"mapping\":[3]", map, msg, sizeof(msg));
	memset(&d, 0, sizeof(d));
	routes_input(&d, map, n);
	CHECK(d.channels == 1 && d.nroutes == 1 && routes(&d, 2, 0) && d.stream_channels == 3,
	      "mapping [3]: one column from input 3, a three-channel stream");
}

static void test_ring_sizes(void)
{
	struct stream_dir d;

	memset(&d, 0, sizeof(d));
	d.channels = 2;
	d.dtype = SAMPLE_INT16;
	routes_size_ring(&d, 0, 1000, 48000, true);
	CHECK(d.frame_bytes == 4 && d.capacity == 1024 && d.limit == -1,
	      "a short sound: the smallest ring that holds it (%u), 4-byte frames", d.capacity);
	routes_size_ring(&d, 0, 100000, 48000, true);
	CHECK(d.capacity == 131072, "a whole sound that fits: rounded up to a power of two (%u)",
	      d.capacity);
	routes_size_ring(&d, 0, 100000, 48000, false);
	CHECK(d.capacity == 65536, "not whole: about a second at the rate (%u)", d.capacity);
	routes_size_ring(&d, 0, 20 * 1000 * 1000, 48000, true);
	CHECK(d.capacity == 65536, "a sound over 32 MiB is streamed through a second (%u)",
	      d.capacity);
	routes_size_ring(&d, 3000, 1000, 48000, true);
	CHECK(d.capacity == 4096, "buffer_frames wins (%u)", d.capacity);
	routes_size_ring(&d, 1, -1, 100, false);
	CHECK(d.capacity == ROUTES_RING_MIN_FRAMES, "never below %u frames",
	      ROUTES_RING_MIN_FRAMES);
	routes_size_ring(&d, (int64_t)ROUTES_RING_MAX_FRAMES * 4, -1, 48000, false);
	CHECK(d.capacity == ROUTES_RING_MAX_FRAMES, "never above %u frames",
	      ROUTES_RING_MAX_FRAMES);
}

static void test_latency_and_pairs(void)
{
	struct proto_request req;
	struct proto_error err = { 0 };
	struct proto_latency lat[2];
	int64_t in, out;
	int fmt_in, fmt_out;

	req = request("{\"id\":1,\"cmd\":\"x\",\"latency\":[\"low\",0.25]}");
	CHECK(proto_get_latency(&req, "latency", lat, &err) == 1 &&
		      lat[0].kind == PROTO_LATENCY_LOW && lat[1].kind == PROTO_LATENCY_SECONDS &&
		      lat[1].seconds == 0.25,
	      "latency [\"low\", 0.25]: low input, 0.25 s output");
	proto_request_clear(&req);
	req = request("{\"id\":1,\"cmd\":\"x\",\"latency\":[null,\"high\"]}");
	CHECK(proto_get_latency(&req, "latency", lat, &err) == 1 &&
		      lat[0].kind == PROTO_LATENCY_HIGH && lat[1].kind == PROTO_LATENCY_HIGH,
	      "a null half is the default, high");
	proto_request_clear(&req);
	req = request("{\"id\":1,\"cmd\":\"x\",\"latency\":[1,2,3]}");
	CHECK(proto_get_latency(&req, "latency", lat, &err) < 0 &&
		      strstr(err.message, "[input, output] pairs"),
	      "three latencies are refused: %s", err.message);
	proto_request_clear(&req);
	proto_error_clear(&err);
	req = request("{\"id\":1,\"cmd\":\"x\",\"latency\":11}");
	CHECK(proto_get_latency(&req, "latency", lat, &err) < 0, "11 s is refused");
	proto_request_clear(&req);
	proto_error_clear(&err);

	req = request("{\"id\":1,\"cmd\":\"x\",\"channels\":[1,6],\"dtype\":[\"int16\",null]}");
	CHECK(proto_get_int_pair(&req, "channels", 0, 1, 64, 0, &in, &err) == 1 &&
		      proto_get_int_pair(&req, "channels", 1, 1, 64, 0, &out, &err) == 1 && in == 1 &&
		      out == 6,
	      "channels [1, 6]: one in, six out");
	CHECK(proto_get_dtype_pair(&req, "dtype", 0, SAMPLE_FLOAT32, &fmt_in, &err) == 1 &&
		      proto_get_dtype_pair(&req, "dtype", 1, SAMPLE_FLOAT32, &fmt_out, &err) == 0 &&
		      fmt_in == SAMPLE_INT16 && fmt_out == SAMPLE_FLOAT32,
	      "dtype [\"int16\", null]: int16 in, the default out");
	proto_request_clear(&req);
	req = request("{\"id\":1,\"cmd\":\"x\",\"channels\":2}");
	CHECK(proto_get_int_pair(&req, "channels", 0, 1, 64, 0, &in, &err) == 1 &&
		      proto_get_int_pair(&req, "channels", 1, 1, 64, 0, &out, &err) == 1 && in == 2 &&
		      out == 2,
	      "a single value is both halves");
	proto_request_clear(&req);
	req = request("{\"id\":1,\"cmd\":\"x\",\"channels\":[1,99]}");
	CHECK(proto_get_int_pair(&req, "channels", 1, 1, 64, 0, &out, &err) < 0 &&
		      strstr(err.message, "\"channels\" is out of range"),
	      "a half out of range is refused by name: %s", err.message);
	proto_request_clear(&req);
	proto_error_clear(&err);
}

int main(void)
{
	test_mapping_parameter();
	test_output_routes();
	test_input_routes();
	test_ring_sizes();
	test_latency_and_pairs();
	return tap_done();
}
