/*
 * central_sites.c - the central release's reads of the site side
 * (central_sites.h).  Sums are SQL sums over site_cell; the grid, the
 * mapping of departments and the protection are the release stage's.
 * A NULL site means every site (the organisation's scope): the
 * statements take it as a NULL text parameter ($n IS NULL OR site = $n).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/central_pg.h"
#include "store/central_sites.h"

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

static uint64_t
unum(const PGresult *res, int r, int col)
{
	long long v;

	if (PQgetisnull(res, r, col))
		return 0;
	v = strtoll(PQgetvalue(res, r, col), NULL, 10);
	return v > 0 ? (uint64_t)v : 0;
}

int
central_sites_pending(struct central *c, enum rel_kind kind, int32_t **out,
    size_t *n, char *err, size_t errlen)
{
	char b[8];
	const char *v[1] = { b };
	PGresult *res;
	int i, nr;

	*out = NULL;
	*n = 0;
	snprintf(b, sizeof(b), "%d", (int)kind);
	if ((res = rows(c, "SELECT period FROM (SELECT period FROM"
	    " aicensus.site_period WHERE kind = $1 UNION SELECT period FROM"
	    " aicensus.site_cell WHERE kind = $1) s WHERE NOT EXISTS (SELECT 1"
	    " FROM aicensus.period p WHERE p.site = '*' AND p.kind = $1 AND"
	    " p.period = s.period) ORDER BY period", 1, v,
	    "cannot read the sites' periods", err, errlen)) == NULL)
		return -1;
	nr = PQntuples(res);
	if (nr > 0 && (*out = calloc((size_t)nr, sizeof(**out))) == NULL) {
		PQclear(res);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < nr; i++)
		(*out)[i] = (int32_t)strtol(PQgetvalue(res, i, 0), NULL, 10);
	*n = (size_t)nr;
	PQclear(res);
	return 0;
}

int
central_sites_sum(struct central *c, enum rel_kind kind, int32_t period,
    const char *site, struct rel_cell **out, size_t *n, char *err,
    size_t errlen)
{
	char b[2][24];
	const char *v[3] = { b[0], b[1], site };
	struct rel_cell *cells = NULL;
	PGresult *res;
	int i, j, nr;

	*out = NULL;
	*n = 0;
	snprintf(b[0], sizeof(b[0]), "%d", (int)kind);
	snprintf(b[1], sizeof(b[1]), "%" PRId32, period);
	/* numeric sums cannot overflow; clipped to bigint on the way out. */
	if ((res = rows(c, "SELECT dept, svc,"
	    " least(sum(devices), 9223372036854775807)::bigint,"
	    " least(sum(device_hours), 9223372036854775807)::bigint,"
	    " least(sum(tls), 9223372036854775807)::bigint,"
	    " least(sum(quic), 9223372036854775807)::bigint,"
	    " least(sum(ech), 9223372036854775807)::bigint,"
	    " least(sum(conns), 9223372036854775807)::bigint,"
	    " least(sum(dns), 9223372036854775807)::bigint,"
	    " least(sum(nxdomain), 9223372036854775807)::bigint,"
	    " least(sum(bytes_up), 9223372036854775807)::bigint,"
	    " least(sum(bytes_down), 9223372036854775807)::bigint"
	    " FROM aicensus.site_cell WHERE kind = $1 AND period = $2"
	    " AND ($3::text IS NULL OR site = $3::text)"
	    " GROUP BY dept, svc ORDER BY dept COLLATE \"C\", svc COLLATE \"C\"",
	    3, v, "cannot sum the sites' cells", err, errlen)) == NULL)
		return -1;
	nr = PQntuples(res);
	if (nr > 0 && (cells = calloc((size_t)nr, sizeof(*cells))) == NULL) {
		PQclear(res);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < nr; i++) {
		cells[i].kind = kind;
		cells[i].period = period;
		snprintf(cells[i].dept, sizeof(cells[i].dept), "%s",
		    PQgetvalue(res, i, 0));
		snprintf(cells[i].svc, sizeof(cells[i].svc), "%s",
		    PQgetvalue(res, i, 1));
		for (j = 0; j < RM_N; j++)
			cells[i].m[j] = unum(res, i, 2 + j);
	}
	PQclear(res);
	*out = cells;
	*n = (size_t)nr;
	return 0;
}

