/* gencap.c: writes large synthetic captures for `make bench`.
 *
 *   gencap tls OUT.pcap CONNS MIB HANDSHAKE.hex
 *       CONNS interleaved TCP connections (200 open at a time), 90% TLS with
 *       a real handshake (from HANDSHAKE.hex) followed by application data
 *       records, 10% HTTP/1.1 keep-alive with several requests each, until
 *       there are at least CONNS connections and MIB mebibytes.
 *   gencap synflood OUT.pcap N
 *       N SYNs from N distinct sources to one server.
 * Ethernet, IPv4, TCP; checksums are left zero.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lyncflow/util.h"

static FILE *out;
static uint64_t written;
static uint32_t now_s = 1700000000, now_us;

static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }

static void file_header(void)
{
    uint32_t h[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 262144, 1};
    fwrite(h, sizeof h, 1, out);
    written += sizeof h;
}

static void tick(void)
{
    now_us += 37;
    if (now_us >= 1000000) {
        now_us -= 1000000;
        now_s++;
    }
}

/* One Ethernet/IPv4/TCP frame. */
static void frame(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                  uint8_t flags, const uint8_t *payload, size_t len)
{
    static uint8_t buf[65600];
    uint8_t *e = buf, *ip = buf + 14, *tcp = ip + 20;
    memset(buf, 0, 54);
    e[5] = 1;
    e[11] = 2;
    put16(e + 12, 0x0800);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(40 + len));
    ip[8] = 64;
    ip[9] = 6;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(tcp, sport);
    put16(tcp + 2, dport);
    put32(tcp + 4, seq);
    put32(tcp + 8, ack);
    tcp[12] = 0x50;
    tcp[13] = flags;
    put16(tcp + 14, 65535);
    if (len)
        memcpy(tcp + 20, payload, len);
    uint32_t rec[4] = {now_s, now_us, (uint32_t)(54 + len), (uint32_t)(54 + len)};
    fwrite(rec, sizeof rec, 1, out);
    fwrite(buf, 1, 54 + len, out);
    written += sizeof rec + 54 + len;
    tick();
}

struct seg {
    int s2c;
    uint8_t *data;
    size_t len;
};

static struct seg hs[16];
static int nhs;

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int load_handshake(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    static char line[65536];
    while (fgets(line, sizeof line, f) && nhs < 16) {
        if (line[0] == '#')
            continue;
        int s2c = strncmp(line, "s2c ", 4) == 0;
        if (!s2c && strncmp(line, "c2s ", 4) != 0)
            continue;
        struct seg *s = &hs[nhs++];
        s->s2c = s2c;
        s->data = lf_xmalloc(strlen(line) / 2);
        s->len = 0;
        for (char *p = line + 4; hexval(p[0]) >= 0 && hexval(p[1]) >= 0; p += 2)
            s->data[s->len++] = (uint8_t)(hexval(p[0]) << 4 | hexval(p[1]));
    }
    fclose(f);
    return nhs ? 0 : -1;
}

struct conn {
    uint32_t cli, srv;
    uint16_t cport, sport;
    uint32_t cseq, sseq;
    int http;
    int step; /* progress through the connection's script */
};

static uint8_t appdata[1400], req[512], resp_hdr[128];
static size_t req_len, resp_hdr_len;

static void send_c2s(struct conn *c, const uint8_t *p, size_t n)
{
    frame(c->cli, c->srv, c->cport, c->sport, c->cseq, c->sseq, 0x18, p, n);
    c->cseq += (uint32_t)n;
}

static void send_s2c(struct conn *c, const uint8_t *p, size_t n)
{
    frame(c->srv, c->cli, c->sport, c->cport, c->sseq, c->cseq, 0x18, p, n);
    c->sseq += (uint32_t)n;
}

static void open_conn(struct conn *c, uint32_t id)
{
    c->cli = 0x0a000000u | (id & 0xffffff);
    c->srv = 0xc0a80100u | (id % 7);
    c->cport = (uint16_t)(1024 + (id * 7919) % 60000);
    c->sport = c->http ? 80 : 443;
    c->cseq = id * 2654435761u;
    c->sseq = id * 40503u;
    c->step = 0;
    frame(c->cli, c->srv, c->cport, c->sport, c->cseq++, 0, 0x02, NULL, 0);
    frame(c->srv, c->cli, c->sport, c->cport, c->sseq++, c->cseq, 0x12, NULL, 0);
    frame(c->cli, c->srv, c->cport, c->sport, c->cseq, c->sseq, 0x10, NULL, 0);
}

