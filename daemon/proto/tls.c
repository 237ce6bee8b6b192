/*
 * tls.c - TLS ClientHello parser; see tls.h for what it promises.
 */
#include "proto/tls.h"

#include <string.h>

#include "common/rd.h"

#define CT_HANDSHAKE	22
#define HS_CLIENT_HELLO	1
#define HS_HDR_LEN	4
#define REC_HDR_LEN	5
#define EXT_SERVER_NAME	0x0000
#define EXT_ECH		0xfe0d
#define SNI_HOST_NAME	0

/*
 * Data may be a prefix, so every length has two limits: what the
 * enclosing structure declares (decl) and what was captured (r).  A
 * length beyond decl is a lie (malformed); a length beyond r but within
 * decl only means "not here yet".  r never holds more than decl.
 */
struct scope {
	struct rd	 r;
	size_t		 decl;
};

enum step { ST_OK, ST_MORE, ST_BAD };

static enum step
sc_need(const struct scope *s, size_t n)
{
	if (n > s->decl)
		return ST_BAD;
	if (n > rd_left(&s->r))
		return ST_MORE;
	return ST_OK;
}

static enum step
sc_u8(struct scope *s, uint8_t *v)
{
	enum step st = sc_need(s, 1);

	if (st != ST_OK)
		return st;
	*v = rd_u8(&s->r);
	s->decl -= 1;
	return ST_OK;
}

static enum step
sc_u16(struct scope *s, uint16_t *v)
{
	enum step st = sc_need(s, 2);

	if (st != ST_OK)
		return st;
	*v = rd_u16(&s->r);
	s->decl -= 2;
	return ST_OK;
}

static enum step
sc_skip(struct scope *s, size_t n)
{
	enum step st = sc_need(s, n);

	if (st != ST_OK)
		return st;
	rd_skip(&s->r, n);
	s->decl -= n;
	return ST_OK;
}

/* Carve n declared bytes; the child gets whatever part was captured. */
static enum step
sc_sub(struct scope *s, size_t n, struct scope *child)
{
	size_t have = rd_left(&s->r);

	if (n > s->decl)
		return ST_BAD;
	child->r = rd_sub(&s->r, n < have ? n : have);
	child->decl = n;
	s->decl -= n;
	return ST_OK;
}

static int
sc_whole(const struct scope *s)
{
	return rd_left(&s->r) == s->decl;
}

/* Skip a vector with a 1- or 2-byte length prefix. */
static enum step
sc_skip_vec(struct scope *s, int lenbytes)
{
	struct scope v;
	enum step st;
	uint16_t n16 = 0;
	uint8_t n8 = 0;

	st = lenbytes == 1 ? sc_u8(s, &n8) : sc_u16(s, &n16);
	if (st != ST_OK)
		return st;
	st = sc_sub(s, lenbytes == 1 ? n8 : n16, &v);
	if (st != ST_OK)
		return st;
	return sc_whole(&v) ? ST_OK : ST_MORE;
}

static enum step
sni_store(struct tls_ch *ch, const uint8_t *name, size_t n)
{
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > TLS_SNI_MAX || memchr(name, '\0', n) != NULL)
		return ST_BAD;
	memcpy(ch->sni, name, n);
	ch->sni[n] = '\0';
	ch->sni_len = n;
	ch->has_sni = 1;
	return ST_OK;
}

/*
 * server_name extension data (RFC 6066 section 3), fully captured.
 * A list without a host_name entry leaves has_sni at 0.
 */
static enum step
sni_parse(struct scope *x, struct tls_ch *ch)
{
	struct scope list, name;
	enum step st;
	uint16_t list_len, name_len;
	uint8_t type;

	if ((st = sc_u16(x, &list_len)) != ST_OK)
		return ST_BAD;	/* zero-length or 1-byte extension data */
	if (list_len == 0 || list_len != x->decl)
		return ST_BAD;
	if ((st = sc_sub(x, list_len, &list)) != ST_OK)
		return st;
	while (list.decl > 0) {
		if ((st = sc_u8(&list, &type)) != ST_OK ||
		    (st = sc_u16(&list, &name_len)) != ST_OK ||
		    (st = sc_sub(&list, name_len, &name)) != ST_OK)
			return st;
		if (type == SNI_HOST_NAME)
			return sni_store(ch, rd_ptr(&name.r, name.decl),
			    name.decl);
	}
	return ST_OK;
}

