/*
 * query.c - released cells of whole periods, selected by level.
 *
 * Nothing here decides what may be shown: the release stage did, once,
 * cell by cell.  This file only picks whole released periods and rows of
 * their fixed grid, and, for a range without day or week, sums released
 * week cells (labelled derived).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/period.h"
#include "out/query.h"

void
query_period_label(enum rel_kind k, int32_t period, char *buf, size_t n)
{
	if (k == REL_DAY)
		period_day_format(period, buf, (unsigned)n);
	else
		period_week_format(period, buf, (unsigned)n);
}

/* --- parsing ----------------------------------------------------------- */

int
query_parse_by(const char *s, struct query *q, char *err, size_t errlen)
{
	char buf[128], *tok, *save = NULL;

	q->by_dept = q->by_svc = q->by_cat = q->by_day = q->by_week = 0;
	if (s == NULL || *s == '\0') {
		q->by_week = 1;
		return 0;
	}
	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf)) {
		snprintf(err, errlen, "by: too long");
		return -1;
	}
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "department") == 0)
			q->by_dept = 1;
		else if (strcmp(tok, "service") == 0)
			q->by_svc = 1;
		else if (strcmp(tok, "category") == 0)
			q->by_cat = 1;
		else if (strcmp(tok, "day") == 0)
			q->by_day = 1;
		else if (strcmp(tok, "week") == 0)
			q->by_week = 1;
		else if (strcmp(tok, "hour") == 0) {
			snprintf(err, errlen, "hour figures are not released "
			    "(use day or week)");
			return -1;
		} else {
			snprintf(err, errlen, "by: '%.32s' is not one of "
			    "department, service, category, day, week", tok);
			return -1;
		}
	}
	return query_check_by(q, err, errlen);
}

int
query_check_by(const struct query *q, char *err, size_t errlen)
{
	if (q->by_day && q->by_week) {
		snprintf(err, errlen, "by: day or week, not both");
		return -1;
	}
	if (q->by_day && q->by_dept && q->by_svc) {
		snprintf(err, errlen, "department x service is released per "
		    "week only (use --by department,service,week)");
		return -1;
	}
	return 0;
}

int
query_imply_level(struct query *q, enum rel_kind k, char *err,
    size_t errlen)
{
	if (!q->by_day && !q->by_week) {
		if (k == REL_DAY)
			q->by_day = 1;
		else
			q->by_week = 1;
	}
	return query_check_by(q, err, errlen);
}

int
query_parse_when(const char *s, int is_to, int allow_epoch, int32_t *day,
    char *err, size_t errlen)
{
	const char *what = is_to ? "to" : "from";
	int32_t w;
	size_t i, n = strlen(s);

	if ((w = period_week_parse(s)) > 0) {
		*day = period_week_monday(w);
		if (is_to)
			*day = period_day_add(*day, 6);
		return 0;
	}
	if ((w = period_day_parse(s)) > 0) {
		*day = w;
		return 0;
	}
	if (allow_epoch && n > 0 && n <= 12) {
		for (i = 0; i < n && isdigit((unsigned char)s[i]); i++)
			;
		if (i == n) {
			int64_t t = strtoll(s, NULL, 10);
			struct period p;

			period_of(t, &p);
			if (p.day >= 19700101 && p.day <= 99991231 &&
			    period_day_start(p.day) == t) {
				/* as to, midnight ends the day before */
				*day = is_to ? period_day_add(p.day, -1) :
				    p.day;
				return 0;
			}
			snprintf(err, errlen, "%s: %lld is not the start of a "
			    "local day; ranges are whole released days or "
			    "weeks", what, (long long)t);
			return -1;
		}
	}
	snprintf(err, errlen, "%s: use a date (2026-11-18) or an ISO week "
	    "(2026-W47)%s", what, allow_epoch ? " or the epoch of a local "
	    "midnight" : "");
	return -1;
}

int
query_check_range(const struct query *q, char *err, size_t errlen)
{
	if (q->from_day != 0 && q->to_day != 0 && q->from_day > q->to_day) {
		snprintf(err, errlen, "the range is reversed: from is after "
		    "to");
		return -1;
	}
	return 0;
}

/* --- the query ----------------------------------------------------------- */

/* Is this grid cell a row of the query? */
static int
wanted(const struct query *q, const struct rel_cell *c)
{
	int all_d = strcmp(c->dept, REL_ALL) == 0;
	int all_s = strcmp(c->svc, REL_ALL) == 0;
	int cat = strncmp(c->svc, REL_CAT_PREFIX,
	    sizeof(REL_CAT_PREFIX) - 1) == 0;

	if (q->by_dept == all_d)
		return 0;
	if (all_s)
		return !q->by_svc && !q->by_cat;
	return cat ? q->by_cat : q->by_svc;
}

void
query_row_of_cell(struct qrow *w, const struct rel_cell *c)
{
	w->kind = c->kind;
	w->period = w->period_to = c->period;
	memcpy(w->dept, c->dept, sizeof(w->dept));
	w->dept[sizeof(w->dept) - 1] = '\0';
	memcpy(w->svc, c->svc, sizeof(w->svc));
	w->svc[sizeof(w->svc) - 1] = '\0';
	memcpy(w->m, c->m, sizeof(w->m));
	w->published = c->published;
}

static int
push(struct qresult *r, size_t *cap, const struct rel_cell *c)
{
	struct qrow *w;

	if (r->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;

		if ((w = realloc(r->rows, nc * sizeof(*w))) == NULL)
			return -1;
		r->rows = w;
		*cap = nc;
	}
	query_row_of_cell(&r->rows[r->n++], c);
	return 0;
}

