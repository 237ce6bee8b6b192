/*
 * test_report.c - the report's promises on small release databases made
 * with the real release stage (release_publish): every figure is a
 * released cell (or a labelled sum of them), read through released.h;
 * no "<5", no "suppressed", no "at least", one glyph for every zero;
 * weeks that are not released, or in the future, are refused; quarters
 * are sums of weekly cells; every text exists in both languages.
 *
 * Database "k1": k = 1 (no protection), so the expectations are exact.
 * Database "k5": the same traffic with k = 5 and fresh week keys, so the
 * figures are perturbed: there the test compares with the cells.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "detect/catalog.h"
#include "common/cfgerr.h"
#include "out/query.h"
#include "out/report/i18n.h"
#include "common/period.h"
#include "release/release.h"
#include "release/released.h"
#include "out/report/report.h"
#include "out/report/report_fmt.h"
#include "out/report/report_model.h"
#include "aggregate/sketch.h"
#include "t.h"
#include "attribute/weekkey.h"

static char db1[64], db5[64], dbc[64];

static const char catalog_text[] =
    "version = 1;\n"
    "services = (\n"
    "  { id = \"a-chat\"; name = \"A Chat\"; vendor = \"A\"; category = "
    "\"chat\"; jurisdiction = \"US\"; domains = [ \"a.example\" ]; "
    "hosts = [ ]; },\n"
    "  { id = \"b-code\"; name = \"B Code\"; vendor = \"B\"; category = "
    "\"code\"; jurisdiction = \"EU\"; domains = [ \"b.example\" ]; "
    "hosts = [ ]; },\n"
    "  { id = \"c-chat\"; name = \"C Chat\"; vendor = \"C\"; category = "
    "\"chat\"; jurisdiction = \"CN\"; domains = [ \"c.example\" ]; "
    "hosts = [ ]; }\n"
    ");\n";

static char *const depts[] = { "A", "B", "C" };
static char *const sanct[] = { "a-chat" };

/* 2026-11-25 12:00 UTC: Wednesday of 2026-W48 */
#define NOW	1795608000

/* One leaf: department, service, devices first..last. */
struct spec {
	int	 dept, svc, first, last;
};

/*
 * 2026-W46: A x a-chat by devices 1..4.
 * 2026-W47: A x a-chat 1..5, A x b-code 11..14, B x a-chat 21..22,
 * B x b-code 21, C x a-chat 31..34, C x c-chat 35.  So A has 9 devices,
 * B 2, C 5, the organisation 16; a-chat 11, b-code 5, c-chat 1; b-code
 * and c-chat are new in W47.  Every leaf: devhours 3, tls 10, quic 2,
 * ech 1 (13 connections), dns 4, nxdomain 1, up 1000, down 5000.
 */
static const struct spec w46[] = { { 0, 0, 1, 4 } };
static const struct spec w47[] = {
	{ 0, 0, 1, 5 }, { 0, 1, 11, 14 }, { 1, 0, 21, 22 }, { 1, 1, 21, 21 },
	{ 2, 0, 31, 34 }, { 2, 2, 35, 35 }
};

static uint64_t
dev(int week, int i)
{
	return ((uint64_t)(i + 1 + week) * 0x9e3779b97f4a7c15ULL) |
	    (1ULL << 63);
}

static int
publish_week(struct reldb *r, const struct rel_dims *dims,
    const struct rel_params *p, struct weekkey *keys, int32_t week,
    const struct spec *sp, size_t n, unsigned coverage, int complete,
    int64_t at)
{
	struct sketch sk[8];
	struct rel_leaf lf[8];
	struct rel_input in;
	size_t i;
	int j, rc;

	for (i = 0; i < n; i++) {
		sketch_init(&sk[i]);
		for (j = sp[i].first; j <= sp[i].last; j++)
			sketch_add(&sk[i], dev(week, j));
		memset(&lf[i], 0, sizeof(lf[i]));
		lf[i].dept = sp[i].dept;
		lf[i].svc = sp[i].svc;
		lf[i].dev = &sk[i];
		lf[i].m[RM_DEVHOURS] = 3;
		lf[i].m[RM_TLS] = 10;
		lf[i].m[RM_QUIC] = 2;
		lf[i].m[RM_ECH] = 1;
		lf[i].m[RM_DNS] = 4;
		lf[i].m[RM_NXDOMAIN] = 1;
		lf[i].m[RM_UP] = 1000;
		lf[i].m[RM_DOWN] = 5000;
	}
	if (keys != NULL && weekkey_ensure(keys, week) != 0)
		return -1;
	memset(&in, 0, sizeof(in));
	in.kind = REL_WEEK;
	in.period = week;
	in.week = week;
	in.leaf = lf;
	in.nleaf = n;
	in.coverage_hours = coverage;
	in.hours_total = 168;
	in.complete = complete;
	/* at: when it was released; 0 at the end of the week */
	rc = release_publish(r, dims, p, &in, keys, at ? at :
	    period_week_start(week) + 7 * 86400);
	for (i = 0; i < n; i++)
		sketch_reset(&sk[i]);
	return rc == 1 ? 0 : -1;
}

/* A day of W47 with blind-spot figures only (the report reads B1). */
static int
publish_day(struct reldb *r, const struct rel_dims *dims,
    const struct rel_params *p, struct weekkey *keys, int32_t day,
    uint64_t ech, uint64_t doh)
{
	struct rel_input in;

	if (keys != NULL && weekkey_ensure(keys, 202647) != 0)
		return -1;
	memset(&in, 0, sizeof(in));
	in.kind = REL_DAY;
	in.period = day;
	in.week = 202647;
	in.blind[RB_PACKETS] = 100000;
	in.blind[RB_ECH_UNATTRIBUTED] = ech;
	in.blind[RB_DOH] = doh;
	in.blind[RB_PCAP_DROPS] = 50;
	in.blind[RB_UNREADABLE] = 3;
	in.blind[RB_CONFLICT] = 2;
	in.coverage_hours = in.hours_total = 24;
	in.complete = 1;
	return release_publish(r, dims, p, &in, keys,
	    period_day_start(day) + 86400) == 1 ? 0 : -1;
}

