/*
 * central_view.h - what the organisation's dashboard (aicensusd --serve,
 * api.source = central) reads of the central database besides the
 * released cells: a cheap version of the release, and the sites view.
 *
 * One connection of a reader role (central_pg.h: aicensus_reader), read
 * only.  Nothing here is a figure about people: the version is a count
 * of released periods and the time of the last one; a site is its name,
 * when its sensor last shipped and how many hours it saw traffic.
 * Errors never hold a password (central_pg.h cleans libpq's messages).
 *
 * (The report's reader of the sites view, if any, is another module:
 * this one serves the API's answers and nothing else.)
 */
#ifndef AIC_CENTRAL_VIEW_H
#define AIC_CENTRAL_VIEW_H

#include <stddef.h>
#include <stdint.h>

struct central_view;

/* A site that shipped nothing for this long is shown as silent. */
#define CENTRAL_VIEW_SILENT_HOURS	24

/*
 * Connects; NULL with err.  conninfo may hold the password (made by
 * central_view_conninfo); libpq waits at most connect_timeout for it.
 */
struct central_view	*central_view_open(const char *conninfo, char *err,
			    size_t errlen);
void			 central_view_close(struct central_view *);

/*
 * conninfo with password added (NULL or "": none) and, when it sets
 * none, connect_timeout = timeout_sec: a "key=value" string, a
 * postgresql:// URI (percent-encoded), or a bare database name.  The
 * result holds a secret: wipe it after use.  0, or -1 when it does not
 * fit in len.
 */
int	central_view_conninfo(const char *conninfo, const char *password,
	    int timeout_sec, char *out, size_t len);

/*
 * The release's version: how many period rows (of every scope) there
 * are and the latest released_at (0 when none).  It moves whenever a
 * period is published or deleted by retention.  0; -1 with err (the
 * connection may be gone: close and open again); CENTRAL_VIEW_DENIED
 * with err when this role may not read the released figures (a
 * sensor's writer role, or no role of aicensus_reader).
 */
#define CENTRAL_VIEW_DENIED	(-2)
int	central_view_version(struct central_view *, int64_t *count,
	    int64_t *last, char *err, size_t errlen);

/*
 * A site: its row of the sites view, and the coverage of the last week
 * released in its scope (the central release's period row: the hours
 * of the week in which the site saw traffic).
 */
struct central_site {
	char		name[64];
	int64_t		last_seen;	/* epoch seconds; 0: never */
	int		silent;		/* never, or not for SILENT_HOURS */
	int32_t		week;		/* YYYYWW; 0: none released */
	int64_t		coverage_hours;	/* of that week */
	int64_t		hours_total;	/* of that week */
};

/*
 * The sites view, by name (byte order); *out malloc'd (free()).  Needs
 * schema version 3 (release scopes).  0, or -1 / CENTRAL_VIEW_DENIED
 * with err.
 */
int	central_view_sites(struct central_view *, struct central_site **out,
	    size_t *n, char *err, size_t errlen);

#endif /* AIC_CENTRAL_VIEW_H */
