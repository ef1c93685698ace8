/* tls.c: TLS record layer and handshake dissector, one tls event per connection (RFC 5246, 8446, 6066, 7301). */
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lyncflow/cursor.h"
#include "lyncflow/dissect.h"
#include "lyncflow/engine.h"
#include "lyncflow/tlsdec.h"
#include "lyncflow/util.h"

#define TLS_REC_MAX (16384 + 2048) /* largest record body (RFC 5246 6.2.3) */
#define TLS_HS_MAX (64 * 1024)     /* largest handshake message kept for parsing */
#define TLS_HS_MIN_CAP 4096
#define TLS_PROBE_MAX 1024          /* plaintext kept while choosing the inner dissector */
#define TLS_RESYNC_MAX (1u << 20)   /* bytes scanned for a record header after gaps */
#define TLS_FAIL_RUN_MAX 8          /* consecutive tag failures before a direction is given up */

enum { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23, CT_HEARTBEAT = 24 };
enum { HS_CLIENT_HELLO = 1, HS_SERVER_HELLO = 2, HS_CERTIFICATE = 11 };
enum {
    EXT_SERVER_NAME = 0x0000,
    EXT_SUPPORTED_GROUPS = 0x000a,
    EXT_EC_POINT_FORMATS = 0x000b,
    EXT_SIGNATURE_ALGORITHMS = 0x000d,
    EXT_ALPN = 0x0010,
    EXT_SUPPORTED_VERSIONS = 0x002b,
    EXT_ECH = 0xfe0d,
};
enum { INNER_UNDECIDED = 0, INNER_CHOSEN, INNER_NONE };

#define TLS_FSZ(f) sizeof(((struct lf_ev_tls *)0)->f)
#define NAMES_MAX (LF_CAP_TEXT + 2) /* a joined list longer than the cap: cut there, marked truncated */

/* SHA-256("HelloRetryRequest"), the ServerHello.random of a HelloRetryRequest (RFC 8446 4.1.3). */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

static const uint8_t h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

extern const struct lf_dissector lf_dissector_tls;

struct tls_dir {
    uint8_t *hs;            /* handshake message reassembly, grows up to TLS_HS_MAX */
    size_t hs_len, hs_cap;
    size_t hs_skip;         /* bytes of an oversize handshake message still to drop */
    size_t rec_skip;        /* body bytes of the current record still to drop */
    size_t resync_scanned;  /* bytes given up while looking for a header after a gap */
    uint32_t fail_run;      /* consecutive records whose tag did not verify */
    uint8_t started;        /* a record (or the SSLv2 hello) was seen */
    uint8_t ccs;            /* ChangeCipherSpec seen from this side */
    uint8_t resync;         /* after a gap: looking for the next record header */
    uint8_t gapped;         /* this direction had a gap */
    uint8_t nodecrypt;      /* decryption of this direction stopped */
    struct lf_bytebuf inner; /* decrypted bytes for the inner dissector */
    uint8_t *probe;         /* decrypted bytes kept until the inner dissector is chosen */
    size_t probe_len;
};

struct tls_state {
    lf_time ts;             /* the tls event's time: the ClientHello's */
    struct tls_dir d[2];
    struct lf_tlsdec *dec;
    uint8_t *plain;         /* one decrypted record (TLS_REC_MAX), allocated with dec */
    const struct lf_dissector *inner;
    void *inner_st;
    struct lf_flowctx ifc;  /* what the inner dissector sees: sni set, decrypted = 1 */
    uint8_t inner_state;
    uint8_t ch_seen, sh_seen, hrr, cert_done, cert_seen, emitted;
    uint8_t decrypted_any, nokey, counted_nokey;
    uint8_t server_spoke;   /* a handshake message from the server was read */
    uint8_t roles_known;    /* the first hello told which side is the client */
    uint8_t swapped;        /* that side is fc's server: the flow's roles are reversed */
    uint16_t version;       /* negotiated, 0 until the ServerHello */
    uint32_t failures;
    uint32_t hs_oversize;   /* handshake messages larger than TLS_HS_MAX, skipped */
    /* The pending tls event, emitted from here: ev.u.tls holds its fields,
     * the fixed part is zero until emit_event sets it. Last, so that the rest
     * of the union after the tls member is never touched. */
    struct lf_event ev;
};

