/*
 * test_vaultdb.c - the vault's storage (store/vaultdb.h) on its own:
 * schema states are told apart (new, current, newer, unversioned,
 * other); rows come back in seq order and exactly as written; a
 * callback's stop value is returned; replace keeps later rows;
 * finalise deletes every row of the week and records it once; a
 * rolled-back transaction leaves nothing; a failed COMMIT says why;
 * the week list and byte count follow the rows; a damaged file is
 * refused.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "t.h"
#include "store/vaultdb.h"

static char dir[64];
static char err[1024];

static void
path_of(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static void
sql(const char *name, const char *stmt)
{
	char p[256];
	sqlite3 *db;

	path_of(p, sizeof(p), name);
	if (sqlite3_open(p, &db) == SQLITE_OK)
		sqlite3_exec(db, stmt, NULL, NULL, NULL);
	sqlite3_close(db);
}

static struct vaultdb *
dbopen(const char *name)
{
	char p[256];
	struct vaultdb *d;

	path_of(p, sizeof(p), name);
	if ((d = vaultdb_open(name ? p : NULL, err, sizeof(err))) == NULL)
		fprintf(stderr, "vaultdb_open: %s\n", err);
	return d;
}

static enum vaultdb_schema
schema_of(const char *name, int *ver)
{
	struct vaultdb *d = dbopen(name);
	enum vaultdb_schema s;

	if (d == NULL)
		return VDB_ERROR;
	s = vaultdb_schema(d, ver);
	vaultdb_close(d);
	return s;
}

static void
test_schema(void)
{
	struct vaultdb *d;
	char p[256];
	int ver, fd;

	T_EQ_INT(schema_of("s1.db", &ver), VDB_EMPTY);
	T_EQ_INT(ver, 0);
	T_CHECK((d = dbopen("s1.db")) != NULL);
	if (d == NULL)
		return;
	T_EQ_INT(vaultdb_create(d), 0);
	T_EQ_INT(vaultdb_schema(d, &ver), VDB_CURRENT);
	T_EQ_INT(ver, VAULTDB_VERSION);
	vaultdb_close(d);
	T_EQ_INT(schema_of("s1.db", &ver), VDB_CURRENT);

	sql("s1.db", "PRAGMA user_version = 3");
	T_EQ_INT(schema_of("s1.db", &ver), VDB_NEWER);
	T_EQ_INT(ver, 3);
	sql("s1.db", "PRAGMA user_version = 0");
	T_EQ_INT(schema_of("s1.db", &ver), VDB_UNVERSIONED);
	/* version 2 without its table: not one we can use */
	sql("s1.db", "DROP TABLE delta; PRAGMA user_version = 2");
	T_EQ_INT(schema_of("s1.db", &ver), VDB_OTHER);
	/* version 1 without usage_hour is not a v1 vault either */
	sql("s1.db", "PRAGMA user_version = 1");
	T_EQ_INT(schema_of("s1.db", &ver), VDB_OTHER);
	sql("s1.db", "CREATE TABLE usage_hour(x)");
	T_EQ_INT(schema_of("s1.db", &ver), VDB_V1);

	/* a file that is not a database is refused with the fix named */
	path_of(p, sizeof(p), "junk.db");
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	T_CHECK(fd >= 0 && write(fd, "this is not a database file, not at "
	    "all, not even close to one", 60) == 60);
	close(fd);
	T_CHECK(vaultdb_open(p, err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "refusing to touch it") != NULL);
}

struct seen {
	int	 n;
	int64_t	 seq[8];
	uint8_t	 first[8];
	size_t	 len[8];
	int	 stop_at;
};

static int
collect(void *arg, int64_t seq, const uint8_t *blob, size_t len)
{
	struct seen *s = arg;

	if (s->n < 8) {
		s->seq[s->n] = seq;
		s->first[s->n] = len ? blob[0] : 0;
		s->len[s->n] = len;
	}
	s->n++;
	return s->stop_at != 0 && s->n == s->stop_at ? 7 : 0;
}

