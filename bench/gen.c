/*
 * gen.c - the benchmark's inputs, fast and reproducible: a capture of a
 * busy gateway, a catalog of any size, a configuration with any number
 * of departments, and the two floods of the memory rows.
 *
 *   gen traffic  -c SRC_CATALOG [-s SEED] [-n PACKETS] [-p PPS] [-w DAYS]
 *                -o FILE
 *   gen catalog  -c SRC_CATALOG -S SERVICES -o FILE
 *   gen config   -d 10|100|1000 -k CATALOG -b DATABASE -o FILE
 *   gen synflood [-s SEED] [-n SYNS] -o FILE
 *   gen dnsflood [-s SEED] [-n NAMES] -c SRC_CATALOG -o FILE
 *
 * The traffic is the python synthesizer's (tests/synth) idea at ~100x its
 * speed: sessions arrive at random, each a small state machine, merged
 * by time through a heap, so the capture is in time order and memory does
 * not grow with its length.  Sessions: web over TLS (a third of the
 * ClientHellos post-quantum, ~1.8 KB, split over two TCP segments, SNI
 * in either), web over QUIC (real v1/v2 Initials, AES-128-GCM and header
 * protection done here with libcrypto, a fresh DCID per connection, the
 * ClientHello cut into CRYPTO frames sent out of order with PING and
 * PADDING between), each preceded most of the time by a DNS lookup of
 * its name; plain TCP bulk (some joined mid-connection), UDP media (RTP,
 * WireGuard) and DNS-only lookups.  Most packets are bulk data.  A
 * quarter of the named sessions go to catalog names.
 *
 * Addresses (the configuration written by `gen config` follows them):
 * 20,000 clients in 1,000 subnets S = 0..999 (T = S/100, g = S/10%10,
 * k = S%10, U = 16g + k): 10.T.U.h/24 with h = 1..20, and for two clients
 * in five also 2001:db8:T:U::h/64.  10 departments are 10.T/16, 100 are
 * 10.T.16g/20, 1,000 are the /24s (IPv6 alike: /48, /60, /64).  Servers
 * are in 198.18.0.0/15 (RFC 2544, benchmarking) and 2001:db8:ffff::/48,
 * the resolver 198.51.100.53 / 2001:db8:53::53.
 *
 * -w DAYS spreads the PACKETS over about DAYS days of capture time (from
 * Monday 09:00 UTC) with an office's rhythm: sessions arrive at a rate
 * that follows the hour of the day and the day of the week (busy working
 * hours, a quiet night, a quieter weekend), for the week-long offline
 * row of the benchmark; -p is then ignored.  Nothing here is sent
 * anywhere: the files are read by the benchmark, or replayed inside
 * network namespaces.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define BASE_SERVICES	300	/* services the traffic uses */
#define NOISE_NAMES	4000
#define CLIENTS		20000
#define SUBNETS		1000
#define T0		1794819600ULL	/* 2026-11-16 09:00:00 UTC */
#define POOL		(1u << 20)
#define MSS		1448	/* IPv4 with timestamps; IPv6 has 20 less */
#define MAXFRAME	1600

/* ---- random ---------------------------------------------------------- */

static uint64_t rs[2];

static uint64_t
rnd(void)
{
	uint64_t s1 = rs[0], s0 = rs[1], r = s0 + s1;

	rs[0] = s0;
	s1 ^= s1 << 23;
	rs[1] = s1 ^ s0 ^ (s1 >> 18) ^ (s0 >> 5);
	return r;
}

static void
seed_rng(uint64_t s)
{
	int i;

	rs[0] = s * 0x9e3779b97f4a7c15ULL + 1;
	rs[1] = (s ^ 0xdeadbeefcafef00dULL) * 0xbf58476d1ce4e5b9ULL + 3;
	for (i = 0; i < 16; i++)
		rnd();
}

/* uniform in [0, n) */
static uint32_t
rn(uint32_t n)
{
	return (uint32_t)(((rnd() >> 32) * (uint64_t)n) >> 32);
}

static uint32_t
rr(uint32_t lo, uint32_t hi)	/* [lo, hi] */
{
	return lo + rn(hi - lo + 1);
}

static double
ru(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* popularity skew: low indices are chosen more often */
static uint32_t
skew(uint32_t n)
{
	double u = ru();

	return (uint32_t)(u * u * n);
}

static uint8_t pool[POOL];

static const uint8_t *
rbytes(size_t n)
{
	return pool + rn((uint32_t)(POOL - n));
}

static void
rfill(uint8_t *p, size_t n)
{
	memcpy(p, rbytes(n), n);
}

/* ---- output ---------------------------------------------------------- */

static FILE *out;
static uint64_t last_ts, npackets, nbytes;
static void (*count_hook)(void);

static void
put32(uint32_t v)
{
	fwrite(&v, 4, 1, out);
}

static void
pcap_open(const char *path)
{
	if ((out = fopen(path, "wb")) == NULL) {
		fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	setvbuf(out, NULL, _IOFBF, 1 << 22);
	put32(0xa1b2c3d4);
	put32(0x00040002);	/* version 2.4 */
	put32(0);
	put32(0);
	put32(65535);
	put32(1);		/* Ethernet */
}

static void
pcap_write(uint64_t ts, const uint8_t *f, size_t len)
{
	if (len > 1514) {	/* must fit a 1500-byte MTU: it is replayed */
		fprintf(stderr, "gen: frame of %zu bytes\n", len);
		exit(1);
	}
	if (ts < last_ts)
		ts = last_ts;	/* bursts never reorder the file */
	last_ts = ts;
	put32((uint32_t)(T0 + ts / 1000000));
	put32((uint32_t)(ts % 1000000));
	put32((uint32_t)len);
	put32((uint32_t)len);
	fwrite(f, 1, len, out);
	if (count_hook != NULL)
		count_hook();
	npackets++;
	nbytes += len;
}

static void
pcap_close(void)
{
	if (fclose(out) != 0) {
		perror("gen: write");
		exit(1);
	}
}

/* ---- frames ---------------------------------------------------------- */

struct ep {			/* one side of a conversation */
	uint8_t	 a[16];		/* IPv4 in a[0..3] when !v6 */
	uint16_t port;
};

static void
be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t
ipsum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static const uint8_t mac_cli[6] = { 0x02, 0, 0, 0xbe, 0, 1 };
static const uint8_t mac_gw[6] = { 0x02, 0, 0, 0xbe, 0, 2 };

/*
 * Ethernet + IP header for an L4 segment of l4len bytes, the client side
 * being src when up.  Returns the offset of the L4 header.
 */
static size_t
ip_hdr(uint8_t *f, int v6, int up, const struct ep *src, const struct ep *dst,
    uint8_t proto, size_t l4len)
{
	memcpy(f, up ? mac_gw : mac_cli, 6);
	memcpy(f + 6, up ? mac_cli : mac_gw, 6);
	if (!v6) {
		uint8_t *ip = f + 14;

		be16(f + 12, 0x0800);
		ip[0] = 0x45;
		ip[1] = 0;
		be16(ip + 2, (uint16_t)(20 + l4len));
		be16(ip + 4, (uint16_t)rnd());
		be16(ip + 6, 0x4000);
		ip[8] = up ? 64 : 54;
		ip[9] = proto;
		ip[10] = ip[11] = 0;
		memcpy(ip + 12, src->a, 4);
		memcpy(ip + 16, dst->a, 4);
		be16(ip + 10, ipsum(ip, 20));
		return 34;
	}
	be16(f + 12, 0x86dd);
	be32(f + 14, 0x60000000);
	be16(f + 18, (uint16_t)l4len);
	f[20] = proto;
	f[21] = up ? 64 : 54;
	memcpy(f + 22, src->a, 16);
	memcpy(f + 38, dst->a, 16);
	return 54;
}

static uint8_t frame[MAXFRAME + 64];

static void
emit_udp(uint64_t ts, int v6, int up, const struct ep *src,
    const struct ep *dst, const uint8_t *pl, size_t n)
{
	size_t o = ip_hdr(frame, v6, up, src, dst, 17, 8 + n);

	be16(frame + o, src->port);
	be16(frame + o + 2, dst->port);
	be16(frame + o + 4, (uint16_t)(8 + n));
	be16(frame + o + 6, 0);
	if (pl != NULL)
		memcpy(frame + o + 8, pl, n);
	pcap_write(ts, frame, o + 8 + n);
}

#define F_FIN	0x01
#define F_SYN	0x02
#define F_RST	0x04
#define F_PSH	0x08
#define F_ACK	0x10

/* pl == NULL: n bytes of random payload. */
static void
emit_tcp(uint64_t ts, int v6, int up, const struct ep *src,
    const struct ep *dst, uint32_t seq, uint32_t ack, uint8_t flags,
    const uint8_t *pl, size_t n)
{
	size_t hl = (flags & F_SYN) ? 40 : 32;
	size_t o = ip_hdr(frame, v6, up, src, dst, 6, hl + n);
	uint8_t *t = frame + o;
	uint32_t tsv = (uint32_t)(ts / 1000);

	be16(t, src->port);
	be16(t + 2, dst->port);
	be32(t + 4, seq);
	be32(t + 8, (flags & F_ACK) ? ack : 0);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = flags;
	be16(t + 14, 64240);
	be16(t + 16, 0);
	be16(t + 18, 0);
	if (flags & F_SYN) {
		static const uint8_t o_syn[20] = { 2, 4, 0x05, 0xb4, 4, 2,
		    8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7 };

		memcpy(t + 20, o_syn, 20);
		be32(t + 28, tsv);
	} else {
		t[20] = 1;
		t[21] = 1;
		t[22] = 8;
		t[23] = 10;
		be32(t + 24, tsv);
		be32(t + 28, tsv - 7);
	}
	if (n > 0)
		memcpy(t + hl, pl != NULL ? pl : rbytes(n), n);
	pcap_write(ts, frame, o + hl + n);
}

/* ---- names ----------------------------------------------------------- */

struct cname {
	char	*s;
	int	 exact;		/* a `hosts` entry */
	int	 svc;		/* base service index */
};

static struct cname *centries;	/* entries of the base catalog */
static size_t ncentries, centcap;
static char svc_ids[BASE_SERVICES][48];
static const config_setting_t *svc_src[BASE_SERVICES];	/* NULL: synthetic */
static config_t srccf;
static const config_setting_t *srcsvcs;
static size_t nreal;		/* services in the source catalog */

static char **names;		/* traffic names: catalog ones, then noise */
static size_t nnames, ncatnames;

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL) {
		perror("gen");
		exit(1);
	}
	return p;
}

