/*
 * query_v1.c - TEMPORARY (see query_v1.h): the v1 query for the v1
 * report.c only.  Sums from usage_hour, distinct devices from the sketches,
 * suppression below the minimum group size.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "period.h"
#include "query_v1.h"
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
	/* The year must be four digits: %4d alone also takes a sign and
	 * leading white space, and " -6-11-16" gave from > to. */
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]) || !isdigit((unsigned char)s[3]))
		return -1;
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

struct devset {
	struct devacc	*acc;
	size_t		 n, cap;
	int		 exact;
};

/* Merge the sketches of one base cell into the set, per (dept, week). */
static int
devset_add(sqlite3 *db, const char *sql, const struct qrow *r, int64_t lo,
    int64_t hi, struct devset *ds)
{
	sqlite3_stmt *st;
	size_t i;
	int rc = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, lo);
	sqlite3_bind_int64(st, 2, hi);
	sqlite3_bind_text(st, 3, r->dept, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->svc, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t dept = sqlite3_column_int64(st, 0);
		int32_t week = sqlite3_column_int(st, 1);

		for (i = 0; i < ds->n; i++)
			if (ds->acc[i].dept == dept && ds->acc[i].week == week)
				break;
		if (i == ds->n) {
			if (ds->n == ds->cap) {
				size_t nc = ds->cap ? ds->cap * 2 : 8;
				struct devacc *na = realloc(ds->acc,
				    nc * sizeof(*na));

				if (na == NULL) {
					rc = -1;
					break;
				}
				ds->acc = na;
				ds->cap = nc;
			}
			ds->acc[i].dept = dept;
			ds->acc[i].week = week;
			sketch_init(&ds->acc[i].sk);
			ds->n++;
		}
		if (sketch_merge_serialized(&ds->acc[i].sk,
		    sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2)) != 0)
			ds->exact = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Per department the largest week (sketches of different weeks were made
 * under different keys: a lower bound), then the sum over departments
 * (a device belongs to one department).  Frees the set.
 */
static uint64_t
devset_total(struct devset *ds, int *exact)
{
	uint64_t total = 0;
	size_t i, j;

	*exact = ds->exact;
	for (i = 0; i < ds->n; i++) {
		uint64_t best;

		if (ds->acc[i].dept == INT64_MIN)
			continue;
		best = sketch_estimate(&ds->acc[i].sk);
		for (j = i + 1; j < ds->n; j++) {
			if (ds->acc[j].dept != ds->acc[i].dept)
				continue;
			*exact = 0;
			if (sketch_estimate(&ds->acc[j].sk) > best)
				best = sketch_estimate(&ds->acc[j].sk);
			ds->acc[j].dept = INT64_MIN;
		}
		total += best;
	}
	for (i = 0; i < ds->n; i++)
		sketch_reset(&ds->acc[i].sk);
	free(ds->acc);
	memset(ds, 0, sizeof(*ds));
	ds->exact = 1;
	return total;
}

#define GROUP_FILTER " AND d.name = ?3 AND s.sid = ?4"

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

/* Which sketches hold a cell's devices, and over which key range. */
static const char *
devices_source(const struct query *q, int64_t period, int64_t *lo,
    int64_t *hi)
{
	struct period a, b;

	*lo = *hi = period;
	switch (q->interval) {
	case QI_HOUR:
		return sql_hours;
	case QI_DAY:
		return sql_days;
	case QI_WEEK:
		return sql_weeks;
	case QI_NONE:
		break;
	}
	period_of(q->from, &a);
	period_of(q->to - 1, &b);
	if (a.week != b.week && period_week_start(a.week) == q->from &&
	    period_week_start(b.week) + 7 * 86400 >= q->to) {
		*lo = a.week;	/* whole weeks: their own sketches */
		*hi = b.week;
		return sql_weeks;
	}
	*lo = a.day;
	*hi = b.day;
	return sql_days;
}

/* Distinct devices of one base (period, department, service) cell. */
static int
base_devices(sqlite3 *db, const struct query *q, struct qrow *r)
{
	struct devset ds = { NULL, 0, 0, 1 };
	const char *sql;
	int64_t lo, hi;

	if (q->interval == QI_HOUR) {
		/* the stored device_hours is the hour's exact figure */
		r->devices = r->m[QM_DEVHOURS];
		r->devices_exact = 1;
		return 0;
	}
	sql = devices_source(q, r->period, &lo, &hi);
	if (devset_add(db, sql, r, lo, hi, &ds) != 0) {
		devset_total(&ds, &r->devices_exact);
		return -1;
	}
	r->devices = devset_total(&ds, &r->devices_exact);
	return 0;
}

/* --- the query -------------------------------------------------------- */

static int
out_key_cmp(const struct query *q, const struct qrow *a, const struct qrow *b)
{
	int c;

	if (a->period != b->period)
		return a->period < b->period ? -1 : 1;
	if (q->by_dept && (c = strcmp(a->dept, b->dept)) != 0)
		return c;
	if (q->by_svc && (c = strcmp(a->svc, b->svc)) != 0)
		return c;
	if ((q->by_cat || q->by_svc) && (c = strcmp(a->category,
	    b->category)) != 0)
		return c;
	return 0;
}

/* qsort_r: no global, so queries may run in threads */
static int
base_cmp(const void *x, const void *y, void *qp)
{
	const struct qrow *a = x, *b = y;
	int c = out_key_cmp(qp, a, b);

	if (c != 0)
		return c;
	if ((c = strcmp(a->dept, b->dept)) != 0)
		return c;
	return strcmp(a->svc, b->svc);
}