static enum step
extensions_walk(struct scope *e, struct tls_ch *ch)
{
	struct scope x;
	enum step st;
	uint16_t type, len;

	while (e->decl > 0) {
		if ((st = sc_u16(e, &type)) != ST_OK)
			return st;
		if (type == EXT_ECH)
			ch->has_ech = 1;
		if ((st = sc_u16(e, &len)) != ST_OK ||
		    (st = sc_sub(e, len, &x)) != ST_OK)
			return st;
		if (!sc_whole(&x))
			return ST_MORE;
		if (type == EXT_SERVER_NAME && !ch->has_sni &&
		    (st = sni_parse(&x, ch)) != ST_OK)
			return st;
	}
	return ST_OK;
}

/* ClientHello body after the handshake header. */
static enum step
hello_walk(struct scope *b, struct tls_ch *ch)
{
	struct scope e;
	enum step st;
	uint16_t ext_len;

	if ((st = sc_skip(b, 32)) != ST_OK ||		/* random */
	    (st = sc_skip_vec(b, 1)) != ST_OK ||	/* legacy_session_id */
	    (st = sc_skip_vec(b, 2)) != ST_OK ||	/* cipher_suites */
	    (st = sc_skip_vec(b, 1)) != ST_OK)		/* compression */
		return st;
	if (b->decl == 0)
		return ST_OK;				/* no extensions */
	if ((st = sc_u16(b, &ext_len)) != ST_OK ||
	    (st = sc_sub(b, ext_len, &e)) != ST_OK)
		return st;
	return extensions_walk(&e, ch);
}

enum tls_rc
tls_parse_handshake(const uint8_t *p, size_t len, struct tls_ch *ch)
{
	struct scope b;
	struct rd r = rd_init(p, len);
	enum step st;
	uint32_t hlen;

	memset(ch, 0, sizeof(*ch));
	if (len == 0)
		return TLS_MORE;
	if (p[0] != HS_CLIENT_HELLO)
		return TLS_NOT_TLS;
	if (len < HS_HDR_LEN)
		return TLS_MORE;
	rd_skip(&r, 1);
	hlen = rd_u24(&r);
	b.decl = hlen;
	b.r = rd_sub(&r, hlen < rd_left(&r) ? hlen : rd_left(&r));
	st = sc_u16(&b, &ch->legacy_version);
	if (st == ST_OK && ch->legacy_version >> 8 != 3)
		return TLS_NOT_TLS;
	if (st == ST_OK)
		st = hello_walk(&b, ch);
	if (st == ST_BAD) {
		memset(ch, 0, sizeof(*ch));
		return TLS_MALFORMED;
	}
	ch->complete = st == ST_OK;
	if (ch->has_sni)
		return TLS_SNI;
	return ch->complete ? TLS_NO_SNI : TLS_MORE;
}

static int
rec_version_ok(uint8_t major, uint8_t minor)
{
	return major == 3 && minor <= 4;
}

static size_t
hs_want(const uint8_t *h)
{
	return HS_HDR_LEN +
	    (((size_t)h[1] << 16) | ((size_t)h[2] << 8) | h[3]);
}

/*
 * Checks on the first bytes alone, so a non-TLS stream is dropped
 * early.  Returns a tls_rc, or -1 when the records may be walked.
 */
static int
first_check(const uint8_t *p, size_t len)
{
	size_t rlen;

	if (len == 0)
		return TLS_MORE;
	if (p[0] != CT_HANDSHAKE)
		return TLS_NOT_TLS;	/* SSLv2 hellos start with 0x80 */
	if (len >= 2 && p[1] != 3)
		return TLS_NOT_TLS;
	if (len < 3)
		return TLS_MORE;
	if (!rec_version_ok(p[1], p[2]))
		return TLS_NOT_TLS;
	if (len < REC_HDR_LEN)
		return TLS_MORE;
	rlen = ((size_t)p[3] << 8) | p[4];
	if (rlen == 0 || rlen > TLS_REC_MAX)
		return TLS_MALFORMED;
	if (len == REC_HDR_LEN)
		return TLS_MORE;
	if (p[REC_HDR_LEN] != HS_CLIENT_HELLO)
		return TLS_NOT_TLS;
	return -1;
}

/*
 * Next record's fragment.  Returns -1 with frag and take set (take is
 * short of the record length when the data ends), TLS_MORE when not
 * even a header is left, or TLS_MALFORMED.
 */
static int
rec_next(struct rd *r, const uint8_t **frag, size_t *take)
{
	uint8_t type, major, minor;
	size_t rlen, have;

	if (rd_left(r) < REC_HDR_LEN)
		return TLS_MORE;
	type = rd_u8(r);
	major = rd_u8(r);
	minor = rd_u8(r);
	rlen = rd_u16(r);
	if (type != CT_HANDSHAKE || !rec_version_ok(major, minor) ||
	    rlen == 0 || rlen > TLS_REC_MAX)
		return TLS_MALFORMED;
	have = rd_left(r);
	*take = rlen < have ? rlen : have;
	*frag = rd_ptr(r, *take);
	return -1;
}

