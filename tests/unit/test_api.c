/*
 * test_api.c - the API's pieces that need no network: the static file
 * fence (paths, encodings, symlinks), the answer cache, and the query
 * over a release database (tests/unit/relfix.h) that the CLI and the API
 * share: levels, refusals, ranges snapped to whole periods, the full
 * grid with its zeros, the JSON document.
 *
 * The web root is built in a fresh directory under /tmp with a symlink
 * to a file outside it, one to a directory outside it, and one inside.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "out/api/api_cache.h"
#include "out/api/api_static.h"
#include "common/period.h"
#include "out/query.h"
#include "release/released.h"
#include "relfix.h"
#include "t.h"

static char dir[PATH_MAX], root[PATH_MAX + 8];

static void
put(const char *rel, const char *text)
{
	char path[PATH_MAX * 2];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if ((fp = fopen(path, "w")) != NULL) {
		fputs(text, fp);
		fclose(fp);
	}
}

static void
link_to(const char *target, const char *rel)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	T_CHECK(symlink(target, path) == 0);
}

/* path must resolve to root/want */
static void
ok_path(int line, const char *path, const char *want)
{
	char out[PATH_MAX], exp[PATH_MAX * 2];

	snprintf(exp, sizeof(exp), "%s/%s", root, want);
	if (api_static_resolve(root, path, out, sizeof(out)) != 0 ||
	    strcmp(out, exp) != 0) {
		fprintf(stderr, "line %d: %s should be %s\n", line, path, exp);
		T_CHECK(0);
		return;
	}
	T_CHECK(1);
}

static void
refused(int line, const char *path)
{
	char out[PATH_MAX];

	if (api_static_resolve(root, path, out, sizeof(out)) == 0) {
		fprintf(stderr, "line %d: %s was served as %s\n", line, path,
		    out);
		T_CHECK(0);
		return;
	}
	T_CHECK(1);
}
#define OK_PATH(p, w)	ok_path(__LINE__, p, w)
#define REFUSED(p)	refused(__LINE__, p)

static void
test_static_paths(void)
{
	char sub[PATH_MAX + 32];

	snprintf(sub, sizeof(sub), "%s/web", dir);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/web/css", dir);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/web/noindex", dir);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/outside", dir);
	mkdir(sub, 0755);
	put("web/index.html", "<!doctype html>");
	put("web/app.js", "x");
	put("web/css/style.css", "x");
	put("web/css/index.html", "x");
	put("web/a b.svg", "x");
	put("web/notes.md", "x");
	put("web/.secret.html", "x");
	put("outside/secret.html", "x");
	put("outside/index.html", "x");
	put("outside.html", "x");
	link_to("../outside/secret.html", "web/leak.html");
	link_to("../outside", "web/out");
	link_to("app.js", "web/alias.js");
	link_to("/etc/passwd", "web/passwd.txt");

	OK_PATH("/", "index.html");
	OK_PATH("/index.html", "index.html");
	OK_PATH("/app.js", "app.js");
	OK_PATH("/css/style.css", "css/style.css");
	OK_PATH("/css/", "css/index.html");
	OK_PATH("/a%20b.svg", "a b.svg");
	OK_PATH("/%61pp.js", "app.js");
	/* a symlink inside the root resolves to its target, still inside */
	OK_PATH("/alias.js", "app.js");

	REFUSED("");
	REFUSED("index.html");
	REFUSED("/..");
	REFUSED("/../outside.html");
	REFUSED("/../../etc/passwd");
	REFUSED("/css/../index.html");
	REFUSED("/./index.html");
	REFUSED("/%2e%2e/outside.html");
	REFUSED("/%2E%2E/outside.html");
	REFUSED("/%2e%2e%2foutside.html");
	REFUSED("/..%2foutside.html");
	REFUSED("/css%2f..%2f..%2foutside.html");
	REFUSED("/.%2e/outside.html");
	REFUSED("/%252e%252e/outside.html");	/* decoded once only */
	REFUSED("//etc/passwd");
	REFUSED("/css//style.css");
	REFUSED("/..\\outside.html");
	REFUSED("/%5c..%5coutside.html");
	REFUSED("/index.html%00.js");
	REFUSED("/app.js%0a");
	REFUSED("/.secret.html");
	REFUSED("/css/.%2e/.%2e/outside.html");
	REFUSED("/leak.html");		/* symlink to a file outside */
	REFUSED("/out/secret.html");	/* symlink to a directory outside */
	REFUSED("/out/");
	REFUSED("/passwd.txt");
	REFUSED("/noindex/");		/* no listing */
	REFUSED("/noindex");
	REFUSED("/css");		/* a directory is not a file */
	REFUSED("/notes.md");		/* no Content-Type for it */
	REFUSED("/nosuch.html");
	REFUSED("/%zz.html");
	{
		char longp[700];

		memset(longp, 'a', sizeof(longp));
		longp[0] = '/';
		memcpy(longp + sizeof(longp) - 6, ".html", 6);
		REFUSED(longp);
	}
	/* a root that does not exist serves nothing */
	{
		char out[PATH_MAX];

		T_CHECK(api_static_resolve("/nonexistent/web", "/index.html",
		    out, sizeof(out)) != 0);
	}
}

