/*
 * aicensusd.c - the daemon: set-up in a fixed order, then the event loop.
 *
 * Order of start-up: parse the configuration and the catalog (any error
 * stops here, before anything is opened); open the week keys, the
 * release database, the vault and the capture (needs root); release
 * whatever came due while the daemon was down; drop to the configured
 * user keeping only CAP_NET_RAW (to reopen a capture that went away);
 * then serve.  Nothing here formats an address.
 *
 * aicensusd --serve (serve()) is the API and dashboard alone, over the
 * release api.source names: none of the above is opened.
 *
 * The data path: packets -> pipeline -> agg (pair) -> vault (sealed,
 * every flush_interval) -> release stage (each closed day and ISO week,
 * checked after every flush, also when no traffic comes) -> release
 * database, which is all that outputs read.
 */
#include <linux/capability.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <systemd/sd-daemon.h>

#include "aggregate/agg.h"
#include "out/alert.h"
#include "out/api/api.h"
#include "capture/capture.h"
#include "capture/input.h"
#include "decode/decode.h"
#include "detect/catalog.h"
#include "common/cfgerr.h"
#include "common/config.h"
#include "common/log.h"
#include "common/period.h"
#include "common/runas.h"
#include "aggregate/pipeline.h"
#include "aggregate/workers.h"
#include "out/plugin.h"
#include "common/status.h"
#include "release/due.h"
#include "release/release.h"
#include "out/ship.h"
#include "store/imports.h"
#include "store/outbox.h"
#include "store/vault.h"
#include "store/vaultdb.h"
#include "attribute/weekkey.h"

#ifndef AIC_VERSION
#define AIC_VERSION "dev"
#endif
#ifndef AIC_SYSCONFDIR
#define AIC_SYSCONFDIR "/etc"
#endif

#define MAX_PLUGINS		16
#define DISPATCH_BATCH		256
#define CAPTURE_RETRY_SEC	5
/* "1 department", "5 departments" */
#define PLURAL(n)		((n) == 1 ? "" : "s")
/* aicensusd -r waits this long at most for the central database. */
#define SHIP_DRAIN_SEC		120
/*
 * A flush is written in slices of about this long, with packets read
 * between them: a full hour of a large site is hundreds of milliseconds
 * of SQLite work, which the kernel's capture buffer should not have to
 * absorb in one piece.
 */
#define FLUSH_SLICE_USEC	20000

/*
 * aicensusd -r keeps live's flush points on the capture's clock (every
 * flush_interval of capture time: flow expiry, release checks), but
 * writes the aggregates to the vault at a point only when that can
 * change what is released (see offline_must_write).  Between two writes
 * the aggregates hold several intervals' counts; the vault merges rows
 * by union and sum, so one row of them equals the rows of each.
 */
struct offline_cadence {
	int32_t			 day;		/* clock of the last write */
	int64_t			 floor_usec;	/* that day's start */
	int			 every;		/* write at every point */
	size_t			 cells, mem;	/* held at the last point */
	size_t			 grow_cells, grow_mem;	/* most per interval */
	uint64_t		 points, writes;	/* flush points, written */
};

struct daemon {
	const char		*cfg_path;
	const char		*iface;
	const char		*rfile;		/* -r: names the input in logs */
	struct input		*in;		/* -r: the files, in time order */
	struct imports		*imp;		/* -r: what was read before */
	int			 replace;	/* --replace */
	char			 rlabel[512];	/* -r of several files */
	const char		*db_override;
	const char		*rel_override;
	struct config		*cfg;
	struct catalog		*cat;
	struct agg		*agg;		/* capture adds here */
	struct agg		*frozen;	/* the flush under way writes */
	struct weekkey		*keys;
	struct vault		*st;
	struct reldb		*rel;
	struct outbox		*ob;		/* central: cells to ship */
	struct vaultdb		*obdb;		/* -r: the outbox's own file */
	struct ship		*ship;		/* central: its thread */
	struct alerter		*alerts;	/* out/alert.h: its thread */
	struct rel_dims		 dims;
	char			**sanct;	/* dims.sanctioned */
	struct rel_params	 params;
	struct pipeline		*P;
	struct capture		*cap;
	struct workers		*W;		/* capture.workers > 1 */
	struct event_base	*base;
	struct event		*ev_cap, *ev_flush, *ev_wd, *ev_retry;
	struct event		*ev_step;	/* next slice of a flush */
	struct event		*ev_ship;	/* the shipper ended a batch */
	struct event		*ev_wstat;	/* workers' counters to status */
	uint64_t		 fl_parse;	/* parse failures it holds */
	uint64_t		 fl_anom[ANOM_N];	/* anomalies it holds */
	int64_t			 fl_now;	/* its clock */
	int64_t			 fl_t0;		/* when it started */
	struct loaded_plugin	 plugins[MAX_PLUGINS];
	size_t			 nplugins;
	struct plugin_exports	 exports;	/* fed by the release stage */
	int64_t			 next_flush;	/* offline: packet time */
	int64_t			 last_sec;	/* offline: newest packet time */
	struct offline_cadence	 oc;		/* offline: which flushes write */
	uint64_t		 packets;
	struct aic_status	 status;	/* API: health it reports */
	struct api		*api;		/* HTTP API, live only */
	int			 under_systemd;
	int			 read_error;
	int			 finalising;	/* --finalise */
	int			 serving;	/* --serve */
	int64_t			 last_retention;	/* release DB, epoch */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: aicensusd [-n [--file-only]] [-c CONFIG]\n"
	    "                 [-i IFACE | --finalise |\n"
	    "                  -r FILE|DIR [FILE|DIR ...] [--replace]]\n"
	    "                 [--db PATH] [--release-db PATH]\n"
	    "       aicensusd --serve [-c CONFIG] [--release-db PATH]\n"
	    "\n"
	    "  -c, --config FILE  configuration (default %s/aicensus/aicensus.conf)\n"
	    "  -i, --interface IF capture live on IF (overrides the configuration)\n"
	    "  -r, --read FILE    read pcap/pcapng files (or directories of them) to\n"
	    "                     their end in time order, release what they hold,\n"
	    "                     exit (keys in memory only, no raw file); a file\n"
	    "                     read into the release database before is refused\n"
	    "      --replace      with -r: release the periods of the earlier imports\n"
	    "                     these files overlap again, from this reading\n"
	    "      --finalise     release everything counted so far now, destroy\n"
	    "                     the week keys, exit (decommissioning)\n"
	    "      --serve        the API and dashboard only (api.source: the\n"
	    "                     release database or the central release), no\n"
	    "                     capture, nothing written\n"
	    "      --db PATH      raw working database (overrides the configuration)\n"
	    "      --release-db PATH  release database (overrides the configuration)\n"
	    "  -n, --check        check the configuration and catalog, and what a\n"
	    "                     start needs from this machine, then exit\n"
	    "      --file-only    with -n: the files only, not this machine\n"
	    "  -v, --verbose      with -n: print the configuration normalised\n"
	    "  -h, --help         this text\n"
	    "  -V, --version      print the version\n", AIC_SYSCONFDIR);
}

static int64_t
now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* --- configuration ---------------------------------------------------- */

static int
load_config(const char *path, struct config **cfgp, struct catalog **catp,
    char *msg, size_t msglen)
{
	struct cfgerr err;
	struct config *cfg;
	struct catalog *cat;

	memset(&err, 0, sizeof(err));
	if ((cfg = config_load(path, &err)) == NULL) {
		cfgerr_format(&err, msg, msglen);
		return -1;
	}
	if ((cat = catalog_load_all(cfg->catalog, cfg->catalog_dir,
	    &err)) == NULL) {
		cfgerr_format(&err, msg, msglen);
		config_free(cfg);
		return -1;
	}
	if (catalog_check_sanctioned(cat, cfg, &err) != 0) {
		cfgerr_format(&err, msg, msglen);
		catalog_free(cat);
		config_free(cfg);
		return -1;
	}
	*cfgp = cfg;
	*catp = cat;
	return 0;
}

/*
 * The release grid and the vault's names follow the configuration in
 * force (again after a reload).
 */
static int
set_dims(struct daemon *d, const struct config *cfg, const struct catalog *cat)
{
	char **sanct = calloc(cfg->n_sanctioned + 1, sizeof(*sanct));
	size_t i;

	if (sanct == NULL)
		return -1;
	for (i = 0; i < cfg->n_sanctioned; i++)
		sanct[i] = cfg->sanctioned[i].s;
	free(d->sanct);
	d->sanct = sanct;
	d->dims.dept = cfg->dept_names;
	d->dims.ndept = cfg->n_depts;
	d->dims.cat = cat;
	d->dims.sanctioned = sanct;
	d->dims.nsanct = cfg->n_sanctioned;
	d->dims.timezone = cfg->timezone;
	d->params.k = cfg->min_group_size;
	if (d->st != NULL)
		vault_set_dims(d->st, cfg->dept_names, cfg->n_depts, cat);
	return 0;
}

/* --- flushing --------------------------------------------------------- */

/*
 * API status: malformed packets waiting in the aggregates, by the rule
 * store.c applies to capture_hour.parse_failures (fragments and evicted
 * flows are limits, not failures).  Added once their flush commits.
 */
static uint64_t
status_parse_failures(const struct agg *a, uint64_t anom[ANOM_N])
{
	const struct agg_hour *h;
	uint64_t n = 0;
	int i;

	memset(anom, 0, ANOM_N * sizeof(*anom));
	for (h = agg_hours(a); h != NULL; h = h->next)
		for (i = 0; i < ANOM_N; i++) {
			anom[i] += h->anom[i];
			if (i != ANOM_IP_FRAGMENT && i != ANOM_FLOW_EVICTED)
				n += h->anom[i];
		}
	return n;
}

