/*
 * period.h - hours, days and ISO weeks in the configured time zone.
 *
 * Hours are stored as the UTC epoch of their start, so they are
 * unambiguous across DST changes; days (YYYYMMDD) and ISO weeks (YYYYWW)
 * are the local calendar ones, which is what a CIO office reports on.
 */
#ifndef AIC_PERIOD_H
#define AIC_PERIOD_H

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
void	period_week_format(int32_t week, char *buf, unsigned n);
void	period_day_format(int32_t day, char *buf, unsigned n);
/* UTC epoch of the local start of day / ISO week. */
int64_t	period_day_start(int32_t day);
int64_t	period_week_start(int32_t week);

#endif /* AIC_PERIOD_H */
