/* test_json.c: NDJSON strings escaped byte for byte as the contract says, times, hex, and the buffer bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lyncflow/event.h"
#include "lyncflow/sinks.h"

/* The escaping rules, one byte at a time: printable ASCII as is, '"' and '\' with a backslash, control
 * bytes and DEL as \u00XX, valid UTF-8 sequences as they are, any other byte from 0x80 up as \ufffd. */
static size_t ref_escape(const unsigned char *s, char *out)
{
    char *o = out;
    *o++ = '"';
    while (*s) {
        unsigned c = *s;
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
            s++;
        } else if (c < 0x20 || c == 0x7f) {
            o += snprintf(o, 7, "\\u%04x", c);
            s++;
        } else if (c < 0x80) {
            *o++ = (char)c;
            s++;
        } else {
            int n = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
            int good = n > 0;
            for (int i = 1; good && i < n; i++)
                if ((s[i] & 0xc0) != 0x80)
                    good = 0;
            if (good) {
                memcpy(o, s, (size_t)n);
                o += n;
                s += n;
            } else {
                memcpy(o, "\\ufffd", 6);
                o += 6;
                s++;
            }
        }
    }
    *o++ = '"';
    *o = 0;
    return (size_t)(o - out);
}

/* A finding whose message is msg, as JSON, and what the contract says it must be. */
static void both(const char *msg, char *got, size_t size, char *want)
{
    struct lf_event ev;
    lf_event_init(&ev, LF_EV_FINDING, 1700000000123456LL);
    ev.u.finding.severity = LF_SEV_WARNING;
    LF_SET(ev.u.finding.code, "c");
    LF_EV_SET(&ev, u.finding.subject, "s");
    LF_EV_SET(&ev, u.finding.message, msg);
    int n = lf_event_to_json(&ev, got, size);
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(got));
    char esc[8192];
    ref_escape((const unsigned char *)ev.u.finding.message, esc);
    snprintf(want, 8192,
             "{\"type\":\"finding\",\"ts\":1700000000.123456,\"severity\":\"warning\",\"code\":\"c\",\"subject\":\"s\","
             "\"message\":%s}",
             esc);
}

static void test_strings_table(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "",
        "a",
        "plain",
        "exactly sixteen!",
        "seventeen chars!!",
        "0123456789abcdef0123456789abcdef",
        "quote \" here",
        "0123456789abcdef\" past sixteen",
        "0123456789abcdef0123456789abcde\\",
        "back\\slash",
        "tab\there\nnewline\r",
        "\x01\x1f\x7f",
        "0123456789abcdef\x7f",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
        "stray \x80 byte \xff and cut \xc3",
        "0123456789abcde\xc3\xa9 across a block edge",
        "0123456789abcdef0123456789abcd\xe2\x82\xac",
        "\"",
        "\\\\\"\"",
    };
    char got[8192], want[8192];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        both(cases[i], got, sizeof got, want);
        if (strcmp(got, want) != 0)
            fail_msg("case %zu:\n got %s\nwant %s", i, got, want);
    }
    both("a \"b\" \\ \x01 \xc3\xa9 \xff", got, sizeof got, want);
    assert_string_equal(got, "{\"type\":\"finding\",\"ts\":1700000000.123456,\"severity\":\"warning\",\"code\":\"c\","
                             "\"subject\":\"s\",\"message\":\"a \\\"b\\\" \\\\ \\u0001 \xc3\xa9 \\ufffd\"}");
}

/* Random bytes of every length up to a message's size, specials at every offset. */
static void test_strings_random(void **state)
{
    (void)state;
    char got[8192], want[8192], msg[1024];
    uint32_t x = 12345;
    for (int round = 0; round < 3000; round++) {
        size_t n = (size_t)round % sizeof msg;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            unsigned r = (x >> 16) & 0xff;
            /* mostly printable, as real fields are; sometimes anything */
            msg[i] = (char)((x >> 8) % 8 ? 0x20 + r % 0x5f : (r ? r : 'z'));
        }
        msg[n] = 0;
        both(msg, got, sizeof got, want);
        if (strcmp(got, want) != 0)
            fail_msg("round %d (length %zu):\n got %s\nwant %s", round, n, got, want);
    }
}

