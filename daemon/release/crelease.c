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

/*
 * One scope of a period (site NULL: the organisation's) through the
 * release stage; the store is already switched to that scope.  1
 * published, 0 it was there, -1 with err.
 */
static int
publish_scope(struct central *c, struct reldb *r,
    const struct crelease_opts *o, struct relstore *st, const uint8_t *key,
    enum rel_kind kind, int32_t period, const char *site,
    struct crelease_result *res, char *err, size_t errlen)
{
	struct rel_summed in;
	struct rel_summed_stats ss;
	struct central_cover cv;
	struct rel_cell *cells = NULL;
	size_t n = 0;
	int rc = -1;

	memset(&in, 0, sizeof(in));
	if (central_sites_sum(c, kind, period, site, &cells, &n, err,
	    errlen) != 0 ||
	    central_sites_cover(c, kind, period, site, &cv, err, errlen) != 0 ||
	    (kind == REL_DAY && central_sites_blind(c, period, site, in.blind,
	    err, errlen) != 0))
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
	/* Silent sites are the organisation's figure, not a site's. */
	if (kind == REL_DAY && site == NULL)
		relstore_pg_set_silent(st, cv.silent);
	switch ((rc = release_publish_summed(r, o->dims, &o->params, &in, key,
	    o->now, &ss))) {
	case 1:
		if (site != NULL) {
			res->site_scopes++;
			break;
		}
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
		break;
	default:
		snprintf(err, errlen, "%s %" PRId32 " %s%s not published: %s",
		    kind == REL_DAY ? "day" : "week", period,
		    site != NULL ? "of site " : "(the organisation)",
		    site != NULL ? site : "", relstore_error(st));
		goto out;
	}
out:
	free(cells);
	return rc;
}

/*
 * A period, every scope of it, in one transaction that holds the
 * sites' raw tables locked: the sites' scopes, the organisation's, then
 * the raw rows deleted.  Another release that was first (the
 * organisation's scope is there once the lock is ours) leaves it all
 * alone: rows shipped since are late rows, for the next run.  A crash
 * anywhere before the commit leaves nothing published and every raw
 * row in place.
 */
static int
release_one(struct central *c, struct reldb *r,
    const struct crelease_opts *o, struct relstore *st, const uint8_t *key,
    enum rel_kind kind, int32_t period, struct crelease_result *res,
    char *err, size_t errlen)
{
	struct crelease_result before = *res;
	struct central_site *sites = NULL;
	size_t ns = 0, i;
	int rc;

	if (central_sites_begin(c, err, errlen) != 0)
		return -1;
	relstore_pg_set_nested(st, 1);
	if (relstore_pg_set_site(st, NULL) != 0 ||
	    (rc = relstore_is_released(st, kind, period)) < 0) {
		snprintf(err, errlen, "%s", relstore_error(st));
		goto fail;
	}
	if (rc == 1) {
		relstore_pg_set_nested(st, 0);
		central_sites_end(c, 0, NULL, 0);
		return 0;	/* another release was first */
	}
	if (central_sites_shipped(c, kind, period, &sites, &ns, err,
	    errlen) != 0)
		goto fail;
	for (i = 0; i < ns; i++) {
		if (relstore_pg_set_site(st, sites[i].name) != 0) {
			snprintf(err, errlen, "%s", relstore_error(st));
			goto fail;
		}
		if (publish_scope(c, r, o, st, key, kind, period,
		    sites[i].name, res, err, errlen) < 0)
			goto fail;
	}
	if (relstore_pg_set_site(st, NULL) != 0 ||
	    publish_scope(c, r, o, st, key, kind, period, NULL, res, err,
	    errlen) < 0)
		goto fail;
	if (central_sites_consume(c, kind, period, err, errlen) < 0 ||
	    central_sites_end(c, 1, err, errlen) != 0)
		goto fail;
	relstore_pg_set_nested(st, 0);
	free(sites);
	return 0;
fail:
	relstore_pg_set_nested(st, 0);
	relstore_pg_set_site(st, NULL);
	central_sites_end(c, 0, NULL, 0);
	*res = before;		/* nothing of it was kept */
	free(sites);
	return -1;
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
	/* Rows shipped for periods released before: counted, deleted. */
	if ((n = central_sites_late(c, err, errlen)) < 0)
		goto out;
	res->late_rows = (unsigned)n;
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
