/* main.c: the command line (design.md, "Contracts") and the run loop.
 *
 * source -> engine (decode, flows, streams, dissectors) -> merge (reorder,
 * IIS logs) -> analysis -> sinks (JSON, timeline, TUI), then the diagram.
 * Exit status: 0 done; 1 input could not be read; 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lyncflow/analysis.h"
#include "lyncflow/capture.h"
#include "lyncflow/dot.h"
#include "lyncflow/engine.h"
#include "lyncflow/handoff.h"
#include "lyncflow/iislog.h"
#include "lyncflow/merge.h"
#include "lyncflow/sinks.h"
#include "lyncflow/tlsdec.h"
#include "lyncflow/topology.h"
#include "lyncflow/tui.h"
#include "lyncflow/util.h"

#define REORDER_WINDOW_US (2 * 1000000LL)
/* Live runs: the merge reorders over 0.15 s of capture time and the analysis holds an event 0.4 s of wall
 * time for its partner leg, so that every sink has it within a second of its response. */
#define LIVE_REORDER_WINDOW_US (150 * 1000LL)
#define LIVE_HOLD_US (400 * 1000LL)
#define EXPIRE_EVERY_US (1000000LL)

#ifndef LF_VERSION
#define LF_VERSION "unknown"
#endif

static volatile sig_atomic_t stop_requested, reopen_requested;
static struct lf_capture *active_capture;
static struct lf_sink *active_json;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
    if (active_capture)
        lf_capture_breakloop(active_capture);
}

/* SIGHUP: logrotate moved the output files away. */
static void on_hup(int sig)
{
    (void)sig;
    reopen_requested = 1;
    if (active_json)
        lf_json_sink_reopen(active_json);
    if (active_capture)
        lf_capture_dump_reopen(active_capture);
}

static void usage(FILE *out)
{
    fputs("usage: lyncflow -r FILE | -i IFACE [-f BPF] [-c topology.conf] [--keylog F] [--rsa-key F]\n"
          "                [--iis-log [SERVER=]F]... [--iis-fields \"date time ...\"]\n"
          "                [--json FILE|-] [--timeline] [--tui] [--realtime] [--dot FILE] [--svg FILE]\n"
          "                [--png FILE] [--print-topology] [--max-flows N] [-w FILE] [-Z USER]\n"
          "  -r FILE          read a pcap or pcapng file ('-' for stdin)\n"
          "  -i IFACE         capture live on IFACE\n"
          "  -f BPF           capture filter\n"
          "  -c FILE          topology (INI); without it one is inferred from the traffic\n"
          "  --keylog F       NSS key log with TLS secrets\n"
          "  --rsa-key F      PEM RSA private key of a published certificate (repeatable)\n"
          "  --iis-log [S=]F  IIS W3C log of server S (repeatable); alone or merged with -r/-i\n"
          "  --json FILE|-    NDJSON events\n"
          "  --timeline       sign-ins step by step, then findings, on stdout\n"
          "  --tui            live ncurses timeline\n"
          "  --dot/--svg/--png FILE  diagram of listener-to-server paths\n"
          "  --print-topology write the topology in use (configured or inferred) on stdout\n"
          "  --max-flows N    flow table capacity (LRU eviction), default 262144\n"
          "  -w FILE          save the packets read to a pcap file\n"
          "  -C MB, -G S, -W N  rotate the -w file by size (millions of bytes), by S seconds, N files\n"
          "  -Z USER          drop privileges to USER after opening the interface\n"
          "  --version        print the version\n"
          "  -h, --help       this text\n"
          "With no output option, a short summary of the run is printed.\n"
          "SIGHUP reopens the --json and -w files (logrotate). See lyncflow(1).\n",
          out);
}