/* The release database's history: at most once an hour of now_sec. */
static void
release_retention(struct daemon *d, int64_t now_sec)
{
	struct period cut;

	if (now_sec <= 0 || now_sec - d->last_retention < 3600)
		return;
	/* a week goes only once all of it is before the cutoff */
	period_of(now_sec - (int64_t)d->cfg->retention_days * 86400, &cut);
	if (reldb_retention(d->rel, cut.day, cut.week) >= 0)
		d->last_retention = now_sec;
}

/*
 * Publish every day and week that has closed by now_sec (local time):
 * the release stage takes them from the vault in a crash-safe order and
 * destroys the keys of weeks that are over (release/due.h).  Called after
 * every committed flush, so the flush timer drives it also when no
 * traffic comes.  now_sec 0: everything open, now (end of -r,
 * --finalise).
 */
static void
release_due(struct daemon *d, int64_t now_sec)
{
	struct period per;
	int64_t t0;
	int n;

	if (now_sec > 0)
		period_of(now_sec, &per);
	else
		memset(&per, 0, sizeof(per));
	t0 = now_usec();
	n = release_due_periods(d->st, d->rel, &d->dims, &d->params, per.day,
	    per.week, (int64_t)time(NULL));
	/* rows compacted or deleted: the shipper opens its weeks again */
	if (n != 0 && d->ship != NULL)
		ship_forget(d->ship);
	if (n > 0)
		d->status.last_release_usec = (uint64_t)(now_usec() - t0);
	release_retention(d, now_sec);
	if (n > 0) {
		d->status.last_release = (int64_t)time(NULL);	/* API status */
		d->status.releases += (uint64_t)n;
	} else if (n < 0)
		d->status.release_failures++;
	/*
	 * Alerts judge what is released now and retry what waits, on their
	 * own thread (created once privileges are dropped): every pass, so
	 * a receiver that was down gets its alerts at the next one.
	 */
	alerter_run(d->alerts, &d->cfg->alerts, d->cfg->language);
	alerter_stats(d->alerts, &d->status.alerts);	/* the last pass's */
}

static void central_status(struct daemon *);

/* A flush ended: committed (rc 0) or rolled back (rc -1). */
static void
flush_finished(struct daemon *d, int rc)
{
	if (rc == 0) {
		size_t i;

		d->status.last_flush_ok = 1;		/* API status */
		d->status.last_flush_usec = (uint64_t)(now_usec() - d->fl_t0);
		d->status.parse_failures += d->fl_parse;
		for (i = 0; i < ANOM_N; i++)
			d->status.anomalies[i] += d->fl_anom[i];
	} else {
		/* back to the live side, for the next try */
		agg_absorb(d->agg, d->frozen);
		d->status.flush_failures++;
	}
	/* the site's changed cells, before a closing day leaves the vault */
	if (rc == 0 && d->ship != NULL) {
		ship_collect(d->ship, d->st, &d->dims);
		central_status(d);
	}
	if (rc == 0 && !d->finalising)
		release_due(d, d->fl_now);
}

/* --- capture workers (capture.workers > 1, aggregate/workers.h) -------- */

static void
workers_to_status(struct daemon *d, const struct workers_stats *ws)
{
	d->status.packets = ws->packets;		/* API status */
	if (ws->last_packet > 0)
		d->status.last_packet = ws->last_packet;
	d->status.capturing = ws->down == 0;
	d->status.capture = ws->down == 0 ? AIC_CAPTURE_RUNNING :
	    AIC_CAPTURE_DOWN;
	memcpy(d->status.encap, ws->encap, sizeof(d->status.encap));
}

/* Every worker's counts into the live side, and the handles' drops. */
static void
collect_workers(struct daemon *d, int64_t now_sec)
{
	struct workers_stats ws;

	workers_collect(d->W, d->agg, &ws);
	pipeline_drops(d->P, (uint64_t)now_sec * 1000000, ws.drop_new,
	    ws.ifdrop_new);
	d->status.pcap_drops = ws.drop;		/* API status */
	d->status.if_drops = ws.ifdrop;
	workers_to_status(d, &ws);
}

static void
on_wstat(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct workers_stats ws;

	(void)fd;
	(void)what;
	workers_status(d->W, &ws);
	workers_to_status(d, &ws);
}

/*
 * Detector plugins are not known to be thread-safe (the ABI promises
 * nothing of the kind), so workers run the built-in detectors only.
 */
static int
open_workers(struct daemon *d, char *err, size_t errlen)
{
	struct capture_opts o;
	size_t i;

	for (i = 0; i < d->nplugins; i++)
		if (d->plugins[i].pl->tcp_claim || d->plugins[i].pl->udp) {
			snprintf(err, errlen, "capture.workers = %d with the "
			    "detector plugin %s loaded: plugins are not known "
			    "to be thread-safe; set capture.workers = 1 or "
			    "remove the plugin", d->cfg->capture.workers,
			    d->plugins[i].name);
			return -1;
		}
	o.snaplen = d->cfg->capture.snaplen;
	o.buffer_mb = d->cfg->capture.buffer_mb;
	o.promisc = d->cfg->capture.promisc;
	o.immediate = d->cfg->capture.immediate;
	o.filter = d->cfg->capture.filter;
	if ((d->W = workers_open(d->cfg, d->cat, d->keys, d->cfg->interface,
	    &o, d->cfg->capture.workers, err, errlen)) == NULL)
		return -1;
	return 0;
}

/*
 * Start a flush: what capture gathered becomes the frozen side, which
 * the store writes while packets land in the (now empty) live side.
 * Returns 1 when there are slices to write.
 */
static int
flush_start(struct daemon *d, int64_t now_sec)
{
	uint64_t recv, drop, ifdrop;
	static uint64_t last_drop, last_ifdrop;
	int rc;

	if (d->W != NULL)
		collect_workers(d, now_sec);
	else if (d->cap && capture_stats(d->cap, &recv, &drop, &ifdrop) == 0) {
		pipeline_drops(d->P, (uint64_t)now_sec * 1000000,
		    drop - last_drop, ifdrop - last_ifdrop);
		last_drop = drop;
		last_ifdrop = ifdrop;
		d->status.pcap_drops = drop;		/* API status */
		d->status.if_drops = ifdrop;
	}
	d->status.last_flush = (int64_t)time(NULL);	/* API status */
	d->status.last_flush_ok = 0;
	if (!agg_empty(d->frozen))	/* cannot happen: flush_finished */
		agg_absorb(d->agg, d->frozen);
	agg_swap(d->agg, d->frozen);
	d->fl_parse = status_parse_failures(d->frozen, d->fl_anom);
	d->fl_now = now_sec;
	d->fl_t0 = now_usec();
	if ((rc = vault_flush_begin(d->st, d->frozen)) <= 0) {
		flush_finished(d, rc);
		return 0;
	}
	return 1;
}

/* Write what is left of a flush under way, at once. */
static void
flush_complete(struct daemon *d)
{
	if (d->ev_step != NULL)
		event_del(d->ev_step);
	if (vault_flush_busy(d->st))
		flush_finished(d, vault_flush_step(d->st, d->frozen, 0));
}

/* Everything counted so far stored before returning: stop, reload, -r. */
static void
flush(struct daemon *d, int64_t now_sec)
{
	flush_complete(d);
	if (flush_start(d, now_sec))
		flush_finished(d, vault_flush_step(d->st, d->frozen, 0));
}

static void
on_flush_step(evutil_socket_t fd, short what, void *arg)
{
	static const struct timeval now = { 0, 0 }, soon = { 0, 2000 };
	struct daemon *d = arg;
	int rc;

	(void)fd;
	(void)what;
	if (!vault_flush_busy(d->st))
		return;
	rc = vault_flush_step(d->st, d->frozen, FLUSH_SLICE_USEC);
	if (rc == 1)
		evtimer_add(d->ev_step, &now);	/* after the packets waiting */
	else if (rc == 2)
		evtimer_add(d->ev_step, &soon);	/* the commit's thread */
	else
		flush_finished(d, rc);
}

/* --- aicensusd -r: which flush points write -------------------------- */

/*
 * A flush point of -r writes the aggregates to the vault only when
 * skipping it could change a released figure; otherwise its counts stay
 * in memory for the next write, and the released results equal those
 * of a write at every point (tests/e2e/offline.sh compares them):
 *  - the capture's clock entered another local day (or week) since the
 *    last write: the release stage publishes the day now, from a vault
 *    holding exactly what a write at every point would hold;
 *  - the capture went back into a day already released (late counts:
 *    their device-hours are taken from each row's own sketch and their
 *    lost counts placed in that row's newest hour, so the rows must be
 *    the same): from here on every point writes, as live does;
 *  - the aggregates hold half of their bound (max_pending_cells, half
 *    of memory_mb), or would after two more intervals as large as the
 *    largest seen: counts must never be lost where a write at every
 *    point kept them;
 *  - a release failed (it is retried at the next write).
 * AICENSUS_OFFLINE_FLUSH=every in the environment writes at every point
 * (the cadence before issue 13, kept to compare results with).
 * Nothing here is about durability: the keys of -r die with the process
 * and its input can be read again.
 */
