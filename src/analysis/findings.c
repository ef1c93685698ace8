/* findings.c: publishing mistakes (domain.md §6) named, with their evidence, from bounded counters kept over a run. */
#include "lyncflow/findings.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lyncflow/util.h"

#define MAX_RECORDS 16
#define NTLM_PENDING 64
#define NTLM_WINDOW_US (30 * 1000000LL)
#define LONGPOLL_OK_US (800 * 1000000LL)

struct srv_stats {
    uint64_t named_front, fail_4xx, fail_5xx, fail_reset, fail_noresp, fail_alert;
    uint64_t tls, tls_fwd, http, http_served;
    uint16_t last_status;
    uint64_t reached, internal_port;
    uint16_t internal_port_no;
    lf_time first_front, first_internal;
    int listener;
    char name[256];
};

struct misroute {
    int listener, server;
    char kind[16];
    char *name; /* owned: a name, or the URI when the request named none */
    uint64_t n;
    lf_time ts;
};

struct san {
    int listener;
    char sni[256];
    char *sans; /* owned: the certificate's SAN list (or subject), whole */
    uint8_t alert_desc, alert_from, cert_visible;
    uint64_t n;
    lf_time ts;
};

struct ntlm1 {
    struct lf_addr client;
    uint8_t side, used;
    char service[24];
    uint64_t flow_id;
    lf_time ts;
};

struct split {
    int listener, server;
    uint8_t side, from_iis;
    char service[24];
    uint64_t n;
    lf_time ts;
};

struct longpoll {
    int listener, server;
    char *uri; /* owned */
    uint16_t status;
    int64_t duration_us;
    uint64_t n;
    lf_time ts;
};

struct lf_findings {
    struct srv_stats srv[LF_TOPO_MAX_SERVERS];
    uint64_t back_pcap;
    struct misroute mis[MAX_RECORDS];
    int nmis;
    struct san san[MAX_RECORDS];
    int nsan;
    struct ntlm1 ntlm[NTLM_PENDING];
    int ntlm_next;
    struct split split[MAX_RECORDS];
    int nsplit;
    struct longpoll lp[MAX_RECORDS];
    int nlp;
    uint64_t dropped;
};

const char *lf_tls_alert_name(unsigned desc)
{
    static const struct {
        unsigned code;
        const char *name;
    } names[] = {
        {0, "close_notify"}, {10, "unexpected_message"}, {20, "bad_record_mac"}, {40, "handshake_failure"},
        {42, "bad_certificate"}, {43, "unsupported_certificate"}, {44, "certificate_revoked"},
        {45, "certificate_expired"}, {46, "certificate_unknown"}, {47, "illegal_parameter"}, {48, "unknown_ca"},
        {49, "access_denied"}, {50, "decode_error"}, {51, "decrypt_error"}, {70, "protocol_version"},
        {71, "insufficient_security"}, {80, "internal_error"}, {86, "inappropriate_fallback"},
        {90, "user_canceled"}, {112, "unrecognized_name"}, {116, "certificate_required"},
        {120, "no_application_protocol"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == desc)
            return names[i].name;
    return "unknown alert";
}

struct lf_findings *lf_findings_new(void)
{
    struct lf_findings *f = lf_xcalloc(1, sizeof *f);
    for (int i = 0; i < LF_TOPO_MAX_SERVERS; i++)
        f->srv[i].listener = -1;
    return f;
}

void lf_findings_free(struct lf_findings *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->nmis; i++)
        free(f->mis[i].name);
    for (int i = 0; i < f->nsan; i++)
        free(f->san[i].sans);
    for (int i = 0; i < f->nlp; i++)
        free(f->lp[i].uri);
    free(f);
}

/* "x.contoso.com" against one SAN entry ("*.contoso.com" covers one label). */
static int san_covers(const char *san, size_t n, const char *name)
{
    char pat[256];
    lf_strncpy_n(pat, sizeof pat, san, n);
    if (lf_strcaseeq(pat, name))
        return 1;
    if (pat[0] == '*' && pat[1] == '.') {
        const char *dot = strchr(name, '.');
        return dot && dot != name && lf_strcaseeq(pat + 1, dot);
    }
    return 0;
}

