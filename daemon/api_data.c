/*
 * api_data.c - the JSON endpoints: usage, services, departments, status.
 *
 * Per-department and per-service numbers come from query_run() only,
 * with the configured minimum group size; a suppressed cell keeps its
 * labels and "suppressed": true and carries no number at all.  The
 * other answers are dimensions (names, flags) and the sensor's own
 * counters, which describe no group of people.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "period.h"
#include "query.h"

#ifndef AIC_VERSION
#define AIC_VERSION "dev"
#endif

/* interval=hour over more than this is refused: it would be huge */
#define HOUR_SPAN_MAX	(31 * 86400)

static json_t *
jint(uint64_t v)
{
	return json_integer((json_int_t)v);
}

/* --- usage ------------------------------------------------------------ */

static int
parse_by(const char *s, struct query *q)
{
	char buf[128], *tok, *save = NULL;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -1;
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "department") == 0)
			q->by_dept = 1;
		else if (strcmp(tok, "service") == 0)
			q->by_svc = 1;
		else if (strcmp(tok, "category") == 0)
			q->by_cat = 1;
		else
			return -1;
	}
	return 0;
}

static int
parse_interval(const char *s, enum q_interval *iv)
{
	static const struct {
		const char	*name;
		enum q_interval	 iv;
	} ivs[] = {
		{ "hour", QI_HOUR }, { "day", QI_DAY }, { "week", QI_WEEK },
		{ "all", QI_NONE },
	};
	size_t i;

	for (i = 0; i < sizeof(ivs) / sizeof(ivs[0]); i++)
		if (strcmp(s, ivs[i].name) == 0) {
			*iv = ivs[i].iv;
			return 0;
		}
	return -1;
}

/* The request's query; 0, or -1 after a 400. */
static int
usage_query(struct api_call *c, struct query *q)
{
	static const char *const keys[] = {
		"from", "to", "by", "interval", NULL
	};
	const char *by, *iv;

	memset(q, 0, sizeof(*q));
	q->from = 0;
	q->to = QUERY_END_OF_TIME;
	q->by_dept = q->by_svc = 1;
	if (api_params_check(c, keys) != 0 ||
	    api_param_time(c, "from", 0, &q->from) < 0 ||
	    api_param_time(c, "to", 1, &q->to) < 0)
		return -1;
	if ((by = evhttp_find_header(c->params, "by")) != NULL) {
		q->by_dept = q->by_svc = 0;
		if (parse_by(by, q) != 0) {
			api_reply_error(c->req, HTTP_BADREQUEST, "by: a comma-"
			    "separated list of department, service, category");
			return -1;
		}
	}
	iv = evhttp_find_header(c->params, "interval");
	if (iv != NULL && parse_interval(iv, &q->interval) != 0) {
		api_reply_error(c->req, HTTP_BADREQUEST, "interval: hour, day, "
		    "week or all");
		return -1;
	}
	if (q->from >= q->to) {
		api_reply_error(c->req, HTTP_BADREQUEST, "from must be before "
		    "to");
		return -1;
	}
	if (q->interval == QI_HOUR && q->to - q->from > HOUR_SPAN_MAX) {
		api_reply_error(c->req, HTTP_BADREQUEST, "interval=hour covers "
		    "at most 31 days: give from and to");
		return -1;
	}
	q->min_group = c->api->cfg->min_group_size;
	return 0;
}

static json_t *
usage_row(const struct query *q, const struct qrow *w)
{
	json_t *o = json_object();
	char label[40];
	int k;

	if (q->interval != QI_NONE) {
		query_period_label(q->interval, w->period, label,
		    sizeof(label));
		json_object_set_new(o, "period", json_string(label));
		json_object_set_new(o, "period_start",
		    json_integer(q->interval == QI_HOUR ? w->period :
		    q->interval == QI_DAY ? period_day_start((int32_t)w->period) :
		    period_week_start((int32_t)w->period)));
	}
	if (q->by_dept)
		json_object_set_new(o, "department", json_string(w->dept));
	if (q->by_svc) {
		json_object_set_new(o, "service", json_string(w->svc));
		json_object_set_new(o, "service_name",
		    json_string(w->svc_name));
	}
	if (q->by_cat || q->by_svc)
		json_object_set_new(o, "category", json_string(w->category));
	json_object_set_new(o, "suppressed", json_boolean(w->suppressed));
	if (w->suppressed)
		return o;
	json_object_set_new(o, "connections", jint(w->m[QM_TLS] +
	    w->m[QM_QUIC] + w->m[QM_ECH]));
	for (k = 0; k < QM_N; k++)
		json_object_set_new(o, q_metric_names[k], jint(w->m[k]));
	json_object_set_new(o, "devices", jint(w->devices));
	json_object_set_new(o, "devices_exact",
	    json_boolean(w->devices_exact));
	return o;
}

