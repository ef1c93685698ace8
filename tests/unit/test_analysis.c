/* test_analysis.c: service classes, enrichment, stitching, sign-ins and verdicts, each finding on and off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lyncflow/analysis.h"
#include "lyncflow/sinks.h"
#include "lyncflow/topology.h"

/* ---- service classification, as a table ---- */

static const struct {
    const char *uri, *host, *want;
} services[] = {
    {"/CertProv/CertProvisioningService.svc/mex", NULL, "certprov"},
    {"/certprov/CertProvisioningService.svc/WebTicket_Proof_SHA1", NULL, "certprov"},
    {"/WebTicket/WebTicketService.svc", NULL, "webticket"},
    {"/WebTicket/WebTicketService.svc/Auth", NULL, "webticket"},
    {"/WebTicket/oauthtoken", NULL, "webticket"},
    {"/abs/handler/C-0e8e-0e97.lsabs", NULL, "abs"},
    {"/ABS/ext/Handler", NULL, "abs"},
    {"/groupexpansion/service.svc/WebTicket_Bearer", NULL, "groupexpansion"},
    {"/RgsClients/AgentService.svc/mex", NULL, "rgs"},
    {"/Autodiscover/AutodiscoverService.svc/root/oauth/user?originalDomain=contoso.com", NULL, "autodiscover"},
    {"/autodiscover/xframe/XFrame.html", NULL, "autodiscover"},
    {"/ucwa/v1/applications", NULL, "ucwa"},
    {"/Mcx/McxService.svc", NULL, "mcx"},
    {"/Reach/sip.svc", NULL, "reach"},
    {"/lwa/WebPages/LwaClient.aspx", NULL, "lwa"},
    {"/meet/alice/ABCD1234", NULL, "meet"},
    {"/Dialin", NULL, "dialin"},
    {"/Scheduler/", NULL, "scheduler"},
    {"/PassiveAuth/", NULL, "passiveauth"},
    {"/PersistentChat/RM/", NULL, "persistentchat"},
    {"/HybridConfig/HybridConfigService.svc", NULL, "hybridconfig"},
    {"/CollabContent/x", NULL, "collabcontent"},
    {"/etc/place/null/abc", NULL, "collabcontent"},
    {"/RequestHandlerExt/", NULL, "requesthandler"},
    {"/DeviceUpdateFiles_Ext/x.cab", NULL, "deviceupdate"},
    {"/LocationInformation/liservice.svc", NULL, "lis"},
    {"https://feweb.contoso.com/abs/handler/x", NULL, "abs"},
    {"/", "lyncdiscover.contoso.com", "discover"},
    {"/?sipuri=alice@contoso.com", "LyncDiscover.contoso.com", "discover"},
    {"/Autodiscover/AutodiscoverService.svc/root", "lyncdiscover.contoso.com", "autodiscover"},
    {"/alice/ABCD", "meet.contoso.com", "meet"},
    {"/", "dialin.contoso.com", "dialin"},
    {"/", "feweb.contoso.com", ""},
    {"/absolutely/not", NULL, ""},
    {"/webticketx", NULL, ""},
    {"", NULL, ""},
    {"/index.html", NULL, ""},
};

static void test_service_classify(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        const char *got = lf_service_classify(services[i].uri, services[i].host);
        if (strcmp(got, services[i].want) != 0)
            fail_msg("%s (host %s): got '%s', want '%s'", services[i].uri, services[i].host ? services[i].host : "-",
                     got, services[i].want);
    }
    assert_string_equal(lf_service_classify(NULL, NULL), "");
}

/* ---- a deployment like the article's, and a sink that keeps events ---- */

#define PROXY "10.0.1.5"
#define DIR_ADDR "10.0.1.10:4443"
#define FE_ADDR "10.0.1.20:4443"
#define L_DIR "203.0.113.10:443"
#define L_FE "203.0.113.11:443"

static struct lf_topology topo;

static void make_topo(void)
{
    memset(&topo, 0, sizeof topo);
    topo.nlisteners = 2;
    LF_SET(topo.listeners[0].name, "public-dir");
    lf_addr_parse(L_DIR, &topo.listeners[0].addr);
    topo.listeners[0].nnames = 3;
    LF_SET(topo.listeners[0].names[0], "dirweb.contoso.com");
    LF_SET(topo.listeners[0].names[1], "meet.contoso.com");
    LF_SET(topo.listeners[0].names[2], "lyncdiscover.contoso.com");
    LF_SET(topo.listeners[1].name, "public-fe");
    lf_addr_parse(L_FE, &topo.listeners[1].addr);
    topo.listeners[1].nnames = 1;
    LF_SET(topo.listeners[1].names[0], "feweb.contoso.com");
    topo.nservers = 2;
    LF_SET(topo.servers[0].name, "dir01");
    topo.servers[0].role = LF_ROLE_DIRECTOR;
    lf_addr_parse(DIR_ADDR, &topo.servers[0].addr);
    LF_SET(topo.servers[0].fqdn, "dirweb.contoso.com");
    LF_SET(topo.servers[1].name, "fe01");
    topo.servers[1].role = LF_ROLE_FRONTEND;
    lf_addr_parse(FE_ADDR, &topo.servers[1].addr);
    LF_SET(topo.servers[1].fqdn, "feweb.contoso.com");
    LF_SET(topo.meet, "meet.contoso.com");
    LF_SET(topo.discover, "lyncdiscover.contoso.com");
}

struct keep {
    struct lf_event *ev;
    size_t n, cap;
    int finished;
};

static void keep_event(void *ctx, const struct lf_event *ev)
{
    struct keep *k = ctx;
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 64;
        k->ev = realloc(k->ev, k->cap * sizeof *k->ev);
    }
    lf_event_init(&k->ev[k->n], LF_EV_FLOW, 0);
    lf_event_copy(&k->ev[k->n++], ev);
}

static void keep_finish(void *ctx) { ((struct keep *)ctx)->finished++; }

struct run {
    struct lf_analysis *an;
    struct keep keep;
    struct lf_sink sink;
    lf_time t;
    uint64_t next_flow;
};

static struct run *run_new(int with_topo)
{
    struct run *r = calloc(1, sizeof *r);
    make_topo();
    r->an = lf_analysis_new(with_topo ? &topo : NULL);
    r->sink.event = keep_event;
    r->sink.finish = keep_finish;
    r->sink.ctx = &r->keep;
    lf_analysis_add_sink(r->an, &r->sink);
    r->t = 1700000000LL * 1000000;
    r->next_flow = 1;
    return r;
}

static void run_free(struct run *r)
{
    lf_analysis_free(r->an);
    free(r->keep.ev);
    free(r);
}

static void addr(const char *s, struct lf_addr *a) { assert_int_equal(lf_addr_parse(s, a), 0); }

static void send_tls(struct run *r, lf_time ts, uint64_t flow, const char *cli, const char *srv, const char *sni)
{
    struct lf_event ev;
    lf_event_init(&ev, LF_EV_TLS, ts);
    ev.flow_id = flow;
    addr(cli, &ev.client);
    addr(srv, &ev.server);
    LF_EV_SET(&ev, u.tls.sni, sni);
    ev.u.tls.version = 0x0304;
    ev.u.tls.cipher = 0x1301;
    lf_analysis_event(r->an, &ev);
}

static struct lf_event http(lf_time ts, uint64_t flow, const char *cli, const char *srv, const char *host,
                            const char *method, const char *uri, int status)
{
    struct lf_event ev;
    lf_event_init(&ev, LF_EV_HTTP, ts);
    ev.flow_id = flow;
    addr(cli, &ev.client);
    addr(srv, &ev.server);
    LF_EV_SET(&ev, u.http.host, host);
    LF_EV_SET(&ev, u.http.sni, host);
    LF_EV_SET(&ev, u.http.method, method);
    LF_EV_SET(&ev, u.http.uri, uri);
    LF_SET(ev.u.http.source, "pcap");
    LF_EV_SET(&ev, u.http.user_agent, "OC/4.0.7577.108 (Microsoft Lync 2010)");
    ev.u.http.status = (uint16_t)status;
    ev.u.http.decrypted = 1;
    ev.u.http.latency_us = 6000;
    return ev;
}

/* One client request through the proxy: the front leg, and 3 ms later the
 * proxy's request to server (back leg) unless server is NULL (the proxy answered). */
