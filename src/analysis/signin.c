/* signin.c: sign-ins: the steps of released events grouped by client, user, program and time.
 *
 * A step joins its connection's sign-in, or a recent one of its client
 * address (SIGNIN_SCAN, SIGNIN_GAP_US) with the same user and user agent;
 * a discovery after the home pool was reached starts a new one. A request
 * replaces its connection's TLS step; IIS lines and flow ends patch steps
 * made already. Sign-ins are judged (verdict.c) as steps come. Lock held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_int.h"

static const char *agent_of(const char *ua)
{
    if (!ua[0])
        return "";
    if (strstr(ua, "Skype for Business") || strstr(ua, "OC/16."))
        return "Skype for Business";
    if (strstr(ua, "OC/15."))
        return "Lync 2013";
    if (strstr(ua, "OC/4."))
        return "Lync 2010";
    if (strstr(ua, "iPhoneLync") || strstr(ua, "iPadLync") || strstr(ua, "AndroidLync") || strstr(ua, "WPLync") ||
        strstr(ua, "NokiaLync") || strstr(ua, "McxService"))
        return "Lync mobile";
    if (strstr(ua, "UCWA") || strstr(ua, "ucwa"))
        return "UCWA client";
    if (lf_strcaseprefix(ua, "Mozilla/"))
        return "browser";
    if (lf_strcaseprefix(ua, "curl/"))
        return "curl";
    return "other";
}

/* "bob" for "sip:bob@contoso.com", "CONTOSO\\bob" and "bob@contoso.com"; "" for a bare name, which
 * says too little to tell two users apart. */
static void user_key(const char *u, char *out, size_t size)
{
    out[0] = 0;
    if (lf_strcaseprefix(u, "sip:"))
        u += 4;
    const char *bs = strchr(u, '\\');
    int qualified = bs || strchr(u, '@');
    if (!qualified)
        return;
    if (bs)
        u = bs + 1;
    lf_strncpy_n(out, size, u, strcspn(u, "@"));
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
}

static int users_differ(const char *a, const char *b)
{
    char ka[128], kb[128];
    user_key(a, ka, sizeof ka);
    user_key(b, kb, sizeof kb);
    return ka[0] && kb[0] && strcmp(ka, kb) != 0;
}

static char user_form(const char *u)
{
    if (lf_strcaseprefix(u, "sip:"))
        return 's';
    if (strchr(u, '\\'))
        return 'd';
    if (strchr(u, '@'))
        return 'u';
    return 'p';
}

/* sip URI in a query: "?sipuri=alice@contoso.com" */
static void user_from_query(const char *uri, char *out, size_t size)
{
    const char *q = strchr(uri, '?');
    out[0] = 0;
    while (q) {
        q++;
        if (lf_strcaseprefix(q, "sipuri=") || lf_strcaseprefix(q, "originalDomain=")) {
            if (!lf_strcaseprefix(q, "sipuri="))
                break;
            q += 7;
            size_t n = strcspn(q, "&#");
            char tmp[128];
            lf_strncpy_n(tmp, sizeof tmp, q, n);
            /* %40 for '@' */
            char *at = strstr(tmp, "%40");
            if (at) {
                *at = '@';
                memmove(at + 1, at + 3, strlen(at + 3) + 1);
            }
            if (lf_strcaseprefix(tmp, "sip:"))
                lf_strlcpy(out, tmp, size);
            else
                snprintf(out, size, "sip:%.100s", tmp);
            return;
        }
        q = strchr(q, '&');
    }
}

/* The home pool was reached: by its requests when it has any (TLS steps may be placeholders of
 * connections whose requests are still to come, perhaps another client's), else by its connections. */
static int reached_home(const struct lf_signin *s)
{
    int http = 0;
    for (uint32_t i = 0; i < s->nsteps; i++)
        if (s->steps[i].kind == LF_EV_HTTP) {
            http = 1;
            if (s->steps[i].phase == 4)
                return 1;
        }
    return !http && an_phase_rank(s->phase) >= 4;
}

