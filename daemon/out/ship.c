/*
 * ship.c - the sensor's side of the central database (ship.h): collect
 * the changed cells into the outbox on the daemon's thread, push them
 * into PostgreSQL on a thread of its own.
 *
 * The two threads share one batch under a mutex: the daemon's thread
 * takes rows from the outbox (it owns the vault's connection), hands
 * them over, and deletes them once the shipper says they committed; the
 * shipper only talks to PostgreSQL.  A pipe tells the event loop that a
 * batch ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "common/config.h"
#include "common/log.h"
#include "aggregate/wacc.h"
#include "store/central_pg.h"
#include "store/outbox.h"
#include "store/vault.h"
#include "release/release.h"
#include "out/ship.h"

#define BATCH_MAX	500		/* records per transaction */
#define BACKOFF_MIN	1		/* seconds */
#define BACKOFF_MAX	300
#define CONNECT_TIMEOUT	"10"		/* seconds, libpq's */
#define STMT_TIMEOUT	"30s"		/* the server's, per statement */

/* What the last attempt found; a change is logged once. */
enum link {
	LINK_UNKNOWN, LINK_UP, LINK_DOWN, LINK_AUTH, LINK_CERT, LINK_REFUSED
};

struct ship {
	/* the daemon's thread only */
	struct outbox		*ob;
	struct wk		*wk;		/* the vault's weeks, merged */
	size_t			 nwk;
	struct outbox_rec	*cache;		/* last put, sorted */
	size_t			 ncache;
	uint64_t		 dropped;
	int			 drop_incident;	/* logged, not yet over */
	int32_t			 drop_day;	/* the open day drops go to */
	uint64_t		 drop_day_n;	/* and how many it has */
	uint64_t		 full_incidents;	/* times it filled up */
	int			 beat;		/* a round is due (a flush) */

	/* set once */
	char			 conninfo[1024];
	char			 password[CONFIG_CENTRAL_PASS_MAX];
	char			 site[CONFIG_SITE_MAX + 1];
	char			 name[256];	/* the connection, no secret */
	int			 pipefd[2];

	/* shared, under mu */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	pthread_t		 thr;
	int			 started, stop;
	struct outbox_rec	 batch[BATCH_MAX];
	size_t			 nbatch;
	int			 busy;		/* handed over, not yet done */
	int			 done;		/* committed, to be acked */
	int			 failed;	/* an attempt failed (drain) */
	enum link		 link;
	uint64_t		 shipped, batches;
	int64_t			 last_push;	/* the last COMMIT, epoch */
	int64_t			 last_contact;	/* the last round, epoch */

	/* the shipper thread only */
	PGconn			*conn;
};

/* ---- collecting ------------------------------------------------------ */

/*
 * A week as the vault holds it, merged up to row seq: each flush adds
 * its new rows only, instead of opening the whole week again.  A
 * release pass compacts or deletes rows: ship_forget() then drops
 * these, and the next collect opens the weeks whole.
 */
struct wk {
	int32_t		 week;
	struct wacc	*acc;
	int64_t		 seq;
	/* what the rows merged by this collect touched; a period they did
	   not touch has the cells it had last time (the cache's) */
	int		 all;		/* opened whole: everything */
	int		 week_touched;
	int32_t		 tdays[16];	/* open days of the new rows */
	size_t		 ntd;
};

#define DROPPED_NAME	"outbox_dropped"


void
ship_forget(struct ship *s)
{
	size_t i;

	for (i = 0; i < s->nwk; i++)
		wacc_free(s->wk[i].acc);
	free(s->wk);
	s->wk = NULL;
	s->nwk = 0;
}

