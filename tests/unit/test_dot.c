/* test_dot.c: the diagram from hand-built models, read back with libcgraph; golden DOT; SVG/PNG; errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cgraph.h>

#include "lyncflow/dot.h"

static char tmpdir[64];

static void path_in_tmp(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tmpdir, name);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *p = malloc(cap);
    size_t r;
    while ((r = fread(p + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0)
            p = realloc(p, cap *= 2);
    }
    fclose(f);
    p[n] = 0;
    if (len)
        *len = n;
    return p;
}

/* ---- models ---- */

static int add_listener(struct lf_model *m, const char *name, const char *addr)
{
    struct lf_node *n = &m->listeners[m->nlisteners];
    snprintf(n->name, sizeof n->name, "%s", name);
    assert_int_equal(lf_addr_parse(addr, &n->addr), 0);
    n->role = LF_ROLE_PROXY;
    n->configured = 1;
    return m->nlisteners++;
}

static void add_name(struct lf_model *m, int li, const char *name, int kind)
{
    struct lf_node *n = &m->listeners[li];
    snprintf(n->names[n->nnames], sizeof n->names[0], "%s", name);
    n->name_kind[n->nnames++] = (uint8_t)kind;
}

static int add_server(struct lf_model *m, const char *name, int role, const char *addr, const char *fqdn)
{
    struct lf_node *n = &m->servers[m->nservers];
    snprintf(n->name, sizeof n->name, "%s", name);
    assert_int_equal(lf_addr_parse(addr, &n->addr), 0);
    n->role = (uint8_t)role;
    snprintf(n->fqdn, sizeof n->fqdn, "%s", fqdn);
    n->configured = 1;
    return m->nservers++;
}

static void observe(struct lf_node *n, uint64_t conns, uint64_t reqs)
{
    n->observed = 1;
    n->connections = conns;
    n->requests = reqs;
}

/* names and services: NULL-terminated lists */
static struct lf_path *add_path(struct lf_model *m, int li, int si, const char *const *names,
                                const char *const *services)
{
    struct lf_path *p = &m->paths[m->npaths++];
    p->listener = li;
    p->server = si;
    p->configured = 1;
    for (; names && *names; names++)
        snprintf(p->names[p->nnames++], sizeof p->names[0], "%s", *names);
    for (; services && *services; services++)
        snprintf(p->services[p->nservices++], sizeof p->services[0], "%s", *services);
    return p;
}

static void add_clients(struct lf_model *m, const char *clients, int li, uint64_t n, uint64_t conns, uint64_t reqs)
{
    struct lf_client_edge *c = &m->client_edges[m->nclient_edges++];
    snprintf(c->clients, sizeof c->clients, "%s", clients);
    c->listener = li;
    c->clients_n = n;
    c->connections = conns;
    c->requests = reqs;
}

/* The article's layout: Director names on one listener, the Front End on the other. Names and
 * servers are entered out of order on purpose. */
static struct lf_model *healthy_model(void)
{
    struct lf_model *m = calloc(1, sizeof *m);
    int fe = add_listener(m, "public-fe", "203.0.113.11:443");
    int dir = add_listener(m, "public-dir", "203.0.113.10:443");
    add_name(m, dir, "meet.contoso.com", 1);
    add_name(m, dir, "dirweb.contoso.com", 2);
    add_name(m, dir, "lyncdiscover.contoso.com", 1);
    add_name(m, dir, "dialin.contoso.com", 1);
    add_name(m, fe, "feweb.contoso.com", 2);
    observe(&m->listeners[dir], 4, 14);
    observe(&m->listeners[fe], 2, 6);
    int sfe = add_server(m, "fe01", LF_ROLE_FRONTEND, "10.0.1.20:4443", "feweb.contoso.com");
    int sdir = add_server(m, "dir01", LF_ROLE_DIRECTOR, "10.0.1.10:4443", "dirweb.contoso.com");
    observe(&m->servers[sdir], 4, 14);
    observe(&m->servers[sfe], 2, 6);

    static const char *const fe_names[] = {"feweb.contoso.com", NULL};
    static const char *const fe_svc[] = {"abs", "groupexpansion", NULL};
    struct lf_path *p = add_path(m, fe, sfe, fe_names, fe_svc);
    p->observed = 1;
    p->connections = 2;
    p->requests = 6;
    p->status_class[2] = 4;
    p->status_class[4] = 2;

