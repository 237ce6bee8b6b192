/*
 * test_relstore.c - the release database interface (store/relstore.h)
 * through its SQLite backend: a week and a day written and read back
 * whole, a period written once and whole or not at all, retention, and
 * the files a store must refuse.  Everything goes through relstore_*();
 * SQLite is used directly only to look at or tamper with the file.
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/relstore.h"
#include "store/relstore_sqlite.h"
#include "t.h"

static char dir[64];

static void
db_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* One integer from the file, read behind the store's back; -1 on error. */
static long long
sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

static void
sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	if (sqlite3_open(path, &db) == SQLITE_OK)
		T_CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
}

/* ---- a small release to write -------------------------------------- */

static const char *const depts[] = { "Finance", "Sales", "unassigned" };
static const char *const svcs[] = { "openai-chatgpt", "github-copilot",
	"cat:chat", "cat:code" };

static const struct rel_service facts[] = {
	{ "openai-chatgpt", "ChatGPT", "OpenAI", "chat", "US", 0 },
	{ "github-copilot", "GitHub Copilot", "GitHub", "code", "US", 1 },
};

/* Figures of a cell, different for every cell, measure and period. */
static uint64_t
fig(int32_t period, size_t c, int m)
{
	return (uint64_t)(period % 1000) * 1000 + c * 37 + (uint64_t)m * 3 +
	    1;
}

struct fixture {
	struct relstore_pub	 pub;
	struct rel_cell		 cell[4];
	uint64_t		 blind[RB_N];
};

/* A period with four cells (one of them "*" x "*"), and blind figures
 * when it is a day. */
static void
fixture(struct fixture *f, enum rel_kind kind, int32_t period,
    int32_t week)
{
	static const char *const cd[] = { "Finance", "Sales", "*", "*" };
	static const char *const cs[] = { "openai-chatgpt", "cat:code",
		"github-copilot", "*" };
	size_t i;
	int m;

	memset(f, 0, sizeof(*f));
	f->pub.per.kind = kind;
	f->pub.per.period = period;
	f->pub.per.week = week;
	f->pub.per.released_at = 1795392060 + period % 100;
	f->pub.per.coverage_hours = kind == REL_DAY ? 20 : 150;
	f->pub.per.hours_total = kind == REL_DAY ? 24 : 168;
	f->pub.per.complete = 1;
	f->pub.per.min_group = 5;
	f->pub.timezone = "Europe/Amsterdam";
	f->pub.dept = depts;
	f->pub.ndept = 3;
	f->pub.svc = svcs;
	f->pub.nsvc = 4;
	f->pub.service = facts;
	f->pub.nservice = 2;
	for (i = 0; i < 4; i++) {
		struct rel_cell *c = &f->cell[i];

		c->kind = kind;
		c->period = period;
		snprintf(c->dept, sizeof(c->dept), "%s", cd[i]);
		snprintf(c->svc, sizeof(c->svc), "%s", cs[i]);
		c->published = kind == REL_WEEK ? REL_ALL_MEASURES :
		    REL_DAY_MEASURES;
		/* Every measure has a figure, published or not: the store
		 * must keep only what the level publishes. */
		for (m = 0; m < RM_N; m++)
			c->m[m] = fig(period, i, m);
	}
	f->pub.cell = f->cell;
	f->pub.ncell = 4;
	if (kind == REL_DAY) {
		for (m = 0; m < RB_N; m++)
			f->blind[m] = (uint64_t)(period % 100) * 100 +
			    (uint64_t)m;
		f->pub.blind = f->blind;
	}
}

/* ---- row collectors ------------------------------------------------- */

struct periods {
	struct rel_period	 p[8];
	int			 n;
};

static int
got_period(void *arg, const struct rel_period *p)
{
	struct periods *ps = arg;

	if (ps->n == 8)
		return -1;
	ps->p[ps->n++] = *p;
	return 0;
}

struct names {
	char	 s[16][64];
	int	 n;
};