void
api_usage(struct api_call *c)
{
	struct query q;
	struct qresult r;
	json_t *root, *rows;
	sqlite3 *db;
	char err[256];
	int64_t version;
	size_t i;

	if (usage_query(c, &q) != 0 || (db = api_db(c)) == NULL)
		return;
	version = api_db_version(c->api);
	if (api_cache_send(c, version))
		return;
	if (query_run(db, &q, &r, err, sizeof(err)) != 0) {
		api_reply_error(c->req, HTTP_SERVUNAVAIL, "%s", err);
		return;
	}
	rows = json_array();
	for (i = 0; i < r.n; i++)
		json_array_append_new(rows, usage_row(&q, &r.rows[i]));
	root = json_object();
	json_object_set_new(root, "interval",
	    json_string(query_interval_name(q.interval)));
	json_object_set_new(root, "from", json_integer(q.from));
	json_object_set_new(root, "to", json_integer(q.to));
	json_object_set_new(root, "min_group_size",
	    json_integer(r.min_group));
	json_object_set_new(root, "suppressed_cells",
	    json_integer((json_int_t)r.suppressed));
	json_object_set_new(root, "rows", rows);
	query_free(&r);
	api_reply_json_keep(c, root, version);
}

/* --- dimensions ------------------------------------------------------- */

static const char *
col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? (const char *)t : "";
}

void
api_services(struct api_call *c)
{
	static const char *const keys[] = { NULL };
	sqlite3_stmt *st;
	sqlite3 *db;
	json_t *list;

	if (api_params_check(c, keys) != 0 || (db = api_db(c)) == NULL)
		return;
	if (sqlite3_prepare_v2(db, "SELECT sid, name, vendor, category,"
	    " jurisdiction, sanctioned, in_catalog FROM service ORDER BY sid",
	    -1, &st, NULL) != SQLITE_OK) {
		api_reply_error(c->req, HTTP_SERVUNAVAIL, "%s",
		    sqlite3_errmsg(db));
		return;
	}
	list = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:s,"
		    "s:b,s:b}", "id", col(st, 0), "name", col(st, 1),
		    "vendor", col(st, 2), "category", col(st, 3),
		    "jurisdiction", col(st, 4), "sanctioned",
		    sqlite3_column_int(st, 5) != 0, "in_catalog",
		    sqlite3_column_int(st, 6) != 0));
	sqlite3_finalize(st);
	api_reply_json(c->req, HTTP_OK, json_pack("{s:o}", "services", list));
}

static int
configured(const struct config *cfg, const char *name)
{
	size_t i;

	if (strcmp(name, CONFIG_UNASSIGNED) == 0)
		return 1;
	for (i = 0; i < cfg->n_depts; i++)
		if (strcmp(cfg->dept_names[i], name) == 0)
			return 1;
	return 0;
}

void
api_departments(struct api_call *c)
{
	static const char *const keys[] = { NULL };
	sqlite3_stmt *st;
	sqlite3 *db;
	json_t *list;

	if (api_params_check(c, keys) != 0 || (db = api_db(c)) == NULL)
		return;
	if (sqlite3_prepare_v2(db, "SELECT name FROM department ORDER BY"
	    " name = 'unassigned', name", -1, &st, NULL) != SQLITE_OK) {
		api_reply_error(c->req, HTTP_SERVUNAVAIL, "%s",
		    sqlite3_errmsg(db));
		return;
	}
	list = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(list, json_pack("{s:s,s:b}", "name",
		    col(st, 0), "configured", configured(c->api->cfg,
		    col(st, 0))));
	sqlite3_finalize(st);
	api_reply_json(c->req, HTTP_OK, json_pack("{s:o}", "departments",
	    list));
}

/* --- status ----------------------------------------------------------- */

static const char *const blind_cols[] = {
	"packets", "bytes", "pcap_drops", "if_drops", "ech_conns",
	"ech_unattributed", "nosni_conns", "doh_conns", "ignored", "lost",
	"parse_failures", NULL
};

/* Sums of capture_hour over [from, to); NULL on a database error. */
static json_t *
blind_spots(sqlite3 *db, int64_t from, int64_t to)
{
	char sql[512];
	size_t n = 0, i;
	sqlite3_stmt *st;
	json_t *o;

	n += (size_t)snprintf(sql + n, sizeof(sql) - n, "SELECT COUNT(*)");
	for (i = 0; blind_cols[i] != NULL; i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n,
		    ", SUM(%s)", blind_cols[i]);
	snprintf(sql + n, sizeof(sql) - n, " FROM capture_hour WHERE hour >= ?1"
	    " AND hour < ?2");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return NULL;
	}
	o = json_object();
	json_object_set_new(o, "hours", json_integer(
	    sqlite3_column_int64(st, 0)));
	for (i = 0; blind_cols[i] != NULL; i++)
		json_object_set_new(o, blind_cols[i], json_integer(
		    sqlite3_column_int64(st, (int)i + 1)));
	sqlite3_finalize(st);
	return o;
}

