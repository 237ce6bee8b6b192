/*
 * test_decode.c - every link type, IPv4/IPv6 corner, TCP/UDP length rule
 * and tunnel (VXLAN, Geneve, GRE, ERSPAN I-III, MPLS, IP-in-IP, GTP-U,
 * nested) that decode_packet() promises, plus every
 * truncation prefix of each valid frame (each copied into an exact-size
 * heap block so ASan catches a read one byte past caplen).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>

#include "decode/decode.h"
#include "t.h"

#define SLL	113
#define SLL2	276

static const uint8_t SRC4[4] = { 10, 1, 2, 3 };
static const uint8_t DST4[4] = { 192, 0, 2, 7 };
static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t DST6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 2 };
static const char PAYLOAD[] = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
#define PLEN	(sizeof(PAYLOAD) - 1)

/* --- frame builders ------------------------------------------------- */

static void
be16(uint8_t *o, uint16_t v)
{
	o[0] = (uint8_t)(v >> 8);
	o[1] = (uint8_t)v;
}

static void
be32(uint8_t *o, uint32_t v)
{
	be16(o, (uint16_t)(v >> 16));
	be16(o + 2, (uint16_t)v);
}

/* TCP header with optlen (multiple of 4) bytes of options, then data. */
static size_t
mk_tcp(uint8_t *o, uint16_t sp, uint16_t dp, uint32_t seq, uint32_t ack,
    uint8_t flags, size_t optlen, const void *pl, size_t plen)
{
	size_t i, hl = 20 + optlen;

	memset(o, 0, hl);
	be16(o, sp);
	be16(o + 2, dp);
	be32(o + 4, seq);
	be32(o + 8, ack);
	o[12] = (uint8_t)((hl / 4) << 4);
	o[13] = flags;
	be16(o + 14, 65535);
	if (optlen >= 4) {			/* MSS 1460, then NOPs */
		o[20] = 2;
		o[21] = 4;
		be16(o + 22, 1460);
		for (i = 24; i < hl; i++)
			o[i] = 1;
	}
	memcpy(o + hl, pl, plen);
	return hl + plen;
}

static size_t
mk_udp(uint8_t *o, uint16_t sp, uint16_t dp, const void *pl, size_t plen)
{
	be16(o, sp);
	be16(o + 2, dp);
	be16(o + 4, (uint16_t)(8 + plen));
	be16(o + 6, 0);
	memcpy(o + 8, pl, plen);
	return 8 + plen;
}

static size_t
mk_ip4(uint8_t *o, uint8_t proto, size_t optlen, uint16_t frag,
    const uint8_t *in, size_t ilen)
{
	size_t hl = 20 + optlen;

	memset(o, 0, hl);
	o[0] = (uint8_t)(0x40 | (hl / 4));
	be16(o + 2, (uint16_t)(hl + ilen));
	be16(o + 4, 0x1234);
	be16(o + 6, frag);
	o[8] = 64;
	o[9] = proto;
	memcpy(o + 12, SRC4, 4);
	memcpy(o + 16, DST4, 4);
	memset(o + 20, 1, optlen);		/* NOP options */
	memmove(o + hl, in, ilen);
	return hl + ilen;
}

/* IPv6 header; ext (already chained by the caller) sits before in. */
static size_t
mk_ip6(uint8_t *o, uint8_t next, const uint8_t *ext, size_t extlen,
    const uint8_t *in, size_t ilen)
{
	memset(o, 0, 40);
	o[0] = 0x60;
	be16(o + 4, (uint16_t)(extlen + ilen));
	o[6] = next;
	o[7] = 64;
	memcpy(o + 8, SRC6, 16);
	memcpy(o + 24, DST6, 16);
	memmove(o + 40 + extlen, in, ilen);
	if (extlen > 0)
		memcpy(o + 40, ext, extlen);
	return 40 + extlen + ilen;
}

static size_t
mk_eth(uint8_t *o, int ntags, const uint16_t *tpid, const uint16_t *vid,
    uint16_t type, const uint8_t *in, size_t ilen)
{
	static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 1,
		0x02, 0, 0, 0, 0, 2 };
	size_t n = 12;
	int i;

	memmove(o + 14 + 4 * (size_t)ntags, in, ilen);
	memcpy(o, macs, 12);
	for (i = 0; i < ntags; i++) {
		be16(o + n, tpid[i]);
		be16(o + n + 2, (uint16_t)(0x2000 | vid[i]));	/* PCP 1 */
		n += 4;
	}
	be16(o + n, type);
	return n + 2 + ilen;
}

/* Prepend a link header of hl bytes (already in hdr) to in. */
static size_t
mk_link(uint8_t *o, const uint8_t *hdr, size_t hl, const uint8_t *in,
    size_t ilen)
{
	memmove(o + hl, in, ilen);
	memcpy(o, hdr, hl);
	return hl + ilen;
}

/* The usual test segment: 10.1.2.3:40000 -> 192.0.2.7:443 with data. */
static size_t
ip4_tcp(uint8_t *o)
{
	uint8_t l4[256];
	size_t n = mk_tcp(l4, 40000, 443, 0x01020304, 0xa0b0c0d0,
	    TCP_ACK | TCP_PSH, 0, PAYLOAD, PLEN);

	return mk_ip4(o, 6, 0, 0x4000, l4, n);
}

static size_t
ip6_tcp(uint8_t *o)
{
	uint8_t l4[256];
	size_t n = mk_tcp(l4, 40000, 443, 7, 9, TCP_SYN, 0, PAYLOAD, PLEN);

	return mk_ip6(o, 6, NULL, 0, l4, n);
}

/* --- decoding through an exact-size heap copy ----------------------- */

static uint8_t *heap;

static enum decode_result
dec(int dlt, const uint8_t *f, size_t caplen, size_t wirelen, struct pkt *p)
{
	free(heap);
	heap = malloc(caplen ? caplen : 1);
	memcpy(heap, f, caplen);
	memset(p, 0xa5, sizeof(*p));		/* decode must set everything */
	p->ts_usec = 1234567;
	return decode_packet(dlt, heap, caplen, wirelen, p);
}

static void
dec_done(void)
{
	free(heap);
	heap = NULL;
}

static int
in_frame(const struct pkt *p, size_t caplen)
{
	if (p->payload == NULL)
		return p->payload_len == 0;
	return p->payload >= heap && p->payload <= heap + caplen &&
	    p->payload_len <= (size_t)(heap + caplen - p->payload);
}

static int
v4mapped_is(const uint8_t *a, const uint8_t *v4)
{
	static const uint8_t pre[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };

	return memcmp(a, pre, 12) == 0 && memcmp(a + 12, v4, 4) == 0;
}

/*
 * Every prefix of a valid frame.  Without snaplen cut (wirelen ==
 * caplen) a prefix that cuts into the IP packet (which ends at ip_end)
 * is a lie and must not decode; with the frame's real wire length a
 * prefix is a snaplen cut and may decode, but never past caplen.
 */
static void
prefixes(int dlt, const uint8_t *f, size_t len, size_t ip_end)
{
	struct pkt p;
	size_t k;
	int bad_nocut = 0, bad_range = 0, bad_bounds = 0, bad_cut = 0;
	int cut_ok = 0, whole_ok = dec(dlt, f, len, len, &p) == DEC_OK;

	for (k = 0; k < len; k++) {
		enum decode_result r = dec(dlt, f, k, k, &p);

		if ((int)r < 0 || (int)r >= DEC_NRESULTS)
			bad_range++;
		if (k < ip_end && r == DEC_OK)
			bad_nocut++;
		if (r == DEC_OK && !in_frame(&p, k))
			bad_bounds++;
		r = dec(dlt, f, k, len, &p);
		if ((int)r < 0 || (int)r >= DEC_NRESULTS)
			bad_range++;
		if (r == DEC_OK) {
			cut_ok++;
			if (!in_frame(&p, k))
				bad_bounds++;
			if (p.payload_len > p.wire_len || !p.snap_cut)
				bad_cut++;
		}
	}
	T_EQ_INT(bad_range, 0);
	T_EQ_INT(bad_nocut, 0);
	T_EQ_INT(bad_bounds, 0);
	T_EQ_INT(bad_cut, 0);
	/* a snaplen that keeps the headers still decodes */
	T_CHECK(!whole_ok || cut_ok > 0);
	dec_done();
}

/* Checks of the reference TCP segment from ip4_tcp() / ip6_tcp(). */
static void
check_tcp4(const struct pkt *p)
{
	T_EQ_INT(p->af, 4);
	T_EQ_INT(p->l4, 6);
	T_CHECK(v4mapped_is(p->src, SRC4));
	T_CHECK(v4mapped_is(p->dst, DST4));
	T_CHECK(addr_is_v4(p->src));
	T_EQ_INT(p->sport, 40000);
	T_EQ_INT(p->dport, 443);
	T_EQ_INT(p->seq, 0x01020304);
	T_EQ_INT(p->ack, 0xa0b0c0d0);
	T_EQ_INT(p->tcp_flags, TCP_ACK | TCP_PSH);
	T_EQ_INT(p->payload_len, PLEN);
	T_EQ_INT(p->wire_len, PLEN);
	T_EQ_INT(p->first_frag, 0);
	T_EQ_INT(p->snap_cut, 0);
	T_EQ_INT(p->ts_usec, 1234567);
	T_CHECK(p->payload != NULL &&
	    memcmp(p->payload, PAYLOAD, PLEN) == 0);
}

static void
check_tcp6(const struct pkt *p)
{
	T_EQ_INT(p->af, 6);
	T_EQ_INT(p->l4, 6);
	T_CHECK(memcmp(p->src, SRC6, 16) == 0);
	T_CHECK(memcmp(p->dst, DST6, 16) == 0);
	T_CHECK(!addr_is_v4(p->src));
	T_EQ_INT(p->sport, 40000);
	T_EQ_INT(p->dport, 443);
	T_EQ_INT(p->seq, 7);
	T_EQ_INT(p->tcp_flags, TCP_SYN);
	T_EQ_INT(p->payload_len, PLEN);
	T_EQ_INT(p->wire_len, PLEN);
	T_CHECK(p->payload != NULL &&
	    memcmp(p->payload, PAYLOAD, PLEN) == 0);
}