static int is_grease(uint16_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

/* TLS 1.3 and its drafts and variants (0x7fxx, 0xfbxx): everything after the ServerHello is protected. */
static int is_tls13(uint16_t v) { return v >= 0x0304; }

/* The TLS direction of bytes that came in direction dir of the flow. */
static enum lf_dir logical(const struct tls_state *st, enum lf_dir dir) { return (enum lf_dir)(dir ^ st->swapped); }

static int plausible_header(uint8_t type, uint8_t major, uint8_t minor, size_t len)
{
    return type >= CT_CCS && type <= CT_HEARTBEAT && major == 3 && minor <= 4 && len <= TLS_REC_MAX;
}

/* SSLv2-compatible CLIENT-HELLO header (RFC 5246 E.2): 2-byte length with the
 * top bit set, msg_type 1, version 0x0002 or 3.x. Short input: MAYBE. */
static enum lf_probe probe_sslv2(const uint8_t *data, size_t len)
{
    struct lf_cur c = lf_cur_make(data, len);
    if (lf_cur_left(&c) < 2)
        return lf_cur_left(&c) == 0 || (lf_cur_u8(&c) & 0x80) ? LF_PROBE_MAYBE : LF_PROBE_NO;
    uint16_t rlen = lf_cur_u16(&c);
    if (!(rlen & 0x8000) || (rlen & 0x7fff) < 9)
        return LF_PROBE_NO;
    if (lf_cur_left(&c) == 0)
        return LF_PROBE_MAYBE;
    if (lf_cur_u8(&c) != 1)
        return LF_PROBE_NO;
    if (lf_cur_left(&c) == 0)
        return LF_PROBE_MAYBE;
    uint8_t major = lf_cur_u8(&c);
    if (major != 0 && major != 3)
        return LF_PROBE_NO;
    if (lf_cur_left(&c) == 0)
        return LF_PROBE_MAYBE;
    uint8_t minor = lf_cur_u8(&c);
    return (major == 0 && minor == 2) || (major == 3 && minor <= 4) ? LF_PROBE_YES : LF_PROBE_NO;
}

static enum lf_probe tls_probe(const uint8_t *data, size_t len, enum lf_dir dir)
{
    (void)dir;
    struct lf_cur c = lf_cur_make(data, len);
    if (lf_cur_left(&c) == 0)
        return LF_PROBE_MAYBE;
    uint8_t type = lf_cur_u8(&c);
    if (type & 0x80)
        return probe_sslv2(data, len);
    if (type < CT_CCS || type > CT_APPDATA)
        return LF_PROBE_NO;
    if (lf_cur_left(&c) == 0)
        return LF_PROBE_MAYBE;
    if (lf_cur_u8(&c) != 3)
        return LF_PROBE_NO;
    if (lf_cur_left(&c) == 0)
        return LF_PROBE_MAYBE;
    if (lf_cur_u8(&c) > 4)
        return LF_PROBE_NO;
    if (lf_cur_left(&c) < 2)
        return LF_PROBE_MAYBE;
    size_t rlen = lf_cur_u16(&c);
    return rlen > 0 && rlen <= TLS_REC_MAX ? LF_PROBE_YES : LF_PROBE_NO;
}

/* States of ended flows kept for the next ones (a free list chained through
 * inner_st, at most STATE_POOL_MAX), so a run in steady state allocates no
 * state per flow. Capture thread only, like the caches above. */
#define STATE_POOL_MAX 256
static struct tls_state *state_pool;
static size_t state_pool_n;

static void *tls_state_new(struct lf_flowctx *fc)
{
    struct tls_state *st = state_pool;
    if (st) {
        state_pool = st->inner_st;
        state_pool_n--;
    } else {
        st = lf_xcalloc(1, sizeof *st);
    }
    struct lf_text keep = st->ev.text; /* a pooled state's text block serves again */
    memset(st, 0, sizeof *st);
    st->ev.text = keep;
    lf_event_reset(&st->ev, LF_EV_TLS, 0);
    st->dec = lf_tlsdec_new(fc->eng ? fc->eng->keys : NULL);
    if (st->dec)
        st->plain = lf_xmalloc(TLS_REC_MAX);
    size_t cap = fc->eng && fc->eng->cfg.stream_cap ? fc->eng->cfg.stream_cap : (size_t)1 << 20;
    for (int i = 0; i < 2; i++)
        st->d[i].inner.max = cap;
    return st;
}

static void tls_state_free(void *p)
{
    struct tls_state *st = p;
    if (!st)
        return;
    if (st->inner && st->inner_st)
        st->inner->state_free(st->inner_st);
    for (int i = 0; i < 2; i++) {
        free(st->d[i].hs);
        free(st->d[i].probe);
        lf_bytebuf_free(&st->d[i].inner);
    }
    lf_tlsdec_free(st->dec);
    free(st->plain);
    if (state_pool_n < STATE_POOL_MAX) {
        st->inner_st = state_pool;
        state_pool = st;
        state_pool_n++;
        return;
    }
    lf_event_release(&st->ev);
    free(st);
}

/* ---- fingerprints ---------------------------------------------------- */

static const char hexd[] = "0123456789abcdef";

enum { MD_MD5, MD_SHA256 };

/* A digest fetched once for the run (EVP_md5()/EVP_sha256() fetch, under
 * OpenSSL's locks, at every use), or NULL when the provider has none. */
static const EVP_MD *md_get(int which)
{
    static EVP_MD *md[2];
    static int tried[2];
    if (!tried[which]) {
        tried[which] = 1;
        md[which] = EVP_MD_fetch(NULL, which == MD_MD5 ? "MD5" : "SHA256", NULL);
        ERR_clear_error();
    }
    return md[which];
}

/* The one digest context, reset by every EVP_DigestInit_ex2. */
static EVP_MD_CTX *md_ctx(int which)
{
    static EVP_MD_CTX *ctx;
    const EVP_MD *md = md_get(which);
    if (!ctx)
        ctx = EVP_MD_CTX_new();
    if (!ctx || !md || !EVP_DigestInit_ex2(ctx, md, NULL))
        return NULL;
    return ctx;
}

static void hex_encode(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexd[in[i] >> 4];
        out[2 * i + 1] = hexd[in[i] & 15];
    }
    out[2 * n] = 0;
}

/* Digest input gathered in a buffer: one EVP_DigestUpdate per 1 KiB, not one per number. */
struct mdbuf {
    EVP_MD_CTX *md;
    size_t n;
    char b[1024];
};

static void mdb_flush(struct mdbuf *mb)
{
    if (mb->n)
        EVP_DigestUpdate(mb->md, mb->b, mb->n);
    mb->n = 0;
}

static void mdb_put(struct mdbuf *mb, const char *s, size_t n)
{
    if (mb->n + n > sizeof mb->b)
        mdb_flush(mb);
    memcpy(mb->b + mb->n, s, n);
    mb->n += n;
}

