/* tls.c: TLS record layer and handshake dissector, one tls event per connection (RFC 5246, 8446, 6066, 7301).
 *
 * The dissector's contract (lf_dissector_tls): probe, per-flow state, data,
 * gaps and the end of the flow. Each direction reads records (RFC 5246 6.2,
 * RFC 8446 5.1), plaintext or opened by the decryptor (lyncflow/tlsdec.h);
 * handshake messages are reassembled across records and handed to
 * tlshello.c and tlscert.c, alerts kept, and the tls event sent once the
 * handshake is over. Decrypted application data goes to the inner
 * dissector chosen on its first bytes. Shared declarations: tls_int.h.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lyncflow/cursor.h"
#include "lyncflow/dissect.h"
#include "lyncflow/engine.h"
#include "lyncflow/tlsdec.h"
#include "lyncflow/util.h"
#include "tls_int.h"

#define TLS_REC_MAX (16384 + 2048) /* largest record body (RFC 5246 6.2.3) */
#define TLS_HS_MAX (64 * 1024)     /* largest handshake message kept for parsing */
#define TLS_HS_MIN_CAP 4096
#define TLS_PROBE_MAX 1024          /* plaintext kept while choosing the inner dissector */
#define TLS_RESYNC_MAX (1u << 20)   /* bytes scanned for a record header after gaps */
#define TLS_FAIL_RUN_MAX 8          /* consecutive tag failures before a direction is given up */

enum { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23, CT_HEARTBEAT = 24 };
enum { HS_CLIENT_HELLO = 1, HS_SERVER_HELLO = 2, HS_CERTIFICATE = 11 };
enum { INNER_UNDECIDED = 0, INNER_CHOSEN, INNER_NONE };

static const uint8_t h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

extern const struct lf_dissector lf_dissector_tls;

/* TLS 1.3 and its drafts and variants (0x7fxx, 0xfbxx): everything after the ServerHello is protected. */
static int is_tls13(uint16_t v) { return v >= 0x0304; }

/* The TLS direction of bytes that came in direction dir of the flow. */
static enum lf_dir logical(const struct tls_state *st, enum lf_dir dir) { return (enum lf_dir)(dir ^ st->swapped); }

static int plausible_header(uint8_t type, uint8_t major, uint8_t minor, size_t len)
{
    return type >= CT_CCS && type <= CT_HEARTBEAT && major == 3 && minor <= 4 && len <= TLS_REC_MAX;
}

/* SSLv2-compatible CLIENT-HELLO header (RFC 5246 E.2): 2-byte length with the
 * top bit set, msg_type 1, version 0x0002 or 3.x. Short input: MAYBE. */
static enum lf_probe probe_sslv2(const uint8_t *data, size_t len)
{
    struct lf_cur c = lf_cur_make(data, len);
    if (lf_cur_left(&c) < 2)
        return lf_cur_left(&c) == 0 || (lf_cur_u8(&c) & 0x80) ? LF_PROBE_MAYBE : LF_PROBE_NO;
    uint16_t rlen = lf_cur_u16(&c);
    if (!(rlen & 0x8000) || (rlen & 0x7fff) < 9)
        return LF_PROBE_NO;
    if (lf_cur_left(&c) == 0)
        return LF_PROBE_MAYBE;
    if (lf_cur_u8(&c) != 1)
        return LF_PROBE_NO;
    if (lf_cur_left(&c) == 0)
        return LF_PROBE_MAYBE;
    uint8_t major = lf_cur_u8(&c);
    if (major != 0 && major != 3)
        return LF_PROBE_NO;
    if (lf_cur_left(&c) == 0)
        return LF_PROBE_MAYBE;
    uint8_t minor = lf_cur_u8(&c);
    return (major == 0 && minor == 2) || (major == 3 && minor <= 4) ? LF_PROBE_YES : LF_PROBE_NO;
}