static int
make_db(const char *path, int k, int cover)
{
	struct rel_params p = { k };
	struct rel_dims dims;
	struct catalog *cat;
	struct weekkey *keys = NULL;
	struct reldb *r;
	struct cfgerr ce;
	char cpath[64], err[256];
	FILE *fp;
	int rc = -1;

	snprintf(cpath, sizeof(cpath), "/tmp/aic-test-report-%d.conf",
	    (int)getpid());
	if ((fp = fopen(cpath, "w")) == NULL)
		return -1;
	fputs(catalog_text, fp);
	fclose(fp);
	memset(&ce, 0, sizeof(ce));
	cat = catalog_load(cpath, &ce);
	unlink(cpath);
	unlink(path);
	if (cat == NULL || (r = reldb_open(path, err, sizeof(err))) == NULL)
		goto out;
	if (k > 1 && (keys = weekkey_open(NULL, err, sizeof(err))) == NULL)
		goto out;
	memset(&dims, 0, sizeof(dims));
	dims.dept = depts;
	dims.ndept = 3;
	dims.cat = cat;
	dims.sanctioned = sanct;
	dims.nsanct = 1;
	dims.timezone = "UTC";
	if (cover) {
		/*
		 * "dbc": 2026-W46 released with no use at all, 2026-W47 with
		 * sensor data in 4 of its 168 hours, and 2026-W48 (now's
		 * week) released early, on Wednesday, as when the sensor
		 * stops.
		 */
		if (publish_week(r, &dims, &p, keys, 202646, NULL, 0, 0, 1,
		    0) == 0 &&
		    publish_week(r, &dims, &p, keys, 202647, w47, 6, 4, 1,
		    0) == 0 &&
		    publish_week(r, &dims, &p, keys, 202648, w46, 1, 60, 0,
		    NOW - 3600) == 0)
			rc = 0;
	} else if (publish_week(r, &dims, &p, keys, 202646, w46, 1, 168, 1,
	    0) == 0 &&
	    publish_day(r, &dims, &p, keys, 20261116, 7, 3) == 0 &&
	    publish_day(r, &dims, &p, keys, 20261117, 5, 1) == 0 &&
	    publish_week(r, &dims, &p, keys, 202647, w47, 6, 160, 1, 0) == 0)
		rc = 0;
	reldb_close(r);
out:
	weekkey_close(keys);
	catalog_free(cat);
	return rc;
}

static char *
render_at(const char *path, const char *f, const char *when,
    const char *lang, int64_t now, char *err, size_t errlen)
{
	struct report_opts o;
	struct released *rel;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;
	int rc;

	report_opts_init(&o);
	if ((o.format = report_format_find(f)) == NULL) {
		snprintf(err, errlen, "no format %s", f);
		return NULL;
	}
	o.now = now;
	snprintf(o.lang, sizeof(o.lang), "%s", lang);
	if (strlen(when) > 5 && when[5] == 'Q')
		report_parse_quarter(when, &o);
	else
		report_parse_week(when, &o);
	if ((rel = released_open(path, err, errlen)) == NULL)
		return NULL;
	out = open_memstream(&buf, &len);
	rc = report_write(rel, &o, out, err, errlen);
	released_close(rel);
	fclose(out);
	if (rc != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static char *
render(const char *path, const char *f, const char *when,
    const char *lang)
{
	char err[256];
	char *s = render_at(path, f, when, lang, NOW, err, sizeof(err));

	if (s == NULL)
		fprintf(stderr, "report_write: %s\n", err);
	return s;
}

static json_t *
render_json(const char *path, const char *when)
{
	char *s = render(path, "json", when, "en");
	json_t *r = s ? json_loads(s, 0, NULL) : NULL;

	free(s);
	return r;
}

static json_t *
find(json_t *arr, const char *k1, const char *v1, const char *k2,
    const char *v2)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o) {
		const char *a = json_string_value(json_object_get(o, k1));
		const char *b = k2 ? json_string_value(json_object_get(o, k2)) :
		    NULL;

		if (a == NULL || strcmp(a, v1) != 0)
			continue;
		if (k2 && (b == NULL || strcmp(b, v2) != 0))
			continue;
		return o;
	}
	return NULL;
}

static long long
jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* A row of the report equals the released cell (dept, svc) of week. */
static int
row_is_cell(json_t *row, struct released *rel, int32_t week,
    const char *dept, const char *svc)
{
	struct rel_cell c;
	int k, bad = 0;

	if (row == NULL || released_cell(rel, REL_WEEK, week, dept, svc,
	    &c) != 0)
		return 0;
	/* the headline's devices are an object of their own */
	if (json_is_object(json_object_get(row, "devices")))
		bad |= jint(json_object_get(row, "devices"), "devices") !=
		    (long long)c.m[RM_DEVICES];
	else
		bad |= jint(row, "devices") != (long long)c.m[RM_DEVICES];
	for (k = RM_DEVICES + 1; k < RM_N; k++)
		bad |= jint(row, rel_measure_names[k]) != (long long)c.m[k];
	if (bad)
		fprintf(stderr, "row %s x %s differs from its released cell\n",
		    dept, svc);
	return !bad;
}

