/*
 * Request parsing, error codes and message formatting of the JSON line
 * protocol.  Pure functions: called by the daemon's loop thread and by
 * libsdc from whichever thread owns the connection.
 */
#include "proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static const char *const errcode_names[PROTO_E_COUNT_] = {
	[PROTO_E_NONE] = "none",
	[PROTO_E_PARSE] = "parse_error",
	[PROTO_E_INVALID_REQUEST] = "invalid_request",
	[PROTO_E_LINE_TOO_LONG] = "line_too_long",
	[PROTO_E_UNKNOWN_COMMAND] = "unknown_command",
	[PROTO_E_INVALID_PARAM] = "invalid_param",
	[PROTO_E_UNSUPPORTED_PROTOCOL] = "unsupported_protocol",
	[PROTO_E_DEVICE_NOT_FOUND] = "device_not_found",
	[PROTO_E_DEVICE_AMBIGUOUS] = "device_ambiguous",
	[PROTO_E_NOT_SUPPORTED] = "not_supported",
	[PROTO_E_PORTAUDIO] = "portaudio_error",
	[PROTO_E_NO_SUCH_STREAM] = "no_such_stream",
	[PROTO_E_LIMIT] = "limit_exceeded",
	[PROTO_E_ACCESS_DENIED] = "access_denied",
	[PROTO_E_BUSY] = "busy",
	[PROTO_E_SHUTTING_DOWN] = "shutting_down",
	[PROTO_E_INTERNAL] = "internal_error",
	[PROTO_E_TIMEOUT] = "timeout",
	[PROTO_E_STALE_GENERATION] = "stale_generation",
};

const char *proto_errcode_name(enum proto_errcode code)
{
	if ((unsigned)code >= PROTO_E_COUNT_)
		return "internal_error";
	return errcode_names[code];
}

enum proto_errcode proto_errcode_from_name(const char *name)
{
	for (int i = 1; i < PROTO_E_COUNT_; i++)
		if (name && strcmp(errcode_names[i], name) == 0)
			return (enum proto_errcode)i;
	return PROTO_E_NONE;
}

void proto_error_clear(struct proto_error *err)
{
	if (!err)
		return;
	json_object_put(err->details);
	memset(err, 0, sizeof(*err));
}

int proto_error_setv(struct proto_error *err, enum proto_errcode code, const char *fmt, va_list ap)
{
	if (!err)
		return -EINVAL;
	proto_error_clear(err);
	err->code = code;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	return -EINVAL;
}

