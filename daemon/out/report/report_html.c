/*
 * report_html.c - the report as one self-contained HTML file: inline CSS,
 * inline SVG charts, no scripts, no external resources, laid out for A4
 * (print or "save as PDF") as much as for a screen.
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

#define MATRIX_COLS	7	/* departments per matrix table on A4 */
#define MATRIX_ROWS	30	/* services per matrix; all: CSV, JSON */
#define TOP_N		10	/* services in the upload chart */

struct out {
	const struct report	*R;
	FILE			*f;
	size_t			*sidx, ns;	/* services, most used first */
	size_t			*didx, nd;	/* unassigned last */
};

#define T(id)	i18n(o->R->lang, (id))

static void
esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* A template with {1}..{3} filled in, escaped. */
static void
fill(const struct out *o, enum msg id, const char *a, const char *b,
    const char *c)
{
	char buf[1024];

	esc(o->f, i18n_fill(buf, sizeof(buf), T(id), a, b, c));
}

static void
tag_text(const struct out *o, const char *tag, const char *cls,
    const char *text)
{
	fprintf(o->f, "<%s", tag);
	if (cls)
		fprintf(o->f, " class=\"%s\"", cls);
	fputc('>', o->f);
	esc(o->f, text);
	fprintf(o->f, "</%s>", tag);
}

static const char *
dept_label(const struct out *o, size_t d)
{
	return o->R->dept[d].unassigned ? T(T_UNASSIGNED_SHORT) :
	    o->R->dept[d].name;
}

/* A released count (or a sum of released counts); "–" for zero. */
static const char *
count_txt(const struct out *o, uint64_t v, int bytes, char *buf, size_t n)
{
	return bytes ? rfmt_vol(o->R, v, buf, n) : rfmt_cnt(o->R, v, buf, n);
}

/* --- style ------------------------------------------------------------- */

static const char css[] =
"@page{size:A4;margin:14mm 13mm 15mm 13mm;"
"@bottom-left{content:\"aicensus\";font:7.5pt 'Liberation Sans',Arial,sans-serif;color:#7b8794}"
"@bottom-right{content:counter(page) \" / \" counter(pages);"
"font:7.5pt 'Liberation Sans',Arial,sans-serif;color:#7b8794}}\n"
":root{--ink:#1c2733;--muted:#5f6b7a;--line:#dde3ea;--soft:#f3f6f9;"
"--accent:#1f4e79;--sanct:#2f6f9f;--shadow:#d9822b;--up:#2e7d5b;--down:#b4443a}\n"
"*{box-sizing:border-box}\n"
"html{-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
"body{font-family:'Segoe UI','Helvetica Neue',Helvetica,Arial,"
"'Liberation Sans','DejaVu Sans',sans-serif;color:var(--ink);"
"font-size:9.5pt;line-height:1.42;margin:0 auto;max-width:184mm;"
"padding:8mm 0}\n"
"@media print{body{padding:0}}\n"
"h1{font-size:19pt;font-weight:600;margin:1.5mm 0 .5mm;letter-spacing:-.01em}\n"
"h2{font-size:12pt;font-weight:600;margin:0 0 2.5mm;color:var(--accent);"
"break-after:avoid}\n"
"h3{font-size:10pt;font-weight:600;margin:3mm 0 1.5mm}\n"
"p{margin:0 0 2mm}\n"
"section{margin:0 0 5mm;break-inside:avoid}\n"
"section.long{break-inside:auto}\n"
".top{border-bottom:2px solid var(--accent);padding-bottom:2.5mm;"
"margin-bottom:4mm}\n"
".brandline{display:flex;justify-content:space-between;align-items:center;"
"font-size:8pt;color:var(--muted);text-transform:uppercase;"
"letter-spacing:.08em}\n"
".brand{font-weight:700;color:var(--accent)}\n"
".badge{border:1px solid var(--line);border-radius:3px;padding:.5mm 2mm;"
"text-transform:none;letter-spacing:0}\n"
".period{font-size:11.5pt;margin:0;color:var(--ink)}\n"
".meta{font-size:8pt;color:var(--muted);margin:1mm 0 0}\n"
".cover{font-size:8pt;color:var(--down);margin:1mm 0 0}\n"
".warn{font-size:9pt;font-weight:700;color:var(--down);margin:1mm 0 0}\n"
".kpis{display:grid;grid-template-columns:repeat(4,1fr);gap:3mm;"
"margin-bottom:3mm}\n"
".kpi{border:1px solid var(--line);border-top:3px solid var(--accent);"
"border-radius:2px;padding:2.5mm 3mm 2.5mm;background:#fff}\n"
".kpi .l{font-size:8pt;color:var(--muted);min-height:2.5em;line-height:1.25}\n"
".kpi .v{font-size:21pt;font-weight:600;line-height:1.05;margin:.5mm 0;"
"font-variant-numeric:tabular-nums}\n"
".kpi .v small{font-size:11pt;font-weight:400;color:var(--muted)}\n"
".kpi .d{font-size:7.5pt;color:var(--muted);line-height:1.3}\n"
".kpi.warn{border-top-color:var(--shadow)}\n"
".minis{display:grid;grid-template-columns:repeat(4,1fr);gap:3mm;"
"margin-bottom:4mm}\n"
".mini{background:var(--soft);border-radius:2px;padding:1.5mm 3mm;line-height:1.3}\n"
".mini .l{font-size:7.5pt;color:var(--muted)}\n"
".mini .v{font-size:11.5pt;font-weight:600;"
"font-variant-numeric:tabular-nums}\n"
".mini .d{font-size:7.5pt;color:var(--muted)}\n"
".up{color:var(--up)}.down{color:var(--down)}\n"
".findings ul{margin:0;padding-left:5mm}\n"
".findings li{margin:0 0 .4mm}\n"
".two{display:grid;grid-template-columns:1fr 1fr;gap:6mm}\n"
"figure{margin:0}\n"
"figcaption{font-size:9pt;font-weight:600;margin-bottom:1.5mm}\n"
"svg{display:block;width:100%;height:auto}\n"
"svg text{font-family:inherit}\n"
"table{border-collapse:collapse;width:100%;font-size:8.5pt;"
"font-variant-numeric:tabular-nums;margin-bottom:2mm}\n"
"thead{display:table-header-group}\n"
"tr{break-inside:avoid}\n"
"th{font-weight:600;text-align:left;color:var(--muted);font-size:7.5pt;"
"text-transform:uppercase;letter-spacing:.03em;"
"border-bottom:1.5px solid var(--ink);padding:1.2mm 1.5mm;"
"vertical-align:bottom}\n"
"td{border-bottom:1px solid var(--line);padding:1.1mm 1.5mm;"
"vertical-align:top}\n"
"td.n,th.n{text-align:right}\ntd.n{white-space:nowrap}\n"
"tfoot td{border-top:1.5px solid var(--ink);border-bottom:0;"
"font-weight:600}\n"
".mx td.n{text-align:center}\n.mx th.n{text-align:center}\n"
".nil{color:#b5bdc7}\n"
".sub{color:var(--muted);font-size:7.5pt}\n"
".tag{display:inline-block;font-size:7pt;border-radius:2px;"
"padding:0 1.2mm;white-space:nowrap}\n"
".tag.s{background:#e3eef7;color:var(--sanct)}\n"
".tag.x{background:#fbeedf;color:#9a5512}\n"
".tag.new{background:var(--accent);color:#fff}\n"
".bar{display:inline-block;height:2.2mm;background:var(--shadow);"
"vertical-align:middle;margin-right:1.5mm}\n"
".note{font-size:8pt;color:var(--muted)}\n"
".legend{font-size:7.5pt;color:var(--muted);border-top:1px solid var(--line);"
"padding-top:1.5mm;margin-top:2mm}\n"
".method p{font-size:8.5pt}\n"
".blind td:first-child{width:38%}\n"
".pb{break-before:page}\n";

