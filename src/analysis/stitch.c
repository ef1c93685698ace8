/* stitch.c: front-to-back stitching: a request on a listener and the proxy's request to a server are one exchange.
 *
 * Held front events a back one may still be stitched to sit in two lists
 * (http, tls) in queue order. A new back event takes the best of them: the
 * same request or name, else a connection to the server the name is published
 * to, else timing alone; then the nearest before it. Stitched pairs share
 * what each leg told (struct partner). IIS lines go to iismatch.c. Lock held.
 */
#include <string.h>

#include "analysis_int.h"

static int open_list(int type) { return type == LF_EV_HTTP ? 0 : type == LF_EV_TLS ? 1 : -1; }

static int is_open(const struct pend *p)
{
    return p->side == LF_SIDE_FRONT && (!p->stitched || p->partner_iis) && open_list(p->type) >= 0;
}

static int slot_of(const struct lf_analysis *an, const struct pend *p) { return (int)(p - an->hold); }

/* p's position in the queue (an_ring(an, i) == p). */
static size_t pos_of(const struct lf_analysis *an, const struct pend *p)
{
    return ((size_t)slot_of(an, p) + HOLD - an->head) % HOLD;
}

/* A new held event: appended to its list when it is open. */
void an_open_add(struct lf_analysis *an, struct pend *p)
{
    p->open = 0;
    p->onext = p->oprev = -1;
    if (!is_open(p))
        return;
    int l = open_list(p->type), slot = slot_of(an, p);
    p->open = 1;
    p->oprev = an->open_last[l];
    if (p->oprev >= 0)
        an->hold[p->oprev].onext = slot;
    else
        an->open_first[l] = slot;
    an->open_last[l] = slot;
}

void an_open_del(struct lf_analysis *an, struct pend *p)
{
    if (!p->open)
        return;
    int l = open_list(p->type);
    if (p->oprev >= 0)
        an->hold[p->oprev].onext = p->onext;
    else
        an->open_first[l] = p->onext;
    if (p->onext >= 0)
        an->hold[p->onext].oprev = p->oprev;
    else
        an->open_last[l] = p->oprev;
    p->open = 0;
    p->onext = p->oprev = -1;
}

/* The hash of an http request's method and URI, as the stitching compares them. */
static uint64_t req_hash(const struct lf_ev_http *h)
{
    return an_fnv(an_fnv(an_fnv(LF_FNV_SEED, h->method), " "), h->uri);
}

/* A held http request's hashes of method and URI and of its User-Agent, taken when first asked for. */
void an_pend_hashes(struct pend *p)
{
    if (p->hashed)
        return;
    const struct lf_ev_http *h = &p->ev.u.http;
    p->req_hash = req_hash(h);
    p->ua_hash = h->user_agent[0] ? an_fnv(LF_FNV_SEED, h->user_agent) | 1 : 0;
    p->hashed = 1;
}

/* How well held front event p fits back event ev (rank 3 the same request or name, 2 a connection to the
 * server the name is published to, 1 timing alone, 0 not at all). name is ev's an_name_of, nh its hash, rh
 * ev's req_hash (http); held names are an_name_of their events too, so that equal names are equal bytes. */
static int stitch_rank(struct pend *p, const struct lf_event *ev, const char *name, uint64_t nh, uint64_t rh,
                       int server, int generic)
{
    if (ev->type == LF_EV_HTTP) {
        const struct lf_ev_http *x = &ev->u.http, *y = &p->ev.u.http;
        an_pend_hashes(p);
        if (p->req_hash != rh || strcmp(x->method, y->method) != 0 || strcmp(x->uri, y->uri) != 0)
            return 0;
        if (x->host[0] && y->host[0] && (p->name_hash != nh || strcmp(name, p->name) != 0))
            return 0;
        return 3;
    }
    if (ev->type == LF_EV_TLS) {
        if (name[0] && !generic && p->name_hash == nh && strcmp(name, p->name) == 0)
            return 3;
        if (server >= 0 && p->named == server)
            return 2;
        if (server >= 0)
            return 1; /* by timing alone: proxies often send no SNI upstream */
    }
    return 0;
}

/* The best front event: the highest rank, then the nearest before ev, then the earliest held. Newest first,
 * and while the queue is in time order, only as far back as that can still change the answer. */