static int cert_covers(const struct lf_ev_tls *t, const char *name)
{
    const char *s = t->cert_san;
    while (*s) {
        size_t n = strcspn(s, ",");
        const char *b = s;
        while (n && *b == ' ') {
            b++;
            n--;
        }
        if (n && san_covers(b, n, name))
            return 1;
        s += strcspn(s, ",");
        if (*s == ',')
            s++;
    }
    if (!t->cert_san[0]) {
        const char *cn = strstr(t->cert_subject, "CN=");
        if (cn)
            return san_covers(cn + 3, strcspn(cn + 3, ",/"), name);
    }
    return 0;
}

static int is_auth_alert(unsigned d) { return d == 42 || d == 43 || d == 45 || d == 46 || d == 48 || d == 112; }

static void observe_tls(struct lf_findings *f, const struct lf_obs *o)
{
    const struct lf_ev_tls *t = &o->ev->u.tls;
    if (o->side != LF_SIDE_FRONT || !t->sni[0])
        return;
    int visible = t->cert_san[0] || t->cert_subject[0];
    int client_alert = t->alert_from == 'c' && is_auth_alert(t->alert_desc);
    if (visible ? cert_covers(t, t->sni) : !client_alert)
        return;
    for (int i = 0; i < f->nsan; i++)
        if (f->san[i].listener == o->listener && lf_strcaseeq(f->san[i].sni, t->sni)) {
            f->san[i].n++;
            if (!f->san[i].alert_from && t->alert_from) {
                f->san[i].alert_from = t->alert_from;
                f->san[i].alert_desc = t->alert_desc;
            }
            return;
        }
    if (f->nsan == MAX_RECORDS) {
        f->dropped++;
        return;
    }
    struct san *s = &f->san[f->nsan++];
    memset(s, 0, sizeof *s);
    s->listener = o->listener;
    LF_SET(s->sni, t->sni);
    s->sans = lf_xstrdup(t->cert_san[0] ? t->cert_san : t->cert_subject);
    s->alert_from = t->alert_from;
    s->alert_desc = t->alert_desc;
    s->cert_visible = (uint8_t)visible;
    s->n = 1;
    s->ts = o->ev->ts;
}

static void add_split(struct lf_findings *f, const struct lf_obs *o, int from_iis)
{
    for (int i = 0; i < f->nsplit; i++)
        if (f->split[i].side == o->side && f->split[i].from_iis == from_iis && f->split[i].server == o->server &&
            !strcmp(f->split[i].service, o->ev->service)) {
            f->split[i].n++;
            return;
        }
    if (f->nsplit == MAX_RECORDS) {
        f->dropped++;
        return;
    }
    struct split *s = &f->split[f->nsplit++];
    memset(s, 0, sizeof *s);
    s->listener = o->listener;
    s->server = o->server;
    s->side = (uint8_t)o->side;
    s->from_iis = (uint8_t)from_iis;
    LF_SET(s->service, o->ev->service);
    s->n = 1;
    s->ts = o->ev->ts;
}

