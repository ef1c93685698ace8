/* test_reprobe.c: the engine probes a flow again after a preamble no dissector wants or a dissector leaves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lyncflow/dissect.h"
#include "lyncflow/engine.h"
#include "lyncflow/stream.h"

static char snis[8][256];
static int nsni;
static char methods[8][16];
static int nhttp;

static void collect(void *ctx, struct lf_event *ev)
{
    (void)ctx;
    if (ev->type == LF_EV_TLS && ev->u.tls.sni[0] && nsni < 8)
        snprintf(snis[nsni++], sizeof snis[0], "%s", ev->u.tls.sni);
    if (ev->type == LF_EV_HTTP && nhttp < 8)
        snprintf(methods[nhttp++], sizeof methods[0], "%s", ev->u.http.method);
}

/* One Ethernet/IPv4/TCP frame between 10.0.0.1:50000 and 10.0.0.2:port. */
static size_t frame(uint8_t *b, int c2s, uint16_t port, uint32_t seq, uint8_t flags, const uint8_t *pl, size_t n)
{
    static const uint8_t cli[4] = {10, 0, 0, 1}, srv[4] = {10, 0, 0, 2};
    memset(b, 0, 54);
    b[12] = 0x08;
    uint8_t *ip = b + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((40 + n) >> 8);
    ip[3] = (uint8_t)(40 + n);
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, c2s ? cli : srv, 4);
    memcpy(ip + 16, c2s ? srv : cli, 4);
    uint8_t *t = ip + 20;
    uint16_t sp = c2s ? 50000 : port, dp = c2s ? port : 50000;
    t[0] = (uint8_t)(sp >> 8), t[1] = (uint8_t)sp, t[2] = (uint8_t)(dp >> 8), t[3] = (uint8_t)dp;
    for (int i = 0; i < 4; i++)
        t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
    t[12] = 0x50;
    t[13] = flags;
    memcpy(t + 20, pl, n);
    return 54 + n;
}

/* A TLS 1.2 ClientHello record naming host. */
static size_t client_hello(uint8_t *b, const char *host)
{
    size_t hl = strlen(host), n = 0;
    size_t ext = 9 + hl, body = 2 + 32 + 1 + 4 + 2 + 2 + ext;
    uint8_t h[] = {0x16, 3, 1, (uint8_t)((body + 4) >> 8), (uint8_t)(body + 4), 1, 0, (uint8_t)(body >> 8),
                   (uint8_t)body, 3, 3};
    memcpy(b, h, sizeof h);
    n = sizeof h;
    memset(b + n, 0x11, 32);
    n += 32;
    uint8_t mid[] = {0, 0, 2, 0x00, 0x2f, 1, 0, (uint8_t)(ext >> 8), (uint8_t)ext, 0, 0, (uint8_t)((hl + 5) >> 8),
                     (uint8_t)(hl + 5), (uint8_t)((hl + 3) >> 8), (uint8_t)(hl + 3), 0, (uint8_t)(hl >> 8),
                     (uint8_t)hl};
    memcpy(b + n, mid, sizeof mid);
    n += sizeof mid;
    memcpy(b + n, host, hl);
    return n + hl;
}

struct step {
    int c2s;
    const char *text; /* NULL: the ClientHello; text then the ClientHello when len is negative */
    long len;         /* 0: strlen(text) */
};

static size_t global_cap;        /* when not 0: the run's global buffer cap */
static uint64_t stream_cap_hits; /* the last run's */

