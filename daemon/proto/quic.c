/*
 * quic.c - QUIC client Initial decryption; see quic.h for what it
 * promises.
 */
#include "proto/quic.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/rd.h"

#define CID_MAX		20
#define KEY_LEN		16
#define IV_LEN		12
#define HP_LEN		16
#define TAG_LEN		16
#define SAMPLE_LEN	16
#define SECRET_LEN	32
#define SCRATCH_LEN	65536		/* largest UDP payload fits */
#define NONE		UINT32_MAX
#define VARINT_MAX	((1ull << 62) - 1)

#define HS_CLIENT_HELLO	1
#define HS_HDR_LEN	4

#define FT_PADDING	0x00
#define FT_PING		0x01
#define FT_ACK		0x02
#define FT_ACK_ECN	0x03
#define FT_CRYPTO	0x06
#define FT_CLOSE	0x1c
#define FT_CLOSE_APP	0x1d

/* Long-header packet types in v1 numbering; v2 values are mapped. */
enum ptype { PT_INITIAL, PT_0RTT, PT_HANDSHAKE, PT_RETRY };

struct keys {
	uint8_t		 key[KEY_LEN];
	uint8_t		 iv[IV_LEN];
	uint8_t		 hp[HP_LEN];
};

struct conn {
	uint64_t	 flow_key;
	uint64_t	 last_usec;
	uint32_t	 version;
	uint32_t	 gen;		/* makes handles of recycled entries stale */
	uint32_t	 contig;	/* CRYPTO bytes present from offset 0 */
	uint32_t	 hnext;		/* bucket chain, or free list */
	uint32_t	 lru_prev, lru_next;
	struct keys	 k;
	uint8_t		 dcid[CID_MAX];
	uint8_t		 dcid_len;
	uint8_t		 live;
	uint8_t		 done;
	uint8_t		 conflict;	/* CRYPTO copies disagreed */
};

struct quic_table {
	struct conn	*conns;
	uint8_t		*crypto;	/* nconns slices of cap bytes */
	uint64_t	*bits;		/* nconns slices of cap / 64 words */
	uint32_t	*buckets;
	uint8_t		*scratch;
	size_t		 nconns, cap, words;
	uint32_t	 bmask;
	uint32_t	 lru_head, lru_tail, free_head;
	EVP_MD		*sha256;	/* fetched once */
	EVP_MD_CTX	*md;
	EVP_CIPHER_CTX	*aead, *ecb;
	struct quic_stats st;
};

/* One long-header packet, as far as it could be parsed. */
struct lh {
	uint8_t		 b0;
	uint32_t	 version;
	const uint8_t	*dcid;
	size_t		 dcid_len;
	enum ptype	 type;
	const uint8_t	*pkt;		/* header + protected payload */
	size_t		 pkt_len;
	size_t		 pn_off;	/* offset of the packet number */
};

/* What one Initial produced, before it is merged into the result. */
struct outcome {
	enum quic_rc	 rc;
	uint32_t	 version;
	const uint8_t	*crypto;
	size_t		 crypto_len;
	int		 complete;
	uint64_t	 conn;
};

static const uint8_t salt_v1[] = {
	0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a
};
static const uint8_t salt_v2[] = {
	0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
	0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9
};

/* ---- key derivation (RFC 9001 section 5.2, RFC 9369 section 3.3) ---- */

/*
 * HMAC-SHA256 (RFC 2104) of m1 || m2 under key (at most one block).
 * Built on a digest fetched once rather than on the provider's HKDF,
 * whose per-call set-up cost ~20,000 instructions: a new DCID costs
 * five of these, so this is most of what a new QUIC connection costs.
 */
static int
hmac_sha256(struct quic_table *t, const uint8_t *key, size_t key_len,
    const uint8_t *m1, size_t l1, const uint8_t *m2, size_t l2,
    uint8_t out[SECRET_LEN])
{
	uint8_t pad[64], inner[SECRET_LEN];
	unsigned n = 0;
	size_t i;
	int ok;

	if (key_len > sizeof(pad))
		return 0;
	memset(pad, 0, sizeof(pad));
	if (key_len > 0)
		memcpy(pad, key, key_len);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36;
	ok = EVP_DigestInit_ex2(t->md, t->sha256, NULL) == 1 &&
	    EVP_DigestUpdate(t->md, pad, sizeof(pad)) == 1 &&
	    (l1 == 0 || EVP_DigestUpdate(t->md, m1, l1) == 1) &&
	    (l2 == 0 || EVP_DigestUpdate(t->md, m2, l2) == 1) &&
	    EVP_DigestFinal_ex(t->md, inner, &n) == 1 && n == SECRET_LEN;
	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36 ^ 0x5c;
	ok = ok && EVP_DigestInit_ex2(t->md, t->sha256, NULL) == 1 &&
	    EVP_DigestUpdate(t->md, pad, sizeof(pad)) == 1 &&
	    EVP_DigestUpdate(t->md, inner, sizeof(inner)) == 1 &&
	    EVP_DigestFinal_ex(t->md, out, &n) == 1 && n == SECRET_LEN;
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(inner, sizeof(inner));
	return ok;
}

