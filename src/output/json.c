/* json.c: events as NDJSON, one object a line (design.md, "Events").
 *
 * Contract fields are always written; the extra fields of a type are written
 * only when they carry something. Formatting goes into a caller's buffer with
 * a bounded writer, so an event never produces half an object.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lyncflow/iislog.h"
#include "lyncflow/sinks.h"
#include "lyncflow/util.h"

/* A bounded writer. Its small writers are inline: 3.7% of a run's instructions (callgrind, bench capture). */
struct jw {
    char *buf;
    size_t size, len;
    int overflow;
    int first;
};

static inline void jw_raw(struct jw *w, const char *s, size_t n)
{
    if (w->overflow || w->len + n >= w->size) {
        w->overflow = 1;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void jw_lit_raw(struct jw *w, const char *s) { jw_raw(w, s, strlen(s)); }

/* `,"k":`, without the comma before the first key. */
static inline void jw_key(struct jw *w, const char *k)
{
    char t[64];
    size_t n = strlen(k), at = 0;
    if (n + 4 > sizeof t) { /* no key of ours is that long */
        w->overflow = 1;
        return;
    }
    if (!w->first)
        t[at++] = ',';
    w->first = 0;
    t[at++] = '"';
    memcpy(t + at, k, n);
    at += n;
    t[at++] = '"';
    t[at++] = ':';
    jw_raw(w, t, at);
}

/* The decimal digits of v, written backwards ending at end; returns where they start. */
static char *dec(char *end, unsigned long long v)
{
    char *p = end;
    do
        *--p = (char)('0' + v % 10);
    while (v /= 10);
    return p;
}

/* A quoted string value: '"' and '\\' escaped, control bytes and DEL as \u00XX, valid UTF-8 passed
 * through and stray bytes from 0x80 up as U+FFFD. */
/* Bytes a string value holds as they are: printable ASCII but '"' and '\\'. */
static const uint8_t plain_byte[256] = {
    [' '] = 1, ['!'] = 1, ['#' ... '['] = 1, [']' ... '~'] = 1,
};

static void jw_val(struct jw *w, const char *v)
{
    static const char hex[] = "0123456789abcdef";
    jw_raw(w, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        const unsigned char *run = p;
        while (plain_byte[*p])
            p++;
        if (p > run)
            jw_raw(w, (const char *)run, (size_t)(p - run));
        if (!*p)
            break;
        char esc[7];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            jw_raw(w, esc, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            jw_raw(w, esc, 6);
        } else {
            int n = (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
            int good = n > 0;
            for (int i = 1; good && i < n; i++)
                if ((p[i] & 0xc0) != 0x80)
                    good = 0;
            if (good) {
                jw_raw(w, (const char *)p, (size_t)n);
                p += n - 1;
            } else {
                jw_raw(w, "\\ufffd", 6);
            }
        }
    }
    jw_raw(w, "\"", 1);
}

static inline void jw_str(struct jw *w, const char *k, const char *v)
{
    jw_key(w, k);
    jw_val(w, v);
}

/* A value of the program's own (a name from a table, hex digits): nothing to escape. */
static inline void jw_lit(struct jw *w, const char *k, const char *v)
{
    jw_key(w, k);
    jw_raw(w, "\"", 1);
    jw_lit_raw(w, v);
    jw_raw(w, "\"", 1);
}

/* A string field of an event, and the same written only when it is not empty. */
#define jw_field(w, k, f) jw_str((w), (k), (f))
#define jw_opt_field(w, k, f) ((f)[0] ? jw_field(w, k, f) : (void)0)

static inline void jw_u64(struct jw *w, const char *k, unsigned long long v)
{
    char d[24], *p = dec(d + sizeof d, v);
    jw_key(w, k);
    jw_raw(w, p, (size_t)(d + sizeof d - p));
}

static inline void jw_bool(struct jw *w, const char *k, int v)
{
    jw_key(w, k);
    jw_lit_raw(w, v ? "true" : "false");
}

/* Seconds with six decimals: "-12.000034". */
static void jw_time(struct jw *w, const char *k, lf_time t)
{
    unsigned long long u = t < 0 ? 0 - (unsigned long long)t : (unsigned long long)t;
    char d[32], *end = d + sizeof d, *p = dec(end, 1000000 + u % 1000000); /* six digits after a '1' */
    *p = '.';
    p = dec(p, u / 1000000);
    if (t < 0)
        *--p = '-';
    jw_key(w, k);
    jw_raw(w, p, (size_t)(end - p));
}

/* An endpoint: "a.b.c.d:port", "[v6]:port" or "". Its text never needs escaping. */
static void jw_addr(struct jw *w, const char *k, const struct lf_addr *a)
{
    char buf[64];
    jw_lit(w, k, lf_addr_format(a, buf, sizeof buf));
}

static const char *type_name(int t)
{
    switch (t) {
    case LF_EV_FLOW: return "flow";
    case LF_EV_TLS: return "tls";
    case LF_EV_HTTP: return "http";
    case LF_EV_FINDING: return "finding";
    case LF_EV_SIGNIN: return "signin";
    case LF_EV_STATS: return "stats";
    }
    return "unknown";
}

static void enrichment(struct jw *w, const struct lf_event *ev)
{
    jw_lit(w, "role", lf_role_name((enum lf_role)ev->role));
    jw_field(w, "simple_url", ev->simple_url);
}

static void enrichment_extra(struct jw *w, const struct lf_event *ev)
{
    jw_opt_field(w, "listener", ev->listener);
    jw_opt_field(w, "server_name", ev->server_name);
    if (ev->stitched)
        jw_bool(w, "stitched", 1);
}

static void flow_json(struct jw *w, const struct lf_event *ev)
{
    const struct lf_ev_flow *f = &ev->u.flow;
    jw_time(w, "end", f->end);
    jw_lit(w, "transport", f->transport == 17 ? "udp" : "tcp");
    jw_addr(w, "client", &ev->client);
    jw_addr(w, "server", &ev->server);
    jw_u64(w, "c2s_packets", f->c2s_packets);
    jw_u64(w, "s2c_packets", f->s2c_packets);
    jw_u64(w, "c2s_bytes", f->c2s_bytes);
    jw_u64(w, "s2c_bytes", f->s2c_bytes);
    jw_lit(w, "role", lf_role_name((enum lf_role)ev->role));
    jw_lit(w, "close", f->closed == 2 ? "rst" : f->closed == 1 ? "fin" : "none");
    if (f->closed == 2 && f->rst_from)
        jw_lit(w, "rst_from", f->rst_from == 'c' ? "client" : "server");
    jw_bool(w, "handshake", f->syn_seen);
    if (f->gaps)
        jw_u64(w, "gaps", f->gaps);
    enrichment_extra(w, ev);
}

static const char *tls_version_name(uint16_t v, char *buf, size_t size)
{
    switch (v) {
    case 0x0002: return "SSL 2.0";
    case 0x0300: return "SSL 3.0";
    case 0x0301: return "TLS 1.0";
    case 0x0302: return "TLS 1.1";
    case 0x0303: return "TLS 1.2";
    case 0x0304: return "TLS 1.3";
    case 0: return "";
    }
    snprintf(buf, size, "0x%04x", v);
    return buf;
}

static void tls_json(struct jw *w, const struct lf_event *ev)
{
    const struct lf_ev_tls *t = &ev->u.tls;
    char vb[16], cb[8];
    jw_addr(w, "client", &ev->client);
    jw_addr(w, "server", &ev->server);
    jw_field(w, "sni", t->sni);
    jw_lit(w, "version", tls_version_name(t->version, vb, sizeof vb));
    jw_field(w, "alpn", t->alpn);
    if (t->cipher) {
        static const char hex[] = "0123456789abcdef";
        cb[0] = '0';
        cb[1] = 'x';
        for (int i = 0; i < 4; i++)
            cb[2 + i] = hex[(t->cipher >> (12 - 4 * i)) & 15];
        cb[6] = 0;
        jw_lit(w, "cipher", cb);
    } else {
        jw_lit(w, "cipher", "");
    }
    jw_field(w, "cert_subject", t->cert_subject);
    jw_field(w, "cert_san", t->cert_san);
    enrichment(w, ev);
    jw_opt_field(w, "service", ev->service);
    enrichment_extra(w, ev);
    jw_opt_field(w, "cert_issuer", t->cert_issuer);
    jw_opt_field(w, "cert_sha256", t->cert_sha256);
    if (t->cert_not_after) {
        jw_time(w, "cert_not_before", t->cert_not_before);
        jw_time(w, "cert_not_after", t->cert_not_after);
    }
    if (t->cert_encrypted)
        jw_bool(w, "cert_encrypted", 1);
    if (t->client_version)
        jw_lit(w, "client_version", tls_version_name(t->client_version, vb, sizeof vb));
    jw_opt_field(w, "ja3", t->ja3);
    jw_opt_field(w, "ja4", t->ja4);
    if (t->ech)
        jw_bool(w, "ech", 1);
    if (t->sslv2_hello)
        jw_bool(w, "sslv2_hello", 1);
    if (t->h2)
        jw_bool(w, "h2", 1);
    if (t->alert_from) {
        jw_lit(w, "alert_from", t->alert_from == 'c' ? "client" : "server");
        jw_u64(w, "alert_level", t->alert_level);
        jw_u64(w, "alert", t->alert_desc);
    }
    if (t->decrypting)
        jw_bool(w, "decrypting", 1);
    if (t->decrypt_failures)
        jw_u64(w, "decrypt_failures", t->decrypt_failures);
}

static void http_json(struct jw *w, const struct lf_event *ev)
{
    const struct lf_ev_http *h = &ev->u.http;
    jw_addr(w, "client", &ev->client);
    jw_addr(w, "server", &ev->server);
    jw_field(w, "sni", h->sni);
    jw_field(w, "host", h->host);
    jw_field(w, "method", h->method);
    jw_field(w, "uri", h->uri);
    jw_u64(w, "status", h->status);
    jw_field(w, "user_agent", h->user_agent);
    jw_field(w, "user", h->user);
    enrichment(w, ev);
    jw_field(w, "service", ev->service);
    jw_bool(w, "decrypted", h->decrypted);
    jw_str(w, "source", h->source[0] ? h->source : "pcap");
    enrichment_extra(w, ev);
    if (h->substatus || h->win32_status) {
        jw_u64(w, "substatus", h->substatus);
        jw_u64(w, "win32_status", h->win32_status);
        const char *name = lf_win32_status_name(h->win32_status);
        if (name && h->win32_status)
            jw_lit(w, "win32_status_name", name);
    }
    jw_opt_field(w, "content_type", h->content_type);
    jw_opt_field(w, "location", h->location);
    jw_opt_field(w, "server_fqdn", h->server_fqdn);
    jw_opt_field(w, "ms_diagnostics", h->ms_diagnostics);
    jw_opt_field(w, "www_authenticate", h->www_authenticate);
    jw_opt_field(w, "auth", h->auth_scheme);
    if (h->ntlm_type)
        jw_u64(w, "ntlm_type", h->ntlm_type);
    jw_opt_field(w, "ntlm_domain", h->ntlm_domain);
    jw_opt_field(w, "ntlm_user", h->ntlm_user);
    jw_opt_field(w, "ntlm_workstation", h->ntlm_workstation);
    if (h->latency_us >= 0) {
        jw_time(w, "latency", h->latency_us);
    }
    if (h->req_bytes || h->resp_bytes) {
        jw_u64(w, "req_bytes", h->req_bytes);
        jw_u64(w, "resp_bytes", h->resp_bytes);
    }
    if (h->time_taken_ms)
        jw_u64(w, "time_taken_ms", h->time_taken_ms);
    jw_opt_field(w, "log_server", h->log_server);
    if (h->match_seq)
        jw_u64(w, "matched_seq", h->match_seq);
    if (h->attributed[0]) {
        jw_lit(w, "attributed", h->attributed);
        jw_u64(w, "candidates", h->candidates);
        jw_addr(w, "front_client", &h->front_client);
    }
    if (h->h2)
        jw_bool(w, "h2", 1);
}

int lf_event_to_json(const struct lf_event *ev, char *buf, size_t size)
{
    struct jw w = {buf, size, 0, 0, 1};
    if (size)
        buf[0] = 0;
    jw_raw(&w, "{", 1);
    jw_lit(&w, "type", type_name(ev->type));
    if (ev->type != LF_EV_STATS)
        jw_time(&w, "ts", ev->ts);
    switch (ev->type) {
    case LF_EV_FLOW:
        flow_json(&w, ev);
        break;
    case LF_EV_TLS:
        tls_json(&w, ev);
        break;
    case LF_EV_HTTP:
        http_json(&w, ev);
        break;
    case LF_EV_FINDING:
        jw_lit(&w, "severity", lf_severity_name((enum lf_severity)ev->u.finding.severity));
        jw_field(&w, "code", ev->u.finding.code);
        jw_field(&w, "subject", ev->u.finding.subject);
        jw_field(&w, "message", ev->u.finding.message);
        break;
    case LF_EV_SIGNIN:
        jw_time(&w, "end", ev->u.signin.end);
        jw_addr(&w, "client", &ev->client);
        jw_field(&w, "user", ev->u.signin.user);
        jw_u64(&w, "steps", ev->u.signin.steps);
        jw_field(&w, "phase", ev->u.signin.phase);
        jw_lit(&w, "kind", ev->u.signin.kind[0] ? ev->u.signin.kind : "signin");
        jw_lit(&w, "verdict", lf_verdict_name((enum lf_verdict)ev->u.signin.verdict));
        jw_field(&w, "reason", ev->u.signin.reason);
        break;
    case LF_EV_STATS: {
        const struct lf_ev_stats *s = &ev->u.stats;
        jw_u64(&w, "packets", s->packets);
        jw_u64(&w, "bytes", s->bytes);
        jw_u64(&w, "flows", s->flows);
        jw_u64(&w, "evicted", s->evicted);
        jw_u64(&w, "decode_errors", s->decode_errors);
        jw_u64(&w, "drops", s->drops);
        jw_u64(&w, "stream_cap_hits", s->stream_cap_hits);
        jw_u64(&w, "gaps", s->gaps);
        jw_u64(&w, "fragments", s->fragments);
        jw_u64(&w, "stitched", s->stitched);
        jw_u64(&w, "tls_decrypted", s->tls_decrypted);
        jw_u64(&w, "tls_no_secret", s->tls_no_secret);
        jw_u64(&w, "tls_decrypt_failures", s->tls_decrypt_failures);
        jw_u64(&w, "iis_lines", s->iis_lines);
        jw_u64(&w, "iis_errors", s->iis_errors);
        jw_u64(&w, "iis_matched", s->iis_matched);
        jw_u64(&w, "iis_unmatched", s->iis_unmatched);
        jw_u64(&w, "http_errors", s->http_errors);
        jw_u64(&w, "truncated", s->truncated);
        break;
    }
    }
    if (ev->truncated) { /* the fields cut at their cap */
        jw_key(&w, "truncated");
        jw_raw(&w, "[", 1);
        for (int i = 0, n = 0; i < lf_event_nfields(ev->type); i++)
            if (ev->truncated >> i & 1) {
                if (n++)
                    jw_raw(&w, ",", 1);
                jw_val(&w, lf_event_field_name(ev->type, i));
            }
        jw_raw(&w, "]", 1);
    }
    jw_raw(&w, "}", 1);
    if (w.overflow)
        return -1;
    buf[w.len] = 0;
    return (int)w.len;
}

size_t lf_event_json_size(const struct lf_event *ev)
{
    /* the keys, numbers and names of the program's own, and the truncated list, take less than 5 KiB; a
     * string's byte escapes to at most 6 */
    return 5120 + 2 * (size_t)lf_event_nfields(ev->type) + 6 * lf_event_text_len(ev);
}

#define LINE_FAST 16384 /* most events' lines are shorter; a longer one is formatted in a buffer of its own */

struct json_sink {
    struct lf_sink sink;
    FILE *out;
    const char *path;
    int owned;
    int each;              /* a terminal, or a live run: every line goes out as it is made */
    atomic_int reopen;     /* set by lf_json_sink_reopen, from any thread or a signal handler */
    char line[LINE_FAST];
};

/* logrotate moved the file away: later lines go to a new one by the same name. */
static void reopen(struct json_sink *s)
{
    FILE *f = fopen(s->path, "a");
    if (!f) {
        fprintf(stderr, "lyncflow: %s: cannot reopen (%s); lines go on to the old file\n", s->path, strerror(errno));
        return;
    }
    fclose(s->out);
    s->out = f;
}

static void json_event(void *ctx, const struct lf_event *ev)
{
    struct json_sink *s = ctx;
    if (atomic_exchange(&s->reopen, 0) && s->owned)
        reopen(s);
    char *line = s->line, *big = NULL;
    int n = lf_event_to_json(ev, line, sizeof s->line - 1);
    if (n < 0) {
        size_t size = lf_event_json_size(ev);
        line = big = lf_xmalloc(size);
        n = lf_event_to_json(ev, big, size - 1);
    }
    if (n >= 0) {
        line[n] = '\n';
        fwrite(line, 1, (size_t)n + 1, s->out);
        if (s->each)
            fflush(s->out);
    }
    free(big);
}

static void json_finish(void *ctx)
{
    struct json_sink *s = ctx;
    fflush(s->out);
}

struct lf_sink *lf_json_sink_new(const char *path, char *err, size_t errsize)
{
    struct json_sink *s = lf_xcalloc(1, sizeof *s);
    if (strcmp(path, "-") == 0) {
        s->out = stdout;
    } else {
        s->out = fopen(path, "w");
        if (!s->out) {
            snprintf(err, errsize, "%s: %s", path, strerror(errno));
            free(s);
            return NULL;
        }
        s->owned = 1;
    }
    s->path = path;
    s->each = isatty(fileno(s->out));
    s->sink.event = json_event;
    s->sink.finish = json_finish;
    s->sink.ctx = s;
    return &s->sink;
}

void lf_json_sink_live(struct lf_sink *sink) { ((struct json_sink *)sink->ctx)->each = 1; }

void lf_json_sink_reopen(struct lf_sink *sink) { atomic_store(&((struct json_sink *)sink->ctx)->reopen, 1); }

void lf_json_sink_free(struct lf_sink *sink)
{
    if (!sink)
        return;
    struct json_sink *s = sink->ctx;
    if (s->owned)
        fclose(s->out);
    else
        fflush(s->out);
    free(s);
}
