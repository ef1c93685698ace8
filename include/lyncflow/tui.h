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

/* source_desc: "file x.pcap" or "live eth0 (filter ...)". cfg is copied
 * (the strings it points to must outlive the TUI). */
struct lf_tui *lf_tui_new(struct lf_analysis *an, const struct lf_config *cfg, const char *source_desc);
/* The same on a model the caller owns and fills (tests, tools); model->lock
 * must be initialised. */
struct lf_tui *lf_tui_new_model(struct lf_model *model, const struct lf_config *cfg, const char *source_desc);
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

/* Live counters for the header (packets, flows, drops...): a copy is taken
 * under a short lock. Call it now and then from the capture loop. */
void lf_tui_counters(struct lf_tui *t, const struct lf_ev_stats *s);

/* `s` saves the selected sign-in; its packets are written by whoever owns the
 * capture, through this function (the UI never touches libpcap): write the
 * frames matching bpf to path; returns the number of frames, or -1 with err.
 * Without one, `s` saves NDJSON only and says why. Called on the UI thread. */
typedef long (*lf_tui_pcap_fn)(void *ctx, const char *bpf, const char *path, char *err, size_t errsize);
void lf_tui_set_pcap_saver(struct lf_tui *t, lf_tui_pcap_fn fn, void *ctx);
/* Where `s` writes (default "."). */
void lf_tui_set_save_dir(struct lf_tui *t, const char *dir);

#endif
