/*
 * decode.c - link, network and transport layers, bounds-checked, and the
 * tunnels between them (decode.h lists them).
 *
 * The walk is recursive: a tunnel's payload is read by the same
 * functions as an outer frame, with the walk's state (struct walk)
 * carried along: the layers unwrapped so far, against DECODE_MAX_ENCAP,
 * so the recursion is bounded.  Every cursor inside a tunnel is bounded
 * by the tunnel's own length, and every tunnelled IP packet's length is
 * checked against what its tunnel carries on the wire.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pcap/dlt.h>

#include "decode/decode.h"
#include "common/rd.h"

#define MAX_VLAN_TAGS	4	/* deeper stacks are not seen in practice */
#define MAX_IP6_EXT	8	/* bound the extension-header walk */
#define MAX_MPLS_LABELS	8	/* RFC 3031 sets none: VPN + TE + FRR fit */
#define GTPU_PORT	2152
#define VXLAN_PORT	4789
#define VXLAN_LINUX_PORT 8472	/* the Linux kernel's default before 4789 */
#define GENEVE_PORT	6081
#define MPLS_UDP_PORT	6635	/* RFC 7510 */
#define GRE_UDP_PORT	4754	/* RFC 8086 */

#define ETH_IPV4	0x0800
#define ETH_IPV6	0x86dd
#define ETH_8021Q	0x8100
#define ETH_8021AD	0x88a8
#define ETH_QINQ_OLD	0x9100
#define ETH_PPPOE_S	0x8864
#define ETH_MPLS_UC	0x8847
#define ETH_MPLS_MC	0x8848
#define ETH_TEB		0x6558	/* transparent Ethernet (GRE, Geneve) */
#define ETH_ERSPAN12	0x88be
#define ETH_ERSPAN3	0x22eb

#define GRE_C		0x8000	/* checksum present */
#define GRE_R		0x4000	/* routing present (RFC 1701, obsolete) */
#define GRE_K		0x2000	/* key present */
#define GRE_S		0x1000	/* sequence number present */
#define GRE_SSR		0x0800	/* strict source route (RFC 1701) */
#define GRE_RECUR	0x0700	/* recursion control (RFC 1701) */
#define GRE_VER		0x0007
#define GRE_A		0x0080	/* PPTP: acknowledgement present */
#define GRE_PPP		0x880b	/* PPTP's enhanced GRE (RFC 2637) */

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2	276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4	228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6	229
#endif

/* Internal answers, never returned by decode_packet(). */
#define DEC_SLOW	DEC_NRESULTS	/* decode_fast: take the full walk */
#define DEC_NOT_TUNNEL	(DEC_NRESULTS + 1)	/* a datagram after all */

static const uint8_t v4_mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };

/* One packet's walk: what every layer needs besides its own bytes. */
struct walk {
	struct pkt	*out;
	int		 layers;	/* tunnel layers unwrapped so far */
	/*
	 * The bytes may end before the headers say: the capture kept less
	 * than the wire (snaplen), or a tunnel rides in the first fragment
	 * of an outer packet.
	 */
	int		 cut;
};

static enum decode_result decode_ip(struct rd *r, struct walk *w);
static enum decode_result decode_ether(struct rd *r, size_t wire,
	    struct walk *w);
static enum decode_result decode_mpls(struct rd *r, size_t wire,
	    struct walk *w);

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
	[DEC_ENCAP_MALFORMED] =	{ NULL, ANOM_ENCAP_MALFORMED },
	[DEC_ENCAP_TOO_DEEP] =	{ NULL, ANOM_ENCAP_TOO_DEEP },
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

/* What is left of a wire length once n header bytes were read. */
static inline size_t
wire_less(size_t wire, size_t n)
{
	return wire > n ? wire - n : 0;
}

/* --- tunnels: the common steps ------------------------------------- */

/*
 * One more layer: within the bound, its kind marked, and the addresses
 * of the first IP header met kept as the outermost ones (before the
 * tunnelled packet's overwrite them).
 */
static enum decode_result
encap_enter(struct walk *w, enum encap_kind k)
{
	struct pkt *out = w->out;

	if (++w->layers > DECODE_MAX_ENCAP)
		return DEC_ENCAP_TOO_DEEP;
	out->encap |= (uint16_t)ENCAP_BIT(k);
	if (out->af != 0 && out->outer_af == 0) {
		out->outer_af = out->af;
		memcpy(out->osrc, out->src, 16);
		memcpy(out->odst, out->dst, 16);
	}
	return DEC_OK;
}

