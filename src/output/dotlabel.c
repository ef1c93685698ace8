/* dotlabel.c: the diagram's text: label buffers that grow as needed, text from the wire escaped for HTML-like
 * labels or cut down to printable ASCII for the lf_* attributes, and the setters that put both on graph objects.
 * Reads at most max bytes of a source string; never fails (lf_xrealloc exits when memory runs out).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dot_int.h"
#include "lyncflow/util.h"

static void buf_reserve(struct dot_buf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    b->p = lf_xrealloc(b->p, cap);
    b->cap = cap;
}

void dot_buf_add(struct dot_buf *b, const char *s)
{
    size_t n = strlen(s);
    buf_reserve(b, n);
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

void dot_buf_addf(struct dot_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Text that came from the wire (SNI, Host) goes into HTML-like labels escaped;
 * bytes outside printable ASCII become '?'. At most max bytes are read. */
void dot_buf_html(struct dot_buf *b, const char *s, size_t max)
{
    for (size_t i = 0; i < max && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': dot_buf_add(b, "&amp;"); break;
        case '<': dot_buf_add(b, "&lt;"); break;
        case '>': dot_buf_add(b, "&gt;"); break;
        case '"': dot_buf_add(b, "&quot;"); break;
        case '\'': dot_buf_add(b, "&#39;"); break;
        default: {
            char ch[2] = {(char)(c >= 0x20 && c < 0x7f ? c : '?'), 0};
            dot_buf_add(b, ch);
        }
        }
    }
}

/* Plain attribute values (lf_* metadata): printable ASCII only. */
void dot_buf_plain(struct dot_buf *b, const char *s, size_t max)
{
    for (size_t i = 0; i < max && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        char ch[2] = {(char)(c >= 0x20 && c < 0x7f ? c : '?'), 0};
        dot_buf_add(b, ch);
    }
}

void dot_buf_clear(struct dot_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = 0;
}

const char *dot_buf_str(struct dot_buf *b)
{
    return b->p ? b->p : "";
}

void dot_set(void *obj, const char *name, const char *value)
{
    agsafeset(obj, (char *)name, (char *)value, "");
}

/* Every HTML label holds a tag, so that its text never equals a plain
 * attribute value (cgraph shares one string table for both). */
void dot_set_html(void *obj, const char *name, const char *html)
{
    Agraph_t *g = agraphof(obj);
    char *s = agstrdup_html(g, (char *)html);
    agsafeset(obj, (char *)name, s, "");
    agstrfree(g, s);
}

void dot_set_u64(void *obj, const char *name, uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)v);
    dot_set(obj, name, s);
}