static void
add_entry(const char *s, int exact, int svc)
{
	if (ncentries == centcap) {
		centcap = centcap ? centcap * 2 : 512;
		centries = realloc(centries, centcap * sizeof(*centries));
		if (centries == NULL) {
			perror("gen");
			exit(1);
		}
	}
	centries[ncentries].s = xstrdup(s);
	centries[ncentries].exact = exact;
	centries[ncentries].svc = svc;
	ncentries++;
}

static void
add_list(const config_setting_t *svc, const char *key, int exact, int idx)
{
	const config_setting_t *l = config_setting_get_member(svc, key);
	int i;

	for (i = 0; l != NULL && i < config_setting_length(l); i++)
		add_entry(config_setting_get_string_elem(l, i), exact, idx);
}

/* The base catalog: the source catalog's services, then synthetic ones. */
static void
load_source(const char *path)
{
	FILE *fp = fopen(path, "r");
	size_t i;

	config_init(&srccf);
	if (fp == NULL || !config_read(&srccf, fp)) {
		fprintf(stderr, "gen: cannot read catalog %s: %s (line %d)\n",
		    path, fp ? config_error_text(&srccf) : strerror(errno),
		    fp ? config_error_line(&srccf) : 0);
		exit(1);
	}
	fclose(fp);
	srcsvcs = config_lookup(&srccf, "services");
	if (srcsvcs == NULL) {
		fprintf(stderr, "gen: %s has no services\n", path);
		exit(1);
	}
	nreal = (size_t)config_setting_length(srcsvcs);
	if (nreal > BASE_SERVICES)
		nreal = BASE_SERVICES;
	for (i = 0; i < nreal; i++) {
		const config_setting_t *s = config_setting_get_elem(srcsvcs,
		    (unsigned)i);
		const char *id = NULL;

		config_setting_lookup_string(s, "id", &id);
		snprintf(svc_ids[i], sizeof(svc_ids[i]), "%s", id ? id : "?");
		svc_src[i] = s;
		add_list(s, "domains", 0, (int)i);
		add_list(s, "hosts", 1, (int)i);
	}
	for (; i < BASE_SERVICES; i++) {
		char d[64];

		snprintf(svc_ids[i], sizeof(svc_ids[i]), "bench-%zu", i);
		snprintf(d, sizeof(d), "bench%zu-ai.example", i);
		add_entry(d, 0, (int)i);
	}
}

static void
add_name(const char *s)
{
	names[nnames++] = xstrdup(s);
}

static void
make_names(void)
{
	static const char *sub[] = { "www", "api", "app", "cdn", "chat" };
	static const char *tld[] = { "example", "example.com", "example.net",
	    "example.org", "test" };
	char b[256];
	size_t i;

	names = calloc(ncentries * 2 + NOISE_NAMES, sizeof(*names));
	if (names == NULL) {
		perror("gen");
		exit(1);
	}
	for (i = 0; i < ncentries; i++) {
		const struct cname *e = &centries[i];

		add_name(e->s);
		if (!e->exact) {
			snprintf(b, sizeof(b), "%s.%s", sub[i % 5], e->s);
			add_name(b);
		}
	}
	ncatnames = nnames;
	for (i = 0; i < NOISE_NAMES; i++) {
		switch (i % 4) {
		case 0:
			snprintf(b, sizeof(b), "www.site%zu.%s", i, tld[i % 5]);
			break;
		case 1:
			snprintf(b, sizeof(b), "cdn%zu.assets%zu.%s", i % 7,
			    i, tld[(i / 4) % 5]);
			break;
		case 2:
			snprintf(b, sizeof(b), "api.service%zu.%s", i,
			    tld[(i / 3) % 5]);
			break;
		default:
			snprintf(b, sizeof(b), "s%zu.edge.tracker%zu.%s",
			    i % 13, i, tld[(i / 7) % 5]);
		}
		add_name(b);
	}
}

/* ---- addresses ------------------------------------------------------- */

static void
client_addr(uint32_t c, int v6, uint8_t a[16])
{
	uint32_t s = c / 20, h = c % 20 + 1;
	uint32_t T = s / 100, g = s / 10 % 10, k = s % 10, U = 16 * g + k;

	memset(a, 0, 16);
	if (!v6) {
		a[0] = 10;
		a[1] = (uint8_t)T;
		a[2] = (uint8_t)U;
		a[3] = (uint8_t)h;
		return;
	}
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[5] = (uint8_t)T;
	a[7] = (uint8_t)U;
	a[15] = (uint8_t)h;
}

static int
client_has_v6(uint32_t c)
{
	return c % 5 < 2;
}

static void
server_addr(uint32_t n, int v6, uint8_t a[16])
{
	memset(a, 0, 16);
	n++;
	if (!v6) {
		a[0] = 198;
		a[1] = (uint8_t)(18 + (n >> 16));
		a[2] = (uint8_t)(n >> 8);
		a[3] = (uint8_t)n;
		return;
	}
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[4] = a[5] = 0xff;
	a[12] = (uint8_t)(n >> 24);
	a[13] = (uint8_t)(n >> 16);
	a[14] = (uint8_t)(n >> 8);
	a[15] = (uint8_t)n;
}

static void
resolver_addr(int v6, uint8_t a[16])
{
	static const uint8_t r6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x53,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53 };

	memset(a, 0, 16);
	if (v6) {
		memcpy(a, r6, 16);
		return;
	}
	a[0] = 198;
	a[1] = 51;
	a[2] = 100;
	a[3] = 53;
}

static uint16_t
eport(void)
{
	return (uint16_t)rr(32768, 60999);
}

/* ---- DNS --------------------------------------------------------------- */

static size_t
dns_name(uint8_t *p, const char *name)
{
	size_t o = 0;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		p[o++] = (uint8_t)l;
		memcpy(p + o, name, l);
		o += l;
		name += l + (dot ? 1 : 0);
	}
	p[o++] = 0;
	return o;
}

