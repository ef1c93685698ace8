/* capture.c: packet sources on libpcap: files (pcap, pcapng, stdin), live interfaces, -w dumps, drop counts.
 * Records of a classic pcap file in this machine's byte order are read in place from the mapped file;
 * libpcap reads everything else, and any record that is not plain (see direct_next). */
#include "lyncflow/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lyncflow/cursor.h"
#include "lyncflow/util.h"

#define LIVE_SNAPLEN 262144
#define LIVE_TIMEOUT_MS 100
#define LIVE_BUFFER (64 << 20) /* the kernel's ring: bursts wait here, not on the floor */
#define LIVE_FLUSH_EVERY 64
#define FILE_WINDOW (2u << 20) /* a regular file is read through a mapped window this size */
#define TS_MAX_S 100000000000LL
#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define PCAP_FILE_HDR 24u
#define PCAP_REC_HDR 16u

/* A file's bytes handed to libpcap through a stdio cookie that counts what it
 * read, so ftell (the offset of the record being read, for pcap and pcapng,
 * files and pipes) costs no system call a packet. A regular file is read
 * through a window mapped in turn along it, which spares the kernel's copy of
 * read(); each window is mapped up to the file's size at that moment, so a
 * file that grows while it is read is followed as read() would. Pipes, and
 * files where mapping fails, are read with read(). */
struct file_src {
    int fd;
    int mapped;           /* reading through windows */
    uint64_t consumed;    /* bytes handed over */
    const uint8_t *win;   /* the window: file bytes [win_at, win_at + win_len) */
    uint64_t win_at;
    size_t win_len;
};

struct lf_capture {
    pcap_t *p;
    pcap_dumper_t *dump;
    char name[256];
    int live, linktype;
    int draining;                /* live: stopped, reading what the kernel still holds */
    struct timespec drain_end;   /* until then */
    FILE *fp;                    /* offline: the stream libpcap reads */
    struct file_src *src;        /* offline: what fp reads from */
    uint64_t offset;             /* offline: file offset of the record being read */
    uint64_t packets, drops;
    volatile sig_atomic_t stop;
    /* direct reading: records in place in the mapped window, from file offset pos */
    int direct, nsec;
    uint64_t pos;
    uint32_t snapshot;
    struct pcap_pkthdr hdr;      /* the record handed out */
    struct bpf_program prog;     /* the filter, applied to records read in place */
    int has_prog;
};

static int set_filter(struct lf_capture *c, const char *bpf, char *err, size_t errsize)
{
    if (!bpf)
        return 0;
    struct bpf_program prog;
    if (pcap_compile(c->p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errsize, "filter '%s': %s", bpf, pcap_geterr(c->p));
        return -1;
    }
    int r = pcap_setfilter(c->p, &prog);
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

static void unmap_window(struct file_src *s)
{
    if (s->win)
        munmap((void *)s->win, s->win_len);
    s->win = NULL;
    s->win_len = 0;
}

/* Maps the window starting at the page holding byte `from`: 1 done, 0 when
 * the file ends before it, -1 when mapping failed (the caller goes on with
 * read() from there). */
static int map_window(struct file_src *s, uint64_t from)
{
    unmap_window(s);
    struct stat st;
    if (fstat(s->fd, &st) != 0)
        return -1;
    if (st.st_size <= 0 || (uint64_t)st.st_size <= from)
        return 0;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t at = from / page * page;
    uint64_t len = (uint64_t)st.st_size - at;
    if (len > FILE_WINDOW)
        len = FILE_WINDOW;
    void *m = mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, s->fd, (off_t)at);
    if (m == MAP_FAILED)
        return -1;
    s->win = m;
    s->win_at = at;
    s->win_len = (size_t)len;
    return 1;
}

