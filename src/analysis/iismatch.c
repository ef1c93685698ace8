/* iismatch.c: IIS log lines matched to the capture's requests of their server.
 *
 * When the capture shows the proxy's back leg to that server, a line matches
 * the back request (same method, URI, Host, status, client address and user
 * agent; the earliest unmatched one in the time window) at its release and
 * enriches the step that request shows in, its front partner's or its own;
 * the line makes no step of its own. Without a back leg a line is stitched to
 * the client's request as a back leg would be. A line nothing matches is a
 * step of its own. Requests are kept in a ring of REQ_SLOTS. Lock held.
 */
#include <string.h>

#include "analysis_int.h"

/* A held request's keys (its name is its Host's when it has one). */
static void req_keys(struct pend *p, struct reqkey *k)
{
    const struct lf_ev_http *h = &p->ev.u.http;
    an_pend_hashes(p);
    k->key = p->req_hash;
    k->host = h->host[0] ? p->name_hash | 1 : 0;
    k->ua = p->ua_hash;
    k->status = h->status;
    k->client = p->ev.client;
}

/* The same request, as far as both tell: Host, User-Agent, status and (back legs) the proxy's address
 * only when both have them. */
static int req_fits(const struct reqkey *a, const struct reqkey *b, int by_client)
{
    if (a->key != b->key || (a->host && b->host && a->host != b->host) || (a->ua && b->ua && a->ua != b->ua) ||
        (a->status && b->status && a->status != b->status))
        return 0;
    return !by_client || !a->client.family || !b->client.family || an_ip_eq(&a->client, &b->client);
}

/* The capture times at which an IIS line's request may have started, and how much nearer than the
 * nearest a request may be to still tie with it (ties go to the earliest). Sub-second logs give the
 * start; whole-second ones the second the request completed in, so there the log's order decides. */
static void iis_window(const struct lf_event *ev, lf_time *lo, lf_time *hi, lf_time *tie)
{
    lf_time tt = (lf_time)ev->u.http.time_taken_ms * 1000;
    if (ev->u.http.whole_seconds) {
        *lo = ev->ts - tt - IIS_TOL_US;
        *hi = ev->ts - tt + 1000000 + IIS_TOL_US;
        *tie = *hi - *lo;
    } else {
        *lo = ev->ts - IIS_TOL_US;
        *hi = ev->ts + IIS_TOL_US;
        *tie = IIS_TIE_US;
    }
}

static void iis_fill(struct iisinfo *x, const struct lf_event *ev)
{
    const struct lf_ev_http *h = &ev->u.http;
    x->have = 1;
    x->status = h->status;
    x->substatus = h->substatus;
    x->win32 = h->win32_status;
    x->time_taken_ms = h->time_taken_ms;
    LF_SET(x->user, h->user);
}

/* The capture shows the back leg to the IIS line's server: it matches a back request, not this one. */
int an_iis_wants_back(const struct lf_analysis *an, const struct pend *iis)
{
    return iis->server >= 0 && an->back_http[iis->server];
}

void an_link_iis_front(struct lf_analysis *an, struct pend *f, struct pend *b)
{
    an_link_pair(an, f, b);
    f->partner_iis = 1;
    b->iis_matched = 1;
    iis_fill(&f->iis, &b->ev);
}

/* A capture without the back leg: the client's request an IIS line is, the earliest that fits. */
long an_iis_front_candidate(struct lf_analysis *an, struct pend *b)
{
    struct reqkey kb, kf;
    lf_time lo, hi, tie, best_d = 0;
    long best = -1;
    if (!an->front_seen)
        return -1;
    iis_window(&b->ev, &lo, &hi, &tie);
    int keyed = 0;
    for (int pass = 0; pass < 2 && (pass == 0 || best >= 0); pass++)
        for (size_t i = 0; i < an->count; i++) {
            struct pend *p = an_ring(an, i);
            if (p->side != LF_SIDE_FRONT || p->stitched || p->ev.type != LF_EV_HTTP || p->ev.ts < lo ||
                p->ev.ts > hi || (p->server >= 0 && p->server != b->server) ||
                strcmp(p->ev.u.http.method, b->ev.u.http.method) != 0)
                continue;
            if (!keyed) {
                req_keys(b, &kb);
                keyed = 1;
            }
            req_keys(p, &kf);
            if (!req_fits(&kb, &kf, 0))
                continue;
            lf_time d = p->ev.ts > b->ev.ts ? p->ev.ts - b->ev.ts : b->ev.ts - p->ev.ts;
            if (pass == 0 && (best < 0 || d < best_d)) {
                best = (long)i;
                best_d = d;
            } else if (pass == 1 && d <= best_d + tie) {
                return (long)i;
            }
        }
    return best;
}

/* A request of the capture, kept for the IIS lines of its server. */
void an_rec_add(struct lf_analysis *an, struct pend *p)
{
    struct reqrec *r = &an->reqs[an->req_next];
    memset(r, 0, sizeof *r);
    req_keys(p, &r->k);
    r->used = 1;
    r->uid = p->uid;
    r->ts = p->ev.ts;
    r->server = p->server >= 0 ? p->server : p->named;
    r->listener = p->listener;
    r->side = p->side;
    p->rec = (int)an->req_next;
    an->req_next = (an->req_next + 1) % REQ_SLOTS;
}

