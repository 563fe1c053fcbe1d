/*
 * Request parsing and validation: a table of bad inputs, each of which
 * must produce the right error code, and the typed parameter getters.
 */
#include <errno.h>
#include <stdlib.h>

#include "linebuf.h"
#include "params.h"
#include "proto.h"
#include "sample.h"
#include "tap.h"

struct bad_case {
	const char *what;
	const char *line;
	size_t len; /* 0: strlen(line) */
	enum proto_errcode code;
	int has_id; /* whether the error reply can echo an id */
};

static void test_bad_requests(void)
{
	static char deep[200];
	static const struct bad_case cases[] = {
		{ "not JSON", "hello there", 0, PROTO_E_PARSE, 0 },
		{ "truncated JSON", "{\"id\":1,\"cmd\":", 0, PROTO_E_PARSE, 0 },
		{ "trailing garbage", "{\"id\":1,\"cmd\":\"ping\"} x", 0, PROTO_E_PARSE, 0 },
		{ "two objects", "{\"id\":1,\"cmd\":\"ping\"}{}", 0, PROTO_E_PARSE, 0 },
		{ "array", "[1,2,3]", 0, PROTO_E_INVALID_REQUEST, 0 },
		{ "string", "\"ping\"", 0, PROTO_E_INVALID_REQUEST, 0 },
		{ "number", "42 ", 0, PROTO_E_INVALID_REQUEST, 0 },
		{ "null", "null", 0, PROTO_E_INVALID_REQUEST, 0 },
		{ "no id", "{\"cmd\":\"ping\"}", 0, PROTO_E_INVALID_REQUEST, 0 },
		{ "null id", "{\"id\":null,\"cmd\":\"ping\"}", 0, PROTO_E_INVALID_REQUEST, 0 },
		{ "object id", "{\"id\":{},\"cmd\":\"ping\"}", 0, PROTO_E_INVALID_REQUEST, 0 },
		{ "float id", "{\"id\":1.5,\"cmd\":\"ping\"}", 0, PROTO_E_INVALID_REQUEST, 0 },
		{ "no cmd", "{\"id\":7}", 0, PROTO_E_INVALID_REQUEST, 1 },
		{ "numeric cmd", "{\"id\":7,\"cmd\":3}", 0, PROTO_E_INVALID_REQUEST, 1 },
		{ "NUL byte", "{\"id\":1,\0\"cmd\":\"ping\"}", 22, PROTO_E_PARSE, 0 },
		{ "escaped NUL in cmd", "{\"id\":1,\"cmd\":\"ping\\u0000x\"}", 0,
		  PROTO_E_INVALID_REQUEST, 1 },
		{ "escaped NUL in a key", "{\"id\":1,\"cmd\":\"play\",\"device\\u0000x\":3}", 0,
		  PROTO_E_INVALID_REQUEST, 1 },
		{ "escaped NUL in a value", "{\"id\":1,\"cmd\":\"ping\",\"x\":[\"a\\u0000\"]}", 0,
		  PROTO_E_INVALID_REQUEST, 1 },
		{ "invalid UTF-8", "{\"id\":1,\"cmd\":\"p\xff\xfeng\"}", 0, PROTO_E_PARSE, 0 },
		{ "overlong UTF-8", "{\"id\":1,\"cmd\":\"\xc0\xafping\"}", 0, PROTO_E_PARSE, 0 },
		{ "deep nesting", deep, 0, PROTO_E_PARSE, 0 },
		{ "id of 2^64 - 1", "{\"id\":18446744073709551615,\"cmd\":\"ping\"}", 0,
		  PROTO_E_INVALID_REQUEST, 0 },
		{ "id of 2^63", "{\"id\":9223372036854775808,\"cmd\":\"ping\"}", 0,
		  PROTO_E_INVALID_REQUEST, 0 },
		{ "id beyond 2^64", "{\"id\":123456789012345678901234567890,\"cmd\":\"ping\"}", 0,
		  PROTO_E_INVALID_REQUEST, 0 },
		{ "id below -2^63", "{\"id\":-9223372036854775809,\"cmd\":\"ping\"}", 0,
		  PROTO_E_INVALID_REQUEST, 0 },
		{ "integer parameter beyond 2^64",
		  "{\"id\":5,\"cmd\":\"play\",\"frames\":99999999999999999999}", 0,
		  PROTO_E_INVALID_PARAM, 1 },
		{ "integer beyond 2^63 deep inside",
		  "{\"id\":5,\"cmd\":\"ping\",\"x\":[{\"y\":[9223372036854775808]}]}", 0,
		  PROTO_E_INVALID_PARAM, 1 },
		{ "cmd twice", "{\"id\":1,\"cmd\":\"ping\",\"cmd\":\"daemon_status\"}", 0,
		  PROTO_E_INVALID_REQUEST, 1 },
		{ "id twice", "{\"id\":1,\"cmd\":\"ping\",\"id\":2}", 0, PROTO_E_INVALID_REQUEST,
		  0 },
		{ "a key twice, once escaped",
		  "{\"id\":1,\"cmd\":\"play\",\"device\":1,\"d\\u0065vice\":2}", 0,
		  PROTO_E_INVALID_REQUEST, 1 },
		{ "a key twice in a nested object",
		  "{\"id\":1,\"cmd\":\"ping\",\"x\":[1,{\"a\":{},\"b\":2,\"a\":[]}]}", 0,
		  PROTO_E_INVALID_REQUEST, 1 },
		{ "a key twice, the first value holding objects",
		  "{\"id\":\"s\",\"cmd\":\"ping\",\"x\":{\"y\":{\"z\":1}},\"x\":1}", 0,
		  PROTO_E_INVALID_REQUEST, 1 },
		/* json-c takes single quotes even when strict; the key scans must not. */
		{ "a key twice, once in single quotes",
		  "{\"id\":1,\"cmd\":\"ping\",'cmd':\"daemon_status\"}", 0, PROTO_E_PARSE, 1 },
		{ "brackets in a single-quoted key", "{'cmid,]]\":3,\"!ikm':[null,0],\"id\":2}", 0,
		  PROTO_E_PARSE, 1 },
		{ "a single-quoted value", "{\"id\":1,\"cmd\":'ping'}", 0, PROTO_E_PARSE, 0 },
	};

	/* {"id":1,"cmd":"ping","x":[[[[…]]]]} nested well past the limit. */
	size_t n = (size_t)snprintf(deep, sizeof(deep), "{\"id\":1,\"cmd\":\"ping\",\"x\":");
	for (int i = 0; i < 40; i++)
		deep[n++] = '[';
	for (int i = 0; i < 40; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = '\0';

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		struct proto_request req;
		struct proto_error err = { 0 };
		int r = proto_parse_request(c->line, c->len ? c->len : strlen(c->line), &req, &err);

		CHECK(r == -EINVAL && err.code == c->code, "%s gives %s (got %s: %s)", c->what,
		      proto_errcode_name(c->code), proto_errcode_name(err.code), err.message);
		CHECK(!!req.id == c->has_id, "%s %s an id to echo", c->what,
		      c->has_id ? "keeps" : "has no");
		proto_request_clear(&req);
		proto_error_clear(&err);
	}
}

