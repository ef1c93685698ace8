/* flow.c: bidirectional 5-tuple hash table with slab-allocated slots, LRU lists per kind, TCP state. */
#include "lyncflow/flow.h"

#include <stdlib.h>
#include <string.h>

#include "lyncflow/util.h"

#define SLAB_FLOWS 1024
#define MIN_BUCKETS ((size_t)1024)
#define MAX_BUCKETS ((size_t)1 << 24)

struct lru {
    struct lf_flow *head, *tail; /* head: least recently seen */
};

/* One hash table: a bucket array of chains through hnext. */
struct tab {
    struct lf_flow **b;
    size_t n, count; /* buckets (a power of two), flows in it */
};

/* Open and closed flows in one table; a 5-tuple has at most one flow. */
struct lf_flowtab {
    struct tab tab;
    size_t max_buckets, max_flows, count, allocated;
    struct lf_flow **slabs;
    size_t nslabs;
    size_t slab_len, slab_used; /* the last slab's slots, and how many of them were ever used */
    struct lf_flow *free_list;
    struct lru lists[LF_LIST_N];
    struct lf_reasm *reasm;
    struct lf_ev_stats *stats;
    lf_flow_end_fn on_end;
    void *ctx;
    uint64_t next_id;
};

struct lf_flowtab *lf_flowtab_new(size_t max_flows, struct lf_reasm *r, struct lf_ev_stats *stats,
                                  lf_flow_end_fn on_end, void *ctx)
{
    struct lf_flowtab *t = lf_xcalloc(1, sizeof *t);
    if (max_flows == 0)
        max_flows = 1;
    t->max_flows = max_flows;
    t->max_buckets = 64;
    while (t->max_buckets < max_flows && t->max_buckets < MAX_BUCKETS)
        t->max_buckets <<= 1;
    t->tab.n = t->max_buckets < MIN_BUCKETS ? t->max_buckets : MIN_BUCKETS;
    t->tab.b = lf_xcalloc(t->tab.n, sizeof *t->tab.b);
    t->reasm = r;
    t->stats = stats;
    t->on_end = on_end;
    t->ctx = ctx;
    t->next_id = 1;
    return t;
}

void lf_flowtab_free(struct lf_flowtab *t)
{
    if (!t)
        return;
    lf_flowtab_end_all(t);
    for (size_t i = 0; i < t->nslabs; i++)
        free(t->slabs[i]);
    free(t->slabs);
    free(t->tab.b);
    free(t);
}

size_t lf_flowtab_count(const struct lf_flowtab *t) { return t->count; }

/* An endpoint's hash: its address (IPv4: the first 4 bytes only) and port, a multiply per 8 bytes. */
static inline uint64_t ep_hash(const struct lf_addr *a)
{
    uint64_t lo = 0, hi = 0;
    if (a->family == 4) {
        uint32_t v4;
        memcpy(&v4, a->ip, 4);
        lo = v4;
    } else {
        memcpy(&lo, a->ip, 8);
        memcpy(&hi, a->ip + 8, 8);
    }
    uint64_t h = (lo ^ ((uint64_t)a->port << 48 | a->family)) * 0x9e3779b97f4a7c15ULL;
    h ^= hi * 0xc2b2ae3d27d4eb4fULL;
    return h ^ (h >> 31);
}

