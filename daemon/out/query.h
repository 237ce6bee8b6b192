/*
 * query.h - released figures, selected as the CLI and the API ask for
 * them.  The only source is released.h: no number here was computed
 * from anything but released cells.
 *
 * A query names a published level, never a free window:
 *   --by week [+ department] [+ service | category]   -> W1 (week cells)
 *   --by day [+ department] [+ category]               -> D1 (day cells)
 *   --by day + service (no department)                 -> D2 (day cells)
 *   neither day nor week                               -> the SUM of the
 *        released week cells of the range ("derived": devices are then
 *        device-weeks, margins are sums of perturbed cells)
 * day + department + service and hour are refused: they are not
 * published.  A range is given as dates or ISO weeks (the API also takes
 * the epoch of a local midnight) and is snapped OUTWARD to whole periods
 * of the level; only released periods appear, each with its full grid,
 * zeros included.
 */
#ifndef AIC_QUERY_H
#define AIC_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "release/released.h"

struct query {
	int		 by_dept, by_svc, by_cat, by_day, by_week;
	int32_t		 from_day, to_day;	/* inclusive YYYYMMDD; 0 open */
};

struct qrow {
	enum rel_kind	 kind;
	int32_t		 period;	/* YYYYMMDD or YYYYWW */
	int32_t		 period_to;	/* derived rows: the last week */
	char		 dept[64];	/* name, "unassigned" or "*" */
	char		 svc[48];	/* sid, "cat:<category>" or "*" */
	uint64_t	 m[RM_N];
	unsigned	 published;	/* bit per rel_measure */
};

struct qresult {
	const char	*method;	/* meta.method; NULL: "ckm-1" */
	int		 derived;	/* sums of weekly cells */
	int		 min_group;	/* largest of the periods'; 0: none */
	struct rel_period *periods;
	size_t		 nperiods;
	struct qrow	*rows;
	size_t		 n;
};

/*
 * "department,service,day" into q (the by_* flags; a NULL or "" list is
 * the default, week).  -1 with a message when the list names something
 * unknown or a combination that is not published.
 */
int	query_parse_by(const char *list, struct query *q, char *err,
	    size_t errlen);

/* The combination refusals of query_parse_by(); -1 with the message. */
int	query_check_by(const struct query *q, char *err, size_t errlen);
/*
 * --week W / --day D (API week=, day=): a list without day or week
 * takes the level of the period named (k), then is checked again.
 */
int	query_imply_level(struct query *q, enum rel_kind k, char *err,
	    size_t errlen);

/*
 * A range end: "2026-11-18" or "2026-W47" (a week stands for its Monday
 * as from, its Sunday as to); with allow_epoch also epoch seconds, which
 * must be a local midnight (as to: the end, exclusive).  *day is the
 * inclusive YYYYMMDD.  -1 with a message otherwise.
 */
int	query_parse_when(const char *text, int is_to, int allow_epoch,
	    int32_t *day, char *err, size_t errlen);

/* -1 with a message when from is after to. */
int	query_check_range(const struct query *q, char *err, size_t errlen);

int	query_run(struct released *, const struct query *q,
	    struct qresult *out, char *err, size_t errlen);
void	query_free(struct qresult *);

/* The result document of the CLI and the API (spec.md, Output formats). */
json_t	*query_json(const struct qresult *);
/*
 * One row of it: {"kind", "period", "department", "service", then the
 * published measures}.  The only encoding of a released cell as JSON:
 * the CLI, the API and the report's "released_cells" all print it, so
 * a report can be checked against a query.  derived: a sum of weeks.
 */
json_t	*query_row_json(const struct qrow *, int derived);
/* A released cell as a row (not derived). */
void	query_row_of_cell(struct qrow *, const struct rel_cell *);
/* The row's period: "2026-W47", or "2026-W45..2026-W47" when derived. */
void	query_row_label(const struct qrow *, int derived, char *buf,
	    size_t n);
/* One period object: {"kind", "period", "week", "released_at", ...}. */
json_t	*query_period_json(const struct rel_period *);

/* "2026-11-18" / "2026-W47" */
void	query_period_label(enum rel_kind, int32_t period, char *buf,
	    size_t n);

#endif /* AIC_QUERY_H */
