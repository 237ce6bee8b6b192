/*
 * workers.h - live capture on several cores (capture.workers > 1).
 *
 * N libpcap handles on the interface, joined in one AF_PACKET fanout
 * group hashed by flow, so both directions of a connection reach the
 * same handle; each handle has a thread with a pipeline of its own
 * (flow table, detectors, QUIC state, aggregates).  The DNS answer cache
 * is shared (an answer one worker saw attributes an ECH connection that
 * another follows).  The main thread keeps its event loop for flushes,
 * the API and the release stage: at each flush it takes every worker's
 * aggregates (a swap under the worker's mutex, which a worker holds only
 * per batch of packets) and merges them into the live side it writes.
 * Counts equal one thread's on the same traffic: counters add up and
 * device sketches unite.
 *
 * Threads start after the privileges are dropped (they inherit the
 * CAP_NET_RAW the main thread kept, to reopen a lost interface).
 * aicensusd -r never uses workers.
 */
#ifndef AIC_WORKERS_H
#define AIC_WORKERS_H

#include <stddef.h>
#include <stdint.h>

#include "common/encap.h"

struct agg;
struct catalog;
struct config;
struct capture_opts;
struct weekkey;
struct workers;

/* Counters for the API status, summed over the workers. */
struct workers_stats {
	uint64_t	 packets;
	int64_t		 last_packet;	/* newest packet time, seconds */
	uint64_t	 drop, ifdrop;	/* since start, over all handles */
	uint64_t	 drop_new, ifdrop_new;	/* since the last collect */
	int		 down;		/* workers whose interface is lost */
	uint64_t	 encap[ENCAP_N];	/* packets per tunnel kind */
};

/*
 * Open n handles on iface (capture set-up errors are start-up errors)
 * and make each worker's pipeline; no thread runs yet.  The limits of
 * the configuration (flows, pending cells, memory) are shared out.
 */
struct workers *workers_open(const struct config *, const struct catalog *,
	    struct weekkey *, const char *iface, const struct capture_opts *,
	    int n, char *err, size_t errlen);
int	 workers_start(struct workers *, char *err, size_t errlen);
/*
 * Stop: every worker reads what its kernel buffer still holds (packets
 * keep coming for a moment after a stop), then ends; joined on return.
 * What they counted stays for workers_collect: nothing is lost.
 */
void	 workers_stop(struct workers *);
void	 workers_free(struct workers *);

/* Flush: every worker's aggregates merged into into, and the drops. */
void	 workers_collect(struct workers *, struct agg *into,
	    struct workers_stats *);
/* Counters only, for the API between flushes (no lock taken). */
void	 workers_status(const struct workers *, struct workers_stats *);
/* Reload: each worker's pipeline re-keyed; cells dropped (summed). */
size_t	 workers_reconfigure(struct workers *, const struct config *,
	    const struct catalog *);
/* For the watchdog: 0 when a worker has not looped for max_age_sec. */
int	 workers_alive(const struct workers *, int max_age_sec);
int	 workers_count(const struct workers *);

#endif /* AIC_WORKERS_H */
