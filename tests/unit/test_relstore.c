/*
 * test_relstore.c - the release database interface (store/relstore.h)
 * through its SQLite backend: a week and a day written and read back
 * whole, a period written once and whole or not at all, retention, and
 * the files a store must refuse.  Everything goes through relstore_*();
 * SQLite is used directly only to look at or tamper with the file.
 * Last, the release stage and the read API over a second, in-memory
 * store give what they give over SQLite: nothing in them depends on the
 * engine.
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "aggregate/sketch.h"
#include "common/log.h"
#include "detect/catalog.h"
#include "release/release.h"
#include "release/released.h"
#include "store/relstore.h"
#include "store/relstore_sqlite.h"
#include "t.h"
#include "tsql.h"

static char dir[64];

static void
db_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
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
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM cell WHERE kind = 1 "
	    "AND tls IS NULL AND bytes_up IS NULL AND devices IS NOT NULL"), 4);
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM cell WHERE kind = 2 "
	    "AND tls IS NOT NULL"), 4);
	T_EQ_INT(t_sql_int(path, "SELECT CAST(value AS INTEGER) FROM meta "
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
	before = t_sql_int(path, "SELECT COUNT(*) FROM cell");
	T_EQ_INT(before, 4);
	/* Again, with other figures: nothing written, the first stays. */
	fixture(&g, REL_DAY, 20261118, 202647);
	g.cell[0].m[RM_DEVICES] = 999;
	g.pub.ncell = 3;
	g.pub.per.released_at = 1;
	T_EQ_INT(relstore_publish(s, &g.pub), 0);
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM cell"), before);
	T_EQ_INT(t_sql_int(path, "SELECT released_at FROM period"),
	    f.pub.per.released_at);
	T_EQ_INT(t_sql_int(path, "SELECT devices FROM cell WHERE dept = "
	    "'Finance' AND svc = 'openai-chatgpt'"), f.cell[0].m[RM_DEVICES]);

	/* A period that fails half-way leaves nothing behind: the same
	 * cell twice breaks the cell table's key after one row went in. */
	fixture(&g, REL_WEEK, 202647, 202647);
	g.cell[1] = g.cell[0];
	T_EQ_INT(relstore_publish(s, &g.pub), -1);
	T_CHECK(relstore_error(s)[0] != '\0');
	T_EQ_INT(relstore_is_released(s, REL_WEEK, 202647), 0);
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM cell WHERE kind = 2"),
	    0);
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM dim WHERE kind = 2"), 0);
	/* ... and the store goes on working. */
	fixture(&g, REL_WEEK, 202647, 202647);
	T_EQ_INT(relstore_publish(s, &g.pub), 1);

	/* A figure SQLite cannot hold is clipped, not wrapped negative. */
	fixture(&g, REL_WEEK, 202648, 202648);
	g.cell[0].m[RM_DOWN] = UINT64_MAX;
	T_EQ_INT(relstore_publish(s, &g.pub), 1);
	T_EQ_INT(t_sql_int(path, "SELECT bytes_down FROM cell WHERE period = "
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
	rows = t_sql_int(path, "SELECT (SELECT COUNT(*) FROM cell WHERE "
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
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM cell"), 3 * 4);
	/* Service facts are not per period: they stay. */
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM service"), 2);
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
	T_EQ_INT(t_sql_int(path, "SELECT CAST(value AS INTEGER) FROM meta "
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
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM sqlite_master WHERE "
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

/* ---- (e) a second store: the release stage does not see the engine --- */

/*
 * A store in memory, as small as the contract allows: periods in the
 * order published, their axes and non-zero cells copied, service facts
 * by id.  Only what a test needs; enough to tell whether release.c and
 * released.c need anything but the interface.
 */
#define MEM_PER		8
#define MEM_NAMES	16
#define MEM_CELLS	64

struct mem_period {
	struct rel_period	 per;
	char			 name[2][MEM_NAMES][64];
	size_t			 nname[2];
	struct rel_cell		 cell[MEM_CELLS];
	size_t			 ncell;
	uint64_t		 blind[RB_N];
};

struct memstore {
	struct relstore		 rs;
	struct mem_period	 p[MEM_PER];
	size_t			 np;
	struct rel_service	 svc[MEM_NAMES];
	size_t			 nsvc;
	char			 tz[64];
	int			 writes;
	int			 refs;		/* a writer and a reader share it */
};

static struct memstore *
mem(struct relstore *rs)
{
	return (struct memstore *)rs;
}

static void
mem_close(struct relstore *rs)
{
	if (--mem(rs)->refs == 0)
		free(rs);
}

static const char *
mem_error(struct relstore *rs)
{
	(void)rs;
	return "memory store: full";
}

static struct mem_period *
mem_find(struct memstore *m, enum rel_kind kind, int32_t period)
{
	size_t i;

	for (i = 0; i < m->np; i++)
		if (m->p[i].per.kind == kind && m->p[i].per.period == period)
			return &m->p[i];
	return NULL;
}

static int
mem_publish(struct relstore *rs, const struct relstore_pub *pub)
{
	struct memstore *m = mem(rs);
	struct mem_period *p;
	size_t i, j;

	if (mem_find(m, pub->per.kind, pub->per.period) != NULL)
		return 0;
	if (m->np == MEM_PER || pub->ndept > MEM_NAMES ||
	    pub->nsvc > MEM_NAMES || pub->ncell > MEM_CELLS)
		return -1;
	p = &m->p[m->np++];
	memset(p, 0, sizeof(*p));
	p->per = pub->per;
	for (i = 0; i < pub->ndept; i++)
		snprintf(p->name[0][i], 64, "%s", pub->dept[i]);
	for (i = 0; i < pub->nsvc; i++)
		snprintf(p->name[1][i], 64, "%s", pub->svc[i]);
	p->nname[0] = pub->ndept;
	p->nname[1] = pub->nsvc;
	for (i = 0; i < pub->ncell; i++) {
		p->cell[i] = pub->cell[i];
		for (j = 0; j < RM_N; j++)
			if (!(p->cell[i].published & (1u << j)))
				p->cell[i].m[j] = 0;
	}
	p->ncell = pub->ncell;
	if (pub->blind != NULL)
		memcpy(p->blind, pub->blind, sizeof(p->blind));
	for (i = 0; i < pub->nservice; i++) {
		for (j = 0; j < m->nsvc &&
		    strcmp(m->svc[j].sid, pub->service[i].sid) != 0; j++)
			;
		if (j == MEM_NAMES)
			return -1;
		m->svc[j] = pub->service[i];
		if (j == m->nsvc)
			m->nsvc++;
	}
	snprintf(m->tz, sizeof(m->tz), "%s", pub->timezone);
	m->writes++;
	return 1;
}

static int
mem_retention(struct relstore *rs, int32_t cutoff_day, int32_t cutoff_week)
{
	struct memstore *m = mem(rs);
	size_t i, k = 0;
	int n = 0;

	for (i = 0; i < m->np; i++) {
		const struct rel_period *p = &m->p[i].per;

		if (p->period < (p->kind == REL_DAY ? cutoff_day : cutoff_week))
			n++;
		else
			m->p[k++] = m->p[i];
	}
	m->np = k;
	return n;
}

static int
mem_timezone(struct relstore *rs, char *buf, size_t len)
{
	snprintf(buf, len, "%s", mem(rs)->tz);
	return 0;
}

static int
mem_periods(struct relstore *rs, enum rel_kind kind, int32_t from,
    int32_t to, relstore_period_fn fn, void *arg)
{
	struct memstore *m = mem(rs);
	int32_t last = INT32_MIN, next;
	const struct mem_period *best;
	size_t i;

	/* Ascending without sorting: the smallest period above the last. */
	for (;;) {
		best = NULL;
		for (i = 0; i < m->np; i++) {
			next = m->p[i].per.period;
			if (m->p[i].per.kind != kind || next <= last ||
			    (from != 0 && next < from) || (to != 0 && next > to))
				continue;
			if (best == NULL || next < best->per.period)
				best = &m->p[i];
		}
		if (best == NULL)
			return 0;
		if (fn(arg, &best->per) != 0)
			return -1;
		last = best->per.period;
	}
}

static int
mem_period(struct relstore *rs, enum rel_kind kind, int32_t period,
    struct rel_period *out)
{
	struct mem_period *p = mem_find(mem(rs), kind, period);

	if (p == NULL)
		return 1;
	*out = p->per;
	return 0;
}

static int
mem_axis(struct relstore *rs, enum rel_kind kind, int32_t period,
    enum relstore_axis axis, relstore_name_fn fn, void *arg)
{
	struct mem_period *p = mem_find(mem(rs), kind, period);
	size_t i;

	for (i = 0; p != NULL && i < p->nname[axis]; i++)
		if (fn(arg, p->name[axis][i]) != 0)
			return -1;
	return 0;
}

static int
mem_cells(struct relstore *rs, enum rel_kind kind, int32_t period,
    relstore_cell_fn fn, void *arg)
{
	struct mem_period *p = mem_find(mem(rs), kind, period);
	size_t i;

	/* Backwards: the store promises no order. */
	for (i = p != NULL ? p->ncell : 0; i > 0; i--)
		if (fn(arg, p->cell[i - 1].dept, p->cell[i - 1].svc,
		    p->cell[i - 1].m) != 0)
			return -1;
	return 0;
}

static int
mem_cell(struct relstore *rs, enum rel_kind kind, int32_t period,
    const char *dept, const char *svc, uint64_t v[RM_N])
{
	struct mem_period *p = mem_find(mem(rs), kind, period);
	size_t i;

	for (i = 0; p != NULL && i < p->ncell; i++)
		if (strcmp(p->cell[i].dept, dept) == 0 &&
		    strcmp(p->cell[i].svc, svc) == 0) {
			memcpy(v, p->cell[i].m, RM_N * sizeof(v[0]));
			return 0;
		}
	return 1;
}

static int
mem_services(struct relstore *rs, relstore_service_fn fn, void *arg)
{
	struct memstore *m = mem(rs);
	const struct rel_service *best;
	const char *last = "";
	size_t i;

	for (;;) {
		best = NULL;
		for (i = 0; i < m->nsvc; i++)
			if (strcmp(m->svc[i].sid, last) > 0 && (best == NULL ||
			    strcmp(m->svc[i].sid, best->sid) < 0))
				best = &m->svc[i];
		if (best == NULL)
			return 0;
		if (fn(arg, best) != 0)
			return -1;
		last = best->sid;
	}
}

static int
mem_blind(struct relstore *rs, int32_t day, uint64_t v[RB_N])
{
	struct mem_period *p = mem_find(mem(rs), REL_DAY, day);

	memset(v, 0, RB_N * sizeof(v[0]));
	if (p != NULL)
		memcpy(v, p->blind, RB_N * sizeof(v[0]));
	return 0;
}

static const struct relstore_ops mem_ops = {
	.name = "memory",
	.close = mem_close,
	.error = mem_error,
	.publish = mem_publish,
	.retention = mem_retention,
	.timezone = mem_timezone,
	.periods = mem_periods,
	.period = mem_period,
	.axis = mem_axis,
	.cells = mem_cells,
	.cell = mem_cell,
	.services = mem_services,
	.blind = mem_blind,
};

static int ncb[2];

static void
count_cell(void *arg, const struct rel_period *p, const struct rel_cell *c)
{
	(void)p;
	(void)c;
	ncb[*(int *)arg]++;
}

/* A week and a day of it through the release stage, k = 1. */
static void
publish_both(struct reldb *r, const struct rel_dims *dims)
{
	struct sketch sk[4];
	struct rel_leaf lf[4];
	struct rel_input in;
	size_t i;
	int j, rc;

	for (i = 0; i < 4; i++) {
		sketch_init(&sk[i]);
		for (j = 0; j < 3 + (int)i * 2; j++)
			sketch_add(&sk[i], (uint64_t)(i * 100 + (size_t)j + 1) *
			    0x9e3779b97f4a7c15ULL);
		memset(&lf[i], 0, sizeof(lf[i]));
		lf[i].dept = (int32_t)(i % 3);	/* 2 is "unassigned" */
		lf[i].svc = (int32_t)(i % 3);
		lf[i].dev = &sk[i];
		lf[i].m[RM_DEVHOURS] = 5 + i;
		lf[i].m[RM_TLS] = 10 * (i + 1);
		lf[i].m[RM_QUIC] = i;
		lf[i].m[RM_DNS] = 7;
		lf[i].m[RM_UP] = 1000 * (i + 1);
		lf[i].m[RM_DOWN] = 9000;
	}
	memset(&in, 0, sizeof(in));
	in.kind = REL_WEEK;
	in.period = 202647;
	in.week = 202647;
	in.leaf = lf;
	in.nleaf = 4;
	in.coverage_hours = 100;
	in.hours_total = 168;
	in.complete = 1;
	T_EQ_INT(release_publish(r, dims, &(struct rel_params){ 1 }, &in,
	    NULL, 1795392060), 1);
	in.kind = REL_DAY;
	in.period = 20261118;
	in.hours_total = 24;
	in.coverage_hours = 20;
	for (j = 0; j < RB_N; j++)
		in.blind[j] = (uint64_t)j * 11 + 1;
	T_EQ_INT(release_publish(r, dims, &(struct rel_params){ 1 }, &in,
	    NULL, 1795046460), 1);
	/* Once. */
	rc = release_publish(r, dims, &(struct rel_params){ 1 }, &in, NULL,
	    1795046461);
	T_EQ_INT(rc, 0);
	for (i = 0; i < 4; i++)
		sketch_reset(&sk[i]);
}

static void
same_axis(int (*get)(struct released *, enum rel_kind, int32_t, char ***,
    size_t *), struct released *a, struct released *b, enum rel_kind kind,
    int32_t period)
{
	char **na = NULL, **nb = NULL;
	size_t n = 0, m = 0, i;

	T_EQ_INT(get(a, kind, period, &na, &n), 0);
	T_EQ_INT(get(b, kind, period, &nb, &m), 0);
	T_EQ_INT(n, m);
	T_CHECK(n > 0);
	for (i = 0; i < n && i < m; i++)
		T_EQ_STR(na[i], nb[i]);
	free(na);
	free(nb);
}

static void
test_second_store(void)
{
	static const enum rel_kind kinds[] = { REL_WEEK, REL_DAY };
	static const int32_t periods[] = { 202647, 20261118 };
	char *names[] = { "Finance", "Sales" };
	char *sanct[] = { "svc-2" };
	struct catalog *cat = catalog_synthetic(4);
	struct rel_dims dims;
	struct memstore *ms;
	struct reldb *rs, *rm;
	struct released *a, *b;
	struct rel_period *pa = NULL, *pb = NULL;
	struct rel_cell *ca = NULL, *cb = NULL, x, y;
	struct rel_service *sa = NULL, *sb = NULL;
	uint64_t va[RB_N], vb[RB_N];
	char path[128], err[256];
	size_t n, m, i;
	int k, id[2] = { 0, 1 }, nz = 0;

	T_CHECK(cat != NULL && catalog_count(cat) == 4);
	if (cat == NULL)
		return;
	memset(&dims, 0, sizeof(dims));
	dims.dept = names;
	dims.ndept = 2;
	dims.cat = cat;
	dims.sanctioned = sanct;
	dims.nsanct = 1;
	dims.timezone = "Europe/Amsterdam";
	db_path(path, sizeof(path), "second.db");
	T_CHECK((ms = calloc(1, sizeof(*ms))) != NULL);
	if (ms == NULL)
		return;
	ms->rs.ops = &mem_ops;
	ms->refs = 2;
	rs = reldb_open(path, err, sizeof(err));
	rm = reldb_of(&ms->rs);
	T_CHECK(rs != NULL && rm != NULL);
	if (rs == NULL || rm == NULL)
		return;
	ncb[0] = ncb[1] = 0;
	release_set_cell_cb(rs, count_cell, &id[0]);
	release_set_cell_cb(rm, count_cell, &id[1]);
	publish_both(rs, &dims);
	publish_both(rm, &dims);
	/* Two periods, each written once. */
	T_EQ_INT(ms->writes, 2);
	T_CHECK(ncb[0] > 0);
	T_EQ_INT(ncb[1], ncb[0]);
	T_EQ_INT(reldb_is_released(rm, REL_DAY, 20261118), 1);
	T_EQ_INT(reldb_is_released(rm, REL_DAY, 20261119), 0);
	reldb_close(rs);

	a = released_open(path, err, sizeof(err));
	b = released_of(&ms->rs, err, sizeof(err));
	T_CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL) {
		released_close(a);
		released_close(b);
		reldb_close(rm);
		return;
	}
	T_EQ_STR(released_timezone(b), released_timezone(a));
	for (k = 0; k < 2; k++) {
		T_EQ_INT(released_periods(a, kinds[k], 0, 0, &pa, &n, err,
		    sizeof(err)), 0);
		T_EQ_INT(released_periods(b, kinds[k], 0, 0, &pb, &m, err,
		    sizeof(err)), 0);
		T_EQ_INT(n, 1);
		T_EQ_INT(m, 1);
		if (n == 1 && m == 1)
			check_period(&pb[0], &pa[0]);
		free(pa);
		free(pb);
		same_axis(released_depts, a, b, kinds[k], periods[k]);
		same_axis(released_svcs, a, b, kinds[k], periods[k]);
		T_EQ_INT(released_cells(a, kinds[k], periods[k], &ca, &n, err,
		    sizeof(err)), 0);
		T_EQ_INT(released_cells(b, kinds[k], periods[k], &cb, &m, err,
		    sizeof(err)), 0);
		T_EQ_INT(n, m);
		T_CHECK(n > 0);
		for (i = 0; i < n && i < m; i++) {
			T_EQ_STR(cb[i].dept, ca[i].dept);
			T_EQ_STR(cb[i].svc, ca[i].svc);
			T_EQ_INT(cb[i].published, ca[i].published);
			T_CHECK(memcmp(cb[i].m, ca[i].m, sizeof(ca[i].m)) == 0);
			nz += ca[i].m[RM_DEVICES] != 0;
			T_EQ_INT(released_cell(a, kinds[k], periods[k],
			    ca[i].dept, ca[i].svc, &x), 0);
			T_EQ_INT(released_cell(b, kinds[k], periods[k],
			    ca[i].dept, ca[i].svc, &y), 0);
			T_CHECK(memcmp(x.m, y.m, sizeof(x.m)) == 0);
		}
		free(ca);
		free(cb);
	}
	/* The comparison saw figures, not two empty grids. */
	T_CHECK(nz > 4);
	T_EQ_INT(released_services(a, &sa, &n), 0);
	T_EQ_INT(released_services(b, &sb, &m), 0);
	T_EQ_INT(n, 4);
	T_EQ_INT(m, n);
	for (i = 0; i < n && i < m; i++) {
		T_EQ_STR(sb[i].sid, sa[i].sid);
		T_EQ_STR(sb[i].name, sa[i].name);
		T_EQ_INT(sb[i].sanctioned, sa[i].sanctioned);
	}
	T_CHECK(n == 4 && sa[2].sanctioned && !sa[1].sanctioned);
	free(sa);
	free(sb);
	T_EQ_INT(released_blind(a, 20261118, va), 0);
	T_EQ_INT(released_blind(b, 20261118, vb), 0);
	T_CHECK(memcmp(va, vb, sizeof(va)) == 0);
	T_EQ_INT(va[RB_LATE], RB_LATE * 11 + 1);
	T_EQ_INT(released_blind(b, 20261119, vb), 1);
	released_close(a);
	released_close(b);
	reldb_close(rm);
	catalog_free(cat);
}

static void
cleanup(void)
{
	static const char *const f[] = { "trip.db", "once.db", "keep.db",
		"ver.db", "vault.db", "other.db", "second.db" };
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
	log_init("test_relstore", 0, LOG_LVL_ERROR);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_round_trip);
	T_RUN(test_once_whole);
	T_RUN(test_retention);
	T_RUN(test_refuse);
	T_RUN(test_second_store);
	cleanup();
	return T_DONE();
}
