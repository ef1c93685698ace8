/* header.c: the header screen: source, state, packets, flows, drops, decryption, capture filter. */
#include <string.h>

#include "tui_int.h"

static void draw(void *st, struct lf_tui *t, WINDOW *w, const struct lf_model *m, int focused)
{
    (void)st;
    (void)focused;
    int cols = getmaxx(w);
    attr_t a = tui_attr(t, C_HEADER);
    wattr_set(w, a, PAIR_NUMBER(a), NULL);
    mvwhline(w, 0, 0, ' ', cols);
    wattr_set(w, A_NORMAL, 0, NULL);

    struct tui_store c;
    tui_store_counts(t, &c);
    const char *state = t->paused ? "PAUSED" : atomic_load(&t->input_done) ? "END OF INPUT" : "LIVE";
    char paused[64] = "";
    if (t->paused && t->live_nsignins > m->nsignins)
        snprintf(paused, sizeof paused, " (+%u new)", (unsigned)(t->live_nsignins - m->nsignins));
    int x = tui_putf(t, w, 0, 0, cols, a | A_BOLD, " lyncflow ");
    x += tui_putf(t, w, 0, x, cols - x, a, "%s %s ", tui_glyph(t, G_VLINE), t->source);
    if (t->cfg.bpf && t->cfg.read_file)
        x += tui_putf(t, w, 0, x, cols - x, a, "%s filter '%s' ", tui_glyph(t, G_VLINE), t->cfg.bpf);
    char right[96];
    snprintf(right, sizeof right, " %s%s ", state, paused);
    int rw = tui_width(t, right);
    if (x + rw < cols)
        tui_put(t, w, 0, cols - rw, rw, a | A_BOLD | (t->paused ? A_BLINK : 0), right);

    /* line 2: counters */
    const struct lf_ev_stats *s = &c.counters;
    x = 0;
    if (c.have_counters)
        x += tui_putf(t, w, 1, x, cols - x, A_NORMAL, " packets %llu  flows %llu  drops %llu ",
                      (unsigned long long)s->packets, (unsigned long long)(s->flows ? s->flows : c.flows),
                      (unsigned long long)s->drops);
    else
        x += tui_putf(t, w, 1, x, cols - x, A_NORMAL, " packets -  flows %llu  drops - ", (unsigned long long)c.flows);
    if (s->drops)
        mvwchgat(w, 1, 0, x, A_BOLD, C_RED, NULL);
    x += tui_putf(t, w, 1, x, cols - x, A_NORMAL, "%s ", tui_glyph(t, G_VLINE));
    /* decryption status */
    unsigned long long dec = s->tls_decrypted ? s->tls_decrypted : c.tls_decrypting;
    if (!t->cfg.keylog && !t->cfg.n_rsa_keys && !dec)
        x += tui_putf(t, w, 1, x, cols - x, tui_attr(t, C_YELLOW), "TLS %llu, no keys: encrypted (SNI only) ",
                      (unsigned long long)c.tls);
    else
        x += tui_putf(t, w, 1, x, cols - x, dec ? tui_attr(t, C_GREEN) : tui_attr(t, C_YELLOW),
                      "TLS %llu, decrypted %llu ", (unsigned long long)c.tls, dec);
    if (s->tls_no_secret)
        x += tui_putf(t, w, 1, x, cols - x, tui_attr(t, C_YELLOW), "no secret %llu ",
                      (unsigned long long)s->tls_no_secret);
    if (s->tls_decrypt_failures)
        x += tui_putf(t, w, 1, x, cols - x, tui_attr(t, C_RED), "failures %llu ",
                      (unsigned long long)s->tls_decrypt_failures);
    x += tui_putf(t, w, 1, x, cols - x, A_NORMAL, "%s HTTP %llu", tui_glyph(t, G_VLINE), (unsigned long long)c.http);
    if (c.http_iis)
        x += tui_putf(t, w, 1, x, cols - x, A_NORMAL, " (IIS %llu)", (unsigned long long)c.http_iis);
    x += tui_putf(t, w, 1, x, cols - x, A_NORMAL, " %s sign-ins %u  findings %d", tui_glyph(t, G_VLINE),
                  (unsigned)m->nsignins, m->nfindings);
    if (c.overwritten)
        tui_putf(t, w, 1, x, cols - x, A_DIM, " %s store: last %zu events", tui_glyph(t, G_VLINE), c.cap);
}

const struct tui_screen tui_header_screen = {"header", NULL, draw, NULL, NULL, NULL};
