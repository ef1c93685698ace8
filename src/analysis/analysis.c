/* analysis.c: roles, front-to-back stitching, sign-in grouping and the model the timeline, TUI and diagram read.
 *
 * Every event goes through a short hold queue (STITCH_WINDOW_US of event
 * time) so that a client-side request and the proxy's request to a server,
 * which arrive one after the other, can be matched before either reaches the
 * sinks. An event is classified as front (client -> listener) or back (proxy
 * -> server, or an IIS log line of a server) from the topology, or, without
 * one, from the traffic: back legs are the connections that repeat a client
 * request or TLS name on another address, or go to 4443/8080. Released events
 * update the model under its lock: nodes, paths, client edges, and sign-ins,
 * whose verdict is recomputed on each step.
 *
 * IIS lines are matched to the capture's requests of their server. When the
 * capture shows the proxy's back leg to that server, a line matches the back
 * request (same method, URI, Host, status, client address and user agent;
 * the earliest unmatched one in the time window) and enriches the step that
 * request shows in, its front partner's or its own; the line makes no step of
 * its own. Without a back leg a line is stitched to the client's request as a
 * back leg would be. A line nothing matches is a step of its own.
 */
#include "lyncflow/analysis.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lyncflow/findings.h"
#include "lyncflow/util.h"

#define STITCH_WINDOW_US (2 * 1000000LL)
#define HOLD 512
#define CONN_SLOTS 8192
#define SIGNIN_GAP_US (300 * 1000000LL)
#define SIGNIN_SCAN 64       /* recent sign-ins a step may join */
#define CLIENT_BUCKETS 4096  /* sign-ins indexed by client address */
#define EVAL_EVERY 32        /* long sign-ins are re-judged every this many steps */
#define HINT_MEETING 5       /* a step's hint to signin_for: a meeting join seen as a connection only */
#define AUTH_LOOP 4          /* unanswered 401s in a row that make a loop */
#define FINDINGS_EVERY_US (5 * 1000000LL)
#define MAX_SINKS 8
#define EDGE_IPS 16
#define EDGE_INDEX (2 * LF_MODEL_MAX_CLIENT_EDGES)
#define REQ_SLOTS 8192       /* recent capture requests an IIS line may match */
#define IIS_TOL_US (1000000LL)  /* the servers' clocks against the capture's */
#define IIS_TIE_US (10000LL)    /* sub-second logs: requests this much nearer than the nearest are a tie */

/* What the other leg of a stitched pair told. */
struct partner {
    uint8_t have;
    uint16_t status, substatus;
    uint32_t win32;
    int64_t duration_us;
    int server, listener;
    char user[128];
};

/* What an IIS line adds to the capture request it matched. */
struct iisinfo {
    uint8_t have;
    uint16_t status, substatus;
    uint32_t win32, time_taken_ms;
    char user[128];
};

struct pend {
    uint64_t uid;          /* arrival number: consecutive in the hold queue */
    /* what the stitching scan reads, in the first cache line: ev's ts and type, hashes of name and (http)
     * of method and URI, and whether ev is older than the event held before it */
    lf_time ts;
    uint64_t name_hash;
    uint64_t req_hash, ua_hash; /* http, once asked for (pend_hashes): of method and URI; of the User-Agent | 1,
                                   0 none */
    uint8_t hashed;             /* req_hash and ua_hash are set */
    uint8_t type, descent;
    uint8_t open;          /* in its type's list of open front events (see struct lf_analysis) */
    int onext, oprev;      /* that list's links: hold slots, -1 none */
    uint8_t side;
    uint8_t stitched;
    uint8_t partner_iis;   /* the stitched partner is an IIS line */
    uint8_t iis_matched;   /* an IIS line: it matched a capture request */
    int listener, server, named;
    int set_listener, set_server; /* the nodes whose names ev->listener and ev->server_name hold, -2 none yet */
    int rec;               /* its slot in the requests an IIS line may match, -1 none */
    uint64_t partner_uid;  /* the stitched partner's arrival number */
    uint64_t partner_seq;  /* the stitched partner's seq, once it was released */
    char name[256];
    struct partner partner;
    struct iisinfo iis;    /* what a matched IIS line told */
    struct lf_event ev;    /* last: the fields above and ev's type and ts share the first cache lines */
};

/* What tells one request from another: hashes of method and URI, Host (0 none) and User-Agent (0 none),
 * the status and the client. */
struct reqkey {
    uint64_t key, host, ua;
    uint16_t status;
    struct lf_addr client;
};

/* A request of the capture, kept for the IIS lines that may match it. */
struct reqrec {
    uint64_t uid;          /* its pend's arrival number */
    uint64_t seq;          /* its event's seq once released, else 0 */
    uint64_t step_seq;     /* the step it shows in (its front partner's or its own), once made */
    uint32_t signin;       /* that step's sign-in, 1-based */
    lf_time ts;
    struct reqkey k;
    int server, listener;  /* front requests: the server that answered, or the one the name is published to */
    uint8_t used, matched;
    uint8_t side;          /* LF_SIDE_BACK or LF_SIDE_FRONT */
    uint8_t has_back;      /* front: stitched to a back request of the capture */
};

struct conn {
    uint64_t flow_id;
    uint8_t used, side, role, http_seen, flow_seen, closed, rst_from, answered;
    lf_time flow_start, flow_end;
    int listener, server, named;
    uint32_t signin; /* 1-based index of the sign-in its steps went to */
    uint64_t tls_seq;
    char name[256];  /* last: the fields above share the first cache line */
};

struct lf_analysis {
    struct lf_sink sinks[MAX_SINKS];
    int nsinks;
    struct lf_topology topo;
    int configured;
    struct lf_model model;
    struct pend *hold; /* ring */
    size_t head, count;
    size_t descents; /* held events older than the one held before them: 0 means the queue is in time order */
    /* held front events a back one may still be stitched to (not stitched, or stitched to an IIS line), in
     * the queue's order, one list for http and one for tls: first and last hold slots, -1 none. A front
     * event that stops being open never opens again; it leaves its list when a scan meets it. */
    int open_first[2], open_last[2];
    lf_time latest;
    uint64_t seq;
    struct conn *conns;
    uint64_t uids;
    struct reqrec *reqs;  /* ring of REQ_SLOTS */
    size_t req_next;
    uint8_t back_http[LF_TOPO_MAX_SERVERS]; /* the capture shows requests of the back leg to this server */
    uint64_t iis_matched, iis_unmatched;
    uint64_t truncated; /* events with a string cut at its cap */
    struct lf_findings *findings;
    lf_time last_findings;
    int front_seen, back_seen;
    uint8_t server_reached[LF_TOPO_MAX_SERVERS];
    /* inferred role evidence per server */
    uint32_t auth_services[LF_TOPO_MAX_SERVERS], home_services[LF_TOPO_MAX_SERVERS];
    uint32_t simple_seen[LF_TOPO_MAX_SERVERS]; /* simple-URL requests/connections it answered */
    /* distinct clients per client edge */
    struct lf_addr edge_net[LF_MODEL_MAX_CLIENT_EDGES];
    struct lf_addr edge_ips[LF_MODEL_MAX_CLIENT_EDGES][EDGE_IPS];
    int edge_nips[LF_MODEL_MAX_CLIENT_EDGES];
    uint16_t edge_index[EDGE_INDEX]; /* client edges by listener and network: 1-based, 0 empty (open addressing) */
    size_t held_iis;                 /* IIS lines in the hold queue */
    uint8_t path_failing[LF_MODEL_MAX_PATHS]; /* a failure was observed on the path */
    /* sign-ins by client address: the newest of a hash bucket, and each one's predecessor there (1-based) */
    uint32_t client_last[CLIENT_BUCKETS];
    uint32_t *client_prev;
};

/* Findings from scratch: paths fail from what was observed, then from findings. Lock held. */
static void eval_findings(struct lf_analysis *an)
{
    for (int i = 0; i < an->model.npaths; i++)
        an->model.paths[i].failing = an->path_failing[i];
    lf_findings_eval(an->findings, &an->model, &an->topo);
}

/* ---- small helpers ---- */

static int is_bridge_port(uint16_t p) { return p == 4443 || p == 8080; }

static const char *ev_name(const struct lf_event *ev)
{
    if (ev->type == LF_EV_HTTP)
        return ev->u.http.host[0] ? ev->u.http.host : ev->u.http.sni;
    if (ev->type == LF_EV_TLS)
        return ev->u.tls.sni;
    return "";
}

