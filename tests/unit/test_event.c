/* test_event.c: addresses written as inet_ntop writes them, in buffers of every size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "lyncflow/event.h"

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* What lf_ip_format must give: inet_ntop's text, "?" when it does not fit. */
static void want_ip(const struct lf_addr *a, char *buf, size_t size)
{
    if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->ip, buf, (socklen_t)size))
        snprintf(buf, size, "?");
}

static void test_ip_format_as_inet_ntop(void **state)
{
    (void)state;
    for (int i = 0; i < 20000; i++) {
        struct lf_addr a;
        memset(&a, 0, sizeof a);
        a.family = i % 5 == 4 ? 6 : 4;
        for (int k = 0; k < 16; k++) {
            uint64_t r = next();
            a.ip[k] = (uint8_t)(r % 3 == 0 ? r % 10 : r % 3 == 1 ? 100 + r % 156 : r >> 8);
        }
        a.port = (uint16_t)next();
        for (size_t size = i % 7 == 0 ? 1 : 14; size <= 48; size += 1 + (size > 17) * 9) {
            char got[64], want[64];
            memset(got, 'x', sizeof got);
            lf_ip_format(&a, got, size);
            want_ip(&a, want, size);
            assert_string_equal(got, want);
        }
        char got[64], want[80];
        lf_addr_format(&a, got, sizeof got);
        want_ip(&a, want, 64);
        char with_port[96];
        snprintf(with_port, sizeof with_port, a.family == 6 ? "[%s]:%u" : "%s:%u", want, a.port);
        assert_string_equal(got, with_port);
    }
    struct lf_addr z;
    memset(&z, 0, sizeof z);
    char buf[8] = "junk";
    assert_string_equal(lf_ip_format(&z, buf, sizeof buf), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ip_format_as_inet_ntop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
