/*
 * pipeline.h - one packet's way through the sensor:
 * decode -> flow -> detectors -> attribute -> aggregate.
 *
 * The pipeline owns the flow table, the detector instances and the DNS
 * answer cache; it feeds the aggregates it is given.  It never writes
 * anything anywhere itself: the store does that, from the aggregates.
 * An optional inspect callback sees each detection with its name,
 * service and department (never an address), for `aicensus inspect`.
 */
#ifndef AIC_PIPELINE_H
#define AIC_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "aicensus_plugin.h"

struct agg;
struct catalog;
struct config;
struct weekkey;

struct detection {
	uint64_t	 ts_usec;
	const char	*detector;	/* "dns", "tls", "quic", plugin name */
	const char	*what;		/* "query", "response", "sni", ... */
	const char	*name;		/* NUL-terminated, may hold odd bytes */
	size_t		 name_len;
	const char	*service;	/* catalog id or NULL */
	const char	*department;	/* name, "unassigned" or NULL (ignored) */
	const char	*outcome;	/* "counted", "duplicate", "ech", ... */
};

typedef void (*inspect_cb)(void *arg, const struct detection *);

struct pipeline;

struct pipeline *pipeline_new(const struct config *, const struct catalog *,
	    struct agg *, struct weekkey *, char *err, size_t errlen);
void	 pipeline_free(struct pipeline *);

/*
 * Extra detectors (external plugins), after the built-in ones.  The
 * pipeline initialises the plugin with its host and owns the instance,
 * which *state receives (an exporter side shares it).
 */
int	 pipeline_add_detector(struct pipeline *, const struct aic_plugin *,
	    const char *arg, void **state, char *err, size_t errlen);
/* The host interface, for exporter-only plugins' init. */
const struct aic_host *pipeline_host(const struct pipeline *);

/*
 * A new configuration and catalog (SIGHUP).  Counts already in the
 * aggregates and the connections being followed are re-keyed by
 * department name and service id; those whose department or service
 * left the configuration are dropped, and the number is returned.
 */
size_t	 pipeline_reconfigure(struct pipeline *, const struct config *,
	    const struct catalog *);

void	 pipeline_set_inspect(struct pipeline *, inspect_cb, void *arg);
/*
 * Where packets are counted per encapsulation kind (ENCAP_N counters of
 * common/encap.h, each packet once per kind it carried): the caller's
 * array, e.g. the daemon's status, or NULL for the pipeline's own.
 */
void	 pipeline_encap_counts(struct pipeline *, uint64_t *counts);
void	 pipeline_packet(struct pipeline *, int dlt, uint64_t ts_usec,
	    const uint8_t *p, size_t caplen, size_t wirelen);
/* Capture statistics, added to the hour of ts. */
void	 pipeline_drops(struct pipeline *, uint64_t ts_usec, uint64_t drops,
	    uint64_t ifdrops);
/* Housekeeping: expire idle flows. */
void	 pipeline_tick(struct pipeline *, uint64_t now_usec);
size_t	 pipeline_mem(const struct pipeline *);

#endif /* AIC_PIPELINE_H */
