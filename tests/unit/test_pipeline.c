/*
 * test_pipeline.c - the packet path as a whole (aggregate/pipeline.h):
 * hand-built Ethernet frames in, aggregates (aggregate/agg.h) out.
 *
 * The parsers, the flow table and the catalog have their own tests; this
 * one holds the policy that joins them: who the client is, which
 * department and service a detection lands in, what counts once, what
 * is ignored and what only shows as a blind-spot counter.  A DNS query
 * and its answer, then a TLS ClientHello to the answered address; the
 * QUIC Initial of RFC 9001 A.2; the same query from an ignored resolver
 * and from an address outside every department; the same through an
 * IP-in-IP tunnel, named by the inner or the outer addresses.  Then DNS
 * over TCP read both ways: answers whole, split, two to a stream, out of
 * order, with lying length prefixes, an NXDOMAIN; each answer proven by
 * the Encrypted-ClientHello connection it lets the sensor attribute.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aggregate/agg.h"
#include "aggregate/pipeline.h"
#include "aggregate/sketch.h"
#include "attribute/weekkey.h"
#include "common/config.h"
#include "common/period.h"
#include "common/encap.h"
#include "decode/flow.h"
#include "detect/catalog.h"
#include "quic_vectors.h"
#include "t.h"
#include "detect/dnscache.h"

#define DLT_EN10MB	1
/* Monday 2026-11-16 10:00:00 UTC (2026-W47), in microseconds */
#define T0		(1794823200ull * 1000000)
#define HOUR0		1794823200LL

static const uint8_t fin1[4] = { 10, 10, 0, 5 };	/* Finance */
static const uint8_t fin2[4] = { 10, 10, 0, 6 };	/* Finance */
static const uint8_t resolver[4] = { 10, 0, 0, 53 };	/* ignored */
static const uint8_t stranger[4] = { 192, 168, 77, 9 };	/* unassigned */
static const uint8_t dnssrv[4] = { 198, 51, 100, 53 };
static const uint8_t chatsrv[4] = { 203, 0, 113, 10 };
static const uint8_t quicsrv[4] = { 203, 0, 113, 20 };

static char dir[64];
static struct config *cfg;
static struct catalog *cat;
static struct weekkey *dk;
static struct agg *agg;
static struct pipeline *P;
static uint64_t frames, wirebytes;

/* What the inspect callback saw, one line per detection. */
static char seen[4096];

