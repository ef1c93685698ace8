/* capfile.c: a capture file's bytes through mapped windows, for libpcap's stdio stream and read in place.
 *
 * In place, as libpcap 1.10 gives them (sf-pcap.c, sf-pcapng.c):
 *   pcap   version 2.4 in this machine's byte order, microsecond or nanosecond magic: a record whose captured
 *          length is within the snapshot length and whose bytes are all in the file;
 *   pcapng sections in this machine's byte order: an Enhanced Packet Block on a known interface with a
 *          decimal time stamp resolution, its captured length within the snapshot length and the block
 *          whole (lengths agree, data inside). Interfaces are learnt from the Interface Description Blocks
 *          as libpcap reads them.
 * Everything else is read by libpcap (lf_capfile_to_libpcap): other blocks, other records, errors, the end.
 *
 * A file cut shorter while it is mapped (a ring of tcpdump files reusing it) would raise SIGBUS where its
 * pages are read: the handler here puts zeroed pages in the window's place from there on and marks it, and
 * the reader reports the file shrank (lf_capfile_shrank) instead of the process dying.
 */
#include "lyncflow/capfile.h"

#include <errno.h>
#include <signal.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lyncflow/cursor.h"
#include "lyncflow/util.h"

#define FILE_WINDOW (2u << 20) /* a regular file is read through a mapped window this size */
#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define PCAP_FILE_HDR 24u
#define PCAP_REC_HDR 16u
#define NG_SHB 0x0a0d0d0au
#define NG_IDB 1u
#define NG_PB 2u
#define NG_SPB 3u
#define NG_EPB 6u
#define NG_BYTE_ORDER 0x1a2b3c4du
#define NG_EPB_FIXED 32u       /* block header, EPB fields, trailer */
#define NG_MAX_IFACES 65536u   /* beyond this, libpcap reads alone */
#define USB_LINUX_MMAPPED 220  /* libpcap rewrites these lengths: not read in place */

enum format { FMT_NONE, FMT_PCAP, FMT_PCAPNG };

struct iface {
    uint64_t tsresol;  /* ticks a second, a power of ten */
    uint64_t tsoffset; /* seconds added */
    int in_place;      /* 0: binary or invalid resolution, left to libpcap */
};

/* The windows mapped now, for the SIGBUS handler: one slot per open capfile. */
#define WINDOW_SLOTS 4
static struct slot {
    volatile uintptr_t lo, hi;   /* the window's addresses, [lo, hi); 0 when none */
    volatile sig_atomic_t shrank; /* the file ended inside the window while it was read */
    volatile sig_atomic_t used;
} slots[WINDOW_SLOTS];
static uintptr_t page_size;
static struct sigaction old_bus;

/* SIGBUS: a read past the end of a file cut shorter after it was mapped. In
 * one of our windows, the rest of the window becomes zeroed pages (the read
 * is made again and sees zeros) and the slot is marked; elsewhere the signal
 * goes back to what it was before, and the read faults again into it. */
static void on_bus(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    uintptr_t a = (uintptr_t)si->si_addr;
    for (int i = 0; i < WINDOW_SLOTS; i++) {
        struct slot *w = &slots[i];
        if (w->used && a >= w->lo && a < w->hi) {
            uintptr_t from = a & ~(page_size - 1);
            if (mmap((void *)from, w->hi - from, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
                MAP_FAILED)
                break;
            w->shrank = 1;
            return;
        }
    }
    sigaction(SIGBUS, &old_bus, NULL);
}

/* A slot for a new capfile, with the handler installed unless it is already
 * (what was there before is kept to pass other faults on): -1 when none is
 * free (then a file cut shorter under us is not caught). */
static int take_slot(void)
{
    struct sigaction now;
    if (sigaction(SIGBUS, NULL, &now) != 0)
        return -1;
    if (!(now.sa_flags & SA_SIGINFO) || now.sa_sigaction != on_bus) {
        page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_bus;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGBUS, &sa, &old_bus) != 0)
            return -1;
    }
    for (int i = 0; i < WINDOW_SLOTS; i++)
        if (!slots[i].used) {
            slots[i] = (struct slot){.lo = 0, .hi = 0, .shrank = 0, .used = 1};
            return i;
        }
    return -1;
}

