/* tui_feed.c: runs the TUI on a model it fills itself, step by step, as the analysis would (tests/cli/tui.sh).
 *
 * usage: tui_feed [-d MS] [-n ROUNDS]
 * Each round adds two sign-ins: alice from 198.51.100.7 signs in through the
 * Director (CertProv, WebTicket with its NTLM round trip) and reaches the
 * Front End (ABS); bob from 203.0.113.9 fails: dirweb's listener answers 502.
 * The sink gets the full events (front and back legs, TLS) with the same
 * sequence numbers the steps carry. -d waits MS between steps (a live run).
 * Ends when q is pressed, like lyncflow --tui at the end of a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lyncflow/tui.h"
#include "lyncflow/util.h"

static struct lf_model model;
static struct lf_sink *sink;
static uint64_t seq;
static uint64_t flow_ids = 100;
static lf_time now_ts = 1714640400000000LL; /* 2024-05-02 09:00:00 UTC */

static void emit(struct lf_event *ev)
{
    seq++;
    sink->event(sink->ctx, ev);
}

static struct lf_signin *new_signin(const char *client, const char *user, const char *agent)
{
    pthread_mutex_lock(&model.lock);
    if (model.nsignins == model.capsignins) {
        model.capsignins = model.capsignins ? model.capsignins * 2 : 16;
        model.signins = lf_xrealloc(model.signins, model.capsignins * sizeof *model.signins);
    }
    struct lf_signin *s = &model.signins[model.nsignins++];
    memset(s, 0, sizeof *s);
    s->id = model.nsignins;
    lf_addr_parse(client, &s->client);
    LF_SET(s->user, user);
    LF_SET(s->agent, agent);
    s->start = s->end = now_ts;
    s->verdict = LF_VERDICT_INCOMPLETE;
    LF_SET(s->phase, "discover");
    model.generation++;
    uint32_t idx = model.nsignins - 1;
    pthread_mutex_unlock(&model.lock);
    return &model.signins[idx];
}

struct req {
    const char *listener, *laddr, *server, *saddr, *host, *method, *uri, *service;
    uint8_t role;
    uint16_t status;
    uint8_t failed, challenge, back, ntlm;
};