static int
offline_must_write(struct daemon *d, int64_t sec)
{
	struct offline_cadence *oc = &d->oc;
	size_t cells = agg_ncells(d->agg) + agg_ncells(d->frozen);
	size_t mem = agg_mem(d->agg) + agg_mem(d->frozen);
	size_t max_cells = (size_t)d->cfg->limits.max_pending_cells;
	size_t max_mem = (size_t)d->cfg->limits.memory_mb * 1024 * 1024 / 2;
	struct period per;

	if (cells > oc->cells && cells - oc->cells > oc->grow_cells)
		oc->grow_cells = cells - oc->cells;
	if (mem > oc->mem && mem - oc->mem > oc->grow_mem)
		oc->grow_mem = mem - oc->mem;
	oc->cells = cells;
	oc->mem = mem;
	period_of(sec, &per);
	return oc->every || per.day != oc->day ||
	    d->status.release_failures != 0 ||
	    cells >= max_cells / 2 || cells + 2 * oc->grow_cells >= max_cells ||
	    mem >= max_mem / 2 || mem + 2 * oc->grow_mem >= max_mem;
}

/* A write at a flush point of -r, at the capture's second sec. */
static void
offline_write(struct daemon *d, int64_t sec)
{
	struct offline_cadence *oc = &d->oc;
	struct period per;

	flush(d, sec);
	if (!agg_empty(d->agg))
		return;		/* failed: the next point tries again, as before */
	period_of(sec, &per);
	oc->day = per.day;
	oc->floor_usec = period_day_start(per.day) * 1000000;
	oc->cells = agg_ncells(d->agg) + agg_ncells(d->frozen);
	oc->mem = agg_mem(d->agg) + agg_mem(d->frozen);
	oc->writes++;
}

/* --- packets ---------------------------------------------------------- */

static void
on_packet(void *arg, uint64_t ts, const uint8_t *p, size_t caplen,
    size_t wirelen)
{
	struct daemon *d = arg;

	d->packets++;
	d->status.packets++;
	d->status.last_packet = (int64_t)(ts / 1000000);	/* API status */
	pipeline_packet(d->P, capture_dlt(d->cap), ts, p, caplen, wirelen);
	if (d->rfile != NULL) {
		/* offline: flush on the capture's clock, as live would */
		int64_t sec = (int64_t)(ts / 1000000);

		if (sec > d->last_sec)
			d->last_sec = sec;
		/* back into a released day: late counts (offline_must_write) */
		if ((int64_t)ts < d->oc.floor_usec)
			d->oc.every = 1;
		if (d->next_flush == 0) {
			const char *e = getenv("AICENSUS_OFFLINE_FLUSH");

			d->oc.every = e != NULL && strcmp(e, "every") == 0;
			d->next_flush = sec + d->cfg->flush_interval;
		} else if (sec >= d->next_flush) {
			pipeline_tick(d->P, ts);
			d->oc.points++;
			if (offline_must_write(d, sec))
				offline_write(d, sec);
			else
				release_retention(d, sec);
			d->next_flush = sec + d->cfg->flush_interval;
		}
	}
}

static void retry_capture(evutil_socket_t, short, void *);

static void
capture_lost(struct daemon *d)
{
	struct timeval tv = { CAPTURE_RETRY_SEC, 0 };

	log_warnx("capture on %s failed: %s; retrying every %d s",
	    d->cfg->interface, capture_error(d->cap), CAPTURE_RETRY_SEC);
	if (d->under_systemd)
		sd_notify(0, "STATUS=capture interface lost, retrying");
	d->status.capturing = 0;	/* API status */
	d->status.capture = AIC_CAPTURE_DOWN;
	event_free(d->ev_cap);
	d->ev_cap = NULL;
	capture_close(d->cap);
	d->cap = NULL;
	d->ev_retry = evtimer_new(d->base, retry_capture, d);
	evtimer_add(d->ev_retry, &tv);
}

static void
on_capture(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	int i, n;

	(void)fd;
	(void)what;
	/* bounded work per wake-up keeps timers and signals responsive */
	for (i = 0; i < 64; i++) {
		n = capture_dispatch(d->cap, DISPATCH_BATCH, on_packet, d);
		if (n < 0) {
			capture_lost(d);
			return;
		}
		if (n < DISPATCH_BATCH)
			break;
	}
}

static int
open_live(struct daemon *d, char *err, size_t errlen)
{
	struct capture_opts o;

	o.snaplen = d->cfg->capture.snaplen;
	o.buffer_mb = d->cfg->capture.buffer_mb;
	o.promisc = d->cfg->capture.promisc;
	o.immediate = d->cfg->capture.immediate;
	o.filter = d->cfg->capture.filter;
	if ((d->cap = capture_open_live(d->cfg->interface, &o,
	    decode_dlt_supported, err, errlen)) == NULL)
		return -1;
	d->ev_cap = event_new(d->base, capture_fd(d->cap),
	    EV_READ | EV_PERSIST, on_capture, d);
	event_add(d->ev_cap, NULL);
	return 0;
}

static void
retry_capture(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = { CAPTURE_RETRY_SEC, 0 };
	char err[512];

	(void)fd;
	(void)what;
	if (open_live(d, err, sizeof(err)) != 0) {
		evtimer_add(d->ev_retry, &tv);
		return;
	}
	event_free(d->ev_retry);
	d->ev_retry = NULL;
	d->status.capturing = 1;	/* API status */
	d->status.capture = AIC_CAPTURE_RUNNING;
	log_info("capture on %s resumed", d->cfg->interface);
	if (d->under_systemd)
		sd_notify(0, "STATUS=capturing");
}

/* --- the central database ------------------------------------------- */

/*
 * The outbox and its shipper.  Live, the outbox is a table of the
 * vault's file; aicensusd -r keeps its vault in memory, so its outbox
 * goes to the database file (--db) on its own: what the central
 * database could not take is shipped by the next run.  The key is
 * state_dir/outbox.key (store/outbox.h says why it is not a week key).
 */
static int make_dir(const char *, mode_t);

static int
open_central(struct daemon *d, const char *dbpath, char *err, size_t errlen)
{
	uint8_t key[OUTBOX_KEY_LEN];
	char kp[CONFIG_PATH_MAX + 16];
	struct vaultdb *db;
	int ver;

	if (d->cfg->state_dir[0] == '\0') {
		snprintf(err, errlen, "central: state_dir is needed for the "
		    "outbox key");
		return -1;
	}
	if (make_dir(d->cfg->state_dir, 0700) != 0) {
		snprintf(err, errlen, "cannot create state directory %.200s",
		    d->cfg->state_dir);
		return -1;
	}
	snprintf(kp, sizeof(kp), "%s/outbox.key", d->cfg->state_dir);
	if (outbox_key_load(kp, key, err, errlen) != 0)
		return -1;
	if (d->rfile != NULL) {
		if ((d->obdb = vaultdb_open(dbpath, err, errlen)) == NULL)
			goto fail;
		switch (vaultdb_schema(d->obdb, &ver)) {
		case VDB_EMPTY:
			if (vaultdb_create(d->obdb) == 0)
				break;
			/* FALLTHROUGH */
		default:
			snprintf(err, errlen, "%.200s: not a vault this build can "
			    "keep an outbox in", dbpath);
			goto fail;
		case VDB_CURRENT:
			break;
		}
		/*
		 * A file with sealed weeks is a live daemon's vault: rows of
		 * -r there would replace that sensor's figures centrally.
		 */
		{
			int32_t *weeks = NULL;
			size_t nw = 0;

			if (vaultdb_weeks(d->obdb, &weeks, &nw) != 0 || nw > 0) {
				free(weeks);
				snprintf(err, errlen, "%.200s holds a running "
				    "sensor's vault; give aicensusd -r a "
				    "database of its own (--db) to keep its "
				    "outbox in", dbpath);
				goto fail;
			}
			free(weeks);
		}
		chmod(dbpath, 0600);
		db = d->obdb;
	} else
		db = vault_db(d->st);
	if ((d->ob = outbox_open(db, key, (uint64_t)
	    d->cfg->central.outbox_max_mb << 20, err, errlen)) == NULL)
		goto fail;
	OPENSSL_cleanse(key, sizeof(key));
	if ((d->ship = ship_new(&d->cfg->central, d->ob, err, errlen)) == NULL)
		return -1;
	return 0;
fail:
	OPENSSL_cleanse(key, sizeof(key));
	return -1;
}

/*
 * The API's view of the shipping (status.h): the link state (under the
 * shipper's mutex), the last contact to the minute, and the outbox's
 * fill in tenths, read on the vault's connection: only with an API to
 * show it, never while a flush writes on that connection.
 */
static void
central_status(struct daemon *d)
{
	struct aic_ship_status *cs = &d->status.ship;
	struct ship_stats ss;
	int64_t b, max;

	if (d->ship == NULL)
		return;
	ship_stats(d->ship, &ss);
	cs->link = ss.link;
	cs->last_contact = ss.last_contact - ss.last_contact % 60;
	cs->full_incidents = ss.full_incidents;
	if (d->api == NULL || vault_flush_busy(d->st))
		return;
	max = (int64_t)d->cfg->central.outbox_max_mb << 20;
	if ((b = outbox_bytes(d->ob)) >= 0 && max > 0)
		cs->outbox_fill = b >= max ? 100 : (int)(b * 10 / max) * 10;
}

/* --- signals and timers ----------------------------------------------- */

static void
on_flush_timer(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	int64_t now = now_usec();

	(void)fd;
	(void)what;
	pipeline_tick(d->P, (uint64_t)now);
	if (vault_flush_busy(d->st))
		return;		/* the last one is still being written */
	if (flush_start(d, now / 1000000)) {
		static const struct timeval zero = { 0, 0 };

		evtimer_add(d->ev_step, &zero);
	}
}

