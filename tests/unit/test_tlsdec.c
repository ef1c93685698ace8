/* test_tlsdec.c: TLS decryption against RFC 8448 and the TLS 1.2 PRF vector, key logs, pcapng secrets, RSA keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "lyncflow/tlsdec.h"

/* ---- helpers ----------------------------------------------------------- */

/* Decodes hex with any spacing; returns the byte count. */
static size_t unhex(const char *s, uint8_t *out, size_t max)
{
    size_t n = 0;
    int hi = -1;
    for (; *s; s++) {
        int v;
        if (*s >= '0' && *s <= '9')
            v = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            v = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F')
            v = *s - 'A' + 10;
        else
            continue;
        if (hi < 0)
            hi = v;
        else {
            assert_true(n < max);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    assert_int_equal(hi, -1);
    return n;
}

static void assert_hex(const uint8_t *got, size_t n, const char *want)
{
    uint8_t w[1024];
    size_t wn = unhex(want, w, sizeof w);
    assert_int_equal(n, wn);
    assert_memory_equal(got, w, n);
}

static void tohex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static char *write_tmp(const char *text, size_t len)
{
    char *path = malloc(64);
    snprintf(path, 64, "/tmp/lf-tlsdec-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

static void append_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* ---- published vectors ------------------------------------------------- */

/* The P_SHA256 vector posted to the IETF TLS list (msg03416) and used by many libraries. */
static void test_tls12_prf_vector(void **state)
{
    (void)state;
    uint8_t secret[16], seed[16], out[100];
    unhex("9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35", secret, sizeof secret);
    unhex("a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c", seed, sizeof seed);
    assert_int_equal(lf_tls12_prf("SHA256", secret, 16, "test label", seed, 16, out, sizeof out), 0);
    assert_hex(out, sizeof out,
               "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
               "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
               "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
               "87347b66");
}

/* RFC 8448 section 3, Simple 1-RTT Handshake (TLS_AES_128_GCM_SHA256). */
#define R8448_C_RANDOM "cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d ff a2 1a 8d 99 12 ec 18 a2 ef 62 83 02 4d ec e7"
#define R8448_C_HS "b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f 3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21"
#define R8448_S_HS "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38"
#define R8448_C_AP "9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5"
#define R8448_S_AP "a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43"

static const char r8448_ch[] =
    "01 00 00 c0 03 03 cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d ff a2"
    "1a 8d 99 12 ec 18 a2 ef 62 83 02 4d ec e7 00 00 06 13 01 13 03 13 02 01"
    "00 00 91 00 00 00 0b 00 09 00 00 06 73 65 72 76 65 72 ff 01 00 01 00 00"
    "0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00"
    "23 00 00 00 33 00 26 00 24 00 1d 00 20 99 38 1d e5 60 e4 bd 43 d2 3d 8e"
    "43 5a 7d ba fe b3 c0 6e 51 c1 3c ae 4d 54 13 69 1e 52 9a af 2c 00 2b 00"
    "03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03 02 03 08 04 08 05 08 06"
    "04 01 05 01 06 01 02 01 04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c"
    "00 02 40 01";
/* the ServerHello record without its 5-byte header */
static const char r8448_sh[] =
    "02 00 00 56 03 03 a6 af 06 a4 12 18 60 dc 5e 6e 60 24 9c"
    "d3 4c 95 93 0c 8a c5 cb 14 34 da c1 55 77 2e d3 e2 69 28 00 13 01 00 00"
    "2e 00 33 00 24 00 1d 00 20 c9 82 88 76 11 20 95 fe 66 76 2b db f7 c6 72"
    "e1 56 d6 cc 25 3b 83 3d f1 dd 69 b1 b0 4e 75 1f 0f 00 2b 00 02 03 04";
/* records without their headers (all are 17 03 03 LEN) */
static const char r8448_flight[] =
    "d1 ff 33 4a 56 f5 bf f6 59 4a 07 cc 87 b5 80 23 3f 50 0f"
    "45 e4 89 e7 f3 3a f3 5e df 78 69 fc f4 0a a4 0a a2 b8 ea 73 f8 48 a7 ca"
    "07 61 2e f9 f9 45 cb 96 0b 40 68 90 51 23 ea 78 b1 11 b4 29 ba 91 91 cd"
    "05 d2 a3 89 28 0f 52 61 34 aa dc 7f c7 8c 4b 72 9d f8 28 b5 ec f7 b1 3b"
    "d9 ae fb 0e 57 f2 71 58 5b 8e a9 bb 35 5c 7c 79 02 07 16 cf b9 b1 18 3e"
    "f3 ab 20 e3 7d 57 a6 b9 d7 47 76 09 ae e6 e1 22 a4 cf 51 42 73 25 25 0c"
    "7d 0e 50 92 89 44 4c 9b 3a 64 8f 1d 71 03 5d 2e d6 5b 0e 3c dd 0c ba e8"
    "bf 2d 0b 22 78 12 cb b3 60 98 72 55 cc 74 41 10 c4 53 ba a4 fc d6 10 92"
    "8d 80 98 10 e4 b7 ed 1a 8f d9 91 f0 6a a6 24 82 04 79 7e 36 a6 a7 3b 70"
    "a2 55 9c 09 ea d6 86 94 5b a2 46 ab 66 e5 ed d8 04 4b 4c 6d e3 fc f2 a8"
    "94 41 ac 66 27 2f d8 fb 33 0e f8 19 05 79 b3 68 45 96 c9 60 bd 59 6e ea"
    "52 0a 56 a8 d6 50 f5 63 aa d2 74 09 96 0d ca 63 d3 e6 88 61 1e a5 e2 2f"
    "44 15 cf 95 38 d5 1a 20 0c 27 03 42 72 96 8a 26 4e d6 54 0c 84 83 8d 89"
    "f7 2c 24 46 1a ad 6d 26 f5 9e ca ba 9a cb bb 31 7b 66 d9 02 f4 f2 92 a3"
    "6a c1 b6 39 c6 37 ce 34 31 17 b6 59 62 22 45 31 7b 49 ee da 0c 62 58 f1"
    "00 d7 d9 61 ff b1 38 64 7e 92 ea 33 0f ae ea 6d fa 31 c7 a8 4d c3 bd 7e"
    "1b 7a 6c 71 78 af 36 87 90 18 e3 f2 52 10 7f 24 3d 24 3d c7 33 9d 56 84"
    "c8 b0 37 8b f3 02 44 da 8c 87 c8 43 f5 e5 6e b4 c5 e8 28 0a 2b 48 05 2c"
    "f9 3b 16 49 9a 66 db 7c ca 71 e4 59 94 26 f7 d4 61 e6 6f 99 88 2b d8 9f"
    "c5 08 00 be cc a6 2d 6c 74 11 6d bd 29 72 fd a1 fa 80 f8 5d f8 81 ed be"
    "5a 37 66 89 36 b3 35 58 3b 59 91 86 dc 5c 69 18 a3 96 fa 48 a1 81 d6 b6"
    "fa 4f 9d 62 d5 13 af bb 99 2f 2b 99 2f 67 f8 af e6 7f 76 91 3f a3 88 cb"
    "56 30 c8 ca 01 e0 c6 5d 11 c6 6a 1e 2a c4 c8 59 77 b7 c7 a6 99 9b bf 10"
    "dc 35 ae 69 f5 51 56 14 63 6c 0b 9b 68 c1 9e d2 e3 1c 0b 3b 66 76 30 38"
    "eb ba 42 f3 b3 8e dc 03 99 f3 a9 f2 3f aa 63 97 8c 31 7f c9 fa 66 a7 3f"
    "60 f0 50 4d e9 3b 5b 84 5e 27 55 92 c1 23 35 ee 34 0b bc 4f dd d5 02 78"
    "40 16 e4 b3 be 7e f0 4d da 49 f4 b4 40 a3 0c b5 d2 af 93 98 28 fd 4a e3"
    "79 4e 44 f9 4d f5 a6 31 ed e4 2c 17 19 bf da bf 02 53 fe 51 75 be 89 8e"
    "75 0e dc 53 37 0d 2b";
static const char r8448_cfin[] =
    "75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c 56 cc 77 b0"
    "51 7f e9 b9 3c 7a 4b fc 44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c"
    "ae ac ab 68 67 d7 26 c4 05 46";
static const char r8448_nst[] =
    "3a 6b 8f 90 41 4a 97 d6 95 9c 34 87 68 0d e5 13 4a 2b 24"
    "0e 6c ff ac 11 6e 95 d4 1d 6a f8 f6 b5 80 dc f3 d1 1d 63 c7 58 db 28 9a"
    "01 59 40 25 2f 55 71 3e 06 1d c1 3e 07 88 91 a3 8e fb cf 57 53 ad 8e f1"
    "70 ad 3c 73 53 d1 6d 9d a7 73 b9 ca 7f 2b 9f a1 b6 c0 d4 a3 d0 3f 75 e0"
    "9c 30 ba 1e 62 97 2a c4 6f 75 f7 b9 81 be 63 43 9b 29 99 ce 13 06 46 15"
    "13 98 91 d5 e4 c5 b4 06 f1 6e 3f c1 81 a7 7c a4 75 84 00 25 db 2f 0a 77"
    "f8 1b 5a b0 5b 94 c0 13 46 75 5f 69 23 2c 86 51 9d 86 cb ee ac 87 aa c3"
    "47 d1 43 f9 60 5d 64 f6 50 db 4d 02 3e 70 e9 52 ca 49 fe 51 37 12 1c 74"
    "bc 26 97 68 7e 24 87 46 d6 df 35 30 05 f3 bc e1 86 96 12 9c 81 53 55 6b"
    "3b 6c 67 79 b3 7b f1 59 85 68 4f";
static const char r8448_c_app[] =
    "a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea"
    "42 f9 14 aa 66 bc ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b"
    "62 97 4e 1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4";
static const char r8448_s_app[] =
    "2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4 a4 69 32 fc"
    "32 25 d0 5f 82 aa 1b 36 e3 0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8"
    "fc c4 9c 4b f2 e5 f0 a2 1c 00 47 c2 ab f3 32 54 0d d0 32 e1 67 c2 95 5d";
static const char r8448_c_alert[] = "c9 87 27 60 65 56 66 b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3";
static const char r8448_s_alert[] = "b5 8f d6 71 66 eb f5 99 d2 47 20 cf be 7e fa 7a 88 64 a9";

static void test_rfc8448_traffic_keys(void **state)
{
    (void)state;
    static const struct {
        const char *secret, *key, *iv;
    } v[] = {
        {R8448_S_HS, "3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc", "5d 31 3e b2 67 12 76 ee 13 00 0b 30"},
        {R8448_C_HS, "db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01", "5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f"},
        {R8448_S_AP, "9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56", "cf 78 2b 88 dd 83 54 9a ad f1 e9 84"},
        {R8448_C_AP, "17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51", "5b 78 92 3d ee 08 57 90 33 e5 23 d9"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t secret[32], key[16], iv[12];
        unhex(v[i].secret, secret, sizeof secret);
        assert_int_equal(lf_tls13_expand_label("SHA256", secret, 32, "key", NULL, 0, key, 16), 0);
        assert_int_equal(lf_tls13_expand_label("SHA256", secret, 32, "iv", NULL, 0, iv, 12), 0);
        assert_hex(key, 16, v[i].key);
        assert_hex(iv, 12, v[i].iv);
    }
    /* a label with a context: "tls13 finished" of the server handshake secret (RFC 8448 section 3) */
    uint8_t secret[32], fin[32];
    unhex(R8448_S_HS, secret, sizeof secret);
    assert_int_equal(lf_tls13_expand_label("SHA256", secret, 32, "finished", NULL, 0, fin, 32), 0);
    assert_hex(fin, 32, "00 8d 3b 66 f8 16 ea 55 9f 96 b5 37 e8 85 c3 1f"
                        "c0 68 bf 49 2c 65 2f 01 f2 88 a1 d8 cd c1 9f c8");
}

static void keylog_line(char *out, size_t size, const char *label, const char *random_hex, const char *secret_hex)
{
    uint8_t r[48], s[48];
    size_t rn = unhex(random_hex, r, sizeof r), sn = unhex(secret_hex, s, sizeof s);
    char rh[97], sh[97];
    tohex(r, rn, rh);
    tohex(s, sn, sh);
    snprintf(out, size, "%s %s %s", label, rh, sh);
}

static struct lf_keystore *rfc8448_keystore(void)
{
    struct lf_keystore *ks = lf_keystore_new();
    static const struct {
        const char *label, *secret;
    } l[] = {
        {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", R8448_C_HS},
        {"SERVER_HANDSHAKE_TRAFFIC_SECRET", R8448_S_HS},
        {"CLIENT_TRAFFIC_SECRET_0", R8448_C_AP},
        {"SERVER_TRAFFIC_SECRET_0", R8448_S_AP},
    };
    for (size_t i = 0; i < 4; i++) {
        char line[256];
        keylog_line(line, sizeof line, l[i].label, R8448_C_RANDOM, l[i].secret);
        lf_keystore_add_line(ks, line, strlen(line));
    }
    assert_int_equal(lf_keystore_bad_lines(ks), 0);
    return ks;
}

static enum lf_dec open_hex(struct lf_tlsdec *d, int dir, const char *hex, uint8_t *out, size_t *outlen,
                            uint8_t *inner)
{
    uint8_t rec[1024];
    size_t n = unhex(hex, rec, sizeof rec);
    return lf_tlsdec_record(d, dir, 23, 0x0303, rec, n, out, outlen, inner);
}

/* Hands every handshake message of a decrypted flight to the decryptor. */
static void feed_messages(struct lf_tlsdec *d, int dir, const uint8_t *p, size_t n)
{
    size_t o = 0;
    while (o + 4 <= n) {
        size_t len = (size_t)p[o + 1] << 16 | (size_t)p[o + 2] << 8 | p[o + 3];
        assert_true(o + 4 + len <= n);
        lf_tlsdec_handshake(d, dir, p + o, 4 + len);
        o += 4 + len;
    }
    assert_int_equal(o, n);
}

static void test_rfc8448_records(void **state)
{
    (void)state;
    struct lf_keystore *ks = rfc8448_keystore();
    struct lf_tlsdec *d = lf_tlsdec_new(ks);
    assert_non_null(d);
    uint8_t msg[1024], out[1024], inner = 0;
    size_t n, outlen = 0;

    n = unhex(r8448_ch, msg, sizeof msg);
    assert_int_equal(n, 196);
    lf_tlsdec_handshake(d, 0, msg, n);
    assert_false(lf_tlsdec_encrypted(d, 1, 23));
    n = unhex(r8448_sh, msg, sizeof msg);
    lf_tlsdec_handshake(d, 1, msg, n);
    assert_true(lf_tlsdec_has_keys(d));
    assert_true(lf_tlsdec_encrypted(d, 1, 23));
    assert_true(lf_tlsdec_encrypted(d, 0, 23));
    assert_false(lf_tlsdec_encrypted(d, 0, 20)); /* a middlebox ChangeCipherSpec stays plaintext */

    /* EncryptedExtensions, Certificate, CertificateVerify, Finished under the server handshake key */
    assert_int_equal(open_hex(d, 1, r8448_flight, out, &outlen, &inner), LF_DEC_OK);
    assert_int_equal(inner, 22);
    assert_int_equal(outlen, 657);
    assert_hex(out, 10, "08 00 00 24 00 22 00 0a 00 14");
    assert_hex(out + 40, 4, "0b 00 01 b9"); /* the Certificate follows the 40-byte EncryptedExtensions */
    feed_messages(d, 1, out, outlen);

    /* the client Finished under the client handshake key */
    assert_int_equal(open_hex(d, 0, r8448_cfin, out, &outlen, &inner), LF_DEC_OK);
    assert_int_equal(inner, 22);
    assert_hex(out, outlen, "14 00 00 20 a8 ec 43 6d 67 76 34 ae 52 5a c1 fc eb e1 1a 03"
                            "9e c1 76 94 fa c6 e9 85 27 b6 42 f2 ed d5 ce 61");
    feed_messages(d, 0, out, outlen);

    /* NewSessionTicket, then application data both ways under the application keys */
    assert_int_equal(open_hex(d, 1, r8448_nst, out, &outlen, &inner), LF_DEC_OK);
    assert_int_equal(inner, 22);
    assert_int_equal(out[0], 4);
    feed_messages(d, 1, out, outlen);
    uint8_t payload[50];
    for (int i = 0; i < 50; i++)
        payload[i] = (uint8_t)i;
    assert_int_equal(open_hex(d, 0, r8448_c_app, out, &outlen, &inner), LF_DEC_OK);
    assert_int_equal(inner, 23);
    assert_int_equal(outlen, 50);
    assert_memory_equal(out, payload, 50);
    assert_int_equal(open_hex(d, 1, r8448_s_app, out, &outlen, &inner), LF_DEC_OK);
    assert_int_equal(outlen, 50);
    assert_memory_equal(out, payload, 50);
    /* close_notify alerts */
    assert_int_equal(open_hex(d, 0, r8448_c_alert, out, &outlen, &inner), LF_DEC_OK);
    assert_int_equal(inner, 21);
    assert_hex(out, outlen, "01 00");
    assert_int_equal(open_hex(d, 1, r8448_s_alert, out, &outlen, &inner), LF_DEC_OK);
    assert_int_equal(inner, 21);
    assert_int_equal(lf_tlsdec_failures(d), 0);
    lf_tlsdec_free(d);

    /* a flipped bit in the tag: FAIL, counted, nothing returned */
    d = lf_tlsdec_new(ks);
    n = unhex(r8448_ch, msg, sizeof msg);
    lf_tlsdec_handshake(d, 0, msg, n);
    n = unhex(r8448_sh, msg, sizeof msg);
    lf_tlsdec_handshake(d, 1, msg, n);
    uint8_t rec[1024];
    n = unhex(r8448_flight, rec, sizeof rec);
    rec[n - 1] ^= 1;
    outlen = 99;
    assert_int_equal(lf_tlsdec_record(d, 1, 23, 0x0303, rec, n, out, &outlen, &inner), LF_DEC_FAIL);
    assert_int_equal(outlen, 0);
    assert_int_equal(lf_tlsdec_failures(d), 1);
    lf_tlsdec_free(d);
    lf_keystore_free(ks);
}

/* 0-RTT offered: a client record under the early key (EndOfEarlyData) fails without using up sequence number 0. */
static void test_tls13_early_data(void **state)
{
    (void)state;
    struct lf_keystore *ks = rfc8448_keystore();
    for (int early = 0; early < 2; early++) {
        struct lf_tlsdec *d = lf_tlsdec_new(ks);
        uint8_t msg[1024], out[1024], inner, junk[40];
        size_t n = unhex(r8448_ch, msg, sizeof msg), outlen;
        assert_int_equal(msg[3], 0xc0);
        assert_int_equal(msg[50], 0x91); /* the extensions' length */
        if (early) {
            memcpy(msg + n, "\x00\x2a\x00\x00", 4);
            n += 4;
            msg[3] += 4;
            msg[50] += 4;
        }
        lf_tlsdec_handshake(d, 0, msg, n);
        n = unhex(r8448_sh, msg, sizeof msg);
        lf_tlsdec_handshake(d, 1, msg, n);
        memset(junk, 0x33, sizeof junk);
        assert_int_equal(lf_tlsdec_record(d, 0, 23, 0x0303, junk, sizeof junk, out, &outlen, &inner), LF_DEC_FAIL);
        assert_int_equal(open_hex(d, 0, r8448_cfin, out, &outlen, &inner), early ? LF_DEC_OK : LF_DEC_FAIL);
        lf_tlsdec_free(d);
    }
    lf_keystore_free(ks);
}

/* KeyUpdate: the client's next records use HKDF-Expand-Label(secret, "traffic upd"). */
static void test_tls13_key_update_and_hrr(void **state)
{
    (void)state;
    struct lf_keystore *ks = rfc8448_keystore();
    struct lf_tlsdec *d = lf_tlsdec_new(ks);
    uint8_t msg[1024], out[1024], inner;
    size_t n, outlen;
    n = unhex(r8448_ch, msg, sizeof msg);
    lf_tlsdec_handshake(d, 0, msg, n);
    /* a HelloRetryRequest: the second ClientHello is plaintext, nothing is encrypted yet */
    uint8_t hrr[128];
    size_t hn = unhex("02 00 00 2e 03 03 CF 21 AD 74 E5 9A 61 11 BE 1D 8C 02 1E 65 B8 91 C2 A2 11 16 7A BB 8C 5E 07 9E"
                      " 09 E2 C8 A8 33 9C 00 13 01 00 00 06 00 2b 00 02 03 04",
                      hrr, sizeof hrr);
    lf_tlsdec_handshake(d, 1, hrr, hn);
    lf_tlsdec_ccs(d, 0);
    assert_false(lf_tlsdec_encrypted(d, 0, 22));
    assert_false(lf_tlsdec_encrypted(d, 1, 23));
    lf_tlsdec_handshake(d, 0, msg, n);
    n = unhex(r8448_sh, msg, sizeof msg);
    lf_tlsdec_handshake(d, 1, msg, n);
    assert_true(lf_tlsdec_encrypted(d, 1, 23));
    assert_int_equal(open_hex(d, 1, r8448_flight, out, &outlen, &inner), LF_DEC_OK);
    feed_messages(d, 1, out, outlen);
    assert_int_equal(open_hex(d, 0, r8448_cfin, out, &outlen, &inner), LF_DEC_OK);
    feed_messages(d, 0, out, outlen);

    uint8_t ku[5] = {24, 0, 0, 1, 0};
    lf_tlsdec_handshake(d, 0, ku, sizeof ku);
    uint8_t cap[32], next[32], key[16], iv[12];
    unhex(R8448_C_AP, cap, sizeof cap);
    assert_int_equal(lf_tls13_expand_label("SHA256", cap, 32, "traffic upd", NULL, 0, next, 32), 0);
    assert_int_equal(lf_tls13_expand_label("SHA256", next, 32, "key", NULL, 0, key, 16), 0);
    assert_int_equal(lf_tls13_expand_label("SHA256", next, 32, "iv", NULL, 0, iv, 12), 0);
    /* encrypt "hello" + inner type 23 with sequence 0 under the updated key */
    uint8_t pt[6] = {'h', 'e', 'l', 'l', 'o', 23}, rec[6 + 16], aad[5] = {23, 3, 3, 0, 22};
    EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
    int l1 = 0, l2 = 0;
    assert_true(EVP_EncryptInit_ex(cc, EVP_aes_128_gcm(), NULL, key, iv) > 0);
    assert_true(EVP_EncryptUpdate(cc, NULL, &l1, aad, 5) > 0);
    assert_true(EVP_EncryptUpdate(cc, rec, &l1, pt, 6) > 0);
    assert_true(EVP_EncryptFinal_ex(cc, rec + l1, &l2) > 0);
    assert_true(EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_AEAD_GET_TAG, 16, rec + 6) > 0);
    EVP_CIPHER_CTX_free(cc);
    assert_int_equal(lf_tlsdec_record(d, 0, 23, 0x0303, rec, sizeof rec, out, &outlen, &inner), LF_DEC_OK);
    assert_int_equal(outlen, 5);
    assert_memory_equal(out, "hello", 5);
    lf_tlsdec_free(d);
    lf_keystore_free(ks);
}

/* ---- key logs ---------------------------------------------------------- */

#define RND_A "aa00000000000000000000000000000000000000000000000000000000000001"
#define RND_B "bb00000000000000000000000000000000000000000000000000000000000002"
#define MS48 "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30"
#define S32 "1111111111111111111111111111111111111111111111111111111111111111"

static void test_keylog_parse(void **state)
{
    (void)state;
    const char text[] = "# comment\n"
                        "\n"
                        "CLIENT_RANDOM " RND_A " " MS48 "\n"
                        "CLIENT_HANDSHAKE_TRAFFIC_SECRET " RND_B " " S32 "\r\n"
                        "SERVER_HANDSHAKE_TRAFFIC_SECRET\t" RND_B "  " S32 "\n"
                        "EXPORTER_SECRET " RND_B " " S32 "\n"
                        "CLIENT_RANDOM " RND_A "\n"                      /* line 7: missing secret */
                        "CLIENT_RANDOM " RND_A "zz " MS48 "\n"           /* 8: bad hex */
                        "CLIENT_RANDOM aa01 " MS48 "\n"                  /* 9: short random */
                        "CLIENT_RANDOM " RND_A " " S32 "\n"              /* 10: 32-byte master */
                        "client random " RND_A " " MS48 "\n"             /* 11: not a label */
                        "CLIENT_TRAFFIC_SECRET_0 " RND_B " " S32 " x\n"; /* 12: extra field */
    char *path = write_tmp(text, sizeof text - 1);
    struct lf_keystore *ks = lf_keystore_new();
    char err[256] = "";
    assert_int_equal(lf_keystore_load_keylog(ks, path, err, sizeof err), 0);
    assert_int_equal(lf_keystore_bad_lines(ks), 6);
    assert_int_equal(lf_keystore_ignored_lines(ks), 1);
    assert_int_equal(lf_keystore_secrets(ks), 2);

    /* the file grows: new lines are read from where the last read stopped */
    append_file(path, "CLIENT_RANDOM " RND_B " " MS48 "\nnot a line\n");
    struct lf_tlsdec *d = lf_tlsdec_new(ks);
    uint8_t ch[128], sh[128];
    size_t cn = unhex("01 00 00 29 03 03" RND_B "00 00 02 00 9c 01 00", ch, sizeof ch);
    size_t sn = unhex("02 00 00 26 03 03" RND_A "00 00 9c 00", sh, sizeof sh);
    lf_tlsdec_handshake(d, 0, ch, cn);
    lf_tlsdec_handshake(d, 1, sh, sn);
    assert_false(lf_tlsdec_has_keys(d));
    lf_tlsdec_ccs(d, 1);
    assert_true(lf_tlsdec_has_keys(d));
    assert_int_equal(lf_keystore_bad_lines(ks), 7);
    assert_int_equal(lf_keystore_secrets(ks), 2);
    lf_tlsdec_free(d);

    /* no key log file */
    char err2[256] = "";
    assert_int_equal(lf_keystore_load_keylog(ks, "/nonexistent/keylog.txt", err2, sizeof err2), -1);
    assert_non_null(strstr(err2, "/nonexistent/keylog.txt"));
    lf_keystore_free(ks);
    unlink(path);
    free(path);

    /* no secrets at all: no decryptor, nothing to pay */
    ks = lf_keystore_new();
    assert_null(lf_tlsdec_new(ks));
    assert_null(lf_tlsdec_new(NULL));
    lf_keystore_free(ks);
}

/* ---- pcapng Decryption Secrets Blocks ---------------------------------- */

static size_t put32(uint8_t *p, uint32_t v, int le)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(le ? v >> (8 * i) : v >> (8 * (3 - i)));
    return 4;
}

static size_t pcapng(uint8_t *buf, int le, const char *secrets, int corrupt)
{
    size_t o = 0;
    /* SHB: type, length 28, BOM, version 1.0, section length -1 */
    o += put32(buf + o, 0x0A0D0D0A, le);
    o += put32(buf + o, 28, le);
    o += put32(buf + o, 0x1A2B3C4D, le);
    o += put32(buf + o, le ? 0x00000001 : 0x00010000, le);
    o += put32(buf + o, 0xffffffff, le);
    o += put32(buf + o, 0xffffffff, le);
    o += put32(buf + o, 28, le);
    /* IDB: linktype 1, snaplen 0 */
    o += put32(buf + o, 1, le);
    o += put32(buf + o, 20, le);
    o += put32(buf + o, le ? 1 : 0x00010000, le);
    o += put32(buf + o, 0, le);
    o += put32(buf + o, 20, le);
    size_t slen = strlen(secrets), pad = (4 - slen % 4) % 4;
    uint32_t total = (uint32_t)(12 + 8 + slen + pad);
    o += put32(buf + o, 0x0000000A, le);
    o += put32(buf + o, corrupt ? 7 : total, le);
    o += put32(buf + o, 0x544c534b, le);
    o += put32(buf + o, (uint32_t)slen, le);
    memcpy(buf + o, secrets, slen);
    o += slen;
    memset(buf + o, 0, pad);
    o += pad;
    o += put32(buf + o, total, le);
    return o;
}

static void test_pcapng_secrets(void **state)
{
    (void)state;
    const char secrets[] = "CLIENT_RANDOM " RND_A " " MS48 "\n"
                           "SERVER_TRAFFIC_SECRET_0 " RND_B " " S32 "\n"
                           "garbage\n"
                           "CLIENT_TRAFFIC_SECRET_0 " RND_B " " S32;
    uint8_t buf[2048];
    for (int le = 0; le < 2; le++) {
        size_t n = pcapng(buf, le, secrets, 0);
        char *path = write_tmp((const char *)buf, n);
        struct lf_keystore *ks = lf_keystore_new();
        char err[256];
        assert_int_equal(lf_keystore_load_pcapng_secrets(ks, path, err, sizeof err), 0);
        assert_int_equal(lf_keystore_secrets(ks), 2);
        assert_int_equal(lf_keystore_bad_lines(ks), 1);
        lf_keystore_free(ks);
        /* a corrupt block length: reported, nothing read, no crash */
        n = pcapng(buf, le, secrets, 1);
        FILE *f = fopen(path, "wb");
        fwrite(buf, 1, n, f);
        fclose(f);
        ks = lf_keystore_new();
        assert_int_equal(lf_keystore_load_pcapng_secrets(ks, path, err, sizeof err), 0);
        assert_int_equal(lf_keystore_secrets(ks), 0);
        lf_keystore_free(ks);
        /* truncated in the middle of the secrets block */
        n = pcapng(buf, le, secrets, 0);
        f = fopen(path, "wb");
        fwrite(buf, 1, n - 30, f);
        fclose(f);
        ks = lf_keystore_new();
        assert_int_equal(lf_keystore_load_pcapng_secrets(ks, path, err, sizeof err), 0);
        assert_int_equal(lf_keystore_secrets(ks), 0);
        lf_keystore_free(ks);
        unlink(path);
        free(path);
    }
    /* a classic pcap file: nothing to read */
    uint8_t pcap[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0};
    char *path = write_tmp((const char *)pcap, sizeof pcap);
    struct lf_keystore *ks = lf_keystore_new();
    char err[256];
    assert_int_equal(lf_keystore_load_pcapng_secrets(ks, path, err, sizeof err), 0);
    assert_int_equal(lf_keystore_secrets(ks), 0);
    lf_keystore_free(ks);
    unlink(path);
    free(path);
}

/* ---- TLS 1.2 records, encrypted here the way a TLS stack does ---------- */

struct keys12 {
    uint8_t mac[2][48], key[2][32], iv[2][16];
};

static void derive12(const char *prf, const uint8_t *master, const uint8_t *cr, const uint8_t *sr, size_t maclen,
                     size_t keylen, size_t ivlen, struct keys12 *k)
{
    uint8_t seed[64], kb[256];
    memcpy(seed, sr, 32);
    memcpy(seed + 32, cr, 32);
    size_t total = 2 * (maclen + keylen + ivlen);
    assert_int_equal(lf_tls12_prf(prf, master, 48, "key expansion", seed, 64, kb, total), 0);
    size_t o = 0;
    for (int i = 0; i < 2; i++, o += maclen)
        memcpy(k->mac[i], kb + o, maclen);
    for (int i = 0; i < 2; i++, o += keylen)
        memcpy(k->key[i], kb + o, keylen);
    for (int i = 0; i < 2; i++, o += ivlen)
        memcpy(k->iv[i], kb + o, ivlen);
}

static void hdr13(uint8_t *h, uint64_t seq, uint8_t type, uint16_t ver, size_t len)
{
    for (int i = 7; i >= 0; i--, seq >>= 8)
        h[i] = (uint8_t)seq;
    h[8] = type;
    h[9] = (uint8_t)(ver >> 8);
    h[10] = (uint8_t)ver;
    h[11] = (uint8_t)(len >> 8);
    h[12] = (uint8_t)len;
}

/* AES-GCM (explicit nonce = seq) or ChaCha20-Poly1305 record body. */
static size_t seal_aead(int chacha, const struct keys12 *k, int dir, uint64_t seq, const uint8_t *pt, size_t n,
                        size_t keylen, uint8_t *out)
{
    uint8_t nonce[12], aad[13];
    size_t o = 0;
    if (chacha) {
        memcpy(nonce, k->iv[dir], 12);
        for (int i = 0; i < 8; i++)
            nonce[4 + i] ^= (uint8_t)(seq >> (56 - 8 * i));
    } else {
        memcpy(nonce, k->iv[dir], 4);
        for (int i = 0; i < 8; i++)
            nonce[4 + i] = (uint8_t)(seq >> (56 - 8 * i));
        memcpy(out, nonce + 4, 8);
        o = 8;
    }
    hdr13(aad, seq, 23, 0x0303, n);
    const EVP_CIPHER *c = chacha ? EVP_chacha20_poly1305() : keylen == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
    EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
    int l = 0;
    assert_true(EVP_EncryptInit_ex(cc, c, NULL, k->key[dir], nonce) > 0);
    assert_true(EVP_EncryptUpdate(cc, NULL, &l, aad, 13) > 0);
    assert_true(EVP_EncryptUpdate(cc, out + o, &l, pt, (int)n) > 0);
    assert_true(EVP_EncryptFinal_ex(cc, out + o + n, &l) > 0);
    assert_true(EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_AEAD_GET_TAG, 16, out + o + n) > 0);
    EVP_CIPHER_CTX_free(cc);
    return o + n + 16;
}

/* AES-CBC record body: MAC-then-encrypt, or encrypt-then-MAC (RFC 7366). */
static size_t seal_cbc(const struct keys12 *k, int dir, uint64_t seq, uint16_t ver, const uint8_t *pt, size_t n,
                       size_t keylen, const EVP_MD *md, size_t maclen, int etm, uint8_t *chain_iv, uint8_t *out)
{
    uint8_t buf[2048], hdr[13], iv[16];
    size_t o = 0, b = 0;
    memcpy(buf, pt, n);
    b = n;
    unsigned ml = 0;
    if (!etm) {
        hdr13(hdr, seq, 23, ver, n);
        HMAC_CTX *h = NULL;
        (void)h;
        uint8_t macin[2048];
        memcpy(macin, hdr, 13);
        memcpy(macin + 13, pt, n);
        HMAC(md, k->mac[dir], (int)maclen, macin, 13 + n, buf + b, &ml);
        b += ml;
    }
    size_t pad = 16 - (b + 1) % 16;
    if (pad == 16)
        pad = 0;
    pad += 16; /* one extra block of padding, as TLS allows */
    for (size_t i = 0; i <= pad; i++)
        buf[b++] = (uint8_t)pad;
    if (ver >= 0x0302) {
        for (int i = 0; i < 16; i++)
            iv[i] = (uint8_t)(0xa0 + i + seq);
        memcpy(out, iv, 16);
        o = 16;
    } else
        memcpy(iv, chain_iv, 16);
    EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
    int l = 0;
    assert_true(EVP_EncryptInit_ex(cc, keylen == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc(), NULL, k->key[dir], iv) >
                0);
    EVP_CIPHER_CTX_set_padding(cc, 0);
    assert_true(EVP_EncryptUpdate(cc, out + o, &l, buf, (int)b) > 0);
    EVP_CIPHER_CTX_free(cc);
    o += b;
    if (ver < 0x0302)
        memcpy(chain_iv, out + o - 16, 16);
    if (etm) {
        uint8_t macin[2048];
        hdr13(macin, seq, 23, ver, o);
        memcpy(macin + 13, out, o);
        HMAC(md, k->mac[dir], (int)maclen, macin, 13 + o, out + o, &ml);
        o += ml;
    }
    return o;
}

static size_t hello(uint8_t *p, int type, uint16_t ver, const uint8_t *random, const uint8_t *sid, size_t sidlen,
                    uint16_t suite, const char *ext_hex)
{
    uint8_t ext[256];
    size_t en = ext_hex ? unhex(ext_hex, ext, sizeof ext) : 0;
    size_t o = 4;
    p[o++] = (uint8_t)(ver >> 8);
    p[o++] = (uint8_t)ver;
    memcpy(p + o, random, 32);
    o += 32;
    p[o++] = (uint8_t)sidlen;
    if (sidlen)
        memcpy(p + o, sid, sidlen);
    o += sidlen;
    if (type == 1) {
        p[o++] = 0;
        p[o++] = 2;
    }
    p[o++] = (uint8_t)(suite >> 8);
    p[o++] = (uint8_t)suite;
    if (type == 1)
        p[o++] = 1;
    p[o++] = 0;
    if (en) {
        p[o++] = (uint8_t)(en >> 8);
        p[o++] = (uint8_t)en;
        memcpy(p + o, ext, en);
        o += en;
    }
    p[0] = (uint8_t)type;
    p[1] = 0;
    p[2] = (uint8_t)((o - 4) >> 8);
    p[3] = (uint8_t)(o - 4);
    return o;
}

struct cs12 {
    uint16_t suite, ver;
    int kind; /* 0 GCM, 1 ChaCha, 2 CBC */
    size_t keylen, maclen;
    const char *prf, *mac;
    int etm;
};

static void run12(const struct cs12 *cs)
{
    uint8_t cr[32], sr[32], master[48];
    for (int i = 0; i < 32; i++) {
        cr[i] = (uint8_t)(cs->suite + i);
        sr[i] = (uint8_t)(0x80 + i + cs->ver);
    }
    for (int i = 0; i < 48; i++)
        master[i] = (uint8_t)(i * 7 + cs->etm);
    char line[256], rh[65], mh[97];
    tohex(cr, 32, rh);
    tohex(master, 48, mh);
    snprintf(line, sizeof line, "CLIENT_RANDOM %s %s", rh, mh);
    struct lf_keystore *ks = lf_keystore_new();
    lf_keystore_add_line(ks, line, strlen(line));
    struct lf_tlsdec *d = lf_tlsdec_new(ks);
    uint8_t msg[512];
    size_t n = hello(msg, 1, 0x0303, cr, NULL, 0, cs->suite, cs->etm ? "00 16 00 00" : NULL);
    lf_tlsdec_handshake(d, 0, msg, n);
    n = hello(msg, 2, cs->ver, sr, NULL, 0, cs->suite, cs->etm ? "00 16 00 00" : NULL);
    lf_tlsdec_handshake(d, 1, msg, n);
    assert_false(lf_tlsdec_encrypted(d, 0, 23));
    lf_tlsdec_ccs(d, 0);
    lf_tlsdec_ccs(d, 1);
    assert_true(lf_tlsdec_encrypted(d, 0, 23));
    assert_true(lf_tlsdec_encrypted(d, 1, 22));
    assert_true(lf_tlsdec_has_keys(d));

    struct keys12 k;
    size_t ivlen = cs->kind == 0 ? 4 : cs->kind == 1 ? 12 : 16;
    derive12(cs->ver < 0x0303 ? "MD5-SHA1" : cs->prf, master, cr, sr, cs->kind == 2 ? cs->maclen : 0, cs->keylen,
             ivlen, &k);
    uint8_t chain[2][16];
    memcpy(chain[0], k.iv[0], 16);
    memcpy(chain[1], k.iv[1], 16);
    const char *texts[3] = {"GET /abs/handler HTTP/1.1\r\nHost: feweb.contoso.com\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n",
                            "GET /WebTicket/WebTicketService.svc HTTP/1.1\r\n\r\n"};
    for (uint64_t seq = 0; seq < 3; seq++) {
        for (int dir = 0; dir < 2; dir++) {
            const uint8_t *pt = (const uint8_t *)texts[(seq + (uint64_t)dir) % 3];
            size_t pn = strlen((const char *)pt);
            uint8_t rec[2048], out[2048], inner = 0;
            size_t rn, outlen = 0;
            if (cs->kind == 2)
                rn = seal_cbc(&k, dir, seq, cs->ver, pt, pn, cs->keylen, EVP_get_digestbyname(cs->mac), cs->maclen,
                              cs->etm, chain[dir], rec);
            else
                rn = seal_aead(cs->kind == 1, &k, dir, seq, pt, pn, cs->keylen, rec);
            if (seq == 2 && dir == 1) {
                /* a tampered record fails, the next one (same sequence) was never sent */
                rec[rn / 2] ^= 0x40;
                assert_int_equal(lf_tlsdec_record(d, dir, 23, cs->ver, rec, rn, out, &outlen, &inner), LF_DEC_FAIL);
                assert_int_equal(outlen, 0);
                continue;
            }
            if (lf_tlsdec_record(d, dir, 23, cs->ver, rec, rn, out, &outlen, &inner) != LF_DEC_OK)
                fail_msg("suite %04x version %04x etm %d seq %d dir %d", cs->suite, cs->ver, cs->etm, (int)seq, dir);
            assert_int_equal(inner, 23);
            assert_int_equal(outlen, pn);
            assert_memory_equal(out, pt, pn);
        }
    }
    assert_int_equal(lf_tlsdec_failures(d), 1);
    /* a renegotiation's ClientHello (inside the protected records) leaves the keys in use until the next CCS */
    uint8_t cr2[32];
    memset(cr2, 0x77, sizeof cr2);
    n = hello(msg, 1, 0x0303, cr2, NULL, 0, cs->suite, NULL);
    lf_tlsdec_handshake(d, 0, msg, n);
    assert_true(lf_tlsdec_encrypted(d, 0, 23));
    const uint8_t *pt = (const uint8_t *)texts[0];
    size_t pn = strlen(texts[0]), outlen = 0;
    uint8_t rec[2048], out[2048], inner = 0;
    size_t rn = cs->kind == 2 ? seal_cbc(&k, 0, 3, cs->ver, pt, pn, cs->keylen, EVP_get_digestbyname(cs->mac),
                                         cs->maclen, cs->etm, chain[0], rec)
                              : seal_aead(cs->kind == 1, &k, 0, 3, pt, pn, cs->keylen, rec);
    assert_int_equal(lf_tlsdec_record(d, 0, 23, cs->ver, rec, rn, out, &outlen, &inner), LF_DEC_OK);
    assert_memory_equal(out, pt, pn);
    lf_tlsdec_free(d);
    lf_keystore_free(ks);
}

static void test_tls12_ciphers(void **state)
{
    (void)state;
    static const struct cs12 v[] = {
        {0xC02F, 0x0303, 0, 16, 0, "SHA256", NULL, 0},   /* ECDHE_RSA_AES_128_GCM_SHA256 */
        {0xC030, 0x0303, 0, 32, 0, "SHA384", NULL, 0},   /* ECDHE_RSA_AES_256_GCM_SHA384 */
        {0xCCA8, 0x0303, 1, 32, 0, "SHA256", NULL, 0},   /* ECDHE_RSA_CHACHA20_POLY1305 */
        {0xC013, 0x0303, 2, 16, 20, "SHA256", "SHA1", 0},  /* ECDHE_RSA_AES_128_CBC_SHA, TLS 1.2 */
        {0xC013, 0x0303, 2, 16, 20, "SHA256", "SHA1", 1},  /* the same, encrypt-then-MAC */
        {0xC014, 0x0301, 2, 32, 20, "SHA256", "SHA1", 0},  /* TLS 1.0: chained IV, MD5/SHA-1 PRF */
        {0xC014, 0x0302, 2, 32, 20, "SHA256", "SHA1", 0},  /* TLS 1.1: explicit IV */
        {0x003C, 0x0303, 2, 16, 32, "SHA256", "SHA256", 0}, /* RSA_AES_128_CBC_SHA256 */
        {0xC028, 0x0303, 2, 32, 48, "SHA384", "SHA384", 0}, /* ECDHE_RSA_AES_256_CBC_SHA384 */
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        run12(&v[i]);
}

/* ---- RSA key exchange -------------------------------------------------- */

static char *genrsa(const char *name)
{
    char *path = malloc(128), cmd[256];
    snprintf(path, 128, "/tmp/lf-tlsdec-%d-%s.pem", (int)getpid(), name);
    snprintf(cmd, sizeof cmd, "openssl genrsa -out %s 2048 2>/dev/null", path);
    assert_int_equal(system(cmd), 0);
    return path;
}

static EVP_PKEY *read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(k);
    return k;
}

/* DER of a self-signed certificate for the key at path. */
static size_t cert_der(const char *key, uint8_t *out, size_t max)
{
    char der[160], cmd[512];
    snprintf(der, sizeof der, "%s.der", key);
    snprintf(cmd, sizeof cmd,
             "openssl req -new -x509 -key %s -subj /CN=feweb.contoso.com -days 2 -outform DER -out %s 2>/dev/null",
             key, der);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(der, "rb");
    assert_non_null(f);
    size_t n = fread(out, 1, max, f);
    fclose(f);
    unlink(der);
    return n;
}

struct rsa_hs {
    uint8_t cr[32], sr[32], pms[48], sid[32];
    uint8_t ch[512], sh[512], cke[600];
    size_t chn, shn, cken;
};

static void rsa_handshake(struct rsa_hs *h, EVP_PKEY *pub, int ems, uint8_t seedbyte)
{
    for (int i = 0; i < 32; i++) {
        h->cr[i] = (uint8_t)(seedbyte + i);
        h->sr[i] = (uint8_t)(seedbyte * 3 + i);
        h->sid[i] = (uint8_t)(0x5a ^ i ^ seedbyte);
    }
    h->pms[0] = 3;
    h->pms[1] = 3;
    for (int i = 2; i < 48; i++)
        h->pms[i] = (uint8_t)(i * 13 + seedbyte);
    h->chn = hello(h->ch, 1, 0x0303, h->cr, NULL, 0, 0x009C, ems ? "00 17 00 00" : NULL);
    h->shn = hello(h->sh, 2, 0x0303, h->sr, h->sid, 32, 0x009C, ems ? "00 17 00 00" : NULL);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
    size_t elen = 512;
    assert_true(EVP_PKEY_encrypt_init(ctx) > 0);
    assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0);
    assert_true(EVP_PKEY_encrypt(ctx, h->cke + 6, &elen, h->pms, 48) > 0);
    EVP_PKEY_CTX_free(ctx);
    h->cke[0] = 16;
    h->cke[1] = 0;
    h->cke[2] = (uint8_t)((elen + 2) >> 8);
    h->cke[3] = (uint8_t)(elen + 2);
    h->cke[4] = (uint8_t)(elen >> 8);
    h->cke[5] = (uint8_t)elen;
    h->cken = elen + 6;
}

/* Client Finished-like record from the master the test computes itself. */
static void check_record(struct lf_tlsdec *d, const uint8_t *master, const uint8_t *cr, const uint8_t *sr)
{
    struct keys12 k;
    derive12("SHA256", master, cr, sr, 0, 16, 4, &k);
    const uint8_t pt[] = "GET /autodiscover/autodiscoverservice.svc/root HTTP/1.1\r\n\r\n";
    uint8_t rec[256], out[256], inner;
    size_t rn = seal_aead(0, &k, 0, 0, pt, sizeof pt - 1, 16, rec), outlen = 0;
    assert_int_equal(lf_tlsdec_record(d, 0, 23, 0x0303, rec, rn, out, &outlen, &inner), LF_DEC_OK);
    assert_int_equal(outlen, sizeof pt - 1);
    assert_memory_equal(out, pt, outlen);
}

static void test_rsa(void **state)
{
    (void)state;
    char *k1 = genrsa("one"), *k2 = genrsa("two");
    EVP_PKEY *pub1 = read_key(k1), *pub2 = read_key(k2);
    char err[256];
    struct lf_keystore *ks = lf_keystore_new();
    assert_int_equal(lf_keystore_add_rsa(ks, k1, err, sizeof err), 0);
    assert_int_equal(lf_keystore_add_rsa(ks, "/nonexistent.pem", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent.pem"));
    char *notkey = write_tmp("hello\n", 6);
    assert_int_equal(lf_keystore_add_rsa(ks, notkey, err, sizeof err), -1);
    assert_non_null(strstr(err, notkey));
    unlink(notkey);
    free(notkey);

    for (int ems = 0; ems < 2; ems++) {
        struct rsa_hs h;
        rsa_handshake(&h, pub1, ems, (uint8_t)(0x10 + ems));
        struct lf_tlsdec *d = lf_tlsdec_new(ks);
        lf_tlsdec_handshake(d, 0, h.ch, h.chn);
        lf_tlsdec_handshake(d, 1, h.sh, h.shn);
        uint8_t shd[4] = {14, 0, 0, 0};
        lf_tlsdec_handshake(d, 1, shd, 4);
        lf_tlsdec_handshake(d, 0, h.cke, h.cken);
        assert_true(lf_tlsdec_has_keys(d));
        lf_tlsdec_ccs(d, 0);
        uint8_t master[48];
        if (ems) {
            uint8_t th[32];
            EVP_MD_CTX *m = EVP_MD_CTX_new();
            EVP_DigestInit_ex(m, EVP_sha256(), NULL);
            EVP_DigestUpdate(m, h.ch, h.chn);
            EVP_DigestUpdate(m, h.sh, h.shn);
            EVP_DigestUpdate(m, shd, 4);
            EVP_DigestUpdate(m, h.cke, h.cken);
            EVP_DigestFinal_ex(m, th, NULL);
            EVP_MD_CTX_free(m);
            assert_int_equal(lf_tls12_prf("SHA256", h.pms, 48, "extended master secret", th, 32, master, 48), 0);
        } else {
            uint8_t seed[64];
            memcpy(seed, h.cr, 32);
            memcpy(seed + 32, h.sr, 32);
            assert_int_equal(lf_tls12_prf("SHA256", h.pms, 48, "master secret", seed, 64, master, 48), 0);
        }
        check_record(d, master, h.cr, h.sr);
        uint8_t fin[16] = {20, 0, 0, 12};
        lf_tlsdec_handshake(d, 1, fin, sizeof fin);
        lf_tlsdec_free(d);

        if (!ems) {
            /* an abbreviated handshake resumes the session by its ID */
            uint8_t cr2[32], sr2[32], ch2[512], sh2[512];
            for (int i = 0; i < 32; i++) {
                cr2[i] = (uint8_t)(0xc0 + i);
                sr2[i] = (uint8_t)(0xd0 + i);
            }
            d = lf_tlsdec_new(ks);
            lf_tlsdec_handshake(d, 0, ch2, hello(ch2, 1, 0x0303, cr2, h.sid, 32, 0x009C, NULL));
            lf_tlsdec_handshake(d, 1, sh2, hello(sh2, 2, 0x0303, sr2, h.sid, 32, 0x009C, NULL));
            lf_tlsdec_ccs(d, 1);
            lf_tlsdec_ccs(d, 0);
            assert_true(lf_tlsdec_has_keys(d));
            check_record(d, master, cr2, sr2);
            lf_tlsdec_free(d);
        }
    }
    assert_int_equal(lf_keystore_rsa_decrypted(ks), 2);
    assert_int_equal(lf_keystore_rsa_mismatches(ks), 0);

    /* the server's certificate is for another key: counted, no secret */
    uint8_t der[4096], certmsg[4200];
    size_t dn = cert_der(k2, der, sizeof der);
    assert_true(dn > 100 && dn < sizeof der);
    size_t cl = dn + 3;
    certmsg[0] = 11;
    certmsg[1] = (uint8_t)((cl + 3) >> 16);
    certmsg[2] = (uint8_t)((cl + 3) >> 8);
    certmsg[3] = (uint8_t)(cl + 3);
    certmsg[4] = (uint8_t)(cl >> 16);
    certmsg[5] = (uint8_t)(cl >> 8);
    certmsg[6] = (uint8_t)cl;
    certmsg[7] = (uint8_t)(dn >> 16);
    certmsg[8] = (uint8_t)(dn >> 8);
    certmsg[9] = (uint8_t)dn;
    memcpy(certmsg + 10, der, dn);
    struct rsa_hs h;
    rsa_handshake(&h, pub2, 0, 0x40);
    struct lf_tlsdec *d = lf_tlsdec_new(ks);
    lf_tlsdec_handshake(d, 0, h.ch, h.chn);
    lf_tlsdec_handshake(d, 1, h.sh, h.shn);
    lf_tlsdec_handshake(d, 1, certmsg, dn + 10);
    lf_tlsdec_handshake(d, 0, h.cke, h.cken);
    lf_tlsdec_ccs(d, 0);
    assert_false(lf_tlsdec_has_keys(d));
    uint8_t rec[64] = {0}, out[64], inner;
    size_t outlen;
    assert_int_equal(lf_tlsdec_record(d, 0, 23, 0x0303, rec, sizeof rec, out, &outlen, &inner), LF_DEC_NOKEY);
    assert_int_equal(lf_keystore_rsa_mismatches(ks), 1);
    lf_tlsdec_free(d);

    /* no certificate seen, the wrong key tried: the padding or the version check refuses it */
    rsa_handshake(&h, pub2, 0, 0x50);
    d = lf_tlsdec_new(ks);
    lf_tlsdec_handshake(d, 0, h.ch, h.chn);
    lf_tlsdec_handshake(d, 1, h.sh, h.shn);
    lf_tlsdec_handshake(d, 0, h.cke, h.cken);
    assert_false(lf_tlsdec_has_keys(d));
    assert_int_equal(lf_keystore_rsa_mismatches(ks), 2);
    lf_tlsdec_free(d);

    lf_keystore_free(ks);
    EVP_PKEY_free(pub1);
    EVP_PKEY_free(pub2);
    unlink(k1);
    unlink(k2);
    free(k1);
    free(k2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls12_prf_vector),
        cmocka_unit_test(test_rfc8448_traffic_keys),
        cmocka_unit_test(test_rfc8448_records),
        cmocka_unit_test(test_tls13_key_update_and_hrr),
        cmocka_unit_test(test_tls13_early_data),
        cmocka_unit_test(test_keylog_parse),
        cmocka_unit_test(test_pcapng_secrets),
        cmocka_unit_test(test_tls12_ciphers),
        cmocka_unit_test(test_rsa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
