/*
 * report_fmt.h - internal to the report: numbers, dates and device
 * figures as a reader of the report's language writes them, and the key
 * points as sentences.  Shared by every renderer; reads the model only.
 */
#ifndef AIC_REPORT_FMT_H
#define AIC_REPORT_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "out/report/report_model.h"

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
/* The week's hours without sensor data (report.blind.gap), as the
 * T_UNCOVERED sentence: "16 November: 24 of 24 h, ..."; "" when none. */
const char *rfmt_gaps(const struct report *, char *buf, size_t n);
/* 16–22 November 2026 */
const char *rfmt_range(const struct report *, int32_t first, int32_t last,
	    char *buf, size_t n);
/* A device figure as text: "42", or "–" for zero; avg for quarters. */
const char *rfmt_fig(const struct report *, const struct rfig *, char *buf,
	    size_t n);
/* A count: rfmt_int, or "–" for zero (one glyph for every zero). */
const char *rfmt_cnt(const struct report *, uint64_t v, char *buf, size_t n);
/* Bytes: rfmt_bytes, or "–" for zero. */
const char *rfmt_vol(const struct report *, uint64_t v, char *buf, size_t n);
/* What the figures cover: "" (a sensor's own release), "Organisation
 * (all sites)" or "Site NAME". */
const char *rfmt_scope(const struct report *, char *buf, size_t n);
/* An instant in the report's zone: "16 November 2026 14:05"; "never"
 * for 0. */
const char *rfmt_when(const struct report *, int64_t t, char *buf,
	    size_t n);
#define RFMT_ZERO	"\xe2\x80\x93"	/* "–" */

/* The key points, as sentences in the report's language. */
#define RFINDINGS_MAX	10
#define RFINDING_LEN	768
size_t	rep_findings(const struct report *, char out[][RFINDING_LEN]);

#endif /* AIC_REPORT_FMT_H */