/*
 * The shipper ended a batch.  The outbox shares the vault's connection:
 * while a flush writes, the batch is acknowledged by the flush's end
 * (ship_collect pumps) instead.
 */
static void
on_ship(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	char c[64];

	(void)what;
	if (vault_flush_busy(d->st)) {
		while (read(fd, c, sizeof(c)) > 0)
			;
		central_status(d);	/* the link state, at least */
		return;
	}
	ship_pump(d->ship);
	central_status(d);
}

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	/* a capture worker stuck for 10 s: let systemd restart us */
	if (d->W != NULL && !workers_alive(d->W, 10))
		return;
	sd_notify(0, "WATCHDOG=1");
}

static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	log_info("signal %d: storing counts and stopping", (int)sig);
	if (d->under_systemd)
		sd_notify(0, "STOPPING=1\nSTATUS=final flush");
	event_base_loopbreak(d->base);
}

/*
 * An edited key that only a restart applies is named, never its value
 * (central.conninfo may name hosts).  database and interface have their
 * own line above, which knows about -i and --db.
 */
static void
restart_note(void *arg, const struct config_key *k)
{
	(void)arg;
	if (k->section[0] == '\0' && (strcmp(k->name, "database") == 0 ||
	    strcmp(k->name, "interface") == 0))
		return;
	log_warnx("reload: %s%s%s takes effect at restart", k->section,
	    k->section[0] != '\0' ? "." : "", k->name);
}

static void
reload(struct daemon *d)
{
	struct config *cfg;
	struct catalog *cat;
	char msg[1024];
	size_t dropped;

	if (load_config(d->cfg_path, &cfg, &cat, msg, sizeof(msg)) != 0) {
		log_error("reload rejected, keeping the running configuration: "
		    "%s", msg);
		d->status.reload_failures++;	/* API status */
		return;
	}
	if (d->db_override == NULL && strcmp(cfg->database,
	    d->cfg->database) != 0)
		log_warnx("reload: a new database path takes effect at restart");
	if (d->iface == NULL && strcmp(cfg->interface, d->cfg->interface) != 0)
		log_warnx("reload: a new interface takes effect at restart");
	config_restart_changes(d->cfg, cfg, restart_note, NULL);
	/* store what is counted under the old names before re-keying */
	flush(d, now_usec() / 1000000);
	if (set_dims(d, cfg, cat) != 0) {
		log_error("reload rejected: out of memory");
		d->status.reload_failures++;	/* API status */
		catalog_free(cat);
		config_free(cfg);
		return;
	}
	/* the shipper's cells were built on the old grid: all again */
	if (d->ship != NULL)
		ship_forget(d->ship);
	dropped = pipeline_reconfigure(d->P, cfg, cat);
	if (d->W != NULL)
		dropped += workers_reconfigure(d->W, cfg, cat);
	if (period_set_tz(cfg->timezone) != 0)
		log_warnx("reload: unknown time zone %s", cfg->timezone);
	/* keep the capture-time settings of the running instance */
	memcpy(cfg->interface, d->cfg->interface, sizeof(cfg->interface));
	memcpy(cfg->database, d->cfg->database, sizeof(cfg->database));
	memcpy(cfg->release_database, d->cfg->release_database,
	    sizeof(cfg->release_database));
	memcpy(cfg->state_dir, d->cfg->state_dir, sizeof(cfg->state_dir));
	log_set_level(cfg->log_level);
	catalog_free(d->cat);
	config_free(d->cfg);
	d->cfg = cfg;
	d->cat = cat;
	api_set_config(d->api, cfg);	/* token, group size: the new ones */
	d->status.reloads++;
	log_info("configuration reloaded: %zu departments, %zu services%s",
	    cfg->n_depts, catalog_count(cat),
	    dropped ? " (counts of removed departments/services dropped)" : "");
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)sig;
	(void)what;
	if (d->under_systemd)
		sd_notify(0, "RELOADING=1");
	reload(d);
	if (d->under_systemd)
		sd_notify(0, "READY=1");
}

/* --- privileges -------------------------------------------------------- */

static int
keep_net_raw(void)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	data[0].effective = data[0].permitted = 1u << CAP_NET_RAW;
	return (int)syscall(SYS_capset, &hdr, data);
}

static void
chown_path(const char *path, uid_t uid, gid_t gid)
{
	if (chown(path, uid, gid) != 0 && errno != ENOENT)
		log_warn("cannot hand %s to the service user", path);
}

static void
chown_db(const char *db, uid_t uid, gid_t gid)
{
	char p[PATH_MAX + 8];

	chown_path(db, uid, gid);
	snprintf(p, sizeof(p), "%s-wal", db);
	chown_path(p, uid, gid);
	snprintf(p, sizeof(p), "%s-shm", db);
	chown_path(p, uid, gid);
}

/* The week keys in the state directory, for the service user. */
static void
chown_keys(const char *dir, uid_t uid, gid_t gid)
{
	struct dirent *de;
	char p[PATH_MAX + 8];
	DIR *dp;

	if ((dp = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (strncmp(de->d_name, "week-", 5) != 0 &&
		    strcmp(de->d_name, "outbox.key") != 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		chown_path(p, uid, gid);
	}
	closedir(dp);
}

static int
drop_privileges(struct daemon *d, const char *dbpath, const char *relpath,
    char *err, size_t errlen)
{
	struct passwd *pw;

	if (geteuid() != 0 || d->cfg->user[0] == '\0')
		return 0;
	if ((pw = getpwnam(d->cfg->user)) == NULL) {
		snprintf(err, errlen, "user %s does not exist: create it "
		    "(systemd-sysusers) or set user = \"\"", d->cfg->user);
		return -1;
	}
	if (dbpath != NULL)
		chown_db(dbpath, pw->pw_uid, pw->pw_gid);
	chown_db(relpath, pw->pw_uid, pw->pw_gid);
	if (d->cfg->state_dir[0] != '\0' && (d->rfile == NULL ||
	    d->ob != NULL)) {
		chown_path(d->cfg->state_dir, pw->pw_uid, pw->pw_gid);
		chown_keys(d->cfg->state_dir, pw->pw_uid, pw->pw_gid);
	}
	if (prctl(PR_SET_KEEPCAPS, 1) != 0 ||
	    setgroups(1, &pw->pw_gid) != 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
		snprintf(err, errlen, "cannot drop to user %s: %s",
		    d->cfg->user, strerror(errno));
		return -1;
	}
	if (keep_net_raw() != 0)
		log_warn("could not keep CAP_NET_RAW; a lost capture interface "
		    "will need a restart");
	prctl(PR_SET_KEEPCAPS, 0);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	log_info("running as user %s", d->cfg->user);
	return 0;
}

static int
make_dir(const char *path, mode_t mode)
{
	struct stat sb;

	if (stat(path, &sb) == 0)
		return S_ISDIR(sb.st_mode) ? 0 : -1;
	return mkdir(path, mode);
}

/* --- plugins ---------------------------------------------------------- */

/*
 * dlopen and ABI check only: before anything is created, and with -n.
 * An error names the line the plugin is listed on.
 */
static int
open_plugins(struct daemon *d, struct cfgerr *ce)
{
	const char *file;
	char err[1024];
	size_t i;
	int line;

	config_where(d->cfg, "", "plugins", &file);
	for (i = 0; i < d->cfg->n_plugins; i++) {
		line = d->cfg->plugin_lines != NULL ?
		    d->cfg->plugin_lines[i] : 0;
		if (d->nplugins == MAX_PLUGINS) {
			cfgerr_set(ce, file, line, "plugins: too many plugins "
			    "(at most %d) — remove some", MAX_PLUGINS);
			return -1;
		}
		if (plugin_load(d->cfg->plugin_dir, d->cfg->plugins[i],
		    &d->plugins[d->nplugins], err, sizeof(err)) != 0) {
			cfgerr_set(ce, file, line, "%s", err);
			return -1;
		}
		d->nplugins++;
	}
	return 0;
}

/* start what open_plugins() opened, once the pipeline exists */
static int
load_plugins(struct daemon *d, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < d->nplugins; i++) {
		struct loaded_plugin *lp = &d->plugins[i];
		const struct aic_plugin *pl = lp->pl;

		if (pl->tcp_claim || pl->udp) {
			if (pipeline_add_detector(d->P, pl, lp->arg, &lp->state,
			    err, errlen) != 0)
				return -1;
			lp->state = NULL;	/* the pipeline finalises it */
			if (pl->export_row) {
				snprintf(err, errlen, "plugin %s is both a "
				    "detector and an exporter; load two plugins",
				    lp->name);
				return -1;
			}
		} else if (pl->init && pl->init(pipeline_host(d->P), lp->arg,
		    &lp->state) != 0) {
			snprintf(err, errlen, "plugin %s failed to start "
			    "(argument \"%s\")", lp->name, lp->arg);
			return -1;
		}
		log_info("plugin %s %s loaded", pl->name,
		    pl->version ? pl->version : "");
	}
	return 0;
}

/* --- start-up checks ---------------------------------------------------- */

/*
 * What a start needs from the machine, checked before anything is opened
 * or created, by `aicensusd -n` and by every start alike: a check that
 * passes where the start then fails is worth nothing.  Each error names
 * the file and line of the setting (or the option) behind it.
 */
enum run_mode { MODE_LIVE, MODE_FILE, MODE_FINALISE, MODE_SERVE };

static enum run_mode
run_mode(const struct daemon *d)
{
	if (d->serving)
		return MODE_SERVE;
	if (d->finalising)
		return MODE_FINALISE;
	return d->rfile != NULL ? MODE_FILE : MODE_LIVE;
}

/* ce: "file:line: msg" at the setting section.name (its file if unset) */
static void setting_err(const struct config *, const char *, const char *,
    struct cfgerr *, const char *, ...) __attribute__((format(printf, 5, 6)));
static void
setting_err(const struct config *cfg, const char *sec, const char *name,
    struct cfgerr *ce, const char *fmt, ...)
{
	char msg[sizeof(ce->msg)];
	const char *file;
	int line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	line = config_where(cfg, sec, name, &file);
	cfgerr_set(ce, file, line, "%s", msg);
}

/* The interfaces this machine has, for the message about one it has not. */
static void
interface_names(char *buf, size_t len)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	size_t off = 0;
	int n;

	buf[0] = '\0';
	if (ifs == NULL)
		return;
	for (i = ifs; i->if_index != 0 && i->if_name != NULL; i++) {
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
		    i->if_name);
		if (n < 0 || (size_t)n >= len - off) {
			buf[off] = '\0';	/* whole names only */
			break;
		}
		off += (size_t)n;
	}
	if_freenameindex(ifs);
}

