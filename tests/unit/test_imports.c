/*
 * test_imports.c - store/imports.c: the record of imported capture
 * files in a release database; what is refused, what --replace removes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/period.h"
#include "store/imports.h"
#include "store/relstore_sqlite.h"
#include "t.h"

static char dir[64];
static char db[128];

/* 2026-11-16 (Monday, ISO week 47) 00:00 UTC */
#define MON	1794787200LL
#define H	3600LL
#define US	1000000LL

static long long
sql_int(const char *sql)
{
	sqlite3 *d;
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_open(db, &d) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(d, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(d);
	return v;
}

static void
sql_exec(const char *sql)
{
	sqlite3 *d;

	if (sqlite3_open(db, &d) != SQLITE_OK ||
	    sqlite3_exec(d, sql, NULL, NULL, NULL) != SQLITE_OK)
		fprintf(stderr, "sql: %s\n", sqlite3_errmsg(d));
	sqlite3_close(d);
}

/* A fresh release database (the schema of the real store). */
static void
fresh(void)
{
	struct relstore *rs;
	char err[256];

	unlink(db);
	rs = relstore_sqlite_open(db, RELSTORE_WRITE, err, sizeof(err));
	if (rs == NULL)
		fprintf(stderr, "%s\n", err);
	relstore_close(rs);
}

/* What the release stage leaves for a period: a row and a cell. */
static void
released(int kind, int period)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO period VALUES(%d, %d, 202647,"
	    " 1, 1, 24, 1, 1); INSERT INTO cell(kind, period, dept, svc,"
	    " conns) VALUES(%d, %d, '*', '*', 7)", kind, period, kind, period);
	sql_exec(sql);
}

static struct import_file
file(const char *name, char c, int64_t first, int64_t last)
{
	struct import_file f;

	memset(&f, 0, sizeof(f));
	f.path = name;
	memset(f.fingerprint, c, 64);
	f.first_usec = first * US;
	f.last_usec = last * US;
	f.packets = 10;
	f.size = 1000;
	return f;
}

static int
plan(const struct import_file *f, size_t n, int flags, size_t *rep,
    char *err, size_t errlen)
{
	struct imports *im;
	char e[256];
	size_t r = 0;
	int rc;

	if ((im = imports_open(db, e, sizeof(e))) == NULL) {
		snprintf(err, errlen, "open: %s", e);
		return -2;
	}
	err[0] = '\0';
	rc = imports_plan(im, f, n, flags, MON + 30 * 24 * H, &r, err,
	    errlen);
	if (rc == 0 && imports_done(im) != 0)
		rc = -3;
	imports_close(im);
	if (rep != NULL)
		*rep = r;
	return rc;
}

static void
test_record(void)
{
	struct import_file f[2];
	char err[1024];

	fresh();
	/* Sunday 23:00 .. Monday 01:00 of week 47/48: two days, two weeks */
	f[0] = file("a.pcap", 'a', MON + 6 * 24 * H + 23 * H,
	    MON + 7 * 24 * H + H);
	f[1] = file("b.pcap", 'b', MON + 7 * 24 * H + 2 * H,
	    MON + 7 * 24 * H + 3 * H);
	T_EQ_INT(plan(f, 2, 0, NULL, err, sizeof(err)), 0);
	T_EQ_INT(sql_int("SELECT count(*) FROM import WHERE done = 1"), 2);
	T_EQ_INT(sql_int("SELECT count(*) FROM import_period i JOIN import"
	    " ON i.import = id WHERE fingerprint LIKE 'a%'"), 4);
	T_EQ_INT(sql_int("SELECT count(*) FROM import_period i JOIN import"
	    " ON i.import = id WHERE fingerprint LIKE 'a%' AND ((kind = 1 AND"
	    " period IN (20261122, 20261123)) OR (kind = 2 AND period IN"
	    " (202647, 202648)))"), 4);
	T_EQ_INT(sql_int("SELECT packets FROM import WHERE fingerprint LIKE 'b%'"),
	    10);
	T_EQ_INT(sql_int("SELECT first_usec FROM import WHERE fingerprint"
	    " LIKE 'b%'"), (MON + 7 * 24 * H + 2 * H) * US);
	/* no name is kept: the file's name may carry an identifier */
	T_EQ_INT(sql_int("SELECT count(*) FROM pragma_table_info('import')"
	    " WHERE name = 'name'"), 0);
}

