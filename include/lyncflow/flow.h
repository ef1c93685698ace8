/* flow.h: the flow table: bidirectional TCP/UDP 5-tuples, their counters, TCP state and lifetime.
 *
 * Ownership: the table owns every struct lf_flow. Flow slots are allocated in
 * slabs the first time they are needed, up to max_flows, and recycled through
 * a free list, so a run allocates nothing per packet once it reached its
 * working size. The bucket array starts small and doubles whenever the
 * flows reach half its buckets (up to the power of two at or above max_flows),
 * so a table holding few flows stays in cache; it too is allocated only while
 * the table grows to its working size. Closed flows (FIN both ways, or RST)
 * stay in it while they linger (below). A flow's dissector
 * state, its two lf_bytebufs and its two streams' queued chunks are freed by
 * the table when the flow ends (through the dissector's state_free and
 * lf_stream_release), after the end callback ran.
 *
 * Which side is the client:
 *   1. the sender of a SYN without ACK;
 *   2. else the receiver of a SYN-ACK;
 *   3. else (no handshake seen, or UDP) by ports: when exactly one port is
 *      below 1024, that side is the server; else when exactly one port is
 *      32768 or above (the ephemeral ranges of Linux and Windows), that side
 *      is the client;
 *   4. else the sender of the first packet seen.
 *
 * Lifetime: a flow ends (the end callback runs, then the flow is freed)
 *   - when idle longer than tcp_idle_s / udp_idle_s (lf_flowtab_expire);
 *   - LF_FLOW_LINGER_S after its last packet once it closed (FIN both ways,
 *     or RST), so the last ACKs and retransmitted FINs still count in it (the
 *     engine finishes the flow's dissection at the close itself);
 *   - at once when a new SYN reuses the 5-tuple of a closed flow;
 *   - when the table is full and a new flow needs a slot: the least recently
 *     seen flow is evicted (counted in stats.evicted);
 *   - at the end of the run (lf_flowtab_end_all).
 * Bytes are frame lengths on the wire, as tshark's conversation table counts them.
 */
#ifndef LYNCFLOW_FLOW_H
#define LYNCFLOW_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "lyncflow/decode.h"
#include "lyncflow/dissect.h"
#include "lyncflow/event.h"
#include "lyncflow/stream.h"

#define LF_FLOW_LINGER_S 60 /* as long as TIME_WAIT on Linux */

enum lf_flow_list { LF_LIST_TCP = 0, LF_LIST_UDP, LF_LIST_CLOSED, LF_LIST_N };

enum lf_dis_state { LF_DSTATE_PROBING = 0, LF_DSTATE_ATTACHED, LF_DSTATE_NONE };

struct lf_flow {
    /* what every packet reads first, in one cache line: lookup, state, time */
    struct lf_flow *hnext;     /* bucket chain */
    uint32_t hash;
    uint8_t proto;             /* 6 or 17 */
    uint8_t closed;            /* 0 open, 1 FIN both ways, 2 RST */
    uint8_t dis_state;         /* enum lf_dis_state; dissection, driven by the engine */
    uint8_t list;              /* enum lf_flow_list */
    lf_time last;
    struct lf_addr cli, srv;
    /* counters, LRU list, TCP state */
    struct lf_flow *lprev, *lnext;
    uint64_t pkts[2], bytes[2]; /* index enum lf_dir */
    uint64_t id;
    lf_time first, closed_at;
    uint32_t isn[2];
    uint8_t syn[2], fin[2];    /* SYN, FIN seen per direction */
    uint8_t syn_seen;          /* the client's SYN was captured */
    uint8_t rst_from;          /* 'c' or 's' */
    uint8_t in_use;
    uint8_t probe_no[2];       /* direction answered NO to every probe */
    uint8_t reprobe[2];        /* times a direction was probed again (engine.c REPROBE_MAX) */
    uint32_t gaps;             /* reassembly holes reported, both directions */
    struct lf_stream st[2];
    /* dissection, driven by the engine; freed by the table */
    const struct lf_dissector *dis;
    void *dis_st;
    struct lf_bytebuf buf[2];
};

struct lf_flowtab;

/* Called once when a flow ends, before its dissector state is freed. */
typedef void (*lf_flow_end_fn)(void *ctx, struct lf_flow *f);

/* A table of at most max_flows flows. stats receives flows and evicted
 * counts; r is the chunk pool streams return to. Never NULL (aborts on OOM). */
struct lf_flowtab *lf_flowtab_new(size_t max_flows, struct lf_reasm *r, struct lf_ev_stats *stats,
                                  lf_flow_end_fn on_end, void *ctx);
/* Ends every flow (lf_flowtab_end_all) and frees the table. */
void lf_flowtab_free(struct lf_flowtab *t);

/* The flow of a decoded TCP/UDP packet, created when new (which may evict
 * the least recently seen flow). *dir is the packet's direction. Updates the
 * counters, the TCP state and the LRU position. */
struct lf_flow *lf_flowtab_packet(struct lf_flowtab *t, const struct lf_pkt *p, lf_time ts, size_t wirelen,
                                  enum lf_dir *dir);
/* Ends flows idle since before now (closed ones after LF_FLOW_LINGER_S). */
void lf_flowtab_expire(struct lf_flowtab *t, lf_time now, uint32_t tcp_idle_s, uint32_t udp_idle_s);
/* Ends one flow now. */
void lf_flowtab_end(struct lf_flowtab *t, struct lf_flow *f);
void lf_flowtab_end_all(struct lf_flowtab *t);
/* Open flows. */
size_t lf_flowtab_count(const struct lf_flowtab *t);

#endif
