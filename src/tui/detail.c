/* detail.c: the detail screen: the selected step from its full stored events:
 * headers, TLS, certificate, back leg, timing. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lyncflow/iislog.h"
#include "lyncflow/util.h"
#include "tui_int.h"

#define MAX_LINES 96

struct line {
    attr_t attr;
    char label[12];
    char text[400];
};

struct detail_state {
    struct line lines[MAX_LINES];
    int n, rows, width;
    struct lf_event ev, tls, back, back_tls; /* scratch: too big for the stack of a thread */
};

static void *create(struct lf_tui *t)
{
    (void)t;
    return lf_xcalloc(1, sizeof(struct detail_state));
}

static void add(struct detail_state *d, attr_t a, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(struct detail_state *d, attr_t a, const char *label, const char *fmt, ...)
{
    if (d->n == MAX_LINES)
        return;
    struct line *l = &d->lines[d->n++];
    l->attr = a;
    LF_SET(l->label, label);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->text, sizeof l->text, fmt, ap);
    va_end(ap);
}

/* A comma-separated list over as many lines as the pane's width needs. */
static void add_list(struct detail_state *d, attr_t a, const char *label, const char *list)
{
    char buf[400] = "";
    size_t width = d->width > 30 ? (size_t)d->width - 16 : 20;
    const char *p = list;
    int first = 1;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        size_t l = strlen(buf);
        if (l && l + n + 2 > width) {
            add(d, a, first ? label : "", "%s", buf);
            first = 0;
            buf[0] = 0;
            l = 0;
        }
        snprintf(buf + l, sizeof buf - l, "%s%.*s", l ? ", " : "", (int)n, p);
        p = e ? e + 1 : p + n;
    }
    if (buf[0] || first)
        add(d, a, first ? label : "", "%s", buf);
}

static const char *tls_version_name(uint16_t v)
{
    switch (v) {
    case 0x0304: return "TLS 1.3";
    case 0x0303: return "TLS 1.2";
    case 0x0302: return "TLS 1.1";
    case 0x0301: return "TLS 1.0";
    case 0x0300: return "SSL 3.0";
    case 0: return "?";
    default: return "unknown";
    }
}

static const struct {
    uint16_t id;
    const char *name;
} ciphers[] = {
    {0x1301, "TLS_AES_128_GCM_SHA256"},
    {0x1302, "TLS_AES_256_GCM_SHA384"},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
    {0xc02f, "ECDHE-RSA-AES128-GCM-SHA256"},
    {0xc030, "ECDHE-RSA-AES256-GCM-SHA384"},
    {0xc02b, "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {0xc02c, "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {0xcca8, "ECDHE-RSA-CHACHA20-POLY1305"},
    {0xcca9, "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {0xc027, "ECDHE-RSA-AES128-SHA256"},
    {0xc028, "ECDHE-RSA-AES256-SHA384"},
    {0xc013, "ECDHE-RSA-AES128-SHA"},
    {0xc014, "ECDHE-RSA-AES256-SHA"},
    {0x009c, "RSA-AES128-GCM-SHA256"},
    {0x009d, "RSA-AES256-GCM-SHA384"},
    {0x003c, "RSA-AES128-SHA256"},
    {0x003d, "RSA-AES256-SHA256"},
    {0x002f, "RSA-AES128-SHA"},
    {0x0035, "RSA-AES256-SHA"},
    {0x009e, "DHE-RSA-AES128-GCM-SHA256"},
    {0x009f, "DHE-RSA-AES256-GCM-SHA384"},
    {0x000a, "RSA-3DES-EDE-CBC-SHA"},
};

static const char *cipher_name(uint16_t id)
{
    for (size_t i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++)
        if (ciphers[i].id == id)
            return ciphers[i].name;
    return id ? "" : "?";
}

/* 1 when name is covered by one of the certificate's SANs (one-label wildcards). */
static int san_covers(const char *sans, const char *name)
{
    const char *p = sans;
    size_t nl = strlen(name);
    if (!nl)
        return 0;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && *p == ' ') {
            p++;
            n--;
        }
        if (n == nl && strncasecmp(p, name, n) == 0)
            return 1;
        if (n > 2 && p[0] == '*' && p[1] == '.') {
            const char *dot = strchr(name, '.');
            if (dot && strlen(dot) == n - 1 && strncasecmp(dot, p + 1, n - 1) == 0)
                return 1;
        }
        p = e ? e + 1 : p + n;
    }
    return 0;
}