static void test_oversized_line(void)
{
	size_t len = PROTO_MAX_LINE + 10;
	char *line = malloc(len);
	struct proto_request req;
	struct proto_error err = { 0 };

	memset(line, ' ', len);
	CHECK(proto_parse_request(line, len, &req, &err) == -EINVAL &&
		      err.code == PROTO_E_LINE_TOO_LONG,
	      "an oversized line gives line_too_long");
	proto_request_clear(&req);
	proto_error_clear(&err);
	free(line);
}

/* Parses line, which must succeed, into req. */
static int parse_ok(const char *line, struct proto_request *req)
{
	struct proto_error err = { 0 };
	int r = proto_parse_request(line, strlen(line), req, &err);

	proto_error_clear(&err);
	return r;
}

static void test_good_request(void)
{
	struct proto_request req;

	CHECK(parse_ok("{\"id\":\"abc\",\"cmd\":\"query_devices\",\"device\":3}  ", &req) == 0 &&
		      strcmp(req.cmd, "query_devices") == 0 &&
		      json_object_is_type(req.id, json_type_string),
	      "a string id and trailing blanks are accepted");
	proto_request_clear(&req);
	CHECK(parse_ok("{\"id\":-5,\"cmd\":\"x\"}", &req) == 0, "a negative integer id is accepted");
	proto_request_clear(&req);
	CHECK(parse_ok("{\"id\":1,\"cmd\":\"x\",\"device\":\"a\\\\u0000\"}", &req) == 0,
	      "an escaped backslash before u0000 is not a NUL");
	proto_request_clear(&req);
	CHECK(parse_ok("{\"id\":9223372036854775807,\"cmd\":\"x\"}", &req) == 0 &&
		      json_object_get_int64(req.id) == INT64_MAX,
	      "an id of 2^63 - 1 is accepted");
	proto_request_clear(&req);
	CHECK(parse_ok("{\"id\":-9223372036854775808,\"cmd\":\"x\"}", &req) == 0 &&
		      json_object_get_int64(req.id) == INT64_MIN,
	      "an id of -2^63 is accepted");
	proto_request_clear(&req);
	CHECK(parse_ok("{\"id\":1,\"cmd\":\"x\",\"a\":[{\"k\":1},{\"k\":2}],\"b\":{\"k\":1},"
		       "\"s\":\"\\\"k\\\":\",\"f\":1e400,\"g\":-0.5E-3}",
		       &req) == 0,
	      "the same key in different objects, a quoted colon and floats are accepted");
	proto_request_clear(&req);
}

