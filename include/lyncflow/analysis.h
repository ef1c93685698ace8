/* analysis.h: from events to meaning: roles, stitching, sign-ins, findings.
 *
 * The analysis receives every event in time order (captures and IIS logs
 * already merged), enriches tls and http events (role, service, simple_url,
 * listener, server_name, stitched), forwards them to the sinks, and keeps a
 * bounded model of the run that the timeline, the TUI and the diagram read:
 * listeners, servers, the paths between them, sign-ins with their steps, and
 * findings. At the end it emits signin and finding events and a stats event.
 *
 * Threading: the model is guarded by model->lock. The analysis takes it while
 * it changes the model; a reader on another thread (the TUI) takes it while
 * it reads. Single-threaded runs may ignore it.
 */
#ifndef LYNCFLOW_ANALYSIS_H
#define LYNCFLOW_ANALYSIS_H

#include <pthread.h>
#include <stdint.h>

#include "lyncflow/event.h"
#include "lyncflow/topology.h"

/* Path classification, case-insensitive on the first segment. Returns a
 * stable lowercase name ("certprov", "webticket", "abs", "groupexpansion",
 * "rgs", "autodiscover", "ucwa", "mcx", "reach", "lwa", "meet", "dialin",
 * "scheduler", "passiveauth", "persistentchat", "hybridconfig",
 * "collabcontent", "discover" for "/" on lyncdiscover, ...) or "" when
 * unknown. host may be NULL. */
const char *lf_service_classify(const char *uri, const char *host);

#define LF_MODEL_MAX_SIGNINS 4096
#define LF_MODEL_MAX_STEPS 512   /* per sign-in */
#define LF_MODEL_MAX_FINDINGS 256
#define LF_MODEL_MAX_PATHS 256
#define LF_MODEL_MAX_CLIENT_EDGES 256

/* One step of a sign-in: a request (http) or, when nothing was readable, a
 * TLS connection. Compact on purpose; the full event is in the sinks. */
struct lf_step {
    uint64_t seq;          /* the event's sequence number in this run: its 1-based position in the
                              order the sinks saw events */
    lf_time ts;
    int64_t duration_us;   /* latency, time-taken for IIS, the connection's life for TLS; -1 unknown */
    uint8_t kind;          /* LF_EV_HTTP or LF_EV_TLS */
    uint8_t role;          /* enum lf_role */
    uint8_t failed;        /* this step is where something went wrong */
    uint8_t challenge;     /* a 401 that is part of a normal auth round trip */
    uint8_t decrypted, stitched, from_iis;
    uint16_t status;       /* http status, 0 none */
    uint16_t substatus;
    uint32_t win32_status;
    uint8_t alert_desc, alert_from; /* tls alert, when any */
    char method[12];
    char what[192];        /* path, or SNI for a TLS-only step */
    char host[128];        /* SNI or Host */
    char service[24];
    char listener[64];
    char server[64];       /* server name, or address when unknown */
    char user[128];
    struct lf_addr client; /* who made the request (the client, or the proxy for a back-side step) */
    uint64_t flow_id;      /* connection, 0 for IIS */
    uint8_t phase;         /* 0 none, 1 discover, 2 webticket, 3 certificate, 4 homepool */
    uint8_t recovered;     /* failed, but a later step of the same service succeeded */
    char reason[96];       /* why it failed, when failed */
    uint16_t tls_version;  /* TLS steps: the negotiated version, 0 when no ServerHello was seen */
    uint8_t ntlm_type;     /* NTLM message the request carried (1, 3), 0 none */
    uint8_t iis;           /* a capture request an IIS line of its server matched: substatus, win32 status,
                              user and time_taken_ms come from that line */
    uint32_t time_taken_ms;/* IIS time-taken of this step's line (its own or the matched one) */
};

struct lf_signin {
    uint32_t id;
    struct lf_addr client;
    char user[128];
    char agent[96];        /* client kind from the user agent: "Lync 2010", ... */
    char user_agent[160];  /* the first User-Agent seen; another one on the same address is another sign-in */
    lf_time start, end;
    struct lf_step *steps; /* owned by the model */
    uint32_t nsteps, capsteps;
    uint32_t dropped_steps;
    char phase[24];        /* discover, webticket, certificate, homepool */
    char kind[12];         /* signin, meeting (a meet join), dialin (the dial-in page), discovery (a probe) */
    uint8_t verdict;       /* enum lf_verdict */
    uint32_t failed_step;  /* 1-based step number where it stopped, 0 none */
    char reason[256];
    uint8_t loop_401;      /* a step failed in a 401 loop (its reason begins "401 loop"), as last judged */
};