static int
got_name(void *arg, const char *name)
{
	struct names *ns = arg;

	if (ns->n == 16)
		return -1;
	snprintf(ns->s[ns->n++], sizeof(ns->s[0]), "%s", name);
	return 0;
}

struct cells {
	struct rel_cell	 c[16];
	int		 n;
};

static int
got_cell(void *arg, const char *dept, const char *svc,
    const uint64_t m[RM_N])
{
	struct cells *cs = arg;
	struct rel_cell *c;

	if (cs->n == 16)
		return -1;
	c = &cs->c[cs->n++];
	snprintf(c->dept, sizeof(c->dept), "%s", dept);
	snprintf(c->svc, sizeof(c->svc), "%s", svc);
	memcpy(c->m, m, sizeof(c->m));
	return 0;
}

static const struct rel_cell *
find_cell(const struct cells *cs, const char *dept, const char *svc)
{
	int i;

	for (i = 0; i < cs->n; i++)
		if (strcmp(cs->c[i].dept, dept) == 0 &&
		    strcmp(cs->c[i].svc, svc) == 0)
			return &cs->c[i];
	return NULL;
}

struct services {
	struct rel_service	 s[8];
	int			 n;
};

static int
got_service(void *arg, const struct rel_service *s)
{
	struct services *ss = arg;

	if (ss->n == 8)
		return -1;
	ss->s[ss->n++] = *s;
	return 0;
}

static int
stop(void *arg, const char *name)
{
	(void)arg;
	(void)name;
	return -1;
}

/* ---- (a) round trip ---------------------------------------------------- */

/* What a stored period's cells must read back as. */
static void
check_cells(struct relstore *s, const struct fixture *f)
{
	struct cells cs;
	uint64_t m[RM_N];
	size_t i;
	int j;

	memset(&cs, 0, sizeof(cs));
	T_EQ_INT(relstore_cells(s, f->pub.per.kind, f->pub.per.period,
	    got_cell, &cs), 0);
	T_EQ_INT(cs.n, 4);
	for (i = 0; i < 4; i++) {
		const struct rel_cell *want = &f->cell[i];
		const struct rel_cell *c = find_cell(&cs, want->dept,
		    want->svc);

		T_CHECK(c != NULL);
		if (c == NULL)
			continue;
		for (j = 0; j < RM_N; j++)
			T_EQ_INT(c->m[j], (want->published & (1u << j)) ?
			    want->m[j] : 0);
		memset(m, 0xff, sizeof(m));
		T_EQ_INT(relstore_cell(s, want->kind, want->period,
		    want->dept, want->svc, m), 0);
		T_CHECK(memcmp(m, c->m, sizeof(m)) == 0);
	}
	/* In the grid but not stored: a released zero, the store's 1. */
	T_EQ_INT(relstore_cell(s, f->pub.per.kind, f->pub.per.period,
	    "unassigned", "*", m), 1);
}

static void
check_period(const struct rel_period *got, const struct rel_period *want)
{
	T_EQ_INT(got->kind, want->kind);
	T_EQ_INT(got->period, want->period);
	T_EQ_INT(got->week, want->week);
	T_EQ_INT(got->released_at, want->released_at);
	T_EQ_INT(got->coverage_hours, want->coverage_hours);
	T_EQ_INT(got->hours_total, want->hours_total);
	T_EQ_INT(got->complete, want->complete);
	T_EQ_INT(got->min_group, want->min_group);
}