/* Appends decimal v to the digest, preceded by sep when not first. */
static void md_dec(struct mdbuf *mb, unsigned v, int *first, char sep)
{
    char buf[8];
    size_t n = 0;
    char tmp[6];
    size_t t = 0;
    if (!*first)
        buf[n++] = sep;
    *first = 0;
    do {
        tmp[t++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && t < sizeof tmp);
    while (t)
        buf[n++] = tmp[--t];
    mdb_put(mb, buf, n);
}

static void md_hex4(struct mdbuf *mb, uint16_t v, int *first)
{
    char buf[5];
    size_t n = 0;
    if (!*first)
        buf[n++] = ',';
    *first = 0;
    buf[n++] = hexd[v >> 12];
    buf[n++] = hexd[(v >> 8) & 15];
    buf[n++] = hexd[(v >> 4) & 15];
    buf[n++] = hexd[v & 15];
    mdb_put(mb, buf, n);
}

/* Where the lists of a ClientHello sit; every cursor here was checked. */
struct ch_view {
    uint16_t legacy_version, max_version;
    struct lf_cur ciphers, exts;
    struct lf_cur groups, points, sigalgs, alpn;
    int has_sni, has_groups, has_points, has_sigalgs, has_alpn;
};

/* JA3 (Salesforce): MD5 of "version,ciphers,extensions,groups,point formats". */
static void compute_ja3(const struct ch_view *v, char *out)
{
    EVP_MD_CTX *md = md_ctx(MD_MD5);
    uint8_t dig[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    int first = 1;
    if (!md)
        return;
    struct mdbuf mb;
    mb.md = md;
    mb.n = 0;
    md_dec(&mb, v->legacy_version, &first, ',');
    mdb_put(&mb, ",", 1);
    struct lf_cur c = v->ciphers;
    first = 1;
    while (lf_cur_left(&c) >= 2) {
        uint16_t x = lf_cur_u16(&c);
        if (!is_grease(x))
            md_dec(&mb, x, &first, '-');
    }
    mdb_put(&mb, ",", 1);
    c = v->exts;
    first = 1;
    while (lf_cur_left(&c) >= 4) {
        uint16_t t = lf_cur_u16(&c);
        lf_cur_skip(&c, lf_cur_u16(&c));
        if (!is_grease(t))
            md_dec(&mb, t, &first, '-');
    }
    mdb_put(&mb, ",", 1);
    c = v->groups;
    first = 1;
    while (v->has_groups && lf_cur_left(&c) >= 2) {
        uint16_t x = lf_cur_u16(&c);
        if (!is_grease(x))
            md_dec(&mb, x, &first, '-');
    }
    mdb_put(&mb, ",", 1);
    c = v->points;
    first = 1;
    while (v->has_points && lf_cur_left(&c) >= 1)
        md_dec(&mb, lf_cur_u8(&c), &first, '-');
    mdb_flush(&mb);
    if (EVP_DigestFinal_ex(md, dig, &dlen) && dlen == 16)
        hex_encode(dig, 16, out);
}

/* Insertion sort: the lists are short (ciphers, extensions), and qsort's
 * indirect compares cost more than the moves. */
static void sort_u16(uint16_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint16_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

static const char *ja4_version(uint16_t v)
{
    switch (v) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002: return "s2";
    case 0xfeff: return "d1";
    case 0xfefd: return "d2";
    case 0xfefc: return "d3";
    }
    return "00";
}

static int is_alnum(uint8_t c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

/* Truncated SHA-256 of the sorted list, optionally followed by "_" and a list in wire order. */
static void ja4_hash(const uint16_t *sorted, size_t n, struct lf_cur *tail, char out[13])
{
    uint8_t dig[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    int first = 1;
    memcpy(out, "000000000000", 13);
    EVP_MD_CTX *md = n ? md_ctx(MD_SHA256) : NULL;
    if (!md)
        return;
    struct mdbuf mb;
    mb.md = md;
    mb.n = 0;
    for (size_t i = 0; i < n; i++)
        md_hex4(&mb, sorted[i], &first);
    if (tail) {
        int tfirst = 1;
        mdb_put(&mb, "_", 1);
        while (lf_cur_left(tail) >= 2) {
            uint16_t x = lf_cur_u16(tail);
            if (!is_grease(x))
                md_hex4(&mb, x, &tfirst);
        }
    }
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    mdb_flush(&mb);
    if (EVP_DigestFinal_ex(md, dig, &dlen) && dlen == 32) {
        hex_encode(dig, 6, hex);
        memcpy(out, hex, 13);
    }
}

/* JA4 (FoxIO): t<version><d|i><ciphers><extensions><alpn>_<cipher hash>_<extension hash>. */
static void compute_ja4(const struct ch_view *v, char *out, size_t size)
{
    size_t nc = lf_cur_left(&v->ciphers) / 2, ne = lf_cur_left(&v->exts) / 4 + 1;
    uint16_t *list = lf_xmalloc((nc > ne ? nc : ne) * sizeof *list);
    size_t n = 0;
    struct lf_cur c = v->ciphers;
    while (lf_cur_left(&c) >= 2) {
        uint16_t x = lf_cur_u16(&c);
        if (!is_grease(x))
            list[n++] = x;
    }
    size_t ciphers = n;
    sort_u16(list, n);
    char bhash[13], chash[13];
    ja4_hash(list, n, NULL, bhash);

    size_t exts = 0;
    n = 0;
    c = v->exts;
    while (lf_cur_left(&c) >= 4) {
        uint16_t t = lf_cur_u16(&c);
        lf_cur_skip(&c, lf_cur_u16(&c));
        if (is_grease(t))
            continue;
        exts++;
        if (t != EXT_SERVER_NAME && t != EXT_ALPN)
            list[n++] = t;
    }
    sort_u16(list, n);
    struct lf_cur sig = v->sigalgs;
    ja4_hash(list, n, v->has_sigalgs && lf_cur_left(&sig) > 0 ? &sig : NULL, chash);
    free(list);

    char alpn[3] = "00";
    if (v->has_alpn) {
        struct lf_cur a = v->alpn;
        struct lf_cur name = lf_cur_sub(&a, lf_cur_u8(&a));
        if (lf_cur_ok(&name) && name.len > 0) {
            uint8_t first = lf_cur_u8(&name), last = first;
            if (lf_cur_left(&name) > 0) {
                lf_cur_skip(&name, lf_cur_left(&name) - 1);
                last = lf_cur_u8(&name);
            }
            if (is_alnum(first) && is_alnum(last)) {
                alpn[0] = (char)first;
                alpn[1] = (char)last;
            } else {
                alpn[0] = hexd[first >> 4];
                alpn[1] = hexd[last & 15];
            }
        }
    }
    snprintf(out, size, "t%s%c%02u%02u%s_%s_%s", ja4_version(v->max_version), v->has_sni ? 'd' : 'i',
             (unsigned)(ciphers > 99 ? 99 : ciphers), (unsigned)(exts > 99 ? 99 : exts), alpn, bhash, chash);
}

/* A proxy's clients run a handful of TLS stacks: JA3 and JA4 are computed once
 * per distinct ClientHello shape (every byte they read, GREASE values folded to
 * one, as both ignore GREASE) and kept in a small direct-mapped cache. */
#define FP_CACHE 64
#define FP_KEY_MAX 1024

struct fp_entry {
    size_t len;
    uint8_t key[FP_KEY_MAX];
    char ja3[sizeof ((struct lf_ev_tls *)0)->ja3];
    char ja4[sizeof ((struct lf_ev_tls *)0)->ja4];
};
static struct fp_entry fp_cache[FP_CACHE];

struct fp_key {
    size_t n;
    int over;
    uint8_t b[FP_KEY_MAX];
};

static void key_put(struct fp_key *k, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    if (k->over || n > sizeof k->b - k->n) {
        k->over = 1;
        return;
    }
    memcpy(k->b + k->n, p, n);
    k->n += n;
}

static void key_u16(struct fp_key *k, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    key_put(k, b, 2);
}

/* GREASE values (0x?a?a, both bytes equal) of a list in the key, folded to
 * 0x0a0a. Eight bytes (four values) at a time are passed over when none of
 * the four is a GREASE value: in each 16-bit lane, the first byte XOR the
 * second and the first byte's low nibble XOR a are all zero only for one. */
static void key_fold(uint8_t *o, size_t n)
{
    const uint64_t lanes = 0x0001000100010001ULL;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, o + i, 8);
        /* per lane (whatever the byte order): one byte XOR the other, and the low nibbles XOR a */
        uint64_t z = ((w ^ (w >> 8)) & (0xff * lanes)) | ((w ^ (0x0a0a * lanes)) & (0x0f * lanes));
        if (!((z - lanes) & ~z & (0x8000 * lanes))) /* no zero lane */
            continue;
        for (size_t j = i; j < i + 8; j += 2)
            if ((o[j] & 0x0f) == 0x0a && o[j] == o[j + 1])
                o[j] = o[j + 1] = 0x0a;
    }
    for (; i + 1 < n; i += 2)
        if ((o[i] & 0x0f) == 0x0a && o[i] == o[i + 1])
            o[i] = o[i + 1] = 0x0a;
}

/* A list of 16-bit values (stride 2) or of extensions (type, skipped body),
 * GREASE folded, preceded by its length. Values are copied as a block and
 * folded in the key; extension types are taken one by one. Inlined: each
 * call site's kind of list is then known. */
static inline __attribute__((always_inline)) void key_list(struct fp_key *k, struct lf_cur c, int exts)
{
    key_u16(k, (uint16_t)lf_cur_left(&c));
    if (k->over)
        return;
    size_t room = sizeof k->b - k->n;
    if (!exts) {
        size_t n = lf_cur_left(&c) & ~(size_t)1;
        if (n > room) {
            k->over = 1;
            return;
        }
        if (n == 0) /* an absent list has no bytes to copy (its cursor is over nothing) */
            return;
        lf_cur_copy(&c, k->b + k->n, n);
        key_fold(k->b + k->n, n);
        k->n += n;
        return;
    }
    while (lf_cur_left(&c) >= 4) {
        uint16_t x = lf_cur_u16(&c);
        lf_cur_skip(&c, lf_cur_u16(&c));
        if (room < 2) {
            k->over = 1;
            return;
        }
        if (is_grease(x))
            x = 0x0a0a;
        k->b[k->n++] = (uint8_t)(x >> 8);
        k->b[k->n++] = (uint8_t)x;
        room -= 2;
    }
}

/* The cache slot of a key: sixteen bytes a step in two independent lanes
 * (FNV-1a a byte a step cost more than building the key). */
static size_t key_slot(const struct fp_key *k)
{
    uint64_t a = LF_FNV_SEED ^ k->n, b = 0x9e3779b97f4a7c15ULL;
    size_t i = 0;
    for (; i + 16 <= k->n; i += 16) {
        uint64_t w[2];
        memcpy(w, k->b + i, 16);
        a = (a ^ w[0]) * 0x9e3779b97f4a7c15ULL;
        b = (b ^ w[1]) * 0xc2b2ae3d27d4eb4fULL;
    }
    for (; i < k->n; i++)
        a = (a ^ k->b[i]) * 1099511628211ULL;
    uint64_t h = (a ^ (b >> 29) ^ (a >> 32)) * 0xff51afd7ed558ccdULL;
    return (size_t)((h >> 40) % FP_CACHE);
}

static void compute_fingerprints(const struct ch_view *v, struct lf_ev_tls *t)
{
    struct fp_key k;
    k.n = 0;
    k.over = 0;
    uint8_t flags[1] = {(uint8_t)(v->has_sni | v->has_groups << 1 | v->has_points << 2 | v->has_sigalgs << 3 |
                                  v->has_alpn << 4)};
    key_put(&k, flags, 1);
    key_u16(&k, v->legacy_version);
    key_u16(&k, v->max_version);
    key_list(&k, v->ciphers, 0);
    key_list(&k, v->exts, 1);
    key_list(&k, v->groups, 0);
    key_list(&k, v->sigalgs, 0);
    key_u16(&k, (uint16_t)lf_cur_left(&v->points));
    key_put(&k, lf_cur_ptr(&v->points), lf_cur_left(&v->points));
    key_u16(&k, (uint16_t)lf_cur_left(&v->alpn));
    key_put(&k, lf_cur_ptr(&v->alpn), lf_cur_left(&v->alpn));
    if (k.over) {
        compute_ja3(v, t->ja3);
        compute_ja4(v, t->ja4, sizeof t->ja4);
        return;
    }
    struct fp_entry *e = &fp_cache[key_slot(&k)];
    if (e->len != k.n || memcmp(e->key, k.b, k.n) != 0) {
        e->ja3[0] = e->ja4[0] = 0;
        compute_ja3(v, e->ja3);
        compute_ja4(v, e->ja4, sizeof e->ja4);
        memcpy(e->key, k.b, k.n);
        e->len = k.n;
    }
    memcpy(t->ja3, e->ja3, sizeof t->ja3);
    memcpy(t->ja4, e->ja4, sizeof t->ja4);
}

/* ---- handshake messages ----------------------------------------------- */

/* Appends n bytes, non-printable ones and ',' as '?', to a ','-joined list in field[size]; what does not fit
 * is cut at size - 1 bytes (longer than any cap: the event marks it truncated). Returns 0 when it was cut. */
static int join_field(char *field, size_t size, const uint8_t *s, size_t n)
{
    size_t used = strlen(field);
    if (used && used + 1 < size)
        field[used++] = ',';
    size_t room = size - 1 - used, k = n < room ? n : room;
    char *o = field + used;
    for (size_t i = 0; i < k; i++)
        o[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != ',') ? (char)s[i] : '?';
    o[k] = 0;
    return k == n;
}

/* Parses a ClientHello body (after the 4-byte header). Fields are committed
 * only when the message is well framed up to its extensions; an ALPN list
 * malformed inside its extension only loses the ALPN, and extensions whose
 * framing breaks lose themselves and the fingerprints (JA3, JA4 stay empty). */
static void parse_client_hello(struct tls_state *st, const struct lf_flowctx *fc, struct lf_cur m)
{
    struct ch_view v;
    memset(&v, 0, sizeof v);
    char sni[NAMES_MAX], alpn[NAMES_MAX];
    sni[0] = alpn[0] = 0; /* strings: join_field and lf_event_set read up to the NUL */
    int ech = 0, broken = 0;

    v.legacy_version = lf_cur_u16(&m);
    lf_cur_skip(&m, 32);
    uint8_t sid = lf_cur_u8(&m);
    if (sid > 32)
        return;
    lf_cur_skip(&m, sid);
    uint16_t cl = lf_cur_u16(&m);
    if (cl & 1)
        return;
    v.ciphers = lf_cur_sub(&m, cl);
    lf_cur_skip(&m, lf_cur_u8(&m));
    if (!lf_cur_ok(&m))
        return;
    v.max_version = v.legacy_version;
    if (lf_cur_left(&m) > 0) {
        v.exts = lf_cur_sub(&m, lf_cur_u16(&m));
        if (!lf_cur_ok(&m))
            return;
        struct lf_cur e = v.exts;
        while (lf_cur_left(&e) > 0) {
            uint16_t type = lf_cur_u16(&e);
            struct lf_cur x = lf_cur_sub(&e, lf_cur_u16(&e));
            if (!lf_cur_ok(&e)) {
                broken = 1; /* the extensions before this one stand; no fingerprint of a partial list */
                break;
            }
            switch (type) {
            case EXT_SERVER_NAME: {
                v.has_sni = 1;
                struct lf_cur list = lf_cur_sub(&x, lf_cur_u16(&x));
                while (lf_cur_ok(&list) && lf_cur_left(&list) > 0) {
                    uint8_t nt = lf_cur_u8(&list);
                    struct lf_cur name = lf_cur_sub(&list, lf_cur_u16(&list));
                    if (lf_cur_ok(&name) && nt == 0 && name.len > 0)
                        join_field(sni, sizeof sni, name.p, name.len);
                }
                if (!lf_cur_ok(&list) || lf_cur_left(&x) > 0)
                    return;
                break;
            }
            case EXT_ALPN: {
                struct lf_cur list = lf_cur_sub(&x, lf_cur_u16(&x));
                v.alpn = list;
                v.has_alpn = 1;
                while (lf_cur_ok(&list) && lf_cur_left(&list) > 0) {
                    struct lf_cur name = lf_cur_sub(&list, lf_cur_u8(&list));
                    if (lf_cur_ok(&name) && name.len > 0)
                        join_field(alpn, sizeof alpn, name.p, name.len);
                }
                if (!lf_cur_ok(&list) || lf_cur_left(&x) > 0) {
                    /* a bad list inside a well-framed extension: the ALPN is unknown, the rest stands */
                    alpn[0] = 0;
                    v.has_alpn = 0;
                }
                break;
            }
            case EXT_SUPPORTED_VERSIONS: {
                struct lf_cur list = lf_cur_sub(&x, lf_cur_u8(&x));
                uint16_t best = 0;
                while (lf_cur_ok(&list) && lf_cur_left(&list) >= 2) {
                    uint16_t ver = lf_cur_u16(&list);
                    if (!is_grease(ver) && ver > best)
                        best = ver;
                }
                if (best)
                    v.max_version = best;
                break;
            }
            case EXT_SUPPORTED_GROUPS:
                v.groups = lf_cur_sub(&x, lf_cur_u16(&x));
                v.has_groups = lf_cur_ok(&v.groups);
                break;
            case EXT_EC_POINT_FORMATS:
                v.points = lf_cur_sub(&x, lf_cur_u8(&x));
                v.has_points = lf_cur_ok(&v.points);
                break;
            case EXT_SIGNATURE_ALGORITHMS:
                v.sigalgs = lf_cur_sub(&x, lf_cur_u16(&x));
                v.has_sigalgs = lf_cur_ok(&v.sigalgs);
                break;
            case EXT_ECH:
                ech = 1;
                break;
            }
        }
    }

    struct lf_ev_tls *t = &st->ev.u.tls;
    st->ch_seen = 1;
    st->ts = fc->ts;
    LF_EV_SET(&st->ev, u.tls.sni, sni);
    if (!st->sh_seen)
        LF_EV_SET(&st->ev, u.tls.alpn, alpn);
    t->client_version = v.max_version;
    t->ech = (uint8_t)ech;
    if (broken)
        return;
    compute_fingerprints(&v, t);
}

static void parse_server_hello(struct tls_state *st, const struct lf_flowctx *fc, struct lf_cur m)
{
    uint16_t version = lf_cur_u16(&m);
    uint8_t random[32];
    lf_cur_copy(&m, random, sizeof random);
    uint8_t sid = lf_cur_u8(&m);
    if (sid > 32)
        return;
    lf_cur_skip(&m, sid);
    uint16_t cipher = lf_cur_u16(&m);
    lf_cur_skip(&m, 1);
    if (!lf_cur_ok(&m))
        return;
    char alpn[NAMES_MAX] = "";
    if (lf_cur_left(&m) > 0) {
        struct lf_cur e = lf_cur_sub(&m, lf_cur_u16(&m));
        while (lf_cur_ok(&e) && lf_cur_left(&e) > 0) {
            uint16_t type = lf_cur_u16(&e);
            struct lf_cur x = lf_cur_sub(&e, lf_cur_u16(&e));
            if (type == EXT_SUPPORTED_VERSIONS && lf_cur_left(&x) == 2) {
                version = lf_cur_u16(&x);
            } else if (type == EXT_ALPN) {
                struct lf_cur list = lf_cur_sub(&x, lf_cur_u16(&x));
                struct lf_cur name = lf_cur_sub(&list, lf_cur_u8(&list));
                if (lf_cur_ok(&name) && name.len > 0)
                    join_field(alpn, sizeof alpn, name.p, name.len);
            }
        }
        if (!lf_cur_ok(&e) || !lf_cur_ok(&m))
            return;
    }
    struct lf_ev_tls *t = &st->ev.u.tls;
    if (!memcmp(random, hrr_random, sizeof random))
        st->hrr = 1;
    st->sh_seen = 1;
    st->version = version;
    t->version = version;
    t->cipher = cipher;
    if (alpn[0]) {
        LF_EV_SET(&st->ev, u.tls.alpn, alpn);
        t->h2 = !strcmp(alpn, "h2");
    }
    if (!st->ch_seen)
        st->ts = fc->ts;
}

/* The name in RFC 2253 form, allocated; "" (allocated) when it cannot be printed. */
static char *name_text(X509_NAME *name)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n = 0;
    if (b && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
        n = BIO_get_mem_data(b, &data);
    char *out = lf_xmalloc(n > 0 ? (size_t)n + 1 : 1);
    if (n > 0)
        memcpy(out, data, (size_t)n);
    out[n > 0 ? n : 0] = 0;
    BIO_free(b);
    return out;
}

static lf_time asn1_time(const ASN1_TIME *a)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!a || !ASN1_TIME_to_tm(a, &tm))
        return 0;
    return (lf_time)timegm(&tm) * 1000000;
}

