/* test_engine.c: the capture path: lf_feed's buffer, given back and reused by the next flow, carries its bytes
 * intact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lyncflow/dissect.h"
#include "lyncflow/engine.h"
#include "lyncflow/event.h"

/* A dissector of 10-byte records: it asks for the rest of a record and keeps the last one. */
static uint8_t rec_last[10];
static int rec_n;
static struct lf_dres rec_data(void *st, struct lf_flowctx *fc, enum lf_dir dir, const uint8_t *data, size_t len)
{
    (void)st, (void)fc, (void)dir;
    if (len < sizeof rec_last) {
        struct lf_dres r = {LF_DIS_INCOMPLETE, 0, sizeof rec_last - len};
        return r;
    }
    memcpy(rec_last, data, sizeof rec_last);
    rec_n++;
    struct lf_dres r = {LF_DIS_OK, sizeof rec_last, 0};
    return r;
}
static const struct lf_dissector rec_dis = {.name = "rec", .on_data = rec_data};

/* Records split across segments are buffered; the buffer a flow gave back
 * (lf_bytebuf_free) serves the next flow, whose records come out whole. */
static void test_feed_buffer_reused(void **state)
{
    (void)state;
    struct lf_flowctx fc;
    memset(&fc, 0, sizeof fc);
    const uint8_t *prev = NULL;
    for (int flow = 0; flow < 3; flow++) {
        struct lf_bytebuf b;
        memset(&b, 0, sizeof b);
        b.max = 1 << 20;
        rec_n = 0;
        static const char a[] = "0123456789ABCD", c[] = "EFGHIJ";
        assert_int_equal(lf_feed(&rec_dis, NULL, &fc, LF_C2S, &b, (const uint8_t *)a, 14), LF_DIS_OK);
        assert_int_equal(rec_n, 1);
        assert_memory_equal(rec_last, "0123456789", 10);
        assert_int_equal(b.len, 4);
        assert_non_null(b.data);
        if (prev)
            assert_ptr_equal(b.data, prev); /* the buffer the last flow gave back */
        prev = b.data;
        assert_int_equal(lf_feed(&rec_dis, NULL, &fc, LF_C2S, &b, (const uint8_t *)c, 6), LF_DIS_OK);
        assert_int_equal(rec_n, 2);
        assert_memory_equal(rec_last, "ABCDEFGHIJ", 10);
        lf_bytebuf_free(&b);
        assert_null(b.data);
        assert_int_equal(b.cap, 0);
        assert_int_equal(b.len, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feed_buffer_reused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