int proto_error_set(struct proto_error *err, enum proto_errcode code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	proto_error_setv(err, code, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * Returns true when an integer json-c holds may have come from a literal
 * beyond the signed 64-bit range: json-c saturates such literals (at
 * INT64_MIN, or at UINT64_MAX above it) and keeps those from INT64_MAX + 1
 * to UINT64_MAX as unsigned.  INT64_MIN may also be genuine; called only
 * when the text holds an integer out of range, taking it for saturated
 * costs at most the id's echo in the error reply.
 */
static bool int_saturated(json_object *o)
{
	return json_object_get_int64(o) == INT64_MIN || json_object_get_uint64(o) > INT64_MAX;
}

/* Returns true when id is an acceptable request id: a 64-bit integer or a short string. */
static bool id_is_valid(json_object *id)
{
	switch (json_object_get_type(id)) {
	case json_type_int:
		return json_object_get_uint64(id) <= INT64_MAX;
	case json_type_string:
		return json_object_get_string_len(id) <= PROTO_MAX_ID;
	default:
		return false;
	}
}

/*
 * Whether the JSON text holds an escaped NUL character (\u0000).  json-c
 * keeps such a character in string values but cuts object keys at it, so
 * that {"device\u0000x": 1} would read as the key "device".  No parameter
 * has a use for NUL, so it is refused wherever it appears.  A backslash
 * occurs only inside strings of valid JSON, and each escape is skipped as a
 * whole, so "\\u0000" (an escaped backslash, then text) is not taken for one.
 */
static bool has_escaped_nul(const char *line, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (line[i] != '\\')
			continue;
		if (line[i + 1] == 'u' && i + 6 <= len && memcmp(line + i + 2, "0000", 4) == 0)
			return true;
		i++;
	}
	return false;
}

/* Returns the index just past the string literal that starts at line[i] (a '"'). */
static size_t string_end(const char *line, size_t len, size_t i)
{
	for (i++; i < len && line[i] != '"'; i++)
		if (line[i] == '\\')
			i++;
	return i < len ? i + 1 : len;
}

/* Returns the index of the first character at or after i that is not JSON whitespace. */
static size_t skip_space(const char *line, size_t len, size_t i)
{
	while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\n' || line[i] == '\r'))
		i++;
	return i;
}

/* Whether the integer literal s[0..n) (an optional '-', then digits) fits in an int64_t. */
static bool int_literal_fits(const char *s, size_t n)
{
	static const char max_digits[] = "9223372036854775807";
	bool negative = n > 0 && s[0] == '-';
	size_t digits = n - negative;
	int c;

	if (digits != sizeof(max_digits) - 1)
		return digits < sizeof(max_digits) - 1;
	c = memcmp(s + negative, max_digits, digits);
	/* INT64_MIN's digits end in 8, one past INT64_MAX's. */
	return c <= 0 || (negative && memcmp(s + 1, "9223372036854775808", digits) == 0);
}

/*
 * What json-c lets pass in a text it accepted: a key given twice in one
 * object (it keeps the last value) and integers beyond 64 bits (it
 * saturates them).  The scan counts the keys of every object, to be set
 * against the members json-c kept, and finds the first integer literal out
 * of range.  It relies on the text being valid JSON, which json-c's strict
 * mode does not quite ensure: it takes strings in single quotes, in which
 * '"' and brackets are plain characters; the scan stops at the first one
 * and says so (single_quoted), and such a request is refused.
 */
struct text_scan {
	bool single_quoted; /* a string in single quotes, which json-c accepts even when strict */
	size_t keys;
	const char *bad_int; /* the first integer literal beyond 64 bits, or NULL */
	size_t bad_int_len;
};

static void scan_text(const char *line, size_t len, struct text_scan *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < len;) {
		char c = line[i];

		if (c == '"') {
			i = string_end(line, len, i);
			if (skip_space(line, len, i) < len && line[skip_space(line, len, i)] == ':')
				ret->keys++;
		} else if (c == '\'') {
			/* Outside a string: the start of a single-quoted one. */
			ret->single_quoted = true;
			return;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			size_t start = i;
			bool integral = true;

			for (i++; i < len && strchr("0123456789.eE+-", line[i]); i++)
				if (line[i] == '.' || line[i] == 'e' || line[i] == 'E')
					integral = false;
			if (integral && !ret->bad_int && !int_literal_fits(line + start, i - start)) {
				ret->bad_int = line + start;
				ret->bad_int_len = i - start;
			}
		} else {
			i++;
		}
	}
}