static void
test_refused(void)
{
	struct import_file f[2];
	char err[1024];

	fresh();
	f[0] = file("a.pcap", 'a', MON + 8 * H, MON + 10 * H);
	T_EQ_INT(plan(f, 1, 0, NULL, err, sizeof(err)), 0);
	released(1, 20261116);
	released(2, 202647);

	/* the same bytes under another name */
	f[0] = file("copy.pcap", 'a', MON + 8 * H, MON + 10 * H);
	T_EQ_INT(plan(f, 1, 0, NULL, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "copy.pcap was already imported: the import "
	    "with fingerprint aaaaaaaaaaaa (packets 2026-11-16 08:00:00 UTC "
	    ".. 2026-11-16 10:00:00 UTC, imported 2026-12-16") != NULL);
	/* the earlier import by its fingerprint's first 12 digits only */
	T_CHECK(strstr(err, "aaaaaaaaaaaaa") == NULL);
	T_CHECK(strstr(err, "--replace") != NULL);

	/*
	 * The same fingerprint (size, first and last MiB) but another
	 * packet count, or another span: a different file, which the time
	 * spans then judge (here: overlapping, refused as such).
	 */
	f[0] = file("middle.pcap", 'a', MON + 8 * H, MON + 10 * H);
	f[0].packets = 11;
	T_EQ_INT(plan(f, 1, 0, NULL, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "middle.pcap overlaps in time the import with "
	    "fingerprint aaaaaaaaaaaa") != NULL &&
	    strstr(err, "already imported") == NULL);
	f[0] = file("later.pcap", 'a', MON + 8 * H, MON + 10 * H + 1);
	T_EQ_INT(plan(f, 1, 0, NULL, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "later.pcap overlaps in time") != NULL);

	/* other bytes over the same time */
	f[0] = file("merged.pcap", 'm', MON + 9 * H, MON + 12 * H);
	T_EQ_INT(plan(f, 1, 0, NULL, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "merged.pcap overlaps in time the import with "
	    "fingerprint aaaaaaaaaaaa") != NULL);

	/* the next hour of the rotation: the same day, released */
	f[0] = file("next.pcap", 'n', MON + 11 * H, MON + 12 * H);
	T_EQ_INT(plan(f, 1, 0, NULL, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "next.pcap falls in day 2026-11-16, already "
	    "released from the import with fingerprint aaaaaaaaaaaa") !=
	    NULL && strstr(err, "counts of next.pcap there") != NULL);
	/* nothing was recorded by the refusals */
	T_EQ_INT(sql_int("SELECT count(*) FROM import"), 1);
	T_EQ_INT(sql_int("SELECT count(*) FROM period"), 2);

	/* a period released without a record (a live capture's) */
	released(1, 20261118);
	f[0] = file("wed.pcap", 'w', MON + 2 * 24 * H + H,
	    MON + 2 * 24 * H + 2 * H);
	T_EQ_INT(plan(f, 1, IMPORT_REPLACE, NULL, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "day 2026-11-18, which was released without an "
	    "import record") != NULL);
	/* ... which a shipping sensor does not refuse (no cell to lose)
	 * (but the week it shares with a.pcap it does) */
	T_EQ_INT(plan(f, 1, IMPORT_UNRECORDED, NULL, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "week 2026-W47, already released from the "
	    "import with fingerprint aaaaaaaaaaaa") != NULL);
}