#define CERT_CACHE 32 /* distinct leaf certificates remembered */
#define CERT_CACHE_MAX 8192

/* What a leaf certificate gives the event, kept with its bytes: most
 * connections present one of a few certificates, and d2i_X509 is by far the
 * costliest step of a handshake. Certificates above CERT_CACHE_MAX bytes are
 * parsed every time. */
struct cert_entry {
    uint8_t *der; /* the certificate's bytes, owned */
    size_t len;
    uint8_t ok;
    char *subject, *issuer, *san; /* owned; set when ok */
    char sha256[TLS_FSZ(cert_sha256)];
    lf_time not_before, not_after;
};
static struct cert_entry cert_cache[CERT_CACHE];
static unsigned cert_next;

static void parse_x509(struct cert_entry *e, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (!x) {
        ERR_clear_error();
        return;
    }
    e->ok = 1;
    e->subject = name_text(X509_get_subject_name(x));
    e->issuer = name_text(X509_get_issuer_name(x));
    e->san = lf_xmalloc(LF_CAP_LONG + 2);
    e->san[0] = 0;
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type != GEN_DNS)
            continue;
        const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
        int n = ASN1_STRING_length(g->d.dNSName);
        if (n > 0 && !join_field(e->san, LF_CAP_LONG + 2, s, (size_t)n))
            break;
    }
    GENERAL_NAMES_free(gens);
    e->not_before = asn1_time(X509_get0_notBefore(x));
    e->not_after = asn1_time(X509_get0_notAfter(x));
    uint8_t dig[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    const EVP_MD *sha = md_get(MD_SHA256);
    if (sha && EVP_Digest(der, (size_t)(p - der), dig, &dlen, sha, NULL) && dlen == 32)
        hex_encode(dig, 32, e->sha256);
    X509_free(x);
    ERR_clear_error();
}

