/* test_tls.c: the TLS dissector fed through the stream contract, checked against tshark, openssl and nDPI values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "lyncflow/dissect.h"
#include "lyncflow/engine.h"
#include "lyncflow/event.h"
#include "lyncflow/util.h"

extern const struct lf_dissector lf_dissector_tls;

/* ---- a connection driven the way the stream layer drives a dissector ---- */

#define MAX_EVENTS 8

struct pending {
    uint8_t *buf;
    size_t len, want;
};

struct conn {
    struct lf_engine *eng;
    struct lf_flowctx fc;
    void *st;
    struct pending p[2];
    int left;
    int nev;
    struct lf_event ev[MAX_EVENTS];
};

static void collect(void *ctx, struct lf_event *ev)
{
    struct conn *c = ctx;
    if (c->nev < MAX_EVENTS)
        lf_event_copy(&c->ev[c->nev], ev);
    c->nev++;
}

static struct conn *conn_new(void)
{
    struct conn *c = lf_xcalloc(1, sizeof *c);
    struct lf_config cfg;
    lf_config_defaults(&cfg);
    c->eng = lf_engine_new(&cfg, collect, c);
    c->fc.flow_id = 7;
    lf_addr_parse("192.0.2.1:50000", &c->fc.client);
    lf_addr_parse("192.0.2.2:443", &c->fc.server);
    c->fc.ts = 1000000;
    c->fc.eng = c->eng;
    c->st = lf_dissector_tls.state_new(&c->fc);
    return c;
}

/* Appends bytes to one direction and calls on_data with every byte in an
 * allocation of its own size, honouring consumed/needed. */
static void conn_feed(struct conn *c, enum lf_dir dir, const uint8_t *data, size_t n)
{
    struct pending *p = &c->p[dir];
    if (c->left)
        return;
    p->buf = lf_xrealloc(p->buf, p->len + n + 1);
    if (n)
        memcpy(p->buf + p->len, data, n);
    p->len += n;
    c->fc.ts += 10;
    while (p->len > 0 && p->len >= p->want) {
        uint8_t *copy = lf_xmalloc(p->len);
        memcpy(copy, p->buf, p->len);
        struct lf_dres r = lf_dissector_tls.on_data(c->st, &c->fc, dir, copy, p->len);
        free(copy);
        assert_true(r.consumed <= p->len);
        memmove(p->buf, p->buf + r.consumed, p->len - r.consumed);
        p->len -= r.consumed;
        if (r.status == LF_DIS_ERROR) {
            c->left = 1;
            return;
        }
        if (r.status == LF_DIS_INCOMPLETE) {
            assert_true(r.needed > 0);
            p->want = p->len + r.needed;
            return;
        }
        p->want = 0;
        if (r.consumed == 0)
            return;
    }
}

static void conn_gap(struct conn *c, enum lf_dir dir, uint64_t len)
{
    if (c->left)
        return;
    c->p[dir].len = 0;
    c->p[dir].want = 0;
    if (lf_dissector_tls.on_gap(c->st, &c->fc, dir, len) == LF_DIS_ERROR)
        c->left = 1;
}

static void conn_end(struct conn *c)
{
    lf_dissector_tls.on_end(c->st, &c->fc);
    lf_dissector_tls.state_free(c->st);
    c->st = NULL;
}

static void conn_free(struct conn *c)
{
    if (c->st)
        conn_end(c);
    for (int i = 0; i < 2; i++)
        free(c->p[i].buf);
    lf_engine_free(c->eng);
    free(c);
}

/* ---- test data ---------------------------------------------------------- */

struct blob {
    uint8_t *p;
    size_t n;
};

static struct blob load(const char *name)
{
    char path[512];
    const char *top = getenv("TOP");
    snprintf(path, sizeof path, "%s/tests/data/tls/%s", top ? top : ".", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    struct blob b = {lf_xmalloc(1 << 16), 0};
    b.n = fread(b.p, 1, 1 << 16, f);
    fclose(f);
    return b;
}

/* A byte builder for hand-made records. */
struct bld {
    uint8_t b[8192];
    size_t n;
};

static void put8(struct bld *b, unsigned v) { b->b[b->n++] = (uint8_t)v; }
static void put16(struct bld *b, unsigned v) { put8(b, v >> 8); put8(b, v & 0xff); }
static void put24(struct bld *b, unsigned v) { put8(b, v >> 16); put16(b, v & 0xffff); }
static void putn(struct bld *b, const void *p, size_t n) { memcpy(b->b + b->n, p, n); b->n += n; }
/* Patches a length of `size` bytes at `at` to cover everything after it. */
static void patch(struct bld *b, size_t at, int size)
{
    size_t v = b->n - at - (size_t)size;
    for (int i = size - 1; i >= 0; i--, v >>= 8)
        b->b[at + (size_t)i] = (uint8_t)v;
}

/* Wraps a handshake body (messages) into records of at most `frag` bytes. */
static struct bld *records(uint8_t type, const uint8_t *body, size_t n, size_t frag)
{
    struct bld *r = lf_xcalloc(1, sizeof *r);
    for (size_t off = 0; off < n || (n == 0 && off == 0); off += frag) {
        size_t k = n - off < frag ? n - off : frag;
        put8(r, type);
        put16(r, 0x0301);
        put16(r, (unsigned)k);
        putn(r, body + off, k);
        if (n == 0)
            break;
    }
    return r;
}

/* Record boundaries of the curl capture (from tshark). */
#define CURL_CH_END 517      /* c2s: ClientHello record */
#define CURL_C2S_FIN 643     /* c2s: ClientKeyExchange, CCS, Finished */
#define CURL_S2C_FLIGHT 3011 /* s2c: ServerHello, Certificate, ServerKeyExchange, ServerHelloDone */
#define CURL_S2C_FIN 3062    /* s2c: CCS, Finished */

#define CURL_SNI "www.ntop.org"
#define CURL_JA3 "2a26b1a62e40d25d4de3babc9d532f30"          /* tshark -e tls.handshake.ja3 */
#define CURL_JA4 "t12d6707h2_2955a3196ffa_c83f907a73d3"      /* nDPI result for 443-curl.pcap */

static void curl_run(struct conn *c, const struct blob *cs, const struct blob *sc)
{
    conn_feed(c, LF_C2S, cs->p, CURL_CH_END);
    conn_feed(c, LF_S2C, sc->p, CURL_S2C_FLIGHT);
    conn_feed(c, LF_C2S, cs->p + CURL_CH_END, CURL_C2S_FIN - CURL_CH_END);
    conn_feed(c, LF_S2C, sc->p + CURL_S2C_FLIGHT, CURL_S2C_FIN - CURL_S2C_FLIGHT);
    conn_feed(c, LF_C2S, cs->p + CURL_C2S_FIN, cs->n - CURL_C2S_FIN);
}

static void assert_curl_cert(const struct lf_ev_tls *t)
{
    /* openssl x509 -nameopt RFC2253 -subject -issuer -dates -fingerprint -sha256 on the leaf */
    assert_string_equal(t->cert_subject, "CN=www.ntop.org");
    assert_string_equal(t->cert_issuer, "CN=Let's Encrypt Authority X3,O=Let's Encrypt,C=US");
    assert_string_equal(t->cert_san, "www.ntop.org");
    assert_string_equal(t->cert_sha256, "7e5dd1152bf8776235ef3d3f3dbffac72541c31a439d43c65b7013f260f914ec");
    assert_int_equal(t->cert_not_before, 1576545448LL * 1000000); /* 2019-12-17 01:17:28 UTC */
    assert_int_equal(t->cert_not_after, 1584321448LL * 1000000);  /* 2020-03-16 01:17:28 UTC */
}

static void test_curl_tls12(void **state)
{
    (void)state;
    struct blob cs = load("curl-c2s.bin"), sc = load("curl-s2c.bin");
    struct conn *c = conn_new();
    curl_run(c, &cs, &sc);
    /* emitted at the first application data record, before the flow ends */
    assert_int_equal(c->nev, 1);
    assert_false(c->left);
    const struct lf_event *ev = &c->ev[0];
    const struct lf_ev_tls *t = &ev->u.tls;
    assert_int_equal(ev->type, LF_EV_TLS);
    assert_int_equal(ev->flow_id, 7);
    assert_int_equal(ev->ts, 1000010); /* time of the ClientHello */
    assert_int_equal(ev->server.port, 443);
    assert_string_equal(t->sni, CURL_SNI);
    assert_int_equal(t->version, 0x0303);
    assert_int_equal(t->client_version, 0x0303);
    assert_int_equal(t->cipher, 0xc02f);
    assert_string_equal(t->alpn, "h2");
    assert_int_equal(t->h2, 1);
    assert_string_equal(t->ja3, CURL_JA3);
    assert_string_equal(t->ja4, CURL_JA4);
    assert_int_equal(t->cert_encrypted, 0);
    assert_int_equal(t->alert_from, 0);
    assert_int_equal(t->ech, 0);
    assert_curl_cert(t);
    conn_end(c);
    assert_int_equal(c->nev, 1);
    conn_free(c);
    free(cs.p);
    free(sc.p);
}

/* curl's hellos on a flow whose roles are reversed (the capture missed the
 * SYN and the server spoke first), then an alert from the client. */
static struct conn *reversed_hellos(struct blob *cs, struct blob *sc)
{
    static const uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x30};
    *cs = load("curl-c2s.bin");
    *sc = load("curl-s2c.bin");
    struct conn *c = conn_new();
    conn_feed(c, LF_S2C, cs->p, CURL_CH_END);
    conn_feed(c, LF_C2S, sc->p, CURL_S2C_FLIGHT);
    conn_feed(c, LF_S2C, alert, sizeof alert);
    return c;
}

