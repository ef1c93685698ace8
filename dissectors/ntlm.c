/* ntlm.c: NTLM NEGOTIATE/CHALLENGE/AUTHENTICATE messages from HTTP auth headers (MS-NLMP 2.2.1, RFC 4648). */
#include "lyncflow/ntlm.h"

#include <string.h>

#include "lyncflow/cursor.h"

static const uint8_t ntlm_sig[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

#define NTLM_OEM_DOMAIN_SUPPLIED 0x00001000u
#define NTLM_OEM_WORKSTATION_SUPPLIED 0x00002000u

static int b64_value(uint8_t ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

long lf_base64_decode(const char *in, size_t len, uint8_t *out, size_t outsize)
{
    struct lf_cur c = lf_cur_make(in, len);
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    size_t n = 0, chars = 0;
    int ended = 0;
    while (lf_cur_left(&c)) {
        uint8_t ch = lf_cur_u8(&c);
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
            ended = 1;
            continue;
        }
        if (ended)
            return -1;
        if (ch == '=') {
            pad++;
            continue;
        }
        int v = b64_value(ch);
        if (v < 0 || pad)
            return -1;
        chars++;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n < outsize)
                out[n++] = (uint8_t)(acc >> bits);
            else
                return (long)n;
        }
    }
    if (pad > 2 || chars % 4 == 1)
        return -1;
    return (long)n;
}

/* Appends code point cp as UTF-8 to dst (size bytes, NUL kept); returns 0
 * when it did not fit. */
static int put_utf8(char *dst, size_t size, size_t *pos, uint32_t cp)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | (cp >> 6));
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | (cp >> 12));
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | (cp >> 18));
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    if (*pos + n >= size)
        return 0;
    memcpy(dst + *pos, b, n);
    *pos += n;
    dst[*pos] = 0;
    return 1;
}

/* A UTF-16LE or OEM string into UTF-8; control characters become '?', and
 * OEM bytes outside ASCII too (the code page is not known). */
static void ntlm_string(struct lf_cur s, int unicode, char *dst, size_t size)
{
    size_t pos = 0;
    dst[0] = 0;
    if (unicode) {
        while (lf_cur_left(&s) >= 2) {
            uint32_t cp = lf_cur_u16le(&s);
            if (cp >= 0xd800 && cp < 0xdc00 && lf_cur_left(&s) >= 2) {
                struct lf_cur peek = s;
                uint32_t lo = lf_cur_u16le(&peek);
                if (lo >= 0xdc00 && lo < 0xe000) {
                    s = peek;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                } else {
                    cp = 0xfffd;
                }
            } else if (cp >= 0xd800 && cp < 0xe000) {
                cp = 0xfffd;
            }
            if (cp < 0x20 || cp == 0x7f)
                cp = '?';
            if (!put_utf8(dst, size, &pos, cp))
                return;
        }
    } else {
        while (lf_cur_left(&s)) {
            uint8_t ch = lf_cur_u8(&s);
            if (ch < 0x20 || ch >= 0x7f)
                ch = '?';
            if (!put_utf8(dst, size, &pos, ch))
                return;
        }
    }
}

/* Reads one 8-byte field descriptor (length, max length, offset) at the
 * cursor and returns the bytes it points at within msg; fails *ok when they
 * lie outside the message. */
static struct lf_cur ntlm_field(struct lf_cur *hdr, const uint8_t *msg, size_t msglen, int *ok)
{
    uint16_t flen = lf_cur_u16le(hdr);
    lf_cur_u16le(hdr); /* MaximumLength: not used */
    uint32_t off = lf_cur_u32le(hdr);
    if (!flen) { /* an empty field's offset is not looked at: senders leave any value there */
        struct lf_cur none = lf_cur_make(msg, 0);
        if (!lf_cur_ok(hdr))
            *ok = 0;
        return none;
    }
    struct lf_cur m = lf_cur_make(msg, msglen);
    lf_cur_skip(&m, off);
    struct lf_cur s = lf_cur_sub(&m, flen);
    if (!lf_cur_ok(hdr) || !lf_cur_ok(&s))
        *ok = 0;
    return s;
}

static int ntlm_unicode_guess(struct lf_cur s)
{
    /* no flags (early AUTHENTICATE layout): UTF-16LE text has NUL high bytes */
    if (lf_cur_left(&s) < 2 || lf_cur_left(&s) % 2)
        return 0;
    lf_cur_u8(&s);
    return lf_cur_u8(&s) == 0;
}