static void through(struct run *r, lf_time ts, const char *cli, uint64_t fflow, const char *listener, const char *host,
                    const char *server, uint64_t bflow, const char *method, const char *uri, int status,
                    const char *user)
{
    struct lf_event f = http(ts, fflow, cli, listener, host, method, uri, status);
    if (user)
        LF_EV_SET(&f, u.http.user, user);
    lf_analysis_event(r->an, &f);
    if (server) {
        struct lf_event b = http(ts + 3000, bflow, PROXY ":40000", server, host, method, uri, status);
        lf_analysis_event(r->an, &b);
    }
}

static const struct lf_event *find_ev(const struct run *r, int type, int side_back, const char *uri_or_sni)
{
    for (size_t i = 0; i < r->keep.n; i++) {
        const struct lf_event *e = &r->keep.ev[i];
        if (e->type != type)
            continue;
        int back = e->client.family == 4 && e->client.ip[0] == 10;
        if (back != side_back)
            continue;
        const char *s = type == LF_EV_HTTP ? e->u.http.uri : e->u.tls.sni;
        if (!strcmp(s, uri_or_sni))
            return e;
    }
    return NULL;
}

static int count_findings(const struct run *r, const char *code)
{
    int n = 0;
    for (size_t i = 0; i < r->keep.n; i++)
        if (r->keep.ev[i].type == LF_EV_FINDING && (!code || !strcmp(r->keep.ev[i].u.finding.code, code)))
            n++;
    return n;
}

static int count_bad_findings(const struct run *r)
{
    int n = 0;
    for (size_t i = 0; i < r->keep.n; i++)
        if (r->keep.ev[i].type == LF_EV_FINDING && r->keep.ev[i].u.finding.severity != LF_SEV_INFO)
            n++;
    return n;
}

static const struct lf_ev_finding *finding(const struct run *r, const char *code)
{
    for (size_t i = 0; i < r->keep.n; i++)
        if (r->keep.ev[i].type == LF_EV_FINDING && !strcmp(r->keep.ev[i].u.finding.code, code))
            return &r->keep.ev[i].u.finding;
    fail_msg("no finding %s", code);
    return NULL;
}

static void finish(struct run *r)
{
    struct lf_ev_stats st;
    memset(&st, 0, sizeof st);
    st.packets = 42;
    lf_analysis_finish(r->an, &st);
    if (getenv("LF_TEST_VERBOSE"))
        for (size_t i = 0; i < r->keep.n; i++)
            if (r->keep.ev[i].type == LF_EV_FINDING)
                fprintf(stderr, "# finding %s %s: %s\n", r->keep.ev[i].u.finding.code, r->keep.ev[i].u.finding.subject,
                        r->keep.ev[i].u.finding.message);
}

/* The article's Lync 2010 sign-in, through the proxy: Director first, then Front End. */
static void healthy_signin(struct run *r, const char *client, uint64_t flow0, lf_time t0)
{
    const char *D = "dirweb.contoso.com", *F = "feweb.contoso.com";
    char cli[64];
    snprintf(cli, sizeof cli, "%s:50000", client);
    uint64_t df = flow0, fb = flow0 + 1, ff = flow0 + 2, fbb = flow0 + 3;
    lf_time t = t0;
    send_tls(r, t, df, cli, L_DIR, D);
    send_tls(r, t + 2000, fb, PROXY ":40000", DIR_ADDR, D);
    through(r, t + 10000, cli, df, L_DIR, D, DIR_ADDR, fb, "POST", "/CertProv/CertProvisioningService.svc/mex", 200,
            NULL);
    t += 1000000;
    through(r, t, cli, df, L_DIR, D, DIR_ADDR, fb, "POST", "/WebTicket/WebTicketService.svc/mex", 200, NULL);
    through(r, t + 100000, cli, df, L_DIR, D, DIR_ADDR, fb, "POST", "/WebTicket/WebTicketService.svc", 401, NULL);
    through(r, t + 200000, cli, df, L_DIR, D, DIR_ADDR, fb, "POST", "/WebTicket/WebTicketService.svc", 401, NULL);
    through(r, t + 300000, cli, df, L_DIR, D, DIR_ADDR, fb, "POST", "/WebTicket/WebTicketService.svc", 200,
            "sip:test1@mslync.net");
    through(r, t + 400000, cli, df, L_DIR, D, DIR_ADDR, fb, "POST",
            "/CertProv/CertProvisioningService.svc/WebTicket_Proof_SHA1", 200, NULL);
    t += 7000000;
    send_tls(r, t, ff, cli, L_FE, F);
    send_tls(r, t + 2000, fbb, PROXY ":40001", FE_ADDR, F);
    through(r, t + 10000, cli, ff, L_FE, F, FE_ADDR, fbb, "POST", "/RgsClients/AgentService.svc/mex", 200, NULL);
    through(r, t + 500000, cli, ff, L_FE, F, FE_ADDR, fbb, "POST", "/WebTicket/WebTicketService.svc/cert", 200, NULL);
    through(r, t + 3000000, cli, ff, L_FE, F, FE_ADDR, fbb, "POST", "/groupexpansion/service.svc/WebTicket_Bearer",
            200, NULL);
    through(r, t + 28000000, cli, ff, L_FE, F, FE_ADDR, fbb, "GET", "/abs/handler/C-0e8e-0e97.lsabs", 200,
            "sip:test1@mslync.net");
}

static void test_enrichment_and_stitching(void **state)
{
    (void)state;
    struct run *r = run_new(1);
    /* enrichment is visible to the caller at once */
    struct lf_event ev = http(r->t, 99, "198.51.100.7:50000", L_DIR, "meet.contoso.com", "GET", "/alice/ABCD", 200);
    lf_analysis_event(r->an, &ev);
    assert_int_equal(ev.role, LF_ROLE_DIRECTOR);
    assert_string_equal(ev.simple_url, "meet");
    assert_string_equal(ev.service, "meet");
    assert_string_equal(ev.listener, "public-dir");
    assert_string_equal(ev.server_name, "dir01");
    healthy_signin(r, "198.51.100.7", 1, r->t + 1000);
    finish(r);
    assert_int_equal(r->keep.finished, 1);

    const struct lf_event *f = find_ev(r, LF_EV_HTTP, 0, "/WebTicket/WebTicketService.svc/mex");
    const struct lf_event *b = find_ev(r, LF_EV_HTTP, 1, "/WebTicket/WebTicketService.svc/mex");
    assert_non_null(f);
    assert_non_null(b);
    assert_int_equal(f->role, LF_ROLE_DIRECTOR);
    assert_string_equal(f->listener, "public-dir");
    assert_string_equal(f->server_name, "dir01");
    assert_string_equal(f->service, "webticket");
    assert_int_equal(f->stitched, 1);
    assert_int_equal(b->stitched, 1);
    assert_string_equal(b->listener, "public-dir");
    assert_string_equal(b->server_name, "dir01");
    assert_int_equal(b->role, LF_ROLE_DIRECTOR);
    f = find_ev(r, LF_EV_HTTP, 0, "/abs/handler/C-0e8e-0e97.lsabs");
    assert_int_equal(f->role, LF_ROLE_FRONTEND);
    assert_string_equal(f->listener, "public-fe");
    assert_string_equal(f->server_name, "fe01");
    assert_string_equal(f->service, "abs");
    assert_string_equal(f->simple_url, "");
    const struct lf_event *t = find_ev(r, LF_EV_TLS, 0, "feweb.contoso.com");
    assert_int_equal(t->stitched, 1);
    assert_string_equal(t->server_name, "fe01");
    t = find_ev(r, LF_EV_TLS, 1, "feweb.contoso.com");
    assert_string_equal(t->listener, "public-fe");

    /* every tls/http event has a role; sinks see time order; stats last with the stitched count */
    size_t n = r->keep.n;
    for (size_t i = 0; i < n; i++) {
        const struct lf_event *e = &r->keep.ev[i];
        if (e->type == LF_EV_TLS || e->type == LF_EV_HTTP)
            assert_true(e->role == LF_ROLE_DIRECTOR || e->role == LF_ROLE_FRONTEND);
        if (i && e->type == LF_EV_HTTP && r->keep.ev[i - 1].type == LF_EV_HTTP)
            assert_true(r->keep.ev[i - 1].ts <= e->ts);
    }
    assert_int_equal(r->keep.ev[n - 1].type, LF_EV_STATS);
    assert_int_equal(r->keep.ev[n - 1].u.stats.packets, 42);
    /* 2 TLS pairs and 10 request pairs */
    assert_int_equal(r->keep.ev[n - 1].u.stats.stitched, 12);

    /* the model: paths with counts, names and services; client edges */
    const struct lf_model *m = lf_analysis_model(r->an);
    assert_int_equal(m->nlisteners, 2);
    assert_int_equal(m->nservers, 2);
    int found = 0;
    for (int i = 0; i < m->npaths; i++) {
        const struct lf_path *p = &m->paths[i];
        if (p->listener == 1 && p->server == 1) {
            found = 1;
            assert_true(p->configured);
            assert_true(p->observed);
            assert_false(p->failing);
            assert_int_equal(p->requests, 4);
            assert_int_equal(p->status_class[2], 4);
            assert_string_equal(p->names[0], "feweb.contoso.com");
        }
    }
    assert_true(found);
    assert_int_equal(m->nclient_edges, 2);
    assert_string_equal(m->client_edges[0].clients, "198.51.100.7");
    assert_int_equal(m->listeners[0].name_kind[1], 1); /* meet: simple URL */
    assert_int_equal(m->listeners[0].name_kind[0], 2); /* dirweb: web services FQDN */
    assert_int_equal(count_bad_findings(r), 0);
    run_free(r);
}

