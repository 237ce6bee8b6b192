/*
 * log.c - stderr or syslog, one line per call.
 *
 * The levels are described once, in LOG_LEVELS (log.h): the enum, the
 * names (the configuration's log_level values, the stderr tag) and the
 * syslog priorities.  The verbs follow the OpenBSD daemons whose names they
 * borrow: log_warn() and fatal() append ": " and strerror(errno), for a
 * call right after a failed system call; log_warnx() and fatalx() do not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "common/log.h"

#define NAME(id, name, prio) name,
const char *const log_level_names[LOG_LVL_N + 1] = { LOG_LEVELS(NAME) NULL };
#undef NAME
#define PRIO(id, name, prio) prio,
static const int log_prio[LOG_LVL_N] = { LOG_LEVELS(PRIO) };
#undef PRIO

static int	 log_use_syslog;
static int	 log_lvl = LOG_LVL_INFO;
static const char *log_ident = "aicensusd";

void
log_init(const char *ident, int use_syslog, int level)
{
	log_ident = ident;
	log_use_syslog = use_syslog;
	log_lvl = level;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(int level)
{
	log_lvl = level;
}

const char *
log_level_name(int level)
{
	return level >= 0 && level < LOG_LVL_N ? log_level_names[level] : NULL;
}

int
log_level_from_name(const char *name)
{
	int i;

	for (i = 0; i < LOG_LVL_N; i++)
		if (strcmp(name, log_level_names[i]) == 0)
			return i;
	return -1;
}

/* err >= 0: append ": strerror(err)". */
static void
vlog(int level, int err, const char *fmt, va_list ap)
{
	char msg[1024];

	if (level < 0 || level >= LOG_LVL_N || level > log_lvl)
		return;
	if (err >= 0) {
		vsnprintf(msg, sizeof(msg), fmt, ap);
		if (log_use_syslog)
			syslog(log_prio[level], "%s: %s", msg,
			    strerror(err));
		else
			fprintf(stderr, "%s: %s: %s: %s\n", log_ident,
			    log_level_names[level], msg, strerror(err));
		return;
	}
	if (log_use_syslog) {
		vsyslog(log_prio[level], fmt, ap);
		return;
	}
	fprintf(stderr, "%s: %s: ", log_ident, log_level_names[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* errno is read first: nothing before it may change it. */
#define LOG_FN(fn, lvl, with_errno)					\
void									\
fn(const char *fmt, ...)						\
{									\
	int err = (with_errno) ? errno : -1;				\
	va_list ap;							\
									\
	va_start(ap, fmt);						\
	vlog(lvl, err, fmt, ap);					\
	va_end(ap);							\
}

LOG_FN(log_error, LOG_LVL_ERROR, 0)
LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_debug, LOG_LVL_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, err, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, -1, fmt, ap);
	va_end(ap);
	exit(1);
}
