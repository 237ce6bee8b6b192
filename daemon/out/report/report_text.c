/*
 * report_text.c - the report as Markdown (for a wiki or an e-mail) and
 * as CSV, one figure per line: period, section, department, service,
 * category, jurisdiction, metric, value, flag.  The long form loads into
 * any spreadsheet's pivot table.  Values are released cells as numbers
 * (a released zero is 0 here, for the spreadsheet; the other formats
 * print it "–"); flag "derived" marks a sum of released cells (a
 * quarter, a jurisdiction, a shadow count) rather than a cell.
 *
 * In Dutch the CSV is what Dutch Excel opens by a double click: fields
 * separated by ';' (the comma is the decimal mark there), decimals with
 * a comma, and a UTF-8 byte order mark so that é and ë are read as
 * UTF-8, not as Windows-1252.  In English: ',' and '.', no mark.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "out/report/i18n.h"
#include "common/period.h"
#include "out/report/report_fmt.h"
#include "out/report/report_model.h"
#include "out/report/report_render.h"

/* ========================================================================= */
/* CSV                                                                       */
/* ========================================================================= */

struct csv {
	const struct report	*R;
	FILE			*f;
	const char		*period;
	char			 sep;	/* ',' or ';' */
};

struct where {
	const char	*section, *dept, *svc, *cat, *jur;
};

