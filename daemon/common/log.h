/*
 * log.h - the daemon's few log verbs.
 *
 * There is deliberately no formatter for an address anywhere in this
 * project: log lines carry counts, names of services and departments,
 * file names and errors, never who.  A reviewer can check that by
 * grepping for inet_ntop (used only by tests and the address parser).
 * Per-packet conditions are counted as anomalies, never logged.
 *
 * As in the OpenBSD daemons: log_warn() and fatal() append
 * ": strerror(errno)" (call them right after the failed system call),
 * log_warnx() and fatalx() log the message as it is.
 */
#ifndef AIC_LOG_H
#define AIC_LOG_H

#include <stdarg.h>

/*
 * The levels, once, in order of severity: the enum, the name (the
 * configuration's log_level values and the stderr tag) and the syslog
 * priority (used only in log.c, which includes <syslog.h>).
 */
#define LOG_LEVELS(X)							\
	X(ERROR, "error", LOG_ERR)					\
	X(WARN, "warning", LOG_WARNING)					\
	X(INFO, "info", LOG_INFO)					\
	X(DEBUG, "debug", LOG_DEBUG)

#define LOG_LVL_ENUM(id, name, prio) LOG_LVL_##id,
enum log_level { LOG_LEVELS(LOG_LVL_ENUM) LOG_LVL_N };
#undef LOG_LVL_ENUM
extern const char *const log_level_names[LOG_LVL_N + 1];	/* NULL-ended */

void	log_init(const char *ident, int use_syslog, int level);
void	log_set_level(int level);
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start-up only: log and exit(1). */
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
int	log_level_from_name(const char *name);	/* -1: none */
const char *log_level_name(int level);		/* NULL: none */

#endif /* AIC_LOG_H */
