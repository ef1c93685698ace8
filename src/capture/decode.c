/* decode.c: frames of the supported link types down to TCP/UDP, every read through struct lf_cur. */
#include "lyncflow/decode.h"

#include <pcap/dlt.h>
#include <string.h>

#include "lyncflow/cursor.h"

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD 0x9100
#define ETH_QINQ_OLD2 0x9200
#define ETH_MPLS 0x8847
#define ETH_MPLS_MC 0x8848
#define ETH_PPPOE 0x8864
#define ETH_TEB 0x6558 /* GRE: transparent Ethernet bridging */
#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057
#define MAX_VLAN_TAGS 8
#define MAX_MPLS_LABELS 8
#define MAX_V6_EXT 16
#define MAX_DEPTH 4 /* tunnels inside tunnels */

#define LINKTYPE_RAW_FILE 101 /* LINKTYPE_RAW, should a reader hand it through unmapped */

static enum lf_decode_status ipv4(struct lf_cur *c, struct lf_pkt *p, int depth);
static enum lf_decode_status ipv6(struct lf_cur *c, struct lf_pkt *p, int depth);
static enum lf_decode_status ethernet(struct lf_cur *c, struct lf_pkt *p, int depth);
static enum lf_decode_status ethertype(struct lf_cur *c, uint16_t type, struct lf_pkt *p, int depth);
static enum lf_decode_status ip_by_version(struct lf_cur *c, struct lf_pkt *p, int depth);

/* GRE (RFC 2784, 2890): flags, protocol, optional checksum, key and sequence words. */
static enum lf_decode_status gre(struct lf_cur *c, struct lf_pkt *p, int depth)
{
    uint16_t flags = lf_cur_u16(c);
    uint16_t proto = lf_cur_u16(c);
    if (!lf_cur_ok(c))
        return LF_DEC_MALFORMED;
    if (flags & 0x0007)
        return LF_DEC_OK; /* version 1 (PPTP) and others: left alone */
    lf_cur_skip(c, ((flags & 0x8000) ? 4u : 0u) + ((flags & 0x2000) ? 4u : 0u) + ((flags & 0x1000) ? 4u : 0u));
    if (!lf_cur_ok(c))
        return LF_DEC_MALFORMED;
    if (proto == ETH_TEB)
        return ethernet(c, p, depth);
    return ethertype(c, proto, p, depth);
}

/* IP inside IP: IPv4 (4), IPv6 (41), GRE (47). The innermost packet is the one decoded;
 * a fragmented outer packet keeps its fragment mark. */
static enum lf_decode_status tunnel(struct lf_cur *c, struct lf_pkt *p, int depth)
{
    if (depth + 1 >= MAX_DEPTH)
        return LF_DEC_OK;
    uint8_t frag = p->frag;
    enum lf_decode_status r;
    p->frag = LF_FRAG_NONE;
    if (p->proto == 4)
        r = ipv4(c, p, depth + 1);
    else if (p->proto == 41)
        r = ipv6(c, p, depth + 1);
    else
        r = gre(c, p, depth + 1);
    if (frag > p->frag)
        p->frag = frag;
    return r;
}

/* GTP-U (3GPP TS 29.281) T-PDU: the user's IP packet. */
static enum lf_decode_status gtp_u(struct lf_cur *c, struct lf_pkt *p, int depth)
{
    uint8_t flags = lf_cur_u8(c);
    uint8_t type = lf_cur_u8(c);
    lf_cur_skip(c, 6); /* length, TEID */
    if (!lf_cur_ok(c) || (flags >> 5) != 1 || type != 0xff)
        return LF_DEC_IGNORED;
    if (flags & 0x07) {
        lf_cur_skip(c, 3); /* sequence number, N-PDU number */
        uint8_t next = lf_cur_u8(c);
        for (int i = 0; next && i < 8; i++) {
            size_t len = (size_t)lf_cur_u8(c) * 4;
            if (len == 0)
                return LF_DEC_MALFORMED;
            lf_cur_skip(c, len - 2);
            next = lf_cur_u8(c);
        }
        if (next)
            return LF_DEC_MALFORMED;
    }
    if (!lf_cur_ok(c))
        return LF_DEC_MALFORMED;
    return ip_by_version(c, p, depth);
}