/* Nothing more to come for a new discovery: the home pool was reached, or it was a meeting join only. */
static int signin_done(const struct lf_signin *s)
{
    if (reached_home(s))
        return 1;
    for (uint32_t i = 0; i < s->nsteps; i++) {
        const char *svc = s->steps[i].service;
        if (strcmp(svc, "meet") && strcmp(svc, "dialin") && strcmp(svc, "scheduler") && strcmp(svc, "lwa"))
            return 0;
    }
    return s->nsteps > 0;
}

static size_t client_bucket(const struct lf_addr *a)
{
    size_t n = a->family == 4 ? 4 : a->family == 6 ? 16 : 0;
    return lf_fnv(LF_FNV_SEED ^ a->family, a->ip, n) & (CLIENT_BUCKETS - 1);
}

static struct lf_signin *signin_for(struct lf_analysis *an, const struct lf_addr *client, const char *user,
                                    const char *ua, lf_time ts, int phase)
{
    struct lf_model *m = &an->model;
    struct lf_signin *fallback = NULL; /* a sign-in of this address whose program is not known yet */
    int restart = 0;
    /* the last SIGNIN_SCAN sign-ins, newest first, those of this address only */
    uint32_t lowest = m->nsignins > SIGNIN_SCAN ? m->nsignins - SIGNIN_SCAN : 0;
    size_t bucket = client_bucket(client);
    for (uint32_t k = an->client_last[bucket]; k > lowest; k = an->client_prev[k - 1]) {
        struct lf_signin *s = &m->signins[k - 1];
        if (s->client.family != client->family || (client->family && !an_ip_eq(&s->client, client)))
            continue;
        if (ts - s->end > SIGNIN_GAP_US)
            break;
        if (user[0] && s->user[0] && users_differ(user, s->user))
            continue; /* another user behind the same address */
        if (ua[0] && s->user_agent[0] && strcmp(ua, s->user_agent) != 0)
            continue; /* another client program on the same address */
        if (ua[0] && !s->user_agent[0]) {
            if (!fallback)
                fallback = s;
            continue;
        }
        if ((phase == 1 && signin_done(s)) || (phase == HINT_MEETING && reached_home(s))) {
            restart = 1; /* a new discovery after the home pool was reached: a new sign-in */
            break;
        }
        return s;
    }
    if (!restart && fallback && !(phase == 1 && signin_done(fallback)) &&
        !(phase == HINT_MEETING && reached_home(fallback)))
        return fallback;
    if (m->nsignins == LF_MODEL_MAX_SIGNINS) {
        m->dropped_signins++;
        return NULL;
    }
    if (m->nsignins == m->capsignins) {
        m->capsignins = m->capsignins ? m->capsignins * 2 : 16;
        m->signins = lf_xrealloc(m->signins, m->capsignins * sizeof *m->signins);
        an->client_prev = lf_xrealloc(an->client_prev, m->capsignins * sizeof *an->client_prev);
    }
    struct lf_signin *s = &m->signins[m->nsignins++];
    memset(s, 0, sizeof *s);
    s->id = m->nsignins;
    s->client = *client;
    s->client.port = 0;
    s->start = s->end = ts;
    an->client_prev[m->nsignins - 1] = an->client_last[bucket];
    an->client_last[bucket] = m->nsignins;
    return s;
}

static void signin_remove_step(struct lf_signin *s, uint64_t seq)
{
    for (uint32_t i = 0; i < s->nsteps; i++)
        if (s->steps[i].seq == seq) {
            memmove(&s->steps[i], &s->steps[i + 1], (s->nsteps - i - 1) * sizeof *s->steps);
            s->nsteps--;
            if (i == 0 && s->nsteps)
                s->start = s->steps[0].ts;
            return;
        }
}

