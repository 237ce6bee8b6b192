/*
 * pcaploop.c - the ceiling for any libpcap-based tool: read every packet
 * of a capture with pcap_next_ex and do nothing else (touching the first
 * byte, so the read cannot be optimised away).
 */
#include <stdio.h>

#include <pcap/pcap.h>

int
main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *p;
	unsigned long n = 0, bytes = 0, sum = 0;
	pcap_t *pc;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: pcaploop FILE\n");
		return 2;
	}
	if ((pc = pcap_open_offline(argv[1], err)) == NULL) {
		fprintf(stderr, "pcaploop: %s\n", err);
		return 1;
	}
	while ((rc = pcap_next_ex(pc, &h, &p)) == 1) {
		n++;
		bytes += h->len;
		sum += p[0];
	}
	pcap_close(pc);
	printf("%lu packets %lu bytes (%lu)\n", n, bytes, sum & 1);
	return rc == PCAP_ERROR_BREAK ? 0 : 1;
}