/* The base cells: one per (period, department, service). */
static int
load_base(sqlite3 *db, const struct query *q, struct qresult *base,
    char *err, size_t errlen)
{
	char sql[1024];
	const char *pcol;
	sqlite3_stmt *st;
	size_t cap = 0;
	int i;

	switch (q->interval) {
	case QI_HOUR: pcol = "u.hour"; break;
	case QI_DAY: pcol = "h.day"; break;
	case QI_WEEK: pcol = "h.week"; break;
	default: pcol = "0"; break;
	}
	snprintf(sql, sizeof(sql),
	    "SELECT %s, d.name, s.sid, MIN(s.name), MIN(s.category),"
	    " SUM(u.tls_conns), SUM(u.quic_conns), SUM(u.ech_conns),"
	    " SUM(u.dns_lookups), SUM(u.dns_nxdomain), SUM(u.bytes_up),"
	    " SUM(u.bytes_down), SUM(u.device_hours)"
	    " FROM usage_hour u JOIN department d ON d.id = u.dept"
	    " JOIN service s ON s.id = u.svc JOIN hour_dim h ON h.hour = u.hour"
	    " WHERE u.hour >= ?1 AND u.hour < ?2"
	    " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", pcol);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "query: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, q->from);
	sqlite3_bind_int64(st, 2, q->to);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct qrow *r;

		if (base->n == cap) {
			struct qrow *nr;

			cap = cap ? cap * 2 : 64;
			if ((nr = realloc(base->rows, cap * sizeof(*nr))) ==
			    NULL) {
				sqlite3_finalize(st);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			base->rows = nr;
		}
		r = &base->rows[base->n++];
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
	return 0;
}

static void
suppress(struct qrow *r)
{
	r->suppressed = 1;
	memset(r->m, 0, sizeof(r->m));
	r->devices = 0;
}

/*
 * Roll the published base cells of one output group up into *o.  A
 * suppressed base cell contributes nothing to any total: otherwise a
 * total minus its shown parts would give the hidden cell away.
 */
static int
roll_up(sqlite3 *db, const struct query *q, const struct qrow *b, size_t n,
    struct qrow *o)
{
	struct devset ds = { NULL, 0, 0, 1 };
	uint64_t best = 0;
	size_t i;
	int k, rc = 0;

	*o = b[0];
	o->suppressed = 0;
	memset(o->m, 0, sizeof(o->m));
	if (!q->by_dept)
		o->dept[0] = '\0';
	if (!q->by_svc) {
		o->svc[0] = '\0';
		o->svc_name[0] = '\0';
		if (!q->by_cat)
			o->category[0] = '\0';
	}
	o->withheld = 0;
	for (i = 0; i < n; i++) {
		const char *sql;
		int64_t lo, hi;

		if (b[i].suppressed) {
			o->withheld++;
			continue;
		}
		for (k = 0; k < QM_N; k++)
			o->m[k] += b[i].m[k];
		if (b[i].devices > best)
			best = b[i].devices;
		sql = devices_source(q, b[i].period, &lo, &hi);
		if (devset_add(db, sql, &b[i], lo, hi, &ds) != 0)
			rc = -1;
	}
	o->devices = devset_total(&ds, &o->devices_exact);
	if (q->interval == QI_HOUR && o->devices < best) {
		/* hour sketches are gone after a few hours: a lower bound */
		o->devices = best;
		o->devices_exact = 0;
	}
	return rc;
}

int
query_run(sqlite3 *db, const struct query *q, struct qresult *out,
    char *err, size_t errlen)
{
	struct qresult base;
	size_t i, j, nout = 0;

	memset(out, 0, sizeof(*out));
	memset(&base, 0, sizeof(base));
	out->min_group = query_db_min_group(db);
	if (q->min_group > out->min_group)
		out->min_group = q->min_group;
	if (load_base(db, q, &base, err, errlen) != 0)
		goto fail;
	/* the privacy rule, first on every base cell, as a whole */
	for (i = 0; i < base.n; i++) {
		if (base_devices(db, q, &base.rows[i]) != 0)
			goto dberr;
		if (base.rows[i].devices < (uint64_t)out->min_group)
			suppress(&base.rows[i]);
	}
	if (q->by_dept && q->by_svc) {
		*out = base;
		out->min_group = q->min_group > query_db_min_group(db) ?
		    q->min_group : query_db_min_group(db);
		for (i = 0; i < out->n; i++)
			out->suppressed += out->rows[i].suppressed;
		return 0;
	}
	if (base.n > 1)
		qsort_r(base.rows, base.n, sizeof(*base.rows), base_cmp,
		    (void *)(uintptr_t)q);
	if (base.n > 0 && (out->rows = calloc(base.n, sizeof(*out->rows))) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < base.n; i = j) {
		struct qrow *o = &out->rows[nout++];

		for (j = i + 1; j < base.n &&
		    out_key_cmp(q, &base.rows[i], &base.rows[j]) == 0; j++)
			;
		if (roll_up(db, q, &base.rows[i], j - i, o) != 0)
			goto dberr;
		/* and then on the group itself */
		if (o->devices < (uint64_t)out->min_group) {
			suppress(o);
			out->suppressed++;
		}
	}
	out->n = nout;
	query_free(&base);
	return 0;
dberr:
	snprintf(err, errlen, "query: %s", sqlite3_errmsg(db));
fail:
	query_free(&base);
	query_free(out);
	return -1;
}

void
query_free(struct qresult *r)
{
	free(r->rows);
	memset(r, 0, sizeof(*r));
}
