/* event.c: event values, names of enums, endpoint formatting and parsing. */
#include "lyncflow/event.h"

#include <stddef.h>
#include <stdlib.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "lyncflow/util.h"

#define CAP_LONG LF_CAP_LONG /* URI, Location, the certificate's SAN list: the values a Lync admin reads whole */
#define CAP_TEXT LF_CAP_TEXT
#define MAX_FIELDS 16

struct field_info {
    const char *name; /* its JSON key */
    size_t cap;
};

static const struct field_info tls_fields[] = {
    {"sni", CAP_TEXT}, {"alpn", CAP_TEXT}, {"cert_subject", CAP_TEXT}, {"cert_issuer", CAP_TEXT},
    {"cert_san", CAP_LONG},
};
static const struct field_info http_fields[] = {
    {"sni", CAP_TEXT},          {"host", CAP_TEXT},           {"method", CAP_TEXT},
    {"uri", CAP_LONG},          {"user_agent", CAP_TEXT},     {"user", CAP_TEXT},
    {"content_type", CAP_TEXT}, {"location", CAP_LONG},       {"server_fqdn", CAP_TEXT},
    {"ms_diagnostics", CAP_TEXT}, {"www_authenticate", CAP_TEXT}, {"auth_scheme", CAP_TEXT},
    {"ntlm_domain", CAP_TEXT},  {"ntlm_user", CAP_TEXT},      {"ntlm_workstation", CAP_TEXT},
    {"log_server", CAP_TEXT},
};
static const struct field_info finding_fields[] = {{"subject", CAP_TEXT}, {"message", CAP_LONG}};
static const struct field_info signin_fields[] = {{"user", CAP_TEXT}, {"reason", CAP_TEXT}};

/* The string fields of ev, in the order of its type's table above; returns how many. */
static int fields_of(struct lf_event *ev, const char **f[MAX_FIELDS])
{
    switch (ev->type) {
    case LF_EV_TLS: {
        struct lf_ev_tls *t = &ev->u.tls;
        f[0] = &t->sni, f[1] = &t->alpn, f[2] = &t->cert_subject, f[3] = &t->cert_issuer, f[4] = &t->cert_san;
        return 5;
    }
    case LF_EV_HTTP: {
        struct lf_ev_http *h = &ev->u.http;
        f[0] = &h->sni, f[1] = &h->host, f[2] = &h->method, f[3] = &h->uri, f[4] = &h->user_agent;
        f[5] = &h->user, f[6] = &h->content_type, f[7] = &h->location, f[8] = &h->server_fqdn;
        f[9] = &h->ms_diagnostics, f[10] = &h->www_authenticate, f[11] = &h->auth_scheme;
        f[12] = &h->ntlm_domain, f[13] = &h->ntlm_user, f[14] = &h->ntlm_workstation, f[15] = &h->log_server;
        return 16;
    }
    case LF_EV_FINDING:
        f[0] = &ev->u.finding.subject, f[1] = &ev->u.finding.message;
        return 2;
    case LF_EV_SIGNIN:
        f[0] = &ev->u.signin.user, f[1] = &ev->u.signin.reason;
        return 2;
    }
    return 0;
}

static const struct field_info *table_of(int type, int *n)
{
    switch (type) {
    case LF_EV_TLS: *n = (int)(sizeof tls_fields / sizeof tls_fields[0]); return tls_fields;
    case LF_EV_HTTP: *n = (int)(sizeof http_fields / sizeof http_fields[0]); return http_fields;
    case LF_EV_FINDING: *n = (int)(sizeof finding_fields / sizeof finding_fields[0]); return finding_fields;
    case LF_EV_SIGNIN: *n = (int)(sizeof signin_fields / sizeof signin_fields[0]); return signin_fields;
    }
    *n = 0;
    return NULL;
}

const char **lf_event_field_at(struct lf_event *ev, int i)
{
    const char **f[MAX_FIELDS];
    return i >= 0 && i < fields_of(ev, f) ? f[i] : NULL;
}

size_t lf_event_text_len(const struct lf_event *ev)
{
    const char **f[MAX_FIELDS];
    size_t n = 0;
    for (int i = fields_of((struct lf_event *)ev, f); i-- > 0;) /* the pointers are only read */
        n += strlen(*f[i]);
    return n;
}

int lf_event_nfields(int type)
{
    int n;
    table_of(type, &n);
    return n;
}

const char *lf_event_field_name(int type, int i)
{
    int n;
    const struct field_info *t = table_of(type, &n);
    return i >= 0 && i < n ? t[i].name : "";
}