/* VXLAN (RFC 7348): 8 bytes, then an Ethernet frame. */
static enum lf_decode_status vxlan(struct lf_cur *c, struct lf_pkt *p, int depth)
{
    uint8_t flags = lf_cur_u8(c);
    lf_cur_skip(c, 7);
    if (!lf_cur_ok(c) || !(flags & 0x08))
        return LF_DEC_IGNORED;
    return ethernet(c, p, depth);
}

/* A UDP tunnel on its well-known port: the inner packet when it decodes, else the UDP packet itself. */
static void udp_tunnel(struct lf_pkt *p, int depth)
{
    int gtp = p->src.port == 2152 || p->dst.port == 2152;
    int vx = p->dst.port == 4789;
    if ((!gtp && !vx) || depth + 1 >= MAX_DEPTH)
        return;
    struct lf_pkt outer = *p;
    struct lf_cur inner = lf_cur_make(p->payload, p->paylen);
    p->frag = LF_FRAG_NONE;
    enum lf_decode_status r = gtp ? gtp_u(&inner, p, depth + 1) : vxlan(&inner, p, depth + 1);
    if (r != LF_DEC_OK || (p->proto != 6 && p->proto != 17))
        *p = outer;
    else if (outer.frag > p->frag)
        p->frag = outer.frag;
}

static enum lf_decode_status transport(struct lf_cur *c, size_t wire_left, struct lf_pkt *p, int depth)
{
    if (p->proto == 4 || p->proto == 41 || p->proto == 47) {
        struct lf_cur inner = lf_cur_sub(c, lf_cur_left(c) < wire_left ? lf_cur_left(c) : wire_left);
        return tunnel(&inner, p, depth);
    }
    if (p->proto == 6) {
        p->src.port = lf_cur_u16(c);
        p->dst.port = lf_cur_u16(c);
        p->seq = lf_cur_u32(c);
        p->ack = lf_cur_u32(c);
        uint8_t off = lf_cur_u8(c);
        p->tcp_flags = lf_cur_u8(c);
        lf_cur_skip(c, 6); /* window, checksum, urgent pointer */
        size_t hl = (size_t)(off >> 4) * 4;
        if (!lf_cur_ok(c) || hl < 20)
            return LF_DEC_MALFORMED;
        lf_cur_skip(c, hl - 20); /* options */
        if (!lf_cur_ok(c) || wire_left < hl)
            return LF_DEC_MALFORMED;
        wire_left -= hl;
    } else if (p->proto == 17) {
        p->src.port = lf_cur_u16(c);
        p->dst.port = lf_cur_u16(c);
        uint16_t ulen = lf_cur_u16(c);
        lf_cur_skip(c, 2); /* checksum */
        if (!lf_cur_ok(c) || wire_left < 8)
            return LF_DEC_MALFORMED;
        wire_left -= 8;
        if (ulen >= 8 && (size_t)ulen - 8 < wire_left)
            wire_left = (size_t)ulen - 8;
    } else {
        return LF_DEC_OK;
    }
    size_t cap = lf_cur_left(c);
    p->paylen = cap < wire_left ? cap : wire_left;
    p->paywire = wire_left;
    p->payload = lf_cur_ptr(c);
    if (p->proto == 17)
        udp_tunnel(p, depth);
    return LF_DEC_OK;
}

static enum lf_decode_status ipv4(struct lf_cur *c, struct lf_pkt *p, int depth)
{
    size_t start_left = lf_cur_left(c);
    uint8_t vihl = lf_cur_u8(c);
    lf_cur_skip(c, 1);
    uint16_t total = lf_cur_u16(c);
    lf_cur_skip(c, 2);
    uint16_t fragw = lf_cur_u16(c);
    lf_cur_skip(c, 1);
    p->proto = lf_cur_u8(c);
    lf_cur_skip(c, 2);
    p->src.family = p->dst.family = 4;
    memset(p->src.ip, 0, sizeof p->src.ip);
    memset(p->dst.ip, 0, sizeof p->dst.ip);
    lf_cur_copy(c, p->src.ip, 4);
    lf_cur_copy(c, p->dst.ip, 4);
    size_t ihl = (size_t)(vihl & 0x0f) * 4;
    if (!lf_cur_ok(c) || (vihl >> 4) != 4 || ihl < 20)
        return LF_DEC_MALFORMED;
    lf_cur_skip(c, ihl - 20); /* options */
    if (!lf_cur_ok(c))
        return LF_DEC_MALFORMED;
    /* total 0 happens with segmentation offload on the capturing host: trust the capture */
    size_t wire = total ? total : start_left;
    if (wire < ihl)
        return LF_DEC_MALFORMED;
    uint16_t fragoff = fragw & 0x1fff;
    if (fragoff)
        p->frag = LF_FRAG_LATER;
    else if (fragw & 0x2000)
        p->frag = LF_FRAG_FIRST;
    if (p->frag == LF_FRAG_LATER)
        return LF_DEC_OK;
    return transport(c, wire - ihl, p, depth);
}

