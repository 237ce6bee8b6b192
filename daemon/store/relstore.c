/*
 * relstore.c - the release database interface (relstore.h): each call
 * goes to the backend's operation.  The one derived call,
 * relstore_is_released(), is built on period() so that a backend has
 * one fewer thing to get right.
 */
#include <stddef.h>

#include "store/relstore.h"

void
relstore_close(struct relstore *s)
{
	if (s != NULL)
		s->ops->close(s);
}

const char *
relstore_error(struct relstore *s)
{
	return s->ops->error(s);
}

int
relstore_publish(struct relstore *s, const struct relstore_pub *p)
{
	return s->ops->publish(s, p);
}

int
relstore_retention(struct relstore *s, int32_t cutoff_day,
    int32_t cutoff_week)
{
	return s->ops->retention(s, cutoff_day, cutoff_week);
}

int
relstore_timezone(struct relstore *s, char *buf, size_t len)
{
	return s->ops->timezone(s, buf, len);
}

int
relstore_periods(struct relstore *s, enum rel_kind kind, int32_t from,
    int32_t to, relstore_period_fn fn, void *arg)
{
	return s->ops->periods(s, kind, from, to, fn, arg);
}

int
relstore_period(struct relstore *s, enum rel_kind kind, int32_t period,
    struct rel_period *out)
{
	return s->ops->period(s, kind, period, out);
}

int
relstore_is_released(struct relstore *s, enum rel_kind kind,
    int32_t period)
{
	struct rel_period p;

	switch (s->ops->period(s, kind, period, &p)) {
	case 0:
		return 1;
	case 1:
		return 0;
	default:
		return -1;
	}
}

int
relstore_axis(struct relstore *s, enum rel_kind kind, int32_t period,
    enum relstore_axis axis, relstore_name_fn fn, void *arg)
{
	return s->ops->axis(s, kind, period, axis, fn, arg);
}

int
relstore_cells(struct relstore *s, enum rel_kind kind, int32_t period,
    relstore_cell_fn fn, void *arg)
{
	return s->ops->cells(s, kind, period, fn, arg);
}

int
relstore_cell(struct relstore *s, enum rel_kind kind, int32_t period,
    const char *dept, const char *svc, uint64_t m[RM_N])
{
	return s->ops->cell(s, kind, period, dept, svc, m);
}

int
relstore_services(struct relstore *s, relstore_service_fn fn, void *arg)
{
	return s->ops->services(s, fn, arg);
}

int
relstore_blind(struct relstore *s, int32_t day, uint64_t v[RB_N])
{
	return s->ops->blind(s, day, v);
}

int
relstore_meta(struct relstore *s, const char *key, char *buf, size_t len)
{
	if (len > 0)
		buf[0] = '\0';
	if (s->ops->meta == NULL)
		return 1;
	return s->ops->meta(s, key, buf, len);
}
