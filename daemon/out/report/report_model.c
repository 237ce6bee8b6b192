/*
 * report_model.c - the figures a renderer derives from the model, in
 * one place so that every format says the same thing: the chart's
 * weeks, what is "used" and "new", orders, changes and shares, the
 * blind spots' percentages.  It reads a model that report.c has filled
 * and writes nothing; it knows no renderer and no database.
 */
#include <stdlib.h>
#include <string.h>

#include "out/report/report_model.h"

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

/* A week's row is its released organisation cell, whatever the period. */
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
rep_series_released(const struct report *R, size_t i)
{
	if (R->quarter)
		return R->cur.released[i];
	if (i < R->trend.nweeks)
		return R->trend.released[i];
	return i == R->trend.nweeks ? R->prev.released[0] : 1;
}

int
rep_svc_used(const struct report *R, size_t s)
{
	return !RFIG_ZERO(&R->cur.svc[s].dev);
}

size_t
rep_depts_using(const struct report *R)
{
	size_t d, n = 0;

	for (d = 0; d < R->ndept; d++)
		if (!R->dept[d].unassigned && !RFIG_ZERO(&R->cur.dept[d].dev))
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
	double fx = rep_fig_value(R, &x->dev);
	double fy = rep_fig_value(R, &y->dev);

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

	if (R->prev.weeks_with_data == 0)
		return -1;
	c = rep_fig_value(R, cur);
	p = rep_fig_value(R, prev);
	if (p <= 0)
		return -1;
	*pct = (c - p) * 100.0 / p;
	return 0;
}

/* To the 0.1 the report prints (non-negative shares only). */
static double
round_tenth(double v)
{
	return (double)(long long)(v * 10.0 + 0.5) / 10.0;
}

int
rep_shadow_change(const struct report *R, double *cur, double *prev,
    double *pp)
{
	const struct rrow *c = &R->cur.org, *p = &R->prev.org;

	*cur = *prev = *pp = 0;
	if (c->svc_conns == 0)
		return 1;
	*cur = round_tenth(rep_share(c->shadow, c->svc_conns));
	if (R->prev.weeks_with_data == 0)
		return 2;
	if (p->svc_conns == 0)
		return 3;
	*prev = round_tenth(rep_share(p->shadow, p->svc_conns));
	*pp = round_tenth(*cur > *prev ? *cur - *prev : *prev - *cur);
	if (*cur < *prev)
		*pp = -*pp;
	return 0;
}

int
rep_coverage_incomplete(const struct report *R)
{
	return R->cur.weeks_with_data > 0 &&
	    R->cur.coverage_hours < R->cur.hours_total;
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