/* The flow's roles reversed (the capture missed the SYN and the server spoke
 * first): the hellos tell which side is the client. */
static void test_roles_from_hellos(void **state)
{
    (void)state;
    struct blob cs, sc;
    struct conn *c = reversed_hellos(&cs, &sc);
    assert_int_equal(c->nev, 1);
    const struct lf_event *ev = &c->ev[0];
    assert_int_equal(ev->client.port, 443);
    assert_int_equal(ev->server.port, 50000);
    assert_string_equal(ev->u.tls.sni, CURL_SNI);
    assert_int_equal(ev->u.tls.cipher, 0xc02f);
    assert_int_equal(ev->u.tls.alert_from, 'c');
    assert_curl_cert(&ev->u.tls);
    conn_free(c);
    free(cs.p);
    free(sc.p);
}

/* The connection's next flow, on a new TLS state: the one the last flow
 * ended with, given back by the state pool. */
static void next_flow(struct conn *c, void *old)
{
    c->st = lf_dissector_tls.state_new(&c->fc);
    assert_ptr_equal(c->st, old);
    c->nev = 0;
    for (int i = 0; i < 2; i++)
        c->p[i].len = c->p[i].want = 0;
}

/* A state is reused after its flow ended: nothing of the last flow (roles
 * swapped, an alert, a certificate) shows in the next flow's event. */
static void test_state_reused_clean(void **state)
{
    (void)state;
    struct blob cs, sc;
    struct conn *c = reversed_hellos(&cs, &sc);
    assert_int_equal(c->nev, 1);
    assert_int_equal(c->ev[0].u.tls.alert_from, 'c');
    void *old = c->st;
    conn_end(c);
    /* the next flow: the freed state comes back, and starts as a new one */
    next_flow(c, old);
    curl_run(c, &cs, &sc);
    assert_int_equal(c->nev, 1);
    const struct lf_event *ev = &c->ev[0];
    assert_int_equal(ev->client.port, 50000);
    assert_int_equal(ev->server.port, 443);
    assert_int_equal(ev->u.tls.alert_from, 0);
    assert_int_equal(ev->u.tls.cipher, 0xc02f);
    assert_curl_cert(&ev->u.tls);
    conn_end(c);
    /* and again, for a flow that ends after its ClientHello: no certificate text */
    next_flow(c, old);
    c->fc.flow_id = 9;
    conn_feed(c, LF_C2S, cs.p, CURL_CH_END);
    lf_time hello_ts = c->fc.ts;
    conn_end(c);
    assert_int_equal(c->nev, 1);
    /* the event's fixed part is a new event's, with this flow's values */
    const struct lf_event *e = &c->ev[0];
    assert_int_equal(e->type, LF_EV_TLS);
    assert_int_equal(e->ts, hello_ts);
    assert_int_equal(e->flow_id, 9);
    assert_true(lf_addr_equal(&e->client, &c->fc.client));
    assert_true(lf_addr_equal(&e->server, &c->fc.server));
    assert_int_equal(e->role, 0);
    assert_int_equal(e->stitched, 0);
    assert_int_equal(e->truncated, 0);
    assert_string_equal(e->simple_url, "");
    assert_string_equal(e->service, "");
    assert_string_equal(e->listener, "");
    assert_string_equal(e->server_name, "");
    assert_string_equal(c->ev[0].u.tls.sni, CURL_SNI);
    assert_int_equal(c->ev[0].u.tls.cipher, 0);
    assert_string_equal(c->ev[0].u.tls.cert_subject, "");
    assert_string_equal(c->ev[0].u.tls.cert_san, "");
    assert_int_equal(c->ev[0].u.tls.cert_not_after, 0);
    conn_free(c);
    free(cs.p);
    free(sc.p);
}

/* Application data before the server answered is 0-RTT data: the event waits
 * for the server's handshake. */
