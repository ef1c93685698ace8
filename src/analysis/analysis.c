/* analysis.c: the analysis's entry points, its hold queue, the enrichment of events and their release in order.
 *
 * Every event goes through a short hold queue (STITCH_WINDOW_US of event
 * time) so that a client-side request and the proxy's request to a server,
 * which arrive one after the other, can be matched (stitch.c, iismatch.c)
 * before either reaches the sinks. A live run bounds the wait by the wall
 * clock instead (lf_analysis_set_live): an event leaves once it has waited
 * that long since it arrived, whatever its time. The two legs of a request
 * arrive together (each is sent when its response ends), so they still
 * meet; what is traded is order and late partners: an event reaches the
 * sinks within the hold of its arrival, in arrival order, and a back leg
 * whose front leg's response ends later than the hold (a slow client
 * downloading a large file) is no longer stitched to it. An event is classified on arrival
 * (roles.c) and enriched: service, simple URL, listener and server names.
 * Released events go to the sinks in arrival order and update the model under
 * its lock: role evidence, nodes, paths and client edges (model.c), sign-in
 * steps (signin.c), findings. lf_analysis_finish releases the rest and emits
 * signin, finding and stats events.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis_int.h"

/* ---- small helpers ---- */

struct conn *an_conn_get(struct lf_analysis *an, uint64_t flow_id, int create)
{
    if (!flow_id)
        return NULL;
    struct conn *c = &an->conns[(flow_id * 0x9E3779B97F4A7C15ULL) >> 51 & (CONN_SLOTS - 1)];
    if (c->used && c->flow_id == flow_id)
        return c;
    if (!create)
        return NULL;
    memset(c, 0, sizeof *c);
    c->used = 1;
    c->flow_id = flow_id;
    c->listener = c->server = c->named = -1;
    return c;
}

/* Appends n bytes of s to the string of *len bytes in dst[size], as far as they fit; dst stays terminated. */
void an_append(char *dst, size_t size, size_t *len, const char *s, size_t n)
{
    if (*len + n > size - 1)
        n = size - 1 - *len;
    memcpy(dst + *len, s, n);
    *len += n;
    dst[*len] = 0;
}

/* ---- enrichment ---- */

/* Names, service and simple URL of an arriving event, and the nodes its connection or name tell. */
static void enrich(struct lf_analysis *an, struct pend *p)
{
    struct lf_event *ev = &p->ev;
    struct lf_model *m = &an->model;
    an_name_of(ev, p->name, sizeof p->name);
    p->named = -1;
    if (ev->type == LF_EV_HTTP)
        LF_SET(ev->service, lf_service_classify(ev->u.http.uri, p->name));
    const char *su = an_simple_url(an, p->name);
    LF_SET(ev->simple_url, su ? su : "");
    if (ev->type == LF_EV_TLS && su)
        LF_SET(ev->service, su);
    if (ev->type == LF_EV_HTTP && !ev->service[0] && su)
        LF_SET(ev->service, su);

    struct conn *c = an_conn_get(an, ev->flow_id, 0);
    if (p->side == LF_SIDE_FRONT) {
        const struct lf_topo_server *ts = lf_topology_server_for_name(&an->topo, p->name);
        if (ts)
            p->named = an_find_server_name(m, ts->name);
        if (p->server < 0 && c && c->server >= 0)
            p->server = c->server;
    } else if (p->side == LF_SIDE_BACK) {
        if (p->listener < 0 && c && c->listener >= 0)
            p->listener = c->listener;
    }
    if (ev->type == LF_EV_FLOW && c) {
        if (p->side == LF_SIDE_FRONT && p->server < 0)
            p->server = c->server >= 0 ? c->server : c->named;
        if (!p->name[0])
            LF_SET(p->name, c->name);
    }
}

