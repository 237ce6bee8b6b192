/*
 * det_tls.c - the server name of a TLS ClientHello over TCP, any port.
 *
 * The host hands over the client's reassembled stream from the segment
 * that looked like the start of a ClientHello.  The name is reported as
 * soon as it is in hand, flagged partial while the rest of the
 * ClientHello is still missing: a ClientHello whose tail never arrives
 * still counts (the host decides; only an ECH public name needs the
 * whole message, to see the encrypted_client_hello extension).
 */
#include <stdlib.h>
#include <string.h>

#include "aicensus_plugin.h"
#include "detect/detectors.h"
#include "proto/tls.h"

struct tls_state {
	const struct aic_host	*host;
};

struct tls_flow {
	uint8_t			 partial_sent;
	struct tls_deframe	 df;
};

static int
tls_init(const struct aic_host *host, const char *arg, void **state)
{
	struct tls_state *s;

	(void)arg;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->host = host;
	*state = s;
	return 0;
}

static void
tls_fini(void *state)
{
	free(state);
}

static int
tls_tcp_claim(void *state, const struct aic_payload *pl)
{
	(void)state;
	return pl->from_client && tls_looks_like_clienthello(pl->data, pl->len);
}

static void
emit(struct tls_state *s, enum aic_event_kind kind, unsigned flags,
    const char *name, size_t len)
{
	struct aic_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.flags = flags;
	ev.name = name;
	ev.name_len = len;
	s->host->emit(s->host->ctx, &ev);
}

/*
 * The ClientHello as far as the stream has it.  Where the host can cut
 * bytes out of its buffer, the header of every record after the first
 * is cut as it is read (tls_deframe), so a hello in one-byte records
 * needs its own size of buffer, not six times it.
 */
static enum tls_rc
read_hello(struct tls_state *s, struct tls_flow *fl,
    const struct aic_payload *pl, struct tls_ch *ch)
{
	size_t len = pl->len, at;
	int rc;

	if (s->host->stream_cut == NULL)
		return tls_parse_records(pl->data, pl->len, ch);
	while ((rc = tls_deframe(&fl->df, pl->data, len, &at)) ==
	    TLS_DF_CUT) {
		if (s->host->stream_cut(s->host->ctx, at, 5) != 0)
			return TLS_MALFORMED;	/* cannot be: at is in data */
		len -= 5;
	}
	if (rc != TLS_DF_MORE && rc != TLS_DF_DONE) {
		memset(ch, 0, sizeof(*ch));
		return (enum tls_rc)rc;
	}
	return tls_deframed(&fl->df, pl->data, len, ch);
}

static enum aic_verdict
tls_tcp_stream(void *state, const struct aic_payload *pl, size_t *consumed)
{
	struct tls_state *s = state;
	struct tls_flow *fl = pl->fstate;
	struct tls_ch ch;
	enum tls_rc rc;

	(void)consumed;
	rc = read_hello(s, fl, pl, &ch);
	switch (rc) {
	case TLS_MORE:
		return AIC_MORE;
	case TLS_SNI:
		if (!ch.complete) {
			if (!fl->partial_sent)
				emit(s, AIC_EV_TLS_SNI, AIC_EVF_PARTIAL |
				    (ch.has_ech ? AIC_EVF_ECH : 0),
				    ch.sni, ch.sni_len);
			fl->partial_sent = 1;
			return AIC_MORE;
		}
		emit(s, AIC_EV_TLS_SNI, ch.has_ech ? AIC_EVF_ECH : 0, ch.sni,
		    ch.sni_len);
		return AIC_DONE;
	case TLS_NO_SNI:
		emit(s, AIC_EV_TLS_SNI, AIC_EVF_NO_NAME |
		    (ch.has_ech ? AIC_EVF_ECH : 0), "", 0);
		return AIC_DONE;
	case TLS_MALFORMED:
		det_anomaly(s->host, ANOM_TLS_MALFORMED);
		return AIC_NOT_MINE;
	case TLS_UNREADABLE:
		det_anomaly(s->host, ANOM_TLS_UNREADABLE);
		return AIC_NOT_MINE;
	case TLS_NOT_TLS:
		break;
	}
	return AIC_NOT_MINE;
}

static const struct aic_plugin tls_plugin = {
	.abi = AIC_PLUGIN_ABI,
	.name = "tls",
	.version = "1",
	.flow_state_size = sizeof(struct tls_flow),
	.init = tls_init,
	.fini = tls_fini,
	.tcp_claim = tls_tcp_claim,
	.tcp_stream = tls_tcp_stream,
};

const struct aic_plugin *
det_tls_plugin(void)
{
	return &tls_plugin;
}
