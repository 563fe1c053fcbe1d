/*
 * Fuzzes the request path of the JSON line protocol as the daemon runs it:
 * bytes are framed into lines by protocol/linebuf.c, in chunks whose sizes
 * come from the input, and every complete line goes through
 * proto_parse_request(), proto_check_params() and the typed getters of
 * protocol/params.h with parameter specs like the daemon's commands.  Each
 * request gets its reply (or error) formatted with proto_format_*().
 *
 * Besides memory errors, the target checks that the framing hands out
 * exactly the lines a plain split at "\n" gives, and that every formatted
 * message is one line of valid UTF-8 that parses back as a JSON object
 * echoing the request's id.
 *
 * The first input byte chooses the line limit (small ones reach the
 * line_too_long path cheaply), the second the chunk sizes; the rest is the
 * byte stream a client sends.
 */
#include <errno.h>
#include <float.h>
#include <string.h>

#include "fuzz.h"
#include "linebuf.h"
#include "params.h"
#include "proto.h"
#include "utf8.h"

enum param_type {
	P_INT,
	P_DOUBLE,
	P_BOOL,
	P_STRING,
	P_ENUM,
	P_DEVICE,
	P_DTYPE,
};

/* One parameter of a command and the bounds its getter is called with. */
struct param {
	const char *name;
	enum param_type type;
	int64_t imin, imax;
	double dmin, dmax;
	size_t maxlen;
	const char *const *names;
};

struct command {
	const char *name;
	struct param params[24];
};

/* The tables read best in columns, which clang-format would undo. */
/* clang-format off */
static const char *const kinds[] = { "input", "output", NULL };
static const char *const latencies[] = { "low", "high", NULL };
/* More names than fit in the 256-byte list of a proto_get_enum() error. */
static const char *const many[] = {
	"alpha-alpha-alpha-alpha", "bravo-bravo-bravo-bravo", "charlie-charlie-charlie",
	"delta-delta-delta-delta", "echo-echo-echo-echo-echo", "foxtrot-foxtrot-foxtrot",
	"golf-golf-golf-golf-golf", "hotel-hotel-hotel-hotel", "india-india-india-india",
	"juliett-juliett-juliett", "kilo-kilo-kilo-kilo-kilo", "lima-lima-lima-lima-lima",
	NULL,
};

#define INT(n, lo, hi) { .name = (n), .type = P_INT, .imin = (lo), .imax = (hi) }
#define DOUBLE(n, lo, hi) { .name = (n), .type = P_DOUBLE, .dmin = (lo), .dmax = (hi) }
#define BOOL(n) { .name = (n), .type = P_BOOL }
#define STRING(n, max) { .name = (n), .type = P_STRING, .maxlen = (max) }
#define ENUM(n, list) { .name = (n), .type = P_ENUM, .names = (list) }
#define DEVICE(n) { .name = (n), .type = P_DEVICE }
#define DTYPE(n) { .name = (n), .type = P_DTYPE }

#define STREAM_PARAMS \
	DEVICE("device"), DOUBLE("samplerate", 1000, 768000), INT("blocksize", 0, 65536), \
	BOOL("exclusive"), BOOL("clip_off"), BOOL("dither_off"), BOOL("never_drop_input"), \
	BOOL("prime_output_buffers_using_stream_callback"), INT("frames", 1, INT32_MAX), \
	INT("buffer_frames", 1, 1 << 26), BOOL("stop_previous"), ENUM("latency", latencies), \
	INT("channels", 1, 64), DTYPE("dtype")

/* The daemon's commands and their parameters, plus one with extreme bounds. */
static const struct command commands[] = {
	{ "hello", { INT("protocol", 0, INT32_MAX), STRING("client", 256) } },
	{ "ping", { { 0 } } },
	{ "get_portaudio_version", { { 0 } } },
	{ "query_devices", { DEVICE("device"), ENUM("kind", kinds) } },
	{ "query_hostapis", { INT("index", 0, INT32_MAX) } },
	{ "default_device", { { 0 } } },
	{ "check_input_settings", { DEVICE("device"), INT("channels", 1, 1024), DTYPE("dtype"),
				    DOUBLE("samplerate", 1, 10000000) } },
	{ "play", { STREAM_PARAMS, BOOL("loop"), BOOL("detach") } },
	{ "rec", { STREAM_PARAMS } },
	{ "playrec", { STREAM_PARAMS, INT("data_channels", 1, 64), DTYPE("data_dtype") } },
	{ "wait", { INT("handle", 1, UINT32_MAX) } },
	{ "extremes", { INT("i64", INT64_MIN, INT64_MAX), INT("i0", 0, 0),
			INT("neg", INT64_MIN, -1), DOUBLE("d", -DBL_MAX, DBL_MAX),
			DOUBLE("tiny", 0, DBL_MIN), STRING("s0", 0), STRING("s", 65536),
			ENUM("many", many), DEVICE("dev") } },
};
/* clang-format on */