/* Unwrapped, but what it carries is nothing this decoder reads. */
static enum decode_result
encap_other(struct walk *w)
{
	w->out->encap |= (uint16_t)ENCAP_BIT(ENCAP_OTHER);
	return DEC_NOT_IP;
}

/*
 * Whatever is broken inside a tunnel is the tunnel's anomaly: the
 * packet was cut short or forged where an outer header cannot see it.
 * Harmless results (not IP, a fragment, ICMP) stay what they are.
 */
static enum decode_result
inner_result(enum decode_result r)
{
	if (r == DEC_BAD_LINK || r == DEC_BAD_IP || r == DEC_BAD_L4)
		return DEC_ENCAP_MALFORMED;
	return r;
}

/*
 * A tunnelled IP packet (want: 4 or 6, 0 = by its first nibble).  Its
 * own length must fit in what the tunnel carries on the wire; the IP
 * layer then checks it against what was captured.  An outer first
 * fragment carries only part of it, so there the wire says nothing.
 */
static enum decode_result
decode_ip_in(struct rd *r, size_t wire, struct walk *w, int want)
{
	size_t claim;
	int ver;

	if (rd_left(r) < 1)
		return DEC_ENCAP_MALFORMED;
	ver = r->p[0] >> 4;
	if ((ver != 4 && ver != 6) || (want != 0 && ver != want))
		return DEC_ENCAP_MALFORMED;
	if (!w->out->first_frag) {
		if (ver == 4 && rd_left(r) >= 4)
			claim = get16(r->p + 2);
		else if (ver == 6 && rd_left(r) >= 6)
			claim = 40 + (size_t)get16(r->p + 4);
		else
			claim = 0;	/* too short: the IP layer says so */
		if (claim > wire)
			return DEC_ENCAP_MALFORMED;
	}
	return inner_result(decode_ip(r, w));
}

/* An ethertype (or GRE protocol type) that leads somewhere we read. */
static enum decode_result
decode_ethertype(struct rd *r, uint16_t type, size_t wire, struct walk *w)
{
	switch (type) {
	case ETH_IPV4:
	case ETH_IPV6:
		/* by the first nibble, as on the outermost link */
		if (w->layers == 0)
			return decode_ip(r, w);
		return decode_ip_in(r, wire, w, 0);
	case ETH_MPLS_UC:
	case ETH_MPLS_MC:
		return decode_mpls(r, wire, w);
	}
	return DEC_NOT_IP;
}

/*
 * A PPP frame's header: the address and control bytes when present,
 * then the protocol, one byte when compressed.  The protocol; the
 * caller checks rd_ok().
 */
static uint16_t
ppp_header(struct rd *r)
{
	if (rd_left(r) >= 2 && r->p[0] == 0xff && r->p[1] == 0x03)
		rd_skip(r, 2);
	if (rd_left(r) >= 1 && (r->p[0] & 1))	/* compressed protocol */
		return rd_u8(r);
	return rd_u16(r);
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

/*
 * Ethernet II, with VLAN stacks and PPPoE session frames; the outer
 * frame, or one inside a tunnel (wire: what the tunnel carries, or
 * SIZE_MAX on the outermost link).
 */
static enum decode_result
decode_ether(struct rd *r, size_t wire, struct walk *w)
{
	struct pkt *out = w->out;
	const uint8_t *start = r->p;
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
		out->encap |= (uint16_t)ENCAP_BIT(ENCAP_VLAN);
		type = rd_u16(r);
	}
	if (!rd_ok(r))
		return DEC_BAD_LINK;
	wire = wire_less(wire, (size_t)(r->p - start));
	if (type == ETH_PPPOE_S) {
		/* ver/type, code, session id, length, then the PPP protocol */
		if (!rd_skip(r, 6))
			return DEC_BAD_LINK;
		if (!ppp_proto_ip(rd_u16(r)))
			return rd_ok(r) ? DEC_NOT_IP : DEC_BAD_LINK;
		return decode_ethertype(r, ETH_IPV4, wire_less(wire, 8), w);
	}
	return decode_ethertype(r, type, wire, w);
}

