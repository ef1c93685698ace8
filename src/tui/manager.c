/* manager.c: the TUI's one loop: input, the key table, layout of the panes, redraw pacing, pause and filter.
 *
 * The loop polls the terminal and a wake pipe with a timeout, turns keys into
 * actions through one table, lets the global ones act here and hands the rest
 * to the focused screen, whose flags (handled, redraw, resize, quit) come
 * back here. It draws when a key was handled, or at most every TUI_FRAME_MS
 * when the model's generation or the counters moved. Drawing fills ncurses'
 * buffers under model->lock; the terminal is written after the lock is gone.
 */
#include <ctype.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lyncflow/util.h"
#include "tui_int.h"

static const struct tui_screen *const screens[PANE_COUNT] = {
    [PANE_HEADER] = &tui_header_screen,   [PANE_LIST] = &tui_list_screen,
    [PANE_LADDER] = &tui_ladder_screen,   [PANE_DETAIL] = &tui_detail_screen,
    [PANE_FINDINGS] = &tui_findings_screen, [PANE_HELP] = &tui_help_screen,
};

#define CTRL(c) ((c) & 0x1f)

/* The key table: every key the TUI knows, once. */
static const struct {
    int key;
    enum tui_action act;
} keys[] = {
    {KEY_UP, ACT_UP},         {'k', ACT_UP},           {KEY_DOWN, ACT_DOWN},       {'j', ACT_DOWN},
    {KEY_PPAGE, ACT_PGUP},    {CTRL('b'), ACT_PGUP},   {KEY_NPAGE, ACT_PGDN},      {CTRL('f'), ACT_PGDN},
    {' ', ACT_PGDN},          {KEY_HOME, ACT_TOP},     {'g', ACT_TOP},             {KEY_END, ACT_BOTTOM},
    {'G', ACT_BOTTOM},        {KEY_LEFT, ACT_LEFT},    {'h', ACT_LEFT},            {KEY_RIGHT, ACT_RIGHT},
    {'l', ACT_RIGHT},         {'\r', ACT_ENTER},       {'\n', ACT_ENTER},          {KEY_ENTER, ACT_ENTER},
    {27, ACT_BACK},           {KEY_BACKSPACE, ACT_BACK}, {'\t', ACT_NEXT_PANE},    {KEY_BTAB, ACT_PREV_PANE},
    {'/', ACT_FILTER},        {'p', ACT_PAUSE},        {'s', ACT_SAVE},            {'?', ACT_HELP},
    {KEY_F(1), ACT_HELP},     {'q', ACT_QUIT},         {'Q', ACT_QUIT},            {'f', ACT_FAILED},
};

const struct tui_keyhelp tui_keyhelp[] = {
    {"Up Down  j k", "move in the focused pane"},
    {"PgUp PgDn  Space  ^B ^F", "move a page"},
    {"Home End  g G", "first, last (End/G follows new sign-ins)"},
    {"Tab  Shift-Tab", "next / previous pane"},
    {"Left Right  h l", "back to the list / into the ladder and details"},
    {"Enter", "open the detail pane of the selection"},
    {"Esc", "close details; clear the filter"},
    {"f", "jump to the failed step"},
    {"/", "filter sign-ins by client, user, name, path or status (words AND-ed)"},
    {"p", "pause updates (capture goes on, nothing is lost)"},
    {"s", "save the selected sign-in as NDJSON and pcap"},
    {"? F1", "this help"},
    {"q", "quit"},
    {NULL, NULL},
};

void tui_set_status(struct lf_tui *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->status, sizeof t->status, fmt, ap);
    va_end(ap);
    t->status_until_ms = tui_now_ms() + 6000;
}

/* ---- filter ---- */

static int has_word(const char *hay, const char *word, size_t n)
{
    size_t hl = strlen(hay);
    if (n == 0)
        return 1;
    for (size_t i = 0; i + n <= hl; i++) {
        size_t k = 0;
        while (k < n && tolower((unsigned char)hay[i + k]) == tolower((unsigned char)word[k]))
            k++;
        if (k == n)
            return 1;
    }
    return 0;
}

