/* test_flow.c: the flow table: both directions of a 5-tuple, growth past the first buckets, least recently seen eviction and expiry order, 5-tuple reuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lyncflow/flow.h"
#include "lyncflow/stream.h"

#define MAX_ENDED 8192

struct ended {
    size_t n;
    uint64_t id[MAX_ENDED];
};

static void on_end(void *ctx, struct lf_flow *f)
{
    struct ended *e = ctx;
    if (e->n < MAX_ENDED)
        e->id[e->n] = f->id;
    e->n++;
}

/* A TCP packet from 10.<i>:<sport> to 192.0.2.1:443 (or back when rev). */
static struct lf_pkt pkt(uint32_t i, uint16_t sport, int rev, uint8_t flags, uint32_t seq)
{
    struct lf_pkt p;
    memset(&p, 0, sizeof p);
    struct lf_addr c, s;
    memset(&c, 0, sizeof c);
    memset(&s, 0, sizeof s);
    c.family = s.family = 4;
    c.ip[0] = 10;
    c.ip[1] = (uint8_t)(i >> 16);
    c.ip[2] = (uint8_t)(i >> 8);
    c.ip[3] = (uint8_t)i;
    c.port = sport;
    s.ip[0] = 192;
    s.ip[2] = 2;
    s.ip[3] = 1;
    s.port = 443;
    p.src = rev ? s : c;
    p.dst = rev ? c : s;
    p.proto = 6;
    p.tcp_flags = flags;
    p.seq = seq;
    return p;
}

struct tab {
    struct lf_reasm r;
    struct lf_ev_stats stats;
    struct ended ended;
    struct lf_flowtab *t;
};

static void tab_init(struct tab *x, size_t max_flows)
{
    memset(x, 0, sizeof *x);
    lf_reasm_init(&x->r, 1 << 20, 1 << 24);
    x->t = lf_flowtab_new(max_flows, &x->r, &x->stats, on_end, &x->ended);
}

static void tab_free(struct tab *x)
{
    lf_flowtab_free(x->t);
    lf_reasm_free(&x->r);
}

static struct lf_flow *see(struct tab *x, struct lf_pkt p, lf_time ts, enum lf_dir *dir)
{
    return lf_flowtab_packet(x->t, &p, ts, 60, dir);
}

/* 3,000 flows (past the first 1,024 buckets, so the table grows twice), each
 * seen both ways: every packet finds its own flow, in the right direction. */
static void test_both_ways_and_growth(void **state)
{
    (void)state;
    static struct tab x;
    tab_init(&x, 262144);
    enum lf_dir dir;
    static struct lf_flow *first[3000];
    static uint64_t ids[3000];
    for (uint32_t i = 0; i < 3000; i++) {
        first[i] = see(&x, pkt(i, 40000, 0, 0x02, i), 1000 + i, &dir);
        assert_int_equal(dir, LF_C2S);
        ids[i] = first[i]->id;
    }
    assert_int_equal(lf_flowtab_count(x.t), 3000);
    for (uint32_t i = 0; i < 3000; i++) {
        struct lf_flow *f = see(&x, pkt(i, 40000, 1, 0x12, 7), 5000 + i, &dir);
        assert_ptr_equal(f, first[i]);
        assert_int_equal(f->id, ids[i]);
        assert_int_equal(dir, LF_S2C);
        f = see(&x, pkt(i, 40000, 0, 0x10, i + 1), 9000 + i, &dir);
        assert_ptr_equal(f, first[i]);
        assert_int_equal(dir, LF_C2S);
        assert_int_equal(f->pkts[LF_C2S], 2);
        assert_int_equal(f->pkts[LF_S2C], 1);
    }
    /* another source port is another flow */
    struct lf_flow *g = see(&x, pkt(5, 40001, 0, 0x02, 1), 20000, &dir);
    assert_true(g != first[5]);
    assert_int_equal(lf_flowtab_count(x.t), 3001);
    assert_int_equal(x.stats.flows, 3001);
    tab_free(&x);
}

static struct lf_pkt pkt_of(const char *src, const char *dst, uint8_t proto)
{
    struct lf_pkt p;
    memset(&p, 0, sizeof p);
    assert_int_equal(lf_addr_parse(src, &p.src), 0);
    assert_int_equal(lf_addr_parse(dst, &p.dst), 0);
    p.proto = proto;
    p.tcp_flags = proto == 6 ? 0x10 : 0;
    return p;
}

/* Tuples that share addresses or ports in other orders, the same 5-tuple
 * over UDP, one host talking to itself, and IPv6 endpoints whose first bytes
 * are an IPv4 flow's: each is its own flow, found both ways. */
