/* event.h: the typed records that flow from dissectors to analysis to sinks.
 *
 * An event is a small value (numbers, addresses, short names of our own in
 * fixed fields) whose strings from the wire (URI, Host, User-Agent, user, SNI,
 * certificate names, findings' text, ...) are whole: each is a `const char *`,
 * never NULL ("" when empty), up to its documented cap (lf_event_field_cap;
 * 64 KiB for a URI, a Location and a certificate's SAN list, 8 KiB for the
 * others). A value cut at its cap sets the field's bit in `truncated`, and
 * the NDJSON names it ("truncated": ["uri"]).
 *
 * Ownership: lf_event_set() copies a string into the event's own text block
 * (ev->text), which the event owns; an event made with lf_event_init() owns
 * nothing until then. A producer may instead point a field at storage that
 * outlives every use of the event (a static name, the model's findings).
 * Whoever keeps an event past the call that handed it over keeps a copy made
 * with lf_event_copy(), which owns all its strings; lf_event_release() frees
 * a block. Plain struct assignment shares the block: never assign events.
 * The JSON field names are the contract of design.md ("Events").
 */
#ifndef LYNCFLOW_EVENT_H
#define LYNCFLOW_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef int64_t lf_time; /* microseconds since the UNIX epoch, UTC */

struct lf_addr {
    uint8_t family; /* 4, 6, or 0 when unknown */
    uint8_t ip[16]; /* IPv4 in the first 4 bytes */
    uint16_t port;
};

enum lf_ev_type {
    LF_EV_FLOW = 1,
    LF_EV_TLS,
    LF_EV_HTTP,
    LF_EV_FINDING,
    LF_EV_SIGNIN,
    LF_EV_STATS,
    LF_EV_EXCHANGE, /* for the analysis only: the sinks never see it */
};

enum lf_role { LF_ROLE_NONE = 0, LF_ROLE_DIRECTOR, LF_ROLE_FRONTEND, LF_ROLE_EDGE, LF_ROLE_OTHER, LF_ROLE_PROXY };

enum lf_severity { LF_SEV_INFO = 0, LF_SEV_WARNING, LF_SEV_ERROR };

enum lf_verdict { LF_VERDICT_COMPLETE = 0, LF_VERDICT_INCOMPLETE, LF_VERDICT_FAILED };

struct lf_ev_flow {
    lf_time end;
    uint8_t transport; /* 6 TCP, 17 UDP */
    uint64_t c2s_packets, s2c_packets, c2s_bytes, s2c_bytes;
    uint8_t syn_seen;   /* the handshake was captured: client is the SYN sender */
    uint8_t closed;     /* 0 open at end or timeout, 1 FIN, 2 RST */
    uint8_t rst_from;   /* 'c' or 's' when closed by RST */
    uint8_t answered;   /* the server sent anything at all */
    uint32_t gaps;      /* reassembly holes skipped, both directions */
};

struct lf_ev_tls {
    const char *sni;
    uint16_t version;       /* negotiated (ServerHello/supported_versions), or 0 */
    uint16_t client_version;
    uint16_t cipher;        /* negotiated suite, or 0 */
    const char *alpn;       /* negotiated ALPN, else the client's list joined by ',' */
    const char *cert_subject;
    const char *cert_issuer;
    const char *cert_san;   /* DNS names joined by ',' */
    char cert_sha256[65];
    lf_time cert_not_before, cert_not_after;
    char ja3[33];
    char ja4[48];
    uint8_t ech;            /* encrypted_client_hello extension present */
    uint8_t sslv2_hello;
    uint8_t cert_encrypted; /* TLS 1.3: the certificate was not visible */
    uint8_t alert_level, alert_desc;
    uint8_t alert_from;     /* 'c', 's', or 0 when no alert was seen */
    uint8_t h2;             /* HTTP/2 negotiated or its preface seen */
    uint8_t decrypting;     /* secrets were found for this connection */
    uint32_t decrypt_failures; /* records whose tag did not verify */
};

