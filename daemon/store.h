/*
 * store.h - the SQLite database: the only place aggregates are written.
 *
 * One writer (the daemon), WAL so readers (reports, the API, a person
 * with sqlite3) never block it, one transaction per flush, and a numbered
 * migration ladder in PRAGMA user_version.  A flush either commits every
 * cell or none: on failure (locked, read-only, disk full) it rolls back,
 * leaves the in-memory aggregates untouched for the next try, and says
 * so once in the log, not once per try.  The schema is in docs/SCHEMA.md.
 */
#ifndef AIC_STORE_H
#define AIC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct agg;
struct catalog;

#define STORE_SCHEMA_VERSION	1
#define STORE_UNASSIGNED	"unassigned"

struct store;

/* Opens (creating when absent) and migrates; NULL with err on failure. */
struct store *store_open(const char *path, char *err, size_t errlen);
void	 store_close(struct store *);
sqlite3	*store_db(struct store *);

/*
 * Make sure every configured department and catalog service has a row,
 * and remember their ids for flushes (called again after a reload).
 */
int	 store_set_dims(struct store *, char *const *dept_names, size_t n_depts,
	    const struct catalog *cat, char *const *sanctioned, size_t n_sanct,
	    const char *timezone, int min_group_size);

/* Merge the aggregates into the database; clears them on success. */
int	 store_flush(struct store *, struct agg *, int64_t now);

/*
 * The same flush in slices, for an event loop that must keep reading
 * packets (a full hour of 100 departments x 300 services is far more
 * than one loop turn should take).  begin: 1 started, 0 nothing to
 * write, -1 failed (logged once).  step: writes for about budget_usec
 * (0: to the end) and returns 1 while there is more, 2 while the COMMIT
 * runs on a thread of its own (call again a little later), 0 once
 * committed and a cleared, -1 if rolled back (a untouched).  The aggregates must
 * not change between begin and the end: the daemon writes one of a pair
 * (agg_pair) while capture fills the other.  One transaction covers
 * all slices, so readers see the whole flush or none of it.  abort
 * rolls back one under way (a untouched).
 */
int	 store_flush_begin(struct store *, struct agg *);
int	 store_flush_step(struct store *, struct agg *, uint64_t budget_usec);
int	 store_flush_busy(const struct store *);
void	 store_flush_abort(struct store *);
/* Drop usage older than days, and hour sketches of finished hours. */
int	 store_retention(struct store *, int64_t now, int days);

/* Called by store_flush for each committed usage cell (exporters). */
typedef void (*store_row_cb)(void *arg, const void *cell, const char *dept,
	    const char *svc, uint64_t device_hours);
void	 store_set_row_cb(struct store *, store_row_cb cb, void *arg);

#endif /* AIC_STORE_H */