static int parse_size(const char *opt, const char *s, size_t *out)
{
    unsigned long long v;
    if (lf_parse_u64(s, &v) != 0 || v == 0) {
        fprintf(stderr, "lyncflow: %s needs a positive number, not '%s'\n", opt, s);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

enum {
    OPT_KEYLOG = 256, OPT_RSA, OPT_IIS, OPT_IIS_FIELDS, OPT_JSON, OPT_TIMELINE, OPT_TUI, OPT_DOT, OPT_SVG,
    OPT_PNG, OPT_MAXFLOWS, OPT_PRINT_TOPO, OPT_REALTIME, OPT_STREAM_CAP, OPT_IDLE, OPT_VERSION,
};

static const struct option long_opts[] = {
    {"keylog", required_argument, NULL, OPT_KEYLOG},
    {"rsa-key", required_argument, NULL, OPT_RSA},
    {"iis-log", required_argument, NULL, OPT_IIS},
    {"iis-fields", required_argument, NULL, OPT_IIS_FIELDS},
    {"json", required_argument, NULL, OPT_JSON},
    {"timeline", no_argument, NULL, OPT_TIMELINE},
    {"tui", no_argument, NULL, OPT_TUI},
    {"dot", required_argument, NULL, OPT_DOT},
    {"svg", required_argument, NULL, OPT_SVG},
    {"png", required_argument, NULL, OPT_PNG},
    {"max-flows", required_argument, NULL, OPT_MAXFLOWS},
    {"stream-cap", required_argument, NULL, OPT_STREAM_CAP},
    {"tcp-idle", required_argument, NULL, OPT_IDLE},
    {"print-topology", no_argument, NULL, OPT_PRINT_TOPO},
    {"realtime", no_argument, NULL, OPT_REALTIME},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* Returns 0, or the exit status for a usage error. */
static int parse_args(int argc, char **argv, struct lf_config *cfg)
{
    int c;
    size_t n;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":r:i:f:c:w:C:G:W:Z:hq", long_opts, NULL)) != -1) {
        switch (c) {
        case 'r': cfg->read_file = optarg; break;
        case 'i': cfg->iface = optarg; break;
        case 'f': cfg->bpf = optarg; break;
        case 'c': cfg->topology = optarg; break;
        case 'w': cfg->write_file = optarg; break;
        case 'C':
            if (parse_size("-C", optarg, &n))
                return 2;
            cfg->write_size = (uint64_t)n * 1000000;
            break;
        case 'G':
            if (parse_size("-G", optarg, &n))
                return 2;
            cfg->write_seconds = (uint32_t)n;
            break;
        case 'W':
            if (parse_size("-W", optarg, &n))
                return 2;
            cfg->write_count = (uint32_t)n;
            break;
        case 'Z': cfg->drop_user = optarg; break;
        case 'q': cfg->quiet = 1; break;
        case 'h': usage(stdout); exit(0);
        case OPT_VERSION: printf("lyncflow %s\n", LF_VERSION); exit(0);
        case OPT_KEYLOG: cfg->keylog = optarg; break;
        case OPT_RSA:
            if (cfg->n_rsa_keys == LF_MAX_RSA_KEYS) {
                fprintf(stderr, "lyncflow: at most %d --rsa-key\n", LF_MAX_RSA_KEYS);
                return 2;
            }
            cfg->rsa_keys[cfg->n_rsa_keys++] = optarg;
            break;
        case OPT_IIS: {
            if (cfg->n_iis == LF_MAX_IIS_LOGS) {
                fprintf(stderr, "lyncflow: at most %d --iis-log\n", LF_MAX_IIS_LOGS);
                return 2;
            }
            char *eq = strchr(optarg, '=');
            if (eq && eq != optarg) {
                *eq = 0;
                cfg->iis[cfg->n_iis].server = optarg;
                cfg->iis[cfg->n_iis].path = eq + 1;
            } else {
                cfg->iis[cfg->n_iis].server = NULL;
                cfg->iis[cfg->n_iis].path = optarg;
            }
            cfg->n_iis++;
            break;
        }
        case OPT_IIS_FIELDS: cfg->iis_fields = optarg; break;
        case OPT_JSON: cfg->json = optarg; break;
        case OPT_TIMELINE: cfg->timeline = 1; break;
        case OPT_TUI: cfg->tui = 1; break;
        case OPT_DOT: cfg->dot = optarg; break;
        case OPT_SVG: cfg->svg = optarg; break;
        case OPT_PNG: cfg->png = optarg; break;
        case OPT_PRINT_TOPO: cfg->print_topology = 1; break;
        case OPT_REALTIME: cfg->realtime = 1; break;
        case OPT_MAXFLOWS:
            if (parse_size("--max-flows", optarg, &cfg->max_flows))
                return 2;
            break;
        case OPT_STREAM_CAP:
            if (parse_size("--stream-cap", optarg, &cfg->stream_cap))
                return 2;
            break;
        case OPT_IDLE:
            if (parse_size("--tcp-idle", optarg, &n))
                return 2;
            cfg->tcp_idle_s = (uint32_t)n;
            break;
        case ':':
            fprintf(stderr, "lyncflow: option %s needs an argument\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "lyncflow: unknown option %s\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "lyncflow: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if ((cfg->write_size || cfg->write_seconds || cfg->write_count) && !cfg->write_file) {
        fprintf(stderr, "lyncflow: -C, -G and -W rotate the -w file: give -w FILE\n");
        return 2;
    }
    if (cfg->write_count && !cfg->write_size && !cfg->write_seconds) {
        fprintf(stderr, "lyncflow: -W needs -C or -G\n");
        return 2;
    }
    if (cfg->read_file && cfg->iface) {
        fprintf(stderr, "lyncflow: -r and -i cannot be used together\n");
        return 2;
    }
    if (!cfg->read_file && !cfg->iface && cfg->n_iis == 0) {
        fprintf(stderr, "lyncflow: nothing to read: give -r FILE, -i IFACE or --iis-log FILE\n");
        usage(stderr);
        return 2;
    }
    return 0;
}

static int drop_privileges(const char *user)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        fprintf(stderr, "lyncflow: -Z: no user '%s'\n", user);
        return -1;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        fprintf(stderr, "lyncflow: -Z %s: %s\n", user, strerror(errno));
        return -1;
    }
    return 0;
}