/* --- header and headline ----------------------------------------------- */

static void
period_title(const struct out *o, char *buf, size_t n)
{
	const struct report *R = o->R;
	char a[16], b[16], r[96];
	int wy, wn;

	rfmt_range(R, R->cur.first_day, R->cur.last_day, r, sizeof(r));
	if (R->quarter) {
		snprintf(a, sizeof(a), "%d", R->quarter_no);
		snprintf(b, sizeof(b), "%.4s", R->cur.label);
		i18n_fill(buf, n, T(T_QUARTER_N), a, b, r);
	} else {
		period_week_split(R->cur.weeks[0], &wy, &wn);
		snprintf(a, sizeof(a), "%d", wn);
		snprintf(b, sizeof(b), "%d", wy);
		i18n_fill(buf, n, T(T_WEEK_N), a, b, r);
	}
}

/* The report's title, and what its figures cover when it says. */
static void
title_text(const struct out *o, char *buf, size_t n)
{
	const struct report *R = o->R;
	char sc[128];

	rfmt_scope(R, sc, sizeof(sc));
	snprintf(buf, n, "%s%s%s", T(R->quarter ? T_TITLE_QUARTER :
	    T_TITLE_WEEK), sc[0] ? " \xc2\xb7 " : "", sc);
}

/* What the header must say about the period's released figures. */
static void
notices(const struct out *o)
{
	const struct report *R = o->R;
	char a[24], b[24];

	if (R->min_group <= 1) {
		fprintf(o->f, "<p class=\"warn\">");
		esc(o->f, T(T_UNPROTECTED));
		fprintf(o->f, "</p>");
	}
	if (R->quarter && R->cur.weeks_with_data < R->cur.nweeks) {
		snprintf(a, sizeof(a), "%u", R->cur.weeks_with_data);
		snprintf(b, sizeof(b), "%zu", R->cur.nweeks);
		fprintf(o->f, "<p class=\"cover\">");
		fill(o, T_Q_WEEKS, a, b, NULL);
		fprintf(o->f, "</p>");
	}
	if (R->cur.weeks_incomplete > 0) {
		fprintf(o->f, "<p class=\"cover\">");
		esc(o->f, T(T_INCOMPLETE));
		fprintf(o->f, "</p>");
	}
	if (R->unfinished) {
		char d[64];

		fprintf(o->f, "<p class=\"warn\">");
		fill(o, T_UNFINISHED, R->cur.label, rfmt_day(R,
		    R->cur.last_day, d, sizeof(d)), NULL);
		fprintf(o->f, "</p>");
	}
	if (rep_coverage_incomplete(R)) {
		rfmt_int(R, R->cur.coverage_hours, a, sizeof(a));
		rfmt_int(R, R->cur.hours_total, b, sizeof(b));
		fprintf(o->f, "<p class=\"warn\">");
		esc(o->f, T(T_COVERAGE_MARK));
		fputc(' ', o->f);
		fill(o, T_COVERAGE, a, b, NULL);
		fprintf(o->f, "</p>");
	}
	if (R->blind.ngap > 0) {
		char g[640];

		fprintf(o->f, "<p class=\"cover\">");
		esc(o->f, rfmt_gaps(R, g, sizeof(g)));
		fprintf(o->f, "</p>");
	}
}

static void
header(const struct out *o)
{
	const struct report *R = o->R;
	struct period p;
	char t[256], g[64], mg[16];

	fprintf(o->f, "<header class=\"top\"><div class=\"brandline\">"
	    "<span class=\"brand\">aicensus</span>");
	tag_text(o, "span", "badge", T(T_BADGE));
	fprintf(o->f, "</div>\n");
	title_text(o, t, sizeof(t));
	tag_text(o, "h1", NULL, t);
	period_title(o, t, sizeof(t));
	fputc('\n', o->f);
	tag_text(o, "p", "period", t);
	period_of(R->generated, &p);
	rfmt_day(R, p.day, g, sizeof(g));
	snprintf(mg, sizeof(mg), "%d", R->min_group);
	fprintf(o->f, "\n<p class=\"meta\">");
	fill(o, T_GENERATED, g, R->tz[0] ? R->tz : "system", mg);
	fprintf(o->f, "</p>");
	notices(o);
	fprintf(o->f, "</header>\n");
}

static void
delta(const struct out *o, int ok, double pct, const char *prev_label,
    const char *prev_value)
{
	char c[32], ctx[128];

	if (o->R->prev.weeks_with_data == 0) {
		fprintf(o->f, "<div class=\"d\">");
		fill(o, T_NO_DATA_FOR, prev_label, NULL, NULL);
		fprintf(o->f, "</div>");
		return;
	}
	/*
	 * Either a comparison or none: "no comparison" next to a value of
	 * the previous period read as both.
	 */
	if (ok != 0) {
		fprintf(o->f, "<div class=\"d\">");
		fill(o, T_NO_COMPARISON_WITH, prev_label, NULL, NULL);
		fprintf(o->f, "</div>");
		return;
	}
	i18n_fill(ctx, sizeof(ctx), T(T_VS_PREV), prev_label, prev_value,
	    NULL);
	fprintf(o->f, "<div class=\"d\"><b class=\"%s\">%s</b> ",
	    pct >= 0 ? "up" : "down", rfmt_change(o->R, pct, c, sizeof(c)));
	esc(o->f, ctx);
	fprintf(o->f, "</div>");
}

static void
kpi_open(const struct out *o, const char *cls, enum msg label)
{
	fprintf(o->f, "<div class=\"kpi%s%s\"><div class=\"l\">",
	    cls ? " " : "", cls ? cls : "");
	esc(o->f, T(label));
	fprintf(o->f, "</div>");
}

static void
kpis(const struct out *o)
{
	const struct report *R = o->R;
	const struct rrow *c = &R->cur.org, *p = &R->prev.org;
	char v[64], w[64];
	double pct = 0;
	int ok;

	fprintf(o->f, "<section class=\"kpis\">\n");
	kpi_open(o, NULL, R->quarter ? T_KPI_DEVICES_Q : T_KPI_DEVICES);
	fprintf(o->f, "<div class=\"v\">");
	esc(o->f, rfmt_fig(R, &c->dev, v, sizeof(v)));
	fprintf(o->f, "</div>");
	ok = rep_change(R, &c->dev, &p->dev, &pct);
	delta(o, ok, pct, R->prev.label, rfmt_fig(R, &p->dev, w, sizeof(w)));
	fprintf(o->f, "</div>\n");

	kpi_open(o, NULL, T_KPI_DEPTS);
	snprintf(v, sizeof(v), "%zu", rep_depts_using(R));
	snprintf(w, sizeof(w), "%zu", rep_depts_total(R));
	fprintf(o->f, "<div class=\"v\">%s <small>", v);
	fill(o, T_OF_N, w, NULL, NULL);
	fprintf(o->f, "</small></div><div class=\"d\">");
	esc(o->f, T(T_KPI_DEPTS_SUB));
	fprintf(o->f, "</div></div>\n");

	kpi_open(o, "warn", T_KPI_SHADOW);
	fprintf(o->f, "<div class=\"v\">%s</div><div class=\"d\">",
	    rfmt_pct(R, rep_share(c->shadow, c->svc_conns), v, sizeof(v)));
	esc(o->f, T(T_KPI_SHADOW_SUB));
	fprintf(o->f, "</div></div>\n");

	kpi_open(o, NULL, T_KPI_SERVICES);
	snprintf(v, sizeof(v), "%zu", rep_svcs_used(R));
	snprintf(w, sizeof(w), "%zu", rep_svcs_new(R));
	fprintf(o->f, "<div class=\"v\">%s</div><div class=\"d\">", v);
	fill(o, T_KPI_SERVICES_NEW, w, NULL, NULL);
	fprintf(o->f, "</div></div>\n</section>\n");
}

