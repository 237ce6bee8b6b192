/*
 * central_read.h - what the outputs (aicensus query|report, the API)
 * read of the central database beside the released cells, which they
 * read through store/relstore_pg.h: the method of its release and the
 * sites with how much of a period each covered.  Everything here is
 * what the reader role (aicensus_reader) may read: aicensus.meta, the
 * aicensus.sites view and the released period rows of the sites'
 * scopes.  No raw figure of a site is read.
 */
#ifndef AIC_CENTRAL_READ_H
#define AIC_CENTRAL_READ_H

#include <stddef.h>
#include <stdint.h>

struct central;

/* What a permission error gets added: the reader role's configuration. */
#define CENTRAL_READ_HINT	"use a reader role's configuration: " \
	"docs/CENTRAL.md"

/*
 * One connection string out of a configuration's central.conninfo (a
 * libpq "key=value" string, a postgresql:// URI or a database name) and
 * the password read from central.password_file (NULL or "": none, libpq
 * finds one itself): every key the string sets, quoted, then
 * password='...'.  out holds the password: the caller wipes it
 * (explicit_bzero) once connected.  0, or -1 with err (which never
 * quotes the string: it may hold a secret).
 */
int	central_read_conninfo(const char *conninfo, const char *password,
	    char *out, size_t outlen, char *err, size_t errlen);

/*
 * May this connection read the released figures?  0 yes.  -1 with err
 * otherwise; a refusal by PostgreSQL (SQLSTATE 42501, e.g. a sensor's
 * writer role) is its message followed by "; " CENTRAL_READ_HINT.
 */
int	central_read_check(struct central *, char *err, size_t errlen);

/* meta "method" into buf ("ckm-central-1" from schema version 3 on;
 * "" when absent).  0 or -1 with err. */
int	central_read_method(struct central *, char *buf, size_t len,
	    char *err, size_t errlen);

/*
 * A registered site, as the report's blind-spot section lists it:
 * name and last_seen from aicensus.sites; the coverage hours of the
 * released weeks [from, to] of the site's scope (the period rows the
 * central release wrote for it).  A site is silent for those weeks when
 * none of its hours has data: it shipped nothing the release used.
 */
#define CENTRAL_SITE_NAME	64
struct central_read_site {
	char		name[CENTRAL_SITE_NAME];
	int64_t		last_seen;	/* epoch seconds; 0: never */
	unsigned	coverage_hours;	/* of the weeks asked for */
	unsigned	weeks;		/* released weeks of its scope */
	int		silent;
};

/*
 * Every registered site, by name (byte order), with its coverage of the
 * weeks [from, to] (YYYYWW).  A database older than scope support
 * (schema version < 3) has no site scopes: *n = 0.  *out malloc'd
 * (free()).  0 or -1 with err.
 */
int	central_read_sites(struct central *, int32_t from, int32_t to,
	    struct central_read_site **out, size_t *n, char *err,
	    size_t errlen);

#endif /* AIC_CENTRAL_READ_H */
