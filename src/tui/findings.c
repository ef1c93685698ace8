/* findings.c: the findings screen: what in the publishing is wrong, by severity, with its subject and message. */
#include <stdlib.h>

#include "lyncflow/util.h"
#include "tui_int.h"

struct findings_state {
    int top, rows;
};

static void *create(struct lf_tui *t)
{
    (void)t;
    return lf_xcalloc(1, sizeof(struct findings_state));
}

static void draw(void *stp, struct lf_tui *t, WINDOW *w, const struct lf_model *m, int focused)
{
    struct findings_state *st = stp;
    int h = getmaxy(w), cols = getmaxx(w);
    int errors = 0, warnings = 0;
    for (int i = 0; i < m->nfindings; i++) {
        errors += m->findings[i].severity == LF_SEV_ERROR;
        warnings += m->findings[i].severity == LF_SEV_WARNING;
    }
    tui_title(t, w, focused, "Findings  %d (%d errors, %d warnings)", m->nfindings, errors, warnings);
    t->nfindings = m->nfindings;
    st->rows = h - 1;
    if (m->nfindings == 0) {
        tui_put(t, w, 1, 2, cols - 4, A_DIM,
                atomic_load(&t->input_done) ? "no finding" : "none yet (most are made at the end of the input)");
        return;
    }
    if ((int)t->sel_finding >= m->nfindings)
        t->sel_finding = (uint32_t)m->nfindings - 1;
    int sel = (int)t->sel_finding;
    if (sel < st->top)
        st->top = sel;
    if (sel >= st->top + st->rows)
        st->top = sel - st->rows + 1;
    for (int r = 0; r < st->rows && st->top + r < m->nfindings; r++) {
        const struct lf_ev_finding *f = &m->findings[st->top + r];
        int y = 1 + r, is_sel = st->top + r == sel && focused;
        attr_t sa = f->severity == LF_SEV_ERROR     ? tui_attr(t, C_RED)
                    : f->severity == LF_SEV_WARNING ? tui_attr(t, C_YELLOW)
                                                    : tui_attr(t, C_CYAN);
        attr_t base = is_sel ? A_REVERSE : A_NORMAL;
        if (is_sel)
            mvwchgat(w, y, 0, -1, A_REVERSE, 0, NULL);
        int x = 1;
        x += tui_putf(t, w, y, x, 8, sa | base, "%-7s", lf_severity_name(f->severity)) + 1;
        x += tui_putf(t, w, y, x, 30, A_BOLD | base, "%s", f->code) + 2;
        if (f->subject[0])
            x += tui_putf(t, w, y, x, cols - x - 1 > 40 ? 40 : cols - x - 1, base, "%s", f->subject) + 2;
        if (x < cols - 1)
            tui_put(t, w, y, x, cols - x - 1, base | A_DIM, f->message);
    }
}

static int handle_key(void *stp, struct lf_tui *t, enum tui_action a)
{
    struct findings_state *st = stp;
    int64_t pos = t->sel_finding, n = t->nfindings, page = st->rows > 1 ? st->rows - 1 : 1;
    switch (a) {
    case ACT_UP: pos--; break;
    case ACT_DOWN: pos++; break;
    case ACT_PGUP: pos -= page; break;
    case ACT_PGDN: pos += page; break;
    case ACT_TOP: pos = 0; break;
    case ACT_BOTTOM: pos = n - 1; break;
    case ACT_LEFT: t->focus = PANE_LADDER; return TUI_HANDLED | TUI_REDRAW;
    default: return 0;
    }
    if (pos >= n)
        pos = n - 1;
    if (pos < 0)
        pos = 0;
    t->sel_finding = (uint32_t)pos;
    return TUI_HANDLED | TUI_REDRAW;
}

static void destroy(void *st) { free(st); }

const struct tui_screen tui_findings_screen = {"findings", create, draw, handle_key, NULL, destroy};