static void test_numbers(void **state)
{
    (void)state;
    char buf[8192];
    struct lf_event ev;
    lf_event_init(&ev, LF_EV_TLS, 5);
    LF_EV_SET(&ev, u.tls.sni, "x");
    ev.u.tls.cipher = 0xc02f;
    ev.u.tls.version = 0x0303;
    ev.u.tls.cert_not_after = 1584321448000000LL;
    ev.u.tls.cert_not_before = -1500000;
    assert_true(lf_event_to_json(&ev, buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "\"ts\":0.000005,"));
    assert_non_null(strstr(buf, "\"cipher\":\"0xc02f\""));
    assert_non_null(strstr(buf, "\"version\":\"TLS 1.2\""));
    assert_non_null(strstr(buf, "\"cert_not_before\":-1.500000,\"cert_not_after\":1584321448.000000"));
    ev.u.tls.cipher = 0x000a;
    assert_true(lf_event_to_json(&ev, buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "\"cipher\":\"0x000a\""));
    lf_event_init(&ev, LF_EV_HTTP, 1700000000000000LL);
    ev.u.http.latency_us = 1234567;
    ev.u.http.status = 200;
    ev.u.http.req_bytes = 18446744073709551615ULL;
    assert_true(lf_event_to_json(&ev, buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "\"ts\":1700000000.000000,"));
    assert_non_null(strstr(buf, "\"status\":200,"));
    assert_non_null(strstr(buf, "\"latency\":1.234567"));
    assert_non_null(strstr(buf, "\"req_bytes\":18446744073709551615,\"resp_bytes\":0"));
}

/* A buffer one byte short of the object and its NUL gets nothing; one that fits gets all of it. */
static void test_bound(void **state)
{
    (void)state;
    static const char *const msgs[] = {"plain text", "needs \"escaping\"\x01", "0123456789abcdef0123"};
    for (size_t k = 0; k < sizeof msgs / sizeof msgs[0]; k++) {
        struct lf_event ev;
        lf_event_init(&ev, LF_EV_FINDING, 1);
        LF_EV_SET(&ev, u.finding.message, msgs[k]);
        char full[4096], small[4096];
        int n = lf_event_to_json(&ev, full, sizeof full);
        assert_true(n > 0);
        for (size_t size = 1; size <= (size_t)n + 1; size++) {
            memset(small, 'Q', sizeof small);
            int m = lf_event_to_json(&ev, small, size);
            if (size <= (size_t)n) {
                assert_int_equal(m, -1);
            } else {
                assert_int_equal(m, n);
                assert_string_equal(small, full);
            }
            assert_int_equal(small[size], 'Q'); /* nothing written past the buffer */
        }
    }
}

/* Endpoints as lf_addr_format writes them, every width of octet and port. */
static void test_addresses(void **state)
{
    (void)state;
    static const char *const addrs[] = {"0.0.0.0:0", "1.22.133.4:9", "255.255.255.255:65535", "10.0.0.1:443",
                                        "[2001:db8::1]:443", "[::]:0", "[::ffff:192.0.2.1]:8080"};
    char buf[8192], want[256], fmt[64];
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        struct lf_event ev;
        lf_event_init(&ev, LF_EV_FLOW, 0);
        assert_int_equal(lf_addr_parse(addrs[i], &ev.client), 0);
        ev.server = ev.client;
        ev.server.port = (uint16_t)(ev.client.port ^ 0x5a5a);
        assert_true(lf_event_to_json(&ev, buf, sizeof buf) > 0);
        snprintf(want, sizeof want, "\"client\":\"%s\",", addrs[i]);
        assert_non_null(strstr(buf, want));
        snprintf(want, sizeof want, "\"server\":\"%s\",", lf_addr_format(&ev.server, fmt, sizeof fmt));
        assert_non_null(strstr(buf, want));
    }
    struct lf_event ev;
    lf_event_init(&ev, LF_EV_FLOW, 0); /* no addresses at all */
    assert_true(lf_event_to_json(&ev, buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "\"client\":\"\",\"server\":\"\","));
}

