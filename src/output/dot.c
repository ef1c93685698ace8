/* dot.c: the listener-to-server diagram: a libcgraph graph written as DOT, rendered to SVG/PNG by libgvc. */
#include "lyncflow/dot.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cgraph.h>
#include <gvc.h>

#include "lyncflow/util.h"

#define FONT "Helvetica"
#define MAX_NAMES_SHOWN 12 /* per listener; the rest is counted */
#define MAX_CLIENT_NODES 6
#define PNG_DPI "144"

/* A growing text buffer for labels. */
struct buf {
    char *p;
    size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    b->p = lf_xrealloc(b->p, cap);
    b->cap = cap;
}

static void buf_add(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    buf_reserve(b, n);
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

static void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Text that came from the wire (SNI, Host) goes into HTML-like labels escaped;
 * bytes outside printable ASCII become '?'. At most max bytes are read. */
static void buf_html(struct buf *b, const char *s, size_t max)
{
    for (size_t i = 0; i < max && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': buf_add(b, "&amp;"); break;
        case '<': buf_add(b, "&lt;"); break;
        case '>': buf_add(b, "&gt;"); break;
        case '"': buf_add(b, "&quot;"); break;
        case '\'': buf_add(b, "&#39;"); break;
        default: {
            char ch[2] = {(char)(c >= 0x20 && c < 0x7f ? c : '?'), 0};
            buf_add(b, ch);
        }
        }
    }
}

/* Plain attribute values (lf_* metadata): printable ASCII only. */
static void buf_plain(struct buf *b, const char *s, size_t max)
{
    for (size_t i = 0; i < max && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        char ch[2] = {(char)(c >= 0x20 && c < 0x7f ? c : '?'), 0};
        buf_add(b, ch);
    }
}

static void buf_clear(struct buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = 0;
}

static const char *buf_str(struct buf *b)
{
    return b->p ? b->p : "";
}

static void set(void *obj, const char *name, const char *value)
{
    agsafeset(obj, (char *)name, (char *)value, "");
}

/* Every HTML label holds a tag, so that its text never equals a plain
 * attribute value (cgraph shares one string table for both). */
static void set_html(void *obj, const char *name, const char *html)
{
    Agraph_t *g = agraphof(obj);
    char *s = agstrdup_html(g, (char *)html);
    agsafeset(obj, (char *)name, s, "");
    agstrfree(g, s);
}

static void set_u64(void *obj, const char *name, uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)v);
    set(obj, name, s);
}

/* ---- ordering ---- */

static int role_rank(int role)
{
    switch (role) {
    case LF_ROLE_DIRECTOR: return 0;
    case LF_ROLE_FRONTEND: return 1;
    case LF_ROLE_EDGE: return 2;
    default: return 3;
    }
}

static const char *role_title(int rank)
{
    static const char *const titles[] = {"Director", "Front End", "Edge", "Other servers"};
    return titles[rank];
}

static const char *role_label(int role)
{
    switch (role) {
    case LF_ROLE_DIRECTOR: return "Director";
    case LF_ROLE_FRONTEND: return "Front End";
    case LF_ROLE_EDGE: return "Edge";
    case LF_ROLE_OTHER: return "other";
    default: return "role unknown";
    }
}

static const char *role_cluster(int rank)
{
    static const char *const names[] = {"cluster_director", "cluster_frontend", "cluster_edge", "cluster_other"};
    return names[rank];
}

static const char *role_fill(int rank)
{
    static const char *const fills[] = {"#fff4d6", "#e3f2e1", "#ece3f5", "#eeeeee"};
    return fills[rank];
}

static int addr_cmp(const struct lf_addr *a, const struct lf_addr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    int c = memcmp(a->ip, b->ip, sizeof a->ip);
    if (c)
        return c;
    return a->port < b->port ? -1 : a->port > b->port;
}

static int node_cmp(const struct lf_node *a, const struct lf_node *b)
{
    int c = strcmp(a->name, b->name);
    return c ? c : addr_cmp(&a->addr, &b->addr);
}

static int listener_cmp(const struct lf_model *m, int a, int b)
{
    return node_cmp(&m->listeners[a], &m->listeners[b]);
}

static int server_cmp(const struct lf_model *m, int a, int b)
{
    int ra = role_rank(m->servers[a].role), rb = role_rank(m->servers[b].role);
    if (ra != rb)
        return ra - rb;
    return node_cmp(&m->servers[a], &m->servers[b]);
}