/* A query, or its response (NOERROR with the server's address, or NXDOMAIN). */
static size_t
dns_msg(uint8_t *p, uint16_t id, const char *name, uint16_t qtype, int resp,
    int nx, uint32_t srv)
{
	size_t o = 12;

	be16(p, id);
	be16(p + 2, resp ? (nx ? 0x8183 : 0x8180) : 0x0100);
	be16(p + 4, 1);
	be16(p + 6, (uint16_t)(resp && !nx ? 1 : 0));
	be16(p + 8, 0);
	be16(p + 10, 0);
	o += dns_name(p + o, name);
	be16(p + o, qtype);
	be16(p + o + 2, 1);
	o += 4;
	if (resp && !nx) {
		uint8_t a[16];

		be16(p + o, 0xc00c);
		be16(p + o + 2, qtype);
		be16(p + o + 4, 1);
		be32(p + o + 6, 300);
		o += 10;
		server_addr(srv, qtype == 28, a);
		if (qtype == 28) {
			be16(p + o, 16);
			memcpy(p + o + 2, a, 16);
			o += 18;
		} else {
			be16(p + o, 4);
			memcpy(p + o + 2, a, 4);
			o += 6;
		}
	}
	return o;
}

/* ---- TLS ClientHello ------------------------------------------------- */

static uint16_t
grease(void)
{
	return (uint16_t)(0x0a0a + 0x1010 * rn(16));
}

struct buf {
	uint8_t	 b[4096];
	size_t	 n;
};

static void
b8(struct buf *b, unsigned v)
{
	b->b[b->n++] = (uint8_t)v;
}

static void
b16(struct buf *b, unsigned v)
{
	be16(b->b + b->n, (uint16_t)v);
	b->n += 2;
}