/* --- tests ---------------------------------------------------------- */

static void
test_eth_plain(void)
{
	uint8_t ip[512], f[600];
	size_t il = ip4_tcp(ip), n = mk_eth(f, 0, NULL, NULL, 0x0800, ip, il);
	struct pkt p;

	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_OK);
	check_tcp4(&p);
	T_EQ_INT(p.vlan, -1);
	prefixes(DLT_EN10MB, f, n, n);

	il = ip6_tcp(ip);
	n = mk_eth(f, 0, NULL, NULL, 0x86dd, ip, il);
	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_OK);
	check_tcp6(&p);
	T_EQ_INT(p.vlan, -1);
	prefixes(DLT_EN10MB, f, n, n);
}

static void
test_eth_vlan(void)
{
	static const uint16_t q[] = { 0x8100 };
	static const uint16_t qinq[] = { 0x88a8, 0x8100 };
	static const uint16_t four[] = { 0x9100, 0x88a8, 0x8100, 0x8100 };
	static const uint16_t five[] = { 0x88a8, 0x8100, 0x8100, 0x8100,
		0x8100 };
	static const uint16_t vid[] = { 10, 20, 30, 4094, 5 };
	uint8_t ip[512], f[600];
	size_t il = ip4_tcp(ip), n;
	struct pkt p;

	n = mk_eth(f, 1, q, vid + 1, 0x0800, ip, il);
	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_OK);
	check_tcp4(&p);
	T_EQ_INT(p.vlan, 20);
	prefixes(DLT_EN10MB, f, n, n);

	n = mk_eth(f, 2, qinq, vid, 0x0800, ip, il);
	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_OK);
	check_tcp4(&p);
	T_EQ_INT(p.vlan, 20);			/* innermost, not the S-tag */
	prefixes(DLT_EN10MB, f, n, n);

	n = mk_eth(f, 4, four, vid, 0x0800, ip, il);
	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_OK);
	check_tcp4(&p);
	T_EQ_INT(p.vlan, 4094);
	prefixes(DLT_EN10MB, f, n, n);

	il = ip6_tcp(ip);
	n = mk_eth(f, 2, qinq, vid + 2, 0x86dd, ip, il);
	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_OK);
	check_tcp6(&p);
	T_EQ_INT(p.vlan, 4094);

	/* beyond the bound: refused, not walked forever */
	il = ip4_tcp(ip);
	n = mk_eth(f, 5, five, vid, 0x0800, ip, il);
	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_BAD_LINK);
	prefixes(DLT_EN10MB, f, n, n);

	/* a tagged ARP frame is simply not IP */
	n = mk_eth(f, 1, q, vid, 0x0806, ip, 28);
	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_NOT_IP);
	dec_done();
}

static size_t
pppoe(uint8_t *o, uint16_t proto, const uint8_t *in, size_t ilen)
{
	uint8_t h[8];

	h[0] = 0x11;			/* version 1, type 1 */
	h[1] = 0;			/* session data */
	be16(h + 2, 0x1234);
	be16(h + 4, (uint16_t)(ilen + 2));
	be16(h + 6, proto);
	return mk_link(o, h, 8, in, ilen);
}

static void
test_pppoe(void)
{
	static const uint16_t q[] = { 0x8100 };
	static const uint16_t vid[] = { 7 };
	uint8_t ip[512], s[600], f[700];
	size_t n, sl, il = ip4_tcp(ip);
	struct pkt p;

	sl = pppoe(s, 0x0021, ip, il);
	n = mk_eth(f, 0, NULL, NULL, 0x8864, s, sl);
	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_OK);
	check_tcp4(&p);
	prefixes(DLT_EN10MB, f, n, n);

	/* PPPoE inside a VLAN, as on many DSL uplinks */
	n = mk_eth(f, 1, q, vid, 0x8864, s, sl);
	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_OK);
	check_tcp4(&p);
	T_EQ_INT(p.vlan, 7);

	il = ip6_tcp(ip);
	sl = pppoe(s, 0x0057, ip, il);
	n = mk_eth(f, 0, NULL, NULL, 0x8864, s, sl);
	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_OK);
	check_tcp6(&p);
	prefixes(DLT_EN10MB, f, n, n);

	sl = pppoe(s, 0xc021, ip, 20);	/* LCP */
	n = mk_eth(f, 0, NULL, NULL, 0x8864, s, sl);
	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_NOT_IP);
	/* discovery stage frames are not IP either */
	n = mk_eth(f, 0, NULL, NULL, 0x8863, s, sl);
	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_NOT_IP);
	dec_done();
}

static size_t
sll(uint8_t *o, uint16_t proto, const uint8_t *in, size_t ilen)
{
	uint8_t h[16] = { 0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0 };

	be16(h + 14, proto);
	return mk_link(o, h, 16, in, ilen);
}

static size_t
sll2(uint8_t *o, uint16_t proto, const uint8_t *in, size_t ilen)
{
	uint8_t h[20] = { 0 };

	be16(h, proto);
	be32(h + 4, 3);			/* interface index */
	be16(h + 8, 1);			/* ARPHRD_ETHER */
	h[10] = 0;			/* to us */
	h[11] = 6;
	h[12] = 0x02;
	return mk_link(o, h, 20, in, ilen);
}

static void
test_sll(void)
{
	uint8_t ip[512], t[600], f[700];
	size_t n, tl, il = ip4_tcp(ip);
	struct pkt p;

	n = sll(f, 0x0800, ip, il);
	T_EQ_INT(dec(SLL, f, n, n, &p), DEC_OK);
	check_tcp4(&p);
	T_EQ_INT(p.vlan, -1);
	prefixes(SLL, f, n, n);

	/* a VLAN tag the kernel left in */
	be16(t, 0x0123);
	be16(t + 2, 0x0800);
	memcpy(t + 4, ip, il);
	tl = il + 4;
	n = sll(f, 0x8100, t, tl);
	T_EQ_INT(dec(SLL, f, n, n, &p), DEC_OK);
	check_tcp4(&p);
	T_EQ_INT(p.vlan, 0x123);
	prefixes(SLL, f, n, n);

	il = ip6_tcp(ip);
	n = sll(f, 0x86dd, ip, il);
	T_EQ_INT(dec(SLL, f, n, n, &p), DEC_OK);
	check_tcp6(&p);
	prefixes(SLL, f, n, n);

	n = sll(f, 0x0806, ip, 28);
	T_EQ_INT(dec(SLL, f, n, n, &p), DEC_NOT_IP);
	dec_done();
}

static void
test_sll2(void)
{
	uint8_t ip[512], f[700];
	size_t n, il = ip4_tcp(ip);
	struct pkt p;

	n = sll2(f, 0x0800, ip, il);
	T_EQ_INT(dec(SLL2, f, n, n, &p), DEC_OK);
	check_tcp4(&p);
	prefixes(SLL2, f, n, n);

	il = ip6_tcp(ip);
	n = sll2(f, 0x86dd, ip, il);
	T_EQ_INT(dec(SLL2, f, n, n, &p), DEC_OK);
	check_tcp6(&p);
	prefixes(SLL2, f, n, n);

	n = sll2(f, 0x0806, ip, 28);
	T_EQ_INT(dec(SLL2, f, n, n, &p), DEC_NOT_IP);
	T_CHECK(decode_dlt_supported(SLL2));
	T_CHECK(decode_dlt_supported(SLL));
	dec_done();
}

static void
test_raw(void)
{
	static const int dlts[] = { DLT_RAW, 12, 14, 101, 228, 229 };
	uint8_t f[600];
	size_t n, i;
	struct pkt p;

	for (i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
		if (dlts[i] == 14 && DLT_RAW != 14)
			continue;	/* 14 is DLT_ATM_RFC1483 here */
		n = ip4_tcp(f);
		T_CHECK(decode_dlt_supported(dlts[i]));
		T_EQ_INT(dec(dlts[i], f, n, n, &p), DEC_OK);
		check_tcp4(&p);
		n = ip6_tcp(f);
		T_EQ_INT(dec(dlts[i], f, n, n, &p), DEC_OK);
		check_tcp6(&p);
	}
	n = ip4_tcp(f);
	prefixes(DLT_RAW, f, n, n);
	n = ip6_tcp(f);
	prefixes(DLT_RAW, f, n, n);

	/* not IP at all: version nibble 5 */
	n = ip4_tcp(f);
	f[0] = 0x55;
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_BAD_IP);
	dec_done();
}

static size_t
null_hdr(uint8_t *o, uint32_t af, int big, const uint8_t *in, size_t ilen)
{
	uint8_t h[4];

	if (big) {
		be32(h, af);
	} else {
		h[0] = (uint8_t)af;
		h[1] = (uint8_t)(af >> 8);
		h[2] = (uint8_t)(af >> 16);
		h[3] = (uint8_t)(af >> 24);
	}
	return mk_link(o, h, 4, in, ilen);
}

static void
test_null(void)
{
	static const uint32_t af6[] = { 10, 24, 28, 30 };
	uint8_t ip[512], f[600];
	size_t n, il, i;
	int big;
	struct pkt p;

	for (big = 0; big <= 1; big++) {
		il = ip4_tcp(ip);
		n = null_hdr(f, 2, big, ip, il);
		T_EQ_INT(dec(DLT_NULL, f, n, n, &p), DEC_OK);
		check_tcp4(&p);
		T_EQ_INT(dec(DLT_LOOP, f, n, n, &p), DEC_OK);
		check_tcp4(&p);
		prefixes(DLT_NULL, f, n, n);
		il = ip6_tcp(ip);
		for (i = 0; i < 4; i++) {
			n = null_hdr(f, af6[i], big, ip, il);
			T_EQ_INT(dec(DLT_NULL, f, n, n, &p), DEC_OK);
			check_tcp6(&p);
		}
		prefixes(DLT_NULL, f, n, n);
		/* AF_UNSPEC, AF_APPLETALK, ... are not IP */
		n = null_hdr(f, 0, big, ip, il);
		T_EQ_INT(dec(DLT_NULL, f, n, n, &p), DEC_NOT_IP);
		n = null_hdr(f, 16, big, ip, il);
		T_EQ_INT(dec(DLT_NULL, f, n, n, &p), DEC_NOT_IP);
	}
	dec_done();
}

