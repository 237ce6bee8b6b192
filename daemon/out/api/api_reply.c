/*
 * api_reply.c - how every answer of the API leaves: headers, HEAD
 * without a body, JSON errors with scrubbed text, the answers kept per
 * release, and the check of a handler's parameters.  A leaf: it knows
 * the request, the answer cache and nothing of the routes, so handlers
 * and the router both use it and it uses neither.
 */
#include <sys/queue.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "out/api/api_cache.h"
#include "out/api/api_int.h"
#include "out/api/api_reply.h"

#define JSON_TYPE		"application/json; charset=utf-8"

/* --- replies ---------------------------------------------------------- */

static const char *
reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 414: return "URI Too Long";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

/*
 * evhttp 2.1 sends whatever body it is given, also to a HEAD request:
 * a HEAD answer gets the GET answer's headers and length, no body.
 */
void
api_send(struct evhttp_request *req, int code, const char *why,
    struct evbuffer *body)
{
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		char len[32];

		snprintf(len, sizeof(len), "%zu",
		    body != NULL ? evbuffer_get_length(body) : (size_t)0);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Length", len);
		evhttp_send_reply(req, code, why, NULL);
		return;
	}
	evhttp_send_reply(req, code, why, body);
}

void
api_reply_text(struct evhttp_request *req, int code, const char *type,
    const char *text, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *body = evbuffer_new();

	evhttp_add_header(h, "Content-Type", type);
	/* answers are about the organisation: no cache may keep them */
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	if (body != NULL && evbuffer_add(body, text, len) != 0) {
		evbuffer_free(body);
		body = NULL;
	}
	api_send(req, body != NULL ? code : HTTP_INTERNAL,
	    reason(body != NULL ? code : HTTP_INTERNAL), body);
	if (body != NULL)
		evbuffer_free(body);
}

void
api_reply_json(struct evhttp_request *req, int code, json_t *root)
{
	char *text = root != NULL ? json_dumps(root, JSON_COMPACT) : NULL;

	json_decref(root);
	if (text == NULL) {
		static const char oom[] = "{\"error\":{\"status\":500,"
		    "\"message\":\"out of memory\"}}";

		api_reply_text(req, HTTP_INTERNAL, JSON_TYPE, oom,
		    sizeof(oom) - 1);
		return;
	}
	api_reply_text(req, code, JSON_TYPE, text, strlen(text));
	free(text);
}

int
api_cache_send(struct api_call *c, int64_t version)
{
	const char *body;
	size_t len;

	if (version < 0 || (body = api_cache_get(c->api->cache,
	    evhttp_request_get_uri(c->req), version, &len)) == NULL)
		return 0;
	api_reply_text(c->req, HTTP_OK, JSON_TYPE, body, len);
	return 1;
}

void
api_reply_json_keep(struct api_call *c, json_t *root, int64_t version)
{
	char *text = json_dumps(root, JSON_COMPACT);

	if (text == NULL) {
		api_reply_json(c->req, HTTP_OK, root);
		return;
	}
	json_decref(root);
	if (version >= 0)
		api_cache_put(c->api->cache, evhttp_request_get_uri(c->req),
		    version, text, strlen(text));
	api_reply_text(c->req, HTTP_OK, JSON_TYPE, text, strlen(text));
	free(text);
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t
utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (p[1] < lo || p[1] > hi)	/* a NUL ends it here too */
		return 0;
	for (i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * In place: every byte that is not part of well-formed UTF-8, and every
 * control character, becomes '?' (jansson refuses the rest, and the
 * client would get a 500 instead of its 400).
 */
static void
utf8_scrub(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n;

	while (*p != '\0') {
		if (*p < 0x80) {
			if (*p < 0x20 || *p == 0x7f)
				*p = '?';
			p++;
		} else if ((n = utf8_len(p)) == 0)
			*p++ = '?';
		else
			p += n;
	}
}

void
api_reply_error(struct evhttp_request *req, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	utf8_scrub(msg);	/* it may echo request bytes; JSON needs UTF-8 */
	api_reply_json(req, code, json_pack("{s:{s:i,s:s}}", "error",
	    "status", code, "message", msg));
}

/* --- parameters ------------------------------------------------------- */

int
api_params_check(struct api_call *c, const char *const *allowed)
{
	const struct evkeyval *kv, *k2;
	const char *const *a;

	TAILQ_FOREACH(kv, c->params, next) {
		for (a = allowed; *a != NULL; a++)
			if (strcmp(kv->key, *a) == 0)
				break;
		if (*a == NULL) {
			api_reply_error(c->req, HTTP_BADREQUEST, "unknown "
			    "parameter '%.64s'", kv->key);
			return -1;
		}
		for (k2 = TAILQ_NEXT(kv, next); k2; k2 = TAILQ_NEXT(k2, next))
			if (strcmp(kv->key, k2->key) == 0) {
				api_reply_error(c->req, HTTP_BADREQUEST,
				    "parameter '%s' given twice", kv->key);
				return -1;
			}
	}
	return 0;
}
