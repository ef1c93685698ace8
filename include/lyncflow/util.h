/* util.h: allocation that aborts on out-of-memory, small string helpers, and the one hash. */
#ifndef LYNCFLOW_UTIL_H
#define LYNCFLOW_UTIL_H

#include <stddef.h>
#include <stdint.h>

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

/* FNV-1a (64-bit) of n bytes, continuing from h; start from LF_FNV_SEED. */
#define LF_FNV_SEED 1469598103934665603ULL
static inline uint64_t lf_fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

#endif
