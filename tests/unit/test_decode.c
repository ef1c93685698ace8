/* test_decode.c: every supported link type, VLAN stacks, IPv4 options, IPv6 extension headers, truncation at every length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "lyncflow/decode.h"

struct buf {
    uint8_t b[512];
    size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof b->b);
    memcpy(b->b + b->n, p, n);
    b->n += n;
}
static void put8(struct buf *b, uint8_t v) { put(b, &v, 1); }
static void put16(struct buf *b, uint16_t v)
{
    put8(b, (uint8_t)(v >> 8));
    put8(b, (uint8_t)v);
}
static void put32(struct buf *b, uint32_t v)
{
    put16(b, (uint16_t)(v >> 16));
    put16(b, (uint16_t)v);
}
static void put32le(struct buf *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        put8(b, (uint8_t)(v >> (8 * i)));
}

static const char PAYLOAD[] = "hello";
#define PL (sizeof PAYLOAD - 1)

static void tcp(struct buf *b)
{
    put16(b, 51000);
    put16(b, 443);
    put32(b, 0x11223344);
    put32(b, 0x55667788);
    put8(b, 0x60); /* 24 bytes: one option word */
    put8(b, 0x18);
    put16(b, 1000);
    put32(b, 0);
    put32(b, 0x01010101); /* NOP options */
    put(b, PAYLOAD, PL);
}

/* IPv4 with `optwords` words of options, carrying TCP. */
static void ipv4(struct buf *b, int optwords)
{
    size_t ihl = 20 + 4 * (size_t)optwords;
    put8(b, (uint8_t)(0x40 | (ihl / 4)));
    put8(b, 0);
    put16(b, (uint16_t)(ihl + 24 + PL));
    put32(b, 0);
    put8(b, 64);
    put8(b, 6);
    put16(b, 0);
    put32(b, 0xc0000201); /* 192.0.2.1 */
    put32(b, 0xc6336402); /* 198.51.100.2 */
    for (int i = 0; i < optwords; i++)
        put32(b, 0x01010101);
    tcp(b);
}

