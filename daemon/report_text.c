/*
 * report_text.c - the report as Markdown (for a wiki or an e-mail) and
 * as CSV, one figure per line: period, section, department, service,
 * category, jurisdiction, metric, value, flag.  The long form loads into
 * any spreadsheet's pivot table.  A suppressed figure's value is the
 * marker ("<5") with flag "suppressed", never an empty cell or a 0; a
 * figure that is a lower bound has flag "lower_bound".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "period.h"
#include "report_model.h"

/* ========================================================================= */
/* CSV                                                                       */
/* ========================================================================= */

struct csv {
	const struct report	*R;
	FILE			*f;
	const char		*period;
};

struct where {
	const char	*section, *dept, *svc, *cat, *jur;
};

static void
csv_field(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void
csv_line(const struct csv *c, const struct where *w, const char *metric,
    const char *value, const char *flag)
{
	const char *f[9] = { c->period, w->section, w->dept ? w->dept : "",
	    w->svc ? w->svc : "", w->cat ? w->cat : "", w->jur ? w->jur : "",
	    metric, value, flag ? flag : "" };
	int i;

	for (i = 0; i < 9; i++) {
		if (i)
			fputc(',', c->f);
		csv_field(c->f, f[i]);
	}
	fputc('\n', c->f);
}

static void
csv_u(const struct csv *c, const struct where *w, const char *metric,
    uint64_t v, const char *flag)
{
	char b[32];

	snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
	csv_line(c, w, metric, b, flag);
}

static void
csv_d(const struct csv *c, const struct where *w, const char *metric,
    double v)
{
	char b[32];

	snprintf(b, sizeof(b), "%.1f", v);
	csv_line(c, w, metric, b, NULL);
}

static const char *const count_names[] = {
	"connections", "tls_conns", "quic_conns", "ech_conns", "dns_lookups",
	"dns_nxdomain", "bytes_up", "bytes_down", "device_hours",
	"shadow_connections"
};
#define NCOUNTS	(sizeof(count_names) / sizeof(count_names[0]))

static uint64_t
count_of(const struct rrow *r, size_t i)
{
	if (i == 0)
		return rrow_conns(r);
	if (i == NCOUNTS - 1)
		return r->shadow;
	return r->m[i - 1];
}

/* Device metrics of a figure; returns 1 when it is suppressed. */
static int
csv_fig(const struct csv *c, const struct where *w, const char *prefix,
    const struct rfig *f)
{
	const struct report *R = c->R;
	char m[64];
	const char *flag;

	if (RFIG_SUPPRESSED(f)) {
		if (R->quarter) {
			snprintf(m, sizeof(m), "%sdevices_avg_week", prefix);
			csv_line(c, w, m, R->supp, "suppressed");
			snprintf(m, sizeof(m), "%sdevices_peak_week", prefix);
		} else {
			snprintf(m, sizeof(m), "%sdevices", prefix);
		}
		csv_line(c, w, m, R->supp, "suppressed");
		return 1;
	}
	flag = f->lower_bound ? "lower_bound" : f->estimate ? "estimate" :
	    NULL;
	if (R->quarter) {
		char b[32];

		snprintf(m, sizeof(m), "%sdevices_avg_week", prefix);
		snprintf(b, sizeof(b), "%.1f", f->avg);
		csv_line(c, w, m, b, f->lower_bound || f->suppressed ?
		    "lower_bound" : flag);
		snprintf(m, sizeof(m), "%sdevices_peak_week", prefix);
		csv_u(c, w, m, f->max, f->max_lb ? "lower_bound" :
		    f->estimate ? "estimate" : NULL);
	} else {
		snprintf(m, sizeof(m), "%sdevices", prefix);
		csv_u(c, w, m, f->max, flag);
	}
	return 0;
}

static void
csv_counts(const struct csv *c, const struct where *w, const struct rrow *r,
    int suppressed)
{
	size_t i;

	for (i = 0; i < NCOUNTS; i++)
		if (suppressed)
			csv_line(c, w, count_names[i], c->R->supp,
			    "suppressed");
		else
			csv_u(c, w, count_names[i], count_of(r, i),
			    r->partial ? "lower_bound" : NULL);
}

static void
csv_row(const struct csv *c, const struct where *w, const struct rrow *cur,
    const struct rrow *prev)
{
	int sup = csv_fig(c, w, "", &cur->dev);
	double pct;

	if (prev != NULL) {
		csv_fig(c, w, "previous_", &prev->dev);
		if (!sup && rep_change(c->R, &cur->dev, &prev->dev, &pct) == 0)
			csv_d(c, w, "devices_change_pct", pct);
	}
	csv_counts(c, w, cur, sup);
}

static int
news_has(const struct report *R, size_t d, size_t s, int32_t *day)
{
	size_t i;

	for (i = 0; i < R->nnews; i++)
		if (R->news[i].dept == d && R->news[i].svc == s) {
			*day = R->news[i].day;
			return 1;
		}
	return 0;
}

static void
csv_first(const struct csv *c, const struct where *w, size_t d, size_t s)
{
	int32_t day;
	char b[16];

	if (news_has(c->R, d, s, &day)) {
		period_day_format(day, b, sizeof(b));
		csv_line(c, w, "first_seen", b, "new");
	}
}

static void
csv_meta(const struct csv *c)
{
	const struct report *R = c->R;
	struct where w = { "meta", NULL, NULL, NULL, NULL };
	char b[32];

	csv_line(c, &w, "kind", R->quarter ? "quarter" : "week", NULL);
	period_day_format(R->cur.first_day, b, sizeof(b));
	csv_line(c, &w, "first_day", b, NULL);
	period_day_format(R->cur.last_day, b, sizeof(b));
	csv_line(c, &w, "last_day", b, NULL);
	csv_line(c, &w, "previous_period", R->prev.label, NULL);
	csv_line(c, &w, "timezone", R->tz[0] ? R->tz : "system", NULL);
	csv_line(c, &w, "language", i18n_lang_code(R->lang), NULL);
	csv_u(c, &w, "min_group_size", (uint64_t)R->min_group, NULL);
	csv_u(c, &w, "weeks_with_data", R->cur.weeks_with_data, NULL);
}

static void
csv_headline(const struct csv *c)
{
	const struct report *R = c->R;
	struct where w = { "headline", NULL, NULL, NULL, NULL };
	double pct;

	csv_row(c, &w, &R->cur.org, &R->prev.org);
	csv_u(c, &w, "departments_using", rep_depts_using(R), NULL);
	csv_u(c, &w, "departments_total", rep_depts_total(R), NULL);
	csv_u(c, &w, "services_used", rep_svcs_used(R), NULL);
	csv_u(c, &w, "services_new", rep_svcs_new(R), NULL);
	csv_u(c, &w, "previous_connections", rrow_conns(&R->prev.org),
	    R->prev.org.partial ? "lower_bound" : NULL);
	if (rep_change_u(rrow_conns(&R->cur.org), rrow_conns(&R->prev.org),
	    &pct) == 0)
		csv_d(c, &w, "connections_change_pct", pct);
	csv_d(c, &w, "shadow_share_pct", rep_share(R->cur.org.shadow,
	    rrow_conns(&R->cur.org)));
}

static void
csv_blind(const struct csv *c)
{
	const struct report *R = c->R;
	const struct rblind *b = &R->blind;
	struct where w = { "blind_spot", NULL, NULL, NULL, NULL };
	size_t d;

	csv_u(c, &w, "hours_with_data", b->hours, NULL);
	csv_u(c, &w, "hours_in_period", b->hours_total, NULL);
	csv_u(c, &w, "packets", b->packets, NULL);
	csv_u(c, &w, "pcap_drops", b->pcap_drops, NULL);
	csv_u(c, &w, "if_drops", b->if_drops, NULL);
	csv_d(c, &w, "drop_pct", rep_blind_drop_pct(R));
	csv_u(c, &w, "ech_conns", b->ech_conns, NULL);
	csv_u(c, &w, "ech_unattributed", b->ech_unattributed, NULL);
	csv_d(c, &w, "ech_unattributed_pct", rep_blind_ech_pct(R));
	csv_u(c, &w, "nosni_conns", b->nosni_conns, NULL);
	csv_u(c, &w, "doh_conns", b->doh_conns, NULL);
	csv_u(c, &w, "ignored", b->ignored, NULL);
	csv_u(c, &w, "lost", b->lost, NULL);
	csv_u(c, &w, "parse_failures", b->parse_failures, NULL);
	csv_u(c, &w, "cells_suppressed", R->cur.org.partial, NULL);
	for (d = 0; d < R->ndept; d++) {
		if (!R->dept[d].unassigned)
			continue;
		w.dept = R->dept[d].name;
		if (csv_fig(c, &w, "unassigned_", &R->cur.dept[d].dev) == 0) {
			csv_u(c, &w, "unassigned_connections",
			    rrow_conns(&R->cur.dept[d]),
			    R->cur.dept[d].partial ? "lower_bound" : NULL);
			csv_d(c, &w, "unassigned_pct",
			    rep_blind_unassigned_pct(R));
		}
	}
}

static void
csv_weeks(const struct csv *c)
{
	const struct report *R = c->R;
	struct where w = { "week", NULL, NULL, NULL, NULL };
	struct csv cw = *c;
	size_t i;
	char b[16];

	cw.period = b;
	for (i = 0; i < rep_series_n(R); i++) {
		const struct rrow *r = rep_series_row(R, i);
		const struct rfig *f = &r->dev;

		period_week_format(rep_series_week(R, i), b, sizeof(b));
		if (RFIG_SUPPRESSED(f)) {
			csv_line(&cw, &w, "devices", R->supp, "suppressed");
			continue;
		}
		if (RFIG_ABSENT(f))
			continue;
		csv_u(&cw, &w, "devices", f->max, f->max_lb ?
		    "lower_bound" : NULL);
		csv_counts(&cw, &w, r, 0);
	}
}

int
report_csv(const struct report *R, FILE *f)
{
	struct csv c = { R, f, R->cur.label };
	size_t *sidx = calloc(R->nsvc + 1, sizeof(*sidx));
	size_t *didx = calloc(R->ndept + 1, sizeof(*didx));
	size_t i, j, ns, nd;
	int g;

	if (sidx == NULL || didx == NULL) {
		free(sidx);
		free(didx);
		return -1;
	}
	ns = rep_svc_order(R, sidx);
	nd = rep_dept_order(R, didx);
	fprintf(f, "period,section,department,service,category,jurisdiction,"
	    "metric,value,flag\n");
	csv_meta(&c);
	csv_headline(&c);
	for (i = 0; i < nd; i++) {
		struct where w = { "department", R->dept[didx[i]].name, NULL,
		    NULL, NULL };

		csv_row(&c, &w, &R->cur.dept[didx[i]], &R->prev.dept[didx[i]]);
	}
	for (i = 0; i < ns; i++) {
		const struct rsvc *s = &R->svc[sidx[i]];
		struct where w = { "service", NULL, s->sid, s->category,
		    rep_jur_name(s->jur) };

		csv_u(&c, &w, "sanctioned", (uint64_t)s->sanctioned, NULL);
		csv_row(&c, &w, &R->cur.svc[sidx[i]], &R->prev.svc[sidx[i]]);
		csv_first(&c, &w, (size_t)-1, sidx[i]);
	}
	for (j = 0; j < nd; j++)
		for (i = 0; i < ns; i++) {
			const struct rsvc *s = &R->svc[sidx[i]];
			const struct rrow *r = &R->cur.cell[didx[j] * R->nsvc +
			    sidx[i]];
			struct where w = { "cell", R->dept[didx[j]].name,
			    s->sid, s->category, rep_jur_name(s->jur) };

			if (RFIG_ABSENT(&r->dev))
				continue;
			csv_row(&c, &w, r, NULL);
			csv_first(&c, &w, didx[j], sidx[i]);
		}
	for (i = 0; i < R->ncat; i++) {
		struct where w = { "category", NULL, NULL, R->cat[i], NULL };

		if (!RFIG_ABSENT(&R->cur.cat[i].dev))
			csv_row(&c, &w, &R->cur.cat[i], &R->prev.cat[i]);
	}
	for (g = 0; g < RJ_N; g++) {
		struct where w = { "jurisdiction", NULL, NULL, NULL,
		    rep_jur_name(g) };
		uint64_t nsv = 0;

		for (i = 0; i < R->nsvc; i++)
			nsv += R->svc[i].jur == (enum rjur)g &&
			    rep_svc_used(R, i);
		csv_u(&c, &w, "services", nsv, NULL);
		csv_counts(&c, &w, &R->cur.jur[g], 0);
		csv_d(&c, &w, "share_pct", rep_share(rrow_conns(&R->cur.jur[g]),
		    rrow_conns(&R->cur.org)));
	}
	csv_blind(&c);
	csv_weeks(&c);
	free(sidx);
	free(didx);
	return ferror(f) ? -1 : 0;
}

/* ========================================================================= */
/* Markdown                                                                  */
/* ========================================================================= */

#define T(id)	i18n(R->lang, (id))

/* Table cells must not break the table. */
static void
md_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|' || *s == '*' || *s == '_' || *s == '\\' ||
		    *s == '<' || *s == '`')
			fputc('\\', f);
		fputc(*s == '\n' ? ' ' : *s, f);
	}
}

