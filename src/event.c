/* event.c: event values, names of enums, endpoint formatting and parsing. */
#include "lyncflow/event.h"

#include <stddef.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* What a new event holds besides zeroes. */
static void event_head(struct lf_event *ev, enum lf_ev_type type, lf_time ts)
{
    ev->type = (uint8_t)type;
    ev->ts = ts;
    if (type == LF_EV_HTTP)
        ev->u.http.latency_us = -1;
}

void lf_event_init(struct lf_event *ev, enum lf_ev_type type, lf_time ts)
{
    memset(ev, 0, sizeof *ev);
    event_head(ev, type, ts);
}

void lf_event_start(struct lf_event *ev, enum lf_ev_type type, lf_time ts)
{
    memset(ev, 0, lf_event_size(type));
    event_head(ev, type, ts);
}

size_t lf_event_size(int type)
{
    size_t fixed = offsetof(struct lf_event, u);
    switch (type) {
    case LF_EV_FLOW: return fixed + sizeof(struct lf_ev_flow);
    case LF_EV_TLS: return fixed + sizeof(struct lf_ev_tls);
    case LF_EV_HTTP: return fixed + sizeof(struct lf_ev_http);
    case LF_EV_FINDING: return fixed + sizeof(struct lf_ev_finding);
    case LF_EV_SIGNIN: return fixed + sizeof(struct lf_ev_signin);
    case LF_EV_STATS: return fixed + sizeof(struct lf_ev_stats);
    }
    return sizeof(struct lf_event);
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

/* "a.b.c.d:port" written directly: every event names two of them. */
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
