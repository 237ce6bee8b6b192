/*
 * test_report.c - the report's promises on a small database made with the
 * real store: suppressed cells never show as a number (in any format), a
 * total that would give a suppressed cell away is cut to a lower bound,
 * first uses in suppressed cells stay unlisted, weeks and quarters, and
 * every text exists in both languages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "agg.h"
#include "catalog.h"
#include "i18n.h"
#include "period.h"
#include "report.h"
#include "report_model.h"
#include "store.h"
#include "t.h"
#include "weekkey.h"

static char dbpath[] = "/tmp/aic-test-report.XXXXXX";

/* n devices of department d use service s in the hour at t */
static void
use(struct agg *agg, struct weekkey *dk, int64_t t, int d, int s, int n,
    int first)
{
	struct period p;
	struct agg_cell *c;
	uint8_t a[16] = { [10] = 0xff, [11] = 0xff, [12] = 10 };
	int i;

	period_of(t, &p);
	c = agg_cell(agg, &p, d, s);
	c->c[C_TLS] += 10;
	c->c[C_DNS] += 4;
	c->c[C_NXDOMAIN] += 1;
	c->c[C_UP] += 1000;
	for (i = 0; i < n; i++) {
		a[13] = (uint8_t)d;
		a[15] = (uint8_t)(first + i);
		agg_device(agg, &p, d, s, weekkey_devhash(dk, p.week, a));
	}
}

/*
 * Departments A, B and C, min group 4, UTC.
 * 2026-W46: A x svc-0 by 4.
 * 2026-W47: A x svc-0 by 5 and x svc-1 by 4 others (a first use): A has 9;
 * B x svc-0 by 2 and x svc-1 by one of them (suppressed, a first use):
 * B has 2 (suppressed); C x svc-0 by 4 and x svc-2 by one more
 * (suppressed): C has 5, but 5 - 4 would reveal that one.
 */
static int
make_db(void)
{
	char *names[] = { "A", "B", "C" };
	struct catalog *cat = catalog_synthetic(3);
	char err[256];
	struct store *st;
	struct agg *agg = agg_new(10000, 1 << 24);
	struct weekkey *dk = weekkey_open(NULL, err, sizeof(err));
	int64_t w46 = 1794182400, w47 = 1794787200;	/* Mondays, UTC */
	struct period p;
	int fd = mkstemp(dbpath);

	if (fd < 0 || cat == NULL || agg == NULL || dk == NULL)
		return -1;
	close(fd);
	unlink(dbpath);
	period_set_tz("UTC");
	if ((st = store_open(dbpath, err, sizeof(err))) == NULL ||
	    store_set_dims(st, names, 3, cat, NULL, 0, "UTC", 4) != 0)
		return -1;
	use(agg, dk, w46 + 10 * 3600, 0, 0, 4, 0);
	store_flush(st, agg, w46 + 11 * 3600);
	use(agg, dk, w47 + 10 * 3600, 0, 0, 5, 0);
	use(agg, dk, w47 + 10 * 3600, 1, 0, 2, 0);
	use(agg, dk, w47 + 10 * 3600, 2, 0, 4, 0);
	use(agg, dk, w47 + 34 * 3600, 0, 1, 4, 10);
	use(agg, dk, w47 + 34 * 3600, 1, 1, 1, 0);
	use(agg, dk, w47 + 34 * 3600, 2, 2, 1, 20);
	period_of(w47 + 10 * 3600, &p);
	agg_blind(agg, &p, BL_ECH_UNATTRIBUTED, 7);
	agg_blind(agg, &p, BL_DOH, 3);
	store_flush(st, agg, w47 + 35 * 3600);
	store_close(st);
	agg_free(agg);
	weekkey_close(dk);
	catalog_free(cat);
	return 0;
}

static char *
render(enum report_format f, const char *when, const char *lang)
{
	struct report_opts o;
	sqlite3 *db;
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int rc;

	report_opts_init(&o);
	o.format = f;
	o.now = 1795510800;
	snprintf(o.lang, sizeof(o.lang), "%s", lang);
	if (when[5] == 'Q')
		report_parse_quarter(when, &o);
	else
		report_parse_week(when, &o);
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		return NULL;
	rc = report_write(db, &o, out, err, sizeof(err));
	sqlite3_close(db);
	fclose(out);
	if (rc != 0) {
		fprintf(stderr, "report_write: %s\n", err);
		free(buf);
		return NULL;
	}
	return buf;
}

