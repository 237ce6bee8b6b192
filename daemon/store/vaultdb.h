/*
 * vaultdb.h - where the vault keeps its rows: the storage the vault's
 * logic (vault.c: sealing, flush slices, compaction, v1 migration) is
 * written against, so that no SQL lives there.
 *
 * What is stored is opaque here: rows (week, seq, blob) of ciphertext,
 * the weeks recorded as finalised, and a few plaintext meta values.
 * One connection, one writer; every call runs on the caller's thread,
 * except that vaultdb_commit() may run on a thread of its own while
 * nothing else touches the connection (a flush's COMMIT).
 * vaultdb_put() writes inside a transaction opened by vaultdb_begin()
 * (a flush is one); vaultdb_create(), vaultdb_replace(),
 * vaultdb_finalise() and vaultdb_v1_replace() are transactions of their
 * own.  The implementation is SQLite (vaultdb_sqlite.c; schema in
 * docs/SCHEMA.md).
 *
 * Return values: 0 ok (or a count), -1 failed; vaultdb_errmsg() says
 * why, in the backend's words (never a row's content).
 */
#ifndef AIC_VAULTDB_H
#define AIC_VAULTDB_H

#include <stddef.h>
#include <stdint.h>

struct vaultdb;

/* What vaultdb_schema() found. */
enum vaultdb_schema {
	VDB_ERROR,		/* the version could not be read */
	VDB_EMPTY,		/* no table at all: a new file */
	VDB_UNVERSIONED,	/* tables, but no version: not ours */
	VDB_V1,			/* version 1 with its tables: to migrate */
	VDB_CURRENT,		/* version VAULTDB_VERSION: in use */
	VDB_NEWER,		/* a later version than this build knows */
	VDB_OTHER		/* another version, or its table missing */
};

#define VAULTDB_VERSION	2

/*
 * Open (path NULL: in memory, nothing on disk), refusing a damaged or
 * foreign file, and set it up for its one writer (WAL on disk, deleted
 * rows overwritten).  err gets the reason; NULL on failure.
 */
struct vaultdb *vaultdb_open(const char *path, char *err, size_t errlen);
void	 vaultdb_close(struct vaultdb *);
const char *vaultdb_errmsg(struct vaultdb *);
/* 1 when the last call left an error behind, 0 when not. */
int	 vaultdb_failed(struct vaultdb *);

/* The schema in the file; *ver its version number (-1 unreadable). */
enum vaultdb_schema vaultdb_schema(struct vaultdb *, int *ver);
/* Create the current schema in an empty file (one transaction; on
 * failure read vaultdb_errmsg(), then vaultdb_rollback()). */
int	 vaultdb_create(struct vaultdb *);
/* Bookkeeping in plaintext (the time zone); errors are ignored. */
void	 vaultdb_meta_set(struct vaultdb *, const char *key,
	    const char *value);
/* The WAL copied into the file and cut to nothing (no old page left). */
void	 vaultdb_truncate_wal(struct vaultdb *);

/*
 * Transactions.  commit: on failure the reason goes to why (before the
 * ROLLBACK it does replaces it), else the WAL is checkpointed without
 * waiting so the next flush writes it from its start again.
 */
int	 vaultdb_begin(struct vaultdb *);
int	 vaultdb_commit(struct vaultdb *, char *why, size_t whylen);
void	 vaultdb_rollback(struct vaultdb *);

/* Rows. */
int	 vaultdb_last_seq(struct vaultdb *, int32_t week, int64_t *seq);
int	 vaultdb_put(struct vaultdb *, int32_t week, int64_t seq,
	    const uint8_t *blob, size_t len);
/*
 * Every row of the week in seq order to fn; fn returns 0 to go on,
 * anything else stops and is returned.  -1 on a storage error.
 */
typedef int (*vaultdb_row_fn)(void *arg, int64_t seq, const uint8_t *blob,
	    size_t len);
int	 vaultdb_rows(struct vaultdb *, int32_t week, vaultdb_row_fn,
	    void *arg);
/* 1 the week has rows, 0 none, -1 failed. */
int	 vaultdb_has_rows(struct vaultdb *, int32_t week);
/*
 * Weeks that have rows, ascending, into a malloc'd *weeks (NULL when
 * none).  What could be read is returned.  -1 when nothing could.
 */
