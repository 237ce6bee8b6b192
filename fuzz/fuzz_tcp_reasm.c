/*
 * fuzz_tcp_reasm.c - a TCP connection through the real pipeline
 * (pipeline_packet): ClientHello reassembly over segments in any order,
 * with overlaps, retransmissions, gaps, SYN/FIN/RST, and DNS over TCP.
 *
 * Input: a header of 5 bytes, then segments separated by FUZZ_SEP.
 *  header[0]  bit 0: open with SYN, SYN-ACK; bit 1: close with FIN from
 *             both sides; bit 2: server port 53 instead of 443; bit 3:
 *             a reload to another catalog before segment number
 *             header[0] >> 4 (pipe_swap)
 *  header[1..4]  the client's initial sequence number (big endian)
 *  segment    [delta hi][delta lo][ctl][payload]: the segment's sequence
 *             number is the running next sequence number plus the signed
 *             16-bit delta (0: in order); ctl bit 0 sends it from the
 *             server, bit 1 adds FIN, bit 2 RST, bit 3 SYN, bit 4 drops
 *             ACK, bit 5 truncates the capture by ctl>>6*8+1 bytes.
 * Each segment becomes an Ethernet/IPv4/TCP frame, one millisecond
 * after the one before.
 */
#include "fuzz_pipe.h"
#include "decode/decode.h"

int FUZZ_INIT(tcp_reasm)(int *argc, char ***argv);
int FUZZ_ONE(tcp_reasm)(const uint8_t *data, size_t size);

int
FUZZ_INIT(tcp_reasm)(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", 0, LOG_LVL_ERROR);
	pipe_init();
	return 0;
}

static void
ftcp_send(struct pipeline *P, uint64_t ts, uint16_t port, int rev,
    uint32_t seq, uint32_t ack, uint8_t flags, const uint8_t *pl,
    size_t plen, size_t cut)
{
	static uint8_t frame[FUZZ_FRAME_MAX];
	size_t n = fuzz_frame(frame, 6, port, rev, seq, ack, flags, pl, plen);

	if (n == 0)
		return;
	pipeline_packet(P, 1 /* DLT_EN10MB */, ts, frame,
	    cut < n ? n - cut : 0, n);
}

int
FUZZ_ONE(tcp_reasm)(const uint8_t *data, size_t size)
{
	struct pipeline *P;
	struct fuzz_split sp;
	const uint8_t *seg;
	size_t seglen;
	uint64_t ts;
	uint32_t isn, next, srv_next = 0x50000000;
	uint16_t port;
	uint8_t hdr;
	unsigned i;

	if (size < 5)
		return 0;
	hdr = data[0];
	isn = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 |
	    (uint32_t)data[3] << 8 | data[4];
	port = (hdr & 4) ? 53 : 443;
	P = pipe_start(&ts);
	next = isn;
	if (hdr & 1) {
		ftcp_send(P, ts++, port, 0, isn, 0, TCP_SYN, NULL, 0, 0);
		ftcp_send(P, ts++, port, 1, srv_next - 1, isn + 1,
		    TCP_SYN | TCP_ACK, NULL, 0, 0);
		next = isn + 1;
	}
	sp.p = data + 5;
	sp.len = size - 5;
	for (i = 0; fuzz_next(&sp, &seg, &seglen); i++) {
		uint32_t seq;
		uint8_t ctl, flags;
		size_t plen, cut;
		int16_t delta;

		if ((hdr & 8) && i == (unsigned)(hdr >> 4))
			pipe_swap(1);
		if (seglen < 3)
			continue;
		delta = (int16_t)((uint16_t)seg[0] << 8 | seg[1]);
		ctl = seg[2];
		plen = seglen - 3;
		cut = (ctl & 0x20) ? (size_t)(ctl >> 6) * 8 + 1 : 0;
		flags = (uint8_t)(((ctl & 0x10) ? 0 : TCP_ACK) | TCP_PSH |
		    ((ctl & 2) ? TCP_FIN : 0) | ((ctl & 4) ? TCP_RST : 0) |
		    ((ctl & 8) ? TCP_SYN : 0));
		ts += 1000;
		if (ctl & 1) {
			ftcp_send(P, ts, port, 1, srv_next, next, flags,
			    seg + 3, plen, cut);
			srv_next += (uint32_t)plen;
			continue;
		}
		seq = next + (uint32_t)(int32_t)delta;
		ftcp_send(P, ts, port, 0, seq, srv_next, flags, seg + 3, plen,
		    cut);
		next = seq + (uint32_t)plen;
	}
	if (hdr & 2) {
		ftcp_send(P, ts + 1000, port, 0, next, srv_next,
		    TCP_FIN | TCP_ACK, NULL, 0, 0);
		ftcp_send(P, ts + 2000, port, 1, srv_next, next + 1,
		    TCP_FIN | TCP_ACK, NULL, 0, 0);
	}
	pipe_end(ts + 2000);
	return 0;
}
