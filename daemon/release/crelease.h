/*
 * crelease.h - the central release: the organisation-wide figures of
 * every day and week that has ended (plus a grace period for late
 * sites) and is not released yet, published into the central
 * PostgreSQL database by the same release stage as on a sensor
 * (release_publish_summed).  docs/CENTRAL.md, "The central release".
 *
 * Scopes (docs/CENTRAL.md): each period is published for the
 * organisation (the sum below) and for every site that shipped for it
 * (that site's cells alone), all with the same site-free cell key, in
 * one transaction that also deletes the period's raw site rows.  Rows
 * a sensor ships for a period already released are counted per site
 * (site.late_rows) and deleted at the next run.  meta.method:
 * "ckm-central-1".
 *
 * Per period: the sites' cells summed per (department, service) -
 * devices and device-hours summed per site, since a device's address
 * differs per site - departments the configuration lacks counted as
 * "unassigned", the privacy rules applied to the sums with a cell key
 * under the central secret, a day's blind figures summed and the
 * number of silent sites recorded ("sites_silent").  Each period is
 * published once, whole, in one transaction; running again changes
 * nothing.
 *
 * Retention (retention_days, as on a sensor): first, released days and
 * weeks that ended before the cutoff are deleted, and with them the
 * sites' raw rows of those periods, so that a period past the cutoff
 * is neither kept nor released again.
 */
#ifndef AIC_CRELEASE_H
#define AIC_CRELEASE_H

#include <stddef.h>
#include <stdint.h>

#include "release/release.h"

struct crelease_opts {
	const struct rel_dims	*dims;		/* the organisation's grid */
	struct rel_params	 params;	/* min_group_size */
	int			 grace_hours;	/* wait after a period's end */
	int			 retention_days; /* 0: keep everything */
	int64_t			 now;		/* UTC epoch */
};

struct crelease_result {
	unsigned	days, weeks;		/* published now */
	unsigned	waiting;		/* ended less than grace ago */
	size_t		unmapped_cells;		/* moved to "unassigned" */
	size_t		dropped_cells;		/* services outside the grid */
	unsigned	silent_max;		/* most silent sites of a period */
	unsigned	site_scopes;		/* site scopes published now */
	unsigned	late_rows;		/* shipped after release */
	int		retention_rows;		/* rows deleted by retention */
};

/*
 * conninfo: the administrator's connection (it reads every site's raw
 * cells and the central secret).  Period boundaries are in the zone
 * period_set_tz() was given.  0 ok, -1 with err (what was published
 * before the failure stays published).
 */
int	crelease_run(const char *conninfo, const struct crelease_opts *,
	    struct crelease_result *, char *err, size_t errlen);

#endif /* AIC_CRELEASE_H */
