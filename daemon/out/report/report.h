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
 * Every figure is a released cell (released.h), read from the release
 * database and nothing else: the week's W1 cells (organisation,
 * departments, services, categories, department x service), the
 * previous and the trend weeks' W1 cells, the released days' blind-spot
 * figures (B1) and the periods' coverage.  The release stage protected
 * each cell once with the cell key method, so the report adds no rule of
 * its own: it prints the cells as released, zeros included ("–"), and
 * says that rows need not add up to totals.  Derived figures are sums of
 * released cells and are labelled as such: jurisdictions (sums of
 * service cells), quarters (sums of weekly cells; devices become
 * device-weeks, shown as the average per week), the shadow share.
 * "New" services are those whose first released week with published
 * devices > 0 lies in the period.
 *
 * A week that is not released (the current one, or one the daemon has
 * not closed yet) is refused, and so is a week or quarter in the future.
 * A period not over yet (the current week, released early because the
 * sensor stopped, or the current quarter) is written with a warning in
 * its header; a period the sensor covered for fewer hours than it has
 * is marked as incompletely covered in the header and the key points.
 *
 * Side effect: sets the process time zone (period_set_tz) to the one the
 * release database was counted in (meta.timezone).
 */
#ifndef AIC_REPORT_H
#define AIC_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct released;
struct report;
struct central_read_site;

/*
 * The formats: one table, the only list of them.  The CLI's --format
 * parser and its help, and report_write()'s dispatch all read it; a new
 * format is one line here and one renderer (report_render.h).
 */
struct report_format {
	const char	*name;		/* --format NAME */
	const char	*alias;		/* also accepted; NULL: none */
	const char	*ext;		/* file name extension, no dot */
	const char	*mime;		/* Content-Type of the document */
	int		(*render)(const struct report *, FILE *);
};

/* Every format, the default (HTML) first; ends with a NULL name. */
extern const struct report_format report_formats[];

/* The format named (or aliased) s; NULL when there is none. */
const struct report_format *report_format_find(const char *s);

enum report_span { REPORT_WEEK, REPORT_QUARTER };

/*
 * week: YYYYWW, 0 for the last released week; year and quarter (1..4),
 * quarter 0 for the last complete one; lang "en" or "nl" ("" = "en");
 * retention_days is stated in the methodology when > 0; now decides
 * "last", what is in the future and the date printed (0: time()).
 * The minimum group size is the one the release recorded: a report
 * cannot change the protection of released cells.
 */
struct report_opts {
	enum report_span	 span;
	int32_t			 week;
	int			 year;
	int			 quarter;
	const struct report_format *format;
	char			 lang[3];
	int			 retention_days;
	int64_t			 now;
	/*
	 * A central release (store/central_read.h) says more: scope is
	 * what the figures cover ("*" the organisation, else a site's
	 * name), named in the title; method its meta.method (with
	 * "ckm-central-1" the methodology says that distinct devices are
	 * summed per site); sites, listed in the blind-spot section with
	 * their coverage of the period.  NULL (and 0): a sensor's own
	 * release, nothing said.
	 */
	const char		*scope;
	const char		*method;
	const struct central_read_site *sites;
	size_t			 nsites;
};

/* Defaults: last released week, HTML, English. */
void	report_opts_init(struct report_opts *);
/* "2026-W47" or "last" (sets span too); -1 when malformed. */
int	report_parse_week(const char *, struct report_opts *);
/* "2026-Q4" or "last" (sets span too); -1 when malformed. */
int	report_parse_quarter(const char *, struct report_opts *);

/*
 * The period the options name, with "last" resolved against the release
 * database (in its time zone): "2026-W47" or "2026-Q4" (for file
 * names).  -1 with err.
 */
int	report_period_label(struct released *, const struct report_opts *,
	    char *buf, size_t n, char *err, size_t errlen);

/*
 * The ISO weeks [*from, *to] (YYYYWW) the options name, "last" resolved
 * as report_period_label() does: what a caller reads the sites'
 * coverage of (report_opts.sites).  -1 with err.
 */
int	report_period_weeks(struct released *, const struct report_opts *,
	    int32_t *from, int32_t *to, char *err, size_t errlen);

/* Writes the whole report to out; 0, or -1 with err filled in. */
int	report_write(struct released *, const struct report_opts *,
	    FILE *out, char *err, size_t errlen);

#endif /* AIC_REPORT_H */
