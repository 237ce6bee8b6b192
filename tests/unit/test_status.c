/*
 * test_status.c - the heartbeat (common/status.h aic_heartbeat): a
 * running capture without packets is "quiet", not "capture_down"; the
 * idle time counts from the last packet, or from the start before one.
 */
#include <string.h>

#include "common/status.h"
#include "t.h"

static void
test_heartbeat(void)
{
	struct aic_status s;
	int64_t idle;

	memset(&s, 0, sizeof(s));
	s.start_time = 1000;
	s.capture = AIC_CAPTURE_RUNNING;
	s.capturing = 1;
	/* no packet yet: idle since the start, quiet after AIC_QUIET_SEC */
	T_EQ_INT(aic_heartbeat(&s, 1010, &idle), AIC_HB_TRAFFIC);
	T_EQ_INT(idle, 10);
	T_EQ_INT(aic_heartbeat(&s, 1000 + AIC_QUIET_SEC, &idle), AIC_HB_QUIET);
	T_EQ_INT(idle, AIC_QUIET_SEC);
	s.last_packet = 2000;
	T_EQ_INT(aic_heartbeat(&s, 2000 + AIC_QUIET_SEC - 1, &idle),
	    AIC_HB_TRAFFIC);
	T_EQ_INT(idle, AIC_QUIET_SEC - 1);
	T_EQ_INT(aic_heartbeat(&s, 5000, &idle), AIC_HB_QUIET);
	T_EQ_INT(idle, 3000);
	/* a packet stamped a little ahead of the clock: idle 0 */
	T_EQ_INT(aic_heartbeat(&s, 1990, &idle), AIC_HB_TRAFFIC);
	T_EQ_INT(idle, 0);
	/* the interface lost: down, whatever the last packet */
	s.capture = AIC_CAPTURE_DOWN;
	s.capturing = 0;
	T_EQ_INT(aic_heartbeat(&s, 2001, &idle), AIC_HB_CAPTURE_DOWN);
	T_EQ_INT(idle, 1);
	/* the older status without a state: "capturing" decides */
	s.capture = AIC_CAPTURE_UNSET;
	T_EQ_INT(aic_heartbeat(&s, 2001, &idle), AIC_HB_CAPTURE_DOWN);
	s.capturing = 1;
	T_EQ_INT(aic_heartbeat(&s, 2001, &idle), AIC_HB_TRAFFIC);
	/* nothing captured at all: no idle time */
	s.capture = AIC_CAPTURE_NONE;
	T_EQ_INT(aic_heartbeat(&s, 2001, &idle), AIC_HB_NO_CAPTURE);
	T_EQ_INT(idle, -1);
	s.capture = AIC_CAPTURE_OFFLINE;
	T_EQ_INT(aic_heartbeat(&s, 2001, &idle), AIC_HB_NO_CAPTURE);
}

int
main(void)
{
	T_RUN(test_heartbeat);
	return T_DONE();
}
