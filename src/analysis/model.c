/* model.c: the model's listeners, servers, paths and client edges, as configured and as released events show them.
 *
 * Nodes made from the traffic are mirrored into an inferred topology. Paths
 * (listener -> server) count connections, requests and status classes and
 * the names and services they carried; client edges aggregate clients by
 * /24 (/64). Callers hold model.lock; the findings are evaluated here too.
 */
#include <stdio.h>
#include <string.h>

#include "analysis_int.h"

/* Findings from scratch: paths fail from what was observed, then from findings. Lock held. */
void an_eval_findings(struct lf_analysis *an)
{
    for (int i = 0; i < an->model.npaths; i++)
        an->model.paths[i].failing = an->path_failing[i];
    lf_findings_eval(an->findings, &an->model, &an->topo);
}

/* New listener node (observed); mirrored into an inferred topology. Caller holds the lock. */
int an_add_listener(struct lf_analysis *an, const struct lf_addr *a)
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

int an_add_server(struct lf_analysis *an, const struct lf_addr *a, const char *name)
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
    if (an_simple_url(an, name))
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
        if (m->client_edges[k].listener == listener && an_ip_eq(&an->edge_net[k], &net)) {
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
        known |= an_ip_eq(&an->edge_ips[i][k], client);
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
            an_append(e->clients, sizeof e->clients, &len, ip, strnlen(ip, 40));
            an_append(e->clients, sizeof e->clients, &len, net.family == 4 ? "/24 (" : "/64 (", 5);
            if (an->edge_nips[i] == EDGE_IPS)
                an_append(e->clients, sizeof e->clients, &len, ">=", 2);
            _Static_assert(EDGE_IPS < 100, "two digits");
            char d[2] = {(char)('0' + e->clients_n / 10), (char)('0' + e->clients_n % 10)};
            an_append(e->clients, sizeof e->clients, &len, d + (e->clients_n < 10), 2 - (e->clients_n < 10));
            an_append(e->clients, sizeof e->clients, &len, " clients)", 9);
        }
    }
    e->connections += (uint64_t)is_conn;
    e->requests += (uint64_t)is_req;
}

/* The configured topology's listeners, servers and the paths its names are published on. */
void an_model_configure(struct lf_analysis *an, const struct lf_topology *topo)
{
    struct lf_model *m = &an->model;
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
            int s = ts ? an_find_server_name(m, ts->name) : -1;
            if (s >= 0) {
                struct lf_path *pa = path_get(m, i, s);
                if (pa) {
                    pa->configured = 1;
                    path_add_name(pa, name);
                }
            }
        }
}

/* A released event on its listener and server: observed, names served, connections and requests. */
void an_model_nodes(struct lf_analysis *an, const struct pend *p, int srv, int from_iis)
{
    struct lf_model *m = &an->model;
    const struct lf_event *ev = &p->ev;
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
        if (!an->configured && !n->fqdn[0] && p->name[0] && !an_simple_url(an, p->name) && p->side == LF_SIDE_FRONT) {
            LF_SET(n->fqdn, p->name);
            if (srv < an->topo.nservers)
                LF_SET(an->topo.servers[srv].fqdn, p->name);
        }
    }
}

/* A released front event on its path, to the server that answered or the one the name is published to,
 * and on its client edge. failed: the event shows a failure (the path fails from then on). */
void an_model_paths(struct lf_analysis *an, const struct pend *p, int failed)
{
    struct lf_model *m = &an->model;
    const struct lf_event *ev = &p->ev;
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
}
