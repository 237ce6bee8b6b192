/*
 * query.c - sums from usage_hour, distinct devices from the sketches,
 * suppression below the minimum group size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "period.h"
#include "query.h"
#include "sketch.h"

const char *const q_metric_names[QM_N] = {
	"tls_conns", "quic_conns", "ech_conns", "dns_lookups", "dns_nxdomain",
	"bytes_up", "bytes_down", "device_hours"
};

const char *
query_interval_name(enum q_interval i)
{
	static const char *n[] = { "all", "hour", "day", "week" };

	return n[i];
}

void
query_period_label(enum q_interval iv, int64_t period, char *buf, size_t n)
{
	time_t t;
	struct tm tm;

	switch (iv) {
	case QI_HOUR:
		t = (time_t)period;
		localtime_r(&t, &tm);
		strftime(buf, n, "%Y-%m-%dT%H:00%z", &tm);
		break;
	case QI_DAY:
		period_day_format((int32_t)period, buf, (unsigned)n);
		break;
	case QI_WEEK:
		period_week_format((int32_t)period, buf, (unsigned)n);
		break;
	default:
		snprintf(buf, n, "all");
	}
}

int
query_db_min_group(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = 5;

	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key ="
	    " 'min_group_size'", -1, &st, NULL) != SQLITE_OK)
		return v;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = atoi((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v > 0 ? v : 5;
}

int
query_parse_range(const char *s, int64_t *from, int64_t *to)
{
	int y, m, d, q;
	char tail;
	int32_t w;

	if ((w = period_week_parse(s)) > 0) {
		*from = period_week_start(w);
		*to = *from + 7 * 86400 + 3600;	/* DST-safe: snap below */
		{
			struct period p;

			period_of(*to, &p);
			*to = period_day_start(p.day);
		}
		return 0;
	}
	if (sscanf(s, "%4d-Q%1d%c", &y, &q, &tail) == 2 && q >= 1 && q <= 4) {
		*from = period_day_start(y * 10000 + (q * 3 - 2) * 100 + 1);
		*to = q == 4 ? period_day_start((y + 1) * 10000 + 101) :
		    period_day_start(y * 10000 + (q * 3 + 1) * 100 + 1);
		return 0;
	}
	if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && m >= 1 &&
	    m <= 12 && d >= 1 && d <= 31) {
		struct period p;

		*from = period_day_start(y * 10000 + m * 100 + d);
		period_of(*from + 26 * 3600, &p);	/* the next day */
		*to = period_day_start(p.day);
		return 0;
	}
	return -1;
}

/* --- distinct devices ------------------------------------------------- */

struct devacc {
	int64_t		 dept;
	int32_t		 week;
	struct sketch	 sk;
};

/*
 * Merge the sketches rows of one result cell: per (department, week)
 * union, then per department the largest week, then the sum over
 * departments.
 */
static int
devices_from(sqlite3 *db, const char *sql, const struct qrow *r,
    const struct query *q, int64_t lo, int64_t hi, uint64_t *out,
    int *exact)
{
	sqlite3_stmt *st;
	struct devacc *acc = NULL;
	size_t nacc = 0, cap = 0, i, j;
	uint64_t total = 0;
	int rc = 0;

	*exact = 1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, lo);
	sqlite3_bind_int64(st, 2, hi);
	sqlite3_bind_text(st, 3, r->dept, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, q->by_dept);
	sqlite3_bind_text(st, 5, r->svc, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, q->by_svc);
	sqlite3_bind_text(st, 7, r->category, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, q->by_cat);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t dept = sqlite3_column_int64(st, 0);
		int32_t week = sqlite3_column_int(st, 1);

		for (i = 0; i < nacc; i++)
			if (acc[i].dept == dept && acc[i].week == week)
				break;
		if (i == nacc) {
			if (nacc == cap) {
				struct devacc *na;

				cap = cap ? cap * 2 : 16;
				na = realloc(acc, cap * sizeof(*acc));
				if (na == NULL) {
					rc = -1;
					break;
				}
				acc = na;
			}
			acc[nacc].dept = dept;
			acc[nacc].week = week;
			sketch_init(&acc[nacc].sk);
			nacc++;
		}
		if (sketch_merge_serialized(&acc[i].sk,
		    sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2)) != 0)
			*exact = 0;
	}
	sqlite3_finalize(st);
	for (i = 0; i < nacc; i++) {
		uint64_t best;
		int seen_other = 0;

		if (acc[i].dept == INT64_MIN)
			continue;
		best = sketch_estimate(&acc[i].sk);
		for (j = i + 1; j < nacc; j++) {
			if (acc[j].dept != acc[i].dept)
				continue;
			seen_other = 1;
			if (sketch_estimate(&acc[j].sk) > best)
				best = sketch_estimate(&acc[j].sk);
			acc[j].dept = INT64_MIN;
		}
		if (seen_other)
			*exact = 0;
		total += best;
	}
	for (i = 0; i < nacc; i++)
		sketch_reset(&acc[i].sk);
	free(acc);
	*out = total;
	return rc;
}

#define GROUP_FILTER							\
	" AND (?4 = 0 OR d.name = ?3) AND (?6 = 0 OR s.sid = ?5)"	\
	" AND (?8 = 0 OR s.category = ?7)"

static const char sql_days[] =
	"SELECT x.dept, x.week, x.sketch FROM devices_day x"
	" JOIN department d ON d.id = x.dept JOIN service s ON s.id = x.svc"
	" WHERE x.day BETWEEN ?1 AND ?2" GROUP_FILTER;