static enum decode_result
decode_sll(struct rd *r, struct walk *w)
{
	uint16_t proto;

	if (!rd_skip(r, 14))
		return DEC_BAD_LINK;
	proto = rd_u16(r);
	if (!rd_ok(r))
		return DEC_BAD_LINK;
	if (proto == ETH_8021Q) {	/* the kernel may leave a tag in */
		w->out->vlan = rd_u16(r) & 0x0fff;
		w->out->encap |= (uint16_t)ENCAP_BIT(ENCAP_VLAN);
		proto = rd_u16(r);
		if (!rd_ok(r))
			return DEC_BAD_LINK;
	}
	return decode_ethertype(r, proto, SIZE_MAX, w);
}

static enum decode_result
decode_sll2(struct rd *r, struct walk *w)
{
	uint16_t proto = rd_u16(r);

	if (!rd_skip(r, 18))
		return DEC_BAD_LINK;
	return decode_ethertype(r, proto, SIZE_MAX, w);
}

/* BSD loopback: a 4-byte address family in host byte order. */
static enum decode_result
decode_null(struct rd *r, struct walk *w)
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
		return decode_ip(r, w);
	return DEC_NOT_IP;
}

static enum decode_result
decode_ppp(struct rd *r, struct walk *w)
{
	uint16_t proto = ppp_header(r);

	if (!rd_ok(r))
		return DEC_BAD_LINK;
	if (!ppp_proto_ip(proto))
		return DEC_NOT_IP;
	return decode_ip(r, w);
}

/* --- tunnels ---------------------------------------------------------- */

/*
 * An MPLS label stack (RFC 3032) to its bottom-of-stack bit, then what
 * it carries by the first nibble: IPv4, IPv6, or 0 for the control word
 * of an Ethernet pseudowire (RFC 4448), after which a frame follows.
 */
static enum decode_result
decode_mpls(struct rd *r, size_t wire, struct walk *w)
{
	enum decode_result res;
	int n;

	if ((res = encap_enter(w, ENCAP_MPLS)) != DEC_OK)
		return res;
	for (n = 1; ; n++) {
		uint32_t lse = rd_u32(r);

		if (!rd_ok(r))
			return DEC_ENCAP_MALFORMED;
		if (lse & 0x100)
			break;
		if (n == MAX_MPLS_LABELS)
			return DEC_ENCAP_MALFORMED;
	}
	wire = wire_less(wire, 4 * (size_t)n);
	if (rd_left(r) < 1)
		return DEC_ENCAP_MALFORMED;
	switch (r->p[0] >> 4) {
	case 4:
	case 6:
		return decode_ip_in(r, wire, w, 0);
	case 0:
		if (!rd_skip(r, 4))
			return DEC_ENCAP_MALFORMED;
		return inner_result(decode_ether(r, wire_less(wire, 4), w));
	}
	return encap_other(w);
}

/*
 * PPTP's enhanced GRE (RFC 2637, version 1): the key is the payload
 * length and call id, a sequence and an acknowledgement number may
 * follow, then a PPP frame.  IP inside is read like any tunnel's; PPP
 * control, compressed or encrypted (MPPE) frames are another kind.
 */
static enum decode_result
decode_pptp(struct rd *r, uint16_t flags, uint16_t proto,
    const uint8_t *start, size_t wire, struct walk *w)
{
	uint16_t pp;

	if (proto != GRE_PPP || !(flags & GRE_K) ||
	    (flags & (GRE_C | GRE_R | GRE_SSR | GRE_RECUR)))
		return DEC_ENCAP_MALFORMED;
	if (!rd_skip(r, 4) || ((flags & GRE_S) && !rd_skip(r, 4)) ||
	    ((flags & GRE_A) && !rd_skip(r, 4)))
		return DEC_ENCAP_MALFORMED;
	pp = ppp_header(r);
	if (!rd_ok(r))
		return DEC_ENCAP_MALFORMED;
	if (!ppp_proto_ip(pp))
		return encap_other(w);
	return decode_ip_in(r, wire_less(wire, (size_t)(r->p - start)), w, 0);
}

/*
 * GRE (RFC 2784, keys and sequence numbers RFC 2890), version 0; the
 * enhanced GRE of PPTP (version 1) goes to decode_pptp().
 * ERSPAN (draft-foschiano-erspan) rides in GRE and is part of its layer.
 */