/* HKDF-Expand (RFC 5869) for at most one block of output. */
static int
hkdf_expand(struct quic_table *t, const uint8_t *prk, const uint8_t *info,
    size_t info_len, uint8_t *out, size_t out_len)
{
	static const uint8_t one = 1;
	uint8_t block[SECRET_LEN];
	int ok;

	if (out_len > sizeof(block))
		return 0;
	ok = hmac_sha256(t, prk, SECRET_LEN, info, info_len, &one, 1, block);
	memcpy(out, block, out_len);
	OPENSSL_cleanse(block, sizeof(block));
	return ok;
}

/* HKDF-Expand-Label of TLS 1.3 (RFC 8446 section 7.1), empty context. */
static int
expand_label(struct quic_table *t, const uint8_t *secret, const char *label,
    uint8_t *out, size_t out_len)
{
	static const char prefix[] = "tls13 ";
	uint8_t info[2 + 1 + 255 + 1];
	size_t plen = sizeof(prefix) - 1, llen = strlen(label), n = 0;

	if (plen + llen > 255)
		return 0;
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(plen + llen);
	memcpy(info + n, prefix, plen);
	n += plen;
	memcpy(info + n, label, llen);
	n += llen;
	info[n++] = 0;
	return hkdf_expand(t, secret, info, n, out, out_len);
}

static int
derive_keys(struct quic_table *t, uint32_t version, const uint8_t *dcid,
    size_t dcid_len, struct keys *k)
{
	uint8_t prk[SECRET_LEN], cs[SECRET_LEN];
	int v2 = version == QUIC_V2, ok;

	/* HKDF-Extract: HMAC keyed with the version's salt */
	ok = hmac_sha256(t, v2 ? salt_v2 : salt_v1,
	    v2 ? sizeof(salt_v2) : sizeof(salt_v1), dcid, dcid_len, NULL, 0,
	    prk) &&
	    expand_label(t, prk, "client in", cs, sizeof(cs)) &&
	    expand_label(t, cs, v2 ? "quicv2 key" : "quic key", k->key,
		KEY_LEN) &&
	    expand_label(t, cs, v2 ? "quicv2 iv" : "quic iv", k->iv, IV_LEN) &&
	    expand_label(t, cs, v2 ? "quicv2 hp" : "quic hp", k->hp, HP_LEN);
	OPENSSL_cleanse(prk, sizeof(prk));
	OPENSSL_cleanse(cs, sizeof(cs));
	return ok;
}

/* ---- packet protection (RFC 9001 sections 5.3, 5.4) ---- */

static int
hp_mask(struct quic_table *t, const uint8_t *hp, const uint8_t *sample,
    uint8_t mask[SAMPLE_LEN])
{
	int outl = 0;

	if (EVP_EncryptInit_ex(t->ecb, NULL, NULL, hp, NULL) != 1 ||
	    EVP_EncryptUpdate(t->ecb, mask, &outl, sample, SAMPLE_LEN) != 1)
		return 0;
	return outl == SAMPLE_LEN;
}

/*
 * Remove header protection and decrypt a copy of the packet in the
 * scratch buffer.  The caller guaranteed pn_off + 4 + SAMPLE_LEN <=
 * len <= SCRATCH_LEN.  Returns 1 and the plaintext when the tag
 * verifies, 0 otherwise.
 */
