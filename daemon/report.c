/*
 * report.c - the figures of a report: periods, the queries, the privacy
 * rules of report.h, first uses and blind spots.  Layout is left to the
 * renderers (report_html.c, report_text.c, report_json.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "i18n.h"
#include "period.h"
#include "query.h"
#include "report.h"
#include "report_model.h"

#define TREND_WEEKS	8

/* --- options ----------------------------------------------------------- */

void
report_opts_init(struct report_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->span = REPORT_WEEK;
	o->format = REPORT_HTML;
	snprintf(o->lang, sizeof(o->lang), "en");
}

int
report_format_parse(const char *s, enum report_format *f)
{
	static const char *names[] = { "html", "md", "csv", "json" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*f = (enum report_format)i;
			return 0;
		}
	if (strcmp(s, "markdown") == 0) {
		*f = REPORT_MD;
		return 0;
	}
	return -1;
}

int
report_parse_week(const char *s, struct report_opts *o)
{
	int32_t w = 0;

	if (strcmp(s, "last") != 0 && (w = period_week_parse(s)) <= 0)
		return -1;
	o->span = REPORT_WEEK;
	o->week = w;
	return 0;
}

int
report_parse_quarter(const char *s, struct report_opts *o)
{
	int y, q;
	char tail;

	o->span = REPORT_QUARTER;
	if (strcmp(s, "last") == 0) {
		o->year = o->quarter = 0;
		return 0;
	}
	if (sscanf(s, "%4d-Q%1d%c", &y, &q, &tail) != 2 || y < 1970 ||
	    q < 1 || q > 4)
		return -1;
	o->year = y;
	o->quarter = q;
	return 0;
}

/* --- calendar ---------------------------------------------------------- */

static int32_t
week_of(int64_t t)
{
	struct period p;

	period_of(t, &p);
	return p.week;
}

static int32_t
day_of(int64_t t)
{
	struct period p;

	period_of(t, &p);
	return p.day;
}

/* Noon keeps these clear of DST shifts at either end of a day. */
static int32_t
week_next(int32_t w)
{
	return week_of(period_week_start(w) + 7 * 86400 + 43200);
}

static int32_t
week_prev(int32_t w)
{
	return week_of(period_week_start(w) - 43200);
}

static int32_t
week_thursday(int32_t w)
{
	return day_of(period_week_start(w) + 3 * 86400 + 43200);
}

static int32_t
quarter_first_day(int y, int q)
{
	return y * 10000 + (q * 3 - 2) * 100 + 1;
}

/* The ISO weeks whose Thursday falls in the quarter; count returned. */
static size_t
quarter_weeks(int y, int q, int32_t *out, size_t max)
{
	int32_t first = quarter_first_day(y, q);
	int32_t next = q == 4 ? quarter_first_day(y + 1, 1) :
	    quarter_first_day(y, q + 1);
	int32_t w = week_of(period_day_start(first) + 43200);
	size_t n = 0;

	if (week_thursday(w) < first)
		w = week_next(w);
	while (n < max && week_thursday(w) < next) {
		out[n++] = w;
		w = week_next(w);
	}
	return n;
}

static void
resolve_last(const struct report_opts *o, int64_t now, int32_t *week,
    int *year, int *quarter)
{
	int32_t today = day_of(now);
	int q = (today / 100 % 100 - 1) / 3 + 1;

	*week = o->week ? o->week : week_prev(week_of(now));
	*year = o->year;
	*quarter = o->quarter;
	if (o->quarter == 0) {
		*year = today / 10000;
		*quarter = q - 1;
		if (*quarter == 0) {
			*quarter = 4;
			(*year)--;
		}
	}
}

/* --- the database ------------------------------------------------------ */

static int
db_timezone(sqlite3 *db, char *tz, size_t n, char *err, size_t errlen)
{
	sqlite3_stmt *st;

	*tz = '\0';
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key ="
	    " 'timezone'", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "not an aicensus database (%s)",
		    sqlite3_errmsg(db));
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(tz, n, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (strcmp(tz, "system") == 0)
		*tz = '\0';
	if (period_set_tz(tz) != 0) {
		snprintf(err, errlen, "the database's time zone '%s' is not"
		    " installed (apt-get install tzdata)", tz);
		return -1;
	}
	return 0;
}

static int64_t
opts_now(const struct report_opts *o)
{
	return o->now ? o->now : (int64_t)time(NULL);
}

int
report_period_label(sqlite3 *db, const struct report_opts *o, char *buf,
    size_t n, char *err, size_t errlen)
{
	char tz[64];
	int32_t w;
	int y, q;

	if (db_timezone(db, tz, sizeof(tz), err, errlen) != 0)
		return -1;
	resolve_last(o, opts_now(o), &w, &y, &q);
	if (o->span == REPORT_QUARTER)
		snprintf(buf, n, "%04d-Q%d", y, q);
	else
		period_week_format(w, buf, (unsigned)n);
	return 0;
}

