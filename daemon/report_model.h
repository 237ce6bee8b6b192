/*
 * report_model.h - internal to the report: the figures of one report,
 * computed once by report.c (with every privacy rule of report.h already
 * applied) and only laid out by the renderers (report_html.c,
 * report_text.c, report_json.c).  A renderer never reads the database.
 */
#ifndef AIC_REPORT_MODEL_H
#define AIC_REPORT_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "i18n.h"
#include "query.h"
#include "report.h"

/*
 * A distinct-device figure over the period's weeks.  For a week report
 * there is one week and max is the figure.  Shown weeks carry a number;
 * suppressed weeks do not, and a figure with no shown week but at least
 * one suppressed week is itself suppressed.
 */
struct rfig {
	uint64_t	 max;		/* largest shown weekly figure */
	uint64_t	 sum;		/* of the shown weekly figures */
	double		 avg;		/* sum / weeks with data */
	unsigned	 shown;		/* weeks with a number */
	unsigned	 suppressed;	/* weeks below the minimum */
	int		 lower_bound;	/* a shown week was cut */
	int		 max_lb;	/* the largest week was cut */
	int		 estimate;	/* a sketch past exact range */
};

#define RFIG_SUPPRESSED(f)	((f)->shown == 0 && (f)->suppressed > 0)
#define RFIG_ABSENT(f)		((f)->shown == 0 && (f)->suppressed == 0)

/*
 * One line of a table: devices, and counts summed over the shown cells
 * it covers.  When some of those cells were suppressed the counts are a
 * lower bound ("at least"), and partial says how many were left out.
 */
struct rrow {
	struct rfig	 dev;
	uint64_t	 m[QM_N];
	uint64_t	 shadow;	/* connections, unsanctioned */
	unsigned	 partial;	/* suppressed cells left out */
};

static inline uint64_t
rrow_conns(const struct rrow *r)
{
	return r->m[QM_TLS] + r->m[QM_QUIC] + r->m[QM_ECH];
}

struct rdept {
	char		 name[64];
	int64_t		 id;
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
	int64_t		 id;
	int		 sanctioned;
	int64_t		 first_hour;	/* first use ever; 0: none */
};

/* One period: a week, a quarter, or the weeks of a trend chart. */
struct rperiod {
	char		 label[24];	/* "2026-W47", "2026-Q4" */
	int32_t		*weeks;		/* YYYYWW, ascending */
	size_t		 nweeks;
	int64_t		 from, to;	/* [from, to) */
	int32_t		 first_day;	/* YYYYMMDD */
	int32_t		 last_day;	/* YYYYMMDD, inclusive */
	unsigned	 weeks_with_data;
	struct rrow	 org;
	struct rrow	*dept;		/* [ndept] */
	struct rrow	*svc;		/* [nsvc] */
	struct rrow	*cell;		/* [ndept * nsvc] */
	struct rrow	*cat;		/* [ncat] */
	struct rrow	 jur[RJ_N];
	struct rrow	*week;		/* [nweeks]: organisation */
	/* per week: 0 absent, 1 shown, 2 suppressed */
	unsigned char	*vis_svc;	/* [nweeks * nsvc] */
	unsigned char	*vis_cell;	/* [nweeks * ndept * nsvc] */
};

struct rblind {
	unsigned	 hours;		/* hours with sensor data */
	unsigned	 hours_total;	/* hours in the period */
	uint64_t	 packets, bytes, pcap_drops, if_drops;
	uint64_t	 ech_conns, ech_unattributed, nosni_conns;
	uint64_t	 doh_conns, ignored, lost, parse_failures;
};

/* A first use inside the period that may be shown. */
struct rnew {
	size_t		 dept;		/* -1: the organisation */
	size_t		 svc;
	int32_t		 day;		/* local YYYYMMDD */
};