static enum lf_probe tls_probe(const uint8_t *data, size_t len, enum lf_dir dir)
{
    (void)dir;
    struct lf_cur c = lf_cur_make(data, len);
    if (lf_cur_left(&c) == 0)
        return LF_PROBE_MAYBE;
    uint8_t type = lf_cur_u8(&c);
    if (type & 0x80)
        return probe_sslv2(data, len);
    if (type < CT_CCS || type > CT_APPDATA)
        return LF_PROBE_NO;
    if (lf_cur_left(&c) == 0)
        return LF_PROBE_MAYBE;
    if (lf_cur_u8(&c) != 3)
        return LF_PROBE_NO;
    if (lf_cur_left(&c) == 0)
        return LF_PROBE_MAYBE;
    if (lf_cur_u8(&c) > 4)
        return LF_PROBE_NO;
    if (lf_cur_left(&c) < 2)
        return LF_PROBE_MAYBE;
    size_t rlen = lf_cur_u16(&c);
    return rlen > 0 && rlen <= TLS_REC_MAX ? LF_PROBE_YES : LF_PROBE_NO;
}

/* States of ended flows kept for the next ones (a free list chained through
 * inner_st, at most STATE_POOL_MAX), so a run in steady state allocates no
 * state per flow. Capture thread only, like the caches of tlsfinger.c and tlscert.c.
 * Bench run 1.32G Ir without it, 1.30G with (2.0%; callgrind, gencap tls 4000 500); test_tls relies on the reuse. */
#define STATE_POOL_MAX 256
static struct tls_state *state_pool;
static size_t state_pool_n;

static void *tls_state_new(struct lf_flowctx *fc)
{
    struct tls_state *st = state_pool;
    if (st) {
        state_pool = st->inner_st;
        state_pool_n--;
    } else {
        st = lf_xcalloc(1, sizeof *st);
    }
    struct lf_text keep = st->ev.text; /* a pooled state's text block serves again */
    memset(st, 0, sizeof *st);
    st->ev.text = keep;
    lf_event_reset(&st->ev, LF_EV_TLS, 0);
    st->dec = lf_tlsdec_new(fc->eng ? fc->eng->keys : NULL);
    if (st->dec)
        st->plain = lf_xmalloc(TLS_REC_MAX);
    size_t cap = fc->eng && fc->eng->cfg.stream_cap ? fc->eng->cfg.stream_cap : (size_t)1 << 20;
    for (int i = 0; i < 2; i++)
        st->d[i].inner.max = cap;
    return st;
}

static void tls_state_free(void *p)
{
    struct tls_state *st = p;
    if (!st)
        return;
    if (st->inner && st->inner_st)
        st->inner->state_free(st->inner_st);
    for (int i = 0; i < 2; i++) {
        free(st->d[i].hs);
        free(st->d[i].probe);
        lf_bytebuf_free(&st->d[i].inner);
    }
    lf_tlsdec_free(st->dec);
    free(st->plain);
    if (state_pool_n < STATE_POOL_MAX) {
        st->inner_st = state_pool;
        state_pool = st;
        state_pool_n++;
        return;
    }
    lf_event_release(&st->ev);
    free(st);
}

/* One complete handshake message (header included), plaintext on the wire or decrypted. */
static void hs_message(struct tls_state *st, struct lf_flowctx *fc, enum lf_dir dir, const uint8_t *msg, size_t len)
{
    struct lf_cur c = lf_cur_make(msg, len);
    uint8_t type = lf_cur_u8(&c);
    struct lf_cur body = lf_cur_sub(&c, lf_cur_u24(&c));
    if (!st->roles_known && (type == HS_CLIENT_HELLO || type == HS_SERVER_HELLO)) {
        st->roles_known = 1;
        st->swapped = (type == HS_CLIENT_HELLO) == (dir == LF_S2C);
    }
    enum lf_dir ld = logical(st, dir);
    if (st->dec)
        lf_tlsdec_handshake(st->dec, (int)ld, msg, len);
    if (ld == LF_S2C)
        st->server_spoke = 1;
    if (!lf_cur_ok(&c))
        return;
    switch (type) {
    case HS_CLIENT_HELLO:
        if (ld == LF_C2S && !st->ch_seen)
            tls_parse_client_hello(st, fc, body);
        break;
    case HS_SERVER_HELLO:
        if (ld == LF_S2C)
            tls_parse_server_hello(st, fc, body);
        break;
    case HS_CERTIFICATE:
        if (ld == LF_S2C && !st->cert_done)
            tls_parse_certificate(st, body, is_tls13(st->version));
        break;
    }
}

