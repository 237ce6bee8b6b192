/*
 * tsql.h - for unit tests that look at a database behind the store's
 * back: one integer that a query returns.
 */
#ifndef AIC_TSQL_H
#define AIC_TSQL_H

#include <sqlite3.h>

/* The first column of the first row of sql on path, read-only; -1 when
 * the file, the query or the row is missing. */
static inline long long
t_sql_int(const char *path, const char *sql)
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

#endif /* AIC_TSQL_H */