static void
mini(const struct out *o, enum msg label, const char *value,
    const char *sub)
{
	fprintf(o->f, "<div class=\"mini\"><div class=\"l\">");
	esc(o->f, T(label));
	fprintf(o->f, "</div><div class=\"v\">");
	esc(o->f, value);
	fprintf(o->f, "</div><div class=\"d\">");
	esc(o->f, sub);
	fprintf(o->f, "</div></div>\n");
}

static void
minis(const struct out *o)
{
	const struct report *R = o->R;
	const struct rrow *c = &R->cur.org;
	char v[64], s[160], a[64], b[64];
	double pct;

	fprintf(o->f, "<section class=\"minis\">\n");
	count_txt(o, rrow_conns(c), 0, v, sizeof(v));
	if (rep_change_u(rrow_conns(c), rrow_conns(&R->prev.org), &pct) == 0)
		i18n_fill(s, sizeof(s), T(T_CHANGE_VS), rfmt_change(R, pct, a,
		    sizeof(a)), R->prev.label, NULL);
	else
		i18n_fill(s, sizeof(s), T(R->prev.weeks_with_data == 0 ?
		    T_NO_DATA_FOR : T_NO_COMPARISON_WITH), R->prev.label, NULL,
		    NULL);
	mini(o, T_CONNECTIONS, v, s);
	count_txt(o, c->m[RM_UP], 1, v, sizeof(v));
	mini(o, T_UPLOADED, v, T(T_UPLOADED_SUB));
	count_txt(o, c->m[RM_NXDOMAIN], 0, v, sizeof(v));
	i18n_fill(s, sizeof(s), T(T_BLOCKED_SUB), rfmt_pct(R,
	    rep_share(c->m[RM_NXDOMAIN], c->m[RM_DNS]), a, sizeof(a)), NULL,
	    NULL);
	mini(o, T_BLOCKED, v, s);
	rfmt_pct(R, rep_blind_ech_pct(R), v, sizeof(v));
	i18n_fill(s, sizeof(s), T(T_UNATTRIBUTED_SUB), rfmt_cnt(R,
	    R->blind.ech_unattributed, a, sizeof(a)), rfmt_cnt(R,
	    R->blind.doh_conns, b, sizeof(b)), NULL);
	mini(o, T_UNATTRIBUTED, v, s);
	fprintf(o->f, "</section>\n");
}

/* --- findings ---------------------------------------------------------- */

static void
li(const struct out *o, const char *text)
{
	fprintf(o->f, "<li>");
	esc(o->f, text);
	fprintf(o->f, "</li>\n");
}

static void
findings(const struct out *o)
{
	char lines[RFINDINGS_MAX][RFINDING_LEN];
	size_t i, n = rep_findings(o->R, lines);

	fprintf(o->f, "<section class=\"findings\"><h2>");
	esc(o->f, T(T_FINDINGS));
	fprintf(o->f, "</h2><ul>\n");
	for (i = 0; i < n; i++)
		li(o, lines[i]);
	fprintf(o->f, "</ul></section>\n");
}

/* --- charts ------------------------------------------------------------ */

/* One week's own figure (never an average); "–" for zero. */
static const char *
week_txt(const struct out *o, const struct rfig *f, char *buf, size_t n)
{
	return rfmt_cnt(o->R, f->max, buf, n);
}

/* Devices per week: bars, the report's own week(s) dark, others light. */
static void
chart_weeks(const struct out *o)
{
	const struct report *R = o->R;
	const double W = 340, H = 120, top = 14, bottom = 20, left = 8;
	size_t i, n = rep_series_n(R);
	double bw, max = 0, plot = H - top - bottom;

	for (i = 0; i < n; i++) {
		const struct rfig *f = &rep_series_row(R, i)->dev;

		if (f->max > max)
			max = (double)f->max;
	}
	if (max <= 0)
		max = 1;
	bw = (W - 2 * left) / (double)n;
	fprintf(o->f, "<figure><figcaption>");
	esc(o->f, T(T_CHART_WEEKS));
	fprintf(o->f, "</figcaption><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\""
	    " xmlns=\"http://www.w3.org/2000/svg\">\n", W, H);
	fprintf(o->f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\""
	    " stroke=\"#1c2733\" stroke-width=\"0.8\"/>\n", left, H - bottom,
	    W - left, H - bottom);
	for (i = 0; i < n; i++) {
		const struct rfig *f = &rep_series_row(R, i)->dev;
		int32_t wk = rep_series_week(R, i);
		double x = left + bw * (double)i + bw * 0.18, w = bw * 0.64;
		int hl = R->quarter || wk == R->cur.weeks[0];
		int wy, wn;
		char v[48], lab[16];

		period_week_split(wk, &wy, &wn);
		snprintf(lab, sizeof(lab), "W%02d", wn);
		if (!RFIG_ZERO(f)) {
			double h = (double)f->max / max * plot;

			if (h < 1)
				h = 1;
			fprintf(o->f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\""
			    " height=\"%.1f\" fill=\"%s\"/>\n", x,
			    H - bottom - h, w, h, hl ? "#1f4e79" : "#a9bfd6");
			week_txt(o, f, v, sizeof(v));
			fprintf(o->f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%s\""
			    " text-anchor=\"middle\" fill=\"#1c2733\">",
			    x + w / 2, H - bottom - h - 3,
			    n > 9 ? "7.5" : "9");
			esc(o->f, v);
			fprintf(o->f, "</text>\n");
		} else if (rep_series_released(R, i)) {
			fprintf(o->f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"8\""
			    " text-anchor=\"middle\" fill=\"#5f6b7a\">%s</text>\n",
			    x + w / 2, H - bottom - 4, RFMT_ZERO);
		}
		fprintf(o->f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%s\""
		    " text-anchor=\"middle\" fill=\"#5f6b7a\"%s>%s</text>\n",
		    x + w / 2, H - bottom + 12, n > 9 ? "7.5" : "8.5",
		    hl && !R->quarter ? " font-weight=\"700\"" : "", lab);
	}
	fprintf(o->f, "</svg></figure>\n");
}

#define SHADOW_ROWS	8

/* The departments with most connections, at most SHADOW_ROWS, by name. */
static size_t
busiest_depts(const struct out *o, size_t *pick)
{
	const struct report *R = o->R;
	size_t i, j, n = 0;

	for (i = 0; i < o->nd; i++) {
		size_t d = o->didx[i];
		uint64_t c = rrow_conns(&R->cur.dept[d]);

		if (c == 0)
			continue;
		if (n < SHADOW_ROWS) {
			pick[n++] = d;
			continue;
		}
		for (j = 0; j < n; j++)
			if (rrow_conns(&R->cur.dept[pick[j]]) < c) {
				size_t k, m = j;

				/* drop the smallest, keep the order */
				for (k = 0; k < n; k++)
					if (rrow_conns(&R->cur.dept[pick[k]]) <
					    rrow_conns(&R->cur.dept[pick[m]]))
						m = k;
				memmove(&pick[m], &pick[m + 1],
				    (n - m - 1) * sizeof(*pick));
				pick[n - 1] = d;
				break;
			}
	}
	return n;
}

