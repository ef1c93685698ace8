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
#define ATTR_SLACK_US 2000LL     /* one host's clock, as two packets of the same capture see it */

void an_exchange_add(struct lf_analysis *an, const struct lf_event *ev)
{
    int l = an_find_listener(&an->model, &ev->server);
    if (l < 0)
        return; /* not a client's connection to the proxy */
    if (!an->xrecs)
        an->xrecs = lf_xcalloc(XREC_SLOTS, sizeof *an->xrecs);
    struct xrec *x = &an->xrecs[an->xrec_next++ % XREC_SLOTS];
    x->flow_id = ev->flow_id;
    x->client = ev->client;
    x->first = ev->ts;
    x->last = ev->u.exchange.c_last;
    x->s_first = ev->u.exchange.s_first;
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

void an_attribute(struct lf_analysis *an, struct pend *p)
{
    struct lf_ev_http *h = &p->ev.u.http;
    if (!an->xrecs || p->side != LF_SIDE_BACK || p->stitched || p->attributed || p->ev.type != LF_EV_HTTP ||
        an_is_iis(&p->ev))
        return;
    lf_time req = p->ev.ts, resp = h->latency_us >= 0 ? req + h->latency_us : -1;
    struct xrec *best = NULL;
    lf_time best_cost = 0;
    unsigned candidates = 0;
    for (size_t i = 0; i < XREC_SLOTS; i++) {
        struct xrec *x = &an->xrecs[i];
        if (!x->flow_id || x->used)
            continue;
        /* the client's request began before the proxy's, and ended not long before it */
        if (x->first > req + ATTR_SLACK_US || req - x->last > ATTR_WINDOW_US)
            continue;
        /* the proxy's answer to the client began after the server's answer began */
        if (resp >= 0 && (x->s_first + ATTR_SLACK_US < resp || x->s_first - resp > ATTR_WINDOW_US))
            continue;
        int srv = published_server(an, x->flow_id);
        if (srv >= 0 && p->server >= 0 && srv != p->server)
            continue;
        candidates++;
        lf_time cost = absdiff(req, x->last) + (resp >= 0 ? absdiff(x->s_first, resp) : 0);
        cost += (lf_time)(x->bytes > h->req_bytes ? x->bytes - h->req_bytes : h->req_bytes - x->bytes);
        if (!best || cost < best_cost) {
            best = x;
            best_cost = cost;
        }
    }
    if (!best)
        return;
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
