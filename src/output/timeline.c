/* timeline.c: the text timeline: each sign-in step by step (listener -> server, request, status), then findings. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lyncflow/findings.h"
#include "lyncflow/sinks.h"
#include "lyncflow/util.h"

struct timeline_sink {
    struct lf_sink sink;
    FILE *out;
    struct lf_analysis *an;
};

static void tl_event(void *ctx, const struct lf_event *ev)
{
    (void)ctx;
    (void)ev;
}

static void tl_finish(void *ctx)
{
    struct timeline_sink *t = ctx;
    struct lf_model *m = lf_analysis_model(t->an);
    pthread_mutex_lock(&m->lock);
    lf_timeline_write(t->out, m);
    pthread_mutex_unlock(&m->lock);
    fflush(t->out);
}

struct lf_sink *lf_timeline_sink_new(FILE *out, struct lf_analysis *an)
{
    struct timeline_sink *t = lf_xcalloc(1, sizeof *t);
    t->out = out;
    t->an = an;
    t->sink.event = tl_event;
    t->sink.finish = tl_finish;
    t->sink.ctx = t;
    return &t->sink;
}

void lf_timeline_sink_free(struct lf_sink *s)
{
    if (s)
        free(s->ctx);
}

/* The text of one sign-in, built in memory and written at once: the lines
 * hold many padded columns, and printf's way of reading its format string
 * for each of them cost more than the rest of the run's end. What printf
 * would print is written directly; the cases rare enough not to matter
 * (negative times, long durations, odd versions) still go through snprintf. */
struct tb {
    char *buf;
    size_t len, cap;
};

#define TB_INLINE static inline __attribute__((always_inline))

static void tb_grow(struct tb *b, size_t n)
{
    while (b->len + n > b->cap)
        b->cap = b->cap ? b->cap * 2 : 4096;
    b->buf = lf_xrealloc(b->buf, b->cap);
}

TB_INLINE void tb_mem(struct tb *b, const char *s, size_t n)
{
    if (b->len + n > b->cap)
        tb_grow(b, n);
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}

/* Inlined, so that a literal's length is known when compiling. */
TB_INLINE void tb_str(struct tb *b, const char *s) { tb_mem(b, s, strlen(s)); }

TB_INLINE void tb_char(struct tb *b, char c)
{
    if (b->len + 1 > b->cap)
        tb_grow(b, 1);
    b->buf[b->len++] = c;
}

static void tb_spaces(struct tb *b, size_t n)
{
    static const char sp[] = "                                                                ";
    for (; n > sizeof sp - 1; n -= sizeof sp - 1)
        tb_mem(b, sp, sizeof sp - 1);
    tb_mem(b, sp, n);
}

/* "%-<width>s" (left: 1) or "%<width>s" (left: 0) of the n bytes at s. */
TB_INLINE void tb_padn(struct tb *b, const char *s, size_t n, size_t width, int left)
{
    if (!left && n < width)
        tb_spaces(b, width - n);
    tb_mem(b, s, n);
    if (left && n < width)
        tb_spaces(b, width - n);
}

TB_INLINE void tb_pad(struct tb *b, const char *s, size_t width, int left) { tb_padn(b, s, strlen(s), width, left); }

