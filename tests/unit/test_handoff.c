/* test_handoff.c: the merge window (order, late events) and the handoff to the analysis thread (same output). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lyncflow/analysis.h"
#include "lyncflow/handoff.h"
#include "lyncflow/merge.h"

#define WINDOW 2000000
#define MAXOUT 4096

/* What came out of the merge, in order: (ts, tag) pairs; the tag rides in the flow's packet count. */
struct seen {
    size_t n;
    lf_time ts[MAXOUT];
    uint64_t tag[MAXOUT];
    int dirty; /* a byte of the event's own part was not what was pushed */
};

static void collect(void *ctx, struct lf_event *ev)
{
    struct seen *s = ctx;
    assert_true(s->n < MAXOUT);
    s->ts[s->n] = ev->ts;
    s->tag[s->n] = ev->u.flow.c2s_packets;
    s->n++;
    /* only the own part is there to read: the rest of what fill_event made is zero */
    if (ev->type != LF_EV_FLOW || ev->u.flow.s2c_packets != ~ev->u.flow.c2s_packets || ev->u.flow.end != ev->ts + 7 ||
        ev->flow_id || ev->role || ev->u.flow.gaps)
        s->dirty = 1;
}

/* One packet of a made-up capture: its time, and the events it made (ts offsets back from it). */
struct pkt {
    lf_time ts;
    int nev;
    lf_time back[3];
};

/* 600 packets 10 ms apart; most make an event for themselves, some for a request 1.5 s old
 * (inside the window), some for one 5 s old (late: older than what the window already let go). */
static size_t make_packets(struct pkt *p, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < max; i++) {
        struct pkt *k = &p[n++];
        memset(k, 0, sizeof *k);
        k->ts = 1700000000000000LL + (lf_time)i * 10000;
        if (i % 3 != 2)
            k->back[k->nev++] = 0;
        if (i % 7 == 0)
            k->back[k->nev++] = 1500000;
        if (i % 50 == 49)
            k->back[k->nev++] = 5000000;
    }
    return n;
}

static void fill_event(struct lf_event *ev, lf_time ts, uint64_t tag)
{
    lf_event_init(ev, LF_EV_FLOW, ts);
    ev->u.flow.c2s_packets = tag;
    ev->u.flow.s2c_packets = ~tag;
    ev->u.flow.end = ts + 7;
}

/* The reference: everything in one thread, the merge advanced after every packet. */
static void run_direct(const struct pkt *p, size_t n, struct seen *out)
{
    struct lf_merge *m = lf_merge_new(collect, out, WINDOW);
    uint64_t tag = 0;
    for (size_t i = 0; i < n; i++) {
        for (int e = 0; e < p[i].nev; e++) {
            struct lf_event ev;
            fill_event(&ev, p[i].ts - p[i].back[e], ++tag);
            lf_merge_push(m, &ev);
        }
        lf_merge_advance(m, p[i].ts);
    }
    lf_merge_finish(m);
    lf_merge_free(m);
}

static void run_handoff(const struct pkt *p, size_t n, struct seen *out, int threaded)
{
    struct lf_merge *m = lf_merge_new(collect, out, WINDOW);
    struct lf_analysis *an = lf_analysis_new(NULL);
    struct lf_handoff *h = lf_handoff_new(m, an, WINDOW, threaded);
    uint64_t tag = 0;
    for (size_t i = 0; i < n; i++) {
        for (int e = 0; e < p[i].nev; e++) {
            struct lf_event *ev = calloc(1, sizeof *ev); /* its bytes past the flow part are garbage */
            memset(ev, 0xa5, sizeof *ev);
            memset(ev, 0, offsetof(struct lf_event, u));
            memset(&ev->u.flow, 0, sizeof ev->u.flow);
            ev->type = LF_EV_FLOW;
            ev->ts = p[i].ts - p[i].back[e];
            ev->u.flow.c2s_packets = ++tag;
            ev->u.flow.s2c_packets = ~tag;
            ev->u.flow.end = ev->ts + 7;
            lf_handoff_emit(h, ev);
            free(ev);
        }
        lf_handoff_clock(h, p[i].ts);
    }
    lf_handoff_finish(h);
    lf_handoff_free(h);
    lf_analysis_free(an);
    lf_merge_free(m);
}

