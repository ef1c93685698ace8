/* analysis_int.h: what the analysis's files share: its limits, the held event, the connection and request records,
 * struct lf_analysis, and the an_ functions one file calls in another.
 *
 * analysis.c owns the hold queue and the release of events in order; roles.c decides side, nodes and
 * roles; stitch.c pairs front and back events in the hold queue; iismatch.c matches IIS lines to the
 * capture's requests; signin.c groups steps into sign-ins and verdict.c judges them; model.c keeps the
 * model's listeners, servers, paths and client edges. All of it runs on the thread that feeds the
 * analysis; the functions that change struct lf_model are called with model.lock held.
 */
#ifndef LYNCFLOW_ANALYSIS_INT_H
#define LYNCFLOW_ANALYSIS_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lyncflow/analysis.h"
#include "lyncflow/findings.h"
#include "lyncflow/util.h"

#define STITCH_WINDOW_US (2 * 1000000LL)
#define HOLD 512
#define CONN_SLOTS 8192
#define SIGNIN_GAP_US (300 * 1000000LL)
#define SIGNIN_SCAN 64       /* recent sign-ins a step may join */
#define CLIENT_BUCKETS 4096  /* sign-ins indexed by client address */
#define EVAL_EVERY 32        /* long sign-ins are re-judged every this many steps */
#define HINT_MEETING 5       /* a step's hint to signin_for: a meeting join seen as a connection only */
#define AUTH_LOOP 4          /* unanswered 401s in a row that make a loop */
#define FINDINGS_EVERY_US (5 * 1000000LL)
#define MAX_SINKS 8
#define EDGE_IPS 16
#define EDGE_INDEX (2 * LF_MODEL_MAX_CLIENT_EDGES)
#define REQ_SLOTS 8192       /* recent capture requests an IIS line may match */
#define IIS_TOL_US (1000000LL)  /* the servers' clocks against the capture's */
#define IIS_TIE_US (10000LL)    /* sub-second logs: requests this much nearer than the nearest are a tie */

/* What the other leg of a stitched pair told. */
struct partner {
    uint8_t have;
    uint16_t status, substatus;
    uint32_t win32;
    int64_t duration_us;
    int server, listener;
    char user[128];
};

/* What an IIS line adds to the capture request it matched. */
struct iisinfo {
    uint8_t have;
    uint16_t status, substatus;
    uint32_t win32, time_taken_ms;
    char user[128];
};

struct pend {
    uint64_t uid;          /* arrival number: consecutive in the hold queue */
    int64_t arrived_us;    /* live runs: the monotonic clock when it arrived */
    /* what the stitching scan reads, in the first cache line: ev's ts and type, hashes of name and (http)
     * of method and URI, and whether ev is older than the event held before it */
    lf_time ts;
    uint64_t name_hash;
    uint64_t req_hash, ua_hash; /* http, once asked for (an_pend_hashes): of method and URI; of the User-Agent | 1,
                                   0 none */
    uint8_t hashed;             /* req_hash and ua_hash are set */
    uint8_t type, descent;
    uint8_t open;          /* in its type's list of open front events (see struct lf_analysis) */
    int onext, oprev;      /* that list's links: hold slots, -1 none */
    uint8_t side;
    uint8_t stitched;
    uint8_t partner_iis;   /* the stitched partner is an IIS line */
    uint8_t iis_matched;   /* an IIS line: it matched a capture request */
    int listener, server, named;
    int set_listener, set_server; /* the nodes whose names ev->listener and ev->server_name hold, -2 none yet */
    int rec;               /* its slot in the requests an IIS line may match, -1 none */
    uint64_t partner_uid;  /* the stitched partner's arrival number */
    uint64_t partner_seq;  /* the stitched partner's seq, once it was released */
    char name[256];
    struct partner partner;
    uint8_t attributed;    /* a back request matched to a front connection's exchange by timing (attribute.c) */
    uint64_t x_flow;       /* that front connection */
    struct lf_addr x_client;
    struct iisinfo iis;    /* what a matched IIS line told */
    struct lf_event ev;    /* last: the fields above and ev's type and ts share the first cache lines */
};

/* What tells one request from another: hashes of method and URI, Host (0 none) and User-Agent (0 none),
 * the status and the client. */
struct reqkey {
    uint64_t key, host, ua;
    uint16_t status;
    struct lf_addr client;
};

