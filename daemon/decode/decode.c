/*
 * decode.c - link, network and transport layers, bounds-checked.
 */
#include <string.h>

#include <pcap/dlt.h>

#include "decode/decode.h"
#include "common/rd.h"

#define MAX_VLAN_TAGS	4	/* deeper stacks are not seen in practice */
#define MAX_IP6_EXT	8	/* bound the extension-header walk */
#define GTPU_PORT	2152

#define ETH_IPV4	0x0800
#define ETH_IPV6	0x86dd
#define ETH_8021Q	0x8100
#define ETH_8021AD	0x88a8
#define ETH_QINQ_OLD	0x9100
#define ETH_PPPOE_S	0x8864

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2	276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4	228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6	229
#endif

static const uint8_t v4_mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };

static enum decode_result decode_ip(struct rd *r, struct pkt *out, int depth);

int
addr_is_v4(const uint8_t *addr)
{
	return memcmp(addr, v4_mapped, sizeof(v4_mapped)) == 0;
}

/*
 * Each result once: a harmless one by its own name, a bad one as the
 * anomaly it is counted under, whose name is its name (anomaly.h), so no
 * second list of those names exists.
 */
static const struct {
	const char	*name;		/* NULL: the anomaly's */
	enum anomaly	 anom;		/* ANOM_N: not counted */
} results[DEC_NRESULTS] = {
	[DEC_OK] =		{ "ok", ANOM_N },
	[DEC_NOT_IP] =		{ "not_ip", ANOM_N },
	[DEC_NOT_TCPUDP] =	{ "not_tcp_udp", ANOM_N },
	[DEC_FRAGMENT] =	{ NULL, ANOM_IP_FRAGMENT },
	[DEC_BAD_LINK] =	{ NULL, ANOM_BAD_LINK },
	[DEC_BAD_IP] =		{ NULL, ANOM_BAD_IP },
	[DEC_BAD_L4] =		{ NULL, ANOM_BAD_L4 },
	[DEC_UNSUPPORTED_DLT] =	{ NULL, ANOM_UNSUPPORTED_LINK },
};

const char *
decode_result_name(enum decode_result r)
{
	if ((unsigned)r >= DEC_NRESULTS)
		return "unknown";
	return results[r].name != NULL ? results[r].name :
	    anomaly_name(results[r].anom);
}

enum anomaly
decode_result_anomaly(enum decode_result r)
{
	return (unsigned)r < DEC_NRESULTS ? results[r].anom : ANOM_N;
}

int
decode_dlt_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB: case DLT_LINUX_SLL: case DLT_LINUX_SLL2:
	case DLT_RAW: case DLT_IPV4: case DLT_IPV6: case DLT_NULL:
	case DLT_LOOP: case DLT_PPP:
#if defined(DLT_RAW) && DLT_RAW != 12
	case 12:
#endif
	case 101:	/* LINKTYPE_RAW as some writers leave it */
		return 1;
	}
	return 0;
}

/* PPP protocol field -> IP version, or 0. */
static int
ppp_proto_ip(uint16_t proto)
{
	if (proto == 0x0021)
		return 4;
	if (proto == 0x0057)
		return 6;
	return 0;
}

/* Ethernet II, with VLAN stacks and PPPoE session frames. */
static enum decode_result
decode_ether(struct rd *r, struct pkt *out)
{
	uint16_t type;
	int tags = 0;

	if (!rd_skip(r, 12))
		return DEC_BAD_LINK;
	type = rd_u16(r);
	while (type == ETH_8021Q || type == ETH_8021AD || type == ETH_QINQ_OLD) {
		uint16_t tci = rd_u16(r);

		if (++tags > MAX_VLAN_TAGS)
			return DEC_BAD_LINK;
		out->vlan = tci & 0x0fff;
		type = rd_u16(r);
	}
	if (!rd_ok(r))
		return DEC_BAD_LINK;
	if (type == ETH_PPPOE_S) {
		/* ver/type, code, session id, length, then the PPP protocol */
		if (!rd_skip(r, 6))
			return DEC_BAD_LINK;
		if (!ppp_proto_ip(rd_u16(r)))
			return rd_ok(r) ? DEC_NOT_IP : DEC_BAD_LINK;
		return decode_ip(r, out, 0);
	}
	if (type != ETH_IPV4 && type != ETH_IPV6)
		return DEC_NOT_IP;
	return decode_ip(r, out, 0);
}

