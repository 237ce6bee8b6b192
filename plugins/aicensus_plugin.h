/*
 * aicensus_plugin.h - the plugin ABI of aicensus (version 2).
 *
 * A plugin is a shared object that exports one symbol,
 *
 *	const struct aic_plugin *aicensus_plugin(void);
 *
 * returning a descriptor whose abi field must equal AIC_PLUGIN_ABI; the
 * daemon refuses to start otherwise.  A plugin is a detector (payload in,
 * named events out) or an exporter (released cells in), or both.
 * The built-in DNS, TLS and QUIC detectors use this same interface.
 *
 * Privacy by construction: a plugin never sees a client address.  The
 * host hands a detector the transport payload and an opaque flow key
 * (a keyed hash, useless outside this process) and attributes each event
 * to a department itself.  An exporter sees only released cells: the
 * figures of a closed day or ISO week, after the release stage protected
 * them, exactly as every other output shows them (ABI 2; ABI 1 handed
 * raw hourly aggregates at each flush and is refused).
 */
#ifndef AICENSUS_PLUGIN_H
#define AICENSUS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#define AIC_PLUGIN_ABI	2

/* What a detector tells the host it found. */
enum aic_event_kind {
	AIC_EV_DNS_QUERY = 1,	/* a DNS query for name (counts a lookup) */
	AIC_EV_DNS_RESPONSE,	/* a DNS response for name; addrs = A/AAAA */
	AIC_EV_TLS_SNI,		/* a TLS ClientHello over TCP naming name */
	AIC_EV_QUIC_SNI,	/* a QUIC Initial ClientHello naming name */
	AIC_EV_HTTP_HOST,	/* a cleartext HTTP Host / CONNECT target */
	AIC_EV_ANOMALY		/* name = short anomaly id, e.g. "dns_name_loop" */
};

/* Event flags. */
#define AIC_EVF_ECH		0x01	/* ClientHello carries encrypted_client_hello */
#define AIC_EVF_NXDOMAIN	0x02	/* response code 3 */
#define AIC_EVF_NO_NAME		0x04	/* ClientHello without server_name */
#define AIC_EVF_TO_CLIENT	0x08	/* the packet travels towards the client */
#define AIC_EVF_PARTIAL		0x10	/* name seen, rest of ClientHello not yet */

struct aic_event {
	enum aic_event_kind	 kind;
	unsigned		 flags;
	const char		*name;		/* not NUL-terminated */
	size_t			 name_len;
	/* DNS responses: server addresses from A/AAAA answers. */
	unsigned		 n_addrs;
	const uint8_t		(*addrs)[16];	/* IPv4 as ::ffff:a.b.c.d */
	uint32_t		 ttl;		/* of those answers, seconds */
	/*
	 * Identifies the connection within the flow (QUIC: derived from
	 * the original destination connection ID), so a repeated event
	 * for the same connection is not counted twice; 0 for TCP.
	 */
	uint64_t		 conn_id;
};

/* One transport payload, as the host hands it to a detector. */
struct aic_payload {
	uint64_t	 ts_usec;
	uint64_t	 flow_key;	/* opaque, direction-independent */
	uint8_t		 l4;		/* 6 TCP, 17 UDP */
	uint8_t		 from_client;	/* TCP: sender opened the connection */
	uint16_t	 sport, dport;
	const uint8_t	*data;
	size_t		 len;
	/*
	 * TCP only: data is the client's byte stream from the start of
	 * what the detector claimed (stream_off 0) up to the first gap;
	 * it grows with each call.  With from_client 0 it is the server's
	 * stream, for a detector that asked for it (tcp_claim).  UDP: one
	 * datagram.
	 */
	int		 is_stream;
	uint64_t	 stream_off;	/* offset of data[0] in the stream */
	/*
	 * Per-flow scratch the host keeps for this detector (flow_state_size
	 * bytes, zeroed when the detector claims the flow; the server's
	 * stream has its own); NULL for UDP.
	 */
	void		*fstate;
};

/* What a TCP detector answers about a stream. */
enum aic_verdict {
	AIC_NOT_MINE = 0,	/* never call again for this flow */
	AIC_MORE,		/* call again when the stream grows */
	AIC_DONE		/* found what it wanted; stop */
};

/* What a UDP detector answers about a datagram. */
#define AIC_UDP_NOT_MINE	0
#define AIC_UDP_MINE		1	/* handled; no flow state needed */
#define AIC_UDP_TRACK		2	/* handled; count this flow's bytes */

