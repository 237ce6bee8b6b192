/*
 * due.c - days and weeks that have closed, from the vault to the
 * release database, in a crash-safe order (due.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/period.h"
#include "aggregate/wacc.h"
#include "attribute/weekkey.h"
#include "store/vault.h"
#include "release/release.h"
#include "release/due.h"

int
release_target_publish(void *arg, const struct rel_input *in,
    const struct weekkey *keys, int64_t now)
{
	const struct release_target *t = arg;

	/* nowhere to publish: the migration stops, nothing is destroyed */
	if (t == NULL || t->rel == NULL || t->dims == NULL || t->params == NULL)
		return -1;
	return release_publish(t->rel, t->dims, t->params, in, keys, now);
}

static int
publish(struct vault *v, struct reldb *rel, const struct rel_dims *dims,
    const struct rel_params *params, struct wacc_rel *r, int64_t now)
{
	char per[16];
	int rc;

	if (r->in.kind == REL_DAY)
		period_day_format(r->in.period, per, sizeof(per));
	else
		period_week_format(r->in.period, per, sizeof(per));
	if (r->dropped != 0)
		log_info("release of %s: %zu cells of services no longer in "
		    "the catalog dropped", per, r->dropped);
	rc = release_publish(rel, dims, params, &r->in, vault_keys(v), now);
	if (rc < 0)
		log_warnx("release of %s failed; retried at the next flush",
		    per);
	return rc;
}

static int
release_week(struct vault *v, struct reldb *rel, const struct rel_dims *dims,
    const struct rel_params *params, int32_t week, int32_t today,
    int32_t curweek, int64_t now)
{
	struct wacc *w = NULL;
	struct wacc_rel r;
	int64_t maxseq;
	int32_t days[16];
	size_t nd, i;
	int due = curweek == 0 || week < curweek, folded = 0, n = 0, rc;
	char per[16];

	period_week_format(week, per, sizeof(per));
	rc = vault_week_load(v, week, &w, &maxseq);
	if (rc == -2) {
		log_warnx("vault: the rows of week %s cannot be opened (key lost "
		    "or damaged); they are deleted, never released", per);
		if (vault_week_finalise(v, week, now) != 0)
			return -1;
		weekkey_destroy(vault_keys(v), week);
		return 0;
	}
	if (rc != 0)
		return -1;
	if (w == NULL)
		return 0;
	nd = wacc_open_days(w, days, sizeof(days) / sizeof(days[0]));
	for (i = 0; i < nd; i++) {
		int64_t end;

		if (!due && today != 0 && days[i] >= today)
			continue;
		if (wacc_rel_day(w, days[i], dims, &r) != 0)
			goto fail;
		end = period_day_start(days[i]) +
		    3600 * (int64_t)period_day_hours(days[i]);
		r.in.complete = now >= end;
		rc = publish(v, rel, dims, params, &r, now);
		wacc_rel_free(&r);
		if (rc < 0)
			goto fail;
		n += rc;
		/* released (now or before a crash): into the week part */
		if (wacc_fold_day(w, days[i]) != 0)
			goto fail;
		folded = 1;
	}
	if (due) {
		int64_t end = period_week_start(week) +
		    3600 * (int64_t)period_week_hours(week);

		if (wacc_rel_week(w, dims, &r) != 0)
			goto fail;
		r.in.complete = now >= end;
		rc = publish(v, rel, dims, params, &r, now);
		wacc_rel_free(&r);
		if (rc < 0)
			goto fail;
		n += rc;
		/* release DB first, then the vault, then the key */
		if (vault_week_finalise(v, week, now) != 0)
			goto fail;
		if (weekkey_destroy(vault_keys(v), week) != 0)
			log_warnx("vault: the key of week %s could not be "
			    "destroyed; retried at the next release", per);
	} else if (folded && vault_week_compact(v, w, maxseq) != 0)
		goto fail;
	wacc_free(w);
	return n;
fail:
	wacc_free(w);
	return -1;
}

int
release_due_periods(struct vault *v, struct reldb *rel,
    const struct rel_dims *dims, const struct rel_params *params,
    int32_t today, int32_t week, int64_t now)
{
	struct weekkey *keys = vault_keys(v);
	int32_t *weeks, kw[64];
	size_t nw, nk, i, j;
	int total = 0, rc, failed = 0;

	if (vault_flush_busy(v))
		return -1;	/* after the flush has ended */
	if (vault_weeks(v, &weeks, &nw) != 0)
		return -1;
	for (i = 0; i < nw; i++) {
		if (!vault_week_pending(v, weeks[i], today, week))
			continue;
		if ((rc = release_week(v, rel, dims, params, weeks[i], today,
		    week, now)) < 0) {
			failed = 1;
			continue;
		}
		total += rc;
	}
	/* keys of past weeks without data (or whose rows went above) */
	nk = weekkey_list(keys, kw, sizeof(kw) / sizeof(kw[0]));
	for (i = 0; i < nk; i++) {
		if (week != 0 && kw[i] >= week)
			continue;
		for (j = 0; j < nw; j++)
			if (weeks[j] == kw[i])
				break;
		if (j < nw && vault_week_has_rows(v, kw[i]) != 0)
			continue;	/* not released yet (failed above) */
		if (weekkey_destroy(keys, kw[i]) != 0)
			failed = 1;
	}
	free(weeks);
	vault_pass_end(v, failed, today, week);
	return failed ? -1 : total;
}
