/*
 * fuzz_tls.c - the ClientHello parser: the input as a TCP stream of TLS
 * records (tls_parse_records) and as handshake-layer bytes, the way QUIC
 * hands its CRYPTO stream over (tls_parse_handshake).  A prefix of a
 * good hello must never be worse than "more": the parse of the first
 * half is checked against the parse of the whole.  The SNI promises of
 * tls.h are checked: 1 to 255 bytes, no NUL.
 */
#include "fuzz.h"
#include "proto/tls.h"

static void
ftls_check(enum tls_rc rc, const struct tls_ch *ch)
{
	FUZZ_ASSERT(rc <= TLS_UNREADABLE);
	if (rc != TLS_SNI)
		return;
	FUZZ_ASSERT(ch->has_sni);
	FUZZ_ASSERT(ch->sni_len >= 1 && ch->sni_len <= TLS_SNI_MAX);
	FUZZ_ASSERT(strlen(ch->sni) == ch->sni_len);
}

int FUZZ_ONE(tls)(const uint8_t *data, size_t size);

/*
 * The records read with their headers cut out as they come
 * (tls_deframe, as det_tls.c does through the host), the input arriving
 * in pieces of step bytes: must give what tls_parse_records gives on
 * the whole input, name included.
 */
static void
ftls_deframe(const uint8_t *data, size_t size, size_t step,
    enum tls_rc want, const struct tls_ch *wch)
{
	static uint8_t b[65536];
	struct tls_deframe d;
	struct tls_ch ch;
	size_t held = 0, got = 0, take, at;
	int rc = TLS_DF_MORE;

	if (size > sizeof(b))
		return;
	memset(&d, 0, sizeof(d));
	while (got < size) {
		take = size - got < step ? size - got : step;
		memcpy(b + held, data + got, take);
		held += take;
		got += take;
		while ((rc = tls_deframe(&d, b, held, &at)) == TLS_DF_CUT) {
			FUZZ_ASSERT(at >= 5 && at + 5 <= held);
			memmove(b + at, b + at + 5, held - at - 5);
			held -= 5;
		}
		if (rc != TLS_DF_MORE)
			break;
	}
	if (rc == TLS_DF_MORE || rc == TLS_DF_DONE)
		rc = tls_deframed(&d, b, held, &ch);
	FUZZ_ASSERT(rc == (int)want);
	if (want == TLS_SNI)
		FUZZ_ASSERT(ch.complete == wch->complete &&
		    ch.has_ech == wch->has_ech && ch.sni_len == wch->sni_len &&
		    memcmp(ch.sni, wch->sni, ch.sni_len) == 0);
}

int
FUZZ_ONE(tls)(const uint8_t *data, size_t size)
{
	struct tls_ch ch, half;
	enum tls_rc rc, rh;

	memset(&ch, 0x5a, sizeof(ch));
	rc = tls_parse_records(data, size, &ch);
	ftls_check(rc, &ch);
	(void)tls_looks_like_clienthello(data, size);
	ftls_deframe(data, size, size > 0 ? size : 1, rc, &ch);
	ftls_deframe(data, size, 7, rc, &ch);
	if (rc == TLS_SNI && ch.complete) {
		/* the first half of a complete hello: more, or the name */
		rh = tls_parse_records(data, size / 2, &half);
		ftls_check(rh, &half);
		FUZZ_ASSERT(rh == TLS_MORE || rh == TLS_SNI);
		if (rh == TLS_SNI)
			FUZZ_ASSERT(half.sni_len == ch.sni_len &&
			    memcmp(half.sni, ch.sni, ch.sni_len) == 0);
	}

	memset(&ch, 0x5a, sizeof(ch));
	rc = tls_parse_handshake(data, size, &ch);
	ftls_check(rc, &ch);
	if (rc == TLS_SNI && ch.complete) {
		rh = tls_parse_handshake(data, size / 2, &half);
		ftls_check(rh, &half);
		FUZZ_ASSERT(rh == TLS_MORE || rh == TLS_SNI);
		if (rh == TLS_SNI)
			FUZZ_ASSERT(half.sni_len == ch.sni_len &&
			    memcmp(half.sni, ch.sni, ch.sni_len) == 0);
	}
	return 0;
}
