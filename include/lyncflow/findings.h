/* findings.h: publishing mistakes named from what the analysis observed (domain.md §6).
 *
 * The analysis hands every enriched event it releases to lf_findings_observe
 * with where it was seen (front: client -> listener, back: proxy -> server or
 * an IIS log line) and which model nodes it concerns. The findings keep small
 * bounded counters, and lf_findings_eval turns them, plus the model's sign-ins,
 * into the model's findings list (replacing it) and marks the paths they
 * concern. Codes: director-unpublished, frontend-unpublished,
 * simple-url-not-director, bridge-internal-port, san-mismatch, tls-alert,
 * auth-401-loop, ntlm-split, longpoll-cut.
 */
#ifndef LYNCFLOW_FINDINGS_H
#define LYNCFLOW_FINDINGS_H

#include "lyncflow/analysis.h"

enum lf_side { LF_SIDE_NONE = 0, LF_SIDE_FRONT, LF_SIDE_BACK };

struct lf_obs {
    const struct lf_event *ev;
    enum lf_side side;
    int listener;      /* model listener index, -1 unknown */
    int server;        /* model server index of the server that answered (back leg, stitched, IIS), -1 */
    int named_server;  /* front: the model server the name is published to, -1 */
    const char *name;  /* SNI or Host, "" when none */
    int failed;        /* the request or connection failed (status, alert, reset, no answer) */
    const char *reason;/* why, when failed */
};

struct lf_findings;

struct lf_findings *lf_findings_new(void);
void lf_findings_free(struct lf_findings *f);
void lf_findings_observe(struct lf_findings *f, const struct lf_obs *o);
/* Recomputes m->findings (and the paths' finding codes) from what was
 * observed and from m's sign-ins. The caller holds m->lock. t: the topology
 * in use. */
void lf_findings_eval(struct lf_findings *f, struct lf_model *m, const struct lf_topology *t);

/* "bad_certificate" for 42, ...; "unknown alert" otherwise. */
const char *lf_tls_alert_name(unsigned desc);

#endif