static void
csv_field(FILE *f, char sep, const char *s)
{
	if (strchr(s, sep) == NULL && strpbrk(s, "\"\r\n") == NULL) {
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
			fputc(c->sep, c->f);
		csv_field(c->f, c->sep, f[i]);
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

/* One decimal, with the language's decimal mark. */
static const char *
csv_dec(const struct csv *c, double v, char *buf, size_t n)
{
	char *dot;

	snprintf(buf, n, "%.1f", v);
	if ((dot = strchr(buf, '.')) != NULL)
		*dot = i18n_decimal(c->R->lang)[0];
	return buf;
}

static void
csv_d(const struct csv *c, const struct where *w, const char *metric,
    double v)
{
	char b[32];

	csv_line(c, w, metric, csv_dec(c, v, b, sizeof(b)), NULL);
}

/*
 * The measures of a row after devices, under the released names
 * (released.h), then the shadow connections (a sum of service cells).
 */
static const enum rel_measure count_ids[] = {
	RM_CONNS, RM_TLS, RM_QUIC, RM_ECH, RM_DNS, RM_NXDOMAIN, RM_UP,
	RM_DOWN, RM_DEVHOURS
};
#define NCOUNTS	(sizeof(count_ids) / sizeof(count_ids[0]))

/*
 * Device figures.  A week's is its released cell; a quarter's are
 * derived from the weekly cells: the average per released week, the
 * busiest week and the device-weeks (never distinct devices).
 */
static void
csv_fig(const struct csv *c, const struct where *w, const char *prefix,
    const struct rfig *f)
{
	char m[64], b[32];

	if (c->R->quarter) {
		snprintf(m, sizeof(m), "%sdevices_avg_week", prefix);
		csv_line(c, w, m, csv_dec(c, f->avg, b, sizeof(b)), "derived");
		snprintf(m, sizeof(m), "%sdevices_peak_week", prefix);
		csv_u(c, w, m, f->max, NULL);
		snprintf(m, sizeof(m), "%sdevice_weeks", prefix);
		csv_u(c, w, m, f->sum, "derived");
	} else {
		snprintf(m, sizeof(m), "%sdevices", prefix);
		csv_u(c, w, m, f->max, NULL);
	}
}

/* derived: the counts are sums of released cells, not cells */
static void
csv_counts(const struct csv *c, const struct where *w, const struct rrow *r,
    int derived)
{
	const char *flag = derived ? "derived" : NULL;
	size_t i;

	for (i = 0; i < NCOUNTS; i++)
		csv_u(c, w, rel_measure_names[count_ids[i]],
		    r->m[count_ids[i]], flag);
	csv_u(c, w, "shadow_connections", r->shadow, "derived");
}

static void
csv_row(const struct csv *c, const struct where *w, const struct rrow *cur,
    const struct rrow *prev)
{
	double pct;

	csv_fig(c, w, "", &cur->dev);
	if (prev != NULL && c->R->prev.weeks_with_data > 0) {
		csv_fig(c, w, "previous_", &prev->dev);
		if (rep_change(c->R, &cur->dev, &prev->dev, &pct) == 0)
			csv_d(c, w, "devices_change_pct", pct);
	}
	csv_counts(c, w, cur, c->R->quarter);
}

static int
news_has(const struct report *R, size_t d, size_t s, int32_t *week)
{
	size_t i;

	for (i = 0; i < R->nnews; i++)
		if (R->news[i].dept == d && R->news[i].svc == s) {
			*week = R->news[i].week;
			return 1;
		}
	return 0;
}

static void
csv_first(const struct csv *c, const struct where *w, size_t d, size_t s)
{
	int32_t week;
	char b[16];

	if (news_has(c->R, d, s, &week)) {
		period_week_format(week, b, sizeof(b));
		csv_line(c, w, "first_seen_week", b, "new");
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
	csv_u(c, &w, "weeks_released", R->cur.weeks_with_data, NULL);
	csv_u(c, &w, "weeks_in_period", R->cur.nweeks, NULL);
	csv_u(c, &w, "weeks_incomplete", R->cur.weeks_incomplete, NULL);
	csv_u(c, &w, "coverage_hours", R->cur.coverage_hours, NULL);
	csv_u(c, &w, "hours_total", R->cur.hours_total, NULL);
	csv_u(c, &w, "coverage_incomplete",
	    (uint64_t)rep_coverage_incomplete(R), NULL);
	csv_u(c, &w, "unfinished", (uint64_t)R->unfinished, NULL);
	csv_line(c, &w, "method", R->method, NULL);
	if (R->scope[0] != '\0')
		csv_line(c, &w, "scope", R->scope, NULL);
}

static void
csv_headline(const struct csv *c)
{
	const struct report *R = c->R;
	struct where w = { "headline", NULL, NULL, NULL, NULL };
	double pct, cs, ps, pp;

	csv_row(c, &w, &R->cur.org, &R->prev.org);
	csv_u(c, &w, "departments_using", rep_depts_using(R), NULL);
	csv_u(c, &w, "departments_total", rep_depts_total(R), NULL);
	csv_u(c, &w, "services_used", rep_svcs_used(R), NULL);
	csv_u(c, &w, "services_new", rep_svcs_new(R), NULL);
	csv_u(c, &w, "previous_connections", rrow_conns(&R->prev.org),
	    R->quarter ? "derived" : NULL);
	if (rep_change_u(rrow_conns(&R->cur.org), rrow_conns(&R->prev.org),
	    &pct) == 0)
		csv_d(c, &w, "connections_change_pct", pct);
	csv_d(c, &w, "shadow_share_pct", rep_share(R->cur.org.shadow,
	    R->cur.org.svc_conns));
	/* no line when there is no comparison (as JSON's null) */
	if (rep_shadow_change(R, &cs, &ps, &pp) == 0) {
		csv_d(c, &w, "shadow_share_previous_pct", ps);
		csv_d(c, &w, "shadow_share_change_pp", pp);
	}
}

/* A central release's sites, one section each: "site:NAME". */
static void
csv_sites(const struct csv *c)
{
	const struct report *R = c->R;
	char sec[8 + CENTRAL_SITE_NAME], b[32];
	struct where w = { sec, NULL, NULL, NULL, NULL };
	time_t t;
	struct tm tm;
	size_t i;

	for (i = 0; i < R->nsites; i++) {
		const struct central_read_site *s = &R->sites[i];

		snprintf(sec, sizeof(sec), "site:%s", s->name);
		b[0] = '\0';
		if (s->last_seen > 0) {
			t = (time_t)s->last_seen;
			gmtime_r(&t, &tm);
			strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm);
		}
		csv_line(c, &w, "last_seen", b, NULL);
		csv_u(c, &w, "coverage_hours", (uint64_t)s->hours_covered,
		    NULL);
		csv_u(c, &w, "silent", (uint64_t)s->silent, NULL);
		csv_u(c, &w, "weeks_silent", s->weeks_silent, NULL);
		csv_u(c, &w, "stale", (uint64_t)s->stale, NULL);
		csv_u(c, &w, "late_rows", (uint64_t)s->late_rows, NULL);
	}
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
	csv_u(c, &w, "days_released", b->days, NULL);
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
	csv_u(c, &w, "late", b->late, NULL);
	csv_u(c, &w, "unreadable_hellos", b->unreadable, NULL);
	csv_u(c, &w, "overlap_conflicts", b->conflicts, NULL);
	for (d = 0; d < R->ndept; d++) {
		if (!R->dept[d].unassigned)
			continue;
		w.dept = R->dept[d].name;
		csv_fig(c, &w, "unassigned_", &R->cur.dept[d].dev);
		csv_u(c, &w, "unassigned_connections",
		    rrow_conns(&R->cur.dept[d]), R->quarter ? "derived" : NULL);
		csv_d(c, &w, "unassigned_pct", rep_blind_unassigned_pct(R));
	}
	csv_sites(c);
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

		/* a week not released has no figures, not zeros */
		if (!rep_series_released(R, i))
			continue;
		period_week_format(rep_series_week(R, i), b, sizeof(b));
		csv_u(&cw, &w, "devices", r->dev.max, NULL);
		csv_counts(&cw, &w, r, 0);
	}
}

int
report_csv(const struct report *R, FILE *f)
{
	struct csv c = { R, f, R->cur.label, R->lang == LANG_NL ? ';' : ',' };
	static const char *const head[] = { "period", "section", "department",
	    "service", "category", "jurisdiction", "metric", "value", "flag" };
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
	if (R->lang == LANG_NL)
		fputs("\xef\xbb\xbf", f);	/* UTF-8 byte order mark */
	for (i = 0; i < sizeof(head) / sizeof(head[0]); i++) {
		if (i)
			fputc(c.sep, f);
		fputs(head[i], f);
	}
	fputc('\n', f);
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

			csv_row(&c, &w, r, NULL);
			csv_first(&c, &w, didx[j], sidx[i]);
		}
	for (i = 0; i < R->ncat; i++) {
		struct where w = { "category", NULL, NULL, R->cat[i], NULL };

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
		csv_counts(&c, &w, &R->cur.jur[g], 1);
		csv_d(&c, &w, "share_pct", rep_share(rrow_conns(&R->cur.jur[g]),
		    R->cur.org.svc_conns));
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

/* A released count; "–" for zero. */
static const char *
md_count(const struct report *R, uint64_t v, int bytes, char *buf, size_t n)
{
	return bytes ? rfmt_vol(R, v, buf, n) : rfmt_cnt(R, v, buf, n);
}

static const char *
md_change(const struct report *R, const struct rfig *c, const struct rfig *p,
    char *buf, size_t n)
{
	double pct;

	if (rep_change(R, c, p, &pct) != 0) {
		snprintf(buf, n, "%s", RFMT_ZERO);
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
	    T(T_CONNECTIONS), T(T_SHADOW_SHARE), T(T_UPLOADED), T(T_BLOCKED),
	    T(T_DEVICE_WEEKS) };
	const int num[] = { 0, 1, 1, 1, 1, 1, 1, 1 };
	size_t i, nc = R->quarter ? 8 : 7;

	fprintf(f, "\n## %s\n\n", T(T_DEPARTMENTS));
	md_header(f, nc, h, num);
	for (i = 0; i <= nd; i++) {
		const struct rrow *c = i < nd ? &R->cur.dept[didx[i]] :
		    &R->cur.org;
		const struct rrow *p = i < nd ? &R->prev.dept[didx[i]] :
		    &R->prev.org;
		char a[48], b[48], d[48], e[48], g[48], k[48], w[48];
		const char *cells[8];

		cells[0] = i < nd ? md_dept(R, didx[i]) : T(T_ORGANISATION);
		cells[1] = rfmt_fig(R, &c->dev, a, sizeof(a));
		cells[2] = md_change(R, &c->dev, &p->dev, b, sizeof(b));
		cells[3] = md_count(R, rrow_conns(c), 0, d, sizeof(d));
		if (c->svc_conns == 0)
			snprintf(e, sizeof(e), "%s", RFMT_ZERO);
		else
			rfmt_pct(R, rep_share(c->shadow, c->svc_conns), e,
			    sizeof(e));
		cells[4] = e;
		cells[5] = md_count(R, c->m[RM_UP], 1, g, sizeof(g));
		cells[6] = md_count(R, c->m[RM_NXDOMAIN], 0, k, sizeof(k));
		/* a quarter: the sum of weekly devices, not devices */
		cells[7] = md_count(R, c->dev.sum, 0, w, sizeof(w));
		md_cells(f, nc, cells);
	}
	fprintf(f, "\n%s\n", T(T_DEPT_NOTE));
}

enum mdmx { MD_DEVICES, MD_UPLOAD, MD_BLOCKED };

static const char *
md_mx_cell(const struct report *R, enum mdmx k, const struct rrow *r,
    char *buf, size_t n)
{
	if (k == MD_DEVICES && R->quarter)
		return rfmt_cnt(R, r->dev.max, buf, n);
	if (k == MD_DEVICES)
		return rfmt_fig(R, &r->dev, buf, n);
	return md_count(R, r->m[k == MD_UPLOAD ? RM_UP : RM_NXDOMAIN],
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

		if (i < ns && k == MD_BLOCKED && tot->m[RM_NXDOMAIN] == 0)
			continue;
		if (i < ns && k == MD_UPLOAD && tot->m[RM_UP] == 0)
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
		int32_t wk;
		int nw = news_has(R, (size_t)-1, sidx[i], &wk);

		snprintf(name, sizeof(name), "%s%s%s%s", s->name,
		    nw ? " (" : "", nw ? T(T_NEW) : "", nw ? ")" : "");
		cells[0] = name;
		cells[1] = s->vendor;
		cells[2] = i18n_category(R->lang, s->category);
		cells[3] = s->jurisdiction;
		cells[4] = T(s->sanctioned ? T_SANCTIONED : T_SHADOW_SHORT);
		cells[5] = rfmt_fig(R, &c->dev, a, sizeof(a));
		cells[6] = md_change(R, &c->dev, &R->prev.svc[sidx[i]].dev, b,
		    sizeof(b));
		cells[7] = md_count(R, rrow_conns(c), 0, d, sizeof(d));
		cells[8] = md_count(R, c->m[RM_UP], 1, e, sizeof(e));
		md_cells(f, 9, cells);
	}
}

static void
md_news(const struct report *R, FILE *f)
{
	char d[48];
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
			period_week_format(nw->week, d, sizeof(d));
			fprintf(f, " (%s, %s)\n", T(R->svc[nw->svc].sanctioned ?
			    T_SANCTIONED : T_SHADOW_SHORT), d);
			n++;
		}
		if (n == 0)
			fprintf(f, "%s\n", T(T_NONE));
	}
	fprintf(f, "\n%s\n", T(T_NEW_NOTE));
}