static void
test_ppp(void)
{
	static const uint8_t h_full[] = { 0xff, 0x03, 0x00, 0x21 };
	static const uint8_t h_noac[] = { 0x00, 0x21 };
	static const uint8_t h_comp[] = { 0xff, 0x03, 0x21 };
	static const uint8_t h_both[] = { 0x21 };
	static const uint8_t h_v6[] = { 0xff, 0x03, 0x00, 0x57 };
	static const uint8_t h_v6c[] = { 0x57 };
	static const uint8_t h_lcp[] = { 0xff, 0x03, 0xc0, 0x21 };
	static const struct {
		const uint8_t *h;
		size_t hl;
		int v6;
	} v[] = {
		{ h_full, 4, 0 }, { h_noac, 2, 0 }, { h_comp, 3, 0 },
		{ h_both, 1, 0 }, { h_v6, 4, 1 }, { h_v6c, 1, 1 },
	};
	uint8_t ip[512], f[600];
	size_t n, il, i;
	struct pkt p;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		il = v[i].v6 ? ip6_tcp(ip) : ip4_tcp(ip);
		n = mk_link(f, v[i].h, v[i].hl, ip, il);
		T_EQ_INT(dec(DLT_PPP, f, n, n, &p), DEC_OK);
		if (v[i].v6)
			check_tcp6(&p);
		else
			check_tcp4(&p);
		prefixes(DLT_PPP, f, n, n);
	}
	il = ip4_tcp(ip);
	n = mk_link(f, h_lcp, 4, ip, il);
	T_EQ_INT(dec(DLT_PPP, f, n, n, &p), DEC_NOT_IP);
	dec_done();
}

static void
test_ipv4_options(void)
{
	uint8_t l4[256], f[600];
	size_t n, ol;
	struct pkt p;

	for (ol = 4; ol <= 40; ol += 12) {
		n = mk_tcp(l4, 40000, 443, 0x01020304, 0xa0b0c0d0,
		    TCP_ACK | TCP_PSH, 0, PAYLOAD, PLEN);
		n = mk_ip4(f, 6, ol, 0, l4, n);
		T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
		check_tcp4(&p);
		T_CHECK(p.payload == heap + 20 + ol + 20);
		prefixes(DLT_RAW, f, n, n);
	}
	/* IHL below 5, and a total length shorter than the header */
	n = ip4_tcp(f);
	f[0] = 0x44;
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_BAD_IP);
	n = ip4_tcp(f);
	be16(f + 2, 19);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_BAD_IP);
	/* IHL 15 but the header is not there */
	f[0] = 0x4f;
	be16(f + 2, 60);
	T_EQ_INT(dec(DLT_RAW, f, 40, 40, &p), DEC_BAD_IP);
	dec_done();
}

static void
test_ipv4_fragments(void)
{
	uint8_t l4[2048], f[2100];
	uint8_t big[1200];
	size_t n, ul;
	struct pkt p;

	memset(big, 'q', sizeof(big));
	/* First fragment: the UDP length covers all 1200 bytes of data
	 * but only 600 of them are in this packet. */
	ul = mk_udp(l4, 5353, 53, big, sizeof(big));
	n = mk_ip4(f, 17, 0, 0x2000, l4, 8 + 600);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
	T_EQ_INT(p.first_frag, 1);
	T_EQ_INT(p.l4, 17);
	T_EQ_INT(p.sport, 5353);
	T_EQ_INT(p.dport, 53);
	T_EQ_INT(p.wire_len, ul - 8);
	T_EQ_INT(p.payload_len, 600);
	T_CHECK(in_frame(&p, n));
	prefixes(DLT_RAW, f, n, n);

	/* first fragment of TCP */
	n = mk_tcp(l4, 40000, 443, 0x01020304, 0xa0b0c0d0,
	    TCP_ACK | TCP_PSH, 0, PAYLOAD, PLEN);
	n = mk_ip4(f, 6, 0, 0x2000, l4, n);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
	T_EQ_INT(p.first_frag, 1);
	T_EQ_INT(p.payload_len, PLEN);

	/* non-first fragments, with and without MF, are skipped */
	n = mk_ip4(f, 17, 0, 0x2000 | 75, big, 600);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_FRAGMENT);
	prefixes(DLT_RAW, f, n, n);
	n = mk_ip4(f, 17, 0, 150, big, 16);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_FRAGMENT);
	n = mk_ip4(f, 6, 0, 1, big, 16);	/* offset 8 bytes */
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_FRAGMENT);
	/* DF alone is not a fragment */
	n = mk_ip4(f, 17, 0, 0x4000, l4, mk_udp(l4, 1, 2, "x", 1));
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
	T_EQ_INT(p.first_frag, 0);
	dec_done();
}

/* An IPv6 extension header of 8*(1+len8) bytes. */
static size_t
ext6(uint8_t *o, uint8_t next, uint8_t len8)
{
	size_t n = 8 * ((size_t)len8 + 1);

	memset(o, 0, n);
	o[0] = next;
	o[1] = len8;
	return n;
}

static size_t
frag6(uint8_t *o, uint8_t next, uint16_t off8, int more)
{
	memset(o, 0, 8);
	o[0] = next;
	be16(o + 2, (uint16_t)((off8 << 3) | (more ? 1 : 0)));
	be32(o + 4, 0xdeadbeef);
	return 8;
}

static void
test_ipv6_ext(void)
{
	uint8_t ext[256], l4[256], f[700];
	size_t n, el, tl;
	struct pkt p;

	tl = mk_tcp(l4, 40000, 443, 7, 9, TCP_SYN, 0, PAYLOAD, PLEN);

	/* hop-by-hop -> routing -> destination options -> TCP */
	el = ext6(ext, 43, 0);
	el += ext6(ext + el, 60, 1);
	el += ext6(ext + el, 6, 2);
	n = mk_ip6(f, 0, ext, el, l4, tl);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
	check_tcp6(&p);
	T_EQ_INT(p.first_frag, 0);
	prefixes(DLT_RAW, f, n, n);

	/* AH counts 4-byte units */
	el = ext6(ext, 51, 0);
	ext[el] = 6;
	ext[el + 1] = 4;			/* (4 + 2) * 4 = 24 bytes */
	memset(ext + el + 2, 0, 22);
	el += 24;
	n = mk_ip6(f, 0, ext, el, l4, tl);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
	check_tcp6(&p);

	/* first fragment (offset 0, M set) */
	el = frag6(ext, 6, 0, 1);
	n = mk_ip6(f, 44, ext, el, l4, tl);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
	check_tcp6(&p);
	T_EQ_INT(p.first_frag, 1);
	prefixes(DLT_RAW, f, n, n);

	/* an atomic fragment (offset 0, no M) is a whole packet */
	el = frag6(ext, 6, 0, 0);
	n = mk_ip6(f, 44, ext, el, l4, tl);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
	T_EQ_INT(p.first_frag, 0);

	/* non-first fragments, after other headers too */
	el = frag6(ext, 6, 100, 1);
	n = mk_ip6(f, 44, ext, el, l4, tl);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_FRAGMENT);
	prefixes(DLT_RAW, f, n, n);
	el = ext6(ext, 44, 0);
	el += frag6(ext + el, 17, 1, 0);
	n = mk_ip6(f, 0, ext, el, l4, tl);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_FRAGMENT);

	/* UDP after a fragment header: the length rule still holds */
	el = frag6(ext, 17, 0, 0);
	n = mk_udp(l4, 1000, 53, PAYLOAD, PLEN);
	n = mk_ip6(f, 44, ext, el, l4, n);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
	T_EQ_INT(p.l4, 17);
	T_EQ_INT(p.payload_len, PLEN);
	T_EQ_INT(p.wire_len, PLEN);

	/* no next header, ICMPv6 */
	n = mk_ip6(f, 59, NULL, 0, l4, 0);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_NOT_TCPUDP);
	n = mk_ip6(f, 58, NULL, 0, l4, 8);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_NOT_TCPUDP);
	dec_done();
}

static void
test_ipv6_ext_malformed(void)
{
	uint8_t ext[256], l4[256], f[700];
	size_t n, el, tl, i;
	struct pkt p;

	tl = mk_tcp(l4, 40000, 443, 7, 9, TCP_SYN, 0, PAYLOAD, PLEN);
	/* a chain longer than the walk's bound */
	el = 0;
	for (i = 0; i < 12; i++)
		el += ext6(ext + el, i + 1 < 12 ? 60 : 6, 0);
	n = mk_ip6(f, 60, ext, el, l4, tl);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_BAD_IP);

	/* an extension header claiming more than the payload length */
	el = ext6(ext, 6, 0);
	n = mk_ip6(f, 0, ext, el, l4, tl);
	f[41] = 200;
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_BAD_IP);

	/* payload length beyond the frame, not a snaplen cut */
	n = ip6_tcp(f);
	be16(f + 4, (uint16_t)(n - 40 + 1));
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_BAD_IP);
	/* version mismatch under an IPv6 ethertype is caught by nibble */
	n = ip6_tcp(f);
	f[0] = 0x70;
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_BAD_IP);
	/* payload length zero (jumbogram / TSO): no room for TCP */
	n = ip6_tcp(f);
	be16(f + 4, 0);
	T_CHECK(dec(DLT_RAW, f, n, n, &p) != DEC_OK);
	dec_done();
}

/* GTP-U G-PDU header; with ext, a PDU session container extension. */
static size_t
gtpu(uint8_t *o, int ext, uint8_t type, const uint8_t *in, size_t ilen)
{
	uint8_t h[16];
	size_t hl;

	if (ext) {
		h[0] = 0x34;		/* v1, PT, E */
		hl = 16;
		h[8] = 0;
		h[9] = 0;		/* sequence */
		h[10] = 0;		/* N-PDU */
		h[11] = 0x85;		/* next: PDU session container */
		h[12] = 1;		/* 4 bytes */
		h[13] = 0x10;
		h[14] = 0x09;
		h[15] = 0;		/* no more */
	} else {
		h[0] = 0x30;
		hl = 8;
	}
	h[1] = type;
	be16(h + 2, (uint16_t)(hl - 8 + ilen));
	be32(h + 4, 0x11223344);
	return mk_link(o, h, hl, in, ilen);
}