/* The week brought up to date; NULL when it has no rows or failed. */
static struct wacc *
week_state(struct ship *s, struct vault *v, int32_t week, int *failed)
{
	struct wacc *w = NULL;
	struct wk *k = NULL, *nk;
	int64_t seq;
	size_t i;

	*failed = 0;
	for (i = 0; i < s->nwk; i++)
		if (s->wk[i].week == week)
			k = &s->wk[i];
	if (k != NULL) {
		k->all = k->week_touched = 0;
		k->ntd = 0;
		if (vault_week_load_after(v, week, k->seq, &w, &seq) != 0)
			goto fail;
		if (w != NULL) {
			k->week_touched = 1;
			k->ntd = wacc_open_days(w, k->tdays,
			    sizeof(k->tdays) / sizeof(k->tdays[0]));
			/* more days than fit: all of them (cannot happen) */
			if (k->ntd > sizeof(k->tdays) / sizeof(k->tdays[0]))
				k->all = 1;
			if (wacc_merge(k->acc, w) != 0) {
				wacc_free(w);
				goto fail;
			}
			wacc_free(w);
			k->seq = seq;
		}
		return k->acc;
	}
	if (vault_week_load(v, week, &w, &seq) != 0)
		goto fail;
	if (w == NULL)
		return NULL;
	if ((nk = realloc(s->wk, (s->nwk + 1) * sizeof(*nk))) == NULL) {
		wacc_free(w);
		goto fail;
	}
	s->wk = nk;
	memset(&s->wk[s->nwk], 0, sizeof(s->wk[s->nwk]));
	s->wk[s->nwk].week = week;
	s->wk[s->nwk].acc = w;
	s->wk[s->nwk].seq = seq;
	s->wk[s->nwk].all = 1;
	s->nwk++;
	return w;
fail:
	/* a half-merged week must not be built on */
	ship_forget(s);
	*failed = 1;
	return NULL;
}

static int
rec_cmp(const void *a, const void *b)
{
	const struct outbox_rec *x = a, *y = b;
	int c;

	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->period != y->period)
		return x->period < y->period ? -1 : 1;
	if ((c = strcmp(x->dept, y->dept)) != 0)
		return c;
	return strcmp(x->svc, y->svc);
}

struct recs {
	struct outbox_rec	*v;
	size_t			 n, cap;
};

static struct outbox_rec *
recs_add(struct recs *r, uint8_t type, uint8_t kind, int32_t period,
    const char *dept, const char *svc)
{
	struct outbox_rec *e;

	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 256;
		void *p = realloc(r->v, nc * sizeof(*r->v));

		if (p == NULL)
			return NULL;
		r->v = p;
		r->cap = nc;
	}
	e = &r->v[r->n++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->kind = kind;
	e->period = period;
	snprintf(e->dept, sizeof(e->dept), "%s", dept);
	snprintf(e->svc, sizeof(e->svc), "%s", svc);
	return e;
}

/* A period's cells, coverage and (days) blind figures into r. */
static int
add_period(struct recs *r, const struct rel_dims *dims,
    const struct wacc_rel *wr)
{
	const struct rel_input *in = &wr->in;
	struct rel_cell *cells;
	struct outbox_rec *e;
	size_t n, i;
	int j;

	if (release_true_cells(dims, in, &cells, &n) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if ((e = recs_add(r, OB_CELL, (uint8_t)in->kind, in->period,
		    cells[i].dept, cells[i].svc)) == NULL) {
			free(cells);
			return -1;
		}
		for (j = 0; j < RM_N; j++)
			e->v[j] = (cells[i].published & (1u << j)) ?
			    cells[i].m[j] : 0;
	}
	free(cells);
	if ((e = recs_add(r, OB_PERIOD, (uint8_t)in->kind, in->period, "",
	    "")) == NULL)
		return -1;
	e->v[0] = in->coverage_hours;
	e->v[1] = in->hours_total;
	if (in->kind != REL_DAY)
		return 0;
	for (j = 0; j < RB_N; j++) {
		if ((e = recs_add(r, OB_BLIND, REL_DAY, in->period, "",
		    rel_blind_names[j])) == NULL)
			return -1;
		e->v[0] = in->blind[j];
	}
	return 0;
}

/* Periods whose records are taken from the cache, not built again. */
struct kept {
	struct kp {
		uint8_t	 kind;
		int32_t	 period;
	}	*v;
	size_t	 n, cap;
};

static int
kept_add(struct kept *k, uint8_t kind, int32_t period)
{
	if (k->n == k->cap) {
		size_t nc = k->cap ? k->cap * 2 : 16;
		void *p = realloc(k->v, nc * sizeof(*k->v));

		if (p == NULL)
			return -1;
		k->v = p;
		k->cap = nc;
	}
	k->v[k->n].kind = kind;
	k->v[k->n].period = period;
	k->n++;
	return 0;
}

static int
kept_has(const struct kept *k, uint8_t kind, int32_t period)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (k->v[i].kind == kind && k->v[i].period == period)
			return 1;
	return 0;
}