    static const char *const dir_names[] = {"lyncdiscover.contoso.com", "dirweb.contoso.com", "meet.contoso.com", NULL};
    static const char *const dir_svc[] = {"discover", "autodiscover", "webticket", "certprov", "meet", NULL};
    p = add_path(m, dir, sdir, dir_names, dir_svc);
    p->observed = 1;
    p->connections = 4;
    p->requests = 14;
    p->status_class[2] = 10;
    p->status_class[4] = 4;

    add_clients(m, "198.51.100.7", dir, 1, 4, 14);
    add_clients(m, "198.51.100.7", fe, 1, 2, 6);
    return m;
}

/* The Director's name is not published: the configured path to the Director is never used, the
 * Director's name lands on the Front End (failing), lyncdiscover reaches no server at all, and a
 * Host header carries characters that must be escaped. */
static struct lf_model *broken_model(void)
{
    struct lf_model *m = calloc(1, sizeof *m);
    int dir = add_listener(m, "public-dir", "203.0.113.10:443");
    int fe = add_listener(m, "public-fe", "203.0.113.11:443");
    int v6 = add_listener(m, "public-v6", "[2001:db8::11]:443");
    add_name(m, dir, "dirweb.contoso.com", 2);
    add_name(m, dir, "lyncdiscover.contoso.com", 1);
    add_name(m, fe, "feweb.contoso.com", 2);
    add_name(m, fe, "evil<b>&\"x\".contoso.com", 0);
    observe(&m->listeners[dir], 3, 5);
    observe(&m->listeners[fe], 2, 4);
    int sdir = add_server(m, "dir01", LF_ROLE_DIRECTOR, "10.0.1.10:4443", "dirweb.contoso.com");
    int sfe = add_server(m, "fe01", LF_ROLE_FRONTEND, "10.0.1.20:4443", "feweb.contoso.com");
    observe(&m->servers[sfe], 4, 8);
    (void)v6;

    static const char *const dir_names[] = {"dirweb.contoso.com", NULL};
    add_path(m, dir, sdir, dir_names, NULL); /* configured, never used */

    static const char *const wrong_names[] = {"dirweb.contoso.com", NULL};
    static const char *const wrong_svc[] = {"webticket", "certprov", NULL};
    struct lf_path *p = add_path(m, dir, sfe, wrong_names, wrong_svc);
    p->configured = 0;
    p->observed = 1;
    p->failing = 1;
    p->connections = 2;
    p->requests = 4;
    p->status_class[4] = 4;
    snprintf(p->finding_codes, sizeof p->finding_codes, "director-unpublished,wrong-pool");

    static const char *const none_names[] = {"lyncdiscover.contoso.com", NULL};
    p = add_path(m, dir, -1, none_names, NULL);
    p->configured = 0;
    p->observed = 1;
    p->failing = 1;
    p->connections = 1;
    p->requests = 1;
    p->status_class[0] = 1;
    snprintf(p->finding_codes, sizeof p->finding_codes, "no-backend");

    static const char *const fe_names[] = {"feweb.contoso.com", NULL};
    static const char *const fe_svc[] = {"abs", NULL};
    p = add_path(m, fe, sfe, fe_names, fe_svc);
    p->observed = 1;
    p->connections = 2;
    p->requests = 4;
    p->status_class[2] = 4;

    add_clients(m, "198.51.100.0/24 (3 clients)", dir, 3, 3, 5);
    add_clients(m, "198.51.100.0/24 (2 clients)", fe, 2, 2, 4); /* the same network, counted per listener */

    struct lf_ev_finding *f = &m->findings[m->nfindings++];
    f->severity = LF_SEV_ERROR;
    snprintf(f->code, sizeof f->code, "director-unpublished");
    f->subject = "dirweb.contoso.com";
    f->message = "";
    f = &m->findings[m->nfindings++];
    f->severity = LF_SEV_INFO;
    snprintf(f->code, sizeof f->code, "info-only");
    f->subject = "not drawn";
    f->message = "";
    return m;
}

/* ---- reading back ---- */

static Agraph_t *write_and_read(const struct lf_model *m, const char *name)
{
    char path[128], err[256] = "";
    path_in_tmp(path, sizeof path, name);
    assert_int_equal(lf_dot_write(m, path, NULL, NULL, err, sizeof err), 0);
    assert_string_equal(err, "");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    Agraph_t *g = agread(f, NULL);
    fclose(f);
    assert_non_null(g);
    return g;
}

static const char *attr(void *obj, const char *name)
{
    char *v = agget(obj, (char *)name);
    return v ? v : "";
}