static int signin_has(const struct lf_signin *s, const char *w, size_t n)
{
    char buf[64];
    if (has_word(lf_ip_format(&s->client, buf, sizeof buf), w, n) || has_word(s->user, w, n) ||
        has_word(s->agent, w, n) || has_word(s->phase, w, n) || has_word(lf_verdict_name(s->verdict), w, n) ||
        has_word(s->reason, w, n))
        return 1;
    for (uint32_t i = 0; i < s->nsteps; i++) {
        const struct lf_step *st = &s->steps[i];
        snprintf(buf, sizeof buf, "%u", (unsigned)st->status);
        if (has_word(st->what, w, n) || has_word(st->host, w, n) || has_word(st->method, w, n) ||
            has_word(st->listener, w, n) || has_word(st->server, w, n) || has_word(st->service, w, n) ||
            has_word(st->user, w, n) || has_word(lf_role_name(st->role), w, n) ||
            (st->status && strlen(buf) == n && has_word(buf, w, n)))
            return 1;
    }
    return 0;
}

int tui_filter_match(const struct lf_signin *s, const char *filter)
{
    const char *p = filter;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        if (e > p && !signin_has(s, p, (size_t)(e - p)))
            return 0;
        p = e;
    }
    return 1;
}

/* ---- selection ---- */

const struct lf_signin *tui_selected(struct lf_tui *t, const struct lf_model *m)
{
    if (!t->have_sel)
        return NULL;
    for (uint32_t i = m->nsignins; i-- > 0;)
        if (m->signins[i].id == t->sel_id)
            return &m->signins[i];
    return NULL;
}

/* The list of sign-ins the filter keeps, and the selection kept valid. */
static void compute_visible(struct lf_tui *t, const struct lf_model *m)
{
    uint32_t n = 0;
    int sel_seen = 0;
    for (uint32_t i = 0; i < m->nsignins && n < TUI_MAX_VISIBLE; i++) {
        if (t->filter[0] && !tui_filter_match(&m->signins[i], t->filter))
            continue;
        t->vis_ids[n++] = m->signins[i].id;
        if (t->have_sel && m->signins[i].id == t->sel_id)
            sel_seen = 1;
    }
    t->nvis = n;
    t->total_signins = m->nsignins;
    if (n == 0) {
        t->have_sel = 0;
        return;
    }
    if (t->follow || !sel_seen) {
        uint32_t id = t->follow ? t->vis_ids[n - 1] : t->vis_ids[0];
        if (!t->have_sel || id != t->sel_id) {
            t->sel_id = id;
            t->have_sel = 1;
            t->sel_step = 0;
            t->detail_top = 0;
            t->step_follow = t->follow;
        }
    }
}

/* ---- pause: a private copy of the model ---- */

static void snapshot_free(struct lf_model *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->nsignins; i++)
        free(s->signins[i].steps);
    free(s->signins);
    free(s);
}

static struct lf_model *snapshot_take(struct lf_model *m)
{
    struct lf_model *s = lf_xmalloc(sizeof *s);
    pthread_mutex_lock(&m->lock);
    memcpy(s, m, sizeof *s);
    s->signins = s->nsignins ? lf_xcalloc(s->nsignins, sizeof *s->signins) : NULL;
    s->capsignins = s->nsignins;
    for (uint32_t i = 0; i < s->nsignins; i++) {
        s->signins[i] = m->signins[i];
        s->signins[i].capsteps = s->signins[i].nsteps;
        s->signins[i].steps = NULL;
        if (s->signins[i].nsteps) {
            s->signins[i].steps = lf_xmalloc(s->signins[i].nsteps * sizeof(struct lf_step));
            memcpy(s->signins[i].steps, m->signins[i].steps, s->signins[i].nsteps * sizeof(struct lf_step));
        }
    }
    pthread_mutex_unlock(&m->lock);
    return s;
}

/* ---- layout ---- */

