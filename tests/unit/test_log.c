/*
 * test_log.c - the log verbs and the one table of levels.
 *
 * log_warn() appends ": strerror(errno)" and log_warnx() does not, as in
 * the OpenBSD daemons the names come from; the level names come from one
 * table that the configuration's log_level choices also use.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "t.h"

/* What the verb wrote on stderr, without the newline. */
static char captured[2048];

#define CAPTURE(call) do {						\
	FILE *t_tmp_ = tmpfile();					\
	int t_save_ = dup(2);						\
	size_t t_n_;							\
									\
	fflush(stderr);							\
	dup2(fileno(t_tmp_), 2);					\
	call;								\
	fflush(stderr);							\
	dup2(t_save_, 2);						\
	close(t_save_);							\
	rewind(t_tmp_);							\
	t_n_ = fread(captured, 1, sizeof(captured) - 1, t_tmp_);	\
	captured[t_n_] = '\0';						\
	if (t_n_ > 0 && captured[t_n_ - 1] == '\n')			\
		captured[t_n_ - 1] = '\0';				\
	fclose(t_tmp_);							\
} while (0)

static void
test_warn_appends_errno(void)
{
	char want[256];

	log_init("t", 0, LOG_LVL_DEBUG);
	snprintf(want, sizeof(want), "t: warning: open x: %s",
	    strerror(ENOENT));
	CAPTURE((errno = ENOENT, log_warn("open %s", "x")));
	T_EQ_STR(captured, want);
	CAPTURE((errno = ENOENT, log_warnx("open %s", "x")));
	T_EQ_STR(captured, "t: warning: open x");
	CAPTURE(log_info("n=%d", 3));
	T_EQ_STR(captured, "t: info: n=3");
	CAPTURE(log_error("e"));
	T_EQ_STR(captured, "t: error: e");
	CAPTURE(log_debug("d"));
	T_EQ_STR(captured, "t: debug: d");
}

static void
test_level_filter(void)
{
	log_init("t", 0, LOG_LVL_WARN);
	CAPTURE(log_info("hidden"));
	T_EQ_STR(captured, "");
	CAPTURE((errno = EACCES, log_warn("shown")));
	T_CHECK(strstr(captured, "t: warning: shown: ") == captured);
	log_set_level(LOG_LVL_ERROR);
	CAPTURE(log_warnx("hidden"));
	T_EQ_STR(captured, "");
	log_set_level(LOG_LVL_INFO);
}

static void
test_level_names(void)
{
	const struct config_key *k;
	int i;

	T_EQ_INT(LOG_LVL_N, 4);
	T_EQ_STR(log_level_name(LOG_LVL_ERROR), "error");
	T_EQ_STR(log_level_name(LOG_LVL_WARN), "warning");
	T_EQ_STR(log_level_name(LOG_LVL_INFO), "info");
	T_EQ_STR(log_level_name(LOG_LVL_DEBUG), "debug");
	T_CHECK(log_level_name(LOG_LVL_N) == NULL);
	T_CHECK(log_level_name(-1) == NULL);
	T_CHECK(log_level_names[LOG_LVL_N] == NULL);
	for (i = 0; i < LOG_LVL_N; i++)
		T_EQ_INT(log_level_from_name(log_level_names[i]), i);
	T_EQ_INT(log_level_from_name("warn"), -1);
	/* the configuration offers exactly these, in this order */
	for (k = config_keys(NULL); k->name != NULL; k++)
		if (strcmp(k->name, "log_level") == 0)
			break;
	T_CHECK(k->name != NULL && k->choices == log_level_names);
}

int
main(void)
{
	T_RUN(test_warn_appends_errno);
	T_RUN(test_level_filter);
	T_RUN(test_level_names);
	return T_DONE();
}