static int
day_touched(const struct wk *k, int32_t day)
{
	size_t i;

	if (k->all)
		return 1;
	for (i = 0; i < k->ntd; i++)
		if (k->tdays[i] == day)
			return 1;
	return 0;
}

/*
 * The week's open periods into r, each built again only when the rows
 * merged now touched it (or cached is 0: nothing to take over); the
 * others go to kept: their records are the cache's, unchanged since
 * nothing of theirs was counted since.
 */
static int
add_week(struct ship *s, struct recs *r, struct kept *kept, int cached,
    struct vault *v, const struct rel_dims *dims, int32_t week,
    int32_t *lastday)
{
	struct wacc *w;
	struct wacc_rel wr;
	struct wk *k = NULL;
	int32_t days[16];
	size_t nd, i;
	int rc, failed;

	if ((w = week_state(s, v, week, &failed)) == NULL)
		return failed ? -1 : 0;
	for (i = 0; i < s->nwk; i++)
		if (s->wk[i].week == week)
			k = &s->wk[i];
	if (k == NULL)
		return -1;
	nd = wacc_open_days(w, days, sizeof(days) / sizeof(days[0]));
	for (i = 0; i < nd; i++) {
		if (days[i] > *lastday)
			*lastday = days[i];
		if (cached && !day_touched(k, days[i])) {
			if (kept_add(kept, REL_DAY, days[i]) != 0)
				return -1;
			continue;
		}
		if (wacc_rel_day(w, days[i], dims, &wr) != 0)
			return -1;
		rc = add_period(r, dims, &wr);
		wacc_rel_free(&wr);
		if (rc != 0)
			return -1;
	}
	if (cached && !k->all && !k->week_touched)
		return kept_add(kept, REL_WEEK, week);
	if (wacc_rel_week(w, dims, &wr) != 0)
		return -1;
	rc = add_period(r, dims, &wr);
	wacc_rel_free(&wr);
	return rc;
}

