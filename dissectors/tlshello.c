/* tlshello.c: ClientHello and ServerHello of a TLS connection, read into its pending tls event (RFC 8446 4.1).
 *
 * The ClientHello gives the SNI (RFC 6066 3), the ALPN list (RFC 7301 3),
 * the highest supported version (RFC 8446 4.2.1), whether ECH is offered
 * (draft-ietf-tls-esni) and, through tlsfinger.c, JA3 and JA4. The
 * ServerHello gives the negotiated version, cipher and ALPN protocol, and
 * tells a HelloRetryRequest (RFC 8446 4.1.3) by its random. Fields are set
 * only from well-framed messages; see each parser for what a malformed one
 * keeps. Capture thread only.
 */
#include <string.h>

#include "lyncflow/cursor.h"
#include "lyncflow/dissect.h"
#include "lyncflow/event.h"
#include "tls_int.h"

/* SHA-256("HelloRetryRequest"), the ServerHello.random of a HelloRetryRequest (RFC 8446 4.1.3). */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* The names of a list (SNI, ALPN, SAN) joined by ','; see tls_int.h. */
int tls_join_field(char *field, size_t size, const uint8_t *s, size_t n)
{
    size_t used = strlen(field);
    if (used && used + 1 < size)
        field[used++] = ',';
    size_t room = size - 1 - used, k = n < room ? n : room;
    char *o = field + used;
    for (size_t i = 0; i < k; i++)
        o[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != ',') ? (char)s[i] : '?';
    o[k] = 0;
    return k == n;
}

/* Parses a ClientHello body (after the 4-byte header). Fields are committed
 * only when the message is well framed up to its extensions; an ALPN list
 * malformed inside its extension only loses the ALPN, and extensions whose
 * framing breaks lose themselves and the fingerprints (JA3, JA4 stay empty). */
void tls_parse_client_hello(struct tls_state *st, const struct lf_flowctx *fc, struct lf_cur m)
{
    struct ch_view v;
    memset(&v, 0, sizeof v);
    char sni[NAMES_MAX], alpn[NAMES_MAX];
    sni[0] = alpn[0] = 0; /* strings: tls_join_field and lf_event_set read up to the NUL */
    int ech = 0, broken = 0;

    v.legacy_version = lf_cur_u16(&m);
    lf_cur_skip(&m, 32);
    uint8_t sid = lf_cur_u8(&m);
    if (sid > 32)
        return;
    lf_cur_skip(&m, sid);
    uint16_t cl = lf_cur_u16(&m);
    if (cl & 1)
        return;
    v.ciphers = lf_cur_sub(&m, cl);
    lf_cur_skip(&m, lf_cur_u8(&m));
    if (!lf_cur_ok(&m))
        return;
    v.max_version = v.legacy_version;
    if (lf_cur_left(&m) > 0) {
        v.exts = lf_cur_sub(&m, lf_cur_u16(&m));
        if (!lf_cur_ok(&m))
            return;
        struct lf_cur e = v.exts;
        while (lf_cur_left(&e) > 0) {
            uint16_t type = lf_cur_u16(&e);
            struct lf_cur x = lf_cur_sub(&e, lf_cur_u16(&e));
            if (!lf_cur_ok(&e)) {
                broken = 1; /* the extensions before this one stand; no fingerprint of a partial list */
                break;
            }
            switch (type) {
            case EXT_SERVER_NAME: {
                v.has_sni = 1;
                struct lf_cur list = lf_cur_sub(&x, lf_cur_u16(&x));
                while (lf_cur_ok(&list) && lf_cur_left(&list) > 0) {
                    uint8_t nt = lf_cur_u8(&list);
                    struct lf_cur name = lf_cur_sub(&list, lf_cur_u16(&list));
                    if (lf_cur_ok(&name) && nt == 0 && name.len > 0)
                        tls_join_field(sni, sizeof sni, name.p, name.len);
                }
                if (!lf_cur_ok(&list) || lf_cur_left(&x) > 0)
                    return;
                break;
            }
            case EXT_ALPN: {
                struct lf_cur list = lf_cur_sub(&x, lf_cur_u16(&x));
                v.alpn = list;
                v.has_alpn = 1;
                while (lf_cur_ok(&list) && lf_cur_left(&list) > 0) {
                    struct lf_cur name = lf_cur_sub(&list, lf_cur_u8(&list));
                    if (lf_cur_ok(&name) && name.len > 0)
                        tls_join_field(alpn, sizeof alpn, name.p, name.len);
                }
                if (!lf_cur_ok(&list) || lf_cur_left(&x) > 0) {
                    /* a bad list inside a well-framed extension: the ALPN is unknown, the rest stands */
                    alpn[0] = 0;
                    v.has_alpn = 0;
                }
                break;
            }
            case EXT_SUPPORTED_VERSIONS: {
                struct lf_cur list = lf_cur_sub(&x, lf_cur_u8(&x));
                uint16_t best = 0;
                while (lf_cur_ok(&list) && lf_cur_left(&list) >= 2) {
                    uint16_t ver = lf_cur_u16(&list);
                    if (!tls_is_grease(ver) && ver > best)
                        best = ver;
                }
                if (best)
                    v.max_version = best;
                break;
            }
            case EXT_SUPPORTED_GROUPS:
                v.groups = lf_cur_sub(&x, lf_cur_u16(&x));
                v.has_groups = lf_cur_ok(&v.groups);
                break;
            case EXT_EC_POINT_FORMATS:
                v.points = lf_cur_sub(&x, lf_cur_u8(&x));
                v.has_points = lf_cur_ok(&v.points);
                break;
            case EXT_SIGNATURE_ALGORITHMS:
                v.sigalgs = lf_cur_sub(&x, lf_cur_u16(&x));
                v.has_sigalgs = lf_cur_ok(&v.sigalgs);
                break;
            case EXT_ECH:
                ech = 1;
                break;
            }
        }
    }

    struct lf_ev_tls *t = &st->ev.u.tls;
    st->ch_seen = 1;
    st->ts = fc->ts;
    LF_EV_SET(&st->ev, u.tls.sni, sni);
    if (!st->sh_seen)
        LF_EV_SET(&st->ev, u.tls.alpn, alpn);
    t->client_version = v.max_version;
    t->ech = (uint8_t)ech;
    if (broken)
        return;
    tls_fingerprints(&v, t);
}