static void add_tls(struct lf_tui *t, struct detail_state *d, const struct lf_event *e, const char *label)
{
    const struct lf_ev_tls *x = &e->u.tls;
    const char *cn = cipher_name(x->cipher);
    add(d, A_NORMAL, label, "%s  cipher %s%s(0x%04X)  ALPN %s%s%s", tls_version_name(x->version), cn, cn[0] ? " " : "",
        (unsigned)x->cipher, x->alpn[0] ? x->alpn : "-", x->decrypting ? "  decrypted" : "  not decrypted",
        x->h2 ? "  HTTP/2" : "");
    if (x->sni[0])
        add(d, A_NORMAL, "", "SNI %s%s", x->sni, x->ech ? "  (ECH offered)" : "");
    else
        add(d, tui_attr(t, C_YELLOW), "", "no SNI sent");
    if (x->alert_from)
        add(d, tui_attr(t, C_RED), "", "alert %u (level %u) from the %s", (unsigned)x->alert_desc,
            (unsigned)x->alert_level, x->alert_from == 'c' ? "client" : "server");
    if (x->cert_encrypted)
        add(d, A_DIM, "cert", "certificate encrypted (TLS 1.3)");
    if (x->cert_subject[0])
        add(d, A_NORMAL, "cert", "%s", x->cert_subject);
    if (x->cert_issuer[0])
        add(d, A_DIM, "", "issued by %s", x->cert_issuer);
    if (x->cert_san[0]) {
        add_list(d, A_NORMAL, "SANs", x->cert_san);
        if (x->sni[0] && !san_covers(x->cert_san, x->sni))
            add(d, tui_attr(t, C_RED), "", "the SNI %s is not among the SANs", x->sni);
    }
    if (x->decrypt_failures)
        add(d, tui_attr(t, C_RED), "", "%u records did not decrypt", (unsigned)x->decrypt_failures);
}

static void add_http(struct lf_tui *t, struct detail_state *d, const struct lf_event *e)
{
    const struct lf_ev_http *h = &e->u.http;
    if (h->host[0] || h->sni[0])
        add(d, A_NORMAL, "host", "%s%s%s", h->host[0] ? h->host : "-", h->sni[0] ? "   SNI " : "", h->sni);
    if (h->user_agent[0])
        add(d, A_NORMAL, "agent", "%s", h->user_agent);
    if (h->auth_scheme[0] || h->ntlm_type)
        add(d, A_NORMAL, "auth", "%s%s%s%s%s%s%s", h->auth_scheme, h->ntlm_type ? "  NTLM type " : "",
            h->ntlm_type ? (h->ntlm_type == 1 ? "1" : h->ntlm_type == 2 ? "2" : "3") : "",
            h->ntlm_user[0] ? "  " : "", h->ntlm_domain, h->ntlm_domain[0] ? "\\" : "", h->ntlm_user);
    if (h->user[0])
        add(d, A_NORMAL, "user", "%s", h->user);
    char dur[32];
    attr_t sa = h->status >= 400 || !h->status ? tui_attr(t, C_RED) : tui_attr(t, C_GREEN);
    if (h->status && h->substatus)
        add(d, sa, "response", "%u.%u  %s", (unsigned)h->status, (unsigned)h->substatus, h->content_type);
    else if (h->status)
        add(d, sa, "response", "%u  %s", (unsigned)h->status, h->content_type);
    else
        add(d, sa, "response", "none seen");
    if (h->substatus || h->win32_status)
        add(d, A_NORMAL, "IIS", "sc-substatus %u  sc-win32-status %u (0x%08X)", (unsigned)h->substatus,
            (unsigned)h->win32_status, (unsigned)h->win32_status);
    if (h->www_authenticate[0])
        add(d, A_NORMAL, "challenge", "WWW-Authenticate: %s", h->www_authenticate);
    if (h->location[0])
        add(d, A_NORMAL, "location", "%s", h->location);
    if (h->server_fqdn[0])
        add(d, A_NORMAL, "server", "X-MS-Server-Fqdn: %s", h->server_fqdn);
    if (h->ms_diagnostics[0])
        add(d, tui_attr(t, C_YELLOW), "diag", "X-Ms-diagnostics: %s", h->ms_diagnostics);
    add(d, A_DIM, "bytes", "request %llu  response %llu%s%s", (unsigned long long)h->req_bytes,
        (unsigned long long)h->resp_bytes, h->latency_us >= 0 ? "  latency " : "",
        h->latency_us >= 0 ? tui_duration(h->latency_us, dur, sizeof dur) : "");
}

