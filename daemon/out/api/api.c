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
 *
 * Under load (see "connections" below): at most api.max_connections
 * are open at once, a connection beyond is answered 503 and closed at
 * once, and each must deliver a whole request within
 * API_DEADLINE_SEC, however slowly its bytes trickle in.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/queue.h>
#include <sys/resource.h>
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
#include <event2/bufferevent.h>
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
/* evhttp's: the longest wait for any one read or write */
#define API_TIMEOUT_SEC		10
/* ours: for a whole request, from the accept or the request before */
#define API_DEADLINE_SEC	10
/*
 * Descriptors the daemon holds besides the API's connections: stdio,
 * the log, capture handles, the event loop, the vault, the release
 * database (twice: the release stage and the API) with their -wal and
 * -shm, the listener, a key or catalog being read.  15 with one capture
 * handle (tests/e2e/api_limits.sh counts them); this leaves room for
 * more.  Each connection holds its socket; it is counted twice for
 * what is opened while answering (a dashboard file, read whole and
 * closed; the release database, reopened after a release).
 */
#define API_FD_RESERVE		64
#define API_FD_PER_CONN		2
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

/* --- connections ------------------------------------------------------ */

/*
 * evhttp (libevent 2.1, Debian 12) has no cap on connections and only
 * per-read timeouts (evhttp_set_timeout: each read or write waits at
 * most that long, so a client sending one byte every few seconds holds
 * its connection forever).  evhttp_set_max_connections and a hook at
 * accept that names the connection (evhttp_set_newreqcb) came after
 * 2.1.12, so both are built from what 2.1 has:
 *  - evhttp_set_bevcb: evhttp asks us for every accepted connection's
 *    bufferevent.  We make it, take a reference (so it outlives an
 *    evhttp that gives the connection up at once) and activate the
 *    connection's timer, which runs right after the accept callback,
 *    before any byte of the connection is read;
 *  - that first run "adopts" it: evhttp has set itself as the
 *    bufferevent's callback argument, i.e. the connection; we register
 *    a close callback (every end of the connection passes there) and
 *    either refuse the connection beyond the cap or count it and arm
 *    the deadline.  Only adopted connections count, so of a burst
 *    accepted at once the first ones get the free places;
 *  - each request re-arms the deadline; when it fires the connection
 *    is freed.
 */
struct api_conn {
	LIST_ENTRY(api_conn)		 entry;
	struct api			*api;
	struct bufferevent		*bev;	/* until adopted */
	struct evhttp_connection	*evcon;	/* once adopted */
	struct event			*timer;
	int				 counted;	/* in api->nconns */
};

#define REFUSAL_BODY	"{\"error\":{\"status\":503,\"message\":\"too many " \
	"connections (api.max_connections); try again\"}}\n"

/* The cap in force: the configured one, within what the fds allow. */
static int
conn_cap(const struct api *a)
{
	return a->cfg->api.max_connections < a->fd_cap ?
	    a->cfg->api.max_connections : a->fd_cap;
}

static void
conn_drop(struct api_conn *c)
{
	LIST_REMOVE(c, entry);
	if (c->counted)
		c->api->nconns--;
	event_free(c->timer);
	free(c);
}

/* evhttp frees the connection, for whatever reason. */
static void
on_conn_close(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	conn_drop(arg);
}

/*
 * Best effort: the client learns why before the close.  What it has
 * sent already is read away first, or the close would reset the
 * connection and the client might never see the answer.
 */
