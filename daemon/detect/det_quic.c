/*
 * det_quic.c - the server name in a QUIC Initial (v1 and v2).
 *
 * quic.c authenticates and decrypts the client's Initial packets and
 * gathers their CRYPTO frames; the ClientHello it yields goes through
 * the same parser as TCP's (tls.c).  Packets that fail authentication
 * are never counted, only tallied as anomalies.
 */
#include <stdlib.h>
#include <string.h>

#include "aicensus_plugin.h"
#include "detect/detectors.h"
#include "proto/quic.h"
#include "proto/tls.h"

#define QUIC_DEFAULT_CONNS	4096
#define QUIC_CRYPTO_CAP		4096	/* Chrome's largest is ~2.3 KB */

struct quic_state {
	const struct aic_host	*host;
	struct quic_table	*t;
};

static int
quic_init(const struct aic_host *host, const char *arg, void **state)
{
	struct quic_state *s;
	long n = arg && *arg ? strtol(arg, NULL, 10) : QUIC_DEFAULT_CONNS;

	if (n < 1)
		n = QUIC_DEFAULT_CONNS;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->host = host;
	if ((s->t = quic_table_new((size_t)n, QUIC_CRYPTO_CAP)) == NULL) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static void
quic_fini(void *state)
{
	struct quic_state *s = state;

	if (s == NULL)
		return;
	quic_table_free(s->t);
	free(s);
}

static void
emit(struct quic_state *s, enum aic_event_kind kind, unsigned flags,
    const char *name, size_t len, uint64_t conn)
{
	struct aic_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.flags = flags;
	ev.name = name;
	ev.name_len = len;
	ev.conn_id = conn;
	s->host->emit(s->host->ctx, &ev);
}

static void
anomalies(struct quic_state *s, unsigned bits)
{
	static const struct { unsigned bit; enum anomaly a; } map[] = {
		{ QA_AUTH_FAIL, ANOM_QUIC_AUTH_FAIL },
		{ QA_BAD_LENGTH, ANOM_QUIC_MALFORMED },
		{ QA_BAD_FRAME, ANOM_QUIC_BAD_FRAME },
		{ QA_CRYPTO_OVERFLOW, ANOM_QUIC_CRYPTO_OVERFLOW },
		{ QA_TABLE_FULL_EVICT, ANOM_QUIC_EVICTED },
		{ QA_VERSION_NEG, ANOM_QUIC_VERSION_NEG },
		{ QA_RETRY, ANOM_QUIC_RETRY },
		{ QA_BAD_CRYPTO, ANOM_QUIC_MALFORMED },
		{ QA_CRYPTO_CONFLICT, ANOM_QUIC_CRYPTO_CONFLICT },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (bits & map[i].bit)
			det_anomaly(s->host, map[i].a);
}

static int
clienthello(struct quic_state *s, const struct quic_result *res, int final)
{
	struct tls_ch ch;
	enum tls_rc rc = tls_parse_handshake(res->crypto, res->crypto_len, &ch);
	unsigned ech = ch.has_ech ? AIC_EVF_ECH : 0;

	switch (rc) {
	case TLS_SNI:
		emit(s, AIC_EV_QUIC_SNI, ech | (ch.complete ? 0 :
		    AIC_EVF_PARTIAL), ch.sni, ch.sni_len, res->conn);
		if (ch.complete)
			quic_conn_done(s->t, res->conn);
		return 1;
	case TLS_NO_SNI:
		emit(s, AIC_EV_QUIC_SNI, ech | AIC_EVF_NO_NAME, "", 0,
		    res->conn);
		quic_conn_done(s->t, res->conn);
		return 1;
	case TLS_MALFORMED:
	case TLS_NOT_TLS:
		det_anomaly(s->host, ANOM_TLS_MALFORMED);
		quic_conn_done(s->t, res->conn);
		return 0;
	case TLS_UNREADABLE:		/* not from tls_parse_handshake */
		det_anomaly(s->host, ANOM_TLS_UNREADABLE);
		quic_conn_done(s->t, res->conn);
		return 0;
	case TLS_MORE:
		/*
		 * final and not complete: the CRYPTO buffer is full and the
		 * name lies beyond it - a hello too large to read.
		 */
		if (final)
			det_anomaly(s->host, res->complete ?
			    ANOM_TLS_INCOMPLETE : ANOM_TLS_UNREADABLE);
		return 0;
	}
	return 0;
}

static int
quic_udp(void *state, const struct aic_payload *pl)
{
	struct quic_state *s = state;
	struct quic_result res;
	enum quic_rc rc;

	if (pl->len < 7 || !(pl->data[0] & 0x80))
		return AIC_UDP_NOT_MINE;
	/*
	 * RTP, SRTP and the like also start with the high bit set.  A long
	 * header without the fixed bit (0x40) is QUIC only as Version
	 * Negotiation (version 0) or, for v1 and v2, a greased QUIC bit;
	 * quic_feed() says QUIC_NOT_QUIC to anything else, so say it here
	 * before it parses the header.
	 */
	if (!(pl->data[0] & 0x40)) {
		uint32_t v = (uint32_t)pl->data[1] << 24 |
		    (uint32_t)pl->data[2] << 16 | (uint32_t)pl->data[3] << 8 |
		    pl->data[4];

		if (v != 0 && v != QUIC_V1 && v != QUIC_V2)
			return AIC_UDP_NOT_MINE;
	}
	rc = quic_feed(s->t, pl->flow_key, pl->from_client, pl->ts_usec,
	    pl->data, pl->len, &res);
	if (res.anomalies)
		anomalies(s, res.anomalies);
	switch (rc) {
	case QUIC_NOT_QUIC:
		return AIC_UDP_NOT_MINE;
	case QUIC_PENDING:
		if (res.crypto_len > 0)
			clienthello(s, &res, 0);
		return AIC_UDP_TRACK;
	case QUIC_CLIENTHELLO:
		clienthello(s, &res, 1);
		return AIC_UDP_TRACK;
	case QUIC_IGNORED:
	case QUIC_AUTH_FAIL:
	case QUIC_MALFORMED:
		break;
	}
	return AIC_UDP_MINE;
}

static const struct aic_plugin quic_plugin = {
	.abi = AIC_PLUGIN_ABI,
	.name = "quic",
	.version = "1",
	.init = quic_init,
	.fini = quic_fini,
	.udp = quic_udp,
};

const struct aic_plugin *
det_quic_plugin(void)
{
	return &quic_plugin;
}
