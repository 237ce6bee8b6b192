/*
 * report_model.h - internal to the report: the figures of one report,
 * read once by report.c from released cells (released.h), and the
 * figures derived from them (report_model.c).  Renderers
 * (report_render.h) only read it: a renderer never reads a database and
 * never calls back into report.c, so the report's modules depend one
 * way, report -> renderers -> report_fmt -> report_model.
 */
#ifndef AIC_REPORT_MODEL_H
#define AIC_REPORT_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "out/report/i18n.h"
#include "release/released.h"
#include "store/central_read.h"

/*
 * A device figure over the period's released weeks.  Devices are counted
 * under a key that is destroyed at the end of its week, so a device in
 * two weeks is two "device-weeks": over a quarter only the sum
 * (device-weeks), the average per released week and the busiest week
 * can be said, never distinct devices.  For a week report max == sum ==
 * the released cell.  0 is a released zero: none, or too few devices to
 * show (the two cannot be told apart, by design).
 */
struct rfig {
	uint64_t	 max;		/* the busiest released week */
	uint64_t	 sum;		/* device-weeks */
	double		 avg;		/* sum / released weeks */
};

#define RFIG_ZERO(f)	((f)->sum == 0)

/*
 * One line of a table.  m[] are released cells' measures: for a week the
 * cell itself, for a quarter the sum of the weekly cells (derived).
 * shadow and svc_conns are sums of released service cells (connections
 * to unsanctioned services, and to all services): the shadow share is
 * their ratio, so it never exceeds 100 % whatever the noise did.
 */
struct rrow {
	struct rfig	 dev;
	uint64_t	 m[RM_N];
	uint64_t	 shadow;
	uint64_t	 svc_conns;
};

static inline uint64_t
rrow_conns(const struct rrow *r)
{
	return r->m[RM_CONNS];
}

struct rdept {
	char		 name[64];
	int		 unassigned;
};

enum rjur { RJ_EU, RJ_US, RJ_CN, RJ_OTHER, RJ_N };

struct rsvc {
	char		 sid[48];
	char		 name[96];
	char		 vendor[96];
	char		 category[16];
	char		 jurisdiction[8];
	enum rjur	 jur;
	int		 sanctioned;
	int32_t		 first_week;	/* first released week used; 0 */
};

/* One period: a week, a quarter, or the weeks of a trend chart. */
struct rperiod {
	char		 label[24];	/* "2026-W47", "2026-Q4" */
	int32_t		*weeks;		/* YYYYWW, ascending */
	size_t		 nweeks;
	unsigned char	*released;	/* [nweeks]: week is released */
	int64_t		 from, to;	/* [from, to) */
	int32_t		 first_day;	/* YYYYMMDD */
	int32_t		 last_day;	/* YYYYMMDD, inclusive */
	unsigned	 weeks_with_data;	/* released weeks */
	unsigned	 weeks_incomplete; /* released before the end */
	unsigned	 coverage_hours;	/* of the released weeks */
	unsigned	 hours_total;		/* of the released weeks */
	int		 min_group;	/* largest of the weeks' */
	struct rrow	 org;		/* ("*", "*") */
	struct rrow	*dept;		/* [ndept]: (d, "*") */
	struct rrow	*svc;		/* [nsvc]: ("*", s) */
	struct rrow	*cell;		/* [ndept * nsvc]: (d, s) */
	struct rrow	*cat;		/* [ncat]: ("*", "cat:c") */
	struct rrow	 jur[RJ_N];	/* sums of service cells */
	struct rrow	*week;		/* [nweeks]: ("*", "*") by week */
};

struct rblind {
	unsigned	 hours;		/* hours with sensor data */
	unsigned	 hours_total;	/* hours in the released weeks */
	unsigned	 days;		/* released days summed below */
	uint64_t	 packets, bytes, pcap_drops, if_drops;
	uint64_t	 ech_conns;	/* attributed: the org cell's */
	uint64_t	 ech_unattributed, nosni_conns;
	uint64_t	 doh_conns, ignored, lost, parse_failures, late;
	uint64_t	 unreadable;	/* ClientHellos not readable */
	uint64_t	 conflicts;	/* overlapping copies disagreed */
	/*
	 * A week report of a released week: its days with hours without
	 * sensor data (the sensor was not running, or saw no traffic),
	 * from the released days' coverage; a day not released at all is
	 * missing whole.
	 */
	struct rgap {
		int32_t	 day;		/* YYYYMMDD */
		unsigned missing;	/* hours */
		unsigned total;		/* hours of the day */
	}		 gap[7];
	size_t		 ngap;
};

