/*
 * fuzz_quic.c - QUIC Initial decryption, frames and CRYPTO reassembly
 * (quic_feed), over several datagrams into one fresh table per input.
 *
 * Input: a mode byte, then segments separated by FUZZ_SEP.
 *  mode bit 0 = 0  raw: each segment is [ctl][datagram], fed as is.
 *  mode bit 0 = 1  sealed: each segment is [ctl][pn][plaintext frames];
 *                  the target seals the frames into an authentic client
 *                  Initial (fixed DCID, v1 or v2 by ctl bit 0), so the
 *                  frame parser and the reassembly are reached past the
 *                  AEAD; ctl bit 1 feeds the plaintext raw instead, and
 *                  ctl bit 2 appends a second copy of the sealed packet
 *                  (coalesced packets, duplicates).
 *  mode bits 1-2   CRYPTO cap: 64, 256, 4096 or 65536 bytes.
 *  ctl bits 4-5    which of four UDP flows; ctl bit 6: from the server;
 *  ctl bit 7       time jumps past QUIC_IDLE_USEC before this datagram.
 * The table holds two connections, so eviction is explored too.  What
 * quic.h promises about quic_result is checked, and the CRYPTO prefix
 * goes through tls_parse_handshake() the way det_quic.c does.
 */
#include "fuzz.h"
#include "proto/quic.h"
#include "proto/tls.h"

static struct fuzz_sealer fquic_sealer;
static int fquic_ready;

int FUZZ_INIT(quic)(int *argc, char ***argv);
int FUZZ_ONE(quic)(const uint8_t *data, size_t size);

int
FUZZ_INIT(quic)(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!fquic_ready && fuzz_sealer_init(&fquic_sealer) != 0) {
		fprintf(stderr, "fuzz_quic: cannot derive the Initial keys\n");
		abort();
	}
	fquic_ready = 1;
	return 0;
}

static void
fquic_one(struct quic_table *t, size_t cap, int from_client, uint64_t key,
    uint64_t now, const uint8_t *p, size_t len)
{
	struct quic_result res;
	struct quic_stats st;
	struct tls_ch ch;
	enum quic_rc rc;
	volatile uint8_t sink = 0;
	size_t i;

	memset(&res, 0x5a, sizeof(res));
	rc = quic_feed(t, key, from_client, now, p, len, &res);
	FUZZ_ASSERT(rc <= QUIC_MALFORMED);
	if (rc == QUIC_PENDING || rc == QUIC_CLIENTHELLO) {
		FUZZ_ASSERT(from_client);
		FUZZ_ASSERT(res.crypto_len <= cap);
		FUZZ_ASSERT(res.conn != 0);
		FUZZ_ASSERT(res.version == QUIC_V1 || res.version == QUIC_V2);
		FUZZ_ASSERT(res.crypto_len == 0 || res.crypto != NULL);
		for (i = 0; i < res.crypto_len; i++)
			sink ^= res.crypto[i];
		if (res.crypto_len > 0)
			FUZZ_ASSERT(res.crypto[0] == 1);
		if (res.complete)
			FUZZ_ASSERT(res.crypto_len >= 4 && res.crypto_len >= 4 +
			    ((size_t)res.crypto[1] << 16 |
			    (size_t)res.crypto[2] << 8 | res.crypto[3]));
		if (res.crypto_len > 0) {
			enum tls_rc tr = tls_parse_handshake(res.crypto,
			    res.crypto_len, &ch);

			if (tr != TLS_MORE)
				quic_conn_done(t, res.conn);
		}
	} else {
		FUZZ_ASSERT(res.crypto == NULL && res.crypto_len == 0);
	}
	if (!from_client)
		FUZZ_ASSERT(rc == QUIC_IGNORED || rc == QUIC_NOT_QUIC ||
		    rc == QUIC_MALFORMED);
	quic_table_stats(t, &st);
	FUZZ_ASSERT(st.in_use <= 2);
	(void)sink;
}

int
FUZZ_ONE(quic)(const uint8_t *data, size_t size)
{
	static const size_t caps[4] = { 64, 256, 4096, 65536 };
	static uint8_t buf[2 * 16100];
	struct fuzz_split sp;
	struct quic_table *t;
	const uint8_t *seg;
	size_t seglen, cap;
	uint64_t now = 1000000;
	int sealed;

	if (size < 1)
		return 0;
	if (!fquic_ready)
		FUZZ_INIT(quic)(NULL, NULL);
	sealed = data[0] & 1;
	cap = caps[(data[0] >> 1) & 3];
	if ((t = quic_table_new(2, cap)) == NULL)
		abort();
	sp.p = data + 1;
	sp.len = size - 1;
	while (fuzz_next(&sp, &seg, &seglen)) {
		uint8_t ctl;
		uint64_t key;
		int from_client;

		if (seglen < 1)
			continue;
		ctl = seg[0];
		key = 0x1000 + ((ctl >> 4) & 3);
		from_client = !(ctl & 0x40);
		now += (ctl & 0x80) ? QUIC_IDLE_USEC + 1 : 1000;
		if (!sealed || (ctl & 2)) {
			fquic_one(t, cap, from_client, key, now, seg + 1,
			    seglen - 1);
		} else if (seglen >= 2) {
			size_t n = fuzz_seal(&fquic_sealer, ctl & 1, seg[1],
			    seg + 2, seglen - 2, buf, sizeof(buf) / 2);

			if (n == 0)
				continue;
			if (ctl & 4) {
				memcpy(buf + n, buf, n);
				n *= 2;
			}
			fquic_one(t, cap, from_client, key, now, buf, n);
		}
	}
	quic_table_free(t);
	return 0;
}
