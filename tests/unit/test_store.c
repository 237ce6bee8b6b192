/*
 * test_store.c - the SQLite store: flush, merge across flushes, failure
 * keeps the counts, retention, migrations, refusal of damaged files.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agg.h"
#include "catalog.h"
#include "period.h"
#include "query.h"
#include "store.h"
#include "t.h"

static char dir[] = "/tmp/aic-test-store.XXXXXX";
static char dbpath[256];
static struct catalog *cat;
static char *depts[] = { "Finance", "Sales" };

static int64_t
q1(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static struct store *
fresh(const char *name)
{
	char err[512];
	struct store *s;

	snprintf(dbpath, sizeof(dbpath), "%s/%s", dir, name);
	s = store_open(dbpath, err, sizeof(err));
	if (s == NULL)
		fprintf(stderr, "%s\n", err);
	else if (store_set_dims(s, depts, 2, cat, NULL, 0, "UTC", 2) != 0) {
		store_close(s);
		return NULL;
	}
	return s;
}

static void
use(struct agg *a, int64_t t, int dept, int svc, uint64_t dev, int tls)
{
	struct period p;
	struct agg_cell *c;

	period_of(t, &p);
	c = agg_cell(a, &p, dept, svc);
	c->c[C_TLS] += (uint64_t)tls;
	c->c[C_UP] += 100;
	agg_device(a, &p, dept, svc, dev * 0x9e3779b97f4a7c15ULL);
}

#define T0 1794816000	/* 2026-11-16 08:00 UTC, Monday, ISO week 47 */

static void
test_flush_merges(void)
{
	struct store *s = fresh("merge.db");
	struct agg *a = agg_new(1000, 1 << 26);

	T_CHECK(s != NULL && a != NULL);
	use(a, T0, 0, 0, 1, 2);
	use(a, T0 + 10, 0, 0, 2, 1);
	T_EQ_INT(store_flush(s, a, T0 + 60), 0);
	T_CHECK(agg_empty(a));
	/* device 2 again and device 3, in the same hour, after a "restart" */
	use(a, T0 + 100, 0, 0, 2, 1);
	use(a, T0 + 200, 0, 0, 3, 1);
	T_EQ_INT(store_flush(s, a, T0 + 260), 0);
	T_EQ_INT(q1(s, "SELECT tls_conns FROM usage_hour"), 5);
	T_EQ_INT(q1(s, "SELECT bytes_up FROM usage_hour"), 400);
	T_EQ_INT(q1(s, "SELECT device_hours FROM usage_hour"), 3);
	T_EQ_INT(q1(s, "SELECT devices FROM devices_day"), 3);
	T_EQ_INT(q1(s, "SELECT devices FROM devices_week"), 3);
	T_EQ_INT(q1(s, "SELECT day FROM hour_dim"), 20261116);
	T_EQ_INT(q1(s, "SELECT week FROM hour_dim"), 202647);
	/* next hour: a new row, the day sketch grows only by new devices */
	use(a, T0 + 3600, 0, 0, 3, 1);
	use(a, T0 + 3700, 0, 0, 4, 1);
	T_EQ_INT(store_flush(s, a, T0 + 3800), 0);
	T_EQ_INT(q1(s, "SELECT COUNT(*) FROM usage_hour"), 2);
	T_EQ_INT(q1(s, "SELECT devices FROM devices_day"), 4);
	T_EQ_INT(q1(s, "SELECT SUM(device_hours) FROM usage_hour"), 5);
	agg_free(a);
	store_close(s);
}