static void
bmem(struct buf *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void
brand(struct buf *b, size_t n)
{
	rfill(b->b + b->n, n);
	b->n += n;
}

/* Start a 16-bit length-prefixed block; returns where its length goes. */
static size_t
bopen16(struct buf *b)
{
	b->n += 2;
	return b->n - 2;
}

static void
bclose16(struct buf *b, size_t at)
{
	be16(b->b + at, (uint16_t)(b->n - at - 2));
}

/*
 * A Chrome-like ClientHello handshake message (type 1, uint24 length):
 * GREASE, shuffled extensions, optionally the 1216-byte X25519MLKEM768
 * key share.  quic: TLS 1.3 only, QUIC transport parameters.
 */
static size_t
client_hello(uint8_t *outp, const char *sni, int pq, int quic)
{
	static const uint16_t ciph_tcp[] = { 0x1301, 0x1302, 0x1303, 0xc02b,
	    0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c,
	    0x009d, 0x002f, 0x0035 };
	static const uint16_t sigalgs[] = { 0x0403, 0x0804, 0x0401, 0x0503,
	    0x0805, 0x0501, 0x0806, 0x0601 };
	struct buf ext[20], b;
	size_t nx = 0, i, at, at2, sl = strlen(sni);
	int order[20];
	uint16_t g1 = grease(), g2 = grease();

	memset(&b, 0, sizeof(b));
	for (i = 0; i < 20; i++)
		ext[i].n = 0;
	/* server_name */
	b16(&ext[nx], 0x0000);
	at = bopen16(&ext[nx]);
	b16(&ext[nx], (unsigned)sl + 3);
	b8(&ext[nx], 0);
	b16(&ext[nx], (unsigned)sl);
	bmem(&ext[nx], sni, sl);
	bclose16(&ext[nx], at);
	nx++;
	b16(&ext[nx], 0x0017); b16(&ext[nx], 0); nx++;		/* EMS */
	b16(&ext[nx], 0xff01); b16(&ext[nx], 1); b8(&ext[nx], 0); nx++;
	/* supported_groups */
	b16(&ext[nx], 0x000a);
	at = bopen16(&ext[nx]);
	at2 = bopen16(&ext[nx]);
	b16(&ext[nx], g1);
	if (pq)
		b16(&ext[nx], 0x11ec);
	b16(&ext[nx], 0x001d);
	b16(&ext[nx], 0x0017);
	b16(&ext[nx], 0x0018);
	bclose16(&ext[nx], at2);
	bclose16(&ext[nx], at);
	nx++;
	b16(&ext[nx], 0x000b); b16(&ext[nx], 2); b8(&ext[nx], 1);
	b8(&ext[nx], 0); nx++;
	/* ALPN */
	b16(&ext[nx], 0x0010);
	at = bopen16(&ext[nx]);
	at2 = bopen16(&ext[nx]);
	if (quic) {
		b8(&ext[nx], 2);
		bmem(&ext[nx], "h3", 2);
	} else {
		b8(&ext[nx], 2);
		bmem(&ext[nx], "h2", 2);
		b8(&ext[nx], 8);
		bmem(&ext[nx], "http/1.1", 8);
	}
	bclose16(&ext[nx], at2);
	bclose16(&ext[nx], at);
	nx++;
	b16(&ext[nx], 0x0005); b16(&ext[nx], 5); b8(&ext[nx], 1);
	b16(&ext[nx], 0); b16(&ext[nx], 0); nx++;
	b16(&ext[nx], 0x000d);
	at = bopen16(&ext[nx]);
	at2 = bopen16(&ext[nx]);
	for (i = 0; i < 8; i++)
		b16(&ext[nx], sigalgs[i]);
	bclose16(&ext[nx], at2);
	bclose16(&ext[nx], at);
	nx++;
	/* key_share */
	b16(&ext[nx], 0x0033);
	at = bopen16(&ext[nx]);
	at2 = bopen16(&ext[nx]);
	b16(&ext[nx], g1);
	b16(&ext[nx], 1);
	b8(&ext[nx], 0);
	if (pq) {
		b16(&ext[nx], 0x11ec);
		b16(&ext[nx], 1216);
		brand(&ext[nx], 1216);
	}
	b16(&ext[nx], 0x001d);
	b16(&ext[nx], 32);
	brand(&ext[nx], 32);
	bclose16(&ext[nx], at2);
	bclose16(&ext[nx], at);
	nx++;
	b16(&ext[nx], 0x002d); b16(&ext[nx], 2); b8(&ext[nx], 1);
	b8(&ext[nx], 1); nx++;
	/* supported_versions */
	b16(&ext[nx], 0x002b);
	b16(&ext[nx], quic ? 5 : 7);
	b8(&ext[nx], quic ? 4 : 6);
	b16(&ext[nx], g2);
	b16(&ext[nx], 0x0304);
	if (!quic)
		b16(&ext[nx], 0x0303);
	nx++;
	b16(&ext[nx], 0x0012); b16(&ext[nx], 0); nx++;		/* SCT */
	b16(&ext[nx], 0x001b); b16(&ext[nx], 3); b8(&ext[nx], 2);
	b16(&ext[nx], 2); nx++;
	b16(&ext[nx], 0x4469); b16(&ext[nx], 5); b16(&ext[nx], 3);
	b8(&ext[nx], 2); bmem(&ext[nx], quic ? "h3" : "h2", 2); nx++;
	if (quic) {
		b16(&ext[nx], 0x0039);
		at = bopen16(&ext[nx]);
		b8(&ext[nx], 0x01); b8(&ext[nx], 2); b16(&ext[nx], 0x4000 | 30000 % 0x4000);
		b8(&ext[nx], 0x04); b8(&ext[nx], 4); b16(&ext[nx], 0x80f0);
		b16(&ext[nx], 0);
		b8(&ext[nx], 0x0f); b8(&ext[nx], 8); brand(&ext[nx], 8);
		bclose16(&ext[nx], at);
		nx++;
	} else {
		b16(&ext[nx], 0x0023); b16(&ext[nx], 0); nx++;
	}
	if (rn(2)) {			/* GREASE ECH, as Chrome sends */
		size_t pl = 144 + 32 * rn(4);

		b16(&ext[nx], 0xfe0d);
		at = bopen16(&ext[nx]);
		b8(&ext[nx], 0);
		b16(&ext[nx], 1);
		b16(&ext[nx], 1);
		b8(&ext[nx], rn(256));
		b16(&ext[nx], 32);
		brand(&ext[nx], 32);
		b16(&ext[nx], (unsigned)pl);
		brand(&ext[nx], pl);
		bclose16(&ext[nx], at);
		nx++;
	}
	for (i = 0; i < nx; i++)
		order[i] = (int)i;
	for (i = nx - 1; i > 0; i--) {
		size_t j = rn((uint32_t)i + 1);
		int t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	/* body */
	b8(&b, 1);
	b.n += 3;
	b16(&b, 0x0303);
	brand(&b, 32);
	if (quic) {
		b8(&b, 0);
	} else {
		b8(&b, 32);
		brand(&b, 32);
	}
	at = bopen16(&b);
	b16(&b, grease());
	for (i = 0; i < (quic ? 3 : 15); i++)
		b16(&b, ciph_tcp[i]);
	bclose16(&b, at);
	b8(&b, 1);
	b8(&b, 0);
	at = bopen16(&b);
	b16(&b, g1 ^ 0x1010);
	b16(&b, 0);
	for (i = 0; i < nx; i++)
		bmem(&b, ext[order[i]].b, ext[order[i]].n);
	b16(&b, g2);
	b16(&b, 1);
	b8(&b, 0);
	bclose16(&b, at);
	b.b[1] = (uint8_t)((b.n - 4) >> 16);
	b.b[2] = (uint8_t)((b.n - 4) >> 8);
	b.b[3] = (uint8_t)(b.n - 4);
	memcpy(outp, b.b, b.n);
	return b.n;
}

/* ---- QUIC Initials ------------------------------------------------------ */

#define QV1	0x00000001u
#define QV2	0x6b3343cfu

static EVP_CIPHER_CTX *gcm, *ecb;

struct qkeys {
	uint8_t	 key[16], iv[12], hp[16];
};

static void
expand_label(const uint8_t *secret, const char *label, uint8_t *o, size_t n)
{
	uint8_t info[64], t[32];
	size_t ll = 6 + strlen(label), k = 0;
	unsigned tl = 0;

	be16(info, (uint16_t)n);
	info[2] = (uint8_t)ll;
	memcpy(info + 3, "tls13 ", 6);
	memcpy(info + 9, label, strlen(label));
	k = 3 + ll;
	info[k++] = 0;
	info[k++] = 1;
	HMAC(EVP_sha256(), secret, 32, info, k, t, &tl);
	memcpy(o, t, n);
}

static void
initial_keys(uint32_t ver, const uint8_t *dcid, size_t dl, struct qkeys *k)
{
	static const uint8_t s1[20] = { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59,
	    0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc,
	    0xbb, 0x7f, 0x0a };
	static const uint8_t s2[20] = { 0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00,
	    0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9,
	    0xbd, 0x2e, 0xd9 };
	uint8_t init[32], cs[32];
	unsigned l = 0;
	int v2 = ver == QV2;

	HMAC(EVP_sha256(), v2 ? s2 : s1, 20, dcid, dl, init, &l);
	expand_label(init, "client in", cs, 32);
	expand_label(cs, v2 ? "quicv2 key" : "quic key", k->key, 16);
	expand_label(cs, v2 ? "quicv2 iv" : "quic iv", k->iv, 12);
	expand_label(cs, v2 ? "quicv2 hp" : "quic hp", k->hp, 16);
}

static size_t
varint2(uint8_t *p, size_t v)
{
	be16(p, (uint16_t)(0x4000 | v));
	return 2;
}

/*
 * One protected client Initial of exactly dglen bytes whose plaintext is
 * pt[0..ptlen) followed by PADDING.
 */
static size_t
protect_initial(uint8_t *o, uint32_t ver, const uint8_t *dcid,
    const uint8_t *scid, size_t scl, const struct qkeys *k, uint32_t pn,
    const uint8_t *pt, size_t ptlen, size_t dglen)
{
	size_t h = 0, pnoff, plen, i;
	uint8_t nonce[12], mask[16];
	int outl, pnl = 2;
	uint8_t body[1400];

	o[h++] = (uint8_t)(0xc0 | ((ver == QV2 ? 1 : 0) << 4) | (pnl - 1));
	be32(o + h, ver);
	h += 4;
	o[h++] = 8;
	memcpy(o + h, dcid, 8);
	h += 8;
	o[h++] = (uint8_t)scl;
	memcpy(o + h, scid, scl);
	h += scl;
	o[h++] = 0;			/* no token */
	plen = dglen - h - 2 - (size_t)pnl - 16;
	h += varint2(o + h, (size_t)pnl + plen + 16);
	pnoff = h;
	be16(o + h, (uint16_t)pn);
	h += 2;
	memcpy(body, pt, ptlen);
	memset(body + ptlen, 0, plen - ptlen);
	memcpy(nonce, k->iv, 12);
	for (i = 0; i < 4; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	EVP_EncryptInit_ex(gcm, NULL, NULL, k->key, nonce);
	EVP_EncryptUpdate(gcm, NULL, &outl, o, (int)h);
	EVP_EncryptUpdate(gcm, o + h, &outl, body, (int)plen);
	EVP_EncryptFinal_ex(gcm, o + h + plen, &outl);
	EVP_CIPHER_CTX_ctrl(gcm, EVP_CTRL_GCM_GET_TAG, 16, o + h + plen);
	EVP_EncryptInit_ex(ecb, NULL, NULL, k->hp, NULL);
	EVP_EncryptUpdate(ecb, mask, &outl, o + pnoff + 4, 16);
	o[0] ^= mask[0] & 0x0f;
	for (i = 0; i < (size_t)pnl; i++)
		o[pnoff + i] ^= mask[1 + i];
	return h + plen + 16;
}

static void
crypto_init(void)
{
	gcm = EVP_CIPHER_CTX_new();
	ecb = EVP_CIPHER_CTX_new();
	if (gcm == NULL || ecb == NULL ||
	    !EVP_EncryptInit_ex(gcm, EVP_aes_128_gcm(), NULL, NULL, NULL) ||
	    !EVP_CIPHER_CTX_ctrl(gcm, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) ||
	    !EVP_EncryptInit_ex(ecb, EVP_aes_128_ecb(), NULL, NULL, NULL)) {
		fprintf(stderr, "gen: libcrypto set-up failed\n");
		exit(1);
	}
	EVP_CIPHER_CTX_set_padding(ecb, 0);
}

/*
 * The client's first flight: the ClientHello cut into 2..6 CRYPTO frames,
 * shuffled, a PING before some, placed first-fit over as few Initials as
 * hold them (two or three for a post-quantum hello), each padded to 1250
 * bytes.  Returns the number of datagrams.
 */
#define QMAXDG	3

static int
quic_flight(uint32_t ver, const uint8_t *dcid, const uint8_t *scid, size_t scl,
    const uint8_t *ch, size_t chlen, uint8_t dg[QMAXDG][1300],
    size_t dglen[QMAXDG])
{
	struct qkeys k;
	size_t cut[8], np, i, pi, cap = 1250 - 40 - 16;
	int order[8], npk = 1, p;
	uint8_t pt[QMAXDG][1300];
	size_t ptl[QMAXDG] = { 0, 0, 0 };

	initial_keys(ver, dcid, 8, &k);
	np = rr(2, chlen > 1000 ? 6 : 3);
	for (i = 0; i + 1 < np; i++)
		cut[i] = chlen * (i + 1) / np + rn(40) - 20;
	cut[np - 1] = chlen;
	for (i = 0; i < np; i++)
		order[i] = (int)i;
	for (i = np - 1; i > 0; i--) {
		size_t j = rn((uint32_t)i + 1);
		int t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (pi = 0; pi < np; pi++) {
		size_t a = order[pi] == 0 ? 0 : cut[order[pi] - 1];
		size_t b = cut[order[pi]], n = b - a, need = 1 + 2 + 2 + n + 1;
		uint8_t *q;

		for (p = 0; p < QMAXDG && ptl[p] + need > cap; p++)
			;
		if (p == QMAXDG) {
			fprintf(stderr, "gen: ClientHello too large\n");
			exit(1);
		}
		if (p + 1 > npk)
			npk = p + 1;
		q = pt[p] + ptl[p];
		if (rn(2))
			*q++ = 0x01;	/* PING */
		*q++ = 0x06;
		q += varint2(q, a);
		q += varint2(q, n);
		memcpy(q, ch + a, n);
		q += n;
		ptl[p] = (size_t)(q - pt[p]);
	}
	for (p = 0; p < npk; p++)
		dglen[p] = protect_initial(dg[p], ver, dcid, scid, scl, &k,
		    (uint32_t)p, pt[p], ptl[p], 1250);
	return npk;
}

/* ---- sessions -------------------------------------------------------- */

enum stype { S_TLS, S_QUIC, S_TCP, S_MEDIA, S_DNS };

enum {
	/* TCP */
	T_SYN, T_SYNACK, T_ACK, T_HELLO, T_SFLIGHT, T_REQ, T_RESP, T_FIN1,
	T_FIN2, T_FIN3,
	/* QUIC */
	Q_INIT, Q_SINIT, Q_CHS, Q_REQ, Q_RESP,
	/* media */
	M_PKT,
	/* DNS */
	D_Q, D_R,
	X_DONE
};

struct sess {
	uint64_t	 t;
	uint8_t		 type, st, v6, pq, tls, midstream, nq, qt;
	uint32_t	 name, cli;
	struct ep	 c, s;
	uint32_t	 cseq, sseq;
	int		 exch;		/* request/response rounds left */
	int		 seg;		/* segments left in this response */
	int		 unacked;
	uint32_t	 rtt;		/* usec */
	uint32_t	 qver;
	uint8_t		 dcid[8], scid[8], scl;
	uint16_t	 dnsid;
	int		 left;		/* media packets left */
	uint8_t		 medkind;
	struct sess	*next_after;	/* DNS first, then this one */
};

static struct sess **heap;
static size_t nheap, heapcap;

static void
heap_push(struct sess *s)
{
	size_t i;

	if (nheap == heapcap) {
		heapcap = heapcap ? heapcap * 2 : 4096;
		heap = realloc(heap, heapcap * sizeof(*heap));
		if (heap == NULL) {
			perror("gen");
			exit(1);
		}
	}
	i = nheap++;
	while (i > 0 && heap[(i - 1) / 2]->t > s->t) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = s;
}

static struct sess *
heap_pop(void)
{
	struct sess *top = heap[0], *last = heap[--nheap];
	size_t i = 0;

	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < nheap && heap[l]->t < last->t)
			m = l;
		if (l + 1 < nheap && heap[l + 1]->t <
		    (m == i ? last->t : heap[m]->t))
			m = l + 1;
		if (m == i)
			break;
		heap[i] = heap[m];
		i = m;
	}
	if (nheap > 0)
		heap[i] = last;
	return top;
}

static uint8_t seen[CLIENTS / 8 + 1];

static unsigned
nclients_seen(void)
{
	unsigned n = 0, i;

	for (i = 0; i < CLIENTS; i++)
		n += (seen[i / 8] >> (i % 8)) & 1;
	return n;
}

static uint32_t
pick_name(void)
{
	if (rn(4) == 0)
		return skew((uint32_t)ncatnames);
	return (uint32_t)ncatnames + skew((uint32_t)(nnames - ncatnames));
}

/* segments of a server response: mostly small, sometimes a download */
static int
resp_segments(void)
{
	uint32_t r = rn(100);

	if (r < 75)
		return (int)rr(1, 4);
	if (r < 97)
		return (int)rr(5, 30);
	return (int)rr(30, 300);
}

static uint64_t
after(uint64_t t, uint32_t lo, uint32_t hi)
{
	return t + rr(lo, hi);
}

static struct sess *
new_session(uint64_t t)
{
	struct sess *s = calloc(1, sizeof(*s)), *d;
	uint32_t r = rn(100);

	if (s == NULL) {
		perror("gen");
		exit(1);
	}
	s->t = t;
	s->cli = rn(CLIENTS);
	seen[s->cli / 8] |= (uint8_t)(1u << (s->cli % 8));
	s->v6 = client_has_v6(s->cli) && rn(2);
	client_addr(s->cli, s->v6, s->c.a);
	s->c.port = eport();
	s->rtt = rr(5000, 60000);
	s->type = r < 45 ? S_TLS : r < 65 ? S_QUIC : r < 80 ? S_TCP :
	    r < 85 ? S_MEDIA : S_DNS;
	switch (s->type) {
	case S_TLS:
	case S_QUIC:
		s->name = pick_name();
		server_addr(s->name, s->v6, s->s.a);
		s->s.port = 443;
		s->pq = rn(3) == 0;
		s->exch = (int)rr(1, 4);
		s->cseq = (uint32_t)rnd();
		s->sseq = (uint32_t)rnd();
		if (s->type == S_TLS) {
			s->st = T_SYN;
		} else {
			s->st = Q_INIT;
			s->qver = rn(100) < 85 ? QV1 : QV2;
			rfill(s->dcid, 8);
			s->scl = rn(2) ? 8 : 0;
			rfill(s->scid, 8);
		}
		if (rn(10) < 6) {
			/* looked up first: the session waits for the answer */
			d = calloc(1, sizeof(*d));
			if (d == NULL) {
				perror("gen");
				exit(1);
			}
			*d = *s;
			d->type = S_DNS;
			d->st = D_Q;
			d->nq = (uint8_t)(rn(10) < 3 ? 2 : 1);
			d->qt = s->v6 ? 28 : 1;
			resolver_addr(d->v6, d->s.a);
			d->s.port = 53;
			d->dnsid = (uint16_t)rnd();
			d->c.port = eport();
			d->next_after = s;
			s->t = t + 2 * s->rtt;
			return d;
		}
		break;
	case S_TCP:
		s->name = (uint32_t)(nnames + rn(20000));
		server_addr(s->name, s->v6, s->s.a);
		{
			static const uint16_t ports[] = { 80, 22, 445, 8080 };

			s->s.port = ports[rn(4)];
		}
		s->exch = (int)rr(1, 5);
		s->cseq = (uint32_t)rnd();
		s->sseq = (uint32_t)rnd();
		s->midstream = rn(100) < 15;
		s->st = s->midstream ? T_REQ : T_SYN;
		break;
	case S_MEDIA:
		s->name = (uint32_t)(nnames + 20000 + rn(5000));
		server_addr(s->name, s->v6, s->s.a);
		s->medkind = rn(10) < 6;	/* 1: RTP, 0: WireGuard */
		s->s.port = s->medkind ? 3478 : 51820;
		if (!s->medkind)
			s->c.port = 51820;
		s->left = (int)rr(50, 400);
		s->st = M_PKT;
		break;
	case S_DNS:
		s->name = pick_name();
		resolver_addr(s->v6, s->s.a);
		s->s.port = 53;
		s->nq = (uint8_t)rr(1, 3);
		s->qt = rn(3) == 0 ? 28 : 1;
		s->dnsid = (uint16_t)rnd();
		s->st = D_Q;
		break;
	}
	return s;
}

static uint8_t scratch[8192];

/* One TLS application-data record of exactly n bytes (n >= 6). */
static void
app_record(uint8_t *p, size_t n)
{
	memcpy(p + 5, rbytes(n - 5), n - 5);
	p[0] = 0x17;
	be16(p + 1, 0x0303);
	be16(p + 3, (uint16_t)(n - 5));
}

/* A TLS 1.3 ServerHello record and a ChangeCipherSpec; returns bytes. */
static size_t
server_hello(uint8_t *p)
{
	size_t o = 0;

	p[o++] = 0x16;
	be16(p + o, 0x0303);
	be16(p + o + 2, 122);
	o += 4;
	p[o++] = 2;
	p[o++] = 0;
	be16(p + o, 118);
	o += 2;
	be16(p + o, 0x0303);
	o += 2;
	rfill(p + o, 32);
	o += 32;
	p[o++] = 32;
	rfill(p + o, 32);
	o += 32;
	be16(p + o, 0x1301);
	o += 2;
	p[o++] = 0;
	be16(p + o, 46);
	o += 2;
	be16(p + o, 0x002b);
	be16(p + o + 2, 2);
	be16(p + o + 4, 0x0304);
	o += 6;
	be16(p + o, 0x0033);
	be16(p + o + 2, 36);
	be16(p + o + 4, 0x001d);
	be16(p + o + 6, 32);
	o += 8;
	rfill(p + o, 32);
	o += 32;
	memcpy(p + o, "\x14\x03\x03\x00\x01\x01", 6);
	return o + 6;
}

/* One step of a TCP session (TLS or plain); returns 0 when finished. */
static int
step_tcp(struct sess *s)
{
	int v6 = s->v6;
	size_t n;

	switch (s->st) {
	case T_SYN:
		emit_tcp(s->t, v6, 1, &s->c, &s->s, s->cseq++, 0, F_SYN,
		    NULL, 0);
		s->st = T_SYNACK;
		s->t += s->rtt;
		return 1;
	case T_SYNACK:
		emit_tcp(s->t, v6, 0, &s->s, &s->c, s->sseq++, s->cseq,
		    F_SYN | F_ACK, NULL, 0);
		s->st = T_ACK;
		s->t = after(s->t, 50, 400);
		return 1;
	case T_ACK:
		emit_tcp(s->t, v6, 1, &s->c, &s->s, s->cseq, s->sseq, F_ACK,
		    NULL, 0);
		s->st = s->type == S_TLS ? T_HELLO : T_REQ;
		s->t = after(s->t, 20, 200);
		return 1;
	case T_HELLO:
		/* one record; a post-quantum one spans two segments */
		n = client_hello(scratch + 5, names[s->name], s->pq, 0);
		scratch[0] = 0x16;
		be16(scratch + 1, 0x0301);
		be16(scratch + 3, (uint16_t)n);
		n += 5;
		if (n > MSS - (v6 ? 20u : 0u)) {
			size_t mss = MSS - (v6 ? 20 : 0);

			emit_tcp(s->t, v6, 1, &s->c, &s->s, s->cseq, s->sseq,
			    F_ACK, scratch, mss);
			emit_tcp(s->t + 15, v6, 1, &s->c, &s->s,
			    s->cseq + (uint32_t)mss, s->sseq, F_ACK | F_PSH,
			    scratch + mss, n - mss);
		} else {
			emit_tcp(s->t, v6, 1, &s->c, &s->s, s->cseq, s->sseq,
			    F_ACK | F_PSH, scratch, n);
		}
		s->cseq += (uint32_t)n;
		s->st = T_SFLIGHT;
		s->seg = (int)rr(2, 4);
		s->unacked = 0;
		s->t += s->rtt;
		return 1;
	case T_SFLIGHT:
		/* ServerHello, ChangeCipherSpec, then "encrypted" records */
		if (s->seg > 0) {
			size_t mss = MSS - (v6 ? 20 : 0);

			n = 0;
			if (s->st == T_SFLIGHT && s->unacked == 0) {
				n = server_hello(scratch);
				s->unacked = 1;
			}
			app_record(scratch + n, mss - n);
			emit_tcp(s->t, v6, 0, &s->s, &s->c, s->sseq, s->cseq,
			    F_ACK, scratch, mss);
			s->sseq += (uint32_t)mss;
			s->seg--;
			s->t = after(s->t, 40, 200);
			return 1;
		}
		emit_tcp(s->t, v6, 1, &s->c, &s->s, s->cseq, s->sseq, F_ACK,
		    NULL, 0);
		s->st = T_REQ;
		s->t = after(s->t, 200, 3000);
		return 1;
	case T_REQ:
		n = rr(60, 900);
		memcpy(scratch, rbytes(n), n);
		if (s->type == S_TLS)
			app_record(scratch, n);
		else if (s->s.port == 80 || s->s.port == 8080)
			memcpy(scratch, "GET /", 5);
		emit_tcp(s->t, v6, 1, &s->c, &s->s, s->cseq, s->sseq,
		    F_ACK | F_PSH, scratch, n);
		s->cseq += (uint32_t)n;
		s->seg = resp_segments();
		s->unacked = 0;
		s->st = T_RESP;
		s->t += s->rtt;
		return 1;
	case T_RESP:
		if (s->seg > 0) {
			size_t mss = MSS - (v6 ? 20 : 0);

			n = s->seg == 1 ? rr(100, (uint32_t)mss) : mss;
			if (s->type == S_TLS)
				app_record(scratch, n);
			emit_tcp(s->t, v6, 0, &s->s, &s->c, s->sseq, s->cseq,
			    F_ACK | (s->seg == 1 ? F_PSH : 0),
			    s->type == S_TLS ? scratch : NULL, n);
			s->sseq += (uint32_t)n;
			s->seg--;
			if (++s->unacked == 2 || s->seg == 0) {
				emit_tcp(s->t + rr(20, 300), v6, 1, &s->c,
				    &s->s, s->cseq, s->sseq, F_ACK, NULL, 0);
				s->unacked = 0;
			}
			s->t = after(s->t, 30, 250);
			return 1;
		}
		if (--s->exch > 0) {
			s->st = T_REQ;
			s->t = after(s->t, 20000, 4000000);
			return 1;
		}
		s->st = T_FIN1;
		s->t = after(s->t, 1000, 500000);
		return 1;
	case T_FIN1:
		emit_tcp(s->t, v6, 1, &s->c, &s->s, s->cseq++, s->sseq,
		    F_FIN | F_ACK, NULL, 0);
		s->st = T_FIN2;
		s->t += s->rtt;
		return 1;
	case T_FIN2:
		emit_tcp(s->t, v6, 0, &s->s, &s->c, s->sseq++, s->cseq,
		    F_FIN | F_ACK, NULL, 0);
		s->st = T_FIN3;
		s->t = after(s->t, 20, 200);
		return 1;
	case T_FIN3:
		emit_tcp(s->t, v6, 1, &s->c, &s->s, s->cseq, s->sseq, F_ACK,
		    NULL, 0);
		return 0;
	}
	return 0;
}

/* a long-header packet nobody on the path can read (Handshake filler) */
static size_t
quic_opaque_long(uint8_t *o, uint32_t ver, const uint8_t *dcid, size_t dl,
    const uint8_t *scid, size_t sl, size_t total)
{
	size_t h = 0;

	o[h++] = (uint8_t)(0xc0 | ((ver == QV2 ? 3 : 2) << 4) | 1);
	be32(o + h, ver);
	h += 4;
	o[h++] = (uint8_t)dl;
	memcpy(o + h, dcid, dl);
	h += dl;
	o[h++] = (uint8_t)sl;
	memcpy(o + h, scid, sl);
	h += sl;
	h += varint2(o + h, total - h - 2);
	memcpy(o + h, rbytes(total - h), total - h);
	return total;
}

static size_t
quic_short(uint8_t *o, const uint8_t *dcid, size_t dl, size_t total)
{
	memcpy(o + 1 + dl, rbytes(total - 1 - dl), total - 1 - dl);
	o[0] = (uint8_t)(0x40 | rn(64));
	memcpy(o + 1, dcid, dl);
	return total;
}

static int
step_quic(struct sess *s)
{
	static const uint8_t srv_cid[8] = { 0x5e, 0x71, 0x0c, 0x1d, 0, 0, 0, 1 };
	uint8_t dg[QMAXDG][1300];
	size_t dl[QMAXDG], n;
	int k, i, rev, v6 = s->v6;

	switch (s->st) {
	case Q_INIT:
		n = client_hello(scratch, names[s->name], s->pq, 1);
		k = quic_flight(s->qver, s->dcid, s->scid, s->scl, scratch, n,
		    dg, dl);
		rev = k > 1 && rn(4) == 0;	/* sent in reverse order */
		for (i = 0; i < k; i++) {
			int j = rev ? k - 1 - i : i;

			emit_udp(s->t + 40 * (uint64_t)i, v6, 1, &s->c, &s->s,
			    dg[j], dl[j]);
		}
		s->st = Q_SINIT;
		s->seg = (int)rr(2, 4);
		s->t += s->rtt;
		return 1;
	case Q_SINIT:
		if (s->seg > 0) {
			n = quic_opaque_long(scratch, s->qver, s->scid, s->scl,
			    srv_cid, 8, rr(1100, 1250));
			emit_udp(s->t, v6, 0, &s->s, &s->c, scratch, n);
			s->seg--;
			s->t = after(s->t, 50, 300);
			return 1;
		}
		n = quic_opaque_long(scratch, s->qver, srv_cid, 8, s->scid,
		    s->scl, rr(60, 120));
		emit_udp(s->t, v6, 1, &s->c, &s->s, scratch, n);
		s->st = Q_REQ;
		s->t = after(s->t, 1000, 20000);
		return 1;
	case Q_REQ:
		n = quic_short(scratch, srv_cid, 8, rr(40, 1200));
		emit_udp(s->t, v6, 1, &s->c, &s->s, scratch, n);
		s->seg = resp_segments();
		s->unacked = 0;
		s->st = Q_RESP;
		s->t += s->rtt;
		return 1;
	case Q_RESP:
		if (s->seg > 0) {
			n = quic_short(scratch, s->scid, s->scl,
			    s->seg == 1 ? rr(60, 1350) : 1350);
			emit_udp(s->t, v6, 0, &s->s, &s->c, scratch, n);
			s->seg--;
			if (++s->unacked == 3 || s->seg == 0) {
				n = quic_short(scratch, srv_cid, 8, rr(30, 50));
				emit_udp(s->t + rr(20, 300), v6, 1, &s->c,
				    &s->s, scratch, n);
				s->unacked = 0;
			}
			s->t = after(s->t, 30, 250);
			return 1;
		}
		if (--s->exch > 0) {
			s->st = Q_REQ;
			s->t = after(s->t, 20000, 4000000);
			return 1;
		}
		return 0;
	}
	return 0;
}

static int
step_media(struct sess *s)
{
	size_t n = s->medkind ? rr(160, 1100) : rr(96, 1400);
	int up = rn(2);

	memcpy(scratch, rbytes(n), n);
	if (s->medkind) {
		scratch[0] = 0x80;
		scratch[1] = up ? 111 : 96;
	} else {
		scratch[0] = 4;
		scratch[1] = scratch[2] = scratch[3] = 0;
	}
	if (up)
		emit_udp(s->t, s->v6, 1, &s->c, &s->s, scratch, n);
	else
		emit_udp(s->t, s->v6, 0, &s->s, &s->c, scratch, n);
	s->t = after(s->t, 2000, 20000);
	return --s->left > 0;
}

static int
step_dns(struct sess *s)
{
	size_t n;
	int nx = s->next_after == NULL && s->name >= ncatnames &&
	    rn(50) == 0;

	if (s->st == D_Q) {
		n = dns_msg(scratch, s->dnsid, names[s->name], s->qt, 0, 0, 0);
		emit_udp(s->t, s->v6, 1, &s->c, &s->s, scratch, n);
		s->st = D_R;
		s->t = after(s->t, 300, 30000);
		return 1;
	}
	n = dns_msg(scratch, s->dnsid, names[s->name], s->qt, 1, nx, s->name);
	emit_udp(s->t, s->v6, 0, &s->s, &s->c, scratch, n);
	if (--s->nq > 0) {
		s->dnsid++;
		s->qt = s->qt == 1 ? 28 : 1;
		s->st = D_Q;
		s->t = after(s->t, 100, 2000);
		if (s->next_after == NULL) {
			s->c.port = eport();
			s->name = pick_name();
		}
		return 1;
	}
	return 0;
}

/* What the packets of the current step are, for the summary. */
enum kind { K_TCPCTL, K_TCPDATA, K_HELLO, K_QINIT, K_QUIC, K_MEDIA, K_DNS,
	K_N };
static const char *kind_names[K_N] = { "TCP handshake/teardown",
	"TCP data and ACKs", "TLS ClientHello segments", "QUIC client Initials",
	"other QUIC", "UDP media (RTP, WireGuard)", "DNS" };
static uint64_t kind_count[K_N];
static enum kind cur_kind;

static int
step(struct sess *s)
{
	switch (s->type) {
	case S_TLS:
	case S_TCP:
		cur_kind = s->st == T_HELLO ? K_HELLO : (s->st <= T_ACK ||
		    s->st >= T_FIN1) ? K_TCPCTL : K_TCPDATA;
		break;
	case S_QUIC:
		cur_kind = s->st == Q_INIT ? K_QINIT : K_QUIC;
		break;
	case S_MEDIA:
		cur_kind = K_MEDIA;
		break;
	default:
		cur_kind = K_DNS;
	}
	switch (s->type) {
	case S_TLS:
	case S_TCP:
		return step_tcp(s);
	case S_QUIC:
		return step_quic(s);
	case S_MEDIA:
		return step_media(s);
	case S_DNS:
		return step_dns(s);
	}
	return 0;
}

static void
count_kind(void)
{
	kind_count[cur_kind]++;
}

/*
 * -w: the relative session rate at t seconds after T0 (Monday 09:00
 * UTC), by hour of the day and day of the week: 1 in working hours,
 * mornings and evenings in between, little at night and at weekends.
 */
static double
rhythm(double t)
{
	static const double hour[24] = {
		.04, .03, .03, .03, .04, .08, .2, .5, .85, 1, 1, .95,
		.8, .95, 1, 1, .9, .7, .45, .3, .2, .15, .1, .06
	};
	uint64_t s = T0 + (uint64_t)t;
	unsigned h = (unsigned)(s / 3600 % 24);
	unsigned wd = (unsigned)((s / 86400 + 3) % 7);	/* 0 = Monday */

	return hour[h] * (wd >= 5 ? .15 : 1);
}

static void
traffic(const char *path, uint64_t n, double pps, double days)
{
	/* ~54 packets a second per session/s: sessions a second for pps */
	double lambda = pps / 54.0, next = 0, peak = 0;
	uint64_t made = 0;
	int i;

	if (days > 0) {
		double sum = 0, t;

		/* the mean rhythm over the span sets the peak rate */
		for (t = 0; t < days * 86400; t += 600)
			sum += rhythm(t) * 600;
		peak = (double)n / 54.0 / sum;
	}

	pcap_open(path);
	count_hook = count_kind;
	while (npackets < n) {
		uint64_t tn = (uint64_t)next;

		if (nheap == 0 || tn <= heap[0]->t) {
			heap_push(new_session(tn));
			made++;
			if (days > 0) {
				/* thinning: a candidate kept at the hour's rate */
				do
					next += -log(1.0 - ru()) / peak * 1e6;
				while (ru() > rhythm(next / 1e6));
			} else
				next += -log(1.0 - ru()) / lambda * 1e6;
			continue;
		}
		{
			struct sess *s = heap_pop();

			if (step(s)) {
				heap_push(s);
			} else {
				if (s->next_after != NULL) {
					s->next_after->t = s->t + 1000;
					heap_push(s->next_after);
				}
				free(s);
			}
		}
	}
	pcap_close();
	fprintf(stderr, "gen: %llu packets, %llu bytes, %.1f s, %llu sessions, "
	    "%u clients\n", (unsigned long long)npackets,
	    (unsigned long long)nbytes, (double)last_ts / 1e6,
	    (unsigned long long)made, nclients_seen());
	for (i = 0; i < K_N; i++)
		fprintf(stderr, "gen:   %5.1f%%  %s\n", 100.0 *
		    (double)kind_count[i] / (double)npackets, kind_names[i]);
}

/* ---- floods ---------------------------------------------------------- */

/* n SYNs, each a new 5-tuple, none answered: half-open flows. */
static void
synflood(const char *path, uint64_t n)
{
	uint64_t i;
	struct ep c, s;

	pcap_open(path);
	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	for (i = 0; i < n; i++) {
		uint32_t cl = rn(CLIENTS);

		client_addr(cl, 0, c.a);
		c.port = (uint16_t)(1024 + (i / CLIENTS) % 64000);
		server_addr(rn(60000), 0, s.a);
		s.port = 443;
		emit_tcp(i * 10, 0, 1, &c, &s, (uint32_t)rnd(), 0, F_SYN,
		    NULL, 0);
	}
	pcap_close();
	fprintf(stderr, "gen: %llu SYNs\n", (unsigned long long)npackets);
}

/*
 * n queries for distinct random names, each answered NXDOMAIN; one in
 * ten a random name under a catalog domain (a "water torture" attack on
 * an AI service's zone).
 */
static void
dnsflood(const char *path, uint64_t n)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	uint64_t i;
	struct ep c, s;
	char name[300];
	uint8_t msg[600];

	pcap_open(path);
	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	resolver_addr(0, s.a);
	s.port = 53;
	for (i = 0; i < n; i++) {
		size_t l = 0, k, len = rr(8, 20), m;
		uint64_t x = i;

		client_addr(rn(CLIENTS), 0, c.a);
		c.port = eport();
		/* the counter in base 36 makes every name distinct */
		do {
			name[l++] = alpha[x % 36];
			x /= 36;
		} while (x > 0);
		for (k = 0; k < len; k++)
			name[l++] = alpha[rn(36)];
		name[l++] = '.';
		if (rn(10) == 0) {
			const struct cname *e = &centries[rn((uint32_t)ncentries)];

			snprintf(name + l, sizeof(name) - l, "%s", e->s);
		} else {
			snprintf(name + l, sizeof(name) - l, "flood%u.example",
			    rn(1000));
		}
		m = dns_msg(msg, (uint16_t)i, name, 1, 0, 0, 0);
		emit_udp(i * 10, 0, 1, &c, &s, msg, m);
		m = dns_msg(msg, (uint16_t)i, name, 1, 1, 1, 0);
		emit_udp(i * 10 + 5, 0, 0, &s, &c, msg, m);
	}
	pcap_close();
	fprintf(stderr, "gen: %llu DNS names, %llu packets\n",
	    (unsigned long long)n, (unsigned long long)npackets);
}

/* ---- catalog and configuration ---------------------------------------- */

static void
write_str_list(FILE *f, const char *key, int svc_mod, size_t nsvc, int exact)
{
	size_t i;
	int first = 1;

	fprintf(f, "    %s = [", key);
	for (i = 0; i < ncentries; i++) {
		const struct cname *e = &centries[i];

		if (e->exact != exact || (size_t)e->svc % nsvc != (size_t)svc_mod)
			continue;
		fprintf(f, "%s\"%s\"", first ? " " : ", ", e->s);
		first = 0;
	}
	fprintf(f, " ];\n");
}

/*
 * n >= 300: the 300 services of the traffic, then services whose names
 * never appear.  n < 300: n services sharing out the same names, so the
 * traffic matches exactly as much as with 300.
 */
static void
write_catalog(const char *path, size_t n)
{
	FILE *f = fopen(path, "w");
	size_t i;

	if (f == NULL) {
		fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fprintf(f, "# Benchmark catalog: %zu services (written by bench/gen)\n"
	    "version = 1;\nservices = (\n", n);
	for (i = 0; i < n; i++) {
		char id[48];

		if (n < BASE_SERVICES)
			snprintf(id, sizeof(id), "group-%zu", i);
		else if (i < BASE_SERVICES)
			memcpy(id, svc_ids[i], sizeof(id));
		else
			snprintf(id, sizeof(id), "bench-%zu", i);
		if (n >= BASE_SERVICES && i < nreal) {
			/* a real service: as the shipped catalog has it */
			const char *nm = "?", *ve = "?", *ca = "other",
			    *ju = "other";

			config_setting_lookup_string(svc_src[i], "name", &nm);
			config_setting_lookup_string(svc_src[i], "vendor", &ve);
			config_setting_lookup_string(svc_src[i], "category",
			    &ca);
			config_setting_lookup_string(svc_src[i],
			    "jurisdiction", &ju);
			fprintf(f, "  { id = \"%s\"; name = \"%s\"; vendor = "
			    "\"%s\"; category = \"%s\"; jurisdiction = "
			    "\"%s\";\n", id, nm, ve, ca, ju);
		} else {
			fprintf(f, "  { id = \"%s\"; name = \"Service %zu\"; "
			    "vendor = \"Bench\"; category = \"other\"; "
			    "jurisdiction = \"other\";\n", id, i);
		}
		if (n < BASE_SERVICES || i < BASE_SERVICES) {
			write_str_list(f, "domains", (int)i,
			    n < BASE_SERVICES ? n : BASE_SERVICES, 0);
			write_str_list(f, "hosts", (int)i,
			    n < BASE_SERVICES ? n : BASE_SERVICES, 1);
		} else {
			fprintf(f, "    domains = [ \"bench%zu-ai.example\" ];\n",
			    i);
		}
		fprintf(f, "  }%s\n", i + 1 < n ? "," : "");
	}
	fprintf(f, ");\n");
	if (fclose(f) != 0) {
		perror("gen");
		exit(1);
	}
}

static void
write_config(const char *path, int d, const char *cat, const char *db)
{
	FILE *f = fopen(path, "w");
	int i;

	if (f == NULL || (d != 10 && d != 100 && d != 1000)) {
		fprintf(stderr, "gen: config: %s\n", f == NULL ? strerror(errno) :
		    "departments must be 10, 100 or 1000");
		exit(1);
	}
	fprintf(f, "# Benchmark configuration: %d departments, each an IPv4 "
	    "and an IPv6 prefix\n# (written by bench/gen); every other "
	    "setting is the default.\naicensus = {\n"
	    "  database = \"%s\";\n  state_dir = \"state\";\n"
	    "  catalog = \"%s\";\n  user = \"\";\n  timezone = \"UTC\";\n"
	    "  departments = (\n", d, db, cat);
	for (i = 0; i < d; i++) {
		char v4[32], v6[48];

		if (d == 10) {
			snprintf(v4, sizeof(v4), "10.%d.0.0/16", i);
			snprintf(v6, sizeof(v6), "2001:db8:%x::/48", i);
		} else if (d == 100) {
			snprintf(v4, sizeof(v4), "10.%d.%d.0/20", i / 10,
			    16 * (i % 10));
			snprintf(v6, sizeof(v6), "2001:db8:%x:%x::/60", i / 10,
			    16 * (i % 10));
		} else {
			int T = i / 100, g = i / 10 % 10, k = i % 10;

			snprintf(v4, sizeof(v4), "10.%d.%d.0/24", T, 16 * g + k);
			snprintf(v6, sizeof(v6), "2001:db8:%x:%x::/64", T,
			    16 * g + k);
		}
		fprintf(f, "    { name = \"dept%04d\"; prefixes = [ \"%s\", "
		    "\"%s\" ]; }%s\n", i, v4, v6, i + 1 < d ? "," : "");
	}
	fprintf(f, "  );\n};\n");
	if (fclose(f) != 0) {
		perror("gen");
		exit(1);
	}
}

/* ---- main -------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: gen traffic  -c SRC_CATALOG [-s SEED] [-n PACKETS] [-p PPS]\n"
	    "                    [-w DAYS] -o FILE\n"
	    "       gen catalog  -c SRC_CATALOG -S SERVICES -o FILE\n"
	    "       gen config   -d 10|100|1000 -k CATALOG -b DATABASE -o FILE\n"
	    "       gen synflood [-s SEED] [-n SYNS] -o FILE\n"
	    "       gen dnsflood -c SRC_CATALOG [-s SEED] [-n NAMES] -o FILE\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *cmd, *o = NULL, *src = NULL, *cat = NULL, *db = NULL;
	uint64_t seed = 1, n = 2000000;
	double pps = 20000, days = 0;
	size_t services = BASE_SERVICES, i;
	int c, depts = 100;

	if (argc < 2)
		usage();
	cmd = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "b:c:d:k:n:o:p:s:S:w:")) != -1) {
		switch (c) {
		case 'b': db = optarg; break;
		case 'c': src = optarg; break;
		case 'd': depts = atoi(optarg); break;
		case 'k': cat = optarg; break;
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'o': o = optarg; break;
		case 'p': pps = atof(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'S': services = strtoul(optarg, NULL, 10); break;
		case 'w': days = atof(optarg); break;
		default: usage();
		}
	}
	if (o == NULL)
		usage();
	seed_rng(seed);
	for (i = 0; i < POOL; i += 8) {
		uint64_t r = rnd();

		memcpy(pool + i, &r, 8);
	}
	if (strcmp(cmd, "config") == 0) {
		if (cat == NULL || db == NULL)
			usage();
		write_config(o, depts, cat, db);
		return 0;
	}
	if (strcmp(cmd, "synflood") == 0) {
		synflood(o, n);
		return 0;
	}
	if (src == NULL)
		usage();
	load_source(src);
	if (strcmp(cmd, "catalog") == 0) {
		if (services < 1)
			usage();
		write_catalog(o, services);
	} else if (strcmp(cmd, "traffic") == 0) {
		make_names();
		crypto_init();
		traffic(o, n, pps, days);
	} else if (strcmp(cmd, "dnsflood") == 0) {
		dnsflood(o, n);
	} else {
		usage();
	}
	return 0;
}
