/*
 * api_metrics.c - GET /metrics, the Prometheus text format (0.0.4).
 *
 * Two kinds of series:
 *  - the process's health (packets, drops, anomalies, flush and release
 *    times and durations, capture state, build info), without any
 *    department or service label and without any AI count;
 *  - released gauges of the LAST released week (the full W1 grid) and
 *    the LAST released day (the D1 and D2 grids), read through
 *    released.h.  They change only when a period is released, so two
 *    scrapes around a flush are identical and nothing unreleased can be
 *    differenced out of them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "common/anomaly.h"
#include "common/encap.h"
#include "out/api/api_cache.h"
#include "out/api/api_int.h"
#include "out/api/api_rel.h"
#include "out/api/api_reply.h"
#include "out/api/api_routes.h"
#include "out/query.h"

#ifndef AIC_VERSION
#define AIC_VERSION "dev"
#endif

#define TEXT_FORMAT	"text/plain; version=0.0.4; charset=utf-8"
#define QSTR_(x)	#x
#define QSTR(x)		QSTR_(x)

static void
family(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

static void
sample_u(struct evbuffer *b, const char *name, uint64_t v)
{
	evbuffer_add_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void
sample_i(struct evbuffer *b, const char *name, int64_t v)
{
	evbuffer_add_printf(b, "%s %lld\n", name, (long long)v);
}

/* A label value with \, " and newline escaped as the format requires. */
static void
label_value(struct evbuffer *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			evbuffer_add_printf(b, "\\%c", *s);
		else if (*s == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, s, 1);
	}
}

static void
cell_sample(struct evbuffer *b, const char *name, const struct rel_cell *c,
    uint64_t v)
{
	evbuffer_add_printf(b, "%s{department=\"", name);
	label_value(b, c->dept);
	evbuffer_add(b, "\",service=\"", 11);
	label_value(b, c->svc);
	evbuffer_add_printf(b, "\"} %llu\n", (unsigned long long)v);
}

/*
 * The shipping to the central database (status.h), only with a central
 * group: the link state as a state set (one series per state, 1 for the
 * current one), the last contact and the outbox's fill in tenths; no
 * row count (status.h says why), never the connection or its host.
 */
static void
central(struct evbuffer *b, const struct aic_ship_status *cs)
{
	static const struct {
		enum aic_ship_link	 l;
		const char		*name;
	} states[] = {
		{ AIC_SHIP_UNKNOWN, "unknown" }, { AIC_SHIP_OK, "ok" },
		{ AIC_SHIP_UNREACHABLE, "unreachable" },
		{ AIC_SHIP_AUTH, "auth" },
		{ AIC_SHIP_CERTIFICATE, "certificate" },
		{ AIC_SHIP_REFUSED, "refused" }
	};
	size_t i;

	if (cs->link == AIC_SHIP_OFF)
		return;
	family(b, "aicensus_central_link", "gauge", "The central database's "
	    "link as the last push found it: 1 for the current state.");
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		evbuffer_add_printf(b, "aicensus_central_link{state=\"%s\"} "
		    "%d\n", states[i].name, cs->link == states[i].l);
	family(b, "aicensus_central_last_contact_timestamp_seconds", "gauge",
	    "The minute of the last shipping round that committed (one "
	    "every flush, with rows or not; 0: not since the start).");
	sample_i(b, "aicensus_central_last_contact_timestamp_seconds",
	    cs->last_contact);
	family(b, "aicensus_central_outbox_fill_percent", "gauge",
	    "How full the outbox is, in tenths of outbox_max_mb.");
	sample_i(b, "aicensus_central_outbox_fill_percent", cs->outbox_fill);
	family(b, "aicensus_central_outbox_full_incidents_total", "counter",
	    "Times the outbox filled up and dropped changes (counted as the "
	    "outbox_dropped blind spot) since the start.");
	sample_u(b, "aicensus_central_outbox_full_incidents_total",
	    cs->full_incidents);
}

