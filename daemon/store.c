/*
 * store.c - schema, migrations, the flush transaction, retention.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agg.h"
#include "catalog.h"
#include "log.h"
#include "sketch.h"
#include "store.h"

/*
 * The ladder: migrations[i] takes user_version i to i + 1.  Never edit
 * a step that has shipped; append a new one.
 */
static const char *migrations[] = {
	/* 0 -> 1: the first schema */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)"
	"  WITHOUT ROWID;"
	"CREATE TABLE department(id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE service(id INTEGER PRIMARY KEY, sid TEXT NOT NULL UNIQUE,"
	"  name TEXT NOT NULL, vendor TEXT NOT NULL, category TEXT NOT NULL,"
	"  jurisdiction TEXT NOT NULL, sanctioned INTEGER NOT NULL DEFAULT 0,"
	"  in_catalog INTEGER NOT NULL DEFAULT 1);"
	"CREATE TABLE hour_dim(hour INTEGER PRIMARY KEY,"
	"  day INTEGER NOT NULL, week INTEGER NOT NULL);"
	"CREATE TABLE usage_hour(hour INTEGER NOT NULL,"
	"  dept INTEGER NOT NULL, svc INTEGER NOT NULL,"
	"  tls_conns INTEGER NOT NULL DEFAULT 0,"
	"  quic_conns INTEGER NOT NULL DEFAULT 0,"
	"  ech_conns INTEGER NOT NULL DEFAULT 0,"
	"  dns_lookups INTEGER NOT NULL DEFAULT 0,"
	"  dns_nxdomain INTEGER NOT NULL DEFAULT 0,"
	"  bytes_up INTEGER NOT NULL DEFAULT 0,"
	"  bytes_down INTEGER NOT NULL DEFAULT 0,"
	"  device_hours INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY(hour, dept, svc)) WITHOUT ROWID;"
	"CREATE TABLE sketch_hour(hour INTEGER NOT NULL, dept INTEGER NOT NULL,"
	"  svc INTEGER NOT NULL, sketch BLOB NOT NULL,"
	"  PRIMARY KEY(hour, dept, svc));"
	"CREATE TABLE devices_day(day INTEGER NOT NULL, week INTEGER NOT NULL,"
	"  dept INTEGER NOT NULL, svc INTEGER NOT NULL,"
	"  devices INTEGER NOT NULL, sketch BLOB NOT NULL,"
	"  PRIMARY KEY(day, dept, svc)) WITHOUT ROWID;"
	"CREATE TABLE devices_week(week INTEGER NOT NULL,"
	"  dept INTEGER NOT NULL, svc INTEGER NOT NULL,"
	"  devices INTEGER NOT NULL, sketch BLOB NOT NULL,"
	"  PRIMARY KEY(week, dept, svc));"
	"CREATE TABLE capture_hour(hour INTEGER PRIMARY KEY,"
	"  day INTEGER NOT NULL, week INTEGER NOT NULL,"
	"  packets INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
	"  pcap_drops INTEGER NOT NULL DEFAULT 0,"
	"  if_drops INTEGER NOT NULL DEFAULT 0,"
	"  ech_conns INTEGER NOT NULL DEFAULT 0,"
	"  ech_unattributed INTEGER NOT NULL DEFAULT 0,"
	"  nosni_conns INTEGER NOT NULL DEFAULT 0,"
	"  doh_conns INTEGER NOT NULL DEFAULT 0,"
	"  ignored INTEGER NOT NULL DEFAULT 0,"
	"  lost INTEGER NOT NULL DEFAULT 0,"
	"  parse_failures INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE anomaly_hour(hour INTEGER NOT NULL, name TEXT NOT NULL,"
	"  count INTEGER NOT NULL, PRIMARY KEY(hour, name)) WITHOUT ROWID;",
};
#define NMIGRATIONS	(sizeof(migrations) / sizeof(migrations[0]))

/*
 * Hour sketches exist so that a restart within an hour neither loses nor
 * double-counts that hour's devices; once the hour is well past, its
 * device_hours figure is final and the sketch is dead weight.
 */
#define SKETCH_HOUR_KEEP	(3 * 3600)

