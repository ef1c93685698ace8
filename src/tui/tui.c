/* tui.c: the TUI's public face (tui.h): the sink and its event store, the terminal, signals, the UI thread.
 *
 * The sink runs on the capture thread and only copies tls and http events
 * into a fixed ring (slot seq % cap) under a short lock. The terminal is the
 * controlling tty (/dev/tty), so -r - and redirected stdout still work; while
 * the screen is up, stderr goes into a pipe the UI shows in its status line
 * and replays on the real stderr when the screen closes. SIGINT and SIGTERM
 * keep the handlers main installed and also wake the UI, which restores the
 * terminal and ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <langinfo.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lyncflow/util.h"
#include "tui_int.h"

/* ---- the sink and the store ---- */

static void sink_event(void *ctx, const struct lf_event *ev)
{
    struct lf_tui *t = ctx;
    struct tui_store *s = &t->store;
    pthread_mutex_lock(&s->lock);
    uint64_t seq = ++s->seen;
    switch (ev->type) {
    case LF_EV_FLOW: s->flows++; break;
    case LF_EV_TLS:
        s->tls++;
        if (ev->u.tls.decrypting)
            s->tls_decrypting++;
        break;
    case LF_EV_HTTP:
        s->http++;
        if (ev->u.http.decrypted)
            s->http_decrypted++;
        if (ev->u.http.source[0] == 'i')
            s->http_iis++;
        break;
    case LF_EV_STATS:
        s->counters = ev->u.stats;
        s->have_counters = 1;
        s->counters_gen++;
        break;
    default: break;
    }
    if (ev->type == LF_EV_TLS || ev->type == LF_EV_HTTP) {
        struct tui_slot *sl = &s->slots[seq % s->cap];
        if (sl->seq)
            s->overwritten++;
        sl->seq = seq;
        lf_event_copy(&sl->ev, ev); /* the slot keeps its text block for the next one */
        s->stored++;
    }
    pthread_mutex_unlock(&s->lock);
}

static int step_matches(const struct lf_step *st, const struct lf_event *ev)
{
    if (ev->type != st->kind || ev->ts != st->ts)
        return 0;
    if (ev->type == LF_EV_HTTP)
        return strncmp(ev->u.http.uri, st->what, sizeof st->what - 1) == 0 ||
               strcmp(ev->u.http.method, st->method) == 0;
    return 1;
}

