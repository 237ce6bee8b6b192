/*
 * central_sites.c - the central release's reads of the site side
 * (central_sites.h).  Sums are SQL sums over site_cell; the grid, the
 * mapping of departments and the protection are the release stage's.
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
	    " FROM aicensus.period p WHERE p.kind = $1 AND p.period ="
	    " s.period) ORDER BY period", 1, v, "cannot read the sites'"
	    " periods", err, errlen)) == NULL)
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
    struct rel_cell **out, size_t *n, char *err, size_t errlen)
{
	char b[2][24];
	const char *v[2] = { b[0], b[1] };
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
	    " GROUP BY dept, svc ORDER BY dept COLLATE \"C\", svc COLLATE \"C\"",
	    2, v, "cannot sum the sites' cells", err, errlen)) == NULL)
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
central_sites_blind(struct central *c, int32_t day, uint64_t v[RB_N],
    char *err, size_t errlen)
{
	char b[24];
	const char *p[1] = { b };
	PGresult *res;
	int r, i;

	memset(v, 0, RB_N * sizeof(v[0]));
	snprintf(b, sizeof(b), "%" PRId32, day);
	if ((res = rows(c, "SELECT name, least(sum(value),"
	    " 9223372036854775807)::bigint FROM aicensus.site_blind"
	    " WHERE day = $1 GROUP BY name", 1, p,
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
    struct central_cover *cv, char *err, size_t errlen)
{
	char b[2][24];
	const char *v[2] = { b[0], b[1] };
	PGresult *res;

	memset(cv, 0, sizeof(*cv));
	snprintf(b[0], sizeof(b[0]), "%d", (int)kind);
	snprintf(b[1], sizeof(b[1]), "%" PRId32, period);
	if ((res = rows(c, "SELECT count(*),"
	    " count(*) FILTER (WHERE coalesce(p.coverage_hours, 0) = 0),"
	    " coalesce(min(coalesce(p.coverage_hours, 0)), 0),"
	    " coalesce(max(p.hours_total), 0)"
	    " FROM aicensus.site s LEFT JOIN aicensus.site_period p"
	    " ON p.site = s.name AND p.kind = $1 AND p.period = $2", 2, v,
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