static enum decode_result
decode_sll(struct rd *r, struct pkt *out)
{
	uint16_t proto;

	if (!rd_skip(r, 14))
		return DEC_BAD_LINK;
	proto = rd_u16(r);
	if (!rd_ok(r))
		return DEC_BAD_LINK;
	if (proto == ETH_8021Q) {	/* the kernel may leave a tag in */
		out->vlan = rd_u16(r) & 0x0fff;
		proto = rd_u16(r);
		if (!rd_ok(r))
			return DEC_BAD_LINK;
	}
	if (proto != ETH_IPV4 && proto != ETH_IPV6)
		return DEC_NOT_IP;
	return decode_ip(r, out, 0);
}

static enum decode_result
decode_sll2(struct rd *r, struct pkt *out)
{
	uint16_t proto = rd_u16(r);

	if (!rd_skip(r, 18))
		return DEC_BAD_LINK;
	if (proto != ETH_IPV4 && proto != ETH_IPV6)
		return DEC_NOT_IP;
	return decode_ip(r, out, 0);
}

/* BSD loopback: a 4-byte address family in host byte order. */
static enum decode_result
decode_null(struct rd *r, struct pkt *out)
{
	uint8_t b[4];
	uint32_t le, be;

	if (!rd_bytes(r, b, 4))
		return DEC_BAD_LINK;
	le = (uint32_t)b[0] | ((uint32_t)b[1] << 8) |
	    ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
	be = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
	    ((uint32_t)b[2] << 8) | b[3];
	/* AF_INET is 2 everywhere; AF_INET6 is 10, 24, 28 or 30. */
	if (le == 2 || be == 2 || le == 10 || le == 24 || le == 28 ||
	    le == 30 || be == 10 || be == 24 || be == 28 || be == 30)
		return decode_ip(r, out, 0);
	return DEC_NOT_IP;
}

static enum decode_result
decode_ppp(struct rd *r, struct pkt *out)
{
	uint16_t proto;

	if (rd_left(r) >= 2 && r->p[0] == 0xff && r->p[1] == 0x03)
		rd_skip(r, 2);
	if (rd_left(r) >= 1 && (r->p[0] & 1))	/* compressed protocol */
		proto = rd_u8(r);
	else
		proto = rd_u16(r);
	if (!rd_ok(r))
		return DEC_BAD_LINK;
	if (!ppp_proto_ip(proto))
		return DEC_NOT_IP;
	return decode_ip(r, out, 0);
}

static enum decode_result
decode_tcp(struct rd *r, size_t wire_left, struct pkt *out)
{
	unsigned hlen;

	out->sport = rd_u16(r);
	out->dport = rd_u16(r);
	out->seq = rd_u32(r);
	out->ack = rd_u32(r);
	hlen = (unsigned)(rd_u8(r) >> 4) * 4;
	out->tcp_flags = rd_u8(r);
	if (!rd_skip(r, 6) || hlen < 20)	/* window, checksum, urgent */
		return DEC_BAD_L4;
	if (!rd_skip(r, hlen - 20))
		return DEC_BAD_L4;
	if (wire_left < hlen)
		return DEC_BAD_L4;
	out->l4 = 6;
	out->wire_len = wire_left - hlen;
	out->payload = r->p;
	out->payload_len = rd_left(r) < out->wire_len ? rd_left(r) :
	    out->wire_len;
	return DEC_OK;
}