static int
unprotect(struct quic_table *t, const struct keys *k, const struct lh *h,
    const uint8_t **pl, size_t *pl_len)
{
	uint8_t *s = t->scratch, mask[SAMPLE_LEN], nonce[IV_LEN];
	size_t pn_len, hdr_len, ct_len, i;
	uint64_t pn = 0;
	int outl = 0, finl = 0;

	memcpy(s, h->pkt, h->pkt_len);
	if (!hp_mask(t, k->hp, s + h->pn_off + 4, mask))
		return 0;
	s[0] ^= mask[0] & 0x0f;
	pn_len = (size_t)(s[0] & 0x03) + 1;
	for (i = 0; i < pn_len; i++) {
		s[h->pn_off + i] ^= mask[1 + i];
		pn = (pn << 8) | s[h->pn_off + i];
	}
	hdr_len = h->pn_off + pn_len;
	if (h->pkt_len < hdr_len + TAG_LEN)
		return 0;
	ct_len = h->pkt_len - hdr_len - TAG_LEN;
	/*
	 * The truncated packet number is used as the full one: an Initial
	 * space rarely passes 2^8 packets, and a wrong guess only fails
	 * the tag.
	 */
	memcpy(nonce, k->iv, IV_LEN);
	for (i = 0; i < 8; i++)
		nonce[IV_LEN - 1 - i] ^= (uint8_t)(pn >> (8 * i));
	if (EVP_DecryptInit_ex(t->aead, NULL, NULL, k->key, nonce) != 1 ||
	    EVP_DecryptUpdate(t->aead, NULL, &outl, s, (int)hdr_len) != 1 ||
	    EVP_DecryptUpdate(t->aead, s + hdr_len, &outl, s + hdr_len,
		(int)ct_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(t->aead, EVP_CTRL_AEAD_SET_TAG, TAG_LEN,
		s + hdr_len + ct_len) != 1 ||
	    EVP_DecryptFinal_ex(t->aead, s + hdr_len + outl, &finl) != 1)
		return 0;
	*pl = s + hdr_len;
	*pl_len = ct_len;
	return 1;
}

/* ---- the connection table ---- */

static uint32_t
bucket_of(const struct quic_table *t, uint64_t flow_key)
{
	/* flow_key is already a keyed hash; the multiply only spreads it. */
	return (uint32_t)((flow_key * 0x9e3779b97f4a7c15ull) >> 32) &
	    t->bmask;
}

static uint32_t
idx_of(const struct quic_table *t, const struct conn *c)
{
	return (uint32_t)(c - t->conns);
}

static uint8_t *
crypto_of(const struct quic_table *t, const struct conn *c)
{
	return t->crypto + (size_t)idx_of(t, c) * t->cap;
}

static uint64_t *
bits_of(const struct quic_table *t, const struct conn *c)
{
	return t->bits + (size_t)idx_of(t, c) * t->words;
}

static int
stale(const struct conn *c, uint64_t now)
{
	return now > c->last_usec && now - c->last_usec > QUIC_IDLE_USEC;
}

static void
lru_unlink(struct quic_table *t, struct conn *c)
{
	if (c->lru_prev != NONE)
		t->conns[c->lru_prev].lru_next = c->lru_next;
	else
		t->lru_head = c->lru_next;
	if (c->lru_next != NONE)
		t->conns[c->lru_next].lru_prev = c->lru_prev;
	else
		t->lru_tail = c->lru_prev;
	c->lru_prev = c->lru_next = NONE;
}

static void
lru_push(struct quic_table *t, struct conn *c)
{
	uint32_t i = idx_of(t, c);

	c->lru_prev = NONE;
	c->lru_next = t->lru_head;
	if (t->lru_head != NONE)
		t->conns[t->lru_head].lru_prev = i;
	else
		t->lru_tail = i;
	t->lru_head = i;
}

static void
touch(struct quic_table *t, struct conn *c, uint64_t now)
{
	c->last_usec = now;
	lru_unlink(t, c);
	lru_push(t, c);
}

static void
bucket_unlink(struct quic_table *t, struct conn *c)
{
	uint32_t *pp = &t->buckets[bucket_of(t, c->flow_key)];
	uint32_t i = idx_of(t, c);

	while (*pp != NONE && *pp != i)
		pp = &t->conns[*pp].hnext;
	if (*pp == i)
		*pp = c->hnext;
}

static void
conn_drop(struct quic_table *t, struct conn *c)
{
	bucket_unlink(t, c);
	lru_unlink(t, c);
	OPENSSL_cleanse(&c->k, sizeof(c->k));
	c->live = 0;
	c->hnext = t->free_head;
	t->free_head = idx_of(t, c);
	t->st.in_use--;
}

/* The live connection with this identity; stale ones are dropped. */
static struct conn *
conn_find(struct quic_table *t, uint64_t flow_key, uint32_t version,
    const uint8_t *dcid, size_t dcid_len, uint64_t now)
{
	uint32_t i;
	struct conn *c;

	for (i = t->buckets[bucket_of(t, flow_key)]; i != NONE; i = c->hnext) {
		c = &t->conns[i];
		if (c->flow_key != flow_key || c->version != version ||
		    c->dcid_len != dcid_len ||
		    memcmp(c->dcid, dcid, dcid_len) != 0)
			continue;
		if (stale(c, now)) {
			conn_drop(t, c);
			return NULL;
		}
		return c;
	}
	return NULL;
}

/* Keep at most QUIC_MAX_PER_FLOW entries per flow: drop its oldest. */
static void
flow_limit(struct quic_table *t, uint64_t flow_key)
{
	struct conn *c, *oldest = NULL;
	uint32_t i;
	int n = 0;

	for (i = t->buckets[bucket_of(t, flow_key)]; i != NONE; i = c->hnext) {
		c = &t->conns[i];
		if (c->flow_key != flow_key)
			continue;
		n++;
		if (oldest == NULL || c->last_usec < oldest->last_usec)
			oldest = c;
	}
	if (n >= QUIC_MAX_PER_FLOW)
		conn_drop(t, oldest);
}

static struct conn *
conn_new(struct quic_table *t, uint64_t flow_key, const struct lh *h,
    const struct keys *k, uint64_t now, unsigned *anom)
{
	struct conn *c;
	uint32_t i, b;

	flow_limit(t, flow_key);
	if (t->free_head == NONE) {
		c = &t->conns[t->lru_tail];
		if (!stale(c, now)) {
			*anom |= QA_TABLE_FULL_EVICT;
			t->st.evicted++;
		}
		conn_drop(t, c);
	}
	i = t->free_head;
	c = &t->conns[i];
	t->free_head = c->hnext;

	c->flow_key = flow_key;
	c->last_usec = now;
	c->version = h->version;
	if (++c->gen == 0)
		c->gen = 1;
	c->contig = 0;
	c->k = *k;
	memcpy(c->dcid, h->dcid, h->dcid_len);
	c->dcid_len = (uint8_t)h->dcid_len;
	c->live = 1;
	c->done = 0;
	c->conflict = 0;
	memset(bits_of(t, c), 0, t->words * sizeof(uint64_t));
	b = bucket_of(t, flow_key);
	c->hnext = t->buckets[b];
	t->buckets[b] = i;
	c->lru_prev = c->lru_next = NONE;
	lru_push(t, c);
	t->st.in_use++;
	t->st.created++;
	return c;
}

/* ---- CRYPTO stream ---- */

static void
bits_set(uint64_t *bm, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to && (i & 63) != 0; i++)
		bm[i >> 6] |= 1ull << (i & 63);
	for (; i + 64 <= to; i += 64)
		bm[i >> 6] = UINT64_MAX;
	for (; i < to; i++)
		bm[i >> 6] |= 1ull << (i & 63);
}

