/*
 * fuzz.h - what the fuzz targets share.
 *
 * Every target is one file, fuzz/fuzz_<name>.c, whose entry points are
 * written FUZZ_ONE(name) and FUZZ_INIT(name).  Built for libFuzzer they
 * are LLVMFuzzerTestOneInput / LLVMFuzzerInitialize; built into the
 * regression replayer (tests/unit/test_regress.c, which includes every
 * target) they are fuzz_one_<name> / fuzz_init_<name>, so the saved
 * crash inputs in tests/regress/<name>/ go through exactly the code the
 * fuzzer ran.  For that, a target's own static names carry its prefix.
 *
 * Helpers here: splitting one input into segments, Ethernet/IPv4
 * TCP/UDP frame builders, and a QUIC Initial sealer so the fuzzer's
 * plaintext frames arrive as authentic Initials.  Nothing here checks
 * checksums: the decoder does not either.
 */
#ifndef AIC_FUZZ_H
#define AIC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#ifdef FUZZ_REGRESS
#define FUZZ_ONE(n)	fuzz_one_##n
#define FUZZ_INIT(n)	fuzz_init_##n
#else
#define FUZZ_ONE(n)	LLVMFuzzerTestOneInput
#define FUZZ_INIT(n)	LLVMFuzzerInitialize
#endif

/* The source tree, for tests/data; the replayer runs from it. */
#ifndef FUZZ_SRCDIR
#define FUZZ_SRCDIR	"."
#endif

#define FUZZ_UNUSED	__attribute__((unused))

/* FUZZ_SRCDIR made absolute (the replayer's "." is the working dir). */
static FUZZ_UNUSED const char *
fuzz_srcdir(void)
{
	static char dir[PATH_MAX];

	if (dir[0] == '\0' && realpath(FUZZ_SRCDIR, dir) == NULL) {
		perror("fuzz: " FUZZ_SRCDIR);
		abort();
	}
	return dir;
}

#ifndef FUZZ_REGRESS
/*
 * libconfig 1.5 (Debian 12) leaks a string token dropped during error
 * recovery (hyperrealm/libconfig#142, fixed in 1.7.3 by #155): not ours,
 * so LeakSanitizer is told to ignore that one allocation site.  The
 * replayer in tests/unit/test_regress.c says the same.
 */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig_yylex\nleak:strbuf_append\n";
}
#endif

/* A broken promise of the code under test: make it a crash. */
#define FUZZ_ASSERT(e) do {						\
	if (!(e)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #e);				\
		abort();						\
	}								\
} while (0)

/*
 * Segments of a multi-segment input are separated by these four bytes
 * (in the dictionaries as "FUZZ_SEP").
 */
#define FUZZ_SEP	"\xffSEG"
#define FUZZ_SEP_LEN	4

struct fuzz_split {
	const uint8_t	*p;
	size_t		 len;
};

/* The next segment into *seg; 0 when the input is used up. */
static FUZZ_UNUSED int
fuzz_next(struct fuzz_split *s, const uint8_t **seg, size_t *seglen)
{
	size_t i;

	if (s->p == NULL)
		return 0;
	for (i = 0; i + FUZZ_SEP_LEN <= s->len; i++)
		if (memcmp(s->p + i, FUZZ_SEP, FUZZ_SEP_LEN) == 0)
			break;
	*seg = s->p;
	if (i + FUZZ_SEP_LEN <= s->len) {
		*seglen = i;
		s->p += i + FUZZ_SEP_LEN;
		s->len -= i + FUZZ_SEP_LEN;
	} else {
		*seglen = s->len;
		s->p = NULL;
		s->len = 0;
	}
	return 1;
}

/* ---- frames: Ethernet II, IPv4, TCP or UDP ---- */

#define FUZZ_FRAME_MAX	(14 + 20 + 20 + 65535)