static void
test_rows(void)
{
	struct vaultdb *d = dbopen(NULL);
	uint8_t b[300];
	struct seen s;
	int32_t *weeks;
	size_t nw;
	int64_t seq;
	char why[256];

	T_CHECK(d != NULL);
	if (d == NULL)
		return;
	T_EQ_INT(vaultdb_schema(d, &(int){ 0 }), VDB_EMPTY);
	T_EQ_INT(vaultdb_create(d), 0);
	T_EQ_INT(vaultdb_weeks(d, &weeks, &nw), 0);
	T_EQ_INT(nw, 0);
	T_CHECK(weeks == NULL);
	T_EQ_INT(vaultdb_last_seq(d, 202647, &seq), 0);
	T_EQ_INT(seq, 0);
	T_EQ_INT(vaultdb_bytes(d), 0);

	/* out of order on purpose: rows come back by seq */
	memset(b, 0, sizeof(b));
	T_EQ_INT(vaultdb_begin(d), 0);
	b[0] = 3;
	T_EQ_INT(vaultdb_put(d, 202647, 3, b, 30), 0);
	b[0] = 1;
	T_EQ_INT(vaultdb_put(d, 202647, 1, b, 10), 0);
	b[0] = 2;
	T_EQ_INT(vaultdb_put(d, 202647, 2, b, 20), 0);
	b[0] = 9;
	T_EQ_INT(vaultdb_put(d, 202648, 1, b, 300), 0);
	/* (week, seq) is the key: a second row 1 is an error */
	T_CHECK(vaultdb_put(d, 202648, 1, b, 5) != 0);
	T_CHECK(vaultdb_failed(d));
	T_EQ_INT(vaultdb_commit(d, why, sizeof(why)), 0);

	T_EQ_INT(vaultdb_last_seq(d, 202647, &seq), 0);
	T_EQ_INT(seq, 3);
	T_EQ_INT(vaultdb_bytes(d), 10 + 20 + 30 + 300);
	memset(&s, 0, sizeof(s));
	T_EQ_INT(vaultdb_rows(d, 202647, collect, &s), 0);
	T_EQ_INT(s.n, 3);
	T_EQ_INT(s.seq[0], 1);
	T_EQ_INT(s.seq[1], 2);
	T_EQ_INT(s.seq[2], 3);
	T_EQ_INT(s.first[0], 1);
	T_EQ_INT(s.first[2], 3);
	T_EQ_INT(s.len[1], 20);
	/* the callback's stop value comes back, nothing after it is read */
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	T_EQ_INT(vaultdb_rows(d, 202647, collect, &s), 7);
	T_EQ_INT(s.n, 2);
	T_EQ_INT(vaultdb_has_rows(d, 202647), 1);
	T_EQ_INT(vaultdb_has_rows(d, 202646), 0);
	T_EQ_INT(vaultdb_weeks(d, &weeks, &nw), 0);
	T_EQ_INT(nw, 2);
	if (nw == 2) {
		T_EQ_INT(weeks[0], 202647);
		T_EQ_INT(weeks[1], 202648);
	}
	free(weeks);

	/* a rolled-back row is gone */
	T_EQ_INT(vaultdb_begin(d), 0);
	T_EQ_INT(vaultdb_put(d, 202647, 4, b, 40), 0);
	vaultdb_rollback(d);
	T_EQ_INT(vaultdb_last_seq(d, 202647, &seq), 0);
	T_EQ_INT(seq, 3);

	/* replace: rows up to 2 become one row 2, row 3 stays */
	b[0] = 7;
	T_EQ_INT(vaultdb_replace(d, 202647, 2, b, 15), 0);
	memset(&s, 0, sizeof(s));
	T_EQ_INT(vaultdb_rows(d, 202647, collect, &s), 0);
	T_EQ_INT(s.n, 2);
	T_EQ_INT(s.seq[0], 2);
	T_EQ_INT(s.first[0], 7);
	T_EQ_INT(s.len[0], 15);
	T_EQ_INT(s.seq[1], 3);
	T_EQ_INT(vaultdb_bytes(d), 15 + 30 + 300);

	/* finalise: every row gone, recorded once, again is harmless */
	T_EQ_INT(vaultdb_is_finalised(d, 202647), 0);
	T_EQ_INT(vaultdb_finalise(d, 202647, 1000), 0);
	T_EQ_INT(vaultdb_has_rows(d, 202647), 0);
	T_EQ_INT(vaultdb_is_finalised(d, 202647), 1);
	T_EQ_INT(vaultdb_is_finalised(d, 202648), 0);
	T_EQ_INT(vaultdb_finalise(d, 202647, 2000), 0);
	T_EQ_INT(vaultdb_bytes(d), 300);
	T_EQ_INT(vaultdb_weeks(d, &weeks, &nw), 0);
	T_EQ_INT(nw, 1);
	free(weeks);

	/* COMMIT with no transaction fails and says why */
	why[0] = '\0';
	T_CHECK(vaultdb_commit(d, why, sizeof(why)) != 0);
	T_CHECK(why[0] != '\0');
	vaultdb_close(d);
}

static void
test_meta_on_disk(void)
{
	struct vaultdb *d = dbopen("m.db");
	char p[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	int found = 0;

	T_CHECK(d != NULL);
	if (d == NULL)
		return;
	T_EQ_INT(vaultdb_create(d), 0);
	vaultdb_meta_set(d, "timezone", "Europe/Amsterdam");
	vaultdb_meta_set(d, "timezone", "UTC");	/* replaced, not added */
	vaultdb_truncate_wal(d);
	vaultdb_close(d);
	path_of(p, sizeof(p), "m.db");
	T_CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key ="
	    " 'timezone'", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			found++;
			T_EQ_STR((const char *)sqlite3_column_text(st, 0),
			    "UTC");
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	T_EQ_INT(found, 1);
}

int
main(void)
{
	char cmd[128];
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/unittests-vaultdb-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_schema);
	T_RUN(test_rows);
	T_RUN(test_meta_on_disk);
	rc = T_DONE();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return rc;
}