/* IPv6 with hop-by-hop, routing, destination options and a first-fragment header. */
static void ipv6_ext(struct buf *b, int frag_offset)
{
    size_t ext = 8 + 24 + 8 + 8;
    put32(b, 0x60000000);
    put16(b, (uint16_t)(ext + 24 + PL));
    put8(b, 0); /* hop-by-hop */
    put8(b, 64);
    uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, dst[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
    put(b, src, 16);
    put(b, dst, 16);
    put8(b, 43); /* hop-by-hop: next routing, 8 bytes */
    put8(b, 0);
    put16(b, 0x0104);
    put32(b, 0);
    put8(b, 60); /* routing: next dest opts, 24 bytes */
    put8(b, 2);
    put8(b, 0);
    put8(b, 0);
    put32(b, 0);
    put(b, src, 16);
    put8(b, 44); /* destination options: next fragment, 8 bytes */
    put8(b, 0);
    put16(b, 0x0104);
    put32(b, 0);
    put8(b, 6); /* fragment: next TCP */
    put8(b, 0);
    put16(b, (uint16_t)((frag_offset << 3) | 1)); /* more fragments */
    put32(b, 0xabcd);
    tcp(b);
}

static void check_tcp4(const struct lf_pkt *p)
{
    assert_int_equal(p->src.family, 4);
    assert_memory_equal(p->src.ip, "\xc0\x00\x02\x01", 4);
    assert_memory_equal(p->dst.ip, "\xc6\x33\x64\x02", 4);
    assert_int_equal(p->proto, 6);
    assert_int_equal(p->src.port, 51000);
    assert_int_equal(p->dst.port, 443);
    assert_int_equal(p->seq, 0x11223344);
    assert_int_equal(p->ack, 0x55667788);
    assert_int_equal(p->tcp_flags, 0x18);
    assert_int_equal(p->paylen, PL);
    assert_int_equal(p->paywire, PL);
    assert_memory_equal(p->payload, PAYLOAD, PL);
}

/* Every prefix of the frame shorter than its headers is malformed; longer ones decode with a short payload. */
static void check_truncations(int linktype, const struct buf *b)
{
    size_t hdr = b->n - PL;
    for (size_t n = 0; n < b->n; n++) {
        struct lf_pkt p;
        uint8_t *copy = malloc(n ? n : 1); /* its own allocation: overreads are caught by the sanitizers */
        memcpy(copy, b->b, n);
        enum lf_decode_status r = lf_decode(linktype, copy, n, &p);
        if (n < hdr) {
            if (r != LF_DEC_MALFORMED)
                fail_msg("linktype %d, %zu of %zu bytes: status %d, want malformed", linktype, n, b->n, r);
        } else {
            assert_int_equal(r, LF_DEC_OK);
            assert_int_equal(p.paylen, n - hdr);
            assert_int_equal(p.paywire, PL);
        }
        free(copy);
    }
}

static void test_ethernet_vlan(void **state)
{
    (void)state;
    struct buf b = {.n = 0};
    put(&b, "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb", 12);
    put16(&b, 0x8100);
    put16(&b, 0x2064); /* priority 1, VLAN 100 */
    put16(&b, 0x0800);
    ipv4(&b, 0);
    struct lf_pkt p;
    assert_int_equal(lf_decode(DLT_EN10MB, b.b, b.n, &p), LF_DEC_OK);
    check_tcp4(&p);
    assert_int_equal(p.vlan, 100);
    check_truncations(DLT_EN10MB, &b);
}

static void test_ethernet_qinq(void **state)
{
    (void)state;
    static const uint16_t outer[] = {0x88a8, 0x9100};
    for (size_t i = 0; i < 2; i++) {
        struct buf b = {.n = 0};
        put(&b, "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb", 12);
        put16(&b, outer[i]);
        put16(&b, 0x0123); /* service VLAN 291 */
        put16(&b, 0x8100);
        put16(&b, 0x0007); /* customer VLAN 7 */
        put16(&b, 0x0800);
        ipv4(&b, 0);
        struct lf_pkt p;
        assert_int_equal(lf_decode(DLT_EN10MB, b.b, b.n, &p), LF_DEC_OK);
        check_tcp4(&p);
        assert_int_equal(p.vlan, 291);
        check_truncations(DLT_EN10MB, &b);
    }
}

static void test_ethernet_not_ip(void **state)
{
    (void)state;
    struct buf b = {.n = 0};
    put(&b, "\xff\xff\xff\xff\xff\xff\x66\x77\x88\x99\xaa\xbb", 12);
    put16(&b, 0x0806); /* ARP */
    put(&b, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
    struct lf_pkt p;
    assert_int_equal(lf_decode(DLT_EN10MB, b.b, b.n, &p), LF_DEC_IGNORED);
    assert_int_equal(lf_decode(147 /* DLT_USER0 */, b.b, b.n, &p), LF_DEC_IGNORED);
    assert_false(lf_decode_linktype_supported(147));
}

static void test_sll(void **state)
{
    (void)state;
    struct buf b = {.n = 0};
    put16(&b, 0);     /* to us */
    put16(&b, 1);     /* ARPHRD_ETHER */
    put16(&b, 6);
    put(&b, "\x00\x11\x22\x33\x44\x55\x00\x00", 8);
    put16(&b, 0x0800);
    ipv4(&b, 0);
    struct lf_pkt p;
    assert_int_equal(lf_decode(DLT_LINUX_SLL, b.b, b.n, &p), LF_DEC_OK);
    check_tcp4(&p);
    check_truncations(DLT_LINUX_SLL, &b);
}

static void test_sll2(void **state)
{
    (void)state;
    struct buf b = {.n = 0};
    put16(&b, 0x0800);
    put16(&b, 0);
    put32(&b, 3);     /* ifindex */
    put16(&b, 1);
    put8(&b, 4);      /* outgoing */
    put8(&b, 6);
    put(&b, "\x00\x11\x22\x33\x44\x55\x00\x00", 8);
    ipv4(&b, 0);
    struct lf_pkt p;
    assert_int_equal(lf_decode(DLT_LINUX_SLL2, b.b, b.n, &p), LF_DEC_OK);
    check_tcp4(&p);
    check_truncations(DLT_LINUX_SLL2, &b);
}

static void test_raw(void **state)
{
    (void)state;
    struct buf b = {.n = 0};
    ipv4(&b, 3); /* with 12 bytes of options */
    struct lf_pkt p;
    assert_int_equal(lf_decode(DLT_RAW, b.b, b.n, &p), LF_DEC_OK);
    check_tcp4(&p);
    assert_int_equal(lf_decode(DLT_IPV4, b.b, b.n, &p), LF_DEC_OK);
    check_tcp4(&p);
    check_truncations(DLT_RAW, &b);
    check_truncations(DLT_IPV4, &b);
    struct buf b6 = {.n = 0};
    ipv6_ext(&b6, 0);
    assert_int_equal(lf_decode(DLT_RAW, b6.b, b6.n, &p), LF_DEC_OK);
    assert_int_equal(p.src.family, 6);
    assert_int_equal(lf_decode(DLT_IPV6, b6.b, b6.n, &p), LF_DEC_OK);
    assert_int_equal(p.dst.port, 443);
    /* a version nibble that is neither 4 nor 6 */
    b.b[0] = 0x55;
    assert_int_equal(lf_decode(DLT_RAW, b.b, b.n, &p), LF_DEC_MALFORMED);
}

static void test_null_loop(void **state)
{
    (void)state;
    /* DLT_NULL: AF in the capturing host's order (either); DLT_LOOP: network order */
    static const uint32_t v6fams[] = {24, 28, 30};
    for (int order = 0; order < 2; order++) {
        struct buf b = {.n = 0};
        if (order)
            put32(&b, 2);
        else
            put32le(&b, 2);
        ipv4(&b, 0);
        struct lf_pkt p;
        assert_int_equal(lf_decode(DLT_NULL, b.b, b.n, &p), LF_DEC_OK);
        check_tcp4(&p);
        check_truncations(DLT_NULL, &b);
        for (size_t i = 0; i < 3; i++) {
            struct buf b6 = {.n = 0};
            if (order)
                put32(&b6, v6fams[i]);
            else
                put32le(&b6, v6fams[i]);
            ipv6_ext(&b6, 0);
            assert_int_equal(lf_decode(DLT_NULL, b6.b, b6.n, &p), LF_DEC_OK);
            assert_int_equal(p.src.family, 6);
            assert_int_equal(p.src.port, 51000);
        }
    }
    struct buf l = {.n = 0};
    put32(&l, 2);
    ipv4(&l, 0);
    struct lf_pkt p;
    assert_int_equal(lf_decode(DLT_LOOP, l.b, l.n, &p), LF_DEC_OK);
    check_tcp4(&p);
    check_truncations(DLT_LOOP, &l);
}

static void test_ipv6_ext_headers(void **state)
{
    (void)state;
    struct buf b = {.n = 0};
    put(&b, "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb", 12);
    put16(&b, 0x86dd);
    ipv6_ext(&b, 0);
    struct lf_pkt p;
    assert_int_equal(lf_decode(DLT_EN10MB, b.b, b.n, &p), LF_DEC_OK);
    assert_int_equal(p.src.family, 6);
    assert_int_equal(p.src.ip[15], 1);
    assert_int_equal(p.dst.ip[15], 2);
    assert_int_equal(p.proto, 6);
    assert_int_equal(p.frag, LF_FRAG_FIRST);
    assert_int_equal(p.src.port, 51000);
    assert_int_equal(p.seq, 0x11223344);
    assert_int_equal(p.paylen, PL);
    assert_memory_equal(p.payload, PAYLOAD, PL);
    check_truncations(DLT_EN10MB, &b);
    /* a later fragment: no transport header is read */
    struct buf l = {.n = 0};
    ipv6_ext(&l, 100);
    assert_int_equal(lf_decode(DLT_RAW, l.b, l.n, &p), LF_DEC_OK);
    assert_int_equal(p.frag, LF_FRAG_LATER);
    assert_int_equal(p.src.port, 0);
    assert_int_equal(p.paylen, 0);
}

static void test_ipv4_fragments(void **state)
{
    (void)state;
    struct buf b = {.n = 0};
    ipv4(&b, 0);
    b.b[6] = 0x20; /* more fragments, offset 0 */
    struct lf_pkt p;
    assert_int_equal(lf_decode(DLT_RAW, b.b, b.n, &p), LF_DEC_OK);
    assert_int_equal(p.frag, LF_FRAG_FIRST);
    assert_int_equal(p.dst.port, 443);
    b.b[6] = 0x00;
    b.b[7] = 0x10; /* offset 128 */
    assert_int_equal(lf_decode(DLT_RAW, b.b, b.n, &p), LF_DEC_OK);
    assert_int_equal(p.frag, LF_FRAG_LATER);
    assert_int_equal(p.dst.port, 0);
}

static void test_inconsistent_lengths(void **state)
{
    (void)state;
    struct lf_pkt p;
    struct buf b = {.n = 0};
    ipv4(&b, 0);
    b.b[0] = 0x44; /* IHL 16 bytes */
    assert_int_equal(lf_decode(DLT_RAW, b.b, b.n, &p), LF_DEC_MALFORMED);
    b.b[0] = 0x45;
    b.b[2] = 0;
    b.b[3] = 30; /* total length shorter than IP + TCP headers */
    assert_int_equal(lf_decode(DLT_RAW, b.b, b.n, &p), LF_DEC_MALFORMED);
    b.b[3] = 44 + 2; /* two payload bytes on the wire, more captured (Ethernet padding) */
    assert_int_equal(lf_decode(DLT_RAW, b.b, b.n, &p), LF_DEC_OK);
    assert_int_equal(p.paylen, 2);
    assert_int_equal(p.paywire, 2);
    b.b[3] = 44 + PL;
    b.b[32] = 0x40; /* TCP data offset 16 */
    assert_int_equal(lf_decode(DLT_RAW, b.b, b.n, &p), LF_DEC_MALFORMED);
    b.b[32] = 0xf0; /* 60 bytes of TCP header, beyond the packet */
    assert_int_equal(lf_decode(DLT_RAW, b.b, b.n, &p), LF_DEC_MALFORMED);
}

static void test_udp(void **state)
{
    (void)state;
    struct buf b = {.n = 0};
    put8(&b, 0x45);
    put8(&b, 0);
    put16(&b, 20 + 8 + 4);
    put32(&b, 0);
    put8(&b, 64);
    put8(&b, 17);
    put16(&b, 0);
    put32(&b, 0x0a000001);
    put32(&b, 0x0a000002);
    put16(&b, 5353);
    put16(&b, 53);
    put16(&b, 8 + 4);
    put16(&b, 0);
    put(&b, "abcd", 4);
    struct lf_pkt p;
    assert_int_equal(lf_decode(DLT_RAW, b.b, b.n, &p), LF_DEC_OK);
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.src.port, 5353);
    assert_int_equal(p.dst.port, 53);
    assert_int_equal(p.paylen, 4);
    assert_memory_equal(p.payload, "abcd", 4);
    for (size_t n = 0; n < 28; n++)
        assert_int_equal(lf_decode(DLT_RAW, b.b, n, &p), LF_DEC_MALFORMED);
}

/* Outer IPv4 header (20 bytes) announcing `inner` bytes of protocol proto. */
static void outer4(struct buf *b, uint8_t proto, size_t inner)
{
    put8(b, 0x45);
    put8(b, 0);
    put16(b, (uint16_t)(20 + inner));
    put32(b, 0);
    put8(b, 64);
    put8(b, proto);
    put16(b, 0);
    put32(b, 0x0a000001);
    put32(b, 0x0a000002);
}

static void outer_udp(struct buf *b, uint16_t dport, size_t inner)
{
    outer4(b, 17, 8 + inner);
    put16(b, 40000);
    put16(b, dport);
    put16(b, (uint16_t)(8 + inner));
    put16(b, 0);
}

static void test_tunnels(void **state)
{
    (void)state;
    struct buf in = {.n = 0};
    ipv4(&in, 0);
    struct lf_pkt p;
    /* IPv4 in IPv4 */
    struct buf b = {.n = 0};
    outer4(&b, 4, in.n);
    put(&b, in.b, in.n);
    assert_int_equal(lf_decode(DLT_RAW, b.b, b.n, &p), LF_DEC_OK);
    check_tcp4(&p);
    /* GRE with a key */
    b.n = 0;
    outer4(&b, 47, 8 + in.n);
    put16(&b, 0x2000);
    put16(&b, 0x0800);
    put32(&b, 42);
    put(&b, in.b, in.n);
    assert_int_equal(lf_decode(DLT_RAW, b.b, b.n, &p), LF_DEC_OK);
    check_tcp4(&p);
    check_truncations(DLT_RAW, &b);
    /* GTP-U T-PDU with a sequence number */
    b.n = 0;
    outer_udp(&b, 2152, 12 + in.n);
    put8(&b, 0x32);
    put8(&b, 0xff);
    put16(&b, (uint16_t)(4 + in.n));
    put32(&b, 0x1234);
    put32(&b, 0);
    put(&b, in.b, in.n);
    assert_int_equal(lf_decode(DLT_RAW, b.b, b.n, &p), LF_DEC_OK);
    check_tcp4(&p);
    /* a GTP port carrying something else stays the UDP packet it is */
    b.b[28] = 0x00;
    assert_int_equal(lf_decode(DLT_RAW, b.b, b.n, &p), LF_DEC_OK);
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.dst.port, 2152);
    /* VXLAN */
    b.n = 0;
    outer_udp(&b, 4789, 8 + 14 + in.n);
    put32(&b, 0x08000000);
    put32(&b, 0x00000100);
    put(&b, "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00", 14);
    put(&b, in.b, in.n);
    assert_int_equal(lf_decode(DLT_RAW, b.b, b.n, &p), LF_DEC_OK);
    check_tcp4(&p);
    /* tunnels nested beyond the limit stop at the last decoded layer */
    b.n = 0;
    for (int i = 0; i < 6; i++)
        outer4(&b, 4, in.n + 20 * (size_t)(5 - i));
    put(&b, in.b, in.n);
    assert_int_equal(lf_decode(DLT_RAW, b.b, b.n, &p), LF_DEC_OK);
    assert_int_equal(p.proto, 4);
    assert_int_equal(p.src.port, 0);
}