int
ship_collect(struct ship *s, struct vault *v, const struct rel_dims *dims)
{
	struct recs r = { NULL, 0, 0 }, ch = { NULL, 0, 0 };
	struct recs all = { NULL, 0, 0 };
	struct kept kept = { NULL, 0, 0 };
	struct outbox_rec *e, *old;
	int32_t *weeks = NULL, lastday = 0;
	size_t nw = 0, i, ci;
	long dropped;
	int rc = -1, cached = s->cache != NULL;

	s->beat = 1;
	if (vault_weeks(v, &weeks, &nw) != 0)
		goto done;
	/* a week no longer in the vault (finalised) is not kept */
	for (i = 0; i < s->nwk; ) {
		size_t j;

		for (j = 0; j < nw && weeks[j] != s->wk[i].week; j++)
			;
		if (j < nw) {
			i++;
			continue;
		}
		wacc_free(s->wk[i].acc);
		s->wk[i] = s->wk[--s->nwk];
	}
	for (i = 0; i < nw; i++)
		if (add_week(s, &r, &kept, cached, v, dims, weeks[i],
		    &lastday) != 0)
			goto done;
	/* the bound's losses, as a blind-spot figure of the day they hit */
	if (s->drop_day_n > 0) {
		if ((e = recs_add(&r, OB_BLIND, REL_DAY, s->drop_day, "",
		    DROPPED_NAME)) == NULL)
			goto done;
		e->v[0] = s->drop_day_n;
	}
	if (r.n > 0)
		qsort(r.v, r.n, sizeof(*r.v), rec_cmp);
	for (i = 0; i < r.n; i++) {
		old = s->cache == NULL ? NULL : bsearch(&r.v[i], s->cache,
		    s->ncache, sizeof(*s->cache), rec_cmp);
		if (old != NULL && memcmp(old->v, r.v[i].v,
		    sizeof(old->v)) == 0)
			continue;
		if ((e = recs_add(&ch, r.v[i].type, r.v[i].kind,
		    r.v[i].period, r.v[i].dept, r.v[i].svc)) == NULL)
			goto done;
		memcpy(e->v, r.v[i].v, sizeof(e->v));
	}
	/*
	 * What is put next time is compared with everything open: the
	 * periods built now and the kept ones' records of the cache (the
	 * bound's figure is always built), merged in order.
	 */
	for (i = ci = 0; kept.n > 0 && (i < r.n || ci < s->ncache); ) {
		const struct outbox_rec *c = ci < s->ncache ? &s->cache[ci] :
		    NULL;

		if (c != NULL && (!kept_has(&kept, c->kind, c->period) ||
		    (c->type == OB_BLIND && strcmp(c->svc,
		    DROPPED_NAME) == 0))) {
			ci++;
			continue;
		}
		if (c == NULL || (i < r.n && rec_cmp(&r.v[i], c) < 0))
			c = &r.v[i++];
		else
			ci++;
		if ((e = recs_add(&all, c->type, c->kind, c->period, c->dept,
		    c->svc)) == NULL)
			goto done;
		memcpy(e->v, c->v, sizeof(e->v));
	}
	if (kept.n > 0) {
		free(r.v);
		r = all;
		all.v = NULL;
	}
	if ((dropped = outbox_put(s->ob, ch.v, ch.n)) < 0) {
		log_warnx("central: cannot write the outbox; the changes are "
		    "put again at the next flush");
		free(s->cache);
		s->cache = NULL;
		s->ncache = 0;
		goto done;
	}
	if (dropped > 0) {
		s->dropped += (uint64_t)dropped;
		if (lastday != s->drop_day) {
			s->drop_day = lastday;
			s->drop_day_n = 0;
		}
		s->drop_day_n += (uint64_t)dropped;
		/*
		 * No count in the log: how many cells changed while the
		 * link was down is a figure about use, and it leaves only
		 * through the release (outbox_dropped, a blind spot).
		 */
		if (!s->drop_incident) {
			log_warnx("central: the outbox is full "
			    "(outbox_max_mb); changed cells are dropped and "
			    "counted as outbox_dropped; newer values follow "
			    "once the database takes the backlog");
			s->full_incidents++;
		}
		s->drop_incident = 1;
		/* which ones went is not known: offer everything again */
		free(s->cache);
		s->cache = NULL;
		s->ncache = 0;
		free(r.v);
	} else {
		if (s->drop_incident && ch.n > 0)
			log_info("central: the outbox takes changes again");
		s->drop_incident = ch.n > 0 ? 0 : s->drop_incident;
		free(s->cache);
		s->cache = r.v;
		s->ncache = r.n;
	}
	r.v = NULL;
	rc = 0;
done:
	if (rc != 0) {
		log_warnx("central: collecting the cells to ship failed; "
		    "retried at the next flush");
		/* weeks merged but not built: everything again next time */
		ship_forget(s);
	}
	free(r.v);
	free(ch.v);
	free(all.v);
	free(kept.v);
	free(weeks);
	ship_pump(s);
	return rc;
}

/* ---- pushing (the shipper thread) --------------------------------- */

/* libpq's message, first line, the password blanked out. */
static void
pg_message(const struct ship *s, const char *msg, char *buf, size_t len)
{
	char *p, *nl;
	size_t pl = strlen(s->password);

	snprintf(buf, len, "%s", msg ? msg : "");
	if ((nl = strchr(buf, '\n')) != NULL)
		*nl = '\0';
	while (pl > 0 && (p = strstr(buf, s->password)) != NULL)
		memset(p, '*', pl);
}

static enum link
classify(const char *msg)
{
	if (strstr(msg, "password") != NULL ||
	    strstr(msg, "authentication") != NULL)
		return LINK_AUTH;
	if (strstr(msg, "certificate") != NULL || strstr(msg, "SSL") != NULL)
		return LINK_CERT;
	return LINK_DOWN;
}

static const char *
link_what(enum link l)
{
	switch (l) {
	case LINK_AUTH:	return "the password (or role) is refused";
	case LINK_CERT:	return "the server's certificate does not match";
	case LINK_REFUSED:	return "the database refuses the site's rows";
	default:	return "unreachable";
	}
}

/* Called with mu held. */
static void
set_link(struct ship *s, enum link l, const char *why)
{
	if (l == s->link)
		return;
	if (l == LINK_UP)
		log_info("central %s: connected, shipping site %s", s->name,
		    s->site);
	else
		log_warnx("central %s: %s (%s); capture goes on, cells wait in "
		    "the outbox", s->name, link_what(l), why);
	s->link = l;
}