/* First unfilled position at or after from (cap when all are filled). */
static size_t
bits_run(const uint64_t *bm, size_t from, size_t cap)
{
	size_t i = from;

	while (i < cap && (i & 63) != 0 && (bm[i >> 6] >> (i & 63) & 1))
		i++;
	if (i < cap && (i & 63) != 0)
		return i;
	while (i < cap && bm[i >> 6] == UINT64_MAX)
		i += 64;
	while (i < cap && (bm[i >> 6] >> (i & 63) & 1))
		i++;
	return i;
}

/* First filled position in [from, to), or to. */
static size_t
bits_next_set(const uint64_t *bm, size_t from, size_t to)
{
	size_t i = from;
	uint64_t w;

	while (i < to) {
		w = bm[i >> 6] >> (i & 63);
		if (w == 0) {
			i = (i | 63) + 1;
			continue;
		}
		while (!(w & 1)) {
			w >>= 1;
			i++;
		}
		return i < to ? i : to;
	}
	return to;
}

/*
 * Do the bytes already held in [off, off + n) differ from data?  Only
 * filled runs are compared; a frame over empty space (the usual case)
 * costs a scan of its bitmap words.
 */
static int
crypto_differs(const struct quic_table *t, const struct conn *c,
    size_t off, const uint8_t *data, size_t n)
{
	const uint64_t *bm = bits_of(t, c);
	const uint8_t *b = crypto_of(t, c);
	size_t i = off, j, end = off + n;

	while ((i = bits_next_set(bm, i, end)) < end) {
		j = bits_run(bm, i, end);
		if (j > end)		/* it steps whole words */
			j = end;
		if (memcmp(b + i, data + (i - off), j - i) != 0)
			return 1;
		i = j;
	}
	return 0;
}