/* Maps file bytes from `at` (a page boundary), FILE_WINDOW of them or `want`
 * if more, up to the file's size at this moment (so a file that grows while
 * it is read is followed as read() would), pages populated: 1 with *m and
 * *len, 0 when the file ends at or before at, -1 when mapping failed. */
static int map_at(int fd, uint64_t at, uint64_t want, void **m, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -1;
    if (st.st_size <= 0 || (uint64_t)st.st_size <= at)
        return 0;
    uint64_t n = (uint64_t)st.st_size - at;
    if (want < FILE_WINDOW)
        want = FILE_WINDOW;
    if (n > want)
        n = want;
    *m = mmap(NULL, (size_t)n, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, (off_t)at);
    *len = (size_t)n;
    return *m == MAP_FAILED ? -1 : 1;
}

struct lf_capfile {
    int slot;             /* in slots[], or -1 */
    int fd;
    int mapped;           /* reading through windows */
    uint64_t consumed;    /* bytes handed to the stream */
    const uint8_t *win;   /* the window: file bytes [win_at, win_at + win_len) */
    uint64_t win_at;
    size_t win_len;
    FILE *fp;
    int direct;           /* packets read in place */
    enum format format;
    int nsec;             /* pcap: nanosecond time stamps */
    uint32_t snapshot;
    uint64_t pos;         /* in place: file offset of the next record or block */
    struct iface *ifs;    /* pcapng: this section's interfaces, as libpcap knows them */
    uint32_t nif, cap_if;
};

/* The current window becomes file bytes [at, at + len) at m (NULL: none), for the reader and the SIGBUS handler. */
static void set_window(struct lf_capfile *f, const uint8_t *m, uint64_t at, size_t len)
{
    f->win = m;
    f->win_at = at;
    f->win_len = len;
    if (f->slot >= 0) {
        slots[f->slot].lo = (uintptr_t)m;
        slots[f->slot].hi = m ? (uintptr_t)m + (uintptr_t)len : 0;
    }
}

static void unmap_window(struct lf_capfile *f)
{
    const uint8_t *old = f->win;
    size_t old_len = f->win_len;
    set_window(f, NULL, f->win_at, 0);
    if (old)
        munmap((void *)old, old_len);
}

/* Maps the window starting at the page holding byte `from`, FILE_WINDOW
 * long or enough for `need` bytes from there: 1 done, 0 when the file ends
 * before it, -1 when mapping failed (the stream goes on with read() from
 * there). */
static int map_window(struct lf_capfile *f, uint64_t from, uint64_t need)
{
    unmap_window(f);
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), at = from / page * page;
    void *m;
    size_t len;
    int r = map_at(f->fd, at, from - at + need, &m, &len);
    if (r == 1)
        set_window(f, m, at, len);
    return r;
}

static ssize_t src_read(void *cookie, char *out, size_t n)
{
    struct lf_capfile *f = cookie;
    if (f->mapped) {
        if (f->consumed < f->win_at || f->consumed >= f->win_at + f->win_len) {
            int r = map_window(f, f->consumed, 1);
            if (r == 0)
                return 0;
            if (r < 0) {
                f->mapped = 0;
                if (lseek(f->fd, (off_t)f->consumed, SEEK_SET) < 0)
                    return -1;
                return src_read(cookie, out, n);
            }
        }
        size_t at = (size_t)(f->consumed - f->win_at), left = f->win_len - at;
        if (n > left)
            n = left;
        memcpy(out, f->win + at, n);
        f->consumed += n;
        return (ssize_t)n;
    }
    ssize_t r;
    do
        r = read(f->fd, out, n);
    while (r < 0 && errno == EINTR);
    if (r > 0)
        f->consumed += (uint64_t)r;
    return r;
}