/* Counts the members of every object in o, o included. */
static size_t count_members(json_object *o)
{
	size_t n = 0;

	switch (json_object_get_type(o)) {
	case json_type_object: {
		json_object_object_foreach(o, key, val)
		{
			(void)key;
			n += 1 + count_members(val);
		}
		break;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			n += count_members(json_object_array_get_idx(o, i));
		break;
	default:
		break;
	}
	return n;
}

/*
 * Finds the first key that an object of the text holds twice, once the
 * counts have shown there is one.  Keys are compared as json-c decodes
 * them (escapes resolved), with a set per open object.  Copies the key into
 * name (cut to size) and returns the depth of its object (1 for the
 * request itself), or 0 when none is found.
 */
static int find_duplicate(const char *line, size_t len, char *name, size_t size)
{
	json_object *sets[PROTO_MAX_DEPTH + 1] = { 0 };
	struct json_tokener *tok = json_tokener_new();
	int depth = 0, found = 0;

	if (!tok)
		return 0;

	for (size_t i = 0; i < len && !found;) {
		char c = line[i];

		if (c == '{' || c == '[') {
			if (depth >= 0 && depth <= PROTO_MAX_DEPTH)
				sets[depth] = c == '{' ? json_object_new_object() : NULL;
			depth++;
			i++;
		} else if (c == '}' || c == ']') {
			depth--;
			if (depth >= 0 && depth <= PROTO_MAX_DEPTH) {
				json_object_put(sets[depth]);
				sets[depth] = NULL;
			}
			i++;
		} else if (c == '"') {
			size_t end = string_end(line, len, i), after = skip_space(line, len, end);
			json_object *set = depth >= 1 && depth <= PROTO_MAX_DEPTH + 1 ? sets[depth - 1] : NULL;

			if (after < len && line[after] == ':' && set) {
				json_object *key;
				const char *k;

				json_tokener_reset(tok);
				key = json_tokener_parse_ex(tok, line + i, (int)(end - i));
				k = key ? json_object_get_string(key) : NULL;

				if (k && json_object_object_get_ex(set, k, NULL)) {
					snprintf(name, size, "%s", k);
					found = depth;
				} else if (k) {
					json_object_object_add(set, k, NULL);
				}
				json_object_put(key);
			}
			i = end;
		} else {
			i++;
		}
	}
	for (int d = 0; d <= PROTO_MAX_DEPTH; d++)
		json_object_put(sets[d]);
	json_tokener_free(tok);
	return found;
}

/*
 * Refuses what json-c would let pass silently (see scan_text).  Clears
 * req->id when the fault lies in the id, so that no reply echoes a
 * changed id.  Returns 0 or -EINVAL with err set.
 */
static int check_text(const char *line, size_t len, struct proto_request *req,
		      struct proto_error *err)
{
	struct text_scan scan;
	char key[80];
	int depth;

	scan_text(line, len, &scan);
	if (scan.single_quoted)
		return proto_error_set(err, PROTO_E_PARSE,
				       "not valid JSON: strings and keys must be in double quotes");
	if (scan.bad_int) {
		bool in_id = json_object_is_type(req->id, json_type_int) && int_saturated(req->id);

		if (in_id)
			req->id = NULL;
		return proto_error_set(err, in_id ? PROTO_E_INVALID_REQUEST : PROTO_E_INVALID_PARAM,
				       "integer %.*s%s is out of range: integers must lie between %lld and %lld",
				       (int)(scan.bad_int_len > 40 ? 40 : scan.bad_int_len), scan.bad_int,
				       scan.bad_int_len > 40 ? "..." : "", (long long)INT64_MIN,
				       (long long)INT64_MAX);
	}
	if (scan.keys == count_members(req->root))
		return 0;
	depth = find_duplicate(line, len, key, sizeof(key));
	if (depth == 1 && strcmp(key, "id") == 0)
		req->id = NULL;
	if (depth == 1)
		return proto_error_set(err, PROTO_E_INVALID_REQUEST,
				       "the request has the key \"%.64s\" twice", key);
	if (depth > 1)
		return proto_error_set(err, PROTO_E_INVALID_REQUEST,
				       "an object in the request has the key \"%.64s\" twice", key);
	return proto_error_set(err, PROTO_E_INVALID_REQUEST, "the request has a key twice");
}

int proto_parse_request(const char *line, size_t len, struct proto_request *req,
			struct proto_error *err)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	json_object *cmd;
	size_t end;

	memset(req, 0, sizeof(*req));
	if (len >= PROTO_MAX_LINE)
		return proto_error_set(err, PROTO_E_LINE_TOO_LONG,
				       "line of %zu bytes exceeds the maximum of %d", len,
				       PROTO_MAX_LINE - 1);
	if (memchr(line, '\0', len))
		return proto_error_set(err, PROTO_E_PARSE, "line contains a NUL byte");
	end = utf8_check(line, len);
	if (end != len)
		return proto_error_set(err, PROTO_E_PARSE, "invalid UTF-8 at byte %zu", end);

	tok = json_tokener_new_ex(PROTO_MAX_DEPTH);
	if (!tok)
		return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	req->root = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	/* A bare literal such as null or 42 needs the end of input to complete. */
	if (jerr == json_tokener_continue) {
		req->root = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	}
	json_tokener_free(tok);

	if (jerr == json_tokener_continue)
		return proto_error_set(err, PROTO_E_PARSE, "incomplete JSON text");
	if (jerr != json_tokener_success) {
		if (jerr == json_tokener_error_depth)
			return proto_error_set(err, PROTO_E_PARSE,
					       "JSON nested deeper than %d levels", PROTO_MAX_DEPTH);
		return proto_error_set(err, PROTO_E_PARSE, "not valid JSON at byte %zu: %s", end,
				       json_tokener_error_desc(jerr));
	}
	while (end < len && (line[end] == ' ' || line[end] == '\t' || line[end] == '\r'))
		end++;
	if (end != len) {
		json_object_put(req->root);
		req->root = NULL;
		return proto_error_set(err, PROTO_E_PARSE,
				       "unexpected data after the JSON object at byte %zu", end);
	}
	/* json-c represents a JSON null as NULL. */
	if (!json_object_is_type(req->root, json_type_object))
		return proto_error_set(err, PROTO_E_INVALID_REQUEST,
				       "a request must be a JSON object, not %s",
				       json_type_to_name(json_object_get_type(req->root)));

	/*
	 * The id is looked at first, so that an error reply can echo it, but
	 * kept only when it is usable.
	 */
	json_object_object_get_ex(req->root, "id", &req->id);
	if (check_text(line, len, req, err) < 0) {
		if (req->id && !id_is_valid(req->id))
			req->id = NULL;
		return -EINVAL;
	}
	if (!req->id)
		return proto_error_set(err, PROTO_E_INVALID_REQUEST, "request has no \"id\"");
	if (!id_is_valid(req->id)) {
		req->id = NULL;
		return proto_error_set(err, PROTO_E_INVALID_REQUEST,
				       "\"id\" must be an integer or a string of at most %d bytes",
				       PROTO_MAX_ID);
	}
	if (!json_object_object_get_ex(req->root, "cmd", &cmd) || !cmd)
		return proto_error_set(err, PROTO_E_INVALID_REQUEST, "request has no \"cmd\"");
	if (!json_object_is_type(cmd, json_type_string))
		return proto_error_set(err, PROTO_E_INVALID_REQUEST, "\"cmd\" must be a string");
	/* Else "ping\u0000junk" would run as "ping", and keys would be cut short. */
	if (has_escaped_nul(line, len))
		return proto_error_set(err, PROTO_E_INVALID_REQUEST,
				       "strings and keys must not contain a NUL character (\\u0000)");
	req->cmd = json_object_get_string(cmd);
	return 0;
}