/* Anomaly counts by name over [from, to). */
static json_t *
anomalies(sqlite3 *db, int64_t from, int64_t to)
{
	sqlite3_stmt *st;
	json_t *o;

	if (sqlite3_prepare_v2(db, "SELECT name, SUM(count) FROM anomaly_hour"
	    " WHERE hour >= ?1 AND hour < ?2 GROUP BY name ORDER BY 2 DESC,"
	    " name", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	o = json_object();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_object_set_new(o, col(st, 0),
		    json_integer(sqlite3_column_int64(st, 1)));
	sqlite3_finalize(st);
	return o;
}

/* First and last hour with usage, so a client can pick a range. */
static json_t *
data_span(sqlite3 *db)
{
	sqlite3_stmt *st;
	json_t *o = json_object();
	struct period p;
	char buf[16];
	int i;

	if (sqlite3_prepare_v2(db, "SELECT MIN(hour), MAX(hour) FROM"
	    " usage_hour", -1, &st, NULL) != SQLITE_OK)
		return o;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL) {
		for (i = 0; i < 2; i++) {
			int64_t h = sqlite3_column_int64(st, i);

			period_of(h, &p);
			period_week_format(p.week, buf, sizeof(buf));
			json_object_set_new(o, i ? "last_hour" : "first_hour",
			    json_integer(h));
			json_object_set_new(o, i ? "last_week" : "first_week",
			    json_string(buf));
		}
	}
	sqlite3_finalize(st);
	return o;
}

static json_t *
daemon_part(const struct api *a, int64_t now)
{
	const struct aic_status *s = a->st;
	json_t *o = json_object();

	json_object_set_new(o, "version", json_string(AIC_VERSION));
	json_object_set_new(o, "now", json_integer(now));
	json_object_set_new(o, "start_time", json_integer(s->start_time));
	json_object_set_new(o, "uptime_seconds",
	    json_integer(now - s->start_time));
	json_object_set_new(o, "capturing", json_boolean(s->capturing));
	json_object_set_new(o, "interface", json_string(a->cfg->interface));
	json_object_set_new(o, "packets", jint(s->packets));
	json_object_set_new(o, "pcap_drops", jint(s->pcap_drops));
	json_object_set_new(o, "if_drops", jint(s->if_drops));
	json_object_set_new(o, "parse_failures", jint(s->parse_failures));
	json_object_set_new(o, "last_flush", json_pack("{s:o,s:b,s:I}",
	    "time", s->last_flush ? json_integer(s->last_flush) : json_null(),
	    "ok", s->last_flush_ok, "failures",
	    (json_int_t)s->flush_failures));
	json_object_set_new(o, "reloads", jint(s->reloads));
	json_object_set_new(o, "reload_failures", jint(s->reload_failures));
	json_object_set_new(o, "flush_interval",
	    json_integer(a->cfg->flush_interval));
	json_object_set_new(o, "min_group_size",
	    json_integer(a->cfg->min_group_size));
	json_object_set_new(o, "timezone", json_string(
	    a->cfg->timezone[0] ? a->cfg->timezone : "system"));
	return o;
}

void
api_status(struct api_call *c)
{
	static const char *const keys[] = { "from", "to", NULL };
	int64_t now = (int64_t)time(NULL), from = 0, to = QUERY_END_OF_TIME;
	json_t *root, *bl, *an, *x;
	int got_from, got_to;
	sqlite3 *db;

	if (api_params_check(c, keys) != 0 ||
	    (got_from = api_param_time(c, "from", 0, &from)) < 0 ||
	    (got_to = api_param_time(c, "to", 1, &to)) < 0)
		return;
	if (from >= to) {
		api_reply_error(c->req, HTTP_BADREQUEST, "from must be before "
		    "to");
		return;
	}
	if ((db = api_db(c)) == NULL)
		return;
	root = daemon_part(c->api, now);
	bl = json_object();
	an = json_object();
	if ((x = blind_spots(db, now - 86400, QUERY_END_OF_TIME)) != NULL)
		json_object_set_new(bl, "last_24h", x);
	if ((x = blind_spots(db, 0, QUERY_END_OF_TIME)) != NULL)
		json_object_set_new(bl, "all_time", x);
	if ((x = anomalies(db, 0, QUERY_END_OF_TIME)) != NULL)
		json_object_set_new(an, "all_time", x);
	if (got_from || got_to) {
		if ((x = blind_spots(db, from, to)) != NULL) {
			json_object_set_new(x, "from", json_integer(from));
			json_object_set_new(x, "to", json_integer(to));
			json_object_set_new(bl, "range", x);
		}
		if ((x = anomalies(db, from, to)) != NULL)
			json_object_set_new(an, "range", x);
	}
	json_object_set_new(root, "blind_spots", bl);
	json_object_set_new(root, "anomalies", an);
	json_object_set_new(root, "data", data_span(db));
	api_reply_json(c->req, HTTP_OK, root);
}