static void
test_gtpu(void)
{
	uint8_t inner[512], g[600], u[700], f[800], o[900];
	size_t il, gl, ul, n, fl;
	struct pkt p;
	int ext;

	for (ext = 0; ext <= 1; ext++) {
		il = ip4_tcp(inner);
		gl = gtpu(g, ext, 0xff, inner, il);
		ul = mk_udp(u, 2152, 2152, g, gl);
		n = mk_ip6(o, 17, NULL, 0, u, ul);	/* outer over IPv6 */
		fl = mk_eth(f, 0, NULL, NULL, 0x86dd, o, n);
		T_EQ_INT(dec(DLT_EN10MB, f, fl, fl, &p), DEC_OK);
		check_tcp4(&p);		/* the inner packet, not the tunnel */
		prefixes(DLT_EN10MB, f, fl, fl);

		il = ip6_tcp(inner);
		gl = gtpu(g, ext, 0xff, inner, il);
		ul = mk_udp(u, 2152, 2152, g, gl);
		n = mk_ip4(o, 17, 0, 0, u, ul);
		fl = mk_eth(f, 0, NULL, NULL, 0x0800, o, n);
		T_EQ_INT(dec(DLT_EN10MB, f, fl, fl, &p), DEC_OK);
		check_tcp6(&p);
		prefixes(DLT_EN10MB, f, fl, fl);
	}

	/* echo request (type 1) is not a G-PDU: the UDP datagram stays */
	gl = gtpu(g, 0, 0x01, inner, 4);
	ul = mk_udp(u, 40000, 2152, g, gl);
	n = mk_ip4(o, 17, 0, 0, u, ul);
	T_EQ_INT(dec(DLT_RAW, o, n, n, &p), DEC_OK);
	T_EQ_INT(p.l4, 17);
	T_EQ_INT(p.dport, 2152);
	T_EQ_INT(p.payload_len, gl);

	/* G-PDU whose inner bytes are not IP: still the outer datagram */
	memset(inner, 0x99, 40);
	gl = gtpu(g, 0, 0xff, inner, 40);
	ul = mk_udp(u, 2152, 2152, g, gl);
	n = mk_ip4(o, 17, 0, 0, u, ul);
	T_EQ_INT(dec(DLT_RAW, o, n, n, &p), DEC_OK);
	T_EQ_INT(p.l4, 17);
	T_EQ_INT(p.sport, 2152);
	T_CHECK(v4mapped_is(p.src, SRC4));
	T_EQ_INT(p.payload_len, gl);

	/* only one level is unwrapped: GTP in GTP leaves the inner UDP */
	il = ip4_tcp(inner);
	gl = gtpu(g, 0, 0xff, inner, il);
	ul = mk_udp(u, 2152, 2152, g, gl);
	n = mk_ip4(o, 17, 0, 0, u, ul);
	gl = gtpu(g, 0, 0xff, o, n);
	ul = mk_udp(u, 2152, 2152, g, gl);
	n = mk_ip4(o, 17, 0, 0, u, ul);
	T_EQ_INT(dec(DLT_RAW, o, n, n, &p), DEC_OK);
	T_EQ_INT(p.l4, 17);
	T_EQ_INT(p.dport, 2152);
	dec_done();
}

static void
test_tcp_options_and_bad(void)
{
	uint8_t l4[256], f[600];
	size_t n, ol, tl;
	struct pkt p;

	for (ol = 4; ol <= 40; ol += 4) {
		tl = mk_tcp(l4, 40000, 443, 0x01020304, 0xa0b0c0d0,
		    TCP_ACK | TCP_PSH, ol, PAYLOAD, PLEN);
		n = mk_ip4(f, 6, 0, 0, l4, tl);
		T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
		check_tcp4(&p);
		T_CHECK(p.payload == heap + 20 + 20 + ol);
		if (ol == 12 || ol == 40)
			prefixes(DLT_RAW, f, n, n);
	}
	/* SYN without data */
	tl = mk_tcp(l4, 1, 2, 3, 0, TCP_SYN, 20, "", 0);
	n = mk_ip4(f, 6, 0, 0, l4, tl);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
	T_EQ_INT(p.payload_len, 0);
	T_EQ_INT(p.wire_len, 0);
	T_EQ_INT(p.tcp_flags, TCP_SYN);

	/* data offset below 5 */
	tl = mk_tcp(l4, 40000, 443, 1, 2, TCP_ACK, 0, PAYLOAD, PLEN);
	l4[12] = 0x40;
	n = mk_ip4(f, 6, 0, 0, l4, tl);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_BAD_L4);
	/* data offset past the segment */
	tl = mk_tcp(l4, 40000, 443, 1, 2, TCP_ACK, 0, "abcd", 4);
	l4[12] = 0xf0;
	n = mk_ip4(f, 6, 0, 0, l4, tl);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_BAD_L4);
	/* ... also when the IP length is what cuts the options */
	tl = mk_tcp(l4, 40000, 443, 1, 2, TCP_ACK, 0, PAYLOAD, PLEN);
	l4[12] = 0xf0;				/* 60 > 20 + PLEN? */
	n = mk_ip4(f, 6, 0, 0, l4, 40);
	memcpy(f + n, "padpadpadpadpadpadpadpadpadpadpad", 32);
	T_EQ_INT(dec(DLT_RAW, f, n + 32, n + 32, &p), DEC_BAD_L4);
	/* IP length too short for the TCP header */
	tl = mk_tcp(l4, 40000, 443, 1, 2, TCP_ACK, 0, PAYLOAD, PLEN);
	n = mk_ip4(f, 6, 0, 0, l4, tl);
	be16(f + 2, 20 + 19);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_BAD_L4);
	/* ICMP, ESP, GRE are not TCP/UDP */
	n = mk_ip4(f, 1, 0, 0, l4, 8);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_NOT_TCPUDP);
	n = mk_ip4(f, 50, 0, 0, l4, 16);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_NOT_TCPUDP);
	dec_done();
}

static void
test_udp_lengths(void)
{
	uint8_t l4[256], f[600];
	size_t n, ul;
	struct pkt p;

	ul = mk_udp(l4, 1234, 53, PAYLOAD, PLEN);
	n = mk_ip4(f, 17, 0, 0, l4, ul);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
	T_EQ_INT(p.l4, 17);
	T_EQ_INT(p.sport, 1234);
	T_EQ_INT(p.dport, 53);
	T_EQ_INT(p.payload_len, PLEN);
	T_EQ_INT(p.wire_len, PLEN);
	T_CHECK(memcmp(p.payload, PAYLOAD, PLEN) == 0);
	prefixes(DLT_RAW, f, n, n);

	/* shorter than its own header */
	be16(f + 24, 7);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_BAD_L4);
	/* longer than the IP payload (not a fragment) */
	be16(f + 24, (uint16_t)(ul + 1));
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_BAD_L4);
	be16(f + 24, 0xffff);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_BAD_L4);
	/* shorter than the IP payload: the UDP length wins */
	be16(f + 24, 8 + 5);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
	T_EQ_INT(p.payload_len, 5);
	T_EQ_INT(p.wire_len, 5);
	/* exactly the header */
	be16(f + 24, 8);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
	T_EQ_INT(p.payload_len, 0);
	/* IPv6: same rule against the payload length */
	ul = mk_udp(l4, 1234, 443, PAYLOAD, PLEN);
	n = mk_ip6(f, 17, NULL, 0, l4, ul);
	be16(f + 44, (uint16_t)(ul + 4));
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_BAD_L4);
	be16(f + 44, (uint16_t)ul);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
	T_EQ_INT(p.payload_len, PLEN);
	/* truncated UDP header */
	n = mk_ip4(f, 17, 0, 0, l4, 6);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_BAD_L4);
	dec_done();
}

static void
test_eth_padding(void)
{
	uint8_t l4[128], ip[128], f[128];
	size_t tl, il, n;
	struct pkt p;

	/* a 1-byte segment: 14 + 41 = 55, padded to 60 plus an FCS */
	tl = mk_tcp(l4, 40000, 443, 1, 2, TCP_ACK | TCP_PSH, 0, "A", 1);
	il = mk_ip4(ip, 6, 0, 0, l4, tl);
	n = mk_eth(f, 0, NULL, NULL, 0x0800, ip, il);
	T_EQ_INT(n, 55);
	memset(f + n, 0xee, 9);
	T_EQ_INT(dec(DLT_EN10MB, f, 64, 64, &p), DEC_OK);
	T_EQ_INT(p.payload_len, 1);
	T_EQ_INT(p.wire_len, 1);
	T_EQ_INT(p.payload[0], 'A');
	T_EQ_INT(p.snap_cut, 0);
	prefixes(DLT_EN10MB, f, 64, 55);

	/* a bare ACK: padding must not turn into 6 bytes of payload */
	tl = mk_tcp(l4, 40000, 443, 1, 2, TCP_ACK, 0, "", 0);
	il = mk_ip4(ip, 6, 0, 0, l4, tl);
	n = mk_eth(f, 0, NULL, NULL, 0x0800, ip, il);
	memset(f + n, 0, 60 - n);
	T_EQ_INT(dec(DLT_EN10MB, f, 60, 60, &p), DEC_OK);
	T_EQ_INT(p.payload_len, 0);
	T_EQ_INT(p.wire_len, 0);

	/* UDP: padding beyond the IP length is not datagram either */
	tl = mk_udp(l4, 1, 53, "xy", 2);
	il = mk_ip4(ip, 17, 0, 0, l4, tl);
	n = mk_eth(f, 0, NULL, NULL, 0x0800, ip, il);
	memset(f + n, 0x55, 60 - n);
	T_EQ_INT(dec(DLT_EN10MB, f, 60, 60, &p), DEC_OK);
	T_EQ_INT(p.payload_len, 2);

	/* IPv6 with a trailing FCS */
	tl = mk_tcp(l4, 40000, 443, 1, 2, TCP_ACK | TCP_PSH, 0, "B", 1);
	il = mk_ip6(ip, 6, NULL, 0, l4, tl);
	n = mk_eth(f, 0, NULL, NULL, 0x86dd, ip, il);
	memset(f + n, 0xee, 4);
	T_EQ_INT(dec(DLT_EN10MB, f, n + 4, n + 4, &p), DEC_OK);
	T_EQ_INT(p.payload_len, 1);
	T_EQ_INT(p.payload[0], 'B');
	prefixes(DLT_EN10MB, f, n + 4, n);
	dec_done();
}

