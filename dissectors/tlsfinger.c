/* tlsfinger.c: the JA3 and JA4 fingerprints of a TLS ClientHello (RFC 8446 4.1.2), and the run's digests.
 *
 * JA3 (Salesforce) is the MD5 of the ClientHello's version, ciphers,
 * extensions, groups and point formats in decimal; JA4 (FoxIO) names the
 * version, SNI, list sizes and first ALPN protocol and adds truncated
 * SHA-256 hashes of the sorted ciphers and extensions. Both ignore GREASE
 * values (RFC 8701). They are computed once per distinct ClientHello shape
 * and kept in a small cache. The MD5 and SHA-256 implementations are
 * fetched once for the run (tlscert.c uses SHA-256 too). Capture thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "lyncflow/cursor.h"
#include "lyncflow/event.h"
#include "lyncflow/util.h"
#include "tls_int.h"

static const char hexd[] = "0123456789abcdef";

/* The implementation of a digest (MD5 or SHA-256). */
const EVP_MD *tls_md_get(int which)
{
    return which == MD_MD5 ? EVP_md5() : EVP_sha256();
}

/* A digest context set up for which, freed by the caller; NULL when the provider has none. */
static EVP_MD_CTX *md_ctx(int which)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex2(ctx, tls_md_get(which), NULL)) {
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        return NULL;
    }
    return ctx;
}

void tls_hex_encode(const uint8_t *in, size_t n, char *out)
{
    out[0] = 0;
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", in[i]);
}

static void md_put(EVP_MD_CTX *md, const char *s) { EVP_DigestUpdate(md, s, strlen(s)); }

/* Appends decimal v to the digest, preceded by sep when not first. */
static void md_dec(EVP_MD_CTX *md, unsigned v, int *first, char sep)
{
    char buf[16];
    if (*first)
        snprintf(buf, sizeof buf, "%u", v);
    else
        snprintf(buf, sizeof buf, "%c%u", sep, v);
    *first = 0;
    md_put(md, buf);
}

/* Appends v as four hex digits to the digest, preceded by ',' when not first. */
static void md_hex4(EVP_MD_CTX *md, uint16_t v, int *first)
{
    char buf[12];
    snprintf(buf, sizeof buf, *first ? "%04x" : ",%04x", (unsigned)v);
    *first = 0;
    md_put(md, buf);
}

/* JA3 (Salesforce): MD5 of "version,ciphers,extensions,groups,point formats". */
static void compute_ja3(const struct ch_view *v, char *out)
{
    EVP_MD_CTX *md = md_ctx(MD_MD5);
    uint8_t dig[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    int first = 1;
    if (!md)
        return;
    md_dec(md, v->legacy_version, &first, ',');
    md_put(md, ",");
    struct lf_cur c = v->ciphers;
    first = 1;
    while (lf_cur_left(&c) >= 2) {
        uint16_t x = lf_cur_u16(&c);
        if (!tls_is_grease(x))
            md_dec(md, x, &first, '-');
    }
    md_put(md, ",");
    c = v->exts;
    first = 1;
    while (lf_cur_left(&c) >= 4) {
        uint16_t t = lf_cur_u16(&c);
        lf_cur_skip(&c, lf_cur_u16(&c));
        if (!tls_is_grease(t))
            md_dec(md, t, &first, '-');
    }
    md_put(md, ",");
    c = v->groups;
    first = 1;
    while (v->has_groups && lf_cur_left(&c) >= 2) {
        uint16_t x = lf_cur_u16(&c);
        if (!tls_is_grease(x))
            md_dec(md, x, &first, '-');
    }
    md_put(md, ",");
    c = v->points;
    first = 1;
    while (v->has_points && lf_cur_left(&c) >= 1)
        md_dec(md, lf_cur_u8(&c), &first, '-');
    if (EVP_DigestFinal_ex(md, dig, &dlen) && dlen == 16)
        tls_hex_encode(dig, 16, out);
    EVP_MD_CTX_free(md);
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static void sort_u16(uint16_t *v, size_t n)
{
    if (n)
        qsort(v, n, sizeof *v, cmp_u16);
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
    for (size_t i = 0; i < n; i++)
        md_hex4(md, sorted[i], &first);
    if (tail) {
        int tfirst = 1;
        md_put(md, "_");
        while (lf_cur_left(tail) >= 2) {
            uint16_t x = lf_cur_u16(tail);
            if (!tls_is_grease(x))
                md_hex4(md, x, &tfirst);
        }
    }
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    if (EVP_DigestFinal_ex(md, dig, &dlen) && dlen == 32) {
        tls_hex_encode(dig, 6, hex);
        memcpy(out, hex, 13);
    }
    EVP_MD_CTX_free(md);
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
        if (!tls_is_grease(x))
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
        if (tls_is_grease(t))
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
 * one, as both ignore GREASE) and kept in a small direct-mapped cache.
 * Kept: bench run 1.30G Ir with it, 2.84G without (+119%; callgrind, gencap tls 4000 500 tls-handshake.hex). */
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

/* GREASE values (0x?a?a, both bytes equal) of a list in the key, folded to 0x0a0a. */
static void key_fold(uint8_t *o, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        if ((o[i] & 0x0f) == 0x0a && o[i] == o[i + 1])
            o[i] = o[i + 1] = 0x0a;
}

/* A list of 16-bit values (stride 2) or of extensions (type, skipped body),
 * GREASE folded, preceded by its length. Values are copied as a block and
 * folded in the key; extension types are taken one by one. */
static void key_list(struct fp_key *k, struct lf_cur c, int exts)
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
        if (tls_is_grease(x))
            x = 0x0a0a;
        k->b[k->n++] = (uint8_t)(x >> 8);
        k->b[k->n++] = (uint8_t)x;
        room -= 2;
    }
}

/* The cache slot of a key. */
static size_t key_slot(const struct fp_key *k) { return (size_t)(lf_fnv(LF_FNV_SEED, k->b, k->n) % FP_CACHE); }

void tls_fingerprints(const struct ch_view *v, struct lf_ev_tls *t)
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