static void test_early_data_waits(void **state)
{
    (void)state;
    struct blob cs = load("curl-c2s.bin"), sc = load("curl-s2c.bin");
    struct conn *c = conn_new();
    conn_feed(c, LF_C2S, cs.p, CURL_CH_END);
    conn_feed(c, LF_C2S, cs.p + CURL_C2S_FIN, 53); /* one application data record */
    assert_int_equal(c->nev, 0);
    conn_feed(c, LF_S2C, sc.p, CURL_S2C_FIN);
    assert_int_equal(c->nev, 0);
    conn_feed(c, LF_S2C, sc.p + CURL_S2C_FIN, sc.n - CURL_S2C_FIN);
    assert_int_equal(c->nev, 1);
    assert_int_equal(c->ev[0].u.tls.cipher, 0xc02f);
    assert_curl_cert(&c->ev[0].u.tls);
    conn_free(c);
    free(cs.p);
    free(sc.p);
}

/* The ClientHello cut into two and three TCP segments at every offset. */
static void test_clienthello_split_segments(void **state)
{
    (void)state;
    struct blob cs = load("curl-c2s.bin");
    for (size_t k = 1; k < CURL_CH_END; k++) {
        struct conn *c = conn_new();
        conn_feed(c, LF_C2S, cs.p, k);
        assert_int_equal(c->nev, 0);
        size_t k2 = k + (CURL_CH_END - k) / 2;
        conn_feed(c, LF_C2S, cs.p + k, k2 - k);
        conn_feed(c, LF_C2S, cs.p + k2, CURL_CH_END - k2);
        conn_end(c);
        assert_int_equal(c->nev, 1);
        assert_string_equal(c->ev[0].u.tls.sni, CURL_SNI);
        assert_string_equal(c->ev[0].u.tls.ja3, CURL_JA3);
        assert_string_equal(c->ev[0].u.tls.alpn, "h2,http/1.1"); /* the client's list: no ServerHello */
        conn_free(c);
    }
    free(cs.p);
}

/* The ClientHello handshake message fragmented over records of every size
 * from 1 byte, each record also split from the next. */
static void test_clienthello_split_records(void **state)
{
    (void)state;
    struct blob cs = load("curl-c2s.bin");
    const uint8_t *msg = cs.p + 5;
    size_t mlen = CURL_CH_END - 5;
    static const size_t frags[] = {1, 2, 3, 4, 5, 7, 64, 100, 255, 256, 400, 511};
    for (size_t i = 0; i < sizeof frags / sizeof frags[0]; i++) {
        struct bld *r = records(22, msg, mlen, frags[i]);
        struct conn *c = conn_new();
        for (size_t off = 0; off < r->n; off += 13)
            conn_feed(c, LF_C2S, r->b + off, r->n - off < 13 ? r->n - off : 13);
        conn_end(c);
        assert_int_equal(c->nev, 1);
        assert_string_equal(c->ev[0].u.tls.sni, CURL_SNI);
        assert_string_equal(c->ev[0].u.tls.ja3, CURL_JA3);
        assert_string_equal(c->ev[0].u.tls.ja4, CURL_JA4);
        conn_free(c);
        free(r);
    }
    free(cs.p);
}

/* ServerHello, Certificate, ServerKeyExchange and ServerHelloDone in one record. */
static void test_several_messages_one_record(void **state)
{
    (void)state;
    struct blob cs = load("curl-c2s.bin"), sc = load("curl-s2c.bin");
    struct bld *msgs = lf_xcalloc(1, sizeof *msgs);
    static const size_t recs[][2] = {{0, 102}, {107, 2552}, {2664, 333}, {3002, 4}};
    for (int i = 0; i < 4; i++)
        putn(msgs, sc.p + recs[i][0] + 5, recs[i][1]);
    struct bld *one = records(22, msgs->b, msgs->n, 16384);
    struct conn *c = conn_new();
    conn_feed(c, LF_C2S, cs.p, CURL_CH_END);
    conn_feed(c, LF_S2C, one->b, one->n);
    conn_feed(c, LF_S2C, sc.p + CURL_S2C_FLIGHT, sc.n - CURL_S2C_FLIGHT); /* CCS, Finished, app data */
    assert_int_equal(c->nev, 1);
    assert_int_equal(c->ev[0].u.tls.cipher, 0xc02f);
    assert_curl_cert(&c->ev[0].u.tls);
    conn_free(c);
    free(one);
    free(msgs);
    free(cs.p);
    free(sc.p);
}

/* Each direction cut at every length, then the flow ends: no crash, one event
 * once the ClientHello is whole, and no certificate field unless the whole
 * certificate was there. */
static void test_truncated_every_length(void **state)
{
    (void)state;
    struct blob cs = load("curl-c2s.bin"), sc = load("curl-s2c.bin");
    for (size_t k = 0; k <= CURL_CH_END; k++) {
        struct conn *c = conn_new();
        conn_feed(c, LF_C2S, cs.p, k);
        conn_end(c);
        assert_int_equal(c->nev, k == CURL_CH_END ? 1 : 0);
        conn_free(c);
    }
    for (size_t k = 0; k <= CURL_S2C_FLIGHT; k++) {
        struct conn *c = conn_new();
        conn_feed(c, LF_C2S, cs.p, CURL_CH_END);
        conn_feed(c, LF_S2C, sc.p, k);
        conn_end(c);
        assert_int_equal(c->nev, 1);
        const struct lf_ev_tls *t = &c->ev[0].u.tls;
        assert_string_equal(t->sni, CURL_SNI);
        assert_int_equal(t->cipher, k >= 107 ? 0xc02f : 0);
        if (k >= 2664)
            assert_curl_cert(t);
        else
            assert_string_equal(t->cert_subject, "");
        conn_free(c);
    }
    free(cs.p);
    free(sc.p);
}

/* Every length field of the ClientHello set to garbage values: no crash, and
 * either no event or the true SNI, never bytes taken from the wrong place. */