static void
md_header(FILE *f, size_t ncols, const char *const *names, const int *num)
{
	size_t i;

	fputs("|", f);
	for (i = 0; i < ncols; i++) {
		fputc(' ', f);
		md_text(f, names[i]);
		fputs(" |", f);
	}
	fputs("\n|", f);
	for (i = 0; i < ncols; i++)
		fputs(num[i] ? " ---: |" : " --- |", f);
	fputc('\n', f);
}

static void
md_cells(FILE *f, size_t n, const char *const *cells)
{
	size_t i;

	fputs("|", f);
	for (i = 0; i < n; i++) {
		fputc(' ', f);
		md_text(f, cells[i]);
		fputs(" |", f);
	}
	fputc('\n', f);
}

static const char *
md_count(const struct report *R, const struct rrow *r, uint64_t v, int bytes,
    char *buf, size_t n)
{
	char d[48];

	if (RFIG_SUPPRESSED(&r->dev)) {
		snprintf(buf, n, "%s", R->supp);
		return buf;
	}
	if (bytes)
		rfmt_bytes(R, v, d, sizeof(d));
	else
		rfmt_int(R, v, d, sizeof(d));
	snprintf(buf, n, "%s%s", r->partial ? "\xe2\x89\xa5 " : "", d);
	return buf;
}