static void test_ppp_hdlc_mpls_pppoe(void **state)
{
    (void)state;
    struct buf in = {.n = 0};
    ipv4(&in, 0);
    struct lf_pkt p;
    struct buf b = {.n = 0};
    put(&b, "\xff\x03\x00\x21", 4); /* PPP in HDLC framing */
    put(&b, in.b, in.n);
    assert_int_equal(lf_decode(DLT_PPP, b.b, b.n, &p), LF_DEC_OK);
    check_tcp4(&p);
    check_truncations(DLT_PPP_SERIAL, &b);
    b.n = 0;
    put(&b, "\x21", 1); /* compressed protocol field */
    put(&b, in.b, in.n);
    assert_int_equal(lf_decode(DLT_PPP, b.b, b.n, &p), LF_DEC_OK);
    check_tcp4(&p);
    b.n = 0;
    put(&b, "\x0f\x00\x08\x00", 4); /* Cisco HDLC */
    put(&b, in.b, in.n);
    assert_int_equal(lf_decode(DLT_C_HDLC, b.b, b.n, &p), LF_DEC_OK);
    check_tcp4(&p);
    assert_int_equal(lf_decode(DLT_PPP, b.b, b.n, &p), LF_DEC_OK); /* Cisco HDLC under a PPP link type */
    check_tcp4(&p);
    check_truncations(DLT_C_HDLC, &b);
    b.n = 0;
    put(&b, "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x88\x47", 14);
    put32(&b, 0x00010040); /* label 16 */
    put32(&b, 0x00020140); /* label 32, bottom of stack */
    put(&b, in.b, in.n);
    assert_int_equal(lf_decode(DLT_EN10MB, b.b, b.n, &p), LF_DEC_OK);
    check_tcp4(&p);
    check_truncations(DLT_EN10MB, &b);
    b.n = 0;
    put(&b, "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x88\x64", 14);
    put(&b, "\x11\x00\x00\x01", 4);
    put16(&b, (uint16_t)(2 + in.n));
    put16(&b, 0x0021);
    put(&b, in.b, in.n);
    assert_int_equal(lf_decode(DLT_EN10MB, b.b, b.n, &p), LF_DEC_OK);
    check_tcp4(&p);
    check_truncations(DLT_EN10MB, &b);
}

