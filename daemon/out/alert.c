/*
 * alert.c - alerts from released figures (alert.h): judging each
 * released week, building the alert's JSON, and the thread that
 * delivers what waits (through alert_send.h).
 *
 * Everything read here comes through release/released.h; the JSON of an
 * alert is built from a released cell and the catalog facts published
 * with the release, so an alert can say nothing a released table does
 * not (tests/e2e/alerts.sh compares every figure with `aicensus query`).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/log.h"
#include "common/period.h"
#include "release/released.h"
#include "store/alertlog.h"
#include "out/alert.h"
#include "out/alert_send.h"

/* ---- judging ---------------------------------------------------------- */

/* dept "\t" svc of every positive cell of the weeks before: sorted */
struct seen {
	char	**v;
	size_t	  n, cap;
};

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
seen_has(const struct seen *s, const char *dept, const char *svc)
{
	char key[sizeof(((struct rel_cell *)0)->dept) +
	    sizeof(((struct rel_cell *)0)->svc) + 2];
	const char *k = key;

	snprintf(key, sizeof(key), "%s\t%s", dept, svc);
	return s->n > 0 && bsearch(&k, s->v, s->n, sizeof(*s->v),
	    cmpstr) != NULL;
}

static int
seen_add(struct seen *s, const char *dept, const char *svc)
{
	char key[sizeof(((struct rel_cell *)0)->dept) +
	    sizeof(((struct rel_cell *)0)->svc) + 2];
	char **nv;

	/* duplicates are harmless once sorted: no lookup while unsorted */
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		if ((nv = realloc(s->v, s->cap * sizeof(*nv))) == NULL)
			return -1;
		s->v = nv;
	}
	snprintf(key, sizeof(key), "%s\t%s", dept, svc);
	if ((s->v[s->n] = strdup(key)) == NULL)
		return -1;
	s->n++;
	return 0;
}

static void
seen_free(struct seen *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

/* A catalog service's cell (not "*", not a category). */
static int
is_service(const char *svc)
{
	return strcmp(svc, REL_ALL) != 0 && strncmp(svc, REL_CAT_PREFIX,
	    strlen(REL_CAT_PREFIX)) != 0;
}

static const struct rel_cell *
find_cell(const struct rel_cell *c, size_t n, const char *dept,
    const char *svc)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(c[i].dept, dept) == 0 && strcmp(c[i].svc, svc) == 0)
			return &c[i];
	return NULL;
}

static const struct rel_service *
find_service(const struct rel_service *s, size_t n, const char *sid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s[i].sid, sid) == 0)
			return &s[i];
	return NULL;
}

static json_t *
service_json(const struct rel_service *s, const char *sid)
{
	if (s == NULL)
		return json_pack("{s:s}", "id", sid);
	return json_pack("{s:s,s:s,s:s,s:s,s:b}", "id", s->sid, "name",
	    s->name, "vendor", s->vendor, "category", s->category,
	    "sanctioned", s->sanctioned != 0);
}

/* One decided alert, waiting for its week's transaction. */
struct decided {
	char	 key[160];
	char	*body;
};

struct decisions {
	struct decided	*v;
	size_t		 n, cap;
};

static int
decide(struct decisions *d, const char *key, json_t *o)
{
	struct decided *nv;
	char *body;

	if (o == NULL)
		return -1;
	body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (body == NULL)
		return -1;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		if ((nv = realloc(d->v, d->cap * sizeof(*nv))) == NULL) {
			free(body);
			return -1;
		}
		d->v = nv;
	}
	snprintf(d->v[d->n].key, sizeof(d->v[d->n].key), "%s", key);
	d->v[d->n].body = body;
	d->n++;
	return 0;
}

static void
decisions_free(struct decisions *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->v[i].body);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static json_t *
new_service_json(const char *label, const struct rel_cell *c,
    const struct rel_service *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "alert", json_string("new_service"));
	json_object_set_new(o, "period", json_string(label));
	json_object_set_new(o, "service", service_json(s, c->svc));
	if (strcmp(c->dept, REL_ALL) != 0)
		json_object_set_new(o, "department", json_string(c->dept));
	json_object_set_new(o, "published", json_pack("{s:I,s:I}",
	    "devices", (json_int_t)c->m[RM_DEVICES],
	    "connections", (json_int_t)c->m[RM_CONNS]));
	return o;
}

static json_t *
shadow_json(const char *label, const struct rel_cell *c,
    const struct rel_cell *all, const struct rel_service *s, int pct)
{
	json_t *o = json_object();

	json_object_set_new(o, "alert", json_string("shadow_share"));
	json_object_set_new(o, "period", json_string(label));
	json_object_set_new(o, "service", service_json(s, c->svc));
	json_object_set_new(o, "threshold_percent", json_integer(pct));
	json_object_set_new(o, "published", json_pack("{s:I,s:I,s:I}",
	    "devices", (json_int_t)c->m[RM_DEVICES],
	    "connections", (json_int_t)c->m[RM_CONNS],
	    "all_ai_connections", (json_int_t)all->m[RM_CONNS]));
	return o;
}