static const char *
md_change(const struct report *R, const struct rfig *c, const struct rfig *p,
    char *buf, size_t n)
{
	double pct;

	if (rep_change(R, c, p, &pct) != 0) {
		snprintf(buf, n, "\xe2\x80\x93");
		return buf;
	}
	return rfmt_change(R, pct, buf, n);
}

static const char *
md_dept(const struct report *R, size_t d)
{
	return R->dept[d].unassigned ? T(T_UNASSIGNED_SHORT) : R->dept[d].name;
}

static void
md_departments(const struct report *R, FILE *f, const size_t *didx, size_t nd)
{
	const char *h[] = { T(T_DEPARTMENT), T(R->quarter ? T_DEVICES_AVG :
	    T_DEVICES), T(R->quarter ? T_CHANGE_Q : T_CHANGE_W),
	    T(T_CONNECTIONS), T(T_SHADOW_SHARE), T(T_UPLOADED), T(T_BLOCKED) };
	const int num[] = { 0, 1, 1, 1, 1, 1, 1 };
	size_t i;

	fprintf(f, "\n## %s\n\n", T(T_DEPARTMENTS));
	md_header(f, 7, h, num);
	for (i = 0; i <= nd; i++) {
		const struct rrow *c = i < nd ? &R->cur.dept[didx[i]] :
		    &R->cur.org;
		const struct rrow *p = i < nd ? &R->prev.dept[didx[i]] :
		    &R->prev.org;
		char a[48], b[48], d[48], e[48], g[48], k[48];
		const char *cells[7];

		cells[0] = i < nd ? md_dept(R, didx[i]) : T(T_ORGANISATION);
		cells[1] = rfmt_fig(R, &c->dev, a, sizeof(a));
		cells[2] = md_change(R, &c->dev, &p->dev, b, sizeof(b));
		cells[3] = md_count(R, c, rrow_conns(c), 0, d, sizeof(d));
		if (RFIG_SUPPRESSED(&c->dev))
			snprintf(e, sizeof(e), "%s", R->supp);
		else
			rfmt_pct(R, rep_share(c->shadow, rrow_conns(c)), e,
			    sizeof(e));
		cells[4] = e;
		cells[5] = md_count(R, c, c->m[QM_UP], 1, g, sizeof(g));
		cells[6] = md_count(R, c, c->m[QM_NXDOMAIN], 0, k, sizeof(k));
		md_cells(f, 7, cells);
	}
	fprintf(f, "\n%s\n", T(T_DEPT_NOTE));
}

