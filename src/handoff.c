/* handoff.c: a bounded queue of events from the capture thread to the analysis thread (handoff.h). */
#include "lyncflow/handoff.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "lyncflow/util.h"

#define SLOTS 512
#define WAKE_AT 64 /* queued events that wake a sleeping analysis thread; any other message wakes it at once */
#define CLOCK_EVERY_US 100000 /* a clock step with no event is passed on after this much capture time */

enum msg { MSG_EVENT, MSG_CLOCK, MSG_IDLE, MSG_FINISH };

struct slot {
    uint8_t kind;       /* enum msg */
    lf_time now;        /* the capture clock when the message was made */
    struct lf_event ev; /* MSG_EVENT: the first lf_event_size(type) bytes */
};

struct lf_handoff {
    struct lf_merge *merge;
    struct lf_analysis *an;
    lf_time window;
    int threaded, running, finished;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    size_t head, tail; /* under lock; slots [tail, head) are queued */
    int consumer_waits, producer_waits;
    struct slot *ring;
    lf_time now, sent_now; /* capture thread: its clock, and the clock of its last message */
    lf_time applied;       /* analysis thread: the clock the merge was advanced to */
};

/* The analysis thread's side of one message. */
static void take(struct lf_handoff *h, struct slot *s)
{
    if (s->now > h->applied) {
        lf_merge_advance(h->merge, s->now);
        h->applied = s->now;
    }
    switch ((enum msg)s->kind) {
    case MSG_EVENT:
        lf_merge_push(h->merge, &s->ev);
        break;
    case MSG_CLOCK:
        break;
    case MSG_IDLE:
        lf_analysis_advance(h->an, s->now - h->window);
        break;
    case MSG_FINISH:
        lf_merge_finish(h->merge);
        break;
    }
}

static void *consumer(void *arg)
{
    struct lf_handoff *h = arg;
    int last = 0;
    while (!last) {
        pthread_mutex_lock(&h->lock);
        while (h->head == h->tail) {
            h->consumer_waits = 1;
            pthread_cond_wait(&h->not_empty, &h->lock);
        }
        h->consumer_waits = 0;
        size_t from = h->tail, to = h->head;
        pthread_mutex_unlock(&h->lock);

        for (size_t i = from; i < to && !last; i++) {
            struct slot *s = &h->ring[i % SLOTS];
            take(h, s);
            last = s->kind == MSG_FINISH;
        }

        pthread_mutex_lock(&h->lock);
        h->tail = to;
        if (h->producer_waits)
            pthread_cond_signal(&h->not_full);
        pthread_mutex_unlock(&h->lock);
    }
    return NULL;
}

struct lf_handoff *lf_handoff_new(struct lf_merge *merge, struct lf_analysis *an, lf_time window, int threaded)
{
    struct lf_handoff *h = lf_xcalloc(1, sizeof *h);
    h->merge = merge;
    h->an = an;
    h->window = window;
    h->now = h->sent_now = h->applied = INT64_MIN;
    if (!threaded)
        return h;
    h->ring = lf_xmalloc(SLOTS * sizeof *h->ring);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->not_empty, NULL);
    pthread_cond_init(&h->not_full, NULL);
    /* signals stay with the capture thread */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    h->threaded = pthread_create(&h->thread, NULL, consumer, h) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    h->running = h->threaded;
    return h;
}

/* The capture thread's side: a free slot, filled by fill, then queued. */
static void put(struct lf_handoff *h, enum msg kind, lf_time now, const struct lf_event *ev)
{
    h->sent_now = now;
    if (!h->threaded) {
        struct slot s;
        s.kind = (uint8_t)kind;
        s.now = now;
        if (ev)
            memcpy(&s.ev, ev, lf_event_size(ev->type));
        take(h, &s);
        return;
    }
    pthread_mutex_lock(&h->lock);
    while (h->head - h->tail == SLOTS) {
        h->producer_waits = 1;
        pthread_cond_wait(&h->not_full, &h->lock);
    }
    h->producer_waits = 0;
    struct slot *s = &h->ring[h->head % SLOTS];
    pthread_mutex_unlock(&h->lock);

    s->kind = (uint8_t)kind;
    s->now = now;
    if (ev)
        memcpy(&s->ev, ev, lf_event_size(ev->type));

    pthread_mutex_lock(&h->lock);
    h->head++;
    if (h->consumer_waits && (kind != MSG_EVENT || h->head - h->tail >= WAKE_AT))
        pthread_cond_signal(&h->not_empty);
    pthread_mutex_unlock(&h->lock);
}

void lf_handoff_emit(void *hp, struct lf_event *ev)
{
    struct lf_handoff *h = hp;
    put(h, MSG_EVENT, h->now, ev);
}

void lf_handoff_clock(struct lf_handoff *h, lf_time now)
{
    if (now > h->now)
        h->now = now;
    if (h->sent_now == INT64_MIN || h->now - h->sent_now >= CLOCK_EVERY_US)
        put(h, MSG_CLOCK, h->now, NULL);
}

void lf_handoff_idle(struct lf_handoff *h, lf_time now) { put(h, MSG_IDLE, now, NULL); }

void lf_handoff_finish(struct lf_handoff *h)
{
    if (h->finished)
        return;
    h->finished = 1;
    put(h, MSG_FINISH, h->now, NULL);
    if (h->running) {
        pthread_join(h->thread, NULL);
        h->running = 0;
    }
}

void lf_handoff_free(struct lf_handoff *h)
{
    if (!h)
        return;
    lf_handoff_finish(h);
    if (h->threaded) {
        pthread_mutex_destroy(&h->lock);
        pthread_cond_destroy(&h->not_empty);
        pthread_cond_destroy(&h->not_full);
    }
    free(h->ring);
    free(h);
}