/*
 * A reference for what proto_parse_request() must refuse in a text that is
 * valid JSON: a key twice in one object, or an integer beyond 64 bits.  It
 * is written apart from proto.c's scan: a recursive descent that decodes
 * every key into code units itself and compares it with the earlier keys
 * of its object, and strtoll() for integers.
 */
struct ref {
	const char *p, *end;
	bool twice, big;
};

#define REF_MAX_KEY 256

/* Decodes the string at r->p into units (at most REF_MAX_KEY; the rest is cut); returns the count. */
static size_t ref_string(struct ref *r, uint32_t *units)
{
	size_t n = 0;

	r->p++; /* the opening quote */
	while (r->p < r->end && *r->p != '"') {
		uint32_t u = (unsigned char)*r->p++;

		if (u == '\\' && r->p < r->end) {
			char e = *r->p++;

			if (e == 'u' && r->end - r->p >= 4) {
				char hex[5] = { r->p[0], r->p[1], r->p[2], r->p[3], 0 };

				u = 0x10000 | (uint32_t)strtoul(hex, NULL, 16);
				r->p += 4;
			} else {
				u = 0x20000 | (unsigned char)e;
			}
		}
		if (n < REF_MAX_KEY)
			units[n] = u;
		n++;
	}
	r->p++; /* the closing quote */
	return n;
}

static void ref_space(struct ref *r)
{
	while (r->p < r->end && strchr(" \t\n\r", *r->p) && *r->p)
		r->p++;
}

static void ref_value(struct ref *r)
{
	ref_space(r);
	if (r->p >= r->end)
		return;
	if (*r->p == '{') {
		/* The first 64 keys of each object are compared; the reference may miss later ones. */
		const char *starts[64];
		size_t count = 0;

		r->p++;
		ref_space(r);
		while (r->p < r->end && *r->p != '}') {
			uint32_t key[REF_MAX_KEY], other[REF_MAX_KEY];
			const char *start = r->p;
			size_t n = ref_string(r, key);

			for (size_t i = 0; i < count && n <= REF_MAX_KEY; i++) {
				struct ref again = { .p = starts[i], .end = r->end };

				if (ref_string(&again, other) == n &&
				    memcmp(other, key, n * sizeof(*key)) == 0)
					r->twice = true;
			}
			if (count < 64)
				starts[count++] = start;
			ref_space(r);
			r->p++; /* ':' */
			ref_value(r);
			ref_space(r);
			if (r->p < r->end && *r->p == ',') {
				r->p++;
				ref_space(r);
			}
		}
		r->p++;
	} else if (*r->p == '[') {
		r->p++;
		ref_space(r);
		while (r->p < r->end && *r->p != ']') {
			ref_value(r);
			ref_space(r);
			if (r->p < r->end && *r->p == ',')
				r->p++;
			ref_space(r);
		}
		r->p++;
	} else if (*r->p == '"') {
		uint32_t unused[REF_MAX_KEY];

		ref_string(r, unused);
	} else if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9')) {
		const char *start = r->p;
		bool integral = true;

		while (r->p < r->end && strchr("0123456789.eE+-", *r->p) && *r->p) {
			if (strchr(".eE", *r->p))
				integral = false;
			r->p++;
		}
		if (integral) {
			char text[48];
			size_t n = (size_t)(r->p - start);

			if (n >= sizeof(text)) {
				r->big = true;
			} else {
				memcpy(text, start, n);
				text[n] = '\0';
				errno = 0;
				(void)strtoll(text, NULL, 10);
				if (errno == ERANGE)
					r->big = true;
			}
		}
	} else {
		while (r->p < r->end && *r->p >= 'a' && *r->p <= 'z')
			r->p++;
	}
}

/* Checks that line[0..len) is one formatted message and that it echoes id. */
static void check_message(const char *line, size_t len, json_object *id)
{
	struct proto_request back;
	struct proto_error err = {0};
	json_object *back_id = NULL;

	FUZZ_CHECK(line && len > 0 && line[len - 1] == '\n');
	FUZZ_CHECK(memchr(line, '\n', len - 1) == NULL);
	FUZZ_CHECK(utf8_check(line, len - 1) == len - 1);
	/* It may lack "cmd", but it must be a JSON object. */
	proto_parse_request(line, len - 1, &back, &err);
	FUZZ_CHECK(err.code != PROTO_E_PARSE && err.code != PROTO_E_LINE_TOO_LONG);
	FUZZ_CHECK(json_object_is_type(back.root, json_type_object));
	if (json_object_object_get_ex(back.root, "id", &back_id))
		FUZZ_CHECK(json_object_equal(id, back_id));
	proto_request_clear(&back);
	proto_error_clear(&err);
}