static void
test_round_trip(void)
{
	struct fixture w, d;
	struct relstore *s;
	struct rel_period p;
	struct periods ps;
	struct names ns;
	struct services ss;
	uint64_t v[RB_N];
	char path[128], err[256], tz[64];
	int i;

	db_path(path, sizeof(path), "trip.db");
	s = relstore_sqlite_open(path, RELSTORE_WRITE, err, sizeof(err));
	T_CHECK(s != NULL);
	if (s == NULL)
		return;
	fixture(&w, REL_WEEK, 202647, 202647);
	fixture(&d, REL_DAY, 20261118, 202647);
	T_EQ_INT(relstore_is_released(s, REL_WEEK, 202647), 0);
	T_EQ_INT(relstore_publish(s, &w.pub), 1);
	T_EQ_INT(relstore_publish(s, &d.pub), 1);
	T_EQ_INT(relstore_is_released(s, REL_WEEK, 202647), 1);
	T_EQ_INT(relstore_is_released(s, REL_DAY, 20261118), 1);
	/* The same number as a day is another period. */
	T_EQ_INT(relstore_is_released(s, REL_DAY, 202647), 0);
	T_EQ_INT(relstore_is_released(s, REL_DAY, 20261119), 0);
	relstore_close(s);

	/* Unpublished measures are stored as NULL, not as zeros. */
	T_EQ_INT(sql_int(path, "SELECT COUNT(*) FROM cell WHERE kind = 1 "
	    "AND tls IS NULL AND bytes_up IS NULL AND devices IS NOT NULL"), 4);
	T_EQ_INT(sql_int(path, "SELECT COUNT(*) FROM cell WHERE kind = 2 "
	    "AND tls IS NOT NULL"), 4);
	T_EQ_INT(sql_int(path, "SELECT CAST(value AS INTEGER) FROM meta "
	    "WHERE key = 'schema_version'"), RELSTORE_SQLITE_VERSION);

	s = relstore_sqlite_open(path, RELSTORE_READ, err, sizeof(err));
	T_CHECK(s != NULL);
	if (s == NULL)
		return;
	T_EQ_INT(relstore_timezone(s, tz, sizeof(tz)), 0);
	T_EQ_STR(tz, "Europe/Amsterdam");
	memset(&ps, 0, sizeof(ps));
	T_EQ_INT(relstore_periods(s, REL_WEEK, 0, 0, got_period, &ps), 0);
	T_EQ_INT(ps.n, 1);
	check_period(&ps.p[0], &w.pub.per);
	T_EQ_INT(relstore_period(s, REL_DAY, 20261118, &p), 0);
	check_period(&p, &d.pub.per);
	T_EQ_INT(relstore_period(s, REL_DAY, 20261117, &p), 1);
	/* Ranges: closed ends, 0 open. */
	memset(&ps, 0, sizeof(ps));
	T_EQ_INT(relstore_periods(s, REL_DAY, 20261119, 0, got_period, &ps),
	    0);
	T_EQ_INT(ps.n, 0);
	memset(&ps, 0, sizeof(ps));
	T_EQ_INT(relstore_periods(s, REL_DAY, 0, 20261118, got_period, &ps),
	    0);
	T_EQ_INT(ps.n, 1);

	/* Axes in the order given, never "*". */
	memset(&ns, 0, sizeof(ns));
	T_EQ_INT(relstore_axis(s, REL_WEEK, 202647, RELSTORE_DEPT, got_name,
	    &ns), 0);
	T_EQ_INT(ns.n, 3);
	for (i = 0; i < ns.n && i < 3; i++)
		T_EQ_STR(ns.s[i], depts[i]);
	memset(&ns, 0, sizeof(ns));
	T_EQ_INT(relstore_axis(s, REL_DAY, 20261118, RELSTORE_SVC, got_name,
	    &ns), 0);
	T_EQ_INT(ns.n, 4);
	for (i = 0; i < ns.n && i < 4; i++)
		T_EQ_STR(ns.s[i], svcs[i]);
	/* A period not released has no axes. */
	memset(&ns, 0, sizeof(ns));
	T_EQ_INT(relstore_axis(s, REL_DAY, 20261117, RELSTORE_DEPT, got_name,
	    &ns), 0);
	T_EQ_INT(ns.n, 0);

	check_cells(s, &w);
	check_cells(s, &d);

	/* Services by id, with their facts. */
	memset(&ss, 0, sizeof(ss));
	T_EQ_INT(relstore_services(s, got_service, &ss), 0);
	T_EQ_INT(ss.n, 2);
	if (ss.n == 2) {
		T_EQ_STR(ss.s[0].sid, "github-copilot");
		T_EQ_STR(ss.s[0].name, "GitHub Copilot");
		T_EQ_STR(ss.s[0].vendor, "GitHub");
		T_EQ_STR(ss.s[0].category, "code");
		T_EQ_STR(ss.s[0].jurisdiction, "US");
		T_EQ_INT(ss.s[0].sanctioned, 1);
		T_EQ_STR(ss.s[1].sid, "openai-chatgpt");
		T_EQ_INT(ss.s[1].sanctioned, 0);
	}

	/* Blind figures of the day, by name; none for a day not there. */
	T_EQ_INT(relstore_blind(s, 20261118, v), 0);
	for (i = 0; i < RB_N; i++)
		T_EQ_INT(v[i], d.blind[i]);
	T_EQ_INT(relstore_blind(s, 20261117, v), 0);
	for (i = 0; i < RB_N; i++)
		T_EQ_INT(v[i], 0);

	/* A callback that stops makes the read fail, with a reason. */
	T_EQ_INT(relstore_axis(s, REL_WEEK, 202647, RELSTORE_DEPT, stop,
	    NULL), -1);
	T_CHECK(relstore_error(s)[0] != '\0');

	/* A reader never writes. */
	fixture(&d, REL_DAY, 20261119, 202647);
	T_EQ_INT(relstore_publish(s, &d.pub), -1);
	T_EQ_INT(relstore_is_released(s, REL_DAY, 20261119), 0);
	relstore_close(s);
}