static int
check_interface(const struct daemon *d, struct cfgerr *ce)
{
	const char *name = d->iface != NULL ? d->iface : d->cfg->interface;
	char have[256];

	if (name[0] == '\0')
		return 0;	/* main() says "no interface" */
	if (strlen(name) < IF_NAMESIZE && if_nametoindex(name) != 0)
		return 0;
	/* (a sandbox without netlink sockets cannot list them) */
	interface_names(have + 2, sizeof(have) - 3);
	if (have[2] != '\0') {
		have[0] = ' ';
		have[1] = '(';
		strcat(have, ")");
	} else {
		have[0] = '\0';
	}
	if (d->iface != NULL)
		cfgerr_set(ce, NULL, 0, "interface %s (-i) does not exist on "
		    "this machine — use a name `ip link` shows%s", name, have);
	else
		setting_err(d->cfg, "", "interface", ce, "interface \"%s\" "
		    "does not exist on this machine — use a name `ip link` "
		    "shows%s, or give -i IFACE", name, have);
	return -1;
}

/*
 * The directory of a database file (from the setting, or from --db /
 * --release-db when given) must be writable by who: SQLite creates its
 * -wal and -shm files beside the database.
 */
static int
check_db_dir(const struct daemon *d, const struct runas *who,
    const char *key, const char *path, const char *option, struct cfgerr *ce)
{
	char dir[PATH_MAX], why[900];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (runas_dir_writable(who, NULL, dir, why, sizeof(why)) == 0)
		return 0;
	if (option != NULL)
		cfgerr_set(ce, NULL, 0, "%s %s: %s", option, path, why);
	else
		setting_err(d->cfg, "", key, ce, "%s: %s", key, why);
	return -1;
}

static int
start_checks(struct daemon *d, struct cfgerr *ce)
{
	enum run_mode mode = run_mode(d);
	const struct config *cfg = d->cfg;
	struct runas who, self;
	char why[900];
	int opens;

	if (cfg->user[0] != '\0' && getpwnam(cfg->user) == NULL) {
		setting_err(cfg, "", "user", ce, "user \"%s\" does not exist — "
		    "create it (systemd-sysusers, or useradd --system %s) or "
		    "set user = \"\"", cfg->user, cfg->user);
		return -1;
	}
	if (mode == MODE_LIVE && check_interface(d, ce) != 0)
		return -1;
	if (mode == MODE_SERVE)
		return 0;	/* it reads released figures, writes nothing */
	/* a reader's configuration (api.source = central) needs no site */
	if (cfg->central.conninfo[0] != '\0' &&
	    cfg->central.site[0] == '\0') {
		setting_err(cfg, "central", "conninfo", ce, "central: no "
		    "central.site, so nothing can be shipped: a configuration "
		    "with api.source = central and no site is a reader's, for "
		    "aicensusd --serve — add site = \"...\" to ship");
		return -1;
	}
	if (runas_resolve(cfg->user, &who) != 0 ||
	    runas_resolve(NULL, &self) != 0) {
		setting_err(cfg, "", "user", ce, "user \"%s\": cannot read the "
		    "account database: %s", cfg->user, strerror(errno));
		return -1;
	}
	/*
	 * -r keeps its vault and keys in memory: only the release is
	 * written, and, when it ships, the outbox in the database file and
	 * its key in state_dir.
	 */
	opens = mode != MODE_FILE || cfg->central.conninfo[0] != '\0';
	if (opens && check_db_dir(d, &who, "database",
	    d->db_override ? d->db_override : cfg->database,
	    d->db_override ? "--db" : NULL, ce) != 0)
		return -1;
	/* a raw working database others may read is refused at open */
	if (opens && vault_check_file(d->db_override ? d->db_override :
	    cfg->database, why, sizeof(why)) != 0) {
		if (d->db_override)
			cfgerr_set(ce, NULL, 0, "--db: %s", why);
		else
			setting_err(cfg, "", "database", ce, "database: %s",
			    why);
		return -1;
	}
	if (check_db_dir(d, &who, "release_database", d->rel_override ?
	    d->rel_override : cfg->release_database, d->rel_override ?
	    "--release-db" : NULL, ce) != 0)
		return -1;
	if (!opens || cfg->state_dir[0] == '\0')
		return 0;
	/* the daemon makes a missing state directory itself, before dropping */
	if (runas_dir_writable(&who, &self, cfg->state_dir, why,
	    sizeof(why)) != 0) {
		setting_err(cfg, "", "state_dir", ce, "state_dir: %s", why);
		return -1;
	}
	return weekkey_check_state_dir(cfg, ce);
}

/*
 * What a start warns about, with file:line.  checking: for -n, also the
 * warnings the API prints itself when it starts (api_new()).  Returns
 * how many were put in w.
 */
#define MAX_WARNINGS	8	/* more than start_warnings() can give */
/* -n's last line; how: what was left out ("" when nothing) */
static void
print_ok(const struct daemon *d, const char *how)
{
	size_t nd = d->cfg->n_depts, ns = catalog_count(d->cat);

	printf("%s: configuration OK (%zu department%s, %zu service%s%s)\n",
	    d->cfg_path, nd, PLURAL(nd), ns, PLURAL(ns), how);
}

/*
 * The capture interface exists but is down: a live start now stops with
 * an error (libpcap will not activate it).  Not an error of -n, since
 * boot may bring it up before the unit starts.  0 when it cannot be
 * asked (a sandbox without sockets).
 */
static int
interface_down(const char *name)
{
	struct ifreq ifr;
	int fd, down = 0;

	if (name[0] == '\0' || strlen(name) >= IF_NAMESIZE)
		return 0;
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
		down = !(ifr.ifr_flags & IFF_UP);
	close(fd);
	return down;
}

static size_t
start_warnings(const struct daemon *d, int checking, struct cfgerr *w,
    size_t max)
{
	enum run_mode mode = run_mode(d);
	const struct config *cfg = d->cfg;
	struct runas who;
	char why[900];
	size_t n = 0;
	int e;

	/* --serve releases nothing: the figures it serves are released */
	if (mode != MODE_SERVE && cfg->min_group_size == 1)
		setting_err(cfg, "", "min_group_size", &w[n++], "min_group_size "
		    "is 1: figures are released WITHOUT any protection; for "
		    "validation with synthetic traffic only");
	else if (mode != MODE_SERVE && cfg->min_group_size_unsafe)
		setting_err(cfg, "", "min_group_size", &w[n++], "min_group_size "
		    "is %d: groups this small can single people out; use %d or "
		    "more outside tests", cfg->min_group_size,
		    CONFIG_SAFE_GROUP_SIZE);
	if (!checking)
		return n;
	if (mode == MODE_LIVE && d->iface == NULL &&
	    cfg->interface[0] == '\0' && n < max)
		cfgerr_set(&w[n++], cfg->path, 0, "no interface is set: a start "
		    "without -i IFACE (as aicensusd.service makes it) stops "
		    "with an error — set interface");
	if (mode == MODE_LIVE && n < max && interface_down(d->iface != NULL ?
	    d->iface : cfg->interface)) {
		if (d->iface != NULL)
			cfgerr_set(&w[n++], NULL, 0, "interface %s (-i) is "
			    "down: a start now stops with an error — bring it "
			    "up (ip link set %s up) first", d->iface, d->iface);
		else
			setting_err(cfg, "", "interface", &w[n++], "interface "
			    "\"%s\" is down: a start now stops with an error — "
			    "bring it up (ip link set %s up) first",
			    cfg->interface, cfg->interface);
	}
	if ((mode == MODE_LIVE || mode == MODE_SERVE) && cfg->api.enabled) {
		if (!api_listen_loopback(cfg) && n < max)
			setting_err(cfg, "api", "listen", &w[n++], "api.listen "
			    "%s is not loopback: without TLS the token crosses "
			    "the network in clear — listen on 127.0.0.1 and put "
			    "a TLS proxy in front", cfg->api.listen);
		if (runas_resolve(cfg->user, &who) == 0 && (e = runas_access(
		    &who, cfg->api.web_dir, R_OK | X_OK)) != 0 && n < max)
			setting_err(cfg, "api", "web_dir", &w[n++], "api.web_dir "
			    "%s: %s for user %s; the dashboard is not served "
			    "(the API is)", cfg->api.web_dir, strerror(e),
			    who.name);
	}
	/* reports are written by aicensus-report.service, as the same user */
	if (mode == MODE_LIVE && !(cfg->central.site[0] != '\0' &&
	    cfg->api.source != CONFIG_API_CENTRAL) &&
	    runas_resolve(cfg->user, &who) == 0 &&
	    runas_dir_writable(&who, NULL, cfg->report.dir, why,
	    sizeof(why)) != 0 && n < max)
		setting_err(cfg, "report", "dir", &w[n++], "report.dir: %s; "
		    "the weekly report cannot be written", why);
	return n;
}

