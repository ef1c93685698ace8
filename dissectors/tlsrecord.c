/* tlsrecord.c: TLS cipher suites and record decryption, AEAD and CBC (RFC 5246 6.2.3, 5288, 7905, 7366, 8446 5.2).
 *
 * The suite table says what each supported cipher suite needs (key exchange,
 * cipher, key and MAC lengths, PRF hash). A record is opened in place into
 * the caller's buffer with its direction's cipher context: AES-GCM with an
 * explicit nonce (RFC 5288), ChaCha20-Poly1305 (RFC 7905), TLS 1.3 AEAD with
 * its inner content type (RFC 8446 5.2), and AES-CBC with HMAC, MAC then
 * encrypt or encrypt then MAC (RFC 7366), chained IVs for TLS 1.0 (RFC 2246).
 * Every tag and MAC is checked; a failure returns nothing and is counted.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "lyncflow/cursor.h"
#include "tlsdec_int.h"

#define TAG_LEN 16

/* ---- cipher suites ----------------------------------------------------- */

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

const struct suite *tlsdec_suite_find(uint16_t id)
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

size_t tlsdec_suite_hashlen(const struct suite *s) { return strcmp(s->hash, "SHA384") ? 32 : 48; }

int tlsdec_cipher_setup(struct lf_tlsdec *d, struct dirstate *s, const uint8_t *key)
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
    if (!(d->tls13 ? tlsdec_keys13(d, dir) : tlsdec_keys12(d, dir)))
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