static enum decode_result
decode_gre(struct rd *r, size_t wire, struct walk *w)
{
	enum decode_result res;
	const uint8_t *start = r->p;
	const uint8_t *h;
	uint16_t flags, proto;
	unsigned ft;

	if ((res = encap_enter(w, ENCAP_GRE)) != DEC_OK)
		return res;
	flags = rd_u16(r);
	proto = rd_u16(r);
	if (!rd_ok(r))
		return DEC_ENCAP_MALFORMED;
	if ((flags & GRE_VER) == 1)
		return decode_pptp(r, flags, proto, start, wire, w);
	/* RFC 2784: a receiver discards what sets the RFC 1701 fields */
	if ((flags & GRE_VER) != 0 || (flags & (GRE_R | GRE_SSR | GRE_RECUR)))
		return DEC_ENCAP_MALFORMED;
	if ((flags & GRE_C) && !rd_skip(r, 4))	/* checksum, reserved */
		return DEC_ENCAP_MALFORMED;
	if ((flags & GRE_K) && !rd_skip(r, 4))
		return DEC_ENCAP_MALFORMED;
	if ((flags & GRE_S) && !rd_skip(r, 4))
		return DEC_ENCAP_MALFORMED;
	wire = wire_less(wire, (size_t)(r->p - start));
	switch (proto) {
	case ETH_IPV4:
	case ETH_IPV6:
		return decode_ip_in(r, wire, w, 0);
	case ETH_MPLS_UC:
	case ETH_MPLS_MC:
		return decode_mpls(r, wire, w);
	case ETH_TEB:
		return inner_result(decode_ether(r, wire, w));
	case ETH_ERSPAN12:
		if (!(flags & GRE_S)) {		/* type I: the frame at once */
			w->out->encap |= (uint16_t)ENCAP_BIT(ENCAP_ERSPAN1);
			return inner_result(decode_ether(r, wire, w));
		}
		/* type II: version 1, VLAN, COS/En/T, session, index */
		w->out->encap |= (uint16_t)ENCAP_BIT(ENCAP_ERSPAN2);
		if ((h = rd_ptr(r, 8)) == NULL || (h[0] >> 4) != 1)
			return DEC_ENCAP_MALFORMED;
		return inner_result(decode_ether(r, wire_less(wire, 8), w));
	case ETH_ERSPAN3:
		/*
		 * Version 2, VLAN, COS/BSO/T/session, timestamp, SGT, then
		 * P/FT/HW id/D/Gra/O; the O bit adds a platform subheader.
		 */
		w->out->encap |= (uint16_t)ENCAP_BIT(ENCAP_ERSPAN3);
		if ((h = rd_ptr(r, 12)) == NULL || (h[0] >> 4) != 2)
			return DEC_ENCAP_MALFORMED;
		wire = wire_less(wire, 12);
		if (h[11] & 0x01) {
			if (!rd_skip(r, 8))
				return DEC_ENCAP_MALFORMED;
			wire = wire_less(wire, 8);
		}
		ft = (h[10] >> 2) & 0x1f;
		if (ft == 0)
			return inner_result(decode_ether(r, wire, w));
		if (ft == 2)
			return decode_ip_in(r, wire, w, 0);
		return encap_other(w);
	}
	return encap_other(w);
}

/* VXLAN (RFC 7348): flags with the I bit, VNI, then an Ethernet frame. */
static enum decode_result
decode_vxlan(struct rd *r, size_t wire, struct walk *w)
{
	enum decode_result res;
	const uint8_t *h;

	if ((h = rd_ptr(r, 8)) == NULL)
		return DEC_ENCAP_MALFORMED;
	if (!(h[0] & 0x08))
		return DEC_NOT_TUNNEL;		/* no VNI: not VXLAN */
	if ((res = encap_enter(w, ENCAP_VXLAN)) != DEC_OK)
		return res;
	return inner_result(decode_ether(r, wire_less(wire, 8), w));
}

/*
 * Geneve (RFC 8926): version 0, options counted in 4-byte words and
 * skipped, then Ethernet or IP by the protocol type.
 */