static json_t *
find(json_t *arr, const char *k1, const char *v1, const char *k2,
    const char *v2)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o) {
		if (strcmp(json_string_value(json_object_get(o, k1)), v1) != 0)
			continue;
		if (k2 && strcmp(json_string_value(json_object_get(o, k2)),
		    v2) != 0)
			continue;
		return o;
	}
	return NULL;
}

static void
test_week_json(void)
{
	char *s = render(REPORT_JSON, "2026-W47", "en");
	json_t *r, *c, *h, *v;

	T_CHECK(s != NULL);
	if (s == NULL)
		return;
	r = json_loads(s, 0, NULL);
	T_CHECK(r != NULL);
	h = json_object_get(r, "headline");
	/*
	 * The organisation has 16 devices; the departments shown are A (9)
	 * and C (cut to 4), and 16 - 13 would reveal B's and C's hidden
	 * ones: the report says "at least 13".
	 */
	v = json_object_get(h, "devices");
	T_EQ_INT(json_integer_value(json_object_get(v, "devices")), 13);
	T_CHECK(json_is_true(json_object_get(v, "devices_lower_bound")));
	/* counts are sums of shown cells only: three cells of 10 */
	T_EQ_INT(json_integer_value(json_object_get(h, "tls_conns")), 30);
	T_EQ_INT(json_integer_value(json_object_get(h, "departments_using")),
	    2);
	c = find(json_object_get(r, "cells"), "department", "B", "service",
	    "svc-0");
	T_CHECK(c != NULL && json_is_true(json_object_get(c, "suppressed")));
	T_CHECK(c != NULL && json_object_get(c, "devices") == NULL &&
	    json_object_get(c, "tls_conns") == NULL);
	/* svc-0: 11 in all, but 11 - 9 = 2 would be B's suppressed cell */
	c = find(json_object_get(r, "services"), "service", "svc-0", NULL,
	    NULL);
	T_EQ_INT(json_integer_value(json_object_get(c, "devices")), 9);
	T_CHECK(json_is_true(json_object_get(c, "devices_lower_bound")));
	/* C: 5 devices, but its one shown cell has 4 */
	c = find(json_object_get(r, "departments"), "department", "C", NULL,
	    NULL);
	T_EQ_INT(json_integer_value(json_object_get(c, "devices")), 4);
	T_CHECK(json_is_true(json_object_get(c, "devices_lower_bound")));
	T_CHECK(json_is_true(json_object_get(c, "counts_partial")));
	/* B: suppressed whole, no count at all */
	c = find(json_object_get(r, "departments"), "department", "B", NULL,
	    NULL);
	T_CHECK(json_is_true(json_object_get(c, "suppressed")) &&
	    json_object_get(c, "connections") == NULL);
	/* week over week: A 4 -> 9 */
	c = find(json_object_get(r, "departments"), "department", "A", NULL,
	    NULL);
	T_CHECK(json_real_value(json_object_get(c, "change_pct")) > 124.9 &&
	    json_real_value(json_object_get(c, "change_pct")) < 125.1);
	/* first uses: svc-1 in the organisation and in A, not in B */
	T_EQ_INT(json_array_size(json_object_get(r, "new_services")), 1);
	T_CHECK(find(json_object_get(r, "new_in_departments"), "department",
	    "A", "service", "svc-1") != NULL);
	T_CHECK(find(json_object_get(r, "new_in_departments"), "department",
	    "B", "service", "svc-1") == NULL);
	v = json_object_get(r, "blind_spots");
	T_EQ_INT(json_integer_value(json_object_get(v, "ech_unattributed")), 7);
	T_EQ_INT(json_integer_value(json_object_get(v, "doh_conns")), 3);
	T_EQ_INT(json_integer_value(json_object_get(v, "cells_suppressed")), 3);
	json_decref(r);
	free(s);
}