static enum lf_decode_status ipv6(struct lf_cur *c, struct lf_pkt *p, int depth)
{
    size_t start_left = lf_cur_left(c);
    uint8_t v = lf_cur_u8(c);
    lf_cur_skip(c, 3);
    uint16_t plen = lf_cur_u16(c);
    uint8_t nh = lf_cur_u8(c);
    lf_cur_skip(c, 1);
    p->src.family = p->dst.family = 6;
    lf_cur_copy(c, p->src.ip, 16);
    lf_cur_copy(c, p->dst.ip, 16);
    if (!lf_cur_ok(c) || (v >> 4) != 6)
        return LF_DEC_MALFORMED;
    size_t wire = plen ? plen : start_left - 40; /* 0: jumbogram or offload, trust the capture */
    for (int i = 0; i < MAX_V6_EXT; i++) {
        size_t before = lf_cur_left(c);
        if (nh == 0 || nh == 43 || nh == 60) { /* hop-by-hop, routing, destination options */
            uint8_t next = lf_cur_u8(c);
            size_t hl = ((size_t)lf_cur_u8(c) + 1) * 8;
            lf_cur_skip(c, hl - 2);
            nh = next;
        } else if (nh == 44) { /* fragment */
            uint8_t next = lf_cur_u8(c);
            lf_cur_skip(c, 1);
            uint16_t offm = lf_cur_u16(c);
            lf_cur_skip(c, 4);
            nh = next;
            if (offm & 0xfff8)
                p->frag = LF_FRAG_LATER;
            else if (offm & 1)
                p->frag = LF_FRAG_FIRST;
        } else if (nh == 51) { /* authentication header */
            uint8_t next = lf_cur_u8(c);
            size_t hl = ((size_t)lf_cur_u8(c) + 2) * 4;
            lf_cur_skip(c, hl - 2);
            nh = next;
        } else {
            break;
        }
        size_t used = before - lf_cur_left(c);
        if (!lf_cur_ok(c) || wire < used)
            return LF_DEC_MALFORMED;
        wire -= used;
        if (p->frag == LF_FRAG_LATER) {
            p->proto = nh;
            return LF_DEC_OK;
        }
    }
    p->proto = nh;
    return transport(c, wire, p, depth);
}

/* By the IP version nibble: raw IP, and what follows an MPLS label stack. */
static enum lf_decode_status ip_by_version(struct lf_cur *c, struct lf_pkt *p, int depth)
{
    if (!lf_cur_need(c, 1))
        return LF_DEC_MALFORMED;
    uint8_t v = lf_cur_ptr(c)[0] >> 4;
    if (v == 4)
        return ipv4(c, p, depth);
    if (v == 6)
        return ipv6(c, p, depth);
    return LF_DEC_MALFORMED;
}

static enum lf_decode_status ppp_proto(struct lf_cur *c, uint16_t proto, struct lf_pkt *p, int depth)
{
    if (proto == PPP_IPV4)
        return ipv4(c, p, depth);
    if (proto == PPP_IPV6)
        return ipv6(c, p, depth);
    return LF_DEC_IGNORED;
}

