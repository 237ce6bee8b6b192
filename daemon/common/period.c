/*
 * period.c - calendar arithmetic through the C library's zone database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/period.h"

static struct period cache = { INT64_MIN, 0, 0 };

int
period_set_tz(const char *tz)
{
	char path[512];
	FILE *f;

	cache.hour = INT64_MIN;
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

	if (cache.hour != INT64_MIN && ts_sec >= cache.hour &&
	    ts_sec < cache.hour + 3600) {
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
}

/* Strictly "YYYY-Www", and only weeks the year has (52 or 53). */
int32_t
period_week_parse(const char *s)
{
	int y, w, i;
	struct period p;

	if (strlen(s) != 8 || s[4] != '-' || s[5] != 'W')
		return -1;
	for (i = 0; i < 8; i++)
		if (i != 4 && i != 5 && (s[i] < '0' || s[i] > '9'))
			return -1;
	y = atoi(s);
	w = (s[6] - '0') * 10 + (s[7] - '0');
	if (y < 1970 || w < 1 || w > 53)
		return -1;
	if (w == 53) {
		/* the Thursday of week 53 must still be in year y */
		period_of(period_week_start(y * 100 + 53) + 3 * 86400 + 43200,
		    &p);
		if (p.week != y * 100 + 53)
			return -1;
	}
	return y * 100 + w;
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

/* Monday of ISO week 1 is the Monday on or before January 4th. */
int64_t
period_week_start(int32_t week)
{
	struct tm tm;
	int wday;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = week / 100 - 1900;
	tm.tm_mon = 0;
	tm.tm_mday = 4;
	tm.tm_hour = 12;
	tm.tm_isdst = -1;
	mktime(&tm);
	wday = (tm.tm_wday + 6) % 7;		/* Monday = 0 */
	tm.tm_mday = 4 - wday + (week % 100 - 1) * 7;
	tm.tm_hour = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}