/* ---- (b) once, and whole or not at all --------------------------------- */

static void
test_once_whole(void)
{
	struct fixture f, g;
	struct relstore *s;
	char path[128], err[256];
	long long before;

	db_path(path, sizeof(path), "once.db");
	s = relstore_sqlite_open(path, RELSTORE_WRITE, err, sizeof(err));
	T_CHECK(s != NULL);
	if (s == NULL)
		return;
	fixture(&f, REL_DAY, 20261118, 202647);
	T_EQ_INT(relstore_publish(s, &f.pub), 1);
	before = sql_int(path, "SELECT COUNT(*) FROM cell");
	T_EQ_INT(before, 4);
	/* Again, with other figures: nothing written, the first stays. */
	fixture(&g, REL_DAY, 20261118, 202647);
	g.cell[0].m[RM_DEVICES] = 999;
	g.pub.ncell = 3;
	g.pub.per.released_at = 1;
	T_EQ_INT(relstore_publish(s, &g.pub), 0);
	T_EQ_INT(sql_int(path, "SELECT COUNT(*) FROM cell"), before);
	T_EQ_INT(sql_int(path, "SELECT released_at FROM period"),
	    f.pub.per.released_at);
	T_EQ_INT(sql_int(path, "SELECT devices FROM cell WHERE dept = "
	    "'Finance' AND svc = 'openai-chatgpt'"), f.cell[0].m[RM_DEVICES]);

	/* A period that fails half-way leaves nothing behind: the same
	 * cell twice breaks the cell table's key after one row went in. */
	fixture(&g, REL_WEEK, 202647, 202647);
	g.cell[1] = g.cell[0];
	T_EQ_INT(relstore_publish(s, &g.pub), -1);
	T_CHECK(relstore_error(s)[0] != '\0');
	T_EQ_INT(relstore_is_released(s, REL_WEEK, 202647), 0);
	T_EQ_INT(sql_int(path, "SELECT COUNT(*) FROM cell WHERE kind = 2"),
	    0);
	T_EQ_INT(sql_int(path, "SELECT COUNT(*) FROM dim WHERE kind = 2"), 0);
	/* ... and the store goes on working. */
	fixture(&g, REL_WEEK, 202647, 202647);
	T_EQ_INT(relstore_publish(s, &g.pub), 1);

	/* A figure SQLite cannot hold is clipped, not wrapped negative. */
	fixture(&g, REL_WEEK, 202648, 202648);
	g.cell[0].m[RM_DOWN] = UINT64_MAX;
	T_EQ_INT(relstore_publish(s, &g.pub), 1);
	T_EQ_INT(sql_int(path, "SELECT bytes_down FROM cell WHERE period = "
	    "202648 AND dept = 'Finance'"), INT64_MAX);
	relstore_close(s);
}

