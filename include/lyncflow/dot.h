/* dot.h: the listener-to-server diagram, built with libcgraph, written as DOT
 * and rendered to SVG/PNG with libgvc.
 *
 * Clusters: clients (aggregated), the reverse proxy's listeners with the names
 * they served, and the internal servers grouped by role. Edges carry counts,
 * names, services and status mixes; configured but unused paths are dashed,
 * failing ones red with their finding codes. Output is deterministic.
 *
 * For scripts (gvpr, libcgraph), the DOT carries plain facts beside the
 * labels. Node ids: "clients:NETWORK", "clients:(other)", "listener:NAME",
 * "server:NAME", "server:(none)" (requests no server answered). Attributes:
 *   nodes  lf_kind (clients|listener|server|none), lf_addr; listeners
 *          lf_names, lf_simple_urls, lf_web_fqdns (',' joined, sorted);
 *          servers lf_role, lf_fqdn; clients lf_clients_n
 *   edges  lf_connections, lf_requests; client edges lf_clients; paths
 *          lf_state (used|unused|failing), lf_names, lf_services,
 *          lf_status ("2xx=10,4xx=2,none=1"), lf_codes
 */
#ifndef LYNCFLOW_DOT_H
#define LYNCFLOW_DOT_H

#include "lyncflow/analysis.h"

/* Writes the model's diagram to each path that is not NULL ("-" is standard
 * output). 0 ok; -1 with err naming the file that could not be written or
 * rendered. Not thread-safe: one libgvc context serves the whole process. */
int lf_dot_write(const struct lf_model *m, const char *dot_path, const char *svg_path, const char *png_path, char *err,
                 size_t errsize);

#endif