/* Share of connections to sanctioned and shadow services, per department. */
static void
chart_shadow(const struct out *o)
{
	const struct report *R = o->R;
	const double W = 340, row = 12.5, left = 92, right = 40;
	size_t i, n, pick[SHADOW_ROWS];
	double H, y;
	char p[32];

	n = busiest_depts(o, pick);
	H = 20 + row * (double)(n + 1);
	fprintf(o->f, "<figure><figcaption>");
	esc(o->f, T(o->nd > SHADOW_ROWS ? T_CHART_SHADOW_TOP :
	    T_CHART_SHADOW));
	fprintf(o->f, "</figcaption><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\""
	    " xmlns=\"http://www.w3.org/2000/svg\">\n", W, H);
	/* legend */
	fprintf(o->f, "<rect x=\"%.0f\" y=\"2\" width=\"9\" height=\"9\""
	    " fill=\"#2f6f9f\"/><text x=\"%.0f\" y=\"10\" font-size=\"8.5\""
	    " fill=\"#1c2733\">", left, left + 12);
	esc(o->f, T(T_SANCTIONED));
	fprintf(o->f, "</text><rect x=\"%.0f\" y=\"2\" width=\"9\" height=\"9\""
	    " fill=\"#d9822b\"/><text x=\"%.0f\" y=\"10\" font-size=\"8.5\""
	    " fill=\"#1c2733\">", left + 100, left + 112);
	esc(o->f, T(T_SHADOW));
	fprintf(o->f, "</text>\n");
	y = 18;
	for (i = 0; i <= n; i++) {
		const struct rrow *r = i < n ? &R->cur.dept[pick[i]] :
		    &R->cur.org;
		double share, w = W - left - right;
		const char *name = i < n ? dept_label(o, pick[i]) :
		    T(T_ORGANISATION);

		if (rrow_conns(r) == 0)
			continue;
		if (r->svc_conns == 0)
			continue;
		share = rep_share(r->shadow, r->svc_conns);
		fprintf(o->f, "<text x=\"%.0f\" y=\"%.1f\" font-size=\"8.5\""
		    " text-anchor=\"end\" fill=\"#1c2733\"%s>", left - 5,
		    y + 8.5, i == n ? " font-weight=\"700\"" : "");
		esc(o->f, name);
		fprintf(o->f, "</text><rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\""
		    " height=\"10\" fill=\"#2f6f9f\"/><rect x=\"%.1f\" y=\"%.1f\""
		    " width=\"%.1f\" height=\"10\" fill=\"#d9822b\"/>"
		    "<text x=\"%.0f\" y=\"%.1f\" font-size=\"8.5\" fill=\"#1c2733\">"
		    "%s</text>\n", left, y, w * (100 - share) / 100,
		    left + w * (100 - share) / 100, y, w * share / 100,
		    W - right + 4, y + 8.5, rfmt_pct(R, share, p, sizeof(p)));
		y += row;
	}
	fprintf(o->f, "</svg></figure>\n");
}

/* Horizontal bars, one per item: label, bar, value text. */
struct hbar {
	const char	*label;
	double		 value;
	char		 text[64];
	const char	*color;
};

/* wide: a chart across the page rather than in a column */
static void
chart_hbars(const struct out *o, enum msg title, const struct hbar *b,
    size_t n, int wide)
{
	const double W = wide ? 680 : 340, row = 16, left = wide ? 170 : 120,
	    right = 62;
	double max = 0, y = 4;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i].value > max)
			max = b[i].value;
	if (max <= 0)
		max = 1;
	fprintf(o->f, "<figure><figcaption>");
	esc(o->f, T(title));
	fprintf(o->f, "</figcaption><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\""
	    " xmlns=\"http://www.w3.org/2000/svg\">\n", W,
	    8 + row * (double)n);
	for (i = 0; i < n; i++, y += row) {
		double w = (W - left - right) * b[i].value / max;

		fprintf(o->f, "<text x=\"%.0f\" y=\"%.1f\" font-size=\"8.5\""
		    " text-anchor=\"end\" fill=\"#1c2733\">", left - 5, y + 9);
		esc(o->f, b[i].label);
		fprintf(o->f, "</text><rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\""
		    " height=\"11\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\""
		    " font-size=\"8.5\" fill=\"#1c2733\">", left, y,
		    w < 1 ? 1 : w, b[i].color, left + (w < 1 ? 1 : w) + 4,
		    y + 9);
		esc(o->f, b[i].text);
		fprintf(o->f, "</text>\n");
	}
	fprintf(o->f, "</svg></figure>\n");
}

static const char *const jur_color[RJ_N] = {
	"#2f6f9f", "#8da2b8", "#c8553d", "#c9ced6"
};

/* --- tables ------------------------------------------------------------ */

static void
th(const struct out *o, const char *cls, enum msg id)
{
	fprintf(o->f, "<th%s%s%s>", cls ? " class=\"" : "", cls ? cls : "",
	    cls ? "\"" : "");
	esc(o->f, T(id));
	fprintf(o->f, "</th>");
}

static void
td_num(const struct out *o, const char *text, const char *cls)
{
	fprintf(o->f, "<td class=\"n%s%s\">", cls ? " " : "", cls ? cls : "");
	esc(o->f, text);
	fprintf(o->f, "</td>");
}

static void
td_fig(const struct out *o, const struct rfig *f)
{
	char v[48];

	td_num(o, rfmt_fig(o->R, f, v, sizeof(v)),
	    RFIG_ZERO(f) ? "nil" : NULL);
}

static void
td_peak(const struct out *o, const struct rfig *f)
{
	char v[48];

	td_num(o, rfmt_cnt(o->R, f->max, v, sizeof(v)), f->max ? NULL :
	    "nil");
}

static void
td_change(const struct out *o, const struct rfig *c, const struct rfig *p)
{
	char v[32];
	double pct;

	if (rep_change(o->R, c, p, &pct) != 0) {
		td_num(o, RFMT_ZERO, "nil");
		return;
	}
	td_num(o, rfmt_change(o->R, pct, v, sizeof(v)), pct >= 0 ? "up" :
	    "down");
}

/* A released count (one glyph for every zero). */
static void
td_count(const struct out *o, uint64_t v, int bytes)
{
	char b[64];

	td_num(o, count_txt(o, v, bytes, b, sizeof(b)), v ? NULL : "nil");
}

static void
td_shadowbar(const struct out *o, const struct rrow *r)
{
	char p[32];
	double s;

	if (r->svc_conns == 0) {
		td_num(o, RFMT_ZERO, "nil");
		return;
	}
	s = rep_share(r->shadow, r->svc_conns);
	fprintf(o->f, "<td class=\"n\"><span class=\"bar\" style=\"width:%.1fmm"
	    "\"></span>%s</td>", s / 100 * 14, rfmt_pct(o->R, s, p, sizeof(p)));
}

static void
section_open(const struct out *o, const char *cls, enum msg title)
{
	fprintf(o->f, "<section%s%s%s><h2>", cls ? " class=\"" : "",
	    cls ? cls : "", cls ? "\"" : "");
	esc(o->f, T(title));
	fprintf(o->f, "</h2>\n");
}

#define TOP_SERVICES	5

/* Page one's last word: the services most used, in brief. */
static void
top_services(const struct out *o)
{
	const struct report *R = o->R;
	uint64_t all = R->cur.org.svc_conns;
	size_t i, n = 0;
	char v[32], mg[16];

	if (o->ns == 0)
		return;
	section_open(o, NULL, T_TOP_SERVICES);
	fprintf(o->f, "<table><thead><tr>");
	th(o, NULL, T_SERVICE);
	th(o, NULL, T_STATUS);
	th(o, "n", R->quarter ? T_DEVICES_AVG : T_DEVICES);
	th(o, "n", R->quarter ? T_CHANGE_Q : T_CHANGE_W);
	th(o, "n", T_SHARE_CONNS);
	fprintf(o->f, "</tr></thead><tbody>\n");
	for (i = 0; i < o->ns && n < TOP_SERVICES; i++) {
		size_t s = o->sidx[i];
		const struct rrow *c = &R->cur.svc[s];

		n++;
		fprintf(o->f, "<tr><td>");
		esc(o->f, R->svc[s].name);
		fprintf(o->f, " <span class=\"sub\">");
		esc(o->f, R->svc[s].vendor);
		fprintf(o->f, "</span></td><td><span class=\"tag %s\">",
		    R->svc[s].sanctioned ? "s" : "x");
		esc(o->f, T(R->svc[s].sanctioned ? T_SANCTIONED :
		    T_SHADOW_SHORT));
		fprintf(o->f, "</span></td>");
		td_fig(o, &c->dev);
		td_change(o, &c->dev, &R->prev.svc[s].dev);
		td_num(o, rfmt_pct(R, rep_share(rrow_conns(c), all), v,
		    sizeof(v)), NULL);
		fprintf(o->f, "</tr>\n");
	}
	fprintf(o->f, "</tbody></table>\n<p class=\"legend\">");
	snprintf(mg, sizeof(mg), "%d", R->min_group);
	fill(o, T_LEGEND, mg, NULL, NULL);
	fprintf(o->f, "</p></section>\n");
}

