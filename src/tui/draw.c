/* draw.c: the TUI's drawing helpers: colours, glyphs, safe text output (UTF-8, control bytes, cutting), times. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>
#include <wctype.h>

#include "lyncflow/util.h"
#include "tui_int.h"

void tui_colors_init(struct lf_tui *t)
{
    t->colors = has_colors();
    if (!t->colors)
        return;
    start_color();
    int bg = use_default_colors() == OK ? -1 : COLOR_BLACK;
    init_pair(C_RED, COLOR_RED, bg);
    init_pair(C_GREEN, COLOR_GREEN, bg);
    init_pair(C_YELLOW, COLOR_YELLOW, bg);
    init_pair(C_CYAN, COLOR_CYAN, bg);
    init_pair(C_TITLE, COLOR_BLACK, COLOR_WHITE);
    init_pair(C_TITLE_FOCUS, COLOR_BLACK, COLOR_CYAN);
    init_pair(C_MAGENTA, COLOR_MAGENTA, bg);
    init_pair(C_HEADER, COLOR_WHITE, COLOR_BLUE);
}

attr_t tui_attr(const struct lf_tui *t, enum tui_color c)
{
    if (c == C_NONE)
        return A_NORMAL;
    if (t->colors)
        return COLOR_PAIR(c) | (c == C_RED ? A_BOLD : A_NORMAL);
    switch (c) {
    case C_RED: return A_BOLD;
    case C_TITLE: return A_REVERSE;
    case C_TITLE_FOCUS: return A_REVERSE | A_BOLD;
    case C_HEADER: return A_REVERSE;
    default: return A_NORMAL;
    }
}

static const char *const glyph_utf8[] = {"\u2502", "\u2500", "\u25b6", "\u254c", "\u253c", "\u25cf", "\u2026",
                                          "\u2713", "\u2717", "\u2016"};
static const char *const glyph_ascii[] = {"|", "-", ">", ".", "+", "*", "~", "+", "x", "="};

const char *tui_glyph(const struct lf_tui *t, enum tui_glyph g)
{
    return t->utf8 ? glyph_utf8[g] : glyph_ascii[g];
}

/* Decodes s into printable wide characters of at most maxw columns; sets *cut
 * when s did not fit. Returns the count of wide characters. */
static size_t to_wide(const struct lf_tui *t, const char *s, int maxw, wchar_t *out, size_t outcap, int *used,
                      int *cut)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t n = 0, len = strlen(s);
    int w = 0;
    *cut = 0;
    while (len && n + 1 < outcap) {
        wchar_t wc;
        size_t k;
        if (t->utf8) {
            k = mbrtowc(&wc, s, len, &st);
            if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
                memset(&st, 0, sizeof st);
                wc = L'?';
                k = 1;
            }
        } else {
            unsigned char c = (unsigned char)*s;
            wc = c < 0x80 ? (wchar_t)c : L'?';
            k = 1;
        }
        int cw = t->utf8 ? wcwidth(wc) : 1;
        if (!iswprint((wint_t)wc) || cw < 0) {
            wc = L'?';
            cw = 1;
        }
        if (w + cw > maxw) {
            *cut = 1;
            break;
        }
        out[n++] = wc;
        w += cw;
        s += k;
        len -= k;
    }
    if (len && !*cut)
        *cut = 1;
    out[n] = 0;
    *used = w;
    return n;
}

int tui_width(const struct lf_tui *t, const char *s)
{
    wchar_t buf[1024];
    int used, cut;
    to_wide(t, s, 100000, buf, sizeof buf / sizeof buf[0], &used, &cut);
    return used;
}

int tui_put(struct lf_tui *t, WINDOW *w, int y, int x, int maxw, attr_t attr, const char *s)
{
    wchar_t buf[1024];
    int used, cut;
    if (maxw <= 0 || y < 0 || x < 0)
        return 0;
    size_t n = to_wide(t, s, maxw, buf, sizeof buf / sizeof buf[0], &used, &cut);
    if (cut && maxw >= 2) {
        /* make room for the ellipsis */
        n = to_wide(t, s, maxw - 1, buf, sizeof buf / sizeof buf[0], &used, &cut);
        buf[n++] = t->utf8 ? L'\u2026' : L'~';
        buf[n] = 0;
        used++;
    }
    wattr_set(w, attr, PAIR_NUMBER(attr), NULL);
    mvwaddnwstr(w, y, x, buf, (int)n);
    wattr_set(w, A_NORMAL, 0, NULL);
    return used;
}

int tui_putf(struct lf_tui *t, WINDOW *w, int y, int x, int maxw, attr_t attr, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return tui_put(t, w, y, x, maxw, attr, buf);
}

void tui_title(struct lf_tui *t, WINDOW *w, int focused, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    int cols = getmaxx(w);
    attr_t a = tui_attr(t, focused ? C_TITLE_FOCUS : C_TITLE) | (focused ? A_BOLD : A_NORMAL);
    wattr_set(w, a, PAIR_NUMBER(a), NULL);
    mvwhline(w, 0, 0, ' ', cols);
    wattr_set(w, A_NORMAL, 0, NULL);
    tui_put(t, w, 0, 1, cols - 2, a, buf);
}

char *tui_time(lf_time ts, char *buf, size_t size, int with_ms)
{
    time_t s = (time_t)(ts / 1000000);
    struct tm tm;
    if (!localtime_r(&s, &tm)) {
        lf_strlcpy(buf, "?", size);
        return buf;
    }
    if (with_ms)
        snprintf(buf, size, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec, (int)((ts % 1000000) / 1000));
    else
        snprintf(buf, size, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

char *tui_duration(int64_t us, char *buf, size_t size)
{
    if (us < 0)
        lf_strlcpy(buf, "", size);
    else if (us < 1000)
        snprintf(buf, size, "%dus", (int)us);
    else if (us < 10000000)
        snprintf(buf, size, "%dms", (int)(us / 1000));
    else
        snprintf(buf, size, "%llds", (long long)(us / 1000000));
    return buf;
}

int64_t tui_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
