/*
 * test_dns.c - DNS parser: built queries and responses, compression,
 * every prefix, malformed names, TCP splitting and real payloads.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto/dns.h"
#include "t.h"

struct buf {
	uint8_t		 b[4096];
	size_t		 n;
};

static void
put8(struct buf *b, unsigned v)
{
	b->b[b->n++] = (uint8_t)v;
}

static void
put16(struct buf *b, unsigned v)
{
	put8(b, v >> 8);
	put8(b, v);
}

static void
put32(struct buf *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b, v & 0xffff);
}

static void
putn(struct buf *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

/* Dotted name to labels, terminating zero included ("" is the root). */
static void
putname(struct buf *b, const char *name)
{
	const char *dot;
	size_t n;

	while (*name != '\0') {
		dot = strchr(name, '.');
		n = dot != NULL ? (size_t)(dot - name) : strlen(name);
		put8(b, (unsigned)n);
		putn(b, name, n);
		name += n + (dot != NULL);
	}
	put8(b, 0);
}

static void
putptr(struct buf *b, unsigned off)
{
	put16(b, 0xc000 | off);
}

static void
hdr(struct buf *b, unsigned id, unsigned flags, unsigned qd, unsigned an)
{
	b->n = 0;
	put16(b, id);
	put16(b, flags);
	put16(b, qd);
	put16(b, an);
	put16(b, 0);
	put16(b, 0);
}

/* Fixed part of a resource record after its owner name. */
static void
rr(struct buf *b, unsigned type, unsigned class, uint32_t ttl,
    const void *rdata, size_t rdlen)
{
	put16(b, type);
	put16(b, class);
	put32(b, ttl);
	put16(b, (unsigned)rdlen);
	putn(b, rdata, rdlen);
}

static struct buf b;
static struct dns_msg m;

static const uint8_t v4[4] = { 192, 0, 2, 7 };
static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 1 };

/*
 * Real UDP payloads (udp.payload from tshark).  eve_*: frames 1, 2, 4
 * and 5 of suricata-verify tests/dns/dns-eve/input.pcap.  inv_*: the
 * three frames of zeek testing/btest/Traces/dns/dns-invalid-names.pcap.
 * fwdptr_head: the first 96 of 63165 bytes of the one packet of tcpdump
 * tests/dns_fwdptr.pcap; the parser stops at offset 47 (a pointer to
 * offset 0x3b03, forward), so the full packet gives the same result.
 */
static const uint8_t eve_q_client_cf[] = {
	0x99, 0xab, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x09, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x2d, 0x63, 0x66, 0x07, 0x64,
	0x72, 0x6f, 0x70, 0x62, 0x6f, 0x78, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00,
	0x01, 0x00, 0x01,
};

static const uint8_t eve_r_client_cf[] = {
	0x99, 0xab, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x09, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x2d, 0x63, 0x66, 0x07, 0x64,
	0x72, 0x6f, 0x70, 0x62, 0x6f, 0x78, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00,
	0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x2f, 0x00, 0x04, 0x34, 0x55, 0x70, 0x15,
};

