/* capture.h: packet sources through libpcap (files, stdin, live interfaces).
 *
 * A capture yields frames with their link type and time; it knows nothing of
 * what is inside them. Opening errors come back as one line in err naming the
 * file or interface. -w writes every frame read to a pcap file as it goes.
 * A file's bytes come through capfile.h: packets of pcap and pcapng files
 * in this machine's byte order are handed on in place from a mapped window,
 * libpcap reads the rest (pipes, the other byte order, anything out of the
 * ordinary), with the same results. With a filter, the filter is applied
 * here to packets read in place and by libpcap otherwise.
 */
#ifndef LYNCFLOW_CAPTURE_H
#define LYNCFLOW_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "lyncflow/event.h"

struct lf_capture;

/* path "-" is stdin. bpf may be NULL. NULL on error, with err filled. */
struct lf_capture *lf_capture_open_file(const char *path, const char *bpf, char *err, size_t errsize);
/* Full snaplen, promiscuous, a 64 MiB kernel buffer of variable-size blocks,
 * handed over when full or after a short timeout. */
struct lf_capture *lf_capture_open_live(const char *iface, const char *bpf, char *err, size_t errsize);
/* Starts saving every frame to path (-w). 0 ok, -1 with err. */
int lf_capture_dump_open(struct lf_capture *c, const char *path, char *err, size_t errsize);
/* Rotation of the -w file, as tcpdump's -C (size, bytes), -G (seconds of capture time) and -W (count): with
 * -C, files FILE, FILE1, FILE2, ... (with -W, FILE0 .. FILE<count-1>, a ring); with -G, a new file every so
 * many seconds, named by strftime(3) when FILE holds a '%', and with -W the capture ends after count files.
 * 0 for none. Call before lf_capture_dump_open. */
void lf_capture_dump_rotate(struct lf_capture *c, uint64_t size, uint32_t seconds, uint32_t count);
/* Safe from a signal handler: before the next frame, the -w file is closed and opened again by its name
 * (SIGHUP after logrotate moved it). */
void lf_capture_dump_reopen(struct lf_capture *c);
int lf_capture_linktype(const struct lf_capture *c);
int lf_capture_is_live(const struct lf_capture *c);

enum lf_next { LF_NEXT_PACKET = 1, LF_NEXT_END = 0, LF_NEXT_ERROR = -1, LF_NEXT_TIMEOUT = -2 };
/* Next frame. The data pointer is valid until the next call. On
 * LF_NEXT_ERROR, err names the file and the offset where reading stopped. */
enum lf_next lf_capture_next(struct lf_capture *c, lf_time *ts, const uint8_t **data, size_t *caplen, size_t *wirelen,
                             char *err, size_t errsize);
/* Safe from a signal handler: makes the next lf_capture_next() return END. */
void lf_capture_breakloop(struct lf_capture *c);
/* Live, after a stop: lf_capture_next() goes on returning the frames the
 * kernel still holds (a block not yet handed over) for at most three read
 * timeouts, then END. Nothing for files. */
void lf_capture_drain(struct lf_capture *c);
/* Kernel drops for live captures (0 for files). */
uint64_t lf_capture_drops(struct lf_capture *c);
/* The pcap file descriptor for poll(), or -1. */
int lf_capture_fd(const struct lf_capture *c);
void lf_capture_close(struct lf_capture *c);

#endif