static void win_set(struct lf_tui *t, int pane, int y, int x, int h, int w)
{
    if (t->win[pane]) {
        delwin(t->win[pane]);
        t->win[pane] = NULL;
    }
    if (h <= 0 || w <= 0)
        return;
    t->win[pane] = newwin(h, w, y, x);
    if (t->win[pane] && screens[pane]->resize)
        screens[pane]->resize(t->st[pane], t, h, w);
}

static void layout(struct lf_tui *t)
{
    getmaxyx(stdscr, t->rows, t->cols);
    int rows = t->rows, cols = t->cols;
    int body = rows - 3; /* header 2, status 1 */
    if (body < 6)
        body = 6;
    int y = 2;
    win_set(t, PANE_HEADER, 0, 0, 2, cols);
    int list_h, ladder_h, low_h;
    int side = t->detail_open && cols >= 150;
    if (t->detail_open && !side) {
        list_h = body >= 30 ? 7 : 4;
        low_h = (body - list_h) / 2 + 1;
        ladder_h = body - list_h - low_h;
    } else {
        list_h = body >= 30 ? body / 4 + 1 : 6;
        low_h = body >= 30 ? body / 5 : 4;
        ladder_h = body - list_h - low_h;
    }
    win_set(t, PANE_LIST, y, 0, list_h, cols);
    y += list_h;
    if (side) {
        int lw = cols * 11 / 20;
        win_set(t, PANE_LADDER, y, 0, ladder_h + low_h, lw);
        win_set(t, PANE_DETAIL, y, lw, ladder_h + low_h, cols - lw);
        win_set(t, PANE_FINDINGS, 0, 0, 0, 0);
    } else {
        win_set(t, PANE_LADDER, y, 0, ladder_h, cols);
        y += ladder_h;
        if (t->detail_open) {
            win_set(t, PANE_DETAIL, y, 0, low_h, cols);
            win_set(t, PANE_FINDINGS, 0, 0, 0, 0);
        } else {
            win_set(t, PANE_FINDINGS, y, 0, low_h, cols);
            win_set(t, PANE_DETAIL, 0, 0, 0, 0);
        }
    }
    int hh = rows - 4 < 30 ? rows - 4 : 30, hw = cols - 4 < 90 ? cols - 4 : 90;
    win_set(t, PANE_HELP, (rows - hh) / 2, (cols - hw) / 2, hh, hw);
    if (t->focus == PANE_DETAIL && !t->detail_open)
        t->focus = PANE_LADDER;
    if (t->focus == PANE_FINDINGS && !t->win[PANE_FINDINGS])
        t->focus = PANE_DETAIL;
    erase();
    wnoutrefresh(stdscr);
}

/* ---- drawing ---- */

static void draw_status(struct lf_tui *t)
{
    int y = t->rows - 1;
    attr_t a = tui_attr(t, C_HEADER);
    wattr_set(stdscr, a, PAIR_NUMBER(a), NULL);
    mvwhline(stdscr, y, 0, ' ', t->cols);
    wattr_set(stdscr, A_NORMAL, 0, NULL);
    if (t->prompt) {
        int x = tui_putf(t, stdscr, y, 0, t->cols, a | A_BOLD, "/ filter (client, user, name, path, status): ");
        x += tui_put(t, stdscr, y, x, t->cols - x - 1, a, t->filter);
        if (x < t->cols)
            mvwaddch(stdscr, y, x, ' ' | A_REVERSE);
        return;
    }
    if (t->status[0] && tui_now_ms() < t->status_until_ms) {
        tui_put(t, stdscr, y, 0, t->cols, a | A_BOLD, t->status);
        return;
    }
    char right[160];
    snprintf(right, sizeof right, "%s%s%s", t->paused ? " PAUSED " : "", t->filter[0] ? " filter: " : "",
             t->filter[0] ? t->filter : "");
    tui_put(t, stdscr, y, 0, t->cols, a,
            t->cols >= 100 ? " q quit  ? help  Tab pane  Enter details  / filter  p pause  s save  f failed step"
                           : " q quit ? help Tab pane Enter details / filter p pause s save");
    int rw = tui_width(t, right);
    if (rw && t->cols > rw + 40)
        tui_put(t, stdscr, y, t->cols - rw - 1, rw, a | A_BOLD, right);
}