static const uint8_t eve_q_edns[] = {
	0xae, 0xeb, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x0a, 0x63, 0x6f, 0x64, 0x65, 0x6d, 0x6f, 0x6e, 0x6b, 0x65, 0x79, 0x03,
	0x6e, 0x65, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x29, 0x10,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t eve_r_cname[] = {
	0x0d, 0x4f, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x05, 0x62, 0x6c, 0x6f, 0x63, 0x6b, 0x07, 0x64, 0x72, 0x6f, 0x70, 0x62,
	0x6f, 0x78, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0,
	0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x0b, 0x05,
	0x62, 0x6c, 0x6f, 0x63, 0x6b, 0x02, 0x67, 0x31, 0xc0, 0x12, 0xc0, 0x2f,
	0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x04, 0x2d, 0x3a,
	0x46, 0x21,
};

static const uint8_t inv_trunc_a[] = {
	0x22, 0x22, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x03, 0x61,
};

static const uint8_t inv_self_ptr[] = {
	0x22, 0x23, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01,
};

static const uint8_t inv_trunc_abc[] = {
	0x22, 0x24, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x03, 0x61, 0x62, 0x63,
};

static const uint8_t fwdptr_head[] = {
	0xc9, 0x80, 0xff, 0xef, 0xfb, 0x03, 0x01, 0xfb, 0x03, 0x01, 0xfb, 0x03,
	0x01, 0xfb, 0x03, 0x01, 0xfb, 0x03, 0x01, 0xfb, 0x03, 0x01, 0xfb, 0x03,
	0x01, 0xfb, 0x03, 0x01, 0xfb, 0x03, 0x01, 0xfb, 0x03, 0x01, 0xfb, 0x03,
	0x01, 0xfb, 0x03, 0x01, 0xfb, 0x20, 0x03, 0xfb, 0x03, 0x01, 0xfb, 0x03,
	0x01, 0xfb, 0x03, 0x01, 0xfb, 0x03, 0x01, 0xfb, 0x03, 0x01, 0xfb, 0x03,
	0x01, 0xfb, 0x03, 0x01, 0xfb, 0x03, 0x01, 0xfb, 0x03, 0x01, 0xfb, 0x03,
	0x01, 0xfb, 0x03, 0x01, 0xfb, 0x03, 0x01, 0xfb, 0x03, 0x01, 0xfb, 0x03,
	0x01, 0xfb, 0x03, 0x01, 0xfa, 0x8f, 0x01, 0xfb, 0x03, 0x01, 0xfb, 0x03,
};

static void
test_query(void)
{
	hdr(&b, 0x1234, 0x0100, 1, 0);
	putname(&b, "www.example.com");
	put16(&b, 1);
	put16(&b, 1);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_OK);
	T_EQ_INT(m.id, 0x1234);
	T_EQ_INT(m.qr, 0);
	T_EQ_INT(m.opcode, 0);
	T_EQ_INT(m.rcode, 0);
	T_EQ_INT(m.qdcount, 1);
	T_EQ_INT(m.has_question, 1);
	T_EQ_STR(m.qname, "www.example.com");
	T_EQ_INT(m.qname_len, 15);
	T_EQ_INT(m.qtype, 1);
	T_EQ_INT(m.qclass, 1);
	T_EQ_INT(m.name_odd, 0);
	T_EQ_INT(m.n_addrs, 0);
	T_EQ_INT(m.answers_truncated, 0);
}

static void
test_mixed_case(void)
{
	hdr(&b, 1, 0x0100, 1, 0);
	putname(&b, "ChAt.OpEnAi.CoM");
	put16(&b, 28);
	put16(&b, 1);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_OK);
	T_EQ_STR(m.qname, "ChAt.OpEnAi.CoM");
	T_EQ_INT(m.qtype, 28);
	T_EQ_INT(m.name_odd, 0);
	/* '_' and '-' are plain, '*' is odd but needs no escape */
	hdr(&b, 1, 0x0100, 1, 0);
	putname(&b, "_dmarc.x-y.*.org");
	put16(&b, 16);
	put16(&b, 1);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_OK);
	T_EQ_STR(m.qname, "_dmarc.x-y.*.org");
	T_EQ_INT(m.name_odd, 1);
}

/* Response: A and AAAA for the question name, via pointers to it. */
static void
build_a_aaaa(struct buf *o)
{
	hdr(o, 0xbeef, 0x8180, 1, 2);
	putname(o, "claude.ai");
	put16(o, 1);
	put16(o, 1);
	putptr(o, 12);
	rr(o, 1, 1, 300, v4, 4);
	putptr(o, 12);
	rr(o, 28, 1, 60, v6, 16);
}

