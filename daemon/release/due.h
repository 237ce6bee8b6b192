/*
 * due.h - what the release stage takes from the vault: every day and
 * week that has closed, published in order and crash-safe.
 *
 * The vault (store/vault.h) holds each week's sealed state and knows
 * nothing of publication; this module decides what is due, builds each
 * period's release input from the week's state (aggregate/wacc.h),
 * publishes it (release.h) and only then tells the vault to fold or
 * drop what was published and destroys the week's key: release
 * database first, then the vault, then the key.  A crash between two of
 * these steps repeats the later ones only (publishing a period twice
 * writes nothing the second time).
 */
#ifndef AIC_DUE_H
#define AIC_DUE_H

#include <stdint.h>

#include "aggregate/relinput.h"
#include "release/release.h"

struct vault;
struct weekkey;

/*
 * Release what is due: every unreleased day before `today` (local
 * YYYYMMDD) that has data, then every week before `week` (its remaining
 * days, the week itself), whose rows are then deleted and whose key is
 * destroyed.  A week of a past ISO week that has a key but no data has
 * its key destroyed too.  today = week = 0: release everything open now
 * (end of aicensusd -r, --finalise), marking periods not yet over as
 * incomplete, and destroy every key.  Returns the number of periods
 * published, or -1 (logged; the rest is retried at the next call, and
 * -1 also while a flush is under way).  A week whose rows cannot be
 * opened (key lost) is deleted with a log line naming the week, never
 * released.
 */
int	 release_due_periods(struct vault *, struct reldb *,
	    const struct rel_dims *, const struct rel_params *,
	    int32_t today, int32_t week, int64_t now);

/*
 * The publisher a vault opening a v1 database hands its old weeks to
 * (vault_publish_fn): arg is a struct release_target that must live
 * until vault_open returns.
 */
struct release_target {
	struct reldb		*rel;
	const struct rel_dims	*dims;
	const struct rel_params	*params;
};
int	 release_target_publish(void *arg, const struct rel_input *in,
	    const struct weekkey *keys, int64_t now);

#endif /* AIC_DUE_H */