struct report {
	const struct report_opts *o;
	enum lang	 lang;
	int		 quarter;	/* a quarterly roll-up */
	int		 min_group;
	char		 tz[64];
	int64_t		 generated;
	char		 supp[16];	/* "<5" */

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
	int64_t		*cell_first;	/* [ndept * nsvc], 0 none */
};

/* --- derived figures (report.c) ----------------------------------------- */

/*
 * The weeks of the chart: a quarter's own, or for a week report the
 * seven before it and itself.  A row is the organisation in that week.
 */
size_t	rep_series_n(const struct report *);
int32_t	rep_series_week(const struct report *, size_t i);
const struct rrow *rep_series_row(const struct report *, size_t i);

/* A service with any row (shown or suppressed) in the period. */
int	rep_svc_used(const struct report *, size_t s);
/* Departments (not "unassigned") whose devices are shown. */
size_t	rep_depts_using(const struct report *);
size_t	rep_depts_total(const struct report *);
size_t	rep_svcs_used(const struct report *);
size_t	rep_svcs_new(const struct report *);
/* Services ordered by shown devices, then connections, then name. */
size_t	rep_svc_order(const struct report *, size_t *idx);
/* Departments ordered by name, "unassigned" last. */
size_t	rep_dept_order(const struct report *, size_t *idx);
/* The figure a report leads with: the week's, or a quarter's average. */
double	rep_fig_value(const struct report *, const struct rfig *);
/* Change in percent from prev to cur; -1 when it cannot be said. */
int	rep_change(const struct report *, const struct rfig *cur,
	    const struct rfig *prev, double *pct);
int	rep_change_u(uint64_t cur, uint64_t prev, double *pct);
/* Percent share; 0 when the whole is 0. */
double	rep_share(uint64_t part, uint64_t whole);
/* The share of counted use the blind spots hide, in percent. */
double	rep_blind_ech_pct(const struct report *);
double	rep_blind_drop_pct(const struct report *);
double	rep_blind_unassigned_pct(const struct report *);
const char *rep_jur_name(enum rjur);

/* --- formatting (report_fmt.c) ------------------------------------------ */

/* 12,345 / 12.345 */
const char *rfmt_int(const struct report *, uint64_t v, char *buf, size_t n);
/* 12.3 / 12,3 with one decimal */
const char *rfmt_dec(const struct report *, double v, char *buf, size_t n);
/* 12.3% / 12,3% */
const char *rfmt_pct(const struct report *, double v, char *buf, size_t n);
/* +12.3% / -4,0% */
const char *rfmt_change(const struct report *, double v, char *buf,
	    size_t n);
/* 1.2 MB / 1,2 MB */
const char *rfmt_bytes(const struct report *, uint64_t v, char *buf,
	    size_t n);
/* 16 November 2026 / 16 november 2026 */
const char *rfmt_day(const struct report *, int32_t day, char *buf,
	    size_t n);
/* 16 November / 16 november */
const char *rfmt_daymonth(const struct report *, int32_t day, char *buf,
	    size_t n);
/* 16–22 November 2026 */
const char *rfmt_range(const struct report *, int32_t first, int32_t last,
	    char *buf, size_t n);
/* A device figure as text: "42", "≥ 42", "<5", "–"; avg for quarters. */
const char *rfmt_fig(const struct report *, const struct rfig *, char *buf,
	    size_t n);
/* ISO day "2026-11-18" of an hour epoch, local. */
const char *rfmt_iso_day_of(int64_t hour, char *buf, size_t n);

/* The key points, as sentences in the report's language. */
#define RFINDINGS_MAX	8
#define RFINDING_LEN	768
size_t	rep_findings(const struct report *, char out[][RFINDING_LEN]);

/* --- renderers ---------------------------------------------------------- */

int	report_html(const struct report *, FILE *);
int	report_md(const struct report *, FILE *);
int	report_csv(const struct report *, FILE *);
int	report_json(const struct report *, FILE *);

#endif /* AIC_REPORT_MODEL_H */
