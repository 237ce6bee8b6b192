/*
 * alertlog.c - the alert tables in the release database's file
 * (alertlog.h): every SQL statement that touches them is here.
 *
 * Its own connection to the file, apart from the release stage's: the
 * alerts run on a thread of their own (out/alert.c).  The file keeps a
 * rollback journal (relstore_sqlite.c says why), so every statement here
 * is short and no read stays open while an alert is delivered: a
 * delivery may take seconds, and the release stage must be able to
 * write meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/alertlog.h"
#include "store/dbutil.h"

struct alertlog {
	sqlite3	*db;
	char	 err[256];
};

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS alert_week(week INTEGER PRIMARY KEY);"
    "CREATE TABLE IF NOT EXISTS alert(key TEXT PRIMARY KEY,"
    " week INTEGER NOT NULL, created INTEGER NOT NULL,"
    " body TEXT NOT NULL, webhook INTEGER NOT NULL,"
    " mail INTEGER NOT NULL);";

static const char *const channel_col[ALERT_NCHANNEL] = { "webhook", "mail" };

static int
dberr(struct alertlog *a)
{
	snprintf(a->err, sizeof(a->err), "%s", sqlite3_errmsg(a->db));
	return -1;
}

static int
exec(struct alertlog *a, const char *sql)
{
	return sqlite3_exec(a->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 :
	    dberr(a);
}

struct alertlog *
alertlog_open(const char *path, int *fresh, char *err, size_t errlen)
{
	struct alertlog *a;
	int has;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* never creates the file: the release stage does */
	if (sqlite3_open_v2(path, &a->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open release database %s: %s",
		    path, a->db ? sqlite3_errmsg(a->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(a->db, 5000);
	if (db_has_table(a->db, "cell") != 1 ||
	    db_has_table(a->db, "period") != 1) {
		snprintf(err, errlen, "%s is not a release database", path);
		goto fail;
	}
	if ((has = db_has_table(a->db, "alert_week")) < 0) {
		snprintf(err, errlen, "release database %s: %s", path,
		    sqlite3_errmsg(a->db));
		goto fail;
	}
	*fresh = has == 0;
	if (!has && exec(a, schema_sql) != 0) {
		snprintf(err, errlen, "release database %s: %s", path, a->err);
		goto fail;
	}
	return a;
fail:
	sqlite3_close(a->db);
	free(a);
	return NULL;
}

void
alertlog_close(struct alertlog *a)
{
	if (a == NULL)
		return;
	sqlite3_close(a->db);
	free(a);
}

const char *
alertlog_error(struct alertlog *a)
{
	return a->err;
}

int
alertlog_begin(struct alertlog *a)
{
	return exec(a, "BEGIN IMMEDIATE");
}

int
alertlog_commit(struct alertlog *a)
{
	if (exec(a, "COMMIT") == 0)
		return 0;
	alertlog_rollback(a);
	return -1;
}

void
alertlog_rollback(struct alertlog *a)
{
	sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
}

int
alertlog_judged(struct alertlog *a, int32_t week)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(a->db, "SELECT 1 FROM alert_week WHERE week = ?",
	    -1, &st, NULL) != SQLITE_OK)
		return dberr(a);
	sqlite3_bind_int(st, 1, week);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : dberr(a);
}

int
alertlog_mark(struct alertlog *a, int32_t week)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(a->db, "INSERT OR IGNORE INTO alert_week "
	    "VALUES(?)", -1, &st, NULL) != SQLITE_OK)
		return dberr(a);
	sqlite3_bind_int(st, 1, week);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : dberr(a);
}

int
alertlog_add(struct alertlog *a, const char *key, int32_t week,
    const char *body, int64_t now, const int want[ALERT_NCHANNEL])
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(a->db, "INSERT OR IGNORE INTO alert(key, week, "
	    "created, body, webhook, mail) VALUES(?, ?, ?, ?, ?, ?)", -1, &st,
	    NULL) != SQLITE_OK)
		return dberr(a);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, week);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_text(st, 4, body, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, want[ALERT_WEBHOOK] != 0);
	sqlite3_bind_int(st, 6, want[ALERT_MAIL] != 0);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return dberr(a);
	return sqlite3_changes(a->db) > 0;
}

struct waiting {
	char	*key, *body;
};

/*
 * What waits is read whole and the statement finished before the first
 * delivery: a read held open for a slow receiver would keep the release
 * stage from writing.
 */
int
alertlog_waiting(struct alertlog *a, enum alert_channel c, alertlog_fn fn,
    void *arg)
{
	struct waiting *w = NULL, *nw;
	sqlite3_stmt *st;
	char sql[128];
	size_t n = 0, cap = 0, i;
	int rc, ret = -1;

	snprintf(sql, sizeof(sql), "SELECT key, body FROM alert WHERE %s = 1 "
	    "ORDER BY created, key", channel_col[c]);
	if (sqlite3_prepare_v2(a->db, sql, -1, &st, NULL) != SQLITE_OK)
		return dberr(a);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *b = (const char *)sqlite3_column_text(st, 1);

		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			if ((nw = realloc(w, cap * sizeof(*w))) == NULL) {
				snprintf(a->err, sizeof(a->err), "out of memory");
				sqlite3_finalize(st);
				goto done;
			}
			w = nw;
		}
		w[n].key = strdup(k ? k : "");
		w[n].body = strdup(b ? b : "");
		n++;
		if (w[n - 1].key == NULL || w[n - 1].body == NULL) {
			snprintf(a->err, sizeof(a->err), "out of memory");
			sqlite3_finalize(st);
			goto done;
		}
	}
	if (rc != SQLITE_DONE) {
		dberr(a);
		sqlite3_finalize(st);
		goto done;
	}
	sqlite3_finalize(st);
	ret = 0;
	for (i = 0; i < n; i++)
		if (fn(arg, w[i].key, w[i].body) != 0)
			break;
done:
	for (i = 0; i < n; i++) {
		free(w[i].key);
		free(w[i].body);
	}
	free(w);
	return ret;
}

int
alertlog_delivered(struct alertlog *a, const char *key, enum alert_channel c)
{
	sqlite3_stmt *st;
	char sql[96];
	int rc;

	snprintf(sql, sizeof(sql), "UPDATE alert SET %s = 0 WHERE key = ?",
	    channel_col[c]);
	if (sqlite3_prepare_v2(a->db, sql, -1, &st, NULL) != SQLITE_OK)
		return dberr(a);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : dberr(a);
}