static void
md_cat_jur(const struct report *R, FILE *f)
{
	const char *hc[] = { T(T_CATEGORY), T(R->quarter ? T_DEVICES_AVG :
	    T_DEVICES), T(T_CONNECTIONS), T(T_SHADOW_SHARE) };
	const char *hj[] = { T(T_JURISDICTION), T(T_SERVICES),
	    T(T_CONNECTIONS), T(T_UPLOADED) };
	const int num[] = { 0, 1, 1, 1 };
	uint64_t all = R->cur.org.svc_conns;
	size_t c, s;
	int j;

	fprintf(f, "\n## %s\n\n", T(T_CATEGORIES));
	md_header(f, 4, hc, num);
	for (c = 0; c < R->ncat; c++) {
		const struct rrow *r = &R->cur.cat[c];
		char a[48], b[48], d[48];
		const char *cells[4];

		if (RFIG_ZERO(&r->dev))
			continue;
		cells[0] = i18n_category(R->lang, R->cat[c]);
		cells[1] = rfmt_fig(R, &r->dev, a, sizeof(a));
		cells[2] = md_count(R, rrow_conns(r), 0, b, sizeof(b));
		cells[3] = r->svc_conns == 0 ? RFMT_ZERO : rfmt_pct(R,
		    rep_share(r->shadow, r->svc_conns), d, sizeof(d));
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
		snprintf(b, sizeof(b), "%s (%s)", md_count(R, rrow_conns(r),
		    0, d, sizeof(d)), rfmt_pct(R, rep_share(rrow_conns(r), all),
		    p, sizeof(p)));
		cells[2] = b;
		cells[3] = md_count(R, r->m[RM_UP], 1, d, sizeof(d));
		md_cells(f, 4, cells);
	}
	fprintf(f, "\n%s\n", T(T_JURIS_NOTE));
}

