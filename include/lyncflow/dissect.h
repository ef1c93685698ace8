/* dissect.h: the contract between TCP reassembly and protocol dissectors.
 *
 * A dissector gets in-order, reassembled bytes of one direction of one flow
 * and answers in one of three ways (the Suricata model):
 *   LF_DIS_OK          consumed bytes were used; call again with the rest;
 *   LF_DIS_INCOMPLETE  consumed bytes were used, and nothing more can be done
 *                      until at least `needed` more bytes follow them;
 *   LF_DIS_ERROR       this flow is not (or no longer) this protocol: the
 *                      dissector leaves the flow and is not called again.
 *                      `consumed` says where it stopped: the bytes after it
 *                      (for instance a tunnel's, after an HTTP CONNECT's 2xx
 *                      answer) may be another protocol's.
 * When a dissector leaves, or none wanted a direction's first bytes, the
 * engine probes the dissectors again: from the bytes the leaving dissector
 * did not consume, then from the start of each later chunk of the stream (a
 * TCP segment: where a new protocol's first record usually begins, as after
 * STARTTLS or a SOCKS handshake), a bounded number of times per direction.
 * Bytes not consumed stay buffered by the caller (lf_feed) and are handed
 * again, followed by new bytes, so headers that span segments need no private
 * buffering. Dissectors never print: they fill events and call lf_emit().
 *
 * Each dissector file exports one `const struct lf_dissector`, and
 * dissectors/registry.c is the only place that lists them all.
 */
#ifndef LYNCFLOW_DISSECT_H
#define LYNCFLOW_DISSECT_H

#include <stddef.h>
#include <stdint.h>

#include "lyncflow/event.h"

struct lf_engine;

enum lf_dir { LF_C2S = 0, LF_S2C = 1 };

enum lf_dis_status { LF_DIS_OK = 0, LF_DIS_INCOMPLETE, LF_DIS_ERROR };

struct lf_dres {
    enum lf_dis_status status;
    size_t consumed;
    size_t needed; /* with INCOMPLETE: more bytes wanted beyond the unconsumed ones */
};

enum lf_probe { LF_PROBE_NO = 0, LF_PROBE_MAYBE, LF_PROBE_YES };

/* What a dissector knows of the flow it is called on. Owned by the caller. */
struct lf_flowctx {
    uint64_t flow_id;
    struct lf_addr client, server;
    lf_time ts;              /* time of the packet that carried the bytes */
    struct lf_engine *eng;   /* where events go (lf_emit) and where secrets are */
    const char *sni;         /* set when this flow runs inside TLS */
    uint8_t decrypted;       /* bytes are TLS plaintext */
};

struct lf_dissector {
    const char *name;
    /* Looks at the first bytes of a direction (len may be short); decides
     * whether this dissector wants the flow. Must not keep the pointer. */
    enum lf_probe (*probe)(const uint8_t *data, size_t len, enum lf_dir dir);
    void *(*state_new)(struct lf_flowctx *fc);
    void (*state_free)(void *st);
    struct lf_dres (*on_data)(void *st, struct lf_flowctx *fc, enum lf_dir dir, const uint8_t *data, size_t len);
    /* `len` bytes are missing in direction dir (a capture hole). The dissector
     * resynchronises or leaves (return LF_DIS_ERROR). May be NULL: leave. */
    enum lf_dis_status (*on_gap)(void *st, struct lf_flowctx *fc, enum lf_dir dir, uint64_t len);
    /* The flow ends (FIN/RST/timeout/end of input): emit what is pending. */
    void (*on_end)(void *st, struct lf_flowctx *fc);
};

/* The registration table, NULL-terminated, in probe order. */
extern const struct lf_dissector *const lf_dissectors[];

/* Finds a dissector by name, or NULL. */
const struct lf_dissector *lf_dissector_find(const char *name);

/* Picks the dissector for the first bytes of a flow: the first that answers
 * YES, else the first MAYBE when `final` (no more bytes will come before a
 * decision must be made), else NULL with *wait set when some said MAYBE. */
const struct lf_dissector *lf_dissector_probe(const uint8_t *data, size_t len, enum lf_dir dir, int final, int *wait);

/* A growable byte buffer with a cap; the unconsumed tail of one direction. */
struct lf_bytebuf {
    uint8_t *data;
    size_t len, cap, max;
    size_t want; /* on_data is not called again until len reaches this */
    uint8_t over; /* set by lf_feed when it returned LF_DIS_ERROR because of max */
};

/* Appends bytes to b and runs d->on_data over the buffered bytes until it
 * consumes nothing more, asks for more, or leaves. Returns LF_DIS_ERROR when
 * the dissector left (b then holds the bytes it did not consume) or the
 * buffer would exceed b->max (b->over set; counted by caller).
 * The buffer is compacted; no allocation once it reached its working size. */
enum lf_dis_status lf_feed(const struct lf_dissector *d, void *st, struct lf_flowctx *fc, enum lf_dir dir,
                           struct lf_bytebuf *b, const uint8_t *data, size_t len);
/* Frees b's bytes (a buffer of the first size lf_feed gives is kept for the
 * next flow's) and empties b: data NULL, len, cap and want 0. */
void lf_bytebuf_free(struct lf_bytebuf *b);

#endif
