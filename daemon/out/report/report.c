/*
 * report.c - the figures of a report, read from released cells only
 * (released.h): periods, the cells of their weeks, first uses and blind
 * spots, into the model (report_model.h).  Layout is left to the
 * renderers (report_render.h), found through the table of formats
 * below; they read nothing but the model and never call back here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "out/report/i18n.h"
#include "common/period.h"
#include "release/released.h"
#include "out/report/report.h"
#include "out/report/report_model.h"
#include "out/report/report_render.h"

#define TREND_WEEKS	8

/* --- options ----------------------------------------------------------- */

void
report_opts_init(struct report_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->span = REPORT_WEEK;
	o->format = &report_formats[0];
	snprintf(o->lang, sizeof(o->lang), "en");
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

	o->span = REPORT_QUARTER;
	if (strcmp(s, "last") == 0) {
		o->year = o->quarter = 0;
		return 0;
	}
	if (period_quarter_parse(s, &y, &q) != 0)
		return -1;
	o->year = y;
	o->quarter = q;
	return 0;
}

/* --- calendar (common/period.c does the arithmetic) ---------------- */

static void
resolve_last(const struct report_opts *o, int64_t now, int32_t last_released,
    int32_t *week, int *year, int *quarter)
{
	struct period today;
	int m, d;

	*week = o->week ? o->week : last_released;
	*year = o->year;
	*quarter = o->quarter;
	if (o->quarter == 0) {
		/* the quarter before today's */
		period_of(now, &today);
		period_day_split(today.day, year, &m, &d);
		*quarter = period_quarter_of(today.day);
		period_quarter_add(year, quarter, -1);
	}
}

/* --- the release database --------------------------------------------- */