static void
test_snaplen_cut(void)
{
	uint8_t ip[512], f[600];
	size_t il, n, cap;
	struct pkt p;

	il = ip4_tcp(ip);
	n = mk_eth(f, 0, NULL, NULL, 0x0800, ip, il);
	cap = 14 + 20 + 20 + 10;
	T_EQ_INT(dec(DLT_EN10MB, f, cap, n, &p), DEC_OK);
	T_EQ_INT(p.snap_cut, 1);
	T_EQ_INT(p.payload_len, 10);
	T_EQ_INT(p.wire_len, PLEN);
	T_CHECK(memcmp(p.payload, PAYLOAD, 10) == 0);
	/* headers only */
	T_EQ_INT(dec(DLT_EN10MB, f, 54, n, &p), DEC_OK);
	T_EQ_INT(p.payload_len, 0);
	T_EQ_INT(p.wire_len, PLEN);
	/* a cut inside the TCP header is still an error */
	T_EQ_INT(dec(DLT_EN10MB, f, 50, n, &p), DEC_BAD_L4);
	/* same lengths without the wire length: a lie */
	T_EQ_INT(dec(DLT_EN10MB, f, cap, cap, &p), DEC_BAD_IP);

	il = ip6_tcp(ip);
	n = mk_eth(f, 0, NULL, NULL, 0x86dd, ip, il);
	cap = 14 + 40 + 20 + 3;
	T_EQ_INT(dec(DLT_EN10MB, f, cap, n, &p), DEC_OK);
	T_EQ_INT(p.snap_cut, 1);
	T_EQ_INT(p.payload_len, 3);
	T_EQ_INT(p.wire_len, PLEN);
	T_EQ_INT(dec(DLT_EN10MB, f, cap, cap, &p), DEC_BAD_IP);

	/* UDP: wire_len from the UDP header */
	{
		uint8_t l4[256];
		size_t ul = mk_udp(l4, 9, 53, PAYLOAD, PLEN);

		n = mk_ip4(f, 17, 0, 0, l4, ul);
		T_EQ_INT(dec(DLT_RAW, f, 28 + 4, n, &p), DEC_OK);
		T_EQ_INT(p.payload_len, 4);
		T_EQ_INT(p.wire_len, PLEN);
	}
	/* wirelen bigger than the IP packet (padding on the wire) */
	il = ip4_tcp(ip);
	n = mk_eth(f, 0, NULL, NULL, 0x0800, ip, il);
	T_EQ_INT(dec(DLT_EN10MB, f, n, n + 100, &p), DEC_OK);
	T_EQ_INT(p.payload_len, PLEN);
	T_EQ_INT(p.wire_len, PLEN);
	dec_done();
}

static void
test_link_errors(void)
{
	uint8_t ip[512], f[600];
	size_t n, il = ip4_tcp(ip);
	struct pkt p;
	int r;

	n = mk_eth(f, 0, NULL, NULL, 0x0806, ip, 28);
	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_NOT_IP);
	n = mk_eth(f, 0, NULL, NULL, 0x88cc, ip, 28);	/* LLDP */
	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_NOT_IP);
	/* IPv4 ethertype with an IPv6 header inside: decoded by nibble */
	n = mk_eth(f, 0, NULL, NULL, 0x0800, ip, il);
	f[14] = 0x30;
	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_BAD_IP);

	n = mk_eth(f, 0, NULL, NULL, 0x0800, ip, il);
	T_EQ_INT(dec(DLT_IEEE802_11, f, n, n, &p), DEC_UNSUPPORTED_DLT);
	T_EQ_INT(dec(-1, f, n, n, &p), DEC_UNSUPPORTED_DLT);
	T_CHECK(!decode_dlt_supported(DLT_IEEE802_11));
	T_CHECK(!decode_dlt_supported(-1));
	T_CHECK(decode_dlt_supported(DLT_EN10MB));
	T_CHECK(decode_dlt_supported(DLT_NULL));
	T_CHECK(decode_dlt_supported(DLT_PPP));
	T_CHECK(decode_dlt_supported(DLT_LOOP));

	/* zero-length frames for every link type */
	for (r = 0; r < 300; r++) {
		enum decode_result res;

		if (!decode_dlt_supported(r))
			continue;
		res = dec(r, f, 0, 0, &p);
		T_CHECK(res != DEC_OK && res < DEC_NRESULTS);
	}
	dec_done();
}

static void
test_result_names(void)
{
	int i;

	T_EQ_STR(decode_result_name(DEC_OK), "ok");
	T_EQ_STR(decode_result_name(DEC_FRAGMENT), "ip_fragment_skipped");
	T_EQ_STR(decode_result_name(DEC_UNSUPPORTED_DLT), "unsupported_link");
	T_EQ_STR(decode_result_name(DEC_NRESULTS), "unknown");
	T_EQ_STR(decode_result_name((enum decode_result)1000), "unknown");
	for (i = 0; i < DEC_NRESULTS; i++)
		T_CHECK(decode_result_name((enum decode_result)i) != NULL);
}

static uint64_t rng = 0x1234567;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* Random byte flips on valid frames of every kind: never out of range. */
static void
test_mutations(void)
{
	static const uint16_t qinq[] = { 0x88a8, 0x8100 };
	static const uint16_t vid[] = { 1, 2 };
	uint8_t ip[512], g[600], u[700], o[800], frames[6][900], m[900];
	size_t fl[6], il, gl, ul, n;
	int dlt[6], i, k, bad = 0;
	struct pkt p;

	il = ip4_tcp(ip);
	fl[0] = mk_eth(frames[0], 2, qinq, vid, 0x0800, ip, il);
	dlt[0] = DLT_EN10MB;
	il = ip6_tcp(ip);
	gl = gtpu(g, 1, 0xff, ip, il);
	ul = mk_udp(u, 2152, 2152, g, gl);
	n = mk_ip4(o, 17, 0, 0, u, ul);
	fl[1] = mk_eth(frames[1], 0, NULL, NULL, 0x0800, o, n);
	dlt[1] = DLT_EN10MB;
	{
		uint8_t ext[64];
		size_t el = ext6(ext, 44, 0);

		el += frag6(ext + el, 6, 0, 1);
		il = mk_tcp(u, 1, 443, 5, 6, TCP_ACK, 12, PAYLOAD, PLEN);
		fl[2] = mk_ip6(frames[2], 0, ext, el, u, il);
		dlt[2] = DLT_RAW;
	}
	il = ip4_tcp(ip);
	fl[3] = pppoe(g, 0x0021, ip, il);
	fl[3] = mk_eth(frames[3], 0, NULL, NULL, 0x8864, g, fl[3]);
	dlt[3] = DLT_EN10MB;
	fl[4] = sll2(frames[4], 0x0800, ip, il);
	dlt[4] = SLL2;
	fl[5] = null_hdr(frames[5], 30, 0, ip, il);
	dlt[5] = DLT_NULL;

	for (i = 0; i < 20000; i++) {
		int which = (int)(rnd() % 6), flips = 1 + (int)(rnd() % 4);
		size_t len = fl[which], cap;
		enum decode_result r;

		memcpy(m, frames[which], len);
		for (k = 0; k < flips; k++)
			m[rnd() % len] = (uint8_t)rnd();
		cap = rnd() % 4 ? len : rnd() % (len + 1);
		r = dec(dlt[which], m, cap, rnd() % 2 ? cap : len, &p);
		if (r >= DEC_NRESULTS || (r == DEC_OK && !in_frame(&p, cap)))
			bad++;
	}
	T_EQ_INT(bad, 0);
	dec_done();
}

/* --- tunnels and mirror encapsulations ------------------------------ */

/* The tunnel's endpoints: never the addresses of the packet inside. */
static const uint8_t OSRC4[4] = { 172, 16, 0, 1 };
static const uint8_t ODST4[4] = { 172, 16, 9, 2 };
static const uint8_t OSRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0x11 };
static const uint8_t ODST6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0x22 };

static size_t
outer4(uint8_t *o, uint8_t proto, const uint8_t *in, size_t ilen)
{
	size_t n = mk_ip4(o, proto, 0, 0, in, ilen);

	memcpy(o + 12, OSRC4, 4);
	memcpy(o + 16, ODST4, 4);
	return n;
}

static size_t
outer6(uint8_t *o, uint8_t next, const uint8_t *in, size_t ilen)
{
	size_t n = mk_ip6(o, next, NULL, 0, in, ilen);

	memcpy(o + 8, OSRC6, 16);
	memcpy(o + 24, ODST6, 16);
	return n;
}

/* in (not o) inside UDP to dport inside the outer IPv4 or IPv6 header */
static size_t
outer_udp(uint8_t *o, int v6, uint16_t dport, const uint8_t *in,
    size_t ilen)
{
	uint8_t u[2048];
	size_t ul = mk_udp(u, 51515, dport, in, ilen);

	return v6 ? outer6(o, 17, u, ul) : outer4(o, 17, u, ul);
}

static size_t
vxlan(uint8_t *o, const uint8_t *in, size_t ilen)
{
	static const uint8_t h[8] = { 0x08, 0, 0, 0, 0x00, 0x12, 0x34, 0 };

	return mk_link(o, h, 8, in, ilen);
}

/* Geneve with optwords 4-byte words of options (one TLV each). */
static size_t
geneve(uint8_t *o, unsigned optwords, uint16_t proto, const uint8_t *in,
    size_t ilen)
{
	uint8_t h[8 + 4 * 63];
	unsigned i;

	memset(h, 0, sizeof(h));
	h[0] = (uint8_t)optwords;
	be16(h + 2, proto);
	h[4] = 0x00;
	h[5] = 0x56;
	h[6] = 0x78;
	for (i = 0; i < optwords; i++) {
		be16(h + 8 + 4 * i, 0x0102);	/* class */
		h[8 + 4 * i + 2] = 0x80;	/* type, critical */
		h[8 + 4 * i + 3] = 0;		/* no data */
	}
	return mk_link(o, h, 8 + 4 * optwords, in, ilen);
}

#define F_C	0x8000
#define F_K	0x2000
#define F_S	0x1000