static void
crypto_put(struct quic_table *t, struct conn *c, uint64_t off,
    const uint8_t *data, size_t n, unsigned *anom)
{
	if (n == 0 || c->conflict)
		return;
	if (off >= t->cap) {
		*anom |= QA_CRYPTO_OVERFLOW;
		return;
	}
	if (n > t->cap - off) {
		*anom |= QA_CRYPTO_OVERFLOW;
		n = t->cap - (size_t)off;
	}
	if (crypto_differs(t, c, (size_t)off, data, n)) {
		/* two versions of the ClientHello: neither is counted */
		*anom |= QA_CRYPTO_CONFLICT;
		c->conflict = 1;
		c->done = 1;
		return;
	}
	memcpy(crypto_of(t, c) + off, data, n);
	bits_set(bits_of(t, c), (size_t)off, (size_t)off + n);
	if (off <= c->contig)
		c->contig = (uint32_t)bits_run(bits_of(t, c), c->contig,
		    t->cap);
}

/* ---- frames (RFC 9000 section 19) ---- */

/* Next byte without consuming it; 0 at the end. */
static uint8_t
peek(const struct rd *r)
{
	struct rd c = *r;

	return rd_u8(&c);
}

static int
skip_ack(struct rd *r, int ecn)
{
	uint64_t ranges, i;

	rd_varint(r);		/* largest acknowledged */
	rd_varint(r);		/* ack delay */
	ranges = rd_varint(r);
	rd_varint(r);		/* first range */
	/* Each range takes >= 2 bytes, so a lie ends the loop at the end. */
	for (i = 0; i < ranges && rd_ok(r); i++) {
		rd_varint(r);	/* gap */
		rd_varint(r);	/* range length */
	}
	if (ecn) {
		rd_varint(r);
		rd_varint(r);
		rd_varint(r);
	}
	return rd_ok(r);
}

static int
skip_close(struct rd *r, int transport)
{
	uint64_t reason;

	rd_varint(r);		/* error code */
	if (transport)
		rd_varint(r);	/* frame type */
	reason = rd_varint(r);
	if (!rd_ok(r) || reason > rd_left(r))
		return 0;
	return rd_skip(r, (size_t)reason);
}

static int
crypto_frame(struct quic_table *t, struct conn *c, struct rd *r,
    unsigned *anom)
{
	uint64_t off, n;
	const uint8_t *data;

	off = rd_varint(r);
	n = rd_varint(r);
	if (!rd_ok(r) || n > rd_left(r) || off + n > VARINT_MAX)
		return 0;
	data = rd_ptr(r, (size_t)n);
	if (data == NULL)
		return 0;
	crypto_put(t, c, off, data, (size_t)n, anom);
	return 1;
}

/* Gather CRYPTO data; stop at the first frame that is not allowed. */
static void
frames(struct quic_table *t, struct conn *c, const uint8_t *p, size_t len,
    unsigned *anom)
{
	struct rd r = rd_init(p, len);
	int ok;

	uint64_t type;

	while (rd_left(&r) > 0) {
		type = rd_varint(&r);
		switch (type) {
		case FT_PADDING:
			while (peek(&r) == 0 && rd_left(&r) > 0)
				rd_skip(&r, 1);
			ok = 1;
			break;
		case FT_PING:
			ok = 1;
			break;
		case FT_ACK:
		case FT_ACK_ECN:
			ok = skip_ack(&r, type == FT_ACK_ECN);
			break;
		case FT_CRYPTO:
			ok = crypto_frame(t, c, &r, anom);
			break;
		case FT_CLOSE:
		case FT_CLOSE_APP:
			ok = skip_close(&r, type == FT_CLOSE);
			break;
		default:
			ok = 0;
			break;
		}
		if (!ok || !rd_ok(&r)) {
			*anom |= QA_BAD_FRAME;
			return;
		}
	}
}

/* Has the CRYPTO prefix reached the end of the ClientHello? */
static enum quic_rc
verdict(const struct quic_table *t, struct conn *c, int *complete,
    unsigned *anom)
{
	const uint8_t *b = crypto_of(t, c);
	size_t need;

	*complete = 0;
	if (c->contig == 0)
		return QUIC_PENDING;
	if (b[0] != HS_CLIENT_HELLO) {
		*anom |= QA_BAD_CRYPTO;
		c->done = 1;
		return QUIC_MALFORMED;
	}
	if (c->contig < HS_HDR_LEN)
		return QUIC_PENDING;
	need = HS_HDR_LEN + ((size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3]);
	if (c->contig >= need) {
		*complete = 1;
		return QUIC_CLIENTHELLO;
	}
	/* Too big for the buffer: this prefix is all there will ever be. */
	if (c->contig == t->cap)
		return QUIC_CLIENTHELLO;
	return QUIC_PENDING;
}

/* ---- packets ---- */

static enum ptype
ptype_of(uint8_t b0, uint32_t version)
{
	unsigned v = (b0 >> 4) & 0x03;

	/* v2 numbers Retry 0, Initial 1, 0-RTT 2, Handshake 3. */
	if (version == QUIC_V2)
		v = (v + 3) & 0x03;
	return (enum ptype)v;
}

