/*
 * report_json.c - the report as one JSON document, for the CIO office's
 * own tools.  Figures are released cells as numbers (a released zero is
 * 0); sums of released cells carry "derived": true; "released_cells"
 * lists the cells the report was made of.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "out/report/i18n.h"
#include "common/period.h"
#include "out/report/report_fmt.h"
#include "out/report/report_model.h"
#include "out/report/report_render.h"
#include "out/query.h"

static json_t *
jday(int32_t day)
{
	char b[16];

	period_day_format(day, b, sizeof(b));
	return json_string(b);
}

static json_t *
jweek(int32_t week)
{
	char b[16];

	if (week == 0)
		return json_null();
	period_week_format(week, b, sizeof(b));
	return json_string(b);
}

static json_t *
jdec(double v)
{
	return json_real(round(v * 10) / 10);
}

/*
 * The device fields of a row.  A week's is its released cell; a
 * quarter's are derived from weekly cells: device-weeks (their sum), the
 * average per released week and the busiest week.
 */
static void
put_fig(const struct report *R, json_t *o, const struct rfig *f)
{
	if (R->quarter) {
		json_object_set_new(o, "devices_avg_week", jdec(f->avg));
		json_object_set_new(o, "devices_peak_week",
		    json_integer((json_int_t)f->max));
		json_object_set_new(o, "device_weeks",
		    json_integer((json_int_t)f->sum));
	} else {
		json_object_set_new(o, "devices",
		    json_integer((json_int_t)f->max));
	}
}

static json_t *
jfig(const struct report *R, const struct rfig *f)
{
	json_t *o = json_object();

	put_fig(R, o, f);
	return o;
}

/* derived: sums of released cells rather than a cell */
static void
put_counts(json_t *o, const struct rrow *r, int derived)
{
	int k;

	for (k = RM_DEVICES + 1; k < RM_N; k++)
		json_object_set_new(o, rel_measure_names[k],
		    json_integer((json_int_t)r->m[k]));
	json_object_set_new(o, "shadow_connections",
	    json_integer((json_int_t)r->shadow));
	json_object_set_new(o, "derived", json_boolean(derived));
}

/* A row: its devices, its change, its counts. */
static json_t *
jrow(const struct report *R, const struct rrow *cur, const struct rrow *prev)
{
	json_t *o = json_object();
	double pct;

	put_fig(R, o, &cur->dev);
	if (prev != NULL) {
		/* not released is not the same as no use */
		json_object_set_new(o, "previous", R->prev.weeks_with_data ?
		    jfig(R, &prev->dev) : json_null());
		json_object_set_new(o, "change_pct", rep_change(R, &cur->dev,
		    &prev->dev, &pct) == 0 ? jdec(pct) : json_null());
	}
	put_counts(o, cur, R->quarter);
	return o;
}

static json_t *
jchange(int ok, double pct)
{
	return ok == 0 ? jdec(pct) : json_null();
}

static json_t *
headline(const struct report *R)
{
	const struct rrow *c = &R->cur.org, *p = &R->prev.org;
	json_t *h = json_object();
	double pct = 0;
	int ok;

	json_object_set_new(h, "devices", jfig(R, &c->dev));
	json_object_set_new(h, "devices_previous", R->prev.weeks_with_data ?
	    jfig(R, &p->dev) : json_null());
	ok = rep_change(R, &c->dev, &p->dev, &pct);
	json_object_set_new(h, "devices_change_pct", jchange(ok, pct));
	json_object_set_new(h, "departments_using",
	    json_integer((json_int_t)rep_depts_using(R)));
	json_object_set_new(h, "departments_total",
	    json_integer((json_int_t)rep_depts_total(R)));
	json_object_set_new(h, "services_used",
	    json_integer((json_int_t)rep_svcs_used(R)));
	json_object_set_new(h, "services_new",
	    json_integer((json_int_t)rep_svcs_new(R)));
	put_counts(h, c, R->quarter);
	json_object_set_new(h, "connections_previous",
	    json_integer((json_int_t)rrow_conns(p)));
	ok = rep_change_u(rrow_conns(c), rrow_conns(p), &pct);
	json_object_set_new(h, "connections_change_pct", jchange(ok, pct));
	json_object_set_new(h, "shadow_share_pct",
	    jdec(rep_share(c->shadow, c->svc_conns)));
	{
		/* null: no comparison (no released figures, no connections) */
		double cs, ps, pp;

		ok = rep_shadow_change(R, &cs, &ps, &pp);
		json_object_set_new(h, "shadow_share_previous_pct", ok == 0 ?
		    jdec(ps) : json_null());
		json_object_set_new(h, "shadow_share_change_pp", ok == 0 ?
		    jdec(pp) : json_null());
	}
	return h;
}

