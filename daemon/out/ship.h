/*
 * ship.h - the sensor's side of the central database: after each flush,
 * the cells of its site that changed go into the durable outbox
 * (store/outbox.h); a thread of its own drains the outbox into
 * PostgreSQL, so capture never waits for the network.
 *
 * What is shipped, for the open periods (the vault's unreleased weeks
 * and their open days):
 *  - every cell of the day and week grids as release_true_cells()
 *    builds them (margins "*", "unassigned", "cat:<category>" included):
 *    counters and distinct devices / device-hours, cumulative for the
 *    period so far; each replaces the site's previous value of the cell
 *    (upsert keyed by site, kind, period, dept, svc), so a batch sent
 *    twice (a lost COMMIT acknowledgement) changes nothing;
 *  - each period's coverage (site_period) and each open day's blind-spot
 *    figures (site_blind), plus "outbox_dropped" when the outbox bound
 *    dropped changes.
 * Never a device hash, a sketch or a cell key: the records hold the
 * figures of named grid cells only.  Only what changed since the last
 * shipment is put; after a restart everything open is put once more
 * (harmless: the same values).  A period (open day, week) that no row
 * merged since the last collect touched is not built again: its
 * records are the ones built last time (a release pass, a reload or a
 * failed put builds everything again).
 *
 * A batch is one PostgreSQL transaction; its outbox rows are deleted
 * only once COMMIT succeeded.  Connection trouble is retried with an
 * exponential back-off (1 s .. 5 min); one log line per change of state
 * (unreachable, wrong password, certificate mismatch, refused by the
 * database, back up), never with the password.
 */
#ifndef AIC_SHIP_H
#define AIC_SHIP_H

#include <stddef.h>
#include <stdint.h>

#include "aggregate/relinput.h"
#include "common/status.h"

struct config_central;
struct outbox;
struct vault;

struct ship;

/* The shipper thread started; ob is borrowed.  NULL with err. */
struct ship *ship_new(const struct config_central *, struct outbox *,
	    char *err, size_t errlen);
/* The thread stopped (a push under way ends at its timeout); the
 * outbox keeps what was not acknowledged. */
void	 ship_free(struct ship *);
/* Readable when the thread finished a batch: call ship_pump(). */
int	 ship_fd(const struct ship *);

/*
 * After a committed flush, before the release pass (so a closing day's
 * last values go too): the changed cells of every open period into the
 * outbox, then ship_pump().  0 ok, -1 failed (logged; retried next
 * flush).  Not while a vault flush is under way.
 */
int	 ship_collect(struct ship *, struct vault *, const struct rel_dims *);
/* The release pass changed the vault's rows (a day or week released):
 * the weeks merged so far are dropped and opened whole next time. */
void	 ship_forget(struct ship *);
/* A finished batch acknowledged (its rows deleted), the next handed to
 * the thread.  On the caller's thread, which owns the outbox. */
void	 ship_pump(struct ship *);
/*
 * Pump until the outbox is empty, the database fails once, or
 * timeout_sec pass (aicensusd -r at its end).  Rows left, or -1.
 */
int64_t	 ship_drain(struct ship *, int timeout_sec);

struct ship_stats {
	uint64_t	 shipped;	/* records committed */
	uint64_t	 batches;
	uint64_t	 dropped;	/* changes the bound dropped */
	int		 up;		/* the last attempt succeeded */
	enum aic_ship_link link;	/* what the last attempt found */
	int64_t		 last_push;	/* epoch seconds of the last commit */
	int64_t		 last_contact;	/* of the last round that committed */
	uint64_t	 full_incidents;	/* times the outbox filled up */
};
void	 ship_stats(const struct ship *, struct ship_stats *);

#endif /* AIC_SHIP_H */