/* --- aicensusd --serve ------------------------------------------------ */

static void
on_serve_term(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	log_info("signal %d: stopping", (int)sig);
	if (d->under_systemd)
		sd_notify(0, "STOPPING=1");
	event_base_loopbreak(d->base);
}

/*
 * SIGHUP: the token, web_dir and log level of a new configuration; the
 * listener, the source and the central connection stay until restart
 * (api_set_config says so), as does --release-db.
 */
static void
on_serve_hup(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct config *cfg;
	struct catalog *cat;
	char msg[1024];

	(void)sig;
	(void)what;
	if (d->under_systemd)
		sd_notify(0, "RELOADING=1");
	if (load_config(d->cfg_path, &cfg, &cat, msg, sizeof(msg)) != 0) {
		log_error("reload rejected, keeping the running configuration: "
		    "%s", msg);
		d->status.reload_failures++;
	} else {
		if (period_set_tz(cfg->timezone) != 0)
			log_warnx("reload: unknown time zone %s", cfg->timezone);
		memcpy(cfg->release_database, d->cfg->release_database,
		    sizeof(cfg->release_database));
		log_set_level(cfg->log_level);
		api_set_config(d->api, cfg);
		catalog_free(d->cat);
		config_free(d->cfg);
		d->cfg = cfg;
		d->cat = cat;
		d->status.reloads++;
		log_info("configuration reloaded");
	}
	if (d->under_systemd)
		sd_notify(0, "READY=1");
}

/* The configured user, for good and without any capability. */
static int
serve_drop(const struct config *cfg, char *err, size_t errlen)
{
	struct passwd *pw;

	if (geteuid() != 0 || cfg->user[0] == '\0')
		return 0;
	if ((pw = getpwnam(cfg->user)) == NULL) {
		snprintf(err, errlen, "user %s does not exist: create it "
		    "(systemd-sysusers) or set user = \"\"", cfg->user);
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) != 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
		snprintf(err, errlen, "cannot drop to user %s: %s", cfg->user,
		    strerror(errno));
		return -1;
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	log_info("running as user %s", cfg->user);
	return 0;
}

/*
 * aicensusd --serve: the HTTP API and the dashboard, and nothing else —
 * for the organisation's dashboard over the central release (api.source
 * = central, a reader role), or one sensor's release file served apart
 * from its capture.  No capture, vault, week key, outbox, plugin or
 * release stage is opened, no state directory made and no file written:
 * released figures are read, read-only.  SIGTERM and SIGINT stop it,
 * SIGHUP reloads the configuration.  0, or 1 when it cannot start.
 */
