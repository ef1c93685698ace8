/* tlsdec.c: TLS 1.0-1.3 decryption from key logs, pcapng secrets and RSA keys (RFC 5246, 8446, 7627, 7366, 7905).
 *
 * The keystore is an open-addressing table keyed by client random, filled
 * from key log text (a file re-read from where it stopped, or pcapng
 * Decryption Secrets Blocks), plus RSA keys and a bounded cache of master
 * secrets by session ID and ticket. A decryptor learns what it needs from the
 * handshake messages tls.c hands it and keeps one cipher context per
 * direction; records are opened in place into the caller's buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "lyncflow/capfile.h"
#include "lyncflow/cursor.h"
#include "lyncflow/engine.h"
#include "lyncflow/tlsdec.h"
#include "lyncflow/util.h"

#define RANDOM_LEN 32
#define MASTER_LEN 48
#define SECRET_MAX 48
#define KEYLOG_LINE_MAX 1024
#define KEYLOG_CHUNK 65536
#define BAD_LINES_SHOWN 4
#define SESS_CAP 4096              /* session cache slots; cleared when half full */
#define DSB_MAX (64u << 20)        /* largest Decryption Secrets Block read */
#define CH_BUF_MAX (64u << 10)     /* largest ClientHello kept for the EMS transcript */
#define RSA_OUT_MAX 2048           /* RSA modulus up to 16384 bits */
#define TAG_LEN 16
/* A key log written while the capture runs (modified in the last seconds):
 * the client logs TLS 1.3 secrets as it reads the very packets we decrypt,
 * so a missing secret is waited for, briefly and within a budget. */
#define LIVE_MTIME_S 3
#define LIVE_STEP_NS 500000L           /* 0.5 ms between reads */
#define LIVE_WAIT_CONN_NS 50000000L    /* at most 50 ms per connection (a loaded client is slow to log) */
#define LIVE_WAIT_BUDGET_NS 250000000L /* at most 250 ms a second, all connections */

/* ---- keystore ---------------------------------------------------------- */

enum { SEC_MASTER, SEC_CHS, SEC_SHS, SEC_CAP, SEC_SAP, SEC_N };

struct ks_entry {
    uint8_t used;
    uint8_t have; /* bit per SEC_* */
    uint8_t random[RANDOM_LEN];
    uint8_t len[SEC_N];
    uint8_t sec[SEC_N][SECRET_MAX];
};

struct sess_entry {
    uint8_t used;
    uint8_t kind; /* 1 session ID, 2 ticket (SHA-256 of it) */
    uint8_t idlen;
    uint8_t id[32];
    uint8_t master[MASTER_LEN];
};

struct lf_keystore {
    struct ks_entry *tab;
    size_t cap, count;
    struct sess_entry *sess;
    size_t sess_count;
    EVP_PKEY *rsa[LF_MAX_RSA_KEYS];
    int nrsa;
    char *keylog_path;
    long long keylog_off; /* bytes of the key log consumed (complete lines) */
    size_t keylog_line;   /* lines consumed */
    size_t bad_lines, ignored_lines, rsa_mismatch, rsa_ok, unsupported;
    /* collected while one pass reads a file, reported once */
    size_t pass_bad, pass_shown[BAD_LINES_SHOWN];
    time_t budget_second; /* live waits: the second being budgeted and what it used */
    long budget_used_ns;
};

struct lf_keystore *lf_keystore_new(void) { return lf_xcalloc(1, sizeof(struct lf_keystore)); }

void lf_keystore_free(struct lf_keystore *ks)
{
    if (!ks)
        return;
    if (ks->tab) {
        OPENSSL_cleanse(ks->tab, ks->cap * sizeof *ks->tab);
        free(ks->tab);
    }
    if (ks->sess) {
        OPENSSL_cleanse(ks->sess, SESS_CAP * sizeof *ks->sess);
        free(ks->sess);
    }
    for (int i = 0; i < ks->nrsa; i++)
        EVP_PKEY_free(ks->rsa[i]);
    free(ks->keylog_path);
    free(ks);
}

static struct ks_entry *ks_find(const struct lf_keystore *ks, const uint8_t *random)
{
    if (!ks->cap)
        return NULL;
    size_t mask = ks->cap - 1;
    for (size_t i = lf_fnv(LF_FNV_SEED, random, RANDOM_LEN) & mask;; i = (i + 1) & mask) {
        struct ks_entry *e = &ks->tab[i];
        if (!e->used)
            return NULL;
        if (!memcmp(e->random, random, RANDOM_LEN))
            return e;
    }
}

static struct ks_entry *ks_slot(struct lf_keystore *ks, const uint8_t *random)
{
    struct ks_entry *e = ks_find(ks, random);
    if (e)
        return e;
    if ((ks->count + 1) * 2 > ks->cap) {
        size_t ncap = ks->cap ? ks->cap * 2 : 256;
        struct ks_entry *nt = lf_xcalloc(ncap, sizeof *nt);
        for (size_t i = 0; i < ks->cap; i++) {
            if (!ks->tab[i].used)
                continue;
            size_t j = lf_fnv(LF_FNV_SEED, ks->tab[i].random, RANDOM_LEN) & (ncap - 1);
            while (nt[j].used)
                j = (j + 1) & (ncap - 1);
            nt[j] = ks->tab[i];
        }
        if (ks->tab) {
            OPENSSL_cleanse(ks->tab, ks->cap * sizeof *ks->tab);
            free(ks->tab);
        }
        ks->tab = nt;
        ks->cap = ncap;
    }
    size_t mask = ks->cap - 1;
    size_t i = lf_fnv(LF_FNV_SEED, random, RANDOM_LEN) & mask;
    while (ks->tab[i].used)
        i = (i + 1) & mask;
    e = &ks->tab[i];
    e->used = 1;
    memcpy(e->random, random, RANDOM_LEN);
    ks->count++;
    return e;
}