static int hs_reserve(struct tls_dir *d, size_t need)
{
    if (need > TLS_HS_MAX)
        return 0;
    if (need > d->hs_cap) {
        size_t cap = d->hs_cap ? d->hs_cap : TLS_HS_MIN_CAP;
        while (cap < need)
            cap *= 2;
        if (cap > TLS_HS_MAX)
            cap = TLS_HS_MAX;
        d->hs = lf_xrealloc(d->hs, cap);
        d->hs_cap = cap;
    }
    return 1;
}

/* Handshake bytes of one record, in order: each message is gathered in the
 * direction's buffer and parsed there once whole. */
static void hs_input(struct tls_state *st, struct lf_flowctx *fc, enum lf_dir dir, const uint8_t *p, size_t n)
{
    struct tls_dir *d = &st->d[dir];
    struct lf_cur c = lf_cur_make(p, n);
    while (lf_cur_left(&c) > 0) {
        if (d->hs_skip) {
            size_t k = d->hs_skip < lf_cur_left(&c) ? d->hs_skip : lf_cur_left(&c);
            lf_cur_skip(&c, k);
            d->hs_skip -= k;
            continue;
        }
        /* gather a piece: first the 4-byte header, then the body */
        if (!hs_reserve(d, 4))
            return;
        if (d->hs_len < 4) {
            size_t k = 4 - d->hs_len;
            if (k > lf_cur_left(&c))
                k = lf_cur_left(&c);
            lf_cur_copy(&c, d->hs + d->hs_len, k);
            d->hs_len += k;
            if (d->hs_len < 4)
                return;
        }
        struct lf_cur h = lf_cur_make(d->hs, d->hs_len);
        lf_cur_skip(&h, 1);
        size_t total = 4 + (size_t)lf_cur_u24(&h);
        if (!hs_reserve(d, total)) {
            st->hs_oversize++;
            d->hs_skip = total - d->hs_len;
            d->hs_len = 0;
            continue;
        }
        size_t k = total - d->hs_len;
        if (k > lf_cur_left(&c))
            k = lf_cur_left(&c);
        lf_cur_copy(&c, d->hs + d->hs_len, k);
        d->hs_len += k;
        if (d->hs_len == total) {
            d->hs_len = 0;
            hs_message(st, fc, dir, d->hs, total);
        }
    }
}

/* ---- events ------------------------------------------------------------- */

static void emit_event(struct tls_state *st, struct lf_flowctx *fc)
{
    if (st->emitted || (!st->ch_seen && !st->sh_seen) || !fc->eng)
        return;
    st->emitted = 1;
    struct lf_event *ev = &st->ev;
    ev->ts = st->ts ? st->ts : fc->ts;
    struct lf_ev_tls *t = &ev->u.tls;
    ev->flow_id = fc->flow_id;
    ev->client = st->swapped ? fc->server : fc->client;
    ev->server = st->swapped ? fc->client : fc->server;
    t->cert_encrypted = is_tls13(st->version) && !st->cert_seen;
    t->decrypting = st->dec && (st->decrypted_any || lf_tlsdec_has_keys(st->dec));
    t->decrypt_failures = st->failures;
    lf_emit(fc->eng, ev);
    /* the handshake is over: its buffers come back, allocated again only for a
     * later handshake message (TLS 1.3 KeyUpdate, tickets) */
    for (int i = 0; i < 2; i++) {
        struct tls_dir *d = &st->d[i];
        if (d->hs_len == 0) {
            free(d->hs);
            d->hs = NULL;
            d->hs_cap = 0;
        }
    }
}

