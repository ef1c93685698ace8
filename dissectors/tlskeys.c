/* tlskeys.c: the TLS secrets store: secrets by client random, the session cache, RSA keys (RFC 5246 7.4.7.1, 8017).
 *
 * The keystore is an open-addressing table keyed by client random (filled by
 * tlskeylog.c), a bounded cache of master secrets by session ID and ticket
 * (RFC 5246 7.4.1.2, RFC 5077; cleared when half full), and the RSA private
 * keys given with --rsa-key, which decrypt the PKCS#1 v1.5 pre-master secret
 * of a TLS_RSA ClientKeyExchange. Secrets are cleansed before their memory is
 * freed; the counters main.c reports live here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "lyncflow/cursor.h"
#include "lyncflow/util.h"
#include "tlsdec_int.h"

#define SESS_CAP 4096    /* session cache slots; cleared when half full */
#define RSA_OUT_MAX 2048 /* RSA modulus up to 16384 bits */

/* ---- keystore ---------------------------------------------------------- */

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

struct ks_entry *tlsdec_ks_find(const struct lf_keystore *ks, const uint8_t *random)
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

struct ks_entry *tlsdec_ks_slot(struct lf_keystore *ks, const uint8_t *random)
{
    struct ks_entry *e = tlsdec_ks_find(ks, random);
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

struct sess_entry *tlsdec_sess_find(struct lf_keystore *ks, int kind, const uint8_t *id, size_t idlen, int create)
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
                return tlsdec_sess_find(ks, kind, id, idlen, create);
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

size_t lf_keystore_bad_lines(const struct lf_keystore *ks) { return ks ? ks->bad_lines : 0; }
size_t lf_keystore_ignored_lines(const struct lf_keystore *ks) { return ks ? ks->ignored_lines : 0; }
size_t lf_keystore_secrets(const struct lf_keystore *ks) { return ks ? ks->count : 0; }
size_t lf_keystore_rsa_mismatches(const struct lf_keystore *ks) { return ks ? ks->rsa_mismatch : 0; }
size_t lf_keystore_rsa_decrypted(const struct lf_keystore *ks) { return ks ? ks->rsa_ok : 0; }
size_t lf_keystore_unsupported(const struct lf_keystore *ks) { return ks ? ks->unsupported : 0; }

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
int tlsdec_rsa_pms(EVP_PKEY *pk, const uint8_t *enc, size_t elen, uint16_t v1, uint16_t v2, uint8_t *pms)
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

