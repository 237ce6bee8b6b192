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
 * In the functions below a site names one site's scope, NULL the
 * organisation's (every site).
 *
 * Every (dept, svc) of the period with its figures summed over the
 * sites (devices too: a device's address differs per site).  *out
 * malloc'd, rel_cell.published unset.
 */
int	central_sites_sum(struct central *, enum rel_kind, int32_t period,
	    const char *site, struct rel_cell **out, size_t *n, char *err,
	    size_t errlen);

/* A day's blind-spot figures summed over the sites (0 when none). */
int	central_sites_blind(struct central *, int32_t day, const char *site,
	    uint64_t v[RB_N], char *err, size_t errlen);

/*
 * Over all registered sites (or the one site): how many, how many
 * were silent for the period (no site_period row or coverage 0: the
 * silent of central_read.h, before the release, whose site scopes
 * then hold no period or coverage 0 for exactly these sites), the
 * least coverage among them (silent ones count 0) and the largest
 * hours_total shipped.
 */
struct central_cover {
	unsigned	sites, silent;
	unsigned	min_coverage, hours_total;
};
int	central_sites_cover(struct central *, enum rel_kind, int32_t period,
	    const char *site, struct central_cover *, char *err,
	    size_t errlen);

/*
 * Releasing a period is one transaction: begin (which also locks the
 * sites' raw tables against sensors and other releases until it ends),
 * publish the scopes, consume the period's raw rows, end.
 */
int	central_sites_begin(struct central *, char *err, size_t errlen);
/* commit (1) or roll back (0; never fails); 0 or -1. */
int	central_sites_end(struct central *, int commit, char *err,
	    size_t errlen);

/* The sites that shipped anything for the period (a site_period,
 * site_cell or, for a day, site_blind row), ascending; *out malloc'd. */
struct central_site {
	char	name[64];
};
int	central_sites_shipped(struct central *, enum rel_kind,
	    int32_t period, struct central_site **out, size_t *n, char *err,
	    size_t errlen);

/* Deletes the period's raw rows of every site, inside the caller's
 * transaction; rows deleted, or -1. */
int	central_sites_consume(struct central *, enum rel_kind,
	    int32_t period, char *err, size_t errlen);

/*
 * Rows a sensor shipped for a period the organisation's scope already
 * holds: counted per site into site.late_rows (the "sites" view) and
 * deleted, never published, in one transaction; rows, or -1.
 */
int	central_sites_late(struct central *, char *err, size_t errlen);

/* Deletes the sites' rows of days before cutoff_day and weeks before
 * cutoff_week in one transaction; rows deleted, or -1. */
int	central_sites_retention(struct central *, int32_t cutoff_day,
	    int32_t cutoff_week, char *err, size_t errlen);

#endif /* AIC_CENTRAL_SITES_H */
