/* attribute.c: the proxy's request to a server, matched to the client connection that caused it, when the
 * client's TLS is not decrypted.
 *
 * A capture on the proxy host without client secrets still shows, on each client connection, when the client
 * sent application data and when the proxy began its answer (exchange events, from the TLS dissector). A
 * back-leg request (plain, or decrypted with the server side's secrets) is forwarded after its client's
 * request has arrived and before the proxy answers that client, so the front exchange that caused it is
 * one whose client records end shortly before the back request starts and whose first answer record follows
 * the back response's start. Of the exchanges that fit (on a listener, within ATTR_WINDOW_US on both sides,
 * whose connection's TLS name is published to the server the request went to), the nearest in time wins,
 * ties broken by how close the sizes are; each exchange is used once. Pooled upstream connections, the
 * proxy's own source address and many clients at once change nothing: only the front side's timing counts.
 * The event says how it was matched (attributed "timing") and among how many candidates. Lock held.
 */
#include <string.h>

#include "analysis_int.h"

#define ATTR_WINDOW_US 2000000LL /* the longest a proxy takes to pass a request on, or an answer back */

void an_exchange_add(struct lf_analysis *an, const struct lf_event *ev)
{
    int l = an_find_listener(&an->model, &ev->server);
    if (l < 0)
        return; /* not a client's connection to the proxy */
    if (!an->xrecs)
        an->xrecs = lf_xcalloc(XREC_SLOTS, sizeof *an->xrecs);
    /* another of the server's first records after the same request */
    for (size_t k = 1; k <= 4 && k <= an->xrec_next; k++) {
        struct xrec *x = &an->xrecs[(an->xrec_next - k) % XREC_SLOTS];
        if (x->flow_id == ev->flow_id && x->first == ev->ts) {
            for (int j = 0; j < 3; j++)
                if (!x->s_first[j]) {
                    x->s_first[j] = ev->u.exchange.s_first;
                    break;
                }
            return;
        }
    }
    struct xrec *x = &an->xrecs[an->xrec_next++ % XREC_SLOTS];
    memset(x->s_first, 0, sizeof x->s_first);
    x->flow_id = ev->flow_id;
    x->client = ev->client;
    x->first = ev->ts;
    x->last = ev->u.exchange.c_last;
    x->s_first[0] = ev->u.exchange.s_first;
    x->bytes = ev->u.exchange.c_bytes;
    x->listener = l;
    x->used = 0;
}

static lf_time absdiff(lf_time a, lf_time b) { return a > b ? a - b : b - a; }

/* The server the front connection's TLS name is published to, -1 unknown. */
static int published_server(struct lf_analysis *an, uint64_t flow_id)
{
    struct conn *c = an_conn_get(an, flow_id, 0);
    if (!c || !c->name[0])
        return -1;
    if (c->server >= 0)
        return c->server;
    const struct lf_topo_server *ts = lf_topology_server_for_name(&an->topo, c->name);
    return ts ? an_find_server_name(&an->model, ts->name) : -1;
}

/* The cost of x as the exchange that caused back request p, or -1 when it cannot be: p's request went out
 * after the client's had begun and not long after it ended, the proxy's answer to the client began after the
 * server's answer began, and the connection's TLS name is published to p's server. The answer's timing
 * weighs most (a proxy passes an answer on at once, a request may wait for an upstream connection), then the
 * request's, then the difference in size. */
static lf_time cost_of(struct lf_analysis *an, const struct pend *p, const struct xrec *x)
{
    const struct lf_ev_http *h = &p->ev.u.http;
    lf_time req = p->ev.ts, resp = h->latency_us >= 0 ? req + h->latency_us : -1;
    /* one host's clock: what the proxy passes on, it received first */
    if (!x->flow_id || x->used || x->first > req || req - x->last > ATTR_WINDOW_US)
        return -1;
    lf_time answer = -1;
    for (int j = 0; j < 3 && x->s_first[j]; j++)
        if (resp < 0 || (x->s_first[j] >= resp && x->s_first[j] - resp <= ATTR_WINDOW_US)) {
            answer = x->s_first[j];
            break;
        }
    if (answer < 0)
        return -1;
    int srv = published_server(an, x->flow_id);
    if (srv >= 0 && p->server >= 0 && srv != p->server)
        return -1;
    lf_time cost = 4 * (resp >= 0 ? absdiff(answer, resp) : 0) + absdiff(req, x->last);
    return cost + (lf_time)(x->bytes > h->req_bytes ? x->bytes - h->req_bytes : h->req_bytes - x->bytes);
}

