/* tlskeylog.c: TLS secrets from key log text: NSS key log files and pcapng Decryption Secrets Blocks (RFC 8446 7.1).
 *
 * Lines follow the NSS key log format (draft-ietf-tls-keylogfile): a label,
 * the client random and the secret in hex; CLIENT_RANDOM carries a TLS <= 1.2
 * master secret, the *_TRAFFIC_SECRET labels the TLS 1.3 secrets of RFC 8446
 * 7.1; other labels are counted and skipped, malformed lines counted and told
 * in one warning a file read or secrets block. A key log file is re-read from
 * where it stopped when a secret is missing, and waited for briefly while it
 * is being written. The pcapng blocks (draft-ietf-opsawg-pcapng) are walked
 * through a mapped view of the capture file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lyncflow/capfile.h"
#include "lyncflow/cursor.h"
#include "lyncflow/util.h"
#include "tlsdec_int.h"

#define KEYLOG_LINE_MAX 1024
#define KEYLOG_CHUNK 65536
#define DSB_MAX (64u << 20) /* largest Decryption Secrets Block read */
/* A key log written while the capture runs (modified in the last seconds):
 * the client logs TLS 1.3 secrets as it reads the very packets we decrypt,
 * so a missing secret is waited for, briefly and within a budget. */
#define LIVE_MTIME_S 3
#define LIVE_STEP_NS 500000L           /* 0.5 ms between reads */
#define LIVE_WAIT_CONN_NS 50000000L    /* at most 50 ms per connection (a loaded client is slow to log) */
#define LIVE_WAIT_BUDGET_NS 250000000L /* at most 250 ms a second, all connections */

/* ---- key log lines ----------------------------------------------------- */

static int is_space(uint8_t b) { return b == ' ' || b == '\t' || b == '\r'; }

/* The next whitespace-separated token of c (empty at the end). */
static struct lf_cur next_token(struct lf_cur *c)
{
    while (lf_cur_left(c)) {
        struct lf_cur t = *c;
        if (!is_space(lf_cur_u8(&t)))
            break;
        lf_cur_skip(c, 1);
    }
    size_t n = 0;
    struct lf_cur t = *c;
    while (lf_cur_left(&t) && !is_space(lf_cur_u8(&t)))
        n++;
    return lf_cur_sub(c, n);
}

