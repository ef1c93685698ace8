/* dot_int.h: what the diagram's files share. dotlabel.c fills label buffers and sets attributes, dot.c builds
 * the graph from the model (dotclients.c adds the client networks), dotrender.c writes and renders it.
 *
 * All of it runs inside one lf_dot_write call, on the caller's thread; nothing here is thread-safe.
 */
#ifndef LYNCFLOW_DOT_INT_H
#define LYNCFLOW_DOT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cgraph.h>

#include "lyncflow/analysis.h"

/* A growing text buffer for labels; p is NULL until the first add, and its owner frees it. */
struct dot_buf {
    char *p;
    size_t len, cap;
};

void dot_buf_add(struct dot_buf *b, const char *s);
void dot_buf_addf(struct dot_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dot_buf_html(struct dot_buf *b, const char *s, size_t max);  /* escaped for HTML-like labels */
void dot_buf_plain(struct dot_buf *b, const char *s, size_t max); /* printable ASCII, for lf_* values */
void dot_buf_clear(struct dot_buf *b);
const char *dot_buf_str(struct dot_buf *b); /* "" while empty */

/* Attributes of a graph, node or edge. */
void dot_set(void *obj, const char *name, const char *value);
void dot_set_html(void *obj, const char *name, const char *html);
void dot_set_u64(void *obj, const char *name, uint64_t v);

/* The graph being built: its nodes by model index and their sorted positions. */
struct dot_build {
    const struct lf_model *m;
    Agraph_t *g;
    Agnode_t *listener[LF_TOPO_MAX_LISTENERS];
    Agnode_t *server[LF_TOPO_MAX_SERVERS];
    Agnode_t *nowhere; /* "no server reached", made on demand */
    int lpos[LF_TOPO_MAX_LISTENERS], spos[LF_TOPO_MAX_SERVERS]; /* sorted positions */
    struct dot_buf a, b;
};

static inline int clampi(int v, int max)
{
    return v < 0 ? 0 : v > max ? max : v;
}

/* The client networks in cluster cl and their edges to the listeners, which must exist already. */
void dot_add_clients(struct dot_build *bd, Agraph_t *cl);

/* The model's diagram as a new graph opened with disc; the caller closes it. */
Agraph_t *dot_build_graph(const struct lf_model *m, Agdisc_t *disc);

#endif
