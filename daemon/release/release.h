/*
 * release.h - the release stage: the one place that decides what may be
 * published, and publishes it.
 *
 * At the close of a day and of an ISO week the daemon hands this stage
 * the true figures of that period, leaf by leaf (department x service,
 * with the devices' sketch).  release_publish() builds every cell of
 * the fixed grid (released.h, PUBLISHED LEVELS) once, margins as cells
 * of their own, protects each with the cell key method, and writes them
 * to the release database in one transaction.  A period is published
 * once: asking again returns 0 and writes nothing.  Outputs read the
 * result through released.h only.
 *
 * Protection (docs/PRIVACY.md says why): k = min_group_size.
 *  - The cell key is the sum of the record keys of the cell's devices
 *    (sketch_cell_key, record key = PRF(K_rk, token)), so cells with the
 *    same devices get the same noise wherever they appear.
 *  - Distinct devices n: 0 stays 0; 1..k-1 become 0 or k (zero mean);
 *    n >= k moves by at most k-1 and never below k.
 *  - Magnitudes (device-hours, connections, lookups, bytes): 0 when the
 *    published device count is 0, else the value plus relative noise of
 *    at most REL_MAG_PCT percent, drawn from the cell key, the measure
 *    and the value.
 *  - Day blind-spot figures: the same relative noise.
 *  - k = 1: no protection at all (validation only; warned and recorded).
 * No floating point: all draws are SipHash outputs mapped with integer
 * arithmetic.
 */
#ifndef AIC_RELEASE_H
#define AIC_RELEASE_H

#include <stddef.h>
#include <stdint.h>

#include "aggregate/relinput.h"
#include "release/released.h"

struct weekkey;

#define REL_MAG_PCT	10	/* magnitude noise: at most +-10 % */

struct rel_params {
	int		 k;		/* min_group_size, >= 1 */
};

/* The protection functions themselves (pure; unit tested). */
uint64_t rel_count(const struct rel_params *, uint64_t n, uint64_t u);
uint64_t rel_magnitude(const struct rel_params *, uint64_t x, uint64_t u);

/*
 * The stage's handle on the release database.  What is kept, and how,
 * is the store's (store/relstore.h); what may be published is this
 * stage's, whatever the store.
 */
struct reldb;

struct relstore;

/* Opens (creating, mode 0640) the SQLite release database for writing. */
struct reldb *reldb_open(const char *path, char *err, size_t errlen);
/* The stage over a store opened for writing (RELSTORE_WRITE) by any
 * backend; reldb_close() closes the store.  NULL (store closed) when out
 * of memory. */
struct reldb *reldb_of(struct relstore *);
void	 reldb_close(struct reldb *);
int	 reldb_is_released(struct reldb *, enum rel_kind, int32_t period);
/*
 * A sensor with a `central` group (site: its central.site): from now
 * on release_publish() writes each period's row (coverage) and a day's
 * blind-spot figures, but no cells and no grid axes, and the database
 * says published_by = central, site = site.  The central release is
 * the one publication of these figures: two releases of one true
 * figure under two keys could be averaged (docs/PRIVACY.md).  Periods
 * already published stay as they are.  site is copied; NULL: cells are
 * published here (the default).  0, or -1 for a name too long.
 */
int	 reldb_set_central(struct reldb *, const char *site);
/* Delete released days before cutoff_day (YYYYMMDD) and weeks before
 * cutoff_week (YYYYWW); rows deleted, or -1. */
int	 reldb_retention(struct reldb *, int32_t cutoff_day,
	    int32_t cutoff_week);

/*
 * Publish every cell of in's period.  keys must hold in->week's key
 * (K_rk) unless params->k == 1.  1 published, 0 already released
 * (nothing written), -1 failed (rolled back, logged).
 */
int	 release_publish(struct reldb *, const struct rel_dims *,
	    const struct rel_params *, const struct rel_input *in,
	    const struct weekkey *keys, int64_t now);

/*
 * The central release (docs/CENTRAL.md): a period's true cells already
 * summed over the sites, margins included (each site's own margins,
 * summed), devices summed per site.  Cells of departments the
 * configuration lacks go to "unassigned"; cells of services or
 * categories outside the grid are left out.
 */
struct rel_summed {
	enum rel_kind		 kind;
	int32_t			 period;
	int32_t			 week;		/* the ISO week of period */
	const struct rel_cell	*cell;		/* true figures */
	size_t			 ncell;
	uint64_t		 blind[RB_N];	/* REL_DAY: summed */
	unsigned		 coverage_hours, hours_total;
	int			 complete;
};

struct rel_summed_stats {
	size_t	unmapped_cells;		/* cells moved to "unassigned" */
	size_t	dropped_cells;		/* services outside the grid */
};

/*
 * Publishes in's period through the same grid, p-table and magnitude
 * noise as release_publish().  The cell key of a cell is a PRF under
 * key (the central secret, 16 bytes; unused when params->k == 1) of
 * the cell's kind, period, department, service and true device figure:
 * there are no record keys centrally.  1 published, 0 already released,
 * -1 failed (logged).  st (may be NULL) counts what was remapped.
 */
int	 release_publish_summed(struct reldb *, const struct rel_dims *,
	    const struct rel_params *, const struct rel_summed *in,
	    const uint8_t key[16], int64_t now, struct rel_summed_stats *st);

/*
 * The period's cells as the site counts them, built exactly as
 * release_publish() builds them (the same grid, margins' devices from
 * the merged sketches) with k = 1: what min_group_size 1 would publish.
 * For the central database (out/ship.h), where the organisation-wide
 * cells are released by this same stage: these figures leave the
 * sensor for that database only, never for an output.  Cells with
 * every measure 0 are left out.  0 ok (*cells malloc'd), -1 failed.
 */
int	 release_true_cells(const struct rel_dims *, const struct rel_input *,
	    struct rel_cell **cells, size_t *ncell);

/* Called for every non-zero cell of a published period, after COMMIT
 * (exporter plugins). */
typedef void (*release_cell_cb)(void *arg, const struct rel_period *,
	    const struct rel_cell *);
void	 release_set_cell_cb(struct reldb *, release_cell_cb, void *arg);

#endif /* AIC_RELEASE_H */
