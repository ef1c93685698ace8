/* util.c: allocation wrappers that abort on out-of-memory; string helpers. */
#include "lyncflow/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "lyncflow: out of memory (%zu bytes)\n", n);
    abort();
}

void *lf_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *lf_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *lf_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *lf_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = lf_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

/* ASCII lower case of every byte value: a table, so that comparing costs a load a byte, not branches. */
static const unsigned char lower[256] = {
#define L4(c) L1(c), L1(c + 1), L1(c + 2), L1(c + 3)
#define L1(c) ((unsigned char)((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c)))
#define L16(c) L4(c), L4(c + 4), L4(c + 8), L4(c + 12)
#define L64(c) L16(c), L16(c + 16), L16(c + 32), L16(c + 48)
    L64(0), L64(64), L64(128), L64(192)
#undef L64
#undef L16
#undef L4
#undef L1
};

int lf_strcaseeq(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    while (lower[*x] == lower[*y]) {
        if (!*x)
            return 1;
        x++;
        y++;
    }
    return 0;
}

int lf_strcaseprefix(const char *s, const char *prefix)
{
    const unsigned char *x = (const unsigned char *)s, *y = (const unsigned char *)prefix;
    for (; *y; x++, y++)
        if (lower[*x] != lower[*y])
            return 0;
    return 1;
}

int lf_parse_u64(const char *s, unsigned long long *out)
{
    unsigned long long v = 0;
    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (~0ULL - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}
