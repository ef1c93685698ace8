/* ladder.c: the ladder screen: the selected sign-in, one row per step across
 * client | listener(s) | Director | Front End.
 *
 * A row is: time, the arrow from the client through the listener to the
 * server that answered (dashed where the back leg was not seen, i.e. not
 * stitched), method and path (or TLS and the SNI when nothing was
 * decrypted), status and latency. Failed steps are red, 401 challenges dim.
 */
#include <stdlib.h>
#include <string.h>

#include "lyncflow/util.h"
#include "tui_int.h"

#define MAX_LANES 8
#define MAX_LISTENER_LANES 3

enum lane_kind { LANE_CLIENT, LANE_LISTENER, LANE_DIRECTOR, LANE_FRONTEND, LANE_OTHER };

struct lane {
    int kind;
    char label[64], shortl[64];
    char name[64]; /* listener name for listener lanes */
    char sub[96];  /* address or server names */
    int x;
};

struct ladder_state {
    uint32_t top;
    int rows;
};

static void *create(struct lf_tui *t)
{
    (void)t;
    return lf_xcalloc(1, sizeof(struct ladder_state));
}

static void add_sub(char *sub, size_t size, const char *name)
{
    if (!name[0])
        return;
    /* already there? */
    size_t n = strlen(name);
    for (const char *p = sub; (p = strstr(p, name)) != NULL; p += n)
        if ((p == sub || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
            return;
    size_t l = strlen(sub);
    snprintf(sub + l, size - l, "%s%s", l ? "," : "", name);
}

static int build_lanes(const struct lf_model *m, const struct lf_signin *s, struct lane *lanes)
{
    int n = 0;
    char buf[64];
    memset(lanes, 0, sizeof(struct lane) * MAX_LANES);
    lanes[n].kind = LANE_CLIENT;
    LF_SET(lanes[n].label, "client");
    LF_SET(lanes[n].shortl, "cli");
    LF_SET(lanes[n].sub, lf_ip_format(&s->client, buf, sizeof buf));
    n++;
    int first_listener = n, other = 0;
    for (uint32_t i = 0; i < s->nsteps; i++) {
        const struct lf_step *st = &s->steps[i];
        if (st->role == LF_ROLE_EDGE || st->role == LF_ROLE_OTHER || (st->role == LF_ROLE_NONE && st->server[0]))
            other = 1;
        if (!st->listener[0])
            continue;
        int k;
        for (k = first_listener; k < n; k++)
            if (strcmp(lanes[k].name, st->listener) == 0)
                break;
        if (k < n)
            continue;
        if (n - first_listener == MAX_LISTENER_LANES) {
            /* more listeners than lanes: the last lane carries the rest */
            LF_SET(lanes[n - 1].label, "listeners");
            add_sub(lanes[n - 1].sub, sizeof lanes[n - 1].sub, st->listener);
            continue;
        }
        lanes[n].kind = LANE_LISTENER;
        LF_SET(lanes[n].name, st->listener);
        LF_SET(lanes[n].label, st->listener);
        /* "listener-dir" -> "dir" when the lane is narrow */
        const char *sh = st->listener;
        static const char *const prefixes[] = {"listener-", "listener_", "listener", "lst-", "lst_"};
        for (size_t k = 0; k < sizeof prefixes / sizeof prefixes[0]; k++)
            if (lf_strcaseprefix(sh, prefixes[k]) && sh[strlen(prefixes[k])]) {
                sh += strlen(prefixes[k]);
                break;
            }
        LF_SET(lanes[n].shortl, sh);
        LF_SET(lanes[n].sub, "listener");
        for (int l = 0; l < m->nlisteners; l++)
            if (strcmp(m->listeners[l].name, st->listener) == 0 && m->listeners[l].addr.family)
                lf_ip_format(&m->listeners[l].addr, lanes[n].sub, sizeof lanes[n].sub);
        n++;
    }
    if (n == first_listener) {
        lanes[n].kind = LANE_LISTENER;
        LF_SET(lanes[n].label, "proxy");
        LF_SET(lanes[n].shortl, "rp");
        LF_SET(lanes[n].sub, "listener");
        n++;
    }
    lanes[n].kind = LANE_DIRECTOR;
    LF_SET(lanes[n].label, "Director");
    LF_SET(lanes[n].shortl, "Dir");
    n++;
    lanes[n].kind = LANE_FRONTEND;
    LF_SET(lanes[n].label, "Front End");
    LF_SET(lanes[n].shortl, "FE");
    n++;
    if (other) {
        lanes[n].kind = LANE_OTHER;
        LF_SET(lanes[n].label, "other");
        LF_SET(lanes[n].shortl, "oth");
        n++;
    }
    for (uint32_t i = 0; i < s->nsteps; i++) {
        const struct lf_step *st = &s->steps[i];
        int kind = st->role == LF_ROLE_DIRECTOR ? LANE_DIRECTOR : st->role == LF_ROLE_FRONTEND ? LANE_FRONTEND
                   : st->server[0] ? LANE_OTHER : -1;
        for (int k = 0; k < n && kind >= 0; k++)
            if (lanes[k].kind == kind)
                add_sub(lanes[k].sub, sizeof lanes[k].sub, st->server);
    }
    return n;
}

static int lane_of_listener(const struct lane *lanes, int n, const char *name)
{
    int last = -1;
    for (int k = 0; k < n; k++) {
        if (lanes[k].kind != LANE_LISTENER)
            continue;
        if (last < 0 || strcmp(lanes[k].name, name) == 0 || strcmp(lanes[k].label, "listeners") == 0)
            last = k;
        if (strcmp(lanes[k].name, name) == 0)
            return k;
    }
    return last;
}

static int lane_of_server(const struct lane *lanes, int n, const struct lf_step *st)
{
    int kind = st->role == LF_ROLE_DIRECTOR ? LANE_DIRECTOR : st->role == LF_ROLE_FRONTEND ? LANE_FRONTEND
               : (st->role == LF_ROLE_EDGE || st->role == LF_ROLE_OTHER || st->server[0]) ? LANE_OTHER : -1;
    for (int k = 0; k < n; k++)
        if (lanes[k].kind == kind)
            return k;
    return -1;
}

static void status_text(const struct lf_step *st, char *buf, size_t size)
{
    if (st->kind == LF_EV_TLS) {
        if (st->alert_from)
            snprintf(buf, size, "alert %u", (unsigned)st->alert_desc);
        else
            lf_strlcpy(buf, "tls", size);
    } else if (!st->status) {
        lf_strlcpy(buf, "---", size);
    } else if (st->substatus) {
        snprintf(buf, size, "%u.%u", (unsigned)st->status, (unsigned)st->substatus);
    } else {
        snprintf(buf, size, "%u", (unsigned)st->status);
    }
}

/* The row index the selection means: UINT32_MAX asks for the failed step. */
static uint32_t resolve_sel(struct lf_tui *t, const struct lf_signin *s)
{
    if (t->sel_step == UINT32_MAX) {
        uint32_t f = 0;
        if (s->failed_step && s->failed_step <= s->nsteps)
            f = s->failed_step - 1;
        else
            for (uint32_t i = 0; i < s->nsteps; i++)
                if (s->steps[i].failed) {
                    f = i;
                    break;
                }
        t->sel_step = f;
        t->step_follow = 0;
    }
    if (t->step_follow && s->nsteps)
        t->sel_step = s->nsteps - 1;
    if (s->nsteps && t->sel_step >= s->nsteps)
        t->sel_step = s->nsteps - 1;
    return t->sel_step;
}

static void draw(void *stp, struct lf_tui *t, WINDOW *w, const struct lf_model *m, int focused)
{
    struct ladder_state *st = stp;
    int h = getmaxy(w), cols = getmaxx(w);
    const struct lf_signin *s = tui_selected(t, m);
    if (!s) {
        tui_title(t, w, focused, "Ladder");
        t->nsteps = 0;
        tui_put(t, w, 2, 2, cols - 4, A_DIM, "no sign-in selected");
        return;
    }
    char cbuf[64];
    tui_title(t, w, focused, "Ladder  #%u %s %s  %s%s%s", (unsigned)s->id, s->user[0] ? s->user : "-",
              lf_ip_format(&s->client, cbuf, sizeof cbuf), lf_verdict_name(s->verdict), s->reason[0] ? ": " : "",
              s->reason);
    if (s->verdict == LF_VERDICT_FAILED)
        mvwchgat(w, 0, 0, -1, A_BOLD, t->colors ? C_RED : 0, NULL);
    t->nsteps = s->nsteps;
    uint32_t sel = resolve_sel(t, s);

    struct lane lanes[MAX_LANES];
    int n = build_lanes(m, s, lanes);
    /* geometry: time | lanes | text | status latency */
    int xl = 13, wstat = 13;
    int avail = cols - xl - wstat;
    int text_min = cols < 100 ? avail * 3 / 5 : avail / 2;
    if (text_min < 24)
        text_min = 24;
    int spacing = (avail - text_min) / (n > 1 ? n - 1 : 1);
    if (spacing > 18)
        spacing = 18;
    if (spacing < 5)
        spacing = 5;
    for (int k = 0; k < n; k++)
        lanes[k].x = xl + 1 + k * spacing;
    int half = tui_width(t, lanes[n - 1].label) / 2 + 2;
    int xt = lanes[n - 1].x + (half > 3 && half < spacing / 2 + 2 ? half : 3);
    int wt = cols - wstat - xt - 1;
    /* lane labels: names on row 1, servers/addresses on row 2 */
    for (int k = 0; k < n; k++) {
        const char *lab = tui_width(t, lanes[k].label) < spacing ? lanes[k].label : lanes[k].shortl;
        int lw = tui_width(t, lab);
        int x = lanes[k].x - lw / 2;
        if (x < xl)
            x = xl;
        attr_t a = A_BOLD | (lanes[k].kind == LANE_DIRECTOR ? tui_attr(t, C_MAGENTA)
                             : lanes[k].kind == LANE_FRONTEND ? tui_attr(t, C_CYAN) : A_NORMAL);
        tui_put(t, w, 1, x, spacing - 1, a, lab);
        const char *sub = lanes[k].sub[0] ? lanes[k].sub : "-";
        int sw = tui_width(t, sub);
        if (sw > spacing - 1)
            sw = spacing - 1;
        x = lanes[k].x - sw / 2;
        if (x < 0)
            x = 0;
        tui_put(t, w, 2, x, sw, A_DIM, sub);
    }
    tui_put(t, w, 1, 0, xl - 1, A_BOLD, "time");
    if (wt > 6)
        tui_put(t, w, 1, xt, wt, A_BOLD, "request (or TLS name)");
    tui_put(t, w, 1, cols - wstat, wstat, A_BOLD, "status  took");

    st->rows = h - 3;
    if (st->rows < 1)
        return;
    if (sel < st->top)
        st->top = sel;
    if (sel >= st->top + (uint32_t)st->rows)
        st->top = sel - (uint32_t)st->rows + 1;
    if (st->top + (uint32_t)st->rows > s->nsteps)
        st->top = s->nsteps > (uint32_t)st->rows ? s->nsteps - (uint32_t)st->rows : 0;
    if (s->nsteps == 0)
        tui_put(t, w, 3, xt, wt, A_DIM, "no step yet");
    for (int r = 0; r < st->rows; r++) {
        int y = 3 + r;
        uint32_t i = st->top + (uint32_t)r;
        if (i >= s->nsteps)
            break;
        for (int k = 0; k < n; k++)
            tui_put(t, w, y, lanes[k].x, 1, A_DIM, tui_glyph(t, G_VLINE));
        const struct lf_step *p = &s->steps[i];
        int is_sel = i == sel;
        attr_t a = p->failed ? tui_attr(t, C_RED) : p->challenge ? A_DIM : A_NORMAL;
        attr_t rowa = a | (is_sel ? (focused ? A_REVERSE : A_UNDERLINE | A_BOLD) : A_NORMAL);
        if (is_sel) {
            wattr_set(w, rowa, PAIR_NUMBER(rowa), NULL);
            mvwhline(w, y, 0, ' ', cols);
            wattr_set(w, A_NORMAL, 0, NULL);
            for (int k = 0; k < n; k++)
                tui_put(t, w, y, lanes[k].x, 1, rowa, tui_glyph(t, G_VLINE));
        }
        char tb[32];
        tui_put(t, w, y, 0, xl - 1, rowa, tui_time(p->ts, tb, sizeof tb, 1));
        int lst = lane_of_listener(lanes, n, p->listener);
        int srv = lane_of_server(lanes, n, p);
        int src = p->from_iis ? lst : 0;
        int via = p->from_iis ? -1 : lst;
        int dst = srv >= 0 ? srv : lst;
        attr_t arrow = rowa | (p->failed ? 0 : lanes[dst].kind == LANE_DIRECTOR ? tui_attr(t, C_MAGENTA)
                                  : lanes[dst].kind == LANE_FRONTEND ? tui_attr(t, C_CYAN) : 0);
        for (int x = lanes[src].x + 1; x < lanes[dst].x - 1; x++) {
            int back = via >= 0 && x > lanes[via].x;
            const char *g = back && !p->stitched ? tui_glyph(t, G_DASH)
                            : p->from_iis ? tui_glyph(t, G_DASH) : tui_glyph(t, G_HLINE);
            tui_put(t, w, y, x, 1, arrow, g);
        }
        if (via >= 0 && via != dst && via != src)
            tui_put(t, w, y, lanes[via].x, 1, arrow, tui_glyph(t, G_CROSS));
        if (lanes[dst].x - 1 > lanes[src].x)
            tui_put(t, w, y, lanes[dst].x - 1, 1, arrow, tui_glyph(t, G_ARROW));
        /* what */
        char what[300];
        if (p->kind == LF_EV_TLS)
            snprintf(what, sizeof what, "TLS %s", p->what[0] ? p->what : p->host);
        else
            snprintf(what, sizeof what, "%s %s", p->method, p->what);
        int used = tui_put(t, w, y, xt, wt, rowa, what);
        if (p->kind == LF_EV_HTTP && p->host[0] && wt - used > 12)
            tui_putf(t, w, y, xt + used, wt - used, rowa | A_DIM, "  %s", p->host);
        char sb[32], db[32];
        status_text(p, sb, sizeof sb);
        tui_put(t, w, y, cols - wstat, 7, rowa | (p->failed ? A_BOLD : 0), sb);
        tui_put(t, w, y, cols - wstat + 7, wstat - 7, rowa, tui_duration(p->duration_us, db, sizeof db));
    }
    if (s->dropped_steps)
        tui_putf(t, w, h - 1, cols - 30, 29, A_DIM, "(%u steps not kept)", (unsigned)s->dropped_steps);
}

static int handle_key(void *stp, struct lf_tui *t, enum tui_action a)
{
    struct ladder_state *st = stp;
    int64_t pos = t->sel_step == UINT32_MAX ? 0 : t->sel_step;
    int64_t page = st->rows > 1 ? st->rows - 1 : 1, n = t->nsteps;
    switch (a) {
    case ACT_UP: pos--; break;
    case ACT_DOWN: pos++; break;
    case ACT_PGUP: pos -= page; break;
    case ACT_PGDN: pos += page; break;
    case ACT_TOP: pos = 0; break;
    case ACT_BOTTOM: pos = n - 1; break;
    case ACT_FAILED:
        t->sel_step = UINT32_MAX;
        t->detail_top = 0;
        return TUI_HANDLED | TUI_REDRAW;
    case ACT_LEFT: t->focus = PANE_LIST; return TUI_HANDLED | TUI_REDRAW;
    case ACT_ENTER:
    case ACT_RIGHT:
        if (!t->detail_open) {
            t->detail_open = 1;
            return TUI_HANDLED | TUI_REDRAW | TUI_RESIZE;
        }
        if (a == ACT_RIGHT)
            t->focus = PANE_DETAIL;
        return TUI_HANDLED | TUI_REDRAW;
    default: return 0;
    }
    if (pos >= n)
        pos = n - 1;
    if (pos < 0)
        pos = 0;
    t->sel_step = (uint32_t)pos;
    t->step_follow = n > 0 && pos == n - 1 && a == ACT_BOTTOM;
    t->detail_top = 0;
    return TUI_HANDLED | TUI_REDRAW;
}

static void destroy(void *st) { free(st); }

const struct tui_screen tui_ladder_screen = {"ladder", create, draw, handle_key, NULL, destroy};
