/*
 * fuzz_quic_reasm.c - QUIC Initials over several datagrams through the
 * real pipeline (pipeline_packet -> det_quic -> quic_feed -> tls): the
 * CRYPTO stream gathered across packets and handed to the ClientHello
 * parser, flows, counting and the attribution of the name.
 *
 * Input: a header byte, then segments separated by FUZZ_SEP.
 *  header  bit 0: server port 53 instead of 443 (raw segments then
 *          reach the DNS detector through the pipeline); bit 1: a reload
 *          to another catalog before segment number header >> 4
 *  segment [ctl][pn][plaintext frames]: sealed into an authentic client
 *          Initial (fixed DCID; ctl bit 0: QUIC v2), or with ctl bit 1
 *          sent as the raw datagram [pn][...]; ctl bit 2 sends it from
 *          the server, bit 3 appends a coalesced copy, bit 7 jumps the
 *          clock past the QUIC idle timeout.
 * Each datagram becomes an Ethernet/IPv4/UDP frame.
 */
#include "fuzz_pipe.h"
#include "proto/quic.h"

static struct fuzz_sealer fqr_sealer;
static int fqr_ready;

int FUZZ_INIT(quic_reasm)(int *argc, char ***argv);
int FUZZ_ONE(quic_reasm)(const uint8_t *data, size_t size);

int
FUZZ_INIT(quic_reasm)(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", 0, LOG_LVL_ERROR);
	pipe_init();
	if (!fqr_ready && fuzz_sealer_init(&fqr_sealer) != 0) {
		fprintf(stderr, "fuzz_quic_reasm: no Initial keys\n");
		abort();
	}
	fqr_ready = 1;
	return 0;
}

int
FUZZ_ONE(quic_reasm)(const uint8_t *data, size_t size)
{
	static uint8_t dgram[2 * 16100], frame[FUZZ_FRAME_MAX];
	struct pipeline *P;
	struct fuzz_split sp;
	const uint8_t *seg;
	size_t seglen;
	uint64_t ts;
	uint16_t port;
	unsigned i;

	if (size < 1)
		return 0;
	if (!fqr_ready)
		FUZZ_INIT(quic_reasm)(NULL, NULL);
	port = (data[0] & 1) ? 53 : 443;
	P = pipe_start(&ts);
	sp.p = data + 1;
	sp.len = size - 1;
	for (i = 0; fuzz_next(&sp, &seg, &seglen); i++) {
		const uint8_t *pl;
		size_t n, plen;
		uint8_t ctl;

		if ((data[0] & 2) && i == (unsigned)(data[0] >> 4))
			pipe_swap(1);
		if (seglen < 2)
			continue;
		ctl = seg[0];
		ts += (ctl & 0x80) ? QUIC_IDLE_USEC + 1000000 : 1000;
		if (ctl & 2) {
			pl = seg + 1;
			plen = seglen - 1;
		} else {
			plen = fuzz_seal(&fqr_sealer, ctl & 1, seg[1], seg + 2,
			    seglen - 2, dgram, sizeof(dgram) / 2);
			if (plen == 0)
				continue;
			if (ctl & 8) {
				memcpy(dgram + plen, dgram, plen);
				plen *= 2;
			}
			pl = dgram;
		}
		n = fuzz_frame(frame, 17, port, (ctl & 4) != 0, 0, 0, 0, pl,
		    plen);
		if (n > 0)
			pipeline_packet(P, 1 /* DLT_EN10MB */, ts, frame, n,
			    n);
	}
	pipe_end(ts);
	return 0;
}