long an_stitch_candidate(struct lf_analysis *an, const struct lf_event *ev, int server, int exclude_listener_ip)
{
    long best = -1;
    int best_rank = 0;
    lf_time best_dt = 0;
    char name[256];
    an_name_of(ev, name, sizeof name);
    uint64_t nh = an_fnv(LF_FNV_SEED, name), rh = ev->type == LF_EV_HTTP ? req_hash(&ev->u.http) : 0;
    /* the proxy may name every back leg after the server: then the SNI says nothing of the front leg */
    int generic = ev->type == LF_EV_TLS && server >= 0 && lf_strcaseeq(name, an->model.servers[server].fqdn);
    int ordered = an->descents == 0, l = open_list(ev->type);
    if (l < 0)
        return -1;
    for (int slot = an->open_last[l], prev; slot >= 0; slot = prev) {
        struct pend *p = &an->hold[slot];
        prev = p->oprev;
        lf_time dt = ev->ts - p->ts;
        if (ordered && (dt > STITCH_WINDOW_US || (best_rank == 3 && dt > best_dt)))
            break; /* everything older is further away */
        /* a front request an IIS line was stitched to is the back leg's, when the capture shows that */
        if (!is_open(p)) {
            an_open_del(an, p);
            continue;
        }
        if (dt < 0 || dt > STITCH_WINDOW_US)
            continue;
        if (exclude_listener_ip && an_addr_eq(&p->ev.server, &ev->server))
            continue;
        int rank = stitch_rank(p, ev, name, nh, rh, server, generic);
        if (rank > best_rank || (rank && rank == best_rank && dt <= best_dt)) {
            best = (long)pos_of(an, p);
            best_rank = rank;
            best_dt = dt;
        }
    }
    return best;
}

static void set_partner(struct partner *pt, const struct pend *other)
{
    pt->have = 1;
    pt->server = other->server;
    pt->listener = other->listener;
    pt->duration_us = -1;
    if (other->ev.type == LF_EV_HTTP) {
        const struct lf_ev_http *h = &other->ev.u.http;
        pt->status = h->status;
        pt->substatus = h->substatus;
        pt->win32 = h->win32_status;
        pt->duration_us = h->latency_us;
        LF_SET(pt->user, h->user);
    }
}

/* The held event of an arrival number, or NULL once it was released. */
struct pend *an_pend_by_uid(struct lf_analysis *an, uint64_t uid)
{
    if (!an->count || !uid)
        return NULL;
    uint64_t first = an_ring(an, 0)->uid;
    if (uid < first || uid - first >= an->count)
        return NULL;
    struct pend *p = an_ring(an, (size_t)(uid - first));
    return p->uid == uid ? p : NULL;
}

/* Front request f and back event b (a back-leg request or connection, or an IIS line) are one exchange. */
void an_link_pair(struct lf_analysis *an, struct pend *f, struct pend *b)
{
    f->stitched = b->stitched = 1;
    f->partner_uid = b->uid;
    b->partner_uid = f->uid;
    b->listener = f->listener;
    f->server = b->server;
    set_partner(&f->partner, b);
    set_partner(&b->partner, f);
    an->model.stitched++;
}

/* Matches a new back event with a held front one. An IIS line of a server whose back leg the capture
 * shows waits for its release (an_iis_resolve); otherwise it is stitched to a front request as a back leg
 * would be. A back request takes over a front request an IIS line was stitched to. */
void an_stitch(struct lf_analysis *an, struct pend *b)
{
    if (b->side != LF_SIDE_BACK || (b->ev.type != LF_EV_HTTP && b->ev.type != LF_EV_TLS))
        return;
    if (an_is_iis(&b->ev)) {
        long i = an_iis_wants_back(an, b) ? -1 : an_iis_front_candidate(an, b);
        if (i >= 0)
            an_link_iis_front(an, an_ring(an, (size_t)i), b);
        return;
    }
    long i = an_stitch_candidate(an, &b->ev, b->server, 0);
    if (i < 0)
        return;
    struct pend *f = an_ring(an, (size_t)i);
    if (f->stitched) {
        /* the IIS line goes back to waiting for a back request */
        struct pend *l = an_pend_by_uid(an, f->partner_uid);
        if (l) {
            l->stitched = l->iis_matched = 0;
            l->partner_uid = 0;
            l->listener = -1;
            memset(&l->partner, 0, sizeof l->partner);
        }
        memset(&f->iis, 0, sizeof f->iis);
        f->partner_iis = 0;
        an->model.stitched--;
    }
    an_link_pair(an, f, b);
    struct reqrec *fr = b->ev.type == LF_EV_HTTP ? an_rec_of(an, f) : NULL;
    if (fr)
        fr->has_back = 1;
    if (b->ev.type == LF_EV_TLS) {
        struct conn *fc = an_conn_get(an, f->ev.flow_id, 0), *bc = an_conn_get(an, b->ev.flow_id, 0);
        if (fc)
            fc->server = b->server;
        if (bc)
            bc->listener = f->listener;
    }
}
