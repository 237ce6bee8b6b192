/*
 * test_quic.c - QUIC Initial decryption and CRYPTO reassembly.
 *
 * Real datagrams (quic_vectors.h) check decryption against captures and
 * the RFC examples; packets built here with the RFC's published keys
 * check the frame parser, reassembly limits and table behaviour.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "proto/quic.h"
#include "quic_vectors.h"
#include "t.h"

#define NOW	1000000000ull	/* arbitrary monotonic start */
#define CAP	8192

static const char *const ja4_sni[] = {
	"www.blogger.com", "socpuppet.blogspot.com", "apis.google.com",
	"www.blogger.com", "apis.google.com", "www.google.com",
	"www.gstatic.com", "fonts.gstatic.com", "4.bp.blogspot.com",
	"1.bp.blogspot.com", "2.bp.blogspot.com"
};

static int
has(const uint8_t *p, size_t len, const char *s)
{
	size_t n = strlen(s), i;

	for (i = 0; p != NULL && i + n <= len; i++)
		if (memcmp(p + i, s, n) == 0)
			return 1;
	return 0;
}

static size_t
in_use(const struct quic_table *t)
{
	struct quic_stats st;

	quic_table_stats(t, &st);
	return st.in_use;
}

/* Check a QUIC_CLIENTHELLO result: a whole ClientHello carrying sni. */
static void
check_ch(const struct quic_result *r, uint32_t version, const char *sni)
{
	T_EQ_INT(r->version, version);
	T_EQ_INT(r->complete, 1);
	T_CHECK(r->crypto != NULL && r->crypto_len >= 4);
	if (r->crypto == NULL || r->crypto_len < 4)
		return;
	T_EQ_INT(r->crypto[0], 1);
	T_CHECK(r->crypto_len >= 4 + ((size_t)r->crypto[1] << 16 |
	    (size_t)r->crypto[2] << 8 | r->crypto[3]));
	if (sni != NULL)
		T_CHECK(has(r->crypto, r->crypto_len, sni));
}

/*
 * Feed the client datagrams of a capture in the order given by idx and
 * check that exactly the last one completes the ClientHello.
 */
static void
feed_order(const struct qv *v, const int *idx, int n, uint32_t version,
    const char *sni)
{
	struct quic_table *t = quic_table_new(16, CAP);
	struct quic_result r;
	enum quic_rc rc;
	int i;

	T_CHECK(t != NULL);
	if (t == NULL)
		return;
	for (i = 0; i < n; i++) {
		const struct qv *q = &v[idx[i]];

		rc = quic_feed(t, q->cport, 1, NOW + (uint64_t)i, q->p,
		    q->len, &r);
		if (i + 1 < n) {
			T_EQ_INT(rc, QUIC_PENDING);
			T_EQ_INT(r.complete, 0);
			if (r.crypto_len > 0)
				T_EQ_INT(r.crypto[0], 1);
		} else {
			T_EQ_INT(rc, QUIC_CLIENTHELLO);
			check_ch(&r, version, sni);
		}
		T_EQ_INT(r.anomalies, 0);
	}
	T_EQ_INT(in_use(t), 1);
	quic_table_free(t);
}

/* ---- packets built here (RFC 9001 A.1 / RFC 9369 A.1 keys) ---- */

static const uint8_t rfc_dcid[8] = {
	0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08
};

struct tkeys {
	uint8_t key[16], iv[12], hp[16];
};

static int
t_hkdf(int mode, const uint8_t *salt, size_t sl, const uint8_t *key,
    size_t kl, const uint8_t *info, size_t il, uint8_t *out, size_t ol)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *c = EVP_KDF_CTX_new(kdf);
	OSSL_PARAM p[6], *q = p;
	char md[] = "SHA256";
	int ok;

	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, md, 0);
	*q++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)key, kl);
	if (salt != NULL)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
		    (void *)salt, sl);
	if (info != NULL)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
		    (void *)info, il);
	*q = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(c, out, ol, p) > 0;
	EVP_KDF_CTX_free(c);
	EVP_KDF_free(kdf);
	return ok;
}

static void
t_label(const uint8_t *sec, const char *label, uint8_t *out, size_t ol)
{
	uint8_t info[64];
	size_t n = 0, ll = strlen(label);

	info[n++] = 0;
	info[n++] = (uint8_t)ol;
	info[n++] = (uint8_t)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, ll);
	n += ll;
	info[n++] = 0;
	t_hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, NULL, 0, sec, 32, info, n, out,
	    ol);
}

static void
t_keys(uint32_t version, const uint8_t *dcid, size_t dl, struct tkeys *k)
{
	static const uint8_t s1[] = {
		0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
		0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a
	};
	static const uint8_t s2[] = {
		0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
		0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9
	};
	static const uint8_t one[1];
	uint8_t prk[32], cs[32];
	int v2 = version == QUIC_V2;

	t_hkdf(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, v2 ? s2 : s1, 20,
	    dl ? dcid : one, dl, NULL, 0, prk, 32);
	t_label(prk, "client in", cs, 32);
	t_label(cs, v2 ? "quicv2 key" : "quic key", k->key, 16);
	t_label(cs, v2 ? "quicv2 iv" : "quic iv", k->iv, 12);
	t_label(cs, v2 ? "quicv2 hp" : "quic hp", k->hp, 16);
}

/* The published RFC 9001 A.1 / RFC 9369 A.1 client keys. */
static void
test_rfc_keys(void)
{
	static const uint8_t k1[16] = {
		0x1f, 0x36, 0x96, 0x13, 0xdd, 0x76, 0xd5, 0x46,
		0x77, 0x30, 0xef, 0xcb, 0xe3, 0xb1, 0xa2, 0x2d
	};
	static const uint8_t hp1[16] = {
		0x9f, 0x50, 0x44, 0x9e, 0x04, 0xa0, 0xe8, 0x10,
		0x28, 0x3a, 0x1e, 0x99, 0x33, 0xad, 0xed, 0xd2
	};
	static const uint8_t k2[16] = {
		0x8b, 0x1a, 0x0b, 0xc1, 0x21, 0x28, 0x42, 0x90,
		0xa2, 0x9e, 0x09, 0x71, 0xb5, 0xcd, 0x04, 0x5d
	};
	static const uint8_t iv2[12] = {
		0x91, 0xf7, 0x3e, 0x23, 0x51, 0xd8, 0xfa, 0x91,
		0x66, 0x0e, 0x90, 0x9f
	};
	struct tkeys k;

	/* Guards the test's own packet builder. */
	t_keys(QUIC_V1, rfc_dcid, 8, &k);
	T_CHECK(memcmp(k.key, k1, 16) == 0);
	T_CHECK(memcmp(k.hp, hp1, 16) == 0);
	t_keys(QUIC_V2, rfc_dcid, 8, &k);
	T_CHECK(memcmp(k.key, k2, 16) == 0);
	T_CHECK(memcmp(k.iv, iv2, 12) == 0);
}

