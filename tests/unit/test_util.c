/* test_util.c: ASCII-only case-insensitive comparisons and prefixes, and decimal parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lyncflow/util.h"

static void test_strcaseeq(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        int eq;
    } t[] = {
        {"", "", 1},
        {"a", "", 0},
        {"", "a", 0},
        {"FeWeb.Contoso.COM", "feweb.contoso.com", 1},
        {"feweb.contoso.com", "feweb.contoso.co", 0},
        {"feweb.contoso.co", "feweb.contoso.com", 0},
        {"@[`{", "@[`{", 1},
        {"@", "`", 0},   /* 0x40 and 0x60: not letters */
        {"[", "{", 0},   /* 0x5b and 0x7b */
        {"Z", "z", 1},
        {"\xc4", "\xe4", 0}, /* only ASCII letters fold */
        {"\xc4", "\xc4", 1},
        {"a\x7f", "A\x7f", 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (lf_strcaseeq(t[i].a, t[i].b) != t[i].eq)
            fail_msg("'%s' vs '%s': want %d", t[i].a, t[i].b, t[i].eq);
    /* every byte value against its own case forms */
    for (int c = 1; c < 256; c++) {
        char a[2] = {(char)c, 0}, b[2] = {(char)c, 0};
        assert_true(lf_strcaseeq(a, b));
        if (c >= 'a' && c <= 'z')
            b[0] = (char)(c - 32);
        else if (c >= 'A' && c <= 'Z')
            b[0] = (char)(c + 32);
        else
            continue;
        assert_true(lf_strcaseeq(a, b));
        for (int d = 1; d < 256; d++) {
            char e[2] = {(char)d, 0};
            int want = d == c || d == (unsigned char)b[0];
            if (lf_strcaseeq(a, e) != want)
                fail_msg("%02x vs %02x", c, d);
        }
    }
}

static void test_strcaseprefix(void **state)
{
    (void)state;
    assert_true(lf_strcaseprefix("Meet.contoso.com", "meet."));
    assert_true(lf_strcaseprefix("meet.", "MEET."));
    assert_true(lf_strcaseprefix("anything", ""));
    assert_false(lf_strcaseprefix("mee", "meet."));
    assert_false(lf_strcaseprefix("", "m"));
    assert_false(lf_strcaseprefix("meat.contoso.com", "meet."));
    assert_false(lf_strcaseprefix("\xe4x", "\xc4"));
}

static void test_parse_u64(void **state)
{
    (void)state;
    unsigned long long v = 7;
    assert_int_equal(lf_parse_u64("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(lf_parse_u64("18446744073709551615", &v), 0);
    assert_true(v == 18446744073709551615ULL);
    assert_int_equal(lf_parse_u64("18446744073709551616", &v), -1);
    assert_int_equal(lf_parse_u64("", &v), -1);
    assert_int_equal(lf_parse_u64("12a", &v), -1);
    assert_int_equal(lf_parse_u64("-1", &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strcaseeq),
        cmocka_unit_test(test_strcaseprefix),
        cmocka_unit_test(test_parse_u64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
