/*
 * crelease.c - the central release (crelease.h): which periods are due,
 * their sums from the site side (store/central_sites.h), published
 * through release_publish_summed() into the release side of the central
 * database (store/relstore_pg.h).  It decides nothing about protection:
 * that is release.c's, the same code as on a sensor.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/period.h"
#include "release/crelease.h"
#include "store/central_pg.h"
#include "store/central_sites.h"
#include "store/relstore_pg.h"

/* First second after the period. */
static int64_t
period_end(enum rel_kind kind, int32_t period)
{
	if (kind == REL_DAY)
		return period_day_start(period_day_add(period, 1));
	return period_week_start(period_week_add(period, 1));
}

static int
release_one(struct central *c, struct reldb *r,
    const struct crelease_opts *o, struct relstore *st, const uint8_t *key,
    enum rel_kind kind, int32_t period, struct crelease_result *res,
    char *err, size_t errlen)
{
	struct rel_summed in;
	struct rel_summed_stats ss;
	struct central_cover cv;
	struct rel_cell *cells = NULL;
	size_t n = 0;
	int rc = -1;

	memset(&in, 0, sizeof(in));
	if (central_sites_sum(c, kind, period, &cells, &n, err, errlen) != 0 ||
	    central_sites_cover(c, kind, period, &cv, err, errlen) != 0 ||
	    (kind == REL_DAY && central_sites_blind(c, period, in.blind, err,
	    errlen) != 0))
		goto out;
	in.kind = kind;
	in.period = period;
	in.week = kind == REL_DAY ? period_day_week(period) : period;
	in.cell = cells;
	in.ncell = n;
	/* The least-covered site's hours: silent sites count as 0. */
	in.coverage_hours = cv.min_coverage;
	in.hours_total = cv.hours_total > 0 ? cv.hours_total : (kind ==
	    REL_DAY ? period_day_hours(period) : period_week_hours(period));
	in.complete = 1;
	if (kind == REL_DAY)
		relstore_pg_set_silent(st, cv.silent);
	switch (release_publish_summed(r, o->dims, &o->params, &in, key,
	    o->now, &ss)) {
	case 1:
		if (kind == REL_DAY)
			res->days++;
		else
			res->weeks++;
		res->unmapped_cells += ss.unmapped_cells;
		res->dropped_cells += ss.dropped_cells;
		if (cv.silent > res->silent_max)
			res->silent_max = cv.silent;
		break;
	case 0:
		break;		/* another release was first */
	default:
		snprintf(err, errlen, "%s %" PRId32 " not published: %s",
		    kind == REL_DAY ? "day" : "week", period,
		    relstore_error(st));
		goto out;
	}
	rc = 0;
out:
	free(cells);
	return rc;
}

int
crelease_run(const char *conninfo, const struct crelease_opts *o,
    struct crelease_result *res, char *err, size_t errlen)
{
	static const enum rel_kind kinds[2] = { REL_DAY, REL_WEEK };
	uint8_t key[CENTRAL_PG_SECRET];
	struct central *c;
	struct relstore *st;
	struct reldb *r;
	struct period cut;
	int32_t *pend = NULL;
	size_t np, i;
	int k, n, rc = -1;

	memset(res, 0, sizeof(*res));
	if ((c = central_pg_connect(conninfo, err, errlen)) == NULL)
		return -1;
	/* The store owns c from here; c stays valid until reldb_close(). */
	if ((st = relstore_pg_of(c, RELSTORE_WRITE, err, errlen)) == NULL)
		return -1;
	if ((r = reldb_of(st)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (central_pg_secret(c, key, err, errlen) != 0)
		goto out;
	memset(&cut, 0, sizeof(cut));
	if (o->retention_days > 0) {
		/* a week goes only once all of it is before the cutoff */
		period_of(o->now - (int64_t)o->retention_days * 86400, &cut);
		if ((n = reldb_retention(r, cut.day, cut.week)) < 0) {
			snprintf(err, errlen, "retention: %s",
			    relstore_error(st));
			goto out;
		}
		res->retention_rows = n;
		if ((n = central_sites_retention(c, cut.day, cut.week, err,
		    errlen)) < 0)
			goto out;
		res->retention_rows += n;
	}
	for (k = 0; k < 2; k++) {
		if (central_sites_pending(c, kinds[k], &pend, &np, err,
		    errlen) != 0)
			goto out;
		for (i = 0; i < np; i++) {
			if (pend[i] < (kinds[k] == REL_DAY ? cut.day :
			    cut.week))
				continue;	/* past retention */
			if (period_end(kinds[k], pend[i]) +
			    (int64_t)o->grace_hours * 3600 > o->now) {
				res->waiting++;
				continue;
			}
			if (release_one(c, r, o, st, key, kinds[k], pend[i],
			    res, err, errlen) != 0)
				goto out;
		}
		free(pend);
		pend = NULL;
	}
	rc = 0;
out:
	explicit_bzero(key, sizeof(key));
	free(pend);
	reldb_close(r);
	return rc;
}
