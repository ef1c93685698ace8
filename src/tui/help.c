/* help.c: the help screen: the key table and what the colours and arrows mean. */
#include "tui_int.h"

static void draw(void *st, struct lf_tui *t, WINDOW *w, const struct lf_model *m, int focused)
{
    (void)st;
    (void)m;
    (void)focused;
    int h = getmaxy(w), cols = getmaxx(w);
    box(w, 0, 0);
    tui_put(t, w, 0, 2, cols - 4, A_BOLD, " lyncflow: keys (any key closes) ");
    int y = 1;
    for (int i = 0; tui_keyhelp[i].keys && y < h - 1; i++, y++) {
        tui_put(t, w, y, 2, 24, A_BOLD, tui_keyhelp[i].keys);
        tui_put(t, w, y, 27, cols - 29, A_NORMAL, tui_keyhelp[i].what);
    }
    if (y + 6 >= h)
        return;
    y++;
    tui_put(t, w, y++, 2, cols - 4, A_BOLD, "Ladder");
    tui_putf(t, w, y++, 2, cols - 4, A_NORMAL, "%s%s%s%s  request through the listener to the server that answered",
             tui_glyph(t, G_HLINE), tui_glyph(t, G_CROSS), tui_glyph(t, G_HLINE), tui_glyph(t, G_ARROW));
    tui_putf(t, w, y++, 2, cols - 4, A_NORMAL, "%s%s%s%s  back leg not seen: the server comes from the topology",
             tui_glyph(t, G_HLINE), tui_glyph(t, G_CROSS), tui_glyph(t, G_DASH), tui_glyph(t, G_ARROW));
    tui_put(t, w, y++, 2, cols - 4, tui_attr(t, C_RED), "red: the step where the sign-in failed");
    tui_put(t, w, y++, 2, cols - 4, A_DIM, "dim: a 401 that belongs to a normal authentication round trip");
    if (y < h - 1)
        tui_put(t, w, y++, 2, cols - 4, A_NORMAL,
                "TLS <name>: nothing decrypted on that connection; status 'tls' or the alert");
}

const struct tui_screen tui_help_screen = {"help", NULL, draw, NULL, NULL, NULL};