struct aic_host {
	unsigned	  abi;
	void		 *ctx;
	/* Report an event for the packet being handled. */
	void		(*emit)(void *ctx, const struct aic_event *ev);
	/* Logging: never pass an address. */
	void		(*log)(void *ctx, int level, const char *msg);
	/*
	 * TCP, only inside tcp_stream (NULL in hosts that lack it): cut n
	 * bytes at offset at out of the data just handed over - framing
	 * the detector has read, e.g. TLS record headers - so a message
	 * spread over many small records fits the host's stream buffer.
	 * data[0..at) stays and is handed over again; the bytes after
	 * move down by n.  at must not lie inside what an earlier cut
	 * kept, nor at + n beyond len: -1 then.  Appended to ABI 2 (the
	 * host owns the struct; a plugin built before does not see it).
	 */
	int		(*stream_cut)(void *ctx, size_t at, size_t n);
};

/* Kinds of released period. */
#define AIC_PERIOD_DAY		1	/* period YYYYMMDD */
#define AIC_PERIOD_WEEK		2	/* period YYYYWW (ISO) */

/* Measures of a released cell; bit (1 << AIC_M_x) in `published`. */
enum aic_measure {
	AIC_M_DEVICES, AIC_M_DEVICE_HOURS, AIC_M_TLS_CONNS, AIC_M_QUIC_CONNS,
	AIC_M_ECH_CONNS, AIC_M_CONNECTIONS, AIC_M_DNS_LOOKUPS,
	AIC_M_DNS_NXDOMAIN, AIC_M_BYTES_UP, AIC_M_BYTES_DOWN, AIC_M_N
};

/*
 * One released cell handed to exporters when its period is released
 * (after the release database committed it), once.  The cells of a
 * period come in grid order between export_begin and export_end.  A
 * cell the release left at zero is not handed over (an absent cell is
 * a released zero).  Measures whose bit is clear in `published` are
 * not released at this level (days: devices, device_hours,
 * connections, dns_lookups, dns_nxdomain) and are 0.
 */
struct aic_row {
	int		 kind;		/* AIC_PERIOD_DAY or AIC_PERIOD_WEEK */
	int32_t		 period;	/* YYYYMMDD or YYYYWW, local */
	int32_t		 week;		/* ISO week of the period */
	int64_t		 released_at;	/* UTC epoch */
	int		 complete;	/* 0: released before its end */
	int		 min_group;	/* 1: released WITHOUT protection */
	const char	*department;	/* name, "unassigned" or "*" (all) */
	const char	*service;	/* catalog id, "cat:<category>", "*" */
	uint64_t	 m[AIC_M_N];
	unsigned	 published;	/* bit per enum aic_measure */
};

struct aic_plugin {
	unsigned	 abi;		/* AIC_PLUGIN_ABI */
	const char	*name;
	const char	*version;

	/* Bytes of per-flow scratch a TCP detector wants (at most 64). */
	size_t		 flow_state_size;

	/*
	 * arg is the text after ':' in the configuration's plugin entry
	 * ("jsonl_export:/var/lib/aicensus/export.jsonl"), or "".
	 */
	int		 (*init)(const struct aic_host *host, const char *arg,
			    void **state);
	void		 (*fini)(void *state);
	/*
	 * TCP: is this the start of a stream this detector understands?
	 * Asked about a client's segment (from_client 1).  The detector
	 * that claimed a client stream is asked once more, about the
	 * server's first data on that flow (from_client 0): yes hands it
	 * the server's stream too (tcp_stream with from_client 0), no (what
	 * a detector that only reads clients answers) ends the question.
	 */
	int		 (*tcp_claim)(void *state, const struct aic_payload *pl);
	/*
	 * TCP: the stream grew.  *consumed (0 on entry) may be set to the
	 * number of leading bytes the detector is finished with; the host
	 * drops them, so a long DNS-over-TCP session needs no big buffer.
	 */
	enum aic_verdict (*tcp_stream)(void *state, const struct aic_payload *pl,
			    size_t *consumed);
	/* UDP: called for every datagram; returns an AIC_UDP_* value. */
	int		 (*udp)(void *state, const struct aic_payload *pl);

	/* Exporter side; NULL when the plugin exports nothing.  now is
	 * the period's release time. */
	int		 (*export_begin)(void *state, int64_t now);
	void		 (*export_row)(void *state, const struct aic_row *row);
	int		 (*export_end)(void *state);
};

typedef const struct aic_plugin *(*aic_plugin_entry)(void);
#define AIC_PLUGIN_SYMBOL	"aicensus_plugin"

#endif /* AICENSUS_PLUGIN_H */