static void test_lookalike_tuples(void **state)
{
    (void)state;
    static struct tab x;
    tab_init(&x, 1024);
    static const char *const tuples[][2] = {
        {"10.0.0.1:40000", "10.0.0.2:443"}, {"10.0.0.2:40000", "10.0.0.1:443"}, {"10.0.0.9:443", "10.0.0.2:40000"},
        {"10.0.0.1:40001", "10.0.0.2:443"}, {"10.0.0.1:40000", "10.0.0.3:443"}, {"10.0.0.1:1", "10.0.0.1:2"},
        {"0.0.0.0:0", "0.0.0.0:1"},         {"[a00:1::]:40000", "[a00:2::]:443"},
        {"[::ffff:10.0.0.1]:40000", "[::ffff:10.0.0.2]:443"},
    };
    const size_t n = sizeof tuples / sizeof tuples[0];
    struct lf_flow *f[2][sizeof tuples / sizeof tuples[0]];
    enum lf_dir first[2][sizeof tuples / sizeof tuples[0]], dir;
    for (int proto = 0; proto < 2; proto++)
        for (size_t i = 0; i < n; i++) {
            struct lf_pkt p = pkt_of(tuples[i][0], tuples[i][1], proto ? 17 : 6);
            f[proto][i] = see(&x, p, 1000, &first[proto][i]);
            /* the side the rules of flow.h name the client (port 443 is a server's) */
            assert_true(lf_addr_equal(&f[proto][i]->cli, first[proto][i] == LF_C2S ? &p.src : &p.dst));
            assert_int_equal(first[proto][i], i == 2 ? LF_S2C : LF_C2S);
        }
    assert_int_equal(lf_flowtab_count(x.t), 2 * n);
    for (int proto = 0; proto < 2; proto++)
        for (size_t i = 0; i < n; i++) {
            enum lf_dir d0 = first[proto][i], d1 = d0 == LF_C2S ? LF_S2C : LF_C2S;
            struct lf_pkt back = pkt_of(tuples[i][1], tuples[i][0], proto ? 17 : 6);
            assert_ptr_equal(see(&x, back, 2000, &dir), f[proto][i]);
            assert_int_equal(dir, d1);
            assert_ptr_equal(see(&x, pkt_of(tuples[i][0], tuples[i][1], proto ? 17 : 6), 3000, &dir), f[proto][i]);
            assert_int_equal(dir, d0);
            assert_int_equal(f[proto][i]->pkts[d0], 2);
            assert_int_equal(f[proto][i]->pkts[d1], 1);
            assert_int_equal(f[proto][i]->proto, proto ? 17 : 6);
        }
    assert_int_equal(lf_flowtab_count(x.t), 2 * n);
    tab_free(&x);
}

/* A full table evicts the flow seen least recently, whether or not it was the
 * last one touched before (a flow seen again moves behind the others). */
static void test_eviction_order(void **state)
{
    (void)state;
    static struct tab x;
    tab_init(&x, 4);
    enum lf_dir dir;
    uint64_t id[8];
    for (uint32_t i = 0; i < 4; i++)
        id[i] = see(&x, pkt(i, 40000, 0, 0x02, 1), 100 + i, &dir)->id;
    see(&x, pkt(0, 40000, 1, 0x12, 1), 200, &dir); /* 0 is now the most recent */
    see(&x, pkt(3, 40000, 0, 0x10, 2), 201, &dir); /* 3 again: already the most recent but for 0 */
    see(&x, pkt(3, 40000, 0, 0x10, 3), 202, &dir); /* 3 again: now the most recent */
    id[4] = see(&x, pkt(4, 40000, 0, 0x02, 1), 300, &dir)->id;
    assert_int_equal(x.ended.n, 1);
    assert_int_equal(x.ended.id[0], id[1]);
    id[5] = see(&x, pkt(5, 40000, 0, 0x02, 1), 301, &dir)->id;
    id[6] = see(&x, pkt(6, 40000, 0, 0x02, 1), 302, &dir)->id;
    assert_int_equal(x.ended.n, 3);
    assert_int_equal(x.ended.id[1], id[2]);
    assert_int_equal(x.ended.id[2], id[0]);
    assert_int_equal(x.stats.evicted, 3);
    tab_free(&x);
}

/* Idle flows end oldest first; a closed flow lingers LF_FLOW_LINGER_S, and a
 * new SYN on its 5-tuple ends it at once. */