static const char *const cell_sql =
	"INSERT INTO aicensus.site_cell(site, kind, period, dept, svc,"
	" devices, device_hours, tls, quic, ech, conns, dns, nxdomain,"
	" bytes_up, bytes_down, updated_at) VALUES($1, $2, $3, $4, $5, $6,"
	" $7, $8, $9, $10, $11, $12, $13, $14, $15, now())"
	" ON CONFLICT (site, kind, period, dept, svc) DO UPDATE SET"
	" devices = EXCLUDED.devices, device_hours = EXCLUDED.device_hours,"
	" tls = EXCLUDED.tls, quic = EXCLUDED.quic, ech = EXCLUDED.ech,"
	" conns = EXCLUDED.conns, dns = EXCLUDED.dns,"
	" nxdomain = EXCLUDED.nxdomain, bytes_up = EXCLUDED.bytes_up,"
	" bytes_down = EXCLUDED.bytes_down, updated_at = now()";
static const char *const period_sql =
	"INSERT INTO aicensus.site_period(site, kind, period, coverage_hours,"
	" hours_total) VALUES($1, $2, $3, $4, $5)"
	" ON CONFLICT (site, kind, period) DO UPDATE SET"
	" coverage_hours = EXCLUDED.coverage_hours,"
	" hours_total = EXCLUDED.hours_total";
static const char *const blind_sql =
	"INSERT INTO aicensus.site_blind(site, day, name, value)"
	" VALUES($1, $2, $3, $4) ON CONFLICT (site, day, name) DO UPDATE SET"
	" value = EXCLUDED.value";
static const char *const seen_sql =
	"UPDATE aicensus.site SET last_seen = now() WHERE name = $1";

static int
pg_ok(PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	PQclear(res);
	return ok;
}

