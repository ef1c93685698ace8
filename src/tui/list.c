/* list.c: the sign-in list screen: client, user, start, phase reached, verdict, coloured; filtered. */
#include <stdlib.h>
#include <string.h>

#include "lyncflow/util.h"
#include "tui_int.h"

struct list_state {
    uint32_t top; /* first row shown */
    int rows;     /* rows of the last draw */
};

static void *create(struct lf_tui *t)
{
    (void)t;
    return lf_xcalloc(1, sizeof(struct list_state));
}

static enum tui_color verdict_color(uint8_t v)
{
    return v == LF_VERDICT_COMPLETE ? C_GREEN : v == LF_VERDICT_FAILED ? C_RED : C_YELLOW;
}

static uint32_t sel_pos(const struct lf_tui *t)
{
    for (uint32_t i = 0; i < t->nvis; i++)
        if (t->vis_ids[i] == t->sel_id)
            return i;
    return 0;
}

static void draw(void *stp, struct lf_tui *t, WINDOW *w, const struct lf_model *m, int focused)
{
    struct list_state *st = stp;
    int h = getmaxy(w), cols = getmaxx(w);
    char extra[200] = "";
    if (t->filter[0])
        snprintf(extra, sizeof extra, "  filter \"%s\"", t->filter);
    if (m->dropped_signins)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), "  (%u not kept)", (unsigned)m->dropped_signins);
    tui_title(t, w, focused, "Sign-ins  %u of %u%s%s", (unsigned)t->nvis, (unsigned)m->nsignins, extra,
              t->follow && !atomic_load(&t->input_done) ? "  [following]" : "");
    st->rows = h - 2;
    if (st->rows < 1)
        return;
    /* columns; the user and the reason take what is left */
    int wid = 5, wcl = 16, wst = 9, wph = 12, wve = 11, wn = 6;
    int fixed = 1 + wid + wcl + wst + wph + wve + wn;
    int wus = cols - fixed;
    int wre = 0;
    if (wus > 44) {
        wre = wus - 28;
        wus = 28;
    }
    if (wus < 8)
        wus = 8;
    int x = 1;
    attr_t ha = A_BOLD | A_UNDERLINE;
    mvwhline(w, 1, 0, ' ', cols);
    x += tui_put(t, w, 1, x, wid, ha, "  #") + 0;
    x = 1 + wid;
    tui_put(t, w, 1, x, wcl - 1, ha, "client");
    x += wcl;
    tui_put(t, w, 1, x, wus - 1, ha, "user");
    x += wus;
    tui_put(t, w, 1, x, wst - 1, ha, "start");
    x += wst;
    tui_put(t, w, 1, x, wph - 1, ha, "phase");
    x += wph;
    tui_put(t, w, 1, x, wve - 1, ha, "verdict");
    x += wve;
    tui_put(t, w, 1, x, wn - 1, ha, "steps");
    x += wn;
    if (wre > 4)
        tui_put(t, w, 1, x, wre - 1, ha, "reason");

    if (t->nvis == 0) {
        tui_put(t, w, 2, 2, cols - 4, A_DIM,
                t->filter[0] ? "no sign-in matches the filter (Esc clears it)"
                : atomic_load(&t->input_done) ? "no sign-in in this input"
                                              : "waiting for sign-ins...");
        return;
    }
    uint32_t pos = sel_pos(t);
    if (pos < st->top)
        st->top = pos;
    if (pos >= st->top + (uint32_t)st->rows)
        st->top = pos - (uint32_t)st->rows + 1;
    if (st->top + (uint32_t)st->rows > t->nvis)
        st->top = t->nvis > (uint32_t)st->rows ? t->nvis - (uint32_t)st->rows : 0;
    for (int r = 0; r < st->rows && st->top + (uint32_t)r < t->nvis; r++) {
        uint32_t id = t->vis_ids[st->top + (uint32_t)r];
        const struct lf_signin *s = NULL;
        for (uint32_t i = m->nsignins; i-- > 0;)
            if (m->signins[i].id == id) {
                s = &m->signins[i];
                break;
            }
        if (!s)
            continue;
        int y = 2 + r;
        int sel = t->have_sel && id == t->sel_id;
        attr_t base = sel ? (focused ? A_REVERSE : A_BOLD | A_UNDERLINE) : A_NORMAL;
        if (sel) {
            wattr_set(w, base, 0, NULL);
            mvwhline(w, y, 0, ' ', cols);
            wattr_set(w, A_NORMAL, 0, NULL);
        }
        attr_t vc = tui_attr(t, verdict_color(s->verdict));
        tui_put(t, w, y, 0, 1, vc | base,
                tui_glyph(t, s->verdict == LF_VERDICT_COMPLETE ? G_CHECK
                                 : s->verdict == LF_VERDICT_FAILED ? G_FAIL : G_DOT));
        char buf[64], tbuf[32];
        x = 1;
        tui_putf(t, w, y, x, wid - 1, base, "%4u", (unsigned)s->id);
        x += wid;
        tui_put(t, w, y, x, wcl - 1, base, lf_ip_format(&s->client, buf, sizeof buf));
        x += wcl;
        tui_put(t, w, y, x, wus - 1, base, s->user[0] ? s->user : "-");
        x += wus;
        tui_put(t, w, y, x, wst - 1, base, tui_time(s->start, tbuf, sizeof tbuf, 0));
        x += wst;
        tui_put(t, w, y, x, wph - 1, base, s->phase[0] ? s->phase : "-");
        x += wph;
        tui_put(t, w, y, x, wve - 1, vc | base, lf_verdict_name(s->verdict));
        x += wve;
        tui_putf(t, w, y, x, wn - 1, base, "%u", (unsigned)s->nsteps);
        x += wn;
        if (wre > 4)
            tui_put(t, w, y, x, wre - 1, base | (s->verdict == LF_VERDICT_FAILED ? vc : A_NORMAL),
                    s->reason[0] ? s->reason : s->agent);
    }
}