static void test_garbage_lengths(void **state)
{
    (void)state;
    struct blob cs = load("curl-c2s.bin");
    /* positions of length fields: record (3,2), handshake (6,3), session id (43,1) ... found by walking */
    size_t pos[64][2];
    int np = 0;
    const uint8_t *m = cs.p;
    pos[np][0] = 3, pos[np++][1] = 2;
    pos[np][0] = 6, pos[np++][1] = 3;
    size_t o = 5 + 4 + 2 + 32;
    pos[np][0] = o, pos[np++][1] = 1;
    o += 1 + m[o];
    pos[np][0] = o, pos[np++][1] = 2;
    o += 2 + ((size_t)m[o] << 8 | m[o + 1]);
    pos[np][0] = o, pos[np++][1] = 1;
    o += 1 + m[o];
    pos[np][0] = o, pos[np++][1] = 2;
    o += 2;
    while (o + 4 <= CURL_CH_END && np < 60) {
        size_t el = (size_t)m[o + 2] << 8 | m[o + 3];
        pos[np][0] = o + 2, pos[np++][1] = 2;
        if (m[o] == 0 && m[o + 1] == 0) { /* server_name: list length, name length */
            pos[np][0] = o + 4, pos[np++][1] = 2;
            pos[np][0] = o + 7, pos[np++][1] = 2;
        }
        o += 4 + el;
    }
    assert_int_equal(o, CURL_CH_END);
    static const unsigned vals[] = {0, 1, 0x7f, 0x80, 0xfe, 0xff};
    uint8_t *buf = lf_xmalloc(CURL_CH_END);
    for (int i = 0; i < np; i++) {
        for (int variant = 0; variant < 8; variant++) {
            memcpy(buf, cs.p, CURL_CH_END);
            size_t at = pos[i][0], w = pos[i][1];
            if (variant < 6)
                memset(buf + at, (int)vals[variant], w);
            else
                buf[at + w - 1] = (uint8_t)(buf[at + w - 1] + (variant == 6 ? 1 : -1));
            struct conn *c = conn_new();
            for (size_t off = 0; off < CURL_CH_END; off += 97)
                conn_feed(c, LF_C2S, buf + off, CURL_CH_END - off < 97 ? CURL_CH_END - off : 97);
            conn_end(c);
            assert_true(c->nev <= 1);
            if (c->nev == 1) {
                const char *sni = c->ev[0].u.tls.sni;
                if (strcmp(sni, CURL_SNI) && strcmp(sni, ""))
                    fail_msg("length at %zu: sni '%s'", at, sni);
                /* a fingerprint is whole, or absent (with JA4) when the extension framing broke */
                size_t j3 = strlen(c->ev[0].u.tls.ja3);
                if (j3 != 32) {
                    assert_int_equal(j3, 0);
                    assert_string_equal(c->ev[0].u.tls.ja4, "");
                }
            }
            conn_free(c);
        }
    }
    free(buf);
    free(cs.p);
}

static void test_alert_from_server(void **state)
{
    (void)state;
    struct blob cs = load("curl-c2s.bin");
    static const uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28}; /* fatal handshake_failure */
    struct conn *c = conn_new();
    conn_feed(c, LF_C2S, cs.p, CURL_CH_END);
    conn_feed(c, LF_S2C, alert, 3);
    assert_int_equal(c->nev, 0);
    conn_feed(c, LF_S2C, alert + 3, sizeof alert - 3);
    assert_int_equal(c->nev, 1); /* emitted at the alert */
    const struct lf_ev_tls *t = &c->ev[0].u.tls;
    assert_int_equal(t->alert_from, 's');
    assert_int_equal(t->alert_level, 2);
    assert_int_equal(t->alert_desc, 40);
    assert_int_equal(t->version, 0);
    assert_string_equal(t->sni, CURL_SNI);
    conn_end(c);
    assert_int_equal(c->nev, 1);
    conn_free(c);
    free(cs.p);
}

/* A warning (unrecognized_name after the ServerHello, as in http_ipv6.pcap)
 * does not end the handshake: the certificate that follows is still read; a
 * later fatal alert replaces the warning and sends the event. */
static void test_warning_alert_keeps_going(void **state)
{
    (void)state;
    struct blob cs = load("curl-c2s.bin"), sc = load("curl-s2c.bin");
    static const uint8_t warn[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x70};  /* warning unrecognized_name */
    static const uint8_t fatal[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x2a}; /* fatal bad_certificate */
    for (int with_fatal = 0; with_fatal < 2; with_fatal++) {
        struct conn *c = conn_new();
        conn_feed(c, LF_C2S, cs.p, CURL_CH_END);
        conn_feed(c, LF_S2C, sc.p, 107); /* ServerHello */
        conn_feed(c, LF_S2C, warn, sizeof warn);
        conn_feed(c, LF_S2C, sc.p + 107, CURL_S2C_FLIGHT - 107);
        assert_int_equal(c->nev, 0);
        if (with_fatal) {
            conn_feed(c, LF_C2S, fatal, sizeof fatal);
            assert_int_equal(c->nev, 1);
        } else {
            conn_feed(c, LF_C2S, cs.p + CURL_CH_END, CURL_C2S_FIN - CURL_CH_END);
            conn_feed(c, LF_S2C, sc.p + CURL_S2C_FLIGHT, CURL_S2C_FIN - CURL_S2C_FLIGHT);
            assert_int_equal(c->nev, 0);
            conn_feed(c, LF_C2S, cs.p + CURL_C2S_FIN, cs.n - CURL_C2S_FIN); /* application data */
            assert_int_equal(c->nev, 1);
        }
        const struct lf_ev_tls *t = &c->ev[0].u.tls;
        assert_curl_cert(t);
        assert_int_equal(t->alert_from, with_fatal ? 'c' : 's');
        assert_int_equal(t->alert_level, with_fatal ? 2 : 1);
        assert_int_equal(t->alert_desc, with_fatal ? 42 : 112);
        conn_free(c);
    }
    free(cs.p);
    free(sc.p);
}

/* The client refuses the server's certificate after the server's flight. */
static void test_alert_from_client_after_cert(void **state)
{
    (void)state;
    struct blob cs = load("curl-c2s.bin"), sc = load("curl-s2c.bin");
    static const uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x30}; /* fatal unknown_ca */
    struct conn *c = conn_new();
    conn_feed(c, LF_C2S, cs.p, CURL_CH_END);
    conn_feed(c, LF_S2C, sc.p, CURL_S2C_FLIGHT);
    assert_int_equal(c->nev, 0);
    conn_feed(c, LF_C2S, alert, sizeof alert);
    assert_int_equal(c->nev, 1);
    const struct lf_ev_tls *t = &c->ev[0].u.tls;
    assert_int_equal(t->alert_from, 'c');
    assert_int_equal(t->alert_level, 2);
    assert_int_equal(t->alert_desc, 48);
    assert_curl_cert(t);
    conn_free(c);
    free(cs.p);
    free(sc.p);
}

/* Application data records are passed over whole when they are all there and
 * piece by piece when split: a fatal alert after two of them is read either
 * way, wherever the bytes are cut. */
static void test_appdata_then_alert(void **state)
{
    (void)state;
    struct blob cs = load("curl-c2s.bin"), sc = load("curl-s2c.bin");
    uint8_t bytes[2 * 305 + 7];
    size_t n = 0;
    for (int r = 0; r < 2; r++) {
        static const uint8_t hdr[] = {0x17, 0x03, 0x03, 0x01, 0x2c}; /* 300 bytes */
        memcpy(bytes + n, hdr, 5);
        for (int i = 0; i < 300; i++)
            bytes[n + 5 + (size_t)i] = (uint8_t)(i * 7 + r);
        n += 305;
    }
    static const uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28}; /* fatal handshake_failure */
    memcpy(bytes + n, alert, sizeof alert);
    n += sizeof alert;
    static const size_t cuts[] = {0, 1, 5, 6, 304, 305, 306, 400, 610, 611, 616};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        struct conn *c = conn_new();
        conn_feed(c, LF_C2S, cs.p, CURL_C2S_FIN);
        conn_feed(c, LF_S2C, sc.p, CURL_S2C_FIN);
        assert_int_equal(c->nev, 0);
        conn_feed(c, LF_C2S, bytes, cuts[k]);
        conn_feed(c, LF_C2S, bytes + cuts[k], n - cuts[k]);
        assert_int_equal(c->nev, 1); /* sent at the first application data */
        conn_end(c);
        assert_false(c->left);
        const struct lf_ev_tls *t = &c->ev[0].u.tls;
        assert_int_equal(t->alert_from, 0); /* the alert came after the event */
        assert_curl_cert(t);
        conn_free(c);
    }
    free(cs.p);
    free(sc.p);
}