/* Every row of a week report is its released cell (any k). */
static void
check_week_is_cells(const char *path)
{
	json_t *r = render_json(path, "2026-W47"), *o;
	struct released *rel;
	char err[256];
	size_t i, ngrid = 0;
	const char *sv[] = { "a-chat", "b-code", "c-chat" };

	rel = released_open(path, err, sizeof(err));
	T_CHECK(r != NULL && rel != NULL);
	if (r == NULL || rel == NULL)
		goto out;
	T_CHECK(row_is_cell(json_object_get(r, "headline"), rel, 202647, "*",
	    "*"));
	for (i = 0; i < 3; i++) {
		o = find(json_object_get(r, "departments"), "department",
		    depts[i], NULL, NULL);
		T_CHECK(row_is_cell(o, rel, 202647, depts[i], "*"));
	}
	json_array_foreach(json_object_get(r, "services"), i, o)
		T_CHECK(row_is_cell(o, rel, 202647, "*",
		    json_string_value(json_object_get(o, "service"))));
	for (i = 0; i < 9; i++) {
		o = find(json_object_get(r, "cells"), "department",
		    depts[i / 3], "service", sv[i % 3]);
		/* cells are listed for the services in use */
		if (o != NULL)
			T_CHECK(row_is_cell(o, rel, 202647, depts[i / 3],
			    sv[i % 3]));
	}
	o = find(json_object_get(r, "categories"), "category", "chat", NULL,
	    NULL);
	T_CHECK(row_is_cell(o, rel, 202647, "*", "cat:chat"));
	/* the released cells used: the W1 grid but department x category */
	json_array_foreach(json_object_get(r, "released_cells"), i, o) {
		const char *d = json_string_value(json_object_get(o,
		    "department"));
		const char *s = json_string_value(json_object_get(o,
		    "service"));

		T_CHECK(d != NULL && s != NULL &&
		    row_is_cell(o, rel, 202647, d, s));
		ngrid++;
	}
	/* depts A B C unassigned *: * x (3 services + 2 categories + *),
	 * the others x (3 services + *) */
	T_EQ_INT(ngrid, 6 + 4 * 4);
out:
	if (rel != NULL)
		released_close(rel);
	json_decref(r);
}

static void
test_week_k1(void)
{
	json_t *r = render_json(db1, "2026-W47"), *h, *c, *b;

	T_CHECK(r != NULL);
	if (r == NULL)
		return;
	T_EQ_STR(json_string_value(json_object_get(r, "method")), "ckm-1");
	T_EQ_INT(jint(r, "min_group_size"), 1);
	T_EQ_INT(jint(r, "coverage_hours"), 160);
	T_EQ_INT(jint(r, "hours_total"), 168);
	h = json_object_get(r, "headline");
	/* distinct devices of the organisation, not a sum of departments */
	T_EQ_INT(jint(json_object_get(h, "devices"), "devices"), 16);
	T_EQ_INT(jint(h, "connections"), 6 * 13);
	T_EQ_INT(jint(h, "tls_conns"), 60);
	T_EQ_INT(jint(h, "departments_using"), 3);
	T_EQ_INT(jint(h, "services_used"), 3);
	T_EQ_INT(jint(h, "services_new"), 2);
	/* b-code and c-chat are shadow: 3 of 6 leaves' connections */
	T_CHECK(json_real_value(json_object_get(h, "shadow_share_pct")) ==
	    50.0);
	c = find(json_object_get(r, "departments"), "department", "A", NULL,
	    NULL);
	T_EQ_INT(jint(c, "devices"), 9);
	/* week over week: A 4 -> 9 */
	T_CHECK(json_real_value(json_object_get(c, "change_pct")) > 124.9 &&
	    json_real_value(json_object_get(c, "change_pct")) < 125.1);
	c = find(json_object_get(r, "departments"), "department", "B", NULL,
	    NULL);
	/* 2 devices are shown as 2 with k = 1: nothing is hidden */
	T_EQ_INT(jint(c, "devices"), 2);
	T_CHECK(json_object_get(c, "suppressed") == NULL);
	c = find(json_object_get(r, "services"), "service", "a-chat", NULL,
	    NULL);
	T_EQ_INT(jint(c, "devices"), 11);
	T_EQ_STR(json_string_value(json_object_get(c, "first_seen_week")),
	    "2026-W46");
	T_CHECK(json_is_false(json_object_get(c, "new")));
	c = find(json_object_get(r, "services"), "service", "c-chat", NULL,
	    NULL);
	T_EQ_INT(jint(c, "devices"), 1);
	T_CHECK(json_is_true(json_object_get(c, "new")));
	c = find(json_object_get(r, "cells"), "department", "B", "service",
	    "c-chat");
	T_CHECK(c != NULL && jint(c, "devices") == 0 &&
	    jint(c, "connections") == 0);
	c = find(json_object_get(r, "categories"), "category", "chat", NULL,
	    NULL);
	T_EQ_INT(jint(c, "devices"), 12);
	/* jurisdictions: sums of service cells, labelled derived */
	c = find(json_object_get(r, "jurisdictions"), "group", "US", NULL,
	    NULL);
	T_EQ_INT(jint(c, "connections"), 3 * 13);
	T_CHECK(json_is_true(json_object_get(c, "derived")));
	c = find(json_object_get(r, "jurisdictions"), "group", "CN", NULL,
	    NULL);
	T_EQ_INT(jint(c, "connections"), 13);
	/* first uses: b-code and c-chat; per department */
	T_EQ_INT(json_array_size(json_object_get(r, "new_services")), 2);
	T_CHECK(find(json_object_get(r, "new_in_departments"), "department",
	    "A", "service", "b-code") != NULL);
	T_CHECK(find(json_object_get(r, "new_in_departments"), "department",
	    "A", "service", "a-chat") == NULL);
	T_CHECK(find(json_object_get(r, "new_in_departments"), "department",
	    "B", "service", "b-code") != NULL);
	/* blind spots: the two released days of W47, summed */
	b = json_object_get(r, "blind_spots");
	T_EQ_INT(jint(b, "days_released"), 2);
	T_EQ_INT(jint(b, "ech_unattributed"), 12);
	T_EQ_INT(jint(b, "doh_conns"), 4);
	T_EQ_INT(jint(b, "pcap_drops"), 100);
	T_EQ_INT(jint(b, "ech_conns"), 6);
	T_EQ_INT(jint(b, "unreadable_hellos"), 6);
	T_EQ_INT(jint(b, "overlap_conflicts"), 4);
	T_CHECK(json_object_get(b, "cells_suppressed") == NULL);
	/* the trend: W40..W45 not released, W46 4 devices, W47 16 */
	c = find(json_object_get(r, "weekly"), "week", "2026-W45", NULL, NULL);
	T_CHECK(c != NULL && json_is_false(json_object_get(c, "released")) &&
	    json_object_get(c, "devices") == NULL);
	c = find(json_object_get(r, "weekly"), "week", "2026-W46", NULL, NULL);
	T_EQ_INT(jint(c, "devices"), 4);
	json_decref(r);
	check_week_is_cells(db1);
}

