/* iislog.c: placeholder until the IIS reader lands. */
#include <stdio.h>
#include "lyncflow/iislog.h"
struct lf_iislog *lf_iislog_open(const char *path, const char *server, const char *fields, const struct lf_topology *topo, char *err, size_t errsize)
{ (void)server; (void)fields; (void)topo; snprintf(err, errsize, "%s: IIS logs not available in this build", path); return NULL; }
int lf_iislog_next(struct lf_iislog *r, struct lf_event *ev) { (void)r; (void)ev; return 0; }
uint64_t lf_iislog_lines(const struct lf_iislog *r) { (void)r; return 0; }
uint64_t lf_iislog_errors(const struct lf_iislog *r) { (void)r; return 0; }
void lf_iislog_close(struct lf_iislog *r) { (void)r; }
const char *lf_win32_status_name(uint32_t code) { (void)code; return NULL; }