/* The same for both directions: the endpoints' hashes are added. */
static inline uint32_t tuple_hash(uint8_t proto, const struct lf_addr *a, const struct lf_addr *b)
{
    uint64_t h = (ep_hash(a) + ep_hash(b) + proto) * 0xff51afd7ed558ccdULL;
    return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* lf_addr_equal inlined with the sizes known: 5% of a run's instructions (callgrind, gencap tls 4000 40 capture) */
static inline int ep_equal(const struct lf_addr *a, const struct lf_addr *b)
{
    if (a->port != b->port || a->family != b->family)
        return 0;
    return a->family == 4 ? memcmp(a->ip, b->ip, 4) == 0 : memcmp(a->ip, b->ip, 16) == 0;
}

static void lru_unlink(struct lf_flowtab *t, struct lf_flow *f)
{
    struct lru *l = &t->lists[f->list];
    if (f->lprev)
        f->lprev->lnext = f->lnext;
    else
        l->head = f->lnext;
    if (f->lnext)
        f->lnext->lprev = f->lprev;
    else
        l->tail = f->lprev;
    f->lprev = f->lnext = NULL;
}

static void lru_append(struct lf_flowtab *t, struct lf_flow *f, enum lf_flow_list which)
{
    struct lru *l = &t->lists[which];
    f->list = (uint8_t)which;
    f->lnext = NULL;
    f->lprev = l->tail;
    if (l->tail)
        l->tail->lnext = f;
    else
        l->head = f;
    l->tail = f;
}

/* Twice the buckets: every chain is split by the next bit of its flows' hashes. */
static void tab_grow(struct tab *tb)
{
    size_t n = tb->n * 2;
    struct lf_flow **b = lf_xcalloc(n, sizeof *b);
    for (size_t i = 0; i < tb->n; i++) {
        struct lf_flow *f = tb->b[i];
        while (f) {
            struct lf_flow *next = f->hnext;
            struct lf_flow **head = &b[f->hash & (n - 1)];
            f->hnext = *head;
            *head = f;
            f = next;
        }
    }
    free(tb->b);
    tb->b = b;
    tb->n = n;
}

/* Adds f to a table, which doubles its buckets first when its flows reach half of them. */
static void tab_insert(struct lf_flowtab *t, struct tab *tb, struct lf_flow *f)
{
    if (tb->count * 2 >= tb->n && tb->n < t->max_buckets)
        tab_grow(tb);
    struct lf_flow **head = &tb->b[f->hash & (tb->n - 1)];
    f->hnext = *head;
    *head = f;
    tb->count++;
}

static void tab_remove(struct tab *tb, struct lf_flow *f)
{
    struct lf_flow **pp = &tb->b[f->hash & (tb->n - 1)];
    while (*pp && *pp != f)
        pp = &(*pp)->hnext;
    if (*pp) {
        *pp = f->hnext;
        tb->count--;
    }
}

/* The flow of a packet's 5-tuple, and the packet's direction in it. */
static inline struct lf_flow *tab_find(const struct tab *tb, const struct lf_pkt *p, uint32_t h, enum lf_dir *dir)
{
    for (struct lf_flow *f = tb->b[h & (tb->n - 1)]; f; f = f->hnext) {
        if (f->hash != h || f->proto != p->proto)
            continue;
        if (ep_equal(&f->cli, &p->src) && ep_equal(&f->srv, &p->dst)) {
            *dir = LF_C2S;
            return f;
        }
        if (ep_equal(&f->srv, &p->src) && ep_equal(&f->cli, &p->dst)) {
            *dir = LF_S2C;
            return f;
        }
    }
    return NULL;
}

/* A free slot: one given back, else the next never used of the last slab (a new slab when it is full), so
 * a slab's pages are touched only as its slots are first used. */
static struct lf_flow *slot_get(struct lf_flowtab *t)
{
    struct lf_flow *f = t->free_list;
    if (f) {
        t->free_list = f->hnext;
    } else {
        if (t->slab_used == t->slab_len) {
            size_t n = t->max_flows - t->allocated < SLAB_FLOWS ? t->max_flows - t->allocated : SLAB_FLOWS;
            t->slabs = lf_xrealloc(t->slabs, (t->nslabs + 1) * sizeof *t->slabs);
            t->slabs[t->nslabs++] = lf_xcalloc(n, sizeof **t->slabs);
            t->allocated += n;
            t->slab_len = n;
            t->slab_used = 0;
        }
        f = &t->slabs[t->nslabs - 1][t->slab_used++];
    }
    memset(f, 0, sizeof *f);
    return f;
}

void lf_flowtab_end(struct lf_flowtab *t, struct lf_flow *f)
{
    if (!f->in_use)
        return;
    if (t->on_end)
        t->on_end(t->ctx, f);
    if (f->dis && f->dis_st && f->dis->state_free)
        f->dis->state_free(f->dis_st);
    f->dis_st = NULL;
    lf_bytebuf_free(&f->buf[0]);
    lf_bytebuf_free(&f->buf[1]);
    lf_stream_release(t->reasm, &f->st[0]);
    lf_stream_release(t->reasm, &f->st[1]);
    tab_remove(&t->tab, f);
    lru_unlink(t, f);
    f->in_use = 0;
    f->hnext = t->free_list;
    t->free_list = f;
    t->count--;
}

static int by_first(const void *a, const void *b)
{
    const struct lf_flow *x = *(const struct lf_flow *const *)a, *y = *(const struct lf_flow *const *)b;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Oldest first, so the events of the run's end come in time order. */
void lf_flowtab_end_all(struct lf_flowtab *t)
{
    if (t->count == 0)
        return;
    struct lf_flow **all = lf_xmalloc(t->count * sizeof *all);
    size_t n = 0;
    for (int i = 0; i < LF_LIST_N; i++)
        for (struct lf_flow *f = t->lists[i].head; f && n < t->count; f = f->lnext)
            all[n++] = f;
    qsort(all, n, sizeof *all, by_first);
    for (size_t i = 0; i < n; i++)
        lf_flowtab_end(t, all[i]);
    free(all);
}

static void evict_one(struct lf_flowtab *t)
{
    struct lf_flow *victim = NULL;
    for (int i = 0; i < LF_LIST_N; i++) {
        struct lf_flow *h = t->lists[i].head;
        if (h && (!victim || h->last < victim->last))
            victim = h;
    }
    if (victim) {
        t->stats->evicted++;
        lf_flowtab_end(t, victim);
    }
}

/* Whether the sender of p is the client of a new flow (flow.h, "Which side is the client"). */
static int sender_is_client(const struct lf_pkt *p)
{
    if (p->proto == 6 && (p->tcp_flags & LF_TCP_SYN))
        return !(p->tcp_flags & LF_TCP_ACK);
    uint16_t s = p->src.port, d = p->dst.port;
    if ((s < 1024) != (d < 1024))
        return d < 1024;
    if ((s >= 32768) != (d >= 32768))
        return s >= 32768;
    return 1;
}


static struct lf_flow *create(struct lf_flowtab *t, const struct lf_pkt *p, uint32_t h, lf_time ts)
{
    if (t->count >= t->max_flows)
        evict_one(t);
    struct lf_flow *f = slot_get(t);
    f->in_use = 1;
    f->id = t->next_id++;
    f->hash = h;
    f->proto = p->proto;
    if (sender_is_client(p)) {
        f->cli = p->src;
        f->srv = p->dst;
    } else {
        f->cli = p->dst;
        f->srv = p->src;
    }
    f->first = f->last = ts;
    tab_insert(t, &t->tab, f);
    lru_append(t, f, p->proto == 6 ? LF_LIST_TCP : LF_LIST_UDP);
    t->count++;
    t->stats->flows++;
    return f;
}

static void tcp_state(struct lf_flowtab *t, struct lf_flow *f, const struct lf_pkt *p, enum lf_dir dir, lf_time ts)
{
    uint8_t fl = p->tcp_flags;
    if (fl & LF_TCP_SYN) {
        if (!f->syn[dir]) {
            f->syn[dir] = 1;
            f->isn[dir] = p->seq;
        }
        if (dir == LF_C2S && !(fl & LF_TCP_ACK))
            f->syn_seen = 1;
    }
    if (f->closed)
        return;
    if (fl & LF_TCP_RST) {
        f->closed = 2;
        f->rst_from = dir == LF_C2S ? 'c' : 's';
    } else if (fl & LF_TCP_FIN) {
        f->fin[dir] = 1;
        if (f->fin[0] && f->fin[1])
            f->closed = 1;
    }
    if (f->closed) {
        f->closed_at = ts;
        lru_unlink(t, f);
        lru_append(t, f, LF_LIST_CLOSED);
    }
}

struct lf_flow *lf_flowtab_packet(struct lf_flowtab *t, const struct lf_pkt *p, lf_time ts, size_t wirelen,
                                  enum lf_dir *dir)
{
    uint32_t h = tuple_hash(p->proto, &p->src, &p->dst);
    struct lf_flow *f = tab_find(&t->tab, p, h, dir);
    /* A new connection on the 5-tuple of a closed one. */
    if (f && f->closed && p->proto == 6 && (p->tcp_flags & (LF_TCP_SYN | LF_TCP_ACK)) == LF_TCP_SYN &&
        !(f->syn[LF_C2S] && *dir == LF_C2S && f->isn[LF_C2S] == p->seq)) {
        lf_flowtab_end(t, f);
        f = NULL;
    }
    if (!f) {
        f = create(t, p, h, ts);
        *dir = lf_addr_equal(&f->cli, &p->src) ? LF_C2S : LF_S2C;
    } else {
        enum lf_flow_list which = f->closed ? LF_LIST_CLOSED : f->proto == 6 ? LF_LIST_TCP : LF_LIST_UDP;
        lru_unlink(t, f);
        lru_append(t, f, which);
    }
    if (ts > f->last)
        f->last = ts;
    f->pkts[*dir]++;
    f->bytes[*dir] += wirelen;
    if (p->proto == 6)
        tcp_state(t, f, p, *dir, ts);
    return f;
}

void lf_flowtab_expire(struct lf_flowtab *t, lf_time now, uint32_t tcp_idle_s, uint32_t udp_idle_s)
{
    static const int kinds[LF_LIST_N] = {LF_LIST_TCP, LF_LIST_UDP, LF_LIST_CLOSED};
    for (int i = 0; i < LF_LIST_N; i++) {
        int k = kinds[i];
        lf_time idle = (lf_time)(k == LF_LIST_TCP ? tcp_idle_s : k == LF_LIST_UDP ? udp_idle_s : LF_FLOW_LINGER_S) *
                       1000000;
        struct lf_flow *f;
        while ((f = t->lists[k].head) != NULL && f->last + idle < now)
            lf_flowtab_end(t, f);
    }
}
