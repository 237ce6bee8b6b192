/*
 * outbox.c - the durable outbox (outbox.h says what it promises): cell
 * records sealed with AES-256-GCM into rows of the vault's file.
 *
 * Record (plaintext, before sealing), all integers little-endian:
 *   u8 version 1, u8 type, u8 kind, i32 period, u8 dept length, dept,
 *   u8 svc length, svc, RM_N x u64.
 * Row blob: 12-byte random nonce || ciphertext || 16-byte tag.
 * Row id: the first 16 bytes of HMAC-SHA256(key, "id" || type || kind ||
 * period || dept || NUL || svc): the same cell always gets the same row,
 * and the id tells nothing without the key.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "store/outbox.h"
#include "store/vaultdb.h"

#define REC_VERSION	1
#define NONCE_LEN	12
#define TAG_LEN		16
#define AAD_LABEL	"aicensus-outbox-1"
#define PT_MAX		(3 + 4 + 1 + 64 + 1 + 48 + 8 * RM_N)
#define BLOB_MAX	(NONCE_LEN + PT_MAX + TAG_LEN)

struct outbox {
	struct vaultdb	*db;
	uint8_t		 key[OUTBOX_KEY_LEN];
	uint64_t	 max_bytes;
	int64_t		 seq;		/* the last seq put */
	uint64_t	 dropped, bad;
	/* keyed once: a flush seals hundreds of records */
	EVP_CIPHER_CTX	*enc, *dec;
	EVP_MAC_CTX	*mac;
};