/* "tail>head" of every edge between a listener and a server (or nowhere), sorted, ';' joined. */
static void listener_edges(Agraph_t *g, char *out, size_t size)
{
    out[0] = 0;
    size_t len = 0;
    for (Agnode_t *n = agfstnode(g); n; n = agnxtnode(g, n)) {
        if (strcmp(attr(n, "lf_kind"), "listener") != 0)
            continue;
        for (Agedge_t *e = agfstout(g, n); e; e = agnxtout(g, e))
            len += (size_t)snprintf(out + len, size - len, "%s%s>%s", len ? ";" : "", agnameof(n),
                                    agnameof(aghead(e)));
    }
}

static Agedge_t *edge_between(Agraph_t *g, const char *t, const char *h)
{
    Agnode_t *tn = agnode(g, (char *)t, 0), *hn = agnode(g, (char *)h, 0);
    assert_non_null(tn);
    assert_non_null(hn);
    Agedge_t *e = agedge(g, tn, hn, NULL, 0);
    assert_non_null(e);
    return e;
}

static int in_cluster(Agraph_t *g, const char *cluster, const char *node)
{
    Agraph_t *c = agsubg(g, (char *)cluster, 0);
    Agnode_t *n = agnode(g, (char *)node, 0);
    return c && n && agsubnode(c, n, 0) != NULL;
}

static void test_healthy_structure(void **state)
{
    (void)state;
    struct lf_model *m = healthy_model();
    Agraph_t *g = write_and_read(m, "healthy.dot");
    char edges[1024];
    listener_edges(g, edges, sizeof edges);
    assert_string_equal(edges, "listener:public-dir>server:dir01;listener:public-fe>server:fe01");

    Agnode_t *dir = agnode(g, "listener:public-dir", 0);
    assert_non_null(dir);
    assert_string_equal(attr(dir, "lf_names"),
                        "dialin.contoso.com,dirweb.contoso.com,lyncdiscover.contoso.com,meet.contoso.com");
    assert_string_equal(attr(dir, "lf_simple_urls"), "dialin.contoso.com,lyncdiscover.contoso.com,meet.contoso.com");
    assert_string_equal(attr(dir, "lf_web_fqdns"), "dirweb.contoso.com");
    assert_string_equal(attr(dir, "lf_addr"), "203.0.113.10:443");
    const char *label = attr(dir, "label");
    assert_true(aghtmlstr((char *)label));
    assert_non_null(strstr(label, "meet.contoso.com</FONT> <FONT POINT-SIZE=\"9\" COLOR=\"gray35\"><I>simple URL"));
    assert_non_null(strstr(label, "dirweb.contoso.com</FONT> <FONT POINT-SIZE=\"9\" COLOR=\"gray35\"><I>web services"));
    assert_non_null(strstr(label, "203.0.113.10:443"));
    assert_string_equal(attr(agnode(g, "listener:public-fe", 0), "lf_names"), "feweb.contoso.com");

    Agnode_t *s = agnode(g, "server:dir01", 0);
    assert_string_equal(attr(s, "lf_role"), "director");
    assert_string_equal(attr(s, "lf_fqdn"), "dirweb.contoso.com");
    assert_string_equal(attr(s, "lf_addr"), "10.0.1.10:4443");
    assert_non_null(strstr(attr(s, "label"), "<I>Director</I>"));
    assert_string_equal(attr(agnode(g, "server:fe01", 0), "lf_role"), "frontend");

    assert_true(in_cluster(g, "cluster_proxy", "listener:public-dir"));
    assert_true(in_cluster(g, "cluster_proxy", "listener:public-fe"));
    assert_true(in_cluster(g, "cluster_director", "server:dir01"));
    assert_true(in_cluster(g, "cluster_frontend", "server:fe01"));
    assert_false(in_cluster(g, "cluster_director", "server:fe01"));
    assert_true(in_cluster(g, "cluster_clients", "clients:198.51.100.7"));
    assert_null(agsubg(g, "cluster_edge", 0));

    Agedge_t *e = edge_between(g, "listener:public-dir", "server:dir01");
    assert_string_equal(attr(e, "lf_state"), "used");
    assert_string_equal(attr(e, "lf_names"), "lyncdiscover.contoso.com,dirweb.contoso.com,meet.contoso.com");
    assert_string_equal(attr(e, "lf_services"), "discover,autodiscover,webticket,certprov,meet");
    assert_string_equal(attr(e, "lf_requests"), "14");
    assert_string_equal(attr(e, "lf_status"), "2xx=10,4xx=4");
    assert_string_equal(attr(e, "style"), "");
    assert_string_equal(attr(e, "color"), "gray25");
    assert_non_null(strstr(attr(e, "label"), "4 conn, 14 req<BR/>2xx 10, 4xx 4"));

    e = edge_between(g, "clients:198.51.100.7", "listener:public-fe");
    assert_string_equal(attr(e, "lf_connections"), "2");
    assert_string_equal(attr(e, "lf_requests"), "6");
    assert_string_equal(agnameof(agtail(edge_between(g, "clients:198.51.100.7", "listener:public-dir"))),
                        "clients:198.51.100.7");
    assert_int_equal(agnedges(g), 4);
    assert_int_equal(agnnodes(g), 5);
    agclose(g);
    free(m);
}