static struct sess_entry *sess_find(struct lf_keystore *ks, int kind, const uint8_t *id, size_t idlen, int create)
{
    if (idlen == 0 || idlen > 32)
        return NULL;
    if (!ks->sess) {
        if (!create)
            return NULL;
        ks->sess = lf_xcalloc(SESS_CAP, sizeof *ks->sess);
    }
    uint64_t h = lf_fnv(LF_FNV_SEED, id, idlen) ^ (uint64_t)kind;
    for (size_t i = h & (SESS_CAP - 1);; i = (i + 1) & (SESS_CAP - 1)) {
        struct sess_entry *e = &ks->sess[i];
        if (!e->used) {
            if (!create)
                return NULL;
            if ((ks->sess_count + 1) * 2 > SESS_CAP) {
                OPENSSL_cleanse(ks->sess, SESS_CAP * sizeof *ks->sess);
                ks->sess_count = 0;
                return sess_find(ks, kind, id, idlen, create);
            }
            e->used = 1;
            e->kind = (uint8_t)kind;
            e->idlen = (uint8_t)idlen;
            memcpy(e->id, id, idlen);
            ks->sess_count++;
            return e;
        }
        if (e->kind == kind && e->idlen == idlen && !memcmp(e->id, id, idlen))
            return e;
    }
}

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
    struct ks_entry *e = ks_slot(ks, random);
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
static const struct ks_entry *ks_lookup(struct lf_keystore *ks, const uint8_t *random, unsigned mask)
{
    const struct ks_entry *e = ks_find(ks, random);
    if (e && (e->have & mask) == mask)
        return e;
    keylog_refresh(ks);
    e = ks_find(ks, random);
    return e && (e->have & mask) == mask ? e : NULL;
}

/* ks_lookup, and when the key log is being written, a short wait for the
 * secret; *waited_ns is the connection's share, kept by the caller. */
static const struct ks_entry *ks_lookup_live(struct lf_keystore *ks, const uint8_t *random, unsigned mask,
                                             long *waited_ns)
{
    const struct ks_entry *e = ks_lookup(ks, random, mask);
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
        e = ks_lookup(ks, random, mask);
    }
    return e;
}

size_t lf_keystore_bad_lines(const struct lf_keystore *ks) { return ks ? ks->bad_lines : 0; }
size_t lf_keystore_ignored_lines(const struct lf_keystore *ks) { return ks ? ks->ignored_lines : 0; }
size_t lf_keystore_secrets(const struct lf_keystore *ks) { return ks ? ks->count : 0; }
size_t lf_keystore_rsa_mismatches(const struct lf_keystore *ks) { return ks ? ks->rsa_mismatch : 0; }
size_t lf_keystore_rsa_decrypted(const struct lf_keystore *ks) { return ks ? ks->rsa_ok : 0; }
size_t lf_keystore_unsupported(const struct lf_keystore *ks) { return ks ? ks->unsupported : 0; }

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

/* ---- RSA keys ---------------------------------------------------------- */

static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

int lf_keystore_add_rsa(struct lf_keystore *ks, const char *pem_path, char *err, size_t errsize)
{
    if (ks->nrsa == LF_MAX_RSA_KEYS) {
        snprintf(err, errsize, "%s: at most %d RSA keys", pem_path, LF_MAX_RSA_KEYS);
        return -1;
    }
    FILE *f = fopen(pem_path, "rb");
    if (!f) {
        snprintf(err, errsize, "%s: %s", pem_path, strerror(errno));
        return -1;
    }
    EVP_PKEY *pk = PEM_read_PrivateKey(f, NULL, no_password, NULL);
    fclose(f);
    ERR_clear_error();
    if (!pk) {
        snprintf(err, errsize, "%s: not a PEM private key (or it is encrypted)", pem_path);
        return -1;
    }
    if (!EVP_PKEY_is_a(pk, "RSA") || EVP_PKEY_get_size(pk) > RSA_OUT_MAX) {
        snprintf(err, errsize, "%s: not an RSA private key", pem_path);
        EVP_PKEY_free(pk);
        return -1;
    }
    ks->rsa[ks->nrsa++] = pk;
    return 0;
}

/* PKCS#1 v1.5 decryption of an encrypted pre-master secret; 0 and the 48
 * bytes when it decrypts and carries one of the two versions. */
static int rsa_pms(EVP_PKEY *pk, const uint8_t *enc, size_t elen, uint16_t v1, uint16_t v2, uint8_t *pms)
{
    uint8_t out[RSA_OUT_MAX];
    size_t olen = sizeof out;
    int ok = 0;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    if (ctx && EVP_PKEY_decrypt_init(ctx) > 0 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0) {
        /* OpenSSL 3.2+ would otherwise answer a wrong key with random bytes */
        EVP_PKEY_CTX_ctrl_str(ctx, "rsa_pkcs1_implicit_rejection", "0");
        if (EVP_PKEY_decrypt(ctx, out, &olen, enc, elen) > 0 && olen == MASTER_LEN) {
            struct lf_cur c = lf_cur_make(out, olen);
            uint16_t v = lf_cur_u16(&c);
            if (v == v1 || v == v2) {
                memcpy(pms, out, MASTER_LEN);
                ok = 1;
            }
        }
    }
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    OPENSSL_cleanse(out, sizeof out);
    return ok ? 0 : -1;
}

/* ---- key schedules ----------------------------------------------------- */

int lf_tls12_prf(const char *digest, const uint8_t *secret, size_t slen, const char *label, const uint8_t *seed,
                 size_t seedlen, uint8_t *out, size_t outlen)
{
    uint8_t buf[256];
    size_t llen = strlen(label);
    if (llen + seedlen > sizeof buf)
        return -1;
    memcpy(buf, label, llen);
    if (seedlen)
        memcpy(buf + llen, seed, seedlen);
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM p[4];
    p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
    p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, slen);
    p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, buf, llen + seedlen);
    p[3] = OSSL_PARAM_construct_end();
    int ok = ctx && EVP_KDF_derive(ctx, out, outlen, p) > 0;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    ERR_clear_error();
    return ok ? 0 : -1;
}

