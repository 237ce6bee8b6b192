/*
 * api_rel.c - the release as the API's handlers read it (api_rel.h):
 * the release database file, or the organisation's central release.
 *
 * Local: the file is opened read-only on first use and again when it
 * was replaced; its version hashes the file's and its WAL's size and
 * time.
 *
 * Central: two connections of the reader role.  One holds the read API
 * (released_of() over store/relstore_pg.h), whose scope is switched to
 * the request's site before every use: the API is single-threaded, so
 * the scope set is the scope read.  The other (store/central_read.h)
 * reads the version, count and latest released_at of the periods, at
 * most once per second, and the sites.  The read API is opened
 * again when the version moves (a release wrote its meta, e.g. the
 * time zone, the first time) and after a failure; a database that does
 * not answer is tried again after CENTRAL_RETRY_SEC, one log line per
 * outage, so that a dead server does not hold every request for its
 * connect timeout.
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "out/api/api_int.h"
#include "out/api/api_rel.h"
#include "out/api/api_reply.h"
#include "common/log.h"
#include "release/released.h"
#include "store/central_pg.h"
#include "store/central_read.h"
#include "store/relstore_pg.h"

/* After a failure the database is not asked again before this. */
#define CENTRAL_RETRY_SEC	5

struct api_central {
	/* the central group's, with the password: wiped at the end */
	char			 conninfo[CONFIG_PATH_MAX + 1024 +
				    3 * CONFIG_CENTRAL_PASS_MAX];
	struct central		*view;		/* version and sites */
	struct relstore		*st;		/* owned by rel */
	struct released		*rel;
	int64_t			 rel_ver;	/* the version rel was opened at */
	int64_t			 ver;		/* -1: unknown */
	int64_t			 ver_at;	/* when read (monotonic s) */
	int64_t			 retry_at;	/* not before, after a failure */
	int			 down;		/* an outage was logged */
	char			 method[24];	/* meta.method, per rel */
	struct api_site		*sites;
	size_t			 nsites;
	int64_t			 sites_at;
	char			 err[512];	/* why nothing can be read */
};

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v;
	return h * 0x100000001b3ULL;
}

/* --- local: the release database file --------------------------------- */

static int64_t
local_version(struct api *a)
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

static struct released *
local_get(struct api *a)
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

/*
 * A shipping sensor's file holds no cells (release.h, one publication
 * per figure): 409 saying where they are, rather than zeros.  1 sent.
 */
static int
central_refused(struct api_call *c, struct released *r)
{
	char site[64], msg[512];

	if (released_central_site(r, site, sizeof(site)) != 1)
		return 0;
	released_central_message(site, msg, sizeof(msg));
	api_reply_error(c->req, 409, "%s", msg);
	return 1;
}

/* --- central: the organisation's release in PostgreSQL ----------------- */

static void
central_drop(struct api_central *ac)
{
	released_close(ac->rel);
	ac->rel = NULL;
	ac->st = NULL;
	central_pg_close(ac->view);
	ac->view = NULL;
	ac->ver = -1;
}

/* The database failed: say so once per outage, ask again later. */
static void
central_failed(struct api_central *ac, int64_t now)
{
	if (!ac->down)
		log_warnx("api: central database: %s; answering 503 until it "
		    "can be read (tried again every %d s)", ac->err,
		    CENTRAL_RETRY_SEC);
	ac->down = 1;
	ac->retry_at = now + CENTRAL_RETRY_SEC;
	central_drop(ac);
}

/*
 * The version, read at most once per second; -1 when the database
 * cannot be read now (ac->err says why).  *denied: the role may not.
 */
static int64_t
central_version(struct api_central *ac, int *denied)
{
	int64_t now = mono_sec(), count, last;
	int rc;

	*denied = 0;
	if (now == ac->ver_at && ac->ver >= 0)
		return ac->ver;
	if (ac->ver < 0 && now < ac->retry_at)
		return -1;
	ac->ver_at = now;
	if (ac->view == NULL && (ac->view = central_pg_connect(ac->conninfo,
	    ac->err, sizeof(ac->err))) == NULL) {
		central_failed(ac, now);
		return -1;
	}
	rc = central_read_version(ac->view, &count, &last, ac->err,
	    sizeof(ac->err));
	if (rc != 0) {
		*denied = rc == CENTRAL_READ_DENIED;
		central_failed(ac, now);
		return -1;
	}
	if (ac->down)
		log_info("api: central database readable again");
	ac->down = 0;
	ac->ver = (int64_t)(mix(mix(0xcbf29ce484222325ULL, (uint64_t)count),
	    (uint64_t)last) >> 1);
	return ac->ver;
}

