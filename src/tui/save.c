/* save.c: `s`: the selected sign-in saved as NDJSON (its stored events, both legs)
 * and as pcap through the capture owner. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lyncflow/sinks.h"
#include "lyncflow/util.h"
#include "tui_int.h"

#define MAX_SAVE_FLOWS 64

struct collect {
    struct lf_event *evs;
    size_t n, cap;
};

static void keep(struct collect *c, const struct lf_event *e)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->evs[i].type == e->type && c->evs[i].ts == e->ts && c->evs[i].flow_id == e->flow_id)
            return;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 32;
        c->evs = lf_xrealloc(c->evs, c->cap * sizeof *c->evs);
    }
    lf_event_init(&c->evs[c->n], e->type, e->ts);
    lf_event_copy(&c->evs[c->n++], e);
}

static int by_time(const void *a, const void *b)
{
    const struct lf_event *x = a, *y = b;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* "(host A and port a and host B and port b) or ..." for the connections seen. */
static size_t make_bpf(const struct collect *c, char *bpf, size_t size, int *nflows)
{
    size_t l = 0;
    *nflows = 0;
    bpf[0] = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct lf_event *e = &c->evs[i];
        if (!e->client.family || !e->server.family || !e->client.port || !e->server.port)
            continue;
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = lf_addr_equal(&c->evs[j].client, &e->client) && lf_addr_equal(&c->evs[j].server, &e->server);
        if (dup || *nflows == MAX_SAVE_FLOWS)
            continue;
        char a[64], b[64];
        int k = snprintf(bpf + l, size - l, "%s(host %s and tcp port %u and host %s and tcp port %u)", l ? " or " : "",
                         lf_ip_format(&e->client, a, sizeof a), (unsigned)e->client.port,
                         lf_ip_format(&e->server, b, sizeof b), (unsigned)e->server.port);
        if (k < 0 || (size_t)k >= size - l) {
            bpf[l] = 0;
            break;
        }
        l += (size_t)k;
        (*nflows)++;
    }
    return l;
}

void tui_save_selected(struct lf_tui *t)
{
    struct lf_model *m = t->paused ? t->snapshot : t->model;
    struct lf_step *steps = NULL;
    uint32_t nsteps = 0;
    struct lf_event sev, signin;
    lf_event_init(&sev, LF_EV_SIGNIN, 0);
    if (!t->paused)
        pthread_mutex_lock(&m->lock);
    const struct lf_signin *s = tui_selected(t, m);
    if (s) {
        nsteps = s->nsteps;
        steps = lf_xmalloc((nsteps ? nsteps : 1) * sizeof *steps);
        if (nsteps)
            memcpy(steps, s->steps, nsteps * sizeof *steps);
        lf_signin_event(s, &signin);
        lf_event_copy(&sev, &signin); /* its own strings: the model changes once unlocked */
    }
    if (!t->paused)
        pthread_mutex_unlock(&m->lock);
    if (!s) {
        tui_set_status(t, "nothing to save: no sign-in selected");
        lf_event_release(&sev);
        return;
    }
    struct collect c = {0};
    uint32_t missing = 0;
    struct lf_event *e = lf_xcalloc(1, sizeof *e), *x = lf_xcalloc(1, sizeof *x);
    for (uint32_t i = 0; i < nsteps; i++) {
        if (tui_store_step(t, &steps[i], e) != 0) {
            missing++;
            continue;
        }
        keep(&c, e);
        if (tui_store_tls(t, e->flow_id, x) == 0)
            keep(&c, x);
        if (e->type == LF_EV_HTTP && tui_store_back(t, e, x) == 0) {
            keep(&c, x);
            if (tui_store_tls(t, x->flow_id, x) == 0)
                keep(&c, x);
        }
    }
    qsort(c.evs, c.n, sizeof *c.evs, by_time);

    char path[512], pcap[512], err[256] = "";
    uint32_t sid = 0;
    if (!t->paused)
        pthread_mutex_lock(&m->lock);
    const struct lf_signin *again = tui_selected(t, m);
    sid = again ? again->id : t->sel_id;
    if (!t->paused)
        pthread_mutex_unlock(&m->lock);
    snprintf(path, sizeof path, "%s/lyncflow-signin-%u.ndjson", t->save_dir, (unsigned)sid);
    snprintf(pcap, sizeof pcap, "%s/lyncflow-signin-%u.pcap", t->save_dir, (unsigned)sid);
    FILE *f = fopen(path, "w");
    if (!f) {
        tui_set_status(t, "save: %s: %s", path, strerror(errno));
        goto out;
    }
    size_t written = 0;
    for (size_t i = 0; i <= c.n; i++) {
        const struct lf_event *ev = i < c.n ? &c.evs[i] : &sev;
        size_t size = lf_event_json_size(ev);
        char *buf = lf_xmalloc(size);
        int n = lf_event_to_json(ev, buf, size);
        if (n >= 0) {
            fprintf(f, "%.*s\n", n, buf);
            written += i < c.n;
        }
        free(buf);
    }
    if (fclose(f) != 0) {
        tui_set_status(t, "save: %s: %s", path, strerror(errno));
        goto out;
    }
    char more[128] = "";
    if (missing)
        snprintf(more, sizeof more, " (%u steps no longer in the store)", (unsigned)missing);
    char bpf[8192];
    int nflows;
    if (!t->pcap_fn) {
        tui_set_status(t, "saved %zu events to %s%s; no pcap: no capture to read packets from", written, path, more);
    } else if (make_bpf(&c, bpf, sizeof bpf, &nflows) == 0) {
        tui_set_status(t, "saved %zu events to %s%s; no pcap: no connection known", written, path, more);
    } else {
        long frames = t->pcap_fn(t->pcap_ctx, bpf, pcap, err, sizeof err);
        if (frames < 0)
            tui_set_status(t, "saved %zu events to %s%s; pcap: %s", written, path, more, err);
        else
            tui_set_status(t, "saved %zu events to %s and %ld frames of %d connections to %s%s", written, path, frames,
                           nflows, pcap, more);
    }
out:
    lf_event_release(e);
    lf_event_release(x);
    free(e);
    free(x);
    for (size_t i = 0; i < c.n; i++)
        lf_event_release(&c.evs[i]);
    free(c.evs);
    lf_event_release(&sev);
    free(steps);
}