int
central_sites_blind(struct central *c, int32_t day, const char *site,
    uint64_t v[RB_N], char *err, size_t errlen)
{
	char b[24];
	const char *p[2] = { b, site };
	PGresult *res;
	int r, i;

	memset(v, 0, RB_N * sizeof(v[0]));
	snprintf(b, sizeof(b), "%" PRId32, day);
	if ((res = rows(c, "SELECT name, least(sum(value),"
	    " 9223372036854775807)::bigint FROM aicensus.site_blind"
	    " WHERE day = $1 AND ($2::text IS NULL OR site = $2::text)"
	    " GROUP BY name", 2, p,
	    "cannot sum the sites' blind-spot figures", err, errlen)) == NULL)
		return -1;
	for (r = 0; r < PQntuples(res); r++)
		for (i = 0; i < RB_N; i++)
			if (strcmp(PQgetvalue(res, r, 0),
			    rel_blind_names[i]) == 0) {
				v[i] = unum(res, r, 1);
				break;
			}
	PQclear(res);
	return 0;
}

int
central_sites_cover(struct central *c, enum rel_kind kind, int32_t period,
    const char *site, struct central_cover *cv, char *err, size_t errlen)
{
	char b[2][24];
	const char *v[3] = { b[0], b[1], site };
	PGresult *res;

	memset(cv, 0, sizeof(*cv));
	snprintf(b[0], sizeof(b[0]), "%d", (int)kind);
	snprintf(b[1], sizeof(b[1]), "%" PRId32, period);
	if ((res = rows(c, "SELECT count(*),"
	    " count(*) FILTER (WHERE coalesce(p.coverage_hours, 0) = 0),"
	    " coalesce(min(coalesce(p.coverage_hours, 0)), 0),"
	    " coalesce(max(p.hours_total), 0)"
	    " FROM aicensus.site s LEFT JOIN aicensus.site_period p"
	    " ON p.site = s.name AND p.kind = $1 AND p.period = $2"
	    " WHERE $3::text IS NULL OR s.name = $3::text", 3, v,
	    "cannot read the sites' coverage", err, errlen)) == NULL)
		return -1;
	cv->sites = (unsigned)unum(res, 0, 0);
	cv->silent = (unsigned)unum(res, 0, 1);
	cv->min_coverage = (unsigned)unum(res, 0, 2);
	cv->hours_total = (unsigned)unum(res, 0, 3);
	PQclear(res);
	return 0;
}

int
central_sites_retention(struct central *c, int32_t cutoff_day,
    int32_t cutoff_week, char *err, size_t errlen)
{
	static const char *const sql[] = {
		"DELETE FROM aicensus.site_cell WHERE (kind = 1 AND period < $1)"
		    " OR (kind = 2 AND period < $2)",
		"DELETE FROM aicensus.site_period WHERE (kind = 1 AND"
		    " period < $1) OR (kind = 2 AND period < $2)",
		"DELETE FROM aicensus.site_blind WHERE day < $1",
	};
	PGconn *conn = central_pg_conn(c);
	char b[2][24];
	const char *v[2] = { b[0], b[1] };
	PGresult *res;
	size_t i;
	int n = 0;

	snprintf(b[0], sizeof(b[0]), "%" PRId32, cutoff_day);
	snprintf(b[1], sizeof(b[1]), "%" PRId32, cutoff_week);
	res = PQexec(conn, "BEGIN");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		central_pg_err(c, res, "cannot begin a transaction", err,
		    errlen);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		res = PQexecParams(conn, sql[i], i == 2 ? 1 : 2, NULL, v, NULL,
		    NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			central_pg_err(c, res, "retention of the sites' rows",
			    err, errlen);
			PQclear(res);
			PQclear(PQexec(conn, "ROLLBACK"));
			return -1;
		}
		n += atoi(PQcmdTuples(res));
		PQclear(res);
	}
	res = PQexec(conn, "COMMIT");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		central_pg_err(c, res, "retention of the sites' rows", err,
		    errlen);
		PQclear(res);
		PQclear(PQexec(conn, "ROLLBACK"));
		return -1;
	}
	PQclear(res);
	return n;
}

/* ---- releasing a period -------------------------------------------- */