struct lf_ev_http {
    const char *sni;
    const char *host;
    const char *method;
    const char *uri;
    uint16_t status;      /* 0: no response seen */
    uint16_t substatus;   /* IIS sc-substatus */
    uint32_t win32_status;/* IIS sc-win32-status */
    const char *user_agent;
    const char *user;     /* NTLM type-3 user (DOMAIN\user), cs-username, or sip URI */
    const char *content_type;
    const char *location;
    const char *server_fqdn;    /* X-MS-Server-Fqdn */
    const char *ms_diagnostics; /* X-Ms-diagnostics */
    const char *www_authenticate;
    const char *auth_scheme;    /* Authorization scheme: NTLM, Negotiate, Bearer, Basic ... */
    uint8_t ntlm_type;          /* 1, 2 or 3 from the Authorization/WWW-Authenticate token */
    const char *ntlm_domain, *ntlm_user, *ntlm_workstation;
    int64_t latency_us;       /* response start minus request start; -1 unknown */
    uint64_t req_bytes, resp_bytes;
    uint32_t time_taken_ms;   /* IIS time-taken */
    uint8_t decrypted;        /* came from decrypted TLS */
    uint8_t h2;
    char source[8];           /* "pcap" or "iis" */
    const char *log_server;   /* IIS: the server the log belongs to */
    uint8_t whole_seconds;    /* IIS: the log's times have no fraction: ts is the second the request completed in */
    char attributed[12];      /* a back-leg request matched to its client: "timing" (see attribute.c), "" not */
    uint16_t candidates;      /* the front exchanges that could have caused it */
    struct lf_addr front_client; /* the client connection it was matched to */
    uint64_t match_seq;       /* IIS: the capture request this line matched, as its 1-based position among the
                                 run's events (the proxy's back-leg request when the capture shows it, else the
                                 client's); 0 unmatched */
};

struct lf_ev_finding {
    uint8_t severity; /* enum lf_severity */
    char code[48];
    const char *subject;
    const char *message;
};

struct lf_ev_signin {
    lf_time end;
    const char *user;
    uint32_t steps;
    char phase[24]; /* discover, webticket, certificate, homepool */
    char kind[12];  /* signin, meeting, dialin, discovery */
    uint8_t verdict; /* enum lf_verdict */
    const char *reason;
};

/* One request and the start of its response inside a TLS connection that is not decrypted: the client's
 * application data records from ts to c_last (c_bytes of record bodies in c_records), then one of the server's
 * first records after them at s_first (an event for each of the first three). The analysis matches it with the
 * proxy's request to a server (timing and size). */
struct lf_ev_exchange {
    lf_time c_last, s_first;
    uint64_t c_bytes;
    uint32_t c_records;
};

struct lf_ev_stats {
    uint64_t packets, bytes, flows, evicted, decode_errors, drops;
    uint64_t stream_cap_hits, gaps, fragments, stitched;
    uint64_t tls_decrypted, tls_no_secret, tls_decrypt_failures;
    uint64_t iis_lines, iis_errors;
    uint64_t iis_matched, iis_unmatched; /* IIS lines matched to a capture request, and not (merged runs) */
    uint64_t http_errors; /* HTTP flows left on malformed or oversized messages */
    uint64_t truncated;   /* events with a string cut at its cap */
};

#define LF_CAP_LONG 65536 /* cap of uri, location, cert_san and a finding's message */
#define LF_CAP_TEXT 8192  /* cap of every other string field */

/* An event's own string bytes. */
struct lf_text {
    char *buf;
    uint32_t len, cap;
};

struct lf_event {
    uint8_t type; /* enum lf_ev_type */
    lf_time ts;
    uint64_t flow_id; /* 0 when not from a flow */
    struct lf_addr client, server;
    /* enrichment, filled by the analysis */
    uint8_t role;           /* enum lf_role of the server that answered */
    char simple_url[16];    /* meet, dialin, discover, scheduler */
    char service[24];       /* certprov, webticket, abs, ... */
    char listener[64];      /* listener name from the topology */
    char server_name[64];   /* server name from the topology */
    uint8_t stitched;       /* front and back legs were matched */
    uint32_t truncated;     /* bit i: string field i of the type (lf_event_field_name) was cut at its cap */
    union {
        struct lf_ev_flow flow;
        struct lf_ev_tls tls;
        struct lf_ev_http http;
        struct lf_ev_finding finding;
        struct lf_ev_signin signin;
        struct lf_ev_stats stats;
        struct lf_ev_exchange exchange;
    } u;
    struct lf_text text;
};

