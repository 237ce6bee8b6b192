/*
 * pcaploop.c - the ceiling for any libpcap-based tool: read every packet
 * of a capture with pcap_next_ex and do nothing else (touching the first
 * byte, so the read cannot be optimised away).
 *
 *   pcaploop [-b BYTES] [-f] FILE
 *
 * -b: read the file through a stdio buffer of BYTES instead of
 *     pcap_open_offline's default (one 4 KiB block per read()), to show
 *     how much of the ceiling is system-call overhead;
 * -f: also count the packets aicensusd's default capture filter passes
 *     (what a live capture of this traffic would hand to the daemon).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "capture/capture.h"

int
main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	struct bpf_program prog;
	const u_char *p;
	unsigned long n = 0, bytes = 0, sum = 0, matched = 0;
	size_t bufsize = 0;
	char *buf = NULL;
	int rc, c, filter = 0;
	pcap_t *pc;

	while ((c = getopt(argc, argv, "b:f")) != -1) {
		switch (c) {
		case 'b':
			bufsize = strtoul(optarg, NULL, 10);
			break;
		case 'f':
			filter = 1;
			break;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc)
		goto usage;
	if (bufsize > 0) {
		FILE *fp = fopen(argv[optind], "rb");

		/* glibc honours the size only when it is given the buffer */
		if (fp == NULL || (buf = malloc(bufsize)) == NULL) {
			perror("pcaploop");
			return 1;
		}
		setvbuf(fp, buf, _IOFBF, bufsize);
		pc = pcap_fopen_offline(fp, err);
	} else {
		pc = pcap_open_offline(argv[optind], err);
	}
	if (pc == NULL) {
		fprintf(stderr, "pcaploop: %s\n", err);
		return 1;
	}
	if (filter && pcap_compile(pc, &prog, CAPTURE_DEFAULT_FILTER, 1,
	    PCAP_NETMASK_UNKNOWN) != 0) {
		fprintf(stderr, "pcaploop: %s\n", pcap_geterr(pc));
		return 1;
	}
	while ((rc = pcap_next_ex(pc, &h, &p)) == 1) {
		n++;
		bytes += h->len;
		sum += p[0];
		if (filter && pcap_offline_filter(&prog, h, p))
			matched++;
	}
	pcap_close(pc);
	free(buf);
	printf("%lu packets %lu bytes (%lu)", n, bytes, sum & 1);
	if (filter)
		printf(" %lu matched", matched);
	printf("\n");
	return rc == PCAP_ERROR_BREAK ? 0 : 1;
usage:
	fprintf(stderr, "usage: pcaploop [-b BYTES] [-f] FILE\n");
	return 2;
}