static void
test_replace(void)
{
	struct import_file f[3];
	char err[1024];
	size_t rep = 0;

	fresh();
	f[0] = file("h08.pcap", '1', MON + 8 * H, MON + 9 * H - 1);
	T_EQ_INT(plan(f, 1, 0, NULL, err, sizeof(err)), 0);
	released(1, 20261116);
	released(2, 202647);
	/* another week, another import: untouched by what follows */
	f[0] = file("later.pcap", 'l', MON + 14 * 24 * H, MON + 14 * 24 * H +
	    H);
	T_EQ_INT(plan(f, 1, 0, NULL, err, sizeof(err)), 0);
	released(1, 20261130);
	released(2, 202649);

	/* --replace with the next hour alone: the day holds h08.pcap */
	f[0] = file("h09.pcap", '2', MON + 9 * H, MON + 10 * H - 1);
	T_EQ_INT(plan(f, 1, IMPORT_REPLACE, NULL, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "also hold the import with fingerprint "
	    "111111111111 (packets 2026-11-16 08:00:00 UTC") != NULL &&
	    strstr(err, "does not give again") != NULL);
	T_EQ_INT(sql_int("SELECT count(*) FROM period"), 4);

	/* both hours: h08.pcap's day and week go, to be released again */
	f[0] = file("h08.pcap", '1', MON + 8 * H, MON + 9 * H - 1);
	f[1] = file("h09.pcap", '2', MON + 9 * H, MON + 10 * H - 1);
	T_EQ_INT(plan(f, 2, IMPORT_REPLACE, &rep, err, sizeof(err)), 0);
	T_EQ_INT(rep, 1);
	T_EQ_INT(sql_int("SELECT count(*) FROM period WHERE period IN"
	    " (20261116, 202647)"), 0);
	T_EQ_INT(sql_int("SELECT count(*) FROM cell WHERE period IN"
	    " (20261116, 202647)"), 0);
	T_EQ_INT(sql_int("SELECT count(*) FROM period"), 2);
	T_EQ_INT(sql_int("SELECT count(*) FROM import"), 3);
	T_EQ_INT(sql_int("SELECT count(*) FROM import WHERE fingerprint"
	    " LIKE 'l%'"), 1);

	/* a merged file spanning both hours replaces the two */
	released(1, 20261116);
	released(2, 202647);
	f[0] = file("merged.pcap", 'm', MON + 8 * H, MON + 10 * H);
	T_EQ_INT(plan(f, 1, IMPORT_REPLACE, &rep, err, sizeof(err)), 0);
	T_EQ_INT(rep, 2);
	T_EQ_INT(sql_int("SELECT count(*) FROM import"), 2);
	T_EQ_INT(sql_int("SELECT count(*) FROM period"), 2);
}

static void
test_central(void)
{
	struct import_file f[1];
	char err[1024];
	size_t rep = 0;
	long long at;

	fresh();
	f[0] = file("a.pcap", 'a', MON + 8 * H, MON + 10 * H);
	T_EQ_INT(plan(f, 1, 0, NULL, err, sizeof(err)), 0);
	released(1, 20261116);
	released(2, 202647);
	at = sql_int("SELECT id FROM import");
	/* the same bytes: read and shipped again, nothing here changes */
	T_EQ_INT(plan(f, 1, IMPORT_REPLACE | IMPORT_SAME_ONLY |
	    IMPORT_UNRECORDED, &rep, err, sizeof(err)), 0);
	T_EQ_INT(rep, 1);
	T_EQ_INT(sql_int("SELECT count(*) FROM period"), 2);
	T_EQ_INT(sql_int("SELECT count(*) FROM import"), 1);
	T_EQ_INT(sql_int("SELECT id FROM import"), at);
	/* other bytes could not take back the cells shipped */
	f[0] = file("other.pcap", 'o', MON + 8 * H, MON + 11 * H);
	T_EQ_INT(plan(f, 1, IMPORT_REPLACE | IMPORT_SAME_ONLY |
	    IMPORT_UNRECORDED, &rep, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "central group: the import with fingerprint "
	    "aaaaaaaaaaaa") != NULL);
	/* nor a file of the same fingerprint but another packet count */
	f[0] = file("a.pcap", 'a', MON + 8 * H, MON + 10 * H);
	f[0].packets = 9;
	T_EQ_INT(plan(f, 1, IMPORT_REPLACE | IMPORT_SAME_ONLY |
	    IMPORT_UNRECORDED, &rep, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "central group: the import with fingerprint "
	    "aaaaaaaaaaaa") != NULL);
	T_EQ_INT(sql_int("SELECT count(*) FROM period"), 2);
}

