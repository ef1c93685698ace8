/* capture.c: packet sources on libpcap: files (pcap, pcapng, stdin), live interfaces, -w dumps, drop counts.
 * A file's packets come in place from capfile.c where they can, from libpcap otherwise. */
#include "lyncflow/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lyncflow/capfile.h"
#include "lyncflow/util.h"

#define LIVE_SNAPLEN 262144
#define LIVE_TIMEOUT_MS 100
#define LIVE_BUFFER (64 << 20) /* the kernel's ring: bursts wait here, not on the floor */
#define LIVE_FLUSH_EVERY 64
#define TS_MAX_S 100000000000LL

struct lf_capture {
    pcap_t *p;
    pcap_dumper_t *dump;
    struct {                     /* -w and its rotation (-C, -G, -W), as tcpdump names the files */
        char path[4096];         /* the name given; strftime'd when it holds a '%' and -G is set */
        uint64_t size;           /* -C: bytes after which the next file starts, 0 none */
        uint32_t seconds;        /* -G: seconds of capture time a file covers, 0 none */
        uint32_t count;          /* -W: files in the ring (or, with -G alone, files before the run stops) */
        uint32_t index;          /* the current file's number */
        uint64_t bytes;          /* written to the current file: its header, then each record's */
        lf_time started;         /* capture time the current file started at */
        volatile sig_atomic_t reopen; /* SIGHUP asked for the file to be opened again */
        int failed;              /* a file could not be opened: saving stopped */
    } w;
    char name[256];
    int live, linktype;
    int draining;                /* live: stopped, reading what the kernel still holds */
    struct timespec drain_end;   /* until then */
    struct lf_capfile *file;     /* offline: the bytes libpcap reads, and packets read in place */
    int in_place;                /* offline: packets may come from file; the filter is ours */
    uint64_t offset;             /* offline: file offset of the record being read */
    uint64_t packets, drops;
    volatile sig_atomic_t stop;
    struct pcap_pkthdr hdr;      /* a packet read in place */
    struct bpf_program prog;     /* in place: the filter, applied here rather than by libpcap */
    int has_prog;
};

/* The filter goes to libpcap, or is kept to be applied here when packets are read in place. */
static int set_filter(struct lf_capture *c, const char *bpf, char *err, size_t errsize)
{
    if (!bpf)
        return 0;
    struct bpf_program prog;
    if (pcap_compile(c->p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errsize, "filter '%s': %s", bpf, pcap_geterr(c->p));
        return -1;
    }
    int r = c->in_place ? 0 : pcap_setfilter(c->p, &prog);
    if (r != 0) {
        pcap_freecode(&prog);
        snprintf(err, errsize, "filter '%s': %s", bpf, pcap_geterr(c->p));
        return -1;
    }
    c->prog = prog;
    c->has_prog = 1;
    return 0;
}

/* libpcap messages may end with a newline or name the file already; keep one line. */
static void one_line(char *s)
{
    for (char *q = s; *q; q++)
        if (*q == '\n' || *q == '\r')
            *q = ' ';
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = 0;
}

struct lf_capture *lf_capture_open_file(const char *path, const char *bpf, char *err, size_t errsize)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    int in = strcmp(path, "-") == 0;
    const char *shown = in ? "(stdin)" : path;
    int fd = in ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errsize, "cannot read %s: %s", shown, strerror(errno));
        return NULL;
    }
    FILE *fp;
    struct lf_capfile *file = lf_capfile_open(fd, &fp);
    if (!file) {
        snprintf(err, errsize, "cannot read %s: %s", shown, strerror(errno));
        if (!in)
            close(fd);
        return NULL;
    }
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
    if (!p) {
        one_line(ebuf);
        snprintf(err, errsize, "cannot read %s: %s", shown, ebuf[0] ? ebuf : "not a pcap or pcapng capture");
        fclose(fp);
        return NULL;
    }
    struct lf_capture *c = lf_xcalloc(1, sizeof *c);
    c->p = p;
    c->file = file;
    c->in_place = lf_capfile_start(file, p);
    lf_strlcpy(c->name, shown, sizeof c->name);
    c->linktype = pcap_datalink(p);
    if (set_filter(c, bpf, err, errsize) != 0) {
        lf_capture_close(c);
        return NULL;
    }
    return c;
}

