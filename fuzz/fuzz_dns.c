/*
 * fuzz_dns.c - DNS messages: dns_parse() on the whole input as a UDP
 * payload, then dns_tcp_split() on it as a TCP stream with every message
 * it yields parsed too.  The promises of dns.h are checked: the name
 * is NUL-terminated at qname_len, printable (odd bytes are escaped), at
 * most DNS_MAX_ADDRS addresses, and the split consumes whole messages.
 */
#include "fuzz.h"
#include "proto/dns.h"

static void
fdns_check(const uint8_t *p, size_t len)
{
	struct dns_msg m;
	size_t i;
	int rc;

	memset(&m, 0x5a, sizeof(m));
	rc = dns_parse(p, len, &m);
	FUZZ_ASSERT(dns_err_name(rc) != NULL);
	if (rc == DNS_E_SHORT)
		return;
	if (rc != DNS_OK) {
		FUZZ_ASSERT(!m.has_question && m.qname[0] == '\0');
		return;
	}
	FUZZ_ASSERT(m.has_question == 1);
	FUZZ_ASSERT(m.qname_len <= DNS_NAME_MAX);
	FUZZ_ASSERT(strlen(m.qname) == m.qname_len);
	for (i = 0; i < m.qname_len; i++)
		FUZZ_ASSERT(m.qname[i] > ' ' && m.qname[i] < 0x7f);
	FUZZ_ASSERT(m.n_addrs <= DNS_MAX_ADDRS);
	for (i = 0; i < m.n_addrs; i++)
		FUZZ_ASSERT(m.addrs[i].af == 4 || m.addrs[i].af == 6);
	if (m.n_addrs > 0)
		FUZZ_ASSERT(m.qr == 1);
}

struct fdns_split {
	const uint8_t	*p;
	size_t		 len, seen, n;
};

static void
fdns_on_msg(void *arg, const uint8_t *msg, size_t mlen)
{
	struct fdns_split *c = arg;

	FUZZ_ASSERT(msg >= c->p && msg + mlen <= c->p + c->len);
	c->seen += 2 + mlen;
	c->n++;
	fdns_check(msg, mlen);
}

int FUZZ_ONE(dns)(const uint8_t *data, size_t size);

int
FUZZ_ONE(dns)(const uint8_t *data, size_t size)
{
	struct fdns_split c = { data, size, 0, 0 };
	size_t consumed = 0, n;

	fdns_check(data, size);
	n = dns_tcp_split(data, size, &consumed, fdns_on_msg, &c);
	FUZZ_ASSERT(n == c.n);
	FUZZ_ASSERT(consumed == c.seen && consumed <= size);
	/* what is left is a partial message: less than its length says */
	if (size - consumed >= 2)
		FUZZ_ASSERT(size - consumed - 2 <
		    ((size_t)data[consumed] << 8 | data[consumed + 1]));
	n = dns_tcp_split(data, size, &consumed, NULL, NULL);
	FUZZ_ASSERT(n == c.n && consumed == c.seen);
	return 0;
}