static void
test_response_a_aaaa(void)
{
	build_a_aaaa(&b);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_OK);
	T_EQ_INT(m.qr, 1);
	T_EQ_INT(m.rcode, 0);
	T_EQ_INT(m.ancount, 2);
	T_EQ_STR(m.qname, "claude.ai");
	T_EQ_INT(m.n_addrs, 2);
	T_EQ_INT(m.answers_truncated, 0);
	T_EQ_INT(m.addrs[0].af, 4);
	T_CHECK(memcmp(m.addrs[0].a, v4, 4) == 0);
	T_EQ_INT(m.addrs[0].ttl, 300);
	T_EQ_INT(m.addrs[1].af, 6);
	T_CHECK(memcmp(m.addrs[1].a, v6, 16) == 0);
	T_EQ_INT(m.addrs[1].ttl, 60);
}

/*
 * CNAME chain with compression inside rdata and owner names pointing
 * into rdata, plus records that must be skipped, not collected.
 */
static void
test_cname_chain(void)
{
	size_t c1, c2;

	hdr(&b, 7, 0x8180, 1, 7);
	putname(&b, "copilot.microsoft.com");
	put16(&b, 1);
	put16(&b, 1);
	putptr(&b, 12);
	put16(&b, 5);
	put16(&b, 1);
	put32(&b, 10);
	put16(&b, 3 + 6 + 2);
	c1 = b.n;
	put8(&b, 2);
	putn(&b, "cp", 2);
	put8(&b, 5);
	putn(&b, "azure", 5);
	putptr(&b, 12 + 8 + 10);	/* "com" of the question */
	putptr(&b, c1);
	put16(&b, 5);
	put16(&b, 1);
	put32(&b, 10);
	put16(&b, 6);
	c2 = b.n;
	put8(&b, 3);
	putn(&b, "edg", 3);
	putptr(&b, c1);
	putptr(&b, c2);
	rr(&b, 16, 1, 5, "\x04text", 5);		/* TXT: skipped */
	putptr(&b, c2);
	rr(&b, 1, 3, 5, v4, 4);				/* class CH */
	putptr(&b, c2);
	rr(&b, 1, 1, 5, "\1\2\3\4\5", 5);		/* bad rdlength */
	putptr(&b, c2);
	rr(&b, 1, 1, 20, v4, 4);
	putptr(&b, c2);
	rr(&b, 1, 1, 21, "\x0a\0\0\1", 4);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_OK);
	T_EQ_STR(m.qname, "copilot.microsoft.com");
	T_EQ_INT(m.n_addrs, 2);
	T_EQ_INT(m.answers_truncated, 0);
	T_EQ_INT(m.addrs[0].ttl, 20);
	T_EQ_INT(m.addrs[1].ttl, 21);
	T_EQ_INT(m.addrs[1].a[0], 10);
	T_EQ_INT(m.addrs[1].a[3], 1);
}

/* Pointers in the question name: two hops, strictly backwards. */
static void
test_question_compression(void)
{
	b.n = 0;
	put8(&b, 1);
	put8(&b, 'b');
	put16(&b, 0);		/* name at 0: "b" */
	put16(&b, 1);		/* qdcount */
	put8(&b, 1);
	put8(&b, 'A');		/* ancount; name at 6: "A" -> 0 */
	putptr(&b, 0);
	put16(&b, 0);
	put8(&b, 3);
	putn(&b, "www", 3);
	putptr(&b, 6);
	put16(&b, 1);
	put16(&b, 1);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_OK);
	T_EQ_STR(m.qname, "www.A.b");
	T_EQ_INT(m.qtype, 1);
	T_EQ_INT(m.qclass, 1);
	/* second question compressed against the first, then answers */
	hdr(&b, 9, 0x8180, 2, 1);
	putname(&b, "gemini.google.com");
	put16(&b, 1);
	put16(&b, 1);
	put8(&b, 3);
	putn(&b, "www", 3);
	putptr(&b, 12 + 7);
	put16(&b, 28);
	put16(&b, 1);
	putptr(&b, 12);
	rr(&b, 1, 1, 1, v4, 4);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_OK);
	T_EQ_STR(m.qname, "gemini.google.com");
	T_EQ_INT(m.n_addrs, 1);
	T_EQ_INT(m.answers_truncated, 0);
}