void proto_request_clear(struct proto_request *req)
{
	if (!req)
		return;
	json_object_put(req->root);
	memset(req, 0, sizeof(*req));
}

int proto_check_params(const struct proto_request *req, const char *const *allowed,
		       struct proto_error *err)
{
	json_object_object_foreach(req->root, key, val)
	{
		bool ok = strcmp(key, "id") == 0 || strcmp(key, "cmd") == 0 ||
			  strcmp(key, "generation") == 0;

		(void)val;
		for (const char *const *a = allowed; !ok && a && *a; a++)
			ok = strcmp(key, *a) == 0;
		if (!ok)
			return proto_error_set(err, PROTO_E_INVALID_PARAM,
					       "unknown parameter \"%.64s\" for command \"%.64s\"", key,
					       req->cmd ? req->cmd : "");
	}
	return 0;
}

char *proto_format_line(json_object *obj, size_t *ret_len)
{
	const char *text;
	size_t len;
	char *line;

	text = json_object_to_json_string_length(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (!text)
		return NULL;
	line = malloc(len + 1);
	if (!line)
		return NULL;
	memcpy(line, text, len);
	line[len] = '\n';
	*ret_len = len + 1;
	return line;
}

/* Adds id to obj, or null when there is none. */
static void add_id(json_object *obj, json_object *id)
{
	json_object_object_add(obj, "id", id ? json_object_get(id) : NULL);
}

char *proto_format_ok(json_object *id, json_object *result, size_t *ret_len)
{
	return proto_format_reply(id, result, -1, ret_len);
}

char *proto_format_reply(json_object *id, json_object *result, int64_t generation,
			 size_t *ret_len)
{
	json_object *obj = json_object_new_object();
	char *line;

	if (!obj) {
		json_object_put(result);
		return NULL;
	}
	add_id(obj, id);
	json_object_object_add(obj, "ok", json_object_new_boolean(1));
	json_object_object_add(obj, "result", result);
	if (generation >= 0)
		json_object_object_add(obj, "generation", json_object_new_int64(generation));
	line = proto_format_line(obj, ret_len);
	json_object_put(obj);
	return line;
}

/*
 * Returns a JSON string holding s.  Error texts are cut to fit their
 * buffers, and messages cut the strings they quote ("%.64s"), possibly in
 * the middle of a multi-byte sequence; the bytes of such a sequence are
 * replaced by U+FFFD so that every line stays valid UTF-8.
 */
static json_object *new_text(const char *s)
{
	size_t len = strlen(s);
	json_object *o;
	char *fixed;

	if (utf8_check(s, len) == len)
		return json_object_new_string(s);
	fixed = utf8_sanitize(s);
	o = json_object_new_string(fixed ? fixed : "");
	free(fixed);
	return o;
}

char *proto_format_error(json_object *id, const struct proto_error *err, size_t *ret_len)
{
	json_object *obj = json_object_new_object();
	json_object *e = json_object_new_object();
	char *line = NULL;

	if (!obj || !e)
		goto out;
	add_id(obj, id);
	json_object_object_add(obj, "ok", json_object_new_boolean(0));
	json_object_object_add(e, "code", json_object_new_string(proto_errcode_name(err->code)));
	json_object_object_add(e, "message", new_text(err->message));
	if (err->pa_error) {
		json_object_object_add(e, "pa_error", json_object_new_int(err->pa_error));
		json_object_object_add(e, "pa_error_text", new_text(err->pa_error_text));
	}
	if (err->has_host_error) {
		json_object *h = json_object_new_object();

		json_object_object_add(h, "hostapi", json_object_new_int(err->host_api));
		json_object_object_add(h, "code", json_object_new_int64(err->host_error));
		json_object_object_add(h, "text", new_text(err->host_error_text));
		json_object_object_add(e, "host_error", h);
	}
	if (err->details) {
		json_object_object_foreach(err->details, key, val)
			json_object_object_add(e, key, json_object_get(val));
	}
	json_object_object_add(obj, "error", e);
	e = NULL;
	line = proto_format_line(obj, ret_len);
out:
	json_object_put(e);
	json_object_put(obj);
	return line;
}

char *proto_format_event(const char *event, json_object *fields, size_t *ret_len)
{
	json_object *obj = json_object_new_object();
	char *line;

	if (!obj) {
		json_object_put(fields);
		return NULL;
	}
	json_object_object_add(obj, "event", json_object_new_string(event));
	if (fields) {
		json_object_object_foreach(fields, key, val)
			json_object_object_add(obj, key, json_object_get(val));
		json_object_put(fields);
	}
	line = proto_format_line(obj, ret_len);
	json_object_put(obj);
	return line;
}
