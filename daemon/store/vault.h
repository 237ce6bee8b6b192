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
 * its complete weeks are released through the release stage, every old
 * table is dropped, the file VACUUMed and the WAL truncated, and one log
 * line says what happened.
 */
#ifndef AIC_VAULT_H
#define AIC_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "release/release.h"

struct agg;
struct catalog;
struct weekkey;
struct reldb;

#define VAULT_SCHEMA_VERSION	2

struct vault;

/*
 * path NULL: an in-memory vault (aicensusd -r: nothing raw is ever
 * written).  keys is borrowed and must outlive the vault.  rel/dims/
 * params are needed to release a v1 database's weeks during migration
 * (NULL rel: v1 weeks are destroyed, not released).
 */
struct vault *vault_open(const char *path, struct weekkey *keys,
	    struct reldb *rel, const struct rel_dims *dims,
	    const struct rel_params *params, char *err, size_t errlen);
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

/*
 * Release what is due, in order and crash-safe (release DB first, then
 * the vault, then the key): every unreleased day before `today` (local
 * YYYYMMDD) that has data, then every week before `week` (its remaining
 * days, the week itself), whose rows are then deleted and whose key is
 * destroyed.  A week of a past ISO week that has a key but no data has
 * its key destroyed too.  today = week = 0: release everything open now
 * (end of aicensusd -r, --finalise), marking periods not yet over as
 * incomplete, and destroy every key.  Returns the number of periods
 * published, or -1 (logged; the rest is retried at the next call).
 * A week whose rows cannot be opened (key lost) is deleted with a log
 * line naming the week, never released.
 */
int	 vault_release_due(struct vault *, struct reldb *,
	    const struct rel_dims *, const struct rel_params *,
	    int32_t today, int32_t week, int64_t now);

/* Bytes of sealed rows held (status, tests). */
uint64_t vault_bytes(struct vault *);

#endif /* AIC_VAULT_H */
