/*
 * alert.h - alerts after a release: a service used for the first time,
 * an unsanctioned service above a share of the week's AI connections.
 *
 * Alerts are an output like the report: they are decided from released
 * figures only, read through release/released.h (never the vault, never
 * a raw aggregate), and an alert holds nothing but released figures and
 * labels (service, department, period, the configured threshold).  They
 * are judged per released ISO week, once: store/alertlog.h records the
 * weeks judged and every alert with its delivery state, in the release
 * database's file, so a restart repeats nothing and a failed delivery
 * is tried again at the next release pass.
 *
 * The rules (docs/ALERTS.md):
 *  - new service: a catalog service whose published device count of the
 *    organisation ("*") is positive in week W and zero in every earlier
 *    released week still kept.  The first released week is the
 *    baseline and alerts nothing; weeks released before the daemon
 *    first ran with alerts configured are history, not news.
 *  - per department (optional): the same for a department's cell.
 *  - shadow share: an unsanctioned service whose published connections
 *    reach shadow_share_percent of the organisation's published AI
 *    connections (cell "*" x "*") in W, and did not in the week before.
 *
 * Delivery runs on a thread of its own, never in the capture's loop: a
 * JSON POST over plain HTTP/1.1 (ALERT_TIMEOUT_SEC for the whole
 * exchange) and/or "sendmail -t" (the same bound, then killed).
 */
#ifndef AIC_ALERT_H
#define AIC_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/status.h"

#define ALERT_TIMEOUT_SEC	10

struct released;
struct alertlog;

/*
 * Judges every released week not judged yet and records its alerts
 * (on the channels configured).  fresh: the alert tables were just
 * created, so the weeks released before since (epoch seconds: when the
 * daemon with this configuration started) are history, marked judged
 * without an alert; a week released since then is judged, whichever
 * pass of the alert thread first sees it.  Returns the alerts
 * recorded, or -1 (err).
 */
int	 alert_judge(struct released *, struct alertlog *,
	    const struct config_alerts *, int fresh, int64_t since,
	    int64_t now, char *err, size_t errlen);

/*
 * Delivers what waits on every configured channel (mail in Dutch when
 * nl, else English); returns the number still waiting afterwards (0:
 * all delivered), -1 on a database error.  *delivered and *failed (may
 * be NULL) get this call's counts.
 */
int	 alert_deliver(struct alertlog *, const struct config_alerts *,
	    int nl, unsigned *delivered, unsigned *failed);

/*
 * The daemon's handle: alerter_run() after every release pass starts a
 * pass on the alert thread (judge, then deliver) and returns at once; a
 * call while a pass runs makes it run once more.  A configuration with
 * neither webhook nor mail_to does nothing (no table is created).
 */
struct alerter;
struct alerter *alerter_new(const char *release_db, int64_t since);
void	 alerter_run(struct alerter *, const struct config_alerts *,
	    const char *language);	/* "en" or "nl": the mail's */
/* The counters of the passes so far (API status, /metrics). */
void	 alerter_stats(struct alerter *, struct aic_alert_status *);
/* Waits for the pass under way and any it was asked to repeat. */
void	 alerter_wait(struct alerter *);
/* Waits, then frees. */
void	 alerter_free(struct alerter *);

#endif /* AIC_ALERT_H */