/* The leaf certificate, looked up by its bytes, parsed on a miss. */
static void entry_clear(struct cert_entry *e)
{
    free(e->subject);
    free(e->issuer);
    free(e->san);
    memset(e, 0, sizeof *e);
}

static void parse_leaf(struct tls_state *st, const uint8_t *der, size_t len)
{
    struct lf_ev_tls *t = &st->ev.u.tls;
    struct cert_entry one, *e = NULL;
    st->cert_done = 1;
    for (int i = 0; i < CERT_CACHE && !e; i++)
        if (cert_cache[i].len == len && cert_cache[i].der && !memcmp(cert_cache[i].der, der, len))
            e = &cert_cache[i];
    if (!e && len <= CERT_CACHE_MAX) {
        e = &cert_cache[cert_next++ % CERT_CACHE];
        uint8_t *keep = e->der && e->len >= len ? e->der : NULL;
        if (!keep) {
            free(e->der);
            keep = lf_xmalloc(len ? len : 1);
        }
        entry_clear(e);
        parse_x509(e, der, len);
        memcpy(keep, der, len);
        e->der = keep;
        e->len = len;
    } else if (!e) {
        e = &one;
        memset(e, 0, sizeof *e);
        parse_x509(e, der, len);
    }
    if (e->ok) {
        st->cert_seen = 1;
        LF_EV_SET(&st->ev, u.tls.cert_subject, e->subject);
        LF_EV_SET(&st->ev, u.tls.cert_issuer, e->issuer);
        LF_EV_SET(&st->ev, u.tls.cert_san, e->san);
        memcpy(t->cert_sha256, e->sha256, sizeof t->cert_sha256);
        t->cert_not_before = e->not_before;
        t->cert_not_after = e->not_after;
    }
    if (e == &one)
        entry_clear(e);
}