int tui_store_step(struct lf_tui *t, const struct lf_step *st, struct lf_event *out)
{
    struct tui_store *s = &t->store;
    int found = -1;
    pthread_mutex_lock(&s->lock);
    /* by seq (whether the analysis counts from 0 or 1), then by time and text */
    for (int d = 0; d <= 2 && found < 0; d++) {
        uint64_t seq = st->seq + (uint64_t)(d == 2 ? -1 : d);
        if (!seq)
            continue;
        const struct tui_slot *sl = &s->slots[seq % s->cap];
        if (sl->seq == seq && step_matches(st, &sl->ev)) {
            lf_event_copy(out, &sl->ev);
            found = 0;
        }
    }
    for (size_t i = 0; i < s->cap && found < 0; i++) {
        const struct tui_slot *sl = &s->slots[i];
        if (sl->seq && step_matches(st, &sl->ev) &&
            (st->kind != LF_EV_HTTP || strncmp(sl->ev.u.http.uri, st->what, sizeof st->what - 1) == 0)) {
            lf_event_copy(out, &sl->ev);
            found = 0;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

int tui_store_tls(struct lf_tui *t, uint64_t flow_id, struct lf_event *out)
{
    struct tui_store *s = &t->store;
    int found = -1;
    if (!flow_id)
        return -1;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->cap; i++) {
        const struct tui_slot *sl = &s->slots[i];
        if (sl->seq && sl->ev.type == LF_EV_TLS && sl->ev.flow_id == flow_id) {
            lf_event_copy(out, &sl->ev);
            found = 0;
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

int tui_store_back(struct lf_tui *t, const struct lf_event *front, struct lf_event *out)
{
    struct tui_store *s = &t->store;
    int found = -1;
    lf_time best = 0;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->cap; i++) {
        const struct tui_slot *sl = &s->slots[i];
        const struct lf_event *e = &sl->ev;
        if (!sl->seq || e->type != LF_EV_HTTP || e->flow_id == front->flow_id ||
            lf_addr_equal(&e->client, &front->client) || strcmp(e->u.http.method, front->u.http.method) != 0 ||
            strcmp(e->u.http.uri, front->u.http.uri) != 0)
            continue;
        lf_time d = e->ts > front->ts ? e->ts - front->ts : front->ts - e->ts;
        if (d > 5000000)
            continue;
        /* the analysis marks both legs stitched; prefer those */
        if (!e->stitched && front->stitched)
            d += 5000000;
        if (found < 0 || d < best) {
            lf_event_copy(out, e);
            best = d;
            found = 0;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

void tui_store_counts(struct lf_tui *t, struct tui_store *out)
{
    pthread_mutex_lock(&t->store.lock);
    *out = t->store;
    pthread_mutex_unlock(&t->store.lock);
    out->slots = NULL;
}

/* ---- construction ---- */

struct lf_tui *lf_tui_new_model(struct lf_model *model, const struct lf_config *cfg, const char *source_desc)
{
    struct lf_tui *t = lf_xcalloc(1, sizeof *t);
    t->model = model;
    if (cfg)
        t->cfg = *cfg;
    else
        lf_config_defaults(&t->cfg);
    LF_SET(t->source, source_desc ? source_desc : "");
    LF_SET(t->save_dir, ".");
    pthread_mutex_init(&t->store.lock, NULL);
    t->store.cap = TUI_STORE_EVENTS;
    t->store.slots = lf_xcalloc(t->store.cap, sizeof *t->store.slots);
    t->sink.event = sink_event;
    t->sink.ctx = t;
    t->wake[0] = t->wake[1] = -1;
    t->err_pipe[0] = t->err_pipe[1] = -1;
    t->saved_stderr = -1;
    t->focus = PANE_LIST;
    t->follow = 1;
    t->step_follow = 0;
    t->vis_ids = lf_xcalloc(TUI_MAX_VISIBLE, sizeof *t->vis_ids);
    return t;
}

struct lf_tui *lf_tui_new(struct lf_analysis *an, const struct lf_config *cfg, const char *source_desc)
{
    return lf_tui_new_model(lf_analysis_model(an), cfg, source_desc);
}

struct lf_sink *lf_tui_sink(struct lf_tui *t) { return &t->sink; }

void lf_tui_counters(struct lf_tui *t, const struct lf_ev_stats *s)
{
    pthread_mutex_lock(&t->store.lock);
    if (memcmp(&t->store.counters, s, sizeof *s) != 0) {
        t->store.counters = *s;
        t->store.have_counters = 1;
        t->store.counters_gen++;
    }
    pthread_mutex_unlock(&t->store.lock);
    if (atomic_load(&t->running) && t->wake[1] >= 0) {
        ssize_t r = write(t->wake[1], "c", 1);
        (void)r;
    }
}

void lf_tui_set_pcap_saver(struct lf_tui *t, lf_tui_pcap_fn fn, void *ctx)
{
    t->pcap_fn = fn;
    t->pcap_ctx = ctx;
}

void lf_tui_set_save_dir(struct lf_tui *t, const char *dir) { LF_SET(t->save_dir, dir); }

/* ---- signals ---- */

static struct sigaction old_int, old_term, old_winch;
static volatile sig_atomic_t sig_quit;
static volatile int sig_wake_fd = -1;

static void chain(const struct sigaction *old, int sig, siginfo_t *info, void *uc)
{
    if (old->sa_flags & SA_SIGINFO) {
        if (old->sa_sigaction)
            old->sa_sigaction(sig, info, uc);
    } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
    }
}

static void on_signal(int sig, siginfo_t *info, void *uc)
{
    int e = errno;
    if (sig == SIGWINCH) {
        chain(&old_winch, sig, info, uc);
    } else {
        sig_quit = 1;
        chain(sig == SIGINT ? &old_int : &old_term, sig, info, uc);
    }
    int fd = sig_wake_fd;
    if (fd >= 0) {
        ssize_t r = write(fd, "s", 1);
        (void)r;
    }
    errno = e;
}

/* Before the screen starts, so that ncurses keeps its hands off SIGINT and
 * SIGTERM (its own handlers would exit). */
static void signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sig_quit = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
}

/* After it: ncurses' SIGWINCH handler (KEY_RESIZE) stays behind ours, which
 * also wakes the UI. */
static void signals_wake(struct lf_tui *t)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGWINCH, &sa, &old_winch);
    sig_wake_fd = t->wake[1];
}

static void signals_restore(void)
{
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGWINCH, &old_winch, NULL);
    sig_wake_fd = -1;
}

int tui_signalled(void) { return sig_quit != 0; }

/* ---- stderr while the screen is up ---- */

static void nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int stderr_capture(struct lf_tui *t)
{
    if (pipe(t->err_pipe) != 0)
        return -1;
    fflush(stderr);
    t->saved_stderr = dup(2);
    if (t->saved_stderr < 0 || dup2(t->err_pipe[1], 2) < 0) {
        close(t->err_pipe[0]);
        close(t->err_pipe[1]);
        if (t->saved_stderr >= 0)
            close(t->saved_stderr);
        t->err_pipe[0] = t->err_pipe[1] = t->saved_stderr = -1;
        return -1;
    }
    nonblock(t->err_pipe[0]);
    fcntl(t->err_pipe[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

/* Called by the UI thread when its screen is gone: the real stderr back, and
 * what was written meanwhile replayed on it. */
void tui_stderr_restore(struct lf_tui *t)
{
    if (t->saved_stderr < 0)
        return;
    fflush(stderr);
    tui_stderr_drain(t);
    dup2(t->saved_stderr, 2);
    close(t->saved_stderr);
    close(t->err_pipe[0]);
    close(t->err_pipe[1]);
    t->saved_stderr = t->err_pipe[0] = t->err_pipe[1] = -1;
    if (t->msgs_lost)
        fprintf(stderr, "lyncflow: %lu earlier messages were not kept while the screen was up\n", t->msgs_lost);
    for (unsigned i = 0; i < t->nmsgs; i++)
        fprintf(stderr, "%s\n", t->msgs[(t->msg_first + i) % TUI_MSG_LINES].text);
    if (t->err_partial_len)
        fprintf(stderr, "%.*s\n", (int)t->err_partial_len, t->err_partial);
    t->nmsgs = 0;
    t->err_partial_len = 0;
}

static void msg_push(struct lf_tui *t, const char *s, size_t n)
{
    struct tui_msg *m;
    if (t->nmsgs == TUI_MSG_LINES) {
        m = &t->msgs[t->msg_first];
        t->msg_first = (t->msg_first + 1) % TUI_MSG_LINES;
        t->msgs_lost++;
    } else {
        m = &t->msgs[(t->msg_first + t->nmsgs) % TUI_MSG_LINES];
        t->nmsgs++;
    }
    lf_strncpy_n(m->text, sizeof m->text, s, n);
    tui_set_status(t, "%s", m->text);
}

/* Reads what was written to stderr; complete lines become messages. */
void tui_stderr_drain(struct lf_tui *t)
{
    char buf[1024];
    ssize_t n;
    if (t->err_pipe[0] < 0)
        return;
    while ((n = read(t->err_pipe[0], buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n' || t->err_partial_len == sizeof t->err_partial - 1) {
                msg_push(t, t->err_partial, t->err_partial_len);
                t->err_partial_len = 0;
                if (buf[i] == '\n')
                    continue;
            }
            t->err_partial[t->err_partial_len++] = buf[i];
        }
    }
}

/* ---- the terminal and the thread ---- */

int lf_tui_start(struct lf_tui *t)
{
    if (t->started)
        return 0;
    t->tty = fopen("/dev/tty", "r+");
    if (!t->tty)
        return -1;
    setlocale(LC_CTYPE, ""); /* only characters: numbers in JSON keep the C locale */
    const char *cs = nl_langinfo(CODESET);
    t->utf8 = cs && (lf_strcaseeq(cs, "UTF-8") || lf_strcaseeq(cs, "utf8"));
    signals_install();
    t->scr = newterm(NULL, t->tty, t->tty);
    if (!t->scr) {
        signals_restore();
        fclose(t->tty);
        t->tty = NULL;
        return -1;
    }
    set_term(t->scr);
    cbreak();
    noecho();
    nonl();
    intrflush(stdscr, FALSE);
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    leaveok(stdscr, TRUE);
    tui_colors_init(t);
    if (pipe(t->wake) == 0) {
        nonblock(t->wake[0]);
        nonblock(t->wake[1]);
    } else {
        t->wake[0] = t->wake[1] = -1;
    }
    stderr_capture(t);
    signals_wake(t);

    /* the UI thread leaves SIGINT/SIGTERM/SIGWINCH to the capture thread,
     * whose blocking reads they must interrupt */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGWINCH);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    atomic_store(&t->running, 1);
    int rc = pthread_create(&t->thread, NULL, tui_main, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        atomic_store(&t->running, 0);
        signals_restore();
        endwin();
        tui_stderr_restore(t);
        return -1;
    }
    t->started = 1;
    return 0;
}

void lf_tui_input_done(struct lf_tui *t)
{
    atomic_store(&t->input_done, 1);
    if (t->wake[1] >= 0) {
        ssize_t r = write(t->wake[1], "d", 1);
        (void)r;
    }
}

int lf_tui_quit_requested(const struct lf_tui *t)
{
    return atomic_load_explicit(&((struct lf_tui *)t)->quit, memory_order_relaxed) || sig_quit;
}

void lf_tui_join(struct lf_tui *t)
{
    if (!t->started)
        return;
    pthread_join(t->thread, NULL);
    t->started = 0;
    signals_restore();
    if (t->scr) {
        delscreen(t->scr);
        t->scr = NULL;
    }
    if (t->tty) {
        fclose(t->tty);
        t->tty = NULL;
    }
    for (int i = 0; i < 2; i++)
        if (t->wake[i] >= 0) {
            close(t->wake[i]);
            t->wake[i] = -1;
        }
}

void lf_tui_free(struct lf_tui *t)
{
    if (!t)
        return;
    lf_tui_join(t);
    pthread_mutex_destroy(&t->store.lock);
    for (size_t i = 0; t->store.slots && i < t->store.cap; i++)
        lf_event_release(&t->store.slots[i].ev);
    free(t->store.slots);
    free(t->vis_ids);
    free(t);
}
