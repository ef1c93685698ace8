/* handoff.h: the capture thread's events carried to the analysis thread.
 *
 * lyncflow runs two threads: the capture thread reads packets and runs the
 * engine (decode, flows, streams, dissectors); the analysis thread runs the
 * merge, the analysis and the sinks. Between them is a bounded
 * single-producer, single-consumer queue. Each message carries the capture
 * clock of the last packet handled when it was made, and the analysis thread
 * advances the merge to that clock before taking the message: the merge sees
 * the same sequence of events and clock steps as when everything ran in one
 * thread, so the output does not depend on how the threads are scheduled. A
 * full queue makes the capture thread wait.
 */
#ifndef LYNCFLOW_HANDOFF_H
#define LYNCFLOW_HANDOFF_H

#include "lyncflow/analysis.h"
#include "lyncflow/event.h"
#include "lyncflow/merge.h"

struct lf_handoff;

/* Starts the analysis thread over merge (which hands its events to an).
 * window is the merge's window. With threaded 0, or when no thread can be
 * made, every call below does its work at once in the caller's thread.
 * Never NULL (aborts on OOM). */
struct lf_handoff *lf_handoff_new(struct lf_merge *merge, struct lf_analysis *an, lf_time window, int threaded);
/* The engine's emit callback: queues a copy of ev. */
void lf_handoff_emit(void *h, struct lf_event *ev);
/* The capture thread handled a packet at now. */
void lf_handoff_clock(struct lf_handoff *h, lf_time now);
/* A live link was quiet until now (wall clock): the merge releases what is
 * older than now - window and the analysis advances to that time. */
void lf_handoff_idle(struct lf_handoff *h, lf_time now);
/* Input ended: the merge releases everything and the analysis thread ends;
 * on return the caller owns merge and analysis again. */
void lf_handoff_finish(struct lf_handoff *h);
/* Finishes when not yet finished, then frees h (not merge or analysis). */
void lf_handoff_free(struct lf_handoff *h);

#endif
