/* cursor.h: the one way lyncflow reads untrusted bytes.
 *
 * A cursor is a window over a byte buffer the caller owns. Every read checks
 * the remaining length; a read past the end sets a sticky error, returns zero
 * and leaves the position at the end, so a parser may chain reads and test
 * lf_cur_ok() once. Nothing here allocates. Multi-byte integers are
 * big-endian (network order) unless the name says _le.
 */
#ifndef LYNCFLOW_CURSOR_H
#define LYNCFLOW_CURSOR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct lf_cur {
    const uint8_t *p;
    size_t len;
    size_t off;
    int err;
};

static inline struct lf_cur lf_cur_make(const void *p, size_t len)
{
    struct lf_cur c = {(const uint8_t *)p, len, 0, 0};
    return c;
}

static inline int lf_cur_ok(const struct lf_cur *c) { return !c->err; }
static inline size_t lf_cur_left(const struct lf_cur *c) { return c->len - c->off; }
/* Where the cursor stands; a cursor over nothing (p NULL, as a zeroed one) stays NULL. */
static inline const uint8_t *lf_cur_ptr(const struct lf_cur *c) { return c->p ? c->p + c->off : c->p; }

/* Marks the cursor failed and moves it to the end. */
static inline void lf_cur_fail(struct lf_cur *c)
{
    c->err = 1;
    c->off = c->len;
}

/* Returns non-zero when n more bytes are readable; fails the cursor if not.
 * A failed cursor stands at its end, so only a need of 0 bytes has to look at
 * the flag: fixed-size reads cost one comparison. */
static inline int lf_cur_need(struct lf_cur *c, size_t n)
{
    if (n > c->len - c->off || (n == 0 && c->err)) {
        lf_cur_fail(c);
        return 0;
    }
    return 1;
}

static inline void lf_cur_skip(struct lf_cur *c, size_t n)
{
    if (lf_cur_need(c, n))
        c->off += n;
}

static inline uint8_t lf_cur_u8(struct lf_cur *c)
{
    if (!lf_cur_need(c, 1))
        return 0;
    return c->p[c->off++];
}

static inline uint16_t lf_cur_u16(struct lf_cur *c)
{
    if (!lf_cur_need(c, 2))
        return 0;
    uint16_t v = (uint16_t)((c->p[c->off] << 8) | c->p[c->off + 1]);
    c->off += 2;
    return v;
}

static inline uint32_t lf_cur_u24(struct lf_cur *c)
{
    if (!lf_cur_need(c, 3))
        return 0;
    uint32_t v = ((uint32_t)c->p[c->off] << 16) | ((uint32_t)c->p[c->off + 1] << 8) | c->p[c->off + 2];
    c->off += 3;
    return v;
}

static inline uint32_t lf_cur_u32(struct lf_cur *c)
{
    if (!lf_cur_need(c, 4))
        return 0;
    uint32_t v = ((uint32_t)c->p[c->off] << 24) | ((uint32_t)c->p[c->off + 1] << 16) |
                 ((uint32_t)c->p[c->off + 2] << 8) | c->p[c->off + 3];
    c->off += 4;
    return v;
}

static inline uint16_t lf_cur_u16le(struct lf_cur *c)
{
    if (!lf_cur_need(c, 2))
        return 0;
    uint16_t v = (uint16_t)(c->p[c->off] | (c->p[c->off + 1] << 8));
    c->off += 2;
    return v;
}

static inline uint32_t lf_cur_u32le(struct lf_cur *c)
{
    if (!lf_cur_need(c, 4))
        return 0;
    uint32_t v = (uint32_t)c->p[c->off] | ((uint32_t)c->p[c->off + 1] << 8) |
                 ((uint32_t)c->p[c->off + 2] << 16) | ((uint32_t)c->p[c->off + 3] << 24);
    c->off += 4;
    return v;
}

/* Copies n bytes out; on failure dst is zero-filled. */
static inline void lf_cur_copy(struct lf_cur *c, void *dst, size_t n)
{
    if (!lf_cur_need(c, n)) {
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, c->p + c->off, n);
    c->off += n;
}

/* Splits off the next n bytes as a sub-cursor and advances past them. A short
 * buffer fails both the parent and the returned cursor. */
static inline struct lf_cur lf_cur_sub(struct lf_cur *c, size_t n)
{
    struct lf_cur s = {NULL, 0, 0, 1};
    if (!lf_cur_need(c, n))
        return s;
    s.p = c->p + c->off;
    s.len = n;
    s.err = 0;
    c->off += n;
    return s;
}

/* Finds byte b at or after the position; returns its offset from the
 * position, or -1. Does not move the cursor. */
static inline long lf_cur_find(const struct lf_cur *c, uint8_t b)
{
    if (c->err)
        return -1;
    const uint8_t *q = memchr(c->p + c->off, b, c->len - c->off);
    return q ? (long)(q - (c->p + c->off)) : -1;
}

#endif
