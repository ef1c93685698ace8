/* test_ntlm.c: NTLM message parsing (type 1/2/3) on tokens made by curl, and on broken ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lyncflow/ntlm.h"

/* curl 8 --ntlm -u 'CONTOSO\alice:pw' against a local server answering with
 * a Unicode type-2 (ntlm3u) or an OEM-only type-2 (ntlm3o). */
static const char ntlm1[] = "TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=";
static const char ntlm2u[] = "TlRMTVNTUAACAAAADgAOADAAAAAFAomgASNFZ4mrze8AAAAAAAAAABYAFgA+AAAAQwBPAE4AVABP"
                             "AFMATwACAA4AQwBPAE4AVABPAFMATwAAAAAA";
static const char ntlm2o[] = "TlRMTVNTUAACAAAABwAHADAAAAAGAomgASNFZ4mrze8AAAAAAAAAABYAFgA3AAAAQ09OVE9TTwIA"
                             "DgBDAE8ATgBUAE8AUwBPAAAAAAA=";
static const char ntlm3u[] =
    "TlRMTVNTUAADAAAAGAAYAEAAAABGAEYAWAAAAA4ADgCeAAAACgAKAKwAAAAWABYAtgAAAAAAAAAAAAAABQKJoPR36aPs21gH5V1D7b7fbVaS"
    "w5VQY4mumBRf+6PZ87YV1bWOhYLXAJEBAQAAAAAAAADFk8ckfN0BksOVUGOJrpgAAAAAAgAOAEMATwBOAFQATwBTAE8AAAAAAAAAAABDAE8A"
    "TgBUAE8AUwBPAGEAbABpAGMAZQBXAE8AUgBLAFMAVABBAFQASQBPAE4A";
static const char ntlm3o[] =
    "TlRMTVNTUAADAAAAGAAYAEAAAABGAEYAWAAAAAcABwCeAAAABQAFAKUAAAALAAsAqgAAAAAAAAAAAAAABgKJoLi1kpFyhYNK5VEzC0VFvm3M"
    "w9coH1PmcrnhLCuQXTrOz4n+ANdS054BAQAAAAAAAABMJ8skfN0BzMPXKB9T5nIAAAAAAgAOAEMATwBOAFQATwBTAE8AAAAAAAAAAABDT05U"
    "T1NPYWxpY2VXT1JLU1RBVElPTg==";

static size_t decode(const char *b64, uint8_t *out, size_t size)
{
    long n = lf_base64_decode(b64, strlen(b64), out, size);
    assert_true(n > 0);
    return (size_t)n;
}

static void test_type1(void **state)
{
    (void)state;
    struct lf_ntlm m;
    assert_int_equal(lf_ntlm_from_b64(ntlm1, strlen(ntlm1), &m), 1);
    assert_int_equal(m.type, 1);
    assert_int_equal(m.flags, 0x00088206);
    assert_string_equal(m.domain, "");
    assert_string_equal(m.user, "");
}

static void test_type2(void **state)
{
    (void)state;
    struct lf_ntlm m;
    assert_int_equal(lf_ntlm_from_b64(ntlm2u, strlen(ntlm2u), &m), 2);
    assert_true(m.flags & LF_NTLM_NEGOTIATE_UNICODE);
    assert_string_equal(m.domain, "CONTOSO");
    assert_int_equal(lf_ntlm_from_b64(ntlm2o, strlen(ntlm2o), &m), 2);
    assert_false(m.flags & LF_NTLM_NEGOTIATE_UNICODE);
    assert_string_equal(m.domain, "CONTOSO");
}

static void test_type3(void **state)
{
    (void)state;
    struct lf_ntlm m;
    assert_int_equal(lf_ntlm_from_b64(ntlm3u, strlen(ntlm3u), &m), 3);
    assert_string_equal(m.domain, "CONTOSO");
    assert_string_equal(m.user, "alice");
    assert_string_equal(m.workstation, "WORKSTATION");
    assert_true(m.flags & LF_NTLM_NEGOTIATE_UNICODE);
    assert_int_equal(lf_ntlm_from_b64(ntlm3o, strlen(ntlm3o), &m), 3);
    assert_string_equal(m.domain, "CONTOSO");
    assert_string_equal(m.user, "alice");
    assert_string_equal(m.workstation, "WORKSTATION");
    assert_false(m.flags & LF_NTLM_NEGOTIATE_UNICODE);
    /* surrounding spaces are allowed */
    char buf[600];
    snprintf(buf, sizeof buf, "  %s \t", ntlm3u);
    assert_int_equal(lf_ntlm_from_b64(buf, strlen(buf), &m), 3);
    assert_string_equal(m.user, "alice");
}

/* Every truncation of every message is refused or parsed without reading
 * past its end (ASan sees the exact-size copy). */
