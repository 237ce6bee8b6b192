/*
 * fuzz_api.c - the HTTP API's request handling (daemon/api*.c).
 *
 * Input: a flags byte, then the request target ("/api/v1/usage?by=...")
 * or, with flag bit 2, the whole request as sent on the wire.
 *  bit 3 set  pure mode, no server: the path through
 *             api_static_resolve() against a web root holding files, a
 *             hidden file, a subdirectory and a symlink out of the root;
 *             the query string through evhttp_parse_query_str() and each
 *             value through query_parse_when().  An accepted path must
 *             name a regular file inside the root.
 *  bit 3 clear  a real request: the API (api_new) is running in this
 *             process on its own event base, with a configuration whose
 *             API is on, a release database (tests/unit/relfix.h), and the
 *             dashboard's web root above.  The request goes over a Unix
 *             socket accepted by the API's evhttp, so evhttp's parser,
 *             the routing, the token check, the parameter checks and the
 *             handlers all run; "GET <target> HTTP/1.1" with the right
 *             bearer token (flag bit 0: without it; bit 1: HEAD).  The
 *             answer must come, be HTTP, not a 5xx other than 503, and
 *             never hold the token.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <time.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/sha.h>

#include "fuzz_tmp.h"
#include "aggregate/agg.h"
#include "out/api/api.h"
#include "out/api/api_int.h"
#include "out/api/api_static.h"
#include "detect/catalog.h"
#include "common/config.h"
#include "common/log.h"
#include "common/period.h"
#include "out/query.h"
#include "relfix.h"
#include "common/status.h"

#define API_TOKEN	"fuzz-token-5b1f0c9e2d7a4e8f"

/*
 * Bugs this target found, fixed, and asserted against below: an error
 * message echoing request bytes that are not UTF-8 made the answer a 500
 * (api.c now scrubs them); a HEAD request got the body too (api_send);
 * query_parse_range() took " -6-11-16" and gave from > to (query.c, v1).
 */

static struct event_base	*fa_base;
static struct api		*fa_srv;
static struct config		 fa_cfg, *fa_loaded;
static struct catalog		*fa_cat;
static int			 fa_debug;
static struct aic_status	 fa_st;
static char			 fa_dir[256], fa_sock[108], fa_web[512];
static char			 fa_rroot[PATH_MAX];

int FUZZ_INIT(api)(int *argc, char ***argv);
static void fa_cleanup(void);
int FUZZ_ONE(api)(const uint8_t *data, size_t size);

/* dir/name into out; a path that does not fit is a set-up failure. */
static void
fa_join(char *out, size_t len, const char *dir, const char *name)
{
	if (snprintf(out, len, "%s/%s", dir, name) >= (int)len) {
		fprintf(stderr, "fuzz_api: path too long: %s/%s\n", dir, name);
		abort();
	}
}

static void
fa_file(const char *dir, const char *name, const char *text)
{
	char path[1024];

	fa_join(path, sizeof(path), dir, name);
	tmp_write_abs(path, text);
}

/* The web root: files of every served type, and what must never be. */
static void
fa_webroot(const char *dir)
{
	char sub[1024], link[1024];

	fa_join(fa_web, sizeof(fa_web), dir, "web");
	fa_join(sub, sizeof(sub), dir, "web/js");
	fa_join(link, sizeof(link), dir, "web/out");
	if (mkdir(fa_web, 0700) != 0 || mkdir(sub, 0700) != 0 ||
	    symlink("/etc", link) != 0)
		abort();
	fa_file(fa_web, "index.html", "<!doctype html><title>x</title>");
	fa_file(fa_web, "app.css", "body{}");
	fa_file(fa_web, ".hidden.html", "secret");
	fa_file(fa_web, "x.bin", "binary");
	fa_file(sub, "app.js", "'use strict';");
	fa_file(sub, "index.html", "<p>js</p>");
	if (realpath(fa_web, fa_rroot) == NULL)
		abort();
}

/* The release database next to the database (what the API reads). */
static void
fa_database(const char *dir)
{
	char path[512];

	fa_join(path, sizeof(path), dir, "released.db");
	if (relfix_write(path) != 0)
		abort();
}

static void
fa_listener(void)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	fa_join(sun.sun_path, sizeof(sun.sun_path), fa_dir, "api.sock");
	memcpy(fa_sock, sun.sun_path, sizeof(fa_sock));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(fd, 16) != 0 || evhttp_accept_socket(fa_srv->http, fd) != 0) {
		perror("fuzz_api: unix listener");
		abort();
	}
}