int lf_tls13_expand_label(const char *digest, const uint8_t *secret, size_t slen, const char *label,
                          const uint8_t *ctx, size_t ctxlen, uint8_t *out, size_t outlen)
{
    uint8_t info[2 + 1 + 255 + 1 + 255];
    size_t llen = strlen(label);
    if (6 + llen > 255 || ctxlen > 255 || outlen > 0xffff)
        return -1;
    size_t o = 0;
    info[o++] = (uint8_t)(outlen >> 8);
    info[o++] = (uint8_t)outlen;
    info[o++] = (uint8_t)(6 + llen);
    memcpy(info + o, "tls13 ", 6);
    o += 6;
    memcpy(info + o, label, llen);
    o += llen;
    info[o++] = (uint8_t)ctxlen;
    if (ctxlen)
        memcpy(info + o, ctx, ctxlen);
    o += ctxlen;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM p[5];
    p[0] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    p[1] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
    p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, slen);
    p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, o);
    p[4] = OSSL_PARAM_construct_end();
    int ok = kc && EVP_KDF_derive(kc, out, outlen, p) > 0;
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(kdf);
    ERR_clear_error();
    return ok ? 0 : -1;
}

/* ---- cipher suites ----------------------------------------------------- */

enum kind { K_GCM, K_CHACHA, K_CBC };

struct suite {
    uint16_t id;
    uint8_t rsa_kx; /* TLS_RSA_WITH_*: the pre-master secret travels RSA-encrypted */
    uint8_t kind;
    uint8_t keylen;
    uint8_t maclen; /* CBC only */
    const char *hash; /* PRF / HKDF hash */
    const char *mac;  /* CBC HMAC hash */
};

static const struct suite suites[] = {
    {0x1301, 0, K_GCM, 16, 0, "SHA256", NULL},
    {0x1302, 0, K_GCM, 32, 0, "SHA384", NULL},
    {0x1303, 0, K_CHACHA, 32, 0, "SHA256", NULL},
    /* RSA key exchange */
    {0x002F, 1, K_CBC, 16, 20, "SHA256", "SHA1"},
    {0x0035, 1, K_CBC, 32, 20, "SHA256", "SHA1"},
    {0x003C, 1, K_CBC, 16, 32, "SHA256", "SHA256"},
    {0x003D, 1, K_CBC, 32, 32, "SHA256", "SHA256"},
    {0x009C, 1, K_GCM, 16, 0, "SHA256", NULL},
    {0x009D, 1, K_GCM, 32, 0, "SHA384", NULL},
    /* DHE_RSA */
    {0x0033, 0, K_CBC, 16, 20, "SHA256", "SHA1"},
    {0x0039, 0, K_CBC, 32, 20, "SHA256", "SHA1"},
    {0x0067, 0, K_CBC, 16, 32, "SHA256", "SHA256"},
    {0x006B, 0, K_CBC, 32, 32, "SHA256", "SHA256"},
    {0x009E, 0, K_GCM, 16, 0, "SHA256", NULL},
    {0x009F, 0, K_GCM, 32, 0, "SHA384", NULL},
    {0xCCAA, 0, K_CHACHA, 32, 0, "SHA256", NULL},
    /* ECDHE_ECDSA */
    {0xC009, 0, K_CBC, 16, 20, "SHA256", "SHA1"},
    {0xC00A, 0, K_CBC, 32, 20, "SHA256", "SHA1"},
    {0xC023, 0, K_CBC, 16, 32, "SHA256", "SHA256"},
    {0xC024, 0, K_CBC, 32, 48, "SHA384", "SHA384"},
    {0xC02B, 0, K_GCM, 16, 0, "SHA256", NULL},
    {0xC02C, 0, K_GCM, 32, 0, "SHA384", NULL},
    {0xCCA9, 0, K_CHACHA, 32, 0, "SHA256", NULL},
    /* ECDHE_RSA */
    {0xC013, 0, K_CBC, 16, 20, "SHA256", "SHA1"},
    {0xC014, 0, K_CBC, 32, 20, "SHA256", "SHA1"},
    {0xC027, 0, K_CBC, 16, 32, "SHA256", "SHA256"},
    {0xC028, 0, K_CBC, 32, 48, "SHA384", "SHA384"},
    {0xC02F, 0, K_GCM, 16, 0, "SHA256", NULL},
    {0xC030, 0, K_GCM, 32, 0, "SHA384", NULL},
    {0xCCA8, 0, K_CHACHA, 32, 0, "SHA256", NULL},
};

static const struct suite *suite_find(uint16_t id)
{
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (suites[i].id == id)
            return &suites[i];
    return NULL;
}

static const EVP_CIPHER *suite_cipher(const struct suite *s)
{
    switch (s->kind) {
    case K_GCM: return s->keylen == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
    case K_CHACHA: return EVP_chacha20_poly1305();
    default: return s->keylen == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
    }
}

static size_t suite_hashlen(const struct suite *s) { return strcmp(s->hash, "SHA384") ? 32 : 48; }

/* ---- per connection ---------------------------------------------------- */

#define V_TLS10 0x0301
#define V_TLS11 0x0302
#define V_TLS12 0x0303
#define V_TLS13 0x0304

struct dirstate {
    /* what the keys were made for: a renegotiation changes the connection's
     * suite before it changes the keys */
    const struct suite *cs;
    uint16_t version;
    uint8_t etm;
    EVP_CIPHER_CTX *cc;
    EVP_MAC_CTX *mac;
    uint8_t active;  /* keys installed */
    uint8_t ccs;     /* TLS <= 1.2: ChangeCipherSpec seen */
    uint8_t phase;   /* TLS 1.3: 0 none, 1 handshake keys, 2 application keys */
    uint8_t iv[16];  /* GCM salt (4), ChaCha/1.3 nonce base (12), TLS 1.0 CBC chain (16) */
    uint64_t seq;
    uint8_t secret[SECRET_MAX]; /* TLS 1.3 current traffic secret */
    uint8_t secret_len;
    uint8_t opened; /* a record of the current keys verified */
};