enum mdmx { MD_DEVICES, MD_UPLOAD, MD_BLOCKED };

static const char *
md_mx_cell(const struct report *R, enum mdmx k, const struct rrow *r,
    char *buf, size_t n)
{
	if (RFIG_ABSENT(&r->dev)) {
		snprintf(buf, n, "\xc2\xb7");
		return buf;
	}
	if (k == MD_DEVICES)
		return rfmt_fig(R, &r->dev, buf, n);
	return md_count(R, r, r->m[k == MD_UPLOAD ? QM_UP : QM_NXDOMAIN],
	    k == MD_UPLOAD, buf, n);
}

static void
md_matrix(const struct report *R, FILE *f, enum mdmx k, const size_t *sidx,
    size_t ns, const size_t *didx, size_t nd)
{
	const char **h = calloc(nd + 2, sizeof(*h));
	const char **cells = calloc(nd + 2, sizeof(*cells));
	char (*buf)[48] = calloc(nd + 2, sizeof(*buf));
	int *num = calloc(nd + 2, sizeof(*num));
	size_t i, j, rows = 0;

	if (!h || !cells || !buf || !num)
		goto out;
	h[0] = T(T_SERVICE);
	for (j = 0; j < nd; j++) {
		h[j + 1] = md_dept(R, didx[j]);
		num[j + 1] = 1;
	}
	h[nd + 1] = T(T_ALL);
	num[nd + 1] = 1;
	for (i = 0; i <= ns; i++) {
		const struct rrow *tot = i < ns ? &R->cur.svc[sidx[i]] :
		    &R->cur.org;

		if (i < ns && k == MD_BLOCKED && tot->m[QM_NXDOMAIN] == 0)
			continue;
		if (i < ns && k == MD_UPLOAD && tot->m[QM_UP] == 0 &&
		    !RFIG_SUPPRESSED(&tot->dev))
			continue;
		if (i == ns && rows == 0)
			break;
		if (rows++ == 0)
			md_header(f, nd + 2, h, num);
		cells[0] = i < ns ? R->svc[sidx[i]].name : T(T_ALL_SERVICES);
		for (j = 0; j < nd; j++)
			cells[j + 1] = md_mx_cell(R, k, i < ns ?
			    &R->cur.cell[didx[j] * R->nsvc + sidx[i]] :
			    &R->cur.dept[didx[j]], buf[j], sizeof(buf[j]));
		cells[nd + 1] = md_mx_cell(R, k, tot, buf[nd], sizeof(buf[nd]));
		md_cells(f, nd + 2, cells);
	}
	if (rows == 0)
		fprintf(f, "%s\n", T(T_NONE));
out:
	free(h);
	free(cells);
	free(buf);
	free(num);
}