static void
test_static_types(void)
{
	T_EQ_STR(api_static_type("/a/index.html"), "text/html; charset=utf-8");
	T_EQ_STR(api_static_type("app.js"), "text/javascript; charset=utf-8");
	T_EQ_STR(api_static_type("s.css"), "text/css; charset=utf-8");
	T_EQ_STR(api_static_type("f.svg"), "image/svg+xml");
	T_EQ_STR(api_static_type("f.png"), "image/png");
	T_CHECK(api_static_type("f.conf") == NULL);
	T_CHECK(api_static_type("html") == NULL);
	T_CHECK(api_static_type(".html") == NULL);
	T_CHECK(api_static_type("f.HTML") == NULL);
}

static void
test_cache(void)
{
	struct api_cache *c = api_cache_new(3, 100);
	const char *v;
	size_t len = 0;

	T_CHECK(c != NULL);
	if (c == NULL)
		return;
	T_CHECK(api_cache_get(c, "/a", 1, &len) == NULL);
	api_cache_put(c, "/a", 1, "alpha", 5);
	v = api_cache_get(c, "/a", 1, &len);
	T_CHECK(v != NULL && len == 5 && memcmp(v, "alpha", 5) == 0);
	/* another database version: gone */
	T_CHECK(api_cache_get(c, "/a", 2, &len) == NULL);
	T_CHECK(api_cache_get(c, "/a", 1, &len) == NULL);
	/* least recently used out first */
	api_cache_put(c, "/a", 2, "a", 1);
	api_cache_put(c, "/b", 2, "b", 1);
	api_cache_put(c, "/c", 2, "c", 1);
	T_CHECK(api_cache_get(c, "/a", 2, &len) != NULL);
	api_cache_put(c, "/d", 2, "d", 1);
	T_CHECK(api_cache_get(c, "/b", 2, &len) == NULL);
	T_CHECK(api_cache_get(c, "/a", 2, &len) != NULL);
	T_CHECK(api_cache_get(c, "/d", 2, &len) != NULL);
	/* replacing keeps one entry per key */
	api_cache_put(c, "/d", 2, "dd", 2);
	v = api_cache_get(c, "/d", 2, &len);
	T_CHECK(v != NULL && len == 2 && memcmp(v, "dd", 2) == 0);
	/* bytes bound: too big is not kept; others make room */
	api_cache_put(c, "/big", 2, "0123456789012345678901234567890", 30);
	T_CHECK(api_cache_get(c, "/big", 2, &len) == NULL);
	{
		char buf[24];

		memset(buf, 'x', sizeof(buf));
		api_cache_put(c, "/x1", 2, buf, sizeof(buf));
		api_cache_put(c, "/x2", 2, buf, sizeof(buf));
		api_cache_put(c, "/x3", 2, buf, sizeof(buf));
		T_CHECK(api_cache_get(c, "/x3", 2, &len) != NULL &&
		    len == sizeof(buf));
	}
	api_cache_clear(c);
	T_CHECK(api_cache_get(c, "/x3", 2, &len) == NULL);
	api_cache_put(c, "/e", 3, "", 0);
	T_CHECK(api_cache_get(c, "/e", 3, &len) != NULL && len == 0);
	api_cache_free(c);
	api_cache_free(NULL);
	T_CHECK(api_cache_get(NULL, "/a", 1, &len) == NULL);
}

/* --- the query over released cells -------------------------------------- */

static char relpath[PATH_MAX + 16];