static void
departments(const struct out *o)
{
	const struct report *R = o->R;
	size_t i;

	/* page one is the summary; the detail starts on a page of its own */
	section_open(o, R->quarter ? NULL : "pb", T_DEPARTMENTS);
	fprintf(o->f, "<table><thead><tr>");
	th(o, NULL, T_DEPARTMENT);
	if (R->quarter) {
		th(o, "n", T_DEVICES_AVG);
		th(o, "n", T_DEVICES_PEAK);
		th(o, "n", T_DEVICE_WEEKS);
	} else {
		th(o, "n", T_DEVICES);
	}
	th(o, "n", R->quarter ? T_CHANGE_Q : T_CHANGE_W);
	th(o, "n", T_CONNECTIONS);
	th(o, "n", T_SHADOW_SHARE);
	th(o, "n", T_UPLOADED);
	th(o, "n", T_BLOCKED);
	fprintf(o->f, "</tr></thead><tbody>\n");
	for (i = 0; i <= o->nd; i++) {
		int org = i == o->nd;
		const struct rrow *c = org ? &R->cur.org :
		    &R->cur.dept[o->didx[i]];
		const struct rrow *p = org ? &R->prev.org :
		    &R->prev.dept[o->didx[i]];

		if (org)
			fprintf(o->f, "</tbody><tfoot>");
		fprintf(o->f, "<tr><td>");
		esc(o->f, org ? T(T_ORGANISATION) : dept_label(o, o->didx[i]));
		fprintf(o->f, "</td>");
		td_fig(o, &c->dev);
		if (R->quarter) {
			td_peak(o, &c->dev);
			td_count(o, c->dev.sum, 0);
		}
		td_change(o, &c->dev, &p->dev);
		td_count(o, rrow_conns(c), 0);
		td_shadowbar(o, c);
		td_count(o, c->m[RM_UP], 1);
		td_count(o, c->m[RM_NXDOMAIN], 0);
		fprintf(o->f, "</tr>\n");
	}
	fprintf(o->f, "</tfoot></table>\n");
	fprintf(o->f, "<p class=\"note\">");
	esc(o->f, T(T_DEPT_NOTE));
	fprintf(o->f, "</p></section>\n");
}

enum mx { MX_DEVICES, MX_UPLOAD, MX_BLOCKED };

/*
 * A quarter's matrix shows each cell's busiest week: an average over the
 * quarter can fall below the minimum group and read like a tiny group.
 */
static const char *
mx_text(const struct out *o, enum mx k, const struct rrow *r, char *buf,
    size_t n)
{
	if (k == MX_DEVICES && o->R->quarter)
		return week_txt(o, &r->dev, buf, n);
	if (k == MX_DEVICES)
		return rfmt_fig(o->R, &r->dev, buf, n);
	return count_txt(o, r->m[k == MX_UPLOAD ? RM_UP : RM_NXDOMAIN],
	    k == MX_UPLOAD, buf, n);
}

static double
mx_value(enum mx k, const struct rrow *r)
{
	if (k == MX_DEVICES)
		return (double)r->dev.max;
	return (double)r->m[k == MX_UPLOAD ? RM_UP : RM_NXDOMAIN];
}

static void
mx_cell(const struct out *o, enum mx k, const struct rrow *r, double max,
    int total)
{
	char v[64];
	double a;

	mx_text(o, k, r, v, sizeof(v));
	if (mx_value(k, r) <= 0) {
		td_num(o, v, "nil");
		return;
	}
	if (total || max <= 0) {
		td_num(o, v, NULL);
		return;
	}
	/* shade by value: a heat map that still reads in grey print */
	a = 0.06 + 0.64 * mx_value(k, r) / max;
	fprintf(o->f, "<td class=\"n\" style=\"background:rgba(31,78,121,%.2f)%s"
	    "\">", a, a > 0.45 ? ";color:#fff" : "");
	esc(o->f, v);
	fprintf(o->f, "</td>");
}

static int
mx_row_wanted(const struct out *o, enum mx k, size_t s)
{
	const struct rrow *r = &o->R->cur.svc[s];

	if (k == MX_BLOCKED)
		return r->m[RM_NXDOMAIN] > 0;
	if (k == MX_UPLOAD)
		return r->m[RM_UP] > 0;
	return 1;
}

/* Services down, departments across (in chunks that fit A4). */
static void
matrix(const struct out *o, enum mx k)
{
	const struct report *R = o->R;
	size_t c0, i, j, rows = 0, shown;
	double max = 0;

	for (i = 0; i < o->ns; i++)
		for (j = 0; j < o->nd; j++) {
			const struct rrow *r =
			    &R->cur.cell[o->didx[j] * R->nsvc + o->sidx[i]];
			double v = mx_value(k, r);

			if (v > max)
				max = v;
		}
	for (i = 0; i < o->ns; i++)
		rows += mx_row_wanted(o, k, o->sidx[i]);
	if (rows == 0) {
		fprintf(o->f, "<p class=\"note\">");
		esc(o->f, T(T_NONE));
		fprintf(o->f, "</p>\n");
		return;
	}
	for (c0 = 0; c0 < o->nd; c0 += MATRIX_COLS) {
		size_t c1 = c0 + MATRIX_COLS < o->nd ? c0 + MATRIX_COLS : o->nd;
		int last = c1 == o->nd;

		fprintf(o->f, "<table class=\"mx\"><thead><tr>");
		th(o, NULL, T_SERVICE);
		for (j = c0; j < c1; j++) {
			fprintf(o->f, "<th class=\"n\">");
			esc(o->f, dept_label(o, o->didx[j]));
			fprintf(o->f, "</th>");
		}
		if (last)
			th(o, "n", T_ALL);
		fprintf(o->f, "</tr></thead><tbody>\n");
		for (i = 0, shown = 0; i < o->ns && shown < MATRIX_ROWS; i++) {
			size_t s = o->sidx[i];

			if (!mx_row_wanted(o, k, s))
				continue;
			shown++;
			fprintf(o->f, "<tr><td>");
			esc(o->f, R->svc[s].name);
			fprintf(o->f, "</td>");
			for (j = c0; j < c1; j++)
				mx_cell(o, k, &R->cur.cell[o->didx[j] *
				    R->nsvc + s], max, 0);
			if (last)
				mx_cell(o, k, &R->cur.svc[s], max, 1);
			fprintf(o->f, "</tr>\n");
		}
		fprintf(o->f, "</tbody><tfoot><tr><td>");
		esc(o->f, T(T_ALL_SERVICES));
		fprintf(o->f, "</td>");
		for (j = c0; j < c1; j++)
			mx_cell(o, k, &R->cur.dept[o->didx[j]], max, 1);
		if (last)
			mx_cell(o, k, &R->cur.org, max, 1);
		fprintf(o->f, "</tr></tfoot></table>\n");
	}
	if (rows > MATRIX_ROWS) {
		char n[24];

		snprintf(n, sizeof(n), "%zu", rows - MATRIX_ROWS);
		fprintf(o->f, "<p class=\"note\">");
		fill(o, T_MATRIX_MORE, n, NULL, NULL);
		fprintf(o->f, "</p>\n");
	}
}