static void
test_week_k5(void)
{
	json_t *r = render_json(db5, "2026-W47"), *o;
	size_t i;

	T_CHECK(r != NULL);
	if (r == NULL)
		return;
	T_EQ_INT(jint(r, "min_group_size"), 5);
	/* a released count is 0 or at least k: no small number anywhere */
	json_array_foreach(json_object_get(r, "released_cells"), i, o)
		T_CHECK(jint(o, "devices") == 0 || jint(o, "devices") >= 5);
	json_array_foreach(json_object_get(r, "cells"), i, o)
		T_CHECK(jint(o, "devices") == 0 || jint(o, "devices") >= 5);
	json_decref(r);
	check_week_is_cells(db5);
}

/* No "<5", no "suppressed", no "at least", and "–" for a zero. */
static void
check_no_suppression(const char *path, const char *when)
{
	static const char *const lang[] = { "en", "nl" };
	const struct report_format *fmt;
	size_t l;

	/* every format of the table, so a new one is held to it too */
	for (fmt = report_formats; fmt->name != NULL; fmt++)
		for (l = 0; l < 2; l++) {
			char *s = render(path, fmt->name, when, lang[l]);
			int html = strcmp(fmt->name, "html") == 0;

			T_CHECK(s != NULL);
			if (s == NULL)
				continue;
			T_CHECK(strstr(s, "<5") == NULL &&
			    strstr(s, "&lt;5") == NULL &&
			    strstr(s, "\\<5") == NULL);
			T_CHECK(strstr(s, "uppress") == NULL &&
			    strstr(s, "nderdrukt") == NULL);
			T_CHECK(strstr(s, "lower_bound") == NULL &&
			    strstr(s, "\xe2\x89\xa5") == NULL);	/* ≥ */
			T_CHECK(strstr(s, "\xc2\xb7 |") == NULL);	/* · */
			if (html || strcmp(fmt->name, "md") == 0)
				T_CHECK(strstr(s, "\xe2\x80\x93") != NULL);
			if (html)
				T_CHECK(strstr(s, "<script") == NULL);
			free(s);
		}
}

static void
test_no_suppression(void)
{
	char *md, *html;

	check_no_suppression(db1, "2026-W47");
	check_no_suppression(db5, "2026-W47");
	check_no_suppression(db5, "2026-Q4");
	check_no_suppression(dbc, "2026-W47");
	/* B never used c-chat: its cell is "–" in the matrix */
	md = render(db1, "md", "2026-W47", "en");
	T_CHECK(md && strstr(md, "| C Chat | \xe2\x80\x93 | \xe2\x80\x93 | 1 |"
	    " \xe2\x80\x93 | 1 |") != NULL);
	if (md && getenv("TEST_REPORT_SHOW"))
		fputs(md, stderr);
	/* k = 1: the methodology says the figures are exact */
	T_CHECK(md && strstr(md, "they are exact") != NULL);
	T_CHECK(md && strstr(md, "linked across weeks or sites") != NULL);
	/* partial coverage and k = 1 are said in the header */
	T_CHECK(md && strstr(md, "covered 160 of 168 hours") != NULL);
	T_CHECK(md && strstr(md, "WITHOUT protection") != NULL);
	/* ClientHellos too large to read: a blind spot with its label */
	T_CHECK(md && strstr(md, "| ClientHello not readable | 6 |") != NULL);
	T_CHECK(md && strstr(md, "| Connections with conflicting copies | 4 |")
	    != NULL);
	free(md);
	html = render(db1, "html", "2026-W47", "nl");
	T_CHECK(html && strstr(html, "ClientHello niet leesbaar</td><td"
	    " class=\"n\"><b>6</b>") != NULL);
	free(html);
	/* the methodology: cell key method, rows need not add up */
	md = render(db5, "md", "2026-W47", "en");
	T_CHECK(md && strstr(md, "cell key method") != NULL);
	T_CHECK(md && strstr(md, "need not add up") != NULL);
	T_CHECK(md && strstr(md, "shows as \xe2\x80\x9c\xe2\x80\x93\xe2\x80\x9d or"
	    " as 5") != NULL);
	T_CHECK(md && strstr(md, "they are exact") == NULL);
	free(md);
	html = render(db5, "html", "2026-W47", "nl");
	T_CHECK(html && strstr(html, "celsleutelmethode") != NULL);
	T_CHECK(html && strstr(html, "Kernpunten") != NULL);
	T_CHECK(html && strstr(html, "ZONDER bescherming") == NULL);
	free(html);
}

static void
test_quarter(void)
{
	json_t *r = render_json(db1, "2026-Q4"), *h, *w, *c;
	char *md;

	T_CHECK(r != NULL);
	if (r == NULL)
		return;
	/* ISO weeks with their Thursday in Oct..Dec 2026: W40..W53 */
	w = json_object_get(r, "weeks");
	T_EQ_INT(json_array_size(w), 14);
	T_EQ_STR(json_string_value(json_array_get(w, 0)), "2026-W40");
	T_EQ_STR(json_string_value(json_array_get(w, 13)), "2026-W53");
	T_EQ_INT(jint(r, "weeks_released"), 2);
	T_CHECK(json_is_true(json_object_get(r, "derived")));
	h = json_object_get(r, "headline");
	/* device-weeks (4 + 16), never distinct devices over the quarter */
	T_EQ_INT(jint(json_object_get(h, "devices"), "device_weeks"), 20);
	T_EQ_INT(jint(json_object_get(h, "devices"), "devices_peak_week"),
	    16);
	T_CHECK(json_real_value(json_object_get(json_object_get(h, "devices"),
	    "devices_avg_week")) == 10.0);
	/* counts: sums of the weekly organisation cells */
	T_EQ_INT(jint(h, "connections"), 13 + 78);
	T_CHECK(json_is_true(json_object_get(h, "derived")));
	c = find(json_object_get(r, "departments"), "department", "A", NULL,
	    NULL);
	T_EQ_INT(jint(c, "device_weeks"), 4 + 9);
	T_EQ_INT(jint(c, "bytes_up"), 1000 + 2000);
	json_decref(r);
	md = render(db1, "md", "2026-Q4", "en");
	T_CHECK(md && strstr(md, "2 of the quarter's 14 weeks are released") !=
	    NULL);
	T_CHECK(md && strstr(md, "| 2026-W48 | not released | |") != NULL);
	T_CHECK(md && strstr(md, "device-weeks") != NULL);
	free(md);
}