static void draw_all(struct lf_tui *t, uint32_t *gen)
{
    struct lf_model *m = t->paused ? t->snapshot : t->model;
    pthread_mutex_lock(&t->model->lock);
    *gen = t->model->generation;
    t->live_nsignins = t->model->nsignins;
    if (t->paused)
        pthread_mutex_unlock(&t->model->lock);
    compute_visible(t, m);
    for (int p = PANE_HEADER; p <= PANE_FINDINGS; p++) {
        if (!t->win[p])
            continue;
        werase(t->win[p]);
        screens[p]->draw(t->st[p], t, t->win[p], m, t->focus == p && !t->help_open);
    }
    if (!t->paused)
        pthread_mutex_unlock(&t->model->lock);
    /* the terminal is written with the model free */
    draw_status(t);
    wnoutrefresh(stdscr);
    for (int p = PANE_HEADER; p <= PANE_FINDINGS; p++)
        if (t->win[p])
            wnoutrefresh(t->win[p]);
    if (t->help_open && t->win[PANE_HELP]) {
        werase(t->win[PANE_HELP]);
        screens[PANE_HELP]->draw(t->st[PANE_HELP], t, t->win[PANE_HELP], m, 1);
        wnoutrefresh(t->win[PANE_HELP]);
    }
    doupdate();
}

/* ---- keys ---- */

static int prompt_key(struct lf_tui *t, int ch)
{
    size_t n = strlen(t->filter);
    if (ch == 27) {
        memcpy(t->filter, t->filter_saved, sizeof t->filter);
        t->prompt = 0;
    } else if (ch == '\r' || ch == '\n' || ch == KEY_ENTER) {
        t->prompt = 0;
    } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        if (n)
            t->filter[n - 1] = 0;
    } else if (ch == CTRL('u')) {
        t->filter[0] = 0;
    } else if (ch >= 0x20 && ch < 0x7f && n + 1 < sizeof t->filter) {
        t->filter[n] = (char)ch;
        t->filter[n + 1] = 0;
    } else {
        return TUI_HANDLED;
    }
    t->follow = 1;
    return TUI_HANDLED | TUI_REDRAW;
}

static int focus_order(const struct lf_tui *t, int p, int dir)
{
    static const int order[] = {PANE_LIST, PANE_LADDER, PANE_DETAIL, PANE_FINDINGS};
    int i = 0;
    while (i < 4 && order[i] != p)
        i++;
    for (int k = 0; k < 4; k++) {
        i = (i + 4 + dir) % 4;
        if (t->win[order[i]])
            return order[i];
    }
    return p;
}

static int dispatch(struct lf_tui *t, int ch)
{
    if (ch == KEY_RESIZE)
        return TUI_HANDLED | TUI_RESIZE | TUI_REDRAW;
    if (t->help_open) {
        t->help_open = 0;
        return TUI_HANDLED | TUI_REDRAW;
    }
    if (t->prompt)
        return prompt_key(t, ch);
    enum tui_action a = ACT_NONE;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].key == ch) {
            a = keys[i].act;
            break;
        }
    switch (a) {
    case ACT_NONE: return 0;
    case ACT_QUIT: return TUI_HANDLED | TUI_QUIT;
    case ACT_HELP: t->help_open = 1; return TUI_HANDLED | TUI_REDRAW;
    case ACT_FILTER:
        memcpy(t->filter_saved, t->filter, sizeof t->filter);
        t->prompt = 1;
        return TUI_HANDLED | TUI_REDRAW;
    case ACT_PAUSE:
        t->paused = !t->paused;
        if (t->paused) {
            t->snapshot = snapshot_take(t->model);
            tui_set_status(t, "paused: the screen is frozen, capture goes on; p resumes");
        } else {
            snapshot_free(t->snapshot);
            t->snapshot = NULL;
            tui_set_status(t, "resumed");
        }
        return TUI_HANDLED | TUI_REDRAW;
    case ACT_SAVE: tui_save_selected(t); return TUI_HANDLED | TUI_REDRAW;
    case ACT_NEXT_PANE:
    case ACT_PREV_PANE:
        t->focus = focus_order(t, t->focus, a == ACT_NEXT_PANE ? 1 : -1);
        return TUI_HANDLED | TUI_REDRAW;
    case ACT_BACK:
        if (t->detail_open) {
            t->detail_open = 0;
            if (t->focus == PANE_DETAIL)
                t->focus = PANE_LADDER;
            return TUI_HANDLED | TUI_RESIZE | TUI_REDRAW;
        }
        if (t->filter[0]) {
            t->filter[0] = 0;
            tui_set_status(t, "filter cleared");
            return TUI_HANDLED | TUI_REDRAW;
        }
        if (t->focus != PANE_LIST) {
            t->focus = PANE_LIST;
            return TUI_HANDLED | TUI_REDRAW;
        }
        return TUI_HANDLED;
    default: break;
    }
    const struct tui_screen *s = screens[t->focus];
    return s->handle_key ? s->handle_key(t->st[t->focus], t, a) : 0;
}