/* by must be refused with exactly msg */
static void
by_refused(int line, const char *by, const char *msg)
{
	struct query q;
	char err[256] = "";

	memset(&q, 0, sizeof(q));
	if (query_parse_by(by, &q, err, sizeof(err)) == 0 ||
	    strcmp(err, msg) != 0) {
		fprintf(stderr, "line %d: by=%s gave '%s'\n", line, by, err);
		T_CHECK(0);
		return;
	}
	T_CHECK(1);
}

static void
test_query_parse(void)
{
	struct query q;
	char err[256];
	int32_t d;

	memset(&q, 0, sizeof(q));
	T_CHECK(query_parse_by(NULL, &q, err, sizeof(err)) == 0 && q.by_week &&
	    !q.by_day && !q.by_dept && !q.by_svc);
	T_CHECK(query_parse_by("department,service,week", &q, err,
	    sizeof(err)) == 0 && q.by_week && q.by_dept && q.by_svc);
	T_CHECK(query_parse_by("department,category,day", &q, err,
	    sizeof(err)) == 0 && q.by_day && q.by_cat && q.by_dept);
	T_CHECK(query_parse_by("service,day", &q, err, sizeof(err)) == 0 &&
	    q.by_day && q.by_svc && !q.by_dept);
	T_CHECK(query_parse_by("department,service", &q, err, sizeof(err)) ==
	    0 && !q.by_day && !q.by_week);
	by_refused(__LINE__, "day,department,service", "department x service "
	    "is released per week only (use --by department,service,week)");
	by_refused(__LINE__, "department,hour", "hour figures are not "
	    "released (use day or week)");
	by_refused(__LINE__, "day,week", "by: day or week, not both");
	by_refused(__LINE__, "colour", "by: 'colour' is not one of "
	    "department, service, category, day, week");
	/* --day with department,service is the same refusal */
	memset(&q, 0, sizeof(q));
	T_CHECK(query_parse_by("department,service", &q, err, sizeof(err)) ==
	    0 && query_imply_level(&q, REL_DAY, err, sizeof(err)) != 0);
	memset(&q, 0, sizeof(q));
	T_CHECK(query_parse_by("department,service", &q, err, sizeof(err)) ==
	    0 && query_imply_level(&q, REL_WEEK, err, sizeof(err)) == 0 &&
	    q.by_week);

	/* dates, weeks: outward (a week is Monday as from, Sunday as to) */
	T_CHECK(query_parse_when("2026-11-18", 0, 0, &d, err, sizeof(err)) ==
	    0 && d == 20261118);
	T_CHECK(query_parse_when("2026-W47", 0, 0, &d, err, sizeof(err)) ==
	    0 && d == 20261116);
	T_CHECK(query_parse_when("2026-W47", 1, 0, &d, err, sizeof(err)) ==
	    0 && d == 20261122);
	T_CHECK(query_parse_when("2026-W53", 0, 0, &d, err, sizeof(err)) ==
	    0 && d == 20261228);
	T_CHECK(query_parse_when("2020-W01", 0, 0, &d, err, sizeof(err)) ==
	    0 && d == 20191230);
	T_CHECK(query_parse_when("2026-02-30", 0, 0, &d, err, sizeof(err)) !=
	    0);
	T_CHECK(query_parse_when("2026-Q4", 0, 0, &d, err, sizeof(err)) != 0);
	T_CHECK(query_parse_when(" 2026-11-18", 0, 0, &d, err, sizeof(err)) !=
	    0);
	T_EQ_INT(period_day_week(20261231), 202653);
	T_EQ_INT(period_day_week(20270101), 202653);
	T_EQ_INT(period_day_week(20210104), 202101);
	T_EQ_INT(period_day_week(20261118), 202647);
	/* epochs: the CLI takes none; the API only a local midnight */
	T_CHECK(query_parse_when("1794787200", 0, 0, &d, err, sizeof(err)) !=
	    0);
	T_CHECK(query_parse_when("1794787200", 0, 1, &d, err, sizeof(err)) ==
	    0 && d == 20261116);
	/* as to, a midnight ends the day before it */
	T_CHECK(query_parse_when("1794873600", 1, 1, &d, err, sizeof(err)) ==
	    0 && d == 20261116);
	T_CHECK(query_parse_when("1794787201", 0, 1, &d, err, sizeof(err)) !=
	    0);
	T_EQ_STR(err, "from: 1794787201 is not the start of a local day; "
	    "ranges are whole released days or weeks");
	T_CHECK(query_parse_when("1794790800", 1, 1, &d, err, sizeof(err)) !=
	    0);
	T_EQ_STR(err, "to: 1794790800 is not the start of a local day; "
	    "ranges are whole released days or weeks");
	memset(&q, 0, sizeof(q));
	q.from_day = 20261118;
	q.to_day = 20261117;
	T_CHECK(query_check_range(&q, err, sizeof(err)) != 0);
	q.to_day = 20261118;
	T_CHECK(query_check_range(&q, err, sizeof(err)) == 0);
}