static int
known_version(uint32_t v)
{
	return v == QUIC_V1 || v == QUIC_V2;
}

/*
 * Parse a v1/v2 long header from r and carve the packet (by its Length
 * field) out of r.  Retry packets are recognised before Length, which
 * they lack.  Returns 0 when the header does not fit the datagram.
 */
static int
parse_lh(struct rd *r, struct lh *h)
{
	struct rd c = *r;
	uint64_t tok, plen;
	size_t hdr;
	uint8_t scid_len;

	h->pkt = c.p;
	h->b0 = rd_u8(&c);
	h->version = rd_u32(&c);
	h->dcid_len = rd_u8(&c);
	if (h->dcid_len > CID_MAX)
		return 0;
	h->dcid = rd_ptr(&c, h->dcid_len);
	scid_len = rd_u8(&c);
	if (scid_len > CID_MAX || !rd_skip(&c, scid_len))
		return 0;
	h->type = ptype_of(h->b0, h->version);
	if (h->type == PT_RETRY) {
		h->pkt_len = rd_left(r);
		rd_skip(r, h->pkt_len);
		return 1;
	}
	if (h->type == PT_INITIAL) {
		tok = rd_varint(&c);
		if (!rd_ok(&c) || tok > rd_left(&c) || !rd_skip(&c, (size_t)tok))
			return 0;
	}
	plen = rd_varint(&c);
	if (!rd_ok(&c) || plen > rd_left(&c))
		return 0;
	hdr = (size_t)(c.p - r->p);
	h->pn_off = hdr;
	h->pkt_len = hdr + (size_t)plen;
	rd_skip(r, h->pkt_len);
	return 1;
}

/* Try the keys of the flow's other connections (DCID changed). */
static struct conn *
try_siblings(struct quic_table *t, uint64_t flow_key, const struct lh *h,
    const struct conn *tried, uint64_t now, const uint8_t **pl,
    size_t *pl_len)
{
	struct conn *c;
	uint32_t i;

	for (i = t->buckets[bucket_of(t, flow_key)]; i != NONE; i = c->hnext) {
		c = &t->conns[i];
		if (c == tried || c->flow_key != flow_key ||
		    c->version != h->version || stale(c, now))
			continue;
		if (unprotect(t, &c->k, h, pl, pl_len))
			return c;
	}
	return NULL;
}

static enum quic_rc
client_initial(struct quic_table *t, uint64_t flow_key, uint64_t now,
    const struct lh *h, struct outcome *o, unsigned *anom)
{
	struct conn *c;
	struct keys k;
	const uint8_t *pl;
	size_t pl_len;
	int ok;

	if (h->pkt_len < h->pn_off + 4 + SAMPLE_LEN ||
	    h->pkt_len > SCRATCH_LEN) {
		*anom |= QA_BAD_LENGTH;
		return QUIC_MALFORMED;
	}
	t->st.initials++;
	c = conn_find(t, flow_key, h->version, h->dcid, h->dcid_len, now);
	if (c != NULL)
		k = c->k;
	else if (!derive_keys(t, h->version, h->dcid, h->dcid_len, &k))
		return QUIC_IGNORED;	/* OpenSSL failure, not the packet's */
	ok = unprotect(t, &k, h, &pl, &pl_len);
	if (!ok) {
		struct conn *s = try_siblings(t, flow_key, h, c, now, &pl,
		    &pl_len);

		if (s == NULL) {
			OPENSSL_cleanse(&k, sizeof(k));
			t->st.auth_fail++;
			*anom |= QA_AUTH_FAIL;
			return QUIC_AUTH_FAIL;
		}
		c = s;
	}
	if (c == NULL)
		c = conn_new(t, flow_key, h, &k, now, anom);
	OPENSSL_cleanse(&k, sizeof(k));
	touch(t, c, now);
	if (c->done)
		return QUIC_IGNORED;
	frames(t, c, pl, pl_len, anom);
	if (c->conflict)
		return QUIC_MALFORMED;
	o->rc = verdict(t, c, &o->complete, anom);
	if (o->rc == QUIC_MALFORMED)
		return o->rc;
	o->version = h->version;
	o->crypto = crypto_of(t, c);
	o->crypto_len = c->contig;
	o->conn = (uint64_t)c->gen << 32 | idx_of(t, c);
	if (o->rc == QUIC_CLIENTHELLO) {
		c->done = 1;
		t->st.clienthellos++;
	}
	return o->rc;
}

