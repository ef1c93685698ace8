/* merge.c: reorder window for capture events and k-way merge with IIS logs.
 *
 * Events wait in a pool of slots, each a copy of the event (lf_event_copy)
 * in a slot that keeps its text block for the next one; the heap orders
 * small (ts, seq, slot) entries, so reordering moves 24 bytes, not whole
 * events. A held event goes out from its slot, which is free again once the
 * callback returns; a late one from a copy of its own.
 */
#include "lyncflow/merge.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lyncflow/util.h"

struct source {
    lf_merge_next_fn next;
    void *src;
    struct lf_event pending;
    lf_time key; /* pending's order key: its ts, never below the previous key */
    int has;     /* pending holds an event */
    int done; /* the source ended */
};

struct entry {
    lf_time ts;
    uint64_t seq;
    uint32_t slot;
};

struct pool {
    struct lf_event *ev; /* cap slots */
    size_t cap;
    uint32_t *freelist;
    size_t nfree;
};

struct lf_merge {
    void (*out)(void *, struct lf_event *);
    void *out_ctx;
    lf_time window;
    struct entry *heap;
    size_t n, cap;
    struct pool pool;
    struct lf_event late; /* a late event's copy, handed out from here */
    uint64_t nextseq;
    lf_time released; /* every event with ts <= this has been handed out */
    struct source *src;
    size_t nsrc;
};

struct lf_merge *lf_merge_new(void (*out)(void *, struct lf_event *), void *out_ctx, lf_time window)
{
    struct lf_merge *m = lf_xcalloc(1, sizeof *m);
    m->out = out;
    m->out_ctx = out_ctx;
    m->window = window;
    m->released = INT64_MIN;
    return m;
}

void lf_merge_add_source(struct lf_merge *m, lf_merge_next_fn next, void *src)
{
    m->src = lf_xrealloc(m->src, (m->nsrc + 1) * sizeof *m->src);
    memset(&m->src[m->nsrc], 0, sizeof m->src[m->nsrc]);
    m->src[m->nsrc].next = next;
    m->src[m->nsrc].src = src;
    m->nsrc++;
}

static int before(const struct entry *a, const struct entry *b)
{
    return a->ts != b->ts ? a->ts < b->ts : a->seq < b->seq;
}

static uint32_t pool_get(struct pool *p)
{
    if (p->nfree == 0) {
        size_t old = p->cap;
        p->cap = p->cap ? p->cap * 2 : 64;
        p->ev = lf_xrealloc(p->ev, p->cap * sizeof *p->ev); /* moved: each slot's text block goes with it */
        memset(p->ev + old, 0, (p->cap - old) * sizeof *p->ev);
        p->freelist = lf_xrealloc(p->freelist, p->cap * sizeof *p->freelist);
        for (size_t i = p->cap; i > old; i--)
            p->freelist[p->nfree++] = (uint32_t)(i - 1);
    }
    return p->freelist[--p->nfree];
}

static void heap_push(struct lf_merge *m, const struct lf_event *ev, lf_time key)
{
    struct pool *p = &m->pool;
    uint32_t slot = pool_get(p);
    lf_event_copy(&p->ev[slot], ev);
    struct entry e = {key, m->nextseq++, slot};
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->heap = lf_xrealloc(m->heap, m->cap * sizeof *m->heap);
    }
    size_t i = m->n++;
    while (i > 0 && before(&e, &m->heap[(i - 1) / 2])) {
        m->heap[i] = m->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    m->heap[i] = e;
}

/* The held event that goes out next, NULL when none is held. */
static const struct entry *held_top(const struct lf_merge *m) { return m->n ? &m->heap[0] : NULL; }

static void heap_pop_out(struct lf_merge *m)
{
    struct entry top = m->heap[0], last = m->heap[--m->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, s = l;
        if (l >= m->n)
            break;
        if (r < m->n && before(&m->heap[r], &m->heap[l]))
            s = r;
        if (!before(&m->heap[s], &last))
            break;
        m->heap[i] = m->heap[s];
        i = s;
    }
    if (m->n)
        m->heap[i] = last;
    struct pool *p = &m->pool;
    m->out(m->out_ctx, &p->ev[top.slot]);
    p->freelist[p->nfree++] = top.slot;
}

static void fill(struct source *s)
{
    if (!s->has && !s->done) {
        if (s->next(s->src, &s->pending) == 1) {
            s->has = 1;
            /* a log whose clock jumps back keeps its own order */
            if (s->pending.ts > s->key)
                s->key = s->pending.ts;
        } else
            s->done = 1;
    }
}

/* Releases, in order, every event with ts <= limit: the held events and the
 * sources' pending ones, the smallest first (a held event first on a tie). A
 * source's event goes out from where it was read, never through the heap. */
static void release(struct lf_merge *m, lf_time limit)
{
    for (;;) {
        struct source *best = NULL;
        for (size_t i = 0; i < m->nsrc; i++) {
            struct source *s = &m->src[i];
            fill(s);
            if (s->has && s->key <= limit && (!best || s->key < best->key))
                best = s;
        }
        const struct entry *top = held_top(m);
        if (best && (!top || best->key < top->ts)) {
            best->has = 0;
            m->out(m->out_ctx, &best->pending);
            continue;
        }
        if (top && top->ts <= limit) {
            heap_pop_out(m);
            continue;
        }
        break;
    }
    if (limit > m->released)
        m->released = limit;
}

/* An event older than what was already handed out is late: nothing left in
 * the window comes before it, so it goes out at once instead of waiting (the
 * flow events of a capture's end arrive this way, all together). */
void lf_merge_push(struct lf_merge *m, const struct lf_event *ev)
{
    if (ev->ts <= m->released) {
        lf_event_copy(&m->late, ev);
        m->out(m->out_ctx, &m->late);
        return;
    }
    heap_push(m, ev, ev->ts);
}

void lf_merge_emit(void *m, struct lf_event *ev) { lf_merge_push(m, ev); }

void lf_merge_advance(struct lf_merge *m, lf_time now) { release(m, now - m->window); }

void lf_merge_finish(struct lf_merge *m)
{
    release(m, INT64_MAX);
    while (m->n)
        heap_pop_out(m);
}

void lf_merge_free(struct lf_merge *m)
{
    if (!m)
        return;
    free(m->heap);
    for (size_t i = 0; i < m->pool.cap; i++)
        lf_event_release(&m->pool.ev[i]);
    free(m->pool.ev);
    free(m->pool.freelist);
    lf_event_release(&m->late);
    for (size_t i = 0; i < m->nsrc; i++)
        lf_event_release(&m->src[i].pending);
    free(m->src);
    free(m);
}