static void
health(struct evbuffer *b, const struct api *a, int db_up)
{
	const struct aic_status *s = a->st;
	int capture_up;
	size_t i;

	capture_up = s->capture == AIC_CAPTURE_UNSET ? s->capturing != 0 :
	    s->capture == AIC_CAPTURE_RUNNING;
	family(b, "aicensus_up", "gauge", "1 while aicensusd answers.");
	sample_u(b, "aicensus_up", 1);
	family(b, "aicensus_build_info", "gauge",
	    "The running aicensusd version (the value is always 1).");
	evbuffer_add_printf(b, "aicensus_build_info{version=\"%s\"} 1\n",
	    AIC_VERSION);
	family(b, "aicensus_start_time_seconds", "gauge",
	    "When aicensusd started, seconds since the epoch.");
	sample_i(b, "aicensus_start_time_seconds", s->start_time);
	family(b, "aicensus_capture_up", "gauge",
	    "1 while the capture interface is open, 0 while it is lost.");
	sample_u(b, "aicensus_capture_up", capture_up ? 1 : 0);
	family(b, "aicensus_last_packet_timestamp_seconds", "gauge",
	    "When the last packet was seen (0: none).");
	sample_i(b, "aicensus_last_packet_timestamp_seconds", s->last_packet);
	family(b, "aicensus_capture_workers", "gauge",
	    "Capture threads (capture.workers; 0 when not capturing live).");
	sample_u(b, "aicensus_capture_workers", (uint64_t)s->workers);
	{
		static const char *const hb_names[] = { "traffic", "quiet",
		    "capture_down", "no_capture" };
		enum aic_heartbeat hb;
		int64_t idle;
		int k;

		hb = aic_heartbeat(s, (int64_t)time(NULL), &idle);
		family(b, "aicensus_heartbeat", "gauge",
		    "1 for the capture's state now: traffic, quiet (running, "
		    "no packet for " QSTR(AIC_QUIET_SEC) " s), capture_down, no_capture.");
		for (k = 0; k < 4; k++)
			evbuffer_add_printf(b, "aicensus_heartbeat{state=\"%s\"} "
			    "%d\n", hb_names[k], (int)hb == k);
		family(b, "aicensus_capture_idle_seconds", "gauge",
		    "Seconds since the last packet (since the start before "
		    "the first); -1 without a capture.");
		sample_i(b, "aicensus_capture_idle_seconds", idle);
	}
	if (s->alerts.enabled) {
		family(b, "aicensus_alerts_waiting", "gauge",
		    "Alert deliveries waiting for the next release pass.");
		sample_i(b, "aicensus_alerts_waiting", s->alerts.waiting);
		family(b, "aicensus_alerts_delivered_total", "counter",
		    "Alert deliveries done since the start (webhook, mail).");
		sample_u(b, "aicensus_alerts_delivered_total",
		    s->alerts.delivered);
		family(b, "aicensus_alert_failures_total", "counter",
		    "Alert delivery attempts that failed since the start.");
		sample_u(b, "aicensus_alert_failures_total",
		    s->alerts.failures);
	}
	family(b, "aicensus_packets_total", "counter",
	    "Packets the sensor has seen since it started.");
	sample_u(b, "aicensus_packets_total", s->packets);
	family(b, "aicensus_capture_drops_total", "counter",
	    "Packets dropped since the start, by where (kernel buffer or "
	    "interface).");
	evbuffer_add_printf(b, "aicensus_capture_drops_total{where=\"pcap\"} "
	    "%llu\n", (unsigned long long)s->pcap_drops);
	evbuffer_add_printf(b, "aicensus_capture_drops_total{where=\"interface\"}"
	    " %llu\n", (unsigned long long)s->if_drops);
	family(b, "aicensus_anomalies_total", "counter",
	    "Anomalies the decoders met since the start, by name.");
	for (i = 0; i < ANOM_N; i++)
		evbuffer_add_printf(b, "aicensus_anomalies_total{name=\"%s\"} "
		    "%llu\n", anomaly_name((enum anomaly)i),
		    (unsigned long long)s->anomalies[i]);
	family(b, "aicensus_encap_packets_total", "counter",
	    "Packets that came through a tunnel or mirror encapsulation "
	    "since the start, once per kind they carried (kind=\"other\": "
	    "unwrapped, carrying something not decoded).");
	for (i = 0; i < ENCAP_N; i++)
		evbuffer_add_printf(b,
		    "aicensus_encap_packets_total{kind=\"%s\"} %llu\n",
		    encap_name((enum encap_kind)i),
		    (unsigned long long)s->encap[i]);
	family(b, "aicensus_last_flush_timestamp_seconds", "gauge",
	    "When the last flush to the vault was attempted (0: none).");
	sample_i(b, "aicensus_last_flush_timestamp_seconds", s->last_flush);
	family(b, "aicensus_last_flush_success", "gauge",
	    "1 when the last flush committed, 0 when it failed.");
	sample_u(b, "aicensus_last_flush_success", s->last_flush_ok ? 1 : 0);
	family(b, "aicensus_last_flush_duration_seconds", "gauge",
	    "How long the last flush took.");
	evbuffer_add_printf(b, "aicensus_last_flush_duration_seconds "
	    "%llu.%06llu\n", (unsigned long long)(s->last_flush_usec / 1000000),
	    (unsigned long long)(s->last_flush_usec % 1000000));
	family(b, "aicensus_flush_failures_total", "counter",
	    "Flushes that failed (the counts stay in memory for the next).");
	sample_u(b, "aicensus_flush_failures_total", s->flush_failures);
	family(b, "aicensus_last_release_timestamp_seconds", "gauge",
	    "When a day or week was last released (0: not since start).");
	sample_i(b, "aicensus_last_release_timestamp_seconds",
	    s->last_release);
	family(b, "aicensus_last_release_duration_seconds", "gauge",
	    "How long the last release took.");
	evbuffer_add_printf(b, "aicensus_last_release_duration_seconds "
	    "%llu.%06llu\n",
	    (unsigned long long)(s->last_release_usec / 1000000),
	    (unsigned long long)(s->last_release_usec % 1000000));
	family(b, "aicensus_release_failures_total", "counter",
	    "Releases that failed (retried at the next flush).");
	sample_u(b, "aicensus_release_failures_total", s->release_failures);
	family(b, "aicensus_reloads_total", "counter",
	    "Configurations taken on SIGHUP.");
	sample_u(b, "aicensus_reloads_total", s->reloads);
	family(b, "aicensus_reload_failures_total", "counter",
	    "Configurations refused on SIGHUP (the old one stayed).");
	sample_u(b, "aicensus_reload_failures_total", s->reload_failures);
	family(b, "aicensus_release_database_up", "gauge",
	    "1 when the API could read the release database for this scrape.");
	sample_u(b, "aicensus_release_database_up", db_up ? 1 : 0);
	family(b, "aicensus_api_connections", "gauge",
	    "API connections open now (api.max_connections at most).");
	sample_i(b, "aicensus_api_connections", a->nconns);
	family(b, "aicensus_api_connections_refused_total", "counter",
	    "API connections answered 503 and closed at once because "
	    "api.max_connections were open.");
	sample_u(b, "aicensus_api_connections_refused_total", a->refused);
	family(b, "aicensus_api_connections_timed_out_total", "counter",
	    "API connections closed because a whole request had not come "
	    "within the deadline.");
	sample_u(b, "aicensus_api_connections_timed_out_total",
	    a->timed_out);
	central(b, &s->ship);
}