static void
test_loops(void)
{
	/* self pointer */
	hdr(&b, 1, 0x0100, 1, 0);
	putptr(&b, 12);
	put32(&b, 0x00010001);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_E_NAME_LOOP);
	T_EQ_INT(m.has_question, 0);
	T_EQ_STR(m.qname, "");
	/* two pointers at each other */
	hdr(&b, 1, 0x0100, 1, 0);
	putptr(&b, 14);
	putptr(&b, 12);
	put32(&b, 0x00010001);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_E_NAME_LOOP);
	/* the same, both behind the name (in the header) */
	hdr(&b, 1, 0x0100, 1, 0);
	b.b[8] = 0xc0;
	b.b[9] = 10;
	b.b[10] = 0xc0;
	b.b[11] = 8;
	putptr(&b, 8);
	put32(&b, 0x00010001);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_E_NAME_LOOP);
	/* a label, then a pointer back to the start of its own run */
	hdr(&b, 1, 0x0100, 1, 0);
	put8(&b, 1);
	put8(&b, 'a');
	putptr(&b, 12);
	put32(&b, 0x00010001);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_E_NAME_LOOP);
	/* forward pointer to a perfectly good name */
	hdr(&b, 1, 0x0100, 1, 0);
	put8(&b, 1);
	put8(&b, 'a');
	putptr(&b, 20);
	put32(&b, 0x00010001);
	putname(&b, "example.com");
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_E_NAME_LOOP);
	/* pointer cut in half */
	hdr(&b, 1, 0x0100, 1, 0);
	put8(&b, 0xc0);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_E_TRUNC_QUESTION);
}

static void
put_long_name(struct buf *o, unsigned last)
{
	char lab[64];
	int i;

	memset(lab, 'x', sizeof(lab));
	for (i = 0; i < 3; i++) {
		put8(o, 63);
		putn(o, lab, 63);
	}
	put8(o, last);
	putn(o, lab, last);
	put8(o, 0);
}

static void
test_name_length(void)
{
	int i;

	/* 255 octets on the wire: the longest legal name, 253 chars */
	hdr(&b, 1, 0x0100, 1, 0);
	put_long_name(&b, 61);
	put32(&b, 0x00010001);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_OK);
	T_EQ_INT(m.qname_len, 253);
	T_EQ_INT(strlen(m.qname), 253);
	hdr(&b, 1, 0x0100, 1, 0);
	put_long_name(&b, 62);
	put32(&b, 0x00010001);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_E_NAME_TOO_LONG);
	T_EQ_INT(m.has_question, 0);
	/* 254 octets inline, too long only once the pointer is followed */
	hdr(&b, 0x0161, 0, 1, 0);	/* name at 0: "a" */
	put_long_name(&b, 60);
	b.n--;
	putptr(&b, 0);
	put32(&b, 0x00010001);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_E_NAME_TOO_LONG);
	b.b[0] = 0;			/* name at 0 is now the root */
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_OK);
	T_EQ_INT(m.qname_len, 252);
	/* presentation form too long after escaping */
	hdr(&b, 1, 0x0100, 1, 0);
	for (i = 0; i < 2; i++) {
		put8(&b, 63);
		memset(b.b + b.n, 0xff, 63);
		b.n += 63;
	}
	put8(&b, 0);
	put32(&b, 0x00010001);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_E_NAME_TOO_LONG);
}

static void
test_bad_labels(void)
{
	hdr(&b, 1, 0x0100, 1, 0);
	put8(&b, 0x41);
	putn(&b, "abc", 3);
	put8(&b, 0);
	put32(&b, 0x00010001);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_E_BAD_LABEL);
	b.b[12] = 0x80;
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_E_BAD_LABEL);
	/* after a good label too */
	hdr(&b, 1, 0x0100, 1, 0);
	put8(&b, 1);
	put8(&b, 'a');
	put8(&b, 0x7f);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_E_BAD_LABEL);
}