static enum decode_result
decode_geneve(struct rd *r, size_t wire, struct walk *w)
{
	enum decode_result res;
	const uint8_t *h;
	size_t optlen;
	uint16_t proto;

	if ((h = rd_ptr(r, 8)) == NULL)
		return DEC_ENCAP_MALFORMED;
	if ((h[0] >> 6) != 0)
		return DEC_NOT_TUNNEL;		/* a version we do not know */
	if ((res = encap_enter(w, ENCAP_GENEVE)) != DEC_OK)
		return res;
	optlen = (size_t)(h[0] & 0x3f) * 4;
	proto = get16(h + 2);
	if (!rd_skip(r, optlen))
		return DEC_ENCAP_MALFORMED;
	wire = wire_less(wire, 8 + optlen);
	if (proto == ETH_TEB)
		return inner_result(decode_ether(r, wire, w));
	if (proto == ETH_IPV4 || proto == ETH_IPV6)
		return decode_ip_in(r, wire, w, 0);
	return encap_other(w);
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

/*
 * GTP-U (3GPP TS 29.281) G-PDU: 1 and *inner its payload, 0 when the
 * datagram is no G-PDU, -1 for one whose header the capture cut.
 */
static int
gtpu_inner(const struct pkt *out, struct rd *inner)
{
	struct rd r = rd_init(out->payload, out->payload_len);
	int cut = out->payload_len < out->wire_len;
	uint8_t flags, type;

	flags = rd_u8(&r);
	type = rd_u8(&r);
	if (rd_ok(&r) && ((flags >> 5) != 1 || type != 0xff))
		return 0;
	if (r.bad && out->payload_len > 0 && (flags >> 5) != 1)
		return 0;
	rd_skip(&r, 6);			/* length, TEID */
	if (rd_ok(&r) && (flags & 0x07)) {
		uint8_t next;

		rd_skip(&r, 3);		/* sequence number, N-PDU number */
		next = rd_u8(&r);
		while (next != 0 && rd_ok(&r)) {
			unsigned elen = (unsigned)rd_u8(&r) * 4;

			if (!rd_ok(&r))
				break;
			if (elen < 4)
				return 0;
			rd_skip(&r, elen - 2);
			next = rd_u8(&r);
		}
	}
	if (!rd_ok(&r) || rd_left(&r) == 0)
		return cut ? -1 : 0;
	*inner = r;
	return 1;
}

/*
 * A UDP datagram, or the tunnel it carries.  A tunnel is known by its
 * destination port (GTP-U by either); a datagram there whose header is
 * not the tunnel's (VXLAN without its I bit, a Geneve version not 0, a
 * GTP-U message that is not a G-PDU of IP) stays a datagram.
 */
static enum decode_result
decode_udp(struct rd *r, size_t wire_left, struct walk *w)
{
	struct pkt *out = w->out;
	enum decode_result res;
	uint16_t ulen;
	struct rd in;

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
	in = rd_init(out->payload, out->payload_len);
	switch (out->dport) {
	case VXLAN_PORT:
	case VXLAN_LINUX_PORT:
		res = decode_vxlan(&in, out->wire_len, w);
		return res == DEC_NOT_TUNNEL ? DEC_OK : res;
	case GENEVE_PORT:
		res = decode_geneve(&in, out->wire_len, w);
		return res == DEC_NOT_TUNNEL ? DEC_OK : res;
	case MPLS_UDP_PORT:
		return decode_mpls(&in, out->wire_len, w);
	case GRE_UDP_PORT:
		return decode_gre(&in, out->wire_len, w);
	}
	/* one level of GTP-U: GTP in GTP leaves the inner datagram */
	if ((out->dport != GTPU_PORT && out->sport != GTPU_PORT) ||
	    (out->encap & ENCAP_BIT(ENCAP_GTPU)))
		return DEC_OK;
	switch (gtpu_inner(out, &in)) {
	case -1:
		return DEC_ENCAP_MALFORMED;
	case 0:
		return DEC_OK;
	}
	if ((in.p[0] >> 4) != 4 && (in.p[0] >> 4) != 6)
		return DEC_OK;		/* a G-PDU of something else */
	if ((res = encap_enter(w, ENCAP_GTPU)) != DEC_OK)
		return res;
	return decode_ip_in(&in, wire_less(out->wire_len,
	    (size_t)(in.p - out->payload)), w, 0);
}

static enum decode_result
decode_l4(struct rd *r, uint8_t proto, size_t wire_left, struct walk *w)
{
	enum decode_result res;

	switch (proto) {
	case 6:
		return decode_tcp(r, wire_left, w->out);
	case 17:
		return decode_udp(r, wire_left, w);
	case 4:				/* IPv4 in IP (RFC 2003) */
	case 41:			/* IPv6 in IP (RFC 4213, 2473) */
		if ((res = encap_enter(w, ENCAP_IPIP)) != DEC_OK)
			return res;
		return decode_ip_in(r, wire_left, w, proto == 4 ? 4 : 6);
	case 47:
		return decode_gre(r, wire_left, w);
	}
	return DEC_NOT_TCPUDP;
}

static enum decode_result
decode_ipv4(struct rd *r, struct walk *w)
{
	struct pkt *out = w->out;
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
	if (rd_left(r) < (size_t)(total - hlen) && !w->cut)
		return DEC_BAD_IP;	/* claims bytes the frame never had */
	/* an outer first fragment cuts whatever it tunnels too */
	if (frag & 0x2000) {
		out->first_frag = 1;
		w->cut = 1;
	}
	/* Ethernet pads short frames: trust the IP length, not caplen. */
	body = rd_init(r->p, rd_left(r) < (size_t)(total - hlen) ?
	    rd_left(r) : (size_t)(total - hlen));
	return decode_l4(&body, proto, total - hlen, w);
}

static enum decode_result
decode_ipv6(struct rd *r, struct walk *w)
{
	struct pkt *out = w->out;
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
	if (rd_left(r) < plen && !w->cut)
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
			if (off & 1) {
				out->first_frag = 1;
				w->cut = 1;
			}
			break;
		default:
			return decode_l4(&body, next, plen, w);
		}
		/* what the header took is no longer transport payload */
		plen = (uint16_t)(plen - (before - rd_left(&body)));
	}
	return DEC_BAD_IP;
}

