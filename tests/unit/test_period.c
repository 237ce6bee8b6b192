/*
 * test_period.c - hour floors, local days and ISO weeks in UTC and in
 * Europe/Amsterdam (DST days, year boundaries, week 53), checked against
 * an independent calendar computed here, plus week text parsing, the
 * day / week start instants and lengths, and the zone-free calendar
 * (dates, ISO weeks, quarters) the outputs share.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/period.h"
#include "t.h"

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t
utc(int y, int m, int d, int h, int mi)
{
	return days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60;
}

/* Monday = 0; 1970-01-01 was a Thursday. */
static int
wday(int64_t days)
{
	return (int)(((days % 7) + 7 + 3) % 7);
}

/* Reference ISO week YYYYWW of a day number. */
static int32_t
iso_week(int64_t days)
{
	int64_t thu = days - wday(days) + 3;
	int y, m, d;

	civil_from_days(thu, &y, &m, &d);
	return (int32_t)(y * 100 + (thu - days_from_civil(y, 1, 1)) / 7 + 1);
}

static int32_t
ymd(int64_t days)
{
	int y, m, d;

	civil_from_days(days, &y, &m, &d);
	return y * 10000 + m * 100 + d;
}

static int64_t
floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* EU rule: summer time from the last Sunday of March to the last
 * Sunday of October, both at 01:00 UTC. */
static int
eu_summer(int64_t ts)
{
	int y, m, d;
	int64_t mar, oct;

	civil_from_days(floordiv(ts, 86400), &y, &m, &d);
	mar = days_from_civil(y, 3, 31);
	mar -= (wday(mar) + 1) % 7;
	oct = days_from_civil(y, 10, 31);
	oct -= (wday(oct) + 1) % 7;
	return ts >= mar * 86400 + 3600 && ts < oct * 86400 + 3600;
}

static void
test_utc_basics(void)
{
	struct period p;
	int64_t ts = utc(2026, 1, 1, 0, 30);

	T_EQ_INT(period_set_tz("UTC"), 0);
	T_EQ_INT(ts, 1767227400);		/* the helper itself */
	period_of(ts, &p);
	T_EQ_INT(p.hour, ts - 1800);
	T_EQ_INT(p.day, 20260101);
	T_EQ_INT(p.week, 202601);
	period_of(ts - 1800, &p);		/* exactly on the hour */
	T_EQ_INT(p.hour, ts - 1800);
	period_of(ts - 1801, &p);
	T_EQ_INT(p.hour, ts - 1800 - 3600);
	T_EQ_INT(p.day, 20251231);
	T_EQ_INT(p.week, 202601);		/* Wednesday of 2026-W01 */
	/* before the epoch the floor still goes down */
	period_of(-1, &p);
	T_EQ_INT(p.hour, -3600);
	T_EQ_INT(p.day, 19691231);
	T_EQ_INT(p.week, 197001);
	period_of(0, &p);
	T_EQ_INT(p.hour, 0);
	T_EQ_INT(p.day, 19700101);
}

static void
test_iso_boundaries(void)
{
	static const struct {
		int y, m, d;
		int32_t week;
	} v[] = {
		{ 2026, 12, 31, 202653 }, { 2027, 1, 1, 202653 },
		{ 2027, 1, 3, 202653 }, { 2027, 1, 4, 202701 },
		{ 2024, 12, 29, 202452 }, { 2024, 12, 30, 202501 },
		{ 2025, 12, 29, 202601 }, { 2020, 12, 31, 202053 },
		{ 2021, 1, 3, 202053 }, { 2021, 1, 4, 202101 },
		{ 2015, 12, 31, 201553 }, { 2016, 1, 4, 201601 },
		{ 2018, 12, 31, 201901 }, { 2019, 12, 30, 202001 },
		{ 2026, 11, 16, 202647 },
	};
	struct period p;
	size_t i;

	T_EQ_INT(period_set_tz("UTC"), 0);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		period_of(utc(v[i].y, v[i].m, v[i].d, 0, 0), &p);
		T_EQ_INT(p.week, v[i].week);
		T_EQ_INT(p.day, v[i].y * 10000 + v[i].m * 100 + v[i].d);
		period_of(utc(v[i].y, v[i].m, v[i].d, 23, 59), &p);
		T_EQ_INT(p.week, v[i].week);
		T_EQ_INT(iso_week(days_from_civil(v[i].y, v[i].m, v[i].d)),
		    v[i].week);		/* the reference agrees */
	}
}