static void
matrix_section(const struct out *o, enum mx k, enum msg title,
    enum msg note)
{
	section_open(o, "long", title);
	if (note != T_N) {
		fprintf(o->f, "<p class=\"note\">");
		esc(o->f, T(note));
		fprintf(o->f, "</p>\n");
	}
	matrix(o, k);
	fprintf(o->f, "</section>\n");
}

static void
services(const struct out *o)
{
	const struct report *R = o->R;
	size_t i;

	section_open(o, "long", T_SERVICES);
	fprintf(o->f, "<table><thead><tr>");
	th(o, NULL, T_SERVICE);
	th(o, NULL, T_CATEGORY);
	th(o, NULL, T_JURISDICTION);
	th(o, NULL, T_STATUS);
	th(o, "n", R->quarter ? T_DEVICES_AVG : T_DEVICES);
	if (R->quarter)
		th(o, "n", T_DEVICES_PEAK);
	th(o, "n", R->quarter ? T_CHANGE_Q : T_CHANGE_W);
	th(o, "n", T_CONNECTIONS);
	th(o, "n", T_UPLOADED);
	fprintf(o->f, "</tr></thead><tbody>\n");
	for (i = 0; i < o->ns; i++) {
		size_t s = o->sidx[i];
		const struct rsvc *sv = &R->svc[s];
		const struct rrow *c = &R->cur.svc[s];
		int nw = 0;
		size_t k;

		for (k = 0; k < R->nnews; k++)
			nw |= R->news[k].dept == (size_t)-1 &&
			    R->news[k].svc == s;
		fprintf(o->f, "<tr><td>");
		esc(o->f, sv->name);
		if (nw) {
			fprintf(o->f, " <span class=\"tag new\">");
			esc(o->f, T(T_NEW));
			fprintf(o->f, "</span>");
		}
		fprintf(o->f, "<br><span class=\"sub\">");
		esc(o->f, sv->vendor);
		fprintf(o->f, "</span></td><td>");
		esc(o->f, i18n_category(R->lang, sv->category));
		fprintf(o->f, "</td><td>");
		esc(o->f, sv->jurisdiction);
		fprintf(o->f, "</td><td><span class=\"tag %s\">",
		    sv->sanctioned ? "s" : "x");
		esc(o->f, T(sv->sanctioned ? T_SANCTIONED : T_SHADOW_SHORT));
		fprintf(o->f, "</span></td>");
		td_fig(o, &c->dev);
		if (R->quarter)
			td_peak(o, &c->dev);
		td_change(o, &c->dev, &R->prev.svc[s].dev);
		td_count(o, rrow_conns(c), 0);
		td_count(o, c->m[RM_UP], 1);
		fprintf(o->f, "</tr>\n");
	}
	if (o->ns == 0) {
		fprintf(o->f, "<tr><td colspan=\"8\">");
		esc(o->f, T(T_NONE));
		fprintf(o->f, "</td></tr>\n");
	}
	fprintf(o->f, "</tbody></table></section>\n");
}

static void
new_in_org(const struct out *o)
{
	const struct report *R = o->R;
	char d[48];
	size_t i;

	fprintf(o->f, "<table><thead><tr>");
	th(o, NULL, T_SERVICE);
	th(o, NULL, T_VENDOR);
	th(o, NULL, T_STATUS);
	th(o, "n", T_FIRST_SEEN);
	fprintf(o->f, "</tr></thead><tbody>\n");
	for (i = 0; i < R->nnews; i++) {
		const struct rnew *nw = &R->news[i];
		const struct rsvc *sv = &R->svc[nw->svc];

		if (nw->dept != (size_t)-1)
			continue;
		fprintf(o->f, "<tr>");
		tag_text(o, "td", NULL, sv->name);
		tag_text(o, "td", NULL, sv->vendor);
		fprintf(o->f, "<td><span class=\"tag %s\">",
		    sv->sanctioned ? "s" : "x");
		esc(o->f, T(sv->sanctioned ? T_SANCTIONED : T_SHADOW_SHORT));
		fprintf(o->f, "</span></td>");
		period_week_format(nw->week, d, sizeof(d));
		td_num(o, d, NULL);
		fprintf(o->f, "</tr>\n");
	}
	fprintf(o->f, "</tbody></table>\n");
}

/* One line per department: in a first week everything is new. */
static void
new_in_depts(const struct out *o)
{
	const struct report *R = o->R;
	char d[48];
	size_t i, j;

	fprintf(o->f, "<table><thead><tr>");
	th(o, NULL, T_DEPARTMENT);
	th(o, NULL, T_NEW_SERVICES_FIRST);
	fprintf(o->f, "</tr></thead><tbody>\n");
	for (j = 0; j < o->nd; j++) {
		size_t dept = o->didx[j], n = 0;

		for (i = 0; i < R->nnews; i++) {
			const struct rnew *nw = &R->news[i];

			if (nw->dept != dept)
				continue;
			if (n++ == 0) {
				fprintf(o->f, "<tr>");
				tag_text(o, "td", NULL, dept_label(o, dept));
				fprintf(o->f, "<td>");
			} else {
				fprintf(o->f, ", ");
			}
			esc(o->f, R->svc[nw->svc].name);
			fprintf(o->f, " <span class=\"sub\">");
			period_week_format(nw->week, d, sizeof(d));
			esc(o->f, d);
			fprintf(o->f, "</span>");
		}
		if (n > 0)
			fprintf(o->f, "</td></tr>\n");
	}
	fprintf(o->f, "</tbody></table>\n");
}

static void
new_services(const struct out *o)
{
	const struct report *R = o->R;
	size_t i, n;
	int org;

	section_open(o, NULL, T_NEW_TITLE);
	for (org = 1; org >= 0; org--) {
		tag_text(o, "h3", NULL, T(org ? T_NEW_ORG : T_NEW_DEPT));
		for (i = 0, n = 0; i < R->nnews; i++)
			n += (R->news[i].dept == (size_t)-1) == org;
		if (n == 0)
			tag_text(o, "p", "note", T(T_NONE));
		else if (org)
			new_in_org(o);
		else
			new_in_depts(o);
	}
	fprintf(o->f, "<p class=\"note\">");
	esc(o->f, T(T_NEW_NOTE));
	fprintf(o->f, "</p></section>\n");
}