static void
test_escapes(void)
{
	static const uint8_t odd[] = { 3, 'x', '.', 'y', 1, 0, 1, ' ',
	    1, '\\', 1, 0xff, 3, 'c', 'o', 'm', 0 };

	hdr(&b, 1, 0x0100, 1, 0);
	putn(&b, odd, sizeof(odd));
	put32(&b, 0x00010001);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_OK);
	T_EQ_STR(m.qname, "x\\046y.\\000.\\032.\\092.\\255.com");
	T_EQ_INT(m.qname_len, strlen("x\\046y.\\000.\\032.\\092.\\255.com"));
	T_EQ_INT(m.name_odd, 1);
}

static void
test_root_and_short(void)
{
	size_t n;

	hdr(&b, 1, 0x0100, 1, 0);
	put8(&b, 0);
	put16(&b, 2);
	put16(&b, 1);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_OK);
	T_EQ_INT(m.has_question, 1);
	T_EQ_INT(m.qname_len, 0);
	T_EQ_STR(m.qname, "");
	T_EQ_INT(m.qtype, 2);
	for (n = 0; n < 12; n++)
		T_EQ_INT(dns_parse(b.b, n, &m), DNS_E_SHORT);
	T_EQ_INT(dns_parse(NULL, 0, &m), DNS_E_SHORT);
	/* qdcount 0 */
	hdr(&b, 0x4242, 0x8183, 0, 0);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_E_NO_QUESTION);
	T_EQ_INT(m.id, 0x4242);
	T_EQ_INT(m.qr, 1);
	T_EQ_INT(m.rcode, 3);
	T_EQ_INT(m.has_question, 0);
	/* name complete, type/class cut */
	hdr(&b, 1, 0x0100, 1, 0);
	putname(&b, "mistral.ai");
	put16(&b, 1);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_OK);
	T_EQ_STR(m.qname, "mistral.ai");
	T_EQ_INT(m.qtype, 0);
	T_EQ_INT(m.answers_truncated, 1);
}

static void
test_max_addrs(void)
{
	unsigned i;

	hdr(&b, 1, 0x8180, 1, 20);
	putname(&b, "many.example");
	put32(&b, 0x00010001);
	for (i = 0; i < 20; i++) {
		putptr(&b, 12);
		rr(&b, 1, 1, i, v4, 4);
	}
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_OK);
	T_EQ_INT(m.n_addrs, DNS_MAX_ADDRS);
	T_EQ_INT(m.addrs[DNS_MAX_ADDRS - 1].ttl, DNS_MAX_ADDRS - 1);
	T_EQ_INT(m.answers_truncated, 0);
	/* ancount larger than the records present */
	hdr(&b, 1, 0x8180, 1, 5);
	putname(&b, "few.example");
	put32(&b, 0x00010001);
	putptr(&b, 12);
	rr(&b, 1, 1, 1, v4, 4);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_OK);
	T_EQ_INT(m.n_addrs, 1);
	T_EQ_INT(m.answers_truncated, 1);
	/* a bad label in an answer owner name */
	hdr(&b, 1, 0x8180, 1, 2);
	putname(&b, "bad.example");
	put32(&b, 0x00010001);
	putptr(&b, 12);
	rr(&b, 1, 1, 1, v4, 4);
	put8(&b, 0x40);
	rr(&b, 1, 1, 1, v4, 4);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_OK);
	T_EQ_INT(m.n_addrs, 1);
	T_EQ_INT(m.answers_truncated, 1);
	/* queries' answer sections are not walked */
	hdr(&b, 1, 0x0100, 1, 1);
	putname(&b, "q.example");
	put32(&b, 0x00010001);
	putptr(&b, 12);
	rr(&b, 1, 1, 1, v4, 4);
	T_EQ_INT(dns_parse(b.b, b.n, &m), DNS_OK);
	T_EQ_INT(m.n_addrs, 0);
}

/*
 * Every prefix of a response: too short, then question cut, then the
 * name with answers_truncated until the very last byte.
 */