/* The decimal digits of v at the end of out[20]; returns where they start. */
static char *dec(char out[20], uint64_t v)
{
    char *p = out + 20;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

static void tb_u64(struct tb *b, uint64_t v)
{
    char d[20];
    const char *p = dec(d, v);
    tb_mem(b, p, (size_t)(d + sizeof d - p));
}

/* "%0<width>u" into out (width digits, v < 10^width); returns the end. */
static char *zpad(char *out, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        out[i] = (char)('0' + v % 10);
    return out + width;
}

/* What `s[size]` holds after snprintf(s, size, "%s", v) of a short v: v, whole. */
static void put(char *dst, size_t size, const char *a, size_t n)
{
    if (n >= size)
        n = size - 1;
    memcpy(dst, a, n);
    dst[n] = 0;
}

/* Civil date of a day count from 1970-01-01 (proleptic Gregorian, as gmtime). */
static void civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    uint64_t doe = (uint64_t)(days - era * 146097);
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* "YYYY-MM-DD hh:mm:ss.mmm UTC" */
static void utc(lf_time t, char *buf, size_t size)
{
    if (t >= 0 && size >= 48) {
        int64_t sec = t / 1000000, y;
        unsigned mo, d, sod = (unsigned)(sec % 86400);
        civil(sec / 86400, &y, &mo, &d);
        char yd[20], *p = buf;
        const char *ys = dec(yd, (uint64_t)y);
        size_t yn = (size_t)(yd + sizeof yd - ys); /* from 1970 on: four digits or more, as %Y */
        memcpy(p, ys, yn);
        p += yn;
        *p++ = '-';
        p = zpad(p, mo, 2);
        *p++ = '-';
        p = zpad(p, d, 2);
        *p++ = ' ';
        p = zpad(p, sod / 3600, 2);
        *p++ = ':';
        p = zpad(p, sod / 60 % 60, 2);
        *p++ = ':';
        p = zpad(p, sod % 60, 2);
        *p++ = '.';
        p = zpad(p, (unsigned)(t % 1000000 / 1000), 3);
        memcpy(p, " UTC", 5);
        return;
    }
    time_t sec = (time_t)(t / 1000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char b[32];
    strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf, size, "%s.%03d UTC", b, (int)(t % 1000000 / 1000));
}

static void duration(int64_t us, char *buf, size_t size)
{
    if (us < 0) {
        lf_strlcpy(buf, "-", size);
    } else if (us < 10000000) {
        char d[24];
        char *p = dec(d, (uint64_t)(us / 1000));
        memcpy(d + 20, " ms", 3);
        put(buf, size, p, (size_t)(d + 23 - p));
    } else {
        snprintf(buf, size, "%.1f s", (double)us / 1e6);
    }
}

static void status_text(const struct lf_step *s, char *buf, size_t size)
{
    if (s->kind == LF_EV_TLS) {
        if (s->alert_from)
            snprintf(buf, size, "alert %u %s", s->alert_desc, lf_tls_alert_name(s->alert_desc));
        else if (s->tls_version >= 0x0301 && s->tls_version <= 0x0304)
            put(buf, size, (const char[]){'T', 'L', 'S', ' ', '1', '.', (char)('0' + s->tls_version - 0x0301)}, 7);
        else if (s->tls_version)
            snprintf(buf, size, "TLS 0x%04x", s->tls_version);
        else
            lf_strlcpy(buf, "no ServerHello", size);
        return;
    }
    if (!s->status) {
        lf_strlcpy(buf, "---", size);
        return;
    }
    /* "%u", ".%u" substatus, " 0x%08X" win32 status, " challenge": at most 32 bytes */
    char t[48], d[20], *p = t;
    const char *q = dec(d, s->status);
    memcpy(p, q, (size_t)(d + sizeof d - q));
    p += d + sizeof d - q;
    if (s->substatus) {
        *p++ = '.';
        q = dec(d, s->substatus);
        memcpy(p, q, (size_t)(d + sizeof d - q));
        p += d + sizeof d - q;
    }
    if (s->win32_status) {
        static const char hex[] = "0123456789ABCDEF";
        *p++ = ' ';
        *p++ = '0';
        *p++ = 'x';
        for (int i = 7; i >= 0; i--)
            *p++ = hex[(s->win32_status >> (4 * i)) & 15];
    }
    if (s->challenge) {
        memcpy(p, " challenge", 10);
        p += 10;
    }
    put(buf, size, t, (size_t)(p - t));
}

/* "%s -> %s (%s)" */
static void route_text(const struct lf_step *s, char *buf, size_t size)
{
    const char *role = lf_role_name((enum lf_role)s->role);
    char t[256], *p = t;
    const char *a = s->listener[0] ? s->listener : "-", *b = s->server[0] ? s->server : "?", *c = role[0] ? role : "?";
    size_t na = strnlen(a, sizeof s->listener), nb = strnlen(b, sizeof s->server), nc = strlen(c);
    if (na + nb + nc + 7 > sizeof t) {
        snprintf(buf, size, "%s -> %s (%s)", a, b, c);
        return;
    }
    memcpy(p, a, na);
    p += na;
    memcpy(p, " -> ", 4);
    p += 4;
    memcpy(p, b, nb);
    p += nb;
    *p++ = ' ';
    *p++ = '(';
    memcpy(p, c, nc);
    p += nc;
    *p++ = ')';
    put(buf, size, t, (size_t)(p - t));
}

/* merged: a capture and IIS logs were read together; a step of a log line alone is marked, and said to be
 * outside the capture's time when it is (by more than a second). */
static void write_signin(FILE *out, struct tb *b, const struct lf_signin *si, int merged, lf_time first,
                         lf_time last)
{
    char c[64], t0[48], total[32];
    lf_ip_format(&si->client, c, sizeof c);
    utc(si->start, t0, sizeof t0);
    duration(si->end - si->start, total, sizeof total);
    b->len = 0;
    tb_str(b, "sign-in ");
    tb_u64(b, si->id);
    tb_str(b, ": client ");
    tb_str(b, c[0] ? c : "-");
    tb_str(b, ", user ");
    tb_str(b, si->user[0] ? si->user : "-");
    tb_str(b, ", agent ");
    tb_str(b, si->agent[0] ? si->agent : "-");
    if (si->kind[0] && strcmp(si->kind, "signin") != 0) { /* a meeting join, a dial-in visit, a discovery probe */
        tb_str(b, " (");
        const char *k = si->kind;
        tb_str(b, !strcmp(k, "meeting")  ? "a meeting join"
                  : !strcmp(k, "dialin") ? "the dial-in page"
                                         : "a discovery probe");
        tb_char(b, ')');
    }
    tb_char(b, '\n');
    if (si->verdict == LF_VERDICT_FAILED) {
        tb_str(b, "  verdict failed at step ");
        tb_u64(b, si->failed_step);
        tb_str(b, ": ");
        tb_str(b, strchr(si->reason, ':') ? strchr(si->reason, ':') + 2 : si->reason);
    } else {
        tb_str(b, "  verdict ");
        tb_str(b, lf_verdict_name((enum lf_verdict)si->verdict));
        if (si->verdict == LF_VERDICT_INCOMPLETE) {
            tb_str(b, ": ");
            tb_str(b, si->reason);
        }
    }
    tb_str(b, "; phase ");
    tb_str(b, si->phase[0] ? si->phase : "-");
    tb_str(b, "\n  ");
    tb_u64(b, si->nsteps);
    tb_str(b, " steps from ");
    tb_str(b, t0);
    tb_str(b, " over ");
    tb_str(b, total);
    tb_str(b, si->dropped_steps ? " (some dropped)\n" : "\n");
    if (si->dropped_steps) {
        tb_str(b, "  ");
        tb_u64(b, si->dropped_steps);
        tb_str(b, " more steps not kept (limit ");
        tb_u64(b, LF_MODEL_MAX_STEPS);
        tb_str(b, ")\n");
    }
    for (uint32_t i = 0; i < si->nsteps; i++) {
        const struct lf_step *s = &si->steps[i];
        char off[24], ip[64], route[200], req[260], st[48], d[24], num[20];
        lf_time o = s->ts - si->start;
        if (o >= 0) {
            char *p = dec(num, (uint64_t)(o / 1000000));
            off[0] = '+';
            size_t n = (size_t)(num + sizeof num - p);
            memcpy(off + 1, p, n);
            off[n + 1] = '.';
            *zpad(off + n + 2, (unsigned)(o % 1000000 / 1000), 3) = 0;
        } else {
            snprintf(off, sizeof off, "+%" PRId64 ".%03" PRId64, o / 1000000, o % 1000000 / 1000);
        }
        lf_ip_format(&s->client, ip, sizeof ip);
        route_text(s, route, sizeof route);
        /* "%s %.*s" of the method (or "TLS") and at most 200 bytes of what */
        const char *verb = s->kind == LF_EV_HTTP ? s->method : "TLS";
        size_t nv = s->kind == LF_EV_HTTP ? strnlen(s->method, sizeof s->method) : 3;
        size_t nw = strnlen(s->what, sizeof s->what < 200 ? sizeof s->what : 200);
        char rq[sizeof s->method + 1 + 200];
        memcpy(rq, verb, nv);
        rq[nv] = ' ';
        memcpy(rq + nv + 1, s->what, nw);
        put(req, sizeof req, rq, nv + 1 + nw);
        status_text(s, st, sizeof st);
        duration(s->duration_us, d, sizeof d);
        /* "%c %3u %9s  %-15s  %-34s  %-58s  %-28s %8s" */
        tb_char(b, s->failed && !s->recovered ? '!' : ' ');
        tb_char(b, ' ');
        const char *nb = dec(num, i + 1);
        tb_padn(b, nb, (size_t)(num + sizeof num - nb), 3, 0);
        tb_char(b, ' ');
        tb_pad(b, off, 9, 0);
        tb_str(b, "  ");
        tb_pad(b, ip[0] ? ip : "-", 15, 1);
        tb_str(b, "  ");
        tb_pad(b, route, 34, 1);
        tb_str(b, "  ");
        tb_pad(b, req, 58, 1);
        tb_str(b, "  ");
        tb_pad(b, st, 28, 1);
        tb_char(b, ' ');
        tb_pad(b, d, 8, 0);
        if (s->failed) {
            tb_str(b, s->recovered ? "  failed, retried: " : "  FAILED: ");
            tb_str(b, s->reason);
        }
        if (merged && s->from_iis) {
            tb_str(b, "  IIS log only: ");
            tb_str(b, s->ts < first - 1000000  ? "before the capture"
                      : s->ts > last + 1000000 ? "after the capture"
                                               : "not in the capture");
        }
        tb_char(b, '\n');
    }
    fwrite(b->buf, 1, b->len, out);
}

void lf_timeline_write(FILE *out, const struct lf_model *m)
{
    int errors = 0, warnings = 0, infos = 0;
    for (int i = 0; i < m->nfindings; i++) {
        if (m->findings[i].severity == LF_SEV_ERROR)
            errors++;
        else if (m->findings[i].severity == LF_SEV_WARNING)
            warnings++;
        else
            infos++;
    }
    uint64_t steps = 0;
    for (uint32_t i = 0; i < m->nsignins; i++)
        steps += m->signins[i].nsteps;
    fprintf(out, "lyncflow timeline: %u sign-in%s, %" PRIu64 " steps; %d error%s, %d warning%s\n", m->nsignins,
            m->nsignins == 1 ? "" : "s", steps, errors, errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
    if (m->dropped_signins)
        fprintf(out, "%u sign-ins not kept (limit %d)\n", m->dropped_signins, LF_MODEL_MAX_SIGNINS);
    struct tb b = {NULL, 0, 0};
    for (uint32_t i = 0; i < m->nsignins; i++) {
        fputc('\n', out);
        write_signin(out, &b, &m->signins[i], m->stats.iis_lines && m->stats.packets && m->capture_first,
                     m->capture_first, m->capture_last);
    }
    free(b.buf);
    fputc('\n', out);
    if (!m->nfindings) {
        fputs("findings: none\n", out);
    } else {
        fprintf(out, "findings: %d error%s, %d warning%s, %d info\n", errors, errors == 1 ? "" : "s", warnings,
                warnings == 1 ? "" : "s", infos);
        for (int i = 0; i < m->nfindings; i++) {
            const struct lf_ev_finding *f = &m->findings[i];
            fprintf(out, "  %-7s %s: %s\n", lf_severity_name((enum lf_severity)f->severity), f->code, f->subject);
            fprintf(out, "          %s\n", f->message);
        }
    }
    fprintf(out, "stitched: %" PRIu64 " client-side requests/connections matched to the proxy's own\n", m->stitched);
    if (m->stats.iis_lines && m->stats.packets)
        fprintf(out, "iis: %" PRIu64 " log lines matched to the capture's requests, %" PRIu64 " not\n",
                m->stats.iis_matched, m->stats.iis_unmatched);
}
