/*
 * dbutil.h - small SQLite helpers that the vault and the release
 * database share (both must tell their own file from the other's).
 */
#ifndef AIC_DBUTIL_H
#define AIC_DBUTIL_H

#include <sqlite3.h>

/* 1 when the database has a table of that name, 0 when not, -1 on error. */
int	db_has_table(sqlite3 *db, const char *name);

#endif /* AIC_DBUTIL_H */