/*
 * Gauges of one released period: aicensus_released_<kind>_<measure>,
 * one series per grid cell (zeros included), published measures only.
 */
static int
released_series(struct evbuffer *b, struct released *rel, enum rel_kind k,
    const struct rel_period *p)
{
	const char *kn = k == REL_DAY ? "day" : "week";
	struct rel_cell *c;
	char name[96], lab[16];
	size_t n, i;
	int m;

	if (released_cells(rel, k, p->period, &c, &n, name, sizeof(name)) != 0)
		return -1;
	query_period_label(k, p->period, lab, sizeof(lab));
	snprintf(name, sizeof(name), "aicensus_released_%s_info", kn);
	family(b, name, "gauge", k == REL_DAY ? "The last released day "
	    "(the value is its release time)." : "The last released ISO "
	    "week (the value is its release time).");
	evbuffer_add_printf(b, "%s{period=\"%s\",complete=\"%d\"} %lld\n",
	    name, lab, p->complete != 0, (long long)p->released_at);
	for (m = 0; m < RM_N; m++) {
		if (n == 0 || !(c[0].published & (1u << m)))
			continue;
		snprintf(name, sizeof(name), "aicensus_released_%s_%s", kn,
		    rel_measure_names[m]);
		family(b, name, "gauge", k == REL_DAY ? "Released figure of "
		    "the last released day (perturbed; rows need not add "
		    "up)." : "Released figure of the last released ISO week "
		    "(perturbed; rows need not add up).");
		for (i = 0; i < n; i++)
			if (c[i].published & (1u << m))
				cell_sample(b, name, &c[i], c[i].m[m]);
	}
	free(c);
	return 0;
}