static int
set_timezone(struct released *rel, char *tz, size_t n, char *err,
    size_t errlen)
{
	snprintf(tz, n, "%s", released_timezone(rel));
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

/* The last released week, 0 when none; -1 on error. */
static int32_t
last_released_week(struct released *rel, char *err, size_t errlen)
{
	struct rel_period *p = NULL;
	size_t n = 0;
	int32_t w;

	if (released_periods(rel, REL_WEEK, 0, 0, &p, &n, err, errlen) != 0)
		return -1;
	w = n ? p[n - 1].period : 0;
	free(p);
	return w;
}

static int
resolve(struct released *rel, const struct report_opts *o, int64_t now,
    int32_t *week, int *year, int *quarter, char *err, size_t errlen)
{
	int32_t last = 0;

	if (o->span == REPORT_WEEK && o->week == 0) {
		if ((last = last_released_week(rel, err, errlen)) < 0)
			return -1;
		if (last == 0) {
			snprintf(err, errlen, "no week is released yet; weeks"
			    " are released at the end of the ISO week");
			return -1;
		}
	}
	resolve_last(o, now, last, week, year, quarter);
	return 0;
}

int
report_period_label(struct released *rel, const struct report_opts *o,
    char *buf, size_t n, char *err, size_t errlen)
{
	char tz[64];
	int32_t w;
	int y, q;

	if (set_timezone(rel, tz, sizeof(tz), err, errlen) != 0 ||
	    resolve(rel, o, opts_now(o), &w, &y, &q, err, errlen) != 0)
		return -1;
	if (o->span == REPORT_QUARTER)
		period_quarter_format(y, q, buf, (unsigned)n);
	else
		period_week_format(w, buf, (unsigned)n);
	return 0;
}

int
report_period_weeks(struct released *rel, const struct report_opts *o,
    int32_t *from, int32_t *to, char *err, size_t errlen)
{
	int32_t weeks[16], w;
	char tz[64];
	size_t n;
	int y, q;

	if (set_timezone(rel, tz, sizeof(tz), err, errlen) != 0 ||
	    resolve(rel, o, opts_now(o), &w, &y, &q, err, errlen) != 0)
		return -1;
	if (o->span == REPORT_WEEK) {
		*from = *to = w;
		return 0;
	}
	if ((n = period_quarter_weeks(y, q, weeks, 16)) == 0) {
		snprintf(err, errlen, "the quarter has no ISO weeks");
		return -1;
	}
	*from = weeks[0];
	*to = weeks[n - 1];
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

/* The released grid of one week, read once. */
struct wcells {
	int32_t		 week;
	struct rel_period per;
	struct rel_cell	*c;
	size_t		 n;
};

struct cache {
	struct wcells	*w;
	size_t		 n;
};

static void
cache_free(struct cache *C)
{
	size_t i;

	for (i = 0; i < C->n; i++)
		free(C->w[i].c);
	free(C->w);
	memset(C, 0, sizeof(*C));
}

static const struct wcells *
cache_get(const struct cache *C, int32_t week)
{
	size_t i;

	for (i = 0; i < C->n; i++)
		if (C->w[i].week == week)
			return &C->w[i];
	return NULL;
}

/* Reads the weeks of P that are released (once each). */
static int
cache_period(struct cache *C, struct released *rel, struct rperiod *P,
    char *err, size_t errlen)
{
	size_t i;

	P->released = calloc(P->nweeks + 1, 1);
	if (P->released == NULL)
		goto oom;
	for (i = 0; i < P->nweeks; i++) {
		struct wcells *x;
		struct rel_period per;
		int rc;

		if (cache_get(C, P->weeks[i]) != NULL) {
			P->released[i] = 1;
			continue;
		}
		rc = released_period(rel, REL_WEEK, P->weeks[i], &per);
		if (rc < 0) {
			snprintf(err, errlen, "reading the release database");
			return -1;
		}
		if (rc == 1)
			continue;
		x = realloc(C->w, (C->n + 1) * sizeof(*x));
		if (x == NULL)
			goto oom;
		C->w = x;
		x = &C->w[C->n];
		memset(x, 0, sizeof(*x));
		x->week = P->weeks[i];
		x->per = per;
		rc = released_cells(rel, REL_WEEK, P->weeks[i], &x->c, &x->n,
		    err, errlen);
		if (rc != 0) {
			if (rc == 1)
				snprintf(err, errlen, "week %d vanished from"
				    " the release database", P->weeks[i]);
			return -1;
		}
		C->n++;
		P->released[i] = 1;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int
cmp_svc_sid(const void *a, const void *b)
{
	return strcmp(((const struct rsvc *)a)->sid,
	    ((const struct rsvc *)b)->sid);
}

static long
dept_index(const struct report *R, const char *name)
{
	size_t i;

	for (i = 0; i < R->ndept; i++)
		if (strcmp(R->dept[i].name, name) == 0)
			return (long)i;
	return -1;
}

static int
cmp_svc(const void *key, const void *elem)
{
	return strcmp(key, ((const struct rsvc *)elem)->sid);
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

static int
add_cat(struct report *R, const char *cat, size_t cap)
{
	if (cat_index(R, cat) >= 0)
		return 0;
	if (R->ncat >= cap)
		return -1;
	snprintf(R->cat[R->ncat++], sizeof(R->cat[0]), "%s", cat);
	return 0;
}

/*
 * The axes: departments in the grids' order (configuration order, then
 * "unassigned"), every service the release database knows (sid order,
 * for bsearch), categories of those services and of the grids.
 */
static int
load_dims(struct report *R, struct released *rel, const struct cache *C)
{
	struct rel_service *sv = NULL;
	size_t nsv = 0, i, j, capd = 0, capc;

	if (released_services(rel, &sv, &nsv) != 0)
		return -1;
	for (i = 0; i < C->n; i++)
		capd += C->w[i].n;
	capc = nsv + capd + 1;
	R->svc = calloc(nsv + 1, sizeof(*R->svc));
	R->cat = calloc(capc, sizeof(*R->cat));
	R->dept = calloc(capd + 1, sizeof(*R->dept));
	if (R->svc == NULL || R->cat == NULL || R->dept == NULL) {
		free(sv);
		return -1;
	}
	for (i = 0; i < nsv; i++) {
		struct rsvc *s = &R->svc[R->nsvc++];

		snprintf(s->sid, sizeof(s->sid), "%s", sv[i].sid);
		snprintf(s->name, sizeof(s->name), "%s", sv[i].name[0] ?
		    sv[i].name : sv[i].sid);
		snprintf(s->vendor, sizeof(s->vendor), "%s", sv[i].vendor);
		snprintf(s->category, sizeof(s->category), "%s",
		    sv[i].category);
		snprintf(s->jurisdiction, sizeof(s->jurisdiction), "%s",
		    sv[i].jurisdiction);
		s->sanctioned = sv[i].sanctioned != 0;
		s->jur = jur_group(s->jurisdiction);
	}
	free(sv);
	if (R->nsvc > 1)
		qsort(R->svc, R->nsvc, sizeof(*R->svc), cmp_svc_sid);
	for (i = 0; i < R->nsvc; i++)
		if (add_cat(R, R->svc[i].category, capc) != 0)
			return -1;
	for (i = 0; i < C->n; i++)
		for (j = 0; j < C->w[i].n; j++) {
			const struct rel_cell *c = &C->w[i].c[j];
			const size_t pl = sizeof(REL_CAT_PREFIX) - 1;

			if (strncmp(c->svc, REL_CAT_PREFIX, pl) == 0 &&
			    add_cat(R, c->svc + pl, capc) != 0)
				return -1;
			if (strcmp(c->dept, REL_ALL) == 0 ||
			    dept_index(R, c->dept) >= 0)
				continue;
			snprintf(R->dept[R->ndept].name,
			    sizeof(R->dept[0].name), "%s", c->dept);
			R->dept[R->ndept].unassigned =
			    strcmp(c->dept, REL_UNASSIGNED) == 0;
			R->ndept++;
		}
	return 0;
}

/* --- one period -------------------------------------------------------- */

static int
period_alloc(const struct report *R, struct rperiod *P)
{
	size_t nc = R->ndept * R->nsvc;

	P->dept = calloc(R->ndept + 1, sizeof(*P->dept));
	P->svc = calloc(R->nsvc + 1, sizeof(*P->svc));
	P->cell = calloc(nc + 1, sizeof(*P->cell));
	P->cat = calloc(R->ncat + 1, sizeof(*P->cat));
	P->week = calloc(P->nweeks + 1, sizeof(*P->week));
	return P->dept && P->svc && P->cell && P->cat && P->week ? 0 : -1;
}

static void
period_free(struct rperiod *P)
{
	free(P->weeks);
	free(P->released);
	free(P->dept);
	free(P->svc);
	free(P->cell);
	free(P->cat);
	free(P->week);
	memset(P, 0, sizeof(*P));
}

/* One released cell into a row: measures summed, devices per week. */
static void
row_add(struct rrow *r, const struct rel_cell *c)
{
	int k;

	for (k = 0; k < RM_N; k++)
		r->m[k] += c->m[k];
	r->dev.sum += c->m[RM_DEVICES];
	if (c->m[RM_DEVICES] > r->dev.max)
		r->dev.max = c->m[RM_DEVICES];
}

/* A service cell's connections, into a row's shadow share. */
static void
row_shadow(struct rrow *r, const struct rsvc *s, const struct rel_cell *c)
{
	r->svc_conns += c->m[RM_CONNS];
	if (!s->sanctioned)
		r->shadow += c->m[RM_CONNS];
}

static int
use_cell(struct report *R, const struct rel_cell *c, size_t *cap)
{
	if (R->nused == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		struct rel_cell *u = realloc(R->used, nc * sizeof(*u));

		if (u == NULL)
			return -1;
		R->used = u;
		*cap = nc;
	}
	R->used[R->nused++] = *c;
	return 0;
}

/*
 * Every cell of week wi of P into the rows it is: a cell is a row's
 * figure for that week, nothing is computed from parts except the
 * jurisdictions and the shadow shares (sums of service cells).
 */
static int
add_week(struct report *R, struct rperiod *P, size_t wi,
    const struct wcells *W, size_t *ucap)
{
	const size_t pl = sizeof(REL_CAT_PREFIX) - 1;
	size_t i;

	for (i = 0; i < W->n; i++) {
		const struct rel_cell *c = &W->c[i];
		int all_d = strcmp(c->dept, REL_ALL) == 0;
		int all_s = strcmp(c->svc, REL_ALL) == 0;
		int is_cat = strncmp(c->svc, REL_CAT_PREFIX, pl) == 0;
		long d = all_d ? -1 : dept_index(R, c->dept);
		long s = all_s || is_cat ? -1 : svc_index(R, c->svc);
		long k;

		if (c->kind != REL_WEEK || (!all_d && d < 0))
			continue;
		if (all_d && all_s) {
			row_add(&P->org, c);
			row_add(&P->week[wi], c);
		} else if (all_d && is_cat) {
			if ((k = cat_index(R, c->svc + pl)) < 0)
				continue;
			row_add(&P->cat[k], c);
		} else if (all_d && s >= 0) {
			const struct rsvc *sv = &R->svc[s];

			row_add(&P->svc[s], c);
			row_shadow(&P->svc[s], sv, c);
			row_shadow(&P->org, sv, c);
			row_shadow(&P->week[wi], sv, c);
			if ((k = cat_index(R, sv->category)) >= 0)
				row_shadow(&P->cat[k], sv, c);
			/* a sum of service cells, never a cell of its own */
			for (k = 0; k < RM_N; k++)
				P->jur[sv->jur].m[k] += c->m[k];
			row_shadow(&P->jur[sv->jur], sv, c);
		} else if (!all_d && all_s) {
			row_add(&P->dept[d], c);
		} else if (!all_d && s >= 0) {
			struct rrow *r = &P->cell[(size_t)d * R->nsvc +
			    (size_t)s];

			row_add(r, c);
			row_shadow(r, &R->svc[s], c);
			row_shadow(&P->dept[d], &R->svc[s], c);
		} else {
			continue;	/* department x category: not shown */
		}
		if (P == &R->cur && use_cell(R, c, ucap) != 0)
			return -1;
	}
	return 0;
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
		fig_finish(&P->week[i].dev, P->released[i]);
}

static int
collect(struct report *R, struct rperiod *P, const struct cache *C,
    size_t *ucap, char *err, size_t errlen)
{
	size_t i;

	P->from = period_week_start(P->weeks[0]);
	P->to = period_week_start(period_week_add(P->weeks[P->nweeks - 1], 1));
	P->first_day = period_week_monday(P->weeks[0]);
	P->last_day = period_day_add(period_week_monday(P->weeks[P->nweeks -
	    1]), 6);
	if (period_alloc(R, P) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < P->nweeks; i++) {
		const struct wcells *W = cache_get(C, P->weeks[i]);

		if (W == NULL)
			continue;
		P->weeks_with_data++;
		P->weeks_incomplete += !W->per.complete;
		P->coverage_hours += W->per.coverage_hours;
		P->hours_total += W->per.hours_total;
		if (W->per.min_group > P->min_group)
			P->min_group = W->per.min_group;
		if (add_week(R, P, i, W, ucap) != 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	period_finish(R, P);
	return 0;
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
set_periods(struct report *R, int32_t w, int y, int q)
{
	int32_t weeks[16], tw[TREND_WEEKS];
	int py, pq;
	size_t n, i;

	if (!R->quarter) {
		int32_t pw = period_week_add(w, -1);

		period_week_format(w, R->cur.label, sizeof(R->cur.label));
		period_week_format(pw, R->prev.label, sizeof(R->prev.label));
		/* the chart's other weeks; prev and cur are collected anyway */
		tw[TREND_WEEKS - 3] = period_week_add(pw, -1);
		for (i = TREND_WEEKS - 3; i > 0; i--)
			tw[i - 1] = period_week_add(tw[i], -1);
		snprintf(R->trend.label, sizeof(R->trend.label), "%s",
		    R->cur.label);
		if (set_weeks(&R->cur, &w, 1) != 0 ||
		    set_weeks(&R->prev, &pw, 1) != 0)
			return -1;
		return set_weeks(&R->trend, tw, TREND_WEEKS - 2);
	}
	py = y;
	pq = q;
	period_quarter_add(&py, &pq, -1);
	period_quarter_format(y, q, R->cur.label, sizeof(R->cur.label));
	period_quarter_format(py, pq, R->prev.label, sizeof(R->prev.label));
	n = period_quarter_weeks(y, q, weeks, 16);
	if (set_weeks(&R->cur, weeks, n) != 0)
		return -1;
	n = period_quarter_weeks(py, pq, weeks, 16);
	return set_weeks(&R->prev, weeks, n);
}

/*
 * A week in the future, or not released (yet): refused with a sentence
 * the reader can act on.  A quarter needs one released week at least.
 */
static int
check_released(const struct report *R, int64_t now, char *err,
    size_t errlen)
{
	const struct rperiod *P = &R->cur;
	size_t i, nrel = 0;

	for (i = 0; i < P->nweeks; i++)
		nrel += P->released[i];
	if (P->nweeks == 0) {
		snprintf(err, errlen, "%s has no ISO weeks", P->label);
		return -1;
	}
	if (period_week_start(P->weeks[0]) > now) {
		snprintf(err, errlen, "%s %s is in the future", R->quarter ?
		    "quarter" : "week", P->label);
		return -1;
	}
	if (!R->quarter && !P->released[0]) {
		snprintf(err, errlen, "week %s is not released yet; weeks are"
		    " released at the end of the ISO week", P->label);
		return -1;
	}
	if (R->quarter && nrel == 0) {
		snprintf(err, errlen, "quarter %s has no released week yet;"
		    " weeks are released at the end of the ISO week",
		    P->label);
		return -1;
	}
	return 0;
}

/* --- first uses and blind spots ---------------------------------------- */

static int
add_new(struct report *R, size_t d, size_t s, int32_t week)
{
	struct rnew *n = realloc(R->news, (R->nnews + 1) * sizeof(*n));

	if (n == NULL)
		return -1;
	R->news = n;
	n[R->nnews].dept = d;
	n[R->nnews].svc = s;
	n[R->nnews].week = week;
	R->nnews++;
	return 0;
}

/*
 * First released week in which a service (the organisation's cell) or a
 * department's use of it (the department x service cell) had published
 * devices > 0.  Released cells of every released week up to the end of
 * the period, read one week at a time; a first week inside the period
 * is "new".
 */
static int
first_uses(struct report *R, struct released *rel, char *err, size_t errlen)
{
	const struct rperiod *P = &R->cur;
	struct rel_period *per = NULL;
	int32_t *cell_first = NULL;
	size_t np = 0, i, j, s;
	int rc = -1;

	cell_first = calloc(R->ndept * R->nsvc + 1, sizeof(*cell_first));
	if (cell_first == NULL ||
	    released_periods(rel, REL_WEEK, 0, P->weeks[P->nweeks - 1], &per,
	    &np, err, errlen) != 0)
		goto out;
	for (i = 0; i < np; i++) {
		struct rel_cell *c = NULL;
		size_t n = 0;

		if (released_cells(rel, REL_WEEK, per[i].period, &c, &n, err,
		    errlen) != 0)
			goto out;
		for (j = 0; j < n; j++) {
			long d = -1, v;

			if (c[j].m[RM_DEVICES] == 0 ||
			    (v = svc_index(R, c[j].svc)) < 0)
				continue;
			if (strcmp(c[j].dept, REL_ALL) == 0) {
				if (R->svc[v].first_week == 0)
					R->svc[v].first_week = per[i].period;
			} else if ((d = dept_index(R, c[j].dept)) >= 0) {
				int32_t *f = &cell_first[(size_t)d *
				    R->nsvc + (size_t)v];

				if (*f == 0)
					*f = per[i].period;
			}
		}
		free(c);
	}
	for (s = 0; s < R->nsvc; s++)
		if (R->svc[s].first_week >= P->weeks[0] &&
		    add_new(R, (size_t)-1, s, R->svc[s].first_week) != 0)
			goto oom;
	for (i = 0; i < R->ndept * R->nsvc; i++)
		if (cell_first[i] >= P->weeks[0] &&
		    add_new(R, i / R->nsvc, i % R->nsvc, cell_first[i]) != 0)
			goto oom;
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	free(per);
	free(cell_first);
	return rc;
}

/* Released B1 figures of the period's released days, summed. */
static int
blind_spots(struct report *R, struct released *rel, char *err,
    size_t errlen)
{
	struct rblind *b = &R->blind;
	struct rel_period *per = NULL;
	size_t n = 0, i;

	b->hours = R->cur.coverage_hours;
	b->hours_total = R->cur.hours_total;
	b->ech_conns = R->cur.org.m[RM_ECH];
	if (released_periods(rel, REL_DAY, R->cur.first_day,
	    R->cur.last_day, &per, &n, err, errlen) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		uint64_t v[RB_N];

		if (released_blind(rel, per[i].period, v) != 0)
			continue;
		b->days++;
		b->packets += v[RB_PACKETS];
		b->bytes += v[RB_BYTES];
		b->pcap_drops += v[RB_PCAP_DROPS];
		b->if_drops += v[RB_IF_DROPS];
		b->ech_unattributed += v[RB_ECH_UNATTRIBUTED];
		b->nosni_conns += v[RB_NOSNI];
		b->doh_conns += v[RB_DOH];
		b->ignored += v[RB_IGNORED];
		b->lost += v[RB_LOST];
		b->parse_failures += v[RB_PARSE_FAILURES];
		b->unreadable += v[RB_UNREADABLE];
		b->conflicts += v[RB_CONFLICT];
		b->late += v[RB_LATE];
	}
	/* which hours were not covered, day by day (a week report) */
	if (!R->quarter && R->cur.weeks_with_data > 0) {
		int32_t day = R->cur.first_day;
		size_t k, j;

		for (k = 0; k < 7; k++, day = period_day_add(day, 1)) {
			unsigned total = (unsigned)((period_day_start(
			    period_day_add(day, 1)) - period_day_start(day)) /
			    3600), missing = total;

			for (j = 0; j < n; j++)
				if (per[j].period == day) {
					total = per[j].hours_total;
					missing = per[j].coverage_hours < total ?
					    total - per[j].coverage_hours : 0;
				}
			if (missing == 0)
				continue;
			b->gap[b->ngap].day = day;
			b->gap[b->ngap].missing = missing;
			b->gap[b->ngap].total = total;
			b->ngap++;
		}
	}
	free(per);
	return 0;
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
	free(R->used);
}

/* --- formats ----------------------------------------------------------- */

const struct report_format report_formats[] = {
	{ "html", NULL, "html", "text/html; charset=utf-8", report_html },
	{ "md", "markdown", "md", "text/markdown; charset=utf-8", report_md },
	{ "csv", NULL, "csv", "text/csv; charset=utf-8", report_csv },
	{ "json", NULL, "json", "application/json; charset=utf-8",
	    report_json },
	{ NULL, NULL, NULL, NULL, NULL }
};

const struct report_format *
report_format_find(const char *s)
{
	const struct report_format *f;

	for (f = report_formats; f->name != NULL; f++)
		if (strcmp(s, f->name) == 0 ||
		    (f->alias != NULL && strcmp(s, f->alias) == 0))
			return f;
	return NULL;
}

int
report_write(struct released *rel, const struct report_opts *o, FILE *out,
    char *err, size_t errlen)
{
	struct report R;
	struct cache C;
	size_t ucap = 0;
	int32_t w;
	int y, q, rc = -1;

	memset(&R, 0, sizeof(R));
	memset(&C, 0, sizeof(C));
	R.quarter = o->span == REPORT_QUARTER;
	R.retention_days = o->retention_days;
	R.generated = opts_now(o);
	if (o->scope != NULL)
		snprintf(R.scope, sizeof(R.scope), "%s", o->scope);
	snprintf(R.method, sizeof(R.method), "%s", o->method != NULL &&
	    o->method[0] != '\0' ? o->method : "ckm-1");
	R.central = strcmp(R.method, "ckm-central-1") == 0;
	R.sites = o->sites;
	R.nsites = o->sites != NULL ? o->nsites : 0;
	if (i18n_lang_parse(o->lang[0] ? o->lang : "en", &R.lang) != 0) {
		snprintf(err, errlen, "unknown language '%s': use en or nl",
		    o->lang);
		return -1;
	}
	if (set_timezone(rel, R.tz, sizeof(R.tz), err, errlen) != 0 ||
	    resolve(rel, o, R.generated, &w, &y, &q, err, errlen) != 0)
		return -1;
	R.quarter_no = q;
	if (set_periods(&R, w, y, q) != 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (R.cur.nweeks == 0 || R.prev.nweeks == 0) {
		snprintf(err, errlen, "%s has no ISO weeks", R.cur.label);
		goto out;
	}
	if (cache_period(&C, rel, &R.cur, err, errlen) != 0 ||
	    check_released(&R, R.generated, err, errlen) != 0)
		goto out;
	if (cache_period(&C, rel, &R.prev, err, errlen) != 0 ||
	    (!R.quarter && cache_period(&C, rel, &R.trend, err, errlen) != 0))
		goto out;
	if (load_dims(&R, rel, &C) != 0) {
		snprintf(err, errlen, "reading the release database's"
		    " services failed");
		goto out;
	}
	if (collect(&R, &R.cur, &C, &ucap, err, errlen) != 0 ||
	    collect(&R, &R.prev, &C, &ucap, err, errlen) != 0 ||
	    (!R.quarter && collect(&R, &R.trend, &C, &ucap, err,
	    errlen) != 0))
		goto out;
	R.min_group = R.cur.min_group;
	/* released early (the sensor stopped), or the current quarter */
	R.unfinished = R.generated < R.cur.to;
	if (first_uses(&R, rel, err, errlen) != 0 ||
	    blind_spots(&R, rel, err, errlen) != 0)
		goto out;
	if (o->format == NULL || o->format->render(&R, out) != 0 ||
	    fflush(out) != 0 || ferror(out)) {
		snprintf(err, errlen, "writing the report failed");
		goto out;
	}
	rc = 0;
out:
	cache_free(&C);
	report_free(&R);
	return rc;
}