static void build(struct detail_state *d, struct lf_tui *t, const struct lf_signin *s, uint32_t idx)
{
    char a1[64], a2[64], tb[32], db[32];
    d->n = 0;
    const struct lf_step *p = &s->steps[idx];
    add(d, A_BOLD, "step", "%u of %u  %s %s%s%s", (unsigned)idx + 1, (unsigned)s->nsteps,
        p->kind == LF_EV_TLS ? "TLS" : p->method, p->what, p->failed ? "  [failed here]" : "",
        p->challenge ? "  [401 challenge]" : "");
    if (s->failed_step == idx + 1 && s->reason[0])
        add(d, tui_attr(t, C_RED), "why", "%s", s->reason);
    add(d, A_NORMAL, "when", "%s  (+%.3f s into the sign-in)%s%s", tui_time(p->ts, tb, sizeof tb, 1),
        (double)(p->ts - s->start) / 1e6, p->duration_us >= 0 ? "  took " : "",
        tui_duration(p->duration_us, db, sizeof db));
    add(d, p->stitched || p->from_iis ? A_NORMAL : tui_attr(t, C_YELLOW), "path", "listener %s -> %s %s%s%s%s",
        p->listener[0] ? p->listener : "?", p->role ? lf_role_name(p->role) : "server", p->server[0] ? p->server : "?",
        p->service[0] ? "  service " : "", p->service,
        p->from_iis ? "  (from an IIS log)" : p->stitched ? "" : "  (the back leg was not seen)");
    if (p->iis) {
        const char *w32 = p->win32_status ? lf_win32_status_name(p->win32_status) : NULL;
        add(d, A_NORMAL, "IIS log", "%s logged %u.%u  win32 %s  time-taken %u ms",
            p->server[0] ? p->server : "the server", (unsigned)p->status, (unsigned)p->substatus,
            w32 ? w32 : p->win32_status ? "?" : "0", (unsigned)p->time_taken_ms);
    }
    int have = tui_store_step(t, p, &d->ev) == 0;
    if (!have) {
        add(d, A_DIM, "", "the full event is no longer kept (the detail store holds the last %d events)",
            TUI_STORE_EVENTS);
        if (p->host[0])
            add(d, A_NORMAL, "host", "%s", p->host);
        if (p->status)
            add(d, A_NORMAL, "response", "%u", (unsigned)p->status);
        return;
    }
    const struct lf_event *e = &d->ev;
    add(d, A_NORMAL, "front", "%s -> %s  flow %llu", lf_addr_format(&e->client, a1, sizeof a1),
        lf_addr_format(&e->server, a2, sizeof a2), (unsigned long long)e->flow_id);
    if (e->type == LF_EV_HTTP) {
        add_http(t, d, e);
        if (tui_store_tls(t, e->flow_id, &d->tls) == 0)
            add_tls(t, d, &d->tls, "TLS");
        else if (e->u.http.decrypted)
            add(d, A_DIM, "TLS", "decrypted; the handshake event is no longer kept");
        else if (e->u.http.source[0] == 'i')
            add(d, A_DIM, "TLS", "none: this request comes from an IIS log");
        else
            add(d, A_DIM, "TLS", "none seen on this connection (plain HTTP)");
        if (tui_store_back(t, e, &d->back) == 0) {
            const struct lf_ev_http *b = &d->back.u.http;
            add(d, A_BOLD, "back leg", "%s -> %s  %s%s%s", lf_addr_format(&d->back.client, a1, sizeof a1),
                lf_addr_format(&d->back.server, a2, sizeof a2), d->back.server_name,
                d->back.role ? " " : "", lf_role_name(d->back.role));
            add(d, A_NORMAL, "", "%s %s  Host %s  -> %u%s%s", b->method, b->uri, b->host[0] ? b->host : "-",
                (unsigned)b->status, b->server_fqdn[0] ? "  X-MS-Server-Fqdn " : "", b->server_fqdn);
            if (tui_store_tls(t, d->back.flow_id, &d->back_tls) == 0) {
                const struct lf_ev_tls *x = &d->back_tls.u.tls;
                add(d, A_NORMAL, "", "%s %s  SNI %s%s%s", tls_version_name(x->version), cipher_name(x->cipher),
                    x->sni[0] ? x->sni : "-", x->cert_subject[0] ? "  cert " : "", x->cert_subject);
            }
            char l1[32], l2[32], l3[32];
            int64_t gap = d->back.ts - e->ts;
            add(d, A_NORMAL, "timing", "client -> proxy %s; proxy -> server +%s; server %s; proxy added %s",
                tui_time(e->ts, l1, sizeof l1, 1), tui_duration(gap < 0 ? 0 : gap, l2, sizeof l2),
                b->latency_us >= 0 ? tui_duration(b->latency_us, l3, sizeof l3) : "?",
                e->u.http.latency_us >= 0 && b->latency_us >= 0
                    ? tui_duration(e->u.http.latency_us - b->latency_us < 0 ? 0 : e->u.http.latency_us - b->latency_us,
                                   db, sizeof db)
                    : "?");
        } else if (e->stitched || p->stitched) {
            add(d, A_DIM, "back leg", "stitched, but its event is no longer kept");
        } else if (e->u.http.source[0] != 'i') {
            add(d, A_DIM, "back leg", "not seen (not stitched)");
        }
    } else {
        add_tls(t, d, e, "TLS");
    }
}

