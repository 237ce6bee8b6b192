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

/*
 * A read; NULL with err, and *rc the result to return: -1, or
 * CENTRAL_READ_DENIED (with the hint added) on a permission error.
 */
static PGresult *
rows(struct central *c, const char *sql, int n, const char *const *v,
    const char *what, int *rc, char *err, size_t errlen)
{
	PGresult *res;
	const char *state;
	size_t l;

	*rc = 0;
	res = PQexecParams(central_pg_conn(c), sql, n, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	*rc = -1;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	central_pg_err(c, res, what, err, errlen);
	if (state != NULL && strcmp(state, SQLSTATE_PRIVILEGE) == 0) {
		*rc = CENTRAL_READ_DENIED;
		if ((l = strlen(err)) < errlen)
			snprintf(err + l, errlen - l, " (the release is read "
			    "by members of " CENTRAL_PG_READER "); "
			    CENTRAL_READ_HINT);
	}
	PQclear(res);
	return NULL;
}

static int64_t
num(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return 0;
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
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

/*
 * Every form libpq takes is parsed by libpq and written back as quoted
 * keys: one escaping rule for the password whatever the form (a URI
 * would need percent-encoding), and "does it set connect_timeout" is a
 * key looked up, not a substring of a host or database name.
 */
int
central_read_conninfo(const char *conninfo, const char *password,
    int timeout_sec, char *out, size_t outlen, char *err, size_t errlen)
{
	PQconninfoOption *opts, *o;
	char *perr = NULL, t[16];
	size_t at = 0;
	int full = 0, has_timeout = 0;
	int pw = password != NULL && password[0] != '\0';

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
			    (pw && strcmp(o->keyword, "password") == 0))
				continue;
			if (strcmp(o->keyword, "connect_timeout") == 0)
				has_timeout = 1;
			full = put_kv(out, outlen, &at, o->keyword,
			    o->val) != 0;
		}
		PQconninfoFree(opts);
		if (full)
			goto full;
	}
	if (!has_timeout && timeout_sec > 0) {
		snprintf(t, sizeof(t), "%d", timeout_sec);
		if (put_kv(out, outlen, &at, "connect_timeout", t) != 0)
			goto full;
	}
	if (pw && put_kv(out, outlen, &at, "password", password) != 0)
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
	int rc, v;

	/* what a report and the dashboard read first: the periods */
	if ((res = rows(c, "SELECT 1 FROM aicensus.period LIMIT 0", 0, NULL,
	    central_pg_name(c), &rc, err, errlen)) != NULL) {
		PQclear(res);
		return 0;
	}
	if (rc == CENTRAL_READ_DENIED)
		return rc;
	/* no such table: say why when it is the schema that is missing */
	if (central_pg_version(c, &v, err, errlen) == 0 && v == 0)
		snprintf(err, errlen, "%s: no aicensus schema in this database:"
		    " create it with 'aicensus central init'",
		    central_pg_name(c));
	return -1;
}

int
central_read_version(struct central *c, int64_t *count, int64_t *last,
    char *err, size_t errlen)
{
	PGresult *res;
	int rc;

	if ((res = rows(c, "SELECT count(*), coalesce(max(released_at), 0)"
	    " FROM aicensus.period", 0, NULL, "cannot read the released "
	    "periods", &rc, err, errlen)) == NULL)
		return rc;
	if (PQntuples(res) != 1 || PQnfields(res) != 2) {
		PQclear(res);
		snprintf(err, errlen, "the released periods: an unexpected "
		    "answer");
		return -1;
	}
	*count = num(res, 0, 0);
	*last = num(res, 0, 1);
	PQclear(res);
	return 0;
}

int
central_read_method(struct central *c, char *buf, size_t len, char *err,
    size_t errlen)
{
	PGresult *res;
	int rc;

	if ((res = rows(c, "SELECT value FROM aicensus.meta WHERE key ="
	    " 'method'", 0, NULL, "cannot read aicensus.meta", &rc, err,
	    errlen)) == NULL)
		return rc;
	snprintf(buf, len, "%s", PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) :
	    "");
	PQclear(res);
	return 0;
}

