/*
 * central_sites.h - what the central release reads of the site side of
 * the central database (central_pg.h): the periods the sites shipped
 * that are not released yet, a period's cells summed over the sites,
 * a day's blind-spot figures summed, and which sites were silent.
 *
 * The administrator's connection only: these are the sites' raw
 * figures, which no other role reads whole.  They go to the release
 * stage (release_publish_summed) and nowhere else; no function here
 * prints or logs a figure.
 */
#ifndef AIC_CENTRAL_SITES_H
#define AIC_CENTRAL_SITES_H

#include <stddef.h>
#include <stdint.h>

#include "common/cells.h"

struct central;

/* Periods of kind that some site shipped (site_period or site_cell) and
 * that aicensus.period does not hold, ascending; *out malloc'd. */
int	central_sites_pending(struct central *, enum rel_kind,
	    int32_t **out, size_t *n, char *err, size_t errlen);

/*
 * Every (dept, svc) of the period with its figures summed over the
 * sites (devices too: a device's address differs per site).  *out
 * malloc'd, rel_cell.published unset.
 */
int	central_sites_sum(struct central *, enum rel_kind, int32_t period,
	    struct rel_cell **out, size_t *n, char *err, size_t errlen);

/* A day's blind-spot figures summed over the sites (0 when none). */
int	central_sites_blind(struct central *, int32_t day, uint64_t v[RB_N],
	    char *err, size_t errlen);

/*
 * Over all registered sites: how many, how many were silent for the
 * period (no site_period row or coverage 0), the least coverage among
 * them (silent ones count 0) and the largest hours_total shipped.
 */
struct central_cover {
	unsigned	sites, silent;
	unsigned	min_coverage, hours_total;
};
int	central_sites_cover(struct central *, enum rel_kind, int32_t period,
	    struct central_cover *, char *err, size_t errlen);

/* Deletes the sites' rows of days before cutoff_day and weeks before
 * cutoff_week in one transaction; rows deleted, or -1. */
int	central_sites_retention(struct central *, int32_t cutoff_day,
	    int32_t cutoff_week, char *err, size_t errlen);

#endif /* AIC_CENTRAL_SITES_H */