/*
 * The released series into b, from the cache while the release database
 * has not changed; 0, or -1 when it cannot be read.
 */
static int
released_part(struct api *a, struct evbuffer *b)
{
	static const enum rel_kind kinds[] = { REL_WEEK, REL_DAY };
	struct released *rel;
	struct rel_period *p;
	struct evbuffer *u;
	const char *text;
	char err[256];
	int64_t version;
	size_t len, n, i;
	int rc = 0;

	if ((rel = api_rel_get(a)) == NULL)
		return -1;
	/* a shipping sensor's cells are the central release's: no series */
	if (released_central_site(rel, NULL, 0) == 1)
		return 0;
	version = api_rel_version(a);
	if (version >= 0 && (text = api_cache_get(a->cache, "/metrics "
	    "released", version, &len)) != NULL)
		return evbuffer_add(b, text, len);
	if ((u = evbuffer_new()) == NULL)
		return -1;
	for (i = 0; i < 2 && rc == 0; i++) {
		if (released_periods(rel, kinds[i], 0, 0, &p, &n, err,
		    sizeof(err)) != 0) {
			rc = -1;
			break;
		}
		if (n > 0)
			rc = released_series(u, rel, kinds[i], &p[n - 1]);
		free(p);
	}
	if (rc == 0) {
		len = evbuffer_get_length(u);
		if (version >= 0)
			api_cache_put(a->cache, "/metrics released", version,
			    (const char *)evbuffer_pullup(u, -1), len);
		evbuffer_add_buffer(b, u);
	}
	evbuffer_free(u);
	return rc;
}

void
api_metrics(struct api_call *c)
{
	static const char *const keys[] = { NULL };
	struct evbuffer *b, *series;
	size_t len;
	int ok;

	if (api_params_check(c, keys) != 0)
		return;
	if ((b = evbuffer_new()) == NULL ||
	    (series = evbuffer_new()) == NULL) {
		if (b != NULL)
			evbuffer_free(b);
		api_reply_error(c->req, 500, "out of memory");
		return;
	}
	/* the series first: aicensus_release_database_up says whether
	 * they came */
	ok = released_part(c->api, series) == 0;
	health(b, c->api, ok);
	evbuffer_add_buffer(b, series);
	evbuffer_free(series);
	len = evbuffer_get_length(b);
	api_reply_text(c->req, 200, TEXT_FORMAT,
	    (const char *)evbuffer_pullup(b, -1), len);
	evbuffer_free(b);
}
