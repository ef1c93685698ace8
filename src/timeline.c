/* timeline.c: placeholder until the timeline lands. */
#include <stdlib.h>
#include "lyncflow/sinks.h"
#include "lyncflow/util.h"
static void nop_event(void *ctx, const struct lf_event *ev) { (void)ctx; (void)ev; }
struct lf_sink *lf_timeline_sink_new(FILE *out, struct lf_analysis *an) { (void)out; (void)an; struct lf_sink *s = lf_xcalloc(1, sizeof *s); s->event = nop_event; return s; }
void lf_timeline_sink_free(struct lf_sink *s) { free(s); }
void lf_timeline_write(FILE *out, const struct lf_model *m) { (void)out; (void)m; }
