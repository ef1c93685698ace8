/* test_stream.c: TCP reassembly edge cases (each asserts the bytes delivered), lf_feed buffering, and the engine path. */
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

/* A sink that writes delivered bytes as they are and gaps as "[gap N]". */
struct rec {
    char out[2][65536];
    size_t len[2];
    int gaps[2];
};

static void rec_add(struct rec *r, int dir, const char *s, size_t n)
{
    assert_true(r->len[dir] + n < sizeof r->out[dir]);
    memcpy(r->out[dir] + r->len[dir], s, n);
    r->len[dir] += n;
    r->out[dir][r->len[dir]] = 0;
}

static void rec_data(void *ctx, int dir, const uint8_t *data, size_t len)
{
    rec_add(ctx, dir, (const char *)data, len);
}

static void rec_gap(void *ctx, int dir, uint64_t len)
{
    struct rec *r = ctx;
    char b[32];
    int n = snprintf(b, sizeof b, "[gap %llu]", (unsigned long long)len);
    rec_add(r, dir, b, (size_t)n);
    r->gaps[dir]++;
}

struct fix {
    struct lf_reasm ra;
    struct lf_stream s;
    struct rec rec;
    struct lf_stream_sink sink;
};

static struct fix *fix_new(size_t stream_cap, size_t global_cap)
{
    struct fix *f = calloc(1, sizeof *f);
    lf_reasm_init(&f->ra, stream_cap, global_cap);
    f->sink.data = rec_data;
    f->sink.gap = rec_gap;
    f->sink.ctx = &f->rec;
    return f;
}

static void fix_free(struct fix *f)
{
    lf_stream_release(&f->ra, &f->s);
    assert_int_equal(f->ra.buffered, 0); /* every chunk went back to the pool */
    lf_reasm_free(&f->ra);
    free(f);
}

static void seg(struct fix *f, uint32_t seq, const char *s)
{
    size_t n = strlen(s);
    lf_stream_segment(&f->ra, &f->s, seq, (const uint8_t *)s, n, n, 0, &f->sink, 0);
}