/*
 * o: the weeks reported, those the organisation's scope released (from
 * = 0: its last one); w: the site's last released week among the weeks
 * asked for; r: the reported weeks as the site's scope has them, a
 * week without a period row or with coverage 0 silent (central_read.h).
 */
#define WEEKS_ASKED(p) \
    "($1::integer = 0 OR " p " BETWEEN $1::integer AND $2::integer)"
static const char sites_sql[] =
    "WITH o AS (SELECT p.period FROM aicensus.period p"
    "  WHERE p.site = '*' AND p.kind = 2 AND CASE WHEN $1::integer = 0"
    "  THEN p.period = (SELECT max(m.period) FROM aicensus.period m"
    "   WHERE m.site = '*' AND m.kind = 2)"
    "  ELSE p.period BETWEEN $1::integer AND $2::integer END)"
    " SELECT s.site,"
    " coalesce(extract(epoch FROM s.last_seen)::bigint, 0),"
    " CASE WHEN s.last_seen IS NULL THEN -1"
    "  ELSE greatest(s.hours_since_seen, 0) END, s.late_rows,"
    " w.period, w.coverage_hours, w.hours_total,"
    " r.weeks, r.silent, r.covered"
    " FROM aicensus.sites s"
    " LEFT JOIN LATERAL (SELECT p.period, p.coverage_hours, p.hours_total"
    "  FROM aicensus.period p WHERE p.site = s.site AND p.kind = 2"
    "  AND " WEEKS_ASKED("p.period")
    "  ORDER BY p.period DESC LIMIT 1) w ON true"
    " CROSS JOIN LATERAL (SELECT count(*) AS weeks,"
    "  count(*) FILTER (WHERE coalesce(p.coverage_hours, 0) = 0)"
    "   AS silent,"
    "  coalesce(sum(p.coverage_hours), 0) AS covered"
    "  FROM o LEFT JOIN aicensus.period p ON p.site = s.site"
    "   AND p.kind = 2 AND p.period = o.period) r"
    " ORDER BY s.site COLLATE \"C\"";

int
central_read_sites(struct central *c, int32_t from, int32_t to,
    struct central_read_site **out, size_t *n, char *err,
    size_t errlen)
{
	char b[2][16];
	const char *v[2] = { b[0], b[1] };
	struct central_read_site *s;
	PGresult *res;
	int i, nr, rc, ver;

	*out = NULL;
	*n = 0;
	if (central_pg_version(c, &ver, err, errlen) != 0)
		return -1;
	if (ver < 3)
		return 0;	/* no site scopes: nothing to say per site */
	if (from == 0)
		to = 0;
	snprintf(b[0], sizeof(b[0]), "%" PRId32, from);
	snprintf(b[1], sizeof(b[1]), "%" PRId32, to);
	if ((res = rows(c, sites_sql, 2, v, "cannot read the sites", &rc,
	    err, errlen)) == NULL)
		return rc;
	nr = PQntuples(res);
	if (PQnfields(res) != 10 ||
	    (s = calloc((size_t)nr + 1, sizeof(*s))) == NULL) {
		PQclear(res);
		snprintf(err, errlen, "the sites: out of memory");
		return -1;
	}
	for (i = 0; i < nr; i++) {
		snprintf(s[i].name, sizeof(s[i].name), "%s",
		    PQgetvalue(res, i, 0));
		s[i].last_seen = num(res, i, 1);
		s[i].hours_since_seen = num(res, i, 2);
		s[i].late_rows = num(res, i, 3);
		s[i].stale = s[i].last_seen == 0 ||
		    s[i].hours_since_seen >= CENTRAL_STALE_HOURS;
		s[i].week = (int32_t)num(res, i, 4);
		s[i].coverage_hours = num(res, i, 5);
		s[i].hours_total = num(res, i, 6);
		s[i].weeks = (unsigned)num(res, i, 7);
		s[i].weeks_silent = (unsigned)num(res, i, 8);
		s[i].hours_covered = num(res, i, 9);
		s[i].silent = s[i].weeks == 0 || s[i].weeks_silent > 0;
	}
	PQclear(res);
	*out = s;
	*n = (size_t)nr;
	return 0;
}