static enum lf_decode_status ethertype(struct lf_cur *c, uint16_t type, struct lf_pkt *p, int depth)
{
    for (int i = 0; i < MAX_VLAN_TAGS; i++) {
        if (type != ETH_VLAN && type != ETH_QINQ && type != ETH_QINQ_OLD && type != ETH_QINQ_OLD2)
            break;
        uint16_t tci = lf_cur_u16(c);
        type = lf_cur_u16(c);
        if (!lf_cur_ok(c))
            return LF_DEC_MALFORMED;
        if (!p->vlan)
            p->vlan = tci & 0x0fff;
    }
    switch (type) {
    case ETH_IPV4:
        return ipv4(c, p, depth);
    case ETH_IPV6:
        return ipv6(c, p, depth);
    case ETH_MPLS:
    case ETH_MPLS_MC:
        for (int i = 0; i < MAX_MPLS_LABELS; i++) {
            uint32_t label = lf_cur_u32(c);
            if (!lf_cur_ok(c))
                return LF_DEC_MALFORMED;
            if (label & 0x100) /* bottom of the stack */
                return ip_by_version(c, p, depth);
        }
        return LF_DEC_IGNORED;
    case ETH_PPPOE: {
        lf_cur_skip(c, 6); /* version and type, code, session, length */
        uint16_t proto = lf_cur_u16(c);
        if (!lf_cur_ok(c))
            return LF_DEC_MALFORMED;
        return ppp_proto(c, proto, p, depth);
    }
    }
    return LF_DEC_IGNORED;
}

static enum lf_decode_status ethernet(struct lf_cur *c, struct lf_pkt *p, int depth)
{
    lf_cur_skip(c, 12);
    uint16_t type = lf_cur_u16(c);
    if (!lf_cur_ok(c))
        return LF_DEC_MALFORMED;
    return ethertype(c, type, p, depth);
}

/* Cisco HDLC: address, control, then an Ethernet type. */
static enum lf_decode_status chdlc(struct lf_cur *c, struct lf_pkt *p)
{
    lf_cur_skip(c, 2);
    uint16_t type = lf_cur_u16(c);
    if (!lf_cur_ok(c))
        return LF_DEC_MALFORMED;
    return ethertype(c, type, p, 0);
}

/* PPP (RFC 1661, 1662): optional 0xff 0x03 address and control, then a 1- or 2-byte protocol.
 * Cisco HDLC frames (address 0x0f or 0x8f) turn up under the PPP link types too. */
static enum lf_decode_status ppp(struct lf_cur *c, struct lf_pkt *p)
{
    if (!lf_cur_need(c, 2)) /* shorter than any protocol field with a payload */
        return LF_DEC_MALFORMED;
    struct lf_cur peek = *c;
    uint8_t addr = lf_cur_u8(&peek);
    if (addr == 0x0f || addr == 0x8f)
        return chdlc(c, p);
    if (addr == 0xff && lf_cur_u8(&peek) == 0x03)
        lf_cur_skip(c, 2);
    uint16_t proto = lf_cur_u8(c);
    if (!(proto & 1))
        proto = (uint16_t)(proto << 8 | lf_cur_u8(c));
    if (!lf_cur_ok(c))
        return LF_DEC_MALFORMED;
    return ppp_proto(c, proto, p, 0);
}

/* BSD AF_ values: AF_INET is 2 everywhere, AF_INET6 differs by system. */
static enum lf_decode_status null_loop(struct lf_cur *c, struct lf_pkt *p)
{
    struct lf_cur peek = *c;
    uint32_t le = lf_cur_u32le(&peek);
    uint32_t be = lf_cur_u32(c);
    if (!lf_cur_ok(c))
        return LF_DEC_MALFORMED;
    uint32_t fam = le <= 0xffff ? le : be;
    if (fam == 2)
        return ipv4(c, p, 0);
    if (fam == 10 || fam == 24 || fam == 28 || fam == 30)
        return ipv6(c, p, 0);
    return LF_DEC_IGNORED;
}

int lf_decode_linktype_supported(int linktype)
{
    switch (linktype) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
#endif
    case DLT_RAW:
    case LINKTYPE_RAW_FILE:
#ifdef DLT_IPV4
    case DLT_IPV4:
    case DLT_IPV6:
#endif
    case DLT_NULL:
    case DLT_LOOP:
    case DLT_PPP:
    case DLT_PPP_SERIAL:
    case DLT_C_HDLC:
        return 1;
    }
    return 0;
}

/* The frame nearly every packet is: untagged Ethernet, IPv4 without options
 * or fragmentation, TCP or UDP off the tunnel ports, headers whole. Decoded
 * in one pass, with the result the general path gives; returns 0 (p then
 * holds partial values) for anything else, which the general path decodes.
 * 10% of a run's instructions (callgrind, gencap tls 4000 40 capture). */
