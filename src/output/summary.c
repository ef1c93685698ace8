/* summary.c: the few lines a run prints when no output was asked for: what was read, the sign-ins by verdict,
 * the findings by severity with their codes, and what could not be decrypted and why (sinks.h). A sink: it
 * counts the TLS connections and requests as they pass and writes at finish. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lyncflow/analysis.h"
#include "lyncflow/sinks.h"
#include "lyncflow/util.h"

struct summary {
    struct lf_sink sink;
    FILE *out;
    struct lf_analysis *an;
    const struct lf_summary_tls *tls;
    uint64_t tls_conns, tls_decrypting, http, http_decrypted, http_iis;
};

/* "code (n), code (n)" of the findings of one severity, in the model's order, each code once. */
static void codes(FILE *out, const struct lf_model *m, int sev)
{
    int shown = 0;
    for (int i = 0; i < m->nfindings; i++) {
        const struct lf_ev_finding *f = &m->findings[i];
        if (f->severity != sev)
            continue;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = m->findings[j].severity == sev && !strcmp(m->findings[j].code, f->code);
        if (seen)
            continue;
        int n = 0;
        for (int j = i; j < m->nfindings; j++)
            n += m->findings[j].severity == sev && !strcmp(m->findings[j].code, f->code);
        fprintf(out, "%s%s (%d)", shown++ ? ", " : ": ", f->code, n);
    }
}

static void summary_event(void *ctx, const struct lf_event *ev)
{
    struct summary *u = ctx;
    if (ev->type == LF_EV_TLS) {
        u->tls_conns++;
        u->tls_decrypting += ev->u.tls.decrypting;
    } else if (ev->type == LF_EV_HTTP) {
        u->http++;
        u->http_decrypted += ev->u.http.decrypted;
        u->http_iis += !strcmp(ev->u.http.source, "iis");
    }
}

static void summary_finish(void *ctx)
{
    struct summary *u = ctx;
    struct lf_model *m = lf_analysis_model(u->an);
    FILE *out = u->out;
    const struct lf_summary_tls *tls = u->tls;
    const struct lf_ev_stats *s = &m->stats;
    fprintf(out, "read: %llu packets, %llu flows", (unsigned long long)s->packets, (unsigned long long)s->flows);
    if (s->iis_lines)
        fprintf(out, ", %llu IIS log lines", (unsigned long long)s->iis_lines);
    fprintf(out, "; %llu TLS connections, %llu HTTP requests (%llu decrypted, %llu from IIS logs)\n",
            (unsigned long long)u->tls_conns, (unsigned long long)u->http, (unsigned long long)u->http_decrypted,
            (unsigned long long)u->http_iis);

    uint32_t n[3] = {0, 0, 0};
    for (uint32_t i = 0; i < m->nsignins; i++)
        if (m->signins[i].verdict < 3)
            n[m->signins[i].verdict]++;
    fprintf(out, "sign-ins: %u (%u complete, %u incomplete, %u failed)\n", (unsigned)m->nsignins,
            (unsigned)n[LF_VERDICT_COMPLETE], (unsigned)n[LF_VERDICT_INCOMPLETE], (unsigned)n[LF_VERDICT_FAILED]);
    for (uint32_t i = 0, shown = 0; i < m->nsignins && shown < 5; i++) {
        const struct lf_signin *si = &m->signins[i];
        if (si->verdict != LF_VERDICT_FAILED)
            continue;
        char a[64];
        fprintf(out, "  failed: %s %s: %s\n", lf_ip_format(&si->client, a, sizeof a), si->user[0] ? si->user : "-",
                si->reason);
        shown++;
    }

    int sev[3] = {0, 0, 0};
    for (int i = 0; i < m->nfindings; i++)
        if (m->findings[i].severity < 3)
            sev[m->findings[i].severity]++;
    fprintf(out, "findings: %d errors, %d warnings, %d notes\n", sev[LF_SEV_ERROR], sev[LF_SEV_WARNING],
            sev[LF_SEV_INFO]);
    for (int k = LF_SEV_ERROR; k >= LF_SEV_INFO; k--)
        if (sev[k]) {
            fprintf(out, "  %s", lf_severity_name((enum lf_severity)k));
            codes(out, m, k);
            fputc('\n', out);
        }

    uint64_t undecrypted = u->tls_conns - u->tls_decrypting;
    fprintf(out, "TLS: %llu of %llu connections decrypted", (unsigned long long)u->tls_decrypting,
            (unsigned long long)u->tls_conns);
    const char *sep = "; not decrypted: ";
    if (undecrypted && !tls->have_secrets) {
        fprintf(out, "%s%llu, no key log or RSA key given (--keylog, --rsa-key)", sep,
                (unsigned long long)undecrypted);
        sep = ", ";
    } else if (s->tls_no_secret) {
        fprintf(out, "%s%llu without a secret in the key log or RSA keys", sep, (unsigned long long)s->tls_no_secret);
        sep = ", ";
    }
    if (tls->unsupported) {
        fprintf(out, "%s%zu with a cipher suite or version that cannot be decrypted", sep, tls->unsupported);
        sep = ", ";
    }
    if (tls->rsa_mismatches) {
        fprintf(out, "%s%zu pre-master secrets for no --rsa-key given", sep, tls->rsa_mismatches);
        sep = ", ";
    }
    if (s->tls_decrypt_failures)
        fprintf(out, "%s%llu records failed authentication (a wrong secret)", sep,
                (unsigned long long)s->tls_decrypt_failures);
    fputc('\n', out);
    if (s->truncated)
        fprintf(out, "cut: %llu events had a value longer than its cap (their \"truncated\" lists name it)\n",
                (unsigned long long)s->truncated);
    fputs("(--timeline for each sign-in step by step, --json for every event, --tui to browse)\n", out);
    fflush(out);
}

struct lf_sink *lf_summary_sink_new(FILE *out, struct lf_analysis *an, const struct lf_summary_tls *tls)
{
    struct summary *u = lf_xcalloc(1, sizeof *u);
    u->out = out;
    u->an = an;
    u->tls = tls;
    u->sink.event = summary_event;
    u->sink.finish = summary_finish;
    u->sink.ctx = u;
    return &u->sink;
}

void lf_summary_sink_free(struct lf_sink *s)
{
    if (s)
        free(s->ctx);
}
