/* dot.c: placeholder until the diagram lands. */
#include <stdio.h>
#include "lyncflow/dot.h"
int lf_dot_write(const struct lf_model *m, const char *dot_path, const char *svg_path, const char *png_path, char *err, size_t errsize)
{ (void)m; (void)svg_path; (void)png_path; snprintf(err, errsize, "%s: diagrams not available in this build", dot_path ? dot_path : "-"); return -1; }
