/* fuzz_tls.c: libFuzzer target for the TLS dissector (dissectors/tls.c), driven as the stream layer drives it.
 * The input is a list of chunks, directions alternating from client to
 * server: a 2-byte big-endian header whose top bit marks a gap (the low 15
 * bits are its length) and otherwise gives the length of the data that
 * follows. Each on_data call sees its bytes in an allocation of exactly
 * their size, so any overread is caught. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lyncflow/dissect.h"
#include "lyncflow/engine.h"
#include "lyncflow/event.h"

extern const struct lf_dissector lf_dissector_tls;

static int events;

static void check_str(const char *s, size_t size)
{
    if (!memchr(s, 0, size))
        abort();
}

static void on_event(void *ctx, struct lf_event *ev)
{
    (void)ctx;
    if (ev->type != LF_EV_TLS || ++events > 1)
        abort(); /* one tls event per connection */
    const struct lf_ev_tls *t = &ev->u.tls;
    check_str(t->sni, sizeof t->sni);
    check_str(t->alpn, sizeof t->alpn);
    check_str(t->cert_subject, sizeof t->cert_subject);
    check_str(t->cert_issuer, sizeof t->cert_issuer);
    check_str(t->cert_san, sizeof t->cert_san);
    check_str(t->cert_sha256, sizeof t->cert_sha256);
    check_str(t->ja3, sizeof t->ja3);
    check_str(t->ja4, sizeof t->ja4);
}

struct pending {
    uint8_t *buf;
    size_t len, want;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lf_engine *eng;
    if (!eng) {
        struct lf_config cfg;
        lf_config_defaults(&cfg);
        eng = lf_engine_new(&cfg, on_event, NULL);
    }
    events = 0;
    struct lf_flowctx fc;
    memset(&fc, 0, sizeof fc);
    fc.flow_id = 1;
    fc.eng = eng;
    fc.ts = 1;
    void *st = lf_dissector_tls.state_new(&fc);
    struct pending p[2];
    memset(p, 0, sizeof p);
    int left = 0;
    size_t off = 0;
    for (int dir = 0; off + 2 <= size && !left; dir ^= 1) {
        size_t h = ((size_t)data[off] << 8) | data[off + 1];
        off += 2;
        fc.ts++;
        if (h & 0x8000) {
            p[dir].len = 0;
            p[dir].want = 0;
            if (lf_dissector_tls.on_gap(st, &fc, (enum lf_dir)dir, h & 0x7fff) == LF_DIS_ERROR)
                left = 1;
            continue;
        }
        size_t n = h < size - off ? h : size - off;
        if (p[dir].len == 0 && n > 0)
            (void)lf_dissector_tls.probe(data + off, n, (enum lf_dir)dir);
        uint8_t *nb = realloc(p[dir].buf, p[dir].len + n + 1);
        if (!nb)
            abort();
        p[dir].buf = nb;
        memcpy(p[dir].buf + p[dir].len, data + off, n);
        p[dir].len += n;
        off += n;
        while (!left && p[dir].len > 0 && p[dir].len >= p[dir].want) {
            uint8_t *copy = malloc(p[dir].len);
            if (!copy)
                abort();
            memcpy(copy, p[dir].buf, p[dir].len);
            struct lf_dres r = lf_dissector_tls.on_data(st, &fc, (enum lf_dir)dir, copy, p[dir].len);
            free(copy);
            if (r.consumed > p[dir].len)
                abort();
            memmove(p[dir].buf, p[dir].buf + r.consumed, p[dir].len - r.consumed);
            p[dir].len -= r.consumed;
            if (r.status == LF_DIS_ERROR)
                left = 1;
            else if (r.status == LF_DIS_INCOMPLETE)
                p[dir].want = p[dir].len + r.needed;
            else if (r.consumed == 0)
                break;
            if (r.status != LF_DIS_OK)
                break;
        }
    }
    lf_dissector_tls.on_end(st, &fc);
    lf_dissector_tls.state_free(st);
    free(p[0].buf);
    free(p[1].buf);
    return 0;
}