static void apply_flow(struct lf_step *st, const struct conn *c);

static int trivial_path(const char *uri)
{
    return lf_strcaseprefix(uri, "/favicon.ico") || lf_strcaseprefix(uri, "/robots.txt");
}

/* What a matched IIS line tells about a step: substatus and win32 status, its user, time-taken. */
static void step_apply_iis(struct lf_step *st, const struct iisinfo *x)
{
    st->iis = 1;
    st->time_taken_ms = x->time_taken_ms;
    if (!st->status)
        st->status = x->status;
    if (x->substatus || x->win32) {
        st->substatus = x->substatus;
        st->win32_status = x->win32;
    }
    if (!st->user[0])
        LF_SET(st->user, x->user);
    if (st->duration_us < 0)
        st->duration_us = (int64_t)x->time_taken_ms * 1000;
}

/* Adds the step of a released event to its sign-in; returns that sign-in, NULL when no step was kept. */
struct lf_signin *an_add_step(struct lf_analysis *an, struct pend *p, uint64_t seq)
{
    const struct lf_event *ev = &p->ev;
    struct lf_model *m = &an->model;
    struct lf_step st;
    memset(&st, 0, sizeof st);
    st.seq = seq;
    st.ts = ev->ts;
    st.duration_us = -1;
    st.kind = ev->type;
    st.role = ev->role;
    st.stitched = p->stitched;
    st.client = ev->client;
    st.flow_id = ev->flow_id;
    LF_SET(st.host, p->name);
    LF_SET(st.service, ev->service);
    LF_SET(st.listener, ev->listener);
    LF_SET(st.server, ev->server_name);
    char user[128] = "";
    char agent_ua[256] = "";
    if (ev->type == LF_EV_HTTP) {
        const struct lf_ev_http *h = &ev->u.http;
        LF_SET(st.method, h->method);
        LF_SET(st.what, h->uri);
        st.status = h->status;
        st.substatus = h->substatus;
        st.win32_status = h->win32_status;
        st.decrypted = h->decrypted;
        st.from_iis = strcmp(h->source, "iis") == 0;
        st.duration_us = h->latency_us;
        st.ntlm_type = h->ntlm_type;
        if (p->partner.have) {
            if (!st.status)
                st.status = p->partner.status;
            if (!st.substatus && !st.win32_status) {
                st.substatus = p->partner.substatus;
                st.win32_status = p->partner.win32;
            }
            if (st.duration_us < 0)
                st.duration_us = p->partner.duration_us;
        }
        if (st.from_iis)
            st.time_taken_ms = h->time_taken_ms;
        else if (p->iis.have)
            step_apply_iis(&st, &p->iis);
        if (h->user[0])
            LF_SET(user, h->user);
        else if (h->ntlm_user[0] && h->ntlm_domain[0])
            snprintf(user, sizeof user, "%s\\%s", h->ntlm_domain, h->ntlm_user);
        else if (h->ntlm_user[0])
            LF_SET(user, h->ntlm_user);
        else if (p->partner.user[0])
            LF_SET(user, p->partner.user);
        else if (p->iis.user[0])
            LF_SET(user, p->iis.user);
        else
            user_from_query(h->uri, user, sizeof user);
        LF_SET(agent_ua, h->user_agent);
        if (st.status == 0) {
            st.failed = 1;
            struct conn *c = an_conn_get(an, ev->flow_id, 0);
            LF_SET(st.reason, c && c->closed == 2 ? "reset, no response" : "no response");
        } else if (st.status >= 400 && st.status != 401 && st.status < 500 && trivial_path(h->uri)) {
            /* a browser's favicon: not part of anything */
        } else if (st.status >= 400 && st.status != 401) {
            st.failed = 1;
            snprintf(st.reason, sizeof st.reason, "HTTP %u%s", st.status,
                     p->side == LF_SIDE_FRONT && !p->stitched && an->back_seen ? " from the proxy" : "");
        }
    } else {
        const struct lf_ev_tls *t = &ev->u.tls;
        LF_SET(st.what, t->sni[0] ? t->sni : "(no SNI)");
        st.tls_version = t->version;
        st.alert_desc = t->alert_desc;
        st.alert_from = t->alert_from;
        if (t->alert_from && !(t->alert_desc == 0 && t->alert_level == 1)) {
            st.failed = 1;
            snprintf(st.reason, sizeof st.reason, "TLS alert %u from the %s", t->alert_desc,
                     t->alert_from == 'c' ? "client" : "server");
        }
    }
    LF_SET(st.user, user);

