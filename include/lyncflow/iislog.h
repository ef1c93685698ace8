/* iislog.h: IIS W3C extended logs as http events.
 *
 * A reader streams one file line by line in bounded memory. It honours every
 * #Fields: directive (the order may change midway), or a field list given
 * up front for excerpts without a header. Each request line becomes an http
 * event with source "iis"; '-' is empty, '+' in cs(User-Agent) is a space,
 * times are UTC. IIS stamps a line when its request completes: with
 * sub-second times the event's ts is that minus time-taken (the request's
 * start, as capture events have it); whole-second times are kept as they
 * are, so that the log's order stands (the event's whole_seconds says so).
 * A malformed line is counted and reported once on stderr as
 * "FILE:LINE: what is wrong", then skipped.
 */
#ifndef LYNCFLOW_IISLOG_H
#define LYNCFLOW_IISLOG_H

#include <stdint.h>

#include "lyncflow/event.h"
#include "lyncflow/topology.h"

struct lf_iislog;

/* server: the SERVER= name (may be NULL: found from s-ip/s-port in topo, which
 * may be NULL). fields: the --iis-fields list, or NULL. NULL with err when
 * the file cannot be opened. */
struct lf_iislog *lf_iislog_open(const char *path, const char *server, const char *fields,
                                 const struct lf_topology *topo, char *err, size_t errsize);
/* Next event: 1 filled ev, 0 end of file. Never fails on bad lines. */
int lf_iislog_next(struct lf_iislog *r, struct lf_event *ev);
uint64_t lf_iislog_lines(const struct lf_iislog *r);
uint64_t lf_iislog_errors(const struct lf_iislog *r);
void lf_iislog_close(struct lf_iislog *r);

/* "0x8009030E SEC_E_NO_CREDENTIALS ..." style text for a win32 status, or NULL. */
const char *lf_win32_status_name(uint32_t code);

#endif