static void observe_ntlm(struct lf_findings *f, const struct lf_obs *o)
{
    const struct lf_event *ev = o->ev;
    const struct lf_ev_http *h = &ev->u.http;
    int from_iis = !strcmp(h->source, "iis");
    if (from_iis && h->win32_status == 2148074248u) {
        add_split(f, o, 1);
        return;
    }
    /* type 2: the request carried a type 1 and the answer its challenge */
    if (!ev->flow_id || !h->ntlm_type)
        return;
    if (h->ntlm_type == 1 || h->ntlm_type == 2) {
        struct ntlm1 *n = &f->ntlm[f->ntlm_next];
        f->ntlm_next = (f->ntlm_next + 1) % NTLM_PENDING;
        n->used = 1;
        n->client = ev->client;
        n->side = (uint8_t)o->side;
        LF_SET(n->service, ev->service);
        n->flow_id = ev->flow_id;
        n->ts = ev->ts;
        return;
    }
    /* type 3: the latest type 1 of the same client and service */
    struct ntlm1 *best = NULL;
    for (int i = 0; i < NTLM_PENDING; i++) {
        struct ntlm1 *n = &f->ntlm[i];
        if (!n->used || n->side != o->side || !lf_ip_equal(&n->client, &ev->client) || strcmp(n->service, ev->service))
            continue;
        if (ev->ts < n->ts || ev->ts - n->ts > NTLM_WINDOW_US)
            continue;
        if (!best || n->ts > best->ts)
            best = n;
    }
    if (!best)
        return;
    /* split, and the server refused the authenticate leg for it (a server that copes is no problem) */
    if (best->flow_id != ev->flow_id && h->status == 401)
        add_split(f, o, 0);
    best->used = 0;
}

static void observe_longpoll(struct lf_findings *f, const struct lf_obs *o)
{
    const struct lf_ev_http *h = &o->ev->u.http;
    if (strcmp(o->ev->service, "ucwa") != 0)
        return;
    /* the event channel: .../events */
    const char *e = h->uri;
    int events = 0;
    while ((e = strchr(e, '/')) != NULL) {
        e++;
        if (lf_strcaseprefix(e, "events") && (e[6] == 0 || e[6] == '?' || e[6] == '/'))
            events = 1;
    }
    if (!events)
        return;
    int64_t d = h->latency_us >= 0 ? h->latency_us : (int64_t)h->time_taken_ms * 1000;
    int cut = h->status == 0 || h->status == 502 || h->status == 504 || (h->status >= 500 && h->status != 503);
    if (!cut || d < 0 || d >= LONGPOLL_OK_US)
        return;
    if (f->nlp == MAX_RECORDS) {
        f->dropped++;
        return;
    }
    struct longpoll *l = &f->lp[f->nlp++];
    l->listener = o->listener;
    l->server = o->server;
    l->uri = lf_xstrdup(h->uri);
    l->status = h->status;
    l->duration_us = d;
    l->n = 1;
    l->ts = o->ev->ts;
}

