/*
 * quic.h - passive decryption of QUIC client Initial packets.
 *
 * Recovers the client's CRYPTO stream (its TLS ClientHello) from QUIC
 * version 1 (RFC 9000/9001) and version 2 (RFC 9369) Initial packets so
 * the TLS parser can read the SNI.  Initial keys depend only on the
 * Destination Connection ID the client picked, so anyone on the path
 * can derive them; the AEAD tag still tells a real Initial from noise.
 *
 * What it promises:
 *  - Datagrams are parsed through rd.h and never read past len.  A
 *    datagram may hold several coalesced packets: Initials are decrypted,
 *    0-RTT and Handshake packets are skipped by their Length field, and
 *    parsing stops at a short-header packet (or zero padding).
 *  - Client Initials are decrypted whatever the datagram size (the 1200
 *    byte minimum is not enforced).  Packets whose direction is "from
 *    server" are never decrypted, only classified (Version Negotiation,
 *    Retry); the caller states the direction, see quic_feed().
 *  - The CRYPTO stream is reassembled from frames in any order, across
 *    packets arriving in any order, with duplicates and overlaps; the
 *    filled bytes are tracked by a bitmap.  Overlapping bytes must be
 *    the same (retransmissions): a frame whose bytes differ from those
 *    held makes the connection done without a ClientHello
 *    (QA_CRYPTO_CONFLICT, the datagram is QUIC_MALFORMED), since which
 *    copy the server took cannot be known and a crafted second copy
 *    must not choose what is counted.  Bytes beyond max_crypto_bytes
 *    are dropped (QA_CRYPTO_OVERFLOW), the prefix below is kept.
 *  - Memory is allocated once in quic_table_new(); this module allocates
 *    nothing per packet, and its OpenSSL contexts are created once and
 *    re-keyed per packet.  Packets of known connections use the keys
 *    cached in their entry and cause no allocation at all; only an
 *    Initial with a new DCID runs HKDF: five HMAC-SHA256 over a digest
 *    fetched once, inside which OpenSSL makes about a dozen short-lived
 *    allocations (the provider's HKDF made 67 and cost twice the
 *    instructions).  A table entry is created only after a packet
 *    authenticated, so Initials with forged tags or random DCIDs cost
 *    CPU (one key derivation each) but never state.
 *  - Not thread-safe: one table per capture thread.
 *
 * Connections.  A connection is (flow_key, version, the DCID of its
 * first authenticated Initial).  Each client Initial is first tried with
 * keys derived from its own DCID.  When that fails, it is tried with the
 * cached keys of the other connections of the same flow_key, because
 * once the client has heard the server's Initial it sends its Initials
 * to the server-chosen DCID while keeping the original keys; such a
 * packet joins the original connection.  After a Retry the client picks
 * a new DCID and derives new keys: that is a new connection (and a
 * second QUIC_CLIENTHELLO), which callers may count as such or dedup.
 * At most QUIC_MAX_PER_FLOW connections are kept per flow_key.
 *
 * A connection reports its ClientHello once: after quic_feed() returned
 * QUIC_CLIENTHELLO for it, or after quic_conn_done(), it is "done" and
 * its further Initials (retransmits, ACKs) give QUIC_IGNORED.  The entry
 * stays until it is evicted so retransmits are not counted again.
 *
 * A long header of another version is QUIC_IGNORED with
 * QA_UNKNOWN_VERSION only when it looks like a real QUIC packet (fixed
 * bit set, connection IDs <= 20 bytes, >= 1200 bytes from a client);
 * otherwise it is QUIC_NOT_QUIC, so other UDP protocols fed here by
 * mistake (DNS, ...) do not raise the anomaly.
 *
 * Eviction: the least recently used entry is recycled when the table is
 * full (QA_TABLE_FULL_EVICT, unless it was idle for QUIC_IDLE_USEC); an
 * entry idle longer than QUIC_IDLE_USEC is treated as gone.
 */
#ifndef AIC_QUIC_H
#define AIC_QUIC_H

#include <stddef.h>
#include <stdint.h>

#define QUIC_V1			0x00000001u
#define QUIC_V2			0x6b3343cfu
#define QUIC_IDLE_USEC		(30ull * 1000000)
#define QUIC_MAX_PER_FLOW	4	/* connections kept per flow_key */
#define QUIC_CRYPTO_MIN		64
#define QUIC_CRYPTO_MAX		(1u << 20)

enum quic_rc {
	QUIC_NOT_QUIC,		/* not a long-header QUIC packet */
	QUIC_IGNORED,		/* QUIC, but nothing to report: VN, Retry,
				 * unknown version, server packet, 0-RTT or
				 * Handshake only, or a done connection */
	QUIC_PENDING,		/* authenticated; ClientHello not complete */
	QUIC_CLIENTHELLO,	/* ClientHello complete, or as complete as it
				 * can get (buffer full); reported once */
	QUIC_AUTH_FAIL,		/* AEAD tag did not verify: count nothing */
	QUIC_MALFORMED		/* broken header/length, or the CRYPTO stream
				 * does not start with a ClientHello */
};

