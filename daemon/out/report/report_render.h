/*
 * report_render.h - internal to the report: the renderers.  Each lays
 * out one model (report_model.h) on a stream and reads nothing else; it
 * is found through the table of formats in report.c (report.h), never
 * called by name from elsewhere.  0, or -1 when writing failed.
 */
#ifndef AIC_REPORT_RENDER_H
#define AIC_REPORT_RENDER_H

#include <stdio.h>

struct report;

int	report_html(const struct report *, FILE *);	/* report_html.c */
int	report_md(const struct report *, FILE *);	/* report_text.c */
int	report_csv(const struct report *, FILE *);	/* report_text.c */
int	report_json(const struct report *, FILE *);	/* report_json.c */

#endif /* AIC_REPORT_RENDER_H */