/* EU, or one of its member states (the catalog may name either). */
static enum rjur
jur_group(const char *code)
{
	static const char eu[] = "EU AT BE BG HR CY CZ DK EE FI FR DE GR HU"
	    " IE IT LV LT LU MT NL PL PT RO SK SI ES SE";
	const char *p;

	if (strcmp(code, "US") == 0)
		return RJ_US;
	if (strcmp(code, "CN") == 0)
		return RJ_CN;
	if (strlen(code) == 2)
		for (p = eu; *p; p += p[2] ? 3 : 2)
			if (p[0] == code[0] && p[1] == code[1])
				return RJ_EU;
	return RJ_OTHER;
}

static int
load_dims(struct report *R, sqlite3 *db)
{
	sqlite3_stmt *st;
	size_t cap;

	/* ORDER BY uses strcmp order, so the arrays can be bsearch()ed. */
	if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM department", -1,
	    &st, NULL) != SQLITE_OK)
		return -1;
	cap = sqlite3_step(st) == SQLITE_ROW ?
	    (size_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	R->dept = calloc(cap + 1, sizeof(*R->dept));
	if (R->dept == NULL || sqlite3_prepare_v2(db, "SELECT id, name FROM"
	    " department ORDER BY name", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (R->ndept < cap && sqlite3_step(st) == SQLITE_ROW) {
		struct rdept *d = &R->dept[R->ndept++];

		d->id = sqlite3_column_int64(st, 0);
		snprintf(d->name, sizeof(d->name), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		d->unassigned = strcmp(d->name, "unassigned") == 0;
	}
	sqlite3_finalize(st);

	if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM service", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	cap = sqlite3_step(st) == SQLITE_ROW ?
	    (size_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	R->svc = calloc(cap + 1, sizeof(*R->svc));
	R->cat = calloc(cap + 1, sizeof(*R->cat));
	if (R->svc == NULL || R->cat == NULL ||
	    sqlite3_prepare_v2(db, "SELECT id, sid, name, vendor, category,"
	    " jurisdiction, sanctioned FROM service ORDER BY sid", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	while (R->nsvc < cap && sqlite3_step(st) == SQLITE_ROW) {
		struct rsvc *s = &R->svc[R->nsvc++];
		size_t i;

		s->id = sqlite3_column_int64(st, 0);
		snprintf(s->sid, sizeof(s->sid), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		snprintf(s->name, sizeof(s->name), "%s",
		    (const char *)sqlite3_column_text(st, 2));
		snprintf(s->vendor, sizeof(s->vendor), "%s",
		    (const char *)sqlite3_column_text(st, 3));
		snprintf(s->category, sizeof(s->category), "%s",
		    (const char *)sqlite3_column_text(st, 4));
		snprintf(s->jurisdiction, sizeof(s->jurisdiction), "%s",
		    (const char *)sqlite3_column_text(st, 5));
		s->sanctioned = sqlite3_column_int(st, 6) != 0;
		s->jur = jur_group(s->jurisdiction);
		for (i = 0; i < R->ncat; i++)
			if (strcmp(R->cat[i], s->category) == 0)
				break;
		if (i == R->ncat)
			snprintf(R->cat[R->ncat++], sizeof(R->cat[0]), "%s",
			    s->category);
	}
	sqlite3_finalize(st);
	return 0;
}

static int
cmp_dept(const void *key, const void *elem)
{
	return strcmp(key, ((const struct rdept *)elem)->name);
}

static int
cmp_svc(const void *key, const void *elem)
{
	return strcmp(key, ((const struct rsvc *)elem)->sid);
}

static long
dept_index(const struct report *R, const char *name)
{
	const struct rdept *d = bsearch(name, R->dept, R->ndept,
	    sizeof(*R->dept), cmp_dept);

	return d ? (long)(d - R->dept) : -1;
}

static long
svc_index(const struct report *R, const char *sid)
{
	const struct rsvc *s = bsearch(sid, R->svc, R->nsvc, sizeof(*R->svc),
	    cmp_svc);

	return s ? (long)(s - R->svc) : -1;
}

static long
cat_index(const struct report *R, const char *cat)
{
	size_t i;

	for (i = 0; i < R->ncat; i++)
		if (strcmp(R->cat[i], cat) == 0)
			return (long)i;
	return -1;
}

static long
week_index(const struct rperiod *P, int64_t week)
{
	size_t i;

	for (i = 0; i < P->nweeks; i++)
		if (P->weeks[i] == week)
			return (long)i;
	return -1;
}

/* --- one period -------------------------------------------------------- */

static int
run(sqlite3 *db, const struct report *R, const struct rperiod *P,
    int by_dept, int by_svc, int by_cat, struct qresult *res, char *err,
    size_t errlen)
{
	struct query q;

	memset(&q, 0, sizeof(q));
	q.from = P->from;
	q.to = P->to;
	q.by_dept = by_dept;
	q.by_svc = by_svc;
	q.by_cat = by_cat;
	q.interval = QI_WEEK;
	q.min_group = R->min_group;
	return query_run(db, &q, res, err, errlen);
}

static void
fig_add(struct rfig *f, uint64_t v, int lower_bound, int estimate)
{
	if (f->shown == 0 || v > f->max) {
		f->max = v;
		f->max_lb = lower_bound;
	} else if (v == f->max) {
		f->max_lb &= lower_bound;
	}
	f->shown++;
	f->sum += v;
	f->lower_bound |= lower_bound;
	f->estimate |= estimate;
}

/*
 * A total shown next to its shown parts (a partition: departments of the
 * organisation, departments of a service; or a cover: services of a
 * department or a category, categories of the organisation).  When the
 * total exceeds the sum of a set of shown parts by less than the minimum
 * group, the difference tells a reader about suppressed parts, so that
 * sum stands in for the total, as a lower bound.  Returns the figure
 * shown (what later totals see as a part).
 */
static uint64_t
fig_add_total(struct rfig *f, const struct qrow *row, const uint64_t *parts,
    size_t nparts, int min_group)
{
	uint64_t v = row->devices;
	int cut = 0;
	size_t i;

	for (i = 0; i < nparts; i++)
		if (row->devices > parts[i] &&
		    row->devices - parts[i] < (uint64_t)min_group &&
		    (!cut || parts[i] < v)) {
			v = parts[i];
			cut = 1;
		}
	/* query_run left suppressed finer cells out: a lower bound too */
	if (row->withheld > 0)
		cut = 1;
	fig_add(f, v, cut, !row->devices_exact);
	return v;
}

/* The rows a department x service cell adds to; returns how many. */
static size_t
rows_of(struct report *R, struct rperiod *P, size_t d, size_t s, size_t w,
    struct rrow **rows)
{
	const struct rsvc *sv = &R->svc[s];
	long c = cat_index(R, sv->category);
	size_t n = 0;

	rows[n++] = &P->cell[d * R->nsvc + s];
	rows[n++] = &P->dept[d];
	rows[n++] = &P->svc[s];
	rows[n++] = &P->org;
	rows[n++] = &P->week[w];
	rows[n++] = &P->jur[sv->jur];
	if (c >= 0)
		rows[n++] = &P->cat[c];
	return n;
}

static void
add_counts(struct report *R, struct rperiod *P, size_t d, size_t s,
    size_t w, const uint64_t *m)
{
	struct rrow *rows[8];
	size_t i, k, n = rows_of(R, P, d, s, w, rows);
	uint64_t conns = m[QM_TLS] + m[QM_QUIC] + m[QM_ECH];

	for (i = 0; i < n; i++) {
		for (k = 0; k < QM_N; k++)
			rows[i]->m[k] += m[k];
		if (!R->svc[s].sanctioned)
			rows[i]->shadow += conns;
	}
}

static void
add_suppressed(struct report *R, struct rperiod *P, size_t d, size_t s,
    size_t w)
{
	struct rrow *rows[8];
	size_t i, n = rows_of(R, P, d, s, w, rows);

	for (i = 0; i < n; i++)
		rows[i]->partial++;
}

static int
period_alloc(const struct report *R, struct rperiod *P)
{
	size_t nc = R->ndept * R->nsvc;

	P->dept = calloc(R->ndept + 1, sizeof(*P->dept));
	P->svc = calloc(R->nsvc + 1, sizeof(*P->svc));
	P->cell = calloc(nc + 1, sizeof(*P->cell));
	P->cat = calloc(R->ncat + 1, sizeof(*P->cat));
	P->week = calloc(P->nweeks + 1, sizeof(*P->week));
	P->vis_svc = calloc(P->nweeks * R->nsvc + 1, 1);
	P->vis_cell = calloc(P->nweeks * nc + 1, 1);
	return P->dept && P->svc && P->cell && P->cat && P->week &&
	    P->vis_svc && P->vis_cell ? 0 : -1;
}

static void
period_free(struct rperiod *P)
{
	free(P->weeks);
	free(P->dept);
	free(P->svc);
	free(P->cell);
	free(P->cat);
	free(P->week);
	free(P->vis_svc);
	free(P->vis_cell);
	memset(P, 0, sizeof(*P));
}

static void
fig_finish(struct rfig *f, unsigned weeks)
{
	f->avg = weeks ? (double)f->sum / weeks : 0;
}

static void
period_finish(const struct report *R, struct rperiod *P)
{
	size_t i;

	fig_finish(&P->org.dev, P->weeks_with_data);
	for (i = 0; i < R->ndept; i++)
		fig_finish(&P->dept[i].dev, P->weeks_with_data);
	for (i = 0; i < R->nsvc; i++)
		fig_finish(&P->svc[i].dev, P->weeks_with_data);
	for (i = 0; i < R->ndept * R->nsvc; i++)
		fig_finish(&P->cell[i].dev, P->weeks_with_data);
	for (i = 0; i < R->ncat; i++)
		fig_finish(&P->cat[i].dev, P->weeks_with_data);
	for (i = 0; i < P->nweeks; i++)
		fig_finish(&P->week[i].dev, 1);
}

/*
 * Sums of shown device figures per week, the parts the totals are
 * checked against: [w * ndept + d], [w * nsvc + s], [w * ncat + c], [w].
 */
struct parts {
	uint64_t	*dept_cells;	/* a department's shown cells */
	uint64_t	*svc_cells;	/* a service's shown cells */
	uint64_t	*cat_svcs;	/* a category's shown services */
	uint64_t	*org_depts;	/* the shown departments */
	uint64_t	*org_cats;	/* the shown categories */
	unsigned char	*has_data;	/* any row at all in the week */
};

static int
parts_alloc(struct parts *x, const struct report *R, size_t nw)
{
	x->dept_cells = calloc(nw * R->ndept + 1, sizeof(uint64_t));
	x->svc_cells = calloc(nw * R->nsvc + 1, sizeof(uint64_t));
	x->cat_svcs = calloc(nw * R->ncat + 1, sizeof(uint64_t));
	x->org_depts = calloc(nw + 1, sizeof(uint64_t));
	x->org_cats = calloc(nw + 1, sizeof(uint64_t));
	x->has_data = calloc(nw + 1, 1);
	return x->dept_cells && x->svc_cells && x->cat_svcs &&
	    x->org_depts && x->org_cats && x->has_data ? 0 : -1;
}

static void
parts_free(struct parts *x)
{
	free(x->dept_cells);
	free(x->svc_cells);
	free(x->cat_svcs);
	free(x->org_depts);
	free(x->org_cats);
	free(x->has_data);
}

/* Department x service cells first: every count is summed from them. */
static int
collect_cells(struct report *R, struct rperiod *P, sqlite3 *db,
    struct parts *x, char *err, size_t errlen)
{
	struct qresult res;
	size_t i, ns = R->nsvc;

	if (run(db, R, P, 1, 1, 0, &res, err, errlen) != 0)
		return -1;
	for (i = 0; i < res.n; i++) {
		const struct qrow *r = &res.rows[i];
		long w = week_index(P, r->period), d = dept_index(R, r->dept),
		    s = svc_index(R, r->svc);
		size_t ci;

		if (w < 0 || d < 0 || s < 0)
			continue;
		ci = (size_t)d * ns + (size_t)s;
		x->has_data[w] = 1;
		if (r->suppressed) {
			P->cell[ci].dev.suppressed++;
			P->vis_cell[(size_t)w * R->ndept * ns + ci] = 2;
			add_suppressed(R, P, (size_t)d, (size_t)s, (size_t)w);
			continue;
		}
		P->vis_cell[(size_t)w * R->ndept * ns + ci] = 1;
		fig_add(&P->cell[ci].dev, r->devices, 0, !r->devices_exact);
		add_counts(R, P, (size_t)d, (size_t)s, (size_t)w, r->m);
		x->svc_cells[(size_t)w * ns + (size_t)s] += r->devices;
		x->dept_cells[(size_t)w * R->ndept + (size_t)d] += r->devices;
	}
	query_free(&res);
	return 0;
}

static int
collect_svcs(struct report *R, struct rperiod *P, sqlite3 *db,
    struct parts *x, char *err, size_t errlen)
{
	struct qresult res;
	size_t i;

	if (run(db, R, P, 0, 1, 0, &res, err, errlen) != 0)
		return -1;
	for (i = 0; i < res.n; i++) {
		const struct qrow *r = &res.rows[i];
		long w = week_index(P, r->period), s = svc_index(R, r->svc);
		long c = s >= 0 ? cat_index(R, R->svc[s].category) : -1;
		uint64_t v;
		size_t vi;

		if (w < 0 || s < 0)
			continue;
		vi = (size_t)w * R->nsvc + (size_t)s;
		if (r->suppressed) {
			P->svc[s].dev.suppressed++;
			P->vis_svc[vi] = 2;
			continue;
		}
		P->vis_svc[vi] = 1;
		v = fig_add_total(&P->svc[s].dev, r, &x->svc_cells[vi], 1,
		    R->min_group);
		if (c >= 0)
			x->cat_svcs[(size_t)w * R->ncat + (size_t)c] += v;
	}
	query_free(&res);
	return 0;
}

static int
collect_depts(struct report *R, struct rperiod *P, sqlite3 *db,
    struct parts *x, char *err, size_t errlen)
{
	struct qresult res;
	size_t i;

	if (run(db, R, P, 1, 0, 0, &res, err, errlen) != 0)
		return -1;
	for (i = 0; i < res.n; i++) {
		const struct qrow *r = &res.rows[i];
		long w = week_index(P, r->period), d = dept_index(R, r->dept);

		if (w < 0 || d < 0)
			continue;
		if (r->suppressed) {
			P->dept[d].dev.suppressed++;
			continue;
		}
		x->org_depts[w] += fig_add_total(&P->dept[d].dev, r,
		    &x->dept_cells[(size_t)w * R->ndept + (size_t)d], 1,
		    R->min_group);
	}
	query_free(&res);
	return 0;
}

static int
collect_cats(struct report *R, struct rperiod *P, sqlite3 *db,
    struct parts *x, char *err, size_t errlen)
{
	struct qresult res;
	size_t i;

	if (run(db, R, P, 0, 0, 1, &res, err, errlen) != 0)
		return -1;
	for (i = 0; i < res.n; i++) {
		const struct qrow *r = &res.rows[i];
		long w = week_index(P, r->period);
		long c = cat_index(R, r->category);

		if (w < 0 || c < 0)
			continue;
		if (r->suppressed) {
			P->cat[c].dev.suppressed++;
			continue;
		}
		x->org_cats[w] += fig_add_total(&P->cat[c].dev, r,
		    &x->cat_svcs[(size_t)w * R->ncat + (size_t)c], 1,
		    R->min_group);
	}
	query_free(&res);
	return 0;
}

static int
collect_org(struct report *R, struct rperiod *P, sqlite3 *db,
    struct parts *x, char *err, size_t errlen)
{
	struct qresult res;
	size_t i;

	if (run(db, R, P, 0, 0, 0, &res, err, errlen) != 0)
		return -1;
	for (i = 0; i < res.n; i++) {
		const struct qrow *r = &res.rows[i];
		long w = week_index(P, r->period);
		uint64_t parts[2];

		if (w < 0)
			continue;
		x->has_data[w] = 1;
		if (r->suppressed) {
			P->org.dev.suppressed++;
			P->week[w].dev.suppressed++;
			continue;
		}
		parts[0] = x->org_depts[w];
		parts[1] = x->org_cats[w];
		fig_add_total(&P->org.dev, r, parts, 2, R->min_group);
		fig_add_total(&P->week[w].dev, r, parts, 2, R->min_group);
	}
	query_free(&res);
	return 0;
}

/*
 * Weeks must be set; fills everything else of P.  A trend chart is
 * collected whole too: a week must show the same figure in every report
 * that shows it, or two reports could be subtracted from each other.
 */
static int
collect(struct report *R, struct rperiod *P, sqlite3 *db, char *err,
    size_t errlen)
{
	struct parts x;
	size_t i;
	int rc = -1;

	if (P->nweeks == 0) {
		snprintf(err, errlen, "%s has no ISO weeks", P->label);
		return -1;
	}
	P->from = period_week_start(P->weeks[0]);
	P->to = period_week_start(week_next(P->weeks[P->nweeks - 1]));
	P->first_day = day_of(P->from);
	P->last_day = day_of(P->to - 1);
	/* parts first, then the totals made of them */
	if (parts_alloc(&x, R, P->nweeks) != 0 || period_alloc(R, P) != 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (collect_cells(R, P, db, &x, err, errlen) != 0 ||
	    collect_svcs(R, P, db, &x, err, errlen) != 0 ||
	    collect_cats(R, P, db, &x, err, errlen) != 0 ||
	    collect_depts(R, P, db, &x, err, errlen) != 0 ||
	    collect_org(R, P, db, &x, err, errlen) != 0)
		goto out;
	for (i = 0; i < P->nweeks; i++)
		P->weeks_with_data += x.has_data[i];
	period_finish(R, P);
	rc = 0;
out:
	parts_free(&x);
	return rc;
}

static int
set_weeks(struct rperiod *P, const int32_t *weeks, size_t n)
{
	if ((P->weeks = calloc(n ? n : 1, sizeof(*P->weeks))) == NULL)
		return -1;
	memcpy(P->weeks, weeks, n * sizeof(*weeks));
	P->nweeks = n;
	return 0;
}

static int
set_periods(struct report *R, const struct report_opts *o, int64_t now)
{
	int32_t w, weeks[16], tw[TREND_WEEKS];
	int y, q, py, pq;
	size_t n, i;

	resolve_last(o, now, &w, &y, &q);
	if (!R->quarter) {
		int32_t pw = week_prev(w);

		period_week_format(w, R->cur.label, sizeof(R->cur.label));
		period_week_format(pw, R->prev.label, sizeof(R->prev.label));
		/* the chart's other weeks; prev and cur are collected anyway */
		tw[TREND_WEEKS - 3] = week_prev(pw);
		for (i = TREND_WEEKS - 3; i > 0; i--)
			tw[i - 1] = week_prev(tw[i]);
		snprintf(R->trend.label, sizeof(R->trend.label), "%s",
		    R->cur.label);
		if (set_weeks(&R->cur, &w, 1) != 0 ||
		    set_weeks(&R->prev, &pw, 1) != 0)
			return -1;
		return set_weeks(&R->trend, tw, TREND_WEEKS - 2);
	}
	py = q == 1 ? y - 1 : y;
	pq = q == 1 ? 4 : q - 1;
	snprintf(R->cur.label, sizeof(R->cur.label), "%04d-Q%d", y, q);
	snprintf(R->prev.label, sizeof(R->prev.label), "%04d-Q%d", py, pq);
	n = quarter_weeks(y, q, weeks, 16);
	if (set_weeks(&R->cur, weeks, n) != 0)
		return -1;
	n = quarter_weeks(py, pq, weeks, 16);
	return set_weeks(&R->prev, weeks, n);
}

/* --- first uses and blind spots ---------------------------------------- */

static int
add_new(struct report *R, size_t d, size_t s, int64_t hour)
{
	struct rnew *n = realloc(R->news, (R->nnews + 1) * sizeof(*n));

	if (n == NULL)
		return -1;
	R->news = n;
	n[R->nnews].dept = d;
	n[R->nnews].svc = s;
	n[R->nnews].day = day_of(hour);
	R->nnews++;
	return 0;
}

/*
 * A first use inside the period is listed only when the cell it is in
 * was shown in the week it happened: otherwise the list would reveal a
 * suppressed cell.
 */
static int
shown_in_week(const struct report *R, int64_t hour, size_t d, size_t s)
{
	const struct rperiod *P = &R->cur;
	long w = week_index(P, week_of(hour));

	if (hour < P->from || hour >= P->to || w < 0)
		return 0;
	if (d == (size_t)-1)
		return P->vis_svc[(size_t)w * R->nsvc + s] == 1;
	return P->vis_cell[(size_t)w * R->ndept * R->nsvc + d * R->nsvc + s] ==
	    1;
}

static long
id_lookup_svc(const struct report *R, int64_t id)
{
	size_t i;

	for (i = 0; i < R->nsvc; i++)
		if (R->svc[i].id == id)
			return (long)i;
	return -1;
}

static long
id_lookup_dept(const struct report *R, int64_t id)
{
	size_t i;

	for (i = 0; i < R->ndept; i++)
		if (R->dept[i].id == id)
			return (long)i;
	return -1;
}

static int
first_uses(struct report *R, sqlite3 *db)
{
	sqlite3_stmt *st;
	size_t s;
	int rc = 0;

	R->cell_first = calloc(R->ndept * R->nsvc + 1, sizeof(int64_t));
	if (R->cell_first == NULL)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT svc, MIN(hour) FROM usage_hour"
	    " GROUP BY svc", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		long i = id_lookup_svc(R, sqlite3_column_int64(st, 0));

		if (i >= 0)
			R->svc[i].first_hour = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, "SELECT dept, svc, MIN(hour) FROM"
	    " usage_hour GROUP BY dept, svc", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		long d = id_lookup_dept(R, sqlite3_column_int64(st, 0));
		long i = id_lookup_svc(R, sqlite3_column_int64(st, 1));

		if (d >= 0 && i >= 0)
			R->cell_first[(size_t)d * R->nsvc + (size_t)i] =
			    sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	for (s = 0; s < R->nsvc && rc == 0; s++)
		if (shown_in_week(R, R->svc[s].first_hour, (size_t)-1, s))
			rc = add_new(R, (size_t)-1, s, R->svc[s].first_hour);
	for (s = 0; s < R->ndept * R->nsvc && rc == 0; s++) {
		size_t d = s / R->nsvc, v = s % R->nsvc;

		if (shown_in_week(R, R->cell_first[s], d, v))
			rc = add_new(R, d, v, R->cell_first[s]);
	}
	return rc;
}

static int
blind_spots(struct report *R, sqlite3 *db)
{
	struct rblind *b = &R->blind;
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "SELECT COUNT(*), TOTAL(packets),"
	    " TOTAL(bytes), TOTAL(pcap_drops), TOTAL(if_drops),"
	    " TOTAL(ech_conns), TOTAL(ech_unattributed), TOTAL(nosni_conns),"
	    " TOTAL(doh_conns), TOTAL(ignored), TOTAL(lost),"
	    " TOTAL(parse_failures) FROM capture_hour"
	    " WHERE hour >= ?1 AND hour < ?2", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, R->cur.from);
	sqlite3_bind_int64(st, 2, R->cur.to);
	if (sqlite3_step(st) == SQLITE_ROW) {
		b->hours = (unsigned)sqlite3_column_int64(st, 0);
		b->packets = (uint64_t)sqlite3_column_int64(st, 1);
		b->bytes = (uint64_t)sqlite3_column_int64(st, 2);
		b->pcap_drops = (uint64_t)sqlite3_column_int64(st, 3);
		b->if_drops = (uint64_t)sqlite3_column_int64(st, 4);
		b->ech_conns = (uint64_t)sqlite3_column_int64(st, 5);
		b->ech_unattributed = (uint64_t)sqlite3_column_int64(st, 6);
		b->nosni_conns = (uint64_t)sqlite3_column_int64(st, 7);
		b->doh_conns = (uint64_t)sqlite3_column_int64(st, 8);
		b->ignored = (uint64_t)sqlite3_column_int64(st, 9);
		b->lost = (uint64_t)sqlite3_column_int64(st, 10);
		b->parse_failures = (uint64_t)sqlite3_column_int64(st, 11);
	}
	sqlite3_finalize(st);
	b->hours_total = (unsigned)((R->cur.to - R->cur.from) / 3600);
	return 0;
}

/* --- derived figures --------------------------------------------------- */

size_t
rep_series_n(const struct report *R)
{
	return R->quarter ? R->cur.nweeks : R->trend.nweeks + 2;
}

int32_t
rep_series_week(const struct report *R, size_t i)
{
	if (R->quarter)
		return R->cur.weeks[i];
	if (i < R->trend.nweeks)
		return R->trend.weeks[i];
	return i == R->trend.nweeks ? R->prev.weeks[0] : R->cur.weeks[0];
}

/*
 * Every rule of report.h works week by week, so a week's figure is the
 * same whichever period it was collected in.
 */
const struct rrow *
rep_series_row(const struct report *R, size_t i)
{
	if (R->quarter)
		return &R->cur.week[i];
	if (i < R->trend.nweeks)
		return &R->trend.week[i];
	return i == R->trend.nweeks ? &R->prev.week[0] : &R->cur.week[0];
}

int
rep_svc_used(const struct report *R, size_t s)
{
	return !RFIG_ABSENT(&R->cur.svc[s].dev);
}

size_t
rep_depts_using(const struct report *R)
{
	size_t d, n = 0;

	for (d = 0; d < R->ndept; d++)
		if (!R->dept[d].unassigned && R->cur.dept[d].dev.shown > 0)
			n++;
	return n;
}

size_t
rep_depts_total(const struct report *R)
{
	size_t d, n = 0;

	for (d = 0; d < R->ndept; d++)
		n += !R->dept[d].unassigned;
	return n;
}

size_t
rep_svcs_used(const struct report *R)
{
	size_t s, n = 0;

	for (s = 0; s < R->nsvc; s++)
		n += rep_svc_used(R, s) != 0;
	return n;
}

size_t
rep_svcs_new(const struct report *R)
{
	size_t i, n = 0;

	for (i = 0; i < R->nnews; i++)
		n += R->news[i].dept == (size_t)-1;
	return n;
}

double
rep_fig_value(const struct report *R, const struct rfig *f)
{
	return R->quarter ? f->avg : (double)f->max;
}

static int
cmp_svc_use(const void *a, const void *b, void *arg)
{
	const struct report *R = arg;
	const struct rrow *x = &R->cur.svc[*(const size_t *)a];
	const struct rrow *y = &R->cur.svc[*(const size_t *)b];
	double fx = x->dev.shown ? rep_fig_value(R, &x->dev) : -1;
	double fy = y->dev.shown ? rep_fig_value(R, &y->dev) : -1;

	if (fx != fy)
		return fx < fy ? 1 : -1;
	if (rrow_conns(x) != rrow_conns(y))
		return rrow_conns(x) < rrow_conns(y) ? 1 : -1;
	return strcmp(R->svc[*(const size_t *)a].name,
	    R->svc[*(const size_t *)b].name);
}

size_t
rep_svc_order(const struct report *R, size_t *idx)
{
	size_t s, n = 0;

	for (s = 0; s < R->nsvc; s++)
		if (rep_svc_used(R, s))
			idx[n++] = s;
	/* qsort_r: no global, so reports may run in threads */
	if (n > 1)
		qsort_r(idx, n, sizeof(*idx), cmp_svc_use, (void *)R);
	return n;
}

size_t
rep_dept_order(const struct report *R, size_t *idx)
{
	size_t d, n = 0;

	for (d = 0; d < R->ndept; d++)
		if (!R->dept[d].unassigned)
			idx[n++] = d;
	for (d = 0; d < R->ndept; d++)
		if (R->dept[d].unassigned)
			idx[n++] = d;
	return n;
}

int
rep_change_u(uint64_t cur, uint64_t prev, double *pct)
{
	if (prev == 0)
		return -1;
	*pct = ((double)cur - (double)prev) * 100.0 / (double)prev;
	return 0;
}

int
rep_change(const struct report *R, const struct rfig *cur,
    const struct rfig *prev, double *pct)
{
	double c, p;

	/* a figure cut to a lower bound would fake a change */
	if (cur->shown == 0 || prev->shown == 0 || cur->lower_bound ||
	    prev->lower_bound || cur->suppressed || prev->suppressed)
		return -1;
	c = rep_fig_value(R, cur);
	p = rep_fig_value(R, prev);
	if (p <= 0)
		return -1;
	*pct = (c - p) * 100.0 / p;
	return 0;
}

double
rep_share(uint64_t part, uint64_t whole)
{
	return whole ? (double)part * 100.0 / (double)whole : 0;
}

double
rep_blind_ech_pct(const struct report *R)
{
	uint64_t seen = rrow_conns(&R->cur.org);

	return rep_share(R->blind.ech_unattributed,
	    seen + R->blind.ech_unattributed);
}

double
rep_blind_drop_pct(const struct report *R)
{
	uint64_t d = R->blind.pcap_drops + R->blind.if_drops;

	return rep_share(d, R->blind.packets + d);
}

double
rep_blind_unassigned_pct(const struct report *R)
{
	size_t d;

	for (d = 0; d < R->ndept; d++)
		if (R->dept[d].unassigned)
			return rep_share(rrow_conns(&R->cur.dept[d]),
			    rrow_conns(&R->cur.org));
	return 0;
}

const char *
rep_jur_name(enum rjur j)
{
	static const char *n[RJ_N] = { "EU", "US", "CN", "other" };

	return n[j];
}

/* --- the report -------------------------------------------------------- */

static void
report_free(struct report *R)
{
	period_free(&R->cur);
	period_free(&R->prev);
	period_free(&R->trend);
	free(R->dept);
	free(R->svc);
	free(R->cat);
	free(R->news);
	free(R->cell_first);
}

static int
render(const struct report *R, FILE *out)
{
	switch (R->o->format) {
	case REPORT_HTML: return report_html(R, out);
	case REPORT_MD: return report_md(R, out);
	case REPORT_CSV: return report_csv(R, out);
	case REPORT_JSON: return report_json(R, out);
	}
	return -1;
}

int
report_write(sqlite3 *db, const struct report_opts *o, FILE *out, char *err,
    size_t errlen)
{
	struct report R;
	int rc = -1;

	memset(&R, 0, sizeof(R));
	R.o = o;
	R.quarter = o->span == REPORT_QUARTER;
	R.generated = opts_now(o);
	if (i18n_lang_parse(o->lang[0] ? o->lang : "en", &R.lang) != 0) {
		snprintf(err, errlen, "unknown language '%s': use en or nl",
		    o->lang);
		return -1;
	}
	if (db_timezone(db, R.tz, sizeof(R.tz), err, errlen) != 0)
		return -1;
	R.min_group = query_db_min_group(db);
	if (o->min_group > R.min_group)
		R.min_group = o->min_group;
	snprintf(R.supp, sizeof(R.supp), "<%d", R.min_group);
	if (set_periods(&R, o, R.generated) != 0 || load_dims(&R, db) != 0) {
		snprintf(err, errlen, "reading the database: %s",
		    sqlite3_errmsg(db));
		goto out;
	}
	if (R.cur.nweeks == 0) {
		snprintf(err, errlen, "%s has no ISO weeks", R.cur.label);
		goto out;
	}
	if (collect(&R, &R.cur, db, err, errlen) != 0 ||
	    collect(&R, &R.prev, db, err, errlen) != 0 ||
	    (!R.quarter && collect(&R, &R.trend, db, err, errlen) != 0))
		goto out;
	if (first_uses(&R, db) != 0 || blind_spots(&R, db) != 0) {
		snprintf(err, errlen, "reading the database: %s",
		    sqlite3_errmsg(db));
		goto out;
	}
	if (render(&R, out) != 0 || fflush(out) != 0 || ferror(out)) {
		snprintf(err, errlen, "writing the report failed");
		goto out;
	}
	rc = 0;
out:
	report_free(&R);
	return rc;
}