static void add_step(uint32_t sid, const struct req *r, int delay_ms)
{
    struct lf_event ev;
    uint64_t front_flow = ++flow_ids;
    now_ts += 35000;
    /* the TLS handshake of the front connection */
    lf_event_init(&ev, LF_EV_TLS, now_ts - 2000);
    ev.flow_id = front_flow;
    pthread_mutex_lock(&model.lock);
    struct lf_signin *s = &model.signins[sid];
    ev.client = s->client;
    pthread_mutex_unlock(&model.lock);
    ev.client.port = (uint16_t)(50000 + front_flow);
    lf_addr_parse(r->laddr, &ev.server);
    LF_EV_SET(&ev, u.tls.sni, r->host);
    ev.u.tls.version = 0x0303;
    ev.u.tls.cipher = 0xc030;
    LF_EV_SET(&ev, u.tls.alpn, "http/1.1");
    LF_EV_SET(&ev, u.tls.cert_subject, "CN=dirweb.contoso.com");
    LF_EV_SET(&ev, u.tls.cert_san, "dirweb.contoso.com,feweb.contoso.com,meet.contoso.com,dialin.contoso.com,"
                              "lyncdiscover.contoso.com");
    ev.u.tls.decrypting = 1;
    LF_SET(ev.listener, r->listener);
    emit(&ev);
    struct lf_addr client = ev.client;

    /* the request on the listener */
    lf_event_init(&ev, LF_EV_HTTP, now_ts);
    ev.flow_id = front_flow;
    ev.client = client;
    lf_addr_parse(r->laddr, &ev.server);
    ev.role = r->role;
    LF_SET(ev.listener, r->listener);
    LF_SET(ev.server_name, r->server);
    LF_SET(ev.service, r->service);
    ev.stitched = r->back;
    LF_EV_SET(&ev, u.http.sni, r->host);
    LF_EV_SET(&ev, u.http.host, r->host);
    LF_EV_SET(&ev, u.http.method, r->method);
    LF_EV_SET(&ev, u.http.uri, r->uri);
    ev.u.http.status = r->status;
    LF_EV_SET(&ev, u.http.user_agent, "OC/4.0.7577.108 (Microsoft Lync 2010)");
    if (r->ntlm) {
        LF_EV_SET(&ev, u.http.auth_scheme, "NTLM");
        ev.u.http.ntlm_type = r->ntlm;
        if (r->ntlm == 3) {
            LF_EV_SET(&ev, u.http.ntlm_domain, "CONTOSO");
            LF_EV_SET(&ev, u.http.ntlm_user, "alice");
        }
    }
    if (r->status == 401)
        LF_EV_SET(&ev, u.http.www_authenticate, "NTLM");
    if (r->back)
        LF_EV_SET(&ev, u.http.server_fqdn, "dir01.contoso.local");
    ev.u.http.latency_us = 12000;
    ev.u.http.req_bytes = 812;
    ev.u.http.resp_bytes = 1290;
    ev.u.http.decrypted = 1;
    LF_SET(ev.u.http.source, "pcap");
    emit(&ev);
    uint64_t front_seq = seq;
    if (r->back) {
        struct lf_event b = ev;
        b.flow_id = ++flow_ids;
        lf_addr_parse("10.0.0.1:40000", &b.client);
        b.client.port = (uint16_t)(40000 + b.flow_id);
        lf_addr_parse(r->saddr, &b.server);
        b.ts = now_ts + 900;
        b.u.http.latency_us = 9000;
        emit(&b);
    }

    pthread_mutex_lock(&model.lock);
    s = &model.signins[sid];
    if (s->nsteps == s->capsteps) {
        s->capsteps = s->capsteps ? s->capsteps * 2 : 8;
        s->steps = lf_xrealloc(s->steps, s->capsteps * sizeof *s->steps);
    }
    struct lf_step *st = &s->steps[s->nsteps++];
    memset(st, 0, sizeof *st);
    st->seq = front_seq;
    st->ts = now_ts;
    st->duration_us = 12000;
    st->kind = LF_EV_HTTP;
    st->role = r->role;
    st->failed = r->failed;
    st->challenge = r->challenge;
    st->decrypted = 1;
    st->stitched = r->back;
    st->status = r->status;
    LF_SET(st->method, r->method);
    LF_SET(st->what, r->uri);
    LF_SET(st->host, r->host);
    LF_SET(st->service, r->service);
    LF_SET(st->listener, r->listener);
    LF_SET(st->server, r->server);
    s->end = now_ts;
    if (r->role == LF_ROLE_FRONTEND)
        LF_SET(s->phase, "homepool");
    else if (strstr(r->uri, "CertProv") && r->status == 200)
        LF_SET(s->phase, "certificate");
    else if (strstr(r->uri, "WebTicket"))
        LF_SET(s->phase, "webticket");
    if (r->failed) {
        s->verdict = LF_VERDICT_FAILED;
        s->failed_step = s->nsteps;
        snprintf(s->reason, sizeof s->reason, "%s answered %u for %s: the listener has no rule for it", r->listener,
                 (unsigned)r->status, r->host);
    }
    model.generation++;
    pthread_mutex_unlock(&model.lock);
    if (delay_ms) {
        struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

#define DIR_REQ(m, u, svc, st, ch, nt) \
    {"lst-dir", "203.0.113.10:443", "dir01", "10.0.1.10:4443", "dirweb.contoso.com", m, u, svc, LF_ROLE_DIRECTOR, st, 0, ch, 1, nt}
#define FE_REQ(m, u, svc, st, ch, nt) \
    {"lst-fe", "203.0.113.11:443", "fe01", "10.0.2.10:4443", "feweb.contoso.com", m, u, svc, LF_ROLE_FRONTEND, st, 0, ch, 1, nt}

static const struct req healthy[] = {
    DIR_REQ("GET", "/CertProv/CertProvisioningService.svc/mex", "certprov", 200, 0, 0),
    DIR_REQ("GET", "/WebTicket/WebTicketService.svc/mex", "webticket", 200, 0, 0),
    DIR_REQ("POST", "/WebTicket/WebTicketService.svc", "webticket", 401, 1, 0),
    DIR_REQ("POST", "/WebTicket/WebTicketService.svc", "webticket", 401, 1, 1),
    DIR_REQ("POST", "/WebTicket/WebTicketService.svc", "webticket", 200, 0, 3),
    DIR_REQ("POST", "/CertProv/CertProvisioningService.svc", "certprov", 200, 0, 0),
    FE_REQ("GET", "/abs/handler/C-0e8e-0e97.lsabs", "abs", 401, 1, 0),
    FE_REQ("GET", "/abs/handler/C-0e8e-0e97.lsabs", "abs", 401, 1, 1),
    FE_REQ("GET", "/abs/handler/C-0e8e-0e97.lsabs", "abs", 200, 0, 3),
    FE_REQ("POST", "/GroupExpansion/service.svc", "groupexpansion", 200, 0, 0),
};

static const struct req failing[] = {
    DIR_REQ("GET", "/CertProv/CertProvisioningService.svc/mex", "certprov", 200, 0, 0),
    {"lst-dir", "203.0.113.10:443", "", "", "dirweb.contoso.com", "POST", "/WebTicket/WebTicketService.svc",
     "webticket", LF_ROLE_NONE, 502, 1, 0, 0, 0},
};

int main(int argc, char **argv)
{
    int delay = 0, rounds = 1;
    for (int i = 1; i < argc; i++) {
        unsigned long long v = 0;
        if (i + 1 < argc && lf_parse_u64(argv[i + 1], &v) != 0) {
            fprintf(stderr, "tui_feed: %s needs a number\n", argv[i]);
            return 2;
        }
        if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
            delay = (int)v, i++;
        else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            rounds = (int)v, i++;
        else {
            fprintf(stderr, "usage: tui_feed [-d MS] [-n ROUNDS]\n");
            return 2;
        }
    }
    pthread_mutex_init(&model.lock, NULL);
    struct lf_config cfg;
    lf_config_defaults(&cfg);
    cfg.keylog = "keylog.txt";
    struct lf_tui *t = lf_tui_new_model(&model, &cfg, "tui_feed (built-in sign-ins)");
    sink = lf_tui_sink(t);
    if (lf_tui_start(t) != 0) {
        fprintf(stderr, "tui_feed: no terminal\n");
        return 2;
    }
    for (int r = 0; r < rounds && !lf_tui_quit_requested(t); r++) {
        char user[64];
        snprintf(user, sizeof user, r ? "CONTOSO\\alice%d" : "CONTOSO\\alice", r);
        struct lf_signin *a = new_signin("198.51.100.7:0", user, "Lync 2010");
        uint32_t ai = a->id - 1;
        for (size_t i = 0; i < sizeof healthy / sizeof healthy[0] && !lf_tui_quit_requested(t); i++)
            add_step(ai, &healthy[i], delay);
        pthread_mutex_lock(&model.lock);
        model.signins[ai].verdict = LF_VERDICT_COMPLETE;
        model.generation++;
        pthread_mutex_unlock(&model.lock);
        struct lf_signin *b = new_signin("203.0.113.9:0", "CONTOSO\\bob", "Lync 2010");
        uint32_t bi = b->id - 1;
        for (size_t i = 0; i < sizeof failing / sizeof failing[0] && !lf_tui_quit_requested(t); i++)
            add_step(bi, &failing[i], delay);
    }
    pthread_mutex_lock(&model.lock);
    struct lf_ev_finding *f = &model.findings[model.nfindings++];
    f->severity = LF_SEV_ERROR;
    LF_SET(f->code, "director_unpublished");
    f->subject = "dirweb.contoso.com";
    f->message = "lst-dir answers 502 for dirweb.contoso.com: no publishing rule sends it to the Director";
    model.generation++;
    pthread_mutex_unlock(&model.lock);
    fprintf(stderr, "tui_feed: %u sign-ins fed\n", (unsigned)model.nsignins);
    lf_tui_input_done(t);
    lf_tui_join(t);
    lf_tui_free(t);
    for (uint32_t i = 0; i < model.nsignins; i++)
        free(model.signins[i].steps);
    free(model.signins);
    return 0;
}
