/*
 * encap.h - the kinds of encapsulation the decoder unwraps, by name.
 *
 * ENCAP_LIST is the one place a kind is named, like ANOMALY_LIST: the
 * decoder marks each kind a packet carried (struct pkt's encap, one bit
 * per kind), the pipeline counts packets per kind, and the names leave
 * only through encap_name() as health figures (/api/v1/status "encap",
 * /metrics aicensus_encap_packets_total{kind=...}).  These are counts
 * of packets, never anything about who sent them.
 *
 * "other" is not a tunnel: a tunnel was unwrapped and what it carried
 * is of a kind the decoder does not read (GRE carrying IPX, PPTP's
 * enhanced GRE, an MPLS payload that is neither IP nor a pseudowire).
 */
#ifndef AIC_ENCAP_H
#define AIC_ENCAP_H

#define ENCAP_LIST(X)							\
	X(VLAN, "vlan")		/* 802.1Q / 802.1ad tags */		\
	X(MPLS, "mpls")							\
	X(GRE, "gre")							\
	X(ERSPAN1, "erspan1")						\
	X(ERSPAN2, "erspan2")						\
	X(ERSPAN3, "erspan3")						\
	X(VXLAN, "vxlan")						\
	X(GENEVE, "geneve")						\
	X(IPIP, "ipip")		/* 4in4, 6in4, 4in6, 6in6 */		\
	X(GTPU, "gtpu")							\
	X(OTHER, "other")	/* unwrapped, payload of unknown kind */

#define X(id, name) ENCAP_##id,
enum encap_kind { ENCAP_LIST(X) ENCAP_N };
#undef X

#define ENCAP_BIT(k)	(1u << (k))

static inline const char *
encap_name(enum encap_kind k)
{
#define X(id, name) name,
	static const char *const names[ENCAP_N] = { ENCAP_LIST(X) };
#undef X

	return (unsigned)k < ENCAP_N ? names[k] : "unknown";
}

#endif /* AIC_ENCAP_H */
