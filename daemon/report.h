/*
 * report.h - the weekly and quarterly report for the CIO office.
 *
 * report_write() reads one ISO week, or the ISO weeks of one quarter
 * (those whose Thursday falls in it), and the period before it, and
 * writes one self-contained document: HTML (inline CSS and SVG charts,
 * no scripts, A4 print layout), Markdown, CSV (one figure per line) or
 * JSON, in English or Dutch.  The CLI (`aicensus report`), the HTTP API
 * and the systemd timer all go through it.
 *
 * Privacy, as promised to the reader of the report:
 *  - every per-department and per-service figure comes from query_run(),
 *    so a cell with fewer devices than the minimum group size is
 *    suppressed whole, and it is shown as suppressed ("<5"), never as 0,
 *    in every format;
 *  - a report shows totals next to their parts, and a reader must not be
 *    able to subtract the shown parts from a total to recover a
 *    suppressed one.  So additive counts (connections, lookups, bytes)
 *    are always the sum of the cells shown, and a distinct-device total
 *    whose remainder over its shown parts is above 0 but below the
 *    minimum group size is replaced by that sum and flagged "at least";
 *  - a department's or the organisation's first use of a service is
 *    listed only when that cell is shown in the week it first appeared;
 *  - distinct devices of different weeks were counted under different,
 *    destroyed keys and are never merged: the quarterly roll-up gives
 *    per-week figures (peak and average) and sums of counts.
 *
 * Side effect: sets the process time zone (period_set_tz) to the one the
 * database was counted in (meta.timezone).
 */
#ifndef AIC_REPORT_H
#define AIC_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

enum report_format { REPORT_HTML, REPORT_MD, REPORT_CSV, REPORT_JSON };
enum report_span { REPORT_WEEK, REPORT_QUARTER };

/*
 * week: YYYYWW, 0 for the last complete week; year and quarter (1..4),
 * quarter 0 for the last complete one; lang "en" or "nl" ("" = "en");
 * min_group raises the database's (0 keeps it); retention_days is
 * stated in the methodology when > 0; now decides "last" and the date
 * printed (0: time()).
 */
struct report_opts {
	enum report_span	 span;
	int32_t			 week;
	int			 year;
	int			 quarter;
	enum report_format	 format;
	char			 lang[3];
	int			 min_group;
	int			 retention_days;
	int64_t			 now;
};

/* Defaults: last complete week, HTML, English. */
void	report_opts_init(struct report_opts *);
/* "html", "md", "csv", "json"; -1 otherwise. */
int	report_format_parse(const char *, enum report_format *);
/* "2026-W47" or "last" (sets span too); -1 when malformed. */
int	report_parse_week(const char *, struct report_opts *);
/* "2026-Q4" or "last" (sets span too); -1 when malformed. */
int	report_parse_quarter(const char *, struct report_opts *);

/*
 * The period the options name, with "last" resolved in the database's
 * time zone: "2026-W47" or "2026-Q4" (for file names).  -1 with err.
 */
int	report_period_label(sqlite3 *db, const struct report_opts *,
	    char *buf, size_t n, char *err, size_t errlen);

/* Writes the whole report to out; 0, or -1 with err filled in. */
int	report_write(sqlite3 *db, const struct report_opts *, FILE *out,
	    char *err, size_t errlen);

#endif /* AIC_REPORT_H */
