/*
 * test_anomaly.c - the one table of anomaly names (common/anomaly.h):
 * names are unique and map back to their enum, decode's and the DNS
 * parser's results are counted and named through it.
 */
#include <string.h>

#include "common/anomaly.h"
#include "decode/decode.h"
#include "proto/dns.h"
#include "t.h"

static void
test_names_round_trip(void)
{
	int i, j;

	for (i = 0; i < ANOM_N; i++) {
		const char *n = anomaly_name((enum anomaly)i);

		T_CHECK(n != NULL && n[0] != '\0');
		T_EQ_INT(anomaly_from_name(n, strlen(n)), i);
		for (j = 0; j < i; j++)
			T_CHECK(strcmp(n, anomaly_name((enum anomaly)j)) != 0);
	}
	T_EQ_STR(anomaly_name(ANOM_N), "unknown");
	T_EQ_INT(anomaly_from_name("no_such_thing", 13), ANOM_PLUGIN_OTHER);
	/* a prefix of a name is not the name */
	T_EQ_INT(anomaly_from_name("dns_short", 3), ANOM_PLUGIN_OTHER);
	T_EQ_STR(anomaly_name(ANOM_TLS_MALFORMED), "tls_malformed");
	T_EQ_STR(anomaly_name(ANOM_CELLS_FULL), "counts_dropped_memory_full");
}

static void
test_decode_results(void)
{
	int r;

	T_EQ_INT(decode_result_anomaly(DEC_OK), ANOM_N);
	T_EQ_INT(decode_result_anomaly(DEC_NOT_IP), ANOM_N);
	T_EQ_INT(decode_result_anomaly(DEC_NOT_TCPUDP), ANOM_N);
	T_EQ_INT(decode_result_anomaly(DEC_FRAGMENT), ANOM_IP_FRAGMENT);
	T_EQ_INT(decode_result_anomaly(DEC_BAD_LINK), ANOM_BAD_LINK);
	T_EQ_INT(decode_result_anomaly(DEC_BAD_IP), ANOM_BAD_IP);
	T_EQ_INT(decode_result_anomaly(DEC_BAD_L4), ANOM_BAD_L4);
	T_EQ_INT(decode_result_anomaly(DEC_UNSUPPORTED_DLT),
	    ANOM_UNSUPPORTED_LINK);
	T_EQ_INT(decode_result_anomaly(DEC_NRESULTS), ANOM_N);
	/* a counted result is called by its anomaly's name */
	for (r = 0; r < DEC_NRESULTS; r++)
		if (decode_result_anomaly((enum decode_result)r) != ANOM_N)
			T_EQ_STR(decode_result_name((enum decode_result)r),
			    anomaly_name(decode_result_anomaly(
			    (enum decode_result)r)));
}

static void
test_dns_errors(void)
{
	int e;

	T_EQ_INT(dns_err_anomaly(DNS_OK), ANOM_N);
	T_EQ_INT(dns_err_anomaly(DNS_E_SHORT), ANOM_DNS_SHORT);
	T_EQ_INT(dns_err_anomaly(DNS_E_TRUNC_QUESTION),
	    ANOM_DNS_TRUNC_QUESTION);
	T_EQ_INT(dns_err_anomaly(99), ANOM_N);
	for (e = DNS_E_SHORT; e <= DNS_E_TRUNC_QUESTION; e++) {
		T_CHECK(dns_err_anomaly(e) != ANOM_N);
		T_EQ_STR(dns_err_name(e), anomaly_name(dns_err_anomaly(e)));
	}
}

int
main(void)
{
	T_RUN(test_names_round_trip);
	T_RUN(test_decode_results);
	T_RUN(test_dns_errors);
	return T_DONE();
}