static const struct lf_signin *signin_of(const struct lf_model *m, const char *client)
{
    for (uint32_t i = 0; i < m->nsignins; i++) {
        char ip[64];
        lf_ip_format(&m->signins[i].client, ip, sizeof ip);
        if (!strcmp(ip, client))
            return &m->signins[i];
    }
    return NULL;
}

static void test_signin_grouping(void **state)
{
    (void)state;
    struct run *r = run_new(1);
    /* two clients, interleaved by 0.5 s */
    healthy_signin(r, "198.51.100.7", 1, r->t);
    healthy_signin(r, "198.51.100.8", 10, r->t + 500000);
    finish(r);
    const struct lf_model *m = lf_analysis_model(r->an);
    assert_int_equal(m->nsignins, 2);
    const struct lf_signin *s = signin_of(m, "198.51.100.7");
    assert_non_null(s);
    assert_string_equal(s->user, "sip:test1@mslync.net");
    assert_string_equal(s->agent, "Lync 2010");
    assert_int_equal(s->verdict, LF_VERDICT_COMPLETE);
    assert_string_equal(s->phase, "homepool");
    assert_int_equal(s->nsteps, 10);
    /* Director first, then Front End, in time order */
    assert_string_equal(s->steps[0].what, "/CertProv/CertProvisioningService.svc/mex");
    for (uint32_t i = 0; i < s->nsteps; i++) {
        assert_int_equal(s->steps[i].role, i < 6 ? LF_ROLE_DIRECTOR : LF_ROLE_FRONTEND);
        assert_string_equal(s->steps[i].server, i < 6 ? "dir01" : "fe01");
        if (i)
            assert_true(s->steps[i - 1].ts <= s->steps[i].ts);
        assert_false(s->steps[i].failed);
    }
    /* the two 401s are challenges */
    assert_int_equal(s->steps[2].status, 401);
    assert_true(s->steps[2].challenge);
    assert_true(s->steps[3].challenge);
    assert_string_equal(s->steps[0].service, "certprov");
    assert_int_equal(s->steps[0].phase, 3);
    assert_int_equal(s->steps[2].phase, 2);
    assert_int_equal(s->steps[7].phase, 4); /* a web ticket on the Front End after the Director */

    /* signin events at the end, before the stats */
    int signins = 0;
    for (size_t i = 0; i < r->keep.n; i++)
        if (r->keep.ev[i].type == LF_EV_SIGNIN) {
            signins++;
            assert_string_equal(lf_verdict_name(r->keep.ev[i].u.signin.verdict), "complete");
            assert_int_equal(r->keep.ev[i].u.signin.steps, 10);
        }
    assert_int_equal(signins, 2);
    run_free(r);
}

/* The article's two IIS excerpts alone: one sign-in, Director steps then Front End. */
static void test_iis_article(void **state)
{
    (void)state;
    struct run *r = run_new(0);
    static const struct {
        int sec;
        const char *server, *uri, *user;
        int status, sub;
        unsigned win32;
    } lines[] = {
        {7, "director", "/CertProv/CertProvisioningService.svc/mex", "", 200, 0, 0},
        {8, "director", "/WebTicket/WebTicketService.svc/mex", "", 200, 0, 0},
        {8, "director", "/WebTicket/WebTicketService.svc", "", 401, 0, 0},
        {8, "director", "/WebTicket/WebTicketService.svc", "", 401, 1, 2148074254u},
        {8, "director", "/WebTicket/WebTicketService.svc", "", 401, 1, 2148074252u},
        {15, "director", "/WebTicket/WebTicketService.svc", "", 401, 0, 0},
        {15, "director", "/WebTicket/WebTicketService.svc", "", 401, 1, 2148074254u},
        {15, "director", "/WebTicket/WebTicketService.svc", "sip:test1@mslync.net", 200, 0, 0},
        {15, "director", "/CertProv/CertProvisioningService.svc/WebTicket_Proof_SHA1", "MSLYNCtest", 200, 0, 0},
        {22, "frontend", "/RgsClients/AgentService.svc/mex", "", 200, 0, 0},
        {23, "frontend", "/WebTicket/WebTicketService.svc/cert", "", 200, 0, 0},
        {25, "frontend", "/groupexpansion/service.svc/WebTicket_Bearer", "", 200, 0, 0},
        {50, "frontend", "/abs/handler/C-0e8e-0e97.lsabs", "sip:test1@mslync.net", 200, 0, 0},
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        struct lf_event ev;
        lf_event_init(&ev, LF_EV_HTTP, r->t + lines[i].sec * 1000000LL);
        ev.server.port = 4443;
        LF_SET(ev.u.http.source, "iis");
        LF_EV_SET(&ev, u.http.log_server, lines[i].server);
        LF_EV_SET(&ev, u.http.method, "POST");
        LF_EV_SET(&ev, u.http.uri, lines[i].uri);
        LF_EV_SET(&ev, u.http.user, lines[i].user);
        LF_EV_SET(&ev, u.http.user_agent, "OC/4.0.7577.108 (Microsoft Lync 2010)");
        ev.u.http.status = (uint16_t)lines[i].status;
        ev.u.http.substatus = (uint16_t)lines[i].sub;
        ev.u.http.win32_status = lines[i].win32;
        lf_analysis_event(r->an, &ev);
    }
    finish(r);
    const struct lf_model *m = lf_analysis_model(r->an);
    assert_int_equal(m->nsignins, 1);
    const struct lf_signin *s = &m->signins[0];
    assert_int_equal(s->nsteps, 13);
    assert_int_equal(s->verdict, LF_VERDICT_COMPLETE);
    assert_string_equal(s->user, "sip:test1@mslync.net");
    for (int i = 2; i <= 6; i++)
        assert_true(s->steps[i].challenge);
    assert_int_equal(s->steps[0].role, LF_ROLE_DIRECTOR); /* inferred: auth services only */
    assert_int_equal(s->steps[12].role, LF_ROLE_FRONTEND); /* inferred: home-pool services */
    const struct lf_topology *t = lf_analysis_topology(r->an);
    assert_true(t->inferred);
    assert_int_equal(t->nservers, 2);
    assert_int_equal(t->servers[0].role, LF_ROLE_DIRECTOR);
    assert_int_equal(t->servers[1].role, LF_ROLE_FRONTEND);
    assert_int_equal(count_bad_findings(r), 0);

    /* the timeline: header, Director lines before Front End lines, no failure marks */
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    lf_timeline_write(out, m);
    fclose(out);
    assert_non_null(strstr(buf, "sign-in 1: client -, user sip:test1@mslync.net, agent Lync 2010\n"));
    assert_non_null(strstr(buf, "  verdict complete; phase homepool\n"));
    char *d = strstr(buf, "- -> director (director)");
    char *f = strstr(buf, "- -> frontend (frontend)");
    assert_true(d && f && d < f);
    assert_non_null(strstr(buf, "401.1 0x8009030E challenge"));
    assert_null(strstr(buf, "FAILED"));
    assert_non_null(strstr(buf, "findings: none\n"));
    free(buf);
    run_free(r);
}