int
outbox_key_load(const char *path, uint8_t key[OUTBOX_KEY_LEN], char *err,
    size_t errlen)
{
	struct stat st;
	ssize_t r;
	int fd;

	if (path == NULL) {
		if (RAND_bytes(key, OUTBOX_KEY_LEN) != 1) {
			snprintf(err, errlen, "no random bytes for the outbox key");
			return -1;
		}
		return 0;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
		    (st.st_mode & 077) != 0) {
			snprintf(err, errlen, "outbox key %s is not a regular "
			    "file of mode 0600", path);
			close(fd);
			return -1;
		}
		r = read(fd, key, OUTBOX_KEY_LEN);
		close(fd);
		if (r != OUTBOX_KEY_LEN) {
			snprintf(err, errlen, "outbox key %s is not %d bytes",
			    path, OUTBOX_KEY_LEN);
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "outbox key %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (RAND_bytes(key, OUTBOX_KEY_LEN) != 1) {
		snprintf(err, errlen, "no random bytes for the outbox key");
		return -1;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0 || write(fd, key, OUTBOX_KEY_LEN) != OUTBOX_KEY_LEN ||
	    fsync(fd) != 0) {
		snprintf(err, errlen, "cannot create the outbox key %s: %s",
		    path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		OPENSSL_cleanse(key, OUTBOX_KEY_LEN);
		return -1;
	}
	close(fd);
	return 0;
}

static int
crypto_init(struct outbox *o)
{
	OSSL_PARAM prm[2];
	EVP_MAC *m;

	if ((o->enc = EVP_CIPHER_CTX_new()) == NULL ||
	    (o->dec = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(o->enc, EVP_aes_256_gcm(), NULL, o->key,
	    NULL) != 1 ||
	    EVP_DecryptInit_ex(o->dec, EVP_aes_256_gcm(), NULL, o->key,
	    NULL) != 1)
		return -1;
	if ((m = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return -1;
	o->mac = EVP_MAC_CTX_new(m);
	EVP_MAC_free(m);
	prm[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	prm[1] = OSSL_PARAM_construct_end();
	if (o->mac == NULL || EVP_MAC_init(o->mac, o->key, OUTBOX_KEY_LEN,
	    prm) != 1)
		return -1;
	return 0;
}

struct outbox *
outbox_open(struct vaultdb *db, const uint8_t key[OUTBOX_KEY_LEN],
    uint64_t max_bytes, char *err, size_t errlen)
{
	struct outbox *o;

	if (vaultdb_outbox_init(db) != 0) {
		snprintf(err, errlen, "cannot make the outbox table: %s",
		    vaultdb_errmsg(db));
		return NULL;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	o->db = db;
	memcpy(o->key, key, OUTBOX_KEY_LEN);
	o->max_bytes = max_bytes;
	if (crypto_init(o) != 0) {
		snprintf(err, errlen, "outbox: OpenSSL cannot set up "
		    "AES-256-GCM and HMAC-SHA256");
		outbox_close(o);
		return NULL;
	}
	if ((o->seq = vaultdb_outbox_maxseq(db)) < 0) {
		snprintf(err, errlen, "cannot read the outbox: %s",
		    vaultdb_errmsg(db));
		outbox_close(o);
		return NULL;
	}
	return o;
}

void
outbox_close(struct outbox *o)
{
	if (o == NULL)
		return;
	OPENSSL_cleanse(o->key, sizeof(o->key));
	EVP_CIPHER_CTX_free(o->enc);
	EVP_CIPHER_CTX_free(o->dec);
	EVP_MAC_CTX_free(o->mac);
	free(o);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Name lengths as the record can hold them (the buffers are NUL-ended). */
static size_t
name_len(const char *s, size_t cap)
{
	return strnlen(s, cap - 1);
}

static int
rec_id(const struct outbox *o, const struct outbox_rec *r, uint8_t id[16])
{
	uint8_t msg[2 + 2 + 4 + 64 + 1 + 48], mac[EVP_MAX_MD_SIZE];
	size_t n = 0, maclen = 0, dl = name_len(r->dept, sizeof(r->dept)),
	    sl = name_len(r->svc, sizeof(r->svc));
	EVP_MAC_CTX *c;
	int rc = -1;

	memcpy(msg, "id", 2);
	msg[2] = r->type;
	msg[3] = r->kind;
	put32(msg + 4, (uint32_t)r->period);
	n = 8;
	memcpy(msg + n, r->dept, dl);
	n += dl;
	msg[n++] = 0;
	memcpy(msg + n, r->svc, sl);
	n += sl;
	/* a copy of the keyed context: the key schedule is done once */
	if ((c = EVP_MAC_CTX_dup(o->mac)) == NULL)
		return -1;
	if (EVP_MAC_update(c, msg, n) == 1 && EVP_MAC_final(c, mac, &maclen,
	    sizeof(mac)) == 1 && maclen >= 16) {
		memcpy(id, mac, 16);
		rc = 0;
	}
	EVP_MAC_CTX_free(c);
	return rc;
}

static size_t
rec_encode(const struct outbox_rec *r, uint8_t *p)
{
	size_t n = 0, dl = name_len(r->dept, sizeof(r->dept)),
	    sl = name_len(r->svc, sizeof(r->svc));
	int i, j;

	p[n++] = REC_VERSION;
	p[n++] = r->type;
	p[n++] = r->kind;
	put32(p + n, (uint32_t)r->period);
	n += 4;
	p[n++] = (uint8_t)dl;
	memcpy(p + n, r->dept, dl);
	n += dl;
	p[n++] = (uint8_t)sl;
	memcpy(p + n, r->svc, sl);
	n += sl;
	for (i = 0; i < RM_N; i++)
		for (j = 0; j < 8; j++)
			p[n++] = (uint8_t)(r->v[i] >> (8 * j));
	return n;
}

/* Every length checked against what is left; 0 ok, -1 malformed. */
static int
rec_decode(const uint8_t *p, size_t len, struct outbox_rec *r)
{
	size_t n = 0, dl, sl;
	int i, j;

	memset(r, 0, sizeof(*r));
	if (len < 8 || p[0] != REC_VERSION)
		return -1;
	r->type = p[1];
	r->kind = p[2];
	r->period = (int32_t)get32(p + 3);
	n = 7;
	dl = p[n++];
	if (dl >= sizeof(r->dept) || len - n < dl + 1)
		return -1;
	memcpy(r->dept, p + n, dl);
	n += dl;
	sl = p[n++];
	if (sl >= sizeof(r->svc) || len - n != sl + 8 * RM_N)
		return -1;
	memcpy(r->svc, p + n, sl);
	n += sl;
	for (i = 0; i < RM_N; i++)
		for (j = 0; j < 8; j++)
			r->v[i] |= (uint64_t)p[n++] << (8 * j);
	if (r->type < OB_CELL || r->type > OB_BLIND)
		return -1;
	return 0;
}

/* AES-256-GCM; out gets nonce || ct || tag.  0 ok. */
static int
seal(const struct outbox *o, const uint8_t id[16], const uint8_t *pt,
    size_t n, uint8_t *out)
{
	EVP_CIPHER_CTX *c = o->enc;
	uint8_t aad[sizeof(AAD_LABEL) - 1 + 16];
	int l;

	memcpy(aad, AAD_LABEL, sizeof(AAD_LABEL) - 1);
	memcpy(aad + sizeof(AAD_LABEL) - 1, id, 16);
	if (RAND_bytes(out, NONCE_LEN) != 1)
		return -1;
	/* the key stays set; only the nonce is new */
	if (EVP_EncryptInit_ex(c, NULL, NULL, NULL, out) == 1 &&
	    EVP_EncryptUpdate(c, NULL, &l, aad, (int)sizeof(aad)) == 1 &&
	    EVP_EncryptUpdate(c, out + NONCE_LEN, &l, pt, (int)n) == 1 &&
	    EVP_EncryptFinal_ex(c, out + NONCE_LEN + l, &l) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
	    out + NONCE_LEN + n) == 1)
		return 0;
	return -1;
}

static int
unseal(const struct outbox *o, const uint8_t id[16], const uint8_t *in,
    size_t len, uint8_t *pt)
{
	EVP_CIPHER_CTX *c = o->dec;
	uint8_t aad[sizeof(AAD_LABEL) - 1 + 16];
	size_t n;
	int l;

	if (len < NONCE_LEN + TAG_LEN || len > BLOB_MAX)
		return -1;
	n = len - NONCE_LEN - TAG_LEN;
	memcpy(aad, AAD_LABEL, sizeof(AAD_LABEL) - 1);
	memcpy(aad + sizeof(AAD_LABEL) - 1, id, 16);
	if (EVP_DecryptInit_ex(c, NULL, NULL, NULL, in) == 1 &&
	    EVP_DecryptUpdate(c, NULL, &l, aad, (int)sizeof(aad)) == 1 &&
	    EVP_DecryptUpdate(c, pt, &l, in + NONCE_LEN, (int)n) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
	    (void *)(in + NONCE_LEN + n)) == 1 &&
	    EVP_DecryptFinal_ex(c, pt + l, &l) == 1)
		return (int)n;
	return -1;
}

long
outbox_put(struct outbox *o, const struct outbox_rec *recs, size_t n)
{
	uint8_t pt[PT_MAX], blob[BLOB_MAX], id[16];
	int64_t held;
	long dropped = 0;
	size_t i, len;

	if (n == 0)
		return 0;
	if ((held = vaultdb_outbox_bytes(o->db)) < 0 ||
	    vaultdb_begin(o->db) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		len = rec_encode(&recs[i], pt);
		/*
		 * A replaced row is counted twice here: the bound errs on the
		 * safe side within one put, and is exact again at the next.
		 */
		if ((uint64_t)held + len + NONCE_LEN + TAG_LEN + 16 >
		    o->max_bytes) {
			dropped++;
			continue;
		}
		if (rec_id(o, &recs[i], id) != 0 || seal(o, id, pt, len,
		    blob) != 0 || vaultdb_outbox_put(o->db, id, o->seq + 1,
		    blob, len + NONCE_LEN + TAG_LEN) != 0)
			goto fail;
		o->seq++;
		held += (int64_t)(len + NONCE_LEN + TAG_LEN + 16);
	}
	OPENSSL_cleanse(pt, sizeof(pt));
	if (vaultdb_commit(o->db, NULL, 0) != 0)
		return -1;
	o->dropped += (uint64_t)dropped;
	return dropped;
fail:
	OPENSSL_cleanse(pt, sizeof(pt));
	vaultdb_rollback(o->db);
	return -1;
}

struct take {
	struct outbox		*o;
	struct outbox_rec	*recs;
	size_t			 n;
	uint8_t			 badid[64][16];
	int64_t			 badseq[64];
	size_t			 nbad;
};

static int
take_row(void *arg, const uint8_t *id, int64_t seq, const uint8_t *blob,
    size_t len)
{
	struct take *t = arg;
	uint8_t pt[BLOB_MAX];
	int n;

	if ((n = unseal(t->o, id, blob, len, pt)) < 0 ||
	    rec_decode(pt, (size_t)n, &t->recs[t->n]) != 0) {
		if (t->nbad < 64) {
			memcpy(t->badid[t->nbad], id, 16);
			t->badseq[t->nbad++] = seq;
		}
		OPENSSL_cleanse(pt, sizeof(pt));
		return 0;
	}
	OPENSSL_cleanse(pt, sizeof(pt));
	memcpy(t->recs[t->n].id, id, 16);
	t->recs[t->n].seq = seq;
	t->n++;
	return 0;
}

long
outbox_take(struct outbox *o, struct outbox_rec *recs, size_t max)
{
	struct take *t;
	size_t i;
	long n;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	t->o = o;
	t->recs = recs;
	if (vaultdb_outbox_rows(o->db, max, take_row, t) != 0) {
		free(t);
		return -1;
	}
	/* a row that does not open never will: it would block the queue */
	for (i = 0; i < t->nbad; i++)
		if (vaultdb_outbox_del(o->db, t->badid[i], t->badseq[i]) == 0)
			o->bad++;
	n = (long)t->n;
	free(t);
	return n;
}

int
outbox_ack(struct outbox *o, const struct outbox_rec *recs, size_t n)
{
	size_t i;

	if (vaultdb_begin(o->db) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (vaultdb_outbox_del(o->db, recs[i].id, recs[i].seq) != 0) {
			vaultdb_rollback(o->db);
			return -1;
		}
	return vaultdb_commit(o->db, NULL, 0);
}

int64_t
outbox_count(struct outbox *o)
{
	return vaultdb_outbox_count(o->db);
}

int64_t
outbox_bytes(struct outbox *o)
{
	return vaultdb_outbox_bytes(o->db);
}

uint64_t
outbox_dropped(const struct outbox *o)
{
	return o->dropped;
}

uint64_t
outbox_bad(const struct outbox *o)
{
	return o->bad;
}