static void
test_failed_flush_keeps_counts(void)
{
	struct store *s = fresh("ro.db");
	struct store *s2;
	struct agg *a = agg_new(1000, 1 << 26);
	char err[512];

	use(a, T0, 1, 1, 7, 3);
	T_EQ_INT(store_flush(s, a, T0), 0);
	use(a, T0 + 5, 1, 1, 8, 2);
	/* another writer holds the database: the flush must fail cleanly */
	s2 = store_open(dbpath, err, sizeof(err));
	T_CHECK(s2 != NULL);
	T_EQ_INT(sqlite3_exec(store_db(s2), "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	T_EQ_INT(store_flush(s, a, T0 + 60), -1);
	T_CHECK(!agg_empty(a));		/* nothing lost */
	sqlite3_exec(store_db(s2), "ROLLBACK", NULL, NULL, NULL);
	store_close(s2);
	T_EQ_INT(store_flush(s, a, T0 + 120), 0);
	T_EQ_INT(q1(s, "SELECT tls_conns FROM usage_hour"), 5);
	T_EQ_INT(q1(s, "SELECT device_hours FROM usage_hour"), 2);
	agg_free(a);
	store_close(s);
}

static void
test_retention(void)
{
	struct store *s = fresh("ret.db");
	struct agg *a = agg_new(1000, 1 << 26);

	use(a, T0 - 40 * 86400, 0, 0, 1, 1);	/* 40 days earlier */
	use(a, T0, 0, 0, 1, 1);
	T_EQ_INT(store_flush(s, a, T0), 0);
	T_EQ_INT(q1(s, "SELECT COUNT(*) FROM usage_hour"), 2);
	T_EQ_INT(q1(s, "SELECT COUNT(*) FROM devices_day"), 2);
	T_EQ_INT(store_retention(s, T0 + 3600, 30), 0);
	T_EQ_INT(q1(s, "SELECT COUNT(*) FROM usage_hour"), 1);
	T_EQ_INT(q1(s, "SELECT COUNT(*) FROM devices_day"), 1);
	T_EQ_INT(q1(s, "SELECT COUNT(*) FROM devices_week"), 1);
	T_EQ_INT(q1(s, "SELECT COUNT(*) FROM capture_hour"), 0);
	/* hour sketches go once their hour is over */
	T_EQ_INT(q1(s, "SELECT COUNT(*) FROM sketch_hour"), 1);
	T_EQ_INT(store_retention(s, T0 + 5 * 3600, 30), 0);
	T_EQ_INT(q1(s, "SELECT COUNT(*) FROM sketch_hour"), 0);
	T_EQ_INT(q1(s, "SELECT device_hours FROM usage_hour"), 1);
	agg_free(a);
	store_close(s);
}

static void
test_refuses_damaged_and_newer(void)
{
	char err[512], path[300], buf[8192];
	struct stat before, after;
	struct store *s;
	int fd, i;

	snprintf(path, sizeof(path), "%s/garbage.db", dir);
	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 3);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	T_CHECK(write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf));
	close(fd);
	stat(path, &before);
	s = store_open(path, err, sizeof(err));
	T_CHECK(s == NULL);
	T_CHECK(strstr(err, "refusing") != NULL);
	stat(path, &after);
	T_EQ_INT(after.st_size, before.st_size);
	T_EQ_INT(after.st_mtime, before.st_mtime);

	s = fresh("newer.db");
	sqlite3_exec(store_db(s), "PRAGMA user_version = 99", NULL, NULL, NULL);
	store_close(s);
	s = store_open(dbpath, err, sizeof(err));
	T_CHECK(s == NULL);
	T_CHECK(strstr(err, "newer") != NULL);
	store_close(s);
}

