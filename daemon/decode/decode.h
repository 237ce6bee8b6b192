/*
 * decode.h - from a captured frame to a transport payload.
 *
 * decode_packet() walks the link layer (Ethernet with any number of
 * 802.1Q/802.1ad tags up to a bound, PPPoE, Linux cooked SLL and SLL2,
 * raw IP, BSD loopback, PPP), then IPv4 or IPv6 (extension headers
 * walked, non-first fragments skipped), then TCP or UDP.  On the way it
 * unwraps tunnels and mirror encapsulations, each kind of common/encap.h:
 *
 *   MPLS      ethertype 0x8847/0x8848 (Ethernet, SLL, GRE) and MPLS in
 *             UDP (port 6635): the label stack to its bottom (at most
 *             MAX_MPLS_LABELS), then IPv4/IPv6 by the first nibble, or
 *             an Ethernet pseudowire after a control word (nibble 0)
 *   GRE       IP protocol 47, version 0 with checksum, key and sequence
 *             fields; carrying IPv4, IPv6, Ethernet (0x6558), MPLS or
 *   ERSPAN    type I (0x88be without the S bit: Ethernet at once), II
 *             (0x88be with S: an 8-byte header) and III (0x22eb: a
 *             12-byte header, 8 more when its O bit is set)
 *   VXLAN     UDP port 4789 or 8472 (Linux's), then Ethernet
 *   Geneve    UDP port 6081, options skipped by their length, then
 *             Ethernet or IP by the protocol type
 *   IP-in-IP  IP protocol 4 or 41 in IPv4 or IPv6 (4in4 6in4 4in6 6in6)
 *   GTP-U     UDP port 2152, one G-PDU level (3GPP TS 29.281)
 *
 * An Ethernet frame inside a tunnel is read like an outer one, VLAN
 * tags included (the innermost tag is the one kept).  At most
 * DECODE_MAX_ENCAP layers are unwrapped (an ERSPAN header is part of
 * its GRE layer, a label stack one layer; VLAN tags have their own
 * bound): a deeper packet is the anomaly encap_too_deep.  A tunnel
 * header that is cut short or inconsistent, or a tunnelled packet that
 * does not fit its tunnel or is itself broken, is encap_malformed.  A
 * tunnel whose payload is of a kind not read here is DEC_NOT_IP with the
 * "other" kind marked: not an anomaly.  The transport 5-tuple and the
 * payload are always the innermost packet's; the outermost IP header's
 * addresses are kept beside them (osrc/odst) for capture.client_address
 * "outer".  The fast path (plain Ethernet, at most one tag, IPv4/IPv6,
 * TCP or UDP not to a tunnel port) gives the same answer as the walk.
 *
 * It never reads past caplen and never allocates.  The addresses it
 * fills in stay in memory; nothing here prints them.
 */
#ifndef AIC_DECODE_H
#define AIC_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "common/anomaly.h"
#include "common/encap.h"

/* Tunnel layers unwrapped at most; one more is encap_too_deep. */
#define DECODE_MAX_ENCAP	4

/*
 * Why a frame yielded no transport payload.  The bad ones are counted
 * as the anomaly decode_result_anomaly() names (and are called by its
 * name); the harmless ones are not counted.
 */
enum decode_result {
	DEC_OK = 0,
	DEC_NOT_IP,		/* ARP, LLDP, ...: not interesting, not bad */
	DEC_NOT_TCPUDP,		/* ICMP, ESP, ...: likewise */
	DEC_FRAGMENT,		/* non-first IP fragment: skipped safely */
	DEC_BAD_LINK,		/* link header truncated or unknown */
	DEC_BAD_IP,		/* IP header truncated or inconsistent */
	DEC_BAD_L4,		/* TCP/UDP header truncated or inconsistent */
	DEC_UNSUPPORTED_DLT,
	DEC_ENCAP_MALFORMED,	/* a tunnel cut short or inconsistent */
	DEC_ENCAP_TOO_DEEP,	/* more than DECODE_MAX_ENCAP layers */
	DEC_NRESULTS
};

struct pkt {
	uint64_t	 ts_usec;
	uint8_t		 af;		/* 4 or 6 */
	uint8_t		 l4;		/* 6 or 17 */
	uint8_t		 tcp_flags;
	uint8_t		 first_frag;	/* payload may be cut by fragmentation */
	uint8_t		 snap_cut;	/* the capture kept less than the wire */
	/*
	 * 4 or 6 when the packet had an IP header outside a tunnel: osrc
	 * and odst (below) are then the outermost one's addresses; 0 when
	 * src/dst are the only ones (and osrc/odst are not set).
	 */
	uint8_t		 outer_af;
	/* ENCAP_BIT() of every kind unwrapped, whatever the result */
	uint16_t	 encap;
	int		 vlan;		/* innermost 802.1Q id, or -1 */
	/* IPv4 addresses are stored as ::ffff:a.b.c.d */
	uint8_t		 src[16], dst[16];	/* the innermost IP header's */
	uint16_t	 sport, dport;
	uint32_t	 seq, ack;
	const uint8_t	*payload;	/* captured transport payload */
	size_t		 payload_len;
	size_t		 wire_len;	/* transport payload length on the wire */
	/*
	 * Last and not cleared for every packet (decode_reset): only a
	 * tunnelled packet, outer_af != 0, has them.
	 */
	uint8_t		 osrc[16], odst[16];
};

#define TCP_FIN	0x01
#define TCP_SYN	0x02
#define TCP_RST	0x04
#define TCP_PSH	0x08
#define TCP_ACK	0x10

/*
 * wirelen is the frame's length on the wire: when the capture kept all
 * of it, an IP length pointing past the end is a lie, not a snaplen cut.
 */
enum decode_result decode_packet(int dlt, const uint8_t *p, size_t caplen,
	    size_t wirelen, struct pkt *out);
const char *decode_result_name(enum decode_result r);
/* The anomaly a result is counted as, ANOM_N for none. */
enum anomaly decode_result_anomaly(enum decode_result r);
int	decode_dlt_supported(int dlt);

/* True when addr (16 bytes) is an IPv4-mapped address. */
int	addr_is_v4(const uint8_t *addr);

#endif /* AIC_DECODE_H */
