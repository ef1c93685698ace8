/* capture.c: placeholder until the capture module lands. */
#include <stdio.h>
#include "lyncflow/capture.h"
struct lf_capture *lf_capture_open_file(const char *path, const char *bpf, char *err, size_t errsize)
{ (void)bpf; snprintf(err, errsize, "%s: capture not available in this build", path); return NULL; }
struct lf_capture *lf_capture_open_live(const char *iface, const char *bpf, char *err, size_t errsize)
{ (void)bpf; snprintf(err, errsize, "%s: capture not available in this build", iface); return NULL; }
int lf_capture_dump_open(struct lf_capture *c, const char *path, char *err, size_t errsize) { (void)c; (void)path; (void)err; (void)errsize; return -1; }
int lf_capture_linktype(const struct lf_capture *c) { (void)c; return 0; }
int lf_capture_is_live(const struct lf_capture *c) { (void)c; return 0; }
enum lf_next lf_capture_next(struct lf_capture *c, lf_time *ts, const uint8_t **data, size_t *caplen, size_t *wirelen, char *err, size_t errsize)
{ (void)c; (void)ts; (void)data; (void)caplen; (void)wirelen; (void)err; (void)errsize; return LF_NEXT_END; }
void lf_capture_breakloop(struct lf_capture *c) { (void)c; }
uint64_t lf_capture_drops(struct lf_capture *c) { (void)c; return 0; }
int lf_capture_fd(const struct lf_capture *c) { (void)c; return -1; }
void lf_capture_close(struct lf_capture *c) { (void)c; }
