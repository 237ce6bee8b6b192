/*
 * fuzz_decode.c - decode_packet() from the link layer up.
 *
 * Input: one selector byte, then the frame.  The selector's low four
 * bits pick the link type (every one the decoder knows, plus one it
 * does not); bit 7 says the capture was cut (wirelen > caplen), so the
 * snaplen paths are explored too.  The promises of decode.h are checked:
 * the payload lies inside the frame and within the wire length, and
 * whatever the result, only known encapsulation kinds are marked and
 * the outermost addresses are IPv4 or IPv6 ones.  Seeds hold a frame of
 * every tunnel kind (fuzz/seeds.py, encap_frames).
 */
#include <pcap/dlt.h>

#include "fuzz.h"
#include "decode/decode.h"

static const int fdec_dlts[16] = {
	DLT_EN10MB, DLT_LINUX_SLL, 276 /* SLL2 */, DLT_RAW, 228 /* IPV4 */,
	229 /* IPV6 */, DLT_NULL, DLT_LOOP, DLT_PPP, 12, 101, DLT_EN10MB,
	DLT_EN10MB, DLT_RAW, 276, 147 /* USER0: unsupported */
};

int FUZZ_ONE(decode)(const uint8_t *data, size_t size);

int
FUZZ_ONE(decode)(const uint8_t *data, size_t size)
{
	struct pkt p;
	enum decode_result r;
	const uint8_t *frame;
	size_t caplen, wirelen;
	volatile uint8_t sink = 0;
	size_t i;
	int dlt;

	if (size < 1)
		return 0;
	dlt = fdec_dlts[data[0] & 0x0f];
	frame = data + 1;
	caplen = size - 1;
	wirelen = (data[0] & 0x80) ? caplen + 1 + data[0] % 97 * 17 : caplen;
	memset(&p, 0xa5, sizeof(p));
	p.ts_usec = 1;
	r = decode_packet(dlt, frame, caplen, wirelen, &p);
	FUZZ_ASSERT(r < DEC_NRESULTS);
	FUZZ_ASSERT(decode_result_name(r) != NULL);
	FUZZ_ASSERT((p.encap >> ENCAP_N) == 0);
	FUZZ_ASSERT(p.outer_af == 0 || p.outer_af == 4 || p.outer_af == 6);
	FUZZ_ASSERT(p.outer_af != 4 || addr_is_v4(p.osrc));
	if (r != DEC_OK)
		return 0;
	FUZZ_ASSERT(p.ts_usec == 1);
	FUZZ_ASSERT(p.af == 4 || p.af == 6);
	FUZZ_ASSERT(p.l4 == 6 || p.l4 == 17);
	FUZZ_ASSERT(p.payload_len <= p.wire_len);
	FUZZ_ASSERT(p.payload_len == 0 || (p.payload >= frame &&
	    p.payload + p.payload_len <= frame + caplen));
	FUZZ_ASSERT(p.vlan >= -1 && p.vlan <= 4095);
	FUZZ_ASSERT(p.af == 6 || addr_is_v4(p.src));
	/* touch every payload byte: ASan checks they are real */
	for (i = 0; i < p.payload_len; i++)
		sink ^= p.payload[i];
	(void)sink;
	return 0;
}
