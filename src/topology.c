/* topology.c: placeholder until the topology module lands. */
#include <stdio.h>
#include "lyncflow/topology.h"
int lf_topology_load(const char *path, struct lf_topology *t, char *err, size_t errsize) { (void)t; snprintf(err, errsize, "%s: topology not available in this build", path); return -1; }
void lf_topology_print(const struct lf_topology *t, FILE *out) { (void)t; (void)out; }