/* Every day from 1990 to 2045 at noon against the reference calendar. */
static void
test_utc_every_day(void)
{
	int64_t d, d0 = days_from_civil(1990, 1, 1);
	int64_t d1 = days_from_civil(2045, 12, 31);
	int bad_day = 0, bad_week = 0, bad_hour = 0;
	struct period p;

	T_EQ_INT(period_set_tz("UTC"), 0);
	for (d = d0; d <= d1; d++) {
		period_of(d * 86400 + 43200 + 1234, &p);
		if (p.day != ymd(d))
			bad_day++;
		if (p.week != iso_week(d))
			bad_week++;
		if (p.hour != d * 86400 + 43200)
			bad_hour++;
	}
	T_EQ_INT(bad_day, 0);
	T_EQ_INT(bad_week, 0);
	T_EQ_INT(bad_hour, 0);
}

static void
test_amsterdam(void)
{
	struct period p;

	T_EQ_INT(period_set_tz("Europe/Amsterdam"), 0);
	/* winter: local midnight is 23:00 UTC the day before */
	period_of(utc(2026, 1, 14, 22, 59), &p);
	T_EQ_INT(p.day, 20260114);
	T_EQ_INT(p.hour, utc(2026, 1, 14, 22, 0));
	period_of(utc(2026, 1, 14, 23, 0), &p);
	T_EQ_INT(p.day, 20260115);
	/* summer: 22:00 UTC */
	period_of(utc(2026, 7, 1, 21, 59), &p);
	T_EQ_INT(p.day, 20260701);
	period_of(utc(2026, 7, 1, 22, 0), &p);
	T_EQ_INT(p.day, 20260702);
	/* DST starts 2026-03-29 01:00 UTC; the day has 23 hours */
	period_of(utc(2026, 3, 28, 22, 59), &p);
	T_EQ_INT(p.day, 20260328);
	period_of(utc(2026, 3, 28, 23, 0), &p);
	T_EQ_INT(p.day, 20260329);
	period_of(utc(2026, 3, 29, 21, 59), &p);
	T_EQ_INT(p.day, 20260329);
	period_of(utc(2026, 3, 29, 22, 0), &p);
	T_EQ_INT(p.day, 20260330);
	T_EQ_INT(p.week, 202614);
	T_EQ_INT(period_day_start(20260329), utc(2026, 3, 28, 23, 0));
	T_EQ_INT(period_day_start(20260330) - period_day_start(20260329),
	    23 * 3600);
	/* DST ends 2026-10-25 01:00 UTC; the day has 25 hours, and the
	 * two local 02:00 hours are distinct UTC hours */
	T_EQ_INT(period_day_start(20261025), utc(2026, 10, 24, 22, 0));
	T_EQ_INT(period_day_start(20261026) - period_day_start(20261025),
	    25 * 3600);
	period_of(utc(2026, 10, 25, 0, 30), &p);
	T_EQ_INT(p.hour, utc(2026, 10, 25, 0, 0));
	T_EQ_INT(p.day, 20261025);
	period_of(utc(2026, 10, 25, 1, 30), &p);
	T_EQ_INT(p.hour, utc(2026, 10, 25, 1, 0));
	T_EQ_INT(p.day, 20261025);
	period_of(utc(2026, 10, 25, 22, 59), &p);
	T_EQ_INT(p.day, 20261025);
	period_of(utc(2026, 10, 25, 23, 0), &p);
	T_EQ_INT(p.day, 20261026);

	/* year and week boundaries follow local time, not UTC */
	period_of(utc(2026, 12, 31, 23, 30), &p);
	T_EQ_INT(p.day, 20270101);
	T_EQ_INT(p.week, 202653);
	period_of(utc(2027, 1, 3, 23, 0), &p);
	T_EQ_INT(p.day, 20270104);
	T_EQ_INT(p.week, 202701);
	period_of(utc(2024, 12, 29, 23, 30), &p);
	T_EQ_INT(p.day, 20241230);
	T_EQ_INT(p.week, 202501);
	/* the same instant in UTC is still the old day and week */
	T_EQ_INT(period_set_tz("UTC"), 0);
	period_of(utc(2024, 12, 29, 23, 30), &p);
	T_EQ_INT(p.day, 20241229);
	T_EQ_INT(p.week, 202452);
}

