/* tui.h: the live ncurses timeline of sign-ins.
 *
 * The TUI runs on its own thread and reads the analysis model under its lock,
 * at most about ten times a second; capture and analysis never wait for it.
 * It is also a sink: it keeps the full events of the steps it may show in
 * detail, in a bounded store. Screens live in src/tui/, one file each.
 */
#ifndef LYNCFLOW_TUI_H
#define LYNCFLOW_TUI_H

#include "lyncflow/analysis.h"
#include "lyncflow/engine.h"

struct lf_tui;

/* source_desc: "file x.pcap" or "live eth0 (filter ...)". */
struct lf_tui *lf_tui_new(struct lf_analysis *an, const struct lf_config *cfg, const char *source_desc);
/* The sink the analysis forwards to. */
struct lf_sink *lf_tui_sink(struct lf_tui *t);
/* Starts the UI thread. 0 ok, -1 when no terminal. */
int lf_tui_start(struct lf_tui *t);
/* Tells the TUI the input ended (the screen stays until q). */
void lf_tui_input_done(struct lf_tui *t);
/* Non-zero once the user asked to quit (q); the capture loop stops then. */
int lf_tui_quit_requested(const struct lf_tui *t);
/* Waits for the UI thread to end (after q) and restores the terminal. */
void lf_tui_join(struct lf_tui *t);
void lf_tui_free(struct lf_tui *t);

#endif
