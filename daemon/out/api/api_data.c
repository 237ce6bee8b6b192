/*
 * api_data.c - the JSON endpoints: healthz, usage, periods, blind,
 * services, departments, status, sites.
 *
 * Every figure comes from the release database through released.h:
 * usage is query_run() + query_json(), the same document as `aicensus
 * query --format json`; blind is the released B1 figures of whole days.
 * A range names whole released periods (dates, ISO weeks, or the epoch
 * of a local midnight); any other epoch is refused with 400, so no free
 * window can select part of a period.  Status is the sensor's health
 * and carries no figure about people; departments and services are the
 * grid's labels.  Over the central release (api.source = central) the
 * data endpoints take site=NAME, which api_rel() turns into that site's
 * scope (or a 400), and sites lists the sites.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "out/api/api_int.h"
#include "out/api/api_rel.h"
#include "out/api/api_reply.h"
#include "out/api/api_routes.h"
#include "common/period.h"
#include "out/query.h"

#ifndef AIC_VERSION
#define AIC_VERSION "dev"
#endif

static json_t	*epoch_or_null(int64_t);

static json_t *
jint(uint64_t v)
{
	return json_integer((json_int_t)v);
}

/*
 * week=W | day=D | from=A&to=B into q's range; 0, or -1 after a 400.
 * With neither, the whole released history.
 */
static int
range_params(struct api_call *c, struct query *q)
{
	const char *w = evhttp_find_header(c->params, "week");
	const char *d = evhttp_find_header(c->params, "day");
	const char *f = evhttp_find_header(c->params, "from");
	const char *t = evhttp_find_header(c->params, "to");
	char err[256];

	if ((w != NULL) + (d != NULL) + (f != NULL || t != NULL) > 1) {
		api_reply_error(c->req, HTTP_BADREQUEST, "week, day and "
		    "from/to exclude each other");
		return -1;
	}
	if (w != NULL && period_week_parse(w) <= 0) {
		api_reply_error(c->req, HTTP_BADREQUEST, "week: use an ISO "
		    "week (2026-W47)");
		return -1;
	}
	if (d != NULL && period_week_parse(d) > 0) {
		api_reply_error(c->req, HTTP_BADREQUEST, "day: use a date "
		    "(2026-11-18)");
		return -1;
	}
	if (w != NULL)
		f = t = w;
	if (d != NULL)
		f = t = d;
	if ((f != NULL && query_parse_when(f, 0, w == NULL && d == NULL,
	    &q->from_day, err, sizeof(err)) != 0) ||
	    (t != NULL && query_parse_when(t, 1, w == NULL && d == NULL,
	    &q->to_day, err, sizeof(err)) != 0) ||
	    query_check_range(q, err, sizeof(err)) != 0) {
		api_reply_error(c->req, HTTP_BADREQUEST, "%s", err);
		return -1;
	}
	return 0;
}

/* --- liveness --------------------------------------------------------- */

/* No token, no database, no figure: the process answers. */
void
api_healthz(struct api_call *c)
{
	api_reply_json(c->req, HTTP_OK, json_pack("{s:s}", "status", "ok"));
}

/* --- usage ------------------------------------------------------------ */

/*
 * Over the central release the document names its method and scope
 * first, as aicensus query's does: {"method", "site", ...doc}.
 */
static json_t *
scoped(struct api_call *c, json_t *doc)
{
	const char *site = api_rel_site(c);
	json_t *n;

	if (doc == NULL || site == NULL)
		return doc;
	if ((n = json_object()) == NULL || json_object_set(n, "method",
	    json_object_get(doc, "method")) != 0 || json_object_set_new(n,
	    "site", json_string(site)) != 0 || json_object_update(n, doc) !=
	    0) {
		json_decref(n);
		n = NULL;
	}
	json_decref(doc);
	return n;
}

