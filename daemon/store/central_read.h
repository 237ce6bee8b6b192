/*
 * central_read.h - what the outputs read of the central database beside
 * the released cells (which they read through store/relstore_pg.h):
 * the connection string of a configuration's central group, whether
 * the role may read the release, the release's version and method, and
 * the sites.  Both readers use it: aicensus query|report (aicensus.c)
 * and the organisation's dashboard (out/api/api_rel.c).
 *
 * Everything here is what the reader role (aicensus_reader) may read:
 * aicensus.meta, aicensus.period and the aicensus.sites view.  Nothing
 * is a figure about people: a version is a count of released periods
 * and the time of the last one; a site is its name, when its sensor
 * last shipped, how many rows came late and the coverage hours of its
 * released weeks.  Errors never hold a password (central_pg.h cleans
 * libpq's messages).
 */
#ifndef AIC_CENTRAL_READ_H
#define AIC_CENTRAL_READ_H

#include <stddef.h>
#include <stdint.h>

struct central;

/* What a permission error gets added: the reader role's configuration. */
#define CENTRAL_READ_HINT	"use a reader role's configuration: " \
	"docs/CENTRAL.md"

/* libpq waits this long for a connection unless the conninfo says. */
#define CENTRAL_READ_CONNECT_SEC	5

/*
 * One connection string out of a configuration's central.conninfo (a
 * libpq "key=value" string, a postgresql:// URI or a bare database
 * name) and the password read from central.password_file (NULL or "":
 * none, libpq finds one itself): every key the string sets, quoted,
 * connect_timeout = timeout_sec when it sets none (timeout_sec 0: none
 * added), then password='...', which wins over one in the string.  out
 * holds the password: the caller wipes it (explicit_bzero) after use.
 * 0, or -1 with err, which never quotes the string (it may hold a
 * secret); out is then wiped.
 */
int	central_read_conninfo(const char *conninfo, const char *password,
	    int timeout_sec, char *out, size_t outlen, char *err,
	    size_t errlen);

/*
 * The result of a read: 0, -1 (the database cannot be read now, or has
 * no aicensus schema: err says which) or CENTRAL_READ_DENIED: this role
 * may not read the released figures (SQLSTATE 42501: a sensor's writer
 * role, or a role that is no member of aicensus_reader); err is then
 * PostgreSQL's message, the reader role named, "; " CENTRAL_READ_HINT.  A denied
 * role is a configuration error; -1 may pass.
 */
#define CENTRAL_READ_DENIED	(-2)

/* May this connection read the released figures?  0, -1, DENIED. */
int	central_read_check(struct central *, char *err, size_t errlen);

/*
 * The release's version: how many period rows (of every scope) there
 * are and the latest released_at (0 when none).  It moves whenever a
 * period is published or deleted by retention.  0, -1 (the connection
 * may be gone: close and connect again), DENIED.
 */
int	central_read_version(struct central *, int64_t *count,
	    int64_t *last, char *err, size_t errlen);

/* meta "method" into buf ("ckm-central-1" from schema version 3 on;
 * "" when absent).  0, -1, DENIED. */
int	central_read_method(struct central *, char *buf, size_t len,
	    char *err, size_t errlen);

/*
 * A site's two states (docs/CENTRAL.md, "The sites"):
 *
 * silent for a week: the site's scope has no released period for a
 *   week the organisation released, or that period's coverage is 0:
 *   the site shipped nothing the release used, and its traffic of that
 *   week is missing from the figures.  The central release counts the
 *   same thing per period before it publishes (central_sites_cover(),
 *   the blind-spot figure sites_silent).
 * stale: its sensor has not shipped for CENTRAL_STALE_HOURS, or never:
 *   it is down now, whatever the released weeks say.
 */
#define CENTRAL_STALE_HOURS	24

#define CENTRAL_SITE_NAME	64
struct central_read_site {
	char		name[CENTRAL_SITE_NAME];
	int64_t		last_seen;	/* epoch seconds; 0: never */
	int64_t		hours_since_seen; /* -1: never */
	int64_t		late_rows;	/* shipped for released periods */
	int		stale;
	/* the site's last released week (of the weeks asked for) */
	int32_t		week;		/* YYYYWW; 0: none */
	int64_t		coverage_hours;	/* of that week */
	int64_t		hours_total;	/* of that week */
	/* the weeks reported: those of the weeks asked for that the
	 * organisation's scope released */
	unsigned	weeks;
	unsigned	weeks_silent;	/* of them, silent for the site */
	int64_t		hours_covered;	/* its coverage summed over them */
	int		silent;		/* weeks_silent > 0, or no week */
};

/*
 * Every registered site, by name (byte order), over the weeks [from,
 * to] (YYYYWW): a report's weeks.  from = to = 0: the organisation's
 * last released week is the one reported, and the site's last released
 * week is looked for among all (the dashboard).  A database older than
 * scope support (schema version < 3) has no site scopes: *n = 0.  *out
 * malloc'd (free()).  0, -1, DENIED.
 */
int	central_read_sites(struct central *, int32_t from, int32_t to,
	    struct central_read_site **out, size_t *n, char *err,
	    size_t errlen);

#endif /* AIC_CENTRAL_READ_H */
