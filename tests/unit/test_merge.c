/* test_merge.c: the merge's hand-out buffers: events of mixed types and sizes, held and late, come out whole
 * and aligned. */
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
    uint8_t fill[64]; /* the byte the event's own union part was filled with */
    int torn;         /* a byte of an event's own union part was not its fill */
    int misaligned;   /* an event was not where a struct lf_event may be */
};

static void collect(void *ctx, struct lf_event *ev)
{
    struct seen *s = ctx;
    assert_true(s->n < 64);
    size_t own = lf_event_size(ev->type);
    const uint8_t *b = (const uint8_t *)ev;
    uint8_t f = b[offsetof(struct lf_event, u)];
    for (size_t i = offsetof(struct lf_event, u); i < own; i++)
        if (b[i] != f)
            s->torn = 1;
    /* nothing past own is read: a held event comes from a slot that holds no more */
    if ((uintptr_t)ev % _Alignof(struct lf_event))
        s->misaligned = 1;
    s->type[s->n] = ev->type;
    s->ts[s->n] = ev->ts;
    s->fill[s->n] = f;
    s->n++;
}

/* An event whose own union part is all fill, and whose bytes past it are garbage. */
static void make(struct lf_event *ev, int type, lf_time ts, uint8_t fill)
{
    memset(ev, 0xee, sizeof *ev);
    memset(ev, 0, offsetof(struct lf_event, u));
    ev->type = (uint8_t)type;
    ev->ts = ts;
    memset(&ev->u, fill, lf_event_size(type) - offsetof(struct lf_event, u));
}

/* Long events then short ones, through the window and past it (late): each comes out with its own
 * bytes, whatever went out before it, and aligned (a finding's part is bytes only: two held together must
 * not leave the second one misplaced). */
static void test_mixed_types_come_out_clean(void **state)
{
    (void)state;
    static const int types[] = {LF_EV_HTTP, LF_EV_FLOW, LF_EV_TLS, LF_EV_FLOW, LF_EV_HTTP, LF_EV_SIGNIN,
                                LF_EV_FLOW, LF_EV_STATS, LF_EV_FINDING, LF_EV_FINDING, LF_EV_FLOW, 0,
                                LF_EV_FINDING, LF_EV_FLOW};
    size_t nt = sizeof types / sizeof types[0];
    struct seen *s = calloc(1, sizeof *s);
    struct lf_merge *m = lf_merge_new(collect, s, WINDOW);
    struct lf_event *ev = malloc(sizeof *ev);
    /* held: pushed newest first, so that the heap reorders them */
    for (size_t i = nt; i-- > 0;) {
        make(ev, types[i], 10000000 + (lf_time)i * 1000, (uint8_t)(0x10 + i));
        lf_merge_push(m, ev);
    }
    assert_int_equal(s->n, 0);
    lf_merge_advance(m, 20000000);
    assert_int_equal(s->n, nt);
    /* late: older than what went out, handed out at once */
    for (size_t i = 0; i < nt; i++) {
        make(ev, types[i], 5000000 + (lf_time)i, (uint8_t)(0x40 + i));
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
    assert_false(s->torn);
    assert_false(s->misaligned);
    lf_merge_free(m);
    free(ev);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixed_types_come_out_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
