/* test_http.c: the HTTP/1.x dissector over hand-made streams, fed like the engine feeds it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "dis_feed.h"

extern const struct lf_dissector lf_dissector_http;

static const char get_req[] = "GET /abs/handler/file.lsabs?x=1 HTTP/1.1\r\n"
                              "Host: feweb.contoso.com\r\n"
                              "User-Agent: UCCAPI/16.0\r\n"
                              "Accept: */*\r\n"
                              "\r\n";
static const char ok_resp[] = "HTTP/1.1 200 OK\r\n"
                              "Content-Type: application/octet-stream\r\n"
                              "X-MS-Server-Fqdn: fe01.contoso.local\r\n"
                              "Content-Length: 10\r\n"
                              "\r\n"
                              "0123456789";

static void check_get(const struct lf_event *ev)
{
    const struct lf_ev_http *h = &ev->u.http;
    assert_int_equal(ev->type, LF_EV_HTTP);
    assert_string_equal(h->method, "GET");
    assert_string_equal(h->uri, "/abs/handler/file.lsabs?x=1");
    assert_string_equal(h->host, "feweb.contoso.com");
    assert_string_equal(h->user_agent, "UCCAPI/16.0");
    assert_int_equal(h->status, 200);
    assert_string_equal(h->content_type, "application/octet-stream");
    assert_string_equal(h->server_fqdn, "fe01.contoso.local");
    assert_int_equal(h->req_bytes, sizeof get_req - 1);
    assert_int_equal(h->resp_bytes, sizeof ok_resp - 1);
    assert_string_equal(h->source, "pcap");
    assert_int_equal(ev->flow_id, 7);
    assert_int_equal(ev->server.port, 80);
}

static void test_simple_pair(void **state)
{
    (void)state;
    struct tf *t = tf_new(&lf_dissector_http);
    t->fc.ts = 5000000;
    assert_int_equal(tf_str(t, LF_C2S, get_req), LF_DIS_OK);
    assert_int_equal(t->n, 0);
    t->fc.ts = 5250000;
    assert_int_equal(tf_str(t, LF_S2C, ok_resp), LF_DIS_OK);
    assert_int_equal(t->n, 1);
    check_get(&t->ev[0]);
    assert_int_equal(t->ev[0].ts, 5000000);
    assert_int_equal(t->ev[0].u.http.latency_us, 250000);
    assert_int_equal(t->ev[0].u.http.decrypted, 0);
    tf_end(t);
    assert_int_equal(t->n, 1);
    tf_free(t);
}

/* Every split point of the request and of the response gives the same event;
 * the first segment's time is the event's time. */
static void test_split_everywhere(void **state)
{
    (void)state;
    size_t rl = strlen(get_req), sl = strlen(ok_resp);
    for (size_t i = 0; i <= rl; i++) {
        for (size_t j = 0; j <= sl; j += (i % 7 == 0) ? 1 : 13) {
            struct tf *t = tf_new(&lf_dissector_http);
            t->fc.ts = 100;
            tf_feed(t, LF_C2S, get_req, i);
            t->fc.ts = 200;
            tf_feed(t, LF_C2S, get_req + i, rl - i);
            t->fc.ts = 300;
            tf_feed(t, LF_S2C, ok_resp, j);
            t->fc.ts = 400;
            tf_feed(t, LF_S2C, ok_resp + j, sl - j);
            assert_int_equal(t->n, 1);
            check_get(&t->ev[0]);
            assert_int_equal(t->ev[0].ts, i ? 100 : 200);
            assert_int_equal(t->ev[0].u.http.latency_us, (j ? 300 : 400) - (i ? 100 : 200));
            tf_free(t);
        }
    }
}

static void test_byte_by_byte(void **state)
{
    (void)state;
    struct tf *t = tf_new(&lf_dissector_http);
    for (size_t i = 0; get_req[i]; i++)
        assert_int_not_equal(tf_feed(t, LF_C2S, get_req + i, 1), LF_DIS_ERROR);
    for (size_t i = 0; ok_resp[i]; i++)
        assert_int_not_equal(tf_feed(t, LF_S2C, ok_resp + i, 1), LF_DIS_ERROR);
    assert_int_equal(t->n, 1);
    check_get(&t->ev[0]);
    tf_free(t);
}

static const char chunked_resp[] = "HTTP/1.1 200 OK\r\n"
                                   "Transfer-Encoding: gzip, chunked\r\n"
                                   "Content-Type: text/html\r\n"
                                   "\r\n"
                                   "5;name=value\r\nhello\r\n"
                                   "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
                                   "0\r\n"
                                   "X-Trailer: yes\r\n"
                                   "\r\n";