/* GTP-U (3GPP TS 29.281) G-PDU: unwrap to the inner IP packet. */
static int
gtpu_inner(const struct pkt *out, struct rd *inner)
{
	struct rd r = rd_init(out->payload, out->payload_len);
	uint8_t flags, type;

	flags = rd_u8(&r);
	type = rd_u8(&r);
	rd_skip(&r, 6);			/* length, TEID */
	if (!rd_ok(&r) || (flags >> 5) != 1 || type != 0xff)
		return 0;
	if (flags & 0x07) {
		uint8_t next;

		rd_skip(&r, 3);		/* sequence number, N-PDU number */
		next = rd_u8(&r);
		while (next != 0 && rd_ok(&r)) {
			unsigned elen = (unsigned)rd_u8(&r) * 4;

			if (elen < 4 || !rd_skip(&r, elen - 2))
				return 0;
			next = rd_u8(&r);
		}
	}
	if (!rd_ok(&r) || rd_left(&r) == 0)
		return 0;
	*inner = r;
	return 1;
}

static enum decode_result
decode_udp(struct rd *r, size_t wire_left, struct pkt *out, int depth)
{
	uint16_t ulen;
	struct rd inner;

	out->sport = rd_u16(r);
	out->dport = rd_u16(r);
	ulen = rd_u16(r);
	if (!rd_skip(r, 2))
		return DEC_BAD_L4;
	/* A first fragment's UDP length covers the later fragments too. */
	if (ulen < 8 || (!out->first_frag && ulen > wire_left))
		return DEC_BAD_L4;
	out->l4 = 17;
	out->wire_len = (size_t)ulen - 8;
	out->payload = r->p;
	out->payload_len = rd_left(r) < out->wire_len ? rd_left(r) :
	    out->wire_len;
	if (depth == 0 && (out->dport == GTPU_PORT || out->sport == GTPU_PORT)
	    && gtpu_inner(out, &inner)) {
		struct pkt save = *out;
		enum decode_result res;

		out->vlan = save.vlan;
		res = decode_ip(&inner, out, depth + 1);
		if (res == DEC_OK)
			return DEC_OK;
		*out = save;		/* not a tunnel after all */
	}
	return DEC_OK;
}

static enum decode_result
decode_l4(struct rd *r, uint8_t proto, size_t wire_left, struct pkt *out,
    int depth)
{
	if (proto == 6)
		return decode_tcp(r, wire_left, out);
	if (proto == 17)
		return decode_udp(r, wire_left, out, depth);
	return DEC_NOT_TCPUDP;
}

static enum decode_result
decode_ipv4(struct rd *r, struct pkt *out, int depth)
{
	uint8_t vihl, proto;
	unsigned hlen;
	uint16_t total, frag;
	struct rd body;

	vihl = rd_u8(r);
	hlen = (vihl & 0x0f) * 4u;
	rd_skip(r, 1);
	total = rd_u16(r);
	rd_skip(r, 2);
	frag = rd_u16(r);
	rd_skip(r, 1);
	proto = rd_u8(r);
	rd_skip(r, 2);
	memcpy(out->src, v4_mapped, 12);
	memcpy(out->dst, v4_mapped, 12);
	rd_bytes(r, out->src + 12, 4);
	rd_bytes(r, out->dst + 12, 4);
	if (!rd_ok(r) || (vihl >> 4) != 4 || hlen < 20 || total < hlen)
		return DEC_BAD_IP;
	if (!rd_skip(r, hlen - 20))
		return DEC_BAD_IP;
	out->af = 4;
	if (frag & 0x1fff)
		return DEC_FRAGMENT;
	out->first_frag = (frag & 0x2000) != 0;
	if (rd_left(r) < (size_t)(total - hlen) && !out->snap_cut)
		return DEC_BAD_IP;	/* claims bytes the frame never had */
	/* Ethernet pads short frames: trust the IP length, not caplen. */
	body = rd_init(r->p, rd_left(r) < (size_t)(total - hlen) ?
	    rd_left(r) : (size_t)(total - hlen));
	return decode_l4(&body, proto, total - hlen, out, depth);
}