static int
pg_connect(struct ship *s, char *why, size_t whylen)
{
	const char *kw[] = { "connect_timeout", "dbname", "password",
		"fallback_application_name", NULL };
	const char *val[] = { CONNECT_TIMEOUT, s->conninfo,
		s->password[0] ? s->password : NULL, "aicensusd", NULL };

	if (s->conn != NULL && PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	PQfinish(s->conn);
	if (val[2] == NULL)
		kw[2] = NULL;
	s->conn = PQconnectdbParams(kw, val, 1);
	if (s->conn == NULL || PQstatus(s->conn) != CONNECTION_OK) {
		pg_message(s, s->conn ? PQerrorMessage(s->conn) :
		    "out of memory", why, whylen);
		PQfinish(s->conn);
		s->conn = NULL;
		return -1;
	}
	/*
	 * A server that hangs mid-statement must not hold the thread (and
	 * the daemon's stop, which joins it) for ever.
	 */
	if (!pg_ok(PQexec(s->conn, "SET statement_timeout = '" STMT_TIMEOUT
	    "'")) ||
	    !pg_ok(PQprepare(s->conn, "cell", cell_sql, 15, NULL)) ||
	    !pg_ok(PQprepare(s->conn, "period", period_sql, 5, NULL)) ||
	    !pg_ok(PQprepare(s->conn, "blind", blind_sql, 4, NULL)) ||
	    !pg_ok(PQprepare(s->conn, "seen", seen_sql, 1, NULL))) {
		pg_message(s, PQerrorMessage(s->conn), why, whylen);
		PQfinish(s->conn);
		s->conn = NULL;
		return -2;
	}
	return 0;
}

/* One record's upsert. */
static int
push_rec(struct ship *s, const struct outbox_rec *r)
{
	char num[RM_N + 3][24];
	const char *p[15];
	int i, n;

	p[0] = s->site;
	snprintf(num[0], sizeof(num[0]), "%u", (unsigned)r->kind);
	snprintf(num[1], sizeof(num[1]), "%" PRId32, r->period);
	switch (r->type) {
	case OB_CELL:
		p[1] = num[0];
		p[2] = num[1];
		p[3] = r->dept;
		p[4] = r->svc;
		for (i = 0; i < RM_N; i++) {
			snprintf(num[2 + i], sizeof(num[2 + i]), "%" PRIu64,
			    r->v[i]);
			p[5 + i] = num[2 + i];
		}
		return pg_ok(PQexecPrepared(s->conn, "cell", 15, p, NULL, NULL,
		    0));
	case OB_PERIOD:
		snprintf(num[2], sizeof(num[2]), "%" PRIu64, r->v[0]);
		snprintf(num[3], sizeof(num[3]), "%" PRIu64, r->v[1]);
		p[1] = num[0];
		p[2] = num[1];
		p[3] = num[2];
		p[4] = num[3];
		return pg_ok(PQexecPrepared(s->conn, "period", 5, p, NULL,
		    NULL, 0));
	case OB_BLIND:
		snprintf(num[2], sizeof(num[2]), "%" PRIu64, r->v[0]);
		p[1] = num[1];
		p[2] = r->svc;
		p[3] = num[2];
		n = pg_ok(PQexecPrepared(s->conn, "blind", 4, p, NULL, NULL,
		    0));
		return n;
	}
	return 0;
}

/*
 * The batch in one transaction.  0 committed; -1 no connection, -2 the
 * database refused a statement (why set either way).  A COMMIT whose
 * answer is lost counts as failed: the batch goes again, the same
 * values replace themselves.
 */
static int
push(struct ship *s, const struct outbox_rec *b, size_t n, char *why,
    size_t whylen)
{
	size_t i;
	int rc;

	if ((rc = pg_connect(s, why, whylen)) != 0)
		return rc;
	if (!pg_ok(PQexec(s->conn, "BEGIN")))
		goto fail;
	for (i = 0; i < n; i++)
		if (!push_rec(s, &b[i]))
			goto fail;
	{
		const char *p[1] = { s->site };

		if (!pg_ok(PQexecPrepared(s->conn, "seen", 1, p, NULL, NULL,
		    0)))
			goto fail;
	}
	if (!pg_ok(PQexec(s->conn, "COMMIT")))
		goto fail;
	return 0;
fail:
	pg_message(s, PQerrorMessage(s->conn), why, whylen);
	rc = PQstatus(s->conn) == CONNECTION_OK ? -2 : -1;
	if (rc == -2)
		PQclear(PQexec(s->conn, "ROLLBACK"));
	else {
		PQfinish(s->conn);
		s->conn = NULL;
	}
	return rc;
}

static void
notify(struct ship *s)
{
	char c = 1;

	while (write(s->pipefd[1], &c, 1) < 0 && errno == EINTR)
		;
}

static void *
ship_thread(void *arg)
{
	struct ship *s = arg;
	struct outbox_rec *b;
	struct timespec until;
	char why[512];
	int backoff = BACKOFF_MIN, rc;
	size_t n;

	if ((b = malloc(sizeof(s->batch))) == NULL)
		return NULL;
	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		if (!s->busy || s->done) {
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		n = s->nbatch;
		memcpy(b, s->batch, n * sizeof(*b));
		pthread_mutex_unlock(&s->mu);
		why[0] = '\0';
		rc = push(s, b, n, why, sizeof(why));
		pthread_mutex_lock(&s->mu);
		if (rc == 0) {
			set_link(s, LINK_UP, "");
			s->done = 1;
			s->failed = 0;
			s->shipped += n;
			s->batches += n > 0;
			if (n > 0)
				s->last_push = (int64_t)time(NULL);
			s->last_contact = (int64_t)time(NULL);
			backoff = BACKOFF_MIN;
			notify(s);
			continue;
		}
		set_link(s, rc == -2 ? LINK_REFUSED : classify(why), why);
		s->failed = 1;
		notify(s);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += backoff;
		backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
		while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu,
		    &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&s->mu);
	OPENSSL_cleanse(b, sizeof(s->batch));
	free(b);
	PQfinish(s->conn);
	s->conn = NULL;
	return NULL;
}

/* ---- the daemon's side -------------------------------------------- */

struct ship *
ship_new(const struct config_central *cc, struct outbox *ob, char *err,
    size_t errlen)
{
	struct ship *s;
	int i;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->ob = ob;
	s->pipefd[0] = s->pipefd[1] = -1;
	snprintf(s->conninfo, sizeof(s->conninfo), "%s", cc->conninfo);
	snprintf(s->password, sizeof(s->password), "%s", cc->password);
	snprintf(s->site, sizeof(s->site), "%s", cc->site);
	central_pg_describe(cc->conninfo, s->name, sizeof(s->name));
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pipe(s->pipefd) != 0) {
		snprintf(err, errlen, "central: pipe: %s", strerror(errno));
		goto fail;
	}
	for (i = 0; i < 2; i++)
		fcntl(s->pipefd[i], F_SETFL, O_NONBLOCK);
	if (pthread_create(&s->thr, NULL, ship_thread, s) != 0) {
		snprintf(err, errlen, "central: cannot start the shipper "
		    "thread");
		goto fail;
	}
	s->started = 1;
	return s;
fail:
	ship_free(s);
	return NULL;
}