static void test_in_order(void **state)
{
    (void)state;
    struct fix *f = fix_new(1 << 20, 1 << 24);
    lf_stream_syn(&f->s, 1000);
    seg(f, 1001, "GET / HTTP/1.1\r\n");
    seg(f, 1017, "Host: a\r\n\r\n");
    assert_string_equal(f->rec.out[0], "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(f->ra.buffered, 0);
    fix_free(f);
}

/* lf_stream_take advances over the next whole segment and nothing else; the
 * bytes it passed are then the caller's, and later segments line up after them. */
static void test_take(void **state)
{
    (void)state;
    struct fix *f = fix_new(1 << 20, 1 << 24);
    assert_int_equal(lf_stream_take(&f->s, 1, 3, 3, 0), 0); /* not started */
    lf_stream_syn(&f->s, 1000);
    uint64_t pos = f->s.pos;
    assert_int_equal(lf_stream_take(&f->s, 1002, 3, 3, 0), 0); /* ahead */
    assert_int_equal(lf_stream_take(&f->s, 1000, 3, 3, 0), 0); /* behind */
    assert_int_equal(lf_stream_take(&f->s, 1001, 2, 3, 0), 0); /* cut by the capture */
    assert_int_equal(lf_stream_take(&f->s, 1001, 0, 0, 0), 0); /* neither bytes nor FIN */
    assert_int_equal(f->s.pos, pos);
    assert_int_equal(f->s.pos_seq, 1001);
    assert_int_equal(lf_stream_take(&f->s, 1001, 3, 3, 0), 1);
    lf_stream_took(&f->s);
    assert_int_equal(f->s.pos, pos + 3);
    assert_int_equal(f->s.pos_seq, 1004);
    assert_int_equal(f->s.done, 0);
    seg(f, 1004, "def");
    assert_string_equal(f->rec.out[0], "def"); /* the taken bytes are not delivered again */
    seg(f, 1010, "jkl");                       /* queued: the next segment is not taken */
    assert_int_equal(lf_stream_take(&f->s, 1007, 3, 3, 0), 0);
    seg(f, 1007, "ghi");
    assert_string_equal(f->rec.out[0], "defghijkl");
    /* a FIN seen ahead: the stream is done once the bytes before it were taken */
    lf_stream_segment(&f->ra, &f->s, 1016, NULL, 0, 0, 1, &f->sink, 0);
    assert_int_equal(lf_stream_take(&f->s, 1013, 3, 3, 0), 1);
    lf_stream_took(&f->s);
    assert_int_equal(f->s.done, 1);
    assert_int_equal(lf_stream_take(&f->s, 1016, 3, 3, 0), 0); /* done */
    assert_int_equal(f->rec.gaps[0], 0);
    fix_free(f);

    /* a FIN with the next bytes, or alone: taken, the stream done where it falls */
    for (int alone = 0; alone < 2; alone++) {
        f = fix_new(1 << 20, 1 << 24);
        lf_stream_syn(&f->s, 0);
        seg(f, 1, "ab");
        size_t n = alone ? 0 : 3;
        assert_int_equal(lf_stream_take(&f->s, 3, n, n, 1), 1);
        assert_int_equal(f->s.fin_seen, 1);
        assert_int_equal(f->s.fin_off, f->s.pos);
        assert_int_equal(f->s.pos_seq, 3 + n);
        assert_int_equal(f->s.done, 0);
        lf_stream_took(&f->s);
        assert_int_equal(f->s.done, 1);
        seg(f, 3 + (uint32_t)n, "late"); /* nothing after the FIN */
        assert_string_equal(f->rec.out[0], "ab");
        fix_free(f);
    }
    /* a FIN again (retransmitted) goes the long way */
    f = fix_new(1 << 20, 1 << 24);
    lf_stream_syn(&f->s, 0);
    lf_stream_segment(&f->ra, &f->s, 5, NULL, 0, 0, 1, &f->sink, 0); /* FIN ahead */
    assert_int_equal(lf_stream_take(&f->s, 1, 0, 0, 1), 0);
    assert_int_equal(lf_stream_take(&f->s, 1, 4, 4, 1), 0);
    assert_int_equal(lf_stream_take(&f->s, 1, 4, 4, 0), 1);
    lf_stream_took(&f->s);
    assert_int_equal(f->s.done, 1);
    fix_free(f);
}

static void test_out_of_order(void **state)
{
    (void)state;
    struct fix *f = fix_new(1 << 20, 1 << 24);
    lf_stream_syn(&f->s, 0);
    seg(f, 7, "ghi");
    seg(f, 4, "def");
    assert_string_equal(f->rec.out[0], ""); /* waiting for 1..3 */
    assert_true(f->ra.buffered > 0);
    seg(f, 1, "abc");
    assert_string_equal(f->rec.out[0], "abcdefghi");
    assert_int_equal(f->ra.buffered, 0);
    assert_int_equal(f->rec.gaps[0], 0);
    fix_free(f);
}

static void test_overlap_first_wins(void **state)
{
    (void)state;
    struct fix *f = fix_new(1 << 20, 1 << 24);
    lf_stream_syn(&f->s, 99);
    /* queued first: EFGH at offset 4 */
    seg(f, 104, "EFGH");
    /* a later segment covering 0..10 brings other bytes for 4..8: the queued ones win */
    seg(f, 100, "abcdXXXXij");
    assert_string_equal(f->rec.out[0], "abcdEFGHij");
    /* overlapping bytes already delivered: only the new tail counts */
    seg(f, 108, "YYklm");
    assert_string_equal(f->rec.out[0], "abcdEFGHijklm");
    /* a segment straddling two queued ones fills only the holes */
    seg(f, 115, "P");
    seg(f, 118, "S");
    seg(f, 113, "nozQzRz");
    assert_string_equal(f->rec.out[0], "abcdEFGHijklmnoPQzSz");
    fix_free(f);
}

static void test_retransmit(void **state)
{
    (void)state;
    struct fix *f = fix_new(1 << 20, 1 << 24);
    lf_stream_syn(&f->s, 5000);
    seg(f, 5001, "hello ");
    seg(f, 5001, "hello ");
    seg(f, 5007, "world");
    seg(f, 5001, "HELLO ");     /* old, different bytes: dropped */
    seg(f, 5007, "WORLD");
    seg(f, 5012, "!");
    seg(f, 5012, "!");
    assert_string_equal(f->rec.out[0], "hello world!");
    /* retransmission of queued out-of-order data */
    seg(f, 5020, "late");
    seg(f, 5020, "LATE");
    seg(f, 5013, "1234567");
    assert_string_equal(f->rec.out[0], "hello world!1234567late");
    fix_free(f);
}

static void test_wraparound(void **state)
{
    (void)state;
    struct fix *f = fix_new(1 << 20, 1 << 24);
    lf_stream_syn(&f->s, 0xfffffff9u); /* data starts at 0xfffffffa */
    seg(f, 0xfffffffau, "abc");
    seg(f, 0x00000001u, "ghij");     /* after the wrap, out of order */
    seg(f, 0xfffffffdu, "def");     /* ends exactly at 0 */
    seg(f, 0x00000000u, "G");
    assert_string_equal(f->rec.out[0], "abcdefGghij");
    seg(f, 0xfffffffeu, "XXXXXXX"); /* old, across the wrap */
    seg(f, 0x00000005u, "k");
    assert_string_equal(f->rec.out[0], "abcdefGghijk");
    fix_free(f);
}

static void test_gap_at_flush(void **state)
{
    (void)state;
    struct fix *f = fix_new(1 << 20, 1 << 24);
    lf_stream_syn(&f->s, 0);
    seg(f, 1, "abc");
    seg(f, 11, "xyz");
    seg(f, 20, "end");
    assert_string_equal(f->rec.out[0], "abc");
    lf_stream_flush(&f->ra, &f->s, &f->sink, 0);
    assert_string_equal(f->rec.out[0], "abc[gap 7]xyz[gap 6]end");
    assert_int_equal(f->ra.gaps, 2);
    assert_int_equal(f->ra.gap_bytes, 13);
    assert_int_equal(f->s.gaps, 2);
    fix_free(f);
}

static void test_gap_fin_hole(void **state)
{
    (void)state;
    struct fix *f = fix_new(1 << 20, 1 << 24);
    lf_stream_syn(&f->s, 0);
    seg(f, 1, "ab");
    /* FIN after a hole: the stream waits, then the flush reports the hole */
    lf_stream_segment(&f->ra, &f->s, 5, (const uint8_t *)"e", 1, 1, 1, &f->sink, 0);
    assert_string_equal(f->rec.out[0], "ab");
    lf_stream_flush(&f->ra, &f->s, &f->sink, 0);
    assert_string_equal(f->rec.out[0], "ab[gap 2]e");
    fix_free(f);
}

static void test_gap_snaplen(void **state)
{
    (void)state;
    struct fix *f = fix_new(1 << 20, 1 << 24);
    lf_stream_syn(&f->s, 0);
    /* 10 bytes on the wire, 3 captured */
    lf_stream_segment(&f->ra, &f->s, 1, (const uint8_t *)"abc", 3, 10, 0, &f->sink, 0);
    seg(f, 11, "next");
    assert_string_equal(f->rec.out[0], "abc[gap 7]next");
    fix_free(f);
}

static void test_gap_stream_cap(void **state)
{
    (void)state;
    /* room for 4 chunks: the queue behind a hole that never fills is given up */
    struct fix *f = fix_new(4 * LF_CHUNK_DATA, 1 << 24);
    lf_stream_syn(&f->s, 0);
    seg(f, 1, "ab");
    char big[1500];
    char want[16384] = "ab";
    size_t wl = 2;
    uint32_t seq = 101; /* hole of 98 bytes at 3..100 */
    wl += (size_t)snprintf(want + wl, sizeof want - wl, "[gap 98]");
    for (int i = 0; i < 6; i++) {
        memset(big, 'A' + i, sizeof big - 1);
        big[sizeof big - 1] = 0;
        seg(f, seq, big);
        seq += sizeof big - 1;
        memcpy(want + wl, big, sizeof big - 1);
        wl += sizeof big - 1;
    }
    want[wl] = 0;
    assert_true(f->ra.stream_cap_hits >= 1);
    assert_int_equal(f->rec.gaps[0], 1);
    assert_true(f->ra.buffered <= 4 * LF_CHUNK_DATA);
    lf_stream_flush(&f->ra, &f->s, &f->sink, 0);
    assert_string_equal(f->rec.out[0], want);
    fix_free(f);
}

static void test_gap_global_cap(void **state)
{
    (void)state;
    /* two streams share a pool of 3 chunks: the second one's queue meets the global cap */
    struct fix *f = fix_new(1 << 20, 3 * LF_CHUNK_DATA);
    struct lf_stream other;
    memset(&other, 0, sizeof other);
    lf_stream_syn(&other, 0);
    lf_stream_segment(&f->ra, &other, 10, (const uint8_t *)"queued", 6, 6, 0, &f->sink, 1);
    assert_int_equal(f->ra.buffered, LF_CHUNK_DATA);
    lf_stream_syn(&f->s, 0);
    seg(f, 1, "x");
    seg(f, 5, "yy");
    assert_string_equal(f->rec.out[0], "x");
    char big[3000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = 0;
    seg(f, 7, big); /* does not fit next to the other stream's chunk */
    assert_int_equal(f->ra.stream_cap_hits, 1);
    assert_memory_equal(f->rec.out[0], "x[gap 3]yyzzz", 13);
    assert_int_equal(f->rec.len[0], strlen("x[gap 3]yy") + sizeof big - 1);
    lf_stream_release(&f->ra, &other);
    fix_free(f);
}

static void test_mid_stream(void **state)
{
    (void)state;
    struct fix *f = fix_new(1 << 20, 1 << 24);
    /* no SYN: the stream starts at the first segment seen */
    seg(f, 700000, "xyz");
    seg(f, 699990, "0123456789"); /* before the start: already gone */
    seg(f, 700006, "789");
    seg(f, 700003, "uvw");
    assert_string_equal(f->rec.out[0], "xyzuvw789");
    assert_int_equal(f->rec.gaps[0], 0);
    fix_free(f);
}

static void test_mid_stream_wrap(void **state)
{
    (void)state;
    struct fix *f = fix_new(1 << 20, 1 << 24);
    seg(f, 0xfffffffeu, "ab");
    seg(f, 0x00000002u, "ef");
    seg(f, 0x00000000u, "cd");
    assert_string_equal(f->rec.out[0], "abcdef");
    fix_free(f);
}

/* lf_feed: a dissector of 2-byte length-prefixed messages, consuming only whole ones. */
static char msgs[4096];
static int data_calls;

static struct lf_dres lp_on_data(void *st, struct lf_flowctx *fc, enum lf_dir dir, const uint8_t *data, size_t len)
{
    (void)st;
    (void)fc;
    (void)dir;
    data_calls++;
    struct lf_dres r = {LF_DIS_OK, 0, 0};
    if (len < 2) {
        r.status = LF_DIS_INCOMPLETE;
        r.needed = 2 - len;
        return r;
    }
    size_t n = (size_t)data[0] << 8 | data[1];
    if (n == 0xffff) {
        r.status = LF_DIS_ERROR;
        return r;
    }
    if (len < 2 + n) {
        r.status = LF_DIS_INCOMPLETE;
        r.needed = 2 + n - len;
        return r;
    }
    size_t have = strlen(msgs);
    assert_true(have + n + 2 < sizeof msgs);
    memcpy(msgs + have, data + 2, n);
    memcpy(msgs + have + n, "|", 2);
    r.consumed = 2 + n;
    return r;
}

static const struct lf_dissector lp = {"lp", NULL, NULL, NULL, lp_on_data, NULL, NULL};

static void test_feed_incomplete(void **state)
{
    (void)state;
    struct lf_bytebuf b = {NULL, 0, 0, 64, 0, 0};
    struct lf_flowctx fc;
    memset(&fc, 0, sizeof fc);
    msgs[0] = 0;
    data_calls = 0;
    assert_int_equal(lf_feed(&lp, NULL, &fc, LF_C2S, &b, (const uint8_t *)"\0\3ab", 4), LF_DIS_OK);
    assert_string_equal(msgs, "");
    assert_int_equal(b.len, 4);
    assert_int_equal(b.want, 5);
    assert_int_equal(lf_feed(&lp, NULL, &fc, LF_C2S, &b, (const uint8_t *)"c\0\2x", 4), LF_DIS_OK);
    assert_string_equal(msgs, "abc|");
    int calls = data_calls;
    /* one byte short of the announced length: on_data is not called */
    assert_int_equal(lf_feed(&lp, NULL, &fc, LF_C2S, &b, NULL, 0), LF_DIS_OK);
    assert_int_equal(data_calls, calls);
    assert_int_equal(lf_feed(&lp, NULL, &fc, LF_C2S, &b, (const uint8_t *)"y\0\1z\0", 5), LF_DIS_OK);
    assert_string_equal(msgs, "abc|xy|z|");
    assert_int_equal(b.len, 1); /* compacted: only the unconsumed byte remains */
    /* more than max: the caller is told, and the over flag says why */
    uint8_t big[80];
    memset(big, 'q', sizeof big);
    assert_int_equal(lf_feed(&lp, NULL, &fc, LF_C2S, &b, big, sizeof big), LF_DIS_ERROR);
    assert_int_equal(b.over, 1);
    lf_bytebuf_free(&b);
    /* a message announced longer than max can never fit */
    struct lf_bytebuf b2 = {NULL, 0, 0, 64, 0, 0};
    assert_int_equal(lf_feed(&lp, NULL, &fc, LF_C2S, &b2, (const uint8_t *)"\0\200a", 3), LF_DIS_ERROR);
    assert_int_equal(b2.over, 1);
    lf_bytebuf_free(&b2);
    /* the dissector leaving */
    struct lf_bytebuf b3 = {NULL, 0, 0, 64, 0, 0};
    assert_int_equal(lf_feed(&lp, NULL, &fc, LF_C2S, &b3, (const uint8_t *)"\377\377", 2), LF_DIS_ERROR);
    assert_int_equal(b3.over, 0);
    lf_bytebuf_free(&b3);
}

/* The engine path: Ethernet/IPv4/TCP frames in, the test dissector's bytes out. */
static struct rec erec;
static int ends;
static struct lf_event flows[8];
static int nflows;

static void *td_new(struct lf_flowctx *fc)
{
    (void)fc;
    return &erec;
}
static void td_free(void *st) { (void)st; }
static struct lf_dres td_data(void *st, struct lf_flowctx *fc, enum lf_dir dir, const uint8_t *data, size_t len)
{
    (void)fc;
    rec_data(st, dir, data, len);
    struct lf_dres r = {LF_DIS_OK, len, 0};
    return r;
}
static enum lf_dis_status td_gap(void *st, struct lf_flowctx *fc, enum lf_dir dir, uint64_t len)
{
    (void)fc;
    rec_gap(st, dir, len);
    return LF_DIS_OK;
}
static void td_end(void *st, struct lf_flowctx *fc)
{
    (void)st;
    (void)fc;
    ends++;
}
static const struct lf_dissector td = {"test", NULL, td_new, td_free, td_data, td_gap, td_end};

static void collect(void *ctx, struct lf_event *ev)
{
    (void)ctx;
    if (ev->type == LF_EV_FLOW && nflows < 8)
        lf_event_copy(&flows[nflows++], ev);
}

static size_t frame(uint8_t *b, int c2s, uint32_t seq, uint32_t ack, uint8_t flags, const char *payload)
{
    static const uint8_t cli[4] = {10, 0, 0, 1}, srv[4] = {10, 0, 0, 2};
    size_t pl = strlen(payload), n = 0;
    memset(b, 0, 14);
    b[12] = 0x08;
    n = 14;
    uint8_t *ip = b + n;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[2] = (uint8_t)((20 + 20 + pl) >> 8);
    ip[3] = (uint8_t)(20 + 20 + pl);
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, c2s ? cli : srv, 4);
    memcpy(ip + 16, c2s ? srv : cli, 4);
    uint8_t *t = ip + 20;
    memset(t, 0, 20);
    uint16_t sp = c2s ? 50000 : 443, dp = c2s ? 443 : 50000;
    t[0] = (uint8_t)(sp >> 8), t[1] = (uint8_t)sp, t[2] = (uint8_t)(dp >> 8), t[3] = (uint8_t)dp;
    for (int i = 0; i < 4; i++) {
        t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
        t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
    }
    t[12] = 0x50;
    t[13] = flags;
    memcpy(t + 20, payload, pl);
    return 14 + 20 + 20 + pl;
}

static void test_engine_path(void **state)
{
    (void)state;
    struct lf_config cfg;
    lf_config_defaults(&cfg);
    memset(&erec, 0, sizeof erec);
    ends = nflows = 0;
    lf_stream_test_dissector = &td;
    struct lf_engine *eng = lf_engine_new(&cfg, collect, NULL);
    uint8_t b[1600];
    lf_time t = 1700000000000000LL;
    const uint32_t C = 0xfffffff0u, S = 7000; /* the client's sequence wraps */
    struct {
        int c2s;
        uint32_t seq;
        uint8_t flags;
        const char *data;
    } pk[] = {
        {1, C, 0x02, ""},
        {0, S, 0x12, ""},
        {1, C + 1, 0x10, ""},
        {1, C + 1 + 10, 0x18, "0123456789"},      /* out of order, past the wrap */
        {1, C + 1, 0x18, "GET /abcd\n"},          /* 10 bytes, then the queued ones */
        {1, C + 1, 0x18, "GET /abcd\n"},          /* retransmission */
        {0, S + 1, 0x18, "HTTP/1.1 200"},
        {0, S + 1 + 12 + 5, 0x18, " after a hole"},
        {1, C + 21, 0x11, ""},
        {0, S + 1 + 12 + 5 + 13, 0x11, ""},
        {1, C + 22, 0x10, ""},
    };
    for (size_t i = 0; i < sizeof pk / sizeof pk[0]; i++) {
        size_t n = frame(b, pk[i].c2s, pk[i].seq, 0, pk[i].flags, pk[i].data);
        lf_engine_packet(eng, 1, t + (lf_time)i * 1000, b, n, n);
    }
    assert_string_equal(erec.out[LF_C2S], "GET /abcd\n0123456789");
    /* FIN both ways: the dissector is done at once, the hole reported as a gap */
    assert_string_equal(erec.out[LF_S2C], "HTTP/1.1 200[gap 5] after a hole");
    assert_int_equal(ends, 1);
    assert_int_equal(nflows, 0); /* the flow lingers for the last ACKs */
    lf_engine_flush(eng);
    assert_int_equal(ends, 1);
    assert_int_equal(nflows, 1);
    const struct lf_event *ev = &flows[0];
    assert_int_equal(ev->ts, t);
    assert_int_equal(ev->u.flow.end, t + 10 * 1000);
    assert_int_equal(ev->u.flow.c2s_packets, 7);
    assert_int_equal(ev->u.flow.s2c_packets, 4);
    assert_int_equal(ev->u.flow.syn_seen, 1);
    assert_int_equal(ev->u.flow.closed, 1);
    assert_int_equal(ev->u.flow.answered, 1);
    assert_int_equal(ev->u.flow.gaps, 1);
    assert_int_equal(ev->client.port, 50000);
    assert_int_equal(ev->server.port, 443);
    assert_int_equal(eng->stats.gaps, 1);
    assert_int_equal(eng->stats.flows, 1);
    assert_int_equal(eng->stats.packets, 11);
    assert_int_equal(eng->buffered, 0);
    lf_engine_free(eng);
    lf_stream_test_dissector = NULL;
}

/* A dissector that never consumes: its buffer grows until a cap makes it leave. */
static int hoard_frees;
static struct lf_dres hoard_data(void *st, struct lf_flowctx *fc, enum lf_dir dir, const uint8_t *data, size_t len)
{
    (void)st;
    (void)fc;
    (void)dir;
    (void)data;
    (void)len;
    struct lf_dres r = {LF_DIS_OK, 0, 0};
    return r;
}
static void hoard_free(void *st)
{
    (void)st;
    hoard_frees++;
}
static const struct lf_dissector hoard = {"hoard", NULL, td_new, hoard_free, hoard_data, NULL, td_end};

static void test_engine_buffer_caps(void **state)
{
    (void)state;
    static const size_t caps[2][2] = {{4096, 1 << 24}, {1 << 20, 8192}}; /* per stream, global */
    for (int k = 0; k < 2; k++) {
        struct lf_config cfg;
        lf_config_defaults(&cfg);
        cfg.stream_cap = caps[k][0];
        cfg.global_cap = caps[k][1];
        lf_stream_test_dissector = &hoard;
        hoard_frees = ends = nflows = 0;
        struct lf_engine *eng = lf_engine_new(&cfg, collect, NULL);
        uint8_t b[1600];
        char data[1001];
        memset(data, 'x', 1000);
        data[1000] = 0;
        lf_time t = 1700000000000000LL;
        size_t n = frame(b, 1, 100, 0, 0x02, "");
        lf_engine_packet(eng, 1, t, b, n, n);
        for (uint32_t i = 0; i < 12; i++) {
            n = frame(b, 1, 101 + 1000 * i, 0, 0x18, data);
            lf_engine_packet(eng, 1, t + i + 1, b, n, n);
        }
        assert_int_equal(hoard_frees, 1); /* it left */
        assert_int_equal(eng->stats.stream_cap_hits, 1);
        assert_int_equal(eng->buffered, 0);
        lf_engine_flush(eng);
        assert_int_equal(ends, 0);        /* a dissector that left is not called at the end */
        assert_int_equal(nflows, 1);
        assert_int_equal(flows[0].u.flow.c2s_packets, 13);
        lf_engine_free(eng);
    }
    lf_stream_test_dissector = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_overlap_first_wins),
        cmocka_unit_test(test_retransmit),
        cmocka_unit_test(test_wraparound),
        cmocka_unit_test(test_gap_at_flush),
        cmocka_unit_test(test_gap_fin_hole),
        cmocka_unit_test(test_gap_snaplen),
        cmocka_unit_test(test_gap_stream_cap),
        cmocka_unit_test(test_gap_global_cap),
        cmocka_unit_test(test_mid_stream),
        cmocka_unit_test(test_mid_stream_wrap),
        cmocka_unit_test(test_feed_incomplete),
        cmocka_unit_test(test_take),
        cmocka_unit_test(test_engine_path),
        cmocka_unit_test(test_engine_buffer_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
