/* dot.c: the listener-to-server diagram built from the model as a libcgraph graph: clusters for the clients,
 * the reverse proxy's listeners and the servers by role, an edge for each path, the legend and findings below.
 * Nodes and edges are made in sorted order and carry the lf_* facts include/lyncflow/dot.h lists;
 * dotrender.c writes and renders the graph.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cgraph.h>

#include "dot_int.h"

#define FONT "Helvetica"
#define MAX_NAMES_SHOWN 12 /* per listener; the rest is counted */

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

/* ---- building the graph ---- */

/* A node id that is stable and unique: PREFIX:NAME, or PREFIX:ADDRESS when
 * the name is empty, with #N appended on a clash. */
static Agnode_t *new_node(struct dot_build *bd, Agraph_t *sub, const char *prefix, const struct lf_node *n, int pos)
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
        dot_set(n, "style", "rounded,filled,dashed");
        dot_set(n, "color", "gray50");
        dot_set(n, "fontcolor", "gray40");
    }
}

/* The names of one kind (-1: all), in the given order, ',' joined. */
static void name_list(struct dot_buf *out, const struct lf_node *n, const int *order, int nn, int kind)
{
    int first = 1;
    for (int k = 0; k < nn; k++) {
        int i = order[k];
        if (kind >= 0 && n->name_kind[i] != kind)
            continue;
        if (!first)
            dot_buf_add(out, ",");
        first = 0;
        dot_buf_plain(out, n->names[i], sizeof n->names[i]);
    }
}

/* The last line of a listener or server: its traffic, or that it had none. */
static void counts_row(struct dot_buf *h, const struct lf_node *n)
{
    if (n->observed)
        dot_buf_addf(h, "<TR><TD ALIGN=\"LEFT\"><FONT POINT-SIZE=\"9\" COLOR=\"gray35\">%llu conn, %llu req</FONT>"
                        "</TD></TR>",
                     (unsigned long long)n->connections, (unsigned long long)n->requests);
    else if (n->configured)
        dot_buf_add(h, "<TR><TD ALIGN=\"LEFT\"><FONT POINT-SIZE=\"9\" COLOR=\"gray35\"><I>configured, no traffic</I>"
                       "</FONT></TD></TR>");
}

static void add_listener(struct dot_build *bd, Agraph_t *proxy, int li)
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

    struct dot_buf *h = &bd->a;
    dot_buf_clear(h);
    dot_buf_add(h, "<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"1\">");
    dot_buf_add(h, "<TR><TD ALIGN=\"LEFT\"><B>");
    dot_buf_html(h, n->name[0] ? n->name : "listener", sizeof n->name);
    dot_buf_add(h, "</B></TD></TR><TR><TD ALIGN=\"LEFT\">");
    dot_buf_html(h, addr, sizeof addr);
    dot_buf_add(h, "</TD></TR>");
    for (int k = 0; k < nn; k++) {
        int i = order[k];
        if (k == MAX_NAMES_SHOWN) {
            dot_buf_addf(h, "<TR><TD ALIGN=\"LEFT\"><I>and %d more</I></TD></TR>", nn - k);
            break;
        }
        const char *mark = n->name_kind[i] == 1 ? "simple URL" : n->name_kind[i] == 2 ? "web services" : "";
        const char *color = n->name_kind[i] == 1 ? "#1b6e20" : n->name_kind[i] == 2 ? "#1f4e9e" : "black";
        dot_buf_addf(h, "<TR><TD ALIGN=\"LEFT\"><FONT COLOR=\"%s\">", color);
        dot_buf_html(h, n->names[i], sizeof n->names[i]);
        dot_buf_add(h, "</FONT>");
        if (*mark)
            dot_buf_addf(h, " <FONT POINT-SIZE=\"9\" COLOR=\"gray35\"><I>%s</I></FONT>", mark);
        dot_buf_add(h, "</TD></TR>");
    }
    counts_row(h, n);
    dot_buf_add(h, "</TABLE>");
    dot_set_html(node, "label", dot_buf_str(h));

    dot_set(node, "lf_kind", "listener");
    dot_set(node, "lf_addr", addr);
    dot_buf_clear(h);
    name_list(h, n, order, nn, -1);
    dot_set(node, "lf_names", dot_buf_str(h));
    dot_buf_clear(h);
    name_list(h, n, order, nn, 1);
    dot_set(node, "lf_simple_urls", dot_buf_str(h));
    dot_buf_clear(h);
    name_list(h, n, order, nn, 2);
    dot_set(node, "lf_web_fqdns", dot_buf_str(h));
    style_unobserved(node, n);
}