void
ship_free(struct ship *s)
{
	if (s == NULL)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		s->stop = 1;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thr, NULL);
	}
	if (s->pipefd[0] >= 0)
		close(s->pipefd[0]);
	if (s->pipefd[1] >= 0)
		close(s->pipefd[1]);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	OPENSSL_cleanse(s->password, sizeof(s->password));
	OPENSSL_cleanse(s->batch, sizeof(s->batch));
	free(s->cache);
	ship_forget(s);
	free(s);
}

int
ship_fd(const struct ship *s)
{
	return s->pipefd[0];
}

void
ship_pump(struct ship *s)
{
	struct outbox_rec *b = NULL;
	char c[64];
	long n;

	while (read(s->pipefd[0], c, sizeof(c)) > 0)
		;
	pthread_mutex_lock(&s->mu);
	if (s->busy && s->done && s->nbatch == 0)	/* a round's beat */
		s->busy = s->done = 0;
	if (s->busy && s->done) {
		size_t nb = s->nbatch;

		if ((b = malloc(nb * sizeof(*b))) != NULL)
			memcpy(b, s->batch, nb * sizeof(*b));
		pthread_mutex_unlock(&s->mu);
		/* committed there; a failed delete re-sends the same values */
		if (b == NULL || outbox_ack(s->ob, b, nb) != 0)
			log_warnx("central: cannot delete shipped rows from "
			    "the outbox; they go again (same values)");
		free(b);
		b = NULL;
		pthread_mutex_lock(&s->mu);
		s->busy = s->done = 0;
	}
	if (s->busy) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	pthread_mutex_unlock(&s->mu);
	if ((b = malloc(BATCH_MAX * sizeof(*b))) == NULL)
		return;
	n = outbox_take(s->ob, b, BATCH_MAX);
	/*
	 * Every flush makes a round, with rows or without (an empty
	 * transaction that only marks the site seen): when the database is
	 * contacted, and so the link state, last contact and the site's
	 * last_seen centrally, follow the flush clock, not the moments
	 * someone used a service.
	 */
	if (n > 0 || (n == 0 && s->beat)) {
		pthread_mutex_lock(&s->mu);
		if (n > 0)
			memcpy(s->batch, b, (size_t)n * sizeof(*b));
		s->nbatch = (size_t)n;
		s->busy = 1;
		s->done = 0;
		s->beat = 0;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	OPENSSL_cleanse(b, BATCH_MAX * sizeof(*b));
	free(b);
}

int64_t
ship_drain(struct ship *s, int timeout_sec)
{
	struct timespec t0, t;
	int64_t left;
	int failed;

	/*
	 * A database that failed its last attempt is not waited for: the
	 * back-off could be minutes, and the rows keep in the outbox.
	 */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ship_pump(s);
		if ((left = outbox_count(s->ob)) <= 0)
			return left;
		pthread_mutex_lock(&s->mu);
		failed = s->failed;
		pthread_mutex_unlock(&s->mu);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (failed || t.tv_sec - t0.tv_sec >= timeout_sec)
			return left;
		usleep(20000);
	}
}

void
ship_stats(const struct ship *s, struct ship_stats *st)
{
	struct ship *m = (struct ship *)s;

	pthread_mutex_lock(&m->mu);
	st->shipped = s->shipped;
	st->batches = s->batches;
	st->dropped = s->dropped;
	st->up = s->link == LINK_UP;
	st->last_push = s->last_push;
	st->last_contact = s->last_contact;
	st->full_incidents = s->full_incidents;
	switch (s->link) {
	case LINK_UNKNOWN:	st->link = AIC_SHIP_UNKNOWN; break;
	case LINK_UP:		st->link = AIC_SHIP_OK; break;
	case LINK_DOWN:		st->link = AIC_SHIP_UNREACHABLE; break;
	case LINK_AUTH:		st->link = AIC_SHIP_AUTH; break;
	case LINK_CERT:		st->link = AIC_SHIP_CERTIFICATE; break;
	case LINK_REFUSED:	st->link = AIC_SHIP_REFUSED; break;
	}
	pthread_mutex_unlock(&m->mu);
}
