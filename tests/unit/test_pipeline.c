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
 * IP-in-IP tunnel, named by the inner or the outer addresses.
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
#include "common/encap.h"
#include "common/period.h"
#include "detect/catalog.h"
#include "quic_vectors.h"
#include "t.h"

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

/* A TLS record holding a ClientHello whose only extension is the SNI. */
static size_t
client_hello(uint8_t *r, const char *sni)
{
	size_t nl = strlen(sni), ext = 9 + nl, hs = 2 + 32 + 1 + 4 + 2 + 2 +
	    ext, i;
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
	return 5 + 4 + hs;
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
	teardown();
	return T_DONE();
}