static void build_signin(struct detail_state *d, struct lf_tui *t, const struct lf_signin *s)
{
    char a[64], tb[32], te[32];
    d->n = 0;
    add(d, A_BOLD, "sign-in", "#%u %s from %s", (unsigned)s->id, s->user[0] ? s->user : "-",
        lf_ip_format(&s->client, a, sizeof a));
    add(d, A_NORMAL, "client", "%s", s->agent[0] ? s->agent : "-");
    add(d, A_NORMAL, "time", "%s to %s, %u steps", tui_time(s->start, tb, sizeof tb, 1),
        tui_time(s->end, te, sizeof te, 1), (unsigned)s->nsteps);
    add(d, s->verdict == LF_VERDICT_FAILED ? tui_attr(t, C_RED) : A_NORMAL, "verdict", "%s, phase %s%s%s",
        lf_verdict_name(s->verdict), s->phase[0] ? s->phase : "-", s->reason[0] ? ": " : "", s->reason);
}

static void draw(void *stp, struct lf_tui *t, WINDOW *w, const struct lf_model *m, int focused)
{
    struct detail_state *d = stp;
    int h = getmaxy(w), cols = getmaxx(w);
    d->width = cols;
    const struct lf_signin *s = tui_selected(t, m);
    if (!s) {
        d->n = 0;
        add(d, A_DIM, "", "no sign-in selected");
    } else if (t->sel_step < s->nsteps) {
        build(d, t, s, t->sel_step);
    } else {
        build_signin(d, t, s);
    }
    tui_title(t, w, focused, "Details  %s", s && t->sel_step < s->nsteps ? "of the selected step" : "");
    d->rows = h - 1;
    t->detail_lines = d->n;
    if (t->detail_top > d->n - d->rows)
        t->detail_top = d->n - d->rows > 0 ? d->n - d->rows : 0;
    for (int r = 0; r < d->rows && t->detail_top + r < d->n; r++) {
        const struct line *l = &d->lines[t->detail_top + r];
        tui_put(t, w, 1 + r, 1, 10, A_BOLD | (l->attr & A_COLOR), l->label);
        tui_put(t, w, 1 + r, 12, cols - 13, l->attr, l->text);
    }
    if (t->detail_top + d->rows < d->n)
        tui_putf(t, w, h - 1, cols - 12, 11, A_DIM, "%s more", tui_glyph(t, G_ARROW));
}

static int handle_key(void *stp, struct lf_tui *t, enum tui_action a)
{
    struct detail_state *d = stp;
    int page = d->rows > 1 ? d->rows - 1 : 1;
    switch (a) {
    case ACT_UP: t->detail_top--; break;
    case ACT_DOWN: t->detail_top++; break;
    case ACT_PGUP: t->detail_top -= page; break;
    case ACT_PGDN: t->detail_top += page; break;
    case ACT_TOP: t->detail_top = 0; break;
    case ACT_BOTTOM: t->detail_top = t->detail_lines; break;
    case ACT_LEFT: t->focus = PANE_LADDER; break;
    case ACT_ENTER:
        t->detail_open = 0;
        t->focus = PANE_LADDER;
        return TUI_HANDLED | TUI_REDRAW | TUI_RESIZE;
    default: return 0;
    }
    if (t->detail_top < 0)
        t->detail_top = 0;
    return TUI_HANDLED | TUI_REDRAW;
}

static void destroy(void *st)
{
    struct detail_state *d = st;
    lf_event_release(&d->ev);
    lf_event_release(&d->tls);
    lf_event_release(&d->back);
    lf_event_release(&d->back_tls);
    free(d);
}

const struct tui_screen tui_detail_screen = {"detail", create, draw, handle_key, NULL, destroy};
