/* ntlm.h: NTLM messages (MS-NLMP) carried in HTTP Authorization and
 * WWW-Authenticate headers, directly ("NTLM <b64>") or wrapped in SPNEGO
 * ("Negotiate <b64>").
 *
 * Only what the timeline needs is decoded: the message type, the negotiate
 * flags, and from a type-3 (AUTHENTICATE) message the domain, user and
 * workstation names, converted to UTF-8 (from UTF-16LE or from OEM bytes, as
 * the flags say). A type-2 (CHALLENGE) message gives its target name in
 * `domain`. Nothing here allocates; every read goes through struct lf_cur.
 */
#ifndef LYNCFLOW_NTLM_H
#define LYNCFLOW_NTLM_H

#include <stddef.h>
#include <stdint.h>

#define LF_NTLM_NEGOTIATE_UNICODE 0x00000001u
#define LF_NTLM_NEGOTIATE_OEM 0x00000002u

/* The longest decoded token looked at; longer base64 input is cut here
 * (NTLM messages are far shorter; Kerberos tokens are skipped). */
#define LF_NTLM_MAX_TOKEN 6144

struct lf_ntlm {
    uint8_t type;     /* 1 NEGOTIATE, 2 CHALLENGE, 3 AUTHENTICATE; 0 when none */
    uint32_t flags;   /* NegotiateFlags, 0 when the message has none */
    char domain[64];  /* type 3: DomainName; type 2: TargetName; type 1: supplied domain */
    char user[64];    /* type 3: UserName */
    char workstation[64];
};

/* Decodes standard base64 (RFC 4648, padding optional; whitespace may only
 * follow the data)
 * from in[0..len) into out (at most outsize bytes; longer input is decoded up
 * to outsize bytes). Returns the decoded length, or -1 when a character is
 * not base64 or the length is impossible. */
long lf_base64_decode(const char *in, size_t len, uint8_t *out, size_t outsize);

/* Parses one NTLM message at the start of tok[0..len). Returns its type
 * (1..3) and fills *out, or 0 when the bytes are not an NTLMSSP message or
 * are malformed (truncated, fields pointing outside the message); *out is
 * then zeroed. Field values that do not fit are truncated. */
int lf_ntlm_parse(const uint8_t *tok, size_t len, struct lf_ntlm *out);

/* Finds an NTLMSSP message inside tok (at its start, or inside an SPNEGO
 * wrapper) and parses it as lf_ntlm_parse does. Returns its type, or 0. */
int lf_ntlm_find(const uint8_t *tok, size_t len, struct lf_ntlm *out);

/* The base64 token of an NTLM or Negotiate header value (the part after the
 * scheme, `len` bytes, surrounding spaces allowed): decodes and finds the
 * message. Returns its type (1..3), or 0 (*out zeroed). */
int lf_ntlm_from_b64(const char *b64, size_t len, struct lf_ntlm *out);

#endif
