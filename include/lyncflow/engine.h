/* engine.h: one run of lyncflow, from packets to events.
 *
 * The engine owns the run's configuration, its counters, the flow table and
 * the TLS secrets. Sources hand it packets (lf_engine_packet); decode, flow
 * lookup, reassembly and dissection happen below it; every event any stage
 * makes goes out through lf_emit() to the one consumer set at creation (the
 * analysis). Nothing here prints except lf_warn() for run-level problems.
 */
#ifndef LYNCFLOW_ENGINE_H
#define LYNCFLOW_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lyncflow/event.h"

#define LF_MAX_RSA_KEYS 16
#define LF_MAX_IIS_LOGS 32

struct lf_config {
    const char *read_file;   /* -r, "-" for stdin */
    const char *iface;       /* -i */
    const char *bpf;         /* -f */
    const char *topology;    /* -c */
    const char *keylog;      /* --keylog */
    const char *rsa_keys[LF_MAX_RSA_KEYS];
    int n_rsa_keys;
    struct {
        const char *server; /* SERVER= part, or NULL */
        const char *path;
    } iis[LF_MAX_IIS_LOGS];
    int n_iis;
    const char *iis_fields;  /* --iis-fields */
    const char *json;        /* --json FILE|- */
    const char *dot, *svg, *png;
    const char *write_file;  /* -w */
    uint64_t write_size;     /* -C, in bytes (the option gives millions of bytes, as tcpdump) */
    uint32_t write_seconds;  /* -G */
    uint32_t write_count;    /* -W */
    const char *drop_user;   /* -Z */
    int timeline, tui, print_topology, realtime, quiet;
    size_t max_flows;        /* --max-flows, default 262144 */
    size_t stream_cap;       /* bytes buffered per direction, default 1 MiB */
    size_t global_cap;       /* bytes buffered in all streams, default 256 MiB */
    uint32_t tcp_idle_s;     /* idle timeout for TCP flows, default 1200 */
    uint32_t udp_idle_s;     /* idle timeout for UDP flows, default 120 */
};

void lf_config_defaults(struct lf_config *cfg);

struct lf_flowtab;
struct lf_keystore;

struct lf_engine {
    struct lf_config cfg;
    struct lf_ev_stats stats;     /* counters, reported in the final stats event */
    struct lf_flowtab *flows;
    struct lf_keystore *keys;     /* NULL when no secrets were given */
    size_t buffered;              /* bytes held by all stream buffers */
    lf_time now;                  /* time of the last packet */
    void (*emit)(void *ctx, struct lf_event *ev);
    void *emit_ctx;
};

/* Creates the engine; emit receives every event. Returns NULL on OOM. */
struct lf_engine *lf_engine_new(const struct lf_config *cfg, void (*emit)(void *, struct lf_event *), void *emit_ctx);
/* Ends every open flow (emitting its events) and frees the engine. */
void lf_engine_free(struct lf_engine *eng);

/* One captured frame of the given DLT link type. Never fails: a packet that
 * cannot be decoded is counted in stats.decode_errors. */
void lf_engine_packet(struct lf_engine *eng, int linktype, lf_time ts, const uint8_t *data, size_t caplen,
                      size_t wirelen);
/* Ends flows idle since before `now` (called as time advances). */
void lf_engine_expire(struct lf_engine *eng, lf_time now);
/* Ends every flow: end of input or signal. */
void lf_engine_flush(struct lf_engine *eng);

/* Hands an event to the consumer. */
void lf_emit(struct lf_engine *eng, struct lf_event *ev);

/* A one-line run-level warning on stderr ("lyncflow: ..."). */
void lf_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