void
api_usage(struct api_call *c)
{
	static const char *const keys[] = {
		"week", "day", "from", "to", "by", "site", NULL
	};
	struct query q;
	struct qresult r;
	struct released *rel;
	const char *by;
	char err[256];
	int64_t version;
	json_t *doc;
	int day, week;

	memset(&q, 0, sizeof(q));
	if (api_params_check(c, keys) != 0)
		return;
	by = evhttp_find_header(c->params, "by");
	day = evhttp_find_header(c->params, "day") != NULL;
	week = evhttp_find_header(c->params, "week") != NULL;
	/* day= asks for day cells, week= for week cells */
	if (query_parse_by(by == NULL && day ? "day" : by, &q, err,
	    sizeof(err)) != 0 || ((day || week) && query_imply_level(&q,
	    day ? REL_DAY : REL_WEEK, err, sizeof(err)) != 0)) {
		api_reply_error(c->req, HTTP_BADREQUEST, "%s", err);
		return;
	}
	if (range_params(c, &q) != 0 || (rel = api_rel(c)) == NULL)
		return;
	version = api_rel_version(c->api);
	if (api_cache_send(c, version))
		return;
	if (query_run(rel, &q, &r, err, sizeof(err)) != 0) {
		api_reply_error(c->req, HTTP_SERVUNAVAIL, "%s", err);
		return;
	}
	r.method = api_rel_method(c->api);
	doc = scoped(c, query_json(&r));
	query_free(&r);
	if (doc == NULL) {
		api_reply_error(c->req, HTTP_INTERNAL, "out of memory");
		return;
	}
	api_reply_json_keep(c, doc, version);
}

/* --- periods and blind spots ------------------------------------------- */

static json_t *
period_list(struct released *rel, enum rel_kind k, int32_t from,
    int32_t to)
{
	struct rel_period *p;
	char err[256];
	size_t n, i;
	json_t *a;

	if (released_periods(rel, k, from, to, &p, &n, err, sizeof(err)) != 0)
		return NULL;
	a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, query_period_json(&p[i]));
	free(p);
	return a;
}

void
api_periods(struct api_call *c)
{
	static const char *const keys[] = { "site", NULL };
	struct released *rel;
	json_t *w, *d;
	int64_t version;

	if (api_params_check(c, keys) != 0 || (rel = api_rel(c)) == NULL)
		return;
	version = api_rel_version(c->api);
	if (api_cache_send(c, version))
		return;
	w = period_list(rel, REL_WEEK, 0, 0);
	d = period_list(rel, REL_DAY, 0, 0);
	if (w == NULL || d == NULL) {
		json_decref(w);
		json_decref(d);
		api_reply_error(c->req, HTTP_SERVUNAVAIL, "the release database "
		    "cannot be read");
		return;
	}
	api_reply_json_keep(c, json_pack("{s:o,s:o}", "weeks", w, "days", d),
	    version);
}

void
api_blind(struct api_call *c)
{
	static const char *const keys[] = { "week", "day", "site", NULL };
	struct released *rel;
	struct rel_period *p;
	struct query q;
	uint64_t v[RB_N];
	char err[256], lab[16];
	size_t n, i;
	int64_t version;
	json_t *days, *o;
	int k;

	memset(&q, 0, sizeof(q));
	if (api_params_check(c, keys) != 0 || range_params(c, &q) != 0 ||
	    (rel = api_rel(c)) == NULL)
		return;
	version = api_rel_version(c->api);
	if (api_cache_send(c, version))
		return;
	if (released_periods(rel, REL_DAY, q.from_day, q.to_day, &p, &n, err,
	    sizeof(err)) != 0) {
		api_reply_error(c->req, HTTP_SERVUNAVAIL, "%s", err);
		return;
	}
	days = json_array();
	for (i = 0; i < n; i++) {
		if (released_blind(rel, p[i].period, v) != 0)
			continue;
		query_period_label(REL_DAY, p[i].period, lab, sizeof(lab));
		o = json_pack("{s:s}", "day", lab);
		for (k = 0; k < RB_N; k++)
			json_object_set_new(o, rel_blind_names[k], jint(v[k]));
		json_array_append_new(days, o);
	}
	free(p);
	api_reply_json_keep(c, json_pack("{s:o}", "days", days), version);
}