#define JOINT_BACK 6   /* back requests decided together: p and the ones held near it */
#define JOINT_X 10     /* the exchanges any of them could be */
#define JOINT_NEAR_US 500000LL

struct joint {
    int nb, nx;
    lf_time cost[JOINT_BACK][JOINT_X]; /* -1: cannot be */
    int take[JOINT_BACK], best_take[JOINT_BACK];
    int used[JOINT_X];
    int best_n;
    lf_time best_cost;
};

/* Every assignment of back requests i.. to distinct exchanges (or none), the most matched then the cheapest. */
static void search(struct joint *j, int i, int n, lf_time cost)
{
    if (i == j->nb) {
        if (n > j->best_n || (n == j->best_n && cost < j->best_cost)) {
            j->best_n = n;
            j->best_cost = cost;
            memcpy(j->best_take, j->take, sizeof j->take);
        }
        return;
    }
    if (n + (j->nb - i) < j->best_n)
        return; /* cannot match more than the best */
    for (int k = 0; k < j->nx; k++)
        if (!j->used[k] && j->cost[i][k] >= 0) {
            j->used[k] = 1;
            j->take[i] = k;
            search(j, i + 1, n + 1, cost + j->cost[i][k]);
            j->used[k] = 0;
        }
    j->take[i] = -1;
    search(j, i + 1, n, cost);
}

static int attributable(const struct pend *q)
{
    return q->side == LF_SIDE_BACK && !q->stitched && !q->attributed && q->ev.type == LF_EV_HTTP && !an_is_iis(&q->ev);
}

void an_attribute(struct lf_analysis *an, struct pend *p)
{
    struct lf_ev_http *h = &p->ev.u.http;
    if (!an->xrecs || !attributable(p))
        return;
    /* p and the back requests held near it are decided together, so that the first does not take the one
     * exchange the next could be */
    struct joint j;
    memset(&j, 0, sizeof j);
    const struct pend *backs[JOINT_BACK];
    backs[j.nb++] = p;
    for (size_t i = 0; i < an->count && j.nb < JOINT_BACK; i++) {
        const struct pend *q = an_ring(an, i);
        if (q != p && attributable(q) && absdiff(q->ev.ts, p->ev.ts) <= JOINT_NEAR_US)
            backs[j.nb++] = q;
    }
    /* the exchanges p could be, then the ones only the others could be, as far as there is room */
    struct xrec *xs[JOINT_X], *others[JOINT_X];
    unsigned candidates = 0;
    int nothers = 0;
    lf_time lo = p->ev.ts, hi = p->ev.ts; /* the requests' span: an exchange outside it fits none of them */
    for (int b = 1; b < j.nb; b++) {
        lo = backs[b]->ev.ts < lo ? backs[b]->ev.ts : lo;
        hi = backs[b]->ev.ts > hi ? backs[b]->ev.ts : hi;
    }
    for (size_t i = 0; i < XREC_SLOTS; i++) {
        struct xrec *x = &an->xrecs[i];
        if (!x->flow_id || x->used || x->first > hi || x->last < lo - ATTR_WINDOW_US)
            continue;
        if (cost_of(an, p, x) >= 0) {
            candidates++;
            if (j.nx < JOINT_X)
                xs[j.nx++] = x;
            continue;
        }
        for (int b = 1; b < j.nb && nothers < JOINT_X; b++)
            if (cost_of(an, backs[b], x) >= 0) {
                others[nothers++] = x;
                break;
            }
    }
    if (!candidates)
        return;
    for (int k = 0; k < nothers && j.nx < JOINT_X; k++)
        xs[j.nx++] = others[k];
    for (int b = 0; b < j.nb; b++)
        for (int k = 0; k < j.nx; k++)
            j.cost[b][k] = cost_of(an, backs[b], xs[k]);
    j.best_n = -1;
    search(&j, 0, 0, 0);
    if (j.best_take[0] < 0)
        return;
    struct xrec *best = xs[j.best_take[0]];
    best->used = 1;
    p->attributed = 1;
    p->x_flow = best->flow_id;
    p->x_client = best->client;
    p->listener = best->listener;
    LF_SET(h->attributed, "timing");
    h->candidates = candidates > 65535 ? 65535 : (uint16_t)candidates;
    h->front_client = best->client;
    struct conn *c = an_conn_get(an, best->flow_id, 0);
    if (c && p->server >= 0)
        c->server = p->server;
    an->model.stitched++;
}