#define EXCHANGE_ANSWERS 3

/* An application data record that is not read: the handshake is over once the
 * server has answered (before that it is 0-RTT data). The client's records
 * in a row, and the server's first record after them, are one exchange: its
 * event goes out then, with the client records' times and sizes. After the
 * first requests of a TLS 1.3 connection the server's first records may be
 * session tickets, not the answer: there, one event for each of the first
 * EXCHANGE_ANSWERS. */
static void opaque_appdata(struct tls_state *st, struct lf_flowctx *fc, enum lf_dir dir, size_t len)
{
    if (st->server_spoke)
        emit_event(st, fc);
    if (!st->emitted || !fc->eng)
        return;
    if (logical(st, dir) == LF_C2S) {
        if (st->x.answers) { /* the next request */
            uint32_t n = st->x.exchanges + 1;
            memset(&st->x, 0, sizeof st->x);
            st->x.exchanges = n;
        }
        if (!st->x.records)
            st->x.first = fc->ts;
        st->x.last = fc->ts;
        st->x.bytes += len;
        st->x.records++;
        return;
    }
    if (!st->x.records || st->x.answers >= (is_tls13(st->version) && st->x.exchanges < 2 ? EXCHANGE_ANSWERS : 1))
        return; /* the server's own records (its TLS 1.3 handshake), or more of an answer */
    st->x.answers++;
    struct lf_event ev;
    lf_event_init(&ev, LF_EV_EXCHANGE, st->x.first);
    ev.flow_id = fc->flow_id;
    ev.client = st->swapped ? fc->server : fc->client;
    ev.server = st->swapped ? fc->client : fc->server;
    ev.u.exchange.c_last = st->x.last;
    ev.u.exchange.s_first = fc->ts;
    ev.u.exchange.c_bytes = st->x.bytes;
    ev.u.exchange.c_records = st->x.records;
    lf_emit(fc->eng, &ev);
}

/* A plaintext or decrypted alert. The first one is kept, unless a fatal one
 * follows a warning; a fatal alert ends the handshake and sends the event. */
static void on_alert(struct tls_state *st, struct lf_flowctx *fc, enum lf_dir dir, const uint8_t *p, size_t n)
{
    struct lf_ev_tls *t = &st->ev.u.tls;
    struct lf_cur c = lf_cur_make(p, n);
    uint8_t level = lf_cur_u8(&c), desc = lf_cur_u8(&c);
    if (!lf_cur_ok(&c) || st->emitted)
        return;
    if (!t->alert_from || (t->alert_level != 2 && level == 2)) {
        t->alert_level = level;
        t->alert_desc = desc;
        t->alert_from = logical(st, dir) == LF_C2S ? 'c' : 's';
    }
    if (level == 2)
        emit_event(st, fc);
}

static void inner_flowctx(struct tls_state *st, const struct lf_flowctx *fc)
{
    st->ifc = *fc;
    if (st->swapped) {
        st->ifc.client = fc->server;
        st->ifc.server = fc->client;
    }
    st->ifc.sni = st->ev.u.tls.sni;
    st->ifc.decrypted = 1;
}

static void inner_feed(struct tls_state *st, enum lf_dir dir, const uint8_t *p, size_t n)
{
    if (lf_feed(st->inner, st->inner_st, &st->ifc, dir, &st->d[dir].inner, p, n) == LF_DIS_ERROR)
        st->inner_state = INNER_NONE;
}