static void test_broken_structure(void **state)
{
    (void)state;
    struct lf_model *m = broken_model();
    Agraph_t *g = write_and_read(m, "broken.dot");
    char edges[1024];
    listener_edges(g, edges, sizeof edges);
    assert_string_equal(edges, "listener:public-dir>server:dir01;listener:public-dir>server:fe01;"
                               "listener:public-dir>server:(none);listener:public-fe>server:fe01");

    Agedge_t *e = edge_between(g, "listener:public-dir", "server:dir01");
    assert_string_equal(attr(e, "style"), "dashed");
    assert_string_equal(attr(e, "lf_state"), "unused");
    assert_string_not_equal(attr(e, "color"), "red");
    assert_non_null(strstr(attr(e, "label"), "configured, not used"));

    e = edge_between(g, "listener:public-dir", "server:fe01");
    assert_string_equal(attr(e, "color"), "red");
    assert_string_equal(attr(e, "style"), "");
    assert_string_equal(attr(e, "lf_state"), "failing");
    assert_string_equal(attr(e, "lf_codes"), "director-unpublished,wrong-pool");
    assert_string_equal(attr(e, "lf_status"), "4xx=4");
    assert_non_null(strstr(attr(e, "label"), "<FONT COLOR=\"red\"><B>director-unpublished, wrong-pool</B>"));

    e = edge_between(g, "listener:public-dir", "server:(none)");
    assert_string_equal(attr(e, "color"), "red");
    assert_string_equal(attr(e, "lf_codes"), "no-backend");
    assert_string_equal(attr(e, "lf_status"), "none=1");

    e = edge_between(g, "listener:public-fe", "server:fe01");
    assert_string_equal(attr(e, "lf_state"), "used");
    assert_string_not_equal(attr(e, "color"), "red");

    /* the Director was configured and never seen: dashed node; the unseen listener too */
    assert_non_null(strstr(attr(agnode(g, "server:dir01", 0), "style"), "dashed"));
    assert_non_null(strstr(attr(agnode(g, "listener:public-v6", 0), "style"), "dashed"));
    assert_string_equal(attr(agnode(g, "listener:public-v6", 0), "lf_addr"), "[2001:db8::11]:443");
    assert_null(strstr(attr(agnode(g, "server:fe01", 0), "style"), "dashed"));

    /* wire text is escaped in labels and kept readable in lf_names */
    Agnode_t *fe = agnode(g, "listener:public-fe", 0);
    assert_string_equal(attr(fe, "lf_names"), "evil<b>&\"x\".contoso.com,feweb.contoso.com");
    assert_non_null(strstr(attr(fe, "label"), "evil&lt;b&gt;&amp;&quot;x&quot;.contoso.com"));

    /* one node for the network, its client counts on the edges */
    Agraph_t *cl = agsubg(g, "cluster_clients", 0);
    assert_int_equal(agnnodes(cl), 1);
    e = edge_between(g, "clients:198.51.100.0/24", "listener:public-dir");
    assert_string_equal(attr(e, "lf_clients"), "3");
    assert_non_null(strstr(attr(e, "label"), "3 clients<BR/>3 conn, 5 req"));
    e = edge_between(g, "clients:198.51.100.0/24", "listener:public-fe");
    assert_string_equal(attr(e, "lf_clients"), "2");
    assert_string_equal(attr(agnode(g, "clients:198.51.100.0/24", 0), "lf_clients_n"), "3");

    /* findings of warning and error severity at the foot */
    const char *gl = attr(g, "label");
    assert_non_null(strstr(gl, "<B>director-unpublished</B> dirweb.contoso.com"));
    assert_null(strstr(gl, "info-only"));
    agclose(g);
    free(m);
}

