/*
 * relstore_pg.h - the release database in the central PostgreSQL
 * database (store/relstore.h is the interface): the release-side tables
 * of schema "aicensus" that central_pg.c creates (period, dim, service,
 * cell, blind, meta), the same rows as the SQLite backend keeps.
 *
 * It never creates or migrates the schema (`aicensus central init` and
 * `migrate` do): RELSTORE_WRITE needs the administrator's connection
 * and a database at CENTRAL_PG_VERSION; RELSTORE_READ any role that may
 * SELECT the released tables (aicensus_reader) and a schema of a
 * version 1..CENTRAL_PG_VERSION.  Errors never hold a figure or a
 * secret of the connection string.
 */
#ifndef AIC_RELSTORE_PG_H
#define AIC_RELSTORE_PG_H

#include <stddef.h>
#include <stdint.h>

#include "store/relstore.h"

struct central;

/*
 * Scopes (schema version 3, docs/CENTRAL.md "Scopes"): the central
 * release publishes each period once for the organisation (scope "*")
 * and once for every site that shipped for it.  A store reads and
 * publishes one scope; retention deletes periods of every scope.
 */

/* Connects (a libpq conninfo or postgresql:// URI) to the scope of the
 * organisation; NULL with err. */
struct relstore	*relstore_pg_open(const char *conninfo, enum relstore_mode,
		    char *err, size_t errlen);
/* The same, for one site's scope (site NULL or "*": the organisation);
 * a site scope needs schema version 3.  A site never released reads as
 * a scope without periods. */
struct relstore	*relstore_pg_open_site(const char *conninfo,
		    enum relstore_mode, const char *site, char *err,
		    size_t errlen);
/* Switches the scope of an open store (NULL or "*": the organisation);
 * 0, or -1 for a bad name or a schema before version 3. */
int		 relstore_pg_set_site(struct relstore *, const char *site);
/* The store's scope: "*" or a site name. */
const char	*relstore_pg_site(struct relstore *);
/* The site names that have at least one released period, ascending
 * (byte order); none on a schema before version 3.  0 or -1. */
int		 relstore_pg_sites(struct relstore *, relstore_name_fn,
		    void *arg);
/*
 * on: a publish runs inside the transaction the caller holds on the
 * store's connection (a savepoint, not a transaction of its own), so
 * the caller commits it together with other work (crelease.c).
 */
void		 relstore_pg_set_nested(struct relstore *, int on);
/* Over a connection already made; the store closes it (also on failure). */
struct relstore	*relstore_pg_of(struct central *, enum relstore_mode,
		    char *err, size_t errlen);

/*
 * The next published day also gets the central-only blind figure
 * "sites_silent" (sites that shipped nothing for it): a count of
 * sensors, not of people, written as it is.  Cleared by the publish.
 */
void	relstore_pg_set_silent(struct relstore *, uint64_t sites);

/* Is s a PostgreSQL connection string rather than a file name?  A
 * postgresql:// or postgres:// URI, or libpq "key=value" words. */
int	relstore_pg_is_conninfo(const char *s);

#endif /* AIC_RELSTORE_PG_H */