/* The read API in the scope of site (NULL: the organisation). */
static struct released *
central_get(struct api_central *ac, const char *site)
{
	int denied;

	if (central_version(ac, &denied) < 0)
		return NULL;
	if (ac->rel != NULL && ac->rel_ver != ac->ver) {
		released_close(ac->rel);	/* a release: read it afresh */
		ac->rel = NULL;
		ac->st = NULL;
	}
	if (ac->rel == NULL) {
		if ((ac->st = relstore_pg_open_site(ac->conninfo,
		    RELSTORE_READ, NULL, ac->err, sizeof(ac->err))) == NULL ||
		    (ac->rel = released_of(ac->st, ac->err,
		    sizeof(ac->err))) == NULL) {
			ac->st = NULL;
			central_failed(ac, mono_sec());
			return NULL;
		}
		/* the method the answers name, as aicensus query does */
		if (central_read_method(ac->view, ac->method,
		    sizeof(ac->method), ac->err, sizeof(ac->err)) != 0) {
			central_failed(ac, mono_sec());
			return NULL;
		}
		ac->rel_ver = ac->ver;
	}
	if (relstore_pg_set_site(ac->st, site) != 0) {
		snprintf(ac->err, sizeof(ac->err), "%s", relstore_error(ac->st));
		return NULL;
	}
	return ac->rel;
}

static int
site_released(void *arg, const char *name)
{
	struct api_central *ac = arg;
	size_t i;

	for (i = 0; i < ac->nsites; i++)
		if (strcmp(ac->sites[i].s.name, name) == 0)
			ac->sites[i].released = 1;
	return 0;
}

/* The sites, read at most once per second; NULL (ac->err). */
static const struct api_site *
central_sites(struct api_central *ac, size_t *n)
{
	struct central_read_site *cs;
	int64_t now = mono_sec();
	size_t i, ns;

	if (ac->sites != NULL && ac->sites_at == now) {
		*n = ac->nsites;
		return ac->sites;
	}
	/* the view's connection, and the read API for the released scopes */
	if (central_get(ac, NULL) == NULL)
		return NULL;
	/* from = to = 0: silent for the organisation's last released week */
	if (central_read_sites(ac->view, 0, 0, &cs, &ns, ac->err,
	    sizeof(ac->err)) != 0) {
		central_failed(ac, now);
		return NULL;
	}
	free(ac->sites);
	if ((ac->sites = calloc(ns + 1, sizeof(*ac->sites))) == NULL) {
		free(cs);
		ac->nsites = 0;
		snprintf(ac->err, sizeof(ac->err), "out of memory");
		return NULL;
	}
	for (i = 0; i < ns; i++)
		ac->sites[i].s = cs[i];
	free(cs);
	ac->nsites = ns;
	if (relstore_pg_sites(ac->st, site_released, ac) != 0) {
		snprintf(ac->err, sizeof(ac->err), "%s", relstore_error(ac->st));
		central_failed(ac, now);
		free(ac->sites);
		ac->sites = NULL;
		ac->nsites = 0;
		return NULL;
	}
	ac->sites_at = now;
	*n = ac->nsites;
	return ac->sites;
}

/* --- the handlers' side ----------------------------------------------- */

int
api_rel_init(struct api *a, const struct config *cfg, char *err,
    size_t errlen)
{
	struct api_central *ac;
	int64_t count, last;
	int rc = 0;

	a->source = cfg->api.source;
	if (a->source != CONFIG_API_CENTRAL)
		return 0;
	if ((ac = calloc(1, sizeof(*ac))) == NULL) {
		snprintf(err, errlen, "api: out of memory");
		return -1;
	}
	ac->ver = -1;
	ac->ver_at = -1;
	if (central_read_conninfo(cfg->central.conninfo,
	    cfg->central.password, CENTRAL_READ_CONNECT_SEC, ac->conninfo,
	    sizeof(ac->conninfo), ac->err, sizeof(ac->err)) != 0) {
		snprintf(err, errlen, "api: %s", ac->err);
		free(ac);
		return -1;
	}
	a->central = ac;
	/*
	 * A role that may not read is a configuration error: say it now.
	 * A database that does not answer yet is a 503 until it does.
	 */
	if ((ac->view = central_pg_connect(ac->conninfo, ac->err,
	    sizeof(ac->err))) != NULL &&
	    ((rc = central_read_check(ac->view, ac->err, sizeof(ac->err))) ==
	    CENTRAL_READ_DENIED || (rc == 0 && (rc = central_read_version(
	    ac->view, &count, &last, ac->err, sizeof(ac->err))) ==
	    CENTRAL_READ_DENIED))) {
		snprintf(err, errlen, "api.source = central: %s", ac->err);
		return -1;
	}
	if (ac->view == NULL || rc != 0) {
		log_warnx("api: central database: %s; answering 503 until it "
		    "can be read", ac->err);
		central_drop(ac);
		ac->down = 1;
	}
	return 0;
}

