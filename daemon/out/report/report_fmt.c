/*
 * report_fmt.c - numbers, dates and device figures as a reader of the
 * chosen language writes them (12,345.6 in English, 12.345,6 in Dutch).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "out/report/i18n.h"
#include "common/period.h"
#include "out/report/report_model.h"
#include "out/report/report_fmt.h"

/* "12345" -> "12,345" (or "12.345"), then the fraction, if any. */
static const char *
group_digits(const struct report *R, const char *digits, const char *frac,
    char *buf, size_t n)
{
	const char *sep = i18n_thousands(R->lang);
	size_t len = strlen(digits), i, o = 0;

	if (n == 0)
		return buf;
	for (i = 0; i < len && o + 4 < n; i++) {
		if (i > 0 && (len - i) % 3 == 0) {
			size_t sl = strlen(sep);

			memcpy(buf + o, sep, sl);
			o += sl;
		}
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	if (frac != NULL && *frac != '\0')
		snprintf(buf + o, n - o, "%s%s", i18n_decimal(R->lang), frac);
	return buf;
}

const char *
rfmt_int(const struct report *R, uint64_t v, char *buf, size_t n)
{
	char d[32];

	snprintf(d, sizeof(d), "%llu", (unsigned long long)v);
	return group_digits(R, d, NULL, buf, n);
}

const char *
rfmt_dec(const struct report *R, double v, char *buf, size_t n)
{
	char d[48], *dot;
	int neg = v < 0;

	snprintf(d, sizeof(d), "%.1f", neg ? -v : v);
	if ((dot = strchr(d, '.')) != NULL)
		*dot++ = '\0';
	if (neg && n > 1) {
		buf[0] = '-';
		group_digits(R, d, dot, buf + 1, n - 1);
		return buf;
	}
	return group_digits(R, d, dot, buf, n);
}

const char *
rfmt_pct(const struct report *R, double v, char *buf, size_t n)
{
	char d[48];

	rfmt_dec(R, v, d, sizeof(d));
	snprintf(buf, n, "%s%%", d);
	return buf;
}

const char *
rfmt_change(const struct report *R, double v, char *buf, size_t n)
{
	char d[48];

	/* U+2212 minus reads better than a hyphen next to a number */
	rfmt_dec(R, v < 0 ? -v : v, d, sizeof(d));
	snprintf(buf, n, "%s%s%%", v < 0 ? "\xe2\x88\x92" : "+", d);
	return buf;
}

const char *
rfmt_bytes(const struct report *R, uint64_t v, char *buf, size_t n)
{
	static const char *unit[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	double x = (double)v;
	size_t u = 0;
	char d[48];

	while (x >= 1000 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		x /= 1000;
		u++;
	}
	if (u == 0)
		rfmt_int(R, v, d, sizeof(d));
	else
		rfmt_dec(R, x, d, sizeof(d));
	snprintf(buf, n, "%s\xc2\xa0%s", d, unit[u]);
	return buf;
}

const char *
rfmt_day(const struct report *R, int32_t day, char *buf, size_t n)
{
	int y, m, d;

	period_day_split(day, &y, &m, &d);
	snprintf(buf, n, "%d %s %d", d, i18n_month(R->lang, m), y);
	return buf;
}

const char *
rfmt_gaps(const struct report *R, char *buf, size_t n)
{
	char list[512], dm[48], a[16], b[16], item[96];
	size_t i, off = 0;

	buf[0] = '\0';
	list[0] = '\0';
	for (i = 0; i < R->blind.ngap; i++) {
		const struct rgap *g = &R->blind.gap[i];

		snprintf(a, sizeof(a), "%u", g->missing);
		snprintf(b, sizeof(b), "%u", g->total);
		i18n_fill(item, sizeof(item), i18n(R->lang, T_UNCOVERED_DAY),
		    rfmt_daymonth(R, g->day, dm, sizeof(dm)), a, b);
		off += (size_t)snprintf(list + off, off < sizeof(list) ?
		    sizeof(list) - off : 0, "%s%s", i ? ", " : "", item);
		if (off >= sizeof(list))
			break;
	}
	if (R->blind.ngap > 0)
		i18n_fill(buf, n, i18n(R->lang, T_UNCOVERED), list, NULL, NULL);
	return buf;
}

const char *
rfmt_daymonth(const struct report *R, int32_t day, char *buf, size_t n)
{
	int y, m, d;

	period_day_split(day, &y, &m, &d);
	snprintf(buf, n, "%d %s", d, i18n_month(R->lang, m));
	return buf;
}

const char *
rfmt_range(const struct report *R, int32_t first, int32_t last, char *buf,
    size_t n)
{
	char a[48], b[48];
	int fy, fm, fd, ly, lm, ld;

	period_day_split(first, &fy, &fm, &fd);
	period_day_split(last, &ly, &lm, &ld);
	if (fy == ly && fm == lm) {
		snprintf(buf, n, "%d\xe2\x80\x93%s", fd,
		    rfmt_day(R, last, b, sizeof(b)));
		return buf;
	}
	if (fy == ly)
		rfmt_daymonth(R, first, a, sizeof(a));
	else
		rfmt_day(R, first, a, sizeof(a));
	snprintf(buf, n, "%s \xe2\x80\x93 %s", a, rfmt_day(R, last, b,
	    sizeof(b)));
	return buf;
}

/* Every zero prints the same glyph: none, or too few devices to show. */
const char *
rfmt_fig(const struct report *R, const struct rfig *f, char *buf, size_t n)
{
	if (RFIG_ZERO(f))
		snprintf(buf, n, "%s", RFMT_ZERO);
	else if (R->quarter)
		rfmt_dec(R, f->avg, buf, n);
	else
		rfmt_int(R, f->max, buf, n);
	return buf;
}

const char *
rfmt_cnt(const struct report *R, uint64_t v, char *buf, size_t n)
{
	if (v == 0) {
		snprintf(buf, n, "%s", RFMT_ZERO);
		return buf;
	}
	return rfmt_int(R, v, buf, n);
}

const char *
rfmt_vol(const struct report *R, uint64_t v, char *buf, size_t n)
{
	if (v == 0) {
		snprintf(buf, n, "%s", RFMT_ZERO);
		return buf;
	}
	return rfmt_bytes(R, v, buf, n);
}

/* --- key points -------------------------------------------------------- */

/* "ChatGPT, Claude and Gemini" */
static void
name_list(const struct report *R, const size_t *svcs, size_t n, char *buf,
    size_t len)
{
	size_t i, at = 0;

	*buf = '\0';
	for (i = 0; i < n && at < len; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ?
		    i18n(R->lang, T_AND) : ", ";
		int w = snprintf(buf + at, len - at, "%s%s", sep,
		    R->svc[svcs[i]].name);

		if (w < 0)
			break;
		at += (size_t)w;
	}
}

const char *
rfmt_scope(const struct report *R, char *buf, size_t n)
{
	if (R->scope[0] == '\0')
		snprintf(buf, n, "%s", "");
	else if (strcmp(R->scope, "*") == 0)
		snprintf(buf, n, "%s", i18n(R->lang, T_SCOPE_ORG));
	else
		i18n_fill(buf, n, i18n(R->lang, T_SCOPE_SITE), R->scope, NULL,
		    NULL);
	return buf;
}

const char *
rfmt_when(const struct report *R, int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct period p;
	struct tm tm;
	char d[64];

	if (t <= 0) {
		snprintf(buf, n, "%s", i18n(R->lang, T_NEVER));
		return buf;
	}
	period_of(t, &p);
	localtime_r(&tt, &tm);
	snprintf(buf, n, "%s %02d:%02d", rfmt_day(R, p.day, d, sizeof(d)),
	    tm.tm_hour, tm.tm_min);
	return buf;
}

/*
 * The shadow share against the previous period, in percentage points,
 * the previous period named; or why there is no comparison.
 */
static void
shadow_change(const struct report *R, char *out, size_t *k)
{
	char a[64], b[64];
	double cur, prev, pp;
	int rc = rep_shadow_change(R, &cur, &prev, &pp);
	const char *label = R->prev.label;

	if (rc == 1)
		return;		/* no share to compare */
	if (rc == 2 || rc == 3) {
		i18n_fill(out, RFINDING_LEN, i18n(R->lang, rc == 2 ?
		    T_F_SHADOW_NOPREV : T_F_SHADOW_NOCONN), label, NULL, NULL);
	} else if (pp == 0) {
		i18n_fill(out, RFINDING_LEN, i18n(R->lang, T_F_SHADOW_SAME),
		    NULL, label, rfmt_pct(R, prev, b, sizeof(b)));
	} else {
		rfmt_dec(R, pp < 0 ? -pp : pp, a, sizeof(a));
		i18n_fill(out, RFINDING_LEN, i18n(R->lang, pp > 0 ?
		    T_F_SHADOW_UP : T_F_SHADOW_DOWN), a, label,
		    rfmt_pct(R, prev, b, sizeof(b)));
	}
	(*k)++;
}

size_t
rep_findings(const struct report *R, char out[][RFINDING_LEN])
{
	const struct rrow *c = &R->cur.org;
	size_t *idx = calloc(R->nsvc + 1, sizeof(*idx));
	size_t pick[8] = { 0 }, n = 0, i, ns, k = 0;
	char a[64], b[64], d[64], names[512];
	double pct;

#define T(id)	i18n(R->lang, (id))
#define ADD(tmpl, x, y, z) \
	i18n_fill(out[k++], RFINDING_LEN, (tmpl), (x), (y), (z))
	/* first: a week covered for 4 of 168 hours is not a week */
	if (rep_coverage_incomplete(R)) {
		rfmt_int(R, R->cur.coverage_hours, a, sizeof(a));
		rfmt_int(R, R->cur.hours_total, b, sizeof(b));
		rfmt_int(R, R->cur.hours_total - R->cur.coverage_hours, d,
		    sizeof(d));
		ADD(T(T_F_COVERAGE), a, b, d);
	}
	if (idx == NULL || RFIG_ZERO(&c->dev)) {
		ADD(T(T_F_NODATA), NULL, NULL, NULL);
		free(idx);
		return k;
	}
	ns = rep_svc_order(R, idx);
	rfmt_fig(R, &c->dev, a, sizeof(a));
	if (R->quarter) {
		rfmt_int(R, c->dev.max, b, sizeof(b));
		ADD(T(T_F_DEV_Q), a, b, NULL);
	}
	else if (rep_change(R, &c->dev, &R->prev.org.dev, &pct) == 0)
		ADD(T(T_F_DEV_CHANGE), a, rfmt_change(R, pct, b, sizeof(b)),
		    R->prev.label);
	else
		ADD(T(T_F_DEV), a, NULL, NULL);
	for (i = 0; i < ns && n < 3; i++)
		pick[n++] = idx[i];
	if (n > 0) {
		name_list(R, pick, n, names, sizeof(names));
		ADD(T(T_F_TOP), names, NULL, NULL);
	}
	if (rrow_conns(c) > 0) {
		for (i = 0, n = 0; i < ns && n < 2; i++)
			if (!R->svc[idx[i]].sanctioned &&
			    rrow_conns(&R->cur.svc[idx[i]]) > 0)
				pick[n++] = idx[i];
		name_list(R, pick, n, names, sizeof(names));
		rfmt_pct(R, rep_share(c->shadow, c->svc_conns), a, sizeof(a));
		ADD(T(n ? T_F_SHADOW : T_F_SHADOW_NONE), a, names, NULL);
	}
	shadow_change(R, out[k], &k);
	for (i = 0, n = 0; i < R->nnews && n < 8; i++)
		if (R->news[i].dept == (size_t)-1)
			pick[n++] = R->news[i].svc;
	name_list(R, pick, n, names, sizeof(names));
	ADD(n ? T(T_F_NEW) : T(T_F_NONEW), names, NULL, NULL);
	if (rrow_conns(&R->cur.jur[RJ_CN]) > 0) {
		rfmt_pct(R, rep_share(rrow_conns(&R->cur.jur[RJ_CN]),
		    c->svc_conns), a, sizeof(a));
		ADD(T(T_F_CN), a, NULL, NULL);
	}
	if (c->m[RM_NXDOMAIN] > 0)
		ADD(T(T_F_BLOCKED), rfmt_int(R, c->m[RM_NXDOMAIN], a,
		    sizeof(a)), NULL, NULL);
	rfmt_pct(R, rep_blind_ech_pct(R), a, sizeof(a));
	rfmt_int(R, R->blind.doh_conns, b, sizeof(b));
	rfmt_pct(R, rep_blind_unassigned_pct(R), d, sizeof(d));
	ADD(T(T_F_BLIND), a, b, d);
#undef ADD
#undef T
	free(idx);
	return k;
}
