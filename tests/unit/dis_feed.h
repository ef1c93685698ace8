/* dis_feed.h: drives one dissector over byte chunks the way the engine does
 * (the lf_feed contract of dissect.h), and collects the events it emits. */
#ifndef LYNCFLOW_TEST_DIS_FEED_H
#define LYNCFLOW_TEST_DIS_FEED_H

#include <stdlib.h>
#include <string.h>

#include "lyncflow/dissect.h"
#include "lyncflow/engine.h"
#include "lyncflow/util.h"

#ifndef TF_MAX_EVENTS
#define TF_MAX_EVENTS 64
#endif

struct tf {
    const struct lf_dissector *d;
    void *st;
    struct lf_engine *eng;
    struct lf_flowctx fc;
    uint8_t *buf[2];
    size_t len[2], cap[2], want[2];
    int left; /* the dissector returned LF_DIS_ERROR */
    int own_eng;
    struct lf_event ev[TF_MAX_EVENTS];
    int n;
    int dropped;
};

static void tf_collect(void *ctx, struct lf_event *ev)
{
    struct tf *t = ctx;
    if (t->n < TF_MAX_EVENTS)
        lf_event_copy(&t->ev[t->n++], ev);
    else
        t->dropped++;
}

/* A dissector run whose events go to t->ev; eng is an engine to reuse (its
 * emit context is taken over), or NULL for one of its own. */
static struct tf *tf_new_eng(const struct lf_dissector *d, struct lf_engine *eng)
{
    struct tf *t = lf_xcalloc(1, sizeof *t);
    t->d = d;
    if (eng) {
        t->eng = eng;
        eng->emit = tf_collect;
        eng->emit_ctx = t;
    } else {
        struct lf_config cfg;
        lf_config_defaults(&cfg);
        cfg.max_flows = 16;
        t->eng = lf_engine_new(&cfg, tf_collect, t);
        t->own_eng = 1;
    }
    t->fc.flow_id = 7;
    t->fc.eng = t->eng;
    lf_addr_parse("192.0.2.1:50000", &t->fc.client);
    lf_addr_parse("198.51.100.2:80", &t->fc.server);
    t->fc.ts = 1000000;
    t->st = d->state_new(&t->fc);
    return t;
}

static struct tf *tf_new(const struct lf_dissector *d) { return tf_new_eng(d, NULL); }

/* Appends bytes to one direction and runs on_data like lf_feed. Returns the
 * last status. */
static enum lf_dis_status tf_feed(struct tf *t, enum lf_dir dir, const void *data, size_t len)
{
    if (t->left)
        return LF_DIS_ERROR;
    if (t->len[dir] + len > t->cap[dir]) {
        t->cap[dir] = (t->len[dir] + len) * 2 + 16;
        t->buf[dir] = lf_xrealloc(t->buf[dir], t->cap[dir]);
    }
    if (len)
        memcpy(t->buf[dir] + t->len[dir], data, len);
    t->len[dir] += len;
    if (t->len[dir] < t->want[dir])
        return LF_DIS_INCOMPLETE;
    t->want[dir] = 0;
    while (t->len[dir]) {
        /* a fresh copy each call, so reads past `len` are caught by ASan */
        uint8_t *copy = lf_xmalloc(t->len[dir]);
        memcpy(copy, t->buf[dir], t->len[dir]);
        struct lf_dres r = t->d->on_data(t->st, &t->fc, dir, copy, t->len[dir]);
        free(copy);
        if (r.status == LF_DIS_ERROR) {
            t->left = 1;
            return LF_DIS_ERROR;
        }
        if (r.consumed > t->len[dir])
            abort();
        memmove(t->buf[dir], t->buf[dir] + r.consumed, t->len[dir] - r.consumed);
        t->len[dir] -= r.consumed;
        if (r.status == LF_DIS_INCOMPLETE) {
            t->want[dir] = t->len[dir] + (r.needed ? r.needed : 1);
            return LF_DIS_INCOMPLETE;
        }
        if (!r.consumed)
            break;
    }
    return LF_DIS_OK;
}

static enum lf_dis_status tf_str(struct tf *t, enum lf_dir dir, const char *s)
{
    return tf_feed(t, dir, s, strlen(s));
}

static void tf_end(struct tf *t)
{
    if (!t->left && t->d->on_end)
        t->d->on_end(t->st, &t->fc);
}

static void tf_free(struct tf *t)
{
    t->d->state_free(t->st);
    if (t->own_eng)
        lf_engine_free(t->eng);
    free(t->buf[0]);
    free(t->buf[1]);
    free(t);
}

#endif