/* Derived: add a week's cell into the row of the same labels. */
static int
add_sum(struct qresult *r, size_t *cap, size_t idx,
    const struct rel_cell *c)
{
	size_t i;
	int k;

	/* the grid seldom changes: try the same place first */
	if (idx < r->n && strcmp(r->rows[idx].dept, c->dept) == 0 &&
	    strcmp(r->rows[idx].svc, c->svc) == 0)
		i = idx;
	else {
		for (i = 0; i < r->n; i++)
			if (strcmp(r->rows[i].dept, c->dept) == 0 &&
			    strcmp(r->rows[i].svc, c->svc) == 0)
				break;
		if (i == r->n)
			return push(r, cap, c);
	}
	for (k = 0; k < RM_N; k++)
		r->rows[i].m[k] += c->m[k];
	r->rows[i].published &= c->published;
	r->rows[i].period_to = c->period;
	return 0;
}

int
query_run(struct released *rel, const struct query *q, struct qresult *out,
    char *err, size_t errlen)
{
	enum rel_kind kind = q->by_day ? REL_DAY : REL_WEEK;
	int32_t from = 0, to = 0;
	struct rel_cell *cells = NULL;
	size_t ncell, i, j, cap = 0, idx;

	memset(out, 0, sizeof(*out));
	out->derived = !q->by_day && !q->by_week;
	/* snap outward: a week level takes every week the range touches */
	if (kind == REL_DAY) {
		from = q->from_day;
		to = q->to_day;
	} else {
		from = q->from_day ? period_day_week(q->from_day) : 0;
		to = q->to_day ? period_day_week(q->to_day) : 0;
	}
	if (released_periods(rel, kind, from, to, &out->periods,
	    &out->nperiods, err, errlen) != 0)
		return -1;
	for (i = 0; i < out->nperiods; i++) {
		int rc;

		if (out->periods[i].min_group > out->min_group)
			out->min_group = out->periods[i].min_group;
		rc = released_cells(rel, kind, out->periods[i].period, &cells,
		    &ncell, err, errlen);
		if (rc < 0)
			goto fail;
		if (rc > 0)
			continue;	/* cannot happen: it was listed */
		for (j = 0, idx = 0; j < ncell; j++) {
			if (!wanted(q, &cells[j]))
				continue;
			if ((out->derived ? add_sum(out, &cap, idx,
			    &cells[j]) : push(out, &cap, &cells[j])) != 0) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			idx++;
		}
		free(cells);
		cells = NULL;
	}
	return 0;
fail:
	free(cells);
	query_free(out);
	return -1;
}

void
query_free(struct qresult *r)
{
	free(r->periods);
	free(r->rows);
	memset(r, 0, sizeof(*r));
}

/* --- the document -------------------------------------------------------- */

static const char *
kind_name(enum rel_kind k)
{
	return k == REL_DAY ? "day" : "week";
}

json_t *
query_period_json(const struct rel_period *p)
{
	char a[16], w[16];

	query_period_label(p->kind, p->period, a, sizeof(a));
	query_period_label(REL_WEEK, p->week, w, sizeof(w));
	return json_pack("{s:s,s:s,s:s,s:I,s:i,s:i,s:b}", "kind",
	    kind_name(p->kind), "period", a, "week", w, "released_at",
	    (json_int_t)p->released_at, "coverage_hours",
	    (int)p->coverage_hours, "hours_total", (int)p->hours_total,
	    "complete", p->complete != 0);
}

void
query_row_label(const struct qrow *w, int derived, char *buf, size_t n)
{
	char a[16], b[16];

	query_period_label(w->kind, w->period, a, sizeof(a));
	if (derived) {
		query_period_label(w->kind, w->period_to, b, sizeof(b));
		snprintf(buf, n, "%s..%s", a, b);
	} else
		snprintf(buf, n, "%s", a);
}

json_t *
query_row_json(const struct qrow *w, int derived)
{
	json_t *o = json_object();
	char lab[40];
	int k;

	if (o == NULL)
		return NULL;
	query_row_label(w, derived, lab, sizeof(lab));
	json_object_set_new(o, "kind", json_string(derived ? "weeks" :
	    kind_name(w->kind)));
	json_object_set_new(o, "period", json_string(lab));
	json_object_set_new(o, "department", json_string(w->dept));
	json_object_set_new(o, "service", json_string(w->svc));
	for (k = 0; k < RM_N; k++)
		if (w->published & (1u << k))
			json_object_set_new(o, rel_measure_names[k],
			    json_integer((json_int_t)w->m[k]));
	return o;
}

json_t *
query_json(const struct qresult *r)
{
	json_t *root = json_object(), *periods = json_array(),
	    *rows = json_array();
	size_t i;

	if (root == NULL || periods == NULL || rows == NULL) {
		json_decref(root);
		json_decref(periods);
		json_decref(rows);
		return NULL;
	}
	json_object_set_new(root, "method", json_string(r->method != NULL ?
	    r->method : "ckm-1"));
	json_object_set_new(root, "min_group_size", r->nperiods > 0 ?
	    json_integer(r->min_group) : json_null());
	json_object_set_new(root, "derived", json_boolean(r->derived));
	if (r->derived)
		json_object_set_new(root, "devices_unit",
		    json_string("device-weeks"));
	for (i = 0; i < r->nperiods; i++)
		json_array_append_new(periods,
		    query_period_json(&r->periods[i]));
	for (i = 0; i < r->n; i++)
		json_array_append_new(rows, query_row_json(&r->rows[i],
		    r->derived));
	json_object_set_new(root, "periods", periods);
	json_object_set_new(root, "rows", rows);
	return root;
}