/* Only "where am I" (0, SEEK_CUR), which ftell asks. */
static int src_seek(void *cookie, off64_t *pos, int whence)
{
    struct lf_capfile *f = cookie;
    if (whence != SEEK_CUR || *pos != 0) {
        errno = ESPIPE;
        return -1;
    }
    *pos = (off64_t)f->consumed;
    return 0;
}

static int src_close(void *cookie)
{
    struct lf_capfile *f = cookie;
    unmap_window(f);
    if (f->slot >= 0)
        slots[f->slot].used = 0;
    if (f->fd != STDIN_FILENO)
        close(f->fd);
    free(f->ifs);
    free(f);
    return 0;
}

struct lf_capfile *lf_capfile_open(int fd, FILE **fp)
{
    struct lf_capfile *f = lf_xcalloc(1, sizeof *f);
    f->fd = fd;
    struct stat st;
    f->mapped = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && lseek(fd, 0, SEEK_CUR) == 0;
    f->slot = f->mapped ? take_slot() : -1;
    cookie_io_functions_t io = {.read = src_read, .seek = src_seek, .close = src_close};
    f->fp = fopencookie(f, "r", io);
    if (!f->fp) {
        int e = errno;
        if (f->slot >= 0)
            slots[f->slot].used = 0;
        free(f);
        errno = e;
        return NULL;
    }
    *fp = f->fp;
    return f;
}

/* Where the stream's next byte is: the bytes handed to stdio less those still in its buffer (ftell). */
static uint64_t stream_tell(const struct lf_capfile *f)
{
    long at = ftell(f->fp);
    return at > 0 ? (uint64_t)at : 0;
}

/* Numbers in this machine's byte order: the order of the files read in place. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_BE 1
#else
#define HOST_BE 0
#endif
static uint32_t host_u32(struct lf_cur *k) { return HOST_BE ? lf_cur_u32(k) : lf_cur_u32le(k); }
static uint16_t host_u16(struct lf_cur *k) { return HOST_BE ? lf_cur_u16(k) : lf_cur_u16le(k); }

static uint64_t host_u64(struct lf_cur *k)
{
    uint64_t a = host_u32(k), b = host_u32(k);
    return HOST_BE ? a << 32 | b : b << 32 | a;
}

/* The window moved to hold file bytes [at, at + n): 1, or 0 when the file
 * ends before or mapping fails. */
static int move_window(struct lf_capfile *f, uint64_t at, uint64_t n)
{
    return f->mapped && map_window(f, at, n) == 1 && at + n <= f->win_at + f->win_len;
}

/* A cursor over file bytes [at, at + n), moving the window there if it does
 * not hold them: 1, or 0 when the file ends before or mapping fails. */
static inline int span(struct lf_capfile *f, uint64_t at, uint64_t n, struct lf_cur *k)
{
    if ((at < f->win_at || at + n > f->win_at + f->win_len) && !move_window(f, at, n))
        return 0;
    *k = lf_cur_make(f->win + (at - f->win_at), (size_t)n);
    return 1;
}

/* An Interface Description Block's time stamp options, as libpcap reads
 * them; an interface libpcap would refuse or scale by powers of two is left
 * to it. k is after the linktype and snaplen, up to the trailer. */
static void idb_options(struct lf_cur *k, struct iface *i)
{
    int saw_res = 0, saw_off = 0;
    while (lf_cur_left(k)) {
        uint16_t code = host_u16(k), len = host_u16(k);
        struct lf_cur v = lf_cur_sub(k, (size_t)((len + 3u) / 4u * 4u));
        if (!lf_cur_ok(k)) {
            i->in_place = 0;
            return;
        }
        if (code == 0) { /* end of options */
            if (len != 0)
                i->in_place = 0;
            return;
        }
        if (code == 9) { /* if_tsresol */
            uint8_t r = lf_cur_u8(&v);
            if (len != 1 || saw_res++ || (r & 0x80) || r > 19) {
                i->in_place = 0;
                continue;
            }
            i->tsresol = 1;
            for (unsigned e = 0; e < r; e++)
                i->tsresol *= 10;
        } else if (code == 14) { /* if_tsoffset */
            if (len != 8 || saw_off++) {
                i->in_place = 0;
                continue;
            }
            i->tsoffset = host_u64(&v);
        }
    }
}