static int iis_next(void *src, struct lf_event *ev) { return lf_iislog_next(src, ev); }

/* Sleeps so that packet time runs at wall-clock speed (--realtime). */
static void pace(lf_time ts, lf_time *first_ts, struct timespec *first_wall)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!*first_ts) {
        *first_ts = ts;
        *first_wall = now;
        return;
    }
    lf_time elapsed = (now.tv_sec - first_wall->tv_sec) * 1000000LL + (now.tv_nsec - first_wall->tv_nsec) / 1000;
    lf_time due = ts - *first_ts;
    while (due > elapsed && !stop_requested) {
        lf_time d = due - elapsed;
        if (d > 100000)
            d = 100000;
        struct timespec s = {0, (long)d * 1000};
        nanosleep(&s, NULL);
        elapsed += d;
    }
}

/* Reading a file on a terminal: "lyncflow: 42% of 690 MB, 310 MB/s" on stderr, twice a second. */
#define PROGRESS_EVERY 256
struct progress {
    int on, shown;
    unsigned packets;  /* since the clock was last read: it is read every PROGRESS_EVERY packets */
    double total;      /* the file's size */
    double done;       /* bytes of the packets read, with their record headers */
    struct timespec start, last;
};

static double seconds_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void progress_start(struct progress *p, const struct lf_config *cfg)
{
    struct stat st;
    memset(p, 0, sizeof *p);
    p->on = cfg->read_file && strcmp(cfg->read_file, "-") != 0 && !cfg->tui && !cfg->quiet && isatty(2) &&
            stat(cfg->read_file, &st) == 0 && st.st_size > 0;
    if (p->on)
        p->total = (double)st.st_size;
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    p->last = p->start;
}

static void progress_step(struct progress *p, size_t caplen)
{
    if (!p->on)
        return;
    p->done += (double)caplen + 16;
    if (++p->packets < PROGRESS_EVERY)
        return;
    p->packets = 0;
    if (seconds_since(&p->last) < 0.5)
        return;
    clock_gettime(CLOCK_MONOTONIC, &p->last);
    p->shown = 1;
    double pct = p->done < p->total ? 100.0 * p->done / p->total : 99.0;
    fprintf(stderr, "\rlyncflow: %2.0f%% of %.0f MB, %.0f MB/s ", pct, p->total / 1e6,
            p->done / 1e6 / seconds_since(&p->start));
}

