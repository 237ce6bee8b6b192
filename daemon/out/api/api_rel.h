/*
 * api_rel.h - the release as the API's handlers read it (api_rel.c),
 * from the source api.source names:
 *   local    the release database file (release_database), opened
 *            read-only on first use and again when it was replaced;
 *   central  the organisation's central release in PostgreSQL, through
 *            the central group's connection (a reader role): the
 *            organisation's scope, or with ?site=NAME one site's
 *            (store/relstore_pg.h), and the sites view
 *            (store/central_read.h).
 * Both are read through released_of()/released_open(): the same read
 * API, the same answers.
 */
#ifndef AIC_API_REL_H
#define AIC_API_REL_H

#include <stddef.h>
#include <stdint.h>

#include "store/central_read.h"

struct api;
struct api_call;
struct config;
struct released;

/*
 * The source at start (api_new): for central, connects and checks that
 * the role may read the released figures.  -1 with err when it may not
 * (a sensor's writer role) or the source cannot be set up; a database
 * that does not answer yet is only logged (503 until it does).
 */
int	 api_rel_init(struct api *, const struct config *, char *err,
	    size_t errlen);
void	 api_rel_free(struct api *);

/*
 * The release a data endpoint reads: the organisation's (or the file),
 * or the scope of the request's site=NAME.  NULL after an answer: 400
 * for a site= the source cannot have (local source, unknown site), 503
 * when nothing can be read.
 */
struct released *api_rel(struct api_call *);
/*
 * The same, but NULL without answering (*answered 0) when there is
 * nothing to read yet; *answered 1 after a 400.
 */
struct released *api_rel_try(struct api_call *, int *answered);
/* The organisation's (or the file's), for health: NULL when it cannot
 * be read. */
struct released *api_rel_get(struct api *);

/*
 * Moves whenever the release changes (local: the file or its WAL
 * changes size or time; central: the count and latest released_at of
 * the periods, read at most once per second); -1 when unknown.
 * Answers are kept per version: they change at release instants.
 */
int64_t	 api_rel_version(struct api *);

/* "local" or "central". */
const char *api_rel_source(const struct api *);
/* Central: the release's meta.method (read with the release, store/
 * central_read.h), and the request's scope ("*" the organisation);
 * NULL with a local source. */
const char *api_rel_method(const struct api *);
const char *api_rel_site(struct api_call *);

/* A site of the central database as /api/v1/sites lists it. */
struct api_site {
	struct central_read_site s;		/* central_read_sites() */
	int			 released;	/* has a released scope */
};
/*
 * The sites (central source), by name, read at most once per second;
 * valid until the next call.  NULL after an answer: 404 with a local
 * source, 503 when the database cannot be read.
 */
const struct api_site *api_rel_sites(struct api_call *, size_t *n);

#endif /* AIC_API_REL_H */
