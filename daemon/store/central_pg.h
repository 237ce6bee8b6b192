/*
 * central_pg.h - the central database: one PostgreSQL database that the
 * sensors of many sites feed and that BI tools and the organisation-wide
 * report read (docs/CENTRAL.md).  This module owns its schema; shipping
 * cells into it and releasing from it build on top.
 *
 * What it promises:
 *  - Everything lives in schema "aicensus", created and upgraded by one
 *    migration ladder: the version is aicensus.meta "schema_version",
 *    each step runs in its own transaction under an advisory lock (two
 *    administrators migrating at once do it one after the other), a
 *    database already at CENTRAL_PG_VERSION is left untouched, and a
 *    database of a newer version is refused, never written.
 *  - Two NOLOGIN group roles.  CENTRAL_PG_WRITER, for sensors: SELECT,
 *    INSERT and UPDATE on the site_* rows of the sites its login role is
 *    mapped to (aicensus.site_role), enforced by row-level security on
 *    current_user; no access to released figures.  CENTRAL_PG_READER,
 *    for BI tools and the report: SELECT on the released tables and the
 *    views over them, never on a site's raw figures.  The role that runs
 *    init owns the schema and is the administrator.
 *  - A site's raw figures (site_cell, site_blind) are per-cell counters
 *    and distinct-device figures only: no device hash, sketch or key
 *    has a column here.
 *  - No message this module writes holds a password or a whole
 *    connection string: a connection is named by central_pg_describe(),
 *    which keeps host, port, database, user and sslmode only, and any
 *    secret of the connection string (or $PGPASSWORD) is blanked out of
 *    libpq's messages.
 *
 * Errors: functions return -1 and fill err with one line fit for a
 * terminal or a log.
 */
#ifndef AIC_CENTRAL_PG_H
#define AIC_CENTRAL_PG_H

#include <stddef.h>
#include <stdint.h>

/* The schema version this code creates and reads (aicensus.meta). */
#define CENTRAL_PG_VERSION	3

#define CENTRAL_PG_WRITER	"aicensus_writer"
#define CENTRAL_PG_READER	"aicensus_reader"

struct central;

/*
 * Connects (conninfo: a libpq "key=value" string or a postgresql:// URI;
 * libpq's environment and ~/.pgpass fill in what it leaves out).  NULL
 * with err on failure; err names the connection without its secrets.
 */
struct central	*central_pg_connect(const char *conninfo, char *err,
		    size_t errlen);
void		 central_pg_close(struct central *);
/* The connection as central_pg_describe() names it. */
const char	*central_pg_name(const struct central *);

/*
 * The database's schema version: 0 when it has no aicensus schema (or
 * an empty one); -1 with err when it has one this code did not make.
 */
int	central_pg_version(struct central *, int *version, char *err,
	    size_t errlen);

/*
 * init: creates the group roles when absent and the schema, then climbs
 * the ladder to CENTRAL_PG_VERSION; on an existing database it is the
 * same as migrate.  migrate: climbs an existing schema to
 * CENTRAL_PG_VERSION and refuses a database without one (init makes it).
 * Both refuse a newer database.  *from gets the version found; 0 or -1.
 */
int	central_pg_init(struct central *, int *from, char *err,
	    size_t errlen);
int	central_pg_migrate(struct central *, int *from, char *err,
	    size_t errlen);
/* init, stopping at version top (1..CENTRAL_PG_VERSION): a database as
 * an older aicensus left it, for the tests of the ladder. */
int	central_pg_init_to(struct central *, int top, int *from, char *err,
	    size_t errlen);

/*
 * Maps the login role to the site, creating the site row when new, and
 * makes the role a member of CENTRAL_PG_WRITER when it is not yet.  The
 * login role itself (and its password or certificate) is the DBA's:
 * this refuses a role that does not exist, one that would bypass
 * row-level security (superuser, BYPASSRLS, owner of the tables) and
 * one already mapped to another site.  1 mapped now, 0 already mapped
 * to this site, -1.
 */
int	central_pg_add_site(struct central *, const char *site,
	    const char *role, char *err, size_t errlen);

/*
 * The connection underneath, for the other modules of this stage that
 * speak to the same database (relstore_pg.c, central_sites.c).
 */
struct pg_conn;
struct pg_result;
struct pg_conn	*central_pg_conn(struct central *);
/* err = "what: reason" from res (or the connection), secrets blanked
 * out; returns -1. */
int	central_pg_err(const struct central *, const struct pg_result *,
	    const char *what, char *err, size_t errlen);

/*
 * The central secret (version 2: aicensus.secret, the owner's alone: no
 * grant to the writer or the reader role), drawn from the system's
 * random source the first time a central release asks for it and kept
 * from then on; the key of the central cell keys (release.h,
 * release_publish_summed).  0 or -1.
 */
#define CENTRAL_PG_SECRET	16
int	central_pg_secret(struct central *, uint8_t key[CENTRAL_PG_SECRET],
	    char *err, size_t errlen);

/* A site name: 1 to 63 of [A-Za-z0-9._-], starting alphanumeric. */
int	central_pg_site_ok(const char *);
/* A login role this tool will map: 1 to 63 of [A-Za-z0-9_.-], not
 * starting with a digit, "-" or ".", not "pg_..." nor "public" nor one
 * of the group roles. */
int	central_pg_role_ok(const char *);

/*
 * Names a connection string for messages: "host=... port=... dbname=...
 * user=... sslmode=..." with only the keys set, never a password or any
 * other key; "(libpq defaults)" when none is set; a fixed text when
 * libpq cannot parse it (its parse error could quote the secret).
 */
void	central_pg_describe(const char *conninfo, char *buf, size_t len);

#endif /* AIC_CENTRAL_PG_H */
