/* test_merge.c: the merge's slots: events of mixed types and string lengths, held and late, come out whole;
 * and the merge's order is a stable sort on time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lyncflow/merge.h"

#define WINDOW 2000000

struct seen {
    size_t n;
    uint8_t type[64];
    lf_time ts[64];
    uint64_t fill[64]; /* the number each event was made with (its flow_id) */
    int wrong;         /* a string field was not what its event was made with */
};

/* String field i of an event made with fill: fill * 7 + i * 300 bytes of one letter (none for some). */
static size_t text_len(uint64_t fill, int i) { return (size_t)((fill * 7 + (uint64_t)i * 300) % 2500); }

static void collect(void *ctx, struct lf_event *ev)
{
    struct seen *s = ctx;
    assert_true(s->n < 64);
    for (int i = 0; i < lf_event_nfields(ev->type); i++) {
        const char *v = *lf_event_field_at(ev, i);
        size_t n = text_len(ev->flow_id, i);
        if (strlen(v) != n || strspn(v, (char[]){(char)('a' + i), 0}) != n)
            s->wrong = 1;
    }
    s->type[s->n] = ev->type;
    s->ts[s->n] = ev->ts;
    s->fill[s->n] = ev->flow_id;
    s->n++;
}

/* An event of type with every string field of its own length and letter. */
static void make(struct lf_event *ev, int type, lf_time ts, uint64_t fill)
{
    lf_event_reset(ev, (enum lf_ev_type)type, ts);
    ev->flow_id = fill;
    char buf[2600];
    for (int i = 0; i < lf_event_nfields(type); i++) {
        size_t n = text_len(fill, i);
        memset(buf, 'a' + i, n);
        lf_event_setn(ev, lf_event_field_at(ev, i), buf, n);
    }
}

/* Long events then short ones, through the window and past it (late): each comes out with its own
 * strings and values, whatever went out of its slot before it. */
static void test_mixed_types_come_out_clean(void **state)
{
    (void)state;
    static const int types[] = {LF_EV_HTTP, LF_EV_FLOW, LF_EV_TLS, LF_EV_FLOW, LF_EV_HTTP, LF_EV_SIGNIN,
                                LF_EV_FLOW, LF_EV_STATS, LF_EV_FINDING, LF_EV_FINDING, LF_EV_FLOW, LF_EV_HTTP,
                                LF_EV_FINDING, LF_EV_FLOW};
    size_t nt = sizeof types / sizeof types[0];
    struct seen *s = calloc(1, sizeof *s);
    struct lf_merge *m = lf_merge_new(collect, s, WINDOW);
    struct lf_event *ev = calloc(1, sizeof *ev);
    /* held: pushed newest first, so that the heap reorders them */
    for (size_t i = nt; i-- > 0;) {
        make(ev, types[i], 10000000 + (lf_time)i * 1000, 0x10 + i);
        lf_merge_push(m, ev);
    }
    assert_int_equal(s->n, 0);
    lf_merge_advance(m, 20000000);
    assert_int_equal(s->n, nt);
    /* late: older than what went out, handed out at once */
    for (size_t i = 0; i < nt; i++) {
        make(ev, types[i], 5000000 + (lf_time)i, 0x40 + i);
        lf_merge_push(m, ev);
        assert_int_equal(s->n, nt + i + 1);
    }
    lf_merge_finish(m);
    assert_int_equal(s->n, 2 * nt);
    for (size_t i = 0; i < 2 * nt; i++) {
        size_t k = i % nt;
        assert_int_equal(s->type[i], types[k]);
        assert_int_equal(s->fill[i], (i < nt ? 0x10 : 0x40) + k);
        assert_int_equal(s->ts[i], (i < nt ? 10000000 + (lf_time)k * 1000 : 5000000 + (lf_time)k));
    }
    assert_false(s->wrong);
    lf_merge_free(m);
    lf_event_release(ev);
    free(ev);
    free(s);
}

/* What came out, for the order test: ts and push number. */
struct order {
    size_t n;
    lf_time ts[20000];
    uint64_t num[20000];
};

static void collect_order(void *ctx, struct lf_event *ev)
{
    struct order *o = ctx;
    assert_true(o->n < 20000);
    o->ts[o->n] = ev->ts;
    o->num[o->n] = ev->u.flow.c2s_packets;
    o->n++;
}

/* Mostly in time order, with ties, some older events and some late ones, while the window moves: the
 * events come out as a stable sort on ts would put them (late ones at once), whichever way each was held. */
static void test_order_is_stable_sort(void **state)
{
    (void)state;
    struct order *o = calloc(1, sizeof *o);
    struct lf_merge *m = lf_merge_new(collect_order, o, WINDOW);
    uint64_t r = 0x1234567887654321ULL;
    lf_time clock = 10000000, released = INT64_MIN;
    size_t n = 0;
    static lf_time want_ts[20000];
    static uint64_t want_num[20000];
    /* the reference: held (ts, num) pairs, and what has gone out */
    static lf_time held_ts[20000];
    static uint64_t held_num[20000];
    size_t nheld = 0, nwant = 0;
    for (int i = 0; i < 15000; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        lf_time ts;
        switch (r % 16) {
        case 0: ts = clock - (lf_time)(r >> 8) % 1500000; break;  /* older, still in the window */
        case 1: ts = clock - 3000000 - (lf_time)(r >> 8) % 1000; break; /* late */
        case 2: case 3: ts = clock; break;                          /* a tie */
        case 4: ts = clock - 1; break;                              /* just older */
        default: clock += (lf_time)(r >> 8) % 3000; ts = clock; break;
        }
        struct lf_event ev;
        lf_event_init(&ev, LF_EV_FLOW, ts);
        ev.u.flow.c2s_packets = ++n;
        lf_merge_push(m, &ev);
        if (ts <= released) {
            want_ts[nwant] = ts;
            want_num[nwant++] = n;
        } else {
            held_ts[nheld] = ts;
            held_num[nheld++] = n;
        }
        if (r % 7 == 0 || i == 14999) {
            lf_time limit = i == 14999 ? INT64_MAX : clock - WINDOW;
            if (i == 14999)
                lf_merge_finish(m);
            else
                lf_merge_advance(m, clock);
            /* out: the held ones with ts <= limit, by (ts, num) */
            for (;;) {
                size_t best = nheld;
                for (size_t k = 0; k < nheld; k++)
                    if (held_ts[k] <= limit && (best == nheld || held_ts[k] < held_ts[best] ||
                                                (held_ts[k] == held_ts[best] && held_num[k] < held_num[best])))
                        best = k;
                if (best == nheld)
                    break;
                want_ts[nwant] = held_ts[best];
                want_num[nwant++] = held_num[best];
                held_ts[best] = held_ts[--nheld];
                held_num[best] = held_num[nheld];
            }
            if (limit > released)
                released = limit;
        }
    }
    assert_int_equal(nheld, 0);
    assert_int_equal(o->n, n);
    assert_int_equal(nwant, n);
    assert_memory_equal(o->num, want_num, n * sizeof want_num[0]);
    assert_memory_equal(o->ts, want_ts, n * sizeof want_ts[0]);
    lf_merge_free(m);
    free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixed_types_come_out_clean),
        cmocka_unit_test(test_order_is_stable_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
