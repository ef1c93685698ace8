/* sinks.h: where events are written: NDJSON and the text timeline.
 *
 * A sink receives enriched events (struct lf_sink). The JSON sink writes one
 * object a line as events arrive, with the field names of design.md. The
 * timeline sink prints, at finish, each sign-in step by step from the
 * analysis model, then the findings. Both write to a FILE they own when
 * they opened it ("-" is stdout).
 */
#ifndef LYNCFLOW_SINKS_H
#define LYNCFLOW_SINKS_H

#include <stdio.h>

#include "lyncflow/analysis.h"
#include "lyncflow/event.h"

/* Formats one event as a JSON object (no newline) into buf; returns the
 * length written (truncated objects are never produced: -1 when too small). */
int lf_event_to_json(const struct lf_event *ev, char *buf, size_t size);
/* A buffer size that always holds ev's object and its NUL. */
size_t lf_event_json_size(const struct lf_event *ev);

/* path "-" is stdout. NULL with err on failure to open. */
struct lf_sink *lf_json_sink_new(const char *path, char *err, size_t errsize);
/* Live runs: every line is written (fflush) as its event comes, so a follower of the file sees it at once. */
void lf_json_sink_live(struct lf_sink *s);
/* The file is opened again by its name (appending) before the next line: SIGHUP after logrotate. Safe from a
 * signal handler. Nothing for stdout. */
void lf_json_sink_reopen(struct lf_sink *s);
void lf_json_sink_free(struct lf_sink *s);

/* What the summary says of TLS besides the stats' counters. */
struct lf_summary_tls {
    int have_secrets;      /* a key log, an RSA key or pcapng secrets were given */
    size_t unsupported;    /* handshakes whose suite or version cannot be decrypted */
    size_t rsa_mismatches; /* pre-master secrets for none of the RSA keys */
};
/* The run in a few lines at finish: what was read, sign-ins by verdict (the failed ones named), findings by
 * severity and code, and what was not decrypted and why (tls is read at finish). For runs that asked for no
 * output. */
struct lf_sink *lf_summary_sink_new(FILE *out, struct lf_analysis *an, const struct lf_summary_tls *tls);
void lf_summary_sink_free(struct lf_sink *s);

/* Prints the timeline of the model at finish. */
struct lf_sink *lf_timeline_sink_new(FILE *out, struct lf_analysis *an);
void lf_timeline_sink_free(struct lf_sink *s);
/* The same text for a model, on demand (used by the TUI's save and tests). */
void lf_timeline_write(FILE *out, const struct lf_model *m);

#endif