/* Fills the event's enrichment fields from the pend's nodes. */
static void enrich_fields(struct lf_analysis *an, struct pend *p)
{
    struct lf_event *ev = &p->ev;
    struct lf_model *m = &an->model;
    int srv = p->server >= 0 ? p->server : p->named;
    ev->role = srv >= 0 ? m->servers[srv].role : (p->side == LF_SIDE_FRONT ? LF_ROLE_PROXY : LF_ROLE_NONE);
    if (ev->type == LF_EV_FLOW && p->side == LF_SIDE_FRONT && srv < 0)
        ev->role = LF_ROLE_PROXY;
    /* node names never change: set again only when the node did */
    if (p->listener != p->set_listener) {
        LF_SET(ev->listener, p->listener >= 0 ? m->listeners[p->listener].name : "");
        p->set_listener = p->listener;
    }
    if (srv != p->set_server) {
        LF_SET(ev->server_name, srv >= 0 ? m->servers[srv].name : "");
        p->set_server = srv;
    }
    ev->stitched = p->stitched;
}

/* A flow event usually comes before its connection's TLS event (it starts
 * earlier): take the connection's classification from the held TLS/HTTP event. */
static void flow_from_held(struct lf_analysis *an, struct pend *p)
{
    for (size_t i = 1; i < an->count; i++) {
        const struct pend *q = an_ring(an, i);
        if (q->ev.flow_id != p->ev.flow_id || q->ev.type == LF_EV_FLOW)
            continue;
        if (p->side == LF_SIDE_NONE || p->side == q->side) {
            p->side = q->side;
            if (p->listener < 0)
                p->listener = q->listener;
            if (p->server < 0)
                p->server = q->server;
            if (p->named < 0)
                p->named = q->named;
            if (!p->name[0])
                LF_SET(p->name, q->name);
        }
        return;
    }
}

/* ---- release: an event leaves the hold queue ---- */

static void forward(struct lf_analysis *an, const struct lf_event *ev)
{
    for (int i = 0; i < an->nsinks; i++)
        if (an->sinks[i].event)
            an->sinks[i].event(an->sinks[i].ctx, ev);
}

static void observe_failure(const struct pend *p, struct conn *c, int *failed, const char **reason)
{
    const struct lf_event *ev = &p->ev;
    *failed = 0;
    *reason = "";
    if (ev->type == LF_EV_HTTP) {
        uint16_t st = ev->u.http.status;
        if (st == 0) {
            *failed = 1;
            *reason = c && c->closed == 2 ? "reset, no response" : "no response";
        } else if (st >= 400 && st != 401) {
            *failed = 1;
            *reason = "error status";
        }
    } else if (ev->type == LF_EV_TLS) {
        if (ev->u.tls.alert_from && !(ev->u.tls.alert_desc == 0 && ev->u.tls.alert_level == 1)) {
            *failed = 1;
            *reason = "TLS alert";
        }
    } else if (ev->type == LF_EV_FLOW) {
        if (!ev->u.flow.answered) {
            *failed = 1;
            *reason = "no answer";
        } else if (ev->u.flow.closed == 2 && ev->u.flow.rst_from == 's' && ev->u.flow.s2c_bytes == 0) {
            *failed = 1;
            *reason = "reset";
        }
    }
}