/* --- dimensions ------------------------------------------------------- */

/* The grid's labels: services of every released grid (catalog facts). */
void
api_services(struct api_call *c)
{
	static const char *const keys[] = { "site", NULL };
	struct rel_service *s;
	struct released *rel;
	size_t n, i;
	json_t *list;

	if (api_params_check(c, keys) != 0 || (rel = api_rel(c)) == NULL)
		return;
	if (released_services(rel, &s, &n) != 0) {
		api_reply_error(c->req, HTTP_SERVUNAVAIL, "the release database "
		    "cannot be read");
		return;
	}
	list = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:s,"
		    "s:b}", "id", s[i].sid, "name", s[i].name, "vendor",
		    s[i].vendor, "category", s[i].category, "jurisdiction",
		    s[i].jurisdiction, "sanctioned", s[i].sanctioned != 0));
	free(s);
	api_reply_json(c->req, HTTP_OK, json_pack("{s:o}", "services", list));
}

/*
 * The configured departments (then "unassigned"), in configuration
 * order, then any department of the last released week's grid that the
 * configuration no longer has.  Labels only.
 */
void
api_departments(struct api_call *c)
{
	static const char *const keys[] = { "site", NULL };
	const struct config *cfg = c->api->cfg;
	struct released *rel;
	struct rel_period *p = NULL;
	char err[256], **names = NULL;
	size_t n = 0, nn = 0, i, j;
	json_t *list;
	int answered;

	if (api_params_check(c, keys) != 0)
		return;
	rel = api_rel_try(c, &answered);
	if (answered)
		return;
	list = json_array();
	for (i = 0; i < cfg->n_depts; i++)
		json_array_append_new(list, json_pack("{s:s,s:b}", "name",
		    cfg->dept_names[i], "configured", 1));
	json_array_append_new(list, json_pack("{s:s,s:b}", "name",
	    REL_UNASSIGNED, "configured", 1));
	if (rel != NULL &&
	    released_periods(rel, REL_WEEK, 0, 0, &p, &n, err,
	    sizeof(err)) == 0 && n > 0 &&
	    released_depts(rel, REL_WEEK, p[n - 1].period, &names, &nn) == 0) {
		for (i = 0; i < nn; i++) {
			if (strcmp(names[i], REL_UNASSIGNED) == 0 ||
			    strcmp(names[i], REL_ALL) == 0)
				continue;
			for (j = 0; j < cfg->n_depts; j++)
				if (strcmp(cfg->dept_names[j], names[i]) == 0)
					break;
			if (j == cfg->n_depts)
				json_array_append_new(list, json_pack(
				    "{s:s,s:b}", "name", names[i],
				    "configured", 0));
		}
	}
	free(names);
	free(p);
	api_reply_json(c->req, HTTP_OK, json_pack("{s:o}", "departments",
	    list));
}

/* --- sites (central source) -------------------------------------------- */

/*
 * The sites of the central database (store/central_read.h): name, when
 * its sensor last shipped and how many hours ago, stale (nothing
 * shipped for CENTRAL_STALE_HOURS, or never), silent (for the
 * organisation's last released week: no released period of its scope
 * or coverage 0), whether it has a released scope (?site=NAME), its
 * last released week with the hours of it the site covered, and its
 * late rows.  Health of sensors, no figure about people.
 * silent_after_hours is the stale threshold under its first name.
 */
