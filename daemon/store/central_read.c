/*
 * central_read.c - the outputs' reads of the central database beside
 * the released cells (central_read.h): as the reader role, nothing raw.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/central_pg.h"
#include "store/central_read.h"
#include "store/relstore_pg.h"

/* PostgreSQL's "insufficient_privilege". */
#define SQLSTATE_PRIVILEGE	"42501"

static PGresult *
rows(struct central *c, const char *sql, int n, const char *const *v,
    const char *what, char *err, size_t errlen)
{
	PGresult *res;

	res = PQexecParams(central_pg_conn(c), sql, n, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		central_pg_err(c, res, what, err, errlen);
		PQclear(res);
		return NULL;
	}
	return res;
}

/* key='value' onto out at *at, with \ and ' escaped; -1 when full. */
static int
put_kv(char *out, size_t outlen, size_t *at, const char *key,
    const char *val)
{
	size_t n = *at;
	int w;

	w = snprintf(out + n, outlen - n, "%s%s='", n ? " " : "", key);
	if (w < 0 || (size_t)w >= outlen - n)
		return -1;
	n += (size_t)w;
	for (; *val != '\0'; val++) {
		if (n + 3 >= outlen)
			return -1;
		if (*val == '\\' || *val == '\'')
			out[n++] = '\\';
		out[n++] = *val;
	}
	if (n + 2 > outlen)
		return -1;
	out[n++] = '\'';
	out[n] = '\0';
	*at = n;
	return 0;
}

int
central_read_conninfo(const char *conninfo, const char *password,
    char *out, size_t outlen, char *err, size_t errlen)
{
	PQconninfoOption *opts, *o;
	char *perr = NULL;
	size_t at = 0;
	int full = 0;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (!relstore_pg_is_conninfo(conninfo)) {
		/* a bare name is a database, as libpq takes it */
		if (put_kv(out, outlen, &at, "dbname", conninfo) != 0)
			goto full;
	} else {
		if ((opts = PQconninfoParse(conninfo, &perr)) == NULL) {
			/* libpq's reason may quote the string: not shown */
			PQfreemem(perr);
			snprintf(err, errlen, "central.conninfo is not a "
			    "connection string libpq can parse (not shown); "
			    "use \"host=H dbname=D user=U\" or "
			    "postgresql://U@H/D");
			return -1;
		}
		for (o = opts; o->keyword != NULL && !full; o++) {
			if (o->val == NULL || o->val[0] == '\0' ||
			    (password != NULL && password[0] != '\0' &&
			    strcmp(o->keyword, "password") == 0))
				continue;
			full = put_kv(out, outlen, &at, o->keyword,
			    o->val) != 0;
		}
		PQconninfoFree(opts);
		if (full)
			goto full;
	}
	if (password != NULL && password[0] != '\0' &&
	    put_kv(out, outlen, &at, "password", password) != 0)
		goto full;
	return 0;
full:
	snprintf(err, errlen, "central.conninfo is too long");
	explicit_bzero(out, outlen);
	return -1;
}

int
central_read_check(struct central *c, char *err, size_t errlen)
{
	PGresult *res;
	const char *state;
	size_t n;
	int v;

	if (central_pg_version(c, &v, err, errlen) != 0)
		return -1;
	if (v == 0) {
		snprintf(err, errlen, "%s: no aicensus schema in this database:"
		    " create it with 'aicensus central init'",
		    central_pg_name(c));
		return -1;
	}
	res = PQexec(central_pg_conn(c),
	    "SELECT 1 FROM aicensus.period LIMIT 0");
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		PQclear(res);
		return 0;
	}
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	central_pg_err(c, res, central_pg_name(c),
	    err, errlen);
	if (state != NULL && strcmp(state, SQLSTATE_PRIVILEGE) == 0) {
		n = strlen(err);
		if (n < errlen)
			snprintf(err + n, errlen - n, "; " CENTRAL_READ_HINT);
	}
	PQclear(res);
	return -1;
}

int
central_read_method(struct central *c, char *buf, size_t len, char *err,
    size_t errlen)
{
	PGresult *res;

	if ((res = rows(c, "SELECT value FROM aicensus.meta WHERE key ="
	    " 'method'", 0, NULL, "cannot read aicensus.meta", err,
	    errlen)) == NULL)
		return -1;
	snprintf(buf, len, "%s", PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) :
	    "");
	PQclear(res);
	return 0;
}

int
central_read_sites(struct central *c, int32_t from, int32_t to,
    struct central_read_site **out, size_t *n, char *err,
    size_t errlen)
{
	char b[2][16];
	const char *v[2] = { b[0], b[1] };
	struct central_read_site *s = NULL;
	PGresult *res;
	long long cov;
	int i, nr, ver;

	*out = NULL;
	*n = 0;
	if (central_pg_version(c, &ver, err, errlen) != 0)
		return -1;
	if (ver < 3)
		return 0;	/* no site scopes: nothing to say per site */
	snprintf(b[0], sizeof(b[0]), "%" PRId32, from);
	snprintf(b[1], sizeof(b[1]), "%" PRId32, to);
	if ((res = rows(c, "SELECT s.site,"
	    " coalesce(extract(epoch FROM s.last_seen)::bigint, 0),"
	    " coalesce(sum(p.coverage_hours), 0), count(p.period)"
	    " FROM aicensus.sites s LEFT JOIN aicensus.period p"
	    "  ON p.site = s.site AND p.kind = 2"
	    "  AND p.period BETWEEN $1 AND $2"
	    " GROUP BY s.site, s.last_seen ORDER BY s.site COLLATE \"C\"",
	    2, v, "cannot read the sites", err, errlen)) == NULL)
		return -1;
	nr = PQntuples(res);
	if (nr > 0 && (s = calloc((size_t)nr, sizeof(*s))) == NULL) {
		PQclear(res);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < nr; i++) {
		snprintf(s[i].name, sizeof(s[i].name), "%s",
		    PQgetvalue(res, i, 0));
		s[i].last_seen = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		cov = strtoll(PQgetvalue(res, i, 2), NULL, 10);
		if (cov > (long long)UINT32_MAX)
			cov = UINT32_MAX;
		s[i].coverage_hours = cov > 0 ? (unsigned)cov : 0;
		s[i].weeks = (unsigned)strtoul(PQgetvalue(res, i, 3), NULL,
		    10);
		s[i].silent = s[i].coverage_hours == 0;
	}
	PQclear(res);
	if (nr > 0)
		*out = s;
	*n = (size_t)nr;
	return 0;
}