/* tests/golden/dot/NAME.dot; UPDATE=1 rewrites it. */
static void golden(const struct lf_model *m, const char *name)
{
    char got_path[128], want_path[512], err[256] = "";
    const char *top = getenv("TOP");
    snprintf(want_path, sizeof want_path, "%s/tests/golden/dot/%s.dot", top ? top : ".", name);
    if (getenv("UPDATE")) {
        assert_int_equal(lf_dot_write(m, want_path, NULL, NULL, err, sizeof err), 0);
        return;
    }
    path_in_tmp(got_path, sizeof got_path, "golden.dot");
    assert_int_equal(lf_dot_write(m, got_path, NULL, NULL, err, sizeof err), 0);
    char *got = slurp(got_path, NULL), *want = slurp(want_path, NULL);
    assert_non_null(got);
    if (!want)
        fail_msg("%s missing (UPDATE=1 writes it)", want_path);
    if (strcmp(got, want) != 0)
        fail_msg("%s differs from %s (UPDATE=1 rewrites it)", got_path, want_path);
    free(got);
    free(want);
}

static void test_golden_healthy(void **state)
{
    (void)state;
    struct lf_model *m = healthy_model();
    golden(m, "healthy-model");
    free(m);
}

static void test_golden_broken(void **state)
{
    (void)state;
    struct lf_model *m = broken_model();
    golden(m, "broken-model");
    free(m);
}