void
api_sites(struct api_call *c)
{
	static const char *const keys[] = { NULL };
	const struct api_site *s;
	char lab[16];
	size_t n, i;
	json_t *list;

	if (api_params_check(c, keys) != 0 ||
	    (s = api_rel_sites(c, &n)) == NULL)
		return;
	list = json_array();
	for (i = 0; i < n; i++) {
		const struct central_read_site *cs = &s[i].s;
		json_t *w = json_null(), *h = json_null();

		if (cs->week > 0) {
			query_period_label(REL_WEEK, cs->week, lab,
			    sizeof(lab));
			w = json_string(lab);
		}
		if (cs->hours_since_seen >= 0)
			h = json_integer(cs->hours_since_seen);
		json_array_append_new(list, json_pack("{s:s,s:o,s:o,s:b,s:b,"
		    "s:b,s:o,s:I,s:I,s:I}", "name", cs->name, "last_seen",
		    epoch_or_null(cs->last_seen), "hours_since_seen", h,
		    "stale", cs->stale != 0, "silent", cs->silent != 0,
		    "released", s[i].released != 0, "last_week", w,
		    "coverage_hours", (json_int_t)cs->coverage_hours,
		    "hours_total", (json_int_t)cs->hours_total, "late_rows",
		    (json_int_t)cs->late_rows));
	}
	api_reply_json(c->req, HTTP_OK, json_pack("{s:i,s:i,s:o}",
	    "stale_after_hours", CENTRAL_STALE_HOURS, "silent_after_hours",
	    CENTRAL_STALE_HOURS, "sites", list));
}

/* --- status ----------------------------------------------------------- */

static const char *
capture_state(const struct aic_status *s)
{
	switch (s->capture) {
	case AIC_CAPTURE_RUNNING: return "running";
	case AIC_CAPTURE_DOWN: return "down";
	case AIC_CAPTURE_OFFLINE: return "offline";
	case AIC_CAPTURE_NONE: return "none";
	case AIC_CAPTURE_UNSET: break;
	}
	return s->capturing ? "running" : "down";
}

static json_t *
epoch_or_null(int64_t t)
{
	return t > 0 ? json_integer(t) : json_null();
}

/*
 * No traffic is not a dead capture: "traffic", "quiet" (running, no
 * packet for quiet_after_seconds), "capture_down", "no_capture"; with
 * the seconds since the last packet (since the start before the first).
 */
static const char *const heartbeat_names[] = {
	[AIC_HB_TRAFFIC] = "traffic", [AIC_HB_QUIET] = "quiet",
	[AIC_HB_CAPTURE_DOWN] = "capture_down",
	[AIC_HB_NO_CAPTURE] = "no_capture"
};

static json_t *
heartbeat_json(const struct aic_status *s, int64_t now)
{
	enum aic_heartbeat hb;
	int64_t idle;

	hb = aic_heartbeat(s, now, &idle);
	return json_pack("{s:s,s:o,s:i}", "state", heartbeat_names[hb],
	    "idle_seconds", idle >= 0 ? json_integer(idle) : json_null(),
	    "quiet_after_seconds", AIC_QUIET_SEC);
}

/* The last released period of a kind, as its label; null when none. */
static json_t *
last_label(struct released *rel, enum rel_kind k)
{
	struct rel_period *p;
	char err[128], lab[16];
	size_t n;
	json_t *o = json_null();

	if (rel == NULL || released_periods(rel, k, 0, 0, &p, &n, err,
	    sizeof(err)) != 0)
		return o;
	if (n > 0) {
		query_period_label(k, p[n - 1].period, lab, sizeof(lab));
		o = json_string(lab);
	}
	free(p);
	return o;
}

/*
 * The shipping to the central database (status.h): states only (no row
 * count: see status.h), never the connection, its host or a password;
 * null without a central group.
 */
static const char *const ship_link_names[] = {
	[AIC_SHIP_OFF] = "off", [AIC_SHIP_UNKNOWN] = "unknown",
	[AIC_SHIP_OK] = "ok", [AIC_SHIP_UNREACHABLE] = "unreachable",
	[AIC_SHIP_AUTH] = "auth", [AIC_SHIP_CERTIFICATE] = "certificate",
	[AIC_SHIP_REFUSED] = "refused"
};

static json_t *
central_json(const struct aic_ship_status *cs)
{
	if (cs->link == AIC_SHIP_OFF || (unsigned)cs->link >=
	    sizeof(ship_link_names) / sizeof(ship_link_names[0]))
		return json_null();
	return json_pack("{s:s,s:o,s:i,s:I}",
	    "link", ship_link_names[cs->link],
	    "last_contact", epoch_or_null(cs->last_contact),
	    "outbox_fill_percent", cs->outbox_fill,
	    "outbox_full_incidents", (json_int_t)cs->full_incidents);
}

