/* tlskdf.c: TLS key schedules: master secrets, the TLS 1.0-1.2 PRF key block, TLS 1.3 traffic keys (RFC 5246, 8446).
 *
 * TLS <= 1.2: the master secret comes from the key log, a resumed session,
 * or an RSA-decrypted pre-master secret through the PRF (RFC 5246 8.1, with
 * the session hash of RFC 7627 for extended master secret; MD5-SHA1 before
 * TLS 1.2, RFC 2246 5); the key block gives each direction its MAC key, key
 * and IV (RFC 5246 6.3). TLS 1.3: HKDF-Expand-Label makes the key and IV of
 * a traffic secret taken from the key log, and KeyUpdate the next secret
 * (RFC 8446 7.1-7.3). Keys are installed through tlsrecord.c's cipher setup.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "lyncflow/cursor.h"
#include "tlsdec_int.h"

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

static const char *prf_digest(const struct lf_tlsdec *d) { return d->version < V_TLS12 ? "MD5-SHA1" : d->suite->hash; }

void tlsdec_remember_session(struct lf_tlsdec *d)
{
    if (!d->has_master)
        return;
    struct sess_entry *e = tlsdec_sess_find(d->ks, 1, d->sh_sid, d->sh_sid_len, 1);
    if (e)
        memcpy(e->master, d->master, MASTER_LEN);
}

/* TLS_RSA: the master secret from the ClientKeyExchange's encrypted pre-master secret. */
void tlsdec_rsa_master(struct lf_tlsdec *d, struct lf_cur body)
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
        if (tlsdec_rsa_pms(ks->rsa[i], enc, elen, d->client_version, d->version, pms) == 0)
            found = i;
    }
    if (found < 0) {
        ks->rsa_mismatch++;
        tlsdec_transcript_free(d);
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
    tlsdec_transcript_free(d);
    if (ok) {
        d->has_master = 1;
        tlsdec_remember_session(d);
    }
}

/* The master secret (TLS <= 1.2): the key log, else a resumed session's. */
int tlsdec_ensure_master(struct lf_tlsdec *d)
{
    if (d->has_master)
        return 1;
    if (!d->ch_seen || !d->sh_seen)
        return 0;
    const struct ks_entry *e = tlsdec_ks_lookup(d->ks, d->client_random, 1u << SEC_MASTER);
    if (e) {
        memcpy(d->master, e->sec[SEC_MASTER], MASTER_LEN);
        d->has_master = 1;
        return 1;
    }
    if (d->cke_seen)
        return 0;
    const struct sess_entry *s = NULL;
    if (d->sh_sid_len && d->sh_sid_len == d->sid_len && !memcmp(d->sh_sid, d->sid, d->sid_len))
        s = tlsdec_sess_find(d->ks, 1, d->sid, d->sid_len, 0);
    if (!s && d->has_ticket)
        s = tlsdec_sess_find(d->ks, 2, d->ticket, sizeof d->ticket, 0);
    if (!s)
        return 0;
    memcpy(d->master, s->master, MASTER_LEN);
    d->has_master = 1;
    return 1;
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
    int rc = tlsdec_cipher_setup(d, s, k);
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
        rc = tlsdec_cipher_setup(d, s, key);
    OPENSSL_cleanse(key, sizeof key);
    s->seq = 0;
    s->opened = 0;
    s->active = rc == 0;
    return rc;
}

/* TLS 1.3: the traffic secret of dir's current phase from the key log. */
int tlsdec_keys13(struct lf_tlsdec *d, int dir)
{
    struct dirstate *s = &d->d[dir];
    if (s->active)
        return 1;
    if (!s->phase || d->dead)
        return 0;
    int which = s->phase == 1 ? (dir ? SEC_SHS : SEC_CHS) : (dir ? SEC_SAP : SEC_CAP);
    const struct ks_entry *e = tlsdec_ks_lookup_live(d->ks, d->client_random, 1u << which, &d->waited_ns);
    if (!e || e->len[which] != tlsdec_suite_hashlen(d->suite))
        return 0;
    memcpy(s->secret, e->sec[which], e->len[which]);
    s->secret_len = e->len[which];
    return install13(d, dir) == 0;
}

int tlsdec_keys12(struct lf_tlsdec *d, int dir)
{
    struct dirstate *s = &d->d[dir];
    if (s->active)
        return 1;
    if (!s->ccs || d->dead || !tlsdec_ensure_master(d))
        return 0;
    return install12(d, dir) == 0;
}

/* TLS 1.3 KeyUpdate: the next generation of dir's traffic secret (RFC 8446 7.2). */
void tlsdec_key_update(struct lf_tlsdec *d, int dir)
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

