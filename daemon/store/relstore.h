/*
 * relstore.h - the release database as an interface: what the release
 * stage writes (release.h) and what the read API reads (released.h),
 * whatever engine keeps it.
 *
 * The release stage decides what may be published and the read API
 * shapes the fixed grid; a store only keeps what it is given and gives
 * it back.  That split is what lets a second engine (PostgreSQL, for a
 * central store) be a second implementation of these few operations
 * rather than a second copy of the release logic.  A backend fills a
 * struct relstore_ops and puts struct relstore first in its handle;
 * callers use the relstore_*() functions below, never the ops directly.
 *
 * What every backend promises:
 *  - A period is written whole or not at all, once: publish() of a
 *    period already there writes nothing and returns 0.
 *  - A cell absent from the store is a released zero.  The release stage
 *    hands over only cells with a non-zero figure; a measure that the
 *    cell's level does not publish (rel_cell.published) is kept as "not
 *    published" and read back as 0.  Figures are kept up to INT64_MAX
 *    (larger ones are clipped; the release stage never makes one).
 *  - A period's grid axes (departments, services) are kept in the order
 *    given, without "*"; read back in that order, never with "*".
 *  - Service facts are kept per service id; the last release's win.
 *  - Blind-spot figures are kept per day and rel_blind name.
 *  - A period whose cells are published elsewhere (relstore_pub.
 *    central_site, docs/CENTRAL.md) is kept with its period row and
 *    blind figures only, and the store remembers for whom: its meta
 *    published_by = central, site = the site (relstore_meta()).
 *  - Nothing else: no raw figure, no identifier, no key.
 *
 * Errors: operations return -1 and relstore_error() says why (a message
 * fit for a log line, never holding a figure).  Row callbacks return 0
 * to go on; anything else stops the read, which then returns -1.
 */
#ifndef AIC_RELSTORE_H
#define AIC_RELSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/cells.h"

enum relstore_mode {
	RELSTORE_READ,		/* the outputs: never writes, never creates */
	RELSTORE_WRITE		/* the release stage: creates the schema */
};

enum relstore_axis { RELSTORE_DEPT = 0, RELSTORE_SVC = 1 };

/* One closed period as the release stage publishes it. */
struct relstore_pub {
	struct rel_period	 per;
	const char		*timezone;	/* the zone periods are in */
	const char *const	*dept;		/* departments, "unassigned" */
	size_t			 ndept;
	const char *const	*svc;		/* services, "cat:" categories */
	size_t			 nsvc;
	const struct rel_service *service;	/* the catalog at release */
	size_t			 nservice;
	const struct rel_cell	*cell;		/* non-zero cells, grid order */
	size_t			 ncell;
	const uint64_t		*blind;		/* RB_N figures (a day); NULL */
	/*
	 * Non-NULL: a shipping sensor's period, whose cells only the
	 * central release publishes (one publication per figure); the
	 * release stage then hands over no cells, axes or services, and
	 * the store records published_by = central, site = central_site
	 * in the same transaction.  NULL for every other release.
	 */
	const char		*central_site;
};

typedef int (*relstore_period_fn)(void *arg, const struct rel_period *);
typedef int (*relstore_name_fn)(void *arg, const char *name);
typedef int (*relstore_cell_fn)(void *arg, const char *dept,
	    const char *svc, const uint64_t m[RM_N]);
typedef int (*relstore_service_fn)(void *arg, const struct rel_service *);

struct relstore;

struct relstore_ops {
	const char	*name;		/* "sqlite" */
	void		(*close)(struct relstore *);
	const char	*(*error)(struct relstore *);
	/* Writing (RELSTORE_WRITE). */
	int		(*publish)(struct relstore *,
			    const struct relstore_pub *);
	int		(*retention)(struct relstore *, int32_t cutoff_day,
			    int32_t cutoff_week);
	/* Reading. */
	int		(*timezone)(struct relstore *, char *buf, size_t len);
	int		(*periods)(struct relstore *, enum rel_kind,
			    int32_t from, int32_t to, relstore_period_fn,
			    void *arg);
	int		(*period)(struct relstore *, enum rel_kind,
			    int32_t period, struct rel_period *out);
	int		(*axis)(struct relstore *, enum rel_kind,
			    int32_t period, enum relstore_axis,
			    relstore_name_fn, void *arg);
	int		(*cells)(struct relstore *, enum rel_kind,
			    int32_t period, relstore_cell_fn, void *arg);
	int		(*cell)(struct relstore *, enum rel_kind,
			    int32_t period, const char *dept, const char *svc,
			    uint64_t m[RM_N]);
	int		(*services)(struct relstore *, relstore_service_fn,
			    void *arg);
	int		(*blind)(struct relstore *, int32_t day,
			    uint64_t v[RB_N]);
	/* Optional (NULL: the store keeps no such facts). */
	int		(*meta)(struct relstore *, const char *key,
			    char *buf, size_t len);
};

struct relstore {
	const struct relstore_ops *ops;
};

/* Closes the store (NULL is fine). */
void		 relstore_close(struct relstore *);
/* Why the last failed operation failed. */
const char	*relstore_error(struct relstore *);

/*
 * Writes a period in one transaction: 1 written, 0 the period was
 * already there (nothing written), -1 failed (nothing written).
 */
int	relstore_publish(struct relstore *, const struct relstore_pub *);
/* Deletes whole days before cutoff_day (YYYYMMDD) and whole weeks before
 * cutoff_week (YYYYWW), with their axes, cells and blind figures, in one
 * transaction; rows deleted, or -1. */
int	relstore_retention(struct relstore *, int32_t cutoff_day,
	    int32_t cutoff_week);

/* The zone the periods are in, "" when none was recorded; 0 or -1. */
int	relstore_timezone(struct relstore *, char *buf, size_t len);
/* Periods of a kind in [from, to] (0: an open end), ascending. */
int	relstore_periods(struct relstore *, enum rel_kind, int32_t from,
	    int32_t to, relstore_period_fn, void *arg);
/* One period: 0 found, 1 not released, -1 error. */
int	relstore_period(struct relstore *, enum rel_kind, int32_t period,
	    struct rel_period *out);
/* 1 released, 0 not, -1 error. */
int	relstore_is_released(struct relstore *, enum rel_kind,
	    int32_t period);
/* One axis of a period's grid, in order, without "*"; 0 or -1. */
int	relstore_axis(struct relstore *, enum rel_kind, int32_t period,
	    enum relstore_axis, relstore_name_fn, void *arg);
/* Every stored cell of a period, in no particular order; 0 or -1. */
int	relstore_cells(struct relstore *, enum rel_kind, int32_t period,
	    relstore_cell_fn, void *arg);
/* One stored cell's figures: 0 found, 1 no such cell (a zero), -1. */
int	relstore_cell(struct relstore *, enum rel_kind, int32_t period,
	    const char *dept, const char *svc, uint64_t m[RM_N]);
/* Facts of every service ever published, by service id; 0 or -1. */
int	relstore_services(struct relstore *, relstore_service_fn,
	    void *arg);
/* A day's blind-spot figures (0 for a name not stored); 0 or -1.  The
 * caller checks that the day is released. */
int	relstore_blind(struct relstore *, int32_t day, uint64_t v[RB_N]);
/* A fact the store keeps about itself ("published_by", "site") into buf:
 * 0 found, 1 none (or a store that keeps none), -1 error. */
int	relstore_meta(struct relstore *, const char *key, char *buf,
	    size_t len);

#endif /* AIC_RELSTORE_H */
