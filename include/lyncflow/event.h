/* event.h: the typed records that flow from dissectors to analysis to sinks.
 *
 * An event is a plain value: fixed-size fields, no pointers, so it can be
 * copied, queued between threads and kept by the analysis without ownership
 * questions. Strings are NUL-terminated and truncated to their field size.
 * Producers (dissectors, the flow table, the IIS log reader) fill one with
 * lf_event_init() and hand it to lf_emit(); the analysis fills the enrichment
 * fields (role, service, listener, ...) before sinks see it.
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
    char sni[256];
    uint16_t version;       /* negotiated (ServerHello/supported_versions), or 0 */
    uint16_t client_version;
    uint16_t cipher;        /* negotiated suite, or 0 */
    char alpn[64];          /* negotiated ALPN, else the client's list joined by ',' */
    char cert_subject[256];
    char cert_issuer[256];
    char cert_san[1024]; /* DNS names joined by ',' */
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
    char sni[256];
    char host[256];
    char method[16];
    char uri[1024];
    uint16_t status;      /* 0: no response seen */
    uint16_t substatus;   /* IIS sc-substatus */
    uint32_t win32_status;/* IIS sc-win32-status */
    char user_agent[256];
    char user[128];       /* NTLM type-3 user (DOMAIN\user), cs-username, or sip URI */
    char content_type[128];
    char location[512];
    char server_fqdn[256];    /* X-MS-Server-Fqdn */
    char ms_diagnostics[256]; /* X-Ms-diagnostics */
    char www_authenticate[256];
    char auth_scheme[16];     /* Authorization scheme: NTLM, Negotiate, Bearer, Basic ... */
    uint8_t ntlm_type;        /* 1, 2 or 3 from the Authorization/WWW-Authenticate token */
    char ntlm_domain[64], ntlm_user[64], ntlm_workstation[64];
    int64_t latency_us;       /* response start minus request start; -1 unknown */
    uint64_t req_bytes, resp_bytes;
    uint32_t time_taken_ms;   /* IIS time-taken */
    uint8_t decrypted;        /* came from decrypted TLS */
    uint8_t h2;
    char source[8];           /* "pcap" or "iis" */
    char log_server[64];      /* IIS: the server the log belongs to */
    uint8_t whole_seconds;    /* IIS: the log's times have no fraction: ts is the second the request completed in */
    uint64_t match_seq;       /* IIS: the capture request this line matched, as its 1-based position among the
                                 run's events (the proxy's back-leg request when the capture shows it, else the
                                 client's); 0 unmatched */
};

struct lf_ev_finding {
    uint8_t severity; /* enum lf_severity */
    char code[48];
    char subject[256];
    char message[1024];
};

struct lf_ev_signin {
    lf_time end;
    char user[128];
    uint32_t steps;
    char phase[24]; /* discover, webticket, certificate, homepool */
    uint8_t verdict; /* enum lf_verdict */
    char reason[256];
};

struct lf_ev_stats {
    uint64_t packets, bytes, flows, evicted, decode_errors, drops;
    uint64_t stream_cap_hits, gaps, fragments, stitched;
    uint64_t tls_decrypted, tls_no_secret, tls_decrypt_failures;
    uint64_t iis_lines, iis_errors;
    uint64_t iis_matched, iis_unmatched; /* IIS lines matched to a capture request, and not (merged runs) */
    uint64_t http_errors; /* HTTP flows left on malformed or oversized messages */
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
    union {
        struct lf_ev_flow flow;
        struct lf_ev_tls tls;
        struct lf_ev_http http;
        struct lf_ev_finding finding;
        struct lf_ev_signin signin;
        struct lf_ev_stats stats;
    } u;
};

/* Zeroes ev and sets its type and time. */
void lf_event_init(struct lf_event *ev, enum lf_ev_type type, lf_time ts);
/* The same values, but only the part consumers read is written
 * (lf_event_size(type)), not the whole 3.9 KB union: for events made a
 * packet at a time. */
void lf_event_start(struct lf_event *ev, enum lf_ev_type type, lf_time ts);
/* Bytes of an event of this type that carry anything: the fixed part and its
 * own union member (the whole struct for an unknown type). */
size_t lf_event_size(int type);

/* Copies a string into a fixed field, truncating, always NUL-terminating (src NULL: empty). Reads no
 * more of src than fits. */
#define LF_SET(field, src) lf_set_str((field), (src), sizeof(field))
static inline void lf_set_str(char *dst, const char *src, size_t size)
{
    size_t n = src ? strnlen(src, size - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = 0;
}
/* The same into dst[size] (nothing when size is 0); returns strlen(src). */
size_t lf_strlcpy(char *dst, const char *src, size_t size);
/* Copies n bytes (not NUL-terminated input) into a fixed field. */
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
