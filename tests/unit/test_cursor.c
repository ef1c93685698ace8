/* test_cursor.c: struct lf_cur reads, the sticky error, sub-cursors, and a need of 0 bytes on a failed cursor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lyncflow/cursor.h"

static const uint8_t bytes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};

static void test_reads(void **state)
{
    (void)state;
    struct lf_cur c = lf_cur_make(bytes, sizeof bytes);
    assert_int_equal(lf_cur_u8(&c), 0x01);
    assert_int_equal(lf_cur_u16(&c), 0x0203);
    assert_int_equal(lf_cur_u24(&c), 0x040506);
    assert_int_equal(lf_cur_u16le(&c), 0x0807);
    assert_int_equal(lf_cur_left(&c), 1);
    assert_true(lf_cur_ok(&c));
    /* a read past the end: 0, failed, at the end */
    assert_int_equal(lf_cur_u16(&c), 0);
    assert_false(lf_cur_ok(&c));
    assert_int_equal(lf_cur_left(&c), 0);
    /* sticky: even a read of 0 bytes fails now, and copies zero-fill */
    assert_false(lf_cur_need(&c, 0));
    uint8_t out[2] = {0xff, 0xff};
    lf_cur_copy(&c, out, 2);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 0);
    assert_false(lf_cur_ok(&c));
}

static void test_need_zero(void **state)
{
    (void)state;
    struct lf_cur c = lf_cur_make(bytes, 2);
    assert_true(lf_cur_need(&c, 0));
    lf_cur_skip(&c, 2);
    assert_true(lf_cur_need(&c, 0)); /* at the end, not failed */
    assert_true(lf_cur_ok(&c));
    assert_false(lf_cur_need(&c, 1));
    assert_false(lf_cur_need(&c, 0));
    /* an empty sub-cursor of a failed cursor is failed too */
    struct lf_cur s = lf_cur_sub(&c, 0);
    assert_false(lf_cur_ok(&s));
    assert_int_equal(lf_cur_left(&s), 0);
}

static void test_sub(void **state)
{
    (void)state;
    struct lf_cur c = lf_cur_make(bytes, sizeof bytes);
    struct lf_cur h = lf_cur_sub(&c, 4);
    assert_true(lf_cur_ok(&h));
    assert_int_equal(lf_cur_u32(&h), 0x01020304);
    assert_int_equal(lf_cur_u8(&h), 0); /* the sub-cursor ends where it was cut */
    assert_false(lf_cur_ok(&h));
    assert_true(lf_cur_ok(&c)); /* its failure is its own */
    assert_int_equal(lf_cur_u8(&c), 0x05);
    /* a sub-cursor longer than what is left fails both */
    struct lf_cur big = lf_cur_sub(&c, 5);
    assert_false(lf_cur_ok(&big));
    assert_null(lf_cur_ptr(&big));
    assert_false(lf_cur_ok(&c));
    assert_int_equal(lf_cur_left(&c), 0);
    /* a huge length cannot wrap the check */
    struct lf_cur d = lf_cur_make(bytes, sizeof bytes);
    lf_cur_skip(&d, 3);
    lf_cur_skip(&d, SIZE_MAX);
    assert_false(lf_cur_ok(&d));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads),
        cmocka_unit_test(test_need_zero),
        cmocka_unit_test(test_sub),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