/* Runs a connection made of steps (after a handshake) through an engine. */
static void run(uint16_t port, const struct step *s, size_t n, const char *host)
{
    struct lf_config cfg;
    lf_config_defaults(&cfg);
    if (global_cap)
        cfg.global_cap = global_cap;
    nsni = nhttp = 0;
    struct lf_engine *eng = lf_engine_new(&cfg, collect, NULL);
    uint8_t b[2048], pl[1024];
    uint32_t seq[2] = {1000, 9000};
    lf_time t = 1700000000000000LL;
    static const uint8_t none[1];
    size_t k = frame(b, 1, port, seq[1] - 1, 0x02, none, 0);
    lf_engine_packet(eng, 1, t, b, k, k);
    k = frame(b, 0, port, seq[0] - 1, 0x12, none, 0);
    lf_engine_packet(eng, 1, t + 1, b, k, k);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        if (s[i].text) {
            len = s[i].len > 0 ? (size_t)s[i].len : s[i].len < 0 ? (size_t)-s[i].len : strlen(s[i].text);
            memcpy(pl, s[i].text, len);
        }
        if (!s[i].text || s[i].len < 0)
            len += client_hello(pl + len, host);
        uint32_t *q = &seq[s[i].c2s ? 1 : 0];
        k = frame(b, s[i].c2s, port, *q, 0x18, pl, len);
        *q += (uint32_t)len;
        lf_engine_packet(eng, 1, t + 2 + (lf_time)i, b, k, k);
    }
    lf_engine_flush(eng);
    stream_cap_hits = eng->stats.stream_cap_hits;
    lf_engine_free(eng);
}

static void test_starttls(void **state)
{
    (void)state;
    const struct step s[] = {
        {0, "220 mail.example.com ESMTP\r\n", 0}, {1, "EHLO client\r\n", 0},
        {0, "250-mail.example.com\r\n250 STARTTLS\r\n", 0}, {1, "STARTTLS\r\n", 0},
        {0, "220 2.0.0 Ready to start TLS\r\n", 0}, {1, NULL, 0},
    };
    run(25, s, sizeof s / sizeof s[0], "mail.example.com");
    assert_int_equal(nsni, 1);
    assert_string_equal(snis[0], "mail.example.com");
}

static void test_socks5(void **state)
{
    (void)state;
    const struct step s[] = {
        {1, "\x05\x01\x00", 3},
        {0, "\x05\x00", 2},
        {1, "\x05\x01\x00\x03\x0bexample.org\x01\xbb", 18},
        {0, "\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38", 10},
        {1, NULL, 0},
    };
    run(1080, s, sizeof s / sizeof s[0], "example.org");
    assert_int_equal(nsni, 1);
    assert_string_equal(snis[0], "example.org");
}

/* HTTP leaves at the CONNECT's 200; the tunnel's TLS is found after it. */
static void test_connect_tunnel(void **state)
{
    (void)state;
    const struct step s[] = {
        {1, "CONNECT apache.org:443 HTTP/1.1\r\nHost: apache.org:443\r\n\r\n", 0},
        {0, "HTTP/1.1 200 Connection established\r\n\r\n", 0},
        {1, NULL, 0},
    };
    run(8080, s, sizeof s / sizeof s[0], "apache.org");
    assert_int_equal(nhttp, 1);
    assert_string_equal(methods[0], "CONNECT");
    assert_int_equal(nsni, 1);
    assert_string_equal(snis[0], "apache.org");
}

/* A PROXY protocol header in the ClientHello's segment: skipped, then the TLS after it. */
static void test_proxy_v1_v2(void **state)
{
    (void)state;
    static const char v1[] = "PROXY TCP4 11.111.11.111 222.222.222.22 52176 443\r\n";
    const struct step s1[] = {{1, v1, -(long)(sizeof v1 - 1)}};
    run(443, s1, 1, "one.example");
    assert_int_equal(nsni, 1);
    assert_string_equal(snis[0], "one.example");
    /* v2, PROXY command, TCP over IPv4: 12 address bytes and a 3-byte TLV */
    static const char v2[] = "\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0f"
                             "\x0b\x6f\x0b\x6f\xde\xde\xde\x16\xcb\xd0\x01\xbb\x04\x00\x00";
    const struct step s2[] = {{1, v2, -(long)(sizeof v2 - 1)}};
    run(443, s2, 1, "two.example");
    assert_int_equal(nsni, 1);
    assert_string_equal(snis[0], "two.example");
    /* a v2 header with a wrong version is not skipped */
    static const char bad[] = "\r\n\r\n\0\r\nQUIT\n\x31\x11\x00\x00";
    const struct step s3[] = {{1, bad, -(long)(sizeof bad - 1)}};
    run(443, s3, 1, "three.example");
    assert_int_equal(nsni, 0);
}

