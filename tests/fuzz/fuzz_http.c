/* fuzz_http.c: libFuzzer target for the HTTP/1.x dissector (dissectors/http.c).
 * The input is a list of chunks, each a 2-byte big-endian header then its
 * bytes: the header's top bit marks a capture hole of that many bytes
 * instead, the rest is the chunk length (mod 4096). Chunks alternate
 * directions, starting with the client's; each on_data call gets its bytes in
 * an allocation of their exact size, as tests/unit/dis_feed.h does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TF_MAX_EVENTS 4
#include "../unit/dis_feed.h"

extern const struct lf_dissector lf_dissector_http;

static void check_str(const char *s, size_t size)
{
    if (memchr(s, 0, size) == NULL)
        abort();
}

static void check_events(struct tf *t)
{
    for (int i = 0; i < t->n; i++) {
        const struct lf_ev_http *h = &t->ev[i].u.http;
        if (t->ev[i].type != LF_EV_HTTP)
            abort();
        check_str(h->method, sizeof h->method);
        check_str(h->uri, sizeof h->uri);
        check_str(h->host, sizeof h->host);
        check_str(h->user, sizeof h->user);
        check_str(h->www_authenticate, sizeof h->www_authenticate);
        check_str(h->ntlm_user, sizeof h->ntlm_user);
        if (h->status > 999 || h->ntlm_type > 3)
            abort();
    }
    t->n = 0;
}

static struct lf_engine *engine(void)
{
    static struct lf_engine *eng;
    if (!eng) {
        struct lf_config cfg;
        lf_config_defaults(&cfg);
        cfg.max_flows = 16;
        eng = lf_engine_new(&cfg, tf_collect, NULL);
    }
    return eng;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tf *t = tf_new_eng(&lf_dissector_http, engine());
    size_t off = 0;
    int dir = LF_C2S, first = 1;
    while (off + 2 <= size && !t->left) {
        unsigned hdr = (unsigned)data[off] << 8 | data[off + 1];
        off += 2;
        size_t n = hdr & 0xfff;
        t->fc.ts += 1000;
        if (hdr & 0x8000) {
            t->len[dir] = 0;
            t->want[dir] = 0;
            if (lf_dissector_http.on_gap(t->st, &t->fc, (enum lf_dir)dir, n) == LF_DIS_ERROR)
                t->left = 1;
        } else {
            if (n > size - off)
                n = size - off;
            uint8_t *chunk = malloc(n ? n : 1);
            memcpy(chunk, data + off, n);
            if (first)
                lf_dissector_http.probe(chunk, n, (enum lf_dir)dir);
            first = 0;
            tf_feed(t, (enum lf_dir)dir, chunk, n);
            free(chunk);
            off += n;
        }
        check_events(t);
        dir = !dir;
    }
    tf_end(t);
    check_events(t);
    tf_free(t);
    return 0;
}