static ssize_t src_read(void *cookie, char *out, size_t n)
{
    struct file_src *s = cookie;
    if (s->mapped) {
        if (s->consumed < s->win_at || s->consumed >= s->win_at + s->win_len) {
            int r = map_window(s, s->consumed);
            if (r == 0)
                return 0;
            if (r < 0) {
                s->mapped = 0;
                if (lseek(s->fd, (off_t)s->consumed, SEEK_SET) < 0)
                    return -1;
                return src_read(cookie, out, n);
            }
        }
        size_t at = (size_t)(s->consumed - s->win_at), left = s->win_len - at;
        if (n > left)
            n = left;
        memcpy(out, s->win + at, n);
        s->consumed += n;
        return (ssize_t)n;
    }
    ssize_t r;
    do
        r = read(s->fd, out, n);
    while (r < 0 && errno == EINTR);
    if (r > 0)
        s->consumed += (uint64_t)r;
    return r;
}

/* Only "where am I" (0, SEEK_CUR), which ftell asks. */
static int src_seek(void *cookie, off64_t *pos, int whence)
{
    struct file_src *s = cookie;
    if (whence != SEEK_CUR || *pos != 0) {
        errno = ESPIPE;
        return -1;
    }
    *pos = (off64_t)s->consumed;
    return 0;
}

static int src_close(void *cookie)
{
    struct file_src *s = cookie;
    unmap_window(s);
    if (s->fd != STDIN_FILENO)
        close(s->fd);
    free(s);
    return 0;
}

/* Where the next record starts: the bytes handed to stdio less those still
 * in its buffer. That is ftell's answer; glibc's buffer pointers (public in
 * its FILE, as gnulib's freadahead reads them) spare ftell's cost a packet. */
static uint64_t stream_pos(const struct lf_capture *c)
{
#ifdef __GLIBC__
    return c->src->consumed - (uint64_t)(c->fp->_IO_read_end - c->fp->_IO_read_ptr);
#else
    long at = ftell(c->fp);
    return at > 0 ? (uint64_t)at : 0;
#endif
}

/* A u32 or u16 in this machine's byte order: the order of the files read in place. */
static uint32_t host_u32(struct lf_cur *k)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return lf_cur_u32(k);
#else
    return lf_cur_u32le(k);
#endif
}

static uint16_t host_u16(struct lf_cur *k)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return lf_cur_u16(k);
#else
    return lf_cur_u16le(k);
#endif
}

/* Whether the records can be read in place: a mapped classic pcap file of
 * version 2.4 (caplen before len) in this machine's byte order (libpcap
 * would swap nothing), with libpcap having read exactly the file header. */
static int direct_start(struct lf_capture *c)
{
    struct file_src *s = c->src;
    if (!s->mapped || !s->win || s->win_at != 0 || s->win_len < PCAP_FILE_HDR || stream_pos(c) != PCAP_FILE_HDR)
        return 0;
    struct lf_cur k = lf_cur_make(s->win, PCAP_FILE_HDR);
    uint32_t magic = host_u32(&k);
    uint16_t major = host_u16(&k), minor = host_u16(&k);
    if ((magic != PCAP_MAGIC_USEC && magic != PCAP_MAGIC_NSEC) || major != 2 || minor != 4 || pcap_snapshot(c->p) <= 0)
        return 0;
    c->nsec = magic == PCAP_MAGIC_NSEC;
    c->snapshot = (uint32_t)pcap_snapshot(c->p);
    c->pos = PCAP_FILE_HDR;
    return 1;
}

/* The record at pos, read in place: 1 with *h and *d set, 0 when the record
 * is not plain (its captured length is over the snapshot length, or the
 * file ends inside it or right before it), which libpcap then reads. */
static int direct_next(struct lf_capture *c, struct pcap_pkthdr *h, const u_char **d)
{
    struct file_src *s = c->src;
    uint64_t pos = c->pos;
    if (!s->mapped)
        return 0;
    if (pos < s->win_at || pos + PCAP_REC_HDR > s->win_at + s->win_len)
        if (map_window(s, pos) != 1)
            return 0;
    struct lf_cur k = lf_cur_make(s->win + (pos - s->win_at), (size_t)(s->win_at + s->win_len - pos));
    int32_t sec = (int32_t)host_u32(&k), frac = (int32_t)host_u32(&k);
    uint32_t caplen = host_u32(&k), len = host_u32(&k);
    if (!lf_cur_ok(&k) || caplen > c->snapshot)
        return 0;
    if (lf_cur_left(&k) < caplen) {
        if (map_window(s, pos) != 1 || pos + PCAP_REC_HDR + caplen > s->win_at + s->win_len)
            return 0;
        k = lf_cur_make(s->win + (pos - s->win_at), (size_t)(s->win_at + s->win_len - pos));
        lf_cur_skip(&k, PCAP_REC_HDR);
    }
    /* as libpcap gives them: signed 32-bit fields, nanoseconds scaled down */
    h->ts.tv_sec = sec;
    h->ts.tv_usec = c->nsec ? frac / 1000 : frac;
    h->caplen = caplen;
    h->len = len;
    *d = lf_cur_ptr(&k);
    c->pos = pos + PCAP_REC_HDR + caplen;
    return 1;
}

