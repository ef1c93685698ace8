/* stream.h: TCP reassembly of one direction of a connection into in-order bytes.
 *
 * A struct lf_stream lives inside its flow (the flow table allocates and frees
 * it with the flow); out-of-order data sits in fixed-size chunks taken from a
 * struct lf_reasm pool that the engine owns (lf_reasm_init/lf_reasm_free).
 * Chunks go back to the pool, never to malloc, so once the pool reached its
 * working size nothing is allocated per packet. In-order data that arrives
 * with nothing queued is handed to the sink straight from the packet, without
 * a copy.
 *
 * Sequence numbers are unwrapped into 64-bit stream offsets relative to the
 * current position (a signed 32-bit distance), so wraparound needs no special
 * case. Policies:
 *   - Start: a SYN sets the start at ISN+1; without one (mid-stream pickup)
 *     the stream starts at the first segment seen.
 *   - Overlaps and retransmissions: FIRST DATA WINS. Bytes already delivered or
 *     already queued are kept; a later segment only contributes the bytes of
 *     its range that nobody sent before. Wholly old segments are dropped.
 *   - Out of order: segments ahead of the position are queued sorted by
 *     offset, at most `stream_cap` bytes per stream and `global_cap` bytes in
 *     all streams of the pool. When a segment would exceed a cap, the cap hit
 *     is counted (stream_cap_hits) and the stream gives up on its first hole:
 *     the hole is reported as a gap and the queued bytes after it are
 *     delivered, until the segment fits.
 *   - Snaplen: when a segment's payload was cut by the capture, the captured
 *     part is delivered and the missing part reported as a gap at once.
 *   - End: lf_stream_flush (FIN, RST, timeout, eviction, end of input) reports
 *     every remaining hole as a gap and delivers all queued bytes, so a
 *     consumer never waits for bytes that will not come.
 * Gaps are counted in the pool (gaps) and reported to the sink, so a consumer
 * never stalls.
 */
#ifndef LYNCFLOW_STREAM_H
#define LYNCFLOW_STREAM_H

#include <stddef.h>
#include <stdint.h>

#define LF_CHUNK_DATA 2048 /* bytes of payload held by one queued chunk */

/* Where in-order bytes and gap notices go. dir is the flow direction the
 * stream carries (enum lf_dir), passed through untouched. */
struct lf_stream_sink {
    void (*data)(void *ctx, int dir, const uint8_t *data, size_t len);
    void (*gap)(void *ctx, int dir, uint64_t len);
    void *ctx;
};

struct lf_chunk;

/* The chunk pool, caps and counters shared by all streams of a run. */
struct lf_reasm {
    struct lf_chunk *free_chunks;
    size_t stream_cap, global_cap;
    size_t buffered;          /* queued bytes in all streams */
    uint64_t stream_cap_hits; /* segments that met a cap */
    uint64_t gaps;            /* holes reported */
    uint64_t gap_bytes;       /* bytes in those holes */
    size_t chunks_allocated;
};

/* One direction. Zeroed memory is a valid, unstarted stream. */
struct lf_stream {
    struct lf_chunk *queue; /* out-of-order chunks, sorted by offset, no overlaps */
    uint64_t pos;           /* offset of the next byte to deliver */
    uint64_t fin_off;       /* offset of the FIN, valid when fin_seen */
    uint32_t pos_seq;       /* sequence number of pos */
    uint32_t queued;        /* bytes in queue */
    uint8_t started, fin_seen, done;
    uint32_t gaps;          /* holes reported on this stream */
};

void lf_reasm_init(struct lf_reasm *r, size_t stream_cap, size_t global_cap);
/* Frees the pool. Every stream must have been released first. */
void lf_reasm_free(struct lf_reasm *r);

/* A SYN (or SYN-ACK) with this ISN: data starts at isn + 1. Ignored once data started. */
void lf_stream_syn(struct lf_stream *s, uint32_t isn);
/* One segment: seq, the captured payload (len bytes), the payload length on
 * the wire (wirelen >= len), and whether FIN is set. Delivers what became
 * in order, through sink. */
void lf_stream_segment(struct lf_reasm *r, struct lf_stream *s, uint32_t seq, const uint8_t *data, size_t len,
                       size_t wirelen, int fin, const struct lf_stream_sink *sink, int dir);
/* The fast case of lf_stream_segment, for a caller that hands the bytes on
 * itself: when the segment is the stream's next bytes, all captured (len ==
 * wirelen), nothing is queued, and it carries bytes or a first FIN, advances
 * s past it (a FIN is noted where it falls) and returns 1; the caller then
 * passes the len bytes, if any, to its consumer exactly as the sink would
 * have had them, and calls lf_stream_took. Else returns 0 and changes
 * nothing: the segment goes to lf_stream_segment.
 * 4% of a run's instructions (callgrind, gencap tls 4000 40 capture). */
static inline int lf_stream_take(struct lf_stream *s, uint32_t seq, size_t len, size_t wirelen, int fin)
{
    if (s->done || !s->started || seq != s->pos_seq || s->queue || len != wirelen || (fin ? s->fin_seen : !len))
        return 0;
    s->pos_seq += (uint32_t)len;
    s->pos += len;
    if (fin) {
        s->fin_seen = 1;
        s->fin_off = s->pos;
    }
    return 1;
}
/* After the bytes lf_stream_take passed were handed on: ends the stream when
 * they reached a FIN, as lf_stream_segment does. */
static inline void lf_stream_took(struct lf_stream *s)
{
    if (s->fin_seen && s->pos >= s->fin_off)
        s->done = 1;
}
/* The connection ends: reports the holes as gaps, delivers everything queued. */
void lf_stream_flush(struct lf_reasm *r, struct lf_stream *s, const struct lf_stream_sink *sink, int dir);
/* Returns the stream's chunks to the pool and resets it to unstarted. */
void lf_stream_release(struct lf_reasm *r, struct lf_stream *s);

/* Test hook: when non-NULL, the engine hands every TCP flow to this
 * dissector at once, without probing. NULL in normal runs. */
struct lf_dissector;
extern const struct lf_dissector *lf_stream_test_dissector;

#endif