static void reply_error(json_object *id, const struct proto_error *err)
{
	size_t len = 0;
	char *line = proto_format_error(id, err, &len);

	FUZZ_CHECK(proto_errcode_from_name(proto_errcode_name(err->code)) == err->code);
	FUZZ_CHECK(line);
	check_message(line, len, id);
	free(line);
}

/* Reads one parameter into result, as a command handler would; returns 0 or -EINVAL. */
static int get_param(const struct proto_request *req, const struct param *p, json_object *result,
		     struct proto_error *err)
{
	json_object *v = NULL;
	int r = -EINVAL;

	switch (p->type) {
	case P_INT: {
		int64_t x = 0;

		r = proto_get_int(req, p->name, p->imin, p->imax, -1, &x, err);
		if (r > 0)
			FUZZ_CHECK(x >= p->imin && x <= p->imax);
		v = json_object_new_int64(x);
		break;
	}
	case P_DOUBLE: {
		double d = 0;

		r = proto_get_double(req, p->name, p->dmin, p->dmax, 0, &d, err);
		if (r > 0)
			FUZZ_CHECK(d >= p->dmin && d <= p->dmax);
		v = json_object_new_double(d);
		break;
	}
	case P_BOOL: {
		bool b = false;

		r = proto_get_bool(req, p->name, false, &b, err);
		v = json_object_new_boolean(b);
		break;
	}
	case P_STRING: {
		const char *s = NULL;

		r = proto_get_string(req, p->name, p->maxlen, NULL, &s, err);
		if (r > 0)
			FUZZ_CHECK(s && strlen(s) <= p->maxlen);
		v = s ? json_object_new_string(s) : NULL;
		break;
	}
	case P_ENUM: {
		int i = -1;

		r = proto_get_enum(req, p->name, p->names, -1, &i, err);
		if (r > 0)
			FUZZ_CHECK(i >= 0 && p->names[i]);
		v = json_object_new_int(i);
		break;
	}
	case P_DEVICE:
		for (int which = 0; which < 2; which++) {
			struct proto_device dev;

			r = proto_get_device(req, p->name, which, &dev, err);
			if (r < 0)
				break;
			FUZZ_CHECK(dev.index >= -1);
			if (dev.query) {
				/* Report it as the daemon does when nothing matches. */
				return proto_error_set(err, PROTO_E_DEVICE_NOT_FOUND,
						       "No %s device matching '%s'",
						       which ? "output" : "input", dev.query);
			}
			json_object_object_add(result, which ? "out" : "in",
					       json_object_new_int(dev.index));
		}
		break;
	case P_DTYPE: {
		int fmt = -1;

		r = proto_get_dtype(req, p->name, 0, &fmt, err);
		v = json_object_new_int(fmt);
		break;
	}
	}
	if (r < 0) {
		json_object_put(v);
		FUZZ_CHECK(err->code == PROTO_E_INVALID_PARAM);
		return r;
	}
	FUZZ_CHECK(r == 0 || r == 1);
	json_object_object_add(result, p->name, v);
	return 0;
}