struct lf_tlsdec {
    struct lf_keystore *ks;
    const struct suite *suite;
    uint16_t client_version, version, cipher;
    uint8_t ch_seen, sh_seen, hrr, tls13, ems, etm, cke_seen, dead, has_master;
    uint8_t early; /* the ClientHello offered 0-RTT data */
    uint8_t client_random[RANDOM_LEN], server_random[RANDOM_LEN];
    uint8_t sid[32], sid_len, sh_sid[32], sh_sid_len;
    uint8_t ticket[32], has_ticket;
    uint8_t master[MASTER_LEN];
    int rsa_key; /* -1 not known, -2 the certificate matches no key, else the index */
    long waited_ns; /* spent waiting for a live key log */
    uint32_t failures;
    uint8_t *ch;  /* the ClientHello, kept until the ServerHello says whether EMS needs it */
    size_t ch_len;
    EVP_MD_CTX *th[2]; /* the session hash for EMS (MD5 and SHA-1 before TLS 1.2) */
    struct dirstate d[2];
};

struct lf_tlsdec *lf_tlsdec_new(struct lf_keystore *ks)
{
    if (!ks || (!ks->count && !ks->nrsa && !ks->keylog_path))
        return NULL;
    struct lf_tlsdec *d = lf_xcalloc(1, sizeof *d);
    d->ks = ks;
    d->rsa_key = -1;
    return d;
}

static void transcript_free(struct lf_tlsdec *d)
{
    for (int i = 0; i < 2; i++) {
        EVP_MD_CTX_free(d->th[i]);
        d->th[i] = NULL;
    }
    free(d->ch);
    d->ch = NULL;
    d->ch_len = 0;
}

void lf_tlsdec_free(struct lf_tlsdec *d)
{
    if (!d)
        return;
    for (int i = 0; i < 2; i++) {
        EVP_CIPHER_CTX_free(d->d[i].cc);
        EVP_MAC_CTX_free(d->d[i].mac);
    }
    transcript_free(d);
    OPENSSL_cleanse(d, sizeof *d);
    free(d);
}

static void transcript_add(struct lf_tlsdec *d, const uint8_t *msg, size_t len)
{
    for (int i = 0; i < 2; i++)
        if (d->th[i] && EVP_DigestUpdate(d->th[i], msg, len) <= 0) {
            transcript_free(d);
            return;
        }
}

/* Starts the EMS session hash at the ServerHello when the RSA key exchange needs it. */
static void transcript_start(struct lf_tlsdec *d, const uint8_t *sh, size_t shlen)
{
    if (!d->ch || !d->suite || !d->suite->rsa_kx || !d->ks->nrsa || d->tls13) {
        transcript_free(d);
        return;
    }
    const char *names[2] = {d->suite->hash, NULL};
    if (d->version < V_TLS12) {
        names[0] = "MD5";
        names[1] = "SHA1";
    }
    for (int i = 0; i < 2 && names[i]; i++) {
        d->th[i] = EVP_MD_CTX_new();
        if (!d->th[i] || EVP_DigestInit_ex(d->th[i], EVP_get_digestbyname(names[i]), NULL) <= 0) {
            ERR_clear_error();
            transcript_free(d);
            return;
        }
    }
    uint8_t *ch = d->ch;
    size_t chlen = d->ch_len;
    d->ch = NULL;
    transcript_add(d, ch, chlen);
    free(ch);
    transcript_add(d, sh, shlen);
}

static const char *prf_digest(const struct lf_tlsdec *d) { return d->version < V_TLS12 ? "MD5-SHA1" : d->suite->hash; }

static void remember_session(struct lf_tlsdec *d)
{
    if (!d->has_master)
        return;
    struct sess_entry *e = sess_find(d->ks, 1, d->sh_sid, d->sh_sid_len, 1);
    if (e)
        memcpy(e->master, d->master, MASTER_LEN);
}

/* TLS_RSA: the master secret from the ClientKeyExchange's encrypted pre-master secret. */
static void rsa_master(struct lf_tlsdec *d, struct lf_cur body)
{
    struct lf_keystore *ks = d->ks;
    size_t elen = lf_cur_left(&body);
    if (d->version >= V_TLS10) {
        elen = lf_cur_u16(&body);
        if (!lf_cur_ok(&body) || elen != lf_cur_left(&body))
            return;
    }
    const uint8_t *enc = lf_cur_ptr(&body);
    uint8_t pms[MASTER_LEN];
    int found = -1;
    for (int i = 0; i < ks->nrsa && found < 0; i++) {
        if (d->rsa_key >= 0 && d->rsa_key != i)
            continue;
        if (d->rsa_key == -2)
            break;
        if (rsa_pms(ks->rsa[i], enc, elen, d->client_version, d->version, pms) == 0)
            found = i;
    }
    if (found < 0) {
        ks->rsa_mismatch++;
        transcript_free(d);
        return;
    }
    ks->rsa_ok++;
    int ok;
    if (d->ems) {
        uint8_t hash[EVP_MAX_MD_SIZE * 2];
        unsigned hl = 0, h2 = 0;
        ok = d->th[0] && EVP_DigestFinal_ex(d->th[0], hash, &hl) > 0 &&
             (!d->th[1] || EVP_DigestFinal_ex(d->th[1], hash + hl, &h2) > 0);
        ok = ok && lf_tls12_prf(prf_digest(d), pms, MASTER_LEN, "extended master secret", hash, hl + h2, d->master,
                                MASTER_LEN) == 0;
    } else {
        uint8_t seed[2 * RANDOM_LEN];
        memcpy(seed, d->client_random, RANDOM_LEN);
        memcpy(seed + RANDOM_LEN, d->server_random, RANDOM_LEN);
        ok = lf_tls12_prf(prf_digest(d), pms, MASTER_LEN, "master secret", seed, sizeof seed, d->master,
                          MASTER_LEN) == 0;
    }
    OPENSSL_cleanse(pms, sizeof pms);
    transcript_free(d);
    if (ok) {
        d->has_master = 1;
        remember_session(d);
    }
}