/* The quarter's sums equal the sums of its released weekly cells (k5). */
static void
test_quarter_sums_k5(void)
{
	json_t *r = render_json(db5, "2026-Q4"), *h;
	struct released *rel;
	struct rel_cell a, b;
	char err[256];
	int k;

	rel = released_open(db5, err, sizeof(err));
	T_CHECK(r != NULL && rel != NULL);
	if (r == NULL || rel == NULL)
		goto out;
	T_EQ_INT(released_cell(rel, REL_WEEK, 202646, "*", "*", &a), 0);
	T_EQ_INT(released_cell(rel, REL_WEEK, 202647, "*", "*", &b), 0);
	h = json_object_get(r, "headline");
	for (k = RM_DEVICES + 1; k < RM_N; k++)
		T_EQ_INT(jint(h, rel_measure_names[k]), a.m[k] + b.m[k]);
	T_EQ_INT(jint(json_object_get(h, "devices"), "device_weeks"),
	    a.m[RM_DEVICES] + b.m[RM_DEVICES]);
out:
	if (rel != NULL)
		released_close(rel);
	json_decref(r);
}

static void
test_refused(void)
{
	char err[256], *s;

	/* now is in W48: not released yet */
	s = render_at(db1, "html", "2026-W48", "en", NOW, err,
	    sizeof(err));
	T_CHECK(s == NULL);
	T_EQ_STR(err, "week 2026-W48 is not released yet; weeks are released"
	    " at the end of the ISO week");
	free(s);
	s = render_at(db1, "md", "2026-W49", "en", NOW, err, sizeof(err));
	T_CHECK(s == NULL && strstr(err, "2026-W49 is in the future") != NULL);
	free(s);
	/* a week long gone but never released (before the sensor ran) */
	s = render_at(db1, "json", "2026-W10", "en", NOW, err,
	    sizeof(err));
	T_CHECK(s == NULL && strstr(err, "2026-W10 is not released") != NULL);
	free(s);
	s = render_at(db1, "json", "2027-Q1", "en", NOW, err,
	    sizeof(err));
	T_CHECK(s == NULL && strstr(err, "2027-Q1 is in the future") != NULL);
	free(s);
	s = render_at(db1, "json", "2026-Q3", "en", NOW, err,
	    sizeof(err));
	T_CHECK(s == NULL && strstr(err, "no released week") != NULL);
	free(s);
}

static void
test_options(void)
{
	struct report_opts o;
	const struct report_format *f;
	struct released *rel;
	size_t n = 0;
	char b[32], err[128];

	report_opts_init(&o);
	T_EQ_INT(report_parse_week("2026-W47", &o), 0);
	T_EQ_INT(o.week, 202647);
	T_EQ_INT(report_parse_week("last", &o), 0);
	T_EQ_INT(o.week, 0);
	T_EQ_INT(report_parse_week("2026-W54", &o), -1);
	T_EQ_INT(report_parse_quarter("2026-Q4", &o), 0);
	T_EQ_INT(o.quarter, 4);
	T_EQ_INT(report_parse_quarter("2026-Q5", &o), -1);
	/* the table: names and aliases found, nothing else, all complete */
	T_CHECK(o.format == &report_formats[0] &&
	    strcmp(o.format->name, "html") == 0);
	T_CHECK((f = report_format_find("md")) != NULL &&
	    strcmp(f->ext, "md") == 0);
	T_CHECK(report_format_find("markdown") == f);
	T_CHECK(report_format_find("pdf") == NULL);
	T_CHECK(report_format_find("") == NULL);
	for (f = report_formats; f->name != NULL; f++, n++) {
		T_CHECK(report_format_find(f->name) == f);
		T_CHECK(f->ext != NULL && f->mime != NULL &&
		    f->render != NULL);
	}
	T_EQ_INT((int)n, 4);
	rel = released_open(db1, err, sizeof(err));
	T_CHECK(rel != NULL);
	if (rel == NULL)
		return;
	/* "last" week: the last released one, whatever now is */
	report_opts_init(&o);
	o.now = NOW + 30 * 86400;
	T_EQ_INT(report_period_label(rel, &o, b, sizeof(b), err, sizeof(err)),
	    0);
	T_EQ_STR(b, "2026-W47");
	/* "last" quarter: the one before now's */
	report_parse_quarter("last", &o);
	o.now = NOW;
	T_EQ_INT(report_period_label(rel, &o, b, sizeof(b), err, sizeof(err)),
	    0);
	T_EQ_STR(b, "2026-Q3");
	o.now = 1798761600;	/* 2027-01-01: Q4 of the year before */
	T_EQ_INT(report_period_label(rel, &o, b, sizeof(b), err, sizeof(err)),
	    0);
	T_EQ_STR(b, "2026-Q4");
	released_close(rel);
}

static void
test_i18n(void)
{
	char buf[64];
	int m, l;

	for (l = 0; l < LANG_N; l++)
		for (m = 0; m < T_N; m++)
			T_CHECK(i18n((enum lang)l, (enum msg)m)[0] != '\0');
	T_EQ_STR(i18n_fill(buf, sizeof(buf), "{2} of {1}", "6", "4", NULL),
	    "4 of 6");
	T_EQ_STR(i18n_fill(buf, 5, "{1}{1}{1}", "abc", NULL, NULL), "abca");
	T_EQ_STR(i18n_month(LANG_NL, 11), "november");
	T_EQ_STR(i18n_category(LANG_NL, "writing"), "Schrijven en vertalen");
}