size_t lf_event_field_cap(int type, int i)
{
    int n;
    const struct field_info *t = table_of(type, &n);
    return i >= 0 && i < n ? t[i].cap : CAP_TEXT;
}

void lf_event_init(struct lf_event *ev, enum lf_ev_type type, lf_time ts)
{
    memset(ev, 0, sizeof *ev);
    ev->type = (uint8_t)type;
    ev->ts = ts;
    if (type == LF_EV_HTTP)
        ev->u.http.latency_us = -1;
    const char **f[MAX_FIELDS];
    for (int i = fields_of(ev, f); i-- > 0;)
        *f[i] = "";
}

void lf_event_reset(struct lf_event *ev, enum lf_ev_type type, lf_time ts)
{
    struct lf_text keep = ev->text;
    lf_event_init(ev, type, ts);
    ev->text = keep;
    ev->text.len = 0;
}

void lf_event_release(struct lf_event *ev)
{
    const char **f[MAX_FIELDS];
    for (int i = fields_of(ev, f); i-- > 0;)
        if (ev->text.buf && *f[i] >= ev->text.buf && *f[i] < ev->text.buf + ev->text.cap)
            *f[i] = "";
    free(ev->text.buf);
    memset(&ev->text, 0, sizeof ev->text);
}

/* Room for more bytes in ev's block: a bigger block holds the strings that lived in the old one. */
static void text_reserve(struct lf_event *ev, size_t more)
{
    struct lf_text *t = &ev->text;
    if (t->len + more <= t->cap)
        return;
    size_t cap = t->cap ? t->cap : 256;
    while (cap < t->len + more)
        cap *= 2;
    char *old = t->buf, *nb = lf_xmalloc(cap);
    uint32_t len = 0;
    const char **f[MAX_FIELDS];
    for (int i = fields_of(ev, f); i-- > 0;)
        if (old && *f[i] >= old && *f[i] < old + t->cap) {
            size_t n = strlen(*f[i]) + 1;
            memcpy(nb + len, *f[i], n);
            *f[i] = nb + len;
            len += (uint32_t)n;
        }
    free(old);
    t->buf = nb;
    t->cap = (uint32_t)cap;
    t->len = len;
}

void lf_event_setn(struct lf_event *ev, const char **field, const char *s, size_t n)
{
    const char **f[MAX_FIELDS];
    int nf = fields_of(ev, f), i = 0;
    while (i < nf && f[i] != field)
        i++;
    size_t cap = lf_event_field_cap(ev->type, i);
    if (!s)
        n = 0;
    if (n > cap) {
        n = cap;
        ev->truncated |= 1u << i;
    } else {
        ev->truncated &= ~(1u << i);
    }
    if (!n) {
        *field = "";
        return;
    }
    char *tmp = NULL;
    if (ev->text.len + n + 1 > ev->text.cap && s >= ev->text.buf && s < ev->text.buf + ev->text.cap) {
        tmp = lf_xmalloc(n); /* s lives in the block about to move */
        memcpy(tmp, s, n);
        s = tmp;
    }
    text_reserve(ev, n + 1);
    char *d = ev->text.buf + ev->text.len;
    memcpy(d, s, n);
    free(tmp);
    d[n] = 0;
    ev->text.len += (uint32_t)n + 1;
    *field = d;
}

void lf_event_set(struct lf_event *ev, const char **field, const char *s)
{
    lf_event_setn(ev, field, s, s ? strlen(s) : 0);
}

void lf_event_copy(struct lf_event *dst, const struct lf_event *src)
{
    if (dst == src)
        return;
    struct lf_text keep = dst->text;
    memcpy(dst, src, sizeof *dst);
    dst->text = keep;
    dst->text.len = 0;
    const char **f[MAX_FIELDS];
    int n = fields_of(dst, f);
    size_t need = 0;
    for (int i = 0; i < n; i++)
        need += **f[i] ? strlen(*f[i]) + 1 : 0;
    if (need > dst->text.cap) {
        /* the strings are src's still: a block big enough at once, nothing in it to move */
        free(dst->text.buf);
        size_t cap = 256;
        while (cap < need)
            cap *= 2;
        dst->text.buf = lf_xmalloc(cap);
        dst->text.cap = (uint32_t)cap;
    }
    for (int i = 0; i < n; i++) {
        if (!**f[i]) {
            *f[i] = "";
            continue;
        }
        size_t len = strlen(*f[i]) + 1;
        char *d = dst->text.buf + dst->text.len;
        memcpy(d, *f[i], len);
        *f[i] = d;
        dst->text.len += (uint32_t)len;
    }
}