static int
didx(const char *name)
{
	int i;

	for (i = 0; i < RELFIX_NDEPT; i++)
		if (strcmp(relfix_depts[i], name) == 0)
			return i;
	return -1;
}

static int
sidx(const char *name)
{
	int i;

	for (i = 0; i < RELFIX_NSVC; i++)
		if (strcmp(relfix_week_svcs[i], name) == 0)
			return i;
	return -1;
}

/* Every row equals the fixture's cell (0 where none was stored). */
static int
rows_match(const struct qresult *r, unsigned measures)
{
	size_t i;
	int k, bad = 0;

	for (i = 0; i < r->n; i++) {
		const struct qrow *w = &r->rows[i];
		int d = didx(w->dept), s = sidx(w->svc);

		if (d < 0 || s < 0 || w->published != measures) {
			bad++;
			continue;
		}
		for (k = 0; k < RM_N; k++) {
			unsigned long long want = k == 0 ?
			    relfix_devices(w->period, d, s) :
			    relfix_devices(w->period, d, s) == 0 ? 0 :
			    relfix_measure(w->period, d, s, k);

			if (!(measures & (1u << k)))
				want = 0;
			if (w->m[k] != want)
				bad++;
		}
	}
	return bad == 0;
}

static size_t
zeros(const struct qresult *r)
{
	size_t i, z = 0;

	for (i = 0; i < r->n; i++)
		z += r->rows[i].m[RM_DEVICES] == 0;
	return z;
}

static int
run(struct released *rel, const char *by, const char *from, const char *to,
    struct qresult *r)
{
	struct query q;
	char err[256];

	memset(&q, 0, sizeof(q));
	memset(r, 0, sizeof(*r));
	if (query_parse_by(by, &q, err, sizeof(err)) != 0 ||
	    (from && query_parse_when(from, 0, 1, &q.from_day, err,
	    sizeof(err)) != 0) ||
	    (to && query_parse_when(to, 1, 1, &q.to_day, err,
	    sizeof(err)) != 0) ||
	    query_run(rel, &q, r, err, sizeof(err)) != 0) {
		fprintf(stderr, "query %s %s..%s: %s\n", by, from, to, err);
		return -1;
	}
	return 0;
}

