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

static void utc(lf_time t, char *buf, size_t size)
{
    time_t sec = (time_t)(t / 1000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char b[32];
    strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf, size, "%s.%03d UTC", b, (int)(t % 1000000 / 1000));
}

static void duration(int64_t us, char *buf, size_t size)
{
    if (us < 0)
        lf_strlcpy(buf, "-", size);
    else if (us < 10000000)
        snprintf(buf, size, "%" PRId64 " ms", us / 1000);
    else
        snprintf(buf, size, "%.1f s", (double)us / 1e6);
}

static void status_text(const struct lf_step *s, char *buf, size_t size)
{
    if (s->kind == LF_EV_TLS) {
        if (s->alert_from)
            snprintf(buf, size, "alert %u %s", s->alert_desc, lf_tls_alert_name(s->alert_desc));
        else if (s->tls_version >= 0x0301 && s->tls_version <= 0x0304)
            snprintf(buf, size, "TLS 1.%u", s->tls_version - 0x0301);
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
    size_t n = (size_t)snprintf(buf, size, "%u", s->status);
    if (s->substatus && n < size)
        n += (size_t)snprintf(buf + n, size - n, ".%u", s->substatus);
    if (s->win32_status && n < size)
        n += (size_t)snprintf(buf + n, size - n, " 0x%08" PRIX32, s->win32_status);
    if (s->challenge && n < size)
        snprintf(buf + n, size - n, " challenge");
}

/* merged: a capture and IIS logs were read together; a step of a log line alone is marked, and said to be
 * outside the capture's time when it is (by more than a second). */
static void write_signin(FILE *out, const struct lf_signin *si, int merged, lf_time first, lf_time last)
{
    char c[64], t0[48], total[32];
    lf_ip_format(&si->client, c, sizeof c);
    utc(si->start, t0, sizeof t0);
    duration(si->end - si->start, total, sizeof total);
    fprintf(out, "sign-in %u: client %s, user %s, agent %s\n", si->id, c[0] ? c : "-", si->user[0] ? si->user : "-",
            si->agent[0] ? si->agent : "-");
    if (si->verdict == LF_VERDICT_FAILED)
        fprintf(out, "  verdict failed at step %u: %s; phase %s\n", si->failed_step,
                strchr(si->reason, ':') ? strchr(si->reason, ':') + 2 : si->reason, si->phase[0] ? si->phase : "-");
    else
        fprintf(out, "  verdict %s%s%s; phase %s\n", lf_verdict_name((enum lf_verdict)si->verdict),
                si->verdict == LF_VERDICT_INCOMPLETE ? ": " : "",
                si->verdict == LF_VERDICT_INCOMPLETE ? si->reason : "",
                si->phase[0] ? si->phase : "-");
    fprintf(out, "  %u steps from %s over %s%s\n", si->nsteps, t0, total, si->dropped_steps ? " (some dropped)" : "");
    if (si->dropped_steps)
        fprintf(out, "  %u more steps not kept (limit %d)\n", si->dropped_steps, LF_MODEL_MAX_STEPS);
    for (uint32_t i = 0; i < si->nsteps; i++) {
        const struct lf_step *s = &si->steps[i];
        char off[24], ip[64], route[200], req[260], st[48], d[24];
        lf_time o = s->ts - si->start;
        snprintf(off, sizeof off, "+%" PRId64 ".%03" PRId64, o / 1000000, o % 1000000 / 1000);
        lf_ip_format(&s->client, ip, sizeof ip);
        const char *role = lf_role_name((enum lf_role)s->role);
        snprintf(route, sizeof route, "%s -> %s (%s)", s->listener[0] ? s->listener : "-",
                 s->server[0] ? s->server : "?", role[0] ? role : "?");
        if (s->kind == LF_EV_HTTP)
            snprintf(req, sizeof req, "%s %.*s", s->method, 200, s->what);
        else
            snprintf(req, sizeof req, "TLS %.*s", 200, s->what);
        status_text(s, st, sizeof st);
        duration(s->duration_us, d, sizeof d);
        fprintf(out, "%c %3u %9s  %-15s  %-34s  %-58s  %-28s %8s", s->failed && !s->recovered ? '!' : ' ', i + 1,
                off, ip[0] ? ip : "-", route, req, st, d);
        if (s->failed)
            fprintf(out, "  %s: %s", s->recovered ? "failed, retried" : "FAILED", s->reason);
        if (merged && s->from_iis)
            fprintf(out, "  IIS log only: %s", s->ts < first - 1000000 ? "before the capture"
                                               : s->ts > last + 1000000 ? "after the capture"
                                                                         : "not in the capture");
        fputc('\n', out);
    }
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
    for (uint32_t i = 0; i < m->nsignins; i++) {
        fputc('\n', out);
        write_signin(out, &m->signins[i], m->stats.iis_lines && m->stats.packets && m->capture_first,
                     m->capture_first, m->capture_last);
    }
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