static json_t *
departments(const struct report *R, size_t *idx)
{
	json_t *a = json_array();
	size_t i, n = rep_dept_order(R, idx);

	for (i = 0; i < n; i++) {
		size_t d = idx[i];
		json_t *o = json_object(), *row;

		json_object_set_new(o, "department",
		    json_string(R->dept[d].name));
		json_object_set_new(o, "unassigned",
		    json_boolean(R->dept[d].unassigned));
		row = jrow(R, &R->cur.dept[d], &R->prev.dept[d]);
		json_object_update(o, row);
		json_decref(row);
		json_array_append_new(a, o);
	}
	return a;
}

static int
is_new(const struct report *R, size_t d, size_t s)
{
	size_t i;

	for (i = 0; i < R->nnews; i++)
		if (R->news[i].dept == d && R->news[i].svc == s)
			return 1;
	return 0;
}

static json_t *
services(const struct report *R, size_t *idx)
{
	json_t *a = json_array();
	size_t i, n = rep_svc_order(R, idx);

	for (i = 0; i < n; i++) {
		const struct rsvc *s = &R->svc[idx[i]];
		json_t *o = json_object(), *row;
		int nw = is_new(R, (size_t)-1, idx[i]);

		json_object_set_new(o, "service", json_string(s->sid));
		json_object_set_new(o, "name", json_string(s->name));
		json_object_set_new(o, "vendor", json_string(s->vendor));
		json_object_set_new(o, "category", json_string(s->category));
		json_object_set_new(o, "jurisdiction",
		    json_string(s->jurisdiction));
		json_object_set_new(o, "jurisdiction_group",
		    json_string(rep_jur_name(s->jur)));
		json_object_set_new(o, "sanctioned",
		    json_boolean(s->sanctioned));
		/* the first released week with devices, from released cells */
		json_object_set_new(o, "first_seen_week",
		    jweek(s->first_week));
		json_object_set_new(o, "new", json_boolean(nw));
		row = jrow(R, &R->cur.svc[idx[i]], &R->prev.svc[idx[i]]);
		json_object_update(o, row);
		json_decref(row);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
cells(const struct report *R, size_t *sidx, size_t *didx)
{
	json_t *a = json_array();
	size_t i, j, ns = rep_svc_order(R, sidx), nd = rep_dept_order(R, didx);

	for (j = 0; j < nd; j++) {
		for (i = 0; i < ns; i++) {
			size_t d = didx[j], s = sidx[i], ci = d * R->nsvc + s;
			const struct rrow *c = &R->cur.cell[ci];
			json_t *o, *row;
			int nw;

			o = json_object();
			nw = is_new(R, d, s);
			json_object_set_new(o, "department",
			    json_string(R->dept[d].name));
			json_object_set_new(o, "service",
			    json_string(R->svc[s].sid));
			row = jrow(R, c, NULL);
			json_object_update(o, row);
			json_decref(row);
			json_object_set_new(o, "new", json_boolean(nw));
			json_array_append_new(a, o);
		}
	}
	return a;
}

static json_t *
categories(const struct report *R)
{
	json_t *a = json_array();
	size_t c;

	for (c = 0; c < R->ncat; c++) {
		const struct rrow *r = &R->cur.cat[c];
		json_t *o, *row;

		o = json_object();
		json_object_set_new(o, "category", json_string(R->cat[c]));
		row = jrow(R, r, &R->prev.cat[c]);
		json_object_update(o, row);
		json_decref(row);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
jurisdictions(const struct report *R)
{
	json_t *a = json_array();
	uint64_t all = R->cur.org.svc_conns;
	size_t s;
	int j;

	for (j = 0; j < RJ_N; j++) {
		const struct rrow *r = &R->cur.jur[j];
		json_t *o = json_object();
		int nsv = 0;

		for (s = 0; s < R->nsvc; s++)
			nsv += R->svc[s].jur == (enum rjur)j &&
			    rep_svc_used(R, s);
		json_object_set_new(o, "group", json_string(rep_jur_name(j)));
		json_object_set_new(o, "services", json_integer(nsv));
		/* a sum of the released service cells, not a cell */
		put_counts(o, r, 1);
		json_object_set_new(o, "share_pct",
		    jdec(rep_share(rrow_conns(r), all)));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
news(const struct report *R, int org)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < R->nnews; i++) {
		const struct rnew *n = &R->news[i];
		json_t *o;

		if ((n->dept == (size_t)-1) != org)
			continue;
		o = json_object();
		if (!org)
			json_object_set_new(o, "department",
			    json_string(R->dept[n->dept].name));
		json_object_set_new(o, "service",
		    json_string(R->svc[n->svc].sid));
		json_object_set_new(o, "name",
		    json_string(R->svc[n->svc].name));
		json_object_set_new(o, "first_seen_week", jweek(n->week));
		json_array_append_new(a, o);
	}
	return a;
}

/* A central release's sites: which of them the figures miss. */
static json_t *
sites(const struct report *R)
{
	json_t *a = json_array();
	char b[32];
	time_t t;
	struct tm tm;
	size_t i;

	for (i = 0; i < R->nsites; i++) {
		const struct central_read_site *s = &R->sites[i];
		json_t *o = json_object();

		json_object_set_new(o, "site", json_string(s->name));
		if (s->last_seen > 0) {
			t = (time_t)s->last_seen;
			gmtime_r(&t, &tm);
			strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm);
			json_object_set_new(o, "last_seen", json_string(b));
		} else
			json_object_set_new(o, "last_seen", json_null());
		json_object_set_new(o, "coverage_hours",
		    json_integer(s->hours_covered));
		json_object_set_new(o, "silent", json_boolean(s->silent));
		json_object_set_new(o, "weeks_silent",
		    json_integer(s->weeks_silent));
		json_object_set_new(o, "stale", json_boolean(s->stale));
		json_object_set_new(o, "late_rows", json_integer(s->late_rows));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
blind(const struct report *R)
{
	const struct rblind *b = &R->blind;
	json_t *o = json_object();
	size_t d;

#define U(k, v) json_object_set_new(o, k, json_integer((json_int_t)(v)))
	U("hours_with_data", b->hours);
	U("hours_in_period", b->hours_total);
	U("days_released", b->days);
	U("packets", b->packets);
	U("bytes", b->bytes);
	U("pcap_drops", b->pcap_drops);
	U("if_drops", b->if_drops);
	json_object_set_new(o, "drop_pct", jdec(rep_blind_drop_pct(R)));
	U("ech_conns", b->ech_conns);
	U("ech_unattributed", b->ech_unattributed);
	json_object_set_new(o, "ech_unattributed_pct",
	    jdec(rep_blind_ech_pct(R)));
	U("nosni_conns", b->nosni_conns);
	U("doh_conns", b->doh_conns);
	U("ignored", b->ignored);
	U("lost", b->lost);
	U("parse_failures", b->parse_failures);
	U("late", b->late);
	U("unreadable_hellos", b->unreadable);
	U("overlap_conflicts", b->conflicts);
#undef U
	for (d = 0; d < R->ndept; d++) {
		json_t *u;

		if (!R->dept[d].unassigned)
			continue;
		u = jrow(R, &R->cur.dept[d], NULL);
		json_object_set_new(u, "share_pct",
		    jdec(rep_blind_unassigned_pct(R)));
		json_object_set_new(o, "unassigned", u);
	}
	if (R->nsites > 0)
		json_object_set_new(o, "sites", sites(R));
	return o;
}

static json_t *
series(const struct report *R)
{
	json_t *a = json_array();
	size_t w;

	for (w = 0; w < rep_series_n(R); w++) {
		const struct rrow *r = rep_series_row(R, w);
		json_t *o = json_object();
		char b[16];

		period_week_format(rep_series_week(R, w), b, sizeof(b));
		json_object_set_new(o, "week", json_string(b));
		/* one week each: the figure is that week's released cell */
		json_object_set_new(o, "released",
		    json_boolean(rep_series_released(R, w)));
		if (rep_series_released(R, w)) {
			json_object_set_new(o, "devices",
			    json_integer((json_int_t)r->dev.max));
			put_counts(o, r, 0);
		}
		json_array_append_new(a, o);
	}
	return a;
}

/*
 * The released cells every figure above was read from (the current
 * period's W1 cells, zeros included), so a reader can check the report
 * against `aicensus query`: each in query.h's one encoding of a row.
 */
static json_t *
used_cells(const struct report *R)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < R->nused; i++) {
		struct qrow w;

		query_row_of_cell(&w, &R->used[i]);
		json_array_append_new(a, query_row_json(&w, 0));
	}
	return a;
}

int
report_json(const struct report *R, FILE *out)
{
	json_t *root = json_object(), *weeks = json_array();
	size_t *idx = calloc(R->nsvc + R->ndept + 1, sizeof(*idx));
	size_t *didx = calloc(R->ndept + 1, sizeof(*didx));
	char b[40];
	time_t t = (time_t)R->generated;
	struct tm tm;
	size_t w;
	int rc;

	if (idx == NULL || didx == NULL || root == NULL) {
		free(idx);
		free(didx);
		json_decref(root);
		return -1;
	}
	json_object_set_new(root, "report", json_string("aicensus"));
	json_object_set_new(root, "kind",
	    json_string(R->quarter ? "quarter" : "week"));
	json_object_set_new(root, "period", json_string(R->cur.label));
	for (w = 0; w < R->cur.nweeks; w++) {
		period_week_format(R->cur.weeks[w], b, sizeof(b));
		json_array_append_new(weeks, json_string(b));
	}
	json_object_set_new(root, "weeks", weeks);
	json_object_set_new(root, "first_day", jday(R->cur.first_day));
	json_object_set_new(root, "last_day", jday(R->cur.last_day));
	json_object_set_new(root, "previous_period",
	    json_string(R->prev.label));
	json_object_set_new(root, "timezone",
	    json_string(R->tz[0] ? R->tz : "system"));
	json_object_set_new(root, "language",
	    json_string(i18n_lang_code(R->lang)));
	json_object_set_new(root, "method", json_string(R->method));
	if (R->scope[0] != '\0')
		json_object_set_new(root, "scope", json_string(R->scope));
	if (R->central)
		json_object_set_new(root, "devices_summed_per_site",
		    json_true());
	json_object_set_new(root, "min_group_size", json_integer(R->min_group));
	json_object_set_new(root, "zero_marker", json_string(RFMT_ZERO));
	gmtime_r(&t, &tm);
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(root, "generated", json_string(b));
	json_object_set_new(root, "weeks_released",
	    json_integer(R->cur.weeks_with_data));
	json_object_set_new(root, "weeks_incomplete",
	    json_integer(R->cur.weeks_incomplete));
	json_object_set_new(root, "coverage_hours",
	    json_integer(R->cur.coverage_hours));
	json_object_set_new(root, "hours_total",
	    json_integer(R->cur.hours_total));
	json_object_set_new(root, "coverage_incomplete",
	    json_boolean(rep_coverage_incomplete(R)));
	json_object_set_new(root, "unfinished", json_boolean(R->unfinished));
	{
		json_t *gaps = json_array();
		char d[16];
		size_t i;

		/* a week's days with hours without sensor data */
		for (i = 0; i < R->blind.ngap; i++) {
			period_day_format(R->blind.gap[i].day, d, sizeof(d));
			json_array_append_new(gaps, json_pack("{s:s,s:i,s:i}",
			    "day", d, "hours_missing",
			    (int)R->blind.gap[i].missing, "hours",
			    (int)R->blind.gap[i].total));
		}
		json_object_set_new(root, "uncovered_days", gaps);
	}
	json_object_set_new(root, "derived", json_boolean(R->quarter));
	json_object_set_new(root, "headline", headline(R));
	json_object_set_new(root, "departments", departments(R, didx));
	json_object_set_new(root, "services", services(R, idx));
	json_object_set_new(root, "cells", cells(R, idx, didx));
	json_object_set_new(root, "categories", categories(R));
	json_object_set_new(root, "jurisdictions", jurisdictions(R));
	json_object_set_new(root, "new_services", news(R, 1));
	json_object_set_new(root, "new_in_departments", news(R, 0));
	json_object_set_new(root, "blind_spots", blind(R));
	json_object_set_new(root, "weekly", series(R));
	json_object_set_new(root, "released_cells", used_cells(R));
	rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(12));
	fputc('\n', out);
	json_decref(root);
	free(idx);
	free(didx);
	return rc;
}