static const struct lf_signin *only_signin(const struct run *r)
{
    const struct lf_model *m = lf_analysis_model(r->an);
    assert_int_equal(m->nsignins, 1);
    return &m->signins[0];
}

static void test_verdicts(void **state)
{
    (void)state;
    const char *D = "dirweb.contoso.com";
    /* a 502 from the proxy stops the sign-in at step 2 */
    struct run *r = run_new(1);
    through(r, r->t, "198.51.100.7:50000", 1, L_DIR, D, DIR_ADDR, 2, "GET", "/WebTicket/WebTicketService.svc/mex", 200,
            NULL);
    through(r, r->t + 1000, "198.51.100.7:50000", 1, L_DIR, D, NULL, 0, "POST", "/CertProv/CertProvisioningService.svc",
            502, NULL);
    finish(r);
    const struct lf_signin *s = only_signin(r);
    assert_int_equal(s->verdict, LF_VERDICT_FAILED);
    assert_int_equal(s->failed_step, 2);
    assert_string_equal(s->reason, "step 2: HTTP 502 from the proxy");
    assert_string_equal(s->phase, "certificate");
    run_free(r);

    /* no response */
    r = run_new(1);
    through(r, r->t, "198.51.100.7:50000", 1, L_DIR, D, NULL, 0, "POST", "/WebTicket/WebTicketService.svc", 0, NULL);
    finish(r);
    s = only_signin(r);
    assert_int_equal(s->verdict, LF_VERDICT_FAILED);
    assert_string_equal(s->reason, "step 1: no response");
    run_free(r);

    /* a TLS alert with nothing decrypted */
    r = run_new(1);
    struct lf_event ev;
    lf_event_init(&ev, LF_EV_TLS, r->t);
    ev.flow_id = 5;
    addr("198.51.100.7:50000", &ev.client);
    addr(L_FE, &ev.server);
    LF_EV_SET(&ev, u.tls.sni, "feweb.contoso.com");
    ev.u.tls.alert_from = 'c';
    ev.u.tls.alert_level = 2;
    ev.u.tls.alert_desc = 48;
    lf_analysis_event(r->an, &ev);
    finish(r);
    s = only_signin(r);
    assert_int_equal(s->verdict, LF_VERDICT_FAILED);
    assert_string_equal(s->reason, "step 1: TLS alert 48 from the client");
    assert_int_equal(s->steps[0].kind, LF_EV_TLS);
    assert_string_equal(s->steps[0].what, "feweb.contoso.com");
    run_free(r);

    /* a 401 never followed by a ticket: failed, not a challenge; a 404 retried with success is recovered */
    r = run_new(1);
    through(r, r->t, "198.51.100.7:50000", 1, L_FE, "feweb.contoso.com", FE_ADDR, 2, "GET", "/abs/handler/x.lsabs",
            404, NULL);
    through(r, r->t + 1000, "198.51.100.7:50000", 1, L_FE, "feweb.contoso.com", FE_ADDR, 2, "GET",
            "/abs/handler/y.lsabs", 200, NULL);
    through(r, r->t + 2000, "198.51.100.7:50000", 1, L_FE, "feweb.contoso.com", FE_ADDR, 2, "POST",
            "/groupexpansion/service.svc", 401, NULL);
    finish(r);
    s = only_signin(r);
    assert_true(s->steps[0].failed);
    assert_true(s->steps[0].recovered);
    assert_true(s->steps[2].failed);
    assert_false(s->steps[2].challenge);
    assert_int_equal(s->verdict, LF_VERDICT_FAILED);
    assert_int_equal(s->failed_step, 3);
    run_free(r);

    /* only the Director's part: incomplete */
    r = run_new(1);
    through(r, r->t, "198.51.100.7:50000", 1, L_DIR, D, DIR_ADDR, 2, "POST", "/WebTicket/WebTicketService.svc", 200,
            NULL);
    finish(r);
    s = only_signin(r);
    assert_int_equal(s->verdict, LF_VERDICT_INCOMPLETE);
    assert_string_equal(s->phase, "webticket");
    run_free(r);
}

/* Secrets for the client side only: requests take their server from their connection's stitched TLS leg. */
static void test_requests_through_stitched_connection(void **state)
{
    (void)state;
    struct run *r = run_new(1);
    const char *cli = "198.51.100.7:50000";
    send_tls(r, r->t, 1, cli, L_DIR, "meet.contoso.com");
    send_tls(r, r->t + 2000, 2, PROXY ":40000", FE_ADDR, "fe01.contoso.local");
    struct lf_event e = http(r->t + 100000, 1, cli, L_DIR, "meet.contoso.com", "GET", "/alice/ABCD", 200);
    lf_analysis_event(r->an, &e);
    e = http(r->t + 200000, 1, cli, L_DIR, "meet.contoso.com", "GET", "/alice/ABCD/join", 200);
    lf_analysis_event(r->an, &e);
    finish(r);
    const struct lf_event *f = find_ev(r, LF_EV_HTTP, 0, "/alice/ABCD/join");
    assert_string_equal(f->server_name, "fe01");
    assert_int_equal(f->role, LF_ROLE_FRONTEND);
    assert_int_equal(f->stitched, 0);
    assert_int_equal(find_ev(r, LF_EV_TLS, 0, "meet.contoso.com")->stitched, 1);
    const struct lf_signin *s = only_signin(r);
    assert_int_equal(s->nsteps, 2); /* the requests replace their connection's TLS step */
    assert_string_equal(s->steps[0].server, "fe01");
    assert_int_equal(count_findings(r, "simple-url-not-director"), 1);
    assert_int_equal(count_bad_findings(r), 1);
    run_free(r);
}

/* A flow event takes the role of what its connection reached. */
static void test_flow_roles(void **state)
{
    (void)state;
    struct run *r = run_new(1);
    send_tls(r, r->t, 1, "198.51.100.7:50000", L_FE, "feweb.contoso.com");
    send_tls(r, r->t + 2000, 2, PROXY ":40000", FE_ADDR, "feweb.contoso.com");
    struct lf_event ev;
    lf_event_init(&ev, LF_EV_FLOW, r->t);
    ev.flow_id = 1;
    addr("198.51.100.7:50000", &ev.client);
    addr(L_FE, &ev.server);
    ev.u.flow.answered = 1;
    ev.u.flow.closed = 1;
    lf_analysis_event(r->an, &ev);
    ev.flow_id = 2;
    addr(PROXY ":40000", &ev.client);
    addr(FE_ADDR, &ev.server);
    lf_analysis_event(r->an, &ev);
    finish(r);
    int flows = 0;
    for (size_t i = 0; i < r->keep.n; i++)
        if (r->keep.ev[i].type == LF_EV_FLOW) {
            flows++;
            assert_int_equal(r->keep.ev[i].role, LF_ROLE_FRONTEND);
            assert_string_equal(r->keep.ev[i].server_name, "fe01");
            assert_string_equal(r->keep.ev[i].listener, "public-fe");
        }
    assert_int_equal(flows, 2);
    run_free(r);
}

/* A late event (older ts than ones already seen) is still put in order. */
static void test_late_event_order(void **state)
{
    (void)state;
    struct run *r = run_new(1);
    const char *F = "feweb.contoso.com";
    through(r, r->t + 500000, "198.51.100.7:50000", 1, L_FE, F, FE_ADDR, 2, "GET", "/abs/handler/b", 200, NULL);
    through(r, r->t + 100000, "198.51.100.7:50000", 1, L_FE, F, FE_ADDR, 2, "GET", "/abs/handler/a", 200, NULL);
    through(r, r->t + 500000, "198.51.100.7:50000", 1, L_FE, F, FE_ADDR, 2, "GET", "/abs/handler/c", 200, NULL);
    finish(r);
    const struct lf_signin *s = only_signin(r);
    assert_int_equal(s->nsteps, 3);
    assert_string_equal(s->steps[0].what, "/abs/handler/a");
    assert_string_equal(s->steps[1].what, "/abs/handler/b");
    assert_string_equal(s->steps[2].what, "/abs/handler/c");
    run_free(r);
}

/* Events of mixed types and string lengths pass through the hold queue's slots: each reaches the sinks
 * with its own strings whole, whatever an earlier event left in its slot. */
