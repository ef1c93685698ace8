/* stream.c: per-direction TCP reassembly (policies in stream.h: first data wins, capped queues, gaps). */
#include "lyncflow/stream.h"

#include <stdlib.h>
#include <string.h>

#include "lyncflow/cursor.h"
#include "lyncflow/util.h"

struct lf_chunk {
    struct lf_chunk *next;
    uint64_t off;
    uint32_t len;
    uint8_t data[LF_CHUNK_DATA];
};

const struct lf_dissector *lf_stream_test_dissector;

void lf_reasm_init(struct lf_reasm *r, size_t stream_cap, size_t global_cap)
{
    memset(r, 0, sizeof *r);
    r->stream_cap = stream_cap;
    r->global_cap = global_cap;
}

void lf_reasm_free(struct lf_reasm *r)
{
    struct lf_chunk *c = r->free_chunks;
    while (c) {
        struct lf_chunk *n = c->next;
        free(c);
        c = n;
    }
    r->free_chunks = NULL;
}

static struct lf_chunk *chunk_get(struct lf_reasm *r)
{
    struct lf_chunk *c = r->free_chunks;
    if (c) {
        r->free_chunks = c->next;
    } else {
        c = lf_xmalloc(sizeof *c);
        r->chunks_allocated++;
    }
    c->next = NULL;
    c->len = 0;
    r->buffered += LF_CHUNK_DATA;
    return c;
}

static void chunk_put(struct lf_reasm *r, struct lf_chunk *c)
{
    c->next = r->free_chunks;
    r->free_chunks = c;
    r->buffered -= LF_CHUNK_DATA;
}

void lf_stream_syn(struct lf_stream *s, uint32_t isn)
{
    if (s->started)
        return;
    s->started = 1;
    s->pos = (uint64_t)1 << 32; /* room below for segments that arrive late */
    s->pos_seq = isn + 1;
}

static void advance(struct lf_stream *s, uint64_t to)
{
    s->pos_seq += (uint32_t)(to - s->pos);
    s->pos = to;
}

static void deliver(struct lf_stream *s, const struct lf_stream_sink *sink, int dir, const uint8_t *p, size_t n)
{
    s->pos_seq += (uint32_t)n;
    s->pos += n;
    if (n && sink && sink->data)
        sink->data(sink->ctx, dir, p, n);
}

static void gap(struct lf_reasm *r, struct lf_stream *s, const struct lf_stream_sink *sink, int dir, uint64_t to)
{
    if (to <= s->pos)
        return;
    uint64_t n = to - s->pos;
    advance(s, to);
    r->gaps++;
    r->gap_bytes += n;
    s->gaps++;
    if (sink && sink->gap)
        sink->gap(sink->ctx, dir, n);
}

/* Delivers queued chunks that reached the position. */
static void drain(struct lf_reasm *r, struct lf_stream *s, const struct lf_stream_sink *sink, int dir)
{
    while (s->queue && s->queue->off <= s->pos) {
        struct lf_chunk *c = s->queue;
        s->queue = c->next;
        s->queued -= LF_CHUNK_DATA;
        uint64_t end = c->off + c->len;
        if (end > s->pos) {
            struct lf_cur cur = lf_cur_make(c->data, c->len);
            lf_cur_skip(&cur, (size_t)(s->pos - c->off));
            deliver(s, sink, dir, lf_cur_ptr(&cur), lf_cur_left(&cur));
        }
        chunk_put(r, c);
    }
}