/* A central release's sites: which of them the figures miss. */
static void
md_sites(const struct report *R, FILE *f)
{
	char v[96];
	size_t i;

	if (R->nsites == 0)
		return;
	fprintf(f, "\n### %s\n\n%s\n\n", T(T_SITES_TITLE), T(T_SITES_INTRO));
	fprintf(f, "| %s | %s | %s | %s |\n| --- | --- | ---: | --- |\n",
	    T(T_SITE), T(T_LAST_SEEN), T(T_SITE_HOURS), T(T_STATUS));
	for (i = 0; i < R->nsites; i++) {
		const struct central_read_site *s = &R->sites[i];

		fprintf(f, "| ");
		md_text(f, s->name);
		fprintf(f, " | %s | %lld / %u | %s%s%s |\n",
		    rfmt_when(R, s->last_seen, v, sizeof(v)),
		    (long long)s->hours_covered, R->cur.hours_total,
		    s->silent ? "**" : "", T(s->silent ? T_SILENT :
		    T_REPORTING), s->silent ? "**" : "");
	}
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
	    rfmt_cnt(R, b->ech_unattributed, v, sizeof(v)));
	fprintf(f, "| %s | %s |\n", T(T_BL_DOH),
	    rfmt_cnt(R, b->doh_conns, v, sizeof(v)));
	fprintf(f, "| %s | %s (%s) |\n", T(T_BL_DROPS),
	    rfmt_cnt(R, b->pcap_drops + b->if_drops, v, sizeof(v)),
	    rfmt_pct(R, rep_blind_drop_pct(R), a, sizeof(a)));
	for (d = 0; d < R->ndept; d++)
		if (R->dept[d].unassigned)
			fprintf(f, "| %s | %s |\n", T(T_BL_UNASSIGNED),
			    md_count(R, rrow_conns(&R->cur.dept[d]), 0, v,
			    sizeof(v)));
	fprintf(f, "| %s | %s |\n", T(T_BL_NOSNI),
	    rfmt_cnt(R, b->nosni_conns, v, sizeof(v)));
	fprintf(f, "| %s | %s |\n", T(T_BL_UNREADABLE),
	    rfmt_cnt(R, b->unreadable, v, sizeof(v)));
	fprintf(f, "| %s | %s |\n", T(T_BL_CONFLICT),
	    rfmt_cnt(R, b->conflicts, v, sizeof(v)));
	snprintf(a, sizeof(a), "%u", b->hours);
	snprintf(c, sizeof(c), "%u", b->hours_total);
	fprintf(f, "| %s | %s / %s |\n", T(T_BL_HOURS), a, c);
	if (b->lost)
		fprintf(f, "| %s | %s |\n", T(T_BL_LOST),
		    rfmt_int(R, b->lost, v, sizeof(v)));
	if (b->late)
		fprintf(f, "| %s | %s |\n", T(T_BL_LATE),
		    rfmt_int(R, b->late, v, sizeof(v)));
	md_sites(R, f);
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
	    T(R->min_group > 1 ? T_M_GROUP : T_M_GROUP_NONE), a, NULL, NULL));
	fprintf(f, "**%s** %s", T(T_M_KEY_H), T(T_M_KEY));
	if (R->quarter) {
		snprintf(b, sizeof(b), "%u", R->cur.weeks_with_data);
		fprintf(f, " %s", i18n_fill(t, sizeof(t), T(T_M_QUARTER), b,
		    NULL, NULL));
	}
	if (R->central)
		fprintf(f, "\n\n**%s** %s", T(T_M_SITES_H), R->scope[0] &&
		    strcmp(R->scope, "*") != 0 ? i18n_fill(t, sizeof(t),
		    T(T_M_SITE), R->scope, NULL, NULL) : T(T_M_SITES));
	fprintf(f, "\n\n**%s** ", T(T_M_RETENTION_H));
	if (R->retention_days > 0) {
		snprintf(b, sizeof(b), "%d", R->retention_days);
		fprintf(f, "%s\n\n", i18n_fill(t, sizeof(t), T(T_M_RETENTION),
		    b, NULL, NULL));
	} else {
		fprintf(f, "%s\n\n", T(T_M_RETENTION_CONF));
	}
	fprintf(f, "**%s** %s\n\n", T(T_M_DEFS_H), T(T_M_DEFS));
	fprintf(f, "_%s_\n", i18n_fill(t, sizeof(t), T(T_LEGEND), a, NULL,
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
		char w[16], a[48], b[48];

		period_week_format(rep_series_week(R, i), w, sizeof(w));
		if (!rep_series_released(R, i)) {
			/* not released: nothing is known, not even a zero */
			fprintf(f, "| %s | %s | |\n", w, T(T_NOT_RELEASED));
			continue;
		}
		rfmt_cnt(R, r->dev.max, a, sizeof(a));
		md_count(R, rrow_conns(r), 0, b, sizeof(b));
		fprintf(f, "| %s | %s | %s |\n", w, a, b);
	}
}