/* svc's published connections reach pct % of the organisation's */
static int
at_share(const struct rel_cell *c, size_t n, const char *svc, int pct)
{
	const struct rel_cell *all = find_cell(c, n, REL_ALL, REL_ALL);
	const struct rel_cell *s = find_cell(c, n, REL_ALL, svc);

	if (all == NULL || s == NULL || all->m[RM_CONNS] == 0 ||
	    s->m[RM_CONNS] == 0)
		return 0;
	/* both below 2^63: the products fit in 128 bits, compare halves */
	return (unsigned __int128)s->m[RM_CONNS] * 100 >=
	    (unsigned __int128)all->m[RM_CONNS] * (unsigned)pct;
}

/* The alerts of one week against the weeks before it. */
static int
judge_week(const struct rel_period *p, const struct rel_cell *c, size_t n,
    const struct rel_cell *prev, size_t nprev, int earlier,
    const struct seen *seen, const struct rel_service *svc, size_t nsvc,
    const struct config_alerts *cfg, struct decisions *d)
{
	char label[16], key[160];
	size_t i;

	period_week_format(p->period, label, sizeof(label));
	for (i = 0; i < n && earlier; i++) {
		const struct rel_cell *x = &c[i];
		int org = strcmp(x->dept, REL_ALL) == 0;

		if (!is_service(x->svc) || x->m[RM_DEVICES] == 0)
			continue;
		if (org ? !cfg->new_service :
		    (!cfg->new_service_per_department ||
		    strcmp(x->dept, REL_UNASSIGNED) == 0))
			continue;
		if (seen_has(seen, x->dept, x->svc))
			continue;
		snprintf(key, sizeof(key), "new_service/%d/%s/%s",
		    (int)p->period, org ? "" : x->dept, x->svc);
		if (decide(d, key, new_service_json(label, x,
		    find_service(svc, nsvc, x->svc))) != 0)
			return -1;
	}
	if (cfg->shadow_share_percent <= 0)
		return 0;
	for (i = 0; i < n; i++) {
		const struct rel_cell *x = &c[i];
		const struct rel_service *s;

		if (strcmp(x->dept, REL_ALL) != 0 || !is_service(x->svc))
			continue;
		s = find_service(svc, nsvc, x->svc);
		if (s == NULL || s->sanctioned)
			continue;
		if (!at_share(c, n, x->svc, cfg->shadow_share_percent))
			continue;
		/* a crossing: not at the share the week before */
		if (prev != NULL && at_share(prev, nprev, x->svc,
		    cfg->shadow_share_percent))
			continue;
		snprintf(key, sizeof(key), "shadow_share/%d/%s",
		    (int)p->period, x->svc);
		if (decide(d, key, shadow_json(label, x, find_cell(c, n,
		    REL_ALL, REL_ALL), s, cfg->shadow_share_percent)) != 0)
			return -1;
	}
	return 0;
}