/* TLS 1.3 (Facebook's 0xfb1a variant) from tls_2_reasms.pcapng: the
 * certificate is encrypted. */
static void test_tls13_cert_encrypted(void **state)
{
    (void)state;
    struct blob cs = load("instagram13-client.bin"), sc = load("instagram13-server.bin");
    struct conn *c = conn_new();
    conn_feed(c, LF_C2S, cs.p, 404);  /* ClientHello */
    conn_feed(c, LF_S2C, sc.p, 139);  /* ServerHello, CCS */
    assert_int_equal(c->nev, 0);
    conn_feed(c, LF_S2C, sc.p + 139, 20); /* start of the encrypted flight */
    assert_int_equal(c->nev, 1);
    conn_feed(c, LF_S2C, sc.p + 159, sc.n - 159);
    conn_feed(c, LF_C2S, cs.p + 404, cs.n - 404);
    conn_end(c);
    assert_int_equal(c->nev, 1);
    assert_false(c->left);
    const struct lf_ev_tls *t = &c->ev[0].u.tls;
    assert_string_equal(t->sni, "i.instagram.com");
    assert_string_equal(t->ja3, "44dab16d680ef93487bc16ad23b3ffb1"); /* tshark */
    assert_string_equal(t->ja4, "t00d0309h2_55b375c5d22e_566d5108064c"); /* nDPI */
    assert_int_equal(t->client_version, 0xfb1a);
    assert_int_equal(t->version, 0xfb1a); /* tshark: supported_version in the ServerHello */
    assert_int_equal(t->cipher, 0x1301);
    assert_string_equal(t->alpn, "h2,h2-fb,http/1.1");
    assert_int_equal(t->cert_encrypted, 1);
    assert_string_equal(t->cert_subject, "");
    conn_free(c);
    free(cs.p);
    free(sc.p);
}

/* A ClientHello's start: the record and handshake headers (lengths patched
 * later at *rl and *hl), TLS 1.2, a fixed random and no session id. */
static void ch_begin(struct bld *b, size_t *rl, size_t *hl)
{
    b->n = 0;
    put8(b, 22);
    put16(b, 0x0301);
    *rl = b->n;
    put16(b, 0);
    put8(b, 1);
    *hl = b->n;
    put24(b, 0);
    put16(b, 0x0303);
    for (int i = 0; i < 32; i++)
        put8(b, i);
    put8(b, 0);
}

/* A hand-made ClientHello with the ciphers, extensions and signature
 * algorithms of the JA4 specification's example, plus GREASE values. */
static size_t build_ch_alpn(struct bld *b, int two_names, int ech, const char *alpn, size_t alpn_len)
{
    static const uint16_t ciphers[] = {0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
                                       0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
    static const uint16_t exts[] = {0x1a1a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d,
                                    0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015};
    static const uint16_t sigalgs[] = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601};
    size_t rl, hl;
    ch_begin(b, &rl, &hl);
    put16(b, sizeof ciphers);
    for (size_t i = 0; i < sizeof ciphers / 2; i++)
        put16(b, ciphers[i]);
    put8(b, 1);
    put8(b, 0);
    size_t el = b->n;
    put16(b, 0);
    for (size_t i = 0; i < sizeof exts / 2; i++) {
        uint16_t t = exts[i];
        put16(b, t);
        size_t l = b->n;
        put16(b, 0);
        if (t == 0x0000) {
            size_t ll = b->n;
            put16(b, 0);
            put8(b, 0);
            put16(b, 17);
            putn(b, "feweb.contoso.com", 17);
            if (two_names) {
                put8(b, 0);
                put16(b, 16);
                putn(b, "meet.contoso.com", 16);
            }
            patch(b, ll, 2);
        } else if (t == 0x0010) {
            put16(b, (unsigned)(1 + alpn_len + 9));
            put8(b, (unsigned)alpn_len);
            putn(b, alpn, alpn_len);
            put8(b, 8);
            putn(b, "http/1.1", 8);
        } else if (t == 0x000d) {
            put16(b, sizeof sigalgs);
            for (size_t k = 0; k < sizeof sigalgs / 2; k++)
                put16(b, sigalgs[k]);
        } else if (t == 0x002b) {
            put8(b, 6);
            put16(b, 0x7a7a);
            put16(b, 0x0304);
            put16(b, 0x0303);
        } else if (t == 0x000a) {
            put16(b, 6);
            put16(b, 0x2a2a);
            put16(b, 29);
            put16(b, 23);
        } else if (t == 0x000b) {
            put8(b, 1);
            put8(b, 0);
        }
        patch(b, l, 2);
    }
    if (ech) {
        put16(b, 0xfe0d);
        put16(b, 4);
        put16(b, 0x0001);
        put16(b, 0x0001);
    }
    patch(b, el, 2);
    patch(b, hl, 3);
    patch(b, rl, 2);
    return b->n;
}

static size_t build_ch(struct bld *b, int two_names, int ech) { return build_ch_alpn(b, two_names, ech, "h2", 2); }