static size_t
gre(uint8_t *o, uint16_t flags, uint16_t proto, const uint8_t *in,
    size_t ilen)
{
	uint8_t h[16];
	size_t n = 4;

	be16(h, flags);
	be16(h + 2, proto);
	if (flags & F_C) {
		be32(h + n, 0xbeef0000);
		n += 4;
	}
	if (flags & F_K) {
		be32(h + n, 0x00000abc);
		n += 4;
	}
	if (flags & F_S) {
		be32(h + n, 42);
		n += 4;
	}
	return mk_link(o, h, n, in, ilen);
}

/* ERSPAN type II header (version 1) on a frame. */
static size_t
erspan2(uint8_t *o, const uint8_t *in, size_t ilen)
{
	static const uint8_t h[8] = { 0x10, 0x0a, 0x18, 0x05, 0, 0, 0, 1 };

	return mk_link(o, h, 8, in, ilen);
}

/* ERSPAN type III header (version 2), frame type ft, O bit: subheader. */
static size_t
erspan3(uint8_t *o, int obit, unsigned ft, const uint8_t *in, size_t ilen)
{
	uint8_t h[20];

	memset(h, 0, sizeof(h));
	h[0] = 0x20;
	h[1] = 0x0a;
	h[2] = 0x18;
	h[3] = 0x05;
	be32(h + 4, 0x12345678);		/* timestamp */
	be16(h + 8, 0x0007);			/* SGT */
	h[10] = (uint8_t)(ft << 2);
	h[11] = (uint8_t)(obit ? 0x01 : 0);
	if (obit) {
		h[12] = 0x0c;			/* platform id 3 */
		be32(h + 16, 0x9abcdef0);
	}
	return mk_link(o, h, obit ? 20 : 12, in, ilen);
}

/* n MPLS labels, the last with the bottom-of-stack bit. */
static size_t
mpls(uint8_t *o, int n, const uint8_t *in, size_t ilen)
{
	uint8_t h[4 * 16];
	int i;

	for (i = 0; i < n; i++)
		be32(h + 4 * i, (uint32_t)(16 + i) << 12 |
		    (i == n - 1 ? 0x100 : 0) | 64);
	return mk_link(o, h, 4 * (size_t)n, in, ilen);
}

/* An Ethernet pseudowire: the control word, then the frame. */
static size_t
pw(uint8_t *o, const uint8_t *in, size_t ilen)
{
	static const uint8_t cw[4] = { 0, 0, 0, 7 };	/* sequence 7 */

	return mk_link(o, cw, 4, in, ilen);
}

/* The reference segment in an Ethernet frame (optionally tagged). */
static size_t
eth_of(uint8_t *o, int v6, int tagged)
{
	static const uint16_t q[] = { 0x8100 };
	static const uint16_t vid[] = { 20 };
	uint8_t ip[512];
	size_t il = v6 ? ip6_tcp(ip) : ip4_tcp(ip);

	return mk_eth(o, tagged, q, vid, v6 ? 0x86dd : 0x0800, ip, il);
}

struct tframe {
	const char	*name;
	int		 dlt;
	uint8_t		 f[1024];
	size_t		 len;
	int		 inner6;	/* the reference segment is IPv6 */
	unsigned	 encap;		/* ENCAP_BIT()s expected */
	int		 outer;		/* 4, 6: outermost addresses; 0 none */
	int		 vlan;
};

#define B(k)	ENCAP_BIT(ENCAP_##k)
#define NTF	33

/* Every kind, the four IP-in-IP pairs, and nested ones. */
static int
tunnel_frames(struct tframe *t)
{
	uint8_t a[1024], b[1024], c[1024], d[1024];
	size_t n, m;
	int i = 0;

#define ADD(nm, dl, v6, bits, out, vl, len_) do {			\
	t[i].name = nm; t[i].dlt = dl; t[i].inner6 = v6;		\
	t[i].encap = bits; t[i].outer = out; t[i].vlan = vl;		\
	t[i].len = len_; i++;						\
} while (0)

	/* 802.1Q alone (the fast path) */
	ADD("vlan", DLT_EN10MB, 0, B(VLAN), 0, 20, eth_of(t[i].f, 0, 1));

	/* VXLAN on both ports, over IPv4 and IPv6, an inner tag */
	n = eth_of(a, 0, 0);
	n = vxlan(b, a, n);
	n = outer_udp(c, 0, 4789, b, n);
	ADD("vxlan", DLT_EN10MB, 0, B(VXLAN), 4, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x0800, c, n));
	n = eth_of(a, 1, 1);
	n = vxlan(b, a, n);
	n = outer_udp(c, 1, 8472, b, n);
	ADD("vxlan8472-v6-tagged", DLT_EN10MB, 1, B(VXLAN) | B(VLAN), 6, 20,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x86dd, c, n));

	/* Geneve: options skipped; Ethernet, or IP by protocol type */
	n = eth_of(a, 0, 0);
	n = geneve(b, 3, 0x6558, a, n);
	n = outer_udp(c, 0, 6081, b, n);
	ADD("geneve-eth", DLT_EN10MB, 0, B(GENEVE), 4, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x0800, c, n));
	n = ip6_tcp(a);
	n = geneve(b, 0, 0x86dd, a, n);
	n = outer_udp(c, 1, 6081, b, n);
	ADD("geneve-ip6", DLT_EN10MB, 1, B(GENEVE), 6, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x86dd, c, n));

	/* GRE: plain, every optional field, Ethernet, MPLS */
	n = ip4_tcp(a);
	n = gre(b, 0, 0x0800, a, n);
	ADD("gre-ip4", DLT_EN10MB, 0, B(GRE), 4, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x0800, c, outer4(c, 47, b, n)));
	n = ip6_tcp(a);
	n = gre(b, F_C | F_K | F_S, 0x86dd, a, n);
	ADD("gre-cks-ip6", DLT_EN10MB, 1, B(GRE), 6, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x86dd, c, outer6(c, 47, b, n)));
	n = eth_of(a, 0, 1);
	n = gre(b, F_K, 0x6558, a, n);
	ADD("gre-teb", DLT_EN10MB, 0, B(GRE) | B(VLAN), 4, 20,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x0800, c, outer4(c, 47, b, n)));
	n = ip4_tcp(a);
	n = mpls(b, 2, a, n);
	n = gre(a, 0, 0x8847, b, n);
	ADD("gre-mpls", DLT_EN10MB, 0, B(GRE) | B(MPLS), 4, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x0800, c, outer4(c, 47, a, n)));
	/* GRE in UDP (RFC 8086), PPTP's enhanced GRE with PPP (RFC 2637) */
	n = ip6_tcp(a);
	n = gre(b, 0, 0x86dd, a, n);
	n = outer_udp(c, 0, 4754, b, n);
	ADD("gre-udp-ip6", DLT_EN10MB, 1, B(GRE), 4, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x0800, c, n));
	n = ip4_tcp(a);
	n = mk_link(b, (const uint8_t *)"\xff\x03\x00\x21", 4, a, n);
	n = gre(a, F_K | F_S | 1, 0x880b, b, n);
	ADD("pptp-ppp-ip4", DLT_EN10MB, 0, B(GRE), 4, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x0800, c, outer4(c, 47, a, n)));
	n = ip6_tcp(a);
	n = mk_link(b, (const uint8_t *)"\x57", 1, a, n);	/* compressed */
	n = gre(a, F_K | 1, 0x880b, b, n);
	ADD("pptp-ppp-ip6", DLT_EN10MB, 1, B(GRE), 6, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x86dd, c, outer6(c, 47, a, n)));

	/* ERSPAN I, II, III (with and without subheader, an IP frame) */
	n = eth_of(a, 0, 0);
	n = gre(b, 0, 0x88be, a, n);
	ADD("erspan1", DLT_EN10MB, 0, B(GRE) | B(ERSPAN1), 4, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x0800, c, outer4(c, 47, b, n)));
	n = eth_of(a, 1, 1);
	n = erspan2(b, a, n);
	n = gre(a, F_S, 0x88be, b, n);
	ADD("erspan2", DLT_EN10MB, 1, B(GRE) | B(ERSPAN2) | B(VLAN), 4, 20,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x0800, c, outer4(c, 47, a, n)));
	n = eth_of(a, 0, 0);
	n = erspan3(b, 0, 0, a, n);
	n = gre(a, F_S, 0x22eb, b, n);
	ADD("erspan3", DLT_EN10MB, 0, B(GRE) | B(ERSPAN3), 6, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x86dd, c, outer6(c, 47, a, n)));
	n = eth_of(a, 0, 0);
	n = erspan3(b, 1, 0, a, n);
	n = gre(a, F_S, 0x22eb, b, n);
	ADD("erspan3-subheader", DLT_EN10MB, 0, B(GRE) | B(ERSPAN3), 4, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x0800, c, outer4(c, 47, a, n)));
	n = ip4_tcp(a);
	n = erspan3(b, 1, 2, a, n);
	n = gre(a, 0, 0x22eb, b, n);
	ADD("erspan3-ip", DLT_EN10MB, 0, B(GRE) | B(ERSPAN3), 4, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x0800, c, outer4(c, 47, a, n)));

	/* MPLS on Ethernet (both ethertypes), a pseudowire, in UDP */
	n = ip4_tcp(a);
	n = mpls(b, 1, a, n);
	ADD("mpls-eth", DLT_EN10MB, 0, B(MPLS), 0, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x8847, b, n));
	n = ip6_tcp(a);
	n = mpls(b, 3, a, n);
	ADD("mpls-mc-3labels-ip6", DLT_EN10MB, 1, B(MPLS) | B(VLAN), 0, 20,
	    mk_eth(t[i].f, 1, (const uint16_t[]){ 0x8100 },
	    (const uint16_t[]){ 20 }, 0x8848, b, n));
	n = eth_of(a, 0, 1);
	n = pw(b, a, n);
	n = mpls(a, 2, b, n);
	ADD("mpls-pw", DLT_EN10MB, 0, B(MPLS) | B(VLAN), 0, 20,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x8847, a, n));
	n = ip4_tcp(a);
	n = mpls(b, 1, a, n);
	n = outer_udp(c, 0, 6635, b, n);
	ADD("mpls-udp", DLT_EN10MB, 0, B(MPLS), 4, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x0800, c, n));
	n = ip4_tcp(a);
	n = mpls(b, 1, a, n);
	ADD("mpls-sll", SLL, 0, B(MPLS), 0, -1, mk_link(t[i].f,
	    (const uint8_t *)"\0\0\0\1\0\6\2\0\0\0\0\1\0\0\x88\x47", 16, b,
	    n));

	/* IP in IP, all four pairs, on Ethernet and raw */
	n = ip4_tcp(a);
	ADD("4in4", DLT_EN10MB, 0, B(IPIP), 4, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x0800, c, outer4(c, 4, a, n)));
	n = ip6_tcp(a);
	ADD("6in4", DLT_EN10MB, 1, B(IPIP), 4, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x0800, c, outer4(c, 41, a, n)));
	n = ip4_tcp(a);
	ADD("4in6", DLT_EN10MB, 0, B(IPIP), 6, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x86dd, c, outer6(c, 4, a, n)));
	n = ip6_tcp(a);
	ADD("6in6", DLT_EN10MB, 1, B(IPIP), 6, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x86dd, c, outer6(c, 41, a, n)));
	n = ip6_tcp(a);
	ADD("6in4-raw", DLT_RAW, 1, B(IPIP), 4, -1, outer4(t[i].f, 41, a, n));

	/* GTP-U, the existing tunnel */
	n = ip4_tcp(a);
	n = gtpu(b, 1, 0xff, a, n);
	{
		uint8_t u[1024];
		size_t ul = mk_udp(u, 2152, 2152, b, n);

		n = outer6(c, 17, u, ul);
	}
	ADD("gtpu", DLT_EN10MB, 0, B(GTPU), 6, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x86dd, c, n));

	/* nested twice: VXLAN in GRE, MPLS in GRE in IPv6 */
	n = eth_of(a, 0, 0);
	n = vxlan(b, a, n);
	m = mk_udp(c, 40001, 4789, b, n);
	n = mk_ip4(d, 17, 0, 0, c, m);		/* the middle IPv4 */
	n = gre(a, F_K, 0x0800, d, n);
	ADD("vxlan-in-gre", DLT_EN10MB, 0, B(GRE) | B(VXLAN), 4, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x0800, c, outer4(c, 47, a, n)));
	n = ip4_tcp(a);
	n = mpls(b, 2, a, n);
	n = gre(a, 0, 0x8847, b, n);
	ADD("mpls-in-gre-in-ip6", DLT_EN10MB, 0, B(GRE) | B(MPLS), 6, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x86dd, c, outer6(c, 47, a, n)));
	/* GTP-U in VXLAN, 6in4 in GRE in 4in6: three and four layers */
	n = ip6_tcp(a);
	n = gtpu(b, 0, 0xff, a, n);
	m = mk_udp(c, 2152, 2152, b, n);
	n = mk_ip4(d, 17, 0, 0, c, m);
	n = mk_eth(a, 0, NULL, NULL, 0x0800, d, n);
	n = vxlan(b, a, n);
	n = outer_udp(c, 0, 4789, b, n);
	ADD("gtpu-in-vxlan", DLT_EN10MB, 1, B(VXLAN) | B(GTPU), 4, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x0800, c, n));
	n = ip6_tcp(a);
	n = mk_ip4(b, 41, 0, 0, a, n);		/* 6in4 */
	n = gre(a, 0, 0x0800, b, n);
	n = mk_ip4(b, 47, 0, 0, a, n);		/* GRE over IPv4 */
	n = outer6(c, 4, b, n);			/* 4in6 */
	ADD("6in4-in-gre-in-4in6", DLT_EN10MB, 1, B(IPIP) | B(GRE), 6, -1,
	    mk_eth(t[i].f, 0, NULL, NULL, 0x86dd, c, n));
	n = ip4_tcp(a);
	n = mpls(b, 1, a, n);
	n = gre(a, 0, 0x8847, b, n);
	n = mk_ip4(b, 47, 0, 0, a, n);
	n = outer4(c, 4, b, n);			/* MPLS, GRE, 4in4, + VLAN */
	ADD("mpls-gre-4in4", DLT_EN10MB, 0, B(IPIP) | B(GRE) | B(MPLS) |
	    B(VLAN), 4, 7, mk_eth(t[i].f, 1, (const uint16_t[]){ 0x8100 },
	    (const uint16_t[]){ 7 }, 0x0800, c, n));