enum {
	S_HOURDIM, S_USAGE, S_SK_HOUR_GET, S_SK_HOUR_PUT, S_DAY_GET,
	S_DAY_PUT, S_WEEK_GET, S_WEEK_PUT, S_CAPTURE, S_ANOMALY, S_NSTMT
};

static const char *stmt_sql[S_NSTMT] = {
	[S_HOURDIM] =
	"INSERT OR IGNORE INTO hour_dim(hour, day, week) VALUES(?1, ?2, ?3)",
	[S_USAGE] =
	"INSERT INTO usage_hour(hour, dept, svc, tls_conns,"
	" quic_conns, ech_conns, dns_lookups, dns_nxdomain, bytes_up,"
	" bytes_down, device_hours) VALUES(?1,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"
	" ON CONFLICT(hour, dept, svc) DO UPDATE SET"
	" device_hours = excluded.device_hours,"
	" tls_conns = tls_conns + excluded.tls_conns,"
	" quic_conns = quic_conns + excluded.quic_conns,"
	" ech_conns = ech_conns + excluded.ech_conns,"
	" dns_lookups = dns_lookups + excluded.dns_lookups,"
	" dns_nxdomain = dns_nxdomain + excluded.dns_nxdomain,"
	" bytes_up = bytes_up + excluded.bytes_up,"
	" bytes_down = bytes_down + excluded.bytes_down",
	[S_SK_HOUR_GET] =
	"SELECT sketch FROM sketch_hour WHERE hour = ?1 AND dept = ?2 AND svc = ?3",
	[S_SK_HOUR_PUT] =
	"INSERT OR REPLACE INTO sketch_hour(hour, dept, svc, sketch)"
	" VALUES(?1, ?2, ?3, ?4)",
	[S_DAY_GET] =
	"SELECT sketch FROM devices_day WHERE day = ?1 AND dept = ?2 AND svc = ?3",
	[S_DAY_PUT] =
	"INSERT OR REPLACE INTO devices_day(day, dept, svc, week, devices,"
	" sketch) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[S_WEEK_GET] =
	"SELECT sketch FROM devices_week WHERE week = ?1 AND dept = ?2 AND svc = ?3",
	[S_WEEK_PUT] =
	"INSERT OR REPLACE INTO devices_week(week, dept, svc, devices, sketch)"
	" VALUES(?1, ?2, ?3, ?5, ?6)",
	[S_CAPTURE] =
	"INSERT INTO capture_hour(hour, day, week, packets, bytes, pcap_drops,"
	" if_drops, ech_conns, ech_unattributed, nosni_conns, doh_conns,"
	" ignored, lost, parse_failures)"
	" VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)"
	" ON CONFLICT(hour) DO UPDATE SET packets = packets + excluded.packets,"
	" bytes = bytes + excluded.bytes,"
	" pcap_drops = pcap_drops + excluded.pcap_drops,"
	" if_drops = if_drops + excluded.if_drops,"
	" ech_conns = ech_conns + excluded.ech_conns,"
	" ech_unattributed = ech_unattributed + excluded.ech_unattributed,"
	" nosni_conns = nosni_conns + excluded.nosni_conns,"
	" doh_conns = doh_conns + excluded.doh_conns,"
	" ignored = ignored + excluded.ignored, lost = lost + excluded.lost,"
	" parse_failures = parse_failures + excluded.parse_failures",
	[S_ANOMALY] =
	"INSERT INTO anomaly_hour(hour, name, count) VALUES(?1, ?2, ?3)"
	" ON CONFLICT(hour, name) DO UPDATE SET count = count + excluded.count",
};

struct store {
	sqlite3		*db;
	sqlite3_stmt	*st[S_NSTMT];
	int64_t		*dept_id;	/* config index + 1 -> row id */
	size_t		 n_dept;
	int64_t		*svc_id;	/* catalog index -> row id */
	char		**dept_name;
	char		**svc_sid;
	size_t		 n_svc;
	int		 failing;	/* last flush failed (log once) */
	uint8_t		*buf;		/* serialisation scratch */
	size_t		 bufcap;
	store_row_cb	 row_cb;
	void		*row_arg;
	/* flush order scratch */
	int64_t		 last_hourdim;	/* hour_dim row written last */
	struct agg_cell	**csort;
	struct agg_dev	**dsort;
	size_t		 sortcap, ncsort, ndsort;
	/* a flush in slices: where the next slice starts */
	const struct agg *fl_agg;	/* NULL: none under way */
	int		 fl_phase;
	size_t		 fl_next;
	const struct agg_hour *fl_hour;
	/* its COMMIT and checkpoint, on a thread of their own */
	pthread_t	 fl_thr;
	int		 fl_thr_on;
	atomic_int	 fl_thr_done;
	int		 fl_thr_rc;
	char		 fl_why[256];
};

