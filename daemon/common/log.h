/*
 * log.h - the daemon's few log verbs.
 *
 * There is deliberately no formatter for an address anywhere in this
 * project: log lines carry counts, names of services and departments,
 * file names and errors, never who.  A reviewer can check that by
 * grepping for inet_ntop (used only by tests and the address parser).
 * Per-packet conditions are counted as anomalies, never logged.
 */
#ifndef AIC_LOG_H
#define AIC_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void	log_init(const char *ident, int use_syslog, int level);
void	log_set_level(int level);
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start-up only: log and exit(1). */
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
int	log_level_from_name(const char *name);

#endif /* AIC_LOG_H */