    /* discovery after the home pool was reached begins a new sign-in; so does a meeting join, when
     * connections alone (no user agent) are all there is to tell clients apart */
    int phase_hint = ev->type == LF_EV_HTTP ? an_service_phase(st.service) : (!strcmp(st.service, "discover") ? 1 : 0);
    if (ev->type == LF_EV_TLS && (!strcmp(st.service, "meet") || !strcmp(st.service, "dialin")))
        phase_hint = HINT_MEETING;
    struct conn *c = an_conn_get(an, ev->flow_id, 0);
    struct lf_signin *s = NULL;
    /* the connection's sign-in, unless this request shows another user or program (the connection may
     * have joined it on its TLS step alone, which tells neither) */
    struct lf_signin *cs = c && c->signin && c->signin <= m->nsignins ? &m->signins[c->signin - 1] : NULL;
    if (cs) {
        int other_user = user[0] && cs->user[0] && users_differ(user, cs->user);
        int other_ua = agent_ua[0] && cs->user_agent[0] && strcmp(agent_ua, cs->user_agent) != 0;
        /* a sign-in of this very program, or nothing new to tell by */
        if (!other_user && !other_ua && (cs->user_agent[0] || !agent_ua[0]) && ev->ts - cs->end <= SIGNIN_GAP_US)
            s = cs;
    }
    if (!s)
        s = signin_for(an, &ev->client, user, agent_ua, ev->ts, phase_hint);
    if (cs && s != cs && c->tls_seq) {
        signin_remove_step(cs, c->tls_seq); /* its TLS step guessed the wrong sign-in */
        c->tls_seq = 0;
    }
    if (!s)
        return NULL;
    if (c)
        c->signin = s->id;
    if (user[0] && (!s->user[0] || (user_form(user) == 's' && user_form(s->user) != 's')))
        LF_SET(s->user, user); /* the sip URI reads best */
    if (!s->user_agent[0] && agent_ua[0]) {
        LF_SET(s->user_agent, agent_ua);
        LF_SET(s->agent, agent_of(agent_ua));
    }
    /* a request on a connection replaces the connection's TLS step */
    if (ev->type == LF_EV_HTTP && c && c->tls_seq) {
        for (uint32_t i = 0; i < s->nsteps; i++)
            if (s->steps[i].seq == c->tls_seq && !s->steps[i].failed) {
                signin_remove_step(s, c->tls_seq);
                break;
            }
        c->tls_seq = 0;
    }
    if (ev->type == LF_EV_TLS && c) {
        if (c->http_seen)
            return NULL;
        c->tls_seq = seq;
        if (c->flow_seen)
            apply_flow(&st, c);
    }
    if (s->nsteps == LF_MODEL_MAX_STEPS) {
        s->dropped_steps++;
        return NULL;
    }
    if (s->nsteps == s->capsteps) {
        s->capsteps = s->capsteps ? s->capsteps * 2 : 2;
        s->steps = lf_xrealloc(s->steps, s->capsteps * sizeof *s->steps);
    }
    /* sorted by ts; equal times keep their insertion order */
    uint32_t at = s->nsteps;
    while (at > 0 && s->steps[at - 1].ts > st.ts)
        at--;
    memmove(&s->steps[at + 1], &s->steps[at], (s->nsteps - at) * sizeof *s->steps);
    s->steps[at] = st;
    s->nsteps++;
    if (st.ts < s->start)
        s->start = st.ts;
    lf_time end = st.ts + (st.duration_us > 0 ? st.duration_us : 0);
    if (end > s->end)
        s->end = end;
    if (s->nsteps <= 2 * EVAL_EVERY || s->nsteps % EVAL_EVERY == 0)
        an_signin_eval(an, s);
    return s;
}