/* The common case: one record holds all there is to parse. */
static int
one_record(const uint8_t *frag, size_t take, const struct rd *after)
{
	if (rd_left(after) < REC_HDR_LEN)
		return 1;	/* nothing more could be joined */
	return take >= HS_HDR_LEN && hs_want(frag) <= take;
}

enum tls_rc
tls_parse_records(const uint8_t *p, size_t len, struct tls_ch *ch)
{
	uint8_t buf[TLS_CH_MAX];
	struct rd r = rd_init(p, len);
	const uint8_t *frag;
	size_t n = 0, want = 0, take;
	int rc;

	memset(ch, 0, sizeof(*ch));
	if ((rc = first_check(p, len)) >= 0)
		return (enum tls_rc)rc;
	if ((rc = rec_next(&r, &frag, &take)) >= 0)
		return (enum tls_rc)rc;
	if (one_record(frag, take, &r))
		return tls_parse_handshake(frag, take, ch);

	for (;;) {
		if (take > TLS_CH_MAX - n)
			take = TLS_CH_MAX - n;
		memcpy(buf + n, frag, take);
		n += take;
		if (want == 0 && n >= HS_HDR_LEN)
			want = hs_want(buf);
		if (n == TLS_CH_MAX || (want != 0 && n >= want))
			break;
		rc = rec_next(&r, &frag, &take);
		if (rc == TLS_MORE)
			break;
		if (rc >= 0)
			return (enum tls_rc)rc;
	}
	rc = tls_parse_handshake(buf, n, ch);
	if (rc == TLS_MORE && n == TLS_CH_MAX)
		return TLS_UNREADABLE;	/* more data could never help */
	return (enum tls_rc)rc;
}

int
tls_deframe(struct tls_deframe *d, const uint8_t *p, size_t len,
    size_t *cut_at)
{
	size_t pos, take, rlen, want;
	int rc;

	if (!d->started) {
		if ((rc = first_check(p, len)) >= 0)
			return rc == TLS_MORE ? TLS_DF_MORE : rc;
		d->rec_left = (uint32_t)(((size_t)p[3] << 8) | p[4]);
		d->started = 1;
	}
	for (;;) {
		pos = REC_HDR_LEN + d->body;
		if (d->body >= HS_HDR_LEN) {
			want = hs_want(p + REC_HDR_LEN);
			if (d->body >= want || d->body >= TLS_CH_MAX)
				return TLS_DF_DONE;
		}
		if (pos > len)
			return TLS_DF_MORE;	/* cannot be: the caller's */
		if (d->rec_left > 0) {
			take = len - pos < d->rec_left ? len - pos :
			    d->rec_left;
			if (take == 0)
				return TLS_DF_MORE;
			d->body += (uint32_t)take;
			d->rec_left -= (uint32_t)take;
			continue;
		}
		/* a record boundary inside the handshake message */
		if (len - pos < REC_HDR_LEN)
			return TLS_DF_MORE;
		rlen = ((size_t)p[pos + 3] << 8) | p[pos + 4];
		if (p[pos] != CT_HANDSHAKE ||
		    !rec_version_ok(p[pos + 1], p[pos + 2]) || rlen == 0 ||
		    rlen > TLS_REC_MAX)
			return TLS_MALFORMED;
		d->rec_left = (uint32_t)rlen;
		*cut_at = pos;
		return TLS_DF_CUT;
	}
}

enum tls_rc
tls_deframed(const struct tls_deframe *d, const uint8_t *p, size_t len,
    struct tls_ch *ch)
{
	enum tls_rc rc;
	size_t n = d->body;

	if (!d->started || len < REC_HDR_LEN + n) {
		memset(ch, 0, sizeof(*ch));
		return TLS_MORE;
	}
	if (n > TLS_CH_MAX)
		n = TLS_CH_MAX;
	rc = tls_parse_handshake(p + REC_HDR_LEN, n, ch);
	if (rc == TLS_MORE && n == TLS_CH_MAX)
		return TLS_UNREADABLE;	/* more data could never help */
	return rc;
}

int
tls_looks_like_clienthello(const uint8_t *p, size_t len)
{
	size_t rlen;

	if (len < REC_HDR_LEN || p[0] != CT_HANDSHAKE ||
	    !rec_version_ok(p[1], p[2]))
		return 0;
	rlen = ((size_t)p[3] << 8) | p[4];
	if (rlen == 0 || rlen > TLS_REC_MAX)
		return 0;
	return len == REC_HDR_LEN || p[REC_HDR_LEN] == HS_CLIENT_HELLO;
}