static void
test_query_grid(void)
{
	struct released *rel;
	struct qresult r;
	char err[256];
	json_t *doc, *row;
	size_t i;

	snprintf(relpath, sizeof(relpath), "%s/released.db", dir);
	T_CHECK(relfix_write(relpath) == 0);
	if ((rel = released_open(relpath, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		T_CHECK(0);
		return;
	}
	/* W1: department x service of the week, the full grid */
	T_CHECK(run(rel, "department,service,week", "2026-W47", "2026-W47",
	    &r) == 0);
	T_EQ_INT(r.n, 3 * 3);
	T_EQ_INT(r.nperiods, 1);
	T_CHECK(rows_match(&r, REL_ALL_MEASURES));
	T_CHECK(zeros(&r) > 0 && zeros(&r) < r.n);
	T_CHECK(!r.derived && r.min_group == 5);
	T_EQ_STR(r.rows[0].dept, "Finance");
	T_EQ_STR(r.rows[0].svc, "openai-chatgpt");
	T_EQ_STR(r.rows[8].dept, "unassigned");
	query_free(&r);
	/* a day inside the week snaps outward to the whole week */
	T_CHECK(run(rel, "category,week", "2026-11-19", "2026-11-19", &r) ==
	    0);
	T_EQ_INT(r.nperiods, 1);
	T_EQ_INT(r.n, 2);
	T_CHECK(r.n == 2 && strcmp(r.rows[0].dept, "*") == 0 &&
	    strcmp(r.rows[0].svc, "cat:chat") == 0);
	T_CHECK(rows_match(&r, REL_ALL_MEASURES));
	query_free(&r);
	/* the default: the week total, every released week (W48 is not) */
	T_CHECK(run(rel, NULL, NULL, NULL, &r) == 0);
	T_EQ_INT(r.n, 1);
	T_EQ_INT(r.nperiods, 1);
	T_CHECK(rows_match(&r, REL_ALL_MEASURES));
	query_free(&r);
	/* D1: department x category per day, day measures only */
	T_CHECK(run(rel, "department,category,day", "2026-W47", "2026-W48",
	    &r) == 0);
	T_EQ_INT(r.nperiods, 9);
	T_EQ_INT(r.n, 9 * 3 * 2);
	T_CHECK(rows_match(&r, REL_DAY_MEASURES));
	T_CHECK(zeros(&r) > 0);
	query_free(&r);
	/* D2: services per day, all departments */
	T_CHECK(run(rel, "service,day", "1794960000", "1795046400", &r) == 0);
	T_EQ_INT(r.nperiods, 1);
	T_EQ_INT(r.n, 3);
	for (i = 0; i < r.n; i++)
		T_EQ_STR(r.rows[i].dept, "*");
	T_CHECK(rows_match(&r, REL_DAY_MEASURES));
	/* the document: day rows carry day measures only */
	doc = query_json(&r);
	T_CHECK(doc != NULL);
	row = json_array_get(json_object_get(doc, "rows"), 0);
	T_EQ_STR(json_string_value(json_object_get(doc, "method")), "ckm-1");
	T_CHECK(json_is_false(json_object_get(doc, "derived")));
	T_EQ_INT(json_integer_value(json_object_get(doc, "min_group_size")),
	    5);
	T_EQ_STR(json_string_value(json_object_get(row, "kind")), "day");
	T_EQ_STR(json_string_value(json_object_get(row, "period")),
	    "2026-11-18");
	T_EQ_STR(json_string_value(json_object_get(row, "service")),
	    "openai-chatgpt");
	T_CHECK(json_object_get(row, "devices") != NULL &&
	    json_object_get(row, "connections") != NULL &&
	    json_object_get(row, "device_hours") != NULL &&
	    json_object_get(row, "tls_conns") == NULL &&
	    json_object_get(row, "bytes_up") == NULL &&
	    json_object_get(row, "suppressed") == NULL);
	row = json_array_get(json_object_get(doc, "periods"), 0);
	T_EQ_STR(json_string_value(json_object_get(row, "week")), "2026-W47");
	T_CHECK(json_is_true(json_object_get(row, "complete")));
	T_EQ_INT(json_integer_value(json_object_get(row, "coverage_hours")),
	    24);
	json_decref(doc);
	query_free(&r);
	/* derived: the sum of the week cells of the range */
	T_CHECK(run(rel, "department", "2026-W40", "2026-W50", &r) == 0);
	T_CHECK(r.derived);
	T_EQ_INT(r.n, 3);
	T_CHECK(rows_match(&r, REL_ALL_MEASURES));	/* one week: itself */
	doc = query_json(&r);
	T_CHECK(json_is_true(json_object_get(doc, "derived")));
	row = json_array_get(json_object_get(doc, "rows"), 0);
	T_EQ_STR(json_string_value(json_object_get(row, "period")),
	    "2026-W47..2026-W47");
	json_decref(doc);
	query_free(&r);
	/* nothing released in range: no period, no row */
	T_CHECK(run(rel, "department,service,week", "2026-W49", "2026-W50",
	    &r) == 0);
	T_CHECK(r.n == 0 && r.nperiods == 0);
	doc = query_json(&r);
	T_CHECK(json_is_null(json_object_get(doc, "min_group_size")));
	json_decref(doc);
	query_free(&r);
	released_close(rel);
}

int
main(void)
{
	char tmpl[] = "/tmp/aicensus_test_api_XXXXXX";

	if (mkdtemp(tmpl) == NULL || realpath(tmpl, dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(root, sizeof(root), "%s/web", dir);
	T_RUN(test_static_paths);
	T_RUN(test_static_types);
	T_RUN(test_cache);
	period_set_tz("UTC");
	T_RUN(test_query_parse);
	T_RUN(test_query_grid);
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return T_DONE();
}