static void
refuse(int fd)
{
	char buf[2048];
	int n;

	if (fd < 0)
		return;
	(void)recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	n = snprintf(buf, sizeof(buf), "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: %zu\r\nRetry-After: %d\r\n"
	    "Connection: close\r\n\r\n%s", sizeof(REFUSAL_BODY) - 1,
	    API_DEADLINE_SEC, REFUSAL_BODY);
	if (n > 0 && (size_t)n < sizeof(buf))
		(void)send(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void
adopt(struct api_conn *c)
{
	struct api *a = c->api;
	struct bufferevent *bev = c->bev;
	struct timeval tv = { API_DEADLINE_SEC, 0 };
	bufferevent_data_cb rd;
	void *evcon;

	c->bev = NULL;
	bufferevent_getcb(bev, &rd, NULL, NULL, &evcon);
	if (rd == NULL || evcon == NULL) {
		/* evhttp gave the connection up already (out of memory) */
		conn_drop(c);
		bufferevent_decref(bev);
		return;
	}
	c->evcon = evcon;
	evhttp_connection_set_closecb(c->evcon, on_conn_close, c);
	if (a->nconns >= conn_cap(a)) {
		a->refused++;
		refuse(bufferevent_getfd(bev));
		bufferevent_decref(bev);
		evhttp_connection_free(c->evcon);	/* frees c */
		return;
	}
	bufferevent_decref(bev);
	c->counted = 1;
	a->nconns++;
	evtimer_add(c->timer, &tv);
}

static void
on_conn_timer(evutil_socket_t fd, short what, void *arg)
{
	struct api_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->evcon == NULL) {
		adopt(c);
		return;
	}
	c->api->timed_out++;
	evhttp_connection_free(c->evcon);	/* frees c */
}

static struct bufferevent *
on_accept(struct event_base *base, void *arg)
{
	struct api *a = arg;
	struct bufferevent *bev;
	struct api_conn *c;

	/* NULL: evhttp makes one itself (and likely fails too) */
	if ((bev = bufferevent_socket_new(base, -1, 0)) == NULL)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->timer = evtimer_new(base, on_conn_timer, c)) == NULL) {
		free(c);
		bufferevent_free(bev);
		return NULL;
	}
	c->api = a;
	c->bev = bev;
	bufferevent_incref(bev);
	LIST_INSERT_HEAD(&a->conns, c, entry);
	/* the first priority: adopted before any read, should the loop
	 * ever use priorities */
	event_priority_set(c->timer, 0);
	event_active(c->timer, EV_TIMEOUT, 1);
	return bev;
}

/* A whole request came: the next must come within the deadline. */
static void
conn_request(struct api *a, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct timeval tv = { API_DEADLINE_SEC, 0 };
	struct api_conn *c;

	LIST_FOREACH(c, &a->conns, entry)
		if (c->evcon == evcon) {
			evtimer_add(c->timer, &tv);
			return;
		}
}

/* How many connections the descriptor limit leaves room for. */
static int
fd_cap(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > API_FD_RESERVE + API_FD_PER_CONN * 1024)
		return 1024;
	if (rl.rlim_cur < API_FD_RESERVE + API_FD_PER_CONN)
		return 1;
	return (int)((rl.rlim_cur - API_FD_RESERVE) / API_FD_PER_CONN);
}

static void
check_cap(const struct api *a, const char *when)
{
	if (a->cfg->api.max_connections > a->fd_cap)
		log_warnx("%sapi.max_connections = %d needs %d file descriptors "
		    "(%d each and %d for the rest); the limit (LimitNOFILE, "
		    "ulimit -n) allows %d connections, which is the cap",
		    when, a->cfg->api.max_connections, API_FD_RESERVE +
		    API_FD_PER_CONN * a->cfg->api.max_connections,
		    API_FD_PER_CONN, API_FD_RESERVE, a->fd_cap);
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

	conn_request(a, req);
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
	LIST_INIT(&a->conns);
	a->fd_cap = fd_cap();
	check_cap(a, "");
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
	evhttp_set_bevcb(a->http, on_accept, a);
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
	check_cap(a, "reload: ");
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
	struct api_conn *c;

	if (a == NULL)
		return;
	evhttp_free(a->http);		/* the adopted ones: on_conn_close */
	while ((c = LIST_FIRST(&a->conns)) != NULL) {
		if (c->bev != NULL)
			bufferevent_decref(c->bev);
		conn_drop(c);
	}
	api_rel_free(a);
	api_cache_free(a->cache);
	free(a);
}
