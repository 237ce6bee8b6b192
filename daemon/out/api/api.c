/*
 * api.c - the HTTP server: listener, request limits, the token, routing,
 * and the reply helpers the handlers share.
 *
 * Order of checks for every request, so that a refused request costs
 * little and reveals nothing: method (405), length of path and query
 * string (414), then /healthz, then the token for /api/ and /metrics
 * (401, before any 404 there: without the token nobody learns which
 * endpoints exist), then the query string (400), then the handler.
 * Everything else is a static file of the dashboard.
 *
 * Nothing here logs a request: a request line can carry anything, and
 * the peer's address must not reach a log.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "out/api/api.h"
#include "out/api/api_int.h"
#include "out/api/api_static.h"
#include "common/log.h"
#include "common/period.h"
#include "release/released.h"

/* Request line and headers together; evhttp refuses beyond it. */
#define API_MAX_HEADERS		16384
/* GET requests have no business sending a body. */
#define API_MAX_BODY		1024
#define API_MAX_QUERY		2048
#define API_MAX_PATH		512
#define API_TIMEOUT_SEC		10
#define API_CACHE_ENTRIES	64
#define API_CACHE_BYTES		(8u << 20)
#define JSON_TYPE		"application/json; charset=utf-8"
#define API_ALL_METHODS							\
	(EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |		\
	EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |	\
	EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH)

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

/* --- the release database ---------------------------------------------- */

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v;
	return h * 0x100000001b3ULL;
}

int64_t
api_rel_version(struct api *a)
{
	char wal[CONFIG_PATH_MAX + 8];
	struct stat sb;
	uint64_t h = 0xcbf29ce484222325ULL;

	if (stat(a->relpath, &sb) != 0)
		return -1;
	h = mix(mix(mix(h, (uint64_t)sb.st_ino), (uint64_t)sb.st_size),
	    (uint64_t)sb.st_mtim.tv_sec * 1000000000ULL +
	    (uint64_t)sb.st_mtim.tv_nsec);
	snprintf(wal, sizeof(wal), "%s-wal", a->relpath);
	if (stat(wal, &sb) == 0)
		h = mix(mix(h, (uint64_t)sb.st_size),
		    (uint64_t)sb.st_mtim.tv_sec * 1000000000ULL +
		    (uint64_t)sb.st_mtim.tv_nsec);
	return (int64_t)(h >> 1);
}

struct released *
api_rel_get(struct api *a)
{
	char err[512];
	struct stat sb;

	if (stat(a->relpath, &sb) != 0) {
		/* nothing released yet, or the file went away */
		released_close(a->rel);
		a->rel = NULL;
		return NULL;
	}
	if (a->rel != NULL && (uint64_t)sb.st_ino == a->rel_ino)
		return a->rel;
	released_close(a->rel);
	if ((a->rel = released_open(a->relpath, err, sizeof(err))) == NULL) {
		log_warnx("api: %s", err);
		return NULL;
	}
	a->rel_ino = (uint64_t)sb.st_ino;
	return a->rel;
}

struct released *
api_rel(struct api_call *c)
{
	struct released *r = api_rel_get(c->api);

	if (r == NULL)
		api_reply_error(c->req, HTTP_SERVUNAVAIL, "no release database "
		    "yet: nothing has been released");
	return r;
}

/* --- the token -------------------------------------------------------- */

/*
 * "Authorization: Bearer T" with SHA-256(T) equal to the configured
 * digest.  Comparing digests of equal length with CRYPTO_memcmp leaks
 * neither the token's length nor where a guess first differs.
 */
static int
authorised(const struct api *a, struct evhttp_request *req)
{
	const char *h = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Authorization");
	unsigned char got[32];
	unsigned dlen = sizeof(got);
	size_t n;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	while (*h == ' ')
		h++;
	n = strlen(h);
	while (n > 0 && h[n - 1] == ' ')
		n--;
	if (n == 0 || n > CONFIG_TOKEN_MAX ||
	    EVP_Digest(h, n, got, &dlen, EVP_sha256(), NULL) != 1)
		return 0;
	return CRYPTO_memcmp(got, a->cfg->api.token_sha256, sizeof(got)) == 0;
}

/* --- routing ---------------------------------------------------------- */

static const struct route {
	const char	*path;
	void		(*fn)(struct api_call *);
} routes[] = {
	{ "/api/v1/usage", api_usage },
	{ "/api/v1/periods", api_periods },
	{ "/api/v1/blind", api_blind },
	{ "/api/v1/services", api_services },
	{ "/api/v1/departments", api_departments },
	{ "/api/v1/status", api_status },
	{ "/metrics", api_metrics },
};

static int
needs_token(const char *path)
{
	return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0 ||
	    strncmp(path, "/metrics", 8) == 0;
}

