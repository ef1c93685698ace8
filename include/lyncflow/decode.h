/* decode.h: link, network and transport headers of one frame, into a flat packet record.
 *
 * lf_decode() reads a frame of a DLT link type through struct lf_cur and fills
 * struct lf_pkt: addresses, ports, TCP flags and sequence numbers, and where
 * the transport payload sits. It allocates nothing and keeps nothing: the
 * payload pointer points into the caller's frame and is valid as long as the
 * frame is. Supported: Ethernet (802.1Q, QinQ 0x88a8/0x9100 tags), Linux
 * cooked SLL and SLL2, raw IP (DLT_RAW, LINKTYPE_IPV4/IPV6), BSD null and
 * loopback (either byte order), PPP and Cisco HDLC; MPLS and PPPoE inside
 * Ethernet; IPv4 with options, IPv6 with hop-by-hop, routing, destination
 * options, fragment and AH headers; TCP and UDP. Tunnels are followed to the
 * innermost packet, at most 4 deep: IP in IP (4, 41), GRE, GTP-U (UDP 2152)
 * and VXLAN (UDP 4789); a UDP tunnel whose inner packet does not decode is
 * kept as the UDP packet it is.
 */
#ifndef LYNCFLOW_DECODE_H
#define LYNCFLOW_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "lyncflow/event.h"

enum lf_decode_status {
    LF_DEC_OK = 0,        /* an IP packet; transport fields valid when proto is 6 or 17 */
    LF_DEC_IGNORED,       /* not IP (ARP, STP, ...) or an unsupported link type: not an error */
    LF_DEC_MALFORMED,     /* a header is cut short or inconsistent: count it */
};

enum lf_frag { LF_FRAG_NONE = 0, LF_FRAG_FIRST, LF_FRAG_LATER };

#define LF_TCP_FIN 0x01
#define LF_TCP_SYN 0x02
#define LF_TCP_RST 0x04
#define LF_TCP_PSH 0x08
#define LF_TCP_ACK 0x10

struct lf_pkt {
    struct lf_addr src, dst; /* ports are 0 unless proto is TCP or UDP */
    uint8_t proto;           /* IP protocol of the transport header (after IPv6 extension headers) */
    uint8_t frag;            /* enum lf_frag: a first fragment carries the transport header, later ones not */
    uint8_t tcp_flags;
    uint16_t vlan;           /* outermost 802.1Q VLAN id, 0 when untagged */
    uint32_t seq, ack;
    const uint8_t *payload;  /* transport payload inside the frame (captured part) */
    size_t paylen;           /* captured payload bytes */
    size_t paywire;          /* payload bytes the headers announce (>= paylen; more when snaplen cut it) */
};

/* Decodes one frame. Returns LF_DEC_OK with *p filled (an IP protocol other
 * than TCP/UDP is LF_DEC_OK too, with proto set and no ports), LF_DEC_IGNORED
 * for frames that carry no IP packet or a link type not listed above, and
 * LF_DEC_MALFORMED when a header is short or inconsistent. */
enum lf_decode_status lf_decode(int linktype, const uint8_t *frame, size_t caplen, struct lf_pkt *p);

/* Whether lf_decode knows this DLT link type. */
int lf_decode_linktype_supported(int linktype);

#endif
