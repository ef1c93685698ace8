/* dotclients.c: the client side of the diagram: a node per client network, and edges from it to the listeners
 * it used with their clients, connections and requests. Called once per graph, after the listeners exist;
 * everything is sorted first, so the output is the same from run to run.
 */
#include <stdint.h>
#include <string.h>

#include "dot_int.h"

#define MAX_CLIENT_NODES 6

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

static int client_cmp(struct dot_build *bd, const struct lf_client_edge *a, const struct lf_client_edge *b)
{
    int c = client_key_cmp(a, b);
    return c ? c : bd->lpos[a->listener] - bd->lpos[b->listener];
}

static void client_edge_out(struct dot_build *bd, Agnode_t *from, int listener, uint64_t clients, uint64_t conns,
                            uint64_t reqs)
{
    Agedge_t *e = agedge(bd->g, from, bd->listener[listener], NULL, 1);
    struct dot_buf *h = &bd->a;
    dot_buf_clear(h);
    dot_buf_add(h, "<FONT POINT-SIZE=\"9\">");
    if (clients > 1)
        dot_buf_addf(h, "%llu clients<BR/>", (unsigned long long)clients);
    dot_buf_addf(h, "%llu conn, %llu req</FONT>", (unsigned long long)conns, (unsigned long long)reqs);
    dot_set_html(e, "label", dot_buf_str(h));
    dot_set_u64(e, "lf_clients", clients);
    dot_set_u64(e, "lf_connections", conns);
    dot_set_u64(e, "lf_requests", reqs);
}

/* One node per client network (the analysis aggregates by /24 or /64), its
 * edges carrying the clients, connections and requests per listener. Beyond
 * MAX_CLIENT_NODES networks the busiest keep their node and the rest share
 * one "other clients" node. */
void dot_add_clients(struct dot_build *bd, Agraph_t *cl)
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
        struct dot_buf *b = &bd->b;
        dot_buf_clear(b);
        dot_buf_add(b, "clients:");
        dot_buf_plain(b, ce->clients, client_key(ce));
        Agnode_t *node = agnode(bd->g, (char *)dot_buf_str(b), 0);
        if (!node) {
            node = agnode(cl, (char *)dot_buf_str(b), 1);
            struct dot_buf *h = &bd->a;
            dot_buf_clear(h);
            dot_buf_add(h, "<B>");
            dot_buf_html(h, ce->clients, client_key(ce));
            dot_buf_add(h, "</B>");
            dot_set_html(node, "label", dot_buf_str(h));
            dot_set(node, "lf_kind", "clients");
            dot_set_u64(node, "lf_clients_n", most[g]);
        }
        client_edge_out(bd, node, ce->listener, ce->clients_n, ce->connections, ce->requests);
    }
    if (!other_groups)
        return;
    Agnode_t *node = agnode(cl, "clients:(other)", 1);
    struct dot_buf *h = &bd->a;
    dot_buf_clear(h);
    dot_buf_addf(h, "<B>other clients</B><BR/><FONT POINT-SIZE=\"9\">%d networks</FONT>", other_groups);
    dot_set_html(node, "label", dot_buf_str(h));
    dot_set(node, "lf_kind", "clients");
    dot_set_u64(node, "lf_clients_n", other_clients);
    for (int i = 0; i < nl; i++) {
        int li = -1;
        for (int j = 0; j < nl; j++)
            if (bd->lpos[j] == i)
                li = j;
        if (li >= 0 && other_to[li])
            client_edge_out(bd, node, li, o_clients[li], o_conns[li], o_reqs[li]);
    }
}