static void
categories_and_jurisdiction(const struct out *o)
{
	const struct report *R = o->R;
	struct hbar *b = calloc(R->ncat + RJ_N + 1, sizeof(*b));
	uint64_t all = rrow_conns(&R->cur.org);
	uint64_t svcs = R->cur.org.svc_conns;
	size_t c, n = 0, i;
	int j;

	if (b == NULL)
		return;
	fprintf(o->f, "<section class=\"two\"><div><h2>");
	esc(o->f, T(T_CATEGORIES));
	fprintf(o->f, "</h2>\n");
	for (c = 0; c < R->ncat; c++) {
		const struct rrow *r = &R->cur.cat[c];

		if (rrow_conns(r) == 0)
			continue;
		b[n].label = i18n_category(R->lang, R->cat[c]);
		b[n].value = (double)rrow_conns(r);
		b[n].color = "#1f4e79";
		rfmt_pct(R, rep_share(rrow_conns(r), all), b[n].text,
		    sizeof(b[n].text));
		n++;
	}
	/* largest first */
	for (i = 1; i < n; i++)
		for (c = i; c > 0 && b[c].value > b[c - 1].value; c--) {
			struct hbar t = b[c];

			b[c] = b[c - 1];
			b[c - 1] = t;
		}
	chart_hbars(o, T_CHART_CATEGORIES, b, n, 0);
	fprintf(o->f, "<table><thead><tr>");
	th(o, NULL, T_CATEGORY);
	th(o, "n", R->quarter ? T_DEVICES_AVG : T_DEVICES);
	th(o, "n", T_CONNECTIONS);
	fprintf(o->f, "</tr></thead><tbody>\n");
	for (c = 0; c < R->ncat; c++) {
		const struct rrow *r = &R->cur.cat[c];

		if (RFIG_ZERO(&r->dev))
			continue;
		fprintf(o->f, "<tr>");
		tag_text(o, "td", NULL, i18n_category(R->lang, R->cat[c]));
		td_fig(o, &r->dev);
		td_count(o, rrow_conns(r), 0);
		fprintf(o->f, "</tr>\n");
	}
	fprintf(o->f, "</tbody></table></div>\n<div><h2>");
	esc(o->f, T(T_JURIS_TITLE));
	fprintf(o->f, "</h2>\n");
	for (j = 0, n = 0; j < RJ_N; j++) {
		b[n].label = i18n_jurisdiction(R->lang, rep_jur_name(j));
		b[n].value = (double)rrow_conns(&R->cur.jur[j]);
		b[n].color = jur_color[j];
		rfmt_pct(R, rep_share(rrow_conns(&R->cur.jur[j]), svcs),
		    b[n].text, sizeof(b[n].text));
		n++;
	}
	chart_hbars(o, T_CHART_JURIS, b, n, 0);
	fprintf(o->f, "<table><thead><tr>");
	th(o, NULL, T_JURISDICTION);
	th(o, "n", T_SERVICES);
	th(o, "n", T_CONNECTIONS);
	th(o, "n", T_UPLOADED);
	fprintf(o->f, "</tr></thead><tbody>\n");
	for (j = 0; j < RJ_N; j++) {
		const struct rrow *r = &R->cur.jur[j];
		size_t s, nsv = 0;
		char v[32];

		for (s = 0; s < R->nsvc; s++)
			nsv += R->svc[s].jur == (enum rjur)j &&
			    rep_svc_used(R, s);
		fprintf(o->f, "<tr>");
		tag_text(o, "td", NULL, i18n_jurisdiction(R->lang,
		    rep_jur_name(j)));
		snprintf(v, sizeof(v), "%zu", nsv);
		td_num(o, v, NULL);
		td_count(o, rrow_conns(r), 0);
		td_count(o, r->m[RM_UP], 1);
		fprintf(o->f, "</tr>\n");
	}
	fprintf(o->f, "</tbody></table><p class=\"note\">");
	esc(o->f, T(T_JURIS_NOTE));
	fprintf(o->f, "</p></div></section>\n");
	free(b);
}

static void
upload(const struct out *o)
{
	const struct report *R = o->R;
	struct hbar b[TOP_N];
	size_t i, n = 0;

	section_open(o, "long", T_UPLOAD_TITLE);
	fprintf(o->f, "<p class=\"note\">");
	esc(o->f, T(T_UPLOAD_NOTE));
	fprintf(o->f, "</p>\n");
	/* the services that sent most, largest first */
	for (i = 0; i < o->ns; i++) {
		const struct rrow *r = &R->cur.svc[o->sidx[i]];
		size_t k;

		if (r->m[RM_UP] == 0)
			continue;
		for (k = n; k > 0 && (double)r->m[RM_UP] > b[k - 1].value;
		    k--)
			if (k < TOP_N)
				b[k] = b[k - 1];
		if (k >= TOP_N)
			continue;
		b[k].label = R->svc[o->sidx[i]].name;
		b[k].value = (double)r->m[RM_UP];
		b[k].color = R->svc[o->sidx[i]].sanctioned ? "#2f6f9f" :
		    "#d9822b";
		count_txt(o, r->m[RM_UP], 1, b[k].text, sizeof(b[k].text));
		if (n < TOP_N)
			n++;
	}
	if (n > 0)
		chart_hbars(o, T_CHART_UPLOAD, b, n, 1);
	matrix(o, MX_UPLOAD);
	fprintf(o->f, "</section>\n");
}

/* The quarter's weeks one by one: devices cannot be summed over them. */
static void
weekly(const struct out *o)
{
	const struct report *R = o->R;
	size_t w;
	char b[48];

	section_open(o, "pb", T_WEEKLY_TITLE);
	fprintf(o->f, "<table><thead><tr>");
	th(o, NULL, T_WEEK);
	th(o, "n", T_DEVICES);
	th(o, "n", T_CONNECTIONS);
	th(o, "n", T_SHADOW_SHARE);
	th(o, "n", T_UPLOADED);
	th(o, "n", T_BLOCKED);
	fprintf(o->f, "</tr></thead><tbody>\n");
	for (w = 0; w < R->cur.nweeks; w++) {
		const struct rrow *r = &R->cur.week[w];

		period_week_format(R->cur.weeks[w], b, sizeof(b));
		fprintf(o->f, "<tr>");
		tag_text(o, "td", NULL, b);
		if (!R->cur.released[w]) {
			int k;

			/* not released: nothing is known, not even a zero */
			td_num(o, T(T_NOT_RELEASED), "nil");
			for (k = 0; k < 4; k++)
				td_num(o, "", NULL);
			fprintf(o->f, "</tr>\n");
			continue;
		}
		td_num(o, week_txt(o, &r->dev, b, sizeof(b)), r->dev.max ?
		    NULL : "nil");
		td_count(o, rrow_conns(r), 0);
		td_shadowbar(o, r);
		td_count(o, r->m[RM_UP], 1);
		td_count(o, r->m[RM_NXDOMAIN], 0);
		fprintf(o->f, "</tr>\n");
	}
	fprintf(o->f, "</tbody></table></section>\n");
}

static void
blind_row(const struct out *o, enum msg what, const char *value,
    const char *meaning)
{
	fprintf(o->f, "<tr><td>");
	esc(o->f, T(what));
	fprintf(o->f, "</td><td class=\"n\"><b>");
	esc(o->f, value);
	fprintf(o->f, "</b></td><td class=\"note\">");
	esc(o->f, meaning);
	fprintf(o->f, "</td></tr>\n");
}

/* A central release's sites: which of them the figures miss. */
static void
sites(const struct out *o)
{
	const struct report *R = o->R;
	char v[96], h[32];
	size_t i;

	if (R->nsites == 0)
		return;
	tag_text(o, "h3", NULL, T(T_SITES_TITLE));
	tag_text(o, "p", NULL, T(T_SITES_INTRO));
	fprintf(o->f, "\n<table class=\"sites\"><thead><tr>");
	th(o, NULL, T_SITE);
	th(o, NULL, T_LAST_SEEN);
	th(o, "n", T_SITE_HOURS);
	th(o, NULL, T_STATUS);
	fprintf(o->f, "</tr></thead><tbody>\n");
	for (i = 0; i < R->nsites; i++) {
		const struct central_read_site *s = &R->sites[i];

		fprintf(o->f, "<tr%s><td>", s->silent ? " class=\"silent\"" :
		    "");
		esc(o->f, s->name);
		fprintf(o->f, "</td><td>");
		esc(o->f, rfmt_when(R, s->last_seen, v, sizeof(v)));
		fprintf(o->f, "</td>");
		snprintf(h, sizeof(h), "%lld / %u", (long long)s->hours_covered,
		    R->cur.hours_total);
		td_num(o, h, NULL);
		fprintf(o->f, "<td>");
		if (s->silent)
			fprintf(o->f, "<b>");
		esc(o->f, T(s->silent ? T_SILENT : T_REPORTING));
		fprintf(o->f, "%s</td></tr>\n", s->silent ? "</b>" : "");
	}
	fprintf(o->f, "</tbody></table>\n");
}