int
FUZZ_INIT(api)(int *argc, char ***argv)
{
	struct cfgerr e;
	char conf[512], tok[512], db[512], err[256];
	const char *dir = fa_dir;

	(void)argc;
	(void)argv;
	if (fa_srv != NULL)
		return 0;
	log_init("fuzz", 0, LOG_LVL_ERROR);
	tmp_make(fa_dir, sizeof(fa_dir));
	atexit(fa_cleanup);
	fa_webroot(dir);
	snprintf(tok, sizeof(tok), "%s/api.token", dir);
	tmp_write_abs(tok, API_TOKEN "\n");
	chmod(tok, 0600);
	snprintf(db, sizeof(db), "%s/aicensus.db", dir);
	snprintf(conf, sizeof(conf), "%s/api.conf", dir);
	{
		char text[8 * PATH_MAX];

		if (snprintf(text, sizeof(text),
		    "aicensus: {\n user = \"\";\n timezone = \"UTC\";\n"
		    " catalog = \"%s/config/catalog.conf\";\n"
		    " database = \"%s\";\n"
		    " departments = ( { name = \"Finance\"; prefixes = "
		    "[ \"10.10.0.0/16\" ]; }, { name = \"Sales\"; prefixes = "
		    "[ \"10.30.0.0/16\" ]; } );\n"
		    " sanctioned = [ \"openai-chatgpt\" ];\n"
		    " api = { listen = \"127.0.0.1:1\"; token_file = \"%s\";"
		    " web_dir = \"%s\"; };\n};\n", fuzz_srcdir(), db, tok,
		    fa_web) >= (int)sizeof(text))
			abort();
		tmp_write_abs(conf, text);
	}
	memset(&e, 0, sizeof(e));
	if ((fa_loaded = config_load(conf, &e)) == NULL ||
	    (fa_cat = catalog_load(fa_loaded->catalog, &e)) == NULL) {
		fprintf(stderr, "fuzz_api: %s:%d: %s\n", e.file, e.line, e.msg);
		abort();
	}
	fa_database(dir);
	fa_debug = getenv("FUZZ_DEBUG") != NULL;
	/* the configured port is a placeholder: bind an ephemeral one */
	fa_cfg = *fa_loaded;
	fa_cfg.api.port = 0;
	fa_st.start_time = (int64_t)time(NULL);
	fa_st.capturing = 1;
	if ((fa_base = event_base_new()) == NULL ||
	    (fa_srv = api_new(fa_base, &fa_cfg, db, &fa_st, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_api: %s\n", err);
		abort();
	}
	fa_listener();
	return 0;
}

/* At exit: the server, then its directory. */
static void
fa_cleanup(void)
{
	api_free(fa_srv);
	fa_srv = NULL;
	if (fa_base != NULL)
		event_base_free(fa_base);
	fa_base = NULL;
	catalog_free(fa_cat);
	config_free(fa_loaded);
	if (fa_dir[0] != '\0')
		tmp_rmtree(fa_dir);
	fa_dir[0] = '\0';
}

/* No server: the path and the query string through the pure parsers. */
static void
fa_pure(const char *target)
{
	struct evhttp_uri *u;
	struct evkeyvalq q;
	struct evkeyval *kv;
	const char *path, *query;
	char out[PATH_MAX];
	int32_t from, to;
	char err[256];
	size_t n;

	(void)api_static_type(target);
	u = evhttp_uri_parse_with_flags(target, EVHTTP_URI_NONCONFORMANT);
	if (u == NULL)
		return;
	path = evhttp_uri_get_path(u);
	query = evhttp_uri_get_query(u);
	if (path != NULL && api_static_resolve(fa_web, path, out,
	    sizeof(out)) == 0) {
		struct stat sb;

		n = strlen(fa_rroot);
		FUZZ_ASSERT(strncmp(out, fa_rroot, n) == 0 && out[n] == '/');
		FUZZ_ASSERT(strstr(out + n, "/.") == NULL);
		FUZZ_ASSERT(stat(out, &sb) == 0 && S_ISREG(sb.st_mode));
		FUZZ_ASSERT(api_static_type(out) != NULL);
	}
	TAILQ_INIT(&q);
	if (query != NULL && evhttp_parse_query_str(query, &q) == 0)
		TAILQ_FOREACH(kv, &q, next)
			if (query_parse_when(kv->value, 0, 1, &from, err,
			    sizeof(err)) == 0 && query_parse_when(kv->value,
			    1, 1, &to, err, sizeof(err)) == 0) {
				/* a date or week: its first day, its last;
				 * an epoch midnight: the day, the one before */
				FUZZ_ASSERT(from >= 19691231 && to >= 19691231);
				FUZZ_ASSERT(from <= to ||
				    period_day_week(from) >= period_day_week(to));
			}
	evhttp_clear_headers(&q);
	evhttp_uri_free(u);
}

static double
fa_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Send req to the API over the Unix socket; the answer into resp. */
static size_t
fa_roundtrip(const uint8_t *req, size_t len, char *resp, size_t max)
{
	struct sockaddr_un sun;
	size_t got = 0, sent = 0;
	double t0 = fa_now();
	int fd, eof = 0, shut = 0;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, fa_sock, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		perror("fuzz_api: connect");
		abort();
	}
	while (!eof) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t n;

		if (sent < len) {
			n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN)
				sent = len;	/* the server hung up */
		}
		if (sent == len && !shut) {
			shutdown(fd, SHUT_WR);
			shut = 1;
		}
		event_base_loop(fa_base, EVLOOP_NONBLOCK);
		if (poll(&pfd, 1, 1) == 1) {
			char sink[4096];
			char *dst = got < max ? resp + got : sink;
			size_t room = got < max ? max - got : sizeof(sink);

			n = recv(fd, dst, room, 0);
			if (n > 0)
				got += got < max ? (size_t)n : 0;
			else if (n == 0 || errno != EAGAIN)
				eof = 1;
		}
		if (fa_now() - t0 > 5) {
			fprintf(stderr, "fuzz_api: no answer within 5 s\n");
			FUZZ_ASSERT(!"the API answers");
		}
	}
	close(fd);
	/* let the server side finish with the connection */
	event_base_loop(fa_base, EVLOOP_NONBLOCK);
	return got;
}