static int
rank(enum quic_rc rc)
{
	switch (rc) {
	case QUIC_CLIENTHELLO:	return 5;
	case QUIC_PENDING:	return 4;
	case QUIC_AUTH_FAIL:	return 3;
	case QUIC_MALFORMED:	return 2;
	case QUIC_IGNORED:	return 1;
	case QUIC_NOT_QUIC:	break;
	}
	return 0;
}

/* A Version Negotiation packet: invariant header, then versions. */
static enum quic_rc
version_neg(struct rd *r, unsigned *anom)
{
	struct rd c = *r;
	uint8_t n;

	rd_skip(&c, 5);
	n = rd_u8(&c);
	rd_skip(&c, n);
	n = rd_u8(&c);
	rd_skip(&c, n);
	if (!rd_ok(&c) || rd_left(&c) == 0 || rd_left(&c) % 4 != 0)
		return QUIC_NOT_QUIC;
	*anom |= QA_VERSION_NEG;
	return QUIC_IGNORED;
}

/*
 * Long header of a version we cannot parse.  The invariants (RFC 8999)
 * are too loose to tell QUIC from other UDP (half of all DNS messages
 * would pass), so this asks for what every deployed version does: the
 * fixed bit, connection IDs of at most 20 bytes and, from a client, a
 * datagram of at least 1200 bytes (without which no server answers
 * with Version Negotiation).
 */
static enum quic_rc
unknown_version(struct rd *r, int from_client, unsigned *anom)
{
	struct rd c = *r;
	uint8_t b0, n;

	b0 = rd_u8(&c);
	rd_skip(&c, 4);
	n = rd_u8(&c);
	if (n > CID_MAX || !rd_skip(&c, n))
		return QUIC_NOT_QUIC;
	n = rd_u8(&c);
	if (n > CID_MAX || !rd_skip(&c, n))
		return QUIC_NOT_QUIC;
	if ((b0 & 0x40) == 0 || (from_client && rd_left(r) < 1200))
		return QUIC_NOT_QUIC;
	*anom |= QA_UNKNOWN_VERSION;
	return QUIC_IGNORED;
}

/*
 * One packet of the datagram.  *more says whether a following coalesced
 * packet may be parsed.  first_dcid is set by the first packet; later
 * packets with another DCID are ignored (RFC 9000 section 12.2).
 */
static enum quic_rc
one_packet(struct quic_table *t, uint64_t flow_key, int from_client,
    uint64_t now, struct rd *r, struct lh *first, int is_first,
    struct outcome *o, unsigned *anom, int *more)
{
	struct rd c = *r;
	struct lh h;
	uint32_t version;

	*more = 0;
	rd_skip(&c, 1);
	version = rd_u32(&c);
	if (!rd_ok(&c))
		return is_first ? QUIC_NOT_QUIC : QUIC_IGNORED;
	if (version == 0)
		return is_first ? version_neg(r, anom) : QUIC_IGNORED;
	if (!known_version(version))
		return is_first ? unknown_version(r, from_client, anom) :
		    QUIC_IGNORED;
	if (!parse_lh(r, &h)) {
		*anom |= QA_BAD_LENGTH;
		return QUIC_MALFORMED;
	}
	if (is_first) {
		*first = h;
	} else if (h.version != first->version ||
	    h.dcid_len != first->dcid_len ||
	    memcmp(h.dcid, first->dcid, h.dcid_len) != 0) {
		return QUIC_IGNORED;
	}
	if (h.type == PT_RETRY) {
		*anom |= QA_RETRY;
		return QUIC_IGNORED;
	}
	*more = 1;
	if (h.type != PT_INITIAL || !from_client)
		return QUIC_IGNORED;
	return client_initial(t, flow_key, now, &h, o, anom);
}

enum quic_rc
quic_feed(struct quic_table *t, uint64_t flow_key, int from_client,
    uint64_t now_usec, const uint8_t *p, size_t len, struct quic_result *res)
{
	struct rd r = rd_init(p, len);
	struct lh first = { 0 };
	struct outcome o;
	enum quic_rc best = QUIC_NOT_QUIC, rc;
	unsigned anom = 0;
	int is_first, more = 1;

	memset(res, 0, sizeof(*res));
	t->st.datagrams++;
	for (is_first = 1; more && rd_left(&r) > 0; is_first = 0) {
		/* Short header or padding after the last long header. */
		if ((peek(&r) & 0x80) == 0)
			break;
		memset(&o, 0, sizeof(o));
		rc = one_packet(t, flow_key, from_client, now_usec, &r, &first,
		    is_first, &o, &anom, &more);
		if (rank(rc) >= rank(best)) {
			best = rc;
			if (o.crypto != NULL) {
				res->version = o.version;
				res->crypto = o.crypto;
				res->crypto_len = o.crypto_len;
				res->complete = o.complete;
				res->conn = o.conn;
			}
		}
	}
	res->anomalies = anom;
	/*
	 * A later packet of the datagram contradicted an earlier one's
	 * CRYPTO data: what the earlier one gave is not to be used either.
	 */
	if (anom & QA_CRYPTO_CONFLICT) {
		res->crypto = NULL;
		res->crypto_len = 0;
		res->complete = 0;
		res->conn = 0;
		return QUIC_MALFORMED;
	}
	return best;
}