static void
blind(const struct out *o)
{
	const struct report *R = o->R;
	const struct rblind *b = &R->blind;
	char v[64], m[512], a[64], c[64];
	size_t d;

	section_open(o, "blind", T_BLIND_TITLE);
	fprintf(o->f, "<p>");
	fill(o, T_BLIND_INTRO, rfmt_pct(R, rep_blind_ech_pct(R), a, sizeof(a)),
	    NULL, NULL);
	fprintf(o->f, "</p><table><thead><tr>");
	th(o, NULL, T_MEASURE);
	th(o, "n", T_VALUE);
	th(o, NULL, T_MEANING);
	fprintf(o->f, "</tr></thead><tbody>\n");
	i18n_fill(m, sizeof(m), T(T_BL_ECH_NOTE), rfmt_pct(R,
	    rep_blind_ech_pct(R), a, sizeof(a)), rfmt_int(R, b->ech_conns, c,
	    sizeof(c)), NULL);
	blind_row(o, T_BL_ECH, rfmt_cnt(R, b->ech_unattributed, v, sizeof(v)),
	    m);
	blind_row(o, T_BL_DOH, rfmt_cnt(R, b->doh_conns, v, sizeof(v)),
	    T(T_BL_DOH_NOTE));
	i18n_fill(m, sizeof(m), T(T_BL_DROPS_NOTE), rfmt_pct(R,
	    rep_blind_drop_pct(R), a, sizeof(a)), rfmt_int(R, b->packets, c,
	    sizeof(c)), NULL);
	blind_row(o, T_BL_DROPS, rfmt_cnt(R, b->pcap_drops + b->if_drops, v,
	    sizeof(v)), m);
	for (d = 0; d < R->ndept; d++) {
		const struct rrow *u = &R->cur.dept[d];

		if (!R->dept[d].unassigned)
			continue;
		i18n_fill(m, sizeof(m), T(T_BL_UNASSIGNED_NOTE),
		    rfmt_pct(R, rep_blind_unassigned_pct(R), a, sizeof(a)),
		    rfmt_fig(R, &u->dev, c, sizeof(c)), NULL);
		blind_row(o, T_BL_UNASSIGNED, count_txt(o, rrow_conns(u), 0, v,
		    sizeof(v)), m);
	}
	blind_row(o, T_BL_NOSNI, rfmt_cnt(R, b->nosni_conns, v, sizeof(v)),
	    T(T_BL_NOSNI_NOTE));
	blind_row(o, T_BL_UNREADABLE, rfmt_cnt(R, b->unreadable, v,
	    sizeof(v)), T(T_BL_UNREADABLE_NOTE));
	blind_row(o, T_BL_CONFLICT, rfmt_cnt(R, b->conflicts, v, sizeof(v)),
	    T(T_BL_CONFLICT_NOTE));
	snprintf(a, sizeof(a), "%u", b->hours);
	snprintf(c, sizeof(c), "%u", b->hours_total);
	i18n_fill(m, sizeof(m), T(T_BL_HOURS_NOTE), a, c, NULL);
	blind_row(o, T_BL_HOURS, a, m);
	if (b->lost > 0)
		blind_row(o, T_BL_LOST, rfmt_int(R, b->lost, v, sizeof(v)),
		    T(T_BL_LOST_NOTE));
	if (b->late > 0)
		blind_row(o, T_BL_LATE, rfmt_int(R, b->late, v, sizeof(v)),
		    T(T_BL_LATE_NOTE));
	fprintf(o->f, "</tbody></table>\n");
	sites(o);
	fprintf(o->f, "</section>\n");
}

static void
methodology(const struct out *o)
{
	const struct report *R = o->R;
	char a[32], b[32];

	section_open(o, "method", T_METHOD_TITLE);
	snprintf(a, sizeof(a), "%zu", R->nsvc);
	fprintf(o->f, "<p>");
	fill(o, T_M_WHAT, a, NULL, NULL);
	fprintf(o->f, "</p><p><b>");
	esc(o->f, T(T_M_COLLECTED_H));
	fprintf(o->f, "</b> ");
	esc(o->f, T(T_M_COLLECTED));
	fprintf(o->f, "</p><p><b>");
	esc(o->f, T(T_M_NOT_COLLECTED_H));
	fprintf(o->f, "</b> ");
	esc(o->f, T(T_M_NOT_COLLECTED));
	fprintf(o->f, "</p><p><b>");
	esc(o->f, T(T_M_GROUP_H));
	fprintf(o->f, "</b> ");
	snprintf(a, sizeof(a), "%d", R->min_group);
	fill(o, R->min_group > 1 ? T_M_GROUP : T_M_GROUP_NONE, a, NULL, NULL);
	fprintf(o->f, "</p><p><b>");
	esc(o->f, T(T_M_KEY_H));
	fprintf(o->f, "</b> ");
	esc(o->f, T(T_M_KEY));
	if (R->quarter) {
		fprintf(o->f, " ");
		snprintf(b, sizeof(b), "%u", R->cur.weeks_with_data);
		fill(o, T_M_QUARTER, b, NULL, NULL);
	}
	if (R->central) {
		fprintf(o->f, "</p><p><b>");
		esc(o->f, T(T_M_SITES_H));
		fprintf(o->f, "</b> ");
		if (R->scope[0] != '\0' && strcmp(R->scope, "*") != 0)
			fill(o, T_M_SITE, R->scope, NULL, NULL);
		else
			esc(o->f, T(T_M_SITES));
	}
	fprintf(o->f, "</p><p><b>");
	esc(o->f, T(T_M_RETENTION_H));
	fprintf(o->f, "</b> ");
	if (R->retention_days > 0) {
		snprintf(a, sizeof(a), "%d", R->retention_days);
		fill(o, T_M_RETENTION, a, NULL, NULL);
	} else {
		esc(o->f, T(T_M_RETENTION_CONF));
	}
	fprintf(o->f, "</p><p><b>");
	esc(o->f, T(T_M_DEFS_H));
	fprintf(o->f, "</b> ");
	esc(o->f, T(T_M_DEFS));
	fprintf(o->f, "</p>\n");
	fprintf(o->f, "<p class=\"legend\">");
	snprintf(a, sizeof(a), "%d", R->min_group);
	fill(o, T_LEGEND, a, NULL, NULL);
	fprintf(o->f, "</p></section>\n");
}

int
report_html(const struct report *R, FILE *f)
{
	struct out ob, *o = &ob;
	char t[256];

	memset(o, 0, sizeof(*o));
	o->R = R;
	o->f = f;
	o->sidx = calloc(R->nsvc + 1, sizeof(*o->sidx));
	o->didx = calloc(R->ndept + 1, sizeof(*o->didx));
	if (o->sidx == NULL || o->didx == NULL) {
		free(o->sidx);
		free(o->didx);
		return -1;
	}
	o->ns = rep_svc_order(R, o->sidx);
	o->nd = rep_dept_order(R, o->didx);
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	    "\n<title>", i18n_lang_code(R->lang));
	title_text(o, t, sizeof(t));
	esc(f, t);
	period_title(o, t, sizeof(t));
	fprintf(f, " &middot; ");
	esc(f, t);
	fprintf(f, "</title>\n<style>\n%s", css);
	/* the footer of every printed page names the period */
	fprintf(f, "@page{@bottom-left{content:\"aicensus \\B7  %s \\B7  ",
	    R->cur.label);
	fputs(T(T_BADGE), f);	/* a constant without quotes */
	fprintf(f, "\"}}\n</style></head><body>\n");
	header(o);
	kpis(o);
	minis(o);
	findings(o);
	fprintf(f, "<section class=\"two\">");
	chart_weeks(o);
	chart_shadow(o);
	fprintf(f, "</section>\n");
	top_services(o);
	if (R->quarter)
		weekly(o);
	departments(o);
	matrix_section(o, MX_DEVICES, R->quarter ? T_MATRIX_Q : T_MATRIX,
	    R->quarter ? T_MATRIX_NOTE_Q : T_MATRIX_NOTE);
	services(o);
	new_services(o);
	categories_and_jurisdiction(o);
	upload(o);
	matrix_section(o, MX_BLOCKED, T_BLOCKED_TITLE, T_BLOCKED_NOTE);
	blind(o);
	methodology(o);
	fprintf(f, "</body></html>\n");
	free(o->sidx);
	free(o->didx);
	return ferror(f) ? -1 : 0;
}