struct pkt_opts {
	uint32_t	 version;
	const uint8_t	*dcid;
	size_t		 dcid_len;
	uint32_t	 pn;
	int		 type;		/* v1 numbering: 0 Initial, 2 HS */
	size_t		 token_len;
};

/*
 * Protect payload as a long-header packet (4-byte packet number,
 * 8-byte SCID, 2-byte Length).  Returns the packet length.
 */
static size_t
build(uint8_t *out, const struct pkt_opts *o, const uint8_t *pl, size_t plen)
{
	struct tkeys k;
	EVP_CIPHER_CTX *c;
	uint8_t mask[16], nonce[12];
	size_t n = 0, pn_off, len_field, i;
	int type = o->type, outl;

	t_keys(o->version, o->dcid, o->dcid_len, &k);
	if (o->version == QUIC_V2)
		type = (type + 1) & 3;
	out[n++] = (uint8_t)(0xc0 | type << 4 | 3);
	out[n++] = (uint8_t)(o->version >> 24);
	out[n++] = (uint8_t)(o->version >> 16);
	out[n++] = (uint8_t)(o->version >> 8);
	out[n++] = (uint8_t)o->version;
	out[n++] = (uint8_t)o->dcid_len;
	memcpy(out + n, o->dcid, o->dcid_len);
	n += o->dcid_len;
	out[n++] = 8;
	memset(out + n, 0x5a, 8);
	n += 8;
	if (o->type == 0) {
		out[n++] = (uint8_t)o->token_len;	/* < 64 */
		memset(out + n, 0x77, o->token_len);
		n += o->token_len;
	}
	len_field = 4 + plen + 16;
	out[n++] = (uint8_t)(0x40 | len_field >> 8);
	out[n++] = (uint8_t)len_field;
	pn_off = n;
	for (i = 0; i < 4; i++)
		out[n++] = (uint8_t)(o->pn >> (24 - 8 * i));
	memcpy(nonce, k.iv, 12);
	for (i = 0; i < 4; i++)
		nonce[11 - i] ^= (uint8_t)(o->pn >> (8 * i));
	c = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, k.key, nonce);
	EVP_EncryptUpdate(c, NULL, &outl, out, (int)n);
	EVP_EncryptUpdate(c, out + n, &outl, pl, (int)plen);
	EVP_EncryptFinal_ex(c, out + n + plen, &outl);
	EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out + n + plen);
	EVP_CIPHER_CTX_free(c);
	c = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, k.hp, NULL);
	EVP_EncryptUpdate(c, mask, &outl, out + pn_off + 4, 16);
	EVP_CIPHER_CTX_free(c);
	out[0] ^= mask[0] & 0x0f;
	for (i = 0; i < 4; i++)
		out[pn_off + i] ^= mask[1 + i];
	return n + plen + 16;
}

static const struct pkt_opts v1opt = { QUIC_V1, rfc_dcid, 8, 0, 0, 0 };

/* A fake ClientHello: type 1, length, then a recognisable body. */
static size_t
fake_ch(uint8_t *out, size_t body)
{
	size_t i;

	out[0] = 1;
	out[1] = (uint8_t)(body >> 16);
	out[2] = (uint8_t)(body >> 8);
	out[3] = (uint8_t)body;
	for (i = 0; i < body; i++)
		out[4 + i] = (uint8_t)('a' + i % 26);
	return 4 + body;
}

/* Append a CRYPTO frame (2-byte varints for offset and length). */
static size_t
crypto_fr(uint8_t *out, size_t off, const uint8_t *data, size_t n)
{
	out[0] = 0x06;
	out[1] = (uint8_t)(0x40 | off >> 8);
	out[2] = (uint8_t)off;
	out[3] = (uint8_t)(0x40 | n >> 8);
	out[4] = (uint8_t)n;
	memcpy(out + 5, data, n);
	return 5 + n;
}

/* ---- tests ---- */

static void
test_rfc9001(void)
{
	struct quic_table *t = quic_table_new(4, CAP);
	struct quic_result r;

	T_EQ_INT(quic_feed(t, 1, 1, NOW, rfc9001_a2, sizeof(rfc9001_a2), &r),
	    QUIC_CLIENTHELLO);
	check_ch(&r, QUIC_V1, "example.com");
	T_EQ_INT(r.crypto_len, 241);
	T_EQ_INT(r.anomalies, 0);
	T_CHECK(r.conn != 0);
	/* A retransmit of a done connection is not reported again. */
	T_EQ_INT(quic_feed(t, 1, 1, NOW + 1, rfc9001_a2, sizeof(rfc9001_a2),
	    &r), QUIC_IGNORED);
	T_CHECK(r.crypto == NULL);
	/* Same DCID on another flow is another connection. */
	T_EQ_INT(quic_feed(t, 2, 1, NOW + 2, rfc9001_a2, sizeof(rfc9001_a2),
	    &r), QUIC_CLIENTHELLO);
	T_EQ_INT(in_use(t), 2);
	quic_table_free(t);
}

static void
test_rfc9369_v2(void)
{
	struct quic_table *t = quic_table_new(4, CAP);
	struct quic_result r;

	T_EQ_INT(quic_feed(t, 1, 1, NOW, rfc9369_a2, sizeof(rfc9369_a2), &r),
	    QUIC_CLIENTHELLO);
	check_ch(&r, QUIC_V2, "example.com");
	T_EQ_INT(r.crypto_len, 241);
	T_EQ_INT(r.anomalies, 0);
	quic_table_free(t);
}

static void
test_frag_unordered(void)
{
	static const int fwd[] = { 0, 1 }, rev[] = { 1, 0 };

	feed_order(fu, fwd, 2, QUIC_V1, "mastodon.social");
	feed_order(fu, rev, 2, QUIC_V1, "mastodon.social");
}

static void
test_three_initials(void)
{
	static const int perm[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
		{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 }
	};
	int i;

	for (i = 0; i < 6; i++)
		feed_order(zm, perm[i], 3, QUIC_V1,
		    "googleads.g.doubleclick.net");
}