static int fast_eth_ipv4(struct lf_cur c, struct lf_pkt *p)
{
    struct lf_cur h = lf_cur_sub(&c, 14 + 20);
    if (!lf_cur_ok(&h))
        return 0;
    lf_cur_skip(&h, 12);
    if (lf_cur_u16(&h) != ETH_IPV4 || lf_cur_u8(&h) != 0x45)
        return 0;
    size_t start_left = lf_cur_left(&c) + 20;
    lf_cur_skip(&h, 1);
    size_t total = lf_cur_u16(&h);
    lf_cur_skip(&h, 2);
    if (lf_cur_u16(&h) & 0x3fff) /* more fragments, or an offset */
        return 0;
    lf_cur_skip(&h, 1);
    uint8_t proto = lf_cur_u8(&h);
    lf_cur_skip(&h, 2);
    p->proto = proto;
    p->src.family = p->dst.family = 4;
    lf_cur_copy(&h, p->src.ip, 4);
    lf_cur_copy(&h, p->dst.ip, 4);
    size_t wire = total ? total : start_left;
    if (wire < 20)
        return 0;
    wire -= 20;
    if (proto == 6) {
        struct lf_cur t = lf_cur_sub(&c, 20);
        if (!lf_cur_ok(&t))
            return 0;
        p->src.port = lf_cur_u16(&t);
        p->dst.port = lf_cur_u16(&t);
        p->seq = lf_cur_u32(&t);
        p->ack = lf_cur_u32(&t);
        size_t hl = (size_t)(lf_cur_u8(&t) >> 4) * 4;
        p->tcp_flags = lf_cur_u8(&t);
        if (hl < 20 || wire < hl)
            return 0;
        lf_cur_skip(&c, hl - 20); /* options */
        if (!lf_cur_ok(&c))
            return 0;
        wire -= hl;
    } else if (proto == 17) {
        struct lf_cur u = lf_cur_sub(&c, 8);
        if (!lf_cur_ok(&u) || wire < 8)
            return 0;
        p->src.port = lf_cur_u16(&u);
        p->dst.port = lf_cur_u16(&u);
        size_t ulen = lf_cur_u16(&u);
        if (p->src.port == 2152 || p->dst.port == 2152 || p->dst.port == 4789)
            return 0; /* a tunnel's outer packet */
        wire -= 8;
        if (ulen >= 8 && ulen - 8 < wire)
            wire = ulen - 8;
    } else {
        return 0;
    }
    size_t cap = lf_cur_left(&c);
    p->paylen = cap < wire ? cap : wire;
    p->paywire = wire;
    p->payload = lf_cur_ptr(&c);
    return 1;
}

enum lf_decode_status lf_decode(int linktype, const uint8_t *frame, size_t caplen, struct lf_pkt *p)
{
    memset(p, 0, sizeof *p);
    struct lf_cur c = lf_cur_make(frame, caplen);
    if (linktype == DLT_EN10MB) {
        if (fast_eth_ipv4(c, p))
            return LF_DEC_OK;
        memset(p, 0, sizeof *p);
    }
    uint16_t type;
    switch (linktype) {
    case DLT_EN10MB:
        return ethernet(&c, p, 0);
    case DLT_LINUX_SLL:
        lf_cur_skip(&c, 14);
        type = lf_cur_u16(&c);
        if (!lf_cur_ok(&c))
            return LF_DEC_MALFORMED;
        return ethertype(&c, type, p, 0);
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        type = lf_cur_u16(&c);
        lf_cur_skip(&c, 18);
        if (!lf_cur_ok(&c))
            return LF_DEC_MALFORMED;
        return ethertype(&c, type, p, 0);
#endif
    case DLT_RAW:
    case LINKTYPE_RAW_FILE:
        return ip_by_version(&c, p, 0);
#ifdef DLT_IPV4
    case DLT_IPV4:
        return ipv4(&c, p, 0);
    case DLT_IPV6:
        return ipv6(&c, p, 0);
#endif
    case DLT_NULL:
    case DLT_LOOP:
        return null_loop(&c, p);
    case DLT_PPP:
    case DLT_PPP_SERIAL:
        return ppp(&c, p);
    case DLT_C_HDLC:
        return chdlc(&c, p);
    }
    return LF_DEC_IGNORED;
}