static void test_expiry_and_reuse(void **state)
{
    (void)state;
    static struct tab x;
    tab_init(&x, 64);
    enum lf_dir dir;
    const lf_time s = 1000000;
    uint64_t a = see(&x, pkt(1, 40000, 0, 0x02, 1), 1 * s, &dir)->id;
    uint64_t b = see(&x, pkt(2, 40000, 0, 0x02, 1), 2 * s, &dir)->id;
    uint64_t c = see(&x, pkt(3, 40000, 0, 0x02, 1), 3 * s, &dir)->id;
    see(&x, pkt(1, 40000, 0, 0x10, 2), 4 * s, &dir); /* a is busy again */
    lf_flowtab_expire(x.t, 13 * s, 10, 10);        /* idle since before 3 s: b */
    assert_int_equal(x.ended.n, 1);
    assert_int_equal(x.ended.id[0], b);
    lf_flowtab_expire(x.t, 15 * s, 10, 10);        /* then c, then a */
    assert_int_equal(x.ended.n, 3);
    assert_int_equal(x.ended.id[1], c);
    assert_int_equal(x.ended.id[2], a);
    /* closed by FIN both ways: lingers, then a new SYN replaces it */
    struct lf_flow *f = see(&x, pkt(9, 40000, 0, 0x02, 100), 20 * s, &dir);
    uint64_t d = f->id;
    see(&x, pkt(9, 40000, 0, 0x11, 101), 21 * s, &dir);
    see(&x, pkt(9, 40000, 1, 0x11, 500), 21 * s, &dir);
    assert_int_equal(f->closed, 1);
    lf_flowtab_expire(x.t, 30 * s, 1000, 1000);
    assert_int_equal(x.ended.n, 3); /* lingering */
    struct lf_flow *g = see(&x, pkt(9, 40000, 0, 0x02, 9000), 31 * s, &dir);
    assert_int_equal(x.ended.n, 4);
    assert_int_equal(x.ended.id[3], d);
    assert_true(g->id != d);
    assert_int_equal(g->closed, 0);
    lf_flowtab_expire(x.t, 31 * s + (lf_time)LF_FLOW_LINGER_S * s + 1, 1000, 1000);
    assert_int_equal(x.ended.n, 4);
    tab_free(&x);
}

/* 3,000 flows closed (FIN both ways, or RST) while 3,000 others stay open:
 * the late ACKs of closed flows and the packets of open ones each find their
 * own flow (no new flow), a retransmitted SYN stays in its closed flow, a new
 * SYN replaces it, and the closed flows end after their linger. */
static void test_closed_flows_found(void **state)
{
    (void)state;
    static struct tab x;
    tab_init(&x, 8192);
    enum lf_dir dir;
    const lf_time s = 1000000;
    enum { N = 3000 };
    static uint64_t ids[2 * N];
    for (uint32_t i = 0; i < 2 * N; i++)
        ids[i] = see(&x, pkt(i, 40000, 0, 0x02, 7), s, &dir)->id;
    for (uint32_t i = 0; i < N; i++) {
        if (i % 2) {
            see(&x, pkt(i, 40000, 0, 0x11, 8), 2 * s, &dir);
            assert_int_equal(see(&x, pkt(i, 40000, 1, 0x11, 70), 2 * s, &dir)->closed, 1);
        } else {
            assert_int_equal(see(&x, pkt(i, 40000, 1, 0x04, 70), 2 * s, &dir)->closed, 2);
        }
    }
    assert_int_equal(lf_flowtab_count(x.t), 2 * N);
    for (uint32_t i = 0; i < 2 * N; i++) {
        struct lf_flow *f = see(&x, pkt(i, 40000, 0, 0x10, 9), 3 * s, &dir); /* an ACK */
        assert_int_equal(f->id, ids[i]);
        assert_int_equal(dir, LF_C2S);
        assert_int_equal(f->closed, i < N ? (i % 2 ? 1 : 2) : 0);
        assert_int_equal(f->pkts[LF_C2S], i < N && i % 2 ? 3 : 2);
        f = see(&x, pkt(i, 40000, 1, 0x10, 71), 3 * s, &dir);
        assert_int_equal(f->id, ids[i]);
        assert_int_equal(dir, LF_S2C);
    }
    assert_int_equal(x.stats.flows, 2 * N);
    assert_int_equal(x.ended.n, 0);
    /* the same SYN again (same ISN) counts in the closed flow; a new one replaces it */
    assert_int_equal(see(&x, pkt(1, 40000, 0, 0x02, 7), 4 * s, &dir)->id, ids[1]);
    assert_int_equal(x.ended.n, 0);
    struct lf_flow *g = see(&x, pkt(1, 40000, 0, 0x02, 5000), 4 * s, &dir);
    assert_true(g->id != ids[1]);
    assert_int_equal(g->closed, 0);
    assert_int_equal(x.ended.n, 1);
    assert_int_equal(x.ended.id[0], ids[1]);
    assert_int_equal(see(&x, pkt(1, 40000, 1, 0x12, 800), 4 * s, &dir)->id, g->id);
    /* the other closed flows end after their linger, the open ones stay */
    lf_flowtab_expire(x.t, 4 * s + (lf_time)LF_FLOW_LINGER_S * s, 1000, 1000);
    assert_int_equal(x.ended.n, N);
    assert_int_equal(lf_flowtab_count(x.t), N + 1);
    for (uint32_t i = N; i < 2 * N; i++)
        assert_int_equal(see(&x, pkt(i, 40000, 1, 0x10, 72), 5 * s, &dir)->id, ids[i]);
    assert_int_equal(see(&x, pkt(0, 40000, 0, 0x10, 9), 5 * s, &dir)->id, 2 * N + 2); /* a new flow */
    tab_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_ways_and_growth),
        cmocka_unit_test(test_lookalike_tuples),
        cmocka_unit_test(test_eviction_order),
        cmocka_unit_test(test_expiry_and_reuse),
        cmocka_unit_test(test_closed_flows_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
