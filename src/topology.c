/* topology.c: placeholder until the topology module lands. */
#include <stdio.h>
#include "lyncflow/topology.h"
int lf_topology_load(const char *path, struct lf_topology *t, char *err, size_t errsize) { (void)t; snprintf(err, errsize, "%s: topology not available in this build", path); return -1; }
void lf_topology_print(const struct lf_topology *t, FILE *out) { (void)t; (void)out; }
const struct lf_topo_server *lf_topology_server_by_addr(const struct lf_topology *t, const struct lf_addr *a) { (void)t; (void)a; return NULL; }
const struct lf_topo_server *lf_topology_server_by_fqdn(const struct lf_topology *t, const char *name) { (void)t; (void)name; return NULL; }
const struct lf_topo_listener *lf_topology_listener_by_addr(const struct lf_topology *t, const struct lf_addr *a) { (void)t; (void)a; return NULL; }
const char *lf_topology_simple_url(const struct lf_topology *t, const char *name) { (void)t; (void)name; return NULL; }