void lf_findings_observe(struct lf_findings *f, const struct lf_obs *o)
{
    const struct lf_event *ev = o->ev;
    int from_iis = ev->type == LF_EV_HTTP && !strcmp(ev->u.http.source, "iis");
    /* requests for a server's own external name (simple URLs aside) */
    if (o->side == LF_SIDE_FRONT && ev->type != LF_EV_FLOW && o->named_server >= 0 && !ev->simple_url[0]) {
        struct srv_stats *s = &f->srv[o->named_server];
        if (!s->named_front) {
            s->first_front = ev->ts;
            s->listener = o->listener;
            LF_SET(s->name, o->name);
        }
        s->named_front++;
        if (ev->type == LF_EV_TLS) {
            s->tls++;
            s->tls_fwd += ev->stitched;
            s->fail_alert += (uint64_t)o->failed;
        } else if (ev->stitched || ev->u.http.server_fqdn[0]) {
            s->http++;
            s->http_served++; /* a server answered it */
        } else {
            s->http++;
            uint16_t st = ev->u.http.status;
            if (st == 502 || st == 503)
                s->fail_5xx++;
            else if (st == 404 || st == 421 || st == 403)
                s->fail_4xx++;
            else if (!st && strstr(o->reason, "reset"))
                s->fail_reset++;
            else if (!st)
                s->fail_noresp++;
            if (st >= 400)
                s->last_status = st;
        }
    }
    if (o->side == LF_SIDE_BACK && o->server >= 0) {
        struct srv_stats *s = &f->srv[o->server];
        s->reached++;
        if (!from_iis)
            f->back_pcap++;
        uint16_t port = ev->server.port;
        if ((ev->role == LF_ROLE_DIRECTOR || ev->role == LF_ROLE_FRONTEND) && (port == 443 || port == 80)) {
            if (!s->internal_port)
                s->first_internal = ev->ts;
            s->internal_port++;
            s->internal_port_no = port;
        }
    }
    /* simple URLs and who answered them (roles are judged at the end: they may be learnt late) */
    if (o->server >= 0 && ev->type != LF_EV_FLOW) {
        const char *kind = ev->simple_url[0] ? ev->simple_url : "";
        if (!kind[0] && (!strcmp(ev->service, "meet") || !strcmp(ev->service, "dialin")))
            kind = ev->service;
        if (kind[0] && (o->side == LF_SIDE_FRONT || from_iis || !ev->stitched)) {
            int i;
            for (i = 0; i < f->nmis; i++)
                if (f->mis[i].server == o->server && !strcmp(f->mis[i].kind, kind))
                    break;
            if (i < f->nmis) {
                f->mis[i].n++;
            } else if (f->nmis < MAX_RECORDS) {
                struct misroute *m = &f->mis[f->nmis++];
                m->listener = o->listener;
                m->server = o->server;
                LF_SET(m->kind, kind);
                m->name = lf_xstrdup(o->name[0] ? o->name : ev->u.http.uri);
                m->n = 1;
                m->ts = ev->ts;
            } else {
                f->dropped++;
            }
        }
    }
    if (ev->type == LF_EV_TLS)
        observe_tls(f, o);
    if (ev->type == LF_EV_HTTP) {
        observe_ntlm(f, o);
        observe_longpoll(f, o);
    }
}

/* ---- evaluation ---- */

static void path_code(struct lf_model *m, int listener, int server, const char *code, int failing)
{
    for (int i = 0; i < m->npaths; i++) {
        struct lf_path *p = &m->paths[i];
        if ((listener >= 0 && p->listener != listener) || (server >= 0 && p->server != server))
            continue;
        if (failing)
            p->failing = 1;
        if (strstr(p->finding_codes, code))
            continue;
        size_t n = strlen(p->finding_codes);
        snprintf(p->finding_codes + n, sizeof p->finding_codes - n, "%s%s", n ? "," : "", code);
    }
}