static void progress_end(struct progress *p)
{
    if (p->shown)
        fputs("\r\033[K", stderr); /* the line is cleared once the file is read */
}

/* Live counters for the TUI's header. */
static void tui_update(struct lf_tui *tui, const struct lf_engine *eng, struct lf_capture *cap)
{
    struct lf_ev_stats s = eng->stats;
    if (cap)
        s.drops = lf_capture_drops(cap);
    lf_tui_counters(tui, &s);
}

/* The TUI's `s`: the frames of one sign-in's connections, read again from the
 * input file (or the -w file when live); the TUI never touches libpcap. */
static long tui_save_pcap(void *ctx, const char *bpf, const char *path, char *err, size_t errsize)
{
    const struct lf_config *cfg = ctx;
    const char *src = cfg->read_file && strcmp(cfg->read_file, "-") != 0 ? cfg->read_file : cfg->write_file;
    if (!src) {
        snprintf(err, errsize, "packets are only kept in files: -r FILE, or -w FILE when live");
        return -1;
    }
    struct lf_capture *c = lf_capture_open_file(src, bpf, err, errsize);
    if (!c)
        return -1;
    if (lf_capture_dump_open(c, path, err, errsize) != 0) {
        lf_capture_close(c);
        return -1;
    }
    long n = 0;
    lf_time ts;
    const uint8_t *data;
    size_t caplen, wirelen;
    enum lf_next r;
    while ((r = lf_capture_next(c, &ts, &data, &caplen, &wirelen, err, errsize)) == LF_NEXT_PACKET)
        n++;
    lf_capture_close(c);
    return r == LF_NEXT_ERROR && n == 0 ? -1 : n;
}