/* The certificate picks the RSA key: the one whose public half it carries. */
static void match_certificate(struct lf_tlsdec *d, struct lf_cur body)
{
    struct lf_cur list = lf_cur_sub(&body, lf_cur_u24(&body));
    struct lf_cur leaf = lf_cur_sub(&list, lf_cur_u24(&list));
    if (!lf_cur_ok(&leaf) || !lf_cur_left(&leaf) || lf_cur_left(&leaf) > 0x7fffffff)
        return;
    const unsigned char *p = lf_cur_ptr(&leaf);
    X509 *x = d2i_X509(NULL, &p, (long)lf_cur_left(&leaf));
    EVP_PKEY *pub = x ? X509_get0_pubkey(x) : NULL;
    if (pub) {
        d->rsa_key = -2;
        for (int i = 0; i < d->ks->nrsa; i++)
            if (EVP_PKEY_eq(d->ks->rsa[i], pub) == 1) {
                d->rsa_key = i;
                break;
            }
    }
    X509_free(x);
    ERR_clear_error();
}

/* The master secret (TLS <= 1.2): the key log, else a resumed session's. */
static int ensure_master(struct lf_tlsdec *d)
{
    if (d->has_master)
        return 1;
    if (!d->ch_seen || !d->sh_seen)
        return 0;
    const struct ks_entry *e = ks_lookup(d->ks, d->client_random, 1u << SEC_MASTER);
    if (e) {
        memcpy(d->master, e->sec[SEC_MASTER], MASTER_LEN);
        d->has_master = 1;
        return 1;
    }
    if (d->cke_seen)
        return 0;
    const struct sess_entry *s = NULL;
    if (d->sh_sid_len && d->sh_sid_len == d->sid_len && !memcmp(d->sh_sid, d->sid, d->sid_len))
        s = sess_find(d->ks, 1, d->sid, d->sid_len, 0);
    if (!s && d->has_ticket)
        s = sess_find(d->ks, 2, d->ticket, sizeof d->ticket, 0);
    if (!s)
        return 0;
    memcpy(d->master, s->master, MASTER_LEN);
    d->has_master = 1;
    return 1;
}

static int cipher_setup(struct lf_tlsdec *d, struct dirstate *s, const uint8_t *key)
{
    s->cs = d->suite;
    s->version = d->version;
    s->etm = d->etm;
    if (!s->cc && !(s->cc = EVP_CIPHER_CTX_new()))
        return -1;
    if (EVP_DecryptInit_ex(s->cc, suite_cipher(d->suite), NULL, key, NULL) <= 0) {
        ERR_clear_error();
        return -1;
    }
    if (d->suite->kind == K_CBC)
        EVP_CIPHER_CTX_set_padding(s->cc, 0);
    return 0;
}

/* TLS <= 1.2: keys for dir from the master secret (RFC 5246 6.3). */
static int install12(struct lf_tlsdec *d, int dir)
{
    struct dirstate *s = &d->d[dir];
    const struct suite *cs = d->suite;
    size_t mac = cs->kind == K_CBC ? cs->maclen : 0, key = cs->keylen;
    size_t iv = cs->kind == K_GCM ? 4 : cs->kind == K_CHACHA ? 12 : 16;
    uint8_t kb[2 * (48 + 32 + 16)], seed[2 * RANDOM_LEN];
    memcpy(seed, d->server_random, RANDOM_LEN);
    memcpy(seed + RANDOM_LEN, d->client_random, RANDOM_LEN);
    if (lf_tls12_prf(prf_digest(d), d->master, MASTER_LEN, "key expansion", seed, sizeof seed, kb,
                     2 * (mac + key + iv)) != 0)
        return -1;
    const uint8_t *mk = kb + (dir ? mac : 0);
    const uint8_t *k = kb + 2 * mac + (dir ? key : 0);
    const uint8_t *ivp = kb + 2 * mac + 2 * key + (dir ? iv : 0);
    int rc = cipher_setup(d, s, k);
    memcpy(s->iv, ivp, iv);
    if (rc == 0 && mac) {
        EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
        EVP_MAC_CTX_free(s->mac);
        s->mac = m ? EVP_MAC_CTX_new(m) : NULL;
        EVP_MAC_free(m);
        OSSL_PARAM p[2] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)cs->mac, 0),
                           OSSL_PARAM_construct_end()};
        if (!s->mac || EVP_MAC_init(s->mac, mk, mac, p) <= 0)
            rc = -1;
        ERR_clear_error();
    }
    OPENSSL_cleanse(kb, sizeof kb);
    s->seq = 0;
    s->opened = 0;
    s->active = rc == 0;
    return rc;
}

/* TLS 1.3: keys for dir from its current traffic secret (RFC 8446 7.3). */
static int install13(struct lf_tlsdec *d, int dir)
{
    struct dirstate *s = &d->d[dir];
    uint8_t key[32];
    const char *h = d->suite->hash;
    int rc = -1;
    if (lf_tls13_expand_label(h, s->secret, s->secret_len, "key", NULL, 0, key, d->suite->keylen) == 0 &&
        lf_tls13_expand_label(h, s->secret, s->secret_len, "iv", NULL, 0, s->iv, 12) == 0)
        rc = cipher_setup(d, s, key);
    OPENSSL_cleanse(key, sizeof key);
    s->seq = 0;
    s->opened = 0;
    s->active = rc == 0;
    return rc;
}

/* TLS 1.3: the traffic secret of dir's current phase from the key log. */
static int keys13(struct lf_tlsdec *d, int dir)
{
    struct dirstate *s = &d->d[dir];
    if (s->active)
        return 1;
    if (!s->phase || d->dead)
        return 0;
    int which = s->phase == 1 ? (dir ? SEC_SHS : SEC_CHS) : (dir ? SEC_SAP : SEC_CAP);
    const struct ks_entry *e = ks_lookup_live(d->ks, d->client_random, 1u << which, &d->waited_ns);
    if (!e || e->len[which] != suite_hashlen(d->suite))
        return 0;
    memcpy(s->secret, e->sec[which], e->len[which]);
    s->secret_len = e->len[which];
    return install13(d, dir) == 0;
}