/* Rest of the zeek capture: 0-RTT, server Initial, DCID switch. */
static void
test_after_clienthello(void)
{
	struct quic_table *t = quic_table_new(16, CAP);
	struct quic_result r;
	struct quic_stats st;
	enum quic_rc rc = QUIC_NOT_QUIC;
	int i;

	for (i = 0; i < 3; i++)
		rc = quic_feed(t, 45945, 1, NOW, zm[i].p, zm[i].len, &r);
	T_EQ_INT(rc, QUIC_CLIENTHELLO);
	/* 0-RTT only: skipped by Length, nothing decrypted. */
	T_EQ_INT(zm[3].frame, 4);
	T_EQ_INT(quic_feed(t, 45945, 1, NOW, zm[3].p, zm[3].len, &r),
	    QUIC_IGNORED);
	T_EQ_INT(r.anomalies, 0);
	/* Server Initial: never decrypted when the direction is known. */
	T_EQ_INT(zm[4].from_client, 0);
	T_EQ_INT(quic_feed(t, 45945, 0, NOW, zm[4].p, zm[4].len, &r),
	    QUIC_IGNORED);
	T_EQ_INT(r.anomalies, 0);
	/* Said to be from the client, it fails the client keys. */
	T_EQ_INT(quic_feed(t, 45945, 1, NOW, zm[4].p, zm[4].len, &r),
	    QUIC_AUTH_FAIL);
	T_EQ_INT(r.anomalies, QA_AUTH_FAIL);
	/*
	 * The client resends its Initial to the server-chosen DCID with
	 * the original keys: it joins the done connection.
	 */
	T_EQ_INT(zm[5].frame, 8);
	T_EQ_INT(quic_feed(t, 45945, 1, NOW, zm[5].p, zm[5].len, &r),
	    QUIC_IGNORED);
	T_EQ_INT(r.anomalies, 0);
	quic_table_stats(t, &st);
	T_EQ_INT(st.created, 1);
	T_EQ_INT(st.clienthellos, 1);
	T_EQ_INT(st.auth_fail, 1);
	T_EQ_INT(st.in_use, 1);
	/* Without the original connection, that packet cannot be read. */
	quic_table_free(t);
	t = quic_table_new(16, CAP);
	T_EQ_INT(quic_feed(t, 45945, 1, NOW, zm[5].p, zm[5].len, &r),
	    QUIC_AUTH_FAIL);
	T_EQ_INT(in_use(t), 0);
	quic_table_free(t);
}

static void
test_v2_captures(void)
{
	struct quic_table *t = quic_table_new(16, CAP);
	struct quic_result r;

	T_EQ_INT(quic_feed(t, 1, 1, NOW, v2e[0].p, v2e[0].len, &r),
	    QUIC_CLIENTHELLO);
	check_ch(&r, QUIC_V2, "localhost");
	T_EQ_INT(quic_feed(t, 1, 1, NOW, v2e[1].p, v2e[1].len, &r),
	    QUIC_IGNORED);
	T_EQ_INT(quic_feed(t, 1, 0, NOW, v2e[2].p, v2e[2].len, &r),
	    QUIC_IGNORED);
	T_EQ_INT(r.anomalies, 0);
	/* A v2 ClientHello without server_name is still a ClientHello. */
	T_EQ_INT(quic_feed(t, 2, 1, NOW, v2s[0].p, v2s[0].len, &r),
	    QUIC_CLIENTHELLO);
	check_ch(&r, QUIC_V2, NULL);
	T_CHECK(!has(r.crypto, r.crypto_len, "localhost"));
	quic_table_free(t);
}

static void
test_retry(void)
{
	struct quic_table *t = quic_table_new(16, CAP);
	struct quic_result r;
	struct quic_stats st;

	T_EQ_INT(quic_feed(t, 7, 1, NOW, rt[0].p, rt[0].len, &r),
	    QUIC_PENDING);
	T_EQ_INT(quic_feed(t, 7, 1, NOW, rt[1].p, rt[1].len, &r),
	    QUIC_CLIENTHELLO);
	check_ch(&r, QUIC_V1, "www.gravatar.com");
	T_EQ_INT(rt[2].from_client, 0);
	T_EQ_INT(quic_feed(t, 7, 0, NOW, rt[2].p, rt[2].len, &r),
	    QUIC_IGNORED);
	T_EQ_INT(r.anomalies, QA_RETRY);
	T_EQ_INT(quic_feed(t, 7, 1, NOW, rt[2].p, rt[2].len, &r),
	    QUIC_IGNORED);
	T_EQ_INT(r.anomalies, QA_RETRY);
	/* The Initials after the Retry use a new DCID and new keys. */
	T_EQ_INT(quic_feed(t, 7, 1, NOW, rt[4].p, rt[4].len, &r),
	    QUIC_PENDING);
	T_EQ_INT(quic_feed(t, 7, 1, NOW, rt[3].p, rt[3].len, &r),
	    QUIC_CLIENTHELLO);
	check_ch(&r, QUIC_V1, "www.gravatar.com");
	quic_table_stats(t, &st);
	T_EQ_INT(st.created, 2);
	T_EQ_INT(st.auth_fail, 0);
	quic_table_free(t);
}

static void
test_version_negotiation(void)
{
	struct quic_table *t = quic_table_new(16, CAP);
	struct quic_result r;

	T_EQ_INT(quic_feed(t, 3, 1, NOW, vn[0].p, vn[0].len, &r),
	    QUIC_IGNORED);
	T_EQ_INT(r.anomalies, QA_UNKNOWN_VERSION);
	/* Too short for a client's first datagram: not taken for QUIC. */
	T_EQ_INT(vn[0].len, 1200);
	T_EQ_INT(quic_feed(t, 3, 1, NOW, vn[0].p, 1199, &r), QUIC_NOT_QUIC);
	T_EQ_INT(r.anomalies, 0);
	/* A DNS query (high bit of its ID set) is not QUIC either. */
	T_EQ_INT(quic_feed(t, 3, 1, NOW, (const uint8_t *)
	    "\x9a\x41\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
	    "\x03www\x07example\x03com\x00\x00\x01\x00\x01", 33, &r),
	    QUIC_NOT_QUIC);
	T_EQ_INT(quic_feed(t, 3, 0, NOW, vn[1].p, vn[1].len, &r),
	    QUIC_IGNORED);
	T_EQ_INT(r.anomalies, QA_VERSION_NEG);
	/* A version list that is not whole 4-byte versions. */
	T_EQ_INT(quic_feed(t, 3, 0, NOW, vn[1].p, vn[1].len - 1, &r),
	    QUIC_NOT_QUIC);
	T_EQ_INT(r.anomalies, 0);
	T_EQ_INT(in_use(t), 0);
	T_EQ_INT(quic_feed(t, 3, 1, NOW, vn[2].p, vn[2].len, &r),
	    QUIC_CLIENTHELLO);
	check_ch(&r, QUIC_V1, "localhost");
	/* ACK-only Initial to the server's DCID: joins, not re-reported. */
	T_EQ_INT(quic_feed(t, 3, 1, NOW, vn[3].p, vn[3].len, &r),
	    QUIC_IGNORED);
	T_EQ_INT(r.anomalies, 0);
	T_EQ_INT(in_use(t), 1);
	quic_table_free(t);
}