static void test_truncated(void **state)
{
    (void)state;
    const char *toks[] = {ntlm1, ntlm2u, ntlm2o, ntlm3u, ntlm3o};
    uint8_t full[1024];
    for (size_t k = 0; k < 5; k++) {
        size_t n = decode(toks[k], full, sizeof full);
        for (size_t cut = 0; cut < n; cut++) {
            uint8_t *copy = malloc(cut ? cut : 1);
            memcpy(copy, full, cut);
            struct lf_ntlm m;
            int t = lf_ntlm_parse(copy, cut, &m);
            free(copy);
            /* a type-1 needs only its flags; the others point past the cut */
            if (k == 0 && cut >= 16)
                assert_int_equal(t, 1);
            else if (k >= 3 && cut < 0xa0)
                assert_int_equal(t, 0);
            if (!t)
                assert_int_equal(m.type, 0);
        }
    }
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void test_lying_fields(void **state)
{
    (void)state;
    uint8_t msg[1024];
    size_t n = decode(ntlm3u, msg, sizeof msg);
    struct lf_ntlm m;
    /* the user field (at byte 36) says: offset past the end, length past the end, offset wrapping */
    struct {
        uint16_t len;
        uint32_t off;
    } lies[] = {{10, (uint32_t)n}, {0xffff, 0xac}, {10, 0xfffffffe}, {10, (uint32_t)n - 9}};
    for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++) {
        uint8_t bad[1024];
        memcpy(bad, msg, n);
        put16(bad + 36, lies[i].len);
        put32(bad + 40, lies[i].off);
        assert_int_equal(lf_ntlm_parse(bad, n, &m), 0);
        assert_string_equal(m.user, "");
    }
    /* a length of zero is an empty name, not an error, wherever its offset points */
    uint8_t empty[1024];
    memcpy(empty, msg, n);
    put16(empty + 36, 0);
    put32(empty + 40, 0xfffffff0);
    assert_int_equal(lf_ntlm_parse(empty, n, &m), 3);
    assert_string_equal(m.user, "");
    assert_string_equal(m.domain, "CONTOSO");
    /* an odd Unicode length drops the half character */
    memcpy(empty, msg, n);
    put16(empty + 36, 9);
    assert_int_equal(lf_ntlm_parse(empty, n, &m), 3);
    assert_string_equal(m.user, "alic");
    /* unknown type, wrong signature */
    memcpy(empty, msg, n);
    empty[8] = 4;
    assert_int_equal(lf_ntlm_parse(empty, n, &m), 0);
    memcpy(empty, msg, n);
    empty[6] = 'Q';
    assert_int_equal(lf_ntlm_parse(empty, n, &m), 0);
}

/* A NEGOTIATE without a Version, its empty domain and workstation fields
 * pointing past its end (as some clients send it). */
static void test_type1_empty_fields_past_end(void **state)
{
    (void)state;
    uint8_t msg[32] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 1, 0, 0, 0, 0x07, 0x82, 0x08, 0xa2};
    put32(msg + 20, 0x28); /* DomainNameFields: length 0, offset 40 */
    put32(msg + 28, 0x28); /* WorkstationFields: length 0, offset 40 */
    struct lf_ntlm m;
    assert_int_equal(lf_ntlm_parse(msg, sizeof msg, &m), 1);
    assert_int_equal(m.flags, 0xa2088207);
    assert_string_equal(m.domain, "");
}

static void test_spnego_wrapped(void **state)
{
    (void)state;
    uint8_t msg[1024], wrapped[1100];
    size_t n = decode(ntlm3u, msg, sizeof msg);
    static const uint8_t hdr[] = {0xa1, 0x82, 0x01, 0x2a, 0x30, 0x82, 0x01, 0x26, 0xa2, 0x82, 0x01, 0x22,
                                  0x04, 0x82, 0x01, 0x1e, 'N', 'T', 'L'};
    memcpy(wrapped, hdr, sizeof hdr);
    memcpy(wrapped + sizeof hdr, msg, n);
    struct lf_ntlm m;
    assert_int_equal(lf_ntlm_parse(wrapped, sizeof hdr + n, &m), 0);
    assert_int_equal(lf_ntlm_find(wrapped, sizeof hdr + n, &m), 3);
    assert_string_equal(m.user, "alice");
    /* a Kerberos-like token has no NTLMSSP inside */
    memset(wrapped, 'N', 200);
    assert_int_equal(lf_ntlm_find(wrapped, 200, &m), 0);
}

static void test_base64(void **state)
{
    (void)state;
    uint8_t out[16];
    assert_int_equal(lf_base64_decode("YWxpY2U6cHc=", 12, out, sizeof out), 8);
    assert_memory_equal(out, "alice:pw", 8);
    assert_int_equal(lf_base64_decode("YWxpY2U6cHc", 11, out, sizeof out), 8);
    assert_int_equal(lf_base64_decode("YQ==", 4, out, sizeof out), 1);
    assert_int_equal(lf_base64_decode("Y", 1, out, sizeof out), -1);
    assert_int_equal(lf_base64_decode("YW!x", 4, out, sizeof out), -1);
    assert_int_equal(lf_base64_decode("YQ==YQ==", 8, out, sizeof out), -1);
    assert_int_equal(lf_base64_decode("YQ= =", 5, out, sizeof out), -1);
    assert_int_equal(lf_base64_decode("YWxp Y2U6", 9, out, sizeof out), -1);
    /* output is bounded */
    assert_int_equal(lf_base64_decode("YWxpY2U6cHdZWFlaYWJjZGVm", 24, out, 4), 4);
    struct lf_ntlm m;
    assert_int_equal(lf_ntlm_from_b64("not base64!", 11, &m), 0);
    assert_int_equal(lf_ntlm_from_b64("", 0, &m), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type1),          cmocka_unit_test(test_type2),
        cmocka_unit_test(test_type3),          cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_lying_fields),   cmocka_unit_test(test_spnego_wrapped),
        cmocka_unit_test(test_base64),         cmocka_unit_test(test_type1_empty_fields_past_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
