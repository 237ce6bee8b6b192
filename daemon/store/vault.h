/*
 * vault.h - the raw working database: what was counted and is not yet
 * released, readable only with its week's key.
 *
 * Nothing in this file is plaintext but bookkeeping: every flush seals
 * the aggregates of each ISO week it holds (counters, hour sketches of
 * device hashes, blind-spot hours, with department and service NAMES)
 * under that week's K_enc (weekkey.h) into one row; releasing a day
 * folds the week's rows into one sealed snapshot; releasing a week
 * deletes all its rows and the caller's weekkey_destroy() makes every
 * copy of them (WAL, freelist pages, backups) unreadable.  Schema in
 * docs/SCHEMA.md; file mode 0600, and a file that group or others may
 * read is refused.  One writer (the daemon); nobody else has a reason to
 * open it: outputs read the release database (released.h).
 *
 * Flushes keep the contract store.c had: one transaction per flush,
 * written in slices while capture fills the other half of an agg pair,
 * the COMMIT on a thread of its own; on failure nothing is lost (the
 * aggregates stay for the next try) and the log says so once.
 *
 * A v1 database (plaintext usage and sketches) is migrated at open:
 * its complete weeks are handed to a publisher (the release stage's,
 * release/due.h), every old table is dropped, the file VACUUMed and the
 * WAL truncated, and one log line says what happened.
 *
 * The vault never reaches the release stage: release/due.c decides what
 * is due and publishes it, using the week primitives below (load a
 * week's state, compact it, finalise it).  The SQL is vaultdb.h's.
 */
#ifndef AIC_VAULT_H
#define AIC_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "aggregate/relinput.h"

struct agg;
struct vaultdb;
struct catalog;
struct wacc;
struct weekkey;

#define VAULT_SCHEMA_VERSION	2

struct vault;

/*
 * Publishes one old week during a v1 migration: 1 published, 0 already
 * published, -1 failed (the migration stops, the old database is left
 * as it was).  keys holds the week's (throw-away) key.
 */
typedef int (*vault_publish_fn)(void *arg, const struct rel_input *in,
	    const struct weekkey *keys, int64_t now);

/*
 * 0 when path is absent (vault_open() creates it 0600) or a regular file
 * only its owner may access; else -1 with err naming the fix.  What
 * vault_open() refuses first, for `aicensusd -n`.
 */
int	 vault_check_file(const char *path, char *err, size_t errlen);

/*
 * path NULL: an in-memory vault (aicensusd -r: nothing raw is ever
 * written).  keys is borrowed and must outlive the vault.  dims name
 * the grid (and the time zone recorded); dims and publish are needed to
 * release a v1 database's weeks during migration (publish NULL: v1
 * weeks are destroyed, not released).
 */
struct vault *vault_open(const char *path, struct weekkey *keys,
	    const struct rel_dims *dims, vault_publish_fn publish, void *arg,
	    char *err, size_t errlen);
void	 vault_close(struct vault *);

/* How the agg's department and service indices are named (again after
 * a reload): dept index i < ndept is dept[i], anything else unassigned;
 * svc index is the catalog index. */
void	 vault_set_dims(struct vault *, char *const *dept, size_t ndept,
	    const struct catalog *cat);

/*
 * Flushing, as store.h had it: begin 1 started, 0 nothing to write, -1
 * failed; step returns 1 more slices, 2 COMMIT running on its thread
 * (call again soon), 0 committed and a cleared, -1 rolled back (a
 * untouched).  vault_flush does it all at once (0 ok, -1 failed).
 * Counts of a week already finalised are not sealed: they are dropped
 * and counted (vault_late), never published.
 */
int	 vault_flush_begin(struct vault *, struct agg *);
int	 vault_flush_step(struct vault *, struct agg *, uint64_t budget_usec);
int	 vault_flush_busy(const struct vault *);
void	 vault_flush_abort(struct vault *);
int	 vault_flush(struct vault *, struct agg *);
uint64_t vault_late(const struct vault *);

/* The week keys the vault seals with (borrowed at open). */
struct weekkey *vault_keys(struct vault *);

/*
 * For the release stage (release/due.h), which orders its calls so
 * that a crash never loses or repeats a release: release database
 * first, then the vault, then the key.  None of them may run while a
 * flush is under way (vault_flush_busy).
 *
 * vault_weeks: the weeks that have rows, ascending, malloc'd (*weeks
 * NULL when none); 0 ok, -1 failed.
 * vault_week_pending: 1 when a release pass must open the week: it is
 * before curweek (or curweek is 0), or a day of it before today (or
 * today is 0) was sealed since the last pass, or the last pass failed
 * or there was none since open; 0 when it can be left closed.
 * vault_pass_end: a pass is over (failed or not): what it saw released
 * is forgotten, or everything is opened next time.
 * vault_week_load: every row of the week, opened and merged in order:
 * 0 ok (*w, NULL when the week has no rows, and *maxseq, the last row
 * folded in), -1 storage or memory failure, -2 a row does not open (key
 * lost, tampering) or is invalid.
 * vault_week_compact: rows up to maxseq replaced by one sealed snapshot
 * of w (a day was released from it).
 * vault_week_finalise: every row of the week deleted, the week recorded
 * as finalised (later counts for it are dropped as late).
 * vault_week_has_rows: 1 yes, 0 no, -1 failed.
 */
int	 vault_weeks(struct vault *, int32_t **weeks, size_t *n);
int	 vault_week_pending(const struct vault *, int32_t week, int32_t today,
	    int32_t curweek);
void	 vault_pass_end(struct vault *, int failed, int32_t today,
	    int32_t curweek);
int	 vault_week_load(struct vault *, int32_t week, struct wacc **w,
	    int64_t *maxseq);
/*
 * The same for the rows after seq `after` only (*w NULL when none): a
 * reader that merged the rows up to `after` merges these to be up to
 * date, as long as no compaction or finalisation happened in between.
 */
int	 vault_week_load_after(struct vault *, int32_t week, int64_t after,
	    struct wacc **w, int64_t *maxseq);
int	 vault_week_compact(struct vault *, const struct wacc *w,
	    int64_t maxseq);
int	 vault_week_finalise(struct vault *, int32_t week, int64_t now);
int	 vault_week_has_rows(struct vault *, int32_t week);

/* The vault's storage, for the outbox that shares its file
 * (store/outbox.h); not to be used while a flush is under way. */
struct vaultdb *vault_db(struct vault *);

/* Bytes of sealed rows held (status, tests). */
uint64_t vault_bytes(struct vault *);

#endif /* AIC_VAULT_H */