static int
exec1(struct central *c, const char *sql, const char *what, char *err,
    size_t errlen)
{
	PGresult *res;

	res = PQexec(central_pg_conn(c), sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		central_pg_err(c, res, what, err, errlen);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

/*
 * SHARE ROW EXCLUSIVE: sensors' INSERT and UPDATE wait until the
 * transaction ends (their ROW EXCLUSIVE conflicts with it), and so does
 * a second release taking the same lock; readers of the release side
 * are not held up.
 */
int
central_sites_begin(struct central *c, char *err, size_t errlen)
{
	if (exec1(c, "BEGIN", "cannot begin a transaction", err, errlen) != 0)
		return -1;
	if (exec1(c, "LOCK TABLE aicensus.site_cell, aicensus.site_period,"
	    " aicensus.site_blind IN SHARE ROW EXCLUSIVE MODE",
	    "cannot lock the sites' rows", err, errlen) != 0) {
		central_sites_end(c, 0, NULL, 0);
		return -1;
	}
	return 0;
}

int
central_sites_end(struct central *c, int commit, char *err, size_t errlen)
{
	if (commit)
		return exec1(c, "COMMIT", "cannot commit", err, errlen);
	PQclear(PQexec(central_pg_conn(c), "ROLLBACK"));
	return 0;
}

int
central_sites_shipped(struct central *c, enum rel_kind kind, int32_t period,
    struct central_site **out, size_t *n, char *err, size_t errlen)
{
	char b[2][24];
	const char *v[2] = { b[0], b[1] };
	struct central_site *s = NULL;
	PGresult *res;
	int i, nr;

	*out = NULL;
	*n = 0;
	snprintf(b[0], sizeof(b[0]), "%d", (int)kind);
	snprintf(b[1], sizeof(b[1]), "%" PRId32, period);
	if ((res = rows(c, "SELECT site COLLATE \"C\" FROM"
	    " aicensus.site_period WHERE kind = $1 AND period = $2"
	    " UNION SELECT site FROM aicensus.site_cell"
	    "  WHERE kind = $1 AND period = $2"
	    " UNION SELECT site FROM aicensus.site_blind"
	    "  WHERE $1 = 1 AND day = $2 ORDER BY 1", 2, v,
	    "cannot read which sites shipped", err, errlen)) == NULL)
		return -1;
	nr = PQntuples(res);
	if (nr > 0 && (s = calloc((size_t)nr, sizeof(*s))) == NULL) {
		PQclear(res);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < nr; i++)
		snprintf(s[i].name, sizeof(s[i].name), "%s",
		    PQgetvalue(res, i, 0));
	PQclear(res);
	*out = s;
	*n = (size_t)nr;
	return 0;
}

int
central_sites_consume(struct central *c, enum rel_kind kind, int32_t period,
    char *err, size_t errlen)
{
	static const char *const sql[] = {
		"DELETE FROM aicensus.site_cell WHERE kind = $1 AND"
		    " period = $2",
		"DELETE FROM aicensus.site_period WHERE kind = $1 AND"
		    " period = $2",
		"DELETE FROM aicensus.site_blind WHERE $1 = 1 AND day = $2",
	};
	char b[2][24];
	const char *v[2] = { b[0], b[1] };
	PGresult *res;
	size_t i;
	int n = 0;

	snprintf(b[0], sizeof(b[0]), "%d", (int)kind);
	snprintf(b[1], sizeof(b[1]), "%" PRId32, period);
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		res = PQexecParams(central_pg_conn(c), sql[i], 2, NULL, v, NULL,
		    NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			central_pg_err(c, res, "cannot delete the released"
			    " raw rows", err, errlen);
			PQclear(res);
			return -1;
		}
		n += atoi(PQcmdTuples(res));
		PQclear(res);
	}
	return n;
}

/*
 * One statement: the rows of released periods (the organisation's
 * scope holds the period) are deleted and counted per site into
 * site.late_rows, all or nothing.
 */
int
central_sites_late(struct central *c, char *err, size_t errlen)
{
	PGresult *res;
	int n;

	if (central_sites_begin(c, err, errlen) != 0)
		return -1;
	res = PQexec(central_pg_conn(c),
	    "WITH dc AS (DELETE FROM aicensus.site_cell x USING"
	    "  aicensus.period p WHERE p.site = '*' AND p.kind = x.kind AND"
	    "  p.period = x.period RETURNING x.site),"
	    " dp AS (DELETE FROM aicensus.site_period x USING"
	    "  aicensus.period p WHERE p.site = '*' AND p.kind = x.kind AND"
	    "  p.period = x.period RETURNING x.site),"
	    " db AS (DELETE FROM aicensus.site_blind x USING"
	    "  aicensus.period p WHERE p.site = '*' AND p.kind = 1 AND"
	    "  p.period = x.day RETURNING x.site),"
	    " n AS (SELECT site, count(*) AS rows FROM (SELECT site FROM dc"
	    "  UNION ALL SELECT site FROM dp UNION ALL SELECT site FROM db) a"
	    "  GROUP BY site),"
	    " u AS (UPDATE aicensus.site s SET late_rows = s.late_rows +"
	    "  n.rows FROM n WHERE s.name = n.site RETURNING n.rows)"
	    " SELECT coalesce(sum(rows), 0) FROM u");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		central_pg_err(c, res, "cannot count the late rows", err,
		    errlen);
		PQclear(res);
		central_sites_end(c, 0, NULL, 0);
		return -1;
	}
	n = (int)unum(res, 0, 0);
	PQclear(res);
	if (central_sites_end(c, 1, err, errlen) != 0) {
		central_sites_end(c, 0, NULL, 0);
		return -1;
	}
	return n;
}