int main(int argc, char **argv)
{
    struct lf_config cfg;
    char err[512] = "";
    int status = 0;

    lf_config_defaults(&cfg);
    int u = parse_args(argc, argv, &cfg);
    if (u)
        return u;

    static struct lf_topology topo;
    int have_topo = 0;
    if (cfg.topology) {
        if (lf_topology_load(cfg.topology, &topo, err, sizeof err) != 0) {
            fprintf(stderr, "lyncflow: %s\n", err);
            return 2;
        }
        have_topo = 1;
    }

    struct lf_keystore *ks = NULL;
    if (cfg.keylog || cfg.n_rsa_keys || cfg.read_file) {
        ks = lf_keystore_new();
        if (cfg.keylog && lf_keystore_load_keylog(ks, cfg.keylog, err, sizeof err) != 0) {
            fprintf(stderr, "lyncflow: %s\n", err);
            lf_keystore_free(ks);
            return 1;
        }
        for (int i = 0; i < cfg.n_rsa_keys; i++)
            if (lf_keystore_add_rsa(ks, cfg.rsa_keys[i], err, sizeof err) != 0) {
                fprintf(stderr, "lyncflow: %s\n", err);
                lf_keystore_free(ks);
                return 1;
            }
        if (cfg.read_file && strcmp(cfg.read_file, "-") != 0)
            lf_keystore_load_pcapng_secrets(ks, cfg.read_file, err, sizeof err);
    }

    struct lf_capture *cap = NULL;
    if (cfg.read_file)
        cap = lf_capture_open_file(cfg.read_file, cfg.bpf, err, sizeof err);
    else if (cfg.iface)
        cap = lf_capture_open_live(cfg.iface, cfg.bpf, err, sizeof err);
    if ((cfg.read_file || cfg.iface) && !cap) {
        fprintf(stderr, "lyncflow: %s\n", err);
        lf_keystore_free(ks);
        return 1;
    }
    if (cap && cfg.write_file)
        lf_capture_dump_rotate(cap, cfg.write_size, cfg.write_seconds, cfg.write_count);
    if (cap && cfg.write_file && lf_capture_dump_open(cap, cfg.write_file, err, sizeof err) != 0) {
        fprintf(stderr, "lyncflow: %s\n", err);
        lf_capture_close(cap);
        lf_keystore_free(ks);
        return 1;
    }
    if (cfg.drop_user && drop_privileges(cfg.drop_user) != 0) {
        lf_capture_close(cap);
        lf_keystore_free(ks);
        return 1;
    }

    struct lf_iislog *iis[LF_MAX_IIS_LOGS];
    int niis = 0;
    for (int i = 0; i < cfg.n_iis; i++) {
        iis[niis] = lf_iislog_open(cfg.iis[i].path, cfg.iis[i].server, cfg.iis_fields, have_topo ? &topo : NULL, err,
                                   sizeof err);
        if (!iis[niis]) {
            fprintf(stderr, "lyncflow: %s\n", err);
            status = 1;
            goto close_inputs;
        }
        niis++;
    }

    /* sinks */
    struct lf_analysis *an = lf_analysis_new(have_topo ? &topo : NULL);
    struct lf_sink *json = NULL, *timeline = NULL;
    struct lf_tui *tui = NULL;
    if (cfg.json) {
        json = lf_json_sink_new(cfg.json, err, sizeof err);
        if (!json) {
            fprintf(stderr, "lyncflow: %s\n", err);
            lf_analysis_free(an);
            status = 1;
            goto close_inputs;
        }
        lf_analysis_add_sink(an, json);
        if (cfg.iface || cfg.realtime) /* live, or a file read as if live */
            lf_json_sink_live(json);
    }
    if (cfg.timeline) {
        timeline = lf_timeline_sink_new(stdout, an);
        lf_analysis_add_sink(an, timeline);
    }
    struct lf_summary_tls sum_tls = {0, 0, 0};
    struct lf_sink *summary = NULL;
    if (!cfg.json && !cfg.timeline && !cfg.tui && !cfg.dot && !cfg.svg && !cfg.png && !cfg.print_topology &&
        !cfg.quiet) {
        summary = lf_summary_sink_new(stdout, an, &sum_tls);
        lf_analysis_add_sink(an, summary);
    }
    char source_desc[512];
    if (cfg.iface)
        snprintf(source_desc, sizeof source_desc, "live %s%s%s", cfg.iface, cfg.bpf ? " filter " : "",
                 cfg.bpf ? cfg.bpf : "");
    else if (cfg.read_file)
        snprintf(source_desc, sizeof source_desc, "file %s", cfg.read_file);
    else
        snprintf(source_desc, sizeof source_desc, "IIS logs (%d)", niis);
    if (cfg.tui) {
        tui = lf_tui_new(an, &cfg, source_desc);
        lf_tui_set_pcap_saver(tui, tui_save_pcap, &cfg);
        lf_analysis_add_sink(an, lf_tui_sink(tui));
    }

    lf_time window = cfg.iface ? LIVE_REORDER_WINDOW_US : REORDER_WINDOW_US;
    if (cfg.iface)
        lf_analysis_set_live(an, LIVE_HOLD_US);
    struct lf_merge *merge = lf_merge_new(lf_analysis_emit, an, window);
    for (int i = 0; i < niis; i++)
        lf_merge_add_source(merge, iis_next, iis[i]);
    struct lf_handoff *hand = lf_handoff_new(merge, an, window, 1);
    struct lf_engine *eng = lf_engine_new(&cfg, lf_handoff_emit, hand);
    eng->keys = ks;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    active_capture = cap;
    active_json = json;
    struct progress prog;
    progress_start(&prog, &cfg);

    if (tui && lf_tui_start(tui) != 0) {
        fprintf(stderr, "lyncflow: --tui needs a terminal\n");
        status = 2;
        stop_requested = 1;
    }

    lf_time last_expire = 0, first_ts = 0;
    struct timespec first_wall = {0, 0};
    while (cap && !stop_requested && !(tui && lf_tui_quit_requested(tui))) {
        lf_time ts;
        const uint8_t *data;
        size_t caplen, wirelen;
        enum lf_next r = lf_capture_next(cap, &ts, &data, &caplen, &wirelen, err, sizeof err);
        if (r == LF_NEXT_TIMEOUT) {
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            lf_time t = now.tv_sec * 1000000LL + now.tv_nsec / 1000;
            if (eng->now && t > eng->now) {
                if (t - last_expire >= EXPIRE_EVERY_US) { /* idle flows end on time on a quiet link */
                    lf_engine_expire(eng, t);
                    last_expire = t;
                }
                lf_handoff_idle(hand, t);
            }
            if (tui)
                tui_update(tui, eng, cap);
            continue;
        }
        if (r == LF_NEXT_END)
            break;
        if (r == LF_NEXT_ERROR) {
            lf_warn("%s", err);
            break;
        }
        if (cfg.realtime && !cfg.iface)
            pace(ts, &first_ts, &first_wall);
        progress_step(&prog, caplen);
        lf_engine_packet(eng, lf_capture_linktype(cap), ts, data, caplen, wirelen);
        if (ts - last_expire >= EXPIRE_EVERY_US) {
            lf_engine_expire(eng, ts);
            last_expire = ts;
            if (tui)
                tui_update(tui, eng, cap);
        }
        lf_handoff_clock(hand, ts);
    }
    if (cap && lf_capture_is_live(cap)) {
        /* the frames of the last moments, still in a block the kernel holds */
        lf_capture_drain(cap);
        lf_time ts;
        const uint8_t *data;
        size_t caplen, wirelen;
        while (lf_capture_next(cap, &ts, &data, &caplen, &wirelen, err, sizeof err) == LF_NEXT_PACKET) {
            lf_engine_packet(eng, lf_capture_linktype(cap), ts, data, caplen, wirelen);
            lf_handoff_clock(hand, ts);
        }
    }
    active_capture = NULL;
    progress_end(&prog);
    lf_engine_flush(eng);
    lf_handoff_finish(hand);

    struct lf_ev_stats stats = eng->stats;
    if (cap)
        stats.drops = lf_capture_drops(cap);
    for (int i = 0; i < niis; i++) {
        stats.iis_lines += lf_iislog_lines(iis[i]);
        stats.iis_errors += lf_iislog_errors(iis[i]);
    }
    if (tui)
        lf_tui_input_done(tui);
    sum_tls.have_secrets = cfg.keylog || cfg.n_rsa_keys || lf_keystore_secrets(ks);
    sum_tls.unsupported = lf_keystore_unsupported(ks);
    sum_tls.rsa_mismatches = lf_keystore_rsa_mismatches(ks);
    lf_analysis_finish(an, &stats);

    if (stats.evicted)
        lf_warn("%llu flows evicted (--max-flows %zu)", (unsigned long long)stats.evicted, cfg.max_flows);
    if (stats.tls_no_secret || stats.tls_decrypt_failures || lf_keystore_rsa_mismatches(ks))
        lf_warn("TLS: %llu connections decrypted, %llu without secrets, %llu records failed authentication, "
                "%zu pre-master secrets not for any --rsa-key",
                (unsigned long long)stats.tls_decrypted, (unsigned long long)stats.tls_no_secret,
                (unsigned long long)stats.tls_decrypt_failures, lf_keystore_rsa_mismatches(ks));
    if (lf_keystore_unsupported(ks))
        lf_warn("TLS: %zu handshakes with a cipher suite or version that cannot be decrypted",
                lf_keystore_unsupported(ks));
    if (cfg.iface)
        fprintf(stderr, "lyncflow: %llu packets captured, %llu dropped by the kernel\n",
                (unsigned long long)stats.packets, (unsigned long long)stats.drops);

    if (cfg.dot || cfg.svg || cfg.png) {
        if (lf_dot_write(lf_analysis_model(an), cfg.dot, cfg.svg, cfg.png, err, sizeof err) != 0) {
            fprintf(stderr, "lyncflow: %s\n", err);
            status = 1;
        }
    }
    if (cfg.print_topology)
        lf_topology_print(lf_analysis_topology(an), stdout);

    if (tui) {
        lf_tui_join(tui);
        lf_tui_free(tui);
    }

    lf_engine_free(eng);
    active_json = NULL;
    lf_handoff_free(hand);
    lf_merge_free(merge);
    lf_analysis_free(an);
    lf_timeline_sink_free(timeline);
    lf_summary_sink_free(summary);
    lf_json_sink_free(json);
close_inputs:
    for (int i = 0; i < niis; i++)
        lf_iislog_close(iis[i]);
    lf_capture_close(cap);
    lf_keystore_free(ks);
    return status;
}