static const char second_resp[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop";

static void test_chunked(void **state)
{
    (void)state;
    size_t cl = strlen(chunked_resp);
    /* every split point, including inside chunk sizes, extensions and trailers */
    for (size_t i = 0; i <= cl; i++) {
        struct tf *t = tf_new(&lf_dissector_http);
        tf_str(t, LF_C2S, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_int_not_equal(tf_feed(t, LF_S2C, chunked_resp, i), LF_DIS_ERROR);
        assert_int_not_equal(tf_feed(t, LF_S2C, chunked_resp + i, cl - i), LF_DIS_ERROR);
        assert_int_equal(t->n, 1);
        assert_string_equal(t->ev[0].u.http.uri, "/a");
        assert_int_equal(t->ev[0].u.http.status, 200);
        assert_int_equal(t->ev[0].u.http.resp_bytes, cl);
        assert_string_equal(t->ev[0].u.http.content_type, "text/html");
        /* framing held: the next response pairs with the next request */
        assert_int_equal(tf_str(t, LF_S2C, second_resp), LF_DIS_OK);
        assert_int_equal(t->n, 2);
        assert_string_equal(t->ev[1].u.http.uri, "/b");
        assert_int_equal(t->ev[1].u.http.status, 404);
        assert_int_equal(t->ev[1].u.http.resp_bytes, strlen(second_resp));
        tf_free(t);
    }
}

static void test_chunked_request(void **state)
{
    (void)state;
    static const char req[] = "POST /ucwa/v1/applications HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "4\r\nwxyz\r\n0\r\n\r\n"
                              "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
    struct tf *t = tf_new(&lf_dissector_http);
    assert_int_equal(tf_str(t, LF_C2S, req), LF_DIS_OK);
    tf_str(t, LF_S2C, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
    assert_int_equal(t->n, 2);
    assert_string_equal(t->ev[0].u.http.method, "POST");
    assert_int_equal(t->ev[0].u.http.status, 201);
    assert_int_equal(t->ev[0].u.http.req_bytes, strlen(req) - strlen("GET /next HTTP/1.1\r\nHost: h\r\n\r\n"));
    assert_string_equal(t->ev[1].u.http.uri, "/next");
    assert_int_equal(t->ev[1].u.http.status, 204);
    tf_free(t);
}

static void test_bad_chunk_size(void **state)
{
    (void)state;
    struct tf *t = tf_new(&lf_dissector_http);
    tf_str(t, LF_C2S, get_req);
    assert_int_equal(tf_str(t, LF_S2C, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), LF_DIS_ERROR);
    /* leaving emits what was pending, with the status that was seen */
    assert_int_equal(t->n, 1);
    assert_int_equal(t->ev[0].u.http.status, 200);
    tf_free(t);
    t = tf_new(&lf_dissector_http);
    tf_str(t, LF_C2S, get_req);
    assert_int_equal(tf_str(t, LF_S2C, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                       "fffffffffffffffff\r\n"), LF_DIS_ERROR);
    tf_free(t);
    t = tf_new(&lf_dissector_http);
    tf_str(t, LF_C2S, get_req);
    assert_int_equal(tf_str(t, LF_S2C, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY\r\n"),
                     LF_DIS_ERROR);
    tf_free(t);
}

static void test_pipelined(void **state)
{
    (void)state;
    struct tf *t = tf_new(&lf_dissector_http);
    t->fc.ts = 10;
    tf_str(t, LF_C2S, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
                      "HEAD /2 HTTP/1.1\r\nHost: b\r\n\r\n"
                      "POST /3 HTTP/1.1\r\nHost: c\r\nContent-Length: 4\r\n\r\nbody"
                      "GET /4 HTTP/1.1\r\nHost: d\r\n\r\n");
    t->fc.ts = 20;
    tf_str(t, LF_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
                      "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"
                      "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nWWW-Authenticate: NTLM\r\n"
                      "Content-Length: 0\r\n\r\n");
    assert_int_equal(t->n, 3);
    const char *uris[] = {"/1", "/2", "/3"};
    const char *hosts[] = {"a", "b", "c"};
    const int status[] = {200, 200, 401};
    for (int i = 0; i < 3; i++) {
        assert_string_equal(t->ev[i].u.http.uri, uris[i]);
        assert_string_equal(t->ev[i].u.http.host, hosts[i]);
        assert_int_equal(t->ev[i].u.http.status, status[i]);
        assert_int_equal(t->ev[i].u.http.latency_us, 10);
    }
    assert_string_equal(t->ev[1].u.http.method, "HEAD");
    assert_int_equal(t->ev[2].u.http.req_bytes, strlen("POST /3 HTTP/1.1\r\nHost: c\r\nContent-Length: 4\r\n\r\nbody"));
    assert_string_equal(t->ev[2].u.http.www_authenticate, "Negotiate");
    /* the fourth waits; at the end it goes out without a status */
    tf_end(t);
    assert_int_equal(t->n, 4);
    assert_string_equal(t->ev[3].u.http.uri, "/4");
    assert_int_equal(t->ev[3].u.http.status, 0);
    assert_int_equal(t->ev[3].u.http.latency_us, -1);
    tf_free(t);
}

static void test_deep_pipeline(void **state)
{
    (void)state;
    struct tf *t = tf_new(&lf_dissector_http);
    for (int i = 0; i < 40; i++)
        tf_str(t, LF_C2S, "GET /p HTTP/1.1\r\nHost: h\r\n\r\n");
    /* the queue is bounded: the oldest went out unanswered */
    assert_int_equal(t->n, 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(t->ev[i].u.http.status, 0);
    for (int i = 0; i < 32; i++)
        tf_str(t, LF_S2C, "HTTP/1.1 304 Not Modified\r\n\r\n");
    assert_int_equal(t->n, 40);
    assert_int_equal(t->ev[39].u.http.status, 304);
    tf_free(t);
}

static void test_continue(void **state)
{
    (void)state;
    struct tf *t = tf_new(&lf_dissector_http);
    t->fc.ts = 1000;
    tf_str(t, LF_C2S, "POST /WebTicket/WebTicketService.svc HTTP/1.1\r\nHost: dirweb.contoso.com\r\n"
                      "Expect: 100-continue\r\nContent-Length: 6\r\n\r\n");
    t->fc.ts = 1100;
    tf_str(t, LF_S2C, "HTTP/1.1 100 Continue\r\n\r\n");
    assert_int_equal(t->n, 0);
    t->fc.ts = 1200;
    tf_str(t, LF_C2S, "<soap>");
    t->fc.ts = 1500;
    tf_str(t, LF_S2C, "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 3\r\n\r\nabc");
    assert_int_equal(t->n, 1);
    const struct lf_ev_http *h = &t->ev[0].u.http;
    assert_int_equal(h->status, 200);
    assert_int_equal(h->latency_us, 500);
    assert_string_equal(h->content_type, "text/xml");
    assert_int_equal(h->resp_bytes, strlen("HTTP/1.1 100 Continue\r\n\r\n") +
                                        strlen("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
                                               "Content-Length: 3\r\n\r\nabc"));
    tf_free(t);
}

static void test_head_and_no_body(void **state)
{
    (void)state;
    struct tf *t = tf_new(&lf_dissector_http);
    tf_str(t, LF_C2S, "HEAD / HTTP/1.1\r\nHost: h\r\n\r\nGET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
    tf_str(t, LF_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"
                      "HTTP/1.1 204 No Content\r\n\r\n");
    assert_int_equal(t->n, 3);
    assert_int_equal(t->ev[0].u.http.status, 200);
    assert_int_equal(t->ev[1].u.http.status, 304);
    assert_int_equal(t->ev[2].u.http.status, 204);
    tf_free(t);
}

static void test_body_until_close(void **state)
{
    (void)state;
    struct tf *t = tf_new(&lf_dissector_http);
    tf_str(t, LF_C2S, "GET /lwa/ HTTP/1.0\r\nHost: meet.contoso.com\r\nConnection: close\r\n\r\n");
    tf_str(t, LF_S2C, "HTTP/1.0 302 Found\r\nConnection: close\r\nLocation: https://meet.contoso.com/x\r\n\r\n");
    tf_str(t, LF_S2C, "body bytes with\r\nlines that are not HTTP\r\nHTTP/1.1 200 OK\r\n\r\n");
    assert_int_equal(t->n, 0);
    tf_end(t);
    assert_int_equal(t->n, 1);
    const struct lf_ev_http *h = &t->ev[0].u.http;
    assert_int_equal(h->status, 302);
    assert_string_equal(h->location, "https://meet.contoso.com/x");
    assert_string_equal(h->host, "meet.contoso.com");
    assert_int_equal(h->resp_bytes, strlen("HTTP/1.0 302 Found\r\nConnection: close\r\nLocation: "
                                           "https://meet.contoso.com/x\r\n\r\n") +
                                        strlen("body bytes with\r\nlines that are not HTTP\r\n"
                                               "HTTP/1.1 200 OK\r\n\r\n"));
    tf_free(t);
}

static void test_response_without_request(void **state)
{
    (void)state;
    struct tf *t = tf_new(&lf_dissector_http);
    t->fc.ts = 77;
    assert_int_equal(tf_str(t, LF_S2C, "HTTP/1.1 401 Unauthorized\r\nX-Ms-diagnostics: 28020;reason=\"x\"\r\n"
                                       "Content-Length: 0\r\n\r\n"), LF_DIS_OK);
    assert_int_equal(t->n, 1);
    const struct lf_ev_http *h = &t->ev[0].u.http;
    assert_string_equal(h->method, "");
    assert_string_equal(h->uri, "");
    assert_int_equal(h->status, 401);
    assert_int_equal(h->latency_us, -1);
    assert_int_equal(t->ev[0].ts, 77);
    assert_string_equal(h->ms_diagnostics, "28020;reason=\"x\"");
    tf_free(t);
}

/* Picked up mid-stream: the first bytes of each direction are the tail of a
 * body; what follows is parsed. */
/* Request lines as scanners send them: a target that is not a path, spaces
 * inside the target (it ends at the first one), an empty target. */
static void test_odd_request_lines(void **state)
{
    (void)state;
    struct tf *t = tf_new(&lf_dissector_http);
    tf_str(t, LF_C2S, "GET . HTTP/1.0\r\n\r\n"
                      "GET /cgi-bin/netsonar;cat /etc/passwd|?data=Download HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                      "GET  /two-spaces HTTP/1.1\r\nHost: www.lan:8080\r\n\r\n");
    assert_false(t->left);
    tf_end(t);
    assert_int_equal(t->n, 3);
    assert_string_equal(t->ev[0].u.http.uri, ".");
    assert_string_equal(t->ev[1].u.http.uri, "/cgi-bin/netsonar;cat");
    assert_string_equal(t->ev[1].u.http.host, "127.0.0.1");
    assert_string_equal(t->ev[2].u.http.uri, "");
    assert_string_equal(t->ev[2].u.http.host, "www.lan:8080");
    /* no version at the end: not a request line */
    t = (tf_free(t), tf_new(&lf_dissector_http));
    tf_str(t, LF_C2S, get_req);
    assert_int_equal(tf_str(t, LF_C2S, "GET /x RTSP/1.0\r\n"), LF_DIS_ERROR);
    tf_free(t);
}

static void test_midstream(void **state)
{
    (void)state;
    struct tf *t = tf_new(&lf_dissector_http);
    tf_str(t, LF_C2S, "e of a form body\r\nmore\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n");
    tf_str(t, LF_S2C, "\x01\x02 binary tail\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(t->n, 1);
    assert_string_equal(t->ev[0].u.http.uri, "/next");
    assert_int_equal(t->ev[0].u.http.status, 200);
    tf_free(t);
}

static void test_garbage(void **state)
{
    (void)state;
    /* after a message, a start line that is not HTTP: leave */
    struct tf *t = tf_new(&lf_dissector_http);
    tf_str(t, LF_C2S, get_req);
    assert_int_equal(tf_str(t, LF_C2S, "\x16\x03\x01\x02\x01 junk\r\n"), LF_DIS_ERROR);
    assert_int_equal(t->eng->stats.http_errors, 1);
    assert_int_equal(t->n, 1);
    assert_int_equal(t->ev[0].u.http.status, 0);
    tf_free(t);

    /* a header line over 128 KiB */
    t = tf_new(&lf_dissector_http);
    tf_str(t, LF_C2S, "GET / HTTP/1.1\r\nX-Long: ");
    char *big = lf_xmalloc(140000);
    memset(big, 'a', 140000);
    assert_int_equal(tf_feed(t, LF_C2S, big, 130000), LF_DIS_INCOMPLETE);
    assert_int_equal(tf_feed(t, LF_C2S, big, 2000), LF_DIS_ERROR);
    assert_int_equal(t->eng->stats.http_errors, 1);
    assert_int_equal(t->n, 1);
    assert_string_equal(t->ev[0].u.http.uri, "/");
    tf_free(t);

    /* a header section over 256 KiB, in lines each short enough */
    t = tf_new(&lf_dissector_http);
    tf_str(t, LF_C2S, "GET / HTTP/1.1\r\n");
    enum lf_dis_status s = LF_DIS_OK;
    int lines = 0;
    char filler[1024]; /* one header line of exactly 1024 bytes */
    memset(filler, 'a', sizeof filler);
    memcpy(filler, "X-Filler: ", 10);
    memcpy(filler + sizeof filler - 2, "\r\n", 2);
    for (; lines < 300 && s != LF_DIS_ERROR; lines++)
        s = tf_feed(t, LF_C2S, filler, sizeof filler);
    assert_int_equal(s, LF_DIS_ERROR);
    assert_int_equal(lines, 256); /* the request line and 256 lines of 1024 bytes pass 256 KiB; 255 do not */
    tf_free(t);

    /* a flow that never shows HTTP: skipped up to 1 MiB, then left */
    t = tf_new(&lf_dissector_http);
    memset(big, 'z', 9000);
    s = LF_DIS_OK;
    int chunks = 0;
    for (; chunks < 200 && s != LF_DIS_ERROR; chunks++)
        s = tf_feed(t, LF_C2S, big, 9000);
    assert_int_equal(s, LF_DIS_ERROR);
    assert_int_equal(chunks, 117);
    assert_int_equal(t->eng->stats.http_errors, 1);
    assert_int_equal(t->n, 0);
    free(big);
    tf_free(t);
}

/* What a dissector has consumed of s[0..cut): whole lines of the header
 * section, and body bytes as they come (the body is the last 10 bytes). */
static size_t consumed_lines(const char *s, size_t cut)
{
    size_t body = strlen(s) - 10, n = 0;
    if (cut >= body)
        return cut;
    for (size_t i = 0; i < cut; i++)
        if (s[i] == '\n')
            n = i + 1;
    return n;
}

static void test_truncated(void **state)
{
    (void)state;
    /* the response stops inside its body: the status that was seen is kept */
    for (size_t cut = 0; cut < strlen(ok_resp); cut++) {
        struct tf *t = tf_new(&lf_dissector_http);
        tf_str(t, LF_C2S, get_req);
        tf_feed(t, LF_S2C, ok_resp, cut);
        tf_end(t);
        assert_int_equal(t->n, 1);
        assert_string_equal(t->ev[0].u.http.uri, "/abs/handler/file.lsabs?x=1");
        int status_seen = cut > strlen("HTTP/1.1 200 OK\r");
        assert_int_equal(t->ev[0].u.http.status, status_seen ? 200 : 0);
        if (status_seen)
            assert_int_equal(t->ev[0].u.http.resp_bytes, consumed_lines(ok_resp, cut));
        tf_free(t);
    }
}

static void test_gap(void **state)
{
    (void)state;
    struct tf *t = tf_new(&lf_dissector_http);
    tf_str(t, LF_C2S, get_req);
    tf_str(t, LF_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
    /* a hole inside the body: framing holds */
    assert_int_equal(lf_dissector_http.on_gap(t->st, &t->fc, LF_S2C, 80), LF_DIS_OK);
    tf_str(t, LF_S2C, "0123456789");
    assert_int_equal(t->n, 1);
    assert_int_equal(t->ev[0].u.http.resp_bytes, strlen("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n") + 100);
    /* a hole in the headers: resynchronise on the next request line */
    tf_str(t, LF_C2S, "GET /lost HTTP/1.1\r\nHo");
    assert_int_equal(lf_dissector_http.on_gap(t->st, &t->fc, LF_C2S, 500), LF_DIS_OK);
    t->len[LF_C2S] = 0; /* the engine drops what was buffered before a hole */
    t->want[LF_C2S] = 0;
    tf_str(t, LF_C2S, "rest of something\r\n\r\nGET /found HTTP/1.1\r\nHost: y\r\n\r\n");
    tf_str(t, LF_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(t->n, 3);
    assert_string_equal(t->ev[1].u.http.uri, "/lost");
    assert_string_equal(t->ev[2].u.http.uri, "/found");
    assert_string_equal(t->ev[2].u.http.host, "y");
    tf_free(t);
}

static void test_connect_and_h2(void **state)
{
    (void)state;
    struct tf *t = tf_new(&lf_dissector_http);
    tf_str(t, LF_C2S, "CONNECT dirweb.contoso.com:443 HTTP/1.1\r\nHost: dirweb.contoso.com:443\r\n"
                      "Proxy-Authorization: Basic YWxpY2U6cHc=\r\n\r\n");
    assert_int_equal(tf_str(t, LF_S2C, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03"), LF_DIS_ERROR);
    assert_int_equal(t->n, 1);
    assert_string_equal(t->ev[0].u.http.method, "CONNECT");
    assert_int_equal(t->eng->stats.http_errors, 0); /* a tunnel is not an error */
    assert_string_equal(t->ev[0].u.http.uri, "dirweb.contoso.com:443");
    assert_string_equal(t->ev[0].u.http.auth_scheme, "Basic");
    assert_string_equal(t->ev[0].u.http.user, "alice");
    assert_int_equal(t->ev[0].u.http.status, 200);
    tf_free(t);

    t = tf_new(&lf_dissector_http);
    assert_int_equal(tf_str(t, LF_C2S, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04"), LF_DIS_ERROR);
    assert_int_equal(t->n, 1);
    assert_int_equal(t->ev[0].u.http.h2, 1);
    assert_string_equal(t->ev[0].u.http.method, "");
    tf_free(t);

    t = tf_new(&lf_dissector_http);
    tf_str(t, LF_C2S, "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n\r\n");
    assert_int_equal(tf_str(t, LF_S2C, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"), LF_DIS_ERROR);
    assert_int_equal(t->n, 1);
    assert_int_equal(t->ev[0].u.http.status, 101);
    assert_int_equal(t->ev[0].u.http.h2, 1);
    tf_free(t);
}

/* Tokens made by curl 8 (--ntlm -u 'CONTOSO\alice:pw') against a local server. */
static const char ntlm1[] = "TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=";
static const char ntlm2[] = "TlRMTVNTUAACAAAADgAOADAAAAAFAomgASNFZ4mrze8AAAAAAAAAABYAFgA+AAAAQwBPAE4AVABP"
                            "AFMATwACAA4AQwBPAE4AVABPAFMATwAAAAAA";
static const char ntlm3[] =
    "TlRMTVNTUAADAAAAGAAYAEAAAABGAEYAWAAAAA4ADgCeAAAACgAKAKwAAAAWABYAtgAAAAAAAAAAAAAABQKJoPR36aPs21gH5V1D7b7fbVaS"
    "w5VQY4mumBRf+6PZ87YV1bWOhYLXAJEBAQAAAAAAAADFk8ckfN0BksOVUGOJrpgAAAAAAgAOAEMATwBOAFQATwBTAE8AAAAAAAAAAABDAE8A"
    "TgBUAE8AUwBPAGEAbABpAGMAZQBXAE8AUgBLAFMAVABBAFQASQBPAE4A";

static void test_ntlm_headers(void **state)
{
    (void)state;
    char buf[2048];
    struct tf *t = tf_new(&lf_dissector_http);
    snprintf(buf, sizeof buf, "POST /WebTicket/WebTicketService.svc HTTP/1.1\r\nHost: dirweb.contoso.com\r\n"
                              "Authorization: NTLM %s\r\nContent-Length: 0\r\n\r\n", ntlm1);
    tf_str(t, LF_C2S, buf);
    snprintf(buf, sizeof buf, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM %s\r\nContent-Length: 0\r\n\r\n",
             ntlm2);
    tf_str(t, LF_S2C, buf);
    snprintf(buf, sizeof buf, "POST /WebTicket/WebTicketService.svc HTTP/1.1\r\nHost: dirweb.contoso.com\r\n"
                              "Authorization: NTLM %s\r\nContent-Length: 0\r\n\r\n", ntlm3);
    tf_str(t, LF_C2S, buf);
    tf_str(t, LF_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(t->n, 2);
    const struct lf_ev_http *a = &t->ev[0].u.http, *b = &t->ev[1].u.http;
    assert_string_equal(a->auth_scheme, "NTLM");
    assert_int_equal(a->ntlm_type, 2); /* type 1 answered by a type-2 challenge */
    assert_int_equal(a->status, 401);
    assert_string_equal(a->user, "");
    assert_int_equal(b->ntlm_type, 3);
    assert_string_equal(b->ntlm_domain, "CONTOSO");
    assert_string_equal(b->ntlm_user, "alice");
    assert_string_equal(b->ntlm_workstation, "WORKSTATION");
    assert_string_equal(b->user, "CONTOSO\\alice");
    assert_int_equal(b->status, 200);
    tf_free(t);

    /* Negotiate, and Bearer */
    t = tf_new(&lf_dissector_http);
    snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nAuthorization: Negotiate %s\r\n\r\n"
                              "GET / HTTP/1.1\r\nAuthorization: Bearer cwt=AAEB\r\n\r\n", ntlm1);
    tf_str(t, LF_C2S, buf);
    tf_end(t);
    assert_int_equal(t->n, 2);
    assert_string_equal(t->ev[0].u.http.auth_scheme, "Negotiate");
    assert_int_equal(t->ev[0].u.http.ntlm_type, 1);
    assert_string_equal(t->ev[1].u.http.auth_scheme, "Bearer");
    assert_int_equal(t->ev[1].u.http.ntlm_type, 0);
    tf_free(t);
}

static void test_decrypted_context(void **state)
{
    (void)state;
    struct tf *t = tf_new(&lf_dissector_http);
    t->fc.decrypted = 1;
    t->fc.sni = "feweb.contoso.com";
    tf_str(t, LF_C2S, get_req);
    tf_str(t, LF_S2C, ok_resp);
    assert_int_equal(t->n, 1);
    assert_int_equal(t->ev[0].u.http.decrypted, 1);
    assert_string_equal(t->ev[0].u.http.sni, "feweb.contoso.com");
    tf_free(t);
}

/* Header values lose the spaces and tabs around them, and only those: a
 * value of blanks is empty, inner blanks stay, Content-Length parses. */
static void test_value_blanks(void **state)
{
    (void)state;
    static const char req[] = "GET / HTTP/1.1\r\n"
                              "Host: \t feweb.contoso.com \t \r\n"
                              "User-Agent:   \t  \r\n"
                              "Content-Type:text/plain; charset=utf-8\t\r\n"
                              "Content-Length: 3 \t\r\n"
                              "\r\nabc";
    static const char resp[] = "HTTP/1.1 302 Found\r\n"
                               "Location:  https://meet.contoso.com/x y \r\n"
                               "Content-Length:\t0\t\r\n"
                               "\r\n";
    struct tf *t = tf_new(&lf_dissector_http);
    assert_int_equal(tf_str(t, LF_C2S, req), LF_DIS_OK);
    assert_int_equal(tf_str(t, LF_S2C, resp), LF_DIS_OK);
    assert_int_equal(t->n, 1);
    const struct lf_ev_http *h = &t->ev[0].u.http;
    assert_string_equal(h->host, "feweb.contoso.com");
    assert_string_equal(h->user_agent, "");
    assert_string_equal(h->location, "https://meet.contoso.com/x y");
    assert_int_equal(h->status, 302);
    assert_int_equal(h->req_bytes, sizeof req - 1);
    assert_int_equal(h->resp_bytes, sizeof resp - 1);
    tf_end(t);
    tf_free(t);
}

static void test_probe(void **state)
{
    (void)state;
    struct {
        const char *s;
        enum lf_dir dir;
        enum lf_probe want;
    } cases[] = {
        {"GET / HTTP/1.1\r\n", LF_C2S, LF_PROBE_YES},
        {"GET http://x/ HTTP/1.1", LF_C2S, LF_PROBE_YES},
        {"PROPFIND /dav HTTP/1.1", LF_C2S, LF_PROBE_YES},
        {"RPC_IN_DATA /rpc/rpcproxy.dll HTTP/1.1", LF_C2S, LF_PROBE_YES},
        {"OPTIONS * HTTP/1.1", LF_C2S, LF_PROBE_YES},
        {"CONNECT a:443 HTTP/1.1", LF_C2S, LF_PROBE_YES},
        {"HTTP/1.1 200 OK", LF_S2C, LF_PROBE_YES},
        {"HTTP/1.1 200 OK", LF_C2S, LF_PROBE_MAYBE},
        {"PRI * HTTP/2.0\r\n", LF_C2S, LF_PROBE_YES},
        {"GE", LF_C2S, LF_PROBE_MAYBE},
        {"GET ", LF_C2S, LF_PROBE_MAYBE},
        {"GET h", LF_C2S, LF_PROBE_MAYBE},
        {"HTT", LF_S2C, LF_PROBE_MAYBE},
        {"GET sip:x SIP/2.0\r\n", LF_C2S, LF_PROBE_NO},
        {"GET sip:x SIP/2.0", LF_C2S, LF_PROBE_MAYBE},
        {"GETX / HTTP/1.1", LF_C2S, LF_PROBE_NO},
        {"get / HTTP/1.1", LF_C2S, LF_PROBE_NO},
        {"\x16\x03\x01\x00\xc8\x01", LF_C2S, LF_PROBE_NO},
        {"SSH-2.0-OpenSSH", LF_S2C, LF_PROBE_NO},
        {"INVITE sip:a@b SIP/2.0", LF_C2S, LF_PROBE_NO},
        {"GET . HTTP/1.0\r\nUser-Agent: x\r\n", LF_C2S, LF_PROBE_YES},
        {"GET . HTTP/1.0\n", LF_C2S, LF_PROBE_YES},
        {"GET . HTTP/1.0", LF_C2S, LF_PROBE_MAYBE},
        {"GET . RTSP/1.0\r\n", LF_C2S, LF_PROBE_NO},
        {"GET .\r\n", LF_C2S, LF_PROBE_NO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum lf_probe p = lf_dissector_http.probe((const uint8_t *)cases[i].s, strlen(cases[i].s), cases[i].dir);
        if (p != cases[i].want)
            fail_msg("probe \"%s\": got %d want %d", cases[i].s, p, cases[i].want);
    }
    assert_int_equal(lf_dissector_http.probe((const uint8_t *)"", 0, LF_C2S), LF_PROBE_NO);
}

/* got equals want as the sinks read events: each string field as a string, every other byte exactly. */
static void assert_http_event_equal(const struct lf_event *got, const struct lf_event *want)
{
    static struct lf_event g, w;
    lf_event_copy(&g, got);
    lf_event_copy(&w, want);
    for (int i = 0; i < lf_event_nfields(LF_EV_HTTP); i++) {
        const char **a = lf_event_field_at(&g, i), **b = lf_event_field_at(&w, i);
        if (strcmp(*a, *b) != 0)
            fail_msg("%s: \"%s\", want \"%s\"", lf_event_field_name(LF_EV_HTTP, i), *a, *b);
        *a = *b = NULL;
    }
    struct lf_text gt = g.text, wt = w.text;
    memset(&g.text, 0, sizeof g.text);
    memset(&w.text, 0, sizeof w.text);
    for (size_t i = 0; i < sizeof g; i++)
        if (((uint8_t *)&g)[i] != ((uint8_t *)&w)[i])
            fail_msg("byte %zu of the event: %u, want %u", i, ((uint8_t *)&g)[i], ((uint8_t *)&w)[i]);
    g.text = gt;
    w.text = wt;
    for (int i = 0; i < lf_event_nfields(LF_EV_HTTP); i++)
        *lf_event_field_at(&g, i) = *lf_event_field_at(&w, i) = "";
}

/* A request slot reused after one whose every text field was filled: the
 * second event carries none of the first's values, and equals one made from
 * lf_event_init with only its own fields set. */
static void test_slot_reuse(void **state)
{
    (void)state;
    char buf[4096];
    struct tf *t = tf_new(&lf_dissector_http);
    t->fc.sni = "dirweb.contoso.com";
    t->fc.ts = 1000000;
    snprintf(buf, sizeof buf,
             "POST /WebTicket/WebTicketService.svc/mex?long=%0200d HTTP/1.1\r\nHost: dirweb.contoso.com\r\n"
             "User-Agent: UCCAPI/15.0.4420.1017 OC/15.0.4420.1017 (Microsoft Lync)\r\n"
             "Authorization: NTLM %s\r\nContent-Length: 3\r\n\r\nabc", 7, ntlm3);
    tf_str(t, LF_C2S, buf);
    tf_str(t, LF_S2C, "HTTP/1.1 302 Found\r\nContent-Type: text/html; charset=utf-8\r\n"
                      "Location: https://feweb.contoso.com/WebTicket/WebTicketService.svc\r\n"
                      "X-MS-Server-Fqdn: dir01.contoso.local\r\nX-Ms-diagnostics: 28020;source=\"dir01\"\r\n"
                      "WWW-Authenticate: Negotiate\r\nContent-Length: 2\r\n\r\nok");
    assert_int_equal(t->n, 1);
    const struct lf_ev_http *a = &t->ev[0].u.http;
    assert_string_equal(a->user, "CONTOSO\\alice");
    assert_string_equal(a->location, "https://feweb.contoso.com/WebTicket/WebTicketService.svc");
    assert_string_equal(a->ms_diagnostics, "28020;source=\"dir01\"");
    assert_string_equal(a->www_authenticate, "Negotiate");
    assert_int_equal(a->status, 302);

    t->fc.sni = NULL;
    t->fc.ts = 3000000;
    const char *req = "GET /b HTTP/1.0\r\n\r\n", *resp = "HTTP/1.1 204 No Content\r\n\r\n";
    tf_str(t, LF_C2S, req);
    t->fc.ts = 3000500;
    tf_str(t, LF_S2C, resp);
    assert_int_equal(t->n, 2);

    static struct lf_event want;
    lf_event_init(&want, LF_EV_HTTP, 3000000);
    want.flow_id = t->fc.flow_id;
    want.client = t->fc.client;
    want.server = t->fc.server;
    struct lf_ev_http *h = &want.u.http;
    LF_EV_SET(&want, u.http.method, "GET");
    LF_EV_SET(&want, u.http.uri, "/b");
    LF_SET(h->source, "pcap");
    h->status = 204;
    h->latency_us = 500;
    h->req_bytes = strlen(req);
    h->resp_bytes = strlen(resp);
    assert_http_event_equal(&t->ev[1], &want);
    tf_free(t);
}

/* t goes on with a new flow: the state freed and made again, the buffers emptied. */
static void next_flow(struct tf *t)
{
    t->d->state_free(t->st);
    t->st = t->d->state_new(&t->fc);
    t->n = 0;
    t->left = 0;
    memset(t->len, 0, sizeof t->len);
    memset(t->want, 0, sizeof t->want);
}

/* A flow's state comes from the pool of ended flows' states when there is
 * one; it starts afresh, whatever the flow that left it was doing. */
static void test_state_reuse(void **state)
{
    (void)state;
    struct tf *t = tf_new(&lf_dissector_http);
    /* left mid-body, with a request waiting for its response, then gone bad */
    tf_str(t, LF_C2S, "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc");
    tf_str(t, LF_C2S, "GET /y HTTP/1.1\r\n");
    assert_int_equal(tf_str(t, LF_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"), LF_DIS_OK);
    void *old = t->st;
    next_flow(t);
    assert_ptr_equal(t->st, old); /* the state just freed is the pool's first */
    t->fc.ts = 7000000;
    tf_str(t, LF_C2S, get_req);
    t->fc.ts = 7000100;
    tf_str(t, LF_S2C, ok_resp);
    assert_int_equal(t->n, 1);
    check_get(&t->ev[0]);
    assert_int_equal(t->ev[0].u.http.latency_us, 100);
    assert_string_equal(t->ev[0].u.http.sni, "");
    tf_end(t);
    assert_int_equal(t->n, 1);

    /* after a flow whose ring grew by pipelining, the next one pairs its own */
    tf_str(t, LF_C2S, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n");
    next_flow(t);
    tf_str(t, LF_C2S, "GET /4 HTTP/1.1\r\n\r\nGET /5 HTTP/1.1\r\n\r\n");
    tf_str(t, LF_S2C, "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(t->n, 2);
    assert_string_equal(t->ev[0].u.http.uri, "/4");
    assert_int_equal(t->ev[0].u.http.status, 204);
    assert_string_equal(t->ev[1].u.http.uri, "/5");
    assert_int_equal(t->ev[1].u.http.status, 404);
    tf_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_pair),
        cmocka_unit_test(test_split_everywhere),
        cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_chunked_request),
        cmocka_unit_test(test_bad_chunk_size),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_deep_pipeline),
        cmocka_unit_test(test_continue),
        cmocka_unit_test(test_head_and_no_body),
        cmocka_unit_test(test_body_until_close),
        cmocka_unit_test(test_response_without_request),
        cmocka_unit_test(test_odd_request_lines),
        cmocka_unit_test(test_midstream),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_gap),
        cmocka_unit_test(test_connect_and_h2),
        cmocka_unit_test(test_ntlm_headers),
        cmocka_unit_test(test_decrypted_context),
        cmocka_unit_test(test_value_blanks),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_slot_reuse),
        cmocka_unit_test(test_state_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