static void release_one(struct lf_analysis *an)
{
    struct pend *p = an_ring(an, 0);
    struct lf_model *m = &an->model;
    uint64_t seq = ++an->seq;

    pthread_mutex_lock(&m->lock);
    struct lf_event *ev = &p->ev;
    an_attribute(an, p);
    struct conn *c = an_conn_get(an, ev->flow_id, 1);
    if (ev->type == LF_EV_FLOW && c && !c->side)
        flow_from_held(an, p);
    /* what the connection's earlier events learnt (its TLS leg stitched, say) */
    if (c && c->used) {
        if (p->side == LF_SIDE_FRONT && p->server < 0 && c->server >= 0)
            p->server = c->server;
        if (p->side == LF_SIDE_FRONT && p->named < 0 && c->named >= 0)
            p->named = c->named;
        if (!p->name[0] && c->name[0])
            LF_SET(p->name, c->name);
        if (p->side == LF_SIDE_BACK && p->listener < 0 && c->listener >= 0)
            p->listener = c->listener;
    }
    if (p->side == LF_SIDE_FRONT && p->server < 0 && ev->type == LF_EV_HTTP && ev->u.http.server_fqdn[0])
        p->server = an_server_by_internal_fqdn(m, ev->u.http.server_fqdn);
    if (c && ev->type != LF_EV_FLOW) {
        c->side = p->side;
        if (p->listener >= 0)
            c->listener = p->listener;
        if (p->server >= 0)
            c->server = p->server;
        if (p->named >= 0)
            c->named = p->named;
        if (p->name[0] && !c->name[0])
            LF_SET(c->name, p->name);
    }
    if (ev->type == LF_EV_FLOW && c) {
        c->flow_seen = 1;
        c->closed = ev->u.flow.closed;
        c->rst_from = ev->u.flow.rst_from;
        c->answered = ev->u.flow.answered;
        c->flow_start = ev->ts;
        c->flow_end = ev->u.flow.end;
    }
    int from_iis = an_is_iis(ev);
    if (from_iis) {
        if (!p->iis_matched)
            an_iis_resolve(an, p, seq);
        if (p->iis_matched && !ev->u.http.match_seq) {
            struct pend *q = an_pend_by_uid(an, p->partner_uid);
            ev->u.http.match_seq = p->partner_seq ? p->partner_seq : q ? seq + (q->uid - p->uid) : 0;
        }
        if (p->iis_matched)
            an->iis_matched++;
        else
            an->iis_unmatched++;
    } else if (p->side == LF_SIDE_FRONT && p->partner_uid && !p->partner_iis && !p->iis.have) {
        /* an IIS line matched its back leg already */
        struct pend *q = an_pend_by_uid(an, p->partner_uid);
        if (q && q->iis.have)
            p->iis = q->iis;
    }
    int srv = p->server;
    if (p->side == LF_SIDE_BACK && srv >= 0)
        an->server_reached[srv] = 1;
    an_role_evidence(an, p, srv);
    an_infer_roles(an);
    enrich_fields(an, p);

    /* the model: nodes, then a front event's path and client edge */
    an_model_nodes(an, p, srv, from_iis);
    int failed;
    const char *why;
    observe_failure(p, c, &failed, &why);
    an_model_paths(an, p, failed);
    /* sign-in steps */
    if (ev->type == LF_EV_HTTP || ev->type == LF_EV_TLS) {
        int make = p->side == LF_SIDE_FRONT || p->attributed ||
                   (p->side == LF_SIDE_BACK && !p->stitched && (from_iis || !an->front_seen));
        const struct lf_signin *s = NULL;
        if (make && p->attributed) {
            /* the step is the client's, on its own connection: it takes the place of that connection's TLS step */
            struct lf_addr proxy = ev->client;
            uint64_t back_flow = ev->flow_id;
            ev->client = p->x_client;
            ev->flow_id = p->x_flow;
            s = an_add_step(an, p, seq);
            ev->client = proxy;
            ev->flow_id = back_flow;
        } else if (make) {
            s = an_add_step(an, p, seq);
        }
        an_link_release(an, p, seq, s);
        if (c && ev->type == LF_EV_HTTP)
            c->http_seen = 1;
    } else if (ev->type == LF_EV_FLOW && c) {
        an_flow_update_step(an, c);
    }
    struct lf_obs o = {ev, (enum lf_side)p->side, p->listener, p->server, p->named, p->name, failed, why};
    if (p->side != LF_SIDE_NONE)
        lf_findings_observe(an->findings, &o);
    if (ev->ts - an->last_findings > FINDINGS_EVERY_US) {
        an->last_findings = ev->ts;
        an_eval_findings(an);
    }
    if ((ev->type == LF_EV_HTTP || ev->type == LF_EV_TLS) && !from_iis) {
        if (!m->capture_first || ev->ts < m->capture_first)
            m->capture_first = ev->ts;
        if (ev->ts > m->capture_last)
            m->capture_last = ev->ts;
    }
    m->events++;
    an_model_changed(an);
    pthread_mutex_unlock(&m->lock);

    forward(an, ev);
    an->descents -= p->descent;
    an->held_iis -= (size_t)from_iis;
    an_open_del(an, p);
    an->head = (an->head + 1) % HOLD;
    an->count--;
}