static void test_held_events_come_out_clean(void **state)
{
    (void)state;
    struct run *r = run_new(1);
    for (int i = 0; i < 1200; i++) {
        lf_time ts = r->t + (lf_time)i * 1000;
        if (i % 3 == 0) {
            struct lf_event h = http(ts, 1000 + (uint64_t)i, "198.51.100.7:50000", L_FE, "feweb.contoso.com", "GET",
                                     "/abs/handler/a-rather-long-path-that-reaches-past-a-flow-event", 200);
            size_t n = 1000 + (size_t)i * 40;
            char *loc = malloc(n + 1);
            memset(loc, 'L', n);
            loc[n] = 0;
            LF_EV_SET(&h, u.http.location, loc);
            free(loc);
            lf_analysis_event(r->an, &h);
            lf_event_release(&h);
        } else {
            struct lf_event f;
            lf_event_init(&f, LF_EV_FLOW, ts);
            f.flow_id = 5000 + (uint64_t)i;
            addr("198.51.100.8:50001", &f.client);
            addr(L_FE, &f.server);
            f.u.flow.c2s_packets = (uint64_t)i;
            lf_analysis_event(r->an, &f);
        }
    }
    finish(r);
    size_t flows = 0, https = 0;
    for (size_t i = 0; i < r->keep.n; i++) {
        const struct lf_event *e = &r->keep.ev[i];
        if (e->type == LF_EV_FLOW) {
            assert_int_equal(e->u.flow.c2s_packets, e->flow_id - 5000);
            flows++;
        } else if (e->type == LF_EV_HTTP) {
            assert_int_equal(strlen(e->u.http.location), 1000 + (e->flow_id - 1000) * 40);
            assert_int_equal(strspn(e->u.http.location, "L"), strlen(e->u.http.location));
            assert_int_equal(e->truncated, 0);
            https++;
        }
    }
    assert_int_equal(flows, 800);
    assert_int_equal(https, 400);
    run_free(r);
}

static const struct lf_event *by_flow(const struct run *r, uint64_t flow)
{
    for (size_t i = 0; i < r->keep.n; i++)
        if (r->keep.ev[i].flow_id == flow && r->keep.ev[i].type != LF_EV_FLOW)
            return &r->keep.ev[i];
    fail_msg("no event of flow %llu", (unsigned long long)flow);
    return NULL;
}

/* Which held front connection a proxy's connection is stitched to: the same name first, then one named to
 * the server, then timing alone; among equals the nearest before it, then the earliest held; a front
 * already stitched is never taken twice; events that arrive out of time order change none of that. */