/* Handles one line as the daemon's dispatcher does, formatting the reply. */
static void handle_line(const char *line, size_t len)
{
	struct proto_request req;
	struct proto_error err = {0};
	const struct command *cmd = NULL;
	const char *allowed[32];
	json_object *result;
	size_t n = 0, reply_len = 0;
	char *reply;
	int r;

	if (len == 0)
		return; /* blank lines are ignored */
	r = proto_parse_request(line, len, &req, &err);
	if (err.code != PROTO_E_PARSE && err.code != PROTO_E_LINE_TOO_LONG &&
	    json_object_is_type(req.root, json_type_object)) {
		/* Valid JSON: a key twice or an integer beyond 64 bits is refused. */
		struct ref ref = { .p = line, .end = line + len };

		ref_value(&ref);
		if (ref.twice || ref.big)
			FUZZ_CHECK(r < 0 && (err.code == PROTO_E_INVALID_REQUEST ||
					     err.code == PROTO_E_INVALID_PARAM));
		/* An id that is an integer is one of 64 bits. */
		if (r == 0 && json_object_is_type(req.id, json_type_int))
			FUZZ_CHECK(json_object_get_uint64(req.id) <= INT64_MAX);
	}
	if (r < 0) {
		FUZZ_CHECK(err.code != PROTO_E_NONE);
		reply_error(req.id, &err);
		goto out;
	}
	FUZZ_CHECK(req.root && req.id && req.cmd);
	/* A command name is all of the "cmd" string: "ping\u0000x" is not "ping". */
	{
		json_object *cmd_obj = NULL;

		FUZZ_CHECK(json_object_object_get_ex(req.root, "cmd", &cmd_obj));
		FUZZ_CHECK(strlen(req.cmd) == (size_t)json_object_get_string_len(cmd_obj));
	}

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, req.cmd) == 0)
			cmd = &commands[i];
	if (!cmd) {
		proto_error_set(&err, PROTO_E_UNKNOWN_COMMAND, "unknown command \"%.64s\"",
				req.cmd);
		reply_error(req.id, &err);
		goto out;
	}
	for (const struct param *p = cmd->params; p->name; p++)
		allowed[n++] = p->name;
	allowed[n] = NULL;
	if (proto_check_params(&req, allowed, &err) < 0) {
		reply_error(req.id, &err);
		goto out;
	}

	result = json_object_new_object();
	FUZZ_CHECK(result);
	for (const struct param *p = cmd->params; p->name; p++) {
		if (get_param(&req, p, result, &err) < 0) {
			json_object_put(result);
			reply_error(req.id, &err);
			goto out;
		}
	}
	json_object_object_add(result, "cmd", json_object_new_string(req.cmd));
	reply = proto_format_ok(req.id, result, &reply_len);
	FUZZ_CHECK(reply);
	check_message(reply, reply_len, req.id);
	free(reply);

	/* An event that carries a string from the request. */
	result = json_object_new_object();
	json_object_object_add(result, "cmd", json_object_new_string(req.cmd));
	reply = proto_format_event("fuzz", result, &reply_len);
	FUZZ_CHECK(reply);
	check_message(reply, reply_len, NULL);
	free(reply);
out:
	proto_request_clear(&req);
	proto_error_clear(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct linebuf lb;
	size_t max, chunk_seed, fed = 0, consumed = 0;

	if (size < 2)
		return 0;
	/* A limit of PROTO_MAX_LINE as the daemon uses, or a small one. */
	max = data[0] & 0x80 ? PROTO_MAX_LINE : 2 + (size_t)(data[0] & 0x7f) * 4;
	chunk_seed = data[1];
	data += 2;
	size -= 2;

	FUZZ_CHECK(linebuf_init(&lb, max) == 0);
	while (fed < size) {
		size_t avail, n;
		char *space = linebuf_space(&lb, &avail);
		char *line;
		size_t len;
		int r;

		FUZZ_CHECK(avail > 0);
		/* Chunks of 1 to 256 bytes, varying with the position. */
		n = 1 + ((chunk_seed * 31 + fed * 7) & 0xff);
		if (n > avail)
			n = avail;
		if (n > size - fed)
			n = size - fed;
		memcpy(space, data + fed, n);
		linebuf_commit(&lb, n);
		fed += n;

		while ((r = linebuf_next(&lb, &line, &len)) == 1) {
			/* The same line a plain split at "\n" gives, without one "\r" before it. */
			const uint8_t *nl = memchr(data + consumed, '\n', fed - consumed);
			size_t want;

			FUZZ_CHECK(nl);
			want = (size_t)(nl - (data + consumed));
			if (want > 0 && data[consumed + want - 1] == '\r')
				want--;
			FUZZ_CHECK(len == want && len < max);
			FUZZ_CHECK(memcmp(line, data + consumed, len) == 0 && line[len] == '\0');
			consumed = (size_t)(nl - data) + 1;
			handle_line(line, len);
		}
		if (r == -EMSGSIZE) {
			/* Only when max bytes without a newline are pending: reply and stop, as the
			 * daemon does. */
			struct proto_error err = {0};

			FUZZ_CHECK(fed - consumed >= max);
			FUZZ_CHECK(memchr(data + consumed, '\n', max) == NULL);
			proto_error_set(
			    &err, PROTO_E_LINE_TOO_LONG,
			    "line exceeds the maximum of %zu bytes; closing the connection",
			    max - 1);
			reply_error(NULL, &err);
			break;
		}
		FUZZ_CHECK(r == 0);
		FUZZ_CHECK(linebuf_pending(&lb) == fed - consumed);
	}
	linebuf_free(&lb);
	return 0;
}