struct reqrec *an_rec_of(struct lf_analysis *an, const struct pend *p)
{
    if (!p || p->rec < 0 || an->reqs[p->rec].uid != p->uid)
        return NULL;
    return &an->reqs[p->rec];
}

/* A front request arriving after its IIS line (capture without the back leg): the earliest line it fits. */
void an_stitch_front_late(struct lf_analysis *an, struct pend *f)
{
    if (f->side != LF_SIDE_FRONT || f->ev.type != LF_EV_HTTP || f->stitched)
        return;
    struct reqkey kf, kb;
    req_keys(f, &kf);
    for (size_t i = 0; i < an->count; i++) {
        struct pend *b = an_ring(an, i);
        if (b->side != LF_SIDE_BACK || b->stitched || !an_is_iis(&b->ev) || an_iis_wants_back(an, b) ||
            (f->server >= 0 && f->server != b->server))
            continue;
        lf_time lo, hi, tie;
        iis_window(&b->ev, &lo, &hi, &tie);
        req_keys(b, &kb);
        if (f->ev.ts < lo || f->ev.ts > hi || !req_fits(&kb, &kf, 0))
            continue;
        an_link_iis_front(an, f, b);
        return;
    }
}

/* The request an IIS line is, among the kept ones of one side: the nearest that fits and is not matched
 * yet, or the earliest of those about as near (repeated requests: the log and the capture keep the same
 * order). Front requests only count when no back request of the capture was stitched to them. */
static struct reqrec *best_rec(struct lf_analysis *an, const struct pend *p, const struct reqkey *k, int side)
{
    lf_time lo, hi, tie, best_d = 0;
    iis_window(&p->ev, &lo, &hi, &tie);
    struct reqrec *best = NULL;
    for (int pass = 0; pass < 2 && (pass == 0 || best); pass++) {
        int older = 0;
        for (size_t n = 1; n <= REQ_SLOTS; n++) {
            struct reqrec *r = &an->reqs[(an->req_next + REQ_SLOTS - n) % REQ_SLOTS];
            if (!r->used)
                break;
            if (r->ts < lo - STITCH_WINDOW_US && ++older > 64)
                break; /* kept in arrival order: a few may be late */
            if (r->matched || r->side != side || r->ts < lo || r->ts > hi)
                continue;
            if (side == LF_SIDE_BACK ? r->server != p->server
                                     : r->has_back || (r->server >= 0 && r->server != p->server))
                continue;
            if (!req_fits(k, &r->k, side == LF_SIDE_BACK))
                continue;
            lf_time d = r->ts > p->ev.ts ? r->ts - p->ev.ts : p->ev.ts - r->ts;
            if (pass == 0 && (!best || d < best_d)) {
                best = r;
                best_d = d;
            } else if (pass == 1 && d <= best_d + tie) {
                best = r; /* newest first: the last one is the earliest */
            }
        }
    }
    return best;
}

/* An IIS line of a server whose back leg the capture shows, at its release: every request that may be
 * its own has arrived. It matches a back request of the capture, or, when none fits (its connection was
 * not decrypted, say), a client request no back request was stitched to. seq: its own. */
void an_iis_resolve(struct lf_analysis *an, struct pend *p, uint64_t seq)
{
    if (!an_iis_wants_back(an, p))
        return;
    struct reqkey k;
    req_keys(p, &k);
    struct reqrec *best = best_rec(an, p, &k, LF_SIDE_BACK);
    if (!best)
        best = best_rec(an, p, &k, LF_SIDE_FRONT);
    if (!best)
        return;
    struct pend *b = an_pend_by_uid(an, best->uid);
    struct iisinfo x;
    memset(&x, 0, sizeof x);
    iis_fill(&x, &p->ev);
    best->matched = 1;
    p->iis_matched = p->stitched = 1;
    p->listener = b ? b->listener : best->listener;
    /* released events are numbered in the queue's order: a held one's seq is known ahead */
    p->ev.u.http.match_seq = best->seq ? best->seq : b ? seq + (b->uid - p->uid) : 0;
    if (best->step_seq)
        an_patch_step(an, best->signin, best->step_seq, &x);
    else if (b)
        b->iis = x;
}

/* After a request's release: its seq, and the step it shows in, for the IIS lines still to come. */
void an_link_release(struct lf_analysis *an, struct pend *p, uint64_t seq, const struct lf_signin *s)
{
    struct pend *q = an_pend_by_uid(an, p->partner_uid);
    if (q)
        q->partner_seq = seq;
    struct reqrec *r = an_rec_of(an, p);
    if (r) {
        r->seq = seq;
        r->listener = p->listener;
        if (p->side == LF_SIDE_FRONT)
            r->server = p->server >= 0 ? p->server : p->named;
    }
    if (!s || p->ev.type != LF_EV_HTTP)
        return;
    /* its own step, and the step of the back request stitched to it */
    struct reqrec *rb = p->side == LF_SIDE_FRONT && !p->partner_iis ? an_rec_of(an, q) : NULL;
    for (int i = 0; i < 2; i++) {
        struct reqrec *x = i ? rb : r;
        if (x) {
            x->step_seq = seq;
            x->signin = s->id;
        }
    }
}
