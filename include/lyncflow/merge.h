/* merge.h: one time-ordered event stream from a capture and IIS logs.
 *
 * Capture events arrive nearly in order (a request's event is made when its
 * response ends); they wait in a min-heap for `window` of packet time before
 * release. IIS log readers are pulled lazily: a k-way merge on ts, never
 * reading a log further ahead than the capture's clock (or, with no capture,
 * the smallest pending timestamp). The heap holds copies; memory is bounded
 * by the rate of events within the window. An event older than what was
 * already released (a late one) goes out at once.
 *
 * The out callback may read and change the event's first
 * lf_event_size(ev->type) bytes, and nothing past them: a held event goes out
 * from its slot in the window, which holds no more. It is the callback's
 * until it returns.
 */
#ifndef LYNCFLOW_MERGE_H
#define LYNCFLOW_MERGE_H

#include "lyncflow/event.h"

struct lf_merge;

typedef int (*lf_merge_next_fn)(void *src, struct lf_event *ev); /* 1 event, 0 end */

struct lf_merge *lf_merge_new(void (*out)(void *, struct lf_event *), void *out_ctx, lf_time window);
/* Adds a pulled source (an IIS log reader). */
void lf_merge_add_source(struct lf_merge *m, lf_merge_next_fn next, void *src);
/* An event from the capture (copied). */
void lf_merge_push(struct lf_merge *m, const struct lf_event *ev);
/* The capture's clock moved to now: releases what is older than now - window. */
void lf_merge_advance(struct lf_merge *m, lf_time now);
/* Input ended: releases everything, in order. */
void lf_merge_finish(struct lf_merge *m);
void lf_merge_free(struct lf_merge *m);
/* Adapter with the engine's emit signature. */
void lf_merge_emit(void *m, struct lf_event *ev);

#endif