/* An IIS line matched a request whose step was made already. */
void an_patch_step(struct lf_analysis *an, uint32_t signin, uint64_t seq, const struct iisinfo *x)
{
    struct lf_model *m = &an->model;
    if (!signin || signin > m->nsignins)
        return;
    struct lf_signin *s = &m->signins[signin - 1];
    for (uint32_t i = 0; i < s->nsteps; i++)
        if (s->steps[i].seq == seq) {
            step_apply_iis(&s->steps[i], x);
            if (!s->user[0] && x->user[0])
                LF_SET(s->user, x->user);
            an_signin_eval(an, s);
            an_model_changed(an);
            return;
        }
}

/* What the end of its connection says about a TLS-only step. */
static void apply_flow(struct lf_step *st, const struct conn *c)
{
    if (c->flow_end > c->flow_start)
        st->duration_us = c->flow_end - c->flow_start;
    if (st->failed)
        return;
    if (!c->answered) {
        st->failed = 1;
        LF_SET(st->reason, "no answer");
    } else if (c->closed == 2 && c->rst_from == 's') {
        st->failed = 1;
        LF_SET(st->reason, "reset by the server");
    }
}

/* A flow ended after its TLS-only step was made. */
void an_flow_update_step(struct lf_analysis *an, struct conn *c)
{
    struct lf_model *m = &an->model;
    if (!c->tls_seq || !c->signin || c->signin > m->nsignins)
        return;
    struct lf_signin *s = &m->signins[c->signin - 1];
    for (uint32_t i = 0; i < s->nsteps; i++)
        if (s->steps[i].seq == c->tls_seq) {
            apply_flow(&s->steps[i], c);
            an_signin_eval(an, s);
            return;
        }
}

/* The input ended: sign-ins left empty are dropped (ids renumbered, the client index rebuilt) and every
 * one is judged again. */
void an_signins_close(struct lf_analysis *an)
{
    struct lf_model *m = &an->model;
    /* sign-ins left empty when their only TLS step went to another one */
    uint32_t kept = 0;
    for (uint32_t i = 0; i < m->nsignins; i++) {
        if (!m->signins[i].nsteps) {
            free(m->signins[i].steps);
            continue;
        }
        m->signins[kept] = m->signins[i];
        m->signins[kept].id = kept + 1;
        kept++;
    }
    m->nsignins = kept;
    memset(an->client_last, 0, sizeof an->client_last);
    for (uint32_t i = 0; i < m->nsignins; i++) {
        size_t b = client_bucket(&m->signins[i].client);
        an->client_prev[i] = an->client_last[b];
        an->client_last[b] = i + 1;
    }
    for (uint32_t i = 0; i < m->nsignins; i++)
        an_signin_eval(an, &m->signins[i]);
}

void lf_signin_event(const struct lf_signin *s, struct lf_event *ev)
{
    lf_event_init(ev, LF_EV_SIGNIN, s->start);
    ev->client = s->client;
    ev->u.signin.end = s->end;
    ev->u.signin.user = s->user; /* borrowed from the model, which outlives the event */
    ev->u.signin.steps = s->nsteps;
    LF_SET(ev->u.signin.phase, s->phase);
    LF_SET(ev->u.signin.kind, s->kind);
    ev->u.signin.verdict = s->verdict;
    ev->u.signin.reason = s->reason;
}