struct lf_capture *lf_capture_open_live(const char *iface, const char *bpf, char *err, size_t errsize)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(iface, ebuf);
    if (!p) {
        one_line(ebuf);
        snprintf(err, errsize, "cannot capture on %s: %s", iface, ebuf);
        return NULL;
    }
    pcap_set_snaplen(p, LIVE_SNAPLEN);
    pcap_set_promisc(p, 1);
    /* not immediate: packets arrive in blocks of variable size (TPACKET_V3 on
     * Linux), handed over when full or after the timeout, so the buffer holds
     * many more packets than fixed snaplen-sized frames would */
    pcap_set_immediate_mode(p, 0);
    pcap_set_timeout(p, LIVE_TIMEOUT_MS);
    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_MICRO);
    pcap_set_buffer_size(p, LIVE_BUFFER);
    int r = pcap_activate(p);
    if (r < 0) {
        char msg[PCAP_ERRBUF_SIZE];
        lf_strlcpy(msg, r == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(r), sizeof msg);
        if (r != PCAP_ERROR && pcap_geterr(p)[0])
            snprintf(msg, sizeof msg, "%s (%s)", pcap_statustostr(r), pcap_geterr(p));
        one_line(msg);
        snprintf(err, errsize, "cannot capture on %s: %s", iface, msg);
        pcap_close(p);
        return NULL;
    }
    struct lf_capture *c = lf_xcalloc(1, sizeof *c);
    c->p = p;
    c->live = 1;
    lf_strlcpy(c->name, iface, sizeof c->name);
    c->linktype = pcap_datalink(p);
    /* Linux libpcap may block past the timeout: read without blocking and
     * wait on the descriptor ourselves (lf_capture_next). */
    if (pcap_get_selectable_fd(p) >= 0)
        pcap_setnonblock(p, 1, ebuf);
    if (set_filter(c, bpf, err, errsize) != 0) {
        lf_capture_close(c);
        return NULL;
    }
    return c;
}

/* The name of file number index: the path (strftime'd at t with -G), then with -C or -W its number: none
 * for the first file of -C alone, else index padded to the digits of count - 1 (tcpdump's names). */
static void dump_name(const struct lf_capture *c, uint32_t index, lf_time t, char *out, size_t size)
{
    char base[4096];
    lf_strlcpy(base, c->w.path, sizeof base);
    if (c->w.seconds && strchr(c->w.path, '%')) {
        time_t sec = (time_t)(t / 1000000);
        struct tm tm;
        localtime_r(&sec, &tm);
        if (!strftime(base, sizeof base, c->w.path, &tm))
            lf_strlcpy(base, c->w.path, sizeof base);
    }
    if (c->w.count && (c->w.size || !c->w.seconds)) {
        int digits = 1;
        for (uint32_t n = c->w.count - 1; n >= 10; n /= 10)
            digits++;
        snprintf(out, size, "%s%0*u", base, digits, (unsigned)index);
    } else if (c->w.size && index) {
        snprintf(out, size, "%s%u", base, (unsigned)index);
    } else {
        lf_strlcpy(out, base, size);
    }
}

static int dump_start(struct lf_capture *c, lf_time t, char *err, size_t errsize)
{
    char path[4200];
    dump_name(c, c->w.index, t, path, sizeof path);
    pcap_dumper_t *d = pcap_dump_open(c->p, path);
    if (!d) {
        char msg[PCAP_ERRBUF_SIZE];
        lf_strlcpy(msg, pcap_geterr(c->p), sizeof msg);
        one_line(msg);
        snprintf(err, errsize, "cannot write %s: %s", path, msg);
        return -1;
    }
    c->dump = d;
    c->w.started = t;
    c->w.bytes = 24; /* the pcap file header */
    return 0;
}

