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
void lf_json_sink_free(struct lf_sink *s);

/* Prints the timeline of the model at finish. */
struct lf_sink *lf_timeline_sink_new(FILE *out, struct lf_analysis *an);
void lf_timeline_sink_free(struct lf_sink *s);
/* The same text for a model, on demand (used by the TUI's save and tests). */
void lf_timeline_write(FILE *out, const struct lf_model *m);

#endif
