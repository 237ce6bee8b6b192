/*
 * imports.h - the record of the capture files aicensusd -r has read into
 * a release database, so that the same traffic is not read in twice.
 *
 * Why a record is needed: a period (day, ISO week) is released once.  A
 * second read of a capture whose periods are released writes nothing
 * (release.h), silently; and a file that shares a day or a week with an
 * earlier import (the next file of a tcpdump -G rotation, read in a run
 * of its own) has its counts for that period silently dropped, while the
 * earlier, partial figures stand.  The record turns both into a refusal
 * before anything is read, naming the earlier import.
 *
 * Where: in the release database, tables `import` and `import_period`
 * (docs/SCHEMA.md).  It is the file whose periods the record is about,
 * and the only file aicensusd -r keeps (its vault and keys live in
 * memory).  What it holds is not an identifier: a file's fingerprint
 * (capture/input.h: SHA-256 of its size, first and last MiB), its
 * size, the times of its first and last packet, its packet count, when
 * it was read, and which days and weeks it fed.  No name: a capture's
 * file name may carry an address or a host ("10.1.2.3-laptop.pcap"),
 * so an earlier import is named by the first 12 hex digits of its
 * fingerprint and its time span; only a file of this run is named, by
 * the path the operator gave (f->path, in err).  Report readers could see that these
 * periods come from files read offline; the period rows already say
 * which hours they cover.
 *
 * What is refused (imports_plan), before anything is read:
 *  - a file with the fingerprint, time span and packet count of an
 *    earlier import ("already imported": two different captures of
 *    identical size, head and tail are taken as the same file only when
 *    span and count agree too; otherwise the spans decide, below);
 *  - a file sharing a day or week with an earlier import, or overlapping
 *    its time span (an import that did not finish included);
 *  - a file falling in a period released with no import record (a live
 *    capture's, or from before records were kept): that period can be
 *    neither added to nor replaced.
 * With replace, the earlier imports concerned, and every period they fed,
 * are removed and released again from this run, in one transaction
 * before the read; refused when any of those periods also holds an
 * import this run does not give again (the same file, or a file of
 * the run whose time span contains it), naming it.
 */
#ifndef AIC_IMPORTS_H
#define AIC_IMPORTS_H

#include <stddef.h>
#include <stdint.h>

#define IMPORT_FP_HEX		65

struct import_file {
	const char	*path;		/* for this run's messages; never kept */
	char		 fingerprint[IMPORT_FP_HEX];	/* input.h */
	int64_t		 first_usec, last_usec;
	uint64_t	 packets;
	uint64_t	 size;
};

struct imports;

/*
 * The record in the release database at path (tables made if absent; a
 * record from before names were dropped loses its name column, its
 * bytes overwritten).
 */
struct imports	*imports_open(const char *path, char *err, size_t errlen);
void		 imports_close(struct imports *);
/*
 * The same for a daemon that never runs -r again: an older record's
 * names removed from the release database at path, nothing created.
 * 1 removed, 0 nothing to do, -1 error (err).
 */
int		 imports_migrate(const char *path, char *err, size_t errlen);

/*
 * A sensor shipping to a central database (docs/CENTRAL.md) keeps period
 * rows here but its cells there, where a later reading's cells replace
 * the earlier ones value by value rather than being dropped:
 *  IMPORT_SAME_ONLY   --replace only by the same bytes, which are read
 *                     and shipped again (the same cells) while the
 *                     periods and their import rows stay as they are; a
 *                     different reading could not take back the cells
 *                     the earlier one shipped;
 *  IMPORT_UNRECORDED  a period released without a record is no refusal
 *                     (its local row holds no cell to lose).
 */
#define IMPORT_REPLACE		0x1
#define IMPORT_SAME_ONLY	0x2
#define IMPORT_UNRECORDED	0x4

/*
 * Checks the run's files (periods in the zone period_set_tz() set) and,
 * when allowed, records them as imports under way: with IMPORT_REPLACE,
 * after removing what they replace.  One transaction.  0 recorded
 * (*replaced = how many earlier imports were removed), -1 refused or
 * failed, with err fit for the user.
 */
int		 imports_plan(struct imports *, const struct import_file *,
		    size_t n, int flags, int64_t now, size_t *replaced,
		    char *err, size_t errlen);
/* The run's imports are complete: every period released.  0 or -1
 * (NULL: nothing recorded, 0). */
int		 imports_done(struct imports *);

#endif /* AIC_IMPORTS_H */