static FUZZ_UNUSED void
fuzz_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static FUZZ_UNUSED void
fuzz_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * One frame from fuzz_cli:51000 to 203.0.113.9:port (or back when
 * reverse) around payload; l4 is 6 or 17.  Returns its length (0 when
 * too long).
 */
static uint8_t fuzz_cli[4] = { 10, 10, 0, 7 };	/* [2] may change */

static FUZZ_UNUSED size_t
fuzz_frame(uint8_t *out, int l4, uint16_t port, int reverse, uint32_t seq,
    uint32_t ack, uint8_t tcp_flags, const uint8_t *pl, size_t plen)
{
	static const uint8_t srv[4] = { 203, 0, 113, 9 };
	const uint8_t *cli = fuzz_cli;
	size_t l4len = (l4 == 6 ? 20 : 8) + plen, n;
	uint8_t *ip = out + 14, *t = out + 34;

	if (20 + l4len > 65535)
		return 0;
	memset(out, 0, 34 + (l4 == 6 ? 20 : 8));
	memcpy(out, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	fuzz_put16(out + 12, 0x0800);
	ip[0] = 0x45;
	fuzz_put16(ip + 2, (uint32_t)(20 + l4len));
	ip[6] = 0x40;			/* DF */
	ip[8] = 64;
	ip[9] = (uint8_t)l4;
	memcpy(ip + 12, reverse ? srv : cli, 4);
	memcpy(ip + 16, reverse ? cli : srv, 4);
	fuzz_put16(t, reverse ? port : 51000);
	fuzz_put16(t + 2, reverse ? 51000 : port);
	if (l4 == 6) {
		fuzz_put32(t + 4, seq);
		fuzz_put32(t + 8, ack);
		t[12] = 5 << 4;
		t[13] = tcp_flags;
		fuzz_put16(t + 14, 64240);
		n = 54;
	} else {
		fuzz_put16(t + 4, (uint32_t)l4len);
		n = 42;
	}
	if (plen > 0)
		memcpy(out + n, pl, plen);
	return n + plen;
}

/* ---- QUIC Initial sealing (RFC 9001 5, RFC 9369 3.3) ---- */

/* The DCID every sealed Initial carries (RFC 9001 A.1's). */
static const uint8_t fuzz_dcid[8] FUZZ_UNUSED = {
	0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08
};

struct fuzz_qkeys {
	uint8_t		 key[16], iv[12], hp[16];
};

struct fuzz_sealer {
	struct fuzz_qkeys	 k[2];		/* v1, v2 */
	EVP_CIPHER_CTX		*gcm, *ecb;
};

static FUZZ_UNUSED int
fuzz_hkdf(int mode, const uint8_t *salt, size_t sl, const uint8_t *key,
    size_t kl, const uint8_t *info, size_t il, uint8_t *out, size_t ol)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *c = EVP_KDF_CTX_new(kdf);
	OSSL_PARAM prm[6], *q = prm;
	char md[] = "SHA256";
	int ok;

	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, md, 0);
	*q++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)(uintptr_t)key, kl);
	if (salt != NULL)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
		    (void *)(uintptr_t)salt, sl);
	if (info != NULL)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
		    (void *)(uintptr_t)info, il);
	*q = OSSL_PARAM_construct_end();
	ok = c != NULL && EVP_KDF_derive(c, out, ol, prm) > 0;
	EVP_KDF_CTX_free(c);
	EVP_KDF_free(kdf);
	return ok;
}

static FUZZ_UNUSED int
fuzz_label(const uint8_t *sec, const char *label, uint8_t *out, size_t ol)
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
	return fuzz_hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, NULL, 0, sec, 32, info,
	    n, out, ol);
}