/* Decrypted application data: the inner protocol is chosen on its first bytes. */
static void on_plain_appdata(struct tls_state *st, struct lf_flowctx *fc, enum lf_dir wire_dir, const uint8_t *p,
                             size_t n)
{
    enum lf_dir dir = logical(st, wire_dir);
    if (!st->emitted) {
        if (dir == LF_C2S && n >= sizeof h2_preface - 1 && !memcmp(p, h2_preface, sizeof h2_preface - 1))
            st->ev.u.tls.h2 = 1;
        emit_event(st, fc);
    }
    if (st->inner_state == INNER_NONE || n == 0)
        return;
    inner_flowctx(st, fc);
    if (st->inner_state == INNER_CHOSEN) {
        inner_feed(st, dir, p, n);
        return;
    }
    struct tls_dir *d = &st->d[dir];
    if (!d->probe)
        d->probe = lf_xmalloc(TLS_PROBE_MAX);
    size_t k = n < TLS_PROBE_MAX - d->probe_len ? n : TLS_PROBE_MAX - d->probe_len;
    memcpy(d->probe + d->probe_len, p, k);
    d->probe_len += k;
    int wait = 0, full = d->probe_len == TLS_PROBE_MAX;
    const struct lf_dissector *dis = lf_dissector_probe(d->probe, d->probe_len, dir, full, &wait);
    if (dis == &lf_dissector_tls)
        dis = NULL;
    if (!dis) {
        if (!wait || full)
            st->inner_state = INNER_NONE;
        return;
    }
    st->inner = dis;
    st->inner_st = dis->state_new(&st->ifc);
    st->inner_state = INNER_CHOSEN;
    for (int i = 0; i < 2 && st->inner_state == INNER_CHOSEN; i++) {
        enum lf_dir di = (enum lf_dir)i;
        struct tls_dir *dd = &st->d[i];
        if (dd->probe_len)
            inner_feed(st, di, dd->probe, dd->probe_len);
        if (di == dir && st->inner_state == INNER_CHOSEN && k < n)
            inner_feed(st, di, p + k, n - k);
        dd->probe_len = 0;
    }
}

/* ---- record layer ------------------------------------------------------- */

/* Records of this type from dir are protected (by what the handshake said so far). */
static int own_protected(const struct tls_state *st, enum lf_dir dir, uint8_t type)
{
    if (type == CT_APPDATA)
        return 1;
    return st->d[dir].ccs && !is_tls13(st->version) && !st->hrr && (type == CT_HANDSHAKE || type == CT_ALERT);
}

static void decrypt_record(struct tls_state *st, struct lf_flowctx *fc, enum lf_dir dir, uint8_t type,
                           uint16_t version, const uint8_t *body, size_t len)
{
    struct tls_dir *d = &st->d[dir];
    size_t outlen = 0;
    uint8_t inner = 0;
    enum lf_dec r =
        lf_tlsdec_record(st->dec, (int)logical(st, dir), type, version, body, len, st->plain, &outlen, &inner);
    if (r == LF_DEC_NOKEY) {
        if (!st->counted_nokey && fc->eng)
            fc->eng->stats.tls_no_secret++;
        st->counted_nokey = 1;
        /* 0-RTT data may lack a secret the rest of the connection has */
        if (st->sh_seen)
            st->nokey = 1;
        if (type == CT_APPDATA)
            opaque_appdata(st, fc, dir, len);
        return;
    }
    if (r != LF_DEC_OK) {
        st->failures++;
        if (fc->eng)
            fc->eng->stats.tls_decrypt_failures++;
        if (++d->fail_run >= TLS_FAIL_RUN_MAX)
            d->nodecrypt = 1;
        if (type == CT_APPDATA && d->nodecrypt)
            opaque_appdata(st, fc, dir, len);
        return;
    }
    d->fail_run = 0;
    if (!st->decrypted_any && fc->eng)
        fc->eng->stats.tls_decrypted++;
    st->decrypted_any = 1;
    if (outlen > TLS_REC_MAX)
        outlen = TLS_REC_MAX;
    switch (inner) {
    case CT_HANDSHAKE:
        hs_input(st, fc, dir, st->plain, outlen);
        break;
    case CT_ALERT:
        on_alert(st, fc, dir, st->plain, outlen);
        break;
    case CT_APPDATA:
        on_plain_appdata(st, fc, dir, st->plain, outlen);
        break;
    }
}