/* ---- (c) retention ------------------------------------------------------ */

static void
test_retention(void)
{
	static const int32_t days[] = { 20261115, 20261116, 20261123 };
	static const int32_t weeks[] = { 202646, 202647, 202648 };
	struct fixture f;
	struct relstore *s;
	struct rel_period p;
	uint64_t v[RB_N];
	char path[128], err[256];
	long long rows;
	int i;

	db_path(path, sizeof(path), "keep.db");
	s = relstore_sqlite_open(path, RELSTORE_WRITE, err, sizeof(err));
	T_CHECK(s != NULL);
	if (s == NULL)
		return;
	for (i = 0; i < 3; i++) {
		fixture(&f, REL_DAY, days[i], weeks[i]);
		T_EQ_INT(relstore_publish(s, &f.pub), 1);
		fixture(&f, REL_WEEK, weeks[i], weeks[i]);
		T_EQ_INT(relstore_publish(s, &f.pub), 1);
	}
	/* Rows of the two days and the one week before the cutoffs. */
	rows = sql_int(path, "SELECT (SELECT COUNT(*) FROM cell WHERE "
	    "(kind = 1 AND period < 20261123) OR (kind = 2 AND period < "
	    "202647)) + (SELECT COUNT(*) FROM dim WHERE (kind = 1 AND period "
	    "< 20261123) OR (kind = 2 AND period < 202647)) + (SELECT "
	    "COUNT(*) FROM blind WHERE day < 20261123) + 3");
	/* 2 days x (4 cells + 7 dims + RB_N) + 1 week x (4 + 7) + 3 periods */
	T_EQ_INT(rows, 2 * (4 + 7 + RB_N) + (4 + 7) + 3);
	T_EQ_INT(relstore_retention(s, 20261123, 202647), rows);
	T_EQ_INT(relstore_is_released(s, REL_DAY, 20261115), 0);
	T_EQ_INT(relstore_is_released(s, REL_DAY, 20261116), 0);
	T_EQ_INT(relstore_is_released(s, REL_WEEK, 202646), 0);
	T_EQ_INT(relstore_period(s, REL_DAY, 20261123, &p), 0);
	T_EQ_INT(relstore_period(s, REL_WEEK, 202647, &p), 0);
	T_EQ_INT(relstore_period(s, REL_WEEK, 202648, &p), 0);
	T_EQ_INT(relstore_blind(s, 20261116, v), 0);
	T_EQ_INT(v[RB_PACKETS], 0);
	T_EQ_INT(relstore_blind(s, 20261123, v), 0);
	T_EQ_INT(v[RB_LATE], 23 * 100 + RB_LATE);
	T_EQ_INT(sql_int(path, "SELECT COUNT(*) FROM cell"), 3 * 4);
	/* Service facts are not per period: they stay. */
	T_EQ_INT(sql_int(path, "SELECT COUNT(*) FROM service"), 2);
	/* Nothing more to delete. */
	T_EQ_INT(relstore_retention(s, 20261123, 202647), 0);
	relstore_close(s);
}

/* ---- (d) files a store refuses ------------------------------------------ */

