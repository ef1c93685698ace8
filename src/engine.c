/* engine.c: placeholder until the engine module lands. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "lyncflow/engine.h"
#include "lyncflow/util.h"
void lf_config_defaults(struct lf_config *cfg)
{ *cfg = (struct lf_config){0}; cfg->max_flows = 262144; cfg->stream_cap = 1 << 20; cfg->global_cap = 256u << 20; cfg->tcp_idle_s = 1200; cfg->udp_idle_s = 120; }
struct lf_engine *lf_engine_new(const struct lf_config *cfg, void (*emit)(void *, struct lf_event *), void *emit_ctx)
{ struct lf_engine *e = lf_xcalloc(1, sizeof *e); e->cfg = *cfg; e->emit = emit; e->emit_ctx = emit_ctx; return e; }
void lf_engine_free(struct lf_engine *eng) { free(eng); }
void lf_engine_packet(struct lf_engine *eng, int linktype, lf_time ts, const uint8_t *data, size_t caplen, size_t wirelen)
{ (void)linktype; (void)data; (void)wirelen; eng->now = ts; eng->stats.packets++; eng->stats.bytes += caplen; }
void lf_engine_expire(struct lf_engine *eng, lf_time now) { (void)eng; (void)now; }
void lf_engine_flush(struct lf_engine *eng) { (void)eng; }
void lf_emit(struct lf_engine *eng, struct lf_event *ev) { eng->emit(eng->emit_ctx, ev); }
void lf_warn(const char *fmt, ...)
{ va_list ap; va_start(ap, fmt); fputs("lyncflow: ", stderr); vfprintf(stderr, fmt, ap); fputc('\n', stderr); va_end(ap); }
