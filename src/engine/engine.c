/* engine.c: one run: decode each frame, find its flow, reassemble TCP, choose and feed dissectors, emit events. */
#include "lyncflow/engine.h"

#include <pcap/pcap.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lyncflow/decode.h"
#include "lyncflow/dissect.h"
#include "lyncflow/flow.h"
#include "lyncflow/stream.h"
#include "lyncflow/util.h"

/* A direction's first bytes are probed until this many are there; then a
 * MAYBE counts as the answer. */
#define PROBE_BYTES 512
/* Bytes held per direction while no dissector is chosen. */
#define PROBE_KEEP (16 * 1024)
/* A direction that no dissector wanted, or whose dissector left, is probed
 * again from later chunks of its stream (a chunk starts a TCP segment, where
 * a new protocol's first record usually starts: TLS after STARTTLS, SOCKS or
 * an HTTP CONNECT tunnel), at most this many times. */
#define REPROBE_MAX 16

struct engine_impl {
    struct lf_engine e; /* first: the public part */
    struct lf_reasm reasm;
    struct lf_stream_sink sink;
    struct lf_flow *cur;  /* flow whose stream is being delivered */
    size_t held;          /* bytes allocated by the flows' lf_bytebufs (probe and dissector buffers) */
    uint64_t feed_cap_hits;
    int warned_link;
};

static struct engine_impl *impl_of(struct lf_engine *eng) { return (struct engine_impl *)eng; }

void lf_config_defaults(struct lf_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_flows = 262144;
    cfg->stream_cap = (size_t)1 << 20;
    cfg->global_cap = (size_t)256 << 20;
    cfg->tcp_idle_s = 1200;
    cfg->udp_idle_s = 120;
}

