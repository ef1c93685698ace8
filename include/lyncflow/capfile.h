/* capfile.h: a capture file's bytes, for libpcap and read in place.
 *
 * A regular file is read through a window mapped along it (no copy by
 * read()); a pipe is read with read(). libpcap reads the file through a stdio
 * stream over those bytes (lf_capfile_open). Once libpcap has opened it, the
 * packets of a pcap or pcapng file in this machine's byte order are handed
 * out in place from the window (lf_capfile_next), as libpcap would give
 * them; a record or block out of the ordinary (over the snapshot length, cut
 * short, another byte order, an unusual time stamp resolution) is left to
 * libpcap, whose stream is first moved to it (lf_capfile_to_libpcap).
 * lf_capfile_from_libpcap then resumes reading in place after what it read.
 * Only one thread at a time uses a capfile. The first capfile installs a
 * SIGBUS handler that turns a read past the end of a file cut shorter under
 * us into zeros and a mark (lf_capfile_shrank).
 */
#ifndef LYNCFLOW_CAPFILE_H
#define LYNCFLOW_CAPFILE_H

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

#include "lyncflow/cursor.h"

struct lf_capfile;

/* A stream over fd for libpcap, in *fp; the stream owns the capfile and fd
 * (fclose frees both; fd 0 is not closed). NULL with errno set on failure,
 * then fd is left open. */
struct lf_capfile *lf_capfile_open(int fd, FILE **fp);
/* After libpcap has opened the stream (p): whether its packets can be read in
 * place from here on. */
int lf_capfile_start(struct lf_capfile *f, pcap_t *p);
/* The next packet in place: 1 with *h and *d set (d valid until the next
 * call), 0 when libpcap must read the next record (or the file ends). */
int lf_capfile_next(struct lf_capfile *f, struct pcap_pkthdr *h, const u_char **d);
/* Before libpcap reads the next record: its stream is moved there. */
void lf_capfile_to_libpcap(struct lf_capfile *f);
/* After libpcap read one: reading in place goes on after it, if it can. */
void lf_capfile_from_libpcap(struct lf_capfile *f);
/* Whether packets are read in place. */
int lf_capfile_direct(const struct lf_capfile *f);
/* File offset of the next record: in place, or where libpcap's stream is. */
uint64_t lf_capfile_offset(const struct lf_capfile *f);
/* Whether the file was cut shorter while it was mapped and read: the bytes
 * read since, past its new end, were zeros. Nothing read from it since can
 * be trusted; the reader stops with a message. */
int lf_capfile_shrank(const struct lf_capfile *f);

/* A view of a regular file's bytes alone (no stream), for a pass of its own
 * over the file: NULL when fd is not a regular file. The view owns fd. */
struct lf_capfile *lf_capfile_open_view(int fd);
/* A cursor over file bytes [at, at + n): 1, or 0 when the file ends before
 * at + n or mapping fails. Valid until the next call. */
int lf_capfile_view(struct lf_capfile *f, uint64_t at, uint64_t n, struct lf_cur *k);
void lf_capfile_close_view(struct lf_capfile *f);

#endif
