/*
 * Fuzzes the stream commands' compound parameters (protocol/streamparams.c)
 * and the routes the daemon makes of a mapping (daemon/routes.c): the
 * input's third byte on is one request line, parsed by
 * proto_parse_request(); "mapping", "latency", "channels" and "dtype" are
 * read as play, rec, playrec and open_stream read them, "volume" and "db"
 * as set_volume reads them; a mapping that passes becomes the routes of a
 * playback and of a recording.
 *
 * Checks: a mapping has at most the entries asked for, each from 1 to
 * PROTO_MAX_CHANNEL and none twice; a latency in seconds is within 0 to
 * 10; a pair's halves are within their bounds; every refusal is an
 * invalid_param error that formats as a reply; a volume has at most a
 * value per channel, each within its bounds; the routes stay within
 * STREAM_MAX_ROUTES, read only the data's columns (or the device's
 * channels the stream opens, for a recording) and write only the
 * stream's channels.
 *
 * The first byte gives the data's channel count (1 to STREAM_MAX_CHANNELS) and the most
 * mapping entries allowed; the second the device's output channels
 * (0 to 127) and whether the stream is shared (its top bit).
 */
#include <string.h>

#include "fuzz.h"
#include "routes.h"
#include "sample.h"
#include "stream.h"
#include "streamparams.h"

/* Checks a refusal: an invalid_param error with a message, formatted as a reply. */
static void check_refusal(struct proto_request *req, struct proto_error *err)
{
	size_t len = 0;
	char *line;

	FUZZ_CHECK(err->code == PROTO_E_INVALID_PARAM && err->message[0]);
	line = proto_format_error(req->id, err, &len);
	FUZZ_CHECK(line && len > 0 && line[len - 1] == '\n');
	free(line);
	proto_error_clear(err);
}

/*
 * Checks that a playback's routes read only the data's columns and write
 * only the stream's channels (or, for shared unmapped mono, the second
 * channel that every shared device stream of such a device has).
 */
static void check_output_routes(const struct stream_dir *d, int max_out, bool shared)
{
	FUZZ_CHECK(d->nroutes >= 1 && d->nroutes <= STREAM_MAX_ROUTES);
	FUZZ_CHECK(d->stream_channels >= 1 && d->stream_channels <= PROTO_MAX_CHANNEL);
	for (int i = 0; i < d->nroutes; i++) {
		FUZZ_CHECK(d->routes[i].src < d->channels);
		FUZZ_CHECK(d->routes[i].dst < d->stream_channels ||
			   (shared && max_out >= 2 && d->channels == 1 && d->routes[i].dst == 1));
	}
}

static void fuzz_mapping(struct proto_request *req, int channels, int max_out, bool shared)
{
	int map[STREAM_MAX_CHANNELS];
	struct proto_error err = { 0 };
	struct stream_dir d;
	int n = proto_get_mapping(req, "mapping", map, channels, &err);

	if (n < 0) {
		check_refusal(req, &err);
		return;
	}
	FUZZ_CHECK(n <= channels);
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(map[i] >= 1 && map[i] <= PROTO_MAX_CHANNEL);
		for (int j = 0; j < i; j++)
			FUZZ_CHECK(map[i] != map[j]);
	}

	/* As play's routes: the data's columns to the mapped channels. */
	memset(&d, 0, sizeof(d));
	d.channels = channels;
	if (routes_output(&d, map, n, max_out, shared, &err) < 0) {
		FUZZ_CHECK(n > 0 && channels != 1 && channels != n);
		check_refusal(req, &err);
	} else {
		check_output_routes(&d, max_out, shared);
	}

	/* As rec's routes: the mapped input channels to the data's columns. */
	memset(&d, 0, sizeof(d));
	d.channels = channels;
	routes_input(&d, map, n);
	FUZZ_CHECK(d.channels == (n > 0 ? n : channels));
	FUZZ_CHECK(d.nroutes == d.channels);
	for (int i = 0; i < d.nroutes; i++) {
		FUZZ_CHECK(d.routes[i].dst == i);
		FUZZ_CHECK(d.routes[i].src < d.stream_channels);
	}
}

static void fuzz_latency(struct proto_request *req)
{
	struct proto_latency lat[2];
	struct proto_error err = { 0 };

	if (proto_get_latency(req, "latency", lat, &err) < 0) {
		check_refusal(req, &err);
		return;
	}
	for (int i = 0; i < 2; i++) {
		FUZZ_CHECK(lat[i].kind == PROTO_LATENCY_HIGH || lat[i].kind == PROTO_LATENCY_LOW ||
			   lat[i].kind == PROTO_LATENCY_SECONDS);
		if (lat[i].kind == PROTO_LATENCY_SECONDS)
			FUZZ_CHECK(lat[i].seconds >= 0 && lat[i].seconds <= 10);
	}
}

/* set_volume's "volume" and "db": one number or one per channel, each within its bounds. */
static void fuzz_volume(struct proto_request *req, int channels)
{
	struct proto_error err = { 0 };
	double v[STREAM_MAX_CHANNELS];
	int n = proto_get_volume(req, "volume", 0, 10, v, channels, &err);

	if (n < 0) {
		check_refusal(req, &err);
	} else {
		FUZZ_CHECK(n <= channels);
		for (int i = 0; i < n; i++)
			FUZZ_CHECK(v[i] >= 0 && v[i] <= 10);
	}
	n = proto_get_volume(req, "db", -200, 20, v, channels, &err);
	if (n < 0) {
		check_refusal(req, &err);
	} else {
		FUZZ_CHECK(n <= channels);
		for (int i = 0; i < n; i++)
			FUZZ_CHECK(v[i] >= -200 && v[i] <= 20);
	}
}

static void fuzz_pairs(struct proto_request *req)
{
	struct proto_error err = { 0 };

	for (int which = 0; which < 2; which++) {
		int64_t ch = -1;
		int fmt = -1;
		int r = proto_get_int_pair(req, "channels", which, 1, STREAM_MAX_CHANNELS, 0, &ch,
					   &err);

		if (r < 0)
			check_refusal(req, &err);
		else
			FUZZ_CHECK(r == 0 ? ch == 0 : ch >= 1 && ch <= STREAM_MAX_CHANNELS);
		r = proto_get_dtype_pair(req, "dtype", which, 0, &fmt, &err);
		if (r < 0)
			check_refusal(req, &err);
		else
			FUZZ_CHECK(fmt >= 0 && fmt < SAMPLE_FORMAT_COUNT_);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_request req;
	struct proto_error err = { 0 };
	int channels, max_out;
	bool shared;

	if (size < 3)
		return 0;
	channels = 1 + data[0] % STREAM_MAX_CHANNELS;
	max_out = data[1] & 0x7f;
	shared = data[1] & 0x80;
	if (proto_parse_request((const char *)data + 2, size - 2, &req, &err) == 0) {
		fuzz_mapping(&req, channels, max_out, shared);
		fuzz_latency(&req);
		fuzz_pairs(&req);
		fuzz_volume(&req, channels);
	}
	proto_request_clear(&req);
	proto_error_clear(&err);
	return 0;
}