static void select_pos(struct lf_tui *t, int64_t pos)
{
    if (t->nvis == 0)
        return;
    if (pos < 0)
        pos = 0;
    if (pos >= (int64_t)t->nvis)
        pos = t->nvis - 1;
    uint32_t id = t->vis_ids[pos];
    if (!t->have_sel || id != t->sel_id) {
        t->sel_id = id;
        t->have_sel = 1;
        t->sel_step = 0;
        t->step_follow = 0;
        t->detail_top = 0;
    }
    t->follow = (uint32_t)pos == t->nvis - 1 && !atomic_load(&t->input_done);
}

static int handle_key(void *stp, struct lf_tui *t, enum tui_action a)
{
    struct list_state *st = stp;
    int64_t pos = sel_pos(t), page = st->rows > 1 ? st->rows - 1 : 1;
    switch (a) {
    case ACT_UP: select_pos(t, pos - 1); break;
    case ACT_DOWN: select_pos(t, pos + 1); break;
    case ACT_PGUP: select_pos(t, pos - page); break;
    case ACT_PGDN: select_pos(t, pos + page); break;
    case ACT_TOP: select_pos(t, 0); break;
    case ACT_BOTTOM:
        select_pos(t, (int64_t)t->nvis - 1);
        t->follow = 1;
        break;
    case ACT_RIGHT:
    case ACT_ENTER:
        t->focus = PANE_LADDER;
        if (a == ACT_ENTER && !t->detail_open) {
            t->detail_open = 1;
            return TUI_HANDLED | TUI_REDRAW | TUI_RESIZE;
        }
        break;
    case ACT_FAILED:
        t->focus = PANE_LADDER;
        t->sel_step = UINT32_MAX; /* the ladder resolves it to the failed step */
        break;
    default: return 0;
    }
    return TUI_HANDLED | TUI_REDRAW;
}

static void destroy(void *st) { free(st); }

const struct tui_screen tui_list_screen = {"list", create, draw, handle_key, NULL, destroy};