static int hexval(uint8_t ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Decodes a hex token of exactly 2*n digits. */
static int hex_decode(struct lf_cur tok, uint8_t *out, size_t n)
{
    if (lf_cur_left(&tok) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(lf_cur_u8(&tok)), lo = hexval(lf_cur_u8(&tok));
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static int tok_is(const struct lf_cur *tok, const char *s)
{
    size_t n = strlen(s);
    return lf_cur_left(tok) == n && !memcmp(lf_cur_ptr(tok), s, n);
}

static const struct {
    const char *label;
    int sec;
} keylog_labels[] = {
    {"CLIENT_RANDOM", SEC_MASTER},
    {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", SEC_CHS},
    {"SERVER_HANDSHAKE_TRAFFIC_SECRET", SEC_SHS},
    {"CLIENT_TRAFFIC_SECRET_0", SEC_CAP},
    {"SERVER_TRAFFIC_SECRET_0", SEC_SAP},
};

enum line_result { LINE_OK, LINE_SKIP, LINE_BAD };

static enum line_result parse_line(struct lf_keystore *ks, struct lf_cur line)
{
    struct lf_cur label = next_token(&line);
    if (!lf_cur_left(&label))
        return LINE_SKIP;
    if (*lf_cur_ptr(&label) == '#')
        return LINE_SKIP;
    struct lf_cur rnd = next_token(&line), sec = next_token(&line), extra = next_token(&line);
    if (!lf_cur_ok(&line) || !lf_cur_left(&rnd) || !lf_cur_left(&sec) || lf_cur_left(&extra))
        return LINE_BAD;
    int which = -1;
    for (size_t i = 0; i < sizeof keylog_labels / sizeof keylog_labels[0]; i++)
        if (tok_is(&label, keylog_labels[i].label))
            which = keylog_labels[i].sec;
    if (which < 0) {
        /* another NSS label (EXPORTER_SECRET, CLIENT_EARLY_TRAFFIC_SECRET, RSA ...) */
        struct lf_cur t = label;
        while (lf_cur_left(&t)) {
            uint8_t b = lf_cur_u8(&t);
            if (!((b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_'))
                return LINE_BAD;
        }
        ks->ignored_lines++;
        return LINE_SKIP;
    }
    uint8_t random[RANDOM_LEN], secret[SECRET_MAX];
    size_t slen = lf_cur_left(&sec) / 2;
    if (hex_decode(rnd, random, RANDOM_LEN) != 0)
        return LINE_BAD;
    if (which == SEC_MASTER ? slen != MASTER_LEN : (slen != 32 && slen != 48))
        return LINE_BAD;
    if (hex_decode(sec, secret, slen) != 0)
        return LINE_BAD;
    struct ks_entry *e = tlsdec_ks_slot(ks, random);
    memcpy(e->sec[which], secret, slen);
    e->len[which] = (uint8_t)slen;
    e->have |= (uint8_t)(1u << which);
    OPENSSL_cleanse(secret, sizeof secret);
    return LINE_OK;
}

void lf_keystore_add_line(struct lf_keystore *ks, const char *line, size_t len)
{
    if (!ks || !line)
        return;
    if (parse_line(ks, lf_cur_make(line, len)) == LINE_BAD)
        ks->bad_lines++;
}

static void pass_bad(struct lf_keystore *ks, size_t lineno)
{
    ks->bad_lines++;
    if (ks->pass_bad < BAD_LINES_SHOWN)
        ks->pass_shown[ks->pass_bad] = lineno;
    ks->pass_bad++;
}

static void pass_report(struct lf_keystore *ks, const char *path)
{
    if (!ks->pass_bad)
        return;
    char more[96] = "";
    size_t o = 0;
    for (size_t i = 1; i < ks->pass_bad && i < BAD_LINES_SHOWN; i++) {
        int n = snprintf(more + o, sizeof more - o, "%s%zu", i == 1 ? "" : ", ", ks->pass_shown[i]);
        if (n < 0 || (size_t)n >= sizeof more - o)
            break;
        o += (size_t)n;
    }
    if (ks->pass_bad == 1)
        lf_warn("%s:%zu: malformed key log line ignored", path, ks->pass_shown[0]);
    else
        lf_warn("%s:%zu: %zu malformed key log lines ignored (also line%s %s%s)", path, ks->pass_shown[0],
                ks->pass_bad, ks->pass_bad > 2 ? "s" : "", more, ks->pass_bad > BAD_LINES_SHOWN ? ", ..." : "");
    ks->pass_bad = 0;
}

/* Reads the key log from where the last read stopped. A last line without
 * its newline is taken only when it parses (it may still be being written). */
static int keylog_read(struct lf_keystore *ks, char *err, size_t errsize)
{
    FILE *f = fopen(ks->keylog_path, "rb");
    if (!f) {
        if (err)
            snprintf(err, errsize, "%s: %s", ks->keylog_path, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && (long long)sb.st_size < ks->keylog_off) {
        ks->keylog_off = 0; /* replaced or truncated: start again */
        ks->keylog_line = 0;
    }
    if (fseeko(f, (off_t)ks->keylog_off, SEEK_SET) != 0) {
        fclose(f);
        return 0;
    }
    uint8_t *chunk = lf_xmalloc(KEYLOG_CHUNK);
    uint8_t pend[KEYLOG_LINE_MAX];
    size_t plen = 0, linebytes = 0;
    size_t n;
    ks->pass_bad = 0;
    while ((n = fread(chunk, 1, KEYLOG_CHUNK, f)) > 0) {
        struct lf_cur c = lf_cur_make(chunk, n);
        while (lf_cur_left(&c)) {
            long nl = lf_cur_find(&c, '\n');
            size_t k = nl < 0 ? lf_cur_left(&c) : (size_t)nl;
            struct lf_cur part = lf_cur_sub(&c, k);
            linebytes += k;
            if (linebytes <= sizeof pend) {
                lf_cur_copy(&part, pend + plen, k);
                plen += k;
            }
            if (nl < 0)
                break;
            lf_cur_skip(&c, 1);
            ks->keylog_line++;
            ks->keylog_off += (long long)(linebytes + 1);
            if (linebytes > sizeof pend || parse_line(ks, lf_cur_make(pend, plen)) == LINE_BAD)
                pass_bad(ks, ks->keylog_line);
            plen = linebytes = 0;
        }
    }
    if (plen && linebytes == plen && parse_line(ks, lf_cur_make(pend, plen)) != LINE_BAD) {
        ks->keylog_line++;
        ks->keylog_off += (long long)plen;
    }
    free(chunk);
    fclose(f);
    pass_report(ks, ks->keylog_path);
    return 0;
}

int lf_keystore_load_keylog(struct lf_keystore *ks, const char *path, char *err, size_t errsize)
{
    free(ks->keylog_path);
    ks->keylog_path = lf_xstrdup(path);
    ks->keylog_off = 0;
    ks->keylog_line = 0;
    return keylog_read(ks, err, errsize);
}

/* Re-reads a growing key log when it has bytes not read yet. */
static void keylog_refresh(struct lf_keystore *ks)
{
    struct stat sb;
    if (!ks->keylog_path || stat(ks->keylog_path, &sb) != 0 || (long long)sb.st_size == ks->keylog_off)
        return;
    keylog_read(ks, NULL, 0);
}

/* The entry for random with all the secrets in mask, re-reading the key log once when missing. */
const struct ks_entry *tlsdec_ks_lookup(struct lf_keystore *ks, const uint8_t *random, unsigned mask)
{
    const struct ks_entry *e = tlsdec_ks_find(ks, random);
    if (e && (e->have & mask) == mask)
        return e;
    keylog_refresh(ks);
    e = tlsdec_ks_find(ks, random);
    return e && (e->have & mask) == mask ? e : NULL;
}

/* ks_lookup, and when the key log is being written, a short wait for the
 * secret; *waited_ns is the connection's share, kept by the caller. */
const struct ks_entry *tlsdec_ks_lookup_live(struct lf_keystore *ks, const uint8_t *random, unsigned mask,
                                             long *waited_ns)
{
    const struct ks_entry *e = tlsdec_ks_lookup(ks, random, mask);
    struct stat sb;
    if (e || !ks->keylog_path || *waited_ns >= LIVE_WAIT_CONN_NS || stat(ks->keylog_path, &sb) != 0)
        return e;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec - sb.st_mtime > LIVE_MTIME_S)
        return NULL;
    while (!e && *waited_ns < LIVE_WAIT_CONN_NS) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec != ks->budget_second) {
            ks->budget_second = now.tv_sec;
            ks->budget_used_ns = 0;
        }
        if (ks->budget_used_ns >= LIVE_WAIT_BUDGET_NS)
            break;
        struct timespec step = {0, LIVE_STEP_NS};
        nanosleep(&step, NULL);
        *waited_ns += LIVE_STEP_NS;
        ks->budget_used_ns += LIVE_STEP_NS;
        e = tlsdec_ks_lookup(ks, random, mask);
    }
    return e;
}

/* ---- pcapng Decryption Secrets Blocks ---------------------------------- */

#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_DSB 0x0000000Au
#define DSB_TLS_KEYLOG 0x544c534bu

static uint32_t get_u32(struct lf_cur *c, int le) { return le ? lf_cur_u32le(c) : lf_cur_u32(c); }

/* Feeds the key log text of one DSB body, line by line. */
static void dsb_lines(struct lf_keystore *ks, struct lf_cur text, const char *path, long long off)
{
    size_t bad = 0;
    while (lf_cur_left(&text)) {
        long nl = lf_cur_find(&text, '\n');
        size_t k = nl < 0 ? lf_cur_left(&text) : (size_t)nl;
        struct lf_cur line = lf_cur_sub(&text, k);
        if (nl >= 0)
            lf_cur_skip(&text, 1);
        /* the secrets are padded to 32 bits with NUL bytes */
        size_t m = 0;
        struct lf_cur t = line;
        while (lf_cur_left(&t) && lf_cur_u8(&t) != 0)
            m++;
        if (parse_line(ks, lf_cur_make(line.p, m)) == LINE_BAD)
            bad++;
    }
    if (bad) {
        ks->bad_lines += bad;
        lf_warn("%s: pcapng secrets block at offset %lld: %zu malformed key log line%s ignored", path, off, bad,
                bad == 1 ? "" : "s");
    }
}

int lf_keystore_load_pcapng_secrets(struct lf_keystore *ks, const char *path, char *err, size_t errsize)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    /* the blocks are walked through a mapped view: no read or seek a block */
    struct lf_capfile *f = lf_capfile_open_view(fd);
    if (!f) { /* not a regular file: a pipe is read once, by the capture */
        close(fd);
        return 0;
    }
    uint64_t size = (uint64_t)st.st_size, off = 0;
    int le = 1;
    for (;;) {
        struct lf_cur h;
        if (lf_capfile_shrank(f)) {
            lf_warn("%s: the file was cut shorter while its secrets were read, at offset %llu", path,
                    (unsigned long long)off);
            break;
        }
        if (off >= size)
            break;
        if (!lf_capfile_view(f, off, 8, &h)) {
            if (off)
                lf_warn("%s: truncated pcapng block at offset %llu", path, (unsigned long long)off);
            break;
        }
        struct lf_cur again = h;
        uint32_t type_be = lf_cur_u32(&h);
        size_t hlen = 8;
        if (type_be == PCAPNG_SHB) {
            struct lf_cur bom;
            if (!lf_capfile_view(f, off + 8, 4, &bom)) {
                lf_warn("%s: truncated pcapng section header at offset %llu", path, (unsigned long long)off);
                break;
            }
            hlen = 12;
            uint32_t magic = lf_cur_u32(&bom);
            if (magic == 0x1A2B3C4Du)
                le = 0;
            else if (magic == 0x4D3C2B1Au)
                le = 1;
            else {
                lf_warn("%s: bad pcapng byte-order magic at offset %llu", path, (unsigned long long)off);
                break;
            }
        } else if (off == 0)
            break; /* not pcapng: a pcap file has no secrets blocks */
        uint32_t type = get_u32(&again, le), total = get_u32(&again, le);
        if (total < 12 || total % 4 || total < hlen) {
            lf_warn("%s: corrupt pcapng block (type 0x%08x, length %u) at offset %llu; secrets after it not read",
                    path, type, total, (unsigned long long)off);
            break;
        }
        if (type == PCAPNG_DSB && total <= DSB_MAX) {
            struct lf_cur b;
            if (!lf_capfile_view(f, off + 8, total - 8u, &b)) {
                lf_warn("%s: truncated pcapng secrets block at offset %llu", path, (unsigned long long)off);
                break;
            }
            uint32_t stype = get_u32(&b, le), slen = get_u32(&b, le);
            struct lf_cur text = lf_cur_sub(&b, slen);
            lf_cur_skip(&b, (4 - slen % 4) % 4);
            if (!lf_cur_ok(&b) || lf_cur_left(&b) < 4) {
                lf_warn("%s: corrupt pcapng secrets block at offset %llu (secrets length %u)", path,
                        (unsigned long long)off, slen);
            } else if (stype == DSB_TLS_KEYLOG)
                dsb_lines(ks, text, path, (long long)off);
        }
        off += total;
    }
    lf_capfile_close_view(f);
    return 0;
}