static const char sql_weeks[] =
	"SELECT x.dept, x.week, x.sketch FROM devices_week x"
	" JOIN department d ON d.id = x.dept JOIN service s ON s.id = x.svc"
	" WHERE x.week BETWEEN ?1 AND ?2" GROUP_FILTER;
static const char sql_hours[] =
	"SELECT x.dept, 0, x.sketch FROM sketch_hour x"
	" JOIN department d ON d.id = x.dept JOIN service s ON s.id = x.svc"
	" WHERE x.hour BETWEEN ?1 AND ?2" GROUP_FILTER;

static int
row_devices(sqlite3 *db, const struct query *q, struct qrow *r)
{
	struct period a, b;
	int64_t lo, hi;

	switch (q->interval) {
	case QI_HOUR:
		/*
		 * One department and service: the stored device_hours is the
		 * hour's exact figure.  Otherwise merge the hour sketches
		 * while they are kept (two days), else a lower bound.
		 */
		if (q->by_dept && q->by_svc) {
			r->devices = r->m[QM_DEVHOURS];
			r->devices_exact = 1;
			return 0;
		}
		if (devices_from(db, sql_hours, r, q, r->period, r->period,
		    &r->devices, &r->devices_exact) != 0)
			return -1;
		if (r->devices == 0 && r->m[QM_DEVHOURS] > 0) {
			r->devices = 1;
			r->devices_exact = 0;
		}
		return 0;
	case QI_DAY:
		return devices_from(db, sql_days, r, q, r->period, r->period,
		    &r->devices, &r->devices_exact);
	case QI_WEEK:
		return devices_from(db, sql_weeks, r, q, r->period, r->period,
		    &r->devices, &r->devices_exact);
	case QI_NONE:
		break;
	}
	period_of(q->from, &a);
	period_of(q->to - 1, &b);
	lo = a.day;
	hi = b.day;
	if (a.week != b.week && period_week_start(a.week) == q->from &&
	    period_week_start(b.week) + 7 * 86400 >= q->to) {
		/* whole weeks: their own sketches */
		return devices_from(db, sql_weeks, r, q, a.week, b.week,
		    &r->devices, &r->devices_exact);
	}
	return devices_from(db, sql_days, r, q, lo, hi, &r->devices,
	    &r->devices_exact);
}

/* --- the query -------------------------------------------------------- */

int
query_run(sqlite3 *db, const struct query *q, struct qresult *out,
    char *err, size_t errlen)
{
	char sql[2048];
	const char *pcol;
	sqlite3_stmt *st;
	size_t cap = 0;
	int i;

	memset(out, 0, sizeof(*out));
	out->min_group = query_db_min_group(db);
	if (q->min_group > out->min_group)
		out->min_group = q->min_group;
	switch (q->interval) {
	case QI_HOUR: pcol = "u.hour"; break;
	case QI_DAY: pcol = "h.day"; break;
	case QI_WEEK: pcol = "h.week"; break;
	default: pcol = "0"; break;
	}
	snprintf(sql, sizeof(sql),
	    "SELECT %s, %s, %s, %s, %s,"
	    " SUM(u.tls_conns), SUM(u.quic_conns), SUM(u.ech_conns),"
	    " SUM(u.dns_lookups), SUM(u.dns_nxdomain), SUM(u.bytes_up),"
	    " SUM(u.bytes_down), SUM(u.device_hours)"
	    " FROM usage_hour u JOIN department d ON d.id = u.dept"
	    " JOIN service s ON s.id = u.svc JOIN hour_dim h ON h.hour = u.hour"
	    " WHERE u.hour >= ?1 AND u.hour < ?2"
	    " GROUP BY 1, 2, 3, 5 ORDER BY 1, 2, 3, 5",
	    pcol, q->by_dept ? "d.name" : "''", q->by_svc ? "s.sid" : "''",
	    q->by_svc ? "MIN(s.name)" : "''",
	    q->by_cat || q->by_svc ? "s.category" : "''");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "query: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, q->from);
	sqlite3_bind_int64(st, 2, q->to);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct qrow *r;

		if (out->n == cap) {
			struct qrow *nr;

			cap = cap ? cap * 2 : 64;
			if ((nr = realloc(out->rows, cap * sizeof(*nr))) ==
			    NULL) {
				sqlite3_finalize(st);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			out->rows = nr;
		}
		r = &out->rows[out->n++];
		memset(r, 0, sizeof(*r));
		r->period = sqlite3_column_int64(st, 0);
		snprintf(r->dept, sizeof(r->dept), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		snprintf(r->svc, sizeof(r->svc), "%s",
		    (const char *)sqlite3_column_text(st, 2));
		snprintf(r->svc_name, sizeof(r->svc_name), "%s",
		    (const char *)sqlite3_column_text(st, 3));
		snprintf(r->category, sizeof(r->category), "%s",
		    (const char *)sqlite3_column_text(st, 4));
		for (i = 0; i < QM_N; i++)
			r->m[i] = (uint64_t)sqlite3_column_int64(st, 5 + i);
	}
	sqlite3_finalize(st);
	for (size_t k = 0; k < out->n; k++) {
		struct qrow *r = &out->rows[k];

		if (row_devices(db, q, r) != 0) {
			snprintf(err, errlen, "query: %s", sqlite3_errmsg(db));
			return -1;
		}
		/* the privacy rule: the whole cell goes, not just a number */
		if (r->devices < (uint64_t)out->min_group) {
			r->suppressed = 1;
			memset(r->m, 0, sizeof(r->m));
			r->devices = 0;
			out->suppressed++;
		}
	}
	return 0;
}

void
query_free(struct qresult *r)
{
	free(r->rows);
	memset(r, 0, sizeof(*r));
}