int
FUZZ_ONE(api)(const uint8_t *data, size_t size)
{
	static char req[8192], resp[1 << 16];
	char target[4096 + 1];
	size_t n, len, tl;
	uint8_t flags;
	int code;

	if (size < 1)
		return 0;
	if (fa_srv == NULL)
		FUZZ_INIT(api)(NULL, NULL);
	flags = data[0];
	tl = size - 1 < sizeof(target) - 1 ? size - 1 : sizeof(target) - 1;
	memcpy(target, data + 1, tl);
	target[tl] = '\0';
	if (flags & 8) {
		fa_pure(target);
		return 0;
	}
	if (flags & 4) {
		len = size - 1 < sizeof(req) ? size - 1 : sizeof(req);
		memcpy(req, data + 1, len);
	} else {
		int w = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\n"
		    "Host: fuzz\r\n%sConnection: close\r\n\r\n",
		    (flags & 2) ? "HEAD" : "GET", target, (flags & 1) ? "" :
		    "Authorization: Bearer " API_TOKEN "\r\n");

		if (w < 0 || (size_t)w >= sizeof(req))
			return 0;
		len = (size_t)w;
	}
	n = fa_roundtrip((const uint8_t *)req, len, resp, sizeof(resp) - 1);
	resp[n] = '\0';
	if (fa_debug)
		fprintf(stderr, "--- %.200s\n%.600s\n", req, resp);
	if (n == 0)
		return 0;	/* evhttp closed without a word: bad request */
	/* evhttp answers in the client's version, "HTTP/0.1" too */
	FUZZ_ASSERT(n >= 12 && memcmp(resp, "HTTP/", 5) == 0 &&
	    strchr(resp, ' ') != NULL);
	code = atoi(strchr(resp, ' ') + 1);
	FUZZ_ASSERT(code >= 100 && code <= 599);
	/*
	 * HEAD: headers only, from every handler of ours.  A request line
	 * evhttp itself cannot parse never reaches them: its own error page
	 * ("<HTML><HEAD>...") is sent whatever the method (libevent 2.1).
	 */
	if ((flags & 6) == 2) {
		const char *end = strstr(resp, "\r\n\r\n");

		FUZZ_ASSERT(end != NULL);
		FUZZ_ASSERT(end + 4 == resp + n ||
		    strncmp(end + 4, "<HTML><HEAD>", 12) == 0);
	}
	/* 501, 505: evhttp's own answers to unknown methods and versions */
	if (code >= 500 && code != 501 && code != 503 && code != 505)
		fprintf(stderr, "fuzz_api: answer %d:\n%.2000s\n", code, resp);
	FUZZ_ASSERT(code < 500 || code == 501 || code == 503 || code == 505);
	/* the token only comes back when the request line carried it */
	if (memmem(data + 1, size - 1, API_TOKEN, sizeof(API_TOKEN) - 1) ==
	    NULL)
		FUZZ_ASSERT(memmem(resp, n, API_TOKEN,
		    sizeof(API_TOKEN) - 1) == NULL);
	return 0;
}
