/* tui_int.h: what the TUI's files share: its state, the screen interface, the event store, drawing helpers.
 *
 * Threads: the capture thread calls the sink (tui.c), which copies tls and
 * http events into a bounded store under store.lock. Everything else runs on
 * the UI thread: the manager (manager.c) owns the input loop and the layout,
 * and each pane is a screen (one file each) behind struct tui_screen. Screens
 * draw from the model the manager hands them (live, under model->lock, or a
 * paused snapshot) and keep in `struct lf_tui` only what key handlers need
 * later (ids and counts seen at the last draw), so handlers never read the
 * model.
 */
#ifndef LYNCFLOW_TUI_INT_H
#define LYNCFLOW_TUI_INT_H

#include <curses.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "lyncflow/analysis.h"
#include "lyncflow/engine.h"
#include "lyncflow/tui.h"

#define TUI_STORE_EVENTS 4096  /* full events kept for details and saves */
#define TUI_MAX_VISIBLE LF_MODEL_MAX_SIGNINS
#define TUI_MSG_LINES 64       /* stderr lines kept while the screen is up */
#define TUI_FRAME_MS 100       /* model-driven redraws at most 10 a second */

/* Flags a key handler returns to the loop. */
enum { TUI_HANDLED = 1, TUI_REDRAW = 2, TUI_RESIZE = 4, TUI_QUIT = 8 };

/* What keys mean; the key table (manager.c) maps keys to these. */
enum tui_action {
    ACT_NONE = 0, ACT_UP, ACT_DOWN, ACT_PGUP, ACT_PGDN, ACT_TOP, ACT_BOTTOM, ACT_LEFT, ACT_RIGHT, ACT_ENTER,
    ACT_BACK, ACT_NEXT_PANE, ACT_PREV_PANE, ACT_FILTER, ACT_PAUSE, ACT_SAVE, ACT_HELP, ACT_QUIT, ACT_FAILED,
};

enum tui_pane { PANE_HEADER = 0, PANE_LIST, PANE_LADDER, PANE_DETAIL, PANE_FINDINGS, PANE_HELP, PANE_COUNT };

struct lf_tui;

/* One screen (pane). draw() paints win from m; handle_key() gets actions when
 * the pane has the focus and returns TUI_* flags; state lives in st. */
struct tui_screen {
    const char *name;
    void *(*create)(struct lf_tui *t);
    void (*draw)(void *st, struct lf_tui *t, WINDOW *win, const struct lf_model *m, int focused);
    int (*handle_key)(void *st, struct lf_tui *t, enum tui_action a);
    void (*resize)(void *st, struct lf_tui *t, int h, int w);
    void (*destroy)(void *st);
};

extern const struct tui_screen tui_header_screen, tui_list_screen, tui_ladder_screen, tui_detail_screen,
    tui_findings_screen, tui_help_screen;

struct tui_slot {
    uint64_t seq; /* 0: empty */
    struct lf_event ev;
};

/* Bounded store of full events, indexed by sequence number (seq % cap). */
struct tui_store {
    pthread_mutex_t lock;
    struct tui_slot *slots;
    size_t cap;
    uint64_t seen;        /* events the sink received (the last seq) */
    uint64_t stored, overwritten;
    uint64_t flows, tls, tls_decrypting, http, http_decrypted, http_iis;
    struct lf_ev_stats counters; /* lf_tui_counters, or the final stats event */
    int have_counters;
    uint32_t counters_gen;
};

struct tui_msg {
    char text[256];
};

struct lf_tui {
    struct lf_model *model;
    struct lf_config cfg;
    char source[512];
    struct lf_sink sink;
    struct tui_store store;

    /* set from other threads */
    atomic_int quit;        /* q pressed, or a signal */
    atomic_int input_done;
    atomic_int running;     /* the UI thread is up */
    pthread_t thread;
    int started;

    /* terminal */
    FILE *tty;
    SCREEN *scr;
    int utf8, colors;
    int wake[2];            /* signal handlers write here */
    int err_pipe[2];        /* stderr while the screen is up */
    int saved_stderr;
    char err_partial[256];
    size_t err_partial_len;
    struct tui_msg msgs[TUI_MSG_LINES];
    unsigned nmsgs, msg_first; /* ring of the stderr lines */
    unsigned long msgs_lost;

    lf_tui_pcap_fn pcap_fn;
    void *pcap_ctx;
    char save_dir[256];

