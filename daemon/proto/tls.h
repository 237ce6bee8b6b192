/*
 * tls.h - TLS ClientHello parser (RFC 8446, RFC 5246, RFC 6066).
 *
 * Finds the server_name (SNI) of a ClientHello and whether it carries
 * an encrypted_client_hello extension.  Works on a prefix of the data:
 * callers feed what they have and call again with more.  Never reads
 * past len, never allocates, keeps no state between calls.
 *
 * SNI rules: the first host_name (type 0) entry of the first
 * server_name extension (0x0000) is used; one trailing dot is stripped;
 * a name that is empty (also after stripping), longer than 255 bytes or
 * holds a NUL byte makes the hello TLS_MALFORMED.  Other bytes are kept
 * as they are (no lowercasing, no validation: the caller does that).
 *
 * has_ech is set as soon as the type of an extension 0xfe0d has been
 * read, wherever it sits among the extensions.  GREASE ECH uses the same
 * type; the caller decides by SNI.  When a prefix ends before the whole
 * extension list was seen, has_ech only reflects the extensions seen.
 *
 * Results:
 *  TLS_NOT_TLS    cannot be a ClientHello (wrong handshake type, legacy
 *                 version major != 3, not a handshake record, SSLv2
 *                 compatible hello, ...).
 *  TLS_MORE       consistent so far but cut before the server_name
 *                 extension was complete; call again with more bytes.
 *  TLS_SNI        sni/sni_len/has_sni are valid.  complete = 1 when the
 *                 whole ClientHello was parsed, 0 when the data ended
 *                 after the server_name extension.
 *  TLS_NO_SNI     the whole ClientHello was parsed, no server_name.
 *  TLS_MALFORMED  a length field contradicts the length that contains
 *                 it, or the SNI is invalid (see above); nothing in *ch
 *                 is to be used.
 *  TLS_UNREADABLE (records only) the ClientHello is longer than
 *                 TLS_CH_MAX and its server_name is not within its first
 *                 TLS_CH_MAX bytes: more data could never help.
 * Bytes after the extension block but inside the handshake length are
 * ignored.  A ClientHello without any extensions is TLS_NO_SNI.
 */
#ifndef AIC_TLS_H
#define AIC_TLS_H

#include <stddef.h>
#include <stdint.h>

#define TLS_SNI_MAX	255
#define TLS_REC_MAX	(16384 + 256)	/* largest record payload accepted */
#define TLS_CH_MAX	(16384 + 4)	/* largest handshake message gathered
					 * from several records */

struct tls_ch {
	char		 sni[TLS_SNI_MAX + 1];
	size_t		 sni_len;
	int		 has_sni;
	int		 has_ech;	/* extension 0xfe0d seen */
	int		 complete;	/* whole ClientHello was parsed */
	uint16_t	 legacy_version;
};

enum tls_rc {
	TLS_NOT_TLS,
	TLS_MORE,
	TLS_SNI,
	TLS_NO_SNI,
	TLS_MALFORMED,
	TLS_UNREADABLE
};

/*
 * p = handshake-layer bytes from the handshake header (type 1, uint24
 * length), e.g. QUIC's CRYPTO stream from offset 0.  len may be a prefix
 * of the message (see TLS_MORE / TLS_SNI above).  Bytes after the
 * message are ignored.
 */
enum tls_rc tls_parse_handshake(const uint8_t *p, size_t len,
	    struct tls_ch *ch);

/*
 * p = the client's TCP stream from its first byte: TLS records (content
 * type 22, version 0x0300..0x0304, 1..TLS_REC_MAX bytes; a longer or
 * empty record is TLS_MALFORMED).  A ClientHello fragmented over several
 * records is joined in a stack buffer of TLS_CH_MAX bytes, or parsed in
 * place when one record holds all of it.  Returns TLS_NOT_TLS as soon
 * as the first bytes cannot start a handshake record carrying a
 * ClientHello.  A non-handshake record before the ClientHello is
 * complete is TLS_MALFORMED.  A ClientHello longer than TLS_CH_MAX whose
 * SNI is not within its first TLS_CH_MAX bytes gives TLS_UNREADABLE
 * rather than TLS_MORE, since more data could never help.
 */
enum tls_rc tls_parse_records(const uint8_t *p, size_t len,
	    struct tls_ch *ch);

/*
 * Reading a ClientHello spread over many records with a bounded buffer.
 * The caller holds the client's stream from its first byte and cuts out
 * of it, as told, the header of every record after the first, so its
 * buffer holds [first record header][handshake bytes] and a hello sent
 * in one-byte records takes its own size plus 5 bytes, not six times
 * its size.  State lives in struct tls_deframe (zeroed at the stream's
 * start); p/len is the buffer as it is now (after the earlier cuts).
 *
 * tls_deframe() returns:
 *  TLS_DF_CUT   cut 5 bytes at *cut_at out of the buffer, then call
 *               again with the buffer as it is then.
 *  TLS_DF_MORE  nothing more to do with these bytes.
 *  TLS_DF_DONE  the whole handshake message is joined (or no more
 *               would be; see tls_parse_records for the bounds).
 *  or a tls_rc: TLS_NOT_TLS / TLS_MALFORMED (as tls_parse_records).
 * After any of them, tls_deframed() parses what is joined.
 */
struct tls_deframe {
	uint32_t	 body;		/* handshake bytes after the header */
	uint32_t	 rec_left;	/* of the record being joined */
	uint8_t		 started;	/* the first header was checked */
};

#define TLS_DF_CUT	100
#define TLS_DF_MORE	101
#define TLS_DF_DONE	102

int	 tls_deframe(struct tls_deframe *, const uint8_t *p, size_t len,
	    size_t *cut_at);
enum tls_rc tls_deframed(const struct tls_deframe *, const uint8_t *p,
	    size_t len, struct tls_ch *ch);

/*
 * Cheap test of a TCP segment start: 0x16 0x03 0x00..0x04, a record
 * length of 1..TLS_REC_MAX and, when a sixth byte is present, 0x01
 * (ClientHello).  Fewer than 5 bytes give 0.
 */
int	tls_looks_like_clienthello(const uint8_t *p, size_t len);

#endif /* AIC_TLS_H */