static void
check_prefixes(const uint8_t *p, size_t len, const char *name,
    size_t name_end, unsigned n_addrs)
{
	size_t pl, bad = 0;
	int rc;

	for (pl = 0; pl <= len; pl++) {
		rc = dns_parse(p, pl, &m);
		if (pl < 12)
			bad += rc != DNS_E_SHORT;
		else if (pl < name_end)
			bad += rc != DNS_E_TRUNC_QUESTION || m.has_question;
		else
			bad += rc != DNS_OK || strcmp(m.qname, name) != 0 ||
			    m.answers_truncated != (pl < len) ||
			    m.n_addrs > n_addrs ||
			    (pl == len && m.n_addrs != n_addrs) ||
			    (pl < name_end + 4 && m.qtype != 0);
	}
	T_EQ_INT(bad, 0);
}

static void
test_every_prefix(void)
{
	build_a_aaaa(&b);
	check_prefixes(b.b, b.n, "claude.ai", 12 + 11, 2);
	check_prefixes(eve_r_cname, sizeof(eve_r_cname), "block.dropbox.com",
	    12 + 19, 1);
	check_prefixes(eve_r_client_cf, sizeof(eve_r_client_cf),
	    "client-cf.dropbox.com", 12 + 23, 1);
}

struct split_log {
	size_t		 n;
	size_t		 lens[8];
	const uint8_t	*msgs[8];
};

static void
split_cb(void *arg, const uint8_t *msg, size_t mlen)
{
	struct split_log *l = arg;

	if (l->n < 8) {
		l->msgs[l->n] = msg;
		l->lens[l->n] = mlen;
	}
	l->n++;
}

static void
test_tcp_split(void)
{
	struct split_log log;
	size_t used, i, full;

	b.n = 0;
	put16(&b, sizeof(eve_q_client_cf));
	putn(&b, eve_q_client_cf, sizeof(eve_q_client_cf));
	put16(&b, sizeof(eve_r_cname));
	putn(&b, eve_r_cname, sizeof(eve_r_cname));
	put16(&b, 0);				/* zero-length message */
	full = b.n;
	put16(&b, sizeof(eve_q_edns));
	putn(&b, eve_q_edns, 10);		/* partial 4th */

	memset(&log, 0, sizeof(log));
	T_EQ_INT(dns_tcp_split(b.b, b.n, &used, split_cb, &log), 3);
	T_EQ_INT(log.n, 3);
	T_EQ_INT(used, full);
	T_EQ_INT(log.lens[0], sizeof(eve_q_client_cf));
	T_EQ_INT(log.lens[1], sizeof(eve_r_cname));
	T_EQ_INT(log.lens[2], 0);
	T_EQ_INT(dns_parse(log.msgs[0], log.lens[0], &m), DNS_OK);
	T_EQ_STR(m.qname, "client-cf.dropbox.com");
	T_EQ_INT(dns_parse(log.msgs[1], log.lens[1], &m), DNS_OK);
	T_EQ_STR(m.qname, "block.dropbox.com");
	T_EQ_INT(dns_parse(log.msgs[2], log.lens[2], &m), DNS_E_SHORT);

	/* every prefix: complete messages only, never more than is there */
	for (i = 0; i <= b.n; i++) {
		size_t want = i >= full ? 3 : i >= 2 + 39 + 2 + 74 ? 2 :
		    i >= 2 + 39 ? 1 : 0;

		T_EQ_INT(dns_tcp_split(b.b, i, &used, NULL, NULL), want);
		T_CHECK(used <= i);
	}
	/* the rest of the 4th message arrives */
	putn(&b, eve_q_edns + 10, sizeof(eve_q_edns) - 10);
	memset(&log, 0, sizeof(log));
	T_EQ_INT(dns_tcp_split(b.b + full, b.n - full, &used, split_cb, &log),
	    1);
	T_EQ_INT(used, b.n - full);
	T_EQ_INT(dns_parse(log.msgs[0], log.lens[0], &m), DNS_OK);
	T_EQ_STR(m.qname, "codemonkey.net");
	T_EQ_INT(dns_tcp_split(NULL, 0, &used, NULL, NULL), 0);
	T_EQ_INT(used, 0);
}