/* Follows the pcapng block at `at` as libpcap will read it: a section
 * starts its interfaces afresh, an interface is added. 1 with *len and
 * *packet (a packet block), or 0 when the block cannot be followed here. */
static int follow_block(struct lf_capfile *f, uint64_t at, uint32_t *len, int *packet)
{
    struct lf_cur k;
    if (!span(f, at, 8, &k))
        return 0;
    uint32_t type = host_u32(&k), total = host_u32(&k);
    if (total < 12 || total % 4 || !span(f, at, total, &k))
        return 0;
    lf_cur_skip(&k, 8);
    struct lf_cur body = lf_cur_sub(&k, total - 12u);
    *len = total;
    *packet = type == NG_EPB || type == NG_SPB || type == NG_PB;
    if (type == NG_SHB) {
        if (host_u32(&body) != NG_BYTE_ORDER || !lf_cur_ok(&body))
            return 0;
        f->nif = 0;
    } else if (type == NG_IDB) {
        if (f->nif == NG_MAX_IFACES)
            return 0;
        if (f->nif == f->cap_if) {
            f->cap_if = f->cap_if ? f->cap_if * 2 : 4;
            struct iface *n = realloc(f->ifs, f->cap_if * sizeof *n);
            if (!n)
                return 0;
            f->ifs = n;
        }
        struct iface *i = &f->ifs[f->nif++];
        *i = (struct iface){.tsresol = 1000000, .tsoffset = 0, .in_place = 1};
        lf_cur_skip(&body, 8); /* linktype, reserved, snaplen */
        if (!lf_cur_ok(&body))
            i->in_place = 0;
        else
            idb_options(&body, i);
    }
    return 1;
}

int lf_capfile_start(struct lf_capfile *f, pcap_t *p)
{
    struct lf_cur k;
    uint64_t at = stream_tell(f);
    f->direct = 0;
    if (!f->mapped || pcap_snapshot(p) <= 0 || pcap_datalink(p) == USB_LINUX_MMAPPED || !span(f, 0, 4, &k))
        return 0;
    f->snapshot = (uint32_t)pcap_snapshot(p);
    uint32_t magic = host_u32(&k);
    if (magic == PCAP_MAGIC_USEC || magic == PCAP_MAGIC_NSEC) {
        if (at != PCAP_FILE_HDR || !span(f, 4, 4, &k))
            return 0;
        uint16_t major = host_u16(&k), minor = host_u16(&k);
        if (major != 2 || minor != 4) /* earlier versions may swap caplen and len */
            return 0;
        f->format = FMT_PCAP;
        f->nsec = magic == PCAP_MAGIC_NSEC;
    } else if (magic == NG_SHB) {
        /* libpcap has read the section header and the blocks up to its first interface */
        uint64_t b = 0;
        while (b < at) {
            uint32_t len;
            int packet;
            if (!follow_block(f, b, &len, &packet) || packet)
                return 0;
            b += len;
        }
        if (b != at || f->nif == 0)
            return 0;
        f->format = FMT_PCAPNG;
    } else {
        return 0;
    }
    f->pos = at;
    f->direct = 1;
    return 1;
}

static int next_pcap(struct lf_capfile *f, struct pcap_pkthdr *h, const u_char **d)
{
    struct lf_cur k;
    if (!span(f, f->pos, PCAP_REC_HDR, &k))
        return 0;
    int32_t sec = (int32_t)host_u32(&k), frac = (int32_t)host_u32(&k);
    uint32_t caplen = host_u32(&k), len = host_u32(&k);
    if (caplen > f->snapshot || !span(f, f->pos, PCAP_REC_HDR + (uint64_t)caplen, &k))
        return 0;
    lf_cur_skip(&k, PCAP_REC_HDR);
    /* as libpcap gives them: signed 32-bit fields, nanoseconds scaled down */
    h->ts.tv_sec = sec;
    h->ts.tv_usec = f->nsec ? frac / 1000 : frac;
    h->caplen = caplen;
    h->len = len;
    *d = lf_cur_ptr(&k);
    f->pos += PCAP_REC_HDR + caplen;
    return 1;
}