static void
test_ja4_connections(void)
{
	struct quic_table *t = quic_table_new(64, CAP);
	struct quic_result r;
	size_t i, n = sizeof(ja4) / sizeof(ja4[0]);

	T_EQ_INT(n, sizeof(ja4_sni) / sizeof(ja4_sni[0]));
	for (i = 0; i < n; i++) {
		T_EQ_INT(quic_feed(t, ja4[i].cport, 1, NOW, ja4[i].p,
		    ja4[i].len, &r), QUIC_CLIENTHELLO);
		check_ch(&r, QUIC_V1, ja4_sni[i]);
		T_EQ_INT(r.anomalies, 0);
	}
	/* In reverse on a fresh table: same answers. */
	quic_table_free(t);
	t = quic_table_new(64, CAP);
	for (i = n; i-- > 0; ) {
		T_EQ_INT(quic_feed(t, ja4[i].cport, 1, NOW, ja4[i].p,
		    ja4[i].len, &r), QUIC_CLIENTHELLO);
		check_ch(&r, QUIC_V1, ja4_sni[i]);
	}
	T_EQ_INT(in_use(t), n);
	quic_table_free(t);
}

/* Length of the first packet of a v1/v2 datagram (test-side parse). */
static size_t
first_len(const uint8_t *p, size_t len)
{
	size_t n = 6 + p[5];
	uint64_t v;
	int vl, i;

	n += 1 + p[n];
	if (((p[0] >> 4) & 3) == (p[1] == 0x6b ? 1 : 0)) {	/* Initial */
		vl = 1 << (p[n] >> 6);
		for (v = p[n] & 0x3f, i = 1; i < vl; i++)
			v = v << 8 | p[n + i];
		n += vl + v;
	}
	vl = 1 << (p[n] >> 6);
	for (v = p[n] & 0x3f, i = 1; i < vl; i++)
		v = v << 8 | p[n + i];
	n += vl + v;
	return n < len ? n : len;
}

/* Every prefix of every client datagram: no crash, no state, no CH. */
static void
check_prefixes(const struct qv *v, size_t n)
{
	struct quic_table *t = quic_table_new(8, CAP);
	struct quic_result r;
	enum quic_rc rc;
	size_t i, k, end;
	int bad = 0;

	for (i = 0; i < n; i++) {
		if (!v[i].from_client || v[i].p[1] == 0x1a)
			continue;
		end = first_len(v[i].p, v[i].len);
		for (k = 0; k < end; k++) {
			uint8_t *copy = malloc(k ? k : 1);

			/* A heap copy of the exact size lets ASan catch
			 * any read past the end. */
			memcpy(copy, v[i].p, k);
			rc = quic_feed(t, 1, 1, NOW, copy, k, &r);
			free(copy);
			if (rc == QUIC_CLIENTHELLO || rc == QUIC_PENDING ||
			    rc == QUIC_AUTH_FAIL || r.crypto != NULL)
				bad++;
		}
	}
	T_EQ_INT(bad, 0);
	T_EQ_INT(in_use(t), 0);
	quic_table_free(t);
}

static void
test_truncated(void)
{
	static const struct qv rfc[] = {
		{ rfc9001_a2, sizeof(rfc9001_a2), 0, 1, 1 },
		{ rfc9369_a2, sizeof(rfc9369_a2), 0, 1, 1 },
	};

	check_prefixes(rfc, 2);
	check_prefixes(fu, sizeof(fu) / sizeof(fu[0]));
	check_prefixes(zm, sizeof(zm) / sizeof(zm[0]));
	check_prefixes(v2e, sizeof(v2e) / sizeof(v2e[0]));
	check_prefixes(rt, sizeof(rt) / sizeof(rt[0]));
	check_prefixes(vn, sizeof(vn) / sizeof(vn[0]));
	check_prefixes(ja4, 2);
}

static void
test_tag_corruption(void)
{
	struct quic_table *t = quic_table_new(4, CAP);
	struct quic_result r;
	uint8_t b[sizeof(rfc9001_a2)];
	size_t pos[] = { 30, 600, sizeof(b) - 1, 6, 0 };
	size_t i;

	for (i = 0; i < sizeof(pos) / sizeof(pos[0]); i++) {
		memcpy(b, rfc9001_a2, sizeof(b));
		b[pos[i]] ^= 0x01;
		T_EQ_INT(quic_feed(t, 1, 1, NOW, b, sizeof(b), &r),
		    QUIC_AUTH_FAIL);
		T_EQ_INT(r.anomalies, QA_AUTH_FAIL);
		T_CHECK(r.crypto == NULL);
	}
	T_EQ_INT(in_use(t), 0);
	/* With a live connection on the flow, still no auth. */
	T_EQ_INT(quic_feed(t, 1, 1, NOW, rfc9001_a2, sizeof(b), &r),
	    QUIC_CLIENTHELLO);
	memcpy(b, rfc9001_a2, sizeof(b));
	b[700] ^= 0x80;
	T_EQ_INT(quic_feed(t, 1, 1, NOW, b, sizeof(b), &r), QUIC_AUTH_FAIL);
	T_EQ_INT(in_use(t), 1);
	quic_table_free(t);
}