/* 1 when the bytes of s are anywhere in the file at path. */
static int
file_has(const char *path, const char *s)
{
	FILE *fp;
	char *buf;
	size_t n, len = strlen(s), i;
	int found = 0;

	if ((fp = fopen(path, "rb")) == NULL)
		return 0;
	if ((buf = malloc(1 << 22)) == NULL) {
		fclose(fp);
		return 0;
	}
	n = fread(buf, 1, 1 << 22, fp);
	fclose(fp);
	for (i = 0; i + len <= n && !found; i++)
		found = memcmp(buf + i, s, len) == 0;
	free(buf);
	return found;
}

/*
 * A record written before names were dropped: the name column goes at
 * open, the rows stay and still refuse, and the names' bytes are gone
 * from the file (not left in a free page).
 */
static void
old_record(void)
{
	fresh();
	sql_exec("CREATE TABLE import(id INTEGER PRIMARY KEY,"
	    " name TEXT NOT NULL, fingerprint TEXT NOT NULL, size INTEGER NOT"
	    " NULL, first_usec INTEGER NOT NULL, last_usec INTEGER NOT NULL,"
	    " packets INTEGER NOT NULL, imported_at INTEGER NOT NULL,"
	    " done INTEGER NOT NULL);"
	    "CREATE TABLE import_period(import INTEGER NOT NULL,"
	    " kind INTEGER NOT NULL, period INTEGER NOT NULL,"
	    " PRIMARY KEY(import, kind, period)) WITHOUT ROWID;"
	    "INSERT INTO import VALUES(7, '10.1.2.3-jdoe-laptop.pcap',"
	    " 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',"
	    " 1000, 1794816000000000, 1794823200000000, 10, 1797000000, 1);"
	    "INSERT INTO import_period VALUES(7, 1, 20261116), (7, 2, 202647);");
	released(1, 20261116);
	released(2, 202647);
}

static void
test_migrate(void)
{
	struct import_file f[1];
	struct imports *im;
	char err[1024];

	old_record();
	T_CHECK(file_has(db, "jdoe-laptop"));
	im = imports_open(db, err, sizeof(err));
	T_CHECK(im != NULL);
	imports_close(im);
	T_EQ_INT(sql_int("SELECT count(*) FROM pragma_table_info('import')"
	    " WHERE name = 'name'"), 0);
	T_EQ_INT(sql_int("SELECT count(*) FROM import WHERE id = 7 AND"
	    " packets = 10 AND done = 1"), 1);
	T_CHECK(!file_has(db, "jdoe-laptop"));
	T_CHECK(!file_has(db, "10.1.2.3"));
	/* the migrated row still refuses the same file */
	f[0] = file("again.pcap", 'a', MON + 8 * H, MON + 10 * H);
	T_EQ_INT(plan(f, 1, 0, NULL, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "again.pcap was already imported: the import "
	    "with fingerprint aaaaaaaaaaaa") != NULL);
	/* a second open finds nothing to do */
	im = imports_open(db, err, sizeof(err));
	T_CHECK(im != NULL);
	imports_close(im);
	T_EQ_INT(sql_int("SELECT count(*) FROM import"), 1);

	/* what a live daemon does at start: the same, nothing created */
	old_record();
	T_CHECK(file_has(db, "jdoe-laptop"));
	T_EQ_INT(imports_migrate(db, err, sizeof(err)), 1);
	T_CHECK(!file_has(db, "jdoe-laptop"));
	T_EQ_INT(sql_int("SELECT count(*) FROM import WHERE packets = 10"), 1);
	T_EQ_INT(imports_migrate(db, err, sizeof(err)), 0);
	fresh();
	T_EQ_INT(imports_migrate(db, err, sizeof(err)), 0);
	T_EQ_INT(sql_int("SELECT count(*) FROM sqlite_master WHERE name ="
	    " 'import'"), 0);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/aic-imports.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(db, sizeof(db), "%s/released.db", dir);
	if (period_set_tz("UTC") != 0)
		return 1;
	T_RUN(test_record);
	T_RUN(test_refused);
	T_RUN(test_replace);
	T_RUN(test_central);
	T_RUN(test_migrate);
	unlink(db);
	rmdir(dir);
	return T_DONE();
}
