/* tlsdec.c: TLS decryption per connection: what the handshake says, fed by tls.c (RFC 5246 7.4, 8446 4, 7627).
 *
 * A decryptor learns the randoms, version, cipher suite, session ID, ticket
 * and extensions (extended master secret, encrypt then MAC, early data) from
 * the plaintext handshake messages tls.c hands it in wire order, keeps the
 * session hash while an RSA key exchange may need it, picks the RSA key from
 * the server certificate, and asks tlskdf.c for keys when they are due: at
 * ChangeCipherSpec (TLS <= 1.2), at the ServerHello and Finished (TLS 1.3).
 * Records are opened by tlsrecord.c; secrets come from the keystore.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "lyncflow/cursor.h"
#include "lyncflow/util.h"
#include "tlsdec_int.h"

#define CH_BUF_MAX (64u << 10) /* largest ClientHello kept for the EMS transcript */

struct lf_tlsdec *lf_tlsdec_new(struct lf_keystore *ks)
{
    if (!ks || (!ks->count && !ks->nrsa && !ks->keylog_path))
        return NULL;
    struct lf_tlsdec *d = lf_xcalloc(1, sizeof *d);
    d->ks = ks;
    d->rsa_key = -1;
    return d;
}

void tlsdec_transcript_free(struct lf_tlsdec *d)
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
    tlsdec_transcript_free(d);
    OPENSSL_cleanse(d, sizeof *d);
    free(d);
}

static void transcript_add(struct lf_tlsdec *d, const uint8_t *msg, size_t len)
{
    for (int i = 0; i < 2; i++)
        if (d->th[i] && EVP_DigestUpdate(d->th[i], msg, len) <= 0) {
            tlsdec_transcript_free(d);
            return;
        }
}

/* Starts the EMS session hash at the ServerHello when the RSA key exchange needs it. */
static void transcript_start(struct lf_tlsdec *d, const uint8_t *sh, size_t shlen)
{
    if (!d->ch || !d->suite || !d->suite->rsa_kx || !d->ks->nrsa || d->tls13) {
        tlsdec_transcript_free(d);
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
            tlsdec_transcript_free(d);
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
        tlsdec_transcript_free(d);
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
        tlsdec_transcript_free(d);
        return;
    }
    d->sh_seen = 1;
    d->version = ver;
    d->cipher = cipher;
    memcpy(d->server_random, random, RANDOM_LEN);
    d->sh_sid_len = sidl;
    memcpy(d->sh_sid, sid, sidl);
    d->suite = tlsdec_suite_find(cipher);
    d->tls13 = ver == V_TLS13;
    d->ems = ems;
    d->etm = etm && d->suite && d->suite->kind == K_CBC;
    int suite13 = d->suite && d->suite->id >= 0x1301 && d->suite->id <= 0x1303;
    if (!d->suite || d->tls13 != suite13 ||
        ver < V_TLS10 || ver > V_TLS13) {
        d->dead = 1;
        d->ks->unsupported++;
        tlsdec_transcript_free(d);
        return;
    }
    d->dead = 0;
    if (d->tls13) {
        tlsdec_transcript_free(d);
        for (int i = 0; i < 2; i++) {
            d->d[i].phase = 1;
            d->d[i].active = 0;
            tlsdec_keys13(d, i);
        }
        return;
    }
    transcript_start(d, msg, len);
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
            tlsdec_keys13(d, dir);
        } else if (type == 24)
            tlsdec_key_update(d, dir);
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
            if (d->suite->rsa_kx && d->ks->nrsa && !tlsdec_ks_lookup(d->ks, d->client_random, 1u << SEC_MASTER))
                tlsdec_rsa_master(d, body);
            tlsdec_transcript_free(d);
        }
        break;
    case 4: /* NewSessionTicket: the ticket resumes this master secret */
        if (dir == 1 && tlsdec_ensure_master(d)) {
            lf_cur_skip(&body, 4);
            struct lf_cur t = lf_cur_sub(&body, lf_cur_u16(&body));
            uint8_t h[32];
            unsigned hl = 0;
            if (lf_cur_ok(&t) && lf_cur_left(&t) &&
                EVP_Digest(lf_cur_ptr(&t), lf_cur_left(&t), h, &hl, EVP_sha256(), NULL) > 0 && hl == 32) {
                struct sess_entry *e = tlsdec_sess_find(d->ks, 2, h, 32, 1);
                if (e)
                    memcpy(e->master, d->master, MASTER_LEN);
            }
        }
        break;
    case 20:
        if (dir == 1)
            tlsdec_remember_session(d);
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
    tlsdec_keys12(d, dir);
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