int lf_ntlm_parse(const uint8_t *tok, size_t len, struct lf_ntlm *out)
{
    memset(out, 0, sizeof *out);
    struct lf_cur c = lf_cur_make(tok, len);
    uint8_t sig[8];
    lf_cur_copy(&c, sig, sizeof sig);
    uint32_t type = lf_cur_u32le(&c);
    if (!lf_cur_ok(&c) || memcmp(sig, ntlm_sig, sizeof sig) != 0)
        return 0;
    int ok = 1;
    struct lf_ntlm r;
    memset(&r, 0, sizeof r);
    switch (type) {
    case 1: {
        r.flags = lf_cur_u32le(&c);
        if (!lf_cur_ok(&c))
            return 0;
        if (lf_cur_left(&c) >= 16) {
            struct lf_cur dom = ntlm_field(&c, tok, len, &ok);
            struct lf_cur ws = ntlm_field(&c, tok, len, &ok);
            if (!ok)
                return 0;
            if (r.flags & NTLM_OEM_DOMAIN_SUPPLIED)
                ntlm_string(dom, 0, r.domain, sizeof r.domain);
            if (r.flags & NTLM_OEM_WORKSTATION_SUPPLIED)
                ntlm_string(ws, 0, r.workstation, sizeof r.workstation);
        }
        break;
    }
    case 2: {
        struct lf_cur target = ntlm_field(&c, tok, len, &ok);
        r.flags = lf_cur_u32le(&c);
        lf_cur_skip(&c, 8); /* ServerChallenge */
        if (!ok || !lf_cur_ok(&c))
            return 0;
        ntlm_string(target, (r.flags & LF_NTLM_NEGOTIATE_UNICODE) != 0, r.domain, sizeof r.domain);
        break;
    }
    case 3: {
        ntlm_field(&c, tok, len, &ok); /* LmChallengeResponse */
        ntlm_field(&c, tok, len, &ok); /* NtChallengeResponse */
        struct lf_cur dom = ntlm_field(&c, tok, len, &ok);
        struct lf_cur user = ntlm_field(&c, tok, len, &ok);
        struct lf_cur ws = ntlm_field(&c, tok, len, &ok);
        if (!ok)
            return 0;
        int unicode;
        struct lf_cur rest = c;
        ntlm_field(&rest, tok, len, &ok); /* EncryptedRandomSessionKey */
        uint32_t flags = lf_cur_u32le(&rest);
        if (ok && lf_cur_ok(&rest)) {
            r.flags = flags;
            unicode = (flags & LF_NTLM_NEGOTIATE_UNICODE) != 0;
        } else {
            unicode = ntlm_unicode_guess(user);
        }
        ntlm_string(dom, unicode, r.domain, sizeof r.domain);
        ntlm_string(user, unicode, r.user, sizeof r.user);
        ntlm_string(ws, unicode, r.workstation, sizeof r.workstation);
        break;
    }
    default:
        return 0;
    }
    r.type = (uint8_t)type;
    *out = r;
    return r.type;
}

int lf_ntlm_find(const uint8_t *tok, size_t len, struct lf_ntlm *out)
{
    struct lf_cur c = lf_cur_make(tok, len);
    for (;;) {
        long at = lf_cur_find(&c, 'N');
        if (at < 0)
            break;
        lf_cur_skip(&c, (size_t)at);
        if (lf_cur_left(&c) < sizeof ntlm_sig)
            break;
        if (memcmp(lf_cur_ptr(&c), ntlm_sig, sizeof ntlm_sig) == 0)
            return lf_ntlm_parse(lf_cur_ptr(&c), lf_cur_left(&c), out);
        lf_cur_skip(&c, 1);
    }
    memset(out, 0, sizeof *out);
    return 0;
}

int lf_ntlm_from_b64(const char *b64, size_t len, struct lf_ntlm *out)
{
    uint8_t buf[LF_NTLM_MAX_TOKEN];
    struct lf_cur c = lf_cur_make(b64, len);
    while (lf_cur_left(&c) && (*lf_cur_ptr(&c) == ' ' || *lf_cur_ptr(&c) == '\t'))
        lf_cur_skip(&c, 1);
    long dl = lf_base64_decode((const char *)lf_cur_ptr(&c), lf_cur_left(&c), buf, sizeof buf);
    if (dl <= 0) {
        memset(out, 0, sizeof *out);
        return 0;
    }
    return lf_ntlm_find(buf, (size_t)dl, out);
}
