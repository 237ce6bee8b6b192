/*
 * period.c - calendar arithmetic through the C library's zone database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "period.h"

static int64_t	cache_hour = INT64_MIN;
static struct period cache;

int
period_set_tz(const char *tz)
{
	char path[512];
	FILE *f;

	cache_hour = INT64_MIN;
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

void
period_of(int64_t ts_sec, struct period *out)
{
	int64_t hour = ts_sec - (((ts_sec % 3600) + 3600) % 3600);
	time_t t = (time_t)hour;
	struct tm tm;
	char buf[16];

	if (hour == cache_hour) {
		*out = cache;
		return;
	}
	localtime_r(&t, &tm);
	out->hour = hour;
	out->day = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 +
	    tm.tm_mday;
	strftime(buf, sizeof(buf), "%G%V", &tm);
	out->week = (int32_t)atoi(buf);
	cache = *out;
	cache_hour = hour;
}

int32_t
period_week_parse(const char *s)
{
	int y, w;
	char tail;

	if (sscanf(s, "%4d-W%2d%c", &y, &w, &tail) != 2 || y < 1970 ||
	    y > 9999 || w < 1 || w > 53)
		return -1;
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