/* A listener or server as the model knows it: configured, observed, or both. */
struct lf_node {
    char name[64];
    struct lf_addr addr;
    uint8_t role;          /* servers: enum lf_role; listeners: LF_ROLE_PROXY */
    char fqdn[256];
    uint8_t configured, observed;
    char names[LF_TOPO_MAX_NAMES][256]; /* listeners: names served (SNI/Host) */
    uint8_t name_kind[LF_TOPO_MAX_NAMES]; /* 0 other, 1 simple URL, 2 web services FQDN */
    int nnames;
    uint64_t connections, requests;
};

/* listener -> server, as configured and as the traffic showed it. */
struct lf_path {
    int listener, server;  /* indexes into model listeners / servers */
    uint8_t configured, observed, failing;
    uint64_t connections, requests;
    uint64_t status_class[6]; /* [0] no response, [1..5] 1xx..5xx */
    char names[8][256];    /* names carried */
    int nnames;
    char services[16][24]; /* services carried */
    int nservices;
    char finding_codes[128]; /* codes of findings on this path, ',' joined */
};

/* Clients (aggregated by /24 or /64 unless few) -> listener. */
struct lf_client_edge {
    char clients[64];      /* "198.51.100.7" or "198.51.100.0/24 (12 clients)" */
    int listener;
    uint64_t clients_n, connections, requests;
};

struct lf_model {
    pthread_mutex_t lock;
    const struct lf_topology *topo; /* configured or inferred */
    struct lf_node listeners[LF_TOPO_MAX_LISTENERS];
    int nlisteners;
    struct lf_node servers[LF_TOPO_MAX_SERVERS];
    int nservers;
    struct lf_path paths[LF_MODEL_MAX_PATHS];
    int npaths;
    struct lf_client_edge client_edges[LF_MODEL_MAX_CLIENT_EDGES];
    int nclient_edges;
    struct lf_signin *signins; /* owned */
    uint32_t nsignins, capsignins, dropped_signins;
    struct lf_ev_finding findings[LF_MODEL_MAX_FINDINGS];
    lf_time finding_ts[LF_MODEL_MAX_FINDINGS];
    int nfindings;
    struct lf_ev_stats stats; /* latest counters */
    uint64_t events;          /* events seen */
    uint64_t stitched;
    uint32_t generation;      /* bumped on every change; readers redraw on change */
    int finished;             /* the input ended */
    lf_time capture_first, capture_last; /* the capture's events span (tls and http, not IIS lines); 0 none */
};

struct lf_analysis;

/* topo may be NULL: a topology is inferred from the traffic. */
struct lf_analysis *lf_analysis_new(const struct lf_topology *topo);
/* Adds a sink (copied; what it points to must outlive the analysis). Sinks
 * see events in the order they were added. At most 8. */
void lf_analysis_add_sink(struct lf_analysis *an, const struct lf_sink *sink);
/* One event, in time order: its first lf_event_size(ev->type) bytes are read
 * (all the merge holds of it) and copied. The analysis enriches its copy,
 * forwards that to every sink (with zeros past its own part), updates the
 * model, and writes the enrichment known so far back into ev. */
void lf_analysis_event(struct lf_analysis *an, struct lf_event *ev);
/* Live runs: an event waits in the stitching hold at most hold_us of wall-clock time from its arrival,
 * instead of STITCH_WINDOW_US of event time (analysis.c says what that trades). */
void lf_analysis_set_live(struct lf_analysis *an, int64_t hold_us);
/* Live runs: releases the events that have waited their hold (nothing offline). */
void lf_analysis_poll(struct lf_analysis *an);
/* Live runs: event time reached now without an event (the capture is idle):
 * releases what was held longer than the stitch window, so that sign-ins show
 * while the traffic pauses. now must not run ahead of events still to come. */
void lf_analysis_advance(struct lf_analysis *an, lf_time now);
/* Input ended: closes sign-ins, emits signin and finding events and the final
 * stats event (from stats), then calls every sink's finish. */
void lf_analysis_finish(struct lf_analysis *an, const struct lf_ev_stats *stats);
struct lf_model *lf_analysis_model(struct lf_analysis *an);
/* The topology in use (configured or inferred so far). */
const struct lf_topology *lf_analysis_topology(struct lf_analysis *an);
void lf_analysis_free(struct lf_analysis *an);

/* Adapter: lets the engine emit straight into the analysis. */
void lf_analysis_emit(void *an, struct lf_event *ev);

/* Fills ev with the signin event of a model sign-in (as the analysis emits it at the end): its first
 * lf_event_size(LF_EV_SIGNIN) bytes, as lf_event_start does. */
void lf_signin_event(const struct lf_signin *s, struct lf_event *ev);

#endif
