/*
 * api_metrics.c - GET /metrics, the Prometheus text format (0.0.4).
 *
 * Two kinds of series:
 *  - the daemon's own health (packets, drops, parse failures, flushes,
 *    reloads, build info): counters about the sensor, not about people;
 *  - per department and service, the current ISO week's figures, read
 *    through query_run() with the configured minimum group size.  A
 *    department x service cell with fewer distinct devices than that is
 *    not emitted at all (no zero, no series).  The counters restart at
 *    each week boundary, which Prometheus treats as a counter reset;
 *    counting over all time instead would let the first scrape of a new
 *    week expose earlier weeks' suppressed cells.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "api_int.h"
#include "query.h"

#ifndef AIC_VERSION
#define AIC_VERSION "dev"
#endif

#define TEXT_FORMAT	"text/plain; version=0.0.4; charset=utf-8"

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
cell_sample(struct evbuffer *b, const char *name, const struct qrow *w,
    const char *extra_label, const char *extra_value, uint64_t v)
{
	evbuffer_add_printf(b, "%s{department=\"", name);
	label_value(b, w->dept);
	evbuffer_add(b, "\",service=\"", 11);
	label_value(b, w->svc);
	if (extra_label != NULL)
		evbuffer_add_printf(b, "\",%s=\"%s", extra_label, extra_value);
	evbuffer_add_printf(b, "\"} %llu\n", (unsigned long long)v);
}

static void
health(struct evbuffer *b, const struct api *a, int db_up)
{
	const struct aic_status *s = a->st;

	family(b, "aicensus_up", "gauge", "1 while aicensusd answers.");
	sample_u(b, "aicensus_up", 1);
	family(b, "aicensus_build_info", "gauge",
	    "The running aicensusd version (the value is always 1).");
	evbuffer_add_printf(b, "aicensus_build_info{version=\"%s\"} 1\n",
	    AIC_VERSION);
	family(b, "aicensus_start_time_seconds", "gauge",
	    "When aicensusd started, seconds since the epoch.");
	sample_i(b, "aicensus_start_time_seconds", s->start_time);
	family(b, "aicensus_capturing", "gauge",
	    "1 while the capture interface is open, 0 while it is lost.");
	sample_u(b, "aicensus_capturing", s->capturing ? 1 : 0);
	family(b, "aicensus_packets_total", "counter",
	    "Packets the sensor has seen since it started.");
	sample_u(b, "aicensus_packets_total", s->packets);
	family(b, "aicensus_pcap_drops_total", "counter",
	    "Packets the kernel capture buffer dropped since the start.");
	sample_u(b, "aicensus_pcap_drops_total", s->pcap_drops);
	family(b, "aicensus_interface_drops_total", "counter",
	    "Packets the interface dropped before the capture saw them.");
	sample_u(b, "aicensus_interface_drops_total", s->if_drops);
	family(b, "aicensus_parse_failures_total", "counter",
	    "Malformed packets the decoders met (stored flushes).");
	sample_u(b, "aicensus_parse_failures_total", s->parse_failures);
	family(b, "aicensus_last_flush_timestamp_seconds", "gauge",
	    "When the last flush to the database was attempted (0: none).");
	sample_i(b, "aicensus_last_flush_timestamp_seconds", s->last_flush);
	family(b, "aicensus_last_flush_success", "gauge",
	    "1 when the last flush committed, 0 when it failed.");
	sample_u(b, "aicensus_last_flush_success", s->last_flush_ok ? 1 : 0);
	family(b, "aicensus_flush_failures_total", "counter",
	    "Flushes that failed (the counts stay in memory for the next).");
	sample_u(b, "aicensus_flush_failures_total", s->flush_failures);
	family(b, "aicensus_reloads_total", "counter",
	    "Configurations taken on SIGHUP.");
	sample_u(b, "aicensus_reloads_total", s->reloads);
	family(b, "aicensus_reload_failures_total", "counter",
	    "Configurations refused on SIGHUP (the old one stayed).");
	sample_u(b, "aicensus_reload_failures_total", s->reload_failures);
	family(b, "aicensus_min_group_size", "gauge",
	    "Cells with fewer distinct devices than this are suppressed.");
	sample_i(b, "aicensus_min_group_size", a->cfg->min_group_size);
	family(b, "aicensus_database_up", "gauge",
	    "1 when the API could read the database for this scrape.");
	sample_u(b, "aicensus_database_up", db_up ? 1 : 0);
}

/* The per-department and per-service series of the current week. */
static void
usage(struct evbuffer *b, const struct query *q, const struct qresult *r)
{
	static const char *const proto[] = { "tls", "quic", "ech" };
	size_t i;
	int k;

	family(b, "aicensus_week_start_timestamp_seconds", "gauge",
	    "Start of the ISO week the per-department series count.");
	sample_i(b, "aicensus_week_start_timestamp_seconds", q->from);
	family(b, "aicensus_suppressed_cells", "gauge",
	    "Department x service cells this week below the minimum group "
	    "size, left out of the series below.");
	sample_u(b, "aicensus_suppressed_cells", r->suppressed);
	family(b, "aicensus_connections_total", "counter",
	    "Connections to the service this ISO week (resets each week).");
	for (i = 0; i < r->n; i++)
		for (k = 0; k < 3 && !r->rows[i].suppressed; k++)
			cell_sample(b, "aicensus_connections_total",
			    &r->rows[i], "protocol", proto[k],
			    r->rows[i].m[QM_TLS + k]);
	family(b, "aicensus_dns_lookups_total", "counter",
	    "DNS lookups of the service's names this ISO week.");
	for (i = 0; i < r->n; i++)
		if (!r->rows[i].suppressed)
			cell_sample(b, "aicensus_dns_lookups_total",
			    &r->rows[i], NULL, NULL, r->rows[i].m[QM_DNS]);
	family(b, "aicensus_dns_nxdomain_total", "counter",
	    "Lookups answered NXDOMAIN (blocked) this ISO week.");
	for (i = 0; i < r->n; i++)
		if (!r->rows[i].suppressed)
			cell_sample(b, "aicensus_dns_nxdomain_total",
			    &r->rows[i], NULL, NULL,
			    r->rows[i].m[QM_NXDOMAIN]);
	family(b, "aicensus_payload_bytes_total", "counter",
	    "Payload bytes of the counted connections this ISO week.");
	for (i = 0; i < r->n; i++)
		for (k = 0; k < 2 && !r->rows[i].suppressed; k++)
			cell_sample(b, "aicensus_payload_bytes_total",
			    &r->rows[i], "direction", k ? "down" : "up",
			    r->rows[i].m[k ? QM_DOWN : QM_UP]);
	family(b, "aicensus_device_hour_total", "counter",
	    "Device-hours this ISO week: per hour, the devices that used the service, summed.");
	for (i = 0; i < r->n; i++)
		if (!r->rows[i].suppressed)
			cell_sample(b, "aicensus_device_hour_total",
			    &r->rows[i], NULL, NULL,
			    r->rows[i].m[QM_DEVHOURS]);
	family(b, "aicensus_devices", "gauge",
	    "Distinct devices that used the service this ISO week.");
	for (i = 0; i < r->n; i++)
		if (!r->rows[i].suppressed)
			cell_sample(b, "aicensus_devices", &r->rows[i], NULL,
			    NULL, r->rows[i].devices);
}