/* Packets per encapsulation kind since the start: every kind, 0 too. */
static json_t *
encap_json(const struct aic_status *s)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < ENCAP_N; i++)
		json_object_set_new(o, encap_name((enum encap_kind)i),
		    jint(s->encap[i]));
	return o;
}

/*
 * The alerts' delivery (out/alert.h), as of their last pass: counts of
 * alerts, never what they say; null when none are configured.
 */
static json_t *
alerts_json(const struct aic_alert_status *a)
{
	if (!a->enabled)
		return json_null();
	return json_pack("{s:I,s:I,s:I,s:I,s:o}",
	    "waiting", (json_int_t)a->waiting,
	    "recorded", (json_int_t)a->recorded,
	    "delivered", (json_int_t)a->delivered,
	    "failures", (json_int_t)a->failures,
	    "last_failure", epoch_or_null(a->last_failure));
}

/*
 * Health only: no AI counts, no department or service figure, no blind
 * spot of a period not released (those are /api/v1/blind).
 */
void
api_status(struct api_call *c)
{
	static const char *const keys[] = { NULL };
	const struct aic_status *s = c->api->st;
	int64_t now = (int64_t)time(NULL);
	struct released *rel;
	json_t *o;

	if (api_params_check(c, keys) != 0)
		return;
	rel = api_rel_get(c->api);
	o = json_object();
	json_object_set_new(o, "version", json_string(AIC_VERSION));
	json_object_set_new(o, "now", json_integer(now));
	json_object_set_new(o, "start_time", json_integer(s->start_time));
	json_object_set_new(o, "uptime_seconds",
	    json_integer(now - s->start_time));
	json_object_set_new(o, "capture", json_string(capture_state(s)));
	json_object_set_new(o, "interface", json_string(c->api->cfg->interface));
	json_object_set_new(o, "last_packet", epoch_or_null(s->last_packet));
	json_object_set_new(o, "heartbeat", heartbeat_json(s, now));
	json_object_set_new(o, "packets", jint(s->packets));
	json_object_set_new(o, "pcap_drops", jint(s->pcap_drops));
	json_object_set_new(o, "if_drops", jint(s->if_drops));
	json_object_set_new(o, "encap", encap_json(s));
	json_object_set_new(o, "workers", json_integer(s->workers));
	json_object_set_new(o, "last_flush", json_pack("{s:o,s:b,s:I}",
	    "time", epoch_or_null(s->last_flush), "ok", s->last_flush_ok,
	    "failures", (json_int_t)s->flush_failures));
	json_object_set_new(o, "last_release", epoch_or_null(s->last_release));
	json_object_set_new(o, "release_database", json_string(rel != NULL ?
	    "available" : "none yet"));
	json_object_set_new(o, "source", json_string(api_rel_source(c->api)));
	json_object_set_new(o, "last_released_week",
	    last_label(rel, REL_WEEK));
	json_object_set_new(o, "last_released_day", last_label(rel, REL_DAY));
	json_object_set_new(o, "central", central_json(&s->ship));
	json_object_set_new(o, "alerts", alerts_json(&s->alerts));
	json_object_set_new(o, "reloads", jint(s->reloads));
	json_object_set_new(o, "reload_failures", jint(s->reload_failures));
	json_object_set_new(o, "flush_interval",
	    json_integer(c->api->cfg->flush_interval));
	json_object_set_new(o, "min_group_size",
	    json_integer(c->api->cfg->min_group_size));
	json_object_set_new(o, "timezone", json_string(
	    c->api->cfg->timezone[0] ? c->api->cfg->timezone : "system"));
	/* the report's language: the dashboard's first choice */
	json_object_set_new(o, "language", json_string(
	    c->api->cfg->language[0] ? c->api->cfg->language : "en"));
	api_reply_json(c->req, HTTP_OK, o);
}