static void parse_certificate(struct tls_state *st, struct lf_cur m, int tls13)
{
    if (tls13)
        lf_cur_skip(&m, lf_cur_u8(&m));
    struct lf_cur list = lf_cur_sub(&m, lf_cur_u24(&m));
    struct lf_cur leaf = lf_cur_sub(&list, lf_cur_u24(&list));
    if (!lf_cur_ok(&leaf) || leaf.len == 0)
        return;
    parse_leaf(st, leaf.p, leaf.len);
}

/* One complete handshake message (header included), plaintext on the wire or decrypted. */
static void hs_message(struct tls_state *st, struct lf_flowctx *fc, enum lf_dir dir, const uint8_t *msg, size_t len)
{
    struct lf_cur c = lf_cur_make(msg, len);
    uint8_t type = lf_cur_u8(&c);
    struct lf_cur body = lf_cur_sub(&c, lf_cur_u24(&c));
    if (!st->roles_known && (type == HS_CLIENT_HELLO || type == HS_SERVER_HELLO)) {
        st->roles_known = 1;
        st->swapped = (type == HS_CLIENT_HELLO) == (dir == LF_S2C);
    }
    enum lf_dir ld = logical(st, dir);
    if (st->dec)
        lf_tlsdec_handshake(st->dec, (int)ld, msg, len);
    if (ld == LF_S2C)
        st->server_spoke = 1;
    if (!lf_cur_ok(&c))
        return;
    switch (type) {
    case HS_CLIENT_HELLO:
        if (ld == LF_C2S && !st->ch_seen)
            parse_client_hello(st, fc, body);
        break;
    case HS_SERVER_HELLO:
        if (ld == LF_S2C)
            parse_server_hello(st, fc, body);
        break;
    case HS_CERTIFICATE:
        if (ld == LF_S2C && !st->cert_done)
            parse_certificate(st, body, is_tls13(st->version));
        break;
    }
}

static int hs_reserve(struct tls_dir *d, size_t need)
{
    if (need > TLS_HS_MAX)
        return 0;
    if (need > d->hs_cap) {
        size_t cap = d->hs_cap ? d->hs_cap : TLS_HS_MIN_CAP;
        while (cap < need)
            cap *= 2;
        if (cap > TLS_HS_MAX)
            cap = TLS_HS_MAX;
        d->hs = lf_xrealloc(d->hs, cap);
        d->hs_cap = cap;
    }
    return 1;
}

/* Handshake bytes of one record, in order: whole messages are parsed where
 * they lie, pieces are gathered in the direction's buffer. */
static void hs_input(struct tls_state *st, struct lf_flowctx *fc, enum lf_dir dir, const uint8_t *p, size_t n)
{
    struct tls_dir *d = &st->d[dir];
    struct lf_cur c = lf_cur_make(p, n);
    while (lf_cur_left(&c) > 0) {
        if (d->hs_skip) {
            size_t k = d->hs_skip < lf_cur_left(&c) ? d->hs_skip : lf_cur_left(&c);
            lf_cur_skip(&c, k);
            d->hs_skip -= k;
            continue;
        }
        if (d->hs_len == 0 && lf_cur_left(&c) >= 4) {
            struct lf_cur h = c;
            lf_cur_skip(&h, 1);
            size_t total = 4 + (size_t)lf_cur_u24(&h);
            if (total <= lf_cur_left(&c)) {
                hs_message(st, fc, dir, lf_cur_ptr(&c), total);
                lf_cur_skip(&c, total);
                continue;
            }
            if (total > TLS_HS_MAX) {
                st->hs_oversize++;
                d->hs_skip = total;
                continue;
            }
        }
        /* gather a piece: first the 4-byte header, then the body */
        if (!hs_reserve(d, 4))
            return;
        if (d->hs_len < 4) {
            size_t k = 4 - d->hs_len;
            if (k > lf_cur_left(&c))
                k = lf_cur_left(&c);
            lf_cur_copy(&c, d->hs + d->hs_len, k);
            d->hs_len += k;
            if (d->hs_len < 4)
                return;
        }
        struct lf_cur h = lf_cur_make(d->hs, d->hs_len);
        lf_cur_skip(&h, 1);
        size_t total = 4 + (size_t)lf_cur_u24(&h);
        if (!hs_reserve(d, total)) {
            st->hs_oversize++;
            d->hs_skip = total - d->hs_len;
            d->hs_len = 0;
            continue;
        }
        size_t k = total - d->hs_len;
        if (k > lf_cur_left(&c))
            k = lf_cur_left(&c);
        lf_cur_copy(&c, d->hs + d->hs_len, k);
        d->hs_len += k;
        if (d->hs_len == total) {
            d->hs_len = 0;
            hs_message(st, fc, dir, d->hs, total);
        }
    }
}

/* ---- events ------------------------------------------------------------- */

static void emit_event(struct tls_state *st, struct lf_flowctx *fc)
{
    if (st->emitted || (!st->ch_seen && !st->sh_seen) || !fc->eng)
        return;
    st->emitted = 1;
    struct lf_event *ev = &st->ev;
    ev->ts = st->ts ? st->ts : fc->ts;
    struct lf_ev_tls *t = &ev->u.tls;
    ev->flow_id = fc->flow_id;
    ev->client = st->swapped ? fc->server : fc->client;
    ev->server = st->swapped ? fc->client : fc->server;
    t->cert_encrypted = is_tls13(st->version) && !st->cert_seen;
    t->decrypting = st->dec && (st->decrypted_any || lf_tlsdec_has_keys(st->dec));
    t->decrypt_failures = st->failures;
    lf_emit(fc->eng, ev);
    /* the handshake is over: its buffers come back, allocated again only for a
     * later message that spans records (TLS 1.3 KeyUpdate, tickets) */
    for (int i = 0; i < 2; i++) {
        struct tls_dir *d = &st->d[i];
        if (d->hs_len == 0) {
            free(d->hs);
            d->hs = NULL;
            d->hs_cap = 0;
        }
    }
}

