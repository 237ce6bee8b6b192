/*
 * cfgerr.h - one configuration error, reported once, clearly.
 *
 * Every loader that reads a file an operator wrote (catalog, daemon
 * configuration, department map) fills one struct cfgerr and returns a
 * failure; the caller prints it with cfgerr_format().  The message says
 * what is wrong and what to do about it ("unknown category 'chatbot' —
 * use one of chat, api, ..."), so a start-up failure can be fixed from
 * the log line alone.  Header-only so every module can use it without a
 * link dependency.
 */
#ifndef AIC_CFGERR_H
#define AIC_CFGERR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

struct cfgerr {
	char	file[256];	/* "" when the error has no file */
	int	line;		/* <= 0 when unknown */
	char	msg[512];	/* problem — what to do */
};

/*
 * Record an error.  e may be NULL (the caller did not ask for details);
 * file may be NULL.  Over-long text is truncated, never overflowed.
 */
static inline void cfgerr_set(struct cfgerr *e, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static inline void
cfgerr_set(struct cfgerr *e, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return;
	snprintf(e->file, sizeof(e->file), "%s", file != NULL ? file : "");
	e->line = line;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/*
 * "file:line: msg", or "file: msg" when line <= 0, or just "msg" when
 * there is no file.  Returns buf so it can be passed straight to a log
 * call.
 */
static inline const char *
cfgerr_format(const struct cfgerr *e, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return "";
	if (e == NULL)
		snprintf(buf, len, "unknown configuration error");
	else if (e->file[0] == '\0')
		snprintf(buf, len, "%s", e->msg);
	else if (e->line <= 0)
		snprintf(buf, len, "%s: %s", e->file, e->msg);
	else
		snprintf(buf, len, "%s:%d: %s", e->file, e->line, e->msg);
	return buf;
}

#endif /* AIC_CFGERR_H */
