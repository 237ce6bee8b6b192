/*
 * alertlog.h - what the alerts (out/alert.h) have decided and delivered,
 * kept in the release database's file so that a restart neither repeats
 * an alert nor forgets one whose delivery failed.
 *
 * Two tables beside the release stage's own: alert_week, the released
 * weeks already judged, and alert, one row per alert with its JSON body
 * (released figures and labels only, as out/alert.c builds it) and, per
 * channel, whether it still waits for delivery.  Nothing here is a raw
 * figure or an identifier.  The tables are created by the first
 * alertlog_open(); the release stage never reads them.
 */
#ifndef AIC_ALERTLOG_H
#define AIC_ALERTLOG_H

#include <stddef.h>
#include <stdint.h>

enum alert_channel { ALERT_WEBHOOK = 0, ALERT_MAIL = 1, ALERT_NCHANNEL };

struct alertlog;

/*
 * Opens the alert tables in the release database at path, which must
 * exist and be a release database (the release stage creates it); the
 * tables are created when missing, and *fresh says so (1) — the weeks
 * released before then are history, not news.  NULL with err.
 */
struct alertlog *alertlog_open(const char *path, int *fresh, char *err,
	    size_t errlen);
void	 alertlog_close(struct alertlog *);
const char *alertlog_error(struct alertlog *);

/* One transaction around a week's decisions: 0 or -1. */
int	 alertlog_begin(struct alertlog *);
int	 alertlog_commit(struct alertlog *);
void	 alertlog_rollback(struct alertlog *);

/* 1 when week (YYYYWW) was judged, 0 not yet, -1 error. */
int	 alertlog_judged(struct alertlog *, int32_t week);
/* Records week as judged: 0 or -1. */
int	 alertlog_mark(struct alertlog *, int32_t week);

/*
 * Records an alert once: key names it (its kind, week and subject),
 * body is its JSON, want[c] whether channel c is to deliver it.  1
 * recorded, 0 it was already there (nothing changed), -1 error.
 */
int	 alertlog_add(struct alertlog *, const char *key, int32_t week,
	    const char *body, int64_t now, const int want[ALERT_NCHANNEL]);

/* Calls fn for every alert still waiting on channel c, oldest first;
 * fn returning non-zero stops (0 is returned).  0 or -1. */
typedef int (*alertlog_fn)(void *arg, const char *key, const char *body);
int	 alertlog_waiting(struct alertlog *, enum alert_channel,
	    alertlog_fn, void *arg);
/* Channel c delivered the alert key: 0 or -1. */
int	 alertlog_delivered(struct alertlog *, const char *key,
	    enum alert_channel);

#endif /* AIC_ALERTLOG_H */
