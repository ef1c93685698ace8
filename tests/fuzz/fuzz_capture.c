/* fuzz_capture.c: libFuzzer target for capture input (src/capture/capture.c and all below it).
 * The input bytes are a pcap or pcapng file: written to a memory file, opened
 * through lf_capture_open_file, and every frame goes through the engine
 * (decode, flows, streams, dissectors), the merge and the analysis, with the
 * JSON and timeline sinks writing to /dev/null. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lyncflow/analysis.h"
#include "lyncflow/capture.h"
#include "lyncflow/engine.h"
#include "lyncflow/merge.h"
#include "lyncflow/sinks.h"

static FILE *devnull(void)
{
    static FILE *f;
    if (!f)
        f = fopen("/dev/null", "w");
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz_capture", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();

    char err[512];
    struct lf_capture *cap = lf_capture_open_file(path, NULL, err, sizeof err);
    if (!cap)
        return 0;
    struct lf_analysis *an = lf_analysis_new(NULL);
    struct lf_sink *json = lf_json_sink_new("/dev/null", err, sizeof err);
    if (!json)
        abort();
    lf_analysis_add_sink(an, json);
    struct lf_sink *timeline = lf_timeline_sink_new(devnull(), an);
    lf_analysis_add_sink(an, timeline);
    struct lf_merge *merge = lf_merge_new(lf_analysis_emit, an, 2000000);
    struct lf_config cfg;
    lf_config_defaults(&cfg);
    cfg.max_flows = 64;
    cfg.stream_cap = 65536;
    cfg.global_cap = 1 << 20;
    struct lf_engine *eng = lf_engine_new(&cfg, lf_merge_emit, merge);
    if (!eng)
        abort();

    lf_time ts, last_expire = 0;
    const uint8_t *pkt;
    size_t caplen, wirelen;
    while (lf_capture_next(cap, &ts, &pkt, &caplen, &wirelen, err, sizeof err) == LF_NEXT_PACKET) {
        lf_engine_packet(eng, lf_capture_linktype(cap), ts, pkt, caplen, wirelen);
        if (ts - last_expire >= 1000000) {
            lf_engine_expire(eng, ts);
            last_expire = ts;
        }
        lf_merge_advance(merge, ts);
    }
    lf_engine_flush(eng);
    lf_merge_finish(merge);
    struct lf_ev_stats stats = eng->stats;
    lf_analysis_finish(an, &stats);
    lf_timeline_write(devnull(), lf_analysis_model(an));

    lf_engine_free(eng);
    lf_merge_free(merge);
    lf_analysis_free(an);
    lf_timeline_sink_free(timeline);
    lf_json_sink_free(json);
    lf_capture_close(cap);
    return 0;
}
