/* fuzz_engine.c: libFuzzer target for the packet path: decode, flow table, reassembly, dissector choice and feeding.
 * The input is a list of frames, each a 1-byte link type selector, a 2-byte big-endian length, then the frame.
 * Each frame is handed to lf_engine_packet in an allocation of its exact size, 1 ms after the previous one,
 * with tiny caps (4 flows, 8 KiB per stream, 32 KiB in all) so that eviction, caps and gaps are exercised. */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lyncflow/engine.h"

static const int linktypes[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_NULL,
                                DLT_LOOP, DLT_PPP, DLT_C_HDLC};

static void sink(void *ctx, struct lf_event *ev)
{
    (void)ctx;
    if (ev->type == LF_EV_FLOW && ev->u.flow.end < ev->ts)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lf_config cfg;
    lf_config_defaults(&cfg);
    cfg.max_flows = 4;
    cfg.stream_cap = 8192;
    cfg.global_cap = 32768;
    cfg.tcp_idle_s = 2;
    cfg.udp_idle_s = 1;
    struct lf_engine *eng = lf_engine_new(&cfg, sink, NULL);
    lf_time t = 1700000000000000LL;
    size_t off = 0;
    while (size - off >= 3) {
        int lt = linktypes[data[off] % (sizeof linktypes / sizeof linktypes[0])];
        size_t n = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (n > size - off)
            n = size - off;
        uint8_t *frame = malloc(n ? n : 1);
        memcpy(frame, data + off, n);
        off += n;
        size_t wire = n + (n ? frame[n - 1] & 7 : 0); /* sometimes longer on the wire than captured */
        lf_engine_packet(eng, lt, t, frame, n, wire);
        free(frame);
        t += 1000 + (lf_time)(n & 0xff) * 10000;
        lf_engine_expire(eng, t);
    }
    lf_engine_flush(eng);
    if (eng->stats.flows < (uint64_t)eng->stats.evicted)
        abort();
    lf_engine_free(eng);
    return 0;
}