/* Queues [start, start+len) of data, keeping bytes already queued (first data wins). */
static void insert(struct lf_reasm *r, struct lf_stream *s, uint64_t start, const uint8_t *data, size_t len)
{
    struct lf_chunk **pp = &s->queue, *prev = NULL;
    uint64_t cur = start, end = start + len;
    while (cur < end) {
        while (*pp && (*pp)->off + (*pp)->len <= cur) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        if (*pp && (*pp)->off <= cur) {
            cur = (*pp)->off + (*pp)->len;
            continue;
        }
        uint64_t lim = *pp && (*pp)->off < end ? (*pp)->off : end;
        while (cur < lim) {
            struct lf_cur src = lf_cur_make(data, len);
            lf_cur_skip(&src, (size_t)(cur - start));
            struct lf_chunk *c;
            if (prev && prev->off + prev->len == cur && prev->len < LF_CHUNK_DATA) {
                c = prev; /* extend the chunk just before */
            } else {
                c = chunk_get(r);
                c->off = cur;
                c->next = *pp;
                *pp = c;
                s->queued += LF_CHUNK_DATA;
                prev = c;
                pp = &c->next;
            }
            size_t room = LF_CHUNK_DATA - c->len;
            size_t n = lim - cur < room ? (size_t)(lim - cur) : room;
            lf_cur_copy(&src, c->data + c->len, n);
            c->len += (uint32_t)n;
            cur += n;
        }
    }
}

static int over_cap(const struct lf_reasm *r, const struct lf_stream *s, size_t len)
{
    size_t need = (len / LF_CHUNK_DATA + 2) * LF_CHUNK_DATA;
    return s->queued + need > r->stream_cap || r->buffered + need > r->global_cap;
}

void lf_stream_segment(struct lf_reasm *r, struct lf_stream *s, uint32_t seq, const uint8_t *data, size_t len,
                       size_t wirelen, int fin, const struct lf_stream_sink *sink, int dir)
{
    if (s->done)
        return;
    if (len > wirelen)
        len = wirelen;
    if (!s->started) {
        s->started = 1;
        s->pos = (uint64_t)1 << 32; /* room below for segments that arrive late */
        s->pos_seq = seq;
    }
    int64_t start = (int64_t)s->pos + (int32_t)(seq - s->pos_seq);
    if (start < 0) /* a wild sequence number before the stream's origin */
        return;
    if (fin && !s->fin_seen) {
        s->fin_seen = 1;
        s->fin_off = (uint64_t)start + wirelen;
    }
    struct lf_cur c = lf_cur_make(data, len);
    uint64_t st = (uint64_t)start, capend = st + len, end = st + wirelen;
    int hit = 0;
    while (capend > s->pos) {
        if (st < s->pos) {
            lf_cur_skip(&c, (size_t)(s->pos - st));
            st = s->pos;
        }
        if (st == s->pos) {
            uint64_t lim = s->queue && s->queue->off < capend ? s->queue->off : capend;
            size_t n = (size_t)(lim - st);
            struct lf_cur part = lf_cur_sub(&c, n);
            deliver(s, sink, dir, part.p, n);
            st = lim;
            drain(r, s, sink, dir);
            continue;
        }
        if (!over_cap(r, s, (size_t)(capend - st))) {
            insert(r, s, st, lf_cur_ptr(&c), (size_t)(capend - st));
            break;
        }
        /* A cap: give up on the first hole and deliver what follows it. */
        if (!hit) {
            r->stream_cap_hits++;
            hit = 1;
        }
        gap(r, s, sink, dir, s->queue && s->queue->off < st ? s->queue->off : st);
        drain(r, s, sink, dir);
    }
    if (end > capend && s->pos == capend)
        gap(r, s, sink, dir, end); /* the capture cut this segment short */
    if (s->fin_seen && s->pos >= s->fin_off)
        s->done = 1;
}

void lf_stream_flush(struct lf_reasm *r, struct lf_stream *s, const struct lf_stream_sink *sink, int dir)
{
    while (s->queue) {
        gap(r, s, sink, dir, s->queue->off);
        drain(r, s, sink, dir);
    }
    if (s->fin_seen && s->pos < s->fin_off && s->fin_off - s->pos < ((uint64_t)1 << 31))
        gap(r, s, sink, dir, s->fin_off);
    s->done = 1;
}

void lf_stream_release(struct lf_reasm *r, struct lf_stream *s)
{
    struct lf_chunk *c = s->queue;
    while (c) {
        struct lf_chunk *n = c->next;
        chunk_put(r, c);
        c = n;
    }
    memset(s, 0, sizeof *s);
}