static void
test_err_names(void)
{
	T_EQ_STR(dns_err_name(DNS_OK), "dns_ok");
	T_EQ_STR(dns_err_name(DNS_E_SHORT), "dns_short");
	T_EQ_STR(dns_err_name(DNS_E_NAME_LOOP), "dns_name_loop");
	T_EQ_STR(dns_err_name(DNS_E_NAME_TOO_LONG), "dns_name_too_long");
	T_EQ_STR(dns_err_name(DNS_E_BAD_LABEL), "dns_bad_label");
	T_EQ_STR(dns_err_name(DNS_E_NO_QUESTION), "dns_no_question");
	T_EQ_STR(dns_err_name(DNS_E_TRUNC_QUESTION), "dns_trunc_question");
	T_EQ_STR(dns_err_name(99), "dns_unknown");
}

static void
test_real(void)
{
	size_t pl, bad = 0;

	T_EQ_INT(dns_parse(eve_q_client_cf, sizeof(eve_q_client_cf), &m),
	    DNS_OK);
	T_EQ_STR(m.qname, "client-cf.dropbox.com");
	T_EQ_INT(m.qr, 0);
	T_EQ_INT(dns_parse(eve_r_client_cf, sizeof(eve_r_client_cf), &m),
	    DNS_OK);
	T_EQ_STR(m.qname, "client-cf.dropbox.com");
	T_EQ_INT(m.n_addrs, 1);
	T_EQ_INT(m.addrs[0].af, 4);
	T_EQ_INT(m.addrs[0].a[0], 52);
	T_EQ_INT(m.addrs[0].a[1], 85);
	T_EQ_INT(m.addrs[0].a[2], 112);
	T_EQ_INT(m.addrs[0].a[3], 21);
	T_EQ_INT(m.addrs[0].ttl, 47);
	T_EQ_INT(dns_parse(eve_q_edns, sizeof(eve_q_edns), &m), DNS_OK);
	T_EQ_STR(m.qname, "codemonkey.net");
	T_EQ_INT(dns_parse(eve_r_cname, sizeof(eve_r_cname), &m), DNS_OK);
	T_EQ_STR(m.qname, "block.dropbox.com");
	T_EQ_INT(m.n_addrs, 1);
	T_EQ_INT(m.addrs[0].a[0], 45);
	T_EQ_INT(m.addrs[0].a[3], 33);
	T_EQ_INT(m.answers_truncated, 0);

	T_EQ_INT(dns_parse(inv_trunc_a, sizeof(inv_trunc_a), &m),
	    DNS_E_TRUNC_QUESTION);
	T_EQ_INT(dns_parse(inv_self_ptr, sizeof(inv_self_ptr), &m),
	    DNS_E_NAME_LOOP);
	T_EQ_INT(m.has_question, 0);
	T_EQ_INT(dns_parse(inv_trunc_abc, sizeof(inv_trunc_abc), &m),
	    DNS_E_TRUNC_QUESTION);
	T_EQ_INT(dns_parse(fwdptr_head, sizeof(fwdptr_head), &m),
	    DNS_E_NAME_LOOP);
	T_EQ_INT(m.has_question, 0);
	for (pl = 0; pl <= sizeof(fwdptr_head); pl++) {
		dns_parse(fwdptr_head, pl, &m);
		bad += m.has_question;
	}
	T_EQ_INT(bad, 0);
}

int
main(void)
{
	T_RUN(test_query);
	T_RUN(test_mixed_case);
	T_RUN(test_response_a_aaaa);
	T_RUN(test_cname_chain);
	T_RUN(test_question_compression);
	T_RUN(test_loops);
	T_RUN(test_name_length);
	T_RUN(test_bad_labels);
	T_RUN(test_escapes);
	T_RUN(test_root_and_short);
	T_RUN(test_max_addrs);
	T_RUN(test_every_prefix);
	T_RUN(test_tcp_split);
	T_RUN(test_err_names);
	T_RUN(test_real);
	return T_DONE();
}
