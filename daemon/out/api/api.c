/*
 * api.c - the HTTP server: listener, request limits, the token, and the
 * one route table.  Handlers (api_routes.h) answer through api_reply.h;
 * none of them calls back here.
 *
 * Order of checks for every request, so that a refused request costs
 * little and reveals nothing: method (405), length of path and query
 * string (414), then /healthz, then the token for /api/ and /metrics
 * (401, before any 404 there: without the token nobody learns which
 * endpoints exist), then the query string (400), then the handler.
 * Everything else is the route of the dashboard's static files.
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
#include "out/api/api_cache.h"
#include "out/api/api_int.h"
#include "out/api/api_rel.h"
#include "out/api/api_reply.h"
#include "out/api/api_routes.h"
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
#define API_ALL_METHODS							\
	(EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |		\
	EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |	\
	EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH)

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

#define RT_OPEN		0x1	/* no token; answered when disabled too */
#define RT_QUERY	0x2	/* the query string is parsed for it */

/*
 * Every answer but the refusals above is one of these.  Exact paths
 * first; the last route (no path) is every other path outside /api/
 * and /metrics: the dashboard's files, which carry no data and load
 * without the token so the page can ask for it.  Every route without
 * RT_OPEN lies under /api/ or /metrics, or is that last one.
 */
static const struct route {
	const char	*path;		/* NULL: any other path */
	int		 flags;
	void		(*fn)(struct api_call *);
} routes[] = {
	{ "/healthz", RT_OPEN, api_healthz },
	{ "/api/v1/usage", RT_QUERY, api_usage },
	{ "/api/v1/periods", RT_QUERY, api_periods },
	{ "/api/v1/blind", RT_QUERY, api_blind },
	{ "/api/v1/services", RT_QUERY, api_services },
	{ "/api/v1/departments", RT_QUERY, api_departments },
	{ "/api/v1/status", RT_QUERY, api_status },
	{ "/api/v1/sites", RT_QUERY, api_sites },
	{ "/metrics", RT_QUERY, api_metrics },
	{ NULL, 0, api_files },
};

static int
needs_token(const char *path)
{
	return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0 ||
	    strncmp(path, "/metrics", 8) == 0;
}

/* The route of path; NULL for an unknown path that needs the token. */
static const struct route *
route_find(const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].path != NULL ?
		    strcmp(path, routes[i].path) == 0 : !needs_token(path))
			return &routes[i];
	return NULL;
}

static void
serve_route(struct api *a, struct evhttp_request *req,
    const struct route *r, const char *path, const char *query)
{
	struct evkeyvalq params;
	struct api_call c;

	TAILQ_INIT(&params);
	if ((r->flags & RT_QUERY) && query != NULL &&
	    evhttp_parse_query_str(query, &params) != 0) {
		evhttp_clear_headers(&params);
		api_reply_error(req, HTTP_BADREQUEST, "malformed query string");
		return;
	}
	c.api = a;
	c.req = req;
	c.path = path;
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
	const struct route *r;
	const char *path, *query;

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
	r = route_find(path);
	if (r == NULL || !(r->flags & RT_OPEN)) {
		if (!a->cfg->api.enabled) {
			api_reply_error(req, HTTP_SERVUNAVAIL, "the API is "
			    "disabled in the configuration");
			return;
		}
		if (needs_token(path) && !authorised(a, req)) {
			evhttp_add_header(evhttp_request_get_output_headers(req),
			    "WWW-Authenticate", "Bearer realm=\"aicensus\"");
			api_reply_error(req, 401, "a valid token "
			    "is needed: Authorization: Bearer TOKEN");
			return;
		}
		if (r == NULL) {
			api_reply_error(req, HTTP_NOTFOUND, "no such endpoint");
			return;
		}
	}
	serve_route(a, req, r, path, query);
}

/* --- set-up ----------------------------------------------------------- */

int
api_listen_loopback(const struct config *cfg)
{
	const char *host = cfg->api.host;
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
	if (api_rel_init(a, cfg, err, errlen) != 0) {
		api_free(a);
		return NULL;
	}
	if (!api_listen_loopback(cfg))
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
	if (cfg->api.source != a->source)
		log_warnx("reload: api.source %s takes effect at restart; still "
		    "reading the %s release", cfg->api.source ==
		    CONFIG_API_CENTRAL ? "central" : "local", api_rel_source(a));
	a->cfg = cfg;
	if (a->central == NULL &&
	    strcmp(cfg->release_database, a->relpath) != 0) {
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
	api_rel_free(a);
	api_cache_free(a->cache);
	free(a);
}
