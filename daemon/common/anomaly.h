/*
 * anomaly.h - every odd thing the sensor meets is a named, counted event.
 *
 * Per-packet conditions are never logged (that would let traffic fill
 * the log); they are counted here per hour, stored beside the usage, and
 * read back by reports as the sensor's blind spots.
 *
 * ANOMALY_LIST is the one place an anomaly is named (Suricata's DEvents
 * style): everything that counts one uses the enum - decode through
 * decode_result_anomaly(), the DNS parser through dns_err_anomaly(), the
 * built-in detectors through det_anomaly() (detectors.h).  A name leaves
 * only through anomaly_name() (/metrics, status, the database) and comes
 * back through anomaly_from_name() only where a name is all there is: an
 * event over the plugin ABI and a stored row.
 */
#ifndef AIC_ANOMALY_H
#define AIC_ANOMALY_H

#define ANOMALY_LIST(X)							\
	X(BAD_LINK, "bad_link")						\
	X(BAD_IP, "bad_ip")						\
	X(BAD_L4, "bad_l4")						\
	X(UNSUPPORTED_LINK, "unsupported_link")				\
	X(IP_FRAGMENT, "ip_fragment_skipped")				\
	X(ENCAP_MALFORMED, "encap_malformed")				\
	X(ENCAP_TOO_DEEP, "encap_too_deep")				\
	X(DNS_SHORT, "dns_short")					\
	X(DNS_NAME_LOOP, "dns_name_loop")				\
	X(DNS_NAME_TOO_LONG, "dns_name_too_long")			\
	X(DNS_BAD_LABEL, "dns_bad_label")				\
	X(DNS_NO_QUESTION, "dns_no_question")				\
	X(DNS_TRUNC_QUESTION, "dns_trunc_question")			\
	X(DNS_TCP_BAD_LEN, "dns_tcp_bad_length")			\
	X(TLS_MALFORMED, "tls_malformed")				\
	X(TLS_INCOMPLETE, "tls_clienthello_incomplete")			\
	X(QUIC_AUTH_FAIL, "quic_auth_fail")				\
	X(QUIC_MALFORMED, "quic_malformed")				\
	X(QUIC_BAD_FRAME, "quic_bad_frame")				\
	X(QUIC_CRYPTO_OVERFLOW, "quic_crypto_overflow")			\
	X(QUIC_VERSION_NEG, "quic_version_negotiation")			\
	X(QUIC_RETRY, "quic_retry")					\
	X(QUIC_EVICTED, "quic_state_evicted")				\
	X(STREAM_EVICTED, "tcp_stream_evicted")				\
	X(STREAM_OVERFLOW, "tcp_stream_overflow")			\
	X(FLOW_EVICTED, "flow_evicted")					\
	X(CELLS_FULL, "counts_dropped_memory_full")			\
	X(PLUGIN_OTHER, "plugin_anomaly")

#define X(id, name) ANOM_##id,
enum anomaly { ANOMALY_LIST(X) ANOM_N };
#undef X

const char *anomaly_name(enum anomaly a);
/* Map a name (from a plugin) to its id; unknown names map to PLUGIN_OTHER. */
enum anomaly anomaly_from_name(const char *name, size_t len);

#endif /* AIC_ANOMALY_H */