/* Every hour of 2024..2027 in Amsterdam against the EU rule. */
static void
test_amsterdam_every_hour(void)
{
	int64_t ts, t0 = utc(2024, 1, 1, 0, 0), t1 = utc(2028, 1, 1, 0, 0);
	int bad = 0, bad_start = 0;
	int32_t prev_day = 0, prev_week = 0;
	struct period p;

	T_EQ_INT(period_set_tz("Europe/Amsterdam"), 0);
	for (ts = t0; ts < t1; ts += 3600) {
		int64_t local = ts + (eu_summer(ts) ? 7200 : 3600);
		int64_t d = floordiv(local, 86400);

		period_of(ts + 1799, &p);
		if (p.hour != ts || p.day != ymd(d) || p.week != iso_week(d))
			bad++;
		/* a new day / week begins exactly at its start instant */
		if (prev_day != 0 && p.day != prev_day &&
		    period_day_start(p.day) != ts)
			bad_start++;
		if (prev_week != 0 && p.week != prev_week &&
		    period_week_start(p.week) != ts)
			bad_start++;
		prev_day = p.day;
		prev_week = p.week;
	}
	T_EQ_INT(bad, 0);
	T_EQ_INT(bad_start, 0);
}

static void
test_week_start(void)
{
	int32_t w;
	int y, bad = 0;
	struct period p;

	T_EQ_INT(period_set_tz("UTC"), 0);
	T_EQ_INT(period_week_start(202653), utc(2026, 12, 28, 0, 0));
	T_EQ_INT(period_week_start(202701), utc(2027, 1, 4, 0, 0));
	T_EQ_INT(period_week_start(202501), utc(2024, 12, 30, 0, 0));
	T_EQ_INT(period_week_start(202452), utc(2024, 12, 23, 0, 0));
	T_EQ_INT(period_week_start(202001), utc(2019, 12, 30, 0, 0));
	T_EQ_INT(period_week_start(202647), utc(2026, 11, 16, 0, 0));
	T_EQ_INT(period_day_start(20260101), utc(2026, 1, 1, 0, 0));
	T_EQ_INT(period_day_start(20240229), utc(2024, 2, 29, 0, 0));

	T_EQ_INT(period_set_tz("Europe/Amsterdam"), 0);
	T_EQ_INT(period_week_start(202653), utc(2026, 12, 27, 23, 0));
	T_EQ_INT(period_week_start(202501), utc(2024, 12, 29, 23, 0));
	/* the week in which DST starts is an hour short */
	T_EQ_INT(period_week_start(202613), utc(2026, 3, 22, 23, 0));
	T_EQ_INT(period_week_start(202614), utc(2026, 3, 29, 22, 0));
	T_EQ_INT(period_week_start(202614) - period_week_start(202613),
	    7 * 86400 - 3600);
	T_EQ_INT(period_day_start(20260101), utc(2025, 12, 31, 23, 0));

	/* every week of 2000..2040: the start belongs to the week, the
	 * second before belongs to the previous one */
	for (y = 2000; y <= 2040; y++) {
		for (w = 1; w <= 53; w++) {
			int32_t wk = y * 100 + w;
			int64_t s = period_week_start(wk);

			period_of(s, &p);
			if (p.week != wk) {
				if (w == 53)	/* a 52-week year */
					continue;
				bad++;
				continue;
			}
			period_of(s - 1, &p);
			if (p.week == wk)
				bad++;
			period_of(s + 7 * 86400 + 3600 * 2, &p);
			if (p.week == wk)
				bad++;
		}
	}
	T_EQ_INT(bad, 0);
}