static void
test_query_suppression(void)
{
	struct store *s = fresh("q.db");
	struct agg *a = agg_new(1000, 1 << 26);
	struct query q;
	struct qresult r;
	char err[256];
	size_t i;
	int k;

	/* Finance uses svc 0 with 3 devices, Sales with 1 device */
	for (k = 1; k <= 3; k++)
		use(a, T0, 0, 0, (uint64_t)k, 1);
	use(a, T0, 1, 0, 10, 4);
	T_EQ_INT(store_flush(s, a, T0), 0);
	memset(&q, 0, sizeof(q));
	q.from = 0;
	q.to = QUERY_END_OF_TIME;
	q.by_dept = q.by_svc = 1;
	T_EQ_INT(query_run(store_db(s), &q, &r, err, sizeof(err)), 0);
	T_EQ_INT(r.n, 2);
	T_EQ_INT(r.min_group, 2);
	for (i = 0; i < r.n; i++) {
		if (strcmp(r.rows[i].dept, "Finance") == 0) {
			T_CHECK(!r.rows[i].suppressed);
			T_EQ_INT(r.rows[i].m[QM_TLS], 3);
			T_EQ_INT(r.rows[i].devices, 3);
		} else {
			T_CHECK(r.rows[i].suppressed);
			T_EQ_INT(r.rows[i].m[QM_TLS], 0);	/* not shown */
			T_EQ_INT(r.rows[i].devices, 0);
		}
	}
	T_EQ_INT(r.suppressed, 1);
	query_free(&r);
	/*
	 * By service alone: the total is the sum of the published cells
	 * only, so Finance's 3 devices and 3 connections; Sales's hidden
	 * cell (1 device, 4 connections) is withheld, or the total minus
	 * Finance would reveal it.
	 */
	q.by_dept = 0;
	T_EQ_INT(query_run(store_db(s), &q, &r, err, sizeof(err)), 0);
	T_EQ_INT(r.n, 1);
	T_EQ_INT(r.rows[0].devices, 3);
	T_EQ_INT(r.rows[0].m[QM_TLS], 3);
	T_EQ_INT(r.rows[0].withheld, 1);
	query_free(&r);
	/* with a second Sales device the cell is shown and added in */
	use(a, T0 + 60, 1, 0, 11, 1);
	T_EQ_INT(store_flush(s, a, T0 + 60), 0);
	T_EQ_INT(query_run(store_db(s), &q, &r, err, sizeof(err)), 0);
	T_EQ_INT(r.rows[0].devices, 5);
	T_EQ_INT(r.rows[0].m[QM_TLS], 8);
	T_EQ_INT(r.rows[0].withheld, 0);
	query_free(&r);
	/* per day: the day sketches are merged */
	q.by_dept = 1;
	q.interval = QI_DAY;
	T_EQ_INT(query_run(store_db(s), &q, &r, err, sizeof(err)), 0);
	T_EQ_INT(r.n, 2);
	T_EQ_INT(r.rows[0].period, 20261116);
	query_free(&r);
	agg_free(a);
	store_close(s);
}