void tls_parse_server_hello(struct tls_state *st, const struct lf_flowctx *fc, struct lf_cur m)
{
    uint16_t version = lf_cur_u16(&m);
    uint8_t random[32];
    lf_cur_copy(&m, random, sizeof random);
    uint8_t sid = lf_cur_u8(&m);
    if (sid > 32)
        return;
    lf_cur_skip(&m, sid);
    uint16_t cipher = lf_cur_u16(&m);
    lf_cur_skip(&m, 1);
    if (!lf_cur_ok(&m))
        return;
    char alpn[NAMES_MAX] = "";
    if (lf_cur_left(&m) > 0) {
        struct lf_cur e = lf_cur_sub(&m, lf_cur_u16(&m));
        while (lf_cur_ok(&e) && lf_cur_left(&e) > 0) {
            uint16_t type = lf_cur_u16(&e);
            struct lf_cur x = lf_cur_sub(&e, lf_cur_u16(&e));
            if (type == EXT_SUPPORTED_VERSIONS && lf_cur_left(&x) == 2) {
                version = lf_cur_u16(&x);
            } else if (type == EXT_ALPN) {
                struct lf_cur list = lf_cur_sub(&x, lf_cur_u16(&x));
                struct lf_cur name = lf_cur_sub(&list, lf_cur_u8(&list));
                if (lf_cur_ok(&name) && name.len > 0)
                    tls_join_field(alpn, sizeof alpn, name.p, name.len);
            }
        }
        if (!lf_cur_ok(&e) || !lf_cur_ok(&m))
            return;
    }
    struct lf_ev_tls *t = &st->ev.u.tls;
    if (!memcmp(random, hrr_random, sizeof random))
        st->hrr = 1;
    st->sh_seen = 1;
    st->version = version;
    t->version = version;
    t->cipher = cipher;
    if (alpn[0]) {
        LF_EV_SET(&st->ev, u.tls.alpn, alpn);
        t->h2 = !strcmp(alpn, "h2");
    }
    if (!st->ch_seen)
        st->ts = fc->ts;
}