static void
on_detection(void *arg, const struct detection *d)
{
	size_t n = strlen(seen);

	(void)arg;
	snprintf(seen + n, sizeof(seen) - n, "%s %s %s %s %s\n", d->what,
	    d->name, d->service ? d->service : "-",
	    d->department ? d->department : "-", d->outcome);
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/*
 * One Ethernet/IPv4 frame src:sport -> dst:dport around payload; l4 is
 * 6 (a 20-byte TCP header with seq and flags) or 17.  Returns its
 * length.
 */
static size_t
frame(uint8_t *out, int l4, const uint8_t *src, unsigned sport,
    const uint8_t *dst, unsigned dport, uint32_t seq, uint8_t flags,
    const uint8_t *pl, size_t plen)
{
	size_t hl = l4 == 6 ? 20 : 8, n = 14 + 20 + hl;
	uint8_t *ip = out + 14, *t = out + 34;
	uint32_t sum = 0;
	int i;

	memset(out, 0, n);
	memcpy(out, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	put16(out + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (unsigned)(20 + hl + plen));
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = (uint8_t)l4;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, ~sum & 0xffff);
	put16(t, sport);
	put16(t + 2, dport);
	if (l4 == 6) {
		put32(t + 4, seq);
		put32(t + 8, 1);
		t[12] = 5 << 4;
		t[13] = flags;
		put16(t + 14, 64240);
	} else
		put16(t + 4, (unsigned)(hl + plen));
	if (plen > 0)			/* a SYN has no payload (NULL) */
		memcpy(out + n, pl, plen);
	return n + plen;
}

static void
feed(uint64_t ts, const uint8_t *f, size_t len)
{
	pipeline_packet(P, DLT_EN10MB, ts, f, len, len);
	frames++;
	wirebytes += len;
}

/* A DNS message for chatgpt.com type A: a query, or its answer with addr. */
static size_t
dns_msg(uint8_t *m, uint16_t id, const uint8_t *answer)
{
	static const uint8_t q[] = "\x07" "chatgpt" "\x03" "com";
	size_t n = 12;

	memset(m, 0, 12);
	put16(m, id);
	put16(m + 2, answer ? 0x8180 : 0x0100);
	put16(m + 4, 1);
	put16(m + 6, answer ? 1 : 0);
	memcpy(m + n, q, sizeof(q));		/* with the root's 0 */
	n += sizeof(q);
	put16(m + n, 1);			/* A */
	put16(m + n + 2, 1);			/* IN */
	n += 4;
	if (answer != NULL) {
		put16(m + n, 0xc00c);		/* the question's name */
		put16(m + n + 2, 1);
		put16(m + n + 4, 1);
		put32(m + n + 6, 300);
		put16(m + n + 10, 4);
		memcpy(m + n + 12, answer, 4);
		n += 16;
	}
	return n;
}

/*
 * A TLS record holding a ClientHello whose only extension is the SNI, or
 * with ech, the SNI and an encrypted_client_hello (0xfe0d) extension.
 */
static size_t
hello(uint8_t *r, const char *sni, int ech)
{
	size_t nl = strlen(sni), ext = 9 + nl + (ech ? 12 : 0),
	    hs = 2 + 32 + 1 + 4 + 2 + 2 + ext, i;
	uint8_t *h = r + 5;

	r[0] = 0x16;
	put16(r + 1, 0x0301);
	put16(r + 3, (unsigned)(4 + hs));
	h[0] = 1;
	h[1] = 0;
	put16(h + 2, (unsigned)hs);
	h += 4;
	put16(h, 0x0303);
	for (i = 0; i < 32; i++)
		h[2 + i] = (uint8_t)(i * 7 + 1);
	h += 34;
	*h++ = 0;				/* no session id */
	put16(h, 2);
	put16(h + 2, 0x1301);
	h += 4;
	*h++ = 1;
	*h++ = 0;				/* null compression */
	put16(h, (unsigned)ext);
	put16(h + 2, 0);			/* server_name */
	put16(h + 4, (unsigned)(5 + nl));
	put16(h + 6, (unsigned)(3 + nl));
	h[8] = 0;				/* host_name */
	put16(h + 9, (unsigned)nl);
	memcpy(h + 11, sni, nl);
	if (ech) {
		h += 11 + nl;
		put16(h, 0xfe0d);
		put16(h + 2, 8);
		memcpy(h + 4, "\x00\x00\x01\x00\x01\x2a\x00\x00", 8);
	}
	return 5 + 4 + hs;
}

static size_t
client_hello(uint8_t *r, const char *sni)
{
	return hello(r, sni, 0);
}

static int
occurrences(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

static struct agg_cell *
cell_of(int dept, const char *sid)
{
	struct agg_cell *c;
	int svc = catalog_find_id(cat, sid);

	for (c = agg_cells(agg); c != NULL; c = c->all)
		if (c->dept == dept && c->svc == svc)
			return c;
	return NULL;
}

static const struct agg_dev *
dev_of(int kind, int dept, const char *sid)
{
	const struct agg_dev *d;
	int svc = catalog_find_id(cat, sid);

	for (d = agg_devs(agg); d != NULL; d = d->all)
		if (d->kind == kind && d->dept == dept && d->svc == svc)
			return d;
	return NULL;
}

static size_t
ncells(void)
{
	const struct agg_cell *c;
	size_t n = 0;

	for (c = agg_cells(agg); c != NULL; c = c->all)
		n++;
	return n;
}

static int
write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int
setup(void)
{
	static const char conf[] =
	    "aicensus: {\n"
	    "  catalog = \"catalog.conf\";\n"
	    "  database = \"/nonexistent/not-used.db\";\n"
	    "  user = \"\";\n"
	    "  timezone = \"UTC\";\n"
	    "  ignore = [\"10.0.0.53\"];\n"
	    "  departments = (\n"
	    "    { name = \"Finance\"; prefixes = [\"10.10.0.0/16\"]; },\n"
	    "    { name = \"Sales\"; prefixes = [\"10.30.0.0/16\"]; }\n"
	    "  );\n"
	    "};\n";
	static const char catalog[] =
	    "version = 1;\nservices = (\n"
	    " { id = \"openai-chatgpt\"; name = \"ChatGPT\"; vendor = \"O\";"
	    " category = \"chat\"; jurisdiction = \"US\";"
	    " domains = [ \"chatgpt.com\" ]; },\n"
	    " { id = \"example\"; name = \"Example\"; vendor = \"E\";"
	    " category = \"other\"; jurisdiction = \"US\";"
	    " domains = [ \"example.com\" ]; }\n);\n";
	struct cfgerr e;
	char err[256], path[128];

	snprintf(dir, sizeof(dir), "/tmp/aicensus-test-pipeline-XXXXXX");
	if (mkdtemp(dir) == NULL || write_file("aicensus.conf", conf) != 0 ||
	    write_file("catalog.conf", catalog) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/aicensus.conf", dir);
	memset(&e, 0, sizeof(e));
	if ((cfg = config_load(path, &e)) == NULL ||
	    (cat = catalog_load(cfg->catalog, &e)) == NULL) {
		fprintf(stderr, "setup: %s\n", e.msg);
		return -1;
	}
	if (period_set_tz("UTC") != 0 ||
	    (dk = weekkey_open(NULL, err, sizeof(err))) == NULL ||
	    (agg = agg_new(4096, (size_t)64 << 20)) == NULL ||
	    (P = pipeline_new(cfg, cat, agg, dk, err, sizeof(err))) == NULL) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	pipeline_set_inspect(P, on_detection, NULL);
	return 0;
}

static void
teardown(void)
{
	char path[128];

	pipeline_free(P);
	agg_free(agg);
	weekkey_close(dk);
	catalog_free(cat);
	config_free(cfg);
	snprintf(path, sizeof(path), "%s/aicensus.conf", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/catalog.conf", dir);
	unlink(path);
	rmdir(dir);
}

/*
 * A Finance device looks chatgpt.com up and connects to the answer over
 * TLS: one lookup, one connection, its bytes both ways, one device.
 */
static void
test_dns_then_tls(void)
{
	uint8_t m[512], f[1600], ch[512];
	size_t n, chl;
	struct agg_cell *c;
	const struct agg_dev *d;
	int fin = 0;

	n = dns_msg(m, 0x1234, NULL);
	feed(T0, f, frame(f, 17, fin1, 40000, dnssrv, 53, 0, 0, m, n));
	n = dns_msg(m, 0x1234, chatsrv);
	feed(T0 + 20000, f, frame(f, 17, dnssrv, 53, fin1, 40000, 0, 0, m, n));

	c = cell_of(fin, "openai-chatgpt");
	T_CHECK(c != NULL);
	if (c == NULL)
		return;
	T_EQ_INT(c->c[C_DNS], 1);		/* the query, not the answer */
	T_EQ_INT(c->c[C_NXDOMAIN], 0);
	T_EQ_INT(c->c[C_TLS], 0);
	T_EQ_INT(c->per.hour, HOUR0);

	/* SYN, ClientHello, the server's first 100 bytes, the hello again */
	feed(T0 + 50000, f, frame(f, 6, fin1, 40001, chatsrv, 443, 1000,
	    0x02, NULL, 0));
	chl = client_hello(ch, "chatgpt.com");
	feed(T0 + 60000, f, frame(f, 6, fin1, 40001, chatsrv, 443, 1001,
	    0x18, ch, chl));
	memset(m, 0xab, 100);
	feed(T0 + 70000, f, frame(f, 6, chatsrv, 443, fin1, 40001, 5001,
	    0x18, m, 100));
	feed(T0 + 80000, f, frame(f, 6, fin1, 40001, chatsrv, 443, 1001,
	    0x18, ch, chl));

	c = cell_of(fin, "openai-chatgpt");
	T_CHECK(c != NULL);
	if (c == NULL)
		return;
	T_EQ_INT(c->c[C_TLS], 1);		/* the retransmission is not new */
	T_EQ_INT(c->c[C_QUIC], 0);
	T_EQ_INT(c->c[C_DNS], 1);
	T_EQ_INT(c->c[C_UP], 2 * chl);		/* payload bytes, resent too */
	T_EQ_INT(c->c[C_DOWN], 100);
	T_EQ_INT(sketch_estimate(&c->dev), 1);	/* one device this hour */
	d = dev_of(DEV_DAY, fin, "openai-chatgpt");
	T_CHECK(d != NULL && d->period == 20261116);
	T_CHECK(d != NULL && sketch_estimate(&d->dev) == 1);
	d = dev_of(DEV_WEEK, fin, "openai-chatgpt");
	T_CHECK(d != NULL && d->period == 202647);
	T_CHECK(d != NULL && sketch_estimate(&d->dev) == 1);
	T_CHECK(strstr(seen, "dns-query chatgpt.com openai-chatgpt Finance "
	    "counted\n") != NULL);
	T_CHECK(strstr(seen, "tls-sni chatgpt.com openai-chatgpt Finance "
	    "counted\n") != NULL);
	/* the stream dropped the resent segment: no second detection */
	T_EQ_INT(occurrences(seen, "tls-sni "), 1);
}

/* RFC 9001 A.2's client Initial (SNI example.com) from another device. */
static void
test_quic_initial(void)
{
	uint8_t f[1600];
	struct agg_cell *c;
	int fin = 0;

	feed(T0 + 1000000, f, frame(f, 17, fin2, 50000, quicsrv, 443, 0, 0,
	    rfc9001_a2, sizeof(rfc9001_a2)));
	c = cell_of(fin, "example");
	T_CHECK(c != NULL);
	if (c == NULL)
		return;
	T_EQ_INT(c->c[C_QUIC], 1);
	T_EQ_INT(c->c[C_TLS], 0);
	T_EQ_INT(c->c[C_DNS], 0);
	T_EQ_INT(c->c[C_UP], sizeof(rfc9001_a2));	/* the UDP payload */
	T_EQ_INT(sketch_estimate(&c->dev), 1);
	T_CHECK(strstr(seen, "quic-sni example.com example Finance "
	    "counted\n") != NULL);
	/* the Finance x ChatGPT device sketch did not grow */
	T_CHECK(sketch_estimate(&cell_of(fin, "openai-chatgpt")->dev) == 1);
}

/* The resolver on the ignore list asks too: nothing but a blind count. */
static void
test_ignored_prefix(void)
{
	uint8_t m[512], f[1600];
	size_t n, before = ncells();
	const struct agg_hour *h;

	n = dns_msg(m, 0x4321, NULL);
	feed(T0 + 2000000, f, frame(f, 17, resolver, 41000, dnssrv, 53, 0, 0,
	    m, n));
	T_EQ_INT(ncells(), before);
	T_EQ_INT(cell_of(0, "openai-chatgpt")->c[C_DNS], 1);
	T_EQ_INT(cell_of(-1, "openai-chatgpt") == NULL, 1);
	h = agg_hours(agg);
	T_CHECK(h != NULL && h->b[BL_IGNORED] == 1);
	T_CHECK(strstr(seen, "dns-query chatgpt.com - - ignored-client\n") !=
	    NULL);
}

/* An address in no department's prefix counts, as "unassigned". */
static void
test_unassigned_client(void)
{
	uint8_t m[512], f[1600];
	size_t n;
	struct agg_cell *c;

	n = dns_msg(m, 0x5555, NULL);
	feed(T0 + 3000000, f, frame(f, 17, stranger, 42000, dnssrv, 53, 0, 0,
	    m, n));
	c = cell_of(-1, "openai-chatgpt");
	T_CHECK(c != NULL);
	if (c == NULL)
		return;
	T_EQ_INT(c->c[C_DNS], 1);
	T_EQ_INT(sketch_estimate(&c->dev), 1);
	T_EQ_INT(cell_of(0, "openai-chatgpt")->c[C_DNS], 1);	/* unchanged */
	T_CHECK(cell_of(1, "openai-chatgpt") == NULL);	/* Sales: nothing */
	T_CHECK(strstr(seen, "dns-query chatgpt.com openai-chatgpt unassigned "
	    "counted\n") != NULL);
}

/* Every frame is in the hour's packet and byte counters, once. */
static void
test_blind_totals(void)
{
	const struct agg_hour *h = agg_hours(agg);
	size_t nh = 0;

	for (; h != NULL; h = h->next)
		nh++;
	T_EQ_INT(nh, 1);
	h = agg_hours(agg);
	if (h == NULL)
		return;
	T_EQ_INT(h->per.hour, HOUR0);
	T_EQ_INT(h->b[BL_PACKETS], frames);
	T_EQ_INT(h->b[BL_BYTES], wirebytes);
	T_EQ_INT(h->b[BL_NOSNI], 0);
	T_EQ_INT(h->b[BL_ECH_UNATTRIBUTED], 0);
	T_EQ_INT(ncells(), 3);	/* Finance x 2 services, unassigned x 1 */
}


/*
 * frame()'s IP packet carried in IPv4 (protocol 4) from tsrc to tdst,
 * as an inline tunnel delivers it: the Ethernet header, the tunnel's
 * IPv4 header, then the packet.
 */
static size_t
tunnel4(uint8_t *out, const uint8_t *f, size_t fl, const uint8_t *tsrc,
    const uint8_t *tdst)
{
	uint8_t *ip = out + 14;

	memcpy(out, f, 14);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (unsigned)(20 + fl - 14));
	ip[8] = 64;
	ip[9] = 4;
	memcpy(ip + 12, tsrc, 4);
	memcpy(ip + 16, tdst, 4);
	memcpy(out + 34, f + 14, fl - 14);
	return fl + 20;
}

static struct agg_cell *
cell_in(struct agg *a, int dept, const char *sid)
{
	struct agg_cell *c;
	int svc = catalog_find_id(cat, sid);

	for (c = agg_cells(a); c != NULL; c = c->all)
		if (c->dept == dept && c->svc == svc)
			return c;
	return NULL;
}

/*
 * An unassigned address (inside) reaches chatgpt.com through an IP-in-IP
 * tunnel whose sender is a Finance address (outside): a DNS query, then
 * a TLS connection and its server's answer (the tunnel the other way).
 * capture.client_address "inner" (the default) counts the packet
 * inside: unassigned; "outer" the tunnel's end on the client's side:
 * Finance.  Either way each packet counts once as kind ipip.
 */
static void
test_tunnel_client(void)
{
	static const uint8_t far[4] = { 198, 51, 100, 99 };
	uint8_t m[512], f[1600], o[1700], ch[512];
	uint64_t counts[ENCAP_N];
	char err[256];
	size_t n, chl, k;
	int mode;

	for (mode = CONFIG_CLIENT_INNER; mode <= CONFIG_CLIENT_OUTER; mode++) {
		struct agg *a;
		struct pipeline *p;
		struct agg_cell *c;
		int want = mode == CONFIG_CLIENT_OUTER ? 0 : -1;

		cfg->capture.client_address = mode;
		memset(counts, 0, sizeof(counts));
		a = agg_new(4096, (size_t)64 << 20);
		p = a ? pipeline_new(cfg, cat, a, dk, err, sizeof(err)) : NULL;
		T_CHECK(p != NULL);
		if (p == NULL) {
			agg_free(a);
			break;
		}
		pipeline_encap_counts(p, counts);
		n = dns_msg(m, 0x7777, NULL);
		n = frame(f, 17, stranger, 43000, dnssrv, 53, 0, 0, m, n);
		n = tunnel4(o, f, n, fin2, far);
		pipeline_packet(p, DLT_EN10MB, T0 + 9000000, o, n, n);
		n = frame(f, 6, stranger, 43001, chatsrv, 443, 7000, 0x02,
		    NULL, 0);
		n = tunnel4(o, f, n, fin2, far);
		pipeline_packet(p, DLT_EN10MB, T0 + 9100000, o, n, n);
		chl = client_hello(ch, "chatgpt.com");
		n = frame(f, 6, stranger, 43001, chatsrv, 443, 7001, 0x18, ch,
		    chl);
		n = tunnel4(o, f, n, fin2, far);
		pipeline_packet(p, DLT_EN10MB, T0 + 9200000, o, n, n);
		memset(m, 0xcd, 60);
		n = frame(f, 6, chatsrv, 443, stranger, 43001, 9001, 0x18, m,
		    60);
		n = tunnel4(o, f, n, far, fin2);
		pipeline_packet(p, DLT_EN10MB, T0 + 9300000, o, n, n);

		c = cell_in(a, want, "openai-chatgpt");
		T_CHECK(c != NULL);
		if (c != NULL) {
			T_EQ_INT(c->c[C_DNS], 1);
			T_EQ_INT(c->c[C_TLS], 1);
			T_EQ_INT(c->c[C_UP], chl);
			T_EQ_INT(c->c[C_DOWN], 60);
			T_EQ_INT(sketch_estimate(&c->dev), 1);
		}
		/* and nothing for the other reading */
		T_CHECK(cell_in(a, want == 0 ? -1 : 0, "openai-chatgpt") ==
		    NULL);
		for (k = 0; k < ENCAP_N; k++)
			T_EQ_INT(counts[k], k == ENCAP_IPIP ? 4 : 0);
		pipeline_free(p);
		agg_free(a);
	}
	cfg->capture.client_address = CONFIG_CLIENT_INNER;
}

/* client_hello with an empty encrypted_client_hello extension after it */
static size_t
ech_hello(uint8_t *r, const char *public_name)
{
	size_t n = client_hello(r, public_name);
	unsigned rec = (unsigned)r[3] << 8 | r[4];
	unsigned hs = (unsigned)r[7] << 8 | r[8];
	unsigned ext = (unsigned)r[50] << 8 | r[51];

	memcpy(r + n, "\xfe\x0d\x00\x00", 4);
	put16(r + 3, rec + 4);
	put16(r + 7, hs + 4);
	put16(r + 50, ext + 4);
	return n + 4;
}

/*
 * Capture workers: the DNS answer reaches one worker, the Encrypted
 * ClientHello it explains another, which reads first.  The hello waits
 * (no count, no unattributed yet); once the answer is in the shared
 * cache it is counted as one thread counts it, with the bytes the flow
 * carried meanwhile.  An answer later in packet time than a hello never
 * attributes it: that one is unattributed when everything is settled.
 */
static void
test_workers_ech_wait(void)
{
	struct dnscache *dns = dnscache_new_shared(1024, 9);
	struct agg *a1 = agg_new(4096, (size_t)64 << 20);
	struct agg *a2 = agg_new(4096, (size_t)64 << 20);
	struct pipeline *w1, *w2;
	uint8_t m[512], f[1600], ch[512];
	struct agg_cell *c = NULL;
	const struct agg_hour *h;
	struct period p0;
	char err[256];
	size_t n, chl;
	int fin = 0;

	w1 = pipeline_new_worker(cfg, cat, a1, dk, dns, 1024, err, sizeof(err));
	w2 = pipeline_new_worker(cfg, cat, a2, dk, dns, 1024, err, sizeof(err));
	T_CHECK(dns != NULL && w1 != NULL && w2 != NULL);
	if (w1 == NULL || w2 == NULL)
		goto out;
	chl = ech_hello(ch, "cloudflare-ech.com");
	/* worker 2: fin2's SYN and ECH hello at +100 ms, no answer yet */
	n = frame(f, 6, fin2, 41000, chatsrv, 443, 7000, 0x02, NULL, 0);
	pipeline_packet(w2, DLT_EN10MB, T0 + 100000, f, n, n);
	n = frame(f, 6, fin2, 41000, chatsrv, 443, 7001, 0x18, ch, chl);
	pipeline_packet(w2, DLT_EN10MB, T0 + 110000, f, n, n);
	pipeline_settle(w2, 0);
	h = agg_hours(a2);
	T_CHECK(h != NULL && h->b[BL_ECH] == 1 &&
	    h->b[BL_ECH_UNATTRIBUTED] == 0);
	/* the server answers on the waiting flow: 100 bytes down */
	memset(m, 0xab, 100);
	n = frame(f, 6, chatsrv, 443, fin2, 41000, 9001, 0x18, m, 100);
	pipeline_packet(w2, DLT_EN10MB, T0 + 120000, f, n, n);
	/* worker 1 reads the answer, from +50 ms, only now */
	n = dns_msg(m, 0x4321, chatsrv);
	n = frame(f, 17, dnssrv, 53, fin2, 40002, 0, 0, m, n);
	pipeline_packet(w1, DLT_EN10MB, T0 + 50000, f, n, n);
	pipeline_settle(w2, 0);
	period_of(HOUR0, &p0);
	c = agg_cell(a2, &p0, fin, 0);		/* openai-chatgpt */
	T_CHECK(c != NULL && c->c[C_ECH] == 1 && c->c[C_DOWN] == 100 &&
	    c->c[C_UP] == chl && sketch_estimate(&c->dev) == 1);
	h = agg_hours(a2);
	T_CHECK(h != NULL && h->b[BL_ECH_UNATTRIBUTED] == 0);

	/* fin1's hello at +200 ms; its answer is from +300 ms: too late */
	n = frame(f, 6, fin1, 41001, chatsrv, 443, 8000, 0x02, NULL, 0);
	pipeline_packet(w2, DLT_EN10MB, T0 + 200000, f, n, n);
	n = frame(f, 6, fin1, 41001, chatsrv, 443, 8001, 0x18, ch, chl);
	pipeline_packet(w2, DLT_EN10MB, T0 + 210000, f, n, n);
	n = dns_msg(m, 0x4322, chatsrv);
	n = frame(f, 17, dnssrv, 53, fin1, 40003, 0, 0, m, n);
	pipeline_packet(w1, DLT_EN10MB, T0 + 300000, f, n, n);
	pipeline_settle(w2, 0);
	h = agg_hours(a2);
	T_CHECK(h != NULL && h->b[BL_ECH_UNATTRIBUTED] == 0);	/* waits */
	pipeline_settle(w2, 1);
	h = agg_hours(a2);
	T_CHECK(h != NULL && h->b[BL_ECH] == 2 &&
	    h->b[BL_ECH_UNATTRIBUTED] == 1);
	T_CHECK(c != NULL && c->c[C_ECH] == 1);
out:
	pipeline_free(w1);
	pipeline_free(w2);
	agg_free(a1);
	agg_free(a2);
	dnscache_free(dns);
}


/* --- DNS over TCP, both directions ------------------------------------ */

static const uint8_t res_tcp[4] = { 198, 51, 100, 54 };

/* One TCP connection as the tests drive it: next sequence numbers. */
struct conn {
	const uint8_t	*cli, *srv;
	unsigned	 cport, sport;
	uint32_t	 cseq, sseq;	/* next byte each side sends */
	uint64_t	 ts;
};

static size_t
seg(uint8_t *out, const uint8_t *src, unsigned sport, const uint8_t *dst,
    unsigned dport, uint32_t seq, uint32_t ack, uint8_t flags,
    const uint8_t *pl, size_t plen)
{
	size_t n = frame(out, 6, src, sport, dst, dport, seq, flags, pl, plen);

	put32(out + 34 + 8, ack);
	return n;
}

/* SYN, SYN-ACK, ACK. */
static void
conn_open(struct conn *c, const uint8_t *cli, unsigned cport,
    const uint8_t *srv, unsigned sport, uint64_t ts)
{
	uint8_t f[128];

	c->cli = cli;
	c->srv = srv;
	c->cport = cport;
	c->sport = sport;
	c->cseq = 0x10000000u + cport;
	c->sseq = 0xfffff000u + cport;	/* wraps around 2^32 in the stream */
	c->ts = ts;
	feed(c->ts, f, seg(f, cli, cport, srv, sport, c->cseq - 1, 0, 0x02,
	    NULL, 0));
	feed(c->ts += 1000, f, seg(f, srv, sport, cli, cport, c->sseq - 1,
	    c->cseq, 0x12, NULL, 0));
	feed(c->ts += 1000, f, seg(f, cli, cport, srv, sport, c->cseq,
	    c->sseq, 0x10, NULL, 0));
}

/* len bytes at offset off of what a side sends next (off 0: in order). */
static void
conn_send_at(struct conn *c, int from_client, size_t off, const uint8_t *p,
    size_t len)
{
	uint8_t f[9000];

	if (from_client)
		feed(c->ts += 1000, f, seg(f, c->cli, c->cport, c->srv,
		    c->sport, c->cseq + (uint32_t)off, c->sseq, 0x18, p, len));
	else
		feed(c->ts += 1000, f, seg(f, c->srv, c->sport, c->cli,
		    c->cport, c->sseq + (uint32_t)off, c->cseq, 0x18, p, len));
}

static void
conn_advance(struct conn *c, int from_client, size_t len)
{
	if (from_client)
		c->cseq += (uint32_t)len;
	else
		c->sseq += (uint32_t)len;
}

static void
conn_send(struct conn *c, int from_client, const uint8_t *p, size_t len)
{
	conn_send_at(c, from_client, 0, p, len);
	conn_advance(c, from_client, len);
}

/*
 * A length-prefixed DNS message for name, type A: a query, an answer
 * holding addr, or (addr NULL, nx) an NXDOMAIN.
 */
static size_t
tcp_dns(uint8_t *out, uint16_t id, const char *name, int answer,
    const uint8_t *addr, int nx)
{
	uint8_t *m = out + 2;
	const char *l = name, *dot;
	size_t n = 12;

	memset(m, 0, 12);
	put16(m, id);
	put16(m + 2, !answer ? 0x0100 : nx ? 0x8183 : 0x8180);
	put16(m + 4, 1);
	put16(m + 6, answer && addr ? 1 : 0);
	for (; *l != '\0'; l = *dot ? dot + 1 : dot) {
		dot = strchr(l, '.');
		if (dot == NULL)
			dot = l + strlen(l);
		m[n++] = (uint8_t)(dot - l);
		memcpy(m + n, l, (size_t)(dot - l));
		n += (size_t)(dot - l);
	}
	m[n++] = 0;
	put16(m + n, 1);
	put16(m + n + 2, 1);
	n += 4;
	if (answer && addr) {
		put16(m + n, 0xc00c);
		put16(m + n + 2, 1);
		put16(m + n + 4, 1);
		put32(m + n + 6, 300);
		put16(m + n + 10, 4);
		memcpy(m + n + 12, addr, 4);
		n += 16;
	}
	put16(out, (unsigned)n);
	return 2 + n;
}

static uint64_t
cnt(int dept, const char *sid, enum agg_counter k)
{
	struct agg_cell *c = cell_of(dept, sid);

	return c ? c->c[k] : 0;
}

static uint64_t
anomalies(enum anomaly a)
{
	const struct agg_hour *h;
	uint64_t n = 0;

	for (h = agg_hours(agg); h != NULL; h = h->next)
		n += h->anom[a];
	return n;
}

/*
 * client connects to srv with an ECH ClientHello whose public name is
 * the configured one: an ECH connection counts only for a service the
 * client was given srv for.  Returns whether it counted.
 */
static int
ech_to(const uint8_t *client, unsigned cport, const uint8_t *srv,
    uint64_t ts)
{
	uint8_t ch[512];
	struct conn c;
	size_t chl = hello(ch, "cloudflare-ech.com", 1);
	uint64_t before = cnt(0, "openai-chatgpt", C_ECH);

	conn_open(&c, client, cport, srv, 443, ts);
	conn_send(&c, 1, ch, chl);
	return cnt(0, "openai-chatgpt", C_ECH) == before + 1;
}

/* The query in one segment, the answer in one: the answer is read. */
static void
test_tcp_answer_one_segment(void)
{
	static const uint8_t ans[4] = { 203, 0, 113, 31 };
	uint8_t q[512], a[512];
	struct conn c;
	size_t ql = tcp_dns(q, 0x0101, "chatgpt.com", 0, NULL, 0);
	size_t al = tcp_dns(a, 0x0101, "chatgpt.com", 1, ans, 0);
	uint64_t dns = cnt(0, "openai-chatgpt", C_DNS);

	seen[0] = '\0';
	/* without the answer, an ECH connection to it is not attributed */
	T_EQ_INT(ech_to(fin1, 45000, ans, T0 + 10000000), 0);
	conn_open(&c, fin1, 45001, res_tcp, 53, T0 + 11000000);
	conn_send(&c, 1, q, ql);
	conn_send(&c, 0, a, al);
	T_EQ_INT(cnt(0, "openai-chatgpt", C_DNS), dns + 1);
	T_CHECK(strstr(seen, "dns-response chatgpt.com openai-chatgpt Finance "
	    "answer\n") != NULL);
	T_EQ_INT(occurrences(seen, "dns-response "), 1);
	T_EQ_INT(ech_to(fin1, 45002, ans, T0 + 12000000), 1);
	/* the answer went to fin1, not to fin2 */
	T_EQ_INT(ech_to(fin2, 45003, ans, T0 + 12100000), 0);
}

/* The answer split over two segments (inside the length prefix, too). */
static void
test_tcp_answer_split(void)
{
	static const uint8_t ans[4] = { 203, 0, 113, 32 }, ans2[4] = {
	    203, 0, 113, 33 };
	uint8_t q[512], a[512];
	struct conn c;
	size_t ql = tcp_dns(q, 0x0202, "chatgpt.com", 0, NULL, 0);
	size_t al = tcp_dns(a, 0x0202, "chatgpt.com", 1, ans, 0);

	seen[0] = '\0';
	conn_open(&c, fin1, 45010, res_tcp, 53, T0 + 13000000);
	conn_send(&c, 1, q, ql);
	conn_send(&c, 0, a, 20);
	T_EQ_INT(occurrences(seen, "dns-response "), 0);	/* not whole */
	conn_send(&c, 0, a + 20, al - 20);
	T_EQ_INT(occurrences(seen, "dns-response "), 1);
	T_EQ_INT(ech_to(fin1, 45011, ans, T0 + 14000000), 1);

	/* a second exchange on the connection, its prefix cut after 1 byte */
	ql = tcp_dns(q, 0x0203, "chatgpt.com", 0, NULL, 0);
	al = tcp_dns(a, 0x0203, "chatgpt.com", 1, ans2, 0);
	conn_send(&c, 1, q, ql);
	conn_send(&c, 0, a, 1);
	conn_send(&c, 0, a + 1, al - 1);
	T_EQ_INT(occurrences(seen, "dns-response "), 2);
	T_EQ_INT(ech_to(fin1, 45012, ans2, T0 + 14100000), 1);
}

/* Two queries in one segment, two answers in one segment. */
static void
test_tcp_two_answers(void)
{
	static const uint8_t ans[4] = { 203, 0, 113, 34 }, ex[4] = {
	    203, 0, 113, 35 };
	uint8_t q[1024], a[1024];
	struct conn c;
	size_t ql, al;
	uint64_t dns = cnt(0, "openai-chatgpt", C_DNS),
	    exdns = cnt(0, "example", C_DNS);

	seen[0] = '\0';
	ql = tcp_dns(q, 0x0301, "chatgpt.com", 0, NULL, 0);
	ql += tcp_dns(q + ql, 0x0302, "example.com", 0, NULL, 0);
	al = tcp_dns(a, 0x0301, "chatgpt.com", 1, ans, 0);
	al += tcp_dns(a + al, 0x0302, "example.com", 1, ex, 0);
	conn_open(&c, fin2, 45020, res_tcp, 53, T0 + 15000000);
	conn_send(&c, 1, q, ql);
	conn_send(&c, 0, a, al);
	T_EQ_INT(cnt(0, "openai-chatgpt", C_DNS), dns + 1);
	T_EQ_INT(cnt(0, "example", C_DNS), exdns + 1);
	T_CHECK(strstr(seen, "dns-response chatgpt.com openai-chatgpt Finance "
	    "answer\n") != NULL);
	T_CHECK(strstr(seen, "dns-response example.com example Finance "
	    "answer\n") != NULL);
	T_EQ_INT(ech_to(fin2, 45021, ans, T0 + 16000000), 1);
	/* ex was answered for example.com: not a ChatGPT connection */
	T_EQ_INT(ech_to(fin2, 45022, ex, T0 + 16100000), 0);
	T_EQ_INT(cnt(0, "example", C_ECH), 1);
}

/* The answer's second segment first, then the first, then a resend. */
static void
test_tcp_answer_out_of_order(void)
{
	static const uint8_t ans[4] = { 203, 0, 113, 36 };
	uint8_t q[512], a[512];
	struct conn c;
	size_t ql = tcp_dns(q, 0x0401, "chatgpt.com", 0, NULL, 0);
	size_t al = tcp_dns(a, 0x0401, "chatgpt.com", 1, ans, 0);

	seen[0] = '\0';
	conn_open(&c, fin1, 45030, res_tcp, 53, T0 + 17000000);
	conn_send(&c, 1, q, ql);
	conn_send_at(&c, 0, 25, a + 25, al - 25);
	T_EQ_INT(occurrences(seen, "dns-response "), 0);
	conn_send_at(&c, 0, 0, a, 25);
	T_EQ_INT(occurrences(seen, "dns-response "), 1);
	conn_send_at(&c, 0, 0, a, al);		/* retransmitted whole */
	conn_advance(&c, 0, al);
	T_EQ_INT(occurrences(seen, "dns-response "), 1);
	T_EQ_INT(ech_to(fin1, 45031, ans, T0 + 18000000), 1);
}

/*
 * Length prefixes that lie: one past what the stream holds (skipped,
 * counted as an overflow, the next answer still read), then one shorter
 * than a DNS header (the server's side is given up, the client's goes on).
 */
static uint8_t big[STREAM_BUF + 1];

static void
test_tcp_answer_bad_length(void)
{
	static const uint8_t ans[4] = { 203, 0, 113, 37 }, late[4] = {
	    203, 0, 113, 38 };
	uint8_t q[512], a[512];
	struct conn c;
	size_t ql = tcp_dns(q, 0x0501, "chatgpt.com", 0, NULL, 0);
	size_t al = tcp_dns(a, 0x0501, "chatgpt.com", 1, ans, 0), i;
	uint64_t over = anomalies(ANOM_STREAM_OVERFLOW),
	    bad = anomalies(ANOM_DNS_TCP_BAD_LEN),
	    dns = cnt(0, "openai-chatgpt", C_DNS);

	seen[0] = '\0';
	conn_open(&c, fin2, 45040, res_tcp, 53, T0 + 19000000);
	conn_send(&c, 1, q, ql);
	/* one byte more than the buffer, in segments of answer lookalikes */
	put16(big, STREAM_BUF - 1);
	for (i = 2; i + al <= sizeof(big); i += al)
		memcpy(big + i, a, al);
	memset(big + i, 0, sizeof(big) - i);
	for (i = 0; i < sizeof(big); i += 4000)
		conn_send(&c, 0, big + i, sizeof(big) - i < 4000 ?
		    sizeof(big) - i : 4000);
	T_EQ_INT(anomalies(ANOM_STREAM_OVERFLOW), over + 1);
	T_EQ_INT(occurrences(seen, "dns-response "), 0);
	conn_send(&c, 0, a, al);
	T_EQ_INT(occurrences(seen, "dns-response "), 1);
	T_EQ_INT(ech_to(fin2, 45041, ans, T0 + 20000000), 1);

	/* 3 bytes "long", then an answer for late: never read */
	put16(big, 3);
	memcpy(big + 2, "abc", 3);
	conn_send(&c, 0, big, 5);
	T_EQ_INT(anomalies(ANOM_DNS_TCP_BAD_LEN), bad + 1);
	al = tcp_dns(a, 0x0502, "chatgpt.com", 1, late, 0);
	conn_send(&c, 0, a, al);
	T_EQ_INT(occurrences(seen, "dns-response "), 1);
	T_EQ_INT(anomalies(ANOM_DNS_TCP_BAD_LEN), bad + 1);
	T_EQ_INT(ech_to(fin2, 45042, late, T0 + 20100000), 0);
	/* the queries are still read */
	conn_send(&c, 1, q, ql);
	T_EQ_INT(cnt(0, "openai-chatgpt", C_DNS), dns + 2);
}

/* NXDOMAIN over TCP counts once, in the client's department. */
static void
test_tcp_nxdomain(void)
{
	uint8_t q[512], a[512];
	struct conn c;
	size_t ql = tcp_dns(q, 0x0601, "chatgpt.com", 0, NULL, 0);
	size_t al = tcp_dns(a, 0x0601, "chatgpt.com", 1, NULL, 1);
	uint64_t nx = cnt(0, "openai-chatgpt", C_NXDOMAIN);

	seen[0] = '\0';
	conn_open(&c, fin1, 45050, res_tcp, 53, T0 + 21000000);
	conn_send(&c, 1, q, ql);
	conn_send(&c, 0, a, 30);
	conn_send(&c, 0, a + 30, al - 30);
	T_EQ_INT(cnt(0, "openai-chatgpt", C_NXDOMAIN), nx + 1);
	T_CHECK(strstr(seen, "dns-response chatgpt.com openai-chatgpt Finance "
	    "counted-nxdomain\n") != NULL);
	conn_send_at(&c, 0, (size_t)-al, a, al);	/* resent: once */
	T_EQ_INT(cnt(0, "openai-chatgpt", C_NXDOMAIN), nx + 1);
}

/*
 * A TLS server that speaks while the ClientHello is still incomplete:
 * the TLS detector declines its side (nothing is read as DNS there) and
 * the client's stream goes on to the name.
 */
static void
test_tcp_tls_server_side(void)
{
	uint8_t ch[512], junk[300];
	struct conn c;
	size_t chl = client_hello(ch, "example.com");
	uint64_t tls = cnt(0, "example", C_TLS);

	seen[0] = '\0';
	conn_open(&c, fin1, 53, chatsrv, 443, T0 + 22000000);
	conn_send(&c, 1, ch, 20);
	memset(junk, 0, sizeof(junk));
	tcp_dns(junk, 0x0701, "chatgpt.com", 1, chatsrv, 1);
	conn_send(&c, 0, junk, sizeof(junk));
	conn_send(&c, 1, ch + 20, chl - 20);
	T_EQ_INT(occurrences(seen, "dns-response "), 0);
	T_EQ_INT(occurrences(seen, "tls-sni example.com example Finance "
	    "counted"), 1);
	T_EQ_INT(cnt(0, "example", C_TLS), tls + 1);
}

int
main(void)
{
	if (setup() != 0) {
		printf("0 passed, 1 failed\n");
		return 1;
	}
	T_RUN(test_dns_then_tls);
	T_RUN(test_quic_initial);
	T_RUN(test_ignored_prefix);
	T_RUN(test_unassigned_client);
	T_RUN(test_blind_totals);
	T_RUN(test_tunnel_client);
	T_RUN(test_workers_ech_wait);
	T_RUN(test_tcp_answer_one_segment);
	T_RUN(test_tcp_answer_split);
	T_RUN(test_tcp_two_answers);
	T_RUN(test_tcp_answer_out_of_order);
	T_RUN(test_tcp_answer_bad_length);
	T_RUN(test_tcp_nxdomain);
	T_RUN(test_tcp_tls_server_side);
	teardown();
	return T_DONE();
}
