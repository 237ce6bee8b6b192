/*
 * flow.h - the flow table and the bounded TCP stream reassembly (the
 * client's stream, and the server's where a detector reads it).
 *
 * The table is allocated once, at its full size, and never grows: a flow
 * is an index into a preallocated array, found through a keyed hash (so
 * a flood of crafted 5-tuples cannot build long chains) and recycled
 * least-recently-used first when the table is full.  Only flows the
 * detectors care about get an entry: a TCP connection whose SYN was seen
 * (its first client bytes are still to come), a stream a detector has
 * claimed, a QUIC flow being decoded, and connections already counted
 * (for their byte totals).  Bulk traffic that matched nothing has none.
 *
 * Reassembly buffers (struct stream) come from a second fixed pool and
 * hold the first STREAM_BUF bytes of a client stream, in sequence order,
 * whatever order the segments arrive in; retransmitted bytes land on
 * themselves.  Overlapping bytes must be the same: a segment that
 * contradicts bytes the stream holds ends its detection (no "last copy
 * wins", which would let a crafted copy choose what is counted; see
 * flow_stream_add).  When the pool is exhausted the oldest stream is
 * dropped.
 */
#ifndef AIC_FLOW_H
#define AIC_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"

struct agg_cell;

/*
 * A ClientHello sent in one TLS record of the largest size a peer may
 * send (2^14 bytes, RFC 8446 section 5.1; TLS_REC_MAX allows 256 more)
 * fits whole with its record header, wherever its server_name sits
 * (browsers send 0.5-2.3 KB, but 9 KB of padding before the name must
 * not hide it).  With the record headers of a hello spread over many
 * records cut out as it is read (flow_stream_cut, det_tls.c), the same
 * bound holds however it is fragmented.  1024 buffers (pipeline.c) are
 * 17 MiB of address space, touched only as streams are in use.
 */
#define STREAM_BUF		(16384 + 512)
#define STREAM_RANGES		8	/* out-of-order islands kept per stream */
#define STREAM_FSTATE		64	/* detector scratch per stream */
#define FLOW_NONE		UINT32_MAX

/* flow flags */
#define FL_SYN_SEEN	0x01	/* isn_next is the first client byte */
#define FL_CLAIMED	0x02	/* a detector owns the client stream */
#define FL_DONE		0x04	/* detection finished for this flow */
#define FL_COUNTED	0x08	/* bytes go to a usage cell */
#define FL_UDP_SEEN	0x10	/* a UDP detector consumed a datagram */
#define FL_CONFLICT	0x80	/* overlapping segments disagreed: the
				 * flow counts nothing (kept, done, until
				 * it ages out, so it is not picked up
				 * again mid-connection) */

struct flow {
	uint8_t		 cli[16], srv[16];	/* client = initiator */
	uint16_t	 cport, sport;
	uint8_t		 l4;
	uint8_t		 flags;
	uint8_t		 det;		/* index of the claiming detector */
	uint8_t		 probes;	/* client segments looked at */
	int16_t		 vlan;
	int16_t		 dept;		/* set when counted */
	int32_t		 svc;
	uint32_t	 isn_next;
	uint32_t	 last_sec;
	uint32_t	 slot;		/* client stream, or FLOW_NONE */
	uint32_t	 sslot;		/* server stream, or FLOW_NONE */
	uint32_t	 srv_next;	/* see FS_SRV_BASE */
	uint8_t		 sflags;
	uint64_t	 pend_up, pend_down;	/* bytes before it was counted */
	uint64_t	 conn_id;	/* QUIC: connection already counted */
	uint64_t	 hash;
	/* the usage cell its bytes went to last (pipeline's cache) */
	struct agg_cell	*cell;
	uint32_t	 cell_gen;	/* agg_generation() when cell was got */
	/* table links */
	uint32_t	 hnext, lru_prev, lru_next;
};

/* server-side flags (sflags) */
#define FS_SRV_BASE	0x01	/* srv_next is the server's first byte */
#define FS_SRV_DONE	0x02	/* server side over: declined, ended, lost */

