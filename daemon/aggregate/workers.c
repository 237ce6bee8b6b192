/*
 * workers.c - capture threads, one pipeline each, merged at flush.
 *
 * Locking: a worker holds its mutex while it hands one batch of packets
 * to its pipeline (and while it replaces a lost handle); the main thread
 * takes it to swap the worker's aggregates out, read the handle's drop
 * counters and re-key the pipeline on reload.  Nothing else is shared
 * but the DNS answer cache (striped locks of its own) and the week keys
 * (their own lock).  The counters the API shows between flushes are
 * published per batch through relaxed atomics.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aggregate/agg.h"
#include "aggregate/pipeline.h"
#include "aggregate/workers.h"
#include "capture/capture.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/encap.h"
#include "common/log.h"
#include "decode/decode.h"
#include "detect/dnscache.h"

#define BATCH		256	/* packets per hold of the mutex */
#define BATCHES		64	/* per wake-up, as the main loop does */
#define POLL_MSEC	100	/* a stop request is seen this soon */
#define RETRY_SEC	5	/* a lost interface is reopened this often */
#define DRAIN_ROUNDS	20	/* at stop: 150 ms waits while packets come */

struct worker {
	struct workers	*W;
	int		 id;
	pthread_t	 th;
	int		 started;
	pthread_mutex_t	 mu;
	struct capture	*cap;		/* NULL while the interface is lost */
	int		 dlt;
	struct agg	*agg;		/* the pipeline counts here */
	struct agg	*spare;		/* swapped in at collect */
	struct pipeline	*P;
	/* handle drop counters: earlier handles' and the last reported */
	uint64_t	 drop_base, ifdrop_base, drop_seen, ifdrop_seen;
	uint64_t	 drop_rep, ifdrop_rep;
	uint64_t	 packets;	/* the thread's own */
	int64_t		 last_packet;
	int64_t		 last_tick;
	_Atomic uint64_t pub_packets;
	_Atomic int64_t	 pub_last;
	uint64_t	 encap[ENCAP_N];	/* the pipeline counts here */
	_Atomic uint64_t pub_encap[ENCAP_N];
	_Atomic int64_t	 beat;		/* monotonic second of its last round */
	atomic_int	 down;
};

struct workers {
	struct worker	*w;
	int		 n;
	int		 group;		/* fanout group id; -1 before the first */
	struct dnscache	*dns;
	char		*iface;
	char		*filter;
	struct capture_opts opts;
	int		 tick_sec;
	atomic_int	 stop;
};

static int64_t
real_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct capture *
open_handle(struct workers *W, char *err, size_t errlen)
{
	struct capture *c;

	if ((c = capture_open_live(W->iface, &W->opts, decode_dlt_supported,
	    err, errlen)) == NULL)
		return NULL;
	if (capture_join_fanout(c, &W->group, err, errlen) != 0) {
		capture_close(c);
		return NULL;
	}
	return c;
}

static void
on_packet(void *arg, uint64_t ts, const uint8_t *p, size_t caplen,
    size_t wirelen)
{
	struct worker *w = arg;

	w->packets++;
	w->last_packet = (int64_t)(ts / 1000000);
	pipeline_packet(w->P, w->dlt, ts, p, caplen, wirelen);
}

/* The handle went away: keep its counters, close it; under w->mu. */
static void
lose_handle(struct worker *w)
{
	uint64_t r, d, i;

	log_warnx("capture worker %d on %s failed: %s; retrying every %d s",
	    w->id, w->W->iface, capture_error(w->cap), RETRY_SEC);
	if (capture_stats(w->cap, &r, &d, &i) == 0) {
		w->drop_seen = d;
		w->ifdrop_seen = i;
	}
	w->drop_base += w->drop_seen;
	w->ifdrop_base += w->ifdrop_seen;
	w->drop_seen = w->ifdrop_seen = 0;
	capture_close(w->cap);
	w->cap = NULL;
	atomic_store(&w->down, 1);
}

/* Batches until the kernel has no more (bounded); -1 when lost. */
static int
read_batches(struct worker *w, int rounds)
{
	int i, e, n = 0;

	for (i = 0; i < rounds; i++) {
		pthread_mutex_lock(&w->mu);
		n = capture_dispatch(w->cap, BATCH, on_packet, w);
		if (n < 0)
			lose_handle(w);
		pipeline_settle(w->P, 0);
		atomic_store_explicit(&w->pub_packets, w->packets,
		    memory_order_relaxed);
		atomic_store_explicit(&w->pub_last, w->last_packet,
		    memory_order_relaxed);
		for (e = 0; e < ENCAP_N; e++)
			atomic_store_explicit(&w->pub_encap[e], w->encap[e],
			    memory_order_relaxed);
		pthread_mutex_unlock(&w->mu);
		if (n < BATCH)
			break;
	}
	return n < 0 ? -1 : 0;
}