static void
test_numbers(void)
{
	struct report R;
	struct rfig f;
	char b[64];

	memset(&R, 0, sizeof(R));
	R.lang = LANG_EN;
	T_EQ_STR(rfmt_int(&R, 1234567, b, sizeof(b)), "1,234,567");
	T_EQ_STR(rfmt_pct(&R, 46.66, b, sizeof(b)), "46.7%");
	/* one glyph for every zero */
	T_EQ_STR(rfmt_cnt(&R, 0, b, sizeof(b)), "\xe2\x80\x93");
	T_EQ_STR(rfmt_vol(&R, 0, b, sizeof(b)), "\xe2\x80\x93");
	T_EQ_STR(rfmt_cnt(&R, 5, b, sizeof(b)), "5");
	memset(&f, 0, sizeof(f));
	T_EQ_STR(rfmt_fig(&R, &f, b, sizeof(b)), "\xe2\x80\x93");
	f.max = f.sum = 7;
	T_EQ_STR(rfmt_fig(&R, &f, b, sizeof(b)), "7");
	R.lang = LANG_NL;
	T_EQ_STR(rfmt_int(&R, 1234567, b, sizeof(b)), "1.234.567");
	T_EQ_STR(rfmt_pct(&R, 46.66, b, sizeof(b)), "46,7%");
	T_EQ_STR(rfmt_bytes(&R, 3448367704ULL, b, sizeof(b)), "3,4\xc2\xa0GB");
	T_EQ_STR(rfmt_change(&R, -4, b, sizeof(b)), "\xe2\x88\x92" "4,0%");
	T_EQ_STR(rfmt_range(&R, 20261116, 20261122, b, sizeof(b)),
	    "16\xe2\x80\x93" "22 november 2026");
	/* a week across two months, and across two years */
	T_EQ_STR(rfmt_range(&R, 20260928, 20261004, b, sizeof(b)),
	    "28 september \xe2\x80\x93 4 oktober 2026");
	T_EQ_STR(rfmt_range(&R, 20261228, 20270103, b, sizeof(b)),
	    "28 december 2026 \xe2\x80\x93 3 januari 2027");
	T_EQ_STR(rfmt_daymonth(&R, 20270103, b, sizeof(b)), "3 januari");
}

/*
 * The report's "released_cells" are rows of `aicensus query` in its one
 * encoding (query_row_json): every department x service cell of the
 * week equals the query's row for it, key for key and value for value.
 */
static void
test_cells_as_query(void)
{
	json_t *rep = render_json(db1, "2026-W47"), *cells, *c = NULL, *row;
	struct released *rel;
	struct query q;
	struct qresult r;
	char err[256];
	size_t i, j, n = 0;

	T_CHECK(rep != NULL);
	if (rep == NULL)
		return;
	cells = json_object_get(rep, "released_cells");
	T_CHECK(json_array_size(cells) > 0);
	memset(&q, 0, sizeof(q));
	T_EQ_INT(query_parse_by("department,service,week", &q, err,
	    sizeof(err)), 0);
	q.from_day = q.to_day = 20261118;
	rel = released_open(db1, err, sizeof(err));
	T_CHECK(rel != NULL);
	if (rel == NULL || query_run(rel, &q, &r, err, sizeof(err)) != 0) {
		T_CHECK(0);
		released_close(rel);
		json_decref(rep);
		return;
	}
	T_CHECK(r.n > 0);
	for (i = 0; i < r.n; i++) {
		row = query_row_json(&r.rows[i], r.derived);
		json_array_foreach(cells, j, c)
			if (strcmp(json_string_value(json_object_get(c,
			    "department")), r.rows[i].dept) == 0 &&
			    strcmp(json_string_value(json_object_get(c,
			    "service")), r.rows[i].svc) == 0)
				break;
		T_CHECK(j < json_array_size(cells) && json_equal(c, row));
		n += j < json_array_size(cells);
		json_decref(row);
	}
	T_EQ_INT((int)n, (int)r.n);
	/* a day row carries the day's measures only, a week row all */
	row = query_row_json(&r.rows[0], 0);
	T_EQ_INT((int)json_object_size(row), 4 + RM_N);
	json_decref(row);
	r.rows[0].published = REL_DAY_MEASURES;
	r.rows[0].kind = REL_DAY;
	r.rows[0].period = 20261118;
	row = query_row_json(&r.rows[0], 0);
	T_EQ_STR(json_string_value(json_object_get(row, "kind")), "day");
	T_EQ_STR(json_string_value(json_object_get(row, "period")),
	    "2026-11-18");
	T_CHECK(json_object_get(row, "tls_conns") == NULL &&
	    json_object_get(row, "connections") != NULL);
	json_decref(row);
	query_free(&r);
	released_close(rel);
	json_decref(rep);
}


/* s has needle; a NULL s (a failed render) has nothing. */
static int
has(const char *s, const char *needle)
{
	return s != NULL && strstr(s, needle) != NULL;
}

/*
 * A headline card says either that there is no comparison or gives one,
 * never both: no card's line holds "no comparison" and "vs." together.
 */
static int
cards_one_sentence(const char *html)
{
	const char *p = html, *e;

	while (p != NULL && (p = strstr(p, "<div class=\"d\">")) != NULL) {
		char line[512];
		size_t n;

		p += 15;
		if ((e = strstr(p, "</div>")) == NULL)
			return 0;
		n = (size_t)(e - p) < sizeof(line) - 1 ? (size_t)(e - p) :
		    sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		if ((strstr(line, "no comparison") != NULL &&
		    strstr(line, "vs.") != NULL) ||
		    (strstr(line, "geen vergelijking") != NULL &&
		    strstr(line, "t.o.v.") != NULL))
			return 0;
		p = e;
	}
	return 1;
}