/* Untagged Ethernet/IPv4/TCP and UDP frames take a one-pass path; the same
 * frame behind a VLAN tag of id 0 takes the general one and must decode the
 * same, for every byte of the headers set to values that matter and for
 * every truncation. */
static void eth4(struct buf *b, int udp, uint16_t ether)
{
    b->n = 0;
    for (int i = 0; i < 12; i++)
        put8(b, (uint8_t)(i + 1));
    if (ether)
        put16(b, ether);
    else
        put16(b, 0x0800);
    if (!udp) {
        ipv4(b, 0);
        return;
    }
    put8(b, 0x45);
    put8(b, 0);
    put16(b, (uint16_t)(20 + 8 + PL));
    put32(b, 0);
    put8(b, 64);
    put8(b, 17);
    put16(b, 0);
    put32(b, 0xc0000201);
    put32(b, 0xc6336402);
    put16(b, 5353);
    put16(b, 53);
    put16(b, (uint16_t)(8 + PL));
    put16(b, 0);
    put(b, PAYLOAD, PL);
}

static void same_as_tagged(const uint8_t *f, size_t n, const char *what, size_t at, unsigned v)
{
    uint8_t t[600];
    memcpy(t, f, n < 12 ? n : 12);
    size_t tn = n;
    if (n > 12) {
        static const uint8_t tag[4] = {0x81, 0x00, 0x00, 0x00};
        memcpy(t + 12, tag, 4);
        memcpy(t + 16, f + 12, n - 12);
        tn = n + 4;
    }
    struct lf_pkt a, b;
    enum lf_decode_status ra = lf_decode(DLT_EN10MB, f, n, &a);
    enum lf_decode_status rb = lf_decode(DLT_EN10MB, t, tn, &b);
    if (n <= 12) {
        assert_int_equal(ra, LF_DEC_MALFORMED);
        return;
    }
    if (ra != rb)
        fail_msg("%s: byte %zu = 0x%02x, length %zu: %d untagged, %d tagged", what, at, v, n, ra, rb);
    if (ra != LF_DEC_OK)
        return;
    int same = !memcmp(&a.src, &b.src, sizeof a.src) && !memcmp(&a.dst, &b.dst, sizeof a.dst) &&
               a.proto == b.proto && a.frag == b.frag && a.tcp_flags == b.tcp_flags && a.vlan == b.vlan &&
               a.seq == b.seq && a.ack == b.ack && a.paylen == b.paylen && a.paywire == b.paywire &&
               (a.payload ? a.payload - f : -1) == (b.payload ? b.payload - t - 4 : -1);
    if (!same)
        fail_msg("%s: byte %zu = 0x%02x, length %zu: the fields differ", what, at, v, n);
}