int lf_capture_dump_open(struct lf_capture *c, const char *path, char *err, size_t errsize)
{
    lf_strlcpy(c->w.path, path, sizeof c->w.path);
    c->w.index = 0;
    return dump_start(c, 0, err, errsize);
}

void lf_capture_dump_rotate(struct lf_capture *c, uint64_t size, uint32_t seconds, uint32_t count)
{
    c->w.size = size;
    c->w.seconds = seconds;
    c->w.count = count;
}

void lf_capture_dump_reopen(struct lf_capture *c) { c->w.reopen = 1; }

/* The next file of the rotation (or the same name again after SIGHUP). 0 ok; 1 the -G -W files are all
 * written: the capture ends; -1 a file could not be opened: saving stops, with a message, the run goes on. */
static int dump_next(struct lf_capture *c, lf_time t)
{
    pcap_dump_close(c->dump);
    c->dump = NULL;
    int by_rotation = !c->w.reopen;
    c->w.reopen = 0;
    if (by_rotation) {
        c->w.index++;
        if (c->w.count && c->w.seconds && !c->w.size && c->w.index >= c->w.count)
            return 1;
        if (c->w.count && (c->w.size || !c->w.seconds))
            c->w.index %= c->w.count;
    }
    char err[4400];
    if (dump_start(c, t, err, sizeof err) != 0) {
        fprintf(stderr, "lyncflow: -w: %s; no more packets are saved\n", err);
        c->w.failed = 1;
        return -1;
    }
    return 0;
}

/* Writes one frame to the -w file, starting the next file first when its time, size or SIGHUP says so. */
static void dump_frame(struct lf_capture *c, const struct pcap_pkthdr *h, const uint8_t *d, lf_time t)
{
    if (c->w.failed)
        return;
    if (!c->w.started)
        c->w.started = t;
    if (c->w.reopen || (c->w.seconds && t - c->w.started >= (lf_time)c->w.seconds * 1000000) ||
        (c->w.size && c->w.bytes >= c->w.size)) {
        int r = dump_next(c, t);
        if (r == 1) {
            c->stop = 1;
            return;
        }
        if (r < 0)
            return;
    }
    pcap_dump((u_char *)c->dump, h, d);
    c->w.bytes += 16 + h->caplen; /* the record header and its bytes, as pcap_dump writes them */
    if (c->live && c->packets % LIVE_FLUSH_EVERY == 0)
        pcap_dump_flush(c->dump);
}

int lf_capture_linktype(const struct lf_capture *c) { return c->linktype; }
int lf_capture_is_live(const struct lf_capture *c) { return c->live; }

/* pcap_next_ex; while draining, the break that stopped the loop (still
 * pending in libpcap until a read sees it) is passed over once. */
static int next_ex(struct lf_capture *c, struct pcap_pkthdr **h, const u_char **d)
{
    int r = pcap_next_ex(c->p, h, d);
    if (r == PCAP_ERROR_BREAK && c->draining)
        r = pcap_next_ex(c->p, h, d);
    return r;
}

/* A file's reading stopped by msg: where, and after how many packets. */
static enum lf_next file_error(const struct lf_capture *c, const char *msg, char *err, size_t errsize)
{
    snprintf(err, errsize, "%s: %s, at byte offset %llu after %llu packets", c->name, msg,
             (unsigned long long)c->offset, (unsigned long long)c->packets);
    return LF_NEXT_ERROR;
}