/* A service first in use (published devices > 0) in the period. */
struct rnew {
	size_t		 dept;		/* -1: the organisation */
	size_t		 svc;
	int32_t		 week;		/* YYYYWW */
};

struct report {
	enum lang	 lang;
	int		 quarter;	/* a quarterly roll-up */
	int		 quarter_no;	/* its quarter, 1..4 */
	int		 retention_days;	/* stated when > 0 */
	int		 min_group;	/* the released periods' */
	char		 tz[64];
	int64_t		 generated;
	/*
	 * The period is not over when the report is written (the current
	 * week, released early because the sensor stopped, or the current
	 * quarter): the header says so.
	 */
	int		 unfinished;

	struct rdept	*dept;
	size_t		 ndept;
	struct rsvc	*svc;
	size_t		 nsvc;
	char		(*cat)[16];
	size_t		 ncat;

	struct rperiod	 cur, prev;
	struct rperiod	 trend;		/* week report: the 6 weeks before prev */
	struct rblind	 blind;
	struct rnew	*news;
	size_t		 nnews;

	/*
	 * A central release (report_opts): scope "" for a sensor's own,
	 * "*" the organisation, else a site; central when its method sums
	 * devices per site; its sites, for the blind-spot section.
	 */
	char		 scope[CENTRAL_SITE_NAME];
	char		 method[24];
	int		 central;
	const struct central_read_site *sites;
	size_t		 nsites;

	/* the released cells the current period's figures come from */
	struct rel_cell	*used;
	size_t		 nused;
};

/* --- derived figures (report_model.c) --------------------------------- */

/*
 * The weeks of the chart: a quarter's own, or for a week report the
 * seven before it and itself.  A row is the organisation in that week.
 */
size_t	rep_series_n(const struct report *);
int32_t	rep_series_week(const struct report *, size_t i);
const struct rrow *rep_series_row(const struct report *, size_t i);
/* The chart's week i is released (else its row is empty, not zero). */
int	rep_series_released(const struct report *, size_t i);

/* A service with published devices in the period. */
int	rep_svc_used(const struct report *, size_t s);
/* Departments (not "unassigned") with published devices. */
size_t	rep_depts_using(const struct report *);
size_t	rep_depts_total(const struct report *);
size_t	rep_svcs_used(const struct report *);
size_t	rep_svcs_new(const struct report *);
/* Services ordered by devices, then connections, then name. */
size_t	rep_svc_order(const struct report *, size_t *idx);
/* Departments in configuration order, "unassigned" last. */
size_t	rep_dept_order(const struct report *, size_t *idx);
/* The figure a report leads with: the week's, or a quarter's average. */
double	rep_fig_value(const struct report *, const struct rfig *);
/* Change in percent from prev to cur; -1 when it cannot be said. */
int	rep_change(const struct report *, const struct rfig *cur,
	    const struct rfig *prev, double *pct);
int	rep_change_u(uint64_t cur, uint64_t prev, double *pct);
/*
 * The shadow share of the organisation now and in the previous period,
 * each rounded to the 0.1 % the report prints, and the change between
 * them in percentage points (so the sentence agrees with the figures
 * beside it).  0; 1 when the current period has no connections; 2 when
 * the previous period has no released figures; 3 when it has no
 * connections.
 */
int	rep_shadow_change(const struct report *, double *cur, double *prev,
	    double *pp);
/* Fewer hours covered by sensor data than the period's released weeks
 * have: the report marks the period as incompletely covered. */
int	rep_coverage_incomplete(const struct report *);
/* Percent share; 0 when the whole is 0. */
double	rep_share(uint64_t part, uint64_t whole);
/* The share of counted use the blind spots hide, in percent. */
double	rep_blind_ech_pct(const struct report *);
double	rep_blind_drop_pct(const struct report *);
double	rep_blind_unassigned_pct(const struct report *);
const char *rep_jur_name(enum rjur);

#endif /* AIC_REPORT_MODEL_H */