void
api_rel_free(struct api *a)
{
	struct api_central *ac = a->central;

	released_close(a->rel);
	a->rel = NULL;
	if (ac == NULL)
		return;
	central_drop(ac);
	free(ac->sites);
	explicit_bzero(ac->conninfo, sizeof(ac->conninfo));
	free(ac);
	a->central = NULL;
}

const char *
api_rel_method(const struct api *a)
{
	if (a->central == NULL || a->central->method[0] == '\0')
		return NULL;
	return a->central->method;
}

const char *
api_rel_site(struct api_call *c)
{
	const char *site;

	if (c->api->central == NULL)
		return NULL;
	site = evhttp_find_header(c->params, "site");
	return site != NULL ? site : REL_ALL;
}

const char *
api_rel_source(const struct api *a)
{
	return a->source == CONFIG_API_CENTRAL ? "central" : "local";
}

struct released *
api_rel_get(struct api *a)
{
	if (a->central != NULL)
		return central_get(a->central, NULL);
	return local_get(a);
}

/* Is site one the central database knows?  0 yes, -1 after an answer. */
static int
site_check(struct api_call *c, const char *site)
{
	const struct api_site *s;
	size_t n, i;

	if (!central_pg_site_ok(site)) {
		api_reply_error(c->req, HTTP_BADREQUEST, "site: 1 to 63 "
		    "letters, digits, '.', '_' or '-', starting with a letter "
		    "or digit (or * for the organisation)");
		return -1;
	}
	if ((s = api_rel_sites(c, &n)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (strcmp(s[i].s.name, site) == 0)
			return 0;
	api_reply_error(c->req, HTTP_BADREQUEST, "site: the central database "
	    "has no site %s (GET /api/v1/sites lists them)", site);
	return -1;
}

struct released *
api_rel_try(struct api_call *c, int *answered)
{
	const char *site = evhttp_find_header(c->params, "site");
	struct api_central *ac = c->api->central;

	*answered = 0;
	if (ac == NULL) {
		if (site != NULL) {
			*answered = 1;
			api_reply_error(c->req, HTTP_BADREQUEST, "site: this "
			    "API serves one sensor's release (api.source = "
			    "local); sites are the central release's");
			return NULL;
		}
		return local_get(c->api);
	}
	if (site != NULL && strcmp(site, REL_ALL) == 0)
		site = NULL;
	if (site != NULL && site_check(c, site) != 0) {
		*answered = 1;
		return NULL;
	}
	return central_get(ac, site);
}

struct released *
api_rel(struct api_call *c)
{
	struct api_central *ac = c->api->central;
	struct released *r;
	int answered;

	if ((r = api_rel_try(c, &answered)) != NULL || answered) {
		if (r != NULL && ac == NULL && central_refused(c, r))
			return NULL;
		return r;
	}
	if (ac != NULL)
		api_reply_error(c->req, HTTP_SERVUNAVAIL, "the central release "
		    "cannot be read: %s", ac->err);
	else
		api_reply_error(c->req, HTTP_SERVUNAVAIL, "no release database "
		    "yet: nothing has been released");
	return NULL;
}

int64_t
api_rel_version(struct api *a)
{
	int denied;

	if (a->central != NULL)
		return central_version(a->central, &denied);
	return local_version(a);
}

const struct api_site *
api_rel_sites(struct api_call *c, size_t *n)
{
	const struct api_site *s;

	*n = 0;
	if (c->api->central == NULL) {
		api_reply_error(c->req, HTTP_NOTFOUND, "no sites: this API "
		    "serves one sensor's release (api.source = local)");
		return NULL;
	}
	if ((s = central_sites(c->api->central, n)) == NULL)
		api_reply_error(c->req, HTTP_SERVUNAVAIL, "the central "
		    "database cannot be read: %s", c->api->central->err);
	return s;
}