static void
test_suppressed_everywhere(void)
{
	char *csv = render(REPORT_CSV, "2026-W47", "en");
	char *html = render(REPORT_HTML, "2026-W47", "nl");
	char *md = render(REPORT_MD, "2026-W47", "en");

	T_CHECK(csv && strstr(csv, "2026-W47,cell,B,svc-0,other,other,devices,"
	    "<4,suppressed\n") != NULL);
	T_CHECK(csv && strstr(csv, "2026-W47,cell,B,svc-0,other,other,"
	    "tls_conns,<4,suppressed\n") != NULL);
	T_CHECK(csv && strstr(csv, "cell,B,svc-0,other,other,devices,0") ==
	    NULL);
	T_CHECK(csv && strstr(csv, "service,,svc-0,other,other,devices,9,"
	    "lower_bound\n") != NULL);
	T_CHECK(html && strstr(html, "<td class=\"n sup\">&lt;4</td>") != NULL);
	T_CHECK(html && strstr(html, "<script") == NULL);
	T_CHECK(html && strstr(html, "Kernpunten") != NULL);
	T_CHECK(md && strstr(md, "| \\<4 |") != NULL);
	free(csv);
	free(html);
	free(md);
}

static void
test_quarter(void)
{
	char *s = render(REPORT_JSON, "2026-Q4", "en");
	json_t *r = s ? json_loads(s, 0, NULL) : NULL, *h, *w;

	T_CHECK(r != NULL);
	if (r == NULL)
		return;
	/* ISO weeks with their Thursday in Oct..Dec 2026: W40..W53 */
	w = json_object_get(r, "weeks");
	T_EQ_INT(json_array_size(w), 14);
	T_EQ_STR(json_string_value(json_array_get(w, 0)), "2026-W40");
	T_EQ_STR(json_string_value(json_array_get(w, 13)), "2026-W53");
	T_EQ_INT(json_integer_value(json_object_get(r, "weeks_with_data")), 2);
	h = json_object_get(json_object_get(r, "headline"), "devices");
	/* never merged across weeks: peak 13, average (4 + 13) / 2 */
	T_EQ_INT(json_integer_value(json_object_get(h, "devices_peak_week")),
	    13);
	T_CHECK(json_real_value(json_object_get(h, "devices_avg_week")) == 8.5);
	json_decref(r);
	free(s);
}

static void
test_options(void)
{
	struct report_opts o;
	enum report_format f;
	sqlite3 *db;
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
	T_EQ_INT(report_format_parse("md", &f), 0);
	T_EQ_INT(f, REPORT_MD);
	T_EQ_INT(report_format_parse("pdf", &f), -1);
	/* "last" is the week or quarter before the one of now, 2026-11-24 */
	T_CHECK(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK);
	report_opts_init(&o);
	o.now = 1795510800;
	T_EQ_INT(report_period_label(db, &o, b, sizeof(b), err, sizeof(err)),
	    0);
	T_EQ_STR(b, "2026-W47");
	report_parse_quarter("last", &o);
	T_EQ_INT(report_period_label(db, &o, b, sizeof(b), err, sizeof(err)),
	    0);
	T_EQ_STR(b, "2026-Q3");
	o.now = 1798761600;	/* 2027-01-01: Q4 of the year before */
	T_EQ_INT(report_period_label(db, &o, b, sizeof(b), err, sizeof(err)),
	    0);
	T_EQ_STR(b, "2026-Q4");
	sqlite3_close(db);
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
	char b[64];

	memset(&R, 0, sizeof(R));
	R.lang = LANG_EN;
	T_EQ_STR(rfmt_int(&R, 1234567, b, sizeof(b)), "1,234,567");
	T_EQ_STR(rfmt_pct(&R, 46.66, b, sizeof(b)), "46.7%");
	R.lang = LANG_NL;
	T_EQ_STR(rfmt_int(&R, 1234567, b, sizeof(b)), "1.234.567");
	T_EQ_STR(rfmt_pct(&R, 46.66, b, sizeof(b)), "46,7%");
	T_EQ_STR(rfmt_bytes(&R, 3448367704ULL, b, sizeof(b)), "3,4\xc2\xa0GB");
	T_EQ_STR(rfmt_change(&R, -4, b, sizeof(b)), "\xe2\x88\x92" "4,0%");
	T_EQ_STR(rfmt_range(&R, 20261116, 20261122, b, sizeof(b)),
	    "16\xe2\x80\x93" "22 november 2026");
}

int
main(void)
{
	if (make_db() != 0) {
		fprintf(stderr, "cannot make the test database\n");
		return 1;
	}
	T_RUN(test_week_json);
	T_RUN(test_suppressed_everywhere);
	T_RUN(test_quarter);
	T_RUN(test_options);
	T_RUN(test_i18n);
	T_RUN(test_numbers);
	unlink(dbpath);
	{
		char p[sizeof(dbpath) + 8];

		snprintf(p, sizeof(p), "%s-wal", dbpath);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", dbpath);
		unlink(p);
	}
	return T_DONE();
}