static void
md_services(const struct report *R, FILE *f, const size_t *sidx, size_t ns)
{
	const char *h[] = { T(T_SERVICE), T(T_VENDOR), T(T_CATEGORY),
	    T(T_JURISDICTION), T(T_STATUS), T(R->quarter ? T_DEVICES_AVG :
	    T_DEVICES), T(R->quarter ? T_CHANGE_Q : T_CHANGE_W),
	    T(T_CONNECTIONS), T(T_UPLOADED) };
	const int num[] = { 0, 0, 0, 0, 0, 1, 1, 1, 1 };
	size_t i;

	fprintf(f, "\n## %s\n\n", T(T_SERVICES));
	if (ns == 0) {
		fprintf(f, "%s\n", T(T_NONE));
		return;
	}
	md_header(f, 9, h, num);
	for (i = 0; i < ns; i++) {
		const struct rsvc *s = &R->svc[sidx[i]];
		const struct rrow *c = &R->cur.svc[sidx[i]];
		char name[160], a[48], b[48], d[48], e[48];
		const char *cells[9];
		int32_t day;

		snprintf(name, sizeof(name), "%s%s%s%s", s->name,
		    news_has(R, (size_t)-1, sidx[i], &day) ? " (" : "",
		    news_has(R, (size_t)-1, sidx[i], &day) ? T(T_NEW) : "",
		    news_has(R, (size_t)-1, sidx[i], &day) ? ")" : "");
		cells[0] = name;
		cells[1] = s->vendor;
		cells[2] = i18n_category(R->lang, s->category);
		cells[3] = s->jurisdiction;
		cells[4] = T(s->sanctioned ? T_SANCTIONED : T_SHADOW_SHORT);
		cells[5] = rfmt_fig(R, &c->dev, a, sizeof(a));
		cells[6] = md_change(R, &c->dev, &R->prev.svc[sidx[i]].dev, b,
		    sizeof(b));
		cells[7] = md_count(R, c, rrow_conns(c), 0, d, sizeof(d));
		cells[8] = md_count(R, c, c->m[QM_UP], 1, e, sizeof(e));
		md_cells(f, 9, cells);
	}
}

