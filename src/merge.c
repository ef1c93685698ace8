/* merge.c: reorder window for capture events and k-way merge with IIS logs. */
#include "lyncflow/merge.h"

#include <stdlib.h>
#include <string.h>

#include "lyncflow/util.h"

struct source {
    lf_merge_next_fn next;
    void *src;
    struct lf_event pending;
    int has;  /* pending holds an event */
    int done; /* the source ended */
};

struct lf_merge {
    void (*out)(void *, struct lf_event *);
    void *out_ctx;
    lf_time window;
    struct lf_event *heap; /* min-heap on (ts, seq) */
    uint64_t *seq;
    size_t n, cap;
    uint64_t nextseq;
    struct source *src;
    size_t nsrc;
};

struct lf_merge *lf_merge_new(void (*out)(void *, struct lf_event *), void *out_ctx, lf_time window)
{
    struct lf_merge *m = lf_xcalloc(1, sizeof *m);
    m->out = out;
    m->out_ctx = out_ctx;
    m->window = window;
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

static int before(const struct lf_merge *m, size_t a, size_t b)
{
    if (m->heap[a].ts != m->heap[b].ts)
        return m->heap[a].ts < m->heap[b].ts;
    return m->seq[a] < m->seq[b];
}

static void swap(struct lf_merge *m, size_t a, size_t b)
{
    struct lf_event t = m->heap[a];
    m->heap[a] = m->heap[b];
    m->heap[b] = t;
    uint64_t s = m->seq[a];
    m->seq[a] = m->seq[b];
    m->seq[b] = s;
}

static void heap_push(struct lf_merge *m, const struct lf_event *ev)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->heap = lf_xrealloc(m->heap, m->cap * sizeof *m->heap);
        m->seq = lf_xrealloc(m->seq, m->cap * sizeof *m->seq);
    }
    size_t i = m->n++;
    m->heap[i] = *ev;
    m->seq[i] = m->nextseq++;
    while (i > 0 && before(m, i, (i - 1) / 2)) {
        swap(m, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_pop_out(struct lf_merge *m)
{
    struct lf_event ev = m->heap[0];
    m->n--;
    if (m->n) {
        m->heap[0] = m->heap[m->n];
        m->seq[0] = m->seq[m->n];
        size_t i = 0;
        for (;;) {
            size_t l = 2 * i + 1, r = l + 1, s = i;
            if (l < m->n && before(m, l, s))
                s = l;
            if (r < m->n && before(m, r, s))
                s = r;
            if (s == i)
                break;
            swap(m, i, s);
            i = s;
        }
    }
    m->out(m->out_ctx, &ev);
}

static void fill(struct source *s)
{
    if (!s->has && !s->done) {
        if (s->next(s->src, &s->pending) == 1)
            s->has = 1;
        else
            s->done = 1;
    }
}

/* Moves source events with ts <= limit into the heap. */
static void pull(struct lf_merge *m, lf_time limit)
{
    for (size_t i = 0; i < m->nsrc; i++) {
        struct source *s = &m->src[i];
        for (fill(s); s->has && s->pending.ts <= limit; fill(s)) {
            heap_push(m, &s->pending);
            s->has = 0;
        }
    }
}

void lf_merge_push(struct lf_merge *m, const struct lf_event *ev) { heap_push(m, ev); }

void lf_merge_emit(void *m, struct lf_event *ev) { heap_push(m, ev); }

void lf_merge_advance(struct lf_merge *m, lf_time now)
{
    lf_time limit = now - m->window;
    pull(m, limit);
    while (m->n && m->heap[0].ts <= limit)
        heap_pop_out(m);
}

void lf_merge_finish(struct lf_merge *m)
{
    for (;;) {
        /* the smallest pending source event bounds what may leave the heap */
        lf_time low = INT64_MAX;
        int any = 0;
        for (size_t i = 0; i < m->nsrc; i++) {
            fill(&m->src[i]);
            if (m->src[i].has && m->src[i].pending.ts < low) {
                low = m->src[i].pending.ts;
                any = 1;
            }
        }
        if (!any)
            break;
        pull(m, low);
        while (m->n && m->heap[0].ts <= low)
            heap_pop_out(m);
    }
    while (m->n)
        heap_pop_out(m);
}

void lf_merge_free(struct lf_merge *m)
{
    if (!m)
        return;
    free(m->heap);
    free(m->seq);
    free(m->src);
    free(m);
}