static int next_pcapng(struct lf_capfile *f, struct pcap_pkthdr *h, const u_char **d)
{
    struct lf_cur k;
    if (!span(f, f->pos, 8, &k))
        return 0;
    uint32_t type = host_u32(&k), total = host_u32(&k);
    if (type != NG_EPB || total < NG_EPB_FIXED || total % 4 || !span(f, f->pos, total, &k))
        return 0;
    lf_cur_skip(&k, 8);
    uint32_t id = host_u32(&k), hi = host_u32(&k), lo = host_u32(&k);
    uint32_t caplen = host_u32(&k), len = host_u32(&k);
    const uint8_t *data = lf_cur_ptr(&k);
    lf_cur_skip(&k, total - NG_EPB_FIXED);
    if (id >= f->nif || !f->ifs[id].in_place || caplen > f->snapshot || caplen > total - NG_EPB_FIXED ||
        host_u32(&k) != total || !lf_cur_ok(&k))
        return 0;
    const struct iface *i = &f->ifs[id];
    uint64_t t = (uint64_t)hi << 32 | lo, sec, frac;
    sec = t / i->tsresol;
    frac = t % i->tsresol;
    if (i->tsresol > 1000000)
        frac /= i->tsresol / 1000000;
    else
        frac *= 1000000 / i->tsresol;
    sec += i->tsoffset;
    h->ts.tv_sec = (time_t)sec;
    h->ts.tv_usec = (int)frac;
    h->caplen = caplen;
    h->len = len;
    *d = data;
    f->pos += total;
    return 1;
}

/* read in place, not through libpcap: 27% of a run's instructions (callgrind, gencap tls 4000 40 capture) */
int lf_capfile_next(struct lf_capfile *f, struct pcap_pkthdr *h, const u_char **d)
{
    if (!f->direct)
        return 0;
    return f->format == FMT_PCAP ? next_pcap(f, h, d) : next_pcapng(f, h, d);
}

void lf_capfile_to_libpcap(struct lf_capfile *f)
{
    if (!f->direct)
        return;
    if (f->format == FMT_PCAPNG) {
        /* libpcap reads the blocks up to the next packet: learn them as it will */
        uint64_t b = f->pos;
        for (;;) {
            uint32_t len;
            int packet;
            if (!follow_block(f, b, &len, &packet)) {
                f->direct = 0; /* the rest is libpcap's alone; its stream is moved below */
                break;
            }
            if (packet)
                break;
            b += len;
        }
    }
    __fpurge(f->fp);
    f->consumed = f->pos;
}

void lf_capfile_from_libpcap(struct lf_capfile *f)
{
    if (!f->direct)
        return;
    f->pos = stream_tell(f);
    if (!f->mapped) /* mapping failed: read() from here on */
        f->direct = 0;
}

int lf_capfile_direct(const struct lf_capfile *f) { return f->direct; }

int lf_capfile_shrank(const struct lf_capfile *f) { return f->slot >= 0 && slots[f->slot].shrank; }

struct lf_capfile *lf_capfile_open_view(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return NULL;
    struct lf_capfile *f = lf_xcalloc(1, sizeof *f);
    f->fd = fd;
    f->mapped = 1;
    f->slot = take_slot();
    return f;
}

int lf_capfile_view(struct lf_capfile *f, uint64_t at, uint64_t n, struct lf_cur *k) { return span(f, at, n, k); }

void lf_capfile_close_view(struct lf_capfile *f)
{
    if (f)
        src_close(f);
}

uint64_t lf_capfile_offset(const struct lf_capfile *f) { return f->direct ? f->pos : stream_tell(f); }