static void
md_news(const struct report *R, FILE *f)
{
	char mg[16], d[48];
	size_t i, n;
	int org;

	fprintf(f, "\n## %s\n", T(T_NEW_TITLE));
	for (org = 1; org >= 0; org--) {
		fprintf(f, "\n### %s\n\n", T(org ? T_NEW_ORG : T_NEW_DEPT));
		for (i = 0, n = 0; i < R->nnews; i++) {
			const struct rnew *nw = &R->news[i];

			if ((nw->dept == (size_t)-1) != org)
				continue;
			fputs("- ", f);
			if (!org) {
				md_text(f, md_dept(R, nw->dept));
				fputs(": ", f);
			}
			md_text(f, R->svc[nw->svc].name);
			fprintf(f, " (%s, %s)\n", T(R->svc[nw->svc].sanctioned ?
			    T_SANCTIONED : T_SHADOW_SHORT),
			    rfmt_day(R, nw->day, d, sizeof(d)));
			n++;
		}
		if (n == 0)
			fprintf(f, "%s\n", T(T_NONE));
	}
	snprintf(mg, sizeof(mg), "%d", R->min_group);
	fprintf(f, "\n%s\n", i18n_fill((char[1024]){ 0 }, 1024, T(T_NEW_NOTE),
	    mg, NULL, NULL));
}

static void
md_cat_jur(const struct report *R, FILE *f)
{
	const char *hc[] = { T(T_CATEGORY), T(R->quarter ? T_DEVICES_AVG :
	    T_DEVICES), T(T_CONNECTIONS), T(T_SHADOW_SHARE) };
	const char *hj[] = { T(T_JURISDICTION), T(T_SERVICES),
	    T(T_CONNECTIONS), T(T_UPLOADED) };
	const int num[] = { 0, 1, 1, 1 };
	uint64_t all = rrow_conns(&R->cur.org);
	size_t c, s;
	int j;

	fprintf(f, "\n## %s\n\n", T(T_CATEGORIES));
	md_header(f, 4, hc, num);
	for (c = 0; c < R->ncat; c++) {
		const struct rrow *r = &R->cur.cat[c];
		char a[48], b[48], d[48];
		const char *cells[4];

		if (RFIG_ABSENT(&r->dev))
			continue;
		cells[0] = i18n_category(R->lang, R->cat[c]);
		cells[1] = rfmt_fig(R, &r->dev, a, sizeof(a));
		cells[2] = md_count(R, r, rrow_conns(r), 0, b, sizeof(b));
		cells[3] = RFIG_SUPPRESSED(&r->dev) ? R->supp : rfmt_pct(R,
		    rep_share(r->shadow, rrow_conns(r)), d, sizeof(d));
		md_cells(f, 4, cells);
	}
	fprintf(f, "\n## %s\n\n", T(T_JURIS_TITLE));
	md_header(f, 4, hj, num);
	for (j = 0; j < RJ_N; j++) {
		const struct rrow *r = &R->cur.jur[j];
		char a[48], b[96], d[48], p[32];
		const char *cells[4];
		size_t nsv = 0;

		for (s = 0; s < R->nsvc; s++)
			nsv += R->svc[s].jur == (enum rjur)j &&
			    rep_svc_used(R, s);
		snprintf(a, sizeof(a), "%zu", nsv);
		cells[0] = i18n_jurisdiction(R->lang, rep_jur_name(j));
		cells[1] = a;
		snprintf(b, sizeof(b), "%s (%s)", md_count(R, r, rrow_conns(r),
		    0, d, sizeof(d)), rfmt_pct(R, rep_share(rrow_conns(r), all),
		    p, sizeof(p)));
		cells[2] = b;
		cells[3] = md_count(R, r, r->m[QM_UP], 1, d, sizeof(d));
		md_cells(f, 4, cells);
	}
	fprintf(f, "\n%s\n", T(T_JURIS_NOTE));
}