/* Emits what is pending and leaves the flow. */
static struct lf_dres leave(struct tls_state *st, struct lf_flowctx *fc, size_t consumed)
{
    emit_event(st, fc);
    struct lf_dres r = {LF_DIS_ERROR, consumed, 0};
    return r;
}

static struct lf_dres incomplete(size_t consumed, size_t needed)
{
    struct lf_dres r = {LF_DIS_INCOMPLETE, consumed, needed ? needed : 1};
    return r;
}

/* After a gap: the offset of the next plausible record header (its successor
 * checked when it lies within data), or -1. */
static long find_header(const uint8_t *data, size_t len)
{
    struct lf_cur c = lf_cur_make(data, len);
    for (size_t i = 0; i + 5 <= len; i++) {
        struct lf_cur h = c;
        lf_cur_skip(&h, i);
        uint8_t type = lf_cur_u8(&h), major = lf_cur_u8(&h), minor = lf_cur_u8(&h);
        size_t rlen = lf_cur_u16(&h);
        if (!plausible_header(type, major, minor, rlen) || type == CT_HEARTBEAT || minor == 0 || rlen == 0)
            continue;
        if (lf_cur_left(&h) >= rlen + 5) {
            lf_cur_skip(&h, rlen);
            uint8_t t2 = lf_cur_u8(&h), ma2 = lf_cur_u8(&h), mi2 = lf_cur_u8(&h);
            if (!plausible_header(t2, ma2, mi2, lf_cur_u16(&h)) || mi2 != minor)
                continue;
        }
        return (long)i;
    }
    return -1;
}

static struct lf_dres tls_on_data(void *p, struct lf_flowctx *fc, enum lf_dir dir, const uint8_t *data, size_t len)
{
    struct tls_state *st = p;
    struct tls_dir *d = &st->d[dir];
    struct lf_cur c = lf_cur_make(data, len);