static void
test_wording(void)
{
	static const char *const dbs[] = { db1, db5, dbc };
	static const char *const lang[] = { "en", "nl" };
	char *s;
	size_t d, l;

	for (d = 0; d < 3; d++)
		for (l = 0; l < 2; l++) {
			s = render(dbs[d], "html", "2026-W47", lang[l]);
			T_CHECK(s != NULL && cards_one_sentence(s));
			/* zeros are "–", explained in the legend */
			T_CHECK(has(s, l ? "„–”: geen gebruik, of te weinig"
			    " apparaten om te tonen" : "“–”: none, or too few"
			    " devices to show"));
			T_CHECK(!has(s, "\xe2\x89\xa5 0") && !has(s,
			    "\xe2\x89\xa5"));
			free(s);
		}
	/* dbc: 2026-W46 released without any use: no figure to compare */
	s = render(dbc, "html", "2026-W47", "en");
	T_CHECK(has(s, "<div class=\"d\">no comparison with 2026-W46</div>"));
	T_CHECK(!has(s, "vs. 2026-W46:"));
	free(s);
	s = render(dbc, "html", "2026-W47", "nl");
	T_CHECK(has(s, "<div class=\"d\">geen vergelijking met 2026-W46"
	    "</div>"));
	T_CHECK(!has(s, "t.o.v. 2026-W46:"));
	free(s);
	/* a comparison is given with the previous week's figure */
	s = render(db1, "html", "2026-W47", "en");
	T_CHECK(has(s, "</b> vs. 2026-W46: 4</div>"));
	T_CHECK(!has(s, "no comparison"));
	free(s);
	s = render(db1, "md", "2026-W47", "en");
	T_CHECK(has(s, "_\xe2\x80\x9c\xe2\x80\x93\xe2\x80\x9d: none, or too"
	    " few devices to show"));
	free(s);
}

/* Netherlands Dutch, and nothing left in English. */
static void
test_dutch(void)
{
	static const char *const fmts[] = { "html", "md" };
	static const char *const bad[] = { "versleutelde hash",
	    "niet-toegewezen", "Niet-toegewezen", "opzoeking", "Opzoeking",
	    "niet-gekoppelde", "unassigned", "Unassigned", "lookups",
	    "Shadow", "devices", "not released", "no comparison",
	    "blokkadelijst", "lokaas", "apparaat-weken", "Apparaat-weken" };
	size_t f, i;
	char *s;

	for (f = 0; f < 2; f++) {
		s = render(db1, fmts[f], "2026-W47", "nl");
		T_CHECK(has(s, "gesleutelde hash van zijn adres"));
		T_CHECK(has(s, "zoekopdrachten"));
		/* the blind-spot row of the unmapped addresses */
		T_CHECK(has(s, "Verbindingen vanaf adressen buiten elke"
		    " afdeling (afdeling „Niet toegewezen”)"));
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (has(s, bad[i])) {
				fprintf(stderr, "nl %s: '%s'\n", fmts[f],
				    bad[i]);
				T_CHECK(0);
			}
		free(s);
	}
	s = render(db1, "md", "2026-W47", "nl");
	T_CHECK(has(s, "| Geblokkeerde zoekopdrachten |"));
	free(s);
}

static void
test_shadow_change(void)
{
	json_t *r, *h;
	char *s;

	/* W46: a-chat only (sanctioned), 0 %; W47: 50 % */
	s = render(db1, "md", "2026-W47", "en");
	T_CHECK(has(s, "- The shadow share rose by 50.0 percentage points"
	    " compared with 2026-W46 (then 0.0%).\n"));
	free(s);
	s = render(db1, "html", "2026-W47", "nl");
	T_CHECK(has(s, "<li>Het aandeel schaduw-AI steeg met 50,0"
	    " procentpunt ten opzichte van 2026-W46 (toen 0,0%).</li>"));
	free(s);
	r = render_json(db1, "2026-W47");
	h = json_object_get(r, "headline");
	T_CHECK(json_real_value(json_object_get(h, "shadow_share_change_pp"))
	    == 50.0);
	T_CHECK(json_is_real(json_object_get(h, "shadow_share_previous_pct"))
	    && json_real_value(json_object_get(h,
	    "shadow_share_previous_pct")) == 0.0);
	json_decref(r);
	/* the week before W46 has no released figures: said plainly */
	s = render(db1, "md", "2026-W46", "en");
	T_CHECK(has(s, "- The shadow share cannot be compared with 2026-W45:"
	    " no figures of 2026-W45 are released.\n"));
	free(s);
	s = render(db1, "md", "2026-W46", "nl");
	T_CHECK(has(s, "- Het aandeel schaduw-AI is niet te vergelijken met"
	    " 2026-W45: van 2026-W45 zijn geen cijfers vrijgegeven.\n"));
	free(s);
	r = render_json(db1, "2026-W46");
	h = json_object_get(r, "headline");
	T_CHECK(h != NULL && json_is_null(json_object_get(h,
	    "shadow_share_change_pp")));
	json_decref(r);
	/* released, but no connections in it */
	s = render(dbc, "md", "2026-W47", "en");
	T_CHECK(has(s, "- The shadow share cannot be compared with 2026-W46:"
	    " it had no connections to AI services.\n"));
	free(s);
	/* dbc W48 (a-chat only) after W47 (50 %): a fall */
	s = render(dbc, "md", "2026-W48", "en");
	T_CHECK(has(s, "- The shadow share fell by 50.0 percentage points"
	    " compared with 2026-W47 (then 50.0%).\n"));
	free(s);
}