/* A request of the capture, kept for the IIS lines that may match it. */
struct reqrec {
    uint64_t uid;          /* its pend's arrival number */
    uint64_t seq;          /* its event's seq once released, else 0 */
    uint64_t step_seq;     /* the step it shows in (its front partner's or its own), once made */
    uint32_t signin;       /* that step's sign-in, 1-based */
    lf_time ts;
    struct reqkey k;
    int server, listener;  /* front requests: the server that answered, or the one the name is published to */
    uint8_t used, matched;
    uint8_t side;          /* LF_SIDE_BACK or LF_SIDE_FRONT */
    uint8_t has_back;      /* front: stitched to a back request of the capture */
};

struct conn {
    uint64_t flow_id;
    uint8_t used, side, role, http_seen, flow_seen, closed, rst_from, answered;
    lf_time flow_start, flow_end;
    int listener, server, named;
    uint32_t signin; /* 1-based index of the sign-in its steps went to */
    uint64_t tls_seq;
    char name[256];  /* last: the fields above share the first cache line */
};

struct lf_analysis {
    struct lf_sink sinks[MAX_SINKS];
    int nsinks;
    struct lf_topology topo;
    int configured;
    struct lf_model model;
    struct pend *hold; /* ring */
    size_t head, count;
    size_t descents; /* held events older than the one held before them: 0 means the queue is in time order */
    /* held front events a back one may still be stitched to (not stitched, or stitched to an IIS line), in
     * the queue's order, one list for http and one for tls: first and last hold slots, -1 none. A front
     * event that stops being open never opens again; it leaves its list when a scan meets it. */
    int open_first[2], open_last[2];
    lf_time latest;
    int64_t live_hold_us;  /* live runs: the longest an event waits here, in wall-clock time; 0 offline */
    uint64_t seq;
    struct conn *conns;
    uint64_t uids;
    struct xrec *xrecs;   /* ring of XREC_SLOTS: the undecrypted front connections' recent exchanges */
    size_t xrec_next;
    struct reqrec *reqs;  /* ring of REQ_SLOTS */
    size_t req_next;
    uint8_t back_http[LF_TOPO_MAX_SERVERS]; /* the capture shows requests of the back leg to this server */
    uint64_t iis_matched, iis_unmatched;
    uint64_t truncated; /* events with a string cut at its cap */
    struct lf_findings *findings;
    lf_time last_findings;
    int front_seen, back_seen;
    uint8_t server_reached[LF_TOPO_MAX_SERVERS];
    /* inferred role evidence per server */
    uint32_t auth_services[LF_TOPO_MAX_SERVERS], home_services[LF_TOPO_MAX_SERVERS];
    uint32_t simple_seen[LF_TOPO_MAX_SERVERS]; /* simple-URL requests/connections it answered */
    /* distinct clients per client edge */
    struct lf_addr edge_net[LF_MODEL_MAX_CLIENT_EDGES];
    struct lf_addr edge_ips[LF_MODEL_MAX_CLIENT_EDGES][EDGE_IPS];
    int edge_nips[LF_MODEL_MAX_CLIENT_EDGES];
    uint16_t edge_index[EDGE_INDEX]; /* client edges by listener and network: 1-based, 0 empty (open addressing) */
    size_t held_iis;                 /* IIS lines in the hold queue */
    uint8_t path_failing[LF_MODEL_MAX_PATHS]; /* a failure was observed on the path */
    /* sign-ins by client address: the newest of a hash bucket, and each one's predecessor there (1-based) */
    uint32_t client_last[CLIENT_BUCKETS];
    uint32_t *client_prev;
};

/* The i-th held event, in arrival order. */
static inline struct pend *an_ring(struct lf_analysis *an, size_t i) { return &an->hold[(an->head + i) % HOLD]; }

static inline uint64_t an_fnv(uint64_t h, const char *s) { return lf_fnv(h, s, strlen(s)); }

static inline int an_is_iis(const struct lf_event *ev)
{
    const char *s = ev->u.http.source;
    return ev->type == LF_EV_HTTP && s[0] == 'i' && s[1] == 'i' && s[2] == 's' && s[3] == 0;
}

static inline void an_model_changed(struct lf_analysis *an) { an->model.generation++; }

/* analysis.c: the connection of a flow id (create: a new record replaces whatever held its slot), NULL for 0
 * or none; n bytes of s appended to the string of *len bytes in dst[size], as far as they fit. */