static int keys12(struct lf_tlsdec *d, int dir)
{
    struct dirstate *s = &d->d[dir];
    if (s->active)
        return 1;
    if (!s->ccs || d->dead || !ensure_master(d))
        return 0;
    return install12(d, dir) == 0;
}

static void parse_client_hello(struct lf_tlsdec *d, struct lf_cur b, const uint8_t *msg, size_t len)
{
    uint16_t ver = lf_cur_u16(&b);
    uint8_t random[RANDOM_LEN];
    lf_cur_copy(&b, random, RANDOM_LEN);
    uint8_t sidl = lf_cur_u8(&b);
    if (sidl > 32 || !lf_cur_ok(&b))
        return;
    int second = d->hrr && d->ch_seen; /* the ClientHello after a HelloRetryRequest */
    if (!second) {
        /* a new handshake (the first, or a renegotiation) */
        d->sh_seen = d->hrr = d->tls13 = d->ems = d->etm = d->cke_seen = d->has_master = d->has_ticket = 0;
        d->early = 0;
        d->rsa_key = -1;
        d->suite = NULL;
        OPENSSL_cleanse(d->master, sizeof d->master);
        transcript_free(d);
    }
    d->ch_seen = 1;
    d->client_version = ver;
    memcpy(d->client_random, random, RANDOM_LEN);
    d->sid_len = sidl;
    lf_cur_copy(&b, d->sid, sidl);
    lf_cur_skip(&b, lf_cur_u16(&b));
    lf_cur_skip(&b, lf_cur_u8(&b));
    struct lf_cur ext = lf_cur_sub(&b, lf_cur_u16(&b));
    while (lf_cur_ok(&ext) && lf_cur_left(&ext) >= 4) {
        uint16_t type = lf_cur_u16(&ext);
        struct lf_cur e = lf_cur_sub(&ext, lf_cur_u16(&ext));
        if (type == 0x002a)
            d->early = 1;
        if (type == 0x0023 && lf_cur_left(&e)) {
            unsigned hl = 0;
            if (EVP_Digest(lf_cur_ptr(&e), lf_cur_left(&e), d->ticket, &hl, EVP_sha256(), NULL) > 0 && hl == 32)
                d->has_ticket = 1;
        }
    }
    if (d->ks->nrsa && !second && len <= CH_BUF_MAX) {
        d->ch = lf_xmalloc(len);
        memcpy(d->ch, msg, len);
        d->ch_len = len;
    }
}

static const uint8_t hrr_random[RANDOM_LEN] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

static void parse_server_hello(struct lf_tlsdec *d, struct lf_cur b, const uint8_t *msg, size_t len)
{
    if (!d->ch_seen || d->sh_seen)
        return;
    uint16_t ver = lf_cur_u16(&b);
    uint8_t random[RANDOM_LEN];
    lf_cur_copy(&b, random, RANDOM_LEN);
    uint8_t sidl = lf_cur_u8(&b);
    if (sidl > 32)
        return;
    uint8_t sid[32];
    lf_cur_copy(&b, sid, sidl);
    uint16_t cipher = lf_cur_u16(&b);
    lf_cur_skip(&b, 1);
    if (!lf_cur_ok(&b))
        return;
    int ems = 0, etm = 0;
    struct lf_cur ext = lf_cur_sub(&b, lf_cur_u16(&b));
    while (lf_cur_ok(&ext) && lf_cur_left(&ext) >= 4) {
        uint16_t type = lf_cur_u16(&ext);
        struct lf_cur e = lf_cur_sub(&ext, lf_cur_u16(&ext));
        if (type == 0x002b && lf_cur_left(&e) == 2)
            ver = lf_cur_u16(&e);
        else if (type == 0x0017)
            ems = 1;
        else if (type == 0x0016)
            etm = 1;
    }
    if (!memcmp(random, hrr_random, RANDOM_LEN)) {
        d->hrr = 1;
        transcript_free(d);
        return;
    }
    d->sh_seen = 1;
    d->version = ver;
    d->cipher = cipher;
    memcpy(d->server_random, random, RANDOM_LEN);
    d->sh_sid_len = sidl;
    memcpy(d->sh_sid, sid, sidl);
    d->suite = suite_find(cipher);
    d->tls13 = ver == V_TLS13;
    d->ems = ems;
    d->etm = etm && d->suite && d->suite->kind == K_CBC;
    int suite13 = d->suite && d->suite->id >= 0x1301 && d->suite->id <= 0x1303;
    if (!d->suite || d->tls13 != suite13 ||
        ver < V_TLS10 || ver > V_TLS13) {
        d->dead = 1;
        d->ks->unsupported++;
        transcript_free(d);
        return;
    }
    d->dead = 0;
    if (d->tls13) {
        transcript_free(d);
        for (int i = 0; i < 2; i++) {
            d->d[i].phase = 1;
            d->d[i].active = 0;
            keys13(d, i);
        }
        return;
    }
    transcript_start(d, msg, len);
}

/* TLS 1.3 KeyUpdate: the next generation of dir's traffic secret (RFC 8446 7.2). */
static void key_update(struct lf_tlsdec *d, int dir)
{
    struct dirstate *s = &d->d[dir];
    if (!s->active || s->phase != 2)
        return;
    uint8_t next[SECRET_MAX];
    if (lf_tls13_expand_label(s->cs->hash, s->secret, s->secret_len, "traffic upd", NULL, 0, next,
                              s->secret_len) != 0) {
        s->active = 0;
        return;
    }
    memcpy(s->secret, next, s->secret_len);
    OPENSSL_cleanse(next, sizeof next);
    install13(d, dir);
}

