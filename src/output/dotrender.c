/* dotrender.c: the diagram's output: lf_dot_write builds the graph (dot.c) and writes it as DOT (agwrite), SVG
 * and PNG (libgvc's dot layout). Object ids follow creation order, so the output is the same from run to run.
 * Graphviz's errors are captured for the caller's message, never printed; warnings are dropped.
 * One libgvc context serves the whole process, so none of this is thread-safe.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cgraph.h>
#include <gvc.h>

#include "dot_int.h"
#include "lyncflow/dot.h"
#include "lyncflow/util.h"

#define PNG_DPI "144"

/* Object ids in creation order. cgraph's default ids of named objects are the
 * addresses of their name strings, and subgraphs are kept (written, laid out)
 * in id order: with it the clusters would move from run to run. Here names
 * get even ids in the order they are first seen, anonymous objects (edges)
 * odd ones. The names are the graph's own reference-counted strings (which
 * agwrite inspects), listed here: cgraph's fallback table for names a
 * discipline does not map leaks its entries. */
struct idstate {
    Agraph_t *g;
    char **names;
    size_t n, cap;
    IDTYPE next_anon;
};

static void *id_open(Agraph_t *g, Agdisc_t *disc)
{
    (void)disc;
    struct idstate *st = lf_xcalloc(1, sizeof *st);
    st->g = g;
    st->next_anon = 1;
    return st;
}

static long id_map(void *state, int objtype, char *str, IDTYPE *id, int createflag)
{
    struct idstate *st = state;
    (void)objtype;
    if (!str) {
        if (!createflag)
            return 0;
        *id = st->next_anon;
        st->next_anon += 2;
        return 1;
    }
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->names[i], str) == 0) {
            *id = (IDTYPE)(2 * (i + 1));
            return 1;
        }
    if (!createflag)
        return 0;
    if (st->n == st->cap) {
        st->cap = st->cap ? 2 * st->cap : 64;
        st->names = lf_xrealloc(st->names, st->cap * sizeof *st->names);
    }
    st->names[st->n++] = agstrdup(st->g, str); /* freed with the graph's strings */
    *id = (IDTYPE)(2 * st->n);
    return 1;
}

static long id_alloc(void *state, int objtype, IDTYPE id)
{
    (void)state;
    (void)objtype;
    (void)id;
    return 0;
}

static void id_free(void *state, int objtype, IDTYPE id)
{
    (void)state;
    (void)objtype;
    (void)id;
}

static char *id_print(void *state, int objtype, IDTYPE id)
{
    struct idstate *st = state;
    (void)objtype;
    if (id % 2 || id == 0 || (size_t)(id / 2) > st->n)
        return NULL;
    return st->names[id / 2 - 1];
}

static void id_close(void *state)
{
    struct idstate *st = state;
    free(st->names);
    free(st);
}

static void id_register(void *state, int objtype, void *obj)
{
    (void)state;
    (void)objtype;
    (void)obj;
}

static Agiddisc_t seq_ids = {id_open, id_map, id_alloc, id_free, id_print, id_close, id_register};
static Agdisc_t seq_disc = {&AgMemDisc, &seq_ids, &AgIoDisc};

/* ---- output ---- */

static char gv_error[256];

/* libcgraph/libgvc messages: errors are kept for the caller, warnings dropped,
 * nothing reaches stderr. */
static int gv_errf(char *msg)
{
    if (strncmp(msg, "Warning", 7) == 0 || gv_error[0])
        return 0;
    size_t i = 0;
    for (; msg[i] && msg[i] != '\n' && i + 1 < sizeof gv_error; i++)
        gv_error[i] = msg[i];
    gv_error[i] = 0;
    return 0;
}

static FILE *open_out(const char *path, const char *mode, char *err, size_t errsize)
{
    if (strcmp(path, "-") == 0)
        return stdout;
    FILE *f = fopen(path, mode);
    if (!f)
        snprintf(err, errsize, "%s: cannot write the diagram: %s", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path, char *err, size_t errsize)
{
    int bad = ferror(f);
    if (f == stdout)
        bad |= fflush(f) != 0;
    else
        bad |= fclose(f) != 0;
    if (bad) {
        snprintf(err, errsize, "%s: cannot write the diagram: %s", path, errno ? strerror(errno) : "write error");
        return -1;
    }
    return 0;
}

/* Rendered into memory and written here: libgvc exits the process when a
 * write of its own fails. */
static int render(GVC_t *gvc, Agraph_t *g, const char *format, const char *path, char *err, size_t errsize)
{
    char *data = NULL;
    unsigned int len = 0;
    gv_error[0] = 0;
    if (gvRenderData(gvc, g, (char *)format, &data, &len) != 0 || !data) {
        snprintf(err, errsize, "%s: cannot render %s%s%s", path, format, gv_error[0] ? ": " : "", gv_error);
        if (data)
            gvFreeRenderData(data);
        return -1;
    }
    FILE *f = open_out(path, "wb", err, errsize);
    if (!f) {
        gvFreeRenderData(data);
        return -1;
    }
    errno = 0;
    size_t w = fwrite(data, 1, len, f);
    gvFreeRenderData(data);
    if (w != len && !ferror(f)) {
        if (f != stdout)
            fclose(f);
        snprintf(err, errsize, "%s: cannot write the diagram: short write", path);
        return -1;
    }
    return close_out(f, path, err, errsize);
}

/* One libgvc context for the life of the process. Graphviz's pango plugin
 * keeps a pointer to the last font name of the context that rendered last,
 * and compares it on its next call: with a fresh context per diagram, the
 * second one reads freed memory. Created before any graph, so that every
 * graph sees the same attribute defaults. */
static GVC_t *gv_context(void)
{
    static GVC_t *gvc;
    if (!gvc)
        gvc = gvContext();
    return gvc;
}

static int layout_render(GVC_t *gvc, Agraph_t *g, const char *format, const char *path, char *err, size_t errsize)
{
    gv_error[0] = 0;
    if (gvLayout(gvc, g, "dot") != 0) {
        snprintf(err, errsize, "%s: cannot lay out the diagram%s%s", path, gv_error[0] ? ": " : "", gv_error);
        return -1;
    }
    int rc = render(gvc, g, format, path, err, errsize);
    gvFreeLayout(gvc, g);
    return rc;
}

int lf_dot_write(const struct lf_model *m, const char *dot_path, const char *svg_path, const char *png_path, char *err,
                 size_t errsize)
{
    if (!dot_path && !svg_path && !png_path)
        return 0;
    agusererrf old_errf = agseterrf(gv_errf);
    gv_error[0] = 0;
    GVC_t *gvc = gv_context();
    Agraph_t *g = dot_build_graph(m, &seq_disc);
    int rc = 0;

    if (dot_path) {
        FILE *f = open_out(dot_path, "w", err, errsize);
        if (!f) {
            rc = -1;
        } else {
            errno = 0;
            if (agwrite(g, f) != 0) {
                if (f != stdout)
                    fclose(f);
                snprintf(err, errsize, "%s: cannot write the diagram", dot_path);
                rc = -1;
            } else {
                rc = close_out(f, dot_path, err, errsize);
            }
        }
    }
    if (rc == 0 && svg_path)
        rc = layout_render(gvc, g, "svg", svg_path, err, errsize);
    if (rc == 0 && png_path) {
        dot_set(g, "dpi", PNG_DPI); /* the bitmap at 1.5 times the SVG's size: small labels stay legible */
        rc = layout_render(gvc, g, "png", png_path, err, errsize);
    }
    agclose(g);
    agseterrf(old_errf);
    return rc;
}