/* The record at pos read by libpcap: its stream is moved there first. */
static int direct_by_libpcap(struct lf_capture *c, struct pcap_pkthdr **h, const u_char **d)
{
    __fpurge(c->fp);
    c->src->consumed = c->pos;
    int r = pcap_next_ex(c->p, h, d);
    c->pos = stream_pos(c);
    return r;
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
    struct file_src *src = lf_xcalloc(1, sizeof *src);
    src->fd = fd;
    struct stat st;
    src->mapped = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && lseek(fd, 0, SEEK_CUR) == 0;
    cookie_io_functions_t io = {.read = src_read, .seek = src_seek, .close = src_close};
    FILE *fp = fopencookie(src, "r", io);
    if (!fp) {
        snprintf(err, errsize, "cannot read %s: %s", shown, strerror(errno));
        src_close(src);
        return NULL;
    }
    __fsetlocking(fp, FSETLOCKING_BYCALLER); /* only the capture thread reads it: no lock a call */
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
    if (!p) {
        one_line(ebuf);
        snprintf(err, errsize, "cannot read %s: %s", shown, ebuf[0] ? ebuf : "not a pcap or pcapng capture");
        fclose(fp);
        return NULL;
    }
    struct lf_capture *c = lf_xcalloc(1, sizeof *c);
    c->p = p;
    c->fp = fp;
    c->src = src;
    lf_strlcpy(c->name, shown, sizeof c->name);
    c->linktype = pcap_datalink(p);
    if (set_filter(c, bpf, err, errsize) != 0) {
        lf_capture_close(c);
        return NULL;
    }
    c->direct = direct_start(c);
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

int lf_capture_dump_open(struct lf_capture *c, const char *path, char *err, size_t errsize)
{
    c->dump = pcap_dump_open(c->p, path);
    if (!c->dump) {
        char msg[PCAP_ERRBUF_SIZE];
        lf_strlcpy(msg, pcap_geterr(c->p), sizeof msg);
        one_line(msg);
        snprintf(err, errsize, "cannot write %s: %s", path, msg);
        return -1;
    }
    return 0;
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

enum lf_next lf_capture_next(struct lf_capture *c, lf_time *ts, const uint8_t **data, size_t *caplen, size_t *wirelen,
                             char *err, size_t errsize)
{
    if (c->stop)
        return LF_NEXT_END;
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
    if (c->direct) {
        for (;;) {
            c->offset = c->pos;
            if (!direct_next(c, &c->hdr, &d)) {
                r = direct_by_libpcap(c, &h, &d);
                c->direct = c->src->mapped; /* mapping failed: read() from here on */
                break;
            }
            if (!c->has_prog || pcap_offline_filter(&c->prog, &c->hdr, d)) {
                r = 1;
                break;
            }
        }
    } else {
        if (c->fp)
            c->offset = stream_pos(c);
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
        if (c->dump) {
            pcap_dump((u_char *)c->dump, h, d);
            if (c->live && c->packets % LIVE_FLUSH_EVERY == 0)
                pcap_dump_flush(c->dump);
        }
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
    if (c->live)
        snprintf(err, errsize, "%s: %s", c->name, msg);
    else
        snprintf(err, errsize, "%s: %s, at byte offset %llu after %llu packets", c->name, msg,
                 (unsigned long long)c->offset, (unsigned long long)c->packets);
    return LF_NEXT_ERROR;
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