/* The JA4 specification's ALPN examples: non-alphanumeric ends give hex digits. */
static void test_ja4_alpn_chars(void **state)
{
    (void)state;
    static const struct {
        const char *alpn;
        size_t len;
        const char *want;
    } cases[] = {
        {"\xab", 1, "ab"}, {"\xab\xcd", 2, "ad"}, {"\x30\xab", 2, "3b"}, {"\x30\x31\xab\xcd", 4, "3d"},
        {"\x30\xab\xcd\x31", 4, "01"}, {"h", 1, "hh"}, {"http/1.1", 8, "h1"}, {"", 0, "00"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct bld b;
        build_ch_alpn(&b, 0, 0, cases[i].alpn, cases[i].len);
        struct conn *c = conn_new();
        conn_feed(c, LF_C2S, b.b, b.n);
        conn_end(c);
        assert_int_equal(c->nev, 1);
        if (memcmp(c->ev[0].u.tls.ja4 + 8, cases[i].want, 2))
            fail_msg("alpn case %zu: ja4 %s, want %s", i, c->ev[0].u.tls.ja4, cases[i].want);
        conn_free(c);
    }
}

/* Names joined into the event's fields keep printable ASCII but ',' and show
 * '?' for the rest, wherever in a name (the copy goes eight bytes at a time). */
static void test_joined_names_sanitized(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *want;
    } cases[] = {
        {"0123456789abcdef", "0123456789abcdef"},
        {"abcdefgh,jklmnopq\x01stuvwxyz\x7f\x80", "abcdefgh?jklmnopq?stuvwxyz??"},
        {"~ !\x1f", "~ !?"},
        {"\xff" "bcdefghijklmnop", "?bcdefghijklmnop"},
        {"abcdefg" "\x7e" "ijklmno" "\x20", "abcdefg~ijklmno "},
        {"abcdefghijklmno" "\x2c", "abcdefghijklmno?"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct bld b;
        build_ch_alpn(&b, 0, 0, cases[i].name, strlen(cases[i].name));
        struct conn *c = conn_new();
        conn_feed(c, LF_C2S, b.b, b.n);
        conn_end(c);
        assert_int_equal(c->nev, 1);
        char want[128];
        snprintf(want, sizeof want, "%s,http/1.1", cases[i].want);
        if (strcmp(c->ev[0].u.tls.alpn, want) != 0)
            fail_msg("case %zu: alpn \"%s\", want \"%s\"", i, c->ev[0].u.tls.alpn, want);
        assert_string_equal(c->ev[0].u.tls.sni, "feweb.contoso.com");
        conn_free(c);
    }
}

static void test_ja4_spec_vector(void **state)
{
    (void)state;
    struct bld b;
    build_ch(&b, 1, 0);
    struct conn *c = conn_new();
    conn_feed(c, LF_C2S, b.b, b.n);
    conn_end(c);
    assert_int_equal(c->nev, 1);
    const struct lf_ev_tls *t = &c->ev[0].u.tls;
    /* the JA4 specification's worked example: same ciphers, extensions, signature algorithms */
    assert_string_equal(t->ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    assert_string_equal(t->sni, "feweb.contoso.com,meet.contoso.com");
    assert_string_equal(t->alpn, "h2,http/1.1");
    assert_int_equal(t->client_version, 0x0304);
    assert_int_equal(t->ech, 0);
    /* JA3 with GREASE removed: 771,<15 ciphers>,<16 extensions>,29-23,0 */
    assert_int_equal(strlen(t->ja3), 32);
    conn_free(c);
}

/* Fingerprints are kept per ClientHello shape: another GREASE draw gives the
 * same JA3/JA4, another cipher list gives others, and the first shape seen
 * again gets its own values back. */
static void fingerprints_of(const struct bld *b, char ja3[33], char ja4[48])
{
    struct conn *c = conn_new();
    conn_feed(c, LF_C2S, b->b, b->n);
    conn_end(c);
    assert_int_equal(c->nev, 1);
    memcpy(ja3, c->ev[0].u.tls.ja3, 33);
    memcpy(ja4, c->ev[0].u.tls.ja4, 48);
    conn_free(c);
}

static void test_fingerprint_shapes(void **state)
{
    (void)state;
    struct bld a, g, o;
    build_ch(&a, 0, 0);
    /* the same hello with other GREASE values (0x?a?a pairs) */
    g = a;
    size_t swapped = 0;
    for (size_t i = 0; i + 1 < g.n; i++)
        if ((g.b[i] & 0x0f) == 0x0a && g.b[i] == g.b[i + 1] && (g.b[i] >> 4) != 0xb) {
            g.b[i] = g.b[i + 1] = 0xba;
            swapped++;
        }
    assert_int_equal(swapped, 4); /* a cipher, an extension, a version, a group */
    /* the same hello with TLS_AES_128_GCM_SHA256 (0x1301) turned into 0x1304 */
    o = a;
    size_t changed = 0;
    for (size_t i = 0; i + 1 < o.n && !changed; i++)
        if (o.b[i] == 0x13 && o.b[i + 1] == 0x01) {
            o.b[i + 1] = 0x04;
            changed = 1;
        }
    assert_int_equal(changed, 1);

    char ja3a[33], ja4a[48], ja3g[33], ja4g[48], ja3o[33], ja4o[48], ja3b[33], ja4b[48];
    fingerprints_of(&a, ja3a, ja4a);
    fingerprints_of(&g, ja3g, ja4g);
    fingerprints_of(&o, ja3o, ja4o);
    fingerprints_of(&a, ja3b, ja4b);
    assert_string_equal(ja4a, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    assert_string_equal(ja3g, ja3a);
    assert_string_equal(ja4g, ja4a);
    assert_string_not_equal(ja3o, ja3a);
    assert_string_not_equal(ja4o, ja4a);
    assert_int_equal(strlen(ja3o), 32);
    assert_memory_equal(ja4o, "t13d1516h2_", 11); /* same counts, other cipher hash */
    assert_string_equal(ja3b, ja3a);
    assert_string_equal(ja4b, ja4a);
}

/* A ClientHello with n ciphers (a GREASE value first) and one extension,
 * supported_groups 29, 23; its JA3 string, as the JA3 definition builds it. */
static void build_long_ch_at(struct bld *b, size_t n, char *ja3s, size_t size, size_t at, uint16_t v);
static void build_long_ch(struct bld *b, size_t n, char *ja3s, size_t size)
{
    build_long_ch_at(b, n, ja3s, size, 0, 0x2a2a);
}

static int t_grease(uint16_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

/* The same, with the cipher at index `at` (0: the GREASE value) set to v. */
static void build_long_ch_at(struct bld *b, size_t n, char *ja3s, size_t size, size_t at, uint16_t v)
{
    size_t rl, hl;
    ch_begin(b, &rl, &hl);
    put16(b, (unsigned)(2 * n));
    size_t used = (size_t)snprintf(ja3s, size, "771,");
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        uint16_t c = i == at ? v : i == 0 ? 0x2a2a : (uint16_t)(0x0100 + i);
        put16(b, c);
        if (t_grease(c))
            continue;
        used += (size_t)snprintf(ja3s + used, size - used, "%s%u", first ? "" : "-", (unsigned)c);
        first = 0;
    }
    snprintf(ja3s + used, size - used, ",10,29-23,");
    put8(b, 1);
    put8(b, 0);
    put16(b, 10);
    put16(b, 0x000a);
    put16(b, 6);
    put16(b, 4);
    put16(b, 29);
    put16(b, 23);
    patch(b, hl, 3);
    patch(b, rl, 2);
}

/* The JA3 of a JA3 string: its MD5 in hex. */
static void ja3_of(const char *ja3s, char want[33])
{
    uint8_t dig[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    assert_true(EVP_Digest(ja3s, strlen(ja3s), dig, &dlen, EVP_md5(), NULL));
    for (unsigned i = 0; i < 16; i++)
        snprintf(want + 2 * i, 3, "%02x", dig[i]);
}

/* A flow that carries only this ClientHello, ended: its one event. */
static struct conn *hello_alone(const struct bld *b)
{
    struct conn *c = conn_new();
    conn_feed(c, LF_C2S, b->b, b->n);
    conn_end(c);
    assert_int_equal(c->nev, 1);
    return c;
}

/* Values next to GREASE ones (one byte equal, one nibble off), at every
 * position of an 8-byte step of the fingerprint key, are not folded: each
 * hello gets the JA3 of its own list even after the others were cached. */
static void test_fingerprint_near_grease(void **state)
{
    (void)state;
    static const uint16_t near[] = {0x1a2a, 0x0a0b, 0xba0a, 0x0aba, 0xaa0a, 0x1b1b, 0x0a1a, 0xfafb, 0x3a3a};
    for (size_t k = 0; k < sizeof near / sizeof near[0]; k++) {
        for (size_t at = 1; at <= 6; at++) {
            struct bld b;
            char ja3s[4096], want[33];
            build_long_ch_at(&b, 12, ja3s, sizeof ja3s, at, near[k]);
            ja3_of(ja3s, want);
            struct conn *c = hello_alone(&b);
            if (strcmp(c->ev[0].u.tls.ja3, want))
                fail_msg("0x%04x at %zu: ja3 %s, want %s (%s)", near[k], at, c->ev[0].u.tls.ja3, want, ja3s);
            conn_free(c);
        }
    }
}

/* Long cipher lists: one that fits the fingerprint cache's key and one that
 * does not (computed without the cache) both give the JA3 of their lists. */
static void test_fingerprint_long_lists(void **state)
{
    (void)state;
    static const size_t sizes[] = {400, 520, 400};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        struct bld b;
        char ja3s[4096], want[33];
        build_long_ch(&b, sizes[k], ja3s, sizeof ja3s);
        ja3_of(ja3s, want);
        struct conn *c = hello_alone(&b);
        assert_string_equal(c->ev[0].u.tls.ja3, want);
        assert_memory_equal(c->ev[0].u.tls.ja4, "t12i9901", 8); /* 99: the count caps at two digits */
        conn_free(c);
    }
}

/* A ServerHello body: TLS 1.3 through supported_versions, the given random. */
static void put_sh13(struct bld *m, const uint8_t *random, uint16_t cipher)
{
    put8(m, 2);
    size_t l = m->n;
    put24(m, 0);
    put16(m, 0x0303);
    putn(m, random, 32);
    put8(m, 0);
    put16(m, cipher);
    put8(m, 0);
    put16(m, 6);
    put16(m, 0x002b);
    put16(m, 2);
    put16(m, 0x0304);
    patch(m, l, 3);
}

/* HelloRetryRequest, the client's CCS and second ClientHello, then the real
 * ServerHello: the final ServerHello wins, the first ClientHello's fingerprint
 * stays, and the event waits for the server's protected flight. */
static void test_hello_retry_request(void **state)
{
    (void)state;
    static const uint8_t hrr[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
                                    0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
                                    0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
    static const uint8_t ccs[] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01};
    static const uint8_t app[] = {0x17, 0x03, 0x03, 0x00, 0x04, 9, 9, 9, 9};
    uint8_t rnd[32];
    memset(rnd, 0x42, sizeof rnd);
    struct bld ch, m1 = {.n = 0}, m2 = {.n = 0};
    build_ch(&ch, 0, 0);
    put_sh13(&m1, hrr, 0x1302);
    put_sh13(&m2, rnd, 0x1301);
    struct bld *r1 = records(22, m1.b, m1.n, 16384), *r2 = records(22, m2.b, m2.n, 16384);
    struct conn *c = conn_new();
    conn_feed(c, LF_C2S, ch.b, ch.n);
    conn_feed(c, LF_S2C, r1->b, r1->n);
    conn_feed(c, LF_S2C, ccs, sizeof ccs);
    conn_feed(c, LF_C2S, ccs, sizeof ccs);
    ch.b[ch.n - 1] ^= 1; /* the second hello differs */
    conn_feed(c, LF_C2S, ch.b, ch.n);
    conn_feed(c, LF_S2C, r2->b, r2->n);
    assert_int_equal(c->nev, 0);
    conn_feed(c, LF_S2C, app, sizeof app);
    assert_int_equal(c->nev, 1);
    assert_false(c->left);
    const struct lf_ev_tls *t = &c->ev[0].u.tls;
    assert_int_equal(t->version, 0x0304);
    assert_int_equal(t->cipher, 0x1301);
    assert_int_equal(t->cert_encrypted, 1);
    assert_string_equal(t->ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    conn_free(c);
    free(r1);
    free(r2);
}

static void test_ech_present(void **state)
{
    (void)state;
    struct bld b;
    build_ch(&b, 0, 1);
    struct conn *c = conn_new();
    conn_feed(c, LF_C2S, b.b, b.n);
    conn_end(c);
    assert_int_equal(c->nev, 1);
    assert_int_equal(c->ev[0].u.tls.ech, 1);
    assert_string_equal(c->ev[0].u.tls.sni, "feweb.contoso.com");
    /* one more extension than the specification's example */
    assert_memory_equal(c->ev[0].u.tls.ja4, "t13d1517h2_8daaf6152771_", 24);
    conn_free(c);
}

/* A server Certificate message built around a DER made with openssl req:
 * the expected values are what `openssl x509 -nameopt RFC2253` prints. */
static void test_certificate_multi_san(void **state)
{
    (void)state;
    struct blob der = load("contoso-multisan.der");
    struct bld ch;
    build_ch(&ch, 0, 0);
    struct bld *m = lf_xcalloc(1, sizeof *m);
    /* ServerHello: TLS 1.2, ECDHE-RSA-AES128-GCM-SHA256, no extensions */
    put8(m, 2);
    size_t l = m->n;
    put24(m, 0);
    put16(m, 0x0303);
    for (int i = 0; i < 32; i++)
        put8(m, 0x11);
    put8(m, 0);
    put16(m, 0xc02f);
    put8(m, 0);
    patch(m, l, 3);
    /* Certificate: the leaf, then a second (bogus) entry that must be ignored */
    put8(m, 11);
    l = m->n;
    put24(m, 0);
    size_t ll = m->n;
    put24(m, 0);
    put24(m, (unsigned)der.n);
    putn(m, der.p, der.n);
    put24(m, 3);
    putn(m, "\x30\x01\x00", 3);
    patch(m, ll, 3);
    patch(m, l, 3);
    put8(m, 14);
    put24(m, 0);
    struct bld *rec = records(22, m->b, m->n, 700);
    struct conn *c = conn_new();
    conn_feed(c, LF_C2S, ch.b, ch.n);
    for (size_t off = 0; off < rec->n; off += 333)
        conn_feed(c, LF_S2C, rec->b + off, rec->n - off < 333 ? rec->n - off : 333);
    static const uint8_t app[] = {0x17, 0x03, 0x03, 0x00, 0x03, 1, 2, 3};
    conn_feed(c, LF_C2S, app, sizeof app);
    assert_int_equal(c->nev, 1);
    const struct lf_ev_tls *t = &c->ev[0].u.tls;
    assert_int_equal(t->version, 0x0303);
    assert_int_equal(t->cipher, 0xc02f);
    assert_string_equal(t->cert_subject, "CN=feweb.contoso.com,O=Contoso Ltd,C=US");
    assert_string_equal(t->cert_issuer, "CN=feweb.contoso.com,O=Contoso Ltd,C=US");
    assert_string_equal(t->cert_san, "feweb.contoso.com,meet.contoso.com,dialin.contoso.com,lyncdiscover.contoso.com");
    assert_string_equal(t->cert_sha256, "c9f3a6b0d48dcd91465adce95bd7159052a0bee8bf26467d57fbfec1b971f264");
    assert_int_equal(t->cert_not_after, 2110892525LL * 1000000);
    assert_int_equal(t->cert_not_after - t->cert_not_before, 3650LL * 86400 * 1000000);
    assert_int_equal(t->alpn[0], 'h'); /* no ALPN from the server: the client's list */
    assert_int_equal(t->h2, 0);
    conn_free(c);
    free(rec);
    free(m);
    free(der.p);
}

static void test_sslv2_hello(void **state)
{
    (void)state;
    struct bld b = {.n = 0};
    put16(&b, 0);
    put8(&b, 1);
    put16(&b, 0x0301);
    put16(&b, 9);
    put16(&b, 0);
    put16(&b, 16);
    putn(&b, "\x00\x00\x2f\x00\x00\x35\x01\x00\x80", 9);
    for (int i = 0; i < 16; i++)
        put8(&b, i);
    b.b[0] = (uint8_t)(0x80 | (b.n - 2) >> 8);
    b.b[1] = (uint8_t)(b.n - 2);
    assert_int_equal(lf_dissector_tls.probe(b.b, b.n, LF_C2S), LF_PROBE_YES);
    assert_int_equal(lf_dissector_tls.probe(b.b, 3, LF_C2S), LF_PROBE_MAYBE);
    struct conn *c = conn_new();
    conn_feed(c, LF_C2S, b.b, 4);
    conn_feed(c, LF_C2S, b.b + 4, b.n - 4);
    static const uint8_t sh_alert[] = {0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46}; /* protocol_version */
    conn_feed(c, LF_S2C, sh_alert, sizeof sh_alert);
    assert_int_equal(c->nev, 1);
    assert_int_equal(c->ev[0].u.tls.sslv2_hello, 1);
    assert_int_equal(c->ev[0].u.tls.client_version, 0x0301);
    assert_int_equal(c->ev[0].u.tls.alert_desc, 70);
    assert_false(c->left);
    conn_free(c);
}

static void test_probe(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len;
        enum lf_probe want;
    } cases[] = {
        {"", 0, LF_PROBE_MAYBE},
        {"\x16", 1, LF_PROBE_MAYBE},
        {"\x16\x03", 2, LF_PROBE_MAYBE},
        {"\x16\x03\x01\x02", 4, LF_PROBE_MAYBE},
        {"\x16\x03\x01\x02\x00", 5, LF_PROBE_YES},
        {"\x17\x03\x03\x00\x20", 5, LF_PROBE_YES},
        {"\x16\x03\x05\x02\x00", 5, LF_PROBE_NO},
        {"\x16\x02\x01\x02\x00", 5, LF_PROBE_NO},
        {"\x16\x03\x01\x00\x00", 5, LF_PROBE_NO},
        {"\x16\x03\x01\x50\x00", 5, LF_PROBE_NO},
        {"\x18\x03\x03\x00\x20", 5, LF_PROBE_NO},
        {"GET / HTTP/1.1\r\n", 16, LF_PROBE_NO},
        {"HTTP/1.1 200 OK\r\n", 17, LF_PROBE_NO},
        {"PRI * HTTP/2.0", 14, LF_PROBE_NO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (lf_dissector_tls.probe((const uint8_t *)cases[i].bytes, cases[i].len, LF_C2S) != cases[i].want)
            fail_msg("probe case %zu", i);
    }
}

/* A hole in the server's flight: the ServerHello is lost, the dissector finds
 * the Certificate record again. A hole inside application data is skipped
 * exactly. */
static void test_gap_resync(void **state)
{
    (void)state;
    struct blob cs = load("curl-c2s.bin"), sc = load("curl-s2c.bin");
    struct conn *c = conn_new();
    conn_feed(c, LF_C2S, cs.p, CURL_CH_END);
    conn_feed(c, LF_S2C, sc.p, 40);
    conn_gap(c, LF_S2C, 30);
    conn_feed(c, LF_S2C, sc.p + 70, CURL_S2C_FLIGHT - 70);
    conn_feed(c, LF_C2S, cs.p + CURL_CH_END, CURL_C2S_FIN - CURL_CH_END);
    conn_feed(c, LF_C2S, cs.p + CURL_C2S_FIN, 20);
    assert_int_equal(c->nev, 1);
    conn_gap(c, LF_C2S, 30); /* inside the 48-byte application data record */
    conn_feed(c, LF_C2S, cs.p + CURL_C2S_FIN + 50, cs.n - CURL_C2S_FIN - 50);
    assert_false(c->left);
    const struct lf_ev_tls *t = &c->ev[0].u.tls;
    assert_int_equal(t->version, 0);
    assert_curl_cert(t);
    conn_end(c);
    assert_int_equal(c->nev, 1);
    conn_free(c);
    free(cs.p);
    free(sc.p);
}

/* Bytes that are not TLS: the dissector leaves, and emits nothing. */
static void test_not_tls_leaves(void **state)
{
    (void)state;
    static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    struct conn *c = conn_new();
    conn_feed(c, LF_C2S, (const uint8_t *)http, sizeof http - 1);
    assert_true(c->left);
    conn_end(c);
    assert_int_equal(c->nev, 0);
    conn_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_curl_tls12),
        cmocka_unit_test(test_roles_from_hellos),
        cmocka_unit_test(test_state_reused_clean),
        cmocka_unit_test(test_early_data_waits),
        cmocka_unit_test(test_clienthello_split_segments),
        cmocka_unit_test(test_clienthello_split_records),
        cmocka_unit_test(test_several_messages_one_record),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_garbage_lengths),
        cmocka_unit_test(test_alert_from_server),
        cmocka_unit_test(test_alert_from_client_after_cert),
        cmocka_unit_test(test_warning_alert_keeps_going),
        cmocka_unit_test(test_tls13_cert_encrypted),
        cmocka_unit_test(test_ja4_spec_vector),
        cmocka_unit_test(test_fingerprint_shapes),
        cmocka_unit_test(test_ja4_alpn_chars),
        cmocka_unit_test(test_joined_names_sanitized),
        cmocka_unit_test(test_hello_retry_request),
        cmocka_unit_test(test_ech_present),
        cmocka_unit_test(test_certificate_multi_san),
        cmocka_unit_test(test_sslv2_hello),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_gap_resync),
        cmocka_unit_test(test_not_tls_leaves),
        cmocka_unit_test(test_fingerprint_long_lists),
        cmocka_unit_test(test_appdata_then_alert),
        cmocka_unit_test(test_fingerprint_near_grease),
    };
    return cmocka_run_group_tests_name("tls", tests, NULL, NULL);
}