struct flow_stats {
	uint64_t	 created, evicted, expired, stream_evicted;
	uint64_t	 stream_gaps_dropped, stream_overflow;
	uint64_t	 overlap_conflict;	/* streams given up, see
						 * flow_stream_add() */
	size_t		 in_use, streams_in_use;
};

struct flow_table;

struct flow_table *flow_table_new(size_t max_flows, size_t max_streams,
	    uint64_t seed);
void	 flow_table_free(struct flow_table *);
size_t	 flow_table_mem(const struct flow_table *);

/* Direction-independent key of the packet's 5-tuple (keyed hash). */
uint64_t flow_hash(const struct flow_table *, const struct pkt *);

/* Find the packet's flow; *from_client tells the packet's direction. */
struct flow *flow_lookup(struct flow_table *, const struct pkt *,
	    uint64_t hash, int *from_client);
/* New flow whose client is the packet's sender; recycles the LRU one. */
struct flow *flow_create(struct flow_table *, const struct pkt *,
	    uint64_t hash, uint32_t now);
void	 flow_touch(struct flow_table *, struct flow *, uint32_t now);
void	 flow_remove(struct flow_table *, struct flow *);
/* Drop flows idle for longer than idle_sec; returns how many. */
size_t	 flow_expire(struct flow_table *, uint32_t now, uint32_t idle_sec,
	    size_t max_scan);

/* Streams. */
int	 flow_stream_open(struct flow_table *, struct flow *, uint32_t base_seq);
/*
 * Store a segment; returns 1 when the contiguous prefix grew.  Bytes
 * that overlap bytes the stream still holds must be the same (a
 * retransmission): where they differ, someone sends two versions of
 * the stream and which one the server took cannot be known, so the
 * stream is closed, the flow marked FL_DONE | FL_CONFLICT (it counts
 * nothing from now on) and stats.overlap_conflict counted; 0 is
 * returned.  Bytes no longer held (consumed, or beyond the buffer)
 * cannot be compared and are not.
 */
int	 flow_stream_add(struct flow_table *, struct flow *, uint32_t seq,
	    const uint8_t *p, size_t len);
const uint8_t *flow_stream_data(const struct flow_table *,
	    const struct flow *, size_t *len, uint64_t *off);
void	*flow_stream_fstate(struct flow_table *, struct flow *);
void	 flow_stream_consume(struct flow_table *, struct flow *, size_t n);
/*
 * Cut n bytes at offset at of the contiguous data out of the buffer
 * (framing a detector has read, e.g. TLS record headers): data[0..at)
 * stays where it is, out of sequence space, and later bytes move down
 * by n, so a message spread over many small records fits.  at must not
 * lie inside what an earlier cut kept, nor at + n beyond the contiguous
 * data: -1 then, and nothing changes.
 */
int	 flow_stream_cut(struct flow_table *, struct flow *, size_t at,
	    size_t n);
void	 flow_stream_close(struct flow_table *, struct flow *);
/* The stream holds no byte at relative offset 0 yet. */
int	 flow_stream_empty_head(const struct flow_table *, const struct flow *);

/*
 * The server's stream, for a flow whose detector also reads the bytes
 * the server sends (DNS over TCP: the answers): a second buffer from the
 * same pool, kept by the same code under the same rules and bounds as
 * the client's.  Losing it to the pool ends only the server's side
 * (FS_SRV_DONE); the client's stream goes on.
 */
int	 flow_srv_stream_open(struct flow_table *, struct flow *,
	    uint32_t base_seq);
int	 flow_srv_stream_add(struct flow_table *, struct flow *, uint32_t seq,
	    const uint8_t *p, size_t len);
const uint8_t *flow_srv_stream_data(const struct flow_table *,
	    const struct flow *, size_t *len, uint64_t *off);
void	*flow_srv_stream_fstate(struct flow_table *, struct flow *);
void	 flow_srv_stream_consume(struct flow_table *, struct flow *, size_t n);
void	 flow_srv_stream_close(struct flow_table *, struct flow *);

const struct flow_stats *flow_stats(const struct flow_table *);
/* Visit every flow in use (for re-keying after a reload). */
void	 flow_foreach(struct flow_table *, void (*fn)(void *, struct flow *),
	    void *arg);

#endif /* AIC_FLOW_H */