    for (;;) {
        if (d->rec_skip) {
            size_t k = d->rec_skip < lf_cur_left(&c) ? d->rec_skip : lf_cur_left(&c);
            lf_cur_skip(&c, k);
            d->rec_skip -= k;
            if (d->rec_skip)
                return incomplete(c.off, 1);
        }
        if (d->resync) {
            long at = find_header(lf_cur_ptr(&c), lf_cur_left(&c));
            if (at < 0) {
                size_t k = lf_cur_left(&c) > 4 ? lf_cur_left(&c) - 4 : 0;
                lf_cur_skip(&c, k);
                d->resync_scanned += k;
                if (d->resync_scanned > TLS_RESYNC_MAX)
                    return leave(st, fc, c.off);
                return incomplete(c.off, 1);
            }
            lf_cur_skip(&c, (size_t)at);
            d->resync_scanned += (size_t)at;
            d->resync = 0;
        }
        size_t left = lf_cur_left(&c);
        if (left < 5)
            return incomplete(c.off, 5 - left);

        struct lf_cur h = c;
        uint8_t type = lf_cur_u8(&h);
        if (!d->started && !st->roles_known && (type & 0x80)) {
            /* SSLv2-compatible ClientHello (RFC 5246 E.2) */
            struct lf_cur all = c;
            size_t rlen = lf_cur_u16(&all) & 0x7fff;
            if (probe_sslv2(lf_cur_ptr(&c), left) != LF_PROBE_YES)
                return leave(st, fc, c.off);
            if (left < 2 + rlen)
                return incomplete(c.off, 2 + rlen - left);
            struct lf_cur r = lf_cur_sub(&all, rlen);
            lf_cur_skip(&r, 1);
            uint16_t ver = lf_cur_u16(&r);
            uint16_t csl = lf_cur_u16(&r), sidl = lf_cur_u16(&r), chl = lf_cur_u16(&r);
            lf_cur_skip(&r, (size_t)csl + sidl + chl);
            if (!lf_cur_ok(&r) || csl % 3)
                return leave(st, fc, c.off);
            lf_cur_skip(&c, 2 + rlen);
            d->started = 1;
            if (!st->ch_seen) {
                st->roles_known = 1;
                st->swapped = dir == LF_S2C;
                st->ch_seen = 1;
                st->ts = fc->ts;
                st->ev.u.tls.sslv2_hello = 1;
                st->ev.u.tls.client_version = ver;
            }
            continue;
        }
        uint8_t major = lf_cur_u8(&h), minor = lf_cur_u8(&h);
        uint16_t version = (uint16_t)(major << 8 | minor);
        size_t rlen = lf_cur_u16(&h);
        if (!plausible_header(type, major, minor, rlen)) {
            if (d->gapped) {
                d->resync = 1;
                lf_cur_skip(&c, 1);
                d->resync_scanned++;
                continue;
            }
            return leave(st, fc, c.off);
        }
        d->started = 1;

        int dec_says =
            st->dec && !d->nodecrypt && !st->nokey && lf_tlsdec_encrypted(st->dec, (int)logical(st, dir), type);
        if (dec_says) {
            if (left < 5 + rlen)
                return incomplete(c.off, 5 + rlen - left);
            lf_cur_skip(&c, 5);
            struct lf_cur body = lf_cur_sub(&c, rlen);
            decrypt_record(st, fc, dir, type, version, body.p, body.len);
            continue;
        }
        if (own_protected(st, dir, type) || type == CT_HEARTBEAT) {
            if (type == CT_APPDATA)
                opaque_appdata(st, fc, dir, rlen);
            lf_cur_skip(&c, 5);
            d->rec_skip = rlen;
            continue;
        }
        if (type == CT_CCS) {
            d->ccs = 1;
            if (st->dec)
                lf_tlsdec_ccs(st->dec, (int)logical(st, dir));
            lf_cur_skip(&c, 5);
            d->rec_skip = rlen;
            continue;
        }
        if (left < 5 + rlen)
            return incomplete(c.off, 5 + rlen - left);
        lf_cur_skip(&c, 5);
        struct lf_cur body = lf_cur_sub(&c, rlen);
        if (type == CT_HANDSHAKE)
            hs_input(st, fc, dir, body.p, body.len);
        else if (type == CT_ALERT && rlen == 2)
            on_alert(st, fc, dir, body.p, body.len);
    }
}

static enum lf_dis_status tls_on_gap(void *p, struct lf_flowctx *fc, enum lf_dir dir, uint64_t len)
{
    struct tls_state *st = p;
    struct tls_dir *d = &st->d[dir];
    if (!d->resync && d->rec_skip >= len) {
        d->rec_skip -= (size_t)len;
        return LF_DIS_OK;
    }
    d->rec_skip = 0;
    d->hs_len = 0;
    d->hs_skip = 0;
    d->resync = 1;
    d->gapped = 1;
    d->nodecrypt = 1;
    if (st->inner_state == INNER_CHOSEN) {
        inner_flowctx(st, fc);
        if (!st->inner->on_gap || st->inner->on_gap(st->inner_st, &st->ifc, logical(st, dir), len) == LF_DIS_ERROR)
            st->inner_state = INNER_NONE;
    }
    return LF_DIS_OK;
}

static void tls_on_end(void *p, struct lf_flowctx *fc)
{
    struct tls_state *st = p;
    emit_event(st, fc);
    if (st->inner_state == INNER_CHOSEN && st->inner->on_end) {
        inner_flowctx(st, fc);
        st->inner->on_end(st->inner_st, &st->ifc);
    }
    st->inner_state = INNER_NONE;
}

const struct lf_dissector lf_dissector_tls = {
    .name = "tls",
    .probe = tls_probe,
    .state_new = tls_state_new,
    .state_free = tls_state_free,
    .on_data = tls_on_data,
    .on_gap = tls_on_gap,
    .on_end = tls_on_end,
};
