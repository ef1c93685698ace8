/* test_engine.c: engine helpers: lf_event_start writes what lf_event_init writes in an event's own part. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lyncflow/engine.h"
#include "lyncflow/event.h"

static void test_event_start(void **state)
{
    (void)state;
    static struct lf_event a, b;
    for (int type = LF_EV_FLOW; type <= LF_EV_STATS; type++) {
        memset(&a, 0xa5, sizeof a);
        memset(&b, 0x5a, sizeof b);
        lf_event_init(&a, (enum lf_ev_type)type, 123456789);
        lf_event_start(&b, (enum lf_ev_type)type, 123456789);
        size_t n = lf_event_size(type);
        assert_true(n > offsetof(struct lf_event, u));
        assert_true(n <= sizeof a);
        assert_memory_equal(&a, &b, n);
        if (n < sizeof b) /* past its own part the event is left as it was */
            assert_int_equal(((const uint8_t *)&b)[sizeof b - 1], 0x5a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
