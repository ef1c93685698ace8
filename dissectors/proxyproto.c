/* proxyproto.c: skips the PROXY protocol header a load balancer puts before a client's bytes (HAProxy PROXY protocol
 * v1 and v2, haproxy.org/download/2.9/doc/proxy-protocol.txt).
 *
 * v1 is one text line, "PROXY " ... CRLF, at most 107 bytes. v2 is the 12-byte signature 0D 0A 0D 0A 00 0D 0A 51 55
 * 49 54 0A, a version/command byte (high nibble 2), a family byte and a 16-bit length of the addresses and TLVs
 * that follow. The dissector consumes the header and leaves (LF_DIS_ERROR at that point, dissect.h): the engine
 * probes the bytes after it, which are the proxied protocol's (TLS or HTTP).
 */
#include "lyncflow/cursor.h"
#include "lyncflow/dissect.h"

#define V1_MAX 107

static const uint8_t v2_sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
static const char v1_sig[] = "PROXY ";

/* 1 when data starts with sig, 0 when it cannot, -1 when data is a shorter prefix of it. */
static int prefix(const uint8_t *data, size_t len, const void *sig, size_t n)
{
    struct lf_cur c = lf_cur_make(data, len);
    const uint8_t *s = sig;
    for (size_t i = 0; i < n; i++) {
        if (!lf_cur_left(&c))
            return -1;
        if (lf_cur_u8(&c) != s[i])
            return 0;
    }
    return 1;
}

static enum lf_probe pp_probe(const uint8_t *data, size_t len, enum lf_dir dir)
{
    if (dir != LF_C2S || !len)
        return LF_PROBE_NO;
    int r = prefix(data, len, v1_sig, sizeof v1_sig - 1);
    if (!r)
        r = prefix(data, len, v2_sig, sizeof v2_sig);
    return r > 0 ? LF_PROBE_YES : r < 0 ? LF_PROBE_MAYBE : LF_PROBE_NO;
}

static struct lf_dres res(enum lf_dis_status s, size_t consumed, size_t needed)
{
    struct lf_dres r = {s, consumed, needed};
    return r;
}

static struct lf_dres pp_data(void *st, struct lf_flowctx *fc, enum lf_dir dir, const uint8_t *data, size_t len)
{
    (void)st;
    (void)fc;
    if (dir != LF_C2S)
        return res(LF_DIS_ERROR, 0, 0);
    struct lf_cur c = lf_cur_make(data, len);
    if (prefix(data, len, v1_sig, sizeof v1_sig - 1)) {
        long nl = lf_cur_find(&c, '\n');
        if (nl < 0)
            return len >= V1_MAX ? res(LF_DIS_ERROR, 0, 0) : res(LF_DIS_INCOMPLETE, 0, 1);
        if ((size_t)nl + 1 > V1_MAX)
            return res(LF_DIS_ERROR, 0, 0);
        return res(LF_DIS_ERROR, (size_t)nl + 1, 0); /* the header is done: what follows is probed */
    }
    if (len < 16)
        return res(LF_DIS_INCOMPLETE, 0, 16 - len);
    lf_cur_skip(&c, sizeof v2_sig);
    uint8_t ver = lf_cur_u8(&c);
    lf_cur_skip(&c, 1);
    size_t n = lf_cur_u16(&c);
    if ((ver >> 4) != 2)
        return res(LF_DIS_ERROR, 0, 0);
    if (lf_cur_left(&c) < n)
        return res(LF_DIS_INCOMPLETE, 0, n - lf_cur_left(&c));
    return res(LF_DIS_ERROR, 16 + n, 0);
}

const struct lf_dissector lf_dissector_proxyproto = {
    .name = "proxy",
    .probe = pp_probe,
    .on_data = pp_data,
};
