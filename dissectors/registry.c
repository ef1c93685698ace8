/* registry.c: the one table of dissectors, probing, and lf_feed (the buffered INCOMPLETE/OK loop). */
#include <stdlib.h>
#include <string.h>

#include "lyncflow/cursor.h"
#include "lyncflow/dissect.h"
#include "lyncflow/util.h"

extern const struct lf_dissector lf_dissector_tls;
extern const struct lf_dissector lf_dissector_http;
extern const struct lf_dissector lf_dissector_proxyproto;

/* Each dissector file exports one descriptor; list it here, in probe order. */
const struct lf_dissector *const lf_dissectors[] = {
    &lf_dissector_tls,
    &lf_dissector_http,
    &lf_dissector_proxyproto,
    NULL,
};

const struct lf_dissector *lf_dissector_find(const char *name)
{
    for (size_t i = 0; lf_dissectors[i]; i++)
        if (strcmp(lf_dissectors[i]->name, name) == 0)
            return lf_dissectors[i];
    return NULL;
}

const struct lf_dissector *lf_dissector_probe(const uint8_t *data, size_t len, enum lf_dir dir, int final, int *wait)
{
    const struct lf_dissector *maybe = NULL;
    *wait = 0;
    for (size_t i = 0; lf_dissectors[i]; i++) {
        if (!lf_dissectors[i]->probe)
            continue;
        enum lf_probe r = lf_dissectors[i]->probe(data, len, dir);
        if (r == LF_PROBE_YES)
            return lf_dissectors[i];
        if (r == LF_PROBE_MAYBE && !maybe)
            maybe = lf_dissectors[i];
    }
    if (maybe && final)
        return maybe;
    *wait = maybe != NULL;
    return NULL;
}

/* Buffers of the first size (BUF_FIRST) that flows gave back, kept for the
 * next flows (at most BUF_POOL_MAX; each holds the next one's address in its
 * first bytes), so a run in steady state allocates no buffer per flow.
 * Capture thread only. */
#define BUF_FIRST ((size_t)4096)
#define BUF_POOL_MAX 256
static uint8_t *buf_pool;
static size_t buf_pool_n;

/* Makes room for n more bytes in b; -1 when b->max would be exceeded. */
static int reserve(struct lf_bytebuf *b, size_t n)
{
    if (b->max && (n > b->max || b->len > b->max - n)) {
        b->over = 1;
        return -1;
    }
    if (b->len + n <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
        cap *= 2;
    if (b->max && cap > b->max)
        cap = b->max;
    if (!b->data && cap == BUF_FIRST && buf_pool) {
        b->data = buf_pool;
        memcpy(&buf_pool, b->data, sizeof buf_pool);
        buf_pool_n--;
    } else {
        b->data = lf_xrealloc(b->data, cap);
    }
    b->cap = cap;
    return 0;
}

/* Runs on_data over cur until it stops; leaves cur at the first unconsumed byte. */
static enum lf_dis_status run(const struct lf_dissector *d, void *st, struct lf_flowctx *fc, enum lf_dir dir,
                              struct lf_cur *cur, size_t *want)
{
    *want = 0;
    while (lf_cur_left(cur) > 0) {
        size_t left = lf_cur_left(cur);
        struct lf_dres r = d->on_data(st, fc, dir, lf_cur_ptr(cur), left);
        size_t used = r.consumed < left ? r.consumed : left;
        lf_cur_skip(cur, used);
        if (r.status == LF_DIS_ERROR)
            return LF_DIS_ERROR;
        if (r.status == LF_DIS_INCOMPLETE) {
            size_t rest = lf_cur_left(cur);
            *want = r.needed > SIZE_MAX - rest ? SIZE_MAX : rest + (r.needed ? r.needed : 1);
            return LF_DIS_INCOMPLETE;
        }
        if (used == 0) {
            *want = lf_cur_left(cur) + 1; /* OK without progress: wait for more */
            return LF_DIS_OK;
        }
    }
    return LF_DIS_OK;
}

enum lf_dis_status lf_feed(const struct lf_dissector *d, void *st, struct lf_flowctx *fc, enum lf_dir dir,
                           struct lf_bytebuf *b, const uint8_t *data, size_t len)
{
    if (!d || !d->on_data)
        return LF_DIS_ERROR;
    size_t want;
    if (b->len == 0 && len > 0 && len >= b->want) {
        /* Nothing buffered: parse straight from the caller's bytes, keep the tail. */
        struct lf_cur cur = lf_cur_make(data, len);
        enum lf_dis_status r = run(d, st, fc, dir, &cur, &want);
        size_t rest = lf_cur_left(&cur);
        if (rest) {
            if (reserve(b, rest) != 0)
                return LF_DIS_ERROR;
            memcpy(b->data, lf_cur_ptr(&cur), rest);
            b->len = rest;
        }
        if (r == LF_DIS_ERROR)
            return LF_DIS_ERROR;
        b->want = want;
        if (b->max && b->want > b->max) {
            b->over = 1;
            return LF_DIS_ERROR;
        }
        return LF_DIS_OK;
    }
    if (len) {
        if (reserve(b, len) != 0)
            return LF_DIS_ERROR;
        memcpy(b->data + b->len, data, len);
        b->len += len;
    }
    if (b->len == 0 || b->len < b->want)
        return LF_DIS_OK;
    struct lf_cur cur = lf_cur_make(b->data, b->len);
    enum lf_dis_status r = run(d, st, fc, dir, &cur, &want);
    size_t rest = lf_cur_left(&cur);
    if (rest && rest < b->len)
        memmove(b->data, lf_cur_ptr(&cur), rest);
    b->len = rest;
    if (r == LF_DIS_ERROR)
        return LF_DIS_ERROR;
    b->want = want;
    if (b->max && b->want > b->max) {
        b->over = 1; /* the dissector asks for more than the buffer may ever hold */
        return LF_DIS_ERROR;
    }
    return LF_DIS_OK;
}

void lf_bytebuf_free(struct lf_bytebuf *b)
{
    if (b->data && b->cap == BUF_FIRST && buf_pool_n < BUF_POOL_MAX) {
        memcpy(b->data, &buf_pool, sizeof buf_pool);
        buf_pool = b->data;
        buf_pool_n++;
    } else {
        free(b->data);
    }
    b->data = NULL;
    b->len = b->cap = 0;
    b->want = 0;
}