/* An application data record that is not read: the handshake is over once the
 * server has answered (before that it is 0-RTT data). */
static void opaque_appdata(struct tls_state *st, struct lf_flowctx *fc)
{
    if (st->server_spoke && !st->emitted) /* every record of the connection comes here: no call once emitted */
        emit_event(st, fc);
}

/* A plaintext or decrypted alert. The first one is kept, unless a fatal one
 * follows a warning; a fatal alert ends the handshake and sends the event. */
static void on_alert(struct tls_state *st, struct lf_flowctx *fc, enum lf_dir dir, const uint8_t *p, size_t n)
{
    struct lf_ev_tls *t = &st->ev.u.tls;
    struct lf_cur c = lf_cur_make(p, n);
    uint8_t level = lf_cur_u8(&c), desc = lf_cur_u8(&c);
    if (!lf_cur_ok(&c) || st->emitted)
        return;
    if (!t->alert_from || (t->alert_level != 2 && level == 2)) {
        t->alert_level = level;
        t->alert_desc = desc;
        t->alert_from = logical(st, dir) == LF_C2S ? 'c' : 's';
    }
    if (level == 2)
        emit_event(st, fc);
}

static void inner_flowctx(struct tls_state *st, const struct lf_flowctx *fc)
{
    st->ifc = *fc;
    if (st->swapped) {
        st->ifc.client = fc->server;
        st->ifc.server = fc->client;
    }
    st->ifc.sni = st->ev.u.tls.sni;
    st->ifc.decrypted = 1;
}

static void inner_feed(struct tls_state *st, enum lf_dir dir, const uint8_t *p, size_t n)
{
    if (lf_feed(st->inner, st->inner_st, &st->ifc, dir, &st->d[dir].inner, p, n) == LF_DIS_ERROR)
        st->inner_state = INNER_NONE;
}

/* Decrypted application data: the inner protocol is chosen on its first bytes. */
static void on_plain_appdata(struct tls_state *st, struct lf_flowctx *fc, enum lf_dir wire_dir, const uint8_t *p,
                             size_t n)
{
    enum lf_dir dir = logical(st, wire_dir);
    if (!st->emitted) {
        if (dir == LF_C2S && n >= sizeof h2_preface - 1 && !memcmp(p, h2_preface, sizeof h2_preface - 1))
            st->ev.u.tls.h2 = 1;
        emit_event(st, fc);
    }
    if (st->inner_state == INNER_NONE || n == 0)
        return;
    inner_flowctx(st, fc);
    if (st->inner_state == INNER_CHOSEN) {
        inner_feed(st, dir, p, n);
        return;
    }
    struct tls_dir *d = &st->d[dir];
    if (!d->probe)
        d->probe = lf_xmalloc(TLS_PROBE_MAX);
    size_t k = n < TLS_PROBE_MAX - d->probe_len ? n : TLS_PROBE_MAX - d->probe_len;
    memcpy(d->probe + d->probe_len, p, k);
    d->probe_len += k;
    int wait = 0, full = d->probe_len == TLS_PROBE_MAX;
    const struct lf_dissector *dis = lf_dissector_probe(d->probe, d->probe_len, dir, full, &wait);
    if (dis == &lf_dissector_tls)
        dis = NULL;
    if (!dis) {
        if (!wait || full)
            st->inner_state = INNER_NONE;
        return;
    }
    st->inner = dis;
    st->inner_st = dis->state_new(&st->ifc);
    st->inner_state = INNER_CHOSEN;
    for (int i = 0; i < 2 && st->inner_state == INNER_CHOSEN; i++) {
        enum lf_dir di = (enum lf_dir)i;
        struct tls_dir *dd = &st->d[i];
        if (dd->probe_len)
            inner_feed(st, di, dd->probe, dd->probe_len);
        if (di == dir && st->inner_state == INNER_CHOSEN && k < n)
            inner_feed(st, di, p + k, n - k);
        dd->probe_len = 0;
    }
}

/* ---- record layer ------------------------------------------------------- */

/* Records of this type from dir are protected (by what the handshake said so far). */
static int own_protected(const struct tls_state *st, enum lf_dir dir, uint8_t type)
{
    if (type == CT_APPDATA)
        return 1;
    return st->d[dir].ccs && !is_tls13(st->version) && !st->hrr && (type == CT_HANDSHAKE || type == CT_ALERT);
}

static void decrypt_record(struct tls_state *st, struct lf_flowctx *fc, enum lf_dir dir, uint8_t type,
                           uint16_t version, const uint8_t *body, size_t len)
{
    struct tls_dir *d = &st->d[dir];
    size_t outlen = 0;
    uint8_t inner = 0;
    enum lf_dec r =
        lf_tlsdec_record(st->dec, (int)logical(st, dir), type, version, body, len, st->plain, &outlen, &inner);
    if (r == LF_DEC_NOKEY) {
        if (!st->counted_nokey && fc->eng)
            fc->eng->stats.tls_no_secret++;
        st->counted_nokey = 1;
        /* 0-RTT data may lack a secret the rest of the connection has */
        if (st->sh_seen)
            st->nokey = 1;
        if (type == CT_APPDATA)
            opaque_appdata(st, fc);
        return;
    }
    if (r != LF_DEC_OK) {
        st->failures++;
        if (fc->eng)
            fc->eng->stats.tls_decrypt_failures++;
        if (++d->fail_run >= TLS_FAIL_RUN_MAX)
            d->nodecrypt = 1;
        if (type == CT_APPDATA && d->nodecrypt)
            opaque_appdata(st, fc);
        return;
    }
    d->fail_run = 0;
    if (!st->decrypted_any && fc->eng)
        fc->eng->stats.tls_decrypted++;
    st->decrypted_any = 1;
    if (outlen > TLS_REC_MAX)
        outlen = TLS_REC_MAX;
    switch (inner) {
    case CT_HANDSHAKE:
        hs_input(st, fc, dir, st->plain, outlen);
        break;
    case CT_ALERT:
        on_alert(st, fc, dir, st->plain, outlen);
        break;
    case CT_APPDATA:
        on_plain_appdata(st, fc, dir, st->plain, outlen);
        break;
    }
}

/* Emits what is pending and leaves the flow. */
static struct lf_dres leave(struct tls_state *st, struct lf_flowctx *fc, size_t consumed)
{
    emit_event(st, fc);
    struct lf_dres r = {LF_DIS_ERROR, consumed, 0};
    return r;
}

static struct lf_dres incomplete(size_t consumed, size_t needed)
{
    struct lf_dres r = {LF_DIS_INCOMPLETE, consumed, needed ? needed : 1};
    return r;
}

/* After a gap: the offset of the next plausible record header (its successor
 * checked when it lies within data), or -1. */