static int
serve(struct daemon *d)
{
	struct event *sig[3];
	char err[1024];
	int i;

	if (!d->cfg->api.enabled) {
		fprintf(stderr, "aicensusd: --serve serves the API, but %s has "
		    "no api group (or enabled = false): add api = { listen = "
		    "\"127.0.0.1:8080\"; token_file = \"api.token\"; };\n",
		    d->cfg_path);
		return 1;
	}
	if (period_set_tz(d->cfg->timezone) != 0)
		fatalx("unknown time zone %s", d->cfg->timezone);
	if (d->rel_override != NULL)
		snprintf(d->cfg->release_database,
		    sizeof(d->cfg->release_database), "%s", d->rel_override);
	if ((d->base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	d->status.start_time = (int64_t)time(NULL);
	d->status.capture = AIC_CAPTURE_NONE;
	/* bind now: a port < 1024 needs root */
	if ((d->api = api_new(d->base, d->cfg, NULL, &d->status, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	if (serve_drop(d->cfg, err, sizeof(err)) != 0)
		fatalx("%s", err);
	sig[0] = evsignal_new(d->base, SIGTERM, on_serve_term, d);
	sig[1] = evsignal_new(d->base, SIGINT, on_serve_term, d);
	sig[2] = evsignal_new(d->base, SIGHUP, on_serve_hup, d);
	for (i = 0; i < 3; i++)
		evsignal_add(sig[i], NULL);
	if (d->under_systemd)
		sd_notify(0, "READY=1\nSTATUS=serving the API, no capture");
	log_info("serving the %s release on http://%s/ (no capture)",
	    d->cfg->api.source == CONFIG_API_CENTRAL ? "central" : "local",
	    d->cfg->api.listen);
	event_base_dispatch(d->base);
	for (i = 0; i < 3; i++)
		event_free(sig[i]);
	log_info("stopped");
	return 0;
}

/* --- main ------------------------------------------------------------- */

static void
cleanup(struct daemon *d)
{
	size_t i;

	alerter_free(d->alerts);	/* the pass under way ends first */
	workers_free(d->W);	/* before what their pipelines use */
	if (d->ev_wstat)
		event_free(d->ev_wstat);
	api_free(d->api);
	ship_free(d->ship);
	outbox_close(d->ob);
	vaultdb_close(d->obdb);
	if (d->ev_ship)
		event_free(d->ev_ship);
	for (i = 0; i < d->nplugins; i++)
		plugin_unload(&d->plugins[i]);
	pipeline_free(d->P);
	if (d->ev_cap)
		event_free(d->ev_cap);
	if (d->ev_flush)
		event_free(d->ev_flush);
	if (d->ev_step)
		event_free(d->ev_step);
	if (d->ev_wd)
		event_free(d->ev_wd);
	if (d->ev_retry)
		event_free(d->ev_retry);
	if (d->in != NULL)
		d->cap = NULL;		/* the input's own */
	input_free(d->in);
	imports_close(d->imp);
	capture_close(d->cap);
	vault_close(d->st);
	reldb_close(d->rel);
	agg_free(d->agg);
	agg_free(d->frozen);
	weekkey_close(d->keys);
	free(d->sanct);
	catalog_free(d->cat);
	config_free(d->cfg);
	if (d->base)
		event_base_free(d->base);
}

/* The sensor's own health after an offline read: malformed packets by name. */
static void
log_anomalies(const struct daemon *d)
{
	char buf[2048];
	size_t off = 0;
	int i, n;

	buf[0] = '\0';
	for (i = 0; i < ANOM_N; i++) {
		if (d->status.anomalies[i] == 0)
			continue;
		n = snprintf(buf + off, sizeof(buf) - off, " %s=%llu",
		    anomaly_name((enum anomaly)i),
		    (unsigned long long)d->status.anomalies[i]);
		if (n < 0 || (size_t)n >= sizeof(buf) - off)
			break;
		off += (size_t)n;
	}
	log_info("%s: anomalies:%s", d->rfile, off ? buf : " none");
	/* the tunnels the capture carried, packets per kind */
	off = 0;
	buf[0] = '\0';
	for (i = 0; i < ENCAP_N; i++) {
		if (d->status.encap[i] == 0)
			continue;
		n = snprintf(buf + off, sizeof(buf) - off, " %s=%llu",
		    encap_name((enum encap_kind)i),
		    (unsigned long long)d->status.encap[i]);
		if (n < 0 || (size_t)n >= sizeof(buf) - off)
			break;
		off += (size_t)n;
	}
	if (off > 0)
		log_info("%s: encapsulations:%s", d->rfile, buf);
}

/* --- aicensusd -r: the files and their record ------------------------ */

/* -r's argument and the operands after it: scanned, in time order. */
static int
open_input(struct daemon *d, char *const *more, size_t nmore, char *err,
    size_t errlen)
{
	const struct input_file *a, *b;
	struct timespec t0, t1;
	char **paths;
	size_t i, n, walked;
	uint64_t bytes;

	if ((paths = calloc(nmore + 1, sizeof(*paths))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	paths[0] = (char *)d->rfile;
	for (i = 0; i < nmore; i++)
		paths[i + 1] = more[i];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	d->in = input_scan(paths, nmore + 1, decode_dlt_supported, err,
	    errlen);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	free(paths);
	if (d->in == NULL)
		return -1;
	n = input_count(d->in);
	for (i = walked = 0, bytes = 0; i < n; i++) {
		walked += input_file(d->in, i)->walked;
		bytes += input_file(d->in, i)->size;
	}
	/* what the scan cost: the pcapng ones are read packet by packet */
	log_info("scanned %zu capture files (%.1f MB, %zu of them classic "
	    "pcap walked) in %.3f s", n, (double)bytes / 1e6, walked,
	    (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	a = input_file(d->in, 0);
	b = input_file(d->in, n - 1);
	if (n == 1)
		snprintf(d->rlabel, sizeof(d->rlabel), "%s", a->path);
	else
		snprintf(d->rlabel, sizeof(d->rlabel), "%zu files (%s .. %s)",
		    n, a->name, b->name);
	d->rfile = d->rlabel;
	if (input_skipped(d->in) > 0)
		log_info("%zu capture files without a packet left out",
		    input_skipped(d->in));
	return 0;
}

/*
 * The import record (store/imports.h): refuse files read before, or
 * with --replace remove what they replace; both before a packet is read.
 */
static int
plan_imports(struct daemon *d, const char *relpath, char *err,
    size_t errlen)
{
	struct import_file *f;
	const struct input_file *in;
	size_t i, k, n = input_count(d->in), replaced = 0;
	int rc, flags = d->replace ? IMPORT_REPLACE : 0;

	if (input_file(d->in, 0)->stream) {
		log_warnx("%s is a pipe: it cannot be checked against earlier "
		    "imports before it is read, and is not recorded as one",
		    d->rfile);
		return 0;
	}
	if (d->cfg->central.conninfo[0] != '\0')
		flags |= IMPORT_SAME_ONLY | IMPORT_UNRECORDED;
	if ((d->imp = imports_open(relpath, err, errlen)) == NULL)
		return -1;
	if ((f = calloc(n, sizeof(*f))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* a file without a packet (the one left of an empty run) feeds
	 * nothing and is not recorded */
	for (i = k = 0; i < n; i++) {
		in = input_file(d->in, i);
		if (in->packets == 0)
			continue;
		f[k].path = in->path;
		memcpy(f[k].fingerprint, in->fingerprint,
		    sizeof(f[k].fingerprint));
		f[k].first_usec = in->first_usec;
		f[k].last_usec = in->last_usec;
		f[k].packets = in->packets;
		f[k].size = in->size;
		k++;
	}
	rc = imports_plan(d->imp, f, k, flags, (int64_t)time(NULL),
	    &replaced, err, errlen);
	free(f);
	if (rc == 0 && d->replace && (flags & IMPORT_SAME_ONLY))
		log_info("--replace with a central group: %zu earlier imports "
		    "read and shipped again; the periods they released stay",
		    replaced);
	else if (rc == 0 && d->replace)
		log_info("--replace: %zu earlier imports removed with every "
		    "period they fed; those are released again from %s",
		    replaced, d->rfile);
	return rc;
}

/*
 * The files one after the other, as one input: the flow table, the
 * aggregates and the flush clock go on across a file's end.
 */
static int
run_offline(struct daemon *d)
{
	char err[1024];
	size_t idx = 0;
	int n;

	for (;;) {
		while ((n = capture_dispatch(d->cap, 4096, on_packet, d)) > 0)
			;
		/* a file cut short: what came before counts, on to the next */
		if (n == -1) {
			log_error("%s: read error after %llu packets: %s; the "
			    "counts up to there are stored",
			    input_file(d->in, idx)->path,
			    (unsigned long long)d->packets,
			    capture_error(d->cap));
			d->read_error = 1;
		}
		/* the next file (the input owns and closes each capture) */
		if ((d->cap = input_next(d->in, &idx, err, sizeof(err))) ==
		    NULL) {
			if (err[0] != '\0') {
				log_error("%s; the counts up to there are "
				    "stored", err);
				d->read_error = 1;
			}
			break;
		}
	}
	d->cap = NULL;
	/*
	 * The capture's own clock decides what closed while reading; then
	 * everything still open is released, since the keys of -r live in
	 * memory only and die with the process.
	 */
	flush(d, d->last_sec);
	log_info("%s: %llu of %llu flush points written to the vault, and "
	    "the end", d->rfile, (unsigned long long)d->oc.writes,
	    (unsigned long long)d->oc.points);
	if (!agg_empty(d->agg)) {
		log_error("the final flush failed; counts of this file are NOT "
		    "released");
		return 1;
	}
	release_due(d, 0);
	alerter_wait(d->alerts);	/* the last release's alerts, sent */
	if (d->status.release_failures > 0) {
		log_error("releasing the counts of %s failed", d->rfile);
		return 1;
	}
	log_info("%s: %llu packets read, %llu periods released", d->rfile,
	    (unsigned long long)d->packets,
	    (unsigned long long)d->status.releases);
	if (imports_done(d->imp) != 0)
		log_warnx("the import record could not be marked complete; "
		    "a later run naming these files needs --replace");
	if (d->ship != NULL) {
		int64_t left = ship_drain(d->ship, SHIP_DRAIN_SEC);

		/* no count: how many cells changed is a figure about use */
		if (left != 0)
			log_warnx("central: records not shipped; they wait "
			    "in the outbox of %s for the next run",
			    d->db_override ? d->db_override :
			    d->cfg->database);
		else
			log_info("central: every record shipped");
	}
	log_anomalies(d);
	return d->read_error ? 1 : 0;
}

/*
 * Before the final flush, read what the kernel still holds.  Without
 * immediate mode libpcap hands over a packet block only once the block
 * is full or its timeout (100 ms) has passed, so wait for the fd a
 * little while packets keep coming: a connection made just before the
 * stop is counted too.
 */
static void
drain(struct daemon *d)
{
	struct pollfd pfd;
	int round;

	if (d->cap == NULL)
		return;
	pfd.fd = capture_fd(d->cap);
	pfd.events = POLLIN;
	for (round = 0; round < 20; round++) {
		pfd.revents = 0;
		if (poll(&pfd, 1, 150) <= 0)
			break;
		if (capture_dispatch(d->cap, 65536, on_packet, d) < 0)
			break;
	}
}

static int
run_live(struct daemon *d)
{
	struct event *sig[3];
	struct timeval tv = { d->cfg->flush_interval, 0 };
	uint64_t wd_usec = 0;
	int i;

	sig[0] = evsignal_new(d->base, SIGTERM, on_term, d);
	sig[1] = evsignal_new(d->base, SIGINT, on_term, d);
	sig[2] = evsignal_new(d->base, SIGHUP, on_hup, d);
	for (i = 0; i < 3; i++)
		evsignal_add(sig[i], NULL);
	d->ev_flush = event_new(d->base, -1, EV_PERSIST, on_flush_timer, d);
	event_add(d->ev_flush, &tv);
	d->ev_step = evtimer_new(d->base, on_flush_step, d);
	if (d->ship != NULL) {
		d->ev_ship = event_new(d->base, ship_fd(d->ship),
		    EV_READ | EV_PERSIST, on_ship, d);
		event_add(d->ev_ship, NULL);
	}
	if (d->under_systemd && sd_watchdog_enabled(0, &wd_usec) > 0) {
		struct timeval wtv;

		wd_usec /= 2;
		wtv.tv_sec = (time_t)(wd_usec / 1000000);
		wtv.tv_usec = (suseconds_t)(wd_usec % 1000000);
		d->ev_wd = event_new(d->base, -1, EV_PERSIST, on_watchdog, d);
		event_add(d->ev_wd, &wtv);
	}
	if (d->W != NULL) {
		static const struct timeval sec = { 1, 0 };
		char err[256];

		/* after the privileges are dropped: they inherit CAP_NET_RAW */
		if (workers_start(d->W, err, sizeof(err)) != 0)
			fatalx("%s", err);
		d->ev_wstat = event_new(d->base, -1, EV_PERSIST, on_wstat, d);
		event_add(d->ev_wstat, &sec);
	}
	if (d->under_systemd)
		sd_notify(0, "READY=1\nSTATUS=capturing");
	log_info("capturing on %s; flushing every %d s", d->cfg->interface,
	    d->cfg->flush_interval);
	if (d->W != NULL)
		log_info("%d capture workers (packet fanout)",
		    workers_count(d->W));
	event_base_dispatch(d->base);
	drain(d);
	workers_stop(d->W);	/* each drains its buffer; counts stay */
	flush(d, now_usec() / 1000000);
	for (i = 0; i < 3; i++)
		event_free(sig[i]);
	if (!agg_empty(d->agg)) {
		log_error("final flush failed: counts since the last good flush "
		    "are lost");
		return 1;
	}
	if (d->ship != NULL) {
		int64_t left;

		ship_pump(d->ship);
		if ((left = outbox_count(d->ob)) > 0)
			log_info("central: %lld records wait in the outbox for "
			    "the next start", (long long)left);
	}
	log_info("stopped; all counts stored (%llu packets seen, %llu dropped "
	    "by the kernel, %llu by the interface)",
	    (unsigned long long)d->status.packets,
	    (unsigned long long)d->status.pcap_drops,
	    (unsigned long long)d->status.if_drops);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "interface", required_argument, NULL, 'i' },
		{ "read", required_argument, NULL, 'r' },
		{ "db", required_argument, NULL, 'D' },
		{ "release-db", required_argument, NULL, 'R' },
		{ "replace", no_argument, NULL, 'P' },
		{ "finalise", no_argument, NULL, 'F' },
		{ "finalize", no_argument, NULL, 'F' },
		{ "serve", no_argument, NULL, 'S' },
		{ "check", no_argument, NULL, 'n' },
		{ "file-only", no_argument, NULL, 'O' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct daemon d;
	struct release_target rt;	/* a v1 vault's weeks, at open */
	struct cfgerr ce, warn[MAX_WARNINGS];
	char err[1024];
	const char *dbpath, *relpath;
	size_t i, nwarn;
	int ch, check = 0, file_only = 0, verbose = 0, rc;

	memset(&d, 0, sizeof(d));
	d.cfg_path = AIC_SYSCONFDIR "/aicensus/aicensus.conf";
	/* aggregates are for the reporting group, the key for us alone */
	umask(027);
	while ((ch = getopt_long(argc, argv, "c:i:r:nvhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c': d.cfg_path = optarg; break;
		case 'i': d.iface = optarg; break;
		case 'r': d.rfile = optarg; break;
		case 'D': d.db_override = optarg; break;
		case 'R': d.rel_override = optarg; break;
		case 'P': d.replace = 1; break;
		case 'F': d.finalising = 1; break;
		case 'S': d.serving = 1; break;
		case 'n': check = 1; break;
		case 'O': file_only = 1; break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("aicensusd %s\n", AIC_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	/* -r FILE [FILE|DIR ...]: the operands are more input */
	if ((optind != argc && d.rfile == NULL) || (d.replace && !d.rfile) ||
	    (d.iface && d.rfile) || (file_only && !check) ||
	    (d.finalising && (d.iface || d.rfile || check)) ||
	    (d.serving && (d.iface || d.rfile || d.finalising ||
	    d.db_override))) {
		usage(stderr);
		return 2;
	}
	log_init("aicensusd", 0, LOG_LVL_INFO);
	if (load_config(d.cfg_path, &d.cfg, &d.cat, err, sizeof(err)) != 0) {
		fprintf(stderr, "aicensusd: %s\n", err);
		return 1;
	}
	/* --serve -n: what --serve needs (no state directory) */
	if (check && d.serving && !d.cfg->api.enabled) {
		fprintf(stderr, "aicensusd: --serve needs an enabled api "
		    "group in %s\n", d.cfg_path);
		cleanup(&d);
		return 1;
	}
	/*
	 * -n --file-only: the configuration and the catalog as files, for a
	 * tool that reads them somewhere the daemon does not run (the report
	 * service: no network, no state directory); no warnings either.
	 */
	if (file_only) {
		if (verbose)
			config_print(d.cfg, stdout);
		print_ok(&d, "; files only");
		cleanup(&d);
		return 0;
	}
	/* --serve runs no plugin: they are fed by the release stage */
	memset(&ce, 0, sizeof(ce));
	if ((!d.serving && open_plugins(&d, &ce) != 0) ||
	    start_checks(&d, &ce) != 0) {
		fprintf(stderr, "aicensusd: %s\n",
		    cfgerr_format(&ce, err, sizeof(err)));
		cleanup(&d);
		return 1;
	}
	nwarn = start_warnings(&d, check, warn, MAX_WARNINGS);
	if (check) {
		for (i = 0; i < nwarn; i++)
			fprintf(stderr, "aicensusd: warning: %s\n",
			    cfgerr_format(&warn[i], err, sizeof(err)));
		if (verbose)
			config_print(d.cfg, stdout);
		print_ok(&d, "");
		cleanup(&d);
		return 0;
	}
	d.under_systemd = getenv("NOTIFY_SOCKET") != NULL;
	/*
	 * -r names its files as the operator gave them (a capture's name
	 * may carry an address or a host), so it writes to the operator's
	 * stderr only, never to syslog, whatever `log` says
	 * (docs/PRIVACY.md).
	 */
	log_init("aicensusd", d.rfile == NULL && d.cfg->log_syslog,
	    d.cfg->log_level);
	for (i = 0; i < nwarn; i++)
		log_warnx("%s", cfgerr_format(&warn[i], err, sizeof(err)));
	if (d.serving) {
		rc = serve(&d);
		cleanup(&d);
		return rc;
	}
	if (d.iface)	/* start_checks() saw it exists, so it fits */
		snprintf(d.cfg->interface, sizeof(d.cfg->interface), "%s",
		    d.iface);
	if (d.rfile == NULL && !d.finalising && d.cfg->interface[0] == '\0') {
		fprintf(stderr, "aicensusd: no interface: set interface in %s "
		    "or give -i IFACE (or -r FILE)\n", d.cfg_path);
		cleanup(&d);
		return 1;
	}
	if (period_set_tz(d.cfg->timezone) != 0)
		fatalx("unknown time zone %s", d.cfg->timezone);
	/*
	 * -r: every file read once, before anything is opened: one that
	 * cannot be read, is damaged, or overlaps another stops here.
	 */
	if (d.rfile != NULL && open_input(&d, argv + optind,
	    (size_t)(argc - optind), err, sizeof(err)) != 0) {
		log_error("%s", err);
		cleanup(&d);
		return 1;
	}
	dbpath = d.db_override ? d.db_override : d.cfg->database;
	relpath = d.rel_override ? d.rel_override : d.cfg->release_database;
	if (set_dims(&d, d.cfg, d.cat) != 0)
		fatalx("out of memory");
	/* before anything is opened or created */
	if (d.cfg->central.conninfo[0] != '\0' &&
	    d.cfg->central.site[0] == '\0')
		fatalx("central: no central.site, so nothing can be shipped: a "
		    "configuration with api.source = central and no site is a "
		    "reader's, for aicensusd --serve");
	/*
	 * aicensusd -r keeps its keys and its vault in memory: an old
	 * capture leaves no key and no raw file behind, only released cells.
	 */
	if (d.rfile == NULL && *d.cfg->state_dir &&
	    make_dir(d.cfg->state_dir, 0700) != 0)
		fatal("cannot create state directory %s", d.cfg->state_dir);
	if ((d.keys = weekkey_open(d.rfile ? NULL : d.cfg->state_dir, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((d.rel = reldb_open(relpath, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	/* an import record from before names were dropped loses them */
	if ((rc = imports_migrate(relpath, err, sizeof(err))) < 0)
		fatalx("%s", err);
	if (rc == 1)
		log_info("release database: the capture file names of its "
		    "import record removed (a name may carry an address)");
	/* one publication per figure: the central release's (release.h) */
	if (d.cfg->central.conninfo[0] != '\0' &&
	    reldb_set_central(d.rel, d.cfg->central.site) != 0)
		fatalx("central.site \"%s\" cannot be recorded",
		    d.cfg->central.site);
	/* -r: refused here when read before, before anything is counted */
	if (d.rfile != NULL && plan_imports(&d, relpath, err,
	    sizeof(err)) != 0) {
		log_error("%s", err);
		cleanup(&d);
		return 1;
	}
	/* --finalise starts no plugin: exporters would have no state */
	d.exports.v = d.plugins;
	d.exports.n = d.finalising ? 0 : d.nplugins;
	release_set_cell_cb(d.rel, plugin_export_cell, &d.exports);
	rt.rel = d.rel;
	rt.dims = &d.dims;
	rt.params = &d.params;
	if ((d.st = vault_open(d.rfile ? NULL : dbpath, d.keys, &d.dims,
	    release_target_publish, &rt, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	vault_set_dims(d.st, d.cfg->dept_names, d.cfg->n_depts, d.cat);
	if (!d.finalising && d.cfg->central.conninfo[0] != '\0' &&
	    open_central(&d, dbpath, err, sizeof(err)) != 0)
		fatalx("%s", err);
	if (d.finalising) {
		/* load_plugins needs the pipeline: exporters are not run here */
		release_due(&d, 0);
		rc = d.status.release_failures > 0;
		log_info("finalised: %llu periods released, every week key "
		    "destroyed", (unsigned long long)d.status.releases);
		cleanup(&d);
		return rc;
	}
	/* what closed while the daemon was down, before anything new */
	if (d.rfile == NULL)
		release_due(&d, (int64_t)time(NULL));
	d.agg = agg_new((size_t)d.cfg->limits.max_pending_cells,
	    (size_t)d.cfg->limits.memory_mb * 1024 * 1024 / 2);
	d.frozen = agg_new((size_t)d.cfg->limits.max_pending_cells,
	    (size_t)d.cfg->limits.memory_mb * 1024 * 1024 / 2);
	if (d.agg == NULL || d.frozen == NULL)
		fatalx("out of memory");
	agg_pair(d.agg, d.frozen);	/* the limits hold for both together */
	/*
	 * With capture workers this pipeline follows no packet (each worker
	 * has its own): it only records the drops and hosts exporters.
	 */
	if ((d.P = d.rfile == NULL && d.cfg->capture.workers > 1 ?
	    pipeline_new_worker(d.cfg, d.cat, d.agg, d.keys, NULL, 1024, err,
	    sizeof(err)) : pipeline_new(d.cfg, d.cat, d.agg, d.keys, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	pipeline_encap_counts(d.P, d.status.encap);	/* API status */
	if (load_plugins(&d, err, sizeof(err)) != 0)
		fatalx("%s", err);
	if ((d.base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	if (d.rfile) {
		if ((d.cap = input_next(d.in, NULL, err, sizeof(err))) == NULL)
			fatalx("%s", err);
	} else if (d.cfg->capture.workers > 1) {
		if (open_workers(&d, err, sizeof(err)) != 0)
			fatalx("%s", err);
	} else if (open_live(&d, err, sizeof(err)) != 0) {
		fatalx("%s", err);
	}
	/* API: bind now (a port < 1024 needs root), serve in the loop */
	d.status.start_time = (int64_t)time(NULL);
	d.status.capturing = d.rfile == NULL;
	d.status.workers = d.rfile != NULL ? 0 : d.W != NULL ?
	    workers_count(d.W) : 1;
	d.status.capture = d.rfile ? AIC_CAPTURE_OFFLINE : AIC_CAPTURE_RUNNING;
	if (d.rfile == NULL && d.cfg->api.enabled && (d.api = api_new(d.base,
	    d.cfg, relpath, &d.status, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	/* what a past run left in the outbox shows from the start */
	central_status(&d);
	if (drop_privileges(&d, d.rfile && d.obdb == NULL ? NULL : dbpath,
	    relpath, err,
	    sizeof(err)) != 0)
		fatalx("%s", err);
	/* as the service user: the alert thread writes the release file */
	if ((d.alerts = alerter_new(relpath, (int64_t)time(NULL))) == NULL)
		fatalx("out of memory");
	rc = d.rfile ? run_offline(&d) : run_live(&d);
	cleanup(&d);
	return rc;
}