void
quic_conn_done(struct quic_table *t, uint64_t conn)
{
	uint32_t i = (uint32_t)conn, gen = (uint32_t)(conn >> 32);
	struct conn *c;

	if (t == NULL || i >= t->nconns)
		return;
	c = &t->conns[i];
	if (c->live && c->gen == gen)
		c->done = 1;
}

void
quic_table_stats(const struct quic_table *t, struct quic_stats *st)
{
	*st = t->st;
}

size_t
quic_table_mem(const struct quic_table *t)
{
	return sizeof(*t) + t->nconns * (sizeof(*t->conns) + t->cap +
	    t->words * sizeof(uint64_t)) +
	    ((size_t)t->bmask + 1) * sizeof(*t->buckets) + SCRATCH_LEN;
}

/* ---- setup ---- */

static int
crypto_init(struct quic_table *t)
{
	t->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	t->md = EVP_MD_CTX_new();
	if (t->sha256 == NULL || t->md == NULL)
		return 0;
	t->aead = EVP_CIPHER_CTX_new();
	t->ecb = EVP_CIPHER_CTX_new();
	if (t->aead == NULL || t->ecb == NULL)
		return 0;
	if (EVP_DecryptInit_ex(t->aead, EVP_aes_128_gcm(), NULL, NULL,
	    NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(t->aead, EVP_CTRL_AEAD_SET_IVLEN, IV_LEN,
	    NULL) != 1)
		return 0;
	if (EVP_EncryptInit_ex(t->ecb, EVP_aes_128_ecb(), NULL, NULL,
	    NULL) != 1)
		return 0;
	EVP_CIPHER_CTX_set_padding(t->ecb, 0);
	return 1;
}

struct quic_table *
quic_table_new(size_t max_conns, size_t max_crypto_bytes)
{
	struct quic_table *t;
	size_t cap, nb, i;

	if (max_conns == 0 || max_conns >= NONE ||
	    max_crypto_bytes < QUIC_CRYPTO_MIN ||
	    max_crypto_bytes > QUIC_CRYPTO_MAX)
		return NULL;
	cap = (max_crypto_bytes + 63) & ~(size_t)63;
	if (max_conns > SIZE_MAX / cap)
		return NULL;
	for (nb = 1; nb < max_conns && nb < ((size_t)1 << 31); nb <<= 1)
		;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->nconns = max_conns;
	t->cap = cap;
	t->words = cap / 64;
	t->bmask = (uint32_t)(nb - 1);
	t->conns = calloc(max_conns, sizeof(*t->conns));
	t->crypto = calloc(max_conns, cap);
	t->bits = calloc(max_conns * t->words, sizeof(uint64_t));
	t->buckets = malloc(nb * sizeof(*t->buckets));
	t->scratch = malloc(SCRATCH_LEN);
	if (t->conns == NULL || t->crypto == NULL || t->bits == NULL ||
	    t->buckets == NULL || t->scratch == NULL || !crypto_init(t)) {
		quic_table_free(t);
		return NULL;
	}
	for (i = 0; i < nb; i++)
		t->buckets[i] = NONE;
	for (i = 0; i < max_conns; i++) {
		t->conns[i].hnext = i + 1 < max_conns ? (uint32_t)(i + 1) :
		    NONE;
		t->conns[i].lru_prev = t->conns[i].lru_next = NONE;
	}
	t->free_head = 0;
	t->lru_head = t->lru_tail = NONE;
	return t;
}

void
quic_table_free(struct quic_table *t)
{
	if (t == NULL)
		return;
	EVP_MD_CTX_free(t->md);
	EVP_MD_free(t->sha256);
	EVP_CIPHER_CTX_free(t->aead);
	EVP_CIPHER_CTX_free(t->ecb);
	if (t->conns != NULL)
		OPENSSL_cleanse(t->conns, t->nconns * sizeof(*t->conns));
	free(t->conns);
	free(t->crypto);
	free(t->bits);
	free(t->buckets);
	free(t->scratch);
	free(t);
}