static int64_t monotonic_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void release_due(struct lf_analysis *an, int all)
{
    int64_t now = an->live_hold_us ? monotonic_us() : 0;
    while (an->count > 0) {
        struct pend *p = an_ring(an, 0);
        int due = an->live_hold_us ? now - p->arrived_us >= an->live_hold_us
                                   : an->latest - p->ev.ts > STITCH_WINDOW_US;
        if (!all && an->count < HOLD && !due)
            break;
        release_one(an);
    }
}

/* ---- public ---- */

void lf_analysis_set_live(struct lf_analysis *an, int64_t hold_us) { an->live_hold_us = hold_us > 0 ? hold_us : 0; }

void lf_analysis_poll(struct lf_analysis *an)
{
    if (an->live_hold_us)
        release_due(an, 0);
}

struct lf_analysis *lf_analysis_new(const struct lf_topology *topo)
{
    struct lf_analysis *an = lf_xcalloc(1, sizeof *an);
    an->hold = lf_xcalloc(HOLD, sizeof *an->hold);
    an->open_first[0] = an->open_first[1] = an->open_last[0] = an->open_last[1] = -1;
    an->conns = lf_xcalloc(CONN_SLOTS, sizeof *an->conns);
    an->reqs = lf_xcalloc(REQ_SLOTS, sizeof *an->reqs);
    an->findings = lf_findings_new();
    pthread_mutex_init(&an->model.lock, NULL);
    struct lf_model *m = &an->model;
    m->topo = &an->topo;
    if (topo) {
        an->topo = *topo;
        an->topo.inferred = 0;
        an->configured = 1;
        an_model_configure(an, topo);
    } else {
        an->topo.inferred = 1;
    }
    return an;
}

void lf_analysis_add_sink(struct lf_analysis *an, const struct lf_sink *sink)
{
    if (an->nsinks < MAX_SINKS)
        an->sinks[an->nsinks++] = *sink;
}

void lf_analysis_event(struct lf_analysis *an, struct lf_event *in)
{
    if (in->type == LF_EV_EXCHANGE) { /* for the attribution of back requests only: never held, never forwarded */
        pthread_mutex_lock(&an->model.lock);
        an_exchange_add(an, in);
        pthread_mutex_unlock(&an->model.lock);
        return;
    }
    if (an->count == HOLD)
        release_one(an);
    struct pend *p = an_ring(an, an->count);
    p->stitched = p->partner_iis = p->iis_matched = p->attributed = 0;
    p->partner_uid = p->partner_seq = 0;
    memset(p->name, 0, sizeof p->name);
    memset(&p->partner, 0, sizeof p->partner);
    memset(&p->iis, 0, sizeof p->iis);
    lf_event_copy(&p->ev, in); /* the slot keeps its text block for the next event */
    an->truncated += in->truncated != 0;
    struct lf_event *ev = &p->ev;
    p->uid = ++an->uids;
    p->arrived_us = an->live_hold_us ? monotonic_us() : 0;
    p->side = LF_SIDE_NONE;
    p->listener = p->server = p->named = p->rec = -1;
    p->set_listener = p->set_server = -2;
    if (ev->ts > an->latest)
        an->latest = ev->ts;
    pthread_mutex_lock(&an->model.lock);
    if (ev->type == LF_EV_FLOW || ev->type == LF_EV_TLS || ev->type == LF_EV_HTTP) {
        an_classify(an, ev, p);
        if (ev->type != LF_EV_FLOW) {
            if (p->side == LF_SIDE_FRONT)
                an->front_seen = 1;
            if (p->side == LF_SIDE_BACK && !an_is_iis(ev))
                an->back_seen = 1;
        }
    }
    p->ts = ev->ts;
    p->type = ev->type;
    p->descent = an->count > 0 && ev->ts < an_ring(an, an->count - 1)->ts;
    an->descents += p->descent;
    enrich(an, p);
    p->name_hash = an_fnv(LF_FNV_SEED, p->name);
    p->hashed = 0;
    an_open_add(an, p);
    an->count++;
    an->held_iis += (size_t)an_is_iis(ev);
    if (ev->type == LF_EV_HTTP && !an_is_iis(ev) && (p->side == LF_SIDE_FRONT || p->server >= 0)) {
        if (p->side == LF_SIDE_BACK)
            an->back_http[p->server] = 1;
        if (p->side == LF_SIDE_BACK || p->side == LF_SIDE_FRONT)
            an_rec_add(an, p);
    }
    an_stitch(an, p);
    if (an->held_iis)
        an_stitch_front_late(an, p);
    enrich_fields(an, p);
    pthread_mutex_unlock(&an->model.lock);
    /* the caller sees the enrichment known so far */
    in->role = p->ev.role;
    memcpy(in->simple_url, p->ev.simple_url, sizeof in->simple_url);
    memcpy(in->service, p->ev.service, sizeof in->service);
    memcpy(in->listener, p->ev.listener, sizeof in->listener);
    memcpy(in->server_name, p->ev.server_name, sizeof in->server_name);
    in->stitched = p->ev.stitched;
    release_due(an, 0);
}