enum { PH_CELLS, PH_DEVS, PH_HOURS, PH_COMMIT };

/* Silent: the caller, which knows what failed, logs (once). */
static int
exec(struct store *s, const char *sql)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int
user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int
migrate(struct store *s, char *err, size_t errlen)
{
	int v;
	char sql[64];

	if (user_version(s->db, &v) != 0) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(s->db));
		return -1;
	}
	if (v > (int)NMIGRATIONS) {
		snprintf(err, errlen, "schema version %d is newer than this "
		    "aicensusd understands (%d): use a newer aicensusd",
		    v, (int)NMIGRATIONS);
		return -1;
	}
	while (v < (int)NMIGRATIONS) {
		if (exec(s, "BEGIN IMMEDIATE") != 0)
			goto fail;
		if (exec(s, migrations[v]) != 0) {
			exec(s, "ROLLBACK");
			goto fail;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (exec(s, sql) != 0 || exec(s, "COMMIT") != 0) {
			exec(s, "ROLLBACK");
			goto fail;
		}
		log_info("database schema migrated to version %d", v + 1);
		v++;
	}
	return 0;
fail:
	snprintf(err, errlen, "schema migration to version %d failed: %s",
	    v + 1, sqlite3_errmsg(s->db));
	return -1;
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store *s;
	int i, rc;
	sqlite3_stmt *st;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: %s", path,
		    s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	/*
	 * Probe before writing anything: a damaged or foreign file must be
	 * refused, never "repaired" by creating tables over it.
	 */
	rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && strcmp((const char *)
		    sqlite3_column_text(st, 0), "ok") != 0)
			rc = SQLITE_CORRUPT;
		else if (rc == SQLITE_ROW)
			rc = SQLITE_OK;
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "database %s is damaged or not an "
		    "aicensus database (%s); refusing to touch it: move it "
		    "aside or restore a backup", path, sqlite3_errstr(rc));
		goto fail;
	}
	/* A writer that readers never block, and that survives a crash. */
	if (exec(s, "PRAGMA journal_mode = WAL") != 0 ||
	    exec(s, "PRAGMA synchronous = NORMAL") != 0 ||
	    exec(s, "PRAGMA foreign_keys = OFF") != 0) {
		snprintf(err, errlen, "database %s: %s", path,
		    sqlite3_errmsg(s->db));
		goto fail;
	}
	/* Wait a little for another writer; then give up and keep counts. */
	sqlite3_busy_timeout(s->db, 250);
	if (migrate(s, err, errlen) != 0)
		goto fail;
	for (i = 0; i < S_NSTMT; i++) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "database %s: %s", path,
			    sqlite3_errmsg(s->db));
			goto fail;
		}
	}
	return s;
fail:
	store_close(s);
	return NULL;
}

static void
free_dims(struct store *s)
{
	size_t i;

	for (i = 0; s->dept_name && i < s->n_dept; i++)
		free(s->dept_name[i]);
	for (i = 0; s->svc_sid && i < s->n_svc; i++)
		free(s->svc_sid[i]);
	free(s->dept_name);
	free(s->svc_sid);
	free(s->dept_id);
	free(s->svc_id);
	s->dept_name = s->svc_sid = NULL;
	s->dept_id = s->svc_id = NULL;
	s->n_dept = s->n_svc = 0;
}

void
store_close(struct store *s)
{
	int i;

	if (s == NULL)
		return;
	store_flush_abort(s);
	for (i = 0; i < S_NSTMT; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db != NULL)
		sqlite3_close(s->db);
	free_dims(s);
	free(s->buf);
	free(s->csort);
	free(s->dsort);
	free(s);
}

sqlite3 *
store_db(struct store *s)
{
	return s->db;
}