/* Same model, same bytes, whatever else is rendered; SVG and PNG come out, and stderr stays quiet. */
static void test_render_deterministic_quiet(void **state)
{
    (void)state;
    struct lf_model *m = broken_model();
    char d1[128], d2[128], svg[128], png[128], errlog[128], err[256] = "";
    path_in_tmp(d1, sizeof d1, "a.dot");
    path_in_tmp(d2, sizeof d2, "b.dot");
    path_in_tmp(svg, sizeof svg, "a.svg");
    path_in_tmp(png, sizeof png, "a.png");
    path_in_tmp(errlog, sizeof errlog, "stderr");
    assert_int_equal(lf_dot_write(m, d1, NULL, NULL, err, sizeof err), 0);

    fflush(stderr);
    int saved = dup(2);
    FILE *el = fopen(errlog, "w");
    assert_non_null(el);
    dup2(fileno(el), 2);
    int rc = lf_dot_write(m, d2, svg, png, err, sizeof err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(el);
    assert_int_equal(rc, 0);

    size_t n1, n2, ne, ns, np;
    char *a = slurp(d1, &n1), *b = slurp(d2, &n2), *e = slurp(errlog, &ne), *s = slurp(svg, &ns), *p = slurp(png, &np);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    assert_string_equal(e, "");
    assert_non_null(strstr(s, "</svg>"));
    assert_non_null(strstr(s, "director&#45;unpublished, wrong&#45;pool"));
    assert_true(np > 1000);
    assert_memory_equal(p, "\x89PNG\r\n\x1a\n", 8);
    free(a);
    free(b);
    free(e);
    free(s);
    free(p);
    free(m);
}

static void test_errors_name_the_file(void **state)
{
    (void)state;
    struct lf_model *m = healthy_model();
    char err[256] = "";
    assert_int_equal(lf_dot_write(m, "/nonexistent-dir/x.dot", NULL, NULL, err, sizeof err), -1);
    assert_string_equal(err, "/nonexistent-dir/x.dot: cannot write the diagram: No such file or directory");
    err[0] = 0;
    assert_int_equal(lf_dot_write(m, NULL, "/nonexistent-dir/x.svg", NULL, err, sizeof err), -1);
    assert_string_equal(err, "/nonexistent-dir/x.svg: cannot write the diagram: No such file or directory");
    err[0] = 0;
    assert_int_equal(lf_dot_write(m, NULL, NULL, "/nonexistent-dir/x.png", err, sizeof err), -1);
    assert_string_equal(err, "/nonexistent-dir/x.png: cannot write the diagram: No such file or directory");
    if (access("/dev/full", W_OK) == 0) {
        err[0] = 0;
        assert_int_equal(lf_dot_write(m, "/dev/full", NULL, NULL, err, sizeof err), -1);
        assert_non_null(strstr(err, "/dev/full: cannot write the diagram"));
        err[0] = 0;
        assert_int_equal(lf_dot_write(m, NULL, "/dev/full", NULL, err, sizeof err), -1);
        assert_non_null(strstr(err, "/dev/full: cannot write the diagram"));
    }
    assert_int_equal(lf_dot_write(m, NULL, NULL, NULL, err, sizeof err), 0);
    free(m);
}

/* An empty model, and one whose counts and indexes are out of range, still give a graph Graphviz reads. */
static void test_empty_and_out_of_range(void **state)
{
    (void)state;
    struct lf_model *m = calloc(1, sizeof *m);
    Agraph_t *g = write_and_read(m, "empty.dot");
    assert_int_equal(agnnodes(g), 0);
    agclose(g);
    free(m);

    m = healthy_model();
    m->listeners[0].nnames = 1000;
    m->paths[0].listener = 99;
    m->paths[1].server = 99;
    m->paths[1].nnames = -3;
    m->paths[1].nservices = 400;
    m->client_edges[0].listener = -1;
    char svg[128], err[256] = "";
    path_in_tmp(svg, sizeof svg, "odd.svg");
    assert_int_equal(lf_dot_write(m, NULL, svg, NULL, err, sizeof err), 0);
    g = write_and_read(m, "odd.dot");
    char edges[512];
    listener_edges(g, edges, sizeof edges);
    assert_string_equal(edges, "listener:public-dir>server:(none)");
    assert_int_equal(agnedges(g), 2);
    agclose(g);
    free(m);
}

/* Many client networks: the five busiest keep a node, the rest share one, with their counts summed per listener. */
static void test_clients_folded(void **state)
{
    (void)state;
    struct lf_model *m = healthy_model();
    m->nclient_edges = 0;
    for (int i = 0; i < 12; i++) {
        char net[64];
        snprintf(net, sizeof net, "198.51.%d.0/24 (2 clients)", 100 + i);
        add_clients(m, net, 0, 2, 1, (uint64_t)(10 + i)); /* public-fe; the later, the busier */
        add_clients(m, net, 1, 2, 1, 1);                  /* public-dir */
    }
    Agraph_t *g = write_and_read(m, "folded.dot");
    Agraph_t *cl = agsubg(g, "cluster_clients", 0);
    assert_non_null(cl);
    assert_int_equal(agnnodes(cl), 6);
    assert_null(agnode(g, "clients:198.51.106.0/24", 0));
    assert_non_null(agnode(g, "clients:198.51.107.0/24", 0));
    assert_non_null(agnode(g, "clients:198.51.111.0/24", 0));
    Agnode_t *other = agnode(g, "clients:(other)", 0);
    assert_non_null(other);
    assert_string_equal(attr(other, "lf_clients_n"), "14");
    assert_non_null(strstr(attr(other, "label"), "7 networks"));
    Agedge_t *e = edge_between(g, "clients:(other)", "listener:public-fe");
    assert_string_equal(attr(e, "lf_requests"), "91"); /* 10+11+...+16 */
    assert_string_equal(attr(e, "lf_connections"), "7");
    assert_string_equal(attr(e, "lf_clients"), "14");
    assert_non_null(strstr(attr(e, "label"), "14 clients<BR/>7 conn, 91 req"));
    e = edge_between(g, "clients:(other)", "listener:public-dir");
    assert_string_equal(attr(e, "lf_requests"), "7");
    agclose(g);
    free(m);
}

/* A path that works but carries a finding keeps its colour and shows the code. */
static void test_codes_on_working_path(void **state)
{
    (void)state;
    struct lf_model *m = healthy_model();
    snprintf(m->paths[0].finding_codes, sizeof m->paths[0].finding_codes, "bridge-internal-443");
    Agraph_t *g = write_and_read(m, "codes.dot");
    Agedge_t *e = edge_between(g, "listener:public-fe", "server:fe01");
    assert_string_equal(attr(e, "lf_state"), "used");
    assert_string_equal(attr(e, "lf_codes"), "bridge-internal-443");
    assert_string_equal(attr(e, "color"), "gray25");
    assert_non_null(strstr(attr(e, "label"), "<FONT COLOR=\"#a05a00\"><B>bridge-internal-443</B>"));
    agclose(g);
    free(m);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lf-dot-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthy_structure),      cmocka_unit_test(test_broken_structure),
        cmocka_unit_test(test_golden_healthy),         cmocka_unit_test(test_golden_broken),
        cmocka_unit_test(test_render_deterministic_quiet), cmocka_unit_test(test_errors_name_the_file),
        cmocka_unit_test(test_empty_and_out_of_range), cmocka_unit_test(test_clients_folded),
        cmocka_unit_test(test_codes_on_working_path),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