enum lf_next lf_capture_next(struct lf_capture *c, lf_time *ts, const uint8_t **data, size_t *caplen, size_t *wirelen,
                             char *err, size_t errsize)
{
    if (c->stop)
        return LF_NEXT_END;
    if (c->file && lf_capfile_shrank(c->file))
        return file_error(c, "the file was cut shorter while it was read", err, errsize);
    if (c->draining) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > c->drain_end.tv_sec ||
            (now.tv_sec == c->drain_end.tv_sec && now.tv_nsec >= c->drain_end.tv_nsec))
            return LF_NEXT_END;
    }
    struct pcap_pkthdr *h = &c->hdr;
    const u_char *d;
    int r;
    if (c->in_place) {
        for (;;) {
            c->offset = lf_capfile_offset(c->file);
            if (lf_capfile_next(c->file, &c->hdr, &d)) {
                h = &c->hdr;
                r = 1;
            } else {
                lf_capfile_to_libpcap(c->file);
                r = pcap_next_ex(c->p, &h, &d);
                lf_capfile_from_libpcap(c->file);
            }
            if (r != 1 || !c->has_prog || pcap_offline_filter(&c->prog, h, d))
                break;
        }
    } else {
        if (c->file)
            c->offset = lf_capfile_offset(c->file);
        r = next_ex(c, &h, &d);
    }
    if (r == 0 && c->live && pcap_getnonblock(c->p, NULL) == 1) {
        struct pollfd pfd = {pcap_get_selectable_fd(c->p), POLLIN, 0};
        /* a block the kernel has not handed over yet is, at the latest, after its timeout */
        if (poll(&pfd, 1, c->draining ? 3 * LIVE_TIMEOUT_MS : LIVE_TIMEOUT_MS) > 0)
            r = next_ex(c, &h, &d);
    }
    if (r == 0 && c->draining)
        return LF_NEXT_END;
    if (r != 1 && c->file && lf_capfile_shrank(c->file))
        return file_error(c, "the file was cut shorter while it was read", err, errsize);
    if (r == 1) {
        /* pcap headers hold unsigned 32-bit seconds, which libpcap may hand over
         * sign-extended (2038 to 2106 as negative); other times before 1970 or after
         * the year 5138 are garbage: clamped, so that sums and differences of
         * times never overflow further on */
        long long sec = (long long)h->ts.tv_sec;
        if (sec < 0 && sec >= -2147483648LL)
            sec += 4294967296LL;
        sec = sec < 0 ? 0 : sec > TS_MAX_S ? TS_MAX_S : sec;
        long long usec = h->ts.tv_usec < 0 ? 0 : (long long)h->ts.tv_usec;
        *ts = (lf_time)(sec * 1000000 + usec);
        *data = d;
        *caplen = h->caplen;
        *wirelen = h->len;
        c->packets++;
        if (c->dump)
            dump_frame(c, h, d, *ts);
        return LF_NEXT_PACKET;
    }
    if (r == 0) {
        if (c->dump)
            pcap_dump_flush(c->dump);
        return LF_NEXT_TIMEOUT;
    }
    if (r == PCAP_ERROR_BREAK)
        return LF_NEXT_END;
    char msg[PCAP_ERRBUF_SIZE];
    lf_strlcpy(msg, pcap_geterr(c->p), sizeof msg);
    one_line(msg);
    if (c->live) {
        snprintf(err, errsize, "%s: %s", c->name, msg);
        return LF_NEXT_ERROR;
    }
    return file_error(c, msg, err, errsize);
}

void lf_capture_drain(struct lf_capture *c)
{
    if (!c->live)
        return;
    c->stop = 0;
    c->draining = 1;
    clock_gettime(CLOCK_MONOTONIC, &c->drain_end);
    long ns = c->drain_end.tv_nsec + 3L * LIVE_TIMEOUT_MS * 1000000L;
    c->drain_end.tv_sec += ns / 1000000000L;
    c->drain_end.tv_nsec = ns % 1000000000L;
}

void lf_capture_breakloop(struct lf_capture *c)
{
    c->stop = 1;
    pcap_breakloop(c->p);
}

uint64_t lf_capture_drops(struct lf_capture *c)
{
    if (!c || !c->live)
        return 0;
    struct pcap_stat st;
    if (pcap_stats(c->p, &st) == 0)
        c->drops = (uint64_t)st.ps_drop + st.ps_ifdrop;
    return c->drops;
}

int lf_capture_fd(const struct lf_capture *c)
{
    return c && c->live ? pcap_get_selectable_fd(c->p) : -1;
}

void lf_capture_close(struct lf_capture *c)
{
    if (!c)
        return;
    if (c->dump) {
        pcap_dump_flush(c->dump);
        pcap_dump_close(c->dump);
    }
    if (c->has_prog)
        pcap_freecode(&c->prog);
    pcap_close(c->p);
    free(c);
}