static void
serve_route(struct api *a, struct evhttp_request *req,
    const struct route *r, const char *query)
{
	struct evkeyvalq params;
	struct api_call c;

	TAILQ_INIT(&params);
	if (query != NULL && evhttp_parse_query_str(query, &params) != 0) {
		evhttp_clear_headers(&params);
		api_reply_error(req, HTTP_BADREQUEST, "malformed query string");
		return;
	}
	c.api = a;
	c.req = req;
	c.params = &params;
	r->fn(&c);
	evhttp_clear_headers(&params);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct api *a = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	const char *path, *query;
	size_t i;

	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		api_reply_error(req, HTTP_BADMETHOD, "only GET and HEAD");
		return;
	}
	if (uri == NULL) {
		api_reply_error(req, HTTP_BADREQUEST, "malformed request");
		return;
	}
	path = evhttp_uri_get_path(uri);
	query = evhttp_uri_get_query(uri);
	if (path == NULL || path[0] == '\0')
		path = "/";
	if (strlen(path) > API_MAX_PATH ||
	    (query != NULL && strlen(query) > API_MAX_QUERY)) {
		api_reply_error(req, 414, "the path or query string is too "
		    "long (at most %d and %d characters)", API_MAX_PATH,
		    API_MAX_QUERY);
		return;
	}
	if (strcmp(path, "/healthz") == 0) {
		api_reply_json(req, HTTP_OK, json_pack("{s:s}", "status",
		    "ok"));
		return;
	}
	if (!a->cfg->api.enabled) {
		api_reply_error(req, HTTP_SERVUNAVAIL, "the API is disabled in "
		    "the configuration");
		return;
	}
	if (needs_token(path)) {
		if (!authorised(a, req)) {
			evhttp_add_header(evhttp_request_get_output_headers(req),
			    "WWW-Authenticate", "Bearer realm=\"aicensus\"");
			api_reply_error(req, 401, "a valid token "
			    "is needed: Authorization: Bearer TOKEN");
			return;
		}
		for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
			if (strcmp(path, routes[i].path) == 0) {
				serve_route(a, req, &routes[i], query);
				return;
			}
		api_reply_error(req, HTTP_NOTFOUND, "no such endpoint");
		return;
	}
	api_static_serve(req, a->cfg->api.web_dir, path);
}

/* --- set-up ----------------------------------------------------------- */

static int
is_loopback(const char *host)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (inet_pton(AF_INET, host, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &v6) == 1 &&
	    IN6_IS_ADDR_LOOPBACK(&v6);
}

struct api *
api_new(struct event_base *base, const struct config *cfg,
    const char *dbpath, const struct aic_status *status, char *err,
    size_t errlen)
{
	struct api *a = calloc(1, sizeof(*a));
	struct evhttp_bound_socket *bound;
	int one = 1;

	if (a == NULL || (a->http = evhttp_new(base)) == NULL ||
	    (a->cache = api_cache_new(API_CACHE_ENTRIES,
	    API_CACHE_BYTES)) == NULL) {
		snprintf(err, errlen, "api: out of memory");
		if (a != NULL && a->http != NULL)
			evhttp_free(a->http);
		free(a);
		return NULL;
	}
	a->base = base;
	a->cfg = cfg;
	a->st = status;
	/* outputs read the release database only (not dbpath, the vault) */
	(void)dbpath;
	snprintf(a->relpath, sizeof(a->relpath), "%s", cfg->release_database);
	snprintf(a->listen, sizeof(a->listen), "%s", cfg->api.listen);
	evhttp_set_max_headers_size(a->http, API_MAX_HEADERS);
	evhttp_set_max_body_size(a->http, API_MAX_BODY);
	evhttp_set_timeout(a->http, API_TIMEOUT_SEC);
	/* every method reaches on_request, which answers 405 in JSON */
	evhttp_set_allowed_methods(a->http, API_ALL_METHODS);
	evhttp_set_gencb(a->http, on_request, a);
	if ((bound = evhttp_bind_socket_with_handle(a->http, cfg->api.host,
	    (ev_uint16_t)cfg->api.port)) == NULL) {
		snprintf(err, errlen, "api: cannot listen on %s: %s — another "
		    "program may use the port; change api.listen",
		    cfg->api.listen, strerror(errno));
		evhttp_free(a->http);
		api_cache_free(a->cache);
		free(a);
		return NULL;
	}
	/*
	 * Accepted sockets inherit it: without, an answer written in two
	 * pieces waits for the client's delayed ACK (40 ms per request).
	 */
	if (setsockopt(evhttp_bound_socket_get_fd(bound), IPPROTO_TCP,
	    TCP_NODELAY, &one, sizeof(one)) != 0)
		log_warn("api: TCP_NODELAY");
	if (access(cfg->api.web_dir, R_OK | X_OK) != 0)
		log_warnx("api: web_dir %s: %s; the dashboard is not served "
		    "(the API is)", cfg->api.web_dir, strerror(errno));
	if (!is_loopback(cfg->api.host))
		log_warnx("api: listening on %s, not loopback: without TLS the "
		    "token crosses the network in clear", cfg->api.listen);
	log_info("api: listening on http://%s/", cfg->api.listen);
	return a;
}

void
api_set_config(struct api *a, const struct config *cfg)
{
	if (a == NULL)
		return;
	if (strcmp(cfg->api.listen, a->listen) != 0)
		log_warnx("reload: api.listen %s takes effect at restart; still "
		    "listening on %s", cfg->api.listen, a->listen);
	if (!cfg->api.enabled)
		log_warnx("reload: the API is disabled; it answers 503 until "
		    "the restart closes it");
	a->cfg = cfg;
	if (strcmp(cfg->release_database, a->relpath) != 0) {
		snprintf(a->relpath, sizeof(a->relpath), "%s",
		    cfg->release_database);
		released_close(a->rel);		/* reopened on first use */
		a->rel = NULL;
	}
	/* labels (departments) come from it */
	api_cache_clear(a->cache);
}

void
api_free(struct api *a)
{
	if (a == NULL)
		return;
	evhttp_free(a->http);
	released_close(a->rel);
	api_cache_free(a->cache);
	free(a);
}