/* The re-probing is bounded: past REPROBE_MAX chunks of garbage, a ClientHello is no longer looked for. */
static void test_bounded(void **state)
{
    (void)state;
    struct step s[40];
    for (int i = 0; i < 39; i++)
        s[i] = (struct step){i & 1, "garbage that is no protocol\r\n", 0};
    s[39] = (struct step){1, NULL, 0};
    run(4000, s, 40, "late.example");
    assert_int_equal(nsni, 0);
    run(4000, s + 30, 10, "early.example");
    assert_int_equal(nsni, 1);
    assert_string_equal(snis[0], "early.example");
}

/* A flow's first bytes are probed where they lie, but count against the
 * global cap as if held: when the buffer holding them would pass it, the flow
 * is given up (counted) as before; with room for it, it is dissected. */
static void test_first_bytes_cap(void **state)
{
    (void)state;
    const struct step s[] = {{1, NULL, 0}};
    global_cap = 1000; /* a probe buffer is 1 KiB at least */
    run(443, s, 1, "capped.example");
    assert_int_equal(nsni, 0);
    assert_int_equal(stream_cap_hits, 1);
    global_cap = 1024;
    run(443, s, 1, "fits.example");
    assert_int_equal(nsni, 1);
    assert_string_equal(snis[0], "fits.example");
    assert_int_equal(stream_cap_hits, 0);
    global_cap = 0;
}

/* The engine's buffer count is current after every packet that changes it
 * (a segment queued past a hole, then delivered), and an ACK leaves it be. */
static void test_buffered_after_each_packet(void **state)
{
    (void)state;
    struct lf_config cfg;
    lf_config_defaults(&cfg);
    nsni = nhttp = 0;
    struct lf_engine *eng = lf_engine_new(&cfg, collect, NULL);
    uint8_t b[2048];
    static const uint8_t none[1];
    static const char req[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    size_t half = 10, rest = sizeof req - 1 - half;
    lf_time t = 1700000000000000LL;
    size_t k = frame(b, 1, 80, 999, 0x02, none, 0);
    lf_engine_packet(eng, 1, t, b, k, k);
    k = frame(b, 0, 80, 8999, 0x12, none, 0);
    lf_engine_packet(eng, 1, t + 1, b, k, k);
    assert_int_equal(eng->buffered, 0);
    k = frame(b, 1, 80, 1000 + (uint32_t)half, 0x18, (const uint8_t *)req + half, rest);
    lf_engine_packet(eng, 1, t + 2, b, k, k);
    size_t queued = eng->buffered;
    assert_true(queued >= rest);
    k = frame(b, 0, 80, 9000, 0x10, none, 0);
    lf_engine_packet(eng, 1, t + 3, b, k, k);
    assert_int_equal(eng->buffered, queued);
    k = frame(b, 1, 80, 1000, 0x18, (const uint8_t *)req, half);
    lf_engine_packet(eng, 1, t + 4, b, k, k);
    assert_int_not_equal(eng->buffered, queued); /* the chunk came back, the dissector holds the rest */
    assert_true(eng->buffered > 0);
    k = frame(b, 1, 80, 1000 + (uint32_t)(sizeof req - 1), 0x11, none, 0);
    lf_engine_packet(eng, 1, t + 5, b, k, k);
    k = frame(b, 0, 80, 9000, 0x11, none, 0);
    lf_engine_packet(eng, 1, t + 6, b, k, k);
    assert_int_equal(eng->buffered, 0); /* closed both ways: everything released */
    assert_int_equal(eng->stats.gaps, 0);
    lf_engine_flush(eng);
    assert_int_equal(nhttp, 1);
    assert_string_equal(methods[0], "GET");
    lf_engine_free(eng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_starttls),
        cmocka_unit_test(test_first_bytes_cap),
        cmocka_unit_test(test_socks5),
        cmocka_unit_test(test_connect_tunnel),
        cmocka_unit_test(test_proxy_v1_v2),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_buffered_after_each_packet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