/* Random IPv4 endpoints and times: the JSON text is lf_addr_format's and "%lld.%06lld" seconds. */
static void test_addresses_random(void **state)
{
    (void)state;
    uint64_t r = 0x853c49e6748fea9bULL;
    char buf[8192], want[256], fmt[64];
    for (int i = 0; i < 5000; i++) {
        struct lf_event ev;
        lf_event_init(&ev, LF_EV_FLOW, 0);
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        ev.client.family = ev.server.family = 4;
        for (int k = 0; k < 4; k++) {
            ev.client.ip[k] = (uint8_t)(r >> (8 * k));
            ev.server.ip[k] = (uint8_t)((r >> (8 * k + 32)) % (k % 2 ? 10 : 100));
        }
        ev.client.port = (uint16_t)(r >> 17);
        ev.server.port = (uint16_t)(r % 10);
        ev.ts = (lf_time)(r % 5000000000000000ULL);
        ev.u.flow.end = (lf_time)(r >> 3);
        assert_true(lf_event_to_json(&ev, buf, sizeof buf) > 0);
        snprintf(want, sizeof want, "\"ts\":%lld.%06lld,\"end\":%lld.%06lld,", (long long)(ev.ts / 1000000),
                 (long long)(ev.ts % 1000000), (long long)(ev.u.flow.end / 1000000),
                 (long long)(ev.u.flow.end % 1000000));
        assert_non_null(strstr(buf, want));
        snprintf(want, sizeof want, "\"client\":\"%s\",", lf_addr_format(&ev.client, fmt, sizeof fmt));
        assert_non_null(strstr(buf, want));
        snprintf(want, sizeof want, "\"server\":\"%s\",", lf_addr_format(&ev.server, fmt, sizeof fmt));
        assert_non_null(strstr(buf, want));
    }
}

/* The sink's file: every event's line in order, across many of its buffer's flushes, an event longer than
 * the sink's line buffer (every string full of control bytes, escaped six times as long) written whole, and
 * everything written by the time the sink finishes. */
static void test_sink_lines(void **state)
{
    (void)state;
    char path[] = "/tmp/test_json_sinkXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[256];
    struct lf_sink *sink = lf_json_sink_new(path, err, sizeof err);
    assert_non_null(sink);
    size_t cap = 1 << 26, n = 0;
    char *want = malloc(cap), *ctl = malloc(LF_CAP_LONG + 1);
    memset(ctl, 1, LF_CAP_LONG);
    ctl[LF_CAP_LONG] = 0;
    int longs = 0;
    for (int i = 0; i < 3000; i++) {
        struct lf_event ev;
        lf_event_init(&ev, i % 500 == 7 ? LF_EV_HTTP : LF_EV_FINDING, 1700000000000000LL + i);
        if (ev.type == LF_EV_HTTP) {
            for (int k = 0; k < lf_event_nfields(LF_EV_HTTP); k++)
                lf_event_set(&ev, lf_event_field_at(&ev, k), ctl);
        } else {
            snprintf(ev.u.finding.code, sizeof ev.u.finding.code, "code-%d", i);
            char m[1000];
            memset(m, 'm', sizeof m);
            LF_EV_SETN(&ev, u.finding.message, m, (size_t)(i * 7 % 1000));
        }
        size_t size = lf_event_json_size(&ev);
        char *line = malloc(size);
        int k = lf_event_to_json(&ev, line, size);
        assert_true(k > 0);
        if (ev.type == LF_EV_HTTP) {
            longs++;
            assert_true(k > 16384);
            assert_non_null(strstr(line, "\"truncated\":[\"sni\",\"host\",\"method\",\"user_agent\""));
        }
        assert_true(n + (size_t)k + 1 < cap);
        memcpy(want + n, line, (size_t)k);
        n += (size_t)k;
        want[n++] = '\n';
        free(line);
        sink->event(sink->ctx, &ev);
        lf_event_release(&ev);
    }
    sink->finish(sink->ctx);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *got = malloc(cap);
    size_t m = fread(got, 1, cap, f);
    fclose(f);
    assert_true(n > 100000);
    assert_int_equal(longs, 6);
    assert_non_null(strstr(want, "\\u0001"));
    assert_int_equal(m, n);
    assert_memory_equal(got, want, n);
    lf_json_sink_free(sink);
    unlink(path);
    free(got);
    free(want);
    free(ctl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings_table),
        cmocka_unit_test(test_strings_random),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_addresses_random),
        cmocka_unit_test(test_sink_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