static struct pkt packets[600];

static void test_merge_orders_within_window(void **state)
{
    (void)state;
    size_t n = make_packets(packets, 600);
    struct seen *s = calloc(1, sizeof *s);
    run_direct(packets, n, s);
    size_t want = 0;
    for (size_t i = 0; i < n; i++)
        want += (size_t)packets[i].nev;
    assert_int_equal(s->n, want);
    size_t late = 0;
    for (size_t i = 1; i < s->n; i++) {
        if (s->ts[i] < s->ts[i - 1]) {
            late++;
            /* only the 5 s old ones may break the order */
            assert_true(s->ts[i - 1] - s->ts[i] > WINDOW);
        }
    }
    /* packets 99, 149, ... 599 make one late event each; packet 49's comes before anything was released */
    assert_int_equal(late, 11);
    free(s);
}

static void test_late_event_goes_out_at_once(void **state)
{
    (void)state;
    struct seen *s = calloc(1, sizeof *s);
    struct lf_merge *m = lf_merge_new(collect, s, WINDOW);
    struct lf_event ev;
    fill_event(&ev, 10000000, 1);
    lf_merge_push(m, &ev);
    lf_merge_advance(m, 13000000); /* releases ts <= 11 s: event 1 */
    assert_int_equal(s->n, 1);
    fill_event(&ev, 12500000, 2); /* inside the window: waits */
    lf_merge_push(m, &ev);
    assert_int_equal(s->n, 1);
    fill_event(&ev, 9000000, 3); /* older than what went out: at once */
    lf_merge_push(m, &ev);
    assert_int_equal(s->n, 2);
    assert_int_equal(s->tag[1], 3);
    lf_merge_finish(m);
    assert_int_equal(s->n, 3);
    assert_int_equal(s->tag[2], 2);
    lf_merge_free(m);
    free(s);
}

static void test_handoff_same_as_direct(void **state)
{
    (void)state;
    size_t n = make_packets(packets, 600);
    struct seen *ref = calloc(1, sizeof *ref), *one = calloc(1, sizeof *one), *two = calloc(1, sizeof *two);
    run_direct(packets, n, ref);
    run_handoff(packets, n, one, 0);
    for (int round = 0; round < 5; round++) { /* the threads' timing differs each round; the output may not */
        memset(two, 0, sizeof *two);
        run_handoff(packets, n, two, 1);
        assert_int_equal(two->n, ref->n);
        assert_memory_equal(two->tag, ref->tag, ref->n * sizeof ref->tag[0]);
        assert_memory_equal(two->ts, ref->ts, ref->n * sizeof ref->ts[0]);
        assert_false(two->dirty);
    }
    assert_int_equal(one->n, ref->n);
    assert_memory_equal(one->tag, ref->tag, ref->n * sizeof ref->tag[0]);
    assert_false(one->dirty);
    free(ref);
    free(one);
    free(two);
}

/* More events than the queue holds, with nobody reading for a while: the producer waits, nothing is lost. */
static void test_handoff_full_queue(void **state)
{
    (void)state;
    struct seen *s = calloc(1, sizeof *s);
    struct lf_merge *m = lf_merge_new(collect, s, WINDOW);
    struct lf_analysis *an = lf_analysis_new(NULL);
    struct lf_handoff *h = lf_handoff_new(m, an, WINDOW, 1);
    struct lf_event ev;
    for (uint64_t i = 0; i < 3000; i++) {
        fill_event(&ev, 1000000 + (lf_time)i, i + 1);
        lf_handoff_emit(h, &ev);
    }
    lf_handoff_idle(h, 50000000);
    lf_handoff_finish(h);
    assert_int_equal(s->n, 3000);
    for (size_t i = 0; i < s->n; i++)
        assert_int_equal(s->tag[i], i + 1);
    lf_handoff_free(h);
    lf_analysis_free(an);
    lf_merge_free(m);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_orders_within_window),
        cmocka_unit_test(test_late_event_goes_out_at_once),
        cmocka_unit_test(test_handoff_same_as_direct),
        cmocka_unit_test(test_handoff_full_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
