/*
 * clock.h - the monotonic clock, for deadlines and intervals that must
 * not move when the wall clock is set.  Header only.
 */
#ifndef AIC_CLOCK_H
#define AIC_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static inline int64_t
mono_ms(void)
{
	return (int64_t)(mono_usec() / 1000);
}

static inline int64_t
mono_sec(void)
{
	return (int64_t)(mono_usec() / 1000000);
}

#endif /* AIC_CLOCK_H */
