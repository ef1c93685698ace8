/* tls_int.h: what the TLS dissector's files share (RFC 5246, 8446): the per-connection state and its helpers.
 *
 * tls.c is the dissector: records, per-direction state, handshake message
 * reassembly, alerts, the tls event and the hand-off of decrypted data to
 * the inner dissector. tlshello.c reads ClientHello and ServerHello into the
 * pending event (RFC 8446 4.1, RFC 6066 3, RFC 7301 3), tlsfinger.c computes
 * the JA3 and JA4 fingerprints of a ClientHello and owns the digests,
 * tlscert.c reads the leaf of a Certificate message (RFC 5280) through a
 * cache. These run on the capture thread only. Nothing here leaves
 * dissectors/: the rest of the program sees lf_dissector_tls alone.
 */
#ifndef LYNCFLOW_TLS_INT_H
#define LYNCFLOW_TLS_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "lyncflow/cursor.h"
#include "lyncflow/dissect.h"
#include "lyncflow/event.h"
#include "lyncflow/tlsdec.h"
#include "lyncflow/util.h"

enum {
    EXT_SERVER_NAME = 0x0000,
    EXT_SUPPORTED_GROUPS = 0x000a,
    EXT_EC_POINT_FORMATS = 0x000b,
    EXT_SIGNATURE_ALGORITHMS = 0x000d,
    EXT_ALPN = 0x0010,
    EXT_SUPPORTED_VERSIONS = 0x002b,
    EXT_ECH = 0xfe0d,
};

#define TLS_FSZ(f) sizeof(((struct lf_ev_tls *)0)->f)
#define NAMES_MAX (LF_CAP_TEXT + 2) /* a joined list longer than the cap: cut there, marked truncated */

struct tls_dir {
    uint8_t *hs;            /* handshake message reassembly, grows up to TLS_HS_MAX */
    size_t hs_len, hs_cap;
    size_t hs_skip;         /* bytes of an oversize handshake message still to drop */
    size_t rec_skip;        /* body bytes of the current record still to drop */
    size_t resync_scanned;  /* bytes given up while looking for a header after a gap */
    uint32_t fail_run;      /* consecutive records whose tag did not verify */
    uint8_t started;        /* a record (or the SSLv2 hello) was seen */
    uint8_t ccs;            /* ChangeCipherSpec seen from this side */
    uint8_t resync;         /* after a gap: looking for the next record header */
    uint8_t gapped;         /* this direction had a gap */
    uint8_t nodecrypt;      /* decryption of this direction stopped */
    struct lf_bytebuf inner; /* decrypted bytes for the inner dissector */
    uint8_t *probe;         /* decrypted bytes kept until the inner dissector is chosen */
    size_t probe_len;
};

struct tls_state {
    lf_time ts;             /* the tls event's time: the ClientHello's */
    struct tls_dir d[2];
    struct lf_tlsdec *dec;
    uint8_t *plain;         /* one decrypted record (TLS_REC_MAX), allocated with dec */
    const struct lf_dissector *inner;
    void *inner_st;
    struct lf_flowctx ifc;  /* what the inner dissector sees: sni set, decrypted = 1 */
    uint8_t inner_state;
    uint8_t ch_seen, sh_seen, hrr, cert_done, cert_seen, emitted;
    uint8_t decrypted_any, nokey, counted_nokey;
    uint8_t server_spoke;   /* a handshake message from the server was read */
    uint8_t roles_known;    /* the first hello told which side is the client */
    uint8_t swapped;        /* that side is fc's server: the flow's roles are reversed */
    uint16_t version;       /* negotiated, 0 until the ServerHello */
    uint32_t failures;
    uint32_t hs_oversize;   /* handshake messages larger than TLS_HS_MAX, skipped */
    struct {                /* the exchange being read in an undecrypted connection: the client's records */
        lf_time first, last;
        uint64_t bytes;
        uint32_t records;
        uint32_t answers;   /* the server's records since: an exchange event went out for each of the first */
        uint32_t exchanges; /* exchanges of the connection so far */
    } x;
    /* The pending tls event, emitted from here: ev.u.tls holds its fields,
     * the fixed part is zero until emit_event sets it. Last, so that the rest
     * of the union after the tls member is never touched. */
    struct lf_event ev;
};

/* Where the lists of a ClientHello sit; every cursor here was checked. */
struct ch_view {
    uint16_t legacy_version, max_version;
    struct lf_cur ciphers, exts;
    struct lf_cur groups, points, sigalgs, alpn;
    int has_sni, has_groups, has_points, has_sigalgs, has_alpn;
};

static inline int tls_is_grease(uint16_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

/* tlshello.c: the hellos, read into st->ev.u.tls (m is the body after the 4-byte header). */
void tls_parse_client_hello(struct tls_state *st, const struct lf_flowctx *fc, struct lf_cur m);
void tls_parse_server_hello(struct tls_state *st, const struct lf_flowctx *fc, struct lf_cur m);
/* Appends n bytes, non-printable ones and ',' as '?', to a ','-joined list in field[size]; what does not fit
 * is cut at size - 1 bytes (longer than any cap: the event marks it truncated). Returns 0 when it was cut. */
int tls_join_field(char *field, size_t size, const uint8_t *s, size_t n);

/* tlsfinger.c: JA3 and JA4 of a ClientHello into t; the digests and hex shared with tlscert.c. */
enum { MD_MD5, MD_SHA256 };
void tls_fingerprints(const struct ch_view *v, struct lf_ev_tls *t);
const EVP_MD *tls_md_get(int which);
void tls_hex_encode(const uint8_t *in, size_t n, char *out);

/* tlscert.c: the leaf of a Certificate message body (with the TLS 1.3 request context when tls13). */
void tls_parse_certificate(struct tls_state *st, struct lf_cur m, int tls13);

#endif