static enum decode_result
decode_ip(struct rd *r, struct walk *w)
{
	if (rd_left(r) < 1)
		return DEC_BAD_IP;
	switch (r->p[0] >> 4) {
	case 4:
		return decode_ipv4(r, w);
	case 6:
		return decode_ipv6(r, w);
	}
	return DEC_BAD_IP;
}

/*
 * The frame nearly every packet is, decoded with one bounds check per
 * layer: Ethernet with at most one 802.1Q tag, IPv4 without options and
 * not a later fragment, or IPv6 without extension headers, then TCP, or
 * UDP that is not to a tunnel's port (GTP-U, VXLAN, Geneve, MPLS; IP
 * tunnels are other protocols, MPLS another ethertype, so those go the
 * full way anyway).  For these frames the result is exactly the
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
		out->encap = ENCAP_BIT(ENCAP_VLAN);
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
	    out->sport == GTPU_PORT || out->dport == GTPU_PORT ||
	    out->dport == VXLAN_PORT || out->dport == VXLAN_LINUX_PORT ||
	    out->dport == GENEVE_PORT || out->dport == MPLS_UDP_PORT ||
	    out->dport == GRE_UDP_PORT)
		return DEC_SLOW;
	out->l4 = 17;
	out->wire_len = hl - 8;
	out->payload = l4 + 8;
	out->payload_len = avail - 8 < out->wire_len ? avail - 8 :
	    out->wire_len;
	return DEC_OK;
}

/*
 * Everything but the outermost addresses, which only a tunnel sets
 * (outer_af says so): clearing them too cost a third of the fast path.
 */
static void
decode_reset(struct pkt *out, size_t caplen, size_t wirelen)
{
	uint64_t ts = out->ts_usec;

	memset(out, 0, offsetof(struct pkt, osrc));
	out->ts_usec = ts;
	out->vlan = -1;
	out->snap_cut = caplen < wirelen;
}

enum decode_result
decode_packet(int dlt, const uint8_t *p, size_t caplen, size_t wirelen,
    struct pkt *out)
{
	struct rd r = rd_init(p, caplen);
	struct walk w;

	decode_reset(out, caplen, wirelen);
	if (dlt == DLT_EN10MB) {
		if (decode_fast(p, caplen, out) == DEC_OK)
			return DEC_OK;
		decode_reset(out, caplen, wirelen);
	}
	w.out = out;
	w.layers = 0;
	w.cut = out->snap_cut;
	switch (dlt) {
	case DLT_EN10MB:
		return decode_ether(&r, SIZE_MAX, &w);
	case DLT_LINUX_SLL:
		return decode_sll(&r, &w);
	case DLT_LINUX_SLL2:
		return decode_sll2(&r, &w);
	case DLT_NULL:
	case DLT_LOOP:
		return decode_null(&r, &w);
	case DLT_PPP:
		return decode_ppp(&r, &w);
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
#if DLT_RAW != 12
	case 12:
#endif
	case 101:
		return decode_ip(&r, &w);
	}
	return DEC_UNSUPPORTED_DLT;
}