/* Host without its port ("feweb.contoso.com:443"), lower case, truncated to size - 1 bytes. */
static void name_of(const struct lf_event *ev, char *out, size_t size)
{
    const char *s = ev_name(ev);
    char stop = s[0] == '[' ? 0 : ':';
    size_t i = 0;
    for (; i + 1 < size && s[i] && s[i] != stop; i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    out[i] = 0;
}

/* The same endpoint (address and port), the same address. */
static int addr_eq(const struct lf_addr *a, const struct lf_addr *b)
{
    if (a->family != b->family || a->port != b->port)
        return 0;
    return a->family == 4 ? memcmp(a->ip, b->ip, 4) == 0 : memcmp(a->ip, b->ip, 16) == 0;
}

static int ip_eq(const struct lf_addr *a, const struct lf_addr *b)
{
    if (a->family != b->family)
        return 0;
    return a->family == 4 ? memcmp(a->ip, b->ip, 4) == 0 : memcmp(a->ip, b->ip, 16) == 0;
}

static const char *simple_url(const struct lf_analysis *an, const char *name)
{
    const char *s = lf_topology_simple_url(&an->topo, name);
    if (s || !name[0])
        return s;
    if (!an->topo.meet[0] && lf_strcaseprefix(name, "meet.") && name[5])
        return "meet";
    if (!an->topo.dialin[0] && lf_strcaseprefix(name, "dialin.") && name[7])
        return "dialin";
    if (!an->topo.scheduler[0] && lf_strcaseprefix(name, "scheduler.") && name[10])
        return "scheduler";
    return NULL;
}

static struct conn *conn_get(struct lf_analysis *an, uint64_t flow_id, int create)
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

/* ---- model nodes ---- */

static int find_listener(const struct lf_model *m, const struct lf_addr *a)
{
    for (int i = 0; i < m->nlisteners; i++)
        if (addr_eq(&m->listeners[i].addr, a))
            return i;
    return -1;
}

static int find_server_addr(const struct lf_model *m, const struct lf_addr *a)
{
    if (!a->family)
        return -1;
    for (int i = 0; i < m->nservers; i++)
        if (addr_eq(&m->servers[i].addr, a))
            return i;
    return -1;
}

static int find_server_name(const struct lf_model *m, const char *name)
{
    for (int i = 0; i < m->nservers; i++)
        if (strcmp(m->servers[i].name, name) == 0)
            return i;
    return -1;
}

static int ip_used_by(const struct lf_node *nodes, int n, const struct lf_addr *a)
{
    for (int i = 0; i < n; i++)
        if (ip_eq(&nodes[i].addr, a))
            return i;
    return -1;
}

static void model_changed(struct lf_analysis *an) { an->model.generation++; }

/* New listener node (observed); mirrored into an inferred topology. Caller holds the lock. */
static int add_listener(struct lf_analysis *an, const struct lf_addr *a)
{
    struct lf_model *m = &an->model;
    if (m->nlisteners == LF_TOPO_MAX_LISTENERS)
        return -1;
    int i = m->nlisteners++;
    struct lf_node *n = &m->listeners[i];
    memset(n, 0, sizeof *n);
    snprintf(n->name, sizeof n->name, "listener%d", i + 1);
    n->addr = *a;
    n->role = LF_ROLE_PROXY;
    if (!an->configured && an->topo.nlisteners < LF_TOPO_MAX_LISTENERS) {
        struct lf_topo_listener *l = &an->topo.listeners[an->topo.nlisteners++];
        memset(l, 0, sizeof *l);
        LF_SET(l->name, n->name);
        l->addr = *a;
    }
    return i;
}

static int add_server(struct lf_analysis *an, const struct lf_addr *a, const char *name)
{
    struct lf_model *m = &an->model;
    if (m->nservers == LF_TOPO_MAX_SERVERS)
        return -1;
    int i = m->nservers++;
    struct lf_node *n = &m->servers[i];
    memset(n, 0, sizeof *n);
    if (name && name[0])
        LF_SET(n->name, name);
    else
        snprintf(n->name, sizeof n->name, "server%d", i + 1);
    n->addr = *a;
    n->role = LF_ROLE_OTHER;
    if (!an->configured && an->topo.nservers < LF_TOPO_MAX_SERVERS) {
        struct lf_topo_server *s = &an->topo.servers[an->topo.nservers++];
        memset(s, 0, sizeof *s);
        LF_SET(s->name, n->name);
        s->addr = *a;
        s->role = LF_ROLE_OTHER;
    }
    return i;
}

static int name_kind(const struct lf_analysis *an, const char *name)
{
    if (simple_url(an, name))
        return 1;
    if (lf_topology_server_by_fqdn(&an->topo, name))
        return 2;
    return 0;
}

static void node_add_name(struct lf_analysis *an, struct lf_node *n, const char *name)
{
    if (!name[0])
        return;
    for (int k = 0; k < n->nnames; k++)
        if (lf_strcaseeq(n->names[k], name))
            return;
    if (n->nnames == LF_TOPO_MAX_NAMES)
        return;
    LF_SET(n->names[n->nnames], name);
    n->name_kind[n->nnames] = (uint8_t)name_kind(an, name);
    n->nnames++;
}

/* ---- classification: which side, which nodes ---- */

/* Looks for a front event in the hold queue that this (back) event repeats;
 * returns its ring index or -1. */
static long stitch_candidate(struct lf_analysis *an, const struct lf_event *ev, int server, int exclude_listener_ip);

/* Decides side, listener and server of a capture event. Caller holds the lock. */
static void classify(struct lf_analysis *an, const struct lf_event *ev, struct pend *p)
{
    struct lf_model *m = &an->model;
    p->side = LF_SIDE_NONE;
    p->listener = p->server = -1;
    if (ev->type == LF_EV_HTTP && strcmp(ev->u.http.source, "iis") == 0) {
        p->side = LF_SIDE_BACK;
        int s = -1;
        if (ev->u.http.log_server[0])
            s = find_server_name(m, ev->u.http.log_server);
        if (s < 0)
            s = find_server_addr(m, &ev->server);
        if (s < 0) {
            s = add_server(an, &ev->server, ev->u.http.log_server);
            if (s >= 0)
                model_changed(an);
        }
        p->server = s;
        return;
    }
    int l = find_listener(m, &ev->server);
    int s = find_server_addr(m, &ev->server);
    if (l >= 0) {
        p->side = LF_SIDE_FRONT;
        p->listener = l;
        return;
    }
    if (s >= 0) {
        p->side = LF_SIDE_BACK;
        p->server = s;
        return;
    }
    if (ev->type == LF_EV_FLOW)
        return; /* flows alone never make nodes */
    /* same IP as a known node on another port */
    int si = ip_used_by(m->servers, m->nservers, &ev->server);
    int li = ip_used_by(m->listeners, m->nlisteners, &ev->server);
    int back;
    if (si >= 0 && li >= 0)
        back = !(ev->server.port == 443 || ev->server.port == 80);
    else if (si >= 0)
        back = 1;
    else if (li >= 0)
        back = 0;
    else if (is_bridge_port(ev->server.port))
        back = 1;
    else
        back = stitch_candidate(an, ev, -1, 1) >= 0;
    if (back) {
        /* the same machine as a known server on another port is that server (a wrong bridge, say) */
        p->server = si >= 0 ? si : add_server(an, &ev->server, NULL);
        p->side = p->server >= 0 ? LF_SIDE_BACK : LF_SIDE_NONE;
    } else {
        p->listener = add_listener(an, &ev->server);
        p->side = p->listener >= 0 ? LF_SIDE_FRONT : LF_SIDE_NONE;
    }
    model_changed(an);
}

/* ---- hold queue and stitching ---- */

static struct pend *ring(struct lf_analysis *an, size_t i) { return &an->hold[(an->head + i) % HOLD]; }

static uint64_t fnv(uint64_t h, const char *s) { return lf_fnv(h, s, strlen(s)); }

static int open_list(int type) { return type == LF_EV_HTTP ? 0 : type == LF_EV_TLS ? 1 : -1; }

static int is_open(const struct pend *p)
{
    return p->side == LF_SIDE_FRONT && (!p->stitched || p->partner_iis) && open_list(p->type) >= 0;
}

static int slot_of(const struct lf_analysis *an, const struct pend *p) { return (int)(p - an->hold); }

/* p's position in the queue (ring(an, i) == p). */
static size_t pos_of(const struct lf_analysis *an, const struct pend *p)
{
    return ((size_t)slot_of(an, p) + HOLD - an->head) % HOLD;
}

/* A new held event: appended to its list when it is open. */
static void open_add(struct lf_analysis *an, struct pend *p)
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

static void open_del(struct lf_analysis *an, struct pend *p)
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
static uint64_t req_hash(const struct lf_ev_http *h) { return fnv(fnv(fnv(LF_FNV_SEED, h->method), " "), h->uri); }

/* A held http request's hashes of method and URI and of its User-Agent, taken when first asked for. */
static void pend_hashes(struct pend *p)
{
    if (p->hashed)
        return;
    const struct lf_ev_http *h = &p->ev.u.http;
    p->req_hash = req_hash(h);
    p->ua_hash = h->user_agent[0] ? fnv(LF_FNV_SEED, h->user_agent) | 1 : 0;
    p->hashed = 1;
}

/* How well held front event p fits back event ev (rank 3 the same request or name, 2 a connection to the
 * server the name is published to, 1 timing alone, 0 not at all). name is ev's name_of, nh its hash, rh
 * ev's req_hash (http); held names are name_of their events too, so that equal names are equal bytes. */
static int stitch_rank(struct pend *p, const struct lf_event *ev, const char *name, uint64_t nh, uint64_t rh,
                       int server, int generic)
{
    if (ev->type == LF_EV_HTTP) {
        const struct lf_ev_http *x = &ev->u.http, *y = &p->ev.u.http;
        pend_hashes(p);
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
static long stitch_candidate(struct lf_analysis *an, const struct lf_event *ev, int server, int exclude_listener_ip)
{
    long best = -1;
    int best_rank = 0;
    lf_time best_dt = 0;
    char name[256];
    name_of(ev, name, sizeof name);
    uint64_t nh = fnv(LF_FNV_SEED, name), rh = ev->type == LF_EV_HTTP ? req_hash(&ev->u.http) : 0;
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
            open_del(an, p);
            continue;
        }
        if (dt < 0 || dt > STITCH_WINDOW_US)
            continue;
        if (exclude_listener_ip && addr_eq(&p->ev.server, &ev->server))
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

static int is_iis(const struct lf_event *ev)
{
    const char *s = ev->u.http.source;
    return ev->type == LF_EV_HTTP && s[0] == 'i' && s[1] == 'i' && s[2] == 's' && s[3] == 0;
}

/* The held event of an arrival number, or NULL once it was released. */
static struct pend *pend_by_uid(struct lf_analysis *an, uint64_t uid)
{
    if (!an->count || !uid)
        return NULL;
    uint64_t first = ring(an, 0)->uid;
    if (uid < first || uid - first >= an->count)
        return NULL;
    struct pend *p = ring(an, (size_t)(uid - first));
    return p->uid == uid ? p : NULL;
}

/* A held request's keys (its name is its Host's when it has one). */
static void req_keys(struct pend *p, struct reqkey *k)
{
    const struct lf_ev_http *h = &p->ev.u.http;
    pend_hashes(p);
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
    return !by_client || !a->client.family || !b->client.family || ip_eq(&a->client, &b->client);
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
static int iis_wants_back(const struct lf_analysis *an, const struct pend *iis)
{
    return iis->server >= 0 && an->back_http[iis->server];
}

/* Front request f and back event b (a back-leg request or connection, or an IIS line) are one exchange. */
static void link_pair(struct lf_analysis *an, struct pend *f, struct pend *b)
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

static void link_iis_front(struct lf_analysis *an, struct pend *f, struct pend *b)
{
    link_pair(an, f, b);
    f->partner_iis = 1;
    b->iis_matched = 1;
    iis_fill(&f->iis, &b->ev);
}

/* A capture without the back leg: the client's request an IIS line is, the earliest that fits. */
static long iis_front_candidate(struct lf_analysis *an, struct pend *b)
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
            struct pend *p = ring(an, i);
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
static void rec_add(struct lf_analysis *an, struct pend *p)
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

static struct reqrec *rec_of(struct lf_analysis *an, const struct pend *p)
{
    if (!p || p->rec < 0 || an->reqs[p->rec].uid != p->uid)
        return NULL;
    return &an->reqs[p->rec];
}

/* Matches a new back event with a held front one. An IIS line of a server whose back leg the capture
 * shows waits for its release (iis_resolve); otherwise it is stitched to a front request as a back leg
 * would be. A back request takes over a front request an IIS line was stitched to. */
static void stitch(struct lf_analysis *an, struct pend *b)
{
    if (b->side != LF_SIDE_BACK || (b->ev.type != LF_EV_HTTP && b->ev.type != LF_EV_TLS))
        return;
    if (is_iis(&b->ev)) {
        long i = iis_wants_back(an, b) ? -1 : iis_front_candidate(an, b);
        if (i >= 0)
            link_iis_front(an, ring(an, (size_t)i), b);
        return;
    }
    long i = stitch_candidate(an, &b->ev, b->server, 0);
    if (i < 0)
        return;
    struct pend *f = ring(an, (size_t)i);
    if (f->stitched) {
        /* the IIS line goes back to waiting for a back request */
        struct pend *l = pend_by_uid(an, f->partner_uid);
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
    link_pair(an, f, b);
    struct reqrec *fr = b->ev.type == LF_EV_HTTP ? rec_of(an, f) : NULL;
    if (fr)
        fr->has_back = 1;
    if (b->ev.type == LF_EV_TLS) {
        struct conn *fc = conn_get(an, f->ev.flow_id, 0), *bc = conn_get(an, b->ev.flow_id, 0);
        if (fc)
            fc->server = b->server;
        if (bc)
            bc->listener = f->listener;
    }
}

/* A front request arriving after its IIS line (capture without the back leg): the earliest line it fits. */
static void stitch_front_late(struct lf_analysis *an, struct pend *f)
{
    if (f->side != LF_SIDE_FRONT || f->ev.type != LF_EV_HTTP || f->stitched)
        return;
    struct reqkey kf, kb;
    req_keys(f, &kf);
    for (size_t i = 0; i < an->count; i++) {
        struct pend *b = ring(an, i);
        if (b->side != LF_SIDE_BACK || b->stitched || !is_iis(&b->ev) || iis_wants_back(an, b) ||
            (f->server >= 0 && f->server != b->server))
            continue;
        lf_time lo, hi, tie;
        iis_window(&b->ev, &lo, &hi, &tie);
        req_keys(b, &kb);
        if (f->ev.ts < lo || f->ev.ts > hi || !req_fits(&kb, &kf, 0))
            continue;
        link_iis_front(an, f, b);
        return;
    }
}

/* ---- enrichment ---- */

static void enrich(struct lf_analysis *an, struct pend *p)
{
    struct lf_event *ev = &p->ev;
    struct lf_model *m = &an->model;
    name_of(ev, p->name, sizeof p->name);
    p->named = -1;
    if (ev->type == LF_EV_HTTP)
        LF_SET(ev->service, lf_service_classify(ev->u.http.uri, p->name));
    const char *su = simple_url(an, p->name);
    LF_SET(ev->simple_url, su ? su : "");
    if (ev->type == LF_EV_TLS && su)
        LF_SET(ev->service, su);
    if (ev->type == LF_EV_HTTP && !ev->service[0] && su)
        LF_SET(ev->service, su);

    struct conn *c = conn_get(an, ev->flow_id, 0);
    if (p->side == LF_SIDE_FRONT) {
        const struct lf_topo_server *ts = lf_topology_server_for_name(&an->topo, p->name);
        if (ts)
            p->named = find_server_name(m, ts->name);
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

/* ---- sign-ins ---- */

static int phase_rank(const char *phase)
{
    static const char *const names[] = {"", "discover", "webticket", "certificate", "homepool"};
    for (int i = 1; i < 5; i++)
        if (strcmp(phase, names[i]) == 0)
            return i;
    return 0;
}

static const char *phase_name(int r)
{
    static const char *const names[] = {"", "discover", "webticket", "certificate", "homepool"};
    return r >= 0 && r < 5 ? names[r] : "";
}

static int service_phase(const char *svc)
{
    /* by first letter: discover and autodiscover 1, webticket 2, certprov 3, the home pool's services 4 */
    static const struct {
        const char *name;
        int phase;
    } byletter[][4] = {
        ['a' - 'a'] = {{"autodiscover", 1}, {"abs", 4}, {"autoupdate", 4}},
        ['c' - 'a'] = {{"certprov", 3}, {"collabcontent", 4}, {"conf", 4}},
        ['d' - 'a'] = {{"discover", 1}, {"deviceupdate", 4}},
        ['g' - 'a'] = {{"groupexpansion", 4}},
        ['l' - 'a'] = {{"lwa", 4}, {"lis", 4}},
        ['m' - 'a'] = {{"mcx", 4}},
        ['p' - 'a'] = {{"persistentchat", 4}, {"phoneconferencing", 4}},
        ['r' - 'a'] = {{"rgs", 4}, {"reach", 4}, {"requesthandler", 4}},
        ['u' - 'a'] = {{"ucwa", 4}},
        ['w' - 'a'] = {{"webticket", 2}},
    };
    if (svc[0] < 'a' || svc[0] > 'z')
        return 0;
    for (int i = 0; i < 4 && byletter[svc[0] - 'a'][i].name; i++)
        if (!strcmp(svc, byletter[svc[0] - 'a'][i].name))
            return byletter[svc[0] - 'a'][i].phase;
    return 0;
}

static const char *agent_of(const char *ua)
{
    if (!ua[0])
        return "";
    if (strstr(ua, "Skype for Business") || strstr(ua, "OC/16."))
        return "Skype for Business";
    if (strstr(ua, "OC/15."))
        return "Lync 2013";
    if (strstr(ua, "OC/4."))
        return "Lync 2010";
    if (strstr(ua, "iPhoneLync") || strstr(ua, "iPadLync") || strstr(ua, "AndroidLync") || strstr(ua, "WPLync") ||
        strstr(ua, "NokiaLync") || strstr(ua, "McxService"))
        return "Lync mobile";
    if (strstr(ua, "UCWA") || strstr(ua, "ucwa"))
        return "UCWA client";
    if (lf_strcaseprefix(ua, "Mozilla/"))
        return "browser";
    if (lf_strcaseprefix(ua, "curl/"))
        return "curl";
    return "other";
}

/* "bob" for "sip:bob@contoso.com", "CONTOSO\\bob" and "bob@contoso.com"; "" for a bare name, which
 * says too little to tell two users apart. */
static void user_key(const char *u, char *out, size_t size)
{
    out[0] = 0;
    if (lf_strcaseprefix(u, "sip:"))
        u += 4;
    const char *bs = strchr(u, '\\');
    int qualified = bs || strchr(u, '@');
    if (!qualified)
        return;
    if (bs)
        u = bs + 1;
    lf_strncpy_n(out, size, u, strcspn(u, "@"));
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
}

static int users_differ(const char *a, const char *b)
{
    char ka[128], kb[128];
    user_key(a, ka, sizeof ka);
    user_key(b, kb, sizeof kb);
    return ka[0] && kb[0] && strcmp(ka, kb) != 0;
}

static char user_form(const char *u)
{
    if (lf_strcaseprefix(u, "sip:"))
        return 's';
    if (strchr(u, '\\'))
        return 'd';
    if (strchr(u, '@'))
        return 'u';
    return 'p';
}

/* sip URI in a query: "?sipuri=alice@contoso.com" */
static void user_from_query(const char *uri, char *out, size_t size)
{
    const char *q = strchr(uri, '?');
    out[0] = 0;
    while (q) {
        q++;
        if (lf_strcaseprefix(q, "sipuri=") || lf_strcaseprefix(q, "originalDomain=")) {
            if (!lf_strcaseprefix(q, "sipuri="))
                break;
            q += 7;
            size_t n = strcspn(q, "&#");
            char tmp[128];
            lf_strncpy_n(tmp, sizeof tmp, q, n);
            /* %40 for '@' */
            char *at = strstr(tmp, "%40");
            if (at) {
                *at = '@';
                memmove(at + 1, at + 3, strlen(at + 3) + 1);
            }
            if (lf_strcaseprefix(tmp, "sip:"))
                lf_strlcpy(out, tmp, size);
            else
                snprintf(out, size, "sip:%.100s", tmp);
            return;
        }
        q = strchr(q, '&');
    }
}

/* Steps that retry one another: the same service (or path, without query) on
 * the same server; TLS: the same name. */
enum { KEY_SERVICE, KEY_PATH, KEY_TLS };

static int key_class(const struct lf_step *s)
{
    return s->kind == LF_EV_HTTP ? (s->service[0] ? KEY_SERVICE : KEY_PATH) : KEY_TLS;
}

static size_t key_text(const struct lf_step *s, const char **text, const char **server)
{
    switch (key_class(s)) {
    case KEY_SERVICE:
        *text = s->service;
        *server = s->server;
        return strlen(s->service);
    case KEY_PATH:
        *text = s->what;
        *server = s->server;
        return strcspn(s->what, "?");
    }
    *text = s->host;
    *server = "";
    return strnlen(s->host, 150);
}

static uint64_t step_hash(const struct lf_step *s)
{
    const char *text, *server;
    size_t n = key_text(s, &text, &server);
    uint8_t sep = 0xff;
    uint64_t h = lf_fnv(LF_FNV_SEED ^ (uint64_t)key_class(s), text, n);
    return fnv(lf_fnv(h, &sep, 1), server);
}

static int step_same(const struct lf_step *x, const struct lf_step *y)
{
    if (key_class(x) != key_class(y))
        return 0;
    const char *tx, *sx, *ty, *sy;
    size_t nx = key_text(x, &tx, &sx), ny = key_text(y, &ty, &sy);
    return nx == ny && memcmp(tx, ty, nx) == 0 && strcmp(sx, sy) == 0;
}

static int step_success(const struct lf_step *s)
{
    if (s->kind == LF_EV_HTTP)
        return s->status >= 100 && s->status < 400;
    return !s->failed;
}

/* The failure of one step taken alone (not 401), "" when none. */
static const char *step_failure(const struct lf_step *s)
{
    return s->failed && s->reason[0] ? s->reason : "";
}

/* Appends n bytes of s to the string of *len bytes in dst[size], as far as they fit; dst stays terminated. */
static void append(char *dst, size_t size, size_t *len, const char *s, size_t n)
{
    if (*len + n > size - 1)
        n = size - 1 - *len;
    memcpy(dst + *len, s, n);
    *len += n;
    dst[*len] = 0;
}

/* Recomputes challenge/failed marks on 401s, recovered, the phase reached and
 * the verdict. reached: per model server, whether anything reached it; back
 * legs seen at all: any_back. */
static void signin_eval(struct lf_analysis *an, struct lf_signin *si)
{
    int nsteps = (int)si->nsteps;
    int max_phase = 0, home_ok = 0;
    int first_bad = -1;
    const char *first_reason = "";
    /* each step's previous and next retry (step_same), through a table of the latest step per key */
    static int prev_same[LF_MODEL_MAX_STEPS], next_same[LF_MODEL_MAX_STEPS], run401[LF_MODEL_MAX_STEPS];
    static int latest[2 * LF_MODEL_MAX_STEPS];
    static uint64_t kh[LF_MODEL_MAX_STEPS];
    static uint8_t later_ok[LF_MODEL_MAX_STEPS], later_ticket[LF_MODEL_MAX_STEPS];
    /* at least twice as many slots as steps, a power of two: what is found does not depend on the size */
    size_t nslots = 16;
    while (nslots < 2 * (size_t)nsteps && nslots < sizeof latest / sizeof latest[0])
        nslots *= 2;
    for (size_t k = 0; k < nslots; k++)
        latest[k] = -1;
    for (int i = 0; i < nsteps; i++) {
        kh[i] = step_hash(&si->steps[i]);
        size_t slot = kh[i] & (nslots - 1);
        while (latest[slot] >= 0 && !(kh[latest[slot]] == kh[i] && step_same(&si->steps[latest[slot]], &si->steps[i])))
            slot = (slot + 1) & (nslots - 1);
        prev_same[i] = latest[slot];
        next_same[i] = -1;
        if (prev_same[i] >= 0)
            next_same[prev_same[i]] = i;
        latest[slot] = i;
        /* 401s in a row of this request, this one included */
        int p = prev_same[i];
        run401[i] = si->steps[i].status == 401 ? 1 + (p >= 0 && si->steps[p].status == 401 ? run401[p] : 0) : 0;
    }
    int ticket = 0;
    for (int i = nsteps - 1; i >= 0; i--) {
        struct lf_step *s = &si->steps[i];
        /* roles of servers not in the topology file may have been learnt since */
        int srv = s->server[0] ? find_server_name(&an->model, s->server) : -1;
        if (srv >= 0 && !an->model.servers[srv].configured)
            s->role = an->model.servers[srv].role;
        later_ticket[i] = (uint8_t)ticket;
        if (s->kind == LF_EV_HTTP && !strcmp(s->service, "webticket") && s->status >= 200 && s->status < 300)
            ticket = 1;
        /* a retry of this request succeeds later */
        int n = next_same[i];
        later_ok[i] = (uint8_t)(n >= 0 && (step_success(&si->steps[n]) || later_ok[n]));
    }
    int director_seen = 0, loop = 0;
    for (int i = 0; i < nsteps; i++) {
        struct lf_step *s = &si->steps[i];
        if (s->role == LF_ROLE_DIRECTOR)
            director_seen = 1;
        int ph = s->kind == LF_EV_HTTP ? service_phase(s->service) : 0;
        if (s->kind == LF_EV_TLS) {
            if (!strcmp(s->service, "discover"))
                ph = 1;
            else if (s->service[0])
                ph = 0; /* meet, dialin: a meeting join, no sign-in phase */
            else if (s->role == LF_ROLE_DIRECTOR)
                ph = 2;
            else if (s->role == LF_ROLE_FRONTEND)
                ph = 4;
        }
        if (ph == 2 && s->role == LF_ROLE_FRONTEND && director_seen)
            ph = 4;
        s->phase = (uint8_t)ph;
        if (ph > max_phase)
            max_phase = ph;
        /* 401: a challenge when the same service succeeds later */
        if (s->kind == LF_EV_HTTP && s->status == 401) {
            /* answered later, or the client went and got a web ticket after it */
            s->challenge = later_ok[i] || (later_ticket[i] && strcmp(s->service, "webticket") != 0);
            s->failed = 0;
            s->recovered = 0;
            if (!s->challenge) {
                /* the last 401 of its run fails; count the run */
                int run = run401[i];
                int last = next_same[i] < 0 || si->steps[next_same[i]].status != 401;
                if (last) {
                    s->failed = 1;
                    if (run >= AUTH_LOOP)
                        snprintf(s->reason, sizeof s->reason, "401 loop: %d responses 401 on %.48s", run,
                                 s->service[0] ? s->service : s->what);
                    else if (s->win32_status == 2148074252u || s->ntlm_type == 3)
                        LF_SET(s->reason, "401 logon denied (wrong user name or password)");
                    else if (s->win32_status == 2148074248u)
                        LF_SET(s->reason, "401 invalid token (NTLM legs split)");
                    else
                        LF_SET(s->reason, "401 unauthorized, never answered with a ticket");
                } else {
                    s->challenge = 1;
                }
            }
        } else if (s->failed) {
            s->recovered = later_ok[i];
        }
        /* front TLS connections to a server nothing reached, in a capture that shows back legs */
        if (s->kind == LF_EV_TLS && !s->failed && !s->stitched && an->back_seen && s->server[0]) {
            int srv = find_server_name(&an->model, s->server);
            if (srv >= 0 && !an->server_reached[srv] && !s->from_iis) {
                s->failed = 1;
                snprintf(s->reason, sizeof s->reason, "not forwarded: nothing reached %s", s->server);
            }
        }
        if (s->failed && !s->recovered && first_bad < 0) {
            first_bad = i;
            first_reason = step_failure(s);
        }
        if (ph == 4 && step_success(s) && !s->failed)
            home_ok = 1;
        if (s->failed && strncmp(s->reason, "401 loop", 8) == 0)
            loop = 1;
    }
    si->loop_401 = (uint8_t)loop;
    LF_SET(si->phase, phase_name(max_phase));
    if (first_bad >= 0) {
        si->verdict = LF_VERDICT_FAILED;
        si->failed_step = (uint32_t)first_bad + 1;
        char num[16];
        size_t len = 0;
        int n = first_bad + 1, k = (int)sizeof num;
        do {
            num[--k] = (char)('0' + n % 10);
            n /= 10;
        } while (n);
        append(si->reason, sizeof si->reason, &len, "step ", 5);
        append(si->reason, sizeof si->reason, &len, num + k, sizeof num - (size_t)k);
        append(si->reason, sizeof si->reason, &len, ": ", 2);
        append(si->reason, sizeof si->reason, &len, first_reason, strlen(first_reason));
    } else if (home_ok) {
        si->verdict = LF_VERDICT_COMPLETE;
        si->failed_step = 0;
        si->reason[0] = 0;
    } else {
        si->verdict = LF_VERDICT_INCOMPLETE;
        si->failed_step = 0;
        size_t len = 0;
        append(si->reason, sizeof si->reason, &len, "no home-pool request", 20);
        if (max_phase) {
            const char *ph = phase_name(max_phase);
            append(si->reason, sizeof si->reason, &len, " after ", 7);
            append(si->reason, sizeof si->reason, &len, ph, strlen(ph));
        }
    }
}

/* The home pool was reached: by its requests when it has any (TLS steps may be placeholders of
 * connections whose requests are still to come, perhaps another client's), else by its connections. */
static int reached_home(const struct lf_signin *s)
{
    int http = 0;
    for (uint32_t i = 0; i < s->nsteps; i++)
        if (s->steps[i].kind == LF_EV_HTTP) {
            http = 1;
            if (s->steps[i].phase == 4)
                return 1;
        }
    return !http && phase_rank(s->phase) >= 4;
}

/* Nothing more to come for a new discovery: the home pool was reached, or it was a meeting join only. */
static int signin_done(const struct lf_signin *s)
{
    if (reached_home(s))
        return 1;
    for (uint32_t i = 0; i < s->nsteps; i++) {
        const char *svc = s->steps[i].service;
        if (strcmp(svc, "meet") && strcmp(svc, "dialin") && strcmp(svc, "scheduler") && strcmp(svc, "lwa"))
            return 0;
    }
    return s->nsteps > 0;
}

static size_t client_bucket(const struct lf_addr *a)
{
    size_t n = a->family == 4 ? 4 : a->family == 6 ? 16 : 0;
    return lf_fnv(LF_FNV_SEED ^ a->family, a->ip, n) & (CLIENT_BUCKETS - 1);
}

static struct lf_signin *signin_for(struct lf_analysis *an, const struct lf_addr *client, const char *user,
                                    const char *ua, lf_time ts, int phase)
{
    struct lf_model *m = &an->model;
    struct lf_signin *fallback = NULL; /* a sign-in of this address whose program is not known yet */
    int restart = 0;
    /* the last SIGNIN_SCAN sign-ins, newest first, those of this address only */
    uint32_t lowest = m->nsignins > SIGNIN_SCAN ? m->nsignins - SIGNIN_SCAN : 0;
    size_t bucket = client_bucket(client);
    for (uint32_t k = an->client_last[bucket]; k > lowest; k = an->client_prev[k - 1]) {
        struct lf_signin *s = &m->signins[k - 1];
        if (s->client.family != client->family || (client->family && !ip_eq(&s->client, client)))
            continue;
        if (ts - s->end > SIGNIN_GAP_US)
            break;
        if (user[0] && s->user[0] && users_differ(user, s->user))
            continue; /* another user behind the same address */
        if (ua[0] && s->user_agent[0] && strcmp(ua, s->user_agent) != 0)
            continue; /* another client program on the same address */
        if (ua[0] && !s->user_agent[0]) {
            if (!fallback)
                fallback = s;
            continue;
        }
        if ((phase == 1 && signin_done(s)) || (phase == HINT_MEETING && reached_home(s))) {
            restart = 1; /* a new discovery after the home pool was reached: a new sign-in */
            break;
        }
        return s;
    }
    if (!restart && fallback && !(phase == 1 && signin_done(fallback)) &&
        !(phase == HINT_MEETING && reached_home(fallback)))
        return fallback;
    if (m->nsignins == LF_MODEL_MAX_SIGNINS) {
        m->dropped_signins++;
        return NULL;
    }
    if (m->nsignins == m->capsignins) {
        m->capsignins = m->capsignins ? m->capsignins * 2 : 16;
        m->signins = lf_xrealloc(m->signins, m->capsignins * sizeof *m->signins);
        an->client_prev = lf_xrealloc(an->client_prev, m->capsignins * sizeof *an->client_prev);
    }
    struct lf_signin *s = &m->signins[m->nsignins++];
    memset(s, 0, sizeof *s);
    s->id = m->nsignins;
    s->client = *client;
    s->client.port = 0;
    s->start = s->end = ts;
    an->client_prev[m->nsignins - 1] = an->client_last[bucket];
    an->client_last[bucket] = m->nsignins;
    return s;
}

static void signin_remove_step(struct lf_signin *s, uint64_t seq)
{
    for (uint32_t i = 0; i < s->nsteps; i++)
        if (s->steps[i].seq == seq) {
            memmove(&s->steps[i], &s->steps[i + 1], (s->nsteps - i - 1) * sizeof *s->steps);
            s->nsteps--;
            if (i == 0 && s->nsteps)
                s->start = s->steps[0].ts;
            return;
        }
}

static void apply_flow(struct lf_step *st, const struct conn *c);

static int trivial_path(const char *uri)
{
    return lf_strcaseprefix(uri, "/favicon.ico") || lf_strcaseprefix(uri, "/robots.txt");
}

/* What a matched IIS line tells about a step: substatus and win32 status, its user, time-taken. */
static void step_apply_iis(struct lf_step *st, const struct iisinfo *x)
{
    st->iis = 1;
    st->time_taken_ms = x->time_taken_ms;
    if (!st->status)
        st->status = x->status;
    if (x->substatus || x->win32) {
        st->substatus = x->substatus;
        st->win32_status = x->win32;
    }
    if (!st->user[0])
        LF_SET(st->user, x->user);
    if (st->duration_us < 0)
        st->duration_us = (int64_t)x->time_taken_ms * 1000;
}

/* Adds the step of a released event to its sign-in; returns that sign-in, NULL when no step was kept. */
static struct lf_signin *add_step(struct lf_analysis *an, struct pend *p, uint64_t seq)
{
    const struct lf_event *ev = &p->ev;
    struct lf_model *m = &an->model;
    struct lf_step st;
    memset(&st, 0, sizeof st);
    st.seq = seq;
    st.ts = ev->ts;
    st.duration_us = -1;
    st.kind = ev->type;
    st.role = ev->role;
    st.stitched = p->stitched;
    st.client = ev->client;
    st.flow_id = ev->flow_id;
    LF_SET(st.host, p->name);
    LF_SET(st.service, ev->service);
    LF_SET(st.listener, ev->listener);
    LF_SET(st.server, ev->server_name);
    char user[128] = "";
    char agent_ua[256] = "";
    if (ev->type == LF_EV_HTTP) {
        const struct lf_ev_http *h = &ev->u.http;
        LF_SET(st.method, h->method);
        LF_SET(st.what, h->uri);
        st.status = h->status;
        st.substatus = h->substatus;
        st.win32_status = h->win32_status;
        st.decrypted = h->decrypted;
        st.from_iis = strcmp(h->source, "iis") == 0;
        st.duration_us = h->latency_us;
        st.ntlm_type = h->ntlm_type;
        if (p->partner.have) {
            if (!st.status)
                st.status = p->partner.status;
            if (!st.substatus && !st.win32_status) {
                st.substatus = p->partner.substatus;
                st.win32_status = p->partner.win32;
            }
            if (st.duration_us < 0)
                st.duration_us = p->partner.duration_us;
        }
        if (st.from_iis)
            st.time_taken_ms = h->time_taken_ms;
        else if (p->iis.have)
            step_apply_iis(&st, &p->iis);
        if (h->user[0])
            LF_SET(user, h->user);
        else if (h->ntlm_user[0] && h->ntlm_domain[0])
            snprintf(user, sizeof user, "%s\\%s", h->ntlm_domain, h->ntlm_user);
        else if (h->ntlm_user[0])
            LF_SET(user, h->ntlm_user);
        else if (p->partner.user[0])
            LF_SET(user, p->partner.user);
        else if (p->iis.user[0])
            LF_SET(user, p->iis.user);
        else
            user_from_query(h->uri, user, sizeof user);
        LF_SET(agent_ua, h->user_agent);
        if (st.status == 0) {
            st.failed = 1;
            struct conn *c = conn_get(an, ev->flow_id, 0);
            LF_SET(st.reason, c && c->closed == 2 ? "reset, no response" : "no response");
        } else if (st.status >= 400 && st.status != 401 && st.status < 500 && trivial_path(h->uri)) {
            /* a browser's favicon: not part of anything */
        } else if (st.status >= 400 && st.status != 401) {
            st.failed = 1;
            snprintf(st.reason, sizeof st.reason, "HTTP %u%s", st.status,
                     p->side == LF_SIDE_FRONT && !p->stitched && an->back_seen ? " from the proxy" : "");
        }
    } else {
        const struct lf_ev_tls *t = &ev->u.tls;
        LF_SET(st.what, t->sni[0] ? t->sni : "(no SNI)");
        st.tls_version = t->version;
        st.alert_desc = t->alert_desc;
        st.alert_from = t->alert_from;
        if (t->alert_from && !(t->alert_desc == 0 && t->alert_level == 1)) {
            st.failed = 1;
            snprintf(st.reason, sizeof st.reason, "TLS alert %u from the %s", t->alert_desc,
                     t->alert_from == 'c' ? "client" : "server");
        }
    }
    LF_SET(st.user, user);

    /* discovery after the home pool was reached begins a new sign-in; so does a meeting join, when
     * connections alone (no user agent) are all there is to tell clients apart */
    int phase_hint = ev->type == LF_EV_HTTP ? service_phase(st.service) : (!strcmp(st.service, "discover") ? 1 : 0);
    if (ev->type == LF_EV_TLS && (!strcmp(st.service, "meet") || !strcmp(st.service, "dialin")))
        phase_hint = HINT_MEETING;
    struct conn *c = conn_get(an, ev->flow_id, 0);
    struct lf_signin *s = NULL;
    /* the connection's sign-in, unless this request shows another user or program (the connection may
     * have joined it on its TLS step alone, which tells neither) */
    struct lf_signin *cs = c && c->signin && c->signin <= m->nsignins ? &m->signins[c->signin - 1] : NULL;
    if (cs) {
        int other_user = user[0] && cs->user[0] && users_differ(user, cs->user);
        int other_ua = agent_ua[0] && cs->user_agent[0] && strcmp(agent_ua, cs->user_agent) != 0;
        /* a sign-in of this very program, or nothing new to tell by */
        if (!other_user && !other_ua && (cs->user_agent[0] || !agent_ua[0]) && ev->ts - cs->end <= SIGNIN_GAP_US)
            s = cs;
    }
    if (!s)
        s = signin_for(an, &ev->client, user, agent_ua, ev->ts, phase_hint);
    if (cs && s != cs && c->tls_seq) {
        signin_remove_step(cs, c->tls_seq); /* its TLS step guessed the wrong sign-in */
        c->tls_seq = 0;
    }
    if (!s)
        return NULL;
    if (c)
        c->signin = s->id;
    if (user[0] && (!s->user[0] || (user_form(user) == 's' && user_form(s->user) != 's')))
        LF_SET(s->user, user); /* the sip URI reads best */
    if (!s->user_agent[0] && agent_ua[0]) {
        LF_SET(s->user_agent, agent_ua);
        LF_SET(s->agent, agent_of(agent_ua));
    }
    /* a request on a connection replaces the connection's TLS step */
    if (ev->type == LF_EV_HTTP && c && c->tls_seq) {
        for (uint32_t i = 0; i < s->nsteps; i++)
            if (s->steps[i].seq == c->tls_seq && !s->steps[i].failed) {
                signin_remove_step(s, c->tls_seq);
                break;
            }
        c->tls_seq = 0;
    }
    if (ev->type == LF_EV_TLS && c) {
        if (c->http_seen)
            return NULL;
        c->tls_seq = seq;
        if (c->flow_seen)
            apply_flow(&st, c);
    }
    if (s->nsteps == LF_MODEL_MAX_STEPS) {
        s->dropped_steps++;
        return NULL;
    }
    if (s->nsteps == s->capsteps) {
        s->capsteps = s->capsteps ? s->capsteps * 2 : 2;
        s->steps = lf_xrealloc(s->steps, s->capsteps * sizeof *s->steps);
    }
    /* sorted by ts; equal times keep their insertion order */
    uint32_t at = s->nsteps;
    while (at > 0 && s->steps[at - 1].ts > st.ts)
        at--;
    memmove(&s->steps[at + 1], &s->steps[at], (s->nsteps - at) * sizeof *s->steps);
    s->steps[at] = st;
    s->nsteps++;
    if (st.ts < s->start)
        s->start = st.ts;
    lf_time end = st.ts + (st.duration_us > 0 ? st.duration_us : 0);
    if (end > s->end)
        s->end = end;
    if (s->nsteps <= 2 * EVAL_EVERY || s->nsteps % EVAL_EVERY == 0)
        signin_eval(an, s);
    return s;
}

/* An IIS line matched a request whose step was made already. */
static void patch_step(struct lf_analysis *an, uint32_t signin, uint64_t seq, const struct iisinfo *x)
{
    struct lf_model *m = &an->model;
    if (!signin || signin > m->nsignins)
        return;
    struct lf_signin *s = &m->signins[signin - 1];
    for (uint32_t i = 0; i < s->nsteps; i++)
        if (s->steps[i].seq == seq) {
            step_apply_iis(&s->steps[i], x);
            if (!s->user[0] && x->user[0])
                LF_SET(s->user, x->user);
            signin_eval(an, s);
            model_changed(an);
            return;
        }
}

/* What the end of its connection says about a TLS-only step. */
static void apply_flow(struct lf_step *st, const struct conn *c)
{
    if (c->flow_end > c->flow_start)
        st->duration_us = c->flow_end - c->flow_start;
    if (st->failed)
        return;
    if (!c->answered) {
        st->failed = 1;
        LF_SET(st->reason, "no answer");
    } else if (c->closed == 2 && c->rst_from == 's') {
        st->failed = 1;
        LF_SET(st->reason, "reset by the server");
    }
}

/* A flow ended after its TLS-only step was made. */
static void flow_update_step(struct lf_analysis *an, struct conn *c)
{
    struct lf_model *m = &an->model;
    if (!c->tls_seq || !c->signin || c->signin > m->nsignins)
        return;
    struct lf_signin *s = &m->signins[c->signin - 1];
    for (uint32_t i = 0; i < s->nsteps; i++)
        if (s->steps[i].seq == c->tls_seq) {
            apply_flow(&s->steps[i], c);
            signin_eval(an, s);
            return;
        }
}

/* A flow event usually comes before its connection's TLS event (it starts
 * earlier): take the connection's classification from the held TLS/HTTP event. */
static void flow_from_held(struct lf_analysis *an, struct pend *p)
{
    for (size_t i = 1; i < an->count; i++) {
        const struct pend *q = ring(an, i);
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

/* ---- paths and client edges ---- */

static struct lf_path *path_get(struct lf_model *m, int l, int s)
{
    for (int i = 0; i < m->npaths; i++)
        if (m->paths[i].listener == l && m->paths[i].server == s)
            return &m->paths[i];
    if (m->npaths == LF_MODEL_MAX_PATHS)
        return NULL;
    struct lf_path *p = &m->paths[m->npaths++];
    memset(p, 0, sizeof *p);
    p->listener = l;
    p->server = s;
    return p;
}

static void path_add_name(struct lf_path *p, const char *name)
{
    if (!name[0])
        return;
    for (int i = 0; i < p->nnames; i++)
        if (lf_strcaseeq(p->names[i], name))
            return;
    if (p->nnames < 8)
        LF_SET(p->names[p->nnames++], name);
}

static void path_add_service(struct lf_path *p, const char *svc)
{
    if (!svc[0])
        return;
    for (int i = 0; i < p->nservices; i++)
        if (!strcmp(p->services[i], svc))
            return;
    if (p->nservices < 16)
        LF_SET(p->services[p->nservices++], svc);
}

static void net_of(const struct lf_addr *a, struct lf_addr *net)
{
    *net = *a;
    net->port = 0;
    if (net->family == 4)
        net->ip[3] = 0;
    else
        memset(net->ip + 8, 0, 8);
}

/* Clients per listener, one edge per /24 (/64): "198.51.100.7" or "198.51.100.0/24 (3 clients)". */
static void client_edge(struct lf_analysis *an, const struct lf_addr *client, int listener, int is_conn, int is_req)
{
    struct lf_model *m = &an->model;
    struct lf_addr net;
    net_of(client, &net);
    int i = -1;
    uint64_t h = lf_fnv(lf_fnv(LF_FNV_SEED, &listener, sizeof listener), net.ip, sizeof net.ip) ^ net.family;
    size_t b = (size_t)(h % EDGE_INDEX);
    for (; an->edge_index[b]; b = (b + 1) % EDGE_INDEX) {
        int k = an->edge_index[b] - 1;
        if (m->client_edges[k].listener == listener && ip_eq(&an->edge_net[k], &net)) {
            i = k;
            break;
        }
    }
    if (i < 0) {
        if (m->nclient_edges == LF_MODEL_MAX_CLIENT_EDGES)
            return;
        i = m->nclient_edges++;
        an->edge_index[b] = (uint16_t)(i + 1);
        memset(&m->client_edges[i], 0, sizeof m->client_edges[i]);
        m->client_edges[i].listener = listener;
        an->edge_net[i] = net;
        an->edge_nips[i] = 0;
    }
    struct lf_client_edge *e = &m->client_edges[i];
    int known = 0;
    for (int k = 0; k < an->edge_nips[i]; k++)
        known |= ip_eq(&an->edge_ips[i][k], client);
    if (!known && an->edge_nips[i] < EDGE_IPS) {
        an->edge_ips[i][an->edge_nips[i]++] = *client;
        e->clients_n = (uint64_t)an->edge_nips[i];
        char ip[64];
        if (e->clients_n == 1) {
            LF_SET(e->clients, lf_ip_format(client, ip, sizeof ip));
        } else {
            /* "%.40s/%d (%s%llu clients)" of the network, its prefix length and the count (at most 16) */
            lf_ip_format(&net, ip, sizeof ip);
            size_t len = 0;
            e->clients[0] = 0;
            append(e->clients, sizeof e->clients, &len, ip, strnlen(ip, 40));
            append(e->clients, sizeof e->clients, &len, net.family == 4 ? "/24 (" : "/64 (", 5);
            if (an->edge_nips[i] == EDGE_IPS)
                append(e->clients, sizeof e->clients, &len, ">=", 2);
            _Static_assert(EDGE_IPS < 100, "two digits");
            char d[2] = {(char)('0' + e->clients_n / 10), (char)('0' + e->clients_n % 10)};
            append(e->clients, sizeof e->clients, &len, d + (e->clients_n < 10), 2 - (e->clients_n < 10));
            append(e->clients, sizeof e->clients, &len, " clients)", 9);
        }
    }
    e->connections += (uint64_t)is_conn;
    e->requests += (uint64_t)is_req;
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

/* Roles of servers not in the topology file, from the services they answered: CertProv or WebTicket
 * alone, a Director; ABS, GroupExpansion, UCWA or RGS, a Front End. */
static void infer_roles(struct lf_analysis *an)
{
    struct lf_model *m = &an->model;
    /* names only: the simple URLs are published to the Director, so the one server that got them is
     * the Director and the others Front Ends */
    int with_simple = 0, without = 0;
    for (int i = 0; i < m->nservers; i++) {
        with_simple += an->simple_seen[i] > 0;
        without += an->simple_seen[i] == 0 && m->servers[i].observed;
    }
    for (int i = 0; i < m->nservers; i++) {
        if (m->servers[i].configured)
            continue;
        uint8_t r = m->servers[i].role;
        if (an->home_services[i])
            r = LF_ROLE_FRONTEND;
        else if (an->auth_services[i])
            r = LF_ROLE_DIRECTOR;
        else if (with_simple == 1 && without >= 1 && m->servers[i].observed)
            r = an->simple_seen[i] ? LF_ROLE_DIRECTOR : LF_ROLE_FRONTEND;
        if (m->servers[i].role != r) {
            m->servers[i].role = r;
            model_changed(an);
        }
        if (!an->configured && i < an->topo.nservers)
            an->topo.servers[i].role = (enum lf_role)r;
    }
}

/* The server an X-MS-Server-Fqdn names: "fe01.contoso.local" is server fe01 (or one of that fqdn). */
static int server_by_internal_fqdn(const struct lf_model *m, const char *fqdn)
{
    size_t label = strcspn(fqdn, ".");
    for (int i = 0; i < m->nservers; i++) {
        const char *n = m->servers[i].name;
        if (lf_strcaseeq(n, fqdn) || (strlen(n) == label && lf_strcaseprefix(fqdn, n)))
            return i;
    }
    return -1;
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
static void iis_resolve(struct lf_analysis *an, struct pend *p, uint64_t seq)
{
    if (!iis_wants_back(an, p))
        return;
    struct reqkey k;
    req_keys(p, &k);
    struct reqrec *best = best_rec(an, p, &k, LF_SIDE_BACK);
    if (!best)
        best = best_rec(an, p, &k, LF_SIDE_FRONT);
    if (!best)
        return;
    struct pend *b = pend_by_uid(an, best->uid);
    struct iisinfo x;
    memset(&x, 0, sizeof x);
    iis_fill(&x, &p->ev);
    best->matched = 1;
    p->iis_matched = p->stitched = 1;
    p->listener = b ? b->listener : best->listener;
    /* released events are numbered in the queue's order: a held one's seq is known ahead */
    p->ev.u.http.match_seq = best->seq ? best->seq : b ? seq + (b->uid - p->uid) : 0;
    if (best->step_seq)
        patch_step(an, best->signin, best->step_seq, &x);
    else if (b)
        b->iis = x;
}

/* After a request's release: its seq, and the step it shows in, for the IIS lines still to come. */
static void link_release(struct lf_analysis *an, struct pend *p, uint64_t seq, const struct lf_signin *s)
{
    struct pend *q = pend_by_uid(an, p->partner_uid);
    if (q)
        q->partner_seq = seq;
    struct reqrec *r = rec_of(an, p);
    if (r) {
        r->seq = seq;
        r->listener = p->listener;
        if (p->side == LF_SIDE_FRONT)
            r->server = p->server >= 0 ? p->server : p->named;
    }
    if (!s || p->ev.type != LF_EV_HTTP)
        return;
    /* its own step, and the step of the back request stitched to it */
    struct reqrec *rb = p->side == LF_SIDE_FRONT && !p->partner_iis ? rec_of(an, q) : NULL;
    for (int i = 0; i < 2; i++) {
        struct reqrec *x = i ? rb : r;
        if (x) {
            x->step_seq = seq;
            x->signin = s->id;
        }
    }
}

static void release_one(struct lf_analysis *an)
{
    struct pend *p = ring(an, 0);
    struct lf_model *m = &an->model;
    uint64_t seq = ++an->seq;

    pthread_mutex_lock(&m->lock);
    struct lf_event *ev = &p->ev;
    struct conn *c = conn_get(an, ev->flow_id, 1);
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
        p->server = server_by_internal_fqdn(m, ev->u.http.server_fqdn);
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
    int from_iis = is_iis(ev);
    if (from_iis) {
        if (!p->iis_matched)
            iis_resolve(an, p, seq);
        if (p->iis_matched && !ev->u.http.match_seq) {
            struct pend *q = pend_by_uid(an, p->partner_uid);
            ev->u.http.match_seq = p->partner_seq ? p->partner_seq : q ? seq + (q->uid - p->uid) : 0;
        }
        if (p->iis_matched)
            an->iis_matched++;
        else
            an->iis_unmatched++;
    } else if (p->side == LF_SIDE_FRONT && p->partner_uid && !p->partner_iis && !p->iis.have) {
        /* an IIS line matched its back leg already */
        struct pend *q = pend_by_uid(an, p->partner_uid);
        if (q && q->iis.have)
            p->iis = q->iis;
    }
    int srv = p->server;
    if (p->side == LF_SIDE_BACK && srv >= 0)
        an->server_reached[srv] = 1;
    /* what a server answered, for guessing the roles of servers not in the topology file */
    if (srv >= 0 && (p->side == LF_SIDE_BACK || p->stitched)) {
        const char *svc = ev->service;
        if (ev->type == LF_EV_HTTP && (!strcmp(svc, "certprov") || !strcmp(svc, "webticket")))
            an->auth_services[srv]++;
        else if (ev->type == LF_EV_HTTP && (!strcmp(svc, "abs") || !strcmp(svc, "groupexpansion") ||
                                            !strcmp(svc, "ucwa") || !strcmp(svc, "rgs")))
            an->home_services[srv]++;
        if (p->side == LF_SIDE_FRONT && ev->simple_url[0])
            an->simple_seen[srv]++;
    }
    infer_roles(an);
    enrich_fields(an, p);

    /* nodes */
    if (p->listener >= 0) {
        struct lf_node *n = &m->listeners[p->listener];
        n->observed = 1;
        if (p->side == LF_SIDE_FRONT) {
            node_add_name(an, n, p->name);
            if (!an->configured && p->name[0]) {
                struct lf_topo_listener *tl = &an->topo.listeners[p->listener];
                int have = 0;
                for (int k = 0; k < tl->nnames && !have; k++)
                    have = lf_strcaseeq(tl->names[k], p->name);
                if (!have && tl->nnames < LF_TOPO_MAX_NAMES)
                    LF_SET(tl->names[tl->nnames++], p->name);
            }
            n->connections += ev->type == LF_EV_TLS;
            n->requests += ev->type == LF_EV_HTTP;
        }
    }
    if (srv >= 0) {
        struct lf_node *n = &m->servers[srv];
        if (p->side == LF_SIDE_BACK) {
            n->observed = 1;
            n->connections += ev->type == LF_EV_TLS;
            /* an IIS line of a back request the capture shows is that request */
            n->requests += ev->type == LF_EV_HTTP && !(from_iis && p->iis_matched && !p->partner_uid);
        }
        if (!an->configured && !n->fqdn[0] && p->name[0] && !simple_url(an, p->name) && p->side == LF_SIDE_FRONT) {
            LF_SET(n->fqdn, p->name);
            if (srv < an->topo.nservers)
                LF_SET(an->topo.servers[srv].fqdn, p->name);
        }
    }
    int failed;
    const char *why;
    observe_failure(p, c, &failed, &why);
    /* paths: front events, to the server that answered or the one the name is published to */
    if (p->side == LF_SIDE_FRONT && ev->type != LF_EV_FLOW && p->listener >= 0) {
        int to = p->server >= 0 ? p->server : p->named;
        if (to >= 0) {
            struct lf_path *pa = path_get(m, p->listener, to);
            if (pa) {
                pa->observed = 1;
                pa->connections += ev->type == LF_EV_TLS;
                if (ev->type == LF_EV_HTTP) {
                    pa->requests++;
                    unsigned cls = ev->u.http.status / 100;
                    pa->status_class[cls <= 5 ? cls : 0]++;
                }
                path_add_name(pa, p->name);
                path_add_service(pa, ev->service);
                if (failed)
                    an->path_failing[pa - m->paths] = 1;
                pa->failing = an->path_failing[pa - m->paths];
            }
        }
        client_edge(an, &ev->client, p->listener, ev->type == LF_EV_TLS, ev->type == LF_EV_HTTP);
    }
    /* sign-in steps */
    if (ev->type == LF_EV_HTTP || ev->type == LF_EV_TLS) {
        int make = p->side == LF_SIDE_FRONT ||
                   (p->side == LF_SIDE_BACK && !p->stitched && (from_iis || !an->front_seen));
        link_release(an, p, seq, make ? add_step(an, p, seq) : NULL);
        if (c && ev->type == LF_EV_HTTP)
            c->http_seen = 1;
    } else if (ev->type == LF_EV_FLOW && c) {
        flow_update_step(an, c);
    }
    struct lf_obs o = {ev, (enum lf_side)p->side, p->listener, p->server, p->named, p->name, failed, why};
    if (p->side != LF_SIDE_NONE)
        lf_findings_observe(an->findings, &o);
    if (ev->ts - an->last_findings > FINDINGS_EVERY_US) {
        an->last_findings = ev->ts;
        eval_findings(an);
    }
    if ((ev->type == LF_EV_HTTP || ev->type == LF_EV_TLS) && !from_iis) {
        if (!m->capture_first || ev->ts < m->capture_first)
            m->capture_first = ev->ts;
        if (ev->ts > m->capture_last)
            m->capture_last = ev->ts;
    }
    m->events++;
    model_changed(an);
    pthread_mutex_unlock(&m->lock);

    forward(an, ev);
    an->descents -= p->descent;
    an->held_iis -= (size_t)from_iis;
    open_del(an, p);
    an->head = (an->head + 1) % HOLD;
    an->count--;
}

static void release_due(struct lf_analysis *an, int all)
{
    while (an->count > 0) {
        struct pend *p = ring(an, 0);
        if (!all && an->count < HOLD && an->latest - p->ev.ts <= STITCH_WINDOW_US)
            break;
        release_one(an);
    }
}

/* ---- public ---- */

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
        for (int i = 0; i < topo->nlisteners; i++) {
            struct lf_node *n = &m->listeners[m->nlisteners++];
            LF_SET(n->name, topo->listeners[i].name);
            n->addr = topo->listeners[i].addr;
            n->role = LF_ROLE_PROXY;
            n->configured = 1;
        }
        for (int i = 0; i < topo->nservers; i++) {
            struct lf_node *n = &m->servers[m->nservers++];
            LF_SET(n->name, topo->servers[i].name);
            n->addr = topo->servers[i].addr;
            n->role = (uint8_t)topo->servers[i].role;
            LF_SET(n->fqdn, topo->servers[i].fqdn);
            n->configured = 1;
        }
        for (int i = 0; i < topo->nlisteners; i++)
            for (int k = 0; k < topo->listeners[i].nnames; k++) {
                const char *name = topo->listeners[i].names[k];
                node_add_name(an, &m->listeners[i], name);
                const struct lf_topo_server *ts = lf_topology_server_for_name(&an->topo, name);
                int s = ts ? find_server_name(m, ts->name) : -1;
                if (s >= 0) {
                    struct lf_path *pa = path_get(m, i, s);
                    if (pa) {
                        pa->configured = 1;
                        path_add_name(pa, name);
                    }
                }
            }
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
    if (an->count == HOLD)
        release_one(an);
    struct pend *p = ring(an, an->count);
    p->stitched = p->partner_iis = p->iis_matched = 0;
    p->partner_uid = p->partner_seq = 0;
    memset(p->name, 0, sizeof p->name);
    memset(&p->partner, 0, sizeof p->partner);
    memset(&p->iis, 0, sizeof p->iis);
    lf_event_copy(&p->ev, in); /* the slot keeps its text block for the next event */
    an->truncated += in->truncated != 0;
    struct lf_event *ev = &p->ev;
    p->uid = ++an->uids;
    p->side = LF_SIDE_NONE;
    p->listener = p->server = p->named = p->rec = -1;
    p->set_listener = p->set_server = -2;
    if (ev->ts > an->latest)
        an->latest = ev->ts;
    pthread_mutex_lock(&an->model.lock);
    if (ev->type == LF_EV_FLOW || ev->type == LF_EV_TLS || ev->type == LF_EV_HTTP) {
        classify(an, ev, p);
        if (ev->type != LF_EV_FLOW) {
            if (p->side == LF_SIDE_FRONT)
                an->front_seen = 1;
            if (p->side == LF_SIDE_BACK && !is_iis(ev))
                an->back_seen = 1;
        }
    }
    p->ts = ev->ts;
    p->type = ev->type;
    p->descent = an->count > 0 && ev->ts < ring(an, an->count - 1)->ts;
    an->descents += p->descent;
    enrich(an, p);
    p->name_hash = fnv(LF_FNV_SEED, p->name);
    p->hashed = 0;
    open_add(an, p);
    an->count++;
    an->held_iis += (size_t)is_iis(ev);
    if (ev->type == LF_EV_HTTP && !is_iis(ev) && (p->side == LF_SIDE_FRONT || p->server >= 0)) {
        if (p->side == LF_SIDE_BACK)
            an->back_http[p->server] = 1;
        if (p->side == LF_SIDE_BACK || p->side == LF_SIDE_FRONT)
            rec_add(an, p);
    }
    stitch(an, p);
    if (an->held_iis)
        stitch_front_late(an, p);
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

void lf_signin_event(const struct lf_signin *s, struct lf_event *ev)
{
    lf_event_init(ev, LF_EV_SIGNIN, s->start);
    ev->client = s->client;
    ev->u.signin.end = s->end;
    ev->u.signin.user = s->user; /* borrowed from the model, which outlives the event */
    ev->u.signin.steps = s->nsteps;
    LF_SET(ev->u.signin.phase, s->phase);
    ev->u.signin.verdict = s->verdict;
    ev->u.signin.reason = s->reason;
}

void lf_analysis_finish(struct lf_analysis *an, const struct lf_ev_stats *stats)
{
    release_due(an, 1);
    struct lf_model *m = &an->model;
    pthread_mutex_lock(&m->lock);
    infer_roles(an);
    /* sign-ins left empty when their only TLS step went to another one */
    uint32_t kept = 0;
    for (uint32_t i = 0; i < m->nsignins; i++) {
        if (!m->signins[i].nsteps) {
            free(m->signins[i].steps);
            continue;
        }
        m->signins[kept] = m->signins[i];
        m->signins[kept].id = kept + 1;
        kept++;
    }
    m->nsignins = kept;
    memset(an->client_last, 0, sizeof an->client_last);
    for (uint32_t i = 0; i < m->nsignins; i++) {
        size_t b = client_bucket(&m->signins[i].client);
        an->client_prev[i] = an->client_last[b];
        an->client_last[b] = i + 1;
    }
    for (uint32_t i = 0; i < m->nsignins; i++)
        signin_eval(an, &m->signins[i]);
    eval_findings(an);
    m->stats = *stats;
    m->stats.stitched = m->stitched;
    m->stats.iis_matched = an->iis_matched;
    m->stats.iis_unmatched = an->iis_unmatched;
    m->stats.truncated = an->truncated;
    m->finished = 1;
    model_changed(an);
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
    for (size_t i = 0; an->hold && i < HOLD; i++)
        lf_event_release(&an->hold[i].ev);
    free(an->hold);
    free(an->client_prev);
    free(an);
}