/* ---- the loop ---- */

void *tui_main(void *arg)
{
    struct lf_tui *t = arg;
    for (int p = 0; p < PANE_COUNT; p++)
        t->st[p] = screens[p]->create ? screens[p]->create(t) : NULL;
    layout(t);
    int flags = TUI_REDRAW;
    uint32_t gen = 0, counters_gen = 0;
    int was_done = 0, had_status = 0;
    int64_t last_draw = 0;
    int ttyfd = fileno(t->tty);
    for (;;) {
        if (tui_signalled() || atomic_load(&t->quit))
            break;
        int64_t now = tui_now_ms();
        int timeout = TUI_FRAME_MS - (int)(now - last_draw);
        if (timeout < 10)
            timeout = 10;
        if (timeout > TUI_FRAME_MS)
            timeout = TUI_FRAME_MS;
        struct pollfd pfd[3] = {{ttyfd, POLLIN, 0}, {t->wake[0], POLLIN, 0}, {t->err_pipe[0], POLLIN, 0}};
        if (!(flags & TUI_REDRAW))
            poll(pfd, 3, timeout);
        char junk[64];
        if (t->wake[0] >= 0)
            while (read(t->wake[0], junk, sizeof junk) > 0) {
            }
        size_t before = t->nmsgs + t->msgs_lost;
        tui_stderr_drain(t);
        if (t->nmsgs + t->msgs_lost != before)
            flags |= TUI_REDRAW;
        int ch;
        while ((ch = wgetch(stdscr)) != ERR) {
            int f = dispatch(t, ch);
            flags |= f;
            if (f & TUI_QUIT)
                break;
        }
        if (flags & TUI_QUIT)
            break;
        if (flags & TUI_RESIZE)
            layout(t);
        int changed = 0;
        if (!t->paused) {
            pthread_mutex_lock(&t->model->lock);
            changed = t->model->generation != gen;
            pthread_mutex_unlock(&t->model->lock);
        }
        struct tui_store c;
        tui_store_counts(t, &c);
        if (c.counters_gen != counters_gen || c.seen != 0) {
            changed |= c.counters_gen != counters_gen;
            counters_gen = c.counters_gen;
        }
        int done = atomic_load(&t->input_done);
        changed |= done != was_done;
        int st = t->status[0] && tui_now_ms() < t->status_until_ms;
        changed |= st != had_status;
        now = tui_now_ms();
        if ((flags & (TUI_REDRAW | TUI_RESIZE)) || (changed && now - last_draw >= TUI_FRAME_MS)) {
            draw_all(t, &gen);
            last_draw = now;
            flags = 0;
            was_done = done;
            had_status = st;
        }
    }
    atomic_store(&t->quit, 1);
    endwin();
    atomic_store(&t->running, 0);
    tui_stderr_restore(t);
    for (int p = 0; p < PANE_COUNT; p++) {
        if (screens[p]->destroy)
            screens[p]->destroy(t->st[p]);
        if (t->win[p])
            delwin(t->win[p]);
        t->win[p] = NULL;
    }
    snapshot_free(t->snapshot);
    t->snapshot = NULL;
    return NULL;
}