static long find_header(const uint8_t *data, size_t len)
{
    struct lf_cur c = lf_cur_make(data, len);
    for (size_t i = 0; i + 5 <= len; i++) {
        struct lf_cur h = c;
        lf_cur_skip(&h, i);
        uint8_t type = lf_cur_u8(&h), major = lf_cur_u8(&h), minor = lf_cur_u8(&h);
        size_t rlen = lf_cur_u16(&h);
        if (!plausible_header(type, major, minor, rlen) || type == CT_HEARTBEAT || minor == 0 || rlen == 0)
            continue;
        if (lf_cur_left(&h) >= rlen + 5) {
            lf_cur_skip(&h, rlen);
            uint8_t t2 = lf_cur_u8(&h), ma2 = lf_cur_u8(&h), mi2 = lf_cur_u8(&h);
            if (!plausible_header(t2, ma2, mi2, lf_cur_u16(&h)) || mi2 != minor)
                continue;
        }
        return (long)i;
    }
    return -1;
}

static struct lf_dres tls_on_data(void *p, struct lf_flowctx *fc, enum lf_dir dir, const uint8_t *data, size_t len)
{
    struct tls_state *st = p;
    struct tls_dir *d = &st->d[dir];
    struct lf_cur c = lf_cur_make(data, len);

    for (;;) {
        if (d->rec_skip) {
            size_t k = d->rec_skip < lf_cur_left(&c) ? d->rec_skip : lf_cur_left(&c);
            lf_cur_skip(&c, k);
            d->rec_skip -= k;
            if (d->rec_skip)
                return incomplete(c.off, 1);
        }
        if (d->resync) {
            long at = find_header(lf_cur_ptr(&c), lf_cur_left(&c));
            if (at < 0) {
                size_t k = lf_cur_left(&c) > 4 ? lf_cur_left(&c) - 4 : 0;
                lf_cur_skip(&c, k);
                d->resync_scanned += k;
                if (d->resync_scanned > TLS_RESYNC_MAX)
                    return leave(st, fc, c.off);
                return incomplete(c.off, 1);
            }
            lf_cur_skip(&c, (size_t)at);
            d->resync_scanned += (size_t)at;
            d->resync = 0;
        }
        size_t left = lf_cur_left(&c);
        if (left < 5)
            return incomplete(c.off, 5 - left);

        struct lf_cur h = c;
        uint8_t type = lf_cur_u8(&h);
        if (!d->started && !st->roles_known && (type & 0x80)) {
            /* SSLv2-compatible ClientHello (RFC 5246 E.2) */
            struct lf_cur all = c;
            size_t rlen = lf_cur_u16(&all) & 0x7fff;
            if (probe_sslv2(lf_cur_ptr(&c), left) != LF_PROBE_YES)
                return leave(st, fc, c.off);
            if (left < 2 + rlen)
                return incomplete(c.off, 2 + rlen - left);
            struct lf_cur r = lf_cur_sub(&all, rlen);
            lf_cur_skip(&r, 1);
            uint16_t ver = lf_cur_u16(&r);
            uint16_t csl = lf_cur_u16(&r), sidl = lf_cur_u16(&r), chl = lf_cur_u16(&r);
            lf_cur_skip(&r, (size_t)csl + sidl + chl);
            if (!lf_cur_ok(&r) || csl % 3)
                return leave(st, fc, c.off);
            lf_cur_skip(&c, 2 + rlen);
            d->started = 1;
            if (!st->ch_seen) {
                st->roles_known = 1;
                st->swapped = dir == LF_S2C;
                st->ch_seen = 1;
                st->ts = fc->ts;
                st->ev.u.tls.sslv2_hello = 1;
                st->ev.u.tls.client_version = ver;
            }
            continue;
        }
        uint32_t rest = lf_cur_u32(&h); /* version and length in one read */
        uint8_t major = (uint8_t)(rest >> 24), minor = (uint8_t)(rest >> 16);
        uint16_t version = (uint16_t)(rest >> 16);
        size_t rlen = (uint16_t)rest;
        if (!plausible_header(type, major, minor, rlen)) {
            if (d->gapped) {
                d->resync = 1;
                lf_cur_skip(&c, 1);
                d->resync_scanned++;
                continue;
            }
            return leave(st, fc, c.off);
        }
        d->started = 1;

        int dec_says =
            st->dec && !d->nodecrypt && !st->nokey && lf_tlsdec_encrypted(st->dec, (int)logical(st, dir), type);
        if (dec_says) {
            if (left < 5 + rlen)
                return incomplete(c.off, 5 + rlen - left);
            lf_cur_skip(&c, 5);
            struct lf_cur body = lf_cur_sub(&c, rlen);
            decrypt_record(st, fc, dir, type, version, body.p, body.len);
            continue;
        }
        if (own_protected(st, dir, type) || type == CT_HEARTBEAT) {
            if (type == CT_APPDATA)
                opaque_appdata(st, fc);
            if (left >= 5 + rlen) { /* the whole record is here: past it at once */
                lf_cur_skip(&c, 5 + rlen);
                continue;
            }
            lf_cur_skip(&c, 5);
            d->rec_skip = rlen;
            continue;
        }
        if (type == CT_CCS) {
            d->ccs = 1;
            if (st->dec)
                lf_tlsdec_ccs(st->dec, (int)logical(st, dir));
            lf_cur_skip(&c, 5);
            d->rec_skip = rlen;
            continue;
        }
        if (left < 5 + rlen)
            return incomplete(c.off, 5 + rlen - left);
        lf_cur_skip(&c, 5);
        struct lf_cur body = lf_cur_sub(&c, rlen);
        if (type == CT_HANDSHAKE)
            hs_input(st, fc, dir, body.p, body.len);
        else if (type == CT_ALERT && rlen == 2)
            on_alert(st, fc, dir, body.p, body.len);
    }
}

static enum lf_dis_status tls_on_gap(void *p, struct lf_flowctx *fc, enum lf_dir dir, uint64_t len)
{
    struct tls_state *st = p;
    struct tls_dir *d = &st->d[dir];
    if (!d->resync && d->rec_skip >= len) {
        d->rec_skip -= (size_t)len;
        return LF_DIS_OK;
    }
    d->rec_skip = 0;
    d->hs_len = 0;
    d->hs_skip = 0;
    d->resync = 1;
    d->gapped = 1;
    d->nodecrypt = 1;
    if (st->inner_state == INNER_CHOSEN) {
        inner_flowctx(st, fc);
        if (!st->inner->on_gap || st->inner->on_gap(st->inner_st, &st->ifc, logical(st, dir), len) == LF_DIS_ERROR)
            st->inner_state = INNER_NONE;
    }
    return LF_DIS_OK;
}

static void tls_on_end(void *p, struct lf_flowctx *fc)
{
    struct tls_state *st = p;
    emit_event(st, fc);
    if (st->inner_state == INNER_CHOSEN && st->inner->on_end) {
        inner_flowctx(st, fc);
        st->inner->on_end(st->inner_st, &st->ifc);
    }
    st->inner_state = INNER_NONE;
}

const struct lf_dissector lf_dissector_tls = {
    .name = "tls",
    .probe = tls_probe,
    .state_new = tls_state_new,
    .state_free = tls_state_free,
    .on_data = tls_on_data,
    .on_gap = tls_on_gap,
    .on_end = tls_on_end,
};
