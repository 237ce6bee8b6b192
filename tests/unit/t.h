/*
 * t.h - the unit-test harness: a handful of macros, no framework.
 *
 * Each test binary defines test functions, lists them in main() with
 * T_RUN(), and ends with T_DONE(), which prints "N passed, N failed"
 * and returns non-zero when anything failed.  A check that fails prints
 * file:line and the expression, and the test goes on so one run shows
 * every failure.
 */
#ifndef AIC_T_H
#define AIC_T_H

#include <stdio.h>
#include <string.h>

static int t_pass, t_fail, t_cur_failed;

#define T_CHECK(expr) do {						\
	if (expr) {							\
		t_pass++;						\
	} else {							\
		t_fail++;						\
		t_cur_failed = 1;					\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
		    __FILE__, __LINE__, #expr);				\
	}								\
} while (0)

#define T_EQ_INT(a, b) do {						\
	long long t_a_ = (long long)(a), t_b_ = (long long)(b);		\
	if (t_a_ == t_b_) {						\
		t_pass++;						\
	} else {							\
		t_fail++;						\
		t_cur_failed = 1;					\
		fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n",\
		    __FILE__, __LINE__, #a, t_a_, #b, t_b_);		\
	}								\
} while (0)

#define T_EQ_STR(a, b) do {						\
	const char *t_a_ = (a), *t_b_ = (b);				\
	if (t_a_ != NULL && t_b_ != NULL && strcmp(t_a_, t_b_) == 0) {	\
		t_pass++;						\
	} else {							\
		t_fail++;						\
		t_cur_failed = 1;					\
		fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n",\
		    __FILE__, __LINE__, #a, t_a_ ? t_a_ : "(null)",	\
		    t_b_ ? t_b_ : "(null)");				\
	}								\
} while (0)

#define T_RUN(fn) do {							\
	t_cur_failed = 0;						\
	fn();								\
	fprintf(stderr, "%-6s %s\n", t_cur_failed ? "FAIL" : "ok", #fn);\
} while (0)

#define T_DONE() (printf("%d passed, %d failed\n", t_pass, t_fail),	\
	t_fail ? 1 : 0)

#endif /* AIC_T_H */
