/*
 * The JSON line protocol spoken between sddaemon and its clients.
 *
 * Every message is one JSON object on one line (UTF-8, terminated by a
 * newline).  A request carries "id" and "cmd"; the reply echoes "id" with
 * "ok": true and a "result", or "ok": false and an "error" object.  Messages
 * pushed by the daemon carry "event" and no "id".  protocol/PROTOCOL.md is
 * the reference; this header holds what both sides share: limits, error
 * codes, request parsing and message formatting.  Nothing here keeps state,
 * so any thread may call any function on its own objects.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* The protocol version this code speaks; "hello" negotiates it. */
#define PROTO_VERSION 1

/* The longest line, in bytes, including its terminating newline. */
#define PROTO_MAX_LINE (64 * 1024)

/* The deepest nesting of arrays and objects a request may use. */
#define PROTO_MAX_DEPTH 16

/* The longest string id a request may carry, in bytes. */
#define PROTO_MAX_ID 128

/* Symbolic error codes; PROTOCOL.md describes when each is used. */
enum proto_errcode {
	PROTO_E_NONE = 0,
	PROTO_E_PARSE,
	PROTO_E_INVALID_REQUEST,
	PROTO_E_LINE_TOO_LONG,
	PROTO_E_UNKNOWN_COMMAND,
	PROTO_E_INVALID_PARAM,
	PROTO_E_UNSUPPORTED_PROTOCOL,
	PROTO_E_DEVICE_NOT_FOUND,
	PROTO_E_DEVICE_AMBIGUOUS,
	PROTO_E_NOT_SUPPORTED,
	PROTO_E_PORTAUDIO,
	PROTO_E_NO_SUCH_STREAM,
	PROTO_E_LIMIT,
	PROTO_E_ACCESS_DENIED,
	PROTO_E_BUSY,
	PROTO_E_SHUTTING_DOWN,
	PROTO_E_INTERNAL,
	PROTO_E_TIMEOUT,
	PROTO_E_STALE_GENERATION,
	PROTO_E_COUNT_,
};

/*
 * An error as it travels in a reply.  pa_error is the PortAudio error code
 * that caused it (0 when none did); the host fields are set when PortAudio
 * reported paUnanticipatedHostError.  details, when not NULL, is an object
 * whose members are added to the error object (for example the candidate
 * devices of an ambiguous query); the error owns it.
 */
struct proto_error {
	enum proto_errcode code;
	char message[1024];
	int pa_error;
	char pa_error_text[128];
	bool has_host_error;
	int host_api;
	long host_error;
	char host_error_text[256];
	json_object *details;
};

/* Returns the symbolic name of code, such as "invalid_param". */
const char *proto_errcode_name(enum proto_errcode code);

/* Returns the code named name, or PROTO_E_NONE when there is none. */
enum proto_errcode proto_errcode_from_name(const char *name);

/* Resets err to "no error", freeing its details. */
void proto_error_clear(struct proto_error *err);

/* Sets code and a printf-style message on err and returns -EINVAL. */
__attribute__((format(printf, 3, 4))) int proto_error_set(struct proto_error *err,
							  enum proto_errcode code,
							  const char *fmt, ...);

/* Like proto_error_set() with a va_list. */
__attribute__((format(printf, 3, 0))) int proto_error_setv(struct proto_error *err,
							      enum proto_errcode code,
							      const char *fmt, va_list ap);

/*
 * A parsed request.  root owns the whole object; id and cmd point into it.
 * id is NULL when the request had none (or it was unusable).
 */
struct proto_request {
	json_object *root;
	json_object *id;
	const char *cmd;
};

/*
 * Parses one line (without its newline) into req.  Returns 0 on success.
 * On failure returns -EINVAL and fills err; req->id is still set when the
 * line was an object with a usable id, so the error reply can echo it.
 * Either way the caller releases req with proto_request_clear().
 */
int proto_parse_request(const char *line, size_t len, struct proto_request *req,
			struct proto_error *err);

/* Releases what req holds; req may be zeroed or already cleared. */
void proto_request_clear(struct proto_request *req);

/*
 * Checks that req has no members besides "id", "cmd", "generation" (which
 * any request may carry) and those in the NULL-terminated list allowed.
 * Returns 0, or -EINVAL with err set.
 */
int proto_check_params(const struct proto_request *req, const char *const *allowed,
		       struct proto_error *err);

/*
 * Formats a message as a newline-terminated line in a malloc'd buffer and
 * stores its length (newline included) in ret_len.  Returns NULL when out
 * of memory.  The _ok and _event forms take ownership of their object
 * argument; id is only borrowed.
 */
char *proto_format_ok(json_object *id, json_object *result, size_t *ret_len);
/* A success reply that also carries the device list's generation (omitted when negative). */
char *proto_format_reply(json_object *id, json_object *result, int64_t generation,
			 size_t *ret_len);
char *proto_format_error(json_object *id, const struct proto_error *err, size_t *ret_len);
char *proto_format_event(const char *event, json_object *fields, size_t *ret_len);

/* Formats any object as a line; borrows obj. */
char *proto_format_line(json_object *obj, size_t *ret_len);
