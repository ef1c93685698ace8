/* test_capfile.c: a capture file cut shorter while it is mapped and read ends with a message, not SIGBUS;
 * a SIGBUS elsewhere still takes its course; packets read in place are those written. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lyncflow/capture.h"

#define RECORDS 200
#define CAPLEN 1000u

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* A pcap file in this machine's byte order: RECORDS records of CAPLEN bytes,
 * record i filled with the byte i + 1. Returns its size. */
static size_t write_pcap(const char *path)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint8_t h[24] = {0};
    put32(h, 0xa1b2c3d4u);
    h[4] = 2;
    h[6] = 4;
    put32(h + 16, 65535);
    put32(h + 20, 1);
    fwrite(h, 1, sizeof h, f);
    uint8_t rec[16 + CAPLEN];
    for (uint32_t i = 0; i < RECORDS; i++) {
        put32(rec, 1700000000u + i);
        put32(rec + 4, i);
        put32(rec + 8, CAPLEN);
        put32(rec + 12, CAPLEN);
        memset(rec + 16, (int)(i + 1), CAPLEN);
        fwrite(rec, 1, sizeof rec, f);
    }
    assert_int_equal(fclose(f), 0);
    return 24 + (size_t)RECORDS * (16 + CAPLEN);
}

static char path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/test_capfile.%d.pcap", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

/* The test file written and opened. */
static struct lf_capture *open_written(void)
{
    write_pcap(path);
    char err[256] = "";
    struct lf_capture *c = lf_capture_open_file(path, NULL, err, sizeof err);
    assert_non_null(c);
    return c;
}

static void test_in_place(void **state)
{
    (void)state;
    struct lf_capture *c = open_written();
    char err[256] = "";
    lf_time ts;
    const uint8_t *d;
    size_t caplen, wirelen;
    for (uint32_t i = 0; i < RECORDS; i++) {
        assert_int_equal(lf_capture_next(c, &ts, &d, &caplen, &wirelen, err, sizeof err), LF_NEXT_PACKET);
        assert_int_equal(caplen, CAPLEN);
        assert_int_equal(wirelen, CAPLEN);
        assert_int_equal(ts, (lf_time)(1700000000u + i) * 1000000 + i);
        assert_int_equal(d[0], (uint8_t)(i + 1));
        assert_int_equal(d[CAPLEN - 1], (uint8_t)(i + 1));
    }
    assert_int_equal(lf_capture_next(c, &ts, &d, &caplen, &wirelen, err, sizeof err), LF_NEXT_END);
    lf_capture_close(c);
}

/* Cut to two pages while the window maps it all: the records past the cut
 * read as zeros where they are touched, and the next call stops with where. */
static void test_cut_shorter(void **state)
{
    (void)state;
    struct lf_capture *c = open_written();
    char err[256] = "";
    lf_time ts;
    const uint8_t *d;
    size_t caplen, wirelen;
    assert_int_equal(lf_capture_next(c, &ts, &d, &caplen, &wirelen, err, sizeof err), LF_NEXT_PACKET);
    long page = sysconf(_SC_PAGESIZE);
    assert_int_equal(truncate(path, 2 * page), 0);
    size_t packets = 1, zeros = 0;
    enum lf_next r;
    while ((r = lf_capture_next(c, &ts, &d, &caplen, &wirelen, err, sizeof err)) == LF_NEXT_PACKET) {
        packets++;
        for (size_t i = 0; i < caplen; i++) /* every byte touched, as the engine may */
            zeros += d[i] == 0;
    }
    assert_int_equal(r, LF_NEXT_ERROR);
    assert_non_null(strstr(err, "the file was cut shorter while it was read, at byte offset"));
    /* the record crossing the cut is the last handed out: its bytes past the cut read as zeros */
    size_t crossing = (size_t)(2 * page - 24) / (16 + CAPLEN) + 1;
    assert_int_equal(packets, crossing);
    assert_true(zeros > 0 && zeros < CAPLEN);
    char want[64];
    snprintf(want, sizeof want, "after %zu packets", packets);
    assert_non_null(strstr(err, want));
    lf_capture_close(c);
}

/* A SIGBUS outside the capture's windows goes on to the action there was before: here, the default. */
static void test_other_sigbus(void **state)
{
    (void)state;
    write_pcap(path);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGBUS, SIG_DFL); /* cmocka's own handler aside */
        char err[256] = "";
        const uint8_t *d;
        lf_time ts;
        size_t caplen, wirelen;
        struct lf_capture *c = lf_capture_open_file(path, NULL, err, sizeof err);
        if (!c || lf_capture_next(c, &ts, &d, &caplen, &wirelen, err, sizeof err) != LF_NEXT_PACKET)
            _exit(2);
        FILE *f = tmpfile();
        if (!f || ftruncate(fileno(f), 3 * sysconf(_SC_PAGESIZE)) != 0)
            _exit(2);
        volatile const uint8_t *m = mmap(NULL, (size_t)(3 * sysconf(_SC_PAGESIZE)), PROT_READ, MAP_SHARED,
                                         fileno(f), 0);
        if (m == MAP_FAILED || ftruncate(fileno(f), 0) != 0)
            _exit(2);
        _exit(m[2 * sysconf(_SC_PAGESIZE)] == 0 ? 3 : 4);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGBUS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_shorter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_sigbus, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