static void
test_week_text(void)
{
	static const char *bad[] = {
		"", "2026", "2026-", "2026-W", "2026-47", "2026W47",
		"2026-W00", "2026-W54", "2026-W99", "2026-W47x",
		"2026-W47 ", "2026-W477", "abcd-W10", "1969-W52",
		"2026-w47", "2026-X47", "W47-2026", "-2026-W47",
		"20266-W01", "2026--W01",
	};
	char buf[32];
	size_t i;
	int32_t w;
	int y, rt_bad = 0;

	T_EQ_INT(period_week_parse("2026-W47"), 202647);
	T_EQ_INT(period_week_parse("2026-W01"), 202601);
	T_EQ_INT(period_week_parse("2026-W53"), 202653);
	T_EQ_INT(period_week_parse("1970-W01"), 197001);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		w = period_week_parse(bad[i]);
		if (w != -1)
			fprintf(stderr, "accepted \"%s\"\n", bad[i]);
		T_EQ_INT(w, -1);
	}

	period_week_format(202647, buf, sizeof(buf));
	T_EQ_STR(buf, "2026-W47");
	period_week_format(202601, buf, sizeof(buf));
	T_EQ_STR(buf, "2026-W01");
	period_week_format(202653, buf, 5);	/* truncates, terminated */
	T_EQ_STR(buf, "2026");
	period_day_format(20260105, buf, sizeof(buf));
	T_EQ_STR(buf, "2026-01-05");
	period_day_format(20261231, buf, sizeof(buf));
	T_EQ_STR(buf, "2026-12-31");

	/*
	 * A year has an ISO week 53 when it starts on a Thursday, or on a
	 * Wednesday in a leap year; other years' week 53 does not exist.
	 */
	for (y = 1970; y <= 2100; y++) {
		int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		int jan1 = (int)(((utc(y, 1, 1, 12, 0) / 86400) + 3) % 7);
		int has53 = jan1 == 3 || (leap && jan1 == 2); /* Mon = 0 */

		for (w = 1; w <= 53; w++) {
			int32_t want = (w < 53 || has53) ? y * 100 + w : -1;

			period_week_format(y * 100 + w, buf, sizeof(buf));
			if (period_week_parse(buf) != want)
				rt_bad++;
		}
	}
	T_EQ_INT(rt_bad, 0);
	T_EQ_INT(period_week_parse("2025-W53"), -1);
	T_EQ_INT(period_week_parse("2026-W4"), -1);
	T_EQ_INT(period_week_parse(" 2026-W47"), -1);
}

/* +5:30: hours start at half past in UTC, so no hour spans two days */
static void
test_half_hour_zone(void)
{
	struct period p;

	T_EQ_INT(period_set_tz("Asia/Kolkata"), 0);
	period_of(utc(2026, 1, 14, 18, 40), &p);	/* 00:10 local, Jan 15 */
	T_EQ_INT(p.day, 20260115);
	T_EQ_INT(p.hour, utc(2026, 1, 14, 18, 30));
	period_of(utc(2026, 1, 14, 18, 20), &p);	/* 23:50 local, Jan 14 */
	T_EQ_INT(p.day, 20260114);
	T_EQ_INT(p.hour, utc(2026, 1, 14, 17, 30));
	period_of(utc(2026, 1, 11, 18, 35), &p);	/* Monday 00:05 local */
	T_EQ_INT(p.week, 202603);
	T_EQ_INT(period_set_tz("UTC"), 0);
}

static void
test_set_tz(void)
{
	struct period p;
	int64_t ts = utc(2026, 12, 31, 23, 30);

	T_EQ_INT(period_set_tz("Europe/Amsterdam"), 0);
	period_of(ts, &p);
	T_EQ_INT(p.day, 20270101);
	/* unknown zones and path tricks are refused; the zone stays */
	T_EQ_INT(period_set_tz("Mars/Olympus_Mons"), -1);
	T_EQ_INT(period_set_tz("../../etc/passwd"), -1);
	T_EQ_INT(period_set_tz("Europe/../../../etc/passwd"), -1);
	period_of(ts, &p);
	T_EQ_INT(p.day, 20270101);
	/* the per-hour cache does not outlive a zone change */
	T_EQ_INT(period_set_tz("UTC"), 0);
	period_of(ts, &p);
	T_EQ_INT(p.day, 20261231);
	T_EQ_INT(period_set_tz("Asia/Tokyo"), 0);
	period_of(ts, &p);
	T_EQ_INT(p.day, 20270101);
	T_EQ_INT(p.hour, utc(2026, 12, 31, 23, 0));
	/* "" keeps the system zone and succeeds */
	T_EQ_INT(period_set_tz(""), 0);
	T_EQ_INT(period_set_tz(NULL), 0);
	T_EQ_INT(period_set_tz("UTC"), 0);
}