static void sort_idx(const struct lf_model *m, int *idx, int n, int (*cmp)(const struct lf_model *, int, int))
{
    for (int i = 1; i < n; i++) {
        int v = idx[i], j = i;
        while (j > 0 && (cmp(m, idx[j - 1], v) > 0 || (cmp(m, idx[j - 1], v) == 0 && idx[j - 1] > v))) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
}

static int clampi(int v, int max)
{
    return v < 0 ? 0 : v > max ? max : v;
}

/* ---- building the graph ---- */

struct build {
    const struct lf_model *m;
    Agraph_t *g;
    Agnode_t *listener[LF_TOPO_MAX_LISTENERS];
    Agnode_t *server[LF_TOPO_MAX_SERVERS];
    Agnode_t *nowhere; /* "no server reached", made on demand */
    int lpos[LF_TOPO_MAX_LISTENERS], spos[LF_TOPO_MAX_SERVERS]; /* sorted positions */
    struct buf a, b;
};

/* A node id that is stable and unique: PREFIX:NAME, or PREFIX:ADDRESS when
 * the name is empty, with #N appended on a clash. */
static Agnode_t *new_node(struct build *bd, Agraph_t *sub, const char *prefix, const struct lf_node *n, int pos)
{
    char id[128], addr[64];
    lf_addr_format(&n->addr, addr, sizeof addr);
    snprintf(id, sizeof id, "%s:%.*s", prefix, (int)sizeof n->name, n->name[0] ? n->name : addr);
    if (agnode(bd->g, id, 0)) {
        size_t l = strlen(id);
        snprintf(id + l, sizeof id - l, "#%d", pos);
    }
    return agnode(sub, id, 1);
}

static void style_unobserved(Agnode_t *n, const struct lf_node *ln)
{
    if (ln->configured && !ln->observed) {
        set(n, "style", "rounded,filled,dashed");
        set(n, "color", "gray50");
        set(n, "fontcolor", "gray40");
    }
}

/* The names of one kind (-1: all), in the given order, ',' joined. */
static void name_list(struct buf *out, const struct lf_node *n, const int *order, int nn, int kind)
{
    int first = 1;
    for (int k = 0; k < nn; k++) {
        int i = order[k];
        if (kind >= 0 && n->name_kind[i] != kind)
            continue;
        if (!first)
            buf_add(out, ",");
        first = 0;
        buf_plain(out, n->names[i], sizeof n->names[i]);
    }
}

/* The last line of a listener or server: its traffic, or that it had none. */
static void counts_row(struct buf *h, const struct lf_node *n)
{
    if (n->observed)
        buf_addf(h, "<TR><TD ALIGN=\"LEFT\"><FONT POINT-SIZE=\"9\" COLOR=\"gray35\">%llu conn, %llu req</FONT>"
                    "</TD></TR>",
                 (unsigned long long)n->connections, (unsigned long long)n->requests);
    else if (n->configured)
        buf_add(h, "<TR><TD ALIGN=\"LEFT\"><FONT POINT-SIZE=\"9\" COLOR=\"gray35\"><I>configured, no traffic</I>"
                   "</FONT></TD></TR>");
}

static void add_listener(struct build *bd, Agraph_t *proxy, int li)
{
    const struct lf_node *n = &bd->m->listeners[li];
    char addr[64];
    lf_addr_format(&n->addr, addr, sizeof addr);
    Agnode_t *node = new_node(bd, proxy, "listener", n, bd->lpos[li]);
    bd->listener[li] = node;

    /* names sorted, simple URLs and web services FQDNs marked */
    int nn = clampi(n->nnames, LF_TOPO_MAX_NAMES), order[LF_TOPO_MAX_NAMES];
    for (int i = 0; i < nn; i++)
        order[i] = i;
    for (int i = 1; i < nn; i++)
        for (int j = i; j > 0 && strcmp(n->names[order[j - 1]], n->names[order[j]]) > 0; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }

    struct buf *h = &bd->a;
    buf_clear(h);
    buf_add(h, "<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"1\">");
    buf_add(h, "<TR><TD ALIGN=\"LEFT\"><B>");
    buf_html(h, n->name[0] ? n->name : "listener", sizeof n->name);
    buf_add(h, "</B></TD></TR><TR><TD ALIGN=\"LEFT\">");
    buf_html(h, addr, sizeof addr);
    buf_add(h, "</TD></TR>");
    for (int k = 0; k < nn; k++) {
        int i = order[k];
        if (k == MAX_NAMES_SHOWN) {
            buf_addf(h, "<TR><TD ALIGN=\"LEFT\"><I>and %d more</I></TD></TR>", nn - k);
            break;
        }
        const char *mark = n->name_kind[i] == 1 ? "simple URL" : n->name_kind[i] == 2 ? "web services" : "";
        const char *color = n->name_kind[i] == 1 ? "#1b6e20" : n->name_kind[i] == 2 ? "#1f4e9e" : "black";
        buf_addf(h, "<TR><TD ALIGN=\"LEFT\"><FONT COLOR=\"%s\">", color);
        buf_html(h, n->names[i], sizeof n->names[i]);
        buf_add(h, "</FONT>");
        if (*mark)
            buf_addf(h, " <FONT POINT-SIZE=\"9\" COLOR=\"gray35\"><I>%s</I></FONT>", mark);
        buf_add(h, "</TD></TR>");
    }
    counts_row(h, n);
    buf_add(h, "</TABLE>");
    set_html(node, "label", buf_str(h));

    set(node, "lf_kind", "listener");
    set(node, "lf_addr", addr);
    buf_clear(h);
    name_list(h, n, order, nn, -1);
    set(node, "lf_names", buf_str(h));
    buf_clear(h);
    name_list(h, n, order, nn, 1);
    set(node, "lf_simple_urls", buf_str(h));
    buf_clear(h);
    name_list(h, n, order, nn, 2);
    set(node, "lf_web_fqdns", buf_str(h));
    style_unobserved(node, n);
}

static void add_server(struct build *bd, Agraph_t *cluster, int si)
{
    const struct lf_node *n = &bd->m->servers[si];
    char addr[64];
    lf_addr_format(&n->addr, addr, sizeof addr);
    Agnode_t *node = new_node(bd, cluster, "server", n, bd->spos[si]);
    bd->server[si] = node;
    const char *role = lf_role_name((enum lf_role)n->role);

    struct buf *h = &bd->a;
    buf_clear(h);
    buf_add(h, "<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"1\">");
    buf_add(h, "<TR><TD ALIGN=\"LEFT\"><B>");
    buf_html(h, n->name[0] ? n->name : "server", sizeof n->name);
    buf_addf(h, "</B> <FONT POINT-SIZE=\"9\"><I>%s</I></FONT></TD></TR>", role_label(n->role));
    if (n->addr.family) {
        buf_add(h, "<TR><TD ALIGN=\"LEFT\">");
        buf_html(h, addr, sizeof addr);
        buf_add(h, "</TD></TR>");
    }
    if (n->fqdn[0]) {
        buf_add(h, "<TR><TD ALIGN=\"LEFT\"><FONT COLOR=\"#1f4e9e\">");
        buf_html(h, n->fqdn, sizeof n->fqdn);
        buf_add(h, "</FONT></TD></TR>");
    }
    counts_row(h, n);
    buf_add(h, "</TABLE>");
    set_html(node, "label", buf_str(h));

    set(node, "lf_kind", "server");
    set(node, "lf_role", *role ? role : "other");
    set(node, "lf_addr", addr);
    buf_clear(h);
    buf_plain(h, n->fqdn, sizeof n->fqdn);
    set(node, "lf_fqdn", buf_str(h));
    style_unobserved(node, n);
}

static Agnode_t *nowhere_node(struct build *bd)
{
    if (!bd->nowhere) {
        bd->nowhere = agnode(bd->g, "server:(none)", 1);
        set_html(bd->nowhere, "label", "<I>no server reached</I>");
        set(bd->nowhere, "style", "rounded,filled,dashed");
        set(bd->nowhere, "color", "red");
        set(bd->nowhere, "fontcolor", "red");
        set(bd->nowhere, "lf_kind", "none");
    }
    return bd->nowhere;
}

static void status_mix(struct buf *out, const struct lf_path *p, int plain)
{
    static const char *const cls[] = {"no response", "1xx", "2xx", "3xx", "4xx", "5xx"};
    static const char *const key[] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
    int first = 1;
    for (int c = 1; c <= 6; c++) {
        int i = c % 6; /* 1xx..5xx, then no response */
        if (!p->status_class[i])
            continue;
        if (plain)
            buf_addf(out, "%s%s=%llu", first ? "" : ",", key[i], (unsigned long long)p->status_class[i]);
        else
            buf_addf(out, "%s%s %llu", first ? "" : ", ", cls[i], (unsigned long long)p->status_class[i]);
        first = 0;
    }
}

static void add_path(struct build *bd, const struct lf_path *p)
{
    Agnode_t *t = bd->listener[p->listener];
    Agnode_t *h = (p->server >= 0 && p->server < bd->m->nservers) ? bd->server[p->server] : nowhere_node(bd);
    Agedge_t *e = agedge(bd->g, t, h, NULL, 1);
    int nn = clampi(p->nnames, 8), ns = clampi(p->nservices, 16);
    int unused = p->configured && !p->observed;

    struct buf *l = &bd->a;
    buf_clear(l);
    buf_add(l, "<FONT POINT-SIZE=\"9\">");
    for (int i = 0; i < nn; i++) {
        buf_html(l, p->names[i], sizeof p->names[i]);
        buf_add(l, "<BR/>");
    }
    if (ns) {
        buf_add(l, "<I>");
        for (int i = 0; i < ns; i++) {
            if (i)
                buf_add(l, i % 4 ? ", " : ",<BR/>");
            buf_html(l, p->services[i], sizeof p->services[i]);
        }
        buf_add(l, "</I><BR/>");
    }
    if (unused) {
        buf_add(l, "<I>configured, not used</I>");
    } else {
        buf_addf(l, "%llu conn, %llu req", (unsigned long long)p->connections, (unsigned long long)p->requests);
        struct buf mix = {0};
        status_mix(&mix, p, 0);
        if (mix.len) {
            buf_add(l, "<BR/>");
            buf_add(l, buf_str(&mix));
        }
        free(mix.p);
    }
    if (p->finding_codes[0]) {
        buf_addf(l, "<BR/><FONT COLOR=\"%s\"><B>", p->failing ? "red" : "#a05a00");
        int ncodes = 0; /* two codes a line */
        for (size_t i = 0; i < sizeof p->finding_codes && p->finding_codes[i]; i++) {
            char c[2] = {p->finding_codes[i], 0};
            if (c[0] == ',')
                buf_add(l, ++ncodes % 2 ? ", " : ",<BR/>");
            else
                buf_html(l, c, 1);
        }
        buf_add(l, "</B></FONT>");
    }
    buf_add(l, "</FONT>");
    set_html(e, "label", buf_str(l));

    buf_clear(l);
    for (int i = 0; i < nn; i++) {
        if (i)
            buf_add(l, ",");
        buf_plain(l, p->names[i], sizeof p->names[i]);
    }
    set(e, "lf_names", buf_str(l));
    buf_clear(l);
    for (int i = 0; i < ns; i++) {
        if (i)
            buf_add(l, ",");
        buf_plain(l, p->services[i], sizeof p->services[i]);
    }
    set(e, "lf_services", buf_str(l));
    set_u64(e, "lf_requests", p->requests);
    set_u64(e, "lf_connections", p->connections);
    buf_clear(l);
    status_mix(l, p, 1);
    set(e, "lf_status", buf_str(l));
    buf_clear(l);
    buf_plain(l, p->finding_codes, sizeof p->finding_codes);
    set(e, "lf_codes", buf_str(l));
    set(e, "lf_state", p->failing ? "failing" : unused ? "unused" : "used");

    if (unused)
        set(e, "style", "dashed");
    if (p->failing) {
        set(e, "color", "red");
        set(e, "fontcolor", "red");
        set(e, "penwidth", "2");
    } else if (!unused) {
        set(e, "penwidth", "1.5");
    }
}

static int path_cmp(struct build *bd, const struct lf_path *a, const struct lf_path *b)
{
    if (bd->lpos[a->listener] != bd->lpos[b->listener])
        return bd->lpos[a->listener] - bd->lpos[b->listener];
    int sa = (a->server >= 0 && a->server < bd->m->nservers) ? bd->spos[a->server] : LF_TOPO_MAX_SERVERS;
    int sb = (b->server >= 0 && b->server < bd->m->nservers) ? bd->spos[b->server] : LF_TOPO_MAX_SERVERS;
    return sa - sb;
}

/* The network of a client edge: its text up to " (N clients)". The analysis
 * counts clients per listener, so one network may carry several counts. */
static size_t client_key(const struct lf_client_edge *ce)
{
    size_t n = strnlen(ce->clients, sizeof ce->clients);
    for (size_t i = 0; i + 1 < n; i++)
        if (ce->clients[i] == ' ' && ce->clients[i + 1] == '(')
            return i;
    return n;
}

static int client_key_cmp(const struct lf_client_edge *a, const struct lf_client_edge *b)
{
    size_t la = client_key(a), lb = client_key(b);
    int c = memcmp(a->clients, b->clients, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

static int client_cmp(struct build *bd, const struct lf_client_edge *a, const struct lf_client_edge *b)
{
    int c = client_key_cmp(a, b);
    return c ? c : bd->lpos[a->listener] - bd->lpos[b->listener];
}

static void client_edge_out(struct build *bd, Agnode_t *from, int listener, uint64_t clients, uint64_t conns,
                            uint64_t reqs)
{
    Agedge_t *e = agedge(bd->g, from, bd->listener[listener], NULL, 1);
    struct buf *h = &bd->a;
    buf_clear(h);
    buf_add(h, "<FONT POINT-SIZE=\"9\">");
    if (clients > 1)
        buf_addf(h, "%llu clients<BR/>", (unsigned long long)clients);
    buf_addf(h, "%llu conn, %llu req</FONT>", (unsigned long long)conns, (unsigned long long)reqs);
    set_html(e, "label", buf_str(h));
    set_u64(e, "lf_clients", clients);
    set_u64(e, "lf_connections", conns);
    set_u64(e, "lf_requests", reqs);
}

/* One node per client network (the analysis aggregates by /24 or /64), its
 * edges carrying the clients, connections and requests per listener. Beyond
 * MAX_CLIENT_NODES networks the busiest keep their node and the rest share
 * one "other clients" node. */
static void add_clients(struct build *bd, Agraph_t *cl)
{
    const struct lf_model *m = bd->m;
    int n = clampi(m->nclient_edges, LF_MODEL_MAX_CLIENT_EDGES), idx[LF_MODEL_MAX_CLIENT_EDGES], k = 0;
    int nl = clampi(m->nlisteners, LF_TOPO_MAX_LISTENERS);
    for (int i = 0; i < n; i++)
        if (m->client_edges[i].listener >= 0 && m->client_edges[i].listener < nl)
            idx[k++] = i;
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && client_cmp(bd, &m->client_edges[idx[j - 1]], &m->client_edges[idx[j]]) > 0; j--) {
            int t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    /* networks: runs of one key in the sorted edges */
    int group[LF_MODEL_MAX_CLIENT_EDGES], ng = 0;
    uint64_t weight[LF_MODEL_MAX_CLIENT_EDGES], most[LF_MODEL_MAX_CLIENT_EDGES];
    for (int i = 0; i < k; i++) {
        const struct lf_client_edge *ce = &m->client_edges[idx[i]];
        if (i == 0 || client_key_cmp(ce, &m->client_edges[idx[i - 1]]) != 0) {
            weight[ng] = most[ng] = 0;
            ng++;
        }
        group[i] = ng - 1;
        weight[ng - 1] += ce->connections + ce->requests;
        if (ce->clients_n > most[ng - 1])
            most[ng - 1] = ce->clients_n;
    }
    uint8_t keep[LF_MODEL_MAX_CLIENT_EDGES];
    memset(keep, 1, sizeof keep);
    if (ng > MAX_CLIENT_NODES) {
        int order[LF_MODEL_MAX_CLIENT_EDGES];
        for (int g = 0; g < ng; g++)
            order[g] = g;
        for (int i = 1; i < ng; i++)
            for (int j = i; j > 0 && weight[order[j - 1]] < weight[order[j]]; j--) {
                int t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
        for (int i = MAX_CLIENT_NODES - 1; i < ng; i++)
            keep[order[i]] = 0;
    }
    uint64_t o_clients[LF_TOPO_MAX_LISTENERS] = {0}, o_conns[LF_TOPO_MAX_LISTENERS] = {0},
             o_reqs[LF_TOPO_MAX_LISTENERS] = {0}, other_clients = 0;
    uint8_t other_to[LF_TOPO_MAX_LISTENERS] = {0};
    int other_groups = 0;
    for (int i = 0; i < k; i++) {
        const struct lf_client_edge *ce = &m->client_edges[idx[i]];
        int g = group[i], first = i == 0 || group[i - 1] != g;
        if (!keep[g]) {
            if (first) {
                other_groups++;
                other_clients += most[g];
            }
            other_to[ce->listener] = 1;
            o_clients[ce->listener] += ce->clients_n;
            o_conns[ce->listener] += ce->connections;
            o_reqs[ce->listener] += ce->requests;
            continue;
        }
        struct buf *b = &bd->b;
        buf_clear(b);
        buf_add(b, "clients:");
        buf_plain(b, ce->clients, client_key(ce));
        Agnode_t *node = agnode(bd->g, (char *)buf_str(b), 0);
        if (!node) {
            node = agnode(cl, (char *)buf_str(b), 1);
            struct buf *h = &bd->a;
            buf_clear(h);
            buf_add(h, "<B>");
            buf_html(h, ce->clients, client_key(ce));
            buf_add(h, "</B>");
            set_html(node, "label", buf_str(h));
            set(node, "lf_kind", "clients");
            set_u64(node, "lf_clients_n", most[g]);
        }
        client_edge_out(bd, node, ce->listener, ce->clients_n, ce->connections, ce->requests);
    }
    if (!other_groups)
        return;
    Agnode_t *node = agnode(cl, "clients:(other)", 1);
    struct buf *h = &bd->a;
    buf_clear(h);
    buf_addf(h, "<B>other clients</B><BR/><FONT POINT-SIZE=\"9\">%d networks</FONT>", other_groups);
    set_html(node, "label", buf_str(h));
    set(node, "lf_kind", "clients");
    set_u64(node, "lf_clients_n", other_clients);
    for (int i = 0; i < nl; i++) {
        int li = -1;
        for (int j = 0; j < nl; j++)
            if (bd->lpos[j] == i)
                li = j;
        if (li >= 0 && other_to[li])
            client_edge_out(bd, node, li, o_clients[li], o_conns[li], o_reqs[li]);
    }
}

/* The legend, then the warnings and errors found, at the foot of the picture. */
static void add_legend(struct build *bd)
{
    const struct lf_model *m = bd->m;
    struct buf *h = &bd->a;
    buf_clear(h);
    buf_add(h, "<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"1\">");
    buf_add(h, "<TR><TD ALIGN=\"LEFT\"><FONT POINT-SIZE=\"9\" COLOR=\"gray35\">solid: used as the traffic shows; "
               "dashed: configured, never used; <FONT COLOR=\"red\">red: failing, with finding codes</FONT>"
               "</FONT></TD></TR>");
    int nf = clampi(m->nfindings, LF_MODEL_MAX_FINDINGS), idx[LF_MODEL_MAX_FINDINGS], k = 0;
    for (int i = 0; i < nf; i++)
        if (m->findings[i].severity >= LF_SEV_WARNING)
            idx[k++] = i;
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0; j--) {
            const struct lf_ev_finding *a = &m->findings[idx[j - 1]], *b = &m->findings[idx[j]];
            int c = strncmp(a->code, b->code, sizeof a->code);
            if (!c)
                c = strncmp(a->subject, b->subject, sizeof a->subject);
            if (c <= 0)
                break;
            int t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    int shown = 0;
    for (int i = 0; i < k; i++) {
        const struct lf_ev_finding *f = &m->findings[idx[i]];
        if (i && strncmp(f->code, m->findings[idx[i - 1]].code, sizeof f->code) == 0 &&
            strncmp(f->subject, m->findings[idx[i - 1]].subject, sizeof f->subject) == 0)
            continue;
        if (shown == 10) {
            buf_addf(h, "<TR><TD ALIGN=\"LEFT\"><FONT POINT-SIZE=\"9\"><I>and more findings</I></FONT></TD></TR>");
            break;
        }
        buf_addf(h, "<TR><TD ALIGN=\"LEFT\"><FONT POINT-SIZE=\"9\" COLOR=\"%s\"><B>",
                 f->severity == LF_SEV_ERROR ? "red" : "#a05a00");
        buf_html(h, f->code, sizeof f->code);
        buf_add(h, "</B> ");
        buf_html(h, f->subject, sizeof f->subject);
        buf_add(h, "</FONT></TD></TR>");
        shown++;
    }
    buf_add(h, "</TABLE>");
    set_html(bd->g, "label", buf_str(h));
}

static Agraph_t *cluster(Agraph_t *g, const char *name, const char *label, const char *fill)
{
    Agraph_t *c = agsubg(g, (char *)name, 1);
    set(c, "label", label);
    set(c, "style", "rounded,filled");
    set(c, "fillcolor", fill);
    set(c, "color", "gray60");
    return c;
}

/* Object ids in creation order. cgraph's default ids of named objects are the
 * addresses of their name strings, and subgraphs are kept (written, laid out)
 * in id order: with it the clusters would move from run to run. Here names
 * get even ids in the order they are first seen, anonymous objects (edges)
 * odd ones. The names are the graph's own reference-counted strings (which
 * agwrite inspects), listed here: cgraph's fallback table for names a
 * discipline does not map leaks its entries. */
struct idstate {
    Agraph_t *g;
    char **names;
    size_t n, cap;
    IDTYPE next_anon;
};

static void *id_open(Agraph_t *g, Agdisc_t *disc)
{
    (void)disc;
    struct idstate *st = lf_xcalloc(1, sizeof *st);
    st->g = g;
    st->next_anon = 1;
    return st;
}

static long id_map(void *state, int objtype, char *str, IDTYPE *id, int createflag)
{
    struct idstate *st = state;
    (void)objtype;
    if (!str) {
        if (!createflag)
            return 0;
        *id = st->next_anon;
        st->next_anon += 2;
        return 1;
    }
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->names[i], str) == 0) {
            *id = (IDTYPE)(2 * (i + 1));
            return 1;
        }
    if (!createflag)
        return 0;
    if (st->n == st->cap) {
        st->cap = st->cap ? 2 * st->cap : 64;
        st->names = lf_xrealloc(st->names, st->cap * sizeof *st->names);
    }
    st->names[st->n++] = agstrdup(st->g, str); /* freed with the graph's strings */
    *id = (IDTYPE)(2 * st->n);
    return 1;
}

static long id_alloc(void *state, int objtype, IDTYPE id)
{
    (void)state;
    (void)objtype;
    (void)id;
    return 0;
}

static void id_free(void *state, int objtype, IDTYPE id)
{
    (void)state;
    (void)objtype;
    (void)id;
}

static char *id_print(void *state, int objtype, IDTYPE id)
{
    struct idstate *st = state;
    (void)objtype;
    if (id % 2 || id == 0 || (size_t)(id / 2) > st->n)
        return NULL;
    return st->names[id / 2 - 1];
}

static void id_close(void *state)
{
    struct idstate *st = state;
    free(st->names);
    free(st);
}

static void id_register(void *state, int objtype, void *obj)
{
    (void)state;
    (void)objtype;
    (void)obj;
}

static Agiddisc_t seq_ids = {id_open, id_map, id_alloc, id_free, id_print, id_close, id_register};

static Agraph_t *build_graph(const struct lf_model *m)
{
    static Agdisc_t disc = {&AgMemDisc, &seq_ids, &AgIoDisc};
    struct build bd;
    memset(&bd, 0, sizeof bd);
    bd.m = m;
    Agraph_t *g = agopen("lyncflow", Agdirected, &disc);
    bd.g = g;

    agattr(g, AGRAPH, "rankdir", "LR");
    agattr(g, AGRAPH, "bgcolor", "white");
    agattr(g, AGRAPH, "fontname", FONT);
    agattr(g, AGRAPH, "fontsize", "12");
    agattr(g, AGRAPH, "labeljust", "l");
    agattr(g, AGRAPH, "nodesep", "0.35");
    agattr(g, AGRAPH, "ranksep", "1.1");
    agattr(g, AGRAPH, "pad", "0.2");
    agattr(g, AGNODE, "label", "\\N");
    agattr(g, AGNODE, "shape", "box");
    agattr(g, AGNODE, "style", "rounded,filled");
    agattr(g, AGNODE, "fillcolor", "white");
    agattr(g, AGNODE, "fontname", FONT);
    agattr(g, AGNODE, "fontsize", "11");
    agattr(g, AGEDGE, "fontname", FONT);
    agattr(g, AGEDGE, "fontsize", "9");
    agattr(g, AGEDGE, "color", "gray25");

    int nl = clampi(m->nlisteners, LF_TOPO_MAX_LISTENERS), ns = clampi(m->nservers, LF_TOPO_MAX_SERVERS);
    int lidx[LF_TOPO_MAX_LISTENERS], sidx[LF_TOPO_MAX_SERVERS];
    for (int i = 0; i < nl; i++)
        lidx[i] = i;
    for (int i = 0; i < ns; i++)
        sidx[i] = i;
    sort_idx(m, lidx, nl, listener_cmp);
    sort_idx(m, sidx, ns, server_cmp);
    for (int i = 0; i < nl; i++)
        bd.lpos[lidx[i]] = i;
    for (int i = 0; i < ns; i++)
        bd.spos[sidx[i]] = i;

    /* clusters in reading order: clients, proxy, servers by role */
    int nce = clampi(m->nclient_edges, LF_MODEL_MAX_CLIENT_EDGES);
    Agraph_t *clients = nce ? cluster(g, "cluster_clients", "Clients", "#f2f2f2") : NULL;
    Agraph_t *proxy = nl ? cluster(g, "cluster_proxy", "Reverse proxy", "#e4eef9") : NULL;
    for (int i = 0; i < nl; i++)
        add_listener(&bd, proxy, lidx[i]);
    for (int rank = 0, i = 0; rank < 4; rank++) {
        Agraph_t *c = NULL;
        for (; i < ns && role_rank(m->servers[sidx[i]].role) == rank; i++) {
            if (!c)
                c = cluster(g, role_cluster(rank), role_title(rank), role_fill(rank));
            add_server(&bd, c, sidx[i]);
        }
    }
    if (clients)
        add_clients(&bd, clients);

    int np = clampi(m->npaths, LF_MODEL_MAX_PATHS), pidx[LF_MODEL_MAX_PATHS], k = 0;
    for (int i = 0; i < np; i++)
        if (m->paths[i].listener >= 0 && m->paths[i].listener < nl)
            pidx[k++] = i;
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && path_cmp(&bd, &m->paths[pidx[j - 1]], &m->paths[pidx[j]]) > 0; j--) {
            int t = pidx[j];
            pidx[j] = pidx[j - 1];
            pidx[j - 1] = t;
        }
    for (int i = 0; i < k; i++)
        add_path(&bd, &m->paths[pidx[i]]);

    add_legend(&bd);
    free(bd.a.p);
    free(bd.b.p);
    return g;
}

/* ---- output ---- */

static char gv_error[256];

/* libcgraph/libgvc messages: errors are kept for the caller, warnings dropped,
 * nothing reaches stderr. */
static int gv_errf(char *msg)
{
    if (strncmp(msg, "Warning", 7) == 0 || gv_error[0])
        return 0;
    size_t i = 0;
    for (; msg[i] && msg[i] != '\n' && i + 1 < sizeof gv_error; i++)
        gv_error[i] = msg[i];
    gv_error[i] = 0;
    return 0;
}

static FILE *open_out(const char *path, const char *mode, char *err, size_t errsize)
{
    if (strcmp(path, "-") == 0)
        return stdout;
    FILE *f = fopen(path, mode);
    if (!f)
        snprintf(err, errsize, "%s: cannot write the diagram: %s", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path, char *err, size_t errsize)
{
    int bad = ferror(f);
    if (f == stdout)
        bad |= fflush(f) != 0;
    else
        bad |= fclose(f) != 0;
    if (bad) {
        snprintf(err, errsize, "%s: cannot write the diagram: %s", path, errno ? strerror(errno) : "write error");
        return -1;
    }
    return 0;
}

/* Rendered into memory and written here: libgvc exits the process when a
 * write of its own fails. */
static int render(GVC_t *gvc, Agraph_t *g, const char *format, const char *path, char *err, size_t errsize)
{
    char *data = NULL;
    unsigned int len = 0;
    gv_error[0] = 0;
    if (gvRenderData(gvc, g, (char *)format, &data, &len) != 0 || !data) {
        snprintf(err, errsize, "%s: cannot render %s%s%s", path, format, gv_error[0] ? ": " : "", gv_error);
        if (data)
            gvFreeRenderData(data);
        return -1;
    }
    FILE *f = open_out(path, "wb", err, errsize);
    if (!f) {
        gvFreeRenderData(data);
        return -1;
    }
    errno = 0;
    size_t w = fwrite(data, 1, len, f);
    gvFreeRenderData(data);
    if (w != len && !ferror(f)) {
        if (f != stdout)
            fclose(f);
        snprintf(err, errsize, "%s: cannot write the diagram: short write", path);
        return -1;
    }
    return close_out(f, path, err, errsize);
}

/* One libgvc context for the life of the process. Graphviz's pango plugin
 * keeps a pointer to the last font name of the context that rendered last,
 * and compares it on its next call: with a fresh context per diagram, the
 * second one reads freed memory. Created before any graph, so that every
 * graph sees the same attribute defaults. */
static GVC_t *gv_context(void)
{
    static GVC_t *gvc;
    if (!gvc)
        gvc = gvContext();
    return gvc;
}

static int layout_render(GVC_t *gvc, Agraph_t *g, const char *format, const char *path, char *err, size_t errsize)
{
    gv_error[0] = 0;
    if (gvLayout(gvc, g, "dot") != 0) {
        snprintf(err, errsize, "%s: cannot lay out the diagram%s%s", path, gv_error[0] ? ": " : "", gv_error);
        return -1;
    }
    int rc = render(gvc, g, format, path, err, errsize);
    gvFreeLayout(gvc, g);
    return rc;
}

int lf_dot_write(const struct lf_model *m, const char *dot_path, const char *svg_path, const char *png_path, char *err,
                 size_t errsize)
{
    if (!dot_path && !svg_path && !png_path)
        return 0;
    agusererrf old_errf = agseterrf(gv_errf);
    gv_error[0] = 0;
    GVC_t *gvc = gv_context();
    Agraph_t *g = build_graph(m);
    int rc = 0;

    if (dot_path) {
        FILE *f = open_out(dot_path, "w", err, errsize);
        if (!f) {
            rc = -1;
        } else {
            errno = 0;
            if (agwrite(g, f) != 0) {
                if (f != stdout)
                    fclose(f);
                snprintf(err, errsize, "%s: cannot write the diagram", dot_path);
                rc = -1;
            } else {
                rc = close_out(f, dot_path, err, errsize);
            }
        }
    }
    if (rc == 0 && svg_path)
        rc = layout_render(gvc, g, "svg", svg_path, err, errsize);
    if (rc == 0 && png_path) {
        set(g, "dpi", PNG_DPI); /* the bitmap at 1.5 times the SVG's size: small labels stay legible */
        rc = layout_render(gvc, g, "png", png_path, err, errsize);
    }
    agclose(g);
    agseterrf(old_errf);
    return rc;
}