size_t lf_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = src ? strlen(src) : 0;
    if (size) {
        size_t m = n < size - 1 ? n : size - 1;
        if (m)
            memcpy(dst, src, m);
        dst[m] = 0;
    }
    return n;
}

void lf_strncpy_n(char *dst, size_t size, const char *src, size_t n)
{
    if (!size)
        return;
    size_t m = n < size - 1 ? n : size - 1;
    if (m)
        memcpy(dst, src, m);
    dst[m] = 0;
}

static const char *const role_names[] = {"", "director", "frontend", "edge", "other", "proxy"};

const char *lf_role_name(enum lf_role r)
{
    return (unsigned)r < sizeof role_names / sizeof role_names[0] ? role_names[r] : "";
}

int lf_role_parse(const char *s, enum lf_role *out)
{
    for (unsigned i = 1; i < sizeof role_names / sizeof role_names[0]; i++)
        if (strcmp(s, role_names[i]) == 0) {
            *out = (enum lf_role)i;
            return 0;
        }
    return -1;
}

const char *lf_severity_name(enum lf_severity s)
{
    return s == LF_SEV_ERROR ? "error" : s == LF_SEV_WARNING ? "warning" : "info";
}

const char *lf_verdict_name(enum lf_verdict v)
{
    return v == LF_VERDICT_COMPLETE ? "complete" : v == LF_VERDICT_FAILED ? "failed" : "incomplete";
}

/* "a.b.c.d" at p; returns the end (no NUL written). */
static char *put_v4(const struct lf_addr *a, char *p)
{
    for (int i = 0; i < 4; i++) {
        unsigned v = a->ip[i];
        if (v >= 100)
            *p++ = (char)('0' + v / 100);
        if (v >= 10)
            *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        if (i < 3)
            *p++ = '.';
    }
    return p;
}

char *lf_ip_format(const struct lf_addr *a, char *buf, size_t size)
{
    if (a->family == 4 && size >= sizeof "255.255.255.255") {
        *put_v4(a, buf) = 0;
    } else if (a->family == 4) {
        if (!inet_ntop(AF_INET, a->ip, buf, (socklen_t)size))
            lf_strlcpy(buf, "?", size);
    } else if (a->family == 6) {
        if (!inet_ntop(AF_INET6, a->ip, buf, (socklen_t)size))
            lf_strlcpy(buf, "?", size);
    } else {
        lf_strlcpy(buf, "", size);
    }
    return buf;
}

/* "a.b.c.d:port" written directly, not by inet_ntop and snprintf: 25% of a run's instructions (callgrind, bench
 * capture: every event names two endpoints). */
static void format_v4(const struct lf_addr *a, char *buf)
{
    char *p = put_v4(a, buf);
    *p++ = ':';
    char t[5];
    int n = 0;
    unsigned port = a->port;
    do {
        t[n++] = (char)('0' + port % 10);
        port /= 10;
    } while (port);
    while (n)
        *p++ = t[--n];
    *p = 0;
}

char *lf_addr_format(const struct lf_addr *a, char *buf, size_t size)
{
    if (a->family == 4 && size >= sizeof "255.255.255.255:65535") {
        format_v4(a, buf);
        return buf;
    }
    char ip[INET6_ADDRSTRLEN];
    lf_ip_format(a, ip, sizeof ip);
    if (a->family == 6)
        snprintf(buf, size, "[%s]:%u", ip, a->port);
    else if (a->family == 4)
        snprintf(buf, size, "%s:%u", ip, a->port);
    else
        lf_strlcpy(buf, "", size);
    return buf;
}

int lf_addr_parse(const char *s, struct lf_addr *out)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon, *port;
    memset(out, 0, sizeof *out);
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host)
            return -1;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = 0;
        port = end + 2;
        if (inet_pton(AF_INET6, host, out->ip) != 1)
            return -1;
        out->family = 6;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host)
            return -1;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = 0;
        port = colon + 1;
        if (inet_pton(AF_INET, host, out->ip) != 1)
            return -1;
        out->family = 4;
    }
    unsigned long v = 0;
    if (!*port)
        return -1;
    for (const char *p = port; *p; p++) {
        if (*p < '0' || *p > '9' || v > 65535)
            return -1;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v > 65535)
        return -1;
    out->port = (uint16_t)v;
    return 0;
}

int lf_ip_equal(const struct lf_addr *a, const struct lf_addr *b)
{
    if (a->family != b->family)
        return 0;
    return memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16) == 0;
}

int lf_addr_equal(const struct lf_addr *a, const struct lf_addr *b)
{
    return lf_ip_equal(a, b) && a->port == b->port;
}
