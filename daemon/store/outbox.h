/*
 * outbox.h - the durable outbox: a site's per-cell figures waiting for
 * the central database (out/ship.h drains it).
 *
 * What it promises:
 *  - One row per cell (kind, period, department, service; or a period's
 *    coverage; or a day's blind-spot figure), holding its latest value:
 *    putting a cell again replaces the value that waits, so a backlog is
 *    as large as the set of changed cells, not as the number of flushes.
 *  - Rows live in the vault's file (store/vaultdb.h), so they survive a
 *    restart and a central database that is down for days.
 *  - Nothing is plaintext: the row's id is a keyed hash of the cell's
 *    name, its blob the record sealed with AES-256-GCM (AAD: a label and
 *    the id, so a blob cannot be moved to another cell's row).
 *  - The key is the outbox's own (outbox_key_load), not a week key.  A
 *    week key dies at the week's end so that device hashes become
 *    unreadable; these records carry no device material (counters and
 *    distinct-device counts of grid cells, the figures a min_group_size
 *    1 release would publish), and they must outlive the week: a central
 *    database that is down across Sunday midnight must still receive
 *    the week's last values.  Sealing keeps them out of a copy of the
 *    file without the state directory.
 *  - Bounded: a put that would take the rows past max_bytes is dropped
 *    and counted; the caller logs once per incident.
 *  - Acknowledged rows are deleted only if they still hold the value
 *    shipped (seq), so a value put while a batch was in flight stays.
 * One thread: the caller's (the vault's connection is not shared).
 */
#ifndef AIC_OUTBOX_H
#define AIC_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "common/cells.h"

struct vaultdb;

#define OUTBOX_KEY_LEN	32

enum outbox_type {
	OB_CELL = 1,		/* a grid cell: kind, period, dept, svc, v[] */
	OB_PERIOD = 2,		/* coverage: v[0] hours seen, v[1] hours total */
	OB_BLIND = 3		/* a day's figure: period, svc = name, v[0] */
};

struct outbox_rec {
	uint8_t		 type;		/* enum outbox_type */
	uint8_t		 kind;		/* enum rel_kind */
	int32_t		 period;
	char		 dept[64];
	char		 svc[48];
	uint64_t	 v[RM_N];	/* OB_CELL: rel_measure order */
	/* filled by outbox_take */
	uint8_t		 id[16];
	int64_t		 seq;
};

struct outbox;

/*
 * The key in path (32 random bytes, created 0600 when absent; path NULL:
 * a fresh key in memory, for an in-memory vault).  0 ok, -1 with err.
 */
int	 outbox_key_load(const char *path, uint8_t key[OUTBOX_KEY_LEN],
	    char *err, size_t errlen);

/* Over the vault's storage (borrowed); NULL with err. */
struct outbox *outbox_open(struct vaultdb *, const uint8_t key[OUTBOX_KEY_LEN],
	    uint64_t max_bytes, char *err, size_t errlen);
void	 outbox_close(struct outbox *);

/*
 * The records put, each replacing its cell's waiting value, in one
 * transaction.  Returns how many were dropped for want of room (>= 0),
 * or -1 when nothing could be written (rolled back).
 */
long	 outbox_put(struct outbox *, const struct outbox_rec *, size_t n);
/*
 * The oldest rows, opened, at most max, into recs (id and seq set).
 * Returns how many; -1 on a storage error.  A row that does not open
 * (another key, tampering) is deleted and counted (outbox_bad).
 */
long	 outbox_take(struct outbox *, struct outbox_rec *recs, size_t max);
/* Rows shipped: each deleted unless a newer value replaced it. */
int	 outbox_ack(struct outbox *, const struct outbox_rec *, size_t n);
int64_t	 outbox_count(struct outbox *);
int64_t	 outbox_bytes(struct outbox *);
uint64_t outbox_dropped(const struct outbox *);
uint64_t outbox_bad(const struct outbox *);

#endif /* AIC_OUTBOX_H */
