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

int
FUZZ_ONE(tls)(const uint8_t *data, size_t size)
{
	struct tls_ch ch, half;
	enum tls_rc rc, rh;

	memset(&ch, 0x5a, sizeof(ch));
	rc = tls_parse_records(data, size, &ch);
	ftls_check(rc, &ch);
	(void)tls_looks_like_clienthello(data, size);
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