static void test_stitch_choice(void **state)
{
    (void)state;
    struct run *r = run_new(1);
    const char *F = "feweb.contoso.com", *D = "dirweb.contoso.com", *C = "198.51.100.7:5000", *P = PROXY ":40000";
    lf_time t = r->t;
    /* nearest first, then the one left */
    send_tls(r, t, 1, C, L_DIR, F);
    send_tls(r, t + 1000, 2, C, L_FE, F);
    send_tls(r, t + 1500, 3, C, L_DIR, D); /* another name: nearer, never taken while a same-name one is open */
    send_tls(r, t + 2000, 101, P, FE_ADDR, F);
    send_tls(r, t + 3000, 102, P, FE_ADDR, F);
    send_tls(r, t + 4000, 103, P, FE_ADDR, F); /* no open front of that name: by timing, the dirweb one */
    send_tls(r, t + 4500, 104, P, FE_ADDR, F); /* nothing open at all */
    /* a tie in time: the earliest held */
    t += 10000;
    send_tls(r, t, 4, C, L_FE, F);
    send_tls(r, t, 5, C, L_DIR, F);
    send_tls(r, t + 1000, 105, P, FE_ADDR, F);
    /* no name upstream: one named to the server beats a nearer one that is not */
    t += 10000;
    send_tls(r, t, 6, C, L_DIR, D);
    send_tls(r, t + 100, 7, C, L_FE, F);
    send_tls(r, t + 1000, 106, P, DIR_ADDR, "");
    /* out of time order: a late front 3 s older than the newest, after a front of the back leg's name */
    t += 10000;
    send_tls(r, t, 8, C, L_FE, F);
    send_tls(r, t - 3000000, 9, C, L_DIR, "lyncdiscover.contoso.com");
    send_tls(r, t + 1000, 107, P, FE_ADDR, F);
    send_tls(r, t + 1100, 10, C, L_DIR, F);
    send_tls(r, t + 900, 11, C, L_FE, F); /* older than the one before it, and further from 108 */
    send_tls(r, t + 1200, 108, P, FE_ADDR, F);
    finish(r);
    static const struct {
        uint64_t back;
        const char *listener;
    } want[] = {{101, "public-fe"}, {102, "public-dir"}, {103, "public-dir"}, {104, ""}, {105, "public-fe"},
                {106, "public-dir"}, {107, "public-fe"}, {108, "public-dir"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct lf_event *b = by_flow(r, want[i].back);
        if (strcmp(b->listener, want[i].listener) != 0)
            fail_msg("back %llu: listener '%s', want '%s'", (unsigned long long)want[i].back, b->listener,
                     want[i].listener);
        assert_int_equal(b->stitched, want[i].listener[0] != 0);
    }
    static const struct {
        uint64_t front;
        int stitched;
    } fronts[] = {{1, 1}, {2, 1}, {3, 1}, {4, 1}, {5, 0}, {6, 1}, {7, 0}, {8, 1}, {9, 0}, {10, 1}, {11, 0}};
    for (size_t i = 0; i < sizeof fronts / sizeof fronts[0]; i++)
        if (by_flow(r, fronts[i].front)->stitched != fronts[i].stitched)
            fail_msg("front %llu: stitched %d", (unsigned long long)fronts[i].front, !fronts[i].stitched);
    run_free(r);
}

/* Client edges: one per listener and client network, found again however many there are, none past the
 * model's limit, and the ones made keep counting after it is reached. */
static void test_client_edges(void **state)
{
    (void)state;
    struct run *r = run_new(1);
    char cli[64];
    uint64_t flow = 1;
    lf_time t = r->t;
    /* 30 networks, 10 clients each, to both listeners */
    for (int round = 0; round < 2; round++)
        for (int net = 0; net < 30; net++)
            for (int host = 1; host <= 10; host++) {
                snprintf(cli, sizeof cli, "198.%d.%d.%d:50000", 18 + net / 10, net, host);
                send_tls(r, t, flow++, cli, round ? L_FE : L_DIR, round ? "feweb.contoso.com" : "dirweb.contoso.com");
                t += 10;
            }
    /* the first network again, to the director's listener */
    send_tls(r, t, flow++, "198.18.0.1:50001", L_DIR, "dirweb.contoso.com");
    /* 300 more networks, one client each: the model keeps 256 edges */
    for (int net = 0; net < 300; net++) {
        snprintf(cli, sizeof cli, "203.0.%d.%d:50000", net % 250, 1 + net / 250);
        if (net >= 250)
            snprintf(cli, sizeof cli, "192.0.%d.1:50000", net - 250);
        send_tls(r, t, flow++, cli, L_DIR, "dirweb.contoso.com");
        t += 10;
    }
    /* an edge made before the limit still counts */
    send_tls(r, t, flow++, "198.19.10.3:50002", L_FE, "feweb.contoso.com");
    finish(r);
    const struct lf_model *m = lf_analysis_model(r->an);
    assert_int_equal(m->nclient_edges, LF_MODEL_MAX_CLIENT_EDGES);
    for (int i = 0; i < 60; i++) {
        const struct lf_client_edge *e = &m->client_edges[i];
        int net = i % 30;
        char want[64];
        snprintf(want, sizeof want, "198.%d.%d.0/24 (10 clients)", 18 + net / 10, net);
        assert_string_equal(e->clients, want);
        assert_int_equal(e->listener, i < 30 ? 0 : 1);
        assert_int_equal(e->clients_n, 10);
        uint64_t extra = (i == 0) || (i == 30 + 10);
        assert_int_equal(e->connections, 10 + extra);
    }
    for (int i = 60; i < LF_MODEL_MAX_CLIENT_EDGES; i++) {
        char want[64];
        snprintf(want, sizeof want, "203.0.%d.1", i - 60);
        assert_string_equal(m->client_edges[i].clients, want);
        assert_int_equal(m->client_edges[i].connections, 1);
    }
    run_free(r);
}

/* The sign-in phase each service's request stands for: one request alone, its sign-in's phase. */
static void test_service_phases(void **state)
{
    (void)state;
    static const struct {
        const char *host, *uri, *phase;
    } t[] = {
        {"lyncdiscover.contoso.com", "/", "discover"},
        {"dirweb.contoso.com", "/Autodiscover/AutodiscoverService.svc/root", "discover"},
        {"dirweb.contoso.com", "/WebTicket/WebTicketService.svc", "webticket"},
        {"dirweb.contoso.com", "/CertProv/CertProvisioningService.svc", "certificate"},
        {"feweb.contoso.com", "/abs/handler/x", "homepool"},
        {"feweb.contoso.com", "/groupexpansion/service.svc", "homepool"},
        {"feweb.contoso.com", "/RgsClients/AgentService.svc", "homepool"},
        {"feweb.contoso.com", "/ucwa/v1/applications", "homepool"},
        {"feweb.contoso.com", "/Mcx/McxService.svc", "homepool"},
        {"feweb.contoso.com", "/PersistentChat/RM/", "homepool"},
        {"feweb.contoso.com", "/CollabContent/x", "homepool"},
        {"feweb.contoso.com", "/lwa/WebPages/LwaClient.aspx", "homepool"},
        {"feweb.contoso.com", "/Reach/sip.svc", "homepool"},
        {"feweb.contoso.com", "/conf/x", "homepool"},
        {"feweb.contoso.com", "/RequestHandlerExt/", "homepool"},
        {"feweb.contoso.com", "/DeviceUpdateFiles_Ext/x.cab", "homepool"},
        {"feweb.contoso.com", "/AutoUpdate/Int/x", "homepool"},
        {"feweb.contoso.com", "/PhoneConferencing/x", "homepool"},
        {"feweb.contoso.com", "/LocationInformation/liservice.svc", "homepool"},
        {"feweb.contoso.com", "/HybridConfig/HybridConfigService.svc", ""},
        {"feweb.contoso.com", "/PassiveAuth/", ""},
        {"feweb.contoso.com", "/fonts/x", ""},
        {"feweb.contoso.com", "/index.html", ""},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct run *r = run_new(1);
        const char *listener = strcmp(t[i].host, "feweb.contoso.com") ? L_DIR : L_FE;
        struct lf_event ev = http(r->t, 1, "198.51.100.7:50000", listener, t[i].host, "GET", t[i].uri, 200);
        lf_analysis_event(r->an, &ev);
        finish(r);
        const struct lf_model *m = lf_analysis_model(r->an);
        assert_int_equal(m->nsignins, 1);
        if (strcmp(m->signins[0].phase, t[i].phase) != 0)
            fail_msg("%s%s: phase '%s', want '%s'", t[i].host, t[i].uri, m->signins[0].phase, t[i].phase);
        run_free(r);
    }
}

/* ---- findings: each triggered, and not by the healthy run ---- */

static void test_director_unpublished(void **state)
{
    (void)state;
    struct run *r = run_new(1);
    const char *cli = "198.51.100.7:50000";
    /* the Front End is reached; every Director request is answered 404 by the proxy itself */
    through(r, r->t, cli, 1, L_FE, "feweb.contoso.com", FE_ADDR, 2, "GET", "/abs/handler/x", 200, NULL);
    through(r, r->t + 1000, cli, 3, L_DIR, "dirweb.contoso.com", NULL, 0, "POST", "/WebTicket/WebTicketService.svc",
            404, NULL);
    through(r, r->t + 2000, cli, 3, L_DIR, "dirweb.contoso.com", NULL, 0, "POST",
            "/CertProv/CertProvisioningService.svc", 404, NULL);
    finish(r);
    assert_int_equal(count_findings(r, "director-unpublished"), 1);
    assert_int_equal(count_findings(r, "frontend-unpublished"), 0);
    for (size_t i = 0; i < r->keep.n; i++)
        if (r->keep.ev[i].type == LF_EV_FINDING) {
            const struct lf_ev_finding *f = &r->keep.ev[i].u.finding;
            assert_int_equal(f->severity, LF_SEV_ERROR);
            assert_string_equal(f->subject, "dirweb.contoso.com");
            assert_non_null(strstr(f->message, "2 requests for it on listener public-dir, none answered by a server"));
            assert_non_null(strstr(f->message, "2 answered 404 by the proxy itself"));
            assert_non_null(strstr(f->message, "to dir01 (10.0.1.10:4443"));
            assert_non_null(strstr(f->message, "https://dirweb.contoso.com/*"));
        }
    const struct lf_model *m = lf_analysis_model(r->an);
    for (int i = 0; i < m->npaths; i++)
        if (m->paths[i].server == 0) {
            assert_true(m->paths[i].failing);
            assert_string_equal(m->paths[i].finding_codes, "director-unpublished");
        }
    run_free(r);
}

/* The Director answers some of its requests (X-MS-Server-Fqdn): a 404 on one path is not a missing rule. */
static void test_director_published_with_404(void **state)
{
    (void)state;
    struct run *r = run_new(1);
    const char *cli = "198.51.100.7:50000";
    struct lf_event e =
        http(r->t, 3, cli, L_DIR, "dirweb.contoso.com", "GET", "/WebTicket/WebTicketService.svc/mex", 200);
    LF_EV_SET(&e, u.http.server_fqdn, "dir01.contoso.local");
    lf_analysis_event(r->an, &e);
    e = http(r->t + 1000, 3, cli, L_DIR, "dirweb.contoso.com", "GET", "/nothing/here", 404);
    lf_analysis_event(r->an, &e);
    finish(r);
    assert_int_equal(count_findings(r, "director-unpublished"), 0);
    assert_string_equal(find_ev(r, LF_EV_HTTP, 0, "/WebTicket/WebTicketService.svc/mex")->server_name, "dir01");
    run_free(r);
}

static void test_frontend_unpublished_tls_only(void **state)
{
    (void)state;
    /* without secrets: the FE name is asked for, nothing goes on to the FE, the Director is reached */
    struct run *r = run_new(1);
    const char *cli = "198.51.100.7:50000";
    send_tls(r, r->t, 1, cli, L_DIR, "dirweb.contoso.com");
    send_tls(r, r->t + 3000, 2, PROXY ":40000", DIR_ADDR, "dirweb.contoso.com");
    send_tls(r, r->t + 5000000, 3, cli, L_FE, "feweb.contoso.com");
    finish(r);
    assert_int_equal(count_findings(r, "frontend-unpublished"), 1);
    assert_int_equal(count_findings(r, "director-unpublished"), 0);
    const struct lf_signin *s = only_signin(r);
    assert_int_equal(s->verdict, LF_VERDICT_FAILED);
    assert_int_equal(s->failed_step, 2);
    assert_string_equal(s->reason, "step 2: not forwarded: nothing reached fe01");
    run_free(r);
}

static void test_simple_url_not_director(void **state)
{
    (void)state;
    struct run *r = run_new(1);
    through(r, r->t, "198.51.100.7:50000", 1, L_DIR, "meet.contoso.com", FE_ADDR, 2, "GET", "/alice/ABCD", 200, NULL);
    finish(r);
    assert_int_equal(count_findings(r, "simple-url-not-director"), 1);
    assert_int_equal(count_bad_findings(r), 1);
    const struct lf_event *f = find_ev(r, LF_EV_HTTP, 0, "/alice/ABCD");
    assert_int_equal(f->role, LF_ROLE_FRONTEND); /* the server that answered */
    assert_string_equal(f->simple_url, "meet");
    run_free(r);
    /* the same on the Director: nothing */
    r = run_new(1);
    through(r, r->t, "198.51.100.7:50000", 1, L_DIR, "meet.contoso.com", DIR_ADDR, 2, "GET", "/alice/ABCD", 200, NULL);
    finish(r);
    assert_int_equal(count_findings(r, NULL), 0);
    run_free(r);
}

static void test_bridge_internal_port(void **state)
{
    (void)state;
    struct run *r = run_new(1);
    through(r, r->t, "198.51.100.7:50000", 1, L_FE, "feweb.contoso.com", "10.0.1.20:443", 2, "GET", "/abs/handler/x",
            200, NULL);
    finish(r);
    assert_int_equal(count_findings(r, "bridge-internal-port"), 1);
    assert_non_null(strstr(finding(r, "bridge-internal-port")->message, "went to port 443"));
    assert_string_equal(finding(r, "bridge-internal-port")->subject, "fe01");
    assert_int_equal(count_bad_findings(r), 1);
    const struct lf_event *b = find_ev(r, LF_EV_HTTP, 1, "/abs/handler/x");
    assert_int_equal(b->role, LF_ROLE_FRONTEND);
    run_free(r);
}

static void test_san_mismatch(void **state)
{
    (void)state;
    struct run *r = run_new(1);
    struct lf_event ev;
    for (int k = 0; k < 2; k++) {
        lf_event_init(&ev, LF_EV_TLS, r->t + k * 1000);
        ev.flow_id = 7 + (uint64_t)k;
        addr("198.51.100.7:50000", &ev.client);
        addr(L_DIR, &ev.server);
        LF_EV_SET(&ev, u.tls.sni, k ? "dirweb.contoso.com" : "meet.contoso.com");
        LF_EV_SET(&ev, u.tls.cert_subject, "CN=dirweb.contoso.com");
        LF_EV_SET(&ev, u.tls.cert_san, "dirweb.contoso.com,*.fabrikam.com, feweb.contoso.com");
        if (!k) {
            ev.u.tls.alert_from = 'c';
            ev.u.tls.alert_level = 2;
            ev.u.tls.alert_desc = 42;
        }
        lf_analysis_event(r->an, &ev);
    }
    finish(r);
    assert_int_equal(count_findings(r, "san-mismatch"), 1);
    assert_string_equal(finding(r, "san-mismatch")->subject, "meet.contoso.com");
    assert_non_null(strstr(finding(r, "san-mismatch")->message, "TLS alert 42 (bad_certificate)"));
    assert_int_equal(count_bad_findings(r), 1);
    run_free(r);
}

static void test_auth_401_loop(void **state)
{
    (void)state;
    struct run *r = run_new(1);
    for (int i = 0; i < 6; i++)
        through(r, r->t + i * 100000, "198.51.100.7:50000", 1, L_DIR, "dirweb.contoso.com", DIR_ADDR, 2, "POST",
                "/WebTicket/WebTicketService.svc", 401, NULL);
    finish(r);
    assert_int_equal(count_findings(r, "auth-401-loop"), 1);
    const struct lf_signin *s = only_signin(r);
    assert_int_equal(s->verdict, LF_VERDICT_FAILED);
    assert_int_equal(s->failed_step, 6);
    assert_string_equal(s->reason, "step 6: 401 loop: 6 responses 401 on webticket");
    run_free(r);
    /* the normal round trip (401, 401, 200) is no loop */
    r = run_new(1);
    for (int i = 0; i < 3; i++)
        through(r, r->t + i * 100000, "198.51.100.7:50000", 1, L_DIR, "dirweb.contoso.com", DIR_ADDR, 2, "POST",
                "/WebTicket/WebTicketService.svc", i == 2 ? 200 : 401, NULL);
    finish(r);
    assert_int_equal(count_findings(r, NULL), 0);
    run_free(r);
}

/* first: 1 (a negotiate request) or 2 (its challenge seen too, as the HTTP dissector reports it) */
static void ntlm_round(struct run *r, uint64_t flow1, uint64_t flow3, int first)
{
    const char *D = "dirweb.contoso.com";
    struct lf_event e = http(r->t, flow1, PROXY ":40000", DIR_ADDR, D, "POST", "/WebTicket/WebTicketService.svc", 401);
    LF_EV_SET(&e, u.http.auth_scheme, "NTLM");
    e.u.http.ntlm_type = (uint8_t)first;
    lf_analysis_event(r->an, &e);
    e = http(r->t + 50000, flow3, PROXY ":40002", DIR_ADDR, D, "POST", "/WebTicket/WebTicketService.svc", 401);
    LF_EV_SET(&e, u.http.auth_scheme, "NTLM");
    e.u.http.ntlm_type = 3;
    lf_analysis_event(r->an, &e);
}

static void test_ntlm_split(void **state)
{
    (void)state;
    struct run *r = run_new(1);
    ntlm_round(r, 21, 22, 2);
    finish(r);
    assert_int_equal(count_findings(r, "ntlm-split"), 1);
    run_free(r);
    r = run_new(1);
    ntlm_round(r, 21, 22, 1);
    finish(r);
    assert_int_equal(count_findings(r, "ntlm-split"), 1);
    run_free(r);
    r = run_new(1);
    ntlm_round(r, 21, 21, 2);
    finish(r);
    assert_int_equal(count_findings(r, "ntlm-split"), 0);
    run_free(r);
    /* split, but the server took the authenticate leg anyway: nothing to report */
    r = run_new(1);
    struct lf_event leg = http(r->t, 21, PROXY ":40000", DIR_ADDR, "dirweb.contoso.com", "POST",
                               "/WebTicket/WebTicketService.svc", 401);
    LF_EV_SET(&leg, u.http.auth_scheme, "NTLM");
    leg.u.http.ntlm_type = 2;
    lf_analysis_event(r->an, &leg);
    leg.ts += 50000;
    leg.flow_id = 22;
    leg.u.http.ntlm_type = 3;
    leg.u.http.status = 200;
    lf_analysis_event(r->an, &leg);
    finish(r);
    assert_int_equal(count_findings(r, "ntlm-split"), 0);
    run_free(r);
    /* IIS: 401.1 0x80090308 */
    r = run_new(1);
    struct lf_event ev;
    lf_event_init(&ev, LF_EV_HTTP, r->t);
    LF_SET(ev.u.http.source, "iis");
    LF_EV_SET(&ev, u.http.log_server, "dir01");
    LF_EV_SET(&ev, u.http.method, "POST");
    LF_EV_SET(&ev, u.http.uri, "/WebTicket/WebTicketService.svc");
    ev.u.http.status = 401;
    ev.u.http.substatus = 1;
    ev.u.http.win32_status = 2148074248u;
    lf_analysis_event(r->an, &ev);
    finish(r);
    assert_int_equal(count_findings(r, "ntlm-split"), 1);
    run_free(r);
}

static void test_longpoll_cut(void **state)
{
    (void)state;
    struct run *r = run_new(1);
    const char *F = "feweb.contoso.com", *U = "/ucwa/oauth/v1/applications/1/events?ack=2&timeout=900";
    struct lf_event e = http(r->t, 1, "198.51.100.7:50000", L_FE, F, "GET", U, 504);
    e.u.http.latency_us = 60 * 1000000LL;
    lf_analysis_event(r->an, &e);
    finish(r);
    assert_int_equal(count_findings(r, "longpoll-cut"), 1);
    assert_non_null(strstr(finding(r, "longpoll-cut")->message, "ended after 60.0 s with 504"));
    assert_int_equal(count_bad_findings(r), 1);
    run_free(r);
    /* held for the full 900 s: fine */
    r = run_new(1);
    e = http(r->t, 1, "198.51.100.7:50000", L_FE, F, "GET", U, 200);
    e.u.http.latency_us = 900 * 1000000LL;
    lf_analysis_event(r->an, &e);
    finish(r);
    assert_int_equal(count_findings(r, "longpoll-cut"), 0);
    run_free(r);
}

static void test_inferred_topology(void **state)
{
    (void)state;
    struct run *r = run_new(0);
    healthy_signin(r, "198.51.100.7", 1, r->t);
    finish(r);
    const struct lf_topology *t = lf_analysis_topology(r->an);
    assert_true(t->inferred);
    assert_int_equal(t->nlisteners, 2);
    assert_int_equal(t->nservers, 2);
    assert_string_equal(t->listeners[0].names[0], "dirweb.contoso.com");
    assert_int_equal(t->servers[0].role, LF_ROLE_DIRECTOR);
    assert_int_equal(t->servers[1].role, LF_ROLE_FRONTEND);
    assert_string_equal(t->servers[1].fqdn, "feweb.contoso.com");
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    lf_topology_print(t, out);
    fclose(out);
    assert_non_null(strstr(buf, "inferred"));
    assert_non_null(
        strstr(buf, "[server server1]\nrole = director\naddress = 10.0.1.10:4443\nfqdn = dirweb.contoso.com\n"));
    free(buf);
    const struct lf_signin *s = only_signin(r);
    assert_int_equal(s->verdict, LF_VERDICT_COMPLETE);
    run_free(r);
}

/* ---- IIS lines matched to the capture's requests ---- */

static int by_ts(const void *a, const void *b)
{
    const struct lf_event *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->flow_id < y->flow_id ? -1 : x->flow_id > y->flow_id; /* IIS lines (0) first, as the merge may */
}

static struct lf_event iis_line(lf_time ts, const char *method, const char *uri, int status, int sub, unsigned win32,
                                unsigned tt, const char *user, int whole_seconds)
{
    struct lf_event ev;
    lf_event_init(&ev, LF_EV_HTTP, ts);
    addr(PROXY ":0", &ev.client);
    addr(DIR_ADDR, &ev.server);
    LF_SET(ev.u.http.source, "iis");
    LF_EV_SET(&ev, u.http.log_server, "dir01");
    LF_EV_SET(&ev, u.http.host, "dirweb.contoso.com");
    LF_EV_SET(&ev, u.http.method, method);
    LF_EV_SET(&ev, u.http.uri, uri);
    LF_EV_SET(&ev, u.http.user, user);
    LF_EV_SET(&ev, u.http.user_agent, "OC/4.0.7577.108 (Microsoft Lync 2010)");
    ev.u.http.status = (uint16_t)status;
    ev.u.http.substatus = (uint16_t)sub;
    ev.u.http.win32_status = win32;
    ev.u.http.time_taken_ms = tt;
    ev.u.http.latency_us = (int64_t)tt * 1000;
    ev.u.http.whole_seconds = (uint8_t)whole_seconds;
    return ev;
}

/* The NTLM round trip (401, 401, 200 on one URI, 1 ms apart), a 2.5 s request and a line the capture
 * lacks; IIS lines with sub-second times (the request's start, all three of the round trip within 1 ms
 * of the same back request) or whole seconds (all three stamped in the second before the requests'
 * own events arrive); with the proxy's back leg in the capture (back_legs 1), without it (0), or without
 * the long request's (2: its connection was not decrypted, say). */
static void three_way(int whole_seconds, int back_legs)
{
    struct run *r = run_new(1);
    const char *D = "dirweb.contoso.com", *W = "/WebTicket/WebTicketService.svc", *CLI = "198.51.100.7:50000";
    const char *U = "/ucwa/v1/applications/1/events?ack=1";
    static const struct {
        int status, sub;
        unsigned win32;
        const char *user;
    } want[] = {{401, 2, 5, ""}, {401, 1, 2148074254u, ""}, {200, 0, 0, "CONTOSO\\alice"}};
    lf_time T = r->t;
    struct lf_event ev[16];
    int n = 0;
    for (int k = 0; k < 3; k++) {
        ev[n++] = http(T + 400000 + k * 1000, 1, CLI, L_DIR, D, "POST", W, want[k].status);
        if (back_legs)
            ev[n++] = http(T + 400300 + k * 1000, 2, PROXY ":40000", DIR_ADDR, D, "POST", W, want[k].status);
        /* sub-second: the first two lines both nearer to the second request than to the first */
        lf_time at = whole_seconds ? T : T + 401000 + (k == 2) * 1000;
        ev[n++] = iis_line(at, "POST", W, want[k].status, want[k].sub, want[k].win32, 0, want[k].user, whole_seconds);
    }
    ev[n] = http(T + 5100000, 1, CLI, L_DIR, D, "GET", U, 200);
    ev[n++].u.http.latency_us = 2500000;
    if (back_legs == 1) {
        ev[n] = http(T + 5103000, 2, PROXY ":40000", DIR_ADDR, D, "GET", U, 200);
        ev[n++].u.http.latency_us = 2500000;
    }
    /* whole seconds: stamped at completion, 7.6 s; sub-second: a start that happens to fall on a second */
    ev[n++] = iis_line(whole_seconds ? T + 7000000 : T + 5000000, "GET", U, 200, 0, 0, 2500, "", whole_seconds);
    ev[n++] = iis_line(T + 6000000, "GET", "/Reach/sip.svc", 200, 0, 0, 15, "", whole_seconds);
    qsort(ev, (size_t)n, sizeof ev[0], by_ts);
    for (int i = 0; i < n; i++)
        lf_analysis_event(r->an, &ev[i]);
    finish(r);

    const struct lf_model *m = lf_analysis_model(r->an);
    const struct lf_signin *s = signin_of(m, "198.51.100.7");
    assert_non_null(s);
    if (getenv("LF_TEST_VERBOSE"))
        lf_timeline_write(stderr, m);
    assert_int_equal(s->nsteps, 4);
    for (int k = 0; k < 3; k++) {
        const struct lf_step *st = &s->steps[k];
        if (st->status != want[k].status || st->substatus != want[k].sub || st->win32_status != want[k].win32 ||
            !st->iis || st->from_iis)
            fail_msg("whole %d back %d step %d: %u.%u %u iis %d, want %d.%d %u", whole_seconds, back_legs, k + 1,
                     st->status, st->substatus, st->win32_status, st->iis, want[k].status, want[k].sub, want[k].win32);
    }
    assert_string_equal(s->steps[2].user, "CONTOSO\\alice");
    assert_string_equal(s->user, "CONTOSO\\alice");
    assert_true(s->steps[0].challenge && s->steps[1].challenge);
    assert_int_equal(s->verdict, LF_VERDICT_COMPLETE);
    assert_true(s->steps[3].iis);
    assert_int_equal(s->steps[3].time_taken_ms, 2500);
    /* the line the capture lacks: a step of its own, under the address IIS logged */
    int from_iis = 0;
    for (uint32_t i = 0; i < m->nsignins; i++)
        for (uint32_t k = 0; k < m->signins[i].nsteps; k++)
            if (m->signins[i].steps[k].from_iis) {
                from_iis++;
                assert_string_equal(m->signins[i].steps[k].what, "/Reach/sip.svc");
                assert_int_equal(m->signins[i].steps[k].time_taken_ms, 15);
            }
    assert_int_equal(from_iis, 1);
    /* each line names the request it matched: a capture event of the same request, each its own */
    uint64_t last = 0;
    int lines = 0;
    for (size_t i = 0; i < r->keep.n; i++) {
        const struct lf_event *e = &r->keep.ev[i];
        if (e->type == LF_EV_STATS) {
            assert_int_equal(e->u.stats.iis_matched, 4);
            assert_int_equal(e->u.stats.iis_unmatched, 1);
        }
        if (e->type != LF_EV_HTTP || strcmp(e->u.http.source, "iis") || !e->u.http.match_seq)
            continue;
        lines++;
        assert_true(e->stitched);
        assert_true(e->u.http.match_seq <= r->keep.n);
        const struct lf_event *q = &r->keep.ev[e->u.http.match_seq - 1];
        assert_int_equal(q->type, LF_EV_HTTP);
        assert_string_equal(q->u.http.source, "pcap");
        assert_string_equal(q->u.http.uri, e->u.http.uri);
        assert_int_equal(q->u.http.status, e->u.http.status);
        assert_int_equal(q->flow_id, back_legs == 1 || (back_legs && strcmp(q->u.http.uri, U)) ? 2 : 1);
        assert_true(e->u.http.match_seq > last);
        last = e->u.http.match_seq;
    }
    assert_int_equal(lines, 4);
    run_free(r);
}

static void test_iis_three_way(void **state)
{
    (void)state;
    for (int whole = 0; whole < 2; whole++)
        for (int back = 0; back < 3; back++)
            three_way(whole, back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_classify),
        cmocka_unit_test(test_enrichment_and_stitching),
        cmocka_unit_test(test_signin_grouping),
        cmocka_unit_test(test_iis_article),
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_late_event_order),
        cmocka_unit_test(test_held_events_come_out_clean),
        cmocka_unit_test(test_stitch_choice),
        cmocka_unit_test(test_client_edges),
        cmocka_unit_test(test_service_phases),
        cmocka_unit_test(test_requests_through_stitched_connection),
        cmocka_unit_test(test_flow_roles),
        cmocka_unit_test(test_director_unpublished),
        cmocka_unit_test(test_director_published_with_404),
        cmocka_unit_test(test_frontend_unpublished_tls_only),
        cmocka_unit_test(test_simple_url_not_director),
        cmocka_unit_test(test_bridge_internal_port),
        cmocka_unit_test(test_san_mismatch),
        cmocka_unit_test(test_auth_401_loop),
        cmocka_unit_test(test_ntlm_split),
        cmocka_unit_test(test_longpoll_cut),
        cmocka_unit_test(test_inferred_topology),
        cmocka_unit_test(test_iis_three_way),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
