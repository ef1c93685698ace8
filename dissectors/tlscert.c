/* tlscert.c: the leaf certificate of a TLS Certificate message (RFC 5246 7.4.2, RFC 8446 4.4.2), X.509 (RFC 5280).
 *
 * The first certificate of the list is parsed with OpenSSL into the pending
 * tls event: subject and issuer (RFC 2253 form), the DNS names of its
 * subjectAltName, validity and SHA-256 fingerprint. Distinct leaves are
 * remembered with their bytes in a small cache, since most connections
 * present one of a few certificates. Capture thread only.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lyncflow/cursor.h"
#include "lyncflow/event.h"
#include "lyncflow/util.h"
#include "tls_int.h"

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
 * parsed every time.
 * Kept: bench run 1.30G Ir with it, 34.1G without (+2530%; callgrind, gencap tls 4000 500 tls-handshake.hex). */
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
        if (n > 0 && !tls_join_field(e->san, LF_CAP_LONG + 2, s, (size_t)n))
            break;
    }
    GENERAL_NAMES_free(gens);
    e->not_before = asn1_time(X509_get0_notBefore(x));
    e->not_after = asn1_time(X509_get0_notAfter(x));
    uint8_t dig[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    const EVP_MD *sha = tls_md_get(MD_SHA256);
    if (sha && EVP_Digest(der, (size_t)(p - der), dig, &dlen, sha, NULL) && dlen == 32)
        tls_hex_encode(dig, 32, e->sha256);
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

void tls_parse_certificate(struct tls_state *st, struct lf_cur m, int tls13)
{
    if (tls13)
        lf_cur_skip(&m, lf_cur_u8(&m));
    struct lf_cur list = lf_cur_sub(&m, lf_cur_u24(&m));
    struct lf_cur leaf = lf_cur_sub(&list, lf_cur_u24(&list));
    if (!lf_cur_ok(&leaf) || leaf.len == 0)
        return;
    parse_leaf(st, leaf.p, leaf.len);
}