static void test_params(void)
{
	static const char *const kinds[] = { "input", "output", NULL };
	static const char *const allowed[] = { "channels", "samplerate", "kind", "device", "dtype",
					       "flag", "name", NULL };
	struct proto_request req;
	struct proto_error err = { 0 };
	struct proto_device dev;
	int64_t i;
	double d;
	bool b;
	int e;

	parse_ok("{\"id\":1,\"cmd\":\"c\",\"channels\":2,\"samplerate\":48000.0,\"kind\":\"input\","
		 "\"device\":[\"in q\",5],\"dtype\":\"int24\",\"flag\":true,\"name\":\"x\"}",
		 &req);
	CHECK(proto_check_params(&req, allowed, &err) == 0, "known parameters pass");
	CHECK(proto_get_int(&req, "channels", 1, 64, 0, &i, &err) == 1 && i == 2, "int read");
	CHECK(proto_get_int(&req, "samplerate", 1, 1000000, 0, &i, &err) == 1 && i == 48000,
	      "an integral float is an integer");
	CHECK(proto_get_double(&req, "samplerate", 1, 1e6, 0, &d, &err) == 1 && d == 48000.0,
	      "double read");
	CHECK(proto_get_enum(&req, "kind", kinds, -1, &e, &err) == 1 && e == 0, "enum read");
	CHECK(proto_get_device(&req, "device", 0, &dev, &err) == 1 && dev.query &&
		      strcmp(dev.query, "in q") == 0,
	      "input half of a device pair");
	CHECK(proto_get_device(&req, "device", 1, &dev, &err) == 1 && dev.index == 5 && !dev.query,
	      "output half of a device pair");
	CHECK(proto_get_device(&req, "device", -1, &dev, &err) == -EINVAL &&
		      err.code == PROTO_E_INVALID_PARAM &&
		      strcmp(err.message, "Input and output device are different: [\"in q\",5]") == 0,
	      "without a kind a pair of two devices is refused, as in sounddevice");
	CHECK(proto_get_dtype(&req, "dtype", SAMPLE_FLOAT32, &e, &err) == 1 && e == SAMPLE_INT24,
	      "dtype read");
	CHECK(proto_get_bool(&req, "flag", false, &b, &err) == 1 && b, "bool read");
	CHECK(proto_get_int(&req, "missing", 1, 5, 3, &i, &err) == 0 && i == 3,
	      "a missing parameter takes its default");
	CHECK(proto_get_int(&req, "channels", 3, 64, 0, &i, &err) == -EINVAL &&
		      err.code == PROTO_E_INVALID_PARAM,
	      "below the range is invalid_param");
	CHECK(proto_get_int(&req, "name", 1, 5, 3, &i, &err) == -EINVAL &&
		      err.code == PROTO_E_INVALID_PARAM && strstr(err.message, "\"name\""),
	      "a string for an integer is invalid_param naming the parameter");
	CHECK(proto_get_enum(&req, "name", kinds, -1, &e, &err) == -EINVAL &&
		      err.code == PROTO_E_INVALID_PARAM,
	      "an unknown enum value is invalid_param");
	proto_request_clear(&req);

	parse_ok("{\"id\":1,\"cmd\":\"c\",\"device\":[\"usb\",\"usb\"],\"other\":[3,3]}", &req);
	CHECK(proto_get_device(&req, "device", -1, &dev, &err) == 1 && dev.query &&
		      strcmp(dev.query, "usb") == 0,
	      "without a kind a pair of the same device is that device");
	CHECK(proto_get_device(&req, "other", -1, &dev, &err) == 1 && dev.index == 3,
	      "the same id twice, too");
	proto_request_clear(&req);

	parse_ok("{\"id\":1,\"cmd\":\"c\",\"bogus\":1}", &req);
	CHECK(proto_check_params(&req, allowed, &err) == -EINVAL && err.code == PROTO_E_INVALID_PARAM &&
		      strstr(err.message, "bogus"),
	      "an unknown parameter is invalid_param");
	proto_request_clear(&req);

	parse_ok("{\"id\":1,\"cmd\":\"c\",\"channels\":99999999999999999999999,\"samplerate\":1e400,"
		 "\"kind\":null,\"device\":[1,2,3],\"dtype\":\"float64\",\"flag\":1,\"name\":2.5}",
		 &req);
	CHECK(proto_get_int(&req, "channels", 1, 64, 0, &i, &err) == -EINVAL &&
		      err.code == PROTO_E_INVALID_PARAM,
	      "a huge integer is out of range");
	CHECK(proto_get_double(&req, "samplerate", 1, 1e7, 0, &d, &err) == -EINVAL,
	      "an infinite number is out of range");
	CHECK(proto_get_enum(&req, "kind", kinds, -1, &e, &err) == 0 && e == -1,
	      "null is the same as a missing parameter");
	CHECK(proto_get_device(&req, "device", 0, &dev, &err) == -EINVAL, "a triple is not a device pair");
	CHECK(proto_get_dtype(&req, "dtype", SAMPLE_FLOAT32, &e, &err) == -EINVAL &&
		      strstr(err.message, "float64"),
	      "float64 is refused with an explanation");
	CHECK(proto_get_bool(&req, "flag", false, &b, &err) == -EINVAL, "1 is not a boolean");
	CHECK(proto_get_int(&req, "name", 0, 10, 0, &i, &err) == -EINVAL, "2.5 is not an integer");
	proto_request_clear(&req);
	proto_error_clear(&err);
}