/* Every date 1970..2100 against the reference, both ways. */
static void
test_civil_every_day(void)
{
	int64_t z, first = days_from_civil(1970, 1, 1);
	int64_t last = days_from_civil(2100, 12, 31);
	int32_t day, mon;
	int y, m, d, yy, ww, bad = 0;

	for (z = first; z <= last; z++) {
		day = ymd(z);
		period_day_split(day, &y, &m, &d);
		if (period_day_make(y, m, d) != day ||
		    period_day_add(day, 1) != ymd(z + 1) ||
		    period_day_add(day, -1) != ymd(z - 1) ||
		    period_day_add(day, 400) != ymd(z + 400) ||
		    period_day_week(day) != iso_week(z) ||
		    period_quarter_of(day) != (m - 1) / 3 + 1)
			bad++;
		mon = period_week_monday(iso_week(z));
		if (mon != ymd(z - wday(z)))
			bad++;
		period_week_split(iso_week(z), &yy, &ww);
		if (yy * 100 + ww != iso_week(z) || ww < 1 || ww > 53)
			bad++;
		if (wday(z) == 0 && (period_week_add(iso_week(z), 1) !=
		    iso_week(z + 7) || period_week_add(iso_week(z), -1) !=
		    iso_week(z - 7) || period_week_add(iso_week(z), 60) !=
		    iso_week(z + 420)))
			bad++;
	}
	T_EQ_INT(bad, 0);
}

static void
test_civil_edges(void)
{
	int32_t w[16], last = 0;
	char buf[16];
	size_t n, i;
	int y, q, bad = 0;

	/* no such dates */
	T_EQ_INT(period_day_make(2026, 2, 29), -1);
	T_EQ_INT(period_day_make(2100, 2, 29), -1);	/* not a leap year */
	T_EQ_INT(period_day_make(2026, 4, 31), -1);
	T_EQ_INT(period_day_make(2026, 13, 1), -1);
	T_EQ_INT(period_day_make(2026, 0, 1), -1);
	T_EQ_INT(period_day_make(2026, 1, 0), -1);
	T_EQ_INT(period_day_make(2026, 1, 32), -1);
	T_EQ_INT(period_day_make(2024, 2, 29), 20240229);
	T_EQ_INT(period_day_make(2000, 2, 29), 20000229);
	/* date text: strictly YYYY-MM-DD, a real date, from 1970 */
	T_EQ_INT(period_day_parse("2026-11-18"), 20261118);
	T_EQ_INT(period_day_parse("2024-02-29"), 20240229);
	T_EQ_INT(period_day_parse("1970-01-01"), 19700101);
	T_EQ_INT(period_day_parse("2026-02-29"), -1);
	T_EQ_INT(period_day_parse("1969-12-31"), -1);
	T_EQ_INT(period_day_parse("2026-11-8"), -1);
	T_EQ_INT(period_day_parse("2026/11/18"), -1);
	T_EQ_INT(period_day_parse("2026-11-18 "), -1);
	T_EQ_INT(period_day_parse("+026-11-18"), -1);
	T_EQ_INT(period_day_parse("2026-W47-1"), -1);
	T_EQ_INT(period_day_parse(""), -1);
	/* weeks 53 and the year boundaries */
	T_EQ_INT(period_day_week(20261231), 202653);
	T_EQ_INT(period_day_week(20270101), 202653);
	T_EQ_INT(period_day_week(20270103), 202653);
	T_EQ_INT(period_day_week(20270104), 202701);
	T_EQ_INT(period_day_week(20241230), 202501);
	T_EQ_INT(period_day_week(20210104), 202101);
	T_EQ_INT(period_week_monday(202653), 20261228);
	T_EQ_INT(period_week_monday(202501), 20241230);
	T_EQ_INT(period_week_monday(202101), 20210104);
	T_EQ_INT(period_week_add(202652, 1), 202653);
	T_EQ_INT(period_week_add(202653, 1), 202701);
	T_EQ_INT(period_week_add(202701, -1), 202653);
	T_EQ_INT(period_week_add(202552, 1), 202601);	/* 2025 has 52 */
	T_EQ_INT(period_week_add(202601, -1), 202552);
	T_EQ_INT(period_day_add(20241231, 1), 20250101);
	T_EQ_INT(period_day_add(20240228, 1), 20240229);
	T_EQ_INT(period_day_add(20250301, -1), 20250228);
	/* quarters: stepping, text */
	y = 2026;
	q = 1;
	period_quarter_add(&y, &q, -1);
	T_CHECK(y == 2025 && q == 4);
	period_quarter_add(&y, &q, 1);
	T_CHECK(y == 2026 && q == 1);
	period_quarter_add(&y, &q, 7);
	T_CHECK(y == 2027 && q == 4);
	period_quarter_add(&y, &q, -12);
	T_CHECK(y == 2024 && q == 4);
	y = 0;
	q = 1;
	period_quarter_add(&y, &q, -1);		/* floors below year 0 */
	T_CHECK(y == -1 && q == 4);
	T_EQ_INT(period_quarter_parse("2026-Q4", &y, &q), 0);
	T_CHECK(y == 2026 && q == 4);
	T_EQ_INT(period_quarter_parse("1970-Q1", &y, &q), 0);
	T_EQ_INT(period_quarter_parse("2026-Q5", &y, &q), -1);
	T_EQ_INT(period_quarter_parse("2026-Q0", &y, &q), -1);
	T_EQ_INT(period_quarter_parse("1969-Q4", &y, &q), -1);
	T_EQ_INT(period_quarter_parse("2026-Q4x", &y, &q), -1);
	T_EQ_INT(period_quarter_parse("2026-W47", &y, &q), -1);
	T_EQ_INT(period_quarter_parse("2026-Q", &y, &q), -1);
	period_quarter_format(2026, 4, buf, sizeof(buf));
	T_EQ_STR(buf, "2026-Q4");
	period_quarter_format(987, 1, buf, sizeof(buf));
	T_EQ_STR(buf, "0987-Q1");
	/* quarters: the weeks whose Thursday is inside */
	n = period_quarter_weeks(2026, 4, w, 16);
	T_EQ_INT(n, 14);			/* 2026-W40 .. 2026-W53 */
	T_EQ_INT(w[0], 202640);
	T_EQ_INT(w[n - 1], 202653);
	n = period_quarter_weeks(2027, 1, w, 16);
	T_EQ_INT(w[0], 202701);
	n = period_quarter_weeks(2025, 1, w, 16);
	T_EQ_INT(n, 13);
	T_EQ_INT(w[0], 202501);			/* Thursday 2025-01-02 */
	T_EQ_INT(period_quarter_weeks(2026, 4, w, 3), 3);
	/*
	 * every quarter 1971..2099: as many weeks as it has Thursdays (a
	 * 90-day Q1 may have 12), contiguous, in order, and the next
	 * quarter goes on with the week after
	 */
	for (y = 1971; y < 2100; y++)
		for (q = 1; q <= 4; q++) {
			int64_t z = days_from_civil(y, q * 3 - 2, 1);
			int64_t end = q == 4 ? days_from_civil(y + 1, 1, 1) :
			    days_from_civil(y, q * 3 + 1, 1);
			size_t thus = 0;

			/* the reference: Thursdays in the quarter */
			for (; z < end; z++)
				thus += wday(z) == 3;
			n = period_quarter_weeks(y, q, w, 16);
			if (n != thus || n < 12 || n > 14)
				bad++;
			if (q > 1 && period_week_add(last, 1) != w[0])
				bad++;
			last = w[n - 1];
			for (i = 0; i < n; i++) {
				int32_t thu = period_day_add(
				    period_week_monday(w[i]), 3);

				if (period_quarter_of(thu) != q ||
				    thu / 10000 != y)
					bad++;
				if (i > 0 && period_week_add(w[i - 1], 1) !=
				    w[i])
					bad++;
			}
		}
	T_EQ_INT(bad, 0);
}