static void add(struct lf_model *m, lf_time ts, enum lf_severity sev, const char *code, const char *subject,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void add(struct lf_model *m, lf_time ts, enum lf_severity sev, const char *code, const char *subject,
                const char *fmt, ...)
{
    if (m->nfindings == LF_MODEL_MAX_FINDINGS)
        return;
    struct lf_ev_finding *f = &m->findings[m->nfindings];
    /* the model owns a finding's strings: those of an earlier evaluation in this slot go */
    free((char *)f->subject);
    free((char *)f->message);
    memset(f, 0, sizeof *f);
    f->severity = (uint8_t)sev;
    LF_SET(f->code, code);
    f->subject = lf_xstrdup(subject ? subject : "");
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = lf_xstrdup("");
    va_end(ap);
    f->message = msg;
    m->finding_ts[m->nfindings] = ts;
    m->nfindings++;
}

static const char *lname(const struct lf_model *m, int l) { return l >= 0 ? m->listeners[l].name : "?"; }

/* Whether some sign-in that asked for name went on to a working home-pool step (1 also when none asked). */
static int signins_got_past(const struct lf_model *m, const char *name)
{
    int used = 0;
    for (uint32_t i = 0; i < m->nsignins; i++) {
        const struct lf_signin *si = &m->signins[i];
        uint32_t k = 0;
        while (k < si->nsteps && !lf_strcaseeq(si->steps[k].host, name))
            k++;
        if (k == si->nsteps)
            continue;
        used = 1;
        for (; k < si->nsteps; k++) {
            const struct lf_step *st = &si->steps[k];
            int ok = st->kind == LF_EV_HTTP ? st->status >= 200 && st->status < 400 : 1;
            if (st->phase == 4 && ok && !st->failed)
                return 1;
        }
    }
    return !used;
}

static int has_san_record(const struct lf_findings *f, const char *name)
{
    for (int i = 0; i < f->nsan; i++)
        if (lf_strcaseeq(f->san[i].sni, name))
            return 1;
    return 0;
}

static void unpublished(struct lf_findings *f, struct lf_model *m)
{
    for (int i = 0; i < m->nservers; i++) {
        const struct srv_stats *s = &f->srv[i];
        const struct lf_node *n = &m->servers[i];
        if (n->role != LF_ROLE_DIRECTOR && n->role != LF_ROLE_FRONTEND)
            continue;
        const char *subject = n->fqdn[0] ? n->fqdn : s->name;
        if (!s->named_front || has_san_record(f, subject))
            continue;
        uint64_t refused = s->fail_4xx + s->fail_5xx + s->fail_reset + s->fail_noresp;
        char how[320] = "";
        if (s->http) {
            /* requests readable: none answered by a server, some refused by the proxy */
            if (s->http_served || !refused)
                continue;
            size_t k = (size_t)snprintf(how, sizeof how, "%llu requests for it on listener %s, none answered by a "
                                        "server (no X-MS-Server-Fqdn, no request from the proxy to one)",
                                        (unsigned long long)s->http, lname(m, s->listener));
            if ((s->fail_4xx || s->fail_5xx) && k < sizeof how)
                k += (size_t)snprintf(how + k, sizeof how - k, "; %llu answered %u by the proxy itself",
                                      (unsigned long long)(s->fail_4xx + s->fail_5xx), s->last_status);
            if (s->fail_reset && k < sizeof how)
                k += (size_t)snprintf(how + k, sizeof how - k, "; %llu reset", (unsigned long long)s->fail_reset);
            if (s->fail_noresp && k < sizeof how)
                snprintf(how + k, sizeof how - k, "; %llu closed without a response",
                         (unsigned long long)s->fail_noresp);
        } else {
            /* names only: no connection for it went on to a server, and no sign-in got past it */
            if (s->tls_fwd || !f->back_pcap || signins_got_past(m, subject))
                continue;
            snprintf(how, sizeof how, "%llu connections for it on listener %s, none followed by a connection from "
                     "the proxy to %s%s, and no sign-in went on to a working home-pool request after it",
                     (unsigned long long)s->tls, lname(m, s->listener), n->name,
                     s->reached ? "" : " (nothing reached it)");
        }
        int dir = n->role == LF_ROLE_DIRECTOR;
        char a[64];
        add(m, s->first_front, LF_SEV_ERROR, dir ? "director-unpublished" : "frontend-unpublished", subject,
            "%s (the %s's external web services) is not published: %s. Add a publishing rule https://%s/* to %s "
            "(%s, its external web site)%s",
            subject, dir ? "Director" : "Front End pool", how, subject, n->name, lf_addr_format(&n->addr, a, sizeof a),
            dir ? "; web ticket and certificate requests go there"
                : "; address book, group expansion and UCWA requests go there");
        path_code(m, -1, i, dir ? "director-unpublished" : "frontend-unpublished", 1);
    }
}

static void simple_urls(struct lf_findings *f, struct lf_model *m, const struct lf_topology *t)
{
    int dir = -1;
    for (int i = 0; i < m->nservers && dir < 0; i++)
        if (m->servers[i].role == LF_ROLE_DIRECTOR)
            dir = i;
    if (dir < 0)
        return;
    (void)t;
    for (int i = 0; i < f->nmis; i++) {
        const struct misroute *r = &f->mis[i];
        const struct lf_node *n = &m->servers[r->server];
        if (n->role == LF_ROLE_DIRECTOR)
            continue;
        add(m, r->ts, LF_SEV_WARNING, "simple-url-not-director", r->name,
            "simple URL %s (%s) was answered by %s (%s) instead of the Director %s: %llu requests/connections%s%s. "
            "With a Director, publish the simple URLs to the Director's external web services (%s, port 4443)",
            r->name, r->kind, n->name, lf_role_name((enum lf_role)n->role), m->servers[dir].name,
            (unsigned long long)r->n, r->listener >= 0 ? " via listener " : "",
            r->listener >= 0 ? lname(m, r->listener) : "",
            m->servers[dir].fqdn[0] ? m->servers[dir].fqdn : m->servers[dir].name);
        path_code(m, r->listener, r->server, "simple-url-not-director", 0);
    }
}

static void bridge(struct lf_findings *f, struct lf_model *m)
{
    for (int i = 0; i < m->nservers; i++) {
        const struct lf_node *n = &m->servers[i];
        const struct srv_stats *s = &f->srv[i];
        if (n->role != LF_ROLE_DIRECTOR && n->role != LF_ROLE_FRONTEND)
            continue;
        char a[64];
        uint16_t port = s->internal_port ? s->internal_port_no : 0;
        if (!port && n->configured && (n->addr.port == 443 || n->addr.port == 80))
            port = n->addr.port;
        if (!port)
            continue;
        char ev[160];
        if (s->internal_port)
            snprintf(ev, sizeof ev, "%llu requests/connections from the proxy went to port %u",
                     (unsigned long long)s->internal_port, port);
        else
            snprintf(ev, sizeof ev, "the topology gives %s as the target", lf_addr_format(&n->addr, a, sizeof a));
        add(m, s->internal_port ? s->first_internal : 0, LF_SEV_ERROR, "bridge-internal-port", n->name,
            "the proxy reaches %s (%s) on its internal web site: %s. Bridge external traffic 443 -> 4443 and "
            "80 -> 8080 (the external web site); on %u the server treats clients as internal "
            "(AccessLocation Internal, internal URLs)",
            n->name, lf_role_name((enum lf_role)n->role), ev, port);
        path_code(m, -1, i, "bridge-internal-port", 1);
    }
}

static void sans(struct lf_findings *f, struct lf_model *m)
{
    for (int i = 0; i < f->nsan; i++) {
        const struct san *s = &f->san[i];
        char alert[96] = "";
        if (s->alert_from)
            snprintf(alert, sizeof alert, "; the %s sent TLS alert %u (%s)", s->alert_from == 'c' ? "client" : "server",
                     s->alert_desc, lf_tls_alert_name(s->alert_desc));
        if (s->cert_visible)
            add(m, s->ts, LF_SEV_ERROR, "san-mismatch", s->sni,
                "the certificate presented on listener %s for %s does not cover that name (SANs: %s): %llu "
                "connections%s. Add %s to the certificate's subject alternative names",
                lname(m, s->listener), s->sni, s->sans, (unsigned long long)s->n, alert, s->sni);
        else
            add(m, s->ts, LF_SEV_WARNING, "tls-alert", s->sni,
                "connections for %s on listener %s were refused by the client after the server's certificate: %llu "
                "connections%s. Check that the certificate covers %s and chains to a trusted root",
                s->sni, lname(m, s->listener), (unsigned long long)s->n, alert, s->sni);
        for (int k = 0; k < m->npaths; k++)
            if (m->paths[k].listener == s->listener)
                for (int j = 0; j < m->paths[k].nnames; j++)
                    if (lf_strcaseeq(m->paths[k].names[j], s->sni))
                        path_code(m, s->listener, m->paths[k].server,
                                  s->cert_visible ? "san-mismatch" : "tls-alert", 1);
    }
}

static void loops(struct lf_model *m)
{
    int reported = 0;
    for (uint32_t i = 0; i < m->nsignins && reported < MAX_RECORDS; i++) {
        const struct lf_signin *s = &m->signins[i];
        if (!s->loop_401)
            continue;
        for (uint32_t k = 0; k < s->nsteps; k++) {
            const struct lf_step *st = &s->steps[k];
            if (!st->failed || strncmp(st->reason, "401 loop", 8) != 0)
                continue;
            char c[64], subject[200];
            lf_ip_format(&s->client, c, sizeof c);
            snprintf(subject, sizeof subject, "%s%s%s", c[0] ? c : "client", s->user[0] ? " " : "", s->user);
            add(m, st->ts, LF_SEV_ERROR, "auth-401-loop", subject,
                "sign-in %u: %s (%s) at step %u via %s -> %s never got past authentication. The proxy must not "
                "authenticate itself: no authentication, no delegation, the client authenticates directly "
                "(Windows authentication on the proxy causes an endless web-ticket 401 loop)",
                s->id, st->reason, st->host[0] ? st->host : "?", k + 1, st->listener[0] ? st->listener : "-",
                st->server[0] ? st->server : "?");
            reported++;
            break;
        }
    }
}

static void splits(struct lf_findings *f, struct lf_model *m)
{
    for (int i = 0; i < f->nsplit; i++) {
        const struct split *s = &f->split[i];
        const char *srv = s->server >= 0 ? m->servers[s->server].name : "?";
        if (s->from_iis)
            add(m, s->ts, LF_SEV_ERROR, "ntlm-split", srv,
                "%s logged %llu requests to %s with 401.1 0x80090308 (SEC_E_INVALID_TOKEN): NTLM legs arrived on "
                "different connections. Keep a client's connection to one server (TCP/source affinity, cookie "
                "persistence for Lync 2010) and reuse upstream connections per client",
                srv, (unsigned long long)s->n, s->service[0] ? s->service : "the site");
        else
            add(m, s->ts, LF_SEV_ERROR, "ntlm-split", s->side == LF_SIDE_BACK ? srv : lname(m, s->listener),
                "NTLM negotiate and authenticate messages for %s went over different %s connections (%llu times): "
                "the server cannot complete the handshake. Keep each client's NTLM exchange on one connection to "
                "one server (connection affinity, no per-request upstream connections)",
                s->service[0] ? s->service : "a request", s->side == LF_SIDE_BACK ? "proxy-to-server" : "client",
                (unsigned long long)s->n);
    }
}

static void longpolls(struct lf_findings *f, struct lf_model *m)
{
    for (int i = 0; i < f->nlp; i++) {
        const struct longpoll *l = &f->lp[i];
        char st[16];
        snprintf(st, sizeof st, "%u", l->status);
        add(m, l->ts, LF_SEV_WARNING, "longpoll-cut", l->uri,
            "a UCWA event-channel request ended after %.1f s with %s instead of being held up to about 900 s: the "
            "proxy's timeout is too short. Set the proxy's read/response timeout to at least 960 s",
            (double)l->duration_us / 1e6, l->status ? st : "no response");
        if (l->listener >= 0 && l->server >= 0)
            path_code(m, l->listener, l->server, "longpoll-cut", 0);
    }
}

void lf_findings_eval(struct lf_findings *f, struct lf_model *m, const struct lf_topology *t)
{
    m->nfindings = 0;
    for (int i = 0; i < m->npaths; i++)
        m->paths[i].finding_codes[0] = 0;
    unpublished(f, m);
    simple_urls(f, m, t);
    bridge(f, m);
    sans(f, m);
    loops(m);
    splits(f, m);
    longpolls(f, m);
    /* stable order: severity first, then time */
    for (int i = 1; i < m->nfindings; i++)
        for (int j = i; j > 0; j--) {
            struct lf_ev_finding *a = &m->findings[j - 1], *b = &m->findings[j];
            if (a->severity > b->severity || (a->severity == b->severity && m->finding_ts[j - 1] <= m->finding_ts[j]))
                break;
            struct lf_ev_finding tf = *a;
            *a = *b;
            *b = tf;
            lf_time tt = m->finding_ts[j - 1];
            m->finding_ts[j - 1] = m->finding_ts[j];
            m->finding_ts[j] = tt;
        }
    m->generation++;
}