static void
md_blind(const struct report *R, FILE *f)
{
	const struct rblind *b = &R->blind;
	char a[64], c[64], v[64];
	size_t d;

	fprintf(f, "\n## %s\n\n", T(T_BLIND_TITLE));
	fprintf(f, "%s\n\n", i18n_fill((char[1024]){ 0 }, 1024,
	    T(T_BLIND_INTRO), rfmt_pct(R, rep_blind_ech_pct(R), a, sizeof(a)),
	    NULL, NULL));
	fprintf(f, "| %s | %s |\n| --- | ---: |\n", T(T_MEASURE), T(T_VALUE));
	fprintf(f, "| %s | %s |\n", T(T_BL_ECH),
	    rfmt_int(R, b->ech_unattributed, v, sizeof(v)));
	fprintf(f, "| %s | %s |\n", T(T_BL_DOH),
	    rfmt_int(R, b->doh_conns, v, sizeof(v)));
	fprintf(f, "| %s | %s (%s) |\n", T(T_BL_DROPS),
	    rfmt_int(R, b->pcap_drops + b->if_drops, v, sizeof(v)),
	    rfmt_pct(R, rep_blind_drop_pct(R), a, sizeof(a)));
	for (d = 0; d < R->ndept; d++)
		if (R->dept[d].unassigned)
			fprintf(f, "| %s | %s |\n", T(T_BL_UNASSIGNED),
			    md_count(R, &R->cur.dept[d],
			    rrow_conns(&R->cur.dept[d]), 0, v, sizeof(v)));
	fprintf(f, "| %s | %s |\n", T(T_BL_NOSNI),
	    rfmt_int(R, b->nosni_conns, v, sizeof(v)));
	fprintf(f, "| %s | %u |\n", T(T_BL_SUPPRESSED), R->cur.org.partial);
	snprintf(a, sizeof(a), "%u", b->hours);
	snprintf(c, sizeof(c), "%u", b->hours_total);
	fprintf(f, "| %s | %s / %s |\n", T(T_BL_HOURS), a, c);
	if (b->lost)
		fprintf(f, "| %s | %s |\n", T(T_BL_LOST),
		    rfmt_int(R, b->lost, v, sizeof(v)));
}

static void
md_method(const struct report *R, FILE *f)
{
	char a[32], b[32], t[1024];

	fprintf(f, "\n## %s\n\n", T(T_METHOD_TITLE));
	snprintf(a, sizeof(a), "%zu", R->nsvc);
	fprintf(f, "%s\n\n", i18n_fill(t, sizeof(t), T(T_M_WHAT), a, NULL,
	    NULL));
	fprintf(f, "**%s** %s\n\n", T(T_M_COLLECTED_H), T(T_M_COLLECTED));
	fprintf(f, "**%s** %s\n\n", T(T_M_NOT_COLLECTED_H),
	    T(T_M_NOT_COLLECTED));
	snprintf(a, sizeof(a), "%d", R->min_group);
	fprintf(f, "**%s** %s\n\n", T(T_M_GROUP_H), i18n_fill(t, sizeof(t),
	    T(T_M_GROUP), a, R->supp, NULL));
	fprintf(f, "**%s** %s", T(T_M_KEY_H), T(T_M_KEY));
	if (R->quarter) {
		snprintf(b, sizeof(b), "%u", R->cur.weeks_with_data);
		fprintf(f, " %s", i18n_fill(t, sizeof(t), T(T_M_QUARTER), b,
		    NULL, NULL));
	}
	fprintf(f, "\n\n**%s** ", T(T_M_RETENTION_H));
	if (R->o->retention_days > 0) {
		snprintf(b, sizeof(b), "%d", R->o->retention_days);
		fprintf(f, "%s\n\n", i18n_fill(t, sizeof(t), T(T_M_RETENTION),
		    b, NULL, NULL));
	} else {
		fprintf(f, "%s\n\n", T(T_M_RETENTION_CONF));
	}
	fprintf(f, "**%s** %s\n\n", T(T_M_DEFS_H), T(T_M_DEFS));
	fprintf(f, "_%s_\n", i18n_fill(t, sizeof(t), T(T_LEGEND), R->supp, a,
	    NULL));
}