static enum decode_result
decode_ipv6(struct rd *r, struct pkt *out, int depth)
{
	uint8_t next;
	uint16_t plen;
	struct rd body;
	int i;

	if (rd_left(r) < 1 || (r->p[0] >> 4) != 6)
		return DEC_BAD_IP;
	rd_skip(r, 4);
	plen = rd_u16(r);
	next = rd_u8(r);
	rd_skip(r, 1);
	rd_bytes(r, out->src, 16);
	rd_bytes(r, out->dst, 16);
	if (!rd_ok(r))
		return DEC_BAD_IP;
	out->af = 6;
	if (rd_left(r) < plen && !out->snap_cut)
		return DEC_BAD_IP;	/* claims bytes the frame never had */
	body = rd_init(r->p, rd_left(r) < plen ? rd_left(r) : plen);
	for (i = 0; i < MAX_IP6_EXT; i++) {
		size_t before = rd_left(&body);
		size_t elen;
		uint16_t off;

		switch (next) {
		case 0: case 43: case 60: case 135: case 139: case 140:
			next = rd_u8(&body);
			elen = ((size_t)rd_u8(&body) + 1) * 8;
			if (!rd_skip(&body, elen - 2))
				return DEC_BAD_IP;
			break;
		case 51:	/* AH counts its length in 4-byte units */
			next = rd_u8(&body);
			elen = ((size_t)rd_u8(&body) + 2) * 4;
			if (!rd_skip(&body, elen - 2))
				return DEC_BAD_IP;
			break;
		case 44:
			next = rd_u8(&body);
			rd_skip(&body, 1);
			off = rd_u16(&body);
			if (!rd_skip(&body, 4))
				return DEC_BAD_IP;
			if (off & 0xfff8)
				return DEC_FRAGMENT;
			out->first_frag = (off & 1) != 0;
			break;
		default:
			return decode_l4(&body, next, plen, out, depth);
		}
		/* what the header took is no longer transport payload */
		plen = (uint16_t)(plen - (before - rd_left(&body)));
	}
	return DEC_BAD_IP;
}

static enum decode_result
decode_ip(struct rd *r, struct pkt *out, int depth)
{
	if (rd_left(r) < 1)
		return DEC_BAD_IP;
	switch (r->p[0] >> 4) {
	case 4:
		return decode_ipv4(r, out, depth);
	case 6:
		return decode_ipv6(r, out, depth);
	}
	return DEC_BAD_IP;
}

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

#define DEC_SLOW	DEC_NRESULTS	/* decode_fast: take the full walk */

/*
 * The frame nearly every packet is, decoded with one bounds check per
 * layer: Ethernet with at most one 802.1Q tag, IPv4 without options and
 * not a later fragment, or IPv6 without extension headers, then TCP, or
 * UDP that is not GTP-U.  For these frames the result is exactly the
 * full walk's; anything else, including every malformed frame, returns
 * DEC_SLOW and goes the full way, which names the problem.
 */
