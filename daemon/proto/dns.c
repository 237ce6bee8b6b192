/*
 * dns.c - DNS message parser; see dns.h for what it promises.
 */
#include "proto/dns.h"

#include <string.h>

#include "common/rd.h"

#define DNS_HDR_LEN	12
#define DNS_WIRE_MAX	255	/* RFC 1035 2.3.4, length octets included */
#define TYPE_A		1
#define TYPE_AAAA	28
#define CLASS_IN	1

/* Where a name is written while it is decoded. */
struct name_buf {
	char		*s;
	size_t		 cap;		/* includes the NUL */
	size_t		 len;
	int		 odd;
};

static int
is_plain(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Bytes that would make the dotted string ambiguous or unprintable. */
static int
needs_escape(uint8_t c)
{
	return c <= 0x20 || c >= 0x7f || c == '.' || c == '\\';
}

static int
nb_put(struct name_buf *nb, const char *s, size_t n)
{
	if (nb->len + n >= nb->cap)
		return 0;
	memcpy(nb->s + nb->len, s, n);
	nb->len += n;
	nb->s[nb->len] = '\0';
	return 1;
}

static int
nb_label(struct name_buf *nb, const uint8_t *lab, size_t n)
{
	char esc[4];
	size_t i;

	if (nb->len > 0 && !nb_put(nb, ".", 1))
		return 0;
	for (i = 0; i < n; i++) {
		uint8_t c = lab[i];

		if (!is_plain(c))
			nb->odd = 1;
		if (!needs_escape(c)) {
			if (!nb_put(nb, (const char *)&lab[i], 1))
				return 0;
			continue;
		}
		esc[0] = '\\';
		esc[1] = (char)('0' + c / 100);
		esc[2] = (char)('0' + c / 10 % 10);
		esc[3] = (char)('0' + c % 10);
		if (!nb_put(nb, esc, sizeof(esc)))
			return 0;
	}
	return 1;
}

/*
 * Decode the name at *r, a cursor over msg[0..msglen) (not a sub-cursor:
 * its offset is msglen - rd_left).  On success *r is advanced past the
 * name as it sits in place, i.e. up to and including the first pointer.
 * Each pointer must target an offset before the start of the label run
 * it was found in; run starts therefore strictly decrease and no loop
 * is possible, the hop limit is only a second guard.
 */
static int
name_decode(const uint8_t *msg, size_t msglen, struct rd *r,
    struct name_buf *nb)
{
	struct rd c = *r;
	size_t run_start = msglen - rd_left(r), wire = 1, target;
	unsigned hops = 0;
	int jumped = 0;
	uint8_t l, lo;
	const uint8_t *lab;

	for (;;) {
		l = rd_u8(&c);
		if (!rd_ok(&c))
			return DNS_E_TRUNC_QUESTION;
		if (l == 0)
			break;
		if ((l & 0xc0) == 0xc0) {
			lo = rd_u8(&c);
			if (!rd_ok(&c))
				return DNS_E_TRUNC_QUESTION;
			target = ((size_t)(l & 0x3f) << 8) | lo;
			if (target >= run_start || ++hops > DNS_PTR_HOPS)
				return DNS_E_NAME_LOOP;
			if (!jumped)
				*r = c;
			jumped = 1;
			c = rd_init(msg + target, msglen - target);
			run_start = target;
			continue;
		}
		if (l & 0xc0)
			return DNS_E_BAD_LABEL;
		wire += (size_t)l + 1;
		if (wire > DNS_WIRE_MAX)
			return DNS_E_NAME_TOO_LONG;
		lab = rd_ptr(&c, l);
		if (lab == NULL)
			return DNS_E_TRUNC_QUESTION;
		if (!nb_label(nb, lab, l))
			return DNS_E_NAME_TOO_LONG;
	}
	if (!jumped)
		*r = c;
	return DNS_OK;
}

/* Step over a name in place without following pointers. */
static int
name_skip(struct rd *r)
{
	uint8_t l;

	for (;;) {
		l = rd_u8(r);
		if (!rd_ok(r))
			return 0;
		if (l == 0)
			return 1;
		if ((l & 0xc0) == 0xc0)
			return rd_skip(r, 1);
		if (l & 0xc0)
			return 0;
		if (!rd_skip(r, l))
			return 0;
	}
}

static void
add_addr(struct dns_msg *m, uint8_t af, const uint8_t *a, size_t n,
    uint32_t ttl)
{
	struct dns_addr *d = &m->addrs[m->n_addrs++];

	d->af = af;
	memcpy(d->a, a, n);
	d->ttl = ttl;
}

/* One resource record; returns 0 when it could not be read whole. */
static int
rr_read(struct rd *r, struct dns_msg *m)
{
	uint16_t type, class, rdlen;
	uint32_t ttl;
	const uint8_t *rdata;

	if (!name_skip(r))
		return 0;
	type = rd_u16(r);
	class = rd_u16(r);
	ttl = rd_u32(r);
	rdlen = rd_u16(r);
	rdata = rd_ptr(r, rdlen);
	if (rdata == NULL)
		return 0;
	if (class != CLASS_IN)
		return 1;
	if (type == TYPE_A && rdlen == 4)
		add_addr(m, 4, rdata, 4, ttl);
	else if (type == TYPE_AAAA && rdlen == 16)
		add_addr(m, 6, rdata, 16, ttl);
	return 1;
}

/* r sits just after the first question. */
static void
answers_walk(struct rd *r, struct dns_msg *m)
{
	unsigned i;

	for (i = 1; i < m->qdcount; i++) {
		if (!name_skip(r) || !rd_skip(r, 4)) {
			m->answers_truncated = 1;
			return;
		}
	}
	for (i = 0; i < m->ancount && m->n_addrs < DNS_MAX_ADDRS; i++) {
		if (!rr_read(r, m)) {
			m->answers_truncated = 1;
			return;
		}
	}
}

int
dns_parse(const uint8_t *p, size_t len, struct dns_msg *m)
{
	struct rd r = rd_init(p, len);
	struct name_buf nb;
	uint16_t flags;
	int rc;

	memset(m, 0, sizeof(*m));
	if (len < DNS_HDR_LEN)
		return DNS_E_SHORT;
	m->id = rd_u16(&r);
	flags = rd_u16(&r);
	m->qr = (uint8_t)(flags >> 15);
	m->opcode = (uint8_t)((flags >> 11) & 0x0f);
	m->rcode = (uint8_t)(flags & 0x0f);
	m->qdcount = rd_u16(&r);
	m->ancount = rd_u16(&r);
	rd_skip(&r, 4);		/* nscount, arcount */
	if (m->qdcount == 0)
		return DNS_E_NO_QUESTION;

	nb.s = m->qname;
	nb.cap = sizeof(m->qname);
	nb.len = 0;
	nb.odd = 0;
	rc = name_decode(p, len, &r, &nb);
	if (rc != DNS_OK) {
		m->qname[0] = '\0';
		return rc;
	}
	m->has_question = 1;
	m->qname_len = nb.len;
	m->name_odd = nb.odd;

	m->qtype = rd_u16(&r);
	m->qclass = rd_u16(&r);
	if (!rd_ok(&r)) {
		m->qtype = m->qclass = 0;
		m->answers_truncated = 1;
		return DNS_OK;
	}
	if (m->qr)
		answers_walk(&r, m);
	return DNS_OK;
}

enum anomaly
dns_err_anomaly(int e)
{
	switch (e) {
	case DNS_E_SHORT:		return ANOM_DNS_SHORT;
	case DNS_E_NAME_LOOP:		return ANOM_DNS_NAME_LOOP;
	case DNS_E_NAME_TOO_LONG:	return ANOM_DNS_NAME_TOO_LONG;
	case DNS_E_BAD_LABEL:		return ANOM_DNS_BAD_LABEL;
	case DNS_E_NO_QUESTION:		return ANOM_DNS_NO_QUESTION;
	case DNS_E_TRUNC_QUESTION:	return ANOM_DNS_TRUNC_QUESTION;
	}
	return ANOM_N;
}

const char *
dns_err_name(int e)
{
	if (e == DNS_OK)
		return "dns_ok";
	if (dns_err_anomaly(e) == ANOM_N)
		return "dns_unknown";
	return anomaly_name(dns_err_anomaly(e));
}

size_t
dns_tcp_split(const uint8_t *p, size_t len, size_t *consumed,
    void (*cb)(void *arg, const uint8_t *msg, size_t mlen), void *arg)
{
	struct rd r = rd_init(p, len);
	const uint8_t *msg;
	size_t n = 0, used = 0;
	uint16_t mlen;

	for (;;) {
		mlen = rd_u16(&r);
		msg = rd_ptr(&r, mlen);
		if (msg == NULL)
			break;
		if (cb != NULL)
			cb(arg, msg, mlen);
		n++;
		used += 2 + (size_t)mlen;
	}
	if (consumed != NULL)
		*consumed = used;
	return n;
}
