/*
 * decode.h - from a captured frame to a transport payload.
 *
 * decode_packet() walks the link layer (Ethernet with any number of
 * 802.1Q/802.1ad tags up to a bound, PPPoE, Linux cooked SLL and SLL2,
 * raw IP, BSD loopback, PPP), then IPv4 or IPv6 (extension headers
 * walked, non-first fragments skipped), then TCP or UDP, and unwraps one
 * level of GTP-U.  It never reads past caplen and never allocates.  The
 * addresses it fills in stay in memory; nothing here prints them.
 */
#ifndef AIC_DECODE_H
#define AIC_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "common/anomaly.h"

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
	DEC_NRESULTS
};

struct pkt {
	uint64_t	 ts_usec;
	uint8_t		 af;		/* 4 or 6 */
	uint8_t		 l4;		/* 6 or 17 */
	uint8_t		 tcp_flags;
	uint8_t		 first_frag;	/* payload may be cut by fragmentation */
	uint8_t		 snap_cut;	/* the capture kept less than the wire */
	int		 vlan;		/* innermost 802.1Q id, or -1 */
	/* IPv4 addresses are stored as ::ffff:a.b.c.d */
	uint8_t		 src[16], dst[16];
	uint16_t	 sport, dport;
	uint32_t	 seq, ack;
	const uint8_t	*payload;	/* captured transport payload */
	size_t		 payload_len;
	size_t		 wire_len;	/* transport payload length on the wire */
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