#undef ADD
	return i;
}

/*
 * A tunnelled frame yields the plain frame's 5-tuple and payload.  Every
 * prefix of it, as a lie (caplen = wirelen) or as a snaplen cut, reads
 * nothing past caplen (an exact-size heap copy: ASan) and is either an
 * anomaly, not IP, or, for a cut only, the right segment with a prefix
 * of the right payload: never DEC_OK with another payload.
 */
static void
check_truncations(const struct tframe *t)
{
	struct pkt p;
	size_t k;
	int bad_lie = 0, bad_kind = 0, bad_cut = 0, cut_ok = 0;

	for (k = 0; k < t->len; k++) {
		enum decode_result r = dec(t->dlt, t->f, k, k, &p);

		if (r == DEC_OK)
			bad_lie++;
		if (r != DEC_OK && r != DEC_NOT_IP &&
		    decode_result_anomaly(r) == ANOM_N)
			bad_kind++;
		r = dec(t->dlt, t->f, k, t->len, &p);
		if (r == DEC_OK) {
			cut_ok++;
			if (!in_frame(&p, k) || p.l4 != 6 || p.sport != 40000 ||
			    p.dport != 443 || p.wire_len != PLEN ||
			    p.payload_len > PLEN || !p.snap_cut ||
			    (p.payload_len > 0 && memcmp(p.payload, PAYLOAD,
			    p.payload_len) != 0)) {
				bad_cut++;
				fprintf(stderr, "  %s: cut at %zu of %zu: "
				    "%u %u->%u, %zu/%zu bytes\n", t->name, k,
				    t->len, p.l4, p.sport, p.dport,
				    p.payload_len, p.wire_len);
			}
		} else if (r != DEC_NOT_IP && decode_result_anomaly(r) == ANOM_N)
			bad_kind++;
	}
	if (bad_lie || bad_kind || bad_cut)
		fprintf(stderr, "  %s: %d lies decoded, %d odd results, "
		    "%d wrong cuts\n", t->name, bad_lie, bad_kind, bad_cut);
	T_EQ_INT(bad_lie, 0);
	T_EQ_INT(bad_kind, 0);
	T_EQ_INT(bad_cut, 0);
	T_CHECK(cut_ok >= (int)PLEN);	/* every cut inside the payload */
	dec_done();
}

static void
test_tunnels(void)
{
	static struct tframe t[NTF];
	struct pkt p;
	int n = tunnel_frames(t), i;
	unsigned seen = 0;

	T_EQ_INT(n, NTF);
	for (i = 0; i < n; i++) {
		enum decode_result r = dec(t[i].dlt, t[i].f, t[i].len, t[i].len,
		    &p);

		if (r != DEC_OK || p.encap != t[i].encap ||
		    p.outer_af != t[i].outer || p.vlan != t[i].vlan)
			fprintf(stderr, "  %s: %s, encap %#x, outer %d, vlan "
			    "%d\n", t[i].name, decode_result_name(r), p.encap,
			    p.outer_af, p.vlan);
		T_EQ_INT(r, DEC_OK);
		if (t[i].inner6)
			check_tcp6(&p);
		else
			check_tcp4(&p);
		T_EQ_INT(p.encap, t[i].encap);
		T_EQ_INT(p.vlan, t[i].vlan);
		T_EQ_INT(p.outer_af, t[i].outer);
		if (t[i].outer == 4) {
			T_CHECK(v4mapped_is(p.osrc, OSRC4));
			T_CHECK(v4mapped_is(p.odst, ODST4));
		} else if (t[i].outer == 6) {
			T_CHECK(memcmp(p.osrc, OSRC6, 16) == 0);
			T_CHECK(memcmp(p.odst, ODST6, 16) == 0);
		}
		seen |= p.encap;
		check_truncations(&t[i]);
	}
	/* every kind but "other" was met */
	T_EQ_INT(seen, ENCAP_BIT(ENCAP_N) - 1 - ENCAP_BIT(ENCAP_OTHER));
	dec_done();
}

/* n levels of IPv4 in IPv4 around the reference segment, raw. */
static size_t
ipip_levels(uint8_t *o, int n)
{
	uint8_t a[1024];
	size_t len = ip4_tcp(o);
	int i;

	for (i = 0; i < n; i++) {
		memcpy(a, o, len);
		len = outer4(o, 4, a, len);
	}
	return len;
}

static void
test_encap_depth(void)
{
	uint8_t f[1024], a[1024], b[1024];
	size_t n, n4;
	struct pkt p;
	int i;

	/* DECODE_MAX_ENCAP layers are unwrapped, one more is an anomaly */
	n = ipip_levels(f, DECODE_MAX_ENCAP);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
	check_tcp4(&p);
	T_EQ_INT(p.encap, ENCAP_BIT(ENCAP_IPIP));
	n = ipip_levels(f, DECODE_MAX_ENCAP + 1);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_ENCAP_TOO_DEEP);
	T_EQ_STR(decode_result_name(DEC_ENCAP_TOO_DEEP), "encap_too_deep");
	T_EQ_INT(decode_result_anomaly(DEC_ENCAP_TOO_DEEP),
	    ANOM_ENCAP_TOO_DEEP);
	for (i = 0; i < (int)n; i++) {		/* its prefixes, too */
		enum decode_result r = dec(DLT_RAW, f, (size_t)i, n, &p);

		T_CHECK(r != DEC_OK && decode_result_anomaly(r) != ANOM_N);
	}
	/* five of mixed kinds: VXLAN in GRE in 4in4 in MPLS-in-UDP ... */
	n = eth_of(a, 0, 0);
	n = vxlan(b, a, n);
	n = outer_udp(a, 0, 4789, b, n);		/* 5: VXLAN */
	n = gre(b, 0, 0x0800, a, n);
	n = outer4(a, 47, b, n);			/* 4: GRE */
	n = outer4(b, 4, a, n);				/* 3: IPIP */
	n = mpls(a, 1, b, n);
	n = outer_udp(b, 0, 6635, a, n);		/* 2: MPLS */
	n4 = n;
	n = gtpu(a, 0, 0xff, b, n);
	{
		uint8_t u[1024];
		size_t ul = mk_udp(u, 2152, 2152, a, n);

		n = outer4(f, 17, u, ul);		/* 1: GTP-U */
	}
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_ENCAP_TOO_DEEP);
	/* the same without the GTP-U layer: four, fine */
	T_EQ_INT(dec(DLT_RAW, b, n4, n4, &p), DEC_OK);
	check_tcp4(&p);
	T_EQ_INT(p.encap, B(MPLS) | B(IPIP) | B(GRE) | B(VXLAN));
	dec_done();
}