/* What the header must say about the period's released figures. */
static void
md_notices(const struct report *R, FILE *f)
{
	char a[24], b[24], t[512];

	if (R->min_group <= 1)
		fprintf(f, "\n**%s**\n", T(T_UNPROTECTED));
	if (R->quarter && R->cur.weeks_with_data < R->cur.nweeks) {
		snprintf(a, sizeof(a), "%u", R->cur.weeks_with_data);
		snprintf(b, sizeof(b), "%zu", R->cur.nweeks);
		fprintf(f, "\n%s\n", i18n_fill(t, sizeof(t), T(T_Q_WEEKS), a,
		    b, NULL));
	}
	if (R->cur.weeks_incomplete > 0)
		fprintf(f, "\n%s\n", T(T_INCOMPLETE));
	if (R->unfinished) {
		char d[64];

		fprintf(f, "\n**%s**\n", i18n_fill(t, sizeof(t),
		    T(T_UNFINISHED), R->cur.label, rfmt_day(R,
		    R->cur.last_day, d, sizeof(d)), NULL));
	}
	if (rep_coverage_incomplete(R)) {
		rfmt_int(R, R->cur.coverage_hours, a, sizeof(a));
		rfmt_int(R, R->cur.hours_total, b, sizeof(b));
		fprintf(f, "\n**%s** %s\n", T(T_COVERAGE_MARK), i18n_fill(t,
		    sizeof(t), T(T_COVERAGE), a, b, NULL));
	}
	if (R->blind.ngap > 0) {
		char g[640];

		fprintf(f, "\n%s\n", rfmt_gaps(R, g, sizeof(g)));
	}
}

