/*
 * relstore_sqlite.h - the release database in one SQLite file, the
 * embedded default (relstore.h is the interface).
 *
 * The file's layout is the release database of spec.md: tables meta,
 * period, dim, service, cell and blind, and meta "schema_version".
 */
#ifndef AIC_RELSTORE_SQLITE_H
#define AIC_RELSTORE_SQLITE_H

#include <stddef.h>

#include "store/relstore.h"

/*
 * The file's schema version (meta "schema_version"), the one definition:
 * the writer refuses a file above it, the reader one outside 1..it.
 */
#define RELSTORE_SQLITE_VERSION	1

/*
 * RELSTORE_WRITE: opens the file, creating it (mode 0640, whatever the
 * umask) and its tables; refuses the raw working database (the vault),
 * any other database, and a newer schema.  RELSTORE_READ: opens an
 * existing file read-only; refuses the same with messages that tell a
 * reader what to open instead.  NULL with err on failure.
 */
struct relstore	*relstore_sqlite_open(const char *path, enum relstore_mode,
		    char *err, size_t errlen);

#endif /* AIC_RELSTORE_SQLITE_H */