/* Keys for fuzz_dcid, both versions, and the cipher contexts. */
static FUZZ_UNUSED int
fuzz_sealer_init(struct fuzz_sealer *s)
{
	static const uint8_t salt[2][20] = {
		{ 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
		  0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a },
		{ 0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
		  0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9 }
	};
	uint8_t prk[32], cs[32];
	int v;

	for (v = 0; v < 2; v++) {
		if (!fuzz_hkdf(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, salt[v], 20,
		    fuzz_dcid, sizeof(fuzz_dcid), NULL, 0, prk, 32) ||
		    !fuzz_label(prk, "client in", cs, 32) ||
		    !fuzz_label(cs, v ? "quicv2 key" : "quic key", s->k[v].key,
		    16) ||
		    !fuzz_label(cs, v ? "quicv2 iv" : "quic iv", s->k[v].iv,
		    12) ||
		    !fuzz_label(cs, v ? "quicv2 hp" : "quic hp", s->k[v].hp,
		    16))
			return -1;
	}
	s->gcm = EVP_CIPHER_CTX_new();
	s->ecb = EVP_CIPHER_CTX_new();
	if (s->gcm == NULL || s->ecb == NULL)
		return -1;
	return 0;
}

/*
 * Seal plaintext frames pl[0..plen) as a client Initial of version v2
 * (0 = QUIC v1, 1 = v2) with packet number pn (4 bytes on the wire),
 * fuzz_dcid and an 8-byte SCID.  The header protection sample needs 4 +
 * 16 bytes after the packet number start: short plaintexts are padded
 * with PADDING frames.  Returns the packet length, 0 when it does not
 * fit in outmax.
 */
static FUZZ_UNUSED size_t
fuzz_seal(struct fuzz_sealer *s, int v2, uint32_t pn, const uint8_t *pl,
    size_t plen, uint8_t *out, size_t outmax)
{
	const struct fuzz_qkeys *k = &s->k[v2 ? 1 : 0];
	uint32_t version = v2 ? 0x6b3343cfu : 0x00000001u;
	uint8_t mask[16], nonce[12];
	size_t n = 0, pn_off, len_field, i, padded = plen < 4 ? 4 : plen;
	int outl;

	if (padded > 16000 || 64 + padded > outmax)
		return 0;
	out[n++] = (uint8_t)(0xc0 | (v2 ? 1 : 0) << 4 | 3);
	fuzz_put32(out + n, version);
	n += 4;
	out[n++] = sizeof(fuzz_dcid);
	memcpy(out + n, fuzz_dcid, sizeof(fuzz_dcid));
	n += sizeof(fuzz_dcid);
	out[n++] = 8;
	memset(out + n, 0x5a, 8);
	n += 8;
	out[n++] = 0;			/* no token */
	len_field = 4 + padded + 16;
	out[n++] = (uint8_t)(0x40 | len_field >> 8);
	out[n++] = (uint8_t)len_field;
	pn_off = n;
	fuzz_put32(out + n, pn);
	n += 4;
	memcpy(out + n, pl, plen);
	memset(out + n + plen, 0, padded - plen);
	memcpy(nonce, k->iv, 12);
	for (i = 0; i < 4; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	if (EVP_EncryptInit_ex(s->gcm, EVP_aes_128_gcm(), NULL, k->key,
	    nonce) != 1 ||
	    EVP_EncryptUpdate(s->gcm, NULL, &outl, out, (int)n) != 1 ||
	    EVP_EncryptUpdate(s->gcm, out + n, &outl, out + n,
	    (int)padded) != 1 ||
	    EVP_EncryptFinal_ex(s->gcm, out + n + padded, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(s->gcm, EVP_CTRL_AEAD_GET_TAG, 16,
	    out + n + padded) != 1)
		return 0;
	if (EVP_EncryptInit_ex(s->ecb, EVP_aes_128_ecb(), NULL, k->hp,
	    NULL) != 1 ||
	    EVP_EncryptUpdate(s->ecb, mask, &outl, out + pn_off + 4, 16) != 1)
		return 0;
	out[0] ^= mask[0] & 0x0f;
	for (i = 0; i < 4; i++)
		out[pn_off + i] ^= mask[1 + i];
	return n + padded + 16;
}

#endif /* AIC_FUZZ_H */
