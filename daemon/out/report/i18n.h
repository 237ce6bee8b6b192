/*
 * i18n.h - the report's texts in English and Dutch.
 *
 * Every text a report shows is a message id here; i18n() never returns
 * NULL (the unit test checks that both languages have every message).
 * Texts with values carry numbered holes {1}..{3} that i18n_fill()
 * fills, so a translation may put them in any order.
 */
#ifndef AIC_I18N_H
#define AIC_I18N_H

#include <stddef.h>

enum lang { LANG_EN, LANG_NL, LANG_N };

enum msg {
	T_TITLE_WEEK,
	T_TITLE_QUARTER,
	T_WEEK_N,
	T_QUARTER_N,
	T_BADGE,
	T_GENERATED,
	T_VS_PREV,
	T_NO_COMPARISON,
	T_KPI_DEVICES,
	T_KPI_DEVICES_Q,
	T_KPI_DEPTS,
	T_OF_N,
	T_KPI_DEPTS_SUB,
	T_KPI_SHADOW,
	T_KPI_SHADOW_SUB,
	T_KPI_SERVICES,
	T_KPI_SERVICES_NEW,
	T_CHANGE_VS,
	T_CONNECTIONS,
	T_UPLOADED,
	T_UPLOADED_SUB,
	T_BLOCKED,
	T_BLOCKED_SUB,
	T_UNATTRIBUTED,
	T_UNATTRIBUTED_SUB,
	T_AND,
	T_FINDINGS,
	T_F_NODATA,
	T_F_DEV,
	T_F_DEV_CHANGE,
	T_F_DEV_Q,
	T_F_TOP,
	T_F_SHADOW,
	T_F_SHADOW_NONE,
	T_F_NEW,
	T_F_NONEW,
	T_F_CN,
	T_F_BLOCKED,
	T_F_BLIND,
	T_CHART_WEEKS,
	T_CHART_SHADOW,
	T_SANCTIONED,
	T_SHADOW,
	T_SHADOW_SHORT,
	T_ORGANISATION,
	T_DEPARTMENTS,
	T_DEPARTMENT,
	T_DEVICES,
	T_DEVICES_AVG,
	T_DEVICES_PEAK,
	T_CHANGE_W,
	T_CHANGE_Q,
	T_SHADOW_SHARE,
	T_DEPT_NOTE,
	T_NONE,
	T_SERVICE,
	T_ALL,
	T_ALL_SERVICES,
	T_SERVICES,
	T_CATEGORY,
	T_JURISDICTION,
	T_STATUS,
	T_NEW,
	T_NEW_TITLE,
	T_NEW_ORG,
	T_NEW_DEPT,
	T_VENDOR,
	T_FIRST_SEEN,
	T_NEW_NOTE,
	T_CATEGORIES,
	T_CHART_CATEGORIES,
	T_JURIS_TITLE,
	T_CHART_JURIS,
	T_JURIS_NOTE,
	T_UPLOAD_TITLE,
	T_UPLOAD_NOTE,
	T_CHART_UPLOAD,
	T_BLOCKED_TITLE,
	T_BLOCKED_NOTE,
	T_BLIND_TITLE,
	T_BLIND_INTRO,
	T_MEASURE,
	T_VALUE,
	T_MEANING,
	T_BL_ECH,
	T_BL_ECH_NOTE,
	T_BL_DOH,
	T_BL_DOH_NOTE,
	T_BL_DROPS,
	T_BL_DROPS_NOTE,
	T_BL_UNASSIGNED,
	T_BL_UNASSIGNED_NOTE,
	T_BL_NOSNI,
	T_BL_NOSNI_NOTE,
	T_BL_UNREADABLE,
	T_BL_UNREADABLE_NOTE,
	T_BL_CONFLICT,
	T_BL_CONFLICT_NOTE,
	T_BL_HOURS,
	T_BL_HOURS_NOTE,
	T_BL_LOST,
	T_BL_LOST_NOTE,
	T_METHOD_TITLE,
	T_M_WHAT,
	T_M_COLLECTED_H,
	T_M_COLLECTED,
	T_M_NOT_COLLECTED_H,
	T_M_NOT_COLLECTED,
	T_M_GROUP_H,
	T_M_GROUP,
	T_M_KEY_H,
	T_M_KEY,
	T_M_QUARTER,
	T_M_RETENTION_H,
	T_M_RETENTION,
	T_M_RETENTION_CONF,
	T_M_DEFS_H,
	T_M_DEFS,
	T_LEGEND,
	T_MATRIX,
	T_MATRIX_Q,
	T_MATRIX_NOTE,
	T_UNASSIGNED_SHORT,
	T_WEEKLY_TITLE,
	T_WEEK,
	T_NO_DATA_FOR,
	T_CHART_SHADOW_TOP,
	T_TOP_SERVICES,
	T_SHARE_CONNS,
	T_MATRIX_NOTE_Q,
	T_MATRIX_MORE,
	T_NEW_SERVICES_FIRST,
	T_COVERAGE,
	T_UNCOVERED,
	T_UNCOVERED_DAY,
	T_INCOMPLETE,
	T_Q_WEEKS,
	T_UNPROTECTED,
	T_BL_LATE,
	T_BL_LATE_NOTE,
	T_DEVICE_WEEKS,
	T_NOT_RELEASED,
	T_M_GROUP_NONE,
	T_SCOPE_ORG,
	T_SCOPE_SITE,
	T_M_SITES_H,
	T_M_SITES,
	T_M_SITE,
	T_SITES_TITLE,
	T_SITES_INTRO,
	T_SITE,
	T_LAST_SEEN,
	T_SITE_HOURS,
	T_SILENT,
	T_REPORTING,
	T_NEVER,
	T_N
};

/* "en" or "nl" (case-insensitive); -1 otherwise. */
int		 i18n_lang_parse(const char *, enum lang *);
const char	*i18n_lang_code(enum lang);
const char	*i18n(enum lang, enum msg);
/* 1..12 -> "November" / "november". */
const char	*i18n_month(enum lang, int month);
/* A catalog category ("chat", "code", ...); unknown ones as given. */
const char	*i18n_category(enum lang, const char *category);
/* "EU", "US", "CN", "other" -> a name for the reader. */
const char	*i18n_jurisdiction(enum lang, const char *group);
/* Thousands separator and decimal mark. */
const char	*i18n_thousands(enum lang);
const char	*i18n_decimal(enum lang);
/*
 * tmpl with {1}, {2}, {3} replaced by a, b, c (NULL: empty), truncated
 * to fit buf; returns buf.
 */
const char	*i18n_fill(char *buf, size_t n, const char *tmpl,
		    const char *a, const char *b, const char *c);

#endif /* AIC_I18N_H */