static void test_fast_path_same(void **state)
{
    (void)state;
    static const uint8_t values[] = {0x00, 0x01, 0x02, 0x05, 0x06, 0x08, 0x11, 0x14, 0x20, 0x29, 0x2f, 0x3f,
                                     0x40, 0x45, 0x46, 0x4f, 0x50, 0x60, 0x7f, 0x80, 0x86, 0xdd, 0xff};
    for (int udp = 0; udp < 2; udp++) {
        struct buf b;
        eth4(&b, udp, 0);
        const char *what = udp ? "udp" : "tcp";
        for (size_t n = 0; n <= b.n; n++)
            same_as_tagged(b.b, n, what, 0, 0);
        for (size_t i = 0; i < b.n; i++) {
            if (i == 12 || i == 13) /* the Ethernet type: the tag moves it */
                continue;
            for (size_t k = 0; k < sizeof values + 2; k++) {
                uint8_t m[600];
                memcpy(m, b.b, b.n);
                unsigned v = k < sizeof values ? values[k] : k == sizeof values ? (b.b[i] ^ 1u) : (b.b[i] ^ 0x80u);
                m[i] = (uint8_t)v;
                same_as_tagged(m, b.n, what, i, v);
                same_as_tagged(m, b.n - 1, what, i, v);
            }
        }
        /* the UDP tunnel ports go the general way on both */
        if (udp) {
            struct buf g = b;
            g.b[14 + 20] = 2152 >> 8;
            g.b[14 + 21] = 2152 & 0xff;
            same_as_tagged(g.b, g.n, what, 34, 2152);
        }
    }
    /* the one-pass result itself */
    struct buf b;
    eth4(&b, 0, 0);
    struct lf_pkt p;
    assert_int_equal(lf_decode(DLT_EN10MB, b.b, b.n, &p), LF_DEC_OK);
    check_tcp4(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ethernet_vlan),
        cmocka_unit_test(test_ethernet_qinq),
        cmocka_unit_test(test_ethernet_not_ip),
        cmocka_unit_test(test_sll),
        cmocka_unit_test(test_sll2),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_null_loop),
        cmocka_unit_test(test_ipv6_ext_headers),
        cmocka_unit_test(test_ipv4_fragments),
        cmocka_unit_test(test_inconsistent_lengths),
        cmocka_unit_test(test_udp),
        cmocka_unit_test(test_tunnels),
        cmocka_unit_test(test_ppp_hdlc_mpls_pppoe),
        cmocka_unit_test(test_fast_path_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