int	 vaultdb_weeks(struct vaultdb *, int32_t **weeks, size_t *n);
/* Bytes of all row blobs. */
uint64_t vaultdb_bytes(struct vaultdb *);
/* In one transaction: rows of the week with seq <= maxseq replaced by
 * (week, maxseq, blob). */
int	 vaultdb_replace(struct vaultdb *, int32_t week, int64_t maxseq,
	    const uint8_t *blob, size_t len);
/* 1 the week is finalised, 0 not, -1 failed. */
int	 vaultdb_is_finalised(struct vaultdb *, int32_t week);
/* In one transaction: every row of the week deleted, the week recorded
 * as finalised at `now` (kept when it already was). */
int	 vaultdb_finalise(struct vaultdb *, int32_t week, int64_t now);

/*
 * ---- the outbox (store/outbox.h): cells waiting for the central
 * database.  A row is (id, seq, blob): id names the cell without saying
 * which (a keyed hash), blob is sealed by the caller, seq orders the
 * rows and tells a value apart from a newer one of the same cell.
 * The table is made on first use (CREATE IF NOT EXISTS), so a vault of
 * this schema version without it needs no migration.
 */
#define VAULTDB_OUTBOX_ID	16	/* bytes of an id */
int	 vaultdb_outbox_init(struct vaultdb *);
/* The cell's row replaced by this one: the latest value wins. */
int	 vaultdb_outbox_put(struct vaultdb *, const uint8_t *id, int64_t seq,
	    const uint8_t *blob, size_t len);
/* The oldest rows (seq order), at most max, to fn (0 go on). */
typedef int (*vaultdb_outbox_fn)(void *arg, const uint8_t *id, int64_t seq,
	    const uint8_t *blob, size_t len);
int	 vaultdb_outbox_rows(struct vaultdb *, size_t max, vaultdb_outbox_fn,
	    void *arg);
/* The row deleted if it still holds seq (a newer value stays). */
int	 vaultdb_outbox_del(struct vaultdb *, const uint8_t *id, int64_t seq);
/* Rows and bytes held; the largest seq (0 when empty); -1 failed. */
int64_t	 vaultdb_outbox_count(struct vaultdb *);
int64_t	 vaultdb_outbox_bytes(struct vaultdb *);
int64_t	 vaultdb_outbox_maxseq(struct vaultdb *);

/* ---- version 1, read once for the migration ---- */

/* Rows of its sketch tables (they held device hashes). */
int	 vaultdb_v1_sketch_rows(struct vaultdb *);
/* Its weeks, ascending, at most max; -1 failed. */
int	 vaultdb_v1_weeks(struct vaultdb *, int32_t *weeks, size_t max);

/* One department x service of a v1 week, summed over its hours. */
enum {
	V1_TLS, V1_QUIC, V1_ECH, V1_DNS, V1_NXDOMAIN, V1_UP, V1_DOWN,
	V1_DEVHOURS, V1_N
};
struct vaultdb_v1_leaf {
	const char	*dept;		/* name (NULL if unreadable) */
	const char	*svc;		/* catalog id (NULL if unreadable) */
	uint64_t	 m[V1_N];
	int		 has_sketch;	/* devices_week has a row */
	const uint8_t	*sketch;	/* its serialised sketch */
	size_t		 sketch_len;
};
typedef void (*vaultdb_v1_fn)(void *arg, const struct vaultdb_v1_leaf *);
/* Every leaf of the week to fn; 0 ok, -1 failed. */
int	 vaultdb_v1_leaves(struct vaultdb *, int32_t week, vaultdb_v1_fn,
	    void *arg);
/* Hours of the week with packets (INT64_MIN failed). */
int64_t	 vaultdb_v1_coverage(struct vaultdb *, int32_t week);
/*
 * Every v1 table dropped and the current schema created (one
 * transaction), then the file VACUUMed and the WAL truncated, so no old
 * page survives.  -1 failed (rolled back when it could be).
 */
int	 vaultdb_v1_replace(struct vaultdb *);

#endif /* AIC_VAULTDB_H */
