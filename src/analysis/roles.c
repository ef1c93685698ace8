/* roles.c: which side an event is on and which listener or server it concerns, and the roles of servers.
 *
 * An event is front (client -> listener) or back (proxy -> server, or an IIS
 * log line of a server) from the topology, or, without one, from the traffic:
 * back legs are the connections that repeat a held client request or TLS
 * name on another address (an_stitch_candidate), or go to 4443/8080. Roles of
 * servers not in the topology file are inferred from the services they
 * answered. Also the lookups of nodes by address and name. Lock held.
 */
#include <string.h>

#include "analysis_int.h"

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
void an_name_of(const struct lf_event *ev, char *out, size_t size)
{
    const char *s = ev_name(ev);
    char stop = s[0] == '[' ? 0 : ':';
    size_t i = 0;
    for (; i + 1 < size && s[i] && s[i] != stop; i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    out[i] = 0;
}

/* The same endpoint (address and port), the same address. */
int an_addr_eq(const struct lf_addr *a, const struct lf_addr *b)
{
    if (a->family != b->family || a->port != b->port)
        return 0;
    return a->family == 4 ? memcmp(a->ip, b->ip, 4) == 0 : memcmp(a->ip, b->ip, 16) == 0;
}

int an_ip_eq(const struct lf_addr *a, const struct lf_addr *b)
{
    if (a->family != b->family)
        return 0;
    return a->family == 4 ? memcmp(a->ip, b->ip, 4) == 0 : memcmp(a->ip, b->ip, 16) == 0;
}

const char *an_simple_url(const struct lf_analysis *an, const char *name)
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

int an_find_listener(const struct lf_model *m, const struct lf_addr *a)
{
    for (int i = 0; i < m->nlisteners; i++)
        if (an_addr_eq(&m->listeners[i].addr, a))
            return i;
    return -1;
}

static int find_server_addr(const struct lf_model *m, const struct lf_addr *a)
{
    if (!a->family)
        return -1;
    for (int i = 0; i < m->nservers; i++)
        if (an_addr_eq(&m->servers[i].addr, a))
            return i;
    return -1;
}

int an_find_server_name(const struct lf_model *m, const char *name)
{
    for (int i = 0; i < m->nservers; i++)
        if (strcmp(m->servers[i].name, name) == 0)
            return i;
    return -1;
}

static int ip_used_by(const struct lf_node *nodes, int n, const struct lf_addr *a)
{
    for (int i = 0; i < n; i++)
        if (an_ip_eq(&nodes[i].addr, a))
            return i;
    return -1;
}

/* Decides side, listener and server of a capture event. Caller holds the lock. */
void an_classify(struct lf_analysis *an, const struct lf_event *ev, struct pend *p)
{
    struct lf_model *m = &an->model;
    p->side = LF_SIDE_NONE;
    p->listener = p->server = -1;
    if (ev->type == LF_EV_HTTP && strcmp(ev->u.http.source, "iis") == 0) {
        p->side = LF_SIDE_BACK;
        int s = -1;
        if (ev->u.http.log_server[0])
            s = an_find_server_name(m, ev->u.http.log_server);
        if (s < 0)
            s = find_server_addr(m, &ev->server);
        if (s < 0) {
            s = an_add_server(an, &ev->server, ev->u.http.log_server);
            if (s >= 0)
                an_model_changed(an);
        }
        p->server = s;
        return;
    }
    int l = an_find_listener(m, &ev->server);
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
        back = an_stitch_candidate(an, ev, -1, 1) >= 0;
    if (back) {
        /* the same machine as a known server on another port is that server (a wrong bridge, say) */
        p->server = si >= 0 ? si : an_add_server(an, &ev->server, NULL);
        p->side = p->server >= 0 ? LF_SIDE_BACK : LF_SIDE_NONE;
    } else {
        p->listener = an_add_listener(an, &ev->server);
        p->side = p->listener >= 0 ? LF_SIDE_FRONT : LF_SIDE_NONE;
    }
    an_model_changed(an);
}

/* Roles of servers not in the topology file, from the services they answered: CertProv or WebTicket
 * alone, a Director; ABS, GroupExpansion, UCWA or RGS, a Front End. */
void an_infer_roles(struct lf_analysis *an)
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
            an_model_changed(an);
        }
        if (!an->configured && i < an->topo.nservers)
            an->topo.servers[i].role = (enum lf_role)r;
    }
}

/* The server an X-MS-Server-Fqdn names: "fe01.contoso.local" is server fe01 (or one of that fqdn). */
int an_server_by_internal_fqdn(const struct lf_model *m, const char *fqdn)
{
    size_t label = strcspn(fqdn, ".");
    for (int i = 0; i < m->nservers; i++) {
        const char *n = m->servers[i].name;
        if (lf_strcaseeq(n, fqdn) || (strlen(n) == label && lf_strcaseprefix(fqdn, n)))
            return i;
    }
    return -1;
}

/* What a released event's server answered, for guessing the roles of servers not in the topology file. */
void an_role_evidence(struct lf_analysis *an, const struct pend *p, int srv)
{
    const struct lf_event *ev = &p->ev;
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
}
