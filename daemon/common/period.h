/*
 * period.h - hours, days and ISO weeks in the configured time zone, and
 * the calendar arithmetic on them: the only place in the daemon that
 * steps days or weeks, finds ISO weeks or quarters, or builds, splits,
 * parses or formats a YYYYMMDD / YYYYWW (plugins, which see plugin.h
 * only, label periods themselves).
 *
 * Hours are stored as the UTC epoch of their start, so they are
 * unambiguous across DST changes; days (YYYYMMDD) and ISO weeks (YYYYWW)
 * are the local calendar ones, which is what a CIO office reports on.
 *
 * Errors: what can fail returns -1 (a zone, a text or a date that does
 * not exist) and writes no message: there is one cause only, and the
 * caller holds the text it names, so the caller words the message.
 */
#ifndef AIC_PERIOD_H
#define AIC_PERIOD_H

#include <stddef.h>
#include <stdint.h>

struct period {
	int64_t		 hour;		/* UTC epoch of the hour start */
	int32_t		 day;		/* local YYYYMMDD */
	int32_t		 week;		/* local ISO YYYYWW */
};

/* "" keeps the system zone. Returns -1 when the zone is unknown. */
int	period_set_tz(const char *tz);
void	period_of(int64_t ts_sec, struct period *out);
/* "2026-W47" <-> 202647; returns -1 on a malformed text. */
int32_t	period_week_parse(const char *s);
/* "2026-11-18" -> 20261118; -1 when malformed, before 1970 or no date. */
int32_t	period_day_parse(const char *s);
void	period_week_format(int32_t week, char *buf, unsigned n);
void	period_day_format(int32_t day, char *buf, unsigned n);
/* UTC epoch of the local start of day / ISO week. */
int64_t	period_day_start(int32_t day);
int64_t	period_week_start(int32_t week);
/* Hours in a local day (23, 24 or 25 across DST) / ISO week (167..169). */
unsigned period_day_hours(int32_t day);
unsigned period_week_hours(int32_t week);

/*
 * The calendar itself (proleptic Gregorian, no zone: a date is a date
 * everywhere).  These are the only places that know how a YYYYMMDD or a
 * YYYYWW is put together or how ISO weeks fall; nothing else in aicensus
 * does day, week or quarter arithmetic by hand.
 */
/* YYYYMMDD of y-m-d, or -1 when there is no such date (2026-02-29). */
int32_t	period_day_make(int y, int m, int d);
void	period_day_split(int32_t day, int *y, int *m, int *d);
/* The date n days after (n < 0: before) day. */
int32_t	period_day_add(int32_t day, int n);
/* The ISO week YYYYWW a date belongs to. */
int32_t	period_day_week(int32_t day);
void	period_week_split(int32_t week, int *y, int *w);
/* Monday of an ISO week as YYYYMMDD. */
int32_t	period_week_monday(int32_t week);
/* The ISO week n weeks after (n < 0: before) week. */
int32_t	period_week_add(int32_t week, int n);
/* Quarter q (1..4) of a date's year. */
int	period_quarter_of(int32_t day);
/* Quarter (*y, *q) moved n quarters on (n < 0: back), in place. */
void	period_quarter_add(int *y, int *q, int n);
/* "2026-Q4" <-> (2026, 4); parse: 0, or -1 on a malformed text. */
int	period_quarter_parse(const char *s, int *y, int *q);
void	period_quarter_format(int y, int q, char *buf, unsigned n);
/* The ISO weeks whose Thursday falls in quarter q of year y, at most
 * max of them into out, ascending; how many were written. */
size_t	period_quarter_weeks(int y, int q, int32_t *out, size_t max);

#endif /* AIC_PERIOD_H */