static void add_server(struct dot_build *bd, Agraph_t *cluster, int si)
{
    const struct lf_node *n = &bd->m->servers[si];
    char addr[64];
    lf_addr_format(&n->addr, addr, sizeof addr);
    Agnode_t *node = new_node(bd, cluster, "server", n, bd->spos[si]);
    bd->server[si] = node;
    const char *role = lf_role_name((enum lf_role)n->role);

    struct dot_buf *h = &bd->a;
    dot_buf_clear(h);
    dot_buf_add(h, "<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"1\">");
    dot_buf_add(h, "<TR><TD ALIGN=\"LEFT\"><B>");
    dot_buf_html(h, n->name[0] ? n->name : "server", sizeof n->name);
    dot_buf_addf(h, "</B> <FONT POINT-SIZE=\"9\"><I>%s</I></FONT></TD></TR>", role_label(n->role));
    if (n->addr.family) {
        dot_buf_add(h, "<TR><TD ALIGN=\"LEFT\">");
        dot_buf_html(h, addr, sizeof addr);
        dot_buf_add(h, "</TD></TR>");
    }
    if (n->fqdn[0]) {
        dot_buf_add(h, "<TR><TD ALIGN=\"LEFT\"><FONT COLOR=\"#1f4e9e\">");
        dot_buf_html(h, n->fqdn, sizeof n->fqdn);
        dot_buf_add(h, "</FONT></TD></TR>");
    }
    counts_row(h, n);
    dot_buf_add(h, "</TABLE>");
    dot_set_html(node, "label", dot_buf_str(h));

    dot_set(node, "lf_kind", "server");
    dot_set(node, "lf_role", *role ? role : "other");
    dot_set(node, "lf_addr", addr);
    dot_buf_clear(h);
    dot_buf_plain(h, n->fqdn, sizeof n->fqdn);
    dot_set(node, "lf_fqdn", dot_buf_str(h));
    style_unobserved(node, n);
}

static Agnode_t *nowhere_node(struct dot_build *bd)
{
    if (!bd->nowhere) {
        bd->nowhere = agnode(bd->g, "server:(none)", 1);
        dot_set_html(bd->nowhere, "label", "<I>no server reached</I>");
        dot_set(bd->nowhere, "style", "rounded,filled,dashed");
        dot_set(bd->nowhere, "color", "red");
        dot_set(bd->nowhere, "fontcolor", "red");
        dot_set(bd->nowhere, "lf_kind", "none");
    }
    return bd->nowhere;
}

static void status_mix(struct dot_buf *out, const struct lf_path *p, int plain)
{
    static const char *const cls[] = {"no response", "1xx", "2xx", "3xx", "4xx", "5xx"};
    static const char *const key[] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
    int first = 1;
    for (int c = 1; c <= 6; c++) {
        int i = c % 6; /* 1xx..5xx, then no response */
        if (!p->status_class[i])
            continue;
        if (plain)
            dot_buf_addf(out, "%s%s=%llu", first ? "" : ",", key[i], (unsigned long long)p->status_class[i]);
        else
            dot_buf_addf(out, "%s%s %llu", first ? "" : ", ", cls[i], (unsigned long long)p->status_class[i]);
        first = 0;
    }
}

static void add_path(struct dot_build *bd, const struct lf_path *p)
{
    Agnode_t *t = bd->listener[p->listener];
    Agnode_t *h = (p->server >= 0 && p->server < bd->m->nservers) ? bd->server[p->server] : nowhere_node(bd);
    Agedge_t *e = agedge(bd->g, t, h, NULL, 1);
    int nn = clampi(p->nnames, 8), ns = clampi(p->nservices, 16);
    int unused = p->configured && !p->observed;

    struct dot_buf *l = &bd->a;
    dot_buf_clear(l);
    dot_buf_add(l, "<FONT POINT-SIZE=\"9\">");
    for (int i = 0; i < nn; i++) {
        dot_buf_html(l, p->names[i], sizeof p->names[i]);
        dot_buf_add(l, "<BR/>");
    }
    if (ns) {
        dot_buf_add(l, "<I>");
        for (int i = 0; i < ns; i++) {
            if (i)
                dot_buf_add(l, i % 4 ? ", " : ",<BR/>");
            dot_buf_html(l, p->services[i], sizeof p->services[i]);
        }
        dot_buf_add(l, "</I><BR/>");
    }
    if (unused) {
        dot_buf_add(l, "<I>configured, not used</I>");
    } else {
        dot_buf_addf(l, "%llu conn, %llu req", (unsigned long long)p->connections, (unsigned long long)p->requests);
        struct dot_buf mix = {0};
        status_mix(&mix, p, 0);
        if (mix.len) {
            dot_buf_add(l, "<BR/>");
            dot_buf_add(l, dot_buf_str(&mix));
        }
        free(mix.p);
    }
    if (p->finding_codes[0]) {
        dot_buf_addf(l, "<BR/><FONT COLOR=\"%s\"><B>", p->failing ? "red" : "#a05a00");
        int ncodes = 0; /* two codes a line */
        for (size_t i = 0; i < sizeof p->finding_codes && p->finding_codes[i]; i++) {
            char c[2] = {p->finding_codes[i], 0};
            if (c[0] == ',')
                dot_buf_add(l, ++ncodes % 2 ? ", " : ",<BR/>");
            else
                dot_buf_html(l, c, 1);
        }
        dot_buf_add(l, "</B></FONT>");
    }
    dot_buf_add(l, "</FONT>");
    dot_set_html(e, "label", dot_buf_str(l));

    dot_buf_clear(l);
    for (int i = 0; i < nn; i++) {
        if (i)
            dot_buf_add(l, ",");
        dot_buf_plain(l, p->names[i], sizeof p->names[i]);
    }
    dot_set(e, "lf_names", dot_buf_str(l));
    dot_buf_clear(l);
    for (int i = 0; i < ns; i++) {
        if (i)
            dot_buf_add(l, ",");
        dot_buf_plain(l, p->services[i], sizeof p->services[i]);
    }
    dot_set(e, "lf_services", dot_buf_str(l));
    dot_set_u64(e, "lf_requests", p->requests);
    dot_set_u64(e, "lf_connections", p->connections);
    dot_buf_clear(l);
    status_mix(l, p, 1);
    dot_set(e, "lf_status", dot_buf_str(l));
    dot_buf_clear(l);
    dot_buf_plain(l, p->finding_codes, sizeof p->finding_codes);
    dot_set(e, "lf_codes", dot_buf_str(l));
    dot_set(e, "lf_state", p->failing ? "failing" : unused ? "unused" : "used");

    if (unused)
        dot_set(e, "style", "dashed");
    if (p->failing) {
        dot_set(e, "color", "red");
        dot_set(e, "fontcolor", "red");
        dot_set(e, "penwidth", "2");
    } else if (!unused) {
        dot_set(e, "penwidth", "1.5");
    }
}