static void
test_coverage(void)
{
	json_t *r;
	char *s;

	/* 4 of 168 hours: in the header and as the first key point */
	s = render(dbc, "md", "2026-W47", "en");
	T_CHECK(has(s, "\n**Incomplete coverage:** the sensor covered 4 of 168"
	    " hours of this period (hours with sensor data); the figures"
	    " cover those hours only.\n"));
	T_CHECK(has(s, "## Key points\n\n- Incomplete coverage: the sensor"
	    " covered 4 of 168 hours of this period, so these figures say"
	    " nothing about the other 164 hours.\n"));
	free(s);
	s = render(dbc, "md", "2026-W47", "nl");
	T_CHECK(has(s, "\n**Onvolledige dekking:** de sensor dekte 4 van de"
	    " 168 uur van deze periode"));
	T_CHECK(has(s, "## Kernpunten\n\n- Onvolledige dekking: de sensor"
	    " dekte 4 van de 168 uur van deze periode; over de andere 164"
	    " uur zeggen deze cijfers niets.\n"));
	free(s);
	s = render(dbc, "html", "2026-W47", "en");
	T_CHECK(has(s, "<p class=\"warn\">Incomplete coverage: the sensor"
	    " covered 4 of 168 hours"));
	T_CHECK(has(s, "<li>Incomplete coverage: the sensor covered 4 of 168"
	    " hours"));
	free(s);
	r = render_json(dbc, "2026-W47");
	T_CHECK(json_is_true(json_object_get(r, "coverage_incomplete")));
	T_CHECK(json_is_false(json_object_get(r, "unfinished")));
	T_EQ_INT(jint(r, "coverage_hours"), 4);
	json_decref(r);
	/* a fully covered week says nothing of the kind */
	s = render(db1, "md", "2026-W46", "en");
	T_CHECK(s != NULL && !has(s, "ncomplete coverage") &&
	    !has(s, "not over yet"));
	free(s);
	r = render_json(db1, "2026-W46");
	T_CHECK(json_is_false(json_object_get(r, "coverage_incomplete")));
	json_decref(r);
}

static void
test_unfinished(void)
{
	char err[256], *s;
	json_t *r;

	/* now's week, released early: written, with a warning on top */
	s = render(dbc, "md", "2026-W48", "en");
	T_CHECK(has(s, "\n**2026-W48 is not over yet (it ends on 29 November"
	    " 2026): the figures cover only part of it.**\n"));
	T_CHECK(has(s, "Released before the end of its period"));
	free(s);
	s = render(dbc, "html", "2026-W48", "nl");
	T_CHECK(has(s, "<p class=\"warn\">2026-W48 is nog niet voorbij (einde:"
	    " 29 november 2026): de cijfers gaan maar over een deel"
	    " ervan.</p>"));
	free(s);
	r = render_json(dbc, "2026-W48");
	T_CHECK(json_is_true(json_object_get(r, "unfinished")));
	json_decref(r);
	/* the same week read after its end: no warning */
	s = render_at(dbc, "md", "2026-W48", "en", NOW + 7 * 86400, err,
	    sizeof(err));
	T_CHECK(s != NULL && !has(s, "not over yet"));
	free(s);
	/* the current quarter */
	s = render(db1, "md", "2026-Q4", "en");
	T_CHECK(has(s, "**2026-Q4 is not over yet (it ends on 3 January"
	    " 2027)"));
	free(s);
	s = render(db1, "md", "2026-W47", "en");
	T_CHECK(s != NULL && !has(s, "not over yet"));
	free(s);
	/* the future: refused, the week named */
	s = render_at(dbc, "md", "2026-W49", "en", NOW, err, sizeof(err));
	T_CHECK(s == NULL);
	T_EQ_STR(err, "week 2026-W49 is in the future");
	free(s);
}

/* English CSV as before; Dutch CSV as Dutch Excel reads it. */
static void
test_csv_dialect(void)
{
	char *en = render(db1, "csv", "2026-W47", "en");
	char *nl = render(db1, "csv", "2026-W47", "nl");

	T_CHECK(en != NULL && strncmp(en, "period,section,department,"
	    "service,category,jurisdiction,metric,value,flag\n", 65) == 0);
	T_CHECK(has(en, "\n2026-W47,headline,,,,,shadow_share_pct,50.0,\n"));
	T_CHECK(has(en, "\n2026-W47,headline,,,,,shadow_share_change_pp,"
	    "50.0,\n"));
	T_CHECK(nl != NULL && strncmp(nl, "\xef\xbb\xbfperiod;section;"
	    "department;service;category;jurisdiction;metric;value;flag\n",
	    68) == 0);
	T_CHECK(has(nl, "\n2026-W47;headline;;;;;shadow_share_pct;50,0;\n"));
	T_CHECK(has(nl, "\n2026-W47;headline;;;;;devices;16;\n"));
	T_CHECK(has(nl, "\n2026-W47;meta;;;;;language;nl;\n"));
	T_CHECK(!has(nl, ",headline,") && !has(nl, "50.0"));
	free(en);
	free(nl);
}

int
main(void)
{
	snprintf(db1, sizeof(db1), "/tmp/aic-test-report1-%d.db",
	    (int)getpid());
	snprintf(db5, sizeof(db5), "/tmp/aic-test-report5-%d.db",
	    (int)getpid());
	period_set_tz("UTC");
	snprintf(dbc, sizeof(dbc), "/tmp/aic-test-reportc-%d.db",
	    (int)getpid());
	if (make_db(db1, 1, 0) != 0 || make_db(db5, 5, 0) != 0 ||
	    make_db(dbc, 1, 1) != 0) {
		fprintf(stderr, "cannot make the test databases\n");
		return 1;
	}
	T_RUN(test_week_k1);
	T_RUN(test_week_k5);
	T_RUN(test_no_suppression);
	T_RUN(test_quarter);
	T_RUN(test_quarter_sums_k5);
	T_RUN(test_refused);
	T_RUN(test_options);
	T_RUN(test_cells_as_query);
	T_RUN(test_i18n);
	T_RUN(test_numbers);
	T_RUN(test_wording);
	T_RUN(test_dutch);
	T_RUN(test_shadow_change);
	T_RUN(test_coverage);
	T_RUN(test_unfinished);
	T_RUN(test_csv_dialect);
	unlink(db1);
	unlink(db5);
	unlink(dbc);
	return T_DONE();
}