/*
 * The week's series into b, from the cache while the database has not
 * changed; 0, or -1 when the database cannot be read.
 */
static int
week_series(struct api *a, struct evbuffer *b)
{
	struct evbuffer *u;
	struct qresult r;
	struct query q;
	const char *text;
	char err[256], key[64];
	sqlite3 *db;
	int64_t version;
	size_t len;

	memset(&q, 0, sizeof(q));
	api_this_week((int64_t)time(NULL), &q.from, &q.to);
	q.by_dept = q.by_svc = 1;
	q.min_group = a->cfg->min_group_size;
	if ((db = api_db_get(a)) == NULL)
		return -1;
	version = api_db_version(a);
	snprintf(key, sizeof(key), "/metrics week %lld", (long long)q.from);
	if (version >= 0 && (text = api_cache_get(a->cache, key, version,
	    &len)) != NULL)
		return evbuffer_add(b, text, len);
	if (query_run(db, &q, &r, err, sizeof(err)) != 0 ||
	    (u = evbuffer_new()) == NULL)
		return -1;
	usage(u, &q, &r);
	query_free(&r);
	len = evbuffer_get_length(u);
	if (version >= 0)
		api_cache_put(a->cache, key, version,
		    (const char *)evbuffer_pullup(u, -1), len);
	evbuffer_add_buffer(b, u);
	evbuffer_free(u);
	return 0;
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
	/* the series first: aicensus_database_up says whether they came */
	ok = week_series(c->api, series) == 0;
	health(b, c->api, ok);
	evbuffer_add_buffer(b, series);
	evbuffer_free(series);
	len = evbuffer_get_length(b);
	api_reply_text(c->req, 200, TEXT_FORMAT,
	    (const char *)evbuffer_pullup(b, -1), len);
	evbuffer_free(b);
}