    /* UI state (UI thread only) */
    WINDOW *win[PANE_COUNT];
    int rows, cols;
    int focus;              /* PANE_LIST, PANE_LADDER, PANE_DETAIL or PANE_FINDINGS */
    int detail_open, help_open;
    int paused;
    struct lf_model *snapshot; /* what is shown while paused */
    uint32_t live_nsignins;    /* sign-ins in the live model, shown while paused */
    int prompt;                /* the filter line is being edited */
    char filter[128], filter_saved[128];
    char status[256];          /* a message for the status line */
    int64_t status_until_ms;
    void *st[PANE_COUNT];

    /* what the last draw saw, for key handlers */
    uint32_t *vis_ids;         /* sign-in ids shown by the list, in order */
    uint32_t nvis, total_signins;
    uint32_t sel_id;           /* selected sign-in */
    int have_sel, follow;      /* follow: keep the newest sign-in selected */
    uint32_t sel_step;         /* 0-based step of the selected sign-in */
    uint32_t nsteps;           /* steps of the selected sign-in */
    int step_follow;
    uint32_t sel_finding;
    int nfindings;
    int detail_lines, detail_top;
};

/* --- store (tui.c) --- */
/* Copies the stored event of step s into out: by seq, checked against the
 * step's kind and time; else the closest match by time and text. 0 found. */
int tui_store_step(struct lf_tui *t, const struct lf_step *s, struct lf_event *out);
/* The TLS event of flow_id, 0 found. */
int tui_store_tls(struct lf_tui *t, uint64_t flow_id, struct lf_event *out);
/* The stitched back-leg request of front (same method and uri, another flow,
 * closest in time), 0 found. */
int tui_store_back(struct lf_tui *t, const struct lf_event *front, struct lf_event *out);
void tui_store_counts(struct lf_tui *t, struct tui_store *out); /* the counters, no slots */
/* 1 once SIGINT or SIGTERM arrived while the screen was up. */
int tui_signalled(void);
/* Reads what was written to stderr meanwhile; lines become status messages. */
void tui_stderr_drain(struct lf_tui *t);
/* The real stderr back, with the lines kept meanwhile written on it. */
void tui_stderr_restore(struct lf_tui *t);

/* --- manager.c --- */
void *tui_main(void *arg);
/* The sign-in shown as selected in m, or NULL. */
const struct lf_signin *tui_selected(struct lf_tui *t, const struct lf_model *m);
/* 1 when sign-in s matches the filter words (all of them). */
int tui_filter_match(const struct lf_signin *s, const char *filter);
void tui_set_status(struct lf_tui *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The key table, for the help screen: NULL-terminated rows of key names and what they do. */
struct tui_keyhelp {
    const char *keys, *what;
};
extern const struct tui_keyhelp tui_keyhelp[];

/* --- save.c --- */
/* Saves the selected sign-in (NDJSON of its stored events, and pcap through
 * the saver); reports in the status line. */
void tui_save_selected(struct lf_tui *t);

/* --- draw.c --- */
enum tui_color { C_NONE = 0, C_RED, C_GREEN, C_YELLOW, C_CYAN, C_TITLE, C_TITLE_FOCUS, C_MAGENTA, C_HEADER };
void tui_colors_init(struct lf_tui *t);
attr_t tui_attr(const struct lf_tui *t, enum tui_color c);
/* Glyphs: UTF-8 when the locale is, ASCII otherwise. */
enum tui_glyph { G_VLINE = 0, G_HLINE, G_ARROW, G_DASH, G_CROSS, G_DOT, G_ELLIPSIS, G_CHECK, G_FAIL, G_PAUSE };
const char *tui_glyph(const struct lf_tui *t, enum tui_glyph g);
/* Writes s at (y,x), at most maxw columns: control bytes and bad UTF-8 become
 * '?', and a cut string ends with an ellipsis. Returns the columns used. */
int tui_put(struct lf_tui *t, WINDOW *w, int y, int x, int maxw, attr_t attr, const char *s);
int tui_putf(struct lf_tui *t, WINDOW *w, int y, int x, int maxw, attr_t attr, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* Columns s takes on screen (after the same substitutions). */
int tui_width(const struct lf_tui *t, const char *s);
/* A pane's title bar on row 0 of w. */
void tui_title(struct lf_tui *t, WINDOW *w, int focused, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "HH:MM:SS.mmm" (local time) into buf. */
char *tui_time(lf_time ts, char *buf, size_t size, int with_ms);
char *tui_duration(int64_t us, char *buf, size_t size);
int64_t tui_now_ms(void);

#endif
