/* topology.h: the published deployment, from an INI file or inferred.
 *
 * Format (design.md):
 *   [listener NAME]  address = IP:PORT
 *                    names = FQDN, FQDN, ... (optional: the names published there)
 *   [server NAME]    role = director|frontend|edge|other, address = IP:PORT,
 *                    fqdn = external web services FQDN
 *   [simple-urls]    meet = FQDN, dialin = FQDN, discover = FQDN
 * '#' and ';' start comments. Unknown sections or keys and malformed lines
 * are errors reported as "FILE:LINE: message".
 * The topology is a plain value owned by whoever declared it.
 */
#ifndef LYNCFLOW_TOPOLOGY_H
#define LYNCFLOW_TOPOLOGY_H

#include <stdio.h>

#include "lyncflow/event.h"

#define LF_TOPO_MAX_LISTENERS 32
#define LF_TOPO_MAX_SERVERS 64
#define LF_TOPO_MAX_NAMES 32

struct lf_topo_listener {
    char name[64];
    struct lf_addr addr;
    /* names seen on (inferred) or published to this listener */
    char names[LF_TOPO_MAX_NAMES][256];
    int nnames;
};

struct lf_topo_server {
    char name[64];
    enum lf_role role;
    struct lf_addr addr;
    char fqdn[256];
};

struct lf_topology {
    struct lf_topo_listener listeners[LF_TOPO_MAX_LISTENERS];
    int nlisteners;
    struct lf_topo_server servers[LF_TOPO_MAX_SERVERS];
    int nservers;
    char meet[256], dialin[256], discover[256], scheduler[256];
    int inferred; /* built from traffic, not read from a file */
};

/* Parses path into t. 0 ok; -1 with err "FILE:LINE: what is wrong" (or
 * "FILE: cannot open ..."). */
int lf_topology_load(const char *path, struct lf_topology *t, char *err, size_t errsize);
/* Writes t in the same INI format; an inferred topology says so in a comment. */
void lf_topology_print(const struct lf_topology *t, FILE *out);

/* Lookups; NULL when nothing matches. Names compare case-insensitively. */
const struct lf_topo_server *lf_topology_server_by_addr(const struct lf_topology *t, const struct lf_addr *a);
const struct lf_topo_server *lf_topology_server_by_fqdn(const struct lf_topology *t, const char *name);
const struct lf_topo_listener *lf_topology_listener_by_addr(const struct lf_topology *t, const struct lf_addr *a);
/* "meet", "dialin", "discover", "scheduler" when name is a simple URL (discover
 * also matches lyncdiscover.<any> when none is configured), else NULL. */
const char *lf_topology_simple_url(const struct lf_topology *t, const char *name);
/* The server a name is published to: the server whose fqdn it is; for a simple
 * URL the Director (the first one), else the first Front End; NULL when none. */
const struct lf_topo_server *lf_topology_server_for_name(const struct lf_topology *t, const char *name);
/* The listener whose names list the name ("*.dom" patterns allowed), or NULL. */
const struct lf_topo_listener *lf_topology_listener_for_name(const struct lf_topology *t, const char *name);

#endif