/* Zeroes ev (owning nothing), every string "", and sets its type and time. ev's old text block, if any, is
 * not freed: use it on new events. */
void lf_event_init(struct lf_event *ev, enum lf_ev_type type, lf_time ts);
/* The same for an event used again: keeps (and empties) its text block. */
void lf_event_reset(struct lf_event *ev, enum lf_ev_type type, lf_time ts);
/* Frees ev's text block; ev owns nothing after it (its strings are then ""). */
void lf_event_release(struct lf_event *ev);
/* dst, an initialised event, becomes a copy of src owning all its strings (in dst's own block, reused). */
void lf_event_copy(struct lf_event *dst, const struct lf_event *src);
/* Copies s (NULL: "") into *field, a string field of ev, up to the field's cap (n bytes of s for setn); a
 * cut value sets the field's truncated bit. */
void lf_event_set(struct lf_event *ev, const char **field, const char *s);
void lf_event_setn(struct lf_event *ev, const char **field, const char *s, size_t n);
#define LF_EV_SET(ev, f, s) lf_event_set((ev), &(ev)->f, (s))
#define LF_EV_SETN(ev, f, s, n) lf_event_setn((ev), &(ev)->f, (const char *)(s), (n))
/* The string fields of an event of this type: their number, and each one's JSON name and cap. */
int lf_event_nfields(int type);
/* String field i of ev (in the order of lf_event_field_name), NULL past the last. */
const char **lf_event_field_at(struct lf_event *ev, int i);
/* The bytes of all ev's string fields together (without their NULs). */
size_t lf_event_text_len(const struct lf_event *ev);
const char *lf_event_field_name(int type, int i);
size_t lf_event_field_cap(int type, int i);

/* Copies a string into a fixed char array, truncating, always NUL-terminating (src NULL: empty). Reads no
 * more of src than fits. Not for an event's string fields (lf_event_set): a pointer does not compile. */
#define LF_SET(field, src)                                                                                      \
    do {                                                                                                        \
        _Static_assert(!__builtin_types_compatible_p(__typeof__(field), __typeof__(&(field)[0])),               \
                       "LF_SET takes a char array");                                                            \
        lf_set_str((field), (src), sizeof(field));                                                              \
    } while (0)
static inline void lf_set_str(char *dst, const char *src, size_t size)
{
    size_t n = src ? strnlen(src, size - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = 0;
}
/* The same into dst[size] (nothing when size is 0); returns strlen(src). */
size_t lf_strlcpy(char *dst, const char *src, size_t size);
/* Copies n bytes (not NUL-terminated input) into a fixed char array. */
#define LF_SETN(field, src, n) lf_strncpy_n((field), sizeof(field), (const char *)(src), (n))
void lf_strncpy_n(char *dst, size_t size, const char *src, size_t n);

const char *lf_role_name(enum lf_role r);       /* "director", ... ; "" for NONE */
int lf_role_parse(const char *s, enum lf_role *out); /* 0 ok, -1 unknown */
const char *lf_severity_name(enum lf_severity s);
const char *lf_verdict_name(enum lf_verdict v);

/* "ip:port" or "[v6]:port" into buf; returns buf. */
char *lf_addr_format(const struct lf_addr *a, char *buf, size_t size);
/* The address alone, without port. */
char *lf_ip_format(const struct lf_addr *a, char *buf, size_t size);
/* Parses "ip:port" or "[v6]:port"; 0 ok, -1 malformed. */
int lf_addr_parse(const char *s, struct lf_addr *out);
int lf_addr_equal(const struct lf_addr *a, const struct lf_addr *b);
int lf_ip_equal(const struct lf_addr *a, const struct lf_addr *b);

/* Where events go. A sink sees every event once, in the order emitted, and
 * finish() once at the end of the run. Sinks never parse packets. */
struct lf_sink {
    void (*event)(void *ctx, const struct lf_event *ev);
    void (*finish)(void *ctx);
    void *ctx;
};

#endif