struct conn *an_conn_get(struct lf_analysis *an, uint64_t flow_id, int create);
void an_append(char *dst, size_t size, size_t *len, const char *s, size_t n);

/* roles.c: lookups, the side and nodes of an arriving event, and the roles of servers not configured. */
void an_name_of(const struct lf_event *ev, char *out, size_t size);
int an_addr_eq(const struct lf_addr *a, const struct lf_addr *b);
int an_ip_eq(const struct lf_addr *a, const struct lf_addr *b);
const char *an_simple_url(const struct lf_analysis *an, const char *name);
int an_find_server_name(const struct lf_model *m, const char *name);
void an_classify(struct lf_analysis *an, const struct lf_event *ev, struct pend *p);
void an_infer_roles(struct lf_analysis *an);
int an_server_by_internal_fqdn(const struct lf_model *m, const char *fqdn);
void an_role_evidence(struct lf_analysis *an, const struct pend *p, int srv);

/* model.c: findings evaluated from scratch; nodes made from the traffic; the configured model; what a released
 * event adds to its nodes, path and client edge. */
void an_eval_findings(struct lf_analysis *an);
int an_add_listener(struct lf_analysis *an, const struct lf_addr *a);
int an_add_server(struct lf_analysis *an, const struct lf_addr *a, const char *name);
void an_model_configure(struct lf_analysis *an, const struct lf_topology *topo);
void an_model_nodes(struct lf_analysis *an, const struct pend *p, int srv, int from_iis);
void an_model_paths(struct lf_analysis *an, const struct pend *p, int failed);

/* stitch.c: the lists of open front events, a held request's hashes, held events by arrival number, and the
 * pairing of a back event with a front one. */
void an_open_add(struct lf_analysis *an, struct pend *p);
void an_open_del(struct lf_analysis *an, struct pend *p);
void an_pend_hashes(struct pend *p);
long an_stitch_candidate(struct lf_analysis *an, const struct lf_event *ev, int server, int exclude_listener_ip);
struct pend *an_pend_by_uid(struct lf_analysis *an, uint64_t uid);
void an_link_pair(struct lf_analysis *an, struct pend *f, struct pend *b);
void an_stitch(struct lf_analysis *an, struct pend *b);

/* iismatch.c: the kept requests, and IIS lines matched to them on arrival, late, or at their release. */
int an_iis_wants_back(const struct lf_analysis *an, const struct pend *iis);
void an_link_iis_front(struct lf_analysis *an, struct pend *f, struct pend *b);
long an_iis_front_candidate(struct lf_analysis *an, struct pend *b);
void an_rec_add(struct lf_analysis *an, struct pend *p);
struct reqrec *an_rec_of(struct lf_analysis *an, const struct pend *p);
void an_stitch_front_late(struct lf_analysis *an, struct pend *f);
void an_iis_resolve(struct lf_analysis *an, struct pend *p, uint64_t seq);
void an_link_release(struct lf_analysis *an, struct pend *p, uint64_t seq, const struct lf_signin *s);

/* attribute.c: a back request matched, by timing and size, to the exchange of an undecrypted front
 * connection that caused it. */
#define XREC_SLOTS 1024
struct xrec {
    uint64_t flow_id;
    struct lf_addr client;
    lf_time first, last;          /* the client's records */
    lf_time s_first[3];           /* the server's first records after them (0 none) */
    uint64_t bytes;
    int listener;
    uint8_t used;
};
void an_exchange_add(struct lf_analysis *an, const struct lf_event *ev);
void an_attribute(struct lf_analysis *an, struct pend *p);
int an_find_listener(const struct lf_model *m, const struct lf_addr *a);

/* signin.c: a released event's step; steps patched by an IIS line or a flow's end; sign-ins at the end. */
struct lf_signin *an_add_step(struct lf_analysis *an, struct pend *p, uint64_t seq);
void an_patch_step(struct lf_analysis *an, uint32_t signin, uint64_t seq, const struct iisinfo *x);
void an_flow_update_step(struct lf_analysis *an, struct conn *c);
void an_signins_close(struct lf_analysis *an);

/* verdict.c: phases by name and by service, and a sign-in judged again from its steps. */
int an_phase_rank(const char *phase);
int an_service_phase(const char *svc);
void an_signin_eval(struct lf_analysis *an, struct lf_signin *si);

#endif
