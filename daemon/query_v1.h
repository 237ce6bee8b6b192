/*
 * query_v1.h - TEMPORARY: the v1 query (raw aggregates, suppression),
 * kept ONLY so that the v1 report.c, which another engineer is
 * rewriting over released.h (branch h-report), still compiles on this
 * branch.  report*.o are built with -DAIC_QUERY_V1, which makes query.h
 * this header; its symbols are renamed query_v1_*.  Delete this header,
 * query_v1.c and the Makefile line when h-report is merged.  No output
 * of this branch uses it.
 *
 * (v1 text:) reading the aggregates back, with the privacy rule applied.
 *
 * Every output of aicensus (the CLI, the API, reports) gets its numbers
 * from query_run(), and query_run() is where the minimum group size is
 * enforced: a result cell whose distinct devices are below it is
 * suppressed whole (all its metrics), never shown as zero.
 *
 * Totals over several departments or services are sums of the finer
 * (period, department, service) cells that are themselves published:
 * a suppressed cell is left out of every total (and counted in
 * `withheld`), or subtracting the shown parts from a total would give
 * it away.
 *
 * Distinct devices: a device belongs to one department (its address
 * decides), so devices add up across departments; across services and
 * days the keyed sketches are merged.  Sketches of different ISO weeks
 * use different keys and cannot be merged: over a range spanning weeks
 * the figure is the largest weekly one, a lower bound, and is flagged
 * as such (devices_exact = 0).
 */
#ifndef AIC_QUERY_V1_H
#define AIC_QUERY_V1_H

#define q_metric_names		query_v1_metric_names
#define query_interval_name	query_v1_interval_name
#define query_period_label	query_v1_period_label
#define query_db_min_group	query_v1_db_min_group
#define query_parse_range	query_v1_parse_range
#define query_run		query_v1_run
#define query_free		query_v1_free

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

enum q_interval { QI_NONE, QI_HOUR, QI_DAY, QI_WEEK };

enum q_metric {
	QM_TLS, QM_QUIC, QM_ECH, QM_DNS, QM_NXDOMAIN, QM_UP, QM_DOWN,
	QM_DEVHOURS, QM_N
};

extern const char *const q_metric_names[QM_N];

/* End of time for an open range: 10000-01-01, what calendars can show. */
#define QUERY_END_OF_TIME	253402300800LL

struct query {
	int64_t		 from, to;	/* UTC epoch seconds, [from, to) */
	int		 by_dept, by_svc, by_cat;
	enum q_interval	 interval;
	int		 min_group;	/* 0: the database's own */
};

struct qrow {
	char		 dept[64];	/* "" when not grouped by it */
	char		 svc[48];
	char		 svc_name[96];
	char		 category[16];
	int64_t		 period;	/* hour epoch, YYYYMMDD, YYYYWW or 0 */
	uint64_t	 m[QM_N];
	uint64_t	 devices;
	int		 devices_exact;
	int		 suppressed;
	/* rolled-up rows: suppressed finer cells left out of the totals */
	unsigned	 withheld;
};

struct qresult {
	struct qrow	*rows;
	size_t		 n;
	int		 min_group;
	size_t		 suppressed;
};

int	query_run(sqlite3 *db, const struct query *q, struct qresult *out,
	    char *err, size_t errlen);
void	query_free(struct qresult *);
/* Minimum group size recorded by the daemon (5 when absent). */
int	query_db_min_group(sqlite3 *db);
/* "2026-11-16", "2026-W47" or "2026-Q4" -> [from, to); -1 if malformed. */
int	query_parse_range(const char *text, int64_t *from, int64_t *to);
const char *query_interval_name(enum q_interval);
void	query_period_label(enum q_interval, int64_t period, char *buf,
	    size_t n);

#endif /* AIC_QUERY_V1_H */