/* The organisation week by week. */
static void
md_weekly(const struct report *R, FILE *f)
{
	size_t i;

	fprintf(f, "\n## %s\n\n| %s | %s | %s |\n| --- | ---: | ---: |\n",
	    T(R->quarter ? T_WEEKLY_TITLE : T_CHART_WEEKS), T(T_WEEK),
	    T(T_DEVICES), T(T_CONNECTIONS));
	for (i = 0; i < rep_series_n(R); i++) {
		const struct rrow *r = rep_series_row(R, i);
		char w[16], a[48], b[48], c[48];

		period_week_format(rep_series_week(R, i), w, sizeof(w));
		if (RFIG_SUPPRESSED(&r->dev))
			snprintf(a, sizeof(a), "%s", R->supp);
		else if (RFIG_ABSENT(&r->dev))
			snprintf(a, sizeof(a), "\xc2\xb7");
		else
			snprintf(a, sizeof(a), "%s%s", r->dev.max_lb ?
			    "\xe2\x89\xa5 " : "", rfmt_int(R, r->dev.max, c,
			    sizeof(c)));
		if (RFIG_ABSENT(&r->dev))
			snprintf(b, sizeof(b), "\xc2\xb7");
		else
			md_count(R, r, rrow_conns(r), 0, b, sizeof(b));
		fprintf(f, "| %s | %s | %s |\n", w, a, b);
	}
}

int
report_md(const struct report *R, FILE *f)
{
	size_t *sidx = calloc(R->nsvc + 1, sizeof(*sidx));
	size_t *didx = calloc(R->ndept + 1, sizeof(*didx));
	char lines[RFINDINGS_MAX][RFINDING_LEN], t[256], a[16], b[16], r[96],
	    g[64], mg[16];
	size_t i, n, ns, nd;
	struct period p;

	if (sidx == NULL || didx == NULL) {
		free(sidx);
		free(didx);
		return -1;
	}
	ns = rep_svc_order(R, sidx);
	nd = rep_dept_order(R, didx);
	rfmt_range(R, R->cur.first_day, R->cur.last_day, r, sizeof(r));
	if (R->quarter) {
		snprintf(a, sizeof(a), "%c", R->cur.label[6]);
		snprintf(b, sizeof(b), "%.4s", R->cur.label);
	} else {
		snprintf(a, sizeof(a), "%d", R->cur.weeks[0] % 100);
		snprintf(b, sizeof(b), "%d", R->cur.weeks[0] / 100);
	}
	fprintf(f, "# %s\n\n**%s**\n\n", T(R->quarter ? T_TITLE_QUARTER :
	    T_TITLE_WEEK), i18n_fill(t, sizeof(t), T(R->quarter ? T_QUARTER_N :
	    T_WEEK_N), a, b, r));
	period_of(R->generated, &p);
	snprintf(mg, sizeof(mg), "%d", R->min_group);
	fprintf(f, "%s · %s\n", i18n_fill(t, sizeof(t), T(T_GENERATED),
	    rfmt_day(R, p.day, g, sizeof(g)), R->tz[0] ? R->tz : "system", mg),
	    T(T_BADGE));
	fprintf(f, "\n## %s\n\n", T(T_FINDINGS));
	n = rep_findings(R, lines);
	for (i = 0; i < n; i++) {
		fputs("- ", f);
		md_text(f, lines[i]);
		fputc('\n', f);
	}
	md_weekly(R, f);
	md_departments(R, f, didx, nd);
	fprintf(f, "\n## %s\n\n", T(R->quarter ? T_MATRIX_Q : T_MATRIX));
	md_matrix(R, f, MD_DEVICES, sidx, ns, didx, nd);
	fprintf(f, "\n%s\n", T(T_MATRIX_NOTE));
	md_services(R, f, sidx, ns);
	md_news(R, f);
	md_cat_jur(R, f);
	fprintf(f, "\n## %s\n\n%s\n\n", T(T_UPLOAD_TITLE), T(T_UPLOAD_NOTE));
	md_matrix(R, f, MD_UPLOAD, sidx, ns, didx, nd);
	fprintf(f, "\n## %s\n\n%s\n\n", T(T_BLOCKED_TITLE), T(T_BLOCKED_NOTE));
	md_matrix(R, f, MD_BLOCKED, sidx, ns, didx, nd);
	md_blind(R, f);
	md_method(R, f);
	free(sidx);
	free(didx);
	return ferror(f) ? -1 : 0;
}
