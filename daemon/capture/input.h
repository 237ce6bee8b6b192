/*
 * input.h - what aicensusd -r reads: one or more capture files, or
 * directories of them (as tcpdump -G / -C rotation leaves them), as one
 * continuous input in time order.
 *
 * input_scan() looks at every file once before anything is counted:
 * its fingerprint, its first and last packet time and its packet count.
 * So a file that cannot be opened, is not a capture (its header
 * unreadable) or has a link type the decoder cannot read stops the run
 * with one message naming it, before a packet is counted or a period
 * released.  A file damaged after its header (most often the last
 * record cut short: tcpdump killed while writing) is not refused: its
 * whole records before the damage are read, the run goes on with the
 * next file, and aicensusd says so naming the file and exits 1 (damaged
 * set; span and packets are those of the whole records).
 *
 * The scan must cost little next to the read itself (a week of capture
 * is gigabytes), so it reads neither every byte nor every packet:
 *  - the fingerprint is SHA-256 (libcrypto EVP) over the file's size
 *    (8 bytes, big-endian), then its first and its last MiB (the whole
 *    file when it holds no more than 2 MiB): 2 MiB read whatever the
 *    size.  Two different captures of identical size, head and tail are
 *    taken as the same file only when their time span and packet count
 *    agree too (input_same());
 *  - a classic pcap file (magic a1b2c3d4, usec, or a1b23c4d, nsec, in
 *    either byte order; version 2.4) has its 16-byte record headers
 *    walked over a mapping of the file: time stamps and lengths only, no
 *    packet data copied, no libpcap per packet (walked set).  libpcap
 *    still reads its header (the same refusals);
 *  - pcapng and any other format libpcap reads are scanned packet by
 *    packet through libpcap, as slow as a bare read of the file.
 *
 * A pipe (a FIFO, a character device) can be read once only: it is
 * accepted as the only input, not scanned (stream set, no fingerprint,
 * no span), and read as before.
 *
 * Order: by each file's first packet time, not by name (cap.pcap10
 * sorts before cap.pcap2); equal times by name.  Files holding no packet
 * are left out (input_skipped() says how many), unless no file holds
 * one: then the first stays, so that a run still starts (and, say,
 * drains the central outbox) and reads nothing.  Files whose time spans
 * overlap are refused: a merged and a rotated copy of the same traffic,
 * or one file given twice, would be counted twice.  There is no switch
 * for it: two captures of the same time from different taps are merged
 * into one file first (mergecap), so that packets reach the flow table
 * in time order.
 *
 * Each file keeps its own link type: its packets are decoded with it
 * (capture_dlt() of the capture input_next() opens).
 */
#ifndef AIC_INPUT_H
#define AIC_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"

#define INPUT_FP_HEX	65	/* 64 hex digits and NUL */
#define INPUT_FP_PART	(1024 * 1024)	/* head and tail, bytes */

struct input_file {
	char		*path;
	const char	*name;		/* the last part of path */
	char		 fingerprint[INPUT_FP_HEX];
	int64_t		 first_usec;	/* first packet time, UTC */
	int64_t		 last_usec;	/* latest packet time */
	uint64_t	 packets;
	uint64_t	 size;		/* bytes */
	int		 dlt;
	int		 stream;	/* a pipe: not scanned */
	int		 damaged;	/* unreadable after packets */
	int		 walked;	/* classic pcap: headers walked */
};

struct input;

/*
 * Expands paths (a directory: its regular files, not those whose name
 * starts with a dot, not its subdirectories), scans and orders them.
 * NULL with err (naming the file) on any failure and on an overlap.
 */
struct input	*input_scan(char *const *paths, size_t npaths,
		    capture_link_ok, char *err, size_t errlen);
void		 input_free(struct input *);
size_t		 input_count(const struct input *);
const struct input_file *input_file(const struct input *, size_t i);
size_t		 input_skipped(const struct input *);
/*
 * The walk of a classic pcap file held in memory (p, size bytes, its
 * header included): the records' time stamps (as libpcap gives them,
 * microseconds) and count, never reading past size.  damaged: it ends
 * inside a record header or a record's length runs past the end (a cut
 * file, or a damaged length): the whole records before are counted.
 * -1 when the walk cannot say what libpcap would: not a classic pcap of
 * version 2.4, or a record within the file but longer than
 * INPUT_WALK_MAXREC (refused or read depending on the link type).
 */
#define INPUT_PCAP_HDR		24
#define INPUT_PCAP_REC		16
#define INPUT_WALK_MAXREC	262144	/* libpcap's MAXIMUM_SNAPLEN */

struct input_walk {
	int64_t		 first_usec, last_usec;
	uint64_t	 packets;
	int		 damaged;
};

int		 input_walk(const unsigned char *p, size_t size,
		    struct input_walk *);
/*
 * The same walk as nchains chains stepped in turn (input.c says why),
 * the same result whatever nchains; input_walk() takes
 * INPUT_WALK_CHAINS from INPUT_WALK_SPLIT bytes on, else one.
 */
#define INPUT_WALK_CHAINS	8
#define INPUT_WALK_SPLIT	(8 * 1024 * 1024)
int		 input_walk_chains(const unsigned char *p, size_t size,
		    int nchains, struct input_walk *);
/* The same capture: fingerprint, time span and packet count agree. */
int		 input_same(const struct input_file *, const struct input_file *);

/*
 * Opens the next file in time order: its capture (owned by the input,
 * closed by the next call or input_free), NULL at the end or with err.
 * *index (may be NULL) is the file's index.
 */
struct capture	*input_next(struct input *, size_t *index, char *err,
		    size_t errlen);

#endif /* AIC_INPUT_H */
