/* test_timeline.c: the timeline's sign-in text, byte for byte what its printf formats say, over random steps. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lyncflow/findings.h"
#include "lyncflow/sinks.h"

/* The formats, through printf: what lf_timeline_write must print for a sign-in. */
static void ref_utc(lf_time t, char *buf, size_t size)
{
    time_t sec = (time_t)(t / 1000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char b[32];
    strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf, size, "%s.%03d UTC", b, (int)(t % 1000000 / 1000));
}

static void ref_duration(int64_t us, char *buf, size_t size)
{
    if (us < 0)
        snprintf(buf, size, "-");
    else if (us < 10000000)
        snprintf(buf, size, "%" PRId64 " ms", us / 1000);
    else
        snprintf(buf, size, "%.1f s", (double)us / 1e6);
}

static void ref_status(const struct lf_step *s, char *buf, size_t size)
{
    if (s->kind == LF_EV_TLS) {
        if (s->alert_from)
            snprintf(buf, size, "alert %u %s", s->alert_desc, lf_tls_alert_name(s->alert_desc));
        else if (s->tls_version >= 0x0301 && s->tls_version <= 0x0304)
            snprintf(buf, size, "TLS 1.%u", s->tls_version - 0x0301);
        else if (s->tls_version)
            snprintf(buf, size, "TLS 0x%04x", s->tls_version);
        else
            snprintf(buf, size, "no ServerHello");
        return;
    }
    if (!s->status) {
        snprintf(buf, size, "---");
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

static void ref_signin(FILE *out, const struct lf_signin *si, int merged, lf_time first, lf_time last)
{
    char c[64], t0[48], total[32];
    lf_ip_format(&si->client, c, sizeof c);
    ref_utc(si->start, t0, sizeof t0);
    ref_duration(si->end - si->start, total, sizeof total);
    fprintf(out, "sign-in %u: client %s, user %s, agent %s\n", si->id, c[0] ? c : "-", si->user[0] ? si->user : "-",
            si->agent[0] ? si->agent : "-");
    if (si->verdict == LF_VERDICT_FAILED)
        fprintf(out, "  verdict failed at step %u: %s; phase %s\n", si->failed_step,
                strchr(si->reason, ':') ? strchr(si->reason, ':') + 2 : si->reason, si->phase[0] ? si->phase : "-");
    else
        fprintf(out, "  verdict %s%s%s; phase %s\n", lf_verdict_name((enum lf_verdict)si->verdict),
                si->verdict == LF_VERDICT_INCOMPLETE ? ": " : "", si->verdict == LF_VERDICT_INCOMPLETE ? si->reason : "",
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
        ref_status(s, st, sizeof st);
        ref_duration(s->duration_us, d, sizeof d);
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

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t pick(uint64_t n) { return next() % n; }

/* A string of up to max - 1 bytes from a small alphabet (spaces, '%', a ':' and UTF-8 included). */
static void rand_str(char *dst, size_t max)
{
    static const char *parts[] = {"a", "Z", "0", "/", " ", "%s", ":", ": ", "\xc3\xa9", "-", ".", "webticket"};
    size_t want = pick(4) == 0 ? max - 1 : pick(max < 40 ? max : 40), n = 0;
    dst[0] = 0;
    while (n < want) {
        const char *p = parts[pick(sizeof parts / sizeof parts[0])];
        size_t k = strlen(p);
        if (n + k > max - 1)
            break;
        memcpy(dst + n, p, k);
        n += k;
        dst[n] = 0;
    }
}

static void rand_addr(struct lf_addr *a)
{
    memset(a, 0, sizeof *a);
    int f = (int)pick(4);
    if (f == 0)
        return;
    a->family = f == 3 ? 6 : 4;
    for (int i = 0; i < (a->family == 4 ? 4 : 16); i++)
        a->ip[i] = (uint8_t)(pick(3) == 0 ? pick(10) : pick(3) == 0 ? 0 : next());
    a->port = (uint16_t)next();
}

static int64_t rand_us(void)
{
    switch (pick(6)) {
    case 0: return -(int64_t)pick(5000000) - 1;
    case 1: return (int64_t)pick(10000000);
    case 2: return 10000000 + (int64_t)pick(4000000000ULL);
    case 3: return 9999999 + (int64_t)pick(3);
    case 4: return (int64_t)pick(1000);
    }
    return (int64_t)pick(100000000);
}

static void rand_signin(struct lf_signin *si, uint32_t id, lf_time first)
{
    memset(si, 0, sizeof *si);
    si->id = id;
    rand_addr(&si->client);
    rand_str(si->user, pick(3) ? sizeof si->user : 2);
    rand_str(si->agent, pick(3) ? sizeof si->agent : 1);
    rand_str(si->phase, pick(3) ? sizeof si->phase : 1);
    rand_str(si->reason, sizeof si->reason);
    si->verdict = (uint8_t)pick(3);
    si->failed_step = (uint32_t)pick(600);
    si->dropped_steps = pick(4) == 0 ? (uint32_t)next() : 0;
    switch (pick(5)) {
    case 0: si->start = -(lf_time)pick(100000000000ULL); break;
    case 1: si->start = (lf_time)pick(253402300800000000ULL); break; /* up to the year 9999 */
    case 2: si->start = (lf_time)(next() >> 1); break;
    default: si->start = first + (lf_time)pick(100000000000ULL); break;
    }
    si->end = si->start + rand_us();
    si->nsteps = (uint32_t)pick(pick(8) == 0 ? 130 : 6);
    si->steps = calloc(si->nsteps ? si->nsteps : 1, sizeof *si->steps);
    for (uint32_t i = 0; i < si->nsteps; i++) {
        struct lf_step *s = &si->steps[i];
        s->kind = pick(2) ? LF_EV_HTTP : LF_EV_TLS;
        s->ts = si->start + rand_us();
        s->duration_us = rand_us();
        s->role = (uint8_t)pick(7);
        s->failed = pick(3) == 0;
        s->recovered = pick(2);
        s->challenge = pick(3) == 0;
        s->from_iis = pick(2);
        s->status = pick(4) == 0 ? 0 : pick(3) == 0 ? (uint16_t)next() : (uint16_t)(100 + pick(500));
        s->substatus = pick(2) ? 0 : (uint16_t)(pick(3) ? pick(20) : next());
        s->win32_status = pick(2) ? 0 : (uint32_t)(pick(3) ? next() : pick(16));
        s->alert_from = pick(4) == 0 ? 'c' : 0;
        s->alert_desc = (uint8_t)next();
        s->tls_version = pick(3) == 0 ? 0 : pick(3) == 0 ? (uint16_t)next() : (uint16_t)(0x0300 + pick(6));
        rand_str(s->method, sizeof s->method);
        rand_str(s->what, sizeof s->what);
        rand_str(s->listener, pick(4) ? sizeof s->listener : 1);
        rand_str(s->server, pick(4) ? sizeof s->server : 1);
        rand_str(s->reason, sizeof s->reason);
        rand_addr(&s->client);
    }
}

/* Random sign-ins, written by lf_timeline_write and by the printf formats: the same text. */
static void test_signins_as_printf(void **state)
{
    (void)state;
    struct lf_model *m = calloc(1, sizeof *m);
    m->nsignins = 400;
    m->signins = calloc(m->nsignins, sizeof *m->signins);
    m->capture_first = 1700000000000000LL;
    m->capture_last = m->capture_first + 60000000;
    m->stats.iis_lines = 3;
    m->stats.packets = 9;
    for (uint32_t i = 0; i < m->nsignins; i++)
        rand_signin(&m->signins[i], i + 1, m->capture_first);

    char *got = NULL, *want = NULL;
    size_t ngot = 0, nwant = 0;
    FILE *g = open_memstream(&got, &ngot);
    lf_timeline_write(g, m);
    fclose(g);
    FILE *w = open_memstream(&want, &nwant);
    for (uint32_t i = 0; i < m->nsignins; i++) {
        fputc('\n', w);
        ref_signin(w, &m->signins[i], 1, m->capture_first, m->capture_last);
    }
    fclose(w);
    /* the sign-ins come after the header line and before the findings */
    const char *body = strchr(got, '\n');
    assert_non_null(body);
    body++;
    assert_true(strlen(body) > nwant);
    assert_memory_equal(body, want, nwant);
    assert_true(strncmp(body + nwant, "\nfindings: none\n", 16) == 0);
    assert_non_null(strstr(want, "  IIS log only: after the capture"));
    assert_non_null(strstr(want, " s"));
    for (uint32_t i = 0; i < m->nsignins; i++)
        free(m->signins[i].steps);
    free(m->signins);
    free(m);
    free(got);
    free(want);
}

/* One sign-in with known values: the columns where they belong. */
static void test_known_line(void **state)
{
    (void)state;
    struct lf_model *m = calloc(1, sizeof *m);
    struct lf_signin *si = calloc(1, sizeof *si);
    struct lf_step *st = calloc(1, sizeof *st);
    m->signins = si;
    m->nsignins = 1;
    si->id = 7;
    si->client.family = 4;
    memcpy(si->client.ip, "\xc6\x33\x64\x07", 4);
    LF_SET(si->user, "CONTOSO\\alice");
    si->start = 1700000000123456LL;
    si->end = si->start + 12345678;
    si->verdict = LF_VERDICT_COMPLETE;
    LF_SET(si->phase, "homepool");
    si->steps = st;
    si->nsteps = 1;
    st->kind = LF_EV_HTTP;
    st->ts = si->start + 2500000;
    st->duration_us = 41999;
    st->role = LF_ROLE_FRONTEND;
    st->status = 401;
    st->substatus = 1;
    st->win32_status = 0x8009030e;
    st->challenge = 1;
    LF_SET(st->method, "GET");
    LF_SET(st->what, "/WebTicket/WebTicketService.svc");
    LF_SET(st->listener, "ext");
    LF_SET(st->server, "fe01");
    st->client = si->client;
    char *got = NULL;
    size_t n = 0;
    FILE *g = open_memstream(&got, &n);
    lf_timeline_write(g, m);
    fclose(g);
    assert_string_equal(got, "lyncflow timeline: 1 sign-in, 1 steps; 0 errors, 0 warnings\n"
                             "\n"
                             "sign-in 7: client 198.51.100.7, user CONTOSO\\alice, agent -\n"
                             "  verdict complete; phase homepool\n"
                             "  1 steps from 2023-11-14 22:13:20.123 UTC over 12.3 s\n"
                             "    1    +2.500  198.51.100.7     ext -> fe01 (frontend)              "
                             "GET /WebTicket/WebTicketService.svc                         "
                             "401.1 0x8009030E challenge      41 ms\n"
                             "\n"
                             "findings: none\n"
                             "stitched: 0 client-side requests/connections matched to the proxy's own\n");
    free(got);
    free(st);
    free(si);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signins_as_printf),
        cmocka_unit_test(test_known_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