void
store_set_row_cb(struct store *s, store_row_cb cb, void *arg)
{
	s->row_cb = cb;
	s->row_arg = arg;
}

static int64_t
dim_id(struct store *s, const char *ins, const char *sel, const char *key)
{
	sqlite3_stmt *st;
	int64_t id = -1;

	if (sqlite3_prepare_v2(s->db, ins, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(s->db, sel, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

static int
is_sanctioned(const char *sid, char *const *sanct, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(sanct[i], sid) == 0)
			return 1;
	return 0;
}

static int
put_meta(struct store *s, const char *k, const char *v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta(key, value)"
	    " VALUES(?1, ?2)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_set_dims(struct store *s, char *const *dept_names, size_t n_depts,
    const struct catalog *cat, char *const *sanctioned, size_t n_sanct,
    const char *timezone, int min_group_size)
{
	size_t i, n_svc = catalog_count(cat);
	sqlite3_stmt *st = NULL;
	char buf[32];

	free_dims(s);
	s->dept_id = calloc(n_depts + 1, sizeof(*s->dept_id));
	s->dept_name = calloc(n_depts + 1, sizeof(*s->dept_name));
	s->svc_id = calloc(n_svc ? n_svc : 1, sizeof(*s->svc_id));
	s->svc_sid = calloc(n_svc ? n_svc : 1, sizeof(*s->svc_sid));
	if (!s->dept_id || !s->dept_name || !s->svc_id || !s->svc_sid)
		return -1;
	s->n_dept = n_depts + 1;
	s->n_svc = n_svc;
	if (exec(s, "BEGIN IMMEDIATE") != 0)
		return -1;
	for (i = 0; i <= n_depts; i++) {
		const char *name = i == 0 ? STORE_UNASSIGNED : dept_names[i - 1];

		s->dept_name[i] = strdup(name);
		s->dept_id[i] = dim_id(s,
		    "INSERT OR IGNORE INTO department(name) VALUES(?1)",
		    "SELECT id FROM department WHERE name = ?1", name);
		if (s->dept_id[i] < 0 || s->dept_name[i] == NULL)
			goto fail;
	}
	/* Services leave the catalog but their history stays readable. */
	if (exec(s, "UPDATE service SET in_catalog = 0, sanctioned = 0") != 0)
		goto fail;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO service(sid, name, vendor,"
	    " category, jurisdiction, sanctioned, in_catalog)"
	    " VALUES(?1,?2,?3,?4,?5,?6,1) ON CONFLICT(sid) DO UPDATE SET"
	    " name = excluded.name, vendor = excluded.vendor,"
	    " category = excluded.category,"
	    " jurisdiction = excluded.jurisdiction,"
	    " sanctioned = excluded.sanctioned, in_catalog = 1",
	    -1, &st, NULL) != SQLITE_OK)
		goto fail;
	for (i = 0; i < n_svc; i++) {
		const struct service *sv = catalog_service(cat, i);

		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, sv->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, sv->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, sv->vendor, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, sv->category, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, sv->jurisdiction, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 6, is_sanctioned(sv->id, sanctioned,
		    n_sanct));
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail;
		s->svc_sid[i] = strdup(sv->id);
		s->svc_id[i] = dim_id(s, "SELECT 1 WHERE ?1 IS NULL",
		    "SELECT id FROM service WHERE sid = ?1", sv->id);
		if (s->svc_id[i] < 0 || s->svc_sid[i] == NULL)
			goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	snprintf(buf, sizeof(buf), "%d", min_group_size);
	if (put_meta(s, "timezone", timezone && *timezone ? timezone :
	    "system") != 0 || put_meta(s, "min_group_size", buf) != 0)
		goto fail;
	snprintf(buf, sizeof(buf), "%d", STORE_SCHEMA_VERSION);
	if (put_meta(s, "schema_version", buf) != 0)
		goto fail;
	if (exec(s, "COMMIT") != 0)
		goto fail;
	return 0;
fail:
	log_warn("database: cannot record departments and services: %s",
	    sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	exec(s, "ROLLBACK");
	return -1;
}

static int
step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int64_t
dept_row(const struct store *s, int dept)
{
	size_t i = (size_t)(dept + 1);

	return i < s->n_dept ? s->dept_id[i] : -1;
}

static int64_t
svc_row(const struct store *s, int svc)
{
	return svc >= 0 && (size_t)svc < s->n_svc ? s->svc_id[svc] : -1;
}

static int
serialize(struct store *s, const struct sketch *sk, size_t *len)
{
	size_t need = sketch_serialized_size(sk);

	if (need > s->bufcap) {
		uint8_t *nb = realloc(s->buf, need);

		if (nb == NULL)
			return -1;
		s->buf = nb;
		s->bufcap = need;
	}
	*len = sketch_serialize(sk, s->buf, s->bufcap);
	return *len ? 0 : -1;
}

/*
 * Merge the in-memory sketch with the stored one and write the union
 * back: the database always holds the whole period's sketch, so a
 * restart in the middle of a day loses no device and counts none twice.
 */
static int
merge_sketch(struct store *s, sqlite3_stmt *get, sqlite3_stmt *put,
    int64_t k1, int64_t k2, int64_t k3, int64_t k4,
    const struct sketch *mem, uint64_t *estimate)
{
	struct sketch merged;
	size_t len;
	int rc = -1;

	sketch_init(&merged);
	sqlite3_bind_int64(get, 1, k1);
	sqlite3_bind_int64(get, 2, k2);
	sqlite3_bind_int64(get, 3, k3);
	switch (sqlite3_step(get)) {
	case SQLITE_ROW:
		if (sketch_merge_serialized(&merged, sqlite3_column_blob(get, 0),
		    (size_t)sqlite3_column_bytes(get, 0)) != 0)
			log_warn("database: a stored sketch is unreadable; "
			    "starting it afresh");
		break;
	case SQLITE_DONE:
		break;
	default:
		sqlite3_reset(get);
		goto out;
	}
	sqlite3_reset(get);
	if (sketch_merge(&merged, mem) != 0 || serialize(s, &merged, &len) != 0)
		goto out;
	*estimate = sketch_estimate(&merged);
	sqlite3_bind_int64(put, 1, k1);
	sqlite3_bind_int64(put, 2, k2);
	sqlite3_bind_int64(put, 3, k3);
	if (k4 >= 0)
		sqlite3_bind_int64(put, 4, k4);
	if (sqlite3_bind_parameter_count(put) >= 5)
		sqlite3_bind_int64(put, 5, (int64_t)*estimate);
	sqlite3_bind_blob(put, sqlite3_bind_parameter_count(put) >= 6 ? 6 : 4,
	    s->buf, (int)len, SQLITE_STATIC);
	rc = step_done(put);
out:
	sketch_reset(&merged);
	return rc;
}

static int
flush_cell(struct store *s, struct agg_cell *c)
{
	sqlite3_stmt *st = s->st[S_USAGE];
	int64_t d = dept_row(s, c->dept), v = svc_row(s, c->svc);
	uint64_t est = 0;
	int i;

	if (d < 0 || v < 0)
		return 0;	/* left the configuration: nowhere to go */
	if (c->per.hour != s->last_hourdim) {
		sqlite3_stmt *hd = s->st[S_HOURDIM];

		sqlite3_bind_int64(hd, 1, c->per.hour);
		sqlite3_bind_int(hd, 2, c->per.day);
		sqlite3_bind_int(hd, 3, c->per.week);
		if (step_done(hd) != 0)
			return -1;
		s->last_hourdim = c->per.hour;
	}
	/* the hour's sketch first: its estimate is the row's device_hours */
	if (merge_sketch(s, s->st[S_SK_HOUR_GET], s->st[S_SK_HOUR_PUT],
	    c->per.hour, d, v, -1, &c->dev, &est) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, c->per.hour);
	sqlite3_bind_int(st, 2, c->per.day);
	sqlite3_bind_int(st, 3, c->per.week);
	sqlite3_bind_int64(st, 4, d);
	sqlite3_bind_int64(st, 5, v);
	for (i = 0; i < C_N; i++)
		sqlite3_bind_int64(st, 6 + i, (int64_t)c->c[i]);
	sqlite3_bind_int64(st, 6 + C_N, (int64_t)est);
	if (step_done(st) != 0)
		return -1;
	c->dev_est = est;
	return 0;
}

static int
flush_dev(struct store *s, const struct agg_dev *dv)
{
	int64_t d = dept_row(s, dv->dept), v = svc_row(s, dv->svc);
	uint64_t est;

	if (d < 0 || v < 0)
		return 0;
	if (dv->kind == DEV_DAY)
		return merge_sketch(s, s->st[S_DAY_GET], s->st[S_DAY_PUT],
		    dv->period, d, v, dv->week, &dv->dev, &est);
	return merge_sketch(s, s->st[S_WEEK_GET], s->st[S_WEEK_PUT],
	    dv->period, d, v, -1, &dv->dev, &est);
}

static int
cmp_cell(const void *a, const void *b)
{
	const struct agg_cell *x = *(const struct agg_cell *const *)a;
	const struct agg_cell *y = *(const struct agg_cell *const *)b;

	if (x->per.hour != y->per.hour)
		return x->per.hour < y->per.hour ? -1 : 1;
	if (x->dept != y->dept)
		return x->dept < y->dept ? -1 : 1;
	return (x->svc > y->svc) - (x->svc < y->svc);
}

static int
cmp_dev(const void *a, const void *b)
{
	const struct agg_dev *x = *(const struct agg_dev *const *)a;
	const struct agg_dev *y = *(const struct agg_dev *const *)b;

	if (x->kind != y->kind)
		return x->kind - y->kind;
	if (x->period != y->period)
		return x->period < y->period ? -1 : 1;
	if (x->dept != y->dept)
		return x->dept < y->dept ? -1 : 1;
	return (x->svc > y->svc) - (x->svc < y->svc);
}

/*
 * Write rows in key order: new hours then land at the end of the B-trees
 * and pages fill up, where hash order would split pages and leave the
 * database half empty.
 */
static int
sort_for_flush(struct store *s, struct agg *a)
{
	size_t n = agg_ncells(a), i;
	struct agg_cell *c;
	struct agg_dev *d;

	if (n > s->sortcap) {
		void *nc = realloc(s->csort, n * sizeof(*s->csort));
		void *nd;

		if (nc == NULL)
			return -1;
		s->csort = nc;
		if ((nd = realloc(s->dsort, n * sizeof(*s->dsort))) == NULL)
			return -1;
		s->dsort = nd;
		s->sortcap = n;
	}
	for (i = 0, c = agg_cells(a); c != NULL; c = c->all)
		s->csort[i++] = c;
	s->ncsort = i;
	for (i = 0, d = agg_devs(a); d != NULL; d = d->all)
		s->dsort[i++] = d;
	s->ndsort = i;
	if (s->ncsort > 1)
		qsort(s->csort, s->ncsort, sizeof(*s->csort), cmp_cell);
	if (s->ndsort > 1)
		qsort(s->dsort, s->ndsort, sizeof(*s->dsort), cmp_dev);
	return 0;
}

static int
flush_hour(struct store *s, const struct agg_hour *h)
{
	sqlite3_stmt *st = s->st[S_CAPTURE];
	uint64_t parse = 0;
	int i;

	for (i = 0; i < ANOM_N; i++)
		if (i != ANOM_IP_FRAGMENT && i != ANOM_FLOW_EVICTED)
			parse += h->anom[i];
	sqlite3_bind_int64(st, 1, h->per.hour);
	sqlite3_bind_int(st, 2, h->per.day);
	sqlite3_bind_int(st, 3, h->per.week);
	sqlite3_bind_int64(st, 4, (int64_t)h->b[BL_PACKETS]);
	sqlite3_bind_int64(st, 5, (int64_t)h->b[BL_BYTES]);
	sqlite3_bind_int64(st, 6, (int64_t)h->b[BL_PCAP_DROPS]);
	sqlite3_bind_int64(st, 7, (int64_t)h->b[BL_IF_DROPS]);
	sqlite3_bind_int64(st, 8, (int64_t)h->b[BL_ECH]);
	sqlite3_bind_int64(st, 9, (int64_t)h->b[BL_ECH_UNATTRIBUTED]);
	sqlite3_bind_int64(st, 10, (int64_t)h->b[BL_NOSNI]);
	sqlite3_bind_int64(st, 11, (int64_t)h->b[BL_DOH]);
	sqlite3_bind_int64(st, 12, (int64_t)h->b[BL_IGNORED]);
	sqlite3_bind_int64(st, 13, (int64_t)h->b[BL_LOST]);
	sqlite3_bind_int64(st, 14, (int64_t)parse);
	if (step_done(st) != 0)
		return -1;
	st = s->st[S_ANOMALY];
	for (i = 0; i < ANOM_N; i++) {
		if (h->anom[i] == 0)
			continue;
		sqlite3_bind_int64(st, 1, h->per.hour);
		sqlite3_bind_text(st, 2, anomaly_name((enum anomaly)i), -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (int64_t)h->anom[i]);
		if (step_done(st) != 0)
			return -1;
	}
	return 0;
}

static uint64_t
mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
flush_failed(struct store *s, const char *why)
{
	if (!s->failing)
		log_warn("database flush failed (%s); keeping counts in memory "
		    "and retrying at the next flush", why);
	s->failing = 1;
	s->fl_agg = NULL;
}

/*
 * COMMIT, then copy the flush into the database file now, so the next
 * flush writes the WAL from its start again, into space it already has.
 * Left to the 1000-page auto-checkpoint, the WAL grows with every flush;
 * once it has filled a file system nothing can commit, so nothing is
 * ever checkpointed and the space never comes back (tests/e2e/faults.sh,
 * "nearly full").  PASSIVE never waits: pages a reader still needs are
 * copied after a later flush.
 */
static int
commit_now(struct store *s)
{
	if (exec(s, "COMMIT") != 0) {
		/*
		 * Keep the reason before ROLLBACK replaces it: after a COMMIT
		 * that failed on a full disk or an I/O error SQLite has rolled
		 * back already, and the log would say "cannot rollback - no
		 * transaction is active" (tests/e2e/faults.sh).
		 */
		snprintf(s->fl_why, sizeof(s->fl_why), "%s",
		    sqlite3_errmsg(s->db));
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL);
	return 0;
}

/*
 * The COMMIT writes every page the flush changed into the WAL at once
 * (2,900 pages, 65 ms for a full hour of 100 x 300 cells): longer than
 * a slice may take.  Nothing else uses this connection meanwhile (the
 * store refuses other work while a flush is under way; readers have
 * their own), so a thread may run it while the loop reads packets.
 */
static void *
commit_thread(void *arg)
{
	struct store *s = arg;

	s->fl_thr_rc = commit_now(s);
	atomic_store(&s->fl_thr_done, 1);
	return NULL;
}

int
store_flush_begin(struct store *s, struct agg *a)
{
	if (s->fl_agg != NULL)
		return -1;	/* one at a time: a caller's bug */
	if (agg_empty(a))
		return 0;
	if (sort_for_flush(s, a) != 0 || exec(s, "BEGIN IMMEDIATE") != 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", sqlite3_errmsg(s->db));
		flush_failed(s, why);
		return -1;
	}
	s->last_hourdim = INT64_MIN;
	s->fl_agg = a;
	s->fl_phase = PH_CELLS;
	s->fl_next = 0;
	s->fl_hour = agg_hours(a);
	return 1;
}

int
store_flush_busy(const struct store *s)
{
	return s->fl_agg != NULL;
}

/* After the commit: checkpoint, exporters, clear. */
static void
flush_done(struct store *s, struct agg *a)
{
	struct agg_cell *c;

	/* exporters hear only about committed rows */
	if (s->row_cb != NULL)
		for (c = agg_cells(a); c != NULL; c = c->all)
			if (dept_row(s, c->dept) >= 0 && svc_row(s, c->svc) >= 0)
				s->row_cb(s->row_arg, c, s->dept_name[c->dept + 1],
				    s->svc_sid[c->svc], c->dev_est);
	if (s->failing)
		log_info("database writable again; counts kept in memory "
		    "are now stored");
	s->failing = 0;
	s->fl_agg = NULL;
	agg_clear(a);
}

/*
 * One slice: rows until budget_usec has passed (checked every few rows);
 * then the commit, on a thread.  0 means no limit: everything, here.
 */
int
store_flush_step(struct store *s, struct agg *a, uint64_t budget_usec)
{
	uint64_t stop = budget_usec ? mono_usec() + budget_usec : 0;
	unsigned rows = 0;
	char why[256];
	int rc;

	if (s->fl_agg != a)
		return -1;
	for (;;) {
		if (stop != 0 && (++rows & 7) == 0 && mono_usec() >= stop)
			return 1;
		switch (s->fl_phase) {
		case PH_CELLS:
			if (s->fl_next < s->ncsort) {
				if (flush_cell(s, s->csort[s->fl_next++]) != 0)
					goto rollback;
				continue;
			}
			s->fl_phase = PH_DEVS;
			s->fl_next = 0;
			continue;
		case PH_DEVS:
			if (s->fl_next < s->ndsort) {
				if (flush_dev(s, s->dsort[s->fl_next++]) != 0)
					goto rollback;
				continue;
			}
			s->fl_phase = PH_HOURS;
			continue;
		case PH_HOURS:
			if (s->fl_hour != NULL) {
				if (flush_hour(s, s->fl_hour) != 0)
					goto rollback;
				s->fl_hour = s->fl_hour->next;
				continue;
			}
			s->fl_phase = PH_COMMIT;
			if (stop != 0)
				return 1;
			continue;
		default:	/* PH_COMMIT */
			if (stop != 0 && !s->fl_thr_on) {
				atomic_store(&s->fl_thr_done, 0);
				if (pthread_create(&s->fl_thr, NULL,
				    commit_thread, s) == 0) {
					s->fl_thr_on = 1;
					return 2;
				}
			}
			if (s->fl_thr_on) {
				if (stop != 0 &&
				    !atomic_load(&s->fl_thr_done))
					return 2;
				pthread_join(s->fl_thr, NULL);
				s->fl_thr_on = 0;
				rc = s->fl_thr_rc;
			} else
				rc = commit_now(s);
			if (rc != 0) {
				flush_failed(s, s->fl_why);
				return -1;
			}
			flush_done(s, a);
			return 0;
		}
	}
rollback:
	snprintf(why, sizeof(why), "%s", sqlite3_errmsg(s->db));
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	flush_failed(s, why);
	return -1;
}

void
store_flush_abort(struct store *s)
{
	if (s->fl_agg == NULL)
		return;
	if (s->fl_thr_on) {	/* too late to take back: let it end */
		pthread_join(s->fl_thr, NULL);
		s->fl_thr_on = 0;
	} else
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->fl_agg = NULL;
}

int
store_flush(struct store *s, struct agg *a, int64_t now)
{
	int rc;

	(void)now;
	if ((rc = store_flush_begin(s, a)) <= 0)
		return rc;
	return store_flush_step(s, a, 0);
}

int
store_retention(struct store *s, int64_t now, int days)
{
	sqlite3_stmt *st;
	static const char *sql[] = {
		"DELETE FROM usage_hour WHERE hour < ?1",
		"DELETE FROM hour_dim WHERE hour < ?1",
		"DELETE FROM capture_hour WHERE hour < ?1",
		"DELETE FROM anomaly_hour WHERE hour < ?1",
		"DELETE FROM devices_day WHERE day < ?3 AND ?1 IS NOT NULL",
		"DELETE FROM devices_week WHERE week < ?4 AND ?1 IS NOT NULL",
		"DELETE FROM sketch_hour WHERE hour < ?2 AND ?1 IS NOT NULL",
	};
	int64_t cut = now - (int64_t)days * 86400;
	struct period pc;
	size_t i;
	int rc = 0;

	period_of(cut, &pc);
	if (s->fl_agg != NULL || exec(s, "BEGIN IMMEDIATE") != 0)
		return -1;
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if (sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL) !=
		    SQLITE_OK) {
			rc = -1;
			break;
		}
		sqlite3_bind_int64(st, 1, cut);
		if (sqlite3_bind_parameter_count(st) >= 2)
			sqlite3_bind_int64(st, 2, now - SKETCH_HOUR_KEEP);
		if (sqlite3_bind_parameter_count(st) >= 3)
			sqlite3_bind_int(st, 3, pc.day);
		if (sqlite3_bind_parameter_count(st) >= 4)
			sqlite3_bind_int(st, 4, pc.week);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = -1;
		sqlite3_finalize(st);
		if (rc != 0)
			break;
	}
	if (rc == 0 && exec(s, "COMMIT") == 0)
		return 0;
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}
