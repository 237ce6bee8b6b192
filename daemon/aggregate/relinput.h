/*
 * relinput.h - what the aggregate stage hands the release stage at the
 * close of a day or a week: the grid's dimensions from configuration
 * and the period's true figures, leaf by leaf (department x service,
 * with the devices' sketch), plus the day's blind-spot counters.
 *
 * Defined here, on the producer's side, so that the aggregates (wacc)
 * and the store never include the release stage; release.h includes
 * this.  Nothing here is ever written to disk or printed as it is.
 */
#ifndef AIC_RELINPUT_H
#define AIC_RELINPUT_H

#include <stddef.h>
#include <stdint.h>

#include "common/cells.h"

struct catalog;
struct sketch;

/* The grid, from configuration. */
struct rel_dims {
	char *const	*dept;		/* configured departments, in order */
	size_t		 ndept;		/* ("unassigned" is added by release) */
	const struct catalog *cat;	/* services, in catalog order */
	char *const	*sanctioned;	/* catalog ids */
	size_t		 nsanct;
	const char	*timezone;
};

/* True figures of one department x service over the period. */
struct rel_leaf {
	int32_t		 dept;		/* index into dims.dept; ndept = unassigned */
	int32_t		 svc;		/* catalog index */
	uint64_t	 m[RM_N];	/* RM_DEVICES and RM_CONNS are ignored */
	const struct sketch *dev;	/* the period's devices (K_dev hashes) */
};

struct rel_input {
	enum rel_kind	 kind;
	int32_t		 period;	/* YYYYMMDD or YYYYWW */
	int32_t		 week;		/* whose keys */
	const struct rel_leaf *leaf;
	size_t		 nleaf;
	uint64_t	 blind[RB_N];	/* REL_DAY only */
	unsigned	 coverage_hours, hours_total;
	int		 complete;
};

#endif /* AIC_RELINPUT_H */
