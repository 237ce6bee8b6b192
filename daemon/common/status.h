/*
 * status.h - the daemon's own health, as the API shows it.
 *
 * aicensusd owns one struct aic_status and keeps it current (packets as
 * they arrive, the rest at each flush and reload); the API only reads
 * it, from the same thread, when a request comes in.  Nothing in it is
 * about a device or a department: these are the sensor's own counters.
 * The last released week and day are read from the release database.
 */
#ifndef AIC_STATUS_H
#define AIC_STATUS_H

#include <stdint.h>

#include "common/anomaly.h"
#include "common/encap.h"

/* What the capture is doing (API status "capture", /metrics). */
enum aic_capture_state {
	AIC_CAPTURE_UNSET = 0,	/* not filled in: "capturing" decides */
	AIC_CAPTURE_RUNNING,	/* live, the interface open */
	AIC_CAPTURE_DOWN,	/* live, the interface lost */
	AIC_CAPTURE_OFFLINE,	/* reading a file (-r) or finalising */
	AIC_CAPTURE_NONE	/* aicensusd --serve: no capture at all */
};

/*
 * The central database's link as the shipper last found it (API status
 * "central", /metrics aicensus_central_*).  States only: never the
 * connection string, the host or the password.
 */
enum aic_ship_link {
	AIC_SHIP_OFF = 0,	/* no central group: nothing is shipped */
	AIC_SHIP_UNKNOWN,	/* no push tried yet */
	AIC_SHIP_OK,		/* the last push committed */
	AIC_SHIP_UNREACHABLE,
	AIC_SHIP_AUTH,		/* password or role refused */
	AIC_SHIP_CERTIFICATE,	/* the server's certificate does not match */
	AIC_SHIP_REFUSED	/* the database refused the site's rows */
};

/*
 * Shipping to the central database: states, never a figure about use.
 * How many rows wait or were shipped, and when a push carried rows,
 * follow the moments people used a service (a scrape before and after
 * a flush would tell them), so none of them is here: the link state and
 * the last contact follow the flush clock (a round every flush, rows or
 * not), the outbox's fill is in tenths of its bound, and the bound's
 * losses are incidents (what was dropped is a released blind spot).
 */
struct aic_ship_status {
	enum aic_ship_link link;
	int64_t		last_contact;	/* epoch, the minute of the last
					   round that committed; 0 */
	int		outbox_fill;	/* percent of outbox_max_mb, in 10s */
	uint64_t	full_incidents;	/* times the outbox filled up */
};

/*
 * The heartbeat (API status "heartbeat", /metrics aicensus_traffic_*):
 * a running capture that saw no packet for AIC_QUIET_SEC is "quiet" —
 * no traffic on a working sensor — which is not "capture_down" (the
 * interface is lost) and not silence from the API (the daemon is down:
 * /metrics does not answer, Prometheus' up is 0).
 */
#define AIC_QUIET_SEC	300

enum aic_heartbeat {
	AIC_HB_TRAFFIC,		/* running, a packet within AIC_QUIET_SEC */
	AIC_HB_QUIET,		/* running, no packet for AIC_QUIET_SEC */
	AIC_HB_CAPTURE_DOWN,	/* live, the interface lost */
	AIC_HB_NO_CAPTURE	/* -r, --finalise, --serve: nothing captured */
};

/* The alerts (out/alert.h), as of their last pass: counts, no figure. */
struct aic_alert_status {
	int		enabled;	/* a webhook or mail_to is set */
	int64_t		waiting;	/* deliveries not done yet */
	uint64_t	recorded;	/* alerts decided since the start */
	uint64_t	delivered;	/* deliveries done since the start */
	uint64_t	failures;	/* delivery attempts that failed */
	int64_t		last_failure;	/* epoch seconds; 0 */
};

struct aic_status {
	int64_t		start_time;	/* epoch seconds */
	uint64_t	packets;	/* seen since start */
	uint64_t	pcap_drops;	/* dropped by the kernel buffer */
	uint64_t	if_drops;	/* dropped by the interface */
	int		workers;	/* capture threads; 0 = none (-r) */
	uint64_t	parse_failures;	/* malformed packets (stored flushes) */
	int64_t		last_flush;	/* epoch seconds of the last attempt; 0 */
	int		last_flush_ok;	/* 1 when it committed */
	uint64_t	flush_failures;
	uint64_t	reloads;	/* configurations taken */
	uint64_t	reload_failures;/* configurations refused */
	int		capturing;	/* 0 while the interface is lost */
	/* issue 10: health only, never a figure about people */
	enum aic_capture_state capture;
	int64_t		last_packet;	/* epoch seconds of the last packet; 0 */
	uint64_t	last_flush_usec;	/* duration of the last flush */
	int64_t		last_release;	/* epoch seconds of the last release
					   (a day or week published); 0 */
	uint64_t	last_release_usec;	/* its duration */
	uint64_t	release_failures;
	uint64_t	anomalies[ANOM_N];	/* counted since start */
	uint64_t	releases;	/* periods released since start */
	/* issue 13: packets per encapsulation kind since start, counted by
	   the pipeline as they arrive (pipeline_encap_counts) */
	uint64_t	encap[ENCAP_N];
	/* issue 12: copied from the shipper's thread by the daemon's
	   (out/ship.h ship_stats, under its mutex) */
	struct aic_ship_status ship;
	/* copied from the alert thread's counters after each release pass */
	struct aic_alert_status alerts;
};

/*
 * The heartbeat at now (epoch seconds); *idle: seconds since the last
 * packet, or since the start when none came yet (-1 without a capture).
 */
static inline enum aic_heartbeat
aic_heartbeat(const struct aic_status *s, int64_t now, int64_t *idle)
{
	int running = s->capture == AIC_CAPTURE_UNSET ? s->capturing != 0 :
	    s->capture == AIC_CAPTURE_RUNNING;

	*idle = -1;
	if (s->capture == AIC_CAPTURE_OFFLINE || s->capture == AIC_CAPTURE_NONE)
		return AIC_HB_NO_CAPTURE;
	*idle = now - (s->last_packet > 0 ? s->last_packet : s->start_time);
	if (*idle < 0)
		*idle = 0;
	if (!running)
		return AIC_HB_CAPTURE_DOWN;
	return *idle >= AIC_QUIET_SEC ? AIC_HB_QUIET : AIC_HB_TRAFFIC;
}

#endif /* AIC_STATUS_H */