/* Advances a connection by one exchange; returns 0 when it closed. */
static int step_conn(struct conn *c)
{
    int s = c->step++;
    if (!c->http) {
        if (s < nhs) {
            if (hs[s].s2c)
                send_s2c(c, hs[s].data, hs[s].len);
            else
                send_c2s(c, hs[s].data, hs[s].len);
            return 1;
        }
        if (s < nhs + 10) {
            if ((s - nhs) % 5 == 0)
                send_c2s(c, appdata, 300);
            else
                send_s2c(c, appdata, sizeof appdata);
            return 1;
        }
    } else if (s < 5 * 7) {
        if (s % 7 == 0) {
            send_c2s(c, req, req_len);
        } else if (s % 7 == 1) {
            send_s2c(c, resp_hdr, resp_hdr_len);
        } else {
            send_s2c(c, appdata, 1400);
        }
        return 1;
    }
    frame(c->cli, c->srv, c->cport, c->sport, c->cseq++, c->sseq, 0x11, NULL, 0);
    frame(c->srv, c->cli, c->sport, c->cport, c->sseq++, c->cseq, 0x11, NULL, 0);
    frame(c->cli, c->srv, c->cport, c->sport, c->cseq, c->sseq, 0x10, NULL, 0);
    return 0;
}

static int gen_tls(const char *path, unsigned long conns, unsigned long mib, const char *hex)
{
    if (load_handshake(hex) != 0)
        return 1;
    out = fopen(path, "wb");
    if (!out) {
        perror(path);
        return 1;
    }
    file_header();
    /* application data: TLS records of type 23 with pseudo-random bytes */
    appdata[0] = 23;
    appdata[1] = 3;
    appdata[2] = 3;
    put16(appdata + 3, sizeof appdata - 5);
    uint32_t x = 12345;
    for (size_t i = 5; i < sizeof appdata; i++) {
        x = x * 1103515245u + 12345u;
        appdata[i] = (uint8_t)(x >> 16);
    }
    req_len = (size_t)snprintf((char *)req, sizeof req,
                               "GET /abs/handler/C-0e8e-0e97.lsabs HTTP/1.1\r\nHost: feweb.contoso.com\r\n"
                               "User-Agent: OC/4.0.7577.108 (Microsoft Lync 2010)\r\nAccept: */*\r\n\r\n");
    resp_hdr_len = (size_t)snprintf((char *)resp_hdr, sizeof resp_hdr,
                                    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                                    "Content-Length: 7000\r\n\r\n");
    enum { OPEN = 200 };
    struct conn live[OPEN];
    unsigned long next = 0;
    uint64_t target = (uint64_t)mib << 20;
    for (int i = 0; i < OPEN; i++) {
        live[i].http = next % 10 == 9;
        open_conn(&live[i], (uint32_t)next++);
    }
    while (written < target || next < conns) {
        for (int i = 0; i < OPEN; i++)
            if (!step_conn(&live[i])) {
                live[i].http = next % 10 == 9;
                open_conn(&live[i], (uint32_t)next++);
            }
    }
    for (int i = 0; i < OPEN; i++)
        while (step_conn(&live[i]))
            ;
    fclose(out);
    fprintf(stderr, "gencap: %s: %lu connections, %llu bytes\n", path, next, (unsigned long long)written);
    return 0;
}

static int gen_synflood(const char *path, unsigned long n)
{
    out = fopen(path, "wb");
    if (!out) {
        perror(path);
        return 1;
    }
    file_header();
    for (unsigned long i = 0; i < n; i++)
        frame(0x0b000000u | (uint32_t)i, 0xc0a80101u, (uint16_t)(1024 + i % 60000), 443, (uint32_t)i, 0, 0x02,
              NULL, 0);
    fclose(out);
    fprintf(stderr, "gencap: %s: %lu SYNs, %llu bytes\n", path, n, (unsigned long long)written);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long long a, b;
    if (argc == 6 && strcmp(argv[1], "tls") == 0 && lf_parse_u64(argv[3], &a) == 0 && lf_parse_u64(argv[4], &b) == 0)
        return gen_tls(argv[2], (unsigned long)a, (unsigned long)b, argv[5]);
    if (argc == 4 && strcmp(argv[1], "synflood") == 0 && lf_parse_u64(argv[3], &a) == 0)
        return gen_synflood(argv[2], (unsigned long)a);
    fprintf(stderr, "usage: gencap tls OUT CONNS MIB HANDSHAKE.hex | gencap synflood OUT N\n");
    return 2;
}
