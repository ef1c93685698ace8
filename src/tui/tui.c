/* tui.c: placeholder until the TUI lands. */
#include <stdlib.h>
#include "lyncflow/tui.h"
#include "lyncflow/util.h"
struct lf_tui { struct lf_sink sink; };
static void nop_event(void *ctx, const struct lf_event *ev) { (void)ctx; (void)ev; }
struct lf_tui *lf_tui_new(struct lf_analysis *an, const struct lf_config *cfg, const char *d) { (void)an; (void)cfg; (void)d; struct lf_tui *t = lf_xcalloc(1, sizeof *t); t->sink.event = nop_event; return t; }
struct lf_sink *lf_tui_sink(struct lf_tui *t) { return &t->sink; }
int lf_tui_start(struct lf_tui *t) { (void)t; return -1; }
void lf_tui_input_done(struct lf_tui *t) { (void)t; }
int lf_tui_quit_requested(const struct lf_tui *t) { (void)t; return 0; }
void lf_tui_join(struct lf_tui *t) { (void)t; }
void lf_tui_free(struct lf_tui *t) { free(t); }