void lf_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("lyncflow: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void lf_emit(struct lf_engine *eng, struct lf_event *ev)
{
    if (eng->emit)
        eng->emit(eng->emit_ctx, ev);
}

/* What a dissector is told of the flow it reads. */
static void flowctx(struct lf_engine *eng, const struct lf_flow *f, struct lf_flowctx *fc)
{
    /* every member named: no memset of the whole context and its padding first */
    *fc = (struct lf_flowctx){
        .flow_id = f->id, .client = f->cli, .server = f->srv, .ts = eng->now, .eng = eng, .sni = NULL, .decrypted = 0};
}

static void buf_release(struct engine_impl *im, struct lf_bytebuf *b)
{
    im->held -= b->cap;
    lf_bytebuf_free(b);
}

/* The dissector leaves the flow (ERROR, a gap it cannot cross, a cap). */
static void leave(struct engine_impl *im, struct lf_flow *f)
{
    if (f->dis && f->dis_st && f->dis->state_free)
        f->dis->state_free(f->dis_st);
    f->dis = NULL;
    f->dis_st = NULL;
    f->dis_state = LF_DSTATE_NONE;
    buf_release(im, &f->buf[0]);
    buf_release(im, &f->buf[1]);
}

/* Buffers of all flows together stay under the global cap with the reassembly queues. */
static int over_global(const struct engine_impl *im)
{
    return im->held + im->reasm.buffered > im->e.cfg.global_cap;
}

static void probe(struct engine_impl *im, struct lf_flow *f, enum lf_dir dir, int final);

/* The dissector left at a record boundary of dir (LF_DIS_ERROR): the flow
 * goes back to probing, from the bytes of dir it did not consume, while the
 * re-probe budget of dir lasts. */
static void reprobe(struct engine_impl *im, struct lf_flow *f, enum lf_dir dir)
{
    enum lf_dir other = dir == LF_C2S ? LF_S2C : LF_C2S;
    if (f->reprobe[dir] >= REPROBE_MAX) {
        leave(im, f);
        return;
    }
    f->reprobe[dir]++;
    struct lf_bytebuf rest = f->buf[dir];
    memset(&f->buf[dir], 0, sizeof rest);
    leave(im, f);
    f->dis_state = LF_DSTATE_PROBING;
    f->probe_no[dir] = f->probe_no[other] = 0;
    if (rest.len > PROBE_KEEP)
        rest.len = 0;
    f->buf[dir] = rest;
    f->buf[dir].want = 0;
    f->buf[dir].max = 0;
    if (rest.len)
        probe(im, f, dir, 0);
}

/* A segment of an attached flow to its dissector. */
static void feed(struct engine_impl *im, struct lf_flow *f, enum lf_dir dir, const uint8_t *data, size_t len)
{
    struct lf_flowctx fc;
    flowctx(&im->e, f, &fc);
    struct lf_bytebuf *b = &f->buf[dir];
    size_t cap = b->cap;
    enum lf_dis_status r = lf_feed(f->dis, f->dis_st, &fc, dir, b, data, len);
    im->held += b->cap - cap;
    if (over_global(im) || (r == LF_DIS_ERROR && b->over)) {
        im->feed_cap_hits++;
        leave(im, f);
        return;
    }
    if (r == LF_DIS_ERROR)
        reprobe(im, f, dir);
}

/* Attaches d and replays the held bytes, the direction that spoke first
 * first; then `chunk` (bytes of `first` not held, or NULL), right after that
 * direction's held bytes. */
static void attach_chunk(struct engine_impl *im, struct lf_flow *f, const struct lf_dissector *d, enum lf_dir first,
                         const uint8_t *chunk, size_t chunk_len)
{
    struct lf_flowctx fc;
    flowctx(&im->e, f, &fc);
    f->dis = d;
    f->dis_st = d->state_new ? d->state_new(&fc) : NULL;
    f->dis_state = LF_DSTATE_ATTACHED;
    /* Replay the probed bytes: the direction that spoke first goes first. */
    enum lf_dir order[2] = {first, first == LF_C2S ? LF_S2C : LF_C2S};
    for (int i = 0; i < 2 && f->dis_state == LF_DSTATE_ATTACHED; i++) {
        struct lf_bytebuf held = f->buf[order[i]];
        memset(&f->buf[order[i]], 0, sizeof held);
        f->buf[order[i]].max = im->e.cfg.stream_cap;
        if (held.len)
            feed(im, f, order[i], held.data, held.len);
        if (i == 0 && chunk_len && f->dis_state == LF_DSTATE_ATTACHED)
            feed(im, f, first, chunk, chunk_len);
        buf_release(im, &held);
    }
}

static void attach(struct engine_impl *im, struct lf_flow *f, const struct lf_dissector *d, enum lf_dir first)
{
    attach_chunk(im, f, d, first, NULL, 0);
}

/* Chooses a dissector from the held bytes of dir; final: no more bytes will come. */
static void probe(struct engine_impl *im, struct lf_flow *f, enum lf_dir dir, int final)
{
    struct lf_bytebuf *b = &f->buf[dir];
    if (f->probe_no[dir] || b->len == 0)
        return;
    int wait = 0;
    const struct lf_dissector *d = lf_dissector_probe(b->data, b->len, dir, final || b->len >= PROBE_BYTES, &wait);
    if (d) {
        enum lf_dir other = dir == LF_C2S ? LF_S2C : LF_C2S;
        attach(im, f, d, f->buf[other].len ? other : dir);
        return;
    }
    if (!wait || final) {
        f->probe_no[dir] = 1;
        /* A stream's first bytes are replayed to a dissector the other
         * direction chooses; a later chunk's are not (stale by then). */
        if (f->reprobe[dir])
            b->len = 0;
    }
    if (f->probe_no[LF_C2S] && f->probe_no[LF_S2C] &&
        (final || (f->reprobe[LF_C2S] >= REPROBE_MAX && f->reprobe[LF_S2C] >= REPROBE_MAX)))
        leave(im, f);
}

/* What hold() would add to the held bytes for len more, or SIZE_MAX when it
 * would refuse them (past PROBE_KEEP, or the buffers over the global cap). */
static size_t hold_growth(const struct engine_impl *im, const struct lf_bytebuf *b, size_t len)
{
    if (b->len + len > PROBE_KEEP)
        return SIZE_MAX;
    if (b->len + len <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + len)
        cap *= 2;
    if (im->held + (cap - b->cap) + im->reasm.buffered > im->e.cfg.global_cap)
        return SIZE_MAX;
    return cap - b->cap;
}

/* Keeps a direction's bytes while no dissector is chosen; 0, or -1 at a cap. */
static int hold(struct engine_impl *im, struct lf_bytebuf *b, const uint8_t *data, size_t len)
{
    if (b->len + len > PROBE_KEEP)
        return -1;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + len)
            cap *= 2;
        b->data = lf_xrealloc(b->data, cap);
        im->held += cap - b->cap;
        b->cap = cap;
        if (over_global(im))
            return -1;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

static void on_stream_data(void *ctx, int dirn, const uint8_t *data, size_t len)
{
    struct engine_impl *im = ctx;
    struct lf_flow *f = im->cur;
    enum lf_dir dir = (enum lf_dir)dirn;
    enum lf_dir other = dir == LF_C2S ? LF_S2C : LF_C2S;
    if (f->dis_state == LF_DSTATE_PROBING && lf_stream_test_dissector) {
        attach(im, f, lf_stream_test_dissector, dir);
    }
    if (f->dis_state == LF_DSTATE_ATTACHED) {
        feed(im, f, dir, data, len);
        return;
    }
    if (f->dis_state != LF_DSTATE_PROBING)
        return;
    if (f->probe_no[dir]) {
        if (f->reprobe[dir] >= REPROBE_MAX) {
            if (f->probe_no[other] && f->reprobe[other] >= REPROBE_MAX)
                leave(im, f);
            return; /* the other direction may still decide */
        }
        f->reprobe[dir]++; /* probe again from this chunk on */
        f->probe_no[dir] = 0;
        f->buf[dir].len = 0;
    }
    if (f->buf[dir].len == 0 && f->buf[other].len == 0) {
        /* Nothing held either way (a flow's first bytes): probe the chunk
         * where it lies and, when a dissector takes it, feed it from there.
         * The bytes hold() would have kept count as held while they are fed,
         * so every cap decides as it would have. Else hold and probe below. */
        size_t grow = hold_growth(im, &f->buf[dir], len);
        int wait = 0;
        const struct lf_dissector *d =
            grow == SIZE_MAX ? NULL : lf_dissector_probe(data, len, dir, len >= PROBE_BYTES, &wait);
        if (d) {
            im->held += grow;
            attach_chunk(im, f, d, dir, data, len);
            im->held -= grow;
            return;
        }
    }
    if (hold(im, &f->buf[dir], data, len) != 0) {
        if (over_global(im))
            im->feed_cap_hits++;
        leave(im, f);
        return;
    }
    probe(im, f, dir, 0);
}

static void on_stream_gap(void *ctx, int dirn, uint64_t len)
{
    struct engine_impl *im = ctx;
    struct lf_flow *f = im->cur;
    enum lf_dir dir = (enum lf_dir)dirn;
    f->gaps++;
    if (f->dis_state == LF_DSTATE_PROBING) {
        f->buf[dir].len = 0; /* probe again from the bytes after the hole */
        return;
    }
    if (f->dis_state != LF_DSTATE_ATTACHED)
        return;
    f->buf[dir].len = 0;
    f->buf[dir].want = 0;
    struct lf_flowctx fc;
    flowctx(&im->e, f, &fc);
    if (!f->dis->on_gap || f->dis->on_gap(f->dis_st, &fc, dir, len) == LF_DIS_ERROR)
        leave(im, f);
}

static void sync_stats(struct engine_impl *im)
{
    im->e.stats.gaps = im->reasm.gaps;
    im->e.stats.stream_cap_hits = im->reasm.stream_cap_hits + im->feed_cap_hits;
    im->e.buffered = im->reasm.buffered + im->held;
}

/* The connection is over for the dissectors (closed, or the flow ends): holes
 * become gaps, a pending probe decides, on_end runs, the state is freed. */
static void finish_dissection(struct engine_impl *im, struct lf_flow *f)
{
    if (f->dis_state == LF_DSTATE_NONE)
        return; /* finished already: its buffers went back in leave, its streams' chunks right after */
    struct lf_flow *saved = im->cur;
    im->cur = f;
    if (f->proto == 6) {
        lf_stream_flush(&im->reasm, &f->st[LF_C2S], &im->sink, LF_C2S);
        lf_stream_flush(&im->reasm, &f->st[LF_S2C], &im->sink, LF_S2C);
    }
    if (f->dis_state == LF_DSTATE_PROBING) {
        probe(im, f, LF_C2S, 1);
        if (f->dis_state == LF_DSTATE_PROBING)
            probe(im, f, LF_S2C, 1);
    }
    if (f->dis_state == LF_DSTATE_ATTACHED && f->dis->on_end) {
        struct lf_flowctx fc;
        flowctx(&im->e, f, &fc);
        f->dis->on_end(f->dis_st, &fc);
    }
    leave(im, f);
    lf_stream_release(&im->reasm, &f->st[LF_C2S]);
    lf_stream_release(&im->reasm, &f->st[LF_S2C]);
    im->cur = saved;
}

static void on_flow_end(void *ctx, struct lf_flow *f)
{
    struct engine_impl *im = ctx;
    finish_dissection(im, f);
    struct lf_event ev;
    lf_event_init(&ev, LF_EV_FLOW, f->first); /* a flow event has no strings: it owns nothing */
    ev.flow_id = f->id;
    ev.client = f->cli;
    ev.server = f->srv;
    struct lf_ev_flow *fl = &ev.u.flow;
    fl->end = f->last;
    fl->transport = f->proto;
    fl->c2s_packets = f->pkts[LF_C2S];
    fl->s2c_packets = f->pkts[LF_S2C];
    fl->c2s_bytes = f->bytes[LF_C2S];
    fl->s2c_bytes = f->bytes[LF_S2C];
    fl->syn_seen = f->syn_seen;
    fl->closed = f->closed;
    fl->rst_from = f->rst_from;
    fl->answered = f->pkts[LF_S2C] > 0;
    fl->gaps = f->gaps;
    lf_emit(&im->e, &ev);
    sync_stats(im);
}

struct lf_engine *lf_engine_new(const struct lf_config *cfg, void (*emit)(void *, struct lf_event *), void *emit_ctx)
{
    struct engine_impl *im = lf_xcalloc(1, sizeof *im);
    im->e.cfg = *cfg;
    im->e.emit = emit;
    im->e.emit_ctx = emit_ctx;
    lf_reasm_init(&im->reasm, cfg->stream_cap, cfg->global_cap);
    im->sink.data = on_stream_data;
    im->sink.gap = on_stream_gap;
    im->sink.ctx = im;
    im->e.flows = lf_flowtab_new(cfg->max_flows, &im->reasm, &im->e.stats, on_flow_end, im);
    return &im->e;
}

void lf_engine_free(struct lf_engine *eng)
{
    if (!eng)
        return;
    struct engine_impl *im = impl_of(eng);
    lf_flowtab_free(eng->flows);
    lf_reasm_free(&im->reasm);
    free(im);
}

/* Returns 1 when the segment went to the stream (the only way a packet
 * changes the counters sync_stats copies), else 0. */
static int tcp_payload(struct engine_impl *im, struct lf_flow *f, enum lf_dir dir, const struct lf_pkt *p)
{
    if (p->tcp_flags & LF_TCP_SYN)
        lf_stream_syn(&f->st[dir], p->seq);
    if (f->dis_state == LF_DSTATE_NONE || (p->tcp_flags & LF_TCP_RST))
        return 0;
    if (p->paywire == 0 && !(p->tcp_flags & LF_TCP_FIN))
        return 0;
    uint32_t seq = p->seq + ((p->tcp_flags & LF_TCP_SYN) ? 1u : 0u);
    struct lf_stream *s = &f->st[dir];
    int fin = p->tcp_flags & LF_TCP_FIN;
    im->cur = f;
    if (f->dis_state == LF_DSTATE_ATTACHED && lf_stream_take(s, seq, p->paylen, p->paywire, fin)) {
        /* the next bytes of a flow with its dissector: what on_stream_data does with them, without the sink */
        if (p->paylen)
            feed(im, f, dir, p->payload, p->paylen);
        lf_stream_took(s);
    } else {
        lf_stream_segment(&im->reasm, s, seq, p->payload, p->paylen, p->paywire, fin, &im->sink, dir);
    }
    im->cur = NULL;
    if (f->dis_state == LF_DSTATE_NONE) {
        lf_stream_release(&im->reasm, &f->st[0]);
        lf_stream_release(&im->reasm, &f->st[1]);
    }
    return 1;
}

void lf_engine_packet(struct lf_engine *eng, int linktype, lf_time ts, const uint8_t *data, size_t caplen,
                      size_t wirelen)
{
    struct engine_impl *im = impl_of(eng);
    if (ts > eng->now)
        eng->now = ts;
    eng->stats.packets++;
    eng->stats.bytes += wirelen;
    struct lf_pkt p;
    enum lf_decode_status r = lf_decode(linktype, data, caplen, &p);
    if (r == LF_DEC_MALFORMED) {
        eng->stats.decode_errors++;
        return;
    }
    if (r == LF_DEC_IGNORED) {
        if (!lf_decode_linktype_supported(linktype)) {
            eng->stats.decode_errors++;
            if (!im->warned_link) {
                const char *name = pcap_datalink_val_to_name(linktype);
                const char *src = eng->cfg.read_file ? eng->cfg.read_file : eng->cfg.iface;
                lf_warn("%s: link type %d (%s) is not supported: its frames are counted as decode errors",
                        !src ? "capture" : strcmp(src, "-") == 0 ? "(stdin)" : src, linktype, name ? name : "unknown");
                im->warned_link = 1;
            }
        }
        return;
    }
    if (p.frag != LF_FRAG_NONE)
        eng->stats.fragments++;
    if (p.frag == LF_FRAG_LATER || (p.proto != 6 && p.proto != 17))
        return;
    enum lf_dir dir;
    struct lf_flow *f = lf_flowtab_packet(eng->flows, &p, ts, wirelen, &dir);
    /* The gap, cap and buffer counters change only in the stream, the
     * dissectors and a flow's end (which syncs them itself): they are copied
     * to eng after a packet that reached one of those, not after every ACK. */
    int touched = p.proto == 6 && p.frag == LF_FRAG_NONE && tcp_payload(im, f, dir, &p);
    /* Closed (FIN both ways, or RST): the dissectors are done now; the flow
     * itself lingers to count the last ACKs. */
    if (f->closed && f->dis_state != LF_DSTATE_NONE) {
        finish_dissection(im, f);
        touched = 1;
    }
    if (touched)
        sync_stats(im);
}

void lf_engine_expire(struct lf_engine *eng, lf_time now)
{
    lf_flowtab_expire(eng->flows, now, eng->cfg.tcp_idle_s, eng->cfg.udp_idle_s);
}

void lf_engine_flush(struct lf_engine *eng)
{
    lf_flowtab_end_all(eng->flows);
    sync_stats(impl_of(eng));
}
