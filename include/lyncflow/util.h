/* util.h: allocation that aborts on out-of-memory, and small string helpers. */
#ifndef LYNCFLOW_UTIL_H
#define LYNCFLOW_UTIL_H

#include <stddef.h>

void *lf_xmalloc(size_t n);
void *lf_xcalloc(size_t n, size_t size);
void *lf_xrealloc(void *p, size_t n);
char *lf_xstrdup(const char *s);

/* Case-insensitive ASCII compare of NUL-terminated strings. */
int lf_strcaseeq(const char *a, const char *b);
/* Case-insensitive prefix test. */
int lf_strcaseprefix(const char *s, const char *prefix);
/* Parses a decimal unsigned number, all of s. 0 ok, -1 malformed/overflow. */
int lf_parse_u64(const char *s, unsigned long long *out);

#endif
