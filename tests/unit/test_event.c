/* test_event.c: events own whole strings up to their caps and say which were cut; addresses written as
 * inet_ntop writes them, in buffers of every size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/* A new event's strings are all "", of every type; it owns nothing. */
static void test_init_empty_strings(void **state)
{
    (void)state;
    for (int type = LF_EV_FLOW; type <= LF_EV_STATS; type++) {
        struct lf_event ev;
        memset(&ev, 0xa5, sizeof ev);
        lf_event_init(&ev, (enum lf_ev_type)type, 42);
        assert_int_equal(ev.type, type);
        assert_int_equal(ev.ts, 42);
        assert_int_equal(ev.truncated, 0);
        assert_null(ev.text.buf);
        for (int i = 0; i < lf_event_nfields(type); i++)
            assert_string_equal(*lf_event_field_at(&ev, i), "");
        assert_null(lf_event_field_at(&ev, lf_event_nfields(type)));
    }
    struct lf_event h;
    lf_event_init(&h, LF_EV_HTTP, 0);
    assert_int_equal(h.u.http.latency_us, -1);
    assert_int_equal(lf_event_nfields(LF_EV_HTTP), 16);
    assert_string_equal(lf_event_field_name(LF_EV_HTTP, 3), "uri");
    assert_int_equal(lf_event_field_cap(LF_EV_HTTP, 3), LF_CAP_LONG);
    assert_int_equal(lf_event_field_cap(LF_EV_HTTP, 1), LF_CAP_TEXT);
}

/* Strings set one after another survive the block's growth; a value past its cap is cut there and named;
 * setting it again within the cap clears the mark; a field set from another field of the same event. */
static void test_set_grow_and_cap(void **state)
{
    (void)state;
    struct lf_event ev;
    lf_event_init(&ev, LF_EV_HTTP, 0);
    size_t big = LF_CAP_LONG + 1000;
    char *s = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        s[i] = (char)('a' + i % 26);
    s[big] = 0;
    LF_EV_SET(&ev, u.http.host, "dirweb.contoso.com");
    LF_EV_SET(&ev, u.http.method, "POST");
    for (size_t n = 1; n < 40000; n = n * 3 + 1) { /* the block grows under the earlier strings */
        LF_EV_SETN(&ev, u.http.location, s, n);
        assert_int_equal(strlen(ev.u.http.location), n);
    }
    LF_EV_SET(&ev, u.http.uri, s);
    assert_int_equal(strlen(ev.u.http.uri), LF_CAP_LONG);
    assert_memory_equal(ev.u.http.uri, s, LF_CAP_LONG);
    assert_int_equal(ev.truncated, 1u << 3);
    LF_EV_SET(&ev, u.http.sni, s); /* 8 KiB cap */
    assert_int_equal(strlen(ev.u.http.sni), LF_CAP_TEXT);
    assert_int_equal(ev.truncated, 1u << 3 | 1u << 0);
    LF_EV_SET(&ev, u.http.uri, "/abs/handler");
    assert_int_equal(ev.truncated, 1u << 0);
    LF_EV_SET(&ev, u.http.user_agent, ev.u.http.host); /* from a string in the block that may move */
    assert_string_equal(ev.u.http.user_agent, "dirweb.contoso.com");
    assert_string_equal(ev.u.http.host, "dirweb.contoso.com");
    assert_string_equal(ev.u.http.method, "POST");
    assert_int_equal(strlen(ev.u.http.location), 29524);
    LF_EV_SET(&ev, u.http.user, NULL);
    assert_string_equal(ev.u.http.user, "");
    assert_int_equal(lf_event_text_len(&ev), strlen(ev.u.http.sni) + 12 + 2 * 18 + 4 + 29524);
    lf_event_release(&ev);
    assert_null(ev.text.buf);
    assert_string_equal(ev.u.http.host, "");
    free(s);
}

/* A copy owns its strings: it stays whole when the original is reset, changed and released, and a copy
 * into an event that holds longer strings reuses its block. Borrowed strings are copied too. */
static void test_copy_owns(void **state)
{
    (void)state;
    struct lf_event a, b;
    lf_event_init(&a, LF_EV_TLS, 1);
    lf_event_init(&b, LF_EV_FLOW, 0);
    LF_EV_SET(&a, u.tls.sni, "feweb.contoso.com");
    LF_EV_SET(&a, u.tls.cert_san, "feweb.contoso.com,meet.contoso.com");
    a.u.tls.cert_subject = "CN=borrowed"; /* storage that outlives the event */
    a.u.tls.cipher = 0xc02f;
    lf_event_copy(&b, &a);
    lf_event_reset(&a, LF_EV_TLS, 2);
    LF_EV_SET(&a, u.tls.sni, "XXXXXXXXXXXXXXXXX");
    lf_event_release(&a);
    assert_int_equal(b.type, LF_EV_TLS);
    assert_int_equal(b.ts, 1);
    assert_int_equal(b.u.tls.cipher, 0xc02f);
    assert_string_equal(b.u.tls.sni, "feweb.contoso.com");
    assert_string_equal(b.u.tls.cert_san, "feweb.contoso.com,meet.contoso.com");
    assert_string_equal(b.u.tls.cert_subject, "CN=borrowed");
    assert_true(b.u.tls.cert_subject >= b.text.buf && b.u.tls.cert_subject < b.text.buf + b.text.cap);
    assert_string_equal(b.u.tls.alpn, "");
    char *block = b.text.buf;
    struct lf_event c;
    lf_event_init(&c, LF_EV_FINDING, 3);
    LF_EV_SET(&c, u.finding.message, "short");
    lf_event_copy(&b, &c);
    assert_ptr_equal(b.text.buf, block);
    assert_int_equal(b.type, LF_EV_FINDING);
    assert_string_equal(b.u.finding.message, "short");
    assert_string_equal(b.u.finding.subject, "");
    lf_event_release(&b);
    lf_event_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_empty_strings),
        cmocka_unit_test(test_set_grow_and_cap),
        cmocka_unit_test(test_copy_owns),
        cmocka_unit_test(test_ip_format_as_inet_ntop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