/* Every row of the tables a flush writes, as one text (for comparing). */
static char *
dump(struct store *s)
{
	static const char *sql =
	    "SELECT group_concat(r, ';') FROM ("
	    " SELECT hour||','||dept||','||svc||','||tls_conns||','||bytes_up"
	    "  ||','||device_hours AS r FROM usage_hour"
	    " UNION ALL SELECT 'd'||day||','||dept||','||svc||','||devices"
	    "  FROM devices_day"
	    " UNION ALL SELECT 'w'||week||','||dept||','||svc||','||devices"
	    "  FROM devices_week"
	    " UNION ALL SELECT 'h'||hour||','||hex(sketch) FROM sketch_hour"
	    " UNION ALL SELECT 'c'||hour||','||packets FROM capture_hour"
	    " ORDER BY 1)";
	sqlite3_stmt *st;
	char *out = NULL;

	if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		out = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

static void
traffic(struct agg *a, int64_t t, int round)
{
	struct period p;
	int d, v;

	period_of(t, &p);
	for (d = 0; d < 2; d++)
		for (v = 0; v < 3; v++) {
			use(a, t, d, v, (uint64_t)(d * 100 + v * 10 + round), 1);
			use(a, t + 1, d, v, (uint64_t)(d * 100 + round), 2);
		}
	agg_packet(a, &p, 1500);
}

/*
 * The daemon's flush: in slices (a tiny budget: a few rows each), the
 * COMMIT on a thread, capture filling the other side of the pair
 * meanwhile.  The database must end exactly as with one flush at once.
 */
static void
test_sliced_flush(void)
{
	struct store *s1 = fresh("sliced.db"), *s2;
	struct agg *live = agg_new(1000, 1 << 26);
	struct agg *frozen = agg_new(1000, 1 << 26);
	struct agg *once = agg_new(1000, 1 << 26);
	char *a = NULL, *b = NULL;
	int rc, slices = 0, waits = 0, round;

	s2 = fresh("once.db");
	T_CHECK(s1 != NULL && s2 != NULL && live && frozen && once);
	agg_pair(live, frozen);
	for (round = 0; round < 3; round++) {
		traffic(live, T0 + round * 1800, round);
		traffic(once, T0 + round * 1800, round);
		agg_swap(live, frozen);
		T_EQ_INT(store_flush_begin(s1, frozen), 1);
		T_CHECK(store_flush_busy(s1));
		/* one at a time */
		T_EQ_INT(store_flush_begin(s1, live), -1);
		do {
			rc = store_flush_step(s1, frozen, 1);
			if (rc == 1) {
				slices++;
				/* packets between slices land on the live side */
				traffic(live, T0 + round * 1800 + 60, round + 10);
				traffic(once, T0 + round * 1800 + 60, round + 10);
			} else if (rc == 2) {
				waits++;
				usleep(1000);
			}
		} while (rc > 0);
		T_EQ_INT(rc, 0);
		T_CHECK(agg_empty(frozen));
		T_CHECK(!store_flush_busy(s1));
		/* the rest, at once (as at a stop) */
		T_EQ_INT(store_flush(s1, live, 0), 0);
		T_EQ_INT(store_flush(s2, once, 0), 0);
	}
	T_CHECK(slices >= 6);		/* it really was written in slices */
	T_CHECK(waits >= 3);		/* and each COMMIT ran on its thread */
	a = dump(s1);
	b = dump(s2);
	T_CHECK(a != NULL && b != NULL && strlen(a) > 100);
	if (a != NULL && b != NULL)
		T_EQ_STR(a, b);
	free(a);
	free(b);

	/* abort: rolled back, the aggregates untouched */
	traffic(frozen, T0 + 7200, 50);
	T_EQ_INT(store_flush_begin(s1, frozen), 1);
	T_EQ_INT(store_flush_step(s1, frozen, 1), 1);
	store_flush_abort(s1);
	T_CHECK(!store_flush_busy(s1) && !agg_empty(frozen));
	T_EQ_INT(q1(s1, "SELECT COUNT(*) FROM usage_hour WHERE hour >= "
	    "1794823200"), 0);
	/* a step for aggregates that are not the ones begun is refused */
	T_EQ_INT(store_flush_step(s1, frozen, 0), -1);
	T_EQ_INT(store_flush(s1, frozen, 0), 0);
	T_EQ_INT(q1(s1, "SELECT COUNT(*) FROM usage_hour WHERE hour >= "
	    "1794823200"), 6);
	agg_free(live);
	agg_free(frozen);
	agg_free(once);
	store_close(s1);
	store_close(s2);
}

/* A flush that cannot begin (another writer) leaves the aggregates for
 * the caller to give back; the store is free for the next try. */
static void
test_sliced_begin_fails(void)
{
	struct store *s = fresh("busy.db"), *s2;
	struct agg *a = agg_new(1000, 1 << 26);
	char err[512];

	traffic(a, T0, 1);
	s2 = store_open(dbpath, err, sizeof(err));
	T_CHECK(s != NULL && s2 != NULL);
	T_EQ_INT(sqlite3_exec(store_db(s2), "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	T_EQ_INT(store_flush_begin(s, a), -1);
	T_CHECK(!store_flush_busy(s) && !agg_empty(a));
	sqlite3_exec(store_db(s2), "ROLLBACK", NULL, NULL, NULL);
	store_close(s2);
	T_EQ_INT(store_flush_begin(s, a), 1);
	T_EQ_INT(store_flush_step(s, a, 0), 0);
	T_EQ_INT(q1(s, "SELECT SUM(tls_conns) FROM usage_hour"), 18);
	agg_free(a);
	store_close(s);
}

int
main(void)
{
	char cmd[300];

	if (mkdtemp(dir) == NULL)
		return 1;
	period_set_tz("UTC");
	cat = catalog_synthetic(3);
	T_RUN(test_flush_merges);
	T_RUN(test_failed_flush_keeps_counts);
	T_RUN(test_retention);
	T_RUN(test_refuses_damaged_and_newer);
	T_RUN(test_query_suppression);
	T_RUN(test_sliced_flush);
	T_RUN(test_sliced_begin_fails);
	catalog_free(cat);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return T_DONE();
}