void lf_tlsdec_handshake(struct lf_tlsdec *d, int dir, const uint8_t *msg, size_t len)
{
    if (!d || (dir != 0 && dir != 1) || !msg)
        return;
    struct lf_cur c = lf_cur_make(msg, len);
    uint8_t type = lf_cur_u8(&c);
    struct lf_cur body = lf_cur_sub(&c, lf_cur_u24(&c));
    if (!lf_cur_ok(&body))
        return;
    if (type == 1 && dir == 0) {
        parse_client_hello(d, body, msg, len);
        return;
    }
    if (type == 2 && dir == 1) {
        parse_server_hello(d, body, msg, len);
        return;
    }
    if (!d->sh_seen || d->dead)
        return;
    if (d->tls13) {
        if (type == 20) { /* Finished: this side's application keys follow */
            struct dirstate *s = &d->d[dir];
            s->phase = 2;
            s->active = 0;
            keys13(d, dir);
        } else if (type == 24)
            key_update(d, dir);
        return;
    }
    if (d->th[0] && type != 0 && !d->cke_seen)
        transcript_add(d, msg, len);
    switch (type) {
    case 11:
        if (dir == 1 && d->suite->rsa_kx && d->ks->nrsa && d->rsa_key == -1)
            match_certificate(d, body);
        break;
    case 16:
        if (dir == 0 && !d->cke_seen) {
            d->cke_seen = 1;
            if (d->suite->rsa_kx && d->ks->nrsa && !ks_lookup(d->ks, d->client_random, 1u << SEC_MASTER))
                rsa_master(d, body);
            transcript_free(d);
        }
        break;
    case 4: /* NewSessionTicket: the ticket resumes this master secret */
        if (dir == 1 && ensure_master(d)) {
            lf_cur_skip(&body, 4);
            struct lf_cur t = lf_cur_sub(&body, lf_cur_u16(&body));
            uint8_t h[32];
            unsigned hl = 0;
            if (lf_cur_ok(&t) && lf_cur_left(&t) &&
                EVP_Digest(lf_cur_ptr(&t), lf_cur_left(&t), h, &hl, EVP_sha256(), NULL) > 0 && hl == 32) {
                struct sess_entry *e = sess_find(d->ks, 2, h, 32, 1);
                if (e)
                    memcpy(e->master, d->master, MASTER_LEN);
            }
        }
        break;
    case 20:
        if (dir == 1)
            remember_session(d);
        break;
    }
}

void lf_tlsdec_ccs(struct lf_tlsdec *d, int dir)
{
    if (!d || (dir != 0 && dir != 1) || !d->sh_seen || d->tls13 || d->dead)
        return;
    struct dirstate *s = &d->d[dir];
    s->ccs = 1;
    s->active = 0;
    keys12(d, dir);
}

int lf_tlsdec_encrypted(const struct lf_tlsdec *d, int dir, uint8_t content_type)
{
    if (!d || (dir != 0 && dir != 1))
        return 0;
    if (d->tls13 && d->sh_seen)
        return content_type == 23 && d->d[dir].phase >= 1;
    return d->d[dir].ccs && content_type >= 21 && content_type <= 23;
}

int lf_tlsdec_has_keys(const struct lf_tlsdec *d)
{
    return d && (d->has_master || d->d[0].active || d->d[1].active);
}

uint32_t lf_tlsdec_failures(const struct lf_tlsdec *d) { return d ? d->failures : 0; }

/* ---- records ----------------------------------------------------------- */

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void xor_seq(uint8_t nonce[12], const uint8_t iv[12], uint64_t seq)
{
    uint8_t s[8];
    put_u64(s, seq);
    memcpy(nonce, iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] ^= s[i];
}

/* AEAD open: out gets clen bytes; 0 when the tag verifies. */
static int aead_open(EVP_CIPHER_CTX *cc, const uint8_t *nonce, const uint8_t *aad, size_t aadlen, const uint8_t *ct,
                     size_t clen, const uint8_t *tag, uint8_t *out)
{
    int n = 0, m = 0;
    if (EVP_DecryptInit_ex(cc, NULL, NULL, NULL, nonce) <= 0 ||
        EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, (void *)tag) <= 0 ||
        EVP_DecryptUpdate(cc, NULL, &n, aad, (int)aadlen) <= 0 ||
        (clen && EVP_DecryptUpdate(cc, out, &n, ct, (int)clen) <= 0) || EVP_DecryptFinal_ex(cc, out + n, &m) <= 0) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}

static void aad12(uint8_t aad[13], uint64_t seq, uint8_t type, uint16_t version, size_t len)
{
    put_u64(aad, seq);
    aad[8] = type;
    aad[9] = (uint8_t)(version >> 8);
    aad[10] = (uint8_t)version;
    aad[11] = (uint8_t)(len >> 8);
    aad[12] = (uint8_t)len;
}

static int hmac_check(struct dirstate *s, const uint8_t hdr[13], const uint8_t *data, size_t dlen,
                      const uint8_t *want, size_t maclen)
{
    uint8_t got[EVP_MAX_MD_SIZE];
    size_t glen = 0;
    if (EVP_MAC_init(s->mac, NULL, 0, NULL) <= 0 || EVP_MAC_update(s->mac, hdr, 13) <= 0 ||
        (dlen && EVP_MAC_update(s->mac, data, dlen) <= 0) || EVP_MAC_final(s->mac, got, &glen, sizeof got) <= 0) {
        ERR_clear_error();
        return -1;
    }
    return glen == maclen && CRYPTO_memcmp(got, want, maclen) == 0 ? 0 : -1;
}

static int cbc_decrypt(struct dirstate *s, const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out)
{
    int n = 0, m = 0;
    if (EVP_DecryptInit_ex(s->cc, NULL, NULL, NULL, iv) <= 0 || EVP_DecryptUpdate(s->cc, out, &n, in, (int)len) <= 0 ||
        EVP_DecryptFinal_ex(s->cc, out + n, &m) <= 0 || (size_t)(n + m) != len) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}