/* Tunnel headers that lie, and payloads of a kind not decoded. */
static void
test_encap_bad_and_other(void)
{
	uint8_t f[1024], a[1024], b[1024], c[1024];
	size_t n, il;
	struct pkt p;
	int i;

	il = ip4_tcp(a);
	/* GRE carrying IPX: unwrapped, "other", not an anomaly */
	n = gre(b, 0, 0x8137, a, il);
	n = outer4(f, 47, b, n);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_NOT_IP);
	T_EQ_INT(p.encap, B(GRE) | B(OTHER));
	/* PPTP's enhanced GRE (version 1): other */
	n = gre(b, F_K | 0x0001, 0x880b, a, il);
	n = outer4(f, 47, b, n);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_NOT_IP);
	T_EQ_INT(p.encap, B(GRE) | B(OTHER));
	/* RFC 1701 routing, recursion, version 2: malformed */
	for (i = 0; i < 3; i++) {
		static const uint16_t fl[3] = { 0x4000, 0x0300, 0x0002 };

		n = gre(b, fl[i], 0x0800, a, il);
		n = outer4(f, 47, b, n);
		T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_ENCAP_MALFORMED);
	}
	/* GRE header shorter than its flags say */
	n = gre(b, F_C | F_K | F_S, 0x0800, a, il);
	n = outer4(f, 47, b, 10);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_ENCAP_MALFORMED);
	T_EQ_STR(decode_result_name(DEC_ENCAP_MALFORMED), "encap_malformed");
	T_EQ_INT(decode_result_anomaly(DEC_ENCAP_MALFORMED),
	    ANOM_ENCAP_MALFORMED);
	/* ERSPAN II of the wrong version; III of a frame type not read */
	n = mk_eth(c, 0, NULL, NULL, 0x0800, a, il);
	n = erspan2(b, c, n);
	b[0] = 0x20;
	n = gre(c, F_S, 0x88be, b, n);
	n = outer4(f, 47, c, n);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_ENCAP_MALFORMED);
	n = erspan3(b, 0, 5, a, il);
	n = gre(c, 0, 0x22eb, b, n);
	n = outer4(f, 47, c, n);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_NOT_IP);
	T_EQ_INT(p.encap, B(GRE) | B(ERSPAN3) | B(OTHER));
	/* Geneve: unknown protocol; options past the end; version 1 */
	n = geneve(b, 1, 0x1234, a, il);
	n = outer_udp(f, 0, 6081, b, n);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_NOT_IP);
	T_EQ_INT(p.encap, B(GENEVE) | B(OTHER));
	n = geneve(b, 0, 0x0800, a, 0);
	b[0] = 0x3f;				/* 252 bytes of options */
	n = outer_udp(f, 0, 6081, b, n + 16);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_ENCAP_MALFORMED);
	n = geneve(b, 0, 0x0800, a, il);
	b[0] = 0x40;
	n = outer_udp(f, 0, 6081, b, n);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);	/* a datagram */
	T_EQ_INT(p.dport, 6081);
	T_EQ_INT(p.encap, 0);
	/* VXLAN without its I bit is a datagram; a short one is not */
	n = mk_eth(c, 0, NULL, NULL, 0x0800, a, il);
	n = vxlan(b, c, n);
	b[0] = 0;
	n = outer_udp(f, 0, 4789, b, n);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
	T_EQ_INT(p.l4, 17);
	T_EQ_INT(p.encap, 0);
	n = outer_udp(f, 0, 4789, b, 5);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_ENCAP_MALFORMED);
	/* the port as a source only: an ordinary datagram */
	{
		uint8_t u[256];
		size_t ul = mk_udp(u, 4789, 53, "abc", 3);

		n = outer4(f, 17, u, ul);
		T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
		T_EQ_INT(p.payload_len, 3);
		T_EQ_INT(p.encap, 0);
	}
	/* VXLAN carrying ARP: unwrapped, simply not IP */
	memset(c, 0, 64);
	n = mk_eth(b, 0, NULL, NULL, 0x0806, c, 28);
	n = vxlan(c, b, n);
	n = outer_udp(f, 0, 4789, c, n);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_NOT_IP);
	T_EQ_INT(p.encap, B(VXLAN));
	/* a broken segment inside a tunnel is the tunnel's anomaly */
	il = ip4_tcp(a);
	a[20 + 12] = 0x40;			/* data offset 4 */
	n = outer4(f, 4, a, il);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_ENCAP_MALFORMED);
	/* ... but a later fragment or ICMP inside is harmless as outside */
	il = ip4_tcp(a);
	be16(a + 6, 0x0010);
	n = gre(b, 0, 0x0800, a, il);
	n = outer4(f, 47, b, n);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_FRAGMENT);
	n = mk_ip4(a, 1, 0, 0, (const uint8_t *)"\x08\0\0\0\0\0\0\0", 8);
	n = outer6(f, 4, a, n);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_NOT_TCPUDP);
	T_EQ_INT(p.encap, B(IPIP));
	/* the version the protocol number promises */
	il = ip6_tcp(a);
	n = outer4(f, 4, a, il);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_ENCAP_MALFORMED);
	il = ip4_tcp(a);
	n = outer4(f, 41, a, il);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_ENCAP_MALFORMED);
	/* an inner packet longer than its tunnel, even with a cut capture */
	il = ip4_tcp(a);
	be16(a + 2, (uint16_t)(il + 8));
	n = outer4(f, 4, a, il);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_ENCAP_MALFORMED);
	T_EQ_INT(dec(DLT_RAW, f, n, n + 100, &p), DEC_ENCAP_MALFORMED);
	/* ... unless the outer packet is a first fragment: cut, not lying */
	il = ip4_tcp(a);
	n = outer4(f, 4, a, il - 10);
	be16(f + 6, 0x2000);			/* MF */
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
	T_EQ_INT(p.first_frag, 1);
	T_EQ_INT(p.wire_len, PLEN);
	T_EQ_INT(p.payload_len, PLEN - 10);
	T_EQ_INT(p.encap, B(IPIP));
	/* MPLS: no bottom of stack within the bound; a G-ACh payload */
	il = ip4_tcp(a);
	n = mpls(b, 8, a, il);
	n = mk_eth(f, 0, NULL, NULL, 0x8847, b, n);
	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_OK);
	n = mpls(b, 9, a, il);
	n = mk_eth(f, 0, NULL, NULL, 0x8847, b, n);
	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_ENCAP_MALFORMED);
	n = mpls(b, 2, (const uint8_t *)"\x10\0\0\x21", 4);
	n = mk_eth(f, 0, NULL, NULL, 0x8847, b, n);
	T_EQ_INT(dec(DLT_EN10MB, f, n, n, &p), DEC_NOT_IP);
	T_EQ_INT(p.encap, B(MPLS) | B(OTHER));
	n = mpls(b, 2, a, il);
	for (i = 0; i < 8; i++)
		b[i] &= (uint8_t)~0x01;		/* clear both S bits */
	n = outer_udp(f, 0, 6635, b, 8);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_ENCAP_MALFORMED);
	/* GTP-U cut inside its header by the snaplen: not the datagram */
	n = gtpu(b, 1, 0xff, a, il);
	{
		uint8_t u[1024];
		size_t ul = mk_udp(u, 2152, 2152, b, n);

		n = outer4(f, 17, u, ul);
	}
	T_EQ_INT(dec(DLT_RAW, f, 20 + 8 + 10, n, &p), DEC_ENCAP_MALFORMED);
	T_EQ_INT(dec(DLT_RAW, f, n, n, &p), DEC_OK);
	check_tcp4(&p);
	dec_done();
}

/*
 * Random flips in tunnelled frames: whatever comes out is a result in
 * range whose payload lies inside the frame.
 */
static void
test_encap_mutations(void)
{
	static struct tframe t[NTF];
	uint8_t m[1024];
	int n = tunnel_frames(t), i, k, bad = 0;
	struct pkt p;

	for (i = 0; i < 30000; i++) {
		const struct tframe *x = &t[rnd() % (unsigned)n];
		int flips = 1 + (int)(rnd() % 4);
		size_t cap;
		enum decode_result r;

		memcpy(m, x->f, x->len);
		for (k = 0; k < flips; k++)
			m[rnd() % x->len] = (uint8_t)rnd();
		cap = rnd() % 4 ? x->len : rnd() % (x->len + 1);
		r = dec(x->dlt, m, cap, rnd() % 2 ? cap : x->len, &p);
		if (r >= DEC_NRESULTS || (r == DEC_OK && (!in_frame(&p, cap) ||
		    p.payload_len > p.wire_len)))
			bad++;
	}
	T_EQ_INT(bad, 0);
	dec_done();
}

int
main(void)
{
	T_RUN(test_eth_plain);
	T_RUN(test_eth_vlan);
	T_RUN(test_pppoe);
	T_RUN(test_sll);
	T_RUN(test_sll2);
	T_RUN(test_raw);
	T_RUN(test_null);
	T_RUN(test_ppp);
	T_RUN(test_ipv4_options);
	T_RUN(test_ipv4_fragments);
	T_RUN(test_ipv6_ext);
	T_RUN(test_ipv6_ext_malformed);
	T_RUN(test_gtpu);
	T_RUN(test_tcp_options_and_bad);
	T_RUN(test_udp_lengths);
	T_RUN(test_eth_padding);
	T_RUN(test_snaplen_cut);
	T_RUN(test_link_errors);
	T_RUN(test_result_names);
	T_RUN(test_mutations);
	T_RUN(test_tunnels);
	T_RUN(test_encap_depth);
	T_RUN(test_encap_bad_and_other);
	T_RUN(test_encap_mutations);
	return T_DONE();
}
