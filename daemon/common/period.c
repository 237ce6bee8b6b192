/*
 * period.c - the one place of calendar arithmetic: local hours, days and
 * weeks through the C library's zone database, and the zone-free civil
 * calendar (dates, ISO weeks, quarters) on day numbers.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/period.h"

/*
 * The last hour looked up, per thread: capture workers (capture.workers)
 * each keep their own.  A new zone bumps the generation, which every
 * thread's cache is checked against, so none keeps the old zone's hour.
 */
static _Thread_local struct period cache = { INT64_MIN, 0, 0 };
static _Thread_local unsigned cache_gen;
static atomic_uint tz_gen;

/* --- the civil calendar (no zone) ----------------------------------- */

/*
 * Days since 1970-01-01 of a proleptic Gregorian date, and back
 * (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"): exact for
 * every date, no table, no time zone, no time_t range.
 */
static int64_t
civil_days(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int32_t
days_civil(int64_t z)
{
	int64_t era, doe, yoe, y, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp + (mp < 10 ? 3 : -9);
	y += m <= 2;
	return (int32_t)(y * 10000 + m * 100 + d);
}

static int64_t
day_num(int32_t day)
{
	return civil_days(day / 10000, day / 100 % 100, day % 100);
}

/* Monday = 0 of a day number; 1970-01-01 was a Thursday. */
static int
weekday(int64_t z)
{
	return (int)(((z % 7) + 7 + 3) % 7);
}

int32_t
period_day_make(int y, int m, int d)
{
	int32_t day;

	if (y < 0 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	day = (int32_t)(y * 10000 + m * 100 + d);
	/* a date that does not round-trip does not exist */
	return days_civil(civil_days(y, m, d)) == day ? day : -1;
}

void
period_day_split(int32_t day, int *y, int *m, int *d)
{
	*y = day / 10000;
	*m = day / 100 % 100;
	*d = day % 100;
}

int32_t
period_day_add(int32_t day, int n)
{
	return days_civil(day_num(day) + n);
}

/* The ISO week is the one of its Thursday, numbered from that year's. */
int32_t
period_day_week(int32_t day)
{
	int64_t z = day_num(day);
	int32_t thu = days_civil(z - weekday(z) + 3);
	int64_t doy = day_num(thu) - civil_days(thu / 10000, 1, 1);

	return (thu / 10000) * 100 + (int32_t)(doy / 7 + 1);
}

void
period_week_split(int32_t week, int *y, int *w)
{
	*y = week / 100;
	*w = week % 100;
}

/* Monday of ISO week 1 is the Monday on or before January 4th. */
int32_t
period_week_monday(int32_t week)
{
	int64_t jan4 = civil_days(week / 100, 1, 4);

	return days_civil(jan4 - weekday(jan4) + (int64_t)(week % 100 - 1) *
	    7);
}

int32_t
period_week_add(int32_t week, int n)
{
	return period_day_week(period_day_add(period_week_monday(week),
	    7 * n));
}

int
period_quarter_of(int32_t day)
{
	return (day / 100 % 100 - 1) / 3 + 1;
}

void
period_quarter_add(int *y, int *q, int n)
{
	int i = *y * 4 + (*q - 1) + n;

	*y = i >= 0 ? i / 4 : (i - 3) / 4;
	*q = i - *y * 4 + 1;
}

/* "YYYY-Qn" as the report's --quarter has always read it, from 1970. */
int
period_quarter_parse(const char *s, int *y, int *q)
{
	char tail;

	if (sscanf(s, "%4d-Q%1d%c", y, q, &tail) != 2 || *y < 1970 ||
	    *q < 1 || *q > 4)
		return -1;
	return 0;
}

void
period_quarter_format(int y, int q, char *buf, unsigned n)
{
	snprintf(buf, n, "%04d-Q%d", y, q);
}

size_t
period_quarter_weeks(int y, int q, int32_t *out, size_t max)
{
	int32_t first = y * 10000 + (q * 3 - 2) * 100 + 1;
	int32_t next = q == 4 ? (y + 1) * 10000 + 101 :
	    y * 10000 + (q * 3 + 1) * 100 + 1;
	int32_t w = period_day_week(first);
	size_t n = 0;

	if (period_day_add(period_week_monday(w), 3) < first)
		w = period_week_add(w, 1);
	while (n < max && period_day_add(period_week_monday(w), 3) < next) {
		out[n++] = w;
		w = period_week_add(w, 1);
	}
	return n;
}

/* --- the configured zone ---------------------------------------------- */

int
period_set_tz(const char *tz)
{
	char path[512];
	FILE *f;

	cache.hour = INT64_MIN;
	atomic_fetch_add(&tz_gen, 1);
	if (tz == NULL || *tz == '\0') {
		unsetenv("TZ");
		tzset();
		return 0;
	}
	if (strcmp(tz, "UTC") != 0) {
		if (strstr(tz, "..") != NULL)
			return -1;
		snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
		if ((f = fopen(path, "r")) == NULL)
			return -1;
		fclose(f);
	}
	setenv("TZ", tz, 1);
	tzset();
	return 0;
}

/*
 * An hour is a local clock hour: in a zone whose offset is not a whole
 * number of hours (India, +5:30) it starts at half past in UTC, so that
 * no hour straddles two local days.
 */
void
period_of(int64_t ts_sec, struct period *out)
{
	time_t t = (time_t)ts_sec;
	struct tm tm;
	char buf[16];
	int64_t local;
	unsigned gen = atomic_load_explicit(&tz_gen, memory_order_relaxed);

	if (cache.hour != INT64_MIN && cache_gen == gen &&
	    ts_sec >= cache.hour && ts_sec < cache.hour + 3600) {
		*out = cache;
		return;
	}
	if (localtime_r(&t, &tm) == NULL) {
		/* beyond what the C library can represent: clamp, never guess */
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = 9999 - 1900;
		tm.tm_mon = 11;
		tm.tm_mday = 31;
	}
	local = ts_sec + tm.tm_gmtoff;
	out->hour = local - (((local % 3600) + 3600) % 3600) - tm.tm_gmtoff;
	out->day = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 +
	    tm.tm_mday;
	strftime(buf, sizeof(buf), "%G%V", &tm);
	out->week = (int32_t)atoi(buf);
	cache = *out;
	cache_gen = gen;
}

/* Strictly "YYYY-Www", and only weeks the year has (52 or 53). */
int32_t
period_week_parse(const char *s)
{
	int y, w, i;

	if (strlen(s) != 8 || s[4] != '-' || s[5] != 'W')
		return -1;
	for (i = 0; i < 8; i++)
		if (i != 4 && i != 5 && (s[i] < '0' || s[i] > '9'))
			return -1;
	y = atoi(s);
	w = (s[6] - '0') * 10 + (s[7] - '0');
	if (y < 1970 || w < 1 || w > 53)
		return -1;
	/* week 53 exists when its Thursday is still in year y */
	if (w == 53 && period_day_week(period_week_monday(y * 100 + 53)) !=
	    y * 100 + 53)
		return -1;
	return y * 100 + w;
}

/* Strictly "YYYY-MM-DD", a date that exists, from 1970 on. */
int32_t
period_day_parse(const char *s)
{
	int i;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	if (atoi(s) < 1970)
		return -1;
	return period_day_make(atoi(s), atoi(s + 5), atoi(s + 8));
}

void
period_week_format(int32_t week, char *buf, unsigned n)
{
	snprintf(buf, n, "%04d-W%02d", week / 100, week % 100);
}

void
period_day_format(int32_t day, char *buf, unsigned n)
{
	snprintf(buf, n, "%04d-%02d-%02d", day / 10000, day / 100 % 100,
	    day % 100);
}

int64_t
period_day_start(int32_t day)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = day / 10000 - 1900;
	tm.tm_mon = day / 100 % 100 - 1;
	tm.tm_mday = day % 100;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

/* mktime() resolves the local midnight (DST included) of the Monday. */
int64_t
period_week_start(int32_t week)
{
	return period_day_start(period_week_monday(week));
}

/*
 * Where the next local day / week starts, found from an instant safely
 * inside it (the next day starts 23, 24 or 25 hours later: 26 h is
 * inside it), so that a zone that skips a date still gets an answer.
 */
unsigned
period_day_hours(int32_t day)
{
	int64_t s = period_day_start(day), e;
	struct period p;

	period_of(s + 26 * 3600, &p);
	e = period_day_start(p.day);
	return e > s ? (unsigned)((e - s + 1800) / 3600) : 24;
}

unsigned
period_week_hours(int32_t week)
{
	int64_t s = period_week_start(week), e;
	struct period p;

	period_of(s + 8 * 86400, &p);
	e = period_week_start(p.week);
	return e > s ? (unsigned)((e - s + 1800) / 3600) : 168;
}
