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

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

int lf_strcaseeq(const char *a, const char *b)
{
    while (*a && *b && lower((unsigned char)*a) == lower((unsigned char)*b)) {
        a++;
        b++;
    }
    return *a == 0 && *b == 0;
}

int lf_strcaseprefix(const char *s, const char *prefix)
{
    while (*prefix) {
        if (lower((unsigned char)*s) != lower((unsigned char)*prefix))
            return 0;
        s++;
        prefix++;
    }
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