static void
tick(struct worker *w)
{
	int64_t now = mono_sec();

	if (now - w->last_tick < w->W->tick_sec)
		return;
	w->last_tick = now;
	pthread_mutex_lock(&w->mu);
	pipeline_tick(w->P, (uint64_t)real_usec());
	pthread_mutex_unlock(&w->mu);
}

static void
retry(struct worker *w, int64_t *next)
{
	char err[512];
	struct capture *c;

	if (mono_sec() < *next) {
		poll(NULL, 0, POLL_MSEC);
		return;
	}
	*next = mono_sec() + RETRY_SEC;
	if ((c = open_handle(w->W, err, sizeof(err))) == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->cap = c;
	w->dlt = capture_dlt(c);
	pthread_mutex_unlock(&w->mu);
	atomic_store(&w->down, 0);
	log_info("capture worker %d on %s resumed", w->id, w->W->iface);
}

/*
 * Before the end, what the kernel still holds: without immediate mode a
 * block is handed over once full or 100 ms old, so wait for the fd a
 * little while packets keep coming (as the single-threaded drain does).
 */
static void
drain(struct worker *w)
{
	struct pollfd pfd;
	int round;

	for (round = 0; round < DRAIN_ROUNDS && w->cap != NULL; round++) {
		pfd.fd = capture_fd(w->cap);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 150) <= 0)
			break;
		if (read_batches(w, 1 << 20) < 0)
			break;
	}
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	struct pollfd pfd;
	int64_t next_retry = 0;

	w->last_tick = mono_sec();
	while (!atomic_load(&w->W->stop)) {
		atomic_store_explicit(&w->beat, mono_sec(),
		    memory_order_relaxed);
		if (w->cap == NULL) {
			retry(w, &next_retry);
			continue;
		}
		pfd.fd = capture_fd(w->cap);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, POLL_MSEC) < 0 && errno != EINTR) {
			pthread_mutex_lock(&w->mu);
			lose_handle(w);
			pthread_mutex_unlock(&w->mu);
			continue;
		}
		/* non-blocking handle: an empty read costs one syscall */
		if (read_batches(w, BATCHES) < 0)
			next_retry = mono_sec() + RETRY_SEC;
		tick(w);
	}
	drain(w);
	return NULL;
}