int
alert_judge(struct released *rel, struct alertlog *log,
    const struct config_alerts *cfg, int fresh, int64_t since, int64_t now,
    char *err, size_t errlen)
{
	struct rel_period *per = NULL;
	struct rel_cell *cells = NULL, *prev = NULL;
	struct rel_service *svc = NULL;
	struct decisions d;
	struct seen seen;
	size_t nper = 0, ncell = 0, nprev = 0, nsvc = 0, i, j;
	int want[ALERT_NCHANNEL], todo = 0, r, recorded = 0, ret = -1;

	memset(&d, 0, sizeof(d));
	memset(&seen, 0, sizeof(seen));
	want[ALERT_WEBHOOK] = cfg->webhook[0] != '\0';
	want[ALERT_MAIL] = cfg->mail_to[0] != '\0';
	/* a shipping sensor's cells are the central release's */
	if (released_central_site(rel, NULL, 0) == 1)
		return 0;
	if (released_periods(rel, REL_WEEK, 0, 0, &per, &nper, err,
	    errlen) != 0)
		return -1;
	if (fresh) {
		if (alertlog_begin(log) != 0)
			goto dberr;
		for (i = 0; i < nper; i++)
			if (per[i].released_at < since &&
			    alertlog_mark(log, per[i].period) != 0) {
				alertlog_rollback(log);
				goto dberr;
			}
		if (alertlog_commit(log) != 0)
			goto dberr;
	}
	for (i = 0; i < nper; i++) {
		if ((r = alertlog_judged(log, per[i].period)) < 0)
			goto dberr;
		todo += r == 0;
	}
	if (todo == 0) {
		free(per);
		return 0;
	}
	if (released_services(rel, &svc, &nsvc) != 0) {
		snprintf(err, errlen, "cannot read the released services");
		goto out;
	}
	for (i = 0; i < nper; i++) {
		if (released_cells(rel, REL_WEEK, per[i].period, &cells, &ncell,
		    err, errlen) != 0)
			goto out;
		if ((r = alertlog_judged(log, per[i].period)) < 0)
			goto dberr;
		if (r == 0) {
			if (judge_week(&per[i], cells, ncell, prev, nprev,
			    i > 0, &seen, svc, nsvc, cfg, &d) != 0) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			/* the week's alerts and its mark: together or not */
			if (alertlog_begin(log) != 0)
				goto dberr;
			for (j = 0; j < d.n; j++) {
				if ((r = alertlog_add(log, d.v[j].key,
				    per[i].period, d.v[j].body, now,
				    want)) < 0)
					break;
				recorded += r;
			}
			if (j < d.n || alertlog_mark(log, per[i].period) != 0) {
				alertlog_rollback(log);
				goto dberr;
			}
			if (alertlog_commit(log) != 0)
				goto dberr;
			for (j = 0; j < d.n; j++)
				log_info("alert %s recorded", d.v[j].key);
			decisions_free(&d);
		}
		for (j = 0; j < ncell; j++)
			if (cells[j].m[RM_DEVICES] > 0 &&
			    is_service(cells[j].svc) &&
			    seen_add(&seen, cells[j].dept, cells[j].svc) != 0) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
		if (seen.n > 1)	/* (seen.v is NULL while empty) */
			qsort(seen.v, seen.n, sizeof(*seen.v), cmpstr);
		free(prev);
		prev = cells;
		nprev = ncell;
		cells = NULL;
	}
	ret = recorded;
	goto out;
dberr:
	snprintf(err, errlen, "alert record: %s", alertlog_error(log));
out:
	decisions_free(&d);
	seen_free(&seen);
	free(cells);
	free(prev);
	free(svc);
	free(per);
	return ret;
}

/* ---- delivery ---------------------------------------------------------- */

struct deliver {
	struct alertlog			*log;
	const struct config_alerts	*cfg;
	int				 nl;	/* mail in Dutch */
	enum alert_channel		 c;
	int				 failed;	/* stop: try later */
	int				 waiting;
	unsigned			 delivered;
	char				 err[256];
};

static int
deliver_one(void *arg, const char *key, const char *body)
{
	struct deliver *d = arg;
	char *msg;
	int r;

	if (d->failed) {
		d->waiting++;
		return 0;
	}
	if (d->c == ALERT_WEBHOOK)
		r = alert_http_post(d->cfg->webhook, body,
		    ALERT_TIMEOUT_SEC * 1000, d->err, sizeof(d->err));
	else if ((msg = alert_mail(d->cfg->mail_to, body, d->nl)) == NULL) {
		snprintf(d->err, sizeof(d->err), "out of memory");
		r = -1;
	} else {
		r = alert_sendmail(d->cfg->sendmail, msg,
		    ALERT_TIMEOUT_SEC * 1000, d->err, sizeof(d->err));
		free(msg);
	}
	if (r == 0 && alertlog_delivered(d->log, key, d->c) == 0) {
		d->delivered++;
		log_info("alert %s %s", key, d->c == ALERT_WEBHOOK ?
		    "posted to the webhook" : "mailed");
		return 0;
	}
	/*
	 * Delivered but not recorded (the file busy): sent again at the next
	 * pass, a duplicate rather than a loss.
	 */
	if (r == 0)
		snprintf(d->err, sizeof(d->err), "recording the delivery: %s",
		    alertlog_error(d->log));
	/* one receiver down: the rest waits too, for the next pass */
	d->failed = 1;
	d->waiting++;
	return 0;
}

int
alert_deliver(struct alertlog *log, const struct config_alerts *cfg, int nl,
    unsigned *delivered, unsigned *failed)
{
	struct deliver d;
	int c, waiting = 0;

	if (delivered != NULL)
		*delivered = 0;
	if (failed != NULL)
		*failed = 0;
	for (c = 0; c < ALERT_NCHANNEL; c++) {
		if (c == ALERT_WEBHOOK ? cfg->webhook[0] == '\0' :
		    cfg->mail_to[0] == '\0')
			continue;
		memset(&d, 0, sizeof(d));
		d.log = log;
		d.cfg = cfg;
		d.nl = nl;
		d.c = (enum alert_channel)c;
		if (alertlog_waiting(log, d.c, deliver_one, &d) != 0)
			return -1;
		if (delivered != NULL)
			*delivered += d.delivered;
		if (failed != NULL)
			*failed += d.failed != 0;
		if (d.failed)
			log_warnx("alerts: %s failed: %s; %d alert%s wait for the "
			    "next release pass", c == ALERT_WEBHOOK ?
			    "the webhook" : "mailing", d.err, d.waiting,
			    d.waiting == 1 ? "" : "s");
		waiting += d.waiting;
	}
	return waiting;
}