static void test_format(void)
{
	struct proto_error err = { 0 };
	json_object *id = json_object_new_int(9);
	size_t len;
	char *line;

	proto_error_set(&err, PROTO_E_NOT_SUPPORTED, "no \"%s\"", "way");
	err.pa_error = -9997;
	strcpy(err.pa_error_text, "Invalid sample rate");
	line = proto_format_error(id, &err, &len);
	CHECK(line && line[len - 1] == '\n' && memchr(line, '\n', len) == line + len - 1,
	      "an error reply is one line");
	line[len - 1] = '\0';
	CHECK_STR(line,
		  "{\"id\":9,\"ok\":false,\"error\":{\"code\":\"not_supported\",\"message\":\"no \\\"way\\\"\","
		  "\"pa_error\":-9997,\"pa_error_text\":\"Invalid sample rate\"}}",
		  "the error reply carries code, message and the PortAudio error");
	free(line);
	line = proto_format_ok(id, json_object_new_string("a\nb"), &len);
	CHECK(line && memchr(line, '\n', len) == line + len - 1, "newlines in strings are escaped");
	free(line);
	line = proto_format_event("xrun", NULL, &len);
	line[len - 1] = '\0';
	CHECK_STR(line, "{\"event\":\"xrun\"}", "an event has no id");
	free(line);
	json_object_put(id);
	proto_error_clear(&err);
	for (int i = 1; i < PROTO_E_COUNT_; i++)
		CHECK(proto_errcode_from_name(proto_errcode_name(i)) == (enum proto_errcode)i,
		      "error code %s round-trips", proto_errcode_name(i));
}

static void test_linebuf(void)
{
	struct linebuf lb;
	size_t avail, len;
	char *space, *line;

	linebuf_init(&lb, 16);
	space = linebuf_space(&lb, &avail);
	CHECK(avail == 16, "an empty buffer offers the whole line");
	memcpy(space, "ab\r\ncd\nef", 9);
	linebuf_commit(&lb, 9);
	CHECK(linebuf_next(&lb, &line, &len) == 1 && len == 2 && strcmp(line, "ab") == 0,
	      "CRLF is stripped");
	CHECK(linebuf_next(&lb, &line, &len) == 1 && strcmp(line, "cd") == 0, "second line");
	CHECK(linebuf_next(&lb, &line, &len) == 0 && linebuf_pending(&lb) == 2,
	      "a partial line waits");
	space = linebuf_space(&lb, &avail);
	CHECK(avail == 14, "space is compacted");
	memcpy(space, "0123456789abcd", 14);
	linebuf_commit(&lb, 14);
	CHECK(linebuf_next(&lb, &line, &len) == -EMSGSIZE, "a full buffer without newline is too long");
	linebuf_free(&lb);

	linebuf_init(&lb, 16);
	space = linebuf_space(&lb, &avail);
	memcpy(space, "0123456789abcde\n", 16);
	linebuf_commit(&lb, 16);
	CHECK(linebuf_next(&lb, &line, &len) == 1 && len == 15, "a line of exactly the maximum fits");
	linebuf_free(&lb);
}

int main(void)
{
	test_bad_requests();
	test_oversized_line();
	test_good_request();
	test_params();
	test_format();
	test_linebuf();
	return tap_done();
}