int
report_md(const struct report *R, FILE *f)
{
	size_t *sidx = calloc(R->nsvc + 1, sizeof(*sidx));
	size_t *didx = calloc(R->ndept + 1, sizeof(*didx));
	char lines[RFINDINGS_MAX][RFINDING_LEN], t[256], a[16], b[16], r[96],
	    g[64], mg[16], sc[128];
	size_t i, n, ns, nd;
	int wy, wn;
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
		period_week_split(R->cur.weeks[0], &wy, &wn);
		snprintf(a, sizeof(a), "%d", wn);
		snprintf(b, sizeof(b), "%d", wy);
	}
	fprintf(f, "# %s%s%s\n\n", T(R->quarter ? T_TITLE_QUARTER :
	    T_TITLE_WEEK), R->scope[0] ? " · " : "", rfmt_scope(R, sc,
	    sizeof(sc)));
	fprintf(f, "**%s**\n\n", i18n_fill(t, sizeof(t), T(R->quarter ?
	    T_QUARTER_N : T_WEEK_N), a, b, r));
	period_of(R->generated, &p);
	snprintf(mg, sizeof(mg), "%d", R->min_group);
	fprintf(f, "%s · %s\n", i18n_fill(t, sizeof(t), T(T_GENERATED),
	    rfmt_day(R, p.day, g, sizeof(g)), R->tz[0] ? R->tz : "system", mg),
	    T(T_BADGE));
	md_notices(R, f);
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