/* A valid TLS CBC padding at the end of p[0..n): the unpadded length, or -1. */
static long cbc_unpad(const uint8_t *p, size_t n)
{
    if (!n)
        return -1;
    struct lf_cur c = lf_cur_make(p, n);
    lf_cur_skip(&c, n - 1);
    size_t pad = lf_cur_u8(&c);
    if (pad + 1 > n)
        return -1;
    c = lf_cur_make(p, n);
    lf_cur_skip(&c, n - pad - 1);
    for (size_t i = 0; i <= pad; i++)
        if (lf_cur_u8(&c) != pad)
            return -1;
    return (long)(n - pad - 1);
}

static enum lf_dec open_cbc(struct dirstate *s, uint64_t seq, uint8_t type, uint16_t rv, const uint8_t *in, size_t len,
                            uint8_t *out, size_t *outlen)
{
    size_t maclen = s->cs->maclen, bs = 16;
    int explicit_iv = s->version >= V_TLS11;
    uint8_t hdr[13], iv[16];
    struct lf_cur c = lf_cur_make(in, len);
    size_t clen = len;
    if (s->etm) {
        if (len < maclen)
            return LF_DEC_FAIL;
        clen = len - maclen;
        struct lf_cur ct = lf_cur_sub(&c, clen);
        aad12(hdr, seq, type, rv, clen);
        if (hmac_check(s, hdr, lf_cur_ptr(&ct), clen, lf_cur_ptr(&c), maclen) != 0)
            return LF_DEC_FAIL;
        c = ct;
    }
    if (clen % bs || clen < (explicit_iv ? 2 : 1) * bs)
        return LF_DEC_FAIL;
    if (explicit_iv)
        lf_cur_copy(&c, iv, bs);
    else
        memcpy(iv, s->iv, bs);
    size_t dlen = lf_cur_left(&c);
    const uint8_t *data = lf_cur_ptr(&c);
    if (!explicit_iv) { /* TLS 1.0: the last ciphertext block is the next IV */
        struct lf_cur last = c;
        lf_cur_skip(&last, dlen - bs);
        lf_cur_copy(&last, s->iv, bs);
    }
    if (cbc_decrypt(s, iv, data, dlen, out) != 0)
        return LF_DEC_FAIL;
    long plen = cbc_unpad(out, dlen);
    if (plen < 0)
        return LF_DEC_FAIL;
    if (!s->etm) {
        if ((size_t)plen < maclen)
            return LF_DEC_FAIL;
        size_t n = (size_t)plen - maclen;
        aad12(hdr, seq, type, rv, n);
        struct lf_cur pc = lf_cur_make(out, (size_t)plen);
        struct lf_cur content = lf_cur_sub(&pc, n);
        if (hmac_check(s, hdr, lf_cur_ptr(&content), n, lf_cur_ptr(&pc), maclen) != 0)
            return LF_DEC_FAIL;
        plen = (long)n;
    }
    *outlen = (size_t)plen;
    return LF_DEC_OK;
}

enum lf_dec lf_tlsdec_record(struct lf_tlsdec *d, int dir, uint8_t content_type, uint16_t record_version,
                             const uint8_t *in, size_t len, uint8_t *out, size_t *outlen, uint8_t *inner_type)
{
    if (!d || (dir != 0 && dir != 1) || !in || !out || len > 0xffff)
        return LF_DEC_NOKEY;
    struct dirstate *s = &d->d[dir];
    if (!(d->tls13 ? keys13(d, dir) : keys12(d, dir)))
        return LF_DEC_NOKEY;
    uint64_t seq = s->seq++;
    enum lf_dec r = LF_DEC_FAIL;
    *outlen = 0;
    *inner_type = content_type;
    struct lf_cur c = lf_cur_make(in, len);
    if (s->version == V_TLS13) {
        if (len < TAG_LEN + 1)
            goto done;
        uint8_t nonce[12], aad[5] = {content_type, (uint8_t)(record_version >> 8), (uint8_t)record_version,
                                     (uint8_t)(len >> 8), (uint8_t)len};
        xor_seq(nonce, s->iv, seq);
        struct lf_cur ct = lf_cur_sub(&c, len - TAG_LEN);
        if (aead_open(s->cc, nonce, aad, sizeof aad, lf_cur_ptr(&ct), lf_cur_left(&ct), lf_cur_ptr(&c), out) != 0)
            goto done;
        /* TLSInnerPlaintext: content, type, zero padding */
        struct lf_cur p = lf_cur_make(out, len - TAG_LEN);
        size_t n = len - TAG_LEN;
        while (n) {
            struct lf_cur t = p;
            lf_cur_skip(&t, n - 1);
            uint8_t b = lf_cur_u8(&t);
            n--;
            if (b) {
                *inner_type = b;
                *outlen = n;
                r = LF_DEC_OK;
                break;
            }
        }
        goto done;
    }
    if (s->cs->kind == K_CBC) {
        r = open_cbc(s, seq, content_type, record_version, in, len, out, outlen);
        goto done;
    }
    size_t explicit_nonce = s->cs->kind == K_GCM ? 8 : 0;
    if (len < explicit_nonce + TAG_LEN)
        goto done;
    uint8_t nonce[12], aad[13];
    if (s->cs->kind == K_GCM) {
        memcpy(nonce, s->iv, 4);
        lf_cur_copy(&c, nonce + 4, 8);
    } else
        xor_seq(nonce, s->iv, seq);
    size_t clen = lf_cur_left(&c) - TAG_LEN;
    struct lf_cur ct = lf_cur_sub(&c, clen);
    aad12(aad, seq, content_type, record_version, clen);
    if (aead_open(s->cc, nonce, aad, sizeof aad, lf_cur_ptr(&ct), clen, lf_cur_ptr(&c), out) == 0) {
        *outlen = clen;
        r = LF_DEC_OK;
    }
done:
    if (r != LF_DEC_OK) {
        d->failures++;
        *outlen = 0;
        /* 0-RTT: an EndOfEarlyData under the early key precedes the client's
         * first handshake record, which keeps sequence number 0 */
        if (d->tls13 && d->early && dir == 0 && s->phase == 1 && !s->opened)
            s->seq = seq;
    } else
        s->opened = 1;
    return r;
}
