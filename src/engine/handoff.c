/* handoff.c: a bounded queue of events from the capture thread to the analysis thread (handoff.h). */
#include "lyncflow/handoff.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
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
    struct lf_event ev; /* MSG_EVENT: a copy (lf_event_copy) whose text block the slot keeps for the next one */
};

struct lf_handoff {
    struct lf_merge *merge;
    struct lf_analysis *an;
    lf_time window;
    int threaded, running, finished;
    pthread_t thread;
    /* slots [tail, head) are queued: head is written by the capture thread
     * only, tail by the analysis thread only, so neither takes a lock; the
     * lock and the conditions are for sleeping on an empty or full queue */
    _Alignas(64) atomic_size_t head;
    _Alignas(64) atomic_size_t tail;
    _Alignas(64) atomic_int consumer_sleeps, producer_sleeps;
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    struct slot *ring;
    lf_time now, sent_now; /* capture thread: its clock, and the clock of its last message */
    lf_time applied;       /* analysis thread: the clock the merge was advanced to */
};

/* The analysis thread's side of one message (ev: MSG_EVENT's event). */
static void take(struct lf_handoff *h, enum msg kind, lf_time now, const struct lf_event *ev)
{
    if (now > h->applied) {
        lf_merge_advance(h->merge, now);
        h->applied = now;
    }
    switch (kind) {
    case MSG_EVENT:
        lf_merge_push(h->merge, ev);
        break;
    case MSG_CLOCK:
        lf_analysis_poll(h->an);
        break;
    case MSG_IDLE:
        lf_analysis_advance(h->an, now - h->window);
        lf_analysis_poll(h->an);
        break;
    case MSG_FINISH:
        lf_merge_finish(h->merge);
        break;
    }
}

/* Sleeps until cond(h) no longer holds. The flag is set before cond is
 * checked again and the waker stores its index before it reads the flag
 * (both sequentially consistent): either the sleeper sees the new index or
 * the waker sees the flag and signals under the lock. */
static void sleep_while(struct lf_handoff *h, atomic_int *flag, pthread_cond_t *cv, int (*cond)(struct lf_handoff *))
{
    pthread_mutex_lock(&h->lock);
    atomic_store(flag, 1);
    while (cond(h))
        pthread_cond_wait(cv, &h->lock);
    atomic_store(flag, 0);
    pthread_mutex_unlock(&h->lock);
}

static void wake(struct lf_handoff *h, pthread_cond_t *cv)
{
    pthread_mutex_lock(&h->lock);
    pthread_cond_signal(cv);
    pthread_mutex_unlock(&h->lock);
}

static int is_empty(struct lf_handoff *h) { return atomic_load(&h->head) == atomic_load(&h->tail); }
static int is_full(struct lf_handoff *h) { return atomic_load(&h->head) - atomic_load(&h->tail) == SLOTS; }

static void *consumer(void *arg)
{
    struct lf_handoff *h = arg;
    int last = 0;
    size_t from = atomic_load_explicit(&h->tail, memory_order_relaxed);
    while (!last) {
        size_t to = atomic_load_explicit(&h->head, memory_order_acquire);
        if (to == from) {
            sleep_while(h, &h->consumer_sleeps, &h->not_empty, is_empty);
            continue;
        }
        for (size_t i = from; i < to && !last; i++) {
            struct slot *s = &h->ring[i % SLOTS];
            take(h, (enum msg)s->kind, s->now, &s->ev);
            last = s->kind == MSG_FINISH;
        }
        from = to;
        atomic_store(&h->tail, to);
        if (atomic_load(&h->producer_sleeps))
            wake(h, &h->not_full);
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
    h->ring = lf_xcalloc(SLOTS, sizeof *h->ring);
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

/* The capture thread's side: waits for a free slot, fills it, queues it. */
static void put(struct lf_handoff *h, enum msg kind, lf_time now, const struct lf_event *ev)
{
    h->sent_now = now;
    if (!h->threaded) {
        take(h, kind, now, ev);
        return;
    }
    size_t head = atomic_load_explicit(&h->head, memory_order_relaxed);
    if (head - atomic_load_explicit(&h->tail, memory_order_acquire) == SLOTS)
        sleep_while(h, &h->producer_sleeps, &h->not_full, is_full);
    struct slot *s = &h->ring[head % SLOTS];
    s->kind = (uint8_t)kind;
    s->now = now;
    if (ev)
        lf_event_copy(&s->ev, ev);
    atomic_store(&h->head, head + 1);
    if (atomic_load(&h->consumer_sleeps) &&
        (kind != MSG_EVENT || head + 1 - atomic_load_explicit(&h->tail, memory_order_relaxed) >= WAKE_AT))
        wake(h, &h->not_empty);
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
    for (size_t i = 0; h->ring && i < SLOTS; i++)
        lf_event_release(&h->ring[i].ev);
    free(h->ring);
    free(h);
}
