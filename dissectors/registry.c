/* registry.c: placeholder until the dissector registry lands. */
#include <stdlib.h>
#include "lyncflow/dissect.h"
extern const struct lf_dissector lf_dissector_http;
extern const struct lf_dissector lf_dissector_tls;
const struct lf_dissector *const lf_dissectors[] = {&lf_dissector_tls, &lf_dissector_http, NULL};
const struct lf_dissector *lf_dissector_find(const char *name) { (void)name; return NULL; }
const struct lf_dissector *lf_dissector_probe(const uint8_t *data, size_t len, enum lf_dir dir, int final, int *wait)
{ (void)data; (void)len; (void)dir; (void)final; *wait = 0; return NULL; }
enum lf_dis_status lf_feed(const struct lf_dissector *d, void *st, struct lf_flowctx *fc, enum lf_dir dir, struct lf_bytebuf *b, const uint8_t *data, size_t len)
{ (void)d; (void)st; (void)fc; (void)dir; (void)b; (void)data; (void)len; return LF_DIS_ERROR; }
void lf_bytebuf_free(struct lf_bytebuf *b) { free(b->data); b->data = NULL; }