/* Bits of quic_result.anomalies: what this datagram showed. */
enum quic_anomaly {
	QA_AUTH_FAIL		= 1u << 0,	/* an Initial's tag failed */
	QA_BAD_LENGTH		= 1u << 1,	/* a header or Length field
						 * does not fit the datagram */
	QA_BAD_FRAME		= 1u << 2,	/* unknown or truncated frame
						 * in an Initial */
	QA_CRYPTO_OVERFLOW	= 1u << 3,	/* CRYPTO data beyond the cap */
	QA_TABLE_FULL_EVICT	= 1u << 4,	/* a live entry was recycled */
	QA_VERSION_NEG		= 1u << 5,	/* Version Negotiation packet */
	QA_RETRY		= 1u << 6,	/* Retry packet */
	QA_UNKNOWN_VERSION	= 1u << 7,	/* long header, version not
						 * v1/v2 */
	QA_BAD_CRYPTO		= 1u << 8,	/* CRYPTO stream does not start
						 * with a ClientHello (type 1) */
	QA_CRYPTO_CONFLICT	= 1u << 9	/* CRYPTO data overlapping
						 * held bytes with different
						 * ones: connection done,
						 * nothing reported */
};

struct quic_result {
	uint32_t	 version;	/* of the packet reported on */
	/*
	 * CRYPTO stream bytes from offset 0, as far as they are contiguous
	 * (QUIC_PENDING and QUIC_CLIENTHELLO); NULL/0 otherwise.  Valid
	 * until the next quic_feed() on the same table.
	 */
	const uint8_t	*crypto;
	size_t		 crypto_len;
	int		 complete;	/* whole ClientHello (4 + its uint24
					 * length) is in crypto */
	unsigned	 anomalies;	/* enum quic_anomaly bits */
	uint64_t	 conn;		/* handle for quic_conn_done(); 0 when
					 * no connection was reported */
};

struct quic_stats {
	uint64_t	 datagrams;	/* quic_feed() calls */
	uint64_t	 initials;	/* client Initials tried */
	uint64_t	 auth_fail;
	uint64_t	 created;	/* connections */
	uint64_t	 evicted;	/* live entries recycled (table full) */
	uint64_t	 clienthellos;	/* QUIC_CLIENTHELLO returned */
	size_t		 in_use;	/* live entries now */
};

struct quic_table;

/*
 * max_conns >= 1; max_crypto_bytes in QUIC_CRYPTO_MIN..QUIC_CRYPTO_MAX
 * (rounded up to a multiple of 64).  Memory is about
 * max_conns * (max_crypto_bytes * 9 / 8 + 128) plus a 64 KB scratch
 * buffer.  NULL on bad arguments or when memory or OpenSSL fails.
 */
struct quic_table *quic_table_new(size_t max_conns, size_t max_crypto_bytes);
void	 quic_table_free(struct quic_table *);

/*
 * Feed one UDP payload.  flow_key identifies the UDP flow (an opaque
 * hash of its 5-tuple, the same for both directions or not: only
 * packets from the client are looked up).  from_client says whether the
 * datagram was sent by the flow's client (the side that sent first);
 * with from_client = 0 nothing is decrypted and the result is
 * QUIC_IGNORED (plus QA_VERSION_NEG / QA_RETRY), QUIC_NOT_QUIC or
 * QUIC_MALFORMED.  A caller that cannot tell directions may pass 1:
 * server Initials then give QUIC_AUTH_FAIL.
 *
 * now_usec is a monotonic clock.  res is always filled.  For a datagram
 * with several packets the most useful outcome is returned, in the order
 * CLIENTHELLO, PENDING, AUTH_FAIL, MALFORMED, IGNORED; anomalies collect
 * every packet's.
 */
enum quic_rc quic_feed(struct quic_table *, uint64_t flow_key, int from_client,
	    uint64_t now_usec, const uint8_t *p, size_t len,
	    struct quic_result *res);

/*
 * The caller found what it needed (e.g. the SNI in a QUIC_PENDING
 * prefix): mark the connection done so later Initials give
 * QUIC_IGNORED.  A stale handle (entry recycled since) is ignored.
 */
void	 quic_conn_done(struct quic_table *, uint64_t conn);

void	 quic_table_stats(const struct quic_table *, struct quic_stats *);
/* Bytes allocated by quic_table_new() (not counting OpenSSL's). */
size_t	 quic_table_mem(const struct quic_table *);

#endif /* AIC_QUIC_H */