static void
test_refuse(void)
{
	struct relstore *s;
	struct stat sb;
	char path[128], err[256], sql[128];
	mode_t um;

	db_path(path, sizeof(path), "ver.db");
	/* Born 0640 whatever the umask. */
	um = umask(0);
	s = relstore_sqlite_open(path, RELSTORE_WRITE, err, sizeof(err));
	umask(um);
	T_CHECK(s != NULL);
	relstore_close(s);
	T_CHECK(stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0640);
	/* Reopening the current version, both ways. */
	s = relstore_sqlite_open(path, RELSTORE_WRITE, err, sizeof(err));
	T_CHECK(s != NULL);
	relstore_close(s);
	s = relstore_sqlite_open(path, RELSTORE_READ, err, sizeof(err));
	T_CHECK(s != NULL);
	relstore_close(s);

	/* A newer version: neither side touches it. */
	snprintf(sql, sizeof(sql), "UPDATE meta SET value = '%d' WHERE key "
	    "= 'schema_version'", RELSTORE_SQLITE_VERSION + 1);
	sql_exec(path, sql);
	err[0] = '\0';
	T_CHECK(relstore_sqlite_open(path, RELSTORE_READ, err,
	    sizeof(err)) == NULL);
	T_CHECK(strstr(err, "upgrade aicensus") != NULL);
	err[0] = '\0';
	T_CHECK(relstore_sqlite_open(path, RELSTORE_WRITE, err,
	    sizeof(err)) == NULL);
	T_CHECK(strstr(err, "newer aicensus") != NULL);
	/* The writer did not bring the version back down. */
	T_EQ_INT(sql_int(path, "SELECT CAST(value AS INTEGER) FROM meta "
	    "WHERE key = 'schema_version'"), RELSTORE_SQLITE_VERSION + 1);
	/* A version below 1 is no release database a reader knows. */
	sql_exec(path, "UPDATE meta SET value = '0' WHERE key = "
	    "'schema_version'");
	T_CHECK(relstore_sqlite_open(path, RELSTORE_READ, err,
	    sizeof(err)) == NULL);

	/* The raw working database (the vault has a delta table). */
	db_path(path, sizeof(path), "vault.db");
	sql_exec(path, "CREATE TABLE delta(x); CREATE TABLE meta(key, "
	    "value)");
	err[0] = '\0';
	T_CHECK(relstore_sqlite_open(path, RELSTORE_READ, err,
	    sizeof(err)) == NULL);
	T_CHECK(strstr(err, "raw working database") != NULL);
	err[0] = '\0';
	T_CHECK(relstore_sqlite_open(path, RELSTORE_WRITE, err,
	    sizeof(err)) == NULL);
	T_CHECK(strstr(err, "raw working database") != NULL);
	/* Untouched: no release table was written into it. */
	T_EQ_INT(sql_int(path, "SELECT COUNT(*) FROM sqlite_master WHERE "
	    "name = 'cell'"), 0);

	/* Somebody else's database. */
	db_path(path, sizeof(path), "other.db");
	sql_exec(path, "CREATE TABLE meta(key TEXT, value TEXT); "
	    "CREATE TABLE other(x)");
	err[0] = '\0';
	T_CHECK(relstore_sqlite_open(path, RELSTORE_WRITE, err,
	    sizeof(err)) == NULL);
	T_CHECK(strstr(err, "not a release database") != NULL);
	err[0] = '\0';
	T_CHECK(relstore_sqlite_open(path, RELSTORE_READ, err,
	    sizeof(err)) == NULL);
	T_CHECK(strstr(err, "not a release database") != NULL);

	/* Absent: a reader says so and creates nothing. */
	db_path(path, sizeof(path), "absent.db");
	err[0] = '\0';
	T_CHECK(relstore_sqlite_open(path, RELSTORE_READ, err,
	    sizeof(err)) == NULL && err[0] != '\0');
	T_CHECK(access(path, F_OK) != 0);
}

static void
cleanup(void)
{
	static const char *const f[] = { "trip.db", "once.db", "keep.db",
		"ver.db", "vault.db", "other.db" };
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		db_path(path, sizeof(path), f[i]);
		unlink(path);
	}
	rmdir(dir);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/aicensus-test-relstore.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_round_trip);
	T_RUN(test_once_whole);
	T_RUN(test_retention);
	T_RUN(test_refuse);
	cleanup();
	return T_DONE();
}
