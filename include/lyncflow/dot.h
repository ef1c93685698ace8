/* dot.h: the listener-to-server diagram, built with libcgraph, written as DOT
 * and rendered to SVG/PNG with libgvc.
 *
 * Clusters: clients (aggregated), the reverse proxy's listeners with the names
 * they served, and the internal servers grouped by role. Edges carry counts,
 * names, services and status mixes; configured but unused paths are dashed,
 * failing ones red with their finding codes. Output is deterministic.
 */
#ifndef LYNCFLOW_DOT_H
#define LYNCFLOW_DOT_H

#include "lyncflow/analysis.h"

/* Writes the model's diagram to each path that is not NULL. 0 ok; -1 with err
 * naming the file that could not be written. */
int lf_dot_write(const struct lf_model *m, const char *dot_path, const char *svg_path, const char *png_path, char *err,
                 size_t errsize);

#endif
