/*
 * det_dns.c - DNS queries and answers over UDP and TCP (port 53).
 *
 * Queries become lookups of their question name.  Responses are read
 * for two things: NXDOMAIN (the resolver refused a name: an "attempt")
 * and the A/AAAA addresses handed to the client, which the host keeps
 * briefly to attribute connections that hide their name (ECH).
 * Multicast DNS (5353) is local service discovery, not a lookup of an
 * internet service, and is left alone.
 *
 * Over TCP both directions are streams of length-prefixed messages: the
 * host hands the client's stream (queries) and, because this detector
 * says yes when asked about the server's first bytes, the server's
 * stream (answers), each reassembled and bounded on its own.  A
 * message's bytes are read once it is whole, several to a segment or
 * one over several segments, and then dropped from the buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "aicensus_plugin.h"
#include "decode/flow.h"
#include "detect/detectors.h"
#include "proto/dns.h"

#define DNS_PORT	53

struct dns_state {
	const struct aic_host	*host;
	uint8_t			 addrs[DNS_MAX_ADDRS][16];
};

/* Per TCP stream (the host's scratch, zeroed when the stream opens). */
struct dns_tcp_flow {
	uint32_t		 skip;	/* bytes left of an unreadable answer */
};

static int
dns_init(const struct aic_host *host, const char *arg, void **state)
{
	struct dns_state *s;

	(void)arg;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->host = host;
	*state = s;
	return 0;
}

static void
dns_fini(void *state)
{
	free(state);
}

static void
handle_message(struct dns_state *s, const uint8_t *p, size_t len,
    int to_server)
{
	struct dns_msg m;
	struct aic_event ev;
	enum anomaly an;
	unsigned i;
	int rc;

	rc = dns_parse(p, len, &m);
	if (rc != DNS_OK) {
		an = dns_err_anomaly(rc);
		det_anomaly(s->host, an != ANOM_N ? an : ANOM_PLUGIN_OTHER);
		return;
	}
	if (!m.has_question || m.qname_len == 0 || m.opcode != 0)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.name = m.qname;
	ev.name_len = m.qname_len;
	if (m.qr == 0) {
		if (!to_server)
			return;
		ev.kind = AIC_EV_DNS_QUERY;
		s->host->emit(s->host->ctx, &ev);
		return;
	}
	if (to_server)
		return;
	ev.kind = AIC_EV_DNS_RESPONSE;
	ev.flags = AIC_EVF_TO_CLIENT | (m.rcode == 3 ? AIC_EVF_NXDOMAIN : 0);
	ev.ttl = UINT32_MAX;
	for (i = 0; i < m.n_addrs; i++) {
		uint8_t *a = s->addrs[i];

		if (m.addrs[i].af == 4) {
			memset(a, 0, 10);
			a[10] = a[11] = 0xff;
			memcpy(a + 12, m.addrs[i].a, 4);
		} else {
			memcpy(a, m.addrs[i].a, 16);
		}
		if (m.addrs[i].ttl < ev.ttl)
			ev.ttl = m.addrs[i].ttl;
	}
	ev.n_addrs = m.n_addrs;
	ev.addrs = (const uint8_t (*)[16])s->addrs;
	if (ev.n_addrs == 0)
		ev.ttl = 0;
	s->host->emit(s->host->ctx, &ev);
}

static int
dns_udp(void *state, const struct aic_payload *pl)
{
	if (pl->dport != DNS_PORT && pl->sport != DNS_PORT)
		return AIC_UDP_NOT_MINE;
	handle_message(state, pl->data, pl->len, pl->dport == DNS_PORT);
	return AIC_UDP_MINE;
}

/* The client's stream to port 53, and then the server's from it. */
static int
dns_tcp_claim(void *state, const struct aic_payload *pl)
{
	(void)state;
	if (pl->from_client)
		return pl->dport == DNS_PORT;
	return pl->sport == DNS_PORT;
}

static void
tcp_message(void *arg, const uint8_t *msg, size_t len)
{
	handle_message(arg, msg, len, 1);
}

/* Larger than any query; a length past it means this is not DNS. */
#define DNS_TCP_MAX_QUERY	4096
/*
 * A resolver moves to TCP when an answer is too large for UDP, so
 * answers may be as long as the host's stream buffer holds (STREAM_BUF
 * less the prefix).  A longer one is legal DNS but cannot be read whole
 * here: it is skipped and counted as the overflow it is, and the
 * answers after it on the connection are still read.
 */
#define DNS_TCP_MAX_ANSWER	(STREAM_BUF - 2)
/*
 * A length shorter than a DNS header frames no message: the framing is
 * lost and the server's side is given up.
 */
#define DNS_HEADER		12

static enum aic_verdict
tcp_answers(struct dns_state *s, const struct aic_payload *pl,
    size_t *consumed)
{
	struct dns_tcp_flow *fl = pl->fstate;
	size_t used = 0, n, mlen;
	enum aic_verdict v = AIC_MORE;

	if (fl == NULL)
		return AIC_NOT_MINE;
	for (;;) {
		if (fl->skip > 0) {
			n = pl->len - used < fl->skip ? pl->len - used :
			    fl->skip;
			fl->skip -= (uint32_t)n;
			used += n;
			if (fl->skip > 0)
				break;
		}
		if (pl->len - used < 2)
			break;
		mlen = ((size_t)pl->data[used] << 8) | pl->data[used + 1];
		if (mlen < DNS_HEADER) {
			det_anomaly(s->host, ANOM_DNS_TCP_BAD_LEN);
			v = AIC_NOT_MINE;
			break;
		}
		if (mlen > DNS_TCP_MAX_ANSWER) {
			det_anomaly(s->host, ANOM_STREAM_OVERFLOW);
			fl->skip = (uint32_t)(2 + mlen);
			continue;
		}
		if (pl->len - used - 2 < mlen)
			break;		/* whole later */
		handle_message(s, pl->data + used + 2, mlen, 0);
		used += 2 + mlen;
	}
	*consumed = used;
	return v;
}

static enum aic_verdict
dns_tcp_stream(void *state, const struct aic_payload *pl, size_t *consumed)
{
	size_t used = 0;

	if (!pl->from_client)
		return tcp_answers(state, pl, consumed);
	dns_tcp_split(pl->data, pl->len, &used, tcp_message, state);
	*consumed = used;
	if (pl->len - used >= 2 &&
	    (((size_t)pl->data[used] << 8) | pl->data[used + 1]) >
	    DNS_TCP_MAX_QUERY) {
		det_anomaly(((struct dns_state *)state)->host,
		    ANOM_DNS_TCP_BAD_LEN);
		return AIC_NOT_MINE;
	}
	return AIC_MORE;
}

static const struct aic_plugin dns_plugin = {
	.abi = AIC_PLUGIN_ABI,
	.name = "dns",
	.version = "1",
	.flow_state_size = sizeof(struct dns_tcp_flow),
	.init = dns_init,
	.fini = dns_fini,
	.tcp_claim = dns_tcp_claim,
	.tcp_stream = dns_tcp_stream,
	.udp = dns_udp,
};

const struct aic_plugin *
det_dns_plugin(void)
{
	return &dns_plugin;
}