struct workers *
workers_open(const struct config *cfg, const struct catalog *cat,
    struct weekkey *dk, const char *iface, const struct capture_opts *o,
    int n, char *err, size_t errlen)
{
	struct workers *W;
	size_t flows, cells, mem;
	uint64_t seed;
	int i;

	if (n < 2 || n > 64) {
		snprintf(err, errlen, "capture.workers: %d is not 2..64", n);
		return NULL;
	}
	if ((W = calloc(1, sizeof(*W))) == NULL ||
	    (W->w = calloc((size_t)n, sizeof(*W->w))) == NULL ||
	    (W->iface = strdup(iface)) == NULL ||
	    (W->filter = strdup(o->filter ? o->filter : "")) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	W->opts = *o;
	W->opts.filter = W->filter;
	W->tick_sec = cfg->flush_interval;
	/* the first handle gets a unique id from the kernel */
	W->group = -1;
	if (getentropy(&seed, sizeof(seed)) != 0)
		seed = (uint64_t)(uintptr_t)W ^ 0x9e3779b97f4a7c15ULL;
	/* the configured bound, once for all workers */
	if ((W->dns = dnscache_new_shared((size_t)cfg->limits.dns_cache_entries,
	    seed)) == NULL) {
		snprintf(err, errlen, "out of memory (DNS answer cache)");
		goto fail;
	}
	/*
	 * The limits are the sensor's: shared out, so N workers hold what
	 * one did.  The flow hash spreads connections evenly.
	 */
	flows = (size_t)cfg->limits.max_flows / (size_t)n;
	if (flows < 1024)
		flows = 1024;
	cells = (size_t)cfg->limits.max_pending_cells / (size_t)n;
	mem = (size_t)cfg->limits.memory_mb * 1024 * 1024 / 2 / (size_t)n;
	for (i = 0; i < n; i++) {
		struct worker *w = &W->w[i];

		w->W = W;
		w->id = i;
		pthread_mutex_init(&w->mu, NULL);
		W->n++;
		if ((w->agg = agg_new(cells, mem)) == NULL ||
		    (w->spare = agg_new(cells, mem)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		if ((w->P = pipeline_new_worker(cfg, cat, w->agg, dk, W->dns,
		    flows, err, errlen)) == NULL)
			goto fail;
		pipeline_encap_counts(w->P, w->encap);
		if ((w->cap = open_handle(W, err, errlen)) == NULL)
			goto fail;
		w->dlt = capture_dlt(w->cap);
	}
	return W;
fail:
	workers_free(W);
	return NULL;
}

int
workers_start(struct workers *W, char *err, size_t errlen)
{
	sigset_t all, old;
	int i, rc = 0;

	/* signals are the main loop's: workers block them all */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < W->n; i++) {
		atomic_store(&W->w[i].beat, mono_sec());
		if ((rc = pthread_create(&W->w[i].th, NULL, run,
		    &W->w[i])) != 0) {
			snprintf(err, errlen, "cannot start capture worker "
			    "%d: %s", i, strerror(rc));
			break;
		}
		W->w[i].started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		workers_stop(W);
		return -1;
	}
	return 0;
}

void
workers_stop(struct workers *W)
{
	int i;

	if (W == NULL)
		return;
	atomic_store(&W->stop, 1);
	for (i = 0; i < W->n; i++)
		if (W->w[i].started) {
			pthread_join(W->w[i].th, NULL);
			W->w[i].started = 0;
		}
	/* every answer any worker read is in the cache now */
	for (i = 0; i < W->n; i++)
		if (W->w[i].P != NULL)
			pipeline_settle(W->w[i].P, 1);
}

void
workers_free(struct workers *W)
{
	int i;

	if (W == NULL)
		return;
	workers_stop(W);
	for (i = 0; W->w != NULL && i < W->n; i++) {
		struct worker *w = &W->w[i];

		pipeline_free(w->P);
		capture_close(w->cap);
		agg_free(w->agg);
		agg_free(w->spare);
		pthread_mutex_destroy(&w->mu);
	}
	dnscache_free(W->dns);
	free(W->w);
	free(W->iface);
	free(W->filter);
	free(W);
}

void
workers_collect(struct workers *W, struct agg *into, struct workers_stats *st)
{
	uint64_t r, d, i;
	int k;

	memset(st, 0, sizeof(*st));
	for (k = 0; k < W->n; k++) {
		struct worker *w = &W->w[k];
		uint64_t dt, it;

		pthread_mutex_lock(&w->mu);
		/* O(1): the worker goes on counting into an empty table */
		agg_swap(w->agg, w->spare);
		if (w->cap != NULL && capture_stats(w->cap, &r, &d, &i) == 0) {
			w->drop_seen = d;
			w->ifdrop_seen = i;
		}
		dt = w->drop_base + w->drop_seen;
		it = w->ifdrop_base + w->ifdrop_seen;
		st->drop += dt;
		st->ifdrop += it;
		st->drop_new += dt - w->drop_rep;
		st->ifdrop_new += it - w->ifdrop_rep;
		w->drop_rep = dt;
		w->ifdrop_rep = it;
		pthread_mutex_unlock(&w->mu);
		/* the merge, outside the lock */
		agg_merge(into, w->spare);
	}
	workers_status(W, st);
}

void
workers_status(const struct workers *W, struct workers_stats *st)
{
	int k;

	st->packets = 0;
	st->last_packet = 0;
	st->down = 0;
	memset(st->encap, 0, sizeof(st->encap));
	for (k = 0; k < W->n; k++) {
		const struct worker *w = &W->w[k];
		int64_t t = atomic_load_explicit(&w->pub_last,
		    memory_order_relaxed);
		int e;

		for (e = 0; e < ENCAP_N; e++)
			st->encap[e] += atomic_load_explicit(&w->pub_encap[e],
			    memory_order_relaxed);

		st->packets += atomic_load_explicit(&w->pub_packets,
		    memory_order_relaxed);
		if (t > st->last_packet)
			st->last_packet = t;
		st->down += atomic_load(&w->down);
	}
}

size_t
workers_reconfigure(struct workers *W, const struct config *cfg,
    const struct catalog *cat)
{
	size_t dropped = 0;
	int k;

	for (k = 0; k < W->n; k++) {
		struct worker *w = &W->w[k];

		pthread_mutex_lock(&w->mu);
		dropped += pipeline_reconfigure(w->P, cfg, cat);
		pthread_mutex_unlock(&w->mu);
	}
	return dropped;
}

int
workers_alive(const struct workers *W, int max_age_sec)
{
	int64_t now = mono_sec();
	int k;

	for (k = 0; k < W->n; k++)
		if (now - atomic_load_explicit(&W->w[k].beat,
		    memory_order_relaxed) > max_age_sec)
			return 0;
	return 1;
}

int
workers_count(const struct workers *W)
{
	return W->n;
}