/* Day and week lengths follow the zone's DST days. */
static void
test_hours(void)
{
	T_EQ_INT(period_set_tz("Europe/Amsterdam"), 0);
	T_EQ_INT(period_day_hours(20261024), 24);
	T_EQ_INT(period_day_hours(20261025), 25);
	T_EQ_INT(period_day_hours(20260329), 23);
	T_EQ_INT(period_day_hours(20260330), 24);
	T_EQ_INT(period_week_hours(202643), 169);	/* Oct 19..25 */
	T_EQ_INT(period_week_hours(202613), 167);	/* Mar 23..29 */
	T_EQ_INT(period_week_hours(202647), 168);
	T_EQ_INT(period_week_hours(202653), 168);	/* across the year */
	T_EQ_INT(period_set_tz("UTC"), 0);
	T_EQ_INT(period_day_hours(20261025), 24);
	T_EQ_INT(period_week_hours(202643), 168);
}

int
main(void)
{
	T_RUN(test_utc_basics);
	T_RUN(test_iso_boundaries);
	T_RUN(test_utc_every_day);
	T_RUN(test_amsterdam);
	T_RUN(test_amsterdam_every_hour);
	T_RUN(test_week_start);
	T_RUN(test_week_text);
	T_RUN(test_half_hour_zone);
	T_RUN(test_set_tz);
	T_RUN(test_civil_every_day);
	T_RUN(test_civil_edges);
	T_RUN(test_hours);
	return T_DONE();
}