/* ---- the alert thread ------------------------------------------------- */

struct alerter {
	char			 path[4096];
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	pthread_t		 th;
	int			 started;	/* th to be joined */
	int			 busy;		/* a pass runs */
	int			 again;		/* run once more */
	struct config_alerts	 cfg;		/* under mu */
	int			 nl;		/* language "nl", under mu */
	int64_t			 since;		/* alerter_new's time */
	struct aic_alert_status	 st;		/* under mu */
};

static void
alert_pass(struct alerter *a, const struct config_alerts *cfg, int nl)
{
	struct released *rel;
	struct alertlog *log;
	const char *path = a->path;
	char err[512];
	unsigned delivered = 0, failed = 0;
	int fresh = 0, recorded, waiting;

	if ((rel = released_open(path, err, sizeof(err))) == NULL) {
		log_warnx("alerts: %s", err);
		return;
	}
	if ((log = alertlog_open(path, &fresh, err, sizeof(err))) == NULL) {
		log_warnx("alerts: %s", err);
		released_close(rel);
		return;
	}
	if ((recorded = alert_judge(rel, log, cfg, fresh, a->since,
	    (int64_t)time(NULL), err, sizeof(err))) < 0)
		log_warnx("alerts: %s; tried again at the next release pass",
		    err);
	released_close(rel);
	if ((waiting = alert_deliver(log, cfg, nl, &delivered, &failed)) < 0)
		log_warnx("alerts: %s", alertlog_error(log));
	alertlog_close(log);
	pthread_mutex_lock(&a->mu);
	if (recorded > 0)
		a->st.recorded += (uint64_t)recorded;
	a->st.delivered += delivered;
	a->st.failures += failed;
	if (failed > 0)
		a->st.last_failure = (int64_t)time(NULL);
	if (waiting >= 0)
		a->st.waiting = waiting;
	pthread_mutex_unlock(&a->mu);
}

static void *
alert_thread(void *arg)
{
	struct alerter *a = arg;
	struct config_alerts cfg;
	int nl;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		cfg = a->cfg;
		nl = a->nl;
		a->again = 0;
		pthread_mutex_unlock(&a->mu);
		alert_pass(a, &cfg, nl);
		pthread_mutex_lock(&a->mu);
		if (!a->again)
			break;
	}
	a->busy = 0;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

struct alerter *
alerter_new(const char *release_db, int64_t since)
{
	struct alerter *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	if (snprintf(a->path, sizeof(a->path), "%s", release_db) >=
	    (int)sizeof(a->path)) {
		free(a);
		return NULL;
	}
	a->since = since;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	return a;
}

void
alerter_run(struct alerter *a, const struct config_alerts *cfg,
    const char *language)
{
	sigset_t all, old;

	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	a->cfg = *cfg;		/* also what alerter_stats says is enabled */
	a->nl = language != NULL && strcmp(language, "nl") == 0;
	if (cfg->webhook[0] == '\0' && cfg->mail_to[0] == '\0') {
		pthread_mutex_unlock(&a->mu);
		return;
	}
	if (a->busy) {
		a->again = 1;
		pthread_mutex_unlock(&a->mu);
		return;
	}
	if (a->started) {
		/* it ended (busy is 0): collect it before the next */
		pthread_join(a->th, NULL);
		a->started = 0;
	}
	a->busy = 1;
	/* signals stay with the event loop's thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&a->th, NULL, alert_thread, a) == 0)
		a->started = 1;
	else {
		a->busy = 0;
		log_warnx("alerts: cannot start the alert thread; tried again "
		    "at the next release pass");
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_unlock(&a->mu);
}

void
alerter_stats(struct alerter *a, struct aic_alert_status *out)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	*out = a->st;
	out->enabled = a->cfg.webhook[0] != '\0' || a->cfg.mail_to[0] != '\0';
	pthread_mutex_unlock(&a->mu);
}

void
alerter_wait(struct alerter *a)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	while (a->busy)
		pthread_cond_wait(&a->cv, &a->mu);
	if (a->started) {
		pthread_join(a->th, NULL);
		a->started = 0;
	}
	pthread_mutex_unlock(&a->mu);
}

void
alerter_free(struct alerter *a)
{
	if (a == NULL)
		return;
	alerter_wait(a);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	free(a);
}