void lf_analysis_emit(void *an, struct lf_event *ev) { lf_analysis_event(an, ev); }

void lf_analysis_advance(struct lf_analysis *an, lf_time now)
{
    if (now > an->latest)
        an->latest = now;
    release_due(an, 0);
}

void lf_analysis_finish(struct lf_analysis *an, const struct lf_ev_stats *stats)
{
    release_due(an, 1);
    struct lf_model *m = &an->model;
    pthread_mutex_lock(&m->lock);
    an_infer_roles(an);
    an_signins_close(an);
    an_eval_findings(an);
    m->stats = *stats;
    m->stats.stitched = m->stitched;
    m->stats.iis_matched = an->iis_matched;
    m->stats.iis_unmatched = an->iis_unmatched;
    m->stats.truncated = an->truncated;
    m->finished = 1;
    an_model_changed(an);
    pthread_mutex_unlock(&m->lock);

    struct lf_event ev;
    for (uint32_t i = 0; i < m->nsignins; i++) {
        lf_signin_event(&m->signins[i], &ev);
        an->seq++;
        forward(an, &ev);
    }
    for (int i = 0; i < m->nfindings; i++) {
        lf_event_init(&ev, LF_EV_FINDING, m->finding_ts[i]);
        ev.u.finding = m->findings[i]; /* its strings borrowed from the model */
        an->seq++;
        forward(an, &ev);
    }
    lf_event_init(&ev, LF_EV_STATS, 0);
    ev.u.stats = m->stats;
    an->seq++;
    forward(an, &ev);
    for (int i = 0; i < an->nsinks; i++)
        if (an->sinks[i].finish)
            an->sinks[i].finish(an->sinks[i].ctx);
}

struct lf_model *lf_analysis_model(struct lf_analysis *an) { return &an->model; }

const struct lf_topology *lf_analysis_topology(struct lf_analysis *an) { return &an->topo; }

void lf_analysis_free(struct lf_analysis *an)
{
    if (!an)
        return;
    for (uint32_t i = 0; i < an->model.nsignins; i++)
        free(an->model.signins[i].steps);
    free(an->model.signins);
    pthread_mutex_destroy(&an->model.lock);
    for (int i = 0; i < LF_MODEL_MAX_FINDINGS; i++) {
        free((char *)an->model.findings[i].subject);
        free((char *)an->model.findings[i].message);
    }
    lf_findings_free(an->findings);
    free(an->conns);
    free(an->reqs);
    free(an->xrecs);
    for (size_t i = 0; an->hold && i < HOLD; i++)
        lf_event_release(&an->hold[i].ev);
    free(an->hold);
    free(an->client_prev);
    free(an);
}
