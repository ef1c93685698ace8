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
#define MAX_VLAN_TAGS 8
#define MAX_V6_EXT 16

#define LINKTYPE_RAW_FILE 101 /* LINKTYPE_RAW, should a reader hand it through unmapped */

static enum lf_decode_status transport(struct lf_cur *c, size_t wire_left, struct lf_pkt *p)
{
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
        if (!lf_cur_ok(c))
            return LF_DEC_MALFORMED;
        if (wire_left < hl)
            return LF_DEC_MALFORMED;
        wire_left -= hl;
    } else if (p->proto == 17) {
        p->src.port = lf_cur_u16(c);
        p->dst.port = lf_cur_u16(c);
        uint16_t ulen = lf_cur_u16(c);
        lf_cur_skip(c, 2);
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
    return LF_DEC_OK;
}

static enum lf_decode_status ipv4(struct lf_cur *c, struct lf_pkt *p)
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
    return transport(c, wire - ihl, p);
}

static enum lf_decode_status ipv6(struct lf_cur *c, struct lf_pkt *p)
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
        size_t hl;
        size_t before = lf_cur_left(c);
        if (nh == 0 || nh == 43 || nh == 60) { /* hop-by-hop, routing, destination options */
            uint8_t next = lf_cur_u8(c);
            hl = ((size_t)lf_cur_u8(c) + 1) * 8;
            lf_cur_skip(c, hl - 2);
            nh = next;
        } else if (nh == 44) { /* fragment */
            uint8_t next = lf_cur_u8(c);
            lf_cur_skip(c, 1);
            uint16_t offm = lf_cur_u16(c);
            lf_cur_skip(c, 4);
            hl = 8;
            nh = next;
            if (offm & 0xfff8)
                p->frag = LF_FRAG_LATER;
            else if (offm & 1)
                p->frag = LF_FRAG_FIRST;
        } else if (nh == 51) { /* authentication header */
            uint8_t next = lf_cur_u8(c);
            hl = ((size_t)lf_cur_u8(c) + 2) * 4;
            lf_cur_skip(c, hl - 2);
            nh = next;
        } else {
            break;
        }
        if (!lf_cur_ok(c) || wire < before - lf_cur_left(c))
            return LF_DEC_MALFORMED;
        wire -= hl;
        if (p->frag == LF_FRAG_LATER) {
            p->proto = nh;
            return LF_DEC_OK;
        }
    }
    p->proto = nh;
    return transport(c, wire, p);
}

static enum lf_decode_status ethertype(struct lf_cur *c, uint16_t type, struct lf_pkt *p)
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
    if (type == ETH_IPV4)
        return ipv4(c, p);
    if (type == ETH_IPV6)
        return ipv6(c, p);
    return LF_DEC_IGNORED;
}

/* By the IP version nibble: raw IP link types. */
static enum lf_decode_status raw_ip(struct lf_cur *c, struct lf_pkt *p)
{
    if (!lf_cur_need(c, 1))
        return LF_DEC_MALFORMED;
    uint8_t v = lf_cur_ptr(c)[0] >> 4;
    if (v == 4)
        return ipv4(c, p);
    if (v == 6)
        return ipv6(c, p);
    return LF_DEC_MALFORMED;
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
        return ipv4(c, p);
    if (fam == 10 || fam == 24 || fam == 28 || fam == 30)
        return ipv6(c, p);
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
        return 1;
    }
    return 0;
}

enum lf_decode_status lf_decode(int linktype, const uint8_t *frame, size_t caplen, struct lf_pkt *p)
{
    memset(p, 0, sizeof *p);
    struct lf_cur c = lf_cur_make(frame, caplen);
    uint16_t type;
    switch (linktype) {
    case DLT_EN10MB:
        lf_cur_skip(&c, 12);
        type = lf_cur_u16(&c);
        if (!lf_cur_ok(&c))
            return LF_DEC_MALFORMED;
        return ethertype(&c, type, p);
    case DLT_LINUX_SLL:
        lf_cur_skip(&c, 14);
        type = lf_cur_u16(&c);
        if (!lf_cur_ok(&c))
            return LF_DEC_MALFORMED;
        return ethertype(&c, type, p);
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        type = lf_cur_u16(&c);
        lf_cur_skip(&c, 18);
        if (!lf_cur_ok(&c))
            return LF_DEC_MALFORMED;
        return ethertype(&c, type, p);
#endif
    case DLT_RAW:
    case LINKTYPE_RAW_FILE:
        return raw_ip(&c, p);
#ifdef DLT_IPV4
    case DLT_IPV4:
        return ipv4(&c, p);
    case DLT_IPV6:
        return ipv6(&c, p);
#endif
    case DLT_NULL:
    case DLT_LOOP:
        return null_loop(&c, p);
    }
    return LF_DEC_IGNORED;
}