static int path_cmp(struct dot_build *bd, const struct lf_path *a, const struct lf_path *b)
{
    if (bd->lpos[a->listener] != bd->lpos[b->listener])
        return bd->lpos[a->listener] - bd->lpos[b->listener];
    int sa = (a->server >= 0 && a->server < bd->m->nservers) ? bd->spos[a->server] : LF_TOPO_MAX_SERVERS;
    int sb = (b->server >= 0 && b->server < bd->m->nservers) ? bd->spos[b->server] : LF_TOPO_MAX_SERVERS;
    return sa - sb;
}

/* The legend, then the warnings and errors found, at the foot of the picture. */
static void add_legend(struct dot_build *bd)
{
    const struct lf_model *m = bd->m;
    struct dot_buf *h = &bd->a;
    dot_buf_clear(h);
    dot_buf_add(h, "<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"1\">");
    dot_buf_add(h, "<TR><TD ALIGN=\"LEFT\"><FONT POINT-SIZE=\"9\" COLOR=\"gray35\">solid: used as the traffic shows; "
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
                c = strcmp(a->subject, b->subject);
            if (c <= 0)
                break;
            int t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    int shown = 0;
    for (int i = 0; i < k; i++) {
        const struct lf_ev_finding *f = &m->findings[idx[i]];
        if (i && strcmp(f->code, m->findings[idx[i - 1]].code) == 0 &&
            strcmp(f->subject, m->findings[idx[i - 1]].subject) == 0)
            continue;
        if (shown == 10) {
            dot_buf_addf(h, "<TR><TD ALIGN=\"LEFT\"><FONT POINT-SIZE=\"9\"><I>and more findings</I></FONT></TD></TR>");
            break;
        }
        dot_buf_addf(h, "<TR><TD ALIGN=\"LEFT\"><FONT POINT-SIZE=\"9\" COLOR=\"%s\"><B>",
                     f->severity == LF_SEV_ERROR ? "red" : "#a05a00");
        dot_buf_html(h, f->code, sizeof f->code);
        dot_buf_add(h, "</B> ");
        dot_buf_html(h, f->subject, strlen(f->subject));
        dot_buf_add(h, "</FONT></TD></TR>");
        shown++;
    }
    dot_buf_add(h, "</TABLE>");
    dot_set_html(bd->g, "label", dot_buf_str(h));
}

static Agraph_t *cluster(Agraph_t *g, const char *name, const char *label, const char *fill)
{
    Agraph_t *c = agsubg(g, (char *)name, 1);
    dot_set(c, "label", label);
    dot_set(c, "style", "rounded,filled");
    dot_set(c, "fillcolor", fill);
    dot_set(c, "color", "gray60");
    return c;
}

Agraph_t *dot_build_graph(const struct lf_model *m, Agdisc_t *disc)
{
    struct dot_build bd;
    memset(&bd, 0, sizeof bd);
    bd.m = m;
    Agraph_t *g = agopen("lyncflow", Agdirected, disc);
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
        dot_add_clients(&bd, clients);

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