static void
test_bad_lengths(void)
{
	struct quic_table *t = quic_table_new(4, CAP);
	struct quic_result r;
	uint8_t b[sizeof(rfc9001_a2)];
	/* header: c3 00000001 08 <dcid> 00 00 449e ... ; Length at 16 */
	const size_t lpos = 16;

	memcpy(b, rfc9001_a2, sizeof(b));
	b[lpos] = 0x7f;
	b[lpos + 1] = 0xff;
	T_EQ_INT(quic_feed(t, 1, 1, NOW, b, sizeof(b), &r), QUIC_MALFORMED);
	T_EQ_INT(r.anomalies, QA_BAD_LENGTH);
	/* Too short to hold the header-protection sample. */
	memcpy(b, rfc9001_a2, sizeof(b));
	b[lpos] = 0x40;
	b[lpos + 1] = 0x13;
	T_EQ_INT(quic_feed(t, 1, 1, NOW, b, 18 + 0x13, &r), QUIC_MALFORMED);
	T_EQ_INT(r.anomalies, QA_BAD_LENGTH);
	/* Shorter than the datagram: auth fails, the rest is junk. */
	memcpy(b, rfc9001_a2, sizeof(b));
	b[lpos + 1] = 0x00;
	T_EQ_INT(quic_feed(t, 1, 1, NOW, b, sizeof(b), &r), QUIC_AUTH_FAIL);
	/* DCID longer than 20 in v1. */
	memcpy(b, rfc9001_a2, sizeof(b));
	b[5] = 21;
	T_EQ_INT(quic_feed(t, 1, 1, NOW, b, sizeof(b), &r), QUIC_MALFORMED);
	T_EQ_INT(r.anomalies, QA_BAD_LENGTH);
	/* Token length beyond the datagram (8-byte varint). */
	memcpy(b, rfc9001_a2, sizeof(b));
	b[15] = 0xff;
	T_EQ_INT(quic_feed(t, 1, 1, NOW, b, sizeof(b), &r), QUIC_MALFORMED);
	T_EQ_INT(in_use(t), 0);
	/* Not long-header QUIC at all. */
	T_EQ_INT(quic_feed(t, 1, 1, NOW, b, 0, &r), QUIC_NOT_QUIC);
	b[0] = 0x40;
	T_EQ_INT(quic_feed(t, 1, 1, NOW, b, sizeof(b), &r), QUIC_NOT_QUIC);
	b[0] = 0xc3;
	T_EQ_INT(quic_feed(t, 1, 1, NOW, b, 4, &r), QUIC_NOT_QUIC);
	quic_table_free(t);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
test_garbage(void)
{
	struct quic_table *t = quic_table_new(8, CAP);
	struct quic_result r;
	uint8_t b[1500];
	enum quic_rc rc;
	int i, bad = 0;
	size_t len, k;

	for (i = 0; i < 20000; i++) {
		len = rnd() % sizeof(b);
		for (k = 0; k < len; k++)
			b[k] = (uint8_t)rnd();
		/* Make most of them look like v1/v2 long headers. */
		if (len > 6 && i % 4 != 0) {
			memcpy(b, i % 2 ? rfc9001_a2 : rfc9369_a2, 5);
			b[0] = (uint8_t)(0xc0 | (b[0] & 0x3f) |
			    (rnd() & 0x3f));
			b[5] = (uint8_t)(rnd() % 24);
		}
		if (len > 20 && i % 8 == 1)	/* keep a valid header */
			memcpy(b, rfc9001_a2, 20);
		rc = quic_feed(t, rnd(), (int)(rnd() & 1), NOW, b, len, &r);
		if (rc == QUIC_CLIENTHELLO || rc == QUIC_PENDING)
			bad++;
	}
	T_EQ_INT(bad, 0);
	T_EQ_INT(in_use(t), 0);
	quic_table_free(t);
}

static void
test_eviction(void)
{
	struct quic_table *t = quic_table_new(2, CAP);
	struct quic_result r;
	struct quic_stats st;
	uint64_t h;

	T_EQ_INT(quic_feed(t, 1, 1, NOW, fu[0].p, fu[0].len, &r),
	    QUIC_PENDING);
	h = r.conn;
	T_CHECK(h != 0);
	T_EQ_INT(quic_feed(t, 2, 1, NOW + 1, ja4[0].p, ja4[0].len, &r),
	    QUIC_CLIENTHELLO);
	T_EQ_INT(r.anomalies, 0);
	/* Full: the least recently used (flow 1) goes. */
	T_EQ_INT(quic_feed(t, 3, 1, NOW + 2, ja4[1].p, ja4[1].len, &r),
	    QUIC_CLIENTHELLO);
	T_EQ_INT(r.anomalies, QA_TABLE_FULL_EVICT);
	T_EQ_INT(in_use(t), 2);
	/* The evicted half ClientHello cannot complete any more. */
	T_EQ_INT(quic_feed(t, 1, 1, NOW + 3, fu[1].p, fu[1].len, &r),
	    QUIC_PENDING);
	T_EQ_INT(r.anomalies, QA_TABLE_FULL_EVICT);
	/* A stale handle does nothing to the entry's new owner. */
	quic_conn_done(t, h);
	T_EQ_INT(quic_feed(t, 1, 1, NOW + 4, fu[0].p, fu[0].len, &r),
	    QUIC_CLIENTHELLO);
	check_ch(&r, QUIC_V1, "mastodon.social");
	/* Idle entries are reused without counting an eviction. */
	T_EQ_INT(quic_feed(t, 4, 1, NOW + 4 + QUIC_IDLE_USEC + 1, ja4[2].p,
	    ja4[2].len, &r), QUIC_CLIENTHELLO);
	T_EQ_INT(r.anomalies, 0);
	quic_table_stats(t, &st);
	T_EQ_INT(st.evicted, 2);
	T_EQ_INT(st.in_use, 2);
	/* A done entry gone idle is forgotten: reported again. */
	T_EQ_INT(quic_feed(t, 4, 1, NOW + 6 + 2 * QUIC_IDLE_USEC, ja4[2].p,
	    ja4[2].len, &r), QUIC_CLIENTHELLO);
	quic_table_free(t);
}

static void
test_conn_done(void)
{
	struct quic_table *t = quic_table_new(4, CAP);
	struct quic_result r;

	T_EQ_INT(quic_feed(t, 1, 1, NOW, fu[1].p, fu[1].len, &r),
	    QUIC_PENDING);
	quic_conn_done(t, r.conn);
	T_EQ_INT(quic_feed(t, 1, 1, NOW, fu[0].p, fu[0].len, &r),
	    QUIC_IGNORED);
	quic_conn_done(t, 0);
	quic_conn_done(t, UINT64_MAX);
	quic_conn_done(NULL, 1);
	quic_table_free(t);
	T_CHECK(quic_table_new(0, CAP) == NULL);
	T_CHECK(quic_table_new(4, 10) == NULL);
	T_CHECK(quic_table_new(4, QUIC_CRYPTO_MAX + 1) == NULL);
	t = quic_table_new(100, 8000);	/* 8000 is a multiple of 64 */
	T_CHECK(t != NULL && quic_table_mem(t) > 100 * 9000);
	quic_table_free(t);
	quic_table_free(NULL);
}

/* Client Initials never leave state unless decrypted; server's none. */
static void
test_server_direction(void)
{
	struct quic_table *t = quic_table_new(4, CAP);
	struct quic_result r;

	T_EQ_INT(quic_feed(t, 1, 0, NOW, rfc9001_a2, sizeof(rfc9001_a2), &r),
	    QUIC_IGNORED);
	T_EQ_INT(in_use(t), 0);
	T_EQ_INT(quic_feed(t, 1, 0, NOW, fu[2].p, fu[2].len, &r),
	    QUIC_IGNORED);
	T_EQ_INT(quic_feed(t, 1, 0, NOW, fu[3].p, fu[3].len, &r),
	    QUIC_IGNORED);
	T_EQ_INT(r.anomalies, 0);
	T_EQ_INT(in_use(t), 0);
	quic_table_free(t);
}

/* Scattered, overlapping, duplicated frames; ACK/PING/CLOSE skipped. */
static void
test_frames(void)
{
	struct quic_table *t = quic_table_new(4, CAP);
	struct quic_result r;
	uint8_t ch[700], pl[1200], pkt[1400];
	size_t chn = fake_ch(ch, 600), n = 0, plen;
	static const uint8_t ack_ecn[] = {
		0x03, 0x05, 0x00, 0x02, 0x01, 0x00, 0x00, 0x01, 0x00,
		0x41, 0x00, 0x00, 0x7f, 0xff
	};
	static const uint8_t close[] = {
		0x1c, 0x0a, 0x06, 0x03, 'b', 'y', 'e'
	};
	static const uint8_t close_app[] = { 0x1d, 0x00, 0x00 };

	/* packet 1: tail, ACK with ranges + ECN, overlap, PING, PADDING */
	n += crypto_fr(pl + n, 500, ch + 500, chn - 500);
	memcpy(pl + n, ack_ecn, sizeof(ack_ecn));
	n += sizeof(ack_ecn);
	n += crypto_fr(pl + n, 300, ch + 300, 250);
	pl[n++] = 0x01;
	memcpy(pl + n, close, sizeof(close));
	n += sizeof(close);
	memset(pl + n, 0, 40);
	n += 40;
	plen = build(pkt, &v1opt, pl, n);
	T_EQ_INT(quic_feed(t, 1, 1, NOW, pkt, plen, &r), QUIC_PENDING);
	T_EQ_INT(r.crypto_len, 0);
	T_EQ_INT(r.anomalies, 0);
	/* packet 2: 100..310 (overlaps), then ACK (no ECN), then the start */
	n = 0;
	n += crypto_fr(pl + n, 100, ch + 100, 210);
	memcpy(pl + n, "\x02\x01\x00\x00\x00", 5);
	n += 5;
	memcpy(pl + n, close_app, sizeof(close_app));
	n += sizeof(close_app);
	n += crypto_fr(pl + n, 0, ch, 50);
	n += crypto_fr(pl + n, 0, ch, 50);	/* duplicate */
	plen = build(pkt, &(struct pkt_opts){ QUIC_V1, rfc_dcid, 8, 1, 0, 5 },
	    pl, n);
	T_EQ_INT(quic_feed(t, 1, 1, NOW, pkt, plen, &r), QUIC_PENDING);
	T_EQ_INT(r.crypto_len, 50);
	T_EQ_INT(r.complete, 0);
	/* packet 3 closes the gap 50..100 */
	n = crypto_fr(pl, 40, ch + 40, 60);
	plen = build(pkt, &(struct pkt_opts){ QUIC_V1, rfc_dcid, 8, 2, 0, 0 },
	    pl, n);
	T_EQ_INT(quic_feed(t, 1, 1, NOW, pkt, plen, &r), QUIC_CLIENTHELLO);
	T_EQ_INT(r.complete, 1);
	T_EQ_INT(r.crypto_len, chn);
	T_CHECK(r.crypto != NULL && memcmp(r.crypto, ch, chn) == 0);
	quic_table_free(t);
}

static void
test_bad_frames(void)
{
	struct quic_table *t = quic_table_new(4, CAP);
	struct quic_result r;
	uint8_t ch[64], pl[256], pkt[512];
	size_t chn = fake_ch(ch, 40), n, plen;

	/* An unknown frame (STREAM) stops parsing; earlier data is kept. */
	n = crypto_fr(pl, 0, ch, 10);
	pl[n++] = 0x08;
	n += crypto_fr(pl + n, 10, ch + 10, chn - 10);
	plen = build(pkt, &v1opt, pl, n);
	T_EQ_INT(quic_feed(t, 1, 1, NOW, pkt, plen, &r), QUIC_PENDING);
	T_EQ_INT(r.anomalies, QA_BAD_FRAME);
	T_EQ_INT(r.crypto_len, 10);
	/* A CRYPTO frame longer than the packet. */
	n = crypto_fr(pl, 10, ch + 10, chn - 10);
	pl[4] = 0x7f;
	plen = build(pkt, &(struct pkt_opts){ QUIC_V1, rfc_dcid, 8, 1, 0, 0 },
	    pl, n);
	T_EQ_INT(quic_feed(t, 1, 1, NOW, pkt, plen, &r), QUIC_PENDING);
	T_EQ_INT(r.anomalies, QA_BAD_FRAME);
	/* ACK whose range count runs past the end. */
	memcpy(pl, "\x02\x00\x00\x80\x10\x00\x00\x00", 8);
	plen = build(pkt, &(struct pkt_opts){ QUIC_V1, rfc_dcid, 8, 2, 0, 0 },
	    pl, 8);
	T_EQ_INT(quic_feed(t, 1, 1, NOW, pkt, plen, &r), QUIC_PENDING);
	T_EQ_INT(r.anomalies, QA_BAD_FRAME);
	/* CONNECTION_CLOSE reason past the end. */
	memcpy(pl, "\x1c\x00\x00\x3f", 4);
	plen = build(pkt, &(struct pkt_opts){ QUIC_V1, rfc_dcid, 8, 3, 0, 0 },
	    pl, 4);
	T_EQ_INT(quic_feed(t, 1, 1, NOW, pkt, plen, &r), QUIC_PENDING);
	T_EQ_INT(r.anomalies, QA_BAD_FRAME);
	T_EQ_INT(r.crypto_len, 10);
	quic_table_free(t);

	/* Fewer than 4 bytes, and an empty CRYPTO frame: still pending. */
	t = quic_table_new(4, CAP);
	n = crypto_fr(pl, 0, ch, 2);
	n += crypto_fr(pl + n, 2, ch + 2, 0);
	plen = build(pkt, &v1opt, pl, n);
	T_EQ_INT(quic_feed(t, 1, 1, NOW, pkt, plen, &r), QUIC_PENDING);
	T_EQ_INT(r.crypto_len, 2);
	T_EQ_INT(r.anomalies, 0);
	quic_table_free(t);

	/* A CRYPTO stream that is not a ClientHello. */
	t = quic_table_new(4, CAP);
	ch[0] = 2;
	n = crypto_fr(pl, 0, ch, chn);
	plen = build(pkt, &v1opt, pl, n);
	T_EQ_INT(quic_feed(t, 1, 1, NOW, pkt, plen, &r), QUIC_MALFORMED);
	T_EQ_INT(r.anomalies, QA_BAD_CRYPTO);
	T_CHECK(r.crypto == NULL);
	plen = build(pkt, &(struct pkt_opts){ QUIC_V1, rfc_dcid, 8, 1, 0, 0 },
	    pl, n);
	T_EQ_INT(quic_feed(t, 1, 1, NOW, pkt, plen, &r), QUIC_IGNORED);
	quic_table_free(t);
}

static void
test_overflow(void)
{
	struct quic_table *t = quic_table_new(4, 256);
	struct quic_result r;
	uint8_t ch[600], pl[900], pkt[1100];
	size_t chn = fake_ch(ch, 500), n, plen;

	/* Beyond the cap: dropped and flagged. */
	n = crypto_fr(pl, 300, ch + 300, 100);
	plen = build(pkt, &v1opt, pl, n);
	T_EQ_INT(quic_feed(t, 1, 1, NOW, pkt, plen, &r), QUIC_PENDING);
	T_EQ_INT(r.anomalies, QA_CRYPTO_OVERFLOW);
	/* Straddling the cap: the prefix is kept, the hello can never be
	 * whole, so the full buffer is the answer. */
	n = crypto_fr(pl, 0, ch, chn);
	plen = build(pkt, &(struct pkt_opts){ QUIC_V1, rfc_dcid, 8, 1, 0, 0 },
	    pl, n);
	T_EQ_INT(quic_feed(t, 1, 1, NOW, pkt, plen, &r), QUIC_CLIENTHELLO);
	T_EQ_INT(r.anomalies, QA_CRYPTO_OVERFLOW);
	T_EQ_INT(r.complete, 0);
	T_EQ_INT(r.crypto_len, 256);
	T_CHECK(r.crypto != NULL && memcmp(r.crypto, ch, 256) == 0);
	quic_table_free(t);
}

/* Initial + Handshake + short header in one datagram; v2 type bits. */
static void
test_coalesced(void)
{
	struct quic_table *t = quic_table_new(4, CAP);
	struct quic_result r;
	uint8_t ch[64], pl[128], dg[1400];
	static const uint8_t other[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	size_t chn = fake_ch(ch, 40), n, len = 0, i;
	uint32_t vers[2] = { QUIC_V1, QUIC_V2 };

	for (i = 0; i < 2; i++) {
		len = 0;
		/* Handshake first (skipped), then the Initial, then 1-RTT. */
		memset(pl, 0xee, 30);
		len += build(dg + len, &(struct pkt_opts){ vers[i], rfc_dcid,
		    8, 0, 2, 0 }, pl, 30);
		n = crypto_fr(pl, 0, ch, chn);
		len += build(dg + len, &(struct pkt_opts){ vers[i], rfc_dcid,
		    8, 0, 0, 0 }, pl, n);
		dg[len++] = 0x40;
		memset(dg + len, 0x33, 40);
		len += 40;
		T_EQ_INT(quic_feed(t, 10 + i, 1, NOW, dg, len, &r),
		    QUIC_CLIENTHELLO);
		T_EQ_INT(r.version, vers[i]);
		T_EQ_INT(r.crypto_len, chn);
		T_EQ_INT(r.anomalies, 0);
	}
	/* A v2 Initial with v1 type bits is a v2 Retry. */
	n = crypto_fr(pl, 0, ch, chn);
	len = build(dg, &(struct pkt_opts){ QUIC_V1, rfc_dcid, 8, 0, 0, 0 },
	    pl, n);
	memcpy(dg + 1, "\x6b\x33\x43\xcf", 4);
	dg[0] = (uint8_t)(dg[0] & 0xcf);
	T_EQ_INT(quic_feed(t, 20, 1, NOW, dg, len, &r), QUIC_IGNORED);
	T_EQ_INT(r.anomalies, QA_RETRY);
	/* A second Initial with another DCID in the datagram is ignored. */
	len = build(dg, &v1opt, pl, n);
	len += build(dg + len, &(struct pkt_opts){ QUIC_V1, other, 8, 0, 0,
	    0 }, pl, n);
	T_EQ_INT(quic_feed(t, 21, 1, NOW, dg, len, &r), QUIC_CLIENTHELLO);
	T_EQ_INT(in_use(t), 3);
	/* Initial then a broken packet: result kept, anomaly noted. */
	len = build(dg, &(struct pkt_opts){ QUIC_V1, other, 8, 0, 0, 0 },
	    pl, n);
	memcpy(dg + len, "\xe0\x00\x00\x00\x01\x08", 6);
	memcpy(dg + len + 6, other, 8);
	len += 14;
	T_EQ_INT(quic_feed(t, 22, 1, NOW, dg, len, &r), QUIC_CLIENTHELLO);
	T_EQ_INT(r.anomalies, QA_BAD_LENGTH);
	quic_table_free(t);
}

/* Zero-length and 20-byte DCIDs; per-flow limit. */
static void
test_dcids(void)
{
	struct quic_table *t = quic_table_new(16, CAP);
	struct quic_result r;
	uint8_t ch[64], pl[128], pkt[256], dcid[20];
	size_t chn = fake_ch(ch, 40), n, len, i;
	struct quic_stats st;

	memset(dcid, 0xab, sizeof(dcid));
	n = crypto_fr(pl, 0, ch, chn);
	len = build(pkt, &(struct pkt_opts){ QUIC_V1, dcid, 0, 0, 0, 0 }, pl,
	    n);
	T_EQ_INT(quic_feed(t, 1, 1, NOW, pkt, len, &r), QUIC_CLIENTHELLO);
	len = build(pkt, &(struct pkt_opts){ QUIC_V2, dcid, 20, 0, 0, 0 }, pl,
	    n);
	T_EQ_INT(quic_feed(t, 1, 1, NOW, pkt, len, &r), QUIC_CLIENTHELLO);
	/* Many connections on one flow keep at most QUIC_MAX_PER_FLOW. */
	for (i = 0; i < 10; i++) {
		dcid[0] = (uint8_t)i;
		len = build(pkt, &(struct pkt_opts){ QUIC_V1, dcid, 8, 0, 0,
		    0 }, pl, n);
		T_EQ_INT(quic_feed(t, 5, 1, NOW + i, pkt, len, &r),
		    QUIC_CLIENTHELLO);
	}
	quic_table_stats(t, &st);
	T_EQ_INT(st.in_use, 2 + QUIC_MAX_PER_FLOW);
	T_EQ_INT(st.evicted, 0);
	quic_table_free(t);
}

/* Feed pl as an Initial (v1, rfc_dcid) with packet number pn. */
static enum quic_rc
feed_pl(struct quic_table *t, uint32_t pn, const uint8_t *pl, size_t n,
    struct quic_result *r)
{
	uint8_t pkt[1400];
	size_t plen = build(pkt, &(struct pkt_opts){ QUIC_V1, rfc_dcid, 8, pn,
	    0, 0 }, pl, n);

	return quic_feed(t, 1, 1, NOW, pkt, plen, r);
}

/*
 * Overlapping CRYPTO data: identical copies are retransmissions; a copy
 * that differs where bytes are held, whichever came first, makes the
 * connection report nothing.
 */
static void
test_crypto_conflict(void)
{
	struct quic_table *t;
	struct quic_result r;
	uint8_t ch[700], decoy[700], pl[1200], pkt[2800];
	size_t chn = fake_ch(ch, 600), n, plen, p1;
	int order;

	memcpy(decoy, ch, chn);
	memcpy(decoy + 200, "decoy.example", 13);

	/* identical overlaps across packets and within one: counted */
	t = quic_table_new(4, CAP);
	n = crypto_fr(pl, 100, ch + 100, 300);
	n += crypto_fr(pl + n, 150, ch + 150, 100);
	T_EQ_INT(feed_pl(t, 0, pl, n, &r), QUIC_PENDING);
	T_EQ_INT(r.anomalies, 0);
	n = crypto_fr(pl, 0, ch, 250);
	n += crypto_fr(pl + n, 250, ch + 250, chn - 250);
	T_EQ_INT(feed_pl(t, 1, pl, n, &r), QUIC_CLIENTHELLO);
	T_EQ_INT(r.anomalies, 0);
	check_ch(&r, QUIC_V1, NULL);
	T_CHECK(r.crypto != NULL && memcmp(r.crypto, ch, chn) == 0);
	quic_table_free(t);

	/* decoy first then real, real first then decoy: nothing */
	for (order = 0; order < 2; order++) {
		const uint8_t *first = order ? ch : decoy;
		const uint8_t *second = order ? decoy : ch;

		t = quic_table_new(4, CAP);
		n = crypto_fr(pl, 150, first + 150, 200);
		T_EQ_INT(feed_pl(t, 0, pl, n, &r), QUIC_PENDING);
		T_EQ_INT(r.anomalies, 0);
		n = crypto_fr(pl, 100, second + 100, 200);
		T_EQ_INT(feed_pl(t, 1, pl, n, &r), QUIC_MALFORMED);
		T_EQ_INT(r.anomalies, QA_CRYPTO_CONFLICT);
		T_CHECK(r.crypto == NULL && r.crypto_len == 0);
		/* the rest, in agreement with either: the connection is done */
		n = crypto_fr(pl, 0, ch, 150);
		n += crypto_fr(pl + n, 350, ch + 350, chn - 350);
		T_EQ_INT(feed_pl(t, 2, pl, n, &r), QUIC_IGNORED);
		T_CHECK(r.crypto == NULL);
		T_EQ_INT(in_use(t), 1);
		quic_table_free(t);
	}

	/* two different copies in one packet */
	t = quic_table_new(4, CAP);
	n = crypto_fr(pl, 0, ch, 300);
	n += crypto_fr(pl + n, 190, decoy + 190, 30);
	T_EQ_INT(feed_pl(t, 0, pl, n, &r), QUIC_MALFORMED);
	T_EQ_INT(r.anomalies, QA_CRYPTO_CONFLICT);
	quic_table_free(t);

	/*
	 * Coalesced: the first packet gives a prefix naming the real data,
	 * the second contradicts it; the datagram gives nothing to parse.
	 */
	t = quic_table_new(4, CAP);
	n = crypto_fr(pl, 0, ch, 300);
	p1 = build(pkt, &v1opt, pl, n);
	n = crypto_fr(pl, 200, decoy + 200, 13);
	plen = build(pkt + p1, &(struct pkt_opts){ QUIC_V1, rfc_dcid, 8, 1,
	    0, 0 }, pl, n);
	T_EQ_INT(quic_feed(t, 1, 1, NOW, pkt, p1 + plen, &r),
	    QUIC_MALFORMED);
	T_CHECK(r.anomalies & QA_CRYPTO_CONFLICT);
	T_CHECK(r.crypto == NULL && r.conn == 0);
	quic_table_free(t);
}

int
main(void)
{
	T_RUN(test_rfc_keys);
	T_RUN(test_rfc9001);
	T_RUN(test_rfc9369_v2);
	T_RUN(test_frag_unordered);
	T_RUN(test_three_initials);
	T_RUN(test_after_clienthello);
	T_RUN(test_v2_captures);
	T_RUN(test_retry);
	T_RUN(test_version_negotiation);
	T_RUN(test_ja4_connections);
	T_RUN(test_truncated);
	T_RUN(test_tag_corruption);
	T_RUN(test_bad_lengths);
	T_RUN(test_garbage);
	T_RUN(test_eviction);
	T_RUN(test_conn_done);
	T_RUN(test_server_direction);
	T_RUN(test_frames);
	T_RUN(test_bad_frames);
	T_RUN(test_overflow);
	T_RUN(test_coalesced);
	T_RUN(test_dcids);
	T_RUN(test_crypto_conflict);
	return T_DONE();
}
