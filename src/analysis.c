/* analysis.c: placeholder until the analysis lands: forwards events to sinks. */
#include <stdlib.h>
#include "lyncflow/analysis.h"
#include "lyncflow/util.h"
struct lf_analysis { struct lf_sink sinks[8]; int nsinks; struct lf_model model; struct lf_topology topo; };
struct lf_analysis *lf_analysis_new(const struct lf_topology *topo) { struct lf_analysis *a = lf_xcalloc(1, sizeof *a); if (topo) a->topo = *topo; a->model.topo = &a->topo; return a; }
void lf_analysis_add_sink(struct lf_analysis *an, const struct lf_sink *s) { if (an->nsinks < 8) an->sinks[an->nsinks++] = *s; }
void lf_analysis_event(struct lf_analysis *an, struct lf_event *ev) { for (int i = 0; i < an->nsinks; i++) an->sinks[i].event(an->sinks[i].ctx, ev); }
void lf_analysis_emit(void *an, struct lf_event *ev) { lf_analysis_event(an, ev); }
void lf_analysis_finish(struct lf_analysis *an, const struct lf_ev_stats *stats)
{ struct lf_event ev; lf_event_init(&ev, LF_EV_STATS, 0); ev.u.stats = *stats; lf_analysis_event(an, &ev); for (int i = 0; i < an->nsinks; i++) if (an->sinks[i].finish) an->sinks[i].finish(an->sinks[i].ctx); }
struct lf_model *lf_analysis_model(struct lf_analysis *an) { return &an->model; }
const struct lf_topology *lf_analysis_topology(struct lf_analysis *an) { return &an->topo; }
void lf_analysis_free(struct lf_analysis *an) { free(an); }