static enum decode_result
decode_fast(const uint8_t *p, size_t caplen, struct pkt *out)
{
	const uint8_t *ip, *l4;
	size_t avail, wire, hl;
	uint16_t type;
	uint8_t proto;

	if (caplen < 14)
		return DEC_SLOW;
	type = get16(p + 12);
	ip = p + 14;
	avail = caplen - 14;
	if (type == ETH_8021Q) {
		if (avail < 4)
			return DEC_SLOW;
		out->vlan = get16(ip) & 0x0fff;
		type = get16(ip + 2);
		ip += 4;
		avail -= 4;
	}
	if (type == ETH_IPV4) {
		uint16_t total, frag;

		if (avail < 20 || ip[0] != 0x45)
			return DEC_SLOW;
		total = get16(ip + 2);
		frag = get16(ip + 6);
		proto = ip[9];
		if (total < 20 || (frag & 0x1fff) || (proto != 6 && proto != 17))
			return DEC_SLOW;
		wire = (size_t)total - 20;
		avail -= 20;
		if (avail < wire && !out->snap_cut)
			return DEC_SLOW;
		memcpy(out->src, v4_mapped, 12);
		memcpy(out->dst, v4_mapped, 12);
		memcpy(out->src + 12, ip + 12, 4);
		memcpy(out->dst + 12, ip + 16, 4);
		out->af = 4;
		out->first_frag = (frag & 0x2000) != 0;
		l4 = ip + 20;
	} else if (type == ETH_IPV6) {
		if (avail < 40 || (ip[0] >> 4) != 6)
			return DEC_SLOW;
		wire = get16(ip + 4);
		proto = ip[6];
		if (proto != 6 && proto != 17)
			return DEC_SLOW;
		avail -= 40;
		if (avail < wire && !out->snap_cut)
			return DEC_SLOW;
		memcpy(out->src, ip + 8, 16);
		memcpy(out->dst, ip + 24, 16);
		out->af = 6;
		l4 = ip + 40;
	} else {
		return DEC_SLOW;
	}
	if (avail > wire)
		avail = wire;		/* Ethernet padding is not payload */
	if (avail < (proto == 6 ? 20u : 8u))
		return DEC_SLOW;
	out->sport = get16(l4);
	out->dport = get16(l4 + 2);
	if (proto == 6) {
		hl = (size_t)(l4[12] >> 4) * 4;
		if (hl < 20 || hl > avail)
			return DEC_SLOW;
		out->seq = get32(l4 + 4);
		out->ack = get32(l4 + 8);
		out->tcp_flags = l4[13];
		out->l4 = 6;
		out->wire_len = wire - hl;
		out->payload = l4 + hl;
		out->payload_len = avail - hl;
		return DEC_OK;
	}
	hl = get16(l4 + 4);		/* the UDP length */
	if (hl < 8 || (!out->first_frag && hl > wire) ||
	    out->sport == GTPU_PORT || out->dport == GTPU_PORT)
		return DEC_SLOW;
	out->l4 = 17;
	out->wire_len = hl - 8;
	out->payload = l4 + 8;
	out->payload_len = avail - 8 < out->wire_len ? avail - 8 :
	    out->wire_len;
	return DEC_OK;
}

static void
decode_reset(struct pkt *out, size_t caplen, size_t wirelen)
{
	uint64_t ts = out->ts_usec;

	memset(out, 0, sizeof(*out));
	out->ts_usec = ts;
	out->vlan = -1;
	out->snap_cut = caplen < wirelen;
}

enum decode_result
decode_packet(int dlt, const uint8_t *p, size_t caplen, size_t wirelen,
    struct pkt *out)
{
	struct rd r = rd_init(p, caplen);

	decode_reset(out, caplen, wirelen);
	if (dlt == DLT_EN10MB) {
		if (decode_fast(p, caplen, out) == DEC_OK)
			return DEC_OK;
		decode_reset(out, caplen, wirelen);
	}
	switch (dlt) {
	case DLT_EN10MB:
		return decode_ether(&r, out);
	case DLT_LINUX_SLL:
		return decode_sll(&r, out);
	case DLT_LINUX_SLL2:
		return decode_sll2(&r, out);
	case DLT_NULL:
	case DLT_LOOP:
		return decode_null(&r, out);
	case DLT_PPP:
		return decode_ppp(&r, out);
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
#if DLT_RAW != 12
	case 12:
#endif
	case 101:
		return decode_ip(&r, out, 0);
	}
	return DEC_UNSUPPORTED_DLT;
}
